"""Template filters of the cutouts app."""

"""Reads of the cutouts app, one module per area; callers import the module they need."""

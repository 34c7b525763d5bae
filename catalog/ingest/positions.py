"""The one map between image position codes (MAIN, PT01..PT08, SWCH) and image numbers.

Photographers, naming patterns (``{n}``) and Amazon all count the same way: 1 is MAIN, 2 is
PT01 ... 9 is PT08. The swatch (SWCH) has no photographer's number; it sorts after them, as
10, where a number is needed (export naming templates).

Decision: it lives here, in the pure ingest package at the bottom of the layers, because
every user may import it: ``catalog.ingest.naming`` and ``catalog.models`` (same app), and
the pure ``cutouts.variants`` (cutouts may import catalog, pure may import pure; the import
contracts allow exactly ``cutouts.variants -> catalog.ingest``). ``catalog.models.Position``
lists the same codes as model choices; a test keeps the two equal.
"""

from __future__ import annotations

#: Every position code, in image-number order.
POSITIONS = ("MAIN", "PT01", "PT02", "PT03", "PT04", "PT05", "PT06", "PT07", "PT08", "SWCH")
#: The codes a photographer's number (and Amazon's image slots) reach: 1..9.
NUMBERED = POSITIONS[:9]


def position_for_number(n: int) -> str | None:
    """1 -> ``MAIN``, 2 -> ``PT01`` ... 9 -> ``PT08``; None for any other number."""
    if isinstance(n, int) and 1 <= n <= len(NUMBERED):
        return NUMBERED[n - 1]
    return None


def number_for_position(code: str) -> int | None:
    """``MAIN`` -> 1 ... ``PT08`` -> 9, ``SWCH`` -> 10; None for an unknown code."""
    try:
        return POSITIONS.index(code) + 1
    except ValueError:
        return None

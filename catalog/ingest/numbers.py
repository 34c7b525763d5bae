"""Whole numbers read from untrusted text (query strings, form fields, manifest cells, file
names): ASCII digits within a bound, or none."""

from __future__ import annotations

#: The largest integer a database column holds (63 bits): a lookup by a larger one is a 500.
MAX_INT64 = 2**63 - 1


def digits_from(text: str | None, *, most: int = MAX_INT64) -> int | None:
    """A whole number 0..``most`` from ``text`` (ASCII digits only: ``"²".isdigit()`` is
    true and ``int("²")`` raises, a 500), or None for anything else."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= most else None

"""Row ids read from untrusted text (query strings, form fields): one that a database can
hold, or none."""

from __future__ import annotations

from collections.abc import Iterable

#: Databases refuse integers past 63 bits: a lookup by a larger one is a 500, not a miss.
MAX_ID = 2**63 - 1


def id_from(text: str | None) -> int | None:
    """A positive id from ``text`` (ASCII digits only: ``"²".isdigit()`` is true and
    ``int("²")`` raises), or None for anything else, a number too large included."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def ids_from(values: Iterable[str]) -> list[int]:
    """The ids among ``values``, in order; the rest are dropped."""
    return [value for value in map(id_from, values) if value is not None]

"""Row ids read from untrusted text (query strings, form fields): one that a database can
hold, or none (whole numbers in general: ``catalog.ingest.numbers``)."""

from __future__ import annotations

from collections.abc import Iterable

from .ingest.numbers import MAX_INT64, digits_from

#: Databases refuse integers past 63 bits: a lookup by a larger one is a 500, not a miss.
MAX_ID = MAX_INT64


def id_from(text: str | None) -> int | None:
    """A positive id from ``text``, or None for anything else, a number too large for a
    database included."""
    value = digits_from(text)
    return value if value else None


def ids_from(values: Iterable[str]) -> list[int]:
    """The ids among ``values``, in order; the rest are dropped."""
    return [value for value in map(id_from, values) if value is not None]

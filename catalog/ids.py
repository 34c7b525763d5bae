"""Row ids and page numbers read from untrusted text (query strings, form fields): one that
a database can hold, or none (whole numbers in general: ``catalog.ingest.numbers``)."""

from __future__ import annotations

from collections.abc import Iterable

from .ingest.numbers import MAX_INT64, digits_from

#: Databases refuse integers past 63 bits: a lookup by a larger one is a 500, not a miss.
MAX_ID = MAX_INT64
#: far past any list; a page's offset (page x its size) still fits a 64-bit integer
MAX_PAGE = 1_000_000


def id_from(text: str | None) -> int | None:
    """A positive id from ``text``, or None for anything else, a number too large for a
    database included."""
    value = digits_from(text)
    return value if value else None


def ids_from(values: Iterable[str]) -> list[int]:
    """The ids among ``values``, in order; the rest are dropped."""
    return [value for value in map(id_from, values) if value is not None]


def page_from(text: str | None) -> int:
    """The list page a ``?page=`` asks for: anything but a positive number is the first
    page, and any number past ``MAX_PAGE``, however long, is that page (its offset must fit
    the database; a list shorter than that answers its own last or an empty page)."""
    text = (text or "").strip()
    if text.isascii() and text.isdigit() and len(text) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return min(id_from(text) or 1, MAX_PAGE)

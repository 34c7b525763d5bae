"""Keyset pages of rows, newest first: the one paging rule of every list (API lists, the
webhook delivery log)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


@dataclass
class Page(Generic[M]):
    """Newest first. ``older``: pass as ``before`` for the next page; ``newer``: pass as
    ``after`` for the previous one (None: there is none)."""

    items: list[M]
    older: int | None
    newer: int | None


def newest_first(rows: QuerySet[M], *, before: int | None = None, after: int | None = None,
                 size: int = 50) -> Page[M]:
    """One page of ``rows``, newest first, keyset on the id (ids grow with creation time): a
    deep page costs what page 1 costs. One query."""
    if after:
        items = list(rows.filter(pk__gt=after).order_by("pk")[: size + 1])
        newer_exists = len(items) > size
        items = items[:size][::-1]
        # Coming back from an older page: the row at ``after`` is older than this page.
        return Page(items=items, older=items[-1].pk if items else None,
                    newer=items[0].pk if newer_exists and items else None)
    if before:
        rows = rows.filter(pk__lt=before)
    items = list(rows.order_by("-pk")[: size + 1])
    older_exists = len(items) > size
    items = items[:size]
    return Page(items=items, older=items[-1].pk if older_exists and items else None,
                newer=items[0].pk if before and items else None)

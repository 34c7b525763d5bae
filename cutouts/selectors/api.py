"""Reads the REST API needs beyond the UI's: a keyset-paginated cutout list with filters."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from ..models import CUTOUT_LIVE, Cutout
from .review import cutouts_with_preflag


@dataclass
class CutoutPage:
    items: list[Cutout]
    next_before: int | None


def cutout_page(*, status: str = "", review_status: str = "", preflag: str = "",
                min_risk: float | None = None, product_sku: str = "", batch_id: int | None = None,
                image_id: int | None = None, before: int | None = None, size: int = 50
                ) -> CutoutPage:
    """Cutouts of live images, newest first, keyset on the id (deep pages cost what page 1
    costs). One query, whatever the page size."""
    rows: QuerySet[Cutout] = Cutout.objects.filter(CUTOUT_LIVE).select_related(
        "asset", "asset__product")
    if status:
        rows = rows.filter(status=status)
    if review_status:
        rows = rows.filter(review_status=review_status)
    if preflag:
        rows = cutouts_with_preflag(rows, preflag=preflag)
    if min_risk is not None:
        rows = rows.filter(risk__gte=min_risk)
    if product_sku:
        rows = rows.filter(asset__product__sku=product_sku)
    if batch_id:
        rows = rows.filter(batch_id=batch_id)
    if image_id:
        rows = rows.filter(asset_id=image_id)
    if before:
        rows = rows.filter(pk__lt=before)
    items = list(rows.order_by("-pk")[: size + 1])
    more = len(items) > size
    items = items[:size]
    return CutoutPage(items=items, next_before=items[-1].pk if more and items else None)


def cutout_get(*, pk: int) -> Cutout:
    """A cutout of a live image; raises Cutout.DoesNotExist."""
    return Cutout.objects.select_related("asset", "asset__product").get(CUTOUT_LIVE, pk=pk)

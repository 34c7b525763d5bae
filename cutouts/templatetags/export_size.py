"""The review's warning that export will leave a product out for its size: the enlargement
limit (``compliance.export_size``) told on the card and the grid before approval, not after
the export dropped it."""

from __future__ import annotations

from typing import Any

from django import template

from ..variants.compliance import MAX_ENLARGEMENT, ExportSize, export_size

register = template.Library()

#: the pre-flag the review raises from ``signals["product_px"]`` (services/review.py)
FLAG = "too_small_for_export"


def _product_box(cutout: Any) -> tuple[int, int] | None:
    """The product's box in photo px: the signal, or for a version computed before it its
    stored box (every pixel with alpha, full size: never smaller than the product, so it
    never warns where export would not refuse)."""
    px = (cutout.signals or {}).get("product_px")
    if isinstance(px, list | tuple) and len(px) == 2:
        return int(px[0]), int(px[1])
    box = cutout.bbox
    if isinstance(box, list | tuple) and len(box) == 4:
        return int(box[2]) - int(box[0]), int(box[3]) - int(box[1])
    return None


@register.simple_tag
def export_shortfall(cutout: Any) -> ExportSize | None:
    """``{% export_shortfall c as short %}``: what export will refuse of this finished
    version for its size, or None. A version with the signal warns while it carries the
    pre-flag (a reviewer who dismissed it has decided); an older one warns from its box."""
    if cutout.status != "done" or (cutout.signals or {}).get("empty"):
        return None
    if "product_px" in (cutout.signals or {}) and FLAG not in (cutout.preflags or []):
        return None
    box = _product_box(cutout)
    verdict = export_size(*box) if box else None
    return verdict if verdict is not None and verdict.too_small else None


@register.simple_tag
def enlargement_limit() -> str:
    """The limit as the compliance message prints it (``8``)."""
    return f"{MAX_ENLARGEMENT:g}"

"""The product page's and the review card's word on an image's latest export: which presets
it refused and why (``export_selectors.export_refusals_latest``), beside a status that may
still read Exported from an earlier export."""

from __future__ import annotations

from django import template

from ..selectors.export import ExportRefusal, export_refusals_latest

register = template.Library()


@register.simple_tag
def export_refusal(asset_id: int) -> ExportRefusal | None:
    """``{% export_refusal asset.pk as refusal %}``: what the image's latest export refused,
    or None when it refused nothing (or there was none)."""
    return export_refusals_latest(asset_ids=[asset_id]).get(int(asset_id))

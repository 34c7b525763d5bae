"""The product page's and the review card's word on an image's latest export: which presets
it refused and why (``export_selectors.export_refusals_latest``), beside a status that may
still read Exported from an earlier export."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

from ..selectors.export import ExportRefusal, export_refusals_latest

register = template.Library()


@register.simple_tag
def export_refusals(assets: Iterable[Any]) -> dict[int, ExportRefusal]:
    """``{% export_refusals assets as refusals %}``: the notes of a page's images, read once
    for all of them (then ``refusals|refusal_for:a.pk`` per image)."""
    return export_refusals_latest(asset_ids=[a.pk for a in assets])


@register.simple_tag
def export_refusal(asset_id: int) -> ExportRefusal | None:
    """``{% export_refusal asset.pk as refusal %}``: what one image's latest export refused,
    or None when it refused nothing (or there was none)."""
    return export_refusals_latest(asset_ids=[asset_id]).get(int(asset_id))


@register.filter
def refusal_for(refusals: dict[int, ExportRefusal], asset_id: int) -> ExportRefusal | None:
    return refusals.get(int(asset_id))

"""The review's warnings that export will leave a product out: for its size (the enlargement
limit, ``compliance.export_size``) or for a faint see-through mark a white-background preset
refuses (or ships with a warning, a grey cloud on white all the same), told on the card before
approval, not after the export dropped it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template

from ..services.review import FAINT_FLAG, FAINT_LOOK_FLAG
from ..services.review import TOO_SMALL_FLAG as FLAG
from ..variants.compliance import (
    MAX_ENLARGEMENT,
    ExportSize,
    export_size,
    faint_mark_shows,
    faint_marks_refusers,
    faint_marks_refusing,
    stored_size,
)

register = template.Library()


def _product_box(cutout: Any) -> tuple[int, int] | None:
    """The product's box in photo px: the signal, or for a version computed before it its
    stored box (every pixel with alpha, full size: never smaller than the product, so it
    never warns where export would not refuse)."""
    px = stored_size((cutout.signals or {}).get("product_px"))
    if px is not None:
        return px
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
    fill = stored_size((cutout.signals or {}).get("product_fill_px"))
    verdict = export_size(*box, fill=fill) if box else None
    return verdict if verdict is not None and verdict.too_small else None


@register.simple_tag
def export_needs(short: ExportSize) -> str:
    """``{% export_needs short %}``: which marketplace needs what long side, the least need
    first, presets of one need together: "Etsy needs at least 264 px", "Amazon main image
    needs at least 212 px, Walmart 233 px, Etsy 264 px" (QA qa41a, 2026-12-06: "marketplace
    images need at least 263 px" read as every marketplace's need where only Etsy's was;
    Walmart's 233 px passed a 240 px product)."""
    by_need: dict[int, list[str]] = {}
    for label, need in sorted(zip(short.refused_labels, short.needs, strict=True),
                              key=lambda pair: pair[1]):
        by_need.setdefault(need, []).append(label)
    parts: list[str] = []
    for need, labels in by_need.items():
        names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        verb = ("needs" if len(labels) == 1 else "need") + " at least " if not parts else ""
        parts.append(f"{names} {verb}{need} px")
    return ", ".join(parts)


@register.simple_tag
def enlargement_limit() -> str:
    """The limit as the compliance message prints it (``8``)."""
    return f"{MAX_ENLARGEMENT:g}"


@register.simple_tag
def faint_marks_refused_by() -> str:
    """The presets a *Faint marks* pre-flag warns of, for a grid tile (it reads no signals):
    "Amazon main image, Walmart"."""
    return ", ".join(faint_marks_refusers())


@dataclass(frozen=True)
class FaintMarksNote:
    """What the card says of a faint mark (``signals["faint_marks"]``): one a white-background
    preset will refuse (``refused_labels``), or one shipped with a warning (none)."""

    percent: str  # the largest mark's share of the product's solid area, "11.5"
    count: int  # the marks compliance counts
    near: tuple[int, int] | None  # a pixel of the largest mark, in cutout px
    refused_labels: list[str]
    # ``near`` in % of the cutout's width and height ("48.05"): where the card's ring sits
    # over the picture, whatever size the picture is drawn at
    ring: tuple[str, str] | None = None


@register.simple_tag
def faint_marks_note(cutout: Any) -> FaintMarksNote | None:
    """``{% faint_marks_note c as faint %}``: the faint mark a white-background preset will
    refuse in this finished version, while it carries the pre-flag (a reviewer who dismissed
    it has decided), or None."""
    flags = cutout.preflags or []
    if cutout.status != "done" or not (FAINT_FLAG in flags or FAINT_LOOK_FLAG in flags):
        return None
    signal = (cutout.signals or {}).get("faint_marks")
    if signal is None:  # not measured: both checks below say no mark
        return None
    refused = faint_marks_refusing(signal)
    if not refused and not (FAINT_LOOK_FLAG in flags and faint_mark_shows(signal)):
        return None
    # the mark's deepest pixel; a version measured before 2026-12-05 has its box's corner only
    at, box = signal.get("at"), signal.get("box")
    near = ((int(at[0]), int(at[1])) if isinstance(at, list | tuple) and len(at) == 2
            else (int(box[0]), int(box[1])) if isinstance(box, list | tuple) and len(box) == 4
            else None)
    return FaintMarksNote(f"{float(signal['share']) * 100:.1f}",
                          max(1, int(signal.get("count") or 1)), near, refused,
                          _ring(near, cutout.width, cutout.height))


def _ring(near: tuple[int, int] | None, width: int | None,
          height: int | None) -> tuple[str, str] | None:
    """``near`` as % of the picture (the pixel's centre), or None without a size to scale by."""
    if near is None or not width or not height:
        return None
    left, top = (min(100.0, max(0.0, (v + 0.5) * 100 / side))
                 for v, side in ((near[0], width), (near[1], height)))
    return f"{left:.2f}", f"{top:.2f}"

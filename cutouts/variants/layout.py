"""Layout: the significant region of a cutout and the layout transform the operations build.

The transform (:func:`plan_layout`) runs every operation's ``layout`` step phase by phase
(:data:`LAYOUT_PHASES`) on a :class:`LayoutContext`; the phases' defaults (the whole frame, no
margins, a scale-free canvas, fit inside, centred) apply where no operation contributed, so a
new operation changes the layout from its own class.

What a person sees of a cutout: the significant-alpha region that trim, fill and centring use.

Faint alpha (a veil, haze, model noise) and small detached specks far from the product are
invisible on a white page but, counted as "product", they move the trim box, break ``fill-N``
and shift the centre. Layout therefore uses *significant* alpha only:

* cores: connected regions of solid alpha (>= ``CORE_ALPHA``), specks dropped; the largest
  core, cores nearly as large (a second real product) and smaller cores close to them form the
  product;
* the product's visible extent is the alpha >= ``SIGNIFICANT_ALPHA`` connected to those cores,
  no further than a short reach from them (so a faint veil touching the product cannot grow it).

Everything outside that region (plus a small pad that keeps the soft anti-aliased rim) is
returned as alpha 0, so it is neither laid out nor pasted. The analysis runs on a reduced copy
(long side <= ``ANALYSIS_SIDE``), then the box is measured exactly at full resolution.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import cv2
import numpy as np
from PIL import Image

from cutouts.imaging.parts import label_parts

from .errors import RenderError

Box = tuple[int, int, int, int]


class _Spec(Protocol):
    """What the layout needs of a spec (this module sits below ``spec.py``)."""

    @property
    def operations(self) -> Sequence[Any]: ...

    def fixed_canvas(self) -> tuple[int, int] | None: ...

    def canonical(self) -> str: ...

#: alpha at or above which a pixel is visibly part of the product on any background
SIGNIFICANT_ALPHA = 32
#: alpha of a product's solid interior; regions without any such pixel are not a product
CORE_ALPHA = 128
#: a core at least this share of the largest one is a product on its own (two products)
PRODUCT_SHARE = 0.25
#: smaller cores count only within this share of the product's long side from it
NEAR_SHARE = 0.12
#: a core below this share of the largest one (and below MIN_CORE_PX) is a speck
SPECK_SHARE = 0.002
MIN_CORE_PX = 4
#: how far (share of the product's long side) visible alpha may extend from the cores
REACH_SHARE = 0.06
ANALYSIS_SIDE = 512


@dataclass(frozen=True)
class Significant:
    #: (x0, y0, x1, y1), exclusive, of the product's significant alpha in source pixels
    box: tuple[int, int, int, int]
    #: the alpha to render over ``window``: sub-threshold and out-of-region alpha set to 0
    #: (outside the window it is 0 everywhere, so only the window is kept)
    patch: np.ndarray
    #: (x0, y0, x1, y1) of ``patch`` in the source; it holds ``box``
    window: tuple[int, int, int, int]
    #: the source's (width, height)
    size: tuple[int, int]
    #: alpha mass (in fully opaque pixel equivalents) removed outside the product region
    removed_mass: float
    #: solid detached parts (not specks) that were left out as far from the product
    dropped_parts: int

    @property
    def alpha(self) -> np.ndarray:
        """The alpha to render over the whole frame (made on each call: renders crop)."""
        out = np.zeros((self.size[1], self.size[0]), np.uint8)
        x0, y0, x1, y1 = self.window
        out[y0:y1, x0:x1] = self.patch
        return out

    def crop(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """The alpha to render over ``box``, which lies inside ``window`` (a view)."""
        x0, y0 = self.window[:2]
        assert _inside(box, self.window)
        return self.patch[box[1] - y0:box[3] - y0, box[0] - x0:box[2] - x0]


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return (outer[0] <= inner[0] <= inner[2] <= outer[2]
            and outer[1] <= inner[1] <= inner[3] <= outer[3])


def alpha_array(rgba: Image.Image) -> np.ndarray:
    """The alpha of an RGBA image as a read-only (H, W) uint8 array, packed straight from the
    image (``np.asarray(rgba.getchannel("A"))`` makes an image of it and copies that)."""
    if rgba.mode != "RGBA":
        return np.asarray(rgba.getchannel("A"))
    return np.frombuffer(rgba.tobytes("raw", "A"), np.uint8).reshape(rgba.height, rgba.width)


def _gap(a: Box, b: Box) -> float:
    """Distance between two (x0, y0, x1, y1) boxes (0 when they overlap)."""
    dx = max(0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0, max(a[1], b[1]) - min(a[3], b[3]))
    return math.hypot(dx, dy)


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def significant_region(alpha: np.ndarray, threshold: int = 1) -> Significant | None:
    """The product's significant region of an ``alpha`` (H x W uint8) array, or None when no
    pixel reaches ``threshold``. ``threshold`` (the trim threshold) still zeroes faint alpha
    inside the region."""
    h, w = alpha.shape
    threshold = max(1, int(threshold))
    factor = max(1, math.ceil(max(h, w) / ANALYSIS_SIDE))
    if factor > 1:
        small = cv2.resize(alpha, (math.ceil(w / factor), math.ceil(h / factor)),
                           interpolation=cv2.INTER_AREA)
    else:
        small = alpha
    visible_level = max(SIGNIFICANT_ALPHA, threshold)
    core_level = max(CORE_ALPHA, threshold)
    # nothing solid (glass, a very soft subject): fall back to the visible alpha, then to any
    for level in (core_level, visible_level, threshold):
        mask = (small >= level).view(np.uint8)
        bx, by, bw, bh = cv2.boundingRect(mask)
        if bw:
            break
    else:
        return None
    # every core lies in the cores' bounding box: they are labelled there
    n, labels, stats, _ = label_parts(mask[by:by + bh, bx:bx + bw])
    if stats is None:  # one core (the usual single product): the product
        kept, dropped, long_side = [1], 0, max(bw, bh)
    else:
        # boxes in the window's pixels: only their gaps and sizes are read
        areas = stats[1:, cv2.CC_STAT_AREA]
        largest = int(areas.max())
        boxes = {i: (int(stats[i, 0]), int(stats[i, 1]), int(stats[i, 0] + stats[i, 2]),
                     int(stats[i, 1] + stats[i, 3])) for i in range(1, n)}
        kept = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= PRODUCT_SHARE * largest]
        group = boxes[kept[0]]
        for i in kept[1:]:
            group = _union(group, boxes[i])
        speck = max(MIN_CORE_PX / factor ** 2, SPECK_SHARE * largest)
        candidates = [i for i in range(1, n)
                      if i not in kept and stats[i, cv2.CC_STAT_AREA] >= speck]
        changed = True
        while changed:  # a part near the product can bring another one into reach
            changed = False
            reach = NEAR_SHARE * max(group[2] - group[0], group[3] - group[1])
            for i in list(candidates):
                if _gap(boxes[i], group) <= reach:
                    kept.append(i)
                    candidates.remove(i)
                    group = _union(group, boxes[i])
                    changed = True
        dropped = len(candidates)
        long_side = max(group[2] - group[0], group[3] - group[1])

    cores = np.zeros(small.shape, bool)
    cores[by:by + bh, bx:bx + bw] = _label_mask(labels, n, kept)
    r = max(1, round(REACH_SHARE * long_side))
    # within r of a core: a distance transform costs the same for any r (a disc dilation
    # of a large r does not)
    dist = cv2.distanceTransform((~cores).astype(np.uint8), cv2.DIST_L2, 3)
    near = dist <= r
    # the same labels as with stats (one algorithm), without the stats nobody reads
    vn, vlabels = cv2.connectedComponents((small >= visible_level).astype(np.uint8),
                                          connectivity=8, ltype=cv2.CV_32S)
    touching = np.flatnonzero(np.bincount(vlabels[cores], minlength=vn)[1:]) + 1
    region_small = (_label_mask(vlabels, vn, touching) & near) | cores
    # one analysis pixel of pad covers the reduction's quantisation and keeps the soft rim
    padded = cv2.dilate(region_small.astype(np.uint8), np.ones((3, 3), np.uint8))
    rb = _bbox(padded.astype(bool))
    if rb is None:  # pragma: no cover - the cores are in the region
        return None
    # full resolution only inside the region's window: the rest of the frame becomes 0
    x0, y0 = rb[0] * factor, rb[1] * factor
    x1, y1 = min(w, rb[2] * factor), min(h, rb[3] * factor)
    window = padded[rb[1]:rb[3], rb[0]:rb[2]]
    if factor > 1:
        window = np.repeat(np.repeat(window, factor, 0), factor, 1)
    window = window[:y1 - y0, :x1 - x0]
    patch = alpha[y0:y1, x0:x1]
    # full resolution costs most here: OpenCV's single passes (the window is 0/1, so a
    # multiply masks; below-threshold alpha goes to 0; sums are exact in float64); the
    # rest of the frame is 0 and is never made
    kept_patch = cv2.multiply(patch, window)
    if threshold > 1:
        cv2.threshold(kept_patch, threshold - 1, 0, cv2.THRESH_TOZERO, dst=kept_patch)
    box = mask_box(kept_patch, visible_level) or mask_box(kept_patch, 1)
    if box is None:
        return None
    box = (box[0] + x0, box[1] + y0, box[2] + x0, box[3] + y0)
    removed = (cv2.sumElems(alpha)[0] - cv2.sumElems(kept_patch)[0]) / 255.0
    return Significant(box=box, patch=kept_patch, window=(x0, y0, x1, y1), size=(w, h),
                       removed_mass=round(removed, 1), dropped_parts=dropped)


def _label_mask(labels: np.ndarray, n: int, ids: list[int] | np.ndarray) -> np.ndarray:
    """``np.isin(labels, ids)`` for labels 0..n-1, by table lookup (isin sorts or hashes)."""
    if len(ids) == n - 1:  # every label (the usual single product): one comparison
        return np.asarray(labels != 0)
    table = np.zeros(n, dtype=bool)
    table[np.asarray(ids, dtype=np.intp)] = True
    return np.asarray(table[labels])


def mask_box(alpha: np.ndarray, level: int) -> tuple[int, int, int, int] | None:
    """:func:`_bbox` of ``alpha >= level`` (uint8), in one OpenCV pass or two."""
    mask = alpha if level <= 1 else cv2.threshold(alpha, level - 1, 255, cv2.THRESH_BINARY)[1]
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return None
    return x, y, x + w, y + h


# --------------------------------------------------------------------------- shadow clearance

#: a shadow stops this far from the canvas's frame (px, or this share of its short side if
#: larger, at most SHADOW_CLEAR_MAX of it): marketplaces want the frame pure background, and a
#: shadow reaching it reads as the photo's floor, not the product's shadow. The renderer fades
#: it out over as much again before that (no straight cut); compliance flags a shadow inside it.
SHADOW_CLEAR_PX = 24
SHADOW_CLEAR_FRACTION = 0.03
SHADOW_CLEAR_MAX = 0.1


def shadow_clearance(canvas: tuple[int, int]) -> int:
    """The band along the canvas's frame that no shadow may enter (px): the one definition,
    for the renderer's fade and for the compliance check."""
    m = min(canvas)
    return round(min(max(SHADOW_CLEAR_PX, m * SHADOW_CLEAR_FRACTION), m * SHADOW_CLEAR_MAX))


# --------------------------------------------------------------------------- layout transform

#: the phases of the layout transform, in order, and what the operations do in each:
#: ``box`` choose the layout box and margins (trim, fill, margin); ``size`` the scale of a
#: canvas no operation fixed (fit, long, short); ``canvas`` reshape that canvas (square);
#: ``scale`` the product's scale on the canvas (fill, cover); ``place`` its position (align)
LAYOUT_PHASES = ("box", "size", "canvas", "scale", "place")
MAX_OUTPUT_PIXELS = 100_000_000


@dataclass
class LayoutContext:
    """What the operations' layout steps read and fill in (source pixels unless noted)."""

    source: tuple[int, int]  # source image size
    product: Box  # the product's significant box
    measured: Box  # the box a fill scale is measured on (the product, or what survives)
    boost: float = 1.0  # enlarges a fill scale on a second pass (see render_variant)
    #: the layout box: the whole frame unless an operation picks one
    box: Box = field(init=False)
    margins: tuple[int, int, int, int] | None = None  # output px: left, top, right, bottom
    #: content size to size a free canvas on, as (ax, ay, bx, by): ax * s + bx wide; None:
    #: the layout box plus the margins
    extent: tuple[float, float, float, float] | None = None
    free_scale: float = 1.0  # the scale that sizes a free canvas
    canvas: tuple[int, int] = (0, 0)  # output size
    scale: float = 1.0  # source to output; the default fits the box inside the margins
    origin_y: float = 0.0  # output y of the layout box's top edge; the default centres it
    target_fill: float | None = None  # the product fill (%) the render must reach

    def __post_init__(self) -> None:
        self.box = (0, 0, *self.source)

    @property
    def box_size(self) -> tuple[int, int]:
        return self.box[2] - self.box[0], self.box[3] - self.box[1]

    @property
    def margin_values(self) -> tuple[int, int, int, int]:
        return self.margins or (0, 0, 0, 0)

    @property
    def content_extent(self) -> tuple[float, float, float, float]:
        if self.extent is not None:
            return self.extent
        (bw, bh), (ml, mt, mr, mb) = self.box_size, self.margin_values
        return float(bw), float(bh), float(ml + mr), float(mt + mb)


@dataclass(frozen=True)
class Layout:
    """The result: output size, scale and where the layout box lands."""

    canvas: tuple[int, int]
    scale: float
    origin: tuple[float, float]  # output position of the layout box's top-left corner
    box: Box  # layout box in source pixels
    target_fill: float | None = None
    #: output px an operation keeps clear around the box (left, top, right, bottom; margin-N),
    #: None when none does: the render pastes nothing of the product there
    margins: tuple[int, int, int, int] | None = None


def plan_layout(spec: _Spec, source: tuple[int, int], product: Box, *,
                boost: float = 1.0, measured: Box | None = None) -> Layout:
    """Run the operations' layout steps over :data:`LAYOUT_PHASES`. Raises RenderError when
    the margins leave no room or the output would be too large."""
    ops = spec.operations
    ctx = LayoutContext(source, product, measured or product, boost)

    def run(phase: str) -> None:
        for op in ops:
            op.layout(ctx, phase)

    run("box")
    ml, mt, mr, mb = ctx.margin_values
    bw, bh = ctx.box_size
    fixed = spec.fixed_canvas()
    if fixed is not None:
        ctx.canvas = fixed
    else:
        run("size")
        if ctx.free_scale <= 0:
            raise RenderError(f"margins leave no room for the product in {spec.canonical()!r}")
        ax, ay, bx, by = ctx.content_extent
        s = ctx.free_scale
        ctx.canvas = (max(1, round(ax * s + bx)), max(1, round(ay * s + by)))
        run("canvas")
        cw, ch = ctx.canvas
        if cw * ch > MAX_OUTPUT_PIXELS:
            sized = [op.token() for op in ops if op.group == "size"]
            fix = (f"the size asked ({', '.join(sized)}) is over it for this product's "
                   "shape: ask for a smaller one" if sized
                   else "add a size operation (long-N, fit-WxH, canvas-WxH)")
            raise RenderError(f"output of {cw}x{ch} px ({cw * ch:,} px) is over the "
                              f"{MAX_OUTPUT_PIXELS:,} px limit; {fix}")
    cw, ch = ctx.canvas
    ctx.scale = min((cw - ml - mr) / bw, (ch - mt - mb) / bh)
    run("scale")
    s = ctx.scale
    if s <= 0:
        raise RenderError(f"margins leave no room for the product in {spec.canonical()!r}")
    ox = ml + ((cw - ml - mr) - bw * s) / 2
    ctx.origin_y = mt + ((ch - mt - mb) - bh * s) / 2
    run("place")
    return Layout((cw, ch), s, (ox, ctx.origin_y), ctx.box, ctx.target_fill, ctx.margins)


#: output alpha below this is zeroed after resampling (Lanczos ripple outside hard edges)
RIPPLE_ALPHA = 16


def plan_product_layout(spec: _Spec, source: tuple[int, int], product: Box, *, threshold: int,
                        survives: Callable[[], Box] | None) -> tuple[Layout, Box | None]:
    """The layout a render starts from, and the box its fill is measured on (None: the
    product's). A fill that enlarges the product at a trim threshold under ``RIPPLE_ALPHA``
    sizes it by what survives the ripple cut-off: ``survives()``, the box of the product's
    alpha >= ``RIPPLE_ALPHA`` (the rim under it is cut after resampling). The renderer (from
    the alpha), the export form's pre-check and a dry run (from the cutout's stored
    ``product_px`` and ``product_fill_px``) lay out by it, so they find one enlargement;
    ``survives`` None (a version stored before that measure) lays out on the product."""
    lay = plan_layout(spec, source, product)
    if (lay.target_fill is None or threshold >= RIPPLE_ALPHA or lay.scale <= 1
            or survives is None):
        return lay, None
    measured = survives()
    return plan_layout(spec, source, product, measured=measured), measured


#: a mask (L, 255 = full black) and its position on the canvas
Patch = tuple[Image.Image, tuple[int, int]]


@dataclass(frozen=True)
class PlacedProduct:
    """The resampled product on the canvas, for an operation's ``shadow_patch`` step."""

    product: Image.Image  # the pasted layer (RGBA; with trim or fill, alpha 0 outside ``bbox``)
    #: the product's (significant alpha's) box in the resampled layer; a spec without trim
    #: pastes the cutout's other alpha too, outside it
    bbox: tuple[int, int, int, int]
    offset: tuple[int, int]  # where the layer lies on the canvas
    canvas: tuple[int, int]
    stored_shadow: Image.Image | None  # the cutout's shadow layer, when the spec reads it
    crop: tuple[int, int, int, int]  # the source region the layer was resampled from
    rel_box: tuple[float, float, float, float]
    size: tuple[int, int]  # the resampled layer's
    gap: float | None
    at: tuple[int, int] = (0, 0)  # where ``product`` lies in the resampled layer

    @property
    def alpha(self) -> Image.Image:
        """The product's alpha on the whole resampled layer (output pixels), made only for
        the operation that asks (a synthetic shadow): most renders never need it."""
        alpha = Image.new("L", self.size)
        alpha.paste(self.product.getchannel("A"), self.at)
        return alpha

    def resample_source(self, layer: Image.Image) -> Patch:
        """A source-aligned layer (the stored shadow) mapped onto the canvas like the product."""
        out = layer.crop(self.crop).resize(self.size, Image.Resampling.BILINEAR,
                                           box=self.rel_box, reducing_gap=self.gap)
        return out, self.offset


def long_side(width: int, height: int, px: int | None = None) -> str:
    """"N px wide" or "N px tall": the longer side of a ``width`` x ``height`` box, named
    (``px``: another length of it, e.g. scaled); "across" read as the width for a tall
    product (QA 2026-12-06)."""
    return f"{max(width, height) if px is None else px:,} px {'tall' if height > width else 'wide'}"

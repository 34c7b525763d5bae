"""Render a cutout (RGBA, sRGB) into one marketplace variant described by a :class:`VariantSpec`.

Pipeline (fixed order, see ``spec.py``): threshold/trim -> layout (the operations' layout steps,
:func:`~cutouts.variants.layout.plan_layout`) -> premultiplied resample of only the visible
source region -> shadow -> composite on the background -> encode (the operations' encoder
options, :class:`EncodeOptions`) -> max-bytes loop. Scene specs (library backgrounds, logos,
placement) are composed by ``scene.py`` and encoded here. Nothing here switches on operation
names: a new operation contributes through its own class.

Memory: apart from the caller's input image we hold at most the cropped source region and its
premultiplied copy (transiently), the thresholded alpha (1/4 size) and output-size buffers.
Large downscales go through ``Image.reduce`` first (``reducing_gap``) so the expensive filter
only runs on a small image. Compositing is done with integer maths on premultiplied colour, so
pixels with alpha 0 are *exactly* the background colour and no dark/grey fringe can appear.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import cv2
import numpy as np
from PIL import Image

from .errors import MaxBytesError, RenderError
from .layout import (
    ANALYSIS_SIDE,
    CORE_ALPHA,
    NEAR_SHARE,
    PRODUCT_SHARE,
    RIPPLE_ALPHA,
    SIGNIFICANT_ALPHA,
    Box,
    Layout,
    Patch,
    PlacedProduct,
    Significant,
    alpha_array,
    long_side,
    mask_box,
    plan_layout,
    plan_product_layout,
    shadow_clearance,
    significant_region,
)
from .operations import srgb_icc_profile as srgb_icc_profile
from .scene import SCENE_TRIM_THRESHOLD, SceneAsset, render_scene
from .spec import (
    EXTENSIONS,
    FORMATS,
    MIME_TYPES,
    SHADOW_INPUT,
    EncodeOptions,
    VariantSpec,
    as_spec,
    encode_options,
)
from .warning_kinds import DROPPED_PARTS, ENLARGED, KEPT_SHADOW_LEFT_OUT, MAXBYTES

#: ``maxbytes`` never goes below this quality; past it the render fails with MaxBytesError.
MIN_QUALITY = 30
#: resample passes allowed to reach the requested fill (see render_variant)
FILL_ATTEMPTS = 4
#: enlarging the product more than this makes it visibly soft (resampling invents no detail):
#: the variant is still made, with a warning saying how large the product must be in the photo
#: not to need it (compliance fails far beyond it: ``MAX_ENLARGEMENT`` in compliance.py)
ENLARGE_WARN = 2.0


@dataclass(frozen=True)
class RenderedVariant:
    data: bytes
    format: str  # spec format name: jpeg, png, webp, avif
    width: int
    height: int
    #: (x0, y0, x1, y1), x1/y1 exclusive, of the PRODUCT in the output: its significant alpha
    #: (:func:`~cutouts.variants.layout.significant_region`; trim and fill paste nothing
    #: else, a spec without them pastes the rest too, outside this box); no shadow
    product_bbox: tuple[int, int, int, int]
    #: longest product side relative to the canvas, in percent: max(pw / W, ph / H) * 100
    fill_pct: float | None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.format]

    @property
    def size_bytes(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def warnings(self) -> list[str]:
        return list(self.metadata.get("warnings", ()))


def _threshold_lut(t: int) -> list[int]:
    return [0] * t + list(range(t, 256))


def _clip_to_safe_area(patch: Patch, canvas: tuple[int, int]) -> Patch | None:
    """Keep shadows off the image frame, which marketplaces require to be pure background: a
    shadow is 0 within :func:`~cutouts.variants.layout.shadow_clearance` of the frame and fades
    in over as much again (it was cut straight at the band's edge: a photo's floor reaching
    across the canvas showed as a grey band with square ends)."""
    inset = shadow_clearance(canvas)
    sp, (px, py) = patch
    x0, y0 = max(px, inset), max(py, inset)
    x1, y1 = min(px + sp.width, canvas[0] - inset), min(py + sp.height, canvas[1] - inset)
    if x1 <= x0 or y1 <= y0:
        return None
    cut = sp.crop((x0 - px, y0 - py, x1 - px, y1 - py))
    # distance of each pixel to the frame, beyond the band: 0 at its edge, 1 a band further
    xs = np.arange(x0, x1, dtype=np.float32)
    ys = np.arange(y0, y1, dtype=np.float32)
    dx = np.minimum(xs, canvas[0] - 1 - xs) - inset
    dy = np.minimum(ys, canvas[1] - 1 - ys) - inset
    tx = np.clip(dx / max(1, inset), 0.0, 1.0)
    ty = np.clip(dy / max(1, inset), 0.0, 1.0)
    ramp = np.minimum(ty[:, None], tx[None, :])
    if ramp.min() >= 1.0:
        return cut, (x0, y0)  # away from the frame: the layer as it is
    ramp = ramp * ramp * (3 - 2 * ramp)
    faded = np.asarray(cut, np.float32) * ramp
    return Image.fromarray(np.clip(faded + 0.5, 0, 255).astype(np.uint8), "L"), (x0, y0)


#: resampled layers one source keeps for specs of the same geometry (a size class); callers
#: render the specs of one size class one after another (:func:`size_class`), so the last one
#: is enough, and memory holds one layer per source
LAYERS_KEPT = 1
#: operations ordered before this one decide the geometry (trim, fill, margins, size, align)
_APPEARANCE_ORDER = 50


def size_class(spec: str | VariantSpec) -> tuple[str, ...]:
    """The tokens that place the product on the canvas: specs with the same ones share a
    resampled layer and differ only in background, shadow or encoding. An order to render in,
    never a cache key (the layer cache compares the exact geometry)."""
    return tuple(op.token() for op in as_spec(spec).operations
                 if op.order < _APPEARANCE_ORDER)


_T = TypeVar("_T")
#: which alpha a render uses: ("source", 0), ("threshold", t) or ("significant", t)
AlphaKey = tuple[str, int]
#: a resampled layer: the product (RGBA, alpha 0 outside its box), the product's box in the
#: resampled region and where the image's corner lies in that region
_Layer = tuple[Image.Image, Box, tuple[int, int]]


class SourceImage:
    """One decoded cutout, shared by every variant rendered from it (all presets of an export).

    What does not depend on the spec's geometry is computed once per source and kept: the
    significant region per trim threshold and its alpha, the premultiplied product (only the
    region where alpha is not 0). What does (the resampled layer) is kept for the last
    geometry, so specs that differ only in background, shadow or encoding resample once when
    rendered one after another (:func:`size_class`). The caches live as long as the object:
    the export holds one per cutout, so memory stays flat.
    """

    def __init__(self, rgba: Image.Image):
        self.rgba = rgba if rgba.mode == "RGBA" else rgba.convert("RGBA")
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._layers: OrderedDict[tuple[Any, ...], _Layer] = OrderedDict()

    @property
    def size(self) -> tuple[int, int]:
        return self.rgba.size

    def _once(self, key: tuple[Any, ...], make: Callable[[], _T]) -> _T:
        if key not in self._memo:
            self._memo[key] = make()
        return cast(_T, self._memo[key])

    def significant(self, threshold: int) -> Significant | None:
        """:func:`~cutouts.variants.layout.significant_region` of the alpha, per threshold."""
        # the channel is not kept: the region's own alpha is what the renders use
        return self._once(("significant", threshold), lambda: significant_region(
            alpha_array(self.rgba), threshold))

    def faint_marks(self, threshold: int) -> list[FaintMark]:
        """:func:`faint_marks` of the significant region, per threshold (every preset of an
        export reads the same)."""
        return self._once(("faint_marks", threshold),
                          lambda: faint_marks(self.significant(threshold)))

    def layout_alpha(self, key: AlphaKey) -> Image.Image:
        """The alpha a render lays out and resamples: ``("source", 0)`` as stored,
        ``("threshold", t)`` with alpha below t zeroed, ``("significant", t)`` the
        significant region's (renders use only its window: :meth:`premultiplied`)."""
        def make() -> Image.Image:
            if key[0] == "significant":
                sig = self.significant(key[1])
                assert sig is not None  # the caller checked
                return Image.fromarray(sig.alpha)
            if key[0] == "threshold":
                return self.rgba.getchannel("A").point(_threshold_lut(key[1]))
            return self.rgba.getchannel("A")
        return self._once(("layout_alpha", key), make)

    def bbox(self, key: AlphaKey, level: int = 1) -> Box | None:
        """Box of ``layout_alpha(key)`` >= ``level``."""
        def make() -> Box | None:
            if key[0] == "significant":
                # one or two OpenCV passes over the window the region holds (outside it the
                # alpha is 0; Pillow's getbbox, and a point() copy per level, cost more)
                sig = self.significant(key[1])
                assert sig is not None  # the caller checked
                found = mask_box(sig.patch, level)
                x, y = sig.window[:2]
                return None if found is None else (found[0] + x, found[1] + y,
                                                   found[2] + x, found[3] + y)
            alpha = self.layout_alpha(key)
            if level <= 1:
                return alpha.getbbox()
            # alpha >= level lies inside the box of alpha >= 1: threshold only that crop
            outer = self.bbox(key)
            if outer is None:
                return None
            found = alpha.crop(outer).point(_threshold_lut(level)).getbbox()
            return None if found is None else (found[0] + outer[0], found[1] + outer[1],
                                               found[2] + outer[0], found[3] + outer[1])
        return self._once(("bbox", key, level), make)

    def premultiplied(self, key: AlphaKey) -> tuple[Image.Image, Box] | None:
        """The source with ``layout_alpha(key)``, premultiplied, over the box where that alpha
        is not 0 (everything else premultiplies to 0), and that box."""
        def make() -> tuple[Image.Image, Box] | None:
            box = self.bbox(key)
            if box is None:
                return None
            region = self.rgba.crop(box)
            if key[0] == "significant":
                sig = self.significant(key[1])
                assert sig is not None  # the caller checked
                region.putalpha(Image.fromarray(sig.crop(box)))  # the box lies in its window
            elif key[0] != "source":
                region.putalpha(self.layout_alpha(key).crop(box))
            return region.convert("RGBa"), box
        return self._once(("premultiplied", key), make)

    def forget_layers(self) -> None:
        """Drop the kept layers: the next renders are of another size class."""
        self._layers.clear()

    def layer(self, key: tuple[Any, ...], make: Callable[[], _Layer]) -> _Layer:
        """The resampled layer of one geometry, made once while it is among the last kept."""
        if key in self._layers:
            self._layers.move_to_end(key)
            return self._layers[key]
        value = make()
        self._layers[key] = value
        if len(self._layers) > LAYERS_KEPT:
            self._layers.popitem(last=False)
        return value


def dropped_parts_warning(count: int) -> str:
    """The render's warning for ``count`` detached parts its layout left out (a dry run
    foresees it in these words: ``compliance.foreseen``)."""
    return f"{count} {DROPPED_PARTS.head} of the layout"


#: a kept shadow layer of which a file shows less than this share of its darkness (scaled to
#: the canvas) is not in the file: what is left is at most a faint edge in the frame's band
KEPT_SHADOW_SHOWN = 0.1


def kept_shadow_left_out(layer: Image.Image, sig: Significant, shown: Patch | None,
                         scale: float) -> bool:
    """Whether a ``shadow-keep`` render that left far detached parts out (``sig``, its
    ``dropped_parts``) left the stored shadow ``layer`` (mode ``L``, the cutout's size) out
    with them: the layer's darkness is centred away from the product, beyond the reach
    within which the layout keeps a detached part (``NEAR_SHARE`` of the product's long side
    around its box: the product's own shadow lies under its box), and the file shows under
    ``KEPT_SHADOW_SHOWN`` of it (``shown``: the patch pasted, ``scale`` the layout's). Then
    the file carries no kept shadow at all, not one lying off the product (2026-12-08,
    verify48b; verify48: eBay shipped a shadowless file warned "the kept shadow lies off the
    product")."""
    arr = np.asarray(layer)
    moments = cv2.moments(arr)
    total = moments["m00"] / 255.0
    if total <= 0:
        return False
    cx, cy = moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]
    x0, y0, x1, y1 = sig.box
    reach = NEAR_SHARE * max(x1 - x0, y1 - y0)
    if x0 - reach <= cx <= x1 + reach and y0 - reach <= cy <= y1 + reach:
        return False  # under the product (or a part the layout kept): it is in the file
    carried = float(np.asarray(shown[0], np.float64).sum()) / 255.0 if shown else 0.0
    return carried < KEPT_SHADOW_SHOWN * total * scale * scale


def kept_shadow_left_out_warning() -> str:
    """The render's warning for a kept shadow left out with the stray part it lay under
    (:func:`kept_shadow_left_out`): the file's product has no shadow, which the version meant
    it to have. The run says it instead of "the kept shadow lies off the product", which the
    version's own measure gives (``export_jobs.stored_warnings``)."""
    return (f"{KEPT_SHADOW_LEFT_OUT.head} (a detached part far from the product, which this "
            "layout leaves out): the product has no shadow in this file. Remove the stray part "
            "in review and approve the new version: its shadow is drawn again under the "
            "product")


def frame_cut(sig: Significant | None) -> list[str]:
    """The sides of the cutout (the photo's frame) on which the product's own alpha is solid
    (>= CORE_ALPHA, the model's alpha >= 0.5 of the cutout's ``touches_frame`` signal): the
    photo cut the product there, and the file shows a straight hard cut. Only the product's
    significant region is read, so a detached part the layout left out does not count."""
    if sig is None:
        return []
    x0, y0, x1, y1 = sig.window
    w, h = sig.size
    patch = sig.patch
    lines = (("top", y0 == 0, patch[:1]), ("bottom", y1 == h, patch[-1:]),
             ("left", x0 == 0, patch[:, :1]), ("right", x1 == w, patch[:, -1:]))
    return [side for side, on_frame, line in lines
            if on_frame and line.size and int(line.max()) >= CORE_ALPHA]


#: Faint marks inside the product's box (:func:`faint_marks`). A soft rim (hair, fur, an
#: antialiased edge) lies within this share of the product's long side of its solid alpha ...
FRINGE_SHARE = 0.02
#: ... a strand, a wire or a chain link is thinner than this share of it (the largest disc
#: that fits in the mark's visible alpha, as a radius) ...
MARK_RADIUS_SHARE = 0.01
#: ... a part of the product is mostly solid: a mark under this share of solid alpha is
#: see-through ...
MARK_SOLID_SHARE = 0.5
#: ... and a see-through part enclosed by the product (glass inside its rim, a gap between a
#: handle's arms) borders it: a mark is open to the background when at least this share of
#: the pixels around it are transparent
MARK_OPEN_SHARE = 0.5
#: marks lighter than this share of the product's solid area are not measured
MARK_MIN_SHARE = 0.001


@dataclass(frozen=True)
class FaintMark:
    """A see-through patch of alpha in the product's region, away from its solid parts."""

    #: (x0, y0, x1, y1), exclusive, in source pixels
    box: Box
    #: its visible area (pixels of alpha >= SIGNIFICANT_ALPHA) relative to the product's solid
    #: area: what a person sees of it on white. Its alpha mass under-counted a wide faint
    #: ghost (QA: alpha 20-50 over ~2,000 px counted 0.0017 and passed Amazon main).
    share: float
    #: its alpha mass relative to the product's solid area (the measure before 2026-12-03)
    mass: float = 0.0
    #: (x, y) of its deepest pixel (farthest inside its visible alpha), in source pixels:
    #: where a reviewer finds it. Its box's corner can lie on the product (QA: the corner of a
    #: ghost beside a bunny was on its fur, and a remove click there took the fur).
    point: tuple[int, int] | None = None


def faint_marks(sig: Significant | None) -> list[FaintMark]:
    """Faint marks the cutout kept inside the product's region: thick patches of see-through
    alpha (visible, mostly under CORE_ALPHA) beyond the product's soft rim and open to the
    background, which is what a ghost of the photo's background left by the model looks like
    (a grey blob beside a blade). Read on the alpha, not on a rendered file: a kept shadow
    layer, a grey part of the product and a ghost look alike in the pixels, not in the alpha
    (the shadow is a layer of its own). Hair and fur (thin, or within the rim), chain links
    and wires (thin), a second product (solid) and glass inside its rim (enclosed) are not
    marks; a see-through part of the product open to the background (a soft, blurred or
    under-cut part) is, and the check that reads these only warns for that reason."""
    if sig is None:
        return []
    patch = sig.patch
    h, w = patch.shape
    f = max(1, math.ceil(max(h, w) / ANALYSIS_SIDE))
    a = cv2.resize(patch, (math.ceil(w / f), math.ceil(h / f)),
                   interpolation=cv2.INTER_AREA) if f > 1 else patch
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        (a >= CORE_ALPHA).view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return []  # nothing solid (glass, a soft subject): nothing to measure against
    areas = stats[1:, cv2.CC_STAT_AREA]
    # the product's solid parts, as the layout counts them (two products are both)
    main = np.zeros(n, bool)
    main[1:] = areas >= PRODUCT_SHARE * areas.max()
    solid = main[labels]
    area = int(areas[main[1:]].sum())
    bx, by, bw, bh = cv2.boundingRect(solid.view(np.uint8))
    long_side = max(bw, bh)
    rim = max(2.0, FRINGE_SHARE * long_side)
    visible = (a >= SIGNIFICANT_ALPHA).view(np.uint8)
    away = cv2.distanceTransform((~solid).view(np.uint8), cv2.DIST_L2, 3) > rim
    cn, clabels, cstats, _ = cv2.connectedComponentsWithStats(
        visible & away.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    if cn <= 1:
        return []
    # alpha mass and solid pixels per mark, in one pass each
    mass = np.bincount(clabels.ravel(), weights=a.ravel(), minlength=cn) / 255.0
    solid_px = np.bincount(clabels.ravel(), weights=(a >= CORE_ALPHA).ravel(), minlength=cn)
    depth = cv2.distanceTransform(visible, cv2.DIST_L2, 3)
    radius = max(1.5, MARK_RADIUS_SHARE * long_side)
    clear = a < SIGNIFICANT_ALPHA
    kernel = np.ones((3, 3), np.uint8)
    out = []
    for i in range(1, cn):
        if mass[i] < MARK_MIN_SHARE * area:
            continue
        if solid_px[i] >= MARK_SOLID_SHARE * cstats[i, cv2.CC_STAT_AREA]:
            continue  # a solid part: a detached piece of the product, a chain link
        x, y, cw, ch = (int(v) for v in cstats[i, :4])
        # the mark's own window, one pixel wider: its ring and depth are read there only
        x0, y0 = max(0, x - 1), max(0, y - 1)
        x1, y1 = min(a.shape[1], x + cw + 1), min(a.shape[0], y + ch + 1)
        mine = clabels[y0:y1, x0:x1] == i
        inside = np.where(mine, depth[y0:y1, x0:x1], 0.0)
        deepest = np.unravel_index(int(inside.argmax()), inside.shape)
        if float(inside[deepest]) < radius:
            continue  # thin: a strand of hair, a wire
        ring = cv2.dilate(mine.view(np.uint8), kernel).view(bool) & ~mine
        if not ring.any() or clear[y0:y1, x0:x1][ring].mean() < MARK_OPEN_SHARE:
            continue  # enclosed by the product: glass inside its rim
        sx, sy = sig.window[:2]
        out.append(FaintMark(
            (sx + x * f, sy + y * f, min(sx + w, sx + (x + cw) * f),
             min(sy + h, sy + (y + ch) * f)),
            round(float(cstats[i, cv2.CC_STAT_AREA]) / area, 4), round(float(mass[i]) / area, 4),
            (min(sx + w - 1, sx + (x0 + int(deepest[1])) * f + f // 2),
             min(sy + h - 1, sy + (y0 + int(deepest[0])) * f + f // 2))))
    return sorted(out, key=lambda m: -m.share)


def as_source(rgba: Image.Image | SourceImage) -> SourceImage:
    return rgba if isinstance(rgba, SourceImage) else SourceImage(rgba)


def _resample(source: SourceImage, alpha_key: AlphaKey, lay: Layout, threshold: int
              ) -> tuple[_Layer, tuple[int, int], Box,
                         tuple[float, float, float, float], tuple[int, int], float | None]:
    """Premultiplied resample of the visible source region onto the layout.

    ``alpha_key`` names the alpha to resample with (:meth:`SourceImage.layout_alpha`).
    Returns the product layer (:data:`_Layer`: RGBA after the ripple cut-off, the part of the
    resampled region that can be non-zero; the rest is transparent), the region's position
    on the canvas and the source crop/box used (for resampling the shadow layer the same
    way). Specs with the same geometry share one result.
    """
    cw, ch = lay.canvas
    s = lay.scale
    ox, oy = lay.origin
    bx0, by0 = lay.box[0], lay.box[1]
    w0, h0 = source.size

    # visible part of the source, in output pixels (integers) and source pixels (floats)
    ux0, uy0 = max(0, round(ox - bx0 * s)), max(0, round(oy - by0 * s))
    ux1, uy1 = min(cw, round(ox + (w0 - bx0) * s)), min(ch, round(oy + (h0 - by0) * s))
    if ux1 <= ux0 or uy1 <= uy0:
        raise RenderError("the product falls outside the canvas")

    def src(v: float, origin: float, base: int, limit: int) -> float:
        return min(float(limit), max(0.0, base + (v - origin) / s))

    sx0, sx1 = src(ux0, ox, bx0, w0), src(ux1, ox, bx0, w0)
    sy0, sy1 = src(uy0, oy, by0, h0), src(uy1, oy, by0, h0)
    crop = (math.floor(sx0), math.floor(sy0), math.ceil(sx1), math.ceil(sy1))
    rel_box = (sx0 - crop[0], sy0 - crop[1], sx1 - crop[0], sy1 - crop[1])
    out_size = (ux1 - ux0, uy1 - uy0)
    gap = 2.0 if s < 0.5 else None

    def make() -> _Layer:
        strip, (x0, y0) = _lanczos(source.premultiplied(alpha_key), crop, rel_box, out_size,
                                   gap)
        # drop the faint ripple Lanczos leaves outside hard edges (and sub-threshold
        # coverage); un-premultiplying afterwards is exact where it matters (alpha 0 ->
        # background, 255 -> colour)
        strip_alpha = strip.getchannel(3).point(_threshold_lut(max(threshold, RIPPLE_ALPHA)))
        found = strip_alpha.getbbox()
        if found is None:
            raise RenderError("the product vanished after resampling (too small for this size)")
        pbox = (found[0] + x0, found[1] + y0, found[2] + x0, found[3] + y0)
        # Outside the product box the alpha is now 0, so those pixels paste nothing: the
        # strip is kept whole rather than cropped to the box (a crop is another copy of
        # the product, and of its alpha, for a few rows and columns of ripple).
        product = strip.convert("RGBA")
        product.putalpha(strip_alpha)
        return product, pbox, (x0, y0)

    layer = source.layer((alpha_key, threshold, crop, rel_box, out_size, gap), make)
    return layer, (ux0, uy0), crop, rel_box, out_size, gap


#: Pillow's Lanczos kernel reads this many source pixels either side (times the reduction)
LANCZOS_SUPPORT = 3.0


def _window(lo: int, hi: int, start: float, end: float, out: int, size: int
            ) -> tuple[int, int, float, float, int, int]:
    """For one Lanczos pass of ``start``..``end`` (of a source ``size`` long) to ``out``
    pixels, whose source is 0 outside ``lo``..``hi``: the output pixels ``a``..``b`` that can
    be non-zero (one wider each side than Pillow's own kernel bounds, so rounding never cuts
    one), the source span ``s0``..``s1`` they map from, and the source pixels ``c0``..``c1``
    their kernels read. Pillow renormalises a kernel cut by the image's edge, so the window
    keeps every pixel a kept kernel reads: it is cut only where the whole source cut it."""
    scale = (end - start) / out
    support = LANCZOS_SUPPORT * max(scale, 1.0)
    a = max(0, math.floor((lo - support - start) / scale - 0.5) - 1)
    b = min(out, math.ceil((hi + support - start) / scale - 0.5) + 2)
    s0 = start if a == 0 else start + a * scale
    s1 = end if b == out else start + b * scale
    c0, c1 = max(0, math.floor(s0 - support - 2)), min(size, math.ceil(s1 + support + 2))
    return a, b, s0, s1, c0, c1


def _lanczos(premultiplied: tuple[Image.Image, Box] | None, crop: Box,
             rel_box: tuple[float, float, float, float], out_size: tuple[int, int],
             gap: float | None) -> tuple[Image.Image, tuple[int, int]]:
    """``crop`` of the premultiplied source resized to ``out_size`` (Lanczos, from ``rel_box``
    of the crop), as the part that can be non-zero and its offset in the output.

    Pillow resizes in two passes, horizontal (an 8-bit intermediate, then) vertical. Outside
    the product the source is 0, and so is every output pixel whose kernel reads only zeros:
    only the columns and rows whose kernels reach the product are made, in one ``resize`` of
    a window of the source a little wider than the kernels it keeps (:func:`_window`); its
    horizontal pass runs only on the rows the vertical kernels read. The kernels are
    placed from a shifted box, so a pixel can differ by 1 level from one resize of the whole
    crop (float rounding of the box; tested). Large reductions (``gap``) take one ``resize``:
    its pre-reduction bins pixels in blocks counted from the crop's corner."""
    cw, ch = crop[2] - crop[0], crop[3] - crop[1]

    def empty() -> tuple[Image.Image, tuple[int, int]]:
        # made only when needed: an output-size image is a large allocation for nothing
        return Image.new("RGBa", out_size), (0, 0)

    if premultiplied is None:
        return empty()
    premult, box = premultiplied
    if gap is not None:
        region = Image.new("RGBa", (cw, ch))
        region.paste(premult, (box[0] - crop[0], box[1] - crop[1]))
        return region.resize(out_size, Image.Resampling.LANCZOS, box=rel_box,
                             reducing_gap=gap), (0, 0)
    ow, oh = out_size
    rx0, ry0, rx1, ry1 = rel_box
    # where the premultiplied source is not 0, in crop coordinates
    px0, py0 = box[0] - crop[0], box[1] - crop[1]
    r0, r1 = max(0, py0), min(ch, box[3] - crop[1])
    q0, q1 = max(0, px0), min(cw, box[2] - crop[0])
    if r1 <= r0 or q1 <= q0:
        return empty()
    a, b, s0, s1, c0, c1 = _window(q0, q1, rx0, rx1, ow, cw)
    ya, yb, t0, t1, d0, d1 = _window(r0, r1, ry0, ry1, oh, ch)
    if b <= a or yb <= ya:
        return empty()
    # One resize of the window both passes read (columns c0..c1, rows d0..d1; d0 <= r0 and
    # r1 <= d1 by construction): Pillow's horizontal pass runs only on the rows the vertical
    # kernels read, with the same coefficients as two one-axis resizes of the same extents
    # (each pass's kernels depend only on its axis's size and box), and its intermediate is
    # 8-bit in both, so the pixels are the same without the second image and its copies.
    window = Image.new("RGBa", (c1 - c0, d1 - d0))
    window.paste(premult, (px0 - c0, py0 - d0))
    return window.resize((b - a, yb - ya), Image.Resampling.LANCZOS,
                         box=(s0 - c0, t0 - d0, s1 - c0, t1 - d0)), (a, ya)


def render_variant(
    rgba: Image.Image | SourceImage,
    spec: str | VariantSpec,
    shadow: Image.Image | None = None,
    source_meta: dict[str, Any] | None = None,
    assets: dict[str, SceneAsset] | None = None,
) -> RenderedVariant:
    """Render ``rgba`` (an RGBA cutout in sRGB, or a :class:`SourceImage` shared by several
    renders of it) as the variant ``spec``.

    ``shadow`` is the cutout's stored shadow layer (mode ``L``, same size, 255 = full black),
    used only with ``shadow-keep``. ``source_meta`` may hold ``exif`` (bytes or ``Image.Exif``)
    and ``xmp`` (bytes/str); it is written only with ``keepmeta``, and never its GPS location
    (:func:`shareable_meta`).
    ``assets`` maps library slugs to :class:`~cutouts.variants.scene.SceneAsset` for scene
    specs (``bg-<slug>``, ``logo-<slug>-<corner>``).
    Raises :class:`RenderError` (or :class:`MaxBytesError`).
    """
    spec = as_spec(spec)
    warnings: list[str] = []
    source = as_source(rgba)
    if source.rgba.width < 1 or source.rgba.height < 1:
        raise RenderError("empty image")
    source_meta = shareable_meta(source_meta) if "keepmeta" in spec else None
    if SHADOW_INPUT not in spec.cache_inputs:
        shadow = None  # an operation that reads the stored layer declares it (shadow-keep)
    # No layer is not a problem: shadow-keep keeps the shadow *if* the cutout has one
    # (metadata "shadow" says "none"), so presets with it do not warn on every cutout.
    elif shadow is None:
        pass
    elif shadow.size != source.size:
        raise RenderError(f"shadow layer is {shadow.size}, cutout is {source.size}")
    elif shadow.mode != "L":
        shadow = shadow.convert("L")

    if spec.is_scene:
        return _render_scene(source, spec, shadow, source_meta, assets, warnings)
    threshold = spec.alpha_threshold(1)
    alpha_key: AlphaKey
    # One product box for layout and for compliance: the significant alpha's (what a person
    # sees; faint stray alpha and far specks never move it).
    sig = source.significant(threshold)
    if spec.measures_product:
        # trim and fill paste only the significant region: what lies outside it is gone
        if sig is None:
            raise RenderError(
                f"the cutout has no pixel with alpha >= {threshold}: nothing to render")
        alpha_key, product = ("significant", threshold), sig.box
        if sig.dropped_parts:
            warnings.append(dropped_parts_warning(sig.dropped_parts))
    else:
        # Without trim the alpha is pasted as stored, a faint blob the cutout kept included;
        # it is still no product: reported outside the product box, the compliance ghost
        # analysis judges it as a mark on the background (it used to widen the box and hide).
        alpha_key = ("threshold", threshold) if threshold > 1 else ("source", 0)
        found = source.bbox(alpha_key)
        if found is None:
            raise RenderError(
                f"the cutout has no pixel with alpha >= {threshold}: nothing to render")
        # no significant region (a reduction averaged a lone pixel away): the alpha's box
        product = found if sig is None else sig.box

    boost = 1.0
    # Upscaling keeps the soft rim's alpha, and the ripple cut-off drops what is under
    # RIPPLE_ALPHA: the product is sized by what will survive (saves a second pass).
    lay, measured = plan_product_layout(
        spec, source.size, product, threshold=threshold,
        survives=lambda: source.bbox(alpha_key, RIPPLE_ALPHA) or product)
    target = lay.target_fill
    for _attempt in range(FILL_ATTEMPTS):
        lay = plan_layout(spec, source.size, product, boost=boost, measured=measured)
        cw, ch = lay.canvas
        s = lay.scale
        resampled = _resample(source, alpha_key, lay, threshold)
        (layer, pbox, (lx, ly)), (ux0, uy0), crop, rel_box, out_size, gap = resampled
        fill_pct = round(max((pbox[2] - pbox[0]) / cw, (pbox[3] - pbox[1]) / ch) * 100, 3)
        if target is None or fill_pct >= target:
            break
        # The resampled edge lost coverage (the ripple cut-off shaves the soft rim of an
        # upscaled product, faint pixels vanish): scale up by what is missing, plus one
        # output pixel, and resample again.
        boost *= (target / 100 + 1 / min(cw, ch)) / (fill_pct / 100)
    else:
        raise RenderError(f"could not reach fill-{target:g} (got {fill_pct:.2f} %)")
    w0, h0 = source.size
    warn_enlarged(warnings, s, product)
    product_bbox = (pbox[0] + ux0, pbox[1] + uy0, pbox[2] + ux0, pbox[3] + uy0)
    if alpha_key[0] != "significant":
        # the pasted alpha's box holds whatever else the cutout kept: the product is the
        # significant box, placed as the layout placed it
        product_bbox = _placed_box(product, lay, product_bbox)
        pbox = (product_bbox[0] - ux0, product_bbox[1] - uy0,
                product_bbox[2] - ux0, product_bbox[3] - uy0)
        fill_pct = round(max((pbox[2] - pbox[0]) / cw, (pbox[3] - pbox[1]) / ch) * 100, 3)
    at = (ux0 + lx, uy0 + ly)  # where the layer's image lies on the canvas
    if alpha_key[0] == "significant" and lay.margins is not None and any(lay.margins):
        layer, product_bbox = _inside_layout_box(layer, at, lay, product_bbox)
        pbox = (product_bbox[0] - ux0, product_bbox[1] - uy0,
                product_bbox[2] - ux0, product_bbox[3] - uy0)
        fill_pct = round(max((pbox[2] - pbox[0]) / cw, (pbox[3] - pbox[1]) / ch) * 100, 3)

    placed = PlacedProduct(layer, pbox, (ux0, uy0), (cw, ch), shadow, crop, rel_box,
                           out_size, gap, (lx, ly))
    shadow_patch: Patch | None = None
    for op in spec.operations:
        shadow_patch = op.shadow_patch(placed) or shadow_patch
    del placed
    if shadow_patch is not None:
        shadow_patch = _clip_to_safe_area(shadow_patch, (cw, ch))
    if (spec.shadow == "keep" and shadow is not None and sig is not None
            and alpha_key[0] == "significant" and sig.dropped_parts
            and kept_shadow_left_out(shadow, sig, shadow_patch, s)):
        # the kept layer went with the stray part it lay under (verify48)
        warnings.append(kept_shadow_left_out_warning())

    bg = spec.background
    if bg is not None:
        image = Image.new("RGB", (cw, ch), bg)
        if shadow_patch is not None:
            sp, (px, py) = shadow_patch
            image.paste((0, 0, 0), (px, py, px + sp.width, py + sp.height), mask=sp)
        # paste-with-mask blends src*a + dst*(1-a): exactly the background where alpha is 0
        image.paste(layer, at, mask=layer)
    else:
        image = Image.new("RGBA", (cw, ch), (0, 0, 0, 0))
        if shadow_patch is not None:
            sp, (px, py) = shadow_patch
            black = Image.new("RGBA", sp.size, (0, 0, 0, 0))
            black.putalpha(sp)
            image.paste(black, (px, py))
            image.alpha_composite(layer, at)
        else:
            image.paste(layer, at)
        # no leftover colour under fully transparent pixels (ripple we zeroed, hidden matte)
        arr = np.array(image)
        arr[arr[..., 3] == 0] = 0
        image = Image.fromarray(arr)
        del arr
    del layer

    options = encode_options(spec, source_meta)
    data, quality = _encode_with_limit(image, spec, options, warnings)
    meta = {
        "spec": spec.canonical(),
        "source_size": (w0, h0),
        "source_product_bbox": product,
        # the photo's frame cuts the product (compliance fails or warns on listing images)
        "frame_cut": frame_cut(sig),
        # see-through marks the cutout kept in the product's region (compliance warns)
        "faint_marks": _marks_on_canvas(source.faint_marks(threshold), lay),
        "scale": round(s, 6),
        "quality": quality,
        "icc": options.icc,
        "dpi": options.dpi,
        "shadow": spec.shadow if shadow_patch is not None else "none",
        "metadata_kept": options.metadata_kept,
        "warnings": warnings,
    }
    return RenderedVariant(data, spec.format, cw, ch, product_bbox, fill_pct, meta)


#: the EXIF pointer to the GPS IFD (where a camera or phone writes the photo's location)
EXIF_GPS_IFD = 0x8825
#: XMP properties of a location (``exif:GPSLatitude``, ``exifEX:GPS...``, ``Iptc4xmpExt:
#: LocationCreated`` ...): an XMP packet naming one is not kept
_XMP_LOCATION = (b"GPS", b"LocationCreated", b"LocationShown")


def shareable_meta(source_meta: dict[str, Any] | None) -> dict[str, Any] | None:
    """What ``keepmeta`` may carry from the original photo: its EXIF (camera make and model,
    dates, exposure) without the GPS location, and its XMP unless that holds a location.
    The location is private (where the photo was taken, often a home) and compliance fails
    any export carrying EXIF GPS, so keeping it would only exclude the file. Unreadable EXIF
    is dropped, not written half-parsed."""
    if not source_meta:
        return source_meta
    kept = dict(source_meta)
    exif = kept.get("exif")
    if exif:
        try:
            if not isinstance(exif, Image.Exif):
                raw, exif = exif, Image.Exif()
                exif.load(raw)
            if EXIF_GPS_IFD in exif:
                exif = _copy_exif(exif)
                del exif[EXIF_GPS_IFD]
            kept["exif"] = exif
        except (SyntaxError, ValueError, TypeError, OSError, KeyError, IndexError):
            kept.pop("exif")
    xmp = kept.get("xmp")
    if xmp:
        raw_xmp = xmp.encode() if isinstance(xmp, str) else bytes(xmp)
        if any(word in raw_xmp for word in _XMP_LOCATION):
            kept.pop("xmp")
    return kept


def _copy_exif(exif: Image.Exif) -> Image.Exif:
    """A copy of ``exif`` to edit: the caller's (one original's, shared by every preset of
    an export) stays as it is."""
    copy = Image.Exif()
    copy.load(exif.tobytes())
    return copy


def _on_canvas(box: Box, lay: Layout) -> Box:
    """``box`` (source pixels) on the canvas as ``lay`` places it, rounded outwards and cut
    to the canvas."""
    s = lay.scale
    ox, oy = lay.origin
    bx0, by0 = lay.box[0], lay.box[1]
    cw, ch = lay.canvas
    return (max(0, math.floor(ox + (box[0] - bx0) * s)),
            max(0, math.floor(oy + (box[1] - by0) * s)),
            min(cw, math.ceil(ox + (box[2] - bx0) * s)),
            min(ch, math.ceil(oy + (box[3] - by0) * s)))


def _scene_place(sig: Significant | None, info: dict[str, Any], canvas: tuple[int, int]
                 ) -> Callable[[Box], Box]:
    """A source box on a scene's canvas, as ``render_scene`` placed the significant region
    (``info["placed"]``), rounded outwards and cut to the canvas."""
    placed = info.get("placed")
    if sig is None or not placed:
        return lambda box: (0, 0, 0, 0)
    (bx0, by0, bx1, by1), (x, y, w, h) = sig.box, placed
    kx, ky = w / max(bx1 - bx0, 1), h / max(by1 - by0, 1)
    cw, ch = canvas
    return lambda box: (max(0, math.floor(x + (box[0] - bx0) * kx)),
                        max(0, math.floor(y + (box[1] - by0) * ky)),
                        min(cw, math.ceil(x + (box[2] - bx0) * kx)),
                        min(ch, math.ceil(y + (box[3] - by0) * ky)))


def _marks_on_canvas(marks: list[FaintMark], place: Layout | Callable[[Box], Box]
                     ) -> list[dict[str, Any]]:
    """The marks the canvas shows, as JSON-friendly facts for compliance (boxes on it, and
    in the cutout's own pixels, which are the photo's: where a reviewer finds the mark).
    ``place``: the layout that placed the product, or a scene's mapping (``_scene_place``)."""
    on = place if callable(place) else (lambda box: _on_canvas(box, place))
    out = []
    for m in marks:
        box = on(m.box)
        if box[0] < box[2] and box[1] < box[3]:
            point = {} if m.point is None else {
                "point": list(on((*m.point, m.point[0] + 1, m.point[1] + 1))[:2]),
                "photo_point": list(m.point)}
            out.append({"box": list(box), "share": m.share, "photo_box": list(m.box), **point})
    return out


def _inside_layout_box(layer: Image.Image, at: tuple[int, int], lay: Layout, pasted: Box
                       ) -> tuple[Image.Image, Box]:
    """``margin-N`` promises N output pixels of background around the layout box: the
    resampled edge of an enlarged product (Lanczos spreads it about a third of the scale past
    the box: 2-3 px at 7.9x) and the sub-32 rim the region keeps are cut at the box, rounded
    outwards, so they never reach into the margin (QA 2026-12-06 L4: margin-5 left 3 px).
    The layer is shared by renders of one geometry: a copy is cut. Returns it and the
    pasted product's box (canvas pixels) cut likewise."""
    s = lay.scale
    ox, oy = lay.origin
    bw, bh = lay.box[2] - lay.box[0], lay.box[3] - lay.box[1]
    x0, y0 = math.floor(ox + 1e-6), math.floor(oy + 1e-6)
    x1, y1 = math.ceil(ox + bw * s - 1e-6), math.ceil(oy + bh * s - 1e-6)
    lx0, ly0 = x0 - at[0], y0 - at[1]
    lx1, ly1 = x1 - at[0], y1 - at[1]
    if lx0 <= 0 and ly0 <= 0 and lx1 >= layer.width and ly1 >= layer.height:
        return layer, pasted  # nothing outside the box
    alpha = np.array(layer.getchannel("A"))
    alpha[:max(0, ly0)] = 0
    alpha[max(0, ly1):] = 0
    alpha[:, :max(0, lx0)] = 0
    alpha[:, max(0, lx1):] = 0
    cut = layer.copy()
    cut.putalpha(Image.fromarray(alpha))
    box = (max(pasted[0], x0), max(pasted[1], y0), min(pasted[2], x1), min(pasted[3], y1))
    return cut, (box if box[0] < box[2] and box[1] < box[3] else pasted)


def _placed_box(product: Box, lay: Layout, pasted: Box) -> Box:
    """``product`` (source pixels) on the canvas as ``lay`` places it, rounded outwards and
    cut to ``pasted`` (the box of the alpha the render pasted, which holds the product's
    soft rim); ``pasted`` itself when they do not meet (the layout cropped the product away)."""
    s = lay.scale
    ox, oy = lay.origin
    bx0, by0 = lay.box[0], lay.box[1]
    x0 = max(pasted[0], math.floor(ox + (product[0] - bx0) * s + 1e-6))
    y0 = max(pasted[1], math.floor(oy + (product[1] - by0) * s + 1e-6))
    x1 = min(pasted[2], math.ceil(ox + (product[2] - bx0) * s - 1e-6))
    y1 = min(pasted[3], math.ceil(oy + (product[3] - by0) * s - 1e-6))
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else pasted


def _render_scene(source: SourceImage, spec: VariantSpec, shadow: Image.Image | None,
                  source_meta: dict[str, Any] | None, assets: dict[str, SceneAsset] | None,
                  warnings: list[str]) -> RenderedVariant:
    rgba = source.rgba
    threshold = spec.alpha_threshold(SCENE_TRIM_THRESHOLD)
    sig = source.significant(threshold)
    image, box, info = render_scene(rgba, spec, shadow, assets, warnings, sig=sig)
    cw, ch = image.size
    product = sig.box if sig is not None else source.bbox(("source", 0))
    warn_enlarged(warnings, info.get("scale"), product)
    fill_pct = round(max((box[2] - box[0]) / cw, (box[3] - box[1]) / ch) * 100, 3)
    options = encode_options(spec, source_meta)
    data, quality = _encode_with_limit(image, spec, options, warnings)
    meta = {
        "spec": spec.canonical(), "source_size": rgba.size, "source_product_bbox": product,
        "frame_cut": frame_cut(sig), "scale": info.get("scale"),
        # a ghost on a banner shows as it does on a listing (compliance warns)
        "faint_marks": _marks_on_canvas(source.faint_marks(threshold),
                                        _scene_place(sig, info, (cw, ch))),
        "quality": quality, "icc": options.icc, "dpi": options.dpi,
        "shadow": info.get("shadow", "none"), "metadata_kept": options.metadata_kept,
        "scene": info, "warnings": warnings,
    }
    return RenderedVariant(data, spec.format, cw, ch, box, fill_pct, meta)


def warn_enlarged(warnings: list[str], scale: float | None, product: Box | None) -> None:
    """Warn when the product (its box in the cutout) is enlarged past ENLARGE_WARN, saying
    what a person can change: how large the product must be in the photo, or the size."""
    # compared as printed, so the message never reads "enlarged 2.0x ... at most 2x"
    if scale is None or product is None or round(scale, 1) <= ENLARGE_WARN:
        return
    pw, ph = product[2] - product[0], product[3] - product[1]
    shown = round(max(pw, ph) * scale)
    needed = math.ceil(shown / ENLARGE_WARN)
    warnings.append(f"{ENLARGED.head} {scale:.1f}x ({pw}x{ph} px in the cutout, "
                    f"{long_side(pw, ph, shown)} in the image) and will look soft; for at most "
                    f"{ENLARGE_WARN:g}x it must span at least {needed:,} px in the photo "
                    "(a closer or larger photo), or choose a smaller size or fill")


def _encode(image: Image.Image, fmt: str, quality: int | None, kwargs: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    params = dict(kwargs)
    if quality is not None:
        params["quality"] = quality
    image.save(buf, FORMATS[fmt], **params)
    return buf.getvalue()


def _encode_with_limit(image: Image.Image, spec: VariantSpec, options: EncodeOptions,
                       warnings: list[str]) -> tuple[bytes, int | None]:
    fmt = options.fmt
    kwargs = dict(options.save)
    quality = options.quality
    data = _encode(image, fmt, quality, kwargs)
    limit = options.max_bytes
    if limit is None or len(data) <= limit:
        return data, quality
    if fmt == "jpeg":  # worth its cost only when we are fighting for bytes
        kwargs["optimize"] = True
        data = _encode(image, fmt, quality, kwargs)
        if len(data) <= limit:
            return data, quality

    if quality is None or quality <= MIN_QUALITY:
        if fmt == "png":
            data = _encode(image, fmt, None, {**kwargs, "compress_level": 9, "optimize": True})
            if len(data) <= limit:
                return data, None
        raise MaxBytesError(
            f"{spec.canonical()!r}: {len(data)} bytes exceeds maxbytes-{limit} and the format "
            f"cannot be compressed further; use a lossy format or a smaller size",
            limit=limit, smallest=len(data), quality=quality,
        )
    smallest = _encode(image, fmt, MIN_QUALITY, kwargs)
    if len(smallest) > limit:
        raise MaxBytesError(
            f"{spec.canonical()!r}: even quality-{MIN_QUALITY} gives {len(smallest)} bytes, over "
            f"maxbytes-{limit}; reduce the canvas size or raise the limit",
            limit=limit, smallest=len(smallest), quality=MIN_QUALITY,
        )
    # binary search for the highest quality that fits
    best, best_q = smallest, MIN_QUALITY
    lo, hi = MIN_QUALITY + 1, quality - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = _encode(image, fmt, mid, kwargs)
        if len(candidate) <= limit:
            best, best_q, lo = candidate, mid, mid + 1
        else:
            hi = mid - 1
    warnings.append(f"{MAXBYTES.head}{limit}: quality lowered from {quality} to {best_q}")
    return best, best_q

"""The built-in operations of the spec language (geometry, appearance, encoding), one class each.

Each class parses and prints its token and contributes its own steps: to the layout transform
(``layout``), the encoder options (``encode``), scenes (``scene_setup``/``scene_compose``) and
the cache inputs it reads (``cache_inputs``). They register on import, which the package's
``__init__`` does first; scene-only operations live in ``scene.py``.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Self

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageDraw, ImageFilter, PngImagePlugin

from cutouts.imaging.shadow import body_place, contact_band, footprint_under, off_body

from .errors import SpecError
from .layout import RIPPLE_ALPHA, LayoutContext, Patch, PlacedProduct, Significant
from .scene import (
    SCENE_TRIM_THRESHOLD,
    SceneContext,
    draw_shadow,
    scene_footprint,
    setup_background,
)
from .spec import (
    FORMATS,
    MAX_PIXELS,
    MAX_SIDE,
    SHADOW_INPUT,
    SLUG_RE,
    BoxSize,
    EncodeOptions,
    FlagOperation,
    IntOperation,
    Operation,
    SideSize,
    VariantSpec,
    _int,
    is_broken_hex,
    library_input,
    register_operation,
)

# --------------------------------------------------------------------------- geometry


@register_operation
@dataclass(frozen=True)
class Trim(Operation):
    """``trim`` / ``trim-T``: crop to the bounding box of alpha >= T (default 8).

    Alpha below T is treated as background everywhere (speckles are removed), so faint model
    noise cannot leave off-white dots in the margins.
    """

    threshold: int = 8
    name: ClassVar[str] = "trim"
    order: ClassVar[int] = 10
    measures_product: ClassVar[bool] = True

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:
        if arg is None:
            return cls()
        return cls(_int(token, arg, "an alpha threshold 1-255", 1, 255))

    def token(self) -> str:
        return "trim" if self.threshold == 8 else f"trim-{self.threshold}"

    def alpha_threshold(self) -> int | None:
        return self.threshold

    def layout(self, ctx: LayoutContext, phase: str) -> None:
        if phase == "box":
            ctx.box = ctx.product


@register_operation
@dataclass(frozen=True)
class Fill(IntOperation):
    """``fill-N``: the PRODUCT's longest side (relative to the canvas) is N % of the canvas.

    Measured on the product alpha only; the shadow never counts. Implies laying out the
    product box (as ``trim`` does); the rest of the canvas becomes equal margins. On a fixed
    canvas the product gets ``max(pw / W, ph / H) = N %`` (rounded up to whole pixels).
    """

    percent: int
    name: ClassVar[str] = "fill"
    order: ClassVar[int] = 20
    measures_product: ClassVar[bool] = True
    bounds: ClassVar[tuple[int, int]] = (10, 100)
    expects: ClassVar[str] = "a product fill percentage 10-100, e.g. fill-85"

    def layout(self, ctx: LayoutContext, phase: str) -> None:
        if phase == "box":
            ctx.box = ctx.product
            bw, bh = ctx.box_size
            pad = max(bw, bh) * (100 / self.percent - 1)
            ctx.extent = (bw + pad, bh + pad, 0.0, 0.0)
            ctx.target_fill = self.percent
        elif phase == "scale":
            # ceil so rounding can never leave the product below the requested percentage
            f = self.percent / 100
            cw, ch = ctx.canvas
            m = ctx.measured
            pw, ph = m[2] - m[0], m[3] - m[1]
            ctx.scale = min(math.ceil(f * cw - 1e-9) / pw, math.ceil(f * ch - 1e-9) / ph) \
                * ctx.boost


@register_operation
@dataclass(frozen=True)
class Margin(Operation):
    """``margin-N`` or ``margin-TOP,RIGHT,BOTTOM,LEFT`` in output pixels."""

    top: int
    right: int
    bottom: int
    left: int
    name: ClassVar[str] = "margin"
    order: ClassVar[int] = 25

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:
        parts = (arg or "").split(",")
        if len(parts) not in (1, 4):
            raise SpecError(f"bad token {token!r}: expected margin-N or margin-T,R,B,L", token)
        values = [_int(token, p, "a margin in pixels 0-5000", 0, 5000) for p in parts]
        if len(values) == 1:
            values *= 4
        return cls(*values)

    def token(self) -> str:
        if self.top == self.right == self.bottom == self.left:
            return f"margin-{self.top}"
        return f"margin-{self.top},{self.right},{self.bottom},{self.left}"

    def layout(self, ctx: LayoutContext, phase: str) -> None:
        if phase == "box":
            ctx.margins = (self.left, self.top, self.right, self.bottom)


@register_operation
@dataclass(frozen=True)
class Canvas(BoxSize):
    """``canvas-WxH``: output exactly W x H; the product is fitted (or filled) and padded."""

    name: ClassVar[str] = "canvas"
    fixes: ClassVar[bool] = True


@register_operation
@dataclass(frozen=True)
class Fit(BoxSize):
    """``fit-WxH``: scale so the whole canvas fits inside W x H (no padding added)."""

    name: ClassVar[str] = "fit"


@register_operation
@dataclass(frozen=True)
class Cover(BoxSize):
    """``cover-WxH``: output W x H, scaled to cover it and centre-cropped (Wagtail ``fill``)."""

    name: ClassVar[str] = "cover"
    fixes: ClassVar[bool] = True
    covers: ClassVar[bool] = True


@register_operation
@dataclass(frozen=True)
class Long(SideSize):
    """``long-N``: the output's longest side is N pixels."""

    name: ClassVar[str] = "long"


@register_operation
@dataclass(frozen=True)
class Short(SideSize):
    """``short-N``: the output's shortest side is N pixels (Etsy: ``short-2000``)."""

    name: ClassVar[str] = "short"
    covers: ClassVar[bool] = True


@register_operation
@dataclass(frozen=True)
class Square(Operation):
    """``square``: pad the canvas to a square; ``square-N``: same as ``canvas-NxN``."""

    size: int | None = None
    name: ClassVar[str] = "square"
    order: ClassVar[int] = 31

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:
        if arg is None:
            return cls()
        size = _int(token, arg, f"a side length 1-{MAX_SIDE}", 1, MAX_SIDE)
        if size * size > MAX_PIXELS:
            raise SpecError(f"bad token {token!r}: more than {MAX_PIXELS} pixels", token)
        return cls(size)

    def token(self) -> str:
        return "square" if self.size is None else f"square-{self.size}"

    def fixed_canvas(self, spec: VariantSpec) -> tuple[int, int] | None:
        if self.size is not None:
            return self.size, self.size
        size = spec.size_operation
        if size is not None and not size.fixes:
            side = size.square_side()
            return side, side
        return None

    def layout(self, ctx: LayoutContext, phase: str) -> None:
        if phase == "canvas":  # runs only when no operation fixed the canvas
            side = max(ctx.canvas)
            ctx.canvas = (side, side)


@register_operation
@dataclass(frozen=True)
class Align(Operation):
    """``align-center`` (alias ``align-centre``), ``align-bottom`` or ``align-bottom-N``.

    Bottom alignment puts the product's lowest pixel N px above the bottom edge (the floor
    margin). Without N the floor margin equals the gap ``fill`` or ``margin`` would leave.
    """

    mode: str = "center"
    floor: int | None = None
    name: ClassVar[str] = "align"
    order: ClassVar[int] = 40

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:
        if arg in ("center", "centre"):
            return cls("center")
        if arg == "bottom":
            return cls("bottom")
        if arg and arg.startswith("bottom-"):
            return cls("bottom", _int(token, arg[7:], "a floor margin 0-5000 px", 0, 5000))
        raise SpecError(
            f"bad token {token!r}: expected align-center, align-bottom or align-bottom-N", token
        )

    def token(self) -> str:
        if self.mode == "center":
            return "align-center"
        return "align-bottom" if self.floor is None else f"align-bottom-{self.floor}"

    def layout(self, ctx: LayoutContext, phase: str) -> None:
        if phase != "place" or self.mode != "bottom":
            return  # centred is the layout's default
        s = ctx.scale
        cw, ch = ctx.canvas
        m, product, box = ctx.measured, ctx.product, ctx.box
        pw, ph = (m[2] - m[0]) * s, (m[3] - m[1]) * s
        if self.floor is not None:
            floor = float(self.floor)
        elif ctx.margins is not None:
            floor = float(ctx.margins[3])
        else:
            floor = max(0.0, min((cw - pw) / 2, (ch - ph) / 2))
        oy = ch - floor - (product[3] - box[1]) * s
        top = oy + (product[1] - box[1]) * s
        if top < 0:  # floor margin too big for this product: keep it inside the canvas
            oy -= top
        ctx.origin_y = oy


# --------------------------------------------------------------------------- appearance


@register_operation
@dataclass(frozen=True)
class Background(Operation):
    """``bg-RRGGBB`` / ``bg-RGB``, ``bg-transparent`` (the default) or ``bg-<slug>``: a
    background from the library, cover-fitted to the canvas (a scene)."""

    color: tuple[int, int, int] | None
    slug: str | None = None
    name: ClassVar[str] = "bg"
    order: ClassVar[int] = 50

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:
        if arg == "transparent":
            return cls(None)
        if arg and re.fullmatch(r"[0-9a-f]{3}", arg):
            arg = "".join(c * 2 for c in arg)
        if arg and re.fullmatch(r"[0-9a-f]{6}", arg):
            return cls((int(arg[0:2], 16), int(arg[2:4], 16), int(arg[4:6], 16)))
        if arg and is_broken_hex(arg):
            raise SpecError(f"bad token {token!r}: bg-RRGGBB needs 6 hex digits (got "
                            f"{len(arg)}), e.g. bg-ffffff", token)
        if arg and SLUG_RE.match(arg):
            return cls(None, arg)
        raise SpecError(
            f"bad token {token!r}: expected bg-RRGGBB (hex, e.g. bg-ffffff), bg-transparent "
            "or bg-<slug> of a library background (letters, digits, '-')",
            token,
        )

    def is_scene(self) -> bool:
        return self.slug is not None

    def cache_inputs(self) -> tuple[str, ...]:
        return (library_input(self.slug),) if self.slug is not None else ()

    def scene_setup(self, ctx: SceneContext) -> None:
        setup_background(self, ctx)

    def token(self) -> str:
        if self.slug is not None:
            return f"bg-{self.slug}"
        if self.color is None:
            return "bg-transparent"
        return "bg-{:02x}{:02x}{:02x}".format(*self.color)


@register_operation
@dataclass(frozen=True)
class Shadow(Operation):
    """``shadow-none`` (default), ``shadow-keep`` (stored shadow layer) or ``shadow-synthetic``;
    in scenes also ``shadow-contact`` and ``shadow-drop`` (cast away from the light)."""

    mode: str
    name: ClassVar[str] = "shadow"
    order: ClassVar[int] = 55
    MODES: ClassVar[tuple[str, ...]] = ("none", "keep", "synthetic", "contact", "drop")

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:
        if arg not in cls.MODES:
            raise SpecError(
                f"bad token {token!r}: expected shadow-none, shadow-keep or shadow-synthetic "
                "(scenes: shadow-contact, shadow-drop)",
                token,
            )
        return cls(arg)

    def token(self) -> str:
        return f"shadow-{self.mode}"

    def is_scene(self) -> bool:
        return self.mode in ("contact", "drop")

    def cache_inputs(self) -> tuple[str, ...]:
        # only the stored layer is an input; the other shadows are drawn from the cutout
        return (SHADOW_INPUT,) if self.mode == "keep" else ()

    def shadow_patch(self, placed: PlacedProduct) -> Patch | None:
        if self.mode == "keep" and placed.stored_shadow is not None:
            return placed.resample_source(placed.stored_shadow)
        if self.mode == "synthetic":
            return synthetic_shadow(placed.alpha, placed.bbox, placed.offset, placed.canvas)
        return None

    def scene_compose(self, ctx: SceneContext, phase: str) -> None:
        if phase == "under" and self.mode != "none":
            draw_shadow("contact" if self.mode == "synthetic" else self.mode, ctx)


SYNTHETIC_SHADOW_OPACITY = 0.45


def synthetic_footprint(alpha: np.ndarray, pbox: tuple[int, int, int, int],
                        at: tuple[int, int] = (0, 0)) -> tuple[int, int, int] | None:
    """Where ``shadow-synthetic`` centres its ellipse under a product laid on ``pbox`` of
    ``alpha`` (uint8; a crop of it from ``at`` holding the footprint band will do): the
    footprint by the cutout's own rule (``imaging.shadow.footprint_under``) of the alpha from
    the ripple cut-off up. The render's layer holds no alpha under it (``render._resample``
    cuts it), the cutout's pixels the export's pre-check reads do
    (:func:`export_shadow_footprints`): one call for both (2026-12-07, foot45)."""
    return footprint_under(alpha, pbox, RIPPLE_ALPHA, at)


def synthetic_shadow(alpha: Image.Image, pbox: tuple[int, int, int, int],
                     offset: tuple[int, int],
                     canvas: tuple[int, int]) -> Patch | None:
    """Soft elliptical contact shadow under the product's footprint (from its alpha): where
    :func:`synthetic_footprint` puts it."""
    # the layer's footprint band only: a copy of the whole layer is output-size, of the
    # product's box 1 byte a product px (lows46, 2026-12-07)
    band = contact_band(pbox)
    foot = synthetic_footprint(np.asarray(alpha.crop(band)), pbox, band[:2])
    if foot is None:  # pragma: no cover - the band holds the product's lowest row
        return None
    width = max(2, foot[1] - foot[0])
    height = max(2, int(width * 0.08))
    blur = max(1, height // 2)
    pad = blur * 3
    cx = offset[0] + (foot[0] + foot[1]) / 2
    cy = offset[1] + pbox[3]
    left, top = int(cx - width / 2) - pad, int(cy - height / 2) - pad
    patch = Image.new("L", (width + 2 * pad, height + 2 * pad), 0)
    ImageDraw.Draw(patch).ellipse(
        (pad, pad, pad + width, pad + height), fill=round(255 * SYNTHETIC_SHADOW_OPACITY)
    )
    patch = patch.filter(ImageFilter.GaussianBlur(blur))
    cx0, cy0 = max(0, left), max(0, top)
    cx1, cy1 = min(canvas[0], left + patch.width), min(canvas[1], top + patch.height)
    if cx1 <= cx0 or cy1 <= cy0:
        return None
    return patch.crop((cx0 - left, cy0 - top, cx1 - left, cy1 - top)), (cx0, cy0)


#: the three ways a render takes the product's pixels when it places a contact shadow
#: (``shadow-synthetic``, a scene's ``shadow-contact``): a trimming render (``trim``, ``fill``)
#: the significant region's alpha that survives the ripple cut-off, in its own box; a render
#: without trim the significant box, under which any alpha that survives the cut-off counts;
#: a scene the significant region's alpha cropped to its box (``scene.render_scene``), its
#: footprint from the cut-off up too (``scene.draw_shadow``, since shadow44)
SHADOW_RENDERS = ("trim", "whole", "scene")


def shadow_render(spec: VariantSpec) -> str | None:
    """Which of :data:`SHADOW_RENDERS` places ``spec``'s contact shadow, or None when it draws
    none or renders at a trim threshold past the ripple cut-off (the export reports it file by
    file). Every render's footprint reads the alpha from ``RIPPLE_ALPHA`` up
    (:func:`synthetic_footprint`, ``scene.scene_footprint``) of a region chosen at
    ``layout.SIGNIFICANT_ALPHA``, so at any threshold up to the cut-off it places the shadow
    by the pixels :func:`export_shadow_off` measures (at ``scene.SCENE_TRIM_THRESHOLD``);
    past it by fewer (2026-12-07, foot45: a scene was checked at the default threshold only)."""
    if spec.is_scene:
        render = "scene" if spec.shadow in ("synthetic", "contact") else None
        threshold = spec.alpha_threshold(SCENE_TRIM_THRESHOLD)
    else:
        render = None if spec.shadow != "synthetic" else (
            "trim" if spec.measures_product else "whole")
        threshold = spec.alpha_threshold(1)
    return render if threshold <= RIPPLE_ALPHA else None


def _box_at(alpha: np.ndarray, level: int) -> tuple[int, int, int, int] | None:
    """The box (x0, y0, x1, y1) of ``alpha >= level`` (uint8) from its row and column maxima:
    no full-size mask or index arrays (a 45 MP cutout's signals are measured inside the
    Apply's memory bound, ``tests/imaging/test_apply_memory.py``)."""
    cols = np.flatnonzero(cv2.reduce(alpha, 0, cv2.REDUCE_MAX)[0] >= level)
    if not cols.size:
        return None
    rows = np.flatnonzero(cv2.reduce(alpha, 1, cv2.REDUCE_MAX)[:, 0] >= level)
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


Footprint = tuple[int, int, int]


def _placed_at(foot: Footprint | None, at: tuple[int, int]) -> Footprint | None:
    """A footprint found on a crop whose corner lies at ``at``, in the cutout's px."""
    return None if foot is None else (at[0] + foot[0], at[0] + foot[1], at[1] + foot[2])


def export_shadow_footprints(alpha: np.ndarray, sig: Significant
                             ) -> dict[str, Footprint | None]:
    """Where each of :data:`SHADOW_RENDERS` centres a contact shadow, in cutout px, from the
    cutout's ``alpha`` (H x W uint8) and its significant region ``sig`` at
    ``scene.SCENE_TRIM_THRESHOLD``: the render's own footprint call
    (:func:`synthetic_footprint`, ``scene.scene_footprint``, what it calls on the layer it
    places) on the pixels it places, as laid out at scale 1. A speck or a faint part the region
    leaves out never moves it: the render pastes it nowhere (or, without trim, outside the
    product's box). The render's resampling is not foreseen (docs/export.md, photo 234)."""
    scene = sig.crop(sig.box)
    trim_box, scene_box = _box_at(sig.patch, RIPPLE_ALPHA), _box_at(scene, 1)
    return {
        # trim: the region's patch is resampled whole; its box is what survives the ripple
        # cut-off (``render._resample``'s product box)
        "trim": None if trim_box is None else _placed_at(
            synthetic_footprint(sig.patch, trim_box), sig.window[:2]),
        # without trim: the product's box is the significant box; the whole alpha is pasted
        "whole": synthetic_footprint(alpha, sig.box),
        # a scene: the region's alpha cropped to its box, the layer's box any alpha in it
        # (``SceneContext.product_box``)
        "scene": None if scene_box is None else _placed_at(
            scene_footprint(scene, scene_box), sig.box[:2]),
    }


#: the product's body is found on the cutout reduced to this long side at most (a 45 MP
#: cutout's labels alone would be 180 MB; its place moves by a fraction of a percent)
BODY_SIDE = 1024


def export_shadow_off(alpha: np.ndarray, sig: Significant | None) -> dict[str, float]:
    """A finished cutout's ``signals["export_shadow_off"]``: per render of
    :data:`SHADOW_RENDERS`, how far the contact shadow it draws lies from the product's
    largest opaque part (alpha >= 128) alone (``imaging.shadow.off_body``, the measure of the
    review's *Shadow off the product*), from the footprint it places the shadow by
    (:func:`export_shadow_footprints`). Empty without a product."""
    if sig is None:
        return {}
    h, w = alpha.shape
    f = max(1.0, max(h, w) / BODY_SIDE)
    small = alpha if f == 1.0 else cv2.resize(
        alpha, (max(1, round(w / f)), max(1, round(h / f))), interpolation=cv2.INTER_AREA)
    body = body_place(small >= 128)
    if body is not None and f != 1.0:
        sx, sy = w / small.shape[1], h / small.shape[0]
        # the reduced pixel's centre column and lowest row, in cutout px
        body = ((body[0]) * sx, round((body[1] + 1) * sy) - 1, round(body[2] * max(sx, sy)))
    return {render: round(off_body(body, foot), 4)
            for render, foot in export_shadow_footprints(alpha, sig).items()}


# --------------------------------------------------------------------------- encoding

EXIF_ORIENTATION = 0x0112


#: creation date written into the sRGB profile's header (year, month, day, h, m, s)
ICC_PROFILE_DATE = (2026, 1, 1, 0, 0, 0)


@lru_cache(maxsize=1)
def srgb_icc_profile() -> bytes:
    """Bytes of LittleCMS's built-in sRGB profile (description ``sRGB built-in``).

    LittleCMS stamps the profile with the time it is made, so without a fixed date every
    process would encode different bytes for the same render and rendition cache key."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data[24:36] = struct.pack(">6H", *ICC_PROFILE_DATE)  # ICC header: dateTimeNumber
    return bytes(data)


@register_operation
@dataclass(frozen=True)
class Format(Operation):
    """``format-jpeg`` (alias ``jpg``), ``format-png`` (default), ``format-webp``/``avif``.

    The format's own encoder settings (:data:`FORMAT_SAVE_OPTIONS`, :data:`DEFAULT_QUALITY`)
    are where the encoder starts, so a spec without this operation encodes as PNG."""

    fmt: str
    name: ClassVar[str] = "format"
    order: ClassVar[int] = 60

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:
        arg = "jpeg" if arg == "jpg" else arg
        if arg not in FORMATS:
            raise SpecError(
                f"bad token {token!r}: expected one of format-{', format-'.join(FORMATS)}", token
            )
        return cls(arg)

    def token(self) -> str:
        return f"format-{self.fmt}"


@register_operation
@dataclass(frozen=True)
class Quality(IntOperation):
    """``quality-N`` (1-100) for JPEG, WebP and AVIF; the starting point for ``maxbytes``."""

    value: int
    name: ClassVar[str] = "quality"
    order: ClassVar[int] = 61
    bounds: ClassVar[tuple[int, int]] = (1, 100)
    expects: ClassVar[str] = "a quality 1-100"

    def encode(self, options: EncodeOptions) -> None:
        options.quality = self.value


@register_operation
@dataclass(frozen=True)
class Lossless(FlagOperation):
    """``lossless``: lossless WebP (for masters)."""

    name: ClassVar[str] = "lossless"
    order: ClassVar[int] = 62

    def encode(self, options: EncodeOptions) -> None:
        options.save["lossless"] = True
        options.quality = None


@register_operation
@dataclass(frozen=True)
class Srgb(FlagOperation):
    """``srgb``: embed an sRGB ICC profile (input pixels are already sRGB)."""

    name: ClassVar[str] = "srgb"
    order: ClassVar[int] = 70

    def encode(self, options: EncodeOptions) -> None:
        options.save["icc_profile"] = srgb_icc_profile()
        options.icc = "sRGB"


@register_operation
@dataclass(frozen=True)
class MaxBytes(IntOperation):
    """``maxbytes-N``: re-encode with lower quality until the file is at most N bytes."""

    limit: int
    name: ClassVar[str] = "maxbytes"
    order: ClassVar[int] = 80
    bounds: ClassVar[tuple[int, int]] = (1024, 1_000_000_000)
    expects: ClassVar[str] = "a byte limit 1024-1000000000"

    def encode(self, options: EncodeOptions) -> None:
        options.max_bytes = self.limit


@register_operation
@dataclass(frozen=True)
class Dpi(IntOperation):
    """``dpi-N``: resolution metadata (JPEG and PNG only)."""

    value: int
    name: ClassVar[str] = "dpi"
    order: ClassVar[int] = 85
    bounds: ClassVar[tuple[int, int]] = (1, 2400)
    expects: ClassVar[str] = "a resolution 1-2400 dpi"

    def encode(self, options: EncodeOptions) -> None:
        options.save["dpi"] = (self.value, self.value)
        options.dpi = self.value


@register_operation
@dataclass(frozen=True)
class KeepMeta(FlagOperation):
    """``keepmeta``: keep the source's EXIF/XMP (orientation reset). Default: strip everything."""

    name: ClassVar[str] = "keepmeta"
    order: ClassVar[int] = 90

    def encode(self, options: EncodeOptions) -> None:
        options.metadata_kept = True
        meta = options.source_meta
        if not meta:
            return
        exif = meta.get("exif")
        if exif:
            if not isinstance(exif, Image.Exif):
                raw, exif = exif, Image.Exif()
                exif.load(raw)
            if EXIF_ORIENTATION in exif:
                exif[EXIF_ORIENTATION] = 1  # pixels are already upright
            options.save["exif"] = exif.tobytes()
        xmp = meta.get("xmp")
        if xmp:
            xmp = xmp.encode() if isinstance(xmp, str) else bytes(xmp)
            if options.fmt == "png":  # Pillow's PNG writer has no ``xmp`` option: use iTXt
                info = PngImagePlugin.PngInfo()
                info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8", "replace"))
                options.save["pnginfo"] = info
            else:
                options.save["xmp"] = xmp

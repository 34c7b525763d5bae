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

import numpy as np
from PIL import Image, ImageCms, ImageDraw, ImageFilter, PngImagePlugin

from cutouts.imaging.shadow import contact_band_top, footprint

from .errors import SpecError
from .layout import LayoutContext, Patch, PlacedProduct
from .scene import SceneContext, draw_shadow, setup_background
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


def synthetic_shadow(alpha: Image.Image, pbox: tuple[int, int, int, int],
                     offset: tuple[int, int],
                     canvas: tuple[int, int]) -> Patch | None:
    """Soft elliptical contact shadow under the product's footprint (from its alpha).

    The footprint is the cutout's own rule (``imaging.shadow.footprint``): the columns the
    product's lowest rows cover, here any alpha inside its significant box.
    """
    x0, y0, x1, y1 = pbox
    band = footprint(np.asarray(alpha.crop((x0, contact_band_top(y0, y1), x1, y1))) > 0)
    if band is None:  # pragma: no cover - the band holds the product's lowest row
        return None
    width = max(2, band[1] - band[0])
    height = max(2, int(width * 0.08))
    blur = max(1, height // 2)
    pad = blur * 3
    cx = offset[0] + x0 + (band[0] + band[1]) / 2
    cy = offset[1] + y1
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

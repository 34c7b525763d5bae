"""Render a cutout (RGBA, sRGB) into one marketplace variant described by a :class:`VariantSpec`.

Pipeline (fixed order, see ``spec.py``): threshold/trim -> layout (fill, margins, size, square,
alignment) -> premultiplied resample of only the visible source region -> shadow -> composite on
the background -> encode (format, quality, sRGB ICC, DPI, metadata) -> max-bytes loop. Scene
specs (library backgrounds, logos, placement) are composed by ``scene.py`` and encoded here.

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
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageCms, ImageDraw, ImageFilter, PngImagePlugin

from .errors import MaxBytesError, RenderError
from .layout import significant_region
from .scene import render_scene
from .spec import EXTENSIONS, FORMATS, MIME_TYPES, VariantSpec, as_spec

DEFAULT_QUALITY = {"jpeg": 90, "webp": 90, "avif": 80}
#: ``maxbytes`` never goes below this quality; past it the render fails with MaxBytesError.
MIN_QUALITY = 30
SYNTHETIC_SHADOW_OPACITY = 0.45
#: shadows stop this far from the frame (px, or fraction of the short side if larger)
SHADOW_SAFE_PX = 24
SHADOW_SAFE_FRACTION = 0.02
#: output alpha below this is zeroed after resampling (Lanczos ripple outside hard edges)
RIPPLE_ALPHA = 16
#: resample passes allowed to reach the requested fill (see render_variant)
FILL_ATTEMPTS = 4
EXIF_ORIENTATION = 0x0112


@lru_cache(maxsize=1)
def srgb_icc_profile() -> bytes:
    """Bytes of LittleCMS's built-in sRGB profile (description ``sRGB built-in``)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@dataclass(frozen=True)
class RenderedVariant:
    data: bytes
    format: str  # spec format name: jpeg, png, webp, avif
    width: int
    height: int
    #: (x0, y0, x1, y1), x1/y1 exclusive, of the PRODUCT (alpha > 0) in the output; no shadow
    product_bbox: tuple[int, int, int, int]
    #: longest product side relative to the canvas, in percent: max(pw / W, ph / H) * 100
    fill_pct: float | None
    metadata: dict = field(default_factory=dict)

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


@dataclass(frozen=True)
class _Layout:
    canvas: tuple[int, int]
    scale: float
    origin: tuple[float, float]  # output position of the layout box's top-left corner
    box: tuple[int, int, int, int]  # layout box in source pixels


def _layout(spec: VariantSpec, size: tuple[int, int], product: tuple[int, int, int, int],
            trimmed: bool, boost: float = 1.0,
            fill_product: tuple[int, int, int, int] | None = None) -> _Layout:
    """Canvas, scale and placement. ``boost`` enlarges a fill scale and ``fill_product`` is
    the box the fill scale is computed from, when not ``product`` (see render_variant)."""
    ops = spec  # VariantSpec supports ``in`` and ``get``
    fill = ops.get("fill")
    margin = ops.get("margin")
    ml, mt, mr, mb = (
        (margin.left, margin.top, margin.right, margin.bottom) if margin else (0, 0, 0, 0)
    )
    box = product if (trimmed or fill) else (0, 0, size[0], size[1])
    bw, bh = box[2] - box[0], box[3] - box[1]
    pw0, ph0 = product[2] - product[0], product[3] - product[1]
    fixed = spec.fixed_canvas()

    if fixed:
        cw, ch = fixed
    else:
        if fill:
            pad = max(bw, bh) * (100 / fill.percent - 1)
            ax, ay, bx, by = bw + pad, bh + pad, 0.0, 0.0
        else:
            ax, ay, bx, by = float(bw), float(bh), float(ml + mr), float(mt + mb)
        if "long" in ops:
            n = ops.get("long").size
            s = min((n - bx) / ax, (n - by) / ay)
        elif "short" in ops:
            n = ops.get("short").size
            s = max((n - bx) / ax, (n - by) / ay)
        elif "fit" in ops:
            fit = ops.get("fit")
            s = min((fit.width - bx) / ax, (fit.height - by) / ay)
        else:
            s = 1.0
        if s <= 0:
            raise RenderError(f"margins leave no room for the product in {spec.canonical()!r}")
        cw, ch = max(1, round(ax * s + bx)), max(1, round(ay * s + by))
        if "square" in ops:
            cw = ch = max(cw, ch)
        if cw * ch > 100_000_000:
            raise RenderError(f"output of {cw}x{ch} px is too large; add a size operation")

    if fill:
        # ceil so rounding can never leave the product below the requested percentage
        f = fill.percent / 100
        if fill_product is not None:
            pw0, ph0 = fill_product[2] - fill_product[0], fill_product[3] - fill_product[1]
        s = min(math.ceil(f * cw - 1e-9) / pw0, math.ceil(f * ch - 1e-9) / ph0) * boost
    elif "cover" in ops:
        s = max((cw - ml - mr) / bw, (ch - mt - mb) / bh)
    else:
        s = min((cw - ml - mr) / bw, (ch - mt - mb) / bh)
    if s <= 0:
        raise RenderError(f"margins leave no room for the product in {spec.canonical()!r}")

    ox = ml + ((cw - ml - mr) - bw * s) / 2
    align = ops.get("align")
    if align is not None and align.mode == "bottom":
        pw, ph = pw0 * s, ph0 * s
        if align.floor is not None:
            floor = float(align.floor)
        elif margin:
            floor = float(mb)
        else:
            floor = max(0.0, min((cw - pw) / 2, (ch - ph) / 2))
        oy = ch - floor - (product[3] - box[1]) * s
        top = oy + (product[1] - box[1]) * s
        if top < 0:  # floor margin too big for this product: keep it inside the canvas
            oy -= top
    else:
        oy = mt + ((ch - mt - mb) - bh * s) / 2
    return _Layout((cw, ch), s, (ox, oy), box)


def _threshold_lut(t: int) -> list[int]:
    return [0] * t + list(range(t, 256))


def _synthetic_shadow(alpha: Image.Image, pbox: tuple[int, int, int, int],
                      offset: tuple[int, int],
                      canvas: tuple[int, int]) -> tuple[Image.Image, tuple[int, int]] | None:
    """Soft elliptical contact shadow under the product's footprint (from its alpha).

    The footprint is the horizontal extent of the lowest 5 % of the product's rows.
    """
    x0, y0, x1, y1 = pbox
    band = alpha.crop((x0, max(y0, y1 - max(1, (y1 - y0) // 20)), x1, y1)).getbbox()
    if band is None:  # pragma: no cover - the band holds the product's lowest row
        return None
    width = max(2, band[2] - band[0])
    height = max(2, int(width * 0.08))
    blur = max(1, height // 2)
    pad = blur * 3
    cx = offset[0] + x0 + (band[0] + band[2]) / 2
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


def _clip_to_safe_area(patch: tuple[Image.Image, tuple[int, int]], canvas: tuple[int, int]
                       ) -> tuple[Image.Image, tuple[int, int]] | None:
    """Keep shadows off the image frame, which marketplaces require to be pure background."""
    m = min(canvas)
    inset = round(min(max(SHADOW_SAFE_PX, m * SHADOW_SAFE_FRACTION), m * 0.1))
    sp, (px, py) = patch
    x0, y0 = max(px, inset), max(py, inset)
    x1, y1 = min(px + sp.width, canvas[0] - inset), min(py + sp.height, canvas[1] - inset)
    if x1 <= x0 or y1 <= y0:
        return None
    return sp.crop((x0 - px, y0 - py, x1 - px, y1 - py)), (x0, y0)


def _resample(rgba: Image.Image, alpha: Image.Image | None, lay: _Layout, threshold: int):
    """Premultiplied resample of the visible source region onto the layout.

    ``alpha`` is the thresholded alpha (None when no threshold applies). Returns the layer
    (RGBA, output size of the visible region), its alpha after the ripple cut-off, the
    product box in the layer, the layer's position on the canvas and the source crop/box
    used (for resampling the shadow layer the same way).
    """
    cw, ch = lay.canvas
    s = lay.scale
    ox, oy = lay.origin
    bx0, by0 = lay.box[0], lay.box[1]
    w0, h0 = rgba.size

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

    region = rgba.crop(crop)
    if alpha is not None:
        region.putalpha(alpha.crop(crop))
    premult = region.convert("RGBa")  # premultiply BEFORE resampling: no fringe
    del region
    layer = premult.resize(out_size, Image.Resampling.LANCZOS, box=rel_box, reducing_gap=gap)
    del premult
    # drop the faint ripple Lanczos leaves outside hard edges (and sub-threshold coverage);
    # un-premultiplying afterwards is exact where it matters (alpha 0 -> background, 255 -> colour)
    layer_alpha = layer.getchannel(3).point(_threshold_lut(max(threshold, RIPPLE_ALPHA)))
    layer = layer.convert("RGBA")
    layer.putalpha(layer_alpha)

    pbox = layer_alpha.getbbox()
    if pbox is None:
        raise RenderError("the product vanished after resampling (too small for this size)")
    return layer, layer_alpha, pbox, (ux0, uy0), crop, rel_box, out_size, gap


def render_variant(
    rgba: Image.Image,
    spec: str | VariantSpec,
    shadow: Image.Image | None = None,
    source_meta: dict | None = None,
    assets: dict | None = None,
) -> RenderedVariant:
    """Render ``rgba`` (an RGBA cutout in sRGB) as the variant ``spec``.

    ``shadow`` is the cutout's stored shadow layer (mode ``L``, same size, 255 = full black),
    used only with ``shadow-keep``. ``source_meta`` may hold ``exif`` (bytes or ``Image.Exif``)
    and ``xmp`` (bytes/str); it is written only with ``keepmeta``.
    ``assets`` maps library slugs to :class:`~cutouts.variants.scene.SceneAsset` for scene
    specs (``bg-<slug>``, ``logo-<slug>-<corner>``).
    Raises :class:`RenderError` (or :class:`MaxBytesError`).
    """
    spec = as_spec(spec)
    warnings: list[str] = []
    if rgba.mode != "RGBA":
        rgba = rgba.convert("RGBA")
    if rgba.width < 1 or rgba.height < 1:
        raise RenderError("empty image")
    shadow_mode = spec.shadow
    if shadow_mode == "keep":
        # No layer is not a problem: shadow-keep keeps the shadow *if* the cutout has one
        # (metadata "shadow" says "none"), so presets with it do not warn on every cutout.
        if shadow is None:
            pass
        elif shadow.size != rgba.size:
            raise RenderError(f"shadow layer is {shadow.size}, cutout is {rgba.size}")
        elif shadow.mode != "L":
            shadow = shadow.convert("L")

    if spec.is_scene:
        return _render_scene(rgba, spec, shadow, source_meta, assets, warnings)
    trim = spec.get("trim")
    threshold = trim.threshold if trim else 1
    alpha = rgba.getchannel("A")
    cleaned = False
    if trim is not None or "fill" in spec:
        # Lay out what a person sees: faint stray alpha and far specks never move the box.
        sig = significant_region(np.asarray(alpha), threshold)
        if sig is None:
            raise RenderError(
                f"the cutout has no pixel with alpha >= {threshold}: nothing to render")
        alpha, product, cleaned = Image.fromarray(sig.alpha), sig.box, True
        if sig.dropped_parts:
            warnings.append(f"{sig.dropped_parts} detached part(s) far from the product were "
                            "left out of the layout")
    else:
        if threshold > 1:
            alpha = alpha.point(_threshold_lut(threshold))
        product = alpha.getbbox()
    if product is None:
        raise RenderError(f"the cutout has no pixel with alpha >= {threshold}: nothing to render")

    fill = spec.get("fill")
    boost = 1.0
    fill_product = None
    if fill is not None and threshold < RIPPLE_ALPHA:
        lay = _layout(spec, rgba.size, product, trimmed=trim is not None)
        if lay.scale > 1:
            # Upscaling keeps the soft rim's alpha, and the ripple cut-off below drops what is
            # under RIPPLE_ALPHA: size the product by what will survive (saves a second pass).
            fill_product = alpha.point(_threshold_lut(RIPPLE_ALPHA)).getbbox() or product
    for _attempt in range(FILL_ATTEMPTS):
        lay = _layout(spec, rgba.size, product, trimmed=trim is not None, boost=boost,
                      fill_product=fill_product)
        cw, ch = lay.canvas
        s = lay.scale
        placed = _resample(rgba, alpha if (threshold > 1 or cleaned) else None, lay, threshold)
        layer, layer_alpha, pbox, (ux0, uy0), crop, rel_box, out_size, gap = placed
        fill_pct = round(max((pbox[2] - pbox[0]) / cw, (pbox[3] - pbox[1]) / ch) * 100, 3)
        if fill is None or fill_pct >= fill.percent:
            break
        # The resampled edge lost coverage (the ripple cut-off shaves the soft rim of an
        # upscaled product, faint pixels vanish): scale up by what is missing, plus one
        # output pixel, and resample again.
        boost *= (fill.percent / 100 + 1 / min(cw, ch)) / (fill_pct / 100)
    else:
        raise RenderError(f"could not reach fill-{fill.percent:g} (got {fill_pct:.2f} %)")
    del alpha
    w0, h0 = rgba.size
    product_bbox = (pbox[0] + ux0, pbox[1] + uy0, pbox[2] + ux0, pbox[3] + uy0)

    shadow_patch: tuple[Image.Image, tuple[int, int]] | None = None
    if shadow_mode == "keep" and shadow is not None:
        sp = shadow.crop(crop).resize(
            out_size, Image.Resampling.BILINEAR, box=rel_box, reducing_gap=gap
        )
        shadow_patch = (sp, (ux0, uy0))
    elif shadow_mode == "synthetic":
        shadow_patch = _synthetic_shadow(layer_alpha, pbox, (ux0, uy0), (cw, ch))
    del layer_alpha
    if shadow_patch is not None:
        shadow_patch = _clip_to_safe_area(shadow_patch, (cw, ch))

    bg = spec.background
    if bg is not None:
        image = Image.new("RGB", (cw, ch), bg)
        if shadow_patch is not None:
            sp, (px, py) = shadow_patch
            image.paste((0, 0, 0), (px, py, px + sp.width, py + sp.height), mask=sp)
        # paste-with-mask blends src*a + dst*(1-a): exactly the background where alpha is 0
        image.paste(layer, (ux0, uy0), mask=layer)
    else:
        image = Image.new("RGBA", (cw, ch), (0, 0, 0, 0))
        if shadow_patch is not None:
            sp, (px, py) = shadow_patch
            black = Image.new("RGBA", sp.size, (0, 0, 0, 0))
            black.putalpha(sp)
            image.paste(black, (px, py))
            image.alpha_composite(layer, (ux0, uy0))
        else:
            image.paste(layer, (ux0, uy0))
        # no leftover colour under fully transparent pixels (ripple we zeroed, hidden matte)
        arr = np.array(image)
        arr[arr[..., 3] == 0] = 0
        image = Image.fromarray(arr)
        del arr
    del layer

    data, quality = _encode_with_limit(image, spec, source_meta, warnings)
    meta = {
        "spec": spec.canonical(),
        "source_size": (w0, h0),
        "source_product_bbox": product,
        "scale": round(s, 6),
        "quality": quality,
        "icc": "sRGB" if "srgb" in spec else None,
        "dpi": spec.get("dpi").value if "dpi" in spec else None,
        "shadow": shadow_mode if shadow_patch is not None else "none",
        "metadata_kept": "keepmeta" in spec,
        "warnings": warnings,
    }
    return RenderedVariant(data, spec.format, cw, ch, product_bbox, fill_pct, meta)


def _render_scene(rgba, spec, shadow, source_meta, assets, warnings) -> RenderedVariant:
    image, box, info = render_scene(rgba, spec, shadow, assets, warnings)
    cw, ch = image.size
    fill_pct = round(max((box[2] - box[0]) / cw, (box[3] - box[1]) / ch) * 100, 3)
    data, quality = _encode_with_limit(image, spec, source_meta, warnings)
    meta = {
        "spec": spec.canonical(), "source_size": rgba.size, "scale": info.get("scale"),
        "quality": quality, "icc": "sRGB" if "srgb" in spec else None,
        "dpi": spec.get("dpi").value if "dpi" in spec else None,
        "shadow": info.get("shadow", "none"), "metadata_kept": "keepmeta" in spec,
        "scene": info, "warnings": warnings,
    }
    return RenderedVariant(data, spec.format, cw, ch, box, fill_pct, meta)


def _save_kwargs(spec: VariantSpec, source_meta: dict | None) -> dict:
    fmt = spec.format
    kwargs: dict = {}
    if "srgb" in spec:
        kwargs["icc_profile"] = srgb_icc_profile()
    if "dpi" in spec:
        d = spec.get("dpi").value
        kwargs["dpi"] = (d, d)
    if "keepmeta" in spec and source_meta:
        exif = source_meta.get("exif")
        if exif:
            if not isinstance(exif, Image.Exif):
                raw, exif = exif, Image.Exif()
                exif.load(raw)
            if EXIF_ORIENTATION in exif:
                exif[EXIF_ORIENTATION] = 1  # pixels are already upright
            kwargs["exif"] = exif.tobytes()
        xmp = source_meta.get("xmp")
        if xmp:
            xmp = xmp.encode() if isinstance(xmp, str) else bytes(xmp)
            if fmt == "png":  # Pillow's PNG writer has no ``xmp`` option: use the iTXt chunk
                info = PngImagePlugin.PngInfo()
                info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8", "replace"))
                kwargs["pnginfo"] = info
            else:
                kwargs["xmp"] = xmp
    if fmt == "png":
        kwargs["compress_level"] = 6
    elif fmt == "webp":
        kwargs["method"] = 4
        if "lossless" in spec:
            kwargs["lossless"] = True
    elif fmt == "avif":
        kwargs["speed"] = 8
    return kwargs


def _encode(image: Image.Image, fmt: str, quality: int | None, kwargs: dict) -> bytes:
    buf = io.BytesIO()
    params = dict(kwargs)
    if quality is not None:
        params["quality"] = quality
    image.save(buf, FORMATS[fmt], **params)
    return buf.getvalue()


def _encode_with_limit(image: Image.Image, spec: VariantSpec, source_meta: dict | None,
                       warnings: list[str]) -> tuple[bytes, int | None]:
    fmt = spec.format
    kwargs = _save_kwargs(spec, source_meta)
    lossy = fmt in DEFAULT_QUALITY and "lossless" not in spec
    quality = (spec.get("quality").value if "quality" in spec else DEFAULT_QUALITY[fmt]) \
        if lossy else None
    data = _encode(image, fmt, quality, kwargs)
    limit_op = spec.get("maxbytes")
    if limit_op is None or len(data) <= limit_op.limit:
        return data, quality
    limit = limit_op.limit
    if fmt == "jpeg":  # worth its cost only when we are fighting for bytes
        kwargs["optimize"] = True
        data = _encode(image, fmt, quality, kwargs)
        if len(data) <= limit:
            return data, quality

    if not lossy or quality <= MIN_QUALITY:
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
    warnings.append(f"maxbytes-{limit}: quality lowered from {quality} to {best_q}")
    return best, best_q

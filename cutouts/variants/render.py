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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from .errors import MaxBytesError, RenderError
from .layout import Box, Layout, Patch, PlacedProduct, plan_layout, significant_region
from .operations import srgb_icc_profile as srgb_icc_profile
from .scene import SceneAsset, render_scene
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

#: ``maxbytes`` never goes below this quality; past it the render fails with MaxBytesError.
MIN_QUALITY = 30
#: shadows stop this far from the frame (px, or fraction of the short side if larger)
SHADOW_SAFE_PX = 24
SHADOW_SAFE_FRACTION = 0.02
#: output alpha below this is zeroed after resampling (Lanczos ripple outside hard edges)
RIPPLE_ALPHA = 16
#: resample passes allowed to reach the requested fill (see render_variant)
FILL_ATTEMPTS = 4


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
    """Keep shadows off the image frame, which marketplaces require to be pure background."""
    m = min(canvas)
    inset = round(min(max(SHADOW_SAFE_PX, m * SHADOW_SAFE_FRACTION), m * 0.1))
    sp, (px, py) = patch
    x0, y0 = max(px, inset), max(py, inset)
    x1, y1 = min(px + sp.width, canvas[0] - inset), min(py + sp.height, canvas[1] - inset)
    if x1 <= x0 or y1 <= y0:
        return None
    return sp.crop((x0 - px, y0 - py, x1 - px, y1 - py)), (x0, y0)


def _resample(rgba: Image.Image, alpha: Image.Image | None, lay: Layout, threshold: int
              ) -> tuple[Image.Image, Image.Image, Box, tuple[int, int], Box,
                         tuple[float, float, float, float], tuple[int, int], float | None]:
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
    source_meta: dict[str, Any] | None = None,
    assets: dict[str, SceneAsset] | None = None,
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
    if SHADOW_INPUT not in spec.cache_inputs:
        shadow = None  # an operation that reads the stored layer declares it (shadow-keep)
    # No layer is not a problem: shadow-keep keeps the shadow *if* the cutout has one
    # (metadata "shadow" says "none"), so presets with it do not warn on every cutout.
    elif shadow is None:
        pass
    elif shadow.size != rgba.size:
        raise RenderError(f"shadow layer is {shadow.size}, cutout is {rgba.size}")
    elif shadow.mode != "L":
        shadow = shadow.convert("L")

    if spec.is_scene:
        return _render_scene(rgba, spec, shadow, source_meta, assets, warnings)
    threshold = spec.alpha_threshold(1)
    alpha = rgba.getchannel("A")
    cleaned = False
    if spec.measures_product:
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
        found = alpha.getbbox()
        if found is None:
            raise RenderError(
                f"the cutout has no pixel with alpha >= {threshold}: nothing to render")
        product = found

    boost = 1.0
    measured = None
    lay = plan_layout(spec, rgba.size, product)
    target = lay.target_fill
    if target is not None and threshold < RIPPLE_ALPHA and lay.scale > 1:
        # Upscaling keeps the soft rim's alpha, and the ripple cut-off below drops what is
        # under RIPPLE_ALPHA: size the product by what will survive (saves a second pass).
        measured = alpha.point(_threshold_lut(RIPPLE_ALPHA)).getbbox() or product
    for _attempt in range(FILL_ATTEMPTS):
        lay = plan_layout(spec, rgba.size, product, boost=boost, measured=measured)
        cw, ch = lay.canvas
        s = lay.scale
        resampled = _resample(rgba, alpha if (threshold > 1 or cleaned) else None, lay,
                              threshold)
        layer, layer_alpha, pbox, (ux0, uy0), crop, rel_box, out_size, gap = resampled
        fill_pct = round(max((pbox[2] - pbox[0]) / cw, (pbox[3] - pbox[1]) / ch) * 100, 3)
        if target is None or fill_pct >= target:
            break
        # The resampled edge lost coverage (the ripple cut-off shaves the soft rim of an
        # upscaled product, faint pixels vanish): scale up by what is missing, plus one
        # output pixel, and resample again.
        boost *= (target / 100 + 1 / min(cw, ch)) / (fill_pct / 100)
    else:
        raise RenderError(f"could not reach fill-{target:g} (got {fill_pct:.2f} %)")
    del alpha
    w0, h0 = rgba.size
    product_bbox = (pbox[0] + ux0, pbox[1] + uy0, pbox[2] + ux0, pbox[3] + uy0)

    placed = PlacedProduct(layer_alpha, pbox, (ux0, uy0), (cw, ch), shadow, crop, rel_box,
                           out_size, gap)
    shadow_patch: Patch | None = None
    for op in spec.operations:
        shadow_patch = op.shadow_patch(placed) or shadow_patch
    del layer_alpha, placed
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

    options = encode_options(spec, source_meta)
    data, quality = _encode_with_limit(image, spec, options, warnings)
    meta = {
        "spec": spec.canonical(),
        "source_size": (w0, h0),
        "source_product_bbox": product,
        "scale": round(s, 6),
        "quality": quality,
        "icc": options.icc,
        "dpi": options.dpi,
        "shadow": spec.shadow if shadow_patch is not None else "none",
        "metadata_kept": options.metadata_kept,
        "warnings": warnings,
    }
    return RenderedVariant(data, spec.format, cw, ch, product_bbox, fill_pct, meta)


def _render_scene(rgba: Image.Image, spec: VariantSpec, shadow: Image.Image | None,
                  source_meta: dict[str, Any] | None, assets: dict[str, SceneAsset] | None,
                  warnings: list[str]) -> RenderedVariant:
    image, box, info = render_scene(rgba, spec, shadow, assets, warnings)
    cw, ch = image.size
    fill_pct = round(max((box[2] - box[0]) / cw, (box[3] - box[1]) / ch) * 100, 3)
    options = encode_options(spec, source_meta)
    data, quality = _encode_with_limit(image, spec, options, warnings)
    meta = {
        "spec": spec.canonical(), "source_size": rgba.size, "scale": info.get("scale"),
        "quality": quality, "icc": options.icc, "dpi": options.dpi,
        "shadow": info.get("shadow", "none"), "metadata_kept": options.metadata_kept,
        "scene": info, "warnings": warnings,
    }
    return RenderedVariant(data, spec.format, cw, ch, box, fill_pct, meta)


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
    warnings.append(f"maxbytes-{limit}: quality lowered from {quality} to {best_q}")
    return best, best_q

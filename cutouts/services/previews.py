"""Preview images: the review card's cached downscaled images and the retouch preview."""

from __future__ import annotations

import hashlib
import io
import logging
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from PIL import Image

from catalog import upload_gate
from catalog.lru import LruCache

from ..errors import PresetError, ReviewError
from ..imaging.encode import downsized, png_bytes, png_image_bytes
from ..imaging.mesh import over_mesh
from ..models import Cutout
from ..variants.spec import VariantSpec
from .retouch import cutout_require_retouchable, retouch_apply, retouch_reduce, strokes_parse

logger = logging.getLogger(__name__)

PREVIEW_MAX = 1024  # long side of the card's images; previews are computed at this size
# (the retouch engine's graph-cut size, imaging.retouch.WORK_MAX: a test holds them equal)


# --- retouch preview: the card-size result of the strokes, in the web process --------------


@dataclass(frozen=True)
class RetouchBase:
    """A version at preview size: the photo, its cutout and the scale from full size."""

    rgb: np.ndarray  # (h, w, 3) uint8
    rgba: np.ndarray  # (h, w, 4) uint8
    scale: float  # preview pixels per working-copy pixel (the engine's stroke mapping)


@dataclass(frozen=True)
class RetouchPreview:
    png: bytes
    width: int
    height: int
    timings: dict
    mesh: bool = False  # the last stroke is a detail stroke over a mesh (imaging.mesh)
    # the last stroke is a keep click far from the cutout: what it added (RetouchResult)
    far_keep: str = ""
    # the last stroke is a subject click: "none" or "parts:N" (RetouchResult.subject)
    subject: str = ""
    # the last stroke is a keep (remove) click that gave back what earlier painted remove
    # (keep) strokes took (added) beyond their brushes: "remove:N" ("keep:N"), N preview px
    # (RetouchResult.given_back)
    given_back: str = ""


@dataclass(frozen=True)
class RetouchWords:
    """The engine's words on a stroke list's newest stroke (``RetouchResult``'s fields of the
    same names), for the editor's status line: empty when they do not apply."""

    far_keep: str = ""  # a keep click far from the cutout: what it added
    subject: str = ""  # a subject click: "none" or "parts:N"
    given_back: str = ""  # a click that gave back what earlier strokes changed: "remove:N"


_BASES: LruCache[tuple[int, str], RetouchBase] = LruCache(8)  # per web process; ~6 MB each


def _retouch_base(cutout: Cutout) -> RetouchBase:
    """The reduced arrays a preview starts from: this process's memory, else their lossless
    copy in storage, else made from the version's full-size files (once per version)."""
    return _BASES.get((cutout.pk, cutout.run_token), lambda: _build_retouch_base(cutout))


def _retouch_base_names(cutout: Cutout, token: str = "") -> tuple[str, str]:
    return (_preview_name(cutout, "retouch-photo", PREVIEW_MAX, "png", token),
            _preview_name(cutout, "retouch-cutout", PREVIEW_MAX, "png", token))


def cutout_retouch_base_store(*, cutout: Cutout, token: str,
                              base: tuple[np.ndarray, np.ndarray], saved: list[str]) -> None:
    """Store run ``token``'s retouch base (``engine.retouch_copy``: the photo and cutout as
    a retouch reduces them) where the first preview looks for it, appending the names to
    ``saved``. A cache, as the card images: a failure is logged and the first preview makes
    it from the full-size files instead."""
    storage = storages["default"]
    try:
        for name, array in zip(_retouch_base_names(cutout, token), base, strict=True):
            saved.append(storage.save(name, File(io.BytesIO(_lossless(array)), name=name)))
    except Exception:  # noqa: BLE001 - a missing cache entry is made on first preview
        logger.warning("storing the retouch base of cutout %s failed", cutout.pk, exc_info=True)


def _lossless(array: np.ndarray) -> bytes:
    # level 1: ~4x faster than the default for ~10 % more bytes, and read back exactly
    return png_bytes(array, compress_level=1)


def _build_retouch_base(cutout: Cutout) -> RetouchBase:
    """The version reduced exactly as the worker's run reduces it for its graph cut
    (``retouch.retouch_reduce``), from the working copy and the stored cutout.

    Not from the card's 1024 px images: the photo's is a lossy WebP (chroma at half size) and
    the cutout's a Lanczos resample (ringing at hard edges, and resampled a second time when
    Pillow's thumbnail rounded the photo's size another way), so the preview's cut and
    matting saw another photo and another alpha than the run's, and a detail stroke's
    preview differed from the saved version by about half of what the stroke changed
    (docs/review.md). From ``CUTROOM_PRERENDER_MIN_PIXELS`` up the worker's run stores the
    reduced arrays (``cutout_retouch_base_store``); below it, or when that cache is missing,
    the full-size files are decoded here once per version (a few hundred ms) and the result
    is stored (lossless PNG) so no other process pays it."""
    from catalog.selectors import asset_working_open

    from ..imaging.encode import decode_cutout, decode_working_copy

    storage = storages["default"]
    asset = cutout.asset
    photo_name, cutout_name = _retouch_base_names(cutout)
    width, height = asset.working_width, asset.working_height
    try:
        with storage.open(photo_name, "rb") as photo_fh, \
                storage.open(cutout_name, "rb") as cut_fh:
            rgb, rgba = decode_working_copy(photo_fh), decode_cutout(cut_fh)
    except Exception:  # noqa: BLE001 - a missing or unreadable cache entry is made again
        # one full-size file in memory at a time (an 80 MP cutout alone is 320 MB)
        with storage.open(cutout.rgba_name, "rb") as fh:
            full = decode_cutout(fh)
        if full.shape[:2] != (height, width):
            raise ReviewError(f"The cutout of v{cutout.version} does not match the photo's size.")
        rgba = retouch_reduce(full, PREVIEW_MAX)
        del full
        with asset_working_open(asset=asset) as fh:
            full = decode_working_copy(fh)
        rgb = retouch_reduce(full, PREVIEW_MAX)
        del full
        rgb, rgba = np.ascontiguousarray(rgb), np.ascontiguousarray(rgba)
        # a cache: a failure to store it costs the next process the decode, nothing else
        for name, array in ((photo_name, rgb), (cutout_name, rgba)):
            try:
                if not storage.exists(name):
                    storage.save(name, File(io.BytesIO(_lossless(array)), name=name))
            except Exception:  # noqa: BLE001
                logger.warning("storing the retouch base %s failed", name, exc_info=True)
    # the scale the run's engine maps the strokes with (reduced width / full width)
    return RetouchBase(rgb=rgb, rgba=rgba, scale=rgb.shape[1] / width)


def retouch_base_from_images(photo: Image.Image, cutout: Image.Image, *,
                             max_side: int = PREVIEW_MAX) -> RetouchBase:
    """The photo and its full-size cutout (same size) reduced as a preview starts from them:
    the run's own reduction (``retouch.retouch_reduce``)."""
    rgb = np.asarray(photo.convert("RGB"))
    rgba = np.asarray(cutout.convert("RGBA"))
    if rgba.shape[:2] != rgb.shape[:2]:
        raise ValueError("the cutout must have the photo's size")
    small = np.ascontiguousarray(retouch_reduce(rgb, max_side))
    return RetouchBase(rgb=small, rgba=np.ascontiguousarray(retouch_reduce(rgba, max_side)),
                       scale=small.shape[1] / rgb.shape[1])


def retouch_preview_render(base: RetouchBase, strokes: list
                           ) -> tuple[bytes, dict, RetouchWords]:
    """(PNG, timings, the engine's words on the newest stroke) of ``base`` with the full-size
    ``strokes`` applied at its scale."""
    started = time.perf_counter()
    rgba, parts, words = base.rgba, {}, RetouchWords()
    if strokes:
        # the worker's call, on the reduced arrays (retouch_reduce) with their scale
        result = retouch_apply(base.rgb, np.ascontiguousarray(base.rgba[..., 3]), strokes,
                               base.rgba, scale=base.scale)
        rgba = result.rgba
        words = RetouchWords(far_keep=result.far_keep, subject=result.subject,
                             given_back=result.given_back)
        parts = {f"retouch_{k}": round(float(v), 4) for k, v in result.timings.items()
                 if isinstance(v, int | float) and k != "total"}
    refined = time.perf_counter()
    png = png_bytes(rgba, compress_level=1)
    return png, {"retouch": round(refined - started, 4), **parts,
                 "encode": round(time.perf_counter() - refined, 4)}, words


def cutout_retouch_preview(*, cutout: Cutout, strokes: object) -> RetouchPreview:
    """The version with the strokes applied, at the card's size (long side PREVIEW_MAX), as
    a PNG: the worker's refinement, run on the version reduced as the worker's run reduces it
    for its graph cut (cached), with the strokes mapped as the run maps them."""
    cutout = Cutout.objects.select_related("asset").get(pk=cutout.pk)
    cutout_require_retouchable(cutout)
    asset = cutout.asset
    parsed = strokes_parse(strokes, size=(asset.working_width, asset.working_height),
                            allow_empty=True)
    started = time.perf_counter()
    base = _retouch_base(cutout)
    loaded = time.perf_counter()
    try:
        png, timings, words = retouch_preview_render(base, parsed)
    except ValueError as exc:  # the refinement refuses these strokes on this image
        raise ReviewError(f"The preview failed: {exc}")
    timings = {"base": round(loaded - started, 4), **timings,
               "total": round(time.perf_counter() - started, 4)}
    height, width = base.rgba.shape[:2]
    # the editor tells a detail stroke that changed next to nothing over a mesh that the
    # brush cannot open its holes (QA M6): read on the preview's grid, as the strokes apply
    last = parsed[-1] if parsed else None
    mesh = last is not None and last.kind == "detail" and over_mesh(
        base.rgb, last.scaled(base.scale))
    return RetouchPreview(png=png, width=width, height=height, timings=timings, mesh=mesh,
                          far_keep=words.far_keep, subject=words.subject,
                          given_back=words.given_back)


# --- card images: downscaled previews, cached in storage ----------------------------------

IMAGE_KINDS = ("original", "cutout", "mask", "shadow", "market")
IMAGE_SIZES = (320, 1024, 0)  # 0 = full size (the loupe)
MARKET_PREVIEW = 600


MARKET_PRESET = "amazon_main"


def market_spec() -> VariantSpec:
    """The marketplace view's spec: the preset as an export resolves it (the admin's row
    when there is one, else the built-in), at the card's 600 px instead of its own size."""
    from ..selectors.export import preset_resolve
    from ..variants import get_preset

    try:
        preset = preset_resolve(names=[MARKET_PRESET])[0]
    except PresetError:
        # A disabled or broken row exports nothing; the card still shows the built-in
        # placement rather than no picture.
        logger.warning("preset %s unusable for the marketplace view", MARKET_PRESET,
                       exc_info=True)
        preset = get_preset(MARKET_PRESET)
    # The card needs the preset's placement, not its 2000 px file.
    return preset.variant_spec.with_tokens(f"square-{MARKET_PREVIEW}")


def market_key(spec: VariantSpec | None = None) -> str:
    """A short hash of the marketplace view's spec: in its file name and in the card's image
    URL, so an edit of the preset makes a new file, and browsers fetch it."""
    canonical = (spec or market_spec()).canonical()
    return hashlib.sha256(canonical.encode()).hexdigest()[:10]


def _preview_name(cutout: Cutout, kind: str, size: int, ext: str, token: str = "",
                  variant: str = "") -> str:
    token = token or cutout.run_token
    suffix = f"-{variant}" if variant else ""
    return (f"previews/{cutout.asset.sha256[:2]}/{cutout.pk}-{token[:8]}/"
            f"{kind}-{size}{suffix}.{ext}")


def preview_premade_side(*, pixels: int) -> int:
    """The long side of the screen copy a run of this many pixels makes while its cutout is
    still in memory: the card's size from ``CUTROOM_PRERENDER_MIN_PIXELS`` up, else 0. Below
    it a first view decodes the stored PNG in a fraction of a second; above it the decode
    alone takes seconds (a 24 MP cutout about 1.5 s)."""
    return PREVIEW_MAX if pixels >= settings.CUTROOM_PRERENDER_MIN_PIXELS else 0


def cutout_previews_store(*, cutout: Cutout, token: str, image: Image.Image,
                          saved: list[str], shadow_name: str = "") -> None:
    """Store run ``token``'s card images (cutout and mask at every screen size, the
    marketplace view, and the shadow layer at the card's size when the run stored one as
    ``shadow_name``) from its screen copy, under the names ``cutout_image`` looks for,
    appending them to ``saved``. Made on first view instead, each decoded the full-size file:
    on a 45 MP photo the mask took 0.3-1.5 s, the marketplace view 2.8-13 s and the shadow
    layer 1.4 s. The mask is the screen copy's alpha (resampled as the mask alone would be);
    the marketplace view places a product of at most 600 px, which the 1024 px copy holds.
    The shadow layer is not in the screen copy: it is read back from the stored file, once,
    here in the worker rather than in a reviewer's first request. They are a cache: a
    failure here is logged and the images are made on first view instead."""
    storage = storages["default"]
    sizes = sorted((s for s in IMAGE_SIZES if s), reverse=True)
    alpha = image.getchannel("A")
    renders = ([("cutout", size, image) for size in sizes]
               + [("mask", size, alpha) for size in sizes] + [("market", MARKET_PREVIEW, image)])
    try:
        spec = market_spec()
        for kind, size, source in renders:
            ext = "jpg" if kind == "market" else "png"
            variant = market_key(spec) if kind == "market" else ""
            name = _preview_name(cutout, kind, size, ext, token, variant)
            rendered = _render_preview(source, kind, size, spec)
            saved.append(storage.save(name, File(io.BytesIO(rendered), name=name)))
        if shadow_name:
            # the card shows the layer at its own size only (templates/cutouts/review/_card)
            name = _preview_name(cutout, "shadow", PREVIEW_MAX, "png", token)
            with storage.open(shadow_name, "rb") as fh, Image.open(fh) as layer:
                layer.load()
                rendered = _render_preview(layer, "shadow", PREVIEW_MAX)
            saved.append(storage.save(name, File(io.BytesIO(rendered), name=name)))
    except Exception:  # noqa: BLE001 - a missing cache entry is rendered later, not an error
        logger.warning("storing the previews of cutout %s failed", cutout.pk, exc_info=True)


def cutout_image(*, cutout: Cutout, kind: str, size: int) -> tuple[str, str]:
    """(storage name, content type) of one of the card's images, rendered once and cached.
    ``cutout`` needs ``asset`` loaded."""
    from catalog.services.assets import asset_thumbnail, file_save_whole

    if kind not in IMAGE_KINDS:
        raise ReviewError(f"Unknown image kind {kind!r}.")
    if size not in IMAGE_SIZES:
        raise ReviewError(f"Image size must be one of {IMAGE_SIZES}.")
    asset = cutout.asset
    if kind == "original":
        if size == 0:
            return asset.working_name, "image/png"
        return asset_thumbnail(asset=asset, size=size), "image/webp"
    source = {"cutout": cutout.rgba_name, "mask": cutout.mask_name,
              "shadow": cutout.shadow_name, "market": cutout.rgba_name}[kind]
    if not source:
        raise FileNotFoundError(f"v{cutout.version} has no {kind} image")
    ext, content_type = ("jpg", "image/jpeg") if kind == "market" else ("png", "image/png")
    if kind != "market" and size == 0 and kind != "shadow":
        return source, content_type
    spec, variant = None, ""
    if kind == "market":
        size = MARKET_PREVIEW  # one size whatever the card asks for: one file, not three
        spec = market_spec()
        variant = market_key(spec)  # an edited preset: another file
    name = _preview_name(cutout, kind, size, ext, variant=variant)
    storage = storages["default"]
    if storage.exists(name):
        return name, content_type
    # A cutout is decoded whole (a 50 MP RGBA PNG is 200 MB): one of the web process's decode
    # slots, waited for without a limit as the original's thumbnail does (an <img> cannot send
    # again); the bound on decoded photos per process holds for review pages too.
    with upload_gate.decode_slot(wait=upload_gate.NO_LIMIT):
        if storage.exists(name):  # rendered meanwhile by a request that held the slot first
            return name, content_type
        with storage.open(source, "rb") as fh, Image.open(fh) as image:
            image.load()
            rendered = _render_preview(image, kind, size, spec)
    # Two requests may render at once; both write identical bytes. Written whole or not at
    # all under its name: the ``exists`` above serves whatever is there, and a file a plain
    # save had only begun was served cut short (a broken picture after Apply, qa39b F4).
    return file_save_whole(name=name, data=rendered), content_type


def _render_preview(image: Image.Image, kind: str, size: int,
                    spec: VariantSpec | None = None) -> bytes:
    if kind == "market":
        from ..variants import render_variant

        return render_variant(image.convert("RGBA"), spec or market_spec()).data
    if kind == "shadow":
        # Shown as a layer: black, with the stored opacity as its alpha.
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        layer.putalpha(image.convert("L"))
        image = layer
    if size:
        image = downsized(image, size)
    return png_image_bytes(image, compress_level=3)

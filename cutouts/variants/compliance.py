"""Check an encoded variant against a preset's rules.

The checker decodes the bytes itself and never trusts the renderer: background purity, fill,
sizes, format, colour profile, file size and metadata are all measured on the file. Only the
product box (which the pixels cannot tell apart from a shadow) may be supplied by the renderer;
it is sanity-checked against the pixels. Likewise the facts of the cutout the file cannot show:
the product's size and scale in the cutout, whether the photo's frame cuts it, and whether the
render is a scene (a photo background reaches every edge, so only the product box can say
where the product lies).
"""

from __future__ import annotations

import io
import math
import re
import warnings as _warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from PIL import Image, ImageCms

from cutouts.imaging.shadow import OFF_BODY_SHARE, kept_shadow_zone

from .errors import RenderError
from .layout import (
    RIPPLE_ALPHA,
    Layout,
    Significant,
    long_side,
    mask_box,
    plan_product_layout,
    shadow_clearance,
    significant_region,
)
from .operations import shadow_render
from .presets import PRESETS, TRANSPARENT, WHITE, WHITE_OR_TRANSPARENT, Preset, Rules
from .spec import VariantSpec, as_spec
from .warning_kinds import (
    CONTACT_SHADOW_OFF,
    ENLARGED,
    EXIF,
    FAINT_MARKS,
    FILL_WITH_SHADOW,
    FRAME_CUT,
    KEPT_SHADOW_LEFT_OUT,
    KEPT_SHADOW_OFF,
    LONG_SIDE,
    MARGINS,
    NO_ALPHA,
    NO_CLEAR_PIXEL,
    PROFILE,
    SHORT_SIDE,
    SMALL_PRODUCT,
    SYNTHETIC_SHADOW_OFF,
    XMP,
    warning_titles,
)

if TYPE_CHECKING:
    from .render import RenderedVariant

_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "AVIF": "avif"}
EXIF_GPS_IFD = 0x8825
#: fill is compared with this tolerance (percentage points) to absorb 1 px of rounding
FILL_TOLERANCE = 0.05
#: JPEG ringing reaches up to 15 px into the margin (16x16 MCUs with 4:2:0 chroma)
HALO_TOLERANCE_PX = 16
#: Past this enlargement of the product a variant fails, whatever the preset (2x only warns:
#: ``ENLARGE_WARN`` in render.py). At 8x every photo pixel becomes an 8x8 block: the image
#: holds the detail of a product an eighth of its size, a product filled to 85 % of a 2000 px
#: canvas from under 213 px in the photo, under half eBay's 500 px minimum for a whole image.
#: Ordinary photos stay inside it: a 500 px product filled to 85 % of 2000 px is 3.4x, a
#: 250 px one (a small web photo) 6.8x, and only warn; a 136x blow-up (a cutout that kept a
#: speck) is a smear to exclude, not a file to ship with a warning.
MAX_ENLARGEMENT = 8.0


def enlarged_too_far(enlargement: float) -> bool:
    """Whether a product enlarged this much fails (MAX_ENLARGEMENT), compared as printed, as
    the 2x warning is: the one test for rendered variants (:func:`check_source`, which a dry
    run asks too) and the pre-check's and the review's forecast (:func:`export_size`)."""
    return round(enlargement, 1) > MAX_ENLARGEMENT


#: A product whose box in the cutout is under this on its long side fails: it is a speck the
#: cutout kept (icon size; no marketplace shows a product from it), not a product. It catches
#: what the enlargement limit cannot: an export without a size (trim only) ships it 1:1.
MIN_PRODUCT_PX = 32
#: Bump when a check is added that earlier compliance results did not make: cached renditions
#: checked by an older version are rendered and checked again (their bytes do not change).
#: 3: scenes judge the product box at the canvas edge, not the photo's pixels; a product cut by
#: the photo's frame warns on listing images; a master too small for every marketplace warns.
#: 4: a product cut by the photo's frame fails where the marketplace requires the whole
#: product (Amazon main); faint see-through marks inside the product's box warn.
#: (The image's position, which limits that failure to the main image, is no new check: a
#: result recorded without it is checked again by the caller, not re-rendered.)
#: 5: faint marks are measured by their visible area, not their alpha mass (the renderer's
#: facts change: render again), and a large one fails on a white background.
#: 6: a shadow (or any mark) around the product entering the band along the canvas's frame
#: that the renderer keeps clear, or covering more than SHADOW_MAX_COVER of the canvas, fails.
#: 7: faint marks warn on transparent masters and scenes too, not only on the marketplaces'
#: presets (a banner shows the mark on whatever background it lands on).
#: 8: a shadow-keep render that leaves the kept shadow out with the far detached part it lay
#: under says so (``render.kept_shadow_left_out``; 2026-12-08, verify48b): the file's bytes
#: are the same, its warnings are not.
CHECKS_VERSION = "8"
#: the position codes of a product's main image: the one Amazon requires whole
MAIN_POSITION = "MAIN"


@dataclass(frozen=True)
class ModelLicence:
    """Licence facts about the segmentation model that produced a cutout."""

    model: str
    licence: str = ""
    commercial_use: bool | None = None  # None = unknown, decide from the licence text


#: what a caller may give for a model licence: the facts, a dict of them or a licence name
LicenceInfo = ModelLicence | dict[str, Any] | str | None
#: a background colour (RGB), or None for transparency
Colour = tuple[int, ...] | None
Box = tuple[int, int, int, int]

#: models whose default licence forbids or restricts commercial use
KNOWN_RESTRICTED_MODELS = {
    "rmbg-1.4": "BRIA RMBG-1.4 licence: non-commercial use only without a BRIA agreement",
    "rmbg-2.0": "BRIA RMBG-2.0 licence: CC BY-NC 4.0, non-commercial use only",
}
_NONCOMMERCIAL = re.compile(r"non[- ]?commercial|\bby-nc\b|\bnc-|\bcc[- ]by[- ]nc", re.I)
_AGPL = re.compile(r"\bagpl", re.I)


#: how a passing file's manifest line lists its warnings (``ComplianceResult.summary``)
WARNINGS_OPEN = "ok (warnings: "


def summary_warning_titles(summary: str) -> list[str]:
    """The short titles (``warning_kinds``) of the warnings a manifest's ``compliance`` line
    lists ("ok (warnings: the kept shadow lies off the product, …; the product is enlarged
    …)" gives ["kept shadow off product", "enlarged"]; a dry run's "dry run (cached): ok
    (warnings: …)" too): the contact sheet's chip names them (2026-12-08, verify48). Empty for
    a line without warnings, or with none of a known kind."""
    at = summary.find(WARNINGS_OPEN)
    if at < 0:
        return []
    return warning_titles(summary[at + len(WARNINGS_OPEN):].removesuffix(")"))


@dataclass
class ComplianceResult:
    ok: bool = True
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)

    def error(self, message: str) -> None:
        self.ok = False
        self.errors.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def summary(self) -> str:
        """One line for the manifest: ``ok``, ``ok (warnings: ...)`` or ``failed: ...`` (the
        one wording: ``export_sinks.manifest_row_for`` says a passing file's stored warnings
        through it too)."""
        if self.errors:
            return "failed: " + "; ".join(self.errors)
        if self.warnings:
            return WARNINGS_OPEN + "; ".join(self.warnings) + ")"
        return "ok"


def _as_licence(info: LicenceInfo) -> ModelLicence | None:
    if info is None or isinstance(info, ModelLicence):
        return info
    if isinstance(info, str):
        return ModelLicence(model=info, licence=info)
    if isinstance(info, dict):
        return ModelLicence(
            model=str(info.get("model") or info.get("name") or ""),
            licence=str(info.get("licence") or info.get("license") or ""),
            commercial_use=info.get("commercial_use"),
        )
    raise TypeError(f"model licence must be a ModelLicence, dict or str, not {type(info)!r}")


def licence_warnings(info: LicenceInfo) -> list[str]:
    """Warnings for a model licence that restricts commercial use or carries AGPL terms."""
    lic = _as_licence(info)
    if lic is None:
        return []
    out = []
    label = lic.model or lic.licence or "the segmentation model"
    key = lic.model.lower().replace("_", "-").replace(" ", "-")
    known = next((text for name, text in KNOWN_RESTRICTED_MODELS.items() if name in key), None)
    if lic.commercial_use is False or _NONCOMMERCIAL.search(lic.licence) or (
        known and lic.commercial_use is not True
    ):
        detail = known or lic.licence or "licence forbids commercial use"
        out.append(f"model {label}: commercial use restricted ({detail}); check the licence "
                   "before publishing this image")
    if _AGPL.search(lic.licence) or _AGPL.search(lic.model):
        out.append(f"model {label}: AGPL licence terms apply; check obligations before use")
    return out


def _ring(arr: np.ndarray, k: int) -> np.ndarray:
    """Pixels of the outermost ``k``-pixel frame, as an (N, C) array."""
    return np.concatenate([
        arr[:k].reshape(-1, arr.shape[2]),
        arr[-k:].reshape(-1, arr.shape[2]),
        arr[k:-k, :k].reshape(-1, arr.shape[2]),
        arr[k:-k, -k:].reshape(-1, arr.shape[2]),
    ])


def _ring_parts(arr: np.ndarray, k: int) -> list[np.ndarray]:
    """The four sides of the outermost ``k``-pixel frame (the pixels of :func:`_ring`),
    as views."""
    return [arr[:k], arr[-k:], arr[k:-k, :k], arr[k:-k, -k:]]


def _all_exactly(parts: list[np.ndarray], exact: tuple[int, ...]) -> bool | None:
    """Whether every pixel of ``parts`` is ``exact`` (one value per channel), answered by one
    min or max pass when every channel is 255 or every channel is 0 (white, black: no byte
    can be above or below it); None otherwise (the caller compares channel by channel)."""
    if len(set(exact)) != 1 or exact[0] not in (0, 255):
        return None
    present = [p for p in parts if p.size]
    if exact[0] == 255:
        return all(int(p.min()) == 255 for p in present)
    return all(int(p.max()) == 0 for p in present)


def _exact_pixel(color: tuple[int, ...], channels: int) -> tuple[int, ...]:
    """The background pixel as stored: the colour, opaque when the array has alpha."""
    return (*color[:3], 255)[:channels]


def _parse_hex(color: str) -> tuple[int, int, int]:
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def _icc_description(icc: bytes) -> str:
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
    except (OSError, ImageCms.PyCMSError, TypeError):
        return "<unreadable profile>"


def _decode_jpeg(im: Image.Image, data: bytes) -> np.ndarray | None:
    """The pixels of an RGB JPEG decoded by OpenCV straight into an array (Pillow's decode
    plus ``np.asarray`` copies the image once more), or None for anything else. Both wrap
    libjpeg-turbo with the same defaults and give the same pixels (tests compare them);
    OpenCV only warns on a truncated file, so one without its end marker goes to Pillow,
    which refuses it."""
    if im.format != "JPEG" or im.mode != "RGB" or not data.rstrip(b"\0").endswith(b"\xff\xd9"):
        return None
    arr = cv2.imdecode(np.frombuffer(data, np.uint8),
                       cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION)
    if arr is None or arr.shape[:2] != (im.height, im.width):
        return None
    return arr


def check_variant(
    data: bytes,
    preset: Preset | Rules,
    *,
    product_bbox: tuple[int, int, int, int] | None = None,
    fill_pct: float | None = None,
    model_licence: LicenceInfo = None,
    enlargement: float | None = None,
    source_product_size: tuple[int, int] | None = None,
    scene: bool = False,
    frame_cut: Iterable[str] | None = None,
    faint_marks: Iterable[dict[str, Any]] | None = None,
    position: str | None = None,
) -> ComplianceResult:
    """Decode ``data`` and check it against ``preset`` (or bare :class:`Rules`).

    ``product_bbox`` (x0, y0, x1, y1 in output pixels, product only — no shadow; the renderer
    gives the box of the significant alpha, so a faint blob the cutout kept lies outside it and
    the ghost analysis judges it) is used for the fill percentage; without it the fill is
    measured from every non-background pixel, shadow included. ``fill_pct`` is only used
    when neither is available (e.g. no background). ``enlargement`` (the product's scale from
    the cutout) and ``source_product_size`` (its box in the cutout, w x h) are the renderer's
    facts the file cannot tell: with them a blown-up speck fails (:func:`check_source`).
    ``scene``: the file is a scene (a photo or colour background reaching every edge), so the
    product's canvas edges are judged from ``product_bbox`` alone. ``frame_cut``: the sides on
    which the photo's frame cuts the product in the cutout (the renderer's ``frame_cut``).
    ``faint_marks``: see-through marks the cutout kept inside the product's box (the
    renderer's ``faint_marks``: ``{"box": [x0, y0, x1, y1], "share": ...}`` on the canvas),
    which the file cannot tell from a grey part of the product or a kept shadow.
    ``position``: the image's catalog position (``MAIN``, ``PT01``..``PT08``, ``SWCH``); the
    whole-product rule binds the main image only (None: judged as the main image).
    All of these are recorded in the measurements, so a re-check of the stored file can pass
    them again.
    """
    rules = preset.rules if isinstance(preset, Preset) else preset
    result = ComplianceResult()
    m = result.measurements
    m["bytes"] = len(data)
    for w in licence_warnings(model_licence):
        result.warn(w)
    check_source(result, enlargement, source_product_size)
    if scene:
        m["scene"] = True
    if position:
        m["position"] = position
    if frame_cut is not None:
        _check_frame_cut(result, rules, frame_cut, position)
    if faint_marks is not None:
        _check_faint_marks(result, rules, faint_marks)

    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))  # the headers; the bomb check happens here
            pixels = _decode_jpeg(im, data)
            if pixels is None:
                im.load()
    except Exception as exc:  # any decoder failure (or bomb) is a compliance failure
        result.error(f"file cannot be decoded as an image ({exc.__class__.__name__}: {exc})")
        return result

    fmt = _FORMATS.get(im.format or "", (im.format or "unknown").lower())
    width, height = im.size
    m.update(format=fmt, width=width, height=height, mode=im.mode)

    # -- format, size, bytes
    _check_format(result, rules, fmt)
    if getattr(im, "n_frames", 1) > 1:
        result.error("animated images are not accepted")
    if rules.max_bytes is not None and len(data) > rules.max_bytes:
        result.error(f"file is {len(data):,} bytes; the limit is {rules.max_bytes:,}")
    _check_size(result, rules, width, height)

    # -- colour mode and profile
    if im.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        result.error(f"colour mode {im.mode} is not 8-bit RGB")
    icc = im.info.get("icc_profile")
    desc = _icc_description(icc) if icc else None
    m["icc"] = desc
    is_srgb = bool(desc) and ("srgb" in (desc or "").lower() or "61966-2" in (desc or ""))
    if rules.require_srgb and not icc:
        result.error("no ICC colour profile embedded; sRGB is required")
    elif icc and not is_srgb:
        (result.error if rules.require_srgb else result.warn)(
            f"{PROFILE.head} {desc!r}, not sRGB"
        )

    # -- metadata
    exif = im.getexif()
    if EXIF_GPS_IFD in exif:
        result.error("EXIF GPS location is present; exports must not carry it")
    elif len(exif) and not rules.allow_metadata:
        result.warn(f"{EXIF.head} ({len(exif)} tags); exports should strip it")
    if (im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")) and not rules.allow_metadata:
        result.warn(f"{XMP.head}; exports should strip it")

    # -- pixels
    has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
    want = "RGBA" if has_alpha else "RGB"
    if pixels is not None:
        arr = pixels
    else:
        # the decoded pixels themselves when the mode already fits
        arr = np.asarray(im if im.mode == want else im.convert(want))
    del im, pixels
    clean = _check_background(result, rules, arr, has_alpha, product_bbox)
    _check_fill(result, rules, arr, has_alpha, product_bbox, fill_pct)
    if rules.no_borders and _has_border(arr[..., :3]):
        result.error("the image has a border/frame around it; borders are not allowed")
    if rules.product_clear_of_edges or rules.no_ghosts:
        paper = _paper(rules, arr, has_alpha)
        if rules.product_clear_of_edges:
            _check_edges(result, arr, paper, has_alpha, product_bbox, scene=scene)
        if rules.no_ghosts:
            _check_ghosts(result, arr, paper, has_alpha, product_bbox, clean)
            if not scene and product_bbox is not None:
                _check_shadow_extent(result, arr, paper, product_bbox)
    return result


def _check_format(result: ComplianceResult, rules: Rules, fmt: str) -> None:
    """The rule on the output's format, in the check's words: the check of the file reads it
    from the file, a dry run (:func:`foreseen`) from the spec (an admin's preset may render
    a format its rules refuse)."""
    if fmt not in rules.formats:
        result.error(f"format {fmt} is not accepted (allowed: {', '.join(sorted(rules.formats))})")


def _check_size(result: ComplianceResult, rules: Rules, width: int, height: int) -> None:
    """The rules on the output's size (square, side and pixel limits, aspect ratio, the
    recommended sides), in the check's words: the check of the file measures it on the
    file, a dry run (:func:`foreseen`) on the canvas the layout gives it."""
    longest, short_side = max(width, height), min(width, height)
    if rules.square and width != height:
        result.error(f"image is {width}x{height}; a square (1:1) image is required")
    if rules.min_long_side and longest < rules.min_long_side:
        result.error(f"longest side is {longest} px; at least {rules.min_long_side} required")
    if rules.max_long_side and longest > rules.max_long_side:
        result.error(f"longest side is {longest} px; at most {rules.max_long_side} allowed")
    if rules.min_short_side and short_side < rules.min_short_side:
        result.error(f"shortest side is {short_side} px; at least {rules.min_short_side} required")
    if rules.max_pixels and width * height > rules.max_pixels:
        result.error(f"{width * height:,} pixels; at most {rules.max_pixels:,} allowed")
    if rules.aspect_ratios and not _ratio_ok(width, height, rules.aspect_ratios):
        result.error(f"image is {width}x{height} ({width / height:.3f}:1); the marketplace "
                     f"expects {' or '.join(rules.aspect_ratios)}")
    if rules.recommended_long_side and longest < rules.recommended_long_side:
        result.warn(f"{LONG_SIDE.head} {longest} px; {rules.recommended_long_side} recommended")
    if rules.recommended_short_side and short_side < rules.recommended_short_side:
        result.warn(
            f"{SHORT_SIDE.head} {short_side} px; {rules.recommended_short_side} recommended"
        )


#: aspect ratios are compared with this relative tolerance (a pixel of rounding)
RATIO_TOLERANCE = 0.01
#: "ink" (difference from the background, 0-255) from which a pixel is a visible mark; above
#: JPEG ringing on white at quality 90
INK_LEVEL = 40
#: a product edge pixel count above this share of a side means the product is cut there
CUT_SHARE = 0.02
#: a mark away from the product is a ghost from this much ink (opaque-pixel equivalents),
#: relative to the image area, with an absolute floor
GHOST_SHARE = 0.00005
GHOST_MIN = 25
GHOST_ANALYSIS_SIDE = 512
#: a faint mark inside the product's box warns from this share of the product's solid area
#: (its visible area; :func:`~cutouts.variants.render.faint_marks`) ...
FAINT_MARK_SHARE = 0.003
#: ... and fails on a white-background marketplace image from this one: a see-through patch a
#: tenth of the product's size shows on white as a grey cloud, whether a ghost of the photo's
#: background or a part of the product the cutout left see-through (both need a re-cut)
FAINT_MARK_FAIL_SHARE = 0.1


def check_source(result: ComplianceResult, enlargement: float | None,
                 size: tuple[int, int] | None) -> None:
    """Fail a variant made from a product too small in the cutout to make any image of:
    under MIN_PRODUCT_PX, or enlarged past MAX_ENLARGEMENT. Recorded in the measurements,
    so a later re-check of the stored file (edited rules) can apply them again. A dry run
    asks it too, with the layout's scale, so its refusal reads as the export's."""
    m = result.measurements
    if size is not None:
        w, h = (int(v) for v in size)
        m["source_product_size"] = [w, h]
        if max(w, h) < MIN_PRODUCT_PX:
            result.error(f"{SMALL_PRODUCT.head} {w}x{h} px in the cutout (at least "
                         f"{long_side(w, h, MIN_PRODUCT_PX)} needed): the cutout kept a "
                         "speck, not the product; re-cut or retouch it in review")
            return  # its enlargement says the same again
    if enlargement is not None:
        m["enlargement"] = round(float(enlargement), 3)
        if enlarged_too_far(enlargement):
            across = f" from {size[0]}x{size[1]} px in the cutout" if size else ""
            result.error(f"{ENLARGED.head} {enlargement:.1f}x{across}, over the "
                         f"{MAX_ENLARGEMENT:g}x limit, and would be a blur; check the cutout "
                         "kept the whole product (re-cut or retouch it) or use a closer or "
                         "larger photo")
            return
    if size is not None and enlargement is not None and enlargement <= 1.0:
        # A file at the cutout's own size (a transparent master: trim only) meets neither
        # limit, yet it is what listings are made from: say what the marketplace presets
        # will do with it, in their words, without failing a small product that is fine here.
        fit = export_size(*size)
        if fit is not None and fit.too_small:
            # Said of the presets' own variants, not this file: "the Walmart preset would
            # enlarge it" on the PNG master's row read as if the PNG were enlarged (QA
            # 2026-12-06)
            result.warn(f"{SMALL_PRODUCT.head} {size[0]}x{size[1]} px in the cutout (this "
                        "file keeps it at that size and passes); "
                        f"{_variants_phrase(fit.refused_labels)} would enlarge it over the "
                        f"{MAX_ENLARGEMENT:g}x limit and be refused (at least "
                        f"{long_side(*size, fit.needed_px)} needed); check the cutout kept "
                        "the whole product (re-cut or retouch it) or use a closer or larger "
                        "photo")


def _variants_phrase(labels: tuple[str, ...]) -> str:
    """The refusing presets' variants, named: all of them as such, a few by label, more as a
    count."""
    if len(labels) == sum(p.rules.no_scenes for p in PRESETS.values()):
        return f"every marketplace preset's variant ({', '.join(labels[:2])}, …)"
    if len(labels) == 1:
        return f"the {labels[0]} preset's variant"
    if len(labels) <= 3:
        return "the " + ", ".join(labels) + " presets' variants"
    return f"{len(labels)} marketplace presets' variants ({', '.join(labels[:2])}, …)"


@dataclass(frozen=True)
class ExportSize:
    """What :func:`check_source` will make of a product of this size, told before export: the
    review pre-flags a product export would leave out (``too_small_for_export``)."""

    #: the product's long side in the photo (px)
    product_px: int
    #: the long side (same shape) at which no preset refuses it any more
    needed_px: int
    #: the presets that would refuse it (names and labels, in registry order)
    refused_by: tuple[str, ...] = ()
    refused_labels: tuple[str, ...] = ()
    limit: float = MAX_ENLARGEMENT
    #: the long side each of ``refused_by`` needs (same order): the card names which
    #: marketplace needs what, not the largest need as every marketplace's (QA qa41a,
    #: 2026-12-06: "marketplace images need at least 263 px" where only Etsy did)
    needs: tuple[int, ...] = ()
    #: which side ``product_px`` measures, "wide" or "tall" (as :func:`layout.long_side`
    #: names it): "112 px across" read as the width of a tall product
    side: str = "wide"

    @property
    def too_small(self) -> bool:
        return bool(self.refused_by)


def _enlargement(preset: Preset, w: int, h: int, frame: tuple[int, int] | None = None,
                 fill: tuple[int, int] | None = None) -> float | None:
    """The scale the preset's layout gives a w x h product (in a cutout of ``frame``, else
    one cropped to it, as a dry run lays out a file it does not render); None when the
    layout refuses it outright (margins, output size)."""
    try:
        return layout_scale(preset.variant_spec, frame or (w, h), (w, h), fill)
    except RenderError:
        return None


def layout_scale(spec: VariantSpec, frame: tuple[int, int], product: tuple[int, int],
                 fill: tuple[int, int] | None) -> float:
    """The scale a render of ``spec`` gives a product of ``product`` px (w, h) in a cutout of
    ``frame`` (:func:`product_layout`). The export form's pre-check and the review's
    pre-flag ask it."""
    return product_layout(spec, frame, product, fill).scale


def product_layout(spec: VariantSpec, frame: tuple[int, int], product: tuple[int, int],
                   fill: tuple[int, int] | None) -> Layout:
    """The layout (scale, output size) a render of ``spec`` gives a product of ``product`` px
    (w, h) in a cutout of ``frame``, from the cutout's stored measures (``export_signals``:
    ``fill`` is its ``product_fill_px``, None for a version stored before it), laid out as
    the renderer lays it out (``layout.plan_product_layout``). Raises RenderError where the
    layout refuses it (margins, the output's size). A dry run asks it (:func:`layout_scale`:
    the pre-check and the pre-flag)."""
    w, h = product
    lay, _ = plan_product_layout(
        spec, frame, (0, 0, w, h), threshold=spec.alpha_threshold(1),
        survives=None if fill is None else lambda: (0, 0, fill[0], fill[1]))
    return lay


def export_size(box_w: int, box_h: int, presets: Iterable[Preset] | None = None,
                frame: tuple[int, int] | None = None,
                fill: tuple[int, int] | None = None) -> ExportSize | None:
    """The enlargement limit applied to a product whose box in the photo is box_w x box_h px
    (None without a product): the presets whose layout would enlarge it past MAX_ENLARGEMENT
    (or all, under MIN_PRODUCT_PX), and the long side it needs for none to. The same layout
    and comparison export runs (:func:`check_source`), by default on the built-in marketplace
    presets (``no_scenes``: the listing images; the admin's presets are seeded from them, and
    a scene refuses only a product every marketplace already does); a fill on a fixed canvas
    scales as 1 / size, which gives the needed size without a search. ``frame`` (the
    cutout's size, with ``presets``) lays the product out in its whole cutout, as a spec
    without ``trim`` does; the export form's pre-check passes it. ``fill``: the cutout's
    ``product_fill_px``, the box an enlarging fill is measured on (:func:`layout_scale`)."""
    w, h = int(box_w), int(box_h)
    if w <= 0 or h <= 0:
        return None
    fill = (int(fill[0]), int(fill[1])) if fill is not None else None
    if presets is None:
        return _default_export_size(w, h, fill)
    longest = max(w, h)
    needed = MIN_PRODUCT_PX
    refused: list[tuple[Preset, int]] = []
    for preset in presets:
        scale = _enlargement(preset, w, h, frame, fill)
        if scale is None:
            continue
        least = MIN_PRODUCT_PX
        if enlarged_too_far(scale):
            c = scale * longest  # the scale at a long side L is c / L
            least = max(1, math.floor(c / (MAX_ENLARGEMENT + 0.05)))
            while enlarged_too_far(c / least):
                least += 1
            least = max(MIN_PRODUCT_PX, least)
            needed = max(needed, least)
        if longest < MIN_PRODUCT_PX or enlarged_too_far(scale):
            refused.append((preset, least))
    return ExportSize(longest, needed, tuple(p.name for p, _ in refused),
                      tuple(p.label for p, _ in refused), needs=tuple(n for _, n in refused),
                      side=long_side(box_w, box_h).rsplit(" ", 1)[1])


def stored_size(value: Any) -> tuple[int, int] | None:
    """A [w, h] a cutout's signals store (``product_px``, ``product_fill_px``), or None for
    anything else (a version computed before it, an edited row)."""
    if not (isinstance(value, list | tuple) and len(value) == 2):
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return None
    return int(value[0]), int(value[1])


def too_small_for_export(signals: Mapping[str, Any]) -> bool:
    """The review's pre-flag from a cutout's signals (``product_px`` and ``product_fill_px``,
    :func:`export_signals`): a marketplace preset would refuse it for its size. False without
    ``product_px`` (a version computed before the signal) or for an empty cutout."""
    product = stored_size(signals.get("product_px"))
    if product is None:
        return False
    size = export_size(*product, fill=stored_size(signals.get("product_fill_px")))
    return size is not None and size.too_small


@lru_cache(maxsize=4096)
def _default_export_size(w: int, h: int, fill: tuple[int, int] | None) -> ExportSize | None:
    # the review derives pre-flags per finished cutout and per dismissal: the same boxes
    # come back, and the built-in presets never change at run time
    return export_size(w, h, [p for p in PRESETS.values() if p.rules.no_scenes], fill=fill)


def _ratio_ok(width: int, height: int, ratios: tuple[str, ...]) -> bool:
    for ratio in ratios:
        a, b = (int(v) for v in ratio.split(":"))
        if abs(width * b / (height * a) - 1) <= RATIO_TOLERANCE:
            return True
    return False


def _paper(rules: Rules, arr: np.ndarray, has_alpha: bool) -> Colour:
    """The background to measure marks against: the rule's colour, transparency, or (no rule,
    opaque file) the median of the outer frame, which a clipped product cannot hijack."""
    if rules.background is None and not has_alpha:
        return tuple(int(v) for v in np.median(_ring(arr[..., :3], 1), axis=0))
    return _effective_background(rules, arr, has_alpha)


def _ink(arr: np.ndarray, paper: Colour) -> np.ndarray:
    """Per pixel, how far it is from the background (0-255, uint8)."""
    if paper is None:
        return arr[..., 3].copy()
    ink = np.zeros(arr.shape[:2], np.uint8)
    for c in range(3):
        np.maximum(ink, cv2.absdiff(arr[..., c], np.full_like(arr[..., c], paper[c])), out=ink)
    if arr.shape[2] == 4:  # transparency over a coloured rule shows as the page colour
        np.minimum(ink, arr[..., 3], out=ink)
    return ink


def _check_edges(result: ComplianceResult, arr: np.ndarray, paper: Colour, has_alpha: bool,
                 product_bbox: Box | None, scene: bool = False) -> None:
    h, w = arr.shape[:2]
    sides = {
        "top": arr[:1], "bottom": arr[-1:], "left": arr[:, :1], "right": arr[:, -1:],
    }
    touching = {}
    if scene and product_bbox is not None:
        # the background of a scene is meant to reach every edge, and a photo's edge can be
        # mostly sky or wall (a plain page to the ink test below): only the product's placed
        # box, which the renderer knows, says where the product lies
        sides = {}
    # a frame of exactly the page colour has no ink anywhere: nothing to measure on it
    elif paper is None or not _all_exactly(_ring_parts(arr, 1),
                                           _exact_pixel(paper, arr.shape[2])):
        ring = _ink(np.ascontiguousarray(_ring(arr, 1)[None]), paper)
        if (ring >= INK_LEVEL).mean() > 0.25 and product_bbox is not None:
            # a scene (photo background) reaches every edge: only the product box can tell
            sides = {}
        for side, line in sides.items():
            count = int((_ink(np.ascontiguousarray(line), paper) >= INK_LEVEL).sum())
            if count:
                touching[side] = count
    if product_bbox is not None:
        x0, y0, x1, y1 = product_bbox
        for side, hit in (("left", x0 <= 0), ("top", y0 <= 0), ("right", x1 >= w),
                          ("bottom", y1 >= h)):
            if hit:
                touching.setdefault(side, 1)
    for side, count in touching.items():
        length = w if side in ("top", "bottom") else h
        if not sides:
            result.error(f"the product reaches the {side} edge of the canvas (touching it or "
                         "cut off)")
        elif count > CUT_SHARE * length:
            result.error(f"the product is cut off at the {side} edge of the canvas")
        else:
            result.error(f"the product touches the {side} edge of the canvas")
    result.measurements["edges_touched"] = sorted(touching)


_SIDES = ("top", "bottom", "left", "right")


def _check_frame_cut(result: ComplianceResult, rules: Rules, frame_cut: Iterable[str],
                     position: str | None = None) -> None:
    """The photo's own frame cuts the product (the renderer's ``frame_cut``, as the cutout's
    ``touches_frame`` signal sees it): the file then shows a straight hard cut, which no
    canvas margin can tell from a product edge. It fails where the marketplace requires the
    whole product (``whole_product``: Amazon's main image) and warns on other listing images
    (and scenes); a transparent master is the cutout as it is.

    Amazon requires the entire product on the MAIN image only; its additional images
    (PT01..PT08) and the swatch may be close-ups and details, so a ``whole_product`` preset
    says nothing about a cut on them (a warning would flag every detail shot). An unknown
    position (None) is judged as the main image: the rule is not silently dropped."""
    cut = set(frame_cut)
    sides = [side for side in _SIDES if side in cut]
    result.measurements["frame_cut"] = sides
    verdict = frame_cut_verdict(rules, sides, position)
    if verdict is None:
        return
    message = (f"{FRAME_CUT.head} ({', '.join(sides)}): the image "
               "cannot show the whole product; use a photo with space around it")
    if verdict == "error":
        result.error(message + " (the marketplace requires the whole product in the frame)")
    else:
        result.warn(message)


def frame_cut_verdict(rules: Rules, sides: Iterable[str], position: str | None = None
                      ) -> str | None:
    """What a preset makes of a product the photo's frame cuts on ``sides``: "error" (a
    ``whole_product`` preset, on the main image or an unknown position), "warn" (a listing
    image, ``product_clear_of_edges``) or None. The check above and the export form's
    pre-check (``export_selectors.export_frame_cuts``) both ask it."""
    if not any(True for _ in sides):
        return None
    if rules.whole_product:
        return "error" if position in (None, "", MAIN_POSITION) else None
    return "warn" if rules.product_clear_of_edges else None


def stored_sides(value: Any) -> list[str]:
    """The sides a stored list of sides names, in ``_SIDES`` order, [] for anything else (a
    version computed before it, an edited row)."""
    if not isinstance(value, list | tuple):
        return []
    return [side for side in _SIDES if side in {v for v in value if isinstance(v, str)}]


def stored_frame_cut(signals: Any) -> list[str]:
    """The sides the photo's frame cuts the product on, from a cutout's stored signals: its
    ``frame_cut`` (:func:`export_signals`, the renderer's own ``frame_cut`` of the product's
    significant region, since 2026-12-06), else, for a version measured before it (until
    ``manage.py signals_backfill``), the engine's ``touching_sides``, which also counts a far
    detached part the layout leaves out. What the export form's pre-check and a dry run judge
    with :func:`frame_cut_verdict`, so both find the cut the render finds (QA35 B1)."""
    s = signals if isinstance(signals, dict) else {}
    return stored_sides(s["frame_cut"] if "frame_cut" in s else s.get("touching_sides"))


def drops_parts(spec: VariantSpec, dropped_parts: Any) -> bool:
    """Whether a render of ``spec`` leaves far detached parts out of its layout, by a cutout's
    stored ``dropped_parts`` (:func:`export_signals`, measured at ``FAINT_MARKS_THRESHOLD``): a
    trimming, non-scene spec at that threshold, for a count over 0. What a dry run foresees
    the render's warning by (:func:`foreseen`) and the pre-check says a kept shadow may go
    with (2026-12-08, verify48b)."""
    return (isinstance(dropped_parts, int) and not isinstance(dropped_parts, bool)
            and dropped_parts > 0 and spec.measures_product and not spec.is_scene
            and spec.alpha_threshold(1) == FAINT_MARKS_THRESHOLD)


def foreseen(preset: Preset, *, frame_cut: Iterable[str], faint_marks: Any,
             position: str | None = None, canvas: tuple[int, int] | None = None,
             dropped_parts: Any = None) -> ComplianceResult:
    """The errors and warnings the check of a rendered file (:func:`check_rendered`) will
    make of what a cutout's stored signals and its layout already say, for a dry run that
    renders nothing, in the check's own words: the photo's frame cutting the product (its
    stored ``frame_cut``, :func:`stored_frame_cut`, judged by :func:`_check_frame_cut`
    itself: an error on a whole-product main image, a warning where ``frame_cut_verdict``
    warns), a faint mark
    (:func:`_judge_faint_mark`: an error where :func:`_refuses_faint_mark`, the verdict
    :func:`faint_marks_refused` gives the export form's pre-check, else a warning from
    ``FAINT_MARK_SHARE``; only for a preset rendering at the signal's threshold) and the
    output's format and size, the spec's format and ``canvas`` (w, h) as the layout gives it
    (:func:`_check_format`, :func:`_check_size`: an admin's preset whose spec breaks its own
    format or size rules fails every file), in the check's order, so the first reason is the
    check's first too. ``dropped_parts``: the stored count of far detached parts
    (:func:`export_signals`), which a trimming preset at its threshold leaves out of the
    layout with the render's own warning. What neither can say (the file's own pixels:
    ghosts, canvas edges, bytes) is not here."""
    from .render import dropped_parts_warning  # render's types import this module

    result = ComplianceResult()
    _check_frame_cut(result, preset.rules, frame_cut, position)
    spec = preset.variant_spec
    if drops_parts(spec, dropped_parts):
        result.warn(dropped_parts_warning(dropped_parts))
    share = _share_at(preset, faint_marks)
    if share is not None and share >= FAINT_MARK_SHARE:
        count = faint_marks.get("count")
        at = faint_marks.get("at")
        _judge_faint_mark(result, preset.rules, count if isinstance(count, int) and count > 0
                          else 1, share, None,
                          at if isinstance(at, list) and len(at) == 2 else None)
    _check_format(result, preset.rules, preset.variant_spec.format)
    if canvas is not None:
        _check_size(result, preset.rules, *canvas)
    return result


def rejudge_position(*, errors: Iterable[str], warnings: Iterable[str],
                     measurements: Mapping[str, Any], rules: Rules,
                     position: str | None) -> ComplianceResult:
    """A stored result (its errors, warnings and measurements, made with ``rules``) judged
    again for the image at ``position``, without the file: the position changes only the
    frame-cut check (:func:`_check_frame_cut`: the whole-product rule binds the main
    image), whose one fact, ``frame_cut``, the measurements keep; every other finding
    stands. A result recorded without a position was judged as the main image."""
    m = dict(measurements)
    sides = m.get("frame_cut") or []
    before, after = ComplianceResult(), ComplianceResult()
    _check_frame_cut(before, rules, sides, m.get("position"))
    _check_frame_cut(after, rules, sides, position)
    result = ComplianceResult(measurements=m)
    kept_errors = [e for e in errors if e not in before.errors]
    kept_warnings = [w for w in warnings if w not in before.warnings]
    for message in kept_errors + after.errors:
        result.error(message)
    for message in kept_warnings + after.warnings:
        result.warn(message)
    m.pop("position", None)
    if position:
        m["position"] = position
    return result


def _check_faint_marks(result: ComplianceResult, rules: Rules,
                       marks: Iterable[dict[str, Any]]) -> None:
    """Warn about see-through marks inside the product's box (the renderer's
    ``faint_marks``): the ghost analysis of the file (:func:`_check_ghosts`) looks only away
    from the box, where nothing but background belongs. Inside it a mark is a ghost of the
    photo's background about half the time on the dev photos, otherwise a part of the product
    the cutout made see-through (blurred, under-cut): both need a look, and a small one is not
    certain enough to fail. It warns on every preset it is measured for, transparent masters
    too. A large one (FAINT_MARK_FAIL_SHARE of the product) fails on a white-background
    preset: on white it shows as a grey cloud whichever it is (QA: a mark worth 21 % of a
    banana's alpha mass passed with a warning). Malformed entries (an edited stored result)
    are skipped."""
    kept: list[dict[str, Any]] = []
    for mark in marks:
        try:
            box = [int(v) for v in mark["box"]]
            share = float(mark["share"])
            photo = [int(v) for v in mark.get("photo_box") or ()]
            points = {key: [int(v) for v in mark.get(key) or ()]
                      for key in ("point", "photo_point")}
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
        if len(box) == 4 and math.isfinite(share):
            kept.append({"box": box, "share": share,
                         **({"photo_box": photo} if len(photo) == 4 else {}),
                         **{key: xy for key, xy in points.items() if len(xy) == 2}})
    result.measurements["faint_marks"] = kept
    shown = [m for m in kept if m["share"] >= FAINT_MARK_SHARE]
    # every preset: banners and scenes are made from a transparent master, and the mark shows
    # on whatever it lands on (QA: a bunny's 3 % ghost passed the transparent PNG as "ok")
    if shown:
        largest = max(shown, key=lambda m: m["share"])
        # its deepest pixel, or (a result recorded before 2026-12-05) its box's corner
        x0, y0 = largest.get("point") or largest["box"][:2]
        share = largest["share"]
        # the file's position differs per preset (its own scale and margins); the photo's is
        # where the reviewer finds the mark on the card (QA: "x=312" for Amazon, "x=320" for
        # Shopify, for one mark)
        where = largest.get("photo_point") or largest.get("photo_box")
        _judge_faint_mark(result, rules, len(shown), share, (x0, y0), where)


def _judge_faint_mark(result: ComplianceResult, rules: Rules, count: int, share: float,
                      in_file: Sequence[int] | None, in_photo: Sequence[int] | None) -> None:
    """The finding of ``count`` faint marks the largest of which is ``share`` of the product:
    an error where ``rules`` refuse it, else a warning. The check of the file and a dry run
    (:func:`foreseen`, which knows no file position: ``in_file`` None) both say it here, so
    a refusal reads alike in both (the export's Presets table counts it as one reason)."""
    near = (f"x={in_file[0]}, y={in_file[1]}" + ("" if in_photo is None else
            f" in this file, x={in_photo[0]}, y={in_photo[1]} in the photo")
            if in_file is not None else
            "" if in_photo is None else f"x={in_photo[0]}, y={in_photo[1]} in the photo")
    message = (f"{count} {FAINT_MARKS.head} (a ghost "
               "of the photo's background, or a part of the product the cutout left "
               f"see-through; the largest{' near ' + near if near else ''}, "
               f"{share * 100:.1f}% of the product's solid area): check the cutout and "
               "retouch it in review")
    if _refuses_faint_mark(rules, share):
        result.error(message + f" (from {FAINT_MARK_FAIL_SHARE:.0%} it shows on white as "
                     "a grey cloud)")
    else:
        result.warn(message)


def _refuses_faint_mark(rules: Rules, share: float) -> bool:
    """Whether ``rules`` refuse a faint mark of ``share`` of the product's solid area (a
    white background, ``no_ghosts``, a mark of ``FAINT_MARK_FAIL_SHARE`` or more; it warns
    elsewhere): the one verdict, which the check of the file and a dry run
    (:func:`_judge_faint_mark`), the export form's pre-check, the review's pre-flag and the
    card (:func:`faint_marks_refused`) and the grid (:func:`faint_marks_refusers`) ask."""
    return share >= FAINT_MARK_FAIL_SHARE and rules.no_ghosts and rules.background == WHITE


#: the trim threshold the built-in white-background marketplace presets render with: the
#: cutout's ``faint_marks`` and ``product_px`` signals are measured at it (``export_signals``),
#: and a preset with another threshold (an admin's ``trim-T``) is left to the dry run for
#: faint marks; its product box is the same up to ``layout.SIGNIFICANT_ALPHA``
FAINT_MARKS_THRESHOLD = max(p.variant_spec.alpha_threshold(1) for p in PRESETS.values()
                            if _refuses_faint_mark(p.rules, FAINT_MARK_FAIL_SHARE))


def export_signals(alpha: np.ndarray) -> dict[str, Any]:
    """What export will measure of a finished cutout's ``alpha`` (H x W uint8), from the one
    ``layout.significant_region`` a render at ``FAINT_MARKS_THRESHOLD`` (the built-in presets'
    ``trim``) lays out and checks: ``product_px``, the region's box [w, h] in cutout px ([0, 0]
    without a product), which the renderer scales and ``check_source`` holds to the
    enlargement limit, so the review's pre-flag, the card, a dry run and the export form's
    pre-check read the size export decides by (QA33 L4: a working-copy measure said 105 px
    where export refused 112x107); ``product_fill_px``, the box of the region's alpha >=
    ``RIPPLE_ALPHA`` an enlarging fill is measured on (``layout.plan_product_layout``; a
    version without it holds an older ``product_px``: ``services.backfill``); and
    ``faint_marks`` (:func:`faint_marks_signal`); and ``frame_cut``, the sides the photo's
    frame cuts the product on as the renderer judges them (``render.frame_cut`` of the same
    region: a far detached part the layout leaves out does not count, where the engine's
    ``touching_sides`` counts every part of the mask; read by :func:`stored_frame_cut`). A few
    ms at 2000 px; the caller already holds the array. ``dropped_parts``: the far detached
    parts that region leaves out (a trimming render warns of them, a dry run foresees it).
    ``export_shadow_off``: per render kind, how far the contact shadow a ``shadow-synthetic``
    spec or a scene's ``shadow-contact`` draws lies from the product's body, placed by the
    pixels that render takes for the product (``operations.export_shadow_off`` of the same
    region, at a scene's default trim threshold ``scene.SCENE_TRIM_THRESHOLD``; 2026-12-07,
    shadow44; one constant since foot45)."""
    from .operations import export_shadow_off
    from .render import frame_cut  # render's types import this module
    from .scene import SCENE_TRIM_THRESHOLD

    sig = significant_region(alpha, FAINT_MARKS_THRESHOLD)
    box = sig.box if sig is not None else (0, 0, 0, 0)
    # the renderer's ``bbox(("significant", t), RIPPLE_ALPHA) or product``
    fill = (mask_box(sig.patch, RIPPLE_ALPHA) if sig is not None else None) or box
    return {"product_px": [int(box[2] - box[0]), int(box[3] - box[1])],
            "product_fill_px": [int(fill[2] - fill[0]), int(fill[3] - fill[1])],
            "faint_marks": _faint_marks_of(sig), "frame_cut": frame_cut(sig),
            "dropped_parts": sig.dropped_parts if sig is not None else 0,
            "export_shadow_off": export_shadow_off(
                alpha, sig if FAINT_MARKS_THRESHOLD == SCENE_TRIM_THRESHOLD
                else significant_region(alpha, SCENE_TRIM_THRESHOLD))}


def faint_marks_signal(alpha: np.ndarray) -> dict[str, Any]:
    """A finished cutout's ``signals["faint_marks"]``: the renderer's own measure
    (``render.faint_marks`` of ``layout.significant_region`` at ``FAINT_MARKS_THRESHOLD``, what
    compliance reads from every white-background render) of ``alpha`` (H x W uint8): the
    marks compliance counts (``count``), the largest one's share of the product's solid area,
    its box and its deepest pixel (``at``, where a reviewer finds it) in cutout px."""
    return _faint_marks_of(significant_region(alpha, FAINT_MARKS_THRESHOLD))


def _faint_marks_of(sig: Significant | None) -> dict[str, Any]:
    from .render import faint_marks  # render's types import this module

    marks = faint_marks(sig)
    out: dict[str, Any] = {"threshold": FAINT_MARKS_THRESHOLD, "share": 0.0,
                           "count": sum(1 for m in marks if m.share >= FAINT_MARK_SHARE)}
    if marks:  # sorted largest first
        out.update(share=marks[0].share, box=[int(v) for v in marks[0].box])
        if marks[0].point is not None:
            out["at"] = [int(v) for v in marks[0].point]
    return out


def stored_shadow_off(stored: Any, render: str | None) -> float | None:
    """How far the contact shadow a render of kind ``render``
    (``operations.shadow_render``) draws lies from the product's body, from a cutout's
    stored ``export_shadow_off`` (``operations.export_shadow_off``); None when it was not
    measured (a version finished before 2026-12-07, shadow44, until ``signals_backfill``: its
    ``contact_off_body`` took the silhouette, alpha >= 0.1, for the product where the export
    takes its own region, and is not read). The export form's pre-check and the export run
    (``shadow_off_warning``) both read it here (the selectors' pass-through to it went
    2026-12-07, reread47)."""
    if not isinstance(stored, dict) or render is None:
        return None
    value = stored.get(render)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def kept_shadow_off(off_body: Any, has_layer: bool) -> float | None:
    """How far the shadow layer a version stored lies from the product's body, as a
    ``shadow-keep`` render ships it: the version's own ``shadow_off_body`` (the synthetic
    layer its run or retouch drew under whatever is lowest, measured on that layer's own
    silhouette and footprint: ``imaging.shadow.synthetic_shadow_placed``, the review's
    *Shadow off the product* pre-flag). None without a stored layer (nothing is kept) or
    without the measure: a natural shadow (Shadow keep) is the photo's own, where the photo
    put it, and is not measured (2026-12-07, keepshadow47; verify47)."""
    if not has_layer or not isinstance(off_body, int | float) or isinstance(off_body, bool):
        return None
    return float(off_body)


def kept_shadow_left_out_said(warnings: Iterable[str]) -> bool:
    """Whether a file's render ``warnings`` say it left the kept shadow out with the far
    detached part it lay under (``render.kept_shadow_left_out_warning``): that file carries no
    kept shadow, so the version's measure of where it lies (:func:`kept_shadow_off`) is not
    the file's (2026-12-08, verify48b)."""
    return any(str(w).startswith(KEPT_SHADOW_LEFT_OUT.head) for w in warnings)


def shadow_off_warning(spec: VariantSpec, stored: Any, kept: float | None = None
                       ) -> str | None:
    """The warning a file of ``spec`` ships with when the contact shadow it draws under
    whatever is lowest (``shadow-synthetic``, a scene's ``shadow-contact``) lies off the
    product, under a stray part: the export form's pre-check (``shadow-off-body``) judged from
    the same stored measure by the same rule (over ``OFF_BODY_SHARE`` of the product's size),
    so a file exported anyway despite that warning carries it in the manifest and on the
    export's page, as an enlarged or a frame-cut file does (2026-12-07, export46; verify45
    L3: it shipped "ok"). None when the render draws no such shadow or was not measured.
    The file itself cannot tell a shadow under a stray part from one under the product.
    A ``shadow-keep`` spec draws none but ships the version's stored layer: ``kept``
    (:func:`kept_shadow_off`) says where that lies, by the same threshold, in its own words
    (2026-12-07, keepshadow47; verify47: eBay shipped a kept synthetic shadow under a sign's
    skirt "ok")."""
    if spec.shadow == "keep":
        if kept is None or kept <= OFF_BODY_SHARE:
            return None
        return (f"{KEPT_SHADOW_OFF.head}, under a stray part (the synthetic "
                "shadow this version drew when it was cut lies under whatever is lowest in "
                f"the image; {kept:.2f} of the product's size from it): remove the stray part "
                "in review and approve the new version")
    off = stored_shadow_off(stored, shadow_render(spec))
    if off is None or off <= OFF_BODY_SHARE:
        return None
    drawn = CONTACT_SHADOW_OFF if spec.is_scene else SYNTHETIC_SHADOW_OFF
    return (f"{drawn.head}, under a stray part (whatever is "
            f"lowest in the image; {off:.2f} of the product's size from it): remove the "
            "stray part in review and approve the new version")


def faint_marks_refused(preset: Preset, signal: Any) -> bool:
    """Whether ``preset`` will refuse a cutout for the faint mark its stored ``faint_marks``
    signal measured, by the verdict the check of the render gives (:func:`_refuses_faint_mark`).
    False without the signal (a version computed before it) or for a preset rendering at
    another threshold. The review's pre-flag and the export form's pre-check both ask it."""
    share = _share_at(preset, signal)
    return share is not None and _refuses_faint_mark(preset.rules, share)


def _largest_share(signal: Any) -> float | None:
    """The largest mark's share a stored ``faint_marks`` signal holds; None without the signal
    or for a malformed one (an edited row)."""
    share = signal.get("share") if isinstance(signal, dict) else None
    if not isinstance(share, int | float) or isinstance(share, bool):
        return None
    return float(share)


def _share_at(preset: Preset, signal: Any) -> float | None:
    """:func:`_largest_share`, for a signal measured at the threshold ``preset`` renders at
    (another threshold's marks are not the render's); None otherwise."""
    share = _largest_share(signal)
    if share is None or preset.variant_spec.alpha_threshold(1) != signal.get("threshold"):
        return None
    return share


#: a faint mark of this share of the product's solid area or more is worth a look before
#: approval even where no preset refuses it: on white it shows as a grey cloud beside or
#: over the product (QA 2026-12-05: a bunny's ghost of 2.2 % shipped to Etsy with a warning
#: nobody read after a bulk approve). On the dev and soft-dev `default` cutouts, 15 of 98
#: measure 2-10 %; in about two thirds of them most of the mark is background (a ghost), in
#: the rest the product held see-through, which shows on white as well.
FAINT_MARK_LOOK_SHARE = 0.02


def faint_mark_shows(signal: Any) -> bool:
    """Whether the cutout's stored ``faint_marks`` signal holds a mark of
    ``FAINT_MARK_LOOK_SHARE`` or more, measured at the white-background presets' threshold:
    the review's *Faint mark* pre-flag for marks no preset refuses (``faint_marks_refused``
    says which do). False without the signal."""
    share = _largest_share(signal)
    return (share is not None and share >= FAINT_MARK_LOOK_SHARE
            and signal.get("threshold") == FAINT_MARKS_THRESHOLD)


def faint_marks_refusers() -> list[str]:
    """The labels of the built-in presets that refuse a large faint mark at all (the presets
    a *Faint marks* pre-flag can name): what a grid tile says without reading the signal,
    those that refuse the smallest mark any of them refuses."""
    return faint_marks_refusing({"threshold": FAINT_MARKS_THRESHOLD,
                                 "share": FAINT_MARK_FAIL_SHARE})


def faint_marks_refusing(signal: Any) -> list[str]:
    """The labels of the built-in presets that will refuse a cutout for the faint mark its
    ``signals["faint_marks"]`` measured (``faint_marks_refused``; none without the signal):
    the review's pre-flag and the card's note name them."""
    return [p.label for p in PRESETS.values() if faint_marks_refused(p, signal)]


def _ghost_region(box: tuple[float, float, float, float], f: int, ws: int, hs: int
                  ) -> list[Box]:
    """The product's region in the ``ws`` x ``hs`` analysis image (``box`` already divided by
    ``f``): the box with the halo tolerance, and the contact-shadow zone below it."""
    x0, y0, x1, y1 = box
    t = HALO_TOLERANCE_PX / f + 1
    pad = (x1 - x0) / 4
    return [_clip_analysis(r, ws, hs) for r in ((x0 - t, y0 - t, x1 + t, y1 + t),
                                                (x0 - pad, y1 - t, x1 + pad, hs))]


def _kept_shadow_region(box: tuple[float, float, float, float], f: int, ws: int, hs: int
                        ) -> Box:
    """Where a kept natural shadow may lie (the extractor's one zone, which wraps the
    product's base and so reaches beside its lower half), in the analysis image, with the
    halo tolerance."""
    x0, y0, x1, y1 = kept_shadow_zone(box)
    t = HALO_TOLERANCE_PX / f + 1
    return _clip_analysis((x0 - t, y0 - t, x1 + t, y1 + t), ws, hs)


def _clip_analysis(rect: tuple[float, float, float, float], ws: int, hs: int) -> Box:
    a, b, c, d = rect
    return max(0, int(a)), max(0, int(b)), min(ws, int(np.ceil(c))), min(hs, int(np.ceil(d)))


def _footprint_inside(rect: Box, size: tuple[int, int], small: tuple[int, int]) -> Box:
    """The source pixels (``size``: w, h) that an area reduction to ``small`` feeds only into
    analysis pixels inside ``rect``: a pixel outside ``rect`` averages source pixels
    [c * w / ws, (c + 1) * w / ws), so those are every source pixel not overlapping it.
    Integer arithmetic: the bounds are exact."""
    (w, h), (ws, hs) = size, small
    a, b, c, d = rect
    return (-(-a * w // ws) if a > 0 else 0, -(-b * h // hs) if b > 0 else 0,
            c * w // ws if c < ws else w, d * h // hs if d < hs else h)


def _rects_cover(outer: list[Box], inner: list[Box]) -> bool:
    """Whether every (non-empty) rectangle of ``inner`` lies inside one of ``outer``."""
    return all(any(o[0] <= r[0] and o[1] <= r[1] and r[2] <= o[2] and r[3] <= o[3]
                   for o in outer)
               for r in inner if r[0] < r[2] and r[1] < r[3])


def _check_ghosts(result: ComplianceResult, arr: np.ndarray, paper: Colour, has_alpha: bool,
                  product_bbox: Box | None, clean: list[Box] | None = None) -> None:
    """Marks on the background away from the product: detached blobs, ghosts of the photo's
    background. The product region is the reported box (sanity-checked elsewhere) or the
    largest mark; a contact shadow below the product is allowed, and so is a kept natural
    shadow wrapping its base (:func:`~cutouts.imaging.shadow.kept_shadow_zone`) where it is
    joined to the product: a detached mark there is still a ghost.

    ``clean``: rectangles outside which every pixel is known to be exactly ``paper`` (the
    margin count of :func:`_check_background` found none). When the analysis pixels outside
    the product's region average only such pixels, each is exactly ``paper``: no ink, no
    mark, nothing to report, which is what the analysis would conclude at the cost of a
    reduction and a labelling of the whole image."""
    h, w = arr.shape[:2]
    f = max(1, int(np.ceil(max(h, w) / GHOST_ANALYSIS_SIDE)))
    hs, ws = (int(np.ceil(h / f)), int(np.ceil(w / f))) if f > 1 else (h, w)
    if clean is not None and product_bbox is not None and paper is not None:
        bx0, by0, bx1, by1 = product_bbox
        zone = _ghost_region((bx0 / f, by0 / f, bx1 / f, by1 / f), f, ws, hs)
        if _rects_cover([_footprint_inside(r, (w, h), (ws, hs)) for r in zone], clean):
            return
    small = arr
    if f > 1:
        # area averaging first: for a page colour at the end of the range (white, black,
        # transparent) the ink is linear in the pixel, so every mark keeps its ink mass
        small = cv2.resize(arr, (ws, hs), interpolation=cv2.INTER_AREA)
    ink = _ink(small, paper)
    level = max(2, INK_LEVEL // (f * f)) if f > 1 else INK_LEVEL // 2
    marks = (ink >= level).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(marks, connectivity=8,
                                                           ltype=cv2.CV_32S)
    if n <= 1:
        return
    if product_bbox is not None:
        x0, y0, x1, y1 = (v / f for v in product_bbox)
    else:
        big = 1 + int(stats[1:, cv2.CC_STAT_AREA].argmax())
        x0, y0 = stats[big, 0], stats[big, 1]
        x1, y1 = x0 + stats[big, 2], y0 + stats[big, 3]
    region = np.zeros_like(marks, dtype=bool)
    for a, b, c, d in _ghost_region((x0, y0, x1, y1), f, ws, hs):
        region[b:d, a:c] = True
    outside = labels.copy()
    outside[region] = 0
    if outside.any():
        # the extractor keeps a shadow only where it joins the product, so a mark in its zone
        # is shadow when it reaches the product's region
        a, b, c, d = _kept_shadow_region((x0, y0, x1, y1), f, ws, hs)
        kept = outside[b:d, a:c]  # a view: zeroed in place
        joined = np.zeros(n, bool)
        joined[labels[region]] = True
        joined[0] = False
        kept[joined[kept]] = 0
    ids = np.unique(outside[outside > 0])
    if ids.size == 0:
        return
    mass = np.bincount(outside.ravel(), weights=ink.ravel().astype(np.float64),
                       minlength=n)[ids] * (f * f) / 255.0
    limit = max(GHOST_MIN, GHOST_SHARE * w * h)
    ghosts = [(int(i), float(m)) for i, m in zip(ids, mass, strict=True) if m >= limit]
    result.measurements["ghost_mass"] = round(float(mass.sum()), 1)
    if ghosts:
        worst = max(ghosts, key=lambda g: g[1])
        # where the counted part lies: the component's own box may hold the product
        ys, xs = np.nonzero(outside == worst[0])
        gx, gy = int(xs.min()) * f, int(ys.min()) * f
        result.error(f"{len(ghosts)} mark(s) on the background away from the product "
                     f"(ghosts; the largest near x={gx}, y={gy}, {worst[1]:.0f} px of ink)")


#: ink (0-255) from which a pixel outside the product is shadow: alpha 0.02 of a black layer
SHADOW_INK = 6
#: a shadow (with whatever else lies around the product) may cover at most this share of the
#: canvas outside the product's box: on eBay renders of the 25 GrabCut dev photos the kept
#: shadows cover 0-2.2 %, the old extractor's floor smears up to 23 % (9 of 25 above 12 %)
SHADOW_MAX_COVER = 0.12


def _check_shadow_extent(result: ComplianceResult, arr: np.ndarray, paper: Colour,
                         product_bbox: Box) -> None:
    """A kept shadow is the product's contact or cast shadow, not the photo's floor: it must
    stay out of the band along the frame the renderer keeps clear
    (:func:`~cutouts.variants.layout.shadow_clearance`) and cover at most SHADOW_MAX_COVER of
    the canvas outside the product's box (QA: water and rocks kept as a grey smear from x=32 to
    1567 of a 1600 px eBay image passed). Read on the file, on an area-reduced copy (a shadow
    is smooth; its ink survives the averaging)."""
    h, w = arr.shape[:2]
    f = max(1, int(np.ceil(max(h, w) / GHOST_ANALYSIS_SIDE)))
    hs, ws = (int(np.ceil(h / f)), int(np.ceil(w / f))) if f > 1 else (h, w)
    small = cv2.resize(arr, (ws, hs), interpolation=cv2.INTER_AREA) if f > 1 else arr
    ink = _ink(small, paper) >= SHADOW_INK
    x0, y0, x1, y1 = product_bbox
    t = HALO_TOLERANCE_PX
    ink[max(0, (y0 - t) // f):min(hs, -(-(y1 + t) // f)),
        max(0, (x0 - t) // f):min(ws, -(-(x1 + t) // f))] = False
    m = result.measurements
    cover = float(ink.mean())
    m["shadow_cover_pct"] = round(cover * 100, 2)
    # analysis pixels wholly inside the band (they average only pixels in it)
    band = shadow_clearance((w, h)) // f
    sides = []
    if band > 0:
        for side, line in (("top", ink[:band]), ("bottom", ink[hs - band:]),
                           ("left", ink[:, :band]), ("right", ink[:, ws - band:])):
            if line.any():
                sides.append(side)
    m["shadow_edges"] = sides
    if sides:
        result.error(f"a shadow or mark around the product reaches the {', '.join(sides)} "
                     f"edge(s) of the canvas (within {shadow_clearance((w, h))} px): it reads "
                     "as the photo's floor; cut it again with shadow none or synthetic, or "
                     "trim the shadow in review")
    if cover > SHADOW_MAX_COVER:
        result.error(f"a shadow or mark around the product covers {cover * 100:.0f}% of the "
                     f"canvas (at most {SHADOW_MAX_COVER:.0%}): a contact shadow is near the "
                     "product, not the whole floor of the photo")


def _background_mask(arr: np.ndarray, color: Colour, has_alpha: bool) -> np.ndarray:
    """True where the pixel is background (exact colour, or fully transparent).

    Channels are compared one at a time: ``(arr == color).all(axis=2)`` is several times
    slower on large images (a reduction over a short last axis).
    """
    if color is None:
        if arr.shape[2] < 4:
            return np.zeros(arr.shape[:2], dtype=bool)
        return np.asarray(arr[..., 3] == 0)
    bg = arr[..., 0] == color[0]
    bg &= arr[..., 1] == color[1]
    bg &= arr[..., 2] == color[2]
    if has_alpha:
        bg &= arr[..., 3] == 255
    return np.asarray(bg)


def _count_not_background(arr: np.ndarray, color: Colour, has_alpha: bool) -> int:
    if color is not None and arr.size and arr.shape[2] == 3 + has_alpha:
        exact = _exact_pixel(color, arr.shape[2])
        if _all_exactly([arr], exact):  # a clean white margin: one min pass, no mask
            return 0
        # one OpenCV pass instead of a mask per channel: the margins of every file go here
        return int(arr.shape[0] * arr.shape[1]
                   - cv2.countNonZero(cv2.inRange(arr, exact, exact)))
    return int(arr.shape[0] * arr.shape[1]
               - np.count_nonzero(_background_mask(arr, color, has_alpha)))


def _any_not_background(arr: np.ndarray, color: Colour, has_alpha: bool,
                        rows: int = 64) -> bool:
    """Whether any pixel is not background; stops at the first band of rows that has one.

    The middle row goes first: a product box almost always has product pixels there.
    """
    h = arr.shape[0]
    if h == 0 or arr.shape[1] == 0:
        return False
    mid = h // 2
    if _count_not_background(arr[mid:mid + 1], color, has_alpha):
        return True
    return any(_count_not_background(arr[r:r + rows], color, has_alpha)
               for r in range(0, h, rows))


def _intervals_outside(excluded: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """The parts of ``range(size)`` not covered by the ``excluded`` half-open intervals."""
    out, pos = [], 0
    for a, b in sorted((max(0, a), min(size, b)) for a, b in excluded):
        if a > pos:
            out.append((pos, a))
        pos = max(pos, b)
    if pos < size:
        out.append((pos, size))
    return out


def _clip_rects(rects: list[Box], w: int, h: int) -> list[Box]:
    """The (x0, y0, x1, y1) ``rects`` cut to a ``w`` x ``h`` image, empty ones dropped."""
    rects = [(max(0, x0), max(0, y0), min(w, x1), min(h, y1)) for x0, y0, x1, y1 in rects]
    return [r for r in rects if r[0] < r[2] and r[1] < r[3]]


def _count_outside(arr: np.ndarray, color: Colour, has_alpha: bool,
                   rects: list[tuple[int, int, int, int]]) -> int:
    """Exact number of non-background pixels outside the (x0, y0, x1, y1) ``rects``.

    Only the pixels outside the rectangles are compared, band of rows by band of rows, so a
    product filling 85 % of the frame costs a fraction of a full-image mask.
    """
    h, w = arr.shape[:2]
    rects = _clip_rects(rects, w, h)
    cuts = sorted({0, h, *(r[1] for r in rects), *(r[3] for r in rects)})
    total = 0
    for r0, r1 in zip(cuts, cuts[1:], strict=False):
        excluded = [(x0, x1) for x0, y0, x1, y1 in rects if y0 <= r0 and r1 <= y1]
        for c0, c1 in _intervals_outside(excluded, w):
            total += _count_not_background(arr[r0:r1, c0:c1], color, has_alpha)
    return total


def _effective_background(rules: Rules, arr: np.ndarray, has_alpha: bool) -> Colour:
    """The background of this file: an RGB tuple, or None for transparent.

    WHITE_OR_TRANSPARENT resolves per file; without a rule an alpha channel means transparent
    and an opaque file's top-left pixel is taken as its background.
    """
    if rules.background is None:
        return None if has_alpha else tuple(int(v) for v in arr[0, 0, :3])
    if rules.background == TRANSPARENT:
        return None
    if rules.background == WHITE_OR_TRANSPARENT:
        if has_alpha and (_ring(arr, 1)[:, 3] == 0).all():
            return None
        return (255, 255, 255)
    return _parse_hex(rules.background)


def _check_background(result: ComplianceResult, rules: Rules, arr: np.ndarray, has_alpha: bool,
                      product_bbox: Box | None) -> list[Box] | None:
    """Background purity and stray pixels in the margins. Returns the rectangles outside which
    every pixel is exactly the (opaque) background colour, when the margin count proved it,
    else None."""
    if rules.background is None:
        return None
    h, w = arr.shape[:2]
    color = _effective_background(rules, arr, has_alpha)
    if color is None:
        result.measurements["background"] = "transparent"
        if not has_alpha:  # encoders (WebP) drop an all-opaque alpha channel
            result.warn(f"{NO_ALPHA.head}: the image is fully opaque, nothing is transparent")
        elif not (arr[..., 3] == 0).any():
            result.warn(f"{NO_CLEAR_PIXEL.head}: was the background removed?")
        return None

    hexcol = "#{:02X}{:02X}{:02X}".format(*color)
    k = max(1, min(h, w) // 100)
    ring_size = sum(p.shape[0] * p.shape[1] for p in _ring_parts(arr, k))
    result.measurements["background"] = hexcol
    if has_alpha:
        semi = int((arr[..., 3] < 255).sum())
        if semi:
            result.error(
                f"{semi} transparent or semi-transparent pixels: on the marketplace they show "
                f"as a fringe/halo; flatten the image onto {hexcol}"
            )
    target = np.array(color, dtype=np.uint8)
    bad = 0
    if not _all_exactly(_ring_parts(arr, k), _exact_pixel(color, arr.shape[2])):
        ring = _ring(arr, k)
        diff = ring[:, 0] != color[0]
        diff |= ring[:, 1] != color[1]
        diff |= ring[:, 2] != color[2]
        if has_alpha:
            diff |= ring[:, 3] != 255
        bad = int(diff.sum())
    if bad:
        worst = ring[diff][np.abs(ring[diff][:, :3].astype(int) - target).sum(axis=1).argmax()]
        result.error(
            f"background is not pure {hexcol}: {bad} of {ring_size} border pixels differ "
            f"(e.g. {tuple(int(v) for v in worst[:3])})"
        )
    # stray non-background pixels in the margins (halo, speckles) beyond the product box
    if product_bbox is None:
        return None
    x0, y0, x1, y1 = product_bbox
    t = HALO_TOLERANCE_PX
    pad = (x1 - x0) // 4
    rects = _clip_rects([
        (x0 - t, y0 - t, x1 + t, y1 + t),
        # a contact shadow may sit under the product
        (x0 - pad, y1 - t, x1 + pad, h),
    ], w, h)
    stray = _count_outside(arr, color, has_alpha, rects)
    if stray > 0.0005 * h * w:
        # a kept natural shadow wrapping the base is neither halo nor speckle (the ghost check
        # tells a mark detached from the product there)
        zx0, zy0, zx1, zy1 = kept_shadow_zone(product_bbox)
        zone = (int(zx0) - t, int(zy0) - t, int(np.ceil(zx1)) + t, int(np.ceil(zy1)) + t)
        beyond = _count_outside(arr, color, has_alpha, [*rects, *_clip_rects([zone], w, h)])
    else:
        beyond = stray
    if beyond > 0.0005 * h * w:
        result.warn(f"{beyond} {MARGINS.head} (halo, speckles or a detached shadow)")
    return rects if stray == 0 else None


def _check_fill(result: ComplianceResult, rules: Rules, arr: np.ndarray, has_alpha: bool,
                product_bbox: Box | None, fill_pct: float | None) -> None:
    h, w = arr.shape[:2]
    measured = None
    if product_bbox is not None:
        x0, y0, x1, y1 = product_bbox
        if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
            result.error(f"reported product box {product_bbox} lies outside the {w}x{h} image")
            return
        color = _effective_background(rules, arr, has_alpha)
        inside = arr[y0:y1, x0:x1]
        if not _any_not_background(inside, color, has_alpha):
            result.error("the reported product box contains only background pixels")
            return
        measured = max((x1 - x0) / w, (y1 - y0) / h) * 100
    elif rules.background is not None or has_alpha:
        color = _effective_background(rules, arr, has_alpha)
        fg = ~_background_mask(arr, color, has_alpha)
        rows, cols = np.flatnonzero(fg.any(axis=1)), np.flatnonzero(fg.any(axis=0))
        if rows.size == 0:
            result.error("the image contains only background: no product found")
            return
        measured = max((cols[-1] + 1 - cols[0]) / w, (rows[-1] + 1 - rows[0]) / h) * 100
        if rules.min_fill_pct is not None:
            result.warn(f"{FILL_WITH_SHADOW.head} (shadow included)")
    elif fill_pct is not None:
        measured = float(fill_pct)
    if measured is None:
        return
    result.measurements["fill_pct"] = round(measured, 2)
    if rules.min_fill_pct is not None and measured < rules.min_fill_pct - FILL_TOLERANCE:
        result.error(f"product fills {measured:.1f}% of the frame; at least "
                     f"{rules.min_fill_pct:g}% required")


def _has_border(rgb: np.ndarray) -> bool:
    """A uniform frame whose colour differs from what lies just inside it."""
    h, w = rgb.shape[:2]
    if min(h, w) < 20:
        return False
    # channels as rows: numpy reduces a short last axis slowly (1.4 ms a file otherwise);
    # the sums of 8-bit values are exact, so the means are the same numbers
    outer = np.ascontiguousarray(_ring(rgb, 1).T)
    mean = outer.sum(axis=1, dtype=np.int64) / outer.shape[1]
    # the largest |pixel - mean| is at a channel's maximum or minimum
    if max((outer.max(axis=1) - mean).max(), (mean - outer.min(axis=1)).max()) > 12:
        return False  # not uniform: no drawn frame
    for depth in (2, 4, 8, max(8, min(h, w) // 50)):
        inner = np.ascontiguousarray(_ring(rgb[depth:h - depth, depth:w - depth], 1).T)
        if np.abs(inner.sum(axis=1, dtype=np.int64) / inner.shape[1] - mean).max() > 24:
            return True
    return False


def check_spec(spec: str | VariantSpec, preset: Preset | Rules) -> list[str]:
    """Errors a spec (parsed or not) earns against a preset's rules before any pixel: scene
    operations mixed into a marketplace preset, whose rules forbid scenes."""
    rules = preset.rules if isinstance(preset, Preset) else preset
    tokens = as_spec(spec).scene_tokens
    if rules.no_scenes and tokens:
        return [f"marketplace rules forbid scenes: remove {', '.join(tokens)} (use a scene "
                "preset such as web_hero for banners and ads)"]
    return []


def check_rendered(rendered: RenderedVariant, preset: Preset | Rules,
                   model_licence: LicenceInfo = None,
                   position: str | None = None) -> ComplianceResult:
    """:func:`check_variant` for a :class:`~cutouts.variants.render.RenderedVariant` of the
    image at ``position`` (its catalog position code, None when unknown)."""
    meta = rendered.metadata
    box = meta.get("source_product_bbox")
    return check_variant(
        rendered.data,
        preset,
        product_bbox=rendered.product_bbox,
        fill_pct=rendered.fill_pct,
        model_licence=model_licence,
        enlargement=meta.get("scale"),
        source_product_size=(box[2] - box[0], box[3] - box[1]) if box else None,
        scene="scene" in meta,
        frame_cut=meta.get("frame_cut"),
        faint_marks=meta.get("faint_marks"),
        position=position,
    )

"""Scenes: a cutout composed on a library background with placement, shadow, harmony and logo.

Each scene operation is one class that contributes its own step to a :class:`SceneContext`:
``scene_setup`` (canvas, background, safe area, scale, floor) and ``scene_compose`` for the
phases ``product`` (adjust the product layer), ``under`` (draw under the product, e.g. shadows)
and ``over`` (draw on top, e.g. logos). The renderer only places the product and runs the
phases, so a new operation needs no change here. Pure (numpy, OpenCV, Pillow); the library
items arrive as :class:`SceneAsset` values from the caller.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageStat

from cutouts.imaging.shadow import contact_band, footprint_under, silhouette

from .errors import RenderError, SpecError
from .layout import RIPPLE_ALPHA, Significant, alpha_array, significant_region
from .spec import (
    SLUG_RE,
    FlagOperation,
    IntOperation,
    Operation,
    VariantSpec,
    library_input,
    register_operation,
)
from .warning_kinds import FLOOR_LINE

DEFAULT_SAFE_PCT = 5
DEFAULT_SCALE_PCT = 80
#: light comes from above when a background gives no direction (degrees, y up, 0 = right)
DEFAULT_LIGHT_DEG = 90.0
CONTACT_OPACITY = 0.5
DROP_OPACITY = 0.35
KEEP_OPACITY = 1.0
CORNERS = ("tl", "tr", "bl", "br")
LOGO_WIDTH_SHARE = 0.16
LOGO_HEIGHT_SHARE = 0.18
#: a scene lays out the product's significant region at this trim threshold unless the spec
#: says ``trim-T`` (the one default of ``render_scene``, ``render._render_scene`` and the
#: export's pre-check, which measures a cutout's ``export_shadow_off`` at it)
SCENE_TRIM_THRESHOLD = 8


@dataclass(frozen=True)
class SceneAsset:
    """A library item: a background (RGB) with its floor line and light, or a logo (RGBA)."""

    image: Image.Image
    floor_pct: float | None = None  # floor line, % of the image height from the top
    light_deg: float | None = None  # where the light comes from (degrees, y up, 0 = right)
    sha256: str = ""

    def fingerprint(self) -> str:
        """What the rendition cache key needs: content and the editable estimates."""
        digest = self.sha256 or hashlib.sha256(self.image.tobytes()).hexdigest()
        return f"{digest}:{self.floor_pct}:{self.light_deg}"


@dataclass
class SceneContext:
    canvas: tuple[int, int]
    assets: dict[str, SceneAsset]
    warnings: list[str]
    background: Image.Image | None = None
    floor_y: float | None = None  # canvas px where the product stands
    light_deg: float = DEFAULT_LIGHT_DEG
    safe: tuple[int, int, int, int] = (0, 0, 0, 0)
    scale_pct: float = DEFAULT_SCALE_PCT
    product_shadow: Image.Image | None = None  # the cutout's shadow layer, cropped like layer
    layer: Image.Image | None = None  # the placed product (RGBA, output size)
    position: tuple[int, int] = (0, 0)
    info: dict[str, Any] = field(default_factory=dict)
    #: the setup steps only measure (safe area, scale, floor line): no pixel is made, and a
    #: library image need not be decoded (its size is read from its header)
    measure_only: bool = False

    def asset(self, slug: str, what: str) -> SceneAsset:
        found = self.assets.get(slug)
        if found is None:
            raise RenderError(f"unknown {what} {slug!r}: add it to the background library")
        return found

    @property
    def product_box(self) -> tuple[int, int, int, int]:
        x, y = self.position
        assert self.layer is not None  # placed before any compose step
        # the box of the layer's nonzero alpha (any alpha above 0, faint or not; colour under
        # alpha 0 is not counted), read in place: ``getchannel("A")`` copied the whole
        # band first (2026-12-07, reread47)
        box = self.layer.getbbox(alpha_only=True) or (0, 0, *self.layer.size)
        return box[0] + x, box[1] + y, box[2] + x, box[3] + y

    @property
    def away_from_light(self) -> tuple[float, float]:
        """Unit vector, image coordinates (y down), pointing the way shadows fall."""
        a = math.radians(self.light_deg)
        return -math.cos(a), math.sin(a)

    def darken(self, mask: Image.Image, at: tuple[int, int], opacity: float) -> None:
        """Multiply the background by (1 - opacity * mask) where ``mask`` (L) lies."""
        if opacity < 1:
            mask = mask.point(lambda v: round(v * opacity))
        assert self.background is not None  # set up before any compose step
        self.background.paste((0, 0, 0), (at[0], at[1], at[0] + mask.width,
                                          at[1] + mask.height), mask=mask)


# --------------------------------------------------------------------------- estimators


def _luma(rgb: Image.Image, side: int = 256) -> np.ndarray:
    im = rgb.convert("L")
    im.thumbnail((side, side), Image.Resampling.BOX)
    return np.asarray(im, dtype=np.float32)


def estimate_floor(rgb: Image.Image) -> float:
    """Where a product would stand, in % of the height: the strongest horizontal structure
    (table edge, wall/floor seam, horizon) in the lower two thirds; 75 when there is none."""
    lum = cv2.GaussianBlur(_luma(rgb), (0, 0), 1.5)
    h = lum.shape[0]
    if h < 8:
        return 75.0
    dy = np.abs(np.diff(lum, axis=0))
    rows = np.median(dy, axis=1)  # a line across the picture, not one object's edge
    lo, hi = int(h * 0.33), int(h * 0.95)
    band = rows[lo:hi]
    if band.size == 0 or band.max() < 1.0:
        return 75.0
    y = lo + int(band.argmax()) + 1
    return round(100.0 * y / int(h), 1)


def estimate_light(rgb: Image.Image) -> float:
    """Where the light comes from (degrees, y up, 0 = from the right): the direction of the
    image's brightness gradient (a plane fitted to the blurred luminance); from above when flat."""
    lum = cv2.GaussianBlur(_luma(rgb, 64), (0, 0), 3)
    h, w = lum.shape
    ys, xs = np.mgrid[0:h, 0:w]
    a = np.column_stack([np.ones(h * w), (xs.ravel() / max(1, w - 1)) - 0.5,
                         (ys.ravel() / max(1, h - 1)) - 0.5])
    (_, gx, gy), *_ = np.linalg.lstsq(a, lum.ravel(), rcond=None)
    if math.hypot(gx, gy) < 4.0:  # under ~4 grey levels across the frame: no direction
        return DEFAULT_LIGHT_DEG
    return round(math.degrees(math.atan2(-gy, gx)) % 360, 1)


# --------------------------------------------------------------------------- helpers


def _cover_geometry(size: tuple[int, int], canvas: tuple[int, int]
                    ) -> tuple[float, float, float]:
    """How an image of ``size`` covers ``canvas``: its scale and the crop's left and top
    offsets (scaled px)."""
    cw, ch = canvas
    s = max(cw / size[0], ch / size[1])
    w, h = max(cw, round(size[0] * s)), max(ch, round(size[1] * s))
    return s, (w - cw) / 2, (h - ch) / 2


def cover_fit(image: Image.Image, canvas: tuple[int, int]) -> tuple[Image.Image, float, float]:
    """``image`` scaled to cover ``canvas`` and centre-cropped; returns it, the scale and the
    crop's top offset (scaled px) so lines in the source can be mapped onto the canvas."""
    cw, ch = canvas
    s, left, top = _cover_geometry(image.size, canvas)
    box = (left / s, top / s, (left + cw) / s, (top + ch) / s)
    out = image.convert("RGB").resize(canvas, Image.Resampling.LANCZOS, box=box,
                                      reducing_gap=2.0 if s < 0.5 else None)
    return out, s, top


def decontaminate(layer: Image.Image) -> Image.Image:
    """Replace the colour of semi-transparent edge pixels by the product's own interior colour
    spread outward, so the original photo's background never shows as a halo."""
    arr = np.asarray(layer).copy()
    alpha = arr[..., 3]
    edge = (alpha > 0) & (alpha < 250)
    if not edge.any():
        return layer
    solid = alpha >= 250
    # normalised convolution in 16-bit (fast blurs), divided only at the edge pixels
    num_src = (arr[..., :3].astype(np.uint16) * 257) * solid[..., None]
    den_src = solid.astype(np.uint16) * 65535
    ys, xs = np.nonzero(edge)
    todo = np.ones(ys.size, bool)
    for sigma in (2.0, 8.0):  # near colours first, farther ones where nothing is near
        den = cv2.GaussianBlur(den_src, (0, 0), sigma)[ys, xs].astype(np.float32)
        num = cv2.GaussianBlur(num_src, (0, 0), sigma)[ys, xs].astype(np.float32)
        ok = todo & (den > 64)
        arr[ys[ok], xs[ok], :3] = np.clip(num[ok] / den[ok][:, None] * 255 + 0.5, 0, 255)
        todo &= ~ok
        if not todo.any():
            break
    return Image.fromarray(arr, "RGBA")


def _premultiplied_resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    scale = size[0] / im.width
    return im.convert("RGBa").resize(size, Image.Resampling.LANCZOS,
                                     reducing_gap=1.5 if scale < 0.5 else None).convert("RGBA")


# --------------------------------------------------------------------------- operations
# Background and Shadow live in operations.py (they predate scenes) and call these two.


_FITTED: OrderedDict[tuple[str, tuple[int, int]], tuple[Image.Image, float, float]] = \
    OrderedDict()
_FITTED_LOCK = threading.Lock()
FITTED_CACHE = 8  # backgrounds x canvases kept fitted: a batch reuses one or two


def _cover_fit_cached(asset: SceneAsset, canvas: tuple[int, int]
                      ) -> tuple[Image.Image, float, float]:
    """cover_fit, remembered per (content, canvas): an export pastes many products on the
    same background, and resampling a large photo is the costliest step of a scene."""
    if not asset.sha256:
        return cover_fit(asset.image, canvas)
    key = (asset.sha256, canvas)
    with _FITTED_LOCK:
        hit = _FITTED.get(key)
        if hit is not None:
            _FITTED.move_to_end(key)
    if hit is None:
        hit = cover_fit(asset.image, canvas)
        with _FITTED_LOCK:
            _FITTED[key] = hit
            while len(_FITTED) > FITTED_CACHE:
                _FITTED.popitem(last=False)
    image, s, top = hit
    return image.copy(), s, top


def setup_background(op: Any, ctx: SceneContext) -> None:
    """``bg-``: a colour, or a library background cover-fitted with its floor and light."""
    if op.slug is None:
        if not ctx.measure_only:
            ctx.background = Image.new("RGB", ctx.canvas, op.color or (255, 255, 255))
        return
    asset = ctx.asset(op.slug, "background")
    if ctx.measure_only:  # the floor line needs the image's size only, not its pixels
        s, _, top = _cover_geometry(asset.image.size, ctx.canvas)
    else:
        ctx.background, s, top = _cover_fit_cached(asset, ctx.canvas)
    if asset.floor_pct is not None and ctx.floor_y is None:
        ctx.floor_y = asset.floor_pct / 100 * asset.image.height * s - top
    if asset.light_deg is not None:
        ctx.light_deg = asset.light_deg


def scene_footprint(alpha: np.ndarray, box: tuple[int, int, int, int],
                    at: tuple[int, int] = (0, 0)) -> tuple[int, int, int]:
    """Where a scene's ``shadow-contact`` centres its ellipse under a product laid on ``box``
    of ``alpha`` (uint8; a crop of it from ``at`` holding the footprint band will do,
    ``imaging.shadow.contact_band``): the footprint by the cutout's own rule
    (``imaging.shadow.footprint_under``) of the alpha from the ripple cut-off up, as a render
    without a scene takes it (the faint spread an upscale leaves below a wide edge just above
    the band placed the shadow under nothing visible: 2026-12-07, shadow44, the shared
    cache's 246 0.29 off the product); the box's whole width when its band holds none. What
    :func:`draw_shadow` calls on the placed layer and the export's pre-check on the cutout's
    region (``operations.export_shadow_footprints``): one rule (2026-12-07, foot45)."""
    return footprint_under(alpha, box, RIPPLE_ALPHA, at) or (box[0], box[2], box[3] - 1)


def draw_shadow(mode: str, ctx: SceneContext) -> None:
    x0, y0, x1, y1 = ctx.product_box
    assert ctx.layer is not None  # product_box holds for it
    ph = max(1, y1 - y0)
    dx, dy = ctx.away_from_light
    if mode == "contact":
        lx, ly = ctx.position
        # the layer's footprint band only, not the whole layer's alpha (lows46, 2026-12-07)
        box = (x0 - lx, y0 - ly, x1 - lx, y1 - ly)
        band = contact_band(box)
        fx0, fx1, _ = scene_footprint(alpha_array(ctx.layer.crop(band)), box, band[:2])
        width = max(4, fx1 - fx0)
        height = max(3, int(width * 0.1))
        blur = max(1, height // 2)
        pad = blur * 3
        cx = lx + (fx0 + fx1) / 2 + dx * height * 0.5  # nudged away from the light
        patch = Image.new("L", (width + 2 * pad, height + 2 * pad), 0)
        ImageDraw.Draw(patch).ellipse((pad, pad, pad + width, pad + height), fill=255)
        patch = patch.filter(ImageFilter.GaussianBlur(blur))
        _darken_clipped(ctx, patch, (round(cx - patch.width / 2), round(y1 - patch.height / 2)),
                        CONTACT_OPACITY)
    elif mode == "drop":
        blur = max(1, round(ph * 0.02))
        pad = blur * 3
        # the product's outline casts it, as it casts the export's synthetic shadow: from its
        # alpha a glass (~0.15) cast only a faint copy of itself
        shape = silhouette(alpha_array(ctx.layer) / np.float32(255))
        patch = Image.new("L", (shape.shape[1] + 2 * pad, shape.shape[0] + 2 * pad), 0)
        patch.paste(Image.fromarray((shape * 255).astype(np.uint8), "L"), (pad, pad))
        patch = patch.filter(ImageFilter.GaussianBlur(blur))
        off = ph * 0.05
        at = (round(ctx.position[0] - pad + dx * off), round(ctx.position[1] - pad + dy * off))
        _darken_clipped(ctx, patch, at, DROP_OPACITY)
    elif mode == "keep" and ctx.product_shadow is not None:
        _darken_clipped(ctx, ctx.product_shadow, ctx.info.pop("shadow_at", ctx.position),
                        KEEP_OPACITY)
    ctx.info["shadow"] = mode


def _darken_clipped(ctx: SceneContext, patch: Image.Image, at: tuple[int, int],
                    opacity: float) -> None:
    cw, ch = ctx.canvas
    x0, y0 = max(0, at[0]), max(0, at[1])
    x1, y1 = min(cw, at[0] + patch.width), min(ch, at[1] + patch.height)
    if x1 <= x0 or y1 <= y0:
        return
    ctx.darken(patch.crop((x0 - at[0], y0 - at[1], x1 - at[0], y1 - at[1])), (x0, y0), opacity)


@register_operation
@dataclass(frozen=True)
class Safe(IntOperation):
    """``safe-N``: keep the product (and logos) N % inside every edge of the canvas."""

    percent: int
    name: ClassVar[str] = "safe"
    order: ClassVar[int] = 45
    bounds: ClassVar[tuple[int, int]] = (0, 40)
    expects: ClassVar[str] = "a safe-area inset 0-40 (% of each side)"

    def is_scene(self) -> bool:
        return True

    def scene_setup(self, ctx: SceneContext) -> None:
        cw, ch = ctx.canvas
        mx, my = round(cw * self.percent / 100), round(ch * self.percent / 100)
        ctx.safe = (mx, my, cw - mx, ch - my)


@register_operation
@dataclass(frozen=True)
class Scale(IntOperation):
    """``scale-N``: the product is N % of the largest size that fits the safe area."""

    percent: int
    name: ClassVar[str] = "scale"
    order: ClassVar[int] = 46
    bounds: ClassVar[tuple[int, int]] = (5, 100)
    expects: ClassVar[str] = "a product scale 5-100 (% of the safe area)"

    def is_scene(self) -> bool:
        return True

    def validate_with(self, spec: VariantSpec) -> None:
        if "fill" in spec:
            raise SpecError("'scale' and 'fill' both size the product: use one", self.token())

    def scene_setup(self, ctx: SceneContext) -> None:
        ctx.scale_pct = self.percent


@register_operation
@dataclass(frozen=True)
class Floor(IntOperation):
    """``floor-N``: the product stands on a floor line N % down the canvas (without it, on the
    library background's own floor line)."""

    percent: int
    name: ClassVar[str] = "floor"
    order: ClassVar[int] = 51  # after bg, so it overrides the background's floor line
    bounds: ClassVar[tuple[int, int]] = (1, 100)
    expects: ClassVar[str] = "a floor line 1-100 (% of the canvas height)"

    def is_scene(self) -> bool:
        return True

    def scene_setup(self, ctx: SceneContext) -> None:
        ctx.floor_y = ctx.canvas[1] * self.percent / 100


@register_operation
@dataclass(frozen=True)
class Harmonize(FlagOperation):
    """``harmonize``: nudge the product's brightness and white balance toward the background
    (bounded gains, hue kept) and decontaminate its edges so no halo shows."""

    name: ClassVar[str] = "harmonize"
    order: ClassVar[int] = 56
    MAX_GAIN: ClassVar[float] = 0.12  # brightness within +-12 %
    MAX_CAST: ClassVar[float] = 0.04  # white balance within +-4 % per channel
    STRENGTH: ClassVar[float] = 0.35

    def is_scene(self) -> bool:
        return True

    def scene_compose(self, ctx: SceneContext, phase: str) -> None:
        if phase != "product":
            return
        assert ctx.layer is not None and ctx.background is not None  # placed, set up
        layer = decontaminate(ctx.layer)
        arr = np.asarray(layer).astype(np.float32)
        a = arr[..., 3] / 255.0
        if a.sum() < 1:
            ctx.layer = layer
            return
        bg = np.array(ImageStat.Stat(ctx.background).mean[:3], dtype=np.float32)
        fg = (arr[..., :3] * a[..., None]).reshape(-1, 3).sum(axis=0) / a.sum()
        bg_l, fg_l = max(1.0, bg.mean()), max(1.0, fg.mean())
        gain = float(np.clip((bg_l / fg_l) ** self.STRENGTH, 1 - self.MAX_GAIN,
                             1 + self.MAX_GAIN))
        cast = np.clip((bg / bg_l) ** self.STRENGTH, 1 - self.MAX_CAST, 1 + self.MAX_CAST)
        arr[..., :3] = np.clip(arr[..., :3] * gain * cast, 0, 255)
        ctx.layer = Image.fromarray((arr + 0.5).astype(np.uint8), "RGBA")
        ctx.info["harmonize"] = {"gain": round(gain, 3),
                                 "cast": [round(float(c), 3) for c in cast]}


@register_operation
@dataclass(frozen=True)
class Logo(Operation):
    """``logo-<slug>-<corner>``: a library logo in a corner (tl, tr, bl, br) of the safe area."""

    slug: str
    corner: str
    name: ClassVar[str] = "logo"
    order: ClassVar[int] = 57

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:
        slug, _, corner = (arg or "").rpartition("-")
        if corner not in CORNERS or not SLUG_RE.match(slug):
            raise SpecError(f"bad token {token!r}: expected logo-<slug>-<corner> with corner "
                            f"one of {', '.join(CORNERS)}, e.g. logo-acme-br", token)
        return cls(slug, corner)

    def token(self) -> str:
        return f"logo-{self.slug}-{self.corner}"

    def is_scene(self) -> bool:
        return True

    def cache_inputs(self) -> tuple[str, ...]:
        return (library_input(self.slug),)

    def scene_compose(self, ctx: SceneContext, phase: str) -> None:
        if phase != "over":
            return
        logo = ctx.asset(self.slug, "logo").image.convert("RGBA")
        cw, ch = ctx.canvas
        s = min(cw * LOGO_WIDTH_SHARE / logo.width, ch * LOGO_HEIGHT_SHARE / logo.height)
        size = (max(1, round(logo.width * s)), max(1, round(logo.height * s)))
        logo = _premultiplied_resize(logo, size)
        x0, y0, x1, y1 = ctx.safe
        x = x0 if self.corner[1] == "l" else x1 - size[0]
        y = y0 if self.corner[0] == "t" else y1 - size[1]
        assert ctx.background is not None  # set up before any compose step
        ctx.background.paste(logo, (x, y), mask=logo)


# --------------------------------------------------------------------------- renderer


def _scene_setup(spec: VariantSpec, assets: dict[str, SceneAsset] | None,
                 warnings: list[str], measure_only: bool = False) -> SceneContext:
    """The scene's context after its operations' setup steps: canvas, safe area, scale,
    floor line (and, unless ``measure_only``, its background)."""
    canvas = spec.fixed_canvas()
    assert canvas is not None  # the spec's validation requires one of a scene
    ctx = SceneContext(canvas=canvas, assets=assets or {}, warnings=warnings,
                       measure_only=measure_only)
    cw, ch = canvas
    m = round(min(cw, ch) * DEFAULT_SAFE_PCT / 100)
    ctx.safe = (m, m, cw - m, ch - m)
    for op in spec.operations:
        hook = getattr(op, "scene_setup", None)
        if hook is not None:
            hook(ctx)
    return ctx


def _placement_scale(ctx: SceneContext, size: tuple[int, int]) -> float:
    """The product's scale (``size``: its box in the cutout): the largest that fits the safe
    area, times scale-N; a product standing on the floor line must fit above it."""
    sx0, sy0, sx1, sy1 = ctx.safe
    sw, sh = sx1 - sx0, sy1 - sy0
    room: float = sh
    if ctx.floor_y is not None and sy0 < ctx.floor_y <= sy1:
        room = ctx.floor_y - sy0
    return min(sw / size[0], room / size[1]) * ctx.scale_pct / 100


def scene_scale(spec: VariantSpec, product: tuple[int, int],
                assets: dict[str, SceneAsset] | None = None) -> float:
    """The scale :func:`render_scene` gives a product whose box in the cutout is ``product``
    (w, h), without rendering: a dry run's forecast of the enlargement limit. ``assets``
    need their image's size only (an unloaded ``Image.open`` will do). Raises RenderError
    for a background missing from them, as the render does."""
    return _placement_scale(_scene_setup(spec, assets, [], measure_only=True),
                            (max(1, product[0]), max(1, product[1])))


def render_scene(rgba: Image.Image, spec: VariantSpec, shadow: Image.Image | None,
                 assets: dict[str, SceneAsset] | None, warnings: list[str],
                 sig: Significant | None = None,
                 ) -> tuple[Image.Image, tuple[int, int, int, int], dict[str, Any]]:
    """Compose ``rgba`` into the scene ``spec`` describes (``shadow``: the stored layer, when
    the spec reads it). Returns (RGB image, product box on the canvas, info for the metadata)."""
    if sig is None:  # a caller rendering several specs of one cutout computed it once
        sig = significant_region(alpha_array(rgba),
                                 spec.alpha_threshold(SCENE_TRIM_THRESHOLD))
    if sig is None:
        raise RenderError("the cutout has no visible pixel: nothing to render")
    box = sig.box
    product = rgba.crop(box)
    product.putalpha(Image.fromarray(sig.crop(box)))

    ops = spec.operations
    ctx = _scene_setup(spec, assets, warnings)
    canvas = ctx.canvas
    if ctx.background is None:  # no bg-: a white scene
        ctx.background = Image.new("RGB", canvas, (255, 255, 255))

    # place: the largest size that fits the safe area, times scale-N; on the floor line
    sx0, sy0, sx1, sy1 = ctx.safe
    sw, sh = sx1 - sx0, sy1 - sy0
    bw, bh = box[2] - box[0], box[3] - box[1]
    s = _placement_scale(ctx, (bw, bh))
    w, h = max(1, round(bw * s)), max(1, round(bh * s))
    x = sx0 + (sw - w) // 2
    if ctx.floor_y is not None:
        y = round(ctx.floor_y) - h
        if y < sy0 or y + h > sy1:
            ctx.warnings.append(f"{FLOOR_LINE.head}: the product was kept inside the safe "
                                "area")
            y = min(max(y, sy0), sy1 - h)
    else:
        y = sy0 + (sh - h) // 2
    ctx.layer = _premultiplied_resize(product, (w, h))
    ctx.position = (x, y)
    if shadow is not None:  # render_variant passes it only to a spec that reads it
        # a natural shadow reaches beyond the product: map a wider source box the same way
        ex, ey = (box[2] - box[0]) // 2, (box[3] - box[1]) // 2
        wide = (max(0, box[0] - ex), max(0, box[1] - ey),
                min(rgba.width, box[2] + ex), min(rgba.height, box[3] + ey))
        size = (max(1, round((wide[2] - wide[0]) * s)), max(1, round((wide[3] - wide[1]) * s)))
        ctx.product_shadow = shadow.convert("L").crop(wide).resize(size,
                                                                   Image.Resampling.BILINEAR)
        ctx.info["shadow_at"] = (x - round((box[0] - wide[0]) * s),
                                 y - round((box[1] - wide[1]) * s))

    for phase in ("product", "under", "over"):
        for op in ops:
            hook = getattr(op, "scene_compose", None)
            if hook is not None:
                hook(ctx, phase)
        if phase == "under":
            ctx.background.paste(ctx.layer, ctx.position, mask=ctx.layer)
    # where the source box landed (x, y, w, h on the canvas): the faint marks' boxes follow it
    ctx.info.update(floor_y=None if ctx.floor_y is None else round(ctx.floor_y, 1),
                    light_deg=ctx.light_deg, safe=list(ctx.safe), scale=round(s, 6),
                    placed=[*ctx.position, *ctx.layer.size])
    return ctx.background, ctx.product_box, ctx.info

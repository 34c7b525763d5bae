"""Shadow layers: keep the photo's contact shadow, or synthesise one from the mask.

Both return an opacity map float32 in [0, 1] (the layer's colour is black); the
export composites it under the product. They run at the working resolution.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from .settings import SyntheticShadow


def _odd(n: float) -> int:
    n = max(3, int(round(n)))
    return n if n % 2 else n + 1


def _object_box(alpha: np.ndarray) -> tuple[np.intp, np.intp, np.intp, np.intp] | None:
    ys, xs = np.nonzero(alpha >= 0.5)
    if len(ys) == 0:
        return None
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


#: a kept shadow lies beside the product from this share of its height down (a contact shadow
#: wraps the base; nothing beside the upper half is taken for shadow) ...
KEEP_FROM = 0.5
#: ... and at most this share of the product's larger side away from it
KEEP_REACH = 0.35


def kept_shadow_zone(box: tuple[float, float, float, float], reach: float = KEEP_REACH
                     ) -> tuple[float, float, float, float]:
    """Where a kept (natural) shadow may lie: (x0, y0, x1, y1), x1/y1 exclusive, from the
    product's box in the same pixels. The one definition: :func:`extract_contact_shadow`
    keeps nothing outside it, and the compliance check calls no mark inside it that is joined
    to the product a ghost (``cutouts.variants.compliance``)."""
    x0, y0, x1, y1 = box
    r = reach * max(x1 - x0, y1 - y0)
    return x0 - r, y0 + KEEP_FROM * (y1 - y0), x1 + r, y1 + r


#: the ground's own darkening (texture, a darker floor, water) is measured this far from the
#: product and beyond, where a contact shadow no longer reaches (multiples of the reach) ...
GROUND_FROM = 1.0
#: ... smoothed over this share of the product's larger side first (a shadow is smooth, the
#: texture of rocks, grass or a carpet is not) ...
TEXTURE_SHARE = 0.03
#: ... and a shadow must be darker than the ground around it by this many of its spreads
GROUND_SPREAD = 1.0
#: the shadow must reach the product's base: its lowest this share of the product's height
BASE_SHARE = 0.25
#: and it fades out towards the photo's frame over this share of the product's larger side
#: (a shadow the photo cuts would end in a straight line on the canvas)
FRAME_FADE = 0.05


def extract_contact_shadow(rgb: np.ndarray, alpha: np.ndarray, max_opacity: float = 0.8,
                           reach: float = KEEP_REACH, min_darkening: float = 0.06) -> np.ndarray:
    """Darkening of the background relative to its locally estimated clean level and to the
    ground around the product, kept only where it joins the product's base, below / around its
    lower part (:func:`kept_shadow_zone`), fading out with distance and before the frame."""
    h, w = alpha.shape
    box = _object_box(alpha)
    if box is None:
        return np.zeros((h, w), np.float32)
    x0, y0, x1, y1 = box
    oh, ow = y1 - y0, x1 - x0
    size = max(oh, ow)
    lum = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    lum = cv2.medianBlur(lum, 5).astype(np.float32) / 255.0
    # the product and a ring around it (its anti-aliased rim, the median's reach, a slightly
    # eaten mask) darken the photo by the product's own colour: never measured as shadow
    rim = _odd(max(3, 0.015 * size))
    excl = cv2.dilate((alpha > 0.02).astype(np.uint8), np.ones((rim, rim), np.uint8)) > 0
    bg_lum = np.where(excl, 0.0, lum).astype(np.float32)
    clean = _clean_backdrop(bg_lum, _odd(0.3 * size))
    dark = np.clip(1.0 - lum / np.maximum(clean, 1e-3), 0.0, 1.0)
    dist = cv2.distanceTransform((alpha < 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    d_max = max(2.0, reach * size)
    zx0, zy0, zx1, zy1 = kept_shadow_zone((float(x0), float(y0), float(x1), float(y1)), reach)
    # the ground is no shadow: on a textured or darker floor (rocks, water, grass) the sweep's
    # local maximum is a highlight and the whole floor reads as darkening; only what is darker
    # than the floor around the product, beyond its texture, is the product's shadow
    ground, spread, excess = _ground_level(dark, excl, dist, GROUND_FROM * d_max, zy0,
                                           max(1.0, TEXTURE_SHARE * size), d_max)
    # on a textured floor the shadow is read on the smoothed darkening (a stone's dark side
    # beside a glint is no shadow; a shadow is smooth); on a clean sweep, pixel by pixel
    rough = np.clip(spread / min_darkening, 0.0, 1.0)
    dark = dark + rough * (excess - dark)
    dark = np.clip((dark - ground - GROUND_SPREAD * spread) / np.maximum(1.0 - ground, 1e-3),
                   0.0, 1.0)
    # soft knee: texture and noise below min_darkening are not shadow
    knee = np.clip((dark - min_darkening) / min_darkening, 0.0, 1.0)
    strength = dark * knee * knee * (3 - 2 * knee)
    # region: near the object, from its lower part downward, fading with distance
    fade = np.clip(1.0 - dist / d_max, 0.0, 1.0)
    rows = np.arange(h, dtype=np.float32)[:, None]
    lower = np.clip((rows - zy0) / max(0.15 * oh, 1.0), 0.0, 1.0)
    shadow = strength * fade * lower
    _continue_into_ring(shadow, excl, rim)
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(1.0, 0.004 * size))
    shadow *= _frame_fade((h, w), max(2.0, FRAME_FADE * size))
    shadow[shadow < 0.02] = 0.0
    base = excl.copy()
    base[:max(0, int(y1 - BASE_SHARE * oh))] = False
    _keep_joined(shadow, base)
    # nothing outside the zone, which the compliance check allows for it
    inside = np.zeros((h, w), bool)
    inside[max(0, int(np.ceil(zy0))):max(0, int(zy1)),
           max(0, int(np.ceil(zx0))):max(0, int(zx1))] = True
    shadow[~inside] = 0.0
    result: npt.NDArray[np.float32] = np.clip(shadow, 0.0, max_opacity).astype(np.float32)
    return result


def _masked_blur(values: np.ndarray, weights: np.ndarray, sigma: float) -> np.ndarray:
    """The ``weights``-weighted Gaussian mean of ``values`` (normalised convolution), on a
    reduced grid when ``sigma`` is wide (it is smooth at that scale); 0 where no weight."""
    h, w = values.shape
    f = max(1, int(sigma // 6))
    vw, ww = values * weights, weights
    if f > 1:
        size = (max(1, w // f), max(1, h // f))
        vw = cv2.resize(vw, size, interpolation=cv2.INTER_AREA)
        ww = cv2.resize(ww, size, interpolation=cv2.INTER_AREA)
    num = cv2.GaussianBlur(vw, (0, 0), max(0.5, sigma / f))
    den = cv2.GaussianBlur(ww, (0, 0), max(0.5, sigma / f))
    out: np.ndarray = np.where(den > 1e-4, num / np.maximum(den, 1e-4), 0.0).astype(np.float32)
    if f > 1:
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    return out


#: the ground is measured where at least this share of the rows from the product's lower half
#: down holds it; a product filling the photo leaves less beyond the reach, so the ground is
#: then taken nearer (halving the distance, down to GROUND_NEAREST of it)
GROUND_MIN_SHARE = 0.02
GROUND_NEAREST = 0.25


def _ground_level(dark: np.ndarray, excl: np.ndarray, dist: np.ndarray, far: float, zy0: float,
                  texture: float, d_max: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The floor's own darkening around the product (its local mean, ``far`` px or more from
    the product, beside and below its lower part, brought in over the reach), the spread of
    that darkening once smoothed at the ``texture`` scale, and the smoothed darkening itself.
    A clean sweep measures ~0 for both (its local maximum is its level): the shadow is then
    what it was; on rocks, grass or water the floor's level and texture are taken off."""
    h, w = dark.shape
    bg = (~excl).astype(np.float32)
    smooth = _masked_blur(dark, bg, texture)
    top = max(0, int(zy0))
    floor = ~excl
    floor[:top] = False
    need = GROUND_MIN_SHARE * max(1, (h - top) * w)
    at = far
    while True:
        ground = floor & (dist > at)
        if ground.sum() >= need:
            break
        at /= 2
        if at < GROUND_NEAREST * far:
            zero = np.zeros((h, w), np.float32)
            return zero, zero, smooth
    gw = ground.astype(np.float32)
    mean = _masked_blur(smooth, gw, d_max)
    var = _masked_blur(smooth * smooth, gw, d_max) - mean * mean
    spread = np.sqrt(np.maximum(var, 0.0)).astype(np.float32)
    return mean, spread, smooth


def _frame_fade(shape: tuple[int, int], width: float) -> np.ndarray:
    """1 inside the photo, falling to 0 at its frame over ``width`` px."""
    h, w = shape
    ys = np.minimum(np.arange(h), np.arange(h)[::-1]).astype(np.float32)
    xs = np.minimum(np.arange(w), np.arange(w)[::-1]).astype(np.float32)
    ramp_y = np.clip(ys / width, 0.0, 1.0)[:, None]
    ramp_x = np.clip(xs / width, 0.0, 1.0)[None, :]
    out: np.ndarray = np.minimum(ramp_y, ramp_x)
    return out


#: the clean backdrop is estimated on blocks that leave its window about this many blocks wide
CLEAN_BLOCKS = 24


def _clean_backdrop(bg_lum: np.ndarray, k: int) -> np.ndarray:
    """The clean backdrop's level: the local maximum of the backdrop within a ``k`` px disc
    (shadows are darker than the sweep around them), smoothed at ``k / 4``. Both are that wide
    (a product's third), so they run on the maxima of f×f blocks and are scaled back: at full
    resolution the disc alone took 8.8 of 9.8 s on a 2000 px photo. A block's maximum keeps what
    the disc would find (excluded pixels are 0 and never win), reaching at most one block
    further; on the dev photos at 2.5× the kept shadow moved by 0.05/255 on average and its sum
    by 0.15 %."""
    f = max(1, k // CLEAN_BLOCKS)
    h, w = bg_lum.shape
    hp, wp = -(-h // f) * f, -(-w // f) * f
    padded = np.zeros((hp, wp), np.float32)
    padded[:h, :w] = bg_lum
    blocks = padded.reshape(hp // f, f, wp // f, f).max(axis=(1, 3))
    ks = _odd(k / f)
    bright = cv2.dilate(blocks, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (ks, ks)))
    clean = cv2.GaussianBlur(bright, (0, 0), k / 4 / f)
    if f == 1:
        return clean
    # padded to whole blocks, the resize is an exact f× scale (block centres stay put)
    return cv2.resize(clean, (wp, hp), interpolation=cv2.INTER_LINEAR)[:h, :w]


def _continue_into_ring(shadow: np.ndarray, excl: np.ndarray, rim: int) -> None:
    """Give the excluded ring (and the product's soft edge) the shadow of the nearest pixel
    just outside it, in place. Zeroed, the ring left a light seam between the product and its
    contact shadow, where the photo is darkest; continued, the shadow meets the product's
    edge, while beside a product without shadow the pixels outside are clean and the ring
    stays clear (no dark halo). Pixels deeper inside the product are covered by it."""
    depth = 2 * rim  # the ring (rim / 2 wide) and as far again into the product's edge
    ys, xs = np.nonzero(excl)
    if len(ys) == 0:
        return
    shadow[excl] = 0.0  # what was measured there is the product's own darkness
    h, w = excl.shape
    # nearest pixels outside lie within ``depth`` of the filled ones: a window is enough
    ya, yb = max(0, ys.min() - depth - 1), min(h, ys.max() + depth + 2)
    xa, xb = max(0, xs.min() - depth - 1), min(w, xs.max() + depth + 2)
    ex = excl[ya:yb, xa:xb]
    sh = shadow[ya:yb, xa:xb]
    if ex.all():
        return
    dist, labels = cv2.distanceTransformWithLabels(ex.view(np.uint8), cv2.DIST_L2, 5,
                                                   labelType=cv2.DIST_LABEL_PIXEL)
    value = np.zeros(int(labels.max()) + 1, np.float32)
    value[labels[~ex]] = sh[~ex]
    fill = ex & (dist <= depth)
    sh[fill] = value[labels[fill]]


def _keep_joined(shadow: np.ndarray, excl: np.ndarray) -> None:
    """Zero, in place, the parts of the shadow that do not reach the product's ring: darkening
    of the sweep away from the product (a vignette, a stain) is no contact shadow, and the
    compliance check would call it a ghost."""
    n, labels = cv2.connectedComponents((shadow > 0).view(np.uint8), connectivity=8)
    if n <= 1:
        return
    joined = np.zeros(n, bool)
    joined[labels[excl & (shadow > 0)]] = True
    joined[0] = False
    shadow[~joined[labels]] = 0.0


#: a pixel from this alpha belongs to the product's silhouette (glass, a sheer fabric)
SILHOUETTE_ALPHA = 0.1


def silhouette(alpha: np.ndarray) -> np.ndarray:
    """The product's silhouette (float32 0/1): alpha >= SILHOUETTE_ALPHA with its holes filled.
    A synthetic shadow takes its opacity from it, not from the alpha: a glass is see-through
    but casts a shadow the shape of its outline (from its alpha it cast almost none)."""
    solid = (alpha >= SILHOUETTE_ALPHA).astype(np.uint8)
    h, w = solid.shape
    # fill holes: what the frame's background cannot reach is inside the outline
    flood = np.pad(solid, 1)
    mask = np.zeros((h + 4, w + 4), np.uint8)
    cv2.floodFill(flood, mask, (0, 0), 1)
    filled = solid | (flood[1:-1, 1:-1] == 0)
    out: np.ndarray = filled.astype(np.float32)
    return out


#: a contact shadow sits under the product's footprint: the columns its lowest CONTACT_SHARE
#: of rows cover, whatever is lowest. The one rule for the cutout's synthetic layer (below),
#: the export's ``shadow-synthetic`` and the scenes' ``shadow-contact`` (``cutouts.variants``)
CONTACT_SHARE = 0.05


def contact_band_top(y0: int, y1: int) -> int:
    """The first row of the footprint band of a product on rows ``y0:y1``: its lowest
    CONTACT_SHARE of them, at least one (``int(0.05 * n)`` is ``n // 20`` for every n below
    two million, checked: the export's integer rows are the same rows)."""
    return max(y0, y1 - max(1, int(CONTACT_SHARE * (y1 - y0))))


def footprint(band: np.ndarray) -> tuple[int, int] | None:
    """The columns [x0, x1) a footprint band (bool: the product in its lowest rows) covers,
    relative to the band; None when it covers none."""
    cols = np.nonzero(band.any(axis=0))[0]
    if not len(cols):
        return None
    return int(cols[0]), int(cols[-1]) + 1


def contact_band(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The footprint band (x0, y0, x1, y1, exclusive) of a product laid on ``box``: the box's
    columns over its lowest rows (:func:`contact_band_top`), all :func:`footprint_under` reads
    of it. A caller holding the product in an image it would otherwise copy whole (a render's
    layer) crops this and no more."""
    x0, y0, x1, y1 = box
    return x0, contact_band_top(y0, y1), x1, y1


def footprint_under(alpha: np.ndarray, box: tuple[int, int, int, int], level: int,
                    at: tuple[int, int] = (0, 0)) -> tuple[int, int, int] | None:
    """The contact footprint of a product laid on ``box`` (x0, y0, x1, y1, exclusive) of
    ``alpha`` (H x W, uint8 or bool): the columns [x0, x1) its pixels >= ``level`` cover in the
    box's lowest rows (:func:`contact_band_top`, :func:`footprint`) and the box's lowest row,
    in ``alpha``'s px; None when the band holds none. ``alpha`` may be a crop whose corner
    lies at ``at`` holding at least the band (:func:`contact_band`): ``box`` and the result
    stay in the uncropped px. The one rule of the cutout's synthetic layer and of every export
    render (``variants``): they call it on the layer they place, the export's pre-check on the
    cutout's own pixels (2026-12-07, foot45; the renders pass their layer's band only, lows46)."""
    bx0, top, bx1, y1 = contact_band(box)
    cols = footprint(alpha[top - at[1]:y1 - at[1], bx0 - at[0]:bx1 - at[0]] >= level)
    if cols is None:
        return None
    return bx0 + cols[0], bx0 + cols[1], y1 - 1


def contact_footprint(solid: np.ndarray) -> tuple[int, int, int] | None:
    """Where a contact shadow under the product ``solid`` (bool) lies: its footprint's
    columns [x0, x1) and the product's lowest row; None without a product."""
    box = _object_box(solid)
    if box is None:
        return None
    foot = footprint_under(solid, (int(box[0]), int(box[1]), int(box[2]), int(box[3])), 1)
    # the band holds the box's lowest row, which holds a product pixel
    assert foot is not None
    return foot


def synthetic_shadow(alpha: np.ndarray, params: SyntheticShadow) -> np.ndarray:
    """A soft contact shadow under the footprint plus an optional drop shadow, both from the
    product's :func:`silhouette` (a mostly transparent product gets a full shadow)."""
    shape = silhouette(alpha)
    return _synthetic_from(shape, contact_footprint(shape >= 0.5), params)


def _synthetic_from(shape: np.ndarray, foot: tuple[int, int, int] | None,
                    params: SyntheticShadow) -> np.ndarray:
    """:func:`synthetic_shadow` from the product's silhouette and its contact footprint."""
    h, w = shape.shape
    box = _object_box(shape)
    out = np.zeros((h, w), np.float32)
    if box is None or foot is None:
        return out
    x0, y0, x1, y1 = box
    oh, ow = y1 - y0, x1 - x0
    fx0, fx1, bottom = foot
    centre = (int(round((fx0 + fx1) / 2)), bottom)
    axes = (max(1, int(round((fx1 - fx0) / 2 * 1.05))),
            max(1, int(round(params.contact_height * oh))))
    cv2.ellipse(out, centre, axes, 0, 0, 360, 1.0, -1)
    sigma = max(1.0, params.contact_blur * oh)
    out = cv2.GaussianBlur(out, (0, 0), sigma) * params.contact_opacity
    if params.drop:
        dx, dy = params.drop_offset_x * ow, params.drop_offset_y * oh
        m = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
        drop = cv2.warpAffine(shape, m, (w, h))
        drop = cv2.GaussianBlur(drop, (0, 0), max(1.0, params.drop_blur * oh))
        out = np.maximum(out, drop * params.drop_opacity)
    return np.clip(out, 0.0, 1.0)


def synthetic_shadow_placed(alpha: np.ndarray, params: SyntheticShadow
                            ) -> tuple[np.ndarray, float]:
    """:func:`synthetic_shadow` and :func:`shadow_off_body` of ``alpha``, its silhouette and
    footprint found once (a run draws the layer and measures where it lies, lows44): the
    same two results as the two calls."""
    shape = silhouette(alpha)
    foot = contact_footprint(shape >= 0.5)
    return _synthetic_from(shape, foot, params), _off_body_from(alpha, foot)


#: the synthetic shadow is "off the main body" when its centre lies more than this share of the
#: product's largest opaque part's size from where that part alone would put it (2026-12-07,
#: shadow43: on the 75 one-object dev truths it catches most shadows placed under a kept
#: fragment or a faint skirt, see docs/review.md)
OFF_BODY_SHARE = 0.10


def shadow_off_body(alpha: np.ndarray) -> float:
    """How far the synthetic shadow's centre (:func:`contact_footprint` of the whole
    :func:`silhouette`) lies from the centre the largest opaque part (alpha >= 0.5,
    8-connected) alone gives it, in shares of that part's larger side; 0 without a product.
    Whatever is lowest places the shadow (a kept sign, a faint skirt under it): this says
    when that is not the product's body."""
    return _off_body_from(alpha, contact_footprint(silhouette(alpha) >= 0.5))


def _off_body_from(alpha: np.ndarray, foot: tuple[int, int, int] | None) -> float:
    """:func:`shadow_off_body` given the whole silhouette's contact footprint ``foot``."""
    return off_body(body_place(alpha >= 0.5), foot)


def body_place(opaque: np.ndarray) -> tuple[float, int, int] | None:
    """Where the largest part of ``opaque`` (bool, 8-connected) alone would put a contact
    shadow: its footprint's centre column, its lowest row and its larger side; None without
    one. Found once for several footprints (the export's renders, ``variants``)."""
    obj = opaque.view(np.uint8)
    bx, by, bw, bh = cv2.boundingRect(obj)
    if not bw:
        return None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(obj[by:by + bh, bx:bx + bw],
                                                           connectivity=8)
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    own = contact_footprint(labels == k)
    if own is None:  # pragma: no cover - the part holds pixels
        return None
    size = max(int(stats[k, cv2.CC_STAT_WIDTH]), int(stats[k, cv2.CC_STAT_HEIGHT]))
    return bx + (own[0] + own[1]) / 2, by + own[2], size


def off_body(place: tuple[float, int, int] | None, foot: tuple[int, int, int] | None
             ) -> float:
    """How far a contact shadow on footprint ``foot`` (columns [x0, x1), lowest row) lies from
    the body's own place (:func:`body_place`), in shares of the body's larger side; 0 without
    either. The one measure of :func:`shadow_off_body` and of the export's pre-check."""
    if foot is None or place is None:
        return 0.0
    cx, bottom, size = place
    dx = (foot[0] + foot[1]) / 2 - cx
    dy = foot[2] - bottom
    return float(np.hypot(dx, dy) / size)

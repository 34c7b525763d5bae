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


def extract_contact_shadow(rgb: np.ndarray, alpha: np.ndarray, max_opacity: float = 0.8,
                           reach: float = KEEP_REACH, min_darkening: float = 0.06) -> np.ndarray:
    """Darkening of the background relative to its locally estimated clean level, kept
    only where it joins the product, below / around its lower part (:func:`kept_shadow_zone`)."""
    h, w = alpha.shape
    box = _object_box(alpha)
    if box is None:
        return np.zeros((h, w), np.float32)
    x0, y0, x1, y1 = box
    oh, ow = y1 - y0, x1 - x0
    lum = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    lum = cv2.medianBlur(lum, 5).astype(np.float32) / 255.0
    # the product and a ring around it (its anti-aliased rim, the median's reach, a slightly
    # eaten mask) darken the photo by the product's own colour: never measured as shadow
    rim = _odd(max(3, 0.015 * max(oh, ow)))
    excl = cv2.dilate((alpha > 0.02).astype(np.uint8), np.ones((rim, rim), np.uint8)) > 0
    bg_lum = np.where(excl, 0.0, lum).astype(np.float32)
    clean = _clean_backdrop(bg_lum, _odd(0.3 * max(oh, ow)))
    dark = np.clip(1.0 - lum / np.maximum(clean, 1e-3), 0.0, 1.0)
    # soft knee: texture and noise below min_darkening are not shadow
    knee = np.clip((dark - min_darkening) / min_darkening, 0.0, 1.0)
    strength = dark * knee * knee * (3 - 2 * knee)
    # region: near the object, from its lower part downward, fading with distance
    dist = cv2.distanceTransform((alpha < 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    d_max = max(2.0, reach * max(oh, ow))
    fade = np.clip(1.0 - dist / d_max, 0.0, 1.0)
    zx0, zy0, zx1, zy1 = kept_shadow_zone((float(x0), float(y0), float(x1), float(y1)), reach)
    rows = np.arange(h, dtype=np.float32)[:, None]
    lower = np.clip((rows - zy0) / max(0.15 * oh, 1.0), 0.0, 1.0)
    shadow = strength * fade * lower
    _continue_into_ring(shadow, excl, rim)
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(1.0, 0.004 * max(oh, ow)))
    shadow[shadow < 0.02] = 0.0
    _keep_joined(shadow, excl)
    # nothing outside the zone, which the compliance check allows for it
    inside = np.zeros((h, w), bool)
    inside[max(0, int(np.ceil(zy0))):max(0, int(zy1)),
           max(0, int(np.ceil(zx0))):max(0, int(zx1))] = True
    shadow[~inside] = 0.0
    result: npt.NDArray[np.float32] = np.clip(shadow, 0.0, max_opacity).astype(np.float32)
    return result


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


def synthetic_shadow(alpha: np.ndarray, params: SyntheticShadow) -> np.ndarray:
    """A soft contact shadow under the footprint plus an optional drop shadow."""
    h, w = alpha.shape
    box = _object_box(alpha)
    out = np.zeros((h, w), np.float32)
    if box is None:
        return out
    x0, y0, x1, y1 = box
    oh, ow = y1 - y0, x1 - x0
    # footprint: columns covered by the lowest 5 % of the object
    foot = alpha[max(y0, y1 - max(1, int(0.05 * oh))):y1] >= 0.5
    cols = np.nonzero(foot.any(axis=0))[0]
    fx0, fx1 = (cols.min(), cols.max() + 1) if len(cols) else (x0, x1)
    centre = (int(round((fx0 + fx1) / 2)), int(y1 - 1))
    axes = (max(1, int(round((fx1 - fx0) / 2 * 1.05))),
            max(1, int(round(params.contact_height * oh))))
    cv2.ellipse(out, centre, axes, 0, 0, 360, 1.0, -1)
    sigma = max(1.0, params.contact_blur * oh)
    out = cv2.GaussianBlur(out, (0, 0), sigma) * params.contact_opacity
    if params.drop:
        dx, dy = params.drop_offset_x * ow, params.drop_offset_y * oh
        m = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
        drop = cv2.warpAffine(alpha.astype(np.float32), m, (w, h))
        drop = cv2.GaussianBlur(drop, (0, 0), max(1.0, params.drop_blur * oh))
        out = np.maximum(out, drop * params.drop_opacity)
    return np.clip(out, 0.0, 1.0)

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


def extract_contact_shadow(rgb: np.ndarray, alpha: np.ndarray, max_opacity: float = 0.8,
                           reach: float = 0.35, min_darkening: float = 0.06) -> np.ndarray:
    """Darkening of the background relative to its locally estimated clean level,
    kept only below / around the lower part of the product."""
    h, w = alpha.shape
    box = _object_box(alpha)
    if box is None:
        return np.zeros((h, w), np.float32)
    x0, y0, x1, y1 = box
    oh, ow = y1 - y0, x1 - x0
    lum = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    lum = cv2.medianBlur(lum, 5).astype(np.float32) / 255.0
    rim = _odd(max(3, 0.015 * max(oh, ow)))
    excl = cv2.dilate((alpha > 0.02).astype(np.uint8), np.ones((rim, rim), np.uint8)) > 0
    bg_lum = np.where(excl, 0.0, lum).astype(np.float32)
    # clean backdrop level: local maximum of the backdrop (shadows are darker), smoothed
    k = _odd(0.3 * max(oh, ow))
    bright = cv2.dilate(bg_lum, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    clean = cv2.GaussianBlur(bright, (0, 0), k / 4)
    dark = np.clip(1.0 - lum / np.maximum(clean, 1e-3), 0.0, 1.0)
    # soft knee: texture and noise below min_darkening are not shadow
    knee = np.clip((dark - min_darkening) / min_darkening, 0.0, 1.0)
    strength = dark * knee * knee * (3 - 2 * knee)
    # region: near the object, from its lower part downward, fading with distance
    dist = cv2.distanceTransform((alpha < 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    d_max = max(2.0, reach * max(oh, ow))
    fade = np.clip(1.0 - dist / d_max, 0.0, 1.0)
    rows = np.arange(h, dtype=np.float32)[:, None]
    lower = np.clip((rows - (y0 + 0.5 * oh)) / max(0.15 * oh, 1.0), 0.0, 1.0)
    shadow = strength * fade * lower
    shadow[excl] = 0.0
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(1.0, 0.004 * max(oh, ow)))
    shadow[shadow < 0.02] = 0.0
    result: npt.NDArray[np.float32] = np.clip(shadow, 0.0, max_opacity).astype(np.float32)
    return result


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

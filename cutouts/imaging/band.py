"""The automatic unknown band: where alpha is genuinely fractional, and matting inside it.

The model sees the photo at 320 px, so it cannot tell a hard edge from a fringe of hair; its
ramp is a few model pixels wide either way. The band follows the material instead: it is
widened where the model passes disagree locally (hair, fur and wool come back differently in
the mirrored pass), up to ``band_width`` model px; over an edge both passes agree on it stays
zero wide, so hard edges keep the crisp shaping of ``refine.shape_alpha``. Inside the band,
alpha is solved by closed-form matting (``matting.solve_alpha``, the one matting
implementation) with the model probability as a weak prior. Everything runs at the working
resolution, and the number of unknown pixels is bounded: a larger band is solved on a reduced
copy, so time and memory follow a budget, not the photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .matting import solve_alpha

MAX_UNKNOWN = 40_000  # unknown pixels per solve at most; a wider band is solved smaller
DISAGREE = 0.3  # local flip-pass disagreement that opens the band fully


@dataclass
class BandResult:
    alpha: np.ndarray  # (h, w) float32 matted alpha (valid where weight > 0)
    weight: np.ndarray  # (h, w) float32 in [0, 1]: how much of the matte replaces the shaped alpha
    unknown_fraction: float  # band pixels / image pixels
    solve_scale: float  # 1.0, or the reduction used to stay within MAX_UNKNOWN


def softness(rgb: np.ndarray, prob: np.ndarray, model_px: float,
             disagreement: np.ndarray | None = None) -> np.ndarray:
    """(h, w) float32 in [0, 1]: how likely the edge near each pixel is a soft material.

    The cue is the local disagreement between the model passes (the photo and its mirror
    image): the model answers a hard edge the same way both times, while strands, fur and
    wool come back differently. Two more cues were measured on the dev sets and left out
    because they opened the band over hard edges of busy photos (more halo, no gain on hair):
    fine texture relative to the local contrast, and the width of the model's ramp. A third,
    the share of pixels near the outline whose colour is a mix of the local object and
    backdrop colours, did help hair but opened on nearly every dev outline too (2026-12-06,
    docs/engine.md, colour-mixing band).
    """
    if disagreement is None:
        return np.zeros(prob.shape, np.float32)
    s = max(1.0, model_px)
    soft = np.clip(cv2.GaussianBlur(disagreement, (0, 0), 2 * s) / DISAGREE, 0.0, 1.0)
    result: np.ndarray = soft.astype(np.float32)
    return result


def band_trimap(alpha: np.ndarray, soft: np.ndarray, model_px: float,
                max_radius: float = 3.0) -> np.ndarray:
    """Trimap (h, w) uint8 from the shaped alpha: unknown within r(x) of its 0.5 contour,
    r = max_radius model px x softness (0 over hard edges), 255/0 elsewhere."""
    fg = (alpha >= 0.5).astype(np.uint8)
    d_in = cv2.distanceTransform(fg, cv2.DIST_L2, 3)
    d_out = cv2.distanceTransform(1 - fg, cv2.DIST_L2, 3)
    dist = np.where(fg > 0, d_in, d_out)
    # the softness the nearest edge has, spread over the band's reach
    reach = max_radius * max(1.0, model_px)
    contour = (dist <= 1.0).astype(np.float32)
    k = (0, 0)
    num = cv2.GaussianBlur(soft * contour, k, reach / 2)
    den = cv2.GaussianBlur(contour, k, reach / 2)
    edge_soft = np.where(den > 1e-4, num / np.maximum(den, 1e-4), 0.0)
    radius = reach * np.clip(edge_soft, 0.0, 1.0)
    unknown = (dist < radius) & (radius >= 1.0)
    trimap = np.where(fg > 0, 255, 0).astype(np.uint8)
    trimap[unknown] = 128
    return trimap


def matte_band(rgb: np.ndarray, prob: np.ndarray, alpha: np.ndarray, model_px: float,
               disagreement: np.ndarray | None = None, max_radius: float = 3.0,
               max_unknown: int = MAX_UNKNOWN) -> BandResult | None:
    """Matted alpha in the automatic band (all at the working resolution), or None if the
    photo has no soft edge. ``alpha`` is the shaped alpha, ``prob`` the model probability."""
    soft = softness(rgb, prob, model_px, disagreement)
    h, w = alpha.shape
    # only the box around soft edges needs a trimap (distance transforms on 4 MP are slow)
    reach = int(np.ceil(2 * max_radius * max(1.0, model_px))) + 2
    ys, xs = np.nonzero(soft > 1.0 / max_radius / 2)
    if len(ys) == 0:
        return None
    y0, y1 = max(0, ys.min() - reach), min(h, ys.max() + 1 + reach)
    x0, x1 = max(0, xs.min() - reach), min(w, xs.max() + 1 + reach)
    trimap = np.where(alpha >= 0.5, 255, 0).astype(np.uint8)
    trimap[y0:y1, x0:x1] = band_trimap(alpha[y0:y1, x0:x1], soft[y0:y1, x0:x1], model_px,
                                       max_radius)
    unknown = trimap == 128
    n = int(np.count_nonzero(unknown))
    if n == 0:
        return None
    scale = 1.0 if n <= max_unknown else float(np.sqrt(max_unknown / n))
    if scale < 1.0:
        sw, sh = max(3, round(w * scale)), max(3, round(h * scale))
        rgb_s = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        prob_s = cv2.resize(prob, (sw, sh), interpolation=cv2.INTER_AREA)
        # unknown wins the reduction, so the small band still covers the whole band
        unk_s = cv2.resize(unknown.astype(np.uint8) * 255, (sw, sh),
                           interpolation=cv2.INTER_AREA) > 0
        fg_s = cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA) >= 0.5
        tri_s = np.where(fg_s, 255, 0).astype(np.uint8)
        tri_s[unk_s] = 128
        matte = cv2.resize(solve_alpha(rgb_s, tri_s, prior=np.clip(prob_s, 0, 1)), (w, h),
                           interpolation=cv2.INTER_LINEAR)
    else:
        matte = solve_alpha(rgb, trimap, prior=np.clip(prob, 0.0, 1.0))
    # feather the band's border over ~1 px so the matte meets the shaped alpha without a step
    weight = cv2.GaussianBlur(unknown.astype(np.float32), (0, 0), 1.0)
    weight = np.maximum(weight, unknown.astype(np.float32))
    return BandResult(alpha=matte.astype(np.float32), weight=weight.astype(np.float32),
                      unknown_fraction=n / float(h * w), solve_scale=scale)

"""Foreground colour estimation in the semi-transparent rim (halo removal).

Blur-fusion foreground estimation (Forte & Pitie, "Approximate fast foreground
colour estimation", ICIP 2021; as used by Germer et al.): two passes of
box-filtered colour means, a large radius then a small one. Pixels with alpha 1
keep their colour exactly; rim pixels get the local foreground colour, so a
product cut from a white backdrop shows no white fringe on a dark background.
Works tile by tile with a margin, so memory stays bounded for huge images.
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_SOLVE = 4 / 255
MAX_SOLVE = 251 / 255


def _box_means(fa, b1a, alpha, r):
    """Box means of F*a, B*(1-a) and a with a box of size r. They are smooth, so
    for large radii they are computed on a reduced copy and resized back."""
    h, w = alpha.shape
    f = max(1, r // 8)
    if f > 1:
        size = (max(1, w // f), max(1, h // f))
        a_s = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        fa = cv2.resize(fa, size, interpolation=cv2.INTER_AREA)
        b1a = cv2.resize(b1a, size, interpolation=cv2.INTER_AREA)
        k = (max(3, r // f),) * 2
    else:
        a_s, k = alpha, (r, r)
    out = [cv2.blur(fa, k), cv2.blur(b1a, k), cv2.blur(a_s, k)]
    if f > 1:
        out = [cv2.resize(x, (w, h), interpolation=cv2.INTER_LINEAR) for x in out]
    return out


def radii_chain(r1: int, r2: int, step: int = 4) -> list[int]:
    """r1, r1/step, r1/step^2, ... then r2: coarse-to-fine blur-fusion passes."""
    radii = [r1]
    while radii[-1] // step > r2:
        radii.append(radii[-1] // step)
    return radii + [r2]


def estimate_foreground_at(rgb: np.ndarray, alpha: np.ndarray, r1: int = 90,
                           r2: int = 3) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Foreground colours of the semi-transparent pixels only.

    Returns (indices of pixels with 0 < alpha < 1, their colours (N, 3) in [0, 1]).
    Only those pixels need solving: opaque pixels keep their colour (blur-fusion
    gives exactly that), fully transparent ones have none.
    """
    image = rgb.astype(np.float32) / 255.0
    a = alpha.astype(np.float32) / 255.0 if alpha.dtype == np.uint8 else alpha.astype(np.float32)
    # nearly transparent / nearly opaque pixels are left as they are: their colour
    # error is invisible (alpha * F ~ 0, or F ~ image)
    idx = np.nonzero((a >= MIN_SOLVE) & (a <= MAX_SOLVE))
    a_s = a[idx][:, None]
    img_s = image[idx]
    a3 = a[..., None]
    fa = image * a3  # F * alpha with F = image to start with
    b1a = image * (1 - a3)  # B * (1 - alpha) with B = image to start with
    one_minus_a = 1 - a3
    fg_s = img_s
    for r in radii_chain(r1, r2):
        sfa, sb1a, sa = _box_means(fa, b1a, a, r)
        ba_s = sa[idx][:, None]
        bf_s = sfa[idx] / (ba_s + 1e-5)
        bb = sb1a / ((1 - sa)[..., None] + 1e-5)  # the backdrop estimate, refined each pass
        bb_s = bb[idx]
        fg_s = np.clip(bf_s + a_s * (img_s - a_s * bf_s - (1 - a_s) * bb_s), 0, 1)
        fa[idx] = fg_s * a_s
        np.multiply(bb, one_minus_a, out=b1a)
    return idx, fg_s


def estimate_foreground(rgb: np.ndarray, alpha: np.ndarray, r1: int = 90,
                        r2: int = 3) -> np.ndarray:
    """rgb uint8 (H, W, 3), alpha float32/uint8 (H, W) -> foreground float32 in [0, 1]."""
    fg = rgb.astype(np.float32) / 255.0
    idx, fg_s = estimate_foreground_at(rgb, alpha, r1, r2)
    fg[idx] = fg_s
    return fg


def radii_for(shape: tuple[int, int]) -> tuple[int, int]:
    """90 px (the published setting) for ordinary photos, more for very large ones."""
    return int(np.clip(0.02 * max(shape), 90, 180)), 3


def decontaminate_into(rgba: np.ndarray, rgb: np.ndarray, alpha: np.ndarray,
                       tile: int = 1024) -> None:
    """Write decontaminated colours into rgba[..., :3] where 0 < alpha < 255.

    rgba: (H, W, 4) uint8 output, already holding rgb and alpha.
    """
    h, w = alpha.shape
    r1, r2 = radii_for((h, w))
    margin = sum(r // 2 + 1 for r in radii_chain(r1, r2)) + 2  # box half-widths
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            a_t = alpha[y0:y1, x0:x1]
            soft = (a_t > 0) & (a_t < 255)
            if not soft.any():
                continue
            # only the rectangle holding the soft rim (plus the blur margin) is solved
            ys, xs = np.nonzero(soft)
            sy0, sy1 = y0 + ys.min(), y0 + ys.max() + 1
            sx0, sx1 = x0 + xs.min(), x0 + xs.max() + 1
            ya, yb = max(0, sy0 - margin), min(h, sy1 + margin)
            xa, xb = max(0, sx0 - margin), min(w, sx1 + margin)
            (iy, ix), fg_s = estimate_foreground_at(rgb[ya:yb, xa:xb], alpha[ya:yb, xa:xb],
                                                    r1, r2)
            iy, ix = iy + ya, ix + xa
            inside = (iy >= y0) & (iy < y1) & (ix >= x0) & (ix < x1)  # this tile's pixels
            rgba[iy[inside], ix[inside], :3] = np.round(fg_s[inside] * 255).astype(np.uint8)

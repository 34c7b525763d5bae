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


def _blur_fusion(image, fg, bg, alpha, r):
    k = (r, r)
    a = alpha[..., None]
    blurred_alpha = cv2.blur(alpha, k)[..., None]
    blurred_f = cv2.blur(fg * a, k) / (blurred_alpha + 1e-5)
    blurred_b = cv2.blur(bg * (1 - a), k) / ((1 - blurred_alpha) + 1e-5)
    fg = blurred_f + a * (image - a * blurred_f - (1 - a) * blurred_b)
    return np.clip(fg, 0, 1, out=fg), blurred_b


def _coarse_means(image, alpha, r):
    """Large-radius blurred F and B of the first blur-fusion pass, computed on a
    reduced copy (they are smooth) and brought back to full size."""
    h, w = alpha.shape
    f = max(1, r // 12)
    if f > 1:
        sw, sh = max(1, w // f), max(1, h // f)
        img_s = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
        a_s = cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA)
        r_s = max(3, r // f)
    else:
        img_s, a_s, r_s = image, alpha, r
    k = (r_s, r_s)
    a3 = a_s[..., None]
    ba = cv2.blur(a_s, k)[..., None]
    bf = cv2.blur(img_s * a3, k) / (ba + 1e-5)
    bb = cv2.blur(img_s * (1 - a3), k) / ((1 - ba) + 1e-5)
    if f > 1:
        bf = cv2.resize(bf, (w, h), interpolation=cv2.INTER_LINEAR)
        bb = cv2.resize(bb, (w, h), interpolation=cv2.INTER_LINEAR)
    return bf, bb


def estimate_foreground(rgb: np.ndarray, alpha: np.ndarray, r1: int = 90,
                        r2: int = 6) -> np.ndarray:
    """rgb uint8 (H, W, 3), alpha float32/uint8 (H, W) -> foreground float32 in [0, 1]."""
    image = rgb.astype(np.float32) / 255.0
    a = alpha.astype(np.float32) / 255.0 if alpha.dtype == np.uint8 else alpha.astype(np.float32)
    bf, bb = _coarse_means(image, a, r1)
    a3 = a[..., None]
    fg = np.clip(bf + a3 * (image - a3 * bf - (1 - a3) * bb), 0, 1)
    fg, _ = _blur_fusion(image, fg, bb, a, r2)
    return fg


def radii_for(shape: tuple[int, int]) -> tuple[int, int]:
    r1 = int(np.clip(0.045 * max(shape), 15, 90))
    return r1, max(3, r1 // 15)


def decontaminate_into(rgba: np.ndarray, rgb: np.ndarray, alpha: np.ndarray,
                       tile: int = 1024) -> None:
    """Write decontaminated colours into rgba[..., :3] where 0 < alpha < 255.

    rgba: (H, W, 4) uint8 output, already holding rgb and alpha.
    """
    h, w = alpha.shape
    r1, r2 = radii_for((h, w))
    margin = r1 + r2 + 2
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            a_t = alpha[y0:y1, x0:x1]
            soft = (a_t > 0) & (a_t < 255)
            if not soft.any():
                continue
            ya, yb = max(0, y0 - margin), min(h, y1 + margin)
            xa, xb = max(0, x0 - margin), min(w, x1 + margin)
            fg = estimate_foreground(rgb[ya:yb, xa:xb], alpha[ya:yb, xa:xb], r1, r2)
            fg_t = fg[y0 - ya:y1 - ya, x0 - xa:x1 - xa]
            out = rgba[y0:y1, x0:x1, :3]
            out[soft] = np.round(fg_t[soft] * 255).astype(np.uint8)

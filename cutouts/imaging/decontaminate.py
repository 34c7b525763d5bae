"""Foreground colours in the semi-transparent rim of a full-resolution cutout (no fringe).

The estimator is the project's one implementation, ``matting.estimate_foreground``
(blur-fusion, Forte & Pitie 2021): pixels with alpha 1 keep their colour exactly, rim and hair
pixels get the local foreground colour, so a product cut from a white backdrop shows no white
fringe on a dark background. This module only drives it tile by tile, each tile with the
margin the estimator's blurs reach, so memory stays bounded for huge images.
"""

from __future__ import annotations

import numpy as np

from .matting import FG_RADII, estimate_foreground


def decontaminate_into(rgba: np.ndarray, rgb: np.ndarray, alpha: np.ndarray,
                       tile: int = 1024) -> None:
    """Write foreground colours into rgba[..., :3] where 0 < alpha < 255.

    rgba: (H, W, 4) uint8 output, already holding rgb and alpha.
    """
    h, w = alpha.shape
    margin = sum(FG_RADII) + 2  # how far the estimator's box blurs reach
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            a_t = alpha[y0:y1, x0:x1]
            soft = (a_t > 0) & (a_t < 255)
            if not soft.any():
                continue
            ya, yb = max(0, y0 - margin), min(h, y1 + margin)
            xa, xb = max(0, x0 - margin), min(w, x1 + margin)
            fg = estimate_foreground(rgb[ya:yb, xa:xb],
                                     alpha[ya:yb, xa:xb].astype(np.float32) * (1.0 / 255.0))
            inner = fg[y0 - ya:y1 - ya, x0 - xa:x1 - xa]
            rgba[y0:y1, x0:x1, :3][soft] = inner[soft]

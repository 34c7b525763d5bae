"""Foreground colours in the semi-transparent rim of a full-resolution cutout (no fringe).

The estimator is the project's one implementation, ``matting.estimate_foreground``
(blur-fusion, Forte & Pitie 2021): pixels with alpha 1 keep their colour exactly, rim and hair
pixels get the local foreground colour, so a product cut from a white backdrop shows no white
fringe on a dark background. This module only drives it tile by tile, each tile with the
context the estimator reads (FG_MARGIN), so memory stays bounded for huge images; the estimator
unmixes only the tile's own pixels, so no pixel is estimated twice.
"""

from __future__ import annotations

import cv2
import numpy as np

from .matting import FG_COARSE, FG_MARGIN, estimate_foreground


def decontaminate_into(rgba: np.ndarray, rgb: np.ndarray, alpha: np.ndarray,
                       tile: int = 1024) -> None:
    """Write foreground colours into rgba[..., :3] where 0 < alpha < 255.

    rgba: (H, W, 4) uint8 output, already holding rgb and alpha.
    """
    h, w = alpha.shape
    margin, s = FG_MARGIN, FG_COARSE
    rim = cv2.inRange(alpha, 1, 254)
    bx, by, bw, bh = cv2.boundingRect(rim)
    # the tiles cover the rim's box only: at 2 MP one tile instead of four, so no context is
    # read twice (the output does not depend on the tiling, see below)
    for y0 in range(by, by + bh, tile):
        for x0 in range(bx, bx + bw, tile):
            y1, x1 = min(y0 + tile, by + bh), min(x0 + tile, bx + bw)
            a_t = alpha[y0:y1, x0:x1]
            soft = rim[y0:y1, x0:x1]
            if not cv2.countNonZero(soft):
                continue
            # crops start and end on multiples of FG_COARSE, so every tile sees one coarse grid
            ya, yb = max(0, (y0 - margin) // s * s), min(h, -(-(y1 + margin) // s) * s)
            xa, xb = max(0, (x0 - margin) // s * s), min(w, -(-(x1 + margin) // s) * s)
            fg = estimate_foreground(rgb[ya:yb, xa:xb], alpha[ya:yb, xa:xb],
                                     core=(y0 - ya, y1 - ya, x0 - xa, x1 - xa))
            # rgba is black where alpha is 0, so copy only the pixels the estimator unmixed:
            # OpenCV's masked copy of whole RGBA pixels (their alpha is the tile's own) takes
            # a sixth of the time of numpy's masked copy into the RGB channels of rgba
            fg4 = cv2.merge([*cv2.split(fg[y0 - ya:y1 - ya, x0 - xa:x1 - xa]), a_t])
            cv2.copyTo(fg4, soft, rgba[y0:y1, x0:x1])

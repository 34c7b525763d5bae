"""Full-resolution tiles and the bilinear upsample of working-size maps (compose, detail)."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

TILE = 1024  # full-resolution tiles


def _tiles(h: int, w: int, size: int = TILE) -> Iterator[tuple[int, int, int, int]]:
    for y0 in range(0, h, size):
        for x0 in range(0, w, size):
            yield y0, min(h, y0 + size), x0, min(w, x0 + size)


def _upsample(work: np.ndarray, shape_full: tuple[int, int], y0: int, y1: int, x0: int,
              x1: int) -> np.ndarray:
    """Bilinear sample of a working-resolution float map on a full-resolution window."""
    hw, ww = work.shape
    hf, wf = shape_full
    sy, sx = hw / hf, ww / wf
    ys = ((np.arange(y0, y1, dtype=np.float32) + 0.5) * sy - 0.5).clip(0, hw - 1)
    xs = ((np.arange(x0, x1, dtype=np.float32) + 0.5) * sx - 0.5).clip(0, ww - 1)
    mx, my = np.meshgrid(xs, ys)
    return cv2.remap(work, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _box_tiles(box: tuple[int, int, int, int], h: int,
               w: int) -> Iterator[tuple[int, int, int, int]]:
    x0, y0, x1, y1 = box
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    for ty in range(y0, y1, TILE):
        for tx in range(x0, x1, TILE):
            yield ty, min(y1, ty + TILE), tx, min(x1, tx + TILE)

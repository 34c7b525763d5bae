"""Mask cleanup on the soft probability: drop specks, fill pin-holes, never binarise."""

from __future__ import annotations

import cv2
import numpy as np


def remove_specks(prob: np.ndarray, min_fraction: float) -> tuple[np.ndarray, int]:
    """Zero connected parts (prob >= 0.5, 8-connected, with their soft rim) whose
    area is below ``min_fraction`` x the largest part. Returns (prob, removed)."""
    if min_fraction <= 0:
        return prob, 0
    binary = (prob >= 0.5).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 2:
        return prob, 0
    areas = stats[1:, cv2.CC_STAT_AREA]
    small = np.nonzero(areas < min_fraction * areas.max())[0] + 1
    if len(small) == 0:
        return prob, 0
    kill = np.isin(labels, small).astype(np.uint8)
    kill = cv2.dilate(kill, np.ones((5, 5), np.uint8))  # their soft rim too
    keep = binary.astype(bool) & ~np.isin(labels, small)
    out = prob.copy()
    out[(kill > 0) & ~keep] = 0.0
    return out, len(small)


def fill_holes(prob: np.ndarray, max_fraction: float,
               plateau_min_area: float = 0.0) -> tuple[np.ndarray, int]:
    """Fill background holes (prob < 0.5, not touching the frame) smaller than
    ``max_fraction`` x image area. Holes that are semi-transparent (prob well
    above zero over more than ``plateau_min_area`` pixels, e.g. glass) are kept."""
    if max_fraction <= 0:
        return prob, 0
    holes = (prob < 0.5).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=4)
    if n <= 2:
        return prob, 0
    h, w = prob.shape
    x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    bw, bh = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    area = stats[:, cv2.CC_STAT_AREA]
    mean_prob = np.bincount(labels.ravel(), weights=prob.ravel(), minlength=n) / np.maximum(area, 1)
    inner = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h)
    # small, enclosed, and really empty (a semi-transparent hole, e.g. glass, stays)
    empty = (mean_prob <= 0.15) | (area <= plateau_min_area)
    fill = inner & (area <= max_fraction * h * w) & empty
    fill[0] = False
    idx = np.nonzero(fill)[0]
    if len(idx) == 0:
        return prob, 0
    out = prob.copy()
    out[np.isin(labels, idx)] = 1.0
    return out, len(idx)

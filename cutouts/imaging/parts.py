"""Connected parts of a mask: labels first, OpenCV's per-part statistics only for several."""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np


class Parts(NamedTuple):
    """``cv2.connectedComponentsWithStats``'s answer, without the statistics for one part."""

    n: int  # labels, the background's 0 included: n - 1 parts
    labels: np.ndarray  # int32, the mask's shape
    #: per label (row 0: the background), only when there are several parts: OpenCV's
    #: left, top, width, height and area, and the centroids (x, y), in the mask's pixels
    stats: np.ndarray | None
    centroids: np.ndarray | None


def label_parts(mask: np.ndarray) -> Parts:
    """The 8-connected parts of ``mask`` (uint8, 0 or 1). Callers pass the mask cropped to a
    box holding every part: labelling costs by the pixel, and a product rarely fills the
    frame. Labels alone cost a quarter of labels with statistics (2 MP: 4 vs 18 ms CPU), and
    most masks hold one part, whose area and box the caller has: the statistics are only
    computed (with their own labels, the same ones) when there are several."""
    n, labels = cv2.connectedComponents(mask, connectivity=8)
    if n <= 2:
        return Parts(n, labels, None, None)
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return Parts(n, labels, stats, centroids)

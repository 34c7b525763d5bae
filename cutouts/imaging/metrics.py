"""Evaluation metrics as defined in shared/eval/README.md.

gt: uint8 mask, 0 = background, 255 = object, 128 = ignore (left out everywhere).
pred: float alpha in [0, 1] (or uint8 0..255) of the same shape.
Distances are measured from the certain regions, so an ignore band is excluded.
"""

from __future__ import annotations

import cv2
import numpy as np

BETA2 = 0.3
RING = (1, 8)
BOUNDARY_TOL = 3


def _as_float(pred: np.ndarray) -> np.ndarray:
    if pred.dtype == np.uint8:
        return pred.astype(np.float32) / 255.0
    return np.clip(pred.astype(np.float32), 0.0, 1.0)


def split_gt(gt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    obj = gt > 128
    bg = gt < 128
    return obj, bg, obj | bg


def iou(pred, gt) -> float:
    p = _as_float(pred) >= 0.5
    obj, _, valid = split_gt(gt)
    inter = np.count_nonzero(p & obj & valid)
    union = np.count_nonzero((p | obj) & valid)
    return 1.0 if union == 0 else inter / union


def mae(pred, gt) -> float:
    p = _as_float(pred)
    obj, _, valid = split_gt(gt)
    if not valid.any():
        return 0.0
    return float(np.abs(p[valid] - obj[valid].astype(np.float32)).mean())


def max_f(pred, gt, beta2: float = BETA2) -> float:
    """Largest F-measure over the 256 thresholds t/255 (pred >= t), t = 0..255."""
    p = np.round(_as_float(pred) * 255).astype(np.int64)
    obj, bg, _ = split_gt(gt)
    pos = np.bincount(p[obj], minlength=256)[:256]
    neg = np.bincount(p[bg], minlength=256)[:256]
    tp = np.cumsum(pos[::-1])[::-1].astype(np.float64)  # pred >= t
    fp = np.cumsum(neg[::-1])[::-1].astype(np.float64)
    n_pos = pos.sum()
    if n_pos == 0:
        return 1.0 if fp[1:].min() == 0 else 0.0
    prec = tp / np.maximum(tp + fp, 1e-12)
    rec = tp / n_pos
    f = (1 + beta2) * prec * rec / np.maximum(beta2 * prec + rec, 1e-12)
    return float(f.max())


def _boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of mask with an 8-neighbour outside mask (frame edges do not count)."""
    m = mask.astype(np.uint8)
    er = cv2.erode(m, np.ones((3, 3), np.uint8),
                   borderType=cv2.BORDER_REPLICATE)
    return (m > 0) & (er == 0)


def _dist_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest pixel of mask (inf if none)."""
    if not mask.any():
        return np.full(mask.shape, np.inf, np.float32)
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)


def boundary_f(pred, gt, tol: float = BOUNDARY_TOL) -> float:
    p = _as_float(pred) >= 0.5
    obj, _, _ = split_gt(gt)
    gt_b = _boundary(obj)  # edge of the certain object (next to background or ignore)
    pr_b = _boundary(p)
    if not gt_b.any() and not pr_b.any():
        return 1.0
    if not gt_b.any() or not pr_b.any():
        return 0.0
    d_gt = _dist_to(gt_b)
    d_pr = _dist_to(pr_b)
    # the gt edge is the edge of the certain object; a predicted edge inside a thin
    # ignore band lies within the tolerance of it, so the band costs nothing
    gt_b_eval = gt_b
    precision = float(np.count_nonzero(d_gt[pr_b] <= tol)) / np.count_nonzero(pr_b)
    recall = float(np.count_nonzero(d_pr[gt_b_eval] <= tol)) / max(np.count_nonzero(gt_b_eval), 1)
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _ring(region: np.ndarray) -> np.ndarray:
    """Pixels of region 1..8 px away from the nearest pixel outside region."""
    if region.all() or not region.any():
        return np.zeros_like(region)
    d = cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, 5)
    return region & (d >= RING[0]) & (d <= RING[1])


def halo(pred, gt) -> float:
    """Mean predicted alpha over certain background 1-8 px outside the object."""
    _, bg, _ = split_gt(gt)
    ring = _ring(bg)
    if not ring.any():
        return float("nan")
    return float(_as_float(pred)[ring].mean())


def deficit(pred, gt) -> float:
    """Mean max(0, gt - pred) over certain object pixels 1-8 px inside the edge."""
    obj, _, _ = split_gt(gt)
    ring = _ring(obj)
    if not ring.any():
        return float("nan")
    return float((1.0 - _as_float(pred)[ring]).clip(0, 1).mean())


METRICS = {
    "iou": iou, "mae": mae, "max_f": max_f, "boundary_f": boundary_f,
    "halo": halo, "deficit": deficit,
}


def evaluate(pred, gt) -> dict[str, float]:
    if pred.shape[:2] != gt.shape[:2]:
        raise ValueError(f"shape mismatch: pred {pred.shape} vs gt {gt.shape}")
    return {k: f(pred, gt) for k, f in METRICS.items()}


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    out = {}
    for k in METRICS:
        vals = np.array([r[k] for r in rows], np.float64)
        out[k] = float(np.nanmean(vals)) if len(vals) and not np.isnan(vals).all() else float("nan")
    return out

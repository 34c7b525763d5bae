"""Evaluation metrics as defined in shared/eval/README.md.

gt: uint8 mask, 0 = background, 255 = object, 128 = ignore (left out everywhere).
pred: float alpha in [0, 1] (or uint8 0..255) of the same shape.
The soft-alpha metrics at the end (sad, mse, grad, soft_mae, band_mae) take a real soft gt.
Distances are measured from the certain regions, so an ignore band is excluded.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

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


def iou(pred: np.ndarray, gt: np.ndarray) -> float:
    p = _as_float(pred) >= 0.5
    obj, _, valid = split_gt(gt)
    inter = np.count_nonzero(p & obj & valid)
    union = np.count_nonzero((p | obj) & valid)
    return 1.0 if union == 0 else inter / union


def mae(pred: np.ndarray, gt: np.ndarray) -> float:
    p = _as_float(pred)
    obj, _, valid = split_gt(gt)
    if not valid.any():
        return 0.0
    return float(np.abs(p[valid] - obj[valid].astype(np.float32)).mean())


def soft_px(pred: np.ndarray, gt: np.ndarray) -> float:
    """Summed |alpha - truth| over the valid px (the ignore band left out), in px: a px wholly
    wrong counts 1, one half wrong .5. What the IoU at .5 cannot see moves it: a haze lowered
    from .14 to 0, a faint part raised from .8 to solid. Exact (integer sum) for uint8 alpha."""
    obj, _, valid = split_gt(gt)
    if pred.dtype == np.uint8:
        err = np.abs(pred.astype(np.int64) - np.where(obj, 255, 0))
        return float(err[valid].sum()) / 255.0
    return float(np.abs(_as_float(pred) - obj)[valid].astype(np.float64).sum())


def max_f(pred: np.ndarray, gt: np.ndarray, beta2: float = BETA2) -> float:
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
    edge: npt.NDArray[np.bool_] = (m > 0) & (er == 0)
    return edge


def _dist_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest pixel of mask (inf if none)."""
    if not mask.any():
        return np.full(mask.shape, np.inf, np.float32)
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)


def boundary_f(pred: np.ndarray, gt: np.ndarray, tol: float = BOUNDARY_TOL) -> float:
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
    recall = (float(np.count_nonzero(d_pr[gt_b_eval] <= tol))
              / max(int(np.count_nonzero(gt_b_eval)), 1))
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _ring(region: np.ndarray) -> np.ndarray:
    """Pixels of region 1..8 px away from the nearest pixel outside region."""
    if region.all() or not region.any():
        return np.zeros_like(region)
    d = cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, 5)
    return region & (d >= RING[0]) & (d <= RING[1])


def halo(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean predicted alpha over certain background 1-8 px outside the object."""
    _, bg, _ = split_gt(gt)
    ring = _ring(bg)
    if not ring.any():
        return float("nan")
    return float(_as_float(pred)[ring].mean())


def deficit(pred: np.ndarray, gt: np.ndarray) -> float:
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


def evaluate(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    if pred.shape[:2] != gt.shape[:2]:
        raise ValueError(f"shape mismatch: pred {pred.shape} vs gt {gt.shape}")
    return {k: f(pred, gt) for k, f in METRICS.items()}


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    out = {}
    for k in METRICS:
        vals = np.array([r[k] for r in rows], np.float64)
        out[k] = float(np.nanmean(vals)) if len(vals) and not np.isnan(vals).all() else float("nan")
    return out


# --- soft-alpha metrics (shared/eval/README.md, "Soft-alpha set") --------------------------
# gt here is a real soft alpha (uint8 0..255 or float 0..1): 128 means half transparent, not
# "ignore", so these never go through split_gt.

GRAD_SIGMA = 1.4


def _alpha64(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint8:
        return a.astype(np.float64) / 255.0
    return np.clip(a.astype(np.float64), 0.0, 1.0)


def _soft_pair(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = _alpha64(gt)
    p = _alpha64(pred)
    if p.shape[:2] != g.shape[:2]:
        # the README's rule: other sizes are resized bilinearly to the ground truth's size
        p = cv2.resize(p, (g.shape[1], g.shape[0]), interpolation=cv2.INTER_LINEAR)
    return p, g


def sad(pred: np.ndarray, gt: np.ndarray) -> float:
    """Sum of absolute differences over the whole image / 1000."""
    p, g = _soft_pair(pred, gt)
    return float(np.abs(p - g).sum() / 1000.0)


def mse(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean squared error x 1000."""
    p, g = _soft_pair(pred, gt)
    return float(((p - g) ** 2).mean() * 1000.0)


def _grad_mag(a: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(a, cv2.CV_64F, 1, 0, ksize=3)
    gy = cv2.Sobel(a, cv2.CV_64F, 0, 1, ksize=3)
    gx = cv2.GaussianBlur(gx, (0, 0), GRAD_SIGMA)
    gy = cv2.GaussianBlur(gy, (0, 0), GRAD_SIGMA)
    return np.sqrt(gx * gx + gy * gy)


def grad(pred: np.ndarray, gt: np.ndarray) -> float:
    """Sum of (|grad pred| - |grad gt|)^2 / 1000; Sobel 3x3, then a Gaussian of sigma 1.4."""
    p, g = _soft_pair(pred, gt)
    return float(((_grad_mag(p) - _grad_mag(g)) ** 2).sum() / 1000.0)


def soft_mae(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean |pred - gt| where the ground truth is fractional (0 < gt < 1); nan if none."""
    p, g = _soft_pair(pred, gt)
    m = (g > 0) & (g < 1)
    return float(np.abs(p[m] - g[m]).mean()) if m.any() else float("nan")


def band_mae(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Mean |pred - gt| inside the trimap's unknown band (0.1*255 < trimap < 0.9*255)."""
    p, g = _soft_pair(pred, gt)
    t = _alpha64(trimap)
    if t.shape != g.shape:
        raise ValueError(f"shape mismatch: trimap {t.shape} vs gt {g.shape}")
    m = (t > 0.1) & (t < 0.9)
    return float(np.abs(p[m] - g[m]).mean()) if m.any() else float("nan")


def soft_iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """IoU of (pred >= 0.5) and (gt >= 0.5) with a soft ground truth (nothing ignored)."""
    p, g = _soft_pair(pred, gt)
    a, b = p >= 0.5, g >= 0.5
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


SOFT_METRICS = ("sad", "mse", "grad", "soft_mae", "band_mae", "iou")


def evaluate_soft(pred: np.ndarray, gt: np.ndarray,
                  trimap: np.ndarray | None = None) -> dict[str, float]:
    """All soft-set metrics for one image; band_mae is nan without a trimap."""
    p, g = _soft_pair(pred, gt)
    return {
        "sad": sad(p, g), "mse": mse(p, g), "grad": grad(p, g), "soft_mae": soft_mae(p, g),
        "band_mae": band_mae(p, g, trimap) if trimap is not None else float("nan"),
        "iou": soft_iou(p, g),
    }


def mean_soft_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    out = {}
    for k in SOFT_METRICS:
        vals = np.array([r[k] for r in rows], np.float64)
        out[k] = float(np.nanmean(vals)) if len(vals) and not np.isnan(vals).all() else float("nan")
    return out

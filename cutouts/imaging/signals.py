"""Quality signals computed without ground truth (used to pre-flag and sort review)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np


def quality_signals(prob: np.ndarray, alpha: np.ndarray, rgb: np.ndarray,
                    background: np.ndarray | None = None,
                    pass_disagreement: float | None = None) -> dict[str, Any]:
    """All inputs at the same (working) resolution.

    prob: fused model probability [0, 1]; alpha: final alpha float [0, 1];
    rgb: uint8 image; background: optional estimated backdrop colour (H, W, 3) in [0, 1].
    """
    h, w = alpha.shape
    obj = alpha >= 0.5
    area = int(np.count_nonzero(obj))
    total = h * w
    soft = (alpha > 0.05) & (alpha < 0.95)
    contour = (obj.astype(np.uint8) - cv2.erode(obj.astype(np.uint8), np.ones((3, 3), np.uint8)))
    perimeter = int(np.count_nonzero(contour))
    n, _, stats, _ = cv2.connectedComponentsWithStats(obj.astype(np.uint8), connectivity=8)
    fragments = int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= max(4, 0.001 * area))) \
        if n > 1 else 0
    touches = []
    if area:
        if obj[0].any():
            touches.append("top")
        if obj[-1].any():
            touches.append("bottom")
        if obj[:, 0].any():
            touches.append("left")
        if obj[:, -1].any():
            touches.append("right")
    uncertain = (prob > 0.1) & (prob < 0.9)
    ys, xs = np.nonzero(obj)
    if area:
        box = prob[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        confidence = float(np.abs(2 * box - 1).mean())
    else:
        confidence = 0.0
    # halo risk: how close the inner rim's colour is to the local backdrop colour
    halo_risk = 0.0
    if area and background is not None:
        inner = cv2.erode(obj.astype(np.uint8), np.ones((3, 3), np.uint8))
        rim = obj & (cv2.erode(inner, np.ones((3, 3), np.uint8)) == 0)
        if rim.any():
            img = rgb.astype(np.float32) / 255.0
            fg_mean = img[obj & ~rim].mean(axis=0) if (obj & ~rim).any() else img[rim].mean(0)
            d_bg = np.linalg.norm(img[rim] - background[rim], axis=1)
            d_fg = np.linalg.norm(img[rim] - fg_mean, axis=1)
            halo_risk = float(np.mean(d_bg < d_fg))
    # how opaque the object's core is: a half-transparent handle or a filled wheel is doubt,
    # not glass, far more often than not
    core = cv2.erode(obj.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    interior = float(alpha[core].mean()) if core.any() else 0.0
    sig = {
        "empty": area == 0,
        "interior_alpha": round(interior, 4),
        "fill_ratio": round(area / total, 4),
        "fragment_count": fragments,
        "edge_softness_px": round(float(np.count_nonzero(soft)) / max(perimeter, 1), 3),
        "uncertain_fraction": round(float(np.count_nonzero(uncertain)) / total, 4),
        "confidence": round(confidence, 4),
        "low_confidence": bool(area == 0 or confidence < 0.75),
        "halo_risk": round(halo_risk, 4),
        "touches_frame": bool(touches),
        "touching_sides": touches,
    }
    if pass_disagreement is not None:
        sig["pass_disagreement"] = round(float(pass_disagreement), 4)
    return sig


# Logistic model of P(IoU < 0.80) from a few signals, fitted once on the 84-image dev set
# (`cutout_benchmark` prints the 5-fold cross-validated AUC of a refit next to the shipped
# one); monotone by construction: every weight is >= 0, so more doubt never lowers the risk.
# The signals are heavy-tailed, hence the logs: a few extreme photos must not set the scale.
RISK_MODEL: dict[str, float] = {
    "intercept": -2.5909, "softness": 0.6302, "uncertain": 0.3404, "parts": 1.9568,
}  # the flip-pass disagreement came out at weight 0 (its information is in "uncertain")


def risk_features(sig: dict[str, Any]) -> dict[str, float]:
    def num(key: str, default: float = 0.0) -> float:
        v = sig.get(key, default)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else default

    return {
        "softness": float(np.log1p(num("edge_softness_px"))),
        "uncertain": float(np.log1p(100 * num("uncertain_fraction"))),
        "disagreement": float(np.log1p(100 * num("pass_disagreement"))),
        "parts": float(np.log(max(1.0, num("parts", num("fragment_count", 1))))),
    }


def risk_score(sig: dict[str, Any]) -> float:
    """Probability-like risk in [0, 1] that the cutout is bad (IoU < 0.80); 1 if empty."""
    if sig.get("empty"):
        return 1.0
    f = risk_features(sig)
    z = RISK_MODEL.get("intercept", 0.0) + sum(RISK_MODEL.get(k, 0.0) * v for k, v in f.items())
    return round(float(1.0 / (1.0 + np.exp(-z))), 4)

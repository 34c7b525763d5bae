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
    obj_u8 = obj.view(np.uint8)
    area = int(np.count_nonzero(obj))
    total = h * w
    soft = (alpha > 0.05) & (alpha < 0.95)
    square = np.ones((3, 3), np.uint8)
    inner = cv2.erode(obj_u8, square)
    perimeter = area - int(np.count_nonzero(inner))  # the contour: obj minus its erosion
    # every part lies in the object's bounding box
    bx, by, bw, bh = cv2.boundingRect(obj_u8)
    box = np.s_[by:by + bh, bx:bx + bw]
    fragments = 0
    if area:
        n, _, stats, _ = cv2.connectedComponentsWithStats(obj_u8[box], connectivity=8)
        fragments = int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= max(4, 0.001 * area)))
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
    confidence = float(np.abs(2 * prob[box] - 1).mean()) if area else 0.0
    # a 5x5 erosion is two 3x3 ones (the frame never erodes)
    inner2 = cv2.erode(inner, square)
    # halo risk: how close the inner rim's colour is to the local backdrop colour
    halo_risk = 0.0
    if area and background is not None:
        # the rim and the object's pixels all lie in its box; only the pixels used are
        # converted (the same values, in the same order, as converting the whole image)
        obj_b = obj[box]
        rim = obj_b & (inner2[box] == 0)
        if rim.any():
            rgb_b = rgb[box]
            core_px = obj_b & ~rim
            fg_px = core_px if core_px.any() else rim
            fg_mean = (rgb_b[fg_px].astype(np.float32) / 255.0).mean(axis=0)
            rim_img = rgb_b[rim].astype(np.float32) / 255.0
            d_bg = np.linalg.norm(rim_img - background[box][rim], axis=1)
            d_fg = np.linalg.norm(rim_img - fg_mean, axis=1)
            halo_risk = float(np.mean(d_bg < d_fg))
    # how opaque the object's core is: a half-transparent handle or a filled wheel is doubt,
    # not glass, far more often than not
    core = inner2[box] > 0
    interior = float(alpha[box][core].mean()) if core.any() else 0.0
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

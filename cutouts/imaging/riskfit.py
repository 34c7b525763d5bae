"""Calibrating the review risk: a small monotone logistic model of "IoU < 0.80" from signals.

Used by the benchmark to fit and cross-validate the model whose coefficients ship in
``signals.RISK_MODEL``; nothing here runs when a cutout is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .signals import risk_features

BAD_IOU = 0.80
# every feature can only raise the risk: a fit that wants a negative weight drops the feature
FEATURES = ("softness", "uncertain", "disagreement", "parts")
# (intercept, weights, mean, scale) as fit_logistic returns it.
RiskFit = tuple[float, np.ndarray, np.ndarray, np.ndarray]


def design(signals: list[dict[str, Any]], features: Sequence[str] = FEATURES) -> np.ndarray:
    return np.array([[risk_features(s)[k] for k in features] for s in signals], np.float64)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0,
                 iterations: int = 50) -> RiskFit:
    """(intercept, weights, mean, scale): Newton steps on standardised features with an L2
    penalty; weights that come out negative are fixed to 0 and the fit repeated (monotone)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    active = np.ones(x.shape[1], bool)
    for _ in range(x.shape[1] + 1):
        a = np.column_stack([np.ones(len(z)), z[:, active]])
        w = np.zeros(a.shape[1])
        for _ in range(iterations):
            p = 1.0 / (1.0 + np.exp(-(a @ w)))
            reg = np.full(a.shape[1], l2)
            reg[0] = 0.0
            grad = a.T @ (p - y) + reg * w
            hess = (a * (p * (1 - p))[:, None]).T @ a + np.diag(reg) + 1e-9 * np.eye(a.shape[1])
            step = np.linalg.solve(hess, grad)
            w -= step
            if np.abs(step).max() < 1e-8:
                break
        weights = np.zeros(x.shape[1])
        weights[active] = w[1:]
        if (weights >= 0).all():
            return float(w[0]), weights, mean, scale
        active &= weights >= 0
    return float(np.log(max(y.mean(), 1e-3) / max(1 - y.mean(), 1e-3))), np.zeros(x.shape[1]), \
        mean, scale


def predict(model: RiskFit, x: np.ndarray) -> np.ndarray:
    b, w, mean, scale = model
    risk: np.ndarray = 1.0 / (1.0 + np.exp(-(b + ((x - mean) / scale) @ w)))
    return risk


def to_risk_model(model: RiskFit, features: Sequence[str] = FEATURES) -> dict[str, float]:
    """The fitted model in raw-feature units, as ``signals.RISK_MODEL`` stores it."""
    b, w, mean, scale = model
    raw = w / scale
    out = {"intercept": round(float(b - (raw * mean).sum()), 4)}
    out.update({k: round(float(v), 4) for k, v in zip(features, raw, strict=True) if v})
    return out


def roc_auc(score: np.ndarray, bad: np.ndarray) -> float:
    """Probability that a bad item scores above a good one (ties count half)."""
    score, bad = np.asarray(score, np.float64), np.asarray(bad, bool)
    pos, neg = score[bad], score[~bad]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    gt = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(gt / (len(pos) * len(neg)))


def top_share(score: np.ndarray, bad: np.ndarray, top: float = 0.2) -> float:
    """Share of the bad items found in the riskiest ``top`` fraction of the queue."""
    score, bad = np.asarray(score, np.float64), np.asarray(bad, bool)
    if not bad.any():
        return float("nan")
    k = max(1, int(round(top * len(score))))
    order = np.argsort(-score, kind="stable")[:k]
    return float(bad[order].sum() / bad.sum())


def cross_validate(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Out-of-fold predictions of the model (each item scored by a fit that never saw it)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    out = np.empty(len(y))
    for f in range(folds):
        test = order[f::folds]
        train = np.setdiff1d(order, test)
        out[test] = predict(fit_logistic(x[train], y[train]), x[test])
    return out


def risk_report(signals: list[dict[str, Any]], ious: list[float],
                shipped: list[float]) -> dict[str, Any]:
    """AUC and riskiest-20 % share of the shipped risk, of a cross-validated refit, and the
    refit's coefficients (to paste into ``signals.RISK_MODEL`` after a recalibration)."""
    x = design(signals)
    y = np.asarray(ious, np.float64) < BAD_IOU
    report: dict[str, Any] = {"images": len(y), "bad": int(y.sum()),
              "shipped_auc": roc_auc(np.asarray(shipped), y),
              "shipped_top20": top_share(np.asarray(shipped), y)}
    if 0 < y.sum() < len(y) and len(y) >= 10:
        cv = np.mean([cross_validate(x, y.astype(float), seed=s) for s in range(5)], axis=0)
        report["cv_auc"] = roc_auc(cv, y)
        report["cv_top20"] = top_share(cv, y)
        report["fit"] = to_risk_model(fit_logistic(x, y.astype(float)))
    return report

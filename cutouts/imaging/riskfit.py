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
FEATURES = ("parts", "core_doubt", "off_edge", "half_kept", "detached")
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


def best_top_share(bad: np.ndarray, top: float = 0.2) -> float:
    """The most ``top_share`` can be: all of the riskiest ``top`` items bad."""
    bad = np.asarray(bad, bool)
    if not bad.any():
        return float("nan")
    return min(1.0, max(1, int(round(top * len(bad)))) / float(bad.sum()))


def _folds(n: int, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    order = np.random.default_rng(seed).permutation(n)
    return [(np.setdiff1d(order, order[f::folds]), order[f::folds]) for f in range(folds)]


def cross_validate(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Out-of-fold predictions of the model (each item scored by a fit that never saw it)."""
    out = np.empty(len(y))
    for train, test in _folds(len(y), folds, seed):
        out[test] = predict(fit_logistic(x[train], y[train]), x[test])
    return out


def fold_auc(x: np.ndarray, y: np.ndarray, folds: int = 5, seeds: Sequence[int] = range(10)
             ) -> float:
    """Mean ROC AUC of each fold's fit on its own held-out fold, over repeated splits.

    The AUC of the pooled out-of-fold predictions is lower: it also charges the folds' fits
    for ranking each other's items (five intercepts), which one shipped model never does."""
    aucs = [roc_auc(predict(fit_logistic(x[train], y[train]), x[test]), y[test] > 0.5)
            for s in seeds for train, test in _folds(len(y), folds, s)]
    return float(np.nanmean(aucs))


def risk_report(signals: list[dict[str, Any]], ious: list[float],
                shipped: list[float], refit: bool = True) -> dict[str, Any]:
    """AUC and riskiest-20 % share of the shipped risk, of a cross-validated refit, and the
    refit's coefficients (to paste into ``signals.RISK_MODEL`` after a recalibration).
    ``*_top_bad`` is the share found in the riskiest n items, n = the number of bad ones;
    ``best_top20`` the most any ranking can find in the riskiest 20 %. ``refit=False``: the
    shipped risk only, for a set too small to fit on (soft-dev's 14 photos, 4 bad, gave a
    pooled cross-validated AUC of .23: noise)."""
    x = design(signals)
    y = np.asarray(ious, np.float64) < BAD_IOU
    risk = np.asarray(shipped, np.float64)
    top_bad = float(y.mean()) if len(y) else 0.0
    report: dict[str, Any] = {"images": len(y), "bad": int(y.sum()),
              "shipped_auc": roc_auc(risk, y), "shipped_top20": top_share(risk, y),
              "shipped_top_bad": top_share(risk, y, top_bad),
              "best_top20": best_top_share(y)}
    if refit and 0 < y.sum() < len(y) and len(y) >= 10:
        seeds = range(5)
        cv = np.mean([cross_validate(x, y.astype(float), seed=s) for s in seeds], axis=0)
        report["cv_auc"] = roc_auc(cv, y)
        report["cv_fold_auc"] = fold_auc(x, y.astype(float), seeds=seeds)
        report["cv_top20"] = top_share(cv, y)
        report["cv_top_bad"] = top_share(cv, y, top_bad)
        report["fit"] = to_risk_model(fit_logistic(x, y.astype(float)))
    return report

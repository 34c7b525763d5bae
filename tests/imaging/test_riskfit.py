"""Risk calibration: a monotone logistic model, scored by ROC AUC and the riskiest 20 %."""

from __future__ import annotations

import numpy as np

from cutouts.imaging import riskfit
from cutouts.imaging.signals import risk_score


def _signals(rng, bad: bool) -> dict:
    return {"edge_support": float(rng.uniform(0.4, 0.8) if bad else rng.uniform(0.7, 1.0)),
            "interior_alpha": float(rng.uniform(0.6, 0.97) if bad else rng.uniform(0.95, 1.0)),
            "parts": int(rng.integers(1, 3)),  # no information: weight 0
            "confidence": 0.9}


def test_it_ranks_bad_cutouts_first_and_cross_validates():
    rng = np.random.default_rng(0)
    bad = rng.random(120) < 0.3
    sigs = [_signals(rng, b) for b in bad]
    ious = np.where(bad, 0.6, 0.9)
    report = riskfit.risk_report(sigs, list(ious), [0.0] * len(sigs))
    assert report["bad"] == int(bad.sum())
    assert report["cv_auc"] > 0.85 and report["cv_fold_auc"] > 0.85
    assert report["cv_top20"] > 0.5 and report["cv_top_bad"] > 0.7
    assert report["shipped_auc"] == 0.5  # a constant risk ranks nothing
    assert report["best_top20"] == min(1.0, 24 / bad.sum())
    fit = report["fit"]
    assert all(v >= 0 for k, v in fit.items() if k != "intercept")  # monotone
    assert fit.get("off_edge", 0) > 0 and fit.get("core_doubt", 0) > 0


def test_it_drops_a_feature_that_would_lower_the_risk():
    rng = np.random.default_rng(1)
    y = (rng.random(200) < 0.4).astype(float)
    x = np.column_stack([y + rng.normal(0, 0.5, 200), -y + rng.normal(0, 0.5, 200)])
    b, w, *_ = riskfit.fit_logistic(x, y)
    assert w[0] > 0 and w[1] == 0.0


def test_it_measures_auc_and_top_share():
    score = np.array([0.9, 0.8, 0.1, 0.2, 0.3])
    bad = np.array([True, True, False, False, False])
    assert riskfit.roc_auc(score, bad) == 1.0
    assert riskfit.top_share(score, bad, top=0.2) == 0.5
    # one of five items is all the riskiest 20 % hold: at most half of the two bad ones
    assert riskfit.best_top_share(bad, top=0.2) == 0.5


def test_it_scores_each_fold_on_its_own_held_out_items():
    rng = np.random.default_rng(2)
    y = (rng.random(100) < 0.4).astype(float)
    x = (y + rng.normal(0, 0.7, 100))[:, None]
    single = riskfit.roc_auc(x[:, 0], y > 0.5)
    # one informative feature: each fold's fit ranks its held-out items exactly as the
    # feature does, so the per-fold AUC is the feature's own, fold by fold
    folds = [riskfit.roc_auc(x[test, 0], y[test] > 0.5)
             for train, test in riskfit._folds(100, 5, 0)]
    assert riskfit.fold_auc(x, y, seeds=[0]) == np.mean(folds)
    assert abs(riskfit.fold_auc(x, y) - single) < 0.05


def test_it_gives_an_empty_cutout_the_highest_risk():
    assert risk_score({"empty": True}) == 1.0
    calm = risk_score({"edge_support": 0.95, "interior_alpha": 0.99, "parts": 1})
    doubt = risk_score({"edge_support": 0.6, "interior_alpha": 0.8, "parts": 3})
    assert 0.0 < calm < doubt < 1.0


def test_it_reports_only_the_shipped_risk_without_a_refit():
    rng = np.random.default_rng(2)
    bad = np.arange(14) < 4  # soft-dev's size: too few photos to fit on
    sigs = [_signals(rng, b) for b in bad]
    shipped = [risk_score(s) for s in sigs]
    report = riskfit.risk_report(sigs, list(np.where(bad, 0.6, 0.9)), shipped, refit=False)
    assert report["bad"] == 4 and report["shipped_auc"] > 0.5
    assert not {"cv_auc", "cv_fold_auc", "fit"} & set(report)

"""Risk calibration: a monotone logistic model, scored by ROC AUC and the riskiest 20 %."""

from __future__ import annotations

import numpy as np

from cutouts.imaging import riskfit
from cutouts.imaging.signals import risk_score


def _signals(rng, bad: bool) -> dict:
    return {"edge_softness_px": float(rng.uniform(4, 30) if bad else rng.uniform(1, 8)),
            "uncertain_fraction": float(rng.uniform(0.02, 0.2) if bad else rng.uniform(0, 0.05)),
            "pass_disagreement": float(rng.uniform(0, 0.05)),  # no information: weight 0
            "parts": 1, "confidence": 0.9}


def test_it_ranks_bad_cutouts_first_and_cross_validates():
    rng = np.random.default_rng(0)
    bad = rng.random(120) < 0.3
    sigs = [_signals(rng, b) for b in bad]
    ious = np.where(bad, 0.6, 0.9)
    report = riskfit.risk_report(sigs, list(ious), [0.0] * len(sigs))
    assert report["bad"] == int(bad.sum())
    assert report["cv_auc"] > 0.85 and report["cv_top20"] > 0.5
    assert report["shipped_auc"] == 0.5  # a constant risk ranks nothing
    fit = report["fit"]
    assert all(v >= 0 for k, v in fit.items() if k != "intercept")  # monotone
    assert fit.get("softness", 0) > 0 and fit.get("uncertain", 0) > 0


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


def test_it_gives_an_empty_cutout_the_highest_risk():
    assert risk_score({"empty": True}) == 1.0
    calm = risk_score({"edge_softness_px": 2.0, "uncertain_fraction": 0.01, "parts": 1})
    doubt = risk_score({"edge_softness_px": 20.0, "uncertain_fraction": 0.1, "parts": 3})
    assert 0.0 < calm < doubt < 1.0

"""The "Tiny subject" pre-flag (a cutout that kept a speck of a photo the product fills) and
"Too small for export" (a product a marketplace preset would enlarge past its limit)."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.signals import quality_signals, risk_score
from cutouts.services import review
from cutouts.variants.compliance import export_signals


def speck_signals() -> dict:
    rgb = np.zeros((825, 1100, 3), np.uint8)
    alpha = np.zeros((825, 1100), np.float32)
    alpha[400:410, 500:509] = 1.0  # QA: a 9x10 px blob, fill ratio 0.0, not empty
    return quality_signals(alpha, alpha, rgb)


def test_it_preflags_a_tiny_subject_for_the_reviewer():
    sig = speck_signals()
    flags, risk = review.preflags_from_signals(sig)
    assert "tiny_subject" in flags and "empty" not in flags
    assert review.PREFLAGS["tiny_subject"] == "Tiny subject"
    # dismissing it drops its tie-break share only; the calibrated risk is unchanged
    assert review._risk_without(sig, {"tiny_subject"}) < risk
    assert review._risk_without(sig, {"tiny_subject"}) > risk - 0.02
    # an empty cutout says empty, not both
    assert review.preflags_from_signals({"empty": True, "tiny_subject": True})[0] == ["empty"]
    # a product that fills the frame raises no such flag
    full = np.zeros((825, 1100), np.float32)
    full[100:700, 200:900] = 1.0
    ok = quality_signals(full, full, np.zeros((825, 1100, 3), np.uint8))
    assert "tiny_subject" not in review.preflags_from_signals(ok)[0]


def test_it_preflags_a_product_export_would_leave_out_and_ranks_it_ahead_of_a_clean_one():
    rgb = np.zeros((480, 854, 3), np.uint8)
    alpha = np.zeros((480, 854), np.float32)
    alpha[200:307, 300:412] = 1.0  # QA: 112 x 107 px of an 854 x 480 photo
    # the product's size as the engine stores it: export's measure of the full-size alpha
    solid = (alpha * 255).astype(np.uint8)
    small = {**quality_signals(alpha, alpha, rgb), **export_signals(solid)}
    flags, risk = review.preflags_from_signals(small)
    assert "too_small_for_export" in flags and "tiny_subject" not in flags
    assert review.PREFLAGS["too_small_for_export"] == "Too small for export"
    # the same cut of a photo four times the size is big enough: no flag, and it sorts after
    big = {**quality_signals(alpha, alpha, rgb),
           **export_signals(cv2.resize(solid, (854 * 4, 480 * 4),
                                       interpolation=cv2.INTER_NEAREST))}
    assert big["product_px"] == [448, 428]
    big_flags, big_risk = review.preflags_from_signals(big)
    assert "too_small_for_export" not in big_flags
    # a tie-break only: ahead of the same cut that export takes, never ahead of a likely bad cut
    p = risk_score(big)
    assert risk == pytest.approx(big_risk + (1 - p) * review.TIE_BREAK * review.TOO_SMALL_RISK)
    doubted = {**big, "confidence": 0.6, "uncertain_fraction": 0.08}
    assert review.preflags_from_signals(doubted)[1] > risk
    # a reviewer who dismisses it (the product is for a scene, not a marketplace) drops it
    assert review._risk_without(small, {"too_small_for_export"}) == pytest.approx(big_risk)
    # a version computed before the signal raises nothing
    old = {k: v for k, v in small.items() if k not in ("product_px", "product_fill_px")}
    assert "too_small_for_export" not in review.preflags_from_signals(old)[0]

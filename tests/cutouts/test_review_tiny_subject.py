"""The "Tiny subject" pre-flag: a cutout that kept a speck of a photo the product fills."""

import numpy as np

from cutouts.imaging.signals import quality_signals
from cutouts.services import review


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

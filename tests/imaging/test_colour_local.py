"""local_colour: the one normalised-Gaussian local mean colour the retouch guards read, against
the three formulas it replaced (retouch._colour_gap's, retouch_detail's crisp-edge stats and
its local backdrop), written out here as they stood, on random Lab-like crops and masks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging import retouch, retouch_detail
from cutouts.imaging.colour import local_colour


def _crop(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, w = rng.integers(20, 90, size=2)
    lab = rng.uniform(0, 255, (h, w, 3)).astype(np.float32)
    # blobs, not salt: the guards' masks are regions, with empty stretches far from them
    mask = cv2.GaussianBlur(rng.uniform(0, 1, (h, w)).astype(np.float32), (0, 0), 4.0)
    return lab, mask > np.quantile(mask, rng.uniform(0.3, 0.9))


def _old_gap_mean(lab: np.ndarray, m: np.ndarray) -> np.ndarray:
    mf = m.astype(np.float32)
    wsum = cv2.GaussianBlur(mf, (0, 0), retouch.HAZE_SIGMA)[..., None]
    whole = lab[m].mean(axis=0)
    mean: np.ndarray = ((cv2.GaussianBlur(lab * mf[..., None], (0, 0), retouch.HAZE_SIGMA)
                         + retouch.HAZE_WHOLE * whole) / (wsum + retouch.HAZE_WHOLE))
    return mean


def _old_stats(lab: np.ndarray, mask: np.ndarray, sigma: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = mask.astype(np.float32)
    wgt = cv2.GaussianBlur(m, (0, 0), sigma)
    den = np.maximum(wgt, 1e-6)[..., None]
    mean = cv2.GaussianBlur(lab * m[..., None], (0, 0), sigma) / den
    sq = cv2.GaussianBlur(lab * lab * m[..., None], (0, 0), sigma) / den
    std = np.sqrt(np.maximum(sq - mean * mean, 0).sum(axis=2))
    return wgt, mean, std


@pytest.mark.parametrize("seed", range(12))
def test_it_matches_the_haze_gaps_formula_exactly(seed: int) -> None:
    lab, m = _crop(seed)
    got = local_colour(lab, m, retouch.HAZE_SIGMA, whole=retouch.HAZE_WHOLE)
    assert got.spread is None
    np.testing.assert_array_equal(got.mean, _old_gap_mean(lab, m))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("sigma", [retouch_detail.EDGE_SIGMA, retouch_detail.BACKDROP_SIGMA])
def test_it_matches_the_edge_and_backdrop_formulas_exactly(seed: int, sigma: float) -> None:
    lab, m = _crop(seed)
    got = local_colour(lab, m, sigma, spread=True)
    for a, b in zip(got, _old_stats(lab, m, sigma), strict=True):
        np.testing.assert_array_equal(a, b)
    # the backdrop model on top of it: its spread floored at BACKDROP_NOISE
    wgt, mean, spread = retouch_detail._local_backdrop(lab, m)
    old = _old_stats(lab, m, retouch_detail.BACKDROP_SIGMA)
    np.testing.assert_array_equal(spread, np.maximum(old[2], retouch_detail.BACKDROP_NOISE))
    np.testing.assert_array_equal(mean, old[1])


def test_it_averages_only_the_masks_pixels() -> None:
    # two flat colours, the mask on the left one: the mean near it is the left colour, and
    # far from it (an empty average) it is 0 without ``whole`` and the left colour with it
    lab = np.zeros((40, 200, 3), np.float32)
    lab[:, :100] = (10.0, 20.0, 30.0)
    lab[:, 100:] = (200.0, 100.0, 50.0)
    m = np.zeros((40, 200), bool)
    m[:, :100] = True
    plain = local_colour(lab, m, 3.0, spread=True)
    left = np.tile((10.0, 20.0, 30.0), (40, 1))
    np.testing.assert_allclose(plain.mean[:, 95], left, atol=1e-3)
    # (not 0: float32 rounding of E[x²] - E[x]²)
    assert plain.spread is not None and float(plain.spread[:, :90].max()) < 0.1
    assert float(np.abs(plain.mean[:, 190]).max()) < 1e-3
    mixed = local_colour(lab, m, 3.0, whole=0.05)
    np.testing.assert_allclose(mixed.mean[:, 190], left, atol=1e-3)


def test_it_refuses_a_spread_with_a_whole_image_mean() -> None:
    lab, m = _crop(0)
    with pytest.raises(ValueError):
        local_colour(lab, m, 3.0, whole=0.05, spread=True)

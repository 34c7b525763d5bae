"""The automatic unknown band: wide over strands, zero over hard edges, matted inside."""

from __future__ import annotations

import cv2
import numpy as np

from cutouts.imaging import band
from cutouts.imaging.pipeline import run_pipeline
from cutouts.imaging.settings import profile

from .scenes import ColourSegmenter, H, W, body, compose, hair_scene


def _hard_scene():
    truth = body()
    return compose(truth), truth


def _model_prob(truth: np.ndarray, model_px: float) -> np.ndarray:
    """What a low-resolution model returns: the truth blurred over ~1 model px."""
    return cv2.GaussianBlur(truth, (0, 0), model_px).astype(np.float32)


def _textured_hair_scene(seed: int = 1):
    """Fine low-contrast strands over a textured backdrop: soft material on both sides."""
    rgb, truth = hair_scene(seed)
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 6, rgb.shape[:2]).astype(np.float32)
    out = np.clip(rgb.astype(np.float32) + noise[..., None] * (1 - truth[..., None]), 0, 255)
    return out.astype(np.uint8), truth


def test_it_keeps_the_band_closed_over_a_hard_edge():
    rgb, truth = _hard_scene()
    mpx = max(H, W) / 320
    prob = _model_prob(truth, mpx)
    soft = band.softness(rgb, prob, mpx)
    trimap = band.band_trimap(prob, soft, mpx)
    assert np.count_nonzero(trimap == 128) == 0  # nothing to matte: the shaping stays crisp
    assert band.matte_band(rgb, prob, prob, mpx) is None


def test_it_opens_the_band_over_strands_where_the_passes_disagree():
    rgb, truth = _textured_hair_scene()
    mpx = max(H, W) / 320
    prob = _model_prob(truth, mpx)
    strands = (truth > 0.05) & (truth < 0.95) & (cv2.erode(
        (truth >= 0.99).astype(np.uint8), np.ones((3, 3), np.uint8)) == 0)
    disagreement = cv2.GaussianBlur(strands.astype(np.float32), (0, 0), 3) * 0.3
    res = band.matte_band(rgb, prob, prob, mpx, disagreement)
    assert res is not None and 0 < res.unknown_fraction < 0.2
    assert res.alpha.shape == (H, W) and res.weight.max() == 1.0
    # the band lies over the strands, not over the body's lower (hard) outline
    lower = np.zeros((H, W), bool)
    lower[H // 2 + 150:, :] = True
    assert res.weight[lower].max() < 0.05
    assert res.weight[strands].mean() > 0.3


class StrandDoubtSegmenter(ColourSegmenter):
    """Sees solid parts the same way in the photo and its mirror image, but is unsure about
    thin strands: it loses them towards one side of its input, as real models do
    inconsistently, so the flip pass disagrees there."""

    def predict(self, rgb):
        a = super().predict(rgb)
        se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        thin = np.clip(cv2.morphologyEx(a, cv2.MORPH_TOPHAT, se) * 3, 0, 1)
        side = np.linspace(1.0, 0.1, a.shape[1], dtype=np.float32)[None, :]
        return (a * (1 - thin * (1 - side))).astype(np.float32)


def test_it_keeps_a_hairy_edge_fractional_in_the_default_profile():
    rgb, truth = hair_scene()
    on = run_pipeline(rgb, profile("default", band=True), StrandDoubtSegmenter())
    off = run_pipeline(rgb, profile("default", band=False), StrandDoubtSegmenter())
    strands = (truth > 0.2) & (truth < 0.9)
    assert np.count_nonzero(strands) > 500
    assert on.signals["band_fraction"] > 0 and off.signals["band_fraction"] == 0
    a = on.alpha.astype(np.float32) / 255
    b = off.alpha.astype(np.float32) / 255
    # alpha in the strands stays partial, not cut to 0 or pushed to 1
    assert ((a[strands] > 0.02) & (a[strands] < 0.98)).mean() > 0.5
    # and matting in the band brings it closer to the truth than the shaping alone
    assert np.abs(a[strands] - truth[strands]).mean() < np.abs(b[strands] - truth[strands]).mean()
    # the solid body's outline is the same crisp edge with or without the band
    body_edge = (truth == 1.0) & (cv2.erode((truth == 1.0).astype(np.uint8),
                                            np.ones((3, 3), np.uint8)) == 0)
    lower = body_edge.copy()
    lower[: H // 2 + 100] = False
    assert np.abs(a[lower] - b[lower]).max() < 0.05
    assert np.abs(a[lower] - b[lower]).mean() < 0.005


def test_it_bounds_the_unknown_band_by_solving_a_reduced_copy(monkeypatch):
    rgb, truth = _textured_hair_scene()
    mpx = max(H, W) / 320
    prob = _model_prob(truth, mpx)
    disagreement = np.full((H, W), 0.3, np.float32)  # everything in doubt: a wide band
    full = band.matte_band(rgb, prob, prob, mpx, disagreement)
    monkeypatch.setattr(band, "MAX_UNKNOWN", 2000)
    small = band.matte_band(rgb, prob, prob, mpx, disagreement, max_unknown=2000)
    assert full.solve_scale == 1.0 and small.solve_scale < 0.5
    assert small.alpha.shape == (H, W)
    inside = small.weight > 0.99
    assert np.abs(small.alpha[inside] - full.alpha[inside]).mean() < 0.15


def test_it_keeps_strands_on_a_textured_edge_fractional_in_the_soft_profile():
    # fine strands over a textured backdrop beside a body whose lower outline is a hard edge
    rgb, truth = _textured_hair_scene(seed=2)
    soft = run_pipeline(rgb, profile("soft"), StrandDoubtSegmenter())
    default = run_pipeline(rgb, profile("default"), StrandDoubtSegmenter())
    a = soft.alpha.astype(np.float32) / 255
    b = default.alpha.astype(np.float32) / 255
    strands = (truth > 0.2) & (truth < 0.9)
    assert np.count_nonzero(strands) > 500 and soft.signals["band_fraction"] > 0
    # the strands fade: partial alpha, not cut to 0 or pushed to 1, and closer to the truth
    # than what `default`'s edge shaping leaves of them
    assert ((a[strands] > 0.02) & (a[strands] < 0.98)).mean() > 0.5
    assert np.abs(a[strands] - truth[strands]).mean() < np.abs(b[strands] - truth[strands]).mean()
    # the body's lower outline, a hard edge both passes agree on, stays crisp: a step of at
    # most ~3 px from 0.1 to 0.9 across it, as in `default`
    col = W // 2
    lower = a[H // 2 + 150:, col]
    ramp = np.count_nonzero((lower > 0.1) & (lower < 0.9))
    assert lower[0] > 0.95 and lower[-1] < 0.05 and ramp <= 3
    # (the lighter crop pass moves it by at most a few levels)
    diff = np.abs(a[H // 2 + 150:, :] - b[H // 2 + 150:, :])
    assert diff.max() < 0.1 and diff.mean() < 0.005

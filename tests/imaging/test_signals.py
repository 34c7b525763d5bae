"""Quality signals without ground truth: the object's contour, rim colour, core and how
well its outline follows the photo's edges."""

from __future__ import annotations

import cv2
import numpy as np

from cutouts.imaging.signals import edge_support, quality_signals, risk_score

from .scenes import BG, FG


def test_it_counts_the_contour_inside_the_frame_only():
    alpha = np.zeros((100, 140), np.float32)
    alpha[20:70, 0:100] = 1.0  # touches the left side of the frame
    alpha[70, 0:100] = 0.3  # one row of soft edge below it
    rgb = np.zeros((100, 140, 3), np.uint8)
    sig = quality_signals(alpha, alpha, rgb)
    # contour: top and bottom rows and the right column, not the frame side
    assert sig["edge_softness_px"] == round(100 / (100 + 100 + 48), 3)
    assert sig["touching_sides"] == ["left"] and sig["fragment_count"] == 1


def test_it_measures_the_halo_on_the_rim_against_the_backdrop():
    alpha = np.zeros((100, 140), np.float32)
    alpha[20:80, 20:120] = 1.0
    background = np.broadcast_to(BG / 255.0, (100, 140, 3)).astype(np.float32)
    rgb = np.empty((100, 140, 3), np.uint8)
    rgb[:] = FG.astype(np.uint8)
    clean = quality_signals(alpha, alpha, rgb, background)
    rgb[20:80, 20:120] = BG.astype(np.uint8)
    rgb[22:78, 22:118] = FG.astype(np.uint8)  # a 2 px rim of backdrop colour: a halo
    halo = quality_signals(alpha, alpha, rgb, background)
    assert clean["halo_risk"] == 0.0 and halo["halo_risk"] == 1.0


def test_it_reads_the_core_alpha_two_pixels_inside_the_outline():
    alpha = np.zeros((100, 140), np.float32)
    alpha[20:80, 20:120] = 1.0
    alpha[22:78, 22:118] = 0.6  # a half-transparent core inside an opaque outline
    sig = quality_signals(alpha, alpha, np.zeros((100, 140, 3), np.uint8))
    assert sig["interior_alpha"] == 0.6


def test_it_rates_an_empty_cutout_as_certain_to_be_bad():
    alpha = np.zeros((50, 60), np.float32)
    sig = quality_signals(alpha, alpha, np.zeros((50, 60, 3), np.uint8), None, 0.1)
    assert sig["empty"] and sig["fragment_count"] == 0 and sig["interior_alpha"] == 0.0
    assert risk_score(sig) == 1.0


def _box_scene(scale: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A red box on white (rgb) and its exact mask, ``scale`` times 100 x 140 px."""
    rgb = np.empty((100 * scale, 140 * scale, 3), np.uint8)
    rgb[:] = BG.astype(np.uint8)
    obj = np.zeros((100 * scale, 140 * scale), bool)
    obj[30 * scale:70 * scale, 40 * scale:100 * scale] = True
    rgb[obj] = FG.astype(np.uint8)
    return rgb, obj


def test_it_finds_the_outline_on_the_photos_edges_only_where_it_is():
    rgb, obj = _box_scene()
    assert edge_support(rgb, obj, 1.0) == 1.0
    wide = np.zeros_like(obj)
    wide[20:80, 30:110] = True  # 10 px out into the flat backdrop all round
    assert edge_support(rgb, wide, 1.0) == 0.0
    right = obj.copy()
    right[30:70, 100:130] = True  # the right side runs 30 px out into the backdrop
    assert 0.5 < edge_support(rgb, right, 1.0) < 0.85
    sig = quality_signals(right.astype(np.float32), right.astype(np.float32), rgb,
                          model_px=1.0)
    assert sig["edge_support"] == round(edge_support(rgb, right, 1.0), 4)


def test_it_measures_edge_support_alike_at_any_resolution():
    rgb, _ = _box_scene()
    right = np.zeros((100, 140), bool)
    right[30:70, 40:130] = True
    big_rgb, _ = _box_scene(4)
    big = cv2.resize(right.view(np.uint8), (560, 400), interpolation=cv2.INTER_NEAREST) > 0
    small_value = edge_support(rgb, right, 1.0)
    assert abs(edge_support(big_rgb, big, 4.0) - small_value) < 0.05


def test_it_ranks_an_outline_off_the_edges_riskier():
    base = {"parts": 1, "interior_alpha": 0.99, "edge_support": 0.95}
    assert risk_score({**base, "edge_support": 0.6}) > risk_score(base)
    assert risk_score({**base, "interior_alpha": 0.7}) > risk_score(base)
    assert risk_score({**base, "parts": 3}) > risk_score(base)
    # a cutout stored before these signals existed counts as no doubt, not as full doubt
    assert risk_score({"parts": 1}) == risk_score({"parts": 1, "interior_alpha": 1.0,
                                                   "edge_support": 1.0})

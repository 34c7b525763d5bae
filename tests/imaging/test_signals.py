"""Quality signals without ground truth: the object's contour, rim colour and core."""

from __future__ import annotations

import numpy as np

from cutouts.imaging.signals import quality_signals, risk_score

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

"""A click whose brush reaches over the cutout's edge flips only within it (`_edge_band`)."""

import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke

GREY = (150, 155, 170)


def beak_scene(seed: int):
    """A head with a grey beak on pale rippled water, one ripple of the beak's grey running
    off its tip; the model lost the beak's tip (x >= 205)."""
    h, w = 240, 320
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    v = 0.5 + 0.5 * np.sin(2 * np.pi * (yy + 3 * np.sin(xx / 9.0)) / 9.0)
    rgb = np.stack([200 + 40 * v, 205 + 40 * v, 215 + 40 * v], axis=2)
    cv2.line(rgb, (200, 128), (300, 160), GREY, 3)
    head = np.zeros((h, w), np.uint8)
    cv2.circle(head, (110, 120), 60, 255, -1)
    beak = np.zeros((h, w), np.uint8)
    cv2.ellipse(beak, (190, 125), (50, 11), 0, 0, 360, 255, -1)
    rgb[head > 0] = (120, 85, 55)
    rgb[(beak > 0) & (head == 0)] = GREY
    rgb += rng.normal(0, 3, rgb.shape)
    rgb = np.clip(cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), 0.8), 0, 255).astype(np.uint8)
    truth = np.maximum(head, beak)
    prior = truth.copy()
    prior[:, 205:] = 0
    return rgb, cv2.GaussianBlur(prior, (0, 0), 1.0), truth


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("radius", "x"), [(12.0, 213.0), (8.6, 212.0)])
def test_it_adds_a_lost_beak_tip_but_not_the_ripple_of_its_colour_with_a_wide_click_near_the_edge(
    seed, radius, x
):
    # the click's brush reaches over the cutout's edge (8 px away): it vouches for what is under
    # it, not for a streak of the beak's grey running off into the water (HEAD added 115-212
    # water px of it, QA 2026-12-05 on a real duck: 374 of 517)
    rgb, prior, truth = beak_scene(seed)
    res = retouch(rgb, prior, [Stroke("keep", radius, ((x, 125.0),))])
    added = (res.alpha >= 128) & (prior < 128)
    tip = (truth > 0) & (prior < 128)
    assert (added & tip).sum() >= 0.3 * tip.sum()
    assert (added & ~tip).sum() <= 0.02 * tip.sum()
    assert metrics.iou(res.alpha, truth) > metrics.iou(prior, truth)

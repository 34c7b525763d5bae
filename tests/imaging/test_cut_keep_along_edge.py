"""A keep stroke drawn along a lost part's edge, partly over the part and partly over the
backdrop behind it, as a reviewer draws it (QA qa45r H3, 2026-12-07: dev 137, 172, 135, 160,
213): the cut brings the part back and raises the backdrop the brush grazed, beyond the brush
too. Drawn in memory: a head whose crown the cutout lost, before a pale pane of the hair's
tone, and a keep stroke along the crown's edge. Measured, not changed (docs/review.md, "A keep
stroke along a lost part's edge", keepedge45)."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch_cut import segment
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 160, 200
CY, CX, R = 80, 100, 24  # the head: centre and radius
WALL, PANE, HAIR = (90, 120, 80), (200, 196, 184), (186, 176, 150)
SKIN, SHIRT = (220, 180, 150), (235, 235, 240)


def crown_scene(seed=0):
    """A person before a green wall with a pale pane (a shop window) behind the head: the
    model held the body and the face (below CY - 4), lost the crown above it, held the pane
    and the wall clear (0.02; 0.06 in a 10 px halo round the head). A keep stroke r 6 follows
    the crown's edge, its centre line 1 px outside it: half its brush is hair, half the pane.
    Returns the photo, the model's alpha (float), the truth (bool) and the stroke."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    r = np.hypot(yy - CY, xx - CX)
    rgb = np.zeros((H, W, 3), np.float32) + np.float32(WALL)
    rgb[(yy >= CY - R - 22) & (yy < CY) & (np.abs(xx - CX) <= 30)] = PANE
    head = r <= R
    body = (yy >= CY + R - 6) & (np.abs(xx - CX) <= 50)
    face = head & (yy >= CY - 4)
    rgb[head & ~face] = HAIR
    rgb[face] = SKIN
    rgb[body] = SHIRT
    rgb = np.clip(cv2.GaussianBlur(rgb, (0, 0), 1.2) + rng.normal(0, 3, rgb.shape), 0, 255)
    prior = np.where(face | body, 1.0, 0.02).astype(np.float32)
    prior[(r <= R + 10) & (prior < 0.06)] = 0.06
    prior = cv2.GaussianBlur(prior, (0, 0), 1.0)
    ang = np.linspace(np.pi + 0.15, 2 * np.pi - 0.15, 13)
    pts = tuple((float(CX + (R + 1) * np.cos(a)), float(CY + (R + 1) * np.sin(a))) for a in ang)
    return rgb.astype(np.uint8), prior, head | body, Stroke("keep", 6.0, pts)


def _iou(m, truth):
    return (m & truth).sum() / (m | truth).sum()


@pytest.mark.parametrize("seed", [0, 1])
def test_it_brings_back_the_crown_under_a_stroke_along_its_edge(seed):
    rgb, prior, truth, st = crown_scene(seed)
    got = segment(rgb, prior, [st])
    brush = rasterise([st], truth.shape) > 0
    crown = truth & ~(prior >= 0.5)
    assert (got & crown & brush).sum() > 0.9 * (crown & brush).sum()


@pytest.mark.xfail(strict=True, reason="open (qa45r H3): the stroke's core covers the pane as "
                   "well as the hair and the cut fills the pane beyond the brush (about 1 260 "
                   "px here; dev 137: 274 px, IoU .9005 -> .8911); a side-of-the-stroke rule "
                   "helped QA's cases and lowered others (docs/review.md, keepedge45)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_never_lowers_iou_with_a_keep_stroke_along_a_lost_crown(seed):
    rgb, prior, truth, st = crown_scene(seed)
    got = segment(rgb, prior, [st])
    assert _iou(got, truth) >= _iou(prior >= 0.5, truth)

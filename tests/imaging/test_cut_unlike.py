"""A remove click on the background the model held takes the product beyond its brush: on dev
photo 155 a click on graffiti beside a skater took the pale wall between them and her shirt
beyond it (an open problem, a strict xfail: docs/review.md, A remove click on the background
takes the product beyond its brush). Scenes are built in memory."""

import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke

H, W = 240, 360
WALL = (205, 222, 235)
BLUE = (70, 130, 215)
PINK = (225, 90, 150)
SHIRT = (196, 196, 200)
SKIN = (200, 150, 120)
CLICK = (200, 110)


def graffiti_scene(seed):
    """A skater (skin column, grey-white shirt) left of a pink-rimmed blue graffiti panel on a
    pale wall. The model held the panel (0.75) and the wall between them (0.8), and the shirt
    only faintly (0.7), the rest of the skater not at all, as on dev photo 155."""
    rng = np.random.default_rng(seed)
    rgb = np.zeros((H, W, 3), np.float32)
    rgb[:] = WALL
    panel = np.zeros((H, W), np.uint8)
    cv2.rectangle(panel, (170, 40), (350, 200), 255, -1)
    rgb[panel > 0] = PINK
    inner = np.zeros((H, W), np.uint8)
    cv2.rectangle(inner, (180, 50), (340, 190), 255, -1)
    rgb[inner > 0] = BLUE
    body = np.zeros((H, W), np.uint8)
    cv2.rectangle(body, (60, 20), (110, H - 1), 255, -1)
    shirt = np.zeros((H, W), np.uint8)
    cv2.rectangle(shirt, (50, 70), (125, 140), 255, -1)
    rgb[body > 0] = SKIN
    rgb[shirt > 0] = SHIRT
    obj = (body > 0) | (shirt > 0)
    gap = np.zeros((H, W), np.uint8)
    cv2.rectangle(gap, (125, 60), (170, 160), 255, -1)
    rgb = cv2.GaussianBlur(rgb + rng.normal(0, 3, rgb.shape), (0, 0), 2.0)
    prior = np.where(panel > 0, 0.75, 0.02)
    prior = np.where((gap > 0) & ~obj, 0.8, prior)
    prior = np.where(obj, 0.1, prior)
    prior = np.where(shirt > 0, 0.7, prior).astype(np.float32)
    prior = (cv2.GaussianBlur(prior, (0, 0), 1.5) * 255).astype(np.uint8)
    truth = np.where(obj, 255, 0).astype(np.uint8)
    return np.clip(rgb, 0, 255).astype(np.uint8), prior, truth, shirt > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_it_clicks_deep_inside_the_held_panel(seed):
    # the scene's premise: the click lies on the background, more than its brush inside the
    # cutout (no edge click), and the shirt it must spare lies well beyond the brush
    rgb, prior, truth, shirt = graffiti_scene(seed)
    held = prior >= 128
    inside = cv2.distanceTransform(held.astype(np.uint8), cv2.DIST_L2, 5)
    assert truth[CLICK[1], CLICK[0]] == 0 and inside[CLICK[1], CLICK[0]] > 25
    yy, xx = np.nonzero(shirt & held)
    assert np.hypot(xx - CLICK[0], yy - CLICK[1]).min() > 25 + 40


@pytest.mark.xfail(
    strict=True,
    reason="open: sparing thick pieces beyond the brush of colours the brush does not cover "
    "kept the shirt but cost the click protocol NoC@85/90 where the wrong region has several "
    "colours; sparing only the unlike pixels the model held less firmly than the clicked spot "
    "kept it too, missed dev 155 and lowered 336's IoU@20 (docs/review.md, A remove click on "
    "the background takes the product beyond its brush, and 2026-12-06 wide35)",
)
@pytest.mark.parametrize("radius", [12, 25])
@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_the_panel_but_not_the_shirt_beyond_the_brush(seed, radius):
    # the click takes the panel, the wall and the whole shirt (IoU .11 -> 0): the prior is
    # discounted over an object-sized radius round it and the wall's samples make the shirt's
    # pale grey background; the guard tried (_unlike_spared) kept all of the shirt (IoU -> .20)
    rgb, prior, truth, shirt = graffiti_scene(seed)
    got = retouch(rgb, prior, [Stroke("remove", radius, (CLICK,))]).alpha
    held = shirt & (prior >= 128)
    assert ((got < 128) & held).sum() < 0.05 * held.sum()
    assert metrics.iou(got, truth) > metrics.iou(prior, truth) + 0.05


@pytest.mark.parametrize("radius", [12, 25])
@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_none_of_the_shirt_with_a_remove_stroke_painted_across_the_panel(seed, radius):
    # a painted stroke's reach is capped by its brush, so unlike a click on the panel it stops
    # at the wall; any rule that widens a painted stroke's reach (its samples decided as
    # clicks) must keep it there: the shirt's colours are not under the brush
    rgb, prior, truth, shirt = graffiti_scene(seed)
    stroke = Stroke("remove", radius, ((200.0, 110.0), (320.0, 110.0)))
    got = retouch(rgb, prior, [stroke]).alpha
    held = shirt & (prior >= 128)
    assert ((got < 128) & held).sum() == 0
    assert metrics.iou(got, truth) > metrics.iou(prior, truth)

"""A remove click deep in a wrong region spills across a real edge into the object beside it:
near the click the prior is discounted to a tenth, and a short arm whose colour is nearer the
road's than the shirt's goes with the road the model filled (an open problem, a strict xfail:
docs/review.md, Deep clicks that spill). Scenes are built in memory."""

import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics
from cutouts.imaging.clicks import click_stroke, next_click
from cutouts.imaging.retouch import retouch

H, W = 240, 320
ROAD = (118, 120, 122)
SHIRT = (232, 232, 240)
# a few Lab units from the road: a real edge, one histogram bin over
ARM = (135, 128, 122)


def arm_scene(seed):
    """A pale torso on grey road and a short, road-grey arm leaving its side; the model filled
    the triangle of road between them (prior 0.97 over torso, arm and gap), as on dev photo
    340, whose tenth click (remove, 6 px deep) took 1 593 px of the rider's arm."""
    rng = np.random.default_rng(seed)
    rgb = np.zeros((H, W, 3), np.float32)
    rgb[:] = ROAD
    torso = np.zeros((H, W), np.uint8)
    cv2.rectangle(torso, (40, 30), (150, H - 1), 255, -1)
    arm = np.zeros((H, W), np.uint8)
    cv2.line(arm, (150, 140), (205, 215), 255, 14)
    rgb[torso > 0] = SHIRT
    rgb[arm > 0] = ARM
    obj = (torso > 0) | (arm > 0)
    gap = np.zeros((H, W), np.uint8)
    cv2.fillPoly(gap, [np.array([[150, 70], [150, 200], [185, 200]])], 255)
    gap_m = (gap > 0) & ~obj
    rgb = cv2.GaussianBlur(rgb + rng.normal(0, 3, rgb.shape), (0, 0), 1.0)
    prior = np.where(obj | gap_m, 0.97, 0.02).astype(np.float32)
    prior = (cv2.GaussianBlur(prior, (0, 0), 1.2) * 255).astype(np.uint8)
    truth = np.where(obj, 255, 0).astype(np.uint8)
    return np.clip(rgb, 0, 255).astype(np.uint8), prior, truth, arm > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_it_clicks_the_filled_road_deep_inside_it(seed):
    # the scene's premise: the protocol's click is a remove click deep in the filled road,
    # not an edge click (more than 5 px from the kept object)
    rgb, prior, truth, _ = arm_scene(seed)
    (x, y), positive = next_click(prior >= 128, truth)
    assert not positive
    road = ~(truth > 128)
    inside = cv2.distanceTransform(((prior >= 128) & road).astype(np.uint8), cv2.DIST_L2, 5)
    assert inside[y, x] > 5


@pytest.mark.xfail(
    strict=True,
    reason="open: a spill guard (the edge ladder beyond twice the click's depth) kept two "
    "thirds of the arm but cost the click protocol NoC@90 and IoU@20 (docs/review.md, Deep "
    "clicks that spill)",
)
@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_the_filled_road_but_not_the_arm_beside_it(seed):
    # the arm's grey is one Lab bin from the road's, so with the prior discounted round the
    # click the colour model calls it road and the faint edge does not hold it: 1 174 of its
    # 1 513 held px go (seed 0: IoU .9406 -> .9321); the spill guard tried left 355
    rgb, prior, truth, arm = arm_scene(seed)
    (x, y), positive = next_click(prior >= 128, truth)
    got = retouch(rgb, prior, [click_stroke((x, y), positive)]).alpha
    held_arm = arm & (prior >= 128)
    assert ((got < 128) & held_arm).sum() < 0.05 * held_arm.sum()
    assert metrics.iou(got, truth) > metrics.iou(prior, truth)

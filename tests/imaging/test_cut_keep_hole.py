import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics
from cutouts.imaging.clicks import click_stroke
from cutouts.imaging.retouch import retouch

H, W = 300, 480
ROAD = (120, 128, 150)


def bike_wheel_scene(seed=0, hole_colour=None):
    """An orange frame and a wheel (a dark tyre ring, a hub and a stay) in front of a wall, a
    stretch of road behind the wheel and grass. The model
    held the wheel's gap faint (alpha 100) and missed the tyre's lower arc, motion-blurred
    towards the road's colour. With ``hole_colour`` the gap is product of that colour."""
    rng = np.random.default_rng(seed)
    rgb = np.zeros((H, W, 3), np.float32)
    rgb[:] = (200, 180, 60)
    rgb[150:235, 40:260] = ROAD
    rgb[235:] = (150, 170, 70)
    body = np.zeros((H, W), np.uint8)
    cv2.rectangle(body, (120, 60), (360, 120), 255, -1)
    cx, cy = 150, 190
    tyre = np.zeros((H, W), np.uint8)
    cv2.circle(tyre, (cx, cy), 70, 255, -1)
    cv2.circle(tyre, (cx, cy), 58, 0, -1)
    disc = np.zeros((H, W), np.uint8)
    cv2.circle(disc, (cx, cy), 58, 255, -1)
    hub = np.zeros((H, W), np.uint8)
    cv2.circle(hub, (cx, cy), 9, 255, -1)
    cv2.line(hub, (cx, cy), (cx + 60, 120), 255, 8)
    gap = (disc > 0) & (hub == 0)
    low = np.zeros((H, W), bool)
    low[235:] = True
    arc = (tyre > 0) & low
    rgb[body > 0] = (210, 70, 40)
    rgb[tyre > 0] = (40, 40, 44)
    rgb[arc] = (100, 105, 120)
    rgb[hub > 0] = (210, 70, 40)
    if hole_colour is not None:
        rgb[gap] = hole_colour
    rgb = np.clip(rgb + rng.normal(0, 5, rgb.shape), 0, 255).astype(np.uint8)
    rgb = cv2.GaussianBlur(rgb, (5, 5), 0)
    truth = (body > 0) | (tyre > 0) | (hub > 0)
    if hole_colour is not None:
        truth |= gap
    prior = np.where(truth, 255, 0).astype(np.uint8)
    prior[gap | arc] = 100
    prior = cv2.GaussianBlur(prior, (5, 5), 0)
    return rgb, prior, truth.astype(np.uint8) * 255, gap, arc


@pytest.mark.xfail(
    strict=True,
    reason="open: sparing a gap the cutout closes round, of the "
    "backdrop's colour, cost the click protocol (docs/review.md, Keep clicks: "
    "the backdrop seen through a wheel)",
)
@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_the_backdrop_seen_through_a_wheel_clear_of_a_keep_click_on_its_tyre(seed):
    # a keep click on the missed arc of the tyre filled the gap the model held faint (83 % of
    # it; dev photo 214: IoU .778 -> .712): the prior is discounted round the click, whose
    # core is the blurred arc's road-like colour. The gap the tyre closes round shows the road
    # beside the wheel: it should stay clear
    rgb, prior, truth, gap, arc = bike_wheel_scene(seed)
    got = retouch(rgb, prior, [click_stroke((150, 256), True, 5.0)]).alpha
    assert (got[arc] >= 128).mean() > 0.9  # the tyre is added
    assert (got[gap] >= 128).mean() < 0.1  # the gap is not
    assert metrics.iou(got, truth) > metrics.iou(prior, truth) + 0.04


@pytest.mark.parametrize("seed", [0, 1])
def test_it_fills_a_product_coloured_hole_a_keep_click_lands_in(seed):
    # a hole of the product's own colour is product the model missed: a keep click inside it
    # (or on the tyre round it) fills it as before
    rgb, prior, truth, gap, arc = bike_wheel_scene(seed, hole_colour=(40, 40, 44))
    for xy in ((150, 215), (150, 256)):
        got = retouch(rgb, prior, [click_stroke(xy, True, 5.0)]).alpha
        assert (got[gap] >= 128).mean() > 0.95
        assert metrics.iou(got, truth) > metrics.iou(prior, truth) + 0.25

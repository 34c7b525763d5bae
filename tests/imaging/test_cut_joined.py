"""A second subject the cutout keeps joined to the product (touching it, or through a thin
bridge): one remove click deep in it should take it whole and leave the product. A subject of
one colour goes with one click; one of several colours (a banner of stripes, as dev photo 055's
behind the car) loses only the stripe the click lands on (an open problem, a strict xfail:
docs/review.md, A second subject joined to the product). Scenes are built in memory."""

import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics
from cutouts.imaging.clicks import click_stroke, next_click
from cutouts.imaging.retouch import retouch

H, W = 240, 360
BACKDROP = (120, 124, 118)
DISK = (200, 60, 50)
BLUE = (60, 90, 200)
# a banner's stripes, none of them the product's red
STRIPES = (BLUE, (235, 235, 235), (30, 30, 40), BLUE)


def joined_scene(seed, striped, bridge=None):
    """A red disk (the product) on a grey backdrop and a second round blob beside it, touching
    it (or, with ``bridge``, 30 px off and joined by a bar that many px wide), of one colour or
    of 18 px stripes; the model held both at 0.97. Returns the photo, the prior, the truth and
    the blob's mask."""
    rng = np.random.default_rng(seed)
    rgb = np.zeros((H, W, 3), np.float32)
    rgb[:] = BACKDROP
    disk = np.zeros((H, W), np.uint8)
    cv2.circle(disk, (110, 120), 70, 255, -1)
    blob = np.zeros((H, W), np.uint8)
    cx = 229 if bridge is None else 265
    cv2.circle(blob, (cx, 120), 55, 255, -1)
    if bridge is not None:
        cv2.line(blob, (170, 120), (cx, 120), 255, bridge)
    second = (blob > 0) & (disk == 0)
    rgb[disk > 0] = DISK
    ys, xs = np.nonzero(second)
    if striped:
        rgb[ys, xs] = np.array(STRIPES, np.float32)[((xs - xs.min()) // 18) % len(STRIPES)]
    else:
        rgb[ys, xs] = BLUE
    rgb = cv2.GaussianBlur(rgb + rng.normal(0, 3, rgb.shape), (0, 0), 1.0)
    prior = np.where((disk > 0) | second, 0.97, 0.02).astype(np.float32)
    prior = (cv2.GaussianBlur(prior, (0, 0), 1.2) * 255).astype(np.uint8)
    truth = np.where(disk > 0, 255, 0).astype(np.uint8)
    return np.clip(rgb, 0, 255).astype(np.uint8), prior, truth, second


def _one_click(rgb, prior, truth):
    (x, y), positive = next_click(prior >= 128, truth)
    return retouch(rgb, prior, [click_stroke((x, y), positive)]).alpha


@pytest.mark.parametrize("striped", [False, True])
@pytest.mark.parametrize("bridge", [None, 12])
def test_it_clicks_deep_inside_the_joined_subject(striped, bridge):
    # the scenes' premise: the protocol's click is a remove click in the second subject, far
    # inside the cutout (no edge click) and far from the product
    rgb, prior, truth, second = joined_scene(0, striped, bridge)
    (x, y), positive = next_click(prior >= 128, truth)
    assert not positive and second[y, x]
    inside = cv2.distanceTransform((prior >= 128).astype(np.uint8), cv2.DIST_L2, 5)
    assert inside[y, x] > 5
    product = cv2.distanceTransform((truth == 0).astype(np.uint8), cv2.DIST_L2, 5)
    assert product[y, x] > 30


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("bridge", [None, 12])
def test_it_takes_a_joined_subject_of_one_colour_with_one_remove_click(seed, bridge):
    rgb, prior, truth, second = joined_scene(seed, False, bridge)
    got = _one_click(rgb, prior, truth)
    assert (got[second] >= 128).mean() < 0.1
    product = truth > 128
    assert (got[product] >= 128).mean() > 0.99
    assert metrics.iou(got, truth) > 0.95


@pytest.mark.xfail(
    strict=True,
    reason="open: one remove click takes the stripe it lands on, 37-39 % of the joined "
    "subject; background samples over the click's whole depth took it but raised the click "
    "protocol's clicks lowering IoU 39 -> 48 (docs/review.md, A second subject joined to the "
    "product)",
)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("bridge", [None, 12])
def test_it_takes_a_joined_subject_of_several_colours_with_one_remove_click(seed, bridge):
    rgb, prior, truth, second = joined_scene(seed, True, bridge)
    got = _one_click(rgb, prior, truth)
    assert (got[second] >= 128).mean() < 0.1
    product = truth > 128
    assert (got[product] >= 128).mean() > 0.99

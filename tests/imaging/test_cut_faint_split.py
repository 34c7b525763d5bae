"""A remove click on a faint ghost takes the blob it lands on, not another faint object of other
colours the cutout's faint alpha joins to it (dev photo banana3: the roses' ghost and the
banana, one blob at alpha 88 / 87; docs/review.md, § The retouch engine). Scenes are built in
memory."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.clicks import click_stroke
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke

from .scenes import RETOUCH_H, RETOUCH_W, YELLOW

H, W = RETOUCH_H, RETOUCH_W

GREY = (120, 128, 118)


def two_ghosts_scene(seed=0):
    """On a grey, noisy background: a small solid object, a patch of roses (red and pink
    blotches with dark shadows) the model holds at 88 and a yellow banana it holds at 87,
    joined by a 10 px faint bridge (the roses' colours) into one blob."""
    rng = np.random.default_rng(seed)
    rgb = np.full((H, W, 3), GREY, np.float32)
    body = np.zeros((H, W), np.uint8)
    cv2.circle(body, (60, 300), 30, 255, -1)
    rgb[body > 0] = (40, 60, 200)
    roses = np.zeros((H, W), np.uint8)
    cv2.ellipse(roses, (150, 110), (90, 60), 0, 0, 360, 255, -1)
    cv2.rectangle(roses, (230, 105), (300, 114), 255, -1)  # the bridge
    banana = np.zeros((H, W), np.uint8)
    cv2.ellipse(banana, (370, 140), (80, 40), 20, 0, 360, 255, -1)
    banana[roses > 0] = 0
    patch = np.zeros((H, W, 3), np.float32)
    patch[:] = (190, 30, 40)
    for _ in range(90):
        c = ((200, 90, 120), (120, 20, 30), (150, 40, 70))[rng.integers(3)]
        cv2.circle(patch, (int(rng.integers(40, 310)), int(rng.integers(40, 180))),
                   int(rng.integers(4, 12)), c, -1)
    rgb[roses > 0] = patch[roses > 0]
    rgb[banana > 0] = YELLOW
    rgb = np.clip(rgb + rng.normal(0, 5, rgb.shape), 0, 255).astype(np.uint8)
    rgb = cv2.GaussianBlur(rgb, (3, 3), 0)
    prior = cv2.GaussianBlur(body, (5, 5), 0)
    prior = np.maximum(prior, (roses > 0).astype(np.uint8) * 88)
    prior = np.maximum(prior, (banana > 0).astype(np.uint8) * 87)
    return rgb, prior, roses > 0, banana > 0


def _inside(mask, px=3):
    return cv2.distanceTransform(mask.view(np.uint8), cv2.DIST_L2, 5) > px


@pytest.mark.parametrize("work_max", [480, 300])  # full size, and blobs on a reduced grid
def test_it_takes_the_clicked_ghost_and_leaves_a_differently_coloured_one_joined_to_it(work_max):
    rgb, prior, roses, banana = two_ghosts_scene()
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    blob = cv2.morphologyEx((roses | banana).view(np.uint8), cv2.MORPH_OPEN, se)
    assert cv2.connectedComponents(blob, connectivity=8)[0] == 2  # one ghost blob, bridged
    res = retouch(rgb, prior, [click_stroke((130, 100), positive=False)], work_max=work_max)
    assert (res.alpha[_inside(roses)] == 0).mean() > 0.97
    # the old code took the banana with the roses (0 % left)
    assert (res.alpha[banana] == prior[banana]).mean() > 0.97
    solid = prior >= 128
    assert np.array_equal(res.alpha[solid], prior[solid])


def test_it_takes_the_banana_and_leaves_the_roses_when_the_click_is_on_the_banana():
    rgb, prior, roses, banana = two_ghosts_scene()
    res = retouch(rgb, prior, [click_stroke((380, 145), positive=False)])
    assert (res.alpha[_inside(banana)] == 0).mean() > 0.97
    assert (res.alpha[roses] == prior[roses]).mean() > 0.9


def test_it_still_takes_the_whole_blob_with_a_stroke_across_both_objects():
    rgb, prior, roses, banana = two_ghosts_scene()
    res = retouch(rgb, prior, [Stroke("remove", 6.0, ((130.0, 100.0), (380.0, 145.0)))])
    assert (res.alpha[_inside(roses | banana)] == 0).mean() > 0.97


def test_it_never_gives_back_with_a_later_remove_click_what_an_earlier_one_took():
    # a wrong solid patch glued to the banana's end: taken by the first click with its soft
    # rim, which reaches into the banana's faint alpha. The second click splits the blob and
    # spares the banana; sparing its outline there gave the first click's rim back (dev 036)
    rgb, prior, roses, banana = two_ghosts_scene()
    patch = np.zeros(prior.shape, np.uint8)
    cv2.rectangle(patch, (430, 150), (470, 200), 255, -1)
    rgb[patch > 0] = (150, 150, 150)
    prior = np.maximum(prior, cv2.GaussianBlur(patch, (5, 5), 0))
    first = retouch(rgb, prior, [click_stroke((455, 185), positive=False)]).alpha
    assert (first[patch > 0] < 128).mean() > 0.9
    assert ((first < prior) & banana).sum() > 20  # the rim it took reaches the banana
    both = retouch(rgb, prior, [click_stroke((455, 185), positive=False),
                                click_stroke((130, 100), positive=False)]).alpha
    assert (both[_inside(roses)] == 0).mean() > 0.97
    assert (both[banana] == prior[banana]).mean() > 0.9
    assert not (both > first).any()


def test_it_never_takes_more_of_the_other_object_after_a_keep_stroke():
    # a keep stroke across the clicked spot and the bridge changes the faint blob the click
    # split; what the click leaves is its own decision, so nothing of the banana goes
    rgb, prior, roses, banana = two_ghosts_scene()
    click = click_stroke((130, 100), positive=False)
    before = retouch(rgb, prior, [click]).alpha
    keep = Stroke("keep", 8.0, ((110.0, 100.0), (300.0, 110.0)))
    after = retouch(rgb, prior, [click, keep]).alpha
    assert not (after < before).any()

"""A remove click on a half-transparent ghost (a piece of background the model holds at
64-250, which the 128 line cuts into patches above it and faint pockets below) takes most of
the ghost, not a pinhole, and never the solid object beside it; and what a click took stays
taken after later clicks (dev photo banana3, docs/review.md § The retouch engine). Scenes
are built in memory."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.clicks import click_stroke, next_click
from cutouts.imaging.retouch import retouch

from .test_retouch import YELLOW, H, W, busy_background


def half_ghost_scene(seed=0):
    """On roses-like clutter: a solid yellow object the model holds at 255 and, beside it, a
    patch of the clutter it holds at 64-250 (mean about 132): soft patches above 128 and
    faint pockets below, in blotches a few px to 20 px across."""
    rng = np.random.default_rng(seed)
    rgb = busy_background(seed, yellowish=False)
    obj = np.zeros((H, W), np.uint8)
    cv2.ellipse(obj, (120, 240), (80, 45), 0, 0, 360, 255, -1)
    rgb[obj > 0] = YELLOW
    rgb = cv2.GaussianBlur(rgb, (3, 3), 0)
    region = np.zeros((H, W), np.uint8)
    cv2.ellipse(region, (320, 130), (110, 70), 10, 0, 360, 255, -1)
    field = cv2.GaussianBlur(rng.normal(0, 1, (H, W)).astype(np.float32), (0, 0), 5)
    field /= field[region > 0].std()
    level = np.clip(140 + 45 * field, 64, 250)
    edge = cv2.GaussianBlur(region.astype(np.float32) / 255.0, (0, 0), 2)
    prior = np.maximum(cv2.GaussianBlur(obj, (5, 5), 0), (level * edge).astype(np.uint8))
    return rgb, prior, obj > 0, (region > 0) & (prior >= 64)


def _patch_click(prior, ghost):
    """A point on a soft patch of the ghost 3 px from a faint pocket, near its middle: an
    edge click for the old code."""
    patch = (prior >= 128) & ghost
    d = cv2.distanceTransform(patch.view(np.uint8), cv2.DIST_L2, 5)
    inner = cv2.distanceTransform(ghost.view(np.uint8), cv2.DIST_L2, 5) > 25
    ys, xs = np.nonzero((np.abs(d - 3) < 0.5) & inner)
    i = int(np.argmin((ys - 130) ** 2 + (xs - 320) ** 2))
    return int(xs[i]), int(ys[i])


@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_most_of_a_half_transparent_ghost_with_one_remove_click(seed):
    rgb, prior, obj, ghost = half_ghost_scene(seed)
    assert 0.3 < (prior[ghost] >= 128).mean() < 0.8  # patches and pockets
    res = retouch(rgb, prior, [click_stroke(_patch_click(prior, ghost), positive=False)])
    # the old code flipped a 3 px disk (an edge click: the pocket read as the edge)
    assert (res.alpha[ghost] == 0).mean() > 0.6
    assert (res.alpha[ghost] < 128).mean() > 0.9
    assert np.array_equal(res.alpha[obj], prior[obj])


@pytest.mark.parametrize("seed", [0, 1])
def test_it_never_gives_back_what_a_remove_click_took_on_a_ghost_after_later_clicks(seed):
    rgb, prior, obj, ghost = half_ghost_scene(seed)
    first = click_stroke(_patch_click(prior, ghost), positive=False)
    before = retouch(rgb, prior, [first]).alpha
    ys, xs = np.nonzero(ghost & (before >= 128))
    later = [first]
    for y, x in list(zip(ys, xs, strict=True))[:: max(1, len(ys) // 3)][:3]:
        later.append(click_stroke((int(x), int(y)), positive=False))
        after = retouch(rgb, prior, later).alpha
        assert not (after > before).any()
        before = after
    # and the simulated user's clicks (the object is the truth) never step against their kind
    truth = np.where(obj, 255, 0).astype(np.uint8)
    strokes, before, pred = [], prior, prior >= 128
    for _ in range(6):
        click = next_click(pred, truth)
        if click is None:
            break
        strokes.append(click_stroke(*click))
        after = retouch(rgb, prior, strokes).alpha
        wrong = (after > before) if strokes[-1].kind == "remove" else (after < before)
        assert not wrong.any()
        before, pred = after, after >= 128

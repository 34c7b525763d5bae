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

from .scenes import RETOUCH_H, RETOUCH_W, YELLOW, busy_background

H, W = RETOUCH_H, RETOUCH_W


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


def wheel_body_scene(seed=0, level=160):
    """On a plain backdrop: a dark tyre ring, spokes and a hub (a wheel) the model holds at
    ``level`` over its whole disc, the gap between them included, joined to a solid orange
    body it holds at 255 that is smaller than the wheel: one piece with a median below 192."""
    rng = np.random.default_rng(seed)
    rgb = np.full((H, W, 3), (205, 205, 200), np.uint8)
    cx, cy, r = 300, 220, 100
    body = np.zeros((H, W), np.uint8)
    cv2.rectangle(body, (120, 40), (300, 128), 255, -1)
    ring = np.zeros((H, W), np.uint8)
    cv2.circle(ring, (cx, cy), r, 255, -1)
    cv2.circle(ring, (cx, cy), r - 18, 0, -1)
    spokes = np.zeros((H, W), np.uint8)
    for k in range(8):
        t = k * np.pi / 4
        end = (int(cx + (r - 10) * np.cos(t)), int(cy + (r - 10) * np.sin(t)))
        cv2.line(spokes, (cx, cy), end, 255, 3)
    cv2.circle(spokes, (cx, cy), 14, 255, -1)
    rgb[body > 0] = (200, 90, 30)
    rgb[ring > 0] = (35, 35, 38)
    rgb[spokes > 0] = (140, 140, 145)
    rgb = np.clip(rgb + rng.normal(0, 4, rgb.shape), 0, 255).astype(np.uint8)
    disc = np.zeros((H, W), np.uint8)
    cv2.circle(disc, (cx, cy), r, 255, -1)
    prior = cv2.GaussianBlur(np.maximum(body, (disc > 0).astype(np.uint8) * level), (5, 5), 0)
    gap = (disc > 0) & (ring == 0) & (spokes == 0)
    click = (int(round(cx + 55 * np.cos(np.pi / 8))), int(round(cy + 55 * np.sin(np.pi / 8))))
    return rgb, prior, body > 0, ring > 0, gap, click


@pytest.mark.parametrize(("seed", "level"), [(0, 150), (1, 170)])
def test_it_keeps_a_solid_body_joined_to_a_half_transparent_wheel_a_remove_click_takes(seed,
                                                                                        level):
    rgb, prior, body, ring, gap, click = wheel_body_scene(seed, level)
    held = prior >= 128
    n, lbl = cv2.connectedComponents(held.view(np.uint8), connectivity=8)
    piece = lbl == lbl[click[1], click[0]]
    assert piece[held & body].all() and np.median(prior[piece]) < 192  # one half-transparent piece
    got = retouch(rgb, prior, [click_stroke(click, positive=False)]).alpha
    assert (got[gap] < 128).mean() > 0.95  # the click in the gap takes the gap
    # the ghost rule took the body (0 % kept) and, without its colour samples, the tyre
    assert (got[body] >= 128).mean() > 0.95
    assert (got[ring] >= 128).mean() > 0.85

"""A deep remove click takes only what it is on: not a blurred product whose hub it lands on,
nor, beyond its brush, what an earlier keep stroke vouches for more strongly than it does."""

import dataclasses

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.retouch_cut import DEFAULT, _kept_spared
from cutouts.imaging.strokes import Stroke

from .scenes import RETOUCH_H, RETOUCH_W

H, W = RETOUCH_H, RETOUCH_W


def wheel_scene(seed=0):
    """A motion-blurred motorbike's front wheel the model filled: a disc of the blotched dark
    backdrop (trees seen through the spinning wheel) held solid with the wheel's tyre, spokes
    and hub and the bike's body beside it, whose paint is mostly the backdrop's own dark
    colours. Returns the photo, the prior, the product and the filled disc's backdrop."""
    rng = np.random.default_rng(seed)
    palette = [(60, 80, 60), (90, 100, 95), (50, 65, 50), (110, 120, 115)]
    rgb = np.full((H, W, 3), palette[0], np.uint8)
    for _ in range(700):
        c = palette[int(rng.integers(len(palette)))]
        cv2.circle(rgb, (int(rng.integers(W)), int(rng.integers(H))), int(rng.integers(4, 12)),
                   c, -1)
    body = np.zeros((H, W), np.uint8)
    cv2.rectangle(body, (250, 60), (330, 330), 255, -1)
    cv2.rectangle(body, (200, 200), (330, 250), 255, -1)
    paint = np.full((H, W, 3), (55, 75, 55), np.uint8)
    for _ in range(400):
        c = palette[int(rng.integers(len(palette)))] if rng.random() < 0.8 else (70, 140, 60)
        cv2.circle(paint, (int(rng.integers(W)), int(rng.integers(H))), int(rng.integers(4, 12)),
                   c, -1)
    cy, cx, r = 220, 140, 95
    wheel = np.zeros((H, W), np.uint8)
    cv2.circle(wheel, (cx, cy), r, 255, 12)  # tyre
    cv2.circle(wheel, (cx, cy), 18, 255, -1)  # hub
    for a in np.linspace(0, 2 * np.pi, 10, endpoint=False):
        cv2.line(wheel, (cx, cy), (int(cx + r * np.cos(a)), int(cy + r * np.sin(a))), 255, 3)
    product = (body > 0) | (wheel > 0)
    rgb[body > 0] = paint[body > 0]
    rgb[wheel > 0] = (40, 45, 45)
    rgb = cv2.GaussianBlur(rgb, (0, 0), 2.5)
    rgb = np.clip(rgb + rng.normal(0, 2, rgb.shape), 0, 255).astype(np.uint8)
    disc = np.zeros((H, W), np.uint8)
    cv2.circle(disc, (cx, cy), r + 6, 255, -1)
    held = (body > 0) | (disc > 0)
    prior = cv2.GaussianBlur(held.astype(np.uint8) * 255, (5, 5), 0)
    return rgb, prior, product, (disc > 0) & ~product, (cx, cy)


@pytest.mark.xfail(strict=True, reason="open: the second cut (_wrong_alike) of a deep remove "
                   "click on a blurred hub takes the bike whose colours are the filled disc's; "
                   "bounding it by the smooth part's thickness (closed, >= 0.7 x the click's "
                   "depth) fixed this and dev 311 but lost mound_scene's deep click (its "
                   "blotched part is as thin: .47 of its depth vs .41 here, .42 on 311); no "
                   "colour, prior or reach test parted them (docs/review.md, 2026-12-07, deep44); "
                   "the 2026-12-08 gate (hub48) needs the take to be held less than hard, and "
                   "this scene's prior holds the body solid")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_a_blurred_product_whole_when_a_deep_remove_click_lands_on_its_hub(seed):
    # dev photo 311 (qa44r H3): a remove click meant for the filled wheel disc landed 13 px
    # off, on the blurred hub; its depth is the disc's radius and its smooth part ran through
    # the blur over the disc, whose colours (_wrong_alike) are the bike's, so the second cut
    # took the bike and rider (65 976 px, up to 383 px away). The smooth part is riddled with
    # the hub and spokes, far thinner than the click is deep: not one smooth wrong region
    rgb, prior, product, _, (cx, cy) = wheel_scene(seed)
    body = product.copy()
    body[:, :200] = False
    got = retouch(rgb, prior, [Stroke("remove", 14.0, ((float(cx), float(cy)),))]).alpha >= 128
    assert got[body].mean() > 0.95  # was 0.20 / 0.41
    assert got[product].mean() > 0.9


@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_a_blurred_product_the_model_held_less_firmly_when_a_deep_click_lands_on_its_hub(
        seed):
    # dev photo 311 (qa44r H3) as the model saw it: the blurred bike beside the filled wheel
    # held a little below sure (240 / 255; on 311 a third of the second cut's take was below
    # .99). The click's smooth part is thin against its depth and the second cut's take is not
    # mostly held hard, so the second cut (_wrong_alike) does not stand (_alike_stands)
    rgb, prior, product, _, (cx, cy) = wheel_scene(seed)
    body = product.copy()
    body[:, :200] = False
    prior = np.where(body, np.minimum(prior, 240), prior).astype(np.uint8)
    click = [Stroke("remove", 14.0, ((float(cx), float(cy)),))]
    got = retouch(rgb, prior, click).alpha >= 128
    assert got[body].mean() > 0.95
    assert got[product].mean() > 0.9
    # without the gate the second cut takes the body (its paint is the disc's colours)
    off = dataclasses.replace(DEFAULT, deep_alike_held=0.0)
    assert (retouch(rgb, prior, click, params=off).alpha >= 128)[body].mean() < 0.5


def ramp_lab():
    """Lab planes (float32) of a smooth pale ramp (rows 60-109) joined along a 30 px stretch to
    a darker cart (rows 10-59, cols 120-189) across a strong edge, on a grey road."""
    lab = np.zeros((120, 200, 3), np.float32)
    lab[:] = (50.0, 0.0, 0.0)
    lab[60:110, 10:150] = (75.0, 5.0, 20.0)
    lab[10:60, 120:190] = (40.0, 30.0, 25.0)
    ramp = np.zeros((120, 200), bool)
    ramp[60:110, 10:150] = True
    cart = np.zeros((120, 200), bool)
    cart[10:60, 120:190] = True
    return lab, ramp, cart


def test_it_spares_beyond_a_remove_click_what_an_earlier_keep_reaches_more_easily():
    # dev photo 336 (qa44r H2): a keep click on a faint cart raised a spot; a remove click in
    # the middle of the ramp the cut held, joined to the cart's held riders, took 2 031 px of
    # them up to 85 px beyond its brush
    lab, ramp, cart = ramp_lab()
    flip = ramp | cart
    yy, xx = np.ogrid[:120, :200]
    core = (yy - 85) ** 2 + (xx - 40) ** 2 <= 1
    keep_core = (yy - 30) ** 2 + (xx - 170) ** 2 <= 1
    spared = _kept_spared(lab, flip, core, keep_core, (85, 40), 12.0, DEFAULT)
    assert spared[cart].all()  # the kept cart stays
    assert not spared[ramp].any()  # the ramp the click is on goes
    # no earlier keep: nothing spared; near its own spot the click always wins
    assert not _kept_spared(lab, flip, core, np.zeros_like(flip), (85, 40), 12.0, DEFAULT).any()
    assert not _kept_spared(lab, flip, core, keep_core, (85, 40), 100.0, DEFAULT).any()


def test_it_spares_nothing_a_remove_click_reaches_as_easily_as_the_keep():
    # a keep core on the ramp's own colour vouches for nothing the click does not: the click
    # reaches the whole ramp across no edge, and the cart across the same edge as the keep
    lab, ramp, cart = ramp_lab()
    flip = ramp | cart
    yy, xx = np.ogrid[:120, :200]
    core = (yy - 85) ** 2 + (xx - 40) ** 2 <= 1
    keep_core = (yy - 100) ** 2 + (xx - 140) ** 2 <= 1
    assert not _kept_spared(lab, flip, core, keep_core, (85, 40), 12.0, DEFAULT).any()

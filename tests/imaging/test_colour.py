"""The colour vote between a model pass and its mirrored pass, on synthetic scenes."""

from __future__ import annotations

import cv2
import numpy as np

from cutouts.imaging import colour
from cutouts.imaging.pipeline import infer
from cutouts.imaging.settings import profile

S = 320
RED, GREEN, GREY = (200, 30, 30), (40, 150, 60), (128, 128, 128)


def _photo(seed: int = 0) -> np.ndarray:
    """A red product (a disc and a red tab on its right) on a green, slightly noisy backdrop,
    with a grey patch far to its left (neither the product's colour nor the backdrop's)."""
    rng = np.random.default_rng(seed)
    rgb = np.zeros((S, S, 3), np.float32)
    rgb[:] = GREEN
    cv2.circle(rgb, (160, 160), 70, RED, -1)
    cv2.rectangle(rgb, (225, 140), (275, 180), RED, -1)
    cv2.rectangle(rgb, (20, 140), (60, 180), GREY, -1)
    rgb += rng.normal(0, 6, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _disc() -> np.ndarray:
    p = np.zeros((S, S), np.float32)
    cv2.circle(p, (160, 160), 70, 1.0, -1)
    return cv2.GaussianBlur(p, (0, 0), 1.5)


def _with(p: np.ndarray, rect: tuple[int, int, int, int], value: float = 0.95) -> np.ndarray:
    out = p.copy()
    x0, y0, x1, y1 = rect
    out[y0:y1, x0:x1] = value
    return out


TAB, GHOST, GREY_PATCH = (225, 140, 275, 180), (80, 20, 240, 60), (20, 140, 60, 180)


def test_it_takes_the_pass_that_sees_a_part_in_the_products_colours():
    p, mirrored = _with(_disc(), TAB), _disc()  # only one pass sees the red tab
    fused = colour.mirrored_vote(p, mirrored, _photo())
    assert fused[150:170, 235:265].min() >= 0.9  # the tab is the product's, not half of it
    np.testing.assert_array_equal(fused[100:220, 100:220], 0.5 * (p + mirrored)[100:220, 100:220])


def test_it_drops_a_ghost_in_the_backdrops_colours_whichever_pass_sees_it():
    photo = _photo()
    for p, mirrored in ((_with(_disc(), GHOST), _disc()), (_disc(), _with(_disc(), GHOST))):
        fused = colour.mirrored_vote(p, mirrored, photo)
        assert fused[25:55, 90:230].max() <= 0.05  # green ghost: the pass that sees none wins


def test_it_keeps_the_mean_where_the_colours_do_not_say():
    # grey is neither the product's red nor the backdrop's green: no vote, today's mean
    p, mirrored = _with(_disc(), GREY_PATCH), _disc()
    fused = colour.mirrored_vote(p, mirrored, _photo())
    np.testing.assert_allclose(fused[145:175, 25:55], 0.5 * 0.95, atol=1e-6)


def test_it_keeps_the_mean_when_the_passes_are_sure_of_too_little_of_the_product():
    # the passes agree on a sliver only: a few sure pixels are no sample of its colours
    p, mirrored = _disc() * 0.8, _with(_disc() * 0.8, TAB)
    p[158:162, 158:162] = mirrored[158:162, 158:162] = 1.0
    fused = colour.mirrored_vote(p, mirrored, _photo())
    np.testing.assert_array_equal(fused, 0.5 * (p + mirrored))


def test_it_changes_nothing_where_the_passes_agree():
    p = _disc()
    np.testing.assert_array_equal(colour.mirrored_vote(p, p.copy(), _photo()), p)


class _Passes:
    """A fake model: the full-frame pass also sees a green ghost, the mirrored pass does not;
    the crop pass sees the disc (its input is the crop, any size squashed to S)."""

    input_size = S

    def __init__(self):
        self.calls = 0

    def predict(self, rgb):
        self.calls += 1
        if self.calls == 1:
            return _with(_disc(), GHOST)
        if self.calls == 2:
            return _disc()[:, ::-1].copy()  # mirrored input: mirrored answer
        return np.zeros((S, S), np.float32)


def test_it_drops_the_ghost_in_the_default_profile_and_not_without_the_vote():
    photo = _photo()
    on, *_ = infer(photo, profile("default", crop_pass=False), _Passes())
    off, *_ = infer(photo, profile("default", crop_pass=False, colour_vote=False), _Passes())
    assert on[25:55, 90:230].max() <= 0.05
    assert off[25:55, 90:230].min() >= 0.45  # the plain mean keeps half the ghost

"""A painted keep/remove stroke whose brush spans a part whole (retouch_cut._spans_whole: a
brush wider than the post or pencil it is painted along) changes nothing beyond its brush but
the part past its ends (_span_limited). Scenes are built in memory."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.retouch_cut import DEFAULT, _extended, _span_limited, _spans_whole
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 200, 300
GREY, PALE, DARK = (120, 124, 118), (225, 225, 228), (40, 60, 150)


def lab_of(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)


def bar_photo(width: int, seed: int = 0) -> np.ndarray:
    """A pale vertical bar ``width`` px wide at x = 150 on a grey ground, a little noise."""
    rng = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.float32)
    img[:] = GREY
    img[:, 150 - width // 2: 150 - width // 2 + width] = PALE
    img = cv2.GaussianBlur(img + rng.normal(0, 3, img.shape), (0, 0), 1.0)
    return np.clip(img, 0, 255).astype(np.uint8)


DOWN = ((150.0, 30.0), (150.0, 170.0))


@pytest.mark.parametrize("radius", [8.0, 14.0])
def test_it_sees_a_brush_wider_than_the_bar_it_is_painted_along_span_it_whole(radius):
    lab = lab_of(bar_photo(8))
    assert _spans_whole(lab, Stroke("remove", radius, DOWN), DEFAULT)
    assert _spans_whole(lab, Stroke("keep", radius, DOWN), DEFAULT)


@pytest.mark.parametrize("radius", [8.0, 14.0])
def test_it_sees_a_brush_inside_a_wide_region_span_nothing(radius):
    # the painted protocol's brush lies inside the wrong region (0.8 x its depth): the
    # region's colour is under its line and both flanks
    lab = lab_of(bar_photo(60))
    assert not _spans_whole(lab, Stroke("remove", radius, DOWN), DEFAULT)


def test_it_sees_a_brush_grazing_one_edge_span_nothing():
    # one flank over the bar, the other on the ground the line runs on: not a part spanned
    lab = lab_of(bar_photo(60))
    st = Stroke("remove", 10.0, ((124.0, 30.0), (124.0, 170.0)))
    assert not _spans_whole(lab, st, DEFAULT)


def test_it_never_sees_a_click_a_dab_or_a_thin_brush_span_a_part():
    lab = lab_of(bar_photo(4))
    assert not _spans_whole(lab, Stroke("remove", 8.0, ((150.0, 100.0),)), DEFAULT)
    assert not _spans_whole(lab, Stroke("remove", 8.0, ((150.0, 100.0),) * 2), DEFAULT)
    assert not _spans_whole(lab, Stroke("remove", 3.0, DOWN), DEFAULT)


def test_it_runs_a_stroke_on_past_both_ends_along_its_end_segments():
    st = Stroke("keep", 5.0, ((10.0, 10.0), (10.0, 10.0), (30.0, 10.0), (30.0, 40.0)))
    ext = _extended(st, 6.0)
    assert ext.points[0] == pytest.approx((4.0, 10.0))
    assert ext.points[-1] == pytest.approx((30.0, 46.0))
    assert ext.points[1:-1] == st.points


def test_it_keeps_the_bar_past_the_ends_and_drops_what_lies_beside_the_brush():
    # what a stroke along the bar would change: the bar past its lower end and a wide piece
    # running off sideways from its middle
    lab = lab_of(bar_photo(8))
    st = Stroke("remove", 10.0, ((150.0, 30.0), (150.0, 120.0)))
    b = rasterise([st], (H, W)) > 0
    dist = cv2.distanceTransform((~b).astype(np.uint8), cv2.DIST_L2, 5)
    gated = b.copy()
    gated[120:170, 146:154] = True  # the bar past the end
    gated[60:80, 150:290] = True  # beside the brush
    got = _span_limited(lab, gated, b, dist, st, (0, 0), DEFAULT)
    assert got[b].all()
    assert got[120:148, 146:154].all()  # span_reach: 3 radii past the end
    assert not got[60:80, 170:290].any()
    # off, or on a brush inside a wide region, the change stands
    off = _span_limited(lab, gated, b, dist, st, (0, 0), replace(DEFAULT, span_tol=0.0))
    assert (off == gated).all()
    wide = lab_of(bar_photo(60))
    assert (_span_limited(wide, gated, b, dist, st, (0, 0), DEFAULT) == gated).all()


def striped_bar_photo(seed: int = 0) -> np.ndarray:
    """``bar_photo(8)`` with the bar striped (pale and dark bands, 9 px) and the ground pale to
    its left, grey to its right: a part of more than one colour between unlike flanks."""
    rng = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.float32)
    img[:] = GREY
    img[:, :146] = (228, 218, 186)
    img[:, 146:154] = np.where(((np.arange(H) // 9) % 3 == 0)[:, None, None], DARK, (235, 200, 40))
    img = cv2.GaussianBlur(img + rng.normal(0, 3, img.shape), (0, 0), 1.0)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("radius", [8.0, 14.0])
def test_it_sees_a_keep_brush_over_a_striped_bar_between_unlike_flanks_span_it_whole(radius):
    # qa41b (2026-12-06, keep41): a keep r 8 along soft-dev GT25's yellow-and-black pencil tip,
    # the keypad on one side and a dark bag on the other, added both 144 px beyond its brush
    lab = lab_of(striped_bar_photo())
    assert _spans_whole(lab, Stroke("keep", radius, DOWN), DEFAULT)
    # a remove stroke keeps shape40's stricter test; span_apart 0 turns it off
    assert not _spans_whole(lab, Stroke("remove", radius, DOWN), DEFAULT)
    assert not _spans_whole(lab, Stroke("keep", radius, DOWN), replace(DEFAULT, span_apart=0.0))


def striped_pencil_scene(radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, Stroke]:
    """A pale cup the model holds (paper in it), a thin striped pencil (yellow and black, 7 px)
    leaning out of it that the model missed, a keypad of the paper's colour behind the pencil
    on its left only (dark on its right), and a keep stroke along the pencil. Returns the
    photo, the model's alpha, the keypad and the stroke."""
    rng = np.random.default_rng(0)
    h, w = 300, 400
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (70, 62, 88)
    cup = np.zeros((h, w), np.uint8)
    cv2.rectangle(cup, (60, 200), (260, 299), 255, -1)
    img[cup > 0] = (205, 205, 210)
    cv2.rectangle(img, (70, 210), (250, 299), (229, 219, 187), -1)
    pad = np.zeros((h, w), np.uint8)
    cv2.fillPoly(pad, [np.array([[130, 60], [300, 60], [205, 199], [130, 199]], np.int32)], 255)
    img[pad > 0] = (228, 218, 186)
    pencil = np.zeros((h, w), np.uint8)
    cv2.line(pencil, (310, 40), (205, 200), 255, 7)
    band = ((np.arange(h) // 9) % 3 == 0)[:, None] & (pencil > 0)
    img[(pencil > 0) & ~band] = (235, 200, 40)
    img[band] = (30, 28, 30)
    img = cv2.GaussianBlur(img + rng.normal(0, 3, img.shape), (3, 3), 0)
    stroke = Stroke("keep", radius, tuple((310.0 - 5.25 * i, 40.0 + 8.0 * i) for i in range(20)))
    return (np.clip(img, 0, 255).astype(np.uint8), cv2.GaussianBlur(cup, (5, 5), 0),
            (pad > 0) & (pencil == 0), stroke)


def test_it_keeps_a_keep_stroke_along_a_striped_pencil_from_adding_the_keypad_beside_it():
    # qa41b's GT25 keep (keep41): with span_apart off the cut adds 986 keypad px beyond the brush
    # (6.7 % of it), on 230
    rgb, prior, pad, st = striped_pencil_scene(14.0)
    beyond = pad & ~(rasterise([st], prior.shape) > 0)
    on = retouch(rgb, prior, [st]).alpha >= 128
    off = retouch(rgb, prior, [st], params=replace(DEFAULT, span_apart=0.0)).alpha >= 128
    assert (on & beyond).sum() < 0.025 * beyond.sum()
    assert (off & beyond).sum() > 0.05 * beyond.sum()

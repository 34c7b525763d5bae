"""A painted keep/remove stroke whose brush spans a part whole (retouch_cut._spans_whole: a
brush wider than the post or pencil it is painted along) changes nothing beyond its brush but
the part past its ends (_span_limited). Scenes are built in memory."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

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

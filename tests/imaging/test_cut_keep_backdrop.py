"""A painted keep stroke tracing a wheel's missed rim (QA38b W1, dev 009): beyond its brush it
does not fill the hole it closes when that hole looks like the backdrop round it and the model
held it clear (``retouch_cut._backdrop_beyond``). The cut's own fill did not reproduce on drawn
wheels (the blurred photo's grass is the thin brush's rim colour), so the rule is tested on the
flip it is handed, in window coordinates, as ``_step`` hands it."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch_cut import DEFAULT, _backdrop_beyond, _ring_counts

H, W = 160, 200
GRASS, SAND = (110, 150, 70), (205, 195, 160)
FRAME, TYRE = (225, 228, 232), (60, 60, 66)
CY, CX, AY, AX = 80, 70, 32, 27  # the wheel: centre and semi-axes


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.uint8), cv2.COLOR_RGB2LAB)


def wheel_window(inside_colour=None, seed=0):
    """A window round a bicycle's front wheel: a pale frame the cutout holds (right), a
    grass-and-sand backdrop, a dark tyre ring the cutout missed. Returns the photo, the cutout
    (bool), the model's alpha (float), the ring brush (radius 4 along the tyre), its centre
    line and the ring's inside."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    m = cv2.GaussianBlur(rng.normal(0, 1, (H, W)).astype(np.float32), (0, 0), 6)
    m = np.clip(m / m.std() * 0.8 + 0.5, 0, 1)[..., None]
    rgb = m * np.float32(GRASS) + (1 - m) * np.float32(SAND)
    frame = np.zeros((H, W), bool)
    frame[20:150, 130:190] = True
    ring = np.zeros((H, W), np.uint8)
    cv2.ellipse(ring, (CX, CY), (AX, AY), 0, 0, 360, 255, 9)
    line = np.zeros((H, W), np.uint8)
    cv2.ellipse(line, (CX, CY), (AX, AY), 0, 0, 360, 255, 1)
    tyre = np.zeros((H, W), np.uint8)
    cv2.ellipse(tyre, (CX, CY), (AX, AY), 0, 0, 360, 255, 3)
    inside = (((yy - CY) / AY) ** 2 + ((xx - CX) / AX) ** 2 < 1) & (ring == 0)
    if inside_colour is not None:
        rgb[inside] = inside_colour
    rgb[frame] = FRAME
    rgb[tyre > 0] = TYRE
    rgb = np.clip(cv2.GaussianBlur(rgb, (0, 0), 1.0) + rng.normal(0, 2, rgb.shape), 0, 255)
    held = np.where(frame, 1.0, 0.02).astype(np.float32)
    held[inside] = 0.1  # a faint ghost, as on 009 (median 0.1-0.18 of the wheel's pieces)
    return rgb, frame, held, ring > 0, line > 0, inside


@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_backdrop_inside_a_traced_rim_out(seed):
    # the stroke's flip: the tyre under its brush and the whole inside of the ring
    rgb, cur, held, brush, line, inside = wheel_window(seed=seed)
    flip = brush | inside
    got = _backdrop_beyond(_lab(rgb), cur, flip, line, brush, held, 4.0, DEFAULT)
    assert got[inside].mean() > 0.99
    assert not (got & brush).any()  # what it paints stays the stroke's


def test_it_fills_a_product_coloured_inside():
    # a disc of the frame's own colour inside the ring is product (a wheel cover)
    rgb, cur, held, brush, line, inside = wheel_window(inside_colour=FRAME)
    got = _backdrop_beyond(_lab(rgb), cur, brush | inside, line, brush, held, 4.0, DEFAULT)
    assert not got.any()



def test_it_fills_an_inside_the_model_held():
    rgb, cur, held, brush, line, inside = wheel_window()
    held[inside] = 0.4
    got = _backdrop_beyond(_lab(rgb), cur, brush | inside, line, brush, held, 4.0, DEFAULT)
    assert not got.any()


def test_it_leaves_a_region_the_cutout_borders_alone():
    # the brush runs along the cutout's edge 12 px from it: the strip between is closed by the
    # brush and the cutout together (dev 153077: an arm's dark shadowed edge), not the brush
    rgb, cur, held, brush, line, inside = wheel_window()
    brush = np.zeros((H, W), bool)
    brush[24:146, 110:119] = True
    brush[24:33, 110:135] = True
    brush[137:146, 110:135] = True
    line = np.zeros((H, W), bool)
    line[28:142, 114] = True
    strip = np.zeros((H, W), bool)
    strip[33:137, 119:130] = True
    rgb[strip] = GRASS
    held[strip] = 0.02
    got = _backdrop_beyond(_lab(rgb), cur, brush | strip, line, brush, held, 4.0, DEFAULT)
    assert not got.any()
    # the same strip closed by the brush alone is left out
    brush[24:146, 128:137] = True
    got = _backdrop_beyond(_lab(rgb), cur, brush | strip, line, brush, held, 4.0, DEFAULT)
    assert got[strip & ~brush].mean() > 0.99


def test_it_leaves_an_open_piece_alone():
    # a piece beyond the brush that the window's frame reaches (a missed part's flank) is not
    # a hole the brush closes, whatever its colour
    rgb, cur, held, brush, line, inside = wheel_window()
    gap = np.zeros((H, W), bool)
    gap[CY - 4:CY + 5, CX - AX - 8:CX - AX + 9] = True  # open the ring on its left
    brush &= ~gap
    got = _backdrop_beyond(_lab(rgb), cur, brush | inside | gap, line & ~gap, brush, held,
                           4.0, DEFAULT)
    assert not got.any()


def test_it_counts_each_holes_ring_as_a_dilation_of_the_hole_alone_would():
    # _ring_counts replaced a 3 x 3 dilation per hole (2026-12-06, tidy39): the same counts,
    # on pieces that touch each other, the frame and the window's edge
    rng = np.random.default_rng(5)
    for _ in range(20):
        parts = (cv2.GaussianBlur(rng.random((31, 47)), (0, 0), 1.5) > 0.5).astype(np.uint8)
        _, lbl = cv2.connectedComponents(parts, connectivity=4)
        which = rng.random(lbl.max() + 1) < 0.7
        mark = rng.random(lbl.shape) < 0.4
        ring_n, ring_mark = _ring_counts(lbl, which, mark)
        for j in range(lbl.max() + 1):
            hole = lbl == j
            ring = (cv2.dilate(hole.view(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~hole
            want = (int(ring.sum()), int((ring & mark).sum())) if which[j] else (0, 0)
            assert (int(ring_n[j]), int(ring_mark[j])) == want

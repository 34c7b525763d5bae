"""A painted remove stroke over a pale towel the cutout held wrongly, with pale strands hanging
from the product over the backdrop above it (QA38b D1, soft-dev GT27: wool strands over a
towel). The strands' colour is nearly the towel's, so the cut, its prior discounted around the
stroke, takes them whole, far beyond its brush, with the towel. Sparing the thin parts of the
take beyond the brush left solid bands of a textured backdrop on soft-dev GT27 (docs/review.md,
*A remove stroke takes thin detail far beyond its brush*); fading them with their distance
beyond the brush faded GT27's weave back too and moved dev photo 155 (fade39). Now only a thin
part that hangs from a kept body and runs away from it (a strand) fades (`retouch._fade_plane`;
docs/review.md, *Fading only the strands a remove stroke takes beyond its brush*, fade40)."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import _fade_plane, retouch
from cutouts.imaging.strokes import Stroke

from .scenes import box_mask, drawn_scene

H, W = 220, 260


def towel_scene(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A dark body along the top, four pale strands (6 px) hanging from it down to y = 200 on a
    blue backdrop, over a pale towel below y = 110; the cutout holds the body solid, the strands
    at 150 and the towel at 200."""
    towel = box_mask((H, W), 110, H, 0, W)
    body = box_mask((H, W), 15, 55, 30, 240)
    strands = np.zeros((H, W), bool)
    for x in (150, 170, 190, 210):
        strands[55:200, x:x + 6] = True
    rgb, alpha = drawn_scene(np.random.default_rng(seed), (H, W), (60, 80, 140),
                             [(towel, (210, 208, 214)), (body, (70, 40, 35)),
                              (strands, (200, 190, 176))],
                             [(towel, 200), (strands, 150), (body, 255)])
    return rgb, alpha, strands, towel & ~strands


def stroke(radius: float) -> Stroke:
    # along the towel, left of the strands: its brush ends 20+ px short of the first one
    pts = tuple((30 + t * 90, 165 - t * 5) for t in np.linspace(0, 1, 10))
    return Stroke("remove", radius, pts)


@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_the_towel_beyond_its_brush(seed):
    rgb, alpha, strands, towel = towel_scene(seed)
    out = retouch(rgb, alpha, [stroke(16.0)]).alpha
    assert int((towel & (out < 128)).sum()) > 0.9 * int(towel.sum())


@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_strands_hanging_beyond_its_brush(seed):
    rgb, alpha, strands, towel = towel_scene(seed)
    hanging = strands.copy()
    hanging[110:] = False  # over the backdrop, between the body and the towel (1 320 px)
    out = retouch(rgb, alpha, [stroke(16.0)]).alpha
    assert int((hanging & (out < 128)).sum()) < 100


def test_it_takes_a_thin_part_the_model_held_nearly_solid():
    # a part held at 200 is no detail the model matted: whatever spares or fades strands must
    # still take it (dev photo 069: a flamingo's leg, held solid, hanging from the wrong
    # flamingo a stroke took onto the right one; docs/review.md, Fading what a remove stroke
    # takes beyond its brush)
    rgb, alpha, strands, towel = towel_scene(0)
    alpha[strands] = 200
    hanging = strands.copy()
    hanging[110:] = False
    out = retouch(rgb, alpha, [stroke(16.0)]).alpha
    assert int((hanging & (out < 128)).sum()) == int(hanging.sum())


@pytest.mark.parametrize("seed", [0, 1])
def test_it_fades_the_strands_never_above_the_cutouts_alpha(seed):
    rgb, alpha, strands, towel = towel_scene(seed)
    out = retouch(rgb, alpha, [stroke(16.0)]).alpha
    assert (out <= alpha).all()
    hanging = strands.copy()
    hanging[110:] = False
    # 50+ px from the brush (over 2.5 radii): the strands keep the cutout's 150
    assert int(np.median(out[hanging])) == 150


def plane_case(extra: str) -> np.ndarray | None:
    """``_fade_plane`` on a 200 x 200 working grid (scale 1): a remove stroke (r 10) along
    y = 180, x 10..60, whose cut took a wide towel (y 150+, held at .8) and ``extra``: a 6 px
    strand (held at .6) hanging from a kept body (y 10..40) down to the towel, a 4 px sliver
    along the body's lower edge, or a 4 px bar of weave on a kept 5 px speck."""
    prior = np.zeros((200, 200), np.float32)
    seg = np.zeros((200, 200), bool)
    prior[150:, :] = 0.8
    if extra == "speck":
        prior[95:100, 100:105] = 1.0
        seg[95:100, 100:105] = True
        prior[100:104, 100:140] = 0.6
    else:
        prior[10:40, :] = 1.0
        seg[10:40, :] = True
    if extra == "strand":
        prior[40:150, 100:106] = 0.6
    if extra == "sliver":
        prior[40:44, 80:190] = 0.6
    return _fade_plane(seg, prior, [Stroke("remove", 10.0, ((10.0, 180.0), (60.0, 180.0)))],
                       1.0)


def test_it_fades_a_thin_part_hanging_from_the_body_beyond_the_brush():
    plane = plane_case("strand")
    assert plane is not None
    assert plane[40:130, 100:106].min() > 0.9  # 2.5+ radii from the brush: the whole share
    assert not plane[150:].any()  # the towel itself is taken


def test_it_takes_a_sliver_along_the_kept_edge():
    # dev 155: a sliver of the take along a soft kept edge runs no way from it
    assert plane_case("sliver") is None


def test_it_takes_a_thin_part_hanging_only_on_a_speck():
    # soft-dev GT27: the towel's weave between its holes hangs on specks the cut left
    assert plane_case("speck") is None


def test_it_fades_the_strands_whole_on_a_reduced_working_grid():
    # a photo twice the working grid: the share's upsample must not cut the strands' edges
    rgb, alpha, strands, towel = (cv2.resize(x.view(np.uint8), None, fx=2, fy=2,
                                             interpolation=cv2.INTER_NEAREST)
                                  for x in towel_scene(0))
    hanging = strands > 0
    hanging[220:] = False
    out = retouch(rgb, alpha, [stroke(16.0).scaled(2.0)], work_max=260).alpha
    assert int((hanging & (out < 128)).sum()) < 400  # of 5 280
    assert int((towel.astype(bool) & (out < 128)).sum()) > 0.9 * int(towel.sum())


@pytest.mark.parametrize("seed", range(40))
def test_it_reads_a_brush_from_its_own_box_as_rasterise_paints_the_fades_box(seed):
    # _fade_plane's brush comes from a box of its own (rasterised once per stroke and grid);
    # the same bytes as rasterising it in the box it is read in: off-grid points, thin and
    # wide brushes, boxes clipped to the grid (2026-12-06, cost41)
    from cutouts.imaging import retouch as retouch_mod
    from cutouts.imaging.strokes import rasterise

    rng = np.random.default_rng(seed)
    hw = (int(rng.integers(40, 300)), int(rng.integers(40, 300)))
    n = int(rng.integers(2, 12))
    pts = tuple((float(x), float(y)) for x, y in zip(
        rng.uniform(-10, hw[1] + 10, n) if seed % 4 == 0 else rng.uniform(0, hw[1], n),
        rng.uniform(-10, hw[0] + 10, n) if seed % 4 == 0 else rng.uniform(0, hw[0], n),
        strict=True))
    st = Stroke("remove", float(rng.choice([0.5, 0.7, 1.3, 4.25, 17.6, 60.0])), pts)
    x0, y0, x1, y1 = st.bounds()
    for _ in range(2):  # the first call rasterises, the second reads the kept brush
        tb0, tb1 = sorted(rng.integers(0, hw[0], 2)), sorted(rng.integers(0, hw[1], 2))
        by = slice(max(0, min(int(tb0[0]), int(y0) - 2)), min(hw[0], max(int(tb0[1]) + 1,
                                                                            int(y1) + 3)))
        bx = slice(max(0, min(int(tb1[0]), int(x0) - 2)), min(hw[1], max(int(tb1[1]) + 1,
                                                                            int(x1) + 3)))
        want = rasterise([st], (by.stop - by.start, bx.stop - bx.start),
                         origin=(bx.start, by.start))
        got = retouch_mod._brush_in(st, hw, by, bx)
        assert got.dtype == want.dtype and np.array_equal(got, want)

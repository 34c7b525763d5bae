"""A painted remove stroke across what an earlier keep stroke raised (QA qa43r H2, dev 031: a
remove stroke down a tree in front of a bus, after keep strokes along the bus): later strokes
win where they overlap, so the crossing goes (``retouch_cut._over_earlier``)."""

import numpy as np

from cutouts.imaging.retouch import retouch
from cutouts.imaging.retouch_cut import Params
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import box_mask, drawn_scene

H, W = 200, 240
OFF = Params(remove_over_keep=False)  # the rule turned off: what the remove stroke left before


def bus_behind_tree() -> tuple[np.ndarray, np.ndarray]:
    """A dark bar (the bus) on a pale backdrop, a green trunk (the tree) crossing in front of
    it top to bottom; the cutout holds the bar but for the trunk."""
    bar = box_mask((H, W), 80, 120, 30, 210)
    trunk = box_mask((H, W), 0, H, 108, 132)
    return drawn_scene(np.random.default_rng(3), (H, W), (215, 205, 185),
                       [(bar, (40, 50, 110)), (trunk, (60, 120, 50))], [(bar & ~trunk, 255)])


def test_it_takes_the_crossing_of_a_remove_stroke_over_an_earlier_keep_stroke():
    rgb, alpha = bus_behind_tree()
    keep = Stroke("keep", 12.0, tuple((float(x), 100.0) for x in range(40, 201, 8)))
    remove = Stroke("remove", 10.0, tuple((120.0, float(y)) for y in range(4, 197, 8)))
    crossing = (rasterise([keep], (H, W)) > 0) & (rasterise([remove], (H, W)) > 0)
    # what the keep stroke raised of the trunk where the remove stroke crosses it (its core)
    raised = crossing & (retouch(rgb, alpha, [keep]).alpha >= 128)
    assert int(raised.sum()) > 150
    before = retouch(rgb, alpha, [keep, remove], params=OFF).alpha
    assert int((before[raised] >= 128).sum()) > int(raised.sum()) // 2  # it stayed
    out = retouch(rgb, alpha, [keep, remove]).alpha
    assert (out[crossing] < 128).all()
    # beyond its brush, the remove stroke takes nothing of the bar the keep stroke holds
    brush = rasterise([remove], (H, W)) > 0
    np.testing.assert_array_equal(out[(alpha >= 128) & ~brush], 255)
    np.testing.assert_array_equal(out[(before >= 128) & ~brush], 255)


def test_it_clears_in_the_brushs_box_what_the_whole_image_would():
    # _over_earlier runs for every replayed painted stroke of every preview, so it touches
    # only the brush's box (order45); strokes over the photo's edges, sub-pixel brushes and
    # clicks (which clear nothing) included
    from cutouts.imaging.retouch_cut import DEFAULT, _brush_box, _over_earlier
    from cutouts.imaging.strokes import KEEP, REMOVE

    rng = np.random.default_rng(5)
    shape = (50, 70)
    labels = rng.choice(np.array([0, KEEP, REMOVE], np.uint8), shape)
    whole = labels.copy()
    for i in range(60):
        kind = "keep" if i % 3 else "remove"
        radius = float(rng.choice([0.5, 0.6, 1.0, 3.0, 7.5]))
        n = 1 if i % 5 == 0 else int(rng.integers(2, 6))
        points = tuple((float(x), float(y)) for x, y in
                       zip(rng.uniform(-9, 79, n), rng.uniform(-9, 59, n), strict=True))
        st = Stroke(kind, radius, points)
        _over_earlier(labels, st, DEFAULT, _brush_box(st, shape))
        if n > 1:
            brush = rasterise([st], shape) > 0
            whole[brush & (whole == (KEEP if kind == "remove" else REMOVE))] = 0
        assert (labels == whole).all(), i
        # fresh cores for the next stroke to clear
        refill = rng.random(shape) < 0.1
        labels[refill] = whole[refill] = rng.choice(np.array([KEEP, REMOVE], np.uint8))
    assert (whole == 0).any() and (whole == KEEP).any() and (whole == REMOVE).any()

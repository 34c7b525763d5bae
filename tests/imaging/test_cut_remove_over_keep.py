"""A painted remove stroke across what an earlier keep stroke raised (QA qa43r H2, dev 031: a
remove stroke down a tree in front of a bus, after keep strokes along the bus): later strokes
win where they overlap, so the crossing goes (``retouch_cut._over_earlier``)."""

import numpy as np

from cutouts.imaging.retouch import retouch
from cutouts.imaging.retouch_cut import Params
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 200, 240
OFF = Params(remove_over_keep=False)  # the rule turned off: what the remove stroke left before


def bus_behind_tree() -> tuple[np.ndarray, np.ndarray]:
    """A dark bar (the bus) on a pale backdrop, a green trunk (the tree) crossing in front of
    it top to bottom; the cutout holds the bar but for the trunk."""
    rng = np.random.default_rng(3)
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = (215, 205, 185)
    bar = np.zeros((H, W), bool)
    bar[80:120, 30:210] = True
    trunk = np.zeros((H, W), bool)
    trunk[:, 108:132] = True
    rgb[bar] = (40, 50, 110)
    rgb[trunk] = (60, 120, 50)
    rgb = np.clip(rgb + rng.normal(0, 3.0, rgb.shape), 0, 255).astype(np.uint8)
    return rgb, np.where(bar & ~trunk, 255, 0).astype(np.uint8)


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

"""A painted keep stroke back over what an earlier remove stroke took (the mirror of
``test_cut_remove_over_keep``; QA qa42r, dev 093: a thin remove along the hoof's shadow took the
hoof): later strokes win where they overlap, so the crossing comes back
(``retouch_cut._over_earlier``, ``Params.keep_over_remove``)."""

import numpy as np

from cutouts.imaging.retouch import retouch
from cutouts.imaging.retouch_cut import Params
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 200, 240
OFF = Params(keep_over_remove=False)  # the rule turned off: what the keep stroke left before


def bar_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A dark bar on a pale backdrop; the cutout holds the bar."""
    rng = np.random.default_rng(5)
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = (215, 205, 185)
    bar = np.zeros((H, W), bool)
    bar[80:120, 30:210] = True
    rgb[bar] = (40, 50, 110)
    rgb = np.clip(rgb + rng.normal(0, 3.0, rgb.shape), 0, 255).astype(np.uint8)
    return rgb, np.where(bar, 255, 0).astype(np.uint8), bar


def test_it_brings_back_the_crossing_of_a_keep_stroke_over_an_earlier_remove_stroke():
    rgb, alpha, bar = bar_scene()
    # a remove stroke across the bar (its line inside the cutout): it takes the bar under it
    remove = Stroke("remove", 10.0, tuple((120.0, float(y)) for y in range(84, 117, 4)))
    keep = Stroke("keep", 12.0, tuple((float(x), 100.0) for x in range(40, 201, 8)))
    kbrush = rasterise([keep], (H, W)) > 0
    crossing = kbrush & (rasterise([remove], (H, W)) > 0) & bar
    taken = retouch(rgb, alpha, [remove]).alpha
    assert int((taken[crossing] < 128).sum()) > 200
    before = retouch(rgb, alpha, [remove, keep], params=OFF).alpha
    assert int((before[crossing] < 128).sum()) > 100  # the remove's hard core held it off
    out = retouch(rgb, alpha, [remove, keep]).alpha
    assert (out[crossing] >= 128).all()
    # beyond the keep stroke's brush nothing changes from what the remove stroke left
    np.testing.assert_array_equal(out[~kbrush] >= 128, taken[~kbrush] >= 128)

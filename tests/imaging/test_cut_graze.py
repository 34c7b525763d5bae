"""A painted remove stroke that grazes a solid product from outside (QA W3): the brush
overlaps the product, its centreline runs on the backdrop beside it. It clears the backdrop
up to the product's edge and takes none of the product (``retouch_cut._graze_spared``)."""

import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.retouch_cut import Params
from cutouts.imaging.strokes import Stroke

H = W = 240
CY = CX = 120
R0 = 70
OFF = Params(graze_step=0.0)  # the rule turned off: what a stroke took before


def spotted_disk(noise: float) -> tuple[np.ndarray, np.ndarray]:
    """A dark disk (the product, held solid) with five pale spots of the backdrop's colour a
    few px inside its edge (a reflection, a label) on a plain pale backdrop: the cut, with the
    prior discounted around a stroke, saw the spots as backdrop."""
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[:H, :W]
    disk = (yy - CY) ** 2 + (xx - CX) ** 2 <= R0 ** 2
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = (215, 205, 185)
    rgb[disk] = (60, 60, 66)
    for a in np.linspace(-0.5, 0.5, 5):
        d = R0 - 3 - 6
        rgb[(yy - CY - d * np.sin(a)) ** 2 + (xx - CX - d * np.cos(a)) ** 2 <= 36] = (200, 192, 175)
    rgb = np.clip(rgb + rng.normal(0, noise, rgb.shape), 0, 255).astype(np.uint8)
    return rgb, np.where(disk, 255, 0).astype(np.uint8)


def arc(radius_from_centre: float) -> tuple[tuple[float, float], ...]:
    return tuple((CX + radius_from_centre * np.cos(a), CY + radius_from_centre * np.sin(a))
                 for a in np.linspace(-0.6, 0.6, 16))


def lost(alpha: np.ndarray, out: np.ndarray) -> int:
    return int(((alpha >= 128) & (out < 128)).sum())


@pytest.mark.parametrize("noise", [0.0, 5.0])
@pytest.mark.parametrize(("radius", "offset"), [(12.0, 0.3), (12.0, 0.6), (25.0, 0.3),
                                                (25.0, 0.6)])
def test_it_spares_a_product_a_remove_stroke_grazes_from_outside(noise, radius, offset):
    rgb, alpha = spotted_disk(noise)
    st = Stroke("remove", radius, arc(R0 + offset * radius))
    assert lost(alpha, retouch(rgb, alpha, [st], params=OFF).alpha) > 300  # the spots went
    out = retouch(rgb, alpha, [st]).alpha
    assert lost(alpha, out) == 0
    np.testing.assert_array_equal(out[alpha >= 128], 255)


@pytest.mark.parametrize("radius", [12.0, 25.0])
def test_it_keeps_the_product_under_a_grazing_core_at_full_size(radius):
    # the cut runs at half size; the stroke's hard core (half its brush) overlaps the disk's
    # edge: the eroded hold of the cut let the full-size core take a 1-2 px seam of the disk
    rgb, alpha = spotted_disk(3.0)
    st = Stroke("remove", radius, arc(R0 + 0.3 * radius))
    out = retouch(rgb, alpha, [st], work_max=120).alpha
    assert lost(alpha, out) == 0
    assert (out[alpha == 0] == 0).all()


def test_it_still_clears_a_backdrop_rim_the_cutout_holds_under_a_grazing_stroke():
    # the cutout holds a 6 px rim of backdrop around the disk: its edge lies on no image edge
    rgb, disk = spotted_disk(3.0)
    yy, xx = np.mgrid[:H, :W]
    alpha = np.where((yy - CY) ** 2 + (xx - CX) ** 2 <= (R0 + 6) ** 2, 255, 0).astype(np.uint8)
    st = Stroke("remove", 12.0, arc(R0 + 6 + 6))
    out = retouch(rgb, alpha, [st]).alpha
    rim = (alpha >= 128) & (disk < 128)
    cleared = int((rim & (out < 128)).sum())
    assert cleared >= int((rim & (retouch(rgb, alpha, [st], params=OFF).alpha < 128)).sum())
    assert cleared > 200


def test_it_removes_all_under_a_stroke_whose_centreline_runs_inside_the_product():
    rgb, alpha = spotted_disk(3.0)
    st = Stroke("remove", 12.0, arc(R0 - 0.6 * 12))
    out = retouch(rgb, alpha, [st]).alpha
    assert lost(alpha, out) > 1000
    np.testing.assert_array_equal(out, retouch(rgb, alpha, [st], params=OFF).alpha)

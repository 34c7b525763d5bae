"""A remove click in a held gap between petals whose centre lands on the blended pixel at a
petal's side (QA qa43s H1, soft-dev GT21: a click r 6 in a sky gap took a ring of petals up to
131 px away and left the gap held). Its core is a 4 px sliver of the blend, the colour model
calls the shadowed petals round the gap background and the gap object. Not fixed: a guard
sparing what the sliver's colours do not reach beyond the brush raised the click protocol's
NoC (docs/review.md, 2026-12-07, gap43)."""

import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 200, 200
CLICK = Stroke("remove", 6.0, ((100.0, 80.0),))


def flower_round_a_gap() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A ring of petals (bright red, shadowed dark red on its inner half) round a gap of dark
    backdrop, on a pale sky; a bright petal strip hangs into the gap, its left side one column
    of the blend of strip and gap. The cutout holds the whole flower, the gap filled."""
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[:H, :W]
    r = np.hypot(yy - 100, xx - 100)
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = (200, 210, 220)
    ring = (r <= 80) & (r > 35)
    gap = r <= 35
    rgb[ring] = (160, 27, 9)
    rgb[ring & (r <= 55)] = (110, 30, 14)  # the petals' shadowed inner half
    rgb[gap] = (57, 36, 17)
    strip = gap & (xx >= 101) & (xx <= 108) & (yy < 95)
    rgb[strip] = (160, 27, 9)
    rgb[gap & (xx == 100) & (yy < 95)] = (109, 36, 16)  # the blend at the strip's side
    rgb = np.clip(rgb + rng.normal(0, 2.0, rgb.shape), 0, 255).astype(np.uint8)
    return rgb, np.where(r <= 80, 255, 0).astype(np.uint8), ring | strip, gap & ~strip


@pytest.mark.xfail(strict=True, reason="the click's core is the blend at the strip's side: it "
                   "takes the shadowed ring and leaves the gap (qa43s H1; docs/review.md, "
                   "2026-12-07, gap43)")
def test_it_takes_the_gap_not_the_ring_a_click_on_a_blend_lands_in():
    rgb, alpha, petals, gap = flower_round_a_gap()
    brush = rasterise([CLICK], (H, W)) > 0
    out = retouch(rgb, alpha, [CLICK]).alpha
    assert int(((out < 128) & petals & ~brush).sum()) < 50
    assert int((out[gap] < 128).sum()) > int(gap.sum()) // 2

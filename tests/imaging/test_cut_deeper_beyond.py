"""A painted remove stroke along a wrong rim, its centre line inside the cutout, beside a solid
neighbour of nearly the rim's colours (qa45r M1, traced by trace45a; 2026-12-07, in46; mended
2026-12-08, sill48).

On dev 121 a remove along the water rim under a duck took its dark belly 517 px beyond the
brush (056's bumper and 153077's belly went the same way, and removes in thin gaps took the
rails, pole and feet beside them on 246, 340 and 061, qa45s M3): the take is the graph cut's
own, the centre line runs inside the cutout (so ``_graze_spared``, ``_object_like_beyond`` and
``_firm_beyond`` read nothing) and the core samples the neighbour's own colours (the rim is its
reflection). "No deeper than the brush" (in46) fixed this scene but was measured worse
elsewhere (docs/review.md, 2026-12-07 in46). Now a thin brush whose line runs mostly inside the
cutout, at most a quarter of it on the clear backdrop, and whose brush reaches that backdrop
past the cutout's edge leaves the held body behind it (``Params.paint_beyond_sill``, sill48:
121 517 -> 152 px worse beyond, 056 135 -> 0, 153077 504 -> 274; the net, shoe, cap and
fountain cases in46 lost are unchanged)."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.retouch_cut import DEFAULT, Params
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import box_mask, drawn_scene

H, W = 160, 240
OFF = replace(DEFAULT, paint_beyond_sill=0)


def duck(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A white duck on water whose lowest 20 rows are a dark belly, and under it an 8 px rim of
    the belly's reflection (nearly its colour) that the cutout holds solid with the duck.
    Returns rgb, alpha, the belly and the rim."""
    body = box_mask((H, W), 20, 100, 40, 200)
    belly = box_mask((H, W), 80, 100, 40, 200)
    rim = box_mask((H, W), 100, 108, 40, 200)
    rgb, alpha = drawn_scene(np.random.default_rng(seed), (H, W), (120, 150, 190),
                             [(body, (235, 235, 225)), (belly, (60, 50, 45)),
                              (rim, (62, 52, 47))],
                             [(body | rim, 255)])
    return rgb, alpha, belly, rim


def belly_lost_and_rim_cleared(seed: int, params: Params = DEFAULT) -> tuple[int, int, int]:
    """Belly px beyond the brush (more than 2 px) a remove r 6 along the rim's middle lowers
    below 128, rim px it clears (below 16), and the rim's size."""
    rgb, alpha, belly, rim = duck(seed)
    # its centre line runs wholly inside the cutout, 4 px deep: the brush reaches past the edge
    st = Stroke("remove", 6.0, ((45.0, 104.0), (120.0, 104.0), (195.0, 104.0)))
    brush = rasterise([st], (H, W)) > 0
    d = cv2.distanceTransform((~brush).astype(np.uint8), cv2.DIST_L2, 5)
    out = retouch(rgb, alpha, [st], params=params).alpha
    return (int((belly & (d > 2) & (out < 128)).sum()), int((rim & (out < 16)).sum()),
            int(rim.sum()))


@pytest.mark.parametrize("seed", [0, 1])
def test_it_clears_the_rim_under_the_brush(seed):
    # what the reviewer painted over goes whole (this holds today)
    _, cleared, size = belly_lost_and_rim_cleared(seed)
    assert cleared == size


@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_dark_belly_beyond_a_stroke_along_a_wrong_rim(seed):
    lost, cleared, size = belly_lost_and_rim_cleared(seed)
    # 333 / 386 px went (2026-12-07, in46); 39 / 47 now, at the belly's two ends
    assert lost <= 80
    assert cleared == size


@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_the_dark_belly_without_the_sill_guard(seed):
    lost, _, _ = belly_lost_and_rim_cleared(seed, OFF)
    assert lost > 250

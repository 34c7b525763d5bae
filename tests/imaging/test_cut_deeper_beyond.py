"""A painted remove stroke along a wrong rim, its centre line inside the cutout, beside a solid
neighbour of nearly the rim's colours (qa45r M1, traced by trace45a; 2026-12-07, in46).

On dev 121 a remove along the water rim under a duck took its dark belly 517 px beyond the
brush (056's bumper and 153077's belly went the same way, and removes in thin gaps took the
rails, pole and feet beside them on 246, 340 and 061, qa45s M3): the take is the graph cut's
own, the centre line runs inside the cutout (so ``_graze_spared``, ``_object_like_beyond`` and
``_firm_beyond`` read nothing) and the core samples the neighbour's own colours (the rim is its
reflection). Open (strict xfail): "no deeper than the brush" (spare, beyond the brush, what the
model held solid deeper in the cutout than every brush px within three radii) fixed this scene
and 056 / 121 / 153077, but it was measured worse elsewhere (docs/review.md, 2026-12-07 in46):
read for every such stroke the painted protocol lost IoU on 30 of 84 photos; only for a brush
reaching past the cutout's edge, replay cases of removes in a net's gaps, beside a shoe, a cap
and a fountain lost IoU."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import box_mask, drawn_scene

H, W = 160, 240


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


def belly_lost_and_rim_cleared(seed: int) -> tuple[int, int, int]:
    """Belly px beyond the brush (more than 2 px) a remove r 6 along the rim's middle lowers
    below 128, rim px it clears (below 16), and the rim's size."""
    rgb, alpha, belly, rim = duck(seed)
    # its centre line runs wholly inside the cutout, 4 px deep: the brush reaches past the edge
    st = Stroke("remove", 6.0, ((45.0, 104.0), (120.0, 104.0), (195.0, 104.0)))
    brush = rasterise([st], (H, W)) > 0
    d = cv2.distanceTransform((~brush).astype(np.uint8), cv2.DIST_L2, 5)
    out = retouch(rgb, alpha, [st]).alpha
    return (int((belly & (d > 2) & (out < 128)).sum()), int((rim & (out < 16)).sum()),
            int(rim.sum()))


@pytest.mark.parametrize("seed", [0, 1])
def test_it_clears_the_rim_under_the_brush(seed):
    # what the reviewer painted over goes whole (this holds today)
    _, cleared, size = belly_lost_and_rim_cleared(seed)
    assert cleared == size


@pytest.mark.xfail(strict=True, reason="open (qa45r M1, in46): a remove along a wrong rim inside "
                   "the cutout takes the solid dark neighbour beyond its brush (its core samples "
                   "the neighbour's colours); 'no deeper than the brush' was measured worse on "
                   "the painted protocol and replay cases (docs/review.md)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_dark_belly_beyond_a_stroke_along_a_wrong_rim(seed):
    lost, _, _ = belly_lost_and_rim_cleared(seed)
    # 333 / 386 px go (2026-12-07); with the rule tried, 53 / 63 at the belly's two ends,
    # where its sides make it no deeper than the brush
    assert lost <= 80

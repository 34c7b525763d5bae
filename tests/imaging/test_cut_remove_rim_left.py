"""A broad remove stroke painted along a wrong region leaves what its brush's rim covers (QA
qa41b, dev 155, 2026-12-06): the first cut chose a graffiti wall; removes r 40 along the
letters left 28 % of their own brush held at 0.5 or more (the letters' fills and dark outlines,
9 637 px of 34 422). Only the hard core (half the radius, ``Params.paint_core_frac``) is a
decision; the rest of the brush pushes towards background only where it looks like the core's
*mean* colour (``rim_colour_tol``), so under the rim a colour the core also covers (an outline,
a fill) stays with the wrong region beyond the brush. Measured, not adopted (docs/review.md,
2026-12-06 under41): pushing wherever a colour is near *any* colour under the core cleared
most of it (dev 155 9 637 -> 5 413; this scene 12-24 % -> 2.2-5.4 %) but made two photos of the
painted protocol worse at the end (24077 .877 -> .851, 055 .947 -> .945)."""

import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 240, 400


def scene(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pale blue wall with a row of block letters (green and pink fills, dark outlines 5 px
    wide) that the cutout holds whole at 255 with the wall between them (the wrong region),
    and a brown product beside it. Returns rgb, alpha and the product."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = (170, 195, 215)
    rows = np.arange(H)[:, None]
    product = np.zeros((H, W), bool)
    product[30:220, 330:390] = True
    letters = np.zeros((H, W), bool)
    for x0 in range(30, 300, 45):
        letters[50:190, x0:x0 + 36] = True
    inner = letters.copy()
    for axis in (0, 1):
        for by in (5, -5):
            inner &= np.roll(letters, by, axis)
    rgb[inner & ((rows // 20) % 2 == 0)] = (90, 210, 90)
    rgb[inner & ((rows // 20) % 2 == 1)] = (225, 120, 170)
    rgb[letters & ~inner] = (35, 35, 45)
    rgb[product] = (120, 80, 40)
    rgb = np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)
    alpha = np.zeros((H, W), np.uint8)
    alpha[45:195, 25:300] = 255
    alpha[product] = 255
    return rgb, alpha, product


@pytest.mark.xfail(strict=True, reason="a broad remove stroke's rim keeps colours its core also "
                   "covers (docs/review.md, 2026-12-06 under41: the nearest-colour push made "
                   "2 painted-protocol photos worse)")
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("radius", [20.0, 30.0])
def test_it_clears_what_a_remove_stroke_covers_on_a_wrong_region(seed, radius):
    rgb, alpha, product = scene(seed)
    st = Stroke("remove", radius, tuple((x, 120.0) for x in np.linspace(60, 270, 8)))
    brush = rasterise([st], (H, W)) > 0
    assert not (brush & product).any()
    out = retouch(rgb, alpha, [st]).alpha
    assert int((out < 128)[product].sum()) == 0  # holds today: the product is never touched
    # today 12 % (r 20) and 24 % (r 30) of the brush stays held
    assert int(((out >= 128) & brush).sum()) <= 0.05 * int(brush.sum())

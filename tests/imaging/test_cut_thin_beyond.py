"""A painted remove stroke over a pale towel the cutout held wrongly, with pale strands hanging
from the product over the backdrop above it (QA38b D1, soft-dev GT27: wool strands over a
towel). The strands' colour is nearly the towel's, so the cut, its prior discounted around the
stroke, takes them whole, far beyond its brush, with the towel. Measured, not adopted
(docs/review.md, *A remove stroke takes thin detail far beyond its brush*): sparing the thin
parts of the take beyond the brush that hang on what the cutout keeps left solid bands of a
textured backdrop on soft-dev GT27. Fading those parts in the compose with their distance
beyond the brush (docs/review.md, *Fading what a remove stroke takes beyond its brush*) passes
here, but faded GT27's towel weave back too and moved dev photo 155 and a graze stroke on 053
the wrong way."""

import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke

H, W = 220, 260


def towel_scene(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A dark body along the top, four pale strands (6 px) hanging from it down to y = 200 on a
    blue backdrop, over a pale towel below y = 110; the cutout holds the body solid, the strands
    at 150 and the towel at 200."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = (60, 80, 140)
    towel = np.zeros((H, W), bool)
    towel[110:, :] = True
    rgb[towel] = (210, 208, 214)
    body = np.zeros((H, W), bool)
    body[15:55, 30:240] = True
    rgb[body] = (70, 40, 35)
    strands = np.zeros((H, W), bool)
    for x in (150, 170, 190, 210):
        strands[55:200, x:x + 6] = True
    rgb[strands] = (200, 190, 176)
    rgb = np.clip(rgb + rng.normal(0, 3.0, rgb.shape), 0, 255).astype(np.uint8)
    alpha = np.zeros((H, W), np.uint8)
    alpha[towel] = 200
    alpha[strands] = 150
    alpha[body] = 255
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


@pytest.mark.xfail(
    strict=True,
    reason="open: sparing thin parts of a remove stroke's take beyond its brush left solid "
    "bands of a textured backdrop, fading them faded its weave back too (docs/review.md, A "
    "remove stroke takes thin detail far beyond its brush; Fading what a remove stroke "
    "takes beyond its brush)")
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

"""A sloppy painted keep stroke (QA39b W5, dev scissors: radius 19.6 along a missed blade, its
core about a third on the orange backdrop, as users paint) raised a black handle's soft rim,
held by the model at a median .07, 14-124 px beyond the brush. Open: a strict xfail on a drawn
scene (docs/review.md § The retouch engine, 2026-12-06 sloppy39). The scene raises far fewer
pixels than the photo (8-69 more than 5 px beyond the brush, up to 21 px out), and that it does
so by the photo's path (the overshoot making the backdrop's colour object colour) is not shown."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 240, 360
ORANGE, DARK_ORANGE = (225, 120, 30), (150, 60, 15)
BLACK, GREY = (25, 25, 28), (170, 172, 178)


def scissors_scene(seed):
    """A mottled orange backdrop (held 0.02), a black handle the model held (0.97) with a soft,
    out-of-focus rim (held 0.07), and a grey blade leaving it that the model missed. Returns the
    photo, the model's alpha (uint8) and the truth (bool)."""
    rng = np.random.default_rng(seed)
    m = cv2.GaussianBlur(rng.normal(0, 1, (H, W)).astype(np.float32), (0, 0), 5)
    m = np.clip(m / m.std() * 0.5 + 0.5, 0, 1)[..., None]
    back = m * np.float32(ORANGE) + (1 - m) * np.float32(DARK_ORANGE)
    handle = np.zeros((H, W), np.uint8)
    cv2.ellipse(handle, (90, 110), (80, 40), 20, 0, 360, 255, -1)
    a = cv2.GaussianBlur((handle > 0).astype(np.float32), (0, 0), 10.0)[..., None]
    rgb = a * np.float32(BLACK) + (1 - a) * back
    blade = np.zeros((H, W), np.uint8)
    cv2.line(blade, (165, 125), (340, 170), 255, 22)
    rgb[blade > 0] = GREY
    rgb = cv2.GaussianBlur(rgb, (0, 0), 1.0) + rng.normal(0, 3, rgb.shape)
    prior = np.where(handle > 0, 0.97, 0.02).astype(np.float32)
    prior[(a[..., 0] > 0.05) & (handle == 0)] = 0.07
    photo = np.clip(rgb, 0, 255).astype(np.uint8)
    return photo, (prior * 255).astype(np.uint8), (handle > 0) | (blade > 0)


def overshooting_stroke(radius):
    """Along the blade, its centreline 0.8 radius off the blade's towards the backdrop below."""
    d = np.array([175.0, 45.0]) / np.hypot(175.0, 45.0)
    off = 0.8 * radius * np.array([-d[1], d[0]])
    p0 = np.array([150.0, 125.0 - 15 * 45 / 175]) + off
    p1 = np.array([335.0, 170.0]) + off
    return Stroke("keep", radius, (tuple(p0), tuple(p1)))


@pytest.mark.parametrize("seed", [0, 1])
def test_it_overshoots_onto_the_backdrop_below_the_blade(seed):
    # the scene's premise: the brush covers the blade and a good part of backdrop beside it
    photo, prior, truth = scissors_scene(seed)
    brush = rasterise([overshooting_stroke(16.0)], (H, W)) > 0
    assert (brush & ~truth).sum() > 0.25 * brush.sum()
    assert (prior[~truth & ~brush] < 26).mean() > 0.9


@pytest.mark.xfail(
    strict=True,
    reason="open: leaving the core's backdrop-coloured samples out of the object colours beyond "
    "the brush fixed the photo (628 -> 24 px) but lost 50 of 84 dev photos in the painted "
    "protocol and raised more on this scene (docs/review.md § The retouch engine, "
    "2026-12-06 sloppy39)",
)
@pytest.mark.parametrize("radius", [12.0, 16.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_it_raises_no_backdrop_far_beyond_a_sloppy_keep_stroke(seed, radius):
    photo, prior, truth = scissors_scene(seed)
    st = overshooting_stroke(radius)
    out = retouch(photo, prior.copy(), [st]).rgba[..., 3] >= 128
    brush = rasterise([st], (H, W)) > 0
    far = cv2.distanceTransform((~brush).astype(np.uint8), cv2.DIST_L2, 5) > 5
    assert out[truth].mean() > 0.95  # the blade is kept
    assert not (out & ~truth & far).any()

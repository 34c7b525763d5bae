"""A remove click on a half-transparent smear the cutout kept beside a furry product takes the
smear, not the fur the cutout holds at ~90 along the product's opaque body (docs/review.md,
§ Fur beside a ghost, 2026-12-05). Scenes are built in memory."""

import numpy as np

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke


def fur_scene(gap: int = 0):
    """A 200 x 240 photo: an opaque body (disk, alpha 255), a fur ring 22 px wide around it the
    cutout holds falling from 124 to 84, and a grey smear beside it held at 56-72 (a plateau)
    that touches the fur's outer edge (``gap`` px of clear background between them when > 0).
    Fur and smear are the same grey in the photo: only the alpha tells them apart."""
    h, w = 200, 240
    yy, xx = np.mgrid[:h, :w]
    d = np.hypot(yy - 100, xx - 90)
    rng = np.random.default_rng(3)
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[...] = (200, 120, 60)  # orange backdrop
    body, fur = d <= 50, (d > 50) & (d <= 72)
    rgb[body] = (235, 225, 205)
    rgb[fur] = (170, 168, 165)
    alpha = np.zeros((h, w), np.uint8)
    alpha[body] = 255
    alpha[fur] = np.clip(124 - (d[fur] - 50) * 40 / 22, 84, 124).astype(np.uint8)
    smear = (xx >= 90 + 72 + gap) & (xx < 230) & (yy >= 60) & (yy < 170) & ~body & ~fur
    rgb[smear] = (170, 168, 165)
    alpha[smear] = (64 + rng.integers(-8, 9, smear.sum())).astype(np.uint8)
    rgb = np.clip(rgb.astype(int) + rng.integers(-3, 4, rgb.shape), 0, 255).astype(np.uint8)
    return rgb, alpha, body, fur, smear


def test_it_keeps_the_fur_joined_to_the_body_when_a_remove_click_takes_the_smear_beside_it():
    rgb, alpha, body, fur, smear = fur_scene()
    out = retouch(rgb, alpha, [Stroke("remove", 12, ((205.0, 115.0),))]).alpha
    assert (out[smear] == 0).mean() > 0.97
    assert (out[body] == 255).all()
    # the fur keeps its alpha but for a rim where the smear was taken beside it
    assert (out[fur] == alpha[fur]).mean() > 0.9


def test_it_keeps_the_fur_for_a_remove_stroke_painted_along_the_smear():
    rgb, alpha, body, fur, smear = fur_scene()
    out = retouch(rgb, alpha, [Stroke("remove", 10, ((215.0, 70.0), (215.0, 160.0)))]).alpha
    assert (out[smear] == 0).mean() > 0.97
    assert (out[fur] == alpha[fur]).mean() > 0.9


def test_it_takes_the_fur_with_the_smear_for_a_stroke_painted_across_both():
    rgb, alpha, body, fur, smear = fur_scene()
    out = retouch(rgb, alpha, [Stroke("remove", 8, ((150.0, 115.0), (215.0, 115.0)))]).alpha
    assert (out[smear] == 0).mean() > 0.97
    assert (out[fur] == 0).mean() > 0.8


def test_it_still_takes_a_smear_apart_from_the_product_whole():
    rgb, alpha, body, fur, smear = fur_scene(gap=6)
    out = retouch(rgb, alpha, [Stroke("remove", 12, ((205.0, 115.0),))]).alpha
    assert (out[smear] == 0).mean() > 0.97
    assert (out[fur] == alpha[fur]).mean() > 0.97

"""A remove click on a half-transparent smear the cutout kept beside a furry product takes the
smear, not the fur the cutout holds at ~90 along the product's opaque body (docs/review.md,
§ Fur beside a ghost, 2026-12-05). Scenes are built in memory."""

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke

from .scenes import fur_ring_scene


def test_it_keeps_the_fur_joined_to_the_body_when_a_remove_click_takes_the_smear_beside_it():
    rgb, alpha, body, fur, smear = fur_ring_scene()
    out = retouch(rgb, alpha, [Stroke("remove", 12, ((205.0, 115.0),))]).alpha
    assert (out[smear] == 0).mean() > 0.97
    assert (out[body] == 255).all()
    # the fur keeps its alpha but for a rim where the smear was taken beside it
    assert (out[fur] == alpha[fur]).mean() > 0.9


def test_it_keeps_the_fur_for_a_remove_stroke_painted_along_the_smear():
    rgb, alpha, body, fur, smear = fur_ring_scene()
    out = retouch(rgb, alpha, [Stroke("remove", 10, ((215.0, 70.0), (215.0, 160.0)))]).alpha
    assert (out[smear] == 0).mean() > 0.97
    assert (out[fur] == alpha[fur]).mean() > 0.9


def test_it_takes_the_fur_with_the_smear_for_a_stroke_painted_across_both():
    rgb, alpha, body, fur, smear = fur_ring_scene()
    out = retouch(rgb, alpha, [Stroke("remove", 8, ((150.0, 115.0), (215.0, 115.0)))]).alpha
    assert (out[smear] == 0).mean() > 0.97
    assert (out[fur] == 0).mean() > 0.8


def test_it_still_takes_a_smear_apart_from_the_product_whole():
    rgb, alpha, body, fur, smear = fur_ring_scene(gap=6)
    out = retouch(rgb, alpha, [Stroke("remove", 12, ((205.0, 115.0),))]).alpha
    assert (out[smear] == 0).mean() > 0.97
    assert (out[fur] == alpha[fur]).mean() > 0.97

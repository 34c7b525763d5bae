"""A remove click in a region the model held in doubt should not take a lobe of the object it
reaches through a neck, mostly ringed by the object it leaves (the click protocol's family B,
doubt47's rule B; docs/review.md, 2026-12-08 lobe48). Open: a strict xfail. Scenes are built in
memory."""

import numpy as np
import pytest

from cutouts.imaging.clicks import click_stroke
from cutouts.imaging.retouch import retouch
from tests.imaging.scenes import box_mask, drawn_scene

H, W = 200, 300
BACKDROP = (90, 120, 160)
RED = (170, 30, 30)
WHITE = (235, 235, 235)


def lobe_scene(seed=0, neck=4):
    """A red bus (120 x 220 px) with a white band (30 x 140 px) inside it, and a white wrong
    region (40 x 100 px) on its roof joined to the band by a white neck ``neck`` px wide and 40
    px long; the model held the bus solid, the wrong region at 160 and the band and the neck at
    170 (in doubt). Returns the photo, the prior, the bus (truth: band and neck included), the
    band and the wrong region."""
    rng = np.random.default_rng(seed)
    body = box_mask((H, W), 60, 180, 40, 260)
    band = box_mask((H, W), 100, 130, 80, 220)
    wrong = box_mask((H, W), 20, 60, 100, 200)
    neck_m = box_mask((H, W), 60, 100, 150, 150 + neck)
    rgb, prior = drawn_scene(rng, (H, W), BACKDROP,
                             [(body, RED), (band | neck_m, WHITE), (wrong, (230, 232, 236))],
                             [(body, 255), (wrong, 160), (band | neck_m, 170)])
    return rgb, prior, body, band, wrong


def test_it_takes_the_doubtful_wrong_region_a_remove_click_lands_on():
    # the protocol's side of the scene, met today: the click takes the white region on the roof
    rgb, prior, body, band, wrong = lobe_scene()
    got = retouch(rgb, prior, [click_stroke((150, 40), False)]).alpha >= 128
    assert int((got & wrong).sum()) < 0.05 * int(wrong.sum())


@pytest.mark.xfail(strict=True, reason="open (2026-12-08, lobe48): a remove click on a doubtful "
                   "white region on a bus's roof runs through a 4 px neck into the bus's white "
                   "band the model held as much in doubt (all 4 200 px). Sparing a lobe an "
                   "opening of max(2, R/3) parts from the click's own piece (doubt47's B) keeps "
                   "it, but on the click protocol it mends dev 036's first click and moves the "
                   "triangle-sign click earlier, where the bus's white band is the click's own "
                   "piece (036 lower at click 2, .8896 -> .8763; worse clicks 19 -> 20)")
def test_it_spares_a_lobe_of_the_object_a_doubtful_remove_click_reaches_through_a_neck():
    rgb, prior, body, band, wrong = lobe_scene()
    got = retouch(rgb, prior, [click_stroke((150, 40), False)]).alpha >= 128
    assert int((got & wrong).sum()) < 0.05 * int(wrong.sum())
    assert int((band & ~got).sum()) < 0.05 * int(band.sum())

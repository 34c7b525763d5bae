"""Painted remove strokes beside a part of another thing the model held (QA qa40b, dev 221 and
155, 2026-12-06).

W-B (open): the model held the dancer's hand and shoe at 1.0 and the seated bystander behind
them a shade lower; a remove stroke along her legs, not over the hand, took ~975 px of the
hand and shoe. No blob is marked (``retouch_cut._marked_blobs``) and no guard fires: the
stroke's hard core holds her skin-coloured knees, so the colour model calls the hand's skin
backdrop, and within the stroke's influence radius (twice its depth in the held bystander,
29 px on dev 221) the prior is discounted: the hand held 1.0 goes up to 21 px beyond the
brush. Strict xfails; a rule that kept a solid piece the cut severs from a solid part it
leaves cost dev 093 and 016 in the painted protocol (docs/review.md, 2026-12-06 bystander41).

W-A remainder (fixed in part): unmarked by the blob rule, a stroke on a graffiti held 1.0 took
the skater's torso held .67-.76 beyond its brush by the colours it covers. A part beyond the
brush with a body, held as object but a clear step (64/255) below the line's hold, now stays
(``retouch_cut._doubt_beyond``, ``Params.paint_beyond_held``)."""

import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.retouch_cut import DEFAULT, _doubt_beyond
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import beyond_take, box_mask, drawn_scene

H, W = 220, 320
SKIN = (225, 170, 140)


def scene(seed: int, legs_held: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A red body (the subject) with a skin-coloured forearm and hand hanging down in front of
    a seated bystander's green legs, her hands on her knees (skin) left of the hand, on a grey
    crowd. The cutout holds the subject at 255 and the bystander at ``legs_held``. Returns rgb,
    alpha, the hand (the subject's part below its body) and the bystander."""
    body = box_mask((H, W), 10, 120, 120, 260)
    hand = box_mask((H, W), 120, 190, 150, 166)
    bystander = box_mask((H, W), 140, 200, 60, 210)
    rgb, alpha = drawn_scene(
        np.random.default_rng(seed), (H, W), (95, 100, 110),
        [(bystander, (70, 120, 80)), (np.s_[140:175, 95:150], SKIN), (body, (200, 40, 45)),
         (hand, SKIN)],
        [(bystander, legs_held), (body | hand, 255)])
    return rgb, alpha, hand, bystander & ~(body | hand)


def stroke() -> Stroke:
    # r 10 along her knees, its brush ending 2 px left of the hand
    return Stroke("remove", 10.0, ((70.0, 165.0), (110.0, 165.0), (138.0, 165.0)))


def taken(seed: int, legs_held: int) -> tuple[int, int]:
    """Hand px and bystander px the stroke lowers below 128."""
    rgb, alpha, hand, bystander = scene(seed, legs_held)
    st = stroke()
    assert not (rasterise([st], (H, W)) > 0)[hand].any()  # the brush never covers the hand
    out = retouch(rgb, alpha, [st]).alpha < 128
    return int((hand & out).sum()), int((bystander & out).sum())


def test_it_takes_the_bystanders_legs_under_the_brush():
    # what the stroke is for: her legs go, at least where the brush lies
    assert taken(0, 200)[1] >= 0.9 * int(scene(0, 200)[3].sum())
    assert taken(0, 230)[1] >= 1_500


@pytest.mark.xfail(strict=True, reason="open (qa40b W-B): a remove stroke along a bystander "
                   "held a shade lower (or as solid) takes the subject's hand held 1.0 beside "
                   "its brush, by colour within the stroke's influence radius")
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("held", [200, 230, 255])
def test_it_leaves_the_hand_held_solid_beside_a_remove_stroke_along_the_legs(seed, held):
    lost, _ = taken(seed, held)
    assert lost <= 0.05 * 70 * 16  # 777-800 of its 1 120 px went (2026-12-06)


def held_piece(piece: float, line_held: float = 1.0) -> tuple[np.ndarray, ...]:
    """A take of 40 x 60 px: a brush over its left 20 columns with the centre line along row 20,
    held at ``line_held``, and beyond the brush a 16 x 24 px part held at ``piece``."""
    return beyond_take(piece, line_held, 54)


def test_it_spares_a_part_held_in_doubt_well_beyond_the_brush():
    gated, b, dist, line, held = held_piece(0.7)
    spared = _doubt_beyond(gated, b, dist, line, held, 3, DEFAULT)
    assert spared[12:28, 30:54].all()
    assert not (spared & ~((held > 0.6) & (held < 0.8))).any()


@pytest.mark.parametrize("piece, line_held", [(0.85, 1.0), (0.4, 1.0), (0.7, 0.75)])
def test_it_spares_nothing_held_a_shade_lower_nor_held_as_backdrop(piece, line_held):
    # a shade below the line's hold, below half (the model's backdrop), or a line itself
    # held in doubt: the cut decides as before
    gated, b, dist, line, held = held_piece(piece, line_held)
    assert not _doubt_beyond(gated, b, dist, line, held, 3, DEFAULT).any()


def test_it_spares_no_part_thinner_than_the_necks():
    gated, b, dist, line, held = held_piece(0.7)
    held[:, :] = np.where(gated, 1.0, 0.0)
    held[12:28, 30:34] = 0.7  # 4 px wide: no body at a neck radius of 3
    assert not _doubt_beyond(gated, b, dist, line, held, 3, DEFAULT).any()

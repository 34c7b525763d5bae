"""A painted keep stroke over a faint ghost (``Params.paint_depth``): how far its widened reach
lets the cut run beyond the brush. Scenes are built in memory."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics
from cutouts.imaging.retouch import DEFAULT, retouch
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import leg_past_board, pencil_scene


def ghost_pencil_scene():
    """``pencil_scene`` with the pencil's lead held as a faint ghost (alpha 70, 7 px wide), as
    soft-dev GT25's previous version held the pencil leaning out of the cup; the calculator
    behind it at 0. And a keep stroke of radius 16 along the pencil's free part, wider than the
    pencil (its hard core covers the calculator either side), 20-110 px from the cup."""
    rgb, prior, truth, calc, pencil = pencil_scene(0)
    ghost = np.zeros_like(prior)
    cv2.line(ghost, (300, 50), (200, 200), 255, 7)
    prior = np.where((ghost > 0) & (prior < 70), 70, prior).astype(np.uint8)
    stroke = Stroke("keep", 16.0, tuple((300.0 - 4 * i, 50.0 + 6 * i) for i in range(19)))
    return rgb, prior, truth, calc, pencil, stroke


def test_it_widens_a_keep_strokes_reach_over_a_ghost_and_the_cut_runs_on_into_the_calculator():
    # the mechanism of qa39b W1 (GT25 round 2, keep r 14.5 along the pencil: 14 058 keyboard px
    # beyond the brush, SAD 14.68 -> 26.40; without the widening 12.50, nothing beyond): the
    # ghost under the brush widens the prior's discount to twice the stroke's depth (106 px
    # there), and the calculator's colour, under the core's flanks, is object colour. Here
    # 12 072 of the calculator's 15 181 px beyond the brush, 4 704 at the unwidened reach
    # (with _spans_whole off: shape40's rule now keeps the stroke to its brush here)
    rgb, prior, _truth, calc, _pencil, stroke = ghost_pencil_scene()
    brush = rasterise([stroke], prior.shape) > 0
    off = replace(DEFAULT, span_tol=0.0)
    wide = retouch(rgb, prior, [stroke], params=off).alpha >= 128
    narrow = retouch(rgb, prior, [stroke], params=replace(off, paint_depth=False)).alpha >= 128
    assert (wide & calc & ~brush).sum() > 1.5 * (narrow & calc & ~brush).sum()


def test_it_keeps_a_keep_stroke_along_a_ghost_pencil_from_adding_the_calculator_beyond_it():
    # what qa39b W1 asks (a keep stroke must not bring back what the base holds clear far beyond
    # its brush): the brush spans the pencil whole (_spans_whole: the lead under its line, the
    # calculator under both flanks), so beyond the brush it adds only the pencil past its ends
    # (_span_limited; 12 072 calculator px beyond the brush before shape40, 656 now)
    rgb, prior, _truth, calc, pencil, stroke = ghost_pencil_scene()
    brush = rasterise([stroke], prior.shape) > 0
    got = retouch(rgb, prior, [stroke]).alpha >= 128
    assert (got & calc & ~brush).sum() < 0.05 * calc.sum()
    assert (got & pencil).sum() > 0.9 * pencil.sum()


@pytest.mark.xfail(strict=True, reason="open (2026-12-06, revive39; shape40): beyond the brush "
                   "the calculator is left out now, but the brush (2.7 x the pencil's width) adds "
                   "the calculator under its flanks (2 936 px); docs/review.md")
def test_it_keeps_a_keep_stroke_along_a_ghost_pencil_from_lowering_the_iou():
    rgb, prior, truth, _calc, _pencil, stroke = ghost_pencil_scene()
    got = retouch(rgb, prior, [stroke]).alpha >= 128
    assert metrics.iou(got.astype(np.uint8) * 255, truth) > metrics.iou(prior, truth)


def pale_leg_scene(seed=0):
    """dev photo 053 (qa40b W-C): a white body the cutout holds and its pale foreleg, which the
    cutout lost (its upper part held as a faint ghost at 45, its lower part at 18), running past
    a white sign board the model holds at 18 (0.07) on a dark green backdrop: the leg's pale grey
    is near the board's white, so no colour rule parts them. And a keep stroke of radius 6 down
    the leg, 10-70 px from the body (deeper in the lost region than its radius)."""
    rgb, body, leg, board = leg_past_board(seed, leg_width=22, board=(20, 150, 90, 165),
                                           leg_rgb=(214, 212, 208), board_rgb=(236, 236, 234),
                                           blur=2.0)
    prior = np.zeros(leg.shape, np.uint8)
    prior[board | leg] = 18
    prior[:130][leg[:130]] = 45
    prior[body] = 255
    truth = np.where(body | leg, 255, 0).astype(np.uint8)
    stroke = Stroke("keep", 6.0, tuple((186.0 - 52 * t, 90.0 + 112 * t)
                                       for t in np.linspace(0, 1, 20)))
    return rgb, prior, truth, board, stroke


@pytest.mark.parametrize("seed", [0, 1])
def test_it_widens_a_keep_stroke_down_a_ghost_leg_and_the_cut_raises_the_faint_board(seed):
    # the mechanism of qa40b W-C (dev 053): the ghost under the brush widens the stroke's reach
    # (paint_depth), and the board the model held at 0.07 goes solid: 9 187 of its 9 399 px,
    # none without the widening
    rgb, prior, _truth, board, stroke = pale_leg_scene(seed)
    brush = rasterise([stroke], prior.shape) > 0
    wide = retouch(rgb, prior, [stroke]).alpha >= 128
    narrow = retouch(rgb, prior, [stroke], params=replace(DEFAULT, paint_depth=False)).alpha >= 128
    assert (wide & board & ~brush).sum() > 0.9 * board.sum()
    assert (narrow & board & ~brush).sum() < 0.01 * board.sum()


@pytest.mark.xfail(strict=True, reason="measured, not adopted (2026-12-06, faint41; "
                   "docs/review.md): keeping what only the widening adds to the ghost blobs "
                   "the brush covers lowers 8 of the 24 painted-protocol photos it fires on")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_a_keep_stroke_down_a_ghost_leg_from_raising_the_faint_board_beside_it(seed):
    # what qa40b W-C asks: a keep stroke never raises faint backdrop far from its brush. Today
    # IoU .815 -> .677 (the whole board); without the widening .932
    rgb, prior, truth, board, stroke = pale_leg_scene(seed)
    brush = rasterise([stroke], prior.shape) > 0
    got = retouch(rgb, prior, [stroke]).alpha >= 128
    assert (got & board & ~brush).sum() < 0.05 * board.sum()
    assert metrics.iou(got.astype(np.uint8) * 255, truth) > metrics.iou(prior, truth)

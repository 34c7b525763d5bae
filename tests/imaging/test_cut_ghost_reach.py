"""A painted keep stroke over a faint ghost (``Params.paint_depth``): how far its widened reach
lets the cut run beyond the brush. Scenes are built in memory."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics
from cutouts.imaging.retouch import DEFAULT, retouch
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import pencil_scene


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

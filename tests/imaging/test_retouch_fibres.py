"""A painted keep stroke over fine soft structure (thin fibres with the backdrop between them)
should raise the fibres, not fill the gaps between them solid (docs/review.md, *A keep stroke
over fibres*, 2026-12-06: open, not adopted), while a keep stroke over a solid product still
fills it. Scenes are built in memory."""

import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 200, 240
BACKDROP = (228, 226, 218)
FIBRE = (110, 50, 80)
STROKE = Stroke("keep", 10.0, ((80.0, 60.0), (180.0, 140.0)))


def fibre_scene(seed=0, gap=6):
    """A plum body (x < 70) with thin fibres (about 1 px) running out of it over a pale
    backdrop, ``gap`` px apart; the cutout holds the body solid and the fibres at 40 % of
    their coverage, fading out with the distance from the body. Returns rgb, alpha, truth."""
    rng = np.random.default_rng(seed)
    cov = np.zeros((H * 4, W * 4), np.float32)
    for y in range(20, H - 20, gap):
        y0 = y + rng.uniform(-1, 1)
        y1 = y0 + rng.uniform(-12, 12)
        cv2.line(cov, (60 * 4, int(y0 * 4)), ((W - 30) * 4, int(y1 * 4)), 1.0, 4)
    truth = np.clip(cv2.resize(cov, (W, H), interpolation=cv2.INTER_AREA), 0, 1)
    truth[:, :70] = 1.0
    img = (truth[..., None] * np.float32(FIBRE) + (1 - truth[..., None]) * np.float32(BACKDROP)
           + rng.normal(0, 2, (H, W, 3)))
    rgb = np.clip(img, 0, 255).astype(np.uint8)
    fade = np.clip(1 - (np.arange(W) - 70) / 120.0, 0, 1)[None, :]
    held = np.where(np.arange(W)[None, :] < 70, 1.0, truth * 0.4 * fade)
    alpha = np.clip(held * 255 + 0.5, 0, 255).astype(np.uint8)
    gt = np.clip(truth * 255 + 0.5, 0, 255).astype(np.uint8)
    return rgb, alpha, gt


@pytest.mark.xfail(strict=True, reason=(
    "open (docs/review.md, A keep stroke over fibres, 2026-12-06): the keep's hard core is "
    "stamped 255, so the gaps between the fibres fill solid (seed 0: SAD 3.59 -> 4.11); a mix "
    "rule that fixed it here and on soft-dev GT11 also fired on 78 of dev's 249 painted keep "
    "strokes (031 IoU .779 -> .295)"))
@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_the_fibres_without_filling_the_gaps_between_them(seed):
    # QA (soft-dev GT11): the keep filled the gaps between the fibres solid, SAD 8.1 -> 14.8
    rgb, alpha, gt = fibre_scene(seed)
    out = retouch(rgb, alpha, [STROKE]).alpha
    brush = rasterise([STROKE], gt.shape) > 0
    gaps = brush & (gt == 0)
    fibres = brush & (gt >= 200)
    assert metrics.sad(out, gt) < metrics.sad(alpha, gt)
    assert np.percentile(out[gaps], 90) < 64
    assert (out[fibres] > alpha[fibres]).mean() > 0.8
    assert not (out < alpha).any()


def test_it_still_fills_a_lost_solid_part_under_a_keep_stroke():
    # a wide part of a solid product the cutout lost, pale as the backdrop: no fibres there,
    # so the keep makes it solid as before
    rgb = np.full((H, W, 3), BACKDROP, np.uint8)
    rgb[40:160, 40:200] = FIBRE
    rgb[80:120, 100:180] = (215, 212, 205)
    alpha = np.zeros((H, W), np.uint8)
    alpha[40:160, 40:200] = 255
    alpha[80:120, 100:180] = 0
    st = Stroke("keep", 10.0, ((110.0, 100.0), (170.0, 100.0)))
    out = retouch(rgb, alpha, [st]).alpha
    core = rasterise([Stroke("keep", 5.0, st.points)], alpha.shape) > 0
    assert (out[core] == 255).all()


def test_it_lets_a_solid_keep_stroke_across_a_thick_bar_fill_as_before():
    # a thick product bar the cutout missed beside a held body: wide, not fibres
    rgb = np.full((H, W, 3), BACKDROP, np.uint8)
    rgb[:, :70] = FIBRE
    rgb[90:110, 70:200] = FIBRE
    alpha = np.zeros((H, W), np.uint8)
    alpha[:, :70] = 255
    st = Stroke("keep", 12.0, ((80.0, 100.0), (190.0, 100.0)))
    out = retouch(rgb, alpha, [st]).alpha
    assert (out[92:108, 75:185] == 255).all()

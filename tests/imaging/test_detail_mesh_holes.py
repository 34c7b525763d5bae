"""The detail brush over a mesh whose holes the alpha so far holds see-through keeps them open
(QA D2, soft-dev GT25's wire cup, 2026-12-06), and a detail stroke with no backdrop anywhere
near it should leave a solid part as it is (QA D1, soft-dev GT03's forehead: open, strict
xfail). Scenes built in memory."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging import retouch_detail
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 200, 240
TOP, BAND, LEFT, RIGHT = 40, 64, 40, 200  # the cup's rim, its see-through band's end, its sides


def _cup(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pale wire grid (2 px wires, 10 px apart) from y = TOP down between LEFT and RIGHT on a
    dark backdrop. Down to y = BAND its holes show that backdrop (the cup's see-through top);
    below, the far wall and what stands in the cup, as dark as the backdrop, fill them (solid).
    Returns the photo, the truth (255 / 0) and the alpha so far: the truth, as after the holes
    were opened."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    img = np.empty((H, W, 3), np.float32)
    img[:] = (38, 36, 44)
    cup = (yy >= TOP) & (xx >= LEFT) & (xx < RIGHT)
    wire = cup & (((xx + yy) % 10 < 2) | ((xx - yy) % 10 < 2) | (yy < TOP + 4))
    inside = cup & (yy >= BAND)
    img[inside] = (52, 44, 40)  # the far wall seen through the holes: dark, solid
    img[wire] = (196, 198, 204)
    shot = cv2.GaussianBlur(img + rng.normal(0, 2, img.shape), (3, 3), 0)
    truth = np.where(wire | inside, 255, 0).astype(np.uint8)
    return np.clip(shot, 0, 255).astype(np.uint8), truth, truth.copy()


@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_a_meshs_see_through_holes_open_under_a_detail_stroke(seed: int) -> None:
    # an r 12 stroke along the see-through band: the matte's foreground is the mesh around the
    # brush, whose held-solid body shows the holes' dark colour, so it filled the holes
    # (the old code: 89 / 88 % of the holes under the brush at 128 or more, mean 179 / 179,
    # seeds 0 / 1; now 4 %, their blurred rims, mean 63)
    rgb, truth, alpha = _cup(seed)
    stroke = Stroke("detail", 12.0, tuple((float(x), (TOP + BAND) / 2) for x in range(60, 181, 8)))
    brush = rasterise([stroke], alpha.shape) > 0
    holes = brush & (truth == 0) & (np.arange(H)[:, None] >= TOP)
    assert holes.sum() > 600

    out = retouch(rgb, alpha, [stroke]).alpha

    assert float((out[holes] >= 128).mean()) < 0.1
    assert float(out[holes].mean()) < 80


def test_it_holds_only_holes_enclosed_and_no_wider_than_half_the_brush() -> None:
    # _keep_holes on one piece: a 4 px hole inside what the alpha so far holds solid may go
    # faint (LIFT_CLEAR), not fill; a gap open to the clear backdrop and a hole wider than half
    # the brush's radius are the solve's (a missed strand between two locks, a window the
    # model dropped)
    before = np.zeros((80, 120), np.uint8)
    before[10:70, 10:110] = 255
    before[30:34, 20:24] = 0  # a small enclosed hole
    before[40:70, 60:62] = 0  # a gap open to the backdrop below
    before[20:40, 80:100] = 0  # a hole 20 px across
    at = (0, 0)
    brush = np.zeros(before.shape, bool)
    cv2.line(brush.view(np.uint8), (15, 40), (105, 40), 1, thickness=25)
    write = brush.copy()
    old = before[write]
    new = np.full(old.shape, 240, np.uint8)

    got = np.zeros(before.shape, np.uint8)
    got[write] = retouch_detail._keep_holes(new, old, write, brush, before.copy(), before, at)

    assert (got[30:34, 20:24] == retouch_detail.LIFT_CLEAR).all()
    assert (got[40:53, 60:62] == 240).all()
    assert (got[28:40, 80:100] == 240).all()


@pytest.mark.xfail(strict=True, reason="open (2026-12-06): a detail stroke with no known "
                   "backdrop in its solve fades a solid part; keeping the alpha there measured, "
                   "not adopted (docs/review.md § Detail benchmark, *See-through holes and a "
                   "stroke with no backdrop*)")
def test_it_leaves_a_solid_part_alone_under_a_detail_stroke_with_no_backdrop_near() -> None:
    # QA D1 (soft-dev GT03): an r 38 stroke across the doll's forehead, the cutout solid 16+ px
    # all round it: the matte had no known backdrop and faded the skin and bangs to ~.77 (3,402
    # px under 222). A shaded part with two dark features here (the old code: 10 % of the
    # brush under 222, mean 241)
    rng = np.random.default_rng(0)
    img = np.empty((H, W, 3), np.float32)
    img[:] = (40, 60, 90)
    yy, xx = np.mgrid[:H, :W]
    part = (yy >= 20) & (yy < 180) & (xx >= 20) & (xx < 220)
    g = (yy - 20) / 160.0
    img[part] = np.stack([200 - 60 * g, 140 - 50 * g, 100 - 40 * g], -1)[part]
    for cx in (90, 150):
        img[part & ((yy - 100) ** 2 / 36 + (xx - cx) ** 2 / 400 < 1)] = (60, 50, 40)
    img = np.clip(cv2.GaussianBlur(img + rng.normal(0, 3, img.shape), (3, 3), 0), 0, 255)
    alpha = np.where(part, 255, 0).astype(np.uint8)
    stroke = Stroke("detail", 30.0, ((80.0, 100.0), (120.0, 100.0), (160.0, 100.0)))

    out = retouch(img.astype(np.uint8), alpha, [stroke]).alpha

    assert np.array_equal(out, alpha)

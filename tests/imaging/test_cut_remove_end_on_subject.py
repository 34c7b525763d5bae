"""A painted remove stroke whose end runs onto the subject's own colours (QA qa45s H2, dev 262,
2026-12-07, skirt45; docs/review.md, *A remove stroke whose end brushes the subject*).

A remove r 8 down a seated spectator the cutout held beside a dancer's back took 3 585 px, 2 300
beyond the brush (IoU .7038 -> .6424): its last segment runs over the dancer's pink fringe and
the dark edge of her skirt, which the model held solid, so the stroke's hard core samples those
colours as backdrop; the navy skirt beyond, which the model held in doubt (.57-1.0, median .79),
then goes by colour. The same stroke stopped above the fringe is better (.7233). Not a whole
piece (``_apart_piece`` and ``_unkept_piece`` read clicks only; ``_marked_blobs`` and ``_ghosts``
took nothing): the graph cut's own take, and no guard spares it (``_doubt_beyond`` reads 795
px, but none has a body at the neck radius of 7 px). Open: strict xfail; the drawn scene below
shows the same mechanism at a smaller scale (266 px of the skirt up to 10 px beyond the brush,
none from the stroke stopped above the fringe)."""

import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import box_mask, drawn_scene

H, W = 200, 220
NAVY = (30, 38, 78)
JEANS = (36, 42, 84)
PINK = (215, 140, 160)


def scene(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A dancer's navy skirt (held 160: the model's doubt over a sheer dress) whose left edge
    (8 px, held 255) carries a pink fringe (held 255); left of it a seated spectator in pink the
    cutout held (255) and, in the crowd round it, dark blue jeans of nearly the skirt's colour
    (held 0) on grey. Returns rgb, alpha, the skirt and the spectator."""
    skirt = box_mask((H, W), 40, 150, 90, 170)
    fringe = box_mask((H, W), 112, 140, 72, 92)
    spectator = box_mask((H, W), 25, 105, 62, 90)
    rgb, alpha = drawn_scene(
        np.random.default_rng(seed), (H, W), (70, 68, 66),
        [(spectator, PINK), (np.s_[25:50, 66:86], (200, 160, 130)),  # her head
         (np.s_[40:150, 30:62], JEANS), (np.s_[150:200, :], JEANS), (skirt, NAVY),
         (fringe, (225, 125, 170))],
        [(spectator, 255), (skirt, 160), (np.s_[100:150, 90:98], 255), (fringe, 255)])
    return rgb, alpha, skirt, spectator


def stroke(on_fringe: bool) -> Stroke:
    # r 8 down the spectator; on_fringe: its end runs on over the fringe onto the skirt's edge
    points = ((76.0, 30.0), (77.0, 65.0), (79.0, 100.0))
    if on_fringe:
        points += ((84.0, 130.0), (94.0, 148.0))
    return Stroke("remove", 8.0, points)


def taken(seed: int, on_fringe: bool) -> tuple[int, int]:
    """Skirt px the stroke lowers below 128 beyond its brush, spectator px under its brush."""
    rgb, alpha, skirt, spectator = scene(seed)
    st = stroke(on_fringe)
    brush = rasterise([st], (H, W)) > 0
    out = retouch(rgb, alpha, [st]).alpha < 128
    return int((skirt & out & ~brush).sum()), int((spectator & out & brush).sum())


@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_skirt_when_the_stroke_stops_above_the_fringe(seed):
    # the control (qa45s-262-remove-spectator-head): the spectator under the brush goes whole,
    # nothing of the skirt beyond it
    lost, cleared = taken(seed, on_fringe=False)
    assert lost == 0
    assert cleared >= 1_000  # of its 1 268 px under the brush


@pytest.mark.xfail(strict=True, reason="open (qa45s H2): a remove stroke whose end runs onto the "
                   "subject's solid fringe and edge samples their colours as backdrop, and the "
                   "cut takes the skirt the model held in doubt beyond the brush")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_skirt_when_the_stroke_ends_on_the_fringe(seed):
    lost, _ = taken(seed, on_fringe=True)
    assert lost <= 25  # 266 px went, up to 10 px beyond the brush (2026-12-07)

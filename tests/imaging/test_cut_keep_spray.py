"""A thin keep stroke along a faint thin part beside same-coloured spray (qa44s M2, dev 181: a
keep r 3 along a windsurf board the cut dropped into faint haze added a spike of the white spray
beside the board, 174 px up to 25 px beyond the brush). The cut's colour model reads the spray as
the board's colour and the discounted prior lets it in; no colour or hold rule parts the two
(docs/review.md § The retouch engine, 2026-12-07 spray45). Drawn scene in memory."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 140, 240
SEA, SEA2 = (40, 120, 130), (70, 150, 160)
SPRAY, BOARD, SKIN = (205, 215, 215), (180, 195, 195), (200, 150, 120)


def _line_y(x):
    """The board's centre line: rising to the right from the rider's feet."""
    return 92 - 0.2 * (x - 60)


def windsurf_scene(seed):
    """A rider's legs the cutout holds (1.0) on a mottled sea, a thin pale board (7 px) running
    right from the feet that the model held faintly (0.2 round it), and a soft blob of white spray
    rising off the board's upper side near its nose, held as faintly. Returns the photo, the
    model's alpha (uint8), the truth (legs and board) and the spray."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    m = cv2.GaussianBlur(rng.normal(0, 1, (H, W)).astype(np.float32), (0, 0), 3)
    m = np.clip(m / m.std() * 0.5 + 0.5, 0, 1)[..., None]
    rgb = m * np.float32(SEA) + (1 - m) * np.float32(SEA2)
    legs = (xx >= 60) & (xx < 80) & (yy >= 20) & (yy < 92)
    board = (np.abs(yy - _line_y(xx)) <= 3) & (xx >= 50) & (xx < 200)
    spray = (((xx - 160) / 14.0) ** 2 + ((yy - _line_y(160) + 10) / 12.0) ** 2 < 1) & ~board
    soft = cv2.GaussianBlur(spray.astype(np.float32), (0, 0), 2.5)[..., None]
    rgb = soft * np.float32(SPRAY) + (1 - soft) * rgb
    rgb[board] = BOARD
    rgb[legs] = SKIN
    rgb = np.clip(cv2.GaussianBlur(rgb, (0, 0), 0.8) + rng.normal(0, 3, rgb.shape), 0, 255)
    prior = np.full((H, W), 0.02, np.float32)
    prior[cv2.dilate(board.view(np.uint8), np.ones((5, 5), np.uint8)) > 0] = 0.2
    prior[spray] = 0.15
    prior[legs] = 1.0
    prior = cv2.GaussianBlur(prior, (0, 0), 1.0)
    return (rgb.astype(np.uint8), np.round(prior * 255).astype(np.uint8), legs | board, spray)


def board_stroke(x_end=196):
    """A keep stroke r 3 down the board's centre line, from just right of the feet."""
    return Stroke("keep", 3.0, tuple((float(x), _line_y(x)) for x in range(82, x_end, 4)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_brings_the_faint_board_back(seed):
    photo, prior, truth, _ = windsurf_scene(seed)
    out = retouch(photo, prior, [board_stroke()]).alpha >= 128
    xx = np.mgrid[:H, :W][1]
    board = truth & (prior < 128) & (xx >= 80)  # right of the feet, where the stroke runs
    assert (out & board).sum() >= 0.9 * board.sum()


@pytest.mark.parametrize("seed", [0, 1])
def test_it_brings_the_board_past_the_strokes_end_back(seed):
    # a stroke down the board's first half: the board goes on past its end
    photo, prior, truth, _ = windsurf_scene(seed)
    st = board_stroke(x_end=134)
    out = retouch(photo, prior, [st]).alpha >= 128
    yy, xx = np.mgrid[:H, :W]
    past = truth & ~(rasterise([st], (H, W)) > 0) & (xx > 140) & (yy > 60)
    assert (out & past).sum() >= 0.9 * past.sum()


@pytest.mark.xfail(
    strict=True,
    reason="open (qa44s M2): the spray is the board's colour and held as faintly; adding beyond "
    "a thin keep stroke's brush only within its radius sideways or along its ends fixes this "
    "scene (and 181: 174 -> 117 px) but lost the painted protocol (NoC@90 2.619 -> 2.655, 299 "
    "-.052) and three replay cases (docs/review.md § The retouch engine, 2026-12-07 spray45)",
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_adds_no_spray_far_beside_a_thin_keep_stroke(seed):
    photo, prior, _, spray = windsurf_scene(seed)
    st = board_stroke()
    out = retouch(photo, prior, [st]).alpha >= 128
    brush = rasterise([st], (H, W)) > 0
    dist = cv2.distanceTransform((~brush).view(np.uint8), cv2.DIST_L2, 5)
    # the board's own blurred rim lies within the brush's radius of it
    assert (out & spray & (dist > 2 * st.radius)).sum() <= 20

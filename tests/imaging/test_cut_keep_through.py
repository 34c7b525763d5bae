"""A thin painted keep stroke across a see-through part (QA38b W1, dev 009: a zigzag of radius
4.6 across a bicycle's missed, motion-blurred front wheel): beyond its brush it does not add
the backdrop seen through and round the part when the model held that backdrop clear and the
part faintly (``retouch_cut._through_beyond``). Tested on the flip it is handed, in window
coordinates, as ``_step`` hands it, and on a drawn blurred wheel through ``segment``."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch_cut import DEFAULT, _through_beyond, segment
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 160, 200
GRASS, SAND = (110, 150, 70), (205, 195, 160)
FRAME, TYRE = (225, 228, 232), (60, 60, 66)
CY, CX, AY, AX = 80, 70, 32, 27  # the wheel: centre and semi-axes
# a zigzag across the wheel, through its spokes (x, y), as QA painted it on 009
ZIGZAG = ((CX - 21.0, CY - 16.0), (CX + 21.0, CY - 10.0), (CX - 23.0, CY + 6.0),
          (CX + 22.0, CY + 14.0))


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.uint8), cv2.COLOR_RGB2LAB)


def _mottle(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    m = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 6)
    m = np.clip(m / m.std() * 0.8 + 0.5, 0, 1)[..., None]
    return m * np.float32(GRASS) + (1 - m) * np.float32(SAND)


def zigzag_window(seed=0, radius=4.6, missed_whole=False, tyre=TYRE):
    """A window round a bicycle's front wheel: a pale frame the cutout holds (right), a
    grass-and-sand backdrop, a thin dark tyre the model held faintly (0.3) and the cutout
    missed, the grass inside and left of it held clear (0.02). Returns the photo, the cutout
    (bool), the model's alpha (float), the zigzag's brush and hard core, the flip a cut hands
    the rule (the brush, the wheel and the grass in and beside it) and the grass beyond the
    brush."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    rgb = _mottle(rng, H, W)
    frame = np.zeros((H, W), bool)
    frame[20:150, 130:190] = True
    ring = np.zeros((H, W), np.uint8)
    cv2.ellipse(ring, (CX, CY), (AX, AY), 0, 0, 360, 255, 3)
    ring_b = ring > 0
    rgb[ring_b] = tyre
    rgb[frame] = FRAME
    rgb = np.clip(cv2.GaussianBlur(rgb, (0, 0), 1.0) + rng.normal(0, 2, rgb.shape), 0, 255)
    held = np.where(frame, 1.0, 0.02).astype(np.float32)
    if not missed_whole:
        held[cv2.dilate(ring, np.ones((5, 5), np.uint8)) > 0] = 0.3
    st = Stroke("keep", radius, ZIGZAG)
    brush = rasterise([st], (H, W)) > 0
    core = rasterise([replace(st, radius=max(1.0, radius / 2))], (H, W)) > 0
    # the cut's flip: the wheel and the grass inside and left of it, up to 12 px out
    wheel = ((yy - CY) / (AY + 12)) ** 2 + ((xx - CX) / (AX + 12)) ** 2 < 1
    flip = brush | (wheel & ~frame)
    grass = flip & ~brush & (cv2.dilate(ring, np.ones((5, 5), np.uint8)) == 0)
    return rgb, frame, held, brush, core, flip, grass


@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_backdrop_beyond_a_zigzag_across_a_faint_wheel_out(seed):
    rgb, cur, held, brush, core, flip, grass = zigzag_window(seed)
    got = _through_beyond(_lab(rgb), cur, flip, core, brush, held, 4.6, DEFAULT)
    assert got[grass].mean() > 0.9
    assert not (got & brush).any()  # what it paints stays the stroke's
    # the tyre beyond the brush, held faintly, stays
    ring = np.zeros((H, W), np.uint8)
    cv2.ellipse(ring, (CX, CY), (AX, AY), 0, 0, 360, 255, 3)
    assert not (got & (ring > 0)).any()


def test_it_leaves_a_part_the_model_missed_whole_to_the_cut():
    # held 0 beyond the brush everywhere (dev 031, 24077: a part the model dropped whole that
    # looks like the backdrop): the model tells nothing apart there
    rgb, cur, held, brush, core, flip, grass = zigzag_window(missed_whole=True)
    got = _through_beyond(_lab(rgb), cur, flip, core, brush, held, 4.6, DEFAULT)
    assert not got.any()


def test_it_leaves_a_wide_brush_alone():
    rgb, cur, held, brush, core, flip, grass = zigzag_window(radius=9.0)
    got = _through_beyond(_lab(rgb), cur, flip, core, brush, held, 9.0, DEFAULT)
    assert not got.any()


def test_it_leaves_a_stroke_over_the_parts_own_colours_alone():
    # a core over a part of its own colour, not the backdrop's, vouches for what continues it
    rgb, cur, held, brush, core, flip, grass = zigzag_window()
    rgb[brush] = TYRE
    got = _through_beyond(_lab(rgb), cur, flip, core, brush, held, 4.6, DEFAULT)
    assert not got.any()


def test_it_turns_off():
    rgb, cur, held, brush, core, flip, grass = zigzag_window()
    got = _through_beyond(_lab(rgb), cur, flip, core, brush, held, 4.6,
                          replace(DEFAULT, keep_through_held=0.0))
    assert not got.any()


def blurred_wheel_scene(seed=0):
    """A 200 x 260 photo: a pale rider the model holds (right), a bicycle's front wheel (a 2 px
    dark tyre, eight spokes, a hub, a fork up to the rider) smeared 21 px along x by its
    motion over a grass-and-sand backdrop. The model held the smear faintly (0.35 of its
    cover), the grass inside the wheel at 0.06 and the rest clear. Returns the photo, the
    model's alpha (float) and the truth (bool)."""
    rng = np.random.default_rng(seed)
    h, w, cx, cy = 200, 260, 100, 110
    rgb = _mottle(rng, h, w)
    rider = np.zeros((h, w), np.uint8)
    cv2.rectangle(rider, (170, 10), (215, 190), 255, -1)
    wheel = np.zeros((h, w), np.uint8)
    cv2.ellipse(wheel, (cx, cy), (AX, AY), 0, 0, 360, 255, 2)
    for a in np.linspace(0, np.pi, 9)[:-1]:
        dx, dy = AX * np.cos(a), AY * np.sin(a)
        cv2.line(wheel, (int(cx - dx), int(cy - dy)), (int(cx + dx), int(cy + dy)), 255, 1)
    cv2.circle(wheel, (cx, cy), 4, 255, -1)
    cv2.line(wheel, (cx, cy), (172, 40), 255, 4)  # the fork
    part = wheel > 0
    cover = cv2.blur(part.astype(np.float32), (21, 1))[..., None]
    smear = cv2.blur(np.where(part[..., None], np.float32(TYRE), 0).astype(np.float32), (21, 1))
    rgb = cover * np.where(cover > 0, smear / np.maximum(cover, 1e-6), 0) + (1 - cover) * rgb
    rgb[rider > 0] = FRAME
    rgb = np.clip(cv2.GaussianBlur(rgb, (0, 0), 1.0) + rng.normal(0, 2, rgb.shape), 0, 255)
    yy, xx = np.mgrid[:h, :w]
    inside = ((yy - cy) / AY) ** 2 + ((xx - cx) / AX) ** 2 < 1.1
    prior = np.maximum(np.where(rider > 0, 1.0, 0.0), 0.35 * cover[..., 0]).astype(np.float32)
    prior[inside & (prior < 0.06)] = 0.06
    prior = cv2.GaussianBlur(prior, (0, 0), 1.0)
    return rgb.astype(np.uint8), prior, (rider > 0) | part


@pytest.mark.parametrize("seed", [0, 1])
def test_it_adds_less_grass_beyond_a_zigzag_across_a_blurred_wheel(seed):
    rgb, prior, truth = blurred_wheel_scene(seed)
    zig = Stroke("keep", 4.6, tuple((x + 30.0, y + 30.0) for x, y in ZIGZAG))
    brush = rasterise([zig], truth.shape) > 0

    def grass_beyond(params):
        got = segment(rgb, prior, [zig], params)
        return int((got & ~(prior >= 0.5) & ~truth & ~brush).sum())

    off = grass_beyond(replace(DEFAULT, keep_through_share=0.0))
    assert grass_beyond(DEFAULT) < 0.8 * off


@pytest.mark.xfail(strict=True, reason="open: what the zigzag's brush itself covers of the "
                   "grass, and the faint smear round the tyre the model held at 0.1+, still go "
                   "(dev 009: IoU .7086 -> .7011 with the rule, .6489 without)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_never_lowers_iou_with_a_zigzag_across_a_blurred_wheel(seed):
    rgb, prior, truth = blurred_wheel_scene(seed)
    zig = Stroke("keep", 4.6, tuple((x + 30.0, y + 30.0) for x, y in ZIGZAG))
    got = segment(rgb, prior, [zig])

    def iou(m):
        return (m & truth).sum() / (m | truth).sum()

    assert iou(got) >= iou(prior >= 0.5)

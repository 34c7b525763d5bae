"""A detail stroke over a spoked wheel the cut filled solid (qa45s, dev 132 / 129 / 309: the dirt
or sky seen between a wheel's spokes held solid with the wheel). The brush lies wholly inside
what the cutout holds solid, so the solve's known foreground surrounds it and holds the
backdrop's colour too (the filled gaps outside the brush): the matte keeps everything and the
stroke changes nothing. Drawn scene in memory (docs/review.md § Detail benchmark, *Backdrop
filled between spokes*, 2026-12-07 detail45)."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 160, 160
DIRT, DIRT2 = (120, 90, 60), (140, 105, 70)
RIM, SPOKE, HUB = (215, 215, 220), (200, 200, 205), (170, 170, 180)
CY, CX, R_OUT, R_IN, R_HUB = 80, 80, 60, 52, 12


def wheel_scene(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A wheel on mottled dirt: a pale rim (8 px), a hub and 12 thin pale spokes (2 px), the
    dirt seen between the spokes. The model's alpha holds the whole disc solid (the gaps
    filled), clear outside. Returns the photo, the model's alpha (uint8) and the truth (rim,
    hub, spokes)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    m = cv2.GaussianBlur(rng.normal(0, 1, (H, W)).astype(np.float32), (0, 0), 3)
    m = np.clip(m / m.std() * 0.5 + 0.5, 0, 1)[..., None]
    rgb = m * np.float32(DIRT) + (1 - m) * np.float32(DIRT2)
    r = np.hypot(yy - CY, xx - CX)
    rim = (r <= R_OUT) & (r > R_IN)
    hub = r <= R_HUB
    spokes = np.zeros((H, W), bool)
    for k in range(12):
        a = k * np.pi / 6
        # distance from the spoke's line through the centre
        d = np.abs(-(yy - CY) * np.cos(a) + (xx - CX) * np.sin(a))
        along = (yy - CY) * np.sin(a) + (xx - CX) * np.cos(a)
        spokes |= (d <= 1.0) & (along > 0) & (r <= R_IN)
    rgb[spokes] = SPOKE
    rgb[rim] = RIM
    rgb[hub] = HUB
    rgb = np.clip(cv2.GaussianBlur(rgb, (0, 0), 0.7) + rng.normal(0, 3, rgb.shape), 0, 255)
    disc = (r <= R_OUT).astype(np.float32)
    prior = cv2.GaussianBlur(disc, (0, 0), 1.0)
    return rgb.astype(np.uint8), np.round(prior * 255).astype(np.uint8), rim | hub | spokes


def gap_stroke() -> Stroke:
    """A detail stroke r 7 along an arc half way between the hub and the rim, over spokes and
    the dirt between them."""
    rad = (R_HUB + R_IN) / 2
    pts = tuple((float(CX + rad * np.cos(a)), float(CY + rad * np.sin(a)))
                for a in np.linspace(0.2, 1.4, 7))
    return Stroke("detail", 7.0, pts)


@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_the_rim_and_hub_under_a_detail_stroke_inside_the_wheel(seed: int) -> None:
    photo, prior, truth = wheel_scene(seed)
    out = retouch(photo, prior, [gap_stroke()]).alpha
    yy, xx = np.mgrid[:H, :W]
    r = np.hypot(yy - CY, xx - CX)
    solid = ((r <= R_OUT - 3) & (r > R_IN + 2)) | (r <= R_HUB - 2)
    assert out[solid].min() >= 250


@pytest.mark.xfail(
    strict=True,
    reason="open (qa45s 132 / 129 / 309): the brush lies wholly inside the solid the cut holds, "
    "the filled gaps around it are known foreground and hold the dirt's colour, so the matte "
    "keeps them; a second solve with the enclosed backdrop-coloured held pixels known background "
    "clears this scene and the three cases, but lost the solid-edge protocol (dSAD sum 18.989 -> "
    "19.221; docs/review.md § Detail benchmark, *Backdrop filled between spokes*, 2026-12-07 "
    "detail45)",
)
@pytest.mark.parametrize("seed", [0, 1])
def test_it_clears_the_dirt_between_spokes_under_a_detail_stroke(seed: int) -> None:
    photo, prior, truth = wheel_scene(seed)
    st = gap_stroke()
    out = retouch(photo, prior, [st]).alpha
    brush = rasterise([st], (H, W)) > 0
    inner = cv2.erode(brush.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    gaps = inner & ~cv2.dilate(truth.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert (out[gaps] < 128).mean() >= 0.8

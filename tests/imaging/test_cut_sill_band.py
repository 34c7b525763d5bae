"""A painted remove stroke along the shadow under a car's sills, across a tyre's foot (qa46a H1,
dev 247, 2026-12-07, hold46).

The stroke (r 6) runs along a shadow the model held .44-1.0 (median .88) and crosses the rear
tyre's foot (held 1.0); its centre line runs 92 of its 130 px inside the cutout. It took the
whole rear wheel and the lower door band the model held in doubt (.5-.75), 1 170 px beyond the
brush, up to 16 px. The core's colours cover the band's (all of the take beyond the brush lies
within 10 Lab of a core colour), the centre line runs inside the cutout (``_object_like_beyond``
and ``_firm_beyond`` read nothing there by design) and the band is held below solid.

Open (strict xfail): in this drawn scene the band held 190 below a shadow held 225 is taken
whole beyond the brush, and the wheel's top with it; held 255 it stays (the control). Measured,
not adopted: ``_doubt_beyond`` at the line's median hold instead of its lower quartile spared 571
px of 247's band (1 170 -> 599 px beyond) but cost the painted protocol's dev 093 (stroke 1
IoU .7611 -> .7452): the parts it spared there, held .51-.71, were the wrong region's own
(docs/review.md, 2026-12-07 hold46)."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 140, 240
ROAD = (205, 205, 200)


def scene(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A pale car body over a lower door band of the road's pale grey, a dark shadow under the
    sill and a dark wheel (a silver hub) whose foot stands in the shadow, on a pale road. The
    cutout holds the body and wheel at 255, the band at 190 and the shadow at 225 (as dev 247's
    model did: the shadow a shade above the band), softened by a 3 px blur. Returns rgb, alpha,
    the band and the wheel."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = ROAD
    body = np.zeros((H, W), bool)
    body[20:70, 30:210] = True
    band = np.zeros((H, W), bool)
    band[70:88, 30:210] = True
    shadow = np.zeros((H, W), bool)
    shadow[88:100, 40:200] = True
    yy, xx = np.ogrid[:H, :W]
    wheel = (yy - 82) ** 2 + (xx - 150) ** 2 <= 18 ** 2
    rgb[body] = (235, 235, 235)
    rgb[band] = (190, 190, 188)
    rgb[shadow] = (55, 55, 60)
    rgb[wheel] = (40, 40, 42)
    rgb[(yy - 82) ** 2 + (xx - 150) ** 2 <= 9 ** 2] = (170, 170, 175)
    rgb = np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)
    alpha = np.zeros((H, W), np.uint8)
    alpha[shadow] = 225
    alpha[body] = 255
    alpha[band] = 190
    alpha[wheel] = 255
    alpha = cv2.GaussianBlur(alpha, (3, 3), 0)
    return rgb, alpha, band & ~wheel, wheel


def stroke() -> Stroke:
    # r 6 along the shadow, its middle point on the wheel's foot (dev 247's stroke)
    return Stroke("remove", 6.0, ((60.0, 95.0), (150.0, 97.0), (190.0, 96.0)))


def taken_beyond(seed: int) -> tuple[int, int]:
    """Band and wheel px more than 2 px beyond the brush the stroke lowers below 128."""
    rgb, alpha, band, wheel = scene(seed)
    st = stroke()
    brush = rasterise([st], (H, W)) > 0
    far = cv2.distanceTransform((~brush).astype(np.uint8), cv2.DIST_L2, 5) > 2
    out = retouch(rgb, alpha, [st]).alpha
    return int((band & far & (out < 128)).sum()), int((wheel & far & (out < 128)).sum())


def test_it_leaves_a_solid_band_beyond_a_stroke_along_the_shadow():
    # the control: the band held 255 stays (what the model held solid is not in doubt)
    rgb, alpha, band, _ = scene(0)
    alpha[band] = 255
    st = stroke()
    brush = rasterise([st], (H, W)) > 0
    far = cv2.distanceTransform((~brush).astype(np.uint8), cv2.DIST_L2, 5) > 2
    out = retouch(rgb, alpha, [st]).alpha
    assert not (band & far & (out < 128)).any()


@pytest.mark.xfail(strict=True, reason="open (qa46a H1, dev 247): a remove stroke along a "
                   "shadow the model held a shade above the door band over it takes the band "
                   "whole beyond its brush (the core's colours are the band's, the line runs "
                   "inside the cutout, the band is held below solid)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_door_band_held_in_doubt_beyond_a_stroke_along_the_shadow(seed):
    band, wheel = taken_beyond(seed)
    assert band <= 50  # 2 637 of 2 637 went (2026-12-07), and 121-140 px of the wheel's top
    assert wheel <= 20

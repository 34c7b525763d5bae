"""A painted remove stroke along the shadow under a car's sills, across a tyre's foot (qa46a H1,
dev 247, 2026-12-07, hold46; mended 2026-12-08, sill48).

The stroke (r 6) runs along a shadow the model held .44-1.0 (median .88) and crosses the rear
tyre's foot (held 1.0); its centre line runs 92 of its 130 px inside the cutout. It took the
whole rear wheel and the lower door band the model held in doubt (.5-.75), 1 170 px beyond the
brush, up to 16 px. The core's colours cover the band's (all of the take beyond the brush lies
within 10 Lab of a core colour), the centre line runs inside the cutout (``_object_like_beyond``
and ``_firm_beyond`` read nothing there by design) and the band is held below solid.

Now a thin brush (radius at most ``Params.paint_beyond_sill_radius``) whose line runs mostly
inside the cutout, at most a quarter of it over the clear backdrop, and whose brush reaches
that backdrop past the cutout's edge leaves, beyond the brush, what the model held as object
(``Params.paint_beyond_sill``, .5) in a held body behind the stroke (``_firm_beyond`` ->
``_firm_rim``): dev 247 1 170 -> 309 px worse beyond (the rest is the wheel's foot beside the
clear road, the cut's to decide); in this scene the band behind the stroke stays (1 755 -> 57
px taken) but its ends round the stroke's ends, beside the clear road, still go. Measured
before and not adopted: ``_doubt_beyond`` at the line's median hold spared 571 px of 247's band
but cost the painted protocol's dev 093 (its strokes' brushes fit inside their wrong region, so
the rule here never reads them: painted identical) (docs/review.md, 2026-12-07 hold46 and
2026-12-08 sill48)."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.retouch_cut import DEFAULT, Params
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 140, 240
ROAD = (205, 205, 200)
OFF = replace(DEFAULT, paint_beyond_sill=0)


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


def taken_beyond(seed: int, params: Params = DEFAULT, st: Stroke | None = None
                 ) -> tuple[int, int]:
    """Band px behind the stroke (the columns its centre line spans) and wheel px, more than
    2 px beyond the brush, the stroke lowers below 128."""
    rgb, alpha, band, wheel = scene(seed)
    band[:, :60] = False
    band[:, 191:] = False
    st = st or stroke()
    brush = rasterise([st], (H, W)) > 0
    far = cv2.distanceTransform((~brush).astype(np.uint8), cv2.DIST_L2, 5) > 2
    out = retouch(rgb, alpha, [st], params=params).alpha
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


@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_door_band_held_in_doubt_beyond_a_stroke_along_the_shadow(seed):
    # the band's ends, round the stroke's ends beside the clear road, are still the cut's to
    # decide (744 px: the memorial's open part, test_cut_firm_beyond's strict xfail)
    band, wheel = taken_beyond(seed)
    assert band <= 100  # 57 of 1 755 (the whole band, 2 637 of 2 637, went on 2026-12-07)
    assert wheel <= 20  # and 121-140 px of the wheel's top


@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_the_door_band_without_the_sill_guard(seed):
    # the rule is what leaves it: off, the stroke takes the band whole again
    band, _ = taken_beyond(seed, OFF)
    assert band > 1500


def test_it_leaves_the_band_to_the_cut_beyond_a_wide_brush():
    # a wide brush (r 12 > paint_beyond_sill_radius) paints a wide wrong region: the rule
    # reads nothing (dev 047's fountain, r 25), as with the guard off
    wide = Stroke("remove", 12.0, ((60.0, 100.0), (150.0, 102.0), (190.0, 101.0)))
    assert taken_beyond(0, st=wide) == taken_beyond(0, OFF, st=wide)

"""A Detail stroke along a solid rim must keep the rim solid, and the same brush over hair the
cutout filled solid must still thin it (QA qa43s H2, dev 214: Detail round a bicycle rim, IoU
.7396 -> .7074; docs/review.md, *A Detail stroke along a solid rim*, 2026-12-07, rim44).

Why the rim fades: the solve's known foreground beside the rim is whatever the cutout holds
solid there. Round a wheel the model filled, that is the backdrop seen through the wheel, so
the matte has no colour of the rim on either side and reads the rim as a mix. The crisp-edge
rule (``retouch_detail._crisp_edge``) that would hold the rim known does not fire: it averages
the held side over every held pixel within 3 px (the rim mixed with the filled backdrop) and
asks each side to be flat in every colour direction (a textured backdrop is not). Open (a
strict xfail): judging the sides on a 1-4 px strip beside the cutout's edge and their
flatness only along the step's axis takes 214's case to .7250 instead of .7074, but the same
relaxation also fires at hair the model filled solid and costs soft-dev's detail protocol
(GT03, GT07, GT09, GT15), and it does not pass the drawn wheel below either; it is not in the
repository. Scenes built in memory."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import arc_stroke, strand_clump_scene

H, W = 240, 320
CY, CX, R = 130, 160, 90  # the wheel: centre (y, x) and the rim's outer radius
RING = 8  # the rim's width (px)


def _filled_wheel(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A wheel's rim (8 px, dark red at its outer edge to a pale pink highlight inside) on a
    dark, strongly mottled backdrop, a paler blue-grey backdrop seen through the wheel, the
    photo blurred 1.5 px; the cutout as u2netp leaves such a wheel: the whole disc solid, the
    rim's outer edge crisp and right. Returns the photo, the cutout, the rim's mask and each
    pixel's distance from the centre."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    r = np.hypot(yy - CY, xx - CX)
    back = np.empty((H, W, 3), np.float32)
    back[:] = (75, 70, 62)
    back[r < R - RING] = (120, 125, 140)
    back += cv2.GaussianBlur(rng.normal(0, 1, (H, W, 3)).astype(np.float32), (0, 0), 3.0) * 25
    rim = (r < R) & (r >= R - RING)
    t = np.clip((R - r) / RING, 0, 1)[..., None]  # 0 at the outer edge, 1 at the inner
    colour = (1 - t) * np.float32((110, 40, 38)) + t * np.float32((190, 120, 115))
    img = cv2.GaussianBlur(np.where(rim[..., None], colour, back), (0, 0), 1.5)
    img = img + rng.normal(0, 2, img.shape)
    cut = np.where(r < R, 255, 0).astype(np.uint8)
    return np.clip(img, 0, 255).astype(np.uint8), cut, rim, r


@pytest.mark.xfail(strict=True, reason="open (2026-12-07, rim44): a Detail stroke along a rim "
                   "whose inside the cutout filled with the backdrop fades the rim: the solve's "
                   "known foreground there is backdrop-coloured (docs/review.md, A Detail stroke "
                   "along a solid rim)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_a_solid_rim_under_a_detail_stroke_along_it(seed: int) -> None:
    # an r 10 stroke along the rim's middle, as QA drew it round dev 214's wheels
    rgb, cut, rim, r = _filled_wheel(seed)
    stroke = arc_stroke(10.0, (CY, CX), R - RING // 2, np.linspace(-2.6, -0.5, 12))
    under = rasterise([stroke], cut.shape) > 0
    core = under & rim & (r < R - 1.5) & (r > R - RING + 1.5)  # the blurred sides left out

    out = retouch(rgb, cut, [stroke]).alpha

    # the old code takes the rim's inner half down to 111 / 118 (seeds 0 / 1), 16 / 12 of its
    # 998 core px under 128, mean 222
    assert core.sum() > 900
    assert int(out[core].min()) >= 200
    assert float(out[core].mean()) >= 250


@pytest.mark.parametrize("seed", [0, 1])
def test_it_still_thins_hair_the_cutout_filled_solid_under_a_detail_stroke(seed: int) -> None:
    # the guard any fix for the rim must keep: dark strands on a light sky, the cutout filled
    # solid past them with a crisp edge (as u2netp fills hair), an r 14 stroke over the strands
    rgb, a, held = strand_clump_scene(seed, (200, 160), solid_to=60, strands=range(60, 84, 4),
                                      jitter=3, strength=0.9, held_to=86)
    stroke = Stroke("detail", 14.0, tuple((74.0, float(y)) for y in range(20, 181, 8)))
    band = rasterise([stroke], held.shape) > 0

    out = retouch(rgb, held, [stroke]).alpha

    # the gaps between the strands come down to 55 / 50 on average (seeds 0 / 1), the error
    # under the brush to .23 / .21 of the cutout's
    gaps = band & (a < 0.05) & (held >= 250)
    assert gaps.sum() > 2000
    assert out[gaps].mean() < 0.4 * 255
    assert np.abs(out / 255.0 - a)[band].sum() < 0.4 * np.abs(held / 255.0 - a)[band].sum()

"""A detail stroke along a solid edge the cutout already has right must leave it as it was
(W1, docs/review.md, Solid edges under the detail brush: which cue is left, 2026-12-06). The
dev set's solid-edge strokes raise SAD mostly a few px *inside* the product, where a part of it
has the backdrop's colour (a white car's windscreen against a pale sky, a silver car's flank
against a bright backdrop): the matte reads it as backdrop and fades it. Open (a strict xfail):
holding the alpha so far wherever the cutout's own edge is crisp passes this scene and halves
the protocol's harm, but costs soft-dev's fur, whose cutout edge is as crisp. Scene built in
memory."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 240, 320
CY, CX, R = 200, 160, 120
RIM = 2  # px of the product's own colour between its outline and the window


def _windowed_disk(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A dark-red disk on a pale, softly mottled backdrop, with a window of the backdrop's own
    grey RIM px inside its top outline; the cutout is the disk, crisp and right. Returns the
    photo, the cutout, and the window's mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    r = np.hypot(yy - CY, xx - CX)
    body = r < R
    sky = np.empty((H, W, 3), np.float32)
    sky[:] = (205, 210, 215)
    sky += cv2.GaussianBlur(rng.normal(0, 1, (H, W, 3)).astype(np.float32), (0, 0), 4) * 12
    prod = np.empty((H, W, 3), np.float32)
    prod[:] = (150, 30, 35)
    ang = np.arctan2(yy - CY, xx - CX)
    window = (r < R - RIM) & (r > R - 40) & (np.abs(ang + np.pi / 2) < 0.6)
    prod[window] = (200, 206, 212)
    photo = cv2.GaussianBlur(np.where(body[..., None], prod, sky), (3, 3), 0)
    photo = photo + rng.normal(0, 2, photo.shape)
    cut = np.where(body, 255, 0).astype(np.uint8)
    return np.clip(photo, 0, 255).astype(np.uint8), cut, window


@pytest.mark.xfail(strict=True, reason="open (2026-12-06): a detail stroke along a crisp, right "
                   "edge fades a part of the product that has the backdrop's colour (docs/"
                   "review.md, Solid edges under the detail brush: which cue is left)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_a_right_solid_edge_with_a_backdrop_coloured_window_under_a_detail_stroke(
        seed: int) -> None:
    # an r 16 stroke along the disk's top, as the solid-edge protocol draws them
    rgb, cut, window = _windowed_disk(seed)
    ang = np.linspace(-2.2, -0.9, 9)
    stroke = Stroke("detail", 16.0, tuple((float(CX + R * np.cos(a)), float(CY + R * np.sin(a)))
                                          for a in ang))
    under = rasterise([stroke], cut.shape) > 0
    r = np.hypot(*(np.mgrid[:H, :W] - np.array([CY, CX])[:, None, None]))
    inside = under & (r < R - 1.5)  # the photo's blurred edge (1.5 px, a mix) left out
    outside = under & (r > R + 1.5)
    sides = inside | outside

    out = retouch(rgb, cut, [stroke]).alpha

    # the old code fades the window (to 142-163 at worst) and errs 28 917 / 23 882 (/255) on
    # both sides (seeds 0 / 1); holding the alpha so far where the cutout's edge is crisp left
    # 356 / 412 and nothing inside under 239
    assert (inside & window).sum() > 500 and outside.sum() > 1000
    assert int(np.abs(out[sides].astype(int) - cut[sides]).sum()) <= 2048
    assert int(out[inside].min()) >= 200
    assert float(np.percentile(out[inside], 2)) >= 250

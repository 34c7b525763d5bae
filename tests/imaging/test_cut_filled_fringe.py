"""A fringe of strands the model fills solid should come out fractional in `default` (issue 12,
soft-dev: 40-85 % of the hair photos' fractional-truth band pixels end at alpha > 0.99, the
coarse mask covers the fringe and the edge shaping makes it opaque). Open: the unknown band
tried for it on 2026-12-06 (opened where the photo's colours near the outline are mixes of the
local object and backdrop colours) opens on 82 of 84 dev photos and costs dev halo and deficit
at the rate every earlier band did (docs/engine.md, colour-mixing band). Built in memory."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.pipeline import run_pipeline
from cutouts.imaging.settings import profile

from .scenes import strand_clump_scene


class FillingSegmenter:
    """Sees the dark hair and fills its fringe of strands solid, as u2netp does on hair: the
    same answer for the photo and its mirror image, so the passes agree over the fringe."""

    input_size = 320

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        dark = (rgb.astype(np.float32).mean(axis=-1) < 170).astype(np.uint8)
        held = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, np.ones((1, 9), np.uint8))
        return cv2.GaussianBlur(held.astype(np.float32), (0, 0), 1.0)


@pytest.mark.xfail(strict=True, reason="open (2026-12-06): a filled fringe the passes agree on "
                   "is shaped opaque; the colour-mixing band measured for it regressed dev halo "
                   "and deficit (docs/engine.md, colour-mixing band)")
def test_it_keeps_a_filled_fringe_of_strands_fractional():
    rgb, truth, _ = strand_clump_scene(0, (480, 720), solid_to=300, strands=range(302, 340, 3),
                                       jitter=4, strength=0.6, held_to=340)
    a = run_pipeline(rgb, profile("default"), FillingSegmenter()).alpha.astype(np.float32) / 255
    fringe = (truth > 0.02) & (truth < 0.95)
    zone = np.zeros(truth.shape, bool)
    zone[:, 300:345] = True
    assert np.count_nonzero(fringe) > 3000
    # the solid hair and the clear sky are right today
    assert a[:, :280].min() > 0.95 and a[:, 360:].max() < 0.05
    # open: most of the fringe is pushed opaque (0.72 today) and alpha in it sits 0.64 from
    # the truth on average
    assert (a[fringe] > 0.99).mean() < 0.3
    assert np.abs(a[zone] - truth[zone]).mean() < 0.3

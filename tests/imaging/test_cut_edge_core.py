"""An edge click's hard core is no wider than the sliver it may flip (`_stroke_core`): a wide
brush's core (radius 1.2 at brush 12, 1.7 at 17) one px from the edge took or added the right
pixels beside a one-px sliver of error (docs/review.md § Click benchmark, 2026-12-05)."""

import numpy as np
import pytest

from cutouts.imaging import metrics
from cutouts.imaging.clicks import next_click
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke

from .scenes import photographed

BROWN = (120, 85, 55)


def sliver_scene(seed: int, kind: str):
    """A brown box on a pale backdrop and a cutout wrong along one px of its right side over
    70 rows: a column of the box it lost (keep) or of the backdrop it holds (remove)."""
    h, w = 240, 320
    rng = np.random.default_rng(seed)
    rgb = np.full((h, w, 3), (205, 210, 220), np.float32)
    truth = np.zeros((h, w), np.uint8)
    truth[40:200, 60:200] = 255
    rgb[truth > 0] = BROWN
    rgb = photographed(rgb, rng)
    prior = truth.copy()
    if kind == "keep":
        prior[85:155, 199] = 0
    else:
        prior[85:155, 200] = 255
    return rgb, prior, truth


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("radius", [12.0, 17.0])
@pytest.mark.parametrize("kind", ["keep", "remove"])
def test_it_changes_nothing_the_wrong_way_beside_a_one_px_sliver_with_a_wide_click(
    seed, radius, kind
):
    rgb, prior, truth = sliver_scene(seed, kind)
    click = next_click(prior >= 128, truth)
    assert click is not None and click[1] == (kind == "keep")
    (x, y), _ = click
    res = retouch(rgb, prior, [Stroke(kind, radius, ((float(x), float(y)),))])
    got, had, obj = res.alpha >= 128, prior >= 128, truth >= 128
    # the click's own pixel is fixed, and nothing it should not reach moves the wrong way:
    # no pixel of the box is taken by the remove click, no backdrop added by the keep click
    assert got[y, x] == obj[y, x]
    wrong = (had & obj & ~got) if kind == "remove" else (~had & ~obj & got)
    assert wrong.sum() == 0
    assert metrics.iou(res.alpha, truth) > metrics.iou(prior, truth)

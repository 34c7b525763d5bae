"""A stroke never makes a cutout worse against its own kind: after a remove step no pixel's
alpha is higher than before it, after a keep step none is lower (docs/review.md, § The retouch
engine). Scenes are built in memory; the reduced working grid (``work_max``) is where the
full-size compose upsamples the cut's edge."""

import numpy as np
import pytest

from cutouts.imaging.clicks import click_stroke, next_click, next_paint
from cutouts.imaging.retouch import retouch

from .scenes import banana_scene, handle_scene, wrong_blob_scene


def _steps(rgb, prior, truth, painted, work_max, n=6):
    """(kind, alpha before, alpha after) for each simulated step."""
    strokes, before, pred = [], prior, prior >= 128
    for _ in range(n):
        if painted:
            st = next_paint(pred, truth)
        else:
            click = next_click(pred, truth)
            st = None if click is None else click_stroke(*click)
        if st is None:
            break
        strokes.append(st)
        after = retouch(rgb, prior, strokes, work_max=work_max).alpha
        yield st.kind, before, after
        before, pred = after, after >= 128


def _scenes():
    rgb, prior, truth = handle_scene()[:3]
    yield "handle", rgb, prior, truth
    rgb, prior, truth, _ = banana_scene()
    yield "banana", rgb, prior, truth
    rgb, prior, obj, _, _ = wrong_blob_scene()
    yield "wrong blobs", rgb, prior, obj


@pytest.mark.parametrize("painted", [False, True])
@pytest.mark.parametrize("work_max", [300, 480])
def test_it_never_raises_alpha_with_a_remove_step_or_lowers_it_with_a_keep_step(painted,
                                                                                 work_max):
    steps = 0
    for name, rgb, prior, truth in _scenes():
        truth = np.where(truth > 127, 255, 0).astype(np.uint8)
        for kind, before, after in _steps(rgb, prior, truth, painted, work_max):
            steps += 1
            wrong = (after > before) if kind == "remove" else (after < before)
            assert not wrong.any(), (name, kind, int(wrong.sum()),
                                     np.argwhere(wrong)[:3].tolist())
    assert steps >= 6

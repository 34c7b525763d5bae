"""The detail brush hands the estimator its uint8 alpha (no float copy of the window)."""

import numpy as np

from cutouts.imaging import matting
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke

from .scenes import feathered_scene


def test_it_estimates_detail_colours_from_the_uint8_alpha(monkeypatch):
    rgb, a = feathered_scene()
    hard = np.where(a >= 0.5, 255, 0).astype(np.uint8)
    h, w = a.shape
    x = w // 2 + 230  # on the feathered right edge of the box
    stroke = Stroke("detail", 45.0, ((float(x), h / 3 + 10), (float(x), 2 * h / 3 - 10)))
    calls = []
    real = matting.estimate_foreground

    def spy(rgb_w, alpha_w, **kw):
        calls.append((rgb_w.copy(), alpha_w.copy()))
        return real(rgb_w, alpha_w, **kw)

    monkeypatch.setattr(matting, "estimate_foreground", spy)
    res = retouch(rgb, hard, [stroke])
    assert calls and all(alpha.dtype == np.uint8 for _, alpha in calls)
    rgb_w, alpha_w = calls[0]
    assert ((alpha_w > 0) & (alpha_w < 255)).any()  # the solved band is fractional
    # the old float path (alpha / 255) gives the same colours, at most a rounding step apart
    as_float = real(rgb_w, alpha_w.astype(np.float32) / 255.0)
    diff = np.abs(real(rgb_w, alpha_w).astype(int) - as_float.astype(int))
    assert diff.max() <= 1
    assert res.alpha.dtype == np.uint8

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


def test_it_saves_at_full_size_the_detail_the_preview_showed():
    # the preview solves a detail stroke on the reduced arrays (long side 1024 px), Apply on the
    # full-size photo; closed-form matting is not scale-invariant, so the full-size matte came
    # out another matte, not a finer one: on soft-dev photos upscaled to 24 MP, 129-9 100 preview
    # pixels more than 64/255 apart (QA: a semi-opaque patch where the preview showed clear
    # background). Here a hair scene at twice its size (1728 x 1152): 144 such pixels before.
    import cv2

    from cutouts.imaging.retouch import reduce_for_cut

    from .scenes import H, W, hair_scene

    rgb0, a = hair_scene(0)
    rgb = cv2.resize(rgb0, (2 * W, 2 * H), interpolation=cv2.INTER_CUBIC)
    hard = cv2.GaussianBlur((a >= 0.5).astype(np.float32), (0, 0), 1.0)
    alpha = cv2.resize(np.clip(hard * 255 + 0.5, 0, 255).astype(np.uint8), (2 * W, 2 * H),
                       interpolation=cv2.INTER_LINEAR)
    cx, cy = W // 2, H // 2 + 40
    arc = np.linspace(np.pi * 1.15, np.pi * 1.85, 12)
    stroke = Stroke("detail", 60.0, tuple((float(2 * (cx + np.cos(t) * W / 6 * 1.15)),
                                           float(2 * (cy + np.sin(t) * H / 4 * 1.15)))
                                          for t in arc))
    rgb_p, alpha_p = reduce_for_cut(rgb), reduce_for_cut(alpha)
    scale = rgb_p.shape[1] / rgb.shape[1]
    shown = retouch(rgb_p, alpha_p, [stroke.scaled(scale)]).alpha.astype(np.float32)
    saved = retouch(rgb, alpha, [stroke]).alpha
    small = reduce_for_cut(saved).astype(np.float32)
    changed = (np.abs(shown - alpha_p) > 4) | (np.abs(small - alpha_p) > 4)
    assert np.abs(shown - alpha_p)[changed].mean() > 30  # the stroke did change the hair
    diff = np.abs(small - shown)
    assert int((diff > 64).sum()) == 0
    assert float(diff[changed].mean()) < 3.0  # was 9.8
    # the full-size matte keeps what is finer than a preview pixel: it is not the preview
    # upsampled
    up = cv2.resize(shown, (2 * W, 2 * H), interpolation=cv2.INTER_LINEAR)
    assert float(np.abs(saved - up)[cv2.resize(changed.view(np.uint8), (2 * W, 2 * H)) > 0]
                 .mean()) > 4.0

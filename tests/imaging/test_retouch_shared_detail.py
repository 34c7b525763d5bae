"""The detail brush's working-size solve shared through a StepStore (retouch._shared_detail):
the worker's Apply writes back what the previews solved on the same reduced arrays, byte for
byte what solving again gives, and a changed input is solved again."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging import retouch as retouch_mod
from cutouts.imaging import retouch_cut, retouch_detail
from cutouts.imaging.retouch import retouch
from cutouts.imaging.step_store import StepStore
from cutouts.imaging.strokes import Stroke

from .scenes import hair_scene


def _cold_process():
    """What a worker process that never saw this image holds: no cuts and no detail solves."""
    retouch_cut._CACHE.clear()
    retouch_mod._UNHELD.clear()
    with retouch_detail._LOCK:
        retouch_detail._PIECES.clear()
        retouch_detail._STEPS.clear()


@pytest.fixture
def solves(monkeypatch):
    """The shapes of the images ``retouch`` runs the detail solve on."""
    calls = []
    real = retouch_mod._detail

    def counted(rgb, out, strokes, **kwargs):
        calls.append(rgb.shape[:2])
        return real(rgb, out, strokes, **kwargs)

    monkeypatch.setattr(retouch_mod, "_detail", counted)
    _cold_process()
    yield calls
    _cold_process()


def _strokes() -> list[Stroke]:
    # two detail strokes along the hair's ends, a keep click after them (the detail strokes
    # are then solved on the cut of the list up to them, _detail_prefix)
    return [Stroke("detail", 14.0, ((220.0, 130.0), (260.0, 110.0), (300.0, 120.0))),
            Stroke("detail", 10.0, ((330.0, 140.0), (360.0, 170.0))),
            Stroke("keep", 4.0, ((320.0, 300.0),))]


def _scene(factor: float):
    rgb, a = hair_scene()
    alpha = np.where(a >= 0.5, 255, 0).astype(np.uint8)  # the strands missed
    if factor != 1.0:
        size = (round(rgb.shape[1] * factor), round(rgb.shape[0] * factor))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)
        alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_CUBIC)
    rgba = np.dstack([rgb, alpha])
    return rgb, alpha, rgba


def test_it_applies_with_the_detail_solve_its_previews_shared(solves, tmp_path):
    rgb, alpha, rgba = _scene(2.5)
    assert max(alpha.shape) > retouch_mod.WORK_MAX
    strokes = [st.scaled(2.5) for st in _strokes()]
    small_rgb, small_rgba = retouch_mod.reduce_for_cut(rgb), retouch_mod.reduce_for_cut(rgba)
    scale = small_rgb.shape[1] / rgb.shape[1]
    for k in range(1, len(strokes) + 1):  # the previews, as the browser sends them
        retouch(small_rgb, np.ascontiguousarray(small_rgba[..., 3]),
                [st.scaled(scale) for st in strokes[:k]], previous_rgba=small_rgba,
                steps=StepStore(tmp_path, 1 << 30))
    _cold_process()
    solves.clear()
    shared = retouch(rgb, alpha, strokes, previous_rgba=rgba, steps=StepStore(tmp_path, 1 << 30))
    assert solves == [alpha.shape]  # the full-size solve only: the working one was written back
    _cold_process()
    solves.clear()
    again = retouch(rgb, alpha, strokes, previous_rgba=rgba)
    assert solves == [small_rgb.shape[:2], alpha.shape]
    assert (again.alpha != alpha).sum() > 500
    np.testing.assert_array_equal(shared.alpha, again.alpha)
    np.testing.assert_array_equal(shared.rgba, again.rgba)


def test_it_solves_again_when_the_alpha_it_starts_from_differs(solves, tmp_path):
    # a photo within the working size: the Apply is the preview's own call, its colours
    # estimated again on the alpha written back
    rgb, alpha, rgba = _scene(1.0)
    strokes = _strokes()[:2]
    first = retouch(rgb, alpha, strokes, previous_rgba=rgba, steps=StepStore(tmp_path, 1 << 30))
    _cold_process()
    solves.clear()
    shared = retouch(rgb, alpha, strokes, previous_rgba=rgba, steps=StepStore(tmp_path, 1 << 30))
    assert solves == []
    np.testing.assert_array_equal(shared.alpha, first.alpha)
    np.testing.assert_array_equal(shared.rgba, first.rgba)
    # the same photo and strokes on another cutout (one pixel differs): not its records
    other = alpha.copy()
    other[5, 5] ^= 255
    _cold_process()
    got = retouch(rgb, other, strokes, previous_rgba=rgba, steps=StepStore(tmp_path, 1 << 30))
    assert len(solves) == 1
    _cold_process()
    np.testing.assert_array_equal(got.alpha, retouch(rgb, other, strokes,
                                                     previous_rgba=rgba).alpha)


def test_it_refuses_another_start_alpha_under_one_key_when_checked(monkeypatch, tmp_path):
    # the key leaves the start alpha out (its callers pass the compose of those strokes on
    # that cut): a caller that broke that would reuse a wrong solve, which the debug-only
    # check (on in tests, tests/conftest.py) names; off, the stored solve is written back
    # (2026-12-06, cost41)
    rgb, alpha, _ = _scene(1.0)
    strokes = _strokes()[:2]
    steps = StepStore(tmp_path, 1 << 30)
    key = ((1,), "cost41-test", retouch_mod.DEFAULT)
    monkeypatch.setattr(retouch_mod, "_SHARED_STARTS", {})
    monkeypatch.setenv(retouch_mod.CHECK_SHARED_ENV, "1")
    retouch_mod._shared_detail(rgb, alpha.copy(), strokes, steps, key, colours=False)
    again = alpha.copy()
    retouch_mod._shared_detail(rgb, again, strokes, steps, key, colours=False)  # the same alpha
    other = alpha.copy()
    other[5, 5] ^= 255
    with pytest.raises(AssertionError, match="another start alpha"):
        retouch_mod._shared_detail(rgb, other.copy(), strokes, steps, key, colours=False)
    monkeypatch.delenv(retouch_mod.CHECK_SHARED_ENV)
    got = other.copy()
    retouch_mod._shared_detail(rgb, got, strokes, steps, key, colours=False)
    kept = np.ones(got.shape, bool)
    kept[5, 5] = False
    np.testing.assert_array_equal(got[kept], again[kept])

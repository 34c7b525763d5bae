"""The graph cut's stroke cache (retouch_cut.segment): what each stroke of the last list did is
replayed, so a long list's next preview costs one step and gives the pixels a cold cut gives;
and, shared through a StepStore, the worker's Apply replays what the previews cut."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging import retouch as retouch_mod
from cutouts.imaging import retouch_cut
from cutouts.imaging.retouch import DEFAULT, retouch, segment
from cutouts.imaging.step_store import StepStore
from cutouts.imaging.strokes import Stroke

from .scenes import banana_scene


def _strokes(n: int, seed: int = 0) -> list[Stroke]:
    """``n`` keep and remove strokes, clicks and short scribbles, along the body's outline
    (150..330 x 110..300) and over the banana above it, as a long review session paints."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        side = rng.integers(4)
        t = float(rng.uniform(0, 1))
        x, y = [(150 + 180 * t, 110.0), (150 + 180 * t, 300.0), (150.0, 110 + 190 * t),
                (330.0, 110 + 190 * t)][side]
        if i % 5 == 0:
            x, y = 170 + 140 * t, 90.0  # the banana the model missed
        pts = [(x + float(rng.normal(0, 6)) + 4 * j, y + float(rng.normal(0, 6)))
               for j in range(int(rng.integers(1, 5)))]
        out.append(Stroke("keep" if i % 2 == 0 else "remove", float(rng.uniform(2, 7)),
                          tuple(pts)))
    return out


@pytest.fixture
def steps(monkeypatch):
    """How many keep/remove steps the cut computes (the cache replays the others)."""
    calls = []
    step = retouch_cut._step

    def counted(*args, **kwargs):
        calls.append(1)
        return step(*args, **kwargs)

    monkeypatch.setattr(retouch_cut, "_step", counted)
    retouch_cut._CACHE.clear()
    retouch_mod._UNHELD.clear()
    yield calls
    retouch_cut._CACHE.clear()
    retouch_mod._UNHELD.clear()


def _cold(rgb, prior, strokes):
    retouch_cut._CACHE.clear()
    return segment(rgb, prior, strokes, DEFAULT)


def test_it_replays_a_long_list_pixel_for_pixel_as_a_cold_cut_makes_it(steps):
    rgb, prior8, _, _ = banana_scene()
    prior = prior8.astype(np.float32) / 255.0
    strokes = _strokes(40)
    warm = {}
    for k in range(1, len(strokes) + 1):  # one stroke more per preview, as the browser sends
        warm[k] = segment(rgb, prior, strokes[:k], DEFAULT)
    assert len(steps) == len(strokes)  # each stroke cut once
    undo = segment(rgb, prior, strokes[:25], DEFAULT)  # the reviewer undid 15 strokes
    assert len(steps) == len(strokes)  # ... all replayed
    # the strokes changed the cut, so a replay that dropped a step would show
    assert (warm[40] != (prior >= 0.5)).sum() > 500
    assert len({warm[k].tobytes() for k in (10, 20, 30, 40)}) == 4
    for k in (10, 20, 30, 40):
        np.testing.assert_array_equal(warm[k], _cold(rgb, prior, strokes[:k]))
    np.testing.assert_array_equal(undo, _cold(rgb, prior, strokes[:25]))


def test_it_keeps_no_more_records_than_its_budget(steps, monkeypatch):
    rgb, prior8, _, _ = banana_scene()
    prior = prior8.astype(np.float32) / 255.0
    strokes = _strokes(12)
    monkeypatch.setattr(retouch_cut, "_CACHE_BYTES", 1)  # no room for a single record
    first = segment(rgb, prior, strokes, DEFAULT)
    assert retouch_cut._CACHE["done"] == [] and len(steps) == 12
    np.testing.assert_array_equal(segment(rgb, prior, strokes, DEFAULT), first)
    assert len(steps) == 24  # cut again, the same


@pytest.mark.slow
def test_it_previews_600_strokes_and_the_next_one_in_one_step(steps):
    # 600 strokes: the old cache held 64 states, so each preview past the 64th stroke cut all
    # the later ones again, twice (the held list and the whole one): 1 136 steps for this
    # list's first preview, 1 075 for the next one (a 2000 px photo's preview took minutes)
    rgb, prior, _, _ = banana_scene()
    strokes = _strokes(600)
    first = retouch(rgb, prior, strokes)
    assert len(steps) == 600  # the held list's 599, then one more for the whole list
    nxt = retouch(rgb, prior, [*strokes, *_strokes(1, seed=7)])
    assert len(steps) == 601
    undo = retouch(rgb, prior, strokes)  # undo the newest stroke
    assert len(steps) == 601
    np.testing.assert_array_equal(undo.alpha, first.alpha)
    assert not np.array_equal(nxt.alpha, prior) and not np.array_equal(first.alpha, prior)


def _cold_process():
    """What a worker process that never cut this image holds: no records in memory."""
    retouch_cut._CACHE.clear()
    retouch_mod._UNHELD.clear()


def test_it_replays_the_records_another_process_shared_pixel_for_pixel(steps, tmp_path):
    rgb, prior8, _, _ = banana_scene()
    prior = prior8.astype(np.float32) / 255.0
    strokes = _strokes(16)
    store = StepStore(tmp_path, 1 << 30)
    for k in range(1, len(strokes) + 1):  # the web process's previews
        segment(rgb, prior, strokes[:k], DEFAULT, store)
    assert len(steps) == 16
    _cold_process()
    warm = segment(rgb, prior, strokes, DEFAULT, StepStore(tmp_path, 1 << 30))
    assert len(steps) == 16  # the worker cut nothing again
    cold = _cold(rgb, prior, strokes)
    assert len(steps) == 32 and (cold != (prior >= 0.5)).sum() > 500
    np.testing.assert_array_equal(warm, cold)
    # a list that goes on from the shared one (a stroke more) cuts only that stroke
    _cold_process()
    more = [*strokes, *_strokes(1, seed=5)]
    np.testing.assert_array_equal(segment(rgb, prior, more, DEFAULT, store),
                                  _cold(rgb, prior, more))
    assert len(steps) == 32 + 1 + 17


def test_it_cuts_again_what_an_unreadable_record_file_held(steps, tmp_path):
    rgb, prior8, _, _ = banana_scene()
    prior = prior8.astype(np.float32) / 255.0
    strokes = _strokes(8)
    store = StepStore(tmp_path, 1 << 30)
    first = segment(rgb, prior, strokes, DEFAULT, store)
    (path,) = tmp_path.iterdir()
    path.write_bytes(path.read_bytes()[:-200])
    _cold_process()
    again = segment(rgb, prior, strokes, DEFAULT, store)
    assert len(steps) == 16
    np.testing.assert_array_equal(again, first)


def test_it_replays_no_records_another_version_of_the_cut_wrote(steps, tmp_path, monkeypatch):
    rgb, prior8, _, _ = banana_scene()
    prior = prior8.astype(np.float32) / 255.0
    strokes = _strokes(6)
    segment(rgb, prior, strokes, DEFAULT, StepStore(tmp_path, 1 << 30))
    _cold_process()
    # a deploy, or a change to the cut: its records must not stand in for this code's cut
    monkeypatch.setattr(retouch_cut, "code_stamp", lambda: "another-version")
    segment(rgb, prior, strokes, DEFAULT, StepStore(tmp_path, 1 << 30))
    assert len(steps) == 12


def test_it_reads_no_shared_records_for_its_own_next_preview(steps, tmp_path, monkeypatch):
    rgb, prior8, _, _ = banana_scene()
    prior = prior8.astype(np.float32) / 255.0
    strokes = _strokes(5)
    store = StepStore(tmp_path, 1 << 30)
    loads = []
    real = store.load
    monkeypatch.setattr(store, "load", lambda *a: loads.append(1) or real(*a))
    segment(rgb, prior, strokes[:4], DEFAULT, store)
    assert len(loads) == 1  # a list new to this process: another may have cut it
    segment(rgb, prior, strokes, DEFAULT, store)  # one stroke more than its last list
    segment(rgb, prior, strokes[:3], DEFAULT, store)  # an undo: all in memory
    assert len(loads) == 1


def test_it_applies_at_full_size_with_the_cuts_its_previews_made(steps, tmp_path):
    # the worker's Apply (a photo above WORK_MAX, reduced for its cut) after the web
    # process's previews on the same reduction: byte for byte what a cold Apply makes
    rgb, prior8, _, _ = banana_scene()
    size = (rgb.shape[1] * 3, rgb.shape[0] * 3)
    big_rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)
    big_alpha = cv2.resize(prior8, size, interpolation=cv2.INTER_CUBIC)
    assert max(size) > retouch_mod.WORK_MAX
    strokes = [st.scaled(3.0) for st in _strokes(7)]
    small_rgb = retouch_mod.reduce_for_cut(big_rgb)
    small_alpha = retouch_mod.reduce_for_cut(big_alpha)
    scale = small_rgb.shape[1] / size[0]
    store = StepStore(tmp_path, 1 << 30)
    for k in range(1, len(strokes) + 1):
        retouch(small_rgb, small_alpha, [st.scaled(scale) for st in strokes[:k]], steps=store)
    previewed = len(steps)
    _cold_process()
    warm = retouch(big_rgb, big_alpha, strokes, steps=StepStore(tmp_path, 1 << 30))
    assert len(steps) == previewed
    _cold_process()
    cold = retouch(big_rgb, big_alpha, strokes)
    assert len(steps) > previewed
    assert (cold.alpha != big_alpha).sum() > 1000
    np.testing.assert_array_equal(warm.alpha, cold.alpha)
    np.testing.assert_array_equal(warm.rgba, cold.rgba)


def test_it_hashes_the_photo_and_prior_once_for_all_the_cuts_of_a_retouch(steps, monkeypatch):
    # a list whose detail stroke comes before its newest keep stroke is cut three times (the
    # detail prefix, the held list, the whole list): each call hashed 5.5 MB at 1024 px; once
    # per retouch of a list
    rgb, prior8, _, _ = banana_scene()
    strokes = [*_strokes(3), Stroke("detail", 6.0, ((150.0, 200.0), (150.0, 240.0))),
               *_strokes(2, seed=3)]
    hashed = []
    real = retouch_cut._key

    def counted(*args):
        hashed.append(1)
        return real(*args)

    monkeypatch.setattr(retouch_cut, "_key", counted)
    monkeypatch.setattr(retouch_mod, "_key", counted)
    cuts = []
    segment_real = retouch_mod.segment
    monkeypatch.setattr(retouch_mod, "segment", lambda *a, **k: cuts.append(1) or
                        segment_real(*a, **k))
    once = retouch(rgb, prior8, strokes)
    # ...and the list up to the keep before its detail stroke, which that stroke is held to
    # beyond its reach (retouch._near_detail), is retouched too: its own two cuts, one hash
    assert len(cuts) == 3 + 2 and len(hashed) == 1 + 1
    monkeypatch.setattr(retouch_cut, "_key", real)
    monkeypatch.setattr(retouch_mod, "_key", real)
    _cold_process()
    np.testing.assert_array_equal(once.alpha, retouch(rgb, prior8, strokes).alpha)

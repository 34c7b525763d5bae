"""The graph cut's stroke cache (retouch_cut.segment): what each stroke of the last list did is
replayed, so a long list's next preview costs one step and gives the pixels a cold cut gives."""

from __future__ import annotations

import numpy as np
import pytest

from cutouts.imaging import retouch as retouch_mod
from cutouts.imaging import retouch_cut
from cutouts.imaging.retouch import DEFAULT, retouch, segment
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

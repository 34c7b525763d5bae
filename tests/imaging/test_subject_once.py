"""A subject click as the newest stroke: the strokes before it are composed once (reread42,
2026-12-07; docs/review.md, *The subject click*)."""

import numpy as np
import pytest

from cutouts.imaging import retouch as engine
from cutouts.imaging.strokes import Stroke


def _two_parts(scale: int):
    """A product and a poster the model also held, a speck far off, on a mottled wall."""
    h, w = 240 * scale, 320 * scale
    rgb = (np.random.default_rng(5).integers(0, 20, (h, w, 3)) + 110).astype(np.uint8)
    a = np.zeros((h, w), np.uint8)
    s = scale
    a[40 * s:200 * s, 40 * s:100 * s] = 255
    a[60 * s:180 * s, 180 * s:280 * s] = 255
    a[8 * s:16 * s, 300 * s:308 * s] = 200
    rgb[a > 0] = (180, 60, 40)
    return rgb, a


@pytest.mark.parametrize("scale", [1, 4])  # 4: above the cut's size, decided on its grid
def test_it_composes_the_strokes_before_a_newest_subject_click_once(scale, monkeypatch):
    rgb, a = _two_parts(scale)
    s = float(scale)
    remove = Stroke("remove", 8.0 * s, ((304 * s, 12 * s),))
    keep = Stroke("keep", 6.0 * s, ((70 * s, 120 * s),))
    click = Stroke("subject", 6.0 * s, ((70 * s, 120 * s),))
    lists: list[list[Stroke]] = []
    chosen: list[tuple[int, Stroke] | None] = []
    whole = engine._retouch_all

    def watched(rgb, alpha, strokes, **k):
        lists.append(list(strokes))
        chosen.append(k.get("subject"))
        return whole(rgb, alpha, strokes, **k)

    monkeypatch.setattr(engine, "_retouch_all", watched)
    got = engine.retouch(rgb, a, [remove, keep, click])
    assert lists == [[remove, keep]]  # was twice: once alone, once as the whole list
    # as clicking on the cutout those strokes left
    lists.clear()
    left = engine.retouch(rgb, a, [remove, keep]).alpha
    assert np.array_equal(got.alpha, engine.retouch(rgb, left, [click]).alpha)
    assert got.subject == "parts:1" and not got.alpha[:, 150 * scale:].any()
    # a stroke after the click: the strokes before it alone first, then the whole list, the
    # click split off it for the graph cut alone (the main subject of the strokes after it,
    # subj44; an argument of its own since subj45, no stroke in the list)
    lists.clear()
    chosen.clear()
    engine.retouch(rgb, a, [remove, click, keep])
    assert lists == [[remove], [remove, keep]]
    assert chosen == [None, (1, click)]

"""A keep or remove stroke as the newest of the list moves the alpha only its own way against
the list without it, by construction (``retouch._hold``, docs/review.md, § A keep stroke held
at its prefix, 2026-12-05): the cut and the faint-blob pass are not monotone in the strokes
themselves. Scenes are built in memory."""

import numpy as np
import pytest

from cutouts.imaging import retouch as retouch_mod
from cutouts.imaging import retouch_detail
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import feathered_scene, fur_ring_scene, handle_scene

REMOVE = Stroke("remove", 12, ((205.0, 115.0),))
# three removes on the fur ring's smear and fur (the keep after them lowered 21 px from ~106 to
# 0 on a 120 px working grid before the hold)
REMOVES = [Stroke("remove", 12, ((180.0, 115.0),)), Stroke("remove", 8, ((172.0, 120.0),)),
           Stroke("remove", 10, ((205.0, 150.0),))]


@pytest.mark.parametrize("at", [(155.0, 100.0), (158.0, 115.0), (160.0, 100.0)])
def test_it_lowers_no_fur_with_a_keep_click_after_a_remove_click(at):
    # before the hold the keep's hole in the faint blob moved its opening and the ghost's
    # dilation took 7 / 4 / 16 px of fur (dev 214's 15th click the same way, 4 px)
    rgb, alpha, *_ = fur_ring_scene()
    before = retouch(rgb, alpha, [REMOVE]).alpha
    after = retouch(rgb, alpha, [REMOVE, Stroke("keep", 5, (at,))]).alpha
    assert not (after < before).any()


def test_it_lowers_nothing_with_a_keep_click_after_three_removes_on_a_reduced_grid():
    rgb, alpha, *_ = fur_ring_scene()
    keep = Stroke("keep", 5, ((150.0, 130.0),))
    before = retouch(rgb, alpha, REMOVES, work_max=120).alpha
    after = retouch(rgb, alpha, [*REMOVES, keep], work_max=120).alpha
    assert not (after < before).any()
    # ...where the unheld compose lowers them: the scene still tests the hold
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(retouch_mod, "_hold", lambda *a: None)
        unheld = retouch(rgb, alpha, [*REMOVES, keep], work_max=120).alpha
    assert (unheld < before).sum() >= 10


@pytest.mark.parametrize("work_max", [1024, 120])
def test_it_never_raises_alpha_with_a_remove_after_keep_strokes(work_max):
    # keeps then removes, each step against the one before it, on the fur ring and the
    # handle scene; a remove step compares with a result the keeps' own holds made
    for rgb, alpha, seq in (
            (*fur_ring_scene()[:2], [REMOVES[0], Stroke("keep", 6, ((160.0, 80.0),)),
                                Stroke("keep", 5, ((150.0, 130.0),)), REMOVES[1],
                                Stroke("keep", 5, ((158.0, 115.0),)), REMOVES[2]]),
            (*handle_scene()[:2], [Stroke("keep", 8, ((150.0, 100.0),)),
                                   Stroke("keep", 6, ((120.0, 60.0), (180.0, 60.0))),
                                   Stroke("remove", 10, ((60.0, 60.0),)),
                                   Stroke("remove", 6, ((200.0, 150.0),))])):
        prev = retouch(rgb, alpha, [], work_max=work_max).alpha
        for k in range(1, len(seq) + 1):
            cur = retouch(rgb, alpha, seq[:k], work_max=work_max).alpha
            wrong = (cur > prev) if seq[k - 1].kind == "remove" else (cur < prev)
            assert not wrong.any(), (k, seq[k - 1].kind, int(wrong.sum()))
            prev = cur


def test_it_changes_only_what_the_newest_stroke_moved_the_wrong_way():
    # the hold is a floor at the prefix's compose: where the keep moved nothing the wrong way
    # the result is the unheld one, pixel for pixel
    rgb, alpha, *_ = fur_ring_scene()
    seq = [REMOVE, Stroke("keep", 5, ((160.0, 100.0),))]
    held = retouch(rgb, alpha, seq).alpha
    before = retouch(rgb, alpha, seq[:1]).alpha
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(retouch_mod, "_hold", lambda *a: None)
        unheld = retouch(rgb, alpha, seq).alpha
    assert np.array_equal(held, np.maximum(unheld, before))
    assert (held != unheld).sum() == (unheld < before).sum() > 0


def test_it_holds_the_same_whether_the_last_list_is_remembered_or_not():
    # the preview remembers the last list's unheld compose (the next list's prefix): a pure
    # function of the inputs, so a fresh process (an Apply) gives the same bits
    rgb, alpha, *_ = fur_ring_scene()
    seq = [REMOVE, Stroke("keep", 5, ((160.0, 100.0),)), Stroke("keep", 5, ((155.0, 100.0),))]
    warm = [retouch(rgb, alpha, seq[:k]).alpha for k in range(1, len(seq) + 1)]
    for k in range(1, len(seq) + 1):
        retouch_mod._UNHELD.clear()
        assert np.array_equal(retouch(rgb, alpha, seq[:k]).alpha, warm[k - 1]), k


@pytest.mark.parametrize("work_max", [1024, 400])
def test_it_changes_nothing_beyond_the_reach_of_a_detail_stroke_drawn_after_a_keep(work_max):
    # QA qa39b W2 (soft-dev GT23): a detail click on the teddy's ear, after a detail stroke along
    # its paws and a keep click, re-solved the paws' band on the cut with the keep in it and
    # lowered 3 023 px there, 500-830 px away. Here: a detail stroke along a feathered edge, a
    # keep stroke beside it, then a detail click on the far side of the body
    rgb, a = feathered_scene()
    hard = np.where(a >= 0.5, 255, 0).astype(np.uint8)
    h, w = a.shape
    x = float(w // 2 + 230)
    seq = [Stroke("detail", 20.0, ((x, h / 3 + 5), (x - 10, h / 2))),
           Stroke("keep", 10.0, ((x + 5, h / 3 + 30), (x + 5, h / 2 + 30))),
           Stroke("detail", 12.0, ((float(w // 2), float(h // 6)),))]
    before = retouch(rgb, hard, seq[:2], work_max=work_max).alpha
    after = retouch(rgb, hard, seq, work_max=work_max).alpha
    reach = Stroke("detail", seq[2].radius + retouch_detail.DETAIL_REACH + 2, seq[2].points)
    far = rasterise([reach], (h, w)) == 0
    assert np.array_equal(after[far], before[far])
    # the prefix's result the preview remembered (_UPTO) is the one a fresh process computes
    retouch_mod._UPTO.clear()
    assert np.array_equal(retouch(rgb, hard, seq, work_max=work_max).alpha, after)
    # ...where the whole list solved together moves the first stroke's band: the scene still
    # tests the hold (and that move made the band worse against the truth)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(retouch_mod, "_near_detail", lambda *args: None)
        unheld = retouch(rgb, hard, seq, work_max=work_max).alpha
    assert (np.abs(unheld.astype(int) - before)[far] > 8).sum() >= 300
    err = lambda got: np.abs(got / 255.0 - a)[far].sum()  # noqa: E731
    assert err(unheld) > err(before)


def test_it_solves_the_held_prefixs_detail_strokes_once_at_full_size(monkeypatch):
    # far39's Apply of detail, keep, detail solved the first detail stroke at full size twice:
    # for the held prefix (detail, keep) and again in the whole list's solve, where the keep
    # beside it moved what it is solved on (no cached step), though beyond the last detail
    # stroke's reach that solve is held back to the prefix's (_near_detail). Now the whole
    # list's solve leaves out the windows lying only there (_solved_near): same pixels
    rgb, a = feathered_scene()
    hard = np.where(a >= 0.5, 255, 0).astype(np.uint8)
    rgba = np.dstack([rgb, hard])
    h, w = a.shape
    x = float(w // 2 + 230)
    seq = [Stroke("detail", 20.0, ((x, h / 3 + 5), (x - 10, h / 2))),
           Stroke("keep", 10.0, ((x + 5, h / 3 + 30), (x + 5, h / 2 + 30))),
           Stroke("detail", 12.0, ((float(w // 2), float(h // 6)),))]
    full = []
    real = retouch_detail._step

    def counted(rgb_, before, *args, **kwargs):
        if before.shape == (h, w):
            full.append(1)
        return real(rgb_, before, *args, **kwargs)

    def cold():
        retouch_mod._UPTO.clear()
        with retouch_detail._LOCK:
            retouch_detail._PIECES.clear()
            retouch_detail._STEPS.clear()

    monkeypatch.setattr(retouch_detail, "_step", counted)
    cold()
    got = retouch(rgb, hard, seq, previous_rgba=rgba, work_max=400)  # 864 px wide: an Apply
    assert len(full) == 2  # each detail stroke once (the held prefix's, the last one's)
    # every window solved, as before: the same alpha and colours
    monkeypatch.setattr(retouch_mod, "_solved_near", lambda *args: None)
    cold()
    full.clear()
    every = retouch(rgb, hard, seq, previous_rgba=rgba, work_max=400)
    assert len(full) == 3
    assert np.array_equal(got.alpha, every.alpha)
    assert np.array_equal(got.rgba, every.rgba)
    cold()

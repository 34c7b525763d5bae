"""The retouch entry point: a cutout's strokes applied at full size (cut, compose, detail, rgba).

Keep/remove strokes and clicks are decided by a graph cut at a working size
(``retouch_cut.segment``), detail strokes by the detail brush (``retouch_detail._detail``);
this module reduces the photo for the cut, composes the result at full resolution and gives
it its colours. The unchanged pixels keep the base alpha exactly; the changed regions are
upsampled tile by tile, and the strokes themselves are rasterised at full resolution.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter, median

from .clock import NO_CLOCK, StageClock, running
from .colour import local_colour
from .progress import REFINING, STROKES, OnProgress, no_progress
from .retouch_cut import (
    DEFAULT,
    GHOST_HALF,
    GHOST_MIN,
    GHOST_OPEN,
    Params,
    _core_strokes,
    _faint_finders,
    _key,
    _shared_key,
    far_keep_outcome,
    segment,
)
from .retouch_detail import DetailColours, _detail, _detail_bands, _detail_colours
from .retouch_tiles import _box_tiles, _tiles, _upsample
from .step_store import StepStore
from .strokes import DETAIL, KEEP, MAX_RADIUS, REMOVE, Stroke, rasterise
from .subject import choose_subject

# The engine's names the rest of the code imports from here. segment, Params and DEFAULT live
# in retouch_cut; retouch() looks segment (and reduce_for_cut) up in this module, so a test can
# watch them here.
__all__ = ["DEFAULT", "WORK_MAX", "Params", "RetouchResult", "reduce_for_cut", "retouch",
           "segment"]

WORK_MAX = 1024  # long side of the graph cut; the preview runs at about this size

# The compose of the last stroke list this process saw, before its newest stroke was held
# (_hold), for a photo the cut runs on at full size (the preview's): the browser re-sends the
# whole list after every stroke, so the next preview's list without its newest stroke is this
# one and its hold costs no compose. A pure function of the photo, the alpha and the list: it
# never changes a result, only whether it is composed again.
_UNHELD: dict[str, Any] = {}
_UNHELD_LOCK = threading.Lock()
# The result of the list up to its last keep or remove stroke, with its inputs, that the last
# preview (photo cut at full size) with detail strokes after that stroke held them to beyond
# their reach (_near_detail): the browser re-sends the list after each further detail stroke.
# A pure function of the inputs: it never changes a result, only whether it is computed again
# (not remembered at the keep's own preview: copying its inputs cost every keep 25 ms).
_UPTO: dict[str, Any] = {}


@dataclass
class RetouchResult:
    alpha: np.ndarray  # (H, W) uint8
    rgba: np.ndarray  # (H, W, 4) uint8
    timings: dict[str, float] = field(default_factory=dict)
    #: the photo as ``reduce_for_cut`` reduced it for the graph cut (None when it ran at full
    #: size): the caller's retouch base is this same array, so a 24 MP photo is reduced once
    rgb_work: np.ndarray | None = None
    #: the newest stroke, a keep click far from the cutout: what it added ("piece", "joined",
    #: "spot"; ``retouch_cut.far_keep_outcome``), else "": a word for the editor's status
    far_keep: str = ""
    #: the newest stroke, a subject click: "none" (nothing held under it, nothing changed) or
    #: "parts:N" (N other parts cleared, ``subject.choose_subject``; 0: none but specks), else ""
    subject: str = ""
    #: the newest stroke, a keep (remove) click that gave back what earlier painted remove
    #: (keep) strokes took (added) beyond their brushes: "remove:N" ("keep:N"), N the pixels
    #: of the cut's grid it gave back (``retouch_cut._Order.gave_back``), else "": a word for
    #: the editor's status, which read it from the pixels before (signal46, verify45 M2)
    given_back: str = ""


def _scale_of(h: int, w: int, work_max: int) -> float:
    return min(1.0, work_max / max(h, w))


def reduce_for_cut(image: np.ndarray, work_max: int = WORK_MAX) -> np.ndarray:
    """A photo, alpha or cutout (H, W[, C] uint8) at the size ``retouch`` runs its graph cut
    (long side ``work_max``, INTER_AREA, each channel on its own); the image itself when
    already small enough. The preview starts from these arrays, so they must be this one
    reduction: the stroke scale is the reduced width over the full width."""
    h, w = image.shape[:2]
    s = _scale_of(h, w, work_max)
    if s >= 1.0:
        return image
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(np.ascontiguousarray(image), size, interpolation=cv2.INTER_AREA)


def _validate(rgb: np.ndarray, alpha: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("retouch expects an (H, W, 3) uint8 RGB image")
    if alpha.shape != rgb.shape[:2] or alpha.dtype != np.uint8:
        raise ValueError("alpha must be (H, W) uint8 matching the image")


def retouch(rgb: np.ndarray, alpha: np.ndarray, strokes: list[Stroke], *,
            previous_rgba: np.ndarray | None = None, params: Params = DEFAULT,
            work_max: int = WORK_MAX, clock: StageClock = NO_CLOCK,
            on_progress: OnProgress | None = None,
            steps: StepStore | None = None, far_keep: bool = True) -> RetouchResult:
    """Apply the whole stroke list (since the base version) to the base alpha; the detail
    strokes are solved before the keep and remove strokes drawn after the last of them, which
    then only move the alpha their own way (``_after_detail``); a keep or remove stroke as
    the newest moves it only its own way against the list without it (``_hold``); detail
    strokes drawn after the last keep or remove stroke change only what lies within their
    reach (``_near_detail``): beyond it the result is the list's up to that stroke. ``clock``
    receives a lap per stage (segment, compose, detail, rgba); the result's ``timings`` are
    their wall seconds (and ``total``), as a cutout's come from the pipeline's laps.
    ``on_progress(stage, fraction)`` is called as each stage starts, with growing fractions,
    the last one 1 (``imaging.progress``): the worker's Apply shows them on its pending note.
    ``steps``: where the graph cut's step records are shared with other processes (``segment``):
    an Apply replays the cuts its previews made (they ran on these same reduced arrays), and
    the detail strokes' solve on them (``_shared_detail``). ``far_keep=False`` leaves the
    result's ``far_keep`` and ``given_back`` empty (words for the preview's status line: an
    Apply has no use for them). A subject click (one at most) clears what the cutout held apart from
    the part it lands on (``_with_subject``)."""
    _validate(rgb, alpha)
    if previous_rgba is not None and previous_rgba.shape != (*alpha.shape, 4):
        raise ValueError("previous_rgba must be (H, W, 4) matching the image")
    strokes = list(strokes)
    chosen = [i for i, st in enumerate(strokes) if st.kind == "subject"]
    if chosen:
        return _with_subject(rgb, alpha, strokes, chosen, previous_rgba=previous_rgba,
                             params=params, work_max=work_max, clock=clock,
                             on_progress=on_progress, steps=steps, far_keep=far_keep)
    return _retouch_list(rgb, alpha, strokes, previous_rgba=previous_rgba, params=params,
                         work_max=work_max, clock=clock, on_progress=on_progress, steps=steps,
                         far_keep=far_keep, subject=None)


def _subject_in(subject: tuple[int, Stroke] | None, n: int) -> tuple[int, Stroke] | None:
    """The subject click of a list's first ``n`` strokes (``_retouch_list``): ``subject``
    when a stroke of them follows it, else None (it changes nothing there)."""
    return subject if subject is not None and subject[0] < n else None


def _retouch_list(rgb: np.ndarray, alpha: np.ndarray, strokes: list[Stroke], *,
                  previous_rgba: np.ndarray | None, params: Params, work_max: int,
                  clock: StageClock, on_progress: OnProgress | None, steps: StepStore | None,
                  far_keep: bool, subject: tuple[int, Stroke] | None) -> RetouchResult:
    """``retouch`` past the subject click's dispatch: ``strokes`` hold no subject click
    (``retouch`` splits it off once, ``_with_subject``); ``subject`` is the click and how many
    of ``strokes`` were drawn before it, read by the graph cut alone (``retouch_cut.segment``:
    the strokes after it take the part it chooses as the main subject) and by the caches that
    remember a list's result (the same strokes after another click are another list)."""
    # the detail strokes are solved on the cut of the list up to the last of them (``n``); those
    # drawn after the last keep or remove stroke before them (``m``) are held to the result of
    # the list up to that stroke beyond their reach (see _near_detail), and so is what the keep
    # and remove strokes drawn after them start from (_after_detail)
    n = _detail_prefix(strokes)
    m = _cut_end(strokes[:n])
    if not 0 < m < n:
        return _retouch_all(rgb, alpha, strokes, previous_rgba=previous_rgba, params=params,
                            work_max=work_max, clock=clock, on_progress=on_progress, steps=steps,
                            far_keep=far_keep, subject=subject)
    s = _scale_of(alpha.shape[0], alpha.shape[1], work_max)
    report = on_progress or no_progress
    # the stage starts here: the prefix's retouch is part of it (an Apply's memory by stage)
    report(STROKES, 0.0)
    # the list up to that keep or remove stroke first (the preview the browser showed when it
    # was drawn), remembered for the next previews, the further detail strokes after it (_UPTO)
    remember = s >= 1.0
    chose = _subject_in(subject, m)
    upto = _upto(rgb, alpha, previous_rgba, strokes[:m], chose, params) if remember else None
    if upto is None:
        upto = _retouch_list(rgb, alpha, strokes[:m], previous_rgba=previous_rgba,
                             params=params, work_max=work_max, clock=NO_CLOCK,
                             on_progress=None, steps=steps, far_keep=False, subject=chose)
        if remember:
            _remember_upto(rgb, alpha, previous_rgba, strokes[:m], chose, params, upto)

    def heard(stage: str, fraction: float) -> None:
        if (stage, fraction) != (STROKES, 0.0):  # said above
            report(stage, fraction)

    return _retouch_all(rgb, alpha, strokes, previous_rgba=previous_rgba, params=params,
                        work_max=work_max, clock=clock, on_progress=heard, steps=steps,
                        hold_to=(upto, strokes[m:n], s), far_keep=far_keep, subject=subject)


def _with_subject(rgb: np.ndarray, alpha: np.ndarray, strokes: list[Stroke], chosen: list[int],
                  *, previous_rgba: np.ndarray | None, params: Params, work_max: int,
                  clock: StageClock, on_progress: OnProgress | None, steps: StepStore | None,
                  far_keep: bool) -> RetouchResult:
    """``retouch`` of a list with a subject click (its index, ``chosen``: one at most): the
    list without it, then every pixel the cutout held after the strokes before it that the
    click does not keep (``subject.choose_subject``, on what those strokes left) cleared to
    0. The keep and remove strokes after it act as they would without it, but for the main
    subject the graph cut's whole-piece rules read (``_apart_piece``, the ghost rule,
    ``_unkept_piece``): the part it chose, not the largest piece of that list (the click is
    split off the list here, the one place that reads its kind, and passed to the cut as
    ``subject``, ``_retouch_list``); and a keep stroke after it that lands on a part it
    cleared brings that part back (a pair of shoes).

    The choice is made on the working grid, where the preview computes, and carried to full
    size by the nearest working pixel's decision (a held pixel takes the decision of the held
    working pixel nearest it), so the preview and Apply clear the same parts; the strokes
    themselves are composed as ever."""
    if len(chosen) > 1:
        raise ValueError("a stroke list holds one subject click at most")
    i = chosen[0]
    click = strokes[i]
    before, after = strokes[:i], strokes[i + 1:]
    rest = before + after
    # what the strokes before it left, the cutout the click chooses a part of: with strokes
    # after it, a retouch of its own (first: it leaves the caches on that list); with none, the
    # whole list's result below, which is those strokes (retouching them alone as well cost a
    # newest subject click's preview a third more CPU, 2026-12-07 reread42)
    held = (retouch(rgb, alpha, before, previous_rgba=previous_rgba, params=params,
                    work_max=work_max, steps=steps, far_keep=False).alpha
            if before and after else None)
    # with strokes after it, the click goes to the graph cut alone (``subject``): those
    # strokes' main subject is the part it chooses (qa44r H1, 2026-12-07: on dev 015 a remove
    # click in the chosen rider's wheel took him whole, the mound the click clears being the
    # largest piece of the list without it)
    whole = _retouch_list(rgb, alpha, rest, previous_rgba=previous_rgba, params=params,
                          work_max=work_max, clock=clock, on_progress=on_progress, steps=steps,
                          far_keep=far_keep and bool(after),
                          subject=_subject_in((len(before), click), len(rest)))
    if held is None:
        held = whole.alpha if before else alpha
    h, w = alpha.shape
    s = _scale_of(h, w, work_max)
    held_w = reduce_for_cut(held, work_max) if s < 1.0 else held
    sx = held_w.shape[1] / w
    keeps = [st.scaled(sx) if s < 1.0 else st for st in after if st.kind == "keep"]
    choice = choose_subject(held_w, click.scaled(sx) if s < 1.0 else click, keeps)
    word = ("none" if not choice.found else f"parts:{choice.parts}") if not after else ""
    out, rgba = whole.alpha, whole.rgba
    if choice.cleared.any():
        out, rgba = out.copy(), rgba.copy()
        if s < 1.0:
            field = cv2.resize(choice.field.view(np.uint8), (w, h),
                               interpolation=cv2.INTER_NEAREST).view(bool)
        else:
            field = choice.field
        gone = field & (held > 0)
        out[gone] = 0
        rgba[gone] = 0
    return RetouchResult(alpha=out, rgba=rgba, timings=whole.timings, rgb_work=whole.rgb_work,
                         far_keep=whole.far_keep, subject=word, given_back=whole.given_back)


def _upto(rgb: np.ndarray, alpha: np.ndarray, previous_rgba: np.ndarray | None,
          strokes: list[Stroke], subject: tuple[int, Stroke] | None,
          params: Params) -> RetouchResult | None:
    """The result ``_UPTO`` remembered for these inputs (None: not remembered)."""
    with _UNHELD_LOCK:
        if _UPTO.get("list") != (tuple(strokes), subject, params):
            return None
        had, got = _UPTO["inputs"], _UPTO["result"]
    # compared, not hashed: a hash of the photo cost 35 ms a keep preview at 1024 px (load
    # 26 on 2 cores), a comparison a few
    for old, new in zip(had, (rgb, alpha, previous_rgba), strict=True):
        if old is None or new is None:
            if old is not new:
                return None
        elif old.shape != new.shape or not np.array_equal(old, new):
            return None
    result: RetouchResult = got
    return result


def _remember_upto(rgb: np.ndarray, alpha: np.ndarray, previous_rgba: np.ndarray | None,
                   strokes: list[Stroke], subject: tuple[int, Stroke] | None, params: Params,
                   got: RetouchResult) -> None:
    """Remember the result ``got`` of these inputs (copies: the caller may write to its arrays)
    in ``_UPTO``, in place of the one before."""
    inputs = tuple(None if a is None else a.copy() for a in (rgb, alpha, previous_rgba))
    with _UNHELD_LOCK:
        _UPTO.clear()
        _UPTO.update({"list": (tuple(strokes), subject, params), "inputs": inputs,
                      "result": RetouchResult(alpha=got.alpha.copy(), rgba=got.rgba.copy())})


def _cut_end(strokes: list[Stroke]) -> int:
    """How many strokes a list has up to and including its last keep or remove stroke (0: none)."""
    return max((i + 1 for i, st in enumerate(strokes) if st.kind in ("keep", "remove")),
               default=0)


def _near_detail(out: np.ndarray, upto: np.ndarray, later: list[Stroke], s: float) -> np.ndarray:
    """Hold the detail strokes' solved alpha ``out`` to ``upto``, the result of the list up to
    the last keep or remove stroke before them, beyond the reach of the detail strokes drawn
    after that stroke (``later``): their brushes grown by ``retouch_detail.DETAIL_REACH``
    (working px, the reach within which a detail step writes; ``s``: the working grid's scale)
    and 2 px more. In place; returns the mask of the pixels held (``out`` then equals ``upto``
    there).

    Why (QA qa39b W2, soft-dev GT23, 2026-12-06): the detail strokes are solved on the cut of
    the list up to the last of them, so the first detail stroke after a keep or remove stroke
    re-solved every earlier detail stroke's band on the cut with that keep in it, where before
    the keep had only moved their result its own way (``_after_detail``). A detail click on
    the teddy's ear, after a keep click and a wide detail stroke along its paws, lowered
    3 023 px of the paws and sweater 500-830 px away (alpha 73 -> 24, truth 238; SAD
    150.52 -> 150.99), and the status called it haze cleared. A touch changes what is near it;
    the re-solve beside the new brush (a joined piece) stays the new stroke's."""
    from .retouch_detail import DETAIL_REACH

    grow = (DETAIL_REACH + 2.0) / s
    reach = [Stroke(st.kind, min(st.radius + grow, MAX_RADIUS), st.points) for st in later]
    h, w = out.shape
    held = np.zeros((h, w), bool)
    for y0, y1, x0, x1 in _tiles(h, w):
        far = rasterise(reach, (y1 - y0, x1 - x0), origin=(x0, y0)) == 0
        if not far.any():
            continue
        held[y0:y1, x0:x1] = far
        out[y0:y1, x0:x1][far] = upto[y0:y1, x0:x1][far]
    return held


def _solved_near(later: list[Stroke], s: float
                 ) -> Callable[[tuple[int, int, int, int], np.ndarray], bool] | None:
    """For ``_detail(solve=...)`` in an Apply held by ``_near_detail`` to the list up to its
    last keep or remove stroke beyond the reach of the detail strokes after it (``later``;
    ``s``: the working grid's scale): whether a window's band comes within that reach, or
    within how far the hold to the preview carries an alpha from it (``_match_carry``). The
    other windows' solve would only be held back to that list's result, already solved at full
    size (far39's Apply solved the held list's detail strokes twice at full size), and leaving
    them out changes no pixel within the reach. None (solve every window) when a grown brush
    would pass MAX_RADIUS."""
    from .retouch_detail import DETAIL_REACH, _match_carry

    grow = (DETAIL_REACH + 2.0) / s + _match_carry(s)  # _near_detail's reach, and the carry
    if any(st.radius + grow > MAX_RADIUS for st in later):
        return None
    reach = [Stroke(st.kind, st.radius + grow, st.points) for st in later]

    def solve(window: tuple[int, int, int, int], band: np.ndarray) -> bool:
        y0, _, x0, _ = window
        return bool((band & (rasterise(reach, band.shape, origin=(x0, y0)) > 0)).any())

    return solve


def _retouch_all(rgb: np.ndarray, alpha: np.ndarray, strokes: list[Stroke], *,
                 previous_rgba: np.ndarray | None = None, params: Params = DEFAULT,
                 work_max: int = WORK_MAX, clock: StageClock = NO_CLOCK,
                 on_progress: OnProgress | None = None,
                 steps: StepStore | None = None,
                 hold_to: tuple[RetouchResult, list[Stroke], float] | None = None,
                 far_keep: bool = True,
                 subject: tuple[int, Stroke] | None = None) -> RetouchResult:
    """``retouch`` of the whole list; the result of the list up to the last keep or
    remove stroke before its last detail stroke, the detail strokes after that stroke and the
    working grid's scale: ``hold_to`` for ``_near_detail`` (None: no hold). ``subject``: the
    subject click split off the list (``_retouch_list``), for the cut and the caches."""
    report = on_progress or no_progress
    report(STROKES, 0.0)
    strokes = list(strokes)
    clock = running(clock)
    mark = clock.mark()
    clock.reset()
    h, w = alpha.shape
    s = _scale_of(h, w, work_max)
    if s < 1.0:
        rgb_w, alpha_w = reduce_for_cut(rgb, work_max), reduce_for_cut(alpha, work_max)
        sx = alpha_w.shape[1] / w
        scaled = [st.scaled(sx) for st in strokes]
        chosen_w = None if subject is None else (subject[0], subject[1].scaled(sx))
    else:
        rgb_w, alpha_w = rgb, alpha
        scaled = strokes
        chosen_w = subject
    prior_w = alpha_w.astype(np.float32) / 255.0
    # the detail strokes are solved on the cut of the strokes up to the last of them (``n``):
    # a keep or remove stroke drawn after it only moves the result its own way (_after_detail)
    n = _detail_prefix(strokes)
    # a keep or remove stroke as the newest is held its own way against the list without it
    # (_hold): its cut, from segment's cached states, and its compose
    newest = strokes[-1].kind if strokes else None
    held_n = len(strokes) - 1 if newest in ("keep", "remove") else len(strokes)
    # the cut's cache key, hashed once for the up to three cuts below: each hashed the photo
    # and prior again (5.5 MB at 1024 px, three times a preview: 85 of 856 ms in a profiled
    # 12 MP one); the same key, so the same records
    # (the detail solve's shared records are keyed by it too, _shared_detail)
    cut_key = (_key(rgb_w, prior_w, params)
               if any(st.kind in ("keep", "remove") for st in strokes)
               or (strokes and (s >= 1.0 or steps is not None)) else None)
    if n < len(strokes):
        # the prefixes first: their states are the whole list's first ones (segment's cache),
        # and the whole list's call leaves the cache on it for the next preview
        seg_pre = segment(rgb_w, prior_w, scaled[:n], params, steps, key=cut_key,
                          subject=chosen_w)
    key = cut_key if s >= 1.0 and strokes else None
    held: np.ndarray | None = None
    # a keep click as the newest: the cut before it, for what it did far from the cutout
    before: np.ndarray | None = None
    if held_n < len(strokes):
        held = _unheld(key, strokes[:held_n], _subject_in(subject, held_n))
        if held is None:
            before = seg_held = (seg_pre if held_n == n else
                                 segment(rgb_w, prior_w, scaled[:held_n], params, steps,
                                         key=cut_key, subject=chosen_w))
        elif newest == "keep" and len(strokes[-1].points) == 1:
            before = segment(rgb_w, prior_w, scaled[:held_n], params, steps, key=cut_key,
                             subject=chosen_w)
    # a keep or remove click as the newest: what it gave back of earlier painted strokes'
    # changes beyond their brushes, for the editor's words (``far_keep`` asks for them)
    gave: list[int] | None = ([] if far_keep and newest in ("keep", "remove")
                              and len(strokes[-1].points) == 1 else None)
    seg_w = segment(rgb_w, prior_w, scaled, params, steps, key=cut_key, subject=chosen_w,
                    given_back=gave)
    far_word = (far_keep_outcome(before, seg_w, scaled[-1], params)
                if far_keep and before is not None and newest == "keep" else "")
    back_word = (f"{'remove' if newest == 'keep' else 'keep'}:{gave[0]}"
                 if gave and gave[0] else "")
    clock.lap("segment")
    # where the stages start (docs/jobs.md, progress of one cutout): the graph cut, the
    # full-size compose, the detail strokes' matting solve (the long part of an Apply with
    # many), then the full-size colours (a second at 45 MP)
    report(STROKES, 0.15)

    detail_w = rasterise(scaled[:n], rgb_w.shape[:2]) == DETAIL
    # every stroke list composes (a detail-only list leaves the cut's result unchanged)
    out = _composed(alpha, seg_w, prior_w, strokes, params, s, rgb_w) if strokes else alpha.copy()
    cut = pre = out
    if n < len(strokes):
        pre = _composed(alpha, seg_pre, prior_w, strokes[:n], params, s, rgb_w)
    else:
        seg_pre = seg_w
    if key is not None:
        _remember_unheld(key, strokes, _subject_in(subject, len(strokes)), cut)
    if held_n < len(strokes):
        if held is None and held_n == n:
            held = pre
        elif held is None and held_n == 0:
            held = alpha
        elif held is None:
            held = _composed(alpha, seg_held, prior_w, strokes[:held_n], params, s, rgb_w)
        _hold(cut, held, newest == "keep")
        held = None  # an Apply's full-size plane, freed before the detail solve
    if n < len(strokes):
        out = pre.copy()
    clock.lap("compose")

    fg_colours: list[DetailColours] = []
    if detail_w.any():
        report(REFINING, 0.25)
        shown = None
        if s < 1.0:
            # what the preview shows for these strokes: the same call on the reduced arrays
            # (compose at scale 1, then the detail solve on the working grid); the full-size
            # matte is held to it at that grid (see _match_shown)
            shown = _composed(alpha_w, seg_pre, prior_w, scaled[:n], params, 1.0, rgb_w)
            _shared_detail(rgb_w, shown, scaled[:n], steps, cut_key, colours=False,
                           subject=_subject_in(chosen_w, n))
            # beyond the later detail strokes' reach the result is the held list's (solved at
            # full size for hold_to already): the windows that only lie there are not solved
            fg_colours = _detail(rgb, out, strokes[:n], shown=shown,
                                 solve=None if hold_to is None else
                                 _solved_near(hold_to[1], hold_to[2]))
        else:
            fg_colours = _shared_detail(rgb, out, strokes[:n], steps, cut_key,
                                        subject=_subject_in(subject, n))
    far = (_near_detail(out, hold_to[0].alpha, hold_to[1], hold_to[2])
           if hold_to is not None else None)
    if cut is not out:
        _after_detail(out, pre, cut, strokes[:n], strokes[n:])
    clock.lap("detail")

    report(REFINING, 0.6)
    rgba = _rgba(rgb, alpha, out, previous_rgba, fg_colours)
    if hold_to is not None and far is not None:
        # the held pixels the keep and remove strokes after the detail strokes left as they
        # were keep the held result's colours too
        same = far & (out == hold_to[0].alpha)
        rgba[same] = hold_to[0].rgba[same]
    clock.lap("rgba")
    # the keys callers read (as ``retouch_<stage>``): three of the stages, and the whole call
    timings = {**clock.wall_split(mark, {k: (k,) for k in ("segment", "compose", "detail")}),
               **clock.wall_split(mark, {}, rest="total")}
    report(REFINING, 1.0)
    return RetouchResult(alpha=out, rgba=rgba, timings=timings,
                         rgb_work=rgb_w if s < 1.0 else None, far_keep=far_word,
                         given_back=back_word)


def _composed(alpha: np.ndarray, seg_w: np.ndarray, prior_w: np.ndarray, strokes: list[Stroke],
              params: Params, s: float, rgb_w: np.ndarray) -> np.ndarray:
    """The compose (``_compose_full``) of a stroke list or a prefix of it onto a copy of
    ``alpha``: ``seg_w`` is its cut on the working grid (the prior there: ``prior_w``), ``s``
    the working grid's scale. ``retouch`` composes up to three prefixes of one list (the whole
    list, the detail strokes' and the held one), and each is this same compose."""
    out = alpha.copy()
    _compose_full(out, alpha, seg_w, seg_w != (prior_w >= 0.5), _core_strokes(strokes, params),
                  s, rgb_w, _faint_finders(strokes, params))
    _take_haze(out, alpha, strokes, s, rgb_w)
    _fade_beyond(out, alpha, seg_w, prior_w, strokes, s)
    return out


# A debug-only check of _shared_detail's invariant (its key leaves out the alpha the solve
# starts from: hashing it was +3 % a preview): with this set (tests/imaging/conftest.py sets
# it), the first alpha seen under a key (and store folder) is remembered, in this process only, and
# another alpha under the same key raises. Off (and under ``python -O``) it costs one test.
CHECK_SHARED_ENV = "CUTROOM_CHECK_SHARED_DETAIL"
_SHARED_STARTS: dict[tuple[str, str], bytes] = {}
_SHARED_STARTS_MAX = 256


def _check_shared_start(key: tuple[str, str], out: np.ndarray) -> None:
    got = hashlib.blake2b(np.ascontiguousarray(out).data, digest_size=16).digest()
    with _UNHELD_LOCK:
        seen = _SHARED_STARTS.setdefault(key, got)
        while len(_SHARED_STARTS) > _SHARED_STARTS_MAX:
            del _SHARED_STARTS[next(iter(_SHARED_STARTS))]
    if seen != got:
        raise AssertionError(
            "_shared_detail: another start alpha under one key (its caller did not pass the "
            "compose of those strokes on that cut)")


def _shared_detail(rgb_w: np.ndarray, out: np.ndarray, strokes: list[Stroke],
                   steps: StepStore | None, cut_key: Any, *, colours: bool = True,
                   subject: tuple[int, Stroke] | None = None) -> list[DetailColours]:
    """``_detail(rgb_w, out, strokes, colours=colours)`` on the working grid (the preview's
    solve, and the one an Apply holds its full-size solve to), its changes to ``out`` shared
    through ``steps`` as the cuts' records are: the preview stores them and the worker's Apply
    of the same list, on the same reduced arrays, writes them back instead of solving again
    (the foreground colours, when asked for, are estimated again on the solved alpha).

    Keyed by the cut's key (``cut_key``: the photo, the prior and the params, with the code
    stamp, ``_shared_key``), the strokes, the subject click among them (``subject``: the cut
    it starts from is another) and the solver: ``out`` must be the compose of
    ``strokes`` on that cut (``_composed`` at scale 1, as both callers in ``_retouch_all``
    pass), so these inputs name the alpha the solve starts from and the same key gives the
    same bytes as a solve (the in-process caches of ``retouch_detail`` are keyed by inputs
    too). Not hashed again: that was 0.8 ms CPU a preview at 1024 x 768 (speed39's +3 %)."""
    if steps is None or cut_key is None:
        return _detail(rgb_w, out, strokes, colours=colours)
    from . import matting

    solver = matting.solve_alpha  # a test may swap it
    hsh = hashlib.blake2b(digest_size=20)
    hsh.update(np.array(out.shape, np.int64).data)
    hsh.update(repr([(st.kind, st.radius, st.points) for st in strokes]).encode())
    if subject is not None:
        hsh.update(repr((subject[0], subject[1].radius, subject[1].points)).encode())
    hsh.update(f"{getattr(solver, '__module__', '')}.{getattr(solver, '__qualname__', '')}"
               .encode())
    key = f"detail|{_shared_key(cut_key)}|{hsh.hexdigest()}"
    # the store's folder too: another folder's records are another photo's solves
    checked = (str(steps.root), key) if __debug__ and os.environ.get(CHECK_SHARED_ENV) else None
    if checked is not None:
        _check_shared_start(checked, out)
    got = steps.load_changes(key, out.size)
    if got is not None:
        np.put(out, got[0], got[1])
        return _detail_colours(rgb_w, out, _detail_bands(strokes, *out.shape)) if colours else []
    before = out.copy()
    fg = _detail(rgb_w, out, strokes, colours=colours)
    changed = np.flatnonzero(out != before)
    steps.save_changes(key, changed, out.reshape(-1)[changed], out.size)
    return fg


def _unheld(key: Any, strokes: list[Stroke],
            subject: tuple[int, Stroke] | None) -> np.ndarray | None:
    """The unheld compose of ``strokes`` (after the subject click ``subject``, ``_subject_in``)
    this process remembered (``_UNHELD``) for the photo, alpha and params keyed ``key`` (None:
    not remembered, or no key)."""
    with _UNHELD_LOCK:
        if key is not None and _UNHELD.get("key") == (key, tuple(strokes), subject):
            got: np.ndarray = _UNHELD["alpha"]
            return got
    return None


def _remember_unheld(key: Any, strokes: list[Stroke], subject: tuple[int, Stroke] | None,
                     cut: np.ndarray) -> None:
    """Remember the unheld compose ``cut`` of ``strokes`` (``_UNHELD``): the next preview's
    list without its newest stroke is this one."""
    with _UNHELD_LOCK:
        _UNHELD.clear()
        _UNHELD.update(key=(key, tuple(strokes), subject), alpha=cut.copy())


def _hold(cut: np.ndarray, held: np.ndarray, keep: bool) -> None:
    """Hold the composed ``cut`` of a stroke list whose newest stroke is a keep (``keep``) at
    or above ``held``, the compose of the list without it, or at or below it for a remove:
    only the pixels the newest stroke moved the wrong way change (both are the base alpha
    outside what the strokes changed, where the max / min changes nothing; one pass over the
    image, tile by tile: about 20 ms at 24 MP).

    Why: the cut and the compose are not monotone in the strokes (a keep click's cut made
    solid pixels in a faint blob, its opening lost a disk and the ghost's dilation took 4 px
    of dev 214's fur, docs/review.md 2026-12-05). ``held`` is the unheld compose, not the
    result the user saw for the shorter list (that one is held against its own prefix, and
    so on back to the first stroke: one compose per stroke). The step is against its kind
    only where both the previous stroke's own hold changed the pixel and this one lowers
    (raises) it again, which needs two strokes of the same kind in a row."""
    h, w = cut.shape
    for y0, y1, x0, x1 in _tiles(h, w):
        c, p = cut[y0:y1, x0:x1], held[y0:y1, x0:x1]
        if keep:
            np.maximum(c, p, out=c)
        else:
            np.minimum(c, p, out=c)


def _detail_prefix(strokes: list[Stroke]) -> int:
    """How many strokes the detail strokes are solved after (``retouch``): up to the last
    detail stroke when a keep or remove stroke follows it, else all of them."""
    last = max((i for i, st in enumerate(strokes) if st.kind == "detail"), default=-1)
    if last < 0 or not any(st.kind in ("keep", "remove") for st in strokes[last + 1:]):
        return len(strokes)
    return last + 1


def _after_detail(out: np.ndarray, pre: np.ndarray, cut: np.ndarray, detailed: list[Stroke],
                  after: list[Stroke]) -> None:
    """The keep and remove strokes ``after`` the last detail stroke, applied to the detail
    strokes' result ``out`` (solved on ``pre``, the cut of the strokes up to them,
    ``detailed``): where the whole list's cut ``cut`` is below ``pre``, ``out`` goes no higher
    than ``cut``; where it is above, no lower; elsewhere ``out`` stays. Inside the detail band
    (of ``detailed``) the cut lowers a pixel only under a later remove stroke's brush or where
    the matte did not raise it above ``pre`` (and raises one only under a keep's brush or where
    the matte did not lower it): what a remove takes beyond its brush (a faint blob) leaves
    the fur the matte raised in the band (soft-dev GT15, random remove clicks: +0.59 SAD
    without this). ``out`` and ``pre`` do not depend on the later strokes, and each pixel only
    rises with ``cut`` and the keeps' brushes and only falls with the removes', so a remove
    never raises a pixel and a keep never lowers one when the cut's own steps do not.

    Why: the detail solve reads the alpha around its band; solved on the whole list's cut, a
    remove click beside an earlier detail stroke moved that stroke's matte up as well as down
    (soft-dev GT15, L2: 27 px raised by up to 8/255). Holding each stroke at the result of
    the list without it did it too, at one more whole retouch per stroke, recursively."""
    h, w = out.shape
    dets = [st.bounds() for st in detailed if st.kind == "detail"]
    dbox = (int(min(b[0] for b in dets)) - 1, int(min(b[1] for b in dets)) - 1,
            int(np.ceil(max(b[2] for b in dets))) + 2, int(np.ceil(max(b[3] for b in dets))) + 2)
    removes = [st for st in after if st.kind == "remove"]
    keeps = [st for st in after if st.kind == "keep"]
    for y0, y1, x0, x1 in _tiles(h, w):
        o, p, c = out[y0:y1, x0:x1], pre[y0:y1, x0:x1], cut[y0:y1, x0:x1]
        down, up = c < p, c > p
        if not (down.any() or up.any()):
            continue
        by0, by1 = max(y0, dbox[1]), min(y1, dbox[3])
        bx0, bx1 = max(x0, dbox[0]), min(x1, dbox[2])
        if by1 > by0 and bx1 > bx0:
            shape, at = (by1 - by0, bx1 - bx0), (bx0, by0)
            band = rasterise(detailed, shape, origin=at) == DETAIL
            sub = (slice(by0 - y0, by1 - y0), slice(bx0 - x0, bx1 - x0))
            if band.any():
                # the cut lowers a band pixel only under a remove's brush or where the matte did
                # not raise it above the cut it was solved on (what the matte brought back stays);
                # it raises one by the mirror rule, with the keeps' brushes
                for moved, brushes, unmoved in ((down, removes, np.less_equal),
                                                (up, keeps, np.greater_equal)):
                    free = ~band | unmoved(o[sub], p[sub])
                    if brushes:
                        free |= rasterise(brushes, shape, origin=at) > 0
                    moved[sub] &= free
        np.copyto(o, np.minimum(o, c), where=down)
        np.copyto(o, np.maximum(o, c), where=up)


def _compose_full(out: np.ndarray, alpha: np.ndarray, seg_w: np.ndarray, changed_w: np.ndarray,
                  strokes: list[Stroke], s: float, rgb_w: np.ndarray,
                  finders: list[Stroke]) -> None:
    """Write the new alpha into ``out`` at full resolution, in tiles over the changed region
    only. Where the new segmentation agrees with the base alpha's side, the base alpha (soft
    edges included) stays; only pixels that switch side take the new value. ``rgb_w`` is the
    photo on the working grid (its colours split a faint blob, ``_take_faint``); ``finders``
    the footprints that find the faint blobs a remove stroke takes (``_faint_finders``)."""
    h, w = alpha.shape
    if changed_w.any():
        ys, xs = np.nonzero(changed_w)
        m = 3
        box = ((int(xs.min()) - m) / s, (int(ys.min()) - m) / s,
               (int(xs.max()) + 1 + m) / s, (int(ys.max()) + 1 + m) / s)
        box = (int(box[0]), int(box[1]), int(np.ceil(box[2])), int(np.ceil(box[3])))
        if s < 1.0:
            # the regions that changed, widened so their new edge is drawn whole; each only
            # in its own direction: around what the cut added, pixels only rise, around what
            # it took, they only fall. One region's grown border crosses the working grid's
            # edge, and the upsampled edge there flipped base pixels the other way (a remove
            # click raised two px of the handle scene's soft edge 80 -> 157 at work_max 300,
            # test_it_never_raises_alpha_with_a_remove_step_or_lowers_it_with_a_keep_step)
            k3 = np.ones((3, 3), np.uint8)
            grow_up = cv2.dilate((changed_w & seg_w).view(np.uint8), k3).astype(np.float32)
            grow_dn = cv2.dilate((changed_w & ~seg_w).view(np.uint8), k3).astype(np.float32)
            soft = cv2.GaussianBlur(seg_w.astype(np.float32), (0, 0), 0.7)
            gain = 1.0 / s  # the blurred edge is about 2 working px wide: sharpen it back
        for y0, y1, x0, x1 in _box_tiles(box, h, w):
            tile = out[y0:y1, x0:x1]
            if s < 1.0:
                up = _upsample(grow_up, (h, w), y0, y1, x0, x1) > 0.01
                dn = _upsample(grow_dn, (h, w), y0, y1, x0, x1) > 0.01
                if up.any() or dn.any():
                    # on a 1/4096 grid: cv2.remap's result at an exact tie (0.5, midway between
                    # a kept and a taken working px) moved by 3e-8 with the window's width, so
                    # a keep stroke elsewhere flipped 4 px of a photo from 128 back to 0
                    v = np.round(_upsample(soft, (h, w), y0, y1, x0, x1) * 4096.0) / 4096.0
                    a = np.clip(((v - 0.5) * gain + 0.5) * 255.0 + 0.5, 0, 255).astype(np.uint8)
                    hi, was = a >= 128, tile >= 128
                    flip = (up & hi & ~was) | (dn & ~hi & was)
                    tile[flip] = a[flip]
            else:
                c = changed_w[y0:y1, x0:x1]
                tile[c] = np.where(seg_w[y0:y1, x0:x1][c], 255, 0).astype(np.uint8)
    hard = [st for st in strokes if st.kind in ("keep", "remove")]
    if hard:
        bounds = [st.bounds() for st in hard]
        box = (int(min(b[0] for b in bounds)) - 1, int(min(b[1] for b in bounds)) - 1,
               int(np.ceil(max(b[2] for b in bounds))) + 2,
               int(np.ceil(max(b[3] for b in bounds))) + 2)
        # the cut holds every remove core but the object side of one painted over a ghost
        # (_stroke_core): that part stays (from a reduced grid, only well inside the object)
        held_w = (seg_w if s >= 1.0 else
                  cv2.erode(seg_w.view(np.uint8), np.ones((3, 3), np.uint8)) > 0)
        # and every keep core but the part of an edge click's the cut left out (it is no wider
        # than the sliver the click may flip, _stroke_core)
        kept_w = (seg_w if s >= 1.0 else
                  cv2.dilate(seg_w.view(np.uint8), np.ones((3, 3), np.uint8)) > 0)
        # ...and the object side of a core that grazes the object from outside, which the cut
        # spared (retouch_cut._graze_spared) up to its edge: the solid base alpha the cut took
        # nothing near stays (held by the eroded cut, a seam of 1-2 px of the product under
        # the core went at full size)
        grazing = [st for st in hard if st.kind == "remove" and len(st.points) > 1
                   and _outside(alpha, st)] if s < 1.0 else []
        taken_w = (changed_w & ~seg_w).astype(np.float32) if grazing else None
        for y0, y1, x0, x1 in _box_tiles(box, h, w):
            lab = rasterise(hard, (y1 - y0, x1 - x0), origin=(x0, y0))
            tile = out[y0:y1, x0:x1]
            kept = (kept_w[y0:y1, x0:x1] if s >= 1.0 else
                    _upsample(kept_w.astype(np.float32), (h, w), y0, y1, x0, x1) > 0.01)
            tile[(lab == KEEP) & kept] = 255
            held = (held_w[y0:y1, x0:x1] if s >= 1.0 else
                    _upsample(held_w.astype(np.float32), (h, w), y0, y1, x0, x1) > 0.99)
            if taken_w is not None:
                edge = rasterise(grazing, tile.shape, origin=(x0, y0)) > 0
                if edge.any():
                    held |= (edge & (alpha[y0:y1, x0:x1] >= 128)
                             & (_upsample(taken_w, (h, w), y0, y1, x0, x1) <= 0.01))
            tile[(lab == REMOVE) & ~held] = 0
    _raise_veil(out, alpha, strokes, s, rgb_w)
    _take_faint(out, alpha, finders, s, rgb_w)


def _outside(alpha: np.ndarray, st: Stroke) -> bool:
    """Whether a painted stroke's centreline runs mostly (over half its px) where ``alpha``
    is below 128 (as retouch_cut._graze_spared asks of the cut's state)."""
    x0, y0, x1, y1 = st.bounds()
    h, w = alpha.shape
    x0, y0 = max(0, int(x0) - 1), max(0, int(y0) - 1)
    x1, y1 = min(w, int(np.ceil(x1)) + 2), min(h, int(np.ceil(y1)) + 2)
    if x1 <= x0 or y1 <= y0:
        return False
    line = rasterise([Stroke(st.kind, 0.5, st.points)], (y1 - y0, x1 - x0), origin=(x0, y0)) > 0
    inside = int((line & (alpha[y0:y1, x0:x1] >= 128)).sum())
    return bool(line.any()) and 2 * inside < int(line.sum())


# A remove stroke on a ghost (a blob the cutout holds at GHOST_MIN..127, see retouch_cut) takes
# the whole blob; the cut, which calls it background already, changed nothing there. And a
# removed region's soft rim goes with it: the pixels at 1..127 within RIM_PX working px of what
# a stroke took whose nearest solid pixel it took.
RIM_PX = 3.0
# ...unless the blob is two things: the colours of the blob within SPLIT_NEAR x sqrt(its area)
# (at least SPLIT_NEAR_MIN working px) of what the stroke hit overlap those of the rest of the
# blob less than SPLIT_OVERLAP (Bhattacharyya coefficient of their Lab histograms), and a
# piece of at least SPLIT_SHARE of the blob looks SPLIT_LLR (log-likelihood ratio, averaged
# over SPLIT_SIGMA px) less like the hit spot than the blob does: that piece stays. Dev photo
# banana3: the roses' ghost and the banana's faint alpha are one blob at 88 / 87.
SPLIT_NEAR, SPLIT_NEAR_MIN = 0.25, 8.0
SPLIT_OVERLAP = 0.8
SPLIT_LLR, SPLIT_SIGMA, SPLIT_SHARE = 2.0, 3.0, 0.1
SPLIT_BINS = 16
# ...and unless part of the blob is the kept object's own soft edge: fur the cutout holds at
# ~90 along an opaque body falls off into a half-transparent smear it also kept (soft-dev GT15:
# fur 80-125 joined to the body, the smear a plateau at ~65, one blob). The pixels of the blob
# at least FUR_RISE above the level the stroke hit there (the median base alpha of the blob
# under its footprint), joined to the kept object (base alpha 128+, not taken) through such
# pixels, stay, unless the stroke's own centre or hard core is on them (a stroke across both
# takes both). A smear detached from the object keeps no part (see _kept_slope).
FUR_RISE = 16


def _lab_hist(idx: np.ndarray, m: np.ndarray) -> np.ndarray:
    n = SPLIT_BINS ** 3
    h = np.bincount(idx[m], minlength=n).reshape((SPLIT_BINS,) * 3).astype(np.float64)
    h = gaussian_filter(h, 0.8, mode="nearest")
    out: np.ndarray = h / max(float(h.sum()), 1e-12)
    return out


def _lab_index(lab: np.ndarray) -> np.ndarray:
    """Each pixel's bin of the SPLIT_BINS^3 Lab histogram (``_lab_hist``)."""
    q = 256 // SPLIT_BINS
    idx: np.ndarray = ((lab[..., 0] // q).astype(np.int32) * SPLIT_BINS
                       + lab[..., 1] // q) * SPLIT_BINS + lab[..., 2] // q
    return idx


def _spot_like(region: np.ndarray, hit: np.ndarray, idx: np.ndarray, spot: np.ndarray,
               other: np.ndarray, llr_min: float) -> np.ndarray:
    """The pixels of ``region`` (bool, a crop) joined to the ``hit`` through colours more like
    the ``spot`` histogram than the ``other`` one: the log-likelihood ratio of each pixel's
    Lab bin (``idx``), clipped and averaged over SPLIT_SIGMA within the region, above
    ``llr_min``. The one colour split of a faint blob (``_other_part``) and of a veil a keep
    stroke raises (``_veil_part``)."""
    eps = 1e-3 / SPLIT_BINS ** 3
    llr = (np.log(spot + eps) - np.log(other + eps)).ravel()[idx.ravel()].reshape(region.shape)
    rf = region.astype(np.float32)
    num = cv2.GaussianBlur(np.clip(llr, -4, 4).astype(np.float32) * rf, (0, 0), SPLIT_SIGMA)
    score = num / np.maximum(cv2.GaussianBlur(rf, (0, 0), SPLIT_SIGMA), 1e-6)
    like = region & (score > llr_min)
    _, tl = cv2.connectedComponents(like.view(np.uint8), connectivity=8)
    ids = np.unique(tl[hit & like])
    joined: np.ndarray = np.isin(tl, ids[ids > 0])
    return joined


def _other_part(blob: np.ndarray, hit: np.ndarray, lab: np.ndarray,
                near_px: float | None = None) -> np.ndarray:
    """The part of a faint ``blob`` (bool, a crop) that is another object than the spot a
    remove stroke ``hit``: large pieces of a colour the hit spot does not have (see SPLIT_*).
    Empty when the blob's colours are all alike (a ring's hole, a wheel: what shows through
    is the same background everywhere) or the stroke covers both."""
    none = np.zeros(blob.shape, bool)
    area = int(blob.sum())
    d = cv2.distanceTransform((~hit).view(np.uint8), cv2.DIST_L2, 5)
    if near_px is None:
        near_px = max(SPLIT_NEAR_MIN, SPLIT_NEAR * np.sqrt(area))
    near = blob & (d <= near_px)
    far = blob & ~near
    if far.sum() < SPLIT_SHARE * area:
        return none
    idx = _lab_index(lab)
    hn, hf = _lab_hist(idx, near), _lab_hist(idx, far)
    if float(np.sqrt(hn * hf).sum()) >= SPLIT_OVERLAP:
        return none
    rest = blob & ~_spot_like(blob, hit, idx, hn, _lab_hist(idx, blob), -SPLIT_LLR)
    n, rl, stats, _ = cv2.connectedComponentsWithStats(rest.view(np.uint8), connectivity=8)
    big = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= SPLIT_SHARE * area]
    return np.isin(rl, big) if big else none


def _others(alpha: np.ndarray, hard: list[Stroke], hw: np.ndarray, s: float, se: np.ndarray,
            rgb_w: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per remove stroke (working grid): where it hits a faint blob now (``hw``: what the
    remove strokes hit after later strokes won) and the other objects it leaves on the model's
    own faint blobs (_other_part, from the base ``alpha`` and the stroke alone, so a later
    stroke does not change it)."""
    base = ((alpha >= GHOST_MIN) & (alpha < 128)).view(np.uint8)
    if s < 1.0:
        base = (cv2.resize(base * 255, hw.shape[::-1], interpolation=cv2.INTER_AREA)
                >= 128).view(np.uint8)
    blobs = cv2.morphologyEx(base, cv2.MORPH_OPEN, se)
    _, lbl, stats, _ = cv2.connectedComponentsWithStats(blobs, connectivity=8)
    lab = cv2.cvtColor(np.ascontiguousarray(rgb_w), cv2.COLOR_RGB2LAB)
    k3 = np.ones((3, 3), np.uint8)
    out = []
    for st in hard:
        if st.kind != "remove":
            continue
        spot = cv2.dilate((rasterise([st.scaled(s) if s < 1.0 else st], hw.shape) > 0)
                          .view(np.uint8), k3) > 0
        # a click's disk that reaches a blob its centre is not on vouches only for the
        # blob's colours within SPLIT_NEAR_MIN of it
        centre = None
        if len(st.points) == 1:
            x, y = (v * (s if s < 1.0 else 1.0) for v in st.points[0])
            centre = (min(max(int(round(y)), 0), hw.shape[0] - 1),
                      min(max(int(round(x)), 0), hw.shape[1] - 1))
        hit = spot & (hw > 0)
        if not hit.any():
            continue
        other = np.zeros(hw.shape, bool)
        for j in np.unique(lbl[spot & (blobs > 0)]).tolist():
            if j == 0:
                continue
            x, y, bw, bh = (int(v) for v in stats[j, :4])
            box = (slice(y, y + bh), slice(x, x + bw))
            blob = lbl[box] == j
            rim_only = centre is not None and lbl[centre] != j
            other[box] |= _other_part(blob, blob & spot[box], lab[box],
                                      SPLIT_NEAR_MIN if rim_only else None)
        out.append((hit, other))
    return out


def _kept_slope(alpha: np.ndarray, out: np.ndarray, taken: np.ndarray, hard: list[Stroke],
                chosen: np.ndarray, lbl: np.ndarray, s: float, se: np.ndarray) -> np.ndarray:
    """The part of the faint blobs ``chosen`` (working grid, ``lbl`` their labels) that is the
    kept object's soft edge, not the ghost the remove strokes (``hard``: their finders, see
    ``_faint_finders``) took (see FUR_RISE), from the base ``alpha`` and what the cut kept of
    the object (``out``, ``taken``: full size; ``s`` working / full). Each stroke decides by
    its own whole footprint and a blob spares only what every stroke on it spares, so a
    further remove stroke never gives back what an earlier one took, and a keep stroke over
    a remove stroke's end never makes it take more."""
    h, w = alpha.shape
    kept = ((alpha >= 128) & (out >= 128) & ~taken).view(np.uint8)
    aw = alpha
    if s < 1.0:
        size = (max(1, round(w * s)), max(1, round(h * s)))
        aw = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        kept = (cv2.resize(kept * 255, size, interpolation=cv2.INTER_AREA) >= 128).view(np.uint8)
    spared = np.zeros(chosen.shape, bool)
    # only a body the model holds mostly opaque: a half-transparent ghost's own patches above
    # 128 (median below GHOST_HALF, as _ghost_pockets reads them) are no product to spare a
    # slope for (banana3: the roses' pockets joined to their patches stayed, 1 007 px)
    n, kl = cv2.connectedComponents(kept, connectivity=8)
    if n < 2:
        return spared
    med = median(aw, kl, np.arange(1, n))
    body = np.isin(kl, 1 + np.nonzero(np.asarray(med) >= GHOST_HALF * 255.0)[0])
    if not body.any():
        return spared
    kept = body.view(np.uint8)
    ids = np.unique(lbl[chosen])
    # per blob: what every remove stroke on it spares (a blob no stroke is on spares nothing)
    keeps: dict[int, np.ndarray] = {}
    for st in hard:
        if st.kind != "remove":
            continue
        sw = st.scaled(s) if s < 1.0 else st
        spot = rasterise([sw], chosen.shape) > 0
        # where the stroke vouches for what it takes: a click's centre, a painted stroke's
        # hard core (a stroke across both the smear and the fur takes both)
        if len(sw.points) == 1:
            x, y = sw.points[0]
            vouched = np.zeros(chosen.shape, bool)
            vouched[min(max(int(round(y)), 0), chosen.shape[0] - 1),
                    min(max(int(round(x)), 0), chosen.shape[1] - 1)] = True
        else:
            vouched = spot
        for i in np.unique(lbl[chosen & spot]).tolist():
            if i == 0 or i not in ids:
                continue
            comp = chosen & (lbl == i)
            level = float(np.median(aw[comp & spot]))
            high = (comp & (aw >= level + FUR_RISE)).view(np.uint8) | kept
            _, cl = cv2.connectedComponents(high, connectivity=8)
            on = np.unique(cl[kept > 0])
            on = np.setdiff1d(on[on > 0], cl[vouched & (high > 0)])
            mine = comp & np.isin(cl, on) if on.size else np.zeros(comp.shape, bool)
            # a slope as wide as a blob (it survives the blobs' own opening), not the 1-4 px
            # halo along the object's outline, which goes with the rest (random remove clicks
            # on soft-dev's faint parts: 15-53 px of such halo spared, all background)
            mine = cv2.morphologyEx(mine.view(np.uint8), cv2.MORPH_OPEN, se) > 0
            keeps[i] = mine if i not in keeps else keeps[i] & mine
    for m in keeps.values():
        spared |= m
    return spared


def _take_faint(out: np.ndarray, alpha: np.ndarray, strokes: list[Stroke], s: float,
                rgb_w: np.ndarray) -> None:
    """Zero in ``out`` the ghost blobs the remove strokes touch (``strokes``: their hard
    cores, but a remove click's whole disk, ``_faint_finders``) and the soft rim of
    everything taken, at full resolution (``s``: working / full; ``rgb_w`` the photo at
    working size).

    On dev photos a remove click on the hole a ring-shaped object's cutout filled at alpha
    ~106 changed nothing, and one on a wrong bird left a 1 px outline of 1..126 where it
    was. Pixels the cutout holds at 128 or more are never taken here. A blob
    that holds another object of other colours beside the one hit (_other_part) keeps it,
    but for the rim of what was taken."""
    hard = [st for st in strokes if st.kind in ("keep", "remove")]
    if not any(st.kind == "remove" for st in hard):
        return
    h, w = alpha.shape
    taken = (alpha >= 128) & (out < 128)
    faint = (alpha >= GHOST_MIN) & (alpha < 128) & (out < 128)
    # later strokes win: a keep stroke over a remove stroke's end is not a remove
    hit = (rasterise(hard, (h, w)) == REMOVE) & faint if faint.any() else faint
    if hit.any():
        # the blobs are found on the working grid (an opening at full size cost 13 s at 45 MP)
        fw, hw = faint.view(np.uint8), hit.view(np.uint8)
        if s < 1.0:
            size = (max(1, round(w * s)), max(1, round(h * s)))
            fw = (cv2.resize(fw * 255, size, interpolation=cv2.INTER_AREA) >= 128).view(np.uint8)
            hw = (cv2.resize(hw * 255, size, interpolation=cv2.INTER_AREA) > 0).view(np.uint8)
        se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * GHOST_OPEN + 1,) * 2)
        blobs = cv2.morphologyEx(fw, cv2.MORPH_OPEN, se)
        _, lbl = cv2.connectedComponents(blobs, connectivity=8)
        ids = np.unique(lbl[(hw > 0) & (blobs > 0)])
        ids = ids[ids > 0]
        if ids.size:
            chosen = np.isin(lbl, ids)
            others = _others(alpha, hard, hw, s, se, rgb_w)
            # a blob keeps what every remove stroke on it leaves: a further remove stroke
            # never gives back what an earlier one took, a keep stroke never makes one take
            # more (each stroke's split is its own, on the model's faint blobs; one split by
            # all the strokes' spots at once raised 87 px of a photo from 0 on the
            # painted protocol's fifth stroke). What is kept is within the blob the strokes
            # hit, and its outline there is not spared (the taken part's border and rim go,
            # as elsewhere): a spared border raised 221 px of 036 on the clicks' 16th.
            other = np.zeros(chosen.shape, bool)
            for i in ids.tolist():
                comp = lbl == i
                on = [o for hit_k, o in others if (hit_k & comp).any()]
                if on:
                    other |= comp & np.logical_and.reduce(on)
            chosen &= ~other
            chosen &= ~_kept_slope(alpha, out, taken, hard, chosen, lbl, s, se)
            gw = cv2.dilate(chosen.view(np.uint8), se)
            if s < 1.0:
                gw = cv2.resize(gw, (w, h), interpolation=cv2.INTER_NEAREST)
            ghost = faint & (gw > 0)
            out[ghost] = 0
            taken |= ghost
    if not taken.any():
        return
    rim = RIM_PX / s
    m = int(np.ceil(2 * rim)) + 2
    ys, xs = np.flatnonzero(taken.any(axis=1)), np.flatnonzero(taken.any(axis=0))
    y0, y1 = max(0, int(ys[0]) - m), min(h, int(ys[-1]) + m + 1)
    x0, x1 = max(0, int(xs[0]) - m), min(w, int(xs[-1]) + m + 1)
    a, o, t = alpha[y0:y1, x0:x1], out[y0:y1, x0:x1], taken[y0:y1, x0:x1]
    kept = (a >= 128) & ~t
    d_taken = cv2.distanceTransform((~t).view(np.uint8), cv2.DIST_L2, 5)
    d_kept = cv2.distanceTransform((~kept).view(np.uint8), cv2.DIST_L2, 5)
    # where it borders the kept object the rim is the kept object's edge: it stays
    soft = (o > 0) & (o < 128) & (o == a)
    o[soft & (d_taken <= rim) & (d_taken < d_kept)] = 0


# A painted remove stroke clears the faint alpha (below 128) under its whole brush, not only
# its hard core, where the photo looks like the backdrop: haze too thin for a ghost blob
# (under GHOST_MIN, or a band narrower than the blobs' opening) stayed under the outer half of
# the brush (QA 2026-12-06, dev 069: 309 of 536 haze px under a stroke stayed, α 1-31). The
# kept object's anti-aliased rim (within RIM_PX working px of what the result holds at 128 or
# more) stays, and so does faint alpha of colours more like the product's around the stroke
# than the backdrop's (HAZE_RING working px around the brush; fur or a soft part beside it).
# A click is a spot, not coverage: it takes no haze (the status says to paint across it).
HAZE_RING = 16
HAZE_BG_MIN = 64  # working px of clear backdrop in that ring to read its colours from
HAZE_SPREAD, HAZE_DE = 95, 6.0  # percentile of the backdrop's own gaps; the least gap taken
HAZE_SIGMA = 8.0  # working px over which the local backdrop (product) colour is averaged
HAZE_WHOLE = 0.05  # ...and the weight of its mean over the crop, where little of it is near


def _colour_gap(lab: np.ndarray, m: np.ndarray) -> np.ndarray | None:
    """Each pixel's distance (Lab, 0..255 scale) from the local mean colour of the pixels
    ``m`` (averaged over HAZE_SIGMA), drawn to their mean over the whole crop where few are
    near (a haze field wider than the ring). None when ``m`` is empty."""
    if not m.any():
        return None
    mean = local_colour(lab, m, HAZE_SIGMA, whole=HAZE_WHOLE).mean
    # over a px or so: a photo's noise leaves no speck of haze in a stroke's path
    gap: np.ndarray = cv2.GaussianBlur(np.sqrt(((lab - mean) ** 2).sum(axis=2)), (0, 0), 1.0)
    return gap


def _take_haze(out: np.ndarray, alpha: np.ndarray, strokes: list[Stroke], s: float,
               rgb_w: np.ndarray) -> None:
    """Zero in ``out`` the faint alpha under the painted remove strokes' whole brushes (the
    full ``strokes``, later ones winning) that is no rim of the kept object and looks like
    the backdrop (see HAZE_RING). Only lowers, and only pixels ``out`` holds below 128."""
    hard = [st for st in strokes if st.kind in ("keep", "remove")]
    painted = [st for st in hard if st.kind == "remove" and len(st.points) > 1]
    if not painted:
        return
    h, w = alpha.shape
    bounds = [st.bounds() for st in painted]
    x0 = max(0, int(min(b[0] for b in bounds)) - 1)
    y0 = max(0, int(min(b[1] for b in bounds)) - 1)
    x1 = min(w, int(np.ceil(max(b[2] for b in bounds))) + 2)
    y1 = min(h, int(np.ceil(max(b[3] for b in bounds))) + 2)
    if x1 <= x0 or y1 <= y0:
        return
    box = (slice(y0, y1), slice(x0, x1))
    o = out[box]
    faint = (o > 0) & (o < 128) & (alpha[box] < 128)
    if not faint.any():
        return
    # later strokes win: a keep stroke over a painted remove stroke is not a remove, and a
    # remove click's disk there is no coverage
    under = ((rasterise(hard, o.shape, origin=(x0, y0)) == REMOVE)
             & (rasterise(painted, o.shape, origin=(x0, y0)) > 0) & faint)
    if not under.any():
        return
    # the rest is read on the working grid, in a box HAZE_RING + RIM_PX working px wider
    m = int(np.ceil((HAZE_RING + RIM_PX + 2) / s))
    X0, Y0, X1, Y1 = max(0, x0 - m), max(0, y0 - m), min(w, x1 + m), min(h, y1 + m)
    wide = (slice(Y0, Y1), slice(X0, X1))
    a, ow = alpha[wide], out[wide]
    kept = (ow >= 128).view(np.uint8)
    # the backdrop's colours: what the cutout holds clear around the stroke (haze over a wide
    # patch of product colour would otherwise count as backdrop), else below GHOST_MIN
    bg = ((a == 0) & (ow < 128)).view(np.uint8)
    if int(bg.sum()) * s * s < HAZE_BG_MIN:
        bg = ((a < GHOST_MIN) & (ow < 128)).view(np.uint8)
    solid = ((a >= VEIL_MAX) & (ow >= 128)).view(np.uint8)
    wx0, wy0 = int(X0 * s), int(Y0 * s)
    wx1, wy1 = max(wx0 + 1, int(np.ceil(X1 * s))), max(wy0 + 1, int(np.ceil(Y1 * s)))
    wx1, wy1 = min(wx1, rgb_w.shape[1]), min(wy1, rgb_w.shape[0])
    size = (wx1 - wx0, wy1 - wy0)
    if s < 1.0:
        kept = (cv2.resize(kept * 255, size, interpolation=cv2.INTER_AREA) > 0).view(np.uint8)
        bg = (cv2.resize(bg * 255, size, interpolation=cv2.INTER_AREA) >= 128).view(np.uint8)
        solid = (cv2.resize(solid * 255, size, interpolation=cv2.INTER_AREA) >= 128).view(np.uint8)
    # the kept object's rim: within RIM_PX working px of what the result holds at 128+
    d_kept = cv2.distanceTransform((kept == 0).view(np.uint8), cv2.DIST_L2, 5)
    free = d_kept > RIM_PX
    # the photo's colour beside the backdrop's around it (and the solid product's, where it
    # has some): as near the backdrop's as the backdrop's own pixels are (HAZE_SPREAD of them,
    # at least HAZE_DE) and nearer it than the product's
    lab = cv2.cvtColor(np.ascontiguousarray(rgb_w[wy0:wy1, wx0:wx1]), cv2.COLOR_RGB2LAB)
    lab = lab.astype(np.float32)
    d_bg = _colour_gap(lab, bg > 0)
    if d_bg is None:
        return  # no backdrop around it to tell the haze by
    spread = float(np.percentile(d_bg[bg > 0], HAZE_SPREAD))
    free &= d_bg <= max(spread, HAZE_DE)
    d_pr = _colour_gap(lab, solid > 0)
    if d_pr is not None:
        free &= d_bg < d_pr
    take = free.view(np.uint8)
    if s < 1.0:
        take = cv2.resize(take, (X1 - X0, Y1 - Y0), interpolation=cv2.INTER_NEAREST)
    take_box = take[y0 - Y0:y1 - Y0, x0 - X0:x1 - X0] > 0
    o[under & take_box] = 0


# A keep stroke on a veil (a thick piece the cutout holds at VEIL_MIN..VEIL_MAX - 1: seen but
# not solid, as the dark back fur of a plush toy at 140..183) makes the piece solid; the cut,
# which calls it kept already, changed nothing there. The piece is what survives an opening of
# radius VEIL_OPEN working px (a 1..3 px soft rim or a strand of hair is never one), 8-connected
# to the stroke's hard core, and only where its colours look more like the spot hit than like
# the backdrop around it (log-likelihood ratio averaged over SPLIT_SIGMA px); within
# VEIL_RIM working px of the backdrop it keeps its soft outline.
VEIL_MIN, VEIL_MAX = 128, 250
VEIL_OPEN = 3
VEIL_RIM = 2.0
VEIL_RING = 12  # working px around the piece where the backdrop's colours are sampled


def _veil_part(piece: np.ndarray, hit: np.ndarray, backdrop: np.ndarray,
               lab: np.ndarray, painted: bool) -> np.ndarray:
    """The part of a veil ``piece`` (bool, a crop) a keep stroke that ``hit`` it raises: what
    is connected to the hit through colours nearer the hit spot's than the ``backdrop``'s.
    The spot's colours are those of the piece near the hit for a click (the reach its veil
    raise was measured with), but those its own brush covers for a ``painted`` stroke, which
    samples the part along its length: sampled farther out, they took in the backdrop the
    model held in the piece beside the part (dev 155: the wall beside a skater's shirt)."""
    area = int(piece.sum())
    if backdrop.sum() < 16:
        return piece
    if painted:
        near = hit
    else:
        d = cv2.distanceTransform((~hit).view(np.uint8), cv2.DIST_L2, 5)
        near = piece & (d <= max(SPLIT_NEAR_MIN, SPLIT_NEAR * np.sqrt(area)))
    idx = _lab_index(lab)
    return _spot_like(piece, hit, idx, _lab_hist(idx, near), _lab_hist(idx, backdrop), 0.0)


def _raise_veil(out: np.ndarray, alpha: np.ndarray, strokes: list[Stroke], s: float,
                rgb_w: np.ndarray) -> None:
    """Make solid in ``out`` the veils (see VEIL_*) the keep strokes' hard cores (``strokes``)
    touch, at full resolution (``s``: working / full; ``rgb_w`` the photo at working size).
    Only raises, and only pixels the cutout holds at VEIL_MIN or more that nothing took."""
    hard = [st for st in strokes if st.kind in ("keep", "remove")]
    if not any(st.kind == "keep" for st in hard):
        return
    h, w = alpha.shape
    veil = (alpha >= VEIL_MIN) & (alpha < VEIL_MAX) & (out >= 128)
    hit = np.zeros((h, w), bool)
    if veil.any():
        # later strokes win: a remove stroke over a keep stroke's end is not a keep (painted
        # over the keep strokes' box only: a full-size raster is slow at 45 MP)
        bounds = [st.bounds() for st in hard if st.kind == "keep"]
        x0 = max(0, int(min(b[0] for b in bounds)) - 1)
        y0 = max(0, int(min(b[1] for b in bounds)) - 1)
        x1 = min(w, int(np.ceil(max(b[2] for b in bounds))) + 2)
        y1 = min(h, int(np.ceil(max(b[3] for b in bounds))) + 2)
        if x1 > x0 and y1 > y0:
            lab_k = rasterise(hard, (y1 - y0, x1 - x0), origin=(x0, y0))
            hit[y0:y1, x0:x1] = (lab_k == KEEP) & veil[y0:y1, x0:x1]
    if not hit.any():
        return
    # the pieces are found on the working grid, as the ghosts are (_take_faint), from the base
    # alpha alone: split from what the cut left, a piece grew where a keep click gave back what
    # a remove had taken, its split moved and a keep click lowered 18 px of dev 036
    vw = ((alpha >= VEIL_MIN) & (alpha < VEIL_MAX)).view(np.uint8)
    hw = hit.view(np.uint8)
    # the backdrop: what is still below VEIL_MIN after the cut (what a stroke's cut added
    # beside the veil is no backdrop: the outline there left a 2 px seam of 128..130)
    bw = ((alpha < VEIL_MIN) & (out < VEIL_MIN)).view(np.uint8)
    # ...and its colours: what the cutout holds below GHOST_MIN (the base alpha's alone)
    cw = (alpha < GHOST_MIN).view(np.uint8)
    if s < 1.0:
        size = (max(1, round(w * s)), max(1, round(h * s)))
        vw = (cv2.resize(vw * 255, size, interpolation=cv2.INTER_AREA) >= 128).view(np.uint8)
        hw = (cv2.resize(hw * 255, size, interpolation=cv2.INTER_AREA) > 0).view(np.uint8)
        bw = (cv2.resize(bw * 255, size, interpolation=cv2.INTER_AREA) >= 128).view(np.uint8)
        cw = (cv2.resize(cw * 255, size, interpolation=cv2.INTER_AREA) >= 128).view(np.uint8)
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * VEIL_OPEN + 1,) * 2)
    pieces = cv2.morphologyEx(vw, cv2.MORPH_OPEN, se)
    _, lbl, stats, _ = cv2.connectedComponentsWithStats(pieces, connectivity=8)
    if not ((hw > 0) & (pieces > 0)).any():
        return
    lab = cv2.cvtColor(np.ascontiguousarray(rgb_w), cv2.COLOR_RGB2LAB)
    k3 = np.ones((3, 3), np.uint8)
    chosen = np.zeros(lbl.shape, bool)
    hh, ww = lbl.shape
    # each keep stroke splits by its own whole spot (what it hits now only decides whether it
    # acts): split by all the spots at once, or by what is left of them, a later stroke would
    # change what an earlier one raised (and lower it)
    for st in hard:
        if st.kind != "keep":
            continue
        spot = cv2.dilate((rasterise([st.scaled(s) if s < 1.0 else st], lbl.shape) > 0)
                          .view(np.uint8), k3) > 0
        spot &= pieces > 0
        for j in np.unique(lbl[spot & (hw > 0)]).tolist():
            x, y, bwid, bhei = (int(v) for v in stats[j, :4])
            y0, y1 = max(0, y - VEIL_RING), min(hh, y + bhei + VEIL_RING)
            x0, x1 = max(0, x - VEIL_RING), min(ww, x + bwid + VEIL_RING)
            box = (slice(y0, y1), slice(x0, x1))
            piece = lbl[box] == j
            d = cv2.distanceTransform((~piece).view(np.uint8), cv2.DIST_L2, 5)
            backdrop = (cw[box] > 0) & (d <= VEIL_RING)
            chosen[box] |= _veil_part(piece, piece & spot[box], backdrop, lab[box],
                                      len(st.points) > 1)
    if not chosen.any():
        return
    # the piece's own soft outline along the backdrop stays
    d_bg = cv2.distanceTransform((bw == 0).view(np.uint8), cv2.DIST_L2, 5)
    up = cv2.dilate(chosen.view(np.uint8), se) & (d_bg > VEIL_RIM).view(np.uint8)
    if s < 1.0:
        up = cv2.resize(up, (w, h), interpolation=cv2.INTER_NEAREST)
    raise_ = veil & (up > 0)
    out[raise_] = 255


def _rgba(rgb: np.ndarray, base_alpha: np.ndarray, alpha: np.ndarray,
          previous_rgba: np.ndarray | None, detail_colours: list[DetailColours]) -> np.ndarray:
    """Colours: the previous cutout's (already decontaminated) where the alpha did not change,
    the photo's where it did, estimated foreground in the detail band."""
    h, w = alpha.shape
    rgba = np.empty((h, w, 4), np.uint8)
    for y0, y1, x0, x1 in _tiles(h, w):
        t = rgba[y0:y1, x0:x1]
        a = alpha[y0:y1, x0:x1]
        if previous_rgba is None:
            t[..., :3] = rgb[y0:y1, x0:x1]
        else:
            t[...] = previous_rgba[y0:y1, x0:x1]
            changed = a != base_alpha[y0:y1, x0:x1]
            if changed.any():
                t[..., :3][changed] = rgb[y0:y1, x0:x1][changed]
        t[..., 3] = a
        np.copyto(t[..., :3], 0, where=(a == 0)[..., None])
    for (y0, y1, x0, x1), fg, band in detail_colours:
        t = rgba[y0:y1, x0:x1, :3]
        t[band & (alpha[y0:y1, x0:x1] > 0)] = fg[band & (alpha[y0:y1, x0:x1] > 0)]
    return rgba


# A painted remove stroke's cut takes thin detail far beyond its brush when its colour is near
# the backdrop's the stroke covers (strands of wool over a pale towel, soft-dev GT27): there
# it fades with its distance from the brush rather than going whole (docs/review.md, Fading
# only the strands a remove stroke takes beyond its brush). A part of the take fades when
# it is thin (what an opening of radius FADE_OPEN x R removes, R the brush radius but at
# least FADE_R_MIN working px), lies more than FADE_GAP working px outside the brush, was held
# soft by the model (median prior below FADE_HELD), has FADE_OUTLINE of its outline on the old
# background, and is a strand hanging from the product: it touches a kept piece at least a
# brush disk (pi R^2) in area and runs FADE_RUN times its own width away from what the cut
# keeps. Without the last two, the towel's weave between its holes (kept on a speck the cut
# left) and a sliver along a soft kept edge (dev 155) faded back too. It keeps base alpha x a
# share that ramps from 0 at FADE_FROM x R beyond the brush's edge to 1 at FADE_TO x R.
FADE_OPEN = 0.25
FADE_R_MIN = 16.0
FADE_GAP = 2.0
FADE_HELD = 0.75
FADE_OUTLINE = 0.5
FADE_RUN = 3.0
FADE_FROM, FADE_TO = 1.0, 2.5


def _strand(c: np.ndarray, ring: np.ndarray, seg: np.ndarray, prior: np.ndarray,
            klab: np.ndarray, body: np.ndarray, d_kept: np.ndarray) -> bool:
    """Whether the thin piece ``c`` of a remove stroke's take (bool crop; ``ring`` its outline,
    the other planes the same crop of the cut, the prior, the cut's kept pieces, whether each
    piece is a body and the distance to what the cut keeps) is a strand hanging from the
    product (see FADE_RUN)."""
    on_kept = ring & seg
    if not on_kept.any() or not body[klab[on_kept]].any():
        return False
    if int((ring & (prior < 0.5) & ~seg).sum()) < FADE_OUTLINE * int(ring.sum()):
        return False
    if float(np.median(prior[c])) >= FADE_HELD:
        return False
    width = 2.0 * float(cv2.distanceTransform(np.pad(c, 1).view(np.uint8), cv2.DIST_L2, 5).max())
    return float(d_kept[c].max()) >= FADE_RUN * width


def _box(m: np.ndarray, pad: int) -> tuple[slice, slice]:
    """The bounding box of ``m``'s pixels, ``pad`` px wider (clipped to the grid)."""
    ys, xs = np.nonzero(m.any(axis=1))[0], np.nonzero(m.any(axis=0))[0]
    h, w = m.shape
    return (slice(max(0, int(ys[0]) - pad), min(h, int(ys[-1]) + pad + 1)),
            slice(max(0, int(xs[0]) - pad), min(w, int(xs[-1]) + pad + 1)))


def _fade_plane(seg_w: np.ndarray, prior_w: np.ndarray, strokes: list[Stroke],
                s: float) -> np.ndarray | None:
    """The share of the base alpha the fading strands keep (FADE_RUN), on the working grid
    (0 elsewhere), or None where nothing fades. Each plane is read in a box that holds all
    it depends on (so the result is the whole grid's): every compose of a list with a painted
    remove stroke calls this."""
    painted = [st.scaled(s) if s < 1.0 else st for st in strokes
               if st.kind == "remove" and len(st.points) > 1]
    if not painted:
        return None
    taken = (prior_w >= 0.5) & ~seg_w
    if not taken.any():
        return None
    hw = seg_w.shape
    radii = [max(st.radius, FADE_R_MIN) for st in painted]
    ks = sorted({max(1, int(round(FADE_OPEN * r))) for r in radii})
    # the opening reads 2k px round a pixel: a box 2k + 1 px round the take opens as the grid
    tb = _box(taken, 2 * ks[-1] + 1)
    tk = taken[tb].view(np.uint8)
    wide = np.ones(tk.shape, bool)
    for k in ks:
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
        wide &= cv2.morphologyEx(tk, cv2.MORPH_OPEN, disk) > 0
    thin_t = (tk > 0) & ~wide
    if not thin_t.any():
        return None
    # a strand touches a body the cut keeps: nothing thin beside one, nothing to fade
    _, klab, kstats, _ = cv2.connectedComponentsWithStats(seg_w.view(np.uint8), connectivity=8)
    body = kstats[:, cv2.CC_STAT_AREA] >= np.pi * min(radii) ** 2
    body[0] = False
    near_body = cv2.dilate(body[klab[tb]].view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    if not (thin_t & near_body).any():
        return None
    share = np.ones(tk.shape, np.float32)
    for st, r in zip(painted, radii, strict=True):
        # the distance to the brush, in a box holding the take's box and the brush
        x0, y0, x1, y1 = st.bounds()
        by = slice(max(0, min(tb[0].start, int(y0) - 2)),
                   min(hw[0], max(tb[0].stop, int(y1) + 3)))
        bx = slice(max(0, min(tb[1].start, int(x0) - 2)),
                   min(hw[1], max(tb[1].stop, int(x1) + 3)))
        brush = _brush_in(st, hw, by, bx)
        d = cv2.distanceTransform((brush == 0).view(np.uint8), cv2.DIST_L2, 5)
        d = d[tb[0].start - by.start:tb[0].stop - by.start,
              tb[1].start - bx.start:tb[1].stop - bx.start]
        share = np.minimum(share, np.clip((d - FADE_FROM * r) / ((FADE_TO - FADE_FROM) * r),
                                          0.0, 1.0))
    # (share > 0 puts a pixel FADE_FROM x R >= 16 px from every brush, past FADE_GAP)
    thin_t &= share > 0
    if not thin_t.any():
        return None
    n, lab, stats, _ = cv2.connectedComponentsWithStats(thin_t.view(np.uint8), connectivity=8)
    k3 = np.ones((3, 3), np.uint8)
    plane = np.zeros(hw, np.float32)
    oy, ox = tb[0].start, tb[1].start
    for i in range(1, n):
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        # a piece that touches what the cut keeps is nearer it than its own size: a box that
        # much wider gives its distances to the kept pixels as the whole grid does
        m = bw + bh + 4
        big = (slice(max(0, oy + y - m), min(hw[0], oy + y + bh + m)),
               slice(max(0, ox + x - m), min(hw[1], ox + x + bw + m)))
        win = (slice(max(0, oy + y - 2), min(hw[0], oy + y + bh + 2)),
               slice(max(0, ox + x - 2), min(hw[1], ox + x + bw + 2)))
        c = np.zeros((win[0].stop - win[0].start, win[1].stop - win[1].start), bool)
        c[oy + y - win[0].start:oy + y + bh - win[0].start,
          ox + x - win[1].start:ox + x + bw - win[1].start] = lab[y:y + bh, x:x + bw] == i
        ring = (cv2.dilate(c.view(np.uint8), k3) > 0) & ~c
        if not (ring & seg_w[win]).any():
            continue
        d_kept = cv2.distanceTransform((~seg_w[big]).view(np.uint8), cv2.DIST_L2, 5)
        d_kept = d_kept[win[0].start - big[0].start:win[0].stop - big[0].start,
                        win[1].start - big[1].start:win[1].stop - big[1].start]
        if _strand(c, ring, seg_w[win], prior_w[win], klab[win], body, d_kept):
            sh = share[win[0].start - oy:win[0].stop - oy, win[1].start - ox:win[1].stop - ox]
            plane[win][c] = sh[c]
    return plane if plane.any() else None


# Each painted remove stroke's brush on the working grid, rasterised in its own box: every
# compose of a list with one (each preview composes the whole list again) reads it for
# _fade_plane, and rasterising it there was ~60 % of that (its Python loop per segment);
# docs/review.md, 2026-12-06 cost41. Keyed by the stroke and the grid; a few planes only.
_BRUSHES: dict[tuple[Stroke, tuple[int, int]], tuple[int, int, np.ndarray]] = {}
_BRUSHES_MAX = 32
_BRUSHES_LOCK = threading.Lock()


def _brush_in(st: Stroke, hw: tuple[int, int], by: slice, bx: slice) -> np.ndarray:
    """``rasterise([st], ...)`` of the box ``by`` x ``bx`` of a grid of shape ``hw`` (its
    origin at most 2 px left of and above the brush, or 0), the same bytes: the brush is
    rasterised once in its own box (origin ``floor(bounds) - 2``, or 0) and copied in. A
    pixel's distance to a point is the same float from either origin, as both lie at or
    left of every point (or are 0): the points' local coordinates are exact."""
    key = (st, hw)
    with _BRUSHES_LOCK:
        got = _BRUSHES.pop(key, None)
        if got is not None:
            _BRUSHES[key] = got  # the newest last
    if got is None:
        x0, y0, x1, y1 = st.bounds()
        oy, ox = max(0, int(np.floor(y0)) - 2), max(0, int(np.floor(x0)) - 2)
        ey = max(oy + 1, min(hw[0], int(np.ceil(y1)) + 3))
        ex = max(ox + 1, min(hw[1], int(np.ceil(x1)) + 3))
        got = (oy, ox, rasterise([st], (ey - oy, ex - ox), origin=(ox, oy)))
        with _BRUSHES_LOCK:
            _BRUSHES[key] = got
            while len(_BRUSHES) > _BRUSHES_MAX:
                del _BRUSHES[next(iter(_BRUSHES))]
    oy, ox, own = got
    out = np.zeros((by.stop - by.start, bx.stop - bx.start), np.uint8)
    ys = slice(max(oy, by.start), min(oy + own.shape[0], by.stop))
    xs = slice(max(ox, bx.start), min(ox + own.shape[1], bx.stop))
    if ys.start < ys.stop and xs.start < xs.stop:
        out[ys.start - by.start:ys.stop - by.start, xs.start - bx.start:xs.stop - bx.start] = \
            own[ys.start - oy:ys.stop - oy, xs.start - ox:xs.stop - ox]
    return out


def _fade_beyond(out: np.ndarray, alpha: np.ndarray, seg_w: np.ndarray, prior_w: np.ndarray,
                 strokes: list[Stroke], s: float) -> None:
    """Raise in ``out`` the strands a painted remove stroke's cut took far beyond its brush
    to the base alpha x their share (``_fade_plane``); never above the base alpha, and only
    ever raising what the compose lowered."""
    plane = _fade_plane(seg_w, prior_w, strokes, s)
    if plane is None:
        return
    h, w = alpha.shape
    if s < 1.0:
        # the upsample blends a strand's share with its working neighbours' 0: its full-size
        # edge would fall below 128 (half of the strands at half size); the neighbours the cut
        # took for something else stay taken
        grown = cv2.dilate(plane, np.ones((3, 3), np.uint8))
        grown[(prior_w >= 0.5) & ~seg_w & (plane == 0)] = 0
        plane = grown
    ys, xs = np.nonzero(plane)
    box = (int((xs.min() - 2) / s), int((ys.min() - 2) / s), int(np.ceil((xs.max() + 3) / s)),
           int(np.ceil((ys.max() + 3) / s)))
    for y0, y1, x0, x1 in _box_tiles(box, h, w):
        sh = plane[y0:y1, x0:x1] if s >= 1.0 else _upsample(plane, (h, w), y0, y1, x0, x1)
        a = alpha[y0:y1, x0:x1]
        o = out[y0:y1, x0:x1]
        np.maximum(o, np.minimum(a, np.round(a * sh)).astype(np.uint8), out=o)

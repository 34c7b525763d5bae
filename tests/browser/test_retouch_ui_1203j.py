"""Retouch editor (static/js/retouch.js), QA 2026-12-03 findings 5, 9 and 10: the status line
says what lies under a stroke that changed nothing; strokes whose preview is the version itself
cannot be applied (and the worker refuses them); a burst of clicks is reported as one; the
status shows whole on a laptop beside "Back to v1", which says what it does."""

# ruff: noqa: F811 (the tests take test_retouch's ``stained`` fixture, imported below)

from __future__ import annotations

import re
import threading

import numpy as np
import pytest
from playwright.sync_api import expect

from cutouts.models import Cutout, JobStatus, ReviewStatus
from cutouts.services import previews, retouch, runs
from tests.browser.test_retouch import (
    BLOB,
    PAGE_PREVIEW_LOADED,
    PANEL,
    H,
    W,
    _alpha,
    _at,
    _editor_on_laptop,
    _retouch_page,
    _shot,
    stained,  # noqa: F401
)
from tests.factories import reviewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BACKDROP = (W - 20, H - 20)  # the model removed it, no haze


@pytest.fixture
def no_broker(monkeypatch):
    """Apply queues nothing: a test runs the version itself (``runs.cutout_run``) when it
    wants it computed."""
    from cutouts.tasks import cutout_run_task

    monkeypatch.setattr(cutout_run_task, "apply_async", lambda *a, **k: None)


def _solid(cutout) -> tuple[int, int]:
    """A point of the product the cutout holds solid 12 px around (read from its mask)."""
    alpha = _alpha(cutout.mask_name)
    solid = alpha == 255
    # every pixel of a 25 x 25 box solid: the box sums of a summed-area table
    s = np.pad(solid.astype(np.int32).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    k = 25
    boxes = s[k:, k:] - s[:-k, k:] - s[k:, :-k] + s[:-k, :-k]
    ys, xs = np.nonzero(boxes == k * k)
    assert len(ys), "no solid product in the cutout"
    i = len(ys) // 2
    return int(xs[i]) + k // 2, int(ys[i]) + k // 2


def _wait_count(editor, n: int) -> None:
    expect(editor).to_have_attribute("data-rt-preview-count", str(n), timeout=20_000)
    expect(editor).to_have_attribute("data-rt-preview", "ready")


def _unchanged(editor, n: int) -> None:
    expect(editor).to_have_attribute("data-rt-unchanged", str(n), timeout=20_000)


def _click_unchanged(page, editor, box, at, n: int, under: str) -> None:
    """A click whose preview changed nothing (the ``n``-th such), and what the page read under
    it ("keep missed", "keep done", ...)."""
    page.mouse.click(*_at(box, *at))
    _unchanged(editor, n)
    expect(editor).to_have_attribute("data-rt-under", under)


@pytest.fixture
def still_engine(monkeypatch):
    """The preview's refinement changes nothing whatever the strokes: a keep click the engine
    would not take, wherever it lands (QA: 32 of 56 keep clicks on clearly missing parts)."""

    class Unchanged:
        def __init__(self, rgba):
            self.rgba = rgba.copy()
            self.timings: dict = {}

    monkeypatch.setattr(previews, "retouch_apply",
                        lambda rgb, alpha, strokes, previous, **kw: Unchanged(previous))


def test_it_says_already_kept_only_where_the_cutout_keeps_it(live_server, page, stained,
                                                             still_engine, log_in):
    """QA finding 5: "Nothing changed: … what it covers is already kept" after a keep click on
    hatched, removed tissue (GT25 v3 at (310, 159))."""
    editor, box, status = _editor_on_laptop(page, live_server, stained, log_in)
    # a keep click on the inner panel the model dropped (hatched: alpha 0 there)
    _click_unchanged(page, editor, box, PANEL, 1, "keep missed")
    expect(status).to_contain_text(
        "Nothing changed: the last keep click did not take what it covers: it is removed "
        "(hatched)")
    expect(status).to_contain_text("Paint Keep (K) across the whole part, or use a larger "
                                   "brush (]).")
    expect(status).not_to_contain_text("already kept")
    # on the product the cutout keeps, it is "already kept"
    solid = _solid(stained)
    _click_unchanged(page, editor, box, solid, 2, "keep done")
    expect(status).to_contain_text("Nothing changed: the last keep click found what it covers "
                                   "already kept.")
    expect(status).not_to_contain_text("Paint Keep")
    # the same for remove: "already removed" only on what is removed
    editor.locator("[data-rt-tool=remove]").click()
    _click_unchanged(page, editor, box, solid, 3, "remove missed")
    expect(status).to_contain_text("the last remove click did not take what it covers: it is "
                                   "kept")
    expect(status).to_contain_text("Paint Remove (R) across the whole part")
    expect(status).not_to_contain_text("already removed")
    page.mouse.click(*_at(box, *BACKDROP))
    _unchanged(editor, 4)
    expect(editor).to_have_attribute("data-rt-under", "remove done")
    expect(status).to_contain_text("Nothing changed: the last remove click found what it covers "
                                   "already removed.")


def test_it_keeps_apply_off_while_the_preview_is_the_version_itself(
        live_server, page, stained, no_broker, log_in):
    """QA finding 9: Apply of strokes that changed nothing made v2, bit-identical to v1, and
    sent it back to review."""
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    editor, box = _retouch_page(page, live_server, stained)
    status = editor.locator("[data-rt-status]")
    apply = editor.locator("[data-rt-apply]")
    editor.locator("[data-rt-tool=remove]").click()
    page.mouse.click(*_at(box, *BACKDROP))  # the real engine: already removed
    _unchanged(editor, 1)
    expect(editor).to_have_attribute("data-rt-noop", "1", timeout=20_000)
    expect(apply).to_be_disabled()
    expect(apply).to_have_attribute("title", re.compile("Nothing to apply: this stroke leaves v1 "
                                                        "pixel for pixel as it is"))
    expect(status).to_contain_text("Nothing to apply: the strokes leave v1 as it is.")
    page.keyboard.press("Enter")  # Enter asks the form, which refuses
    expect(status).to_contain_text("Nothing to apply: this stroke leaves v1 pixel for pixel as "
                                   "it is. Paint where the cutout is wrong, or Clear.")
    assert Cutout.objects.filter(asset=stained.asset).count() == 1
    # a stroke that changes something turns Apply on; undone, it is off again
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]))
    _wait_count(editor, 2)
    expect(editor).to_have_attribute("data-rt-noop", "")
    expect(apply).to_be_enabled()
    editor.locator("[data-rt-undo]").click()
    _wait_count(editor, 1)
    expect(apply).to_be_disabled()
    editor.locator("[data-rt-redo]").click()
    _wait_count(editor, 2)
    expect(apply).to_be_enabled()
    page.keyboard.press("Enter")
    expect(page.locator("[data-rt-applying]")).to_be_visible(timeout=20_000)
    assert Cutout.objects.filter(asset=stained.asset).count() == 2


@pytest.fixture
def held_preview(monkeypatch):
    """The first stroke preview waits in the server until ``release`` is set (``entered``
    says it arrived): strokes drawn meanwhile go out as one list once it answers."""
    entered, release = threading.Event(), threading.Event()
    real = previews.cutout_retouch_preview

    def held(*, cutout, strokes):
        if strokes and not entered.is_set():
            entered.set()
            release.wait(30)
        return real(cutout=cutout, strokes=strokes)

    monkeypatch.setattr(previews, "cutout_retouch_preview", held)
    return entered, release


def test_it_reports_the_strokes_drawn_while_a_preview_computed_as_one(
        live_server, page, stained, held_preview, log_in):
    """QA finding 10 (F8): three quick remove clicks on the backdrop got no report at all
    ("Preview: 4 remove clicks · 179 ms"): the list before the last stroke was never shown."""
    entered, release = held_preview
    editor, box, status = _editor_on_laptop(page, live_server, stained, log_in)
    editor.locator("[data-rt-tool=remove]").click()
    page.mouse.click(*_at(box, *BACKDROP))
    assert entered.wait(20)
    page.mouse.click(*_at(box, BACKDROP[0] - 30, BACKDROP[1]))
    page.mouse.click(*_at(box, BACKDROP[0] - 60, BACKDROP[1]))
    expect(editor).to_have_attribute("data-rt-strokes", "3")
    release.set()
    _wait_count(editor, 3)
    _unchanged(editor, 3)
    # the first click's preview came back after the list had grown: never shown, so the
    # three are reported together, none left out
    expect(editor).to_have_attribute("data-rt-burst", "3")
    expect(status).to_contain_text("Nothing changed with the last 3 remove clicks: what they "
                                   "cover is already removed.")
    expect(status).to_contain_text("Ctrl+Z undoes them one by one.")
    # a burst that changes something is counted as one change
    solid = _solid(stained)
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]))
    page.mouse.click(*_at(box, BACKDROP[0] - 90, BACKDROP[1]))
    _wait_count(editor, 5)
    burst = editor.get_attribute("data-rt-burst")
    assert burst in ("1", "2")  # the debounce may or may not have joined them
    if burst == "2":
        expect(status).to_contain_text(re.compile(
            r"The last 2 remove clicks together took [\d.]+ % of the cutout \(red\)"))
    else:
        expect(status).to_contain_text("Nothing changed: the last remove click")
    # keep and remove clicks, none changing anything: each kind said for what it found
    entered.clear()
    release.clear()
    editor.locator("[data-rt-tool=keep]").click()
    page.mouse.click(*_at(box, *solid))
    assert entered.wait(20)
    editor.locator("[data-rt-tool=remove]").click()
    page.mouse.click(*_at(box, BACKDROP[0] - 120, BACKDROP[1]))
    page.mouse.click(*_at(box, *solid), button="right")  # remove brush: right = keep
    release.set()
    _wait_count(editor, 8)
    expect(editor).to_have_attribute("data-rt-burst", "3")
    expect(status).to_contain_text(
        "Nothing changed with the last 3 strokes: what 2 keep clicks cover is already kept; "
        "what 1 remove click covers is already removed.")


def _v2(stained) -> Cutout:
    """v2 of the stained cutout (the ghost blob removed), computed here as the worker would."""
    v2 = retouch.cutout_retouch_strokes(
        cutout=stained, user=reviewer(),
        strokes=[{"kind": "remove", "radius": 8, "points": [list(BLOB[:2])]}])
    assert runs.cutout_run(cutout_id=v2.pk) == "done"
    return Cutout.objects.get(pk=v2.pk)


# report() on a made-up preview (all removed) that ``burst`` ("kind@x" clicks) left as it
# was, with the editor's list taken as changing nothing: the status it writes
LONGEST_REPORT = """(burst) => {
    const ed = document.querySelector('#retouch-strokes [data-retouch]')._rtEditor;
    const w = 64, h = 48, blank = { w: w, h: h, a: new Uint8Array(w * h) };
    const strokes = burst.map((b) => ({
        kind: b.split('@')[0], radius: ed.fullW / 20,
        points: [[Number(b.split('@')[1]) + ed.fullW / 2, ed.fullH / 2]] }));
    ed.noopKey = JSON.stringify(ed.strokes);
    ed.report(blank, blank, strokes, ed.strokes.length);
    return ed.status.textContent; }"""


def _clipped(status) -> bool:
    return status.evaluate("(el) => el.scrollHeight > el.clientHeight + 1")


@pytest.mark.parametrize("viewport", [(1366, 900), (1280, 720)])
def test_it_shows_the_whole_status_beside_back_to_v1_on_a_laptop(live_server, page, request,
                                                                  stained, no_broker, log_in,
                                                                  viewport):
    """QA finding 10 (F7): "…changed the alpha of 0.2 % of the cutout; Ctrl+Z undoes i…" at
    1366 x 900 once "↶ Back to v1" shares the row: the timing and "Enter applies." cut off."""
    v2 = _v2(stained)
    log_in(page, reviewer())
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    editor, box = _retouch_page(page, live_server, v2)
    status = editor.locator("[data-rt-status]")
    expect(editor.locator("[data-rt-parent-link]")).to_be_visible()
    page.wait_for_function(PAGE_PREVIEW_LOADED)
    editor.locator("[data-rt-tool=remove]").click()
    page.mouse.click(*_at(box, *_solid(v2)))  # a remove click that takes a part: a long report
    _wait_count(editor, 1)
    expect(status).to_contain_text("Enter applies.")
    _shot(page, request, "status")
    assert not _clipped(status), status.text_content()
    # the longest reports: a keep click that took nothing, and a burst of two kinds, with
    # "nothing to apply" (made by the editor itself, from a made-up preview)
    for burst in (["keep@0"], ["remove@0", "remove@0", "keep@0"]):
        text = page.evaluate(LONGEST_REPORT, burst)
        assert text.startswith("Nothing changed"), text
        assert text.endswith("Nothing to apply: the strokes leave v2 as it is."), text
        assert not _clipped(status), text
    # the picture still fits above the Apply row
    foot = editor.locator(".rt-foot").bounding_box()
    view = editor.locator(".rt-view").bounding_box()
    assert view["y"] + view["height"] <= foot["y"] + 1, (view, foot)


def test_it_says_back_to_v1_retouches_v1_again_and_v2_stays(live_server, page, stained,
                                                            no_broker, log_in):
    """QA finding 10 (F11): "↶ Back to v1 undoes it", but Back only opens v1's editor; v2
    stays in review."""
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    editor, box = _retouch_page(page, live_server, stained)
    editor.locator("[data-rt-tool=remove]").click()
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]))
    _wait_count(editor, 1)
    page.keyboard.press("Enter")
    expect(page.locator("[data-rt-applying]")).to_be_visible(timeout=20_000)
    v2 = Cutout.objects.get(asset=stained.asset, version=2)
    assert runs.cutout_run(cutout_id=v2.pk) == "done"  # the worker's part, here
    fresh = page.locator(f"#retouch-strokes [data-retouch][data-cutout='{v2.pk}']")
    expect(fresh).to_have_attribute("data-rt-restored", "1", timeout=20_000)
    status = fresh.locator("[data-rt-status]")
    expect(status).to_contain_text("Version 2 is ready (applied at full size): paint the next "
                                   "fix; ↶ Back to v1 retouches v1 again (v2 stays in review "
                                   "until you choose or approve one).")
    expect(status).not_to_contain_text("undoes")
    # and so it does: v1's editor, v2 still waiting for review
    page.locator("[data-rt-parent-link]").click()
    expect(page.locator("#retouch-strokes [data-retouch]")).to_have_attribute(
        "data-cutout", str(stained.pk))
    assert Cutout.objects.get(pk=v2.pk).review_status == ReviewStatus.PENDING


def test_it_says_why_the_worker_refused_strokes_applied_before_their_preview(
        live_server, page, stained, held_preview, no_broker, log_in):
    """The worker's check behind Apply's: Enter before the preview came back (Apply is on
    then) applies a remove click on the removed backdrop; the run fails saying why, and the
    page offers v1 again."""
    entered, release = held_preview
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    editor, box = _retouch_page(page, live_server, stained)
    editor.locator("[data-rt-tool=remove]").click()
    page.mouse.click(*_at(box, *BACKDROP))
    assert entered.wait(20)
    expect(editor.locator("[data-rt-apply]")).to_be_enabled()
    page.keyboard.press("Enter")
    expect(page.locator("[data-rt-applying]")).to_be_visible(timeout=20_000)
    release.set()
    v2 = Cutout.objects.get(asset=stained.asset, version=2)
    assert runs.cutout_run(cutout_id=v2.pk) == "failed"
    failed = page.locator("[data-rt-failed]")
    expect(failed).to_contain_text("Version 2 is failed: Nothing to apply: the result of these "
                                   "strokes is v1 pixel for pixel", timeout=20_000)
    expect(failed.locator("[data-rt-parent-again]")).to_have_attribute(
        "href", f"/cutouts/review/retouch/{stained.pk}/")
    assert Cutout.objects.get(pk=v2.pk).status == JobStatus.FAILED
    assert Cutout.objects.get(pk=stained.pk).review_status == ReviewStatus.PENDING

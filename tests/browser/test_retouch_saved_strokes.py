"""Unapplied retouch strokes saved in the tab (static/js/retouch.js, QA 2026-12-06 F6): a reload
restores them onto the very version they were painted on, previewed and ready to apply;
Discard, Apply and a newer version clear them; leaving by the app's own links asks in the
app's words, and not at all where the strokes come along (the same version's card and
retouch page)."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from cutouts.models import Cutout
from cutouts.services import batches, runs
from tests.browser.test_retouch import (
    BLOB,
    PAGE_PREVIEW_LOADED,
    PANEL,
    _at,
    _photo,
    _retouch_page,
    stained,  # noqa: F401 (a fixture)
)
from tests.factories import reviewer
from tests.workers import running_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAVED = """() => Object.keys(sessionStorage)
    .filter((k) => k.startsWith('cutroom.retouch.unapplied:'))
    .map((k) => [k, JSON.parse(sessionStorage.getItem(k))])"""


def _no_dialog(page) -> list[str]:
    """Every dialog the page opens, answered "stay" (a reload would hang on one)."""
    seen: list[str] = []

    def stay(dialog):
        seen.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", stay)
    return seen


def _paint_two(page, editor, box) -> None:
    """A keep stroke across the panel the model dropped and a remove click on the ghost blob,
    both previewed."""
    editor.locator("[data-rt-tool=keep]").click()
    page.mouse.move(*_at(box, PANEL[0] - 50, PANEL[1]))
    page.mouse.down()
    page.mouse.move(*_at(box, PANEL[0] + 50, PANEL[1]), steps=8)
    page.mouse.up()
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]), button="right")  # keep brush: right = remove
    expect(editor).to_have_attribute("data-rt-strokes", "2")
    expect(editor).to_have_attribute("data-rt-preview-count", "2", timeout=20_000)
    expect(editor).to_have_attribute("data-rt-preview", "ready")


def _page_preview_alpha(page, x: int, y: int) -> int:
    return page.evaluate("""([x, y]) => {
        const img = document.querySelector('#retouch-strokes .rt-preview');
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const k = img.naturalWidth / 640;
        return ctx.getImageData(Math.round(x * k), Math.round(y * k), 1, 1).data[3];
    }""", [x, y])


def test_it_restores_unapplied_strokes_after_a_reload_and_applies_them(
        live_server, page, stained, log_in):  # noqa: F811
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    editor, box = _retouch_page(page, live_server, stained)
    _paint_two(page, editor, box)
    painted = json.loads(editor.locator("[data-rt-strokes]").input_value())
    [(key, entry)] = page.evaluate(SAVED)
    assert key.endswith(f":{stained.asset_id}:{stained.pk}") and entry["strokes"] == painted
    assert entry["version"] == "1" and entry["working"].startswith("640x480:")

    dialogs = _no_dialog(page)
    page.reload()  # no "Leave site?": the strokes are saved
    editor = page.locator("#retouch-strokes [data-retouch]")
    line = editor.locator("[data-rt-restored-line]")
    expect(line.locator("[data-rt-restored-words]")).to_have_text(
        "Restored 2 unapplied strokes from before the reload — Apply or Discard")
    expect(line.locator("button[data-rt-discard]")).to_be_visible()
    expect(editor).to_have_attribute("data-rt-strokes", "2")
    assert json.loads(editor.locator("[data-rt-strokes]").input_value()) == painted
    # previewed again: the panel kept and the blob gone, as before the reload
    expect(editor).to_have_attribute("data-rt-preview-count", "2", timeout=20_000)
    expect(editor).to_have_attribute("data-rt-preview", "ready")
    page.wait_for_function("""() => {
        const i = document.querySelector('#retouch-strokes .rt-preview');
        return i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0; }""")
    assert _page_preview_alpha(page, *PANEL) > 200
    assert _page_preview_alpha(page, *BLOB[:2]) < 30
    expect(editor.locator("[data-rt-apply]")).to_be_enabled()

    with running_worker(queues="cutouts-interactive"):
        editor.locator("[data-rt-apply]").click()
        expect(page.locator("[data-rt-applying]")).to_contain_text(
            "Applying 2 strokes as version 2")
        assert page.evaluate(SAVED) == []  # cleared as the answer brought version 2
        v2 = Cutout.objects.get(asset=stained.asset, version=2)
        fresh = page.locator(f"#retouch-strokes [data-retouch][data-cutout='{v2.pk}']")
        expect(fresh).to_have_attribute("data-rt-ready", "1", timeout=120_000)
    assert v2.strokes == painted
    page.reload()
    fresh = page.locator(f"#retouch-strokes [data-retouch][data-cutout='{v2.pk}']")
    expect(fresh).to_have_attribute("data-rt-restored-strokes", "0")
    expect(fresh.locator("[data-rt-restored-line]")).to_have_count(0)
    expect(fresh).to_have_attribute("data-rt-strokes", "0")
    # nor on v1, whose strokes were applied
    editor, _ = _retouch_page(page, live_server, stained)
    expect(editor).to_have_attribute("data-rt-restored-strokes", "0")
    expect(editor).to_have_attribute("data-rt-strokes", "0")
    assert dialogs == []


def test_it_discards_restored_strokes(live_server, page, stained, log_in,  # noqa: F811
                                      screenshot):
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    editor, box = _retouch_page(page, live_server, stained)
    page.wait_for_function(PAGE_PREVIEW_LOADED)
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]), button="right")
    expect(editor).to_have_attribute("data-rt-preview-count", "1", timeout=20_000)
    dialogs = _no_dialog(page)
    page.reload()
    editor = page.locator("#retouch-strokes [data-retouch]")
    line = editor.locator("[data-rt-restored-line]")
    expect(line.locator("[data-rt-restored-words]")).to_have_text(
        "Restored 1 unapplied stroke from before the reload — Apply or Discard")
    screenshot("restored")
    line.get_by_role("button", name="Discard").click()
    expect(line).to_have_count(0)
    expect(editor).to_have_attribute("data-rt-strokes", "0")
    expect(editor.locator("[data-rt-status]")).to_contain_text(
        "Discarded 1 restored stroke; v1 shows as it is")
    assert page.evaluate(SAVED) == []
    page.reload()
    editor = page.locator("#retouch-strokes [data-retouch]")
    expect(editor).to_have_attribute("data-rt-restored-strokes", "0")
    expect(editor).to_have_attribute("data-rt-strokes", "0")
    assert dialogs == []


def test_it_restores_the_brush_in_hand_with_the_strokes_after_a_reload(
        live_server, page, stained, log_in):  # noqa: F811
    """QA 2026-12-06 (qa36b): the strokes came back after a reload but the Keep brush was
    picked up again, so the next click on the ghost a reviewer was removing kept it."""
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    editor, box = _retouch_page(page, live_server, stained)
    page.wait_for_function(PAGE_PREVIEW_LOADED)
    editor.locator("[data-rt-tool=remove]").click()
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]))
    expect(editor).to_have_attribute("data-rt-preview-count", "1", timeout=20_000)
    [(_, entry)] = page.evaluate(SAVED)
    assert entry["tool"] == "remove" and entry["strokes"][0]["kind"] == "remove"
    dialogs = _no_dialog(page)
    page.reload()
    editor = page.locator("#retouch-strokes [data-retouch]")
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    expect(editor.locator("[data-rt-tool=remove]")).to_have_attribute("aria-pressed", "true")
    expect(editor.locator("[data-rt-tool=keep]")).to_have_attribute("aria-pressed", "false")
    # the brush picked after the last stroke is the one in hand (the D key too)
    editor.locator(".rt-canvas").hover()
    page.keyboard.press("d")
    expect(editor.locator("[data-rt-tool=detail]")).to_have_attribute("aria-pressed", "true")
    [(_, entry)] = page.evaluate(SAVED)
    assert entry["tool"] == "detail" and len(entry["strokes"]) == 1
    page.reload()
    editor = page.locator("#retouch-strokes [data-retouch]")
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    expect(editor.locator("[data-rt-tool=detail]")).to_have_attribute("aria-pressed", "true")
    # nothing saved, nothing to come back to: Discard, and the page starts with Keep again
    editor.get_by_role("button", name="Discard").click()
    assert page.evaluate(SAVED) == []
    page.reload()
    editor = page.locator("#retouch-strokes [data-retouch]")
    expect(editor).to_have_attribute("data-rt-restored-strokes", "0")
    expect(editor.locator("[data-rt-tool=keep]")).to_have_attribute("aria-pressed", "true")
    assert dialogs == []


def test_it_drops_strokes_saved_for_an_older_version_after_a_re_run(live_server, page,
                                                                    make_cutouts, log_in):
    (v1,) = make_cutouts([("SAVED-1", _photo(seed=3)[0], "saved-1.jpg")])
    log_in(page, reviewer())
    editor, box = _retouch_page(page, live_server, v1)
    page.wait_for_function(PAGE_PREVIEW_LOADED)
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]))
    page.mouse.click(*_at(box, BLOB[0] + 30, BLOB[1] + 30))
    expect(editor).to_have_attribute("data-rt-strokes", "2")
    assert len(page.evaluate(SAVED)) == 1
    # meanwhile the photo is cut again (another reviewer, the API): v2
    v2 = batches.cutout_rerun(asset=v1.asset, profile_name="fast")
    assert runs.cutout_run(cutout_id=v2.pk) == "done"

    dialogs = _no_dialog(page)
    editor, _ = _retouch_page(page, live_server, Cutout.objects.get(pk=v2.pk))
    expect(editor).to_have_attribute("data-cutout", str(v2.pk))
    expect(editor).to_have_attribute("data-rt-dropped", "2")
    expect(editor).to_have_attribute("data-rt-strokes", "0")
    expect(editor.locator("[data-rt-restored-line]")).to_have_count(0)
    expect(editor.locator("[data-rt-status]")).to_have_text(
        "2 strokes painted on v1 and not applied were dropped: this is v2, and strokes fit only "
        "the version they were painted on.")
    assert page.evaluate(SAVED) == []
    # gone for good: v1's page does not offer them either
    editor, _ = _retouch_page(page, live_server, v1)
    expect(editor).to_have_attribute("data-rt-restored-strokes", "0")
    expect(editor).to_have_attribute("data-rt-strokes", "0")
    assert dialogs == []


def test_it_asks_in_its_own_words_before_a_re_run_drops_the_strokes(live_server, page,
                                                                    make_cutouts, log_in):
    (v1,) = make_cutouts([("SAVED-2", _photo(seed=3)[0], "saved-2.jpg")])
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/cutouts/review/card/{v1.pk}/")
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(v1.pk))
    page.keyboard.press("e")
    editor = page.locator(".rv-stage-retouch [data-retouch]")
    expect(editor).to_be_visible()
    page.mouse.click(*_at(editor.locator(".rt-canvas").bounding_box(), BLOB[0], BLOB[1]))
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.locator("[data-rv-open=rerun]").click()
    # a setting changed: the panel as it opens would only make v1 again (QA40 L3)
    page.select_option("[data-rv-panel=rerun] select[name=strength]", "strong")
    page.locator("#rv-rerun-submit").click()
    expect(page.locator("#review-card")).to_have_attribute("data-version", "2")
    assert asked == [
        "1 retouch stroke is not applied yet (painted on v1; Enter applies it).\n"
        "This makes a new version, and strokes fit only the version they were painted on: it "
        "is dropped.\n\nDrop it and go on?"]
    assert page.evaluate(SAVED) == []


def test_it_asks_before_an_app_link_leaves_the_strokes_but_not_for_their_own_pages(
        live_server, page, make_cutouts, log_in):
    (v1,) = make_cutouts([("SAVED-3", _photo(seed=3)[0], "saved-3.jpg")])
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/cutouts/review/card/{v1.pk}/")
    card = page.locator("#review-card")
    expect(card).to_have_attribute("data-cutout", str(v1.pk))
    page.keyboard.press("e")
    editor = page.locator(".rv-stage-retouch [data-retouch]")
    expect(editor).to_be_visible()
    page.mouse.click(*_at(editor.locator(".rt-canvas").bounding_box(), BLOB[0], BLOB[1]))
    expect(editor).to_have_attribute("data-rt-preview-count", "1", timeout=20_000)
    expect(editor).to_have_attribute("data-rt-preview", "ready")

    asked: list[tuple[str, str]] = []
    page.once("dialog", lambda d: (asked.append((d.type, d.message)), d.dismiss()))
    card.get_by_role("link", name="Queue").click()
    expect(editor.locator("[data-rt-status]")).to_contain_text("Strokes kept")
    assert asked == [("confirm",
                      "1 retouch stroke is not applied yet (painted on v1; Enter applies it).\n"
                      "It stays saved in this tab: open v1 again and it comes back; opening a newer"
                      " version drops it."
                      "\n\nGo on without applying it?")]
    expect(page).to_have_url(re.compile(rf"/cutouts/review/card/{v1.pk}/$"))

    # The retouch page of this very version: the stroke comes along, nothing asked.
    page.on("dialog", lambda d: pytest.fail(f"asked: {d.type} {d.message}"))
    page.locator("#rv-retouch").click()
    expect(page).to_have_url(re.compile(rf"/cutouts/review/retouch/{v1.pk}/$"))
    editor = page.locator("#retouch-strokes [data-retouch]")
    expect(editor.locator("[data-rt-restored-words]")).to_have_text(
        "Restored 1 unapplied stroke painted on v1 earlier in this tab — Apply or Discard")
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    # ... and back to the card: the Retouch view opens with it
    page.get_by_role("link", name="Back to the card").click()
    editor = page.locator(".rv-stage-retouch [data-retouch]")
    expect(editor).to_be_visible()
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    expect(editor.locator("[data-rt-restored-line]")).to_contain_text("Restored 1 unapplied stroke")


def test_it_keeps_no_shorter_list_and_promises_nothing_when_the_tab_cannot_save(
        live_server, page, stained, log_in):  # noqa: F811
    # QA 2026-12-06 (qa35c B1, B3): with the tab's storage full, a reload restored the list
    # as it was before it filled, as if it were all; and leaving by a link promised the
    # strokes stayed saved, then the browser asked "Leave site?" a second time.
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    editor, box = _retouch_page(page, live_server, stained)
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]))
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    assert len(page.evaluate(SAVED)) == 1
    page.evaluate("""() => {
        const set = Storage.prototype.setItem;
        Storage.prototype.setItem = function (k, v) {
          if (k.startsWith('cutroom.retouch.')) {
            throw new DOMException('full', 'QuotaExceededError');
          }
          return set.call(this, k, v);
        }; }""")
    page.mouse.click(*_at(box, BLOB[0] + 30, BLOB[1] + 30))
    expect(editor).to_have_attribute("data-rt-strokes", "2")
    assert page.evaluate(SAVED) == []  # not the one-stroke list of before

    asked: list[str] = []
    page.on("dialog", lambda d: (asked.append(f"{d.type}: {d.message}"), d.accept()))
    page.get_by_role("link", name="Queue").first.click()
    expect(page).to_have_url(re.compile(r"/cutouts/review/$"))
    assert asked == [
        "confirm: 2 retouch strokes are not applied yet (painted on v1; Enter applies them).\n"
        "This tab cannot keep them (its storage is off or full): leaving loses them.\n\n"
        "Leave and lose them?"]
    editor, _ = _retouch_page(page, live_server, stained)
    expect(editor).to_have_attribute("data-rt-restored-strokes", "0")
    expect(editor).to_have_attribute("data-rt-strokes", "0")


def test_it_saves_the_strokes_again_when_the_re_run_that_dropped_them_fails(
        live_server, page, make_cutouts, log_in):
    # QA 2026-12-06 (qa35c B4): a re-run whose request failed left the strokes on the card,
    # no longer saved and no longer guarded: a reload lost them without a word.
    (v1,) = make_cutouts([("SAVED-4", _photo(seed=3)[0], "saved-4.jpg")])
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/cutouts/review/card/{v1.pk}/")
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(v1.pk))
    page.keyboard.press("e")
    editor = page.locator(".rv-stage-retouch [data-retouch]")
    expect(editor).to_be_visible()
    page.mouse.click(*_at(editor.locator(".rt-canvas").bounding_box(), BLOB[0], BLOB[1]))
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    page.route(f"**/cutouts/review/card/{v1.pk}/", lambda route: route.abort()
               if "action=rerun" in (route.request.post_data or "") else route.continue_())
    page.once("dialog", lambda d: d.accept())
    with page.expect_event("requestfailed"):
        page.locator("[data-rv-open=rerun]").click()
        page.select_option("[data-rv-panel=rerun] select[name=strength]", "strong")
        page.locator("#rv-rerun-submit").click()
    page.evaluate("""async () => {  // the failure's handlers run after the event: a moment
        for (let i = 0; i < 100 && !Object.keys(sessionStorage).length; i++)
          await new Promise((r) => setTimeout(r, 50)); }""")
    assert len(page.evaluate(SAVED)) == 1
    dialogs = _no_dialog(page)
    page.reload()
    editor = page.locator(".rv-stage-retouch [data-retouch]")
    expect(editor).to_have_attribute("data-rt-restored-strokes", "1")
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    assert dialogs == []


def test_it_keeps_the_redo_list_and_the_zoom_through_a_reload(
        live_server, page, stained, log_in):  # noqa: F811
    """QA 2026-12-06 (L2): the strokes came back after a reload but the one undone before it
    could not be redone, and the zoom and pan started afresh."""
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    editor, box = _retouch_page(page, live_server, stained)
    _paint_two(page, editor, box)
    painted = json.loads(editor.locator("[data-rt-strokes]").input_value())
    editor.locator("[data-rt-undo]").click()
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    editor.locator("[data-rt-zoom='2']").click()
    expect(editor).to_have_attribute("data-rt-zoom", "2")
    view = editor.locator(".rt-view")
    view.evaluate("v => { v.scrollLeft = v.scrollWidth - v.clientWidth; v.scrollTop = 0; }")
    panned = view.evaluate("v => v.scrollLeft")
    assert panned > 100
    dialogs = _no_dialog(page)
    page.reload()
    editor = page.locator("#retouch-strokes [data-retouch]")
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    expect(editor).to_have_attribute("data-rt-zoom", "2")
    view = editor.locator(".rt-view")
    assert abs(view.evaluate("v => v.scrollLeft") - panned) <= 2
    redo = editor.locator("[data-rt-redo]")
    expect(redo).to_be_enabled()
    redo.click()
    expect(editor).to_have_attribute("data-rt-strokes", "2")
    assert json.loads(editor.locator("[data-rt-strokes]").input_value()) == painted
    expect(redo).to_be_disabled()
    # all undone, the redo list alone still comes back (nothing to apply or discard)
    editor.locator("[data-rt-undo]").click()
    editor.locator("[data-rt-undo]").click()
    expect(editor).to_have_attribute("data-rt-strokes", "0")
    page.reload()
    editor = page.locator("#retouch-strokes [data-retouch]")
    expect(editor.locator("[data-rt-restored-line]")).to_have_count(0)
    editor.locator("[data-rt-redo]").click()
    editor.locator("[data-rt-redo]").click()
    expect(editor).to_have_attribute("data-rt-strokes", "2")
    assert json.loads(editor.locator("[data-rt-strokes]").input_value()) == painted
    assert dialogs == []


def test_it_reports_only_the_stroke_painted_after_restored_ones(
        live_server, page, stained, log_in):  # noqa: F811
    """ui44 (2026-12-07, with verify44 L1): the restored strokes' preview, shown without a
    report, was no start for the next one: the first stroke after a reload was told with the
    two restored ones, "The last 3 strokes together …"."""
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    editor, box = _retouch_page(page, live_server, stained)
    _paint_two(page, editor, box)
    _no_dialog(page)
    page.reload()
    editor = page.locator("#retouch-strokes [data-retouch]")
    expect(editor).to_have_attribute("data-rt-preview-count", "2", timeout=20_000)
    expect(editor).to_have_attribute("data-rt-preview", "ready")
    page.wait_for_function(PAGE_PREVIEW_LOADED)
    box = editor.locator(".rt-canvas").bounding_box()
    page.mouse.click(*_at(box, BLOB[0] + 30, BLOB[1]), button="right")  # a remove click
    expect(editor).to_have_attribute("data-rt-preview-count", "3", timeout=20_000)
    expect(editor).to_have_attribute("data-rt-burst", "1")
    said = editor.locator("[data-rt-status] .rt-said").inner_text()
    assert "together" not in said, said

"""A running version's pending note in Debian's Chromium: while the row runs only the note is
refreshed (focus, an open panel and the page around it stay put), and the server answers its
poll with the note alone, not the whole card; its one live region says the stage and percent
and changes only when they do; the finished version swaps the whole card (or retouch page)
once. The row's status and progress are written here between polls,
as a worker would."""

import json

import pytest
from playwright.sync_api import expect

from cutouts.imaging import progress
from cutouts.models import Cutout
from cutouts.services import retouch as retouch_services
from cutouts.services import review as review_services
from cutouts.services import runs
from tests.factories import reviewer
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the live region heard: each text it was given, once per change (a screen reader
# announces a polite live region's changes, so an unchanged one must not be written).
LISTEN = """() => {
    window.__live = document.querySelector('[data-pending-said]');
    window.__heard = [];
    if (window.__live) new MutationObserver(() => window.__heard.push(window.__live.textContent))
        .observe(window.__live, {childList: true, characterData: true, subtree: true});
}"""
SAME_LIVE = """() => window.__live.isConnected &&
    window.__live === document.querySelector('[data-pending-said]')"""


@pytest.fixture
def v1(make_cutouts):
    """A finished v1 (fake model; no broker: the versions made from it stay queued until
    this test runs them)."""
    (cutout,) = make_cutouts([("POLL-1", product_jpeg(640, 480, seed=1), "poll-1.jpg")])
    return cutout


def _running(cutout: Cutout) -> str:
    """Claim ``cutout`` as a worker does (running, "Reading the photo", 0 %): its run token."""
    token = runs._claim(cutout.pk, "w1:1")
    assert token
    return token


def _reached(cutout: Cutout, token: str, stage: str, fraction: float) -> None:
    runs.RunProgress(cutout.pk, token)(stage, fraction)


def _note_polls(page, note_id: str) -> list:
    """The responses to the note's own polls from now on (their bodies are read later: not
    in Playwright's event handler)."""
    polls: list = []
    page.on("response", lambda r: polls.append(r)
            if r.request.headers.get("hx-target") == note_id else None)
    return polls


def _only_notes(polls: list, note_id: str, whole_id: str) -> None:
    """Every poll so far was answered with the note alone."""
    bodies = [r.text() for r in list(polls)]
    assert len(bodies) >= 2, len(bodies)
    for body in bodies:
        assert f'id="{note_id}"' in body and f'id="{whole_id}"' not in body, body[:500]
        assert len(body) < 2_000, len(body)


def _focused(page, selector: str) -> bool:
    return page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector)


def test_it_refreshes_only_the_cards_pending_note_and_keeps_focus_and_the_open_panel(
        live_server, page, v1, log_in):
    user = log_in(page, reviewer())
    new = review_services.cutout_review_rerun(
        cutout=v1, user=user, model=None, tta=False, shadow="none", strength="normal",
        profile=None, comment="")
    token = _running(new)
    _reached(new, token, progress.REFINING, 0.30)
    page.goto(f"{live_server.url}/cutouts/review/card/{new.pk}/")
    card = page.locator("#review-card")
    expect(card).to_have_attribute("data-status", "running")
    bar = page.locator("[data-rv-progress]")
    expect(bar).to_have_attribute("value", "30")
    page.evaluate(LISTEN)
    polls = _note_polls(page, "rv-pending-note")
    rerun = page.locator("[data-rv-open=rerun]")
    rerun.focus()
    waited = page.locator("[data-rv-waited]").text_content()
    _reached(new, token, progress.REFINING, 0.52)
    page.wait_for_timeout(3_000)
    # The note moved on (the seconds, the bar and its stage) and the focus did not.
    assert _focused(page, "[data-rv-open=rerun]")
    expect(bar).to_have_attribute("value", "52")
    assert page.locator("[data-rv-waited]").text_content() != waited
    live = page.locator("#review-card [data-pending-said]")
    expect(live).to_have_text("Refining edges, 52 %")
    expect(live).to_have_attribute("role", "status")
    expect(bar).to_have_attribute("aria-valuetext", "Refining edges, 52 %")

    page.keyboard.press("Enter")  # opens the Re-run panel, focus on its send button
    panel = page.locator("[data-rv-panel=rerun]")
    expect(panel).to_be_visible()
    assert _focused(page, "#rv-rerun-submit")
    _reached(new, token, progress.COLOURS, 0.80)
    page.wait_for_timeout(3_000)
    expect(live).to_have_text("Cleaning edge colours, 80 %")
    expect(bar).to_have_attribute("value", "80")
    expect(panel).to_be_visible()
    assert _focused(page, "#rv-rerun-submit")
    # One live region all along, written once per change (six polls, two changes).
    assert page.evaluate(SAME_LIVE)
    assert page.evaluate("window.__heard") == ["Refining edges, 52 %",
                                               "Cleaning edge colours, 80 %"]
    assert "every" not in (card.get_attribute("hx-trigger") or "")
    _only_notes(polls, "rv-pending-note", "review-card")

    # Finished: the whole card is swapped once, as before (the heading takes the focus).
    assert runs._cutout_execute(new.pk, token) == "done"
    expect(card).to_have_attribute("data-status", "done", timeout=10_000)
    expect(page.locator(".rv-stage-side .rv-cutout")).to_be_visible()
    expect(page.locator("[data-pending-note]")).to_have_count(0)
    expect(page.locator("#rv-approve")).to_be_visible()
    assert _focused(page, "#review-card [data-rv-heading]")


def test_it_refreshes_only_the_retouch_pages_pending_note_and_then_opens_the_editor(
        live_server, page, v1, log_in):
    user = log_in(page, reviewer())
    new = retouch_services.cutout_retouch_strokes(
        cutout=v1, user=user, comment="",
        # across the kept box's edge: a retouch that changes nothing is refused
        strokes=json.dumps([{"kind": "remove", "radius": 6, "points": [[150, 240], [200, 240]]}]))
    token = _running(new)
    _reached(new, token, progress.STROKES, 0.20)
    page.goto(f"{live_server.url}/cutouts/review/retouch/{new.pk}/")
    applying = page.locator("[data-rt-applying]")
    expect(applying).to_contain_text("as version 2")
    bar = page.locator("[data-rt-progress]")
    expect(bar).to_have_attribute("value", "20")
    page.evaluate(LISTEN)
    polls = _note_polls(page, "rt-pending-note")
    page.evaluate("window.__applying = document.querySelector('[data-rt-applying]')")
    back = page.get_by_role("link", name="Back to the card")
    back.focus()
    _reached(new, token, progress.REFINING, 0.60)
    page.wait_for_timeout(3_000)
    assert page.evaluate("document.activeElement.textContent") == "Back to the card"
    expect(bar).to_have_attribute("value", "60")
    # The picture's box is not a live region: only the stage and percent are.
    assert applying.get_attribute("role") is None
    live = page.locator("#retouch-main [data-pending-said]")
    expect(live).to_have_text("Refining edges, 60 %")
    expect(bar).to_have_attribute("aria-valuetext", "Refining edges, 60 %")
    # The picture's box (retouch.js's kept view lives in it) stayed; the live region too.
    assert page.evaluate("window.__applying === document.querySelector('[data-rt-applying]')")
    assert page.evaluate(SAME_LIVE)
    assert page.evaluate("window.__heard") == ["Refining edges, 60 %"]
    _only_notes(polls, "rt-pending-note", "retouch-main")

    # Finished: the page's body is swapped once, into the editor of the new version.
    assert runs._cutout_execute(new.pk, token) == "done"
    editor = page.locator(f"#retouch-strokes [data-retouch][data-cutout='{new.pk}']")
    expect(editor).to_be_visible(timeout=10_000)
    expect(applying).to_have_count(0)
    expect(page.locator("[data-pending-note]")).to_have_count(0)
    expect(page.locator("h1")).to_contain_text("v2")


def test_it_moves_the_cards_status_chip_on_with_the_note(live_server, page, v1, log_in):
    """QA 2026-12-06: the chip under the card's title read "queued" above "Version 2 is
    running … 60 %" until the version was done: the poll swapped the note alone. So did the
    version's row in the Versions list."""
    user = log_in(page, reviewer())
    new = review_services.cutout_review_rerun(
        cutout=v1, user=user, model=None, tta=False, shadow="none", strength="normal",
        profile=None, comment="")
    page.goto(f"{live_server.url}/cutouts/review/card/{new.pk}/")
    chip = page.locator("#review-card .rv-status #rv-review-status")
    expect(chip).to_have_text("queued")
    expect(page.locator("#rv-pending-note")).to_contain_text("is queued")
    # the version's row in the Versions list moves on with them (it said "queued" too)
    row = page.locator(".rv-versions li[data-version='2']")
    expect(row).to_have_attribute("data-state", "queued")
    polls = _note_polls(page, "rv-pending-note")
    page.locator("[data-rv-open=rerun]").focus()
    token = _running(new)
    _reached(new, token, progress.REFINING, 0.40)
    expect(page.locator("#rv-pending-note")).to_contain_text("is running")
    expect(chip).to_have_text("running")
    expect(chip).to_have_attribute("data-status", "running")
    expect(page.locator("#rv-review-status")).to_have_count(1)
    expect(row).to_have_attribute("data-state", "running")
    expect(row.locator(".chip")).to_have_text("running")
    expect(row).to_have_class("rv-this")
    page.wait_for_timeout(2_000)  # a few more polls: the chip is swapped, never repeated
    expect(page.locator("#rv-review-status")).to_have_count(1)
    expect(page.locator(".rv-versions li")).to_have_count(2)  # the row swapped, not added
    expect(page.locator(".rv-versions li").first).to_have_attribute("data-version", "2")
    assert _focused(page, "[data-rv-open=rerun]")  # still only the note and the chip moved
    _only_notes(polls, "rv-pending-note", "review-card")

    assert runs._cutout_execute(new.pk, token) == "done"
    expect(page.locator("#review-card")).to_have_attribute("data-status", "done",
                                                           timeout=10_000)
    expect(chip).to_have_text("awaiting review")

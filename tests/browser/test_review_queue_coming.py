"""The review queue's "N more cutouts are still running" note in Debian's Chromium: it polls
the cutout rows, updates the "awaiting review" count and the rows as runs finish, holds the
rows under the reviewer's pointer, keeps a focused row's focus, and slows down (hidden) once
none runs, so a batch started later still shows it (QA 2026-12-06: "6 awaiting review"
while batches still ran 5 more, with no word; then the rows changed only on a reload, and
only a page opened while something ran said so)."""

import io

import pytest
from playwright.sync_api import expect

from catalog.services.assets import asset_ingest
from catalog.services.products import product_create
from cutouts.services import batches, runs
from cutouts.views import review as review_views
from tests.factories import reviewer
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _queued(sku: str, seed: int):
    """A product's image and its first cutout, left queued (no broker: make_cutouts keeps
    apply_async off)."""
    asset = asset_ingest(product=product_create(sku=sku), filename=f"{sku.lower()}.jpg",
                         fileobj=io.BytesIO(product_jpeg(640, 480, seed=seed))).asset
    (cutout,) = batches.cutout_batch_start(assets=[asset], profile_name="fast").cutouts.all()
    return cutout


def test_it_says_more_cutouts_are_coming_until_they_join_the_queue(live_server, page,
                                                                    make_cutouts, session_for):
    make_cutouts([("COMING-1", product_jpeg(640, 480, seed=1), "coming-1.jpg")])
    coming = _queued("COMING-2", 2)
    session_for(page, reviewer())
    page.goto(f"{live_server.url}/cutouts/review/")
    note = page.locator("#rv-queue-coming")
    rows = page.locator("#rv-queue-rows tbody tr")
    expect(note).to_have_text("1 more cutout is still running; it joins the queue when done.")
    expect(page.locator("#rv-queue-count")).to_have_text("1")
    expect(rows).to_have_count(1)
    polls: list = []
    page.on("request", lambda r: polls.append(r)
            if r.headers.get("hx-target") == "rv-queue-coming" else None)
    assert runs.cutout_run(cutout_id=coming.pk) == "done"
    expect(note).to_be_hidden(timeout=10_000)  # none runs
    expect(page.locator("#rv-queue-count")).to_have_text("2")  # the finished one joined
    expect(rows).to_have_count(2)  # and its row, without a reload
    expect(page.locator(f'#rv-queue-rows tr[data-cutout="{coming.pk}"]')).to_have_count(1)
    seen = len(polls)
    assert seen >= 1
    page.wait_for_timeout(4_000)
    assert len(polls) == seen  # no longer every 3 s: every 20 s, hidden
    expect(note).to_have_attribute("hx-trigger", "every 20s")


def test_it_holds_the_rows_under_the_pointer_and_keeps_a_focused_rows_focus(
        live_server, page, make_cutouts, session_for):
    (first,) = make_cutouts([("HOLD-1", product_jpeg(640, 480, seed=1), "hold-1.jpg")])
    one, two = _queued("HOLD-2", 2), _queued("HOLD-3", 3)
    session_for(page, reviewer())
    page.goto(f"{live_server.url}/cutouts/review/")
    rows = page.locator("#rv-queue-rows tbody tr")
    expect(page.locator("#rv-queue-coming")).to_contain_text("2 more cutouts")
    # the pointer on the rows: the count moves, the rows wait (a click would land elsewhere)
    page.locator(f"#rv-row-{first.pk}").hover()
    assert runs.cutout_run(cutout_id=one.pk) == "done"
    expect(page.locator("#rv-queue-count")).to_have_text("2", timeout=10_000)
    page.wait_for_timeout(3_500)  # another poll came and went
    expect(rows).to_have_count(1)
    # the pointer gone, the next poll brings them
    page.mouse.move(1, 1)
    expect(rows).to_have_count(2, timeout=10_000)
    # a row link focused from the keyboard keeps its focus when the rows come again
    page.locator(f"#rv-row-{first.pk}").focus()
    assert runs.cutout_run(cutout_id=two.pk) == "done"
    expect(rows).to_have_count(3, timeout=10_000)
    assert page.evaluate("document.activeElement.id") == f"rv-row-{first.pk}"


def test_it_shows_a_run_started_after_the_page_opened(live_server, page, make_cutouts,
                                                      session_for, monkeypatch):
    monkeypatch.setattr(review_views, "QUEUE_POLL_IDLE", "1s")  # 20 s in use: not for a test
    make_cutouts([("LATER-1", product_jpeg(640, 480, seed=1), "later-1.jpg")])
    session_for(page, reviewer())
    page.goto(f"{live_server.url}/cutouts/review/")
    note = page.locator("#rv-queue-coming")
    expect(note).to_be_hidden()
    later = _queued("LATER-2", 2)
    expect(note).to_have_text("1 more cutout is still running; it joins the queue when done.",
                              timeout=10_000)
    assert runs.cutout_run(cutout_id=later.pk) == "done"
    expect(page.locator(f'#rv-queue-rows tr[data-cutout="{later.pk}"]')).to_have_count(
        1, timeout=10_000)
    expect(page.locator("#rv-queue-count")).to_have_text("2")


def test_it_draws_start_reviewing_with_the_first_rows_of_a_queue_opened_empty(
        live_server, page, session_for):
    """A queue opened empty got its rows by polling, "Start reviewing" only on a reload."""
    coming = _queued("START-1", 1)
    session_for(page, reviewer())
    page.goto(f"{live_server.url}/cutouts/review/")
    start = page.locator("#start-review")
    expect(page.locator("#rv-queue-rows")).to_contain_text("Nothing is waiting for review.")
    expect(start).to_have_count(0)
    assert runs.cutout_run(cutout_id=coming.pk) == "done"
    expect(page.locator(f'#rv-queue-rows tr[data-cutout="{coming.pk}"]')).to_have_count(
        1, timeout=10_000)
    expect(start).to_be_visible()
    start.click()
    expect(page).to_have_url(f"{live_server.url}/cutouts/review/card/{coming.pk}/")


def test_it_brings_the_rows_after_a_tap_on_them(live_server, browser, make_cutouts,
                                                session_for):
    # a tap leaves :hover on the row it touched: only a mouse's pointer holds the rows
    (first,) = make_cutouts([("TAP-1", product_jpeg(640, 480, seed=1), "tap-1.jpg")])
    coming = _queued("TAP-2", 2)
    context = browser.new_context(viewport={"width": 390, "height": 664}, has_touch=True,
                                  is_mobile=True)
    page = context.new_page()
    session_for(page, reviewer())
    page.goto(f"{live_server.url}/cutouts/review/")
    rows = page.locator("#rv-queue-rows tbody tr")
    expect(page.locator("#rv-queue-coming")).to_contain_text("1 more cutout")
    page.locator(f'#rv-queue-rows tr[data-cutout="{first.pk}"] td').last.tap()
    assert page.evaluate("document.querySelector('#rv-queue-rows').matches(':hover')")
    assert runs.cutout_run(cutout_id=coming.pk) == "done"
    expect(rows).to_have_count(2, timeout=10_000)
    context.close()

"""The review queue's "N more cutouts are still running" note in Debian's Chromium: it polls
the cutout rows, updates the "awaiting review" count as runs finish and goes away once none
runs (QA 2026-12-06: "6 awaiting review" while batches still ran 5 more, with no word)."""

import io

import pytest
from playwright.sync_api import expect

from catalog.services.assets import asset_ingest
from catalog.services.products import product_create
from cutouts.services import batches, runs
from tests.factories import reviewer
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_says_more_cutouts_are_coming_until_they_join_the_queue(live_server, page,
                                                                    make_cutouts, session_for):
    make_cutouts([("COMING-1", product_jpeg(640, 480, seed=1), "coming-1.jpg")])
    # a second product's batch, left queued (no broker: make_cutouts keeps apply_async off)
    second = asset_ingest(product=product_create(sku="COMING-2"), filename="coming-2.jpg",
                          fileobj=io.BytesIO(product_jpeg(640, 480, seed=2))).asset
    (coming,) = batches.cutout_batch_start(assets=[second], profile_name="fast").cutouts.all()
    session_for(page, reviewer())
    page.goto(f"{live_server.url}/cutouts/review/")
    note = page.locator("#rv-queue-coming")
    expect(note).to_have_text("1 more cutout is still running; it joins the queue when done.")
    expect(page.locator("#rv-queue-count")).to_have_text("1")
    polls: list = []
    page.on("request", lambda r: polls.append(r)
            if r.headers.get("hx-target") == "rv-queue-coming" else None)
    assert runs.cutout_run(cutout_id=coming.pk) == "done"
    expect(note).to_have_count(0, timeout=10_000)  # gone once none runs
    expect(page.locator("#rv-queue-count")).to_have_text("2")  # the finished one joined
    seen = len(polls)
    assert seen >= 1
    page.wait_for_timeout(4_000)
    assert len(polls) == seen  # it no longer polls

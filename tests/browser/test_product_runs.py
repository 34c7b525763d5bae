"""The product page while its images' cutouts run, in Debian's Chromium: each tile's state
(queued, running with its stage and percent, done and awaiting review with the new cutout's
thumbnail) follows the cutout rows, written here as a worker would, without a reload; a
ticked checkbox and the selection bar's settings stay as the user left them; and the page
stops asking once nothing is queued or running."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cutouts.imaging import progress
from cutouts.services import batches, runs
from tests.factories import manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_each_images_cutout_state_as_it_changes_and_then_stops_polling(
    live_server, page, session_for, make_cutouts, screenshot
):
    (v1,) = make_cutouts([("RUNS-1", product_jpeg(640, 480, seed=41), "RUNS-1.jpg")])
    asset = v1.asset
    # "Start cutouts" with "Cut again": v2 queued (no broker: this test runs it)
    batch = batches.cutout_batch_start(assets=[asset], profile_name="fast", recut=True)
    v2 = batch.cutouts.get()

    session_for(page, manager())
    polls: list = []
    page.on(
        "request", lambda r: polls.append(r) if r.headers.get("hx-target") == "asset-runs" else None
    )
    page.goto(live_server.url + reverse("catalog:product_detail", args=[asset.product_id]))
    page.evaluate("window.__samePage = true")
    tile = page.locator(f'figure[data-asset="{asset.pk}"]')
    state = tile.locator(f"#asset-run-{asset.pk}")
    expect(state).to_have_text("Cutout v2 queued")
    expect(page.locator("#asset-runs")).to_have_text(
        "Cutouts queued or running for 1 image; the images below update as they change."
    )
    expect(tile.locator(".chip")).to_have_text("Queued")
    # the user's own choices on the page while it polls
    tile.locator("input[data-select-item]").check()
    expect(page.locator("[data-selection-count]")).to_have_text("1 selected")
    chooser = page.locator("#asset-selection select[name=profile]")
    chooser.select_option("soft")

    token = runs._claim(v2.pk, "w1:1")
    assert token
    runs.RunProgress(v2.pk, token)(progress.REFINING, 0.45)
    expect(state).to_have_attribute("data-run-status", "running")
    expect(state).to_contain_text("Cutout v2 running: Refining edges, 45 %")
    expect(state.locator("progress")).to_have_attribute("value", "45")
    screenshot("running")

    assert runs._cutout_execute(v2.pk, token) == "done"
    expect(state).to_have_attribute("data-run-status", "review", timeout=10_000)
    expect(state).to_have_text("Cutout v2 done · awaiting review")
    expect(state.get_by_role("link", name="awaiting review")).to_have_attribute(
        "href", reverse("cutouts:review_card", args=[v2.pk])
    )
    expect(tile.locator(".chip")).to_have_text("Cut out")
    thumb = tile.locator("img.cutout-thumb")
    expect(thumb).to_have_attribute("data-cutout", str(v2.pk))
    expect(thumb).to_have_attribute("alt", "RUNS-1 MAIN cutout v2, awaiting review")
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    screenshot("done")

    # no reload, and what the user chose is still there
    assert page.evaluate("window.__samePage === true")
    expect(tile.locator("input[data-select-item]")).to_be_checked()
    expect(page.locator("[data-selection-count]")).to_have_text("1 selected")
    expect(chooser).to_have_value("soft")
    # nothing queued or running: the poll ended with the last answer
    poller = page.locator("#asset-runs")
    expect(poller).to_be_hidden()
    assert poller.get_attribute("hx-trigger") is None
    asked = len(polls)
    page.wait_for_timeout(2_500)
    assert len(polls) == asked, "the page kept polling after every cutout ended"

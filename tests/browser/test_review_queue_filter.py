"""The review queue's filters swap only its table (#review-queue): "Start reviewing" comes
with it out of band (views.review.queue), so it starts at the filtered queue's first row; it
kept the unfiltered one until a reload."""

import io

import pytest
from playwright.sync_api import expect

from cutouts.benchmarking import product_photo
from tests.factories import reviewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    product_photo(640, 480, seed).save(out, "JPEG", quality=90)
    return out.getvalue()


def test_it_starts_reviewing_at_the_filtered_queues_first_row(live_server, page, session_for,
                                                              make_cutouts):
    rows = make_cutouts([(f"FILT-{i}", _jpeg(3 + i), f"filt-{i}.jpg") for i in range(2)])
    first, second = sorted(rows, key=lambda c: (-c.risk, c.pk))
    session_for(page, reviewer())
    page.goto(f"{live_server.url}/cutouts/review/")
    start = page.locator("#start-review")
    expect(start).to_have_attribute("href", f"/cutouts/review/card/{first.pk}/")
    sku = second.asset.product.sku
    page.fill(".rv-filters input[name=product]", sku)
    page.locator(".rv-filters input[name=product]").dispatch_event("change")
    expect(page.locator("#review-queue tr[data-cutout]")).to_have_count(1)
    expect(start).to_have_attribute("href", f"/cutouts/review/card/{second.pk}/?product={sku}")
    start.click()
    expect(page).to_have_url(
        f"{live_server.url}/cutouts/review/card/{second.pk}/?product={sku}")
    page.go_back()
    page.fill(".rv-filters input[name=product]", "NO-SUCH-SKU")
    page.locator(".rv-filters input[name=product]").dispatch_event("change")
    expect(page.locator("#review-queue")).to_contain_text("Nothing is waiting for review.")
    expect(start).to_have_count(0)

"""Acceptance: a products CSV bulk edit is applied by a real worker while its page polls the
job's progress bar to the end and then shows the counts, the problem lines and the report."""

import re

import pytest
from playwright.sync_api import expect

from catalog.models import Product
from tests.factories import manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.worker
def test_it_applies_a_bulk_edit_through_the_worker_with_a_polled_progress_bar(
        live_server, page, session_for, screenshot):
    from tests.workers import running_worker

    Product.objects.bulk_create([Product(sku=f"BE-{i:04d}", brand="Old") for i in range(1200)])
    rows = [f"BE-{i:04d},New," for i in range(1200)] + ["NOPE-1,X,", "BE-0001,,123"]
    csv_bytes = ("sku,brand,gtin\n" + "\n".join(rows) + "\n").encode()
    session_for(page, manager())
    with running_worker(queues="default"):
        page.goto(f"{live_server.url}/catalog/products/bulk-edit")
        page.set_input_files("input[name=file]", files=[
            {"name": "brands.csv", "mimeType": "text/csv", "buffer": csv_bytes}])
        page.get_by_role("button", name="Apply").click()
        expect(page).to_have_url(re.compile(r"/catalog/products/bulk-edit/\d+/$"))
        expect(page.locator("#bulk-status")).to_have_text("Done", timeout=90_000)
    bar = page.get_by_role("progressbar", name="Lines applied")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#bulk-count")).to_have_text("1202 / 1202 lines")
    counts = page.locator("#bulk-counts")
    expect(counts).to_contain_text("1200 updated")
    expect(counts).to_contain_text("1 unknown SKU")
    expect(counts).to_contain_text("1 invalid")
    problems = page.locator("#bulk-problems tbody tr")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("NOPE-1")
    expect(problems.nth(1)).to_contain_text("gtin")
    expect(page.locator("[data-unknown-help]")).to_be_visible()
    with page.expect_download() as download:
        page.click("#bulk-report-csv")
    report = download.value.path().read_text().splitlines()
    assert len(report) == 1 + 1202 and report[1] == "2,BE-0000,updated,brand"
    screenshot("bulk-edit-done")
    assert Product.objects.filter(brand="New").count() == 1200

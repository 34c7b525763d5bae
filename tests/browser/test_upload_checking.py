"""Acceptance (QA 2026-12-07 qa42c M1): once a file's bytes are all sent, its row and the
summary say the server is checking it, not "uploading…" under a full bar, until the server
answers (a 45 MP photo is decoded for ~13 s); the ZIP import's status likewise."""

import pytest
from playwright.sync_api import expect

from catalog.services import imports as import_services
from catalog.views import import_services as view_imports
from tests.browser.test_upload import _drop, _log_in
from tests.factories import ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_says_checking_on_the_server_once_a_files_bytes_are_sent(
        live_server, page, client, slow_server):
    assert view_imports is import_services  # the view calls it through the module
    slow_server(import_services, "import_job_upload_file", 4)
    ProductFactory(sku="CK001")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    _drop(page, {"CK001_MAIN.jpg": product_jpeg(640, 600, seed=1)})
    uploader = page.locator("#bulk-uploader")
    start = uploader.locator("[data-start]")
    expect(start).to_have_text("Upload 1 file", timeout=15_000)
    expect(start).to_be_enabled()
    start.click()
    row = uploader.locator('[data-file-list] li[data-filename="CK001_MAIN.jpg"]')
    # was "uploading…" under a bar at 100 % until the answer came
    expect(row.locator(".outcome")).to_have_text("checking on the server…", timeout=3_000)
    expect(row).to_have_attribute("data-checking", "")
    summary = uploader.locator("[data-summary]")
    expect(summary).to_contain_text("1 checking on the server…")
    expect(summary).not_to_contain_text("to go")
    expect(row.locator(".outcome")).to_contain_text("stored → CK001 MAIN", timeout=30_000)
    expect(row).not_to_have_attribute("data-checking", "")
    expect(summary).not_to_contain_text("checking")

"""Acceptance (QA 2026-12-03, k, F2): the upload page's ZIP preview read a ZIP cut off after a
stored nested ZIP as "0 of 0 files → 0 products" and left Import enabled. It now says the ZIP
is damaged, in the import's words, and Import stays off until another ZIP is chosen."""

import pytest
from playwright.sync_api import expect

from catalog.ingest.archives import ZIP_DAMAGED_REASON
from tests.browser.test_upload import _log_in
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.catalog.test_archives_damaged_1203k import _truncated_after_nested_zip
from tests.factories import ProductFactory, manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_refuses_a_damaged_zip_in_the_preview_and_disables_import(live_server, page,
                                                                    client):
    ProductFactory(sku="ZE001")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    form = page.locator("form[data-zip-form]")
    preview = page.locator("[data-zip-preview]")
    whole = zip_bytes({"ZE001_MAIN.jpg": jpeg_bytes(size=(300, 200))})
    for name, data in (("cut.zip", _truncated_after_nested_zip()),
                       ("half.zip", whole[: len(whole) // 2])):
        form.locator("input[name=archive]").set_input_files(
            files=[{"name": name, "mimeType": "application/zip", "buffer": data}])
        expect(preview.locator("[data-zip-damaged-message]")).to_have_text(
            f"{name}: {ZIP_DAMAGED_REASON}", timeout=20_000)
        expect(form.locator("button[type=submit]")).to_be_disabled()
    form.locator("input[name=archive]").set_input_files(
        files=[{"name": "good.zip", "mimeType": "application/zip", "buffer": whole}])
    expect(preview).to_contain_text("ZE001_MAIN.jpg", timeout=20_000)
    expect(preview.locator("[data-zip-damaged-message]")).to_have_count(0)
    expect(form.locator("button[type=submit]")).to_be_enabled()

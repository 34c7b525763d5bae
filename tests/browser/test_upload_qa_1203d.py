"""Acceptance (QA 2026-12-03): a session's finish names at most 200 files of a kind and
says how many more there are, in the page's answer and on the import's page."""

import base64

import pytest
from playwright.sync_api import expect

from tests.browser.test_upload import DROP_JS, _log_in
from tests.factories import manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_says_how_many_skipped_files_past_200_the_finish_did_not_name(live_server, page,
                                                                        client):
    _log_in(page, live_server, client, manager())
    files = {"LOTS-1_MAIN.jpg": product_jpeg(640, 600, seed=1)}
    files.update({f"note{i:03d}.txt": b"notes\n" for i in range(203)})
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    payload = [{"name": name, "type": "application/octet-stream",
                "b64": base64.b64encode(data).decode()} for name, data in files.items()]
    page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload])
    uploader = page.locator("#bulk-uploader")
    page.click("#bulk-uploader [data-start]")
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    # was silent about the 3 names past the 200 it sent
    expect(uploader.locator("[data-result] a")).to_contain_text("… and 3 more.")
    uploader.locator("[data-result] a").click()
    expect(page.locator("#import-message")).to_contain_text("… and 3 more.")

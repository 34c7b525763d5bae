"""A server busy with other decodes answers 429 (catalog.upload_gate): the page waits for
Retry-After on that file's row, sends the file again, and the batch ends with every file
imported; a file still refused as busy after the bound fails on its row like other failures."""

import base64
import contextlib
import re

import pytest
from playwright.sync_api import expect

from catalog import upload_gate
from catalog.models import ImageAsset, ImportJob
from tests.browser.test_upload import DROP_JS
from tests.factories import ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
UPLOAD_URL = re.compile(r"/catalog/imports/\d+/files$")
POSITIONS = ("MAIN", "PT01", "PT02")


def _drop_shoot(page, live_server, products: int) -> list[str]:
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("textarea[name=patterns]", "{sku}_{position}.jpg")
    names = [f"G{p}_{pos}.jpg" for p in range(products) for pos in POSITIONS]
    payload = [{"name": name, "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(640, 600, seed=n)).decode()}
               for n, name in enumerate(names)]
    assert page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload]) == len(names)
    expect(page.locator("#bulk-uploader [data-start]")).to_have_text(
        f"Upload {len(names)} files", timeout=15_000)
    return names


def test_it_waits_while_the_server_is_busy_and_imports_every_file(
        live_server, page, session_for, settings, monkeypatch, screenshot):
    settings.CUTROOM_UPLOAD_DECODES = 1
    # the live server runs in this process: its gate is the one held here
    monkeypatch.setattr(upload_gate, "WAIT_SECONDS", 0.05)
    monkeypatch.setattr(upload_gate, "RETRY_AFTER_SECONDS", 1)
    for p in range(3):
        ProductFactory(sku=f"G{p}")
    session_for(page, manager())
    answers: list[tuple[str, int]] = []  # (file name, HTTP status) of every file request

    def answered(route) -> None:
        name = re.search(rb'filename="([^"]+)"', route.request.post_data_buffer or b"")
        response = route.fetch()
        answers.append((name.group(1).decode() if name else "", response.status))
        route.fulfill(response=response)

    page.route(UPLOAD_URL, answered)
    names = _drop_shoot(page, live_server, 3)
    uploader = page.locator("#bulk-uploader")

    with contextlib.ExitStack() as held:
        held.enter_context(upload_gate.decode_slot())  # another upload's decode
        page.click("#bulk-uploader [data-start]")
        # the three lanes' files wait on their rows: not errors, nothing stored
        waiting = uploader.locator("[data-file-list] li[data-waiting]")
        expect(waiting).to_have_count(3, timeout=15_000)
        expect(waiting.first.locator(".outcome")).to_contain_text("waiting for the server")
        expect(waiting.first).not_to_have_class(re.compile("rejected"))
        expect(uploader.locator("[data-summary]")).to_contain_text(
            "3 waiting for the server")
        expect(uploader.locator("[data-failure-list] li")).to_have_count(0)
        screenshot("waiting-for-the-server")
        assert int(uploader.locator("[data-overall]").get_attribute("value")) < 100
        assert not ImageAsset.objects.exists()
        # more than one busy answer for a file: the page keeps waiting, it does not give up
        expect(uploader.locator("[data-summary]")).to_contain_text("waiting for the server")
        page.wait_for_timeout(2_500)
        expect(waiting).to_have_count(3)

    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(uploader.locator("[data-file-list] li[data-status=stored]")).to_have_count(
        len(names))
    expect(uploader.locator("[data-file-list] li[data-waiting]")).to_have_count(0)
    expect(uploader.locator("[data-failure-list] li")).to_have_count(0)
    expect(uploader.locator("[data-summary]")).to_contain_text(
        f"{len(names)} files · {len(names)} stored · 0 duplicates · 0 refused")
    expect(uploader.locator("[data-overall]")).to_have_attribute("value", "100")
    expect(uploader.locator("[data-result] a")).to_contain_text(f"{len(names)} imported")
    screenshot("all-imported")

    busy = {name for name, status in answers if status == 429}
    assert len(busy) >= 3 and sum(status == 429 for _, status in answers) > 3
    assert sorted(name for name, status in answers if status == 201) == sorted(names)
    assert ImageAsset.live.count() == len(names)
    job = ImportJob.objects.get()
    assert (job.status, job.imported_count, job.error_count) == ("done", len(names), 0)


def test_it_fails_a_file_on_its_row_once_the_server_stayed_busy_past_the_bound(
        live_server, page, session_for, monkeypatch):
    """Every attempt of one file answered busy (a stand-in for a server that stays busy):
    the page gives up after its bound; the other files are imported, and the report lists
    the file as not sent."""
    for p in range(2):
        ProductFactory(sku=f"G{p}")
    session_for(page, manager())
    tries = {"count": 0}

    def busy_for_one(route):
        if b'filename="G1_PT02.jpg"' in (route.request.post_data_buffer or b""):
            tries["count"] += 1
            route.fulfill(status=429, headers={"Retry-After": "0"},
                          content_type="application/json",
                          body='{"status": "busy", "code": "busy", "reason": "busy"}')
        else:
            route.continue_()

    page.route(UPLOAD_URL, busy_for_one)
    names = _drop_shoot(page, live_server, 2)
    uploader = page.locator("#bulk-uploader")
    page.click("#bulk-uploader [data-start]")
    expect(uploader).to_have_attribute("data-state", "idle", timeout=90_000)
    row = uploader.locator('[data-file-list] li[data-filename="G1_PT02.jpg"]')
    expect(row).to_have_attribute("data-status", "rejected")
    expect(row.locator(".outcome")).to_contain_text("Not sent: the server stayed busy")
    expect(uploader.locator('[data-failure-list] li[data-filename="G1_PT02.jpg"] .reason')
           ).to_contain_text("the server stayed busy")
    expect(uploader.locator("[data-file-list] li[data-status=stored]")).to_have_count(
        len(names) - 1)
    expect(uploader.locator("[data-overall]")).to_have_attribute("value", "100")
    expect(uploader.locator("[data-result] a")).to_contain_text(
        f"{len(names) - 1} imported, 1 refused")
    assert tries["count"] == 41  # the first send and BUSY_RETRIES (40) more
    assert not ImageAsset.objects.filter(original_filename="G1_PT02.jpg").exists()

"""Acceptance (QA 2026-12-03 c): "send every file to one product" finds the SKU ignoring case
and says before the upload when it names no product (Upload disabled), and the summary counts
in the import's words with plurals, in Chromium."""

import base64

import pytest
from playwright.sync_api import expect

from catalog.models import ImageAsset
from tests.browser.test_upload import DROP_JS, _log_in
from tests.factories import ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_checks_the_one_product_sku_in_the_preview(live_server, page, client):
    product = ProductFactory(sku="QA001", title="Blue vase")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("input[name=product]", "qa009")
    payload = [{"name": name, "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(640, 600, seed=n)).decode()}
               for n, name in enumerate(["a.jpg", "b.jpg"])]
    assert page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload]) == 2
    uploader = page.locator("#bulk-uploader")
    start = uploader.locator("[data-start]")
    # before anything is sent: the upload's own refusal, and no Upload
    expect(uploader.locator("[data-preview] [data-preview-product-error]")).to_have_text(
        "No product with SKU qa009.", timeout=15_000)
    expect(start).to_be_disabled()
    expect(uploader.locator("[data-summary]")).to_contain_text("fix the error shown below")
    # the SKU in another case is the product, as everywhere else
    page.fill("input[name=product]", "qa001")
    expect(uploader.locator("[data-preview] [data-preview-product]")).to_contain_text(
        "Every file → QA001", timeout=15_000)
    expect(start).to_be_enabled()
    expect(start).to_have_text("Upload 2 files")
    start.click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    # the import's words, plurals right: "refused", "duplicates"
    expect(uploader.locator("[data-summary]")).to_have_text(
        "2 files · 2 stored · 0 duplicates · 0 refused")
    assert ImageAsset.live.filter(product=product).count() == 2


def test_it_counts_one_duplicate_and_one_refusal_in_the_singular(live_server, page, client):
    product = ProductFactory(sku="QA002")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("input[name=product]", "QA002")
    same = product_jpeg(640, 600, seed=7)
    files = {"a.jpg": same, "b.jpg": same, "c.jpg": b"not a photo" * 50}
    payload = [{"name": name, "type": "image/jpeg", "b64": base64.b64encode(data).decode()}
               for name, data in files.items()]
    page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload])
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator("[data-preview] [data-preview-product]")).to_be_visible(
        timeout=15_000)
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(uploader.locator("[data-summary]")).to_have_text(
        "3 files · 1 stored · 1 duplicate · 1 refused")
    assert ImageAsset.live.filter(product=product).count() == 1

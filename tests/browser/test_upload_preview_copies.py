"""Acceptance (QA 2026-12-05 M2): the same bytes twice in one upload for one product. The
import keeps the first in name order and skips the other as a duplicate; the preview said
so of neither and planned the copy a next-free position, so every later file's planned
position was one too far (GOOD-1.webp planned at PT06, stored at PT05)."""

import zipfile

import pytest
from playwright.sync_api import expect

from catalog.models import ImageAsset
from tests.browser.test_upload import _drop, _log_in
from tests.catalog.imagegen import zip_bytes
from tests.factories import ImageAssetFactory, ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _lines(preview, sku):
    return preview.locator(f'[data-preview-sku="{sku}"] .preview-files li')


def test_it_plans_no_position_for_a_copy_of_another_dropped_file(live_server, page, client):
    ImageAssetFactory(product=ProductFactory(sku="GOOD-1"), position="MAIN")
    same = product_jpeg(640, 600, seed=1)
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    _drop(page, {"GOOD-1.jpg": same, "GOOD-1.png": same,
                 "GOOD-1.webp": product_jpeg(640, 600, seed=2)})
    uploader = page.locator("#bulk-uploader")
    lines = _lines(uploader.locator("[data-preview]"), "GOOD-1")
    copy = lines.filter(has_text="GOOD-1.png")
    expect(copy).to_contain_text("duplicate of GOOD-1.jpg in this upload — will be skipped",
                                 timeout=15_000)
    expect(copy).to_have_attribute("data-preview-copy", "duplicate")
    expect(copy.locator("[data-preview-auto-position]")).to_have_count(0)
    expect(lines.filter(has_text="GOOD-1.jpg").locator("[data-preview-auto-position]")
           ).to_have_attribute("data-preview-auto-position", "PT01")
    expect(lines.filter(has_text="GOOD-1.webp").locator("[data-preview-auto-position]")
           ).to_have_attribute("data-preview-auto-position", "PT02")
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    # the plan was the import's
    assert dict(ImageAsset.live.filter(product__sku="GOOD-1", position__startswith="PT")
                .values_list("original_filename", "position")) == {
        "GOOD-1.jpg": "PT01", "GOOD-1.webp": "PT02"}


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_it_plans_no_position_for_a_copy_of_another_zip_entry(live_server, page, client,
                                                               compression):
    ImageAssetFactory(product=ProductFactory(sku="GOOD-1"), position="MAIN")
    same = product_jpeg(640, 600, seed=1)
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    archive = zip_bytes({"GOOD-1/IMG_0011.jpg": same, "GOOD-1/IMG_0012.jpg": same,
                         "GOOD-1/IMG_0013.jpg": product_jpeg(640, 600, seed=2)},
                        compression=compression)
    page.set_input_files("#zip-import input[name=archive]", files=[{
        "name": "shoot.zip", "mimeType": "application/zip", "buffer": archive}])
    lines = _lines(page.locator("[data-zip-preview]"), "GOOD-1")
    copy = lines.filter(has_text="IMG_0012.jpg")
    expect(copy).to_contain_text(
        "duplicate of GOOD-1/IMG_0011.jpg in this upload — will be skipped", timeout=15_000)
    expect(copy.locator("[data-preview-auto-position]")).to_have_count(0)
    expect(lines.filter(has_text="IMG_0013.jpg").locator("[data-preview-auto-position]")
           ).to_have_attribute("data-preview-auto-position", "PT02")


def test_it_calls_an_entry_it_cannot_hash_with_the_same_size_and_crc_a_likely_copy(
        live_server, page, client):
    """A deflated entry the browser cannot inflate (no DecompressionStream here) is not
    hashed; the same size and CRC-32 as an earlier entry of its product is the hint."""
    ImageAssetFactory(product=ProductFactory(sku="GOOD-1"), position="MAIN")
    same = product_jpeg(640, 600, seed=1)
    page.add_init_script("delete window.DecompressionStream;")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    archive = zip_bytes({"GOOD-1/IMG_0011.jpg": same, "GOOD-1/IMG_0012.jpg": same,
                         "GOOD-1/IMG_0013.jpg": product_jpeg(640, 600, seed=2)},
                        compression=zipfile.ZIP_DEFLATED)
    page.set_input_files("#zip-import input[name=archive]", files=[{
        "name": "shoot.zip", "mimeType": "application/zip", "buffer": archive}])
    lines = _lines(page.locator("[data-zip-preview]"), "GOOD-1")
    copy = lines.filter(has_text="IMG_0012.jpg")
    expect(copy).to_contain_text(
        "likely duplicate of GOOD-1/IMG_0011.jpg in this upload (same size and CRC-32) — "
        "will be skipped", timeout=15_000)
    expect(copy).to_have_attribute("data-preview-copy", "likely")
    expect(lines.filter(has_text="IMG_0013.jpg").locator("[data-preview-auto-position]")
           ).to_have_attribute("data-preview-auto-position", "PT02")

"""QA41 L7: a text file named .jpg inside a ZIP was listed in the ZIP preview among the image
entries whose pixel size the browser could not read ("TIFF, HEIC or AVIF, another compression,
…"), as if it were an unreadable TIFF/HEIC; the preview says it is not an image, in the words
the import's report then gives it (``images.text_content_reason``)."""

import re

import pytest
from playwright.sync_api import expect

from catalog.ingest.images import not_image_reason, text_content_reason
from tests.browser.test_upload import _log_in
from tests.catalog.imagegen import zip_bytes
from tests.factories import ProductFactory, manager
from tests.images import product_jpeg

TEXT = b"shot list: front, side, back\nall on white\n"
BINARY = b"\x00\x01\x02 neither an image nor text" * 8

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_says_a_text_file_named_jpg_in_a_zip_is_not_an_image(live_server, page, client):
    ProductFactory(sku="ZT-1")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    form = page.locator("form[data-zip-form]")
    preview = page.locator("[data-zip-preview]")
    form.locator("input[name=archive]").set_input_files(files=[{
        "name": "shoot.zip", "mimeType": "application/zip", "buffer": zip_bytes({
            "ZT-1_MAIN.jpg": product_jpeg(640, 600, seed=1),
            "ZT-1_PT01.jpg": TEXT})}])
    said = text_content_reason("ZT-1_PT01.jpg")
    assert said == "Not an image, or a corrupt one: the file's content is text, not JPEG."
    # the server's list, as for picked files (was the page's own line beside a plan placing
    # it, 2026-12-07 verify43 L1)
    expect(preview.locator("[data-preview-no-header-file]")).to_have_text(
        f"ZT-1_PT01.jpg: {said}", timeout=20_000)
    expect(preview.locator(".preview-summary")).to_contain_text("1 of 2 files → 1 product")
    # not among the images whose size is left to the import (was: "… TIFF, HEIC or AVIF …")
    expect(preview.locator("[data-preview-sizes-unread]")).to_have_count(0)
    # a warning, not an error: the ZIP's image still imports, so Import ZIP is not held
    expect(form.locator("button[type=submit]")).to_be_enabled()


@pytest.mark.parametrize("create", [True, False])
def test_it_neither_counts_nor_places_a_zip_entry_that_is_no_image(
        live_server, page, client, create):
    """verify43 L1: the page read these entries' heads ("2 files will be refused on import")
    but told the server nothing: with "Create products" it planned them as PT01 and PT02 ("3 of
    3 files → 1 product"), without it their not-mapped lines said the page "could not read
    this file's image header". Now worded as the import's report words them, refused ahead."""
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    if create:
        page.check("input[name=create_products]")
    preview = page.locator("[data-zip-preview]")
    page.locator("form[data-zip-form] input[name=archive]").set_input_files(files=[{
        "name": "vz.zip", "mimeType": "application/zip", "buffer": zip_bytes({
            "VZ002_MAIN.jpg": product_jpeg(640, 600, seed=2), "VZ002_PT01.jpg": TEXT,
            "VZ002_PT02.jpg": BINARY})}])
    expect(preview.locator(".preview-summary")).to_contain_text(
        f"{1 if create else 0} of 3 files", timeout=20_000)
    expect(preview.locator("[data-preview-no-header-count]")).to_have_text("2 not an image")
    expect(preview.locator("[data-preview-no-header-file]")).to_have_text([
        f"VZ002_PT01.jpg: {not_image_reason('VZ002_PT01.jpg', text=True)}",
        f"VZ002_PT02.jpg: {not_image_reason('VZ002_PT02.jpg', text=False)}"])
    expect(preview).not_to_contain_text("could not read this file's image header")
    if create:
        expect(preview.locator("[data-preview-sku] .preview-files .name")).to_have_text(
            ["VZ002_MAIN.jpg"])
    else:
        expect(preview.locator("[data-preview-unmapped]")).to_have_text([
            re.compile(r"^VZ002_MAIN\.jpg: ")])

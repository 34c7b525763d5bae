"""QA41 L7: a text file named .jpg inside a ZIP was listed in the ZIP preview among the image
entries whose pixel size the browser could not read ("TIFF, HEIC or AVIF, another compression,
…"), as if it were an unreadable TIFF/HEIC; the preview says it is not an image, in the words
the import's report then gives it (``images.text_content_reason``)."""

import pytest
from playwright.sync_api import expect

from catalog.ingest.images import text_content_reason
from tests.browser.test_upload import _log_in
from tests.catalog.imagegen import zip_bytes
from tests.factories import ProductFactory, manager
from tests.images import product_jpeg

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
            "ZT-1_PT01.jpg": b"shot list: front, side, back\nall on white\n"})}])
    said = text_content_reason("ZT-1_PT01.jpg")
    assert said == "Not an image, or a corrupt one: the file's content is text, not JPEG."
    expect(preview.locator("[data-preview-not-images]")).to_have_text(
        f"1 file will be refused on import: ZT-1_PT01.jpg ({said})", timeout=20_000)
    # not among the images whose size is left to the import (was: "… TIFF, HEIC or AVIF …")
    expect(preview.locator("[data-preview-sizes-unread]")).to_have_count(0)
    # a warning, not an error: the ZIP's image still imports, so Import ZIP is not held
    expect(form.locator("button[type=submit]")).to_be_enabled()

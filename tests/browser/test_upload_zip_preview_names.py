"""A ZIP's preview names every entry its import refuses, the backslash traversal too, and
announces the product a manifest row makes without a file (QA31 L4, L5, 2026-12-05: the
page dropped "..\\x.jpg" for starting with a dot, so the preview said "2 of 6 files" where
the import said "7 files, 5 refused", and "2 new" where it created 3)."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_upload import _log_in
from tests.catalog.imagegen import zip_bytes
from tests.factories import manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _preview_zip(page, live_server, client, name, archive):
    """The upload page's preview of ``archive`` dropped as ``name`` by a manager who may
    create products."""
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    page.set_input_files("input[name=archive]", files=[
        {"name": name, "mimeType": "application/zip", "buffer": archive}])
    return page.locator("[data-zip-preview]")

MANIFEST = (b"sku,title,filename,position\r\nQZ5,Five,QZ5_MAIN.jpg,MAIN\r\n"
            b"QZ6,Six,missing.jpg,PT03\r\nQZ4,Four,IMG_0001.jpg,MAIN\r\n")


def test_it_previews_the_entries_and_products_the_import_will_report(live_server, page,
                                                                     client):
    photos = {name: product_jpeg(1200, 900, seed=seed) for seed, name in enumerate([
        "../QZ1_MAIN.jpg", "/abs/QZ3_MAIN.jpg", "QZ4/IMG_0001.jpg", "QZ5_MAIN.jpg",
        "..\\QZ7_MAIN.jpg", "C:/win/QZ8_MAIN.jpg"])}
    archive = zip_bytes({**photos, "__MACOSX/._QZ5_MAIN.jpg": b"\0\5\26\7",
                         "manifest.csv": MANIFEST})
    preview = _preview_zip(page, live_server, client, "evil3.zip", archive)
    expect(preview.locator(".preview-summary")).to_contain_text(
        "2 of 6 files → 3 products (3 new: 1 from the manifest, no file) · 4 refused for the path",
        timeout=20_000)
    expect(preview.locator("[data-preview-named] [data-preview-unmapped]",
                           has_text="..\\QZ7_MAIN.jpg")).to_contain_text(
        "Refused: '..' in the path (path traversal).")
    expect(preview.locator("[data-preview-manifest-only]")).to_contain_text(
        "QZ6 new No file maps to it: created from the manifest (line 3) without an image.")
    # desktop metadata is neither listed nor read: every image header read, none left unread
    expect(preview).not_to_contain_text("__MACOSX")
    expect(preview.locator("[data-preview-sizes-unread]")).to_have_count(0)


def test_it_previews_no_hidden_entry_as_the_import_passes_over_it(live_server, page, client):
    """A ZIP's .hidden.jpg: the import passes over it as a drop does (one rule,
    archives.IGNORED_NAME_PATTERN), so the preview neither lists nor reads it."""
    archive = zip_bytes({"shoot/.QZ9_PT01.jpg": product_jpeg(1200, 900, seed=1),
                         "shoot/QZ9_MAIN.jpg": product_jpeg(1200, 900, seed=2)})
    preview = _preview_zip(page, live_server, client, "dots.zip", archive)
    expect(preview.locator(".preview-summary")).to_contain_text(
        "1 of 1 file → 1 product (1 new)", timeout=20_000)
    expect(preview).not_to_contain_text(".QZ9_PT01.jpg")
    expect(preview.locator("[data-preview-sizes-unread]")).to_have_count(0)


def test_it_says_the_import_opens_a_file_whose_header_the_page_could_not_read(
        live_server, page, client):
    """QA 2026-12-06: a corrupt broken.jpg the manifest leaves out was previewed "Not in the
    manifest", and the import said "Not an image" (it opens a file before it refuses its
    name). The page reads each entry's header for its size: one it could not read gets the
    note, an image's does not."""
    manifest = b"sku,filename,position\r\nQZ10,QZ10_MAIN.jpg,MAIN\r\n"
    archive = zip_bytes({"QZ10_MAIN.jpg": product_jpeg(1200, 900, seed=1),
                         # a JPEG's first bytes, no frame header: the page cannot tell (one
                         # with no image's first bytes is said not an image, 2026-12-07 zip43)
                         "broken.jpg": b"\xff\xd8\xff this is not a jpeg" * 20,
                         "extra.jpg": product_jpeg(1200, 900, seed=2), "manifest.csv": manifest})
    preview = _preview_zip(page, live_server, client, "qa-broken.zip", archive)
    expect(preview.locator(".preview-summary")).to_contain_text("1 of 3 files → 1 product",
                                                                timeout=20_000)
    reason = preview.locator("[data-preview-unmapped]", has_text="broken.jpg").locator(
        "[data-preview-reason]")
    expect(reason).to_contain_text("Not in the manifest: ")
    expect(reason).to_contain_text(
        "The import opens the file first: if it is not a readable image (or a corrupt one), "
        "it is refused as that instead (the page could not read this file's image header to "
        "tell).")
    extra = preview.locator("[data-preview-unmapped]", has_text="extra.jpg").locator(
        "[data-preview-reason]")
    expect(extra).to_contain_text("Not in the manifest: ")
    expect(extra).not_to_contain_text("The import opens the file first")

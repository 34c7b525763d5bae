"""Acceptance (2026-12-05, the upload page's leftovers): a too-small copy of a stored image
reads "Too small" in the preview and in the report (the file's header before the catalog);
a ZIP's entries are judged by their header sizes too, and what is not read is said; and the
page's scripts start whatever the order of their tags, or say they did not load."""

import hashlib
import io
import zipfile

import pytest
from PIL import Image
from playwright.sync_api import expect

from catalog.models import ImageAsset, ImportIssue
from tests.browser.test_upload import _drop, _log_in
from tests.catalog.imagegen import zip_bytes
from tests.factories import ImageAssetFactory, ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SMALL = "Too small: 481×321; the long side must be at least 500 px."


def test_it_calls_a_too_small_copy_of_a_stored_image_too_small_before_and_after(
    live_server, page, client, settings
):
    small = product_jpeg(481, 321, seed=4)
    # stored while the limit was lower: the same bytes are on the product it maps to
    ImageAssetFactory(product=ProductFactory(sku="OR-1"), position="MAIN", bytes=len(small),
                      sha256=hashlib.sha256(small).hexdigest())
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    _drop(page, {"OR-1_PT01.jpg": small, "OR-1_PT02.jpg": product_jpeg(640, 600, seed=5)})
    uploader = page.locator("#bulk-uploader")
    row = uploader.locator('[data-file-list] li[data-filename="OR-1_PT01.jpg"]')
    expect(uploader.locator("[data-preview-sized-file]")).to_have_text(
        f"OR-1_PT01.jpg: {SMALL}", timeout=15_000)
    expect(row.locator(".outcome")).to_have_text(f"Will be refused: {SMALL}")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 2 files")
    # never hashed as "already stored": no note, no skip
    page.wait_for_timeout(1500)
    expect(uploader.locator("[data-preview-stored-note]")).to_have_count(0)
    expect(row).not_to_have_attribute("data-stored", "duplicate")
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(row.locator(".outcome")).to_have_text(SMALL)
    issue = ImportIssue.objects.get(filename="OR-1_PT01.jpg")
    assert (issue.kind, issue.reason) == ("", SMALL)  # refused, not a duplicate


def _tiff() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(out, "TIFF")
    return out.getvalue()


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_it_reads_a_zips_entry_sizes_and_says_which_it_could_not(
    live_server, page, client, compression
):
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    archive = zip_bytes({"ZS-1/small.jpg": product_jpeg(481, 321, seed=1),
                         "ZS-2/ok.jpg": product_jpeg(640, 600, seed=2),
                         "ZS-3/scan.tif": _tiff(), "ZS-4/photo.heic": HEIC_HEAD},
                        compression=compression)
    page.set_input_files("#zip-import input[name=archive]", files=[{
        "name": "shoot.zip", "mimeType": "application/zip", "buffer": archive}])
    preview = page.locator("[data-zip-preview]")
    expect(preview.locator(".preview-summary strong")).to_have_text(
        "3 of 4 files → 3 products", timeout=15_000)
    expect(preview.locator("[data-preview-sized-file]")).to_have_text(
        f"ZS-1/small.jpg: {SMALL}")
    # the TIFF's and the HEIC's sizes are not read in the browser: said, not implied
    expect(preview.locator("[data-preview-sizes-unread]")).to_have_text(
        "2 files: pixel size not read in the browser (TIFF, HEIC or AVIF, another "
        "compression, or a header further in): sizes checked on import: ZS-3/scan.tif, "
        "ZS-4/photo.heic.")
    assert not ImageAsset.objects.exists()


#: The start of a HEIC file (its ftyp box): an image the browser cannot read the size of.
HEIC_HEAD = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(512)


def test_it_says_which_dropped_files_sizes_are_checked_on_import(live_server, page, client):
    # the same line as a ZIP's (QA 2026-12-05: TIFF and HEIC said nothing of their size)
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    _drop(page, {"TH-1_MAIN.tif": _tiff(), "TH-2_MAIN.heic": HEIC_HEAD,
                 "TH-3_MAIN.jpg": product_jpeg(640, 600, seed=3)})
    preview = page.locator("#bulk-uploader [data-preview]")
    expect(preview.locator(".preview-summary strong")).to_have_text(
        "3 of 3 files → 3 products", timeout=15_000)
    expect(preview.locator("[data-preview-sizes-unread]")).to_have_text(
        "2 files: pixel size not read in the browser (TIFF, HEIC or AVIF, another "
        "compression, or a header further in): sizes checked on import: TH-1_MAIN.tif, "
        "TH-2_MAIN.heic.")


SCRIPTS = ('<script src="/static/js/upload_known.js" defer></script>',
           '<script src="/static/js/upload_dims.js" defer></script>',
           '<script src="/static/js/upload.js" defer></script>')


def _page_with(page, live_server, change) -> None:
    def rewrite(route):
        response = route.fetch()
        body = response.text()
        assert all(tag in body for tag in SCRIPTS), "the page's script tags changed"
        route.fulfill(response=response, body=change(body))

    page.route(f"{live_server.url}/catalog/upload/", rewrite)
    page.goto(f"{live_server.url}/catalog/upload/")


def test_it_works_whatever_the_order_of_its_script_tags(live_server, page, client):
    ProductFactory(sku="SO-1")
    _log_in(page, live_server, client, manager())

    def reverse(body: str) -> str:
        for tag in SCRIPTS:
            body = body.replace(tag, "")
        return body.replace("</head>", "".join(reversed(SCRIPTS)) + "</head>")

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _page_with(page, live_server, reverse)
    _drop(page, {"SO-1_MAIN.jpg": product_jpeg(640, 600, seed=1)})
    expect(page.locator("#bulk-uploader [data-preview]")).to_contain_text(
        "1 of 1 file → 1 product", timeout=15_000)
    expect(page.locator("#bulk-uploader [data-start]")).to_have_text("Upload 1 file")
    assert errors == []


def test_it_says_so_when_a_script_it_needs_did_not_load(live_server, page, client):
    _log_in(page, live_server, client, manager())
    _page_with(page, live_server, lambda body: body.replace(SCRIPTS[0], ""))
    missing = page.locator("#bulk-uploader [data-upload-scripts-missing]")
    expect(missing).to_have_text(
        "The upload cannot start: the page's upload_known.js did not load. Reload the page; "
        "if this stays, tell an administrator.")
    expect(page.locator("#bulk-uploader [data-start]")).to_be_disabled()

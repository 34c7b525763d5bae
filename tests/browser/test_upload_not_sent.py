"""The files the upload page does not send (static/js/upload.js): named to the session when it
starts, so the report lists them however the tab ends (QA38 H1); counted in one reading by the
summary, the preview and the skip note (M4); Upload held with its reason when every file is
held back (L8); an image format the import does not read named with what to convert it to
(L9)."""

import re

import pytest
from playwright.sync_api import expect

from catalog.models import ImageAsset, ImportJob
from catalog.selectors import import_job_report_csv
from tests.browser.test_upload import _drop, _log_in
from tests.browser.test_upload_preview_order import _tiff
from tests.factories import ImageAssetFactory, ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONVERT = "convert it to JPEG, PNG, WebP, TIFF, HEIC/HEIF or AVIF."


def test_it_reports_a_held_file_though_the_tab_closed_before_the_finish(live_server, page,
                                                                        client):
    """QA38 H1: BETA-2_PT05.jpg and an unmappable café.jpg, Upload, the tab closed at once:
    the last file's arrival ends the session, no finish ever comes, and café.jpg must be in
    the report all the same. The finish is cut off here as a closed tab cuts it off."""
    ProductFactory(sku="BETA-2")
    _log_in(page, live_server, client, manager())
    finishes: list[str] = []

    def closed_tab(route):
        finishes.append(route.request.url)
        route.abort()

    page.route(re.compile(r"/catalog/imports/\d+/finish$"), closed_tab)
    page.goto(f"{live_server.url}/catalog/upload/")
    _drop(page, {"BETA-2_PT05.jpg": product_jpeg(1600, 1200, seed=5),
                 "QA-100 PT05 café.jpg": product_jpeg(640, 600, seed=6)})
    uploader = page.locator("#bulk-uploader")
    start = uploader.locator("[data-start]")
    expect(start).to_have_text("Upload 1 file", timeout=15_000)
    start.click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    assert len(finishes) == 1  # the page tried; the server never heard it
    job = ImportJob.objects.get()
    assert (job.status, job.imported_count, job.error_count) == ("done", 1, 1)
    assert job.message.startswith("1 imported, 1 refused.")
    assert "QA-100 PT05 café.jpg" in import_job_report_csv(job=job)
    assert ImageAsset.live.get().original_filename == "BETA-2_PT05.jpg"


def test_it_holds_upload_with_its_reason_when_every_file_is_held_back(live_server, page,
                                                                      client):
    """QA38 L8: the one mappable file's position is taken, the other file is not mapped: the
    button was hidden ("Upload 0 files" to a script, enabled, a click timed out)."""
    ImageAssetFactory(product=ProductFactory(sku="T00"), position="MAIN",
                      original_filename="old-main.jpg")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    _drop(page, {"T00_MAIN.jpg": product_jpeg(640, 600, seed=1),
                 "T99_MAIN.jpg": product_jpeg(640, 600, seed=2)})
    uploader = page.locator("#bulk-uploader")
    start = uploader.locator("[data-start]")
    expect(uploader.locator("[data-summary]")).to_contain_text(
        "nothing to upload: all 2 files are held back (each row says why)", timeout=15_000)
    expect(start).to_be_visible()
    expect(start).to_be_disabled()
    expect(start).to_have_attribute(
        "title", "Nothing to upload: every file is held back (each row says why).")
    expect(uploader.locator("[data-preview-skip-note]")).to_have_text(
        "2 files will be skipped (see why above): 1 not mapped, 1 position taken.")
    assert not ImportJob.objects.exists()


def test_it_counts_a_mixed_drop_the_same_everywhere_and_names_unread_sizes(live_server,
                                                                           page, client):
    """QA38 M4 and L9: the summary, the preview's counts and the skip note agree on what is
    not sent; the file whose pixel size was not read is named; the skip note is gone once the
    upload is done; a .bmp is named as a format to convert."""
    ProductFactory(sku="M4-1")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    _drop(page, {"M4-1_MAIN.jpg": product_jpeg(640, 600, seed=1),
                 "M4-1_PT01.tif": _tiff(),
                 "M4-1_PT02.jpg": product_jpeg(481, 321, seed=2),  # too small
                 "ZZ-1_MAIN.jpg": product_jpeg(640, 600, seed=3),  # unknown SKU: held
                 "ZZ-2_MAIN.jpg": b"Contact sheet notes, not a photo.\n" * 40,  # sent
                 "scan.bmp": b"BM" + bytes(64)})
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator('[data-file-list] li[data-filename="scan.bmp"] .outcome')
           ).to_have_text(f"Skipped: BMP images are not supported (.bmp); {CONVERT}")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 4 files", timeout=15_000)
    preview = uploader.locator("[data-preview]")
    expect(preview.locator("[data-preview-unmapped-count]")).to_have_text(
        "1 not mapped · 1 skipped (file type) · 1 unreadable (sent: the import checks it)",
        timeout=15_000)
    # the list's heading in the same words (it said "Not mapped (3)")
    expect(preview.locator("[data-preview-unmapped-heading]")).to_have_text(
        "1 not mapped · 1 skipped (file type) · 1 unreadable (sent: the import checks it)")
    expect(preview.locator("[data-preview-sized-count]")).to_have_text("1 refused for size")
    summary = uploader.locator("[data-summary]")
    for part in ("6 files", "1 skipped (file type)", "1 not mapped",
                 "1 refused for size (sent: the import says why)",
                 "1 unreadable (sent: the import checks it)"):
        expect(summary).to_contain_text(part)
    note = uploader.locator("[data-preview-skip-note]")
    expect(note).to_have_text("2 files will be skipped (see why above): 1 file type, "
                              "1 not mapped.")
    expect(preview.locator("[data-preview-sizes-unread]")).to_contain_text(
        "1 file: pixel size not read in the browser")
    expect(preview.locator("[data-preview-sizes-unread]")).to_contain_text(
        "sizes checked on import: M4-1_PT01.tif.")
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(uploader.locator("[data-result] a")).to_be_visible()
    expect(note).to_be_hidden()  # was left on screen after the upload
    job = ImportJob.objects.get()
    report = import_job_report_csv(job=job)
    assert "ZZ-1_MAIN.jpg" in report and "scan.bmp" in report

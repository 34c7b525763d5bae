"""Acceptance (QA 2026-12-06 L6): a file the upload preview maps whose first bytes are no image
format's (text renamed .jpg) is marked "Will be refused" in the import's words before anything
is sent, counted among the files refused ahead, and still sent, so the import's report names
it; Upload is held when it is the only file. The preview's plan leaves it out (QA 2026-12-07
qa42c L3)."""

import pytest
from playwright.sync_api import expect

from catalog.ingest.images import text_content_reason
from catalog.models import ImportIssue
from tests.browser.test_upload import _drop, _log_in
from tests.factories import manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = b"this is not a photo\n"
#: its words, the row's, the preview's and the import's (QA41 L7: was the no-header words,
#: "no JPEG, PNG, WebP, TIFF, HEIC/HEIF or AVIF header found", for a file that is plainly text)
NO_IMAGE = text_content_reason("x.jpg")


def _row(uploader, name):
    return uploader.locator(f'[data-file-list] li[data-filename="{name}"] .outcome')


def test_it_marks_a_text_file_named_jpg_as_refused_before_it_is_sent(
    live_server, page, client, screenshot
):
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    _drop(page, {"NI001_MAIN.jpg": product_jpeg(640, 600, seed=1), "NI001_PT03.jpg": TEXT})
    uploader = page.locator("#bulk-uploader")
    # was "planned" (no word) until the import refused it
    expect(_row(uploader, "NI001_PT03.jpg")).to_have_text(
        f"Will be refused: {NO_IMAGE}", timeout=15_000)
    expect(_row(uploader, "NI001_MAIN.jpg")).not_to_contain_text("refused")
    expect(uploader.locator("[data-summary]")).to_contain_text(
        "1 not an image (will be refused; sent: the import says why)")
    # the plan leaves it out, as the summary does (QA 2026-12-07 qa42c L3: "2 of 2 files →
    # 1 product" and the text file planned as PT03, no mark)
    preview = uploader.locator("[data-preview]")
    expect(preview.locator(".preview-summary")).to_contain_text(
        "1 of 2 files → 1 product")
    expect(preview.locator("[data-preview-no-header-count]")).to_have_text("1 not an image")
    expect(preview.locator("[data-preview-no-header-file] .name")).to_have_text(
        "NI001_PT03.jpg")
    # in the row's and the report's words, not "no … header found" (2026-12-07, lows43)
    expect(preview.locator("[data-preview-no-header-file] [data-preview-reason]")).to_have_text(
        NO_IMAGE)
    expect(preview.locator("[data-preview-sku] .preview-files .name")).to_have_text(
        ["NI001_MAIN.jpg"])
    start = uploader.locator("[data-start]")
    expect(start).to_have_text("Upload 2 files")
    expect(start).to_be_enabled()
    screenshot("upload-not-an-image")
    start.click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(uploader.locator("[data-result] a")).to_contain_text("1 imported")
    assert ImportIssue.objects.get(filename="NI001_PT03.jpg").reason == NO_IMAGE


def test_it_holds_upload_when_its_only_file_is_not_an_image(live_server, page, client):
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    _drop(page, {"NI002_MAIN.jpg": TEXT})
    uploader = page.locator("#bulk-uploader")
    expect(_row(uploader, "NI002_MAIN.jpg")).to_have_text(
        f"Will be refused: {NO_IMAGE}", timeout=15_000)
    start = uploader.locator("[data-start]")
    expect(start).to_be_disabled()
    expect(start).to_have_attribute(
        "title", "Nothing to upload: the import would refuse every file.")

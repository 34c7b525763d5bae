"""Acceptance (QA 2026-12-03, i): a file the preview would hold back as an unknown SKU whose
bytes are no image is sent, so the import says it is unreadable first; its row adds the
SKU's reason after, and nothing is lost silently."""

import base64

import pytest
from playwright.sync_api import expect

from catalog.models import ImportJob
from tests.browser.test_upload import DROP_JS, _log_in, _record_sent
from tests.factories import ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _drop(page, files: dict[str, bytes]) -> None:
    payload = [{"name": name, "type": "image/jpeg", "b64": base64.b64encode(data).decode()}
               for name, data in files.items()]
    assert page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload]) == len(files)


def test_it_says_an_unknown_skus_unreadable_file_is_unreadable_first(live_server, page,
                                                                     client):
    ProductFactory(sku="T00")
    _log_in(page, live_server, client, manager())
    sent = _record_sent(page)
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("textarea[name=patterns]", "{sku}_{position}.jpg")
    _drop(page, {"T00_MAIN.jpg": product_jpeg(640, 600, seed=1),
                 "T98_MAIN.jpg": b"Contact sheet notes, not a photo.\n" * 40,  # both wrong
                 "T99_MAIN.jpg": product_jpeg(640, 600, seed=2)})  # a photo, unknown SKU
    uploader = page.locator("#bulk-uploader")
    row = uploader.locator('[data-file-list] li[data-filename="T98_MAIN.jpg"] .outcome')
    # before: held as "Will be skipped: Unknown SKU T98", as if the photo were fine
    expect(row).to_contain_text("its first bytes are not an image's", timeout=15_000)
    expect(row).to_contain_text("Unknown SKU T98")
    text = row.text_content() or ""
    assert text.index("not a readable image") < text.index("Unknown SKU T98")
    # the readable photo of an unknown SKU is still held back
    expect(uploader.locator('[data-file-list] li[data-filename="T99_MAIN.jpg"] .outcome')
           ).to_contain_text("Will be skipped: Unknown SKU T99")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 2 files")
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    assert sorted(sent) == ["T00_MAIN.jpg", "T98_MAIN.jpg"]
    failed = uploader.locator('[data-failure-list] li[data-filename="T98_MAIN.jpg"] .reason')
    expect(failed).to_contain_text("Not an image, or a corrupt one")
    expect(failed).to_contain_text("Its name also maps to no product: Unknown SKU T98")
    reason = failed.text_content() or ""
    assert reason.index("Not an image") < reason.index("Unknown SKU T98")
    expect(uploader.locator('[data-held-list] li[data-filename="T99_MAIN.jpg"]')).to_have_count(1)
    expect(uploader.locator('[data-held-list] li[data-filename="T98_MAIN.jpg"]')).to_have_count(0)
    # the report: the server's unreadable wording for T98, the unknown SKU for T99
    job = ImportJob.objects.get()
    reasons = dict(job.issues.values_list("filename", "reason"))
    assert reasons["T98_MAIN.jpg"].startswith("Not an image, or a corrupt one")
    assert "T99" in reasons["T99_MAIN.jpg"]
    assert (job.status, job.imported_count, job.error_count) == ("done", 1, 2)

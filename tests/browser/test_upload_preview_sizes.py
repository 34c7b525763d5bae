"""Acceptance (QA30 M4, M5, L1, L3): before anything is sent, the upload preview marks the
files the import will refuse for their size (read from the headers by upload_dims.js, judged
by the server's own rule) and counts them out of "→ N products", names a manifest row whose
file is not among the chosen ones, and shows where a file without a position will go."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from catalog.models import ImportIssue, ImportJob
from tests.browser.test_upload import _drop, _log_in
from tests.catalog.imagegen import png_declaring
from tests.factories import ImageAssetFactory, ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MANIFEST = (
    b"sku,title,filename,position\nBR-CSV1,Mug,IMG_1001.jpg,MAIN\n"
    b"BR-CSV1,Mug,IMG_1002.jpg,PT01\nBR-CSV2,Boot,IMG_1003.png,MAIN\n"
    b"BR-CSV2,,IMG_9999.jpg,PT01\n"
)
SMALL = "Too small: {}; the long side must be at least 500 px."


def _jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) says ``width``×``height``: what the page and
    the server read of its size, never its pixels."""
    data = bytearray(product_jpeg(640, 600, seed=9))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def _webp(size: tuple[int, int], **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "WEBP", **options)
    return out.getvalue()


def test_it_marks_files_refused_for_their_size_a_missing_manifest_file_and_positions(
    live_server, page, client, screenshot
):
    ImageAssetFactory(product=ProductFactory(sku="BR-OLD"), position="MAIN")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    _drop(
        page,
        {
            "shoot.csv": MANIFEST,
            "IMG_1001.jpg": product_jpeg(640, 600, seed=1),
            "IMG_1002.jpg": product_jpeg(481, 321, seed=2),
            "IMG_1003.png": png_declaring(12_000, 9_000),
            "BR-NEW.webp": _webp((300, 200)),
            "BR-LOSSLESS.webp": _webp((200, 450), lossless=True),
            "BR-OLD.jpg": product_jpeg(640, 600, seed=3),
        },
    )
    uploader = page.locator("#bulk-uploader")
    preview = uploader.locator("[data-preview]")

    def row(name):
        return uploader.locator(f'[data-file-list] li[data-filename="{name}"] .outcome')

    # was "6 of 6 files → 5 products (4 new)", then 4 refused on arrival; BR-CSV2's file
    # is refused, but the manifest creates it all the same (QA31 L5): said, not hidden
    expect(preview.locator(".preview-summary strong")).to_have_text(
        "2 of 6 files → 3 products", timeout=15_000
    )
    expect(preview.locator("[data-preview-manifest-only-count]")).to_have_text(
        ": 1 from the manifest, no file"
    )
    expect(preview.locator('[data-preview-manifest-only="BR-CSV2"]')).to_have_count(1)
    expect(preview.locator("[data-preview-sized-count]")).to_have_text("4 refused for size")
    expect(preview.locator("[data-preview-sized-file]")).to_have_count(4)
    expect(row("IMG_1002.jpg")).to_have_text(f"Will be refused: {SMALL.format('481×321')}")
    expect(row("BR-NEW.webp")).to_have_text(f"Will be refused: {SMALL.format('300×200')}")
    expect(row("BR-LOSSLESS.webp")).to_have_text(f"Will be refused: {SMALL.format('200×450')}")
    expect(row("IMG_1003.png")).to_contain_text(
        "Will be refused: Too large: 12000×9000 px (108,000,000 pixels, 108 MP) is over the "
        "80 MP limit"
    )
    for name in ("BR-NEW", "BR-LOSSLESS", "BR-CSV2"):
        expect(preview.locator(f'[data-preview-sku="{name}"]')).to_have_count(0)
    # M5: the manifest row whose file was not chosen, with its line
    expect(preview.locator("[data-preview-manifest-note]")).to_have_text(
        "shoot.csv: Manifest line 5 names IMG_9999.jpg, which is not among the uploaded files."
    )
    # L3: MAIN is taken, so the re-shoot without a position goes to PT01
    expect(
        preview.locator('[data-preview-sku="BR-OLD"] [data-preview-auto-position]')
    ).to_have_text("→ PT01 (next free)")
    screenshot("upload-preview-sizes")

    # sent all the same: the import refuses them in the words the preview used
    page.click("#bulk-uploader [data-start]")
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(uploader.locator("[data-result] a")).to_contain_text("2 imported")
    assert ImportIssue.objects.get(filename="IMG_1002.jpg").reason == SMALL.format("481×321")
    assert (
        ImportIssue.objects.filter(
            reason="Manifest line 5 names IMG_9999.jpg, which is not among the uploaded files."
        ).count()
        == 1
    )


def test_it_holds_upload_when_the_preview_says_the_import_refuses_every_file(
    live_server, page, client, screenshot
):
    """QA 2026-12-06 L1: a 90 MP JPEG and a 30000×30000 PNG both read "Will be refused: Too
    large…", yet Upload stayed enabled and made an import of "0 imported, 2 refused"."""
    ProductFactory(sku="BR-BIG")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    _drop(page, {"BR-BIG_MAIN.jpg": _jpeg_declaring(10_980, 8_200),
                 "BR-BIG_PT01.png": png_declaring(30_000, 30_000)})
    uploader = page.locator("#bulk-uploader")
    start = uploader.locator("[data-start]")
    for name in ("BR-BIG_MAIN.jpg", "BR-BIG_PT01.png"):
        expect(uploader.locator(f'[data-file-list] li[data-filename="{name}"] .outcome')
               ).to_contain_text("Will be refused: Too large: ", timeout=15_000)
    expect(start).to_be_disabled()
    expect(start).to_have_attribute(
        "title", "Nothing to upload: the import would refuse every file.")
    expect(uploader.locator("[data-summary]")).to_contain_text(
        "nothing to upload: the import would refuse all 2 files (each row says why)")
    screenshot("upload-preview-all-refused")
    assert not ImportJob.objects.exists()
    # one file the import may store beside them: sent with them, so the report says why
    _drop(page, {"BR-BIG_PT02.jpg": product_jpeg(640, 600, seed=4)})
    expect(start).to_be_enabled(timeout=15_000)
    expect(start).to_have_text("Upload 3 files")
    expect(uploader.locator("[data-summary]")).not_to_contain_text("nothing to upload")

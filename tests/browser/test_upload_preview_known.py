"""Acceptance (QA L3): the upload preview warns of what the server will certainly refuse or
skip, before anything is sent: a 0-byte file (refused, no product made for it) and a file
whose bytes are stored already (a duplicate on its own product)."""

import hashlib
import zipfile

import pytest
from playwright.sync_api import expect

from catalog.models import ImageAsset, ImportIssue, Product
from tests.browser.test_upload import _drop, _log_in
from tests.catalog.imagegen import zip_bytes
from tests.factories import ImageAssetFactory, ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# the sizes of what the page hashes: only a file of a stored image's size is read whole
COUNT_DIGESTS = """window.hashedSizes = [];
    const digest = crypto.subtle.digest.bind(crypto.subtle);
    crypto.subtle.digest = (algo, data) => {
      window.hashedSizes.push(data.byteLength); return digest(algo, data); };"""


def _stored(data: bytes, sku: str = "MU-FULL") -> ImageAsset:
    return ImageAssetFactory(product=ProductFactory(sku=sku), position="MAIN",
                             original_filename=f"{sku}_MAIN.jpg", bytes=len(data),
                             sha256=hashlib.sha256(data).hexdigest())


def test_it_marks_an_empty_file_and_an_already_stored_file_before_the_upload(
        live_server, page, client, screenshot):
    same, fresh = product_jpeg(640, 600, seed=1), product_jpeg(640, 600, seed=2)
    assert len(fresh) != len(same)
    holder = _stored(same)
    _log_in(page, live_server, client, manager())
    page.add_init_script(COUNT_DIGESTS)
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    _drop(page, {"MU-EMPTY_MAIN.jpg": b"", "MU-FULL_PT01.jpg": same,
                 "MU-FULL_PT02.jpg": fresh})
    uploader = page.locator("#bulk-uploader")
    preview = uploader.locator("[data-preview]")

    def row(name):
        return uploader.locator(f'[data-file-list] li[data-filename="{name}"] .outcome')

    # the empty file: refused in the import's words, and no product "MU-EMPTY new" offered
    expect(preview).to_contain_text("2 of 3 files → 1 product", timeout=15_000)
    expect(preview.locator("[data-preview-empty-count]")).to_have_text("1 empty (0 bytes)")
    expect(preview.locator('[data-preview-sku="MU-EMPTY"]')).to_have_count(0)
    expect(preview.locator("[data-preview-empty-file]")).to_have_text(
        "MU-EMPTY_MAIN.jpg: Not an image, or a corrupt one: the file is empty.")
    expect(row("MU-EMPTY_MAIN.jpg")).to_have_text(
        "Will be refused: Not an image, or a corrupt one: the file is empty.")
    # the stored file: the same bytes on the product it maps to, a duplicate
    expect(row("MU-FULL_PT01.jpg")).to_have_text(
        f"Already stored — will be skipped: identical to MU-FULL MAIN (asset #{holder.pk}) "
        "(not sent)",
        timeout=15_000)
    expect(uploader.locator("[data-preview-stored-note]")).to_have_text(
        "1 file looks already stored (the same bytes as a stored image): 1 on the product it "
        "maps to is skipped (not sent); the import's report names it.")
    expect(row("MU-FULL_PT02.jpg")).to_have_text("waiting")
    expect(uploader.locator("[data-summary]")).to_have_text(
        "3 files · 1 empty (0 bytes: will be refused) · 1 already stored — skipped")
    # not sent (test_upload_skip_stored), the new file never hashed
    expect(uploader.locator("[data-start]")).to_have_text("Upload 2 files")
    assert page.evaluate("window.hashedSizes") == [len(same)]
    screenshot("upload-preview-empty-and-stored")

    page.click("#bulk-uploader [data-start]")
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(uploader.locator("[data-result] a")).to_contain_text(
        "1 imported, 1 duplicate skipped, 1 refused")
    assert not Product.objects.filter(sku="MU-EMPTY").exists()
    assert ImportIssue.objects.get(filename="MU-FULL_PT01.jpg").kind == "duplicate"


def test_it_marks_an_empty_and_an_already_stored_entry_in_a_zips_preview(
        live_server, page, client, screenshot):
    same = product_jpeg(640, 600, seed=1)
    holder = _stored(same)
    _stored(product_jpeg(640, 600, seed=5), sku="OTHER-1")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    archive = zip_bytes({"MU-FULL/again.jpg": same, "MU-EMPTY_MAIN.jpg": b"",
                         "MU-NEW_MAIN.jpg": product_jpeg(640, 600, seed=3)},
                        compression=zipfile.ZIP_DEFLATED)
    page.set_input_files("#zip-import input[name=archive]", files=[{
        "name": "shoot.zip", "mimeType": "application/zip", "buffer": archive}])
    preview = page.locator("[data-zip-preview]")
    expect(preview).to_contain_text("2 of 3 files → 2 products (1 new)", timeout=15_000)
    expect(preview.locator("[data-preview-empty-count]")).to_have_text("1 empty (0 bytes)")
    expect(preview.locator('[data-preview-sku="MU-EMPTY"]')).to_have_count(0)
    # a deflated entry of a stored image's size is inflated and hashed in the browser
    expect(preview.locator("[data-preview-stored-note]")).to_have_text(
        "1 file looks already stored (the same bytes as a stored image): the import will "
        "skip 1 as a duplicate (on the product it maps to).", timeout=15_000)
    expect(preview.locator('[data-preview-stored-file="duplicate"]')).to_have_text(
        f"MU-FULL/again.jpg: Looks already stored: identical to MU-FULL MAIN "
        f"(asset #{holder.pk}); the import will skip it as a duplicate")
    screenshot("zip-preview-empty-and-stored")
    assert not ImageAsset.objects.filter(product__sku="MU-NEW").exists()


def test_it_asks_about_hashes_in_batches_and_marks_a_copy_of_another_product(
        live_server, page, client):
    """A shoot dropped again, its files naming no position: the marks come as the hashing
    goes (20 hashes a question), and a file whose bytes another product holds is stored
    again, with a warning. (A file naming a taken position is checked the same way:
    test_upload.test_it_skips_a_file_identical_to_the_holder_as_already_stored_not_as_a_clash.)"""
    # big enough for the ingest's size rule, which the preview applies since QA30 M4
    photos = {f"RE-{p}_shot{n}.jpg": product_jpeg(520, 500, seed=10 * p + n)
              for p in (1, 2, 3) for n in range(1, 9)}
    for name, data in photos.items():
        sku, shot = name[:-4].split("_")
        n = int(shot[4:])
        ImageAssetFactory(product=Product.objects.get_or_create(sku=sku)[0],
                          position="MAIN" if n == 1 else f"PT0{n - 1}",
                          bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    photos["OTHER-9_shot1.jpg"] = photos["RE-1_shot1.jpg"]
    ProductFactory(sku="OTHER-9")
    _log_in(page, live_server, client, manager())
    questions = []
    page.on("request", lambda r: questions.append(r.post_data or "")
            if r.url.endswith("/catalog/upload/known") else None)
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("input[name=regex]", r"^(?P<sku>[A-Z]+-\d)_shot")
    _drop(page, photos)
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator("[data-preview]")).to_contain_text("25 of 25 files → 4 products",
                                                               timeout=15_000)
    expect(uploader.locator("[data-preview-stored-note]")).to_have_text(
        "25 files look already stored (the same bytes as a stored image): 24 on the product "
        "they map to are skipped (not sent); the import's report names them.", timeout=30_000)
    other = uploader.locator('li[data-filename="OTHER-9_shot1.jpg"] .outcome')
    expect(other).to_contain_text("identical to RE-1 MAIN")
    expect(other).to_contain_text("the import stores it on OTHER-9 too, with a warning")
    # the 24 on their own product are skipped; the copy of another product's is sent
    expect(uploader.locator("[data-summary]")).to_have_text(
        "25 files · 1 looks already stored · 24 already stored — skipped")
    assert len([q for q in questions if "sha256" in q]) == 2  # 20, then the last 5


def _next_free(preview, sku):
    return preview.locator(f'[data-preview-sku="{sku}"] .preview-files li')


def test_it_plans_next_free_positions_without_an_entry_already_stored(
        live_server, page, client):
    """QA 2026-12-05 (M1): a ZIP entry without a position whose bytes are stored on its
    product was planned at PT01 "(next free)" while the import skipped it and stored the
    next entry at PT01. It takes no position now, and its table line says so."""
    from tests.workers import running_worker

    same = product_jpeg(640, 600, seed=1)
    holder = _stored(same, sku="QA1")
    _log_in(page, live_server, client, manager())
    archive = zip_bytes({"QA1/IMG_0009.jpg": same,
                         "QA1/IMG_0010.jpg": product_jpeg(640, 600, seed=2)})
    with running_worker(queues="default"):
        page.goto(f"{live_server.url}/catalog/upload/")
        page.set_input_files("#zip-import input[name=archive]", files=[{
            "name": "shoot.zip", "mimeType": "application/zip", "buffer": archive}])
        preview = page.locator("[data-zip-preview]")
        expect(preview.locator('[data-preview-stored-file="duplicate"]')).to_contain_text(
            f"identical to QA1 MAIN (asset #{holder.pk})", timeout=15_000)
        lines = _next_free(preview, "QA1")
        expect(lines.filter(has_text="IMG_0009.jpg")).to_contain_text(
            "already stored: skipped as a duplicate")
        expect(lines.filter(has_text="IMG_0009.jpg").locator(
            "[data-preview-auto-position]")).to_have_count(0)
        expect(lines.filter(has_text="IMG_0010.jpg").locator(
            "[data-preview-auto-position]")).to_have_text("→ PT01 (next free)")
        page.click("#zip-import button[type=submit]")
        expect(page.locator("#import-status")).to_have_text("Done", timeout=90_000)
    stored = {a.original_filename: a.position for a in ImageAsset.live.filter(
        product__sku="QA1")}
    assert stored == {"QA1_MAIN.jpg": "MAIN", "IMG_0010.jpg": "PT01"}


def test_it_says_already_stored_on_a_dropped_files_table_line_and_moves_the_next_up(
        live_server, page, client):
    """The same in a drop: the row said "Already stored — will be skipped" while the
    product's table line planned it at PT01 (next free), without a word."""
    same = product_jpeg(640, 600, seed=1)
    _stored(same, sku="QA1")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    _drop(page, {"QA1.jpg": same, "QA1.png": _png(640, 600)})
    uploader = page.locator("#bulk-uploader")
    preview = uploader.locator("[data-preview]")
    expect(uploader.locator('[data-file-list] li[data-filename="QA1.jpg"] .outcome')
           ).to_contain_text("Already stored — will be skipped", timeout=15_000)
    lines = _next_free(preview, "QA1")
    expect(lines.filter(has_text="QA1.jpg")).to_contain_text(
        "already stored: skipped as a duplicate")
    expect(lines.filter(has_text="QA1.jpg").locator("[data-preview-auto-position]")
           ).to_have_count(0)
    expect(lines.filter(has_text="QA1.png").locator("[data-preview-auto-position]")
           ).to_have_text("→ PT01 (next free)")
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    assert dict(ImageAsset.live.filter(product__sku="QA1").values_list(
        "original_filename", "position")) == {"QA1_MAIN.jpg": "MAIN", "QA1.png": "PT01"}


def test_it_reads_the_planned_position_from_the_data_not_the_words(live_server, page,
                                                                    client):
    """upload_known.js took the position out of "→ PT01 (next free)" with a regex: other
    words (a reworded or translated line) planned nothing. It reads the line's
    data-preview-auto-position now; the words are for people."""
    same = product_jpeg(640, 600, seed=1)
    _stored(same, sku="QA1")
    _log_in(page, live_server, client, manager())

    def reworded(route):
        response = route.fetch()
        route.fulfill(response=response,
                      body=response.text().replace("(next free)", "(prochaine libre)"))

    page.route("**/catalog/upload/preview", reworded)
    page.goto(f"{live_server.url}/catalog/upload/")
    _drop(page, {"QA1.jpg": same, "QA1.png": _png(640, 600)})
    uploader = page.locator("#bulk-uploader")
    preview = uploader.locator("[data-preview]")
    later = _next_free(preview, "QA1").filter(has_text="QA1.png").locator(
        "[data-preview-auto-position]")
    expect(uploader.locator('[data-file-list] li[data-filename="QA1.jpg"] .outcome')
           ).to_contain_text("Already stored — will be skipped", timeout=15_000)
    # QA1.jpg gave PT01 up: QA1.png moves there, in data and in words
    expect(later).to_have_attribute("data-preview-auto-position", "PT01")
    expect(later).to_have_text("→ PT01 (next free)")


def _png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 140, 90)).save(out, "PNG")
    return out.getvalue()


def test_it_promises_nothing_of_a_stored_file_while_the_manifest_is_broken(
        live_server, page, client, tmp_path):
    """QA 2026-12-05 L3: with a manifest in error (Upload disabled) a file of a stored
    image's bytes read "the import stores it too, with a warning": no product came from the
    preview, and nothing would be stored at all."""
    same = product_jpeg(640, 600, seed=1)
    holder = _stored(same, sku="SHOE-1")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"sku,colour\r\nSHOE-2,red\r\n")
    page.set_input_files("input[data-manifest]", str(bad))
    _drop(page, {"SHOE-1.webp": same})
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator("[data-preview] .error")).to_contain_text("unknown 'colour'",
                                                                     timeout=15_000)
    row = uploader.locator('[data-file-list] li[data-filename="SHOE-1.webp"] .outcome')
    expect(row).to_have_text(
        f"Looks already stored: identical to SHOE-1 MAIN (asset #{holder.pk})", timeout=15_000)
    expect(uploader.locator("[data-start]")).to_be_disabled()

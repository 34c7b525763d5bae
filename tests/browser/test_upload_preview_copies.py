"""Acceptance (QA 2026-12-05 M2): the same bytes twice in one upload for one product. The
import keeps the first in name order and skips the other as a duplicate; the preview said
so of neither and planned the copy a next-free position, so every later file's planned
position was one too far (GOOD-1.webp planned at PT06, stored at PT05)."""

import hashlib
import json
import re
import zipfile

import pytest
from playwright.sync_api import expect

from catalog.models import ImageAsset
from tests.browser.test_upload import _drop
from tests.catalog.imagegen import zip_bytes
from tests.factories import ImageAssetFactory, ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_upload(live_server, page, session_for):
    """``open_upload(init_script="")``: the upload page as a manager sees it (a session, no
    login form), ``init_script`` run before the page's own scripts; returns the page."""

    def go(init_script: str = ""):
        if init_script:
            page.add_init_script(init_script)
        session_for(page, manager())
        page.goto(f"{live_server.url}/catalog/upload/")
        return page

    return go


@pytest.fixture
def photo() -> bytes:
    """The photo the tests drop twice (a copy within the upload)."""
    return product_jpeg(640, 600, seed=1)


@pytest.fixture
def good_main():
    """GOOD-1 with an image of other bytes at MAIN: the dropped files take PT01 onwards."""
    return ImageAssetFactory(product=ProductFactory(sku="GOOD-1"), position="MAIN")


@pytest.fixture
def stored_on_another(photo):
    """``photo``'s bytes stored on GOOD-1 (MAIN), and DUPB-1, the product the files map to."""
    ImageAssetFactory(product=ProductFactory(sku="GOOD-1"), position="MAIN", bytes=len(photo),
                      sha256=hashlib.sha256(photo).hexdigest())
    return ProductFactory(sku="DUPB-1")


def _lines(preview, sku):
    return preview.locator(f'[data-preview-sku="{sku}"] .preview-files li')


def _zip_preview(page, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    """The ZIP page's preview of a ZIP of ``members``."""
    page.set_input_files("#zip-import input[name=archive]", files=[{
        "name": "shoot.zip", "mimeType": "application/zip",
        "buffer": zip_bytes(members, compression=compression)}])
    return page.locator("[data-zip-preview]")


def test_it_plans_no_position_for_a_copy_of_another_dropped_file(open_upload, photo,
                                                                  good_main):
    page = open_upload()
    _drop(page, {"GOOD-1.jpg": photo, "GOOD-1.png": photo,
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
def test_it_plans_no_position_for_a_copy_of_another_zip_entry(open_upload, photo, good_main,
                                                               compression):
    preview = _zip_preview(open_upload(), {
        "GOOD-1/IMG_0011.jpg": photo, "GOOD-1/IMG_0012.jpg": photo,
        "GOOD-1/IMG_0013.jpg": product_jpeg(640, 600, seed=2)}, compression)
    lines = _lines(preview, "GOOD-1")
    copy = lines.filter(has_text="IMG_0012.jpg")
    expect(copy).to_contain_text(
        "duplicate of GOOD-1/IMG_0011.jpg in this upload — will be skipped", timeout=15_000)
    expect(copy.locator("[data-preview-auto-position]")).to_have_count(0)
    expect(lines.filter(has_text="IMG_0013.jpg").locator("[data-preview-auto-position]")
           ).to_have_attribute("data-preview-auto-position", "PT02")


def test_it_calls_an_entry_it_cannot_hash_with_the_same_size_and_crc_a_likely_copy(
        open_upload, photo, good_main):
    """A deflated entry the browser cannot inflate (no DecompressionStream here) is not
    hashed; the same size and CRC-32 as an earlier entry of its product is the hint."""
    page = open_upload("delete window.DecompressionStream;")
    preview = _zip_preview(page, {
        "GOOD-1/IMG_0011.jpg": photo, "GOOD-1/IMG_0012.jpg": photo,
        "GOOD-1/IMG_0013.jpg": product_jpeg(640, 600, seed=2)}, zipfile.ZIP_DEFLATED)
    lines = _lines(preview, "GOOD-1")
    copy = lines.filter(has_text="IMG_0012.jpg")
    expect(copy).to_contain_text(
        "likely duplicate of GOOD-1/IMG_0011.jpg in this upload (same size and CRC-32) — "
        "will be skipped", timeout=15_000)
    expect(copy).to_have_attribute("data-preview-copy", "likely")
    expect(lines.filter(has_text="IMG_0013.jpg").locator("[data-preview-auto-position]")
           ).to_have_attribute("data-preview-auto-position", "PT02")


def test_it_does_not_call_a_copy_stored_on_another_product_too(open_upload, photo,
                                                                stored_on_another):
    """QA 2026-12-05 (qa33b L2): both files hold the bytes of another product's image. The
    first is stored again with a warning; the second, a copy of the first, is skipped, so
    its row and the "look already stored" count no longer say it is stored too."""
    page = open_upload()
    _drop(page, {"DUPB-1.jpg": photo, "DUPB-1.png": photo,
                 "DUPB-1.webp": product_jpeg(640, 600, seed=2)})
    uploader = page.locator("#bulk-uploader")
    copy = _lines(uploader.locator("[data-preview]"), "DUPB-1").filter(has_text="DUPB-1.png")
    expect(copy).to_have_attribute("data-preview-copy", "duplicate", timeout=15_000)
    expect(uploader.locator("[data-preview-stored-note]")).to_have_text(
        "1 file looks already stored (the same bytes as a stored image).", timeout=15_000)
    expect(uploader.locator("[data-summary]")).to_have_text("3 files · 1 looks already stored")
    expect(uploader.locator('li[data-filename="DUPB-1.jpg"] .outcome')).to_contain_text(
        "the import stores it on DUPB-1 too, with a warning")
    row = uploader.locator('li[data-filename="DUPB-1.png"]')
    expect(row.locator(".outcome")).not_to_contain_text("already stored")
    expect(row).not_to_have_attribute("data-stored", "elsewhere")


# the first file by name is sent last: the session's end moves the others up by one
DELAY_SHOT1 = """const send = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (body) {
      const file = body instanceof FormData && body.get("file");
      if (file && file.name === "DUPC-1_shot1.jpg") setTimeout(() => send.call(this, body), 3000);
      else send.call(this, body);
    };"""


def test_it_names_where_a_copys_kept_file_is_once_the_session_has_ended(open_upload):
    """QA 2026-12-05 (qa33b L1): shot3 was stored at PT01 on arrival and its copy shot3b
    was answered "already stored … as PT01"; the session's name order then moved shot3 to
    PT02, as the report says. The copy's row and its "Not stored" line say so too."""
    ProductFactory(sku="DUPC-1")
    page = open_upload(DELAY_SHOT1)
    page.fill("input[name=regex]", r"^(?P<sku>[A-Z]+-\d)_shot")
    photos = {f"DUPC-1_shot{n}.jpg": product_jpeg(640, 600, seed=n) for n in (1, 2, 3, 4)}
    photos["DUPC-1_shot3b.jpg"] = photos["DUPC-1_shot3.jpg"]
    _drop(page, photos)
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 5 files", timeout=15_000)
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    kept = ImageAsset.live.get(product__sku="DUPC-1", original_filename="DUPC-1_shot3.jpg")
    assert kept.position == "PT02"
    said = f"already stored for DUPC-1 as PT02 (asset #{kept.pk})"
    expect(uploader.locator('[data-file-list] li[data-filename="DUPC-1_shot3b.jpg"] .outcome')
           ).to_contain_text(said)
    expect(uploader.locator(
        '[data-failure-list] li[data-filename="DUPC-1_shot3b.jpg"] .reason')).to_contain_text(said)


def test_it_does_not_call_a_zip_entrys_copy_stored_on_another_product_too(
        open_upload, photo, stored_on_another):
    preview = _zip_preview(open_upload(), {
        "DUPB-1/IMG_0001.jpg": photo, "DUPB-1/IMG_0002.jpg": photo,
        "DUPB-1/IMG_0003.jpg": product_jpeg(640, 600, seed=2)})
    expect(_lines(preview, "DUPB-1").filter(has_text="IMG_0002.jpg")).to_have_attribute(
        "data-preview-copy", "duplicate", timeout=15_000)
    expect(preview.locator("[data-preview-stored-note]")).to_have_text(
        "1 file looks already stored (the same bytes as a stored image).")
    listed = preview.locator("[data-preview-stored] li")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("DUPB-1/IMG_0001.jpg")


# the copy is sent once the original has its answer: stored first, it is the copy, first in
# name order (" " before "."), that the session keeps (import_mapping._first_by_name)
COPY_AFTER_ORIGINAL = """const send = XMLHttpRequest.prototype.send;
    let stored;
    const original = new Promise((resolve) => { stored = resolve; });
    XMLHttpRequest.prototype.send = function (body) {
      const file = body instanceof FormData && body.get("file");
      if (file && file.name === "IMG_0002.jpg") this.addEventListener("loadend", stored);
      if (file && file.name === "IMG_0002 copy.jpg") original.then(() => send.call(this, body));
      else send.call(this, body);
    };"""


def test_it_turns_a_stored_row_into_the_duplicate_when_its_copy_first_by_name_arrives_later(
        open_upload, photo, tmp_path):
    """QA 2026-12-06 (qa34 F1): the copy, sent second, took the image over as the first of
    the two in name order and the report named IMG_0002.jpg the duplicate; the page still
    said "2 stored · 0 duplicates" and IMG_0002.jpg "stored → RACE35 MAIN"."""
    ProductFactory(sku="RACE35")
    page = open_upload(COPY_AFTER_ORIGINAL)
    folder = tmp_path / "RACE35"
    folder.mkdir()
    (folder / "IMG_0002.jpg").write_bytes(photo)
    (folder / "IMG_0002 copy.jpg").write_bytes(photo)
    uploader = page.locator("#bulk-uploader")
    uploader.locator("input[data-pick][webkitdirectory]").set_input_files(folder)
    expect(uploader.locator("[data-start]")).to_have_text("Upload 2 files", timeout=15_000)
    with page.expect_response(re.compile(r"/catalog/imports/\d+/finish$")) as finish:
        uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    assert [d["filename"] for d in finish.value.json()["duplicates"]] == [
        "RACE35/IMG_0002.jpg"]
    kept = ImageAsset.live.get(product__sku="RACE35")
    assert kept.original_filename == "IMG_0002 copy.jpg"
    expect(uploader.locator("[data-result] a")).to_contain_text(
        "1 imported, 1 duplicate skipped")
    expect(uploader.locator("[data-summary]")).to_contain_text(
        "2 files · 1 stored · 1 duplicate · 0 refused")
    row = uploader.locator('[data-file-list] li[data-filename="RACE35/IMG_0002.jpg"]')
    expect(row).to_have_attribute("data-status", "duplicate")
    expect(row.locator(".outcome")).not_to_contain_text("stored →")
    expect(row.locator(".outcome")).to_contain_text(f"asset #{kept.pk}")
    listed = uploader.locator('[data-failure-list] li[data-filename="RACE35/IMG_0002.jpg"]')
    expect(listed).to_have_count(1)
    expect(listed).to_have_attribute("class", "duplicate")
    expect(uploader.locator('[data-file-list] li[data-filename="RACE35/IMG_0002 copy.jpg"]')
           ).to_have_attribute("data-status", "stored")


# each file waits for the one before it in ORDER to be answered: the arrival order the
# session's name order then changes
IN_ORDER = """const ORDER = %s;
    const send = XMLHttpRequest.prototype.send;
    const answered = Object.fromEntries(ORDER.map((p) => {
      let done;
      const promise = new Promise((resolve) => { done = resolve; });
      return [p, { promise, done }];
    }));
    XMLHttpRequest.prototype.send = function (body) {
      const path = body instanceof FormData && body.get("path");
      const at = ORDER.indexOf(path);
      if (at < 0) return send.call(this, body);
      this.addEventListener("loadend", answered[path].done);
      if (at === 0) return send.call(this, body);
      answered[ORDER[at - 1]].promise.then(() => send.call(this, body));
    };"""


def test_it_says_where_an_identical_image_of_the_session_settled_on_its_row(
        open_upload, photo, tmp_path):
    """QA 2026-12-06 (qa34 F5): CP34-B's IMG_0001 is CP34-A's, which was at PT01 when it
    arrived and at MAIN once the session put CP34-A's files in name order; the row said
    "Identical to CP34-A PT01" to the end."""
    ProductFactory(sku="CP34-A")
    ProductFactory(sku="CP34-B")
    elsewhere = product_jpeg(640, 600, seed=5)
    ImageAssetFactory(product=ProductFactory(sku="CP34-X"), position="MAIN",
                      sha256=hashlib.sha256(elsewhere).hexdigest(), bytes=len(elsewhere))
    files = {"shoot/CP34-A/IMG_0003.jpg": elsewhere, "shoot/CP34-A/IMG_0001.jpg": photo,
             "shoot/CP34-B/IMG_0001.jpg": photo}
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    page = open_upload(IN_ORDER % json.dumps(list(files)))
    uploader = page.locator("#bulk-uploader")
    uploader.locator("input[data-pick][webkitdirectory]").set_input_files(tmp_path / "shoot")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 3 files", timeout=15_000)
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    named = ImageAsset.live.get(product__sku="CP34-A", original_filename="IMG_0001.jpg")
    assert named.position == "MAIN"
    warning = uploader.locator(
        '[data-file-list] li[data-filename="shoot/CP34-B/IMG_0001.jpg"] .warn-text')
    expect(warning).to_contain_text(f"Identical to CP34-A MAIN (#{named.pk})")
    expect(warning).not_to_contain_text("PT01")

"""Acceptance: a shoot dropped onto the bulk page lands on the right products."""

import base64
import re

import pytest
from playwright.sync_api import expect

from catalog.ingest.archives import ZIP_DAMAGED_REASON
from catalog.models import ImageAsset, ImportJob
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.catalog.test_archives import _truncated_after_nested_zip
from tests.factories import ImageAssetFactory, ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POSITIONS = ("MAIN", "PT01", "PT02")
BAD = {
    "T03_PT01.jpg": "Not an image",
    "T05_PT02.jpg": "a truncated file",
    "T07_MAIN.jpg": "Too small: 300×300",
}

# Builds real File objects from the bytes handed over, puts them in a DataTransfer and
# dispatches the same event sequence a user's drag produces, on the drop zone itself.
DROP_JS = """
([selector, files]) => {
  const dt = new DataTransfer();
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], f.name, { type: f.type }));
  }
  const zone = document.querySelector(selector);
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
  }
  return dt.files.length;
}
"""


def _shoot() -> dict[str, bytes]:
    files = {}
    for product in range(10):
        for index, position in enumerate(POSITIONS):
            seed = product * len(POSITIONS) + index
            files[f"T{product:02d}_{position}.jpg"] = product_jpeg(640, 600, seed=seed)
    files["T03_PT01.jpg"] = b"Contact sheet notes, not a photo.\n" * 40
    truncated = files["T05_PT02.jpg"]
    files["T05_PT02.jpg"] = truncated[: len(truncated) // 2]
    files["T07_MAIN.jpg"] = product_jpeg(300, 300, seed=99)
    return files


def _log_in(page, live_server, client, user) -> None:
    client.force_login(user)
    page.context.add_cookies([{
        "name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url,
    }])


def _record_sent(page) -> list[str]:
    """The names of the files the page sends, in order, as the server receives them."""
    sent: list[str] = []

    def record(route):
        body = route.request.post_data_buffer or b""
        if b'filename="' in body:
            sent.append(body.split(b'filename="', 1)[1].split(b'"', 1)[0].decode())
        route.continue_()

    page.route(re.compile(r"/catalog/imports/\d+/files$"), record)
    return sent


def test_it_uploads_a_dropped_shoot_and_lists_the_bad_files(live_server, page, client,
                                                            screenshot):
    """A file the preview already refused (an unknown SKU) is not sent."""
    products = {f"T{n:02d}": ProductFactory(sku=f"T{n:02d}") for n in range(10)}
    _log_in(page, live_server, client, manager())
    files = _shoot()
    files["T99_MAIN.jpg"] = product_jpeg(640, 600, seed=199)  # no product T99
    sent = _record_sent(page)
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("textarea[name=patterns]", "{sku}_{position}.jpg")

    payload = [{"name": name, "type": "image/jpeg", "b64": base64.b64encode(data).decode()}
               for name, data in files.items()]
    assert page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload]) == 31
    expect(page.locator("#bulk-uploader [data-file-list] li")).to_have_count(31)
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator("[data-preview-skip-note]")).to_have_text(
        "1 file will be skipped (see why above): 1 not mapped.", timeout=15_000)
    expect(uploader.locator('[data-file-list] li[data-filename="T99_MAIN.jpg"] .outcome')
           ).to_contain_text("Will be skipped: Unknown SKU T99")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 30 files")
    page.click("#bulk-uploader [data-start]")

    expect(uploader.locator("[data-file-list] li[data-status]")).to_have_count(30, timeout=90_000)
    expect(uploader).to_have_attribute("data-state", "idle", timeout=30_000)
    expect(uploader.locator("[data-summary]")).to_contain_text(
        "31 files · 27 stored · 0 duplicates · 4 refused (1 not mapped)")
    # a file answered "busy" (429: the server's decode slots taken, as under CI's load) is
    # sent again, so names, not requests, are counted
    assert len(set(sent)) == 30 and "T99_MAIN.jpg" not in sent
    failures = uploader.locator("[data-failure-list] li")
    expect(failures).to_have_count(3)
    for name, reason in BAD.items():
        expect(uploader.locator(f'[data-failure-list] li[data-filename="{name}"] .reason')
               ).to_contain_text(reason)
    expect(uploader.locator("[data-overall]")).to_have_attribute("value", "100")
    # the file the preview held back is named in the report with the server's reason
    expect(uploader.locator("[data-result] a")).to_contain_text("27 imported, 4 refused")
    # the preview's counts stay, said to be the plan the names gave (the truncated file was
    # corrupt); the 300×300 one it counted out from its header size (QA30 M4), the text file
    # from its first bytes (QA 2026-12-07 qa42c L3)
    expect(uploader.locator("[data-preview] .preview-summary")).to_contain_text(
        "Planned before the upload: 28 of 31 files → 10 products · 1 not mapped · "
        "1 refused for size · 1 not an image")
    expect(uploader.locator('[data-file-list] li[data-filename="T07_MAIN.jpg"]')
           ).to_have_attribute("data-sized", "")
    screenshot("bulk-upload")

    stored = {
        (a.product.sku, a.position)
        for a in ImageAsset.live.select_related("product")
    }
    expected = {
        (name[:3], name[4:8]) for name in files if name not in BAD and name != "T99_MAIN.jpg"
    }
    assert len(stored) == 27 and stored == expected
    assert set(ImageAsset.live.filter(product=products["T07"]).values_list(
        "position", flat=True)) == {"PT01", "PT02"}

    # The import page links the products and lists the same reasons.
    uploader.locator("[data-result] a").click()
    expect(page.locator("#import-status")).to_have_text("Done")
    for reason in BAD.values():
        expect(page.locator("table.issues")).to_contain_text(reason)
    expect(page.locator("table.issues")).to_contain_text("Unknown SKU T99")
    page.locator(".product-links a", has_text="T04").click()
    expect(page.locator("#asset-grid figure.asset")).to_have_count(3)
    screenshot("product-after-upload")


def test_it_holds_back_a_file_whose_position_is_taken_and_names_the_holder(
        live_server, page, client):
    """The preview applies the import's position rule before anything is sent: a file for a
    position another image holds is not sent, says which image holds it, and is listed in the
    report; ticking "Replace" lets it through."""
    holder = ImageAssetFactory(product=ProductFactory(sku="T00"), position="MAIN",
                               original_filename="old-main.jpg")
    _log_in(page, live_server, client, manager())
    sent = _record_sent(page)
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("textarea[name=patterns]", "{sku}_{position}.jpg")
    payload = [{"name": name, "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(640, 600, seed=n)).decode()}
               for n, name in enumerate(("T00_MAIN.jpg", "T00_PT01.jpg"))]
    assert page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload]) == 2
    uploader = page.locator("#bulk-uploader")
    taken = uploader.locator('[data-file-list] li[data-filename="T00_MAIN.jpg"] .outcome')
    expect(taken).to_contain_text("Will be skipped: Position MAIN of T00 is already taken by "
                                  "old-main.jpg", timeout=15_000)
    expect(taken).to_contain_text(f"asset #{holder.pk}")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 1 file")

    # "Replace" changes the answer: the preview is asked again and the file goes
    page.check("input[name=replace]")
    expect(taken).to_have_text("waiting", timeout=15_000)
    expect(uploader.locator("[data-start]")).to_have_text("Upload 2 files")
    page.uncheck("input[name=replace]")
    expect(taken).to_contain_text("Will be skipped", timeout=15_000)

    page.click("#bulk-uploader [data-start]")
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(uploader.locator("[data-summary]")).to_contain_text("1 refused (1 position taken)")
    assert sent == ["T00_PT01.jpg"]
    expect(uploader.locator("[data-result] a")).to_contain_text("1 imported, 1 refused")
    uploader.locator("[data-result] a").click()
    expect(page.locator("table.issues")).to_contain_text(
        "Position MAIN of T00 is already taken by old-main.jpg")
    assert list(ImageAsset.live.filter(product__sku="T00").values_list(
        "position", flat=True).order_by("position")) == ["MAIN", "PT01"]


def test_it_skips_a_file_identical_to_the_holder_as_already_stored_not_as_a_clash(
        live_server, page, client, screenshot):
    """A shoot dropped again had every file refused ("position taken"), while the same bytes
    under another name were duplicates. Since 2026-12-05 the page has one "already stored"
    check (upload_known, by sha256): a file held for a taken position whose bytes are on its
    product is an already-stored skip like any other, in one wording (past tense once the
    upload began), counted as such and out of the preview's "position taken" count."""
    import hashlib

    from catalog.models import ImportIssue
    from catalog.services.assets import STORED_SKIPPED_PREFIX

    same, other = product_jpeg(640, 600, seed=1), product_jpeg(640, 600, seed=2)
    assert len(other) != len(same)
    holder = ImageAssetFactory(product=ProductFactory(sku="T00"), position="MAIN",
                               original_filename="T00_MAIN.jpg", bytes=len(same),
                               sha256=hashlib.sha256(same).hexdigest())
    ImageAssetFactory(product=holder.product, position="PT01", original_filename="pt01.jpg")
    _log_in(page, live_server, client, manager())
    sent = _record_sent(page)
    # the sizes of what the page hashes: only files of a stored image's size are read whole
    page.add_init_script("""window.hashedSizes = [];
        const digest = crypto.subtle.digest.bind(crypto.subtle);
        crypto.subtle.digest = (algo, data) => {
          window.hashedSizes.push(data.byteLength); return digest(algo, data); };""")
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("textarea[name=patterns]", "{sku}_{position}.jpg")
    payload = [{"name": name, "type": "image/jpeg", "b64": base64.b64encode(data).decode()}
               for name, data in (("T00_MAIN.jpg", same), ("T00_PT01.jpg", other),
                                  ("T00_PT02.jpg", product_jpeg(640, 600, seed=3)))]
    assert page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload]) == 3
    uploader = page.locator("#bulk-uploader")
    preview = uploader.locator("[data-preview]")

    def row(name):
        return uploader.locator(f'[data-file-list] li[data-filename="{name}"] .outcome')

    skipped = (f"identical to T00 MAIN (asset #{holder.pk}) (not sent)")
    expect(row("T00_MAIN.jpg")).to_have_text(f"Already stored — will be skipped: {skipped}",
                                             timeout=15_000)
    # another file for a taken position is still refused
    expect(row("T00_PT01.jpg")).to_contain_text("Will be skipped: Position PT01 of T00 is "
                                                "already taken")
    expect(uploader.locator("[data-summary]")).to_have_text(
        "3 files · 1 refused (position taken) · 1 already stored — skipped")
    # the preview counts it as already stored, not under "position taken"
    expect(preview.locator("[data-preview-refused-count]")).to_have_text(
        "1 position taken: refused, or skipped as a duplicate if identical")
    expect(preview.locator("[data-preview-refused] [data-preview-unmapped] .name")).to_have_text(
        ["T00_PT01.jpg"])
    expect(preview.locator("[data-preview-already-stored]")).to_contain_text(
        "already stored: skipped as a duplicate")
    expect(preview.locator("[data-preview-already-stored] .name")).to_have_text("T00_MAIN.jpg")
    expect(uploader.locator("[data-preview-stored-note]")).to_contain_text(
        "1 on the product it maps to is skipped (not sent)")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 1 file")
    assert set(page.evaluate("window.hashedSizes")) == {len(same)}
    screenshot("upload-taken-but-stored")

    page.click("#bulk-uploader [data-start]")
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    assert sent == ["T00_PT02.jpg"]
    expect(uploader.locator("[data-result] a")).to_contain_text(
        "1 imported, 1 duplicate skipped, 1 refused")
    # settled: past tense once the batch is done (it said "Will be skipped" after the upload)
    expect(row("T00_MAIN.jpg")).to_have_text(f"Already stored — skipped: {skipped}")
    expect(uploader.locator('[data-held-list] li[data-filename="T00_MAIN.jpg"]')).to_have_text(
        f"T00_MAIN.jpg: Not sent: already stored as T00 MAIN (asset #{holder.pk}).")
    expect(uploader.locator("[data-failures]")).to_have_class(re.compile(r"\brefused\b"))
    # the server checked the hash against the catalog and reported it as the import would
    issue = ImportIssue.objects.get(filename="T00_MAIN.jpg")
    assert (issue.level, issue.kind, issue.asset_pk) == ("warning", "duplicate", holder.pk)
    assert issue.reason.startswith(STORED_SKIPPED_PREFIX + "Duplicate: the same file is "
                                   "already stored for T00 as MAIN")
    assert ImportIssue.objects.get(filename="T00_PT01.jpg").level == "error"


def test_it_lists_dropped_hidden_files_as_ignored_and_sends_none(live_server, page, client):
    """QA 2026-12-05: .DS_Store and ._ files vanished from a drop without a word. Which
    names are ignored is the imports' rule (archives.is_ignored): a .hidden.jpg too, which a
    drop ignored and a ZIP import imported."""
    from catalog.ingest.archives import IGNORED_REASON, is_ignored

    ProductFactory(sku="DOT-1")
    _log_in(page, live_server, client, manager())
    sent = _record_sent(page)
    page.goto(f"{live_server.url}/catalog/upload/")
    files = {".DS_Store": b"\0" * 64, "._DOT-1_PT01.jpg": b"\0\5\26\7" * 16,
             ".DOT-1_PT02.jpg": product_jpeg(640, 600, seed=5),
             "DOT-1_MAIN.jpg": product_jpeg(640, 600, seed=4)}
    payload = [{"name": name, "type": "image/jpeg", "b64": base64.b64encode(data).decode()}
               for name, data in files.items()]
    assert page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload]) == 4
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator("[data-preview]")).to_contain_text("1 of 1 file → 1 product",
                                                              timeout=15_000)
    for name in files:
        line = uploader.locator(f'[data-file-list] li[data-filename="{name}"]')
        if is_ignored(name):
            expect(line.locator(".outcome")).to_have_text(IGNORED_REASON)
            expect(line).to_have_attribute("data-status", "ignored")
        else:
            expect(line).not_to_have_attribute("data-status", "ignored")
    expect(uploader.locator("[data-summary]")).to_have_text(
        "4 files · 3 ignored (hidden or system files)")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 1 file")
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    assert sent == ["DOT-1_MAIN.jpg"]
    expect(uploader.locator("[data-summary]")).to_have_text(
        "4 files · 1 stored · 0 duplicates · 0 refused · 3 ignored (hidden or system files)")
    expect(uploader.locator("[data-result] a")).to_contain_text("1 imported")
    # not refused: the "Not stored" box does not list them
    expect(uploader.locator("[data-failures]")).to_be_hidden()


def test_it_uploads_onto_a_product_page_and_refreshes_the_grid(live_server, page, client,
                                                              screenshot):
    product = ProductFactory(sku="SOLO-1")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/products/{product.pk}/")
    expect(page.locator("#asset-grid")).to_contain_text("No images yet.")
    start = page.get_by_role("button", name="Start cutouts")
    expect(start).to_have_count(0)  # nothing to cut yet
    payload = [{"name": f"any-name-{n}.jpg", "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(700, 600, seed=n)).decode()}
               for n in range(2)]
    page.evaluate(DROP_JS, ["[data-uploader] [data-dropzone]", payload])
    # Dropping starts at once on a product page, and the grid reloads when all are in.
    expect(page.locator("#asset-grid figure.asset")).to_have_count(2, timeout=30_000)
    expect(page.locator("#asset-grid")).to_contain_text("Uploaded")
    # ...with "Start cutouts" at the top of the page, without a reload (QA 2026-12-04: only
    # the grid's disabled "Cut out / re-run selected" showed)
    expect(start).to_be_visible()
    expect(start).to_be_enabled()
    expect(page.locator("#product-start select[name=model]")).to_be_visible()
    positions = set(ImageAsset.live.filter(product=product).values_list("position", flat=True))
    assert positions == {"MAIN", "PT01"}
    # the same file again: a duplicate, not stored and not refused, so the box that names it
    # is not the red one of refusals (QA: a red "Not stored" box over "0 refused")
    page.locator("[data-uploader] [data-clear]").click()
    page.evaluate(DROP_JS, ["[data-uploader] [data-dropzone]", payload[:1]])
    uploader = page.locator("[data-uploader]")
    expect(uploader.locator("[data-summary]")).to_contain_text("1 duplicate · 0 refused",
                                                               timeout=30_000)
    failures = uploader.locator("[data-failures]")
    expect(failures).to_be_visible()
    expect(failures).not_to_have_class(re.compile(r"\brefused\b"))
    expect(failures).not_to_have_css("background-color", "rgb(253, 236, 236)")  # the red
    expect(uploader.locator("[data-failure-list] li.duplicate")).to_contain_text("Duplicate")
    assert ImageAsset.live.filter(product=product).count() == 2

    # The list shows the product with its first image, served by the thumbnail view.
    page.goto(f"{live_server.url}/catalog/products/?q=solo")
    thumb = page.locator('tr[data-sku="SOLO-1"] img.thumb-sm')
    expect(thumb).to_have_attribute("src", re.compile(r"^/catalog/assets/\d+/thumbnail"))
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=thumb.element_handle())
    expect(page.locator('tr[data-sku="SOLO-1"]')).to_contain_text("2 uploaded")
    screenshot("product-list")


@pytest.mark.worker
def test_it_imports_a_zip_through_the_worker_with_a_polled_progress_bar(
    live_server, page, client, screenshot
):
    from tests.catalog.imagegen import zip_bytes
    from tests.workers import running_worker

    ProductFactory(sku="Z1")
    ProductFactory(sku="Z2")
    archive = zip_bytes({
        "Z1_MAIN.jpg": product_jpeg(700, 600, seed=1),
        "Z1_PT01.jpg": product_jpeg(700, 600, seed=2),
        "Z2/front.jpg": product_jpeg(700, 600, seed=3),
        "Z2/notes.jpg": b"not a photo\n" * 50,
        "../evil.jpg": product_jpeg(700, 600, seed=4),
    })
    _log_in(page, live_server, client, manager())
    with running_worker(queues="default"):
        page.goto(f"{live_server.url}/catalog/upload/")
        page.set_input_files("input[name=archive]", files=[
            {"name": "monday.zip", "mimeType": "application/zip", "buffer": archive}])
        page.click("#zip-import button[type=submit]")
        expect(page).to_have_url(re.compile(r"/catalog/imports/\d+/$"))
        expect(page.locator("#import-status")).to_have_text("Done", timeout=90_000)
    expect(page.locator("#import-count")).to_have_text("5 / 5")
    expect(page.locator("#import-progress")).to_contain_text("3 imported")
    issues = page.locator("table.issues")
    expect(issues).to_contain_text("Not an image")
    expect(issues).to_contain_text("path traversal")
    expect(page.locator(".product-links a")).to_have_count(2)
    screenshot("zip-import")
    stored = {(a.product.sku, a.position) for a in ImageAsset.live.select_related("product")}
    assert stored == {("Z1", "MAIN"), ("Z1", "PT01"), ("Z2", "MAIN")}


# Counts file requests in flight. The decrement listener is added in open(), before the
# uploader's own "load" listener, so a next send() started from that listener is not counted
# against a request that has in fact finished.
COUNT_XHR_JS = """
window.__inflight = 0; window.__maxInflight = 0;
const open = XMLHttpRequest.prototype.open;
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.open = function (...args) {
  const done = () => { if (this.__counted) { this.__counted = false; window.__inflight -= 1; } };
  for (const type of ["load", "error", "abort"]) this.addEventListener(type, done);
  return open.apply(this, args);
};
XMLHttpRequest.prototype.send = function (body) {
  if (body instanceof FormData && body.has("file")) {
    this.__counted = true;
    window.__inflight += 1;
    window.__maxInflight = Math.max(window.__maxInflight, window.__inflight);
  }
  return send.call(this, body);
};
"""

MANY_FILES_JS = """
([selector, count]) => {
  const dt = new DataTransfer();
  for (let i = 0; i < count; i++) {
    dt.items.add(new File([`photo ${i}`], `SKU${i}_MAIN.jpg`, { type: "image/jpeg" }));
  }
  const zone = document.querySelector(selector);
  zone.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: dt }));
}
"""


def test_it_replaces_a_taken_position_from_a_product_page_with_the_first_file_only(
        live_server, page, client):
    product = ProductFactory(sku="RESHOOT-1")
    old = ImageAssetFactory(product=product, position="MAIN", original_filename="old.jpg")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/products/{product.pk}/")
    page.select_option("[data-uploader] select[name=position]", "MAIN")
    # ticking "Replace" asks first, naming the image it would delete (replace-confirm.js)
    asked: list[str] = []

    def accept(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.check("[data-uploader] input[name=replace]")
    assert len(asked) == 1 and asked[0].startswith("Replace MAIN (old.jpg"), asked
    payload = [{"name": name, "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(700, 600, seed=seed)).decode()}
               for name, seed in (("b-second.jpg", 2), ("a-first.jpg", 1))]
    page.evaluate(DROP_JS, ["[data-uploader] [data-dropzone]", payload])
    # name order: a-first replaces the old MAIN; b-second, sent without "replace", may not
    # replace the image this same drop just stored
    expect(page.locator('[data-uploader] li.rejected[data-status="rejected"]')).to_contain_text(
        "already taken by a-first.jpg", timeout=30_000)
    live = dict(ImageAsset.live.filter(product=product).values_list("original_filename",
                                                                    "position"))
    assert live == {"a-first.jpg": "MAIN"}
    old.refresh_from_db()
    assert old.deleted_at is not None


def test_it_gives_a_product_pages_drop_its_positions_in_name_order(live_server, page, client):
    product = ProductFactory(sku="SOLO-2")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/products/{product.pk}/")
    # the first name is the biggest file: three at a time it arrived last and took PT02
    sizes = {"IMG_0003.jpg": 500, "IMG_0001.jpg": 2400, "IMG_0002.jpg": 900}
    payload = [{"name": name, "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(side, side, seed=side)).decode()}
               for name, side in sizes.items()]
    page.evaluate(DROP_JS, ["[data-uploader] [data-dropzone]", payload])
    expect(page.locator("#asset-grid figure.asset")).to_have_count(3, timeout=60_000)
    placed = dict(ImageAsset.live.filter(product=product).values_list("original_filename",
                                                                      "position"))
    assert placed == {"IMG_0001.jpg": "MAIN", "IMG_0002.jpg": "PT01", "IMG_0003.jpg": "PT02"}


def test_it_sends_320_dropped_files_one_per_request_three_at_a_time(live_server, page, client):
    """The client side at shoot scale; the server's per-file answers are stubbed, since the
    real ingest is covered above and 320 decodes would only measure the CPU. The preview
    says which products the files would make (none exists), so none is held back as unknown."""
    _log_in(page, live_server, client, manager())
    page.add_init_script(COUNT_XHR_JS)
    bodies = []

    def answer(route):
        body = route.request.post_data_buffer
        bodies.append(body)
        sku = body.split(b'filename="', 1)[1].split(b"_", 1)[0].decode()
        route.fulfill(status=201, content_type="application/json", body=(
            f'{{"status": "stored", "product": "{sku}", "position": "MAIN", "warnings": []}}'))

    page.route(re.compile(r"/catalog/imports/\d+/files$"), answer)
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    page.evaluate(MANY_FILES_JS, ["#bulk-uploader [data-dropzone]", 320])
    page.click("#bulk-uploader [data-start]")
    uploader = page.locator("#bulk-uploader")
    expect(uploader).to_have_attribute("data-state", "idle", timeout=120_000)
    expect(uploader.locator("[data-summary]")).to_contain_text("320 files · 320 stored")
    assert len(bodies) == 320
    assert all(body.count(b'filename="') == 1 for body in bodies)  # never a whole batch
    assert page.evaluate("window.__maxInflight") == 3


def test_it_previews_a_folder_per_sku_zip_before_anything_is_stored(live_server, page, client,
                                                                    screenshot):
    """A ZIP picked for import is read in the browser (its central directory only) and
    previewed: folder names become the SKUs, camera names do not."""
    from tests.catalog.imagegen import zip_bytes

    _log_in(page, live_server, client, manager())
    # big enough for the size rule, which the preview applies to a ZIP's entries too
    archive = zip_bytes({
        "SHOE-77/IMG_0001.jpg": product_jpeg(640, 600, seed=1),
        "SHOE-77/IMG_0002.jpg": product_jpeg(640, 600, seed=2),
        "EVAL-003/003.jpg": product_jpeg(640, 600, seed=3),
        "__MACOSX/SHOE-77/._IMG_0001.jpg": b"x",
    })
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    page.set_input_files("#zip-import input[name=archive]", files=[{
        "name": "shoot.zip", "mimeType": "application/zip", "buffer": archive}])
    preview = page.locator("[data-zip-preview]")
    expect(preview).to_contain_text("3 of 3 files → 2 products (2 new)", timeout=15_000)
    expect(preview.locator("[data-preview-sku]")).to_have_count(2)
    expect(preview.locator('[data-preview-sku="SHOE-77"] li')).to_have_count(2)
    screenshot("upload-zip-preview")
    # Unticking "create products" changes the mapping at once: nothing is known.
    page.uncheck("input[name=create_products]")
    expect(preview).to_contain_text("0 of 3 files → 0 products", timeout=15_000)
    assert not ImageAsset.objects.exists()


@pytest.mark.parametrize("compression", ["stored", "deflated"])
def test_it_previews_a_zip_with_the_manifest_inside_it(live_server, page, client, compression):
    """The browser reads the ZIP's root manifest.csv (stored or deflated) and sends it with
    the names, so the preview maps the files as the import will: to the manifest's SKU."""
    import zipfile

    from tests.catalog.imagegen import zip_bytes

    _log_in(page, live_server, client, manager())
    archive = zip_bytes({
        "a.jpg": product_jpeg(640, 600, seed=1), "b.jpg": product_jpeg(640, 600, seed=2),
        "manifest.csv": b"sku,filename,position\r\nMAN-1,a.jpg,MAIN\r\nMAN-1,b.jpg,PT01\r\n",
        "notes.txt": b"shot on Monday",
    }, compression=zipfile.ZIP_DEFLATED if compression == "deflated" else zipfile.ZIP_STORED)
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    page.set_input_files("#zip-import input[name=archive]", files=[{
        "name": "shoot.zip", "mimeType": "application/zip", "buffer": archive}])
    preview = page.locator("[data-zip-preview]")
    expect(preview).to_contain_text("2 of 3 files → 1 product", timeout=15_000)
    expect(preview.locator('[data-preview-sku="MAN-1"] li')).to_have_count(2)
    expect(preview.locator("[data-preview-manifest-unread]")).to_have_count(0)
    assert not ImageAsset.objects.exists()


def test_it_sends_in_name_order_skips_non_images_and_reports_what_never_arrived(
        live_server, page, client, screenshot):
    """The MAIN image follows the names, not the arrival order (shot1 is the
    biggest file, so usually the last in); readme.txt and a GIF are skipped in the ZIP
    import's words, never sent; a file the network lost is listed in the report."""
    _log_in(page, live_server, client, manager())
    files = {
        "RACE-1_shot3.jpg": product_jpeg(700, 600, seed=3),
        "RACE-1_shot1.jpg": product_jpeg(3000, 2400, seed=1),
        "RACE-1_shot4.jpg": product_jpeg(700, 600, seed=4),
        "RACE-1_shot2.jpg": product_jpeg(700, 600, seed=2),
        "readme.txt": b"shoot notes\n",
        "anim.gif": b"GIF89a" + bytes(64),
    }
    sent = []

    def maybe_lose(route):
        body = route.request.post_data_buffer or b""
        name = body.split(b'filename="', 1)[1].split(b'"', 1)[0].decode()
        sent.append(name)
        if name == "RACE-1_shot4.jpg":
            route.abort()  # a network error, every retry
        else:
            route.continue_()

    page.route(re.compile(r"/catalog/imports/\d+/files$"), maybe_lose)
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("input[name=regex]", "(?P<sku>RACE-1)_shot")
    page.check("input[name=create_products]")
    payload = [{"name": name, "type": "application/octet-stream",
                "b64": base64.b64encode(data).decode()} for name, data in files.items()]
    page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload])
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator('[data-file-list] li[data-filename="readme.txt"] .outcome')
           ).to_have_text("Skipped: not an image file name (.txt).")
    expect(uploader.locator('[data-file-list] li[data-filename="anim.gif"] .outcome')
           ).to_have_text("Skipped: GIF images are not supported (.gif); convert it to JPEG, "
                          "PNG, WebP, TIFF, HEIC/HEIF or AVIF.")
    page.click("#bulk-uploader [data-start]")
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(uploader.locator("[data-summary]")).to_contain_text(
        "6 files · 3 stored · 0 duplicates · 1 refused · 2 skipped")
    assert "readme.txt" not in sent and "anim.gif" not in sent
    # three lanes start shot1-3 in name order (which of them the route sees first is a race);
    # shot4 only once one of them is in
    order = list(dict.fromkeys(sent))
    assert set(order[:3]) == {f"RACE-1_shot{n}.jpg" for n in (1, 2, 3)}
    assert order[3:] == ["RACE-1_shot4.jpg"]
    expect(uploader.locator('[data-file-list] li[data-filename="RACE-1_shot1.jpg"] .outcome')
           ).to_contain_text("stored → RACE-1 MAIN")
    expect(uploader.locator("[data-result] a")).to_contain_text(
        "The upload stopped after 3 of 4 files.")
    screenshot("upload-name-order")
    stored = dict(ImageAsset.live.values_list("original_filename", "position"))
    assert stored == {"RACE-1_shot1.jpg": "MAIN", "RACE-1_shot2.jpg": "PT01",
                      "RACE-1_shot3.jpg": "PT02"}
    uploader.locator("[data-result] a").click()
    issues = page.locator("table.issues")
    expect(issues).to_contain_text("RACE-1_shot4.jpg")
    expect(issues).to_contain_text("could not send this file")
    expect(issues).to_contain_text("Skipped: not an image file name (.txt).")


def test_it_disables_the_upload_while_the_manifest_has_errors(live_server, page, client,
                                                              tmp_path, screenshot):
    """With a manifest the server refuses (a SKU's position given
    twice) the preview says why and "Upload 3 files" cannot be pressed, rather than answering
    with a silent 400; a good manifest enables it again."""
    for sku in ("M1", "M2", "M3"):
        ProductFactory(sku=sku)
    _log_in(page, live_server, client, manager())
    sent = _record_sent(page)
    page.goto(f"{live_server.url}/catalog/upload/")
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,filename,position\nM1,a.jpg,MAIN\nM1,b.jpg,MAIN\nM3,c.jpg,MAIN\n")
    page.set_input_files("input[data-manifest]", str(bad))
    payload = [{"name": name, "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(640, 600, seed=n)).decode()}
               for n, name in enumerate(("a.jpg", "b.jpg", "c.jpg"))]
    assert page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload]) == 3
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator("[data-preview] .error")).to_contain_text(
        "line 3: SKU M1 position MAIN is already given on line 2", timeout=15_000)
    start = uploader.locator("[data-start]")
    expect(start).to_have_text("Upload 3 files")
    expect(start).to_be_disabled()
    expect(uploader.locator("[data-summary]")).to_contain_text(
        "fix the error shown below to upload")
    screenshot("upload-manifest-errors")
    good = tmp_path / "good.csv"
    good.write_text("sku,filename,position\nM1,a.jpg,MAIN\nM2,b.jpg,MAIN\nM3,c.jpg,MAIN\n")
    page.set_input_files("input[data-manifest]", str(good))
    expect(start).to_be_enabled(timeout=15_000)
    assert sent == []
    start.click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(uploader.locator("[data-summary]")).to_contain_text("3 stored")


def test_it_lists_held_files_as_not_stored_and_refreshes_recent_imports(live_server, page,
                                                                        client):
    """The files the preview held back (not mapped, position
    taken) are in the "Not stored" box the summary counts them for, and "Recent imports"
    shows the session just finished without a reload."""
    from catalog.models import ImportJob

    ImageAssetFactory(product=ProductFactory(sku="T00"), position="MAIN",
                      original_filename="old-main.jpg")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    recent = page.locator("[data-recent-imports]")
    expect(recent).to_be_hidden()  # no import yet
    page.fill("textarea[name=patterns]", "{sku}_{position}.jpg")
    payload = [{"name": name, "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(640, 600, seed=n)).decode()}
               for n, name in enumerate(("T00_MAIN.jpg", "T00_PT01.jpg", "T99_MAIN.jpg"))]
    assert page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload]) == 3
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 1 file", timeout=15_000)
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(uploader.locator("[data-summary]")).to_contain_text(
        "2 refused (1 not mapped, 1 position taken)")
    held = uploader.locator("[data-held-list] li")
    expect(held).to_have_count(2)
    expect(uploader.locator('[data-held-list] li[data-filename="T99_MAIN.jpg"] .reason')
           ).to_contain_text("Not sent: Unknown SKU T99")
    expect(uploader.locator('[data-held-list] li[data-filename="T00_MAIN.jpg"] .reason')
           ).to_contain_text("Position MAIN of T00 is already taken by old-main.jpg")
    expect(uploader.locator("[data-failures]")).to_be_visible()
    job = ImportJob.objects.get()
    expect(recent).to_be_visible(timeout=15_000)
    expect(recent.locator(f'a[href$="/imports/{job.pk}/"]')).to_have_text(f"#{job.pk}")
    expect(recent).to_contain_text("Done")


def test_it_refuses_a_damaged_zip_in_the_preview_and_disables_import(live_server, page,
                                                                    client):
    ProductFactory(sku="ZE001")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    form = page.locator("form[data-zip-form]")
    preview = page.locator("[data-zip-preview]")
    # big enough for the size rule: a ZIP whose every entry is refused holds Import too (ui38)
    whole = zip_bytes({"ZE001_MAIN.jpg": jpeg_bytes(size=(640, 600))})
    for name, data in (("cut.zip", _truncated_after_nested_zip()),
                       ("half.zip", whole[: len(whole) // 2])):
        form.locator("input[name=archive]").set_input_files(
            files=[{"name": name, "mimeType": "application/zip", "buffer": data}])
        expect(preview.locator("[data-zip-damaged-message]")).to_have_text(
            f"{name}: {ZIP_DAMAGED_REASON}", timeout=20_000)
        expect(form.locator("button[type=submit]")).to_be_disabled()
    form.locator("input[name=archive]").set_input_files(
        files=[{"name": "good.zip", "mimeType": "application/zip", "buffer": whole}])
    expect(preview).to_contain_text("ZE001_MAIN.jpg", timeout=20_000)
    expect(preview.locator("[data-zip-damaged-message]")).to_have_count(0)
    expect(form.locator("button[type=submit]")).to_be_enabled()


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


def test_it_checks_the_one_product_sku_in_the_preview(live_server, page, client):
    product = ProductFactory(sku="QA001", title="Blue vase")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("input[name=product]", "qa009")
    payload = [{"name": name, "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(640, 600, seed=n)).decode()}
               for n, name in enumerate(["a.jpg", "b.jpg"])]
    assert page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload]) == 2
    uploader = page.locator("#bulk-uploader")
    start = uploader.locator("[data-start]")
    # before anything is sent: the upload's own refusal, and no Upload
    expect(uploader.locator("[data-preview] [data-preview-product-error]")).to_have_text(
        "No product with SKU qa009.", timeout=15_000)
    expect(start).to_be_disabled()
    expect(uploader.locator("[data-summary]")).to_contain_text("fix the error shown below")
    # the SKU in another case is the product, as everywhere else
    page.fill("input[name=product]", "qa001")
    expect(uploader.locator("[data-preview] [data-preview-product]")).to_contain_text(
        "Every file → QA001", timeout=15_000)
    expect(start).to_be_enabled()
    expect(start).to_have_text("Upload 2 files")
    start.click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    # the import's words, plurals right: "refused", "duplicates"
    expect(uploader.locator("[data-summary]")).to_have_text(
        "2 files · 2 stored · 0 duplicates · 0 refused")
    assert ImageAsset.live.filter(product=product).count() == 2


def test_it_counts_one_duplicate_and_one_refusal_in_the_singular(live_server, page, client):
    product = ProductFactory(sku="QA002")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("input[name=product]", "QA002")
    same = product_jpeg(640, 600, seed=7)
    files = {"a.jpg": same, "b.jpg": same, "c.jpg": b"not a photo" * 50}
    payload = [{"name": name, "type": "image/jpeg", "b64": base64.b64encode(data).decode()}
               for name, data in files.items()]
    page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload])
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator("[data-preview] [data-preview-product]")).to_be_visible(
        timeout=15_000)
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(uploader.locator("[data-summary]")).to_have_text(
        "3 files · 1 stored · 1 duplicate · 1 refused")
    assert ImageAsset.live.filter(product=product).count() == 1


def test_it_says_how_many_skipped_files_past_200_the_finish_did_not_name(live_server, page,
                                                                        client):
    _log_in(page, live_server, client, manager())
    files = {"LOTS-1_MAIN.jpg": product_jpeg(640, 600, seed=1)}
    files.update({f"note{i:03d}.txt": b"notes\n" for i in range(203)})
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    payload = [{"name": name, "type": "application/octet-stream",
                "b64": base64.b64encode(data).decode()} for name, data in files.items()]
    page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload])
    uploader = page.locator("#bulk-uploader")
    page.click("#bulk-uploader [data-start]")
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    # was silent about the 3 names past the 200 it sent
    expect(uploader.locator("[data-result] a")).to_contain_text("… and 3 more.")
    uploader.locator("[data-result] a").click()
    expect(page.locator("#import-message")).to_contain_text("… and 3 more.")


def _drop_named_shoot(page, count: int) -> None:
    ProductFactory(sku="LV01")
    payload = [{"name": f"LV01-{n}.jpg", "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(640, 600, seed=n)).decode()}
               for n in range(1, count + 1)]
    assert page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload]) == count
    expect(page.locator("#bulk-uploader [data-start]")).to_have_text(
        f"Upload {count} files", timeout=15_000)


def test_it_asks_before_leaving_while_files_are_still_to_be_sent(live_server, page, client):
    """QA 2026-12-04: Products clicked mid-batch left the page without a word, and the
    files not yet sent never arrived. Asked while sending; not once every file is sent."""
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    _drop_named_shoot(page, 5)
    held = []
    release = []

    def hold(route):
        if release:
            return route.continue_()
        held.append(route)

    # the files' requests wait here: the batch is mid-way for as long as the test needs
    page.route(re.compile(r"/catalog/imports/\d+/files$"), hold)
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # "Stay on page"

    page.on("dialog", stay)
    uploader = page.locator("#bulk-uploader")
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "running")
    for _ in range(100):  # the three lanes' first files are on their way
        if len(held) == 3:
            break
        page.wait_for_timeout(100)
    assert len(held) == 3
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert not page.is_closed()
    # the manager stayed: the batch carries on and ends
    release.append(True)
    for route in held:
        route.continue_()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    expect(uploader.locator("[data-summary]")).to_contain_text("5 stored")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    expect(page).to_have_url(re.compile(r"/catalog/products/$"))
    assert dialogs == ["beforeunload"]  # none after the batch was sent


def test_it_does_not_ask_before_leaving_after_the_session_was_refused(live_server, page,
                                                                      client):
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    _drop_named_shoot(page, 2)

    def refuse(route):
        if route.request.method != "POST":
            return route.continue_()
        return route.fulfill(status=400, content_type="application/json",
                             body='{"error": "The manifest has errors."}')

    page.route(re.compile(r"/catalog/upload/$"), refuse)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    uploader = page.locator("#bulk-uploader")
    uploader.locator("[data-start]").click()
    expect(uploader.locator("[data-result]")).to_have_text("The manifest has errors.")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    expect(page).to_have_url(re.compile(r"/catalog/products/$"))
    assert dialogs == []


def test_it_shows_a_zip_import_at_its_own_address(live_server, page, client):
    """QA 2026-12-04: after Import ZIP the progress must be the import's own page, so a
    reload (or a link copied from the address bar) shows it again."""
    ProductFactory(sku="ZA1")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.set_input_files("input[name=archive]", files=[{
        "name": "small.zip", "mimeType": "application/zip",
        "buffer": zip_bytes({"ZA1_MAIN.jpg": product_jpeg(700, 600, seed=1)})}])
    page.click("#zip-import button[type=submit]")
    expect(page).to_have_url(re.compile(r"/catalog/imports/\d+/$"))
    job = ImportJob.objects.get()
    assert page.url == f"{live_server.url}/catalog/imports/{job.pk}/"
    expect(page.locator("h1")).to_contain_text(f"Import #{job.pk}")
    page.reload()
    expect(page.locator("h1")).to_contain_text(f"Import #{job.pk}")
    expect(page.locator("#import-progress")).to_be_visible()

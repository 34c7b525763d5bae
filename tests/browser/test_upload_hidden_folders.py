"""Acceptance: a dropped or picked folder whose hidden or system subfolders hold thumbnails (a
NAS's .@__thumb/ and @eaDir/, a .thumbs/) lists those files as ignored and sends none; the
rule is the imports' own (archives.is_hidden_path), so the report and the import agree."""

import base64
import re

import pytest
from playwright.sync_api import expect

from catalog.ingest.archives import IGNORED_REASON, is_hidden_path
from catalog.models import ImageAsset
from tests.browser.test_upload import _log_in
from tests.factories import ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A folder dropped from the desktop, as the browser hands it over: a directory entry whose
# reader gives its children in batches (webkitGetAsEntry, createReader, readEntries), files
# whose fullPath starts at the dropped folder. Chromium makes no such entries for a script,
# so they are plain objects on a drop event that carries them.
FOLDER_DROP_JS = """
([selector, files]) => {
  const root = { children: new Map() };
  const folder = (parent, name, fullPath) => {
    if (!parent.children.has(name)) {
      const node = { isFile: false, isDirectory: true, name, fullPath, children: new Map() };
      node.createReader = () => {
        let given = false;
        return { readEntries: (ok) => {
          ok(given ? [] : [...node.children.values()]);
          given = true;
        } };
      };
      parent.children.set(name, node);
    }
    return parent.children.get(name);
  };
  for (const f of files) {
    const parts = f.path.split("/");
    let node = root;
    parts.slice(0, -1).forEach((part, i) => {
      node = folder(node, part, "/" + parts.slice(0, i + 1).join("/"));
    });
    const name = parts[parts.length - 1];
    const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
    const file = new File([bytes], name, { type: "image/jpeg" });
    node.children.set(name, { isFile: true, isDirectory: false, name, fullPath: "/" + f.path,
                              file: (ok) => ok(file) });
  }
  const items = [...root.children.values()].map((entry) => (
    { kind: "file", webkitGetAsEntry: () => entry, getAsFile: () => null }));
  const zone = document.querySelector(selector);
  for (const type of ["dragenter", "dragover", "drop"]) {
    const event = new Event(type, { bubbles: true, cancelable: true });
    Object.defineProperty(event, "dataTransfer", { value: { items, files: [] } });
    zone.dispatchEvent(event);
  }
}
"""


def _shoot(sku: str) -> dict[str, bytes]:
    """A NAS share's shoot folder: one photo, and the thumbnails kept beside it."""
    return {
        f"shoot/{sku}_MAIN.jpg": product_jpeg(640, 600, seed=4),
        f"shoot/.thumbs/{sku}_PT01.jpg": product_jpeg(640, 600, seed=5),
        f"shoot/.@__thumb/{sku}_PT02.jpg": product_jpeg(640, 600, seed=6),
        f"shoot/@eaDir/{sku}_MAIN.jpg/SYNOFILE_THUMB_M.jpg": product_jpeg(640, 600, seed=7),
    }


def _record_sent(page, url: str) -> list[str]:
    """The paths (else names) of the files the page sends to ``url``, as the server gets them."""
    sent: list[str] = []

    def record(route):
        body = route.request.post_data_buffer or b""
        if b'name="path"' in body:
            sent.append(body.split(b'name="path"', 1)[1].split(b"\r\n\r\n", 1)[1]
                        .split(b"\r\n", 1)[0].decode())
        elif b'filename="' in body:
            sent.append(body.split(b'filename="', 1)[1].split(b'"', 1)[0].decode())
        route.continue_()

    page.route(re.compile(url), record)
    return sent


def _expect_listed(uploader, files: dict[str, bytes]) -> None:
    for path in files:
        line = uploader.locator(f'[data-file-list] li[data-filename="{path}"]')
        if is_hidden_path(path):
            expect(line).to_have_attribute("data-status", "ignored")
            expect(line.locator(".outcome")).to_have_text(IGNORED_REASON)
        else:
            expect(line).to_be_visible()
            expect(line).not_to_have_attribute("data-status", "ignored")


@pytest.mark.parametrize("how", ["drop", "pick"])
def test_it_lists_a_folders_hidden_subfolders_as_ignored_and_sends_none(
        live_server, page, client, tmp_path, screenshot, how):
    """Before 2026-12-05 only a file's own name counted: the thumbnails were sent, and the
    session stored .thumbs/ and .@__thumb/ ones as PT01 and PT02."""
    ProductFactory(sku="NAS-5")
    files = _shoot("NAS-5")
    _log_in(page, live_server, client, manager())
    sent = _record_sent(page, r"/catalog/imports/\d+/files$")
    page.goto(f"{live_server.url}/catalog/upload/")
    uploader = page.locator("#bulk-uploader")
    if how == "drop":
        payload = [{"path": path, "b64": base64.b64encode(data).decode()}
                   for path, data in files.items()]
        page.evaluate(FOLDER_DROP_JS, ["#bulk-uploader [data-dropzone]", payload])
    else:
        for path, data in files.items():
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_bytes(data)
        uploader.locator("input[data-pick][webkitdirectory]").set_input_files(
            tmp_path / "shoot")
    expect(uploader.locator("[data-preview]")).to_contain_text("1 of 1 file → 1 product",
                                                              timeout=15_000)
    _expect_listed(uploader, files)
    expect(uploader.locator("[data-summary]")).to_have_text(
        "4 files · 3 ignored (hidden or system files)")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 1 file")
    screenshot("listed")
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    assert sent == ["shoot/NAS-5_MAIN.jpg"]
    expect(uploader.locator("[data-result] a")).to_contain_text("1 imported")
    assert list(ImageAsset.live.values_list("original_filename", "position")) == [
        ("NAS-5_MAIN.jpg", "MAIN")]


def test_it_sends_a_product_page_none_of_a_dropped_folders_thumbnails(live_server, page,
                                                                       client):
    product = ProductFactory(sku="NAS-6")
    files = _shoot("NAS-6")
    _log_in(page, live_server, client, manager())
    sent = _record_sent(page, rf"/catalog/products/{product.pk}/upload$")
    page.goto(f"{live_server.url}/catalog/products/{product.pk}/")
    payload = [{"path": path, "b64": base64.b64encode(data).decode()}
               for path, data in files.items()]
    page.evaluate(FOLDER_DROP_JS, ["[data-uploader] [data-dropzone]", payload])
    # a product page starts at once and reloads its grid when all are in
    expect(page.locator("#asset-grid figure.asset")).to_have_count(1, timeout=30_000)
    _expect_listed(page.locator("[data-uploader]"), files)
    assert sent == ["shoot/NAS-6_MAIN.jpg"]
    assert list(ImageAsset.live.values_list("original_filename", flat=True)) == [
        "NAS-6_MAIN.jpg"]

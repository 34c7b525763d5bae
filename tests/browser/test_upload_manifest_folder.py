"""QA 2026-12-06: a folder's manifest.csv is read by one rule whether the folder is picked or
zipped (F2), and the preview marks an unlisted identical copy, not the file a manifest row
places, as the duplicate the import skips (F4)."""

import zipfile

import pytest
from playwright.sync_api import expect

from catalog.models import ImageAsset
from tests.browser.test_upload import _log_in
from tests.catalog.imagegen import zip_bytes
from tests.catalog.manifest_scenes import COPIES, copies, shoot
from tests.factories import manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

def _open(page, live_server, client):
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")


def _zip_preview(page, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    page.set_input_files("#zip-import input[name=archive]", files=[{
        "name": "shoot.zip", "mimeType": "application/zip",
        "buffer": zip_bytes(members, compression=compression)}])
    return page.locator("[data-zip-preview]")


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_it_previews_a_zip_of_a_folder_with_the_folders_manifest(live_server, page, client,
                                                                 compression):
    _open(page, live_server, client)
    preview = _zip_preview(page, shoot(640, 600), compression)
    expect(preview).to_contain_text("2 of 2 files → 1 product", timeout=15_000)
    expect(preview.locator('[data-preview-sku="ZIP34-1"] li')).to_have_count(2)
    expect(preview.locator("[data-preview-unmapped]")).to_have_count(0)
    expect(preview.locator("[data-preview-manifest-unread]")).to_have_count(0)


def test_it_takes_a_picked_folders_manifest_by_the_zips_rule(live_server, page, client,
                                                            tmp_path):
    files = {**shoot(640, 600), "shoot/notes/other.csv": b"sku\r\nNOPE\r\n"}
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    _open(page, live_server, client)
    uploader = page.locator("#bulk-uploader")
    uploader.locator("input[data-pick][webkitdirectory]").set_input_files(tmp_path / "shoot")
    preview = uploader.locator("[data-preview]")
    expect(preview).to_contain_text("2 of 3 files → 1 product", timeout=15_000)
    expect(preview.locator('[data-preview-sku="ZIP34-1"] li')).to_have_count(2)
    assert page.eval_on_selector("input[data-manifest]", "i => i.files[0].name") == \
        "manifest.csv"
    # another CSV deeper in the folder is a file like any other, as in a ZIP of it
    expect(uploader.locator('[data-file-list] li[data-filename="shoot/notes/other.csv"]')
           ).to_have_attribute("data-status", "skipped")


@pytest.mark.parametrize("how", ["pick", "zip"])
def test_it_marks_the_unlisted_copy_not_the_rows_file_as_the_duplicate(
        live_server, page, client, tmp_path, how):
    _open(page, live_server, client)
    files = copies(640, 600)
    if how == "zip":
        preview = _zip_preview(page, {**files, "manifest.csv": COPIES})
    else:
        manifest = tmp_path / "manifest.csv"
        manifest.write_bytes(COPIES)
        page.set_input_files("input[data-manifest]", str(manifest))
        for path, data in files.items():
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_bytes(data)
        uploader = page.locator("#bulk-uploader")
        uploader.locator("input[data-pick][webkitdirectory]").set_input_files(tmp_path / "MP35")
        preview = uploader.locator("[data-preview]")
    lines = preview.locator('[data-preview-sku="MP35"] .preview-files li')
    copy = lines.filter(has_text="a copy.jpg")
    # before: "a copy.jpg → PT01 (next free)", and "a.jpg PT03 … will be skipped"
    expect(copy).to_contain_text("duplicate of MP35/a.jpg in this upload — will be skipped",
                                 timeout=15_000)
    expect(copy.locator("[data-preview-auto-position]")).to_have_count(0)
    row = lines.filter(has_text="MP35/a.jpg", has_not_text="a copy.jpg")
    expect(row.locator("[data-preview-position]")).to_have_attribute(
        "data-preview-position", "PT03")
    expect(row).not_to_contain_text("will be skipped")
    if how == "pick":
        uploader.locator("[data-start]").click()
        expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
        assert sorted(ImageAsset.live.values_list("original_filename", "position")) == [
            ("a.jpg", "PT03"), ("b.jpg", "MAIN")]


def test_it_takes_the_next_folders_manifest_after_clear(live_server, page, client, tmp_path):
    # QA 2026-12-06 qa34c #3: Clear left the first folder's manifest chosen, and the next
    # folder's manifest.csv was passed over for it
    for folder, sku in (("shootA", b"QAFA"), ("shootB", b"QAFB")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "manifest.csv").write_bytes(
            b"sku,title,filename,position\r\n" + sku + b",T,a.jpg,PT07\r\n")
        (tmp_path / folder / "a.jpg").write_bytes(product_jpeg(640, 600, seed=7))
    _open(page, live_server, client)
    uploader = page.locator("#bulk-uploader")
    chosen = "i => i.files.length ? i.files[0].text() : ''"
    uploader.locator("input[data-pick][webkitdirectory]").set_input_files(tmp_path / "shootA")
    expect(uploader.locator("[data-preview]")).to_contain_text("QAFA", timeout=15_000)
    uploader.locator("[data-clear]").click()
    assert page.eval_on_selector("input[data-manifest]", chosen) == ""
    uploader.locator("input[data-pick][webkitdirectory]").set_input_files(tmp_path / "shootB")
    expect(uploader.locator("[data-preview]")).to_contain_text("QAFB", timeout=15_000)
    assert "QAFB" in page.eval_on_selector("input[data-manifest]", chosen)
    expect(uploader.locator("[data-preview]")).not_to_contain_text("QAFA")

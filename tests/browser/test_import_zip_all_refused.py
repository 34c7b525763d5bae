"""Import ZIP is held, saying why beside it, while the preview says the import refuses every
entry it takes (0 bytes, too small, too large): the policy Upload is held by for picked or
dropped files (upload.js ``refusesEvery``), so a ZIP no longer made an import of "0
imported, 2 refused"."""

import pytest
from playwright.sync_api import expect

from catalog.models import ImportJob
from tests.browser.test_upload import _log_in
from tests.browser.test_upload_preview_sizes import _jpeg_declaring
from tests.catalog.imagegen import png_declaring, zip_bytes
from tests.factories import ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Nothing to import: the import would refuse every file."


def _zip(members: dict[str, bytes]) -> dict:
    return {"name": "shoot.zip", "mimeType": "application/zip", "buffer": zip_bytes(members)}


def test_it_holds_import_zip_when_the_preview_says_the_import_refuses_every_entry(
        live_server, page, client):
    ProductFactory(sku="ZR-BIG")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    form = page.locator("form[data-zip-form]")
    button, status = form.locator("button[type=submit]"), form.locator("[data-zip-status]")
    preview = page.locator("[data-zip-preview]")
    archive = form.locator("input[name=archive]")
    too_big = {"ZR-BIG_MAIN.jpg": _jpeg_declaring(10_980, 8_200),
               "ZR-BIG_PT01.png": png_declaring(30_000, 30_000)}
    archive.set_input_files(files=[_zip(too_big)])
    expect(preview.locator("[data-preview-sized-count]")).to_have_text(
        "2 refused for size", timeout=20_000)
    expect(button).to_be_disabled()
    expect(button).to_have_attribute("title", TITLE)
    expect(status).to_have_text(
        "Nothing to import: the import would refuse all 2 files (the preview below says why).")
    # a submit the disabled button cannot make (Enter in the form) sends nothing either
    form.evaluate("f => f.requestSubmit()")
    page.wait_for_timeout(500)
    assert not ImportJob.objects.exists()
    # one entry the import may store beside them: imported with them, so the report says why
    archive.set_input_files(files=[_zip({**too_big,
                                         "ZR-BIG_PT02.jpg": product_jpeg(640, 600, seed=4)})])
    expect(preview).to_contain_text("1 of 3 files → 1 product", timeout=20_000)
    expect(button).to_be_enabled()
    expect(button).not_to_have_attribute("title", TITLE)
    expect(status).to_have_text("")
    # an empty entry is refused whatever its name, as on the plain upload
    archive.set_input_files(files=[_zip({"ZR-BIG_PT03.jpg": b""})])
    expect(preview.locator("[data-preview-empty-count]")).to_have_text(
        "1 empty (0 bytes)", timeout=20_000)
    expect(button).to_be_disabled()
    expect(status).to_have_text(
        "Nothing to import: the import would refuse the file (the preview below says why).")


def test_it_does_not_hold_a_zip_whose_manifest_creates_products(live_server, page, client):
    # the manifest step creates its new SKUs whatever the images: holding the ZIP would lose them
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.check("input[name=create_products]")
    form = page.locator("form[data-zip-form]")
    button, preview = form.locator("button[type=submit]"), page.locator("[data-zip-preview]")
    form.locator("input[name=archive]").set_input_files(files=[_zip({
        "ZR-NEW_MAIN.jpg": _jpeg_declaring(10_980, 8_200),
        "manifest.csv": b"sku,filename,position\r\nZR-NEW,ZR-NEW_MAIN.jpg,MAIN\r\n"})])
    expect(preview.locator("[data-preview-sized-count]")).to_have_text(
        "1 refused for size", timeout=20_000)
    expect(preview.locator("[data-import-preview-result]")).to_have_attribute(
        "data-preview-manifest-creates", "1")
    expect(button).to_be_enabled()
    expect(button).not_to_have_attribute("title", TITLE)

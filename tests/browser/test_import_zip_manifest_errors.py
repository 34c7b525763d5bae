"""The ZIP import's button is held while the preview shows a manifest the import would fail
on, as for a damaged ZIP (QA 2026-12-04: it stayed enabled and made a "Failed" import)."""

import pytest
from playwright.sync_api import expect

from catalog.models import ImportJob
from tests.browser.test_upload import _log_in
from tests.catalog.imagegen import zip_bytes
from tests.factories import ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GOOD = b"sku,filename,position\r\nZM001,ZM001_MAIN.jpg,MAIN\r\n"


def _zip(manifest: bytes) -> dict:
    # big enough for the size rule, which the ZIP's preview applies to its entries too
    data = zip_bytes({"ZM001_MAIN.jpg": product_jpeg(640, 600, seed=1),
                      "manifest.csv": manifest})
    return {"name": "shoot.zip", "mimeType": "application/zip", "buffer": data}


def _zip_form(page, live_server, client):
    """A manager on the upload page: its ZIP form, the form's submit button and preview."""
    ProductFactory(sku="ZM001")
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    form = page.locator("form[data-zip-form]")
    return form, form.locator("button[type=submit]"), page.locator("[data-zip-preview]")


@pytest.mark.parametrize(("manifest", "error"), [
    (b"sku,colour,filename\r\nZM001,red,ZM001_MAIN.jpg\r\n",
     "Wrong columns in the manifest header: unknown 'colour'"),
    (b"sku;filename\r\nZM001;ZM001_MAIN.jpg\r\n",
     "The manifest uses semicolons; separate columns with commas."),
    (b"sku,title,filename\r\nZM001,Caf\xe9,ZM001_MAIN.jpg\r\n",
     "The manifest is not valid UTF-8 (byte 0xE9 on line 2)."),
])
def test_it_disables_import_zip_while_the_preview_shows_a_manifest_error(
        live_server, page, client, manifest, error):
    form, button, preview = _zip_form(page, live_server, client)
    form.locator("input[name=archive]").set_input_files(files=[_zip(manifest)])
    expect(preview.locator("[data-import-preview-result] > .error")).to_contain_text(
        error, timeout=20_000)
    expect(button).to_be_disabled()
    expect(form.locator("[data-zip-status]")).to_have_text(
        "Fix the error shown below to import this ZIP.")
    # a submit the disabled button cannot make (Enter in the form) sends nothing either
    form.evaluate("f => f.requestSubmit()")
    page.wait_for_timeout(500)
    assert not ImportJob.objects.exists()
    # another ZIP, with a good manifest, can be imported
    form.locator("input[name=archive]").set_input_files(files=[_zip(GOOD)])
    expect(preview).to_contain_text("1 of 1 file → 1 product", timeout=20_000)
    expect(button).to_be_enabled()
    expect(form.locator("[data-zip-status]")).to_have_text("")


def test_it_disables_import_zip_while_the_pages_manifest_has_errors(live_server, page, client,
                                                                     tmp_path):
    """The manifest chosen on the page wins over the ZIP's, in the preview as in the import:
    its error holds the button, and choosing a good one releases it."""
    form, button, preview = _zip_form(page, live_server, client)
    form.locator("input[name=archive]").set_input_files(files=[_zip(GOOD)])
    expect(preview).to_contain_text("1 of 1 file → 1 product", timeout=20_000)
    expect(button).to_be_enabled()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"sku,colour\r\nZM001,red\r\n")
    page.set_input_files("input[data-manifest]", str(bad))
    expect(preview.locator("[data-import-preview-result] > .error")).to_contain_text(
        "unknown 'colour'", timeout=20_000)
    expect(button).to_be_disabled()
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD)
    page.set_input_files("input[data-manifest]", str(good))
    expect(preview).to_contain_text("1 of 1 file → 1 product", timeout=20_000)
    expect(button).to_be_enabled()


def test_it_disables_import_zip_for_a_zip_bomb_naming_the_entry(live_server, page, client):
    """QA 2026-12-05 L2: c.zip (a bomb entry beside a good file) previewed "2 of 2 files"
    with Import ZIP enabled; the import then failed whole, the good file lost too."""
    import zipfile

    form, button, preview = _zip_form(page, live_server, client)
    data = zip_bytes({"BOMB-1/big.jpg": bytes(80 * 1024 * 1024),
                      "BOMB-1/ok.jpg": product_jpeg(640, 600, seed=1)},
                     compression=zipfile.ZIP_DEFLATED)
    form.locator("input[name=archive]").set_input_files(files=[{
        "name": "c.zip", "mimeType": "application/zip", "buffer": data}])
    error = preview.locator("[data-import-preview-result] > .error")
    expect(error).to_contain_text("Zip bomb refused", timeout=20_000)
    expect(error).to_contain_text("Most compressed: BOMB-1/big.jpg (83,886,080 bytes, ")
    expect(button).to_be_disabled()
    assert not ImportJob.objects.exists()


def test_it_says_how_many_errors_hold_import_zip(live_server, page, client):
    """QA40 L4: "Fix the error shown below" stood over a manifest with two bad lines."""
    form, button, preview = _zip_form(page, live_server, client)
    two = (b"sku,title,filename\r\nZM001,Bag,ZM001_MAIN.jpg\r\nZM001,Other bag,ZM001_PT01.jpg"
           b"\r\n,,ZM001_PT02.jpg\r\n")
    form.locator("input[name=archive]").set_input_files(files=[_zip(two)])
    expect(preview.locator("[data-import-preview-result] > .error")).to_contain_text(
        "line 4: empty sku", timeout=20_000)
    expect(button).to_be_disabled()
    expect(form.locator("[data-zip-status]")).to_have_text(
        "Fix the 2 errors shown below to import this ZIP.")


def test_it_holds_import_zip_for_a_new_products_bad_gtin(live_server, page, client):
    """QA40 L4: a GTIN with a wrong check digit is a fault of the manifest, as a differing
    title on a repeated SKU is: the preview names its line and holds Import ZIP."""
    form, button, preview = _zip_form(page, live_server, client)
    data = zip_bytes({"ZM002_MAIN.jpg": product_jpeg(640, 600, seed=2),
                      "manifest.csv": b"sku,gtin,filename\r\nZM002,1234567890123,"
                                      b"ZM002_MAIN.jpg\r\n"})
    form.locator("input[name=archive]").set_input_files(
        files=[{"name": "shoot.zip", "mimeType": "application/zip", "buffer": data}])
    expect(preview.locator("[data-preview-blocks]")).to_contain_text(
        "Line 2: product ZM002 not created; its files are refused: GTIN: EAN-13 1234567890123 "
        "has a wrong check digit (expected 8).", timeout=20_000)
    expect(button).to_be_disabled()
    expect(form.locator("[data-zip-status]")).to_have_text(
        "Fix the error shown below to import this ZIP.")


def test_it_still_lists_the_entries_that_are_no_image_under_a_manifest_error(
        live_server, page, client):
    """lows44 (2026-12-07): since zip43 the server lists a ZIP's entries whose first bytes
    are no image's, in its plan; a preview ending in a manifest error showed no plan, so no
    list either. The list stands under the error, in the import's words, and the error still
    holds Import ZIP."""
    from catalog.ingest.images import text_content_reason

    form, button, preview = _zip_form(page, live_server, client)
    data = zip_bytes({"ZM001_MAIN.jpg": product_jpeg(640, 600, seed=1),
                      "ZM001_PT01.jpg": b"shot list: front, side, back\n",
                      "manifest.csv": b"sku,colour,filename\r\nZM001,red,ZM001_MAIN.jpg\r\n"})
    form.locator("input[name=archive]").set_input_files(files=[{
        "name": "shoot.zip", "mimeType": "application/zip", "buffer": data}])
    expect(preview.locator("[data-import-preview-result] > .error")).to_contain_text(
        "unknown 'colour'", timeout=20_000)
    expect(preview.locator("[data-preview-no-header-file]")).to_have_text(
        f"ZM001_PT01.jpg: {text_content_reason('ZM001_PT01.jpg')}")
    expect(button).to_be_disabled()
    expect(form.locator("[data-zip-status]")).to_have_text(
        "Fix the error shown below to import this ZIP.")

"""Acceptance: a shoot dropped again sends only its new photos. A file the preview found
stored on the product it maps to (sha256, not only its size) is not sent: "1 already stored
— skipped" stands by the Upload button, the "Not stored" box and the import's report name
it (the server checks its hash again); "Upload again anyway" sends it, and the server's own
duplicate test answers."""

import base64
import hashlib

import pytest
from playwright.sync_api import expect

from catalog.models import ImageAsset, ImportIssue
from catalog.services.assets import STORED_SKIPPED_PREFIX
from tests.browser.test_upload import DROP_JS, _drop, _log_in, _record_sent
from tests.browser.test_upload_preview_known import _stored
from tests.factories import ImageAssetFactory, ProductFactory, manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# SubtleCrypto exists on https and localhost only: a plain-http page has none
NO_SUBTLE = "Object.defineProperty(Crypto.prototype, 'subtle', {get: () => undefined});"


def _drop_one_stored_one_new(page, live_server, client, *, init_script: str = ""):
    same, fresh = product_jpeg(640, 600, seed=1), product_jpeg(640, 600, seed=2)
    holder = _stored(same)
    _log_in(page, live_server, client, manager())
    if init_script:
        page.add_init_script(init_script)
    sent = _record_sent(page)
    page.goto(f"{live_server.url}/catalog/upload/")
    _drop(page, {"MU-FULL_PT01.jpg": same, "MU-FULL_PT02.jpg": fresh})
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator("[data-preview]")).to_contain_text(
        "2 of 2 files → 1 product", timeout=15_000
    )
    return holder, sent, uploader


def _row(uploader, name):
    return uploader.locator(f'[data-file-list] li[data-filename="{name}"] .outcome')


def test_it_sends_only_the_new_file_and_names_the_one_already_stored(
    live_server, page, client, screenshot
):
    holder, sent, uploader = _drop_one_stored_one_new(page, live_server, client)
    skip = uploader.locator("[data-stored-skip]")
    expect(skip).to_contain_text("1 already stored — skipped", timeout=15_000)
    expect(skip.locator("input[data-send-stored]")).not_to_be_checked()
    skipped_row = uploader.locator('[data-file-list] li[data-filename="MU-FULL_PT01.jpg"]')
    # what it will be before the upload, what it was after (QA 2026-12-05: one wording)
    expect(_row(uploader, "MU-FULL_PT01.jpg")).to_have_text(
        f"Already stored — will be skipped: identical to MU-FULL MAIN (asset #{holder.pk}) "
        "(not sent)"
    )
    # done, not a grey bar waiting to fill (QA 2026-12-05)
    expect(skipped_row).to_have_attribute("data-status", "already")
    assert skipped_row.locator("progress").evaluate("bar => bar.value") == 100
    expect(uploader.locator("[data-preview-stored-note]")).to_have_text(
        "1 file looks already stored (the same bytes as a stored image): 1 on the product it "
        "maps to is skipped (not sent); the import's report names it."
    )
    expect(uploader.locator("[data-summary]")).to_have_text("2 files · 1 already stored — skipped")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 1 file")
    screenshot("skip-stored-before")
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    assert sent == ["MU-FULL_PT02.jpg"]
    # the page names the skipped file, and the import's outcome counts it
    expect(uploader.locator('[data-held-list] li[data-filename="MU-FULL_PT01.jpg"]')).to_have_text(
        f"MU-FULL_PT01.jpg: Not sent: already stored as MU-FULL MAIN (asset #{holder.pk})."
    )
    link = uploader.locator("[data-result] a")
    expect(link).to_contain_text("1 imported, 1 duplicate skipped")
    expect(skip).to_be_hidden()
    expect(skipped_row).to_have_attribute("data-status", "already")
    assert skipped_row.locator("progress").evaluate("bar => bar.value") == 100
    expect(_row(uploader, "MU-FULL_PT01.jpg")).to_have_text(
        f"Already stored — skipped: identical to MU-FULL MAIN (asset #{holder.pk}) (not sent)"
    )
    screenshot("skip-stored-after")
    issue = ImportIssue.objects.get(filename="MU-FULL_PT01.jpg")
    assert (issue.kind, issue.asset_pk) == ("duplicate", holder.pk)
    assert issue.reason.startswith(STORED_SKIPPED_PREFIX)
    # the import's page (the result) lists it too
    link.click()
    expect(page.locator("body")).to_contain_text(
        "Not sent: the upload page found it already stored."
    )
    expect(page.locator("body")).to_contain_text("MU-FULL_PT01.jpg")
    assert ImageAsset.live.filter(product__sku="MU-FULL").count() == 2


def test_it_sends_both_files_when_asked_to_upload_again_anyway(live_server, page, client):
    holder, sent, uploader = _drop_one_stored_one_new(page, live_server, client)
    skip = uploader.locator("[data-stored-skip]")
    expect(skip).to_contain_text("1 already stored — skipped", timeout=15_000)
    note = uploader.locator("[data-preview-stored-note]")
    expect(note).to_contain_text("1 on the product it maps to is skipped (not sent)")
    row = uploader.locator('[data-file-list] li[data-filename="MU-FULL_PT01.jpg"]')
    skip.get_by_label("Upload again anyway").check()
    expect(skip).to_contain_text("1 already stored — sent again")
    expect(_row(uploader, "MU-FULL_PT01.jpg")).to_contain_text(
        "the import will skip it as a duplicate"
    )
    # the note follows the choice (it kept "skipped" words after the box was ticked), and
    # the row waits to be sent like any other
    expect(note).to_have_text(
        "1 file looks already stored (the same bytes as a stored image): 1 on the product it "
        "maps to is sent again (Upload again anyway); the import will skip it as a duplicate."
    )
    expect(row).not_to_have_attribute("data-status", "already")
    assert row.locator("progress").evaluate("bar => bar.value") == 0
    skip.get_by_label("Upload again anyway").uncheck()
    expect(note).to_contain_text("1 on the product it maps to is skipped (not sent)")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 1 file")
    skip.get_by_label("Upload again anyway").check()
    expect(uploader.locator("[data-start]")).to_have_text("Upload 2 files")
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    assert sorted(sent) == ["MU-FULL_PT01.jpg", "MU-FULL_PT02.jpg"]
    # the server's own duplicate test answered for the file sent again
    expect(uploader.locator("[data-result] a")).to_contain_text("1 imported, 1 duplicate skipped")
    issue = ImportIssue.objects.get(filename="MU-FULL_PT01.jpg")
    assert (issue.kind, issue.asset_pk) == ("duplicate", holder.pk)
    assert not issue.reason.startswith(STORED_SKIPPED_PREFIX)


def test_it_skips_nothing_and_says_so_without_subtlecrypto(live_server, page, client):
    _holder, sent, uploader = _drop_one_stored_one_new(
        page, live_server, client, init_script=NO_SUBTLE
    )
    expect(uploader.locator("[data-preview-stored-note]")).to_have_text(
        "1 file of a stored image's size not checked here: this browser hashes files only "
        "on https (or localhost), so none is skipped; all are sent, and the import reports "
        "any duplicate.",
        timeout=15_000,
    )
    expect(uploader.locator("[data-stored-skip]")).to_be_hidden()
    expect(uploader.locator("[data-start]")).to_have_text("Upload 2 files")
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    assert sorted(sent) == ["MU-FULL_PT01.jpg", "MU-FULL_PT02.jpg"]


def test_it_counts_each_kind_once_after_the_upload_and_settles_held_rows_in_past_tense(
    live_server, page, client
):
    """QA 2026-12-05 (L1, L2): after the upload the summary said "0 duplicates · 0 refused"
    and then "1 refused (position taken) · 1 already stored — skipped" beside the result's
    "1 imported, 1 duplicate skipped, 1 refused"; the position-taken row kept "Will be
    skipped" while the already-stored row said "skipped"."""
    same = product_jpeg(640, 600, seed=1)
    ImageAssetFactory(
        product=ProductFactory(sku="QA1"), position="MAIN", original_filename="old-main.jpg"
    )
    holder = ImageAssetFactory(
        product=ProductFactory(sku="QA9"),
        position="PT01",
        original_filename="QA9_PT01.jpg",
        bytes=len(same),
        sha256=hashlib.sha256(same).hexdigest(),
    )
    _log_in(page, live_server, client, manager())
    sent = _record_sent(page)
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("textarea[name=patterns]", "{sku}_{position}.jpg")
    files = {
        "QA1_MAIN.jpg": product_jpeg(640, 600, seed=2),
        "QA9_PT01.jpg": same,
        "QA1_PT03.jpg": product_jpeg(640, 600, seed=3),
        ".DS_Store": b"\0" * 64,
    }
    payload = [
        {"name": name, "type": "image/jpeg", "b64": base64.b64encode(data).decode()}
        for name, data in files.items()
    ]
    page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload])
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator("[data-stored-skip]")).to_contain_text(
        "1 already stored — skipped", timeout=15_000
    )
    expect(_row(uploader, "QA1_MAIN.jpg")).to_contain_text(
        "Will be skipped: Position MAIN of QA1 is already taken"
    )
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    assert sent == ["QA1_PT03.jpg"]
    expect(uploader.locator("[data-result] a")).to_contain_text(
        "1 imported, 1 duplicate skipped, 1 refused"
    )
    expect(uploader.locator("[data-summary]")).to_have_text(
        "4 files · 1 stored · 1 duplicate (1 already stored, not sent) · "
        "1 refused (1 position taken) · 1 ignored (hidden or system files)"
    )
    expect(_row(uploader, "QA1_MAIN.jpg")).to_contain_text(
        "Skipped: Position MAIN of QA1 is already taken"
    )
    expect(_row(uploader, "QA1_MAIN.jpg")).not_to_contain_text("Will be")
    expect(_row(uploader, "QA9_PT01.jpg")).to_have_text(
        f"Already stored — skipped: identical to QA9 PT01 (asset #{holder.pk}) (not sent)"
    )

"""Which path is an upload's manifest: upload.js ``manifestPathOf`` (a picked folder, a ZIP's
directory read in the browser) and the server's ``archives.manifest_path`` answer one table
(``manifest_scenes.MANIFEST_RULES``) alike, so the page and the import cannot drift apart; and
a second manifest differing only in case is said on the page, in its preview and in the
import's report in the same words (QA 2026-12-06 qa34c #4: passed over without a word)."""

import pytest
from playwright.sync_api import expect

from catalog.ingest.archives import manifest_path, second_manifest_reason
from catalog.models import ImportIssue
from tests.browser.test_upload import _log_in
from tests.catalog.manifest_scenes import MANIFEST_RULES, SECOND_MANIFESTS
from tests.factories import manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: the rule as the page runs it, with the drop zone that gives it the hidden-name pattern
PAGE_RULE = """table => table.map((names) => window.CutroomUploadRules.manifestPathOf(
    document.querySelector("[data-dropzone]"), names))"""


def _open(page, live_server, client):
    _log_in(page, live_server, client, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.wait_for_function("() => !!window.CutroomUploadRules")


def test_it_finds_the_manifest_on_the_page_as_the_server_does(live_server, page, client):
    _open(page, live_server, client)
    tables = [names for names, _found in MANIFEST_RULES]
    server = [manifest_path(names) for names in tables]
    assert server == [found for _names, found in MANIFEST_RULES]
    assert page.evaluate(PAGE_RULE, tables) == server


def test_it_says_a_picked_folders_second_manifest_as_the_import_reports_it(
        live_server, page, client, tmp_path):
    files, _read, _skipped = SECOND_MANIFESTS[1]  # shoot/manifest.csv, shoot/MANIFEST.CSV
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    _open(page, live_server, client)
    page.check("input[name=create_products]")
    uploader = page.locator("#bulk-uploader")
    uploader.locator("input[data-pick][webkitdirectory]").set_input_files(tmp_path / "shoot")
    preview = uploader.locator("[data-preview]")
    expect(preview).to_contain_text("1 of 2 files → 1 product", timeout=15_000)
    # the page takes the first by the rule (the browser's order of the folder), the other
    # is the second
    read = "shoot/" + page.eval_on_selector("input[data-manifest]", "i => i.files[0].name")
    skipped = next(n for n in files if n.endswith((".csv", ".CSV")) and n != read)
    words = second_manifest_reason(read)
    row = uploader.locator(f'[data-file-list] li[data-filename="{skipped}"]')
    expect(row).to_have_attribute("data-status", "skipped")
    expect(row).to_contain_text(words)
    expect(preview.locator("[data-preview-unmapped]")).to_have_text([f"{skipped}: {words}"])
    # counted as a second manifest, not a file type, as a ZIP's preview counts it
    # (ImportPreview.unmapped_counts)
    expect(preview.locator("[data-preview-unmapped-count]")).to_have_text(
        "1 skipped (second manifest)")
    expect(uploader.locator("[data-summary]")).to_contain_text("1 skipped (second manifest)")
    expect(uploader.locator("[data-summary]")).not_to_contain_text("file type")
    expect(uploader.locator("[data-preview-skip-note]")).to_have_text(
        "1 file will be skipped (see why above): 1 second manifest.")
    uploader.locator("[data-start]").click()
    expect(uploader).to_have_attribute("data-state", "idle", timeout=60_000)
    issue = ImportIssue.objects.get(filename=skipped)
    assert (issue.level, issue.reason) == ("warning", words)

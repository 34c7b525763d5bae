"""The export's manifest rows (``services.export_sinks``): each carries its outcome as a
``status`` code beside the ``compliance`` text, set by the branch that writes the text."""

import pytest

from cutouts import variants
from cutouts.models import ExportJob
from cutouts.selectors.export import NotApprovedRow, PlannedItem
from cutouts.services.export_sinks import (
    EXPORT_MANIFEST_COLUMNS,
    manifest_row_for,
    manifest_row_not_approved,
)
from cutouts.services.renditions import RenditionOutput

ITEM = PlannedItem(1, 1, "ebay", "ebay/S-1.jpg", "S-1", "", "")


def _out(*, ok: bool, warnings: tuple[str, ...] = (), summary: str = "",
         provisional: str = "") -> RenditionOutput:
    """A rendition's result, its summary worded apart from its verdict: the code must come
    from the verdict."""
    return RenditionOutput(target=None, data=b"x", provisional=provisional, fields={
        "width": 9, "height": 9, "bytes": 1, "sha256": "0" * 64, "compliance_ok": ok,
        "compliance": {"summary": summary or "as worded by the checker",
                       "warnings": list(warnings)}})


@pytest.mark.parametrize(("dry_run", "include_failing", "out", "code", "text"), [
    (False, False, _out(ok=True), "ok", "as worded"),
    (False, False, _out(ok=True, warnings=("straight cut",)), "ok_warnings", "as worded"),
    (False, False, _out(ok=False), "failed", "not exported: "),
    (False, True, _out(ok=False), "failed_included", "exported despite: "),
    (False, False, None, "not_exported", "not exported: cutout no longer available"),
    (True, False, None, "unchecked", "dry run: would be rendered"),
    (True, False, _out(ok=True), "ok", "dry run (cached): "),
    (True, False, _out(ok=False), "failed", "dry run (cached): "),
    (True, True, _out(ok=False), "failed_included", "dry run (cached): "),
    (True, False, _out(ok=False, provisional="checked with the preset's earlier rules"),
     "failed", "dry run (cached, checked with the preset's earlier rules: re-checked on "),
])
def test_it_writes_the_status_code_of_each_outcome(dry_run, include_failing, out, code, text):
    job = ExportJob(dry_run=dry_run, include_failing=include_failing)
    row, _ = manifest_row_for(job, ITEM, out)
    assert row["status"] == code
    assert row["compliance"].startswith(text)


@pytest.mark.parametrize(("include_failing", "foreseen", "code", "text"), [
    (False, ("failed: enlarged 12.5x", True), "failed", "dry run: would not be exported: "),
    (True, ("failed: enlarged 12.5x", True), "failed_included",
     "dry run: would be exported despite: "),
    (True, ("cannot render: output of 15000x13500 px", False), "not_exported",
     "dry run: would not be exported: "),
])
def test_it_writes_the_status_code_of_what_a_dry_run_foresees(include_failing, foreseen, code,
                                                               text):
    job = ExportJob(dry_run=True, include_failing=include_failing)
    row, include = manifest_row_for(job, ITEM, None, foreseen)
    assert (row["status"], include) == (code, False)
    assert row["compliance"] == text + foreseen[0]


def test_it_writes_the_status_code_of_an_unnamed_file():
    item = PlannedItem(1, 1, "walmart", "", "S-1", "", "", error="S-1 has no GTIN")
    row, include = manifest_row_for(ExportJob(), item, _out(ok=True))
    assert (row["status"], row["compliance"], include) == (
        "not_exported", "not exported: S-1 has no GTIN", False)


def test_it_writes_the_status_code_of_an_image_without_an_approved_cutout():
    row = manifest_row_not_approved(
        row=NotApprovedRow(sku="S-1", gtin="", asin="", position="MAIN", asset_id=1,
                           reason="awaiting review"),
        preset=variants.get_preset("ebay"))
    assert (row["status"], row["compliance"]) == ("not_approved", "not approved: awaiting review")


def test_it_appends_the_status_column_after_every_older_one():
    # appended last, so readers of the older columns by position are not moved
    assert EXPORT_MANIFEST_COLUMNS[:-2] == variants.MANIFEST_COLUMNS
    assert EXPORT_MANIFEST_COLUMNS[-2:] == ("spec", "status")
    assert {str(code) for code in variants.ManifestStatus} == {
        "ok", "ok_warnings", "failed_included", "failed", "not_exported", "not_approved",
        "unchecked"}

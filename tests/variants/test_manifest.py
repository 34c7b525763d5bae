"""manifest.csv rows and CSV formula-injection escaping."""

import csv
import hashlib
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.ingest.manifest import FORMULA_PREFIXES
from cutouts.variants import (
    MANIFEST_COLUMNS,
    ComplianceResult,
    csv_safe,
    csv_unescape,
    manifest_csv,
    manifest_row,
)

DANGEROUS = ["=", "+", "-", "@", "\t", "\r"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("＝1", "'＝1"),
        ("SKU-1", "SKU-1"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-5, "-5"),
        (12, "12"),
        (1.5, "1.5"),
        (True, "True"),
    ],
)
def test_it_escapes_formula_cells(value, expected):
    assert csv_safe(value) == expected


@given(st.text())
def test_it_never_emits_a_cell_a_spreadsheet_would_evaluate(text):
    cell = csv_safe(text)
    assert not cell.startswith(FORMULA_PREFIXES)
    assert csv_unescape(cell) == text
    if not text.startswith(FORMULA_PREFIXES):
        assert cell == text  # harmless text is left alone


@given(st.sampled_from(DANGEROUS), st.text())
def test_it_escapes_every_dangerous_prefix(prefix, rest):
    assert csv_safe(prefix + rest) == "'" + prefix + rest


@given(st.text())
def test_it_is_idempotent_through_unescape(text):
    once = csv_safe(text)
    assert csv_safe(csv_unescape(once)) == once


def test_it_builds_manifest_rows_with_hash_and_size():
    data = b"\xff\xd8fake-jpeg"
    result = ComplianceResult()
    result.warn("model x: AGPL licence terms apply")
    row = manifest_row(sku="=cmd|' /C calc'!A0", gtin="0012345678905", asin="B0XXXXXXXX",
                       preset="amazon_main", file="B0XXXXXXXX.MAIN.jpg", data=data,
                       width=2000, height=2000, compliance=result)
    assert tuple(row) == MANIFEST_COLUMNS
    assert row["sku"] == "'=cmd|' /C calc'!A0"
    assert row["bytes"] == str(len(data))
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    assert row["width"] == "2000"
    assert row["compliance"].startswith("ok (warnings: ")


def test_it_writes_a_csv_that_reads_back_safely():
    rows = [
        manifest_row(sku="-1", preset="ebay", file="x/-1_1_ebay.jpg", data=b"a",
                     compliance="failed: background is not pure #FFFFFF"),
        manifest_row(sku="S,2\n\"q\"", preset="ebay", file="S2.jpg", compliance="ok"),
    ]
    data = manifest_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(parsed[0]) == MANIFEST_COLUMNS
    assert parsed[0]["sku"] == "'-1"
    assert parsed[1]["sku"] == "S,2\n\"q\""
    assert parsed[0]["compliance"] == "failed: background is not pure #FFFFFF"
    for row in parsed:
        for cell in row.values():
            assert not cell.startswith(FORMULA_PREFIXES)


def test_it_appends_the_image_columns_after_the_old_ones():
    # readers of the first ten columns by position keep working; the new ones say which image
    # of a SKU a row is (one product's excluded rows read alike without them)
    assert MANIFEST_COLUMNS[:10] == ("sku", "gtin", "asin", "preset", "file", "width",
                                     "height", "bytes", "sha256", "compliance")
    assert MANIFEST_COLUMNS[10:12] == ("position", "asset_id")
    row = manifest_row(sku="QA001", preset="walmart", file="", position="back", asset_id=42,
                       compliance="not exported: QA001 has no GTIN")
    assert (row["position"], row["asset_id"]) == ("back", "42")
    assert manifest_row(sku="S", preset="ebay", file="x.jpg")["position"] == ""


def test_it_leaves_file_size_and_hash_empty_on_a_row_not_in_the_export():
    # a reader going by file or sha256 must not look for a file that was never written
    assert MANIFEST_COLUMNS[12:] == ("planned_file",)
    data = b"rendered, then excluded"
    row = manifest_row(sku="SS26-TEE-001", preset="amazon_main",
                       file="amazon_main/SS26-TEE-001.PT01.jpg", data=data, width=2000,
                       height=2000, compliance="not exported: failed: background",
                       position="PT01", asset_id=7, included=False)
    assert [row[k] for k in ("file", "width", "height", "bytes", "sha256")] == [""] * 5
    assert (row["planned_file"], row["compliance"], row["sku"], row["position"],
            row["asset_id"]) == ("amazon_main/SS26-TEE-001.PT01.jpg",
                                 "not exported: failed: background", "SS26-TEE-001", "PT01",
                                 "7")
    kept = manifest_row(sku="S", preset="ebay", file="ebay/S.jpg", data=data, width=5,
                        height=4)
    assert (kept["file"], kept["planned_file"], kept["bytes"]) == (
        "ebay/S.jpg", "ebay/S.jpg", str(len(data)))

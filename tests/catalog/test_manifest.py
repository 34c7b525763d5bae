import csv
import io
from decimal import Decimal

import pytest

from catalog.ingest.manifest import (
    ManifestError,
    csv_safe,
    csv_safe_row,
    csv_unescape,
    parse_manifest,
)

HEADER = "sku,title,brand,category,gtin,asin,filename,position\r\n"


def test_it_reads_utf8_with_and_without_bom():
    body = HEADER + "ABC,Café crème,Açme,Küche,,,abc.jpg,MAIN\r\n"
    for data in (body.encode("utf-8"), b"\xef\xbb\xbf" + body.encode("utf-8")):
        manifest = parse_manifest(data)
        assert manifest.products == {"ABC": {"title": "Café crème", "brand": "Açme",
                                             "category": "Küche"}}


def test_it_reads_latin1_only_when_asked():
    data = (HEADER + "ABC,Café,,,,,,\r\n").encode("latin-1")
    with pytest.raises(ManifestError, match=r"not valid UTF-8 \(byte 0xE9 on line 2\)"):
        parse_manifest(data)
    assert parse_manifest(data, encoding="latin-1").products["ABC"]["title"] == "Café"


def test_it_refuses_utf16_with_a_hint():
    with pytest.raises(ManifestError, match="UTF-16"):
        parse_manifest(HEADER.encode("utf-16"))


def test_it_names_unknown_and_missing_columns():
    with pytest.raises(ManifestError, match="unknown 'colour'; missing 'sku'"):
        parse_manifest(b"title,colour\r\nx,red\r\n")


def test_it_accepts_a_subset_of_the_columns():
    manifest = parse_manifest(b"sku,filename\nA1,a1.jpg\n")
    assert manifest.row_for("folder/A1.JPG").sku == "A1"


def test_it_hints_at_semicolons():
    with pytest.raises(ManifestError, match="semicolons"):
        parse_manifest(b"sku;title\nA;b\n")


def test_it_refuses_duplicate_skus_that_disagree_or_link_nothing():
    conflicting = HEADER + "A,One,,,,,a.jpg,\r\nA,Two,,,,,b.jpg,\r\n"
    with pytest.raises(ManifestError, match="duplicate SKU A .*different title"):
        parse_manifest(conflicting.encode())
    repeated = HEADER + "A,One,,,,,,\r\nA,One,,,,,,\r\n"
    with pytest.raises(ManifestError, match="line 3: duplicate SKU A \\(first on line 2\\)"):
        parse_manifest(repeated.encode())


def test_it_lets_one_sku_link_several_files():
    data = HEADER + "A,One,,,,,a1.jpg,MAIN\r\nA,,,,,,a2.jpg,PT01\r\n"
    manifest = parse_manifest(data.encode())
    assert [r.filename for r in manifest.rows] == ["a1.jpg", "a2.jpg"]


def test_it_refuses_a_file_listed_twice():
    data = HEADER + "A,,,,,,a.jpg,\r\nB,,,,,,A.JPG,\r\n"
    with pytest.raises(ManifestError, match="already listed on line 2"):
        parse_manifest(data.encode())


def test_it_keeps_formula_like_cells_as_text():
    data = HEADER + 'A,=HYPERLINK("http://x"),+brand,-20% off,,,@a.jpg,\r\n'
    row = parse_manifest(data.encode()).rows[0]
    assert row.fields == {"title": '=HYPERLINK("http://x")', "brand": "+brand",
                          "category": "-20% off"}
    assert row.filename == "@a.jpg"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_it_escapes_formula_cells_in_written_csv(cell):
    assert csv_safe(cell) == "'" + cell
    out = io.StringIO()
    csv.writer(out).writerow(csv_safe_row([cell, "plain", None, 5]))
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'" + cell, "plain", "", "5"]


@pytest.mark.parametrize(("value", "cell"), [(-5, "-5"), (-1.5, "-1.5"),
                                             (Decimal("-2.50"), "-2.50"), ("-5", "'-5"),
                                             ("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("@x", "'@x"),
                                             ("\tx", "'\tx"), ("\rx", "'\rx"), ("SKU-1", "SKU-1")])
def test_it_writes_numbers_as_numbers_and_escapes_formula_text(value, cell):
    assert csv_safe(value) == cell
    assert csv_unescape(cell) == (cell if not isinstance(value, str) else value)


def test_it_is_the_one_csv_escape_of_the_app():
    from cutouts.variants import manifest as export_manifest

    assert export_manifest.csv_safe is csv_safe
    assert export_manifest.csv_unescape is csv_unescape


def test_it_reports_ragged_rows_with_line_numbers():
    with pytest.raises(ManifestError, match="line 2: 2 cells, the header has 3"):
        parse_manifest(b"sku,title,brand\nA,b\n")

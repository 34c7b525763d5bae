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


def test_it_reads_utf16_with_a_byte_order_mark():
    # Excel's "Unicode text" (UTF-16 LE, BOM) was refused with "save it as UTF-8"
    manifest = parse_manifest((HEADER + "ABC,Café,,,,,,\r\n").encode("utf-16"))
    assert manifest.products["ABC"]["title"] == "Café"


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


def test_it_counts_one_cell_of_a_ragged_row_in_the_singular():
    # QA 2026-12-07 qa42c L4: "line 7: 1 cells, the header has 8"
    with pytest.raises(ManifestError, match="line 2: 1 cell, the header has 3"):
        parse_manifest(b"sku,title,brand\nA\n")


def test_it_reports_an_unclosed_quote_on_the_line_where_its_row_starts():
    data = (b'sku,title\nA,ok\nB,"never closed\nC,x\nD,y\nE,z\nF,w\nG,v\n')
    with pytest.raises(ManifestError) as info:
        parse_manifest(data)
    assert "row starting on line 3" in str(info.value)
    assert "never closed" in str(info.value) and "line 8" not in str(info.value)


def test_it_gives_a_multi_line_row_the_line_it_starts_on():
    manifest = parse_manifest(b'sku,title,filename\nA,"two\nlines",a.jpg\nB,b,b.jpg\n')
    assert [row.line for row in manifest.rows] == [2, 4]


@pytest.mark.parametrize("magic", [b"PK\x03\x04\x14\x00\x06\x00",  # .xlsx
                                   b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"])  # .xls
def test_it_says_an_excel_workbook_is_not_a_csv(magic):
    with pytest.raises(ManifestError, match="an Excel workbook.*save it as CSV UTF-8"):
        parse_manifest(magic + b"\x00" * 64)


def test_it_refuses_an_unknown_position_with_its_line_before_anything_is_stored():
    with pytest.raises(ManifestError, match="line 3: unknown position 'ZZZ'"):
        parse_manifest(b"sku,title,filename,position\nA,a,a.jpg,MAIN\nB,b,b.jpg,zzz\n")


def test_it_reads_image_numbers_as_positions():
    manifest = parse_manifest(b"sku,filename,position\nA,a.jpg,2\nA,b.jpg,main\n")
    assert [row.position for row in manifest.rows] == ["PT01", "MAIN"]


def test_it_lists_rows_naming_files_that_are_not_among_the_names():
    manifest = parse_manifest(b"sku,filename\nA,shoot/a.jpg\nB,B.JPG\nC,missing.jpg\nD,\n",
                              name="manifest_bad3.csv")
    assert manifest.name == "manifest_bad3.csv"
    unmatched = manifest.unmatched(["shoot/a.jpg", "other/b.jpg"])
    assert [(row.line, row.filename) for row in unmatched] == [(4, "missing.jpg")]


def test_it_knows_the_line_of_each_products_fields():
    manifest = parse_manifest(b"sku,title,filename\nA,,a1.jpg\nA,Boot,a2.jpg\nB,,b.jpg\n")
    assert (manifest.where("A"), manifest.where("B")) == ("line 3", "line 4")


def test_it_reports_every_bad_line_before_an_unclosed_quote():
    data = (b"sku,filename,position\nA1,a1.jpg,MAIN\nA2,a2.jpg,MAIN,extra\n"
            b'A3,"a3.jpg,MAIN\nA4,a4.jpg\n')
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data)
    assert "line 3: 4 cells, the header has 3" in str(caught.value)
    assert "line 4" in str(caught.value) and "never closed" in str(caught.value)
    assert [e.split(":")[0] for e in caught.value.errors] == ["line 3", "line 4"]


def test_it_reports_a_path_outside_the_import_with_the_other_bad_lines():
    data = (b"sku,filename,position\nA1,a1.jpg,MAIN\nA2,a2.jpg,MAIN,extra\nA3,a3.jpg,MAIN\n"
            b"A4,../pics/A4.jpg,MAIN\nA5,/abs/A5.jpg,MAIN\n")
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data)
    message = str(caught.value)
    assert "line 3: 4 cells" in message
    assert "line 5: file ../pics/A4.jpg" in message and "'..'" in message
    assert "line 6: file /abs/A5.jpg" in message


def test_it_reports_every_bad_line_after_a_bad_quote_mid_file():
    data = b'sku,filename\nA1,"a"1.jpg\nA2,a2.jpg,x\nA3,a3.jpg\n'
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data)
    assert [e.split(":")[0] for e in caught.value.errors] == ["line 2", "line 3"]


def test_it_lists_the_first_twenty_bad_lines_and_counts_the_rest():
    data = "sku,filename\n" + "".join(f"A{i},a{i}.jpg,x\n" for i in range(25))
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data.encode())
    message = str(caught.value)
    assert "line 21:" in message and "line 22:" not in message
    assert "and 5 more" in message
    assert len(caught.value.errors) == 25


def _manifest_error(data: bytes) -> str:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data)
    return str(caught.value)


@pytest.mark.django_db
def test_it_names_the_manifest_in_its_read_errors():
    assert _manifest_error("sku,title\nA,B\n".encode("utf-16")[:-1]).startswith(
        "The manifest is UTF-16 (it starts with a byte-order mark) but ends in the middle")


@pytest.mark.django_db
def test_it_reads_a_tab_separated_manifest():
    manifest = parse_manifest(b"sku\tfilename\tposition\nA-1\tshoot/a, b.jpg\tPT01\n")
    (row,) = manifest.rows
    assert (row.line, row.sku, row.filename, row.position) == (2, "A-1", "shoot/a, b.jpg",
                                                               "PT01")


def test_it_reports_a_repeated_file_in_the_same_round_as_its_first_lines_other_fault():
    # line 2's position and line 3's SKU are wrong; line 4 repeats line 2's file and
    # position: one round of fixes must be enough, so all three are reported at once
    data = (HEADER + "X1,Thing,,,,,x1.jpg,ZZZ\r\n,No sku,,,,,x2.jpg,MAIN\r\n"
            "X1,Thing,,,,,x1.jpg,MAIN\r\nX2,,,,,,x2.jpg,PT01\r\n")
    with pytest.raises(ManifestError) as refused:
        parse_manifest(data.encode())
    said = str(refused.value)
    assert "line 2: unknown position 'ZZZ'" in said
    assert "line 3: empty sku" in said
    assert "line 4: file x1.jpg is already listed on line 2" in said
    assert "line 5: file x2.jpg is already listed on line 3" in said


@pytest.mark.parametrize("sku", ["bad sku!", "-LEADING-DASH", "L" * 65, "ÄPFEL"])
def test_it_refuses_an_invalid_sku_up_front_naming_its_line_and_value(sku):
    """QA 2026-12-05 L4: a duplicate position or an empty SKU refused the manifest, an
    invalid SKU let the import run with its row refused: now the same up-front refusal, by
    the rule every new product is created with (``validate_sku``)."""
    from django.core.exceptions import ValidationError

    from catalog.validators import validate_sku

    data = HEADER + "GOOD-1,Fine,,,,,a.jpg,MAIN\r\n" + f"{sku},Thing,,,,,b.jpg,MAIN\r\n"
    with pytest.raises(ManifestError) as refused:
        parse_manifest(data.encode())
    said = str(refused.value)
    assert f"line 3: SKU {sku!r} is not valid: SKU must be 1-64 characters: letters, " in said
    assert "line 2" not in said
    with pytest.raises(ValidationError):
        validate_sku(sku)


def test_it_reports_an_invalid_sku_with_the_lines_other_faults_in_one_round():
    data = HEADER + "bad sku!,Thing,,,,,x1.jpg,ZZZ\r\nOK-1,,,,,,x1.jpg,MAIN\r\n"
    with pytest.raises(ManifestError) as refused:
        parse_manifest(data.encode())
    said = str(refused.value)
    assert "line 2: SKU 'bad sku!' is not valid" in said
    assert "line 2: unknown position 'ZZZ'" in said
    assert "line 3: file x1.jpg is already listed on line 2" in said


@pytest.mark.parametrize("sku", ["A", "a.b_c-9", "9" * 64])
def test_it_accepts_every_sku_a_product_may_have(sku):
    assert parse_manifest((HEADER + f"{sku},,,,,,a.jpg,\r\n").encode()).rows[0].sku == sku


def test_it_lets_a_stored_products_sku_from_before_the_rule_through():
    """Only a SKU a stored product has passes (its line updates it, never creates one)."""
    asked: list[list[str]] = []

    def stored(skus: list[str]) -> set[str]:
        asked.append(skus)
        return {"OLD SKU"}

    data = HEADER + "OLD SKU,New title,,,,,,\r\n"
    assert parse_manifest(data.encode(), stored_skus=stored).rows[0].sku == "OLD SKU"
    assert asked == [["OLD SKU"]]
    with pytest.raises(ManifestError, match="line 2: SKU 'OLD SKU' is not valid"):
        parse_manifest(data.encode())

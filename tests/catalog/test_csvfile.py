"""The one CSV reader (catalog/ingest/csvfile.py): UTF-16 with a byte-order mark, as Excel's
"Unicode text" saves it (UTF-16 LE, tab-separated), is read; bytes it cannot decode are
refused naming the line."""

import pytest

from catalog.ingest.csvfile import CsvFileError, decode_csv, read_csv
from catalog.ingest.manifest import parse_manifest
from catalog.models import Product
from tests.catalog.test_product_bulk import bulk_edit
from tests.factories import ProductFactory

EXCEL_UNICODE_TEXT = "sku\ttitle\tfilename\tposition\r\nSHOE-1\tCafé, crème\tshoe 1.jpg\tMAIN\r\n"


def _error(data: bytes, encoding: str = "utf-8") -> str:
    with pytest.raises(CsvFileError) as caught:
        decode_csv(data, encoding)
    return str(caught.value)


def test_it_reads_an_excel_unicode_text_manifest():
    data = b"\xff\xfe" + EXCEL_UNICODE_TEXT.encode("utf-16-le")
    manifest = parse_manifest(data)
    (row,) = manifest.rows
    assert (row.line, row.sku, row.filename, row.position) == (2, "SHOE-1", "shoe 1.jpg", "MAIN")
    assert manifest.products["SHOE-1"] == {"title": "Café, crème"}  # the comma is text


def test_it_reads_utf16_big_endian_with_a_bom():
    data = b"\xfe\xff" + "sku,title\nA-1,Ünïcode\n".encode("utf-16-be")
    records = read_csv(data)
    assert records.names == ["sku", "title"]
    assert list(records.records) == [(2, ["A-1", "Ünïcode"])]


def test_it_reads_utf16_whatever_encoding_was_chosen():
    # the BOM says UTF-16: Latin-1 (chosen for an old Excel file) would read "ÿþs\x00k\x00…"
    data = "sku,title\nA-1,Bär\n".encode("utf-16")
    assert decode_csv(data, "latin-1") == "sku,title\nA-1,Bär\n"


def test_it_reads_utf8_with_a_bom_even_when_latin1_is_chosen():
    # was read as Latin-1: the header's first cell became "ï»¿sku" ("missing 'sku'")
    data = b"\xef\xbb\xbf" + "sku,title\nA-1,Bär\n".encode()
    assert decode_csv(data, "latin-1") == "sku,title\nA-1,Bär\n"
    assert parse_manifest(data, encoding="latin-1").products == {"A-1": {"title": "Bär"}}


@pytest.mark.django_db
def test_it_applies_a_utf16_bulk_edit_file():
    ProductFactory(sku="A-1", brand="Old")
    job = bulk_edit("sku\tbrand\nA-1\tÄcme\n".encode("utf-16"))
    assert list(job.lines.values_list("sku", "outcome")) == [("A-1", "updated")]
    assert Product.objects.get(sku="A-1").brand == "Äcme"


def test_it_names_the_line_of_bytes_that_are_no_utf16():
    # a lone high surrogate (D800) on line 3
    data = "sku,title\nA,B\n".encode("utf-16") + b"\x00\xd8" + "x\n".encode("utf-16-le")
    assert _error(data) == (
        "The manifest is UTF-16 (it starts with a byte-order mark) but has bytes that are no "
        "UTF-16 character (00 D8 on line 3). Save it again, as UTF-8 or as Unicode text.")


def test_it_refuses_a_utf16_file_cut_in_the_middle_of_a_character():
    data = "sku,title\nA,B\n".encode("utf-16")[:-1]
    assert _error(data, "latin-1") == (
        "The manifest is UTF-16 (it starts with a byte-order mark) but ends in the middle of a "
        "character. Save it again, as UTF-8 or as Unicode text.")


def test_it_hints_at_utf16_without_a_byte_order_mark():
    assert _error("sku,title\nA,B\n".encode("utf-16-le")) == (
        "The manifest contains NUL bytes; it is not a text CSV file (it looks like UTF-16 "
        "without a byte-order mark; save it as UTF-8).")
    # a NUL in a UTF-8 file is not called UTF-16
    assert _error(b"sku,title\nA,B\x00\n") == (
        "The manifest contains NUL bytes; it is not a text CSV file.")


def test_it_refuses_utf32_rather_than_reading_it_as_utf16():
    # FF FE 00 00 starts with the UTF-16 LE mark too
    assert _error("sku\nA\n".encode("utf-32")) == (
        "The manifest is UTF-32; save it as UTF-8 (CSV UTF-8 in Excel).")


def test_it_hints_at_utf16_without_a_byte_order_mark_when_it_has_non_ascii_text():
    # QA 2026-12-04: the "é" (E9 00) failed UTF-8 first, and the hint was never reached
    for codec in ("utf-16-le", "utf-16-be"):
        assert _error("sku,title\nA-1,Café\n".encode(codec)) == (
            "The manifest contains NUL bytes; it is not a text CSV file (it looks like UTF-16 "
            "without a byte-order mark; save it as UTF-8).")


def test_it_reads_old_excel_files_as_windows_1252():
    # QA 2026-12-04: Latin-1 read the dash, the quotes and the euro as C1 control characters
    title = "Straße – “Deluxe” 5€"
    data = f"sku,title\nA-1,{title}\n".encode("cp1252")
    assert parse_manifest(data, encoding="latin-1").products == {"A-1": {"title": title}}


def test_it_refuses_control_characters_left_in_the_text():
    # 0x8D is one of the five bytes Windows-1252 leaves undefined: still a control character
    assert _error(b"sku,title\nA-1,Caf\xe9\n\nA-2,X\x8dY\n", "latin-1") == (
        "The manifest has a control character (U+008D) on line 4 where text was expected, so "
        "it was probably saved in another encoding than the one chosen. Save it as CSV UTF-8, "
        "or choose the encoding it was saved in.")
    # in UTF-8 too: text read in the wrong encoding once and then saved as UTF-8
    assert "(U+0096) on line 2" in _error("sku,title\nA-1,a\u0096b\n".encode())


@pytest.mark.django_db
def test_it_applies_a_windows_1252_bulk_edit_file():
    ProductFactory(sku="A-1", brand="Old")
    job = bulk_edit("sku,brand\nA-1,Œuvre™\n".encode("cp1252"), encoding="latin-1")
    assert list(job.lines.values_list("sku", "outcome")) == [("A-1", "updated")]
    assert Product.objects.get(sku="A-1").brand == "Œuvre™"

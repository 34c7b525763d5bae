"""Reading an uploaded CSV file: the one reader the import manifest and the product bulk edit
share (decoding, the delimiter, and quote errors with the line a row starts on), so both
files are read, and refused, in the same words with their own name ("The manifest …",
"The bulk-edit file …")."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

#: ``ENCODINGS``' name for Windows-1252 read by ``_decode_windows_1252``.
WINDOWS_1252 = "windows-1252"

#: The codec each encoding choice reads with. "Latin-1" is what old Excel (Windows) writes,
#: which is Windows-1252: Latin-1 but for 0x80-0x9F, where it has – “ ” € … instead of
#: control characters (QA 2026-12-04: "Straße – 5€" read as "Straße \x96 5\x80").
ENCODINGS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "latin-1": WINDOWS_1252,
             "latin1": WINDOWS_1252, "iso-8859-1": WINDOWS_1252, "cp1252": WINDOWS_1252,
             "windows-1252": WINDOWS_1252}
#: The encoding choices of the forms: value, label.
ENCODING_CHOICES = [("utf-8", "UTF-8 (with or without BOM)"),
                    ("latin-1", "Windows-1252 / Latin-1 (old Excel)")]
MAX_CSV_BYTES = 50 * 1024 * 1024
# A workbook saved as .xlsx (a ZIP) or .xls (an OLE compound file) instead of as CSV.
WORKBOOK_MAGICS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


#: Bad lines a file's message lists; the rest are counted ("and 7 more"), so one message
#: (a job's message keeps 1000 characters) still lets the manager fix most of them at once.
MAX_LISTED_ERRORS = 20


class CsvFileError(Exception):
    """The file as a whole is unusable; nothing from it is applied. ``errors``: every bad
    line ("line 4: ..."), when the file was read to its end (empty for a file that is
    unreadable as a whole)."""

    def __init__(self, message: str, errors: Iterable[str] = ()):
        super().__init__(message)
        self.errors = list(errors)


def cells_mismatch(cells: int, header: int) -> str:
    """A line whose cell count is not the header's, in the words a manifest and a product
    CSV both report it in, singular and plural right ("1 cell, the header has 8"; QA
    2026-12-07 qa42c L4: "1 cells")."""
    return f"{cells} cell{'' if cells == 1 else 's'}, the header has {header}"


def lines_refused(kind: str, errors: list[str], after: str = ".") -> CsvFileError:
    """The error refusing a file for its bad lines ("line 4: ..."), every one of them in
    ``errors`` and the first ``MAX_LISTED_ERRORS`` in the message."""
    shown = "; ".join(errors[:MAX_LISTED_ERRORS])
    more = (f" (and {len(errors) - MAX_LISTED_ERRORS} more)"
            if len(errors) > MAX_LISTED_ERRORS else "")
    return CsvFileError(f"The {kind} has errors: {shown}{more}{after}", errors)


def decode_csv(data: bytes, encoding: str = "utf-8", *, kind: str = "manifest") -> str:
    """The file's text; ``kind`` names the file in the messages ("manifest")."""
    the = f"The {kind}"
    codec = ENCODINGS.get(encoding.lower().strip())
    if codec is None:
        raise CsvFileError(f"Unsupported {kind} encoding {encoding!r}; use UTF-8 or "
                           "Windows-1252 / Latin-1.")
    if len(data) > MAX_CSV_BYTES:
        raise CsvFileError(f"{the} is over 50 MB.")
    if data.startswith(WORKBOOK_MAGICS):
        raise CsvFileError(
            f"{the} is an Excel workbook, not a CSV file; save it as CSV UTF-8 "
            "(File > Save As > CSV UTF-8) and choose that file."
        )
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise CsvFileError(f"{the} is UTF-32; save it as UTF-8 (CSV UTF-8 in Excel).")
    # A byte-order mark says how the file is encoded, whatever encoding was chosen: Excel's
    # "Unicode text" is UTF-16 LE with one (and tabs), and no CSV starts with "ÿþ" in Latin-1.
    bom = UTF16_BOMS.get(data[:2])
    if bom is not None:
        return _checked(_decode_utf16(data, bom, the), the)
    if _looks_utf16(data):
        # before UTF-8 is tried: an "é" in it is no UTF-8, and that error hid this hint
        raise CsvFileError(f"{the} contains NUL bytes; it is not a text CSV file{UTF16_HINT}.")
    if data.startswith(b"\xef\xbb\xbf"):  # UTF-8's mark: Latin-1 would read it as "ï»¿sku"
        codec = "utf-8-sig"
    if codec == WINDOWS_1252:
        return _checked(_decode_windows_1252(data), the)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvFileError(
            f"{the} is not valid UTF-8 (byte 0x{data[exc.start]:02X} on line {line}). "
            "Save it as UTF-8, or choose Windows-1252 / Latin-1 if it came from an old Excel."
        )
    return _checked(text, the)


UTF16_HINT = " (it looks like UTF-16 without a byte-order mark; save it as UTF-8)"
#: Bytes looked at for UTF-16's pattern: a header's worth.
UTF16_SAMPLE = 200

# Windows-1252's characters at 0x80-0x9F; the five it leaves undefined (0x81, 0x8D, 0x8F,
# 0x90, 0x9D) stay Latin-1's control characters, which ``_checked`` then refuses.
_CP1252_HIGH = {byte: bytes([byte]).decode("cp1252") for byte in range(0x80, 0xA0)
                if byte not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}


def _decode_windows_1252(data: bytes) -> str:
    # every byte is a Latin-1 character, so this never fails; then 0x80-0x9F as Windows-1252
    return data.decode("latin-1").translate(_CP1252_HIGH)


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: its ASCII text has a NUL in every other byte, at odd
    positions (little-endian) or even ones (big-endian); no text file has that many NULs."""
    sample = data[:UTF16_SAMPLE]
    pairs = len(sample) // 2
    if pairs < 2:
        return False
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    return max(even, odd) * 3 >= pairs * 2


#: UTF-16 byte-order marks and the codec that reads what follows them.
UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


def _decode_utf16(data: bytes, codec: str, the: str) -> str:
    body = data[2:]
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        # the line of the bad bytes, counted in the text before them (a newline is 2 bytes)
        line = body[: exc.start - exc.start % 2].decode(codec, "replace").count("\n") + 1
        what = ("ends in the middle of a character" if exc.reason == "truncated data"
                else f"has bytes that are no UTF-16 character "
                     f"({body[exc.start:exc.end].hex(' ').upper()} on line {line})")
        raise CsvFileError(f"{the} is UTF-16 (it starts with a byte-order mark) but {what}. "
                           "Save it again, as UTF-8 or as Unicode text.")


#: C1 control characters: no cell means one; in a file they are text read in another
#: encoding than it was saved in (Windows-1252 read as Latin-1, or written so by a tool).
_C1_RE = re.compile("[\x80-\x9f]")


def _checked(text: str, the: str) -> str:
    if "\x00" in text:
        # UTF-16 without a byte-order mark: every other byte of its ASCII text is a NUL
        hint = (UTF16_HINT
                if text[:200].count("\x00") * 3 >= min(len(text), 200) else "")
        raise CsvFileError(f"{the} contains NUL bytes; it is not a text CSV file{hint}.")
    control = _C1_RE.search(text)
    if control is not None:
        line = text.count("\n", 0, control.start()) + 1
        raise CsvFileError(
            f"{the} has a control character (U+{ord(control.group()):04X}) on line {line} "
            "where text was expected, so it was probably saved in another encoding than the "
            "one chosen. Save it as CSV UTF-8, or choose the encoding it was saved in."
        )
    return text


@dataclass
class CsvRecords:
    """A CSV file's header (stripped, lower case) and its records: ``(line, cells)`` for a
    row that has a non-blank cell, ``(line, "not valid CSV: …")`` for one the reader cannot
    read; ``line`` is where the record starts (a quoted cell may span lines)."""

    names: list[str]
    records: Iterator[tuple[int, list[str] | str]]
    delimiter: str = ","


def read_csv(data: bytes, encoding: str = "utf-8", *, kind: str = "manifest") -> CsvRecords:
    """Decode ``data`` (``decode_csv``) and read its header; raises CsvFileError for a file
    unreadable as a whole (empty, semicolons). Comma-separated, or tab-separated when the
    header has tabs and no comma (Excel's "Text (Tab delimited)"): a header that is one
    cell with a tab in it is never a valid header, so reading it as tabs misreads nothing.
    Semicolons are refused rather than guessed: they come from a locale whose decimal
    comma a cell may also hold."""
    the = f"The {kind}"
    text = decode_csv(data, encoding, kind=kind)
    first = _reader(text, ",")
    try:
        header = next(first)
    except StopIteration:
        raise CsvFileError(f"{the} is empty.")
    except csv.Error as exc:
        raise CsvFileError(f"{the} is not valid CSV: {exc}")
    delimiter = ","
    if len(header) == 1 and "\t" in header[0]:
        delimiter = "\t"
    elif len(header) == 1 and ";" in header[0]:
        raise CsvFileError(f"{the} uses semicolons; separate columns with commas.")
    reader = first
    if delimiter != ",":
        reader = _reader(text, delimiter)
        try:
            header = next(reader)
        except csv.Error as exc:
            raise CsvFileError(f"{the} is not valid CSV: {exc}")
    return CsvRecords(names=[h.strip().lower() for h in header], records=_records(reader),
                      delimiter=delimiter)


def _reader(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)


def _records(reader: Any) -> Iterator[tuple[int, list[str] | str]]:
    while True:
        # A record may span lines (a quoted newline): its line is where it starts, and so is
        # the line an unclosed quote is reported on (the reader only fails at the end).
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader resumes on the next line (an unclosed quote has swallowed the rest
            # of the file, so that ends it): the lines after a bad one are still checked.
            hint = (" (a quote opened there is never closed)"
                    if "unexpected end of data" in str(exc) else "")
            yield line, f"not valid CSV: the row starting on line {line}{hint}: {exc}"
            continue
        if any(v.strip() for v in values):
            yield line, values

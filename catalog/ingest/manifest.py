"""CSV manifests in, and safe CSV out: the one ``csv_safe`` every CSV the app writes uses
(import reports here, export manifests in ``cutouts.variants.manifest``).

Cells are kept verbatim: a title like ``=SUM(A1)`` or ``-20% off`` is data, never a formula
to evaluate or a sign to strip. Every CSV the app writes passes its cells through
``csv_safe`` so spreadsheet apps do not execute them either.
"""

from __future__ import annotations

import csv
import io
import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field

COLUMNS = ("sku", "title", "brand", "category", "gtin", "asin", "filename", "position")
PRODUCT_FIELDS = ("title", "brand", "category", "gtin", "asin")
ENCODINGS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "latin-1": "latin-1", "latin1": "latin-1",
             "iso-8859-1": "latin-1"}
MAX_MANIFEST_BYTES = 50 * 1024 * 1024
# OWASP's list: spreadsheet apps start a formula (or DDE call) with any of these; LibreOffice
# also reads a leading newline and the full-width forms as the ASCII ones.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


class ManifestError(Exception):
    """The manifest as a whole is unusable; nothing from it is applied."""


@dataclass
class ManifestRow:
    line: int
    sku: str
    fields: dict[str, str]
    filename: str
    position: str


@dataclass
class Manifest:
    rows: list[ManifestRow]
    products: dict[str, dict[str, str]] = field(default_factory=dict)
    by_filename: dict[str, ManifestRow] = field(default_factory=dict)

    def row_for(self, name: str) -> ManifestRow | None:
        """Match on the full archive path first, then on the base name."""
        key = name.replace("\\", "/").lower()
        return self.by_filename.get(key) or self.by_filename.get(key.rsplit("/", 1)[-1])


def decode_manifest(data: bytes, encoding: str = "utf-8") -> str:
    codec = ENCODINGS.get(encoding.lower().strip())
    if codec is None:
        raise ManifestError(f"Unsupported manifest encoding {encoding!r}; use UTF-8 or Latin-1.")
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError("The manifest is over 50 MB.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ManifestError("The manifest is UTF-16; save it as UTF-8 (CSV UTF-8 in Excel).")
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(
            f"The manifest is not valid UTF-8 (byte 0x{data[exc.start]:02X} on line {line}). "
            "Save it as UTF-8, or choose Latin-1 if it came from an old Excel."
        )
    if "\x00" in text:
        raise ManifestError("The manifest contains NUL bytes; it is not a text CSV file.")
    return text


def parse_manifest(data: bytes, *, encoding: str = "utf-8") -> Manifest:
    text = decode_manifest(data, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ManifestError("The manifest is empty.")
    except csv.Error as exc:
        raise ManifestError(f"The manifest is not valid CSV: {exc}")
    names = [h.strip().lower() for h in header]
    if len(names) == 1 and ";" in names[0]:
        raise ManifestError("The manifest uses semicolons; separate columns with commas.")
    unknown = [n for n in names if n not in COLUMNS]
    if unknown or "sku" not in names or len(set(names)) != len(names):
        raise ManifestError(
            "Wrong columns in the manifest header: "
            + (f"unknown {', '.join(repr(u) for u in unknown)}; " if unknown else "")
            + ("missing 'sku'; " if "sku" not in names else "")
            + ("a column is repeated; " if len(set(names)) != len(names) else "")
            + f"expected {','.join(COLUMNS)}."
        )
    rows: list[ManifestRow] = []
    products: dict[str, dict[str, str]] = {}
    first_line: dict[str, int] = {}
    by_filename: dict[str, ManifestRow] = {}
    positions: dict[tuple[str, str], int] = {}
    errors: list[str] = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(names):
                errors.append(f"line {line}: {len(values)} cells, the header has {len(names)}")
                continue
            record = {n: v.strip() for n, v in zip(names, values, strict=True)}
            sku = record["sku"]
            if not sku:
                errors.append(f"line {line}: empty sku")
                continue
            fields = {k: record[k] for k in PRODUCT_FIELDS if record.get(k)}
            seen = sku in first_line
            filename = record.get("filename", "")
            if seen and not filename:
                # Repeating a SKU is how a manifest links several files; without a file
                # the row can only be a copy-paste slip.
                errors.append(f"line {line}: duplicate SKU {sku} (first on line {first_line[sku]})")
                continue
            known = products.setdefault(sku, {})
            for key, value in fields.items():
                if key in known and known[key] != value:
                    errors.append(
                        f"line {line}: duplicate SKU {sku} (first on line {first_line[sku]}) "
                        f"with a different {key}: {known[key]!r} vs {value!r}"
                    )
                known[key] = value
            first_line.setdefault(sku, line)
            position = record.get("position", "").upper()
            row = ManifestRow(line=line, sku=sku, fields=fields, filename=filename,
                              position=position)
            if filename:
                key = filename.replace("\\", "/").lower()
                if key in by_filename:
                    errors.append(
                        f"line {line}: file {filename} is already listed on line "
                        f"{by_filename[key].line}"
                    )
                by_filename[key] = row
            if position:
                if (sku, position) in positions:
                    errors.append(
                        f"line {line}: SKU {sku} position {position} is already given on line "
                        f"{positions[(sku, position)]}"
                    )
                positions[(sku, position)] = line
            rows.append(row)
    except csv.Error as exc:
        raise ManifestError(f"The manifest is not valid CSV near line {reader.line_num}: {exc}")
    if errors:
        shown = "; ".join(errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise ManifestError(f"The manifest has errors: {shown}{more}.")
    if not rows:
        raise ManifestError("The manifest has a header but no rows.")
    return Manifest(rows=rows, products=products, by_filename=by_filename)


def csv_safe(value: object) -> str:
    """Text for a CSV cell that no spreadsheet will evaluate as a formula.

    ``None`` becomes ``""``; numbers are written as they are (the number ``-5`` stays a
    number, the text ``"-5"`` does not); other values go through ``str`` and get a leading
    ``'`` when they start with a formula character, which :func:`csv_unescape` removes.
    """
    if value is None:
        return ""
    if isinstance(value, numbers.Number):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_unescape(cell: str) -> str:
    """Inverse of :func:`csv_safe` for text cells."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_PREFIXES):
        return cell[1:]
    return cell


def csv_safe_row(values: Iterable[object]) -> list[str]:
    return [csv_safe(v) for v in values]

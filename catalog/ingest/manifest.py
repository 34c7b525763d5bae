"""CSV manifests in, and safe CSV out: the one ``csv_safe`` every CSV the app writes uses
(import reports here, export manifests in ``cutouts.variants.manifest``).

Cells are kept verbatim: a title like ``=SUM(A1)`` or ``-20% off`` is data, never a formula
to evaluate or a sign to strip. Every CSV the app writes passes its cells through
``csv_safe`` so spreadsheet apps do not execute them either.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

# ENCODINGS: the upload forms' encoding choices, still read from here
from .csvfile import ENCODINGS as ENCODINGS
from .csvfile import CsvFileError, cells_mismatch, lines_refused, read_csv
from .numbers import digits_from
from .positions import POSITIONS, position_for_number
from .skus import SKU_RULE, sku_valid

COLUMNS = ("sku", "title", "brand", "category", "gtin", "asin", "filename", "position")
PRODUCT_FIELDS = ("title", "brand", "category", "gtin", "asin")
# OWASP's list: spreadsheet apps start a formula (or DDE call) with any of these; LibreOffice
# also reads a leading newline and the full-width forms as the ASCII ones.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


#: One error type for an unusable CSV file, a manifest or a bulk-edit file (``csvfile``):
#: the views and ``errors.IMPORT_REFUSALS`` catch it by this name.
ManifestError = CsvFileError


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
    #: The file's own name (the uploaded one, or the ZIP's manifest.csv), for the report.
    name: str = "manifest.csv"
    #: Per SKU, the first line that gives it product fields (else its first line).
    product_lines: dict[str, int] = field(default_factory=dict)
    #: Per SKU, the line each of its product fields is given on (a repeated SKU's rows may
    #: each give another field): a refusal names the line that carries the bad value.
    field_lines: dict[str, dict[str, int]] = field(default_factory=dict)

    def where(self, sku: str) -> str:
        """'line N' of a SKU's product fields, for a report line about that product."""
        line = self.product_lines.get(sku)
        return f"line {line}" if line else "a line"

    #: A file's key (``file_key``) -> why no row is its, set by ``bind``: "" for a file a
    #: row names by a shorter path than another file's exact one (the row is that one's),
    #: else the refusal of a file that is one of several a row names by a shorter path.
    unbound: dict[str, str] = field(default_factory=dict)

    def _match(self, key: str) -> ManifestRow | None:
        """The row naming the longest trailing part of the path ``key``: the whole path,
        then without its first folder, and so on to the base name. So a row naming a path
        (``A/IMG_1.jpg``) takes only a file in that folder (also under another top folder,
        ``shoot/A/IMG_1.jpg``, as a ZIP of the folder holds it), and a row naming a bare
        name takes the file of that name in any folder."""
        parts = key.split("/")
        for start in range(len(parts)):
            row = self.by_filename.get("/".join(parts[start:]))
            if row is not None:
                return row
        return None

    def bind(self, names: Iterable[str]) -> None:
        """Match the rows to all of an import's files at once (``names``: a ZIP's entries, a
        folder's files, the files a browser session declares), so that a row naming a file
        by a shorter path than the files have (a bare ``IMG_1.jpg`` against
        ``A/IMG_1.jpg`` and ``B/IMG_1.jpg``) is never given to one of several by a guess:
        a file that a row names by its whole path is that row's, and the others it names
        only in part are no row's; a row that names several files only in part is given to
        none, and each is refused saying so (``ambiguity``). Without ``bind`` each file is
        matched alone (``row_for``)."""
        exact: set[int] = set()
        partial: dict[int, list[str]] = {}
        for name in names:
            key = file_key(name)
            row = self._match(key)
            if row is None:
                continue
            if key == file_key(row.filename):
                exact.add(row.line)
            else:
                partial.setdefault(row.line, []).append(name)
        rows = {row.line: row for row in self.rows}
        self.unbound = {}
        for line, matched in partial.items():
            if line in exact:
                for name in matched:
                    self.unbound[file_key(name)] = ""
            elif len(matched) > 1:
                reason = ambiguous_text(rows[line], matched, manifest_name=self.name)
                for name in matched:
                    self.unbound[file_key(name)] = reason

    def ambiguity(self, name: str) -> str:
        """Why no row takes ``name`` although one names it (``bind``): several files of
        the import match the row's file name; "" otherwise."""
        return self.unbound.get(file_key(name), "")

    def unmatched(self, names: Iterable[str]) -> list[ManifestRow]:
        """Rows naming a file that is none of ``names`` (matched as ``row_for`` matches: the
        row's path is the file's path or its end, any case). A row that several files
        match (``ambiguity``) is not missing: those files are refused with the reason."""
        lines = set()
        for name in names:
            row = self._match(file_key(name))
            if row is not None:
                lines.add(row.line)
        return [row for row in self.rows if row.filename and row.line not in lines]

    def row_for(self, name: str) -> ManifestRow | None:
        """The row naming ``name``: by its whole path, else by the longest end of its path
        a row names (its base name last); None for a file ``bind`` gave no row."""
        key = file_key(name)
        if key in self.unbound:
            return None
        return self._match(key)

    def positions(self, name: str) -> bool:
        """A row gives ``name`` its position: such files go first in an import (and its
        preview), so the manifest wins a position tie with a file the naming rules place."""
        row = self.row_for(name)
        return row is not None and bool(row.position)


#: How a message names a manifest (or bulk-edit file) column to the user: the identifiers as
#: they are written (GTIN, ASIN, SKU), the others by their header (title, brand, category).
FIELD_NAMES = {"gtin": "GTIN", "asin": "ASIN", "sku": "SKU"}


def field_name(key: str, *, given_on: int = 0, said_of: int = 0) -> str:
    """The one name a CSV column's value goes by in a message (``FIELD_NAMES``): "GTIN", or,
    for a value given on another line (``given_on``) than the one the message is said of
    (``said_of``: a repeated SKU's rows may each give another field), "its GTIN on line 8".
    The manifest's import, its preview and the bulk edit all name a field here (QA41 L3: one
    message said "gtin: …", another "its GTIN on line 2: …")."""
    name = FIELD_NAMES.get(key, key)
    return f"its {name} on line {given_on}" if given_on and given_on != said_of else name


def field_errors_text(errors: dict[str, list[str]], *, lines: dict[str, int] | None = None,
                      said_of: int = 0) -> str:
    """A product's validation errors by field (``ValidationError.message_dict``) in one line,
    each field named by ``field_name`` ("GTIN: EAN-13 … has a wrong check digit …";
    ``lines``: the line each field is given on, for a message said of line ``said_of``)."""
    given = lines or {}
    return "; ".join(f"{field_name(key, given_on=given.get(key, 0), said_of=said_of)}: "
                     f"{' '.join(messages)}" for key, messages in errors.items())


def file_key(name: str) -> str:
    """A file name or a row's path as rows and files are matched: ``/`` for ``\\``, any
    case."""
    return name.replace("\\", "/").lower()


def ambiguous_text(row: ManifestRow, names: list[str], *, manifest_name: str) -> str:
    """Why a file is refused that is one of several a manifest row names only in part."""
    shown = ", ".join(sorted(names)[:5]) + (f" and {len(names) - 5} more"
                                            if len(names) > 5 else "")
    example = sorted(names)[0].replace("\\", "/")
    return (f"{manifest_name} line {row.line} names {row.filename}, which matches "
            f"{len(names)} files of this import ({shown}): it is given to none of them. "
            f"Give the file's folder in the manifest ({example}), or one row per file.")


def _normalize_position(value: str) -> str | None:
    """A position code (MAIN, PT01..PT08, SWCH) or image number 1..9; None if unknown: what
    ``naming.normalize_position`` accepts, checked here so a bad row refuses the file."""
    number = digits_from(value)
    if number is not None:
        return position_for_number(number)
    return value if value in POSITIONS else None


def _outside_path(filename: str) -> str:
    """Why a row's file name can name no file of an import ('..', an absolute path), "" if it
    can: such a row would match nothing and its product would get no image."""
    unified = filename.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        return ("an absolute path; name the file as it is in the ZIP or folder "
                "(photos/A4.jpg or A4.jpg)")
    if ".." in unified.split("/"):
        return ("'..' in the path; name the file as it is in the ZIP or folder "
                "(photos/A4.jpg or A4.jpg)")
    return ""


def _line_of(error: str) -> int:
    found = _LINE.match(error)
    return int(found.group(1)) if found else 0


_LINE = re.compile(r"line (\d+)")


def parse_manifest(data: bytes, *, encoding: str = "utf-8", name: str = "manifest.csv",
                   stored_skus: Callable[[list[str]], Collection[str]] | None = None
                   ) -> Manifest:
    """The manifest's rows, or ManifestError naming every bad line. A SKU no new product may
    have (``skus.SKU_RULE``) is such a line unless ``stored_skus`` (given the invalid SKUs,
    the ones a stored product has: made before the rule, a manifest may still update it)
    says so; the imports and their preview pass it (``import_mapping.manifest_parse``)."""
    csv_file = read_csv(data, encoding, kind="manifest")
    names = csv_file.names
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
    file_lines: dict[str, int] = {}  # every line's file, bad lines' too
    positions: dict[tuple[str, str], int] = {}
    errors: list[str] = []
    product_lines: dict[str, int] = {}
    field_lines: dict[str, dict[str, int]] = {}
    invalid: dict[str, list[int]] = {}  # SKU -> its lines
    for line, values in csv_file.records:
        if isinstance(values, str):  # not valid CSV: reported with the lines around it
            errors.append(f"line {line}: {values}")
            continue
        if len(values) != len(names):
            errors.append(f"line {line}: {cells_mismatch(len(values), len(names))}")
            continue
        record = {n: v.strip() for n, v in zip(names, values, strict=True)}
        sku = record["sku"]
        filename = record.get("filename", "")
        # the file is checked first, whatever else is wrong with its line: a later line
        # repeating it is then reported in the same round (QA: fixing line 2's position
        # revealed that line 4 repeated its file, a second round of fixes)
        outside = _outside_path(filename)
        if outside:
            errors.append(f"line {line}: file {filename}: {outside}")
        elif filename:
            key = filename.replace("\\", "/").lower()
            if key in file_lines:
                errors.append(
                    f"line {line}: file {filename} is already listed on line {file_lines[key]}")
            else:
                file_lines[key] = line
        if not sku:
            errors.append(f"line {line}: empty sku")
            continue
        if not sku_valid(sku):
            # refused below with the whole file, as a repeated position is, unless a stored
            # product has it: the product could not be created, and the import ran with
            # that row's files refused (QA 2026-12-05 L4). The rule of every new product
            # (``skus``); the line goes on, so its other faults are reported in the same round.
            invalid.setdefault(sku, []).append(line)
        fields = {k: record[k] for k in PRODUCT_FIELDS if record.get(k)}
        seen = sku in first_line
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
            field_lines.setdefault(sku, {}).setdefault(key, line)
        first_line.setdefault(sku, line)
        if fields:
            product_lines.setdefault(sku, line)
        position = record.get("position", "").upper()
        if position:
            normal = _normalize_position(position)
            if normal is None:
                # Refused with the whole file, before anything is stored: a row whose
                # file would be refused must not create its product either.
                errors.append(
                    f"line {line}: unknown position {position!r} (use "
                    f"{', '.join(POSITIONS)} or 1-9)")
                continue
            position = normal
        if position:
            if (sku, position) in positions:
                errors.append(
                    f"line {line}: SKU {sku} position {position} is already given on line "
                    f"{positions[(sku, position)]}"
                )
            positions[(sku, position)] = line
        if outside:
            continue
        row = ManifestRow(line=line, sku=sku, fields=fields, filename=filename,
                          position=position)
        if filename:
            by_filename.setdefault(filename.replace("\\", "/").lower(), row)
        rows.append(row)
    if invalid:
        stored = set(stored_skus(list(invalid))) if stored_skus is not None else set()
        errors.extend(f"line {n}: SKU {sku!r} is not valid: {SKU_RULE.rstrip('.')}"
                      for sku, lines in invalid.items() if sku not in stored for n in lines)
        errors.sort(key=_line_of)  # stable: a line's faults keep their order
    if errors:
        raise lines_refused("manifest", errors)
    if not rows:
        raise ManifestError("The manifest has a header but no rows.")
    for sku in products:
        product_lines.setdefault(sku, first_line[sku])
    return Manifest(rows=rows, products=products, by_filename=by_filename, name=name,
                    product_lines=product_lines, field_lines=field_lines)


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

"""``manifest.csv`` rows for exports, and CSV formula-injection escaping.

Every CSV the app writes must pass its text cells through :func:`csv_safe`: a cell starting with
``=``, ``+``, ``-``, ``@``, tab or carriage return is run as a formula by Excel/LibreOffice/
Google Sheets (OWASP "CSV Injection"). Such cells get a leading apostrophe, which spreadsheets
display as text and which :func:`csv_unescape` removes again.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Mapping

#: characters that make a spreadsheet treat a cell as a formula (plus full-width variants)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

MANIFEST_COLUMNS = (
    "sku",
    "gtin",
    "asin",
    "preset",
    "file",
    "width",
    "height",
    "bytes",
    "sha256",
    "compliance",
)


def csv_safe(value: object) -> str:
    """Text for a CSV cell that no spreadsheet will evaluate as a formula.

    ``None`` becomes ``""``; ints/floats/bools are written as-is (``-5`` stays a number);
    any other value is converted with ``str`` and prefixed with ``'`` if it starts with a
    formula character.
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
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


def manifest_row(
    *,
    sku: str | None,
    preset: str,
    file: str,
    data: bytes | None = None,
    width: int | None = None,
    height: int | None = None,
    size_bytes: int | None = None,
    sha256: str | None = None,
    compliance: object = "",
    gtin: str | None = None,
    asin: str | None = None,
) -> dict[str, str]:
    """One escaped manifest row (a dict keyed by :data:`MANIFEST_COLUMNS`).

    Give ``data`` to have ``bytes`` and ``sha256`` computed; ``compliance`` may be a
    :class:`~cutouts.variants.compliance.ComplianceResult` (its ``summary()`` is used) or text
    (e.g. ``"not exported (dry run)"``).
    """
    if data is not None:
        size_bytes = len(data) if size_bytes is None else size_bytes
        sha256 = hashlib.sha256(data).hexdigest() if sha256 is None else sha256
    summary = compliance.summary() if hasattr(compliance, "summary") else compliance
    row = {
        "sku": sku,
        "gtin": gtin,
        "asin": asin,
        "preset": preset,
        "file": file,
        "width": width,
        "height": height,
        "bytes": size_bytes,
        "sha256": sha256,
        "compliance": summary,
    }
    return {key: csv_safe(row[key]) for key in MANIFEST_COLUMNS}


def write_manifest(out, rows: Iterable[Mapping[str, str]]) -> None:
    """Write a header and ``rows`` (from :func:`manifest_row`) to the text stream ``out``."""
    writer = csv.DictWriter(out, fieldnames=MANIFEST_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_safe(csv_unescape(str(row.get(key, "")))) for key in
                         MANIFEST_COLUMNS})


def manifest_csv(rows: Iterable[Mapping[str, str]]) -> bytes:
    """The whole manifest as UTF-8 bytes (with BOM so Excel detects the encoding)."""
    buf = io.StringIO()
    write_manifest(buf, rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")

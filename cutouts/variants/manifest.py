"""``manifest.csv`` rows for exports.

Every cell passes through :func:`catalog.ingest.manifest.csv_safe`, the app's one CSV
formula-injection escape (a pure module: variants may import it, catalog never imports back).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Mapping
from typing import TextIO

from catalog.ingest.manifest import csv_safe, csv_unescape

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
    # appended (2026-12-02) so readers of the older columns by position keep working: which
    # image of the product a row is, as the catalog names it, and the image's id
    "position",
    "asset_id",
    # appended (2026-12-03): the name the variant has, or would have had, in the export.
    # ``file`` (and width, height, bytes, sha256) stay empty on a row whose file is not in
    # it (excluded): a reader going by ``file`` never looks for a file that was not written.
    "planned_file",
)


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
    position: str | None = None,
    asset_id: int | None = None,
    included: bool = True,
) -> dict[str, str]:
    """One escaped manifest row (a dict keyed by :data:`MANIFEST_COLUMNS`).

    Give ``data`` to have ``bytes`` and ``sha256`` computed; ``compliance`` may be a
    :class:`~cutouts.variants.compliance.ComplianceResult` (its ``summary()`` is used) or text
    (e.g. ``"not exported (dry run)"``). ``included=False``: the file is not in the export
    (excluded), so ``file``, ``width``, ``height``, ``bytes`` and ``sha256`` are left empty
    and only ``planned_file`` names it (a rendered-then-excluded file has a hash, but no file
    of that hash was written).
    """
    planned = file
    if not included:
        file, data, width, height, size_bytes, sha256 = "", None, None, None, None, None
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
        "position": position,
        "asset_id": asset_id,
        "planned_file": planned,
    }
    return {key: csv_safe(row[key]) for key in MANIFEST_COLUMNS}


def write_manifest(out: TextIO, rows: Iterable[Mapping[str, str]]) -> None:
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

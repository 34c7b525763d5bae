"""``manifest.csv`` rows for exports.

Every cell passes through :func:`catalog.ingest.manifest.csv_safe`, the app's one CSV
formula-injection escape (a pure module: variants may import it, catalog never imports back).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Mapping
from enum import StrEnum
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


class ManifestStatus(StrEnum):
    """An export manifest row's outcome as a code (its ``status`` column, 2026-12-05), beside
    the ``compliance`` text for people: a reader decides by the code, so the text can be
    reworded. A closed set: a dry run's rows say what the export would do."""

    #: in the export (a dry run: would be), passes the preset's checks
    OK = "ok"
    #: in the export, passes with warnings
    OK_WARNINGS = "ok_warnings"
    #: in the export although it fails its checks (``include_failing``)
    FAILED_INCLUDED = "failed_included"
    #: left out: fails its checks
    FAILED = "failed"
    #: left out with no verdict: it cannot be named or rendered, or its cutout is gone
    NOT_EXPORTED = "not_exported"
    #: the image has no approved cutout: no file was planned for it
    NOT_APPROVED = "not_approved"
    #: a dry run's file not rendered yet: the export would render and check it
    UNCHECKED = "unchecked"


def verdict_status(*, passed: bool, warned: bool, included: bool) -> ManifestStatus:
    """The code of a row judged by its preset's checks (rendered, cached or foreseen from
    the layout): ``included`` is whether the file goes (would go) into the export."""
    if not passed:
        return ManifestStatus.FAILED_INCLUDED if included else ManifestStatus.FAILED
    return ManifestStatus.OK_WARNINGS if warned else ManifestStatus.OK


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

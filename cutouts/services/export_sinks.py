"""Where an export's files go (a streamed ZIP or a storage folder) and its manifest rows."""

from __future__ import annotations

import csv
import io
import logging
import shutil
import tempfile
import time
import zipfile
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import storages

from .. import variants
from ..errors import ExportError
from ..models import ExportJob
from ..selectors.export import NotApprovedRow, PlannedItem
from .renditions import RenditionOutput

logger = logging.getLogger(__name__)


class ZipSink:
    """The export as one ZIP, streamed entry by entry into a temporary file."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        # Images are already compressed: storing them costs no space and saves the CPU.
        self.zip = zipfile.ZipFile(self.file, "w", compression=zipfile.ZIP_STORED,
                                   allowZip64=True)

    @staticmethod
    def _info(path: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(path, date_time=time.localtime()[:6])
        info.external_attr = 0o644 << 16  # else unzip creates files nobody can read
        return info

    def write(self, path: str, data: bytes) -> None:
        self.zip.writestr(self._info(path), data)

    def finish(self, manifest) -> None:
        info = self._info("manifest.csv")
        info.compress_type = zipfile.ZIP_DEFLATED
        manifest.seek(0)
        with self.zip.open(info, "w", force_zip64=True) as dst:
            shutil.copyfileobj(manifest, dst, 1 << 20)
        self.zip.close()
        self.file.seek(0)

    def close(self) -> None:
        # An export that failed before finish() still has the ZipFile open; closing it first
        # (its central directory goes to the doomed temp file) keeps ZipFile.__del__ from
        # seeking the closed file later.
        if self.zip.fp is not None:
            self.zip.close()
        self.file.close()


class FolderSink:
    """The export as files in a folder of export storage, manifest last."""

    def __init__(self, folder: str, *, resumed: bool = False):
        self.folder = folder
        self.storage = storages["exports"]
        self.saved: list[str] = []
        # A resumed run rewrites what the dead run already wrote, so each file exists once.
        self.resumed = resumed

    def write(self, path: str, data: bytes) -> None:
        wanted = f"{self.folder}/{path}"
        if self.resumed and self.storage.exists(wanted):
            self.storage.delete(wanted)
        name = self.storage.save(wanted, ContentFile(data, name=wanted))
        self.saved.append(name)
        if name != wanted:
            raise ExportError(f"{wanted} already exists in export storage (saved as {name}).")

    def discard(self) -> None:
        for name in self.saved:
            try:
                self.storage.delete(name)
            except Exception:
                logger.warning("could not delete partial export file %s", name, exc_info=True)


#: an export's manifest.csv columns: the variants package's, then (appended 2026-12-03, so
#: readers by position keep working) ``spec``, the spec string each row was rendered with: a
#: custom spec's folder is only ``spec-<hash>``, and this is how a reader matches it back; then
#: (appended 2026-12-05) ``status``, the row's outcome as a ``variants.ManifestStatus`` code,
#: which readers decide by (``compliance`` is the same outcome in words, for people)
EXPORT_MANIFEST_COLUMNS = (*variants.MANIFEST_COLUMNS, "spec", "status")


def manifest_writer(fh):
    """A CSV writer of the manifest over binary ``fh`` (UTF-8 with BOM, header written)."""
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=True)
    text.write("\ufeff")  # Excel needs the BOM to read UTF-8
    writer = csv.DictWriter(text, fieldnames=EXPORT_MANIFEST_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    return text, writer


def _row(status: variants.ManifestStatus, **fields: Any) -> dict:
    """``variants.manifest_row`` with its ``status`` code: every row the export writes has
    one, set with its text (the two say the same outcome)."""
    row = variants.manifest_row(**fields)
    row["status"] = str(status)
    return row


def manifest_row_not_approved(*, row: NotApprovedRow, preset: variants.Preset) -> dict:
    """The manifest row of a selected image the export leaves out for want of an approved
    cutout: no file, its reason in ``compliance`` (``not approved: awaiting review``), so a
    team reconciling the manifest against its SKU list finds every image it asked for."""
    out = _row(variants.ManifestStatus.NOT_APPROVED,
               sku=row.sku, gtin=row.gtin or None, asin=row.asin or None,
               preset=preset.name, file="", compliance=f"not approved: {row.reason}",
               position=row.position, asset_id=row.asset_id, included=False)
    out["spec"] = variants.csv_safe(preset.spec)
    return out


def manifest_row_for(job: ExportJob, item: PlannedItem, out: RenditionOutput | None,
                     foreseen: tuple[str, bool] | None = None,
                     noted: Sequence[str] = ()) -> tuple[dict, bool]:
    """The manifest row for a planned file and whether the file goes into the export. A row
    whose file is not in the export (excluded; in a dry run, one that would be) names it
    only in ``planned_file``, with no size or hash: see ``variants.manifest_row``.
    ``foreseen``: what a dry run foresees the real run refusing of a file it did not render
    (``_foresee`` of export_jobs: why, and whether ``include_failing`` still ships it).
    ``noted``: warnings the file ships with that its check cannot see in its pixels, from the
    cutout's stored signals (``export_jobs.stored_warnings``: a shadow under a stray part),
    added to a passing file's warnings as its check's own are."""
    status = variants.ManifestStatus
    base: dict[str, Any] = {"sku": item.sku, "gtin": item.gtin or None, "asin": item.asin or None,
            "preset": item.preset, "file": item.path}
    if item.error:
        return _row(status.NOT_EXPORTED, **base, compliance=f"not exported: {item.error}",
                    included=False), False
    if out is None or not out.fields:
        if job.dry_run and foreseen is not None:
            why, failing = foreseen
            shipped = failing and job.include_failing
            code = (variants.verdict_status(passed=False, warned=False, included=shipped)
                    if failing else status.NOT_EXPORTED)
            would = "would be exported despite" if shipped else "would not be exported"
            return _row(code, **base, compliance=f"dry run: {would}: {why}"), False
        if job.dry_run:
            return _row(status.UNCHECKED, **base,
                        compliance="dry run: would be rendered"), False
        reason = out.error if out is not None else "cutout no longer available"
        return _row(status.NOT_EXPORTED, **base, compliance=f"not exported: {reason}",
                    included=False), False
    f = out.fields
    summary = f["compliance"].get("summary", "ok" if f["compliance_ok"] else "failed")
    warnings = [*(f["compliance"].get("warnings") or []), *noted]
    if noted and out.ok:
        # a passing file's summary with the stored warnings added, in the one wording
        # (``ComplianceResult.summary``) its check's own are given
        summary = variants.ComplianceResult(warnings=warnings).summary()
    include = out.ok or job.include_failing
    if job.dry_run:
        # a stored verdict not judged again is said so, never passed off as one
        cached = f", {out.provisional}: re-checked on export" if out.provisional else ""
        summary = f"dry run (cached{cached}): {summary}"
    elif not out.ok:
        summary = (f"exported despite: {summary}" if job.include_failing
                   else f"not exported: {summary}")
    code = variants.verdict_status(passed=out.ok, warned=bool(warnings),
                                   included=include)
    # a dry run writes nothing: its rows say what the export would be, so those it would
    # leave out read as excluded rows do
    row = _row(code, **base, width=f["width"], height=f["height"], size_bytes=f["bytes"],
               sha256=f["sha256"], compliance=summary, included=include)
    return row, include and not job.dry_run

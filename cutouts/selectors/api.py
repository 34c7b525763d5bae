"""Reads the REST API needs beyond the UI's: keyset-paginated cutout and export lists with
filters, the manifest as typed rows, and why an export has no file to download."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from catalog.paging import Page, newest_first

from ..models import CUTOUT_LIVE, Cutout, CutoutBatch, ExportJob, JobStatus, ReviewStatus
from .export import export_job_results, products_by_sku
from .jobs import cutout_batches_counted
from .review import cutouts_with_preflag

#: A version an approval replaced: approved once but another version is the image's current
#: one now, or answered by another version's approval or choice (``superseded``). The review
#: queue and export never show these; the API lists them only when asked.
REPLACED_VERSION = Q(is_current=False,
                     review_status__in=[ReviewStatus.APPROVED, ReviewStatus.SUPERSEDED])


def cutout_page(*, status: str = "", review_status: str = "", preflag: str = "",
                min_risk: float | None = None, product_sku: str = "", batch_id: int | None = None,
                image_id: int | None = None, include_superseded: bool = False,
                before: int | None = None, size: int = 50) -> Page[Cutout]:
    """Cutouts of live images, newest first, keyset on the id (deep pages cost what page 1
    costs). One query, whatever the page size. Versions an approval replaced are left out
    unless ``include_superseded`` (or ``review_status`` asks for superseded ones): without
    that, ``review_status=approved`` listed every version ever approved, not the one each
    image shows and export ships."""
    rows: QuerySet[Cutout] = Cutout.objects.filter(CUTOUT_LIVE).select_related(
        "asset", "asset__product")
    if not include_superseded and review_status != ReviewStatus.SUPERSEDED:
        rows = rows.exclude(REPLACED_VERSION)
    if status:
        rows = rows.filter(status=status)
    if review_status:
        rows = rows.filter(review_status=review_status)
    if preflag:
        rows = cutouts_with_preflag(rows, preflag=preflag)
    if min_risk is not None:
        rows = rows.filter(risk__gte=min_risk)
    if product_sku:
        # as every other SKU input: exactly, else ignoring case (never a guess among twins)
        rows = rows.filter(asset__product_id__in=products_by_sku(skus=[product_sku]).product_ids)
    if batch_id:
        rows = rows.filter(batch_id=batch_id)
    if image_id:
        rows = rows.filter(asset_id=image_id)
    return newest_first(rows, before=before, size=size)


def cutout_get(*, pk: int) -> Cutout:
    """A cutout of a live image; raises Cutout.DoesNotExist."""
    return Cutout.objects.select_related("asset", "asset__product").get(CUTOUT_LIVE, pk=pk)


def export_page(*, status: str = "", dry_run: bool | None = None, before: int | None = None,
                size: int = 50) -> Page[ExportJob]:
    """Export jobs, newest first, keyset on the id."""
    rows: QuerySet[ExportJob] = ExportJob.objects.all()
    if status:
        rows = rows.filter(status=status)
    if dry_run is not None:
        rows = rows.filter(dry_run=dry_run)
    return newest_first(rows, before=before, size=size)


def batch_page(*, status: str = "", before: int | None = None, size: int = 50
               ) -> Page[CutoutBatch]:
    """Cutout batches, newest first, keyset on the id, with their cutouts counted for the
    whole page in one query (``cutout_batches_counted``): two queries, whatever the size."""
    rows: QuerySet[CutoutBatch] = CutoutBatch.objects.all()
    if status:
        rows = rows.filter(status=status)
    page = newest_first(rows, before=before, size=size)
    cutout_batches_counted(page.items)
    return page


#: manifest columns that hold numbers; the CSV has them as text, "" when nothing was rendered
#: (and the image's id, a number here as it is everywhere else in the API)
MANIFEST_NUMBERS = ("width", "height", "bytes", "asset_id")


def export_manifest_rows(*, job: ExportJob, limit: int = 500) -> list[dict]:
    """The first ``limit`` manifest rows with the numeric columns as ints (None when the
    variant was not rendered: a dry run, or excluded before rendering)."""
    rows, _ = export_job_results(job=job, limit=limit)
    for row in rows:
        for key in MANIFEST_NUMBERS:
            value = (row.get(key) or "").strip()
            row[key] = int(value) if value.isdigit() else None
    return rows


def export_file_missing_reason(*, job: ExportJob, file: str) -> str:
    """Why ``job`` has no ``file`` ("zip" or "manifest") to download, for a 404 that says
    whether waiting helps."""
    what = "manifest" if file == "manifest" else "ZIP"
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return (f"Export {job.pk} is still {job.get_status_display().lower()}; its {what} "
                "is there once it is done.")
    if job.status == JobStatus.CANCELLED:
        return f"Export {job.pk} was cancelled, so nothing was written: there is no {what}."
    if job.status == JobStatus.FAILED:
        return f"Export {job.pk} failed, so there is no {what}: {job.message}".rstrip(": ")
    if file == "manifest":
        return f"Export {job.pk} has no manifest."
    if job.dry_run:
        return (f"Export {job.pk} was a dry run: nothing was written, so there is no ZIP; "
                "its manifest lists what would be exported.")
    if job.destination == ExportJob.Destination.FOLDER:
        return (f"Export {job.pk} was written to the folder {job.folder!r} in export storage, "
                "not to a ZIP; the manifest is there too.")
    if not job.exported_count:
        return (f"Export {job.pk} wrote no files, so there is no ZIP; its manifest says why "
                "each variant was excluded.")
    return f"Export {job.pk} has no ZIP."

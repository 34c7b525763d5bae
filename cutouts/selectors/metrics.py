"""Reads behind /metrics (config.metrics): cutout throughput, job rows by status, queue age."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Min

from catalog.selectors import status_counts

from ..models import Cutout, CutoutBatch, ExportJob, JobStatus


def cutouts_finished_since(*, since: datetime) -> dict[str, int]:
    """Cutouts finished (done or failed) since ``since``, by status."""
    return status_counts(Cutout.objects.filter(
        status__in=[JobStatus.DONE, JobStatus.FAILED], finished_at__gte=since))


def cutout_status_counts() -> dict[str, int]:
    return status_counts(Cutout.objects.all())


def cutouts_active_by_queue() -> list[tuple[str, str, int]]:
    """(queue, status, count) of cutouts queued or running."""
    rows = (Cutout.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
            .values("queue", "status").annotate(n=Count("pk")).order_by())
    return [(row["queue"], row["status"], row["n"]) for row in rows]


def cutout_oldest_queued_at() -> datetime | None:
    return Cutout.objects.filter(status=JobStatus.QUEUED).aggregate(t=Min("enqueued_at"))["t"]


def cutout_batch_status_counts() -> dict[str, int]:
    return status_counts(CutoutBatch.objects.all())


def export_job_status_counts() -> dict[str, int]:
    return status_counts(ExportJob.objects.all())

"""What a job page says when no worker has reported on a running job for longer than a live
worker allows (``catalog.jobs.job_worker_silent``)."""

from django import template

from catalog.jobs import job_worker_silent

register = template.Library()


@register.filter
def worker_silent_note(row) -> str:
    """"" for a job some worker is running (or one that ended)."""
    silent = job_worker_silent(row)
    if silent is None:
        return ""
    minutes = max(1, int(silent.total_seconds() // 60))
    return (f"No worker has reported on this for {minutes} min — is a worker running? "
            "It resumes once one is back.")


@register.filter
def batch_worker_silent_note(batch) -> str:
    """The note for a batch whose running cutouts nothing reports on (the oldest of them)."""
    from cutouts.models import Cutout, JobStatus

    oldest = (Cutout.objects.filter(batch=batch, status=JobStatus.RUNNING)
              .order_by("heartbeat_at").only("status", "heartbeat_at", "started_at").first())
    return worker_silent_note(oldest) if oldest is not None else ""

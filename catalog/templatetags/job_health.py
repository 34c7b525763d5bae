"""What a job page says when no worker has reported on a running job for longer than a live
worker allows (``catalog.jobs.job_worker_silent``)."""

from django import template

from catalog.jobs import job_worker_silent

register = template.Library()


@register.filter
def worker_silent_note(row) -> str:
    """"" for a job some worker is running, one that ended, or None."""
    silent = job_worker_silent(row) if row is not None else None
    if silent is None:
        return ""
    minutes = max(1, int(silent.total_seconds() // 60))
    return (f"No worker has reported on this for {minutes} min — is a worker running? "
            "It resumes once one is back.")


"""The only place cutouts services send Celery tasks; task modules are imported late."""

from __future__ import annotations

from django.db import transaction

# Tasks import services and services import this module, so the task module is imported inside
# each function: no import cycle. Sends happen after commit, except for the reconciler, which
# runs outside any transaction.


def _tasks():
    from . import tasks

    return tasks


def worker_ping(ping_id: int) -> None:
    """Send a ping to any worker once the row is committed."""
    transaction.on_commit(lambda: _tasks().worker_ping_task.delay(ping_id))


def cutout_runs_send(cutout_ids: list[int]) -> None:
    """Send one run message per cutout now, on its queue with its time limits."""
    from .models import Cutout

    task = _tasks().cutout_run_task
    rows = Cutout.objects.filter(pk__in=cutout_ids).values_list("pk", "queue", "time_limit")
    for pk, queue, hard in rows:
        task.apply_async((pk,), queue=queue, soft_time_limit=hard - 30, time_limit=hard)


def cutout_runs(cutout_ids: list[int]) -> None:
    """Send the run messages once the rows are committed (a worker must find them)."""
    # Late lookup of cutout_runs_send: tests and tools swap the sender for another broker.
    transaction.on_commit(lambda: cutout_runs_send(cutout_ids))


def export_jobs_send(job_ids: list[int]) -> None:
    """Send one run message per export job now."""
    task = _tasks().export_job_run_task
    for pk in job_ids:
        task.delay(pk)


def export_job(job_id: int) -> None:
    """Send the export job's run message once its row is committed."""
    transaction.on_commit(lambda: _tasks().export_job_run_task.delay(job_id))

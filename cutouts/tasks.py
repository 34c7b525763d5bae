"""Thin Celery tasks: ids in, re-fetch, call a service; Celery's time limits are caught here."""

import logging
import os

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init

from catalog import jobs

from .errors import TransientError
from .services import export_jobs, notifications, runs

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=30, time_limit=60)
def worker_ping_task(ping_id: int) -> None:
    notifications.worker_ping_answer(ping_id=ping_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def cutout_run_task(self, cutout_id: int) -> str:
    # No status read first: the run's compare-and-set claim already skips a row that is
    # missing, final or another run's, in the same one query.
    worker = f"{self.request.hostname or 'worker'}:{os.getpid()}"
    try:
        return runs.cutout_run(cutout_id=cutout_id, worker=worker,
                               interrupts=(SoftTimeLimitExceeded,))
    except TransientError as exc:
        # Exponential backoff; the row went back to queued so the reconciler also sees it.
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries))
    except SoftTimeLimitExceeded:
        runs.cutout_fail_timeout(cutout_id=cutout_id,
                                 seconds=int(self.request.timelimit[1] or 0))
        return "failed"


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300)
def cutouts_reconcile_task() -> dict:
    # The old name, kept for messages already queued: the one reconciler covers every kind.
    return jobs.jobs_reconcile()


@worker_init.connect
def _remember_concurrency(sender=None, **kwargs):
    # Each pool process sizes its onnxruntime thread pool from this (cores ÷ concurrency).
    os.environ["CUTROOM_WORKER_CONCURRENCY"] = str(getattr(sender, "concurrency", 1) or 1)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=export_jobs.EXPORT_TIME_LIMIT,
             time_limit=export_jobs.EXPORT_TIME_LIMIT + 60)
def export_job_run_task(self, job_id: int) -> str:
    if export_jobs.export_job_is_final(job_id=job_id):
        return "skipped"
    token = export_jobs.export_job_claim(job_id=job_id,
                                         worker=jobs.worker_name(self.request.hostname or None))
    if token is None:
        return "skipped"
    report: dict = {}
    try:
        return export_jobs.export_job_run(job_id=job_id, run_token=token,
                                          interrupts=(SoftTimeLimitExceeded,), report=report)
    except SoftTimeLimitExceeded:
        return export_jobs.export_job_fail(job_id=job_id, run_token=token,
                                           message=export_jobs.EXPORT_TIMEOUT_MESSAGE,
                                           report=report)

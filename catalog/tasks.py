"""Thin Celery tasks of the catalog app (imports, products bulk edits) and the one job
reconciler."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from django.conf import settings

from . import jobs
from .services import import_runner, imports, product_bulk

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=settings.CUTROOM_IMPORT_TIME_LIMIT - 60,
             time_limit=settings.CUTROOM_IMPORT_TIME_LIMIT)
def import_job_run_task(self, job_id: int) -> None:
    # The service claims the job with a compare-and-set, so a redelivery returns at once.
    try:
        import_runner.import_job_run(
            job_id=job_id, worker=jobs.worker_name(self.request.hostname or None),
            interrupts=(SoftTimeLimitExceeded,))
    except SoftTimeLimitExceeded:
        # The run saved its counters before letting the time limit through.
        imports.import_job_fail(job_id=job_id, message=(
            f"The import took longer than allowed ({settings.CUTROOM_IMPORT_TIME_LIMIT // 60} "
            "min); what was imported stays. Split the rest into smaller archives."))


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=product_bulk.RUN_TIME_LIMIT - 60,
             time_limit=product_bulk.RUN_TIME_LIMIT)
def product_bulk_edit_run_task(self, job_id: int) -> None:
    # The service claims the job with a compare-and-set, so a redelivery returns at once.
    try:
        product_bulk.product_bulk_edit_run(
            job_id=job_id, worker=jobs.worker_name(self.request.hostname or None),
            interrupts=(SoftTimeLimitExceeded,))
    except SoftTimeLimitExceeded:
        # The chunk it was on rolled back; the chunks before it stay applied.
        product_bulk.product_bulk_edit_fail(job_id=job_id, message=(
            f"The bulk edit took longer than allowed ({product_bulk.RUN_TIME_LIMIT // 60} "
            "min)."))


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300)
def jobs_reconcile_task() -> dict:
    return jobs.jobs_reconcile()


@worker_ready.connect
def _reconcile_on_start(sender=None, **kwargs):
    # Runs this hostname left running before a crash or restart cannot still be running.
    try:
        result = jobs.jobs_reconcile(worker_hostname=getattr(sender, "hostname", None))
        logger.info("start-up reconcile: %s", result)
    except Exception:
        logger.exception("start-up reconcile failed")


# Webhook delivery tasks live beside the webhook services; imported here so workers find them.
from .webhook_tasks import webhook_delivery_task, webhooks_resend_due_task  # noqa: E402, F401

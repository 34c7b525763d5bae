"""Thin Celery tasks for webhook deliveries and API upkeep (imported by catalog.tasks so
workers find them)."""

from celery import shared_task

from . import webhooks
from .services import api_keys as apikeys


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             soft_time_limit=60, time_limit=90)
def webhook_delivery_task(delivery_id: int) -> str:
    # The service claims the row with a compare-and-set: a duplicate message returns at once.
    return webhooks.delivery_attempt(delivery_id=delivery_id)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def webhooks_resend_due_task() -> int:
    apikeys.idempotency_purge()
    return webhooks.deliveries_resend_due()

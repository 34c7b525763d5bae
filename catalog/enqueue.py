"""The only place catalog services send Celery tasks (import runs, products bulk edits,
webhook deliveries).

Tasks import services and services import this module, so the task modules are imported
inside each function: importing them here at module level would close the loop.
"""

from __future__ import annotations

from django.db import transaction


def import_job_enqueue(job_id: int) -> None:
    """Queue the run of an import job once the transaction that created it commits."""
    from .tasks import import_job_run_task

    transaction.on_commit(lambda: import_job_run_task.delay(job_id))


def import_jobs_send(job_ids: list[int]) -> None:
    """Send run messages now (the reconciler re-sending jobs whose message was lost)."""
    from .tasks import import_job_run_task

    for pk in job_ids:
        import_job_run_task.delay(pk)


def product_bulk_edit_enqueue(job_id: int) -> None:
    """Queue the run of a products bulk edit once the transaction that created it commits."""
    from .tasks import product_bulk_edit_run_task

    transaction.on_commit(lambda: product_bulk_edit_run_task.delay(job_id))


def product_bulk_edits_send(job_ids: list[int]) -> None:
    """Send bulk-edit run messages now (the reconciler re-sending lost or dead runs)."""
    from .tasks import product_bulk_edit_run_task

    for pk in job_ids:
        product_bulk_edit_run_task.delay(pk)


def webhook_deliveries_send(delivery_ids: list[int], *, countdown: float = 0) -> None:
    """Send delivery messages now (callers already run after their transaction commits)."""
    from .webhook_tasks import webhook_delivery_task

    for pk in delivery_ids:
        if countdown:
            webhook_delivery_task.apply_async((pk,), countdown=countdown)
        else:
            webhook_delivery_task.delay(pk)


def webhook_delivery_enqueue(delivery_id: int, *, countdown: float = 0) -> None:
    """Send one delivery's message once the current transaction commits."""
    transaction.on_commit(
        lambda: webhook_deliveries_send([delivery_id], countdown=countdown))


def webhook_deliveries_enqueue(delivery_ids: list[int]) -> None:
    """Send delivery messages once the current transaction commits (a subscription enabled
    again, failed deliveries sent again)."""
    ids = list(delivery_ids)
    transaction.on_commit(lambda: webhook_deliveries_send(ids))

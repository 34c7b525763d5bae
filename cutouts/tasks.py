from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def worker_ping_task(ping_id: int) -> None:
    services.worker_ping_answer(ping_id=ping_id)

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_job_run_task(job_id: int) -> None:
    # The service claims the job with a compare-and-set, so a redelivery returns at once.
    services.import_job_run(job_id=job_id)

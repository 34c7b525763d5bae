import os
import socket

from django.db import transaction
from django.utils import timezone

from .models import WorkerPing


@transaction.atomic
def worker_ping_create(*, user=None) -> WorkerPing:
    from .tasks import worker_ping_task

    ping = WorkerPing.objects.create(requested_by=user if user and user.is_authenticated else None)
    transaction.on_commit(lambda: worker_ping_task.delay(ping.pk))
    return ping


def worker_ping_answer(*, ping_id: int) -> bool:
    """Record which process answered; compare-and-set so a redelivery does not overwrite."""
    return bool(
        WorkerPing.objects.filter(pk=ping_id, answered_at__isnull=True).update(
            answered_at=timezone.now(),
            worker_hostname=socket.gethostname(),
            worker_pid=os.getpid(),
            worker_ppid=os.getppid(),
        )
    )

from .models import WorkerPing


def worker_ping_recent(*, limit: int = 5) -> list[WorkerPing]:
    return list(WorkerPing.objects.order_by("-requested_at")[:limit])

"""GET /metrics: Prometheus text exposition (format 0.0.4) for queue depth, cutout throughput
and failures, and job rows by status.

Protected by a bearer token from settings.METRICS_TOKEN (``Authorization: Bearer <token>``):
404 when no token is configured (the endpoint does not exist), 403 when the token is missing or
wrong. Every number is read from the broker or the database at scrape time, so any web process
answers the same for the whole deployment (several gunicorn workers, many worker machines).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
QUEUES = ("cutouts-interactive", "cutouts", "default", "webhooks")


class _Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(self, name: str, kind: str, help_text: str,
               samples: Iterable[tuple[dict[str, str], float]]) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            rendered = f"{name}{{{label_text}}}" if label_text else name
            self.lines.append(f"{rendered} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def queue_depths() -> dict[str, int] | None:
    """Messages waiting in each queue, read from the broker; None when it cannot be reached."""
    from kombu.exceptions import ChannelError

    from config.celery import app

    depths: dict[str, int] = {}
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
            channel = conn.default_channel
            for queue in QUEUES:
                try:
                    # (default_channel is typed as kombu's bare StdChannel; the transport's
                    # channel has the AMQP methods)
                    depths[queue] = channel.queue_declare(  # type: ignore[attr-defined]
                        queue=queue, passive=True).message_count
                except ChannelError:
                    depths[queue] = 0  # never declared / drained away: nothing waiting
    except Exception:
        logger.warning("metrics: broker unreachable", exc_info=True)
        return None
    return depths


def render_metrics() -> str:
    from catalog import selectors as catalog_selectors
    from cutouts.selectors import metrics as selectors

    started = time.perf_counter()
    out = _Exposition()
    now = timezone.now()

    depths = queue_depths()
    out.metric("cutroom_broker_up", "gauge", "1 when the broker answered this scrape.",
               [({}, depths is not None)])
    out.metric("cutroom_queue_depth", "gauge", "Messages waiting in the broker queue.",
               [({"queue": q}, n) for q, n in (depths or {}).items()])

    windows = []
    for label, seconds in (("1m", 60), ("5m", 300), ("1h", 3600)):
        counts = selectors.cutouts_finished_since(since=now - timedelta(seconds=seconds))
        for status in ("done", "failed"):
            windows.append(({"status": status, "window": label},
                            round(counts[status] * 60 / seconds, 3)))
    out.metric("cutroom_cutouts_finished_per_minute", "gauge",
               "Cutouts finished per minute, averaged over the window (done or failed).", windows)

    cutouts = selectors.cutout_status_counts()
    out.metric("cutroom_cutouts", "gauge", "Cutout rows by status.",
               [({"status": s}, n) for s, n in cutouts.items()])
    out.metric("cutroom_cutout_failures", "gauge",
               "Cutouts whose last run failed (retries and re-runs lower it).",
               [({}, cutouts["failed"])])
    out.metric("cutroom_cutouts_running_by_queue", "gauge", "Cutouts queued or running per queue.",
               [({"queue": queue, "status": status}, n)
                for queue, status, n in selectors.cutouts_active_by_queue()])
    oldest = selectors.cutout_oldest_queued_at()
    out.metric("cutroom_oldest_queued_cutout_age_seconds", "gauge",
               "Age of the oldest queued cutout (0 when nothing waits).",
               [({}, round((now - oldest).total_seconds(), 1) if oldest else 0)])

    out.metric("cutroom_cutout_batches", "gauge", "Cutout batches by status.",
               [({"status": s}, n) for s, n in selectors.cutout_batch_status_counts().items()])
    out.metric("cutroom_export_jobs", "gauge", "Export jobs by status.",
               [({"status": s}, n) for s, n in selectors.export_job_status_counts().items()])
    out.metric("cutroom_import_jobs", "gauge", "Import jobs by status.",
               [({"status": s}, n)
                for s, n in catalog_selectors.import_job_status_counts().items()])
    out.metric("cutroom_metrics_scrape_seconds", "gauge", "Time taken to compute this page.",
               [({}, round(time.perf_counter() - started, 4))])
    return out.text()


def _authorised(request: HttpRequest) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "") or ""
    if not token:
        raise Http404
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


@login_not_required  # machine-to-machine: the bearer token below is the only gate
@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE)

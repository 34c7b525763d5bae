"""The job machinery every job kind shares: claim, heartbeat, progress, finish and fail helpers
(compare-and-set on a run token) and the one reconciler that resumes or fails runs whose
worker died and re-sends messages a broker lost.

Each kind registers a ``JobKind`` (catalog registers imports; cutouts registers cutout runs,
batches and exports from its app config), so this module never imports ``cutouts``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection
from django.db.models import F, Q
from django.utils import timezone

from .models import JobStatus, RunState


def run_stage_label(stage: str, attempts: int) -> str:
    """A running job's stage as progress notes show it: a run after one that stopped (its
    worker killed or lost, a retry) says so, since its bar starts again from 0 (QA: a bar at
    36 % jumped back to "Reading the photo", 0 %, with no word)."""
    label = stage or "Starting"
    return f"{label} (started again, run {attempts})" if attempts > 1 else label

logger = logging.getLogger(__name__)


def worker_name(hostname: str | None = None) -> str:
    """``hostname:pid`` of this process; the reconciler matches a restarted worker's hostname."""
    return f"{hostname or socket.gethostname()}:{os.getpid()}"


def job_claim(model: type[RunState], pk: int, *, worker: str = "", **fields) -> str | None:
    """Compare-and-set queued -> running with a fresh token, or None if another run owns it
    (or it is final). ``attempts`` counts runs that started, not deliveries.

    A row still running under a process of this host that no longer exists (a pool child
    killed by the out-of-memory killer: Celery puts its message back at once) is that dead
    run's: it is requeued as the reconciler would (or failed after the last attempt) and
    claimed by this delivery, instead of waiting for the reconciler's grace period."""
    token = _claim_queued(model, pk, worker, fields)
    if token is None and _take_over_dead(model, pk):
        token = _claim_queued(model, pk, worker, fields)
    return token


def _claim_queued(model: type[RunState], pk: int, worker: str, fields: dict) -> str | None:
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = model.objects.filter(pk=pk, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, run_token=token, worker=(worker or worker_name())[:255],
        started_at=now, heartbeat_at=now, finished_at=None, attempts=F("attempts") + 1,
        **fields,
    )
    return token if claimed else None


def owner_dead_here(worker: str) -> bool:
    """True when ``worker`` (``[node@]hostname:pid``, as ``worker_name`` writes it for a
    Celery node name or a bare host) names a process of this host that no longer exists.
    Another host's processes are never judged from here; a pid this process may not signal
    exists, so it counts as alive."""
    node, _, pid = worker.rpartition(":")
    host = node.rpartition("@")[2]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _take_over_dead(model: type[RunState], pk: int) -> bool:
    """Requeue the row if it is running under a dead process of this host; True if it was."""
    row = model.objects.filter(pk=pk, status=JobStatus.RUNNING).first()
    if row is None or not owner_dead_here(row.worker):
        return False
    kind = next((k for k in _KINDS.values() if k.model is model and k.enqueue is not None),
                None)
    if kind is None or not kind.model.objects.filter(kind.scope, pk=pk).exists():
        return False
    outcome = _dead_run_reset(kind, row, timezone.now())
    if outcome is not None:
        logger.warning("%s %s: its worker %s is gone; %s", kind.name, pk, row.worker, outcome)
        if kind.on_change is not None:
            kind.on_change(pk)
    return outcome == "requeued"


def _owned(model: type[RunState], pk: int, token: str):
    return model.objects.filter(pk=pk, run_token=token, status=JobStatus.RUNNING)


def job_progress(model: type[RunState], pk: int, token: str, **fields) -> bool:
    """Record progress (any fields) and a heartbeat. False means the run lost the row
    (cancelled, or taken over after it was thought dead): stop at once."""
    return bool(_owned(model, pk, token).update(heartbeat_at=timezone.now(), **fields))


def job_finish(model: type[RunState], pk: int, token: str, *,
               status: str = JobStatus.DONE, **fields) -> bool:
    return bool(_owned(model, pk, token).update(
        status=status, finished_at=timezone.now(), heartbeat_at=timezone.now(), **fields))


def job_fail(model: type[RunState], pk: int, token: str | None, message: str, *,
             message_field: str = "message", attempts: int = 3, **fields) -> bool:
    """Mark the run failed with a reason. A full disk or a locked database can refuse even
    this write, so it is retried briefly; if it still fails the reconciler fails the row
    once the heartbeat is stale, so nothing stays running."""
    rows = model.objects.filter(pk=pk, status=JobStatus.RUNNING)
    if token is not None:
        rows = rows.filter(run_token=token)
    values = {"status": JobStatus.FAILED, "finished_at": timezone.now(),
              message_field: message[:1000], **fields}
    for attempt in range(attempts):
        try:
            return bool(rows.update(**values))
        except OperationalError:
            if attempt == attempts - 1:
                logger.exception("could not mark %s %s failed", model.__name__, pk)
                return False
            time.sleep(0.5 * (attempt + 1))
    return False


def job_release(model: type[RunState], pk: int, token: str, **fields) -> bool:
    """Give a running row back to the queue (a transient error; a retry follows)."""
    return bool(_owned(model, pk, token).update(status=JobStatus.QUEUED, run_token="",
                                                **fields))


def heartbeat_every() -> float:
    # A third of the grace: two missed beats still leave the run alive.
    return max(0.5, min(float(settings.CUTROOM_JOB_HEARTBEAT), settings.CUTROOM_RECONCILE_GRACE
                        / 3))


@contextmanager
def job_heartbeat(model: type[RunState], pk: int, token: str, *,
                  while_cancelled: bool = False):
    """Beat ``heartbeat_at`` from a thread while the body runs, so one slow step (a 100 MB
    TIFF, a big model pass) never looks like a dead worker. The thread stops when the row
    is no longer this run's. ``while_cancelled``: a cancelled row still carrying ``token``
    is still this run's (an import finishes its own cancel and clears the token; the
    reconciler finishes it only once the beats stop: ``import_cancelled_runs_finish``)."""
    stop = threading.Event()
    every = heartbeat_every()

    def alive() -> bool:
        if while_cancelled:
            return bool(model.objects.filter(
                pk=pk, run_token=token, status__in=[JobStatus.RUNNING, JobStatus.CANCELLED]
            ).update(heartbeat_at=timezone.now()))
        return job_progress(model, pk, token)

    def beat():
        try:
            while not stop.wait(every):
                try:
                    if not alive():
                        return
                except Exception:  # a locked or full database: try again next beat
                    logger.warning("heartbeat of %s %s failed", model.__name__, pk,
                                   exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{model.__name__}-{pk}",
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(every + 5)


# --- the reconciler -------------------------------------------------------------------------


#: The job model of one kind; its callbacks receive rows of that model.
M = TypeVar("M", bound=RunState)


@dataclass(frozen=True)
class JobKind(Generic[M]):
    """How the reconciler treats one job model."""

    name: str
    model: type[M]
    #: Send task messages for these ids (None: the kind has no task of its own).
    enqueue: Callable[[list[int]], None] | None
    #: Rows the reconciler may touch (e.g. not browser upload sessions, which have no task).
    scope: Q = field(default_factory=Q)
    message_field: str = "message"
    #: The queue a row's message goes to, and messages waiting per queue (None: unknown).
    queue_of: Callable[[M], str] = lambda row: "default"
    queue_depths: Callable[[list[str]], dict[str, int] | None] | None = None
    #: When a queued row was last sent; rows never re-sent fall back to this field.
    sent_field: str = "heartbeat_at"
    created_field: str = "created_at"
    #: Hard limit of one run in seconds (row -> seconds), a last resort beside the heartbeat.
    run_limit: Callable[[M], int] | None = None
    #: More fields the re-queue's compare-and-set writes (a dead run's progress bar), so a
    #: row is never seen queued with a dead run's leftovers.
    requeue_fields: Callable[[], dict[str, Any]] | None = None
    #: Called with the dead row after it is re-queued (discard partial outputs).
    on_requeue: Callable[[M], None] | None = None
    #: Called with the pk after the reconciler failed or re-queued rows (refresh parents).
    on_change: Callable[[int], None] | None = None
    #: Ends a run whose worker died on its last attempt, in place of the generic fail: called
    #: with the dead row and ``worker_died_text``; fails it by compare-and-set on
    #: ``row.run_token`` (``job_fail``) and, only when that write happened, says what the run
    #: was on, reports what it never reached and announces the end as the kind's own fail
    #: path does (so a duplicate reconcile sends nothing). Returns whether it failed the row.
    on_give_up: Callable[[M, str], bool] | None = None
    #: Extra sweeps of this kind (stale upload sessions, batches whose rows all finished).
    sweep: Callable[[], int] | None = None


_KINDS: dict[str, JobKind[Any]] = {}


def job_kind_register(kind: JobKind[Any]) -> None:
    _KINDS[kind.name] = kind


def job_kinds() -> dict[str, JobKind[Any]]:
    return dict(_KINDS)


def queue_depths(queues: list[str]) -> dict[str, int] | None:
    """Messages waiting per queue, or None when the broker cannot say."""
    from amqp.exceptions import ChannelError
    from celery import current_app

    depths = {}
    try:
        with current_app.connection_for_write() as conn:
            for queue in dict.fromkeys(queues):
                # A channel per queue: AMQP closes a channel whose passive declare failed.
                channel = conn.channel()
                try:
                    # (the stubs type conn.channel() as kombu's bare StdChannel; the
                    # transport's channel has the AMQP methods)
                    depths[queue] = channel.queue_declare(  # type: ignore[attr-defined]
                        queue=queue, passive=True).message_count
                except ChannelError as exc:
                    if getattr(exc, "code", None) != 404 and "NOT_FOUND" not in str(exc):
                        raise
                    # A queue the broker does not know (Redis restarted) holds nothing.
                    depths[queue] = 0
                finally:
                    with contextlib.suppress(Exception):
                        channel.close()  # type: ignore[attr-defined]
    except Exception:
        logger.warning("reconciler: cannot read queue depths", exc_info=True)
        return None
    return depths


def _dead_rows(kind: JobKind, now, grace: timedelta, hostname: str | None) -> list[RunState]:
    running = kind.model.objects.filter(kind.scope, status=JobStatus.RUNNING)
    stale = Q(heartbeat_at__lt=now - grace) | Q(heartbeat_at__isnull=True,
                                                 started_at__lt=now - grace)
    if hostname:
        stale |= Q(worker__startswith=f"{hostname}:")
    rows = list(running.filter(stale))
    if kind.run_limit is not None:
        seen = {r.pk for r in rows}
        rows += [r for r in running.exclude(pk__in=seen)
                 if r.started_at and r.started_at + timedelta(seconds=kind.run_limit(r))
                 + grace < now]
    return rows


def worker_died_text(attempts: int) -> str:
    """Why a run was given up: a kind's ``on_give_up`` adds what the run was on."""
    return (f"the worker running this stopped {attempts} times (killed, out of memory or "
            "restarted)")


def _dead_run_reset(kind: JobKind, row: RunState, now,
                    max_attempts: int | None = None) -> str | None:
    """Requeue one run whose worker died, or fail it once it has used its attempts: one
    compare-and-set on its token, so it happens once. 'requeued', 'failed', or None when
    the row moved on meanwhile."""
    if max_attempts is None:
        max_attempts = settings.CUTROOM_JOB_MAX_ATTEMPTS
    owned = kind.model.objects.filter(pk=row.pk, status=JobStatus.RUNNING,
                                      run_token=row.run_token)
    if row.attempts >= max_attempts:
        reason = worker_died_text(row.attempts)
        if kind.on_give_up is not None:
            return "failed" if kind.on_give_up(row, reason) else None
        message = f"{reason[:1].upper()}{reason[1:]}; giving up."
        if owned.update(status=JobStatus.FAILED, finished_at=now,
                        **{kind.message_field: message}):
            return "failed"
        return None
    extra = kind.requeue_fields() if kind.requeue_fields is not None else {}
    if owned.update(**{**extra, "status": JobStatus.QUEUED, "run_token": "",
                       kind.sent_field: now}):
        if kind.on_requeue is not None:
            kind.on_requeue(row)
        return "requeued"
    return None


def job_kind_reconcile(kind: JobKind, *, worker_hostname: str | None = None) -> dict[str, int]:
    """Resume or fail the runs of one kind whose worker died, exactly once each (one
    compare-and-set per row on its token), and re-send queued rows whose message is lost."""
    now = timezone.now()
    grace = timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE)
    max_attempts = settings.CUTROOM_JOB_MAX_ATTEMPTS
    result = {"running_reset": 0, "failed": 0, "resent": 0, "swept": 0}
    changed: set[int] = set()
    to_send: list[int] = []
    if kind.enqueue is not None:
        for row in _dead_rows(kind, now, grace, worker_hostname):
            outcome = _dead_run_reset(kind, row, now, max_attempts)
            if outcome == "failed":
                result["failed"] += 1
                changed.add(row.pk)
            elif outcome == "requeued":
                to_send.append(row.pk)
                changed.add(row.pk)
        result["running_reset"] = len(to_send)

        queued = list(kind.model.objects.filter(kind.scope, status=JobStatus.QUEUED).filter(
            Q(**{f"{kind.sent_field}__lt": now - grace})
            | Q(**{f"{kind.sent_field}__isnull": True, f"{kind.created_field}__lt": now - grace})
        ).exclude(pk__in=to_send)[:5000])
        if queued:
            depths = (kind.queue_depths or queue_depths)(
                sorted({kind.queue_of(r) for r in queued}))
            lost = [r.pk for r in queued
                    # Messages still waiting: nothing is provably lost yet.
                    if depths is not None and not depths.get(kind.queue_of(r), 0)]
            kind.model.objects.filter(pk__in=lost).update(**{kind.sent_field: now})
            result["resent"] = len(lost)
            to_send += lost
        if to_send:
            kind.enqueue(to_send)
    if kind.on_change is not None:
        for pk in sorted(changed):
            kind.on_change(pk)
    if kind.sweep is not None:
        result["swept"] = kind.sweep()
    if any(result.values()):
        logger.warning("reconciler: %s %s", kind.name, result)
    return result


def worker_silent_after() -> timedelta:
    """How long a running row can go without a heartbeat while some worker still runs jobs:
    its own run beats every ``heartbeat_every()``, and a reconciler (a task a worker runs
    every ``CUTROOM_RECONCILE_EVERY``) resets a dead run once it is ``GRACE`` stale. Older
    than this, neither its run nor any reconciler is alive: no worker (or no beat) is up."""
    return timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE
                     + 2 * settings.CUTROOM_RECONCILE_EVERY)


def job_worker_silent(row: RunState, *, now=None) -> timedelta | None:
    """How long nothing has reported on this running row, when that is past
    ``worker_silent_after()`` (no live worker can be behind it); else None."""
    if row.status != JobStatus.RUNNING:
        return None
    last = row.heartbeat_at or row.started_at
    silent = (now or timezone.now()) - last if last is not None else None
    return silent if silent is not None and silent > worker_silent_after() else None


def jobs_worker_silent(*, now=None) -> timedelta | None:
    """The longest a running job of a worker-run kind has gone unreported past
    ``worker_silent_after()``, or None: /healthz's sign that the workers are down. One
    indexed query per kind; an idle deployment (nothing running) reads None."""
    now = now or timezone.now()
    cutoff = now - worker_silent_after()
    oldest = None
    for kind in job_kinds().values():
        if kind.enqueue is None:
            continue
        last = (kind.model.objects.filter(kind.scope, status=JobStatus.RUNNING)
                .filter(Q(heartbeat_at__lt=cutoff)
                        | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
                .order_by("heartbeat_at").values_list("heartbeat_at", "started_at").first())
        if last is not None:
            at = last[0] or last[1]
            oldest = at if oldest is None or at < oldest else oldest
    return now - oldest if oldest is not None else None


def jobs_reconcile(*, worker_hostname: str | None = None) -> dict[str, dict[str, int]]:
    """The one reconciler: every registered kind, each isolated from the others' errors."""
    results = {}
    for name, kind in job_kinds().items():
        try:
            results[name] = job_kind_reconcile(kind, worker_hostname=worker_hostname)
        except Exception:
            logger.exception("reconciler: %s failed", name)
            close_old_connections()
    return results

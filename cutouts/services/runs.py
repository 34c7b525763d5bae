"""Running one cutout version (claim, compute, store, finish or fail) and its reconciler kind."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

import numpy as np
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from catalog import events, jobs
from catalog.models import ImageAsset
from catalog.selectors import asset_working_open

from .. import enqueue
from ..errors import NothingChangedError, PermanentError, TransientError, WorkingCopyError
from ..imaging.clock import NO_CLOCK, StageClock
from ..imaging.encode import decode_working_copy
from ..imaging.models import ModelError
from ..imaging.progress import READING, SAVING, span
from ..models import CUTOUT_STAGE_MAX, Cutout, CutoutBatch, CutoutQueue, JobStatus
from .batches import BATCH_KIND, GONE_ERROR, cutout_batch_refresh, cutout_queued_fields
from .lineage import cutouts_parents_give_back
from .outputs import (
    is_transient_storage_error,
    output_names,
    outputs_discard,
    outputs_discard_existing,
    outputs_store,
)
from .previews import cutout_previews_store, cutout_retouch_base_store, preview_premade_side
from .retouch import cutout_retouch_compute
from .review import preflags_from_signals
from .status import asset_status_sync, assets_lock

# Status changes are compare-and-set updates, so retries, duplicate deliveries and the reconciler
# can never produce two outputs for one cutout.

logger = logging.getLogger(__name__)


def _enqueue(cutout_ids: list[int]) -> None:
    enqueue.cutout_runs_send(cutout_ids)


def _claim(cutout_id: int, worker: str) -> str | None:
    # a retry starts its bar again (the claim is the run's first write: its first stage)
    return jobs.job_claim(Cutout, cutout_id, worker=worker, error="", stage=READING,
                          progress=0)


#: where the compute (pipeline or retouch, with its encode) starts and ends, as fractions of a
#: run: before it, reading and decoding the working copy (about a tenth at 24 MP, docs/
#: engine.md); after it, storing the files and the finish
AT_COMPUTE, AT_STORE = 0.10, 0.97
#: seconds between two writes of one stage's progress (a stage change is written at once):
#: half the pending notes' poll, so a model pass of under a second (two run back to back for
#: the flip) still moves the bar; 2-3 writes a second of about 2 ms each at most
PROGRESS_EVERY = 0.5


class RunProgress:
    """``on_progress(stage, fraction)`` of one run, written to its cutout row for the pending
    notes that poll it: compare-and-set on the run token (``jobs.job_progress``, which also
    beats the heartbeat), at once when the stage changes, else at most once per ``every``
    seconds, and never backwards. A write that fails (a locked or full database) or finds
    the row no longer this run's (cancelled, taken over) never fails the run: the note shows
    the last stage written, and the finish's own compare-and-set decides what the run is
    worth. After a lost row it writes nothing more."""

    def __init__(self, cutout_id: int, token: str, *, every: float = PROGRESS_EVERY,
                 now: Callable[[], float] = time.monotonic,
                 stage: str = READING, percent: int = 0) -> None:
        self.cutout_id, self.token, self.every, self._now = cutout_id, token, every, now
        # what the row says already (the claim wrote it)
        self.stage, self.percent, self.at = stage, percent, now()
        self.lost = False
        self.writes = 0
        #: (stage, percent) the throttle held back, written by the next write or ``flush``
        self.pending: tuple[str, int] | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        percent = min(100, max(self.percent, int(100 * fraction)))
        if self.lost or (stage == self.stage and percent == self.percent):
            return
        if stage == self.stage and self._now() - self.at < self.every:
            # kept, not dropped: the stage's last value is written by the next stage change or
            # ``flush`` (QA: a "Saving" 97 % within the second of 63 % was never written, and
            # the bar sat at 63 % through the storage write)
            self.pending = (stage, percent)
            return
        self._write(stage, percent)

    def flush(self) -> None:
        """Write the newest value the throttle held back (before a long step that reports
        nothing, such as the storage write)."""
        if self.pending is not None and not self.lost:
            self._write(*self.pending)

    def _write(self, stage: str, percent: int) -> None:
        self.stage, self.percent, self.at = stage, percent, self._now()
        self.pending = None
        self.writes += 1
        try:
            if not jobs.job_progress(Cutout, self.cutout_id, self.token,
                                     stage=stage[:CUTOUT_STAGE_MAX], progress=percent):
                self.lost = True
        except Exception:
            logger.warning("progress of cutout %s not written", self.cutout_id, exc_info=True)


def _batch_started(cutout: Cutout) -> None:
    """The first run of a batch starts it (compare-and-set: concurrent first runs are fine).
    ``cutout`` comes with its batch, so the later runs of a batch write nothing here."""
    if cutout.batch is not None and cutout.batch.status == JobStatus.QUEUED:
        now = timezone.now()
        CutoutBatch.objects.filter(pk=cutout.batch.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, started_at=now, heartbeat_at=now)


def _load_working_copy(asset: ImageAsset) -> np.ndarray:
    try:
        with asset_working_open(asset=asset) as fh:
            return decode_working_copy(fh)
    # a WorkingCopyError: the failure stores its kind, and the product page offers a rebuild
    except FileNotFoundError:
        raise WorkingCopyError("The working copy is missing from storage; a manager can "
                               "rebuild it from the original on the product page.")
    except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError) as exc:
        raise WorkingCopyError(f"The working copy cannot be decoded: {exc}")
    except (ConnectionError, TimeoutError) as exc:
        raise TransientError(f"Storage unavailable: {exc}")
    except OSError as exc:
        if is_transient_storage_error(exc):
            raise TransientError(f"Storage unavailable: {exc}")
        raise WorkingCopyError(f"The working copy cannot be decoded: {exc}")


def cutout_run(*, cutout_id: int, worker: str = "",
               interrupts: tuple[type[BaseException], ...] = (),
               clock: StageClock = NO_CLOCK) -> str:
    """Run one cutout. Returns 'done', 'failed', 'unchanged' (a retouch whose result is its
    parent's picture: ended cancelled, not failed), 'cancelled' (its image or product was
    deleted: nothing computed), 'skipped' (not ours to run) or raises
    TransientError after putting the row back to queued for a retry.

    An exception of ``interrupts`` (the task's time limit) is not handled here: the outputs
    saved so far are discarded and it propagates, so the caller can record why. ``clock``
    gets a lap per stage, database and storage steps included (``cutout_profile``)."""
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    clock.reset()
    token = _claim(cutout_id, worker)
    clock.lap("db_claim")
    if token is None:
        return "skipped"
    with jobs.job_heartbeat(Cutout, cutout_id, token):
        return _cutout_execute(cutout_id, token, interrupts, clock)


def _cutout_execute(cutout_id: int, token: str,
                    interrupts: tuple[type[BaseException], ...] = (),
                    clock: StageClock = NO_CLOCK) -> str:
    from .. import engine

    clock.reset()
    cutout = Cutout.objects.select_related("asset__product", "batch").get(pk=cutout_id)
    if cutout.asset.deleted_at is not None or cutout.asset.product.deleted_at is not None:
        # deleted while its version waited (a delete that raced the cancel, a purge): cut
        # nothing nobody can see (QA 2026-12-06 U11)
        if jobs.job_finish(Cutout, cutout_id, token, status=JobStatus.CANCELLED,
                           error=GONE_ERROR, stage="", progress=0):
            _cutout_settled(cutout_id)
        return "cancelled"
    _batch_started(cutout)
    clock.lap("db_read")
    saved: list[str] = []
    progress = RunProgress(cutout_id, token)
    compute = span(progress, AT_COMPUTE, AT_STORE)
    try:
        rgb = _load_working_copy(cutout.asset)
        clock.lap("decode")
        preview_side = preview_premade_side(pixels=rgb.shape[0] * rgb.shape[1])
        if cutout.source == Cutout.Source.RETOUCH:
            # A reviewer's strokes or uploaded PNG, applied to the parent version.
            output = cutout_retouch_compute(cutout=cutout, rgb=rgb, preview_side=preview_side,
                                            on_progress=compute)
        else:
            try:
                output = engine.cutout_compute(rgb=rgb, settings_dict=cutout.settings,
                                               clock=clock, preview_side=preview_side,
                                               on_progress=compute)
            except (ModelError, ValueError) as exc:
                raise PermanentError(f"Model error: {exc}")
        del rgb
        progress(SAVING, AT_STORE)
        progress.flush()  # the storage write reports nothing: the bar shows where it starts
        clock.reset()
        preview, output.preview = output.preview, None
        retouch_base, output.retouch_base = output.retouch_base, None
        outputs_store(output=output, names=output_names(cutout, token), saved=saved)
        if preview is not None:
            # saved: the cutout, the mask, then the shadow layer when there is one (_finish)
            cutout_previews_store(cutout=cutout, token=token, image=preview, saved=saved,
                                  shadow_name=saved[2] if output.shadow is not None else "")
        if retouch_base is not None:
            cutout_retouch_base_store(cutout=cutout, token=token, base=retouch_base,
                                      saved=saved)
            del retouch_base
        clock.lap("storage_write")
        finished = _finish(cutout, token, saved, output)
        clock.lap("db_finish")
    except TransientError:
        outputs_discard(names=saved)
        Cutout.objects.filter(pk=cutout_id, run_token=token, status=JobStatus.RUNNING).update(
            **cutout_queued_fields(now=timezone.now()))
        raise
    except NothingChangedError as exc:
        outputs_discard(names=saved)
        _end_unchanged(cutout_id, token, str(exc))
        return "unchanged"
    except PermanentError as exc:
        outputs_discard(names=saved)
        _fail(cutout_id, token, str(exc),
              working_copy_failed=isinstance(exc, WorkingCopyError))
        return "failed"
    except Exception as exc:
        outputs_discard(names=saved)
        if isinstance(exc, interrupts):
            raise
        logger.exception("cutout %s failed", cutout_id)
        _fail(cutout_id, token, f"Unexpected error: {type(exc).__name__}: {exc}")
        return "failed"
    if not finished:
        # Another run took this row over (reconciler after a stall); keep its outputs only.
        outputs_discard(names=saved)
        return "skipped"
    return "done"


def _finish(cutout: Cutout, token: str, saved: list[str], output) -> bool:
    names = dict(zip(("rgba", "mask", "shadow"), [*saved, "", ""], strict=False))
    preflags, risk = preflags_from_signals(output.signals)
    with transaction.atomic():
        # the image before the version, as every writer of its versions (``assets_lock``)
        assets_lock(asset_ids=[cutout.asset_id])
        done = Cutout.objects.filter(
            pk=cutout.pk, run_token=token, status=JobStatus.RUNNING
        ).update(
            status=JobStatus.DONE, rgba_name=names["rgba"], mask_name=names["mask"],
            shadow_name=names["shadow"] if output.shadow is not None else "",
            width=output.width, height=output.height, bbox=output.bbox, signals=output.signals,
            timings=output.timings, model_name=output.model_name,
            model_version=output.model_version, finished_at=timezone.now(), error="",
            preflags=preflags, risk=risk, progress=100, stage="",
        )
        if done:
            asset_status_sync(cutout.asset_id)
            events.cutout_event("cutout.done", _event_row(cutout.pk))
    if done and cutout.batch_id:
        cutout_batch_refresh(batch_id=cutout.batch_id)
    return bool(done)


#: what ``events.cutout_event`` reads: not the row's settings, signals and timings JSON
_EVENT_FIELDS = ("asset_id", "version", "batch_id", "status", "review_status", "risk",
                 "preflags", "flag_reasons", "error")


def _event_row(cutout_id: int) -> Cutout:
    return Cutout.objects.only(*_EVENT_FIELDS).get(pk=cutout_id)


def _fail(cutout_id: int, token: str | None, message: str, *,
          working_copy_failed: bool = False) -> None:
    """Fail the run's version with ``message`` for people and, in the same compare-and-set on
    the run token, whether the working copy was the cause (``Cutout.working_copy_failed``:
    what the product page's rebuild offer reads)."""
    failed = jobs.job_fail(Cutout, cutout_id, token, message, message_field="error",
                           working_copy_failed=working_copy_failed)
    if failed:
        _cutout_settled(cutout_id)
        events.cutout_event("cutout.failed", _event_row(cutout_id))


def _end_unchanged(cutout_id: int, token: str, message: str) -> None:
    """End the run's version without a result because it would be its parent's picture:
    cancelled and ``is_unchanged`` in one compare-and-set on the run token (the status and the
    fact never part), ``message`` its error for people; so neither the version nor its batch
    reads failed and "Retry failed" leaves it alone (``models.CUTOUT_UNCHANGED``)."""
    if jobs.job_finish(Cutout, cutout_id, token, status=JobStatus.CANCELLED,
                       is_unchanged=True, error=message[:1000], stage="", progress=0):
        _cutout_settled(cutout_id)


def _cutout_settled(cutout_id: int) -> None:
    """A run ended outside the happy path (failed, unchanged, reset): re-derive its asset and
    batch."""
    cutout = Cutout.objects.filter(pk=cutout_id).only("asset_id", "batch_id").first()
    if cutout is None:
        return
    cutouts_parents_give_back(cutout_ids=[cutout_id])
    asset_status_sync(cutout.asset_id)
    if cutout.batch_id:
        cutout_batch_refresh(batch_id=cutout.batch_id)


def cutout_fail_timeout(*, cutout_id: int, seconds: int) -> None:
    cutout = Cutout.objects.filter(pk=cutout_id, status=JobStatus.RUNNING).first()
    if cutout:
        _fail(cutout_id, cutout.run_token,
              f"Took longer than the {seconds} s allowed for an image of this size.")


# --- recovery -----------------------------------------------------------------------------


def _queue_depths() -> dict[str, int] | None:
    """Messages waiting per cutout queue, or None if the broker cannot say."""
    return jobs.queue_depths(list(CutoutQueue.values))


def _cutout_requeue_fields() -> dict:
    # the dead run's bar is not the next run's (its claim starts one; until then: none), and
    # a queued row carries no failure; the reconciler writes the status, token and time itself
    fields = cutout_queued_fields(now=None)
    return {k: v for k, v in fields.items() if k not in ("status", "run_token", "enqueued_at")}


def _cutout_requeued(cutout: Cutout) -> None:
    if cutout.run_token:
        # Files the dead run may have written before it died.
        row = Cutout.objects.select_related("asset").get(pk=cutout.pk)
        outputs_discard_existing(names=output_names(row, cutout.run_token).values())


def _cutout_changed(cutout_id: int) -> None:
    row = Cutout.objects.filter(pk=cutout_id).only("status").first()
    if row is not None and row.status == JobStatus.FAILED:
        _cutout_settled(cutout_id)


CUTOUT_KIND = jobs.JobKind(
    name="cutout", model=Cutout, enqueue=lambda ids: _enqueue(ids), message_field="error",
    queue_of=lambda row: row.queue, queue_depths=lambda queues: _queue_depths(),
    sent_field="enqueued_at", created_field="created_at",
    run_limit=lambda row: row.time_limit, requeue_fields=_cutout_requeue_fields,
    on_requeue=_cutout_requeued,
    on_change=_cutout_changed,
)
jobs.job_kind_register(CUTOUT_KIND)
jobs.job_kind_register(BATCH_KIND)


def cutouts_reconcile(*, worker_hostname: str | None = None) -> dict[str, int]:
    """Re-enqueue cutout runs a dead worker or a lost message left behind (running rows of
    this restarted hostname, with a stale heartbeat or past their hard time limit; queued rows
    older than the grace period when their queue is empty), or fail a row whose worker died
    on it too often. Duplicate deliveries this causes are harmless: runs start with a
    compare-and-set. ``catalog.jobs.jobs_reconcile`` runs this with every other job kind."""
    return jobs.job_kind_reconcile(CUTOUT_KIND, worker_hostname=worker_hostname)

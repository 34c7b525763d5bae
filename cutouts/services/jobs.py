"""Writes for cutout jobs. Status changes are compare-and-set updates so retries,
duplicate deliveries and the reconciler can never produce two outputs for one cutout."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable

import numpy as np
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.core.mail import send_mail
from django.db import OperationalError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from catalog import events, jobs
from catalog.models import ImageAsset
from catalog.selectors import asset_working_open

from ..imaging.models import ModelError
from ..imaging.settings import CutoutSettings, profile
from ..models import (
    Cutout,
    CutoutBatch,
    CutoutQueue,
    JobStatus,
    Notification,
    WorkerPing,
)
from .status import asset_status_sync, assets_status_sync

logger = logging.getLogger(__name__)


class TransientError(Exception):
    """Worth retrying: storage or broker hiccups, a locked database."""


class PermanentError(Exception):
    """Retrying cannot help: corrupt working copy, model error."""


# --- worker ping --------------------------------------------------------------------------


@transaction.atomic
def worker_ping_create(*, user=None) -> WorkerPing:
    from ..tasks import worker_ping_task

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


# --- starting work ------------------------------------------------------------------------


def cutout_settings_resolve(*, profile_name: str = "default", overrides: dict | None = None,
                            model: str | None = None) -> dict:
    """Validated settings dict for a profile plus overrides; raises ValueError on bad input."""
    base = profile(profile_name).to_dict()
    base["model"] = model or settings.CUTROOM_MODEL
    if overrides:
        base.update(overrides)
    return CutoutSettings.from_dict(base).to_dict()


def _time_limits(asset: ImageAsset) -> tuple[int, int]:
    megapixels = (asset.working_width * asset.working_height) / 1_000_000
    soft = int(settings.CUTROOM_CUTOUT_TIME_BASE + settings.CUTROOM_CUTOUT_TIME_PER_MP * megapixels)
    return soft, soft + 30


def _enqueue(cutout_ids: list[int]) -> None:
    from ..tasks import cutout_run_task

    rows = Cutout.objects.filter(pk__in=cutout_ids).values_list("pk", "queue", "time_limit")
    for pk, queue, hard in rows:
        cutout_run_task.apply_async((pk,), queue=queue, soft_time_limit=hard - 30,
                                    time_limit=hard)


@transaction.atomic
def cutout_batch_start(
    *, assets: Iterable[ImageAsset], user=None, profile_name: str = "default",
    overrides: dict | None = None, model: str | None = None, label: str = "",
    queue: str = CutoutQueue.BULK,
) -> CutoutBatch:
    """Queue a new cutout version of every asset; earlier versions are kept."""
    settings_dict = cutout_settings_resolve(profile_name=profile_name, overrides=overrides,
                                            model=model)
    assets = list(assets)
    if not assets:
        raise ValueError("No images to cut out.")
    batch = CutoutBatch.objects.create(
        created_by=user if user and user.is_authenticated else None, label=label[:200],
        profile=profile_name, settings=settings_dict, queue=queue, total=len(assets),
    )
    asset_ids = [a.pk for a in assets]
    # Lock the assets so two concurrent starts cannot hand out the same version number.
    list(ImageAsset.objects.select_for_update().filter(pk__in=asset_ids).values_list("pk"))
    latest = dict(
        Cutout.objects.filter(asset_id__in=asset_ids).values("asset_id")
        .annotate(v=Max("version")).values_list("asset_id", "v")
    )
    now = timezone.now()
    rows = []
    for asset in assets:
        _, hard = _time_limits(asset)
        rows.append(Cutout(
            asset=asset, batch=batch, version=latest.get(asset.pk, 0) + 1,
            settings=settings_dict, profile=profile_name, model_name=settings_dict["model"],
            queue=queue, created_by=batch.created_by, enqueued_at=now, time_limit=hard,
        ))
    Cutout.objects.bulk_create(rows, batch_size=500)
    CutoutBatch.objects.filter(pk=batch.pk).update(progress_total=len(rows))
    assets_status_sync(asset_ids=asset_ids)
    ids = list(batch.cutouts.values_list("pk", flat=True))
    transaction.on_commit(lambda: _enqueue(ids))
    return batch


def cutout_rerun(*, asset: ImageAsset, user=None, profile_name: str = "default",
                 overrides: dict | None = None, model: str | None = None) -> Cutout:
    """A single re-run with other settings: a new version on the interactive queue."""
    batch = cutout_batch_start(
        assets=[asset], user=user, profile_name=profile_name, overrides=overrides, model=model,
        label=f"Re-run of {asset.product.sku} {asset.position}",
        queue=CutoutQueue.INTERACTIVE,
    )
    return batch.cutouts.get()


@transaction.atomic
def cutout_batch_retry_failed(*, batch: CutoutBatch) -> int:
    """Re-queue this batch's failed rows (same rows, attempts counted by the runs)."""
    # Images deleted since the batch ran are out of every bulk action.
    ids = list(batch.cutouts.filter(
        status=JobStatus.FAILED, asset__deleted_at__isnull=True,
        asset__product__deleted_at__isnull=True,
    ).values_list("pk", flat=True))
    if not ids:
        return 0
    now = timezone.now()
    Cutout.objects.filter(pk__in=ids, status=JobStatus.FAILED).update(
        status=JobStatus.QUEUED, error="", enqueued_at=now, started_at=None, finished_at=None,
        run_token="",
    )
    CutoutBatch.objects.filter(pk=batch.pk).update(
        status=JobStatus.RUNNING, finished_at=None, message=""
    )
    assets_status_sync(asset_ids=batch.cutouts.filter(pk__in=ids).values_list("asset_id",
                                                                              flat=True))
    transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


@transaction.atomic
def cutout_batch_cancel(*, batch: CutoutBatch) -> int:
    """Stop queued work; cutouts already running finish normally."""
    asset_ids = list(batch.cutouts.filter(status=JobStatus.QUEUED).values_list("asset_id",
                                                                            flat=True))
    cancelled = batch.cutouts.filter(status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED, finished_at=timezone.now(), error="Cancelled"
    )
    assets_status_sync(asset_ids=asset_ids)
    cutout_batch_refresh(batch_id=batch.pk)
    return cancelled


# --- running ------------------------------------------------------------------------------


def _claim(cutout_id: int, worker: str) -> str | None:
    token = jobs.job_claim(Cutout, cutout_id, worker=worker, error="")
    if token is None:
        return None
    CutoutBatch.objects.filter(cutouts__pk=cutout_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    return token


def _load_working_copy(asset: ImageAsset) -> np.ndarray:
    try:
        with asset_working_open(asset=asset) as fh, Image.open(fh) as image:
            image.load()
            return np.asarray(image.convert("RGB"))
    except FileNotFoundError:
        raise PermanentError(f"The working copy {asset.working_name} is missing from storage.")
    except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError) as exc:
        raise PermanentError(f"The working copy cannot be decoded: {exc}")
    except (ConnectionError, TimeoutError) as exc:
        raise TransientError(f"Storage unavailable: {exc}")
    except OSError as exc:
        if _is_transient_storage_error(exc):
            raise TransientError(f"Storage unavailable: {exc}")
        raise PermanentError(f"The working copy cannot be decoded: {exc}")


def _is_transient_storage_error(exc: BaseException) -> bool:
    try:
        from botocore.exceptions import (
            ConnectionClosedError,
            EndpointConnectionError,
            ReadTimeoutError,
        )
    except ImportError:  # pragma: no cover - botocore is a dependency
        return False
    return isinstance(exc, EndpointConnectionError | ConnectionClosedError | ReadTimeoutError)


def _output_names(cutout: Cutout, token: str) -> dict[str, str]:
    folder = f"cutouts/{cutout.asset.sha256[:2]}/{cutout.asset.sha256}/v{cutout.version}-{token}"
    return {"rgba": f"{folder}/cutout.png", "mask": f"{folder}/mask.png",
            "shadow": f"{folder}/shadow.png"}


def cutout_run(*, cutout_id: int, worker: str = "") -> str:
    """Run one cutout. Returns 'done', 'failed', 'skipped' (not ours to run) or raises
    TransientError after putting the row back to queued for a retry."""
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    token = _claim(cutout_id, worker)
    if token is None:
        return "skipped"
    with jobs.job_heartbeat(Cutout, cutout_id, token):
        return _cutout_execute(cutout_id, token)


def _cutout_execute(cutout_id: int, token: str) -> str:
    from .. import engine

    cutout = Cutout.objects.select_related("asset").get(pk=cutout_id)
    storage = storages["default"]
    saved: list[str] = []
    try:
        rgb = _load_working_copy(cutout.asset)
        if cutout.source == Cutout.Source.RETOUCH:
            # A reviewer's strokes or uploaded PNG, applied to the parent version.
            from .review import cutout_retouch_compute

            output = cutout_retouch_compute(cutout=cutout, rgb=rgb)
        else:
            try:
                output = engine.cutout_compute(rgb=rgb, settings_dict=cutout.settings)
            except (ModelError, ValueError) as exc:
                raise PermanentError(f"Model error: {exc}")
        del rgb
        names = _output_names(cutout, token)
        try:
            for key in ("rgba", "mask", "shadow"):
                fh = getattr(output, key)
                if fh is not None:
                    saved.append(storage.save(names[key], File(fh, name=names[key])))
        except (ConnectionError, TimeoutError, OperationalError) as exc:
            raise TransientError(f"Storage unavailable: {exc}")
        except OSError as exc:
            if _is_transient_storage_error(exc):
                raise TransientError(f"Storage unavailable: {exc}")
            raise
        finally:
            output.close()
        finished = _finish(cutout, token, saved, output)
    except TransientError:
        _discard(saved)
        Cutout.objects.filter(pk=cutout_id, run_token=token, status=JobStatus.RUNNING).update(
            status=JobStatus.QUEUED, run_token="", enqueued_at=timezone.now()
        )
        raise
    except PermanentError as exc:
        _discard(saved)
        _fail(cutout_id, token, str(exc))
        return "failed"
    except Exception as exc:
        _discard(saved)
        logger.exception("cutout %s failed", cutout_id)
        _fail(cutout_id, token, f"Unexpected error: {type(exc).__name__}: {exc}")
        return "failed"
    if not finished:
        # Another run took this row over (reconciler after a stall); keep its outputs only.
        _discard(saved)
        return "skipped"
    return "done"


def _finish(cutout: Cutout, token: str, saved: list[str], output) -> bool:
    from .review import preflags_from_signals

    names = dict(zip(("rgba", "mask", "shadow"), [*saved, "", ""], strict=False))
    preflags, risk = preflags_from_signals(output.signals)
    with transaction.atomic():
        done = Cutout.objects.filter(
            pk=cutout.pk, run_token=token, status=JobStatus.RUNNING
        ).update(
            status=JobStatus.DONE, rgba_name=names["rgba"], mask_name=names["mask"],
            shadow_name=names["shadow"] if output.shadow is not None else "",
            width=output.width, height=output.height, bbox=output.bbox, signals=output.signals,
            timings=output.timings, model_name=output.model_name,
            model_version=output.model_version, finished_at=timezone.now(), error="",
            preflags=preflags, risk=risk,
        )
        if done:
            asset_status_sync(cutout.asset_id)
            events.cutout_event("cutout.done", Cutout.objects.get(pk=cutout.pk))
    if done and cutout.batch_id:
        cutout_batch_refresh(batch_id=cutout.batch_id)
    return bool(done)


def _fail(cutout_id: int, token: str | None, message: str) -> None:
    failed = jobs.job_fail(Cutout, cutout_id, token, message, message_field="error")
    if failed:
        _cutout_settled(cutout_id)
        events.cutout_event("cutout.failed", Cutout.objects.get(pk=cutout_id))


def _cutout_settled(cutout_id: int) -> None:
    """A run ended outside the happy path (failed, reset): re-derive its asset and batch."""
    cutout = Cutout.objects.filter(pk=cutout_id).only("asset_id", "batch_id").first()
    if cutout is None:
        return
    asset_status_sync(cutout.asset_id)
    if cutout.batch_id:
        cutout_batch_refresh(batch_id=cutout.batch_id)


def cutout_fail_timeout(*, cutout_id: int, seconds: int) -> None:
    cutout = Cutout.objects.filter(pk=cutout_id, status=JobStatus.RUNNING).first()
    if cutout:
        _fail(cutout_id, cutout.run_token,
              f"Took longer than the {seconds} s allowed for an image of this size.")


def _discard_existing(names: Iterable[str]) -> None:
    storage = storages["default"]
    _discard([name for name in names if storage.exists(name)])


def _discard(names: list[str]) -> None:
    storage = storages["default"]
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # the row never pointed at it; purge will catch leftovers
            logger.warning("could not delete orphan %s", name, exc_info=True)


# --- batch bookkeeping --------------------------------------------------------------------


def cutout_batch_refresh(*, batch_id: int) -> CutoutBatch:
    """Close the batch once nothing is active; notify its owner exactly once."""
    from ..selectors.jobs import cutout_batch_counts

    batch = CutoutBatch.objects.get(pk=batch_id)
    counts = cutout_batch_counts(batch=batch)
    if counts["queued"] or counts["running"]:
        done = counts["done"] + counts["failed"] + counts["cancelled"]
        if done != batch.progress_done:
            CutoutBatch.objects.filter(pk=batch_id).update(progress_done=done,
                                                           heartbeat_at=timezone.now())
        return batch
    if counts["done"] == 0 and counts["failed"]:
        final = JobStatus.FAILED
    elif counts["done"] == 0 and counts["cancelled"]:
        final = JobStatus.CANCELLED
    else:
        final = JobStatus.DONE
    message = (f"{counts['done']} done, {counts['failed']} failed, "
               f"{counts['cancelled']} cancelled")
    finished = counts["done"] + counts["failed"] + counts["cancelled"]
    closed = CutoutBatch.objects.filter(
        pk=batch_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).update(status=final, finished_at=timezone.now(), message=message,
             progress_done=finished, progress_total=sum(counts.values()))
    batch.refresh_from_db()
    if closed and batch.created_by_id:
        notification_create(
            user=batch.created_by, text=f"{batch}: {message}.",
            url=reverse("cutouts:batch_detail", args=[batch.pk]),
        )
    return batch


def notification_create(*, user, text: str, url: str = "") -> Notification:
    note = Notification.objects.create(user=user, text=text[:500], url=url[:500])
    if settings.EMAIL_HOST and user.email:
        transaction.on_commit(lambda: send_mail(
            subject=f"Cutroom: {text[:80]}", message=f"{text}\n\n{url}",
            from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[user.email],
            fail_silently=True,
        ))
    return note


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        rows = rows.filter(pk=notification_id)
    return rows.update(read_at=timezone.now())


# --- recovery -----------------------------------------------------------------------------


def _queue_depths() -> dict[str, int] | None:
    """Messages waiting per cutout queue, or None if the broker cannot say."""
    return jobs.queue_depths(list(CutoutQueue.values))


def _cutout_requeued(cutout: Cutout) -> None:
    if cutout.run_token:
        # Files the dead run may have written before it died.
        row = Cutout.objects.select_related("asset").get(pk=cutout.pk)
        _discard_existing(_output_names(row, cutout.run_token).values())


def _cutout_changed(cutout_id: int) -> None:
    row = Cutout.objects.filter(pk=cutout_id).only("status").first()
    if row is not None and row.status == JobStatus.FAILED:
        _cutout_settled(cutout_id)


def _batches_settle() -> int:
    """Close batches whose rows all finished (a worker died between a row and its batch)."""
    active = CutoutBatch.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]) \
        .exclude(cutouts__status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
    closed = 0
    for pk in active.values_list("pk", flat=True)[:1000]:
        closed += cutout_batch_refresh(batch_id=pk).status not in (JobStatus.QUEUED,
                                                                    JobStatus.RUNNING)
    return closed


CUTOUT_KIND = jobs.JobKind(
    name="cutout", model=Cutout, enqueue=lambda ids: _enqueue(ids), message_field="error",
    queue_of=lambda row: row.queue, queue_depths=lambda queues: _queue_depths(),
    sent_field="enqueued_at", created_field="created_at",
    run_limit=lambda row: row.time_limit, on_requeue=_cutout_requeued,
    on_change=_cutout_changed,
)
BATCH_KIND = jobs.JobKind(name="cutout_batch", model=CutoutBatch, enqueue=None,
                          sweep=_batches_settle)
jobs.job_kind_register(CUTOUT_KIND)
jobs.job_kind_register(BATCH_KIND)


def cutouts_reconcile(*, worker_hostname: str | None = None) -> dict[str, int]:
    """Re-enqueue cutout runs a dead worker or a lost message left behind (running rows of
    this restarted hostname, with a stale heartbeat or past their hard time limit; queued rows
    older than the grace period when their queue is empty), or fail a row whose worker died
    on it too often. Duplicate deliveries this causes are harmless: runs start with a
    compare-and-set. ``catalog.jobs.jobs_reconcile`` runs this with every other job kind."""
    return jobs.job_kind_reconcile(CUTOUT_KIND, worker_hostname=worker_hostname)

"""Cutout batches: settings, starting versions, retrying, cancelling and closing a batch."""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from catalog import jobs
from catalog.models import ImageAsset, Product

from .. import enqueue
from ..errors import BatchError, BatchFinishedError
from ..imaging.quantize import fast_model
from ..imaging.settings import PROFILES, SHADOW_MODES, CutoutSettings, profile
from ..models import CUTOUT_LIVE, Cutout, CutoutBatch, CutoutQueue, JobStatus, ReviewStatus
from ..selectors.jobs import GONE, UNCHANGED, batch_ended, cutout_batch_counts
from ..selectors.review import rerun_models
from .lineage import cutouts_parents_give_back
from .notifications import notification_create
from .status import assets_status_sync


def cutout_settings_resolve(*, profile_name: str = "default", overrides: dict | None = None,
                            model: str | None = None) -> dict:
    """Validated settings dict for a profile plus overrides; raises BatchError on bad input.

    A model asked for by name must be installed here: the registry knows models whose file
    this server may not have, and such a run would only fail later in the worker."""
    settings_choices_check(shadow=(overrides or {}).get("shadow"), profile_name=profile_name,
                           model=model)
    try:
        base = profile(profile_name).to_dict()
        base["model"] = model or settings.CUTROOM_MODEL
        if profile_name == "fast" and not model:
            # int8 only once its regression gate passed for the installed file.
            base["model"] = fast_model(base["model"], settings.CUTROOM_MODEL_DIR)
        if overrides:
            base.update(overrides)
        return CutoutSettings.from_dict(base).to_dict()
    except ValueError as exc:
        raise BatchError(str(exc)) from exc


def batch_overrides(*, shadow: str | None = None) -> dict | None:
    """What a batch start form or request may change on top of its profile: the shadow
    mode, so a whole catalogue can keep its natural shadows without a re-run per image.
    Empty keeps the profile's; ``cutout_settings_resolve`` refuses an unknown mode."""
    return {"shadow": shadow} if shadow else None


def settings_choices_check(*, shadow: str | None = None, profile_name: str | None = None,
                           model: str | None = None) -> None:
    """Raise BatchError naming the first choice no cutout run could use (None or empty: not
    asked for). The one wording of these refusals: batch starts and re-runs both use it."""
    if shadow is not None and shadow not in SHADOW_MODES:
        raise BatchError(f"Unknown shadow mode {shadow!r}; one of: {', '.join(SHADOW_MODES)}.",
                         field="shadow")
    if profile_name and profile_name not in PROFILES:
        raise BatchError(f"Unknown profile {profile_name!r}; one of: {', '.join(PROFILES)}.",
                         field="profile")
    if model:
        model_require_installed(name=model)


def model_require_installed(*, name: str) -> None:
    """Raise BatchError unless ``name`` is a model installed here, naming the installed ones
    (the same check as the re-run menu: ``rerun_models``)."""
    installed = rerun_models()
    if name not in installed:
        raise BatchError(
            f"Model {name!r} is not installed here; installed models: "
            f"{', '.join(sorted(installed)) or 'none'}.", field="model",
        )


def batch_label(*, label: str = "", product_id: int | None = None,
                import_job_id: int | None = None, all_pending: bool = False) -> str:
    """A batch's label: the one asked for, else what it was started on, in the same words
    whether the page, the API or the batch list's button started it: "Import #2", the
    product's SKU, "All pending images" (QA 2026-12-06 U6: the API and "Cut out all pending
    images" read "Batch 7" while the same start from the import page read "Import #2").
    "" for a hand-picked set of images (the batch then reads "Batch 7")."""
    label = label.strip()
    if label:
        return label[:200]
    if import_job_id:
        return f"Import #{import_job_id}"
    if product_id:
        sku = Product.objects.filter(pk=product_id).values_list("sku", flat=True).first()
        if sku:
            return sku
    if all_pending:
        return "All pending images"
    return ""


def _time_limits(asset: ImageAsset) -> tuple[int, int]:
    megapixels = (asset.working_width * asset.working_height) / 1_000_000
    soft = int(settings.CUTROOM_CUTOUT_TIME_BASE + settings.CUTROOM_CUTOUT_TIME_PER_MP * megapixels)
    return soft, soft + 30


#: the words a batch uses for the images it left out (batch page, API ``message``, command)
SKIPPED_NOTE = "{n} skipped: already cut with these settings"
#: the same for a "cut again" batch, which only leaves out the images being cut right now
SKIPPED_RUNNING_NOTE = "{n} skipped: a cut with these settings is already queued or running"


def skip_note(skipped: int) -> str:
    return SKIPPED_NOTE.format(n=skipped) if skipped else ""


def batch_skip_note(*, batch: CutoutBatch) -> str:
    """What the batch left out, in its words: already cut (a plain start) or still being
    cut (a "cut again" start); "" when it left out nothing."""
    if batch.skipped_running:
        return SKIPPED_RUNNING_NOTE.format(n=batch.skipped_running)
    return skip_note(batch.skipped)


_UNFINISHED = Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])


def _already_cut(*, asset_ids: list[int], settings_dict: dict,
                 unfinished_only: bool = False) -> set[int]:
    """The assets with a version of exactly these settings that is queued, running, done
    and awaiting review, or approved: another one would only be computed again and queued
    for a second review (or, on an approved image, reopen it). ``unfinished_only``: only
    the queued or running ones (what even a "cut again" leaves alone: the same cut twice at
    once is a double submit, never a deliberate re-cut)."""
    found: set[int] = set()
    # as the JSON column gives it back (tuples become lists)
    wanted = json.loads(json.dumps(settings_dict))
    waiting = _UNFINISHED if unfinished_only else (
        _UNFINISHED | Q(status=JobStatus.DONE,
                        review_status__in=[ReviewStatus.PENDING, ReviewStatus.APPROVED]))
    for start in range(0, len(asset_ids), 500):
        rows = Cutout.objects.filter(waiting, asset_id__in=asset_ids[start:start + 500]) \
            .values_list("asset_id", "settings")
        # Compared in Python: JSON equality in SQL depends on the backend and key order.
        found.update(asset_id for asset_id, row_settings in rows
                     if row_settings == wanted)
    return found


@transaction.atomic
def cutout_batch_start(
    *, assets: Iterable[ImageAsset], user=None, profile_name: str = "default",
    overrides: dict | None = None, model: str | None = None, label: str = "",
    queue: str = CutoutQueue.BULK, recut: bool = False,
) -> CutoutBatch:
    """Queue a new cutout version of every asset; earlier versions are kept.

    A bulk batch skips, unless ``recut``, the images that already have a version with the
    same settings queued, running, awaiting review or approved (``cutout_batch_skipped`` counts
    them; the batch's message says so). Starting the same cutouts twice would otherwise cut
    every image again, approved ones included. A ``recut`` still skips the images whose
    same-settings version is queued or running (counted apart, ``batch_skip_note``): a double
    submit would cut each twice at the same time (``/rerun`` answers with the queued one).
    Runs on the interactive queue (a re-run or a retouch a reviewer asked for) are deliberate
    and never skipped. Raises BatchError when nothing is left to cut."""
    settings_dict = cutout_settings_resolve(profile_name=profile_name, overrides=overrides,
                                            model=model)
    assets = list(assets)
    if not assets:
        raise BatchError("No images to cut out.")
    asset_ids = [a.pk for a in assets]
    # Lock the assets so two concurrent starts cannot hand out the same version number, and
    # so the second of two identical starts sees the first one's queued versions.
    list(ImageAsset.objects.select_for_update().filter(pk__in=asset_ids).values_list("pk"))
    skipped = 0
    if queue == CutoutQueue.BULK:
        done = _already_cut(asset_ids=asset_ids, settings_dict=settings_dict,
                            unfinished_only=recut)
        if done:
            assets = [a for a in assets if a.pk not in done]
            asset_ids = [a.pk for a in assets]
            skipped = len(done)
        if not assets:
            raise BatchError(_nothing_to_cut(skipped, recut=recut), field="recut")
    # A plain start's skips are "already cut", a cut again's are "still being cut": kept
    # apart, since "tick Cut again" would not help those.
    batch = CutoutBatch(
        created_by=user if user and user.is_authenticated else None, label=label[:200],
        profile=profile_name, settings=settings_dict, queue=queue, total=len(assets),
        skipped=0 if recut else skipped, skipped_running=skipped if recut else 0,
    )
    batch.message = batch_skip_note(batch=batch)
    batch.save()
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
    enqueue.cutout_runs(list(batch.cutouts.values_list("pk", flat=True)))
    return batch


def _nothing_to_cut(skipped: int, *, recut: bool) -> str:
    several = skipped != 1
    head = (f"{'All ' if several else ''}{skipped} selected image{'s' if several else ''} "
            f"already {'have' if several else 'has'} a cutout with these settings")
    if recut:
        return (f"{head} queued or running, so nothing was started: cutting the same image "
                "twice at once would only make the same version twice. Cut again once it "
                "has finished.")
    return (f"{head} (queued, running, awaiting review or approved), so nothing was "
            "started; ask to \"cut again\" to re-cut on purpose.")


def cutout_rerun(*, asset: ImageAsset, user=None, profile_name: str = "default",
                 overrides: dict | None = None, model: str | None = None) -> Cutout:
    """A single re-run with other settings: a new version on the interactive queue."""
    batch = cutout_batch_start(
        assets=[asset], user=user, profile_name=profile_name, overrides=overrides, model=model,
        label=f"Re-run of {asset.product.sku} {asset.position}",
        queue=CutoutQueue.INTERACTIVE,
    )
    return batch.cutouts.get()


def cutout_queued_fields(*, now) -> dict:
    """The fields of a cutout put back to the queue (a retry, a transient error): no run, no
    bar: the next run's claim starts one (docs/jobs.md: progress 0 and no stage while
    queued), and no failure, neither its words nor its kind (``Cutout.working_copy_failed``:
    true only on a failed row, migration 0018's check). Every re-queue writes these, so none
    can leave a dead run's stage or a failure behind."""
    return {"status": JobStatus.QUEUED, "run_token": "", "enqueued_at": now, "stage": "",
            "progress": 0, "error": "", "working_copy_failed": False}


@transaction.atomic
def cutout_batch_retry_failed(*, batch: CutoutBatch) -> int:
    """Re-queue this batch's failed rows (same rows, attempts counted by the runs), their
    failure gone with its message and its kind (``Cutout.working_copy_failed``: a row back in
    the queue offers no rebuild; a run that fails on the working copy again says so again)."""
    # Images deleted since the batch ran are out of every bulk action.
    ids = list(batch.cutouts.filter(CUTOUT_LIVE, status=JobStatus.FAILED)
               .values_list("pk", flat=True))
    if not ids:
        return 0
    now = timezone.now()
    Cutout.objects.filter(pk__in=ids, status=JobStatus.FAILED).update(
        **cutout_queued_fields(now=now), started_at=None, finished_at=None)
    CutoutBatch.objects.filter(pk=batch.pk).update(
        status=JobStatus.RUNNING, finished_at=None,
        message=batch_skip_note(batch=batch),
    )
    assets_status_sync(asset_ids=batch.cutouts.filter(pk__in=ids).values_list("asset_id",
                                                                              flat=True))
    enqueue.cutout_runs(ids)
    return len(ids)


@transaction.atomic
def cutout_batch_restart_cancelled(*, batch: CutoutBatch) -> int:
    """Re-queue the versions someone cancelled in this batch ("Cancel queued"), the same rows
    with their version numbers, as "Retry failed" re-queues failed ones: the way back from a
    cancel (QA 2026-12-06 U10). Left alone: versions whose image or product is deleted (out of
    every bulk action), a retouch that ended unchanged, a re-run or retouch (its parent went
    back to review when it was cancelled) and an image cut again since (a newer version):
    restarting those would cut an image twice or undo what the reviewer has. Returns how many
    were re-queued; the messages are sent once the transaction commits."""
    locked = CutoutBatch.objects.select_for_update().get(pk=batch.pk)
    rows = list(locked.cutouts.filter(CUTOUT_LIVE, status=JobStatus.CANCELLED,
                                      is_unchanged=False, parent__isnull=True)
                .values_list("pk", "asset_id", "version"))
    if not rows:
        return 0
    newest = dict(Cutout.objects.filter(asset_id__in={a for _, a, _ in rows}).values("asset_id")
                  .annotate(v=Max("version")).values_list("asset_id", "v"))
    ids = [pk for pk, asset_id, version in rows if newest.get(asset_id) == version]
    if not ids:
        return 0
    fields = {**cutout_queued_fields(now=timezone.now()), "started_at": None,
              "finished_at": None}
    # One compare-and-set per row, counted by what it changed, not by a read before it: the
    # batch lock orders restarts of this batch, but not another action on the same row, and a
    # row moved in between (a SQLite read takes no row lock) is neither counted, synced nor
    # enqueued twice.
    restarted = [pk for pk in ids
                 if Cutout.objects.filter(pk=pk, status=JobStatus.CANCELLED).update(**fields)]
    if not restarted:
        return 0
    CutoutBatch.objects.filter(pk=batch.pk).update(
        status=JobStatus.RUNNING, finished_at=None, message=batch_skip_note(batch=locked))
    moved = set(restarted)
    assets_status_sync(asset_ids=[a for pk, a, _ in rows if pk in moved])
    enqueue.cutout_runs(restarted)
    return len(restarted)


@transaction.atomic
def cutout_batch_cancel(*, batch: CutoutBatch) -> int:
    """Stop queued work; cutouts already running finish normally. Raises
    BatchFinishedError when the batch already ended: nothing is left to cancel."""
    # The lock orders this against the last run closing the batch (cutout_batch_refresh).
    locked = CutoutBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        raise BatchFinishedError(
            f"Batch #{locked.pk} is already {locked.get_status_display().lower()}; "
            "nothing is left to cancel.")
    queued = list(batch.cutouts.filter(status=JobStatus.QUEUED).values_list("pk", "asset_id"))
    cancelled = Cutout.objects.filter(pk__in=[pk for pk, _ in queued],
                                      status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED, finished_at=timezone.now(), error="Cancelled"
    )
    cutouts_parents_give_back(cutout_ids=[pk for pk, _ in queued])
    assets_status_sync(asset_ids=[asset_id for _, asset_id in queued])
    cutout_batch_refresh(batch_id=batch.pk)
    return cancelled


#: a batch's words for its versions whose image or product was deleted (``GONE``)
GONE_NOTE = "not cut (image or product deleted)"
#: the error of such a version
GONE_ERROR = "Cancelled: its image or its product was deleted."


@transaction.atomic
def cutouts_cancel_deleted(*, asset_ids: Iterable[int]) -> int:
    """Cancel the queued and running versions of these just-deleted images (compare-and-set
    on their status, so a run that finished first keeps its result, and a running one finds
    its row gone at its finish and keeps nothing), and settle their batches: a product
    deleted while its batch waits is not cut (QA 2026-12-06 U11). Called on
    ``catalog.signals.assets_deleted``; returns how many were cancelled."""
    ids = list(asset_ids)
    if not ids:
        return 0
    now = timezone.now()
    cancelled: list[int] = []
    batches: set[int] = set()
    for start in range(0, len(ids), 500):
        rows = list(Cutout.objects.filter(asset_id__in=ids[start:start + 500],
                                          status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
                    .values_list("pk", "status", "batch_id"))
        for status in (JobStatus.QUEUED, JobStatus.RUNNING):
            pks = [pk for pk, row_status, _ in rows if row_status == status]
            if pks and Cutout.objects.filter(pk__in=pks, status=status).update(
                    status=JobStatus.CANCELLED, finished_at=now, error=GONE_ERROR, stage="",
                    progress=0):
                ended = set(Cutout.objects.filter(pk__in=pks, status=JobStatus.CANCELLED,
                                                  error=GONE_ERROR).values_list("pk", flat=True))
                cancelled.extend(ended)
                batches.update(b for pk, _s, b in rows if pk in ended and b)
    if not cancelled:
        return 0
    cutouts_parents_give_back(cutout_ids=cancelled)
    assets_status_sync(asset_ids=ids)
    for batch_id in sorted(batches):
        cutout_batch_refresh(batch_id=batch_id)
    return len(cancelled)


def cutout_batch_refresh(*, batch_id: int) -> CutoutBatch:
    """Close the batch once nothing is active; notify its owner exactly once."""
    batch = CutoutBatch.objects.get(pk=batch_id)
    counts = cutout_batch_counts(batch=batch)
    ended = batch_ended(counts)
    if counts["queued"] or counts["running"]:
        if ended != batch.progress_done:
            CutoutBatch.objects.filter(pk=batch_id).update(progress_done=ended,
                                                           heartbeat_at=timezone.now())
        return batch
    # A retouch that changed nothing ended its version cancelled, but nobody stopped the
    # batch and nothing failed: such rows (counted apart, ``UNCHANGED``) settle it like done
    # ones (QA 2026-12-05 L1: a no-op Apply read as a red Failed batch that "Retry failed"
    # failed again).
    unchanged, cancelled, gone = counts[UNCHANGED], counts["cancelled"], counts[GONE]
    if counts["done"] == 0 and unchanged == 0 and counts["failed"]:
        final = JobStatus.FAILED
    elif cancelled or (gone and not counts["done"] and not unchanged):
        # Someone stopped the batch before all of it ran: "done" would read as complete.
        # The message keeps the counts of what did finish. Versions whose image was deleted
        # (``GONE``) do not make a batch that cut the rest read cancelled.
        final = JobStatus.CANCELLED
    else:
        final = JobStatus.DONE
    message = (f"{counts['done']} done, {counts['failed']} failed, {cancelled} cancelled")
    if unchanged:
        message += f", {unchanged} unchanged (nothing changed, pixel for pixel)"
    if gone:
        message += f", {gone} {GONE_NOTE}"
    if note := batch_skip_note(batch=batch):
        message += f"; {note}"
    closed = CutoutBatch.objects.filter(
        pk=batch_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).update(status=final, finished_at=timezone.now(), message=message,
             progress_done=ended, progress_total=sum(counts.values()))
    batch.refresh_from_db()
    if closed and batch.created_by_id:
        notification_create(
            user=batch.created_by, text=f"{batch}: {message}.",
            url=reverse("cutouts:batch_detail", args=[batch.pk]),
        )
    return batch


def _batches_settle() -> int:
    """Close batches whose rows all finished (a worker died between a row and its batch)."""
    active = CutoutBatch.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]) \
        .exclude(cutouts__status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
    closed = 0
    for pk in active.values_list("pk", flat=True)[:1000]:
        closed += cutout_batch_refresh(batch_id=pk).status not in (JobStatus.QUEUED,
                                                                    JobStatus.RUNNING)
    return closed


#: registered by ``runs`` right after the cutout kind: the reconciler settles rows first
BATCH_KIND = jobs.JobKind(name="cutout_batch", model=CutoutBatch, enqueue=None,
                          sweep=_batches_settle)

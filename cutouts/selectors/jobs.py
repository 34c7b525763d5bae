from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.timesince import timeuntil

from ..models import (
    CUTOUT_GONE,
    CUTOUT_UNCHANGED,
    Cutout,
    CutoutBatch,
    JobStatus,
    Notification,
    WorkerPing,
)
from ..strengths import strength_of


def worker_ping_recent(*, limit: int = 5) -> list[WorkerPing]:
    return list(WorkerPing.objects.order_by("-requested_at")[:limit])


#: Where ``cutout_batches_counted`` keeps the counts it read for a batch: in the instance's
#: ``__dict__``, as ``cached_property`` does, so they live and die with that one object (a
#: batch read again, to be closed or shown alone, counts afresh).
_COUNTS_KEY = "_cutout_status_counts"


#: the count of versions a retouch ended unchanged (``models.CUTOUT_UNCHANGED``, the stored
#: ``is_unchanged``): no failure and nobody's cancel, so they are counted apart from the
#: cancelled ones
UNCHANGED = "unchanged"
#: the count of versions cancelled because their image or product was deleted
#: (``models.CUTOUT_GONE``): counted apart from the ones someone cancelled
GONE = "gone"


def _counts_empty() -> dict[str, int]:
    return dict.fromkeys([*JobStatus.values, UNCHANGED, GONE], 0)


def _count_into(counts: dict[str, int], status: str, n: int, unchanged: int,
                gone: int) -> None:
    counts[status] += n - unchanged - gone
    counts[UNCHANGED] += unchanged
    counts[GONE] += gone


def batch_ended(counts: dict[str, int]) -> int:
    """How many of a batch's cutouts ended, whichever way (the bar, the batch's close)."""
    return (counts["done"] + counts["failed"] + counts["cancelled"] + counts[UNCHANGED]
            + counts[GONE])


def cutout_batch_counts(*, batch: CutoutBatch) -> dict[str, int]:
    """Its cutouts per status (every status present), the cancelled ones a retouch ended
    unchanged under ``UNCHANGED``; one query, none for a batch of a list counted with
    ``cutout_batches_counted``."""
    counted = batch.__dict__.get(_COUNTS_KEY)
    if counted is not None:
        return dict(counted)
    counts = _counts_empty()
    rows = batch.cutouts.order_by().values_list("status").annotate(
        n=Count("pk"), unchanged=Count("pk", filter=CUTOUT_UNCHANGED),
        gone=Count("pk", filter=CUTOUT_GONE))
    for status, n, unchanged, gone in rows:
        _count_into(counts, status, n, unchanged, gone)
    return counts


def cutout_batches_counted(batches: list[CutoutBatch]) -> list[CutoutBatch]:
    """``batches``, each with its cutouts' counts per status read in one query for all (a
    page of 200 batches used to cost 200 counts), for ``cutout_batch_counts`` and
    ``cutout_batch_progress``."""
    counts = {b.pk: _counts_empty() for b in batches}
    if counts:
        rows = (Cutout.objects.filter(batch_id__in=list(counts)).order_by()
                .values_list("batch_id", "status")
                .annotate(n=Count("pk"), unchanged=Count("pk", filter=CUTOUT_UNCHANGED),
                          gone=Count("pk", filter=CUTOUT_GONE)))
        for batch_id, status, n, unchanged, gone in rows:
            _count_into(counts[batch_id], status, n, unchanged, gone)
    for batch in batches:
        batch.__dict__[_COUNTS_KEY] = counts[batch.pk]
    return batches


def cutout_batch_skipped(*, batch: CutoutBatch) -> int:
    """How many selected images ``cutout_batch_start`` left out as already cut."""
    return batch.skipped


@dataclass(frozen=True)
class BatchSettings:
    """What a batch was started with, as its pages say it: read from the batch row's own
    resolved settings, so a profile changed since does not change what the page says. A
    batch row without settings (made by hand) has "" for each."""
    profile: str
    model: str
    shadow: str
    #: the refinement strength its settings hold (``strengths.strength_of``)
    strength: str


def cutout_batch_settings(*, batch: CutoutBatch) -> BatchSettings:
    saved = batch.settings or {}
    return BatchSettings(profile=batch.profile, model=saved.get("model", ""),
                         shadow=saved.get("shadow", ""),
                         strength=strength_of(saved) if saved else "")


def cutout_batch_status(*, batch: CutoutBatch, counts: dict[str, int]) -> str:
    """The status a batch reads on its pages: its row's, except that a row still queued
    reads running once one of its cutouts runs or ran. The row is set running by its first
    run (``runs._batch_started``) only after that run claimed its cutout and read it back,
    so for that moment (longer on a busy database) the cutouts' rows are the better word;
    a batch only the reconciler's sweep can close reads the same way."""
    if batch.status == JobStatus.QUEUED and (
            counts["running"] or counts["done"] or counts["failed"]):
        return JobStatus.RUNNING
    return batch.status


@dataclass(frozen=True)
class BatchProgress:
    batch: CutoutBatch
    counts: dict[str, int]
    total: int
    finished: int
    percent: int
    per_minute: float | None
    eta: datetime | None
    is_active: bool
    #: The running cutout reported on longest ago (a job page's "no worker" note), or None.
    stalest_running: Cutout | None = None
    #: what the batch was started with (its pages show the shadow mode and strength too)
    settings: BatchSettings | None = None
    #: ``cutout_batch_status``'s word for it; "" for the row's own
    derived_status: str = ""

    @property
    def status(self) -> str:
        """What the batch's pages say it is."""
        return self.derived_status or self.batch.status

    @property
    def status_label(self) -> str:
        return str(JobStatus(self.status).label)

    @property
    def time_left(self) -> str:
        """The ETA as a person reads it ("under a minute" rather than Django's "0 minutes")."""
        if self.eta is None:
            return ""
        seconds = (self.eta - timezone.now()).total_seconds()
        if seconds < 60:
            return "under a minute"
        return f"about {timeuntil(self.eta)}"


#: Below both, a rate says nothing (one image failing in 30 ms reads as 2,000 a minute), so
#: ``per_minute`` is None until a few images finished or some seconds went by.
RATE_MIN_FINISHED = 3
RATE_MIN_SECONDS = 10.0


def cutout_batch_progress(*, batch: CutoutBatch) -> BatchProgress:
    counts = cutout_batch_counts(batch=batch)
    total = sum(counts.values())
    finished = batch_ended(counts)
    percent = int(100 * finished / total) if total else 100
    per_minute = eta = None
    if batch.started_at and counts["done"] + counts["failed"]:
        end = batch.finished_at or timezone.now()
        elapsed = max((end - batch.started_at).total_seconds(), 1e-3)
        rate = (counts["done"] + counts["failed"]) / elapsed
        if (counts["done"] + counts["failed"] >= RATE_MIN_FINISHED
                or elapsed >= RATE_MIN_SECONDS):
            per_minute = round(rate * 60, 1)
        remaining = counts["queued"] + counts["running"]
        if remaining and rate > 0:
            eta = timezone.now() + timedelta(seconds=remaining / rate)
    stalest = None
    if counts["running"]:
        stalest = (Cutout.objects.filter(batch=batch, status=JobStatus.RUNNING)
                   .order_by(Coalesce("heartbeat_at", "started_at"))
                   .only("status", "heartbeat_at", "started_at").first())
    return BatchProgress(
        batch=batch, counts=counts, total=total, finished=finished, percent=percent,
        per_minute=per_minute, eta=eta,
        is_active=batch.status in (JobStatus.QUEUED, JobStatus.RUNNING),
        stalest_running=stalest, settings=cutout_batch_settings(batch=batch),
        derived_status=cutout_batch_status(batch=batch, counts=counts),
    )


def cutout_batch_failures(*, batch: CutoutBatch, limit: int = 200) -> list[Cutout]:
    return list(
        batch.cutouts.filter(status=JobStatus.FAILED)
        .select_related("asset", "asset__product").order_by("pk")[:limit]
    )


@dataclass(frozen=True)
class BatchProduct:
    pk: int
    sku: str
    images: int


def cutout_batch_products(*, batch: CutoutBatch, limit: int = 12
                          ) -> tuple[list[BatchProduct], int]:
    """The first ``limit`` products a batch cut (by SKU, with how many of their images),
    and how many products it cut in all: its page links them, so a finished batch is not a
    dead end."""
    rows = (batch.cutouts.values("asset__product_id", "asset__product__sku")
            .annotate(images=Count("asset_id", distinct=True))
            .order_by("asset__product__sku"))
    shown = [BatchProduct(pk=r["asset__product_id"], sku=r["asset__product__sku"],
                          images=r["images"]) for r in rows[:limit]]
    total = (len(shown) if len(shown) < limit
             else batch.cutouts.values("asset__product_id").distinct().count())
    return shown, total


def cutout_batch_get(*, pk: int) -> CutoutBatch | None:
    return CutoutBatch.objects.filter(pk=pk).first()


def cutout_find(*, pk: int) -> Cutout | None:
    """One cutout version, whatever its state; None when there is none."""
    return Cutout.objects.filter(pk=pk).first()


def cutout_batch_list(*, limit: int = 50) -> list[CutoutBatch]:
    """The newest batches, counted (``cutout_batches_counted``): two queries, any length."""
    return cutout_batches_counted(list(
        CutoutBatch.objects.select_related("created_by").order_by("-created_at")[:limit]))


def cutout_versions(*, asset_id: int) -> list[Cutout]:
    return list(Cutout.objects.filter(asset_id=asset_id).order_by("-version"))


def notification_unread(*, user, limit: int = 20) -> list[Notification]:
    return list(Notification.objects.filter(user=user, read_at__isnull=True)[:limit])


def notification_unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def assets_for_cutout(
    *, asset_ids: list[int] | None = None, product_id: int | None = None,
    import_job_id: int | None = None, all_pending: bool = False,
    product_ids=None, skus: list[str] | None = None,
):
    """Live assets chosen for a batch: a selection (images, products by id or id subquery, or
    SKUs), a product, an import, or all pending."""
    from catalog.models import AssetStatus, ImageAsset

    rows = ImageAsset.objects.filter(deleted_at__isnull=True, product__deleted_at__isnull=True)
    if asset_ids or skus:
        rows = rows.filter(Q(pk__in=asset_ids or []) | Q(product__sku__in=skus or []))
    elif product_ids is not None:
        rows = rows.filter(product_id__in=product_ids)
    elif product_id:
        rows = rows.filter(product_id=product_id)
    elif import_job_id:
        rows = rows.filter(import_job_id=import_job_id)
    elif all_pending:
        rows = rows.filter(status=AssetStatus.UPLOADED)
    else:
        return ImageAsset.objects.none()
    return rows.select_related("product").order_by("pk")

"""The one place events are emitted (both apps call ``emit``): webhook deliveries are made
only once the emitting transaction commits, so a rolled-back change announces nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def emit(event_type: str, data: dict, *, more: Callable[[], dict] | None = None) -> None:
    """Announce ``event_type`` with ``data`` (ids and small facts, JSON-safe) on commit.
    ``more`` adds facts that cost a query: it runs only when someone subscribed."""
    timestamp = timezone.now().isoformat()

    def fanout() -> None:
        from .webhooks import deliveries_create

        try:
            deliveries_create(event_type=event_type, data=data, timestamp=timestamp,
                              more=more)
        except Exception:  # a webhook problem must never break the work that emitted it
            logger.exception("could not queue webhook deliveries for %s", event_type)

    transaction.on_commit(fanout)


# --- payloads: ids and small facts, so a receiver can fetch the rest through the API ----------


def image_stored(asset) -> None:
    emit("image.stored", {"image_id": asset.pk, "product_id": asset.product_id,
                          "product_sku": asset.product.sku, "position": asset.position,
                          "sha256": asset.sha256, "import_id": asset.import_job_id})


def import_finished(job_id: int) -> None:
    from .models import ImportJob

    job = ImportJob.objects.filter(pk=job_id).first()
    if job is not None:
        emit("import.finished", {
            "import_id": job.pk, "status": job.status, "message": job.message,
            "imported": job.imported_count, "duplicates": job.duplicate_count,
            "errors": job.error_count, "replaced": job.replaced_count,
            "products_created": job.products_created})


def cutout_event(event_type: str, cutout, *, comment: str | None = None) -> None:
    """``cutout`` is a cutouts.Cutout (duck-typed: catalog never imports cutouts).
    ``comment``: the reviewer's, on a decision (approved, flagged)."""
    data = {
        "cutout_id": cutout.pk, "image_id": cutout.asset_id, "version": cutout.version,
        "batch_id": cutout.batch_id, "status": cutout.status,
        "review_status": cutout.review_status, "risk": cutout.risk,
        "preflags": list(cutout.preflags or []), "flag_reasons": list(cutout.flag_reasons or []),
        "error": cutout.error}
    if comment is not None:
        data["comment"] = comment
    asset_id = cutout.asset_id
    emit(event_type, data, more=lambda: _image_facts(asset_id))


def _image_facts(asset_id: int) -> dict:
    """What a receiver needs to act without a lookup: whose image (SKU) and which one."""
    from .models import ImageAsset

    # The plain manager: a decision on a since-deleted image still names it.
    row = ImageAsset.objects.filter(pk=asset_id).values_list("product__sku",
                                                             "position").first()
    sku, position = row or ("", "")
    return {"product_sku": sku, "position": position}


def export_finished(job) -> None:
    """``job`` is a cutouts.ExportJob (duck-typed), done, failed or cancelled. A dry run
    writes nothing (``exported`` 0): ``would_export`` says how many files a real run would
    write (``null`` on a real run, or a dry run that ended before counting).
    ``failing_included_count`` is the API's (ExportOut): files exported (a dry run: that would
    be) although they fail compliance, with ``include_failing``; part of ``exported``."""
    emit("export.finished", {
        "export_id": job.pk, "status": job.status, "presets": list(job.presets or []),
        "dry_run": bool(job.dry_run),
        "would_export": (job.report or {}).get("would_export") if job.dry_run else None,
        "exported": job.exported_count, "failed": job.failed_count,
        "failing_included_count": int((job.report or {}).get("failing_included_count") or 0),
        "message": job.message,
        "has_zip": bool(job.zip_name)})

"""The single writer of ImageAsset.status, derived from the asset's cutout versions, and the
lock order every writer of an image's versions follows (the image first)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from catalog.models import AssetStatus, ImageAsset

from ..models import Cutout, JobStatus, ReviewDecision, ReviewStatus

# Every service that changes a version calls asset_status_sync; nobody else writes the field.

_ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def assets_lock(*, asset_ids: Iterable[int]) -> None:
    """Lock the images' rows, pk ascending, before any of their versions' rows (inside the
    caller's transaction). Decisions about an image's versions serialise on it: two approvals
    of different versions (v2 in one request, v3 in another) would otherwise each lock only
    their own version, see the other still pending and both succeed; and a writer that took a
    version first and the image last (a run finishing, then syncing the image's status) would
    deadlock against one that took them the other way. NO KEY: rows that merely reference the
    image (a decision, a new version) are not held up."""
    list(ImageAsset.objects.select_for_update(no_key=True)
         .filter(pk__in=sorted(set(asset_ids))).order_by("pk").values_list("pk", flat=True))


def asset_status_derive(versions: list[Cutout], *, reviewed: bool) -> str:
    """The status an asset reads, from its versions (newest first, cancelled ones left out).

    - An approved current version rules: ``approved``, or ``exported`` once an export
      shipped that very version; a newer version in progress does not change it.
    - Otherwise the asset follows its newest version (newer than a flagged current one, if
      any): ``queued`` while it runs; a failed run falls back to the newest run below it
      (``queued`` if that one still runs);
      a finished version reads ``needs_retouch`` if flagged, ``in_review`` once a reviewer
      acted on the asset (flag, re-run, retouch) and ``cut_out`` before that.
    - No finished version at all: ``uploaded`` (or ``needs_retouch`` under a flagged current).
    """
    current = next((v for v in versions if v.is_current), None)
    if current is not None and current.status == JobStatus.DONE and \
            current.review_status == ReviewStatus.APPROVED:
        return AssetStatus.EXPORTED if current.exported_at else AssetStatus.APPROVED
    flagged_current = current is not None and current.review_status == ReviewStatus.FLAGGED
    candidates = [v for v in versions if current is None or v.version > current.version]
    if not candidates:
        return AssetStatus.NEEDS_RETOUCH if flagged_current else AssetStatus.UPLOADED
    # failed runs are passed over: one that failed above a run still under way (a second
    # re-run with a bad model) leaves the asset queued, not back on its flag or finished one
    finished = next((v for v in candidates if v.status != JobStatus.FAILED), None)
    if finished is None:
        return AssetStatus.NEEDS_RETOUCH if flagged_current else AssetStatus.UPLOADED
    if finished.status in _ACTIVE:
        return AssetStatus.QUEUED
    if finished.review_status == ReviewStatus.FLAGGED:
        return AssetStatus.NEEDS_RETOUCH
    if finished.review_status == ReviewStatus.APPROVED:
        return AssetStatus.APPROVED
    return AssetStatus.IN_REVIEW if reviewed or current is not None else AssetStatus.CUT_OUT


def assets_status_sync(*, asset_ids: Iterable[int]) -> dict[int, str]:
    """Derive and store the status of these assets (a few queries, whatever their number)."""
    ids = sorted(set(asset_ids))
    if not ids:
        return {}
    result: dict[int, str] = {}
    with transaction.atomic():
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            versions: dict[int, list[Cutout]] = defaultdict(list)
            rows = (Cutout.objects.filter(asset_id__in=part).exclude(status=JobStatus.CANCELLED)
                    .only("asset_id", "version", "status", "review_status", "is_current",
                          "exported_at").order_by("asset_id", "-version"))
            for row in rows:
                versions[row.asset_id].append(row)
            reviewed = set(ReviewDecision.objects.filter(asset_id__in=part)
                           .values_list("asset_id", flat=True).distinct())
            reviewed |= {aid for aid, rows in versions.items()
                         if any(v.review_status != ReviewStatus.PENDING for v in rows)}
            by_status: dict[str, list[int]] = defaultdict(list)
            for aid in part:
                status = asset_status_derive(versions.get(aid, []), reviewed=aid in reviewed)
                result[aid] = status
                by_status[status].append(aid)
            for status, group in by_status.items():
                ImageAsset.objects.filter(pk__in=group).exclude(status=status).update(
                    status=status)
    return result


def asset_status_sync(asset_id: int) -> str:
    """Derive and store one asset's status; returns it."""
    return assets_status_sync(asset_ids=[asset_id]).get(asset_id, AssetStatus.UPLOADED)

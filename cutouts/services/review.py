"""Review writes: approve, flag, choose a version. Every action leaves a ReviewDecision."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from catalog.models import AssetStatus, ImageAsset

from ..models import Cutout, FlagReason, JobStatus, ReviewDecision, ReviewStatus


class ReviewError(ValueError):
    pass


def _require_done(cutout: Cutout) -> None:
    if cutout.status != JobStatus.DONE:
        raise ReviewError(f"Version {cutout.version} is {cutout.get_status_display().lower()}, "
                          "not a finished cutout.")


def _make_current(cutout: Cutout) -> None:
    # Unset first: the partial unique constraint allows one current version per asset.
    Cutout.objects.filter(asset_id=cutout.asset_id, is_current=True).exclude(
        pk=cutout.pk).update(is_current=False)
    Cutout.objects.filter(pk=cutout.pk).update(is_current=True)


@transaction.atomic
def cutout_approve(*, cutout: Cutout, user, comment: str = "") -> Cutout:
    """Approve a version: it becomes the asset's current one (renditions of other versions
    stop being used, since renditions are keyed by version)."""
    cutout = Cutout.objects.select_for_update().get(pk=cutout.pk)
    _require_done(cutout)
    _make_current(cutout)
    Cutout.objects.filter(pk=cutout.pk).update(
        review_status=ReviewStatus.APPROVED, reviewed_by=user, reviewed_at=timezone.now(),
        flag_reasons=[],
    )
    ImageAsset.objects.filter(pk=cutout.asset_id).update(status=AssetStatus.APPROVED)
    ReviewDecision.objects.create(cutout=cutout, asset_id=cutout.asset_id,
                                  action=ReviewDecision.Action.APPROVE, comment=comment,
                                  user=user)
    cutout.refresh_from_db()
    return cutout


@transaction.atomic
def cutout_flag(*, cutout: Cutout, user, reasons: list[str], comment: str = "") -> Cutout:
    reasons = list(dict.fromkeys(reasons))
    if not reasons:
        raise ReviewError("Pick at least one reason to flag a cutout.")
    unknown = [r for r in reasons if r not in FlagReason.values]
    if unknown:
        raise ReviewError(f"Unknown flag reason(s): {', '.join(unknown)}")
    if FlagReason.OTHER in reasons and not comment.strip():
        raise ReviewError("Say what is wrong in the comment when the reason is 'Other'.")
    cutout = Cutout.objects.select_for_update().get(pk=cutout.pk)
    _require_done(cutout)
    Cutout.objects.filter(pk=cutout.pk).update(
        review_status=ReviewStatus.FLAGGED, flag_reasons=reasons, reviewed_by=user,
        reviewed_at=timezone.now(),
    )
    # A flag on a non-current version does not demote an approved asset.
    if cutout.is_current or not Cutout.objects.filter(asset_id=cutout.asset_id,
                                                      is_current=True).exists():
        ImageAsset.objects.filter(pk=cutout.asset_id).update(status=AssetStatus.NEEDS_RETOUCH)
    ReviewDecision.objects.create(cutout=cutout, asset_id=cutout.asset_id,
                                  action=ReviewDecision.Action.FLAG, reasons=reasons,
                                  comment=comment, user=user)
    cutout.refresh_from_db()
    return cutout


@transaction.atomic
def cutout_choose(*, cutout: Cutout, user, comment: str = "") -> Cutout:
    """Choose an earlier (or any finished) version as current without re-reviewing it."""
    cutout = Cutout.objects.select_for_update().get(pk=cutout.pk)
    _require_done(cutout)
    _make_current(cutout)
    ReviewDecision.objects.create(cutout=cutout, asset_id=cutout.asset_id,
                                  action=ReviewDecision.Action.CHOOSE, comment=comment,
                                  user=user)
    if cutout.review_status == ReviewStatus.APPROVED:
        ImageAsset.objects.filter(pk=cutout.asset_id).update(status=AssetStatus.APPROVED)
    cutout.refresh_from_db()
    return cutout

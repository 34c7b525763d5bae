"""A re-run's or retouch's parent version: out of the review queue while its child runs, back
in it when the child ends without a result (failed or cancelled)."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import Cutout, JobStatus, ReviewDecision, ReviewStatus

_ENDED_EMPTY = (JobStatus.FAILED, JobStatus.CANCELLED)
_ANSWERS = (ReviewDecision.Action.APPROVE, ReviewDecision.Action.CHOOSE)
_UNDO = ReviewDecision.Action.UNDO


def cutouts_parents_give_back(*, cutout_ids: Iterable[int]) -> int:
    """Hand back the parents of these versions that ended without a result: each returns to
    the queue it left (retouch if it was flagged, review otherwise). Returns how many did.

    A re-run or retouch takes its parent out of the queue at once, so the image is not
    reviewed twice while the new version runs. If that version never arrives, the parent is
    the reviewer's work again; left superseded, the image would be in no queue, never
    approved, and its card would show an outdated version as if settled. A parent stays out
    when something else answers it: a newer finished version, another child still running,
    or an approval or choice on the image made after the child was started."""
    ids = list(cutout_ids)
    if not ids:
        return 0
    children = list(Cutout.objects.filter(
        pk__in=ids, status__in=_ENDED_EMPTY, parent__isnull=False,
    ).exclude(review_status=ReviewStatus.SUPERSEDED).values_list("parent_id", "created_at"))
    given = 0
    for parent_id, started in children:
        parent = Cutout.objects.filter(pk=parent_id, review_status=ReviewStatus.SUPERSEDED) \
            .only("pk", "asset_id", "version", "flag_reasons").first()
        if parent is None or _answered(parent, started):
            continue
        given += Cutout.objects.filter(pk=parent.pk, review_status=ReviewStatus.SUPERSEDED) \
            .update(review_status=ReviewStatus.FLAGGED if parent.flag_reasons
                    else ReviewStatus.PENDING)
    return given


def _answered(parent: Cutout, started) -> bool:
    siblings = Cutout.objects.filter(asset_id=parent.asset_id)
    return (siblings.filter(version__gt=parent.version, status=JobStatus.DONE).exists()
            or siblings.filter(parent_id=parent.pk,
                               status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists()
            or _answered_since(parent.asset_id, started))


def _answered_since(asset_id: int, started) -> bool:
    """An approval or choice on the image after ``started`` that no Undo took back (an undone
    approval settled nothing: the parent is the reviewer's work again)."""
    decisions = ReviewDecision.objects.filter(asset_id=asset_id, created_at__gt=started,
                                              action__in=(*_ANSWERS, _UNDO))
    undone = {d.before.get("undid") for d in decisions if d.action == _UNDO}
    return any(d.action in _ANSWERS and d.pk not in undone for d in decisions)

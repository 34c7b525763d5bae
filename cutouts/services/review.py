"""Reviewer decisions: approve, flag, choose, re-run, bulk approve and the engine's pre-flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime

from catalog import events

from ..errors import BatchError, ReviewError, ReviewInputError, StaleReviewError
from ..imaging.settings import PROFILES, profile_or_default
from ..imaging.shadow import OFF_BODY_SHARE
from ..models import (
    CUTOUT_LIVE,
    Cutout,
    CutoutQueue,
    FlagReason,
    JobStatus,
    ReviewDecision,
    ReviewStatus,
)
from ..selectors import review as review_selectors
from ..selectors.review import UNDOABLE, Seen
from ..strengths import STRENGTHS, strength_of
from ..variants.compliance import faint_mark_shows, faint_marks_refusing, too_small_for_export
from .batches import cutout_rerun, cutout_settings_resolve, settings_choices_check
from .status import asset_status_sync, assets_lock

# Every reviewer action leaves a ReviewDecision.


def cutout_require_done(cutout: Cutout) -> None:
    """Raise ReviewError unless this version finished: only finished ones can be judged."""
    if cutout.status != JobStatus.DONE:
        raise ReviewError(f"Version {cutout.version} is {cutout.get_status_display().lower()}, "
                          "not a finished cutout.")

def _make_current(cutout: Cutout) -> None:
    # Unset first: the partial unique constraint allows one current version per asset.
    Cutout.objects.filter(asset_id=cutout.asset_id, is_current=True).exclude(
        pk=cutout.pk).update(is_current=False)
    Cutout.objects.filter(pk=cutout.pk).update(is_current=True)


# --- the staleness policy -----------------------------------------------------------------

Action = ReviewDecision.Action

#: what a refusal calls the decision it did not apply
_REFUSED: dict[str, str] = {
    Action.APPROVE: "your approval", Action.FLAG: "your flag", Action.CHOOSE: "your choice",
    Action.RERUN: "your re-run", Action.STROKES: "your retouch",
    Action.PREFLAG_CONFIRM: "your pre-flag answer", Action.PREFLAG_DISMISS: "your pre-flag answer",
    Action.UNDO: "your undo",
}


def _about(decision: ReviewDecision, cutout: Cutout) -> bool:
    """The decision is about this version: made on it, or a retouch started from it (its row
    is the new version's)."""
    return decision.cutout_id == cutout.pk or decision.cutout.parent_id == cutout.pk


def _decided_words(decision: ReviewDecision) -> tuple[str, str]:
    """(what was done, why) in words: ("flagged v1 for retouch", " (Wrong subject)")."""
    v = f"v{decision.cutout.version}"
    if decision.action == Action.FLAG:
        labels = dict(FlagReason.choices)
        why = ", ".join(labels.get(r, r) for r in decision.reasons)
        return f"flagged {v} for retouch", f" ({why})" if why else ""
    words: dict[str, str] = {
        Action.APPROVE: f"approved {v}", Action.CHOOSE: f"chose {v} as the current version",
        Action.RERUN: f"started a re-run of {v}",
        Action.RETOUCH: f"started a retouch ({v}, an uploaded PNG)",
        Action.STROKES: f"started a retouch ({v}, strokes)",
        Action.UNDO: f"undid a decision on {v}",
    }
    return words.get(decision.action, f"{decision.get_action_display().lower()} {v}"), ""


def _at(moment) -> str:
    local = timezone.localtime(moment)
    today = timezone.localtime(timezone.now()).date()
    return dateformat.format(local, "H:i" if local.date() == today else "Y-m-d H:i")


def _stale_message(*, cutout: Cutout, last: ReviewDecision | None, since: bool, user,
                   action: str) -> str:
    refused = _REFUSED.get(action, "your decision")
    if last is None or not since:
        # changed with no decision since the card was drawn (a re-run that failed gave it
        # back) or by one the caller cannot date (a grid tile knows only the status)
        state = ReviewStatus(cutout.review_status).label.lower()
        # "needs retouch" is a verb phrase; the other labels read after "is"
        state = state if cutout.review_status == ReviewStatus.FLAGGED else f"is {state}"
        return (f"v{cutout.version} {state} now: it changed after you opened it, so "
                f"{refused} was not applied.")
    who = ("You" if last.user_id is not None and last.user_id == getattr(user, "pk", None)
           else last.user.get_username() if last.user else "Someone")
    what, why = _decided_words(last)
    return (f"{who} {what} at {_at(last.created_at)}{why} after you opened it, so {refused} "
            "was not applied.")


#: decisions that answer the image's other versions (``_other_versions_answer``)
_ANSWERING: tuple[str, ...] = (Action.APPROVE, Action.CHOOSE)


class NewerVersionError(StaleReviewError):
    """Refused by ``_newer_version_check``: version ``newer`` of the image (in ``state``)
    was made after the page showing ``version`` was drawn. It keeps the parts so a grid
    approval can say the card's message per tile, pointing at the tile's card."""

    def __init__(self, *, version: int, newer: int, state: str, action: str):
        self.version, self.newer, self.state, self.action = version, newer, state, action
        super().__init__(self.message())

    def message(self, *, where: str = "from this card") -> str:
        if self.action == Action.FLAG:
            return (f"v{self.newer} ({self.state}) is newer than v{self.version}, so "
                    f"{_REFUSED[self.action]} was not applied: the retouch queue lists an "
                    f"image's newest version only, so nobody would see it. Look at "
                    f"v{self.newer} first, and flag it there.")
        return (f"v{self.newer} ({self.state}) was made after you opened v{self.version}, so "
                f"{_REFUSED[self.action]} was not applied: it would have superseded "
                f"v{self.newer}. Look at v{self.newer} first, or use v{self.version} instead "
                f"{where}.")


def _refused_by(newer: Cutout, *, cutout: Cutout, action: str) -> NewerVersionError:
    state = (newer.get_status_display() if newer.status != JobStatus.DONE
             else ReviewStatus(newer.review_status).label).lower()
    return NewerVersionError(version=cutout.version, newer=newer.version, state=state,
                             action=action)


def _newer_version_check(*, cutout: Cutout, seen: Seen, action: str) -> None:
    """An approval or choice answers every other waiting version: one made after the card
    was drawn (a re-cut from the product list leaves no decision to change the revision)
    would be superseded unseen, so the decision is refused, naming it."""
    if action not in _ANSWERING or seen.newest is None:
        return
    newer = review_selectors.newer_version(cutout=cutout, than=seen.newest)
    if newer is not None:
        raise _refused_by(newer, cutout=cutout, action=action)


def _older_version_flag_check(*, cutout: Cutout, action: str) -> None:
    """A flag on a version its image has a newer run of (finished, queued or running, and
    not superseded) is refused, whatever the card showed and from an API client too: the
    retouch queue lists such a flag nowhere (``review_selectors.flag_hiding_version``, the
    queue's own test), so it would reach nobody (QA35 B2: accepted, its webhook sent, and
    the comment lost)."""
    if action != Action.FLAG:
        return
    newer = review_selectors.flag_hiding_version(cutout=cutout)
    if newer is not None:
        raise _refused_by(newer, cutout=cutout, action=action)


def review_state_check(*, cutout: Cutout, seen: Seen | None, user, action: str) -> bool:
    """The one staleness policy of every decision on a version — the card's, a grid
    approval's, an Undo's — called with the image and the version locked.

    ``seen`` is the state the decision was made on (``selectors.review.Seen``): the version's
    review status and the image's review revision when the card was drawn. While both still
    hold the decision goes ahead (False). When they no longer do it is refused with a
    StaleReviewError naming who decided what and when, except when the change is this
    reviewer's own same decision on this version (a double click, A pressed twice): True,
    and the caller returns what is there without a second audit row. ``seen`` None (an API
    client, which sends no state) applies the decision as before. An approval or a choice
    is refused too when the image has a version newer than the card showed
    (``seen.newest``): it would supersede that version unseen. A flag is refused when the
    image has any newer version (``_older_version_flag_check``), ``seen`` or not."""
    _older_version_flag_check(cutout=cutout, action=action)
    if seen is None:
        return False
    last = review_selectors.review_last_decision(asset_id=cutout.asset_id)
    revision = last.pk if last is not None else 0
    if cutout.review_status == seen.review_status and seen.revision in (None, revision):
        _newer_version_check(cutout=cutout, seen=seen, action=action)
        return False
    since = last is not None and seen.revision is not None and revision > seen.revision
    if (since and last is not None and last.action == action and _about(last, cutout)
            and last.user_id is not None and last.user_id == getattr(user, "pk", None)):
        return True
    raise StaleReviewError(_stale_message(cutout=cutout, last=last, since=since, user=user,
                                          action=action))


def _review_fields(cutout: Cutout) -> dict:
    """A version's review fields as a decision found them, for its Undo."""
    return {"review_status": cutout.review_status, "flag_reasons": list(cutout.flag_reasons),
            "reviewed_by": cutout.reviewed_by_id, "is_current": cutout.is_current,
            "reviewed_at": cutout.reviewed_at.isoformat() if cutout.reviewed_at else None}


def locked_for_decision(cutout: Cutout) -> Cutout:
    """The version read again under its row lock, the image locked first (every writer of
    an image's versions takes them in that order: ``assets_lock``)."""
    assets_lock(asset_ids=[cutout.asset_id])
    return Cutout.objects.select_for_update().get(pk=cutout.pk)


# --- decisions ----------------------------------------------------------------------------


def cutout_approve(*, cutout: Cutout, user, comment: str = "", seen: Seen | None = None
                   ) -> Cutout:
    """Approve a version; see ``cutout_approve_answering``."""
    return cutout_approve_answering(cutout=cutout, user=user, comment=comment, seen=seen)[0]


class Approval(NamedTuple):
    cutout: Cutout
    #: version numbers of the runs still queued or running that the approval answered
    answered: list[int]


@transaction.atomic
def cutout_approve_answering(*, cutout: Cutout, user, comment: str = "",
                             seen: Seen | None = None) -> Approval:
    """Approve a version: it becomes the asset's current one (renditions of other versions
    stop being used, since renditions are keyed by version). Returns it and the version
    numbers of the runs still queued or running that the approval answered (for the
    message: they will finish superseded).

    The approval answers the asset's other versions as a choice does
    (``_other_versions_answer``): approving the old version while a re-run of it is still
    running must not let the re-run come back for review and replace the approval later.
    ``seen``: the state the card showed (``review_state_check``)."""
    cutout = locked_for_decision(cutout)
    cutout_require_done(cutout)
    if review_state_check(cutout=cutout, seen=seen, user=user, action=Action.APPROVE):
        return Approval(cutout, [])
    if (cutout.review_status == ReviewStatus.APPROVED and cutout.is_current
            and not _other_versions_waiting(cutout).exists()):
        # A double click or a replayed POST: already the approved current version, so no
        # second audit row (the row lock above serialises concurrent approvals).
        return Approval(cutout, [])
    before = _review_fields(cutout) | {"current": Cutout.objects.filter(
        asset_id=cutout.asset_id, is_current=True).values_list("pk", flat=True).first()}
    _make_current(cutout)
    Cutout.objects.filter(pk=cutout.pk).update(
        review_status=ReviewStatus.APPROVED, reviewed_by=user, reviewed_at=timezone.now(),
        flag_reasons=[],
    )
    answered = _other_versions_answer(cutout)
    asset_status_sync(cutout.asset_id)
    ReviewDecision.objects.create(
        cutout=cutout, asset_id=cutout.asset_id, action=Action.APPROVE, comment=comment,
        user=user, before=before | {"answered": [[pk, status] for pk, _, _, status in answered]})
    cutout.refresh_from_db()
    events.cutout_event("cutout.approved", cutout, comment=comment)
    return Approval(cutout, _unfinished(answered))


#: what an approval or a choice answers: finished versions and the runs not finished yet
_ANSWERED_RUNS = [JobStatus.DONE, JobStatus.QUEUED, JobStatus.RUNNING]


def _other_versions_waiting(cutout: Cutout):
    """The asset's other versions, finished or still queued or running, that wait for a
    decision: pending review, or flagged for a retouch nobody made."""
    return Cutout.objects.filter(
        asset_id=cutout.asset_id, status__in=_ANSWERED_RUNS,
        review_status__in=[ReviewStatus.PENDING, ReviewStatus.FLAGGED],
    ).exclude(pk=cutout.pk)


def _other_versions_answer(cutout: Cutout) -> list[tuple[int, int, str, str]]:
    """Approving or choosing ``cutout`` answers the asset's other versions waiting for a
    decision: superseded, so neither the review nor the retouch queue (nor a grid approval)
    offers them again. That includes runs still queued or running (a re-run or retouch the
    reviewer started, a batch): a run's finish writes its status and outputs, never
    review_status, so one marked here stays superseded when it is done. Returns each
    answered version as (pk, version, status, review status before)."""
    waiting = _other_versions_waiting(cutout)
    rows = list(waiting.values_list("pk", "version", "status", "review_status"))
    waiting.update(review_status=ReviewStatus.SUPERSEDED)
    return rows


def _unfinished(answered: list[tuple[int, int, str, str]]) -> list[int]:
    """The version numbers of the answered runs not finished yet (for the message: they
    will finish superseded)."""
    return sorted(version for _, version, status, _ in answered if status != JobStatus.DONE)


@transaction.atomic
def cutout_flag(*, cutout: Cutout, user, reasons: list[str], comment: str = "",
                seen: Seen | None = None) -> Cutout:
    reasons = list(dict.fromkeys(reasons))
    if not reasons:
        raise ReviewInputError("Pick at least one reason to flag a cutout.", field="reasons")
    unknown = [r for r in reasons if r not in FlagReason.values]
    if unknown:
        raise ReviewInputError(f"Unknown flag reason(s): {', '.join(unknown)}",
                               field="reasons")
    if FlagReason.OTHER in reasons and not comment.strip():
        raise ReviewInputError("Say what is wrong in the comment when the reason is 'Other'.",
                               field="comment")
    cutout = locked_for_decision(cutout)  # the image before the version, as an approval does
    cutout_require_done(cutout)
    if review_state_check(cutout=cutout, seen=seen, user=user, action=Action.FLAG):
        return cutout
    before = _review_fields(cutout)
    Cutout.objects.filter(pk=cutout.pk).update(
        review_status=ReviewStatus.FLAGGED, flag_reasons=reasons, reviewed_by=user,
        reviewed_at=timezone.now(),
    )
    ReviewDecision.objects.create(cutout=cutout, asset_id=cutout.asset_id,
                                  action=Action.FLAG, reasons=reasons,
                                  comment=comment, user=user, before=before)
    # A flag on a non-current version does not demote an approved asset (the derivation
    # follows the approved current version).
    asset_status_sync(cutout.asset_id)
    cutout.refresh_from_db()
    events.cutout_event("cutout.flagged", cutout, comment=comment)
    return cutout


@transaction.atomic
def cutout_choose(*, cutout: Cutout, user, comment: str = "",
                  seen: Seen | None = None) -> Cutout:
    """Choose any finished version as the current one. Choosing is the reviewer's approval of
    that version: it is what the asset shows and what export ships (approve v1, then choose
    v2 -> v2 is approved and current, v1 stays approved but is no longer current).

    The choice answers every other version awaiting review, including runs still queued or
    running (a re-run or retouch the reviewer started, a batch): they finish superseded, so
    they never come back to the review queue or bulk approval to replace the choice. They
    stay in the version list, and choosing or approving one later is a new decision."""
    cutout = locked_for_decision(cutout)
    cutout_require_done(cutout)
    if review_state_check(cutout=cutout, seen=seen, user=user, action=Action.CHOOSE):
        return cutout
    _make_current(cutout)
    if cutout.review_status != ReviewStatus.APPROVED:
        Cutout.objects.filter(pk=cutout.pk).update(
            review_status=ReviewStatus.APPROVED, reviewed_by=user, reviewed_at=timezone.now(),
            flag_reasons=[])
    _other_versions_answer(cutout)
    ReviewDecision.objects.create(cutout=cutout, asset_id=cutout.asset_id,
                                  action=Action.CHOOSE, comment=comment,
                                  user=user)
    asset_status_sync(cutout.asset_id)
    cutout.refresh_from_db()
    return cutout


@transaction.atomic
def cutout_decision_undo(*, cutout: Cutout, decision_id: int, user) -> Cutout:
    """Take back a reviewer's own approval or flag: the version gets back the review state
    it had (awaiting review, as a rule), and an approval gives the image back the version
    that was current and the versions it answered. Only while that decision is still the
    image's latest: the same compare-and-set as every decision (``review_state_check``, with
    the state the decision left), so a decision someone made since is never undone. The
    Undo is itself a decision in the history (``undo``). Returns the version."""
    decision = ReviewDecision.objects.filter(pk=decision_id, cutout_id=cutout.pk).first()
    if decision is None or decision.action not in UNDOABLE or not decision.before:
        raise ReviewError("That decision cannot be undone.")
    if decision.user_id != getattr(user, "pk", None):
        raise ReviewError("Only the reviewer who made a decision can undo it.")
    cutout = locked_for_decision(cutout)
    seen = Seen(review_status=UNDOABLE[decision.action], revision=decision.pk)
    if review_state_check(cutout=cutout, seen=seen, user=user, action=Action.UNDO):
        return cutout
    before = decision.before
    if decision.action == Action.APPROVE:
        if not before.get("is_current"):
            Cutout.objects.filter(pk=cutout.pk).update(is_current=False)
            if before.get("current"):
                Cutout.objects.filter(pk=before["current"], asset_id=cutout.asset_id).update(
                    is_current=True)
        for pk, status in before.get("answered", []):
            # only what the approval superseded, and nothing since has (the check above)
            Cutout.objects.filter(pk=pk, asset_id=cutout.asset_id,
                                  review_status=ReviewStatus.SUPERSEDED).update(
                review_status=status)
    reviewed_at, reviewed_by = before.get("reviewed_at"), before.get("reviewed_by")
    if reviewed_by is not None and not get_user_model().objects.filter(pk=reviewed_by).exists():
        reviewed_by = None  # that reviewer's account is gone (the row would say SET_NULL)
    Cutout.objects.filter(pk=cutout.pk).update(
        review_status=before.get("review_status", ReviewStatus.PENDING),
        flag_reasons=before.get("flag_reasons", []), reviewed_by_id=reviewed_by,
        reviewed_at=parse_datetime(reviewed_at) if reviewed_at else None)
    asset_status_sync(cutout.asset_id)
    ReviewDecision.objects.create(
        cutout=cutout, asset_id=cutout.asset_id, action=Action.UNDO, user=user,
        reasons=list(decision.reasons), before={"undid": decision.pk},
        comment=f"Undid: {decision.get_action_display().lower()} "
                f"({timezone.localtime(decision.created_at):%Y-%m-%d %H:%M}).")
    cutout.refresh_from_db()
    return cutout


# --- pre-flags and risk -------------------------------------------------------------------

#: the pre-flags the export warnings on the card read (templatetags/export_size.py): one key
#: each, here, so a renamed pre-flag cannot leave the card's note silent
TOO_SMALL_FLAG = "too_small_for_export"
FAINT_FLAG = "faint_marks"  # a faint mark a white-background preset refuses
FAINT_LOOK_FLAG = "faint_cloud"  # a smaller one no preset refuses, shipped with a warning
OFF_BODY_FLAG = "shadow_off_body"  # the synthetic shadow lies under a stray part

PREFLAGS: dict[str, str] = {
    "empty": "Empty cutout",
    # the kept product is a speck of the frame (signals.TINY_SHARE): usually a wrong cut
    "tiny_subject": "Tiny subject",
    "halo_risk": "Halo risk",
    "fragments": "Fragments",
    "touches_frame": "Touches frame",
    "low_confidence": "Low confidence",
    "uncertain_edges": "Uncertain edges",
    # a hint, not a verdict: glass and clear plastic are translucent inside by right
    "see_through": "See-through inside (glass is fine)",
    # a marketplace preset would enlarge the product past its limit, so export leaves it out
    # (compliance.too_small_for_export): told before approval, not after
    TOO_SMALL_FLAG: "Too small for export",
    # a see-through mark a white-background preset refuses (a grey cloud on white; the
    # cutout's faint_marks signal, compliance.faint_marks_refused): told before approval
    FAINT_FLAG: "Faint marks: white-background exports refuse them",
    # a smaller one no preset refuses, shipped with a warning: a grey cloud on white all the
    # same (compliance.faint_mark_shows); a hint, so it stays out of the risk. One measure,
    # two verdicts: the labels share "Faint marks" and say what export does (QA 2026-12-06:
    # "Faint mark (a grey cloud on white)" read as the same flag as the refused one)
    FAINT_LOOK_FLAG: "Faint marks: exports ship them with a warning",
    # the synthetic shadow sits under whatever is lowest, here not the product's largest part
    # (a kept sign, a faint skirt; signals.shadow_off_body). A retouch redraws a synthetic
    # shadow from its own alpha, so the words name both fixes that move it (2026-12-07,
    # shadow43, reshadow43)
    OFF_BODY_FLAG: ("Shadow off the product: remove the stray part in Retouch, or re-run with "
                    "Shadow none"),
}

#: the pre-flags the cutout's faint_marks signal raises (one at most)
FAINT_PREFLAGS = (FAINT_FLAG, FAINT_LOOK_FLAG)

# the share of the product's outline translucent deep inside it (signals.see_through) above
# which the reviewer is told: a cap of 7 % of a bottle cut to alpha .75 reads .06. On the dev
# set's `default` cutouts it fires on 25 of 84 (docs/review.md); it stays out of the risk,
# which it did not improve out of sample.
SEE_THROUGH_FLAG = 0.05
# a product export will leave out is worth a look before approval, but the cut itself may be
# fine: it weighs in the hand-made tie-break only, so the calibrated risk still puts every
# likely bad cut first and a too-small one comes before an equally trusted clean one
TOO_SMALL_RISK = 0.5
# the same for a faint mark export will refuse: two touches fix it, but only once seen
FAINT_MARKS_RISK = 0.5
# what one point of that tie-break takes of the room between the calibrated probability and 1
TIE_BREAK = 0.01


def preflags_from_signals(signals: dict | None) -> tuple[list[str], float]:
    """Engine quality signals -> (pre-flags for the reviewer, risk score; higher = look
    first). Each signal adds to the risk in proportion to how bad it is, so the queue can be
    sorted even among cutouts that raise the same pre-flags."""
    s = signals or {}

    def num(key: str, default: float = 0.0) -> float:
        value = s.get(key, default)
        return float(value) if isinstance(value, int | float) and not isinstance(
            value, bool) else default

    flags: list[str] = []
    risk = 0.0
    if s.get("empty"):
        flags.append("empty")
        risk += 5.0
    elif s.get("tiny_subject"):
        flags.append("tiny_subject")
        risk += 1.0
    halo = num("halo_risk")
    if halo >= 0.3:
        flags.append("halo_risk")
    risk += halo
    fragments = int(num("fragment_count", 1))
    if fragments >= 2:
        flags.append("fragments")
        risk += 0.6 * min(1.0, (fragments - 1) / 3)
    if s.get("touches_frame"):
        flags.append("touches_frame")
        risk += 0.3
    confidence = num("confidence", 1.0)
    if s.get("low_confidence"):
        flags.append("low_confidence")
    risk += max(0.0, 1.0 - confidence)
    uncertain = num("uncertain_fraction")
    if uncertain >= 0.05:
        flags.append("uncertain_edges")
    risk += 0.5 * min(1.0, uncertain / 0.1)
    if num("see_through") >= SEE_THROUGH_FLAG:
        flags.append("see_through")
    if too_small_for_export(s):
        flags.append(TOO_SMALL_FLAG)
        risk += TOO_SMALL_RISK
    if faint_marks_refusing(s.get("faint_marks")):
        flags.append(FAINT_FLAG)
        risk += FAINT_MARKS_RISK
    elif faint_mark_shows(s.get("faint_marks")):
        flags.append(FAINT_LOOK_FLAG)
    # only a cutout that asked for a synthetic shadow has the signal; a hint, out of the risk
    # (the cut may be right: the shadow, not the product, is misplaced)
    if num(OFF_BODY_FLAG) > OFF_BODY_SHARE:
        flags.append(OFF_BODY_FLAG)
    if s:
        # The engine's calibrated P(IoU < .80) ranks the queue (issue 12); the hand-made sum
        # above only breaks ties and still drops when a reviewer dismisses a pre-flag. It takes
        # a share (1 % per point) of the room left above the probability, not a fixed 0.01
        # per point: added on top, a near-certain bad cut read "Risk 1.01" (QA 2026-12-04),
        # and the risk is documented as a probability, in [0, 1].
        from cutouts.imaging.signals import risk_score

        p = risk_score(s)
        risk = p + (1.0 - p) * min(1.0, max(0.0, TIE_BREAK * risk))
    # six places: near p = 1 the tie-break's share is a few millionths, and still orders
    return flags, round(risk, 6)


_PREFLAG_SIGNALS = {
    # "detached" (and formerly "parts") is what the risk model reads for fragments:
    # dismissing the flag drops them all
    "empty": ("empty",), "tiny_subject": ("tiny_subject",), "halo_risk": ("halo_risk",),
    "fragments": ("fragment_count", "parts", "detached"),
    "touches_frame": ("touches_frame",), "low_confidence": ("low_confidence", "confidence"),
    "uncertain_edges": ("uncertain_fraction",), "see_through": ("see_through",),
    TOO_SMALL_FLAG: ("product_px", "product_fill_px"), FAINT_FLAG: ("faint_marks",),
    FAINT_LOOK_FLAG: ("faint_marks",), OFF_BODY_FLAG: (OFF_BODY_FLAG,),
}


def _risk_without(signals: dict, dismissed: set[str]) -> float:
    hidden = {key for flag in dismissed for key in _PREFLAG_SIGNALS.get(flag, ())}
    return preflags_from_signals({k: v for k, v in signals.items() if k not in hidden})[1]


def risk_of(*, signals: dict | None, preflags: list[str]) -> float:
    """A finished cutout's risk from its stored signals, without the pre-flags a reviewer
    dismissed (those the signals raise but ``preflags`` no longer holds)."""
    raised, _ = preflags_from_signals(signals)
    return _risk_without(signals or {}, set(raised) - set(preflags))


@transaction.atomic
def cutout_preflag_resolve(*, cutout: Cutout, user, preflag: str, confirm: bool,
                           comment: str = "", seen: Seen | None = None) -> Cutout:
    """A reviewer confirms a pre-flag (it stays, audited) or dismisses it: it leaves the row
    and stops counting towards the risk; the audit keeps what the engine said."""
    cutout = locked_for_decision(cutout)
    action = Action.PREFLAG_CONFIRM if confirm else Action.PREFLAG_DISMISS
    if review_state_check(cutout=cutout, seen=seen, user=user, action=action):
        return cutout
    if preflag not in cutout.preflags:
        raise ReviewError(f"Version {cutout.version} has no pre-flag {preflag!r}.")
    if not confirm:
        remaining = [p for p in cutout.preflags if p != preflag]
        risk = risk_of(signals=cutout.signals, preflags=remaining)
        Cutout.objects.filter(pk=cutout.pk).update(preflags=remaining, risk=risk)
    ReviewDecision.objects.create(cutout=cutout, asset_id=cutout.asset_id, action=action,
                                  reasons=[preflag], comment=comment, user=user)
    cutout.refresh_from_db()
    return cutout

# --- re-run with other settings -----------------------------------------------------------

def cutout_review_rerun(*, cutout: Cutout, user, model: str | None = None,
                        tta: bool | None = None, shadow: str | None = None,
                        strength: str | None = None, profile: str | None = None,
                        comment: str = "", seen: Seen | None = None,
                        unchanged_refused: bool = False) -> Cutout:
    """Queue a new version of the cutout's asset with other settings (interactive queue);
    see ``cutout_review_rerun_start``."""
    return cutout_review_rerun_start(cutout=cutout, user=user, model=model, tta=tta,
                                     shadow=shadow, strength=strength, profile=profile,
                                     comment=comment, seen=seen,
                                     unchanged_refused=unchanged_refused)[0]


def _rerun_input_check(*, model: str | None, shadow: str | None, strength: str | None,
                       profile: str | None) -> None:
    """Raise ReviewInputError naming the first value no re-run could use (None: the
    version's own, always usable). The one place that says what a re-run accepts: the API
    and the card both rely on it."""
    if strength is not None and strength not in STRENGTHS:
        raise ReviewInputError(f"Unknown refinement strength {strength!r}; one of: "
                               f"{', '.join(STRENGTHS)}.", field="strength")
    try:
        settings_choices_check(shadow=shadow, profile_name=profile, model=model)
    except BatchError as exc:
        message = f"Cannot re-run with these settings: {exc}" if exc.field == "model" else str(exc)
        raise ReviewInputError(message, field=exc.field) from exc


@dataclass(frozen=True)
class _Rerun:
    profile_name: str
    overrides: dict
    wanted: dict  # the resolved settings the new version records
    tta: bool
    shadow: str
    strength: str


def _rerun_resolved(*, cutout: Cutout, model: str | None, tta: bool | None,
                    shadow: str | None, strength: str | None, profile: str | None) -> _Rerun:
    """The settings a re-run of ``cutout`` with these values runs (None: the version's own,
    see ``cutout_review_rerun_start``); raises ReviewInputError for values no re-run takes."""
    _rerun_input_check(model=model, shadow=shadow, strength=strength, profile=profile)
    own = cutout.settings or {}
    # TTA and strength are quality knobs of a profile: another profile brings its own
    base = own if profile is None else PROFILES[profile].to_dict()
    tta = bool(base.get("tta_flip", True)) if tta is None else tta
    strength = strength_of(base) if strength is None else strength
    shadow = (own.get("shadow") or "none") if shadow is None else shadow
    profile_name = profile or profile_or_default(cutout.profile)
    overrides = {"tta_flip": bool(tta), "shadow": shadow, **STRENGTHS[strength]}
    try:
        wanted = cutout_settings_resolve(profile_name=profile_name, overrides=overrides,
                                         model=model or None)
    except BatchError as exc:
        raise ReviewInputError(f"Cannot re-run with these settings: {exc}") from exc
    return _Rerun(profile_name, overrides, wanted, bool(tta), shadow, strength)


def _rerun_same(cutout: Cutout, run: _Rerun) -> bool:
    # a failed or cancelled version's own settings are a retry, and a retouch version's
    # re-run is the model's cut again: only a finished model version's own is nothing new
    return (cutout.status == JobStatus.DONE and cutout.source == Cutout.Source.MODEL
            and run.wanted == (cutout.settings or {})
            and run.profile_name == profile_or_default(cutout.profile))


def rerun_changes_nothing(*, cutout: Cutout, model: str | None = None) -> bool:
    """Whether the card's re-run panel as it opens (the version's own profile, TTA, shadow
    and strength; ``model``: the one its Model list shows) would run ``cutout``'s exact
    settings again: the panel then says so and holds Re-run until a setting changes."""
    try:
        run = _rerun_resolved(cutout=cutout, model=model, tta=None, shadow=None,
                              strength=None, profile=None)
    except ReviewInputError:
        return False
    return _rerun_same(cutout, run)


@transaction.atomic
def cutout_review_rerun_start(*, cutout: Cutout, user, model: str | None = None,
                              tta: bool | None = None, shadow: str | None = None,
                              strength: str | None = None, profile: str | None = None,
                              comment: str = "", seen: Seen | None = None,
                              unchanged_refused: bool = False) -> tuple[Cutout, bool]:
    """Queue a new version of the cutout's asset with other settings (interactive queue), and
    whether it was created. The version it started from leaves the review queue: the
    reviewer has judged it. ``tta``, ``shadow``, ``strength``, ``profile`` None: the
    version's own, as the card's re-run panel starts from them (``default`` when its profile
    is gone; a re-run of a ``shadow=keep`` version keeps its shadow unless told otherwise);
    ``model`` None: the configured default.

    Values no re-run accepts raise ReviewInputError (naming the field); ReviewError is left
    for what this version's state refuses.

    While a re-run of this version with the same settings (profile included) is still
    queued or running, that one is returned instead (``created`` False): a double click or a
    repeated request would otherwise compute the same version twice and queue both for
    review.

    ``unchanged_refused`` (the card's panel; the API keeps its documented answer): a re-run
    of a finished model version with exactly its own settings is refused
    (``rerun_changes_nothing``), as it would only make the same version again (QA40 L3)."""
    run = _rerun_resolved(cutout=cutout, model=model, tta=tta, shadow=shadow,
                          strength=strength, profile=profile)
    profile_name, overrides, wanted = run.profile_name, run.overrides, run.wanted
    tta, shadow, strength = run.tta, run.shadow, run.strength
    if unchanged_refused and _rerun_same(cutout, run):
        raise ReviewInputError(f"Nothing differs from v{cutout.version}: change a setting to "
                               "re-run.")
    # The row lock serialises concurrent re-runs of one version, so the second sees the first;
    # the image first, as an approval locks it (starting the run locks it too).
    # A re-run on a card someone decided since is refused (``review_state_check``); the same
    # reviewer's repeat finds its own run below.
    review_state_check(cutout=locked_for_decision(cutout), seen=seen, user=user,
                       action=Action.RERUN)
    for pending in Cutout.objects.filter(
            parent_id=cutout.pk, status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
            queue=CutoutQueue.INTERACTIVE, source=Cutout.Source.MODEL).order_by("-version"):
        # Two profiles can resolve to the same settings; the version records its profile.
        if pending.settings == wanted and pending.profile == profile_name:
            return pending, False
    try:
        new = cutout_rerun(asset=cutout.asset, user=user, profile_name=profile_name,
                           overrides=overrides, model=model or None)
    except BatchError as exc:
        raise ReviewInputError(f"Cannot re-run with these settings: {exc}") from exc
    Cutout.objects.filter(pk=new.pk).update(parent=cutout)
    Cutout.objects.filter(pk=cutout.pk, review_status=ReviewStatus.PENDING).update(
        review_status=ReviewStatus.SUPERSEDED)
    summary = (f"v{new.version}: profile {profile_name}, model {new.model_name}, "
               f"TTA {'on' if tta else 'off'}, shadow {shadow}, refinement {strength}")
    ReviewDecision.objects.create(cutout=cutout, asset_id=cutout.asset_id,
                                  action=Action.RERUN,
                                  comment=f"{summary}. {comment}".strip(), user=user)
    asset_status_sync(cutout.asset_id)
    new.refresh_from_db()
    return new, True


# --- bulk ---------------------------------------------------------------------------------


class TileRefusal(NamedTuple):
    cutout: Cutout  # with its asset and product, for the tile's name
    message: str


@dataclass(frozen=True)
class BulkApproval:
    """What a grid approval did: versions approved, selected versions left out because a
    newer selected version of the same image was approved (one approval per image),
    selected versions no longer awaiting review (decided meanwhile: approved, chosen,
    flagged or superseded) and selected versions whose image or product was deleted (or that
    no longer exist): a reviewer reads those two apart, someone else's decision is not a
    deletion."""

    approved: int
    older: int
    not_pending: int
    deleted: int = 0
    #: selected versions refused by the staleness policy: their image got a newer version
    #: (``NewerVersionError``) or another decision (``StaleReviewError``: a flag taken back,
    #: an approval made during the request) after the page was drawn, each with the card's
    #: message for it
    refused: tuple[TileRefusal, ...] = ()


def cutouts_bulk_approve(*, cutout_ids: list[int], user,
                         seen: Mapping[int, Seen] | None = None) -> BulkApproval:
    """Approve the selected versions still awaiting review, one per image — the newest
    selected — with one audited decision each. Approving two versions of an image would
    leave both approved (the older one current first, then not) with two audit rows; the
    approval answers the image's other waiting versions anyway.

    Each version is read again under its row lock before it is approved: one approved,
    chosen, flagged or superseded since the page was drawn (or by an earlier approval of
    this request), or whose image was deleted meanwhile, is not approved. ``seen``: each
    tile's state as the grid drew it, by version id (a version without one is checked as
    awaiting review only); one whose image got a newer version since is refused as its card
    would refuse it (``BulkApproval.refused``), since approving it would supersede that
    version unseen, and so is one whose image another reviewer decided on since (a flag
    taken back leaves it awaiting review, but not as the tile showed it)."""
    seen = seen or {}
    wanted = set(cutout_ids)
    # Deleted images (or products) are out of every bulk action, even if still selected.
    live = list(Cutout.objects.filter(CUTOUT_LIVE, pk__in=wanted).values_list(
        "pk", "asset_id", "version", "status", "review_status"))
    rows = [(pk, asset_id, version) for pk, asset_id, version, status, review_status in live
            if status == JobStatus.DONE and review_status == ReviewStatus.PENDING]
    newest: dict[int, tuple[int, int]] = {}
    for pk, asset_id, version in rows:
        if asset_id not in newest or version > newest[asset_id][1]:
            newest[asset_id] = (pk, version)
    approved = deleted_meanwhile = 0
    refused: list[tuple[int, str]] = []
    with transaction.atomic():
        # every image first, pk ascending: two grid approvals sharing images cannot deadlock
        assets_lock(asset_ids=newest.keys())
        # read again now that the images are locked: one deleted since the read above is
        # left out too (and counted as deleted, not as decided)
        still_live = set(Cutout.objects.filter(
            CUTOUT_LIVE, pk__in=[pk for pk, _ in newest.values()]).values_list("pk", flat=True))
        for asset_id, (pk, _) in sorted(newest.items(), key=lambda item: item[1]):
            if pk not in still_live:
                deleted_meanwhile += 1
                continue
            # the tile was drawn awaiting review: the one staleness policy of every decision
            # (review_state_check) refuses one decided since, or one whose image got a newer
            # version than the tile's token says
            try:
                cutout_approve(cutout=Cutout(pk=pk, asset_id=asset_id), user=user,
                               comment="bulk approve",
                               seen=seen.get(pk) or Seen(review_status=ReviewStatus.PENDING))
            except NewerVersionError as newer:
                refused.append((pk, newer.message(where="from its card")))
                continue
            except StaleReviewError as stale:
                refused.append((pk, str(stale)))
                continue
            approved += 1
        # read while the images are locked: the tiles are named by SKU and image
        named = Cutout.objects.select_related("asset", "asset__product").in_bulk(
            [pk for pk, _ in refused]) if refused else {}
    return BulkApproval(
        approved=approved, older=len(rows) - len(newest),
        not_pending=(len(live) - len(rows) + len(newest) - approved - deleted_meanwhile
                     - len(refused)),
        deleted=len(wanted) - len(live) + deleted_meanwhile,
        refused=tuple(TileRefusal(named[pk], message) for pk, message in refused))

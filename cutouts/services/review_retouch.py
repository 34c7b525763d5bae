"""Strokes applied on the review card: a retouch (``retouch.cutout_retouch_strokes``) under
the card's staleness check, like every decision made there. Its own module: ``retouch``
imports ``review``, so ``review`` cannot import ``retouch``."""

from __future__ import annotations

from django.db import transaction

from ..models import Cutout, ReviewDecision
from ..selectors.review import Seen
from .retouch import cutout_retouch_strokes
from .review import locked_for_decision, review_state_check


@transaction.atomic
def cutout_review_strokes(*, cutout: Cutout, user, strokes: object, comment: str = "",
                          seen: Seen | None = None) -> Cutout:
    """Queue the retouch of ``cutout`` the card's strokes make (a new version a worker
    computes), refused like any decision when the version was decided since the card was
    drawn (``seen``; None: applied as before)."""
    review_state_check(cutout=locked_for_decision(cutout), seen=seen, user=user,
                       action=ReviewDecision.Action.STROKES)
    return cutout_retouch_strokes(cutout=cutout, user=user, strokes=strokes, comment=comment)

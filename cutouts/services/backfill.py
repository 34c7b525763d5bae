"""Measures finished versions for a signal added after they were made (the faint-mark
measure export compliance reads), so the review's pre-flag and the export form's pre-check
see an older version as they see a new one."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from django.core.files.storage import storages
from django.db import transaction

from ..imaging.encode import decode_cutout
from ..models import Cutout, JobStatus, ReviewStatus
from ..variants.compliance import faint_marks_signal
from .review import preflags_from_signals, risk_of

#: what one version's backfill did: measured (and pre-flagged, when a white-background preset
#: will refuse it and it still awaits review), nothing to do, or its files could not be read
Backfilled = Literal["measured", "preflagged", "skipped", "unreadable"]


def _stored_alpha(cutout: Cutout) -> np.ndarray | None:
    """The version's alpha as its files hold it: the mask PNG (one channel, what the run
    encoded from the same array), else the cutout's alpha channel; None when neither reads
    (a missing or damaged file: the row is left as it is, and the caller says so)."""
    storage = storages["default"]
    if cutout.mask_name:
        try:
            with storage.open(cutout.mask_name, "rb") as fh:
                data = np.frombuffer(fh.read(), np.uint8)
            alpha = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        except (OSError, cv2.error):
            alpha = None
        if alpha is not None and alpha.ndim == 2 and alpha.dtype == np.uint8:
            return alpha
    if cutout.rgba_name:
        try:
            with storage.open(cutout.rgba_name, "rb") as fh:
                return np.ascontiguousarray(decode_cutout(fh)[..., 3])
        except (OSError, ValueError, SyntaxError):
            return None
    return None


def cutout_faint_marks_backfill(*, cutout_id: int) -> Backfilled:
    """Store ``signals["faint_marks"]`` on a finished version made before the signal existed,
    measured from its stored alpha exactly as a run measures it; a version still awaiting
    review that a white-background preset will refuse gets the *Faint marks* pre-flag and the
    risk that goes with it. A version already measured, not finished, or changed meanwhile is
    left alone, so running it twice (or beside a retouch) changes nothing."""
    cutout = Cutout.objects.filter(pk=cutout_id, status=JobStatus.DONE).only(
        "pk", "mask_name", "rgba_name", "signals").first()
    if cutout is None or "faint_marks" in (cutout.signals or {}):
        return "skipped"
    alpha = _stored_alpha(cutout)
    if alpha is None:
        return "unreadable"
    signal = faint_marks_signal(alpha)
    del alpha
    with transaction.atomic():
        row = (Cutout.objects.select_for_update()
               .filter(pk=cutout_id, status=JobStatus.DONE)
               .only("pk", "signals", "preflags", "review_status", "risk").first())
        if row is None or "faint_marks" in (row.signals or {}):
            return "skipped"
        signals = {**(row.signals or {}), "faint_marks": signal}
        fields: dict = {"signals": signals}
        # the review's own pre-flag policy decides, as for a version that finished today
        flag = (row.review_status == ReviewStatus.PENDING
                and "faint_marks" in preflags_from_signals(signals)[0]
                and "faint_marks" not in (row.preflags or []))
        if flag:
            preflags = [*(row.preflags or []), "faint_marks"]
            fields.update(preflags=preflags, risk=risk_of(signals=signals, preflags=preflags))
        Cutout.objects.filter(pk=row.pk).update(**fields)
    return "preflagged" if flag else "measured"

"""Measures finished versions for the signals added after they were made, from their stored
files and exactly as a run measures them, so an older version reads as a new one: the faint
marks export compliance reads (2026-12-04), the half-kept parts and the detached share the
risk model reads (2026-12-05; without them the review queue ranks older versions on the risk
before its refit, and recomputing their risk from the stored JSON alone would read
``half_kept`` and ``detached`` as 0), and the product's size as the renderer measures it
(``product_px`` with ``product_fill_px``, 2026-12-05: the older ``product_px``, a working-copy
measure, made the export form's pre-check disagree with the export), and the sides the photo's
frame cuts the product on as the renderer judges them (``frame_cut``, 2026-12-06: the engine's
``touching_sides`` counts a far detached part the layout leaves out, so the pre-check and a dry
run refused an Amazon main image the export shipped) with the count of those parts
(``dropped_parts``, whose warning a dry run foresees)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
from django.core.files.storage import storages
from django.db import transaction
from PIL import Image

from catalog.models import ImageAsset
from catalog.selectors import asset_working_open

from ..imaging.encode import decode_cutout, decode_working_copy
from ..imaging.models import REGISTRY
from ..imaging.pipeline import work_size
from ..imaging.retouch import WORK_MAX as RETOUCH_WORK_MAX
from ..imaging.retouch import reduce_for_cut
from ..imaging.signals import component_areas, detached_share, drawn_signals, half_kept
from ..models import Cutout, JobStatus, ReviewStatus
from ..variants.compliance import export_signals
from .review import FAINT_PREFLAGS, TOO_SMALL_FLAG, preflags_from_signals, risk_of

#: the signals a version made before them gets from its files, in the order they came
BACKFILLED_SIGNALS = ("faint_marks", "half_kept", "detached", "product_fill_px", "frame_cut",
                      "dropped_parts", "export_shadow_off")

#: which stored file could not be read: the version's own (its mask, then its cutout), or its
#: image's working copy (missing, damaged, or no longer the cutout's size)
Unreadable = Literal["cutout", "photo"]


@dataclass(frozen=True)
class Backfilled:
    """What one version's backfill did."""

    outcome: Literal["measured", "skipped", "unreadable"]
    #: the signals stored, of ``BACKFILLED_SIGNALS``
    stored: tuple[str, ...] = ()
    #: awaiting review, and its faint mark raises a pre-flag (``FAINT_PREFLAGS``): given it
    preflagged: bool = False
    #: awaiting review, and its risk recomputed (``risk_of``) on the completed signals changed
    rescored: bool = False
    unreadable: Unreadable | None = None


SKIPPED = Backfilled("skipped")


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


def _stored_photo(asset: ImageAsset) -> np.ndarray | None:
    """The image's working copy, what the run read (``runs._load_working_copy``); None when
    it is missing or damaged (``rebuild_working_copies`` repairs it)."""
    try:
        with asset_working_open(asset=asset) as fh:
            return decode_working_copy(fh)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def _run_reduced(image: np.ndarray) -> np.ndarray:
    """``image`` (the photo or the alpha) at the working size ``run_pipeline`` measures its
    signals at (``work_size``), INTER_AREA as it reduces; the image itself when small enough
    (a test holds the result to the run's own measure)."""
    h, w = image.shape[:2]
    hw, ww = work_size(h, w)
    if (hw, ww) == (h, w):
        return image
    return cv2.resize(image, (ww, hw), interpolation=cv2.INTER_AREA)


def _input_size(cutout: Cutout) -> int:
    """The model's input side the run measured in model px: from its provenance
    (``ModelSpec.version``, "name@size:digest"), else the registry's spec of its name, else
    the 320 px ``quality_signals`` assumes when it is not told."""
    _, at, rest = cutout.model_version.partition("@")
    size = rest.partition(":")[0]
    if at and size.isdigit() and int(size) > 0:
        return int(size)
    spec = REGISTRY.get(cutout.model_name)
    return spec.input_size if spec is not None else 320


def _half_kept(cutout: Cutout, photo_w: np.ndarray, alpha: np.ndarray) -> float:
    """``signals["half_kept"]`` as the version's run measured it. ``photo_w``: the working
    copy already reduced as that run reduces it (``_photo_reduced``), so the full-size photo
    and the full-size alpha are never held together."""
    if cutout.source == Cutout.Source.RETOUCH:
        # strokes or an upload: the retouch's own call, with the reductions it stores as the
        # retouch base (services.retouch._retouch_output)
        alpha_w = reduce_for_cut(alpha, RETOUCH_WORK_MAX)
        sig = drawn_signals(alpha, photo_w, reduced=(alpha_w, photo_w))
        # no product (at the reduced size): the run stores none, the risk reads a missing one
        # as 0.0, and storing that keeps the version from being measured again on a re-run
        return float(sig.get("half_kept", 0.0))
    alpha_wf = _run_reduced(alpha).astype(np.float32)
    alpha_wf /= 255.0
    if not np.count_nonzero(alpha_wf >= 0.5):
        return 0.0  # no product: quality_signals' own 0.0
    model_px = max(alpha_wf.shape) / _input_size(cutout)  # run_pipeline's
    return round(half_kept(photo_w, alpha_wf, model_px), 4)


def _detached(cutout: Cutout, alpha: np.ndarray) -> float:
    """``signals["detached"]`` as the version's run measured it, from the alpha alone: a
    retouch at full size (``drawn_signals``), a model run at its working size."""
    obj = (alpha if cutout.source == Cutout.Source.RETOUCH else _run_reduced(alpha)) >= 128
    x, y, w, h = cv2.boundingRect(obj.view(np.uint8))
    return round(detached_share(component_areas(obj[y:y + h, x:x + w])), 4)


def _photo_reduced(cutout: Cutout, photo: np.ndarray) -> np.ndarray:
    if cutout.source == Cutout.Source.RETOUCH:
        return np.ascontiguousarray(reduce_for_cut(photo, RETOUCH_WORK_MAX))
    return _run_reduced(photo)


def _measure(cutout: Cutout, missing: list[str]) -> dict[str, Any] | Unreadable:
    """The ``missing`` signals of ``cutout`` from its stored files, or which file would not
    read. One full-size array at a time (a 50 MP photo is 150 MB, its alpha 50 MB): the photo
    is read and reduced first, then the alpha."""
    photo_w = shape = None
    if "half_kept" in missing:
        photo = _stored_photo(cutout.asset)
        if photo is None:
            return "photo"
        shape = photo.shape[:2]
        photo_w = _photo_reduced(cutout, photo)
        del photo
    alpha = _stored_alpha(cutout)
    if alpha is None:
        return "cutout"
    if shape is not None and alpha.shape != shape:
        return "photo"  # not the photo the run cut (the run refuses such a pair too)
    measured: dict[str, Any] = {}
    if {"faint_marks", "product_fill_px", "frame_cut", "dropped_parts",
            "export_shadow_off"} & set(missing):
        export = export_signals(alpha)  # one significant region for them all
        for key in ("faint_marks", "frame_cut", "dropped_parts", "export_shadow_off"):
            if key in missing:
                measured[key] = export[key]
        if "product_fill_px" in missing:
            measured.update(product_px=export["product_px"],
                            product_fill_px=export["product_fill_px"])
    if photo_w is not None:
        measured["half_kept"] = _half_kept(cutout, photo_w, alpha)
    if "detached" in missing:
        measured["detached"] = _detached(cutout, alpha)
    return measured


def cutout_signals_backfill(*, cutout_id: int) -> Backfilled:
    """Store the ``BACKFILLED_SIGNALS`` a finished version made before them lacks, measured
    from its stored files exactly as a run measures them. A version still awaiting review
    gets the risk and pre-flags a version finishing today would: ``risk_of`` on the completed
    signals (the refitted model, the pre-flags a reviewer dismissed still left out) and the
    *Faint marks* pre-flag where a white-background preset will refuse it. An approved,
    flagged or superseded version gets the signals only: its review, pre-flags and risk stand.
    A version already measured, not finished, or measured meanwhile is left alone, so running
    it twice (or beside a review) changes nothing; one whose files do not read is left as it
    was (nothing half-stored), and the result says which file."""
    cutout = (Cutout.objects.filter(pk=cutout_id, status=JobStatus.DONE)
              .select_related("asset")
              .only("pk", "source", "mask_name", "rgba_name", "signals", "model_name",
                    "model_version", "asset__working_name").first())
    if cutout is None:
        return SKIPPED
    missing = [k for k in BACKFILLED_SIGNALS if k not in (cutout.signals or {})]
    pointless = _lacks_point(cutout.signals)
    if not missing and not pointless:
        return SKIPPED
    wanted = [*missing, "faint_marks"] if pointless and "faint_marks" not in missing else missing
    measured = _measure(cutout, wanted)
    if isinstance(measured, str):
        return Backfilled("unreadable", unreadable=measured)
    with transaction.atomic():
        row = (Cutout.objects.select_for_update()
               .filter(pk=cutout_id, status=JobStatus.DONE)
               .only("pk", "signals", "preflags", "review_status", "risk").first())
        if row is None:
            return SKIPPED
        new = {k: v for k, v in measured.items() if k not in (row.signals or {})}
        if "product_fill_px" in new:
            # the two are one measure: the older working-copy product_px is replaced
            new["product_px"] = measured["product_px"]
        point = _with_point(row.signals, measured.get("faint_marks"))
        if not new and point is None:
            return SKIPPED
        signals = {**(row.signals or {}), **new, **({} if point is None else
                                                    {"faint_marks": point})}
        fields: dict[str, Any] = {"signals": signals}
        pending = row.review_status == ReviewStatus.PENDING
        preflags = list(row.preflags or [])
        # the review's own pre-flag policy decides, as for a version that finished today
        raised = (preflags_from_signals(signals)[0]
                  if pending and "faint_marks" in new else [])
        added = [f for f in FAINT_PREFLAGS if f in raised and f not in preflags]
        flag = bool(added)
        if flag:
            preflags += added
        if pending and "product_fill_px" in new:
            preflags = _too_small_remeasured(row.signals or {}, signals, preflags)
        if preflags != list(row.preflags or []):
            fields["preflags"] = preflags
        if pending:
            fields["risk"] = risk_of(signals=signals, preflags=preflags)
        Cutout.objects.filter(pk=row.pk).update(**fields)
    return Backfilled("measured", stored=tuple(k for k in BACKFILLED_SIGNALS if k in new)
                      or ("faint_marks",), preflagged=flag,
                      rescored=pending and fields["risk"] != row.risk)


def _too_small_remeasured(before: dict[str, Any], after: dict[str, Any],
                          preflags: list[str]) -> list[str]:
    """A waiting version's pre-flags once its product was measured again: *Too small for
    export* as the new measure raises it, unless a reviewer dismissed the one the older
    measure raised (it left the row)."""
    was = TOO_SMALL_FLAG in preflags_from_signals(before)[0]
    now = TOO_SMALL_FLAG in preflags_from_signals(after)[0]
    if not now:
        return [f for f in preflags if f != TOO_SMALL_FLAG]
    if was and TOO_SMALL_FLAG not in preflags:
        return preflags  # dismissed
    return preflags if TOO_SMALL_FLAG in preflags else [*preflags, TOO_SMALL_FLAG]


def _lacks_point(signals: dict[str, Any] | None) -> bool:
    """Whether a version's faint mark was measured before its deepest pixel (``at``) was
    recorded: the card then names the mark's box corner, which can lie on the product (QA
    2026-12-05: a remove click there took a bunny's fur). ``cutouts_missing_signals`` asks the
    same of the rows."""
    signal = (signals or {}).get("faint_marks")
    return isinstance(signal, dict) and "box" in signal and "at" not in signal


def _with_point(signals: dict[str, Any] | None, fresh: Any) -> dict[str, Any] | None:
    """The stored faint-mark signal with the deepest pixel of the mark measured again from
    the files, when it still lacks it: only the point is added, the recorded share and count
    stand (a measure changed since would otherwise rewrite a reviewed version's facts). Where
    the measure no longer finds the same mark (its box) the point is None, so the card keeps
    naming the corner and the version is not measured again."""
    if not _lacks_point(signals) or not isinstance(fresh, dict):
        return None
    stored = (signals or {})["faint_marks"]
    same = "at" in fresh and list(fresh.get("box") or ()) == list(stored["box"])
    return {**stored, "at": fresh["at"] if same else None}

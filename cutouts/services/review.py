"""Review writes: approve, flag, choose a version, pre-flags, re-run, retouch (strokes or an
uploaded PNG, queued for a worker; previews at card size), bulk approve, and the card's cached
preview images. Every reviewer action leaves a ReviewDecision."""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np
from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from catalog import events
from catalog.models import ImageAsset  # noqa: F401 - kept for callers of this module

from ..models import Cutout, CutoutQueue, FlagReason, JobStatus, ReviewDecision, ReviewStatus
from .status import asset_status_sync


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
    if cutout.review_status == ReviewStatus.APPROVED and cutout.is_current:
        # A double click or a replayed POST: already the approved current version, so no
        # second audit row (the row lock above serialises concurrent approvals).
        return cutout
    _make_current(cutout)
    Cutout.objects.filter(pk=cutout.pk).update(
        review_status=ReviewStatus.APPROVED, reviewed_by=user, reviewed_at=timezone.now(),
        flag_reasons=[],
    )
    # Older versions still waiting would otherwise ask for a second decision on this asset.
    Cutout.objects.filter(asset_id=cutout.asset_id, review_status=ReviewStatus.PENDING,
                          status=JobStatus.DONE).exclude(pk=cutout.pk).update(
        review_status=ReviewStatus.SUPERSEDED)
    asset_status_sync(cutout.asset_id)
    ReviewDecision.objects.create(cutout=cutout, asset_id=cutout.asset_id,
                                  action=ReviewDecision.Action.APPROVE, comment=comment,
                                  user=user)
    cutout.refresh_from_db()
    events.cutout_event("cutout.approved", cutout)
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
    ReviewDecision.objects.create(cutout=cutout, asset_id=cutout.asset_id,
                                  action=ReviewDecision.Action.FLAG, reasons=reasons,
                                  comment=comment, user=user)
    # A flag on a non-current version does not demote an approved asset (the derivation
    # follows the approved current version).
    asset_status_sync(cutout.asset_id)
    cutout.refresh_from_db()
    events.cutout_event("cutout.flagged", cutout)
    return cutout


@transaction.atomic
def cutout_choose(*, cutout: Cutout, user, comment: str = "") -> Cutout:
    """Choose any finished version as the current one. Choosing is the reviewer's approval of
    that version: it is what the asset shows and what export ships (approve v1, then choose
    v2 -> v2 is approved and current, v1 stays approved but is no longer current)."""
    cutout = Cutout.objects.select_for_update().get(pk=cutout.pk)
    _require_done(cutout)
    _make_current(cutout)
    if cutout.review_status != ReviewStatus.APPROVED:
        Cutout.objects.filter(pk=cutout.pk).update(
            review_status=ReviewStatus.APPROVED, reviewed_by=user, reviewed_at=timezone.now(),
            flag_reasons=[])
    Cutout.objects.filter(asset_id=cutout.asset_id, review_status=ReviewStatus.PENDING,
                          status=JobStatus.DONE).exclude(pk=cutout.pk).update(
        review_status=ReviewStatus.SUPERSEDED)
    ReviewDecision.objects.create(cutout=cutout, asset_id=cutout.asset_id,
                                  action=ReviewDecision.Action.CHOOSE, comment=comment,
                                  user=user)
    asset_status_sync(cutout.asset_id)
    cutout.refresh_from_db()
    return cutout


# --- pre-flags and risk -------------------------------------------------------------------

PREFLAGS: dict[str, str] = {
    "empty": "Empty cutout",
    "halo_risk": "Halo risk",
    "fragments": "Fragments",
    "touches_frame": "Touches frame",
    "low_confidence": "Low confidence",
    "uncertain_edges": "Uncertain edges",
}


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
    if s:
        # The engine's calibrated P(IoU < .80) ranks the queue (issue 12); the hand-made sum
        # above only breaks ties and still drops when a reviewer dismisses a pre-flag.
        from cutouts.imaging.signals import risk_score

        risk = risk_score(s) + 0.01 * risk
    return flags, round(risk, 4)


_PREFLAG_SIGNALS = {
    "empty": ("empty",), "halo_risk": ("halo_risk",), "fragments": ("fragment_count",),
    "touches_frame": ("touches_frame",), "low_confidence": ("low_confidence", "confidence"),
    "uncertain_edges": ("uncertain_fraction",),
}


def _risk_without(signals: dict, dismissed: set[str]) -> float:
    hidden = {key for flag in dismissed for key in _PREFLAG_SIGNALS.get(flag, ())}
    return preflags_from_signals({k: v for k, v in signals.items() if k not in hidden})[1]


@transaction.atomic
def cutout_preflag_resolve(*, cutout: Cutout, user, preflag: str, confirm: bool,
                           comment: str = "") -> Cutout:
    """A reviewer confirms a pre-flag (it stays, audited) or dismisses it: it leaves the row
    and stops counting towards the risk; the audit keeps what the engine said."""
    cutout = Cutout.objects.select_for_update().get(pk=cutout.pk)
    if preflag not in cutout.preflags:
        raise ReviewError(f"Version {cutout.version} has no pre-flag {preflag!r}.")
    if not confirm:
        remaining = [p for p in cutout.preflags if p != preflag]
        raised, _ = preflags_from_signals(cutout.signals)
        risk = _risk_without(cutout.signals or {}, set(raised) - set(remaining))
        Cutout.objects.filter(pk=cutout.pk).update(preflags=remaining, risk=risk)
    ReviewDecision.objects.create(
        cutout=cutout, asset_id=cutout.asset_id,
        action=(ReviewDecision.Action.PREFLAG_CONFIRM if confirm
                else ReviewDecision.Action.PREFLAG_DISMISS),
        reasons=[preflag], comment=comment, user=user)
    cutout.refresh_from_db()
    return cutout


# --- re-run with other settings -----------------------------------------------------------

STRENGTHS: dict[str, dict] = {
    # Refinement strength maps onto the edge shaping gain; "off" keeps the model's ramp.
    "off": {"refine": False},
    "soft": {"refine": True, "edge_gain": 2.0},
    "normal": {"refine": True, "edge_gain": 4.0},
    "strong": {"refine": True, "edge_gain": 8.0},
}


@transaction.atomic
def cutout_review_rerun(*, cutout: Cutout, user, model: str | None = None, tta: bool = True,
                        shadow: str = "none", strength: str = "normal",
                        comment: str = "") -> Cutout:
    """Queue a new version of the cutout's asset with other settings (interactive queue).
    The version it started from leaves the review queue: the reviewer has judged it."""
    from .jobs import cutout_rerun

    if strength not in STRENGTHS:
        raise ReviewError(f"Unknown refinement strength {strength!r}.")
    profile_name = cutout.profile if cutout.profile in ("fast", "default") else "default"
    overrides = {"tta_flip": bool(tta), "shadow": shadow, **STRENGTHS[strength]}
    try:
        new = cutout_rerun(asset=cutout.asset, user=user, profile_name=profile_name,
                           overrides=overrides, model=model or None)
    except ValueError as exc:
        raise ReviewError(f"Cannot re-run with these settings: {exc}")
    Cutout.objects.filter(pk=new.pk).update(parent=cutout)
    Cutout.objects.filter(pk=cutout.pk, review_status=ReviewStatus.PENDING).update(
        review_status=ReviewStatus.SUPERSEDED)
    summary = (f"v{new.version}: model {new.model_name}, TTA {'on' if tta else 'off'}, "
               f"shadow {shadow}, refinement {strength}")
    ReviewDecision.objects.create(cutout=cutout, asset_id=cutout.asset_id,
                                  action=ReviewDecision.Action.RERUN,
                                  comment=f"{summary}. {comment}".strip(), user=user)
    asset_status_sync(cutout.asset_id)
    new.refresh_from_db()
    return new


# --- retouch: strokes or an uploaded PNG become a queued version ----------------------------
# The web process only validates, stores the request and previews at card size; a worker on
# the interactive queue computes the full-resolution version through the normal run
# machinery (cutout_run: claim with a run token, output names, asset status, reconciler).

RETOUCH_MAX_BYTES = 80 * 1024 * 1024
ASPECT_TOLERANCE = 0.01
STROKES_MAX_CHARS = 4 * 1024 * 1024
PREVIEW_MAX = 1024  # long side of the card's images; previews are computed at this size


def _require_retouchable(cutout: Cutout) -> None:
    _require_done(cutout)
    if not cutout.rgba_name:
        raise ReviewError(f"Version {cutout.version} has no stored cutout to retouch.")


def _parse_strokes(data: object, *, size: tuple[int, int], allow_empty: bool = False) -> list:
    """Strokes sent by the browser (JSON text or a parsed list), in full-resolution pixels of
    the working copy (``size`` = width, height). ReviewError says what is wrong."""
    from ..imaging.strokes import strokes_from_json

    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    if isinstance(data, str):
        if len(data) > STROKES_MAX_CHARS:
            raise ReviewError("Too many strokes to send at once: apply them, then go on.")
        try:
            data = json.loads(data or "[]")
        except ValueError as exc:
            raise ReviewError(f"The strokes are not valid JSON ({exc}).")
    try:
        strokes = strokes_from_json(data)
    except ValueError as exc:
        raise ReviewError(f"The strokes cannot be used: {exc}.")
    if not strokes and not allow_empty:
        raise ReviewError("Draw at least one keep, remove or detail stroke (or click) first.")
    width, height = size
    for i, stroke in enumerate(strokes, start=1):
        x0, y0, x1, y1 = stroke.bounds()
        if x1 < 0 or y1 < 0 or x0 > width or y0 > height:
            raise ReviewError(f"Stroke {i} lies outside the photo ({width}×{height} px); "
                              "strokes are in the photo's full-size pixels.")
    return strokes


def _stroke_summary(strokes: list) -> str:
    counts: dict[str, int] = {}
    for s in strokes:
        what = f"{s.kind} {'click' if len(s.points) == 1 else 'stroke'}"
        counts[what] = counts.get(what, 0) + 1
    return ", ".join(f"{n} {what}{'s' if n != 1 else ''}" for what, n in counts.items())


def _retouch(rgb: np.ndarray, alpha: np.ndarray, strokes: list, previous_rgba: np.ndarray):
    """``RetouchResult`` of the strokes, at whatever size the arrays are (preview or full)."""
    from ..imaging.retouch import retouch

    return retouch(rgb, alpha, strokes, previous_rgba=previous_rgba)


def _retouch_version_start(*, parent: Cutout, user, action: str, comment: str,
                           strokes: list | None = None, upload_name: str = "") -> Cutout:
    """A new queued version of ``parent``'s asset on the interactive queue, which a worker
    turns into the retouched cutout (``jobs.cutout_run`` branches on ``source``)."""
    from ..imaging.strokes import strokes_to_json
    from .jobs import cutout_batch_start

    asset = parent.asset
    profile_name = parent.profile if parent.profile in ("fast", "default") else "default"
    with transaction.atomic():
        batch = cutout_batch_start(
            assets=[asset], user=user, profile_name=profile_name, queue=CutoutQueue.INTERACTIVE,
            label=f"Retouch of {asset.product.sku} {asset.position} v{parent.version}")
        new = batch.cutouts.get()
        # Same transaction as the row's creation: the worker (enqueued on commit) never
        # sees a retouch version without its strokes or upload.
        Cutout.objects.filter(pk=new.pk).update(
            source=Cutout.Source.RETOUCH, parent=parent,
            strokes=strokes_to_json(strokes or []), upload_name=upload_name,
            settings=parent.settings, profile=parent.profile, model_name=parent.model_name,
            model_version=parent.model_version)
        # The version the reviewer retouched is answered by this one.
        Cutout.objects.filter(pk=parent.pk, review_status__in=[
            ReviewStatus.FLAGGED, ReviewStatus.PENDING]).update(
            review_status=ReviewStatus.SUPERSEDED)
        asset_status_sync(asset.pk)
        what = _stroke_summary(strokes) if strokes else "uploaded PNG"
        ReviewDecision.objects.create(
            cutout=new, asset_id=asset.pk, action=action, user=user,
            comment=f"v{new.version} from v{parent.version}: {what}. {comment}".strip())
    new.refresh_from_db()
    return new


def cutout_retouch_strokes(*, cutout: Cutout, user, strokes: object,
                           comment: str = "") -> Cutout:
    """Apply keep/remove/detail strokes (and clicks) to a finished version: a new version,
    queued on the interactive queue, that a worker computes at full resolution."""
    cutout = Cutout.objects.select_related("asset", "asset__product").get(pk=cutout.pk)
    _require_retouchable(cutout)
    asset = cutout.asset
    parsed = _parse_strokes(strokes, size=(asset.working_width, asset.working_height))
    return _retouch_version_start(parent=cutout, user=user, strokes=parsed,
                                  action=ReviewDecision.Action.STROKES, comment=comment)


def _check_png_header(data: bytes, *, max_pixels: int, size: tuple[int, int]) -> None:
    """What can be told from the PNG's header, without decoding its pixels."""
    if len(data) > RETOUCH_MAX_BYTES:
        raise ReviewError(f"The file is larger than {RETOUCH_MAX_BYTES // (1024 * 1024)} MB.")
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ReviewError("Upload a PNG file (with transparency).")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            has_alpha = "A" in probe.getbands() or "transparency" in probe.info
    except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError, OSError,
            ValueError) as exc:
        raise ReviewError(f"The PNG cannot be decoded: {exc}")
    if width * height > max_pixels:
        raise ReviewError(f"The image has more than {max_pixels:,} pixels.")
    if not has_alpha:
        raise ReviewError("The PNG has no alpha channel; export it with transparency.")
    w, h = size
    if abs((width / height) / (w / h) - 1) > ASPECT_TOLERANCE:
        raise ReviewError(f"The PNG is {width}×{height}; it must have the photo's "
                          f"aspect ratio ({w}×{h}) within 1 %.")


def cutout_retouch_upload(*, cutout: Cutout, user, data: bytes, comment: str = "") -> Cutout:
    """A corrected RGBA PNG (the photo's aspect ratio within 1 %) becomes a new version queued
    on the interactive queue; a worker decodes it, scales it to the photo and stores it."""
    from django.conf import settings

    cutout = Cutout.objects.select_related("asset", "asset__product").get(pk=cutout.pk)
    _require_retouchable(cutout)
    asset = cutout.asset
    _check_png_header(data, max_pixels=settings.CUTROOM_MAX_PIXELS,
                      size=(asset.working_width, asset.working_height))
    storage = storages["default"]
    name = f"cutouts/{asset.sha256[:2]}/{asset.sha256}/uploads/{uuid.uuid4().hex}.png"
    name = storage.save(name, File(io.BytesIO(data), name=name))
    try:
        return _retouch_version_start(parent=cutout, user=user, upload_name=name,
                                      action=ReviewDecision.Action.RETOUCH, comment=comment)
    except Exception:
        storage.delete(name)  # no row points at it
        raise


def _open_array(name: str, mode: str) -> np.ndarray:
    with storages["default"].open(name, "rb") as fh, Image.open(fh) as image:
        return np.array(image.convert(mode))


def _upload_rgba(name: str, size: tuple[int, int]) -> np.ndarray:
    from django.conf import settings

    from .jobs import PermanentError

    try:
        with storages["default"].open(name, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise PermanentError("The uploaded PNG is missing from storage.")
    try:
        image = _decode_png_rgba(data, max_pixels=settings.CUTROOM_MAX_PIXELS)
    except ReviewError as exc:
        raise PermanentError(str(exc))
    if image.size != size:
        # Premultiplied resampling: no dark or light fringe from hidden colours.
        image = image.convert("RGBa").resize(size, Image.Resampling.LANCZOS).convert("RGBA")
    return np.array(image)


def _decode_png_rgba(data: bytes, *, max_pixels: int) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > max_pixels:
                raise ReviewError(f"The image has more than {max_pixels:,} pixels.")
            probe.load()
            image = probe.convert("RGBA")
    except ReviewError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError, OSError,
            ValueError) as exc:
        raise ReviewError(f"The PNG cannot be decoded: {exc}")
    low, _ = image.getchannel("A").getextrema()
    if low == 255:
        raise ReviewError("The PNG is fully opaque; a cutout needs a transparent background.")
    return image


def _spooled_png(array: np.ndarray, mode: str):
    # Spooled like the engine's outputs: a 50 MP cutout goes to a temp file, not memory.
    out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 - caller closes
    Image.fromarray(array, mode).save(out, "PNG", compress_level=3)
    out.seek(0)
    return out


def cutout_retouch_compute(*, cutout: Cutout, rgb: np.ndarray):
    """Worker side of a retouched version: the stored upload, or the parent's cutout refined
    with the stored strokes, at full resolution. Returns an ``engine.EngineOutput``; raises
    ``jobs.PermanentError`` with a message the card shows."""
    from .jobs import PermanentError

    parent = Cutout.objects.filter(pk=cutout.parent_id).first()
    try:
        return _retouch_output(cutout, parent, rgb)
    except PermanentError:
        _parent_give_back(parent)
        raise


def _parent_give_back(parent: Cutout | None) -> None:
    """A retouch that cannot be made hands its parent back to the queue it left (retouch if
    it was flagged, review otherwise), unless a newer finished version answers it."""
    if parent is None or Cutout.objects.filter(
            asset_id=parent.asset_id, version__gt=parent.version,
            status=JobStatus.DONE).exists():
        return
    Cutout.objects.filter(pk=parent.pk, review_status=ReviewStatus.SUPERSEDED).update(
        review_status=ReviewStatus.FLAGGED if parent.flag_reasons else ReviewStatus.PENDING)


def _retouch_output(cutout: Cutout, parent: Cutout | None, rgb: np.ndarray):
    """The retouched RGBA at full size, encoded like a model run's output files."""
    from ..engine import EngineOutput
    from ..imaging.pipeline import tight_bbox
    from ..imaging.strokes import strokes_from_json
    from .jobs import PermanentError

    started = time.perf_counter()
    height, width = rgb.shape[:2]
    parts: dict = {}
    if cutout.upload_name:
        rgba = _upload_rgba(cutout.upload_name, (width, height))
    else:
        if parent is None or not parent.rgba_name:
            raise PermanentError("The version this retouch starts from has no stored cutout.")
        try:
            strokes = strokes_from_json(cutout.strokes)
        except ValueError as exc:
            raise PermanentError(f"The stored strokes cannot be used: {exc}")
        if not strokes:
            raise PermanentError("This retouch has no strokes.")
        try:
            previous = _open_array(parent.rgba_name, "RGBA")
        except FileNotFoundError:
            raise PermanentError(f"The cutout of v{parent.version} is missing from storage.")
        if previous.shape[:2] != (height, width):
            raise PermanentError(f"The cutout of v{parent.version} does not match the photo's "
                                 "size.")
        result = _retouch(rgb, np.ascontiguousarray(previous[..., 3]), strokes, previous)
        del previous
        rgba, parts = result.rgba, {
            f"retouch_{k}": round(float(v), 4) for k, v in result.timings.items()
            if isinstance(v, int | float) and k != "total"}
    rgba[..., :3][rgba[..., 3] == 0] = 0
    alpha = rgba[..., 3]
    refined = time.perf_counter()
    shadow = None
    if parent is not None and parent.shadow_name:
        # Each version owns its files: the parent's shadow layer is copied, not shared.
        shadow = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
        with storages["default"].open(parent.shadow_name, "rb") as fh:
            shutil.copyfileobj(fh, shadow)
        shadow.seek(0)
    output = EngineOutput(
        rgba=_spooled_png(rgba, "RGBA"), mask=_spooled_png(alpha, "L"), shadow=shadow,
        width=width, height=height, bbox=(list(b) if (b := tight_bbox(alpha)) else None),
        signals=_hand_signals(alpha), model_name=cutout.model_name,
        model_version=cutout.model_version)
    output.timings = {"retouch": round(refined - started, 4), **parts,
                      "encode": round(time.perf_counter() - refined, 4)}
    return output


def _hand_signals(alpha: np.ndarray) -> dict:
    """The signals that need no model probability: a hand-made alpha is certain by
    definition, but it can still be empty, fragmented or touch the frame."""
    obj = alpha >= 128
    area = int(np.count_nonzero(obj))
    touches = [side for side, edge in (("top", obj[0]), ("bottom", obj[-1]),
                                       ("left", obj[:, 0]), ("right", obj[:, -1]))
               if area and edge.any()]
    n, _, stats, _ = cv2.connectedComponentsWithStats(obj.astype(np.uint8), connectivity=8)
    fragments = int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= max(4, 0.001 * area)))
    return {"empty": area == 0, "fill_ratio": round(area / alpha.size, 4),
            "fragment_count": fragments, "touches_frame": bool(touches),
            "touching_sides": touches, "hand_made": True}


# --- retouch preview: the card-size result of the strokes, in the web process --------------


@dataclass(frozen=True)
class RetouchBase:
    """A version at preview size: the photo, its cutout and the scale from full size."""

    rgb: np.ndarray  # (h, w, 3) uint8
    rgba: np.ndarray  # (h, w, 4) uint8
    scale: float  # preview pixels per working-copy pixel


@dataclass(frozen=True)
class RetouchPreview:
    png: bytes
    width: int
    height: int
    timings: dict


_BASES: OrderedDict[tuple[int, str], RetouchBase] = OrderedDict()
_BASES_MAX = 8  # per web process; ~6 MB each
_BASES_LOCK = threading.Lock()


def _retouch_base(cutout: Cutout) -> RetouchBase:
    """The downscaled arrays a preview starts from: this process's memory, else built from
    the card's own cached 1024 px images (so no full-size file is decoded for a preview)."""
    key = (cutout.pk, cutout.run_token)
    with _BASES_LOCK:
        if key in _BASES:
            _BASES.move_to_end(key)
            return _BASES[key]
    base = _build_retouch_base(cutout)
    with _BASES_LOCK:
        _BASES[key] = base
        while len(_BASES) > _BASES_MAX:
            _BASES.popitem(last=False)
    return base


def _build_retouch_base(cutout: Cutout) -> RetouchBase:
    storage = storages["default"]
    photo_name, _ = cutout_image(cutout=cutout, kind="original", size=PREVIEW_MAX)
    cutout_name, _ = cutout_image(cutout=cutout, kind="cutout", size=PREVIEW_MAX)
    with storage.open(photo_name, "rb") as photo_fh, storage.open(cutout_name, "rb") as cut_fh, \
            Image.open(photo_fh) as photo, Image.open(cut_fh) as cut:
        base = retouch_base_from_images(photo, cut)
    # The scale from the working copy, not from the preview file.
    return RetouchBase(rgb=base.rgb, rgba=base.rgba,
                       scale=base.rgb.shape[1] / cutout.asset.working_width)


def retouch_base_from_images(photo: Image.Image, cutout: Image.Image, *,
                             max_side: int = PREVIEW_MAX) -> RetouchBase:
    """The photo and its cutout at preview size (long side ``max_side``), both on the
    photo's pixel grid whatever size each file is."""
    scale = min(1.0, max_side / max(photo.size))
    size = (max(1, round(photo.width * scale)), max(1, round(photo.height * scale)))

    def small(image: Image.Image, mode: str) -> np.ndarray:
        # Premultiplied for the cutout: no fringe from the colours of transparent pixels.
        image = image.convert("RGBa" if mode == "RGBA" else mode)
        if image.size != size:
            # reduce() first: a cheap integer box filter, then a small exact resize.
            factor = max(1, min(image.width // size[0], image.height // size[1]) // 2)
            if factor > 1:
                image = image.reduce(factor)
            image = image.resize(size, Image.Resampling.LANCZOS)
        return np.array(image.convert(mode))

    return RetouchBase(rgb=small(photo, "RGB"), rgba=small(cutout, "RGBA"),
                       scale=size[0] / photo.width)


def retouch_preview_render(base: RetouchBase, strokes: list) -> tuple[bytes, dict]:
    """(PNG, timings) of ``base`` with the full-size ``strokes`` applied at its scale."""
    started = time.perf_counter()
    rgba, parts = base.rgba, {}
    if strokes:
        result = _retouch(base.rgb, np.ascontiguousarray(base.rgba[..., 3]),
                          [s.scaled(base.scale) for s in strokes], base.rgba)
        rgba = result.rgba
        parts = {f"retouch_{k}": round(float(v), 4) for k, v in result.timings.items()
                 if isinstance(v, int | float) and k != "total"}
    refined = time.perf_counter()
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG", compress_level=1)
    return out.getvalue(), {"retouch": round(refined - started, 4), **parts,
                            "encode": round(time.perf_counter() - refined, 4)}


def cutout_retouch_preview(*, cutout: Cutout, strokes: object) -> RetouchPreview:
    """The version with the strokes applied, at the card's size (long side PREVIEW_MAX), as
    a PNG: the refinement runs on the cached downscaled copy with the strokes scaled."""
    cutout = Cutout.objects.select_related("asset").get(pk=cutout.pk)
    _require_retouchable(cutout)
    asset = cutout.asset
    parsed = _parse_strokes(strokes, size=(asset.working_width, asset.working_height),
                            allow_empty=True)
    started = time.perf_counter()
    base = _retouch_base(cutout)
    loaded = time.perf_counter()
    try:
        png, timings = retouch_preview_render(base, parsed)
    except ValueError as exc:  # the refinement refuses these strokes on this image
        raise ReviewError(f"The preview failed: {exc}")
    timings = {"base": round(loaded - started, 4), **timings,
               "total": round(time.perf_counter() - started, 4)}
    height, width = base.rgba.shape[:2]
    return RetouchPreview(png=png, width=width, height=height, timings=timings)


# --- bulk ---------------------------------------------------------------------------------


def cutouts_bulk_approve(*, cutout_ids: list[int], user) -> int:
    """Approve each selected version still awaiting review; one audited decision each."""
    ids = list(Cutout.objects.filter(
        pk__in=cutout_ids, status=JobStatus.DONE, review_status=ReviewStatus.PENDING,
        # Deleted images (or products) are out of every bulk action, even if still selected.
        asset__deleted_at__isnull=True, asset__product__deleted_at__isnull=True,
    ).values_list("pk", flat=True))
    with transaction.atomic():
        for pk in ids:
            cutout_approve(cutout=Cutout(pk=pk), user=user, comment="bulk approve")
    return len(ids)


# --- card images: downscaled previews, cached in storage ----------------------------------

IMAGE_KINDS = ("original", "cutout", "mask", "shadow", "market")
IMAGE_SIZES = (320, 1024, 0)  # 0 = full size (the loupe)
MARKET_PREVIEW = 600


def _market_spec() -> str:
    from ..variants import get_preset

    spec = get_preset("amazon_main").spec
    # The card needs the preset's placement, not its 2000 px file.
    return re.sub(r"square-\d+", f"square-{MARKET_PREVIEW}", spec)


def _preview_name(cutout: Cutout, kind: str, size: int, ext: str) -> str:
    return f"previews/{cutout.asset.sha256[:2]}/{cutout.pk}-{cutout.run_token[:8]}/" \
           f"{kind}-{size}.{ext}"


def cutout_image(*, cutout: Cutout, kind: str, size: int) -> tuple[str, str]:
    """(storage name, content type) of one of the card's images, rendered once and cached.
    ``cutout`` needs ``asset`` loaded."""
    from catalog.services import asset_thumbnail

    if kind not in IMAGE_KINDS:
        raise ReviewError(f"Unknown image kind {kind!r}.")
    if size not in IMAGE_SIZES:
        raise ReviewError(f"Image size must be one of {IMAGE_SIZES}.")
    asset = cutout.asset
    if kind == "original":
        if size == 0:
            return asset.working_name, "image/png"
        return asset_thumbnail(asset=asset, size=size), "image/webp"
    source = {"cutout": cutout.rgba_name, "mask": cutout.mask_name,
              "shadow": cutout.shadow_name, "market": cutout.rgba_name}[kind]
    if not source:
        raise FileNotFoundError(f"v{cutout.version} has no {kind} image")
    ext, content_type = ("jpg", "image/jpeg") if kind == "market" else ("png", "image/png")
    if kind != "market" and size == 0 and kind != "shadow":
        return source, content_type
    name = _preview_name(cutout, kind, size, ext)
    storage = storages["default"]
    if storage.exists(name):
        return name, content_type
    with storage.open(source, "rb") as fh, Image.open(fh) as image:
        image.load()
        rendered = _render_preview(image, kind, size)
    # Two requests may render at once; both write identical bytes, the first name wins.
    if not storage.exists(name):
        name = storage.save(name, File(io.BytesIO(rendered), name=name))
    return name, content_type


def _render_preview(image: Image.Image, kind: str, size: int) -> bytes:
    out = io.BytesIO()
    if kind == "market":
        from ..variants import render_variant

        return render_variant(image.convert("RGBA"), _market_spec()).data
    if kind == "shadow":
        # Shown as a layer: black, with the stored opacity as its alpha.
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        layer.putalpha(image.convert("L"))
        image = layer
    if size and max(image.size) > size:
        scale = size / max(image.size)
        target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        if image.mode == "RGBA":
            image = image.convert("RGBa").resize(target, Image.Resampling.LANCZOS)
            image = image.convert("RGBA")
        else:
            image = image.resize(target, Image.Resampling.LANCZOS)
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()

"""Review writes: approve, flag, choose a version, pre-flags, re-run, retouch (uploaded PNG or
painted hints), bulk approve, and the card's cached preview images. Every reviewer action
leaves a ReviewDecision."""

from __future__ import annotations

import io
import re
import time
import uuid

import cv2
import numpy as np
from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

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
    # Older versions still waiting would otherwise ask for a second decision on this asset.
    Cutout.objects.filter(asset_id=cutout.asset_id, review_status=ReviewStatus.PENDING,
                          status=JobStatus.DONE).exclude(pk=cutout.pk).update(
        review_status=ReviewStatus.SUPERSEDED)
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
    new.refresh_from_db()
    return new


# --- retouch: uploaded PNG or painted hints -----------------------------------------------

RETOUCH_MAX_BYTES = 80 * 1024 * 1024
ASPECT_TOLERANCE = 0.01


def _decode_png_rgba(data: bytes, *, max_pixels: int) -> Image.Image:
    if len(data) > RETOUCH_MAX_BYTES:
        raise ReviewError(f"The file is larger than {RETOUCH_MAX_BYTES // (1024 * 1024)} MB.")
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ReviewError("Upload a PNG file (with transparency).")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > max_pixels:
                raise ReviewError(f"The image has more than {max_pixels:,} pixels.")
            if "A" not in probe.getbands() and "transparency" not in probe.info:
                raise ReviewError("The PNG has no alpha channel; export it with transparency.")
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


def _lock_next_version(asset_id: int) -> int:
    # Same lock as cutout_batch_start, so a concurrent re-run cannot take the number.
    list(ImageAsset.objects.select_for_update().filter(pk=asset_id).values_list("pk"))
    return (Cutout.objects.filter(asset_id=asset_id).aggregate(v=Max("version"))["v"] or 0) + 1


def _png_file(array: np.ndarray, mode: str) -> io.BytesIO:
    out = io.BytesIO()
    Image.fromarray(array, mode).save(out, "PNG", compress_level=3)
    out.seek(0)
    return out


def _save_version(*, parent: Cutout, user, rgba: np.ndarray, shadow_name: str,
                  action: str, comment: str, extra_timings: dict | None = None) -> Cutout:
    """A finished version made by hand: files stored like a model run's, row created done.
    Images are encoded before the transaction: SQLite transactions here take the write lock
    at BEGIN, and workers finishing cutouts should not wait for a PNG encoder."""
    from ..imaging.pipeline import tight_bbox
    from .jobs import _output_names

    asset = parent.asset
    alpha = rgba[..., 3]
    encoded = {"rgba": _png_file(rgba, "RGBA"), "mask": _png_file(alpha, "L")}
    bbox = tight_bbox(alpha)
    signals = _hand_signals(alpha)
    preflags, risk = preflags_from_signals(signals)
    token = uuid.uuid4().hex
    storage = storages["default"]
    saved: list[str] = []
    try:
        with transaction.atomic():
            version = _lock_next_version(asset.pk)
            names = _output_names(Cutout(asset=asset, version=version), token)
            for key in ("rgba", "mask"):
                saved.append(storage.save(names[key], File(encoded[key], name=names[key])))
            now = timezone.now()
            new = Cutout.objects.create(
                asset=asset, version=version, source=Cutout.Source.RETOUCH,
                settings=parent.settings, profile=parent.profile, model_name=parent.model_name,
                model_version=parent.model_version, status=JobStatus.DONE, queue=parent.queue,
                run_token=token, worker="retouch", rgba_name=saved[0], mask_name=saved[1],
                shadow_name=shadow_name, width=alpha.shape[1], height=alpha.shape[0],
                bbox=list(bbox) if bbox else None, signals=signals,
                timings=extra_timings or {}, created_by=user, enqueued_at=now, started_at=now,
                finished_at=now, parent=parent, preflags=preflags, risk=risk,
            )
            # The flagged version is answered by this one: it leaves the retouch queue.
            Cutout.objects.filter(pk=parent.pk, review_status__in=[
                ReviewStatus.FLAGGED, ReviewStatus.PENDING]).update(
                review_status=ReviewStatus.SUPERSEDED)
            ImageAsset.objects.filter(pk=asset.pk, status=AssetStatus.NEEDS_RETOUCH).update(
                status=AssetStatus.IN_REVIEW)
            ReviewDecision.objects.create(cutout=new, asset_id=asset.pk, action=action,
                                          comment=comment or f"from v{parent.version}",
                                          user=user)
    except Exception:
        for name in saved:  # the row never pointed at them
            storage.delete(name)
        raise
    return new


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


def _require_retouchable(cutout: Cutout) -> None:
    _require_done(cutout)
    if not cutout.rgba_name:
        raise ReviewError(f"Version {cutout.version} has no stored cutout to retouch.")


def cutout_retouch_upload(*, cutout: Cutout, user, data: bytes, comment: str = "") -> Cutout:
    """A corrected RGBA PNG becomes a new, finished version (parent = ``cutout``). It must
    have the photo's aspect ratio (within 1 %); a different size is scaled to the photo's."""
    from django.conf import settings

    cutout = Cutout.objects.select_related("asset").get(pk=cutout.pk)
    _require_retouchable(cutout)
    image = _decode_png_rgba(data, max_pixels=settings.CUTROOM_MAX_PIXELS)
    w, h = cutout.asset.working_width, cutout.asset.working_height
    if abs((image.width / image.height) / (w / h) - 1) > ASPECT_TOLERANCE:
        raise ReviewError(f"The PNG is {image.width}×{image.height}; it must have the photo's "
                          f"aspect ratio ({w}×{h}) within 1 %.")
    if image.size != (w, h):
        # Premultiplied resampling: no dark or light fringe from hidden colours.
        image = image.convert("RGBa").resize((w, h), Image.Resampling.LANCZOS).convert("RGBA")
    rgba = np.array(image)
    rgba[..., :3][rgba[..., 3] == 0] = 0
    return _save_version(parent=cutout, user=user, rgba=rgba, shadow_name=cutout.shadow_name,
                         action=ReviewDecision.Action.RETOUCH, comment=comment)


def _open_array(name: str, mode: str) -> np.ndarray:
    with storages["default"].open(name, "rb") as fh, Image.open(fh) as image:
        return np.array(image.convert(mode))


def cutout_refine_with_strokes(*, cutout: Cutout, user, hint_png: bytes,
                               comment: str = "") -> Cutout:
    """Keep/remove strokes painted on the card (green keep, red remove, any size with the
    photo's aspect) re-run the refinement on the previous alpha as a new version."""
    from ..imaging import hints as hint_engine

    cutout = Cutout.objects.select_related("asset").get(pk=cutout.pk)
    _require_retouchable(cutout)
    if len(hint_png) > RETOUCH_MAX_BYTES:
        raise ReviewError("The hint image is too large.")
    try:
        with Image.open(io.BytesIO(hint_png)) as hint_image:
            if hint_image.width * hint_image.height > 64_000_000:
                raise ReviewError("The hint image is too large.")
            hint = np.array(hint_image.convert("RGBA"))
    except ReviewError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError, OSError,
            ValueError) as exc:
        raise ReviewError(f"The hint image cannot be decoded: {exc}")
    started = time.perf_counter()
    rgb = _open_array(cutout.asset.working_name, "RGB")
    previous = _open_array(cutout.rgba_name, "RGBA")
    if previous.shape[:2] != rgb.shape[:2]:
        raise ReviewError("The stored cutout does not match the photo's size.")
    hints = hint_engine.hints_from_rgba(hint, rgb.shape[:2])
    if hints.empty:
        raise ReviewError("Paint at least one keep (green) or remove (red) stroke.")
    alpha = hint_engine.apply_hints(rgb, previous[..., 3], hints)
    rgba = hint_engine.compose_rgba(rgb, alpha, previous)
    timings = {"strokes": round(time.perf_counter() - started, 4)}
    return _save_version(parent=cutout, user=user, rgba=rgba, shadow_name=cutout.shadow_name,
                         action=ReviewDecision.Action.STROKES, comment=comment,
                         extra_timings=timings)


# --- bulk ---------------------------------------------------------------------------------


def cutouts_bulk_approve(*, cutout_ids: list[int], user) -> int:
    """Approve each selected version still awaiting review; one audited decision each."""
    ids = list(Cutout.objects.filter(
        pk__in=cutout_ids, status=JobStatus.DONE, review_status=ReviewStatus.PENDING,
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

"""Retouch: strokes or an uploaded PNG become a queued version a worker computes in full."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import tempfile
import time
from typing import IO

import numpy as np
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from catalog.ingest import png

from ..errors import NothingChangedError, PermanentError, ReviewError
from ..imaging.encode import decode_cutout, png_spooled
from ..imaging.progress import (
    CHECKING,
    READING_CUTOUT,
    SAVING,
    UPLOAD,
    OnProgress,
    no_progress,
    span,
)
from ..imaging.settings import profile_or_default
from ..models import (
    Cutout,
    CutoutQueue,
    JobStatus,
    ReviewDecision,
    ReviewStatus,
)
from ..variants.compliance import export_signals
from .batches import cutout_batch_start
from .review import cutout_require_done
from .status import asset_status_sync, assets_lock

# The web process only validates, stores the request and previews at card size; a worker on
# the interactive queue computes the full-resolution version through the normal run
# machinery (cutout_run: claim with a run token, output names, asset status, reconciler).

logger = logging.getLogger(__name__)

RETOUCH_MAX_BYTES = 80 * 1024 * 1024
ASPECT_TOLERANCE = 0.01
STROKES_MAX_CHARS = 4 * 1024 * 1024


def cutout_require_retouchable(cutout: Cutout) -> None:
    """Raise ReviewError unless this version finished with a stored cutout to start from."""
    cutout_require_done(cutout)
    if not cutout.rgba_name:
        raise ReviewError(f"Version {cutout.version} has no stored cutout to retouch.")


def strokes_parse(data: object, *, size: tuple[int, int], allow_empty: bool = False) -> list:
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


def retouch_reduce(image: np.ndarray, max_side: int) -> np.ndarray:
    """A photo, cutout or alpha reduced exactly as ``imaging.retouch.retouch`` reduces a
    full-size photo and alpha for its graph cut (``reduce_for_cut``): a preview made from
    these arrays cuts the same pixels as the worker's run at full size."""
    from ..imaging.retouch import reduce_for_cut

    return reduce_for_cut(image, max_side)


def retouch_steps():
    """The ``StepStore`` the previews and the worker's Apply share the graph cut's step
    records through (``CUTROOM_RETOUCH_STEPS_DIR``), or None when turned off (size 0)."""
    from ..imaging.step_store import StepStore

    mib = settings.CUTROOM_RETOUCH_STEPS_MB
    if mib <= 0:
        return None
    root = str(settings.CUTROOM_RETOUCH_STEPS_DIR)
    # one object per process and folder: it counts the bytes written since its last sweep
    store = _STEP_STORES.get((root, mib))
    if store is None:
        # written by a thread after the call: a preview's response does not wait for the disk
        store = _STEP_STORES.setdefault((root, mib), StepStore(root, mib << 20, background=True))
    return store


_STEP_STORES: dict = {}


def retouch_apply(rgb: np.ndarray, alpha: np.ndarray, strokes: list, previous_rgba: np.ndarray,
                  *, scale: float = 1.0, on_progress: OnProgress | None = None,
                  far_keep: bool = True):
    """``RetouchResult`` of the strokes (in the working copy's full-size pixels) on a version:
    the worker's run passes the full-size arrays (and its ``on_progress``), the preview the
    ``retouch_reduce`` ones with their ``scale``. The one path both take, so they differ only
    in resolution, and the Apply replays the cuts and the detail solve the previews made
    (``retouch_steps``). ``far_keep=False`` (the worker) skips the result's ``far_keep``, a
    word for the preview's status line."""
    from ..imaging.retouch import retouch

    if scale != 1.0:
        # the engine's own mapping onto a reduced grid (``retouch`` maps them so for its cut)
        strokes = [s.scaled(scale) for s in strokes]
    return retouch(rgb, alpha, strokes, previous_rgba=previous_rgba, on_progress=on_progress,
                   steps=retouch_steps(), far_keep=far_keep)


def _retouch_version_start(*, parent: Cutout, user, action: str, comment: str,
                           strokes: list | None = None, upload_name: str = "") -> Cutout:
    """A new queued version of ``parent``'s asset on the interactive queue, which a worker
    turns into the retouched cutout (``runs.cutout_run`` branches on ``source``).

    While a retouch of ``parent`` with the same strokes (or the same uploaded file) is still
    queued or running, that one is returned instead: a double click on Apply would otherwise
    compute the same version twice and queue both for review."""
    from ..imaging.strokes import strokes_to_json

    asset = parent.asset
    profile_name = profile_or_default(parent.profile)
    stored = strokes_to_json(strokes or [])
    with transaction.atomic():
        # The image first (every writer of its versions does: ``assets_lock``), then the
        # version's row, which serialises concurrent retouches of it: the second sees the
        # first.
        assets_lock(asset_ids=[asset.pk])
        Cutout.objects.select_for_update().filter(pk=parent.pk).exists()
        for pending in Cutout.objects.filter(
                parent_id=parent.pk, source=Cutout.Source.RETOUCH,
                status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).order_by("-version"):
            if pending.strokes == stored and pending.upload_name == upload_name:
                return pending
        batch = cutout_batch_start(
            assets=[asset], user=user, profile_name=profile_name, queue=CutoutQueue.INTERACTIVE,
            label=f"Retouch of {asset.product.sku} {asset.position} v{parent.version}")
        new = batch.cutouts.get()
        # Same transaction as the row's creation: the worker (enqueued on commit) never
        # sees a retouch version without its strokes or upload.
        Cutout.objects.filter(pk=new.pk).update(
            source=Cutout.Source.RETOUCH, parent=parent,
            strokes=stored, upload_name=upload_name,
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
    """Apply keep/remove/detail strokes (and clicks, a subject click) to a finished version: a
    new version, queued on the interactive queue, that a worker computes at full resolution."""
    cutout = Cutout.objects.select_related("asset", "asset__product").get(pk=cutout.pk)
    cutout_require_retouchable(cutout)
    asset = cutout.asset
    parsed = strokes_parse(strokes, size=(asset.working_width, asset.working_height))
    return _retouch_version_start(parent=cutout, user=user, strokes=parsed,
                                  action=ReviewDecision.Action.STROKES, comment=comment)


def _check_png_header(data: bytes, *, max_pixels: int, size: tuple[int, int]) -> None:
    """What can be told from the PNG's header, without decoding its pixels."""
    if len(data) > RETOUCH_MAX_BYTES:
        raise ReviewError(f"The file is larger than {RETOUCH_MAX_BYTES // (1024 * 1024)} MB.")
    if not data.startswith(png.SIGNATURE):
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


#: an upload that is the version's own stored PNG, byte for byte
SAME_UPLOAD = ("This PNG is v{v}'s cutout as downloaded, unchanged: edit it before uploading "
               "(no new version was made).")


def _is_stored_file(storage, name: str, data: bytes, chunk: int = 1 << 20) -> bool:
    """Whether the stored file ``name`` holds exactly ``data``; a size that differs reads
    nothing, and a missing file is not the same."""
    try:
        if storage.size(name) != len(data):
            return False
        with storage.open(name, "rb") as fh:
            for at in range(0, len(data), chunk):
                if fh.read(chunk) != data[at : at + chunk]:
                    return False
    except FileNotFoundError:
        return False
    return True


def cutout_retouch_upload(*, cutout: Cutout, user, data: bytes, comment: str = "") -> Cutout:
    """A corrected RGBA PNG (the photo's aspect ratio within 1 %) becomes a new version queued
    on the interactive queue; a worker decodes it, scales it to the photo and stores it."""
    cutout = Cutout.objects.select_related("asset", "asset__product").get(pk=cutout.pk)
    cutout_require_retouchable(cutout)
    asset = cutout.asset
    _check_png_header(data, max_pixels=settings.CUTROOM_MAX_PIXELS,
                      size=(asset.working_width, asset.working_height))
    storage = storages["default"]
    if cutout.rgba_name and _is_stored_file(storage, cutout.rgba_name, data):
        # v1 downloaded and uploaded back unedited: the new version would be the same picture
        # back in review (strokes that change nothing end unchanged in the worker, NOTHING_CHANGED)
        raise ReviewError(SAME_UPLOAD.format(v=cutout.version))
    # Named by content, so the same file uploaded twice while the first is still queued is
    # recognised as the same retouch (``_retouch_version_start``).
    digest = hashlib.sha256(data).hexdigest()
    name = f"cutouts/{asset.sha256[:2]}/{asset.sha256}/uploads/{digest}.png"
    created = not storage.exists(name)
    if created:
        name = storage.save(name, File(io.BytesIO(data), name=name))
    try:
        return _retouch_version_start(parent=cutout, user=user, upload_name=name,
                                      action=ReviewDecision.Action.RETOUCH, comment=comment)
    except Exception:
        if created:
            storage.delete(name)  # no row points at it
        raise


def _open_cutout(name: str) -> np.ndarray:
    with storages["default"].open(name, "rb") as fh:
        return decode_cutout(fh)


#: rows per strip of a full-size pass over the cutout: its temporaries stay a few MB
STRIP_ROWS = 512


def _strips(rgba: np.ndarray) -> list[slice]:
    """The row ranges of a full-size pass over the cutout, ``STRIP_ROWS`` each."""
    return [slice(top, top + STRIP_ROWS) for top in range(0, rgba.shape[0], STRIP_ROWS)]


def _clear_hidden_colours(rgba: np.ndarray) -> None:
    """Zero the colour of every fully transparent pixel, in place, strip by strip: one
    boolean-mask assignment over a 45 MP cutout built 64-bit indices of every such pixel
    (+310 MB at the Apply's "Checking the result", docs/review.md); the same pixels."""
    for rows in _strips(rgba):
        strip = rgba[rows]
        np.copyto(strip[..., :3], 0, where=strip[..., 3:] == 0)


def _upload_rgba(name: str, size: tuple[int, int]) -> np.ndarray:
    """The uploaded PNG as RGBA at the photo's size. Decoded by ``decode_cutout`` (the file's
    bytes and one array): Pillow's load, ``convert`` and ``np.array`` held three full-size
    copies, 540 MB of a 45 MP upload, on top of the photo the worker already holds."""
    max_pixels = settings.CUTROOM_MAX_PIXELS
    try:
        with storages["default"].open(name, "rb") as fh:
            with Image.open(fh) as probe:  # the header only: refuse a bomb before decoding
                pixels = probe.width * probe.height
            if pixels > max_pixels:
                raise PermanentError(f"The image has more than {max_pixels:,} pixels.")
            fh.seek(0)
            rgba = decode_cutout(fh)
    except FileNotFoundError:
        raise PermanentError("The uploaded PNG is missing from storage.")
    except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError, OSError,
            ValueError) as exc:
        raise PermanentError(f"The PNG cannot be decoded: {exc}")
    if not _has_transparency(rgba):
        raise PermanentError(OPAQUE_UPLOAD)
    if (rgba.shape[1], rgba.shape[0]) != size:
        # Premultiplied resampling: no dark or light fringe from hidden colours.
        image = Image.fromarray(rgba, "RGBA").convert("RGBa")
        del rgba
        return np.array(image.resize(size, Image.Resampling.LANCZOS).convert("RGBA"))
    return rgba


#: telling it needs every pixel decoded: the worker's check, not the upload request's
OPAQUE_UPLOAD = "The PNG is fully opaque; a cutout needs a transparent background."


#: the worker's answer to strokes whose result is their parent's picture: the version ends
#: unchanged (cancelled, not failed: nothing to retry), its batch done. For people only: the
#: outcome is ``Cutout.is_unchanged``, so this wording can change or be translated freely
NOTHING_CHANGED = ("Nothing changed: the result of these strokes is v{v} pixel for pixel, so "
                   "no new version is kept; v{v} stays as it was. Paint where the cutout is "
                   "wrong and apply again.")


def _same_pixels(rgba: np.ndarray, previous: np.ndarray) -> bool:
    """Whether the retouch's result is ``previous``'s picture: every alpha the same, and every
    colour where that alpha is not 0 (the result's hidden colours are 0; the parent's may not
    be). Strip by strip, and the colours only once every alpha matched: a real change stops
    at its first strip, at no cost to the Apply's peak."""
    if rgba.shape != previous.shape:
        return False
    strips = _strips(rgba)
    if not all(np.array_equal(rgba[rows, :, 3], previous[rows, :, 3]) for rows in strips):
        return False
    for rows in strips:
        a, b = rgba[rows], previous[rows]
        shown = a[..., 3] > 0
        if not np.array_equal(a[..., :3][shown], b[..., :3][shown]):
            return False
    return True


def _has_transparency(rgba: np.ndarray) -> bool:
    """Any pixel below 255 alpha, strip by strip (a whole-image compare is one more
    full-size boolean array)."""
    return any(bool((rgba[rows, :, 3] < 255).any()) for rows in _strips(rgba))


def cutout_retouch_compute(*, cutout: Cutout, rgb: np.ndarray, preview_side: int = 0,
                           on_progress: OnProgress | None = None):
    """Worker side of a retouched version: the stored upload, or the parent's cutout refined
    with the stored strokes, at full resolution. Returns an ``engine.EngineOutput`` (with a
    screen copy when ``preview_side`` > 0); raises ``PermanentError`` with a message the card
    shows. ``on_progress(stage, fraction)`` hears the retouch's stages, then "Saving" while
    the files are encoded (``imaging.progress``)."""
    # A version without a parent finds no row (and fails below with a message).
    parent = Cutout.objects.filter(pk=cutout.parent_id).first()  # type: ignore[misc]
    # a PermanentError fails the run, and the failed run hands the parent back to its queue
    # (services.lineage)
    return _retouch_output(cutout, parent, rgb, preview_side, on_progress or no_progress)


#: where the strokes' retouch starts and ends within ``_retouch_output``: reading the parent's
#: cutout before it, the checks and the encoded files after it (at 45 MP: 2.2 s, 1.9 s, 4.2 s;
#: docs/jobs.md, progress of one cutout)
RETOUCH_FROM, RETOUCH_TO = 0.26, 0.5
#: where each step after the retouch ends, as a fraction of what follows ``RETOUCH_TO`` (about
#: the same at any size: each step reads every pixel), measured at 12, 20 and 45 MP (docs/
#: jobs.md): the copies for the retouch page, the signals ("Checking the result"), the cutout's
#: PNG, the mask's, then the screen copy to the end. One "Saving" over all of them held the
#: bar at one value for 2.6 s of a 6 s Apply at 20 MP.
AFTER_STEPS = {"copies": 0.3, "checked": 0.45, "rgba": 0.68, "mask": 0.75}


def _retouch_shadow(parent: Cutout | None, alpha: np.ndarray) -> tuple[IO[bytes] | None, dict]:
    """The retouched version's shadow layer (an encoded PNG, or None when its parent has
    none) and the signals it gives. A synthetic shadow is drawn from the alpha, so it is
    redrawn from the new one as the parent's run drew it (``pipeline.shadow_drawn``, the
    parent's settings): a remove stroke on a stray part under it moves it under the product
    (2026-12-07, reshadow43). A kept shadow is the photo's, cut out by the parent's run: it
    is copied as it lies."""
    from ..imaging.pipeline import shadow_drawn, work_alpha
    from ..imaging.settings import CutoutSettings
    if parent is None or not parent.shadow_name:
        return None, {}
    if (parent.settings or {}).get("shadow") == "synthetic":
        # only the shadow's own settings: the rest of an old run's settings (a model since
        # removed from the registry, a renamed setting) must not stop its retouches
        try:
            run_settings = CutoutSettings.from_dict(
                {"shadow": "synthetic",
                 "synthetic_shadow": parent.settings.get("synthetic_shadow", {})})
        except ValueError as exc:
            # the layer as it lies is still this version's shadow: a retouch does not fail
            # for the want of a redraw (the pre-flag then keeps no signal)
            logger.warning("v%s's synthetic shadow settings cannot redraw it (%s): copied",
                           parent.version, exc)
        else:
            layer, signals = shadow_drawn(work_alpha(alpha), run_settings, None,
                                          (alpha.shape[0], alpha.shape[1]))
            return (png_spooled(layer) if layer is not None else None), signals
    # Each version owns its files: the parent's shadow layer is copied, not shared.
    shadow = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    with storages["default"].open(parent.shadow_name, "rb") as fh:
        shutil.copyfileobj(fh, shadow)
    shadow.seek(0)
    # a kept shadow (or a synthetic one its settings cannot redraw, whose pre-flag then keeps
    # no signal); where an export's own shadow lies is measured with the export's signals
    # (``export_shadow_off``, shadow44)
    return shadow, {}


def _retouch_output(cutout: Cutout, parent: Cutout | None, rgb: np.ndarray,
                    preview_side: int = 0, report: OnProgress = no_progress):
    """The retouched RGBA at full size, encoded like a model run's output files."""
    from ..engine import EngineOutput, retouch_copy, screen_copy
    from ..imaging.pipeline import tight_bbox
    from ..imaging.signals import drawn_signals
    from ..imaging.strokes import strokes_from_json

    started = time.perf_counter()
    height, width = rgb.shape[:2]
    parts: dict = {}
    rgb_reduced = None
    if cutout.upload_name:
        report(UPLOAD, 0.0)
        rgba = _upload_rgba(cutout.upload_name, (width, height))
    else:
        report(READING_CUTOUT, 0.0)
        if parent is None or not parent.rgba_name:
            raise PermanentError("The version this retouch starts from has no stored cutout.")
        try:
            strokes = strokes_from_json(cutout.strokes)
        except ValueError as exc:
            raise PermanentError(f"The stored strokes cannot be used: {exc}")
        if not strokes:
            raise PermanentError("This retouch has no strokes.")
        try:
            previous = _open_cutout(parent.rgba_name)
        except FileNotFoundError:
            raise PermanentError(f"The cutout of v{parent.version} is missing from storage.")
        if previous.shape[:2] != (height, width):
            raise PermanentError(f"The cutout of v{parent.version} does not match the photo's "
                                 "size.")
        # the alpha as a view of the cutout: a copy was 45 MB more at the Apply's peak (45 MP)
        result = retouch_apply(rgb, previous[..., 3], strokes, previous,
                               on_progress=span(report, RETOUCH_FROM, RETOUCH_TO),
                               far_keep=False)
        if _same_pixels(result.rgba, previous):
            # the editor keeps Apply off when its preview shows no change; this is the check
            # behind it (a preview not back yet, another client): a new version equal to its
            # parent would only go back to review (QA 2026-12-03). Not a failure (QA
            # 2026-12-05 L1: a red Failed batch that "Retry failed" failed again): the run
            # ends the version unchanged and the parent returns to the queue it left
            # (services.lineage)
            raise NothingChangedError(NOTHING_CHANGED.format(v=parent.version))
        del previous
        rgba, rgb_reduced, parts = result.rgba, result.rgb_work, {
            f"retouch_{k}": round(float(v), 4) for k, v in result.timings.items()
            if isinstance(v, int | float) and k != "total"}
    after = span(report, RETOUCH_TO, 1.0)
    after(CHECKING, 0.0)
    _clear_hidden_colours(rgba)
    alpha = rgba[..., 3]
    refined = time.perf_counter()
    shadow, shadow_signals = _retouch_shadow(parent, alpha)
    retouch_base = retouch_copy(rgb, rgba, preview_side, rgb_reduced)
    after(CHECKING, AFTER_STEPS["copies"])
    # the signals read the reduction the retouch base stores: the photo is reduced once
    reduced = (retouch_base[1][..., 3], retouch_base[0]) if retouch_base else None
    signals = drawn_signals(alpha, rgb, reduced=reduced)
    # measured here, on the array in memory: a remove stroke that takes a grey cloud clears
    # the review's pre-flag (and the export's pre-check) with the new version, and the
    # product's size is the one export lays out
    signals.update(export_signals(alpha))
    # a redrawn synthetic shadow's own: removing the stray part it lay under clears the
    # pre-flag "Shadow off the product" with the new version (services.review)
    signals.update(shadow_signals)
    bbox = tight_bbox(alpha)
    after(SAVING, AFTER_STEPS["checked"])
    rgba_file = png_spooled(rgba, owned=True)  # this run's own result: swapped in place
    after(SAVING, AFTER_STEPS["rgba"])
    mask_file = png_spooled(alpha)
    after(SAVING, AFTER_STEPS["mask"])
    output = EngineOutput(
        rgba=rgba_file, mask=mask_file, shadow=shadow,
        width=width, height=height, bbox=(list(bbox) if bbox else None),
        signals=signals, model_name=cutout.model_name,
        model_version=cutout.model_version, preview=screen_copy(rgba, preview_side),
        retouch_base=retouch_base)
    output.timings = {"retouch": round(refined - started, 4), **parts,
                      "encode": round(time.perf_counter() - refined, 4)}
    report(SAVING, 1.0)
    return output



"""REST API of the cutouts app (mounted under /api/v1/ by config/api.py): cutout batches,
cutouts and their review, exports, presets and signed short-lived downloads. Operations only
check the caller's role and call services and selectors."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from pydantic import StrictBool, field_validator
from pydantic_core import PydanticCustomError

from catalog import roles, serving
from catalog import selectors as catalog_selectors
from catalog.api_support import (
    AUTH,
    IDEMPOTENCY_DOC,
    MAX_ID,
    Id,
    Problem,
    StrictIn,
    cursor_decode,
    cursor_encode,
    errors,
    idempotent,
    needs,
    principal,
    sku_length_check,
)
from catalog.models import ImportJob, Product

from .errors import (
    BatchError,
    BatchFinishedError,
    ExportCollisionError,
    ExportError,
    ExportFinishedError,
    ReviewError,
    ReviewInputError,
)
from .imaging.settings import PROFILES, SHADOW_MODES
from .models import Cutout, CutoutBatch, ExportJob, FlagReason, JobStatus, Preset, ReviewStatus
from .selectors import export as export_selectors
from .selectors import jobs as job_selectors
from .selectors import review as review_selectors
from .selectors.api import (
    batch_page,
    cutout_get,
    cutout_page,
    export_file_missing_reason,
    export_manifest_rows,
    export_page,
)
from .selectors.export import EXPORT_FILES, export_job_file, export_job_get
from .services import batches as batch_services
from .services import export_jobs as export_services
from .services import previews as preview_services
from .services import review as review_services
from .strengths import STRENGTHS
from .variants import ManifestStatus

router = Router(auth=AUTH)
downloads = Router()  # the signature in the URL is the credential

DOWNLOAD_SALT = "cutroom.api.download"
#: the one form ``approved_since`` takes (a date-time is refused, not cut to its day)
DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
CUTOUT_FILES = ("cutout", "mask", "shadow")


def _not_found(what: str) -> Problem:
    return Problem(404, f"No such {what}.", slug="not-found")


def _invalid(field: str, message: str) -> Problem:
    """A 422 naming ``field``, worded like the validation errors ninja raises."""
    return Problem(422, f"{field}: {message}", slug="validation",
                   errors=[{"field": field, "message": message}])


def _batch_refused(field: str, message: str) -> Problem:
    # The UI's words: "Could not start cutouts: <reason>".
    return Problem(422, f"Could not start cutouts: {message}", slug="batch-refused",
                   errors=[{"field": field, "message": message}])


def _one_of(values) -> str:
    return ", ".join(str(v) for v in values)


# --- signed downloads -------------------------------------------------------------------------


class DownloadOut(Schema):
    url: str
    expires_at: datetime


def _signed_url(request: HttpRequest, *, storage_alias: str, name: str, filename: str,
                claim: dict) -> dict:
    seconds = settings.CUTROOM_API_DOWNLOAD_SECONDS
    expires = timezone.now() + timedelta(seconds=seconds)
    url = serving.presigned_url(alias=storage_alias, name=name, filename=filename,
                                seconds=seconds)
    if url:
        return {"url": url, "expires_at": expires}
    token = signing.dumps(claim, salt=DOWNLOAD_SALT, compress=True)
    path = reverse("api:file_download", kwargs={"token": token})
    return {"url": request.build_absolute_uri(path), "expires_at": expires}


@downloads.get("/files/{token}", auth=None, response={200: bytes, 404: None, 410: None},
               tags=["downloads"], summary="Fetch a file through a signed, short-lived URL",
               include_in_schema=False)
def file_download(request: HttpRequest, token: str):
    try:
        claim = signing.loads(token, salt=DOWNLOAD_SALT,
                              max_age=settings.CUTROOM_API_DOWNLOAD_SECONDS)
    except signing.SignatureExpired:
        raise Problem(410, "This download link has expired; ask the API for a new one.",
                      slug="expired")
    except signing.BadSignature:
        raise Problem(404, "No such file.", slug="not-found")
    try:
        if claim.get("k") == "cutout":
            cutout = review_selectors.cutout_for_image(cutout_id=int(claim["id"]))
            name, content_type = preview_services.cutout_image(cutout=cutout, kind=claim["v"],
                                                               size=0)
            alias, filename = "default", _cutout_filename(cutout, claim["v"])
        elif claim.get("k") == "export":
            job = export_job_get(pk=int(claim["id"]))
            file = export_job_file(job=job, file=claim["v"]) if job else None
            if file is None:
                raise _not_found("file")
            alias, name, filename, content_type = ("exports", file.name, file.filename,
                                                   file.content_type)
        else:
            raise _not_found("file")
        return serving.private_file(alias=alias, name=name, filename=filename,
                                    content_type=content_type, cache=serving.REVALIDATE)
    except (Cutout.DoesNotExist, FileNotFoundError, Http404, KeyError, ValueError, ReviewError):
        raise _not_found("file")


def _cutout_filename(cutout: Cutout, file: str) -> str:
    return f"cutout-{cutout.pk}-v{cutout.version}-{file}.png"


# --- presets ----------------------------------------------------------------------------------


class PresetOut(Schema):
    name: str
    label: str
    spec: str
    naming: str
    rules: dict
    sources: str


def _preset_out(p: Preset) -> dict:
    return {"name": p.name, "label": p.label, "spec": p.spec, "naming": p.naming,
            "rules": p.rules or {}, "sources": p.sources}


@router.get("/presets", response={200: list[PresetOut], **errors(403)}, tags=["presets"],
            summary="List export presets")
@decorate_view(needs(roles.VIEW))
def preset_list(request: HttpRequest):
    return [_preset_out(p) for p in export_selectors.preset_list()]


@router.get("/presets/{name}", response={200: PresetOut, **errors(403, 404)},
            tags=["presets"], summary="Read an export preset")
@decorate_view(needs(roles.VIEW))
def preset_read(request: HttpRequest, name: str):
    for preset in export_selectors.preset_list():
        if preset.name == name:
            return _preset_out(preset)
    raise _not_found("preset")


# --- batches ----------------------------------------------------------------------------------


class BatchIn(StrictIn):
    image_ids: list[Id] = Field([], max_length=10000,
                                 description="The selection; or use product_id / import_id.")
    product_id: Id | None = None
    import_id: Id | None = None
    all_pending: StrictBool = Field(False, description="Every image not cut out yet.")
    profile: str = Field("default", description=f"Quality profile: {', '.join(PROFILES)}.")
    model: str | None = Field(None, max_length=60)
    shadow: str | None = Field(None, description=f"One of: {', '.join(SHADOW_MODES)}; "
                                                 "empty: the profile's (none).")
    label: str = Field("", max_length=200)
    recut: StrictBool = Field(False, description="Cut again images that already have a finished "
                                           "cutout with these settings (awaiting review or "
                                           "approved); by default they are skipped and "
                                           "`message` counts them. Images whose cutout with "
                                           "these settings is still queued or running are "
                                           "skipped even so (counted in `message`): the same "
                                           "cut twice at once is a double submit.")


class BatchOut(Schema):
    id: int
    label: str
    profile: str
    status: str
    message: str
    total: int
    counts: dict[str, int]
    percent: int
    per_minute: float | None = None
    eta: datetime | None = None
    created_at: datetime
    finished_at: datetime | None = None


def _batch_out(batch: CutoutBatch) -> dict:
    progress = job_selectors.cutout_batch_progress(batch=batch)
    return {"id": batch.pk, "label": batch.label, "profile": batch.profile,
            # the pages' word (a queued row reads running once one of its cutouts runs)
            "status": progress.status, "message": batch.message, "total": progress.total,
            "counts": progress.counts, "percent": progress.percent,
            "per_minute": progress.per_minute, "eta": progress.eta,
            "created_at": batch.created_at, "finished_at": batch.finished_at}


def _batch(pk: int) -> CutoutBatch:
    batch = job_selectors.cutout_batch_get(pk=pk)
    if batch is None:
        raise _not_found("batch")
    return batch


class BatchPageOut(Schema):
    items: list[BatchOut]
    next_cursor: str | None = None


#: What GET /batches reads from the query string; anything else is refused, not ignored.
BATCH_LIST_PARAMS = ("status", "cursor", "limit")


def _unknown_params_refuse(request: HttpRequest, route: str, known: tuple[str, ...]) -> None:
    """A 422 naming each query parameter ``route`` does not take: a misspelt filter is
    refused, never answered as if it had been applied (GET /batches, GET /exports)."""
    unknown = sorted(set(request.GET) - set(known))
    if unknown:
        raise Problem(422, f"{route} takes {', '.join(known)}; unknown: "
                           f"{', '.join(unknown)}.", slug="validation",
                      errors=[{"field": name, "message": "Unknown query parameter; this list "
                               f"takes {', '.join(known)}."} for name in unknown])


@router.get("/batches", response={200: BatchPageOut, **errors(400, 403, 422)},
            tags=["batches"], summary="List cutout batches (newest first)",
            description="Newest first; follow `next_cursor`. Takes `status`, `cursor` and "
                        "`limit` only: any other query parameter is a 422 naming it.")
@decorate_view(needs(roles.VIEW))
def batch_list(request: HttpRequest, status: JobStatus | None = None,
               cursor: str | None = None, limit: int = Query(50, ge=1, le=200)):
    # An unknown parameter (a misspelt filter) is refused rather than answered with every
    # batch, as if it had been applied.
    _unknown_params_refuse(request, "GET /batches", BATCH_LIST_PARAMS)
    before = cursor_decode(cursor).get("before")
    page = batch_page(
        status=status.value if status else "",
        before=before if isinstance(before, int) and 0 < before <= MAX_ID else None,
        size=limit)
    return {"items": [_batch_out(b) for b in page.items],
            "next_cursor": cursor_encode({"before": page.older}) if page.older else None}


def _selection_field(payload: BatchIn) -> str:
    """The selection ``assets_for_cutout`` used (it takes the first one given)."""
    for field in ("image_ids", "product_id", "import_id"):
        if getattr(payload, field):
            return field
    return "all_pending"


@router.post("/batches", response={201: BatchOut, **errors(403, 404, 409, 422)}, tags=["batches"],
             summary="Start cutouts for a selection with a profile and model",
             description=IDEMPOTENCY_DOC)
@decorate_view(needs(roles.RUN_CUTOUTS))
@decorate_view(idempotent)
def batch_start(request: HttpRequest, payload: BatchIn):
    who = principal(request)
    if not (payload.image_ids or payload.product_id or payload.import_id
            or payload.all_pending):
        raise Problem(422, "Say which images to cut out: image_ids, product_id, import_id or "
                           "all_pending=true.", slug="batch-refused",
                      errors=[{"field": "image_ids", "message": "Required without product_id, "
                               "import_id or all_pending."}])
    # An unknown product or import is not an empty selection.
    if payload.product_id:
        try:
            catalog_selectors.product_get(pk=payload.product_id)
        except Product.DoesNotExist:
            raise _not_found("product") from None
    if payload.import_id:
        try:
            catalog_selectors.import_job_get(pk=payload.import_id)
        except ImportJob.DoesNotExist:
            raise _not_found("import") from None
    assets = job_selectors.assets_for_cutout(
        asset_ids=payload.image_ids, product_id=payload.product_id,
        import_job_id=payload.import_id, all_pending=payload.all_pending)
    try:
        batch = batch_services.cutout_batch_start(
            assets=assets, user=who.user, profile_name=payload.profile, model=payload.model,
            overrides=batch_services.batch_overrides(shadow=payload.shadow),
            label=batch_services.batch_label(
                label=payload.label, product_id=payload.product_id,
                import_job_id=payload.import_id, all_pending=payload.all_pending),
            recut=payload.recut)
    except BatchError as exc:
        # No setting at fault: the selection was empty, so name the one used.
        field = exc.field or (_selection_field(payload) if not assets.exists() else "")
        raise _batch_refused(field, str(exc)) from None
    return Status(201, _batch_out(batch))


@router.get("/batches/{batch_id}", response={200: BatchOut, **errors(403, 404)},
            tags=["batches"], summary="Progress of a batch")
@decorate_view(needs(roles.VIEW))
def batch_read(request: HttpRequest, batch_id: int):
    return _batch_out(_batch(batch_id))


@router.post("/batches/{batch_id}/cancel", response={200: BatchOut, **errors(403, 404, 409)},
             tags=["batches"], summary="Cancel the queued cutouts of a batch",
             description="409 when the batch has already finished: nothing is left to cancel.")
@decorate_view(needs(roles.RUN_CUTOUTS))
def batch_cancel(request: HttpRequest, batch_id: int):
    batch = _batch(batch_id)
    try:
        batch_services.cutout_batch_cancel(batch=batch)
    except BatchFinishedError as exc:
        raise Problem(409, str(exc), slug="batch-finished")
    batch.refresh_from_db()
    return _batch_out(batch)


@router.post("/batches/{batch_id}/retry", response={200: BatchOut, **errors(403, 404, 409)},
             tags=["batches"], summary="Re-queue the failed cutouts of a batch",
             description="409 when the batch has no failed cutout (of a live image): "
                         "nothing to retry.")
@decorate_view(needs(roles.RUN_CUTOUTS))
def batch_retry(request: HttpRequest, batch_id: int):
    batch = _batch(batch_id)
    # The service answers 0 (and changes nothing) when nothing failed; the UI's button
    # only shows with failures, an integration is told instead of getting a silent 200.
    if not batch_services.cutout_batch_retry_failed(batch=batch):
        raise Problem(409, f"Batch #{batch.pk} is {batch.get_status_display().lower()} and "
                           "has no failed cutouts; nothing to retry.", slug="nothing-to-retry")
    batch.refresh_from_db()
    return _batch_out(batch)


# --- cutouts ----------------------------------------------------------------------------------


class CutoutOut(Schema):
    id: int
    image_id: int
    product_id: int
    product_sku: str
    position: str
    batch_id: int | None = None
    version: int
    status: str
    #: while it runs: how far (0-100) and in which stage ("Refining edges"); 100 and "" once
    #: done, as the review card's bar shows them
    progress: int
    stage: str
    review_status: str
    is_current: bool
    #: ended without a result because a retouch's result was its parent's picture pixel for
    #: pixel (``status`` cancelled, by its run, not by anyone's cancel; ``error`` says it)
    is_unchanged: bool
    risk: float
    preflags: list[str]
    flag_reasons: list[str]
    profile: str
    model_name: str
    error: str
    width: int | None = None
    height: int | None = None
    created_at: datetime
    finished_at: datetime | None = None
    reviewed_at: datetime | None = None


class CutoutPageOut(Schema):
    items: list[CutoutOut]
    next_cursor: str | None = None


class ReviewIn(StrictIn):
    # Defaults by keyword here and in RerunIn (both are built without a body): mypy reads a
    # positional Field default as none, so ReviewIn() would not type-check.
    comment: str = Field(default="", max_length=2000)


class FlagIn(StrictIn):
    reasons: list[FlagReason]
    comment: str = Field("", max_length=2000)


class RerunIn(StrictIn):
    model: str | None = Field(default=None, max_length=60)
    tta: StrictBool | None = Field(default=None, description="Empty: the version's own.")
    shadow: str | None = Field(default=None, description=f"One of: {', '.join(SHADOW_MODES)}; "
                                                         "empty: the version's own.")
    strength: str | None = Field(default=None, description=f"One of: {', '.join(STRENGTHS)}; "
                                                           "empty: the version's own.")
    profile: str | None = Field(default=None, description=f"One of: {', '.join(PROFILES)}; "
                                                          "empty: the version's own.")
    comment: str = Field(default="", max_length=2000)


def _cutout_out(c: Cutout) -> dict:
    asset = c.asset
    return {
        "id": c.pk, "image_id": c.asset_id, "product_id": asset.product_id,
        "product_sku": asset.product.sku, "position": asset.position, "batch_id": c.batch_id,
        "version": c.version, "status": c.status, "progress": c.progress, "stage": c.stage,
        "review_status": c.review_status, "is_current": c.is_current,
        "is_unchanged": c.is_unchanged, "risk": c.risk, "preflags": list(c.preflags or []),
        "flag_reasons": list(c.flag_reasons or []), "profile": c.profile,
        "model_name": c.model_name, "error": c.error, "width": c.width, "height": c.height,
        "created_at": c.created_at, "finished_at": c.finished_at,
        "reviewed_at": c.reviewed_at,
    }


def _cutout(pk: int) -> Cutout:
    try:
        return cutout_get(pk=pk)
    except Cutout.DoesNotExist:
        raise _not_found("cutout")


@router.get("/cutouts", response={200: CutoutPageOut, **errors(400, 403, 422)},
            tags=["cutouts"], summary="List cutouts with review state, risk and pre-flags")
@decorate_view(needs(roles.VIEW))
def cutout_list(request: HttpRequest, status: JobStatus | None = None,
                review_status: ReviewStatus | None = None, preflag: str = "",
                min_risk: float | None = Query(None, ge=0, le=1000, allow_inf_nan=False),
                product: str = "",
                batch_id: int | None = Query(None, ge=1, le=MAX_ID),
                image_id: int | None = Query(None, ge=1, le=MAX_ID),
                include_superseded: bool = False,
                cursor: str | None = None, limit: int = Query(50, ge=1, le=200)):
    """Newest first; follow `next_cursor`. `preflag` is one of the engine's pre-flags
    (another value is a 422 listing them); `product` is an exact SKU.
    Versions an approval replaced (approved before another version became the image's
    current one, or `superseded`) are left out unless `include_superseded=true` or
    `review_status=superseded`: `review_status=approved` lists the version each image
    shows and export ships."""
    if preflag and preflag not in review_services.PREFLAGS:
        raise _invalid("preflag", f"Unknown pre-flag {preflag[:40]!r}; one of: "
                                  f"{_one_of(review_services.PREFLAGS)}.")
    sku = product.replace("\x00", "").strip()
    # never cut: a prefix would list another product's cutouts
    sku_length_check(sku, field="product")
    before = cursor_decode(cursor).get("before")
    page = cutout_page(
        status=status.value if status else "",
        review_status=review_status.value if review_status else "",
        preflag=preflag, min_risk=min_risk,
        product_sku=sku, batch_id=batch_id, image_id=image_id,
        include_superseded=include_superseded,
        before=before if isinstance(before, int) and 0 < before <= MAX_ID else None,
        size=limit)
    return {"items": [_cutout_out(c) for c in page.items],
            "next_cursor": cursor_encode({"before": page.older}) if page.older
            else None}


@router.get("/cutouts/{cutout_id}", response={200: CutoutOut, **errors(403, 404)},
            tags=["cutouts"], summary="Read a cutout version")
@decorate_view(needs(roles.VIEW))
def cutout_read(request: HttpRequest, cutout_id: int):
    return _cutout_out(_cutout(cutout_id))


def _review_problem(exc: ReviewError, *, invalid_slug: str = "validation") -> Problem:
    """The service decides what is bad input (ReviewInputError: 422 naming the field) and
    what the version's state refuses (409)."""
    if isinstance(exc, ReviewInputError):
        return Problem(422, str(exc), slug=invalid_slug,
                       errors=[{"field": exc.field, "message": str(exc)}])
    return Problem(409, str(exc), slug="review-refused")


def _review(action, request: HttpRequest, cutout_id: int, **kwargs) -> dict:
    who = principal(request)
    cutout = _cutout(cutout_id)
    try:
        cutout = action(cutout=cutout, user=who.user, **kwargs)
    except ReviewError as exc:
        raise _review_problem(exc)
    return _cutout_out(cutout_get(pk=cutout.pk))


@router.post("/cutouts/{cutout_id}/approve",
             response={200: CutoutOut, **errors(403, 404, 409, 422)},
             tags=["cutouts"], summary="Approve a version (it becomes the image's current)")
@decorate_view(needs(roles.REVIEW))
def cutout_approve(request: HttpRequest, cutout_id: int, payload: ReviewIn | None = None):
    # Approving needs nothing but the version: no body is the same as {}.
    payload = payload or ReviewIn()
    return _review(review_services.cutout_approve, request, cutout_id, comment=payload.comment)


@router.post("/cutouts/{cutout_id}/flag",
             response={200: CutoutOut, **errors(403, 404, 409, 422)}, tags=["cutouts"],
             summary="Flag a version for retouch, with reasons")
@decorate_view(needs(roles.REVIEW))
def cutout_flag(request: HttpRequest, cutout_id: int, payload: FlagIn):
    return _review(review_services.cutout_flag, request, cutout_id,
                   reasons=[r.value for r in payload.reasons], comment=payload.comment)


@router.post("/cutouts/{cutout_id}/rerun",
             response={200: CutoutOut, 201: CutoutOut, **errors(403, 404, 409, 422)},
             tags=["cutouts"],
             summary="Re-run with other settings: a new version on the interactive queue",
             description="201 with the new version; 200 with the re-run of this version with "
                         "the same settings that is still queued or running (no second "
                         "one is made). Settings no re-run accepts (an unknown strength, "
                         "shadow or profile, a model that is not installed here) are 422 "
                         "naming the field; 409 only when this version cannot be re-run now.")
@decorate_view(needs(roles.REVIEW))
def cutout_rerun(request: HttpRequest, cutout_id: int, payload: RerunIn | None = None):
    payload = payload or RerunIn()  # no body: the version's own settings, as {} says
    who = principal(request)
    cutout = _cutout(cutout_id)
    try:
        new, created = review_services.cutout_review_rerun_start(
            cutout=cutout, user=who.user, model=payload.model, tta=payload.tta,
            shadow=payload.shadow, strength=payload.strength, profile=payload.profile or None,
            comment=payload.comment)
    except ReviewError as exc:
        raise _review_problem(exc, invalid_slug="rerun-refused")
    return Status(201 if created else 200, _cutout_out(cutout_get(pk=new.pk)))


@router.get("/cutouts/{cutout_id}/download", response={200: DownloadOut, **errors(403, 404)},
            tags=["cutouts"], summary="A signed, short-lived URL of the cutout PNG (or mask)")
@decorate_view(needs(roles.VIEW))
def cutout_download(request: HttpRequest, cutout_id: int, file: str = "cutout"):
    cutout = _cutout(cutout_id)
    if file not in CUTOUT_FILES:
        raise Problem(404, f"No file {file!r}; choose one of: {', '.join(CUTOUT_FILES)}.",
                      slug="not-found")
    name = {"cutout": cutout.rgba_name, "mask": cutout.mask_name,
            "shadow": cutout.shadow_name}[file]
    if cutout.status != JobStatus.DONE or not name:
        raise Problem(404, f"Version {cutout.version} has no {file} file.", slug="not-found")
    return _signed_url(request, storage_alias="default", name=name,
                       filename=_cutout_filename(cutout, file),
                       claim={"k": "cutout", "id": cutout.pk, "v": file})


# --- exports ----------------------------------------------------------------------------------


class ExportIn(StrictIn):
    presets: list[str] = Field([], max_length=50,
                               description="Preset names, e.g. amazon_main; a scene "
                                           "preset on a library background as "
                                           "`web_hero:<slug>`, as the form stores it.")
    specs: list[str] = Field([], max_length=export_services.MAX_SPECS,
                             description="Spec strings, e.g. `trim|fill-85|square-1200|"
                                         "bg-ffffff|format-jpeg`; each gets a `spec-<hash>` "
                                         "folder (the manifest's `spec` column names it).")
    skus: list[str] = Field([], max_length=10000,
                            description="Empty: every product. An item may hold several "
                                        "SKUs separated by spaces, tabs, commas or "
                                        "semicolons (as pasted from a sheet).")
    brand: str = Field("", max_length=120)
    approved_since: date | None = Field(
        None, description="A day, `YYYY-MM-DD`: cutouts approved on or after it. A date-time "
                          "is a 422 naming the field (which day it falls on depends on the "
                          "time zone, so it is not guessed).")
    dry_run: StrictBool = False
    include_failing: StrictBool = False
    destination: ExportJob.Destination = Field(
        ExportJob.Destination.DOWNLOAD,
        description="`download`: one ZIP (`GET /exports/{id}/download`); `folder`: the files "
                    "written into `folder` in export storage.")
    folder: str = Field("", max_length=200,
                        description="With `destination` `folder` only (a 422 otherwise): a "
                                    "relative path inside export storage, e.g. "
                                    "`spring/amazon` — an absolute path or `..` is a 422; "
                                    "a Windows device name gets `_` (`spring/con` -> "
                                    "`spring/con_`, warning `folder-renamed`); "
                                    "empty: `export-<id>-<time>`.")

    @field_validator("approved_since", mode="before")
    @classmethod
    def _a_day(cls, value):
        # pydantic takes "2026-12-01T00:00:00Z" and refuses "…T10:00:00Z" in its own words
        # ("should have zero time"); a client is told the one format the filter takes
        if isinstance(value, str) and not DAY_RE.fullmatch(value.strip()):
            raise PydanticCustomError(
                "date_format", "Give a day as YYYY-MM-DD (e.g. 2026-12-01), not {value}: "
                "approved_since filters by the day of approval, not a time.",
                {"value": repr(value[:40])})
        return value.strip() if isinstance(value, str) else value


class ExportOut(Schema):
    id: int
    status: str
    presets: list[str]
    filters: dict
    dry_run: bool
    destination: str
    folder: str = Field(description="The folder in export storage the files are written "
                                    "to (destination `folder`): the one asked, made one "
                                    "Windows can create (`spring/con` -> `spring/con_`, "
                                    "as every name inside it); empty for a download.")
    percent: int
    progress_done: int
    progress_total: int
    exported_count: int = Field(description="Files written. On a cancelled export: what the "
                                            "run had rendered before the cancel; nothing of "
                                            "it was kept (no ZIP, no folder).")
    failed_count: int = Field(description="Variants excluded (failing compliance without "
                                          "`include_failing`, or not nameable).")
    failing_included_count: int = Field(
        0, description="Files exported (in a dry run: that would be) although they fail "
                       "compliance, with `include_failing`; part of `exported_count`.")
    message: str
    has_zip: bool
    created_at: datetime
    finished_at: datetime | None = None


def _export_out(job: ExportJob) -> dict:
    progress = export_selectors.export_job_progress(job=job)
    return {"id": job.pk, "status": job.status, "presets": job.presets, "filters": job.filters,
            "dry_run": job.dry_run, "destination": job.destination,
            "folder": job.folder if job.destination == ExportJob.Destination.FOLDER else "",
            "percent": progress.percent,
            "progress_done": job.progress_done, "progress_total": job.progress_total,
            "exported_count": job.exported_count, "failed_count": job.failed_count,
            "failing_included_count": int((job.report or {}).get("failing_included_count")
                                          or 0),
            "message": job.message, "has_zip": bool(job.zip_name),
            "created_at": job.created_at, "finished_at": job.finished_at}


class ExportWarningOut(Schema):
    """Something the export will do that the caller may not expect; it started anyway."""

    code: str = Field(description="`naming-gap`: a preset names its files by an identifier "
                                  "(Walmart: GTIN) that some selected products lack; their "
                                  "images will be excluded from that preset. "
                                  "`not-approved`: images of the products the export "
                                  "covers (its SKUs, else its brand's, else the catalog's) "
                                  "have no approved cutout (no cutout, awaiting review, "
                                  "flagged) or a product has no image; they are not "
                                  "exported (for `skus` the manifest lists them as `not "
                                  "approved: <reason>`). `newer-version`: approved "
                                  "images with a newer cutout awaiting review or being "
                                  "cut; the approved version ships (`identifier` "
                                  "`newer`, `count` images of `total` approved). "
                                  "`spec-note`: a spec token that "
                                  "will not act as it reads (a margin without trim). "
                                  "`folder-renamed`: the `folder` asked is written under "
                                  "a name Windows can create (`spring/con` -> "
                                  "`spring/con_`); the response's `folder` is the one "
                                  "used. The form's pre-check of the images, per preset: "
                                  "`too-small`: images whose product the preset would "
                                  "enlarge past the 8x limit with its frame (or under "
                                  "32 px); they will be excluded from it. `enlarged`: "
                                  "images it ships enlarged past 2x, which will look soft. "
                                  "`frame-cut`: "
                                  "images whose product the photo's edge cuts; the "
                                  "preset refuses them as main images (`identifier` "
                                  "`frame-refused`) or ships them with a straight cut "
                                  "(`frame-warned`). `faint-marks`: images a "
                                  "white-background preset will refuse for a faint "
                                  "see-through mark (a grey cloud on white), from the "
                                  "cutout's stored measure (`faint-refused`). "
                                  "`shadow-off-body`: images a `shadow-synthetic` preset "
                                  "or spec, or a scene's `shadow-contact`, would give a "
                                  "shadow under a stray part, not the product, as that "
                                  "render places it (`shadow-off-body`), or a "
                                  "`shadow-keep` preset ships the synthetic shadow the "
                                  "version drew under one (`kept-shadow-off`).")
    message: str = Field(description="The export form's words for it.")
    preset: str = Field(description="The preset it concerns; empty for `not-approved` "
                                    "(every preset) and `folder-renamed`.")
    identifier: str = Field(description="The field the products lack, e.g. `gtin`; "
                                        "`asin|sku` when any one of them would do; "
                                        "`approved` for `not-approved`; `size` for "
                                        "`too-small`; `frame-refused` or `frame-warned` "
                                        "for `frame-cut`; `faint-refused` for "
                                        "`faint-marks`; `shadow-off-body` or "
                                        "`kept-shadow-off` for "
                                        "`shadow-off-body`; empty for `spec-note` and "
                                        "`folder-renamed`.")
    # the pre-check's codes that count images (export_image_checks), named alike in all three
    count: int = Field(description="Selected products without it (`not-approved`: with an "
                                   "image that is not exported, or no image; `too-small`, "
                                   "`enlarged`, `frame-cut`, `faint-marks` and "
                                   "`shadow-off-body`: images).")
    total: int = Field(description="Selected products (`not-approved` without `skus`: the "
                                   "brand's, or the catalog's, live products); for "
                                   "`too-small`, `enlarged`, `frame-cut`, `faint-marks` and "
                                   "`shadow-off-body`: the approved images checked.")
    skus: list[str] = Field(description="The first five of them, by SKU; for "
                                        "`too-small`, `enlarged`, `frame-cut`, `faint-marks` "
                                        "and `shadow-off-body` the first five distinct SKUs "
                                        "among the images, whose `message` names the first "
                                        "five images (SKU and position).")


class ExportCreatedOut(ExportOut):
    warnings: list[ExportWarningOut] = Field(
        [], description="What the export form warns of before it starts (the API starts "
                        "at once): empty when nothing.")


def _export_warnings(job: ExportJob) -> list[dict]:
    return [{"code": gap.code, "message": gap.message, "preset": gap.preset,
             "identifier": gap.identifier, "count": gap.count, "total": gap.total,
             "skus": gap.skus} for gap in export_selectors.export_job_warnings(job=job)]


class ExportPageOut(Schema):
    items: list[ExportOut]
    next_cursor: str | None = None


class ManifestRowOut(Schema):
    """A manifest.csv row; the CSV's text cells, but numbers as numbers."""

    sku: str = ""
    gtin: str = ""
    asin: str = ""
    preset: str = ""
    file: str = Field("", description="The file's path in the ZIP or folder; empty when the "
                                      "variant is not in the export (excluded: see "
                                      "`compliance`), as `width`, `height`, `bytes` and "
                                      "`sha256` are.")
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    sha256: str = ""
    compliance: str = ""
    position: str = Field("", description="Which image of the product: its catalog position "
                                          "(`main`, `2`); empty in exports made before "
                                          "2026-12-02.")
    asset_id: int | None = Field(None, description="The image's id (`GET /images/{id}`); "
                                                   "null in exports made before 2026-12-02.")
    planned_file: str = Field("", description="The name the variant has in the export, or "
                                              "would have had when excluded (empty when it "
                                              "could not be named, and in exports made "
                                              "before 2026-12-03).")
    spec: str = Field("", description="The spec string the row's preset renders with: how a "
                                      "`spec-<hash>` folder is matched back to its spec "
                                      "(empty in exports made before 2026-12-03).")
    status: ManifestStatus = Field(
        description="The row's outcome as a code (decide by it; `compliance` says the same in "
                    "words, which may be reworded): `ok`, `ok_warnings` (in the export; a dry "
                    "run's: would be), `failed_included` (fails its checks, in the export with "
                    "`include_failing`), `failed` (fails its checks, left out), `not_exported` "
                    "(left out unjudged: cannot be named or rendered), `not_approved` (no "
                    "approved cutout), `unchecked` (a dry run's file not rendered yet). Read "
                    "from the text for exports made before 2026-12-05.")


def _export(pk: int) -> ExportJob:
    job = export_job_get(pk=pk)
    if job is None:
        raise _not_found("export")
    return job


@router.post("/exports", response={201: ExportCreatedOut, **errors(403, 409, 422)},
             tags=["exports"],
             summary="Export approved cutouts with presets or spec strings",
             description=IDEMPOTENCY_DOC)
@decorate_view(needs(roles.EXPORT))
@decorate_view(idempotent)
def export_create(request: HttpRequest, payload: ExportIn):
    who = principal(request)
    # a blank cell from a PIM is not "every product": [""] used to export the catalog
    lookup = export_selectors.products_by_sku_text(
        texts=[s.replace("\x00", "") for s in payload.skus])
    if lookup.problem:
        raise Problem(422, lookup.problem, slug="validation",
                      errors=[{"field": "skus", "message": lookup.problem}])
    product_ids = lookup.product_ids
    try:
        job = export_services.export_job_create(
            user=who.user, presets=payload.presets, specs=payload.specs,
            product_ids=product_ids,
            brand=payload.brand.replace("\x00", ""), approved_since=payload.approved_since,
            dry_run=payload.dry_run, include_failing=payload.include_failing,
            destination=payload.destination, folder=payload.folder.replace("\x00", ""))
    except ExportCollisionError as exc:
        raise Problem(409, "File names would collide; nothing was started. Fix the SKUs, "
                           "ASINs, GTINs or image positions, or change the naming.",
                      slug="export-collision",
                      errors=[{"field": "", "message": c} for c in exc.collisions[:100]])
    except ExportError as exc:
        # the service names the input at fault (specs, presets), as the skus refusal does
        raise Problem(422, str(exc), slug="export-refused",
                      errors=[{"field": exc.field, "message": str(exc)}])
    warnings = _export_warnings(job)
    note = export_services.export_folder_note(asked=payload.folder.replace("\x00", ""),
                                              used=job.folder)
    if note:
        # the response's folder is the one used; said too, as the form says it
        warnings.append({"code": "folder-renamed", "message": note, "preset": "",
                         "identifier": "", "count": 0, "total": 0, "skus": []})
    return Status(201, {**_export_out(job), "warnings": warnings})


#: What GET /exports reads from the query string; anything else is refused, not ignored.
EXPORT_LIST_PARAMS = ("status", "dry_run", "cursor", "limit")


@router.get("/exports", response={200: ExportPageOut, **errors(400, 403, 422)},
            tags=["exports"], summary="List exports (newest first)",
            description="Newest first; follow `next_cursor`. Takes `status`, `dry_run`, "
                        "`cursor` and `limit` only: any other query parameter is a 422 "
                        "naming it.")
@decorate_view(needs(roles.EXPORT))
def export_list(request: HttpRequest, status: JobStatus | None = None,
                dry_run: bool | None = None, cursor: str | None = None,
                limit: int = Query(50, ge=1, le=200)):
    # a misspelt filter (?stauts=failed) is refused, not answered with every export
    _unknown_params_refuse(request, "GET /exports", EXPORT_LIST_PARAMS)
    before = cursor_decode(cursor).get("before")
    page = export_page(
        status=status.value if status else "", dry_run=dry_run,
        before=before if isinstance(before, int) and 0 < before <= MAX_ID else None,
        size=limit)
    return {"items": [_export_out(j) for j in page.items],
            "next_cursor": cursor_encode({"before": page.older}) if page.older
            else None}


@router.get("/exports/{export_id}", response={200: ExportOut, **errors(403, 404)},
            tags=["exports"], summary="Progress of an export")
@decorate_view(needs(roles.EXPORT))
def export_read(request: HttpRequest, export_id: int):
    return _export_out(_export(export_id))


@router.post("/exports/{export_id}/cancel", response={200: ExportOut, **errors(403, 404, 409)},
             tags=["exports"], summary="Cancel a queued or running export",
             description="409 when the export has already ended (done, failed or "
                         "cancelled): nothing is left to cancel.")
@decorate_view(needs(roles.EXPORT))
def export_cancel(request: HttpRequest, export_id: int):
    try:
        job = export_services.export_job_cancel(job=_export(export_id))
    except ExportFinishedError as exc:
        raise Problem(409, str(exc), slug="export-finished")
    return _export_out(job)


@router.get("/exports/{export_id}/manifest", response={200: list[ManifestRowOut],
                                                       **errors(403, 404)},
            tags=["exports"], summary="The export's manifest rows (first 500)",
            description="`width`, `height` and `bytes` are numbers, `null` for a variant "
                        "that is not in the export (excluded, or not rendered in a dry run); "
                        "an excluded row has an empty `file` and `sha256` too, and names the "
                        "file it would have been in `planned_file`; "
                        "`position` and `asset_id` say which image of the product a row is.")
@decorate_view(needs(roles.EXPORT))
def export_manifest(request: HttpRequest, export_id: int):
    return export_manifest_rows(job=_export(export_id))


@router.get("/exports/{export_id}/download", response={200: DownloadOut, **errors(403, 404)},
            tags=["exports"], summary="A signed, short-lived URL of the ZIP (or manifest)")
@decorate_view(needs(roles.EXPORT))
def export_download(request: HttpRequest, export_id: int, file: str = "zip"):
    job = _export(export_id)
    if file not in EXPORT_FILES:
        raise Problem(404, f"No file {file!r}; choose one of: {', '.join(EXPORT_FILES)}.",
                      slug="not-found")
    found = export_job_file(job=job, file=file)
    if found is None:
        raise Problem(404, export_file_missing_reason(job=job, file=file), slug="not-found")
    return _signed_url(request, storage_alias="exports", name=found.name,
                       filename=found.filename, claim={"k": "export", "id": job.pk, "v": file})

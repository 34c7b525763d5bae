"""REST API of the catalog app (mounted under /api/v1/ by config/api.py): products, images
and webhook subscriptions. Operations only check the caller's role and call services and
selectors; refusals carry the same words as the UI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import BinaryIO, NoReturn, cast

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from pydantic import StrictBool

from . import direct_uploads, roles, selectors, upload_gate, webhooks
from .api_models import DeliveryStatus, WebhookDelivery, WebhookEvent, WebhookSubscription
from .api_support import (
    AUTH,
    IDEMPOTENCY_DOC,
    Problem,
    StrictIn,
    cursor_decode,
    cursor_encode,
    errors,
    idempotent,
    idempotent_replay_without,
    needs,
    principal,
    sku_length_check,
    validation_problem,
)
from .errors import AssetRestoreError, ProductPurgedError, ProductRestoreError
from .ids import MAX_ID
from .ingest import archives
from .models import AssetStatus, ImageAsset, Product
from .services import assets as asset_services
from .services import products as product_services
from .validators import SKU_MAX_LENGTH

router = Router(auth=AUTH)

MAX_LIMIT = 200


def _text(value: str | None, limit: int) -> str:
    """Free text (a search): cut to what the field can hold."""
    # NUL cannot be stored or searched on PostgreSQL; nobody types it on purpose.
    return (value or "").replace("\x00", "").strip()[:limit]


def _ident(value: str | None, limit: int, *, field: str) -> str:
    """An identifier (a SKU, a position): too long is a 422 naming ``field``, never cut,
    since two different values cut to the same prefix would name the same row."""
    text = (value or "").replace("\x00", "").strip()
    if field == "sku":
        sku_length_check(text)
    elif len(text) > limit:
        _too_long(field, f"String should have at most {limit} characters")
    return text


def _too_long(field: str, message: str) -> NoReturn:
    raise Problem(422, f"{field}: {message}", slug="validation",
                  errors=[{"field": field, "message": message}])


# --- schemas ----------------------------------------------------------------------------------


class ProductOut(Schema):
    id: int
    sku: str
    title: str
    brand: str
    category: str
    gtin: str
    asin: str
    asset_count: int = 0
    status_counts: dict[str, int] = {}
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    #: on a create or an update: what deserves a second look (another live product has this
    #: GTIN); the same words the product pages flash
    warnings: list[str] = []


class ProductPageOut(Schema):
    items: list[ProductOut]
    total: int | None = Field(None, description="Only with `total=true` (one more query).")
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")
    prev_cursor: str | None = None


class ProductFields(StrictIn):
    title: str = Field("", max_length=255)
    brand: str = Field("", max_length=120)
    category: str = Field("", max_length=120)
    gtin: str = Field("", max_length=20, description="EAN-8, UPC-A, EAN-13 or GTIN-14.")
    asin: str = Field("", max_length=10)


class ProductIn(ProductFields):
    # the length in the schema, checked by sku_length_check (in the SKU rule's words)
    sku: str = Field(..., json_schema_extra={"maxLength": SKU_MAX_LENGTH})


#: PATCH /products/{id} with another ``sku``: a SKU names the product's files, folders and
#: export names, so it is never renamed in place (the UI has no such field either)
SKU_UNCHANGEABLE = ("the SKU cannot be changed; create a product with the new SKU "
                    "(POST /products) and upload its images there, or delete this one")


class ProductPatch(StrictIn):
    sku: str | None = Field(None, description="Cannot be changed: only the product's own SKU "
                                              "(as read) is accepted, so a read-modify-write "
                                              "round trip works; any other value is `422`.")
    title: str | None = Field(None, max_length=255)
    brand: str | None = Field(None, max_length=120)
    category: str | None = Field(None, max_length=120)
    gtin: str | None = Field(None, max_length=20)
    asin: str | None = Field(None, max_length=10)


class OriginalOut(Schema):
    filename: str
    sha256: str
    bytes: int
    width: int
    height: int
    format: str
    colour_mode: str
    bit_depth: int
    icc_profile: str
    exif_orientation: int


class WorkingOut(Schema):
    width: int
    height: int
    colour_note: str
    colour_flagged: bool


class ImageOut(Schema):
    id: int
    product_id: int
    product_sku: str
    position: str
    status: str
    original: OriginalOut
    working: WorkingOut
    uploaded_at: datetime


class UploadResultOut(Schema):
    filename: str
    path: str = Field("", description="The file's `path` as sent (a folder upload's relative "
                                      "path), empty when none was or it names no folder: "
                                      "`a/x.jpg` and `b/x.jpg` are both stored as `x.jpg`.")
    status: str = Field(..., description="stored, duplicate or rejected")
    reason: str
    code: str
    warnings: list[str]
    image: ImageOut | None = None
    replaced: list[int] = Field(
        default_factory=list,
        description="Ids of the older images this file replaced at its position (`replace`), "
                    "now deleted; each is named in `warnings` too.")


class UploadOut(Schema):
    results: list[UploadResultOut]


def product_out(product: Product) -> dict:
    counts: dict[str, int] = {}
    for asset in getattr(product, "live_assets", []):
        counts[asset.status] = counts.get(asset.status, 0) + 1
    return {
        "id": product.pk, "sku": product.sku, "title": product.title, "brand": product.brand,
        "category": product.category, "gtin": product.gtin, "asin": product.asin,
        "asset_count": getattr(product, "asset_count", sum(counts.values())),
        "status_counts": counts, "created_at": product.created_at,
        "updated_at": product.updated_at, "deleted_at": product.deleted_at,
    }


def image_out(asset: ImageAsset) -> dict:
    return {
        "id": asset.pk, "product_id": asset.product_id, "product_sku": asset.product.sku,
        "position": asset.position, "status": asset.status,
        "original": {
            "filename": asset.original_filename, "sha256": asset.sha256, "bytes": asset.bytes,
            "width": asset.width, "height": asset.height, "format": asset.format,
            "colour_mode": asset.colour_mode, "bit_depth": asset.bit_depth,
            "icc_profile": asset.icc_profile_name, "exif_orientation": asset.exif_orientation,
        },
        "working": {"width": asset.working_width, "height": asset.working_height,
                    "colour_note": asset.colour_note, "colour_flagged": asset.colour_flagged},
        "uploaded_at": asset.uploaded_at,
    }


def _product(pk: int, *, include_deleted: bool = False) -> Product:
    try:
        return selectors.product_get(pk=pk, include_deleted=include_deleted)
    except Product.DoesNotExist:
        raise Problem(404, "No such product.", slug="not-found")


def _with_assets(product: Product) -> Product:
    # Attributes of this answer only (the schema reads them), not model fields.
    product.live_assets = list(selectors.asset_list(product=product))  # type: ignore[attr-defined]
    product.asset_count = len(product.live_assets)  # type: ignore[attr-defined]
    return product


# --- products ---------------------------------------------------------------------------------


@router.get("/products", response={200: ProductPageOut, **errors(400, 403, 422)},
            tags=["products"], summary="List products (filters as in the UI)")
@decorate_view(needs(roles.VIEW))
def product_list(request: HttpRequest, q: str = "", brand: str = "", category: str = "",
                 status: AssetStatus | None = None, cursor: str | None = None,
                 limit: int = Query(50, ge=1, le=MAX_LIMIT), total: bool = False):
    """Live products in SKU order, keyset-paginated: follow `next_cursor`. `status` keeps
    products with at least one image in that state; `q` searches SKU, title and GTIN.
    `total=true` adds the number of matching products (a count over all of them)."""
    position = cursor_decode(cursor)
    page = selectors.product_page(
        search=_text(q, 100), brand=_text(brand, 120), category=_text(category, 120),
        status=status.value if status else "", after=str(position.get("after", ""))[:64],
        before=str(position.get("before", ""))[:64], size=limit, with_total=total,
    )
    return {
        "items": [product_out(p) for p in page.products],
        "total": page.total if total else None,
        "next_cursor": cursor_encode({"after": page.next_after}) if page.next_after else None,
        "prev_cursor": cursor_encode({"before": page.prev_before}) if page.prev_before
        else None,
    }


@router.post("/products", response={201: ProductOut, **errors(403, 409, 422)},
             tags=["products"], summary="Create a product", description=IDEMPOTENCY_DOC)
@decorate_view(needs(roles.UPLOAD))
@decorate_view(idempotent)
def product_create(request: HttpRequest, payload: ProductIn):
    sku_length_check(payload.sku)
    try:
        product = product_services.product_create(**payload.dict())
    except ValidationError as exc:
        raise validation_problem(exc)
    return Status(201, _saved_out(product))


def _saved_out(product: Product) -> dict:
    warning = selectors.product_gtin_warning(product=product)
    return {**product_out(_with_assets(product)), "warnings": [warning] if warning else []}


@router.get("/products/{product_id}", response={200: ProductOut, **errors(403, 404)},
            tags=["products"], summary="Read a product")
@decorate_view(needs(roles.VIEW))
def product_read(request: HttpRequest, product_id: int):
    return product_out(_with_assets(_product(product_id)))


@router.patch("/products/{product_id}", response={200: ProductOut, **errors(403, 404, 422)},
              tags=["products"], summary="Update some fields of a product")
@decorate_view(needs(roles.UPLOAD))
def product_update(request: HttpRequest, product_id: int, payload: ProductPatch):
    product = _product(product_id)
    fields = payload.dict(exclude_none=True)
    # its own SKU, exactly, is a no-op (a client sending back what it read)
    if fields.pop("sku", product.sku) != product.sku:
        raise Problem(422, f"sku: {SKU_UNCHANGEABLE}", slug="validation",
                      errors=[{"field": "sku", "message": SKU_UNCHANGEABLE}])
    try:
        product = product_services.product_update(product=product, **fields)
    except ValidationError as exc:
        raise validation_problem(exc)
    return _saved_out(product)


@router.get("/products/by-sku/{sku}", response={200: ProductOut, **errors(403, 404)},
            tags=["products"], summary="Read the product with this SKU")
@decorate_view(needs(roles.VIEW))
def product_read_by_sku(request: HttpRequest, sku: str):
    """Matched as every SKU input is (the upload page's, a file name's): exactly, else the
    one live product equal ignoring case. 404 when none matches, the product is deleted, or
    several live products differ from it only in case (the detail names them)."""
    try:
        product = selectors.product_get_typed(sku=_ident(sku, SKU_MAX_LENGTH, field="sku"))
    except Product.DoesNotExist as exc:
        raise Problem(404, str(exc), slug="not-found")
    return product_out(_with_assets(product))


@router.put("/products/by-sku/{sku}", response={200: ProductOut, 201: ProductOut,
                                                **errors(403, 422)},
            tags=["products"], summary="Create or update the product with this SKU")
@decorate_view(needs(roles.UPLOAD))
def product_upsert(request: HttpRequest, sku: str, payload: ProductFields):
    """201 when the SKU was new, 200 when it was updated. A deleted SKU is refused, and so is
    a SKU that differs only in case from a product's (422 naming `sku` and that product):
    never a silent twin."""
    try:
        product, created = product_services.product_upsert(
            sku=_ident(sku, SKU_MAX_LENGTH, field="sku"), **payload.dict())
    except ValidationError as exc:
        raise validation_problem(exc)
    return Status(201 if created else 200, _saved_out(product))


@router.delete("/products/{product_id}", response={200: ProductOut, **errors(403, 404)},
               tags=["products"], summary="Soft-delete a product and its images")
@decorate_view(needs(roles.DELETE))
def product_delete(request: HttpRequest, product_id: int):
    product = product_services.product_soft_delete(product=_product(product_id))
    return product_out(product)


@router.post("/products/{product_id}/restore",
             response={200: ProductOut, **errors(403, 404, 409)},
             tags=["products"], summary="Restore a soft-deleted product")
@decorate_view(needs(roles.DELETE))
def product_restore(request: HttpRequest, product_id: int):
    """409 when the product is not deleted (nothing to restore), and once purge removed the
    product's files and released its SKU."""
    product = _product(product_id, include_deleted=True)
    try:
        if product.deleted_at is None:
            # the service treats it as done (the UI's restore of a live product is a no-op);
            # an integration asking for it has the wrong id or state, so it is told
            raise Problem(409, f"Product {product.sku} is not deleted; nothing to restore.",
                          slug="not-deleted")
        product = product_services.product_restore(product=product)
    except (ProductPurgedError, ProductRestoreError) as exc:
        raise Problem(409, str(exc))
    return product_out(_with_assets(product))


# --- images -----------------------------------------------------------------------------------


@router.get("/products/{product_id}/images", response={200: list[ImageOut], **errors(403, 404)},
            tags=["images"], summary="List a product's images")
@decorate_view(needs(roles.VIEW))
def image_list(request: HttpRequest, product_id: int):
    product = _product(product_id)
    return [image_out(a) for a in selectors.product_detail_assets(product=product)]


@router.get("/images/{image_id}", response={200: ImageOut, **errors(403, 404)},
            tags=["images"], summary="Original and working-copy metadata of an image")
@decorate_view(needs(roles.VIEW))
def image_read(request: HttpRequest, image_id: int):
    try:
        asset = selectors.asset_get(pk=image_id)
    except ImageAsset.DoesNotExist:
        raise Problem(404, "No such image.", slug="not-found")
    return image_out(asset)


@router.delete("/products/{product_id}/images/{int:image_id}",
               response={204: None, **errors(403, 404)}, tags=["images"],
               summary="Delete an image (soft, as the browser's Delete)",
               description="Its cutouts leave every list and export; the stored original is "
                           "kept until purge. Restoring the product does not bring back an "
                           "image deleted on its own.")
@decorate_view(needs(roles.DELETE))
def image_delete(request: HttpRequest, product_id: int, image_id: int):
    product = _product(product_id)
    try:
        asset = selectors.asset_get_for_product(product_pk=product.pk, pk=image_id)
    except ImageAsset.DoesNotExist:
        raise Problem(404, "No such image.", slug="not-found")
    asset_services.asset_soft_delete(asset=asset)
    return _no_content()


@router.post("/products/{product_id}/images/{int:image_id}/restore",
             response={200: ImageOut, **errors(403, 404, 409)}, tags=["images"],
             summary="Restore a deleted image (undo its delete)",
             description="Back at its position with its cutouts. 409 while another image holds "
                         "that position, the same file is live on the product again, the "
                         "product is deleted (restore it) or purge removed the files.")
@decorate_view(needs(roles.DELETE))
def image_restore(request: HttpRequest, product_id: int, image_id: int):
    try:
        asset = selectors.asset_get(pk=image_id, include_deleted=True)
    except ImageAsset.DoesNotExist:
        raise Problem(404, "No such image.", slug="not-found")
    if asset.product_id != product_id:
        raise Problem(404, "No such image.", slug="not-found")
    try:
        asset = asset_services.asset_restore(asset=asset)
    except AssetRestoreError as exc:
        raise Problem(409, str(exc), slug="restore-refused")
    return image_out(asset)


def _no_content() -> HttpResponse:
    """A 204: no body, so no Content-Type either (ninja would send application/json)."""
    response = HttpResponse(status=204)
    del response["Content-Type"]
    return response


@router.post("/products/{product_id}/images",
             response={200: UploadOut, 201: UploadOut, **errors(400, 403, 404, 409, 422)},
             tags=["images"], summary="Upload images (multipart, field `file`, repeatable)",
             description="The same checks as the browser upload: 201 when at least one file "
                         "was stored, 200 when all were duplicates, 422 (with each file's "
                         "reason) when every file was refused; each of `errors` names "
                         "`position` when the request's position refused the file (unknown, "
                         "or held by another image), else `file`, and its message starts "
                         "with the file name (its `path` when one was sent). `replace=true` "
                         "with a `position` another image holds replaces that image (deleted "
                         "as by DELETE) instead of refusing the file; `replace` is `true` or "
                         "`false` (empty: false), any other value `422`. `path`, repeatable, "
                         "one per `file` in the same order (empty for a file in no folder): "
                         "the file's relative path in the "
                         "folder uploaded, such as `shoot/SKU-1/front.jpg`, read as the "
                         "browser's folder upload reads it: a file in a hidden or system "
                         "folder is refused (`ignored`), a path with `..` or from a root "
                         "(`unsafe`); the image keeps its file name." + IDEMPOTENCY_DOC)
@decorate_view(needs(roles.UPLOAD))
@decorate_view(idempotent)
def image_upload(request: HttpRequest, product_id: int, file: File[list[UploadedFile]],
                 position: Form[str] = "", replace: Form[str] = "",
                 path: Form[list[str] | None] = None):
    product = _product(product_id)
    position_or_none = _ident(position, 8, field="position") or None
    replace_flag = _form_bool(replace, field="replace")
    paths = _upload_paths(path or [], file)
    results = []
    with _decode_slot():
        # one query for the request's files; an UploadedFile is a binary file (stubs: IO[bytes])
        hashes = asset_services.asset_hash_lookup(cast("list[BinaryIO]", file))
        for upload, upload_path in zip(file, paths, strict=True):
            with upload:
                result = asset_services.asset_ingest(
                    product=product, fileobj=cast(BinaryIO, upload),
                    filename=upload_path or upload.name or "upload",
                    user=principal(request).user, position=position_or_none, replace=replace_flag,
                    hashes=hashes,
                )
            # Every file has the one ``position``: only the first may replace the older
            # image, the next ones clash with it (as two files of one import do).
            replace_flag = replace_flag and not result.ok
            results.append(result)
    return _upload_answer(results)


def _upload_paths(paths: list[str], files: list[UploadedFile]) -> list[str]:
    """Each file's ``path``, '' for none. The browser's folder upload sends one ``path``
    beside each file, since a multipart file name carries no folders (Django keeps its last
    part only); the API takes them in the order of the files. What a path says (a hidden
    folder, ``..``) is ``asset_ingest``'s to judge, file by file, as for a browser session:
    here only whether the list lines up, so that no file is judged by another's path."""
    if not paths:
        return [""] * len(files)

    def refused(message: str) -> Problem:
        return Problem(422, f"path: {message}", slug="validation",
                       errors=[{"field": "path", "message": message}])

    if len(paths) != len(files):
        raise refused(f"Send one path per file, in the order of the files (empty for a file "
                      f"in no folder): {len(files)} file(s), {len(paths)} path(s).")
    for text, upload in zip(paths, files, strict=True):
        if len(text) > archives.MAX_PATH_CHARS:
            raise refused(f"String should have at most {archives.MAX_PATH_CHARS} characters "
                          f"({text[:40]!r}…)")
        name = upload.name or ""
        if text and asset_services.original_filename_of(text) != name:
            raise refused(f"{text[:200]!r} does not end with the name of its file, {name!r}: "
                          "send the paths in the order of the files.")
    return list(paths)


@contextmanager
def _decode_slot() -> Iterator[None]:
    """``upload_gate.decode_slot`` for an upload operation: busy is a 429 with Retry-After,
    nothing stored (the same request may be sent again, with its Idempotency-Key too)."""
    try:
        with upload_gate.decode_slot():
            yield
    except upload_gate.UploadGateBusy as busy:
        raise Problem(429, str(busy), slug=upload_gate.BUSY_CODE,
                      headers={"Retry-After": str(busy.retry_after)})


#: ``IngestResult.code`` of refusals the request's ``position`` caused (an unknown one, one
#: another image holds): ``errors[].field`` names ``position``; every other refusal is the
#: file's own (``file``). The file name stays in the message: several files may be sent.
POSITION_CODES = frozenset({"position", asset_services.POSITION_TAKEN})


def _form_bool(value: str, *, field: str) -> bool:
    """A multipart flag: ``true`` or ``false`` (any case), empty is false. Not pydantic's lax
    bool, which took "yes", "on" or "1" as true: a typo must not switch on a replace."""
    text = value.strip().lower()
    if text in ("", "false"):
        return False
    if text == "true":
        return True
    message = f"Input should be true or false, not {value[:20]!r}"
    raise Problem(422, f"{field}: {message}", slug="validation",
                  errors=[{"field": field, "message": message}])


def _upload_answer(results: list[asset_services.IngestResult]) -> Status:
    if all(r.status == asset_services.IngestResult.REJECTED for r in results):
        raise Problem(422, "; ".join(f"{_sent_as(r)}: {r.reason}" for r in results),
                      slug="image-refused",
                      errors=[{"field": "position" if r.code in POSITION_CODES else "file",
                               "message": f"{_sent_as(r)}: {r.reason}"} for r in results])
    body = {"results": [
        {"filename": r.filename, "path": r.path, "status": r.status, "reason": r.reason,
         "code": r.code, "warnings": r.notes, "image": image_out(r.asset) if r.asset else None,
         "replaced": [old.pk for old in r.replaced]}
        for r in results
    ]}
    stored = any(r.status == asset_services.IngestResult.STORED for r in results)
    return Status(201 if stored else 200, body)


def _sent_as(result: asset_services.IngestResult) -> str:
    """A file as an answer names it: by its path when it was sent with folders (a/x.jpg and
    b/x.jpg are both "x.jpg"), else by its name."""
    return result.path or result.filename


class DirectUploadIn(StrictIn):
    filename: str = Field(..., min_length=1, max_length=255)
    size: int = Field(..., ge=1, description="Exact size in bytes of the file to PUT.")


class DirectUploadOut(Schema):
    url: str
    method: str
    headers: dict[str, str]
    token: str
    expires_at: datetime


class DirectFinishIn(StrictIn):
    token: str = Field(..., max_length=2000)
    position: str = Field("", max_length=8)
    # StrictBool: a JSON true or false only ("yes" or 1 is a 422, never a replace)
    replace: StrictBool = Field(False, description="Replace the image holding `position` (a "
                                                   "re-shoot), as the upload's `replace` does. "
                                                   "A JSON boolean.")


@router.post("/products/{product_id}/images/direct",
             response={201: DirectUploadOut, **errors(403, 404, 409)}, tags=["images"],
             summary="Large files on S3: get a presigned PUT URL",
             description="PUT the file to `url` with `headers`, then call "
                         "`/images/direct/finish` with `token`. Only when storage is S3 "
                         "(otherwise 409: use the multipart upload).")
@decorate_view(needs(roles.UPLOAD))
def image_direct_start(request: HttpRequest, product_id: int, payload: DirectUploadIn):
    who = principal(request)
    product = _product(product_id)
    try:
        answer = direct_uploads.direct_upload_start(
            product=product, filename=payload.filename, size=payload.size, owner=who.owner)
    except ValidationError as exc:
        raise Problem(409 if not direct_uploads.available() else 422, " ".join(exc.messages),
                      slug="direct-upload")
    return Status(201, answer)


@router.post("/products/{product_id}/images/direct/finish",
             response={200: UploadOut, 201: UploadOut, **errors(403, 404, 409)},
             tags=["images"], summary="Ingest a file PUT to a presigned URL")
@decorate_view(needs(roles.UPLOAD))
def image_direct_finish(request: HttpRequest, product_id: int, payload: DirectFinishIn):
    who = principal(request)
    product = _product(product_id)
    try:
        # the staged file stays until an ingest reads it: a busy answer keeps the token good
        with _decode_slot():
            result = direct_uploads.direct_upload_finish(
                product=product, token=payload.token, owner=who.owner, user=who.user,
                position=_text(payload.position, 8) or None, replace=payload.replace)
    except ValidationError as exc:
        raise Problem(409, " ".join(exc.messages), slug="direct-upload")
    return _upload_answer([result])


# --- webhooks ---------------------------------------------------------------------------------


class SubscriptionIn(StrictIn):
    url: str = Field(..., max_length=500)
    events: list[WebhookEvent]
    description: str = Field("", max_length=200)


class SubscriptionPatch(StrictIn):
    url: str | None = Field(None, max_length=500)
    events: list[WebhookEvent] | None = None
    description: str | None = Field(None, max_length=200)
    is_active: StrictBool | None = None


class SubscriptionOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    is_active: bool
    disabled_reason: str
    failure_streak: int
    failing_since: datetime | None = Field(
        None, description="Start of the current run of failed attempts (null after a success).")
    previous_secret_expires_at: datetime | None = Field(
        None, description="After a secret rotation: until then deliveries are signed with the "
                          "replaced secret too (a second `v1,` signature).")
    created_at: datetime


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str | None = Field(..., description="Standard Webhooks signing secret (whsec_…). "
                                                "Shown once: `null` in an Idempotency-Key "
                                                "replay (rotate it if it was lost).")
    note: str | None = Field(None, description="Why `secret` is null (a replay).")


REPLAY_NOTE = ("The signing secret is shown only in the first answer; rotate it "
               "(POST /webhooks/{id}/rotate-secret) if it was lost.")


class RotateIn(StrictIn):
    """Rotation takes no options: no body, or ``{}``."""


class AttemptOut(Schema):
    at: str
    code: int | None = None
    error: str = ""
    ms: int = 0


class DeliveryOut(Schema):
    id: int
    msg_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None = None
    last_error: str
    next_attempt_at: datetime | None = None
    created_at: datetime
    delivered_at: datetime | None = None
    payload: dict
    attempts_log: list[AttemptOut]


class DeliveryPageOut(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for older deliveries.")
    prev_cursor: str | None = Field(None, description="Pass as `cursor` for newer deliveries.")


class RedeliveredOut(Schema):
    queued: int


def _subscription(pk: int) -> WebhookSubscription:
    try:
        return webhooks.subscription_get(pk=pk)
    except WebhookSubscription.DoesNotExist:
        raise Problem(404, "No such webhook subscription.", slug="not-found")


def _sub_out(sub: WebhookSubscription) -> dict:
    return {"id": sub.pk, "url": sub.url, "events": sub.events, "description": sub.description,
            "is_active": sub.is_active, "disabled_reason": sub.disabled_reason,
            "failure_streak": sub.failure_streak, "failing_since": sub.failing_since,
            "previous_secret_expires_at": sub.previous_secret_expires_at
            if sub.previous_secret else None,
            "created_at": sub.created_at}


@router.get("/webhooks", response={200: list[SubscriptionOut], **errors(403)},
            tags=["webhooks"], summary="List webhook subscriptions")
@decorate_view(needs(None))
def webhook_list(request: HttpRequest):
    return [_sub_out(s) for s in webhooks.subscriptions_live()]


@router.post("/webhooks", response={201: SubscriptionCreatedOut, **errors(403, 409, 422)},
             tags=["webhooks"], summary="Subscribe a URL to events",
             description="The answer holds the signing secret." + IDEMPOTENCY_DOC)
@decorate_view(needs(None))
@decorate_view(idempotent)
def webhook_create(request: HttpRequest, payload: SubscriptionIn):
    who = principal(request)
    try:
        sub = webhooks.subscription_create(user=who.user, url=payload.url,
                                           events=[e.value for e in payload.events],
                                           description=payload.description)
    except ValidationError as exc:
        raise validation_problem(exc)
    # Shown once: a replay of this request answers without it (api_support.idempotent).
    idempotent_replay_without(request, secret=REPLAY_NOTE)
    return Status(201, {**_sub_out(sub), "secret": sub.secret})


@router.get("/webhooks/{subscription_id}", response={200: SubscriptionOut, **errors(403, 404)},
            tags=["webhooks"], summary="Read a webhook subscription")
@decorate_view(needs(None))
def webhook_read(request: HttpRequest, subscription_id: int):
    return _sub_out(_subscription(subscription_id))


@router.patch("/webhooks/{subscription_id}",
              response={200: SubscriptionOut, **errors(403, 404, 422)},
              tags=["webhooks"], summary="Change URL or events, disable or re-enable")
@decorate_view(needs(None))
def webhook_update(request: HttpRequest, subscription_id: int, payload: SubscriptionPatch):
    sub = _subscription(subscription_id)
    try:
        sub = webhooks.subscription_update(
            subscription=sub, url=payload.url, description=payload.description,
            events=[e.value for e in payload.events] if payload.events is not None else None,
            is_active=payload.is_active)
    except ValidationError as exc:
        raise validation_problem(exc)
    return _sub_out(sub)


@router.post("/webhooks/{subscription_id}/rotate-secret",
             response={200: SubscriptionCreatedOut, **errors(403, 404, 422)},
             tags=["webhooks"], summary="Replace the signing secret (the answer holds it)",
             description="The replaced secret keeps signing deliveries too (a second `v1,` "
                         "signature in `webhook-signature`) until `previous_secret_expires_at` "
                         "(CUTROOM_WEBHOOK_ROTATE_GRACE_SECONDS, 24 h by default), so the "
                         "receiver can switch without rejecting events. Not repeat-safe: "
                         "each call makes a new secret.")
@decorate_view(needs(None))
def webhook_rotate_secret(request: HttpRequest, subscription_id: int,
                          payload: RotateIn | None = None):
    # payload: only so that a body with fields (an option that does not exist) is a 422
    sub = webhooks.subscription_secret_rotate(subscription=_subscription(subscription_id))
    return {**_sub_out(sub), "secret": sub.secret}


@router.delete("/webhooks/{subscription_id}", response={204: None, **errors(403, 404)},
               tags=["webhooks"], summary="Delete a webhook subscription")
@decorate_view(needs(None))
def webhook_delete(request: HttpRequest, subscription_id: int):
    webhooks.subscription_delete(subscription=_subscription(subscription_id))
    return _no_content()


def _cursor_id(position: dict, key: str) -> int | None:
    value = position.get(key)
    return value if isinstance(value, int) and 0 < value <= MAX_ID else None


@router.get("/webhooks/{subscription_id}/deliveries",
            response={200: DeliveryPageOut, **errors(400, 403, 404, 422)},
            tags=["webhooks"], summary="Delivery log (newest first, cursor pagination)")
@decorate_view(needs(None))
def webhook_deliveries(request: HttpRequest, subscription_id: int,
                       status: DeliveryStatus | None = None, cursor: str | None = None,
                       limit: int = Query(50, ge=1, le=MAX_LIMIT)):
    """Newest first; follow `next_cursor` for older deliveries, `prev_cursor` for newer
    ones. `status` keeps one state (`failed`: what *redeliver-failed* would send)."""
    sub = _subscription(subscription_id)
    position = cursor_decode(cursor)
    page = webhooks.deliveries_page(
        subscription=sub, status=status.value if status else "",
        before=_cursor_id(position, "before"), after=_cursor_id(position, "after"), size=limit)
    return {"items": page.items,
            "next_cursor": cursor_encode({"before": page.older}) if page.older else None,
            "prev_cursor": cursor_encode({"after": page.newer}) if page.newer else None}


@router.post("/webhooks/{subscription_id}/deliveries/redeliver-failed",
             response={202: RedeliveredOut, **errors(403, 404, 409)},
             tags=["webhooks"], summary="Send every failed delivery again (same webhook-ids)")
@decorate_view(needs(None))
def webhook_redeliver_failed(request: HttpRequest, subscription_id: int):
    try:
        count = webhooks.deliveries_redeliver_failed(
            subscription=_subscription(subscription_id))
    except ValidationError as exc:
        raise Problem(409, " ".join(exc.messages), slug="conflict")
    return Status(202, {"queued": count})


@router.post("/webhooks/deliveries/{delivery_id}/redeliver",
             response={202: DeliveryOut, **errors(403, 404, 409)},
             tags=["webhooks"], summary="Send a delivery again now (same webhook-id)")
@decorate_view(needs(None))
def webhook_redeliver(request: HttpRequest, delivery_id: int):
    try:
        delivery = webhooks.delivery_get(pk=delivery_id)
    except WebhookDelivery.DoesNotExist:
        raise Problem(404, "No such delivery.", slug="not-found")
    try:
        delivery = webhooks.delivery_redeliver(delivery=delivery)
    except ValidationError as exc:
        raise Problem(409, " ".join(exc.messages), slug="conflict")
    return Status(202, delivery)

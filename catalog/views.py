"""Catalog pages: product list and detail, thumbnails, browser uploads and import jobs.

Uploads from the browser arrive one file per request (static/js/upload.js), so each answer
is small JSON about one file and nothing is buffered as a whole batch. A plain form POST
(no JavaScript) still works: it redirects to the page that shows the outcome.
"""

import json
from typing import BinaryIO, TypeVar, cast

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotModified,
    JsonResponse,
    StreamingHttpResponse,
)
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import roles, selectors, serving, upload_gate
from .errors import (
    IMPORT_REFUSALS,
    AssetRestoreError,
    ManifestError,
    NamingError,
    ProductDeletedError,
    ProductPurgedError,
    ProductRestoreError,
    WorkingCopyRebuildError,
)
from .forms import BulkEditForm, ProductForm
from .http import HtmxHttpRequest
from .ids import id_from
from .ingest import archives, images
from .ingest.manifest import Manifest
from .ingest.naming import (
    DEFAULT_PATTERNS,
    VIEW_WORD_NOTE,
    FilenameRules,
    fold_sku,
    precedence,
    view_word_sku,
)
from .ingest.numbers import digits_from
from .models import (
    NEXT_FREE_POSITIONS,
    AssetStatus,
    ImageAsset,
    ImportIssue,
    ImportJob,
    Position,
    Product,
    ProductBulkEdit,
)
from .permissions import capability_required, require
from .services import assets as asset_services
from .services import import_mapping, product_bulk
from .services import imports as import_services
from .services import products as product_services

# Thumbnails are generated once per size and kept: only these sizes, so a crafted URL cannot
# fill storage with one file per integer.
THUMB_SIZES = (160, 320, 640)
MAX_PATH_CHARS = archives.MAX_PATH_CHARS


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _product_or_404(pk: int) -> Product:
    try:
        return selectors.product_get(pk=pk)
    except Product.DoesNotExist:
        raise Http404("No such product.")


def _with_undo(request: HttpRequest, text: str, url: str) -> SafeString:
    """A flash message with an Undo button: a small POST form (a restore changes data), its
    CSRF token inline because the message is rendered by base.html as it is."""
    return format_html(
        '{} <form method="post" action="{}" class="inline undo">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<button class="btn" type="submit">Undo</button></form>',
        text, url, get_token(request))


def _gtin_warning(request: HttpRequest, product: Product) -> None:
    warning = selectors.product_gtin_warning(product=product)
    if warning:
        messages.warning(request, warning)


# --- Products ---------------------------------------------------------------------------------


@capability_required(roles.VIEW)
@require_GET
def product_list(request: HtmxHttpRequest) -> HttpResponse:
    filters = selectors.product_filters(request.GET)
    page = selectors.product_page(
        **filters, after=request.GET.get("after", "")[:64],
        before=request.GET.get("before", "")[:64],
    )
    query = {k: v for k, v in {"q": filters["search"], "brand": filters["brand"],
                                "category": filters["category"],
                                "status": filters["status"]}.items() if v}
    context = {
        "page": page,
        "filters": filters,
        "query": urlencode(query),
        "next_url": "?" + urlencode({**query, "after": page.next_after}) if page.next_after
        else "",
        "prev_url": "?" + urlencode({**query, "before": page.prev_before}) if page.prev_before
        else "",
        "status_choices": AssetStatus.choices,
        # a chip swaps the status and keeps the search, brand and category
        "chip_query": "".join(f"{urlencode({k: v})}&" for k, v in query.items()
                              if k != "status"),
    }
    counts = selectors.asset_status_counts()
    context["status_counts"] = [(value, label, counts[value])
                                for value, label in AssetStatus.choices]
    if request.htmx and request.htmx.target == "product-results":
        return HttpResponse(
            render_to_string("catalog/_product_results.html", context, request)
            + render_to_string("catalog/_status_counts.html", {**context, "oob": True}, request))
    context["facets"] = selectors.product_facets()
    return render(request, "catalog/product_list.html", context)


def _asset_context(product: Product) -> dict:
    assets = selectors.product_detail_assets(product=product)
    return {
        "product": product,
        "assets": assets,
        "warn_long_side": settings.CUTROOM_WARN_LONG_SIDE,
        "runs_active": selectors.asset_runs_active(assets=assets),
    }


def _asset_grid_html(request: HttpRequest, context: dict) -> str:
    """The product page's image grid for an htmx swap, with the page's "Start cutouts" out
    of band: the first upload onto an empty product offers it at once (it showed only after a
    reload, QA 2026-12-04), and deleting the last image takes it away."""
    return (render_to_string("catalog/_asset_grid.html", context, request)
            + render_to_string("catalog/_product_start.html", {**context, "oob": True}, request))


#: the element of the product page that polls its tiles' cutout states (_asset_runs.html)
ASSET_RUNS_TARGET = "asset-runs"


@capability_required(roles.VIEW)
@require_GET
def product_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    try:
        product = selectors.product_get(pk=pk, include_deleted=True)
    except Product.DoesNotExist:
        raise Http404("No such product.")
    if product.deleted_at is not None:
        if request.htmx and request.htmx.target == ASSET_RUNS_TARGET:
            # deleted in another tab while its page polled: 286 is htmx's "stop polling"
            # (a 404 would leave the poll asking every second); htmx still swaps its body
            # in, so the page says why it stopped rather than freezing with live buttons
            return render(request, "catalog/_asset_runs.html",
                          {"product": product, "gone": True}, status=286)
        if request.htmx:
            raise Http404("No such product.")
        # an old link or bookmark: say what happened (and, to a manager, how to undo it)
        # rather than a bare "not found"; still 404, the product page itself is gone
        return _product_gone(request, product)
    context = _asset_context(product)
    if request.htmx and request.htmx.target == ASSET_RUNS_TARGET:
        # the poll while a cutout of the product is queued or running: each tile's state
        # swapped out of band into its own spots, so checkboxes and open forms stay as they are
        return render(request, "catalog/_asset_runs.html", {**context, "oob": True})
    if request.htmx:
        # upload.js asks for the grid again once a batch of files is in.
        return HttpResponse(_asset_grid_html(request, context))
    context["positions"] = Position.choices
    context.update(_image_name_rule())
    return render(request, "catalog/product_detail.html", context)


def _product_gone(request: HttpRequest, product: Product) -> HttpResponse:
    purged = product_services.is_purged(product)
    return render(request, "catalog/product_gone.html", {
        "product": product, "purged": purged,
        # a purged product's SKU was released as "~<pk>~<sku>" (products_release_purged)
        "sku": product.sku.split(product_services.PURGED_PREFIX, 2)[-1] if purged
        else product.sku,
    }, status=404)


@capability_required(roles.DELETE)
@require_POST
def product_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    product = product_services.product_soft_delete(product=_product_or_404(pk))
    messages.success(request, _with_undo(
        request, f"Product {product.sku} deleted; its files are kept until purge.",
        reverse("catalog:product_restore", args=[product.pk])))
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("catalog:product_list")
        return response
    return redirect("catalog:product_list")


@capability_required(roles.UPLOAD)
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    """The "New product" page. A SKU of a deleted product offers "restore it" instead."""
    # a prefilled SKU is not cut to 64 either: the form refuses a longer one, visibly
    form = ProductForm(request.POST or None, initial={"sku": request.GET.get("sku", "")[:255]})
    deleted = None
    if request.method == "POST" and form.is_valid():
        try:
            product = product_services.product_create(sku=form.cleaned_data["sku"],
                                                      **form.product_fields)
        except ProductDeletedError as exc:
            deleted = exc.product
            form.add_error("sku", exc.text)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Product {product.sku} created.")
            _gtin_warning(request, product)
            return redirect("catalog:product_detail", pk=product.pk)
    return render(request, "catalog/product_form.html",
                  {"form": form, "product": None, "deleted": deleted},
                  status=400 if form.errors else 200)


@capability_required(roles.UPLOAD)
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = _product_or_404(pk)
    initial = {k: getattr(product, k) for k in product_services.PRODUCT_EDITABLE}
    form = ProductForm(request.POST or None, initial=initial, with_sku=False)
    if request.method == "POST" and form.is_valid():
        try:
            product_services.product_update(product=product, **form.product_fields)
        except ValidationError as exc:
            form.add_service_errors(exc)
            product.refresh_from_db()
        else:
            messages.success(request, f"Product {product.sku} saved.")
            _gtin_warning(request, product)
            return redirect("catalog:product_detail", pk=product.pk)
    return render(request, "catalog/product_form.html", {"form": form, "product": product},
                  status=400 if form.errors else 200)


@capability_required(roles.DELETE)
@require_GET
def product_deleted_list(request: HttpRequest) -> HttpResponse:
    """Deleted products a manager can restore (until purge frees their SKU)."""
    search = request.GET.get("q", "").strip()[:100]
    return render(request, "catalog/product_deleted.html", {
        "products": selectors.product_deleted_list(search=search),
        "search": search, "limit": selectors.DELETED_LIMIT,
    })


@capability_required(roles.DELETE)
@require_POST
def product_restore(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        product = selectors.product_get(pk=pk, include_deleted=True)
    except Product.DoesNotExist:
        raise Http404("No such product.")
    try:
        product_services.product_restore(product=product)
    except (ProductPurgedError, ProductRestoreError) as exc:
        messages.error(request, str(exc))
        return redirect("catalog:product_deleted_list")
    messages.success(request, f"Product {product.sku} restored with its images.")
    return redirect("catalog:product_detail", pk=product.pk)


def _bulk_edit_page_context(*, recent: bool = True) -> dict:
    return {"columns": ", ".join(product_services.PRODUCT_EDITABLE),
            "recent": selectors.product_bulk_edit_list() if recent else []}


@capability_required(roles.UPLOAD)
@require_http_methods(["GET", "POST"])
def product_bulk_edit(request: HttpRequest) -> HttpResponse:
    """Upload ``sku,brand,category`` (other editable columns optional). The file is checked
    here (size, encoding, header, every line readable) and queued as a job; the answer is
    the job's page, which polls it. A refused file is answered here, nothing stored."""
    form = BulkEditForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            with upload:
                job = product_bulk.product_bulk_edit_create(
                    user=request.user, upload=upload, encoding=form.cleaned_data["encoding"])
        except ManifestError as exc:
            error = str(exc)
        else:
            return redirect("catalog:product_bulk_edit_detail", pk=job.pk)
    return render(request, "catalog/product_bulk_edit.html",
                  {**_bulk_edit_page_context(), "form": form, "error": error},
                  status=400 if error or form.errors else 200)


#: Problem lines a bulk edit's page lists; its CSV report has every line.
BULK_PROBLEMS_SHOWN = 200


def _bulk_edit_job_context(pk: int) -> dict:
    try:
        job = selectors.product_bulk_edit_get(pk=pk)
    except ProductBulkEdit.DoesNotExist:
        raise Http404("No such bulk edit.")
    problems, problem_count = (
        selectors.product_bulk_edit_problems(job=job, limit=BULK_PROBLEMS_SHOWN)
        if job.is_finished else ([], 0))
    return {"job": job, "counts": product_bulk.product_bulk_edit_counts(job),
            "problems": problems, "problems_more": problem_count - len(problems)}


@capability_required(roles.UPLOAD)
@require_GET
def product_bulk_edit_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A bulk edit's progress (htmx polls the partial), then its counts, problem lines and
    report."""
    context = _bulk_edit_job_context(pk)
    if request.htmx:
        return render(request, "catalog/_product_bulk_progress.html", context)
    return render(request, "catalog/product_bulk_edit.html",
                  {**_bulk_edit_page_context(recent=False), **context, "form": BulkEditForm()})


@capability_required(roles.UPLOAD)
@require_GET
def product_bulk_edit_report(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    try:
        job = selectors.product_bulk_edit_get(pk=pk)
    except ProductBulkEdit.DoesNotExist:
        raise Http404("No such bulk edit.")
    # streamed: a row per line, so a 100,000-line report is never in memory
    response = StreamingHttpResponse(selectors.product_bulk_edit_report_lines(job=job),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = serving.attachment_header(
        f"bulk-edit-{job.pk}-report.csv")
    return response


def _result_json(result: asset_services.IngestResult, product: Product | None = None) -> dict:
    asset = result.asset
    return {
        "filename": result.filename,
        "status": result.status,
        "reason": result.reason,
        "code": result.code,
        "warnings": result.notes,
        "asset": asset.pk if asset else None,
        "product": asset.product.sku if asset else (product.sku if product else None),
        "position": asset.position if asset else None,
        # older images this file replaced at its position (the replace option), now deleted
        "replaced": [old.pk for old in result.replaced],
    }


def _json_status(results: list[dict]) -> int:
    if any(r["status"] == asset_services.IngestResult.STORED for r in results):
        return 201
    if all(r["status"] == asset_services.IngestResult.REJECTED for r in results):
        return 422
    return 200


def _upload_answer(request: HttpRequest, results: list[dict], back: str) -> HttpResponse:
    if _wants_json(request):
        if len(results) == 1:
            return JsonResponse(results[0], status=_json_status(results))
        return JsonResponse({"results": results}, status=_json_status(results))
    stored = sum(r["status"] == asset_services.IngestResult.STORED for r in results)
    messages.success(request, f"{stored} of {len(results)} files stored.")
    for r in results:
        if r["status"] != asset_services.IngestResult.STORED:
            messages.warning(request, f"{r['filename']}: {r['reason']}")
    return redirect(back)


def _no_file(request: HttpRequest, back: str) -> HttpResponse:
    reason = "No file was sent."
    if _wants_json(request):
        return JsonResponse({"status": "rejected", "reason": reason, "code": "no_file"},
                            status=400)
    messages.error(request, reason)
    return redirect(back)


def _busy(request: HttpRequest, busy: upload_gate.UploadGateBusy, back: str) -> HttpResponse:
    """429 for an upload refused by the decode gate (nothing stored): upload.js waits for
    Retry-After and sends the file again."""
    reason = str(busy)
    if _wants_json(request):
        response: HttpResponse = JsonResponse(
            {"status": upload_gate.BUSY_CODE, "reason": reason, "code": upload_gate.BUSY_CODE,
             "retry_after": busy.retry_after}, status=429)
    else:
        # a form POST without JavaScript lost its files: the page says to send them again
        response = render(request, "catalog/busy.html", {"reason": reason, "back": back},
                          status=429)
    response["Retry-After"] = str(busy.retry_after)
    return response


@capability_required(roles.UPLOAD)
@require_POST
def product_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Files straight onto one product (its page, or a product chosen on the bulk page)."""
    product = _product_or_404(pk)
    back = reverse("catalog:product_detail", args=[product.pk])
    files = request.FILES.getlist("file")
    if not files:
        return _no_file(request, back)
    position = request.POST.get("position") or None
    replace = _flag(request, "replace")
    # The page sends a folder drop's path with its one file (the browser gives the server the
    # base name only): the service's hidden-folder rule reads it as a browser session's does
    # (.thumbs/x.jpg is refused); the image keeps its base name.
    path = (request.POST.get("path") or "")[:MAX_PATH_CHARS] if len(files) == 1 else ""
    results = []
    try:
        # one slot for the request: its files are decoded one after another
        with upload_gate.decode_slot():
            # one query for the files; an UploadedFile is a binary file (the stubs: IO[bytes])
            hashes = asset_services.asset_hash_lookup(cast("list[BinaryIO]", files))
            for upload in files:
                with upload:
                    result = asset_services.asset_ingest(
                        product=product, fileobj=cast(BinaryIO, upload),
                        filename=path or upload.name or "upload",
                        user=request.user, position=position, replace=replace, hashes=hashes,
                    )
                # One position for every file of the request: only the first may replace the
                # older image; the next ones clash with it (as two files of one import do).
                replace = replace and not result.ok
                results.append(_result_json(result, product))
    except upload_gate.UploadGateBusy as busy:
        return _busy(request, busy, back)
    return _upload_answer(request, results, back)


@capability_required(roles.DELETE)
@require_POST
def asset_delete(request: HtmxHttpRequest, pk: int, asset_pk: int) -> HttpResponse:
    product = _product_or_404(pk)
    try:
        asset = selectors.asset_get_for_product(product_pk=product.pk, pk=asset_pk)
    except ImageAsset.DoesNotExist:
        raise Http404("No such image.")
    asset_services.asset_soft_delete(asset=asset)
    text = (f"Image {asset.position} of {product.sku} ({asset.original_filename or 'no name'}) "
            "deleted; its file is kept until purge.")
    undo_url = reverse("catalog:asset_restore", args=[product.pk, asset.pk])
    if request.htmx:
        # the grid, and the page's undo note swapped in out of band (no page load shows a flash)
        return HttpResponse(
            _asset_grid_html(request, _asset_context(product))
            + render_to_string("catalog/product_asset_undo.html",
                               {"undo_text": text, "undo_url": undo_url, "oob": True}, request))
    messages.success(request, _with_undo(request, text, undo_url))
    return redirect("catalog:product_detail", pk=product.pk)


@capability_required(roles.DELETE)
@require_POST
def asset_restore(request: HttpRequest, pk: int, asset_pk: int) -> HttpResponse:
    """The Undo of an image's delete: back at its position, unless that is taken now."""
    try:
        asset = selectors.asset_get(pk=asset_pk, include_deleted=True)
    except ImageAsset.DoesNotExist:
        raise Http404("No such image.")
    if asset.product_id != pk:
        raise Http404("No such image.")
    try:
        asset_services.asset_restore(asset=asset)
    except AssetRestoreError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Image {asset.position} of {asset.product.sku} restored.")
    if asset.product.deleted_at is not None:
        return redirect("catalog:product_deleted_list")
    return redirect("catalog:product_detail", pk=pk)


@capability_required(roles.UPLOAD)
@require_POST
def asset_working_copy_rebuild(request: HtmxHttpRequest, pk: int, asset_pk: int) -> HttpResponse:
    """Make an image's working copy again from its original (offered where a cutout failed
    because the working copy could not be read); in the request, as an upload is, and under
    the same bound on decodes (``upload_gate``)."""
    product = _product_or_404(pk)
    try:
        asset = selectors.asset_get_for_product(product_pk=product.pk, pk=asset_pk)
    except ImageAsset.DoesNotExist:
        raise Http404("No such image.")
    try:
        # the original is decoded whole, as an upload's file: one of the decode slots; a
        # click finding none free in the upload's wait is refused, nothing changed
        with upload_gate.decode_slot():
            text = asset_services.asset_working_copy_rebuild(asset=asset).message
        level = "success"
    except WorkingCopyRebuildError as exc:
        text, level = str(exc), "error"
    except upload_gate.UploadGateBusy as busy:
        text, level = (f"Image {asset.position} of {product.sku}: the server is busy decoding "
                       "other images, so its working copy was not rebuilt; nothing was changed. "
                       f"Rebuild it again in {busy.retry_after} seconds."), "error"
    if request.htmx:
        return HttpResponse(
            _asset_grid_html(request, _asset_context(product))
            + render_to_string("catalog/product_asset_undo.html",
                               {"undo_text": text, "note_level": level, "oob": True}, request))
    messages.add_message(request, messages.SUCCESS if level == "success" else messages.ERROR,
                         text)
    return redirect("catalog:product_detail", pk=product.pk)


@capability_required(roles.VIEW)
@require_GET
def asset_thumbnail(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A cached WebP thumbnail; storage names never reach the browser."""
    try:
        asset = selectors.asset_get(pk=pk)
    except ImageAsset.DoesNotExist:
        raise Http404("No such image.")
    # no size is the default one; a size not listed is no thumbnail (QA 2026-12-06: 999 was
    # answered with the 320 px one, as if it had been made)
    raw = request.GET.get("size")
    size = asset_services.THUMB_DEFAULT if raw is None else id_from(raw)
    if size not in THUMB_SIZES:
        raise Http404("No such thumbnail size: 160, 320 or 640.")
    etag = f'"{asset.sha256[:32]}-{size}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
        response["ETag"], response["Cache-Control"] = etag, serving.IMMUTABLE
        return response
    try:
        name = asset_services.asset_thumbnail(asset=asset, size=size)
    except (FileNotFoundError, OSError):
        raise Http404("The image file is missing from storage.")
    return serving.private_file(name=name, content_type="image/webp", cache=serving.IMMUTABLE,
                                etag=etag)


# --- Bulk upload and imports -------------------------------------------------------------------


def _flag(request: HttpRequest, name: str) -> bool:
    return request.POST.get(name) in ("on", "1", "true")


def _import_options(request: HttpRequest) -> dict:
    patterns = [
        line.strip() for line in request.POST.get("patterns", "").splitlines() if line.strip()
    ]
    return {
        "patterns": patterns,
        "regex": request.POST.get("regex", "").strip(),
        "create_products": request.POST.get("create_products") in ("on", "1", "true"),
        "encoding": request.POST.get("encoding", "utf-8"),
        "use_folders": request.POST.get("use_folders", "on") in ("on", "1", "true"),
        # the page's "Replace older images at taken positions" box (asset_ingest's replace)
        "replace": _flag(request, "replace"),
        "manifest_file": request.FILES.get("manifest") or None,
    }


def _error(request: HttpRequest, message: str, back: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": message}, status=400)
    messages.error(request, message)
    return redirect(back)


def _job_urls(job: ImportJob) -> dict:
    return {
        "job": job.pk,
        "upload_url": reverse("catalog:import_upload_file", args=[job.pk]),
        "finish_url": reverse("catalog:import_finish", args=[job.pk]),
        "job_url": reverse("catalog:import_detail", args=[job.pk]),
    }


def _image_name_rule() -> dict:
    """The server's one rule for an image file name, for upload.js (data attributes of the
    drop zone): files it would skip are not sent, and are skipped in the same words."""
    return {
        "image_extensions": " ".join(sorted(images.IMAGE_EXTENSIONS)),
        # the file picker's filter, from the same list (it lacked .avif and .jpe when typed
        # by hand); image/* alone would hide .heic/.avif where the OS knows no MIME type
        "image_accept": ",".join(["image/*", *sorted(images.IMAGE_EXTENSIONS)]),
        "not_image_reason": archives.NOT_IMAGE_REASON,
        # an image format the import does not read (.bmp): extension -> its skip's words
        "unsupported_image_reasons": json.dumps(
            {ext: archives.UNSUPPORTED_IMAGE_REASON.format(format=name, ext="{ext}")
             for ext, name in archives.UNSUPPORTED_IMAGE_FORMATS.items()}),
        # a second manifest beside the one the page took ({manifest}), its name differing
        # only in case: skipped, in the import's words (archives.second_manifest_reason)
        "second_manifest_reason": archives.SECOND_MANIFEST_REASON,
        # hidden and system files, and files in hidden or system folders: not sent, listed as
        # ignored in these words; which names those are is the imports' own pattern, tested on
        # every part of a path (one rule for the page and the server)
        "ignored_reason": archives.IGNORED_REASON,
        "ignored_name_pattern": archives.IGNORED_NAME_PATTERN,
        # a 0-byte file: the page marks it before sending, in the import's words
        "empty_reason": images.EMPTY_REASON,
        # a file whose first bytes are no image format's: the page marks it before sending
        "no_header_reason": images.NO_HEADER_REASON,
        # a file whose first bytes are text: its words, "{format}" its extension's format
        "text_content_reason": images.TEXT_CONTENT_REASON,
        "image_formats": json.dumps(images.FORMAT_BY_EXTENSION),
        "text_sniff_bytes": images.TEXT_SNIFF_BYTES,
        # the preview refuses a ZIP whose directory does not add up in the import's words
        "zip_damaged_reason": archives.ZIP_DAMAGED_REASON,
    }


def _upload_page_context() -> dict:
    return {
        **_image_name_rule(),
        "default_patterns": DEFAULT_PATTERNS,
        "min_long_side": settings.CUTROOM_MIN_LONG_SIDE,
        "warn_long_side": settings.CUTROOM_WARN_LONG_SIDE,
        "max_pixels": settings.CUTROOM_MAX_PIXELS,
        "recent_jobs": selectors.import_job_list(limit=5),
    }


@capability_required(roles.UPLOAD)
@require_http_methods(["GET", "POST"])
def bulk_upload(request: HttpRequest) -> HttpResponse:
    """GET: the page. POST: open an upload session for the files the browser will send.

    With ``product`` (a SKU) every file goes to that product; otherwise a browser-upload
    import job maps each file by the naming rules and manifest, and keeps the report.
    """
    back = reverse("catalog:bulk_upload")
    if request.method == "GET":
        return render(request, "catalog/upload.html", _upload_page_context())
    sku = request.POST.get("product", "").strip()
    if sku:
        try:
            # ignoring case, as the import matches a file's SKU (and as the preview said)
            product = selectors.product_get_typed(sku=sku)
        except Product.DoesNotExist as exc:
            return _error(request, str(exc), back)
        if not _wants_json(request):
            return product_upload(request, product.pk)
        return JsonResponse({
            "job": None, "product": product.sku,
            "upload_url": reverse("catalog:product_upload", args=[product.pk]),
            "done_url": reverse("catalog:product_detail", args=[product.pk]),
        })
    options = _import_options(request)
    files = request.FILES.getlist("file")
    expected = request.POST.get("expected", "")
    expected_files = digits_from(expected)
    if expected_files is None:
        expected_files = len(files)
    if files and not _wants_json(request):
        # Without JavaScript the files came in this one request; map them the same way, under
        # one decode slot taken before the job exists (a busy answer leaves no job behind).
        try:
            with upload_gate.decode_slot():
                return _bulk_upload_files(request, options, files, expected_files, back)
        except upload_gate.UploadGateBusy as busy:
            return _busy(request, busy, back)
    # the files the page will send and those it holds back (paths): the manifest's rows are
    # matched to all of them at once, so a row several folders' files match goes to none
    names = _preview_names(request, "names") if "names_json" in request.POST else None
    try:
        job = import_services.import_job_create(
            user=request.user, source_kind=ImportJob.Source.UPLOAD,
            expected_files=expected_files, **options,
            names=[n[:MAX_PATH_CHARS] for n in names] if names is not None else None,
            # where the page took the manifest from (a picked folder's): a second one beside
            # it, its name differing only in case, is reported, not passed over
            manifest_path=request.POST.get("manifest_path", ""),
            # what the page will not send (skipped, held, already stored): named now, so the
            # report lists them however the session ends (QA38 H1)
            not_sent=_page_names(request),
        )
    except IMPORT_REFUSALS as exc:
        return _error(request, str(exc), back)
    if _wants_json(request):
        return JsonResponse(_job_urls(job), status=201)
    import_services.import_job_finish(job_id=job.pk)
    return redirect("catalog:import_detail", pk=job.pk)


def _bulk_upload_files(request: HttpRequest, options: dict, files: list, expected_files: int,
                       back: str) -> HttpResponse:
    """``bulk_upload``'s form POST with its files (no JavaScript): one import job for them."""
    try:
        job = import_services.import_job_create(
            user=request.user, source_kind=ImportJob.Source.UPLOAD,
            expected_files=expected_files, **options,
            names=[(upload.name or "upload")[:MAX_PATH_CHARS] for upload in files])
    except IMPORT_REFUSALS as exc:
        return _error(request, str(exc), back)
    hashes = asset_services.asset_hash_lookup(files)
    for upload in files:
        with upload:
            import_services.import_job_upload_file(job_id=job.pk, fileobj=upload,
                                                   filename=upload.name, user=request.user,
                                                   hashes=hashes)
    import_services.import_job_finish(job_id=job.pk)
    return redirect("catalog:import_detail", pk=job.pk)


@capability_required(roles.UPLOAD)
@require_POST
def import_upload_file(request: HttpRequest, pk: int) -> HttpResponse:
    """One file of a browser upload job; the answer is JSON about that file."""
    back = reverse("catalog:import_detail", args=[pk])
    upload = request.FILES.get("file")
    if upload is None:
        return _no_file(request, back)
    # A folder pick sends the relative path, so folder-per-SKU layouts map like in a ZIP.
    name = (request.POST.get("path") or upload.name or "upload")[:MAX_PATH_CHARS]
    try:
        # before the service: a busy answer is no arrival, the session counts the file when
        # the page sends it again
        with upload_gate.decode_slot(), upload:
            result = import_services.import_job_upload_file(
                job_id=pk, fileobj=cast(BinaryIO, upload), filename=name, user=request.user)
    except ImportJob.DoesNotExist:
        raise Http404("No such browser upload.")
    except upload_gate.UploadGateBusy as busy:
        return _busy(request, busy, back)
    return _upload_answer(request, [_result_json(result)], back)


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)


def _sha_named(value: object) -> tuple[str, str] | None:
    """(name, sha256) from the page's "<sha256 hex>:<name>" (a held file's, a stored skip's):
    the name cut to MAX_PATH_CHARS, the hash in lower case; None unless ``value`` is a string
    of that form with a name that is not blank (no file is named so: nothing to match)."""
    if not (isinstance(value, str) and len(value) > 65 and value[64] == ":"
            and _is_sha256(value[:64]) and value[65:].strip()):
        return None
    return value[65:65 + MAX_PATH_CHARS], value[:64].lower()


_JSON = TypeVar("_JSON", list, dict)


def _json_field(raw: str, kind: type[_JSON]) -> _JSON | None:
    """A form field the page filled with JSON (``raw``), when it holds a ``kind``; None when it
    is not JSON or holds another type: the caller says what a malformed field means. JSON
    nested deeper than Python's recursion limit is malformed too (json raises RecursionError
    for it, not ValueError: a 500)."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, kind) else None


@capability_required(roles.UPLOAD)
@require_POST
def import_finish(request: HttpRequest, pk: int) -> HttpResponse:
    # upload.js lists what it could not send (network, 5xx); a page from before QA38 also
    # what it skipped, held or found stored (a page now names those at the start)
    page = _page_names(request)
    try:
        job = import_services.import_job_finish(
            job_id=pk, failed=page.failed, skipped=page.skipped, held=page.held,
            unlisted=page.unlisted, stored=page.stored)
    except ImportJob.DoesNotExist:
        raise Http404("No such import.")
    if _wants_json(request):
        return JsonResponse({**selectors.import_job_progress(pk=job.pk),
                             "positions": selectors.import_upload_positions(job=job),
                             "duplicates": selectors.import_upload_duplicates(job=job),
                             "warnings": selectors.import_upload_warnings(job=job),
                             "job_url": reverse("catalog:import_detail", args=[job.pk])})
    return redirect("catalog:import_detail", pk=job.pk)


def _page_names(request: HttpRequest) -> import_services.PageNames:
    """The files a page names as not sent, from a session's start (what it will not send) or
    its finish (what failed to send): the one reading of those fields for both."""
    def named(kind: str) -> list[str]:
        return [n[:MAX_PATH_CHARS] for n in request.POST.getlist(kind) if n.strip()]

    # how many more of each the page counted but did not name (it names at most 200)
    unlisted = {kind: int(value) for kind in ("failed", "held", "skipped", "stored")
                if (value := request.POST.get(f"{kind}_more", "").strip()).isascii()
                and value.isdigit() and len(value) <= 9}
    return import_services.PageNames(
        # could not send (network, 5xx); not image file names; held by the preview (no
        # product, a taken position: the server says why again)
        failed=named("failed"), skipped=named("skipped"), held=named("held"),
        # found already stored on their own product (a file for a taken position too: the
        # import finds the duplicate first), not sent unless asked ("Upload again anyway"):
        # one JSON list of "<sha256 hex>:<name>" (one field, not one per file: with the
        # kinds above a request could pass Django's 1,000-field cap), checked against the
        # catalog again at the session's end
        stored=_stored_skips(request.POST.get("stored_json", "")), unlisted=unlisted)


def _stored_skips(raw: str) -> dict[str, str]:
    """name -> sha256 from a finish's ``stored_json`` ("<sha256>:<name>" strings); the first
    ``MAX_FINISH_NAMES`` well-formed ones (the page names no more), malformed JSON or values
    left out: the server checks every one it keeps, and none is stored without its bytes."""
    values = _json_field(raw, list) if raw else []
    if values is None:
        return {}
    return dict(named for v in values[:import_services.MAX_FINISH_NAMES]
                if (named := _sha_named(v)) is not None)


@capability_required(roles.UPLOAD)
@require_POST
def import_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    import_services.import_job_cancel(job_id=pk)
    if request.htmx:
        return _import_progress(request, pk)
    return redirect("catalog:import_detail", pk=pk)


@capability_required(roles.VIEW)
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    """GET: recent imports. POST (managers): a ZIP, stored and queued for the worker."""
    if request.method == "GET":
        return render(request, "catalog/import_list.html",
                      {"jobs": selectors.import_job_list(limit=100)})
    # Reading the list is for every role; creating an import needs the upload capability.
    require(request, roles.UPLOAD)
    back = reverse("catalog:bulk_upload")
    archive = request.FILES.get("archive")
    if archive is None:
        return _error(request, "Choose a ZIP file to import.", back)
    try:
        with archive:
            job = import_services.import_job_create(
                user=request.user, source_kind=ImportJob.Source.ZIP, source_file=archive,
                **_import_options(request),
            )
    except (*IMPORT_REFUSALS, ValidationError) as exc:
        return _error(request, str(exc), back)
    if _wants_json(request):
        return JsonResponse(_job_urls(job), status=201)
    return redirect("catalog:import_detail", pk=job.pk)


def _import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "catalog/_import_progress.html", _import_context(pk))


#: Issue rows the import's page lists; the rest are in its CSV report.
ISSUES_SHOWN = 500


def _import_context(pk: int) -> dict:
    try:
        job = selectors.import_job_get(pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404("No such import.")
    rows = selectors.import_job_issues(job=job)
    issues = list(rows.order_by("level", "id")[:ISSUES_SHOWN])
    return {
        "job": job,
        "progress": selectors.import_job_progress(pk=job.pk),
        "issues": issues,
        "errors_shown": sum(i.level == ImportIssue.Level.ERROR for i in issues),
        # rows, not the job's counts: a "… and N more" row counts as the N files it names
        "issues_more": rows.count() - len(issues) if len(issues) == ISSUES_SHOWN else 0,
        "products": selectors.import_job_products(job=job) if job.is_finished else [],
        # a browser session whose page stopped sending (closed, navigated away)
        "quiet": selectors.import_upload_quiet(job=job),
    }


@capability_required(roles.VIEW)
@require_GET
def import_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    if request.htmx:
        return _import_progress(request, pk)
    return render(request, "catalog/import_detail.html", _import_context(pk))


@capability_required(roles.VIEW)
@require_GET
def import_report(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    try:
        job = selectors.import_job_get(pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404("No such import.")
    # streamed: a row per stored file, so a 100k-file import's report is never in memory
    response = StreamingHttpResponse(selectors.import_job_report_lines(job=job),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = serving.attachment_header(f"import-{job.pk}-report.csv")
    return response


@capability_required(roles.VIEW)
@require_GET
def dashboard_summary(request: HttpRequest) -> HttpResponse:
    """The catalog panel of the dashboard, loaded by htmx (the dashboard view is config's)."""
    counts = selectors.asset_status_counts()
    return render(request, "catalog/_dashboard_summary.html", {
        "status_counts": [(value, label, counts[value]) for value, label in AssetStatus.choices],
        "jobs": selectors.import_job_list(limit=5),
    })


# Enough for a season's shoot; a preview of more is not read by anybody.
MAX_PREVIEW_NAMES = 20_000


@capability_required(roles.UPLOAD)
@require_POST
def import_preview(request: HttpRequest) -> HttpResponse:
    """Where the chosen files would go ("these 12 files → these 5 products"), before anything
    is stored. The browser sends only the names (ZIP entries are read from its directory) and,
    for a ZIP, its ``manifest.csv`` as ``zip_manifest`` when it could read it."""
    posted = _preview_names(request, "names")
    empty_posted = _preview_names(request, "empty")
    no_header_posted = _preview_names(request, "no_header")
    text_heads_posted = _preview_names(request, "text_heads")
    if (posted is None or empty_posted is None or no_header_posted is None
            or text_heads_posted is None):
        return HttpResponse("The file names came malformed: reload the page and try again.",
                            status=400, content_type="text/plain; charset=utf-8")
    names = [n[:MAX_PATH_CHARS] for n in posted[:MAX_PREVIEW_NAMES] if n.strip()]
    sku = request.POST.get("product", "").strip()
    if sku:
        # "send every file to one product": no mapping to show, only whether the upload
        # would find that product (bulk_upload's own lookup, so the same words)
        return _product_target_preview(request, sku=sku, names=names)
    options = _import_options(request)
    # with the folder rule off no folder is read: neither its rank nor the view-word rule
    # (which holds only in a read folder) is shown
    context: dict = {"precedence": precedence(use_folders=options["use_folders"]),
                     "next_free_order": " ".join(NEXT_FREE_POSITIONS),
                     "view_word_note": VIEW_WORD_NOTE if options["use_folders"] else ""}
    # a ZIP without an image: the import would refuse it, so the preview says so instead of
    # "0 of 0 files" (judged on the whole list only, not on the first MAX_PREVIEW_NAMES)
    listed = len(posted)
    if request.POST.get("source") == "zip" and listed <= MAX_PREVIEW_NAMES and (
            empty := import_services.zip_no_images_reason(names)):
        context["error"] = empty
        return render(request, "catalog/_import_preview.html", context)
    # a ZIP the import refuses whole for its compression (a zip bomb): refused here, with the
    # entry to take out, rather than an Import button that loses every file
    if request.POST.get("source") == "zip" and (
            bomb := selectors.import_zip_bomb_reason(sizes=_preview_packed(request))):
        context["error"] = bomb
        return render(request, "catalog/_import_preview.html", context)
    # The import's order: the manifest chosen on the page, else the one inside the ZIP.
    manifest_file = options["manifest_file"] or request.FILES.get("zip_manifest")
    # which path is the upload's manifest, as the page found it on the whole list before it
    # took a read ZIP manifest out of the names ("" none: a session's manifest is never among
    # its names); by the import's rule on the names when not said (forms, tests)
    said = request.POST.get("manifest_path")
    manifest_at = archives.manifest_path(names) if said is None else (said or None)
    # the browser lists a ZIP's manifest among the names only when it could not read it
    context["zip_manifest_unread"] = manifest_file is None and manifest_at in names
    # files whose first bytes the browser found no image's (those of them read as text are
    # said to be text, as the import says), capped as every posted list: one set for the
    # plan and for the list under an error (reread44 L1)
    no_header = {n[:MAX_PATH_CHARS] for n in no_header_posted[:MAX_PREVIEW_NAMES]}
    text_heads = {n[:MAX_PATH_CHARS] for n in text_heads_posted[:MAX_PREVIEW_NAMES]}
    try:
        rules = FilenameRules.from_options(options)
        manifest = None
        if manifest_file is not None:
            # named as the import's report names it: a chosen one by its file name, the
            # ZIP's by its path there (QA 2026-12-06 L3: "manifest.csv" for shoot/manifest.csv)
            manifest = import_mapping.manifest_parse(
                manifest_file.read(), encoding=options["encoding"],
                name=import_mapping.manifest_display_name(options["manifest_file"],
                                                          path=manifest_at))
        # files the browser saw 0 bytes of (a picked file's size, a ZIP entry's in its
        # directory): refused by the import whatever they are named, so mapped to nothing
        empty_names = {n[:MAX_PATH_CHARS] for n in empty_posted[:MAX_PREVIEW_NAMES]}
        preview = context["preview"] = selectors.import_preview(
            names=names, rules=rules, create_products=options["create_products"],
            manifest=manifest, empty=empty_names, sizes=_preview_sizes(request),
            manifest_at=manifest_at,
            # the import opens each of a ZIP's entries, even one whose name it refuses
            contents_unread=request.POST.get("source") == "zip",
            # files whose first bytes the browser found no image's: not planned
            no_header=no_header, text_heads=text_heads)
    except (NamingError, ManifestError) as exc:
        context["error"] = str(exc)
        # the files refused for their bytes whatever the manifest or rules: still listed
        # under the error, as the plan would have listed them
        context["not_images"] = selectors.import_not_images(
            names=names, no_header=no_header, text_heads=text_heads)
        context.update(list_shown=PREVIEW_LIST_SHOWN, list_shown_slice=f":{PREVIEW_LIST_SHOWN}")
        # the status beside Import ZIP says how many ("Fix the 2 errors shown below"): a
        # manifest's bad lines are each one (QA40 L4: "the error" over two)
        context["error_count"] = len(getattr(exc, "errors", ())) or 1
    else:
        # the browser says whether these are a session's files or a ZIP's entries
        session = request.POST.get("source") == "session"
        context.update(_preview_positions(
            preview, replace=options["replace"], manifest=manifest, session=session))
        # what the import will report against the manifest's own rows (refused SKUs,
        # existing products it leaves as they were, rows whose file is missing)
        context["manifest_notes"] = []
        created: list[tuple[str, int]] = []
        if manifest is not None:
            found = import_mapping.manifest_preview(manifest=manifest, names=names,
                                                    session=session)
            context["manifest_notes"] = found.notes
            context["manifest_blocking"] = found.blocking
            context["error_count"] = len(found.blocking)
            created = [(sku, manifest.product_lines.get(sku, 0)) for sku in found.created]
        context.update(_manifest_only(preview, created=created))
        # products the manifest step creates whatever the files: Import ZIP is not held then
        context["manifest_created"] = len(created)
    return render(request, "catalog/_import_preview.html", context)


#: Sizes or hashes per "already stored?" request: upload.js asks in batches of this many
#: (both together stay within Django's DATA_UPLOAD_MAX_NUMBER_FIELDS, 1,000).
MAX_KNOWN_VALUES = 500


@capability_required(roles.UPLOAD)
@require_POST
def upload_known(request: HttpRequest) -> HttpResponse:
    """Which of the files the upload page holds look stored already, before any is sent:
    ``size`` values answer the byte counts some live image has (``sizes``: the page hashes
    only files of those sizes), ``sha256`` values the live images with those bytes
    (``known``: sha256 -> [{"sku", "position", "asset"}]; unknown hashes are left out).
    A read (POST for the length of its list, and so behind the CSRF check); at most
    ``MAX_KNOWN_VALUES`` of each, a longer list or a malformed value is refused (400)."""
    sizes = request.POST.getlist("size")
    hashes = request.POST.getlist("sha256")
    if len(sizes) > MAX_KNOWN_VALUES or len(hashes) > MAX_KNOWN_VALUES:
        return JsonResponse({"error": f"At most {MAX_KNOWN_VALUES:,} sizes and "
                                      f"{MAX_KNOWN_VALUES:,} hashes per request."}, status=400)
    if not all(v.isascii() and v.isdigit() and len(v) <= 15 for v in sizes) or not all(
            _is_sha256(v) for v in hashes):
        return JsonResponse({"error": "A size is a byte count, a hash 64 hex digits."},
                            status=400)
    return JsonResponse({
        "sizes": sorted(selectors.asset_sizes_stored(sizes=[int(v) for v in sizes])),
        "known": selectors.assets_by_sha256(hashes=hashes),
    })


def _preview_names(request: HttpRequest, field: str) -> list[str] | None:
    """The names the preview was sent under ``field``: one JSON list in ``<field>_json``, as
    upload.js sends them, else the field repeated (forms, tests). One field because a
    season's ZIP lists thousands of files, and repeated fields stop at Django's 1,000-field
    cap (DATA_UPLOAD_MAX_NUMBER_FIELDS: the preview of 1,500 names failed, 400). None when
    the JSON is not a list of strings."""
    raw = request.POST.get(f"{field}_json")
    if raw is None:
        return request.POST.getlist(field)
    value = _json_field(raw, list)
    if value is None or not all(isinstance(n, str) for n in value):
        return None
    return value


def _preview_packed(request: HttpRequest) -> list[tuple[str, int, int]]:
    """(name, uncompressed, compressed) of a ZIP's entries as the page read them from its
    central directory (``packed_json``: name -> [uncompressed, compressed]), for the import's
    zip-bomb rule. A malformed entry is left out: the import decides."""
    value = _json_field(request.POST.get("packed_json") or "{}", dict)
    if value is None:
        return []
    return [(name[:MAX_PATH_CHARS], sizes[0], sizes[1]) for name, sizes in value.items()
            if isinstance(sizes, list) and len(sizes) == 2
            and all(type(v) is int and 0 <= v < 2**64 for v in sizes)]


def _preview_sizes(request: HttpRequest) -> dict[str, tuple[int, int]]:
    """name -> (width, height) the page read from the files' headers (``sizes_json``, sent
    by static/js/upload_dims.js for the files it could read): the preview applies the
    ingest's size rule to them. A malformed entry is left out: the import decides on arrival."""
    value = _json_field(request.POST.get("sizes_json") or "{}", dict)
    if value is None:
        return {}
    sizes: dict[str, tuple[int, int]] = {}
    for name, size in list(value.items())[:MAX_PREVIEW_NAMES]:
        if (isinstance(size, list) and len(size) == 2
                and all(type(v) is int and 0 < v < 1_000_000 for v in size)):
            sizes[name[:MAX_PATH_CHARS]] = (size[0], size[1])
    return sizes


def _product_target_preview(request: HttpRequest, *, sku: str, names: list[str]
                            ) -> HttpResponse:
    context: dict = {"sku": sku, "total": len(names)}
    try:
        context["product"] = selectors.product_get_typed(sku=sku)
    except Product.DoesNotExist as exc:
        context["error"] = str(exc)
    return render(request, "catalog/_product_target_preview.html", context)


def _manifest_only(preview: selectors.ImportPreview, *, created: list[tuple[str, int]]
                   ) -> dict:
    """The products the manifest step will create, (SKU, line), that no file of the preview
    maps to (a row whose file is missing, a row without a file): the import creates them
    all the same, so the preview counts and lists them (QA31 L5: it said "2 new" where the
    import said "3 products created")."""
    mapped = {fold_sku(group.sku) for group in preview.groups}
    only = [(sku, line) for sku, line in created if fold_sku(sku) not in mapped]
    return {"manifest_only": only,
            "products_total": len(preview.groups) + len(only),
            "new_total": preview.new_products + len(only)}


#: Files the preview lists before "Show all" hides the rest.
PREVIEW_LIST_SHOWN = 50


def _preview_positions(preview: selectors.ImportPreview, *, replace: bool,
                       manifest: Manifest | None = None, session: bool = False) -> dict:
    """The preview's files with what the import would say about their explicit positions:
    refused (taken, naming the holder) or replacing older images (the "Replace" box)."""
    # the import's order: the files the manifest positions first (import_runner)
    def first(file: tuple) -> bool:
        return not (manifest is not None and manifest.positions(file[0]))

    checked = selectors.import_preview_positions(
        files=[(group.sku, name, position) for group in preview.groups
               for name, position, _rule in sorted(group.files, key=first)],
        replace=replace, manifest=manifest, session=session)
    # each older image a file replaces, with what its replacement costs (an approved cutout)
    replaces = {name: [(old, asset_services.approved_cutout_lost_note(old)) for old in olds]
                for name, olds in checked.replaces.items()}
    groups = [(group, [(name, position, rule, checked.refused.get(name, ""),
                        replaces.get(name, ()), checked.auto.get(name, ""))
                       for name, position, rule in group.files])
              for group in preview.groups]
    refused = [(name, why) for group in preview.groups for name, _p, _r in group.files
               if (why := checked.refused.get(name))]
    # name -> SKU of every mapped file: upload.js says which "already stored" file the
    # import would skip as a duplicate (the same bytes on the product it maps to)
    targets = {name: group.sku for group in preview.groups for name, _p, _r in group.files}
    # the files a manifest row places: the import keeps them over an unlisted identical copy
    # (import_mapping.import_order_key), so upload.js marks the copy, not the row's file
    placed = sorted(name for name in targets if not first((name,)))
    return {"groups": groups, "refused": refused,
            "manifest_placed": placed,
            "approved_lost": sum(1 for olds in replaces.values() for _old, lost in olds
                                 if lost),
            "targets": targets,
            "list_shown": PREVIEW_LIST_SHOWN,
            "list_shown_slice": f":{PREVIEW_LIST_SHOWN}",
            "taken_label": import_mapping.PREVIEW_TAKEN_LABEL,
            # the two kinds of naming.lookalike_warning, counted apart: a product named
            # "front" is not "like an existing SKU"
            "lookalikes": sum(1 for group in preview.groups
                              if group.warning and not view_word_sku(group.sku)),
            "view_words": sum(1 for group in preview.groups
                              if group.warning and view_word_sku(group.sku))}


"""Catalog pages: product list and detail, thumbnails, browser uploads and import jobs.

Uploads from the browser arrive one file per request (static/js/upload.js), so each answer
is small JSON about one file and nothing is buffered as a whole batch. A plain form POST
(no JavaScript) still works: it redirects to the page that shows the outcome.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import roles, selectors, services
from .ingest.naming import DEFAULT_PATTERNS
from .models import AssetStatus, ImageAsset, ImportIssue, ImportJob, Position, Product
from .permissions import capability_required, require

# Thumbnails are generated once per size and kept: only these sizes, so a crafted URL cannot
# fill storage with one file per integer.
THUMB_SIZES = (160, 320, 640)
# The asset behind a URL never changes its bytes (content-addressed), so browsers may keep it.
THUMB_CACHE = "private, max-age=604800, immutable"
MAX_PATH_CHARS = 500


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _product_or_404(pk: int) -> Product:
    try:
        return selectors.product_get(pk=pk)
    except Product.DoesNotExist:
        raise Http404("No such product.")


def _filters(request: HttpRequest) -> dict[str, str]:
    status = request.GET.get("status", "")
    return {
        "search": request.GET.get("q", "").strip()[:100],
        "brand": request.GET.get("brand", "")[:120],
        "category": request.GET.get("category", "")[:120],
        "status": status if status in AssetStatus.values else "",
    }


# --- Products ---------------------------------------------------------------------------------


@capability_required(roles.VIEW)
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
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
    }
    if request.htmx and request.htmx.target == "product-results":
        return render(request, "catalog/_product_results.html", context)
    counts = selectors.asset_status_counts()
    context.update(
        facets=selectors.product_facets(),
        status_counts=[(value, label, counts[value]) for value, label in AssetStatus.choices],
    )
    return render(request, "catalog/product_list.html", context)


def _asset_context(product: Product) -> dict:
    assets = selectors.product_detail_assets(product=product)
    return {
        "product": product,
        "assets": assets,
        "warn_long_side": settings.CUTROOM_WARN_LONG_SIDE,
    }


@capability_required(roles.VIEW)
@require_GET
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = _product_or_404(pk)
    context = _asset_context(product)
    if request.htmx:
        # upload.js asks for the grid again once a batch of files is in.
        return render(request, "catalog/_asset_grid.html", context)
    context["positions"] = Position.choices
    return render(request, "catalog/product_detail.html", context)


@capability_required(roles.DELETE)
@require_POST
def product_delete(request: HttpRequest, pk: int) -> HttpResponse:
    product = services.product_soft_delete(product=_product_or_404(pk))
    messages.success(request, f"Product {product.sku} deleted; its files are kept until purge.")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("catalog:product_list")
        return response
    return redirect("catalog:product_list")


def _result_json(result: services.IngestResult, product: Product | None = None) -> dict:
    asset = result.asset
    return {
        "filename": result.filename,
        "status": result.status,
        "reason": result.reason,
        "code": result.code,
        "warnings": list(result.warnings),
        "asset": asset.pk if asset else None,
        "product": asset.product.sku if asset else (product.sku if product else None),
        "position": asset.position if asset else None,
    }


def _json_status(results: list[dict]) -> int:
    if any(r["status"] == services.IngestResult.STORED for r in results):
        return 201
    if all(r["status"] == services.IngestResult.REJECTED for r in results):
        return 422
    return 200


def _upload_answer(request: HttpRequest, results: list[dict], back: str) -> HttpResponse:
    if _wants_json(request):
        if len(results) == 1:
            return JsonResponse(results[0], status=_json_status(results))
        return JsonResponse({"results": results}, status=_json_status(results))
    stored = sum(r["status"] == services.IngestResult.STORED for r in results)
    messages.success(request, f"{stored} of {len(results)} files stored.")
    for r in results:
        if r["status"] != services.IngestResult.STORED:
            messages.warning(request, f"{r['filename']}: {r['reason']}")
    return redirect(back)


def _no_file(request: HttpRequest, back: str) -> HttpResponse:
    reason = "No file was sent."
    if _wants_json(request):
        return JsonResponse({"status": "rejected", "reason": reason, "code": "no_file"},
                            status=400)
    messages.error(request, reason)
    return redirect(back)


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
    results = []
    for upload in files:
        with upload:
            result = services.asset_ingest(
                product=product, fileobj=upload, filename=upload.name, user=request.user,
                position=position,
            )
        results.append(_result_json(result, product))
    return _upload_answer(request, results, back)


@capability_required(roles.DELETE)
@require_POST
def asset_delete(request: HttpRequest, pk: int, asset_pk: int) -> HttpResponse:
    product = _product_or_404(pk)
    try:
        asset = selectors.asset_get_for_product(product_pk=product.pk, pk=asset_pk)
    except ImageAsset.DoesNotExist:
        raise Http404("No such image.")
    services.asset_soft_delete(asset=asset)
    if request.htmx:
        return render(request, "catalog/_asset_grid.html", _asset_context(product))
    messages.success(request, f"Image {asset.position} of {product.sku} deleted.")
    return redirect("catalog:product_detail", pk=product.pk)


@capability_required(roles.VIEW)
@require_GET
def asset_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    """A cached WebP thumbnail; storage names never reach the browser."""
    try:
        asset = selectors.asset_get(pk=pk)
    except ImageAsset.DoesNotExist:
        raise Http404("No such image.")
    raw = request.GET.get("size", "")
    size = int(raw) if raw.isdigit() and int(raw) in THUMB_SIZES else services.THUMB_DEFAULT
    etag = f'"{asset.sha256[:32]}-{size}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
        response["ETag"], response["Cache-Control"] = etag, THUMB_CACHE
        return response
    try:
        name = services.asset_thumbnail(asset=asset, size=size)
    except (FileNotFoundError, OSError):
        raise Http404("The image file is missing from storage.")
    signed = selectors.thumbnail_signed_url(name=name)
    if signed:
        response = redirect(signed)
        # The signed URL expires; the redirect must not outlive it.
        response["Cache-Control"] = "private, max-age=60"
        return response
    response = FileResponse(selectors.thumbnail_open(name=name), content_type="image/webp")
    response["ETag"], response["Cache-Control"] = etag, THUMB_CACHE
    return response


# --- Bulk upload and imports -------------------------------------------------------------------


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


def _upload_page_context() -> dict:
    return {
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
            product = selectors.product_get(sku=sku)
        except Product.DoesNotExist:
            return _error(request, f"No product with SKU {sku}.", back)
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
    try:
        job = services.import_job_create(
            user=request.user, source_kind=ImportJob.Source.UPLOAD,
            expected_files=int(expected) if expected.isdigit() else len(files), **options,
        )
    except ValueError as exc:
        return _error(request, str(exc), back)
    if _wants_json(request):
        return JsonResponse(_job_urls(job), status=201)
    # Without JavaScript the files came in this one request; map them the same way.
    for upload in files:
        with upload:
            services.import_job_upload_file(job_id=job.pk, fileobj=upload, filename=upload.name,
                                            user=request.user)
    services.import_job_finish(job_id=job.pk)
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
        with upload:
            result = services.import_job_upload_file(job_id=pk, fileobj=upload, filename=name,
                                                     user=request.user)
    except ImportJob.DoesNotExist:
        raise Http404("No such browser upload.")
    return _upload_answer(request, [_result_json(result)], back)


@capability_required(roles.UPLOAD)
@require_POST
def import_finish(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        job = services.import_job_finish(job_id=pk)
    except ImportJob.DoesNotExist:
        raise Http404("No such import.")
    if _wants_json(request):
        return JsonResponse({**selectors.import_job_progress(pk=job.pk),
                             "job_url": reverse("catalog:import_detail", args=[job.pk])})
    return redirect("catalog:import_detail", pk=job.pk)


@capability_required(roles.UPLOAD)
@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    services.import_job_cancel(job_id=pk)
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
            job = services.import_job_create(
                user=request.user, source_kind=ImportJob.Source.ZIP, source_file=archive,
                **_import_options(request),
            )
    except (ValueError, ValidationError) as exc:
        return _error(request, str(exc), back)
    if _wants_json(request):
        return JsonResponse(_job_urls(job), status=201)
    return redirect("catalog:import_detail", pk=job.pk)


def _import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "catalog/_import_progress.html", _import_context(pk))


def _import_context(pk: int) -> dict:
    try:
        job = selectors.import_job_get(pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404("No such import.")
    issues = list(selectors.import_job_issues(job=job).order_by("level", "id")[:500])
    return {
        "job": job,
        "progress": selectors.import_job_progress(pk=job.pk),
        "issues": issues,
        "errors_shown": sum(i.level == ImportIssue.Level.ERROR for i in issues),
        "issues_more": max(0, job.error_count + job.warning_count - len(issues)),
        "products": selectors.import_job_products(job=job) if job.is_finished else [],
    }


@capability_required(roles.VIEW)
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if request.htmx:
        return _import_progress(request, pk)
    return render(request, "catalog/import_detail.html", _import_context(pk))


@capability_required(roles.VIEW)
@require_GET
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        job = selectors.import_job_get(pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404("No such import.")
    response = HttpResponse(selectors.import_job_report_csv(job=job),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
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

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog import roles
from catalog.http import HtmxHttpRequest
from catalog.ids import id_from, ids_from
from catalog.permissions import capability_required

from ..errors import BatchError, BatchFinishedError
from ..imaging.settings import PROFILES
from ..models import CutoutBatch
from ..selectors.jobs import (
    assets_for_cutout,
    cutout_batch_failures,
    cutout_batch_get,
    cutout_batch_list,
    cutout_batch_products,
    cutout_batch_progress,
    cutout_batch_skipped,
    notification_unread,
    notification_unread_count,
)
from ..selectors.review import rerun_models
from ..services.batches import (
    batch_label,
    batch_overrides,
    batch_skip_note,
    cutout_batch_cancel,
    cutout_batch_restart_cancelled,
    cutout_batch_retry_failed,
    cutout_batch_start,
)
from ..services.notifications import notification_mark_read


def _safe_next(request: HttpRequest, *, fallback: str) -> str:
    """The form's "next" when it stays on this site (no open redirect, no javascript:)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def batch_started_message(batch: CutoutBatch, detail: str = "") -> str:
    """What a start tells the person who asked: how many were queued (``detail``: with what)
    and how many left out."""
    text = f"Started {batch.total} cutout{'s' if batch.total != 1 else ''}"
    if detail:
        text += f" ({detail})"
    note = batch_skip_note(batch=batch)
    if not note:
        return f"{text}."
    # only a plain start's skips can be re-cut; a "cut again" start skipped running ones
    hint = ' (tick "Cut again" to re-cut them)' if cutout_batch_skipped(batch=batch) else ""
    return f"{text}; {note}{hint}."


def _cutouts(count: int, kind: str) -> str:
    return f"{count} {kind} cutout{'s' if count != 1 else ''}"


def _batch_or_404(batch_id: int) -> CutoutBatch:
    batch = cutout_batch_get(pk=batch_id)
    if batch is None:
        raise Http404("No such batch.")
    return batch


def _batch_context(batch: CutoutBatch) -> dict:
    return {
        "progress": cutout_batch_progress(batch=batch),
        "failures": cutout_batch_failures(batch=batch),
    }


def _after_batch_action(request: HtmxHttpRequest, batch: CutoutBatch, message: str) -> HttpResponse:
    if request.htmx:
        batch.refresh_from_db()
        return render(request, "cutouts/_batch_progress.html",
                      {"batch": batch, **_batch_context(batch)})
    messages.success(request, message)
    return redirect("cutouts:batch_detail", batch_id=batch.pk)


@capability_required(roles.VIEW)
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = cutout_batch_list()
    return render(request, "cutouts/batch_list.html", {
        "rows": [cutout_batch_progress(batch=b) for b in batches],
        "profiles": list(PROFILES),
    })


@capability_required(roles.VIEW)
@require_GET
def batch_detail(request: HtmxHttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch_or_404(batch_id)
    if request.htmx:
        return render(request, "cutouts/_batch_progress.html",
                      {"batch": batch, **_batch_context(batch)})
    products, product_count = cutout_batch_products(batch=batch)
    return render(request, "cutouts/batch_detail.html", {
        "batch": batch, **_batch_context(batch), "products": products,
        "product_count": product_count, "more": product_count - len(products)})


@capability_required(roles.RUN_CUTOUTS)
@require_http_methods(["GET", "POST"])
def batch_start(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        # A reloaded form address (after a refused start, say) used to be a bare 405: the
        # batches are on the list page.
        return redirect("cutouts:batch_list")

    product_id = id_from(request.POST.get("product"))
    import_job_id = id_from(request.POST.get("import_job"))
    assets = assets_for_cutout(
        asset_ids=ids_from(request.POST.getlist("asset")),
        product_id=product_id, import_job_id=import_job_id,
        all_pending=request.POST.get("all_pending") == "1",
    )
    profile_name = request.POST.get("profile", "default")
    model = request.POST.get("model") or None
    if model is not None and model not in rerun_models():
        messages.error(request, f"Model {model!r} is not installed here.")
        return redirect(_safe_next(request, fallback=reverse("cutouts:batch_list")))
    try:
        batch = cutout_batch_start(
            assets=assets, user=request.user, profile_name=profile_name, model=model,
            overrides=batch_overrides(shadow=request.POST.get("shadow", "")[:20]),
            label=batch_label(label=request.POST.get("label", "")[:200],
                              product_id=product_id, import_job_id=import_job_id,
                              all_pending=request.POST.get("all_pending") == "1"),
            recut=request.POST.get("recut") == "1",
        )
    except BatchError as exc:
        messages.error(request, f"Could not start cutouts: {exc}")
        return redirect(_safe_next(request, fallback=reverse("cutouts:batch_list")))
    return after_batch_start(request, batch)


def after_batch_start(request: HttpRequest, batch: CutoutBatch, detail: str = "") -> HttpResponse:
    """Where a start goes: back to a product page that asked to stay (``stay=1``: it shows
    each image's cutout as it runs; the batch's own page is one click away under Batches),
    else to the batch's page."""
    if request.POST.get("stay") == "1":
        messages.success(request, batch_started_message(batch, detail) + (
            f" Each image's cutout shows below as it runs; batch #{batch.pk} is under Batches."))
        return redirect(_safe_next(request, fallback=reverse(
            "cutouts:batch_detail", args=[batch.pk])))
    messages.success(request, batch_started_message(batch, detail))
    return redirect("cutouts:batch_detail", batch_id=batch.pk)


@capability_required(roles.RUN_CUTOUTS)
@require_POST
def batch_retry_failed(request: HtmxHttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch_or_404(batch_id)
    count = cutout_batch_retry_failed(batch=batch)
    return _after_batch_action(request, batch, f"Re-queued {_cutouts(count, 'failed')}.")


@capability_required(roles.RUN_CUTOUTS)
@require_POST
def batch_restart_cancelled(request: HtmxHttpRequest, batch_id: int) -> HttpResponse:
    """"Restart cancelled": the way back from "Cancel queued" (QA 2026-12-06 U10)."""
    batch = _batch_or_404(batch_id)
    count = cutout_batch_restart_cancelled(batch=batch)
    return _after_batch_action(request, batch, f"Re-queued {_cutouts(count, 'cancelled')}.")


@capability_required(roles.RUN_CUTOUTS)
@require_POST
def batch_cancel(request: HtmxHttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch_or_404(batch_id)
    try:
        count = cutout_batch_cancel(batch=batch)
    except BatchFinishedError as exc:
        # A stale page (the batch ended since it was drawn), or a double click.
        if request.htmx:
            # 200, not 4xx: htmx only swaps successful responses, and the partial shows it.
            batch.refresh_from_db()
            return render(request, "cutouts/_batch_progress.html",
                          {"batch": batch, "error": str(exc), **_batch_context(batch)})
        messages.error(request, str(exc))
        return redirect("cutouts:batch_detail", batch_id=batch.pk)
    return _after_batch_action(request, batch, f"Cancelled {_cutouts(count, 'queued')}.")


@capability_required(roles.VIEW)
def notifications(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST":
        notification_mark_read(user=request.user)
        if not request.htmx:
            return redirect("dashboard")
    return render(request, "cutouts/_notifications.html", {
        "notes": notification_unread(user=request.user),
        "unread": notification_unread_count(user=request.user),
    })

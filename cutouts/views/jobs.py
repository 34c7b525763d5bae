from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from catalog import roles
from catalog.permissions import capability_required

from .. import selectors, services
from ..imaging.settings import PROFILES
from ..models import CutoutBatch


def _safe_next(request: HttpRequest, *, fallback: str) -> str:
    """The form's "next" when it stays on this site (no open redirect, no javascript:)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def _batch_context(batch: CutoutBatch) -> dict:
    return {
        "progress": selectors.cutout_batch_progress(batch=batch),
        "failures": selectors.cutout_batch_failures(batch=batch),
    }


def _after_batch_action(request: HttpRequest, batch: CutoutBatch, message: str) -> HttpResponse:
    if request.htmx:
        batch.refresh_from_db()
        return render(request, "cutouts/_batch_progress.html",
                      {"batch": batch, **_batch_context(batch)})
    messages.success(request, message)
    return redirect("cutouts:batch_detail", batch_id=batch.pk)


@capability_required(roles.VIEW)
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = selectors.cutout_batch_list()
    return render(request, "cutouts/batch_list.html", {
        "rows": [selectors.cutout_batch_progress(batch=b) for b in batches],
        "profiles": list(PROFILES),
    })


@capability_required(roles.VIEW)
@require_GET
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(CutoutBatch, pk=batch_id)
    template = "cutouts/_batch_progress.html" if request.htmx else "cutouts/batch_detail.html"
    return render(request, template, {"batch": batch, **_batch_context(batch)})


@capability_required(roles.RUN_CUTOUTS)
@require_POST
def batch_start(request: HttpRequest) -> HttpResponse:
    def as_int(name):
        value = request.POST.get(name, "")
        return int(value) if value.isdigit() else None

    assets = selectors.assets_for_cutout(
        asset_ids=[int(v) for v in request.POST.getlist("asset") if v.isdigit()],
        product_id=as_int("product"), import_job_id=as_int("import_job"),
        all_pending=request.POST.get("all_pending") == "1",
    )
    profile_name = request.POST.get("profile", "default")
    try:
        batch = services.cutout_batch_start(
            assets=assets, user=request.user, profile_name=profile_name,
            label=request.POST.get("label", "")[:200],
        )
    except ValueError as exc:
        messages.error(request, f"Could not start cutouts: {exc}")
        return redirect(_safe_next(request, fallback=reverse("cutouts:batch_list")))
    messages.success(request, f"Started {batch.total} cutouts.")
    return redirect("cutouts:batch_detail", batch_id=batch.pk)


@capability_required(roles.RUN_CUTOUTS)
@require_POST
def batch_retry_failed(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(CutoutBatch, pk=batch_id)
    count = services.cutout_batch_retry_failed(batch=batch)
    return _after_batch_action(request, batch, f"Re-queued {count} failed cutouts.")


@capability_required(roles.RUN_CUTOUTS)
@require_POST
def batch_cancel(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(CutoutBatch, pk=batch_id)
    count = services.cutout_batch_cancel(batch=batch)
    return _after_batch_action(request, batch, f"Cancelled {count} queued cutouts.")


@capability_required(roles.VIEW)
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.notification_mark_read(user=request.user)
        if not request.htmx:
            return redirect("dashboard")
    return render(request, "cutouts/_notifications.html", {
        "notes": selectors.notification_unread(user=request.user),
        "unread": selectors.notification_unread_count(user=request.user),
    })

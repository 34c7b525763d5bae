import json

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import storages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url

from catalog import roles
from catalog.permissions import capability_required, require

from .. import selectors, services
from ..imaging.settings import SHADOW_MODES
from ..models import Cutout, FlagReason

PER_PAGE = 50


def _filters(request: HttpRequest) -> selectors.QueueFilters:
    return selectors.QueueFilters.from_query(request.GET)


def _card_url(cutout_id: int, filters: selectors.QueueFilters) -> str:
    url = reverse("cutouts:review_card", args=[cutout_id])
    qs = filters.querystring()
    return f"{url}?{qs}" if qs else url


def _queue_url(filters: selectors.QueueFilters) -> str:
    qs = filters.querystring()
    return reverse("cutouts:review_queue") + (f"?{qs}" if qs else "")


def _get_card(cutout_id: int, filters: selectors.QueueFilters) -> selectors.Card:
    try:
        return selectors.review_card(cutout_id=cutout_id, filters=filters)
    except Cutout.DoesNotExist:
        raise Http404("No such cutout")


def _card_context(card: selectors.Card, filters: selectors.QueueFilters, **extra) -> dict:
    n = card.neighbours
    return {
        "card": card,
        "c": card.cutout,
        "filters": filters,
        "qs": filters.querystring(),
        "card_url": _card_url(card.cutout.pk, filters),
        "next_url": _card_url(n.next_id, filters) if n and n.next_id else "",
        "previous_url": _card_url(n.previous_id, filters) if n and n.previous_id else "",
        "queue_url": _queue_url(filters),
        "reasons": list(enumerate(FlagReason.choices, start=1)),
        "preflag_labels": services.PREFLAGS,
        "strengths": list(services.STRENGTHS),
        "shadow_modes": SHADOW_MODES,
        "models": selectors.rerun_models(),
        **extra,
    }


def _render_card(request: HttpRequest, card: selectors.Card, filters, *, status: int = 200,
                 **extra) -> HttpResponse:
    template = "cutouts/review/_card.html" if request.htmx else "cutouts/review/card.html"
    return render(request, template, _card_context(card, filters, **extra), status=status)


def _render_empty(request: HttpRequest, filters) -> HttpResponse:
    template = "cutouts/review/_done.html" if request.htmx else "cutouts/review/done.html"
    response = render(request, template, {"queue_url": _queue_url(filters)})
    return push_url(response, _queue_url(filters)) if request.htmx else response


def _after_decision(request: HttpRequest, cutout: Cutout, filters) -> HttpResponse:
    """Approve and flag move on: the next card in queue order after this one."""
    next_id = selectors.review_neighbours(cutout=cutout, filters=filters).next_id
    if next_id is None:
        if request.htmx:
            return _render_empty(request, filters)
        return redirect(_queue_url(filters))
    if not request.htmx:
        return redirect(_card_url(next_id, filters))
    response = _render_card(request, _get_card(next_id, filters), filters)
    return push_url(response, _card_url(next_id, filters))


@capability_required(roles.VIEW)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    page_number = request.GET.get("page", "1")
    page = selectors.review_queue_page(
        filters=filters, page=int(page_number) if page_number.isdigit() else 1,
        per_page=PER_PAGE)
    context = {
        "page": page, "filters": filters, "qs": filters.querystring(),
        "preflag_labels": services.PREFLAGS,
    }
    if request.htmx:
        return render(request, "cutouts/review/_queue_table.html", context)
    first = page.rows[0].pk if page.rows else None
    context.update(facets=selectors.review_facets(),
                   start_url=_card_url(first, filters) if first else "")
    return render(request, "cutouts/review/queue.html", context)


@capability_required(roles.VIEW)
@require_http_methods(["GET", "POST"])
def grid(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    if request.method == "POST":
        require(request, roles.REVIEW)
        ids = [int(v) for v in request.POST.getlist("cutout") if v.isdigit()]
        count = services.cutouts_bulk_approve(cutout_ids=ids, user=request.user)
        messages.success(request, f"Approved {count} cutout{'s' if count != 1 else ''}.")
        if not request.htmx:
            qs = filters.querystring()
            return redirect(reverse("cutouts:review_grid") + (f"?{qs}" if qs else ""))
    page = selectors.review_queue_page(filters=filters, per_page=60)
    template = "cutouts/review/_grid.html" if request.htmx else "cutouts/review/grid.html"
    return render(request, template, {"page": page, "filters": filters,
                                      "qs": filters.querystring(),
                                      "preflag_labels": services.PREFLAGS})


@capability_required(roles.VIEW)
@require_http_methods(["GET", "POST"])
def card(request: HttpRequest, cutout_id: int) -> HttpResponse:
    """The review card. GET shows it (htmx: the partial, which polls itself while a re-run
    is queued or running); POST applies one action and answers with the card to show next."""
    filters = _filters(request)
    if request.method == "GET":
        return _render_card(request, _get_card(cutout_id, filters), filters)

    require(request, roles.REVIEW)
    cutout = _get_card(cutout_id, filters).cutout
    action = request.POST.get("action", "")
    comment = request.POST.get("comment", "").strip()[:2000]
    try:
        if action == "approve":
            services.cutout_approve(cutout=cutout, user=request.user, comment=comment)
            return _after_decision(request, cutout, filters)
        if action == "flag":
            services.cutout_flag(cutout=cutout, user=request.user,
                                 reasons=request.POST.getlist("reason"), comment=comment)
            return _after_decision(request, cutout, filters)
        if action == "rerun":
            new = services.cutout_review_rerun(
                cutout=cutout, user=request.user, model=request.POST.get("model") or None,
                tta=request.POST.get("tta") == "on", shadow=request.POST.get("shadow", "none"),
                strength=request.POST.get("strength", "normal"), comment=comment)
            return _show(request, new.pk, filters, f"Re-running as version {new.version}…")
        if action == "strokes":
            new = services.cutout_retouch_strokes(
                cutout=cutout, user=request.user, strokes=request.POST.get("strokes", ""),
                comment=comment)
            return _show(request, new.pk, filters,
                         f"Retouching as version {new.version}: the card updates when it is "
                         "ready.")
        if action == "choose":
            services.cutout_choose(cutout=cutout, user=request.user, comment=comment)
            return _show(request, cutout.pk, filters, f"Version {cutout.version} is current.")
        if action in ("preflag_confirm", "preflag_dismiss"):
            services.cutout_preflag_resolve(
                cutout=cutout, user=request.user, preflag=request.POST.get("preflag", ""),
                confirm=action == "preflag_confirm", comment=comment)
            return _show(request, cutout.pk, filters, "")
        raise services.ReviewError(f"Unknown action {action!r}.")
    except services.ReviewError as exc:
        if not request.htmx:
            messages.error(request, str(exc))
            return redirect(_card_url(cutout.pk, filters))
        # 200, not 4xx: htmx only swaps successful responses, and the card shows the error.
        return _render_card(request, _get_card(cutout.pk, filters), filters, error=str(exc))


def _show(request: HttpRequest, cutout_id: int, filters, note: str) -> HttpResponse:
    url = _card_url(cutout_id, filters)
    if not request.htmx:
        if note:
            messages.success(request, note)
        return redirect(url)
    return push_url(_render_card(request, _get_card(cutout_id, filters), filters, note=note),
                    url)


@capability_required(roles.VIEW)
@require_GET
def image(request: HttpRequest, cutout_id: int, kind: str) -> HttpResponse:
    """Private media through a permission check: a cached preview (``size`` 320 or 1024,
    the default) or the full-size file (``size=0``, for the loupe)."""
    size_text = request.GET.get("size", "1024")
    size = int(size_text) if size_text.isdigit() else -1
    if kind not in services.review.IMAGE_KINDS or size not in services.review.IMAGE_SIZES:
        raise Http404("No such image")
    try:
        cutout = selectors.cutout_for_image(cutout_id=cutout_id)
        name, content_type = services.cutout_image(cutout=cutout, kind=kind, size=size)
    except (Cutout.DoesNotExist, FileNotFoundError, services.ReviewError):
        raise Http404("No such image")
    storage = storages["default"]
    if settings.STORAGE_BACKEND == "s3":
        # A short-lived signed URL: the bucket stays private, the web process streams nothing.
        return redirect(storage.url(name))
    response = FileResponse(storage.open(name, "rb"), content_type=content_type)
    # Names are per version and run: the bytes behind this URL never change.
    response["Cache-Control"] = "private, max-age=86400"
    return response


@capability_required(roles.VIEW)
@require_GET
def retouch_queue(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    return render(request, "cutouts/review/retouch_queue.html", {
        "rows": selectors.retouch_queue(filters=filters), "filters": filters,
        "reason_labels": dict(FlagReason.choices),
    })


@capability_required(roles.VIEW)
@require_http_methods(["GET", "POST"])
def retouch(request: HttpRequest, cutout_id: int) -> HttpResponse:
    """Retouch a version: paint keep/remove/detail strokes, or upload a corrected RGBA PNG.
    Either makes a new version queued on the interactive queue; the answer is its card,
    which polls until a worker has computed it."""
    filters = _filters(request)
    card = _get_card(cutout_id, filters)
    if request.method == "POST":
        require(request, roles.REVIEW)
        action = request.POST.get("action", "")
        comment = request.POST.get("comment", "").strip()[:2000]
        try:
            if action == "upload":
                upload = request.FILES.get("png")
                if upload is None:
                    raise services.ReviewError("Choose a PNG file to upload.")
                if upload.size > services.review.RETOUCH_MAX_BYTES:
                    raise services.ReviewError("The file is too large.")
                new = services.cutout_retouch_upload(cutout=card.cutout, user=request.user,
                                                     data=upload.read(), comment=comment)
            elif action == "strokes":
                new = services.cutout_retouch_strokes(
                    cutout=card.cutout, user=request.user,
                    strokes=request.POST.get("strokes", ""), comment=comment)
            else:
                raise services.ReviewError(f"Unknown action {action!r}.")
        except services.ReviewError as exc:
            messages.error(request, str(exc))
            if request.htmx:
                return HttpResponseClientRedirect(request.get_full_path())
            return redirect(request.get_full_path())
        messages.success(request, f"Version {new.version} is queued; this card shows it when "
                                  "it is ready, then it waits for review.")
        url = _card_url(new.pk, filters)
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return render(request, "cutouts/review/retouch.html", _card_context(card, filters))


@capability_required(roles.REVIEW)
@require_POST
def retouch_preview(request: HttpRequest, cutout_id: int) -> HttpResponse:
    """The strokes applied at the card's size, as a PNG (an empty list gives the version
    itself and warms the cache). Body: JSON ``{"strokes": [...]}``; errors: 400 + JSON."""
    try:
        cutout = selectors.cutout_for_image(cutout_id=cutout_id)
    except Cutout.DoesNotExist:
        raise Http404("No such cutout")
    try:
        if len(request.body) > services.review.STROKES_MAX_CHARS:
            raise services.ReviewError("Too many strokes to send at once: apply them, then "
                                       "go on.")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise services.ReviewError("Send the strokes as JSON: {\"strokes\": [...]}.")
        if not isinstance(body, dict):
            raise services.ReviewError("Send the strokes as JSON: {\"strokes\": [...]}.")
        strokes = body.get("strokes", [])
        if not isinstance(strokes, list):
            raise services.ReviewError("The strokes cannot be used: strokes must be a JSON "
                                       "list.")
        preview = services.cutout_retouch_preview(cutout=cutout, strokes=strokes)
    except services.ReviewError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except FileNotFoundError:
        raise Http404("The files of this version are missing")
    response = HttpResponse(preview.png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    response["X-Retouch-Ms"] = str(round(preview.timings["total"] * 1000))
    response["Server-Timing"] = ", ".join(
        f"{k};dur={v * 1000:.1f}" for k, v in preview.timings.items())
    return response


@capability_required(roles.VIEW)
@require_GET
def history(request: HttpRequest, asset_id: int) -> HttpResponse:
    versions = selectors.cutout_versions(asset_id=asset_id)
    if not versions:
        raise Http404("No cutouts of this image")
    decisions = selectors.asset_history(asset_id=asset_id)
    template = "cutouts/review/_history.html" if request.htmx else "cutouts/review/history.html"
    return render(request, template, {"decisions": decisions, "asset_id": asset_id,
                                      "versions": versions})

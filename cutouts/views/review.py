import json
from collections.abc import Collection
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url, replace_url, reselect, reswap, retarget

from catalog import roles, serving
from catalog.http import HtmxHttpRequest
from catalog.ids import id_from, ids_from, page_from
from catalog.ingest.numbers import digits_from
from catalog.permissions import capability_required, require

from ..errors import ReviewError, ReviewInputError, StaleReviewError, TileError
from ..imaging.settings import SHADOW_MODES
from ..models import SUBJECT_REASONS, Cutout, FlagReason
from ..selectors import jobs as job_selectors
from ..selectors import review as review_selectors
from ..services import previews as preview_services
from ..services import retouch as retouch_services
from ..services import review as review_services
from ..services import review_retouch as review_retouch_services
from ..services import tiles
from ..strengths import STRENGTHS
from ..templatetags.review_tags import image_title

PER_PAGE = 50
# Decisions list flag reasons and pre-flags (confirmed or dismissed) by key.
# the key that ticks each flag reason: 1-9, then 0 for the tenth (Other, last)
FLAG_REASON_KEYS = [(str(n % 10), reason) for n, reason in enumerate(FlagReason.choices, 1)]
REASON_LABELS = {**dict(FlagReason.choices), **review_services.PREFLAGS}


def _filters(request: HttpRequest) -> review_selectors.QueueFilters:
    return review_selectors.QueueFilters.from_query(request.GET)


def _card_url(cutout_id: int, filters: review_selectors.QueueFilters) -> str:
    url = reverse("cutouts:review_card", args=[cutout_id])
    qs = filters.querystring()
    return f"{url}?{qs}" if qs else url


def _queue_url(filters: review_selectors.QueueFilters) -> str:
    qs = filters.querystring()
    return reverse("cutouts:review_queue") + (f"?{qs}" if qs else "")


def _get_card(cutout_id: int, filters: review_selectors.QueueFilters) -> review_selectors.Card:
    try:
        return review_selectors.review_card(cutout_id=cutout_id, filters=filters)
    except Cutout.DoesNotExist:
        raise Http404("No such cutout")


def _card_context(card: review_selectors.Card, filters: review_selectors.QueueFilters,
                  **extra) -> dict:
    n = card.neighbours
    models = review_selectors.rerun_models()
    return {
        "card": card,
        "c": card.cutout,
        "filters": filters,
        "qs": filters.querystring(),
        "card_url": _card_url(card.cutout.pk, filters),
        "next_url": _card_url(n.next_id, filters) if n and n.next_id else "",
        "previous_url": _card_url(n.previous_id, filters) if n and n.previous_id else "",
        "queue_url": _queue_url(filters),
        "reasons": FLAG_REASON_KEYS,
        "preflag_labels": review_services.PREFLAGS,
        "strengths": list(STRENGTHS),
        "rerun_strength": review_selectors.rerun_strength(card.cutout.settings),
        "reason_labels": REASON_LABELS,
        "shadow_modes": SHADOW_MODES,
        "profiles": review_selectors.rerun_profiles(),
        "models": models,
        # the panel as it opens would make the same version again (QA40 L3): review.js holds
        # Re-run until a setting changes, and the service refuses it without JavaScript
        "rerun_same": review_services.rerun_changes_nothing(
            cutout=card.cutout, model=card.cutout.model_name),
        # what the wrong-subject hint offers (_subject_hint.html)
        "other_models": [m for m in models if m != card.cutout.model_name],
        "subject_flagged": not SUBJECT_REASONS.isdisjoint(card.cutout.flag_reasons),
        "flag_open": False, "flag_reasons": [], "flag_comment": "", "other_wants_comment": False,
        # a callable: the template asks for it (one preset query) only on a finished card
        "market_key": preview_services.market_key,
        **extra,
    }


def _partial(request: HtmxHttpRequest) -> bool:
    """An htmx swap of part of the page; Back/Forward (a history restore) wants the page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _render_card(request: HtmxHttpRequest, card: review_selectors.Card, filters, *,
                 status: int = 200, **extra) -> HttpResponse:
    partial = _partial(request)
    template = "cutouts/review/_card.html" if partial else "cutouts/review/card.html"
    # partial: the card sends its own <title>, which htmx makes the tab's
    return render(request, template, _card_context(card, filters, partial=partial, **extra),
                  status=status)


def _is_note_poll(request: HtmxHttpRequest, note: str) -> bool:
    """The pending note's own poll: htmx names the element it swaps, the note itself."""
    return _partial(request) and request.htmx.target == note


def _pending_note(request: HtmxHttpRequest, cutout_id: int, *, note: str, template: str,
                  strokes: bool = False, **context) -> HttpResponse | None:
    """A queued or running version's pending note polls the card's (or retouch page's) own
    URL every second and swaps only itself (``hx-select``), so focus, an open panel and the
    rest of the page stay put while it runs. Its poll is answered with the note alone
    (``template``, which the page includes), read in one query: rendering the whole card
    for every poll of every open card cost the card's queries and markup only to be
    thrown away. None when this is not that poll or the version is finished: the caller
    renders the page, and ``_pending_poll`` swaps it whole."""
    if not _is_note_poll(request, note):
        return None
    try:
        cutout = review_selectors.pending_note_cutout(cutout_id=cutout_id, strokes=strokes)
    except Cutout.DoesNotExist:
        raise Http404("No such cutout")
    if not review_selectors.version_is_active(cutout):
        return None
    # Without the request: the note shows nothing the context processors add (the roles
    # one costs a query on every poll).
    # state: the version's badge in the card's Versions list, swapped with the note (an
    # active version's state is its job status, whatever the image's current version is)
    state = review_selectors.version_state(cutout, current_id=None)
    response = HttpResponse(render_to_string(template, {"c": cutout, "state": state, **context}))
    # The same URL answers a page, the card and this note: a cache must not mix them up.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _pending_poll(request: HtmxHttpRequest, response: HttpResponse, *, note: str, whole: str,
                  active: bool) -> HttpResponse:
    """The note's poll that finds the version finished (done, failed, cancelled) swaps
    ``whole`` instead, once, as a card swap always did: the note is gone from it."""
    if active or not _is_note_poll(request, note):
        return response
    return reselect(reswap(retarget(response, whole), "outerHTML"), whole)


def _render_empty(request: HtmxHttpRequest, filters, note: str = "",
                  undo: dict | None = None) -> HttpResponse:
    template = "cutouts/review/_done.html" if request.htmx else "cutouts/review/done.html"
    response = render(request, template, {"queue_url": _queue_url(filters), "note": note,
                                          "undo": undo, "partial": bool(request.htmx)})
    return push_url(response, _queue_url(filters)) if request.htmx else response


def _decided_note(cutout: Cutout, verb: str) -> str:
    """What the next card says of the decision just made (it replaces the decided card, so
    without it an approval looked like nothing happened)."""
    return f"{verb} {image_title(cutout.asset)} v{cutout.version}."


#: What the Detail brush is painted over for each edge reason (``_fix_advice``): it solves
#: the painted band as a soft matte with the product's colours re-estimated (no fringe).
_DETAIL_OVER = {FlagReason.HALO: "the white fringe", FlagReason.EDGES_HARD: "the edge",
                FlagReason.EDGES_SOFT: "the edge",
                FlagReason.LOST_DETAIL: "the fine parts (hair, mesh)",
                FlagReason.TRANSPARENCY: "the see-through parts"}


def _fix_advice(reasons: Collection[str], shadow: str = "none") -> str:
    """The touches that fix what ``reasons`` say, in one line, each reason's own combined
    (QA40 L2: "halo" and "part missing" were told the route of "another object kept"): a
    missing part is clicked with Keep; a wrong subject or another object kept also has the
    other object clicked with Remove; edge reasons have their parts painted with Detail; a
    removed shadow needs a re-run (Retouch cannot bring one back) with Shadow keep, or, for a
    version that ran with ``shadow`` keep, synthetic. "" for none ("other")."""
    steps = []
    other_object = not {FlagReason.WRONG_SUBJECT, FlagReason.EXTRA_KEPT}.isdisjoint(reasons)
    if FlagReason.PART_MISSING in reasons:
        steps.append("click the missing part with Keep" + (
            ", then the other object with Remove, well inside it" if other_object
            else " (it brings back the object it lands on)"))
    elif other_object:
        steps.append("click the product with Keep, then the other object with Remove, "
                     "well inside it")
    over = list(dict.fromkeys(_DETAIL_OVER[r] for r in FlagReason
                              if r in _DETAIL_OVER and r in reasons))
    if over:
        parts = over[0] if len(over) == 1 else f"{', '.join(over[:-1])} and {over[-1]}"
        steps.append(f"paint {parts} with Detail")
    touches = "; then ".join(steps)
    if FlagReason.SHADOW_REMOVED in reasons:
        # a version that already kept the photo's shadow would only be held ("Nothing differs
        # from v2") by a re-run with Shadow keep: the shadow it has none of is drawn instead
        # (QA 2026-12-06, qa41a)
        other = "synthetic" if shadow == "keep" else "keep"
        ran = f" (this version ran with Shadow {shadow})" if shadow != "none" else ""
        rerun = (f"To fix it{ran}: Re-run it from its card with Shadow {other} (Retouch cannot "
                 "bring a shadow back)")
        return f"{rerun}, then in the new version's Retouch: {touches}." if steps else f"{rerun}."
    return f"To fix it in Retouch: {touches}; or Re-run it from its card." if steps else ""


def _cutout_fix_advice(cutout: Cutout) -> str:
    """``_fix_advice`` for ``cutout``'s flag reasons and the Shadow it ran with."""
    return _fix_advice(cutout.flag_reasons, (cutout.settings or {}).get("shadow") or "none")


def _flagged_note(cutout: Cutout) -> str:
    """Said after a flag: the touches that fix what it says (``_fix_advice``), since the next
    card replaces the flagged one and its hint (QA 2026-12-05: the route was only seen on
    opening the flagged card again)."""
    note = _decided_note(cutout, "Flagged for retouch:")
    advice = _cutout_fix_advice(cutout)
    return f"{note} {advice}" if advice else note


def _shadow_advice(cutout: Cutout) -> str:
    """What the retouch page says of a version flagged "Shadow wrongly removed": the flag's
    advice (``_fix_advice``, the words said after the flag), since no stroke brings a shadow
    back and the page otherwise invites strokes (QA41 L5); "" for a version not so flagged."""
    if FlagReason.SHADOW_REMOVED not in cutout.flag_reasons:
        return ""
    return _cutout_fix_advice(cutout)


def _approved_note(cutout: Cutout, answered: list[int]) -> str:
    """Said after an approval; when it answered runs still queued or running, that they
    will not come back for review."""
    note = _decided_note(cutout, "Approved")
    if not answered:
        return note
    names = ", ".join(f"v{n}" for n in answered)
    one = len(answered) == 1
    return (f"{note} {names} (not finished yet) will finish superseded, "
            f"so {'it' if one else 'they'} will not come back for review; choose "
            f"{'it' if one else 'one'} from v{cutout.version}'s version list to use it instead.")


def _after_decision(request: HtmxHttpRequest, cutout: Cutout, filters,
                    note: str = "") -> HttpResponse:
    """Approve and flag move on: the next card in queue order after this one, else the first
    one still waiting (a card opened from the end of the queue, or from the retouch page,
    has cards before it); the empty queue only when nothing else waits. ``note`` is said on
    the card shown next (a message without htmx), with an Undo of the decision while it is
    the image's latest (htmx: the swapped card is the page's only memory of it)."""
    next_id = review_selectors.review_neighbours(cutout=cutout, filters=filters).next_id
    if next_id is None:
        next_id = review_selectors.review_queue_first(filters=filters, exclude=cutout.pk)
    if note and not request.htmx:
        messages.success(request, note)
    undo = None
    if request.htmx:
        decision = review_selectors.undoable_decision(cutout=cutout, user=request.user)
        if decision is not None:
            undo = {"url": _card_url(cutout.pk, filters), "decision": decision.pk}
    if next_id is None:
        if request.htmx:
            return _render_empty(request, filters, note=note, undo=undo)
        return redirect(_queue_url(filters))
    if not request.htmx:
        return redirect(_card_url(next_id, filters))
    response = _render_card(request, _get_card(next_id, filters), filters, note=note, undo=undo)
    return push_url(response, _card_url(next_id, filters))


def _undone_note(cutout: Cutout) -> str:
    return (f"Undone: {image_title(cutout.asset)} v{cutout.version} is "
            f"{cutout.get_review_status_display().lower()} again.")


def _page_number(request: HttpRequest) -> int:
    return page_from(request.GET.get("page"))


# no-store (queues, grid, card, retouch page): Back asks again rather than showing a
# list or card as it was before a decision
@never_cache
@capability_required(roles.VIEW)
@require_GET
def queue(request: HtmxHttpRequest) -> HttpResponse:
    filters = _filters(request)
    if _is_note_poll(request, QUEUE_COMING_NOTE):
        return _queue_coming_poll(request, filters)
    page = review_selectors.review_queue_page(
        filters=filters, page=_page_number(request), per_page=PER_PAGE)
    coming = review_selectors.review_queue_coming(filters=filters)
    context = {
        "page": page, "filters": filters, "qs": filters.querystring(),
        "preflag_labels": review_services.PREFLAGS,
        **_queue_coming_context(filters, coming),
        "shown": _queue_shown(page.total, page.total_capped, coming),
    }
    start_url = _queue_start_url(page, filters)
    if _partial(request):
        # A filter change swaps only the table: "Start reviewing" comes with it, out of band
        # from the same read, so it starts at the filtered queue's first row (it kept the
        # unfiltered one until a reload, or led into a queue the filter had emptied)
        html = render_to_string("cutouts/review/_queue_table.html", context, request=request)
        html += render_to_string("cutouts/review/_queue_start.html",
                                 {"start_url": start_url, "oob": True})
        return HttpResponse(html)
    context.update(facets=review_selectors.review_facets(), start_url=start_url)
    return render(request, "cutouts/review/queue.html", context)


def _queue_start_url(page: review_selectors.QueuePage,
                     filters: review_selectors.QueueFilters) -> str:
    """Where "Start reviewing" goes: the page's first (riskiest) row's card, "" with none."""
    return _card_url(page.rows[0].pk, filters) if page.rows else ""


QUEUE_COMING_NOTE = "rv-queue-coming"
#: How often the note asks while cutouts run, and while none does: slowly then, so a batch
#: started after the page was opened still shows its note and, as it finishes, its rows
#: (QA 2026-12-06: only a page opened while something ran said so). Two counts a poll.
QUEUE_POLL_RUNNING = "3s"
QUEUE_POLL_IDLE = "20s"


def _queue_coming_context(filters: review_selectors.QueueFilters, coming: int) -> dict:
    return {"coming": coming, "queue_url": _queue_url(filters),
            "poll_every": QUEUE_POLL_RUNNING if coming else QUEUE_POLL_IDLE}


def _queue_shown(total: int, capped: bool, coming: int) -> str:
    """What the queue's rows were drawn with: the awaiting and running counts. A poll that
    finds them changed (a run finished, a re-run replaced a row, another reviewer decided)
    sends the rows again; else two counts answer it."""
    return f"{total}{'+' if capped else ''}/{coming}"


def _queue_coming_poll(request: HtmxHttpRequest,
                       filters: review_selectors.QueueFilters) -> HttpResponse:
    """The queue's "N more cutouts are still running" note polls the queue's own URL and is
    answered with the note (hidden and polling slowly once none runs) and, out of band, the
    "awaiting review" count the finished ones joined: two counts, not the page. When those
    differ from what the rows were drawn with (``shown``, sent with the rows' ``page`` by
    the note's hx-include), the rows of that page come too, out of band (QA 2026-12-06: the
    count rose as runs finished, the rows changed only on a reload)."""
    count = review_selectors.review_queue_count(filters=filters, cap=review_selectors.COUNT_CAP + 1)
    total, capped = min(count, review_selectors.COUNT_CAP), count > review_selectors.COUNT_CAP
    coming = review_selectors.review_queue_coming(filters=filters)
    shown = _queue_shown(total, capped, coming)
    html = render_to_string("cutouts/review/_queue_coming.html", {
        **_queue_coming_context(filters, coming), "oob_total": total, "oob_capped": capped})
    if request.GET.get("shown") != shown:
        page = review_selectors.review_queue_page(
            filters=filters, page=_page_number(request), per_page=PER_PAGE)
        html += render_to_string("cutouts/review/_queue_rows.html", {
            "page": page, "qs": filters.querystring(), "shown": shown, "oob": True,
            "preflag_labels": review_services.PREFLAGS})
        # "Start reviewing" with them: a queue opened empty drew none until a reload (polish37)
        html += render_to_string("cutouts/review/_queue_start.html", {
            "start_url": _queue_start_url(page, filters), "oob": True})
    response = HttpResponse(html)
    # the same URL answers the page, the table and this note: a cache must not mix them up
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _bulk_older_note(count: int) -> str:
    return (f"{count} older version{'s' if count != 1 else ''} not approved: a newer selected "
            "version of the same image was approved (one approval per image).")


@never_cache
@capability_required(roles.VIEW)
@require_http_methods(["GET", "POST"])
def grid(request: HtmxHttpRequest) -> HttpResponse:
    filters = _filters(request)
    if request.method == "POST":
        require(request, roles.REVIEW)
        ids = ids_from(request.POST.getlist("cutout"))
        try:
            # each tile sends the state it was drawn with next to its checkbox (a page drawn
            # before it did sends none: the tile is checked as awaiting review only)
            seen = {pk: parsed for pk in ids if (parsed := review_selectors.Seen.parse(
                request.POST.get(f"seen-{pk}", ""))) is not None}
        except ReviewInputError:
            seen = None
            messages.error(request, "This grid's state could not be read: reload it.")
        if not ids:
            messages.error(request, "Tick at least one cutout to approve.")
        elif seen is not None:
            done = review_services.cutouts_bulk_approve(cutout_ids=ids, user=request.user,
                                                        seen=seen)
            messages.success(request, f"Approved {done.approved} "
                                      f"cutout{'s' if done.approved != 1 else ''}.")
            for refused in done.refused:
                messages.warning(request, f"{image_title(refused.cutout.asset)}: "
                                          f"{refused.message}")
            if done.older:
                messages.warning(request, _bulk_older_note(done.older))
            if done.not_pending:
                messages.warning(request, f"{done.not_pending} not approved: no longer "
                                          "awaiting review.")
            if done.deleted:
                # said apart: a deletion is not someone's review decision
                messages.warning(request, f"{done.deleted} not approved: "
                                          f"{'its' if done.deleted == 1 else 'their'} image "
                                          "or product was deleted.")
        if not request.htmx:
            qs = filters.querystring()
            return redirect(reverse("cutouts:review_grid") + (f"?{qs}" if qs else ""))
    page = review_selectors.review_queue_page(filters=filters, per_page=60)
    template = "cutouts/review/_grid.html" if request.htmx else "cutouts/review/grid.html"
    return render(request, template, {"page": page, "filters": filters,
                                      "tiles": review_selectors.review_grid_tiles(rows=page.rows),
                                      "qs": filters.querystring(),
                                      "preflag_labels": review_services.PREFLAGS})


@never_cache
@capability_required(roles.VIEW)
@require_http_methods(["GET", "POST"])
def card(request: HtmxHttpRequest, cutout_id: int) -> HttpResponse:
    """The review card. GET shows it (htmx: the partial, whose pending note polls it while a
    re-run is queued or running: ``_pending_poll``); POST applies one action and answers with
    the card to show next."""
    filters = _filters(request)
    if request.method == "GET":
        note = _pending_note(request, cutout_id, note="rv-pending-note",
                             template="cutouts/review/_card_pending_note.html",
                             card_url=_card_url(cutout_id, filters), status_badge=True,
                             qs=filters.querystring())
        if note is not None:
            return note
        card = _get_card(cutout_id, filters)
        return _pending_poll(request, _render_card(request, card, filters),
                             note="rv-pending-note", whole="#review-card",
                             active=card.is_active)

    require(request, roles.REVIEW)
    try:
        cutout = _get_card(cutout_id, filters).cutout
    except Http404:
        if not request.htmx:
            raise
        return _gone(request, cutout_id, filters)
    action = request.POST.get("action", "")
    comment = request.POST.get("comment", "").strip()[:2000]
    try:
        # The state the card showed: a decision on a card someone decided since it was drawn
        # is refused (services.review.review_state_check). A form without it (a client older
        # than the field) is applied as before.
        seen = review_selectors.Seen.parse(request.POST.get("seen", ""))
        if action == "approve":
            _, answered = review_services.cutout_approve_answering(
                cutout=cutout, user=request.user, comment=comment, seen=seen)
            return _after_decision(request, cutout, filters,
                                   note=_approved_note(cutout, answered))
        if action == "flag":
            flagged = review_services.cutout_flag(
                cutout=cutout, user=request.user, reasons=request.POST.getlist("reason"),
                comment=comment, seen=seen)
            return _after_decision(request, cutout, filters, note=_flagged_note(flagged))
        if action == "undo":
            decision = request.POST.get("decision", "")
            undone = review_services.cutout_decision_undo(
                cutout=cutout, user=request.user,
                decision_id=id_from(decision) or 0)
            return _show(request, undone.pk, filters, _undone_note(undone))
        if action == "rerun":
            new = review_services.cutout_review_rerun(
                cutout=cutout, user=request.user, model=request.POST.get("model") or None,
                tta=request.POST.get("tta") == "on", shadow=request.POST.get("shadow", "none"),
                strength=request.POST.get("strength", "normal"),
                profile=request.POST.get("profile") or None, comment=comment, seen=seen,
                unchanged_refused=True)
            return _show(request, new.pk, filters, f"Re-running as version {new.version}…",
                         replace=True)
        if action == "strokes":
            new = review_retouch_services.cutout_review_strokes(
                cutout=cutout, user=request.user, strokes=request.POST.get("strokes", ""),
                comment=comment, seen=seen)
            return _show(request, new.pk, filters,
                         f"Retouching as version {new.version}: the card updates when it is "
                         "ready.", replace=True)
        if action == "choose":
            review_services.cutout_choose(cutout=cutout, user=request.user, comment=comment,
                                          seen=seen)
            return _show(request, cutout.pk, filters, f"Version {cutout.version} is current.",
                         replace=True)
        if action in ("preflag_confirm", "preflag_dismiss"):
            review_services.cutout_preflag_resolve(
                cutout=cutout, user=request.user, preflag=request.POST.get("preflag", ""),
                confirm=action == "preflag_confirm", comment=comment, seen=seen)
            return _show(request, cutout.pk, filters, "")
        raise ReviewError(f"Unknown action {action!r}.")
    except ReviewError as exc:
        # A refused flag comes back open with what was ticked, so only the fix is left to do.
        # The ticks only decide which boxes show checked; the comment is escaped as any text.
        # One refused for the card's state (decided since) does not: the card shows where the
        # version stands now.
        # The comment takes the focus only when "Other" waits for it: refused for anything
        # else, the reasons do, so the reason keys tick boxes (QA 2026-12-06).
        reasons = request.POST.getlist("reason")
        flag: dict[str, Any] = ({"flag_open": True, "flag_reasons": reasons,
                                  "flag_comment": comment,
                                  "other_wants_comment": "other" in reasons
                                  and not comment.strip()}
                                if action == "flag" and not isinstance(exc, StaleReviewError)
                                else {})
        if request.htmx:
            # 200, not 4xx: htmx only swaps successful responses, and the card shows the error
            # over the version as it is now (the address too: a Choose or an Undo posts to
            # another card than the one on screen).
            return push_url(_render_card(request, _get_card(cutout.pk, filters), filters,
                                         error=str(exc), **flag),
                            _card_url(cutout.pk, filters))
        if flag and isinstance(exc, ReviewInputError):
            # Without JavaScript too: a redirect would drop the ticks and the comment, so the
            # page comes again with the form as sent and 422, as Django answers invalid forms.
            return _render_card(request, _get_card(cutout.pk, filters), filters, status=422,
                                error=str(exc), **flag)
        messages.error(request, str(exc))
        return redirect(_card_url(cutout.pk, filters))


def _gone(request: HtmxHttpRequest, cutout_id: int, filters) -> HttpResponse:
    """An action on a card whose image (or product) was deleted since it was drawn: htmx
    swaps no 404, so the key or button did nothing and said nothing (QA 2026-12-06: a
    manager deleted the image, the reviewer's A was lost without a word). The next waiting
    card says so; without htmx the 404 stays."""
    error = ("This image was deleted since its card was shown (a catalog manager can restore "
             "it from its product page); nothing was recorded for it.")
    next_id = review_selectors.review_queue_first(filters=filters, exclude=cutout_id)
    if next_id is None:
        return _render_empty(request, filters, note=error)
    response = _render_card(request, _get_card(next_id, filters), filters, error=error)
    return push_url(response, _card_url(next_id, filters))


def _show(request: HtmxHttpRequest, cutout_id: int, filters, note: str, *,
          replace: bool = False) -> HttpResponse:
    """The card of ``cutout_id`` after an action, at its own address. ``replace``: the action
    put another version of the image in the place of the card on screen (a retouch, a
    re-run, a choice), so its address replaces the old card's rather than adding a step:
    Reload and Back never bring the replaced version's card back with its Approve (QA
    2026-12-04: Back showed v1 after a retouch, and A approved it over v2)."""
    url = _card_url(cutout_id, filters)
    if not request.htmx:
        if note:
            messages.success(request, note)
        return redirect(url)
    response = _render_card(request, _get_card(cutout_id, filters), filters, note=note)
    return replace_url(response, url) if replace else push_url(response, url)


@capability_required(roles.VIEW)
@require_GET
def image(request: HttpRequest, cutout_id: int, kind: str) -> HttpResponseBase:
    """Private media through a permission check: a cached preview (``size`` 320 or 1024,
    the default) or the full-size file (``size=0``, for the loupe)."""
    size_text = request.GET.get("size", "1024")
    size = digits_from(size_text)
    size = -1 if size is None else size
    if kind not in preview_services.IMAGE_KINDS or size not in preview_services.IMAGE_SIZES:
        raise Http404("No such image")
    try:
        cutout = review_selectors.cutout_for_image(cutout_id=cutout_id)
        name, content_type = preview_services.cutout_image(cutout=cutout, kind=kind, size=size)
    except (Cutout.DoesNotExist, FileNotFoundError, ReviewError):
        raise Http404("No such image")
    return serving.private_file(name=name, content_type=content_type, cache=serving.VERSIONED)


def _tile_number(request: HttpRequest, key: str, default: int) -> int:
    value = digits_from(request.GET.get(key, "")[:6])
    return default if value is None else value


@capability_required(roles.VIEW)
@require_GET
def tile(request: HttpRequest, cutout_id: int, kind: str) -> HttpResponse:
    """The loupe's tile: ``x``, ``y``, ``w``, ``h`` in full-size pixels of the working photo or
    the cutout, clamped into the image and to 512 px a side (X-Tile-Box says what was cut)."""
    size = tiles.TILE_MAX
    try:
        cutout = review_selectors.cutout_for_image(cutout_id=cutout_id)
        cut = tiles.cutout_image_tile(
            cutout=cutout, kind=kind, x=_tile_number(request, "x", 0),
            y=_tile_number(request, "y", 0), w=_tile_number(request, "w", size),
            h=_tile_number(request, "h", size))
    except (Cutout.DoesNotExist, FileNotFoundError, TileError):
        raise Http404("No such image")
    response = HttpResponse(cut.png, content_type="image/png")
    response["Cache-Control"] = serving.VERSIONED
    response["X-Tile-Box"] = ",".join(str(v) for v in cut.box)
    return response


@never_cache
@capability_required(roles.VIEW)
@require_GET
def retouch_queue(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    page = review_selectors.retouch_queue_page(
        filters=filters, page=_page_number(request), per_page=PER_PAGE)
    return render(request, "cutouts/review/retouch_queue.html", {
        "page": page, "rows": page.rows, "filters": filters, "qs": filters.querystring(),
        "reason_labels": REASON_LABELS,
    })


def _retouch_url(cutout_id: int, filters: review_selectors.QueueFilters) -> str:
    url = reverse("cutouts:retouch_card", args=[cutout_id])
    qs = filters.querystring()
    return f"{url}?{qs}" if qs else url


def _render_retouch(request: HtmxHttpRequest, cutout_id: int, filters, **extra) -> HttpResponse:
    """The retouch page, or (htmx) its body: what Apply swaps in, and the pending note's poll
    once the version is finished."""
    template = ("cutouts/review/_retouch_main.html" if _partial(request)
                else "cutouts/review/retouch.html")
    card = _get_card(cutout_id, filters)
    response = render(request, template, _card_context(
        card, filters, retouch_url=_retouch_url(cutout_id, filters),
        shadow_advice=_shadow_advice(card.cutout), **extra))
    return _pending_poll(request, response, note="rt-pending-note", whole="#retouch-main",
                         active=card.is_active)


@never_cache
@capability_required(roles.VIEW)
@require_http_methods(["GET", "POST"])
def retouch(request: HtmxHttpRequest, cutout_id: int) -> HttpResponse:
    """Retouch a version: paint keep/remove/detail strokes, or upload a corrected RGBA PNG.
    Either makes a new version queued on the interactive queue. Strokes applied from the
    page (htmx) stay on the page: the answer is the new version's retouch page body, which
    polls until a worker has computed it and then is the editor again, so the next touch
    needs no click. Without htmx the answer is a redirect to the new version's card."""
    filters = _filters(request)
    if request.method == "POST":
        require(request, roles.REVIEW)
        card = _get_card(cutout_id, filters)
        action = request.POST.get("action", "")
        comment = request.POST.get("comment", "").strip()[:2000]
        try:
            if action == "upload":
                upload = request.FILES.get("png")
                if upload is None:
                    raise ReviewError("Choose a PNG file to upload.")
                # Django's upload handlers always set the size (None: a file of unknown size)
                if upload.size is None or upload.size > retouch_services.RETOUCH_MAX_BYTES:
                    raise ReviewError("The file is too large.")
                new = retouch_services.cutout_retouch_upload(cutout=card.cutout, user=request.user,
                                                             data=upload.read(), comment=comment)
            elif action == "strokes":
                new = retouch_services.cutout_retouch_strokes(
                    cutout=card.cutout, user=request.user,
                    strokes=request.POST.get("strokes", ""), comment=comment)
            else:
                raise ReviewError(f"Unknown action {action!r}.")
        except ReviewError as exc:
            if request.htmx:
                # Not swapped (htmx swaps only 2xx): retouch.js says it in the status line
                # and the strokes stay, to fix and apply again.
                return HttpResponse(str(exc), status=422, content_type="text/plain")
            if action == "upload":
                # said beside the upload form, which the page shows in view (a message at
                # the page's top sat above the editor it scrolls to: QA 2026-12-06), with
                # the comment kept; the browser cannot keep the chosen file
                response = _render_retouch(request, cutout_id, filters,
                                           upload_error=str(exc), upload_comment=comment)
                response.status_code = 422
                return response
            messages.error(request, str(exc))
            return redirect(request.get_full_path())
        if request.htmx:
            # the new version takes the old one's place, as on the card (``_show``): Back
            # does not add a step that reopens the version just retouched
            return replace_url(_render_retouch(request, new.pk, filters),
                               _retouch_url(new.pk, filters))
        # "rv-queued": review.js says "ready" instead once the card polls the version done.
        # The extra tag also carries "msg-success": base.html prefixes the tags string once.
        messages.success(request, f"Version {new.version} is queued; this card shows it when "
                                  "it is ready, then it waits for review.",
                         extra_tags="rv-queued msg-success")
        return redirect(_card_url(new.pk, filters))
    note = _pending_note(request, cutout_id, note="rt-pending-note",
                         template="cutouts/review/_retouch_pending_note.html", strokes=True,
                         retouch_url=_retouch_url(cutout_id, filters))
    if note is not None:
        return note
    return _render_retouch(request, cutout_id, filters)


@capability_required(roles.REVIEW)
@require_POST
def retouch_preview(request: HttpRequest, cutout_id: int) -> HttpResponse:
    """The strokes applied at the card's size, as a PNG (an empty list gives the version
    itself and warms the cache). Body: JSON ``{"strokes": [...]}``; errors: 400 + JSON."""
    try:
        cutout = review_selectors.cutout_for_image(cutout_id=cutout_id)
    except Cutout.DoesNotExist:
        raise Http404("No such cutout")
    try:
        if len(request.body) > retouch_services.STROKES_MAX_CHARS:
            raise ReviewError("Too many strokes to send at once: apply them, then "
                              "go on.")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise ReviewError("Send the strokes as JSON: {\"strokes\": [...]}.")
        if not isinstance(body, dict):
            raise ReviewError("Send the strokes as JSON: {\"strokes\": [...]}.")
        strokes = body.get("strokes", [])
        if not isinstance(strokes, list):
            raise ReviewError("The strokes cannot be used: strokes must be a JSON "
                              "list.")
        preview = preview_services.cutout_retouch_preview(cutout=cutout, strokes=strokes)
    except ReviewError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except FileNotFoundError:
        raise Http404("The files of this version are missing")
    response = HttpResponse(preview.png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    response["X-Retouch-Ms"] = str(round(preview.timings["total"] * 1000))
    if preview.mesh:  # retouch.js names the mesh when the stroke changed next to nothing
        response["X-Retouch-Mesh"] = "1"
    if preview.far_keep:  # retouch.js says what a keep click far from the cutout added
        response["X-Retouch-Far-Keep"] = preview.far_keep
    if preview.subject:  # retouch.js says how many parts a subject click cleared, or none
        response["X-Retouch-Subject"] = preview.subject
    if preview.given_back:  # retouch.js says what a click gave back of earlier strokes' changes
        response["X-Retouch-Given-Back"] = preview.given_back
    response["Server-Timing"] = ", ".join(
        f"{k};dur={v * 1000:.1f}" for k, v in preview.timings.items())
    return response


@capability_required(roles.VIEW)
@require_GET
def history(request: HtmxHttpRequest, asset_id: int) -> HttpResponse:
    versions = job_selectors.cutout_versions(asset_id=asset_id)
    if not versions:
        raise Http404("No cutouts of this image")
    decisions = review_selectors.asset_history(asset_id=asset_id)
    template = "cutouts/review/_history.html" if request.htmx else "cutouts/review/history.html"
    return render(request, template, {"decisions": decisions, "asset_id": asset_id,
                                      "asset": versions[0].asset,
                                      "reason_labels": REASON_LABELS,
                                      "version_rows": review_selectors.version_states(versions)})

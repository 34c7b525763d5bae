from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware import csrf
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.middleware import HtmxDetails

from catalog import roles
from catalog.http import HtmxHttpRequest
from catalog.permissions import capability_required
from cutouts.selectors.jobs import worker_ping_recent
from cutouts.selectors.review import COUNT_CAP as REVIEW_COUNT_CAP
from cutouts.selectors.review import retouch_queue_count, review_queue_count
from cutouts.services.notifications import worker_ping_create

from .health import run_advisories, run_checks
from .login import login_page_whole


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form or htmx action sent from a page older than the login (the user
    logged out and in again, maybe in another tab, which gives the session a new token), in
    plain words and with nothing saved. Django's own page speaks of cookies and referers; an
    htmx action refused with it changed nothing on screen at all (QA 2026-12-06, session 37).
    A missing cookie or a foreign origin (a proxy not in CSRF_TRUSTED_ORIGINS) say so instead,
    and a request with no session at all that it is logged out. The header tells
    static/js/request-failed.js and static/js/session.js which refusal it is."""
    match = request.resolver_match
    gated = match is not None and getattr(match.func, "login_required", True)
    if gated and not request.user.is_authenticated:
        # The session went too (the browser's data cleared, or it expired with the cookie):
        # not a page older than the login, which it read as (QA qa42c L6), but logged out,
        # answered as a request that only lost its session is (config.login): an htmx one
        # loads the login page whole, a form is told so with the link to log in again.
        # Only where the login gate would have stopped it: the login form itself still
        # says why its own post was refused.
        if HtmxDetails(request):
            return login_page_whole(request, settings.LOGIN_URL)
        response = render(request, "403_csrf.html", {"why": "logged_out"}, status=403)
        response["X-Cutroom-Refused"] = "login"
        return response
    cookie = reason == csrf.REASON_NO_CSRF_COOKIE
    origin = reason.startswith(("Origin checking failed", "Referer checking failed"))
    response = render(request, "403_csrf.html",
                      {"why": "cookie" if cookie else "origin" if origin else "stale"}, status=403)
    response["X-Cutroom-Refused"] = "csrf"
    return response


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results = run_checks()
    healthy = all(results.values())
    body: dict = {
        "status": "ok" if healthy else "fail",
        "components": {name: "up" if ok else "down" for name, ok in results.items()},
    }
    # degraded is still 200: the web tier itself serves, and a load balancer must keep it
    for name, advisory in (run_advisories() if results.get("database") else {}).items():
        body["components"][name] = advisory.state
        body.update(advisory.extra)
        if healthy and advisory.degrades:
            body["status"] = "degraded"
    return JsonResponse(body, status=200 if healthy else 503)


@login_not_required
@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for whatever the page links (and which 404ed): the
    page's SVG icon. Not permanent and read per request: the static name carries a hash that
    changes with the file, and the login page needs it as much as any other."""
    return redirect(static("img/favicon.svg"))


@capability_required(roles.VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    # "In review" is the review queue's own count (one per image), capped as the queue caps it.
    waiting = review_queue_count(cap=REVIEW_COUNT_CAP + 1)
    # "To retouch" is the retouch queue's own count too: it lists a flag on a version newer
    # than the approved one, whose image reads Approved in the catalog's status counts.
    retouch = retouch_queue_count(cap=REVIEW_COUNT_CAP + 1)
    return render(request, "dashboard.html", {
        "pings": worker_ping_recent(limit=5), "review_waiting": min(waiting, REVIEW_COUNT_CAP),
        "review_waiting_capped": waiting > REVIEW_COUNT_CAP,
        "retouch_waiting": min(retouch, REVIEW_COUNT_CAP),
        "retouch_waiting_capped": retouch > REVIEW_COUNT_CAP,
    })


@capability_required(roles.VIEW)
@require_http_methods(["GET", "POST"])
def worker_ping(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST":
        worker_ping_create(user=request.user)
        if not request.htmx:
            return redirect("dashboard")
    return render(request, "partials/worker_pings.html", {"pings": worker_ping_recent(limit=5)})


class LogoutView(auth_views.LogoutView):
    """Django's logout (POST only; a ``next`` off the site is ignored), and the login page it
    leads to says so: a one-time message, so a link cannot make the page claim it."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, "You are logged out.")
        return response


logout = LogoutView.as_view()


def admin_logout(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """``AdminSite.logout``'s signature, our logout: /admin/logout/ ends on our login page with
    the same message instead of the admin's "Logged out" page."""
    return logout(request)

"""The login gate on every page: an htmx request of an ended session sends the whole page to
the login form (HX-Redirect), instead of swapping the login page into a card or editor."""

from __future__ import annotations

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


def login_page_whole(request: HttpRequest, login_url: str, field: str = "next"
                     ) -> HttpResponseClientRedirect:
    """An htmx request's answer when its session has ended: HX-Redirect, so htmx loads the
    login page in the window, ``next`` the page on screen only when it is this site's (the
    header is the client's word), else the address asked, as Django's own redirect names
    it. The login gate answers so, and so does the CSRF failure of a request whose session
    went with its CSRF cookie (``config.views.csrf_failure``)."""
    htmx = HtmxDetails(request)  # its own reading: whatever HtmxMiddleware's place
    page = htmx.current_url_abs_path or request.get_full_path()
    login = redirect_to_login(page, resolve_url(login_url), field)
    return HttpResponseClientRedirect(login.url)


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Django's, but an htmx request (a card's A, Apply, a poll) is answered with HX-Redirect
    to the login page, ``next`` the page on screen: htmx follows a plain redirect inside the
    XHR and swapped the login page in (a second top bar inside the card; QA 2026-12-06)."""

    # The stubs type Django's answer as a 302; an htmx one is no Location redirect.
    def handle_no_permission(  # type: ignore[override]
            self, request: HttpRequest, view_func) -> HttpResponseBase:
        if not HtmxDetails(request):
            return super().handle_no_permission(request, view_func)
        return login_page_whole(request, self.get_login_url(view_func),
                                self.get_redirect_field_name(view_func))

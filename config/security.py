"""Request-level security: the real client IP behind trusted proxies, response security
headers (Content-Security-Policy, Permissions-Policy) and per-IP rate limits for the login
and password-reset forms."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .logging import client_ip_var

logger = logging.getLogger(__name__)


# --- Client IP ---------------------------------------------------------------------------------


def _clean_ip(value: str) -> str:
    text = value.strip()
    if text.startswith("[") and "]" in text:  # "[::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "1.2.3.4:5678"
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return ""


def client_ip(request: HttpRequest) -> str:
    """The address of whoever sent the request, trusting exactly ``CUTROOM_TRUSTED_PROXIES``.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For,
    so with N proxies only the last N entries are facts; anything left of them was written by
    the client and is ignored (a forged header cannot choose the address). With no trusted
    proxy, X-Forwarded-For is ignored altogether and REMOTE_ADDR is the client.
    """
    cached = getattr(request, "_cutroom_client_ip", None)
    if cached is not None:
        return cached
    remote = _clean_ip(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104
    result = remote
    trusted = int(getattr(settings, "CUTROOM_TRUSTED_PROXIES", 0) or 0)
    if trusted > 0:
        hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if hops:
            # Fewer hops than proxies: the request skipped the outer one(s); the leftmost
            # entry was still written by a trusted proxy.
            candidate = _clean_ip(hops[-min(trusted, len(hops))])
            result = candidate or remote
    request._cutroom_client_ip = result  # type: ignore[attr-defined]
    return result


class ClientIpMiddleware:
    """Resolves the client IP once per request, for django-axes, rate limits and the logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.client_ip = client_ip(request)
        token = client_ip_var.set(request.client_ip)
        try:
            return self.get_response(request)
        finally:
            client_ip_var.reset(token)


# --- Security headers --------------------------------------------------------------------------


def content_security_policy() -> str:
    """Scripts only from our own static files (no inline scripts or handlers, no eval).

    Styles allow inline because the templates set widths of progress bars in style
    attributes; that cannot run code. Images (and fetches of them) may come from the S3
    endpoint, where signed URLs point.
    """
    media = list(getattr(settings, "CUTROOM_CSP_MEDIA_SOURCES", []))
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "script-src-attr": ["'none'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *media],
        "connect-src": ["'self'", *media],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial",
                    "midi", "magnetometer", "gyroscope", "accelerometer",
                    "display-capture", "interest-cohort", "browsing-topics")
)


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy and Permissions-Policy to every response."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.csp = content_security_policy()

    def __call__(self, request):
        response = self.get_response(request)
        # The admin ships inline scripts of its own; it is staff-only and keeps Django's
        # defaults, everything else gets the strict policy.
        if not request.path.startswith("/admin/"):
            response.setdefault("Content-Security-Policy", self.csp)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


# --- Rate limits -------------------------------------------------------------------------------


def rate_limit_hit(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one attempt; True when ``key`` has made more than ``limit`` in this window."""
    bucket = int(time.time() // window)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    name = f"cutroom:rl:{scope}:{digest}:{bucket}"
    cache = caches["default"]
    if cache.add(name, 1, timeout=window + 5):
        return limit < 1
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.add(name, 1, timeout=window + 5)
        count = 1
    return count > limit


def rate_limited_post(scope: str) -> Callable:
    """Limit POSTs to a view per client IP (``CUTROOM_RATE_LIMITS[scope]`` = (count, seconds));
    over the limit the view answers 429 without running."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST":
                limit, window = settings.CUTROOM_RATE_LIMITS[scope]
                if rate_limit_hit(scope, client_ip(request), limit=limit, window=window):
                    # The log record carries client_ip already (config.logging).
                    logger.warning("rate limit hit", extra={"scope": scope})
                    response = render(request, "registration/rate_limited.html",
                                      {"minutes": max(1, window // 60)}, status=429)
                    response["Retry-After"] = str(window)
                    return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator

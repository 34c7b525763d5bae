"""The versioned REST API: one NinjaAPI at /api/v1/ built from the apps' routers
(catalog/api.py, cutouts/api.py), problem+json for every error, a log line per request with
the API key's name, and the key and webhook management pages under /api/."""

from __future__ import annotations

import logging
import time
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from catalog import api as catalog_api
from catalog import api_views
from catalog.api_support import Problem, problem_response, validation_detail
from catalog.services.api_keys import RateLimited
from cutouts import api as cutouts_api

logger = logging.getLogger("cutroom.api")

DESCRIPTION = """
Drive Cutroom without a browser: products, images, cutout batches, review, exports,
presets and webhooks.

**Authentication**: an API key from *API keys* (`/api/keys/`), sent as
`Authorization: Bearer crk_…` or `X-API-Key: crk_…`. A key's scope (read-only, reviewer,
manager) is capped by its owner's role. A logged-in browser session works too (writes need
the `X-CSRFToken` header). Anonymous requests get `401`.

**Errors** are RFC 9457 problem details (`application/problem+json`) with `type`, `title`,
`status`, `detail` and field `errors`, in the same words as the UI.

**Rate limits** are per key: past the limit the answer is `429` with `Retry-After`.

**Idempotency**: creating POSTs accept an `Idempotency-Key` header; a repeat returns the
first answer and never starts a second job.
"""

class CutroomAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Errors are documented as application/problem+json (what they are), creating
        POSTs document the Idempotency-Key header, ids are positive 63-bit integers."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(code) >= 400 and "application/json" in content:
                        content["application/problem+json"] = content.pop("application/json")
                for param in operation.get("parameters", []):
                    if param.get("in") == "path" and param["schema"].get("type") == "integer":
                        param["schema"].update(minimum=1, maximum=2**63 - 1)
                if "Idempotency-Key" in (operation.get("description") or ""):
                    operation.setdefault("parameters", []).append({
                        "name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                        "description": "Repeat-safe creation: a repeat returns the first "
                                       "answer.",
                    })
        return schema


api = CutroomAPI(
    title="Cutroom API", version="1", description=DESCRIPTION, urls_namespace="api",
    openapi_url="/schema", docs_url="/docs", docs=Swagger(settings={"persistAuthorization": False}),
)
api.add_router("/", catalog_api.router)
api.add_router("/", cutouts_api.router)
api.add_router("/", cutouts_api.downloads)


@api.exception_handler(Problem)
def _problem(request: HttpRequest, exc: Problem):
    return problem_response(exc.status, exc.detail, slug=exc.slug, errors=exc.errors,
                            headers=exc.headers)


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited):
    return problem_response(429, str(exc), slug="rate-limited",
                            headers={"Retry-After": str(exc.retry_after)})


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError):
    return problem_response(
        401, "Send a valid API key (Authorization: Bearer crk_…) or log in.",
        slug="unauthenticated", headers={"WWW-Authenticate": 'Bearer realm="cutroom"'})


@api.exception_handler(AuthorizationError)
def _forbidden(request: HttpRequest, exc: AuthorizationError):
    return problem_response(403, str(exc) or "Forbidden.", slug="forbidden")


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError):
    field_errors = []
    for error in exc.errors:
        loc = [str(p) for p in error.get("loc", ())]
        source = ""
        # ninja puts where the value came from first ("body", "query", …), then the name.
        if loc and loc[0] in ("body", "query", "path", "form", "file", "header", "cookie"):
            source, loc = loc[0], loc[1:]
        if loc and loc[0] == "payload":
            loc = loc[1:]
        message = error.get("msg", "Invalid")
        if not loc and source == "body":
            # The body as a whole (missing, or not an object): name it, never an empty field.
            message = ("Send a JSON object as the request body." if error.get("type") == "missing"
                       else f"The request body must be a JSON object ({message}).")
        field_errors.append({"field": ".".join(loc) or source, "message": message})
    return problem_response(422, validation_detail(field_errors), slug="validation",
                            errors=field_errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    return problem_response(exc.status_code, str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404):
    return problem_response(404, str(exc) or "Not found.", slug="not-found")


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception):
    logger.exception("API error on %s %s", request.method, request.path)
    return problem_response(500, "Unexpected server error; it has been logged.",
                            slug="server-error")


def _logged(view):
    """Time and log every API request with the key (or session user) that made it."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        started = time.perf_counter()
        response = view(request, *args, **kwargs)
        logger.info(
            "api %s %s %s %.1fms by %s", request.method, request.path, response.status_code,
            (time.perf_counter() - started) * 1000,
            getattr(request, "api_key_name", "anonymous"),
            extra={"api_key": getattr(request, "api_key_name", "")},
        )
        return response

    # Auth is the API's own (key or session): LoginRequiredMiddleware must not redirect
    # to the login page; anonymous callers get a 401 problem instead.
    wrapper.login_required = False  # type: ignore[attr-defined]
    return wrapper


def _unknown_path(request: HttpRequest, **kwargs):
    """Any path under /api/v1/ that no operation matched, and the bare /api/v1/ (ninja's
    root raises a plain Http404, the site's HTML page): the API's own 404 (problem+json)
    for every caller. Nothing is read or written, so no CSRF."""
    return problem_response(404, f"No API endpoint at {request.path}; the operations are "
                                 "listed at /api/v1/docs.", slug="not-found")


def _head(view, request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """HEAD wherever GET is (RFC 9110): ninja routes by method and has no HEAD operations,
    so answer the GET's status and headers without its body. A path without GET still
    answers 405 (naming HEAD, the method asked)."""
    request.method = "GET"
    try:
        response = view(request, *args, **kwargs)
    finally:
        request.method = "HEAD"
    if isinstance(response, HttpResponseNotAllowed):
        return response
    if response.streaming:
        response.streaming_content = []  # the file's closer stays registered
    else:
        response["Content-Length"] = str(len(response.content))
        response.content = b""
    return response


def _method_problem(view):
    """A known path asked with a method none of its operations has: ninja's path view answers
    a plain-text 405 itself (no exception reaches the handlers above), so turn it into the
    API's problem+json here, keeping the methods it allows in ``Allow`` (HEAD with GET).
    HEAD itself is answered like GET, without the body."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method == "HEAD":
            response = _head(view, request, *args, **kwargs)
        else:
            response = view(request, *args, **kwargs)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        methods = {m.strip().upper() for m in response.get("Allow", "").split(",")
                   if m.strip()}
        if "GET" in methods:
            methods.add("HEAD")
        allowed = sorted(methods)
        return problem_response(
            405, f"{request.method} is not allowed on {request.path}; allowed: "
                 f"{', '.join(allowed)}.", slug="method-not-allowed",
            headers={"Allow": ", ".join(allowed)})

    return wrapper


def _api_urls() -> list:
    patterns, _, _ = api.urls
    for pattern in patterns:
        if getattr(pattern, "name", "") == "api-root":  # kept: ninja reverses it
            pattern.callback = csrf_exempt(_unknown_path)
        pattern.callback = _logged(_method_problem(pattern.callback))
    return patterns


urlpatterns = [
    path("v1/", include((_api_urls(), "api"), namespace="api")),
    # after the API's own routes: only what none of them matched lands here
    path("v1/<path:rest>", _logged(csrf_exempt(_unknown_path))),
    path("keys/", api_views.key_list, name="api_keys"),
    path("keys/<int:pk>/revoke", api_views.key_revoke, name="api_key_revoke"),
    path("webhooks/", api_views.webhook_list, name="api_webhooks"),
    path("webhooks/<int:pk>/", api_views.webhook_detail, name="api_webhook_detail"),
    path("webhooks/<int:pk>/edit", api_views.webhook_edit, name="api_webhook_edit"),
    path("webhooks/deliveries/<int:pk>/redeliver", api_views.webhook_redeliver,
         name="api_webhook_redeliver"),
]

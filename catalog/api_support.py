"""Shared plumbing of the REST API (used by catalog/api.py and cutouts/api.py): who is
calling (API key or session), role checks, RFC 9457 problem details, cursors and the
Idempotency-Key wrapper. No business logic lives here."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from functools import wraps
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Schema
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.utils import check_csrf
from pydantic import ConfigDict

from .api_models import ApiKey
from .ids import MAX_ID
from .services import api_keys as apikeys
from .validators import SKU_MAX_LENGTH, SKU_RULE

PROBLEM_CONTENT_TYPE = "application/problem+json"
#: A row id in a body or query: databases refuse integers past 63 bits (a 500 otherwise).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


# --- request bodies ---------------------------------------------------------------------------


class StrictIn(Schema):
    """Base of every request body: a field the operation does not know is a 422 naming it,
    never silently dropped (a misspelt or unsupported option would otherwise run with the
    default and look as if it had been applied)."""

    model_config = ConfigDict(extra="forbid")


# --- problems ---------------------------------------------------------------------------------


class FieldError(Schema):
    field: str
    message: str


class ProblemOut(Schema):
    """RFC 9457 problem details; ``errors`` lists field errors with the UI's messages."""

    type: str
    title: str
    status: int
    detail: str = ""
    errors: list[FieldError] = []


TITLES = {
    400: "Bad request", 401: "Authentication required", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 409: "Conflict", 413: "Too large", 422: "Invalid request",
    429: "Too many requests", 500: "Server error",
}


class Problem(Exception):
    """Raise from an API operation to answer with problem details."""

    def __init__(self, status: int, detail: str = "", *, slug: str = "",
                 errors: list[dict] | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or TITLES.get(status, "error").lower().replace(" ", "-")
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(status: int, detail: str = "", *, slug: str = "",
                     errors: list[dict] | None = None, headers: dict | None = None
                     ) -> HttpResponse:
    slug = slug or TITLES.get(status, "error").lower().replace(" ", "-")
    body = {"type": f"urn:cutroom:problem:{slug}", "title": TITLES.get(status, "Error"),
            "status": status, "detail": detail, "errors": errors or []}
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def validation_problem(exc: ValidationError) -> Problem:
    """A Django ValidationError (what the UI forms show) as a 422 with field errors."""
    if hasattr(exc, "error_dict"):
        errors = [{"field": "" if f == "__all__" else f, "message": m}
                  for f, messages in exc.message_dict.items() for m in messages]
    else:
        errors = [{"field": "", "message": m} for m in exc.messages]
    return Problem(422, validation_detail(errors), slug="validation", errors=errors)


def validation_detail(errors: list[dict[str, str]]) -> str:
    """A 422's ``detail``: its field errors as "field: message", joined, whether the schema
    or a service refused them (a service's "SKU may only …" read bare beside the schema's
    "sku: …")."""
    return "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"]
                     for e in errors)


def sku_length_check(sku: str, *, field: str = "sku") -> None:
    """A SKU over ``SKU_MAX_LENGTH`` is refused in the one SKU rule's words, as the product
    form and the imports refuse it (``validators.validate_sku``): the schema's "String should
    have at most 64 characters" read as another rule (QA 2026-12-06, qa38a L10). ``field``:
    where the SKU came from (the cutouts list's ``product`` filter says it too, ui39)."""
    if len(sku) > SKU_MAX_LENGTH:
        raise Problem(422, f"{field}: {SKU_RULE}", slug="validation",
                      errors=[{"field": field, "message": SKU_RULE}])


def errors(*codes: int) -> dict[int, type[ProblemOut]]:
    """Response declarations for the schema: every operation can also answer 400 (a body
    that cannot be parsed), 401 (no key), 422 (a parameter fails validation) and 429 (rate
    limit)."""
    return dict.fromkeys(sorted({400, 401, 422, 429, *codes}), ProblemOut)


# --- who is calling -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    user: Any
    key: ApiKey | None
    capabilities: frozenset[str]

    @property
    def name(self) -> str:
        return f"key:{self.key.name}" if self.key else f"session:{self.user.get_username()}"

    @property
    def owner(self) -> str:
        return f"key:{self.key.pk}" if self.key else f"user:{self.user.pk}"


def _presented_token(request: HttpRequest) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("X-API-Key")


def authenticate_request(request: HttpRequest) -> Principal | None:
    """The caller, once per request: an API key (Bearer or X-API-Key) or the browser session.

    A presented key that is wrong, revoked or expired is a 401 even with a session cookie,
    so an integration never silently runs as whoever is logged in; a revoked or expired one
    says so and since when (only to whoever presents its whole secret). Session writes need the
    CSRF token like any form. Raises RateLimited past the key's rate.
    """
    # the outcome is cached on the request object itself (HttpRequest declares no such field)
    if hasattr(request, "_api_principal"):
        cached = request._api_principal
        if isinstance(cached, Exception):
            raise cached
        return cached
    who = None
    try:
        token = _presented_token(request)
        if token is not None:
            try:
                key = apikeys.api_key_authenticate(token=token)
            except apikeys.ApiKeyRefused as exc:
                # the key's own holder (the whole secret matched): say why it stopped
                # working; an unknown or wrong token keeps the generic 401
                raise Problem(401, str(exc), slug="key-revoked" if "revoked" in str(exc)
                              else "key-expired",
                              headers={"WWW-Authenticate": 'Bearer realm="cutroom", '
                                                           'error="invalid_token"'}) from None
            if key is not None:
                apikeys.api_key_rate_limit(key=key)
                who = Principal(user=key.user, key=key,
                                      capabilities=apikeys.api_key_capabilities(key=key))
        elif request.user.is_authenticated:
            if request.method not in SAFE_METHODS and check_csrf(request) is not None:
                raise Problem(403, "CSRF check failed: send the X-CSRFToken header "
                                   "(browser sessions only; integrations use API keys).",
                              slug="csrf")
            who = Principal(user=request.user, key=None,
                                  capabilities=apikeys.user_capabilities(user=request.user))
    except Exception as exc:
        request._api_principal = exc  # type: ignore[attr-defined]
        raise
    request._api_principal = who  # type: ignore[attr-defined]
    if who is not None:
        request.api_key_name = who.name  # type: ignore[attr-defined]  # read by the request log
    return who


class BearerKey(HttpBearer):
    """``Authorization: Bearer crk_…``"""

    def __call__(self, request):
        return authenticate_request(request)

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the work
        return authenticate_request(request)


class HeaderKey(APIKeyHeader):
    """``X-API-Key: crk_…``"""

    param_name = "X-API-Key"

    def __call__(self, request):
        return authenticate_request(request)

    def authenticate(self, request, key):  # pragma: no cover - __call__ does the work
        return authenticate_request(request)


class Session(APIKeyCookie):
    """The browser's login session (writes need the CSRF token)."""

    param_name = "sessionid"

    def __call__(self, request):
        return authenticate_request(request)

    def authenticate(self, request, key):  # pragma: no cover - __call__ does the work
        return authenticate_request(request)


AUTH = [BearerKey(), HeaderKey(), Session(csrf=False)]


def principal(request: HttpRequest) -> Principal:
    # set by ninja from AUTH, on the request object (HttpRequest declares no `auth`)
    return request.auth  # type: ignore[attr-defined]


# --- cursors ----------------------------------------------------------------------------------


def cursor_encode(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str | None) -> dict:
    if not cursor:
        return {}
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Problem(400, "The cursor is not valid; use the one from the last page.",
                      slug="bad-cursor", errors=[{"field": "cursor", "message": "Invalid"}])
    if not isinstance(data, dict):
        raise Problem(400, "The cursor is not valid; use the one from the last page.",
                      slug="bad-cursor", errors=[{"field": "cursor", "message": "Invalid"}])
    return data


# --- idempotency --------------------------------------------------------------------------------


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update((request.method or "").encode())  # always set on a served request
    digest.update(request.get_full_path().encode())
    if request.content_type == "multipart/form-data":
        # Never request.body here: it would load a large upload into memory.
        for name, values in sorted(request.POST.lists()):
            digest.update(json.dumps([name, values]).encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(f"{name}:{upload.name}:{upload.size}".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(_canonical_body(request))
    return digest.hexdigest()


def _canonical_body(request: HttpRequest) -> bytes:
    """A JSON body as parsed, keys sorted, no whitespace: a retry that formats the same
    request differently (a client library, pretty-printing) is the same request. Anything
    else (or JSON that does not parse, which the operation refuses anyway): the bytes."""
    body = request.body
    if request.content_type == "application/json" and body:
        try:
            data = json.loads(body)
        except ValueError:
            return body
        # ASCII escapes: a lone surrogate ("\ud800") parses but cannot be UTF-8 encoded
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return body


def idempotent_replay_without(request: HttpRequest, **notes: str) -> None:
    """Called by an operation under ``idempotent`` whose answer holds something shown once
    (a signing secret): the stored answer, the one a repeat replays, has each named field
    ``null`` and ``note`` saying why. The first answer is unchanged."""
    request._idempotent_redact = notes  # type: ignore[attr-defined]


def _replay_body(request: HttpRequest, content: bytes) -> bytes:
    notes = getattr(request, "_idempotent_redact", None)
    if not notes:
        return content
    data = json.loads(content)
    for field in notes:
        data[field] = None
    data["note"] = " ".join(notes.values())
    return json.dumps(data).encode()


IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotent(run):
    """Wrap an operation (``@decorate_view(idempotent)``): with an Idempotency-Key header a
    repeat of the same request returns the first 2xx answer and never does the work twice."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return run(request, *args, **kwargs)
        try:
            who = authenticate_request(request)
        except Exception:
            who = None
        if who is None:  # the operation itself answers 401/429
            return run(request, *args, **kwargs)
        try:
            claim = apikeys.idempotency_claim(
                owner=who.owner, key=key.strip(), method=request.method or "",
                path=request.path, fingerprint=_fingerprint(request))
        except apikeys.IdempotencyConflict as exc:
            status = 409 if "still being processed" in str(exc) else 422
            # name the header, as every other 422 names its field
            return problem_response(status, str(exc), slug="idempotency-key",
                                    errors=[{"field": IDEMPOTENCY_HEADER, "message": str(exc)}])
        if claim.replay:
            record = claim.record
            response = HttpResponse(bytes(record.body), status=record.status_code,
                                    content_type=record.content_type or "application/json")
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            apikeys.idempotency_release(record=claim.record)
            raise
        if 200 <= response.status_code < 300 and not getattr(response, "streaming", False):
            apikeys.idempotency_store(record=claim.record, status_code=response.status_code,
                                      body=_replay_body(request, response.content),
                                      content_type=response.get("Content-Type", ""))
        else:
            apikeys.idempotency_release(record=claim.record)
        return response

    return wrapper


IDEMPOTENCY_DOC = (" Send an `Idempotency-Key` header to make retries safe: a repeat returns "
                   "the first answer (header `Idempotent-Replayed: true`).")


def _check(who: Principal, capability: str | None) -> None:
    from .roles import CAPABILITY_ACTIONS, MANAGER, ROLE_CAPABILITIES, refusal

    if capability is None:  # integration settings (webhooks) need every capability
        if not ROLE_CAPABILITIES[MANAGER] <= who.capabilities:
            raise Problem(403, "Only a catalog manager (or a manager-scope key) may do this.",
                          slug="forbidden")
    elif capability not in who.capabilities:
        # a key is refused by its scope (capped by its owner's role), a session by its role
        text = (f"This key's scope ({who.key.scope}) cannot {CAPABILITY_ACTIONS[capability]}"
                if who.key else refusal(capability).rstrip("."))
        raise Problem(403, f"{text} (needs {capability}).", slug="forbidden")


def needs(capability: str | None):
    """Open every operation (``@decorate_view(needs(roles.X))``, above ``idempotent``): the
    role is checked before the request is parsed or validated, so a caller without the
    capability always gets 403, whatever it sent. ``None``: a manager's operation."""

    def decorator(run):
        @wraps(run)
        def wrapper(request: HttpRequest, *args, **kwargs):
            try:
                who = authenticate_request(request)
            except Exception:  # 401/429/CSRF: the operation's own auth answers
                who = None
            if who is not None:
                try:
                    _check(who, capability)
                except Problem as exc:
                    return problem_response(exc.status, exc.detail, slug=exc.slug)
            return run(request, *args, **kwargs)

        wrapper.required_capability = capability or "manager"  # type: ignore[attr-defined]
        return wrapper

    return decorator

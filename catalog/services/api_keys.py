"""API keys (create, revoke, authenticate), per-key rate limits and idempotency records."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import roles
from ..api_models import ApiKey, ApiScope, IdempotencyRecord

logger = logging.getLogger(__name__)

KEY_PREFIX = "crk"
SCOPE_CAPABILITIES: dict[str, frozenset[str]] = {
    ApiScope.READ_ONLY: frozenset({roles.VIEW}),
    ApiScope.REVIEWER: roles.ROLE_CAPABILITIES[roles.REVIEWER],
    ApiScope.MANAGER: roles.ROLE_CAPABILITIES[roles.MANAGER],
}
# last_used_at is written at most this often per key: one UPDATE per request would serialise
# every API call on SQLite's single writer.
LAST_USED_EVERY = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def user_capabilities(*, user) -> frozenset[str]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    return frozenset(c for c in roles.CAPABILITIES if user.has_perm(roles.perm(c)))


def scopes_for_user(*, user) -> list[str]:
    """Scopes a user may give a key: never more than the user's own role."""
    have = user_capabilities(user=user)
    return [s for s in ApiScope.values if have and SCOPE_CAPABILITIES[s] <= have]


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    token: str  # shown once, never stored


@transaction.atomic
def api_key_create(*, user, name: str, scope: str, expires_at: datetime | None = None,
                   rate_per_minute: int | None = None) -> NewKey:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the key a name, e.g. the system that uses it."]})
    if scope not in ApiScope.values:
        raise ValidationError({"scope": [f"Unknown scope {scope!r}; choose one of: "
                                         f"{', '.join(ApiScope.values)}."]})
    if scope not in scopes_for_user(user=user):
        raise ValidationError({"scope": [f"Your role does not allow a {scope} key."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = f"{KEY_PREFIX}_{prefix}_{secret}"
    key = ApiKey.objects.create(
        user=user, name=name[:100], prefix=prefix, secret_hash=_hash(token), scope=scope,
        expires_at=expires_at, rate_per_minute=rate_per_minute,
    )
    return NewKey(key=key, token=token)


def user_manages_keys(*, user) -> bool:
    """Catalog managers see and revoke every key of the instance (someone leaves, a system
    is retired); everyone else only their own."""
    return roles.ROLE_CAPABILITIES[roles.MANAGER] <= user_capabilities(user=user)


def api_key_revoke(*, key: ApiKey, by=None) -> ApiKey:
    """Revoke ``key`` at once. ``by`` (the person asking, when there is one) must own it or
    be a catalog manager; anyone else gets PermissionDenied."""
    if by is not None and key.user_id != by.pk and not user_manages_keys(user=by):
        raise PermissionDenied("Only a catalog manager may revoke another user's key.")
    if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()) and by is not None and key.user_id != by.pk:
        # Someone else's key: say who did it (the row keeps only when).
        logger.info("api key %s (%s) of user %s revoked by %s", key.prefix, key.name,
                    key.user_id, by.get_username())
    key.refresh_from_db()
    return key


class ApiKeyRefused(Exception):
    """A presented token that is a real key, but one that no longer works (revoked,
    expired): its holder is told which and since when. Raised only once the whole secret
    matched, so it says nothing to anyone who does not hold the key already."""


def api_key_authenticate(*, token: str) -> ApiKey | None:
    """The live key for a presented token, or None (unknown or wrong: the caller gets the
    generic 401). Raises ApiKeyRefused for the right secret of a revoked or expired key."""
    parts = (token or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = ApiKey.objects.select_related("user").filter(prefix=parts[1][:16]).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(token.strip())):
        return None
    now = timezone.now()
    if key.revoked_at is not None:
        raise ApiKeyRefused(f"This API key was revoked on {_day(key.revoked_at)}; ask for a "
                            "new key (API keys page).")
    if key.expires_at is not None and key.expires_at <= now:
        raise ApiKeyRefused(f"This API key expired on {_day(key.expires_at)}; ask for a new "
                            "key (API keys page).")
    if not key.user.is_active:
        return None
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def _day(moment: datetime) -> str:
    """A revocation or expiry as the key's holder reads it: the day (UTC, as the API's
    timestamps are) and the minute, so "revoked today" is told from "expired years ago"."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def api_key_capabilities(*, key: ApiKey) -> frozenset[str]:
    """What a request with this key may do: its scope, capped by its owner's current role."""
    return SCOPE_CAPABILITIES[key.scope] & user_capabilities(user=key.user)


# --- rate limits ------------------------------------------------------------------------------


class RateLimited(Exception):
    def __init__(self, retry_after: int, limit: int):
        super().__init__(f"Rate limit of {limit} requests per minute exceeded.")
        self.retry_after = retry_after
        self.limit = limit


def rate_limit_hit(*, bucket: str, limit: int, window: int = 60) -> None:
    """Count one request in a fixed window; raise RateLimited past ``limit``. Counters live
    in the cache (shared between processes when CACHE_URL points at Redis)."""
    now = time.time()
    slot = int(now // window)
    cache_key = f"api-rate:{bucket}:{slot}"
    cache.add(cache_key, 0, timeout=window + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=window + 5)
        count = 1
    if count > limit:
        raise RateLimited(retry_after=max(1, math.ceil((slot + 1) * window - now)), limit=limit)


def api_key_rate_limit(*, key: ApiKey) -> None:
    rate_limit_hit(bucket=f"key:{key.pk}",
                   limit=key.rate_per_minute or settings.CUTROOM_API_RATE_PER_MINUTE)


# --- idempotency ------------------------------------------------------------------------------


class IdempotencyConflict(Exception):
    """Same key, different request; or the first request is still running."""


@dataclass(frozen=True)
class IdempotencyClaim:
    record: IdempotencyRecord
    replay: bool  # True: ``record`` holds the first answer


def idempotency_claim(*, owner: str, key: str, method: str, path: str,
                      fingerprint: str) -> IdempotencyClaim:
    """Reserve ``key`` for this request, or return the stored first answer.

    The reservation is a row insert, so two concurrent requests with one key cannot both
    run: the second sees the in-flight row and is told to retry.
    """
    if not key or len(key) > 255:
        raise IdempotencyConflict("An Idempotency-Key must be 1-255 characters.")
    cutoff = timezone.now() - timedelta(hours=settings.CUTROOM_IDEMPOTENCY_HOURS)
    IdempotencyRecord.objects.filter(owner=owner, key=key, created_at__lt=cutoff).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                owner=owner, key=key, method=method, path=path[:500], fingerprint=fingerprint)
        return IdempotencyClaim(record=record, replay=False)
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
    if existing is None:  # expired and deleted by a concurrent request: treat as new
        return idempotency_claim(owner=owner, key=key, method=method, path=path,
                                 fingerprint=fingerprint)
    record = existing
    if (record.method, record.path, record.fingerprint) != (method, path[:500], fingerprint):
        raise IdempotencyConflict(
            "This Idempotency-Key was already used for a different request.")
    if record.status_code is None:
        raise IdempotencyConflict(
            "A request with this Idempotency-Key is still being processed; retry shortly.")
    return IdempotencyClaim(record=record, replay=True)


def idempotency_store(*, record: IdempotencyRecord, status_code: int, body: bytes,
                      content_type: str) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=status_code, body=body, content_type=content_type[:100])


def idempotency_purge() -> int:
    """Drop records past the replay window (run by the periodic webhook task)."""
    cutoff = timezone.now() - timedelta(hours=settings.CUTROOM_IDEMPOTENCY_HOURS)
    return IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()[0]


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """The request failed without creating anything: the key may be used again."""
    IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).delete()

"""Webhook subscriptions and deliveries: Standard Webhooks signing, SSRF-safe sending,
retries with exponential back-off for about 24 h, the delivery log (paged, by status),
manual redelivery and automatic disabling of endpoints that have failed for the whole retry
window. A disabled subscription keeps its waiting deliveries and goes on recording its events
(paused, not sent); enabling it sends them, except those older than the retry window, which
end failed as expired (a Redeliver sends them) rather than arriving as a flood of stale
events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import enqueue
from .api_models import DeliveryStatus, WebhookDelivery, WebhookEvent, WebhookSubscription
from .paging import Page, newest_first

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's marker, not a secret
SIGNATURE_TOLERANCE = 300  # seconds a receiver should accept between timestamp and now
MAX_RESPONSE_BYTES = 64 * 1024
LOG_ENTRIES = 50
REDELIVER_GRACE = timedelta(seconds=60)
# Messages sent in one go (sweeper, re-enable, bulk redeliver); the sweeper sends the rest.
SEND_BATCH = 1000


class UnsafeUrl(ValueError):
    pass


# --- signing (https://www.standardwebhooks.com/) ---------------------------------------------


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, the webhook-signature value."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(*, secret: str, headers: Mapping[str, str], body: bytes,
           tolerance: int = SIGNATURE_TOLERANCE, now: float | None = None) -> bool:
    """What a receiver does: check the timestamp window and any one of the v1 signatures."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp = lower.get("webhook-id", ""), lower.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(stamp)) > tolerance:
        return False
    expected = sign(secret=secret, msg_id=msg_id, timestamp=int(stamp), body=body)
    return any(hmac.compare_digest(expected, candidate)
               for candidate in lower.get("webhook-signature", "").split())


def msg_id_new() -> str:
    """``msg_`` + 26 Crockford base32 characters: milliseconds first, so ids sort by time."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(alphabet[rem])
    return "msg_" + "".join(reversed(chars))


# --- SSRF guard and sending -------------------------------------------------------------------


def _addresses(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeUrl(f"The host {host!r} cannot be resolved ({exc.strerror}).")
    # an IP family's sockaddr starts with the address text (typeshed's union also has int)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local-use) and 6to4 (RFC 3056): IPv6 forms
# that carry an IPv4 address the packet ends up at. Python calls most of them global.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, IPv4-compatible, 6to4 or well-known NAT64 address
    wraps (None for plain IPv6)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64_WELL_KNOWN or ip in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_is_public(address: str) -> bool:
    """True when ``address`` (as getaddrinfo gives it) reaches the public internet; an IPv6
    address that wraps an IPv4 one (``::127.0.0.1``, ``64:ff9b::a9fe:a9fe``,
    ``2002:7f00:1::``) is judged by the IPv4 address it wraps."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            ip = inner
        elif ip in _NAT64_LOCAL:
            # Where the IPv4 bits sit depends on the local translator's prefix length.
            return False
    return ip.is_global and not ip.is_multicast


def url_check(url: str, *, resolve: bool = True) -> tuple[str, int, list[str]]:
    """(host, port, addresses) of an allowed webhook URL; raises UnsafeUrl with a message.

    https only unless CUTROOM_WEBHOOK_ALLOW_HTTP; every address the name resolves to must be
    public unless CUTROOM_WEBHOOK_ALLOW_PRIVATE (loopback, private, link-local, metadata).
    """
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise UnsafeUrl("Enter a valid http(s) URL.")
    parts = urlsplit(url)
    if parts.scheme != "https" and not settings.CUTROOM_WEBHOOK_ALLOW_HTTP:
        raise UnsafeUrl("Webhook URLs must use https.")
    if parts.username or parts.password:
        raise UnsafeUrl("Webhook URLs must not carry a user name or password.")
    host = parts.hostname or ""
    try:
        port = parts.port  # ValueError past 65535 (the validator's pattern allows 5 digits)
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        # Port 0 is no port: urllib3 would connect to the scheme's default instead.
        raise UnsafeUrl("The URL's port must be between 1 and 65535.")
    port = port or (443 if parts.scheme == "https" else 80)
    if not resolve:
        return host, port, []
    addresses = _addresses(host, port)
    if not settings.CUTROOM_WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            if not address_is_public(address):
                raise UnsafeUrl(f"The host {host!r} resolves to a private or loopback "
                                f"address ({address.split('%', 1)[0]}); webhooks go to public "
                                "addresses only.")
    return host, port, addresses


def post_signed(*, url: str, headers: dict[str, str], body: bytes,
                timeout: float) -> tuple[int | None, str]:
    """POST once; (status code, error text). The connection goes to the address that was
    checked (no second DNS lookup to rebind), redirects are not followed."""
    try:
        host, port, addresses = url_check(url)
    except UnsafeUrl as exc:
        return None, str(exc)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    address = addresses[0]
    common: dict[str, Any] = {
        "port": port, "timeout": urllib3.Timeout(connect=timeout, read=timeout),
        "retries": False, "maxsize": 1}
    pool: urllib3.HTTPConnectionPool
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(address, server_hostname=host, assert_hostname=host,
                                           cert_reqs="CERT_REQUIRED", **common)
    else:
        pool = urllib3.HTTPConnectionPool(address, **common)
    host_header = parts.netloc.rsplit("@", 1)[-1]
    try:
        response = pool.urlopen("POST", path, body=body, headers={**headers, "Host": host_header},
                                redirect=False, retries=False, preload_content=False)
        try:
            response.read(MAX_RESPONSE_BYTES)
        finally:
            response.release_conn()
        if 300 <= response.status < 400:
            return response.status, "Redirects are not followed."
        return response.status, ""
    except urllib3.exceptions.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    except OSError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    finally:
        pool.close()


# --- subscriptions --------------------------------------------------------------------------


def _clean_events(events: Iterable[str]) -> list[str]:
    events = list(dict.fromkeys(e.strip() for e in events if e and e.strip()))
    if not events:
        raise ValidationError({"events": ["Pick at least one event."]})
    unknown = [e for e in events if e not in WebhookEvent.values]
    if unknown:
        raise ValidationError({"events": [f"Unknown event(s): {', '.join(unknown)}."]})
    return events


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    try:
        url_check(url)
    except UnsafeUrl as exc:
        raise ValidationError({"url": [str(exc)]})
    return url


@transaction.atomic
def subscription_create(*, user, url: str, events: Iterable[str],
                        description: str = "") -> WebhookSubscription:
    """Raises ValidationError (bad or unsafe URL, unknown events) with UI-ready messages."""
    return WebhookSubscription.objects.create(
        created_by=user if getattr(user, "is_authenticated", False) else None,
        url=_clean_url(url), events=_clean_events(events), description=description[:200],
        secret=secret_generate(),
    )


@transaction.atomic
def subscription_update(*, subscription: WebhookSubscription, url: str | None = None,
                        events: Iterable[str] | None = None, description: str | None = None,
                        is_active: bool | None = None) -> WebhookSubscription:
    if url is not None:
        subscription.url = _clean_url(url)
    if events is not None:
        subscription.events = _clean_events(events)
    if description is not None:
        subscription.description = description[:200]
    resume = is_active is True and not subscription.is_active
    if resume:  # before the row says active: only a disabled subscription's rows expire
        deliveries_expire(subscription_id=subscription.pk)
    if is_active is not None:
        subscription.is_active = is_active
        if is_active:  # re-enabled by a person: a fresh start
            subscription.failure_streak = 0
            subscription.failing_since = None
            subscription.disabled_reason = ""
    # Only what this call may change: a full save of a row read before a concurrent
    # "Rotate secret" would put the old secret back.
    subscription.save(update_fields=["url", "events", "description", "is_active",
                                     "failure_streak", "failing_since", "disabled_reason"])
    if resume:
        _deliveries_resume(subscription_id=subscription.pk)
    return subscription


@transaction.atomic
def subscription_secret_rotate(*, subscription: WebhookSubscription) -> WebhookSubscription:
    """A new signing secret. For CUTROOM_WEBHOOK_ROTATE_GRACE_SECONDS the replaced one keeps
    signing too (a second ``v1,`` signature), so a receiver can switch to the new secret
    without rejecting events in between; with 0 the old secret stops at once. Rotating again
    within the grace period drops the oldest secret (only the last replaced one is kept)."""
    sub = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    grace = settings.CUTROOM_WEBHOOK_ROTATE_GRACE_SECONDS
    sub.previous_secret = sub.secret if grace else ""
    sub.previous_secret_expires_at = (timezone.now() + timedelta(seconds=grace)
                                      if grace else None)
    sub.secret = secret_generate()
    sub.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return sub


def signatures(*, sub: WebhookSubscription, msg_id: str, timestamp: int, body: bytes,
               now: datetime | None = None) -> str:
    """The ``webhook-signature`` value: the current secret's signature, then the replaced
    secret's while its grace period lasts (space-separated, as Standard Webhooks allows)."""
    values = [sign(secret=sub.secret, msg_id=msg_id, timestamp=timestamp, body=body)]
    until = sub.previous_secret_expires_at
    if sub.previous_secret and until is not None and until > (now or timezone.now()):
        values.append(sign(secret=sub.previous_secret, msg_id=msg_id, timestamp=timestamp,
                           body=body))
    return " ".join(values)


EXPIRED_ERROR = ("Expired: not sent within the retry window (about {hours:.0f} h after the "
                 "event) because the subscription was disabled; Redeliver sends it.")


def _retry_window() -> timedelta:
    """How long after its event a delivery is sent without anyone asking (its retry
    schedule, ~24 h)."""
    return timedelta(seconds=sum(settings.CUTROOM_WEBHOOK_RETRY_DELAYS))


def deliveries_expire(*, subscription_id: int | None = None) -> int:
    """Fail the paused deliveries (disabled subscription) whose event is older than the
    retry window: enabling a subscription after a long outage must not fire days of stale
    events at once. They stay in the log, failed with the reason, for a deliberate
    Redeliver. The number expired."""
    window = _retry_window()
    rows = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, created_at__lt=timezone.now() - window,
        subscription__is_active=False, subscription__deleted_at__isnull=True)
    if subscription_id is not None:
        rows = rows.filter(subscription_id=subscription_id)
    return rows.update(status=DeliveryStatus.FAILED, next_attempt_at=None,
                       last_error=EXPIRED_ERROR.format(hours=window.total_seconds() / 3600))


def _deliveries_resume(*, subscription_id: int) -> int:
    """Queue the deliveries that came due while the subscription was disabled (after this
    transaction commits); later ones keep their own countdown messages."""
    ids = list(WebhookDelivery.objects.filter(
        subscription_id=subscription_id, status=DeliveryStatus.PENDING,
        next_attempt_at__lte=timezone.now(),
    ).order_by("pk").values_list("pk", flat=True)[:SEND_BATCH])
    if ids:
        enqueue.webhook_deliveries_enqueue(ids)
    return len(ids)


@transaction.atomic
def subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Soft delete; its waiting deliveries end failed (nobody can enable it again)."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        deleted_at=timezone.now(), is_active=False)
    WebhookDelivery.objects.filter(subscription_id=subscription.pk,
                                   status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None,
        last_error="The subscription was deleted.")


def subscriptions_live():
    return WebhookSubscription.objects.filter(deleted_at__isnull=True)


def subscription_get(*, pk: int) -> WebhookSubscription:
    return subscriptions_live().get(pk=pk)


def delivery_get(*, pk: int) -> WebhookDelivery:
    """A delivery of a live subscription; raises WebhookDelivery.DoesNotExist."""
    return WebhookDelivery.objects.select_related("subscription").get(
        pk=pk, subscription__deleted_at__isnull=True)


def deliveries_page(*, subscription: WebhookSubscription, status: str = "",
                    before: int | None = None, after: int | None = None,
                    size: int = 50) -> Page[WebhookDelivery]:
    """One page of the delivery log, newest first (``catalog.paging``)."""
    rows = subscription.deliveries.all()
    if status:
        rows = rows.filter(status=status)
    return newest_first(rows, before=before, after=after, size=size)


# --- deliveries -----------------------------------------------------------------------------


def deliveries_create(*, event_type: str, data: dict, timestamp: str,
                      more: Callable[[], dict] | None = None) -> list[int]:
    """One delivery per live subscription to ``event_type``. An active subscription's are
    queued for sending; a disabled one's are recorded paused and sent when it is enabled
    (an integrator re-enabling after fixing its receiver must not miss what happened
    meanwhile). ``more()`` (facts that cost a query) is added to ``data`` only when someone
    listens."""
    subs = [s for s in WebhookSubscription.objects.filter(
        deleted_at__isnull=True).only("pk", "events", "is_active")
        if event_type in (s.events or [])]
    if not subs:
        return []
    if more is not None:
        data = {**data, **more()}
    now = timezone.now()
    payload = {"type": event_type, "timestamp": timestamp, "data": data}
    rows = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(subscription_id=s.pk, msg_id=msg_id_new(), event_type=event_type,
                        payload=payload, next_attempt_at=now)
        for s in subs
    ])
    active = {s.pk for s in subs if s.is_active}
    ids = [r.pk for r in rows]
    enqueue.webhook_deliveries_send([r.pk for r in rows if r.subscription_id in active])
    return ids


def _claim(delivery_id: int) -> str | None:
    token = uuid.uuid4().hex
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now(),
    ).update(status=DeliveryStatus.SENDING, claim_token=token)
    return token if claimed else None


def delivery_attempt(*, delivery_id: int) -> str:
    """Send one due delivery. Returns 'delivered', 'retry', 'failed', 'paused' (the
    subscription is disabled: the delivery waits, unchanged, until it is enabled again) or
    'skipped' (not due, already sent, or another worker has it)."""
    token = _claim(delivery_id)
    if token is None:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    sub = delivery.subscription
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=token)
    if sub.deleted_at is not None:
        mine.update(status=DeliveryStatus.FAILED, next_attempt_at=None, claim_token="",
                    last_error="The subscription was deleted.")
        return "failed"
    if not sub.is_active:
        # Not an attempt: the event keeps its place in its retry schedule, and enabling the
        # subscription sends it (an outage must not turn queued events into failures).
        mine.update(status=DeliveryStatus.PENDING, claim_token="")
        return "paused"
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json", "User-Agent": "Cutroom-Webhooks/1",
        "webhook-id": delivery.msg_id, "webhook-timestamp": str(stamp),
        "webhook-signature": signatures(sub=sub, msg_id=delivery.msg_id, timestamp=stamp,
                                        body=body),
    }
    started = time.monotonic()
    code, error = post_signed(url=sub.url, headers=headers, body=body,
                              timeout=settings.CUTROOM_WEBHOOK_TIMEOUT)
    ok = code is not None and 200 <= code < 300
    if code is not None and not ok and not error:
        error = f"The endpoint answered {code}."
    entry = {"at": timezone.now().isoformat(), "code": code, "error": error,
             "ms": round((time.monotonic() - started) * 1000)}
    return _record(delivery, token, ok, code, error, entry)


def _record(delivery: WebhookDelivery, token: str, ok: bool, code: int | None, error: str,
            entry: dict) -> str:
    delays = settings.CUTROOM_WEBHOOK_RETRY_DELAYS
    attempts = delivery.attempts + 1
    log = (list(delivery.attempts_log) + [entry])[-LOG_ENTRIES:]
    now = timezone.now()
    fields = {"attempts": attempts, "attempts_log": log, "last_status_code": code,
              "last_error": error[:500], "claim_token": ""}
    if ok:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
        outcome = "delivered"
    elif attempts <= len(delays):
        delay = delays[attempts - 1]
        fields.update(status=DeliveryStatus.PENDING,
                      next_attempt_at=now + timedelta(seconds=delay))
        outcome = "retry"
    else:
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        outcome = "failed"
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=token).update(**fields)
        if ok:
            WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(
                failure_streak=0, failing_since=None)
        else:
            _failure_count(subscription_id=delivery.subscription_id, now=now,
                           last=error or str(code))
    if outcome == "retry":
        enqueue.webhook_delivery_enqueue(delivery.pk, countdown=delay)
    return outcome


def _failure_count(*, subscription_id: int, now: datetime, last: str) -> None:
    """Count a failed attempt; disable the subscription once its endpoint has failed without
    a single success for CUTROOM_WEBHOOK_DISABLE_AFTER_SECONDS (the retry window) and at least
    CUTROOM_WEBHOOK_DISABLE_AFTER attempts. A burst of events meeting a short outage fails
    many first attempts within seconds: that alone must never disable it (each event keeps
    its ~24 h of retries)."""
    rows = WebhookSubscription.objects.filter(pk=subscription_id)
    rows.filter(failing_since__isnull=True).update(failing_since=now)
    rows.update(failure_streak=F("failure_streak") + 1)
    window = timedelta(seconds=settings.CUTROOM_WEBHOOK_DISABLE_AFTER_SECONDS)
    streak = settings.CUTROOM_WEBHOOK_DISABLE_AFTER
    failing = rows.filter(is_active=True, failure_streak__gte=streak,
                          failing_since__lte=now - window)
    sub = failing.only("failure_streak", "failing_since").first()
    if sub is None or sub.failing_since is None:
        return
    hours = (now - sub.failing_since).total_seconds() / 3600
    # The last error goes at the end: it may be long, and the cut must not take the rest.
    if failing.update(is_active=False, disabled_reason=(
            f"Disabled after {sub.failure_streak} failed attempts in a row over "
            f"{hours:.1f} h without a success. Waiting deliveries and new events are kept "
            f"and sent when it is enabled again. Last: {last}")[:300]):
        logger.warning("webhook subscription %s disabled", subscription_id)


def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send again now (same webhook-id, so receivers can de-duplicate)."""
    sub = delivery.subscription
    if not sub.is_active:
        raise ValidationError("The subscription is disabled; enable it first.")
    if not WebhookDelivery.objects.filter(pk=delivery.pk).exclude(
            status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), last_error=""):
        raise ValidationError("This delivery is being sent right now.")
    enqueue.webhook_delivery_enqueue(delivery.pk)
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def deliveries_redeliver_failed(*, subscription: WebhookSubscription) -> int:
    """Send every failed delivery of ``subscription`` again (same webhook-ids); the number
    queued. Each gets one more attempt (and the rest of its schedule if it never used it)."""
    if not subscription.is_active:
        raise ValidationError("The subscription is disabled; enable it first.")
    rows = WebhookDelivery.objects.filter(subscription_id=subscription.pk,
                                          status=DeliveryStatus.FAILED)
    count = rows.update(status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(),
                        last_error="")
    _deliveries_resume(subscription_id=subscription.pk)  # the sweeper sends any beyond it
    return count


def deliveries_resend_due() -> int:
    """Re-send due deliveries whose message was lost (worker restart dropped a countdown),
    and free rows stuck in 'sending' by a dead worker. Duplicates are harmless (CAS)."""
    now = timezone.now()
    stuck = now - timedelta(seconds=settings.CUTROOM_WEBHOOK_TIMEOUT * 4 + 60)
    WebhookDelivery.objects.filter(status=DeliveryStatus.SENDING,
                                   next_attempt_at__lt=stuck).update(
        status=DeliveryStatus.PENDING, claim_token="")
    deliveries_expire()  # so the log of a disabled subscription says what will not go out
    # A disabled subscription's deliveries wait for it to be enabled (which sends them):
    # re-sending them every minute would only crowd out the deliveries that can go.
    ids = list(WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lt=now - REDELIVER_GRACE,
        subscription__is_active=True, subscription__deleted_at__isnull=True,
    ).values_list("pk", flat=True)[:SEND_BATCH])
    enqueue.webhook_deliveries_send(ids)
    return len(ids)

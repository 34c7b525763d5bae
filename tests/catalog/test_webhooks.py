"""catalog/webhooks.py: disabling only after a long outage, waiting (not failing) while
disabled, resuming on re-enable, the paged delivery log, bulk redelivery, the SSRF guard's
IPv6 forms that wrap IPv4, and the webhooks queue."""

import socket
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from catalog import webhooks
from catalog.api_models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from tests.api.receiver import Receiver
from tests.factories import manager

pytestmark = pytest.mark.django_db

DOWN = "http://127.0.0.1:9/down"  # discard port: connection refused at once
LOOPBACK = override_settings(CUTROOM_WEBHOOK_ALLOW_PRIVATE=True, CUTROOM_WEBHOOK_ALLOW_HTTP=True,
                             CUTROOM_WEBHOOK_TIMEOUT=2)


@pytest.fixture
def sent(webhook_sends):
    return webhook_sends


def _events(n: int, event_type: str = "cutout.done") -> list[int]:
    ids = []
    for i in range(n):
        ids += webhooks.deliveries_create(event_type=event_type, data={"cutout_id": i},
                                          timestamp="2026-01-01T00:00:00+00:00")
    return ids


def _due_now(**filters) -> None:
    """Play the clock forward: the deliveries' next attempt is due."""
    WebhookDelivery.objects.filter(**filters).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))


def _failing_for(sub: WebhookSubscription, seconds: float) -> None:
    WebhookSubscription.objects.filter(pk=sub.pk).update(
        failing_since=timezone.now() - timedelta(seconds=seconds))


@LOOPBACK
def test_it_keeps_every_event_scheduled_when_a_burst_fails_its_first_attempts(sent):
    # The QA run: a batch of 34 emits 47 events to a receiver that is down.
    sub = webhooks.subscription_create(user=manager(), url=DOWN,
                                       events=["cutout.done", "cutout.approved"])
    ids = _events(34) + _events(13, "cutout.approved")
    assert len(ids) == 47
    assert [webhooks.delivery_attempt(delivery_id=pk) for pk in ids] == ["retry"] * 47
    sub.refresh_from_db()
    assert sub.is_active and sub.disabled_reason == ""
    assert sub.failure_streak == 47 and sub.failing_since is not None
    rows = WebhookDelivery.objects.all()
    assert {(r.status, r.attempts) for r in rows} == {(DeliveryStatus.PENDING, 1)}
    assert all(r.next_attempt_at > timezone.now() for r in rows)


@LOOPBACK
@override_settings(CUTROOM_WEBHOOK_DISABLE_AFTER=3, CUTROOM_WEBHOOK_DISABLE_AFTER_SECONDS=3600)
def test_it_disables_only_after_failing_for_the_whole_window(sent):
    sub = webhooks.subscription_create(user=manager(), url=DOWN, events=["cutout.done"])
    first, second = _events(2)
    for _ in range(3):  # six failures in a row, all within the window
        _due_now()
        webhooks.delivery_attempt(delivery_id=first)
        webhooks.delivery_attempt(delivery_id=second)
    sub.refresh_from_db()
    assert sub.is_active and sub.failure_streak == 6
    _failing_for(sub, 3601)
    _due_now(pk=first)
    assert webhooks.delivery_attempt(delivery_id=first) == "retry"
    sub.refresh_from_db()
    assert not sub.is_active
    assert "7 failed attempts in a row over 1.0 h" in sub.disabled_reason
    # The delivery that failed keeps its schedule; none was marked failed by the disabling.
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"pending"}


@LOOPBACK
@override_settings(CUTROOM_WEBHOOK_DISABLE_AFTER=3, CUTROOM_WEBHOOK_DISABLE_AFTER_SECONDS=60)
def test_it_needs_the_minimum_count_too(sent):
    sub = webhooks.subscription_create(user=manager(), url=DOWN, events=["cutout.done"])
    (pk,) = _events(1)
    webhooks.delivery_attempt(delivery_id=pk)
    _failing_for(sub, 3600)
    _due_now()
    webhooks.delivery_attempt(delivery_id=pk)
    sub.refresh_from_db()
    assert sub.is_active and sub.failure_streak == 2


@LOOPBACK
def test_it_starts_the_streak_again_after_a_success(sent):
    with Receiver(codes=[500]) as rx:
        sub = webhooks.subscription_create(user=manager(), url=rx.url, events=["cutout.done"])
        (pk,) = _events(1)
        assert webhooks.delivery_attempt(delivery_id=pk) == "retry"
        sub.refresh_from_db()
        assert sub.failure_streak == 1 and sub.failing_since is not None
        _due_now()
        assert webhooks.delivery_attempt(delivery_id=pk) == "delivered"
    sub.refresh_from_db()
    assert sub.failure_streak == 0 and sub.failing_since is None


@LOOPBACK
def test_it_keeps_deliveries_waiting_while_disabled_and_sends_them_when_enabled(
        sent, django_capture_on_commit_callbacks):
    sub = webhooks.subscription_create(user=manager(), url=DOWN, events=["cutout.done"])
    ids = _events(3)
    webhooks.delivery_attempt(delivery_id=ids[0])  # one failed attempt before the outage ends
    webhooks.subscription_update(subscription=sub, is_active=False)
    _due_now()
    assert [webhooks.delivery_attempt(delivery_id=pk) for pk in ids] == ["paused"] * 3
    rows = {d.pk: d for d in WebhookDelivery.objects.all()}
    assert {d.status for d in rows.values()} == {DeliveryStatus.PENDING}
    assert [rows[pk].attempts for pk in ids] == [1, 0, 0]
    assert rows[ids[1]].last_error == "" and rows[ids[1]].claim_token == ""
    # The sweeper leaves them alone: re-sending every minute would crowd out the others.
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    sent.clear()
    assert webhooks.deliveries_resend_due() == 0 and sent == []

    with Receiver() as rx:
        WebhookSubscription.objects.filter(pk=sub.pk).update(url=rx.url)
        sub.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            webhooks.subscription_update(subscription=sub, is_active=True)
        assert sent == []  # only once the enabling commits
        for callback in callbacks:
            callback()
        assert sorted(sent) == sorted(ids)
        assert [webhooks.delivery_attempt(delivery_id=pk) for pk in ids] == ["delivered"] * 3
    assert len(rx.requests) == 3
    sub.refresh_from_db()
    assert sub.is_active and sub.failure_streak == 0 and sub.disabled_reason == ""


@LOOPBACK
def test_it_records_events_while_disabled_and_sends_them_when_enabled(
        sent, django_capture_on_commit_callbacks):
    sub = webhooks.subscription_create(user=manager(), url=DOWN, events=["cutout.done"])
    other = webhooks.subscription_create(user=manager(), url=DOWN, events=["cutout.done"])
    webhooks.subscription_update(subscription=sub, is_active=False)
    ids = _events(2)
    mine = list(WebhookDelivery.objects.filter(subscription=sub).values_list("pk", flat=True))
    assert len(mine) == 2  # recorded, not dropped
    # Only the active subscription's are queued; the disabled one's wait, paused.
    assert sorted(sent) == sorted(set(ids) - set(mine))
    assert {d.status for d in WebhookDelivery.objects.filter(pk__in=mine)} == {"pending"}
    assert [webhooks.delivery_attempt(delivery_id=pk) for pk in mine] == ["paused"] * 2
    WebhookDelivery.objects.filter(pk__in=mine).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5))
    sent.clear()
    webhooks.deliveries_resend_due()
    assert set(sent).isdisjoint(mine)  # the sweeper leaves paused ones alone

    with Receiver() as rx:
        WebhookSubscription.objects.filter(pk=sub.pk).update(url=rx.url)
        sub.refresh_from_db()
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.subscription_update(subscription=sub, is_active=True)
        assert sorted(sent) == sorted(mine)
        assert [webhooks.delivery_attempt(delivery_id=pk) for pk in mine] == ["delivered"] * 2
    assert len(rx.requests) == 2
    assert other.deliveries.count() == 2


@LOOPBACK
@override_settings(CUTROOM_WEBHOOK_RETRY_DELAYS=[60, 3540])  # a retry window of 1 h
def test_it_expires_paused_events_older_than_the_retry_window_instead_of_sending_them(
        sent, django_capture_on_commit_callbacks):
    sub = webhooks.subscription_create(user=manager(), url=DOWN, events=["cutout.done"])
    webhooks.subscription_update(subscription=sub, is_active=False)
    stale, fresh = _events(2)
    WebhookDelivery.objects.filter(pk=stale).update(
        created_at=timezone.now() - timedelta(hours=1, seconds=1))
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.subscription_update(subscription=sub, is_active=True)
    assert sent == [fresh]  # no flood of stale events
    expired = WebhookDelivery.objects.get(pk=stale)
    assert expired.status == DeliveryStatus.FAILED and expired.next_attempt_at is None
    assert expired.last_error.startswith("Expired: not sent within the retry window (about 1 h")
    assert expired.attempts == 0 and expired.attempts_log == []
    # Still there for a deliberate redelivery, with its webhook-id.
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.deliveries_redeliver_failed(subscription=sub) == 1
    assert stale in sent


@override_settings(CUTROOM_WEBHOOK_RETRY_DELAYS=[60, 3540])
def test_it_marks_a_disabled_subscriptions_stale_events_expired_in_the_sweeper(sent):
    sub = WebhookSubscription.objects.create(url="https://example.com/h", events=["cutout.done"],
                                             secret=webhooks.secret_generate(), is_active=False)
    live = WebhookSubscription.objects.create(url="https://example.com/l",
                                              events=["cutout.done"],
                                              secret=webhooks.secret_generate())
    _events(1)
    old = timezone.now() - timedelta(hours=2)
    WebhookDelivery.objects.update(created_at=old, next_attempt_at=old)
    webhooks.deliveries_resend_due()
    statuses = dict(WebhookDelivery.objects.values_list("subscription_id", "status"))
    # The log of the disabled one says it will not go out; an active one's retry schedule
    # is its own business.
    assert statuses == {sub.pk: DeliveryStatus.FAILED, live.pk: DeliveryStatus.PENDING}


@LOOPBACK
@override_settings(CUTROOM_WEBHOOK_RETRY_DELAYS=[0, 0])
def test_it_still_fails_a_delivery_past_its_retry_schedule(sent):
    sub = webhooks.subscription_create(user=manager(), url=DOWN, events=["cutout.done"])
    (pk,) = _events(1)
    assert [webhooks.delivery_attempt(delivery_id=pk) for _ in range(3)] == \
        ["retry", "retry", "failed"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 3
    assert delivery.next_attempt_at is None
    sub.refresh_from_db()
    assert sub.is_active  # three failures in a few milliseconds are no reason to disable


def test_it_fails_waiting_deliveries_when_the_subscription_is_deleted(sent):
    sub = WebhookSubscription.objects.create(url="https://example.com/h", events=["cutout.done"],
                                             secret=webhooks.secret_generate())
    (pk,) = _events(1)
    webhooks.subscription_delete(subscription=sub)
    delivery = WebhookDelivery.objects.get(pk=pk)
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert delivery.last_error == "The subscription was deleted."
    assert webhooks.delivery_attempt(delivery_id=pk) == "skipped"


def _log(sub, statuses):
    rows = []
    for status in statuses:
        rows.append(WebhookDelivery.objects.create(
            subscription=sub, msg_id=webhooks.msg_id_new(), event_type="cutout.done",
            payload={}, status=status))
    return rows


def test_it_pages_the_delivery_log_newest_first_by_status(django_assert_num_queries):
    sub = WebhookSubscription.objects.create(url="https://example.com/h", events=["cutout.done"],
                                             secret=webhooks.secret_generate())
    rows = _log(sub, ["failed", "delivered"] * 4 + ["failed"])  # 9 rows, 5 failed
    newest = [r.pk for r in reversed(rows)]
    with django_assert_num_queries(1):
        first = webhooks.deliveries_page(subscription=sub, size=4)
    assert [d.pk for d in first.items] == newest[:4] and first.newer is None
    second = webhooks.deliveries_page(subscription=sub, before=first.older, size=4)
    third = webhooks.deliveries_page(subscription=sub, before=second.older, size=4)
    assert [d.pk for d in second.items] == newest[4:8]
    assert [d.pk for d in third.items] == newest[8:] and third.older is None
    back = webhooks.deliveries_page(subscription=sub, after=third.newer, size=4)
    assert [d.pk for d in back.items] == newest[4:8] and back.older == second.older
    top = webhooks.deliveries_page(subscription=sub, after=back.newer, size=4)
    assert [d.pk for d in top.items] == newest[:4] and top.newer is None

    failed = webhooks.deliveries_page(subscription=sub, status="failed", size=3)
    assert [d.pk for d in failed.items] == [r.pk for r in reversed(rows) if r.status ==
                                            "failed"][:3]
    rest = webhooks.deliveries_page(subscription=sub, status="failed", before=failed.older,
                                    size=3)
    assert len(rest.items) == 2 and rest.older is None
    assert {d.status for d in failed.items + rest.items} == {"failed"}


def test_it_redelivers_every_failed_delivery_after_commit(sent,
                                                         django_capture_on_commit_callbacks):
    sub = WebhookSubscription.objects.create(url="https://example.com/h", events=["cutout.done"],
                                             secret=webhooks.secret_generate())
    rows = _log(sub, ["failed", "delivered", "failed"])
    WebhookDelivery.objects.filter(status="failed").update(last_error="The endpoint answered 503.")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert webhooks.deliveries_redeliver_failed(subscription=sub) == 2
    assert sent == []
    for callback in callbacks:
        callback()
    assert sorted(sent) == [rows[0].pk, rows[2].pk]
    again = WebhookDelivery.objects.filter(pk__in=sent)
    assert {(d.status, d.last_error) for d in again} == {(DeliveryStatus.PENDING, "")}
    assert WebhookDelivery.objects.get(pk=rows[1].pk).status == DeliveryStatus.DELIVERED

    webhooks.subscription_update(subscription=sub, is_active=False)
    with pytest.raises(ValidationError, match="enable it first"):
        webhooks.deliveries_redeliver_failed(subscription=sub)


def test_it_clears_the_stale_error_when_redelivering_one(sent):
    sub = WebhookSubscription.objects.create(url="https://example.com/h", events=["cutout.done"],
                                             secret=webhooks.secret_generate())
    (row,) = _log(sub, ["failed"])
    WebhookDelivery.objects.filter(pk=row.pk).update(last_error="The endpoint answered 503.")
    row.refresh_from_db()
    again = webhooks.delivery_redeliver(delivery=row)
    assert again.status == DeliveryStatus.PENDING and again.last_error == ""


@pytest.mark.parametrize("address", [
    "::127.0.0.1",            # IPv4-compatible loopback
    "::ffff:10.1.2.3",        # IPv4-mapped private
    "64:ff9b::a9fe:a9fe",     # NAT64 of 169.254.169.254 (cloud metadata)
    "2002:7f00:1::",          # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",      # 6to4 of the metadata address
    "64:ff9b:1::a9fe:a9fe",   # local-use NAT64: refused whatever it wraps
    "::",
])
def test_it_refuses_ipv6_forms_that_wrap_a_private_ipv4(address):
    with pytest.raises(webhooks.UnsafeUrl, match="private or loopback"):
        webhooks.url_check(f"https://[{address}]/hook")


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1",
                                     "::ffff:8.8.8.8", "2606:4700:4700::1111"])
def test_it_judges_a_wrapped_public_ipv4_as_public(address):
    assert webhooks.address_is_public(address)


def test_it_refuses_a_name_that_rebinds_to_a_wrapped_loopback_at_delivery(monkeypatch):
    answers = {"hooks.example.com": "93.184.215.14"}

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (answers[host], port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    sub = webhooks.subscription_create(user=manager(), url="https://hooks.example.com/h",
                                       events=["cutout.done"])
    answers["hooks.example.com"] = "::ffff:127.0.0.1"  # DNS now points at loopback
    code, error = webhooks.post_signed(url=sub.url, headers={}, body=b"{}", timeout=1)
    assert code is None and "private or loopback" in error and "127.0.0.1" in error


def test_it_sends_deliveries_on_their_own_queue():
    from config.celery import app

    route = app.amqp.router.route({}, "catalog.webhook_tasks.webhook_delivery_task")
    assert route["queue"].name == "webhooks"
    assert "webhooks" in {q.name for q in settings.CELERY_TASK_QUEUES}
    # Imports and exports stay on default, away from slow receivers.
    for task in ("catalog.tasks.import_job_run_task", "cutouts.tasks.export_job_run_task"):
        assert app.amqp.router.route({}, task)["queue"].name == "default"


def test_it_has_a_worker_for_the_webhooks_queue_in_dev_and_test_workers():
    import inspect

    import dev
    from tests import workers

    assert "cutouts-interactive,cutouts,default,webhooks" in inspect.getsource(dev.cmd_run)
    default = inspect.signature(workers.start_worker).parameters["queues"].default
    assert "webhooks" in default.split(",")


# --- editing and secret rotation ------------------------------------------------------------


def _sub(**fields):
    return WebhookSubscription.objects.create(
        url="https://example.com/h", events=["cutout.done"], secret=webhooks.secret_generate(),
        **fields)


def test_it_edits_url_events_and_description_with_the_checks_of_creation(public_dns):
    sub = _sub()
    secret = sub.secret
    webhooks.subscription_update(subscription=sub, url=" https://example.org/new ",
                                 events=["export.finished", "export.finished"],
                                 description="PIM")
    sub.refresh_from_db()
    assert (sub.url, sub.events, sub.description) == (
        "https://example.org/new", ["export.finished"], "PIM")
    assert sub.secret == secret
    with pytest.raises(ValidationError) as refused:
        webhooks.subscription_update(subscription=sub, url="https://127.0.0.1/x")
    assert "private or loopback" in refused.value.message_dict["url"][0]
    with pytest.raises(ValidationError):
        webhooks.subscription_update(subscription=sub, url="http://example.org/plain")
    with pytest.raises(ValidationError):
        webhooks.subscription_update(subscription=sub, events=["nope"])
    sub.refresh_from_db()
    assert sub.url == "https://example.org/new" and sub.events == ["export.finished"]


def test_it_keeps_a_concurrent_rotation_when_an_edit_is_saved():
    sub = _sub()
    stale = WebhookSubscription.objects.get(pk=sub.pk)  # a page read before the rotation
    rotated = webhooks.subscription_secret_rotate(subscription=sub)
    webhooks.subscription_update(subscription=stale, description="edited")
    sub.refresh_from_db()
    assert sub.secret == rotated.secret and sub.description == "edited"


def test_it_signs_with_the_old_and_the_new_secret_during_the_grace_period():
    sub = _sub()
    old = sub.secret
    before = timezone.now()
    sub = webhooks.subscription_secret_rotate(subscription=sub)
    assert sub.secret != old and sub.secret.startswith("whsec_")
    grace = timedelta(seconds=settings.CUTROOM_WEBHOOK_ROTATE_GRACE_SECONDS)
    assert grace == timedelta(hours=24)
    assert sub.previous_secret == old
    assert before + grace <= sub.previous_secret_expires_at <= timezone.now() + grace
    stamp = int(time.time())
    value = webhooks.signatures(sub=sub, msg_id="msg_1", timestamp=stamp, body=b"{}")
    assert len(value.split()) == 2
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(stamp), "webhook-signature": value}
    assert webhooks.verify(secret=old, headers=headers, body=b"{}")
    assert webhooks.verify(secret=sub.secret, headers=headers, body=b"{}")
    later = sub.previous_secret_expires_at + timedelta(seconds=1)
    value = webhooks.signatures(sub=sub, msg_id="msg_1", timestamp=stamp, body=b"{}", now=later)
    headers["webhook-signature"] = value
    assert len(value.split()) == 1
    assert webhooks.verify(secret=sub.secret, headers=headers, body=b"{}")
    assert not webhooks.verify(secret=old, headers=headers, body=b"{}")


def test_it_drops_the_oldest_secret_when_rotating_twice_within_the_grace_period():
    sub = _sub()
    first = sub.secret
    second = webhooks.subscription_secret_rotate(subscription=sub).secret
    sub = webhooks.subscription_secret_rotate(subscription=sub)
    assert sub.previous_secret == second and first not in (sub.secret, sub.previous_secret)


@override_settings(CUTROOM_WEBHOOK_ROTATE_GRACE_SECONDS=0)
def test_it_stops_the_old_secret_at_once_without_a_grace_period():
    sub = _sub()
    old = sub.secret
    sub = webhooks.subscription_secret_rotate(subscription=sub)
    assert sub.previous_secret == "" and sub.previous_secret_expires_at is None
    stamp = int(time.time())
    value = webhooks.signatures(sub=sub, msg_id="msg_1", timestamp=stamp, body=b"{}")
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(stamp), "webhook-signature": value}
    assert webhooks.verify(secret=sub.secret, headers=headers, body=b"{}")
    assert not webhooks.verify(secret=old, headers=headers, body=b"{}")


def test_it_sends_both_signatures_after_a_rotation(sent, monkeypatch):
    sub = _sub()
    old = sub.secret
    sub = webhooks.subscription_secret_rotate(subscription=sub)
    posted: list[tuple[dict, bytes]] = []

    def post(*, url, headers, body, timeout):
        posted.append((headers, body))
        return 204, ""

    monkeypatch.setattr(webhooks, "post_signed", post)
    (pk,) = _events(1)
    assert webhooks.delivery_attempt(delivery_id=pk) == "delivered"
    headers, body = posted[0]
    assert len(headers["webhook-signature"].split()) == 2
    assert webhooks.verify(secret=old, headers=headers, body=body)
    assert webhooks.verify(secret=sub.secret, headers=headers, body=body)

"""The webhook subscription page (catalog/api_views.py webhook_detail): status filter, older
and newer pages, why a delivery failed, waiting deliveries, bulk redelivery, unknown actions."""

import re

import pytest
from django.contrib.messages import get_messages

from catalog import webhooks
from catalog.api_models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from catalog.api_views import DELIVERY_PAGE_SIZE
from tests.factories import manager, reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(webhook_sends):
    return webhook_sends


@pytest.fixture
def sub():
    return WebhookSubscription.objects.create(url="https://example.com/h", events=["cutout.done"],
                                              secret=webhooks.secret_generate())


@pytest.fixture
def page(client, sub):
    client.force_login(manager())
    return lambda **params: client.get(f"/api/webhooks/{sub.pk}/", params)


def _delivery(sub, status="failed", **fields):
    return WebhookDelivery.objects.create(subscription=sub, msg_id=webhooks.msg_id_new(),
                                          event_type="cutout.done", payload={}, status=status,
                                          **fields)


def _rows(html: str) -> list[str]:
    body = html.split('<tbody>', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<code>(msg_\w+)</code>", body)


def _cells(html: str) -> list[str]:
    row = html.split('<tbody>', 1)[1].split("</tr>", 1)[0]
    return re.findall(r"<td>(.*?)</td>", row, re.S)


def test_it_shows_why_a_delivery_failed_without_attempts_and_no_past_next_attempt(page, sub):
    from django.utils import timezone

    _delivery(sub, attempts=0, last_error="The subscription is disabled.",
              next_attempt_at=timezone.now())
    cells = _cells(page().content.decode())
    assert "The subscription is disabled." in cells[4]  # last response
    assert cells[5] == "—"  # a failed delivery has no next attempt


def test_it_shows_why_an_expired_delivery_with_attempts_was_not_sent(page, sub):
    _delivery(sub, attempts=1, last_error=webhooks.EXPIRED_ERROR.format(hours=24),
              attempts_log=[{"at": "2026-01-01T00:00:00+00:00", "code": 500,
                             "error": "The endpoint answered 500.", "ms": 3}])
    cells = _cells(page().content.decode())
    assert "Expired: not sent within the retry window (about 24 h" in cells[4]


def test_it_does_not_repeat_the_last_attempts_error_under_last_response(page, sub):
    _delivery(sub, attempts=1, last_error="The endpoint answered 500.", last_status_code=500,
              attempts_log=[{"at": "2026-01-01T00:00:00+00:00", "code": 500,
                             "error": "The endpoint answered 500.", "ms": 3}])
    assert "delivery-error" not in _cells(page().content.decode())[4]


def test_it_says_a_waiting_delivery_waits_for_the_disabled_subscription(page, sub):
    from django.utils import timezone

    _delivery(sub, status=DeliveryStatus.PENDING, next_attempt_at=timezone.now())
    WebhookSubscription.objects.filter(pk=sub.pk).update(is_active=False,
                                                         disabled_reason="Disabled by hand.")
    assert "waits until the webhook is enabled" in _cells(page().content.decode())[5]


def test_it_filters_by_status_and_links_older_and_newer_pages(page, sub):
    rows = [_delivery(sub, status="failed" if i % 2 else "delivered")
            for i in range(2 * DELIVERY_PAGE_SIZE + 3)]
    newest_failed = [r.msg_id for r in reversed(rows) if r.status == "failed"]
    first = page(status="failed").content.decode()
    assert _rows(first) == newest_failed[:DELIVERY_PAGE_SIZE]
    assert "‹ Newer" not in first
    older = re.search(r'href="\?status=failed&amp;before=(\d+)"', first)
    assert older
    second = page(status="failed", before=older.group(1)).content.decode()
    assert _rows(second) == newest_failed[DELIVERY_PAGE_SIZE:2 * DELIVERY_PAGE_SIZE]
    newer = re.search(r'href="\?status=failed&amp;after=(\d+)"', second)
    assert newer and "« Newest" in second
    back = page(status="failed", after=newer.group(1)).content.decode()
    assert _rows(back) == _rows(first)
    assert "« Newest" not in back  # back at the newest page: nothing newer to jump to
    # Nonsense in the query string is ignored, not a 500.
    assert page(status="nope", before="x", after="-1").status_code == 200


def test_it_redelivers_every_failed_delivery_from_the_page(client, sub, sent,
                                                          django_capture_on_commit_callbacks):
    failed = [_delivery(sub, last_error="The endpoint answered 503.") for _ in range(3)]
    _delivery(sub, status="delivered")
    client.force_login(manager())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/webhooks/{sub.pk}/?status=failed",
                               {"action": "redeliver_failed"})
    # back to the log as it was filtered
    assert (response.status_code, response["Location"]) == (
        302, f"/api/webhooks/{sub.pk}/?status=failed")
    assert sorted(sent) == [d.pk for d in failed]
    assert "3 failed deliveries queued again." in [
        str(m) for m in get_messages(response.wsgi_request)]
    assert set(WebhookDelivery.objects.filter(pk__in=sent).values_list(
        "status", "last_error")) == {("pending", "")}
    client.force_login(reviewer())
    assert client.post(f"/api/webhooks/{sub.pk}/",
                       {"action": "redeliver_failed"}).status_code == 403


def test_it_answers_400_to_an_unknown_action(client, sub):
    client.force_login(manager())
    response = client.post(f"/api/webhooks/{sub.pk}/", {"action": "explode"})
    assert response.status_code == 400
    assert "Unknown action" in response.content.decode()
    sub.refresh_from_db()
    assert sub.is_active and sub.deleted_at is None


def test_it_sends_waiting_deliveries_when_enabled_from_the_page(client, sub, sent,
                                                               django_capture_on_commit_callbacks):
    from django.utils import timezone

    waiting = _delivery(sub, status=DeliveryStatus.PENDING, next_attempt_at=timezone.now())
    client.force_login(manager())
    client.post(f"/api/webhooks/{sub.pk}/", {"action": "disable"})
    assert webhooks.delivery_attempt(delivery_id=waiting.pk) == "paused"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/api/webhooks/{sub.pk}/", {"action": "enable"})
    assert sent == [waiting.pk]


def test_it_clears_the_stale_error_on_redeliver(client, sub, sent):
    delivery = _delivery(sub, last_error="The endpoint answered 503.")
    client.force_login(manager())
    client.post(f"/api/webhooks/deliveries/{delivery.pk}/redeliver")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_error == ""


# --- editing and secret rotation ------------------------------------------------------------


def test_it_edits_a_webhook_and_keeps_its_secret_and_log(client, sub, public_dns):
    delivery = _delivery(sub)
    secret = sub.secret
    client.force_login(manager())
    form = client.get(f"/api/webhooks/{sub.pk}/edit")
    assert form.status_code == 200
    html = form.content.decode()
    assert 'value="https://example.com/h"' in html
    assert re.search(r'value="cutout.done"[^>]* checked', html)
    assert f'href="/api/webhooks/{sub.pk}/edit"' in client.get(
        f"/api/webhooks/{sub.pk}/").content.decode()
    response = client.post(f"/api/webhooks/{sub.pk}/edit", {
        "url": "https://example.org/new", "events": ["cutout.failed", "export.finished"],
        "description": "Shop"})
    assert response.status_code == 302 and response["Location"] == f"/api/webhooks/{sub.pk}/"
    sub.refresh_from_db()
    assert (sub.url, sub.events, sub.description) == (
        "https://example.org/new", ["cutout.failed", "export.finished"], "Shop")
    assert sub.secret == secret
    assert _rows(client.get(response["Location"]).content.decode()) == [delivery.msg_id]


def test_it_refuses_an_unsafe_or_empty_edit_and_changes_nothing(client, sub):
    client.force_login(manager())
    refused = client.post(f"/api/webhooks/{sub.pk}/edit",
                          {"url": "https://127.0.0.1/x", "events": ["cutout.done"]})
    assert refused.status_code == 400 and b"private or loopback" in refused.content
    no_events = client.post(f"/api/webhooks/{sub.pk}/edit", {"url": "https://example.com/h"})
    assert no_events.status_code == 400
    sub.refresh_from_db()
    assert sub.url == "https://example.com/h" and sub.events == ["cutout.done"]


def test_it_keeps_editing_and_rotating_to_managers(client, sub):
    secret = sub.secret
    client.force_login(reviewer())
    assert client.get(f"/api/webhooks/{sub.pk}/edit").status_code == 403
    assert client.post(f"/api/webhooks/{sub.pk}/edit", {
        "url": "https://example.org/x", "events": ["cutout.done"]}).status_code == 403
    assert client.post(f"/api/webhooks/{sub.pk}/",
                       {"action": "rotate_secret"}).status_code == 403
    sub.refresh_from_db()
    assert sub.secret == secret and sub.url == "https://example.com/h"
    client.force_login(manager())
    assert client.get("/api/webhooks/999999/edit").status_code == 404


def test_it_shows_a_rotated_secret_once_and_never_lets_the_page_be_cached(client, sub):
    old = sub.secret
    client.force_login(manager())
    response = client.post(f"/api/webhooks/{sub.pk}/", {"action": "rotate_secret"})
    assert response.status_code == 302 and response["Location"] == f"/api/webhooks/{sub.pk}/"
    sub.refresh_from_db()
    assert sub.secret != old and sub.previous_secret == old
    shown = client.get(response["Location"])
    html = shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    assert f'<code id="new-secret-value">{sub.secret}</code>' in html
    assert "two signatures" in html  # the grace period is explained
    again = client.get(response["Location"])
    assert 'id="new-secret"' not in again.content.decode()
    assert again["Cache-Control"] == "no-store"  # the <details> still holds the secret


def test_it_keeps_a_rotated_secret_for_the_page_it_was_made_on(client, sub):
    other = WebhookSubscription.objects.create(url="https://example.com/o",
                                               events=["cutout.done"],
                                               secret=webhooks.secret_generate())
    client.force_login(manager())
    client.post(f"/api/webhooks/{sub.pk}/", {"action": "rotate_secret"})
    assert 'id="new-secret"' not in client.get(f"/api/webhooks/{other.pk}/").content.decode()
    assert 'id="new-secret"' in client.get(f"/api/webhooks/{sub.pk}/").content.decode()

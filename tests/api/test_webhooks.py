import base64
import hashlib
import hmac
import io
import json
import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from catalog import webhooks
from catalog.api_models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from cutouts.models import Cutout, JobStatus
from cutouts.services import batches, export_jobs, runs
from tests.api.receiver import Receiver
from tests.cutouts.export_helpers import done_cutout
from tests.factories import ImageAssetFactory, ProductFactory, manager, reviewer
from tests.images import product_jpeg

pytestmark = pytest.mark.django_db

LOOPBACK = override_settings(CUTROOM_WEBHOOK_ALLOW_PRIVATE=True,
                             CUTROOM_WEBHOOK_ALLOW_HTTP=True,
                             CUTROOM_WEBHOOK_RETRY_DELAYS=[0, 0, 0],
                             CUTROOM_WEBHOOK_TIMEOUT=2)


@pytest.fixture
def queued(webhook_sends):
    """Delivery ids handed to Celery, in order; ``drain`` plays the worker, bounded."""
    return webhook_sends


def drain(max_rounds: int = 20) -> None:
    for _ in range(max_rounds):
        due = list(WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
                   .order_by("pk").values_list("pk", flat=True))
        if not due:
            return
        for pk in due:
            webhooks.delivery_attempt(delivery_id=pk)
    raise AssertionError("deliveries still pending after the bounded drain")


def independent_verify(secret: str, request: dict) -> bool:
    """The receiver's side written from the Standard Webhooks spec, not from our code."""
    h = request["headers"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + request["body"]
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    fresh = abs(time.time() - int(h["webhook-timestamp"])) < 300
    return fresh and any(sig == f"v1,{expected}" for sig in h["webhook-signature"].split())


def test_it_signs_exactly_like_the_standard_webhooks_test_vector():
    signature = webhooks.sign(secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                              msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330,
                              body=b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_it_verifies_and_rejects_tampering_and_old_timestamps():
    secret = webhooks.secret_generate()
    now = int(time.time())
    body = b'{"a":1}'
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(now),
               "webhook-signature": webhooks.sign(secret=secret, msg_id="msg_1",
                                                  timestamp=now, body=body)}
    assert webhooks.verify(secret=secret, headers=headers, body=body)
    assert not webhooks.verify(secret=secret, headers=headers, body=b'{"a":2}')
    assert not webhooks.verify(secret=secret, headers=headers, body=body, now=now + 3600)
    assert not webhooks.verify(secret=webhooks.secret_generate(), headers=headers, body=body)


def test_it_makes_ids_that_sort_by_time():
    ids = []
    for _ in range(3):
        ids.append(webhooks.msg_id_new())
        time.sleep(0.002)
    assert ids == sorted(ids) and len(set(ids)) == 3 and ids[0].startswith("msg_")


@pytest.mark.parametrize(("url", "message"), [
    ("http://example.com/hook", "must use https"),
    ("https://127.0.0.1/hook", "private or loopback"),
    ("https://169.254.169.254/latest/meta-data", "private or loopback"),
    ("https://10.1.2.3/hook", "private or loopback"),
    ("https://[::1]/hook", "private or loopback"),
    ("https://user:pw@example.com/hook", "user name or password"),
    ("ftp://example.com/hook", "valid http(s) URL"),
    ("https://example.com:99999/hook", "port must be between 1 and 65535"),
    ("https://example.com:0/hook", "port must be between 1 and 65535"),
])
def test_it_refuses_unsafe_urls(url, message):
    with pytest.raises(webhooks.UnsafeUrl, match=message.replace("(", r"\(").replace(")", r"\)")):
        webhooks.url_check(url)


def test_it_refuses_unsafe_urls_through_the_api(manager_api):
    response = manager_api.post("/api/v1/webhooks", {"url": "https://127.0.0.1/x",
                                                     "events": ["cutout.done"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "url"
    assert "private or loopback" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("port", ["99999", "65536", "0", "00"])
def test_it_refuses_a_port_out_of_range_with_a_422_naming_url(manager_api, client, port):
    url = f"http://127.0.0.1:{port}/x"
    with LOOPBACK:
        created = manager_api.post("/api/v1/webhooks", {"url": url, "events": ["cutout.done"]})
        sub_id = manager_api.post("/api/v1/webhooks", {
            "url": "http://127.0.0.1:9/h", "events": ["cutout.done"]}).json()["id"]
        patched = manager_api.patch(f"/api/v1/webhooks/{sub_id}", {"url": url})
        client.force_login(manager())
        form = client.post("/api/webhooks/", {"url": url, "events": ["cutout.done"]})
    for response in (created, patched):
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"field": "url", "message": "The URL's port must be between 1 and 65535."}]
    assert form.status_code == 400 and b"port must be between 1 and 65535" in form.content
    assert WebhookSubscription.objects.get().url == "http://127.0.0.1:9/h"


@LOOPBACK
def test_it_delivers_signed_events_retries_after_500s_and_keeps_order(
        manager_api, reviewer_api, queued, django_capture_on_commit_callbacks):
    cutouts = [done_cutout() for _ in range(3)]
    with Receiver(codes=[500, 500]) as receiver:
        created = manager_api.post("/api/v1/webhooks", {
            "url": receiver.url, "events": ["cutout.approved", "cutout.flagged"]})
        assert created.status_code == 201
        secret = created.json()["secret"]
        for cutout in cutouts:
            with django_capture_on_commit_callbacks(execute=True):
                assert reviewer_api.post(f"/api/v1/cutouts/{cutout.pk}/approve",
                                         {}).status_code == 200
            time.sleep(0.002)  # distinct milliseconds: ids order by time
        assert len(queued) == 3
        drain()
    requests = receiver.requests
    assert len(requests) == 5 and all(independent_verify(secret, r) for r in requests)
    arrivals = [(r["headers"]["webhook-id"], r["body"]) for r in requests]
    # Messages 1 and 2 were refused once each (500) and retried with the same id and body;
    # message 3 went through at once. Arrival order is therefore 1, 2, 3, 1, 2.
    ids = [i for i, _ in arrivals]
    assert ids[:3] == ids[3:] + [ids[2]] and ids[0] != ids[1]
    assert arrivals[0][1] == arrivals[3][1]
    logs = {d.msg_id: [a["code"] for a in d.attempts_log] for d in WebhookDelivery.objects.all()}
    assert sorted(logs.values()) == [[200], [500, 200], [500, 200]]
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 3
    # A receiver restores emission order by sorting accepted messages by webhook-id (or by
    # the payload timestamp): ids sort by creation time.
    accepted = sorted(dict(arrivals).items())
    payloads = [json.loads(body) for _, body in accepted]
    assert [p["data"]["cutout_id"] for p in payloads] == [c.pk for c in cutouts]
    assert [p["timestamp"] for p in payloads] == sorted(p["timestamp"] for p in payloads)
    assert {p["type"] for p in payloads} == {"cutout.approved"}
    assert WebhookSubscription.objects.get().failure_streak == 0


@LOOPBACK
def test_it_gives_up_after_the_retry_schedule_and_logs_codes(manager_api, queued,
                                                             django_capture_on_commit_callbacks):
    with Receiver(codes=[503] * 10) as receiver:
        sub = webhooks.subscription_create(user=manager(), url=receiver.url,
                                           events=["image.stored"])
        product = ProductFactory()
        with django_capture_on_commit_callbacks(execute=True):
            manager_api.post(f"/api/v1/products/{product.pk}/images",
                             {"file": _jpeg("a.jpg")}, json=False)
        drain()
    delivery = WebhookDelivery.objects.get(subscription=sub)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 4 and delivery.last_status_code == 503
    assert len(receiver.requests) == 4
    assert receiver.payloads()[0]["data"]["product_sku"] == product.sku
    log = manager_api.get(f"/api/v1/webhooks/{sub.pk}/deliveries").json()
    assert [a["code"] for a in log["items"][0]["attempts_log"]] == [503] * 4


@LOOPBACK
def test_it_names_the_sku_position_and_reviewers_words_in_decision_events(
        reviewer_api, queued, django_capture_on_commit_callbacks):
    webhooks.subscription_create(user=manager(), url="http://127.0.0.1:9/hook",
                                 events=["cutout.flagged", "cutout.approved"])
    flagged, approved = done_cutout(), done_cutout()
    with django_capture_on_commit_callbacks(execute=True):
        reviewer_api.post(f"/api/v1/cutouts/{flagged.pk}/flag",
                          {"reasons": ["other"], "comment": "strap cut off"})
        reviewer_api.post(f"/api/v1/cutouts/{approved.pk}/approve", {"comment": "fine"})
    data = {d.event_type: d.payload["data"] for d in WebhookDelivery.objects.all()}
    asset = flagged.asset
    assert data["cutout.flagged"]["product_sku"] == asset.product.sku
    assert data["cutout.flagged"]["position"] == asset.position
    assert data["cutout.flagged"]["comment"] == "strap cut off"
    assert data["cutout.flagged"]["flag_reasons"] == ["other"]
    assert data["cutout.approved"]["comment"] == "fine"
    assert data["cutout.approved"]["product_sku"] == approved.asset.product.sku


def test_it_looks_up_extra_facts_only_when_someone_listens(queued):
    def boom() -> dict:
        raise AssertionError("looked up without a subscriber")

    assert webhooks.deliveries_create(event_type="cutout.done", data={}, timestamp="x",
                                      more=boom) == []


@LOOPBACK
def test_it_redelivers_by_hand_with_the_same_id(manager_api, queued):
    with Receiver(codes=[500] * 4) as receiver:
        sub = webhooks.subscription_create(user=manager(), url=receiver.url,
                                           events=["cutout.done"])
        webhooks.deliveries_create(event_type="cutout.done", data={"cutout_id": 1},
                                   timestamp="2026-01-01T00:00:00+00:00")
        drain()
        delivery = WebhookDelivery.objects.get(subscription=sub)
        assert delivery.status == DeliveryStatus.FAILED
        response = manager_api.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver")
        assert response.status_code == 202 and response.json()["status"] == "pending"
        drain()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == {delivery.msg_id}


@LOOPBACK
def test_it_disables_an_endpoint_that_keeps_failing(queued):
    window = override_settings(CUTROOM_WEBHOOK_DISABLE_AFTER=3,
                               CUTROOM_WEBHOOK_DISABLE_AFTER_SECONDS=3600)
    with window, Receiver(codes=[500] * 10) as rx:
        sub = webhooks.subscription_create(user=manager(), url=rx.url, events=["cutout.done"])
        webhooks.deliveries_create(event_type="cutout.done", data={},
                                   timestamp="2026-01-01T00:00:00+00:00")
        webhooks.deliveries_create(event_type="cutout.done", data={},
                                   timestamp="2026-01-01T00:00:01+00:00")
        first, second = WebhookDelivery.objects.order_by("pk")
        assert webhooks.delivery_attempt(delivery_id=first.pk) == "retry"
        # Failing since more than the window: the next failure disables it.
        WebhookSubscription.objects.filter(pk=sub.pk).update(
            failing_since=timezone.now() - timedelta(hours=2), failure_streak=5)
        assert webhooks.delivery_attempt(delivery_id=first.pk) == "retry"
        assert webhooks.delivery_attempt(delivery_id=second.pk) == "paused"
    sub.refresh_from_db()
    assert not sub.is_active and "6 failed attempts in a row over 2.0 h" in sub.disabled_reason
    assert len(rx.requests) == 2
    # The other event was not sent and not failed: it waits for the subscription.
    assert sorted(WebhookDelivery.objects.values_list("status", "attempts")) == [
        ("pending", 0), ("pending", 2)]
    # An event while it is disabled is recorded, paused, not queued: enabling sends it.
    queued.clear()
    (later,) = webhooks.deliveries_create(event_type="cutout.done", data={}, timestamp="x")
    assert queued == [] and WebhookDelivery.objects.get(pk=later).status == "pending"


def test_it_pages_and_filters_deliveries_through_the_api(manager_api):
    sub = WebhookSubscription.objects.create(url="https://example.com/x", events=["cutout.done"],
                                             secret=webhooks.secret_generate())
    for status in ["failed", "delivered", "failed", "failed", "delivered"]:
        WebhookDelivery.objects.create(subscription=sub, msg_id=webhooks.msg_id_new(),
                                       event_type="cutout.done", payload={}, status=status)
    url = f"/api/v1/webhooks/{sub.pk}/deliveries"
    first = manager_api.get(url, {"status": "failed", "limit": 2}).json()
    assert [d["status"] for d in first["items"]] == ["failed", "failed"]
    assert first["next_cursor"] and first["prev_cursor"] is None
    older = manager_api.get(url, {"status": "failed", "limit": 2,
                                  "cursor": first["next_cursor"]}).json()
    assert len(older["items"]) == 1 and older["next_cursor"] is None
    newer = manager_api.get(url, {"status": "failed", "limit": 2,
                                  "cursor": older["prev_cursor"]}).json()
    assert newer["items"] == first["items"]
    everything = manager_api.get(url).json()["items"]
    assert len(everything) == 5
    assert everything[0]["id"] > everything[-1]["id"]
    assert manager_api.get(url, {"status": "nope"}).status_code == 422
    assert manager_api.get(url, {"cursor": "%%%"}).status_code == 400


def test_it_redelivers_every_failed_delivery_through_the_api(manager_api, queued,
                                                             django_capture_on_commit_callbacks):
    sub = WebhookSubscription.objects.create(url="https://example.com/x", events=["cutout.done"],
                                             secret=webhooks.secret_generate())
    for status in ["failed", "delivered", "failed"]:
        WebhookDelivery.objects.create(subscription=sub, msg_id=webhooks.msg_id_new(),
                                       event_type="cutout.done", payload={}, status=status,
                                       last_error="boom" if status == "failed" else "")
    url = f"/api/v1/webhooks/{sub.pk}/deliveries/redeliver-failed"
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_api.post(url)
    assert response.status_code == 202 and response.json() == {"queued": 2}
    assert len(queued) == 2
    assert not WebhookDelivery.objects.filter(status="failed").exists()
    manager_api.patch(f"/api/v1/webhooks/{sub.pk}", {"is_active": False})
    refused = manager_api.post(url)
    assert refused.status_code == 409 and "enable it first" in refused.json()["detail"]


@LOOPBACK
def test_it_does_not_follow_redirects_and_times_out(queued):
    with Receiver(codes=[302], redirect_to="http://127.0.0.1:1/elsewhere") as rx:
        code, error = webhooks.post_signed(url=rx.url, headers={}, body=b"{}", timeout=2)
    assert code == 302 and "Redirects are not followed" in error
    assert len(rx.requests) == 1
    with Receiver(delay=1.5) as slow:
        started = time.monotonic()
        code, error = webhooks.post_signed(url=slow.url, headers={}, body=b"{}", timeout=0.5)
    assert code is None and "Timeout" in error and time.monotonic() - started < 1.4


def test_it_refuses_loopback_at_send_time_too(queued):
    with Receiver() as rx:
        code, error = webhooks.post_signed(url=rx.url, headers={}, body=b"{}", timeout=1)
    assert code is None and "https" in error
    assert rx.requests == []


@LOOPBACK
def test_it_emits_cutout_done_and_failed_on_commit(queued, fake_model,
                                                   django_capture_on_commit_callbacks):
    from catalog.services.assets import asset_ingest

    product = ProductFactory()
    asset = asset_ingest(product=product, fileobj=io.BytesIO(product_jpeg(seed=77)),
                         filename="a.jpg").asset
    webhooks.subscription_create(user=manager(), url="http://127.0.0.1:9/none",
                                 events=["cutout.done", "cutout.failed"])
    with django_capture_on_commit_callbacks(execute=True):
        batch = batches.cutout_batch_start(assets=[asset, ImageAssetFactory()])
    ok, missing = batch.cutouts.order_by("pk")
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.cutout_run(cutout_id=ok.pk) == "done"
        assert runs.cutout_run(cutout_id=missing.pk) == "failed"
    events = list(WebhookDelivery.objects.order_by("pk").values_list("event_type", "payload"))
    assert [e for e, _ in events] == ["cutout.done", "cutout.failed"]
    assert events[0][1]["data"]["cutout_id"] == ok.pk
    assert "missing" in events[1][1]["data"]["error"]
    assert Cutout.objects.get(pk=ok.pk).status == JobStatus.DONE


def test_it_emits_nothing_when_the_work_rolls_back(queued, django_capture_on_commit_callbacks):
    from django.db import transaction

    from catalog import events

    WebhookSubscription.objects.create(url="https://example.com/x", events=["cutout.done"],
                                       secret=webhooks.secret_generate())
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                events.emit("cutout.done", {"cutout_id": 1})
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        events.emit("cutout.done", {"cutout_id": 2})
    assert list(WebhookDelivery.objects.values_list("payload__data__cutout_id", flat=True)) \
        == [2]


def test_it_manages_subscriptions_through_the_api(manager_api, reviewer_api):
    with override_settings(CUTROOM_WEBHOOK_ALLOW_HTTP=True,
                           CUTROOM_WEBHOOK_ALLOW_PRIVATE=True):
        created = manager_api.post("/api/v1/webhooks", {
            "url": "http://127.0.0.1:9/h", "events": ["export.finished"]}).json()
    assert created["secret"].startswith("whsec_")
    sub_id = created["id"]
    assert "secret" not in manager_api.get(f"/api/v1/webhooks/{sub_id}").json()
    patched = manager_api.patch(f"/api/v1/webhooks/{sub_id}", {"is_active": False}).json()
    assert patched["is_active"] is False
    bad = manager_api.patch(f"/api/v1/webhooks/{sub_id}", {"events": ["nope"]})
    assert bad.status_code == 422
    assert reviewer_api.get("/api/v1/webhooks").status_code == 403
    assert manager_api.delete(f"/api/v1/webhooks/{sub_id}").status_code == 204
    assert manager_api.get(f"/api/v1/webhooks/{sub_id}").status_code == 404


def test_it_edits_and_rotates_the_secret_through_the_api(manager_api):
    with LOOPBACK:
        created = manager_api.post("/api/v1/webhooks", {
            "url": "http://127.0.0.1:9/h", "events": ["export.finished"]}).json()
        sub_id = created["id"]
        edited = manager_api.patch(f"/api/v1/webhooks/{sub_id}", {
            "url": "http://127.0.0.1:9/new", "events": ["cutout.done", "cutout.failed"],
            "description": "Shop"})
    assert edited.status_code == 200
    assert (edited.json()["url"], edited.json()["events"], edited.json()["description"]) == (
        "http://127.0.0.1:9/new", ["cutout.done", "cutout.failed"], "Shop")
    assert edited.json()["previous_secret_expires_at"] is None
    # Without the development switches the SSRF guard refuses it, as on creation.
    unsafe = manager_api.patch(f"/api/v1/webhooks/{sub_id}", {"url": "https://127.0.0.1/x"})
    assert unsafe.status_code == 422
    assert unsafe["Content-Type"] == "application/problem+json"
    assert unsafe.json()["errors"][0]["field"] == "url"
    assert WebhookSubscription.objects.get(pk=sub_id).secret == created["secret"]

    rotated = manager_api.post(f"/api/v1/webhooks/{sub_id}/rotate-secret")
    assert rotated.status_code == 200
    body = rotated.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != created["secret"]
    assert body["previous_secret_expires_at"] and body["url"] == "http://127.0.0.1:9/new"
    read = manager_api.get(f"/api/v1/webhooks/{sub_id}").json()
    assert "secret" not in read
    assert read["previous_secret_expires_at"] == body["previous_secret_expires_at"]
    sub = WebhookSubscription.objects.get(pk=sub_id)
    assert (sub.secret, sub.previous_secret) == (body["secret"], created["secret"])
    missing = manager_api.post("/api/v1/webhooks/999999/rotate-secret")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"


def test_it_shows_the_signing_secret_once_even_to_an_idempotent_replay(manager_api):
    from catalog.api_models import IdempotencyRecord

    body = {"url": "http://127.0.0.1:9/h", "events": ["cutout.done"]}
    headers = {"HTTP_IDEMPOTENCY_KEY": "hook-1"}
    with LOOPBACK:
        first = manager_api.post("/api/v1/webhooks", body, headers=headers)
        again = manager_api.post("/api/v1/webhooks", body, headers=headers)
    assert first.status_code == again.status_code == 201
    secret = first.json()["secret"]
    assert secret.startswith("whsec_") and first.json()["note"] is None
    assert again["Idempotent-Replayed"] == "true"
    replay = again.json()
    assert replay["secret"] is None and "shown only in the first answer" in replay["note"]
    assert replay["id"] == first.json()["id"] and WebhookSubscription.objects.count() == 1
    # nor is it kept for the replay window
    assert secret.encode() not in bytes(IdempotencyRecord.objects.get().body)


def test_it_refuses_unknown_fields_when_rotating_and_deletes_without_a_content_type(
        manager_api):
    with LOOPBACK:
        sub_id = manager_api.post("/api/v1/webhooks", {
            "url": "http://127.0.0.1:9/h", "events": ["cutout.done"]}).json()["id"]
    secret = WebhookSubscription.objects.get().secret
    refused = manager_api.post(f"/api/v1/webhooks/{sub_id}/rotate-secret", {"x": 1})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "x"
    assert WebhookSubscription.objects.get().secret == secret
    assert manager_api.post(f"/api/v1/webhooks/{sub_id}/rotate-secret", {}).status_code == 200
    for content_type in ("", "application/json"):  # `curl -X POST`: no body at all
        bare = manager_api.client.generic("POST", f"/api/v1/webhooks/{sub_id}/rotate-secret",
                                          b"", content_type=content_type, **manager_api.headers)
        assert bare.status_code == 200, content_type
    deleted = manager_api.delete(f"/api/v1/webhooks/{sub_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert "Content-Type" not in deleted


def test_it_signs_deliveries_with_both_secrets_after_an_api_rotation(manager_api, queued):
    with LOOPBACK, Receiver() as receiver:
        created = manager_api.post("/api/v1/webhooks", {
            "url": receiver.url, "events": ["cutout.done"]}).json()
        new = manager_api.post(f"/api/v1/webhooks/{created['id']}/rotate-secret").json()
        webhooks.deliveries_create(event_type="cutout.done", data={"cutout_id": 1},
                                   timestamp="2026-01-01T00:00:00+00:00")
        drain()
        (request,) = receiver.requests
    assert independent_verify(created["secret"], request)
    assert independent_verify(new["secret"], request)


def test_it_manages_subscriptions_in_the_ui(client):
    client.force_login(manager())
    with override_settings(CUTROOM_WEBHOOK_ALLOW_HTTP=True,
                           CUTROOM_WEBHOOK_ALLOW_PRIVATE=True):
        response = client.post("/api/webhooks/", {"url": "http://127.0.0.1:9/h",
                                                  "events": ["cutout.done", "cutout.failed"]})
    sub = WebhookSubscription.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/api/webhooks/{sub.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Delivery log" in page and sub.url in page and sub.secret in page
    refused = client.post("/api/webhooks/", {"url": "https://127.0.0.1/x",
                                             "events": ["cutout.done"]})
    assert refused.status_code == 400 and b"private or loopback" in refused.content
    client.post(f"/api/webhooks/{sub.pk}/", {"action": "disable"})
    sub.refresh_from_db()
    assert not sub.is_active


def test_it_keeps_the_webhooks_page_to_managers(client):
    client.force_login(reviewer())
    assert client.get("/api/webhooks/").status_code == 403


def _jpeg(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, product_jpeg(seed=hash(name) % 1000), "image/jpeg")


def test_it_emits_import_and_export_finished(queued, django_capture_on_commit_callbacks,
                                             monkeypatch):
    from catalog.services.imports import import_job_create, import_job_finish
    from cutouts import tasks as cutout_tasks
    from tests.cutouts.export_helpers import approved_cutout

    WebhookSubscription.objects.create(url="https://example.com/x", secret="whsec_AAAA",
                                       events=["import.finished", "export.finished"])
    job = import_job_create(user=manager(), source_kind="upload", expected_files=1)
    with django_capture_on_commit_callbacks(execute=True):
        import_job_finish(job_id=job.pk)
    monkeypatch.setattr(cutout_tasks.export_job_run_task, "delay", lambda *a: None)
    approved_cutout(product=ProductFactory(sku="EVT-1"))
    export = export_jobs.export_job_create(presets=["amazon_main"])
    with django_capture_on_commit_callbacks(execute=True):
        assert cutout_tasks.export_job_run_task.run(export.pk) == "done"
    rows = list(WebhookDelivery.objects.order_by("pk").values_list("event_type", "payload"))
    assert [e for e, _ in rows] == ["import.finished", "export.finished"]
    assert rows[0][1]["data"]["import_id"] == job.pk and rows[0][1]["data"]["status"] == "done"
    assert rows[0][1]["data"]["replaced"] == 0
    assert rows[1][1]["data"]["export_id"] == export.pk and rows[1][1]["data"]["has_zip"]

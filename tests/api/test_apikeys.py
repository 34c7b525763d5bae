from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from catalog.api_models import IdempotencyRecord
from catalog.services import api_keys as apikeys
from catalog.webhook_tasks import webhooks_resend_due_task
from tests.api.conftest import key_for
from tests.factories import manager

pytestmark = pytest.mark.django_db

CLAIM = {"owner": "key:1", "key": "k", "method": "POST", "path": "/api/v1/batches",
         "fingerprint": "f" * 64}


def test_it_tells_a_concurrent_repeat_to_retry_while_the_first_runs():
    first = apikeys.idempotency_claim(**CLAIM)
    assert not first.replay
    with pytest.raises(apikeys.IdempotencyConflict, match="still being processed"):
        apikeys.idempotency_claim(**CLAIM)
    apikeys.idempotency_store(record=first.record, status_code=201, body=b"{}",
                              content_type="application/json")
    assert apikeys.idempotency_claim(**CLAIM).replay


def test_it_forgets_keys_after_the_replay_window():
    claim = apikeys.idempotency_claim(**CLAIM)
    IdempotencyRecord.objects.filter(pk=claim.record.pk).update(
        created_at=timezone.now() - timedelta(days=2))
    webhooks_resend_due_task.run()
    assert not IdempotencyRecord.objects.exists()


def test_it_needs_no_csrf_token_with_an_api_key():
    token = key_for(manager(), "manager")
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/products", {"sku": "CSRF-1"}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 201


def test_it_refuses_a_key_of_a_deactivated_user():
    user = manager()
    token = key_for(user, "read_only")
    user.is_active = False
    user.save()
    assert Client().get("/api/v1/products",
                        HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401

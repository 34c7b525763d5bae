from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from catalog.api_models import IdempotencyRecord
from catalog.services import api_keys as apikeys
from catalog.webhook_tasks import webhooks_resend_due_task
from tests.api.conftest import key_for
from tests.factories import manager, reviewer

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


def test_it_lets_only_the_owner_or_a_catalog_manager_revoke_a_key(caplog):
    owner = reviewer()
    key = apikeys.api_key_create(user=owner, name="qa", scope="read_only").key
    with pytest.raises(PermissionDenied):
        apikeys.api_key_revoke(key=key, by=reviewer())
    key.refresh_from_db()
    assert key.revoked_at is None
    boss = manager(username="boss")
    with caplog.at_level("INFO", logger="catalog.services.api_keys"):
        assert apikeys.api_key_revoke(key=key, by=boss).revoked_at is not None
    assert f"api key {key.prefix} (qa) of user {owner.pk} revoked by boss" in caplog.text
    own = apikeys.api_key_create(user=owner, name="mine", scope="read_only").key
    assert apikeys.api_key_revoke(key=own, by=owner).revoked_at is not None

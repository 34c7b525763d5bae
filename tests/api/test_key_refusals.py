"""A revoked or expired key says so (to its holder only); a wrong or unknown one does not."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from catalog.api_models import ApiKey
from catalog.services import api_keys as apikeys
from tests.api.conftest import ApiClient
from tests.factories import manager, reviewer

pytestmark = pytest.mark.django_db

GENERIC = "Send a valid API key (Authorization: Bearer crk_…) or log in."


def test_it_tells_the_holder_of_a_revoked_key_when_it_was_revoked():
    new = apikeys.api_key_create(user=manager(), name="pim", scope="manager")
    apikeys.api_key_revoke(key=new.key)
    ApiKey.objects.filter(pk=new.key.pk).update(
        revoked_at=datetime(2026, 12, 1, 14, 5, tzinfo=UTC))
    response = ApiClient(new.token).get("/api/v1/products")
    assert response.status_code == 401
    body = response.json()
    assert body["detail"] == ("This API key was revoked on 2026-12-01 14:05 UTC; ask for a new "
                              "key (API keys page).")
    assert body["type"] == "urn:cutroom:problem:key-revoked"
    assert response["WWW-Authenticate"].startswith("Bearer")
    # X-API-Key says the same
    other = ApiClient(HTTP_X_API_KEY=new.token).get("/api/v1/products")
    assert other.status_code == 401 and "was revoked on 2026-12-01" in other.json()["detail"]


def test_it_tells_the_holder_of_an_expired_key_when_it_expired():
    new = apikeys.api_key_create(user=reviewer(), name="old", scope="reviewer",
                                 expires_at=timezone.now() + timedelta(days=1))
    ApiKey.objects.filter(pk=new.key.pk).update(
        expires_at=datetime(2026, 11, 30, 0, 0, tzinfo=UTC))
    body = ApiClient(new.token).post("/api/v1/exports", {"presets": ["amazon_main"]}).json()
    assert body["status"] == 401 and body["type"] == "urn:cutroom:problem:key-expired"
    assert body["detail"] == ("This API key expired on 2026-11-30 00:00 UTC; ask for a new key "
                              "(API keys page).")


def test_it_keeps_the_generic_401_for_a_wrong_or_unknown_key_even_of_a_revoked_one():
    new = apikeys.api_key_create(user=manager(), name="pim", scope="manager")
    apikeys.api_key_revoke(key=new.key)
    # the revoked key's prefix with a wrong secret: nothing about that key is told
    for token in (new.token[:-2] + ("aa" if not new.token.endswith("aa") else "bb"),
                  "crk_nothing_here", "nope"):
        response = ApiClient(token).get("/api/v1/products")
        assert response.status_code == 401
        assert response.json()["detail"] == GENERIC, token
        assert response.json()["type"] == "urn:cutroom:problem:unauthenticated"


def test_the_service_raises_for_a_revoked_key_and_answers_none_for_a_wrong_one():
    new = apikeys.api_key_create(user=manager(), name="pim", scope="manager")
    assert apikeys.api_key_authenticate(token=new.token) == new.key
    apikeys.api_key_revoke(key=new.key)
    with pytest.raises(apikeys.ApiKeyRefused, match="was revoked on"):
        apikeys.api_key_authenticate(token=new.token)
    assert apikeys.api_key_authenticate(token=new.token + "x") is None

"""Idempotency-Key refusals are problem details naming the header, like every other 422."""

import pytest

from catalog.api_models import IdempotencyRecord
from catalog.models import Product

pytestmark = pytest.mark.django_db

FIELD = "Idempotency-Key"


def _names_the_header(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:cutroom:problem:idempotency-key"
    assert [e["field"] for e in body["errors"]] == [FIELD]
    assert body["errors"][0]["message"] == body["detail"]


@pytest.mark.parametrize("key", ["k" * 256, "   "])
def test_it_names_the_header_when_the_key_is_too_long_or_blank(manager_api, key):
    refused = manager_api.post("/api/v1/products", {"sku": "IDEM-LEN"},
                               headers={"HTTP_IDEMPOTENCY_KEY": key})
    _names_the_header(refused, 422)
    assert "1-255 characters" in refused.json()["detail"]
    assert not Product.objects.filter(sku="IDEM-LEN").exists()


def test_it_names_the_header_when_the_key_is_reused_for_another_request(manager_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "reuse-1"}
    assert manager_api.post("/api/v1/products", {"sku": "IDEM-A"},
                            headers=headers).status_code == 201
    refused = manager_api.post("/api/v1/products", {"sku": "IDEM-B"}, headers=headers)
    _names_the_header(refused, 422)
    assert "different request" in refused.json()["detail"]
    assert not Product.objects.filter(sku="IDEM-B").exists()


def test_it_names_the_header_while_the_first_request_is_still_running(manager_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "running-1"}
    assert manager_api.post("/api/v1/products", {"sku": "IDEM-R"},
                            headers=headers).status_code == 201
    # the first answer not stored yet: what a concurrent repeat sees
    IdempotencyRecord.objects.update(status_code=None)
    busy = manager_api.post("/api/v1/products", {"sku": "IDEM-R"}, headers=headers)
    _names_the_header(busy, 409)
    assert "still being processed" in busy.json()["detail"]

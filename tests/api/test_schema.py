"""The OpenAPI document: valid, served offline with its docs page, and honoured by the live
server (a schemathesis contract test: no 5xx, every answer matches the schema)."""

import json
import re

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from openapi_spec_validator import validate
from schemathesis import checks

from catalog.services import api_keys as apikeys
from config.api import api
from tests.cutouts.export_helpers import approved_cutout, done_cutout
from tests.factories import ImageAssetFactory, ProductFactory, manager

SCHEMA = api.get_openapi_schema()
contract = schemathesis.openapi.from_dict(json.loads(json.dumps(SCHEMA)))
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance]


def test_it_serves_a_valid_openapi_3_1_document(db):
    response = Client().get("/api/v1/schema")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    validate(document)
    errors = document["paths"]["/api/v1/products"]["post"]["responses"]["422"]["content"]
    assert "application/problem+json" in errors
    post = document["paths"]["/api/v1/batches"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert {"BearerKey", "HeaderKey", "Session"} <= set(document["components"]
                                                        ["securitySchemes"])


def test_it_serves_the_docs_page_without_any_cdn(db):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert not re.search(r"<script>(?!\s*</script>)", html)  # no inline code (CSP)
    # a key pasted into the page must not outlive the tab in localStorage (shared desks)
    assert '"persistAuthorization": false' in html


@pytest.fixture
def seeded(transactional_db):
    """A little of everything, so fuzzed ids 1..n hit real rows too."""
    boss = manager()
    token = apikeys.api_key_create(user=boss, name="contract", scope="manager",
                                   rate_per_minute=100_000).token
    product = ProductFactory(sku="CT-1")
    ImageAssetFactory(product=product)
    done_cutout()
    approved_cutout()
    return token


@contract.parametrize()
@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
@pytest.mark.slow
def test_it_keeps_the_contract_on_the_live_server(case, live_server, seeded):
    case.call_and_validate(base_url=live_server.url, checks=CHECKS,
                           headers={"Authorization": f"Bearer {seeded}"})

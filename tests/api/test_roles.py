"""Every operation of the schema against every key scope: 403 exactly when the scope (capped
by the role) lacks the capability; 401 without a key is in test_auth.py."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.api import api
from tests.api.conftest import ApiClient, key_for
from tests.factories import manager, reviewer
from tests.images import product_jpeg

pytestmark = pytest.mark.django_db

ALL = {"read_only", "reviewer", "manager"}
REVIEW = {"reviewer", "manager"}
MANAGER = {"manager"}

# (method, path) -> (scopes allowed, JSON body)
MATRIX = {
    ("get", "/api/v1/products"): (ALL, None),
    ("post", "/api/v1/products"): (MANAGER, {"sku": "M-1"}),
    ("get", "/api/v1/products/{product_id}"): (ALL, None),
    ("patch", "/api/v1/products/{product_id}"): (MANAGER, {"title": "x"}),
    ("delete", "/api/v1/products/{product_id}"): (MANAGER, None),
    ("get", "/api/v1/products/by-sku/{sku}"): (ALL, None),
    ("put", "/api/v1/products/by-sku/{sku}"): (MANAGER, {"title": "x"}),
    ("post", "/api/v1/products/{product_id}/restore"): (MANAGER, None),
    ("get", "/api/v1/products/{product_id}/images"): (ALL, None),
    ("post", "/api/v1/products/{product_id}/images"): (MANAGER, None),
    ("post", "/api/v1/products/{product_id}/images/direct"): (
        MANAGER, {"filename": "a.jpg", "size": 10}),
    ("post", "/api/v1/products/{product_id}/images/direct/finish"): (
        MANAGER, {"token": "x"}),
    ("get", "/api/v1/images/{image_id}"): (ALL, None),
    ("delete", "/api/v1/products/{product_id}/images/{image_id}"): (MANAGER, None),
    ("post", "/api/v1/products/{product_id}/images/{image_id}/restore"): (MANAGER, None),
    ("get", "/api/v1/webhooks"): (MANAGER, None),
    ("post", "/api/v1/webhooks"): (MANAGER, {"url": "https://example.com/h",
                                             "events": ["cutout.done"]}),
    ("get", "/api/v1/webhooks/{subscription_id}"): (MANAGER, None),
    ("patch", "/api/v1/webhooks/{subscription_id}"): (MANAGER, {"is_active": False}),
    ("delete", "/api/v1/webhooks/{subscription_id}"): (MANAGER, None),
    ("post", "/api/v1/webhooks/{subscription_id}/rotate-secret"): (MANAGER, None),
    ("get", "/api/v1/webhooks/{subscription_id}/deliveries"): (MANAGER, None),
    ("post", "/api/v1/webhooks/{subscription_id}/deliveries/redeliver-failed"): (MANAGER, None),
    ("post", "/api/v1/webhooks/deliveries/{delivery_id}/redeliver"): (MANAGER, None),
    ("get", "/api/v1/presets"): (ALL, None),
    ("get", "/api/v1/presets/{name}"): (ALL, None),
    ("get", "/api/v1/batches"): (ALL, None),
    ("post", "/api/v1/batches"): (MANAGER, {"image_ids": [1]}),
    ("get", "/api/v1/batches/{batch_id}"): (ALL, None),
    ("post", "/api/v1/batches/{batch_id}/cancel"): (MANAGER, None),
    ("post", "/api/v1/batches/{batch_id}/retry"): (MANAGER, None),
    ("get", "/api/v1/cutouts"): (ALL, None),
    ("get", "/api/v1/cutouts/{cutout_id}"): (ALL, None),
    ("post", "/api/v1/cutouts/{cutout_id}/approve"): (REVIEW, {}),
    ("post", "/api/v1/cutouts/{cutout_id}/flag"): (REVIEW, {"reasons": ["halo"]}),
    ("post", "/api/v1/cutouts/{cutout_id}/rerun"): (REVIEW, {}),
    ("get", "/api/v1/cutouts/{cutout_id}/download"): (ALL, None),
    ("post", "/api/v1/exports"): (MANAGER, {"presets": ["amazon_main"]}),
    ("get", "/api/v1/exports"): (MANAGER, None),
    ("get", "/api/v1/exports/{export_id}"): (MANAGER, None),
    ("post", "/api/v1/exports/{export_id}/cancel"): (MANAGER, None),
    ("get", "/api/v1/exports/{export_id}/manifest"): (MANAGER, None),
    ("get", "/api/v1/exports/{export_id}/download"): (MANAGER, None),
}


def test_it_covers_every_operation_of_the_schema():
    schema = api.get_openapi_schema()
    operations = {(m, p) for p, ops in schema["paths"].items() for m in ops}
    assert operations == set(MATRIX)


def _client(scope: str) -> ApiClient:
    owner = reviewer() if scope == "reviewer" else manager()
    return ApiClient(key_for(owner, scope))


@pytest.mark.parametrize("scope", sorted(ALL))
@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_it_allows_exactly_the_scopes_with_the_capability(scope, method, path):
    allowed, body = MATRIX[(method, path)]
    url = path.replace("{sku}", "ROLE-1").replace("{name}", "amazon_main")
    url = re.sub(r"\{[^}]+\}", "1", url)
    client = _client(scope)
    if path.endswith("/images") and method == "post":
        # Parameters are validated before the role check: send a well-formed upload.
        upload = SimpleUploadedFile("a.jpg", product_jpeg(seed=3), content_type="image/jpeg")
        response = client.post(url, {"file": upload}, json=False)
    elif method == "get":
        response = client.get(url)
    elif method == "delete":
        response = client.delete(url)
    else:
        response = getattr(client, method)(url, body if body is not None else {})
    if scope not in allowed and method not in ("get", "delete"):
        # Refused before the body is even read: an empty or broken request is a 403 too.
        empty = getattr(client, method)(url, "{not json", headers={})
        assert empty.status_code == 403, (scope, method, url, empty.status_code)
    if scope in allowed:
        assert response.status_code not in (401, 403), (scope, method, url, response.json())
    else:
        assert response.status_code == 403, (scope, method, url, response.status_code)
        assert response["Content-Type"] == "application/problem+json"


HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.mark.parametrize("path", sorted({p for _, p in MATRIX}))
def test_it_answers_a_wrong_method_with_a_problem_and_the_allowed_methods(path):
    """A method no operation of a known path has: 405 as problem+json (like every other API
    error), with ``Allow`` naming exactly the path's operations (and HEAD with GET), before
    any key is checked."""
    allowed = {m for m, p in MATRIX if p == path}
    wrong = sorted(HTTP_METHODS - allowed)[0]
    url = path.replace("{sku}", "ROLE-1").replace("{name}", "amazon_main")
    url = re.sub(r"\{[^}]+\}", "1", url)
    response = getattr(_client("manager"), wrong)(url)
    assert response.status_code == 405, (wrong, url, response.status_code)
    assert response["Content-Type"] == "application/problem+json"
    answered = allowed | {"head"} if "get" in allowed else allowed
    assert response["Allow"] == ", ".join(sorted(m.upper() for m in answered))
    body = response.json()
    assert body["status"] == 405 and body["type"] == "urn:cutroom:problem:method-not-allowed"
    assert wrong.upper() in body["detail"] and url in body["detail"]


def test_it_answers_405_before_asking_for_a_key():
    response = ApiClient().delete("/api/v1/presets")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("path", sorted({p for m, p in MATRIX if m == "get"}))
def test_it_answers_head_wherever_get_is_answered_without_a_body(path):
    url = re.sub(r"\{[^}]+\}", "1", path.replace("{name}", "amazon_main"))
    client = _client("manager")
    get, head = client.get(url), client.head(url)
    assert head.status_code == get.status_code, (url, head.status_code, get.status_code)
    assert head.content == b""
    assert head["Content-Type"] == get["Content-Type"]
    assert head["Content-Length"] == str(len(get.content))


def test_it_refuses_head_where_there_is_no_get():
    response = _client("manager").head("/api/v1/exports/1/cancel")
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_it_says_who_may_do_what_a_403_refuses(client):
    keyed = _client("reviewer").post("/api/v1/exports", {"presets": ["amazon_main"]})
    assert keyed.status_code == 403
    assert keyed.json()["detail"] == (
        "This key's scope (reviewer) cannot export images (needs export_images).")
    client.force_login(reviewer())
    session = client.get("/api/v1/exports")
    assert session.status_code == 403
    # QA 2026-12-04: "Your role does not allow this (export_images; your role)."
    assert session.json()["detail"] == (
        "Only catalog managers can export images (needs export_images).")

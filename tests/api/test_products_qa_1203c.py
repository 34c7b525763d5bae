"""QA 2026-12-03 (c) on the product API: a product is read by SKU (ignoring case, as every SKU
input), a PATCH naming another SKU says it cannot be changed, an image refusal names the form
field at fault (the file named in the message), and flags are booleans only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from catalog.models import ImageAsset
from tests.factories import ImageAssetFactory, ProductFactory
from tests.images import product_jpeg

pytestmark = pytest.mark.django_db


def _file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


# --- GET /products/by-sku/{sku} ----------------------------------------------------------------


def test_it_reads_a_product_by_sku_ignoring_case(reviewer_api):
    product = ProductFactory(sku="QA001", title="Blue vase")
    for sku in ("QA001", "qa001"):
        answer = reviewer_api.get(f"/api/v1/products/by-sku/{sku}")
        assert answer.status_code == 200, answer.content
        assert (answer.json()["id"], answer.json()["sku"]) == (product.pk, "QA001")
        assert answer.json()["title"] == "Blue vase"


def test_it_answers_404_problem_for_an_unknown_or_deleted_sku(reviewer_api):
    ProductFactory(sku="GONE-1", deleted_at=timezone.now())
    missing = reviewer_api.get("/api/v1/products/by-sku/qa009")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    assert missing.json()["detail"] == "No product with SKU qa009."
    gone = reviewer_api.get("/api/v1/products/by-sku/gone-1")
    assert gone.status_code == 404 and gone.json()["detail"] == "Product GONE-1 is deleted."


# --- PATCH /products/{id} with sku -------------------------------------------------------------


def test_it_says_the_sku_cannot_be_changed(manager_api):
    product = ProductFactory(sku="QA001", title="Old")
    url = f"/api/v1/products/{product.pk}"
    refused = manager_api.patch(url, {"sku": "QA002", "title": "New"})
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "sku"
    assert error["message"].startswith("the SKU cannot be changed; ")
    assert "Extra inputs" not in refused.content.decode()
    product.refresh_from_db()
    assert (product.sku, product.title) == ("QA001", "Old")
    # what a client read, sent back with one field changed, is fine
    same = manager_api.patch(url, {"sku": "QA001", "title": "New"})
    assert same.status_code == 200 and same.json()["title"] == "New"


# --- POST /products/{id}/images: errors[].field, boolean flags ---------------------------------


def test_it_names_position_as_the_field_of_an_unknown_position(manager_api):
    product = ProductFactory(sku="IMG-Z")
    refused = manager_api.post(f"/api/v1/products/{product.pk}/images",
                               {"file": _file("a.jpg", product_jpeg(seed=1)),
                                "position": "ZZZ"}, json=False)
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "position"
    assert error["message"].startswith("a.jpg: Unknown position 'ZZZ'")


def test_it_names_file_for_each_file_refused_for_itself(manager_api):
    product = ProductFactory(sku="IMG-T")
    refused = manager_api.post(f"/api/v1/products/{product.pk}/images", {
        "file": [_file("bad.jpg", b"not an image" * 20), _file("cut.jpg", b"\xff\xd8\xff")]},
        json=False)
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert [e["field"] for e in errors] == ["file", "file"]
    assert [e["message"].split(": ", 1)[0] for e in errors] == ["bad.jpg", "cut.jpg"]


def test_it_names_position_for_a_file_refused_for_a_taken_position(manager_api):
    product = ProductFactory(sku="IMG-T")
    ImageAssetFactory(product=product, position="MAIN")
    refused = manager_api.post(f"/api/v1/products/{product.pk}/images", {
        "file": _file("b.jpg", product_jpeg(seed=2)), "position": "MAIN"}, json=False)
    [error] = refused.json()["errors"]
    assert error["field"] == "position"
    assert error["message"].startswith("b.jpg: Position MAIN of IMG-T is already taken")


@pytest.mark.parametrize("value", ["yes", "on", "1", "maybe"])
def test_it_refuses_a_replace_flag_that_is_not_true_or_false(manager_api, value):
    product = ProductFactory(sku="IMG-R")
    ImageAssetFactory(product=product, position="MAIN")
    refused = manager_api.post(f"/api/v1/products/{product.pk}/images", {
        "file": _file("new.jpg", product_jpeg(seed=4)), "position": "MAIN",
        "replace": value}, json=False)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["replace"]
    assert ImageAsset.live.filter(product=product).count() == 1  # nothing replaced


def test_it_still_takes_replace_true_and_false(manager_api):
    product = ProductFactory(sku="IMG-S")
    url = f"/api/v1/products/{product.pk}/images"
    first = manager_api.post(url, {"file": _file("a.jpg", product_jpeg(seed=5)),
                                   "position": "MAIN", "replace": "false"}, json=False)
    assert first.status_code == 201
    again = manager_api.post(url, {"file": _file("b.jpg", product_jpeg(seed=6)),
                                   "position": "MAIN", "replace": "True"}, json=False)
    assert again.status_code == 201 and again.json()["results"][0]["replaced"]


def test_it_takes_only_a_json_boolean_for_a_direct_uploads_replace(manager_api):
    product = ProductFactory(sku="IMG-D")
    refused = manager_api.post(f"/api/v1/products/{product.pk}/images/direct/finish",
                               {"token": "x", "replace": "yes"})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["replace"]

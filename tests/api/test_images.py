import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import ImageAsset
from catalog.services.assets import asset_ingest
from tests.factories import ImageAssetFactory, ProductFactory
from tests.images import product_jpeg

pytestmark = pytest.mark.django_db


def _file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def test_it_stores_uploads_through_the_ingest_service(manager_api):
    product = ProductFactory(sku="IMG-1")
    response = manager_api.post(
        f"/api/v1/products/{product.pk}/images",
        {"file": [_file("a.jpg", product_jpeg(seed=1)), _file("b.jpg", product_jpeg(seed=2))]},
        json=False)
    assert response.status_code == 201
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["stored", "stored"]
    assert results[0]["image"]["original"]["width"] == 800
    assert results[0]["image"]["working"]["width"] == 800
    assert ImageAsset.live.filter(product=product).count() == 2


def test_it_reports_duplicates_and_refusals_in_the_uis_words(manager_api):
    product = ProductFactory(sku="IMG-2")
    data = product_jpeg(seed=3)
    url = f"/api/v1/products/{product.pk}/images"
    assert manager_api.post(url, {"file": _file("a.jpg", data)}, json=False).status_code == 201
    duplicate = manager_api.post(url, {"file": _file("again.jpg", data)}, json=False)
    assert duplicate.status_code == 200
    expected = asset_ingest(product=product, fileobj=io.BytesIO(data),
                            filename="again.jpg").reason
    assert duplicate.json()["results"][0]["reason"] == expected
    garbage = b"not an image at all" * 10
    refused = manager_api.post(url, {"file": _file("x.jpg", garbage)}, json=False)
    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    ui_reason = asset_ingest(product=product, fileobj=io.BytesIO(garbage),
                             filename="x.jpg").reason
    assert refused.json()["errors"] == [{"field": "x.jpg", "message": ui_reason}]


def test_it_warns_that_an_image_past_pt08_shares_pt08(manager_api):
    product = ProductFactory(sku="IMG-FULL")
    for position in ["MAIN"] + [f"PT0{n}" for n in range(1, 9)]:
        ImageAssetFactory(product=product, position=position)
    response = manager_api.post(f"/api/v1/products/{product.pk}/images",
                                {"file": _file("tenth.jpg", product_jpeg(seed=9))}, json=False)
    assert response.status_code == 201
    result = response.json()["results"][0]
    assert result["image"]["position"] == "PT08"
    assert any("No free position left for IMG-FULL" in w and "shares PT08" in w
               for w in result["warnings"]), result["warnings"]


def test_it_needs_a_file(manager_api):
    product = ProductFactory()
    response = manager_api.post(f"/api/v1/products/{product.pk}/images", {}, json=False)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"


def test_it_lists_images_and_their_metadata(manager_api, readonly_api):
    product = ProductFactory(sku="IMG-3")
    manager_api.post(f"/api/v1/products/{product.pk}/images",
                     {"file": _file("a.jpg", product_jpeg(seed=4)), "position": "PT01"},
                     json=False)
    listed = readonly_api.get(f"/api/v1/products/{product.pk}/images").json()
    assert [i["position"] for i in listed] == ["PT01"]
    one = readonly_api.get(f"/api/v1/images/{listed[0]['id']}").json()
    assert one["original"]["format"] == "JPEG" and one["original"]["filename"] == "a.jpg"
    assert one["product_sku"] == "IMG-3"
    assert readonly_api.get("/api/v1/images/999999").status_code == 404


def test_it_keeps_uploads_to_roles_that_may_upload(reviewer_api):
    product = ProductFactory()
    response = reviewer_api.post(f"/api/v1/products/{product.pk}/images",
                                 {"file": _file("a.jpg", product_jpeg(seed=5))}, json=False)
    assert response.status_code == 403
    assert not ImageAsset.objects.filter(product=product).exists()


def test_it_never_stores_an_idempotent_upload_twice(manager_api):
    product = ProductFactory()
    url = f"/api/v1/products/{product.pk}/images"
    data = product_jpeg(seed=6)
    headers = {"HTTP_IDEMPOTENCY_KEY": "upload-1"}
    first = manager_api.post(url, {"file": _file("a.jpg", data)}, json=False, headers=headers)
    again = manager_api.post(url, {"file": _file("a.jpg", data)}, json=False, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["results"][0]["status"] == "stored"
    assert ImageAsset.objects.filter(product=product).count() == 1

"""The API's shared-GTIN warning and image restore (proposed with catalog/api.py)."""

import pytest

from catalog.models import ImageAsset
from catalog.services.assets import asset_soft_delete
from tests.factories import ProductFactory, stored_image

pytestmark = pytest.mark.django_db

GTIN = "4006381333931"


def test_it_warns_in_the_answer_when_a_product_takes_a_gtin_another_has(manager_api):
    ProductFactory(sku="TOY-1", gtin=GTIN)
    created = manager_api.post("/api/v1/products", {"sku": "TOY-2", "gtin": GTIN})
    assert created.status_code == 201
    assert created.json()["warnings"][0].startswith(f"GTIN {GTIN} is also on product TOY-1")
    other = manager_api.post("/api/v1/products", {"sku": "TOY-3"}).json()
    assert other["warnings"] == []
    patched = manager_api.patch(f"/api/v1/products/{other['id']}", {"gtin": GTIN}).json()
    assert "TOY-1" in patched["warnings"][0] and "TOY-2" in patched["warnings"][0]


def test_it_restores_a_deleted_image_and_refuses_a_taken_position(manager_api, settings,
                                                                  tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)}}}
    product = ProductFactory(sku="TOY-1")
    old = stored_image(product, "old.jpg", "MAIN", seed=1)
    asset_soft_delete(asset=old)
    url = f"/api/v1/products/{product.pk}/images/{old.pk}/restore"
    answer = manager_api.post(url)
    assert answer.status_code == 200 and answer.json()["id"] == old.pk
    asset_soft_delete(asset=ImageAsset.objects.get(pk=old.pk))
    stored_image(product, "new.jpg", "MAIN", seed=2)
    refused = manager_api.post(url)
    assert refused.status_code == 409 and "position MAIN is now taken" in refused.json()["detail"]

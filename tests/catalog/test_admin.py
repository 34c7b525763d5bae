import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from catalog.models import ImageAsset, Product
from catalog.services.assets import asset_ingest
from tests.catalog.imagegen import jpeg_bytes
from tests.factories import ImportJobFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-long-enough")
    client.force_login(user)
    return client


def test_it_shows_the_catalog_changelists(admin_client, storage):
    product = ProductFactory()
    asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes()), filename="a.jpg")
    ImportJobFactory()
    for model in ("product", "imageasset", "importjob"):
        response = admin_client.get(reverse(f"admin:catalog_{model}_changelist"))
        assert response.status_code == 200


def test_it_creates_products_through_the_service_validation(admin_client):
    url = reverse("admin:catalog_product_add")
    response = admin_client.post(url, {"sku": "ADM-1", "title": "From admin",
                                       "gtin": "4006381333932"})
    assert response.status_code == 200 and "wrong check digit" in response.content.decode()
    response = admin_client.post(url, {"sku": "ADM-1", "title": "From admin",
                                       "gtin": "4006381333931"})
    assert response.status_code == 302
    assert Product.objects.get(sku="ADM-1").title == "From admin"


def test_it_soft_deletes_from_the_admin(admin_client, storage):
    product = ProductFactory()
    asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes()), filename="a.jpg")
    url = reverse("admin:catalog_product_delete", args=[product.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    product.refresh_from_db()
    assert product.deleted_at is not None
    assert ImageAsset.live.count() == 0 and ImageAsset.objects.count() == 1

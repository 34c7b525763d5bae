import html
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from catalog.models import ImageAsset, Product
from catalog.services.assets import asset_ingest
from catalog.services.products import product_soft_delete, products_release_purged
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


# --- SKUs of deleted and purged products ------------------------------------------------------


def _deleted(sku: str, *, purge: bool = False) -> Product:
    product = product_soft_delete(product=ProductFactory(sku=sku))
    if purge:
        products_release_purged(deleted_before=timezone.now() + timedelta(seconds=1))
        product.refresh_from_db()
    return product


def test_it_refuses_the_sku_of_a_deleted_product_on_the_add_page(admin_client):
    _deleted("SHOE-77")
    response = admin_client.post(reverse("admin:catalog_product_add"), {"sku": "SHOE-77"})
    assert response.status_code == 200
    assert "Product SHOE-77 was deleted; restore it" in response.content.decode()


def test_it_adds_a_case_variant_of_a_deleted_products_sku(admin_client):
    _deleted("SHOE-77")
    response = admin_client.post(reverse("admin:catalog_product_add"), {"sku": "shoe-77"})
    assert response.status_code == 302


def test_it_adds_the_sku_of_a_purged_product(admin_client):
    _deleted("SHOE-77", purge=True)
    response = admin_client.post(reverse("admin:catalog_product_add"), {"sku": "SHOE-77"})
    assert response.status_code == 302


def test_it_edits_a_deleted_and_a_purged_product(admin_client):
    # a purged product's SKU is a tombstone (~12~SHOE-2) that the SKU rules refuse
    for product in (_deleted("SHOE-1"), _deleted("SHOE-2", purge=True)):
        url = reverse("admin:catalog_product_change", args=[product.pk])
        assert admin_client.get(url).status_code == 200
        response = admin_client.post(url, {"title": "Renamed"})
        assert response.status_code == 302, response.content.decode()[:2000]


# --- Deleting is a soft delete, and the pages say so ------------------------------------------


@pytest.mark.parametrize("model", ["product", "imageasset"])
def test_it_offers_one_delete_action_named_for_the_soft_delete(admin_client, model):
    page = admin_client.get(reverse(f"admin:catalog_{model}_changelist")).content.decode()
    actions = re.findall(r'<option value="(\w+)">([^<]*)</option>',
                         page.split('name="action"', 1)[1].split("</select>", 1)[0])
    label = "products" if model == "product" else "image assets"
    assert actions == [("delete_selected", f"Delete selected {label} (soft delete)")]


def test_it_says_on_the_delete_pages_that_the_originals_are_kept_until_purge(admin_client,
                                                                             storage, settings):
    settings.CUTROOM_PURGE_RETENTION_DAYS = 30
    product = ProductFactory(sku="DEL-1")
    asset = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes()),
                         filename="a.jpg").asset
    page = html.unescape(admin_client.get(
        reverse("admin:catalog_product_delete", args=[product.pk])).content.decode())
    assert "related items will be deleted" not in page
    assert ("This is a soft delete: nothing is erased now. The products and their images are "
            "hidden, and can be restored with those images from Products → Deleted products; "
            "their original files are kept until the purge, 30 days after the deletion.") in page
    assert "Image assets: 1" in page
    changelist = reverse("admin:catalog_imageasset_changelist")
    page = html.unescape(admin_client.post(changelist, {
        "action": "delete_selected", "_selected_action": [asset.pk]}).content.decode())
    assert "will be deleted" not in page
    assert "The images are hidden from their products; their original files are kept" in page
    admin_client.post(changelist, {"action": "delete_selected", "_selected_action": [asset.pk],
                                   "post": "yes"})
    assert ImageAsset.objects.get(pk=asset.pk).deleted_at is not None  # kept, hidden

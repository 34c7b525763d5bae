"""Product create/edit/restore pages, SKU reuse after a purge, and the approved cutout beside
the original (the CSV bulk edit: test_product_bulk.py)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog import selectors
from catalog.errors import ProductDeletedError, ProductPurgedError
from catalog.models import ImageAsset, Product
from catalog.services import products, purge
from tests.factories import ImageAssetFactory, ProductFactory, reviewer

pytestmark = pytest.mark.django_db

GOOD_GTIN = "4006381333931"



# --- Services ------------------------------------------------------------------------------


def test_it_refuses_to_create_a_deleted_sku_and_names_the_product_to_restore():
    gone = ProductFactory(sku="SHOE-1", deleted_at=timezone.now())
    with pytest.raises(ProductDeletedError) as caught:
        products.product_create(sku=" SHOE-1 ")
    assert caught.value.product == gone
    assert "restore" in caught.value.text
    assert caught.value.message_dict == {"sku": [caught.value.text]}
    assert Product.objects.filter(sku="SHOE-1").count() == 1


def test_it_frees_the_sku_of_a_product_once_purge_passed_its_retention(settings, storage):
    settings.CUTROOM_PURGE_RETENTION_DAYS = 30
    old = ProductFactory(sku="OLD-1", deleted_at=timezone.now() - timedelta(days=31))
    recent = ProductFactory(sku="NEW-1", deleted_at=timezone.now() - timedelta(days=2))
    ProductFactory(sku="LIVE-1")

    assert purge.purge_run(dry_run=True).skus_released == []
    result = purge.purge_run()

    assert result.skus_released == ["OLD-1"]
    old.refresh_from_db()
    assert old.sku == f"~{old.pk}~OLD-1" and products.is_purged(old)
    reused = products.product_create(sku="OLD-1", title="Second life")
    assert reused.pk != old.pk and reused.deleted_at is None
    with pytest.raises(ProductDeletedError):
        products.product_create(sku="NEW-1")
    assert Product.objects.get(pk=recent.pk).sku == "NEW-1"
    with pytest.raises(ProductPurgedError):
        products.product_restore(product=old)


def test_it_restores_a_product_with_the_images_deleted_with_it_only():
    product = ProductFactory()
    kept = ImageAssetFactory(product=product)
    earlier = ImageAssetFactory(product=product, deleted_at=timezone.now() - timedelta(days=1))
    products.product_soft_delete(product=product)
    products.product_restore(product=product)
    assert Product.live.filter(pk=product.pk).exists()
    assert ImageAsset.live.filter(pk=kept.pk).exists()
    assert not ImageAsset.live.filter(pk=earlier.pk).exists()


def test_it_lists_restorable_deleted_products_newest_first_without_purged_ones():
    now = timezone.now()
    ProductFactory(sku="A-1", deleted_at=now - timedelta(days=3))
    ProductFactory(sku="B-1", deleted_at=now - timedelta(days=1))
    ProductFactory(sku="~9~C-1", deleted_at=now - timedelta(days=90))
    ProductFactory(sku="LIVE-1")
    assert [p.sku for p in selectors.product_deleted_list()] == ["B-1", "A-1"]
    assert [p.sku for p in selectors.product_deleted_list(search="a-")] == ["A-1"]


# --- Pages ---------------------------------------------------------------------------------


def test_it_creates_a_product_from_the_new_product_page(manager_client):
    url = reverse("catalog:product_create")
    assert manager_client.get(url).status_code == 200
    response = manager_client.post(url, {"sku": "SHOE-9", "title": "Runner", "brand": "Acme",
                                         "category": "Shoes", "gtin": "4006-381-333931",
                                         "asin": "b0abcdefgh"})
    product = Product.objects.get(sku="SHOE-9")
    assert response.status_code == 302
    assert response.url == reverse("catalog:product_detail", args=[product.pk])
    assert (product.title, product.gtin, product.asin) == ("Runner", GOOD_GTIN, "B0ABCDEFGH")


@pytest.mark.parametrize("fields, field, words", [
    ({"sku": "bad sku"}, "sku", "letters, digits"),
    ({"sku": "OK-1", "gtin": "4006381333932"}, "gtin", "check digit"),
    ({"sku": "TAKEN-1"}, "sku", "already exists"),
    ({"sku": ""}, "sku", "required"),
])
def test_it_shows_the_service_validation_messages_on_the_form(manager_client, fields, field,
                                                              words):
    ProductFactory(sku="TAKEN-1")
    response = manager_client.post(reverse("catalog:product_create"), fields)
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert words in errors.lower() or words in errors
    assert Product.objects.count() == 1


def test_it_offers_restore_when_a_new_product_reuses_a_deleted_sku(manager_client):
    gone = ProductFactory(sku="SHOE-1", deleted_at=timezone.now())
    response = manager_client.post(reverse("catalog:product_create"), {"sku": "SHOE-1"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "data-restore-offer" in body
    assert reverse("catalog:product_restore", args=[gone.pk]) in body


def test_it_edits_a_product_and_keeps_it_unchanged_on_a_bad_value(manager_client):
    product = ProductFactory(sku="SHOE-1", brand="Old")
    url = reverse("catalog:product_edit", args=[product.pk])
    page = manager_client.get(url)
    assert page.status_code == 200 and "sku" not in page.context["form"].fields
    bad = manager_client.post(url, {"brand": "New", "gtin": "123"})
    assert bad.status_code == 400 and bad.context["form"].errors["gtin"]
    assert Product.objects.get(pk=product.pk).brand == "Old"
    good = manager_client.post(url, {"title": "T", "brand": "New", "category": "C"})
    assert good.status_code == 302
    product.refresh_from_db()
    assert (product.sku, product.title, product.brand, product.category) == (
        "SHOE-1", "T", "New", "C")


def test_it_lists_deleted_products_and_restores_one(manager_client):
    product = ProductFactory(sku="SHOE-1")
    asset = ImageAssetFactory(product=product)
    products.product_soft_delete(product=product)
    page = manager_client.get(reverse("catalog:product_deleted_list"))
    assert [p.sku for p in page.context["products"]] == ["SHOE-1"]
    assert page.context["products"][0].asset_count == 1
    response = manager_client.post(reverse("catalog:product_restore", args=[product.pk]))
    assert response.url == reverse("catalog:product_detail", args=[product.pk])
    assert Product.live.filter(pk=product.pk).exists()
    assert ImageAsset.live.filter(pk=asset.pk).exists()


def test_it_explains_that_a_purged_product_cannot_be_restored(manager_client):
    product = ProductFactory(sku="~5~SHOE-1", deleted_at=timezone.now())
    response = manager_client.post(reverse("catalog:product_restore", args=[product.pk]),
                                   follow=True)
    assert b"was purged" in response.content
    assert Product.live.count() == 0


def test_it_refuses_to_restore_a_product_whose_sku_a_live_one_holds_in_another_case(
        manager_client):
    gone = ProductFactory(sku="shoe-77")
    products.product_soft_delete(product=gone)
    live = ProductFactory(sku="SHOE-77")  # made while shoe-77 was deleted
    response = manager_client.post(reverse("catalog:product_restore", args=[gone.pk]),
                                   follow=True)
    assert "differs only in case from product SHOE-77" in response.content.decode()
    assert list(Product.live.values_list("pk", flat=True)) == [live.pk]  # no live twins


def test_it_hides_product_forms_from_reviewers(client):
    client.force_login(reviewer())
    product = ProductFactory()
    assert client.get(reverse("catalog:product_create")).status_code == 403
    assert client.get(reverse("catalog:product_edit", args=[product.pk])).status_code == 403
    assert client.get(reverse("catalog:product_deleted_list")).status_code == 403
    body = client.get(reverse("catalog:product_list")).content.decode()
    assert reverse("catalog:product_create") not in body
    assert 'name="sku"' not in body


def test_it_says_which_skus_the_purge_command_released(storage, capsys):
    from django.core.management import call_command

    ProductFactory(sku="OLD-7", deleted_at=timezone.now() - timedelta(days=400))
    call_command("purge", "--days", "30")
    assert "Released 1 SKUs of purged products for reuse: OLD-7" in capsys.readouterr().out

"""Product pages: the shared-GTIN warning, one word per image status on the dashboard and
the product list, Undo after a product or image delete, the image restore service and human
refusals (bulk-edit lines naming one product twice: test_product_bulk.py)."""

import pytest
from django.urls import reverse

from catalog import selectors
from catalog.errors import AssetRestoreError
from catalog.models import AssetStatus, ImageAsset, Product
from catalog.services import assets
from tests.factories import ImageAssetFactory, ProductFactory, reviewer, stored_image

pytestmark = pytest.mark.django_db

GTIN = "4006381333931"
HTMX = {"HTTP_HX_REQUEST": "true"}



def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


# --- 1. a GTIN another product has -------------------------------------------------------


def test_it_warns_when_a_new_product_takes_a_gtin_another_product_has(manager_client):
    other = ProductFactory(sku="TOY-1", gtin=GTIN)
    response = manager_client.post(reverse("catalog:product_create"),
                                   {"sku": "TOY-2", "gtin": GTIN}, follow=True)
    assert Product.objects.get(sku="TOY-2").gtin == GTIN  # a warning, not a refusal
    text = response.content.decode()
    assert f"GTIN {GTIN} is also on product TOY-1 (#{other.pk})" in text


def test_it_warns_when_an_edit_gives_a_product_a_gtin_another_has(manager_client):
    ProductFactory(sku="TOY-1", gtin=GTIN)
    product = ProductFactory(sku="TOY-2")
    response = manager_client.post(reverse("catalog:product_edit", args=[product.pk]),
                                   {"gtin": GTIN}, follow=True)
    assert "is also on product TOY-1" in response.content.decode()
    # its own GTIN, and a deleted product's, are no warning
    Product.objects.filter(sku="TOY-1").update(deleted_at="2026-01-01T00:00Z")
    response = manager_client.post(reverse("catalog:product_edit", args=[product.pk]),
                                   {"gtin": GTIN}, follow=True)
    assert "is also on product" not in response.content.decode()


# --- 2. one word per status ----------------------------------------------------------------


def test_it_counts_statuses_in_the_same_words_on_the_dashboard_and_the_product_list(client):
    for _ in range(3):
        ImageAssetFactory(status=AssetStatus.CUT_OUT)
    ImageAssetFactory(status=AssetStatus.IN_REVIEW)
    client.force_login(reviewer())
    summary = client.get(reverse("catalog:dashboard_summary")).content.decode()
    listing = client.get(reverse("catalog:product_list")).content.decode()
    strip = listing.split('id="status-counts"')[1].split("</nav>")[0]
    for value, label in AssetStatus.choices:
        n = {AssetStatus.CUT_OUT: 3, AssetStatus.IN_REVIEW: 1}.get(value, 0)
        chip = f'data-status="{value}">{label} <b>{n}</b>'
        assert chip in summary and chip in strip, value
    dashboard = client.get(reverse("dashboard")).content.decode()
    review = dashboard.split('id="dashboard-review"')[1].split("</section>")[0]
    assert ">To review <b>" in review and "In review <b>" not in review


# --- 3, 7. Undo -----------------------------------------------------------------------------


def test_it_offers_undo_after_a_product_delete(manager_client):
    product = ProductFactory(sku="TOY-1")
    response = manager_client.post(reverse("catalog:product_delete", args=[product.pk]),
                                   follow=True)
    text = response.content.decode()
    undo = reverse("catalog:product_restore", args=[product.pk])
    assert "Product TOY-1 deleted" in text and f'action="{undo}"' in text
    assert ">Undo</button>" in text
    manager_client.post(undo)
    assert Product.live.filter(pk=product.pk).exists()


def test_it_restores_a_deleted_image_at_its_position(storage, manager_client):
    product = ProductFactory(sku="TOY-1")
    image = stored_image(product, "toy-1.jpg", "MAIN", seed=1)
    response = manager_client.post(
        reverse("catalog:asset_delete", args=[product.pk, image.pk]), **HTMX)
    text = response.content.decode()
    undo = reverse("catalog:asset_restore", args=[product.pk, image.pk])
    assert 'id="asset-undo" role="status" hx-swap-oob="true"' in text
    assert "Image MAIN of TOY-1 (toy-1.jpg) deleted" in text and f'action="{undo}"' in text
    response = manager_client.post(undo, follow=True)
    assert "Image MAIN of TOY-1 restored." in messages_of(response)
    assert ImageAsset.live.get(pk=image.pk).position == "MAIN"


def test_it_offers_undo_in_the_flash_without_htmx(storage, manager_client):
    product = ProductFactory(sku="TOY-1")
    image = stored_image(product, "toy-1.jpg", "PT01", seed=1)
    response = manager_client.post(
        reverse("catalog:asset_delete", args=[product.pk, image.pk]), follow=True)
    text = response.content.decode()
    assert f'action="{reverse("catalog:asset_restore", args=[product.pk, image.pk])}"' in text


def test_it_refuses_to_restore_an_image_whose_position_is_taken(storage,
                                                                manager_client):
    product = ProductFactory(sku="TOY-1")
    old = stored_image(product, "old.jpg", "MAIN", seed=1)
    assets.asset_soft_delete(asset=old)
    new = stored_image(product, "new.jpg", "MAIN", seed=2)
    response = manager_client.post(
        reverse("catalog:asset_restore", args=[product.pk, old.pk]), follow=True)
    assert messages_of(response) == [
        f"Image MAIN of TOY-1 (old.jpg) cannot be restored: position MAIN is now taken by "
        f"new.jpg (asset #{new.pk}). Delete that image first, or upload this file again at "
        "another position."]
    assert not ImageAsset.live.filter(pk=old.pk).exists()


def test_it_refuses_to_restore_an_image_whose_files_were_purged(storage):
    image = ImageAssetFactory()  # a row whose files are not in storage
    assets.asset_soft_delete(asset=image)
    with pytest.raises(AssetRestoreError, match="purge removed its files"):
        assets.asset_restore(asset=image)


def test_it_refuses_to_restore_an_image_of_a_deleted_product(storage):
    image = stored_image(ProductFactory(sku="TOY-1"), "a.jpg", "MAIN", seed=1)
    assets.asset_soft_delete(asset=image)
    Product.objects.filter(pk=image.product_id).update(deleted_at="2026-01-01T00:00Z")
    image.refresh_from_db()
    with pytest.raises(AssetRestoreError, match="restore the product"):
        assets.asset_restore(asset=image)


def test_it_asks_before_replacing_a_held_position_on_the_product_page(manager_client):
    product = ProductFactory(sku="TOY-1")
    page = manager_client.get(reverse("catalog:product_detail", args=[product.pk]))
    text = page.content.decode()
    assert "js/replace-confirm.js" in text and "data-replace-confirm" in text


# --- 5. refusals in words ------------------------------------------------------------------


def test_it_refuses_a_reviewer_in_words_not_capability_ids(client):
    product = ProductFactory()
    client.force_login(reviewer())
    response = client.get(reverse("catalog:product_edit", args=[product.pk]))
    text = response.content.decode()
    assert response.status_code == 403
    assert ("Only catalog managers can create and edit products and upload or import "
            "images.") in text
    assert "upload_images" not in text


def test_it_reads_the_gtin_warning_from_one_selector():
    first = ProductFactory(sku="A-1", gtin=GTIN)
    second = ProductFactory(sku="B-1", gtin=GTIN)
    assert selectors.product_gtin_warning(product=ProductFactory(sku="C-1")) == ""
    assert "A-1" in selectors.product_gtin_warning(product=second)
    assert "B-1" in selectors.product_gtin_warning(product=first)

"""QA 2026-12-03 (c) on product pages: a deleted product's address says it was deleted (with
Restore for managers), and the New product form refuses a too-long SKU as the API does."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product
from catalog.services.products import products_release_purged
from tests.api.conftest import ApiClient, key_for
from tests.factories import ProductFactory, manager, reviewer

pytestmark = pytest.mark.django_db


def test_it_offers_a_manager_the_restore_of_a_deleted_product_at_its_address(client):
    product = ProductFactory(sku="QA001", deleted_at=timezone.now())
    client.force_login(manager())
    page = client.get(reverse("catalog:product_detail", args=[product.pk]))
    text = page.content.decode()
    assert page.status_code == 404  # the product page itself is gone
    assert "QA001 was deleted" in text
    restore = reverse("catalog:product_restore", args=[product.pk])
    assert f'action="{restore}"' in text and "Restore QA001" in text
    # the restore that already exists (the Deleted products list's) brings it back
    answer = client.post(restore)
    assert answer["Location"] == reverse("catalog:product_detail", args=[product.pk])
    assert client.get(answer["Location"]).status_code == 200


def test_it_tells_a_reviewer_a_product_was_deleted_without_a_restore(client):
    product = ProductFactory(sku="QA002", deleted_at=timezone.now())
    client.force_login(reviewer())
    page = client.get(reverse("catalog:product_detail", args=[product.pk]))
    text = page.content.decode()
    assert page.status_code == 404 and "QA002 was deleted" in text
    assert "A catalog manager can restore it" in text
    assert reverse("catalog:product_restore", args=[product.pk]) not in text


def test_it_offers_no_restore_once_a_deleted_product_is_purged(client):
    product = ProductFactory(sku="QA003", deleted_at=timezone.now() - timedelta(days=90))
    products_release_purged(deleted_before=timezone.now())
    client.force_login(manager())
    text = client.get(reverse("catalog:product_detail", args=[product.pk])).content.decode()
    assert "QA003 was deleted" in text and "purged" in text
    assert reverse("catalog:product_restore", args=[product.pk]) not in text
    assert Product.objects.get(pk=product.pk).sku.startswith("~")


def test_it_still_answers_404_for_a_product_that_never_existed(client):
    client.force_login(manager())
    assert client.get(reverse("catalog:product_detail", args=[987654])).status_code == 404


# --- 6. a too-long SKU is refused, never cut ----------------------------------------------------


def test_it_refuses_a_65_character_sku_with_the_apis_words(client):
    user = manager()
    client.force_login(user)
    page = client.get(reverse("catalog:product_create")).content.decode()
    sku_input = re.search(r'<input[^>]*name="sku"[^>]*>', page).group(0)
    assert "maxlength" not in sku_input  # the browser no longer cuts it silently
    assert "Up to 64 characters" in page
    sku = "S" * 65
    refused = client.post(reverse("catalog:product_create"), {"sku": sku})
    assert refused.status_code == 400
    shown = re.findall(r'data-error-for="sku">([^<]*)<', refused.content.decode())
    api = ApiClient(key_for(user, "manager")).post("/api/v1/products", {"sku": sku})
    assert api.status_code == 422
    assert shown == [error["message"] for error in api.json()["errors"]]
    assert not Product.objects.exists()
    # 64 characters is a SKU
    assert client.post(reverse("catalog:product_create"), {"sku": "S" * 64}).status_code == 302

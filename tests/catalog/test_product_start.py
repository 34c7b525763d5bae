"""The product page's "Start cutouts": offered as soon as the product has images, without a
reload (QA 2026-12-04: after the first upload onto an empty product only the grid's disabled
"Cut out / re-run selected" showed until the page was loaded again)."""

import re

import pytest
from django.urls import reverse

from tests.catalog.test_views import HTMX, stored_asset
from tests.factories import ProductFactory, reviewer

pytestmark = pytest.mark.django_db

START = re.compile(r'<form [^>]*id="product-start"[^>]*>')
OOB_START = re.compile(r'<form [^>]*id="product-start"[^>]*hx-swap-oob="true"')
OOB_PLACE = re.compile(r'<span id="product-start" hidden hx-swap-oob="true">')


def test_it_keeps_a_place_for_start_cutouts_on_an_empty_products_page(manager_client):
    product = ProductFactory()
    page = manager_client.get(reverse("catalog:product_detail", args=[product.pk]))
    html = page.content.decode()
    assert 'id="product-start"' in html and not START.search(html)
    assert "hx-swap-oob" not in html.split('id="product-start"', 1)[1].split(">", 1)[0]


def test_it_sends_start_cutouts_with_the_grid_upload_js_asks_for(manager_client, storage):
    product = ProductFactory()
    url = reverse("catalog:product_detail", args=[product.pk])
    empty = manager_client.get(url, **HTMX).content.decode()
    assert OOB_PLACE.search(empty) and not START.search(empty)
    stored_asset(product)  # an upload went in
    html = manager_client.get(url, **HTMX).content.decode()
    assert html.lstrip().startswith('<section id="asset-grid"')
    assert OOB_START.search(html), html[-2000:]
    form = html.split('id="product-start"', 1)[1].split("</form>", 1)[0]
    assert f'name="product" value="{product.pk}"' in form
    assert f'name="next" value="{url}"' in form  # back to the page, not the htmx address
    assert "Start cutouts" in form


def test_it_takes_start_cutouts_away_with_the_last_image_deleted(manager_client, storage):
    product = ProductFactory()
    asset = stored_asset(product)
    html = manager_client.post(reverse("catalog:asset_delete", args=[product.pk, asset.pk]),
                               **HTMX).content.decode()
    assert OOB_PLACE.search(html) and not START.search(html)


def test_it_offers_no_start_cutouts_to_a_reviewer(client, storage):
    client.force_login(reviewer())
    product = ProductFactory()
    stored_asset(product)
    url = reverse("catalog:product_detail", args=[product.pk])
    for html in (client.get(url).content.decode(), client.get(url, **HTMX).content.decode()):
        assert 'id="product-start"' not in html


def test_it_names_the_products_and_the_selections_cutout_controls(manager_client, storage):
    """QA 2026-12-06 (session 38): two identical rows of Profile / Model / Shadow / Cut again,
    nothing saying which cuts the whole product and which the ticked images."""
    product = ProductFactory()
    stored_asset(product)
    html = manager_client.get(reverse("catalog:product_detail", args=[product.pk])
                              ).content.decode()
    forms = {}
    for scope in ("product-start", "asset-selection"):
        form = re.search(rf'<form [^>]*id="{scope}"[^>]*>(.*?)</form>', html, re.S)
        assert form and f'aria-labelledby="{scope}-scope"' in form.group(0)
        assert 'name="profile"' in form.group(1)  # the same controls in both rows
        forms[scope] = re.search(rf'id="{scope}-scope">([^<]*)<', form.group(1)).group(1)
    assert forms == {"product-start": "Whole product:", "asset-selection": "Selected images:"}

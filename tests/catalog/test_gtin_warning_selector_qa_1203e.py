"""The shared-GTIN warning is a read: it lives in ``catalog.selectors`` (not in the products
service), and the bulk edit's report gets it from there once the file is applied, so it
names the products that share the GTIN when the edit is done, not midway through the file."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog import selectors
from catalog.services import product_bulk, products
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

GTIN = "4006381333931"
OTHER_GTIN = "96385074"


def _bulk_page(client, text: str):
    upload = SimpleUploadedFile("edit.csv", text.encode(), "text/csv")
    response = client.post(reverse("catalog:product_bulk_edit"),
                           {"file": upload, "encoding": "utf-8"})
    assert response.status_code == 200
    return {r.sku: r.message for r in response.context["report"].lines}


def test_it_reads_the_gtin_warning_in_the_selectors_only():
    assert not hasattr(products, "product_gtin_warning")
    assert not hasattr(products, "products_sharing_gtin")
    ProductFactory(sku="A-1", gtin=GTIN)
    assert "A-1" in selectors.product_gtin_warning(product=ProductFactory(sku="B-1", gtin=GTIN))


def test_it_warns_both_bulk_lines_that_give_two_products_one_gtin(manager_client):
    ProductFactory(sku="TOY-1")
    ProductFactory(sku="TOY-2")
    lines = _bulk_page(manager_client, f"sku,gtin\nTOY-1,{GTIN}\nTOY-2,{GTIN}\n")
    # the first line's product shares it once the second line is applied
    assert lines["TOY-1"].startswith(f"gtin. Warning: GTIN {GTIN} is also on product TOY-2")
    assert lines["TOY-2"].startswith(f"gtin. Warning: GTIN {GTIN} is also on product TOY-1")


def test_it_does_not_warn_of_a_gtin_a_later_line_took_off_the_other_product(manager_client):
    ProductFactory(sku="TOY-1", gtin=GTIN)
    ProductFactory(sku="TOY-2")
    lines = _bulk_page(manager_client, f"sku,gtin\nTOY-2,{GTIN}\nTOY-1,{OTHER_GTIN}\n")
    assert lines == {"TOY-2": "gtin", "TOY-1": "gtin"}


def test_it_leaves_a_bulk_report_without_gtin_changes_as_it_is():
    ProductFactory(sku="TOY-1", gtin=GTIN)
    ProductFactory(sku="TOY-2", gtin=GTIN)
    report = product_bulk.products_bulk_update(data=b"sku,brand\nTOY-2,Zenith Toys\n")
    assert selectors.product_bulk_report_warned(report=report) is report
    assert [(r.outcome, r.message) for r in report.lines] == [("updated", "brand")]

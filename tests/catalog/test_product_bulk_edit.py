"""Product bulk edit (catalog/services/product_bulk.py): the CSV is read by the manifest's
reader (semicolons, tabs, unclosed quotes named by line), the report warns of a GTIN another
product has once the file is applied, and unknown SKUs say how to create the products."""

import pytest

from catalog import selectors
from catalog.errors import ManifestError
from catalog.models import Product
from catalog.services import product_bulk
from tests.catalog.test_manifest import _manifest_error
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


GOOD_GTIN = "4006381333931"


def test_it_warns_in_the_bulk_report_of_a_gtin_another_product_has():
    ProductFactory(sku="BEAR-006", gtin=GOOD_GTIN)
    plush = ProductFactory(sku="PLUSH-002", gtin="")
    report = selectors.product_bulk_report_warned(report=product_bulk.products_bulk_update(
        data=f"sku,gtin\nPLUSH-002,{GOOD_GTIN}\n".encode()))
    (line,) = report.lines
    plush.refresh_from_db()
    warning = selectors.product_gtin_warning(product=plush)
    assert warning.startswith(f"GTIN {GOOD_GTIN} is also on product BEAR-006 (#")
    assert (line.outcome, line.message) == ("updated", f"gtin. Warning: {warning}")
    assert plush.gtin == GOOD_GTIN  # a warning, not a refusal (variants may share one)


def test_it_does_not_warn_of_a_gtin_no_other_product_has():
    ProductFactory(sku="PLUSH-003", gtin="")
    report = selectors.product_bulk_report_warned(report=product_bulk.products_bulk_update(
        data=f"sku,gtin\nPLUSH-003,{GOOD_GTIN}\n".encode()))
    assert [(r.outcome, r.message) for r in report.lines] == [("updated", "gtin")]


def _bulk_error(data: bytes, encoding: str = "utf-8") -> str:
    with pytest.raises(ManifestError) as caught:
        product_bulk.products_bulk_update(data=data, encoding=encoding)
    return str(caught.value)


def test_it_tells_a_bulk_file_with_semicolons_to_use_commas():
    assert _bulk_error(b"sku;brand;category\nA-1;Acme;Toys\n") == (
        "The bulk-edit file uses semicolons; separate columns with commas.")
    assert _manifest_error(b"sku;title\nA;B\n") == (
        "The manifest uses semicolons; separate columns with commas.")


def test_it_names_the_line_of_an_unclosed_quote_in_a_bulk_file_and_changes_nothing():
    ProductFactory(sku="A-1", brand="Old")
    ProductFactory(sku="B-1", brand="Old")
    message = _bulk_error(b'sku,brand\nA-1,New\nB-1,"Acme\nC-1,X\n')
    assert message == (
        "The bulk-edit file has errors: line 3: not valid CSV: the row starting on line 3 "
        "(a quote opened there is never closed): unexpected end of data; nothing was changed.")
    assert set(Product.objects.values_list("brand", flat=True)) == {"Old"}
    assert "the row starting on line 2 (a quote opened there is never closed)" in (
        _manifest_error(b'sku,filename\nA,"a.jpg\n'))


@pytest.mark.parametrize("data, words", [
    ("sku,brand\nA-1,X\n".encode("utf-16")[:-1],
     "The bulk-edit file is UTF-16 (it starts with a byte-order mark) but ends in the middle"),
    (b"PK\x03\x04rest", "The bulk-edit file is an Excel workbook"),
    (b"sku,brand\nA-1,\xff\n", "The bulk-edit file is not valid UTF-8 (byte 0xFF on line 2)"),
    (b"", "The bulk-edit file is empty."),
])
def test_it_names_the_bulk_edit_file_in_its_read_errors(data, words):
    assert _bulk_error(data).startswith(words)


def test_it_reads_a_tab_separated_bulk_file():
    ProductFactory(sku="A-1", brand="Old", title="Old")
    report = product_bulk.products_bulk_update(
        data=b"sku\tbrand\ttitle\nA-1\tAcme\tBear, brown\n")
    assert [(r.sku, r.outcome) for r in report.lines] == [("A-1", "updated")]
    product = Product.objects.get(sku="A-1")
    assert (product.brand, product.title) == ("Acme", "Bear, brown")  # a comma is text


OTHER_GTIN = "96385074"


def test_it_leaves_a_bulk_report_without_gtin_changes_as_it_is():
    ProductFactory(sku="TOY-1", gtin=GOOD_GTIN)
    ProductFactory(sku="TOY-2", gtin=GOOD_GTIN)
    report = product_bulk.products_bulk_update(data=b"sku,brand\nTOY-2,Zenith Toys\n")
    assert selectors.product_bulk_report_warned(report=report) is report
    assert [(r.outcome, r.message) for r in report.lines] == [("updated", "brand")]

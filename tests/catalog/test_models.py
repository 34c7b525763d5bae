import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.models import ImageAsset, Product
from catalog.validators import gs1_check_digit, validate_asin, validate_gtin, validate_sku
from tests.factories import ImageAssetFactory, ProductFactory


@pytest.mark.parametrize("sku", ["A", "ABC-123", "abc_1.2", "0" * 64, "X9-RED_L"])
def test_it_accepts_plain_skus(sku):
    validate_sku(sku)


@pytest.mark.parametrize("sku", ["", "-ABC", "AB C", "AB/C", "ÄBC", "A" * 65, "=cmd", "../x"])
def test_it_refuses_skus_that_cannot_be_file_names(sku):
    with pytest.raises(ValidationError, match="SKU must be"):
        validate_sku(sku)


@pytest.mark.parametrize(
    "gtin",
    [
        "96385074",  # EAN-8
        "036000291452",  # UPC-A
        "4006381333931",  # EAN-13
        "10614141000415",  # GTIN-14
    ],
)
def test_it_accepts_gtins_with_correct_check_digits(gtin):
    validate_gtin(gtin)


@pytest.mark.parametrize("gtin", ["96385075", "036000291453", "4006381333932", "10614141000416"])
def test_it_names_the_expected_check_digit_of_a_wrong_gtin(gtin):
    expected = gs1_check_digit(gtin[:-1])
    with pytest.raises(ValidationError, match=f"expected {expected}"):
        validate_gtin(gtin)


@pytest.mark.parametrize("gtin", ["1234567", "12345678901", "400638133393A", "123456789012345"])
def test_it_refuses_gtins_of_wrong_length_or_with_letters(gtin):
    with pytest.raises(ValidationError, match="8, 12, 13 or 14 digits"):
        validate_gtin(gtin)


@pytest.mark.parametrize("asin", ["B00EXAMPLE", "B08N5WRWNW", "0306406152", "080442957X"])
def test_it_accepts_asins_and_isbn10_asins(asin):
    validate_asin(asin)


def test_it_checks_the_isbn10_check_digit_of_a_book_asin():
    with pytest.raises(ValidationError, match="check digit should be 2"):
        validate_asin("0306406153")


@pytest.mark.parametrize("asin", ["B0123", "A012345678", "b00example", "B00EXAMPLE1"])
def test_it_refuses_malformed_asins(asin):
    with pytest.raises(ValidationError, match="ASIN must be 10 characters"):
        validate_asin(asin)


@pytest.mark.django_db
def test_it_keeps_skus_unique():
    ProductFactory(sku="DUP-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(sku="DUP-1")


@pytest.mark.django_db
def test_it_allows_the_same_file_again_once_the_first_copy_is_soft_deleted():
    asset = ImageAssetFactory(sha256="a" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        ImageAssetFactory(product=asset.product, sha256="a" * 64)
    ImageAsset.objects.filter(pk=asset.pk).update(deleted_at="2026-01-01T00:00:00Z")
    again = ImageAssetFactory(product=asset.product, sha256="a" * 64)
    assert list(ImageAsset.live.filter(product=asset.product)) == [again]


@pytest.mark.django_db
def test_it_hides_soft_deleted_products_from_the_live_manager():
    kept = ProductFactory()
    gone = ProductFactory(deleted_at="2026-01-01T00:00:00Z")
    assert list(Product.live.all()) == [kept]
    assert set(Product.objects.all()) == {kept, gone}

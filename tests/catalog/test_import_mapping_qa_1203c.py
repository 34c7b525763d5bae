"""QA 1203c: a new SKU's product made by a concurrent upload of the session between the
import's two lookups (exact, then ignoring case) must not crash the file with a KeyError."""

import io

import pytest

from catalog.models import ImageAsset, Product
from catalog.services.import_mapping import ImportRun
from catalog.services.imports import import_job_create, import_job_upload_file
from tests.catalog.imagegen import jpeg_bytes

pytestmark = pytest.mark.django_db


def test_it_uses_the_product_a_concurrent_upload_made_between_the_two_lookups(storage,
                                                                                monkeypatch):
    job = import_job_create(user=None, source_kind="upload", expected_files=3,
                            create_products=True)
    scan = ImportRun._in_any_case

    def racing_scan(self, sku):
        # the exact lookup found nothing; another request of the session creates it now
        Product.objects.get_or_create(sku="SHOOT-04")
        return scan(self, sku)

    monkeypatch.setattr(ImportRun, "_in_any_case", racing_scan)
    result = import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(jpeg_bytes(seed=4)),
                                    filename="SHOOT-04_PT01.jpg")
    assert result.status == "stored", result.reason
    assert result.asset.product.sku == "SHOOT-04"
    assert not result.product_created  # the other request made it
    assert list(ImageAsset.live.filter(product__sku="SHOOT-04")
                .values_list("position", flat=True)) == ["PT01"]
    assert Product.objects.filter(sku__iexact="shoot-04").count() == 1


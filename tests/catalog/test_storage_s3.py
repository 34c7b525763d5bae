"""The ingest, thumbnail, ZIP import and purge paths against a real S3 API (moto's server):
storage is only ever reached through storages["default"], which may be S3."""

import io

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from catalog import selectors
from catalog.models import ImageAsset
from catalog.services.assets import asset_ingest, asset_soft_delete, asset_thumbnail
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create
from catalog.services.purge import purge_run
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def s3_storage(s3_default_storage):
    return s3_default_storage("cutroom-cat")


def test_it_ingests_imports_thumbnails_and_purges_on_s3(s3_storage):
    product = ProductFactory(sku="S3SKU")
    asset = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=1)),
                         filename="a.jpg").asset
    again = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=1)),
                         filename="a.jpg")
    assert again.status == "duplicate"
    with selectors.asset_working_open(asset=asset) as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert s3_storage.exists(asset_thumbnail(asset=asset, size=100))

    job = import_job_create(
        user=None, source_kind="zip", enqueue=False,
        source_file=ContentFile(zip_bytes({"S3SKU_PT01.jpg": jpeg_bytes(seed=2)}), name="z.zip"),
    )
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.imported_count) == ("done", 1)

    asset_soft_delete(asset=asset)
    ImageAsset.objects.filter(pk=asset.pk).update(deleted_at=timezone.now().replace(year=2000))
    result = purge_run(older_than_days=0)
    assert {n.rsplit("/", 1)[-1][:64] for n in result.deleted} >= {asset.sha256}
    assert not s3_storage.exists(asset.original_name)
    kept = ImageAsset.live.get()
    assert s3_storage.exists(kept.original_name) and s3_storage.exists(kept.working_name)

"""The product page offers "Rebuild working copy" while the last cutout that failed reading it
is not older than the working copy's write. That write time was the storage's file time,
whole seconds on S3: a rebuild in the failure's own second read as written before it, and
the offer stayed. The row now records it (``ImageAsset.working_written_at``, database time);
and the rebuild's deletion of the replaced file keeps one an upload stored again meanwhile."""

import io
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from catalog import selectors
from catalog.models import ImageAsset
from catalog.services.assets import (
    WORKING_COPY_FAILURE,
    asset_ingest,
    asset_working_copy_rebuild,
)
from catalog.services.products import product_create
from cutouts.models import Cutout
from tests.catalog.imagegen import jpeg_bytes

pytestmark = pytest.mark.django_db


def _ingested(sku: str, seed: int) -> ImageAsset:
    result = asset_ingest(product=product_create(sku=sku),
                          fileobj=io.BytesIO(jpeg_bytes(size=(600, 450), seed=seed)),
                          filename=f"{sku}.jpg")
    assert result.asset is not None
    return result.asset


def _failed_reading(asset: ImageAsset, at) -> Cutout:
    """A cutout of ``asset`` that failed reading its working copy, finished ``at``."""
    return Cutout.objects.create(
        asset=asset, version=Cutout.objects.filter(asset=asset).count() + 1, status="failed",
        error=f"{WORKING_COPY_FAILURE} is missing from storage; a manager can rebuild it.",
        finished_at=at)


def _offered(asset: ImageAsset) -> bool:
    (shown,) = [a for a in selectors.product_detail_assets(product=asset.product)
                if a.pk == asset.pk]
    return bool(shown.working_unreadable)


def test_it_records_when_the_ingest_wrote_the_working_copy(storage):
    before = timezone.now()
    asset = _ingested("WW-1", seed=401)
    after = timezone.now()
    stored = ImageAsset.objects.get(pk=asset.pk).working_written_at
    assert stored is not None and asset.working_written_at == stored  # read back at insert
    # the database's clock (SQLite keeps milliseconds)
    assert before - timedelta(milliseconds=1) <= stored <= after


def test_it_stops_offering_the_rebuild_after_one_in_the_failures_own_second_on_s3(
        s3_default_storage, django_capture_on_commit_callbacks):
    storage = s3_default_storage("cutroom-wc")
    asset = _ingested("WW-S3", seed=402)
    storage.delete(asset.working_name)
    # at the start of a second, so the failure and the rebuild (well under a second for
    # this small image) share one: S3 gives the file's time in whole seconds
    time.sleep(1.05 - time.time() % 1)
    failed = _failed_reading(asset, timezone.now())
    assert _offered(asset)

    with django_capture_on_commit_callbacks(execute=True):
        done = asset_working_copy_rebuild(asset=asset)
    # the case that failed before: the storage's time of the rebuilt file reads as not
    # after the failure (a test that took over the second would not show it: fail instead)
    assert storage.get_modified_time(done.new_name) <= failed.finished_at
    assert not _offered(asset)
    assert ImageAsset.objects.get(pk=asset.pk).working_written_at > failed.finished_at


def test_it_offers_the_rebuild_again_when_a_cutout_fails_after_the_rebuild(storage):
    asset = _ingested("WW-2", seed=403)
    _failed_reading(asset, timezone.now())
    asset_working_copy_rebuild(asset=asset)
    assert not _offered(asset)
    _failed_reading(asset, timezone.now())  # the rebuilt copy broke too
    assert _offered(asset)


def test_it_asks_the_storage_for_a_row_from_before_the_column(storage):
    asset = _ingested("WW-3", seed=404)
    ImageAsset.objects.filter(pk=asset.pk).update(working_written_at=None)
    file_time = storage.get_modified_time(asset.working_name)
    cutout = _failed_reading(asset, file_time + timedelta(seconds=5))
    assert _offered(asset)  # written before the failure
    Cutout.objects.filter(pk=cutout.pk).update(finished_at=file_time - timedelta(seconds=5))
    assert not _offered(asset)  # written after it
    storage.delete(asset.working_name)
    assert _offered(asset)  # missing


def test_it_keeps_the_replaced_file_when_an_upload_stores_it_again_during_the_rebuild(
        storage, django_capture_on_commit_callbacks):
    asset = _ingested("WW-4", seed=405)
    old = asset.working_name
    with storage.open(old, "rb") as handle:
        good = handle.read()
    storage.delete(old)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        asset_working_copy_rebuild(asset=asset)
    # an upload of the same photo to another product stores its working copy under the
    # content name again (its row not yet committed) before the rebuild's deletion runs
    assert storage.save(old, ContentFile(good)) == old
    for callback in callbacks:
        callback()
    assert storage.exists(old)


def test_it_deletes_the_replaced_broken_file_no_row_names(
        storage, django_capture_on_commit_callbacks):
    asset = _ingested("WW-5", seed=406)
    old = asset.working_name
    with storage.open(old, "rb") as handle:
        good = handle.read()
    storage.delete(old)
    storage.save(old, ContentFile(good[: len(good) // 2]))  # truncated by a full disk
    with django_capture_on_commit_callbacks(execute=True):
        asset_working_copy_rebuild(asset=asset)
    assert not storage.exists(old)


def test_it_logs_an_image_that_took_the_file_as_the_rebuild_deleted_it(
        storage, django_capture_on_commit_callbacks, monkeypatch, caplog):
    asset = _ingested("WW-6", seed=407)
    twin = _ingested("WW-7", seed=408)
    old = asset.working_name
    with storage.open(old, "rb") as handle:
        good = handle.read()
    storage.delete(old)
    storage.save(old, ContentFile(good[:-1] + bytes([good[-1] ^ 0xFF])))  # a corrupt object
    real_delete = type(storage).delete

    def delete_as_an_upload_commits(self, name):
        if name == old:  # the upload's row lands between the checks and the delete
            ImageAsset.objects.filter(pk=twin.pk).update(working_name=old)
        return real_delete(self, name)

    monkeypatch.setattr(type(storage), "delete", delete_as_an_upload_commits)
    with django_capture_on_commit_callbacks(execute=True):
        asset_working_copy_rebuild(asset=asset)
    assert f"#{twin.pk}" in caplog.text and "rebuild_working_copies --all-broken" in caplog.text

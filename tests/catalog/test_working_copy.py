"""The one PNG writer (catalog.ingest.png), the working copy's encoding through it, and its
measurement, working_bench; when the working copy was written (database time), which decides
whether the product page offers "Rebuild working copy"."""

import io
import json
import struct
import time
import zlib
from datetime import timedelta

import cv2
import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from catalog import selectors
from catalog.ingest import images, png, working_bench
from catalog.models import ImageAsset
from catalog.services.assets import asset_ingest, asset_working_copy_rebuild
from catalog.services.products import product_create
from cutouts.models import Cutout
from tests.catalog.imagegen import delta_e_2000, gradient_array, jpeg_bytes, srgb_to_lab


def _photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A gradient with grain, so every filter and every byte value is exercised."""
    rng = np.random.default_rng(seed)
    grain = rng.normal(0, 12, size=(height, width, 3))
    return np.clip(gradient_array(width, height, seed=seed) + grain, 0, 255).astype(np.uint8)


def _idat(data: bytes) -> bytes:
    """The concatenated IDAT bodies of a PNG file."""
    found, at = b"", len(png.SIGNATURE)
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"IDAT":
            found += data[at + 8 : at + 8 + length]
        at += 12 + length
    return found


def _written(image: Image.Image, **kwargs) -> bytes:
    out = io.BytesIO()
    png.png_write(image, out, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize("row_filter", png.ROW_FILTERS)
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_it_writes_a_png_that_pillow_reads_back_pixel_for_pixel(mode, row_filter):
    # 150 rows: two full strips and a partial one, so the row above each strip is carried.
    arr = _photo(97, 2 * png.STRIP_ROWS + 22)
    image = Image.fromarray(arr, "RGB").convert(mode)
    data = _written(image, row_filter=row_filter)
    again = Image.open(io.BytesIO(data))
    assert again.format == "PNG" and again.mode == mode and again.size == image.size
    assert np.array_equal(np.asarray(again), np.asarray(image))


def test_it_writes_a_png_that_libpng_reads_back_pixel_for_pixel():
    # libpng (through OpenCV) is a second, independent decoder: the one browsers build on.
    arr = _photo(300, 200, seed=4)
    data = _written(Image.fromarray(arr, "RGB"))
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), arr)


def test_it_writes_image_data_strip_by_strip_not_all_at_the_end(monkeypatch):
    monkeypatch.setattr(png, "IDAT_BYTES", 4096)
    data = _written(Image.fromarray(_photo(400, 300), "RGB"), level=0)
    # 300 rows are five strips; each strip's output goes out as soon as it is deflated.
    assert data.count(b"IDAT") >= 5
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), _photo(400, 300))


@pytest.mark.parametrize("row_filter", png.ROW_FILTERS)
def test_it_refuses_modes_it_cannot_write(row_filter):
    with pytest.raises(ValueError, match="not CMYK"):
        _written(Image.new("CMYK", (10, 10)), row_filter=row_filter)


@pytest.mark.parametrize("row_filter", png.ROW_FILTERS)
def test_it_writes_no_metadata_chunks_whatever_the_image_carries(row_filter):
    image = Image.fromarray(_photo(40, 30), "RGB")
    image.info["icc_profile"] = b"not written"
    image.info["transparency"] = (0, 0, 0)
    data = _written(image, row_filter=row_filter)
    kinds, at = [], len(png.SIGNATURE)
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        kinds.append(kind)
        at += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert set(kinds[1:-1]) == {b"IDAT"}


def test_it_encodes_the_working_copy_with_the_fixed_up_filter_losslessly():
    arr = _photo(640, 480, seed=7)
    out = io.BytesIO()
    images.encode_working(Image.fromarray(arr, "RGB"), out)
    data = out.getvalue()
    rows = np.frombuffer(zlib.decompress(_idat(data)), np.uint8).reshape(480, 1 + 640 * 3)
    assert set(rows[:, 0].tolist()) == {png.FILTERS[images.WORKING_PNG_FILTER]}
    again = Image.open(io.BytesIO(data))
    assert again.format == "PNG"
    working = np.asarray(again.convert("RGB"))
    assert np.array_equal(working, arr)
    assert float(delta_e_2000(srgb_to_lab(working), srgb_to_lab(arr)).max()) < 2


def test_it_measures_working_copy_encodings_and_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert working_bench.main(["--quick", "--side", "192", "--repeat", "1",
                               "--json", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "working copy (encode_working) *" in printed
    report = json.loads(path.read_text())
    rows = {row["candidate"]: row for row in report["sets"][0]["rows"]}
    chosen = rows["working copy (encode_working)"]
    assert chosen["chosen"] and chosen["identical_pixels"] and chosen["browser"]
    assert all(row["identical_pixels"] for row in rows.values())
    assert rows["TIFF uncompressed"]["browser"] is False
    assert rows["WebP lossless method 0 q0"]["max_side"] == 16383
    # Level 0 stores the rows: three bytes a pixel plus a filter byte a row, about 3 MB/MP.
    assert rows["Pillow PNG level 0"]["mb_per_mp"] == pytest.approx(3.0, abs=0.05)
    assert chosen["mb_per_mp"] < rows["Pillow PNG level 0"]["mb_per_mp"]


def _ingested(sku: str, seed: int) -> ImageAsset:
    result = asset_ingest(product=product_create(sku=sku),
                          fileobj=io.BytesIO(jpeg_bytes(size=(600, 450), seed=seed)),
                          filename=f"{sku}.jpg")
    assert result.asset is not None
    return result.asset


def _failed(asset: ImageAsset, at, *, error: str, working_copy: bool, **fields) -> Cutout:
    """A failed cutout of ``asset`` finished ``at``, failed on its working copy or not."""
    return Cutout.objects.create(
        asset=asset, version=Cutout.objects.filter(asset=asset).count() + 1, status="failed",
        error=error, working_copy_failed=working_copy, finished_at=at, **fields)


def _failed_reading(asset: ImageAsset, at) -> Cutout:
    """A cutout of ``asset`` that failed reading its working copy, finished ``at``."""
    return _failed(asset, at, working_copy=True,
                   error="The working copy is missing from storage; a manager can rebuild it.")


def _offered(asset: ImageAsset) -> bool:
    (shown,) = [a for a in selectors.product_detail_assets(product=asset.product)
                if a.pk == asset.pk]
    return bool(shown.working_unreadable)


@pytest.mark.django_db
def test_it_records_when_the_ingest_wrote_the_working_copy(storage):
    before = timezone.now()
    asset = _ingested("WW-1", seed=401)
    after = timezone.now()
    stored = ImageAsset.objects.get(pk=asset.pk).working_written_at
    assert stored is not None and asset.working_written_at == stored  # read back at insert
    # the database's clock (SQLite keeps milliseconds)
    assert before - timedelta(milliseconds=1) <= stored <= after


@pytest.mark.django_db
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


@pytest.mark.django_db
def test_it_offers_the_rebuild_again_when_a_cutout_fails_after_the_rebuild(storage):
    asset = _ingested("WW-2", seed=403)
    _failed_reading(asset, timezone.now())
    asset_working_copy_rebuild(asset=asset)
    assert not _offered(asset)
    _failed_reading(asset, timezone.now())  # the rebuilt copy broke too
    assert _offered(asset)


@pytest.mark.django_db
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


@pytest.mark.django_db
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


@pytest.mark.django_db
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


@pytest.mark.django_db
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


@pytest.mark.django_db
def test_it_offers_the_rebuild_by_the_stored_failure_kind_not_the_message(storage):
    reworded = _ingested("WW-8", seed=409)
    _failed(reworded, timezone.now(), working_copy=True,
            error="Copie de travail illisible : un responsable peut la refaire.")
    alike = _ingested("WW-9", seed=410)
    # another failure whose words happen to begin the same way is no working-copy failure
    _failed(alike, timezone.now(), working_copy=False,
            error="The working copy was read, but the model failed: out of memory")
    assert _offered(reworded)
    assert not _offered(alike)


@pytest.mark.django_db
def test_it_links_only_the_failures_stored_as_the_working_copys_for_retry(storage):
    from cutouts.models import CutoutBatch

    asset = _ingested("WW-10", seed=411)
    broken, other, loose = (CutoutBatch.objects.create(total=1) for _ in range(3))
    _failed(asset, timezone.now(), working_copy=True, batch=broken,
            error="Kopie nicht lesbar.")
    _failed(asset, timezone.now(), working_copy=False, batch=other,
            error="The working copy step timed out.")
    missing = _failed(asset, timezone.now(), working_copy=True, error="Unreadable.")
    asset_working_copy_rebuild(asset=asset)
    (shown,) = selectors.product_detail_assets(product=asset.product)
    assert not shown.working_unreadable
    assert shown.working_retry == selectors.WorkingCopyRetry(
        batch_ids=(broken.pk,), loose=((missing.pk, missing.version),))

"""QA 1203c: one stored file per content hash (a concurrent writer of the same bytes, a
leftover of an interrupted write), and in a browser session the file first in name order
keeps the position when two identical files arrive in the other order."""

import io
import os

import pytest

from catalog.models import ImageAsset
from catalog.selectors import import_job_report_csv
from catalog.services import assets
from catalog.services.imports import (
    import_job_create,
    import_job_finish,
    import_job_upload_file,
)
from tests.catalog.imagegen import jpeg_bytes
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

NAME = "originals/65/94/" + "6594" + "ab" * 30 + ".jpg"


class _Interleaved(io.BytesIO):
    """A stream whose second read lets ``during`` run: another writer of the same name then
    saves while this one is half written."""

    def __init__(self, data: bytes, during):
        super().__init__(data)
        self.during, self.reads = during, 0

    def read(self, size=-1):
        self.reads += 1
        if self.reads == 2:
            self.during()
        return super().read(size)


def test_it_keeps_one_file_when_a_concurrent_writer_stores_the_same_bytes(storage,
                                                                          stored_files):
    data = os.urandom(3 * 1024 * 1024)
    other: list[str] = []
    mine = assets._save_immutable(NAME, _Interleaved(data, lambda: other.append(
        assets._save_immutable(NAME, io.BytesIO(data), len(data)))), len(data))
    assert mine == NAME and other == [NAME]
    assert stored_files() == {NAME}
    assert storage.open(NAME).read() == data


def test_it_replaces_a_leftover_of_an_interrupted_write_under_the_same_name(storage,
                                                                           stored_files):
    data = os.urandom(200_000)
    storage.save(NAME, io.BytesIO(data[:5000]))  # a write that died half way
    assert assets._save_immutable(NAME, io.BytesIO(data), len(data)) == NAME
    assert stored_files() == {NAME}
    assert storage.open(NAME).read() == data


def test_it_gives_main_to_the_first_name_of_two_identical_files_of_a_session(storage,
                                                                            stored_files):
    ProductFactory(sku="DX0")
    same = jpeg_bytes(seed=7)
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    sent = {name: import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(same),
                                         filename=name)
            for name in ("DX0_PT01.jpg", "DX0_MAIN.jpg")}  # PT01 arrives first
    assert sent["DX0_MAIN.jpg"].status == "stored"
    assert "DX0_PT01.jpg, which arrived first, is the same file" in \
        sent["DX0_MAIN.jpg"].warnings[0]
    job = import_job_finish(job_id=job.pk)
    live = list(ImageAsset.live.filter(product__sku="DX0")
                .values_list("original_filename", "position"))
    assert live == [("DX0_MAIN.jpg", "MAIN")]
    assert (job.imported_count, job.duplicate_count) == (1, 1)
    report = import_job_report_csv(job=job)
    assert "DX0_PT01.jpg,warning,Duplicate: the same file is already stored for DX0 as MAIN" \
        in report
    assert sum(name.startswith("originals/") for name in stored_files()) == 1


def test_it_orders_a_session_duplicate_without_positions_by_the_first_name(storage):
    same = jpeg_bytes(seed=9)
    job = import_job_create(user=None, source_kind="upload", expected_files=3,
                            create_products=True)
    for name, data in (("DX2/IMG_0003.jpg", same), ("DX2/IMG_0002.jpg", jpeg_bytes(seed=10)),
                       ("DX2/IMG_0001.jpg", same)):
        import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(data), filename=name)
    import_job_finish(job_id=job.pk)
    assert dict(ImageAsset.live.filter(product__sku="DX2").values_list(
        "original_filename", "position")) == {"IMG_0001.jpg": "MAIN", "IMG_0002.jpg": "PT01"}


def test_it_keeps_one_object_when_a_concurrent_writer_stored_it_first_on_s3(
        s3_default_storage, monkeypatch):
    s3 = s3_default_storage("cutroom-1203c")
    data = os.urandom(20_000)
    s3.save(NAME, io.BytesIO(data))  # the other request's upload, finished meanwhile
    exists = type(s3).exists
    looked: list[str] = []

    def racing_exists(self, name):
        looked.append(name)  # this request's first look came before that upload completed
        return len(looked) > 1 and exists(self, name)

    monkeypatch.setattr(type(s3), "exists", racing_exists)
    assert assets._save_immutable(NAME, io.BytesIO(data), len(data)) == NAME
    _folders, files = s3.listdir(NAME.rsplit("/", 1)[0])
    assert files == [NAME.rsplit("/", 1)[1]]

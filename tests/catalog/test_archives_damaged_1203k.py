"""QA 1203k F2: a ZIP cut off after a stored nested ZIP ends with the nested one's directory;
zipfile re-bases onto it and the import read the nested archive instead of the shoot. A
damaged or incomplete ZIP is refused as a whole; odd but valid ZIPs still read."""

import csv
import io
import zipfile

import pytest
from django.core.files.base import ContentFile

from catalog.ingest.archives import ZIP_DAMAGED_REASON, ArchiveError, ArchiveLimits, ZipSource
from catalog.selectors import import_job_report_csv
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.factories import ProductFactory

LIMITS = ArchiveLimits()


def _truncated_after_nested_zip() -> bytes:
    """A shoot ZIP holding a stored nested ZIP, cut 300 bytes after the nested one's end."""
    inner = zip_bytes({"OLD-1_MAIN.jpg": jpeg_bytes(size=(300, 200), seed=9)})
    members = {f"shoot/ZE00{n}_MAIN.jpg": jpeg_bytes(size=(300, 200), seed=n) for n in (1, 2)}
    members["shoot/old-shoot-backup.zip"] = inner
    members.update({f"shoot/ZE00{n}_MAIN.jpg": jpeg_bytes(size=(300, 200), seed=n)
                    for n in (3, 4)})
    whole = zip_bytes(members)
    cut = whole.find(inner) + len(inner) + 300
    assert zipfile.ZipFile(io.BytesIO(whole[:cut])).namelist() == ["OLD-1_MAIN.jpg"]
    return whole[:cut]


def _source(data: bytes) -> ZipSource:
    return ZipSource(io.BytesIO(data), limits=LIMITS)


def test_it_refuses_a_cut_off_zip_that_ends_with_a_nested_zips_directory():
    with pytest.raises(ArchiveError) as refused:
        _source(_truncated_after_nested_zip())
    assert str(refused.value) == ZIP_DAMAGED_REASON


def test_it_says_a_zip_cut_off_before_its_directory_is_damaged_not_unreadable():
    whole = zip_bytes({"A_MAIN.jpg": jpeg_bytes(size=(300, 200))})
    with pytest.raises(ArchiveError) as refused:
        _source(whole[: len(whole) // 2])
    assert str(refused.value) == ZIP_DAMAGED_REASON
    with pytest.raises(ArchiveError, match="Not a readable ZIP file"):
        _source(b"plain text, not a zip at all" * 10)


def test_it_refuses_a_zip_whose_directory_points_past_its_local_headers():
    data = bytearray(zip_bytes({"A_MAIN.jpg": b"a" * 100, "B_MAIN.jpg": b"b" * 100}))
    # the second central record's local-header offset now points into A's data
    second = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    data[second + 42:second + 46] = (40).to_bytes(4, "little")
    with pytest.raises(ArchiveError) as refused:
        _source(bytes(data))
    assert str(refused.value) == ZIP_DAMAGED_REASON


def _zip64_with_descriptors_and_comment() -> bytes:
    raw = io.BytesIO()

    class Unseekable(io.RawIOBase):  # written as a stream: local headers + data descriptors
        def writable(self):
            return True

        def write(self, b):
            return raw.write(b)

    limit = zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP_FILECOUNT_LIMIT = 1  # two entries then need the ZIP64 end records
    try:
        with zipfile.ZipFile(Unseekable(), "w", zipfile.ZIP_DEFLATED) as zf:
            zf.comment = b"exported by a camera app"
            for name in ("A_MAIN.jpg", "B_MAIN.jpg"):
                with zf.open(name, "w", force_zip64=True) as handle:
                    handle.write(jpeg_bytes(size=(300, 200)))
    finally:
        zipfile.ZIP_FILECOUNT_LIMIT = limit
    return raw.getvalue()


def test_it_still_reads_a_zip64_with_data_descriptors_and_a_comment():
    data = _zip64_with_descriptors_and_comment()
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.comment and all(i.flag_bits & 0x08 for i in zf.infolist())
    assert b"PK\x06\x06" in data  # the ZIP64 end record is there
    source = _source(data)
    assert [e.name for e in source.entries()] == ["A_MAIN.jpg", "B_MAIN.jpg"]
    with source.open(source.entries()[1]) as handle:
        assert handle.read()[:2] == b"\xff\xd8"


def test_it_still_reads_an_empty_zip_as_empty():
    assert _source(zip_bytes({})).entries() == []


@pytest.mark.django_db
def test_it_fails_the_import_of_a_cut_off_zip_and_imports_nothing(storage):
    ProductFactory(sku="OLD-1")
    upload = ContentFile(_truncated_after_nested_zip(), name="shoot.zip")
    job = import_job_create(user=None, source_kind="zip", source_file=upload, enqueue=False,
                            create_products=True)
    job = import_job_run(job_id=job.pk)
    assert job.status == "failed"
    assert job.message == ZIP_DAMAGED_REASON
    assert job.imported_count == 0
    rows = list(csv.DictReader(io.StringIO(import_job_report_csv(job=job))))
    assert not [r for r in rows if r["status"] == "stored"]

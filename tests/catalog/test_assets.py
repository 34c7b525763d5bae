"""Asset services (catalog/services/assets.py): one stored file per content hash (a concurrent
writer of the same bytes, a leftover of an interrupted write), the file first in name order
keeps the position when two identical files of a browser session arrive in the other order, and
an image identical to another product's is said on its import line and its upload."""

import csv
import io
import os

import pytest
from django.urls import reverse

from catalog.models import ImageAsset, ImportIssue
from catalog.selectors import import_job_report_csv
from catalog.services import assets, imports
from catalog.services.assets import asset_ingest
from catalog.services.imports import (
    import_job_create,
    import_job_finish,
    import_job_upload_file,
)
from tests.catalog.imagegen import jpeg_bytes
from tests.catalog.test_import_runner import _zip_import
from tests.factories import ImageAssetFactory, ImportJobFactory, ProductFactory

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
    s3 = s3_default_storage("cutroom-assets")
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


def test_it_warns_when_an_imported_file_is_identical_to_another_products_image(
        manager_client, storage):
    photo = jpeg_bytes(seed=11)
    first = _zip_import({"CR-001/CR-001_MAIN.jpg": photo})
    kept = ImageAsset.live.get(product__sku="CR-001")
    job = _zip_import({"CR-008_PT01.jpg": photo, "CR-009_MAIN.jpg": jpeg_bytes(seed=12)})
    assert first.imported_count == 1 and job.imported_count == 2  # stored: may be deliberate
    assert ImageAsset.live.filter(sha256=kept.sha256).count() == 2
    warnings = list(job.issues.filter(level=ImportIssue.Level.WARNING)
                    .values_list("filename", "reason"))
    note = f"Identical to CR-001 {kept.position} (#{kept.pk})"
    assert [name for name, reason in warnings if note in reason] == ["CR-008_PT01.jpg"]
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk])).content.decode()
    assert note in page
    report = manager_client.get(reverse("catalog:import_report", args=[job.pk]))
    assert note in b"".join(report.streaming_content if report.streaming else
                            [report.content]).decode()


def test_it_warns_on_a_product_page_upload_of_another_products_photo(storage):
    photo = jpeg_bytes(seed=13)
    one, two = ProductFactory(sku="CR-101"), ProductFactory(sku="CR-102")
    first = asset_ingest(product=one, fileobj=io.BytesIO(photo), filename="a.jpg")
    again = asset_ingest(product=two, fileobj=io.BytesIO(photo), filename="b.jpg")
    assert first.status == again.status == "stored"
    assert not any("Identical to" in w for w in first.notes)
    assert [w for w in again.notes if w.startswith("Identical to")] == [
        f"Identical to CR-101 {first.asset.position} (#{first.asset.pk}): the same file is "
        "already stored for another product. Stored for CR-102 too; check the photo belongs "
        "to both."]
    # the same product's copy stays a duplicate, as before
    same = asset_ingest(product=two, fileobj=io.BytesIO(photo), filename="c.jpg")
    assert same.status == "duplicate"


def test_it_gives_each_result_the_path_it_was_sent_under(storage):
    # the result carries its path, so an answer of many files needs no list beside it
    product = ProductFactory(sku="PATH-1")
    nested = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=21)),
                          filename="shoot/PATH-1/x.jpg")
    refused = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=22)),
                           filename="..\\x.jpg")
    loose = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=23)),
                         filename="y.jpg")
    assert [(r.status, r.filename, r.path) for r in (nested, refused, loose)] == [
        ("stored", "x.jpg", "shoot/PATH-1/x.jpg"), ("rejected", "x.jpg", "..\\x.jpg"),
        ("stored", "y.jpg", "")]


def test_it_answers_a_duplicate_that_lost_the_race_with_the_warnings_of_any_duplicate(
        storage, monkeypatch):
    """QA 2026-12-05 L5: three concurrent uploads of one small PNG: one stored, two
    duplicates, one of them with "Low resolution" (it lost the race at the row's insert,
    after its decode) and the other without (found before the decode)."""
    from tests.catalog.imagegen import image_bytes

    product = ProductFactory()
    data = image_bytes("PNG", size=(800, 600))  # under 1000 px: "Low resolution"
    stored = asset_ingest(product=product, fileobj=io.BytesIO(data), filename="a.png")
    assert stored.status == "stored"
    assert any(w.startswith("Low resolution") for w in stored.warnings)
    before = asset_ingest(product=product, fileobj=io.BytesIO(data), filename="a.png")
    # the race: the duplicate check found nothing yet, the insert then meets the stored row
    monkeypatch.setattr(assets.HashLookup, "same", lambda self, sha, product: None)
    raced = asset_ingest(product=product, fileobj=io.BytesIO(data), filename="a.png")
    assert (before.status, raced.status) == ("duplicate", "duplicate")
    assert raced.asset == before.asset == stored.asset
    assert raced.warnings == before.warnings == []
    assert raced.reason == before.reason


def test_it_gives_a_second_copy_in_a_live_session_no_warnings_of_the_first(storage):
    """QA 2026-12-05 M1: the bytes of DUP-1_MAIN.jpg sent again as DUP-1_PT01.jpg in the same
    session answered "duplicate" with MAIN's "Low resolution", and the report gained a
    warning row without SKU, position or asset."""
    from tests.catalog.imagegen import image_bytes

    ProductFactory(sku="DUP-1")
    small = image_bytes("JPEG", size=(854, 480))  # under 1000 px: "Low resolution"
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    first, copy = (import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(small),
                                          filename=name)
                   for name in ("DUP-1_MAIN.jpg", "DUP-1_PT01.jpg"))
    assert any(w.startswith("Low resolution") for w in first.warnings)
    assert (copy.status, copy.warnings) == ("duplicate", [])
    job = import_job_finish(job_id=job.pk)
    rows = list(job.issues.values_list("filename", "reason"))
    assert [name for name, reason in rows if reason.startswith("Low resolution")] == [
        "DUP-1_MAIN.jpg"]
    assert [name for name, reason in rows if reason.startswith("Duplicate")] == [
        "DUP-1_PT01.jpg"]
    assert job.warning_count == len(rows) == 2


def test_it_gives_a_second_copy_in_a_zip_no_warnings_of_the_first(storage):
    from tests.catalog.imagegen import image_bytes

    small = image_bytes("JPEG", size=(854, 480))
    job = _zip_import({"GOOD-1/IMG_0011.jpg": small, "GOOD-1/IMG_0012.jpg": small})
    assert (job.imported_count, job.duplicate_count) == (1, 1)
    low = [name for name, reason in job.issues.values_list("filename", "reason")
           if reason.startswith("Low resolution")]
    assert low == ["GOOD-1/IMG_0011.jpg"]


def test_it_reports_the_warnings_of_the_same_entry_delivered_again_in_its_import(storage):
    """The resumed run's case (the entry stored by a run that died): the same path in the same
    import is that file, not a copy, and its warnings are its own."""
    from tests.catalog.imagegen import image_bytes

    product = ProductFactory(sku="DUP-2")
    small = image_bytes("JPEG", size=(854, 480))
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    first = asset_ingest(product=product, fileobj=io.BytesIO(small), filename="s/DUP-2_MAIN.jpg",
                         import_job=job)
    again = asset_ingest(product=product, fileobj=io.BytesIO(small), filename="s/DUP-2_MAIN.jpg",
                         import_job=job)
    other = asset_ingest(product=product, fileobj=io.BytesIO(small), filename="t/DUP-2_MAIN.jpg",
                         import_job=job)
    assert again.status == other.status == "duplicate"
    assert again.warnings == first.warnings != []
    assert other.warnings == []


def test_it_reports_the_positions_a_session_settles_its_files_at(storage):
    """QA 2026-12-05 L1: rows written as files arrived kept their positions after the session
    put its files in name order: "already stored … as PT05" of an image at PT04, and
    warning rows at other positions than the stored rows beside them."""
    from tests.catalog.imagegen import image_bytes

    ProductFactory(sku="GOOD-1")
    same, other = (image_bytes("JPEG", size=(854, 480), seed=s) for s in (1, 2))
    job = import_job_create(user=None, source_kind="upload", expected_files=3)
    # the arrival order is not the name order: .webp first, then .jpg and its copy .png
    for name, data in (("GOOD-1.webp", other), ("GOOD-1.jpg", same), ("GOOD-1.png", same)):
        import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(data), filename=name)
    job = import_job_finish(job_id=job.pk)
    at = {a.original_filename: a for a in ImageAsset.live.filter(product__sku="GOOD-1")}
    assert {name: a.position for name, a in at.items()} == {
        "GOOD-1.jpg": "MAIN", "GOOD-1.webp": "PT01"}
    jpg = at["GOOD-1.jpg"]
    duplicate = job.issues.get(filename="GOOD-1.png")
    assert (duplicate.position, duplicate.lead) == ("MAIN", ImportIssue.Lead.ARRIVED)
    assert f"already stored for GOOD-1 as MAIN (asset #{jpg.pk})" in duplicate.reason
    rows = list(csv.reader(io.StringIO(import_job_report_csv(job=job))))[1:]
    by_row = {(r[0], r[-1]): (r[4], r[5]) for r in rows}
    for name, asset in at.items():
        stored = by_row[(name, "stored")]
        assert stored == (asset.position, str(asset.pk))
        assert by_row[(name, "")] == stored  # its "Low resolution" row


@pytest.mark.parametrize("lead", [ImportIssue.Lead.ARRIVED, ImportIssue.Lead.NOT_SENT])
def test_it_says_a_duplicates_moved_copy_again_from_the_rows_own_parts(lead):
    """A duplicate's row is composed again from its lead column and its columns when its copy
    moves (the page's "Not sent: …" kept), not by finding the copy's words in its text."""
    kept = ImageAssetFactory(product=ProductFactory(sku="MOV-1"), position="PT02")
    job = ImportJobFactory(source_kind="upload")
    row = ImportIssue.objects.create(
        job=job, filename="MOV-1_b.jpg", level="warning", kind="duplicate", lead=lead,
        sku="MOV-1", position="PT01", asset_pk=kept.pk, reason=assets.duplicate_row_words(
            lead=lead, sku="MOV-1", position="PT01", asset_pk=kept.pk))
    imports._issues_positions_settle(job)
    row.refresh_from_db()
    said = {ImportIssue.Lead.ARRIVED: "",
            ImportIssue.Lead.NOT_SENT: "Not sent: the upload page found it already stored. "}
    assert (row.position, row.reason) == ("PT02", f"{said[lead]}Duplicate: the same file is "
                                          f"already stored for MOV-1 as PT02 (asset "
                                          f"#{kept.pk}); not stored twice.")


def test_it_composes_a_duplicate_from_its_lead_column_whatever_its_text_says():
    """The lead is the row's column, not found in its words: a row whose text was cut short
    (or would match another lead) is written again whole from its columns."""
    kept = ImageAssetFactory(product=ProductFactory(sku="MOV-7"), position="PT02")
    job = ImportJobFactory(source_kind="upload")
    row = ImportIssue.objects.create(
        job=job, filename="MOV-7_b.jpg", level="warning", kind="duplicate",
        lead=ImportIssue.Lead.NOT_SENT, sku="MOV-7", position="PT01", asset_pk=kept.pk,
        reason="Duplicate: the same file is already stored for MOV-7 as PT01 …")
    imports._issues_positions_settle(job)
    row.refresh_from_db()
    assert row.reason == (f"Not sent: the upload page found it already stored. Duplicate: the "
                          f"same file is already stored for MOV-7 as PT02 (asset #{kept.pk}); "
                          "not stored twice.")


def test_it_leaves_a_duplicate_row_without_a_lead_whole_when_its_copy_moves():
    """A row without a lead (words of its own, from before leads were kept) cannot be said
    again: it keeps its reason and its position, which still agree, rather than a position
    its words deny."""
    kept = ImageAssetFactory(product=ProductFactory(sku="MOV-2"), position="PT02")
    job = ImportJobFactory(source_kind="upload")
    said = f"Duplicate of MOV-2 PT01 (#{kept.pk})."
    row = ImportIssue.objects.create(job=job, filename="MOV-2_b.jpg", level="warning",
                                     kind="duplicate", sku="MOV-2", position="PT01",
                                     asset_pk=kept.pk, reason=said)
    assert row.lead == ImportIssue.Lead.NONE
    imports._issues_positions_settle(job)
    row.refresh_from_db()
    assert (row.position, row.reason) == ("PT01", said)


def test_it_fills_the_lead_of_duplicates_written_before_from_their_words():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("catalog.migrations.0017_importissue_lead")
    kept = ImageAssetFactory(product=ProductFactory(sku="MOV-8"), position="PT01")
    job = ImportJobFactory(source_kind="upload")
    words = assets.duplicate_words(sku="MOV-8", position="PT01", asset_pk=kept.pk)

    def row(name: str, reason: str, kind: str = "duplicate") -> None:
        ImportIssue.objects.create(job=job, filename=name, level="warning", kind=kind,
                                   sku="MOV-8", position="PT01", asset_pk=kept.pk,
                                   reason=reason)

    row("arrived.jpg", words)
    row("not-sent.jpg", "Not sent: the upload page found it already stored. " + words)
    row("older.jpg", f"Duplicate of MOV-8 PT01 (#{kept.pk}).")
    row("other-sku.jpg", words.replace("MOV-8", "MOV-9"))
    row("replaced.jpg", words, kind="replaced")
    migration.fill_leads(apps, None)
    assert dict(job.issues.values_list("filename", "lead")) == {
        "arrived.jpg": "arrived", "not-sent.jpg": "not-sent", "older.jpg": "",
        "other-sku.jpg": "", "replaced.jpg": ""}


def test_it_says_an_identical_warnings_moved_image_again_from_the_rows_own_parts():
    """QA 2026-12-06 (qa34 F5): a stored file's warning naming another product's image of
    the session ("Identical to CP34-A PT01") is composed again when that image moves, though
    the row's own image (its SKU, position, asset) stayed."""
    named = ImageAssetFactory(product=ProductFactory(sku="MOV-3"), position="MAIN")
    own = ImageAssetFactory(product=ProductFactory(sku="MOV-4"), position="MAIN")
    job = ImportJobFactory(source_kind="upload")
    row = ImportIssue.objects.create(
        job=job, filename="MOV-4/b.jpg", level="warning", kind="identical", sku="MOV-4",
        position="MAIN", asset_pk=own.pk, named_sku="MOV-3", named_position="PT01",
        named_pk=named.pk, reason=assets.identical_words(
            sku="MOV-3", position="PT01", asset_pk=named.pk, stored_sku="MOV-4"))
    imports._issues_positions_settle(job)
    row.refresh_from_db()
    assert (row.position, row.named_position) == ("MAIN", "MAIN")
    assert row.reason == (f"Identical to MOV-3 MAIN (#{named.pk}): the same file is already "
                          "stored for another product. Stored for MOV-4 too; check the "
                          "photo belongs to both.")


def test_it_leaves_an_identical_warning_in_other_words_whole_but_moves_its_own_image():
    named = ImageAssetFactory(product=ProductFactory(sku="MOV-5"), position="MAIN")
    own = ImageAssetFactory(product=ProductFactory(sku="MOV-6"), position="PT02")
    job = ImportJobFactory(source_kind="upload")
    said = f"Identical to MOV-5 PT01 (#{named.pk})."
    row = ImportIssue.objects.create(
        job=job, filename="MOV-6/b.jpg", level="warning", kind="identical", sku="MOV-6",
        position="PT01", asset_pk=own.pk, named_sku="MOV-5", named_position="PT01",
        named_pk=named.pk, reason=said)
    imports._issues_positions_settle(job)
    row.refresh_from_db()
    # its words and the named columns still agree; its own image is where it is now
    assert (row.reason, row.named_position, row.position) == (said, "PT01", "PT02")

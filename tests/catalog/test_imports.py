"""Browser upload sessions (catalog/services/imports.py): a session whose every declared file
arrived ends on the server, with or without the page's finish; a finish names at most 200 files
of a kind and says how many more; a cancelled session says how far it got and lists the files
sent after; the identical-elsewhere check is one query per batch of files."""

import csv
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import ImageAsset, ImportJob
from catalog.selectors import import_job_report_csv
from catalog.services import imports
from catalog.services.assets import asset_ingest
from catalog.services.import_runner import CANCELLED_REASON, cancelled_message
from catalog.services.imports import (
    HELD_REASON,
    PageNames,
    import_job_cancel,
    import_job_create,
    import_job_finish,
    import_job_upload_file,
)
from tests.catalog.imagegen import jpeg_bytes
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_events(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(imports.events, "import_finished", sent.append)
    return sent


def _send(job, name: str, data: bytes):
    return import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(data), filename=name)


def _reasons(job) -> dict[str, str]:
    return {i.filename: i.reason for i in job.issues.all()}


def test_it_finishes_a_session_whose_files_all_arrived_without_the_pages_finish(
        storage, finished_events):
    ProductFactory(sku="AR-1")
    job = import_job_create(user=None, source_kind="upload", expected_files=3)
    _send(job, "AR-1_MAIN.jpg", jpeg_bytes(seed=1))
    _send(job, "AR-1_PT01.jpg", b"not a photo")
    job.refresh_from_db()
    assert job.status == "running" and finished_events == []  # one file still to come
    _send(job, "AR-1_PT02.jpg", jpeg_bytes(seed=2))
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.progress_total) == ("done", 3, 3)
    assert (job.imported_count, job.error_count) == (2, 1)
    assert job.message == "2 imported, 1 refused."
    assert job.finished_at is not None and finished_events == [job.pk]
    # nothing more is taken in, as after the page's finish
    assert _send(job, "AR-1_PT03.jpg", jpeg_bytes(seed=3)).code == "job_closed"


def test_it_leaves_a_session_missing_files_to_the_idle_sweep(storage):
    ProductFactory(sku="AR-2")
    job = import_job_create(user=None, source_kind="upload", expected_files=3)
    _send(job, "AR-2_MAIN.jpg", jpeg_bytes(seed=4))
    _send(job, "AR-2_PT01.jpg", jpeg_bytes(seed=5))
    job.refresh_from_db()
    assert job.status == "running"


def test_it_never_ends_a_session_that_declared_no_count_on_arrival(storage):
    ProductFactory(sku="AR-3")
    job = import_job_create(user=None, source_kind="upload", expected_files=0)
    _send(job, "AR-3_MAIN.jpg", jpeg_bytes(seed=6))
    job.refresh_from_db()
    assert (job.status, job.progress_done) == ("running", 1)


def test_it_does_not_count_a_file_delivered_twice_as_two_arrivals(storage):
    # the browser retries a file whose answer it lost: that is not the session's last file
    ProductFactory(sku="AR-4")
    job = import_job_create(user=None, source_kind="upload", expected_files=3)
    photo = jpeg_bytes(seed=7)
    _send(job, "AR-4_MAIN.jpg", photo)
    _send(job, "AR-4_MAIN.jpg", photo)
    _send(job, "AR-4_PT01.jpg", b"broken")
    _send(job, "AR-4_PT01.jpg", b"broken")
    job.refresh_from_db()
    assert (job.status, job.progress_done) == ("running", 2)
    _send(job, "AR-4_PT02.jpg", jpeg_bytes(seed=8))
    job.refresh_from_db()
    assert (job.status, job.progress_done) == ("done", 3)


def test_it_changes_nothing_on_a_second_finish_after_the_session_ended_on_its_own(
        storage, finished_events):
    ProductFactory(sku="AR-5")
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    _send(job, "AR-5_MAIN.jpg", jpeg_bytes(seed=9))
    _send(job, "AR-5_PT01.jpg", jpeg_bytes(seed=10))
    ended = ImportJob.objects.get(pk=job.pk)
    # the page's own finish, then a retried one: its (empty) names change nothing
    for _ in range(2):
        job = import_job_finish(job_id=job.pk)
        assert (job.status, job.message, job.imported_count, job.error_count) == (
            "done", ended.message, 2, 0)
        assert job.finished_at == ended.finished_at
    assert finished_events == [job.pk]  # one end, one event


def test_it_adds_the_held_names_of_the_pages_late_finish_once(storage, finished_events):
    ProductFactory(sku="AR-6")
    job = import_job_create(user=None, source_kind="upload", expected_files=1)
    _send(job, "AR-6_MAIN.jpg", jpeg_bytes(seed=11))
    job.refresh_from_db()
    assert job.status == "done" and job.message == "1 imported."
    for _ in range(2):  # sent twice: listed once
        job = import_job_finish(job_id=job.pk, held=["NOPE-1_MAIN.jpg"],
                                skipped=["notes.txt"])
    assert (job.imported_count, job.error_count, job.warning_count) == (1, 1, 1)
    assert job.message == "1 imported, 1 refused."
    assert set(_reasons(job)) == {"NOPE-1_MAIN.jpg", "notes.txt"}
    assert _reasons(job)["NOPE-1_MAIN.jpg"] != HELD_REASON  # the server's own reason
    assert finished_events == [job.pk]


def test_it_reports_the_names_given_at_the_start_when_the_last_file_ends_the_session(
        storage, finished_events):
    """QA38 H1: the tab closed before the finish; the names the page gave when the session
    started are in the report all the same, and a late finish naming them again (a page
    from before) lists none twice, while its failed file is added."""
    ProductFactory(sku="BETA-2")
    job = import_job_create(
        user=None, source_kind="upload", expected_files=1,
        patterns=["{sku}_{position}.jpg"],
        not_sent=PageNames(held=["QA-100 PT05 café.jpg"], skipped=["notes.txt"],
                           unlisted={"skipped": 3}))
    _send(job, "BETA-2_PT05.jpg", jpeg_bytes(seed=21))
    job.refresh_from_db()
    assert (job.status, job.imported_count, job.error_count) == ("done", 1, 1)
    assert set(_reasons(job)) == {"QA-100 PT05 café.jpg", "notes.txt", "…"}
    assert _reasons(job)["QA-100 PT05 café.jpg"] != HELD_REASON  # the server's own reason
    assert job.message.startswith("1 imported, 1 refused.") and "3 more" in job.message
    assert "QA-100 PT05 café.jpg" in import_job_report_csv(job=job)
    job = import_job_finish(job_id=job.pk, held=["QA-100 PT05 café.jpg"],
                            failed=["BETA-2_PT06.jpg"])
    assert sorted(job.issues.values_list("filename", flat=True)) == [
        "BETA-2_PT06.jpg", "QA-100 PT05 café.jpg", "notes.txt", "…"]
    assert job.error_count == 2 and "3 more" in job.message  # the start's count stays said
    assert finished_events == [job.pk]


def test_it_reports_the_names_given_at_the_start_of_a_session_the_idle_sweep_closes(
        storage, finished_events):
    ProductFactory(sku="BETA-3")
    job = import_job_create(user=None, source_kind="upload", expected_files=2,
                            patterns=["{sku}_{position}.jpg"],
                            not_sent=PageNames(held=["NOPE-9_MAIN.jpg"]))
    _send(job, "BETA-3_MAIN.jpg", jpeg_bytes(seed=22))  # the second never comes
    assert imports.import_uploads_close_stale(idle_seconds=-1) == 1
    job.refresh_from_db()
    assert (job.status, job.imported_count, job.error_count) == ("done", 1, 1)
    assert "Unknown SKU" in _reasons(job)["NOPE-9_MAIN.jpg"]
    assert job.message.startswith("1 imported, 1 refused. The upload stopped after 1 of 2")


def test_it_reports_the_names_given_at_the_start_of_a_session_cancelled(storage,
                                                                       finished_events):
    ProductFactory(sku="BETA-4")
    job = import_job_create(user=None, source_kind="upload", expected_files=3,
                            patterns=["{sku}_{position}.jpg"],
                            not_sent=PageNames(held=["NOPE-8_MAIN.jpg"], skipped=["a.txt"]))
    _send(job, "BETA-4_MAIN.jpg", jpeg_bytes(seed=23))
    assert imports.import_job_cancel(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.imported_count, job.error_count) == ("cancelled", 1, 1)
    assert set(_reasons(job)) == {"NOPE-8_MAIN.jpg", "a.txt"}
    assert "Unknown SKU" in _reasons(job)["NOPE-8_MAIN.jpg"]
    assert "NOPE-8_MAIN.jpg" in import_job_report_csv(job=job)
    # the page's finish after the cancel adds nothing twice
    job = import_job_finish(job_id=job.pk, held=["NOPE-8_MAIN.jpg"], skipped=["a.txt"])
    assert job.issues.filter(filename="NOPE-8_MAIN.jpg").count() == 1
    assert finished_events == [job.pk]


def test_it_reports_a_manifest_row_the_page_held_once_after_the_session_ended_on_its_own(
        storage):
    # the manifest refuses ZZ's product (a bad GTIN); the page holds its file back and names
    # it at its finish, after the session ended: the row is not "never came" too
    manifest = ContentFile(b"sku,gtin,filename\nOK-1,,ok.jpg\nZZ-1,123,zz.jpg\n",
                           name="m.csv")
    job = import_job_create(user=None, source_kind="upload", expected_files=1,
                            manifest_file=manifest)
    _send(job, "ok.jpg", jpeg_bytes(seed=12))
    job.refresh_from_db()
    # ended on its own: the row's file never came, as far as the server knows
    assert (job.status, job.error_count) == ("done", 1)
    assert list(job.issues.values_list("filename", flat=True)) == ["m.csv"]
    assert "not among the uploaded files" in job.issues.get().reason
    job = import_job_finish(job_id=job.pk, held=["zz.jpg"])
    assert list(job.issues.values_list("filename", flat=True)) == ["zz.jpg"]
    assert "Cannot create product 'ZZ-1'" in job.issues.get().reason
    assert job.error_count == 1 and job.message == "1 imported, 1 refused, 1 product created."


def test_it_ends_the_session_once_when_the_last_file_races_the_pages_finish(
        storage, finished_events, monkeypatch):
    # the page's finish lands between the last file's look at the row and its
    # compare-and-set: the last file's end then does nothing
    ProductFactory(sku="AR-7")
    job = import_job_create(user=None, source_kind="upload", expected_files=1)
    real = imports.upload_all_arrived
    raced: list[ImportJob] = []

    def page_finishes_first(row):
        if not raced:
            raced.append(import_job_finish(job_id=row.pk, failed=["AR-7_PT01.jpg"]))
        return real(row)

    monkeypatch.setattr(imports, "upload_all_arrived", page_finishes_first)
    _send(job, "AR-7_MAIN.jpg", jpeg_bytes(seed=13))
    job.refresh_from_db()
    assert raced and job.status == "done"
    assert (job.imported_count, job.error_count) == (1, 1)
    assert job.issues.filter(filename="AR-7_PT01.jpg").count() == 1
    assert finished_events == [job.pk]


def _hash_reads(queries) -> list[str]:
    """The queries that read live images by content: the duplicate rule and the same bytes
    on another product."""
    return [sql for q in queries.captured_queries
            if (sql := q["sql"]).lstrip().upper().startswith("SELECT")
            and '"catalog_imageasset"."sha256" ' in sql and " FROM \"catalog_imageasset\"" in sql]


def _post_files(manager_client, product, files: dict[str, bytes]):
    uploads = [SimpleUploadedFile(name, data, content_type="image/jpeg")
               for name, data in files.items()]
    with CaptureQueriesContext(connection) as queries:
        response = manager_client.post(
            reverse("catalog:product_upload", args=[product.pk]), {"file": uploads},
            HTTP_ACCEPT="application/json")
    answer = response.json()
    return answer.get("results", [answer]), _hash_reads(queries)


@pytest.mark.parametrize("count", [1, 4])
def test_it_reads_the_images_with_a_product_uploads_file_contents_once(
        manager_client, storage, count):
    other = ProductFactory(sku="EL-1")
    photo = jpeg_bytes(seed=20)
    first = asset_ingest(product=other, fileobj=io.BytesIO(photo), filename="el1.jpg").asset
    target = ProductFactory(sku="EL-2")
    files = {"same.jpg": photo}
    files.update({f"new{i}.jpg": jpeg_bytes(seed=30 + i)
                  for i in range(count - 1)})
    answer, reads = _post_files(manager_client, target, files)
    assert len(reads) == 1  # was 2 per file: the duplicate rule, then the other products
    results = {r["filename"]: r for r in answer}
    assert {r["status"] for r in results.values()} == {"stored"}
    # the message is the one it was
    assert results["same.jpg"]["warnings"] == [
        f"Identical to EL-1 {first.position} (#{first.pk}): the same file is already stored "
        "for another product. Stored for EL-2 too; check the photo belongs to both."]
    assert not any(r["warnings"] for name, r in results.items() if name != "same.jpg")


def test_it_finds_a_batchs_own_earlier_file_as_a_fresh_read_would(manager_client, storage):
    target = ProductFactory(sku="EL-3")
    photo = jpeg_bytes(seed=40)
    answer, reads = _post_files(manager_client, target, {"a.jpg": photo, "b.jpg": photo})
    assert len(reads) == 1
    assert [r["status"] for r in answer] == ["stored", "duplicate"]
    assert ImageAsset.live.filter(product=target).count() == 1


def test_it_reads_the_images_with_a_session_files_contents_once(storage):
    # one file per request: the duplicate rule and the other products share one read
    ProductFactory(sku="EL-4")
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    with CaptureQueriesContext(connection) as queries:
        result = _send(job, "EL-4_MAIN.jpg", jpeg_bytes(seed=50))
    assert result.status == "stored" and len(_hash_reads(queries)) == 1


@pytest.mark.django_db(transaction=True)
def test_it_ends_the_session_once_when_the_last_file_and_the_finish_come_in_two_threads(
        storage, finished_events):
    # the real race: two requests at once, whichever gets the row first
    import threading

    from django.db import connections

    ProductFactory(sku="AR-8")
    for round_ in range(3):
        job = import_job_create(user=None, source_kind="upload", expected_files=1)
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(call, job=job, start=start, errors=errors):
            try:
                start.wait(timeout=10)
                call(job)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=run, args=(
                lambda j, r=round_: _send(j, f"AR-8_PT0{r + 1}.jpg", jpeg_bytes(seed=60 + r)),)),
            threading.Thread(target=run, args=(
                lambda j: import_job_finish(job_id=j.pk, held=["NOPE-8_MAIN.jpg"]),)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        job.refresh_from_db()
        assert job.status == "done"
        assert job.issues.filter(filename="NOPE-8_MAIN.jpg").count() == 1
        assert job.error_count == 1 and job.imported_count in (0, 1)
        # the file lost the race (refused: the import is done) or ended the session: either
        # way one end
        assert finished_events.count(job.pk) == 1


def test_it_reports_a_cancelled_sessions_progress_and_the_files_sent_after(storage):
    ProductFactory(sku="CN001")
    ProductFactory(sku="CN002")
    job = import_job_create(user=None, source_kind="upload", expected_files=3)
    assert _send(job, "CN001_MAIN.jpg", jpeg_bytes(seed=1)).status == "stored"
    assert import_job_cancel(job_id=job.pk)
    job.refresh_from_db()
    assert job.message == cancelled_message(done=1, total=3)
    assert job.message == "Cancelled after 1 of 3 files; 2 not imported."
    for _ in range(2):  # the page retried it: one row
        late = _send(job, "CN002_MAIN.jpg", jpeg_bytes(seed=2))
        assert late.status == "rejected" and late.code == "job_closed"
    import_job_finish(job_id=job.pk)
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == "cancelled"
    assert (job.imported_count, job.progress_done, job.error_count) == (1, 1, 0)
    rows = list(csv.DictReader(io.StringIO(import_job_report_csv(job=job))))
    by_name = {r["filename"]: r for r in rows}
    assert len(rows) == 2 and by_name["CN001_MAIN.jpg"]["status"] == "stored"
    assert by_name["CN002_MAIN.jpg"]["status"] == "not imported"
    assert by_name["CN002_MAIN.jpg"]["reason"] == CANCELLED_REASON
    assert not ImageAsset.objects.filter(product__sku="CN002").exists()


def test_it_adds_no_row_for_a_file_sent_to_a_finished_session(storage):
    ProductFactory(sku="CN003")
    job = import_job_create(user=None, source_kind="upload", expected_files=1)
    # the session ends on it
    assert _send(job, "CN003_MAIN.jpg", jpeg_bytes(seed=3)).status == "stored"
    assert _send(job, "CN003_PT01.jpg", jpeg_bytes(seed=4)).code == "job_closed"
    rows = list(csv.DictReader(io.StringIO(import_job_report_csv(job=ImportJob.objects.get(
        pk=job.pk)))))
    assert [r["filename"] for r in rows] == ["CN003_MAIN.jpg"]


def test_it_says_how_many_names_past_the_first_200_a_finish_did_not_list(manager_client,
                                                                        storage):
    from django.urls import reverse

    from catalog.models import ImportIssue

    job = import_job_create(user=None, source_kind="upload", expected_files=2000)
    failed = [f"F{i:04d}_MAIN.jpg" for i in range(250)]  # a caller that names them all
    # the page names 200 skipped files and counts the rest
    skipped = [f"notes{i}.txt" for i in range(200)]
    answer = manager_client.post(
        reverse("catalog:import_finish", args=[job.pk]),
        {"failed": failed, "skipped": skipped, "skipped_more": "1234"},
        HTTP_ACCEPT="application/json").json()
    rows = list(ImportIssue.objects.filter(job=job).values_list("filename", "level", "reason"))
    assert sum(reason.startswith("Not received") for _f, _l, reason in rows) == 200
    assert ("…", ImportIssue.Level.ERROR, "… and 50 more files the browser could not send "
            "(network or server error) are not listed here; upload them again.") in rows
    assert ("…", ImportIssue.Level.WARNING, "… and 1,234 more files the browser skipped by "
            "name (not image files) are not listed here.") in rows
    # the JSON answer's message, and the import's page, say it too (they said nothing)
    assert "… and 1,284 more." in answer["message"]
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk])).content.decode()
    assert "… and 1,284 more." in page
    assert "… and 1,234 more files the browser skipped" in page


# --- ZIPs: folder-per-SKU shoots, and ZIPs without an image ---------------------------------


def _zip_upload(members: dict[str, bytes], name: str = "shoot.zip") -> ContentFile:
    from tests.catalog.imagegen import zip_bytes

    return ContentFile(zip_bytes(members), name=name)


def test_it_imports_a_folder_of_view_named_photos_as_the_folders_one_product(storage):
    from catalog.models import Product
    from catalog.services.import_runner import import_job_run

    names = ["SS26-ZIP-040/front.jpg", "SS26-ZIP-040/back.jpg", "SS26-ZIP-040/back_copy.jpg"]
    job = import_job_create(
        user=None, source_kind="zip", enqueue=False, create_products=True,
        source_file=_zip_upload({n: jpeg_bytes(seed=i) for i, n in enumerate(names)}))
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.imported_count, job.products_created) == ("done", 3, 1)
    assert list(Product.objects.values_list("sku", flat=True)) == ["SS26-ZIP-040"]
    assert sorted(ImageAsset.objects.values_list("original_filename", "product__sku")) == [
        ("back.jpg", "SS26-ZIP-040"), ("back_copy.jpg", "SS26-ZIP-040"),
        ("front.jpg", "SS26-ZIP-040")]


def test_it_imports_each_folders_front_to_its_own_product_beside_a_product_named_front(
        storage):
    from catalog.models import Product
    from catalog.services.import_runner import import_job_run

    ProductFactory(sku="front")  # what the import made before the fix
    names = ["SS26-ZIP-070/front.jpg", "SS26-ZIP-071/front.jpg", "SS26-ZIP-071/IMG_0002.jpg"]
    job = import_job_run(job_id=import_job_create(
        user=None, source_kind="zip", enqueue=False, create_products=True,
        source_file=_zip_upload({n: jpeg_bytes(seed=i) for i, n in enumerate(names)})).pk)
    assert (job.imported_count, job.products_created) == (3, 2)
    counts = {p.sku: p.assets.count() for p in Product.objects.all()}
    assert counts == {"front": 0, "SS26-ZIP-070": 1, "SS26-ZIP-071": 2}


@pytest.mark.parametrize(("members", "reason"), [
    ({}, "The archive holds no images: nothing to import."),
    ({"empty/": b"", ".DS_Store": b"x", "manifest.csv": b"sku\nA\n"},
     "The archive holds no images: nothing to import."),
    ({"readme.txt": b"hi"},
     "The archive holds no images: nothing to import. Its one file is not an image: "
     "readme.txt."),
    ({f"n{i}.txt": b"x" for i in range(5)},
     "The archive holds no images: nothing to import. Its 5 files are not images: n0.txt, "
     "n1.txt, n2.txt and 2 more."),
])
def test_it_refuses_a_zip_without_an_image_before_a_job_exists(storage, stored_files,
                                                               members, reason):
    from catalog.errors import ImportRefused

    with pytest.raises(ImportRefused) as refused:
        import_job_create(user=None, source_kind="zip", enqueue=False,
                          source_file=_zip_upload(members))
    assert str(refused.value) == reason
    assert not ImportJob.objects.exists()
    assert stored_files() == set()


def test_it_refuses_a_zip_without_an_image_given_by_path(tmp_path):
    from catalog.errors import ImportRefused
    from tests.catalog.imagegen import zip_bytes

    path = tmp_path / "empty.zip"
    path.write_bytes(zip_bytes({}))
    with pytest.raises(ImportRefused, match="The archive holds no images"):
        import_job_create(user=None, source_kind="zip", source_path=str(path), enqueue=False)
    assert not ImportJob.objects.exists()


def test_it_still_takes_a_zip_whose_only_image_the_import_will_refuse(storage):
    # its report says why (path traversal), not "no images"
    job = import_job_create(user=None, source_kind="zip", enqueue=False,
                            source_file=_zip_upload({"../A1_MAIN.jpg": b"x"}))
    assert job.source_kind == "zip"


def test_it_refuses_an_empty_zip_at_the_preview_and_the_upload(manager_client, storage):
    from django.urls import reverse

    preview = manager_client.post(reverse("catalog:import_preview"),
                                  {"source": "zip", "create_products": "on"}).content.decode()
    assert "The archive holds no images: nothing to import." in preview
    assert "0 of 0 files" not in preview
    # a session's preview of no files is not a ZIP's: no such refusal
    session = manager_client.post(reverse("catalog:import_preview"),
                                  {"source": "session"}).content.decode()
    assert "holds no images" not in session
    answer = manager_client.post(reverse("catalog:import_list"),
                                 {"archive": SimpleUploadedFile("empty.zip", _zip_upload(
                                     {}).read(), "application/zip")},
                                 HTTP_ACCEPT="application/json")
    assert answer.status_code == 400
    assert answer.json() == {"error": "The archive holds no images: nothing to import."}
    assert not ImportJob.objects.exists()


def test_it_previews_view_named_files_under_their_folders_sku(manager_client):
    from django.urls import reverse

    ProductFactory(sku="front")
    page = manager_client.post(reverse("catalog:import_preview"), {
        "source": "zip", "create_products": "on", "use_folders": "on",
        "names": ["SS26-ZIP-070/front.jpg", "SS26-ZIP-071/front.jpg", "SS26-ZIP-071/main.jpg"],
    }).content.decode()
    assert "3 of 3 files → 2 products" in page
    assert 'data-preview-sku="front"' not in page
    assert 'data-preview-sku="SS26-ZIP-071"' in page
    assert "data-preview-view-words" in page and "is not read as a SKU" in page


def test_it_reports_a_new_product_named_by_a_view_word_as_a_warning(storage):
    from catalog.models import Product
    from catalog.services.import_runner import import_job_run

    # at the archive's root nothing but the file name reads the SKU
    job = import_job_run(job_id=import_job_create(
        user=None, source_kind="zip", enqueue=False, create_products=True,
        source_file=_zip_upload({"back_copy.jpg": jpeg_bytes(seed=1)})).pk)
    assert (job.status, job.imported_count, job.products_created) == ("done", 1, 1)
    assert list(Product.objects.values_list("sku", flat=True)) == ["back_copy"]
    assert _reasons(job) == {"back_copy.jpg": (
        "'back_copy' looks like a view (front, back, side…) rather than a SKU; it created "
        "product back_copy. Put the photos in a folder named by the SKU (with \"a folder name "
        "is the SKU\" on), or rename them.")}
    assert job.issues.get().level == "warning"

    # a bare view word has no SKU prefix to look up: it is warned of all the same
    job = import_job_run(job_id=import_job_create(
        user=None, source_kind="zip", enqueue=False, create_products=True,
        source_file=_zip_upload({"front.jpg": jpeg_bytes(seed=2)})).pk)
    assert (job.status, job.imported_count, job.products_created) == ("done", 1, 1)
    assert _reasons(job) == {"front.jpg": (
        "'front' looks like a view (front, back, side…) rather than a SKU; it created "
        "product front. Put the photos in a folder named by the SKU (with \"a folder name "
        "is the SKU\" on), or rename them.")}


def test_it_imports_a_photos_folder_in_each_sku_folder_as_the_sku_folders_products(storage):
    from catalog.models import Product
    from catalog.services.import_runner import import_job_run

    names = ["SS26-ZIP-H/photos/front.jpg", "SS26-ZIP-H/photos/back.jpg",
             "SS26-ZIP-J/photos/front.jpg", "SS26-ZIP-J/photos/back.jpg"]
    job = import_job_run(job_id=import_job_create(
        user=None, source_kind="zip", enqueue=False, create_products=True,
        source_file=_zip_upload({n: jpeg_bytes(seed=i) for i, n in enumerate(names)})).pk)
    assert (job.status, job.imported_count, job.products_created) == ("done", 4, 2)
    counts = {p.sku: p.assets.count() for p in Product.objects.all()}
    assert counts == {"SS26-ZIP-H": 2, "SS26-ZIP-J": 2}



def _zip_positions(members: list[str], extra: dict[str, bytes] | None = None
                   ) -> dict[str, str]:
    """Run a ZIP of ``members`` (creating products): "SKU/file name" -> position."""
    from catalog.services.import_runner import import_job_run

    files = {n: jpeg_bytes(seed=i + 40) for i, n in enumerate(members)}
    job = import_job_run(job_id=import_job_create(
        user=None, source_kind="zip", enqueue=False, create_products=True,
        source_file=_zip_upload({**files, **(extra or {})})).pk)
    assert job.status == "done"
    return {f"{a.product.sku}/{a.original_filename}": a.position
            for a in ImageAsset.live.filter(import_job=job).select_related("product")}


def test_it_gives_main_to_the_front_view_not_to_the_back_first_in_name_order(storage):
    assert _zip_positions(["SS26-ZIP-A/front.jpg", "SS26-ZIP-A/back.jpg",
                           "SS26-ZIP-A/detail.jpg"]) == {
        "SS26-ZIP-A/front.jpg": "MAIN", "SS26-ZIP-A/back.jpg": "PT01",
        "SS26-ZIP-A/detail.jpg": "PT02"}


def test_it_lets_an_explicit_main_beat_the_front_view(storage):
    # main.jpg names MAIN itself, after front.jpg in name order
    positions = _zip_positions(["SS26-ZIP-B/back.jpg", "SS26-ZIP-B/front.jpg",
                                "SS26-ZIP-B/main.jpg"])
    assert positions["SS26-ZIP-B/main.jpg"] == "MAIN"
    assert sorted(positions.values()) == ["MAIN", "PT01", "PT02"]
    # a manifest row gives back.jpg MAIN
    manifest = b"sku,filename,position\r\nSS26-ZIP-C,SS26-ZIP-C/back.jpg,MAIN\r\n"
    positions = _zip_positions(["SS26-ZIP-C/back.jpg", "SS26-ZIP-C/front.jpg"],
                               extra={"manifest.csv": manifest})
    assert positions == {"SS26-ZIP-C/back.jpg": "MAIN", "SS26-ZIP-C/front.jpg": "PT01"}


def test_it_keeps_an_existing_products_main_when_a_front_view_comes(storage):
    from tests.factories import ImageAssetFactory

    held = ImageAssetFactory(product=ProductFactory(sku="SS26-ZIP-D"), position="MAIN")
    positions = _zip_positions(["SS26-ZIP-D/back.jpg", "SS26-ZIP-D/front.jpg"])
    held.refresh_from_db()
    assert (held.position, held.deleted_at) == ("MAIN", None)
    # the front still comes first among the new files
    assert positions == {"SS26-ZIP-D/front.jpg": "PT01", "SS26-ZIP-D/back.jpg": "PT02"}


def test_it_gives_main_to_a_sessions_front_view_whatever_order_it_arrived_in(storage):
    job = import_job_create(user=None, source_kind="upload", expected_files=3,
                            create_products=True)
    for seed, name in enumerate(["SS26-UP-A/back.jpg", "SS26-UP-A/detail.jpg",
                                 "SS26-UP-A/front.jpg"]):
        _send(job, name, jpeg_bytes(seed=seed + 60))
    job.refresh_from_db()
    assert job.status == "done"
    assert dict(ImageAsset.live.filter(import_job=job).values_list(
        "original_filename", "position")) == {
        "front.jpg": "MAIN", "back.jpg": "PT01", "detail.jpg": "PT02"}


def test_it_names_a_sessions_stored_file_by_its_path_and_gives_its_warnings_the_sku(storage):
    """QA 2026-12-05: the report named a stored row by its base name (the path is what the
    team knows) and a session's warning rows had no SKU."""
    ProductFactory(sku="WP001")
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    # 800 px on the long side: stored, with the small-image warning
    small = _send(job, "shoot/WP001/WP001_MAIN.jpg", jpeg_bytes(size=(800, 600), seed=1))
    assert small.status == "stored" and small.warnings
    assert _send(job, "shoot/WP001/WP001_PT01.jpg", jpeg_bytes(seed=2)).status == "stored"
    job = ImportJob.objects.get(pk=job.pk)
    assets = {a.position: a for a in ImageAsset.objects.filter(import_job=job)}
    assert assets["MAIN"].import_path == "shoot/WP001/WP001_MAIN.jpg"
    assert assets["MAIN"].original_filename == "WP001_MAIN.jpg"  # the bare name, as before
    rows = list(csv.DictReader(io.StringIO(import_job_report_csv(job=job))))
    warned = [r for r in rows if r["level"] == "warning"]
    assert warned and all((r["filename"], r["sku"], r["position"], r["asset_id"]) == (
        "shoot/WP001/WP001_MAIN.jpg", "WP001", "MAIN", str(assets["MAIN"].pk)) for r in warned)
    stored = {r["filename"]: r for r in rows if r["status"] == "stored"}
    assert set(stored) == {"shoot/WP001/WP001_MAIN.jpg", "shoot/WP001/WP001_PT01.jpg"}


def test_it_records_no_import_path_for_an_image_stored_outside_an_import(storage):
    product = ProductFactory(sku="WP002")
    result = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=3)),
                          filename="folder/WP002.jpg")
    assert result.status == "stored"
    assert (result.asset.import_path, result.asset.original_filename) == ("", "WP002.jpg")


def test_it_counts_a_file_of_the_same_name_and_bytes_in_another_folder_as_an_arrival(storage):
    # a/SHOE-8.jpg and b/SHOE-8.jpg, one photo copied to two folders: the second is a
    # duplicate of the first's image, but another file of the session, not the first resent
    ProductFactory(sku="SHOE-8")
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    photo = jpeg_bytes(seed=13)
    assert _send(job, "a/SHOE-8.jpg", photo).status == "stored"
    assert _send(job, "b/SHOE-8.jpg", photo).status == "duplicate"
    job.refresh_from_db()
    assert (job.status, job.progress_done) == ("done", 2)
    # the first file resent (its answer lost) is still no new arrival
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    ProductFactory(sku="SHOE-9")
    _send(job, "a/SHOE-9.jpg", jpeg_bytes(seed=14))
    _send(job, "a/SHOE-9.jpg", jpeg_bytes(seed=14))
    job.refresh_from_db()
    assert (job.status, job.progress_done) == ("running", 1)


MANIFEST_TWO_FOLDERS = b"sku,filename,position\nMF-1,front/x.jpg,MAIN\nMF-1,back/x.jpg,PT01\n"


def test_it_reports_a_manifest_row_missing_whose_base_name_another_folder_delivered(storage):
    # front/x.jpg came, back/x.jpg did not: both rows are MF-1's and name x.jpg, so matched by
    # the base name the image keeps the second row read as delivered
    ProductFactory(sku="MF-1")
    job = import_job_create(user=None, source_kind="upload", expected_files=2,
                            names=["front/x.jpg", "back/x.jpg"],
                            manifest_file=ContentFile(MANIFEST_TWO_FOLDERS, name="m.csv"))
    assert _send(job, "front/x.jpg", jpeg_bytes(seed=15)).status == "stored"
    job = import_job_finish(job_id=job.pk)
    assert list(job.issues.values_list("reason", flat=True)) == [
        "Manifest line 3 names back/x.jpg, which is not among the uploaded files."]


def test_it_matches_an_image_from_before_import_paths_to_a_manifest_row_by_base_name(storage):
    # a row stored before ImageAsset.import_path (migration 0015) knows only its base name
    ProductFactory(sku="MF-2")
    job = import_job_create(user=None, source_kind="upload", expected_files=2,
                            names=["front/y.jpg"], manifest_file=ContentFile(
                                b"sku,filename\nMF-2,front/y.jpg\n", name="m.csv"))
    _send(job, "front/y.jpg", jpeg_bytes(seed=16))
    ImageAsset.objects.filter(import_job=job).update(import_path="")
    job = import_job_finish(job_id=job.pk)
    assert not job.issues.exists()


def test_it_passes_over_a_hidden_file_a_session_is_sent_as_a_zip_import_does(storage):
    # the page sends none (the same rule, archives.IGNORED_NAME_PATTERN); another client's
    # is not stored, and not reported, as in a ZIP
    ProductFactory(sku="DOT-3")
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    result = _send(job, "shoot/.DOT-3_MAIN.jpg", jpeg_bytes(seed=17))
    assert (result.status, result.code) == ("rejected", "ignored")
    assert _send(job, "shoot/DOT-3_PT01.jpg", jpeg_bytes(seed=18)).status == "stored"
    job.refresh_from_db()
    assert (job.status, job.message) == ("done", "1 imported.")
    assert not job.issues.exists()
    assert list(ImageAsset.objects.values_list("original_filename", flat=True)) == [
        "DOT-3_PT01.jpg"]


#: A NAS share's shoot folder: the photo, a dot-file, and the thumbnails QNAP (.@__thumb/)
#: and Synology (@eaDir/, one folder per photo) keep beside it.
NAS_SHOOT = {
    "NAS-1/NAS-1_MAIN.jpg": jpeg_bytes(seed=20),
    "NAS-1/.NAS-1_PT01.jpg": jpeg_bytes(seed=21),
    "NAS-1/.@__thumb/NAS-1_PT02.jpg": jpeg_bytes(seed=22),
    "NAS-1/@eaDir/NAS-1_MAIN.jpg/SYNOFILE_THUMB_M.jpg": jpeg_bytes(seed=23),
    "NAS-1/@eaDir/NAS-1_MAIN.jpg/SYNOFILE_THUMB_XL.jpg": jpeg_bytes(seed=24),
}


@pytest.mark.parametrize("source_kind", ["zip", "folder"])
def test_it_passes_over_nas_thumbnail_folders_as_it_passes_over_dot_files(storage, tmp_path,
                                                                          source_kind):
    # before 2026-12-05 only the file's own name counted: the thumbnails were imported (or
    # refused, and reported) as product photos
    from catalog.services.import_runner import import_job_run

    ProductFactory(sku="NAS-1")
    if source_kind == "zip":
        job = import_job_create(user=None, source_kind="zip", enqueue=False,
                                source_file=_zip_upload(NAS_SHOOT))
    else:
        for name, data in NAS_SHOOT.items():
            (tmp_path / "share" / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "share" / name).write_bytes(data)
        job = import_job_create(user=None, source_kind="folder", enqueue=False,
                                source_path=str(tmp_path / "share"))
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.message, job.progress_total) == ("done", "1 imported.", 1)
    assert (job.imported_count, job.error_count, job.warning_count) == (1, 0, 0)
    assert not job.issues.exists()
    assert list(ImageAsset.objects.values_list("original_filename", flat=True)) == [
        "NAS-1_MAIN.jpg"]


def test_it_refuses_a_zip_of_nas_thumbnails_alone_as_holding_no_images(storage):
    from catalog.errors import ImportRefused

    thumbs = {n: d for n, d in NAS_SHOOT.items() if "@" in n}
    with pytest.raises(ImportRefused, match=r"^The archive holds no images: nothing to "
                                            r"import\.$"):
        import_job_create(user=None, source_kind="zip", enqueue=False,
                          source_file=_zip_upload(thumbs))


@pytest.mark.parametrize("name", ["shoot/.@__thumb/DOT-4_MAIN.jpg",
                                  "shoot/@eaDir/DOT-4_MAIN.jpg/SYNOFILE_THUMB_M.jpg"])
def test_it_passes_over_a_file_in_a_hidden_folder_a_session_is_sent_as_a_dot_file(storage,
                                                                                   name):
    ProductFactory(sku="DOT-4")
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    result = _send(job, name, jpeg_bytes(seed=25))
    assert (result.status, result.code, result.reason) == (
        "rejected", "ignored", imports.archives.IGNORED_REASON)
    assert _send(job, "shoot/DOT-4_PT01.jpg", jpeg_bytes(seed=26)).status == "stored"
    job.refresh_from_db()
    assert (job.status, job.message) == ("done", "1 imported.")
    assert not job.issues.exists()
    assert list(ImageAsset.objects.values_list("original_filename", flat=True)) == [
        "DOT-4_PT01.jpg"]


def test_it_names_the_product_and_position_a_refused_files_name_maps_it_to(storage):
    """QA 2026-12-06 L2, in a session: a corrupt file and one too small, both mapped by their
    names, keep QA005 and their positions in the report (their cells were empty)."""
    ProductFactory(sku="QA005")
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    _send(job, "shoot/QA005_PT01.jpg", jpeg_bytes(seed=6)[:400])
    _send(job, "shoot/QA005_PT02.jpg", jpeg_bytes(size=(400, 300), seed=7))
    job.refresh_from_db()
    rows = {r["filename"]: r for r in csv.DictReader(io.StringIO(
        import_job_report_csv(job=job)))}
    assert {name: (r["status"], r["sku"], r["position"]) for name, r in rows.items()} == {
        "shoot/QA005_PT01.jpg": ("refused", "QA005", "PT01"),
        "shoot/QA005_PT02.jpg": ("refused", "QA005", "PT02")}
    assert rows["shoot/QA005_PT02.jpg"]["reason"].startswith("Too small: 400×300")

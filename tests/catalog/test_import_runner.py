"""Import runs (catalog/services/import_runner.py): a ZIP that fails on its manifest lists every
bad line and shows why it failed; manifest rows and named files sharing a position; a cancelled
or dead run says how far it got, reports the files it never reached and announces
``import.finished`` once; the report's counts; corrupt files called corrupt."""

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from catalog import events, jobs
from catalog.models import ImageAsset, ImportIssue, ImportJob, JobStatus
from catalog.selectors import import_job_report_csv
from catalog.services import import_mapping, import_runner
from catalog.services.assets import asset_ingest
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_cancel, import_job_create
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.catalog.test_import_mapping import _zip_job
from tests.catalog.test_services import zip_job
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


BAD_MANIFEST = (b"sku,filename,position\nA1,a1.jpg,MAIN\nA2,a2.jpg,MAIN,extra\n"
                b'A3,"a3.jpg,MAIN\nA4,a4.jpg,MAIN\n')


def test_it_lists_every_bad_manifest_line_of_a_failed_zip_in_its_message_and_report(
        manager_client, storage):
    job = _zip_job(manager_client, {"manifest.csv": BAD_MANIFEST,
                                    "a1.jpg": jpeg_bytes(seed=1)})
    assert job.status == JobStatus.FAILED
    assert "line 3: 3 cells" not in job.message  # the header has 3: the row has 4
    assert "line 3: 4 cells, the header has 3" in job.message
    assert "row starting on line 4" in job.message
    reasons = list(ImportIssue.objects.filter(job=job).values_list("filename", "reason"))
    assert [(name, reason.split(":")[0]) for name, reason in reasons] == [
        ("manifest.csv", "Line 3"), ("manifest.csv", "Line 4")]


def test_it_keeps_the_first_bad_manifest_lines_in_the_report_and_counts_the_rest(
        manager_client, storage, monkeypatch):
    from catalog.services import import_runner

    monkeypatch.setattr(import_runner, "MANIFEST_ISSUES_KEPT", 3)
    rows = b"".join(b",x%d.jpg,MAIN\n" % i for i in range(5))  # 5 lines without a SKU
    job = _zip_job(manager_client, {"manifest.csv": b"sku,filename,position\n" + rows,
                                    "a1.jpg": jpeg_bytes(seed=1)})
    assert job.status == JobStatus.FAILED
    reasons = list(ImportIssue.objects.filter(job=job).order_by("pk")
                   .values_list("reason", flat=True))
    assert [r.split(":")[0] for r in reasons[:3]] == ["Line 2", "Line 3", "Line 4"]
    assert reasons[3:] == ["… and 2 more bad lines like these."]


def test_it_shows_why_a_zip_failed_instead_of_empty_counts(manager_client, storage):
    job = _zip_job(manager_client, {"manifest.csv": BAD_MANIFEST,
                                    "a1.jpg": jpeg_bytes(seed=1)})
    for url in (reverse("catalog:import_list"), reverse("catalog:dashboard_summary"),
                reverse("catalog:bulk_upload")):
        page = html.unescape(manager_client.get(url).content.decode())
        row = page[page.index(f"#{job.pk}</a>"):]
        row = row[:row.index("</tr>")]
        assert "Failed: The manifest has errors: line 3: 4 cells" in row, url
        assert "0 / 0" not in row, url
    detail = html.unescape(manager_client.get(
        reverse("catalog:import_detail", args=[job.pk])).content.decode())
    assert "Failed before its first file" in detail and "0 / 0" not in detail
    assert "Line 3: 4 cells, the header has 3" in detail  # the issues list every bad line


def test_it_gives_a_tied_position_to_the_manifest_file_and_refuses_the_named_one(
        manager_client, storage):
    product = ProductFactory(sku="SS26-SHOE-003")
    manifest = b"sku,filename,position\nSS26-SHOE-003,shoot/DSC_100.jpg,MAIN\n"
    job = _zip_job(manager_client, {"manifest.csv": manifest,
                                    "SS26-SHOE-003_MAIN.jpg": jpeg_bytes(seed=1),
                                    "shoot/DSC_100.jpg": jpeg_bytes(seed=2)})
    assert job.status == JobStatus.DONE
    main = ImageAsset.objects.get(product=product, position="MAIN", deleted_at__isnull=True)
    assert main.original_filename.endswith("DSC_100.jpg")
    refused = ImportIssue.objects.get(job=job, filename="SS26-SHOE-003_MAIN.jpg")
    assert refused.level == ImportIssue.Level.ERROR
    assert "MAIN" in refused.reason and "DSC_100.jpg" in refused.reason
    assert job.imported_count == 1 and job.error_count == 1


def test_it_refuses_a_named_file_whose_position_the_manifest_gives_another_file_in_a_session(
        manager_client, storage):
    product = ProductFactory(sku="SS26-SHOE-003")
    manifest = SimpleUploadedFile(
        "m.csv", b"sku,filename,position\nSS26-SHOE-003,shoot/DSC_100.jpg,MAIN\n")
    response = manager_client.post(reverse("catalog:bulk_upload"),
                                   {"manifest": manifest, "expected": 2},
                                   HTTP_ACCEPT="application/json")
    assert response.status_code in (200, 201), response.content
    send = response.json()["upload_url"]
    # the named file arrives first: the manifest's file still gets the position
    named = manager_client.post(send, {"file": SimpleUploadedFile(
        "SS26-SHOE-003_MAIN.jpg", jpeg_bytes(seed=1), "image/jpeg")},
        HTTP_ACCEPT="application/json").json()
    mapped = manager_client.post(send, {"file": SimpleUploadedFile(
        "DSC_100.jpg", jpeg_bytes(seed=2), "image/jpeg"), "path": "shoot/DSC_100.jpg"},
        HTTP_ACCEPT="application/json").json()
    assert named["status"] != "stored"
    assert "MAIN" in named["reason"] and "m.csv line 2" in named["reason"]
    assert mapped["status"] == "stored", mapped
    main = ImageAsset.objects.get(product=product, position="MAIN", deleted_at__isnull=True)
    assert main.original_filename.endswith("DSC_100.jpg")


@pytest.mark.parametrize("source, refused", [("session", True), ("zip", False)])
def test_it_previews_a_sessions_named_file_the_manifest_keeps_a_position_from(
        manager_client, storage, source, refused):
    # review: the preview showed SS26-SHOE-003_MAIN.jpg as fine and the session then refused
    # it; a ZIP import takes it (the manifest's file is not in the ZIP)
    ProductFactory(sku="SS26-SHOE-003")
    manifest = SimpleUploadedFile(
        "m.csv", b"sku,filename,position\nSS26-SHOE-003,shoot/DSC_100.jpg,MAIN\n")
    page = manager_client.post(reverse("catalog:import_preview"), {
        "names": ["SS26-SHOE-003_MAIN.jpg"], "manifest": manifest, "source": source})
    assert page.status_code == 200
    found = dict(re.findall(r'<li data-preview-unmapped><span class="name">([^<]*)</span>: '
                            r"<span data-preview-reason>([^<]*)</span></li>",
                            page.content.decode()))
    if not refused:
        assert found == {}
        return
    # the session's import refuses it in these words (the test above)
    assert html.unescape(found["SS26-SHOE-003_MAIN.jpg"]) == (
        "Position MAIN of SS26-SHOE-003 is kept for shoot/DSC_100.jpg, which m.csv line 2 "
        "puts there: a manifest row beats the file's name. Rename this file or change the "
        "manifest.")


def test_it_hints_at_a_mistyped_position_in_the_report_without_creating(
        manager_client, storage):
    ProductFactory(sku="SS26-TOY-005")
    job = _zip_job(manager_client, {"SS26-TOY-005_XYZ.jpg": jpeg_bytes(seed=1)})
    reason = ImportIssue.objects.get(job=job, filename="SS26-TOY-005_XYZ.jpg").reason
    assert "did you mean product SS26-TOY-005 with an unknown position 'XYZ'?" in reason


def test_it_lets_a_manifest_row_take_a_position_a_name_gives_too_whatever_the_name_order(
        storage):
    """The ZIP of ``test_services.test_it_refuses_a_second_file_for_a_taken_position_in_a_zip_
    naming_the_other``: PT02 now goes to the manifest's shoot/a.jpg, not to CL1-3.jpg."""
    from django.core.files.base import ContentFile

    from catalog.services.imports import import_job_create
    from tests.catalog.imagegen import image_bytes

    product = ProductFactory(sku="CL1")
    members = {
        "CL1-1.png": image_bytes("PNG", seed=32),
        "CL1-3.jpg": jpeg_bytes(seed=34),  # PT02 by -3, but ...
        "shoot/a.jpg": jpeg_bytes(seed=35),  # ... PT02 by the manifest, which wins
        "manifest.csv": b"sku,filename,position\nCL1,shoot/a.jpg,PT02\n",
    }
    job = import_job_create(user=None, source_kind="zip", enqueue=False,
                            source_file=ContentFile(zip_bytes(members), name="shoot.zip"))
    job = import_job_run(job_id=job.pk)
    assert (job.imported_count, job.error_count) == (2, 1)
    got = dict(ImageAsset.live.filter(product=product).values_list("original_filename",
                                                                    "position"))
    assert got == {"CL1-1.png": "MAIN", "a.jpg": "PT02"}
    first = ImageAsset.live.get(product=product, original_filename="a.jpg")
    assert ImportIssue.objects.get(job=job).reason == (
        f"Position PT02 of CL1 is already taken by a.jpg (asset #{first.pk}, from this import)"
        "; not stored. Delete that image first, or give this file another position.")


@pytest.fixture
def emitted(monkeypatch):
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(events, "emit", lambda event_type, data, **kw: sent.append(
        (event_type, data)))
    return sent


def test_it_reports_the_files_a_cancelled_zip_import_never_reached(storage, emitted):
    ProductFactory(sku="CX")
    names = [f"CX-{n:02}.jpg" for n in range(1, 31)]
    job = zip_job({name: jpeg_bytes(size=(600, 500), seed=n) for n, name in enumerate(names)})

    def cancel_after_second(done=None, total=None, issue=None):
        if done == 2:
            import_job_cancel(job_id=job.pk)

    job = import_job_run(job_id=job.pk, progress=cancel_after_second)
    assert job.status == "cancelled"
    assert job.message == "Cancelled after 2 of 30 files; 28 not imported."
    assert (job.imported_count, job.progress_done, job.error_count) == (2, 2, 0)
    rows = list(csv.DictReader(io.StringIO(import_job_report_csv(job=job))))
    stored = {r["filename"] for r in rows if r["status"] == "stored"}
    not_imported = {r["filename"]: r["reason"] for r in rows if r["level"] == "error"}
    assert stored == {"CX-01.jpg", "CX-02.jpg"}
    assert set(not_imported) == set(names[2:])
    assert set(not_imported.values()) == {
        "Not imported: the import was cancelled before this file."}
    assert {r["status"] for r in rows if r["level"] == "error"} == {"not imported"}
    finished = [data for kind, data in emitted if kind == "import.finished"]
    assert len(finished) == 1
    assert finished[0]["status"] == "cancelled" and finished[0]["import_id"] == job.pk
    assert finished[0]["message"] == job.message


def test_it_announces_the_end_of_a_queued_import_cancelled_before_it_ran(storage, emitted):
    job = zip_job({"CY_MAIN.jpg": jpeg_bytes()})
    assert import_job_cancel(job_id=job.pk)
    assert import_job_run(job_id=job.pk) is None  # never runs
    assert [(kind, data["status"]) for kind, data in emitted] == [
        ("import.finished", "cancelled")]


def test_it_announces_the_end_of_a_cancelled_browser_session(storage, emitted):
    job = import_job_create(user=None, source_kind="upload", expected_files=3)
    assert import_job_cancel(job_id=job.pk)
    assert not import_job_cancel(job_id=job.pk)  # once
    assert [(kind, data["status"]) for kind, data in emitted] == [
        ("import.finished", "cancelled")]


def _zip_import(members: dict[str, bytes], *, create: bool = True, manifest=None):
    upload = ContentFile(zip_bytes(members), name="shoot.zip")
    job = import_job_create(user=None, source_kind="zip", source_file=upload,
                            create_products=create, manifest_file=manifest, enqueue=False)
    return import_job_run(job_id=job.pk)


def _broken() -> bytes:
    whole = jpeg_bytes(seed=21)
    return whole[:400]  # a JPEG cut inside its header: "Truncated File Read"


def test_it_calls_a_corrupt_file_outside_a_sku_folder_corrupt_not_an_unknown_sku(storage):
    job = _zip_import({"shoot/broken.jpg": _broken(), "CR-001/CR-001_MAIN.jpg": _broken()},
                      create=False)
    reasons = dict(job.issues.values_list("filename", "reason"))
    loose, foldered = reasons["shoot/broken.jpg"], reasons["CR-001/CR-001_MAIN.jpg"]
    assert "Unknown SKU" not in loose and "create products" not in loose
    assert loose.startswith("Not an image, or a corrupt one: ")
    assert loose == foldered  # one wording for the same bytes, whatever the name maps to


def test_it_still_gives_the_unknown_sku_reason_for_a_readable_image(storage):
    job = _zip_import({"shoot/nosuch.jpg": jpeg_bytes(seed=22)}, create=False)
    assert "Unknown SKU" in job.issues.get(filename="shoot/nosuch.jpg").reason


def test_it_names_the_product_and_position_a_corrupt_files_name_maps_it_to(storage):
    """QA 2026-12-06 L2: the preview mapped a corrupt ``shoot/QA004_PT01.jpg`` to QA004 PT01,
    but its report row (refused) left the sku and position empty; a file refused on decode
    too (its header reads, its data is cut short)."""
    ProductFactory(sku="QA004")
    job = _zip_import({"shoot/QA004_PT01.jpg": _broken(),
                       "shoot/QA004_PT02.jpg": jpeg_bytes(seed=24)[:-3000]}, create=False)
    rows = {r["filename"]: r for r in csv.DictReader(io.StringIO(
        import_job_report_csv(job=job)))}
    for name, position in (("shoot/QA004_PT01.jpg", "PT01"), ("shoot/QA004_PT02.jpg", "PT02")):
        row = rows[name]
        assert row["reason"].startswith("Not an image, or a corrupt one: "), row
        assert (row["status"], row["sku"], row["position"]) == ("refused", "QA004", position)


def test_it_words_every_unreadable_image_alike(storage):
    product = ProductFactory(sku="CR-201")
    reasons = [asset_ingest(product=product, fileobj=io.BytesIO(data), filename=name).reason
               for name, data in [("a.jpg", _broken()), ("b.jpg", b"plain text, no pixels" * 9),
                                  ("c.jpg", jpeg_bytes(seed=23)[:-3000]), ("d.jpg", b"")]]
    assert all(r.startswith("Not an image, or a corrupt one: ") for r in reasons), reasons


class _WorkerDied(BaseException):
    """The worker process going away mid-file (SIGKILL, out of memory)."""


def _cancelled_and_died(monkeypatch) -> tuple[ImportJob, list[int]]:
    """A ZIP import of three photos whose user presses Cancel at the second while its worker
    dies there; the import.finished events sent, as a list."""
    from catalog import events
    from catalog.services import import_runner
    from catalog.services.imports import import_job_cancel

    for sku in ("A1", "A2", "A3"):
        ProductFactory(sku=sku)
    job = zip_job({f"{sku}_MAIN.jpg": jpeg_bytes(seed=i)
                    for i, sku in enumerate(("A1", "A2", "A3"))})
    real_entry = import_runner._import_entry

    def entry(run, source, item, user):
        if item.name == "A2_MAIN.jpg":  # the user presses Cancel; the worker dies
            import_job_cancel(job_id=job.pk)
            raise _WorkerDied
        real_entry(run, source, item, user)

    monkeypatch.setattr(import_runner, "_import_entry", entry)
    finished: list[int] = []
    monkeypatch.setattr(events, "import_finished", finished.append)
    with pytest.raises(_WorkerDied):
        import_job_run(job_id=job.pk, interrupts=(_WorkerDied,))
    return job, finished


def test_it_finishes_a_cancelled_import_whose_worker_died_with_one_import_finished(
        storage, monkeypatch):
    from catalog import jobs
    from catalog.models import ImportIssue, JobStatus

    job, finished = _cancelled_and_died(monkeypatch)
    job.refresh_from_db()
    assert (job.status, job.message, finished) == (JobStatus.CANCELLED, "Cancelled.", [])
    assert jobs.jobs_reconcile()["import"]["swept"] == 0  # the run may still see the cancel
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=61))
    # was never: the import stayed "Cancelled." and no import.finished came
    assert jobs.jobs_reconcile()["import"]["swept"] == 1
    assert finished == [job.pk]
    job.refresh_from_db()
    assert job.message == "Cancelled after 1 of 3 files; 2 not imported."
    assert (job.imported_count, job.progress_done) == (1, 1)
    assert sorted(job.issues.filter(kind=ImportIssue.Kind.NOT_IMPORTED)
                  .values_list("filename", flat=True)) == ["A2_MAIN.jpg", "A3_MAIN.jpg"]
    assert jobs.jobs_reconcile()["import"]["swept"] == 0  # once
    assert finished == [job.pk]


def test_it_sends_import_finished_once_when_the_run_sees_the_cancel_itself(storage,
                                                                          monkeypatch):
    # the run's own end clears its token: the reconciler leaves that import alone
    from catalog import events, jobs
    from catalog.services import import_runner
    from catalog.services.imports import import_job_cancel

    for sku in ("B1", "B2"):
        ProductFactory(sku=sku)
    job = zip_job({"B1_MAIN.jpg": jpeg_bytes(seed=1), "B2_MAIN.jpg": jpeg_bytes(seed=2)})
    real_entry = import_runner._import_entry

    def entry(run, source, item, user):
        real_entry(run, source, item, user)
        import_job_cancel(job_id=job.pk)

    monkeypatch.setattr(import_runner, "_import_entry", entry)
    finished: list[int] = []
    monkeypatch.setattr(events, "import_finished", finished.append)
    import_job_run(job_id=job.pk)
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=61), message="Cancelled.")
    assert jobs.jobs_reconcile()["import"]["swept"] == 0
    job.refresh_from_db()
    assert finished == [job.pk] and job.run_token == ""


@pytest.mark.django_db(transaction=True)
def test_it_leaves_a_cancelled_run_still_busy_with_a_file_to_finish_itself(storage,
                                                                          monkeypatch,
                                                                          settings):
    # a cancelled run keeps beating until it finished its cancel, so the reconciler does not
    # take a slow file (a 100 MB TIFF) for a dead worker and end the import under it
    import time

    from catalog import events, jobs
    from catalog.services import import_runner
    from catalog.services.imports import import_job_cancel

    settings.CUTROOM_JOB_HEARTBEAT = 0.5
    for sku in ("C1", "C2"):
        ProductFactory(sku=sku)
    job = zip_job({"C1_MAIN.jpg": jpeg_bytes(seed=1), "C2_MAIN.jpg": jpeg_bytes(seed=2)})
    real_entry = import_runner._import_entry
    seen: list[tuple[bool, int]] = []

    def slow_entry(run, source, item, user):
        if item.name == "C1_MAIN.jpg":
            import_job_cancel(job_id=job.pk)
            stale = timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1)
            ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=stale)
            time.sleep(1.3)  # the file takes long; the heartbeat thread beats meanwhile
            beat = ImportJob.objects.get(pk=job.pk).heartbeat_at > stale
            seen.append((beat, jobs.jobs_reconcile()["import"]["swept"]))
        real_entry(run, source, item, user)

    monkeypatch.setattr(import_runner, "_import_entry", slow_entry)
    finished: list[int] = []
    monkeypatch.setattr(events, "import_finished", finished.append)
    import_job_run(job_id=job.pk)
    # was (False, 0): the beats stopped at the cancel, the run looked dead
    assert seen == [(True, 0)]
    job.refresh_from_db()
    assert job.message == "Cancelled after 1 of 2 files; 1 not imported."
    assert finished == [job.pk]


def test_it_keeps_a_refused_rows_refusal_when_the_run_resumes_before_the_missing_file_report(
        storage, monkeypatch):
    from catalog.models import ImportIssue, JobStatus
    from catalog.services import import_runner

    # line 2: a product the manifest refuses (bad check digit), its file not in the ZIP
    manifest = (b"sku,gtin,filename,position\nQA003,4006381333932,qa003.jpg,MAIN\n"
                b"QA004,,qa004.jpg,MAIN\n")
    job = zip_job({"manifest.csv": manifest, "qa004.jpg": jpeg_bytes(seed=4)})
    real_report = import_runner._manifest_unmatched_report

    def dies(*args, **kwargs):  # the worker dies right after the manifest step
        raise _WorkerDied

    monkeypatch.setattr(import_runner, "_manifest_unmatched_report", dies)
    with pytest.raises(_WorkerDied):
        import_job_run(job_id=job.pk, interrupts=(_WorkerDied,))
    # the reconciler requeues it (``jobs._dead_run_reset``); the next delivery resumes it
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, run_token="")
    monkeypatch.setattr(import_runner, "_manifest_unmatched_report", real_report)
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.imported_count) == (JobStatus.DONE, 1)
    rows = list(job.issues.values_list("filename", "level", "reason"))
    # was a bare warning: "Manifest line 2 names qa003.jpg, which is not in the archive."
    ((name, level, reason),) = rows
    assert (name, level) == ("manifest.csv", ImportIssue.Level.ERROR)
    assert reason.startswith("Manifest line 2 names qa003.jpg, which is not in the archive. "
                             "Line 2: product QA003 not created; its files are refused: GTIN: ")
    assert "refused" not in job.checkpoint  # kept only until that report


BAD_GTIN = "4006381333932"  # check digit off by one


def test_it_counts_the_files_past_the_finish_list_not_the_row_that_names_them(manager_client,
                                                                             storage):
    job = import_job_create(user=None, source_kind="upload", expected_files=2000)
    failed = [f"F{i:04d}_MAIN.jpg" for i in range(250)]
    skipped = [f"notes{i}.txt" for i in range(200)]
    manager_client.post(reverse("catalog:import_finish", args=[job.pk]),
                        {"failed": failed, "skipped": skipped, "skipped_more": "1234"},
                        HTTP_ACCEPT="application/json")
    job.refresh_from_db()
    rows = ImportIssue.objects.filter(job=job)
    assert rows.filter(level=ImportIssue.Level.ERROR).count() == 201  # 200 named + "… and 50"
    # was 201 and 201: the "… and N more" rows counted as one error and one warning each
    assert (job.error_count, job.warning_count) == (250, 200 + 1234)
    assert job.message.startswith("0 imported, 250 refused.")
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk])).content.decode()
    assert "250 refused" in page
    assert "more in the CSV report" not in page  # every one of the 402 rows is listed


def test_it_says_how_many_report_rows_the_page_does_not_list(manager_client, storage):
    # 602 rows: the page lists 500; the counts (900 files) are not rows
    job = import_job_create(user=None, source_kind="upload", expected_files=2000)
    manager_client.post(reverse("catalog:import_finish", args=[job.pk]), {
        "failed": [f"F{i:04d}_MAIN.jpg" for i in range(300)],
        "held": [f"H{i:04d}_MAIN.jpg" for i in range(200)],
        "skipped": [f"notes{i}.txt" for i in range(400)]}, HTTP_ACCEPT="application/json")
    job.refresh_from_db()
    assert (job.issues.count(), job.error_count + job.warning_count) == (602, 900)
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk])).content.decode()
    assert "102 more in the CSV report." in page


def test_it_counts_the_bad_manifest_lines_past_the_report_not_the_row_that_counts_them(
        manager_client, storage, monkeypatch):
    monkeypatch.setattr(import_runner, "MANIFEST_ISSUES_KEPT", 3)
    rows = b"".join(b",x%d.jpg,MAIN\n" % i for i in range(5))  # 5 lines without a SKU
    upload = ContentFile(zip_bytes({"manifest.csv": b"sku,filename,position\n" + rows,
                                    "a1.jpg": jpeg_bytes(seed=1)}), name="shoot.zip")
    job = import_job_run(job_id=import_job_create(user=None, source_kind="zip",
                                                  source_file=upload, enqueue=False).pk)
    assert job.status == JobStatus.FAILED
    assert list(job.issues.order_by("pk").values_list("reason", flat=True))[3:] == [
        "… and 2 more bad lines like these."]
    assert job.error_count == 5  # was 4: three lines and the row counting the other two


def test_it_does_not_count_the_note_on_refused_products_whose_rows_are_not_listed(
        manager_client, storage, monkeypatch):
    # three products the manifest refuses (a bad GTIN), their files never sent; the job keeps
    # the refusal of the first only, and a note says the others are not listed
    monkeypatch.setattr(import_mapping, "MANIFEST_REFUSALS_KEPT", 1)
    manifest = ("sku,gtin,filename\n" + "".join(
        f"QA00{i},{BAD_GTIN},qa00{i}.jpg\n" for i in (1, 2, 3)) + "QA009,,qa009.jpg\n").encode()
    response = manager_client.post(reverse("catalog:bulk_upload"), {
        "manifest": SimpleUploadedFile("shoot.csv", manifest), "expected": 1},
        HTTP_ACCEPT="application/json")
    assert response.status_code == 201, response.content
    urls = response.json()
    manager_client.post(urls["upload_url"], {
        "file": SimpleUploadedFile("qa009.jpg", jpeg_bytes(seed=9), "image/jpeg")},
        HTTP_ACCEPT="application/json")
    manager_client.post(urls["finish_url"], {}, HTTP_ACCEPT="application/json")
    job = ImportJob.objects.get(pk=urls["job"])
    reasons = list(job.issues.filter(level=ImportIssue.Level.ERROR)
                   .order_by("pk").values_list("reason", flat=True))
    assert len(reasons) == 2 and reasons[1].startswith("The manifest refused 2 more products")
    assert job.error_count == 1  # was 2: the note counted as an error


def test_it_finishes_an_import_cancelled_long_ago_without_a_late_import_finished(
        storage, monkeypatch, settings):
    job, finished = _cancelled_and_died(monkeypatch)
    # cancelled before the reconciler's window (the run limit and the grace): before this
    # sweep was deployed
    long_ago = timezone.now() - timedelta(seconds=settings.CUTROOM_IMPORT_TIME_LIMIT
                                          + settings.CUTROOM_RECONCILE_GRACE + 60)
    ImportJob.objects.filter(pk=job.pk).update(finished_at=long_ago, heartbeat_at=long_ago)
    assert jobs.jobs_reconcile()["import"]["swept"] == 1
    assert finished == []  # was [job.pk]: its API client got the end days late
    job.refresh_from_db()
    assert (job.message, job.run_token) == ("Cancelled after 1 of 3 files; 2 not imported.", "")
    assert sorted(job.issues.filter(kind=ImportIssue.Kind.NOT_IMPORTED)
                  .values_list("filename", flat=True)) == ["A2_MAIN.jpg", "A3_MAIN.jpg"]
    assert jobs.jobs_reconcile()["import"]["swept"] == 0


def test_it_announces_an_import_cancelled_within_the_window(storage, monkeypatch, settings):
    job, finished = _cancelled_and_died(monkeypatch)
    # the reconciler was down for an hour: the client still waits
    an_hour_ago = timezone.now() - timedelta(hours=1)
    ImportJob.objects.filter(pk=job.pk).update(finished_at=an_hour_ago,
                                               heartbeat_at=an_hour_ago)
    assert jobs.jobs_reconcile()["import"]["swept"] == 1
    assert finished == [job.pk]


def test_it_names_each_stored_file_of_a_zip_by_its_path_in_the_zip(storage):
    # QA 2026-12-05: the report said "IMG_0001.jpg" for each of two folders' files
    job = zip_job({"shoot/ZP-1/IMG_0001.jpg": jpeg_bytes(size=(1200, 900), seed=1),
                   "shoot/ZP-2/IMG_0001.jpg": jpeg_bytes(size=(1200, 900), seed=2)},
                  create_products=True)
    job = import_job_run(job_id=job.pk)
    rows = list(csv.DictReader(io.StringIO(import_job_report_csv(job=job))))
    stored = {r["filename"]: r["sku"] for r in rows if r["status"] == "stored"}
    assert stored == {"shoot/ZP-1/IMG_0001.jpg": "ZP-1", "shoot/ZP-2/IMG_0001.jpg": "ZP-2"}
    assert set(ImageAsset.objects.filter(import_job=job).values_list(
        "import_path", flat=True)) == set(stored)


def test_it_reports_a_skipped_entry_as_a_warning_whatever_its_words(storage, monkeypatch):
    """The level is the entry's kind (``Entry.skipped``): a reworded skip stays a warning and
    a refusal an error (it was read off the reason's first word, "Skipped")."""
    from catalog.ingest import archives

    monkeypatch.setattr(archives, "NOT_IMAGE_REASON", "Not an image file name ({ext}).")
    job = _zip_import({"LV-1/notes.txt": b"x", "LV-1/inner.zip": b"x",
                       "LV-1/LV-1_MAIN.jpg": jpeg_bytes(size=(1200, 1000))})
    levels = dict(job.issues.values_list("filename", "level"))
    assert levels == {"LV-1/notes.txt": "warning", "LV-1/inner.zip": "error"}
    assert job.issues.get(filename="LV-1/notes.txt").reason == "Not an image file name (.txt)."


def test_it_keeps_a_cancelled_imports_page_polling_until_its_run_finished_the_file(
        storage, manager_client):
    """QA 2026-12-07 qa42c L5: the page stopped polling at the cancel ("Cancelled · 5 / 40 ·
    5 imported"); the run still finished the file in hand, so a reload said "6 / 40 ·
    Cancelled after 6 of 40". It polls, saying so, until the run wrote its final counts."""
    job = zip_job({f"CF-{n:02}.jpg": jpeg_bytes(size=(600, 500), seed=n) for n in range(1, 6)})
    url = reverse("catalog:import_detail", args=[job.pk])
    seen: list[str] = []

    def cancel_after_second(done=None, total=None, issue=None):
        if done == 2 and not seen:
            import_job_cancel(job_id=job.pk)
            seen.append(manager_client.get(url, HTTP_HX_REQUEST="true").content.decode())

    ProductFactory(sku="CF")
    job = import_job_run(job_id=job.pk, progress=cancel_after_second)
    assert job.message == "Cancelled after 2 of 5 files; 3 not imported."
    live = seen[0]
    assert 'data-status="cancelled"' in live and 'hx-trigger="every 1s"' in live
    assert "Finishing the current file" in live
    final = manager_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "every 1s" not in final and "Finishing the current file" not in final
    assert "Cancelled after 2 of 5 files" in final

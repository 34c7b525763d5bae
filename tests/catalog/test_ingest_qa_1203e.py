"""Ingest QA (2026-12-03, e): a report row that ends a cut list ("… and N more …") counts as
the files or lines it stands for in the import's counts, never as one more error; the
reconciler finishes a cancelled import whose worker died long ago without a late
``import.finished``."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from catalog import jobs
from catalog.models import ImportIssue, ImportJob, JobStatus
from catalog.services import import_mapping, import_runner
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.catalog.test_ingest_qa_1203d import _cancelled_and_died

pytestmark = pytest.mark.django_db

BAD_GTIN = "4006381333932"  # check digit off by one


# --- 1. "… and N more" rows count as what they stand for --------------------------------------


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


# --- 2. the reconciler: no late import.finished for an import cancelled long ago --------------


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

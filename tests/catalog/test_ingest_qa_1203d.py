"""Ingest QA (2026-12-03, d): ``products_updated`` counts only products whose stored values
changed; a session's finish says how many names it did not list; a cancelled ZIP import
whose worker died is finished by the reconciler with ``import.finished``, once."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError
from django.utils import timezone

from catalog.models import ImportJob, Product
from catalog.services import import_mapping
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

GTIN = "4006381333931"


def _zip_job(members: dict, **options) -> ImportJob:
    upload = ContentFile(zip_bytes(members), name="shoot.zip")
    return import_job_create(user=None, source_kind="zip", source_file=upload,
                             enqueue=False, **options)


# --- 1. products_updated: only products whose stored values changed ---------------------------

# SAME repeats its stored values (GTIN written with spaces: cleaned, it is the stored one);
# OTHER gets a new title; NEW is created
MANIFEST = (b"sku,title,brand,gtin,filename\nSAME,Boot,Acme,4006 3813 33931,same.jpg\n"
            b"OTHER,New title,,,other.jpg\nNEW,Fresh,,,new.jpg\n")


def _products() -> None:
    ProductFactory(sku="SAME", title="Boot", brand="Acme", gtin=GTIN)
    ProductFactory(sku="OTHER", title="Old title")


def _manifest_zip() -> ImportJob:
    return _zip_job({"manifest.csv": MANIFEST, "same.jpg": jpeg_bytes(seed=1),
                     "other.jpg": jpeg_bytes(seed=2), "new.jpg": jpeg_bytes(seed=3)})


def test_it_counts_only_products_a_manifest_changed(storage):
    _products()
    same_stamp = Product.objects.get(sku="SAME").updated_at
    job = import_job_run(job_id=_manifest_zip().pk)
    # was 2: the SAME row, which changes nothing, counted as updated
    assert (job.status, job.imported_count, job.products_created, job.products_updated) == (
        "done", 3, 1, 1)
    assert Product.objects.get(sku="OTHER").title == "New title"
    assert Product.objects.get(sku="SAME").updated_at == same_stamp  # not even rewritten


def test_it_counts_only_changed_products_when_a_chunk_is_applied_one_by_one(storage,
                                                                          monkeypatch):
    # a concurrent writer made a SKU of the chunk meanwhile: the one-by-one path counts too
    _products()

    def raced(self, skus, manifest):
        raise IntegrityError("raced")

    monkeypatch.setattr(import_mapping.ImportRun, "_apply_chunk", raced)
    job = import_job_run(job_id=_manifest_zip().pk)
    assert (job.imported_count, job.products_created, job.products_updated) == (3, 1, 1)
    assert Product.objects.get(sku="OTHER").title == "New title"


# --- 2. a session's finish says how many names it did not list ---------------------------------



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


# --- 3. a cancelled import whose worker died: the reconciler sends import.finished, once ---------


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
    job = _zip_job({f"{sku}_MAIN.jpg": jpeg_bytes(seed=i)
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
    job = _zip_job({"B1_MAIN.jpg": jpeg_bytes(seed=1), "B2_MAIN.jpg": jpeg_bytes(seed=2)})
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
    job = _zip_job({"C1_MAIN.jpg": jpeg_bytes(seed=1), "C2_MAIN.jpg": jpeg_bytes(seed=2)})
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


# --- 4. a run resumed between its manifest step and its report of missing files ---------------


def test_it_keeps_a_refused_rows_refusal_when_the_run_resumes_before_the_missing_file_report(
        storage, monkeypatch):
    from catalog.models import ImportIssue, JobStatus
    from catalog.services import import_runner

    # line 2: a product the manifest refuses (bad check digit), its file not in the ZIP
    manifest = (b"sku,gtin,filename,position\nQA003,4006381333932,qa003.jpg,MAIN\n"
                b"QA004,,qa004.jpg,MAIN\n")
    job = _zip_job({"manifest.csv": manifest, "qa004.jpg": jpeg_bytes(seed=4)})
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
                             "Line 2: product QA003 not created; its files are refused: gtin: ")
    assert "refused" not in job.checkpoint  # kept only until that report

"""catalog.jobs (claim, progress, fail, the reconciler) and the import job on top of it: resume
after a dead worker, giving up on one that dies on every attempt, resource faults, stale upload
sessions, big manifests."""

import errno
import io
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.utils import timezone
from storages.backends.s3 import S3Storage

from catalog import events, jobs
from catalog.models import ImageAsset, ImportIssue, ImportJob, JobStatus, Product
from catalog.services import import_runner, imports
from catalog.tasks import import_job_run_task
from tests.catalog.imagegen import jpeg_bytes, zip_bytes

pytestmark = pytest.mark.django_db


class Faults:
    """Makes the storage below raise ``error`` on every save while it is set."""

    error: BaseException | None = None


class FaultyDisk(FileSystemStorage):
    def _save(self, name, content):
        if Faults.error is not None:
            raise Faults.error
        return super()._save(name, content)


class FaultyS3(S3Storage):
    def _save(self, name, content):
        if Faults.error is not None:
            raise Faults.error
        return super()._save(name, content)


@pytest.fixture
def faulty_disk(settings, tmp_path):
    Faults.error = None
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": f"{__name__}.FaultyDisk",
        "OPTIONS": {"location": str(tmp_path / "media"), "base_url": None}}}
    yield storages["default"]
    Faults.error = None


@pytest.fixture
def sent(monkeypatch):
    ids = []
    monkeypatch.setattr(import_job_run_task, "delay", lambda pk: ids.append(pk))
    return ids


def _zip_job(count: int, **kwargs) -> ImportJob:
    members = {f"J{i:02d}_MAIN.jpg": jpeg_bytes(size=(600, 500), seed=i) for i in range(count)}
    return imports.import_job_create(
        user=None, source_kind="zip", create_products=True, enqueue=False,
        source_file=ContentFile(zip_bytes(members), name="s.zip"), **kwargs)


def _fault_during(files: set[int], error: BaseException):
    """A progress callback that breaks storage for the files at these indexes."""

    def progress(done=None, total=None, issue=None):
        if done is not None:
            Faults.error = error if done in files else None

    return progress


# --- the helpers --------------------------------------------------------------------------


def test_it_claims_once_and_refuses_progress_from_a_stale_token(faulty_disk):
    job = _zip_job(1)
    token = jobs.job_claim(ImportJob, job.pk, worker="w@h:1")
    assert token and jobs.job_claim(ImportJob, job.pk) is None
    assert jobs.job_progress(ImportJob, job.pk, token, progress_done=1)
    assert not jobs.job_progress(ImportJob, job.pk, "someone-else", progress_done=2)
    assert jobs.job_finish(ImportJob, job.pk, token, message="ok")
    assert not jobs.job_fail(ImportJob, job.pk, token, "too late")
    job.refresh_from_db()
    assert (job.status, job.attempts, job.progress_done, job.message) == ("done", 1, 1, "ok")


def _gone_here() -> str:
    """The worker name of a process of this host that has exited."""
    import socket
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{socket.gethostname()}:{proc.pid}"


def test_it_tells_a_gone_process_of_this_host_from_a_live_or_foreign_one():
    import os
    import socket

    host = socket.gethostname()
    assert jobs.owner_dead_here(_gone_here())
    assert jobs.owner_dead_here(f"victim@{_gone_here()}")  # a Celery node name
    assert not jobs.owner_dead_here(f"{host}:{os.getpid()}")  # this very process
    assert not jobs.owner_dead_here(f"{host}:{os.getppid()}")  # alive
    assert not jobs.owner_dead_here(f"not-{host}:{_gone_here().rsplit(':', 1)[1]}")
    assert not jobs.owner_dead_here(f"{host}@not-{host}:{_gone_here().rsplit(':', 1)[1]}")
    assert not jobs.owner_dead_here("") and not jobs.owner_dead_here(f"{host}:x")


def test_it_takes_over_at_once_a_run_whose_process_here_died(faulty_disk, sent):
    # a pool child killed mid-run: Celery puts the message back and it arrives within
    # seconds, while the row's heartbeat still looks fresh to the reconciler
    job = _zip_job(1)
    dead = jobs.job_claim(ImportJob, job.pk, worker=_gone_here())
    assert dead
    token = jobs.job_claim(ImportJob, job.pk, worker="new-child")
    assert token and token != dead
    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker) == (JobStatus.RUNNING, 2, "new-child")
    assert not jobs.job_progress(ImportJob, job.pk, dead, progress_done=1)
    assert sent == []  # this delivery runs it: nothing is sent again
    # a second delivery while the new owner lives (a duplicate message) does not steal it
    assert jobs.job_claim(ImportJob, job.pk, worker="another-child") is None


def test_it_leaves_a_running_row_to_its_live_or_foreign_owner(faulty_disk):
    import os
    import socket

    for owner in (f"{socket.gethostname()}:{os.getppid()}", "other-host:1"):
        job = _zip_job(1)
        assert jobs.job_claim(ImportJob, job.pk, worker=owner)
        assert jobs.job_claim(ImportJob, job.pk, worker="new-child") is None
        job.refresh_from_db()
        assert (job.worker, job.attempts) == (owner, 1)


def test_it_fails_a_taken_over_run_on_its_last_attempt(faulty_disk, settings):
    job = _zip_job(1)
    ImportJob.objects.filter(pk=job.pk).update(attempts=settings.CUTROOM_JOB_MAX_ATTEMPTS - 1)
    assert jobs.job_claim(ImportJob, job.pk, worker=_gone_here())
    assert jobs.job_claim(ImportJob, job.pk, worker="new-child") is None
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "stopped 3 times" in job.message


def test_it_fails_a_run_whose_worker_keeps_dying_exactly_once(faulty_disk, sent, settings):
    job = _zip_job(1)
    stale = timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1)
    for attempt in range(1, settings.CUTROOM_JOB_MAX_ATTEMPTS + 1):
        assert jobs.job_claim(ImportJob, job.pk, worker="gone@h:1")
        ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=stale)
        result = jobs.jobs_reconcile()["import"]
        if attempt < settings.CUTROOM_JOB_MAX_ATTEMPTS:
            assert result["running_reset"] == 1 and sent[-1] == job.pk
    assert result == {"running_reset": 0, "failed": 1, "resent": 0, "swept": 0}
    assert jobs.jobs_reconcile()["import"]["failed"] == 0
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "stopped 3 times" in job.message


def test_it_resends_a_queued_job_whose_message_was_lost(faulty_disk, sent, settings,
                                                         monkeypatch):
    job = _zip_job(1)
    monkeypatch.setattr(jobs, "queue_depths", lambda queues: dict.fromkeys(queues, 0))
    assert jobs.jobs_reconcile()["import"]["resent"] == 0  # too young to be lost
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1))
    assert jobs.jobs_reconcile()["import"]["resent"] == 1 and sent == [job.pk]
    assert jobs.jobs_reconcile()["import"]["resent"] == 0  # not again within the grace


# --- imports resume -----------------------------------------------------------------------


class WorkerKilled(BaseException):
    """Stands in for kill -9: nothing in the run gets to clean up."""


def test_it_resumes_an_import_from_its_checkpoint_counting_each_file_once(faulty_disk, sent,
                                                                          settings):
    job = _zip_job(6)

    def die_on_fourth(done=None, total=None, issue=None):
        if done == 3:
            # The 4th file is being stored when the worker dies: files written, maybe a row.
            raise WorkerKilled

    with pytest.raises(WorkerKilled):
        import_runner.import_job_run(job_id=job.pk, progress=die_on_fourth, worker="dead@h:1")
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.checkpoint["next"] == 2
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1))
    assert jobs.jobs_reconcile()["import"]["running_reset"] == 1 and sent == [job.pk]
    job = import_runner.import_job_run(job_id=job.pk)
    assert job.status == JobStatus.DONE and job.attempts == 2
    assert (job.imported_count, job.duplicate_count, job.error_count) == (6, 0, 0)
    assert ImageAsset.objects.filter(import_job=job).count() == 6
    warned = list(ImportIssue.objects.filter(job=job).values_list("filename", flat=True))
    # each 600 px photo earns one low-resolution warning: once, not twice, and not lost for
    # the file the dead run had stored before it died
    assert len(warned) == len(set(warned)) == job.warning_count == 6


@pytest.mark.parametrize("dies_at", [0, 2])
def test_it_warns_of_an_unmatched_manifest_row_once_across_a_resume(faulty_disk, sent,
                                                                    settings, dies_at):
    manifest = ContentFile(b"sku,filename\nJ00,J00_MAIN.jpg\nJ01,lost.jpg\n", name="m.csv")
    job = _zip_job(3, manifest_file=manifest)

    def die(done=None, total=None, issue=None):
        if done == dies_at and total is not None:
            raise WorkerKilled

    with pytest.raises(WorkerKilled):
        import_runner.import_job_run(job_id=job.pk, progress=die, worker="dead@h:1")
    # the checkpoint says its file order, so the resumed run counts "next" in the same one
    job.refresh_from_db()
    assert job.checkpoint["order"] == import_runner.ORDER_MANIFEST_FIRST
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1))
    jobs.jobs_reconcile()
    job = import_runner.import_job_run(job_id=job.pk)
    assert job.status == JobStatus.DONE
    lost = ImportIssue.objects.filter(job=job, reason__contains="lost.jpg, which is not in")
    assert lost.count() == 1 and lost.get().filename == "m.csv"


# --- resource faults ----------------------------------------------------------------------


def test_a_full_disk_fails_the_file_and_the_import_goes_on(faulty_disk):
    job = _zip_job(5)
    job = import_runner.import_job_run(job_id=job.pk, progress=_fault_during(
        {2}, OSError(errno.ENOSPC, "No space left on device")))
    assert job.status == JobStatus.DONE
    assert (job.imported_count, job.error_count) == (4, 1)
    [issue] = ImportIssue.objects.filter(job=job, level="error")
    assert issue.filename == "J02_MAIN.jpg" and "storage is full" in issue.reason


def test_a_disk_that_stays_full_ends_the_import_failed_with_the_reason(faulty_disk, settings):
    settings.CUTROOM_IMPORT_MAX_STORAGE_FAULTS = 3
    job = _zip_job(6)
    job = import_runner.import_job_run(job_id=job.pk, progress=_fault_during(
        {2, 3, 4, 5}, OSError(errno.ENOSPC, "No space left on device")))
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert "3 files in a row could not be stored" in job.message
    assert "storage is full" in job.message
    assert job.imported_count == 2
    assert not ImportJob.objects.filter(status=JobStatus.RUNNING).exists()


@pytest.fixture
def faulty_s3(s3_default_storage):
    Faults.error = None
    yield s3_default_storage("cutroom-jobs", backend=f"{__name__}.FaultyS3")
    Faults.error = None


def test_s3_errors_fail_their_file_with_the_reason_and_the_import_goes_on(faulty_s3):
    job = _zip_job(5)
    slow_down = ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce"},
                             "ResponseMetadata": {"HTTPStatusCode": 503}}, "PutObject")
    timeout = ReadTimeoutError(endpoint_url="http://s3")
    calls = {}

    def progress(done=None, total=None, issue=None):
        if done is not None:
            Faults.error = {1: slow_down, 3: timeout}.get(done)
            calls[done] = True

    job = import_runner.import_job_run(job_id=job.pk, progress=progress)
    assert job.status == JobStatus.DONE and (job.imported_count, job.error_count) == (3, 2)
    reasons = dict(ImportIssue.objects.filter(job=job, level="error")
                   .values_list("filename", "reason"))
    assert reasons == {
        "J01_MAIN.jpg": "Not stored: the storage answered with an error (503 SlowDown).",
        "J03_MAIN.jpg": "Not stored: the storage did not answer in time.",
    }


# --- browser upload sessions ----------------------------------------------------------------


def test_it_finishes_an_abandoned_upload_session_after_the_idle_time(faulty_disk, settings):
    settings.CUTROOM_UPLOAD_IDLE_SECONDS = 60
    job = imports.import_job_create(user=None, source_kind="upload", expected_files=3,
                                    create_products=True)
    imports.import_job_upload_file(job_id=job.pk, filename="U1_MAIN.jpg",
                                   fileobj=io.BytesIO(jpeg_bytes(size=(600, 500), seed=1)))
    empty = imports.import_job_create(user=None, source_kind="upload", expected_files=2)
    assert jobs.jobs_reconcile()["import"]["swept"] == 0  # still within the idle time
    ImportJob.objects.update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    assert jobs.jobs_reconcile()["import"]["swept"] == 2
    job.refresh_from_db(), empty.refresh_from_db()
    assert job.status == JobStatus.DONE and "stopped after 1 of 3 files" in job.message
    assert empty.status == JobStatus.FAILED and "No file arrived" in empty.message
    late = imports.import_job_upload_file(job_id=job.pk, filename="U2_MAIN.jpg",
                                          fileobj=io.BytesIO(jpeg_bytes(seed=2)))
    assert late.code == "job_closed"


def test_upload_progress_never_reads_more_done_than_total(faulty_disk):
    # no count declared (0): a declared one ends the session once that many files arrived
    job = imports.import_job_create(user=None, source_kind="upload", expected_files=0,
                                    create_products=True)
    for i in range(3):
        imports.import_job_upload_file(job_id=job.pk, filename=f"V{i}_MAIN.jpg",
                                       fileobj=io.BytesIO(jpeg_bytes(size=(600, 500), seed=i)))
        job.refresh_from_db()
        assert job.progress_done <= job.progress_total
    assert (job.progress_done, job.progress_total, job.percent) == (3, 3, 100)


def test_a_session_manifest_is_parsed_once_and_applied_in_chunks(faulty_disk, settings,
                                                                 monkeypatch):
    settings.CUTROOM_MANIFEST_CHUNK = 7
    rows = ["sku,title,filename"] + [f"M{i:03d},Title {i},m{i}.jpg" for i in range(30)]
    Product.objects.create(sku="M000", title="old")
    manifest = ContentFile("\n".join(rows).encode(), name="manifest.csv")
    job = imports.import_job_create(user=None, source_kind="upload", manifest_file=manifest,
                                    expected_files=5)
    assert (job.products_created, job.products_updated) == (29, 1)
    assert job.message == "Manifest: 30 of 30 products applied."
    assert Product.objects.get(sku="M017").title == "Title 17"
    parsed = []
    real_parse = imports.manifest_parse
    monkeypatch.setattr(imports, "manifest_parse",
                        lambda *a, **k: parsed.append(1) or real_parse(*a, **k))
    for i in (1, 2, 3):
        result = imports.import_job_upload_file(
            job_id=job.pk, filename=f"m{i}.jpg",
            fileobj=io.BytesIO(jpeg_bytes(size=(600, 500), seed=i)))
        assert result.status == "stored" and result.asset.product.sku == f"M{i:03d}"
    assert parsed == []  # the session's parsed manifest is reused
    imports._MANIFESTS.clear()  # another web process: parses it once, then reuses it
    for i in (4, 5):
        imports.import_job_upload_file(job_id=job.pk, filename=f"m{i}.jpg",
                                       fileobj=io.BytesIO(jpeg_bytes(size=(600, 500),
                                                                      seed=i)))
    assert parsed == [1]


@pytest.fixture
def emitted(monkeypatch):
    """The ``import.finished`` events sent, with their status."""
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(events, "emit", lambda event_type, data, **kw: seen.append(
        (event_type, data["status"])) if event_type == "import.finished" else None)
    return seen


def _stale(job, settings) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1))


@pytest.mark.usefixtures("faulty_disk", "sent")
def test_it_names_the_file_an_import_keeps_dying_on_and_lists_the_rest(
        settings, monkeypatch, emitted):
    job = _zip_job(6)
    real_entry = import_runner._import_entry

    def poison(run, source, entry, user):
        if entry.name == "J02_MAIN.jpg":
            raise WorkerKilled  # out of memory on this file, every time
        real_entry(run, source, entry, user)

    monkeypatch.setattr(import_runner, "_import_entry", poison)
    for _ in range(settings.CUTROOM_JOB_MAX_ATTEMPTS):
        with pytest.raises(WorkerKilled):
            import_runner.import_job_run(job_id=job.pk, worker="dead@h:1")
        _stale(job, settings)
        result = jobs.jobs_reconcile()["import"]
    assert result["failed"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message.startswith("Failed after 2 of 6 files; 4 not imported: the worker "
                                  "running this stopped 3 times")
    assert "while importing J02_MAIN.jpg — too large or damaged?" in job.message
    assert (job.imported_count, job.progress_done) == (2, 2)
    rows = list(ImportIssue.objects.filter(job=job, kind=ImportIssue.Kind.NOT_IMPORTED)
                .order_by("pk").values_list("filename", "reason"))
    assert [name for name, _ in rows] == [f"J0{i}_MAIN.jpg" for i in range(2, 6)]
    assert ("stopped 3 times (killed, out of memory or restarted) while importing this file"
            in rows[0][1])
    assert {reason for _, reason in rows[1:]} == {import_runner.GAVE_UP_REASON}
    assert emitted == [("import.finished", "failed")]
    # a second reconciler (or a late redelivery's takeover) finds nothing to give up
    _stale(job, settings)
    assert jobs.jobs_reconcile()["import"]["failed"] == 0
    assert jobs._dead_run_reset(jobs.job_kinds()["import"], job, timezone.now()) is None
    assert len(emitted) == 1
    assert ImportIssue.objects.filter(job=job, kind=ImportIssue.Kind.NOT_IMPORTED).count() == 4


@pytest.mark.usefixtures("faulty_disk", "sent")
def test_it_lists_every_file_when_the_import_died_before_its_first(
        settings, emitted):
    job = _zip_job(3)
    ImportJob.objects.filter(pk=job.pk).update(attempts=settings.CUTROOM_JOB_MAX_ATTEMPTS - 1)
    assert jobs.job_claim(ImportJob, job.pk, worker="dead@h:1")
    _stale(job, settings)
    assert jobs.jobs_reconcile()["import"]["failed"] == 1
    job.refresh_from_db()
    assert job.message.startswith("Failed after 0 of 3 files; 3 not imported: the worker")
    assert "while importing" not in job.message
    assert ImportIssue.objects.filter(job=job, reason=import_runner.GAVE_UP_REASON).count() == 3
    assert emitted == [("import.finished", "failed")]

"""Imports and exports survive ``kill -9`` of every worker, on real worker processes: they
resume from where they were, each file exactly once (cutout batches: tests/cutouts/
test_workers.py). A short reconciler grace and heartbeat keep this quick."""

import io
import time
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from catalog.models import ImageAsset, ImportIssue, ImportJob, JobStatus
from catalog.services.imports import import_job_create
from cutouts.models import Cutout, ExportJob, Preset
from cutouts.services import export_jobs
from tests.cutouts.export_helpers import approved_cutout
from tests.factories import ProductFactory
from tests.images import product_jpeg
from tests.run_id import run_seed
from tests.workers import start_worker, wait_for, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The reconciler runs every second (embedded beat) and trusts a heartbeat for 3 s.
FAST_RECOVERY = {"CUTROOM_RECONCILE_GRACE": "3", "CUTROOM_RECONCILE_EVERY": "1",
                 "CUTROOM_JOB_HEARTBEAT": "1"}
# Photos differ per run (storage may outlive it) and replay with the run id (tests/run_id.py).
SEED = run_seed(__name__, 65536) * 1000


def _final(model, pk) -> bool:
    return model.objects.filter(pk=pk, status__in=[JobStatus.DONE, JobStatus.FAILED,
                                                    JobStatus.CANCELLED]).exists()


def _stop(*workers) -> None:
    for worker in workers:
        if worker is not None:
            worker.stop()


def test_it_resumes_a_zip_import_of_300_after_every_worker_is_killed():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(300):
            archive.writestr(f"KILL{i:03d}_MAIN.jpg", product_jpeg(520, 400, seed=SEED + i))
    job = import_job_create(
        user=None, source_kind="zip", create_products=True,
        source_file=ContentFile(buffer.getvalue(), name="shoot.zip"))
    env = worker_env(**FAST_RECOVERY)
    first = start_worker(queues="default", hostname="importer@%h", env=env)
    second = None
    try:
        wait_for(lambda: ImportJob.objects.filter(pk=job.pk, progress_done__gte=40).exists(),
                 timeout=120, interval=0.05, message="the import to be under way")
        first.kill()
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING and job.progress_done < 300
        # A supervisor restarts the service under its name: the start-up reconcile resumes it.
        second = start_worker(queues="default", hostname="importer@%h", env=env)
        wait_for(lambda: _final(ImportJob, job.pk), timeout=240, message="the import to end")
    finally:
        _stop(first, second)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert job.attempts == 2
    assert (job.imported_count, job.duplicate_count, job.error_count) == (300, 0, 0)
    assert job.progress_done == job.progress_total == 300
    # Each small photo earns one low-resolution warning: the file the dead run was busy
    # with is not reported twice.
    warned = list(ImportIssue.objects.filter(job=job).values_list("filename", flat=True))
    assert len(warned) == len(set(warned)) == job.warning_count == 300
    names = list(ImageAsset.objects.filter(import_job=job).values_list("original_filename",
                                                                      flat=True))
    assert len(names) == len(set(names)) == 300


def _small_presets() -> list[str]:
    spec = "trim|fill-85|square-800|bg-ffffff|shadow-none|format-jpeg|quality-90|srgb"
    for name, naming in (("kill_a", "{sku}_a.{ext}"), ("kill_b", "{sku}_b.{ext}")):
        Preset.objects.update_or_create(name=name, defaults={
            "label": name, "spec": spec, "naming": naming, "rules": {}})
    return ["kill_a", "kill_b"]


def test_it_resumes_an_export_of_100_variants_after_every_worker_is_killed():
    for i in range(50):
        approved_cutout(product=ProductFactory(sku=f"EXP{i:03d}"), size=(600, 450))
    presets = _small_presets()
    job = export_jobs.export_job_create(presets=presets)
    assert job.progress_total == 100
    env = worker_env(**FAST_RECOVERY)
    first = start_worker(queues="default", hostname="exporter@%h", env=env)
    second = None
    try:
        wait_for(lambda: ExportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING,
                                                  progress_done__gt=0).exists(),
                 timeout=120, interval=0.02, message="the export to be under way")
        first.kill()
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING and job.progress_done < 100
        # Another machine takes over: only the stale heartbeat says the run is dead.
        second = start_worker(queues="default", hostname="other@%h", env=env, beat=True)
        wait_for(lambda: _final(ExportJob, job.pk), timeout=240, message="the export to end")
    finally:
        _stop(first, second)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert job.attempts == 2 and job.exported_count == 100
    with storages["exports"].open(job.zip_name, "rb") as fh:
        entries = zipfile.ZipFile(io.BytesIO(fh.read())).namelist()
    images = [e for e in entries if e != "manifest.csv"]
    assert len(images) == len(set(images)) == 100
    assert Cutout.objects.filter(exported_at__isnull=False).count() == 50


def test_it_never_moves_a_restarted_exports_bar_backwards():
    for i in range(40):
        approved_cutout(product=ProductFactory(sku=f"BAR{i:03d}"), size=(600, 450))
    job = export_jobs.export_job_create(presets=_small_presets())
    env = worker_env(**FAST_RECOVERY)
    first = start_worker(queues="default", hostname="exporter@%h", env=env)
    second = None
    seen: list[tuple[str, int, int, str]] = []
    try:
        wait_for(lambda: ExportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING,
                                                  progress_done__gte=10).exists(),
                 timeout=120, interval=0.02, message="the export to be under way")
        first.kill()
        job.refresh_from_db()
        at_kill = job.progress_done
        assert job.status == JobStatus.RUNNING and 10 <= at_kill < 80
        second = start_worker(queues="default", hostname="exporter@%h", env=env, beat=True)
        deadline = time.monotonic() + 240
        while not _final(ExportJob, job.pk) and time.monotonic() < deadline:
            seen.append(ExportJob.objects.filter(pk=job.pk).values_list(
                "status", "progress_done", "exported_count", "message").get())
            time.sleep(0.02)
    finally:
        _stop(first, second)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 2, job.message
    assert job.exported_count == job.progress_done == 80
    assert seen
    for _status, done, exported, _message in seen:
        assert done >= at_kill, (at_kill, seen)
        assert exported <= done, (at_kill, seen)


def test_it_names_the_file_a_zip_import_kept_killing_its_worker_on():
    """With real workers: killed 3 times at the same point, the import ends failed
    naming the file it was on, lists it and every later file "not imported", and queues one
    ``import.finished`` delivery (status failed)."""
    import io
    import zipfile

    from django.core.files.base import ContentFile

    from catalog import webhooks
    from catalog.api_models import WebhookDelivery, WebhookSubscription
    from catalog.models import ImportIssue, ImportJob
    from catalog.services.imports import import_job_create
    from tests.images import product_jpeg

    WebhookSubscription.objects.create(url="https://example.com/h", events=["import.finished"],
                                       secret=webhooks.secret_generate())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(40):
            archive.writestr(f"ZO{i // 4:03d}/POISON{i:03d}_MAIN.jpg",
                             product_jpeg(520, 400, seed=7000 + i))
    job = import_job_create(user=None, source_kind="zip", create_products=True,
                            source_file=ContentFile(buffer.getvalue(), name="shoot.zip"))
    env = worker_env(**FAST_RECOVERY)
    worker = None
    try:
        for attempt in (1, 2, 3):
            worker = start_worker(queues="default", hostname="importer@%h", env=env)
            wait_for(lambda n=attempt: ImportJob.objects.filter(
                pk=job.pk, attempts=n, progress_done__gte=11).exists(),
                timeout=120, interval=0.01, message=f"run {attempt} to reach file 11")
            worker.kill()  # each time the (resumed) run is past file 11, as a poison file would
            worker = None
        # the next worker's start-up reconcile gives up on it
        worker = start_worker(queues="default", hostname="importer@%h", env=env)
        wait_for(lambda: _final(ImportJob, job.pk), timeout=60, message="the import to end")
    finally:
        _stop(worker)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    done = job.progress_done
    rows = list(ImportIssue.objects.filter(job=job, kind=ImportIssue.Kind.NOT_IMPORTED)
                .order_by("pk").values_list("filename", flat=True))
    assert len(rows) == 40 - done and rows[-1] == "ZO009/POISON039_MAIN.jpg"
    assert job.message.startswith(f"Failed after {done} of 40 files; {40 - done} not imported")
    assert f"stopped 3 times (killed, out of memory or restarted) while importing {rows[0]}" \
        in job.message
    assert job.imported_count == done
    sent = WebhookDelivery.objects.filter(event_type="import.finished")
    assert [d.payload["data"]["status"] for d in sent] == ["failed"], list(sent.values())

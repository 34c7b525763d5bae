"""Imports and exports survive ``kill -9`` of every worker, on real worker processes: they
resume from where they were, each file exactly once (cutout batches: tests/cutouts/
test_workers.py). A short reconciler grace and heartbeat keep this quick."""

import io
import os
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
from tests.workers import start_worker, wait_for, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The reconciler runs every second (embedded beat) and trusts a heartbeat for 3 s.
FAST_RECOVERY = {"CUTROOM_RECONCILE_GRACE": "3", "CUTROOM_RECONCILE_EVERY": "1",
                 "CUTROOM_JOB_HEARTBEAT": "1"}
SEED = int.from_bytes(os.urandom(2), "big") * 1000


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

"""A real worker killed mid-export: while the restarted run catches up from the rendition cache,
its bar never goes backwards and never reads fewer files done than exported (QA F4:
"0 / 48 · 24 exported" for 20 s)."""

import time

import pytest

from cutouts.models import ExportJob, JobStatus
from cutouts.services import export_jobs
from tests.cutouts.export_helpers import approved_cutout
from tests.factories import ProductFactory
from tests.test_job_recovery import FAST_RECOVERY, _final, _small_presets, _stop
from tests.workers import start_worker, wait_for, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


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
    """QA F5 with real workers: killed 3 times at the same point, the import ends failed
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

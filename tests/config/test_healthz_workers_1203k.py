"""/healthz and the job pages say when no worker has reported on a running job for longer
than a live worker (or the reconciler) allows (catalog.jobs.jobs_worker_silent)."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from catalog import jobs
from catalog.models import ImportJob, JobStatus
from catalog.services import imports
from cutouts.models import ExportJob
from tests.catalog.imagegen import jpeg_bytes, zip_bytes

pytestmark = pytest.mark.django_db


def _running_import(beat_ago: timedelta) -> ImportJob:
    job = imports.import_job_create(
        user=None, source_kind="zip", create_products=True, enqueue=False,
        source_file=ContentFile(zip_bytes({"W1_MAIN.jpg": jpeg_bytes(size=(600, 500))}),
                                name="s.zip"))
    assert jobs.job_claim(ImportJob, job.pk, worker="w@other-host:1")
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - beat_ago)
    return job


def test_it_says_degraded_when_a_running_job_outlives_every_worker(client, settings):
    settings.CUTROOM_RECONCILE_GRACE = 60
    settings.CUTROOM_RECONCILE_EVERY = 60
    _running_import(timedelta(seconds=30))  # a live run between two beats
    assert client.get("/healthz").json()["status"] == "ok"
    assert "workers" not in client.get("/healthz").json()["components"]
    _running_import(timedelta(minutes=5))  # past grace + two reconciler periods
    response = client.get("/healthz")
    assert response.status_code == 200  # the web tier still serves: kept in rotation
    body = response.json()
    assert body["status"] == "degraded" and body["components"]["workers"] == "silent"
    assert 295 <= body["workers_silent_seconds"] <= 320


def test_it_tells_the_import_and_export_pages_no_worker_reports(manager_client, settings):
    settings.CUTROOM_RECONCILE_GRACE = 60
    settings.CUTROOM_RECONCILE_EVERY = 60
    job = _running_import(timedelta(minutes=5))
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk])).content.decode()
    assert "No worker has reported on this for 5 min — is a worker running?" in page
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk])).content.decode()
    assert "data-worker-silent" not in page
    export = ExportJob.objects.create(presets=["x"], status=JobStatus.RUNNING,
                                      started_at=timezone.now() - timedelta(minutes=9),
                                      heartbeat_at=timezone.now() - timedelta(minutes=9))
    page = manager_client.get(reverse("cutouts:export_detail", args=[export.pk])
                              ).content.decode()
    assert "No worker has reported on this for 9 min" in page


def test_it_answers_when_the_workers_probe_itself_fails(client, monkeypatch):
    """The probe reads the job tables after the database check passed; if that read fails
    the health answer still comes (it was a 500), saying the workers' state is unknown."""
    from django.db import DatabaseError

    from config import views

    def broken():
        raise DatabaseError("relation does not exist")

    monkeypatch.setattr(views, "jobs_worker_silent", broken)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["components"]["workers"] == "unknown"

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from catalog import jobs
from catalog.models import ImportJob, JobStatus
from catalog.services import imports
from config import health
from cutouts.models import ExportJob
from tests.catalog.imagegen import jpeg_bytes, zip_bytes


@pytest.mark.django_db
def test_it_reports_every_component_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "components": {"database": "up", "broker": "up", "storage": "up", "model": "up"},
    }


@pytest.mark.django_db
def test_it_answers_503_and_names_the_component_that_is_down(client, monkeypatch, settings):
    settings.CUTROOM_MODEL = "u2net"  # configured but its file is not installed
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["components"]["model"] == "down"
    assert body["components"]["database"] == "up"


@pytest.mark.django_db
def test_it_reports_an_unreachable_broker_as_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    assert health.check_broker() is False
    assert client.get("/healthz").status_code == 503


@pytest.mark.django_db
def test_it_leaks_no_details_to_anonymous_callers(client, settings):
    settings.CUTROOM_MODEL = "u2net"
    text = client.get("/healthz").content.decode()
    assert "u2net" not in text
    assert "/" not in text.replace("\\/", "")


@pytest.fixture
def stalled_endpoint():
    """An S3 endpoint that accepts connections and never answers (a frozen server: the
    kernel completes the handshake from its backlog)."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.mark.django_db
def test_it_reports_a_stalled_storage_as_down_within_seconds(client, settings, stalled_endpoint):
    import time

    from botocore.config import Config

    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": "stalled", "endpoint_url": stalled_endpoint, "access_key": "test",
            "secret_key": "test", "region_name": "us-east-1", "addressing_style": "path",
            # the app's own client would wait 60 s per read, three times
            "client_config": Config(read_timeout=60, retries={"total_max_attempts": 3}),
        }}}
    started = time.monotonic()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["components"]["storage"] == "down"
    assert time.monotonic() - started < 2 * health.PROBE_TIMEOUT + 3


@pytest.mark.django_db
def test_it_probes_a_working_s3_storage_as_up(s3_default_storage):
    s3_default_storage("healthz")
    assert health.check_storage() is True


def test_it_gives_the_apps_s3_client_timeouts_from_the_environment():
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev",
           "STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "S3_ADDRESSING_STYLE": "path",
           "S3_READ_TIMEOUT": "12"}
    code = ("import django, json; django.setup(); from django.conf import settings; "
            "c = settings.STORAGES['default']['OPTIONS']['client_config']; "
            "print(json.dumps([c.connect_timeout, c.read_timeout, c.s3, c.retries]))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    connect, read, s3, retries = json.loads(out.stdout.strip().splitlines()[-1])
    assert (connect, read) == (5.0, 12.0)
    assert s3 == {"addressing_style": "path"}  # what S3Storage would have set itself
    assert retries["total_max_attempts"] == 3
    env["S3_READ_TIMEOUT"] = "0"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "S3_READ_TIMEOUT=0 must be at least 1" in bad.stderr


def test_it_keeps_one_s3_probe_per_alias_for_the_options_it_was_made_from(settings, monkeypatch):
    monkeypatch.setattr(health, "_PROBES", {})

    def point_at(bucket: str) -> None:
        # a new dict each time, as a settings reload or override makes
        settings.STORAGES = {**settings.STORAGES, "default": {
            "BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
                "bucket_name": bucket, "endpoint_url": "http://127.0.0.1:9", "access_key": "t",
                "secret_key": "t", "region_name": "us-east-1", "addressing_style": "path"}}}

    point_at("one")
    first = health._probe("default")
    assert first.bucket_name == "one" and first.client_config.read_timeout == health.PROBE_TIMEOUT
    point_at("one")  # equal options in another dict: the same probe
    assert health._probe("default") is first
    point_at("two")  # other options: never the probe of the old bucket, whatever the ids
    second = health._probe("default")
    assert second is not first and second.bucket_name == "two"
    assert list(health._PROBES) == ["default"]  # one per alias, not one per options dict seen


def _running_import(beat_ago: timedelta) -> ImportJob:
    job = imports.import_job_create(
        user=None, source_kind="zip", create_products=True, enqueue=False,
        source_file=ContentFile(zip_bytes({"W1_MAIN.jpg": jpeg_bytes(size=(600, 500))}),
                                name="s.zip"))
    assert jobs.job_claim(ImportJob, job.pk, worker="w@other-host:1")
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - beat_ago)
    return job


@pytest.mark.django_db
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


@pytest.mark.django_db
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


@pytest.mark.django_db
def test_it_answers_when_the_workers_probe_itself_fails(client, monkeypatch):
    """The probe reads the job tables after the database check passed; if that read fails
    the health answer still comes (it was a 500), saying the workers' state is unknown."""
    from django.db import DatabaseError

    from config import health

    def broken():
        raise DatabaseError("relation does not exist")

    monkeypatch.setattr(health, "jobs_worker_silent", broken)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["components"]["workers"] == "unknown"

"""Request ids, JSON logs and the Prometheus endpoint (config.logging, config.middleware,
config.metrics)."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from django.test import Client, override_settings

from config import logging as cutroom_logging
from cutouts.models import Cutout, CutoutBatch, ExportJob, JobStatus
from tests.factories import ImageAssetFactory

TOKEN = "metrics-token-for-tests"


def _record(message: str = "hello", **extra) -> logging.LogRecord:
    record = logging.LogRecord("cutroom.test", logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    cutroom_logging.RequestContextFilter().filter(record)
    return record


# --- request id ---------------------------------------------------------------------------------


def test_every_response_carries_a_generated_request_id(client):
    response = client.get("/healthz")
    rid = response["X-Request-ID"]
    assert len(rid) == 32 and int(rid, 16) >= 0


def test_a_sane_incoming_request_id_is_kept_and_a_bad_one_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123.x")["X-Request-ID"] == "abc-123.x"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n{}")["X-Request-ID"]
    assert replaced != "bad id\n{}" and len(replaced) == 32
    # Redirects to the login page carry it too (the middleware is first).
    assert client.get("/", HTTP_X_REQUEST_ID="r-1")["X-Request-ID"] == "r-1"


def test_log_lines_written_during_a_request_carry_its_id(client, monkeypatch):
    seen = []
    original = cutroom_logging.RequestContextFilter.filter

    def spy(self, record):
        result = original(self, record)
        seen.append(record.request_id)
        return result

    monkeypatch.setattr(cutroom_logging.RequestContextFilter, "filter", spy)
    from config import health

    monkeypatch.setattr(health, "CHECKS", {"database": lambda: logging.getLogger(
        "config.health").warning("probe") or True})
    client.get("/healthz", HTTP_X_REQUEST_ID="req-42")
    assert "req-42" in seen
    assert cutroom_logging.request_id_var.get() == ""  # reset after the request


# --- JSON formatter -----------------------------------------------------------------------------


def test_json_lines_have_the_fields_a_log_shipper_needs():
    token = cutroom_logging.request_id_var.set("rid-1")
    try:
        record = _record("cutout %s done", batch=7)
        record.args = (12,)
    finally:
        cutroom_logging.request_id_var.reset(token)
    entry = json.loads(cutroom_logging.JsonFormatter().format(record))
    assert entry["message"] == "cutout 12 done"
    assert entry["level"] == "INFO" and entry["logger"] == "cutroom.test"
    assert entry["request_id"] == "rid-1" and entry["batch"] == 7
    assert entry["ts"].endswith("+00:00")
    assert "task_id" not in entry


def test_exceptions_are_one_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    cutroom_logging.RequestContextFilter().filter(record)
    line = cutroom_logging.JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exc_info"]


def test_task_id_and_the_publishing_requests_id_reach_worker_log_lines(monkeypatch):
    # Publishing inside a request puts the request id in the message headers ...
    headers: dict = {}
    token = cutroom_logging.request_id_var.set("from-request")
    try:
        cutroom_logging._on_before_publish(headers=headers)
    finally:
        cutroom_logging.request_id_var.reset(token)
    assert headers == {cutroom_logging.REQUEST_ID_HEADER: "from-request"}

    # ... and in the worker, with that message as the current task, log lines carry both.
    class Request:
        id = "task-123"
        cutroom_request_id = "from-request"

    class Task:
        name = "cutouts.tasks.cutout_run_task"
        request = Request()

    monkeypatch.setattr(cutroom_logging, "_current_task", lambda: Task())
    task = Task()
    cutroom_logging._on_task_prerun(task=task)
    try:
        entry = json.loads(cutroom_logging.JsonFormatter().format(_record()))
    finally:
        cutroom_logging._on_task_postrun(task=task)
    assert entry["task_id"] == "task-123"
    assert entry["task_name"] == "cutouts.tasks.cutout_run_task"
    assert entry["request_id"] == "from-request"
    assert cutroom_logging.request_id_var.get() == ""


@pytest.mark.django_db
def test_a_refused_request_is_logged_once_in_our_format(client, settings):
    import logging

    from tests.factories import reviewer

    settings.DEBUG = True  # Django's own console handler only speaks under DEBUG
    handlers = []
    logger = logging.getLogger("django.request")
    while logger is not None:
        handlers += logger.handlers
        logger = logger.parent if logger.propagate else None
    assert handlers == logging.getLogger().handlers  # the root's console handler, nothing else
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    collect = Collect()
    logging.getLogger().addHandler(collect)
    try:
        client.force_login(reviewer())
        assert client.get("/cutouts/export/").status_code == 403
    finally:
        logging.getLogger().removeHandler(collect)
    assert sum("Forbidden" in line for line in lines) == 1


@pytest.mark.django_db
def test_it_logs_a_refused_request_as_one_line_without_a_traceback(client):
    import io
    import logging

    from tests.factories import reviewer

    [console] = [h for h in logging.getLogger().handlers
                 if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
                 and type(h).__module__ == "logging"]
    written = io.StringIO()
    before = console.setStream(written)
    try:
        client.force_login(reviewer())
        assert client.get("/cutouts/export/").status_code == 403
    finally:
        console.setStream(before)
    out = written.getvalue()
    assert "Forbidden (Permission denied): /cutouts/export/" in out
    assert "Traceback" not in out and "PermissionDenied" not in out


def test_production_uses_json_logs_and_development_stays_plain(settings):
    from config.settings import base

    assert base.LOGGING["handlers"]["console"]["formatter"] == base.LOG_FORMAT
    assert "json" in base.LOGGING["formatters"] and "plain" in base.LOGGING["formatters"]
    assert settings.MIDDLEWARE[0] == "config.middleware.RequestIdMiddleware"
    text = (base.BASE_DIR / "config" / "settings" / "prod.py").read_text()
    assert 'env_choice("LOG_FORMAT", ("plain", "json"), "json")' in text


# --- /metrics -----------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(METRICS_TOKEN="")
def test_metrics_do_not_exist_without_a_token(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_refuse_a_missing_or_wrong_token_without_redirecting_to_login(client):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 403


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_report_queues_throughput_failures_and_jobs():
    from django.utils import timezone

    asset = ImageAssetFactory()
    batch = CutoutBatch.objects.create(status=JobStatus.RUNNING, total=3)
    now = timezone.now()
    for version, status in enumerate((JobStatus.DONE, JobStatus.FAILED, JobStatus.QUEUED), 1):
        Cutout.objects.create(asset=asset, batch=batch, version=version, status=status,
                              finished_at=now if status != JobStatus.QUEUED else None,
                              enqueued_at=now)
    ExportJob.objects.create(status=JobStatus.DONE)

    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert response["Cache-Control"].startswith("max-age=0")
    text = response.content.decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("# TYPE"):
            assert line.split()[3] in ("gauge", "counter")
        elif line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    assert values["cutroom_broker_up"] == 1
    for queue in ("cutouts-interactive", "cutouts", "default"):
        assert f'cutroom_queue_depth{{queue="{queue}"}}' in values
    assert values['cutroom_cutouts_finished_per_minute{status="done",window="1m"}'] == 1
    assert values['cutroom_cutouts_finished_per_minute{status="failed",window="5m"}'] == 0.2
    assert values['cutroom_cutouts{status="queued"}'] == 1
    assert values["cutroom_cutout_failures"] == 1
    assert values['cutroom_cutout_batches{status="running"}'] == 1
    assert values['cutroom_export_jobs{status="done"}'] == 1
    assert values['cutroom_import_jobs{status="queued"}'] == 0
    assert values["cutroom_oldest_queued_cutout_age_seconds"] >= 0


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_show_the_broker_down_instead_of_failing(monkeypatch):
    from config import metrics

    monkeypatch.setattr(metrics, "queue_depths", lambda: None)
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert "cutroom_broker_up 0" in response.content.decode()

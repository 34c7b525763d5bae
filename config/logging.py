"""Structured logs: one JSON object per line, carrying the request id (web) or the Celery
task id (workers), so a cutout can be followed from the HTTP request that started it to the
worker that ran it.

- ``RequestContextFilter`` (attached to the console handler in every environment) adds
  ``request_id``, ``task_id`` and ``task_name`` to each record;
- ``JsonFormatter`` renders records as JSON (production, ``LOG_FORMAT=json``); development
  keeps the plain format;
- the request id is set by ``config.middleware.RequestIdMiddleware``, sent along with every
  task published while handling the request (a message header) and restored in the worker.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import traceback
import uuid
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "cutroom_request_id", default=""
)

# The client address as resolved behind trusted proxies (config.security.ClientIpMiddleware).
client_ip_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "cutroom_client_ip", default=""
)

REQUEST_ID_HEADER = "cutroom_request_id"  # Celery message header
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "request_id", "task_id", "task_name", "client_ip",
}


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    """An incoming X-Request-ID if it is a sane token, else a new one (never log raw input)."""
    if value and _VALID_ID.match(value):
        return value
    return new_request_id()


def _current_task():
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover - celery is a dependency
        return None
    task = current_task
    if task is None or not getattr(task, "request", None) or task.request.id is None:
        return None
    return task


class RequestContextFilter(logging.Filter):
    """Adds request_id / task_id / task_name to every record (empty strings when absent)."""

    def filter(self, record: logging.LogRecord) -> bool:
        task = _current_task()
        record.task_id = task.request.id if task else ""
        record.task_name = task.name if task else ""
        rid = request_id_var.get()
        if not rid and task is not None:
            rid = getattr(task.request, REQUEST_ID_HEADER, None) or ""
        record.request_id = rid
        record.client_ip = client_ip_var.get()
        return True


class QuietForbidden(logging.Filter):
    """An ordinary 403 (a page the user's role does not open) is one warning line: Django logs
    its ``PermissionDenied`` with the traceback, which says nothing of a refusal working as
    designed and buried real errors (QA: the only traceback in a day's log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.request" and getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key in ("request_id", "client_ip", "task_id", "task_name"):
            value = getattr(record, key, "")
            if value:
                entry[key] = value
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


# --- Celery: carry the request id from the publishing request into the task ------------------


def _on_before_publish(headers=None, **kwargs):
    rid = request_id_var.get()
    if rid and headers is not None and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = rid


def _on_task_prerun(task=None, **kwargs):
    rid = getattr(getattr(task, "request", None), REQUEST_ID_HEADER, None) or ""
    task._cutroom_rid_token = request_id_var.set(rid)


def _on_task_postrun(task=None, **kwargs):
    token = getattr(task, "_cutroom_rid_token", None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (thread pools); just clear
            request_id_var.set("")
        task._cutroom_rid_token = None


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(_on_before_publish, weak=False,
                                dispatch_uid="cutroom-request-id-publish")
    task_prerun.connect(_on_task_prerun, weak=False, dispatch_uid="cutroom-request-id-prerun")
    task_postrun.connect(_on_task_postrun, weak=False, dispatch_uid="cutroom-request-id-postrun")


connect_celery_signals()

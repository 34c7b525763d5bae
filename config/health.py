"""Component checks for /healthz. Each of CHECKS returns True (up) or False (down), ADVISORIES
may add a state that degrades without failing; none raises, and the reasons go to the log,
never to the anonymous caller."""

import logging
import os
from dataclasses import dataclass
from typing import Any, cast

from botocore.config import Config
from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import connection
from storages.backends.s3 import S3Storage

from catalog.jobs import jobs_worker_silent

logger = logging.getLogger(__name__)


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0] == 1
    except Exception:
        logger.exception("healthz: database down")
        return False


def check_broker() -> bool:
    from kombu import Connection

    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith("filesystem://"):
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
            os.makedirs(folder, exist_ok=True)
            return os.access(folder, os.W_OK)
        with Connection(url, connect_timeout=2,
                        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return True
    except Exception:
        logger.exception("healthz: broker down")
        return False


def check_storage() -> bool:
    try:
        for alias in ("default", "exports"):
            storage = storages[alias]
            if isinstance(storage, FileSystemStorage):
                os.makedirs(storage.location, exist_ok=True)
                if not os.access(storage.location, os.W_OK):
                    return False
            else:
                _probe(alias).exists(".healthz")
        return True
    except Exception:
        logger.exception("healthz: storage down")
        return False


#: /healthz answers a load balancer: a storage that has not answered in this long is down
PROBE_TIMEOUT = 2.0
#: alias -> (a copy of the options it was built from, the probe storage)
_PROBES: dict[str, tuple[dict, Storage]] = {}


def _probe(alias: str) -> Storage:
    """The storage behind ``alias``, or for S3 a copy of it whose client gives up after
    PROBE_TIMEOUT without retrying: the app's own client waits long enough for a large
    upload, so a stalled endpoint held /healthz for minutes (botocore's reads, retried)."""
    storage = storages[alias]
    if not isinstance(storage, S3Storage):
        return storage
    # the backend's keyword arguments; the plugin types STORAGES from the local-disk
    # settings literal (a Collection[str] per entry)
    options = cast(dict[str, Any], settings.STORAGES[alias].get("OPTIONS", {}))
    cached = _PROBES.get(alias)
    # One probe per alias, rebuilt when its options differ from the ones it was made from
    # (compared by value: an id() key could be reused by a later options dict once the
    # first is freed, and would hand out a probe for another endpoint or bucket).
    if cached is not None and cached[0] == options:
        return cached[1]
    base = options.get("client_config") or Config(
        # None is botocore's "not set"; the stubs' TypedDict allows only the style names
        s3={"addressing_style": options.get("addressing_style")},  # type: ignore[arg-type]
        signature_version=options.get("signature_version"))
    short = Config(connect_timeout=PROBE_TIMEOUT, read_timeout=PROBE_TIMEOUT,
                   retries={"mode": "standard", "total_max_attempts": 1})
    probe = type(storage)(**{**options, "client_config": base.merge(short)})
    _PROBES[alias] = (dict(options), probe)
    return probe


def check_model() -> bool:
    # The model is loaded once per file and process; every other probe costs one stat()
    # (cutouts.imaging.models.check_model_file).
    from cutouts.engine import model_check

    try:
        model_check()
        return True
    except Exception:
        logger.exception("healthz: model file missing or invalid")
        return False


CHECKS = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
    "model": check_model,
}


def run_checks() -> dict[str, bool]:
    return {name: check() for name, check in CHECKS.items()}


@dataclass(frozen=True)
class Advisory:
    """A component's state that is not simply up or down: named in the answer, and it
    degrades the status only when ``degrades`` (a failed read of it says "unknown", no more)."""
    state: str
    degrades: bool
    extra: dict[str, int]


def check_workers() -> Advisory | None:
    """Running jobs that nothing reported on for longer than any live worker (or reconciler)
    allows; None while every running job is heard from (an idle deployment included)."""
    try:
        silent = jobs_worker_silent()
    except Exception:  # noqa: BLE001 - a probe's failure is an answer, never a 500
        logger.warning("healthz: the workers probe failed", exc_info=True)
        return Advisory("unknown", degrades=False, extra={})
    if silent is None:
        return None
    return Advisory("silent", degrades=True,
                    extra={"workers_silent_seconds": int(silent.total_seconds())})


#: read from the database, so run only when the database check passed
ADVISORIES = {
    "workers": check_workers,
}


def run_advisories() -> dict[str, Advisory]:
    found = {name: check() for name, check in ADVISORIES.items()}
    return {name: advisory for name, advisory in found.items() if advisory is not None}

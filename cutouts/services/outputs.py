"""A run's output files in storage: their names, storing them, and discarding orphans."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.files import File
from django.core.files.storage import storages
from django.db import OperationalError

from ..errors import TransientError
from ..models import Cutout

logger = logging.getLogger(__name__)

OUTPUT_KEYS = ("rgba", "mask", "shadow")


def output_names(cutout: Cutout, token: str) -> dict[str, str]:
    """Where run ``token`` of this version stores its files (``cutout`` needs ``asset``)."""
    folder = f"cutouts/{cutout.asset.sha256[:2]}/{cutout.asset.sha256}/v{cutout.version}-{token}"
    return {"rgba": f"{folder}/cutout.png", "mask": f"{folder}/mask.png",
            "shadow": f"{folder}/shadow.png"}


def is_transient_storage_error(exc: BaseException) -> bool:
    try:
        from botocore.exceptions import (
            ConnectionClosedError,
            EndpointConnectionError,
            ReadTimeoutError,
        )
    except ImportError:  # pragma: no cover - botocore is a dependency
        return False
    return isinstance(exc, EndpointConnectionError | ConnectionClosedError | ReadTimeoutError)


def outputs_store(*, output, names: dict[str, str], saved: list[str]) -> None:
    """Save the output's files under ``names``, appending each stored name to ``saved`` (so
    the caller can discard them if the run fails later); closes the output. Storage outages
    raise TransientError."""
    storage = storages["default"]
    try:
        for key in OUTPUT_KEYS:
            fh = getattr(output, key)
            if fh is not None:
                saved.append(storage.save(names[key], File(fh, name=names[key])))
    except (ConnectionError, TimeoutError, OperationalError) as exc:
        raise TransientError(f"Storage unavailable: {exc}")
    except OSError as exc:
        if is_transient_storage_error(exc):
            raise TransientError(f"Storage unavailable: {exc}")
        raise
    finally:
        output.close()


def outputs_discard_existing(*, names: Iterable[str]) -> None:
    storage = storages["default"]
    outputs_discard(names=[name for name in names if storage.exists(name)])


def outputs_discard(*, names: list[str]) -> None:
    storage = storages["default"]
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # the row never pointed at it; purge will catch leftovers
            logger.warning("could not delete orphan %s", name, exc_info=True)

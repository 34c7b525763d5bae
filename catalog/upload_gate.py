"""The per-process bound on image decodes run by upload requests (CUTROOM_UPLOAD_DECODES)."""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings

logger = logging.getLogger(__name__)

#: How long a request waits for a slot before it is answered busy: enough for a decode that is
#: about to end, little enough that waiting requests do not hold gunicorn's few threads (4 per
#: process) away from page views.
WAIT_SECONDS = 2.0
#: A busy answer's Retry-After: a little under what one 79 MP ingest holds a slot (4.5 s alone
#: on 2 cores, docs/ingest.md), as most photos are smaller and free theirs sooner. upload.js
#: adds jitter, so the three files a page sends at once do not come back together.
RETRY_AFTER_SECONDS = 3
BUSY_CODE = "busy"


def _libc_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


_malloc_trim = _libc_malloc_trim()


class UploadGateBusy(Exception):
    """Every decode slot of this process stayed taken for ``WAIT_SECONDS``: nothing was read
    or stored, and the same request may be sent again after ``retry_after`` seconds."""

    def __init__(self) -> None:
        self.retry_after = RETRY_AFTER_SECONDS
        super().__init__(
            "The server is busy with other uploads, so this file was not stored. Send it "
            f"again in {self.retry_after} seconds: nothing of it was kept.")


class _Gate:
    def __init__(self, size: int) -> None:
        self.size = size
        self.slots = threading.BoundedSemaphore(size)
        self.lock = threading.Lock()
        self.held = 0


_gate: _Gate | None = None
_gate_lock = threading.Lock()


def _current() -> _Gate:
    """The process's gate, sized by the setting (made again when a test overrides it; a slot
    taken before that is released to the gate it came from)."""
    global _gate
    size = settings.CUTROOM_UPLOAD_DECODES
    with _gate_lock:
        if _gate is None or _gate.size != size:
            _gate = _Gate(size)
        return _gate


@contextmanager
def decode_slot() -> Iterator[None]:
    """Hold one of the process's decode slots for the block (the ingest of a request's
    files); raises ``UploadGateBusy`` before the block runs when none frees up in
    ``WAIT_SECONDS``. Released however the block ends."""
    gate = _current()
    if not gate.slots.acquire(timeout=WAIT_SECONDS):
        logger.info("upload refused as busy: %s decode slots taken", gate.size)
        raise UploadGateBusy()
    with gate.lock:
        gate.held += 1
    try:
        yield
    finally:
        with gate.lock:
            gate.held -= 1
        gate.slots.release()
        # glibc keeps a freed decode's memory in the arena of the thread that decoded (one
        # per thread): untrimmed, every web thread ends up holding a decode's worth, and the
        # process's RSS passes what the bound allows (measured, docs/ingest.md)
        if _malloc_trim is not None:
            _malloc_trim(0)


def slots_held() -> int:
    """How many decode slots requests of this process hold now."""
    gate = _current()
    with gate.lock:
        return gate.held

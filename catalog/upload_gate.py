"""The per-process bound on the full image decodes web requests run (CUTROOM_UPLOAD_DECODES):
uploads (page and API), a working copy's rebuild, and a thumbnail or a review card's picture
made on its first view.
Each holds a slot while its decoded image lives, so a web process holds at most that many
decoded photos at once."""

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
#: ``decode_slot(wait=NO_LIMIT)``: wait until a slot frees, never busy. For a thumbnail made on
#: its first view: an ``<img>`` cannot wait and send again as upload.js does (a 429 is a broken
#: image until the page is reloaded), and the wait ends, as every slot is held by a decode only.
NO_LIMIT = float("inf")
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
def decode_slot(*, wait: float | None = None) -> Iterator[None]:
    """Hold one of the process's decode slots for the block (the ingest of a request's
    files, a rebuild, a thumbnail's decode); raises ``UploadGateBusy`` before the block runs
    when none frees up in ``wait`` seconds (``WAIT_SECONDS`` when not given; ``NO_LIMIT``:
    never). Released however the block ends. Not re-entrant: a block holding a slot must not
    ask for another (with ``NO_LIMIT``, that would wait for itself)."""
    gate = _current()
    wait = WAIT_SECONDS if wait is None else wait
    # a Semaphore waits without a limit only for timeout=None (a negative one does not wait)
    if not gate.slots.acquire(timeout=None if wait == NO_LIMIT else wait):
        logger.info("decode refused as busy: %s decode slots taken", gate.size)
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

"""The embedded (no-server) broker: kombu's filesystem transport made safe for bursts and kills.

kombu's stock ``filesystem://`` creates a message file and then writes it, so a polling worker
can read an empty or half-written file and die on the JSON error (celery/kombu#1551); and it
deletes a message as soon as a worker takes it, so a worker killed with ``kill -9`` loses what
it held. This subclass, registered as ``filesystem://`` by the settings:

- writes each message under ``spool/`` and renames it into the queue folder, so a message
  appears whole or not at all (``rename`` is atomic within one filesystem);
- claims a message by renaming it into ``claimed/<host>-<pid>/`` (only one worker can win the
  rename) and deletes it only on ack; a rejected or restored message goes back to the queue;
- gives the claims of a process that no longer exists back to the queue whenever a channel
  opens (a restarted worker, the web, beat), so a killed worker loses nothing;
- never crashes on a file it cannot decode: a fresh one is retried later (a writer that is not
  atomic may still be busy), an old one is moved to ``bad/`` and logged;
- stops polling for tasks while a worker holds all the messages its prefetch allows (busy
  with a task, ``acks_late``): the ack wakes it at once, so the next task starts without a
  polling delay and a busy worker's main process does not spin (see ``drain_events``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any

from kombu.connection import Connection
from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.transport.virtual.base import Message
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads
from kombu.utils.scheduling import FairCycle

logger = logging.getLogger(__name__)

#: An unreadable file younger than this is left for a later poll, older ones are set aside.
UNREADABLE_GRACE = 5.0
#: Seconds between polls while every prefetch slot is taken: only remote control (``celery
#: inspect ping``) can arrive then; an ack or reject ends the wait at once.
BUSY_POLL = 0.25


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # an unreaped zombie still answers kill(0) but holds nothing
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


class Channel(filesystem.Channel):
    connection: Transport  # kombu hands every channel the transport that opened it

    def __init__(self, connection: Transport, **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        root = Path(self.data_folder_in).parent
        self.spool_folder = root / "spool"
        self.claims_root = root / "claimed"
        self.bad_folder = root / "bad"
        self.owner = f"{socket.gethostname()}-{os.getpid()}"
        self.claim_folder = self.claims_root / self.owner
        for folder in (self.spool_folder, self.claim_folder, self.bad_folder,
                       Path(self.data_folder_in), Path(self.data_folder_out),
                       Path(self.control_folder)):
            folder.mkdir(parents=True, exist_ok=True)
        self._claimed: dict[str, Path] = {}
        self.restore_orphans()

    # --- writing ------------------------------------------------------------------------

    # kombu's filesystem Channel narrows AbstractChannel's _put(queue, message) to this and
    # its stub ignores the same override error; kombu passes both arguments by position.
    def _put(  # type: ignore[override]
        self, queue: str, payload: dict[str, Any], **kwargs: Any
    ) -> None:
        # Zero-padded wall-clock nanoseconds: names sort in send order across processes.
        name = f"{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        spooled = self.spool_folder / name
        try:
            with open(spooled, "wb") as fh:
                fh.write(str_to_bytes(dumps(payload)))
            os.rename(spooled, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            with contextlib.suppress(OSError):
                spooled.unlink()
            raise ChannelError(f"Cannot add message {name!r} to the queue") from exc

    # --- reading ------------------------------------------------------------------------

    def _get(self, queue: str, timeout: float | None = None) -> dict[str, Any]:
        # ``timeout`` is AbstractChannel's; a filesystem channel never waits (drain_events does)
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            source = os.path.join(self.data_folder_in, name)
            claimed = self.claim_folder / name
            try:
                os.rename(source, claimed)
            except FileNotFoundError:
                continue  # another worker claimed it first
            except OSError:
                logger.warning("broker: cannot claim %s", source, exc_info=True)
                continue
            try:
                payload = loads(bytes_to_str(claimed.read_bytes()))
                tag = payload["properties"]["delivery_tag"]
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the worker
                self._unreadable(claimed, source, exc)
                continue
            self._claimed[tag] = claimed
            return payload
        raise Empty()

    def _unreadable(self, claimed: Path, source: str, exc: Exception) -> None:
        try:
            age = time.time() - claimed.stat().st_mtime
        except OSError:
            return
        if age < UNREADABLE_GRACE:
            with contextlib.suppress(OSError):
                os.rename(claimed, source)  # maybe still being written: try again later
            return
        logger.error("broker: set aside unreadable message %s (%s: %s)", claimed.name,
                     type(exc).__name__, exc)
        with contextlib.suppress(OSError):
            os.rename(claimed, self.bad_folder / claimed.name)

    # --- settling -----------------------------------------------------------------------

    def _forget(self, delivery_tag: str) -> None:
        path = self._claimed.pop(delivery_tag, None)
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        super().basic_ack(delivery_tag, multiple=multiple)
        self._forget(delivery_tag)
        self.connection.settled.set()  # a prefetch slot is free: poll now

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        super().basic_reject(delivery_tag, requeue=requeue)
        self.connection.settled.set()

    def _restore(self, message: Message) -> None:
        # Requeued (rejected, or unacked at a clean shutdown): a new file goes to the queue,
        # so the claim is settled.
        super()._restore(message)
        if message.delivery_tag is not None:  # every message this transport delivers has one
            self._forget(message.delivery_tag)

    def restore_orphans(self) -> int:
        """Put the claims of processes that no longer exist back in the queue."""
        restored = 0
        host = socket.gethostname()
        try:
            owners = list(self.claims_root.iterdir())
        except FileNotFoundError:
            return 0
        for folder in owners:
            owner_host, _, pid = folder.name.rpartition("-")
            if owner_host != host or not pid.isdigit() or folder == self.claim_folder:
                continue
            if _alive(int(pid)):
                continue
            for path in folder.iterdir():
                with contextlib.suppress(OSError):
                    os.rename(path, os.path.join(self.data_folder_in, path.name))
                    restored += 1
            with contextlib.suppress(OSError):
                folder.rmdir()
        if restored:
            logger.warning("broker: %s message(s) of dead workers put back in the queue",
                           restored)
        return restored


class Transport(filesystem.Transport):
    Channel = Channel
    driver_type = "filesystem"
    driver_name = "cutroom-filesystem"
    # Set by kombu's __init__ (the stubs also allow the class attributes' None).
    channels: list[virtual.Channel]
    cycle: FairCycle

    def __init__(self, client: Connection, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        #: set by every ack and reject (Celery acks from its result thread)
        self.settled = threading.Event()

    def _saturated(self) -> bool:
        """Every prefetch-limited channel holds all the messages it may: no poll can take one."""
        limited = [ch for ch in self.channels if ch.qos.prefetch_count]
        return bool(limited) and not any(ch.qos.can_consume() for ch in limited)

    # kombu's virtual Transport narrows base.Transport's drain_events(connection, **kwargs)
    # to this and its stub ignores the same override error.
    def drain_events(  # type: ignore[override]
        self, connection: Connection, timeout: float | None = None
    ) -> None:
        # kombu's loop, with its fixed sleep between polls replaced by a wait that an ack ends
        # (measured: a polling worker's main process used 1.1 % of a core all the time, and
        # the next task started on average half a polling interval after the ack).
        started = time.monotonic()
        while True:
            self.settled.clear()  # before the poll: an ack during it still ends the wait
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                pass
            elapsed = time.monotonic() - started
            if timeout is not None and elapsed >= timeout:
                raise TimeoutError()
            wait = BUSY_POLL if self._saturated() else (self.polling_interval or 0)
            if timeout is not None:
                wait = min(wait, timeout - elapsed)
            self.settled.wait(wait)

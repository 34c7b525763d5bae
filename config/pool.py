"""The worker's prefork pool: Celery's, with a job queue an idle child cannot wedge when killed.

With a broker that has no event loop (the embedded ``filesystem://``), Celery runs billiard's
plain ``Pool``: its children share one job pipe, and an idle child waits for the next job
*holding* the pipe's read lock. A child killed while idle (``kill -9``, the out-of-memory
killer picking the idle child that still holds a 50 MP cutout's memory) takes the lock with
it: its replacement and every other child wait on it for ever, and the worker takes no more
tasks, silently (QA 2026-12-04: a batch stayed queued until the worker was restarted). Here
an idle child waits for the pipe to become readable without the lock and takes the lock only
to read a job that is there, so a kill leaves the lock held only if it lands inside that read.
Brokers with an event loop (Redis, RabbitMQ) use ``AsynPool``, one pipe per child, unchanged.
"""

from __future__ import annotations

from typing import Any

from billiard.pool import Pool as BlockingPool
from billiard.queues import SimpleQueue
from celery.concurrency import prefork


class IdleSafeQueue(SimpleQueue):
    """A ``SimpleQueue`` whose readers wait for data unlocked (see the module)."""

    # billiard's private attributes, which its stubs do not declare (typing only)
    _reader: Any
    _rlock: Any
    _writer: Any

    def get_payload(self) -> bytes:
        while True:
            self._reader.poll(None)
            with self._rlock:
                # another child may have read what woke this one: wait again
                if self._reader.poll(0):
                    return self._reader.recv_bytes()


class IdleSafePool(BlockingPool):
    # billiard's private attributes and method, which its stubs do not declare (typing only)
    _ctx: Any
    _inqueue: Any
    _quick_put: Any

    def _setup_queues(self) -> None:
        super()._setup_queues()  # type: ignore[misc]
        stock, self._inqueue = self._inqueue, IdleSafeQueue(ctx=self._ctx)
        self._quick_put = self._inqueue._writer.send
        stock.close()


class TaskPool(prefork.TaskPool):
    """``CELERY_WORKER_POOL``: prefork, with :class:`IdleSafePool` when Celery picks billiard's
    blocking pool."""

    BlockingPool = IdleSafePool

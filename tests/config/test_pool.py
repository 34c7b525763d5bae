"""The worker's pool (config/pool.py): a killed idle child never wedges the embedded broker's
worker. CI's broker is Redis (Celery's AsynPool there), so the worker test forces the
embedded one: the blocking pool is what it runs."""

import os
import signal
import subprocess
import time

import pytest
from django.conf import settings
from kombu import Connection

from config.pool import IdleSafePool
from cutouts.models import WorkerPing
from tests.workers import running_worker, wait_for, worker_env


def _kill_idle_children(pids: list[int]) -> None:
    time.sleep(0.5)  # every child is waiting for a job (one, in billiard's pool, on the lock)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def test_it_runs_jobs_after_every_idle_child_was_killed():
    # Billiard's own Pool fails this: the killed child that waited on the pipe keeps its read
    # lock, and the replacements wait on it for ever (a 15 s timeout here).
    pool = IdleSafePool(processes=2)
    try:
        assert pool.apply_async(os.getpid).get(timeout=20)
        _kill_idle_children([w.pid for w in pool._pool])
        pids = {pool.apply_async(os.getpid).get(timeout=15) for _ in range(4)}
        assert pids and not pids & {w.pid for w in pool._pool if w.exitcode is not None}
    finally:
        pool.terminate()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True, check=True).stdout
    return [int(p) for p in out.split()]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_keeps_taking_tasks_after_an_idle_pool_child_was_killed_on_the_embedded_broker():
    env = worker_env(CELERY_BROKER_URL="filesystem://")
    with running_worker(queues="default", concurrency=2, hostname="idle@%h", env=env) as worker:
        children = wait_for(lambda: len(_children(worker.pid)) == 2 and _children(worker.pid),
                            timeout=30, message="two pool children")
        _kill_idle_children(children)
        ping = WorkerPing.objects.create()
        with Connection("filesystem://",
                        transport_options=settings.FILESYSTEM_BROKER_OPTIONS) as conn:
            from cutouts.tasks import worker_ping_task

            worker_ping_task.apply_async(args=[ping.pk], connection=conn, queue="default")
        wait_for(lambda: WorkerPing.objects.filter(pk=ping.pk, answered_at__isnull=False)
                 .exists(), timeout=60,
                 message=f"the ping after the kill\n{worker.log()[-3000:]}")
        ping.refresh_from_db()
        assert ping.worker_pid not in children

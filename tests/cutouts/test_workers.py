"""Real Celery worker processes (not eager mode) on the configured broker: the embedded
filesystem broker locally, Redis in CI; the Redis crash test always starts its own private
redis-server. The workers run the real embedded model."""

from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.utils import timezone

from catalog.models import ImageAsset
from cutouts import enqueue as cutouts_enqueue
from cutouts.models import Cutout, CutoutBatch, JobStatus
from cutouts.services import batches
from tests.workers import PrivateRedis, running_worker, start_worker, wait_for, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CUTOUT_QUEUES = "cutouts-interactive,cutouts,default"


def _finished(batch_id: int) -> bool:
    return CutoutBatch.objects.filter(
        pk=batch_id, status__in=[JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED]
    ).exists()


def _assert_each_done_exactly_once(batch: CutoutBatch, count: int) -> None:
    rows = list(Cutout.objects.filter(batch=batch))
    assert len(rows) == count
    assert {r.status for r in rows} == {JobStatus.DONE}, [r.error for r in rows if r.error]
    names = [r.rgba_name for r in rows]
    assert len(set(names)) == count and all(names)
    storage = storages["default"]
    assert all(storage.exists(n) for n in names)
    # One output folder per cutout: a duplicate delivery left nothing behind.
    for row in rows:
        folder = row.rgba_name.rsplit("/", 2)[0]
        runs = [r for r in storage.listdir(folder)[0] if r.startswith(f"v{row.version}-")
                and storage.listdir(f"{folder}/{r}")[1]]
        assert len(runs) == 1, runs


def test_it_completes_a_batch_of_forty_on_two_worker_processes(make_assets):
    assets = make_assets(40, size=(640, 480))
    with running_worker(queues=CUTOUT_QUEUES, hostname="alpha@%h"), \
            running_worker(queues=CUTOUT_QUEUES, hostname="beta@%h"):
        batch = batches.cutout_batch_start(assets=assets, profile_name="fast")
        wait_for(lambda: _finished(batch.pk), timeout=400, message="the batch to finish")
    batch.refresh_from_db()
    assert batch.status == JobStatus.DONE, batch.message
    _assert_each_done_exactly_once(batch, 40)
    workers = set(Cutout.objects.filter(batch=batch).values_list("worker", flat=True))
    assert {w.split("@")[0] for w in workers} == {"alpha", "beta"}


def test_it_loses_nothing_when_a_worker_is_killed_mid_batch(make_assets):
    assets = make_assets(16, size=(640, 480))
    steady = start_worker(queues=CUTOUT_QUEUES, hostname="steady@%h")
    victim = start_worker(queues=CUTOUT_QUEUES, hostname="victim@%h")
    replacement = None
    try:
        batch = batches.cutout_batch_start(assets=assets, profile_name="fast")
        # Kill within 150 ms of the victim's claim: a cutout costs at least one model call
        # (~0.3 s), so the victim is certainly still inside it. Waiting only for "running"
        # raced a fast cutout finishing between the check and the kill.
        wait_for(lambda: Cutout.objects.filter(
                     batch=batch, status=JobStatus.RUNNING, worker__startswith="victim@",
                     started_at__gte=timezone.now() - timedelta(seconds=0.15)).exists()
                 and Cutout.objects.filter(batch=batch, status=JobStatus.DONE).count() >= 2,
                 timeout=200, interval=0.01, message="the victim to be mid-cutout")
        victim.kill()
        killed_running = Cutout.objects.filter(batch=batch, status=JobStatus.RUNNING,
                                                worker__startswith="victim@").count()
        assert killed_running == 1
        # A supervisor restarts the service under the same name; its start-up reconcile
        # re-sends what the dead process held.
        replacement = start_worker(queues=CUTOUT_QUEUES, hostname="victim@%h")
        wait_for(lambda: _finished(batch.pk), timeout=400, message="the batch to finish")
    finally:
        for worker in (steady, victim, replacement):
            if worker:
                worker.stop()
    batch.refresh_from_db()
    assert batch.status == JobStatus.DONE, batch.message
    _assert_each_done_exactly_once(batch, 16)
    assert Cutout.objects.filter(batch=batch, attempts=2).count() >= 1


def test_it_runs_again_at_once_a_cutout_whose_pool_child_was_killed(make_assets):
    """The out-of-memory killer takes one pool child, not the worker: its message comes back
    within seconds while the row still says running. No beat runs here, so the reconciler
    cannot be what finishes the batch: the redelivered message must take the dead run over."""
    import os
    import signal

    assets = make_assets(3, size=(640, 480))
    with running_worker(queues=CUTOUT_QUEUES, hostname="oom@%h") as worker:
        batch = batches.cutout_batch_start(assets=assets, profile_name="fast")
        wait_for(lambda: Cutout.objects.filter(
                     batch=batch, status=JobStatus.RUNNING,
                     started_at__gte=timezone.now() - timedelta(seconds=0.15)).exists(),
                 timeout=200, interval=0.01, message="a cutout to be mid-run")
        row = Cutout.objects.filter(batch=batch, status=JobStatus.RUNNING).first()
        assert row is not None, "it finished between the check and the read"
        child = int(row.worker.rsplit(":", 1)[1])
        assert child != worker.pid  # a pool child, not the main process
        os.kill(child, signal.SIGKILL)
        wait_for(lambda: _finished(batch.pk), timeout=120,
                 message=f"the batch to finish without the reconciler\n{worker.log()[-3000:]}")
    batch.refresh_from_db()
    assert batch.status == JobStatus.DONE, batch.message
    _assert_each_done_exactly_once(batch, 3)
    assert Cutout.objects.get(pk=row.pk).attempts == 2


# The reconciler runs every second (embedded beat) and trusts a heartbeat for 3 s.
FAST_RECOVERY = {"CUTROOM_RECONCILE_GRACE": "3", "CUTROOM_RECONCILE_EVERY": "1",
                 "CUTROOM_JOB_HEARTBEAT": "1"}


def _stop(*workers) -> None:
    for worker in workers:
        if worker is not None:
            worker.stop()


def test_it_finishes_a_batch_after_every_worker_is_killed(make_assets):
    assets = make_assets(10, size=(640, 480))
    env = worker_env(**FAST_RECOVERY)
    one = start_worker(queues=CUTOUT_QUEUES, hostname="one@%h", env=env)
    two = start_worker(queues=CUTOUT_QUEUES, hostname="two@%h", env=env)
    rescue = None
    try:
        batch = batches.cutout_batch_start(assets=assets, profile_name="fast")
        wait_for(lambda: Cutout.objects.filter(batch=batch, status=JobStatus.DONE).count() >= 2
                 and Cutout.objects.filter(
                     batch=batch, status=JobStatus.RUNNING,
                     started_at__gte=timezone.now() - timedelta(seconds=0.15)).exists(),
                 timeout=200, interval=0.01, message="the batch to be under way")
        one.kill()
        two.kill()
        assert Cutout.objects.filter(batch=batch, status=JobStatus.RUNNING).exists()
        rescue = start_worker(queues=CUTOUT_QUEUES, hostname="rescue@%h", env=env, beat=True)
        wait_for(lambda: _finished(batch.pk), timeout=300, message="the batch")
    finally:
        _stop(one, two, rescue)
    batch.refresh_from_db()
    assert batch.status == JobStatus.DONE, batch.message
    rows = list(Cutout.objects.filter(batch=batch))
    assert {r.status for r in rows} == {JobStatus.DONE}
    assert len({r.rgba_name for r in rows}) == 10
    assert any(r.attempts == 2 for r in rows)
    storage = storages["default"]
    for row in rows:  # one output folder per version: the dead run's files were discarded
        folder = row.rgba_name.rsplit("/", 2)[0]
        runs = [r for r in storage.listdir(folder)[0] if r.startswith(f"v{row.version}-")
                and storage.listdir(f"{folder}/{r}")[1]]
        assert len(runs) == 1, runs
    assert set(ImageAsset.objects.filter(pk__in=[a.pk for a in assets])
               .values_list("status", flat=True)) == {"cut_out"}


def test_it_loses_nothing_when_the_redis_broker_crashes_mid_batch(make_assets, monkeypatch):
    from config.celery import app
    from cutouts.tasks import cutout_run_task

    redis = PrivateRedis()
    redis.start()
    env = worker_env(CELERY_BROKER_URL=redis.url, **FAST_RECOVERY)
    worker = start_worker(queues=CUTOUT_QUEUES, hostname="redis@%h", env=env, beat=True)

    def enqueue(ids):  # this test process speaks to the private Redis, like the web would
        with app.connection_for_write(redis.url) as conn:
            for pk, queue in Cutout.objects.filter(pk__in=ids).values_list("pk", "queue"):
                cutout_run_task.apply_async((pk,), queue=queue, connection=conn)

    monkeypatch.setattr(cutouts_enqueue, "cutout_runs_send", enqueue)
    try:
        batch = batches.cutout_batch_start(assets=make_assets(10, size=(640, 480)),
                                                   profile_name="fast")
        wait_for(lambda: Cutout.objects.filter(batch=batch, status=JobStatus.DONE).count() >= 2,
                 timeout=200, message="two cutouts done")
        redis.stop()  # every queued message is gone
        redis.start()
        wait_for(lambda: _finished(batch.pk), timeout=300, message="the batch")
    finally:
        worker.stop()
        redis.stop()
    batch.refresh_from_db()
    assert batch.status == JobStatus.DONE, batch.message
    rows = list(Cutout.objects.filter(batch=batch))
    assert {r.status for r in rows} == {JobStatus.DONE}
    assert len({r.rgba_name for r in rows}) == 10


def test_it_runs_an_interactive_rerun_ahead_of_a_bulk_batch(make_assets):
    assets = make_assets(11, size=(640, 480))
    bulk = batches.cutout_batch_start(assets=assets[:10], profile_name="fast")
    with running_worker(queues=CUTOUT_QUEUES, hostname="solo@%h"):
        wait_for(lambda: Cutout.objects.filter(batch=bulk, status=JobStatus.DONE).exists(),
                 timeout=200, message="the bulk batch to start")
        rerun = batches.cutout_rerun(asset=assets[10], profile_name="fast")
        wait_for(lambda: Cutout.objects.filter(pk=rerun.pk, status=JobStatus.DONE).exists(),
                 timeout=200, message="the interactive re-run")
        bulk_done_before = Cutout.objects.filter(batch=bulk, status=JobStatus.DONE).count()
        wait_for(lambda: _finished(bulk.pk), timeout=300, message="the bulk batch")
    # The worker alternates between its queues, so the re-run waits for at most a couple of
    # bulk images instead of the whole batch.
    assert bulk_done_before <= 4, bulk_done_before


def test_it_follows_a_command_line_batch_to_the_end(make_assets, capsys):
    from django.core.management import call_command

    make_assets(3, sku="CLI")
    with running_worker(queues=CUTOUT_QUEUES, hostname="cli@%h"):
        call_command("cutout_batch", "--all-pending", "--profile", "fast", "--timeout", "300")
    out = capsys.readouterr().out
    assert "3 done, 0 failed" in out
    assert Cutout.objects.filter(status=JobStatus.DONE).count() == 3

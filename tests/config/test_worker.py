import os

import pytest
from django.urls import reverse

from cutouts.models import WorkerPing
from tests.factories import manager
from tests.workers import broker_name, running_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_it_runs_a_task_submitted_from_the_web_in_the_separate_worker_process(client):
    client.force_login(manager())
    with running_worker(queues="default") as worker:
        response = client.post(reverse("worker_ping"), HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        ping = WorkerPing.objects.get()
        wait_for(lambda: WorkerPing.objects.filter(pk=ping.pk, answered_at__isnull=False).exists(),
                 timeout=60, message=f"worker on {broker_name()} to answer")
    ping.refresh_from_db()
    assert ping.worker_pid != os.getpid()
    # A prefork pool runs the task in a child of the worker process we started.
    assert worker.pid in (ping.worker_pid, ping.worker_ppid)


def test_it_replaces_a_worker_process_past_its_memory_limit_after_its_task(client):
    from tests.workers import worker_env

    client.force_login(manager())
    # 1 MB: every process is past it, so each task runs in a fresh one
    env = {**worker_env(), "CUTROOM_WORKER_MAX_MEMORY_MB": "1"}
    pids = []
    with running_worker(queues="default", env=env):
        for _ in range(2):
            client.post(reverse("worker_ping"), HTTP_HX_REQUEST="true")
            ping = WorkerPing.objects.latest("pk")
            wait_for(lambda p=ping: WorkerPing.objects.filter(
                pk=p.pk, answered_at__isnull=False).exists(),
                timeout=60, message=f"worker on {broker_name()} to answer")
            ping.refresh_from_db()
            pids.append(ping.worker_pid)
    assert pids[0] != pids[1]

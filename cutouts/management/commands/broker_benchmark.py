"""The embedded broker decision, measured: pickup latency, and bursts with a kill -9.

For each broker (default: kombu's stock filesystem transport as the baseline, Cutroom's
atomic filesystem transport, and kombu's SQLAlchemy transport on SQLite), in a throwaway var
dir: the round trip of single pings to a real worker (p50/p95), then five bursts of 400
``worker_ping_task`` 3 s apart with the worker killed (``kill -9`` of its process group)
during the 4th and restarted; it reports how long the 2000 pings took, how many were never
answered within 60 s of the last burst (lost) and whether the worker died on its own.
"""

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from cutouts.benchmarking import start_cutout_worker
from cutouts.models import WorkerPing
from cutouts.services.notifications import worker_ping_create


def _round_trips(count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        ping = worker_ping_create()
        while not WorkerPing.objects.filter(pk=ping.pk, answered_at__isnull=False).exists():
            if time.perf_counter() - started > 30:
                raise RuntimeError("No worker answered within 30 s")
            time.sleep(0.005)
        times.append(time.perf_counter() - started)
    return times


def _start_worker(log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "-c", "2",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"],
        cwd=settings.BASE_DIR, stdout=open(log, "ab"),  # noqa: SIM115 - the child owns it
        stderr=subprocess.STDOUT, start_new_session=True)


def _burst(bursts: int, size: int, kill_at: int, log: Path) -> dict:
    worker = _start_worker(log)
    time.sleep(5)
    crashed = 0
    started = time.perf_counter()
    from cutouts.tasks import worker_ping_task

    def send(count: int) -> None:
        # As the probe: bare delay() calls, so the queue backs up behind the worker.
        for ping in WorkerPing.objects.bulk_create([WorkerPing() for _ in range(count)]):
            worker_ping_task.delay(ping.pk)

    for n in range(bursts):
        if n == kill_at:
            send(size // 2)  # the kill comes mid-burst, while the worker holds messages
            time.sleep(0.3)
        else:
            send(size)
        if n == kill_at:
            if worker.poll() is not None:
                crashed += 1
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
            worker = _start_worker(log)
            send(size - size // 2)
        elif worker.poll() is not None:
            crashed += 1
            worker = _start_worker(log)
        if n < bursts - 1:
            time.sleep(3)
    sent = time.perf_counter() - started
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and WorkerPing.objects.filter(
            answered_at__isnull=True).exists():
        if worker.poll() is not None:
            crashed += 1
            worker = _start_worker(log)
        time.sleep(0.2)
    drained = time.perf_counter() - started
    if worker.poll() is not None:
        crashed += 1
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    text = log.read_text(errors="replace")
    return {"pings": bursts * size,
            "lost": WorkerPing.objects.filter(answered_at__isnull=True).count(),
            "seconds": round(drained, 1), "send_seconds": round(sent, 1),
            "worker_died_on_its_own": crashed,
            "json_decode_errors": text.count("JSONDecodeError")}


class Command(BaseCommand):
    help = "Measure the embedded brokers: pickup latency, and 5x400 bursts with a kill -9."
    requires_system_checks = []  # measures jobs; needs no URLconf or admin checks

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=30)
        parser.add_argument("--bursts", type=int, default=5)
        parser.add_argument("--burst-size", type=int, default=400)
        parser.add_argument("--no-burst", action="store_true", help="Latency only.")
        parser.add_argument("--url", action="append", help="Broker URL(s) to measure.")
        parser.add_argument("--json", dest="json_path", default="broker_benchmark.json")
        # Internal: the measuring half, run as a fresh process against one broker.
        parser.add_argument("--child", choices=("latency", "burst"), help=argparse.SUPPRESS)
        parser.add_argument("--log", help=argparse.SUPPRESS)

    def handle(self, *args, count, bursts, burst_size, no_burst, url, json_path: str, child,
               log, **options):
        if child == "latency":
            self.stdout.write(json.dumps(_round_trips(count)))
            return
        if child == "burst":
            self.stdout.write(json.dumps(_burst(bursts, burst_size, min(3, bursts - 1),
                                                Path(log))))
            return
        urls = url or ["kombu-filesystem://", "filesystem://",
                       "sqla+sqlite:///" + str(Path(tempfile.mkdtemp()) / "b.db")]
        rows = []
        for broker in urls:
            row = {"broker": broker.split("///")[0], **self._latency(broker, count)}
            if not no_burst:
                row.update(self._burst(broker, bursts, burst_size))
            rows.append(row)
            self.stdout.write(f"measured {row}")
        baseline = rows[0]
        self.stdout.write(f"{'broker':<22}{'p50 ms':>8}{'p95 ms':>8}{'x p50':>7}"
                          f"{'pings':>7}{'lost':>6}{'died':>6}{'secs':>7}{'x secs':>8}")
        for row in rows:
            row["ratio_p50"] = round(row["p50_ms"] / baseline["p50_ms"], 2)
            if "seconds" in row:
                row["ratio_seconds"] = round(row["seconds"] / baseline["seconds"], 2)
            self.stdout.write(
                f"{row['broker']:<22}{row['p50_ms']:>8.1f}{row['p95_ms']:>8.1f}"
                f"{row['ratio_p50']:>7.2f}{row.get('pings', 0):>7}{row.get('lost', 0):>6}"
                f"{row.get('worker_died_on_its_own', 0):>6}{row.get('seconds', 0):>7.1f}"
                f"{row.get('ratio_seconds', 0):>8.2f}")
        Path(json_path).write_text(json.dumps(rows, indent=2))
        self.stdout.write(f"wrote {json_path}")

    def _env(self, broker: str) -> dict:
        var = tempfile.mkdtemp(prefix="cutroom-brokerbench-")
        # kombu's stock filesystem transport never creates its folders: without them its
        # worker dies at start-up ("Unrecoverable error: FileNotFoundError").
        for folder in ("queue", "control"):
            (Path(var) / "broker" / folder).mkdir(parents=True)
        env = {**os.environ, "CELERY_BROKER_URL": broker, "CUTROOM_VAR_DIR": var,
               "DJANGO_SETTINGS_MODULE": "config.settings.dev", "LOG_LEVEL": "WARNING"}
        env.pop("DATABASE_URL", None)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, check=True,
                       cwd=settings.BASE_DIR)
        return env

    def _child(self, env: dict, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", "broker_benchmark", *args], env=env,
            cwd=settings.BASE_DIR, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"broker_benchmark {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout.strip().splitlines()[-1]

    def _latency(self, broker: str, count: int) -> dict:
        env = self._env(broker)
        # The shared start: one pool process, and the first ping goes out once it is ready
        # (which it logs at INFO).
        worker = start_cutout_worker({**env, "LOG_LEVEL": "INFO"}, "worker", queues="default")
        try:
            times = json.loads(self._child(env, "--child", "latency", "--count",
                                           str(count)))[1:]  # the first includes warm-up
        finally:
            worker.terminate()
            worker.wait(20)
        times_ms = sorted(t * 1000 for t in times)
        return {"p50_ms": round(statistics.median(times_ms), 1),
                "p95_ms": round(times_ms[int(0.95 * (len(times_ms) - 1))], 1)}

    def _burst(self, broker: str, bursts: int, size: int) -> dict:
        env = self._env(broker)
        log = Path(env["CUTROOM_VAR_DIR"]) / "burst-worker.log"
        return json.loads(self._child(env, "--child", "burst", "--bursts", str(bursts),
                                      "--burst-size", str(size), "--log", str(log)))

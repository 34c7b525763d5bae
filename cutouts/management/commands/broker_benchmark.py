import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from cutouts.models import WorkerPing
from cutouts.services import worker_ping_create


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


class Command(BaseCommand):
    help = (
        "Measure task pickup latency (enqueue → executed by a real worker process) for the "
        "embedded brokers, or for the configured one with --url."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=30)
        parser.add_argument("--url", action="append", help="Broker URL(s) to measure.")
        parser.add_argument("--json", dest="json_path", default="broker_benchmark.json")
        # Internal: the measuring half, run as a fresh process against one broker.
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, count, url, json_path: str, child, **options):
        if child:
            times = _round_trips(count)
            self.stdout.write(json.dumps(times))
            return
        urls = url or ["filesystem://", "sqla+sqlite:///" + str(Path(tempfile.mkdtemp()) / "b.db")]
        rows = []
        for broker in urls:
            rows.append({"broker": broker.split("///")[0], **self._measure(broker, count)})
        baseline = rows[0]["p50_ms"]
        self.stdout.write(f"{'broker':<24}{'p50 ms':>10}{'p95 ms':>10}{'ratio p50':>11}")
        for row in rows:
            row["ratio_p50"] = round(row["p50_ms"] / baseline, 2)
            self.stdout.write(
                f"{row['broker']:<24}{row['p50_ms']:>10.1f}{row['p95_ms']:>10.1f}"
                f"{row['ratio_p50']:>11.2f}"
            )
        Path(json_path).write_text(json.dumps(rows, indent=2))
        self.stdout.write(f"wrote {json_path}")

    def _measure(self, broker: str, count: int) -> dict:
        env = {**os.environ, "CELERY_BROKER_URL": broker,
               "CUTROOM_VAR_DIR": tempfile.mkdtemp(prefix="cutroom-brokerbench-"),
               "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, check=True,
                       cwd=settings.BASE_DIR)
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "-c", "1",
             "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"],
            env=env, cwd=settings.BASE_DIR,
        )
        try:
            time.sleep(4)
            out = subprocess.run(
                [sys.executable, "manage.py", "broker_benchmark", "--child", "--count", str(count)],
                env=env, cwd=settings.BASE_DIR, check=True, capture_output=True, text=True,
            ).stdout
            times = json.loads(out.strip().splitlines()[-1])[1:]  # first includes warm-up
        finally:
            worker.terminate()
            worker.wait(20)
        times_ms = sorted(t * 1000 for t in times)
        return {
            "p50_ms": statistics.median(times_ms),
            "p95_ms": times_ms[int(0.95 * (len(times_ms) - 1))],
        }


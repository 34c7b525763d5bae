"""A big CSV manifest against a concurrent writer, in a throwaway SQLite state.

The parent makes a temporary var dir and runs the measuring child there, so nothing touches
the developer's data. The child measures another user's small writes (one product update
every 50 ms, in its own process) three times: idle (the baseline), while an upload session
applies the manifest in chunks (what the app does), and optionally (``--single``) while it
writes it in one transaction (one chunk). It prints a table, the p95 ratio to the
baseline, and writes JSON.
"""

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

TARGET_P95_S = 1.0


def _writer(stop, out, interval: float) -> None:
    """Another user's writes: each is one short transaction; the latency includes waits."""
    from django.db import OperationalError, connections

    from catalog.models import Product

    connections.close_all()
    product = Product.objects.create(sku=f"WRITER-{os.getpid()}")
    latencies, failures, n = [], 0, 0
    while not stop.is_set():
        n += 1
        started = time.perf_counter()
        try:
            Product.objects.filter(pk=product.pk).update(title=f"write {n}")
            latencies.append(time.perf_counter() - started)
        except OperationalError:
            failures += 1
        time.sleep(interval)
    out.put({"latencies": latencies, "failures": failures})


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Command(BaseCommand):
    help = "Concurrent write latency while a big CSV manifest is applied (p95 target < 1 s)."
    requires_system_checks = []  # measures jobs; needs no URLconf or admin checks

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--single", action="store_true",
                            help="Also measure the whole manifest written in one transaction.")
        parser.add_argument("--json", dest="json_path", default="manifest_benchmark.json")
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, rows: int, single: bool, json_path: str, child: bool, **options):
        if child:
            self.stdout.write(json.dumps(self._measure(rows, single)))
            return
        tmp = Path(tempfile.mkdtemp(prefix="cutroom-manifestbench-"))
        env = {**os.environ, "CUTROOM_VAR_DIR": str(tmp / "var"),
               "DATABASE_URL": f"sqlite:///{tmp / 'var' / 'bench.sqlite3'}",
               "STORAGE_BACKEND": "local", "CELERY_BROKER_URL": "filesystem://",
               "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "false",
               "LOG_LEVEL": "WARNING"}
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=settings.BASE_DIR)
        done = subprocess.run(
            [*manage, "manifest_benchmark", "--child", "--rows", str(rows),
             *(["--single"] if single else [])],
            env=env, cwd=settings.BASE_DIR, check=True, stdout=subprocess.PIPE, text=True)
        report = json.loads(done.stdout.strip().splitlines()[-1])
        base = report["phases"][0]["p95_s"]
        self.stdout.write(f"{rows:,}-row manifest, a concurrent writer every 50 ms (SQLite)")
        self.stdout.write(f"{'phase':<34}{'writes':>8}{'failed':>8}{'p50 s':>9}{'p95 s':>9}"
                          f"{'max s':>9}{'p95 ratio':>11}{'manifest s':>12}")
        for phase in report["phases"]:
            phase["p95_ratio"] = round(phase["p95_s"] / base, 1) if base else None
            self.stdout.write(
                f"{phase['phase']:<34}{phase['writes']:>8}{phase['failures']:>8}"
                f"{phase['p50_s']:>9.3f}{phase['p95_s']:>9.3f}{phase['max_s']:>9.3f}"
                f"{phase['p95_ratio'] or 0:>11.1f}{phase.get('manifest_s') or 0:>12.1f}")
        chunked = report["phases"][1]
        verdict = "OK" if chunked["p95_s"] < TARGET_P95_S and not chunked["failures"] else \
            "OVER TARGET"
        self.stdout.write(f"chunked: writer p95 {chunked['p95_s']:.3f} s (target < "
                          f"{TARGET_P95_S} s: {verdict}); job message: {report['message']}")
        report.update(rows=rows, target_p95_s=TARGET_P95_S, verdict=verdict)
        Path(json_path).write_text(json.dumps(report, indent=2))
        self.stdout.write(f"wrote {json_path}")

    def _measure(self, rows: int, single: bool) -> dict:
        from django.core.files.base import ContentFile
        from django.db import connections

        from catalog.services import imports

        lines = ["sku,title,brand,category,filename"] + [
            f"MB{i:06d},Product {i},Brand {i % 50},Cat {i % 20},mb{i:06d}.jpg"
            for i in range(rows)]
        data = "\n".join(lines).encode()
        ctx = multiprocessing.get_context("fork")
        phases = []
        message = ""
        modes = [("idle (baseline)", None), ("manifest, chunked (the app)", "chunked")]
        if single:
            modes.append(("manifest, one chunk (all rows, 1 txn)", "single"))
        for label, mode in modes:
            connections.close_all()
            stop, out = ctx.Event(), ctx.Queue()
            proc = ctx.Process(target=_writer, args=(stop, out, 0.05))
            proc.start()
            time.sleep(0.5)
            seconds = None
            if mode is None:
                time.sleep(5)
            else:
                # A fresh SKU range per mode, so each phase creates every product.
                text = data.replace(b"MB", b"MC" if mode == "single" else b"MB")
                settings.CUTROOM_MANIFEST_CHUNK = rows if mode == "single" else \
                    settings.CUTROOM_MANIFEST_CHUNK
                started = time.perf_counter()
                try:
                    job = imports.import_job_create(
                        user=None, source_kind="upload", expected_files=1,
                        manifest_file=ContentFile(text, name="manifest.csv"))
                    message = message or job.message
                except Exception as exc:  # noqa: BLE001 - reported in the table
                    message = f"{type(exc).__name__}: {exc}"
                seconds = time.perf_counter() - started
            stop.set()
            result = out.get(timeout=120)
            proc.join(30)
            lat = result["latencies"]
            phases.append({"phase": label, "writes": len(lat), "failures": result["failures"],
                           "p50_s": round(_percentile(lat, 0.5), 4),
                           "p95_s": round(_percentile(lat, 0.95), 4),
                           "max_s": round(max(lat) if lat else float("nan"), 4),
                           "manifest_s": round(seconds, 2) if seconds else None})
        return {"phases": phases, "message": message}

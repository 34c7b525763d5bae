"""Import a generated ZIP through a real worker in a throwaway state, against two baselines.

The parent builds the ZIP and a temporary var dir (SQLite database, local media, file
broker), so nothing touches the developer's data. Three measured runs on the same ZIP, each
in its own process so each peak RSS is its own:

* copy: a bare loop copying every ZIP entry to storage in chunks (the I/O floor);
* bare loop (issue #18's target): every entry decoded by Pillow, EXIF-transposed and saved
  with ``images.encode_working`` (the working copy's own encoder) to a temp dir, one process;
* import: ``import_job_create`` → a real ``celery worker -P solo`` runs the task; its peak
  RSS is the kernel's high-water mark (VmHWM) of that one worker process, its CPU time the
  worker's user + system time from the job's start to its end.

Target: import throughput ≥ 0.5 × the bare loop's, in wall-clock and in CPU time.
"""

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from PIL import Image

TARGET_RSS_MB = 400
TARGET_RATIO = 0.5


def _peak_rss_mb_self() -> float:
    # ru_maxrss survives execve, so a child started from this (large) parent would report
    # the parent's size; the kernel's VmHWM belongs to the current image only.
    hwm = _vm_hwm_mb(os.getpid())
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def build_zip(path: Path, count: int, side: int, seed: int = 0) -> dict:
    """``count`` JPEGs of ``side``² px named {sku}_{position}.jpg, with some bad entries."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    base = np.stack([x / side * 255, y / side * 255, (x + y) / (2 * side) * 255], axis=-1)
    # Sensor-like grain, so the JPEGs are the size of real 4 MP photos (~1-2 MB), not the
    # ~100 kB a smooth gradient gives, and decoding costs what it costs on real shoots.
    grain = rng.normal(0, 9, size=(side, side, 3)).astype(np.float32)
    positions = ["MAIN", "PT01", "PT02"]
    bad = {"truncated": 0, "not_image": 0, "too_small": 0, "traversal": 0}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for i in range(count):
            name = f"BENCH-{i // 3:05d}_{positions[i % 3]}.jpg"
            if i % 50 == 49:
                zf.writestr(f"BENCH-{i // 3:05d}_{positions[i % 3]}.jpg",
                            b"this is not an image " * 100)
                bad["not_image"] += 1
                continue
            if i % 50 == 48:
                tiny = Image.new("RGB", (300, 200), (200, 30, 30))
                buffer = io.BytesIO()
                tiny.save(buffer, "JPEG")
                zf.writestr(name, buffer.getvalue())
                bad["too_small"] += 1
                continue
            tint = rng.uniform(0.6, 1.0, size=3).astype(np.float32)
            shift = tuple(int(v) for v in rng.integers(0, side, size=2))
            arr = np.clip(base * tint + np.roll(grain, shift, axis=(0, 1)), 0, 255).astype(
                np.uint8
            )
            x0, y0 = rng.integers(0, side // 2, size=2)
            arr[y0 : y0 + side // 4, x0 : x0 + side // 4] = rng.integers(0, 255, size=3)
            buffer = io.BytesIO()
            Image.fromarray(arr, "RGB").save(buffer, "JPEG", quality=88)
            data = buffer.getvalue()
            if i % 50 == 47:
                data = data[: len(data) // 2]
                bad["truncated"] += 1
            zf.writestr(name, data)
        zf.writestr("../escape.jpg", b"\xff\xd8\xff")
        bad["traversal"] += 1
    return bad


def _child_baseline(zip_path: str) -> dict:
    from django.core.files import File
    from django.core.files.storage import storages

    storage = storages["default"]
    started = time.perf_counter()
    copied = 0
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            if info.is_dir() or ".." in info.filename:
                continue
            with zf.open(info) as handle, tempfile.SpooledTemporaryFile(4 * 1024**2) as spool:
                while chunk := handle.read(1024 * 1024):
                    spool.write(chunk)
                spool.seek(0)
                storage.save(f"baseline/{copied:06d}.bin", File(spool, name="x.bin"))
            copied += 1
    return {"seconds": time.perf_counter() - started, "files": copied,
            "peak_rss_mb": _peak_rss_mb_self()}


def _child_bare(zip_path: str, out_dir: str) -> dict:
    """Issue #18's bare loop: decode, EXIF transpose, save as the working copy; nothing else."""
    from PIL import ImageOps

    from catalog.ingest import images

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    saved = failed = 0
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            if info.is_dir() or ".." in info.filename:
                continue
            try:
                with zf.open(info) as handle, Image.open(handle) as image:
                    image.load()
                    upright = ImageOps.exif_transpose(image)
                    if upright.mode not in ("RGB", "L"):
                        upright = upright.convert("RGB")
                    with open(out / f"{saved:06d}{images.WORKING_EXTENSION}", "wb") as target:
                        images.encode_working(upright, target)
                saved += 1
            except Exception:  # noqa: BLE001 - the ZIP's bad entries fail here as in the import
                failed += 1
    return {"seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu_started, "saved": saved,
            "failed": failed, "peak_rss_mb": _peak_rss_mb_self()}


def _child_import(zip_path: str, timeout: float, worker_pid: int | None) -> dict:
    from django.db import transaction
    from tqdm import tqdm

    from catalog.models import ImportJob
    from catalog.services import imports

    started = time.perf_counter()
    with transaction.atomic():
        job = imports.import_job_create(
            user=None, source_kind=ImportJob.Source.ZIP, source_path=zip_path,
            create_products=True,
        )
    bar = tqdm(total=0, unit="img", desc="import (worker)", file=sys.stderr)
    cpu_started = cpu_finished = None
    while True:
        job.refresh_from_db()
        if cpu_started is None and job.started_at is not None and worker_pid:
            # Sampled as soon as the task claims the job (polled fast until then), so the
            # worker's boot is not counted.
            cpu_started = _cpu_seconds(worker_pid)
        if job.progress_total and bar.total != job.progress_total:
            bar.total = job.progress_total
        bar.n = job.progress_done
        bar.refresh()
        if job.is_finished:
            cpu_finished = _cpu_seconds(worker_pid) if worker_pid else None
            break
        if time.perf_counter() - started > timeout:
            raise CommandError(f"Import not finished after {timeout:.0f} s: {job.status}")
        time.sleep(0.25 if cpu_started is not None else 0.02)
    bar.close()
    # Worker-side time: from the task claiming the job to the last file, without the wait
    # for the worker to boot.
    # the run that finished set both
    assert job.finished_at is not None and job.started_at is not None
    worker_seconds = (job.finished_at - job.started_at).total_seconds()
    return {
        "seconds": worker_seconds, "wall_seconds": time.perf_counter() - started,
        "cpu_seconds": (cpu_finished - cpu_started
                        if cpu_started is not None and cpu_finished is not None else None),
        "status": job.status,
        "imported": job.imported_count, "errors": job.error_count,
        "duplicates": job.duplicate_count, "message": job.message,
    }


class Command(BaseCommand):
    help = "Benchmark a ZIP import of N generated 4-megapixel JPEGs through a real worker."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int)
        parser.add_argument("--side", type=int, default=2048,
                            help="Image width and height (2048 → 4.2 MP).")
        parser.add_argument("--json", dest="json_path",
                            default=str(settings.VAR_DIR / "benchmarks" / "import_benchmark.json"))
        parser.add_argument("--timeout", type=float, default=3600)
        parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
        parser.add_argument("--child", choices=["baseline", "bare", "import"],
                            help=argparse.SUPPRESS)
        parser.add_argument("--zip", dest="zip_path", help=argparse.SUPPRESS)
        parser.add_argument("--out", dest="out_dir", help=argparse.SUPPRESS)
        parser.add_argument("--worker-pid", type=int, help=argparse.SUPPRESS)

    def handle(self, *args, count, side, json_path, timeout, keep, child, zip_path, out_dir,
               worker_pid, **options):
        if child == "baseline":
            self.stdout.write(json.dumps(_child_baseline(zip_path)))
            return
        if child == "bare":
            self.stdout.write(json.dumps(_child_bare(zip_path, out_dir)))
            return
        if child == "import":
            self.stdout.write(json.dumps(_child_import(zip_path, timeout, worker_pid)))
            return
        if count < 1:
            raise CommandError("count must be at least 1")
        tmp = Path(tempfile.mkdtemp(prefix="cutroom-importbench-"))
        try:
            report = self._run(tmp, count, side, timeout)
        finally:
            if not keep:
                shutil.rmtree(tmp, ignore_errors=True)
        out = Path(json_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
        self.stdout.write(f"wrote {out}")

    def _run(self, tmp: Path, count: int, side: int, timeout: float) -> dict:
        zip_path = tmp / "bench.zip"
        started = time.perf_counter()
        bad = build_zip(zip_path, count, side)
        self.stdout.write(
            f"built {zip_path.name}: {count} entries of {side}x{side} "
            f"({zip_path.stat().st_size / 1e6:.0f} MB, bad: {bad}) in "
            f"{time.perf_counter() - started:.1f} s; load average {os.getloadavg()[0]:.2f}"
        )
        env = {
            **os.environ, "CUTROOM_VAR_DIR": str(tmp / "var"),
            "DATABASE_URL": f"sqlite:///{tmp / 'var' / 'bench.sqlite3'}",
            "STORAGE_BACKEND": "local", "CELERY_BROKER_URL": "filesystem://",
            "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DEBUG": "false",
        }
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=settings.BASE_DIR)

        def child(kind: str, *extra: str) -> dict:
            done = subprocess.run(
                [*manage, "import_benchmark", str(count), "--child", kind, "--zip",
                 str(zip_path), "--timeout", str(timeout), *extra],
                env=env, cwd=settings.BASE_DIR, check=True, stdout=subprocess.PIPE, text=True,
            )
            return json.loads(done.stdout.strip().splitlines()[-1])

        baseline = child("baseline")
        bare = child("bare", "--out", str(tmp / "bare"))
        # 500 working copies are ~3 GB; the import writes its own next.
        shutil.rmtree(tmp / "bare", ignore_errors=True)
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "-P",
             "solo", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l",
             "warning"],
            env=env, cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL,
        )
        try:
            imported = child("import", "--worker-pid", str(worker.pid))
            imported["peak_rss_mb"] = _vm_hwm_mb(worker.pid)
        finally:
            worker.terminate()
            worker.wait(30)
        rows = []
        for label, run in (("baseline: copy entries to storage", baseline),
                           ("bare loop: decode+transpose+save", bare),
                           ("import via worker", imported)):
            cpu = run.get("cpu_seconds")
            rows.append({"run": label, "seconds": round(run["seconds"], 2),
                         "images_per_s": round(count / run["seconds"], 2),
                         "cpu_seconds": round(cpu, 2) if cpu is not None else None,
                         "peak_rss_mb": round(run["peak_rss_mb"] or 0, 1)})
        ratio = imported["seconds"] / baseline["seconds"]
        # Throughput ratios on the same images: import ÷ bare loop (target >= 0.5).
        wall_ratio = bare["seconds"] / imported["seconds"]
        cpu_ratio = (bare["cpu_seconds"] / imported["cpu_seconds"]
                     if imported.get("cpu_seconds") else None)
        self.stdout.write(f"{'run':<36}{'seconds':>10}{'images/s':>10}{'CPU s':>9}"
                          f"{'peak RSS MB':>13}")
        for row in rows:
            cpu_text = f"{row['cpu_seconds']:>9.2f}" if row["cpu_seconds"] is not None \
                else f"{'-':>9}"
            self.stdout.write(f"{row['run']:<36}{row['seconds']:>10.2f}"
                              f"{row['images_per_s']:>10.2f}{cpu_text}"
                              f"{row['peak_rss_mb']:>13.1f}")
        peak = imported["peak_rss_mb"] or 0
        verdict = "OK" if peak < TARGET_RSS_MB else "OVER TARGET"
        self.stdout.write(
            f"import/baseline time ratio: {ratio:.1f}x; worker peak RSS {peak:.0f} MB "
            f"(target < {TARGET_RSS_MB} MB: {verdict}); job {imported['status']}: "
            f"{imported['message']}"
        )

        def judged(value: float | None) -> str:
            if value is None:
                return "n/a"
            return f"{value:.2f} ({'OK' if value >= TARGET_RATIO else 'UNDER TARGET'})"

        load = [round(v, 2) for v in os.getloadavg()]
        self.stdout.write(
            f"import/bare loop throughput: wall {judged(wall_ratio)}, CPU {judged(cpu_ratio)} "
            f"(target >= {TARGET_RATIO}); load average {load[0]:.2f} {load[1]:.2f} "
            f"{load[2]:.2f}"
        )
        return {"count": count, "side": side, "bad_entries": bad, "rows": rows,
                "time_ratio": round(ratio, 2), "worker_peak_rss_mb": peak,
                "target_rss_mb": TARGET_RSS_MB,
                "throughput_ratio_wall": round(wall_ratio, 3),
                "throughput_ratio_cpu": round(cpu_ratio, 3) if cpu_ratio is not None else None,
                "target_ratio": TARGET_RATIO, "bare": bare, "load_average": load,
                "job": imported}

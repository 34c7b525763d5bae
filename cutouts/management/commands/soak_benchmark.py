"""Soak one real Celery worker with N generated catalogue photos and sample its RSS as it goes,
to show that memory stays flat after warm-up (target: growth < 50 MB over 1,000 cutouts)."""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cutouts.benchmarking import (
    print_table,
    seed_assets,
    start_cutout_worker,
    throwaway_env,
    write_json,
)

SIZE = (1632, 1224)  # 2.0 MP, as jobs_benchmark
GROWTH_TARGET_MB = 50.0
STALL_S = 300


def rss_mb(pid: int) -> float:
    """Resident set size of one process from /proc (Linux), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise CommandError(f"no VmRSS for process {pid}")


def child_pids(pid: int) -> list[int]:
    pids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        pids += [int(p) for p in text]
    return sorted(pids)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("n", type=int, nargs="?", default=1000)
        parser.add_argument("--profile", default="fast")
        parser.add_argument("--every", type=int, default=100, help="Sample RSS every N cutouts")
        parser.add_argument("--warmup", type=int, default=100,
                            help="Cutouts before the baseline sample growth is measured from")
        parser.add_argument("--width", type=int, default=SIZE[0])
        parser.add_argument("--height", type=int, default=SIZE[1])
        parser.add_argument("--json", dest="json_path", default="soak_benchmark.json")
        parser.add_argument("--child", choices=["prepare", "run"], help=argparse.SUPPRESS)
        parser.add_argument("--worker-pid", type=int, help=argparse.SUPPRESS)

    def handle(self, *args: str, n: int, profile: str, every: int, warmup: int, width: int,
               height: int, json_path: str, child: str | None, worker_pid: int | None,
               **options: object) -> None:
        if every < 1 or n < 1 or warmup < 0:
            raise CommandError("n and --every must be ≥ 1, --warmup ≥ 0")
        if child == "prepare":
            self.stdout.write(json.dumps(self._child_prepare(n=n, size=(width, height))))
            return
        if child == "run":
            if worker_pid is None:
                raise CommandError("--child run needs --worker-pid")
            self._child_run(profile=profile, every=every, worker_pid=worker_pid)
            return
        env = throwaway_env("soak")
        env["CUTROOM_ONNX_THREADS"] = "1"
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, check=True,
                       cwd=settings.BASE_DIR)
        self.stdout.write(f"Generating {n} images of {width}×{height} …")
        started = time.perf_counter()
        subprocess.run([sys.executable, "manage.py", "soak_benchmark", str(n), "--child",
                        "prepare", "--width", str(width), "--height", str(height)],
                       env=env, cwd=settings.BASE_DIR, check=True, capture_output=True)
        self.stdout.write(f"  … {time.perf_counter() - started:.0f} s")
        worker = start_cutout_worker(env, "soak")
        try:
            pool = child_pids(worker.pid)
            if len(pool) != 1:
                raise CommandError(f"expected one pool process under the worker, got {pool}")
            self.stdout.write(f"Worker {worker.pid}, pool process {pool[0]} (RSS sampled from "
                              f"the pool process, which runs the tasks) …")
            samples, result = self._follow(env, n=n, profile=profile, every=every,
                                           worker_pid=pool[0], main_pid=worker.pid)
        finally:
            worker.terminate()
            worker.wait(30)
        report = self._report(samples, result, n=n, warmup=warmup, every=every,
                              profile=profile, pool_pid=pool[0], main_pid=worker.pid)
        write_json(json_path, report)
        self.stdout.write(f"wrote {json_path}")
        if result["failed"]:
            raise CommandError(f"{result['failed']} cutouts failed")

    def _follow(self, env: dict[str, str], *, n: int, profile: str, every: int, worker_pid: int,
                main_pid: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "soak_benchmark", str(n), "--child", "run",
             "--profile", profile, "--every", str(every), "--worker-pid", str(worker_pid)],
            env=env, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, text=True)
        samples: list[dict[str, Any]] = []
        result: dict[str, Any] = {}
        self.stdout.write(f"{'cutouts':>8}  {'pool RSS MB':>12}  {'main RSS MB':>12}  "
                          f"{'elapsed s':>10}")
        assert proc.stdout is not None  # stdout=PIPE
        for line in proc.stdout:
            data = json.loads(line)
            if "sample" in data:
                sample = data["sample"]
                sample["main_rss_mb"] = rss_mb(main_pid)
                samples.append(sample)
                self.stdout.write(f"{sample['done']:>8}  {sample['rss_mb']:>12.1f}  "
                                  f"{sample['main_rss_mb']:>12.1f}  {sample['elapsed_s']:>10.0f}")
            else:
                result = data
        if proc.wait() != 0 or not result:
            raise CommandError("the soak run failed")
        return samples, result

    def _report(self, samples: list[dict[str, Any]], result: dict[str, Any], *, n: int,
                warmup: int, every: int, profile: str, pool_pid: int,
                main_pid: int) -> dict[str, Any]:
        after = [s for s in samples if s["done"] >= warmup]
        base = after[0] if after else samples[0]
        final = samples[-1]
        growth = final["rss_mb"] - base["rss_mb"]
        peak_growth = max(s["rss_mb"] for s in samples if s["done"] >= base["done"]) \
            - base["rss_mb"]
        rows = [
            {"what": f"pool process after warm-up ({base['done']})", "rss": base["rss_mb"]},
            {"what": f"pool process at the end ({final['done']})", "rss": final["rss_mb"]},
            {"what": "growth after warm-up (end − warm-up)", "rss": growth},
            {"what": "peak growth after warm-up", "rss": peak_growth},
            {"what": "main worker process growth", "rss": final["main_rss_mb"]
             - base["main_rss_mb"]},
        ]
        print_table(rows, [("what", "measure", ">42"), ("rss", "MB", ".1f")], out=self.stdout)
        # Every cutout must have run in the sampled process, or the samples prove nothing.
        same_process = result["worker_pids"] == [pool_pid]
        passed = growth < GROWTH_TARGET_MB and same_process
        self.stdout.write(
            f"{result['done']} cutouts at {result['images_per_s']:.2f} images/s; RSS growth "
            f"after warm-up {growth:+.1f} MB (target < {GROWTH_TARGET_MB:.0f} MB): "
            f"{'PASS' if passed else 'FAIL'}; cutouts ran in pid(s) {result['worker_pids']}.")
        return {"n": n, "profile": profile, "every": every, "warmup": warmup,
                "worker_main_pid": main_pid, "worker_pool_pid": pool_pid,
                "sampled_pid": pool_pid, "cutout_worker_pids": result["worker_pids"],
                "samples": samples, "warmup_rss_mb": base["rss_mb"],
                "final_rss_mb": final["rss_mb"], "growth_mb": growth,
                "peak_growth_mb": peak_growth, "target_growth_mb": GROWTH_TARGET_MB,
                "passed": passed, "done": result["done"], "failed": result["failed"],
                "images_per_s": result["images_per_s"]}

    # --- children (run inside the throwaway environment) ---------------------------------

    def _child_prepare(self, *, n: int, size: tuple[int, int]) -> dict[str, int]:
        return {"assets": seed_assets(n, size, "soak")}

    def _child_run(self, *, profile: str, every: int, worker_pid: int) -> None:
        from catalog.models import ImageAsset
        from cutouts.models import Cutout, JobStatus
        from cutouts.services.batches import cutout_batch_start

        started = time.perf_counter()
        batch = cutout_batch_start(assets=ImageAsset.objects.order_by("pk"),
                                   profile_name=profile, label="soak_benchmark")
        total = Cutout.objects.filter(batch=batch).count()
        next_sample = min(every, total)
        last_progress, last_finished = time.monotonic(), -1
        while True:
            finished = Cutout.objects.filter(batch=batch, status__in=[
                JobStatus.DONE, JobStatus.FAILED]).count()
            if finished != last_finished:
                last_progress, last_finished = time.monotonic(), finished
            elif time.monotonic() - last_progress > STALL_S:
                raise CommandError(f"no cutout finished for {STALL_S} s ({finished}/{total})")
            if finished >= next_sample:
                # RSS of the worker's pool process, read from /proc by pid: never this process.
                sample = {"done": finished, "rss_mb": rss_mb(worker_pid),
                          "elapsed_s": time.perf_counter() - started}
                sys.stdout.write(json.dumps({"sample": sample}) + "\n")
                sys.stdout.flush()
                next_sample = min(total, (finished // every + 1) * every)
                if finished >= total:
                    break
            time.sleep(0.05)
        rows = list(Cutout.objects.filter(batch=batch).values(
            "status", "started_at", "finished_at", "worker"))
        done = [r for r in rows if r["status"] == JobStatus.DONE]
        # A run sets both times on its way to done; the filters only narrow the type.
        starts = [r["started_at"] for r in done if r["started_at"] is not None]
        ends = [r["finished_at"] for r in done if r["finished_at"] is not None]
        busy = (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0
        pids = sorted({int(r["worker"].rpartition(":")[2]) for r in rows if r["worker"]})
        sys.stdout.write(json.dumps({
            "done": len(done), "failed": len(rows) - len(done), "worker_pids": pids,
            "images_per_s": len(done) / busy if busy else 0.0}) + "\n")

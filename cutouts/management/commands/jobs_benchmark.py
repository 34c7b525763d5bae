"""Push N generated 2-megapixel photos through real worker processes and compare the
throughput with the engine's own single-thread speed on the same images (one process alone,
and as many processes at once as there are workers), its CPU per image with the workers' (pool
and main process), and with the bare model (u2netp fp32 at its 320² input, one thread)
measured in the same run."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cutouts.benchmarking import (
    peak_rss_mb,
    print_table,
    process_cpu_s,
    seed_assets,
    start_cutout_worker,
    throwaway_env,
    write_json,
)

SIZE = (1632, 1224)  # 2.0 MP
BARE_MODEL = "u2netp"  # the floor of issue #18 is the fp32 model whatever the profile runs
# queue images/s ÷ (workers × bare model images/s) that each profile must reach (issue #18)
MODEL_RATIO_TARGETS = {"fast": 0.85, "default": 0.30}
PER_CORE_TARGET = 0.95  # queue images/s per worker ÷ the engine's images/s (issue #18)


def _child(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "manage.py", "jobs_benchmark", *args], env=env, cwd=settings.BASE_DIR,
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _children_at_once(env: dict[str, str], count: int, *args: str) -> list[dict[str, Any]]:
    """``count`` children with the same arguments, all running at the same time."""
    procs = [subprocess.Popen([sys.executable, "manage.py", "jobs_benchmark", *args], env=env,
                              cwd=settings.BASE_DIR, stdout=subprocess.PIPE, text=True)
             for _ in range(count)]
    outs = [proc.communicate()[0] for proc in procs]
    if any(proc.returncode for proc in procs):
        raise CommandError("an engine baseline process failed")
    return [json.loads(out.strip().splitlines()[-1]) for out in outs]


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("n", type=int, nargs="?", default=500)
        parser.add_argument("--profile", default="fast")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--baseline-images", type=int, default=30)
        parser.add_argument("--bare-repeats", type=int, default=30,
                            help="bare model calls timed (one process, one thread)")
        parser.add_argument("--broker", help="Broker URL (default: the embedded filesystem://)")
        parser.add_argument("--json", dest="json_path", default="jobs_benchmark.json")
        parser.add_argument("--child", choices=["prepare", "engine", "bare", "run"],
                            help=argparse.SUPPRESS)

    def handle(self, *args: str, n: int, profile: str, workers: int, baseline_images: int,
               bare_repeats: int, broker: str | None, json_path: str, child: str | None,
               **options: object) -> None:
        if child:
            result = getattr(self, f"_child_{child}")(n=n, profile=profile,
                                                      baseline_images=baseline_images,
                                                      bare_repeats=bare_repeats)
            self.stdout.write(json.dumps(result))
            return
        env = throwaway_env("jobs")
        env["CUTROOM_ONNX_THREADS"] = "1"
        if broker:
            env["CELERY_BROKER_URL"] = broker
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, check=True,
                       cwd=settings.BASE_DIR)
        self.stdout.write(f"Generating {n} images of {SIZE[0]}×{SIZE[1]} …")
        _child(env, str(n), "--child", "prepare")
        self.stdout.write("Engine baseline (one process, one thread) …")
        engine = _child(env, str(n), "--child", "engine", "--profile", profile,
                        "--baseline-images", str(baseline_images))
        # The queue runs a worker per core: the engine on every core at once shares the
        # caches and memory bandwidth the same way, which one process alone does not.
        self.stdout.write(f"Engine on {workers} processes at once …")
        parallel = _children_at_once(env, workers, str(n), "--child", "engine", "--profile",
                                     profile, "--baseline-images", str(baseline_images))
        self.stdout.write(f"Bare model ({BARE_MODEL} fp32 at its input size, one process, "
                          f"one thread, {bare_repeats} calls) …")
        bare = _child(env, str(n), "--child", "bare", "--bare-repeats", str(bare_repeats))
        procs = [start_cutout_worker(env, f"bench{i}") for i in range(workers)]
        try:
            self.stdout.write(f"Running the batch on {workers} worker processes …")
            cpu_before = [process_cpu_s(proc.pid) for proc in procs]
            run = _child(env, str(n), "--child", "run", "--profile", profile)
            cpu_after = [process_cpu_s(proc.pid) for proc in procs]
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
        if not run["images"]:  # nothing to time: every cutout failed
            raise CommandError(f"all {run['failed']} cutouts failed")
        engine_per_core = engine["images_per_s"]
        ratio = run["images_per_s"] / (workers * engine_per_core)
        parallel_ips = sum(p["images_per_s"] for p in parallel)
        ratio_parallel = run["images_per_s"] / parallel_ips
        queue_cpu = None
        pairs = [(a, b) for a, b in zip(cpu_after, cpu_before, strict=True)
                 if a is not None and b is not None]
        if len(pairs) == workers and run["images"]:
            # CPU holds up under load where wall-clock rates do not (a shared machine).
            main = sum(a["main"] - b["main"] for a, b in pairs)
            pool = sum(a["children"] - b["children"] for a, b in pairs)
            queue_cpu = {"main_s_per_image": main / run["images"],
                         "pool_s_per_image": pool / run["images"],
                         "s_per_image": (main + pool) / run["images"]}
            queue_cpu["ratio_vs_engine"] = engine["cpu_s_per_image"] / queue_cpu["s_per_image"]
        bare_ips = bare["images_per_s"]
        model_ratio = run["images_per_s"] / (workers * bare_ips)
        rows = [
            {"what": f"bare model, {BARE_MODEL} fp32 × 1 thread", "images": bare["repeats"],
             "ips": bare_ips, "p50": bare["wall_s"], "rss": bare["peak_rss_mb"],
             "model_ratio": 1.0},
            {"what": "engine, 1 process × 1 thread", "images": engine["images"],
             "ips": engine_per_core, "p50": engine["p50_s"], "p95": engine["p95_s"],
             "rss": engine["peak_rss_mb"], "ratio": 1.0,
             "model_ratio": engine_per_core / bare_ips},
            {"what": f"engine, {workers} processes at once × 1 thread",
             "images": sum(p["images"] for p in parallel), "ips": parallel_ips / workers,
             "p50": statistics.median(p["p50_s"] for p in parallel),
             "p95": max(p["p95_s"] for p in parallel),
             "rss": max(p["peak_rss_mb"] for p in parallel),
             "ratio": parallel_ips / (workers * engine_per_core),
             "model_ratio": parallel_ips / workers / bare_ips},
            {"what": f"queue, {workers} workers × 1 thread", "images": run["images"],
             "ips": run["images_per_s"], "p50": run["latency_p50_s"],
             "p95": run["latency_p95_s"], "rss": None,
             "ratio": ratio, "model_ratio": model_ratio},
        ]
        print_table(rows, [("what", "configuration", ">34"), ("images", "images", "d"),
                           ("ips", "images/s", ".2f"), ("p50", "p50 s", ".2f"),
                           ("p95", "p95 s", ".2f"), ("rss", "peak RSS MB", ".0f"),
                           ("ratio", "per-core ratio", ".2f"),
                           ("model_ratio", "vs bare model", ".2f")], out=self.stdout)
        self.stdout.write(
            f"Queue throughput per core = {ratio:.2f} × the engine's alone, "
            f"{ratio_parallel:.2f} × the engine's on {workers} processes at once (target ≥ "
            f"{PER_CORE_TARGET:.2f}). Queue p50/p95 are end-to-end (batch start → cutout "
            f"done); run time per image p50 {run['run_p50_s']:.2f} s.")
        if queue_cpu:
            self.stdout.write(
                f"CPU per image: engine {1000 * engine['cpu_s_per_image']:.0f} ms, queue "
                f"{1000 * queue_cpu['s_per_image']:.0f} ms (pool "
                f"{1000 * queue_cpu['pool_s_per_image']:.0f} + worker main process "
                f"{1000 * queue_cpu['main_s_per_image']:.0f}): engine ÷ queue = "
                f"{queue_cpu['ratio_vs_engine']:.2f}.")
        target = MODEL_RATIO_TARGETS.get(profile)
        verdict = (f" (target for {profile} ≥ {target:.2f}: "
                   f"{'PASS' if model_ratio >= target else 'MISSED'})" if target else "")
        self.stdout.write(
            f"Queue throughput = {model_ratio:.2f} × ({workers} workers × the bare {BARE_MODEL} "
            f"fp32 rate {bare_ips:.2f} images/s){verdict}; targets: "
            + ", ".join(f"{k} ≥ {v:.2f}" for k, v in MODEL_RATIO_TARGETS.items())
            + f". Load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}.")
        write_json(json_path, {"n": n, "profile": profile, "workers": workers,
                               "broker": broker or "filesystem://", "engine": engine,
                               "engine_parallel": parallel, "queue": run,
                               "ratio_per_core": ratio,
                               "ratio_per_core_parallel": ratio_parallel,
                               "ratio_per_core_target": PER_CORE_TARGET,
                               "queue_cpu": queue_cpu, "bare_model": bare,
                               "ratio_vs_bare_model": model_ratio,
                               "ratio_vs_bare_model_target": target,
                               "load_average": os.getloadavg()})
        self.stdout.write(f"wrote {json_path}")
        if run["failed"]:
            raise CommandError(f"{run['failed']} cutouts failed")

    # --- children (run inside the throwaway environment) ---------------------------------

    def _child_prepare(self, *, n: int, **_: object) -> dict[str, int]:
        return {"assets": seed_assets(n, SIZE, "bench")}

    def _child_bare(self, *, bare_repeats: int, **_: object) -> dict[str, float | str]:
        from cutouts import engine
        from cutouts.imaging.profile import bare_model_seconds

        segmenter, _spec = engine.segmenter_for(BARE_MODEL)  # CUTROOM_ONNX_THREADS=1, as workers
        return {**bare_model_seconds(segmenter, bare_repeats), "model": BARE_MODEL,
                "peak_rss_mb": peak_rss_mb()}

    def _child_engine(self, *, n: int, profile: str, baseline_images: int,
                      **_: object) -> dict[str, float]:
        from catalog.models import ImageAsset
        from cutouts import engine
        from cutouts.services.batches import cutout_settings_resolve
        from cutouts.services.runs import _load_working_copy

        settings_dict = cutout_settings_resolve(profile_name=profile)
        assets = list(ImageAsset.objects.order_by("pk")[:min(n, baseline_images)])
        engine.segmenter_for(settings_dict["model"])  # session creation is not per image
        times = []
        cpu_started = time.process_time()
        for asset in assets:
            started = time.perf_counter()
            output = engine.cutout_compute(rgb=_load_working_copy(asset),
                                           settings_dict=settings_dict)
            output.close()
            times.append(time.perf_counter() - started)
        total = sum(times)
        return {"images": len(times), "images_per_s": len(times) / total,
                "cpu_s_per_image": (time.process_time() - cpu_started) / len(times),
                "p50_s": statistics.median(times),
                "p95_s": sorted(times)[int(0.95 * (len(times) - 1))],
                "peak_rss_mb": peak_rss_mb()}

    def _child_run(self, *, profile: str, **_: object) -> dict[str, float]:
        from catalog.models import ImageAsset
        from cutouts.models import Cutout, CutoutBatch, JobStatus
        from cutouts.services.batches import cutout_batch_start

        started = time.perf_counter()
        batch = cutout_batch_start(assets=ImageAsset.objects.all(), profile_name=profile,
                                   label="jobs_benchmark")
        while CutoutBatch.objects.filter(pk=batch.pk, status__in=[
                JobStatus.QUEUED, JobStatus.RUNNING]).exists():
            time.sleep(0.25)
        wall = time.perf_counter() - started
        rows = list(Cutout.objects.filter(batch=batch).values(
            "pk", "status", "created_at", "started_at", "finished_at"))
        done = [_run_times(r["pk"], r["created_at"], r["started_at"], r["finished_at"])
                for r in rows if r["status"] == JobStatus.DONE]
        failed = len(rows) - len(done)
        if not done:
            return {"images": 0, "failed": failed, "wall_s": wall}
        latency = sorted((finished - created).total_seconds() for created, _, finished in done)
        run = sorted((finished - started).total_seconds() for _, started, finished in done)
        # Throughput over the span the workers were busy, not the polling tail.
        first = min(started for _, started, _ in done)
        last = max(finished for _, _, finished in done)
        busy = max((last - first).total_seconds(), 1e-6)
        return {"images": len(done), "failed": failed, "wall_s": wall,
                "images_per_s": len(done) / busy,
                "latency_p50_s": statistics.median(latency),
                "latency_p95_s": latency[int(0.95 * (len(latency) - 1))],
                "run_p50_s": statistics.median(run)}


def _run_times(pk: int, created: datetime, started: datetime | None,
               finished: datetime | None) -> tuple[datetime, datetime, datetime]:
    """A done cutout's (created, started, finished): a run sets both times on its way to done."""
    if started is None or finished is None:
        raise CommandError(f"cutout {pk} is done without its run times")
    return created, started, finished

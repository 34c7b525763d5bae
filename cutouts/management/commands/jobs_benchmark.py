"""Push N generated 2-megapixel photos through real worker processes and compare the
throughput with the engine's own single-process, single-thread speed on the same images, and
with the bare model (u2netp fp32 at its 320² input, one thread) measured in the same run."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cutouts.benchmarking import (
    peak_rss_mb,
    print_table,
    seed_assets,
    start_cutout_worker,
    throwaway_env,
    write_json,
)

SIZE = (1632, 1224)  # 2.0 MP
BARE_MODEL = "u2netp"  # the floor of issue #18 is the fp32 model whatever the profile runs
# queue images/s ÷ (workers × bare model images/s) that each profile must reach (issue #18)
MODEL_RATIO_TARGETS = {"fast": 0.85, "default": 0.30}


def _child(env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "manage.py", "jobs_benchmark", *args], env=env, cwd=settings.BASE_DIR,
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
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

    def handle(self, *args, n, profile, workers, baseline_images, bare_repeats, broker,
               json_path, child, **options):
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
        self.stdout.write(f"Bare model ({BARE_MODEL} fp32 at its input size, one process, "
                          f"one thread, {bare_repeats} calls) …")
        bare = _child(env, str(n), "--child", "bare", "--bare-repeats", str(bare_repeats))
        procs = [start_cutout_worker(env, f"bench{i}") for i in range(workers)]
        try:
            self.stdout.write(f"Running the batch on {workers} worker processes …")
            run = _child(env, str(n), "--child", "run", "--profile", profile)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
        engine_per_core = engine["images_per_s"]
        ratio = run["images_per_s"] / (workers * engine_per_core)
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
            f"Queue throughput per core = {ratio:.2f} × the engine's (target ≥ 0.90). "
            f"Queue p50/p95 are end-to-end (batch start → cutout done); run time per image "
            f"p50 {run['run_p50_s']:.2f} s.")
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
                               "queue": run, "ratio_per_core": ratio, "bare_model": bare,
                               "ratio_vs_bare_model": model_ratio,
                               "ratio_vs_bare_model_target": target,
                               "load_average": os.getloadavg()})
        self.stdout.write(f"wrote {json_path}")
        if run["failed"]:
            raise CommandError(f"{run['failed']} cutouts failed")

    # --- children (run inside the throwaway environment) ---------------------------------

    def _child_prepare(self, *, n: int, **_) -> dict:
        return {"assets": seed_assets(n, SIZE, "bench")}

    def _child_bare(self, *, bare_repeats: int, **_) -> dict:
        from cutouts import engine
        from cutouts.imaging.profile import bare_model_seconds

        segmenter, _spec = engine.segmenter_for(BARE_MODEL)  # CUTROOM_ONNX_THREADS=1, as workers
        return {**bare_model_seconds(segmenter, bare_repeats), "model": BARE_MODEL,
                "peak_rss_mb": peak_rss_mb()}

    def _child_engine(self, *, n: int, profile: str, baseline_images: int, **_) -> dict:
        from catalog.models import ImageAsset
        from cutouts import engine
        from cutouts.services.batches import cutout_settings_resolve
        from cutouts.services.runs import _load_working_copy

        settings_dict = cutout_settings_resolve(profile_name=profile)
        assets = list(ImageAsset.objects.order_by("pk")[:min(n, baseline_images)])
        engine.segmenter_for(settings_dict["model"])  # session creation is not per image
        times = []
        for asset in assets:
            started = time.perf_counter()
            output = engine.cutout_compute(rgb=_load_working_copy(asset),
                                           settings_dict=settings_dict)
            output.close()
            times.append(time.perf_counter() - started)
        total = sum(times)
        return {"images": len(times), "images_per_s": len(times) / total,
                "p50_s": statistics.median(times),
                "p95_s": sorted(times)[int(0.95 * (len(times) - 1))],
                "peak_rss_mb": peak_rss_mb()}

    def _child_run(self, *, profile: str, **_) -> dict:
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
            "status", "created_at", "started_at", "finished_at"))
        done = [r for r in rows if r["status"] == JobStatus.DONE]
        latency = sorted((r["finished_at"] - r["created_at"]).total_seconds() for r in done)
        run = sorted((r["finished_at"] - r["started_at"]).total_seconds() for r in done)
        # Throughput over the span the workers were busy, not the polling tail.
        first = min(r["started_at"] for r in done)
        last = max(r["finished_at"] for r in done)
        busy = max((last - first).total_seconds(), 1e-6)
        return {"images": len(done), "failed": len(rows) - len(done), "wall_s": wall,
                "images_per_s": len(done) / busy,
                "latency_p50_s": statistics.median(latency),
                "latency_p95_s": latency[int(0.95 * (len(latency) - 1))],
                "run_p50_s": statistics.median(run)}

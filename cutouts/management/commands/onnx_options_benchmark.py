"""Measure onnxruntime session options for u2netp at 320² in one run: graph optimisation
level, intra/inter-op threads, the memory arena, two images per call, and how to spend the
cores (one process with all threads vs one single-thread process per core)."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from cutouts.benchmarking import print_table, write_json
from cutouts.imaging.inference import resize_to
from cutouts.imaging.models import REGISTRY, embedded_u2netp_path
from cutouts.imaging.quantize import calibration_photo
from cutouts.imaging.session import preprocess


def _session(path: str, *, level: str = "ORT_ENABLE_ALL", intra: int = 1, inter: int = 1,
             parallel: bool = False, arena: bool = True):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    opts.intra_op_num_threads = intra
    opts.inter_op_num_threads = inter
    opts.execution_mode = (ort.ExecutionMode.ORT_PARALLEL if parallel
                           else ort.ExecutionMode.ORT_SEQUENTIAL)
    opts.enable_cpu_mem_arena = arena
    opts.log_severity_level = 3
    return ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])


def _batched_copy(path: str, folder: str) -> str:
    """The same graph with a free batch dimension (the shipped file fixes it to 1)."""
    import onnx

    model = onnx.load(path)
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    out = str(Path(folder) / "u2netp-batch.onnx")
    onnx.save(model, out)
    return out


def _time(sess, x, repeats: int) -> float:
    name = sess.get_inputs()[0].name
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        sess.run(None, {name: x})
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _tensor(seed: int):
    spec = REGISTRY["u2netp"]
    return preprocess(resize_to(calibration_photo(seed), spec.input_size), spec)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--repeats", type=int, default=15)
        parser.add_argument("--json", dest="json_path", default="onnx_options_benchmark.json")
        parser.add_argument("--child-loop", type=float, help=argparse_suppress())
        parser.add_argument("--threads", type=int, default=1, help=argparse_suppress())
        parser.add_argument("--start-at", type=float, default=0.0, help=argparse_suppress())

    def handle(self, *args, repeats, json_path, child_loop, threads, start_at, **options):
        path = str(embedded_u2netp_path())
        if child_loop:
            self.stdout.write(json.dumps(self._loop(path, child_loop, threads, start_at)))
            return
        import numpy as np

        x = _tensor(1)
        x2 = np.concatenate([x, _tensor(2)])
        load = os.getloadavg()
        with tempfile.TemporaryDirectory() as tmp:
            batched = _batched_copy(path, tmp)
            configs: list[tuple[str, str, dict[str, Any], Any, int]] = [
                ("baseline: ALL, intra 1, inter 1, arena on", path, {}, x, 1),
                ("optimisation DISABLE_ALL", path, {"level": "ORT_DISABLE_ALL"}, x, 1),
                ("optimisation BASIC", path, {"level": "ORT_ENABLE_BASIC"}, x, 1),
                ("optimisation EXTENDED", path, {"level": "ORT_ENABLE_EXTENDED"}, x, 1),
                ("arena off", path, {"arena": False}, x, 1),
                ("inter-op 2 (parallel mode)", path, {"inter": 2, "parallel": True}, x, 1),
                ("intra-op 2", path, {"intra": 2}, x, 1),
                ("batch 1, free batch dim", batched, {}, x, 1),
                ("batch 2 per call, intra 1", batched, {}, x2, 2),
                ("batch 2 per call, intra 2", batched, {"intra": 2}, x2, 2),
            ]
            sessions = [_session(model, **kw) for _, model, kw, _, _ in configs]
            times: list[list[float]] = [[] for _ in configs]
            # Round-robin, one call per configuration per round: on a shared machine the
            # load drifts, and interleaving gives every configuration the same drift.
            for round_ in range(repeats + 1):
                for i, (sess, (_, _, _, tensor, images)) in enumerate(
                        zip(sessions, configs, strict=True)):
                    seconds = _time(sess, tensor, 1) / images
                    if round_:  # the first round warms every session up
                        times[i].append(seconds)
            rows: list[dict[str, Any]] = [{"what": label, "ms": statistics.median(t) * 1000}
                    for (label, *_), t in zip(configs, times, strict=True)]
            del sessions
        base = rows[0]["ms"]
        for row in rows:
            row["ratio"] = base / row["ms"]
        # How to spend the cores: aggregate images/s of P processes × T threads, run together.
        cores = os.cpu_count() or 1
        layouts = [(1, cores), (cores, 1)] if cores > 1 else [(1, 1)]
        for procs, t in layouts:
            ips = self._concurrent(procs, t, seconds=max(6.0, repeats * 0.6))
            rows.append({"what": f"{procs} process(es) × {t} thread(s), together",
                         "ips": ips})
        single = 1000 / base
        for row in rows:
            if "ips" in row:
                row["ratio"] = row["ips"] / single
            else:
                row["ips"] = 1000 / row["ms"]
        print_table(rows, [("what", "u2netp fp32 at 320²", ">44"), ("ms", "ms / image", ".0f"),
                           ("ips", "images/s", ".2f"), ("ratio", "× baseline", ".2f")],
                    out=self.stdout)
        self.stdout.write(f"load average before the run: {load[0]:.2f} {load[1]:.2f} "
                          f"{load[2]:.2f} on {cores} cores")
        write_json(json_path, {"repeats": repeats, "cores": cores, "load_average": load,
                               "rows": rows})
        self.stdout.write(f"wrote {json_path}")

    def _concurrent(self, procs: int, threads: int, seconds: float) -> float:
        # Every process starts its timed loop at the same wall-clock moment, after Django.
        start_at = time.time() + 10
        children = [subprocess.Popen(
            [sys.executable, "manage.py", "onnx_options_benchmark", "--child-loop",
             str(seconds), "--threads", str(threads), "--start-at", str(start_at)],
            cwd=settings.BASE_DIR, stdout=subprocess.PIPE, text=True) for _ in range(procs)]
        results = [json.loads(c.communicate()[0].strip().splitlines()[-1]) for c in children]
        return sum(r["images"] / r["seconds"] for r in results)

    def _loop(self, path: str, seconds: float, threads: int, start_at: float) -> dict:
        sess = _session(path, intra=threads)
        x = _tensor(1)
        name = sess.get_inputs()[0].name
        sess.run(None, {name: x})
        time.sleep(max(0.0, start_at - time.time()))
        started, images = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            sess.run(None, {name: x})
            images += 1
        return {"images": images, "seconds": time.perf_counter() - started}


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS

"""Cutouts per hour for ONE worker core: the real embedded model, one onnxruntime thread.

    CUTROOM_ONNX_THREADS=1 DJANGO_SETTINGS_MODULE=config.settings.dev \
        .venv/bin/python deploy/bench/worker_core_throughput.py --images 6 --json out.json

Generates product-like 2 MP photos (1632 x 1224) in memory, runs
``cutouts.engine.cutout_compute`` (decode-free: RGB array in, three encoded PNGs out, exactly
what a worker does between reading the working copy and saving the outputs) with the ``fast``
and ``default`` quality profiles, in this one process. The first image of each profile is a
warm-up (session creation) and is not counted. Prints one line per profile and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ["CUTROOM_ONNX_THREADS"] = "1"
os.environ["CUTROOM_WORKER_CONCURRENCY"] = "1"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--width", type=int, default=1632)
    parser.add_argument("--height", type=int, default=1224)
    parser.add_argument("--profiles", default="fast,default")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import cv2
    import django
    import numpy as np

    cv2.setNumThreads(1)
    django.setup()
    from cutouts import engine
    from cutouts.services.batches import cutout_settings_resolve
    from tests.images import product_photo

    photos = [np.asarray(product_photo(args.width, args.height, seed=i))
              for i in range(args.images + 1)]
    results = {}
    for name in args.profiles.split(","):
        settings_dict = cutout_settings_resolve(profile_name=name)
        engine.cutout_compute(rgb=photos[0], settings_dict=settings_dict).close()  # warm-up
        seconds, cpu = [], []
        for rgb in photos[1:]:
            started, started_cpu = time.perf_counter(), time.process_time()
            engine.cutout_compute(rgb=rgb, settings_dict=settings_dict).close()
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        mean, mean_cpu = statistics.mean(seconds), statistics.mean(cpu)
        results[name] = {
            "images": len(seconds), "megapixels": round(args.width * args.height / 1e6, 2),
            "wall_mean_s": round(mean, 3), "wall_median_s": round(statistics.median(seconds), 3),
            "wall_max_s": round(max(seconds), 3), "cpu_mean_s": round(mean_cpu, 3),
            # On an otherwise idle core wall time ~= CPU time; on a busy machine the CPU time
            # is the honest per-core cost, the wall time what this run happened to see.
            "cutouts_per_hour_wall": int(3600 / mean),
            "cutouts_per_hour_cpu": int(3600 / mean_cpu),
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
        row = results[name]
        print(f"{name:8s} {row['images']} images of {row['megapixels']} MP: "
              f"wall mean {row['wall_mean_s']} s (median {row['wall_median_s']}, max "
              f"{row['wall_max_s']}), CPU {row['cpu_mean_s']} s/image -> "
              f"{row['cutouts_per_hour_cpu']} cutouts/hour per core by CPU time, "
              f"{row['cutouts_per_hour_wall']} by wall time (load {row['load_average_1m']})",
              flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

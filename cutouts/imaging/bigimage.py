"""Peak-memory check on a generated very large photo, in a fresh subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import cv2
import numpy as np


def synthetic_photo(megapixels: float, seed: int = 0) -> np.ndarray:
    """A product-like scene: light sweep, an object with a thin strap, a soft shadow."""
    w = int(round((megapixels * 1e6 * 1.5) ** 0.5))
    h = int(round(megapixels * 1e6 / w))
    rows = np.linspace(235, 250, h, dtype=np.float32)[:, None]
    img = np.empty((h, w, 3), np.uint8)
    img[:] = rows.astype(np.uint8)[..., None]
    cx, cy = w // 2, int(h * 0.55)
    cv2.ellipse(img, (cx, int(h * 0.83)), (w // 5, h // 30), 0, 0, 360, (190, 190, 190), -1)
    cv2.rectangle(img, (cx - w // 6, cy - h // 4), (cx + w // 6, int(h * 0.82)), (40, 60, 150), -1)
    cv2.ellipse(img, (cx, cy - h // 4), (w // 10, h // 6), 0, 180, 360, (20, 20, 20),
                max(3, w // 800))
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 4, size=(h, 1, 1), dtype=np.uint8)
    img += noise  # cheap row noise, no full-size temporaries
    return img


def _child(megapixels: float, profile_name: str, model_dir: str | None, threads: int | None):
    from .encode import png_bytes
    from .models import resolve_model
    from .pipeline import run_pipeline
    from .session import get_segmenter
    from .settings import profile

    rgb = synthetic_photo(megapixels)
    settings = profile(profile_name)
    seg = get_segmenter(resolve_model(settings.model, None, model_dir), threads=threads)
    t = time.perf_counter()
    res = run_pipeline(rgb, settings, seg)
    data = png_bytes(res.rgba, compress_level=1)
    seconds = time.perf_counter() - t
    with open("/proc/self/status") as fh:
        hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    print(json.dumps({
        "megapixels": rgb.shape[0] * rgb.shape[1] / 1e6, "shape": list(rgb.shape),
        "peak_rss_mb": hwm / 1024, "seconds": seconds, "png_mb": len(data) / 1e6,
        "profile": profile_name, "fill_ratio": res.signals["fill_ratio"],
    }))


def measure_big_image(megapixels: float = 50.0, profile_name: str = "default",
                      model_paths: dict | None = None, model_dir: str | None = None,
                      threads: int | None = None, timeout: float = 600) -> dict:
    """Run one cutout of a generated photo in a subprocess; return its peak RSS etc."""
    cmd = [sys.executable, "-m", "cutouts.imaging", "_bigcut", "--mp", str(megapixels),
           "--profile", profile_name]
    if model_dir:
        cmd += ["--model-dir", model_dir]
    if threads:
        cmd += ["--threads", str(threads)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
                    env.get("PYTHONPATH", "")] if p)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])

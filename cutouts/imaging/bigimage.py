"""Peak-memory check on a generated very large photo, in a fresh subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .settings import CutoutSettings, profile


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


ISNET_PREFIX = "isnet-"  # benchmark configuration names: isnet-fast, isnet-default


def config_settings(name: str) -> CutoutSettings:
    """A profile name, or ``isnet-<profile>`` for that profile with the IS-Net model (the
    names `cutout_benchmark` gives its configurations)."""
    if name.startswith(ISNET_PREFIX):
        return profile(name[len(ISNET_PREFIX):], model="isnet-imgly")
    return profile(name)


def _child(megapixels: float, profile_name: str, model_dir: str | None, threads: int | None,
           source: str | None = None) -> None:
    """One cutout in this (fresh) process: decode -> cut -> RGBA + mask PNGs written, as a
    worker stores them; prints timings per stage and the peak RSS as JSON."""
    import tempfile

    from .clock import StageClock
    from .encode import decode_image, png_bytes
    from .models import resolve_model
    from .pipeline import run_pipeline
    from .plain import plain_mask
    from .session import get_segmenter

    plain = profile_name == "plain"
    settings = config_settings("default" if plain else profile_name)
    seg = get_segmenter(resolve_model(settings.model, None, model_dir), threads=threads)
    seg.predict(np.zeros((seg.input_size, seg.input_size, 3), np.uint8))  # session warm-up
    clock = StageClock()  # one set of laps: decode, the pipeline's stages, encode
    rgb = decode_image(source) if source else synthetic_photo(megapixels)
    clock.lap("decode")
    if plain:
        alpha = plain_mask(rgb, seg)
        rgba = np.dstack([rgb, alpha])
        clock.lap("inference")
        timings = {"inference": clock.wall["inference"], "refinement": 0.0}
        fill = float(np.count_nonzero(alpha >= 128)) / alpha.size
    else:
        res = run_pipeline(rgb, settings, seg, clock)
        rgba, alpha, timings = res.rgba, res.alpha, res.timings
        fill = res.signals["fill_ratio"]
    clock.reset()
    with tempfile.TemporaryDirectory() as tmp:
        # what a worker stores (cutouts/engine.py): the RGBA cutout and its mask, PNG level 3
        data = png_bytes(rgba)
        Path(tmp, "cutout.png").write_bytes(data)
        Path(tmp, "mask.png").write_bytes(png_bytes(alpha))
    clock.lap("encode")
    seconds, encode = sum(clock.wall.values()), clock.wall["encode"]
    with open("/proc/self/status") as fh:
        hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    mp = rgb.shape[0] * rgb.shape[1] / 1e6
    print(json.dumps({
        "megapixels": mp, "shape": list(rgb.shape),
        "peak_rss_mb": hwm / 1024, "seconds": seconds, "png_mb": len(data) / 1e6,
        "decode": clock.wall["decode"], "inference": timings["inference"],
        "refinement": timings["refinement"], "encode": encode,
        "s_per_mp": {"total": seconds / mp, "refinement": timings["refinement"] / mp,
                     "encode": encode / mp},
        "profile": profile_name, "fill_ratio": fill,
    }))


def measure_speed(megapixels: float, configs: Sequence[str] = ("plain", "fast", "default"),
                  model_dir: str | None = None, threads: int | None = None,
                  timeout: float = 900) -> dict[str, dict[str, Any]]:
    """End to end (decode a JPEG -> cutout and mask PNGs written) for each configuration, each
    in a fresh process on the same generated photo; ratios against plain."""
    import tempfile

    from PIL import Image

    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "photo.jpg"
        Image.fromarray(synthetic_photo(megapixels)).save(src, quality=92)
        for name in configs:
            out[name] = measure_big_image(megapixels, name, model_dir=model_dir,
                                          threads=threads, timeout=timeout, source=str(src))
    if "plain" in out:
        for r in out.values():
            r["vs_plain"] = r["seconds"] / out["plain"]["seconds"]
    return out


def measure_big_image(megapixels: float = 50.0, profile_name: str = "default",
                      model_paths: dict[str, str] | None = None, model_dir: str | None = None,
                      threads: int | None = None, timeout: float = 600,
                      source: str | None = None) -> dict[str, Any]:
    """Run one cutout of a generated photo (or ``source``) in a subprocess; return its peak
    RSS and timings."""
    cmd = [sys.executable, "-m", "cutouts.imaging", "_bigcut", "--mp", str(megapixels),
           "--profile", profile_name]
    if source:
        cmd += ["--source", source]
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
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result

"""Quality/speed benchmark against the plain model, in one process on the same images.

Data folder layout: images/<stem>.<ext> and masks/<stem>.png (0 bg, 255 object, 128 ignore).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from . import metrics
from .encode import decode_image, png_bytes
from .models import ModelError, resolve_model
from .pipeline import run_pipeline
from .plain import plain_mask
from .session import get_segmenter
from .settings import CutoutSettings, profile

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}

# targets of issue 4 for `default` against `plain` in the same run
TARGETS = {
    "boundary_f": ("delta>=", 0.03), "max_f": ("delta>=", 0.02), "iou": ("delta>=", 0.0),
    "halo": ("ratio<=", 0.75), "deficit": ("ratio<=", 0.85), "time": ("ratio<=", 3.5),
}
FAST_TARGETS = {"time": ("ratio<=", 1.25), "halo": ("ratio<", 1.0), "boundary_f": ("delta>", 0.0)}


@dataclass
class Config:
    name: str
    settings: CutoutSettings | None  # None = plain baseline


def default_configs(model_paths: dict | None = None, model_dir: str | None = None,
                    include_isnet: bool = True) -> list[Config]:
    configs = [Config("plain", None), Config("fast", profile("fast")),
               Config("default", profile("default"))]
    if include_isnet:
        spec = resolve_model("isnet-imgly", model_paths, model_dir)
        if spec.path and Path(spec.path).is_file():
            configs.append(Config("isnet-fast", profile("fast", model="isnet-imgly")))
    return configs


def find_pairs(data_dir: str | Path) -> list[tuple[str, Path, Path]]:
    data_dir = Path(data_dir)
    pairs = []
    for img in sorted((data_dir / "images").iterdir()):
        if img.suffix.lower() not in IMAGE_EXTS:
            continue
        mask = data_dir / "masks" / f"{img.stem}.png"
        if mask.is_file():
            pairs.append((img.stem, img, mask))
    if not pairs:
        raise FileNotFoundError(f"no images/ + masks/ pairs under {data_dir}")
    return pairs


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not resettable


def _run_one(cfg: Config, seg, img_path, mask_path) -> tuple[dict, dict]:
    t0 = time.perf_counter()
    rgb = decode_image(img_path)
    t_dec = time.perf_counter() - t0
    gt = np.asarray(Image.open(mask_path).convert("L"))
    if cfg.settings is None:
        t1 = time.perf_counter()
        alpha = plain_mask(rgb, seg)
        t_inf, t_ref = time.perf_counter() - t1, 0.0
        t2 = time.perf_counter()
        png_bytes(np.dstack([rgb, alpha]))  # what a plain cutout writes: RGBA PNG
        t_enc = time.perf_counter() - t2
    else:
        res = run_pipeline(rgb, cfg.settings, seg)
        t_inf, t_ref = res.timings["inference"], res.timings["refinement"]
        t2 = time.perf_counter()
        png_bytes(res.rgba)
        t_enc = time.perf_counter() - t2
        alpha = res.alpha
    if alpha.shape != gt.shape:
        raise ValueError(f"{img_path.name}: mask {gt.shape} does not match image {alpha.shape}")
    times = {"decode": t_dec, "inference": t_inf, "refinement": t_ref, "encode": t_enc,
             "total": t_dec + t_inf + t_ref + t_enc}
    return metrics.evaluate(alpha, gt), times


def run_configs(configs: list[Config], pairs, model_paths, model_dir, threads,
                progress=None, stream=None) -> dict[str, dict]:
    """Run every configuration on every image, interleaved image by image, so that
    all configurations see the same machine load (the CPU may be shared)."""
    segs: dict[str, object] = {}
    for cfg in configs:
        model = "u2netp" if cfg.settings is None else cfg.settings.model
        spec = resolve_model(model, model_paths, model_dir)
        try:
            seg = get_segmenter(spec, threads=threads)
        except ModelError as exc:
            print(f"skipping {cfg.name}: {exc}", file=stream or sys.stdout)
            continue
        seg.predict(np.zeros((seg.input_size, seg.input_size, 3), np.uint8))  # warm-up
        segs[cfg.name] = (seg, getattr(seg, "version", model))
    rows = {name: [] for name in segs}
    times = {name: [] for name in segs}
    peak = dict.fromkeys(segs, 0.0)
    for stem, img_path, mask_path in pairs:
        for cfg in configs:
            if cfg.name not in segs:
                continue
            _reset_peak_rss()
            row, t = _run_one(cfg, segs[cfg.name][0], img_path, mask_path)
            peak[cfg.name] = max(peak[cfg.name], _peak_rss_mb())
            row["stem"] = stem
            rows[cfg.name].append(row)
            times[cfg.name].append(t)
            if progress:
                progress(cfg.name, stem)
    out = {}
    for cfg in configs:
        if cfg.name not in segs:
            continue
        summary = metrics.mean_metrics(rows[cfg.name])
        summary["time"] = statistics.median(t["total"] for t in times[cfg.name])
        for k in ("decode", "inference", "refinement", "encode"):
            summary[f"t_{k}"] = statistics.median(t[k] for t in times[cfg.name])
        summary["peak_rss_mb"] = peak[cfg.name]
        out[cfg.name] = {"name": cfg.name, "model": segs[cfg.name][1],
                         "settings": None if cfg.settings is None else cfg.settings.to_dict(),
                         "summary": summary, "images": rows[cfg.name]}
    return out


def _check(kind: str, value: float, base: float, limit: float) -> tuple[float, bool]:
    if kind.startswith("delta"):
        d = value - base
        return d, (d >= limit) if kind == "delta>=" else (d > limit)
    r = value / base if base else float("inf")
    return r, (r <= limit) if kind == "ratio<=" else (r < limit)


def target_report(results: dict[str, dict]) -> dict:
    if "plain" not in results:
        return {}
    base = results["plain"]["summary"]
    out = {}
    for name, targets in (("default", TARGETS), ("fast", FAST_TARGETS)):
        if name not in results:
            continue
        s = results[name]["summary"]
        out[name] = {k: dict(zip(("value", "vs_plain", "met"),
                                 (s[k], *_check(kind, s[k], base[k], lim)), strict=True),
                             target=f"{kind} {lim}")
                     for k, (kind, lim) in targets.items()}
    return out


COLS = ("iou", "mae", "max_f", "boundary_f", "halo", "deficit")


def format_table(results: dict[str, dict]) -> str:
    head = (f"{'config':<12}" + "".join(f"{c:>11}" for c in COLS)
            + f"{'s/img':>8}{'dec':>7}{'inf':>7}{'ref':>7}{'enc':>7}{'RSS MB':>8}")
    lines = [head, "-" * len(head)]
    base = results.get("plain", {}).get("summary")
    for name, r in results.items():
        s = r["summary"]
        lines.append(f"{name:<12}" + "".join(f"{s[c]:>11.4f}" for c in COLS)
                     + f"{s['time']:>8.3f}{s['t_decode']:>7.3f}{s['t_inference']:>7.3f}"
                     + f"{s['t_refinement']:>7.3f}{s['t_encode']:>7.3f}{s['peak_rss_mb']:>8.0f}")
        if base and name != "plain":
            cells = []
            for c in COLS:
                if c in ("halo", "deficit", "mae"):
                    cells.append(f"{s[c] / base[c]:>10.3f}x" if base[c] else f"{'-':>11}")
                else:
                    cells.append(f"{s[c] - base[c]:>+11.4f}")
            lines.append(f"{'  vs plain':<12}" + "".join(cells)
                         + f"{s['time'] / base['time']:>7.2f}x")
    return "\n".join(lines)


def run_benchmark(data_dir: str | Path, configs: list[Config] | None = None,
                  out_json: str | Path | None = None, limit: int | None = None,
                  model_paths: dict | None = None, model_dir: str | None = None,
                  threads: int | None = None, big_megapixels: float | None = None,
                  progress=None, stream=None) -> dict:
    stream = stream or sys.stdout
    pairs = find_pairs(data_dir)[: limit or None]
    configs = configs or default_configs(model_paths, model_dir)
    results = run_configs(configs, pairs, model_paths, model_dir, threads, progress, stream)
    report = {
        "data_dir": str(data_dir), "images": len(pairs), "threads": threads or os.cpu_count(),
        "configs": results, "targets": target_report(results),
    }
    if big_megapixels:
        from .bigimage import measure_big_image

        report["big_image"] = measure_big_image(big_megapixels, model_paths=model_paths,
                                                model_dir=model_dir, threads=threads)
    print(format_table(results), file=stream)
    for name, checks in report["targets"].items():
        parts = [f"{k}: {v['vs_plain']:+.4f} ({v['target']}) {'OK' if v['met'] else 'MISSED'}"
                 for k, v in checks.items()]
        print(f"targets {name}: " + "; ".join(parts), file=stream)
    if "big_image" in report:
        b = report["big_image"]
        print(f"big image {b['megapixels']:.1f} MP: peak RSS {b['peak_rss_mb']:.0f} MB, "
              f"{b['seconds']:.1f} s", file=stream)
    if out_json:
        Path(out_json).write_text(json.dumps(report, indent=2, default=float))
    return report

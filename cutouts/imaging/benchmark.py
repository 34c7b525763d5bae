"""Quality/speed benchmark against the plain model, in one process on the same images.

Data folder layout: images/<stem>.<ext> and masks/<stem>.png (0 bg, 255 object, 128 ignore);
for the soft-alpha set (``--soft``): images/<stem>.<ext>, alpha/<stem>.png (real soft alpha)
and optionally trimaps/<stem>.png. Every configuration is scored on the alpha of the PNG it
writes (decoded back), which is exactly what ``python -m cutouts.imaging cut`` stores.
"""

from __future__ import annotations

import io
import json
import os
import resource
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import cv2
import numpy as np
from PIL import Image

from . import metrics
from .clock import StageClock
from .encode import decode_image, png_bytes
from .models import ModelError, resolve_model
from .pipeline import run_pipeline
from .plain import plain_mask
from .riskfit import risk_report
from .session import Segmenter, get_segmenter
from .settings import CutoutSettings, profile

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}

# targets of issues 4 and 12 for `default` against `plain` in the same run
TARGETS = {
    "boundary_f": ("delta>=", 0.03), "max_f": ("delta>=", 0.02), "iou": ("delta>=", 0.0),
    "halo": ("ratio<=", 0.75), "deficit": ("ratio<=", 0.85), "time": ("ratio<=", 3.5),
    "spill_share": ("at most", 0.25),
}
FAST_TARGETS = {"time": ("ratio<=", 1.25), "halo": ("ratio<", 1.0), "boundary_f": ("delta>", 0.0)}
# issue 12, soft-alpha set
SOFT_TARGETS = {"sad": ("ratio<=", 0.75), "grad": ("ratio<=", 0.85), "soft_mae": ("at most", 0.215)}
RISK_TARGETS = {"auc": 0.85, "top20": 0.60}


@dataclass
class Config:
    name: str
    settings: CutoutSettings | None  # None = plain baseline


def default_configs(model_paths: dict[str, str] | None = None, model_dir: str | None = None,
                    include_isnet: bool = True) -> list[Config]:
    configs = [Config("plain", None), Config("fast", profile("fast")),
               Config("default", profile("default")), Config("soft", profile("soft"))]
    if include_isnet:
        spec = resolve_model("isnet-imgly", model_paths, model_dir)
        if spec.path and Path(spec.path).is_file():
            configs.append(Config("isnet-fast", profile("fast", model="isnet-imgly")))
            configs.append(Config("isnet-default", profile("default", model="isnet-imgly")))
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


def spill(pred: np.ndarray, gt: np.ndarray) -> float:
    """Predicted alpha over certain background more than 16 px from the object, divided by
    the object's area (shared/eval/README.md); nan without an object."""
    p = metrics._as_float(pred)
    obj, bg, _ = metrics.split_gt(gt)
    if not obj.any():
        return float("nan")
    d = cv2.distanceTransform((~obj).astype(np.uint8), cv2.DIST_L2, 5)
    return float(p[bg & (d > 16)].sum() / np.count_nonzero(obj))


SPILL_LIMIT = 0.05
# progress(config name, image stem) after each image
Progress = Callable[[str, str], object]


def _cut(cfg: Config, seg: Segmenter,
         img_path: Path) -> tuple[np.ndarray, dict[str, Any], dict[str, float]]:
    """(alpha of the written PNG, signals, times) for one image."""
    clock = StageClock()  # wall seconds per lap: decode, the pipeline's stages, encode
    rgb = decode_image(img_path)
    clock.lap("decode")
    signals: dict[str, Any] = {}
    if cfg.settings is None:
        alpha = plain_mask(rgb, seg)
        clock.lap("inference")
        t_inf, t_ref = clock.wall["inference"], 0.0
        clock.reset()
        data = png_bytes(np.dstack([rgb, alpha]))  # what a plain cutout writes: RGBA PNG
    else:
        res = run_pipeline(rgb, cfg.settings, seg, clock)
        t_inf, t_ref = res.timings["inference"], res.timings["refinement"]
        signals = res.signals
        clock.reset()
        data = png_bytes(res.rgba)  # the bytes `cut` and the workers store
    clock.lap("encode")
    t_dec, t_enc = clock.wall["decode"], clock.wall["encode"]
    alpha = np.asarray(Image.open(io.BytesIO(data)))[..., 3]
    times = {"decode": t_dec, "inference": t_inf, "refinement": t_ref, "encode": t_enc,
             "total": t_dec + t_inf + t_ref + t_enc}
    return alpha, signals, times


def _run_one(cfg: Config, seg: Segmenter, img_path: Path,
             mask_path: Path) -> tuple[dict[str, Any], dict[str, float]]:
    alpha, signals, times = _cut(cfg, seg, img_path)
    gt = np.asarray(Image.open(mask_path).convert("L"))
    if alpha.shape != gt.shape:
        raise ValueError(f"{img_path.name}: mask {gt.shape} does not match image {alpha.shape}")
    row: dict[str, Any] = metrics.evaluate(alpha, gt)
    row["spill"] = spill(alpha, gt)
    if signals:
        row["risk"] = signals.get("risk", 0.0)
        row["signals"] = signals
    return row, times


def _run_one_soft(cfg: Config, seg: Segmenter, img_path: Path, alpha_path: Path,
                  trimap_path: Path | None) -> tuple[dict[str, Any], dict[str, float]]:
    alpha, signals, times = _cut(cfg, seg, img_path)
    gt = np.asarray(Image.open(alpha_path).convert("L"))
    tri = np.asarray(Image.open(trimap_path).convert("L")) if trimap_path else None
    row: dict[str, Any] = metrics.evaluate_soft(alpha, gt, tri)
    if signals:
        # the risk is judged on both sets: a cue that ranks dev's bad cutouts better may rank
        # the soft set's (hair, fur, mesh) worse, and only both figures side by side show it
        row["risk"] = signals.get("risk", 0.0)
        row["signals"] = signals
    return row, times


def find_soft_triples(data_dir: str | Path) -> list[tuple[str, Path, Path, Path | None]]:
    data_dir = Path(data_dir)
    out: list[tuple[str, Path, Path, Path | None]] = []
    for img in sorted((data_dir / "images").iterdir()):
        if img.suffix.lower() not in IMAGE_EXTS:
            continue
        alpha = data_dir / "alpha" / f"{img.stem}.png"
        tri = data_dir / "trimaps" / f"{img.stem}.png"
        if alpha.is_file():
            out.append((img.stem, img, alpha, tri if tri.is_file() else None))
    if not out:
        raise FileNotFoundError(f"no images/ + alpha/ pairs under {data_dir}")
    return out


def trimap_set(data_dir: str | Path, *, stems: set[str] | None, limit: int | None
               ) -> tuple[list[tuple[str, Path, Path, Path | None]],
                          Callable[[str, np.ndarray], tuple[np.ndarray, np.ndarray]]]:
    """The images of a soft-alpha set that have a trimap (``stems`` only, the first
    ``limit``) and the loader of an image's truth (alpha, trimap; same size as the image, or
    refused); one reading for the detail and beside protocols (``clicks.binary_set`` is the
    binary sets')."""
    triples = [t for t in find_soft_triples(data_dir) if t[3] is not None]
    if not triples:
        raise FileNotFoundError(f"no images with trimaps under {data_dir}")
    if stems:
        triples = [t for t in triples if t[0] in stems]
    triples = triples[: limit or None]
    truth_paths = {stem: (alpha_path, tri_path) for stem, _, alpha_path, tri_path in triples}

    def load(stem: str, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        alpha_path, tri_path = truth_paths[stem]
        assert tri_path is not None
        gt = np.asarray(Image.open(alpha_path).convert("L"))
        trimap = np.asarray(Image.open(tri_path).convert("L"))
        if gt.shape != rgb.shape[:2] or trimap.shape != gt.shape:
            raise ValueError(f"{stem}: image {rgb.shape[:2]}, alpha {gt.shape} and trimap "
                             f"{trimap.shape} differ")
        return gt, trimap

    return triples, load


def run_configs(configs: list[Config], pairs: Sequence[tuple[Any, ...]],
                model_paths: dict[str, str] | None, model_dir: str | None, threads: int | None,
                progress: Progress | None = None, stream: TextIO | None = None,
                soft: bool = False) -> dict[str, dict[str, Any]]:
    """Run every configuration on every image, interleaved image by image, so that
    all configurations see the same machine load (the CPU may be shared)."""
    segs: dict[str, tuple[Segmenter, str]] = {}
    for cfg in configs:
        model = "u2netp" if cfg.settings is None else cfg.settings.model
        spec = resolve_model(model, model_paths, model_dir)
        try:
            seg = get_segmenter(spec, threads=threads)
        except ModelError as exc:
            _say(stream or sys.stdout, f"skipping {cfg.name}: {exc}")
            continue
        seg.predict(np.zeros((seg.input_size, seg.input_size, 3), np.uint8))  # warm-up
        segs[cfg.name] = (seg, getattr(seg, "version", model))
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in segs}
    times: dict[str, list[dict[str, float]]] = {name: [] for name in segs}
    peak = dict.fromkeys(segs, 0.0)
    for stem, img_path, *truth in pairs:
        for cfg in configs:
            if cfg.name not in segs:
                continue
            _reset_peak_rss()
            run: Callable[..., tuple[dict[str, Any], dict[str, float]]] = (
                _run_one_soft if soft else _run_one)
            row, t = run(cfg, segs[cfg.name][0], img_path, *truth)
            peak[cfg.name] = max(peak[cfg.name], _peak_rss_mb())
            row["stem"] = stem
            rows[cfg.name].append(row)
            times[cfg.name].append(t)
            if progress:
                progress(cfg.name, stem)
    out: dict[str, dict[str, Any]] = {}
    for cfg in configs:
        if cfg.name not in segs:
            continue
        summary = (metrics.mean_soft_metrics if soft else metrics.mean_metrics)(rows[cfg.name])
        if not soft:
            spills = [r["spill"] for r in rows[cfg.name] if not np.isnan(r["spill"])]
            summary["spill_share"] = (float(np.mean([v > SPILL_LIMIT for v in spills]))
                                      if spills else float("nan"))
        summary["time"] = statistics.median(t["total"] for t in times[cfg.name])
        for k in ("decode", "inference", "refinement", "encode"):
            summary[f"t_{k}"] = statistics.median(t[k] for t in times[cfg.name])
        summary["peak_rss_mb"] = peak[cfg.name]
        out[cfg.name] = {"name": cfg.name, "model": segs[cfg.name][1],
                         "settings": None if cfg.settings is None else cfg.settings.to_dict(),
                         "summary": summary, "images": rows[cfg.name]}
    return out


def _check(kind: str, value: float, base: float, limit: float) -> tuple[float, bool]:
    if kind == "at most":
        return value, value <= limit
    if kind.startswith("delta"):
        d = value - base
        return d, (d >= limit) if kind == "delta>=" else (d > limit)
    r = value / base if base else float("inf")
    return r, (r <= limit) if kind == "ratio<=" else (r < limit)


def target_report(results: dict[str, dict[str, Any]], soft: bool = False) -> dict[str, Any]:
    if "plain" not in results:
        return {}
    base = results["plain"]["summary"]
    out: dict[str, Any] = {}
    pairs = (("default", SOFT_TARGETS),) if soft else (("default", TARGETS),
                                                      ("fast", FAST_TARGETS))
    for name, targets in pairs:
        if name not in results:
            continue
        s = results[name]["summary"]
        out[name] = {k: dict(zip(("value", "vs_plain", "met"),
                                 (s[k], *_check(kind, s[k], base[k], lim)), strict=True),
                             target=f"{kind} {lim}")
                     for k, (kind, lim) in targets.items()}
    return out


COLS = ("iou", "mae", "max_f", "boundary_f", "halo", "deficit", "spill_share")
SOFT_COLS = ("sad", "mse", "grad", "soft_mae", "band_mae", "iou")
LOWER_IS_BETTER = {"halo", "deficit", "mae", "spill_share", "sad", "mse", "grad", "soft_mae",
                   "band_mae"}


def format_table(results: dict[str, dict[str, Any]], cols: Sequence[str] = COLS) -> str:
    head = (f"{'config':<12}" + "".join(f"{c:>12}" for c in cols)
            + f"{'s/img':>8}{'dec':>7}{'inf':>7}{'ref':>7}{'enc':>7}{'RSS MB':>8}")
    lines = [head, "-" * len(head)]
    base = results.get("plain", {}).get("summary")
    for name, r in results.items():
        s = r["summary"]
        lines.append(f"{name:<12}" + "".join(f"{s[c]:>12.4f}" for c in cols)
                     + f"{s['time']:>8.3f}{s['t_decode']:>7.3f}{s['t_inference']:>7.3f}"
                     + f"{s['t_refinement']:>7.3f}{s['t_encode']:>7.3f}{s['peak_rss_mb']:>8.0f}")
        if base and name != "plain":
            cells = []
            for c in cols:
                if c in LOWER_IS_BETTER:
                    cells.append(f"{s[c] / base[c]:>11.3f}x" if base[c] else f"{'-':>12}")
                else:
                    cells.append(f"{s[c] - base[c]:>+12.4f}")
            lines.append(f"{'  vs plain':<12}" + "".join(cells)
                         + f"{s['time'] / base['time']:>7.2f}x")
    return "\n".join(lines)


def risk_reports(results: dict[str, dict[str, Any]],
                 refit: bool = True) -> dict[str, dict[str, Any]]:
    """How well each engine configuration's ``risk`` ranks its bad cutouts (IoU < 0.80);
    ``refit``: also a cross-validated refit on these cutouts (``riskfit.risk_report``)."""
    out: dict[str, dict[str, Any]] = {}
    for name, r in results.items():
        rows = [row for row in r["images"] if "signals" in row]
        if len(rows) != len(r["images"]) or not rows:
            continue
        out[name] = risk_report([row["signals"] for row in rows], [row["iou"] for row in rows],
                                [row["risk"] for row in rows], refit=refit)
    return out


def run_benchmark(data_dir: str | Path, configs: list[Config] | None = None,
                  out_json: str | Path | None = None, limit: int | None = None,
                  model_paths: dict[str, str] | None = None, model_dir: str | None = None,
                  threads: int | None = None, big_megapixels: float | None = None,
                  progress: Progress | None = None, stream: TextIO | None = None,
                  soft_dir: str | Path | None = None) -> dict[str, Any]:
    stream = stream or sys.stdout
    pairs = find_pairs(data_dir)[: limit or None] if data_dir else []
    configs = configs or default_configs(model_paths, model_dir)
    results = (run_configs(configs, pairs, model_paths, model_dir, threads, progress, stream)
               if pairs else {})
    report: dict[str, Any] = {
        "data_dir": str(data_dir) if data_dir else None, "images": len(pairs),
        "threads": threads or os.cpu_count(), "configs": results,
        "targets": target_report(results), "risk": risk_reports(results),
    }
    if soft_dir:
        triples = find_soft_triples(soft_dir)[: limit or None]
        soft = run_configs(configs, triples, model_paths, model_dir, threads, progress, stream,
                           soft=True)
        report["soft"] = {"data_dir": str(soft_dir), "images": len(triples), "configs": soft,
                          "targets": target_report(soft, soft=True),
                          "risk": risk_reports(soft, refit=False)}
    if big_megapixels:
        from .bigimage import measure_big_image

        report["big_image"] = measure_big_image(big_megapixels, model_paths=model_paths,
                                                model_dir=model_dir, threads=threads)
    if results:
        _say(stream, format_table(results))
        _print_targets(report["targets"], stream)
    _print_risk(report["risk"], stream)
    if "soft" in report:
        _say(stream, f"soft-alpha set {report['soft']['data_dir']} "
              f"({report['soft']['images']} images):")
        _say(stream, format_table(report["soft"]["configs"], SOFT_COLS))
        _print_targets(report["soft"]["targets"], stream, prefix="soft targets")
        _print_risk(report["soft"]["risk"], stream, prefix="soft risk")
    if "big_image" in report:
        b = report["big_image"]
        _say(stream, f"big image {b['megapixels']:.1f} MP: peak RSS {b['peak_rss_mb']:.0f} MB, "
              f"{b['seconds']:.1f} s")
    if out_json:
        Path(out_json).write_text(json.dumps(report, indent=2, default=float))
    return report


def _say(stream: TextIO, text: str) -> None:
    # one write per line: Django's OutputWrapper would add a blank line after print()'s "\n"
    stream.write(text + "\n")


def _print_risk(reports: dict[str, dict[str, Any]], stream: TextIO, prefix: str = "risk") -> None:
    for name, r in reports.items():
        top_bad = r["bad"] / r["images"] if r["images"] else 0.0
        line = f"{prefix} {name}: {r['bad']}/{r['images']} cutouts with IoU < .80"
        if r["bad"]:  # with none, there is nothing to rank
            line += (f"; shipped risk AUC {r['shipped_auc']:.3f}, riskiest 20% hold "
                     f"{r['shipped_top20']:.0%} (at most {r['best_top20']:.0%} possible), "
                     f"riskiest {top_bad:.0%} hold {r['shipped_top_bad']:.0%}")
        if "cv_auc" in r:
            line += (f"; 5-fold cross-validated refit AUC {r['cv_fold_auc']:.3f} per fold, "
                     f"{r['cv_auc']:.3f} pooled, riskiest 20% hold {r['cv_top20']:.0%}, "
                     f"riskiest {top_bad:.0%} hold {r['cv_top_bad']:.0%} "
                     f"(targets AUC >= {RISK_TARGETS['auc']}, >= {RISK_TARGETS['top20']:.0%})")
        _say(stream, line)


def _print_targets(targets: dict[str, Any], stream: TextIO, prefix: str = "targets") -> None:
    for name, checks in targets.items():
        parts = []
        for k, v in checks.items():
            shown = (f"{v['vs_plain']:.4f}" if v["target"].startswith("at most")
                     else f"{v['vs_plain']:+.4f}")
            parts.append(f"{k}: {shown} ({v['target']}) {'OK' if v['met'] else 'MISSED'}")
        _say(stream, f"{prefix} {name}: " + "; ".join(parts))

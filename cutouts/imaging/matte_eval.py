"""The `matte` command: detail-brush matting over a folder of photos + trimaps, scored if asked."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from . import matting, metrics
from .benchmark import IMAGE_EXTS
from .encode import decode_image

BASELINES = ("pymatting",)
# (rgb uint8, trimap uint8) -> alpha float32 in [0, 1]
Solver = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _gray(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ValueError(f"cannot read {path}")
    return img


def find_triples(images_dir: str | Path, trimaps_dir: str | Path,
                 alpha_dir: str | Path | None = None) -> list[tuple[Path, Path, Path | None]]:
    """(image, trimap, ground truth or None) paired by file stem; images without a trimap are
    an error, not silently dropped."""
    images = sorted(p for p in Path(images_dir).iterdir() if p.suffix.lower() in IMAGE_EXTS)
    if not images:
        raise ValueError(f"no images in {images_dir}")
    out = []
    for img in images:
        tri = _by_stem(Path(trimaps_dir), img.stem)
        if tri is None:
            raise ValueError(f"no trimap for {img.name} in {trimaps_dir}")
        gt = None
        if alpha_dir is not None:
            gt = _by_stem(Path(alpha_dir), img.stem)
            if gt is None:
                raise ValueError(f"no ground-truth alpha for {img.name} in {alpha_dir}")
        out.append((img, tri, gt))
    return out


def _by_stem(folder: Path, stem: str) -> Path | None:
    for p in sorted(folder.glob(f"{stem}.*")):
        if p.suffix.lower() in IMAGE_EXTS:
            return p
    return None


def _pymatting_solver() -> tuple[Solver, float]:
    """pymatting's closed-form matting, imported on demand (its numba compile is the cold start)."""
    t = time.perf_counter()
    import pymatting

    import_s = time.perf_counter() - t

    def solve(rgb: np.ndarray, trimap: np.ndarray) -> np.ndarray:
        a = pymatting.estimate_alpha_cf(rgb.astype(np.float64) / 255.0,
                                        trimap.astype(np.float64) / 255.0)
        alpha: np.ndarray = np.clip(a, 0, 1).astype(np.float32)
        return alpha
    return solve, import_s


def run_matte(images_dir: str | Path, trimaps_dir: str | Path, out_dir: str | Path, *,
              alpha_dir: str | Path | None = None, json_path: str | Path | None = None,
              write_rgba: bool = False, baseline: str | None = None,
              echo: Callable[[str], object] = print) -> dict[str, Any]:
    """Matte every photo with its trimap as the brush; write <stem>.png alphas (and RGBA cutouts
    with estimated foreground colours if asked); score against ground truth when given."""
    triples = find_triples(images_dir, trimaps_dir, alpha_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    solvers: dict[str, Solver] = {"cutroom": matting.solve_alpha}
    cold: dict[str, float] = {}
    if baseline:
        if baseline not in BASELINES:
            raise ValueError(f"unknown baseline {baseline!r}; choose from {', '.join(BASELINES)}")
        solvers[baseline], cold[baseline] = _pymatting_solver()
    rows: list[dict[str, Any]] = []
    for img_path, tri_path, gt_path in triples:
        rgb = decode_image(img_path)
        trimap = _gray(tri_path)
        if trimap.shape != rgb.shape[:2]:
            raise ValueError(f"{tri_path.name}: trimap {trimap.shape} vs image {rgb.shape[:2]}")
        gt = _gray(gt_path) if gt_path is not None else None
        band_mp = np.count_nonzero((trimap > 0) & (trimap < 255)) / 1e6
        row: dict[str, Any] = {"image": img_path.stem, "band_mp": band_mp}
        for name, solve in solvers.items():
            t, c = time.perf_counter(), time.process_time()
            alpha = solve(rgb, trimap)
            row[f"{name}_s"] = time.perf_counter() - t
            # CPU seconds too: on a shared machine the wall clock mostly measures the others
            row[f"{name}_cpu_s"] = time.process_time() - c
            if name == "cutroom":
                a8 = np.round(alpha * 255).astype(np.uint8)
                cv2.imwrite(str(out / f"{img_path.stem}.png"), a8)
                if write_rgba:
                    fg = matting.estimate_foreground(rgb, alpha)
                    rgba = np.dstack([fg, a8])
                    cv2.imwrite(str(out / f"{img_path.stem}.rgba.png"),
                                cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
            if gt is not None:
                for k, v in metrics.evaluate_soft(alpha, gt, trimap).items():
                    row[f"{name}_{k}"] = v
        rows.append(row)
        echo(_row_line(row, solvers))
    summary = _summary(rows, solvers, gt_available=alpha_dir is not None)
    summary["cold_import_s"] = cold
    for line in _summary_lines(summary, solvers, alpha_dir is not None):
        echo(line)
    result = {"rows": rows, "summary": summary}
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(result, indent=2))
    return result


METRIC_COLS = ("sad", "mse", "grad", "soft_mae", "band_mae")


def _row_line(row: dict[str, Any], solvers: Collection[str]) -> str:
    parts = [f"{row['image']:<12} band {row['band_mp']:.3f} MP"]
    for name in solvers:
        s = f"  {name}: {row[f'{name}_s']:.2f} s"
        if f"{name}_sad" in row:
            s += " " + " ".join(f"{k} {row[f'{name}_{k}']:.3f}" for k in METRIC_COLS)
        parts.append(s)
    return "".join(parts)


def _summary(rows: list[dict[str, Any]], solvers: Collection[str], *,
             gt_available: bool) -> dict[str, Any]:
    band = sum(r["band_mp"] for r in rows)
    out: dict[str, Any] = {"images": len(rows), "band_mp": band}
    for name in solvers:
        secs = sum(r[f"{name}_s"] for r in rows)
        cpu = sum(r[f"{name}_cpu_s"] for r in rows)
        out[name] = {"seconds": secs, "s_per_band_mp": secs / band if band else float("nan"),
                     "cpu_s_per_band_mp": cpu / band if band else float("nan")}
        if gt_available:
            for k in (*METRIC_COLS, "iou"):
                vals = np.array([r[f"{name}_{k}"] for r in rows], np.float64)
                out[name][k] = float(np.nanmean(vals))
    return out


def _summary_lines(summary: dict[str, Any], solvers: Collection[str],
                   gt_available: bool) -> list[str]:
    cols = ("s_per_band_mp", "cpu_s_per_band_mp",
            *(METRIC_COLS + ("iou",) if gt_available else ()))
    lines = [f"{'mean':<12} " + " ".join(f"{c:>17}" for c in cols)]
    for name in solvers:
        lines.append(f"{name:<12} " + " ".join(f"{summary[name][c]:>17.3f}" for c in cols))
    if len(solvers) > 1:
        base = [n for n in solvers if n != "cutroom"][0]
        ours, theirs = summary["cutroom"], summary[base]
        ratio = " ".join(
            f"{ours[c] / theirs[c] if theirs[c] else float('nan'):>17.2f}" for c in cols)
        lines.append(f"{'ratio':<12} {ratio}")
        cold = summary["cold_import_s"][base]
        lines.append(f"{base} import (numba compile when its cache is cold): {cold:.1f} s")
    return lines

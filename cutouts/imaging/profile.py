"""Per-stage CPU of one cutout around the model: ``python -m cutouts.imaging profile``.

Each stage of what a worker does with a photo (decode the working copy, resize to the model
input, the model, every refinement step, encode the cutout and mask PNGs) is charged its CPU
seconds (``time.process_time``) by a :class:`~.clock.StageClock`; the bare model (one
``session.run`` on a ready tensor) is timed in the same process as the floor. Photos are
generated (``bigimage.synthetic_photo``) and held as the lossless PNG a working copy is.
The Django side (storage write, database writes) is ``manage.py cutout_profile``.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

import numpy as np
from PIL import Image

from catalog.ingest.png import encode_working

from .bigimage import synthetic_photo
from .clock import StageClock
from .encode import decode_working_copy, png_spooled
from .pipeline import run_pipeline
from .session import OnnxSegmenter, Segmenter, preprocess
from .settings import CutoutSettings

#: stages that are the model itself; everything else is the pipeline around it
MODEL_STAGES = ("inference",)


def working_copy_png(megapixels: float, seed: int = 0) -> bytes:
    """A generated photo of this size, encoded as a lossless PNG working copy."""
    buf = io.BytesIO()
    encode_working(Image.fromarray(synthetic_photo(megapixels, seed)), buf)
    return buf.getvalue()


def profile_cutout(data: bytes, settings: CutoutSettings, segmenter: Segmenter,
                   clock: StageClock | None = None) -> StageClock:
    """One cutout of the PNG ``data``, every stage timed into ``clock`` (returned)."""
    clock = clock or StageClock()
    clock.reset()
    rgb = decode_working_copy(io.BytesIO(data))
    clock.lap("decode")
    result = run_pipeline(rgb, settings, segmenter, clock)
    clock.reset()
    files = [png_spooled(result.rgba, owned=True)]
    clock.lap("encode_cutout")
    files.append(png_spooled(result.alpha))
    clock.lap("encode_mask")
    if result.shadow is not None:
        files.append(png_spooled(result.shadow))
        clock.lap("encode_shadow")
    for fh in files:
        fh.close()
    return clock


def bare_model_seconds(segmenter: OnnxSegmenter, repeats: int) -> dict[str, float]:
    """Seconds per bare model call (one ``session.run`` on a ready tensor, the session reused):
    median CPU and wall, and ``images_per_s`` = calls ÷ their total wall time."""
    s = segmenter.input_size
    tensor = preprocess(np.full((s, s, 3), 128, np.uint8), segmenter.spec)
    segmenter.predict_raw(tensor)  # first call allocates the arena
    cpu, wall = [], []
    for _ in range(max(1, repeats)):
        c, w = time.process_time(), time.perf_counter()
        segmenter.predict_raw(tensor)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return {"cpu_s": statistics.median(cpu), "wall_s": statistics.median(wall),
            "repeats": len(wall), "images_per_s": len(wall) / sum(wall)}


def profile_sizes(megapixels: Sequence[float], settings: CutoutSettings, segmenter: Segmenter,
                  repeats: int = 3,
                  progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Median CPU ms per stage at each size over ``repeats`` photos (seeds 0..repeats-1)."""
    s = segmenter.input_size
    segmenter.predict(np.zeros((s, s, 3), np.uint8))  # session warm-up, not charged
    report: dict[str, Any] = {}
    for mp in megapixels:
        if progress:
            progress(mp)
        runs = []
        for seed in range(max(1, repeats)):
            data = working_copy_png(mp, seed)
            runs.append(profile_cutout(data, settings, segmenter))
        stages = list(runs[0].cpu)
        h, w = synthetic_photo_shape(mp)
        real_mp = h * w / 1e6
        cpu_ms = {k: 1000 * statistics.median(r.cpu.get(k, 0.0) for r in runs) for k in stages}
        wall_ms = {k: 1000 * statistics.median(r.wall.get(k, 0.0) for r in runs)
                   for k in stages}
        total = sum(cpu_ms.values())
        model = sum(cpu_ms.get(k, 0.0) for k in MODEL_STAGES)
        report[f"{mp:g}"] = {
            "megapixels": real_mp, "repeats": len(runs), "cpu_ms": cpu_ms, "wall_ms": wall_ms,
            "cpu_ms_per_mp": {k: v / real_mp for k, v in cpu_ms.items()},
            "total_cpu_ms": total, "model_cpu_ms": model, "around_model_cpu_ms": total - model,
        }
    return report


def synthetic_photo_shape(megapixels: float) -> tuple[int, int]:
    """(h, w) of ``synthetic_photo(megapixels)`` without making it."""
    w = int(round((megapixels * 1e6 * 1.5) ** 0.5))
    return int(round(megapixels * 1e6 / w)), w


def print_report(report: dict[str, Any], bare: dict[str, float] | None = None,
                 out: IO[str] | None = None) -> None:
    """One row per stage: CPU ms and ms/MP at each size; totals and the bare model below."""
    out = out or sys.stdout
    sizes = list(report)
    stages: list[str] = []
    for r in report.values():
        stages += [k for k in r["cpu_ms"] if k not in stages]
    labels = [format(report[m]["megapixels"], ".1f") + " MP ms" for m in sizes]
    head = f"{'stage':<15}" + "".join(f"{label:>13}{'ms/MP':>8}" for label in labels)
    out.write(head + "\n")

    def row(name: str, values: list[float]) -> None:
        cells = "".join(
            f"{v:>13.1f}{v / report[m]['megapixels']:>8.1f}" for v, m in zip(values, sizes,
                                                                               strict=True))
        out.write(f"{name:<15}{cells}\n")

    for stage in stages:
        row(stage, [report[m]["cpu_ms"].get(stage, 0.0) for m in sizes])
    row("= total", [report[m]["total_cpu_ms"] for m in sizes])
    row("= around model", [report[m]["around_model_cpu_ms"] for m in sizes])
    if bare:
        out.write(f"bare model (one session.run at the model input): "
                  f"{1000 * bare['cpu_s']:.1f} ms CPU, {1000 * bare['wall_s']:.1f} ms wall; "
                  + ", ".join(f"{m} MP: around model = "
                              f"{report[m]['around_model_cpu_ms'] / (1000 * bare['cpu_s']):.2f}"
                              f" × the bare model" for m in sizes) + "\n")

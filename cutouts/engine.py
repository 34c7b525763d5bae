"""The Django side of the imaging engine: settings → model spec → per-process session →
pure pipeline → encoded files. ``cutouts.imaging`` itself never sees Django."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import IO

import cv2
import numpy as np
from django.conf import settings
from PIL import Image

from .imaging.clock import NO_CLOCK, StageClock, running
from .imaging.encode import downsized, png_spooled
from .imaging.models import ModelSpec, check_model_file, resolve_model
from .imaging.progress import SAVING, OnProgress, no_progress, span
from .imaging.session import default_threads, get_segmenter
from .imaging.settings import CutoutSettings
from .variants.compliance import export_signals


def model_spec(name: str | None = None) -> ModelSpec:
    return resolve_model(
        name or settings.CUTROOM_MODEL,
        paths=settings.CUTROOM_MODEL_PATHS,
        model_dir=settings.CUTROOM_MODEL_DIR,
    )


def model_check(name: str | None = None) -> ModelSpec:
    """Raise ModelError unless the model's file exists and matches its spec (loaded once per
    file and process, see ``check_model_file``)."""
    spec = model_spec(name)
    check_model_file(spec)
    return spec


def worker_concurrency() -> int:
    return max(1, int(os.environ.get("CUTROOM_WORKER_CONCURRENCY") or 1))


def segmenter_for(name: str):
    """The process-wide onnxruntime session for ``name``, created on first use."""
    spec = model_check(name)
    threads = settings.CUTROOM_ONNX_THREADS or default_threads(worker_concurrency())
    # OpenCV sizes its own pool to every core; with one worker process per core that
    # oversubscribes the CPU, so refinement gets the same share as inference.
    cv2.setNumThreads(threads)
    return get_segmenter(spec, threads=threads), spec


@dataclass
class EngineOutput:
    rgba: IO[bytes]
    mask: IO[bytes]
    shadow: IO[bytes] | None
    width: int
    height: int
    bbox: list[int] | None
    signals: dict
    timings: dict = field(default_factory=dict)
    model_name: str = ""
    model_version: str = ""
    #: the cutout at screen size, made from the array still in memory (see ``screen_copy``)
    preview: Image.Image | None = None
    #: the photo and the cutout reduced as a retouch reduces them (see ``retouch_copy``)
    retouch_base: tuple[np.ndarray, np.ndarray] | None = None

    def close(self) -> None:
        for fh in (self.rgba, self.mask, self.shadow):
            if fh is not None:
                fh.close()


ENCODE_STAGES = ("encode_cutout", "encode_mask", "encode_shadow", "encode_preview")


def screen_copy(rgba: np.ndarray, long_side: int) -> Image.Image | None:
    """``rgba`` downsized to ``long_side`` for the review screens, or None when ``long_side``
    is 0 (the caller judged the photo small enough to render its previews on first view)."""
    if not long_side:
        return None
    return downsized(Image.fromarray(rgba, "RGBA"), long_side).copy()


def retouch_copy(rgb: np.ndarray, rgba: np.ndarray, long_side: int,
                 rgb_reduced: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """(photo, cutout) reduced exactly as a retouch of this version reduces them for its
    graph cut, the arrays its preview starts from, or None when ``long_side`` is 0 (as
    ``screen_copy``). Made here while the full-size arrays are in memory: made on first
    preview instead, the web process decoded both full-size files (about 1 GB at 80 MP).
    ``rgb_reduced``: the photo already so reduced (a retouch's ``rgb_work``)."""
    if not long_side:
        return None
    from .imaging.retouch import WORK_MAX, reduce_for_cut

    photo = reduce_for_cut(rgb, WORK_MAX) if rgb_reduced is None else rgb_reduced
    return (np.ascontiguousarray(photo),
            np.ascontiguousarray(reduce_for_cut(rgba, WORK_MAX)))


#: seconds of encoding the files (cutout, mask, the screen and retouch copies), fixed and per
#: megapixel, with ``pipeline.stage_costs``'s model: it grows with the pixels where the model
#: passes do not, so it is a tenth of a 2 MP run and a quarter of a 45 MP one (docs/jobs.md)
ENCODE_COST = (0.12, 0.05)


def pipeline_share(pixels: int, settings: CutoutSettings) -> float:
    """The share of ``cutout_compute`` that is the pipeline; encoding the files is the rest."""
    from .imaging.pipeline import stage_costs

    pipeline = sum(stage_costs(pixels, settings).values())
    return pipeline / (pipeline + ENCODE_COST[0] + ENCODE_COST[1] * pixels / 1e6)


def cutout_compute(*, rgb: np.ndarray, settings_dict: dict,
                   clock: StageClock = NO_CLOCK, preview_side: int = 0,
                   on_progress: OnProgress | None = None) -> EngineOutput:
    """``clock`` gets a lap per pipeline stage and per encoded file (``cutout_profile``);
    ``preview_side`` > 0 adds the cutout at that size (``screen_copy``); ``on_progress``
    hears the pipeline's stages, then "Saving" while the files are encoded."""
    from .imaging.pipeline import run_pipeline

    report = on_progress or no_progress

    cutout_settings = CutoutSettings.from_dict(settings_dict)
    clock = running(clock)  # the timings below come from its laps
    clock.reset()
    segmenter, spec = segmenter_for(cutout_settings.model)
    # Charged to its own stage: it once hid a per-cutout model load outside every lap.
    clock.lap("session")
    share = pipeline_share(rgb.shape[0] * rgb.shape[1], cutout_settings)
    result = run_pipeline(rgb, cutout_settings, segmenter, clock,
                          on_progress=span(report, 0.0, share))
    # what export will measure of the alpha (its product's box, a faint mark), while it is
    # in memory: the review pre-flags what export would refuse, and the export form lists it
    # beforehand. A lap of its own: 35-130 ms at 12-45 MP that cutout_profile did not show.
    mark = clock.mark()
    clock.reset()
    measured = export_signals(result.alpha)
    clock.lap("faint_marks")
    report(SAVING, share)
    saving = span(report, share, 1.0)
    rgba = png_spooled(result.rgba, owned=True)  # the run's own array: swapped in place
    clock.lap("encode_cutout")
    # after each file, at its share of the encode at 20-45 MP: the cutout's PNG, the mask's,
    # the screen copy, the retouch copies (both read the full-size arrays)
    saving(SAVING, 0.45)
    mask = png_spooled(result.alpha)
    clock.lap("encode_mask")
    saving(SAVING, 0.6)
    shadow = png_spooled(result.shadow) if result.shadow is not None else None
    if shadow is not None:
        clock.lap("encode_shadow")
        saving(SAVING, 0.7)
    preview = screen_copy(result.rgba, preview_side)
    saving(SAVING, 0.8)
    retouch_base = retouch_copy(rgb, result.rgba, preview_side)
    if preview is not None:
        clock.lap("encode_preview")
    split = clock.wall_split(mark, {"encode": ENCODE_STAGES, "faint_marks": ("faint_marks",)})
    encode = split["encode"]
    report(SAVING, 1.0)
    timings = {**result.timings, "faint_marks": round(split["faint_marks"], 4),
               "encode": round(encode, 4)}
    height, width = result.alpha.shape[:2]
    signals = {**result.signals, **measured}
    return EngineOutput(
        rgba=rgba, mask=mask, shadow=shadow, width=width, height=height,
        bbox=list(result.bbox) if result.bbox is not None else None,
        signals=signals, timings=timings, model_name=spec.name,
        model_version=spec.version, preview=preview, retouch_base=retouch_base,
    )

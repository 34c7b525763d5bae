"""The cutout pipeline: photo (RGB uint8) + settings + segmenter -> CutoutResult.

Memory: the model, fusion, cleanup, shadows and signals run at a working
resolution (long side <= WORK_MAX); the full-resolution alpha and colours are
produced tile by tile, so a 50 MP photo needs about 4 bytes per pixel of output
plus a few tile-sized buffers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from . import cleanup, refine, shadow
from .band import matte_band
from .clock import INFERENCE_STAGES, NO_CLOCK, StageClock, running
from .colour import mirrored_vote
from .decontaminate import decontaminate_into
from .inference import object_box, predict_square, predict_square_mirrored, resize_to
from .progress import CHECKING, COLOURS, FINDING, REFINING, OnProgress, no_progress, span
from .session import Segmenter
from .settings import CutoutSettings
from .signals import quality_signals, risk_score, unit_means

WORK_MAX = 2048
CROP_BASE = 4096  # the crop pass reads a copy of huge photos reduced to this long side
PRE_REDUCE = 4  # images larger than 4x the model size are first reduced with INTER_AREA
# full-resolution block of the alpha pass above the working resolution: a block inside the
# background or the object's core is filled without shaping (smaller blocks skip more of the
# frame, at a little Python overhead each)
FLAT_BLOCK = 256
# where each stage starts, as a fraction of the whole call (``on_progress``), from a cost model
# of the default profile with the embedded model, fitted to runs at 2, 20 and 45 MP (docs/
# jobs.md, progress of one cutout): a model pass costs about the same at any size (the model
# sees a fixed square; only the reduction before it reads every pixel), the refinement, the
# full-size tiles, the colour decontamination and the checks grow with the pixels. Fixed
# fractions measured at 45 MP held the bar at "Finding the product" for over half of a 2-20 MP
# run. (seconds, seconds per megapixel)
PASS_COST = (0.7, 0.015)
STAGE_COSTS = {"refine": (0.05, 0.006), "tiles": (0.0, 0.025), "colours": (0.0, 0.011),
               "check": (0.1, 0.002)}


def work_size(h: int, w: int) -> tuple[int, int]:
    """The working resolution (rows, columns) a run refines at and measures its signals at
    for an ``h`` x ``w`` photo: long side ``WORK_MAX`` (the photo's own size when smaller).
    A backfill measuring an older version's signals reduces to it too."""
    scale = min(1.0, WORK_MAX / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale))

def work_alpha(alpha: np.ndarray) -> np.ndarray:
    """A full-size uint8 alpha at the working resolution (:func:`work_size`), float32 in
    [0, 1]: what a run draws its shadow and measures its signals on."""
    h, w = alpha.shape
    hw, ww = work_size(h, w)
    alpha_w = alpha if (hw, ww) == (h, w) else cv2.resize(alpha, (ww, hw),
                                                          interpolation=cv2.INTER_AREA)
    alpha_wf = alpha_w.astype(np.float32)
    alpha_wf /= 255.0
    return alpha_wf


def shadow_drawn(alpha_wf: np.ndarray, settings: CutoutSettings, rgb_w: np.ndarray | None,
                 shape: tuple[int, int]) -> tuple[np.ndarray | None, dict[str, float]]:
    """The shadow layer a run stores (uint8 opacity of ``shape`` = (height, width), as an
    array's; None for Shadow none), drawn at the working resolution from ``alpha_wf``
    (:func:`work_alpha`) and, for Shadow keep, the photo ``rgb_w`` at that size; and the
    signals it gives. A retouch of a synthetic-shadow version redraws its layer with this from
    its own alpha (``services.retouch``): the same layer a run with that alpha would have
    stored. (``size`` = (width, height) until 2026-12-07, lows44: the one pair in that order.)"""
    signals: dict[str, float] = {}
    # (no ``contact_off_body`` for a run without a synthetic shadow since 2026-12-07, shadow44:
    # the export places its own shadow by its own region, measured as ``export_shadow_off``
    # with the export's signals, ``variants.compliance.export_signals``)
    if settings.shadow == "none":
        return None, signals
    if settings.shadow == "keep":
        if rgb_w is None:
            raise ValueError("Shadow keep reads the photo")
        s_w = shadow.extract_contact_shadow(rgb_w, alpha_wf, settings.keep_shadow_max_opacity)
    else:
        # whatever is lowest places the shadow (a kept sign, a faint skirt): the review's
        # pre-flag says when that is not the product's body (services.review); the layer and
        # the measure share one silhouette and footprint
        s_w, off = shadow.synthetic_shadow_placed(alpha_wf, settings.synthetic_shadow)
        signals["shadow_off_body"] = round(off, 4)
    s_u8 = np.clip(s_w * 255 + 0.5, 0, 255).astype(np.uint8)
    h, w = shape
    layer = s_u8 if s_u8.shape == (h, w) else cv2.resize(s_u8, (w, h),
                                                         interpolation=cv2.INTER_LINEAR)
    return layer, signals


def model_passes(settings: CutoutSettings) -> int:
    """The model passes ``infer`` runs at most: the full image, its mirror (TTA), the crop
    pass and its mirror."""
    full = 2 if settings.tta_flip else 1
    return full + ((2 if settings.crop_flip else 1) if settings.crop_pass else 0)


def stage_costs(pixels: int, settings: CutoutSettings) -> dict[str, float]:
    """Estimated seconds of each stage of ``run_pipeline`` (the cost model above)."""
    mp = pixels / 1e6
    costs = {"passes": (PASS_COST[0] + PASS_COST[1] * mp) * model_passes(settings)}
    for name, (fixed, per_mp) in STAGE_COSTS.items():
        costs[name] = fixed + per_mp * mp
    if not settings.decontaminate:
        costs["colours"] = 0.0
    return costs


def stage_starts(pixels: int, settings: CutoutSettings) -> tuple[float, float, float, float]:
    """(refine, tiles, colours, check): where each stage starts, as fractions of the call."""
    costs = stage_costs(pixels, settings)
    total = sum(costs.values())
    starts, at = [], 0.0
    for name in ("passes", "refine", "tiles", "colours"):
        at += costs[name] / total
        starts.append(at)
    return starts[0], starts[1], starts[2], starts[3]


class _PassCounter:
    """The segmenter, reporting after each of its ``predict`` calls: the passes are most of a
    small photo's run, and a bar that waits for all of them sits still for seconds."""

    def __init__(self, segmenter: Segmenter, passes: int, on_pass: OnProgress) -> None:
        self._segmenter, self._passes, self._on_pass, self._done = segmenter, passes, on_pass, 0

    def predict(self, image: np.ndarray) -> np.ndarray:
        out = self._segmenter.predict(image)
        self._done += 1
        if self._done < self._passes:  # the last one ends where the refinement starts
            self._on_pass(FINDING, self._done / self._passes)
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._segmenter, name)


@dataclass
class CutoutResult:
    rgba: np.ndarray  # (H, W, 4) uint8, colours decontaminated in the rim
    alpha: np.ndarray  # (H, W) uint8
    shadow: np.ndarray | None  # (H, W) uint8 opacity of a black shadow layer, or None
    bbox: tuple[int, int, int, int] | None  # tight (x0, y0, x1, y1) of alpha > 0
    signals: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    model_version: str = ""
    settings: dict[str, Any] = field(default_factory=dict)


def _reduced(rgb: np.ndarray, size: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    limit = PRE_REDUCE * size
    if max(h, w) <= limit:
        return rgb
    s = limit / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))),
                      interpolation=cv2.INTER_AREA)


def infer(rgb: np.ndarray, settings: CutoutSettings, segmenter: Segmenter,
          clock: StageClock = NO_CLOCK) -> tuple[
        np.ndarray, np.ndarray | None, tuple[int, int, int, int] | None, float | None,
        np.ndarray | None]:
    """Model passes. Returns (p_full, p_crop or None, box or None, disagreement,
    flip_diff map at model size or None)."""
    size = segmenter.input_size
    small = _reduced(rgb, size)
    disagreement = flip_diff = voted = None
    if settings.tta_flip:
        # the colour vote reads the squash the model sees; squashed here, it is not squashed
        # twice (resizing to its own size, Pillow returns a copy)
        squash = resize_to(small, size) if settings.colour_vote else small
        p_full, p_flip = predict_square_mirrored(squash, segmenter, clock=clock)
        flip_diff = np.abs(p_full - p_flip).astype(np.float32)
        disagreement = float(flip_diff.mean())
        if settings.colour_vote:
            # where the two passes disagree, the photo's own colours pick one (``colour``)
            voted = mirrored_vote(p_full, p_flip, squash)
            clock.lap("colour_vote")
        p_full = 0.5 * (p_full + p_flip)
    else:
        p_full = predict_square(small, segmenter, tta_flip=False, clock=clock)
    p_full = refine.minmax(p_full)
    p_crop, box = None, None
    if settings.crop_pass:
        box = object_box(p_full, rgb.shape[:2], margin=settings.crop_margin)
        h, w = rgb.shape[:2]
        if box is not None and (box[2] - box[0]) * (box[3] - box[1]) < 0.97 * h * w:
            # crop from a copy reduced to CROP_BASE px (no full-size crop copy of huge photos)
            f = min(1.0, CROP_BASE / max(h, w))
            base = rgb if f == 1.0 else cv2.resize(
                rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
            x0, y0, x1, y1 = (int(round(v * f)) for v in box)
            p_crop = refine.minmax(predict_square(
                _reduced(base[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)], size), segmenter,
                tta_flip=settings.crop_flip, clock=clock))
        else:
            box = None
    if voted is not None:
        # after the crop window: it stays where the mean puts it (a window from the pass that
        # sees more was measured and rejected, docs/engine.md)
        p_full = refine.minmax(voted)
    return p_full, p_crop, box, disagreement, flip_diff


def run_pipeline(rgb: np.ndarray, settings: CutoutSettings, segmenter: Segmenter,
                 clock: StageClock = NO_CLOCK,
                 on_progress: OnProgress | None = None) -> CutoutResult:
    """``clock`` receives a lap per stage (see ``profile``); the result's ``timings`` hold the
    wall seconds of the model passes and of the refinement around them, from the same laps.
    ``on_progress(stage, fraction)`` is called as each stage starts and every percent of the
    full-size tiles, with growing fractions, the last one 1 (``imaging.progress``)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("run_pipeline expects an (H, W, 3) uint8 RGB array")
    report = on_progress or no_progress
    report(FINDING, 0.0)
    clock = running(clock)
    mark = clock.mark()
    clock.reset()
    h, w = rgb.shape[:2]
    at_refine, at_tiles, at_colours, at_check = stage_starts(h * w, settings)
    counted = _PassCounter(segmenter, model_passes(settings), span(report, 0.0, at_refine))
    p_full, p_crop, box, disagreement, flip_diff = infer(rgb, settings, counted, clock)
    report(REFINING, at_refine)

    scale = min(1.0, WORK_MAX / max(h, w))
    hw, ww = work_size(h, w)
    if scale < 1.0:
        scale = ww / w  # exact pixel-grid ratio used by upsample_region
    prob = refine.fuse(p_full, (hw, ww), scale, p_crop, box, settings.crop_weight)
    clock.lap("fuse")
    model_px = max(hw, ww) / segmenter.input_size
    if settings.cleanup:
        # one pass over the frame for both: the box still holds the parts after the specks go
        rect = cleanup.parts_rect(prob)
        prob, _ = cleanup.remove_specks(prob, settings.min_speck_fraction, rect)
        prob, _ = cleanup.fill_holes(prob, settings.max_hole_fraction,
                                     plateau_min_area=(3 * model_px) ** 2, rect=rect)
        clock.lap("cleanup")
    gate = thin = None
    # with the gate, shaping changes prob only inside ``gate_box`` (the object and its edge
    # ramp, often a third of the frame): gate, thin weight and shaping are computed there
    gbox = None
    if settings.refine and settings.keep_semi_transparent:
        gbox = refine.gate_box(prob, model_px)
        gate = (np.zeros(prob.shape, np.float32) if gbox is None
                else refine.transition_gate(prob, model_px=model_px, box=gbox))
        clock.lap("gate")
    if settings.refine and settings.protect_thin:
        if gate is None or (settings.band and settings.refine):
            # without a gate, or with the matting band (which reaches past the gate and
            # applies the thin weight itself), the weight is needed everywhere
            thin = refine.thin_structure_weight(prob, model_px=model_px)
        elif gbox is None:
            thin = np.zeros(prob.shape, np.float32)
        else:
            # 2 px more: the alpha pass reads the weight at the gate's bilinear footprint
            thin = refine.thin_structure_weight(prob, model_px=model_px,
                                                box=refine.pad_box(gbox, 2, prob.shape))
        clock.lap("thin")
    rgb_w = rgb if scale == 1.0 else cv2.resize(rgb, (ww, hw), interpolation=cv2.INTER_AREA)

    # working-resolution alpha for the soft band and the subject decision; the full-size
    # alpha below applies the same shaping per tile, then these working-size corrections
    band = keep = a_full = None
    decision = None
    subject = settings.subject and settings.cleanup
    if (settings.band and settings.refine) or subject:
        if not settings.refine:
            a_w = prob.copy()
        elif gate is not None:
            a_w = refine.shape_alpha_in(prob, settings.edge_threshold, settings.edge_gain, gate,
                                        thin, gbox)
        else:
            a_w = refine.shape_alpha(prob, settings.edge_threshold, settings.edge_gain, None,
                                     thin)
        clock.lap("shape_work")
        if settings.band and settings.refine:
            dis_map = None if flip_diff is None else cv2.resize(
                flip_diff, (ww, hw), interpolation=cv2.INTER_LINEAR)
            band = matte_band(rgb_w, prob, a_w, model_px, dis_map, settings.band_width)
            if band is not None:
                a_w += band.weight * (band.alpha - a_w)
                if thin is not None:
                    a_w += thin * np.maximum(prob - a_w, 0.0)
            clock.lap("band")
        if subject:
            decision = cleanup.decide_subject(
                prob, a_w, model_px, protect=None if band is None else band.weight)
            if decision.keep.min() < 1.0:
                keep = decision.keep
            clock.lap("subject")
        if scale == 1.0 and band is None:
            # at full resolution without a band, the tiles' alpha is this one (the subject
            # decision only reads it): shaped once, not twice
            a_full = a_w
        del a_w

    alpha = np.empty((h, w), np.uint8)
    rgba = np.empty((h, w, 4), np.uint8)
    transparent = opaque = None
    block = settings.tile_size
    if scale < 1.0 and band is None:
        # above the working resolution, blocks whose alpha is decided (background, the
        # object's core) skip the per-pixel shaping: the edge band is what costs
        transparent, opaque = refine.flat_maps(prob, keep, settings.edge_threshold,
                                               settings.edge_gain)
        block = min(block, FLAT_BLOCK)
    report(REFINING, at_tiles)
    # a 45 MP photo has hundreds of tiles: the reviewer sees each percent of them, no more
    n_tiles = -(-h // block) * -(-w // block)
    reported = 0
    for i, (y0, y1, x0, x1) in enumerate(refine.tiles(h, w, block)):
        if (done := 100 * i // n_tiles) > reported:
            reported = done
            report(REFINING, at_tiles + (at_colours - at_tiles) * done / 100)
        if transparent is not None and opaque is not None:
            win = (refine.work_window(scale, y0, y1, hw), refine.work_window(scale, x0, x1, ww))
            if transparent[win].all():
                alpha[y0:y1, x0:x1] = 0
                rgba[y0:y1, x0:x1] = 0
                continue
            if opaque[win].all():
                alpha[y0:y1, x0:x1] = 255
                rgba[y0:y1, x0:x1, :3] = rgb[y0:y1, x0:x1]
                rgba[y0:y1, x0:x1, 3] = 255
                continue
        p_t = refine.upsample_region(prob, scale, y0, y1, x0, x1)
        if a_full is not None:
            a_t = a_full[y0:y1, x0:x1]
        elif settings.refine:
            g_t = None if gate is None else refine.upsample_region(gate, scale, y0, y1, x0, x1)
            n_t = None if thin is None else refine.upsample_region(thin, scale, y0, y1, x0, x1)
            a_t = refine.shape_alpha(p_t, settings.edge_threshold, settings.edge_gain, g_t, n_t)
            if band is not None:
                w_t = refine.upsample_region(band.weight, scale, y0, y1, x0, x1)
                if w_t.any():
                    a_t = a_t + w_t * (refine.upsample_region(band.alpha, scale, y0, y1, x0, x1)
                                       - a_t)
                    if n_t is not None:  # thin ridges keep at least the model's alpha
                        a_t = a_t + n_t * np.maximum(p_t - a_t, 0.0)
        else:
            a_t = p_t
        # the same float ops in place: one temporary instead of four
        buf = (np.multiply(a_t, refine.upsample_region(keep, scale, y0, y1, x0, x1))
               if keep is not None else np.multiply(a_t, 255.0))
        if keep is not None:
            buf *= 255.0
        buf += 0.5
        np.clip(buf, 0, 255, out=buf)
        a_u8 = buf.astype(np.uint8)
        del buf
        alpha[y0:y1, x0:x1] = a_u8
        # fully transparent pixels carry no colour; OpenCV's masked copy and channel merge
        # write the tile in three passes where numpy's slicing took six (a third of the time),
        # the merge straight into rgba (not a tile-sized array copied in: 7 -> 1.6 ms a tile)
        rgb_t = rgb[y0:y1, x0:x1]
        rgb_t = cv2.bitwise_and(rgb_t, rgb_t, mask=(a_u8 > 0).view(np.uint8))
        _merge_into(rgba[y0:y1, x0:x1], [*cv2.split(rgb_t), a_u8])
        clock.lap("alpha_tiles")
    clock.lap("alpha_tiles")
    del gate, thin, a_full, transparent, opaque

    if settings.decontaminate:
        report(COLOURS, at_colours)
        decontaminate_into(rgba, rgb, alpha, tile=settings.tile_size)
        clock.lap("decontaminate")

    # working-resolution views for shadows and signals
    alpha_wf = work_alpha(alpha)

    report(CHECKING, at_check)
    shadow_layer, shadow_signals = shadow_drawn(alpha_wf, settings, rgb_w, (h, w))
    if shadow_layer is not None:
        clock.lap("shadow")

    background = _backdrop_colour(rgb_w, alpha_wf)
    clock.lap("backdrop")
    signals = quality_signals(prob, alpha_wf, rgb_w, background, disagreement, model_px)
    signals["band_fraction"] = round(band.unknown_fraction, 4) if band is not None else 0.0
    if decision is not None:
        signals["parts"] = decision.parts
        signals["subjects"] = decision.kept
        signals["removed_mass"] = round(decision.removed_mass, 4)
    signals.update(shadow_signals)
    signals["risk"] = risk_score(signals)
    bbox = tight_bbox(alpha)
    clock.lap("signals")
    timings = clock.wall_split(mark, {"inference": INFERENCE_STAGES}, rest="refinement")
    report(CHECKING, 1.0)
    return CutoutResult(
        rgba=rgba, alpha=alpha, shadow=shadow_layer, bbox=bbox,
        signals=signals, timings=timings,
        model_version=getattr(segmenter, "version", type(segmenter).__name__),
        settings=settings.to_dict(),
    )


def _merge_into(dst: np.ndarray, channels: list[np.ndarray]) -> None:
    """``dst[...] = cv2.merge(channels)``, written by OpenCV into ``dst`` itself (a view into a
    larger array) when its binding can; copied in when it had to make a new array."""
    merged = cv2.merge(channels, dst=dst)
    if merged.ctypes.data != dst.ctypes.data:
        dst[...] = merged


def _backdrop_colour(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Local backdrop colour (H, W, 3) in [0, 1], estimated on a 1/4 size copy."""
    h, w = alpha.shape
    sw, sh = max(1, w // 4), max(1, h // 4)
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    img = small.astype(np.float32) / 255.0
    bgm = (cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA) < 0.05).astype(np.float32)
    k = max(3, int(0.05 * max(sh, sw)) | 1)
    num = cv2.blur(img * bgm[..., None], (k, k))
    den = cv2.blur(bgm, (k, k))[..., None]
    local = num / np.maximum(den, 1e-3)
    seen = den > 1e-3
    if seen.all():  # backdrop in every window (most photos): the global mean is not read
        out = local
    else:
        # img's mean over the backdrop (the same float32 values, from the uint8 pixels)
        glob = unit_means(small[bgm > 0]) if bgm.any() else np.ones(3, np.float32)
        out = np.where(seen, local, glob)  # float32 already
    return cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)


def tight_bbox(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.nonzero(alpha.any(axis=1))[0]
    if len(rows) == 0:
        return None
    cols = np.nonzero(alpha.any(axis=0))[0]
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1

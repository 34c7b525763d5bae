"""Keep/remove stroke hints from a reviewer, applied to a previous cutout's alpha.

A stroke is a seed, not a brush: a keep stroke over a part the model missed should bring
back the whole part, a remove stroke on a leftover patch of backdrop should take the whole
patch away. So the strokes become hard labels for a colour-model segmentation (OpenCV's
GrabCut) initialised from the previous alpha, run at a working resolution; the soft alpha of
the previous version is kept wherever the segmentation agrees with it, and only the band
around the edges that changed is re-feathered. Pure: numpy + OpenCV, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WORK_MAX = 1024  # GrabCut is O(pixels x iterations); edges are re-feathered at full size
ITERATIONS = 4


@dataclass(frozen=True)
class Hints:
    keep: np.ndarray  # (H, W) bool
    remove: np.ndarray  # (H, W) bool

    @property
    def empty(self) -> bool:
        return not (self.keep.any() or self.remove.any())


def hints_from_rgba(hint: np.ndarray, shape: tuple[int, int]) -> Hints:
    """Decode a painted hint image: green strokes keep, red strokes remove, transparent or
    black is no hint. The painting may be at preview size; it is scaled to ``shape``."""
    if hint.ndim != 3 or hint.shape[2] not in (3, 4):
        raise ValueError("a hint image must be RGB or RGBA")
    h, w = shape
    if hint.shape[:2] != (h, w):
        hint = cv2.resize(hint, (w, h), interpolation=cv2.INTER_NEAREST)
    r = hint[..., 0].astype(np.int16)
    g = hint[..., 1].astype(np.int16)
    painted = hint[..., 3] > 127 if hint.shape[2] == 4 else np.ones((h, w), bool)
    keep = painted & (g > 127) & (g - r > 64)
    remove = painted & (r > 127) & (r - g > 64)
    return Hints(keep=keep, remove=remove)


def _work_scale(h: int, w: int) -> float:
    return min(1.0, WORK_MAX / max(h, w))


def _resize(a: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    return cv2.resize(a, size, interpolation=interpolation)


def segment_with_hints(rgb: np.ndarray, alpha: np.ndarray, hints: Hints) -> np.ndarray:
    """Binary foreground (H, W) bool at full resolution after GrabCut with the hints."""
    h, w = alpha.shape
    s = _work_scale(h, w)
    ww, hw = max(1, round(w * s)), max(1, round(h * s))
    if s < 1.0:
        rgb_w = _resize(rgb, (ww, hw), cv2.INTER_AREA)
        alpha_w = _resize(alpha, (ww, hw), cv2.INTER_AREA)
        # A thin stroke must survive the reduction: any painted pixel in a cell counts.
        keep_w = _resize(hints.keep.astype(np.uint8) * 255, (ww, hw), cv2.INTER_AREA) > 0
        remove_w = _resize(hints.remove.astype(np.uint8) * 255, (ww, hw), cv2.INTER_AREA) > 0
    else:
        rgb_w, alpha_w, keep_w, remove_w = rgb, alpha, hints.keep, hints.remove

    mask = np.where(alpha_w >= 128, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    mask[keep_w] = cv2.GC_FGD
    mask[remove_w & ~keep_w] = cv2.GC_BGD
    has_fg = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).any()
    has_bg = np.isin(mask, (cv2.GC_BGD, cv2.GC_PR_BGD)).any()
    if has_fg and has_bg:
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.grabCut(np.ascontiguousarray(rgb_w[..., ::-1]), mask, None, bgd, fgd, ITERATIONS,
                    cv2.GC_INIT_WITH_MASK)
    fg_w = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD))
    # GrabCut may wander into regions far from any stroke; keep its changes only in the
    # connected parts that a stroke touches, and the previous answer everywhere else.
    before = alpha_w >= 128
    fg_w = _changes_touching_strokes(before, fg_w, keep_w, remove_w)
    # A uniform region GrabCut hesitates over (its colour sits in both models) still goes
    # with the stroke painted on it: grow each stroke over similar, connected colours.
    lab = cv2.cvtColor(np.ascontiguousarray(rgb_w), cv2.COLOR_RGB2LAB).astype(np.float32)
    fg_w |= _grow(lab, keep_w, ~before)
    fg_w &= ~_grow(lab, remove_w & ~keep_w, before)
    fg_w |= keep_w
    fg_w &= ~(remove_w & ~keep_w)
    if s < 1.0:
        return _resize(fg_w.astype(np.uint8) * 255, (w, h), cv2.INTER_LINEAR) >= 128
    return fg_w


def _changes_touching_strokes(before: np.ndarray, after: np.ndarray, keep: np.ndarray,
                              remove: np.ndarray) -> np.ndarray:
    result = before.copy()
    for changed, seeds, value in ((after & ~before, keep, True), (before & ~after, remove, False)):
        if not changed.any() or not seeds.any():
            continue
        n, labels = cv2.connectedComponents(changed.astype(np.uint8), connectivity=8)
        grown = cv2.dilate(seeds.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        touched = np.unique(labels[grown & changed])
        touched = touched[touched > 0]
        if touched.size:
            result[np.isin(labels, touched)] = value
    return result


def _grow(lab: np.ndarray, seeds: np.ndarray, allowed: np.ndarray,
          tolerance: float = 14.0) -> np.ndarray:
    """Pixels of ``allowed`` connected to ``seeds`` whose Lab colour is within ``tolerance``
    (widened by the stroke's own spread) of the stroke's mean colour."""
    seeds = seeds & allowed
    if not seeds.any():
        return np.zeros(allowed.shape, bool)
    picked = lab[seeds]
    centre = picked.mean(axis=0)
    spread = float(np.linalg.norm(picked.std(axis=0)))
    near = np.linalg.norm(lab - centre, axis=2) <= tolerance + 2.0 * spread
    region = (near & allowed) | seeds
    n, labels = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
    touched = np.unique(labels[seeds])
    touched = touched[touched > 0]
    return np.isin(labels, touched) if touched.size else np.zeros(allowed.shape, bool)


def apply_hints(rgb: np.ndarray, alpha: np.ndarray, hints: Hints, *,
                feather_px: float = 1.5) -> np.ndarray:
    """New alpha (H, W) uint8: the previous alpha where nothing changed, the hinted
    segmentation with a feathered edge where it did, and the strokes themselves exact."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("apply_hints expects an (H, W, 3) uint8 RGB array")
    if alpha.shape != rgb.shape[:2] or alpha.dtype != np.uint8:
        raise ValueError("alpha must be (H, W) uint8 matching the image")
    if hints.keep.shape != alpha.shape or hints.remove.shape != alpha.shape:
        raise ValueError("hints must match the image size")
    if hints.empty:
        return alpha.copy()
    fg = segment_with_hints(rgb, alpha, hints)
    before = alpha >= 128
    changed = fg != before
    out = alpha.copy()
    if changed.any():
        # The band: changed pixels and a few pixels around them, where the new edge lives.
        r = max(1, int(round(2 * feather_px)))
        band = cv2.dilate(changed.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0
        k = max(3, int(round(feather_px * 2)) | 1)
        soft = cv2.GaussianBlur(fg.astype(np.float32), (k, k), feather_px)
        soft_u8 = np.clip(soft * 255.0 + 0.5, 0, 255).astype(np.uint8)
        out[band] = soft_u8[band]
        # Inside the changed area the segmentation decides outright; only its rim is soft.
        core = changed & (cv2.erode(changed.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
        out[core] = np.where(fg[core], 255, 0).astype(np.uint8)
    out[hints.keep] = 255
    out[hints.remove & ~hints.keep] = 0
    return out


def compose_rgba(rgb: np.ndarray, alpha: np.ndarray,
                 previous_rgba: np.ndarray | None = None) -> np.ndarray:
    """RGBA with the new alpha. Colours come from the previous cutout where it had coverage
    (already decontaminated there) and from the photo where a keep hint added coverage."""
    rgba = np.empty((*alpha.shape, 4), np.uint8)
    rgba[..., :3] = rgb
    if previous_rgba is not None:
        had = previous_rgba[..., 3] > 0
        rgba[..., :3][had] = previous_rgba[..., :3][had]
    rgba[..., 3] = alpha
    rgba[..., :3][alpha == 0] = 0
    return rgba

"""Edge-aware upsampling and shaping of the low-resolution model mask.

The model sees the photo at 320 px, so every edge comes back as a ramp a few
model pixels wide; upsampled, that ramp becomes a halo outside the object and an
over-transparent rim inside it. The refinement:

1. fuses the full-frame pass (optionally flip-averaged) with a second pass on a
   crop around the object (higher effective resolution at the boundary);
2. upsamples with a Lanczos kernel (sharp, no blocky steps);
3. steepens *only narrow* transitions: a logit-space gain around a threshold,
   gated by the local range of the probability over ~5 model pixels. Sharp
   edges that the model blurred get steeper; wide ramps (feathered edges) and
   flat semi-transparent plateaus (glass) keep their soft alpha. The result is
   never binarised.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import cv2
import numpy as np
import numpy.typing as npt

Box = tuple[int, int, int, int]  # (y0, y1, x0, x1)


def minmax(p: np.ndarray) -> np.ndarray:
    lo, hi = float(p.min()), float(p.max())
    if hi - lo < 1e-6:
        return np.zeros_like(p, dtype=np.float32)
    return ((p - lo) / (hi - lo)).astype(np.float32)


def fuse(p_full: np.ndarray, work_shape: tuple[int, int], scale: float,
         p_crop: np.ndarray | None = None, box: tuple[int, int, int, int] | None = None,
         crop_weight: float = 0.5) -> np.ndarray:
    """Fused probability at the working resolution (hw, ww), float32 in [0, 1].

    box is in full-resolution pixels; scale = working / full resolution.
    """
    hw, ww = work_shape
    prob = cv2.resize(p_full, (ww, hw), interpolation=cv2.INTER_LANCZOS4)
    if p_crop is not None and box is not None:
        x0, y0, x1, y1 = (int(round(v * scale)) for v in box)
        x1, y1 = min(max(x1, x0 + 1), ww), min(max(y1, y0 + 1), hw)
        crop = cv2.resize(p_crop, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LANCZOS4)
        region = prob[y0:y1, x0:x1]
        wgt = window_weight((y1 - y0, x1 - x0), (y0, y1, x0, x1), (hw, ww))
        # wgt * crop + (1 - wgt) * region, the same float32 operations in two buffers
        wgt *= crop_weight
        rest = 1.0 - wgt
        rest *= region
        wgt *= crop
        wgt += rest
        region[...] = wgt
    np.clip(prob, 0.0, 1.0, out=prob)
    return prob


def window_weight(shape: tuple[int, int], box: tuple[int, int, int, int],
                  frame: tuple[int, int], fade: float = 0.12) -> np.ndarray:
    """Weight (h, w) of a pass that saw only the window ``box`` (y0, y1, x0, x1) of
    ``frame``: 1 inside, falling smoothly to 0 at window borders that lie inside the
    frame, so the pass leaves no straight seam where its window ends."""
    h, w = shape
    y0, y1, x0, x1 = box
    fh, fw = frame

    def ramp(n: int, open_lo: bool, open_hi: bool) -> np.ndarray:
        m = max(2.0, fade * n)
        pos = np.arange(n, dtype=np.float32) + 0.5
        r = np.ones(n, np.float32)
        if open_lo:
            r = np.minimum(r, pos / m)
        if open_hi:
            r = np.minimum(r, (n - pos) / m)
        r = np.clip(r, 0.0, 1.0)
        return r * r * (3 - 2 * r)  # smoothstep: no kink either

    ry = ramp(h, y0 > 0, y1 < fh)
    rx = ramp(w, x0 > 0, x1 < fw)
    gate: np.ndarray = np.minimum(ry[:, None], rx[None, :])
    return gate


GATE_LOW = 0.2  # the local range of prob above which ``transition_gate`` opens


def gate_radius(model_px: float) -> int:
    return max(1, int(round(2 * model_px)))


def gate_box(prob: np.ndarray, model_px: float, low: float = GATE_LOW) -> Box | None:
    """The box (y0, y1, x0, x1) outside which ``transition_gate`` is exactly 0 and the plateau
    term of ``shape_alpha`` too, so shaping leaves prob unchanged there; None if prob never
    exceeds ``low``. The local range exceeds ``low`` only within the gate's radius of a pixel
    above it (prob >= 0), and the plateau starts above the threshold, far above ``low``."""
    x, y, w, h = cv2.boundingRect((prob > low).view(np.uint8))
    if w == 0:
        return None
    return pad_box((y, y + h, x, x + w), gate_radius(model_px), prob.shape)


def pad_box(box: Box, pad: int, shape: tuple[int, ...]) -> Box:
    y0, y1, x0, x1 = box
    return max(0, y0 - pad), min(shape[0], y1 + pad), max(0, x0 - pad), min(shape[1], x1 + pad)


def transition_gate(prob: np.ndarray, model_px: float, low: float = GATE_LOW,
                    width: float = 0.3, box: Box | None = None) -> np.ndarray:
    """1 where prob changes by more than ``low`` within ~2 model px (a narrow edge),
    fading to 0 for wide ramps and flat plateaus (feathering, glass).

    ``box`` (from ``gate_box``): the gate is computed there only, on a crop padded by the
    radius (min and max ignore the crop's border, so values inside the box are exact); outside
    it the gate is 0, as it is everywhere outside ``gate_box``."""
    r = gate_radius(model_px)
    se = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    if box is not None:
        gate = np.zeros(prob.shape, np.float32)
        y0, y1, x0, x1 = box
        cy0, cy1, cx0, cx1 = pad_box(box, r, prob.shape)
        g = transition_gate(prob[cy0:cy1, cx0:cx1], model_px, low, width)
        gate[y0:y1, x0:x1] = g[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
        return gate
    # (dilate - erode - low) / width clipped, the same operations in one buffer
    rng: np.ndarray = cv2.dilate(prob, se)
    np.subtract(rng, cv2.erode(prob, se), out=rng)
    np.subtract(rng, low, out=rng)
    np.divide(rng, width, out=rng)
    clipped: np.ndarray = np.clip(rng, 0.0, 1.0, out=rng)
    return clipped


def thin_structure_weight(prob: np.ndarray, model_px: float, level: float = 0.12,
                          box: Box | None = None) -> np.ndarray:
    """1 on ridges narrower than ~3 model px (straps, strands, spokes): the model
    saw them diluted, so shaping must not push them further down.

    ``box``: the weight is exact there only (0 outside), computed on a crop padded by the
    opening's reach (an erosion then a dilation, each ignoring the crop's border). Where the
    gate is 0 shaping returns prob whatever this weight, so ``gate_box`` (plus the bilinear
    footprint) is all it needs: the elliptic top-hat is the costliest map of the refinement."""
    r = max(1, int(round(1.5 * model_px)))
    if box is not None:
        weight = np.zeros(prob.shape, np.float32)
        y0, y1, x0, x1 = box
        cy0, cy1, cx0, cx1 = pad_box(box, 2 * r, prob.shape)
        t = thin_structure_weight(prob[cy0:cy1, cx0:cx1], model_px, level)
        weight[y0:y1, x0:x1] = t[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
        return weight
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    tophat: np.ndarray = cv2.morphologyEx(prob, cv2.MORPH_TOPHAT, se)
    np.divide(tophat, level, out=tophat)
    clipped: np.ndarray = np.clip(tophat, 0.0, 1.0, out=tophat)
    return clipped


def shape_alpha(prob: np.ndarray, threshold: float, gain: float,
                gate: np.ndarray | None = None, thin: np.ndarray | None = None) -> np.ndarray:
    """Logit-space contrast around ``threshold`` (monotonic, keeps soft values).

    gate: where to apply it (1) or keep prob (0), for plateaus below the threshold only;
    thin: where alpha may not drop below prob (thin structures)."""
    if all(m is None or m.dtype == np.float32 for m in (prob, gate, thin)):
        return _shape_alpha_f32(prob, threshold, gain, gate, thin)
    shaped = _shaping_lut(float(threshold), float(gain))[
        np.clip(prob * LUT_SIZE + 0.5, 0, LUT_SIZE).astype(np.int32)]
    if gate is not None:
        # a plateau well above the threshold is the model's doubt inside the object (a handle
        # at 0.85), not see-through material: glass and veils sit lower and stay as they are
        if PLATEAU_SPAN > 0:
            gate = np.maximum(gate, np.clip(
                (prob - threshold - PLATEAU_START) * (1.0 / PLATEAU_SPAN), 0, 1))
        shaped = gate * shaped + (1.0 - gate) * prob
    if thin is not None:
        shaped = shaped + thin * np.maximum(prob - shaped, 0.0)
    return shaped.astype(np.float32)


def _shape_alpha_f32(prob: np.ndarray, threshold: float, gain: float,
                     gate: np.ndarray | None, thin: np.ndarray | None) -> np.ndarray:
    """``shape_alpha`` on float32 maps: the same float32 operations in the same order (products
    and sums commute exactly), in place in two buffers instead of a temporary per operation."""
    buf = np.multiply(prob, LUT_SIZE, dtype=np.float32)
    buf += 0.5
    np.clip(buf, 0, LUT_SIZE, out=buf)
    shaped: np.ndarray = _shaping_lut(float(threshold), float(gain)).take(buf.astype(np.int32))
    if gate is not None:
        if PLATEAU_SPAN > 0:
            np.subtract(prob, threshold, out=buf)
            buf -= PLATEAU_START
            buf *= 1.0 / PLATEAU_SPAN
            np.clip(buf, 0, 1, out=buf)
            np.maximum(gate, buf, out=buf)
        else:
            buf[...] = gate
        shaped *= buf  # gate * shaped
        np.subtract(1.0, buf, out=buf)
        buf *= prob  # (1 - gate) * prob
        shaped += buf
    if thin is not None:
        np.subtract(prob, shaped, out=buf)
        np.maximum(buf, 0.0, out=buf)
        buf *= thin
        shaped += buf
    return shaped


def shape_alpha_in(prob: np.ndarray, threshold: float, gain: float, gate: np.ndarray,
                   thin: np.ndarray | None, box: Box | None) -> np.ndarray:
    """``shape_alpha`` with a gate, computed inside ``box`` (from ``gate_box``) only: outside
    it the gate and the plateau term are 0, so the shaped alpha is prob itself, bit for bit."""
    out = prob.copy()
    if box is not None:
        y0, y1, x0, x1 = box
        win = np.s_[y0:y1, x0:x1]
        out[win] = shape_alpha(prob[win], threshold, gain, gate[win],
                               None if thin is None else thin[win])
    return out


LUT_SIZE = 8192
# from threshold + START, over SPAN, a plateau is shaped like an edge (measured on the dev set:
# starting at the threshold itself costs halo, starting at +0.25 keeps halo and cuts deficit)
PLATEAU_START, PLATEAU_SPAN = 0.25, 0.1


@functools.lru_cache(maxsize=16)
def _shaping_lut(threshold: float, gain: float) -> np.ndarray:
    q = np.clip(np.linspace(0.0, 1.0, LUT_SIZE + 1), 1e-4, 1 - 1e-4)
    logit = np.log(q / (1 - q))
    lt = np.log(threshold / (1 - threshold))
    lut: npt.NDArray[np.float32] = (1.0 / (1.0 + np.exp(-gain * (logit - lt)))).astype(np.float32)
    return lut


def flat_maps(prob: np.ndarray, keep: np.ndarray | None, threshold: float,
              gain: float) -> tuple[np.ndarray, np.ndarray]:
    """Working-resolution maps (transparent, opaque) of where every full-resolution pixel the
    bilinear upsampling draws from here gets alpha 0 (resp. 255) whatever the gate and thin
    weights: ``shape_alpha`` lies between the shaping curve and prob itself (a convex blend,
    then a pull towards prob), so prob below ``zero`` everywhere in a 3x3 footprint, or above
    ``one`` with keep at 1, decides the uint8 alpha without computing it."""
    lut = _shaping_lut(float(threshold), float(gain))
    low, high = 0.49 / 255, 254.51 / 255  # alpha * 255 + 0.5 rounds to 0 / 255, with margin
    last_low = int(np.flatnonzero(lut <= low)[-1]) if lut[0] <= low else -2
    first_high = int(np.flatnonzero(lut < high)[-1]) + 1 if lut[0] < high else 0
    zero = min(low, max(0, last_low - 1) / LUT_SIZE)  # LUT index of p: floor(p*N + 0.5)
    one = max(high, (first_high + 1) / LUT_SIZE)
    k3 = np.ones((3, 3), np.uint8)
    transparent = cv2.dilate(prob, k3) < zero
    opaque = cv2.erode(prob, k3) >= one
    if keep is not None:
        opaque &= cv2.erode(keep, k3) >= 1.0
    return transparent, opaque


def work_window(scale: float, a: int, b: int, n: int) -> slice:
    """Working-resolution pixels (with one pixel of slack) that full-resolution pixels [a, b)
    interpolate from (``upsample_region``'s pixel-centre convention)."""
    lo = int(np.floor((a + 0.5) * scale - 0.5)) - 1
    hi = int(np.floor((b - 0.5) * scale - 0.5)) + 3
    return slice(max(0, lo), min(n, hi))


def upsample_region(work: np.ndarray, scale: float, y0: int, y1: int, x0: int,
                    x1: int) -> np.ndarray:
    """Values of a working-resolution map on the full-resolution pixels
    [y0:y1, x0:x1] (same pixel-centre convention as cv2.resize, bilinear)."""
    if scale == 1.0:
        return work[y0:y1, x0:x1]
    xs = ((np.arange(x0, x1, dtype=np.float32) + 0.5) * scale - 0.5)
    ys = ((np.arange(y0, y1, dtype=np.float32) + 0.5) * scale - 0.5)
    map_x = np.broadcast_to(xs[None, :], (y1 - y0, x1 - x0))
    map_y = np.broadcast_to(ys[:, None], (y1 - y0, x1 - x0))
    return cv2.remap(work, np.ascontiguousarray(map_x), np.ascontiguousarray(map_y),
                     interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def tiles(h: int, w: int, size: int) -> Iterator[tuple[int, int, int, int]]:
    for y in range(0, h, size):
        for x in range(0, w, size):
            yield y, min(y + size, h), x, min(x + size, w)

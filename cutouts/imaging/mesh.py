"""Whether a stroke lies over a mesh: a fine pattern repeating in two directions in the photo."""

from __future__ import annotations

import functools

import cv2
import numpy as np

from .strokes import Stroke

# a window of MESH_WINDOW px square every MESH_STEP px along the stroke's path (at most
# MESH_WINDOWS of them, spread over it): the photo's lightness there less its Gaussian blur of
# MESH_SIGMA px (the fine structure), at least MESH_TEXTURE (0..255 lightness, its standard
# deviation) strong, is a mesh where its autocorrelation has peaks of at least MESH_PEAK at
# lags of MESH_LAGS px in two directions at least MESH_ANGLE degrees apart; the stroke lies over
# a mesh where at least MESH_SHARE of its windows do. One direction only is parallel strands
# (hair, a comb); a ridge through the origin (a strand's length) has no peak off it
MESH_WINDOW = 64
MESH_STEP = 24.0
MESH_WINDOWS = 8
MESH_SIGMA = 4.0
MESH_TEXTURE = 6.0
MESH_PEAK = 0.3
MESH_LAGS = (3, 24)
MESH_ANGLE = 30.0
MESH_SHARE = 0.5


def _centres(stroke: Stroke) -> list[tuple[float, float]]:
    """Points every MESH_STEP px along the stroke's path (its one point for a click), at most
    MESH_WINDOWS, spread evenly over it."""
    pts = np.asarray(stroke.points, np.float64)
    out = [pts[0]]
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        n = int(np.hypot(*(b - a)) // MESH_STEP)
        out.extend(a + (b - a) * (i / max(n, 1)) for i in range(1, n + 1))
    if len(out) > 1 and np.hypot(*(out[-1] - pts[-1])) > 1.0:
        out.append(pts[-1])
    pick = np.linspace(0, len(out) - 1, min(len(out), MESH_WINDOWS)).round().astype(int)
    return [(float(out[i][0]), float(out[i][1])) for i in np.unique(pick)]


@functools.cache
def _lags(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What a window of ``h`` x ``w`` px computes the same each time (a preview asks for up to
    MESH_WINDOWS of them): the overlap at each lag of its autocorrelation (at least 1), fftshifted
    as the correlation is, and the lags (dy, dx) within MESH_LAGS[1] of the origin, with the
    mask of those at MESH_LAGS from it. Read-only: shared by every call."""
    lo, hi = MESH_LAGS
    over = np.maximum(np.outer(
        h - np.abs(np.fft.fftfreq(2 * h, 1 / (2 * h))),
        w - np.abs(np.fft.fftfreq(2 * w, 1 / (2 * w))),
    ), 1.0)
    dy, dx = np.mgrid[-hi : hi + 1, -hi : hi + 1]
    dist = np.hypot(dy, dx)
    ring = (dist >= lo) & (dist <= hi)
    for a in (over, dy, dx, ring):
        a.flags.writeable = False
    return over, dy, dx, ring


def _window_is_mesh(grey: np.ndarray) -> bool:
    """Whether a window of lightness (float32, 0..255) holds a pattern repeating in two
    directions (see MESH_*)."""
    fine = grey - cv2.GaussianBlur(grey, (0, 0), MESH_SIGMA)
    if float(fine.std()) < MESH_TEXTURE:
        return False
    fine = fine - fine.mean()
    h, w = fine.shape
    spec = np.fft.rfft2(fine, s=(2 * h, 2 * w))
    corr = np.fft.irfft2(spec * np.conj(spec), s=(2 * h, 2 * w))
    # normalised by the overlap at each lag: a correlation coefficient, 1 at the origin
    over, dy, dx, ring = _lags(h, w)
    corr = np.fft.fftshift(corr / over)
    corr /= max(float(corr[h, w]), 1e-6)
    hi = MESH_LAGS[1]
    sub = corr[h - hi : h + hi + 1, w - hi : w + hi + 1]
    peak = sub >= MESH_PEAK
    peak &= ring
    # local maxima of the 3 x 3 neighbourhood
    pad = np.pad(sub, 1, constant_values=np.inf)
    for oy in (-1, 0, 1):
        for ox in (-1, 0, 1):
            if oy or ox:
                peak &= sub > pad[1 + oy : 1 + oy + sub.shape[0], 1 + ox : 1 + ox + sub.shape[1]]
    angles = np.degrees(np.arctan2(dy[peak], dx[peak])) % 180.0
    if angles.size < 2:
        return False
    gap = np.abs(angles[:, None] - angles[None, :])
    return bool((np.minimum(gap, 180.0 - gap) >= MESH_ANGLE).any())


def over_mesh(rgb: np.ndarray, stroke: Stroke) -> bool:
    """Whether ``stroke`` (in ``rgb``'s pixels) lies over a mesh: at least MESH_SHARE of the
    windows along its path (see MESH_*) hold a fine pattern repeating in two directions.

    QA M6 (2026-12-05): detail strokes over soft-dev GT25's wire-mesh cup, which the cutout
    holds solid, changed 0.1 % of it and were told to paint across the edge; the matte cannot
    open holes it has no known backdrop for, and the editor says so instead. Measured:
    docs/review.md § Retouch, *A detail stroke over a mesh*."""
    h, w = rgb.shape[:2]
    half = MESH_WINDOW // 2
    if h < MESH_WINDOW or w < MESH_WINDOW:
        return False
    centres = _centres(stroke)
    need = MESH_SHARE * len(centres)
    yes = no = 0
    for x, y in centres:
        x0 = int(np.clip(round(x) - half, 0, w - MESH_WINDOW))
        y0 = int(np.clip(round(y) - half, 0, h - MESH_WINDOW))
        crop = np.ascontiguousarray(rgb[y0 : y0 + MESH_WINDOW, x0 : x0 + MESH_WINDOW, :3])
        grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
        if _window_is_mesh(grey):
            yes += 1
        else:
            no += 1
        # decided: the windows left cannot change the answer (it runs on every detail preview)
        if yes >= need:
            return True
        if len(centres) - no < need:
            return False
    return False

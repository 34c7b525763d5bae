"""Alpha matting inside an unknown band and foreground colour estimation (the one implementation).

Closed-form matting (Levin, Lischinski & Weiss 2008): alpha is locally an affine function of the
colour in every 3x3 window, which gives a sparse "matting Laplacian" L; the alpha of the unknown
pixels minimises a^T L a with the known pixels held fixed (hard constraints, so known pixels stay
exactly 0/1). A weak, confidence-weighted sampling data term (as in robust matting: the nearest
known foreground and background colours explain the pixel as their mixture) pulls each unknown
pixel towards that estimate. Only windows that touch the unknown band are built (vectorised
batches) and only the unknown pixels are variables, so time and memory follow the band, not the
image. The system is solved coarse to fine (a half-size problem, started from the sampling
estimate, gives the full-size starting point) with a few Jacobi-preconditioned CG iterations per
level — pure numpy/scipy, no numba compile; band pixels that the half-size solution already puts
near 0 or 1, away from any fractional pixel, are held there at full size, so the full-size problem
covers only the soft part of the band. Each connected piece of the band is solved in its own box
(with some known context, on a fixed grid), so a piece's alpha does not depend on pieces far from
it; big pieces are split into overlapping tiles blended at the seams.

Foreground colours use blur-fusion (Forte & Pitie 2021, "Approximate fast foreground colour
estimation"), computed only around fractional alpha, so hair composited on a new background does
not carry a fringe of the old one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, cast

import cv2
import numpy as np
import scipy.sparse as sp

EPSILON = 1e-7  # Levin's regulariser (per window, divided by its 9 pixels); as pymatting uses
PRIOR_WEIGHT = 0.02  # weight of the optional prior per unknown pixel (a weak data term)
# sampling data term (see _colour_estimate): weight per unknown pixel at full confidence, the
# squared colour residual (0..1 RGB) at which confidence falls to 1/e, and the squared
# foreground/background colour distance at which it is halved; chosen once on soft-dev
DATA_WEIGHT = 0.01
DATA_SIGMA2 = 0.003
DATA_TAU2 = 0.05
ISLAND_WEIGHT = 1e-6  # keeps unknown regions that touch no known pixel solvable
MAX_VARS = 400_000  # unknown pixels per solve; above this the band is tiled
# Each connected piece of the band is solved in its own box: its bounding box plus CONTEXT px of
# known pixels, widened to multiples of ALIGN (from the array's origin); pieces whose boxes
# overlap are solved together. A piece's alpha then does not depend on other pieces farther away
# (the colour fills, the half-size level and the CG steps were shared by everything in one
# bounding box), and a caller solving crops of one image whose origins are multiples of ALIGN
# gets the same alpha for a piece whatever else the crop holds (see retouch_detail._detail).
CONTEXT = 16
ALIGN = 16
TILE_OVERLAP = 48
CG_RTOL = 1e-7
RESIDUAL_EVERY = 10
# CG iterations at full size, half size, ... (coarse to fine; see _solve_tile): one coarse level.
# On soft-dev a quarter-size level (100 iterations) below the half-size one bought nothing once
# the coarsest level starts from the sampling estimate instead of from nothing
ITERATIONS = (40,)
MAX_LEVEL = 1
DIRECT_ITERATIONS = 300  # a small band solved at full size only (from the sampling estimate)
# the coarsest level of a coarse-to-fine solve, started from the sampling estimate (see
# _colour_estimate): on soft-dev that start scored better than starting from nothing (SAD
# 4.26 vs 4.29, Grad 3.60 vs 3.65); fewer iterations raised SAD (80: 4.32), more cost time
COARSEST_ITERATIONS = 100
# per level (full size first): band pixels whose upsampled coarser alpha is within this of 0 or 1,
# and more than SETTLE_MARGIN px from any other band pixel, are held at that alpha (see _settle).
# Only at full size: settling the half-size level too cost Grad on soft-dev. 0.08 instead of
# 0.03 leaves a quarter fewer pixels to the full-size solve for Grad 3.66 instead of 3.60
# (0.1: 3.68).
SETTLE = (0.08,)
SETTLE_MARGIN = 1
COARSE_MIN = 5000  # unknown pixels below which a level is solved directly
MAX_TILE_AREA = 1_500_000  # px of a tile's bounding box (its index images take 20 B/px)

Box = tuple[int, int, int, int]  # (y0, y1, x0, x1)
Cuts = tuple[tuple[int, int, int], ...]  # (axis, mid, side) of each split above a tile
# colour fills per pyramid level, finest first; the finest is None (see _fill_levels)
FillLevels = list[np.ndarray | None]
Fills = tuple[FillLevels, FillLevels]  # (foreground, background)
MatVec = Callable[[np.ndarray, np.ndarray], None]  # (v, out): out = A @ v

_OFFS3 = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def _check_inputs(rgb: np.ndarray, trimap: np.ndarray, prior: np.ndarray | None) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must be an (H, W, 3) array, got {getattr(rgb, 'shape', type(rgb))}")
    if rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be uint8, got {rgb.dtype}")
    if not isinstance(trimap, np.ndarray) or trimap.shape != rgb.shape[:2]:
        got = getattr(trimap, "shape", type(trimap))
        raise ValueError(f"trimap must be an array of shape {rgb.shape[:2]}, got {got}")
    if trimap.dtype != np.uint8:
        raise ValueError(f"trimap must be uint8 (0 background, 255 foreground), got {trimap.dtype}")
    if rgb.shape[0] < 3 or rgb.shape[1] < 3:
        raise ValueError(f"image too small for matting: {rgb.shape[:2]}")
    if prior is not None:
        if not isinstance(prior, np.ndarray) or prior.shape != rgb.shape[:2]:
            got = getattr(prior, "shape", type(prior))
            raise ValueError(f"prior must be an array of shape {rgb.shape[:2]}, got {got}")
        p = prior.astype(np.float32, copy=False)
        if not np.isfinite(p).all() or p.min() < -1e-3 or p.max() > 1 + 1e-3:
            raise ValueError("prior must be finite and in [0, 1]")


def solve_alpha(
    rgb: np.ndarray, trimap: np.ndarray, *, prior: np.ndarray | None = None
) -> np.ndarray:
    """Alpha (H, W) float32 in [0, 1]: 0/1 on the known regions, matted inside the unknown band.

    trimap: 0 = background, 255 = foreground, anything else = unknown. prior: optional (H, W)
    alpha guess in [0, 1] (e.g. a model's probability), a weak pull inside the unknown band.
    """
    _check_inputs(rgb, trimap, prior)
    alpha: np.ndarray = (trimap == 255).astype(np.float32)
    unknown = (trimap != 0) & (trimap != 255)
    n_unknown = int(np.count_nonzero(unknown))
    if n_unknown == 0:
        return alpha
    for gy0, gy1, gx0, gx1 in _groups(unknown):
        g_unknown = unknown[gy0:gy1, gx0:gx1]
        for (y0, y1, x0, x1), weight in _tiles(g_unknown, int(np.count_nonzero(g_unknown))):
            y0, y1, x0, x1 = y0 + gy0, y1 + gy0, x0 + gx0, x1 + gx0
            sub = _solve_tile(rgb[y0:y1, x0:x1], trimap[y0:y1, x0:x1], unknown[y0:y1, x0:x1],
                              None if prior is None else prior[y0:y1, x0:x1])
            u = unknown[y0:y1, x0:x1]
            if weight is None:
                alpha[y0:y1, x0:x1][u] = sub[u]
            else:
                # alpha starts at 0 in the band; the tiles' weights add up to 1 at every pixel
                alpha[y0:y1, x0:x1][u] += (weight * sub)[u]
    np.clip(alpha, 0.0, 1.0, out=alpha)
    return alpha


def _groups(unknown: np.ndarray) -> list[Box]:
    """The solve boxes: each connected piece of the band plus CONTEXT px, its ends on multiples
    of ALIGN (or the array's edge), boxes that overlap or touch merged until none do.

    The boxes live on the ALIGN grid, so they are merged on a grid 1/ALIGN the size."""
    h, w = unknown.shape
    # labelled in the band's bounding box only: a label image of the whole photo is 4 B/px
    ys = np.flatnonzero(unknown.any(axis=1))
    xs = np.flatnonzero(unknown.any(axis=0))
    by, bx = int(ys[0]), int(xs[0])
    n, _, stats, _ = cv2.connectedComponentsWithStats(
        unknown[by:int(ys[-1]) + 1, bx:int(xs[-1]) + 1].view(np.uint8), connectivity=8)
    a, c = ALIGN, CONTEXT
    gh, gw = -(-h // a), -(-w // a)
    # cells (ALIGN px squares) [y0, y1) x [x0, x1) per piece
    rects = [(max(y + by - c, 0) // a, -(-min(y + by + bh + c, h) // a),
              max(x + bx - c, 0) // a, -(-min(x + bx + bw + c, w) // a))
             for x, y, bw, bh in (map(int, row) for row in stats[1:n, :4])]
    while True:
        grid = np.zeros((gh, gw), np.uint8)
        for y0, y1, x0, x1 in rects:
            grid[y0:y1, x0:x1] = 1
        m, _, st, _ = cv2.connectedComponentsWithStats(grid, connectivity=4)
        merged = [(y, y + bh, x, x + bw) for x, y, bw, bh in (map(int, r) for r in st[1:m, :4])]
        if len(merged) == len(rects):
            return [(y0 * a, min(y1 * a, h), x0 * a, min(x1 * a, w))
                    for y0, y1, x0, x1 in merged]
        rects = merged  # a merged box can reach another: merge again


# --- tiling ---------------------------------------------------------------------------------

def _tiles(unknown: np.ndarray, n_unknown: int) -> Iterator[tuple[Box, np.ndarray | None]]:
    """(box, weight) per solve: the band's bounding box, halved while it holds too many unknowns.

    Each half is solved with TILE_OVERLAP px of context beyond its cut and blended across the cut
    with a linear ramp; the ramps of a split sum to one, so the leaves' weights form a partition
    of unity and a seam never shows as a step.
    """
    h, w = unknown.shape
    ys = np.flatnonzero(unknown.any(axis=1))
    xs = np.flatnonzero(unknown.any(axis=0))
    box = (int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1)
    leaves: list[tuple[Box, Cuts]] = []
    _split(unknown, box, n_unknown, (), leaves)
    if len(leaves) == 1:  # the whole array: the caller's box, with its context (see _groups)
        yield (0, h, 0, w), None
        return
    m = TILE_OVERLAP
    for (cy0, cy1, cx0, cx1), cuts in leaves:
        y0, y1 = max(cy0 - m, 0), min(cy1 + m, h)
        x0, x1 = max(cx0 - m, 0), min(cx1 + m, w)
        wy = np.ones(y1 - y0, np.float32)
        wx = np.ones(x1 - x0, np.float32)
        for axis, mid, side in cuts:
            pos = np.arange(*((y0, y1) if axis == 0 else (x0, x1)), dtype=np.float32)
            # half-width m/2: the weight reaches 0 well inside the solved context
            r = np.clip((pos - (mid - m / 2)) / m, 0.0, 1.0)
            if axis == 0:
                wy *= r if side else 1.0 - r
            else:
                wx *= r if side else 1.0 - r
        yield (y0, y1, x0, x1), wy[:, None] * wx[None, :]


def _split(unknown: np.ndarray, box: Box, n: int, cuts: Cuts,
           out: list[tuple[Box, Cuts]]) -> None:
    y0, y1, x0, x1 = box
    small = n <= MAX_VARS and (y1 - y0) * (x1 - x0) <= MAX_TILE_AREA
    if small or max(y1 - y0, x1 - x0) < 4 * TILE_OVERLAP:
        out.append((box, cuts))
        return
    if y1 - y0 >= x1 - x0:
        mid = (y0 + y1) // 2
        halves = ((y0, mid, x0, x1), (mid, y1, x0, x1))
        axis = 0
    else:
        mid = (x0 + x1) // 2
        halves = ((y0, y1, x0, mid), (y0, y1, mid, x1))
        axis = 1
    for side, b in enumerate(halves):
        # the ramp spills m/2 px into the other half: count the unknowns this leaf must carry
        k = int(np.count_nonzero(unknown[b[0]:b[1], b[2]:b[3]]))
        if k:
            _split(unknown, b, k, cuts + ((axis, mid, side),), out)
        elif _near_cut(unknown, b, axis, mid):
            out.append((b, cuts + ((axis, mid, side),)))


def _near_cut(unknown: np.ndarray, b: Box, axis: int, mid: int) -> bool:
    """True if the other half has unknowns within the blend zone of this (empty) half."""
    m = TILE_OVERLAP // 2 + 1
    y0, y1, x0, x1 = b
    if axis == 0:
        return bool(unknown[max(mid - m, 0):mid + m, x0:x1].any())
    return bool(unknown[y0:y1, max(mid - m, 0):mid + m].any())


# --- one solve --------------------------------------------------------------------------------

def _solve_tile(rgb: np.ndarray, trimap: np.ndarray, unknown: np.ndarray,
                prior: np.ndarray | None, level: int = 0,
                fills: Fills | None = None) -> np.ndarray:
    """Closed-form alpha for one crop (windows lie fully inside it), coarse to fine.

    A half-resolution solve (recursively) gives the starting point, so the full-resolution CG
    only has to fix fine detail: a few cheap Jacobi-preconditioned iterations per level instead
    of hundreds at full size (the low frequencies are what makes plain CG slow here).
    fills: the colour fill pyramids of the finest crop (see _fill_levels), shared by all levels.
    """
    n = int(np.count_nonzero(unknown))
    out: np.ndarray = (trimap == 255).astype(np.float32)
    if n == 0:
        return out
    x0: np.ndarray | None = None
    iterations = DIRECT_ITERATIONS if level == 0 else COARSEST_ITERATIONS
    if DATA_WEIGHT > 0 and (fills is None or not fills[0]):
        # a crop only a few px high has a short pyramid: its coarse levels fill their own
        fills = _fills(rgb, trimap)
    if level < MAX_LEVEL and n > COARSE_MIN:
        iterations = ITERATIONS[level]
        rc, tc, pc = _downsample(rgb, trimap, prior)
        ac = _solve_tile(rc, tc, (tc != 0) & (tc != 255), pc, level + 1,
                         None if fills is None else (fills[0][1:], fills[1][1:]))
        up = cv2.resize(ac, (unknown.shape[1], unknown.shape[0]), interpolation=cv2.INTER_LINEAR)
        if level < len(SETTLE) and SETTLE[level] > 0:
            unknown, out = _settle(out, unknown, up, SETTLE[level])
            if not unknown.any():  # the coarse level settled the whole band: nothing to solve
                return out
        x0 = up[unknown].astype(np.float64)
    # a weak pull towards the prior (or towards 0.5 for islands with no known pixel nearby)
    p: np.ndarray | float
    if prior is not None:
        p = prior[unknown].astype(np.float64).clip(0, 1)
        weight = PRIOR_WEIGHT
        if x0 is None:
            x0 = cast(np.ndarray, p)  # the prior's values in this branch
    else:
        p = 0.5
        weight = ISLAND_WEIGHT
    if DATA_WEIGHT > 0 and fills is not None:  # fills is set above when DATA_WEIGHT > 0
        idx = np.flatnonzero(unknown)
        f = _fill_at(fills[0], idx, unknown.shape)
        b = _fill_at(fills[1], idx, unknown.shape)
        est, conf = _colour_estimate(rgb, idx, f, b)
        dw = DATA_WEIGHT * conf
        if x0 is None:
            x0 = est  # the coarsest level (or a small band): start from the estimate
        A, rhs = _system(rgb, out, unknown, weight + dw)
        rhs += weight * p + dw * est
    else:
        A, rhs = _system(rgb, out, unknown, weight)
        rhs += weight * p
    x = _pcg_jacobi(A, rhs, x0, iterations)
    out[unknown] = np.clip(x, 0.0, 1.0)
    return out


def _settle(out: np.ndarray, unknown: np.ndarray, up: np.ndarray,
            tol: float) -> tuple[np.ndarray, np.ndarray]:
    """(unknown, known alpha) with the band pixels that the upsampled coarse alpha `up` already
    puts within tol of 0 or 1, and not next to a pixel it does not, moved to the known side at
    their coarse alpha: the finer level then solves only where alpha is in question. On soft-dev
    this left 0.62 of the band's pixels to the full-size solve, with SAD and Grad a little lower
    than solving them all (the coarse solve is smoother where alpha is flat)."""
    settled = unknown & ((up <= tol) | (up >= 1 - tol))
    k = 2 * SETTLE_MARGIN + 1
    open_ = cv2.dilate((unknown & ~settled).view(np.uint8), np.ones((k, k), np.uint8))
    settled &= open_ == 0
    if not settled.any():
        return unknown, out
    out = out.copy()
    # the coarse value, not 0/1: snapping them raised Grad (a step where the solve resumes)
    out[settled] = up[settled]
    return unknown & ~settled, out


def _fill_levels(rgba: np.ndarray, mask: np.ndarray) -> FillLevels:
    """Push-pull: spread the colours of mask's pixels into the rest (nearest ones dominate).

    Returns the filled colours at every pyramid level, finest first, except the finest itself
    (None): where the mask is 0 -- the only pixels matting asks about -- the finest level's
    blend weight is 0 and the fill is the next level upsampled (see _fill_at), so the
    full-resolution blend over the whole crop is skipped.
    """
    # colour * mask and mask as one 4-channel image (one pyrDown per level instead of two),
    # both in 0..255 so that their ratio is the colour in 0..1
    cm = cv2.bitwise_and(rgba, rgba, mask=mask.view(np.uint8))
    if min(cm.shape[:2]) > 8:
        # the finest level is only reduced: reduce it in uint8 (a quarter of the bytes; the
        # rounding is 1/255 of a colour where the mask is dense and is weighted down where not)
        pyr: list[Any] = [None, cv2.pyrDown(cm).astype(np.float32)]  # None: never built
    else:
        pyr = [cm.astype(np.float32)]
    while min(pyr[-1].shape[:2]) > 8:
        pyr.append(cv2.pyrDown(pyr[-1]))
    *top, m = cv2.split(pyr[-1])
    inv = 1.0 / np.maximum(m, np.float32(255e-6))
    est = cv2.merge([c * inv for c in top])
    if len(pyr) == 1:
        return [est]
    levels: FillLevels = [est]
    for cm in reversed(pyr[1:-1]):
        up = cv2.split(cv2.pyrUp(est, dstsize=(cm.shape[1], cm.shape[0])))
        # wgt * (c / m) + (1 - wgt) * up, per channel plane: numpy broadcasting a mask over
        # interleaved (h, w, 3) colour runs 3-element inner loops and was several times slower
        *c, m = cv2.split(cm)
        wgt = np.minimum(m * np.float32(4 / 255), np.float32(1))
        scale = wgt / np.maximum(m, np.float32(255e-6))
        keep = np.float32(1) - wgt
        est = cv2.merge([c[i] * scale + up[i] * keep for i in range(3)])
        levels.append(est)
    levels.append(None)
    return levels[::-1]


def _fill_at(levels: FillLevels, idx: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The filled colours (k, 3) at the flat indices idx of a crop of this level's shape."""
    est = levels[0]
    if est is None:
        # upsample the next level at these pixels only (bilinear; fine pixel 2i is coarse i),
        # not over the whole crop
        k = len(idx)
        side = 1024  # remap's maps are images: fold the pixel list into rows (< SHRT_MAX)
        rows = -(-k // side)
        mx = np.zeros(rows * side, np.float32)
        my = np.zeros(rows * side, np.float32)
        ys, xs = np.divmod(idx, shape[1])
        mx[:k] = xs
        my[:k] = ys
        mx *= 0.5
        my *= 0.5
        # only the finest level is None
        out = cv2.remap(cast(np.ndarray, levels[1]), mx.reshape(rows, side), my.reshape(rows, side),
                        cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        near: np.ndarray = out.reshape(-1, 3)[:k]
        return near
    if est.shape[:2] != tuple(shape):  # pyramid too short for this level: not expected
        raise AssertionError(f"fill level {est.shape[:2]} vs crop {shape}")
    filled: np.ndarray = est.reshape(-1, 3)[idx]
    return filled


def _fills(rgb: np.ndarray, trimap: np.ndarray) -> Fills:
    """The fill pyramids (see _fill_levels) of the known foreground and background colours."""
    rgba = cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA)  # alpha 255: the mask channel
    return _fill_levels(rgba, trimap == 255), _fill_levels(rgba, trimap == 0)


def _colour_estimate(rgb: np.ndarray, idx: np.ndarray, f: np.ndarray,
                     b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A sampling data term (as in robust matting): alpha from the nearest known foreground and
    background colours (f, b at the unknown pixels idx), with a confidence that is high only
    where the pixel is well explained as their mixture and the two colours differ."""
    i = rgb.reshape(-1, 3)[idx].astype(np.float32) * np.float32(1 / 255)
    fb = f - b
    dist2 = (fb * fb).sum(axis=1)
    a = np.clip(((i - b) * fb).sum(axis=1) / np.maximum(dist2, 1e-6), 0.0, 1.0)
    res = i - (a[:, None] * f + (1 - a[:, None]) * b)
    res2 = (res * res).sum(axis=1)
    conf = np.exp(-res2 / DATA_SIGMA2) * dist2 / (dist2 + DATA_TAU2)
    return a.astype(np.float64), conf.astype(np.float64)


def _downsample(rgb: np.ndarray, trimap: np.ndarray, prior: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Half-size problem: a coarse pixel is unknown if any of its 2x2 pixels is, foreground only
    if all four are (so the coarse band covers the fine one)."""
    h, w = trimap.shape
    size = ((w + 1) // 2, (h + 1) // 2)
    rc = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    k = np.ones((2, 2), np.uint8)
    unk = cv2.dilate(((trimap != 0) & (trimap != 255)).view(np.uint8), k, anchor=(0, 0))
    fg = cv2.erode((trimap == 255).view(np.uint8), k, anchor=(0, 0),
                   borderType=cv2.BORDER_REPLICATE)
    unk = cv2.resize(unk, size, interpolation=cv2.INTER_NEAREST)
    fg = cv2.resize(fg, size, interpolation=cv2.INTER_NEAREST)
    tc = np.where(unk > 0, 128, np.where(fg > 0, 255, 0)).astype(np.uint8)
    pc = None if prior is None else cv2.resize(prior.astype(np.float32), size,
                                               interpolation=cv2.INTER_AREA)
    return rc, tc, pc


_OFF5 = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)]  # a row's 25 columns, raster
# unknown rows assembled per batch, with the windows they need built alongside: small enough
# that the batch's blocks (324 B per window) stay in cache; 2048 and 8192 measured the same
ROW_CHUNK = 4096


class _Rows(NamedTuple):
    """The unknown pixels' rows of A = L_uu + diag I, 25 columns each (the 5x5 neighbourhood in
    raster order, column 12 the diagonal): a neighbour that is not unknown points at column n, a
    dummy variable that CG holds at 0, so the arrays are CSR with a fixed row length and need no
    compaction or masking (see _pcg_jacobi)."""

    data: np.ndarray  # (n, 25) float32
    cols: np.ndarray  # (n, 25) int32


def _system(rgb: np.ndarray, known: np.ndarray, unknown: np.ndarray,
            diag: float | np.ndarray = 0.0) -> tuple[_Rows, np.ndarray]:
    """The unknown pixels' rows of the matting Laplacian: (A = L_uu + diag I, rhs = -L_uk a_k),
    with a_k = known (float32 alpha, read only outside the unknown band).

    Rows are assembled in raster-order batches, and with each batch only the windows it touches
    are built (a few image rows either side are built twice): every window's 9x9 block of L is
    made in cache and each row gathers its 9 windows' blocks into its 5x5 neighbourhood, with no
    scatter into a whole-crop buffer (its fresh pages and scattered adds were a third of the
    build). Only rows within 2 px of a nonzero known alpha get a right-hand side.
    """
    h, w = unknown.shape
    wp = w + 4
    n = int(np.count_nonzero(unknown))
    centres = cv2.dilate(unknown.view(np.uint8), np.ones((3, 3), np.uint8))
    centres[0, :] = centres[-1, :] = 0
    centres[:, 0] = centres[:, -1] = 0
    # a pixel's RGBA bytes as one int32: a window's colours are 9 word gathers (gathering
    # channel planes was ~10x slower), and no float copy of the crop is made
    pix = cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA).reshape(-1).view(np.int32)
    # indices into the crop padded by 2 px (neighbour offsets then never leave it)
    cpad = np.flatnonzero(cv2.copyMakeBorder(centres, 2, 2, 2, 2, cv2.BORDER_CONSTANT))
    m = len(cpad)
    wid = np.full((h + 4) * wp, m, np.int32)  # window id per centre; m: no window there
    wid[cpad] = np.arange(m, dtype=np.int32)
    cy, cx = np.divmod(cpad, wp)
    cflat = (cy - 2) * w + (cx - 2)
    del cy, cx, centres
    off3 = np.array([dy * w + dx for dy, dx in _OFFS3], np.intp)
    off3pad = [dy * wp + dx for dy, dx in _OFFS3]
    linpad = np.flatnonzero(cv2.copyMakeBorder(unknown.view(np.uint8), 2, 2, 2, 2,
                                               cv2.BORDER_CONSTANT))
    vpad = np.full((h + 4) * wp, n, np.int32)  # n: not unknown, the dummy column
    vpad[linpad] = np.arange(n, dtype=np.int32)
    kpad = cv2.copyMakeBorder(known, 2, 2, 2, 2, cv2.BORDER_CONSTANT).reshape(-1)
    kpad[linpad] = 0
    # rows with a nonzero known value within 2 px: the only ones with a right-hand side
    near = cv2.dilate((kpad != 0).view(np.uint8).reshape(h + 4, wp), np.ones((5, 5), np.uint8))
    near_u = near.reshape(-1)[linpad].astype(bool)
    del near
    offs = np.array([dy * wp + dx for dy, dx in _OFF5], np.intp)
    rhs = np.zeros(n, np.float64)
    data = np.empty((n, 25), np.float32)
    cols = np.empty((n, 25), np.int32)
    # each batch's windows: centres within one px of its rows, a contiguous run in raster order
    starts = linpad[::ROW_CHUNK]
    ends = linpad[np.minimum(np.arange(ROW_CHUNK, n + ROW_CHUNK, ROW_CHUNK), n) - 1]
    c0s = np.searchsorted(cpad, starts - wp - 1)
    c1s = np.searchsorted(cpad, ends + wp + 2)
    # the batches' big temporaries, allocated once: fresh pages per batch were a tenth of the
    # CPU time (page faults)
    k_max = min(n, ROW_CHUNK)
    mc_max = int((c1s - c0s).max())
    g_buf = np.empty(81 * (mc_max + 1), np.float32)
    xy_buf = np.empty(54 * mc_max, np.float32)
    v5_buf = np.empty(25 * k_max, np.float32)
    nb_buf = np.empty((k_max, 25), np.intp)
    for s0, c0, c1 in zip(range(0, n, ROW_CHUNK), c0s.tolist(), c1s.tolist(), strict=True):
        lp = linpad[s0:s0 + ROW_CHUNK]
        k = len(lp)
        mc = c1 - c0
        y = _window_factors(pix.take(cflat[c0:c1][None, :] + off3[:, None]), xy_buf)
        g = _window_blocks(y, g_buf[:81 * (mc + 1)].reshape(9, 9, mc + 1))
        v5 = v5_buf[:25 * k].reshape(5, 5, k)
        v5.fill(0)
        for a, (ay, ax) in enumerate(_OFFS3):
            # the row is member a of the window centred at (-ay, -ax): that window's row a of
            # its block lands on the 3x3 of columns around (-ay, -ax)
            ids = wid.take(lp - off3pad[a])
            ids -= c0
            np.minimum(ids, mc, out=ids)  # no window: the zero column
            v5[1 - ay:4 - ay, 1 - ax:4 - ax] += g[a].take(ids, axis=1).reshape(3, 3, k)
        vals = data[s0:s0 + k]
        vals[...] = v5.reshape(25, k).T
        nb = nb_buf[:k]
        np.add(lp[:, None], offs[None, :], out=nb)
        cc = cols[s0:s0 + k]
        vpad.take(nb, out=cc, mode="clip")  # "raise" would buffer out: fresh pages per batch
        rr = np.flatnonzero(near_u[s0:s0 + k])
        if len(rr):
            rhs[s0 + rr] -= (vals[rr] * kpad.take(nb[rr])).sum(axis=1, dtype=np.float64)
        # np.isscalar is no type guard: diag is an array in the else branch
        vals[:, 12] += diag if np.isscalar(diag) else diag[s0:s0 + k]  # type: ignore[index, arg-type]
    return _Rows(data, cols), rhs


def _window_blocks(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Whitened colours y (9, 3, m) of m windows (scaled in place) -> g (9, 9, m + 1) float32,
    filled in place: g[a, b, i] the entry window i adds to L[member a, member b],
    delta_ab - (1 + y_a . y_b) / 9; g[:, :, m] = 0 (for rows that have no window somewhere)."""
    m = y.shape[2]
    g[:, :, m] = 0
    y *= np.float32(1 / 3)  # then delta_ab - 1/9 - y_a . y_b
    tmp = np.empty((9, m), np.float32)
    for a in range(9):
        # the block is symmetric: members a..8 made, the rest copied (half the passes)
        ga = g[a, a:, :m]
        t = tmp[:9 - a]
        np.multiply(y[a, 0][None, :], y[a:, 0], out=ga)
        np.multiply(y[a, 1][None, :], y[a:, 1], out=t)
        ga += t
        np.multiply(y[a, 2][None, :], y[a:, 2], out=t)
        ga += t
        np.subtract(np.float32(-1 / 9), ga, out=ga)
        ga[0] += 1.0
        g[a + 1:, a, :m] = g[a, a + 1:, :m]
    return g


def _window_factors(colours: np.ndarray, buf: np.ndarray | None = None) -> np.ndarray:
    """For m 3x3 windows, colours (9, m) int32 (RGBA bytes, A unused) -> whitened colours
    y (9, 3, m) float32 with L[member a, member b] = delta_ab - (1 + y_a . y_b) / 9 contributed
    by each window.

    y_a = R^-1 (I_a - mu) for the Cholesky factor R R^T of the window's regularised covariance,
    so y_a . y_b = (I_a - mu)^T (cov + eps/9)^-1 (I_b - mu) and |y_a|^2 is a Mahalanobis distance
    (below 9): float32 holds y and its dot products well. Only the per-window factor is taken
    in float64 (the covariance is nearly singular with epsilon 1e-7); the (9, m) arrays stay
    float32 (float64 there scored the same on soft-dev, largest alpha difference .025, and was
    slower). buf: optional float32 scratch of at least 54 m (x and y are made in it).
    """
    m = colours.shape[1]
    rgba = colours.view(np.uint8).reshape(9, m, 4)
    if buf is None:
        buf = np.empty(54 * m, np.float32)
    x = buf[:27 * m].reshape(3, 9, m)
    for c in range(3):
        np.multiply(rgba[:, :, c], np.float32(1 / 255), out=x[c])
        x[c] -= x[c].mean(axis=0)
    e = EPSILON / 9.0

    def cov(i: int, j: int) -> np.ndarray:
        c: np.ndarray = np.einsum("am,am->m", x[i], x[j]).astype(np.float64) / 9.0
        return c

    l00 = np.sqrt(cov(0, 0) + e)
    l10 = cov(0, 1) / l00
    l20 = cov(0, 2) / l00
    l11 = np.sqrt(np.maximum(cov(1, 1) + e - l10 * l10, e))
    l21 = (cov(1, 2) - l20 * l10) / l11
    l22 = np.sqrt(np.maximum(cov(2, 2) + e - l20 * l20 - l21 * l21, e))
    f = np.float32
    r00, r11, r22 = (1.0 / l00).astype(f), (1.0 / l11).astype(f), (1.0 / l22).astype(f)
    l10, l20, l21 = l10.astype(f), l20.astype(f), l21.astype(f)
    y = buf[27 * m:54 * m].reshape(9, 3, m)
    y0 = y[:, 0]
    np.multiply(x[0], r00, out=y0)
    y1 = y[:, 1]
    np.multiply(l10, y0, out=y1)
    np.subtract(x[1], y1, out=y1)
    y1 *= r11
    y2 = y[:, 2]
    np.multiply(l20, y0, out=y2)
    np.subtract(x[2], y2, out=y2)
    y2 -= l21 * y1
    y2 *= r22
    return y


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # einsum, not np.dot: a BLAS dot spins up OpenBLAS threads, which on a loaded 2-core
    # machine made every dot product ~100x slower. Summed in float32 (einsum's unrolled
    # partial sums keep the error far below what a few dozen CG steps notice): casting to
    # float64 made each dot 4x slower, a tenth of the whole solve.
    return float(np.einsum("i,i->", a, b))


def _rows_matvec(A: _Rows) -> MatVec:
    """out = A @ v into a preallocated array with scipy's CSR kernel called directly (no
    per-call checks or allocation, no sparse matrix object to build); falls back to A @ v."""
    nnz = A.data.size
    n = A.data.shape[0] + 1  # the band's rows and the dummy variable's, empty
    indptr = np.minimum(np.arange(n + 1, dtype=np.int64) * 25, nnz).astype(
        np.int32 if nnz < 2**31 else np.int64)
    indices = A.cols.reshape(-1).astype(indptr.dtype, copy=False)
    data = A.data.reshape(-1)
    try:
        from scipy.sparse import _sparsetools
        kernel = _sparsetools.csr_matvec
    except (ImportError, AttributeError):  # private scipy module: keep working if it moves
        kernel = None
    if kernel is None:
        csr = sp.csr_matrix((data, indices, indptr), shape=(n, n))

        def fallback(v: np.ndarray, out: np.ndarray) -> None:
            out[...] = csr @ v
        return fallback

    def matvec(v: np.ndarray, out: np.ndarray) -> None:
        out.fill(0)  # the kernel accumulates
        kernel(n, n, indptr, indices, data, v, out)
    return matvec


def _pcg_jacobi(A: _Rows, b: np.ndarray, x0: np.ndarray | None, maxiter: int) -> np.ndarray:
    """Jacobi-preconditioned conjugate gradients, a fixed number of iterations.

    The iteration counts are a speed/quality trade-off, not a regulariser: on soft-dev more
    iterations still lowered SAD and Grad (before settling: 40/100/300 per level SAD 4.36,
    Grad 3.69; 80/200/300 SAD 4.19, Grad 3.30; 150/300/600 SAD 4.17, Grad 3.15) at 1.3-1.8x
    the time; fewer raised them (30/100: SAD 4.47, Grad 3.84).
    """
    # float32 throughout: the sparse product is memory bound, and a few dozen iterations from a
    # good start do not need float64's precision (dot products: see _dot). Every vector carries
    # the dummy variable n (see _Rows) at 0: its b, x0 and preconditioner are 0 and its row is
    # empty, so r, z, p and x stay 0 there
    n = len(b)
    b = np.append(b, 0).astype(np.float32)
    inv_d = np.zeros(n + 1, np.float32)
    np.divide(1.0, np.maximum(A.data[:, 12], 1e-12), out=inv_d[:n])
    x = np.zeros_like(b)
    if x0 is not None:
        x[:n] = x0
    matvec = _rows_matvec(A)
    q = np.empty_like(b)
    matvec(x, q)
    r = b - q
    bnorm = math.sqrt(_dot(b, b)) or 1.0
    z = inv_d * r
    p = z.copy()
    rz = _dot(r, z)
    for it in range(maxiter):
        # the residual test costs a dot product: only every few steps
        if it % RESIDUAL_EVERY == 0 and math.sqrt(_dot(r, r)) <= CG_RTOL * bnorm:
            break
        matvec(p, q)
        pq = _dot(p, q)
        if pq <= 0.0:  # solved exactly (a band of a few pixels): p is 0, x is the answer
            break
        step = rz / pq
        # in place, and each update one fused pass (cv2's a * u + v): numpy's multiply then
        # add was 2-3x slower, a tenth of the CG time
        cv2.scaleAdd(p, step, x, dst=x)
        cv2.scaleAdd(q, -step, r, dst=r)
        cv2.multiply(inv_d, r, dst=z)
        rz_new = _dot(r, z)
        if rz_new <= 0.0:  # the residual is exactly 0: solved
            break
        cv2.scaleAdd(p, rz_new / rz, z, dst=p)
        rz = rz_new
    return x[:n]


# --- foreground -------------------------------------------------------------------------------

FG_RADII = (90, 6)  # blur-fusion's two passes: a wide one for a stable estimate, a narrow one
# The wide pass's box means are computed at 1/FG_COARSE resolution and interpolated: a box of 90
# px is smooth, and 3 divides 90, so on the coarse grid the coarse box (30) covers exactly the
# full-resolution box. On the profile's generated 2-24 MP photos and three dev photos the colours
# of fractional pixels differ from the full-resolution pass by a mean of 0.06-0.34/255, at most
# 5/255 where alpha >= 0.1 (up to ~45/255 below it, where the wide box holds almost no object);
# alpha times the difference, what a composite shows, stays within 1/255. 4 (box 22 = 88 px)
# gave 3-5x the mean difference, 2 cost ~20% more time.
FG_COARSE = 3
_FG_EPS = 1e-5
_FG_REACH = FG_RADII[1] // 2 + 1  # how far the narrow box reads from a pixel, one px spare
# the wide means are read within _FG_REACH of a fractional pixel, and their box reaches half the
# wide radius further; one coarse pixel for the interpolation, one for the grid: the context a
# fractional pixel's estimate reads
FG_MARGIN = _FG_REACH + FG_RADII[0] // 2 + 2 * FG_COARSE
_FG_TILE = 192  # px side of the tiles the narrow pass runs on (canvases stay ~0.3 MB)
_REMAP_W = 4096  # cv2.remap wants maps under 32767 px a side


def estimate_foreground(rgb: np.ndarray, alpha: np.ndarray, *,
                        core: Box | None = None) -> np.ndarray:
    """Foreground colours (H, W, 3) uint8: rgb where alpha is 0 or 1, unmixed where fractional.

    Blur-fusion (Forte & Pitie 2021) with the wide pass at reduced resolution, evaluated only
    where the narrow pass reads it, and the narrow pass only at fractional pixels (see FG_COARSE).
    alpha: float in [0, 1], or uint8 read as alpha/255 (bit-identical to passing
    ``alpha.astype(np.float32) * np.float32(1 / 255)``).
    core (y0, y1, x0, x1): unmix only the fractional pixels inside it (the rest keep rgb), for a
    caller that tiles an image with FG_MARGIN px of context around each tile; the coarse grid
    is then anchored at multiples of FG_COARSE from the array's origin, so tiles cut at such
    offsets share one grid and the result does not depend on the tiling.
    """
    if (not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3
            or rgb.dtype != np.uint8):
        raise ValueError("rgb must be an (H, W, 3) uint8 array")
    if not isinstance(alpha, np.ndarray) or alpha.shape != rgb.shape[:2]:
        raise ValueError(f"alpha must be an array of shape {rgb.shape[:2]}")
    out = np.array(rgb, order="C")  # one copy, contiguous
    if alpha.dtype == np.uint8:  # 0..255, scaled where the passes read it (no float copy)
        a = alpha
        frac = cv2.inRange(a, 1, 254)  # the same pixels as the float bounds below
    else:
        a = alpha.astype(np.float32, copy=False)
        if not np.isfinite(a).all():
            raise ValueError("alpha must be finite")
        # 1/512 < alpha < 1 - 1/512 (inRange is inclusive) in one pass instead of three
        frac = cv2.inRange(a, float(np.nextafter(np.float32(1 / 512), np.float32(1))),
                           float(np.nextafter(np.float32(1 - 1 / 512), np.float32(0))))
    if core is not None:
        cy0, cy1, cx0, cx1 = core
        frac[:max(cy0, 0)] = 0
        frac[max(cy1, 0):] = 0
        frac[:, :max(cx0, 0)] = 0
        frac[:, max(cx1, 0):] = 0
    ys = np.flatnonzero(frac.any(axis=1))
    if ys.size == 0:
        return out
    xs = np.flatnonzero(frac.any(axis=0))
    h, w = a.shape
    reach = _FG_REACH
    margin = FG_MARGIN
    grid = core is not None
    y0, y1 = _coarse_span(ys[0] - margin, ys[-1] + 1 + margin, h, grid)
    x0, x1 = _coarse_span(xs[0] - margin, xs[-1] + 1 + margin, w, grid)
    wide = _wide_means(rgb[y0:y1, x0:x1], a[y0:y1, x0:x1], frac[y0:y1, x0:x1])
    for ty in range(ys[0], ys[-1] + 1, _FG_TILE):
        ty1 = min(ty + _FG_TILE, ys[-1] + 1)
        for tx in range(xs[0], xs[-1] + 1, _FG_TILE):
            tx1 = min(tx + _FG_TILE, xs[-1] + 1)
            if frac[ty:ty1, tx:tx1].any():
                _fg_tile(rgb, a, frac, out, wide, (y0, x0), (ty, ty1, tx, tx1), reach)
    return out


def _fg_tile(rgb: np.ndarray, a: np.ndarray, frac: np.ndarray, out: np.ndarray,
             wide: np.ndarray, origin: tuple[int, int], box: Box, reach: int) -> None:
    """Both passes for the fractional pixels of box (ty, ty1, tx, tx1), written into out.

    The narrow box of a fractional pixel is read from a canvas of the box plus `reach`; the
    wide pass (f1, b1) is evaluated only at the canvas pixels some such box reads."""
    h, w = a.shape
    r = FG_RADII[1]
    ty, ty1, tx, tx1 = box
    cy0, cy1 = max(ty - reach, 0), min(ty1 + reach, h)
    cx0, cx1 = max(tx - reach, 0), min(tx1 + reach, w)
    hc, wc = cy1 - cy0, cx1 - cx0
    f = np.zeros((hc, wc), np.uint8)
    f[ty - cy0:ty1 - cy0, tx - cx0:tx1 - cx0] = frac[ty:ty1, tx:tx1]
    # the box of pixel p covers p + [-(r//2), r - 1 - r//2], so a pixel q is read by the
    # fractional pixels in q + [r//2 + 1 - r, r//2]
    near = np.flatnonzero(cv2.dilate(f, np.ones((r, r), np.uint8), anchor=(r - 1 - r // 2,) * 2))
    a_c = _unit_alpha(a[cy0:cy1, cx0:cx1]).ravel()
    rgb_c = np.ascontiguousarray(rgb[cy0:cy1, cx0:cx1]).reshape(-1, 3)
    an = a_c[near][:, None]
    img = rgb_c[near].astype(np.float32)
    img *= np.float32(1 / 255)
    m = _sample_wide(wide, near // wc + (cy0 - origin[0]), near % wc + (cx0 - origin[1]))
    ba = m[:, :1]
    bf = m[:, 1:4] / (ba + _FG_EPS)
    bb = m[:, 4:7] - m[:, 1:4]  # the mean of rgb*(1-alpha)
    bb /= (1.0 + _FG_EPS) - ba
    f1 = bf * (1.0 - an * an)  # = bf + a (img - a bf - (1 - a) bb)
    f1 += an * (img - (1.0 - an) * bb)
    np.clip(f1, 0.0, 1.0, out=f1)
    # narrow pass; f1*alpha and b1*(1-alpha) are left at zero outside `near`, which no
    # fractional pixel's box reads
    fi = np.flatnonzero(f)
    ba2 = cv2.blur(a_c.reshape(hc, wc), (r, r)).ravel()[fi][:, None]
    canvas = np.zeros((hc * wc, 3), np.float32)
    f1 *= an
    canvas[near] = f1
    bf2 = cv2.blur(canvas.reshape(hc, wc, 3), (r, r)).reshape(-1, 3)[fi]
    np.divide(bf2, ba2 + _FG_EPS, out=bf2)
    bb *= 1.0 - an
    canvas[near] = bb
    bb2 = cv2.blur(canvas.reshape(hc, wc, 3), (r, r)).reshape(-1, 3)[fi]
    np.divide(bb2, (1.0 + _FG_EPS) - ba2, out=bb2)
    af = a_c[fi][:, None]
    img = rgb_c[fi].astype(np.float32)
    img *= np.float32(1 / 255)
    f2 = bf2 * (1.0 - af * af)
    f2 += af * (img - (1.0 - af) * bb2)
    f2 *= 255.0
    np.clip(f2, 0.0, 255.0, out=f2)
    at = (fi // wc + cy0) * w + (fi % wc + cx0)
    out.reshape(-1, 3)[at] = np.rint(f2).astype(np.uint8)


def _unit_alpha(a: np.ndarray) -> np.ndarray:
    """A float32 copy of alpha in [0, 1]: uint8 scaled by 1/255, float clipped."""
    if a.dtype == np.uint8:
        u = a.astype(np.float32)
        u *= np.float32(1 / 255)
        return u
    return cast(np.ndarray, np.clip(a, 0.0, 1.0))


def _coarse_span(lo: int, hi: int, n: int, grid: bool = False) -> tuple[int, int]:
    """[lo, hi) clipped to [0, n) and widened (inside [0, n)) to a multiple of FG_COARSE;
    with grid, to multiples of FG_COARSE (the last block may end at n)."""
    lo, hi = max(lo, 0), min(hi, n)
    if grid:
        return lo // FG_COARSE * FG_COARSE, min(-(-hi // FG_COARSE) * FG_COARSE, n)
    size = -(-(hi - lo) // FG_COARSE) * FG_COARSE
    hi = min(lo + size, n)
    return max(hi - size, 0), hi


def _wide_means(rgb: np.ndarray, a: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Box means of (alpha, rgb*alpha, rgb) over the wide radius at 1/FG_COARSE resolution,
    (H/s, W/s, 7) float32, correct where `_sample_wide` reads them within `_FG_REACH` px of a
    fractional pixel; blocks farther than FG_MARGIN from every fractional pixel are left at zero.

    rgb, a, frac: the region, its top-left corner on the coarse grid."""
    s = FG_COARSE
    band = 64 * s
    h, w = a.shape
    low = np.zeros((-(-h // s), -(-w // s), 7), np.float32)
    far = FG_MARGIN  # the context a fractional pixel's estimate reads
    rows = np.asarray(frac.any(axis=1))
    for y in range(0, h, band):
        y1 = min(y + band, h)
        ya, yb = max(y - far, 0), min(y1 + far, h)
        if not rows[ya:yb].any():
            continue
        any_col = np.asarray(frac[ya:yb].any(axis=0), np.uint8)
        cols = cv2.dilate(any_col[None, :],
                          np.ones((1, 2 * far + 1), np.uint8))[0]
        for x, x1 in _coarse_runs(cols):
            rb, ab = rgb[y:y1, x:x1], _unit_alpha(a[y:y1, x:x1])
            ph, pw = -(y1 - y) % s, -(x1 - x) % s
            if ph or pw:  # only at the image's far edges: repeat the last pixel
                rb = cv2.copyMakeBorder(rb, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
                ab = cv2.copyMakeBorder(ab, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
            size = ((x1 - x + pw) // s, (y1 - y + ph) // s)
            dst = low[y // s:y // s + size[1], x // s:x // s + size[0]]
            dst[..., 0] = cv2.resize(ab, size, interpolation=cv2.INTER_AREA)
            # rgb * alpha, the same float32 products as numpy's broadcast in a third less CPU
            rgb_a = cv2.multiply(rb, cv2.merge([ab, ab, ab]), dtype=cv2.CV_32F)
            dst[..., 1:4] = cv2.resize(rgb_a, size, interpolation=cv2.INTER_AREA)
            dst[..., 4:7] = cv2.resize(rb, size, interpolation=cv2.INTER_AREA)
    low[..., 1:] *= np.float32(1 / 255)
    k = FG_RADII[0] // s
    return cv2.blur(low, (k, k))


def _coarse_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of the runs of nonzero entries of a 1-D mask, widened to FG_COARSE."""
    s = FG_COARSE
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask != 0, [0])).astype(np.int8)))
    runs: list[tuple[int, int]] = []
    for lo, hi in zip(edges[::2], edges[1::2], strict=True):
        lo, hi = int(lo) // s * s, min(-(-int(hi) // s) * s, mask.size)
        if runs and lo <= runs[-1][1]:
            runs[-1] = (runs[-1][0], hi)
        else:
            runs.append((lo, hi))
    return runs


def _sample_wide(low: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The coarse wide means linearly interpolated at full-resolution pixels (y, x): (N, 7)."""
    s, r = FG_COARSE, FG_RADII[0]
    k = r // s
    # the full-resolution box of size r is centred at pixel + ((r-1)/2 - r//2); coarse pixel j
    # covers s px centred at s*j + (s-1)/2, and its box of size k is centred at
    # j + ((k-1)/2 - k//2)
    off = np.float32(((r - 1) / 2 - r // 2 - (s - 1) / 2) / s - ((k - 1) / 2 - k // 2))
    n = x.size
    rows = -(-n // _REMAP_W)
    mx = np.zeros(rows * _REMAP_W, np.float32)
    my = np.zeros(rows * _REMAP_W, np.float32)
    mx[:n] = x
    my[:n] = y
    mx *= np.float32(1 / s)
    my *= np.float32(1 / s)
    mx += off
    my += off
    got = cv2.remap(low, mx.reshape(rows, _REMAP_W), my.reshape(rows, _REMAP_W),
                    cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return got.reshape(-1, low.shape[2])[:n]

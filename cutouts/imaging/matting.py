"""Alpha matting inside an unknown band and foreground colour estimation (the one implementation).

Closed-form matting (Levin, Lischinski & Weiss 2008): alpha is locally an affine function of the
colour in every 3x3 window, which gives a sparse "matting Laplacian" L; the alpha of the unknown
pixels minimises a^T L a with the known pixels held fixed (hard constraints, so known pixels stay
exactly 0/1). A weak, confidence-weighted sampling data term (as in robust matting: the nearest
known foreground and background colours explain the pixel as their mixture) pulls each unknown
pixel towards that estimate. Only windows that touch the unknown band are built (vectorised
batches) and only the unknown pixels are variables, so time and memory follow the band, not the
image. The system is
solved coarse to fine (half-size problems give the starting point) with a few Jacobi-
preconditioned CG iterations per level — pure numpy/scipy, no numba compile. Big bands are split
into overlapping tiles blended at the seams.

Foreground colours use blur-fusion (Forte & Pitie 2021, "Approximate fast foreground colour
estimation"), computed only around fractional alpha, so hair composited on a new background does
not carry a fringe of the old one.
"""

from __future__ import annotations

import math

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
TILE_OVERLAP = 48
# windows built (and unknown rows assembled) per vectorised batch: small enough that the
# batch's float64 temporaries stay in cache (8192 was ~10% faster overall than 32768)
WINDOW_CHUNK = 8192
CG_RTOL = 1e-7
RESIDUAL_EVERY = 10
# CG iterations at full size, half size, quarter size, ... (coarse to fine; see _solve_tile)
ITERATIONS = (40, 100)
MAX_LEVEL = 2
DIRECT_ITERATIONS = 300  # at the coarsest level, which starts from nothing
COARSE_MIN = 5000  # unknown pixels below which a level is solved directly
MAX_TILE_AREA = 1_500_000  # px of a tile's bounding box (its L planes take 52 B/px)

_OFFS3 = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def _check_inputs(rgb, trimap, prior):
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
    alpha = (trimap == 255).astype(np.float32)
    unknown = (trimap != 0) & (trimap != 255)
    n_unknown = int(np.count_nonzero(unknown))
    if n_unknown == 0:
        return alpha
    for (y0, y1, x0, x1), weight in _tiles(unknown, n_unknown):
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


# --- tiling ---------------------------------------------------------------------------------

def _tiles(unknown: np.ndarray, n_unknown: int):
    """(box, weight) per solve: the band's bounding box, halved while it holds too many unknowns.

    Each half is solved with TILE_OVERLAP px of context beyond its cut and blended across the cut
    with a linear ramp; the ramps of a split sum to one, so the leaves' weights form a partition
    of unity and a seam never shows as a step.
    """
    h, w = unknown.shape
    ys = np.flatnonzero(unknown.any(axis=1))
    xs = np.flatnonzero(unknown.any(axis=0))
    box = (int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1)
    leaves: list = []
    _split(unknown, box, n_unknown, (), leaves)
    if len(leaves) == 1:
        y0, y1, x0, x1 = box
        yield (max(y0 - 2, 0), min(y1 + 2, h), max(x0 - 2, 0), min(x1 + 2, w)), None
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


def _split(unknown, box, n, cuts, out):
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


def _near_cut(unknown, b, axis, mid):
    """True if the other half has unknowns within the blend zone of this (empty) half."""
    m = TILE_OVERLAP // 2 + 1
    y0, y1, x0, x1 = b
    if axis == 0:
        return bool(unknown[max(mid - m, 0):mid + m, x0:x1].any())
    return bool(unknown[y0:y1, max(mid - m, 0):mid + m].any())


# --- one solve --------------------------------------------------------------------------------

def _solve_tile(rgb, trimap, unknown, prior, level=0, fills=None):
    """Closed-form alpha for one crop (windows lie fully inside it), coarse to fine.

    A half-resolution solve (recursively) gives the starting point, so the full-resolution CG
    only has to fix fine detail: a few cheap Jacobi-preconditioned iterations per level instead
    of hundreds at full size (the low frequencies are what makes plain CG slow here).
    """
    n = int(np.count_nonzero(unknown))
    out = (trimap == 255).astype(np.float32)
    if n == 0:
        return out
    x0 = None
    iterations = DIRECT_ITERATIONS
    if level < MAX_LEVEL and n > COARSE_MIN:
        iterations = ITERATIONS[level]
        if DATA_WEIGHT > 0 and fills is None:
            fills = _fills(rgb, trimap)
        rc, tc, pc = _downsample(rgb, trimap, prior)
        # the coarse level reuses the fine fills (downsampled): filling is the costly part
        fc = None if fills is None else tuple(
            cv2.resize(f, (tc.shape[1], tc.shape[0]), interpolation=cv2.INTER_AREA) for f in fills)
        ac = _solve_tile(rc, tc, (tc != 0) & (tc != 255), pc, level + 1, fc)
        up = cv2.resize(ac, (unknown.shape[1], unknown.shape[0]), interpolation=cv2.INTER_LINEAR)
        x0 = up[unknown].astype(np.float64)
    # a weak pull towards the prior (or towards 0.5 for islands with no known pixel nearby)
    if prior is not None:
        p = prior[unknown].astype(np.float64).clip(0, 1)
        weight = PRIOR_WEIGHT
        if x0 is None:
            x0 = p
    else:
        p = 0.5
        weight = ISLAND_WEIGHT
    if DATA_WEIGHT > 0:
        est, conf = _colour_estimate(rgb, unknown, fills or _fills(rgb, trimap))
        dw = DATA_WEIGHT * conf
        A, rhs = _system(rgb, trimap, unknown, weight + dw)
        rhs += weight * p + dw * est
    else:
        A, rhs = _system(rgb, trimap, unknown, weight)
        rhs += weight * p
    x = _pcg_jacobi(A, rhs, x0, iterations)
    out[unknown] = np.clip(x, 0.0, 1.0)
    return out


def _fill(values, mask):
    """Push-pull: spread the colours of mask's pixels into the rest (nearest ones dominate)."""
    m = mask.astype(np.float32)
    # colour * mask and mask as one 4-channel image: one pyrDown per level instead of two
    cm = cv2.merge([values[..., 0] * m, values[..., 1] * m, values[..., 2] * m, m])
    pyr = [cm]
    while min(pyr[-1].shape[:2]) > 8:
        pyr.append(cv2.pyrDown(pyr[-1]))
    cm = pyr[-1]
    est = cm[..., :3] / np.maximum(cm[..., 3:], 1e-6)
    for cm in reversed(pyr[:-1]):
        up = cv2.pyrUp(est, dstsize=(cm.shape[1], cm.shape[0]))
        m = cm[..., 3:]
        wgt = np.minimum(m * 4.0, 1.0)
        # wgt * (c / m) + (1 - wgt) * up, in place
        est = cm[..., :3] / np.maximum(m, 1e-6)
        est -= up
        est *= wgt
        est += up
    return est


def _fills(rgb, trimap):
    """The nearest known foreground and background colours at every pixel (float32 0..1)."""
    img = rgb.astype(np.float32) / 255.0
    return _fill(img, trimap == 255), _fill(img, trimap == 0)


def _colour_estimate(rgb, unknown, fills):
    """A sampling data term (as in robust matting): alpha from the nearest known foreground and
    background colours, with a confidence that is high only where the pixel is well explained
    as their mixture and the two colours differ."""
    f = fills[0][unknown]
    b = fills[1][unknown]
    i = rgb[unknown].astype(np.float32) / 255.0
    fb = f - b
    dist2 = (fb * fb).sum(axis=1)
    a = np.clip(((i - b) * fb).sum(axis=1) / np.maximum(dist2, 1e-6), 0.0, 1.0)
    res = i - (a[:, None] * f + (1 - a[:, None]) * b)
    res2 = (res * res).sum(axis=1)
    conf = np.exp(-res2 / DATA_SIGMA2) * dist2 / (dist2 + DATA_TAU2)
    return a.astype(np.float64), conf.astype(np.float64)


def _downsample(rgb, trimap, prior):
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


_OFF5 = {(dy, dx): (dy + 2) * 5 + dx + 2 for dy in range(-2, 3) for dx in range(-2, 3)}
# L is symmetric: only the 13 offsets at or after (0, 0) in raster order are stored as planes;
# L[p, p + d] for the other 12 is read at the neighbour, L[p + d, (p + d) - d]
_HALF = {d: j for j, d in enumerate(d for d in _OFF5 if d >= (0, 0))}
# for window member a: the half planes of its pairs with members a..8 (raster order)
_PAIR_PLANES = [np.array([_HALF[(by - ay, bx - ax)] for by, bx in _OFFS3[ka:]])
                for ka, (ay, ax) in enumerate(_OFFS3)]


def _system(rgb, trimap, unknown, diag=0.0):
    """The unknown pixels' rows of the matting Laplacian: (A = L_uu + diag I as CSR,
    rhs = -L_uk a_k).

    Only the windows touching the band are built, in vectorised batches (no per-window Python).
    L is kept as 13 dense offset planes over the crop (half the 5x5 neighbourhood, by symmetry),
    stored pixel-major, and becomes float32 CSR directly, already sorted.
    """
    h, w = unknown.shape
    n = int(np.count_nonzero(unknown))
    centres = cv2.dilate(unknown.view(np.uint8), np.ones((3, 3), np.uint8))
    img = rgb.astype(np.float32) * np.float32(1 / 255)
    # padded by 2 (zeros) so that every pixel's 5x5 neighbourhood can be read without checks
    # pixel-major (pixel, plane): a pixel's 13 entries share a cache line for scatter and gather
    planes = np.zeros(((h + 4) * (w + 4), len(_HALF)), np.float32)
    flatp = planes.ravel()
    # only the windows that touch the band: centres within 1 px of it, inside the crop
    centres[0, :] = centres[-1, :] = 0
    centres[:, 0] = centres[:, -1] = 0
    cy, cx = np.nonzero(centres)
    cflat = (cy * w + cx).astype(np.int64)
    cpad = ((cy + 2) * (w + 4) + (cx + 2)).astype(np.int64)
    del cy, cx
    # channel planes: the gathered window colours come out with the window index innermost
    pix = np.ascontiguousarray(img.reshape(-1, 3).T)
    off3 = np.array([dy * w + dx for dy, dx in _OFFS3], np.int64)
    off3pad = [dy * (w + 4) + dx for dy, dx in _OFFS3]
    for s0 in range(0, len(cflat), WINDOW_CHUNK):
        cf = cflat[s0:s0 + WINDOW_CHUNK]
        cp = cpad[s0:s0 + WINDOW_CHUNK]
        y, xc = _window_factors(pix[:, cf[None, :] + off3[:, None]].transpose(1, 0, 2))
        for ka in range(9):
            # L[a, b] = delta_ab - (1 + y_a . xc_b) / 9, only for the members b >= a (symmetry)
            g = y[ka, 0][None, :] * xc[ka:, 0]
            g += y[ka, 1][None, :] * xc[ka:, 1]
            g += y[ka, 2][None, :] * xc[ka:, 2]
            g += 1.0
            g *= np.float32(-1 / 9)
            g[0] += 1.0
            # member a of every window against the members after it: distinct target pixels
            # for a fixed member, so a plain fancy += is exact (no np.add.at needed)
            tgt = _PAIR_PLANES[ka][:, None] + ((cp + off3pad[ka]) * len(_HALF))[None, :]
            flatp[tgt] += g
    # gathers by flat index cost O(band), where boolean masks would cost O(tile) per neighbour
    vpad = np.full((h + 4, w + 4), -1, np.int32)
    vpad[2:-2, 2:-2][unknown] = np.arange(n, dtype=np.int32)
    fgpad = np.zeros((h + 4, w + 4), bool)
    fgpad[2:-2, 2:-2] = trimap == 255
    ys, xs = np.nonzero(unknown)
    linpad = ((ys + 2) * (w + 4) + (xs + 2)).astype(np.int32)
    del ys, xs
    offs = np.array([dy * (w + 4) + dx for dy, dx in _OFF5], np.int32)
    shift = _gather_shift(w)
    vflat, fgflat = vpad.ravel(), fgpad.ravel()
    rhs = np.zeros(n, np.float64)
    counts = np.empty(n, np.int32)
    data_parts, col_parts = [], []
    for s0 in range(0, n, WINDOW_CHUNK):
        lp = linpad[s0:s0 + WINDOW_CHUNK]
        nb = lp[:, None] + offs[None, :]  # (rows, 25) padded flat index of every neighbour
        # one gather for all 25 neighbours: where (pixel, plane) each L[p, p + d] is stored
        # (float32 like the planes: the CG runs in float32)
        vals = flatp[(lp * len(_HALF)).astype(np.int64)[:, None] + shift[None, :]]
        cols = vflat[nb]
        # a foreground neighbour: -L_uk * 1 moves to the right-hand side (background ones
        # add 0); few pixels have one, so sum over those pairs only
        rr, cc = np.nonzero(fgflat[nb])
        if len(rr):
            rhs[s0:s0 + len(lp)] -= np.bincount(rr, weights=vals[rr, cc].astype(np.float64),
                                                minlength=len(lp))
        vals[:, _OFF5[0, 0]] += diag if np.isscalar(diag) else diag[s0:s0 + len(lp)]
        keep = (cols >= 0) & (vals != 0)
        counts[s0:s0 + len(lp)] = keep.sum(axis=1)
        data_parts.append(vals[keep])
        col_parts.append(cols[keep])
    del planes
    # int32 like the column indices (otherwise scipy upcasts them): n * 25 stays far below 2**31
    indptr = np.zeros(n + 1, np.int32)
    np.cumsum(counts, out=indptr[1:])
    A = sp.csr_matrix((np.concatenate(data_parts), np.concatenate(col_parts), indptr),
                      shape=(n, n))
    return A, rhs


def _gather_shift(w):
    """Flat offset into the (pixel, plane) array of L[p, p + d] for each of the 25 offsets d,
    relative to p's entry 0 (offsets before (0, 0) are read at the neighbour, by symmetry)."""
    out = np.empty(25, np.int64)
    for d, k in _OFF5.items():
        lin = d[0] * (w + 4) + d[1]
        if d >= (0, 0):
            out[k] = _HALF[d]
        else:
            out[k] = _HALF[(-d[0], -d[1])] + lin * len(_HALF)
    return out


def _window_factors(colours):
    """For m 3x3 windows, colours (9, 3, m) float32 -> (y, xc), both (9, 3, m) float32, with
    L[member a, member b] = delta_ab - (1 + y_a . xc_b) / 9 contributed by each window."""
    xc = colours - colours.mean(axis=0)
    # covariance and its inverse in float64: with epsilon 1e-7 it is nearly singular
    x64 = xc.astype(np.float64)
    e = EPSILON / 9.0

    def cov(i, j):
        return np.einsum("am,am->m", x64[:, i], x64[:, j]) / 9.0

    a, b, c = cov(0, 0) + e, cov(0, 1), cov(0, 2)
    d, f, g = cov(1, 1) + e, cov(1, 2), cov(2, 2) + e
    i00, i01, i02 = d * g - f * f, c * f - b * g, b * f - c * d
    i11, i12, i22 = a * g - c * c, b * c - a * f, a * d - b * b
    det = a * i00 + b * i01 + c * i02
    i00, i01, i02, i11, i12, i22 = (v / det for v in (i00, i01, i02, i11, i12, i22))
    # y_k = inv @ xc_k (float64: inv is huge where the window is flat and the sum cancels);
    # the entries delta - (1 + y_a . xc_b) / 9 are bounded, so the rest runs in float32
    y = np.empty(xc.shape, np.float32)
    x0, x1, x2 = x64[:, 0], x64[:, 1], x64[:, 2]
    for row, (r0, r1, r2) in enumerate(((i00, i01, i02), (i01, i11, i12), (i02, i12, i22))):
        y[:, row] = r0 * x0 + r1 * x1 + r2 * x2
    return y, xc


def _dot(a, b):
    # einsum, not np.dot: a BLAS dot spins up OpenBLAS threads, which on a loaded 2-core
    # machine made every dot product ~100x slower. Summed in float32 (einsum's unrolled
    # partial sums keep the error far below what a few dozen CG steps notice): casting to
    # float64 made each dot 4x slower, a tenth of the whole solve.
    return float(np.einsum("i,i->", a, b))


def _csr_matvec(A):
    """out = A @ v into a preallocated array, without scipy's per-call checks and allocation
    (a tenth of the CG time on the small coarse levels); falls back to A @ v."""
    try:
        from scipy.sparse import _sparsetools
        kernel = _sparsetools.csr_matvec
    except (ImportError, AttributeError):  # private scipy module: keep working if it moves
        kernel = None
    if kernel is None or A.indices.dtype != A.indptr.dtype:

        def fallback(v, out):
            out[...] = A @ v
        return fallback
    n_rows, n_cols = A.shape

    def matvec(v, out):
        out.fill(0)  # the kernel accumulates
        kernel(n_rows, n_cols, A.indptr, A.indices, A.data, v, out)
    return matvec


def _pcg_jacobi(A, b, x0, maxiter):
    """Jacobi-preconditioned conjugate gradients, a fixed number of iterations.

    Stopping early is deliberate (measured on soft-dev): the last iterations of a full
    convergence fit noise in flat colour areas and raise SAD and Grad.
    """
    # float32 throughout: the sparse product is memory bound, and a few dozen iterations from a
    # good start do not need float64's precision (dot products: see _dot)
    A = A.astype(np.float32, copy=False)
    b = b.astype(np.float32)
    inv_d = (1.0 / np.maximum(A.diagonal(), 1e-12)).astype(np.float32)
    x = np.zeros_like(b) if x0 is None else x0.astype(np.float32)
    r = b - A @ x
    bnorm = math.sqrt(_dot(b, b)) or 1.0
    z = inv_d * r
    p = z.copy()
    q = np.empty_like(b)
    tmp = np.empty_like(b)
    matvec = _csr_matvec(A)
    rz = _dot(r, z)
    for it in range(maxiter):
        # the residual test costs a dot product: only every few steps
        if it % RESIDUAL_EVERY == 0 and math.sqrt(_dot(r, r)) <= CG_RTOL * bnorm:
            break
        matvec(p, q)
        step = np.float32(rz / _dot(p, q))
        # in place: thousands of small solves' temporaries were a measurable share
        np.multiply(p, step, out=tmp)
        x += tmp
        np.multiply(q, step, out=tmp)
        r -= tmp
        np.multiply(inv_d, r, out=z)
        rz_new = _dot(r, z)
        p *= np.float32(rz_new / rz)
        p += z
        rz = rz_new
    return x


# --- foreground -------------------------------------------------------------------------------

FG_RADII = (90, 6)  # blur-fusion's two passes: a wide one for a stable estimate, a narrow one


def estimate_foreground(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Foreground colours (H, W, 3) uint8: rgb where alpha is 0 or 1, unmixed where fractional."""
    if (not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3
            or rgb.dtype != np.uint8):
        raise ValueError("rgb must be an (H, W, 3) uint8 array")
    if not isinstance(alpha, np.ndarray) or alpha.shape != rgb.shape[:2]:
        raise ValueError(f"alpha must be an array of shape {rgb.shape[:2]}")
    a = alpha.astype(np.float32, copy=False)
    if not np.isfinite(a).all():
        raise ValueError("alpha must be finite")
    out = rgb.copy()
    frac = (a > 1.0 / 512) & (a < 1.0 - 1.0 / 512)
    if not frac.any():
        return out
    margin = sum(FG_RADII) + 2
    ys = np.flatnonzero(frac.any(axis=1))
    xs = np.flatnonzero(frac.any(axis=0))
    h, w = a.shape
    y0, y1 = max(ys[0] - margin, 0), min(ys[-1] + 1 + margin, h)
    x0, x1 = max(xs[0] - margin, 0), min(xs[-1] + 1 + margin, w)
    step = 1024
    for ty in range(y0, y1, step):
        for tx in range(x0, x1, step):
            ty1, tx1 = min(ty + step, y1), min(tx + step, x1)
            f = frac[ty:ty1, tx:tx1]
            if not f.any():
                continue
            cy0, cy1 = max(ty - margin, 0), min(ty1 + margin, h)
            cx0, cx1 = max(tx - margin, 0), min(tx1 + margin, w)
            fg = _blur_fusion(rgb[cy0:cy1, cx0:cx1], a[cy0:cy1, cx0:cx1])
            fg = fg[ty - cy0:ty1 - cy0, tx - cx0:tx1 - cx0]
            out[ty:ty1, tx:tx1][f] = fg[f]
    return out


def _blur_fusion(rgb, alpha):
    img = rgb.astype(np.float32) / 255.0
    a = alpha.clip(0, 1)[..., None]
    f, b = img, img
    for r in FG_RADII:
        f, b = _blur_fusion_pass(img, f, b, a, r)
    return np.round(f * 255).clip(0, 255).astype(np.uint8)


def _blur_fusion_pass(img, f, b, a, r):
    k = (r, r)
    ba = cv2.blur(a[..., 0], k)[..., None]
    bf = cv2.blur(f * a, k) / (ba + 1e-5)
    bb = cv2.blur(b * (1 - a), k) / ((1 - ba) + 1e-5)
    f = bf + a * (img - a * bf - (1 - a) * bb)
    return np.clip(f, 0, 1), bb


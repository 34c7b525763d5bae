"""Retouch: keep/remove strokes, clicks and the detail brush applied on top of the model's prior.

The model's alpha (the base version) is the prior; the strokes are hard labels. A graph cut
(PyMaxflow) at a working resolution decides the rest from three terms:

* the prior's log-odds, trusted less close to a stroke (a stroke says "the model was wrong
  around here"), fully trusted far from every stroke; how far "close" reaches grows with the
  object, and for a painted stroke is capped by the stroke's own size (twice its brush radius,
  or twice its depth inside the region it paints), so a stroke along a thin sliver stays there;
* a colour model (Lab histograms) built from the strokes and the model's confident regions,
  the latter weighted by their nearness to the strokes, so it describes the local scene (a
  remove click deep inside the cutout adds the smooth region around it as background);
* an edge-aware (contrast-sensitive) 8-neighbour smoothness term.

The cut is then gated: a change is kept only in a connected region that a stroke of the same
sign touches (a keep stroke can only add what is connected to it, a remove stroke can only take
away what is connected to it), so nothing far from a stroke moves. A remove stroke on a blob of
the prior that is separate from the main object (a ghost) removes the whole blob; a remove
click or painted remove stroke spares a thin strap-like piece it reaches only across an edge (a
strap beside the gap). A click on a thin smooth thing (a pencil) changes nothing farther than a
few of its widths from it, so it cannot take the large object the thing lies on.

Full resolution: the unchanged pixels keep the base alpha exactly; the changed regions are
upsampled tile by tile, and the strokes themselves are rasterised at full resolution. The detail
brush hands its band to ``matting.solve_alpha`` (trimap from the segmentation outside the band)
and ``matting.estimate_foreground``, in windows around the band; a solid part the matte turns
into a wide, smooth slab of half alpha fades only a little per stroke.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import maxflow
import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter

from .clock import NO_CLOCK, StageClock, running
from .progress import REFINING, STROKES, OnProgress, no_progress
from .strokes import DETAIL, KEEP, REMOVE, Stroke, paint, rasterise

WORK_MAX = 1024  # long side of the graph cut; the preview runs at about this size
TILE = 1024  # full-resolution tiles
# px from its brush within which a detail stroke may change the band it joins (see _detail)
DETAIL_REACH = 30.0
# the detail brush's haze guard (see _spare_haze): a solid pixel the solve moves by at most
# HAZE_MAX (0..255) keeps its value unless a pixel within HAZE_CLEAR px is solved in HAZE_MID
# or the pixel's step is mostly a ridge of the matte (at least half of it, and HAZE_RIDGE)
HAZE_MAX = 40
HAZE_CLEAR = 2
HAZE_MID = (64, 191)
HAZE_RIDGE = 4
# the detail brush's fade guard (see _fade_only): a fractional pixel whose nearest known pixel
# the solve takes as background although the cutout holds it at TRANSLUCENT..127 goes at most
# FADE_MAX (0..255) below its alpha so far
FADE_MAX = 0
TRANSLUCENT = 64
# the guard fades in over TRANSLUCENT_RAMP below TRANSLUCENT (full at TRANSLUCENT, none at
# TRANSLUCENT - TRANSLUCENT_RAMP): a cutout held near the threshold (GT27's wrong-subject
# yarn at 60-66/255) flipped the guard row by row and cut boxes out of it (QA)
TRANSLUCENT_RAMP = 32
# the detail brush's slab guard (see _keep_slab): pixels the alpha so far holds at SLAB_SOLID
# or more that the solve puts in SLAB_MID go at most SLAB_DROP (0..255) lower where they form
# a slab wider than 2 * SLAB_RADIUS px over which the matte is smooth (its fine structure,
# |matte - Gaussian(1.5 px)| averaged over 5 x 5, has a median under SLAB_SMOOTH): fine detail
# is thin or structured; a wide smooth slab at half alpha is the matte reading a solid part's
# colour as the backdrop's
SLAB_SOLID = 250
SLAB_MID = (32, 223)
SLAB_RADIUS = 4
SLAB_SMOOTH = 6.0
SLAB_DROP = 64
# the detail brush's lift guard (see _lift_slab), the mirror of the slab guard: pixels the alpha
# so far holds at LIFT_CLEAR or less (clear, or the model's faint haze below TRANSLUCENT: the
# fade guard's fur starts there) whose matte floor (grey opening with a disk of radius
# LIFT_RADIUS: what is left under strands and gaps narrower than the disk) the solve puts in
# LIFT_MID, forming a region wider than 2 * LIFT_RADIUS px whose photo colour lies, on the line
# from the known background's colour to the known foreground's (pixels within LIFT_KNOWN of
# 0 / 255 in the LIFT_CONTEXT px around the piece, medians in Lab), at less than LIFT_SHARE of
# the matte's alpha there, rise at most LIFT_RISE (0..255): the matte reading a backdrop
# structure's colour as foreground, not strands (which stand on the floor and stay)
LIFT_CLEAR = TRANSLUCENT - 1
LIFT_MID = (32, 223)
LIFT_RADIUS = 4
LIFT_KNOWN = 5
LIFT_CONTEXT = 16
LIFT_SHARE = 0.5
LIFT_RISE = 16
# rounds of holding a full-size detail solve to the preview's at the preview's grid (see
# _match_shown): 1 leaves ~3/255 mean difference where the stroke changed something, 3 ~1/255
MATCH_ROUNDS = 3
# a detail stroke's write fades in over FEATHER brush radii inside its outline (see _detail):
# the solve's known side is the cutout binarised at 128, so where the cutout outside the
# brush is fractional the solve is offset from it and a hard write showed the brush's outline
FEATHER = 0.25
HARD = 1e9


@dataclass(frozen=True)
class Params:
    prior_weight: float = 1.0  # per-pixel weight of the prior's log-odds (clipped below)
    prior_clip: float = 0.03  # p is clipped to [c, 1 - c] before the log-odds
    colour_weight: float = 1.0
    colour_clip: float = 4.0
    smooth: float = 4.0  # pairwise weight for a flat region
    near_sigma_frac: float = 0.15  # stroke influence radius, times sqrt(object area)
    near_sigma_min: float = 12.0  # px at working resolution
    near_trust: float = 0.9  # how much of the prior a stroke's neighbourhood ignores
    sample_sigma_mult: float = 3.0  # colour samples weighted within this many influence radii
    stroke_mass: float = 1.0  # stroke samples' share relative to the confident samples
    core_frac: float = 0.1  # the hard part of a click: this share of its radius
    paint_core_frac: float = 0.5  # the hard part of a painted stroke
    rim_strength: float = 0.75  # log-odds push of the rest of the brush (edges may override)
    rim_colour_tol: float = 8.0  # Lab distance from the core's colour at which the push fades
    neck_frac: float = 0.04  # blobs joined by necks thinner than 2x this x sqrt(area) split
    blob_bias: float = 1.0  # log-odds push over a blob a remove stroke marks (and no keep)
    edge_click_px: float = 5.0  # a click this close to the current edge flips only its own disk
    depth_sigma: float = 2.0  # a click's influence radius: at least this times its depth
    # a painted stroke's influence radius: at most paint_reach_mult x its reach (its brush
    # radius, or its median distance from the current edge if larger), at least
    # paint_sigma_min px; 0 leaves it to the object's area alone
    paint_reach_mult: float = 2.0
    paint_sigma_min: float = 3.0
    # a painted keep stroke over a blob the model held faint (see _on_faint_blob; alpha at
    # least GHOST_MIN), deep inside the region it disputes (its median distance from the other
    # side above its brush radius), widens its reach by that depth as a click does (depth_sigma)
    paint_depth: bool = True
    # a painted remove stroke mostly over the background side is not hard on the object side
    # (see _stroke_core)
    paint_spare_solid: bool = True
    window_sigmas: float = 4.0  # a stroke's solve window: its box plus this many radii
    # a remove click spares a strap-like piece of its flip (see _thin_spared): half-width at
    # most thin_width x the click's radius, at least thin_length of its widths long, reached
    # from the kept object thin_margin rungs lower on a ladder of Lab steps
    # thin_step0 * sqrt(2)**k, k < thin_levels
    thin_width: float = 1.0
    thin_length: float = 6.0
    thin_margin: int = 1
    thin_step0: float = 2.0
    thin_levels: int = 12
    # a painted remove stroke spares such pieces too: half-width at most thin_paint_frac x its
    # brush radius (its hard core's; 0 turns this off), and the kept object must reach the
    # piece, over its median pixel, at least thin_paint_gap rungs lower than the core does
    thin_paint_frac: float = 0.5
    thin_paint_gap: float = 2.0
    # a remove click at least deep_min px deep inside the cutout: the smooth part of the
    # cutout within its depth (reached from its core across Lab steps <= deep_step) becomes
    # background colour samples, deep_mass x the other background samples' mass (0: off)
    deep_min: float = 8.0
    deep_step: float = 5.7
    deep_mass: float = 1.0
    # a remove click whose depth widens its reach (depth_sigma) spares wider strap-like pieces
    # too (a tyre around the gap it sits in): half-width at most thin_depth x its depth, at
    # least thin_depth_length of their widths long, held by the model's own cutout (median
    # prior >= thin_held), lying along the old background (thin_along of their outline within
    # thin_rim px of it), spared with their rim (1 px, thin_rim px towards the old
    # background); 0 turns this off
    thin_depth: float = 0.25
    thin_depth_length: float = 5.0
    thin_held: float = 0.9
    thin_rim: int = 2
    thin_along: float = 0.2  # share of the piece's outline within thin_rim px of the background
    # a click's spread limit (see _spread_limited): where its smooth part (the flip reached
    # from its core across Lab steps <= spread_step) is thin (inscribed radius spread_thin_min
    # to spread_thin px), what it flips stays within spread_mult x max(that radius, its own
    # radius) of that part; spread_mult 0 turns this off
    spread_step: float = 32.0
    spread_thin_min: float = 3.0
    spread_thin: float = 6.0
    spread_mult: float = 1.5
    # a remove click in a gap the object encloses (see _ring_spared): the object pixels its
    # flip takes that the kept object reaches gap_margin rungs lower than the click does, that
    # the model held (prior >= thin_held) and that are no wider than gap_width x the gap's
    # own inscribed radius stay, when what the click reaches more easily is a hole (does not
    # touch the open background); False turns this off
    gap_ring: bool = True
    gap_margin: int = 1
    gap_width: float = 1.0
    gap_min_width: float = 3.0
    bins: int = 16


DEFAULT = Params()


# ((y0, y1, x0, x1), estimated foreground colours, detail band) of one detail window.
DetailColours = tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]


@dataclass
class RetouchResult:
    alpha: np.ndarray  # (H, W) uint8
    rgba: np.ndarray  # (H, W, 4) uint8
    timings: dict[str, float] = field(default_factory=dict)
    #: the photo as ``reduce_for_cut`` reduced it for the graph cut (None when it ran at full
    #: size): the caller's retouch base is this same array, so a 24 MP photo is reduced once
    rgb_work: np.ndarray | None = None


# --- working resolution: the segmentation -------------------------------------------------

def _colour_llr(lab: np.ndarray, fg_w: np.ndarray, bg_w: np.ndarray, bins: int,
                clip: float) -> np.ndarray:
    """log P(colour | object) - log P(colour | background) per pixel, from weighted samples."""
    q = 256 // bins
    idx = ((lab[..., 0] // q).astype(np.int32) * bins + lab[..., 1] // q) * bins + lab[..., 2] // q
    idx = idx.ravel()
    n = bins ** 3
    hf = np.bincount(idx, weights=fg_w.ravel(), minlength=n).reshape(bins, bins, bins)
    hb = np.bincount(idx, weights=bg_w.ravel(), minlength=n).reshape(bins, bins, bins)
    hf = gaussian_filter(hf, 0.8, mode="nearest")
    hb = gaussian_filter(hb, 0.8, mode="nearest")
    sf, sb = hf.sum(), hb.sum()
    if sf <= 0 or sb <= 0:
        return np.zeros(lab.shape[:2], np.float32)
    eps = 1e-3 / n
    llr = np.log(hf / sf + eps) - np.log(hb / sb + eps)
    out: npt.NDArray[np.float32] = np.clip(llr.ravel()[idx], -clip, clip).reshape(
        lab.shape[:2]).astype(np.float32)
    return out


def _pairwise(g: Any, nodes: np.ndarray, lab: np.ndarray, smooth: float) -> None:
    f = lab.astype(np.float32)
    h, w = f.shape[:2]
    offsets = ((0, 1), (1, 0), (1, 1), (1, -1))
    spans, diffs = [], []
    for dy, dx in offsets:
        xa0, xa1 = max(0, -dx), w - max(0, dx)
        a = f[: h - dy, xa0:xa1]
        b = f[dy:, xa0 + dx: xa1 + dx]
        spans.append((xa0, xa1))
        diffs.append(((a - b) ** 2).sum(axis=2))
    mean = float(np.mean([d.mean() for d in diffs if d.size])) if h > 1 and w > 1 else 1.0
    beta = 1.0 / (2.0 * max(mean, 1e-6))
    for (dy, dx), (xa0, xa1), d2 in zip(offsets, spans, diffs, strict=True):
        wgt = np.zeros((h, w), np.float32)
        wgt[: h - dy, xa0:xa1] = (smooth / np.hypot(dy, dx)) * np.exp(-beta * d2)
        st = np.zeros((3, 3))
        st[1 + dy, 1 + dx] = 1
        g.add_grid_edges(nodes, weights=wgt, structure=st, symmetric=True)


def _components_touching(region: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    if not region.any() or not seeds.any():
        return np.zeros(region.shape, bool)
    n, lab = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
    near = cv2.dilate(seeds.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    hit = np.unique(lab[near & region])
    hit = hit[hit > 0]
    return np.isin(lab, hit) if hit.size else np.zeros(region.shape, bool)


def _deep_hits(lbl: np.ndarray, prior_fg: np.ndarray, keep: np.ndarray,
               remove: np.ndarray) -> list[int]:
    """Blob labels that a remove stroke reaches deep inside (at least half the blob's own
    depth: it marks the blob, not a spill along its edge), that no keep stroke touches and
    that are not the largest blob (the main object)."""
    ids, areas = np.unique(lbl[prior_fg], return_counts=True)
    if ids.size < 2:
        return []
    hit = set(np.unique(lbl[remove & prior_fg]).tolist()) - {0, int(ids[np.argmax(areas)])}
    hit -= set(np.unique(lbl[keep]).tolist())
    if not hit:
        return []
    depth = cv2.distanceTransform(np.pad(prior_fg, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    out = []
    for i in hit:
        blob = lbl == i
        if depth[blob & remove].max() >= 0.5 * depth[blob].max():
            out.append(i)
    return out


def _ghosts(prior_fg: np.ndarray, keep: np.ndarray, remove: np.ndarray) -> np.ndarray:
    """Separate blobs of the prior that a remove stroke marks: the whole blob goes."""
    if not (remove & prior_fg).any():
        return np.zeros(prior_fg.shape, bool)
    _, lbl = cv2.connectedComponents(prior_fg.astype(np.uint8), connectivity=8)
    hit = _deep_hits(lbl, prior_fg, keep, remove)
    return np.isin(lbl, hit) if hit else np.zeros(prior_fg.shape, bool)


def _blob_labels(prior_fg: np.ndarray, radius: int) -> np.ndarray | None:
    """Split the prior's object at necks thinner than 2*radius: label (int32) of the blob each
    object pixel belongs to (0 outside), or None when it does not split."""
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    core = cv2.erode(prior_fg.astype(np.uint8), se)
    n, _ = cv2.connectedComponents(core, connectivity=8)
    if n <= 2:
        return None
    _, lbl = cv2.distanceTransformWithLabels((core == 0).astype(np.uint8), cv2.DIST_L2, 5,
                                             labelType=cv2.DIST_LABEL_CCOMP)
    return np.where(prior_fg, lbl, 0).astype(np.int32)


def _marked_blobs(prior_fg: np.ndarray, keep: np.ndarray, remove: np.ndarray,
                  radius: int) -> np.ndarray:
    """Blobs of the prior, split at thin necks, that a remove stroke marks: the graph cut is
    pushed to drop them whole (the colour and the cut at the neck still decide)."""
    if not (remove & prior_fg).any():
        return np.zeros(prior_fg.shape, bool)
    lbl = _blob_labels(prior_fg, radius)
    if lbl is None:
        return np.zeros(prior_fg.shape, bool)
    hit = _deep_hits(lbl, prior_fg, keep, remove)
    return np.isin(lbl, hit) if hit else np.zeros(prior_fg.shape, bool)


def _core_strokes(strokes: list[Stroke], params: Params) -> list[Stroke]:
    """The hard part of each stroke. A click (one point) marks a spot: only its centre is
    hard, its disk is a preference the edges may override (a click next to an edge must not
    cross it). A painted stroke is deliberate coverage: the middle half of the brush is hard."""
    return [Stroke(st.kind, max(0.5, st.radius * (
        params.core_frac if len(st.points) == 1 else params.paint_core_frac)), st.points)
        for st in strokes]


def _window(st: Stroke, extra: np.ndarray | None, margin: float, h: int,
            w: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = st.bounds()
    x0, y0 = max(0, int(x0 - margin)), max(0, int(y0 - margin))
    x1, y1 = min(w, int(np.ceil(x1 + margin)) + 1), min(h, int(np.ceil(y1 + margin)) + 1)
    if extra is not None and extra.any():
        ys, xs = np.nonzero(extra)
        x0, y0 = min(x0, int(xs.min()) - 2), min(y0, int(ys.min()) - 2)
        x1, y1 = max(x1, int(xs.max()) + 3), max(y1, int(ys.max()) + 3)
    return max(0, y0), min(h, y1), max(0, x0), min(w, x1)


def _edge_band(state: np.ndarray, st: Stroke, params: Params,
               box: tuple[int, int, int, int]) -> np.ndarray | None:
    """For a click right next to the current edge (within ``edge_click_px``), the pixels it
    may change inside ``box`` = (y0, y1, x0, x1): those closer to the click than the click is
    to the other side (an open disk of that radius, all on the clicked side). None for a click
    further in, or a painted stroke.

    A click at distance d from the edge says the error is deepest here and only about d deep:
    a thin sliver whose extent along the edge is unknown. Flipping more than the disk (an
    edge band, a graph-cut region) crosses the true edge about as often as it fixes it, so a
    click there must not make the cutout worse anywhere else."""
    if len(st.points) != 1:
        return None
    y0, y1, x0, x1 = box
    cur = state[y0:y1, x0:x1]
    other = cur if st.kind == "keep" else ~cur
    if not other.any():
        return None
    cx = min(max(int(round(st.points[0][0])) - x0, 0), x1 - x0 - 1)
    cy = min(max(int(round(st.points[0][1])) - y0, 0), y1 - y0 - 1)
    d_other = cv2.distanceTransform((~other).astype(np.uint8), cv2.DIST_L2, 5)
    db = float(d_other[cy, cx])
    if db > params.edge_click_px:
        return None
    yy, xx = np.ogrid[: y1 - y0, : x1 - x0]
    # strictly inside: a pixel at distance db may already be on the other side
    disk: npt.NDArray[np.bool_] = ((yy - cy) ** 2 + (xx - cx) ** 2 < db * db) & ~other
    return disk


def _reach_levels(lab: np.ndarray, seeds: list[np.ndarray], step0: float,
                  levels: int) -> list[np.ndarray]:
    """For each seed mask, the rung k (int16; ``levels`` when never) of the lowest
    ``step0 * sqrt(2)**k`` at which a pixel is 4-connected to the seeds across Lab steps no
    higher than that: the strongest edge on the best path from the seeds, on a sqrt(2) ladder."""
    h, w = lab.shape[:2]
    f = lab.astype(np.float32)
    dx = np.sqrt(((f[:, 1:] - f[:, :-1]) ** 2).sum(axis=2))
    dy = np.sqrt(((f[1:] - f[:-1]) ** 2).sum(axis=2))
    # pixels on the even nodes of a doubled grid, the steps between them on the odd ones: node
    # connectivity of the doubled grid is then edge connectivity of the image
    grid = np.zeros((2 * h - 1, 2 * w - 1), np.uint8)
    grid[::2, ::2] = 1
    out = [np.full((h, w), levels, np.int16) for _ in seeds]
    for k in range(levels):
        tau = step0 * 2.0 ** (k / 2)
        grid[::2, 1::2] = dx <= tau
        grid[1::2, ::2] = dy <= tau
        _, lbl = cv2.connectedComponents(grid, connectivity=4)
        node = lbl[::2, ::2]
        done = True
        for sd, o in zip(seeds, out, strict=True):
            if sd.any():
                o[np.isin(node, np.unique(node[sd])) & (o == levels)] = k
            done &= bool((o < levels).all())
        if done:
            break
    return out


def _thin_spared(lab: np.ndarray, cur: np.ndarray, flip: np.ndarray, core: np.ndarray,
                 radius: float, params: Params, piece_gap: float = 0.0,
                 held: npt.NDArray[np.float32] | None = None) -> np.ndarray:
    """The pieces of a remove click's ``flip`` (object pixels it would remove) that it spares:
    strap-like pieces between the flip and the background already there, which the kept
    object reaches across a lower image edge than the click's ``core`` does.

    A remove click in the gap beside a strap, spoke or tube whose colour is close to the
    background's took the strap with the gap: the colour model cannot tell them apart and the
    prior is discounted near the click; only the edge between them can. Sparing every piece
    behind an edge kept too much of large wrong regions with inner edges, and most thin pieces
    glued along the object's side are bits of the wrong region too, so a piece is spared only
    if it is no wider than the click, at least ``thin_length`` of its widths long and touches
    the old background (it lies between two background areas). ``radius`` is the click's, or
    a share of a painted stroke's brush; with ``piece_gap`` > 0 (painted strokes) a piece is
    spared only if the kept object reaches its median pixel at least that many rungs lower
    than the core does. With ``held`` (the model's prior, for a click whose depth widened its
    reach; ``radius`` is then a share of that depth) a piece is spared only if the model held
    it, and with its rim."""
    if not (core & flip).any():
        return np.zeros(flip.shape, bool)
    h, w = flip.shape
    ys, xs = np.nonzero(flip)
    y0, y1 = max(0, int(ys.min()) - 2), min(h, int(ys.max()) + 3)
    x0, x1 = max(0, int(xs.min()) - 2), min(w, int(xs.max()) + 3)
    fl, cu = flip[y0:y1, x0:x1], cur[y0:y1, x0:x1]
    kept = cu & ~fl
    if not kept.any():
        return np.zeros(flip.shape, bool)
    lv_click, lv_kept = _reach_levels(lab[y0:y1, x0:x1], [core[y0:y1, x0:x1] & fl, kept],
                                      params.thin_step0, params.thin_levels)
    spared = fl & (lv_kept + params.thin_margin <= lv_click)
    out = np.zeros(flip.shape, bool)
    if not spared.any():
        return out
    n, lbl, widest = _component_half_widths(spared)
    area = np.bincount(lbl.ravel(), minlength=n)
    bg = cv2.dilate((~(cu | fl)).view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    touches_bg = np.zeros(n, bool)
    touches_bg[np.unique(lbl[bg & spared])] = True
    keep = ((widest <= params.thin_width * radius)
            & (area >= params.thin_length * (2.0 * widest) ** 2) & touches_bg)
    if piece_gap > 0:
        gap = lv_click - lv_kept
        for i in np.nonzero(keep)[0]:
            if float(np.median(gap[lbl == i])) < piece_gap:
                keep[i] = False
    if held is not None:
        # only what the model's own cutout holds: an earlier keep stroke's addition is the
        # reviewer's guess, not a structure (soft-dev GT25: a keyboard's edge a keep click had
        # added stayed when a remove click took the rest back)
        hd = held[y0:y1, x0:x1]
        # and a strap between the gap and the background runs along the background: a wide
        # piece of a wrong region that merely touches it is not one (dev photo doll: a
        # garment's stripe, 2 % of its outline near the background; a tyre's arc: 35 %)
        ring = np.ones((2 * params.thin_rim + 1,) * 2, np.uint8)
        near_old = cv2.dilate((~(cu | fl)).view(np.uint8), ring) > 0
        for i in np.nonzero(keep)[0]:
            m = lbl == i
            outline = _outline(m)
            if (float(np.median(hd[m])) < params.thin_held
                    or (outline & near_old).sum() < params.thin_along * outline.sum()):
                keep[i] = False
    keep[0] = False
    piece = keep[lbl]
    if held is not None and piece.any():
        # a blurred strap's rim is reached from both sides across small steps: it goes with
        # the strap (1 px all round, thin_rim px where the old background is that near)
        near = cv2.dilate(piece.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
        se = np.ones((2 * params.thin_rim + 1,) * 2, np.uint8)
        grown = cv2.dilate(piece.view(np.uint8), se) > 0
        near_bg = cv2.dilate((~(cu | fl)).view(np.uint8), se) > 0
        piece |= fl & (near | (grown & near_bg))
    out[y0:y1, x0:x1] = piece
    return out


def _component_half_widths(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """The 8-connected pieces of ``mask``: their count (label 0 is the rest), the label image,
    and each piece's half-width (its largest inscribed distance; the frame counts as outside)."""
    n, lbl = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    dt = cv2.distanceTransform(np.pad(mask, 1).view(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    widest = np.zeros(n, np.float32)
    np.maximum.at(widest, lbl.ravel().astype(np.intp), dt.ravel())
    return n, lbl, widest


def _outline(mask: np.ndarray) -> np.ndarray:
    """The pixels of ``mask`` with an 8-neighbour outside it (the frame counts as inside)."""
    return mask & ~(cv2.erode(mask.view(np.uint8), np.ones((3, 3), np.uint8)) > 0)


def _ring_spared(lab: np.ndarray, cur: np.ndarray, flip: np.ndarray, core: np.ndarray,
                 radius: float, held: np.ndarray, open_bg: np.ndarray,
                 params: Params) -> np.ndarray:
    """The pixels of a remove click's ``flip`` that it spares because the click sits in a gap
    the object encloses (background seen through a wheel) and they are the ring around it.

    The flip splits, on the edge ladder of ``_reach_levels``, into what the click's ``core``
    reaches at least as easily as the kept object does (the gap) and the rest (what lies
    behind an edge, nearer the kept object). When the gap part joined to the click touches no
    open background (``open_bg``: the background connected to the photo's border; an earlier
    click's hole is not open) but the whole flip does, the click broke through a ring of
    object to the outside: the pieces of the rest that the model held and that are thin
    beside the gap (half-width at most ``gap_width`` x the gap's inscribed radius, or the
    click's radius) stay. A wrong region glued to the object's side touches the open
    background itself, so it is taken as before."""
    out = np.zeros(flip.shape, bool)
    seeds = core & flip
    if not seeds.any():
        return out
    h, w = flip.shape
    ys, xs = np.nonzero(flip)
    y0, y1 = max(0, int(ys.min()) - 2), min(h, int(ys.max()) + 3)
    x0, x1 = max(0, int(xs.min()) - 2), min(w, int(xs.max()) + 3)
    fl, cu, ob = flip[y0:y1, x0:x1], cur[y0:y1, x0:x1], open_bg[y0:y1, x0:x1]
    k3 = np.ones((3, 3), np.uint8)
    if not (cv2.dilate(fl.view(np.uint8), k3) > 0)[ob].any():
        return out  # the flip stays inside the object: nothing broken through
    kept = cu & ~fl
    if not kept.any():
        return out
    lv_click, lv_kept = _reach_levels(lab[y0:y1, x0:x1], [seeds[y0:y1, x0:x1], kept],
                                      params.thin_step0, params.thin_levels)
    behind = fl & (lv_kept + params.gap_margin <= lv_click)
    gap = _components_touching(fl & ~behind, seeds[y0:y1, x0:x1]) & fl & ~behind
    if not gap.any() or (cv2.dilate(gap.view(np.uint8), k3) > 0)[ob].any():
        return out  # the click's own part reaches the open background: not an enclosed gap
    inner = float(cv2.distanceTransform(np.pad(gap, 1).view(np.uint8), cv2.DIST_L2,
                                        5).max())
    cand = behind & (held[y0:y1, x0:x1] >= params.thin_held)
    if not cand.any():
        return out
    n, lbl, widest = _component_half_widths(cand)
    # a ring, not the blurred rim of an edge (under gap_min_width px in half-width)
    keep = (widest >= params.gap_min_width) & (widest <= max(params.gap_width * inner, radius))
    # a ring piece lies between the gap, the kept object and the open background
    # (or the flip's pixels beyond the ring, a blurred outer edge the click reaches as easily
    # as the object does, through the ring)
    for m in (gap, kept, ob | (fl & ~behind & ~gap)):
        near = cv2.dilate(m.view(np.uint8), k3) > 0
        touch = np.zeros(n, bool)
        touch[np.unique(lbl[near & cand])] = True
        keep &= touch
    # and it runs along the open background, as the thin-strap rule's straps do (thin_along of
    # its outline within thin_rim px of it): a wrong region's piece that is merely cut off
    # from the click by an inner edge does not (dev photo doll: a garment, 1 % of its outline)
    ring = np.ones((2 * params.thin_rim + 1,) * 2, np.uint8)
    near_ob = cv2.dilate(ob.view(np.uint8), ring) > 0
    for i in np.nonzero(keep)[0]:
        m = lbl == i
        outline = _outline(m)
        if (outline & near_ob).sum() < params.thin_along * outline.sum():
            keep[i] = False
    keep[0] = False
    out[y0:y1, x0:x1] = keep[lbl]
    return out


def _spread_limited(lab: np.ndarray, flip: np.ndarray, core: np.ndarray, radius: float,
                    params: Params) -> np.ndarray:
    """The part of a click's ``flip`` it may change. Its smooth part S is the flip reached
    4-connected from the click's ``core``, inside the flip, across Lab steps no higher than
    ``spread_step``; where S is thin but not mere texture around the core (its largest
    inscribed radius t between ``spread_thin_min`` and ``spread_thin``), the flip keeps only
    what lies within ``spread_mult`` x max(t, ``radius``) of S (and is still connected to the
    click).

    A keep click on a pencil lying across a pale calculator (soft-dev GT25) added the whole
    calculator: the prior is discounted over an object-sized radius around a click and the
    calculator's colour is in the cup's. A click on a thin thing vouches for that thing, not
    for a large, differently coloured region beyond a strong edge. A click inside a wide
    wrong region is left alone: its smooth part is thick, and there the region beyond its
    inner edges is mostly wrong too (bounding every click's spread cost NoC on the dev set,
    docs/review.md § Click benchmark), and so is a click whose smooth part is a few px of
    texture (t < spread_thin_min: bounding those cost dev photo 21077 two clicks)."""
    seeds = core & flip
    if not seeds.any() or not params.spread_mult:
        return flip
    ys, xs = np.nonzero(flip)
    h, w = flip.shape
    y0, y1 = max(0, int(ys.min()) - 1), min(h, int(ys.max()) + 2)
    x0, x1 = max(0, int(xs.min()) - 1), min(w, int(xs.max()) + 2)
    fl = flip[y0:y1, x0:x1]
    part = _reached(lab[y0:y1, x0:x1], fl, seeds[y0:y1, x0:x1], params.spread_step)
    thick = float(cv2.distanceTransform(np.pad(part, 1).view(np.uint8), cv2.DIST_L2, 5).max())
    if not params.spread_thin_min <= thick <= params.spread_thin:
        return flip
    far = cv2.distanceTransform((~part).view(np.uint8), cv2.DIST_L2, 5)
    reach = params.spread_mult * max(thick, radius)
    if float(far[fl].max()) <= reach:
        return flip
    out = np.zeros_like(flip)
    out[y0:y1, x0:x1] = fl & (far <= reach)
    kept: np.ndarray = _components_touching(out, seeds) & out
    return kept


def _smooth_part(lab: np.ndarray, cur: np.ndarray, core: np.ndarray, cy: int, cx: int,
                 depth: float, step: float) -> np.ndarray:
    """The part of the cutout ``cur`` inside the disk of radius ``depth`` around (cy, cx)
    that ``core`` reaches 4-connected, within that disk, across Lab steps no higher than
    ``step``: the smooth region the click sits in, as far as its depth vouches for."""
    h, w = cur.shape
    r = int(np.ceil(depth))
    y0, y1, x0, x1 = max(0, cy - r), min(h, cy + r + 1), max(0, cx - r), min(w, cx + r + 1)
    yy, xx = np.ogrid[y0:y1, x0:x1]
    region = cur[y0:y1, x0:x1] & ((yy - cy) ** 2 + (xx - cx) ** 2 <= depth * depth)
    seeds = core[y0:y1, x0:x1] & region
    out = np.zeros((h, w), bool)
    if not seeds.any():
        return out
    out[y0:y1, x0:x1] = _reached(lab[y0:y1, x0:x1], region, seeds, step)
    return out


def _reached(lab: np.ndarray, region: np.ndarray, seeds: np.ndarray, step: float) -> np.ndarray:
    """The part of ``region`` (bool, the shape of ``lab``) that ``seeds`` reach 4-connected
    inside it across Lab steps no higher than ``step``."""
    f = lab.astype(np.float32)
    dx = np.sqrt(((f[:, 1:] - f[:, :-1]) ** 2).sum(axis=2))
    dy = np.sqrt(((f[1:] - f[:-1]) ** 2).sum(axis=2))
    # pixels on the even nodes of a doubled grid, the steps between them on the odd ones (as
    # in _reach_levels)
    hh, ww = region.shape
    grid = np.zeros((2 * hh - 1, 2 * ww - 1), np.uint8)
    grid[::2, ::2] = region
    grid[::2, 1::2] = (dx <= step) & region[:, 1:] & region[:, :-1]
    grid[1::2, ::2] = (dy <= step) & region[1:] & region[:-1]
    _, lbl = cv2.connectedComponents(grid, connectivity=4)
    node = lbl[::2, ::2]
    ids = np.unique(node[seeds])
    reached: np.ndarray = np.isin(node, ids[ids > 0]) & region
    return reached


def _grazes(core: np.ndarray, state: np.ndarray, share: float = 0.25) -> bool:
    """Whether ``core`` only grazes the solid pieces of ``state`` it touches: it covers less
    than ``share`` of their area. A stroke painted over a whole piece means to take it (a
    brush wider than the product, a wrong second subject) and stays hard there."""
    n, lbl = cv2.connectedComponents(state.view(np.uint8), connectivity=8)
    touched = np.unique(lbl[core & state])
    touched = touched[touched > 0]
    if not touched.size:
        return False
    area = int(np.isin(lbl, touched).sum())
    return int((core & state).sum()) < share * area


def _stroke_core(lab: np.ndarray, st: Stroke, core_st: Stroke, params: Params,
                 state: np.ndarray) -> np.ndarray:
    """The hard part of a stroke (bool mask). For a click: its centre plus the part of its disk
    that is connected to the centre and looks like it (an edge-aware click: the disk does not
    cross an edge it lands next to)."""
    h, w = lab.shape[:2]
    core = np.zeros((h, w), bool)
    paint(core, core_st, True)
    if (params.paint_spare_solid and st.kind == "remove" and len(st.points) > 1
            and 2 * int((core & state).sum()) < int(core.sum())
            and _grazes(core, state)):
        # a remove stroke painted mostly over what the cutout does not hold (a ghost fill
        # below half alpha) is not hard where its end runs onto the solid object: the cut
        # decides there (dev photo scissors: a stroke across the filled ring hole took 37 px
        # of the ring)
        core &= ~state
    if len(st.points) != 1 or not core.any():
        return core
    x0, y0, x1, y1 = st.bounds()
    x0, y0 = max(0, int(x0) - 1), max(0, int(y0) - 1)
    x1, y1 = min(w, int(np.ceil(x1)) + 2), min(h, int(np.ceil(y1)) + 2)
    if x1 <= x0 or y1 <= y0:
        return core
    disk = np.zeros((y1 - y0, x1 - x0), bool)
    paint(disk, st, True, origin=(x0, y0))
    labf = lab[y0:y1, x0:x1].astype(np.float32)
    c = core[y0:y1, x0:x1]
    ref = labf[c].mean(axis=0)
    alike = disk & (((labf - ref) ** 2).sum(axis=2) <= params.rim_colour_tol ** 2)
    m = int(params.edge_click_px * 3 + st.radius)
    big = (max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m))
    band = _edge_band(state, st, params, big)
    if band is not None:
        alike &= band[y0 - big[0]: y1 - big[0], x0 - big[2]: x1 - big[2]]
    core[y0:y1, x0:x1] |= _components_touching(alike | c, c) & (alike | c)
    return core


def _on_faint_blob(prior: np.ndarray, brush: np.ndarray) -> bool:
    """Whether the brush covers part of a ghost blob of the prior (GHOST_MIN..127 surviving an
    opening of radius GHOST_OPEN: not the soft rim along an object), as ``_take_faint`` finds
    them."""
    faint = ((prior >= GHOST_MIN / 255.0) & (prior < 0.5)).view(np.uint8)
    if not faint[brush].any():
        return False
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * GHOST_OPEN + 1,) * 2)
    return bool((cv2.morphologyEx(faint, cv2.MORPH_OPEN, se)[brush] > 0).any())


def _paint_reach(state: np.ndarray, st: Stroke, positive: bool, margin: int) -> float:
    """A painted stroke's brush radius, or the median distance of its points from the current
    state's other side (looked for within ``margin`` px of the stroke), whichever is larger."""
    h, w = state.shape
    bx0, by0, bx1, by1 = st.bounds()
    ya, yb = max(0, int(by0) - margin), min(h, int(np.ceil(by1)) + margin + 1)
    xa, xb = max(0, int(bx0) - margin), min(w, int(np.ceil(bx1)) + margin + 1)
    if ya >= yb or xa >= xb:
        return st.radius
    other = state[ya:yb, xa:xb] if positive else ~state[ya:yb, xa:xb]
    d = cv2.distanceTransform((~other).astype(np.uint8), cv2.DIST_L2, 5)
    ds = [float(d[min(max(int(round(py)), ya), yb - 1) - ya,
                  min(max(int(round(px)), xa), xb - 1) - xa]) for px, py in st.points]
    return max(st.radius, float(np.median(ds)))


def _step(rgb: np.ndarray, lab: np.ndarray, prior: np.ndarray, prior_fg: np.ndarray,
          state: np.ndarray, core_labels: np.ndarray, seen: np.ndarray, st: Stroke,
          core: np.ndarray, params: Params) -> np.ndarray:
    """The state after one more keep/remove stroke ``st`` (working coordinates). ``core_labels``
    holds the hard cores of all strokes so far (this one included, later ones on top),
    ``seen`` the whole brushes so far."""
    h, w = state.shape
    positive = st.kind == "keep"
    brush = rasterise([st], (h, w)) > 0
    if not brush.any():
        return state
    area = max(int(state.sum()), 1)
    sigma = max(params.near_sigma_min, params.near_sigma_frac * np.sqrt(area))
    depth = 0.0  # of a click inside the side it disputes
    if params.depth_sigma and len(st.points) == 1:
        # a click deep inside a region the cutout has wrong says the wrong region is at least
        # that big: its influence reaches as far as its depth
        same = ~state if positive else state
        cx = min(max(int(round(st.points[0][0])), 0), w - 1)
        cy = min(max(int(round(st.points[0][1])), 0), h - 1)
        if same[cy, cx]:
            r = int(np.ceil(3 * sigma))
            ys, xs = slice(max(0, cy - r), cy + r + 1), slice(max(0, cx - r), cx + r + 1)
            d = cv2.distanceTransform(np.pad(same[ys, xs], 1).astype(np.uint8), cv2.DIST_L2, 5)
            depth = float(d[1 + cy - ys.start, 1 + cx - xs.start])
            sigma = max(sigma, min(params.depth_sigma * depth, 3 * sigma))
    if params.paint_reach_mult and len(st.points) > 1:
        # a painted stroke says how big the wrong region is: as wide as its brush, or as deep
        # as it lies inside the current other side (a thin scribble through a missed part).
        # An object-sized influence let a stroke along a one- or two-pixel sliver discount the
        # prior 20+ px around it, and the cut moved the edge past the true one (docs/review.md)
        reach = _paint_reach(state, st, positive, int(np.ceil(3 * sigma)))
        wide = 3 * sigma
        sigma = min(sigma, max(params.paint_sigma_min, params.paint_reach_mult * reach))
        if (params.paint_depth and params.depth_sigma and positive and reach > st.radius
                and _on_faint_blob(prior, brush)):
            # and a keep stroke painted along a half-alpha banana 90 px from the cutout says as
            # much as a keep click on it: capped at the object-sized reach, it made only its
            # footprint solid where one keep click took most of the banana (dev photo banana3).
            # Not a remove stroke: widened, one through a filled handle's hole took the bar
            # and the frame beside it (test_it_spares_a_thin_bar_beside_a_gap_painted_away);
            # and only over a blob the model held faint (_on_faint_blob): widening every deep
            # keep stroke raised the painted protocol's strokes lowering IoU 34 -> 37 of 668
            # (35 with this condition; docs/review.md)
            sigma = max(sigma, min(params.depth_sigma * reach, wide))
    seen_keep = seen == KEEP
    open_bg = None
    if not positive and len(st.points) == 1 and params.gap_ring:
        # the background connected to the photo's border (a hole an earlier click opened in
        # the object is not open)
        bgm = np.pad(~state, 1, constant_values=True).view(np.uint8)
        _, bl = cv2.connectedComponents(bgm, connectivity=8)
        open_bg = (bl == bl[0, 0])[1:-1, 1:-1]
    blob = ghosts = None
    if not positive:
        blob = _marked_blobs(state, seen_keep, brush,
                             max(2, int(round(params.neck_frac * np.sqrt(area)))))
        ghosts = _ghosts(state, seen_keep, brush)
    y0, y1, x0, x1 = _window(st, None if blob is None else blob | ghosts,
                             params.window_sigmas * sigma, h, w)
    win = (slice(y0, y1), slice(x0, x1))
    cur, p0, pf = state[win], prior[win], prior_fg[win]
    # the prior, with the earlier strokes' decisions taken as confident
    p = np.where(cur == pf, p0, np.where(cur, 0.97, 0.03)).astype(np.float32)
    b = brush[win]
    dist = cv2.distanceTransform((~b).astype(np.uint8), cv2.DIST_L2, 5)
    near = np.exp(-0.5 * (dist / sigma) ** 2)
    if blob is not None:
        near[blob[win]] = 1.0

    lab_w = lab[win]
    prox = np.exp(-0.5 * (dist / (params.sample_sigma_mult * sigma)) ** 2) + 0.02
    # near the stroke the model's side is what the reviewer disputes: its confident pixels
    # there do not describe that side's colours
    doubt = 1.0 - params.near_trust * near
    fg_w = np.where(p > 0.9, prox * (1.0 if positive else doubt), 0.0)
    bg_w = np.where(p < 0.1, prox * (doubt if positive else 1.0), 0.0)
    # colour samples of the strokes: their hard cores only (a brush's rim may overlap the
    # other side of the edge)
    for seeds, wts in ((core_labels[win] == KEEP, fg_w), (core_labels[win] == REMOVE, bg_w)):
        k = int(seeds.sum())
        if k:
            wts[seeds] += params.stroke_mass * max(float(wts.sum()), 1.0) / k
    if (not positive and params.deep_mass and len(st.points) == 1
            and depth >= params.deep_min):
        # a remove click deep inside the cutout says the region around it is background, but
        # its own core is a patch of one colour and the cut took little more than what looked
        # like it. The smooth part of the cutout within its depth is that region's colour: a
        # background sample as heavy as the rest (dev photo 069: the first click took 19 % of
        # its wrong region, now 95 %). Where the cutout is mostly that region its confident
        # pixels still dominate the object samples (015: 4 % both). Object samples are left
        # alone: dropping them lost the thin bar beside a filled hole (its grey is one
        # histogram bin from the hole's) and gained nothing on the dev set (docs/review.md
        # § Click benchmark)
        part = _smooth_part(lab_w, cur, core[win],
                            min(max(int(round(st.points[0][1])), 0), h - 1) - y0,
                            min(max(int(round(st.points[0][0])), 0), w - 1) - x0,
                            depth, params.deep_step)
        n = int(part.sum())
        if n:
            bg_w[part] += params.deep_mass * max(float(bg_w.sum()), 1.0) / n
    llr = _colour_llr(lab_w, fg_w, bg_w, params.bins, params.colour_clip)

    pc = np.clip(p, params.prior_clip, 1.0 - params.prior_clip)
    lp = np.log(pc / (1.0 - pc))
    t = params.prior_weight * (1.0 - params.near_trust * near) * lp + params.colour_weight * llr
    if blob is not None:
        t[blob[win]] -= params.blob_bias
    # the rim pushes towards the stroke's label only where it looks like the core (an
    # edge-aware brush)
    core_here = core[win]
    labf = lab_w.astype(np.float32)
    ref = labf[core_here].mean(axis=0) if core_here.any() else labf[b].mean(axis=0)
    like = np.exp(-((labf - ref) ** 2).sum(axis=2) / (2.0 * params.rim_colour_tol ** 2))
    push = params.rim_strength * like
    t[b] += push[b] if positive else -push[b]
    # the window's frame keeps its state, so a change never runs off the window
    frame = np.zeros(t.shape, bool)
    frame[[0, -1], :] = True
    frame[:, [0, -1]] = True
    frame &= ~b
    t[frame & cur] = HARD
    t[frame & ~cur] = -HARD
    cl = core_labels[win]
    t[cl == KEEP] = HARD
    t[cl == REMOVE] = -HARD

    g = maxflow.Graph[float]()
    nodes = g.add_grid_nodes(t.shape)
    _pairwise(g, nodes, lab_w, params.smooth)
    # source = object: a pixel on the sink side (background) pays its source capacity
    g.add_grid_tedges(nodes, np.maximum(t, 0), np.maximum(-t, 0))
    g.maxflow()
    fg = ~g.get_grid_segments(nodes)

    change = (fg & ~cur) if positive else (cur & ~fg)
    # a click right next to the current edge says "a sliver about this deep is wrong here":
    # it flips only the pixels closer to it than the edge, it does not open a region
    band = _edge_band(state, st, params, (y0, y1, x0, x1))
    if band is not None:
        change &= band
    out = state.copy()
    o = out[win]
    # gate: only a change connected to this stroke, of its sign, survives
    gated = _components_touching(change, b)
    if band is None and len(st.points) == 1 and params.spread_mult:
        # one click does not flip a large region far beyond what its smooth part vouches for
        gated = _spread_limited(lab_w, gated, core_here, st.radius, params)
    if positive:
        o |= gated
    else:
        if band is None and len(st.points) == 1:
            # a click in the gap beside a thin strap must not take the strap
            if params.thin_depth and depth * params.thin_depth > st.radius * params.thin_width:
                # its depth widened its reach, and the discounted prior over the tyre around a
                # wheel's gap let the colour model take it (dev photo 132, docs/review.md):
                # a strap as wide as a share of that depth, held by the model, is spared
                gated &= ~_thin_spared(lab_w, cur, gated, core_here,
                                       params.thin_depth * depth / params.thin_width,
                                       replace(params, thin_length=params.thin_depth_length),
                                       held=p0)
            else:
                gated &= ~_thin_spared(lab_w, cur, gated, core_here, st.radius, params)
            if open_bg is not None and gated.any():
                # a click in a gap the object encloses takes the gap, not the ring around it
                # (dev photos 132, 129: tyre, hub and spokes; docs/review.md)
                ring = _ring_spared(lab_w, cur, gated, core_here, st.radius, p0, open_bg[win],
                                    params)
                if ring.any():
                    gated &= ~ring
                    gated = _components_touching(gated, b) & gated
        elif band is None and params.thin_paint_frac > 0:
            # nor a stroke painted through that gap. Its long core reaches the flanks of a
            # wrong region across weaker edges than a click's does: on the dev photos nearly
            # all the pieces spared by the click's test alone were background outlines
            # (docs/review.md), so the piece as a whole must be clearly nearer the kept side
            gated &= ~_thin_spared(lab_w, cur, gated, core_here,
                                   params.thin_paint_frac * st.radius, params,
                                   params.thin_paint_gap)
        o &= ~gated
        assert ghosts is not None  # set above for every removing stroke
        out &= ~ghosts
    out[core_labels == KEEP] = True
    out[core_labels == REMOVE] = False
    return out


# The states after each stroke prefix of the last image seen by this process: the browser
# re-sends the whole list after every stroke, so the next preview costs one step.
_CACHE: dict[str, Any] = {}
_CACHE_STATES = 64
_LOCK = threading.Lock()
# detail pieces solved (see _solve_piece), least recently used first
_PIECES: OrderedDict[tuple[Any, bytes], np.ndarray] = OrderedDict()
_PIECES_MAX = 256


def _key(rgb: np.ndarray, prior: np.ndarray,
         params: Params) -> tuple[tuple[int, ...], str, Params]:
    import hashlib

    hsh = hashlib.blake2b(digest_size=16)
    hsh.update(np.ascontiguousarray(rgb).data)
    hsh.update(np.ascontiguousarray(prior).data)
    return rgb.shape, hsh.hexdigest(), params


def segment(rgb: np.ndarray, prior: np.ndarray, strokes: list[Stroke],
            params: Params = DEFAULT) -> np.ndarray:
    """Binary object mask (H, W) bool from rgb (uint8), prior (float32 [0, 1]) and the strokes,
    all at the same (working) resolution. The strokes apply one after the other, each changing
    only the region connected to itself; the states after each prefix are cached in-process,
    so the next preview (one more stroke) costs one step."""
    prior_fg = prior >= 0.5
    active = [st for st in strokes if st.kind in ("keep", "remove")]
    if not active:
        return prior_fg.copy()
    key = _key(rgb, prior, params)
    states = [prior_fg]
    lab = None
    with _LOCK:
        if _CACHE.get("key") == key:
            done = _CACHE["strokes"]
            n = 0
            while n < min(len(done), len(active)) and done[n] == active[n]:
                n += 1
            states = _CACHE["states"][: n + 1]
            lab = _CACHE["lab"]
    h, w = prior.shape
    if lab is None:
        lab = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB)
    cores = _core_strokes(active, params)
    core_labels = np.zeros((h, w), np.uint8)
    seen = np.zeros((h, w), np.uint8)
    for i, st in enumerate(active):
        core = _stroke_core(lab, st, cores[i], params, states[min(i, len(states) - 1)])
        core_labels[core] = st.label
        paint(seen, st, st.label)
        if i >= len(states) - 1:
            states.append(_step(rgb, lab, prior, prior_fg, states[-1], core_labels, seen,
                                st, core, params))
    with _LOCK:
        _CACHE.clear()
        _CACHE.update(key=key, strokes=tuple(active), states=states[:_CACHE_STATES], lab=lab)
    return states[-1].copy()


# --- full resolution -------------------------------------------------------------------------

def _scale_of(h: int, w: int, work_max: int) -> float:
    return min(1.0, work_max / max(h, w))


def reduce_for_cut(image: np.ndarray, work_max: int = WORK_MAX) -> np.ndarray:
    """A photo, alpha or cutout (H, W[, C] uint8) at the size ``retouch`` runs its graph cut
    (long side ``work_max``, INTER_AREA, each channel on its own); the image itself when
    already small enough. The preview starts from these arrays, so they must be this one
    reduction: the stroke scale is the reduced width over the full width."""
    h, w = image.shape[:2]
    s = _scale_of(h, w, work_max)
    if s >= 1.0:
        return image
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(np.ascontiguousarray(image), size, interpolation=cv2.INTER_AREA)


def _tiles(h: int, w: int, size: int = TILE) -> Iterator[tuple[int, int, int, int]]:
    for y0 in range(0, h, size):
        for x0 in range(0, w, size):
            yield y0, min(h, y0 + size), x0, min(w, x0 + size)


def _upsample(work: np.ndarray, shape_full: tuple[int, int], y0: int, y1: int, x0: int,
              x1: int) -> np.ndarray:
    """Bilinear sample of a working-resolution float map on a full-resolution window."""
    hw, ww = work.shape
    hf, wf = shape_full
    sy, sx = hw / hf, ww / wf
    ys = ((np.arange(y0, y1, dtype=np.float32) + 0.5) * sy - 0.5).clip(0, hw - 1)
    xs = ((np.arange(x0, x1, dtype=np.float32) + 0.5) * sx - 0.5).clip(0, ww - 1)
    mx, my = np.meshgrid(xs, ys)
    return cv2.remap(work, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _validate(rgb: np.ndarray, alpha: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("retouch expects an (H, W, 3) uint8 RGB image")
    if alpha.shape != rgb.shape[:2] or alpha.dtype != np.uint8:
        raise ValueError("alpha must be (H, W) uint8 matching the image")


def retouch(rgb: np.ndarray, alpha: np.ndarray, strokes: list[Stroke], *,
            previous_rgba: np.ndarray | None = None, params: Params = DEFAULT,
            work_max: int = WORK_MAX, clock: StageClock = NO_CLOCK,
            on_progress: OnProgress | None = None) -> RetouchResult:
    """Apply the whole stroke list (since the base version) to the base alpha. ``clock``
    receives a lap per stage (segment, compose, detail, rgba); the result's ``timings`` are
    their wall seconds (and ``total``), as a cutout's come from the pipeline's laps.
    ``on_progress(stage, fraction)`` is called as each stage starts, with growing fractions,
    the last one 1 (``imaging.progress``): the worker's Apply shows them on its pending note."""
    _validate(rgb, alpha)
    if previous_rgba is not None and previous_rgba.shape != (*alpha.shape, 4):
        raise ValueError("previous_rgba must be (H, W, 4) matching the image")
    report = on_progress or no_progress
    report(STROKES, 0.0)
    strokes = list(strokes)
    clock = running(clock)
    mark = clock.mark()
    clock.reset()
    h, w = alpha.shape
    s = _scale_of(h, w, work_max)
    if s < 1.0:
        rgb_w, alpha_w = reduce_for_cut(rgb, work_max), reduce_for_cut(alpha, work_max)
        sx = alpha_w.shape[1] / w
        scaled = [st.scaled(sx) for st in strokes]
    else:
        rgb_w, alpha_w = rgb, alpha
        scaled = strokes
    labels_w = rasterise(scaled, rgb_w.shape[:2])
    prior_w = alpha_w.astype(np.float32) / 255.0
    seg_w = segment(rgb_w, prior_w, scaled, params)
    changed_w = seg_w != (prior_w >= 0.5)
    clock.lap("segment")
    # where the stages start (docs/jobs.md, progress of one cutout): the graph cut, the
    # full-size compose, the detail strokes' matting solve (the long part of an Apply with
    # many), then the full-size colours (a second at 45 MP)
    report(STROKES, 0.15)

    out = alpha.copy()
    detail_w = labels_w == DETAIL
    any_stroke_full = bool(strokes)
    if changed_w.any() or any_stroke_full:
        _compose_full(out, alpha, seg_w, changed_w, _core_strokes(strokes, params), s)
    clock.lap("compose")

    fg_colours: list[DetailColours] = []
    if detail_w.any():
        report(REFINING, 0.25)
        shown = None
        if s < 1.0:
            # what the preview shows for these strokes: the same call on the reduced arrays
            # (compose at scale 1, then the detail solve on the working grid); the full-size
            # matte is held to it at that grid (see _match_shown)
            shown = alpha_w.copy()
            if changed_w.any() or any_stroke_full:
                _compose_full(shown, alpha_w, seg_w, changed_w, _core_strokes(scaled, params),
                              1.0)
            _detail(rgb_w, shown, scaled, colours=False)
        fg_colours = _detail(rgb, out, strokes, shown=shown)
    clock.lap("detail")

    report(REFINING, 0.6)
    rgba = _rgba(rgb, alpha, out, previous_rgba, fg_colours)
    clock.lap("rgba")
    # the keys callers read (as ``retouch_<stage>``): three of the stages, and the whole call
    timings = {**clock.wall_split(mark, {k: (k,) for k in ("segment", "compose", "detail")}),
               **clock.wall_split(mark, {}, rest="total")}
    report(REFINING, 1.0)
    return RetouchResult(alpha=out, rgba=rgba, timings=timings,
                         rgb_work=rgb_w if s < 1.0 else None)


def _box_tiles(box: tuple[int, int, int, int], h: int,
               w: int) -> Iterator[tuple[int, int, int, int]]:
    x0, y0, x1, y1 = box
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    for ty in range(y0, y1, TILE):
        for tx in range(x0, x1, TILE):
            yield ty, min(y1, ty + TILE), tx, min(x1, tx + TILE)


def _compose_full(out: np.ndarray, alpha: np.ndarray, seg_w: np.ndarray, changed_w: np.ndarray,
                  strokes: list[Stroke], s: float) -> None:
    """Write the new alpha into ``out`` at full resolution, in tiles over the changed region
    only. Where the new segmentation agrees with the base alpha's side, the base alpha (soft
    edges included) stays; only pixels that switch side take the new value."""
    h, w = alpha.shape
    if changed_w.any():
        ys, xs = np.nonzero(changed_w)
        m = 3
        box = ((int(xs.min()) - m) / s, (int(ys.min()) - m) / s,
               (int(xs.max()) + 1 + m) / s, (int(ys.max()) + 1 + m) / s)
        box = (int(box[0]), int(box[1]), int(np.ceil(box[2])), int(np.ceil(box[3])))
        if s < 1.0:
            # the region that changed, widened so its new edge is drawn whole
            grow = cv2.dilate(changed_w.astype(np.uint8), np.ones((3, 3), np.uint8))
            grow = grow.astype(np.float32)
            soft = cv2.GaussianBlur(seg_w.astype(np.float32), (0, 0), 0.7)
            gain = 1.0 / s  # the blurred edge is about 2 working px wide: sharpen it back
        for y0, y1, x0, x1 in _box_tiles(box, h, w):
            tile = out[y0:y1, x0:x1]
            if s < 1.0:
                c = _upsample(grow, (h, w), y0, y1, x0, x1) > 0.01
                if c.any():
                    v = _upsample(soft, (h, w), y0, y1, x0, x1)
                    a = np.clip(((v - 0.5) * gain + 0.5) * 255.0 + 0.5, 0, 255).astype(np.uint8)
                    flip = c & ((a >= 128) != (tile >= 128))
                    tile[flip] = a[flip]
            else:
                c = changed_w[y0:y1, x0:x1]
                tile[c] = np.where(seg_w[y0:y1, x0:x1][c], 255, 0).astype(np.uint8)
    hard = [st for st in strokes if st.kind in ("keep", "remove")]
    if hard:
        bounds = [st.bounds() for st in hard]
        box = (int(min(b[0] for b in bounds)) - 1, int(min(b[1] for b in bounds)) - 1,
               int(np.ceil(max(b[2] for b in bounds))) + 2,
               int(np.ceil(max(b[3] for b in bounds))) + 2)
        # the cut holds every remove core but the object side of one painted over a ghost
        # (_stroke_core): that part stays (from a reduced grid, only well inside the object)
        held_w = (seg_w if s >= 1.0 else
                  cv2.erode(seg_w.view(np.uint8), np.ones((3, 3), np.uint8)) > 0)
        for y0, y1, x0, x1 in _box_tiles(box, h, w):
            lab = rasterise(hard, (y1 - y0, x1 - x0), origin=(x0, y0))
            tile = out[y0:y1, x0:x1]
            tile[lab == KEEP] = 255
            held = (held_w[y0:y1, x0:x1] if s >= 1.0 else
                    _upsample(held_w.astype(np.float32), (h, w), y0, y1, x0, x1) > 0.99)
            tile[(lab == REMOVE) & ~held] = 0
    _take_faint(out, alpha, strokes, s)


# A remove stroke on a ghost (a blob the cutout holds at GHOST_MIN..127: seen, not solid) takes
# the whole blob; the cut, which calls it background already, changed nothing there. A blob is
# what the faint pixels keep through an opening of radius GHOST_OPEN working px, so the soft
# rim along an object is none. And a removed region's soft rim goes with it: the pixels at
# 1..127 within RIM_PX working px of what a stroke took whose nearest solid pixel it took.
GHOST_MIN = 32
GHOST_OPEN = 2
RIM_PX = 3.0


def _take_faint(out: np.ndarray, alpha: np.ndarray, strokes: list[Stroke], s: float) -> None:
    """Zero in ``out`` the ghost blobs the remove strokes (their hard cores, ``strokes``)
    touch and the soft rim of everything taken, at full resolution (``s``: working / full).

    Dev photos scissors, 012: a remove click on the hole a ring-shaped object's cutout filled
    at alpha ~106 changed nothing; 069: a remove click left a 1 px outline of 1..126 where the
    wrong flamingo was. Pixels the cutout holds at 128 or more are never taken here."""
    hard = [st for st in strokes if st.kind in ("keep", "remove")]
    if not any(st.kind == "remove" for st in hard):
        return
    h, w = alpha.shape
    taken = (alpha >= 128) & (out < 128)
    faint = (alpha >= GHOST_MIN) & (alpha < 128) & (out < 128)
    # later strokes win: a keep stroke over a remove stroke's end is not a remove
    hit = (rasterise(hard, (h, w)) == REMOVE) & faint if faint.any() else faint
    if hit.any():
        # the blobs are found on the working grid (an opening at full size cost 13 s at 45 MP)
        fw, hw = faint.view(np.uint8), hit.view(np.uint8)
        if s < 1.0:
            size = (max(1, round(w * s)), max(1, round(h * s)))
            fw = (cv2.resize(fw * 255, size, interpolation=cv2.INTER_AREA) >= 128).view(np.uint8)
            hw = (cv2.resize(hw * 255, size, interpolation=cv2.INTER_AREA) > 0).view(np.uint8)
        se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * GHOST_OPEN + 1,) * 2)
        blobs = cv2.morphologyEx(fw, cv2.MORPH_OPEN, se)
        _, lbl = cv2.connectedComponents(blobs, connectivity=8)
        ids = np.unique(lbl[(hw > 0) & (blobs > 0)])
        if ids[ids > 0].size:
            gw = cv2.dilate(np.isin(lbl, ids[ids > 0]).view(np.uint8), se)
            if s < 1.0:
                gw = cv2.resize(gw, (w, h), interpolation=cv2.INTER_NEAREST)
            ghost = faint & (gw > 0)
            out[ghost] = 0
            taken |= ghost
    if not taken.any():
        return
    rim = RIM_PX / s
    m = int(np.ceil(2 * rim)) + 2
    ys, xs = np.flatnonzero(taken.any(axis=1)), np.flatnonzero(taken.any(axis=0))
    y0, y1 = max(0, int(ys[0]) - m), min(h, int(ys[-1]) + m + 1)
    x0, x1 = max(0, int(xs[0]) - m), min(w, int(xs[-1]) + m + 1)
    a, o, t = alpha[y0:y1, x0:x1], out[y0:y1, x0:x1], taken[y0:y1, x0:x1]
    kept = (a >= 128) & ~t
    d_taken = cv2.distanceTransform((~t).view(np.uint8), cv2.DIST_L2, 5)
    d_kept = cv2.distanceTransform((~kept).view(np.uint8), cv2.DIST_L2, 5)
    # where it borders the kept object the rim is the kept object's edge: it stays
    soft = (o > 0) & (o < 128) & (o == a)
    o[soft & (d_taken <= rim) & (d_taken < d_kept)] = 0


def _detail(rgb: np.ndarray, out: np.ndarray, strokes: list[Stroke], *,
            deadband: int = 8, reach: float = DETAIL_REACH, shown: np.ndarray | None = None,
            colours: bool = True) -> list[DetailColours]:
    """Solve the alpha inside the detail band, window by window; returns the windows'
    estimated foreground colours.

    Each connected piece of the band is solved on its own, in the box matting gives it (plus
    ``matting.CONTEXT`` px, on the image's ``matting.ALIGN`` grid), with the known side from
    the alpha before any detail solve: a piece's alpha depends only on the strokes that paint
    it and the cutout around it, so a stroke painted elsewhere leaves it exactly as it was
    (solved jointly, the bigger system took another solver path and moved it; a box cut at
    the window's edge, or shifted on the half-size grid, moved it too). The strokes apply in
    order: each re-solves the piece of the band painted so far that it touches (strokes that
    touch are solved together: on soft-dev that beat solving each stroke alone under its own
    brush, final SAD 39.8 vs 40.4 after 10 touches), but changes it only within ``reach`` px of
    its own brush; farther on, the earlier strokes' pixels keep their values (the joined solve
    moved them, and on soft-dev that was most of what made detail strokes raise SAD).
    A band pixel whose solved alpha is within ``deadband`` (0..255) of its alpha so far (earlier
    strokes' solves included) keeps it, and so does a solid one the solve only hazes
    (``_spare_haze``): closed-form matting leaves a haze of about 0.03 over solid parts the
    brush covers, which made strokes raise SAD; what is within that haze is not detail. A
    translucent pixel whose nearest known pixel the binarised trimap takes for background keeps
    its alpha (``_fade_only``): the matte followed that false background and cut translucent fur.

    ``shown``: the preview's result of the same strokes on the working grid (``retouch``'s
    reduced arrays); the solved band is then held to it at that grid (``_match_shown``).
    ``colours=False`` skips the foreground colours (returns [])."""
    from . import matting  # the one matting implementation (owned by the matting module)

    h, w = out.shape
    detail = [st for st in strokes if st.kind == "detail"]
    windows: list[tuple[tuple[int, int, int, int], np.ndarray]] = []
    # the known side of every crop from the alpha before any detail solve (a crop may reach
    # past its window)
    before = out.copy()
    for y0, y1, x0, x1 in _detail_windows(detail, h, w):
        lab = rasterise(strokes, (y1 - y0, x1 - x0), origin=(x0, y0))
        band = lab == DETAIL
        if not band.any():
            continue
        cur = out[y0:y1, x0:x1]
        solved = cur.copy()
        painted = np.zeros_like(band)
        # px inside the band's outline, for the feathered write
        inside = cv2.distanceTransform(band.view(np.uint8), cv2.DIST_L2, 5)
        # in stroke order: each re-solves the piece of the band painted so far that it touches,
        # and writes only within reach of its own brush
        for st in detail:
            # rasterised in the stroke's own box only: a window holds many strokes
            sx0, sy0, sx1, sy1 = st.bounds()
            by0, by1 = max(int(sy0) - 1 - y0, 0), min(int(np.ceil(sy1)) + 2 - y0, y1 - y0)
            bx0, bx1 = max(int(sx0) - 1 - x0, 0), min(int(np.ceil(sx1)) + 2 - x0, x1 - x0)
            if by1 <= by0 or bx1 <= bx0:
                continue
            brush = np.zeros_like(band)
            brush[by0:by1, bx0:bx1] = band[by0:by1, bx0:bx1] & (
                rasterise([st], (by1 - by0, bx1 - bx0), origin=(x0 + bx0, y0 + by0)) > 0)
            if not brush.any():
                continue
            painted |= brush
            n, comp, stats, _ = cv2.connectedComponentsWithStats(painted.view(np.uint8),
                                                                 connectivity=8)
            for i in np.unique(comp[brush]):
                bx, by, bw, bh = (int(v) for v in stats[i, :4])
                box = (by, by + bh, bx, bx + bw)
                mine = comp[by:by + bh, bx:bx + bw] == i
                near = cv2.distanceTransform((~brush[by:by + bh, bx:bx + bw]).view(np.uint8),
                                             cv2.DIST_L2, 5) <= reach
                new = _solve_piece(rgb, before, mine, (y0 + by, x0 + bx), matting)
                sofar = solved[by:by + bh, bx:bx + bw][mine]
                new = _fade_only(new, sofar, _beside_translucent(before, mine, (y0 + by, x0 + bx)))
                new = _keep_slab(new, sofar, mine)
                new = _lift_slab(new, sofar, mine, rgb, before, (y0 + by, x0 + bx))
                write = mine & near
                # the reference is the alpha so far (earlier strokes' solves included): an
                # earlier stroke's pixel the re-solve barely moves keeps its value, not the
                # value from before any detail solve
                old = solved[by:by + bh, bx:bx + bw][write]
                new = _spare_haze(new, mine, write, old, deadband)
                ramp = np.clip(inside[by:by + bh, bx:bx + bw][write]
                               / max(FEATHER * st.radius, 1.0), 0.0, 1.0)
                new = np.clip(old + ramp * (new.astype(np.float32) - old) + 0.5, 0,
                              255).astype(np.uint8)
                solved[box[0]:box[1], box[2]:box[3]][write] = new
        cur[band] = solved[band]
        windows.append(((y0, y1, x0, x1), band))
    if shown is not None:
        _match_shown(out, shown, windows)
    out_colours: list[DetailColours] = []
    if not colours:
        return out_colours
    for (y0, y1, x0, x1), band in windows:
        win = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        fg = matting.estimate_foreground(win, out[y0:y1, x0:x1])  # uint8 alpha: no float copy
        out_colours.append(((y0, y1, x0, x1), np.where(band[..., None], fg, 0).astype(np.uint8),
                            band))
    return out_colours


def _match_shown(out: np.ndarray, shown: np.ndarray,
                 windows: list[tuple[tuple[int, int, int, int], np.ndarray]],
                 rounds: int = MATCH_ROUNDS) -> None:
    """The full-size detail band in ``out`` (each window's ``band``) held to the preview's
    result ``shown`` at the preview's grid: ``rounds`` of back-projection, each adding to the
    band's pixels the bilinear upsample of ``shown`` minus ``out`` reduced as
    ``reduce_for_cut`` reduces it. What the full-size matte has finer than a preview pixel
    (strands) stays; what differs at the preview's grid is the preview's.

    Why: the detail solve is not scale-invariant (closed-form matting's 3 x 3 windows, its CG
    budget and single half-size level, the guards' px constants), so at full size it gave
    another matte than the preview's, not just a finer one. On soft-dev photos upscaled to
    12 / 24 MP under the protocol's detail strokes, 117 to 9 100 preview pixels per photo were
    more than 64/255 apart, the saved side mostly the more opaque (QA: a semi-opaque patch
    where the preview showed clear background), and in most photos the preview was the closer
    to the upscaled truth. Switching the guards off or scaling their px constants left that
    as it was, and so did converging the full-size solve (docs/review.md § Preview and Apply).
    Measured (the 14 photos at 24 MP, three protocol strokes each): such pixels 37 803 -> 53,
    SAD against the upscaled truth in the brushed band 2 787 -> 2 597 (9 photos better, 5
    worse; at 12 MP 1 334 -> 1 290). The price: where the full-size solve was the better one
    (a synthetic flat-colour hair scene at 2-4x, strands about a preview pixel wide) the saved
    matte now carries the preview's error (band MAE 7.8 -> 8.9/255). CPU per 24 MP Apply
    +9 % (the preview-size solve and three reductions)."""
    h, w = out.shape
    target = shown.astype(np.float32)
    # only preview pixels the full-size band covers whole: one on the band's outline also
    # averages pixels the stroke never writes, and pushing its whole difference into the band's
    # part of it drew the preview's pixel grid along the outline as a staircase (QA: a 40 px
    # stroke on a 4800 px photo, steps of 4.7 px along its diagonal edge)
    mask = np.zeros((h, w), np.uint8)
    for (y0, y1, x0, x1), band in windows:
        mask[y0:y1, x0:x1][band] = 255
    whole = cv2.resize(mask, (shown.shape[1], shown.shape[0]), interpolation=cv2.INTER_AREA) >= 255
    del mask
    for _ in range(rounds):
        diff = target - cv2.resize(out, (shown.shape[1], shown.shape[0]),
                                   interpolation=cv2.INTER_AREA).astype(np.float32)
        diff[~whole] = 0
        for (y0, y1, x0, x1), band in windows:
            cur = out[y0:y1, x0:x1]
            up = _upsample(diff, (h, w), y0, y1, x0, x1)
            cur[band] = np.clip(cur[band] + up[band] + 0.5, 0, 255).astype(np.uint8)


def _beside_translucent(before: np.ndarray, mine: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    """For each pixel of a band piece (``mine``, a mask of its box with top-left corner ``at``
    in the image), how much (0..1, float32) the known pixel nearest to it is one the solve's
    binarised trimap calls background although the cutout holds it translucent: 1 at
    TRANSLUCENT..127, falling linearly to 0 at TRANSLUCENT - TRANSLUCENT_RAMP and below, 0 at
    128 and up.

    Graded, not a threshold: the nearest known pixel is one pixel of the ring around the
    brush (for a vertical stroke, the ring pixel in the same row), so with a cutout held near
    TRANSLUCENT the on/off rule flipped from row to row and from one half of the brush to the
    other and cut straight-edged boxes out of it (QA, soft-dev GT27: 1 147 px held at ~63/255
    went under 8 in boxes 5-20 px tall)."""
    h, w = before.shape
    (top, left), (bh, bw) = at, mine.shape
    m = 16
    y0, y1, x0, x1 = max(top - m, 0), min(top + bh + m, h), max(left - m, 0), min(left + bw + m, w)
    piece = np.zeros((y1 - y0, x1 - x0), bool)
    piece[top - y0:top - y0 + bh, left - x0:left - x0 + bw] = mine
    b = before[y0:y1, x0:x1]
    lo = TRANSLUCENT - TRANSLUCENT_RAMP
    if not (~piece & (b > lo) & (b < 128)).any():
        return np.zeros(int(mine.sum()), np.float32)
    # the value of the known pixel nearest to each piece pixel (labels of single pixels)
    _, lbl = cv2.distanceTransformWithLabels(piece.view(np.uint8), cv2.DIST_L2, 5,
                                             labelType=cv2.DIST_LABEL_PIXEL)
    known = ~piece
    value = np.zeros(int(lbl.max()) + 1, np.float32)
    value[lbl[known]] = b[known]
    v = value[lbl[piece]]
    full = np.zeros(piece.shape, np.float32)
    full[piece] = np.where(v < 128, np.clip((v - lo) / max(TRANSLUCENT_RAMP, 1), 0, 1), 0)
    # blurred within the piece: where the nearest ring pixel switches (a Voronoi edge of the
    # ring) the weight would step along a straight line
    inside = piece.astype(np.float32)
    num = cv2.GaussianBlur(full, (0, 0), 2.0)
    den = cv2.GaussianBlur(inside, (0, 0), 2.0)
    weight: np.ndarray = (num[piece] / np.maximum(den[piece], 1e-6)).astype(np.float32)
    return weight


def _fade_only(new: np.ndarray, old: np.ndarray, beside: np.ndarray) -> np.ndarray:
    """A solved piece's alpha ``new`` goes at most FADE_MAX below the alpha so far ``old`` where
    that is fractional and the nearest known pixel is translucent (``beside``, 0..1: the
    share of the drop below that floor the guard takes back).

    The solve's known side is the cutout binarised at 128, so translucent fur around the brush
    counts as background; where the fur's colour is close to the backdrop's, the matte follows
    that side and cut the fur to 0 (soft-dev GT15: the flank at 77/255, truth 158, went to 34
    under a 12 px brush, in patches shaped by where the 128 contour runs). Freeing the cutout's
    fractional pixels does not help there (the matte still reads the fur as backdrop: 57/255),
    nor does the sampling estimate (nearest confident colours: 16/255): the photo cannot tell,
    and a detail stroke must not make the cutout worse. Capping every fractional pixel's drop
    (at 40/255) cost SAD on soft-dev (the model's haze over backdrop must go), so the cap holds
    only where the pull comes from such a false background; a solid pixel (0 or 255) is left
    to the solve and to _spare_haze (docs/review.md § Detail benchmark)."""
    frac = (old > 0) & (old < 255)
    floor = old.astype(np.float32) - FADE_MAX
    lift = np.where(frac, np.maximum(floor - new, 0) * beside, 0)
    out: np.ndarray = np.clip(new + lift + 0.5, 0, 255).astype(np.uint8)
    return out


def _keep_slab(new: np.ndarray, old: np.ndarray, mine: np.ndarray) -> np.ndarray:
    """A solved piece's alpha ``new`` (at ``mine``'s pixels), where the pixels the alpha so far
    ``old`` holds solid (SLAB_SOLID or more) and the solve puts at a mid value (SLAB_MID) form
    a wide slab (what an opening with a disk of radius SLAB_RADIUS keeps) over which the matte
    is smooth (median fine structure under SLAB_SMOOTH, per connected slab): there a pixel goes
    at most SLAB_DROP below ``old``.

    A detail stroke along the solid rim of a wire-mesh cup (soft-dev GT25) turned the rim about
    half transparent (mean 255 -> 193 under the brush): the matte read the grey metal as the
    grey backdrop above it. Fine detail the brush is for is thin (strands, gaps, mesh holes: a
    few px) or structured; hair the model had filled solid comes out of the matte as strands
    (fine structure 6.6 and up on soft-dev, the rim 3.9). A smooth wide slab may still be a
    real soft fade (a feathered edge: the photo cannot tell it from the rim), so the drop is
    capped, not refused: one stroke fades it a quarter, another stroke more; a drop to near 0
    (under SLAB_MID), where the matte is sure, goes through."""
    full_new = np.zeros(mine.shape, np.uint8)
    full_new[mine] = new
    full_old = np.zeros(mine.shape, np.uint8)
    full_old[mine] = old
    slab = mine & (full_old >= SLAB_SOLID) & (full_new >= SLAB_MID[0]) & (full_new <= SLAB_MID[1])
    if not slab.any():
        return new
    k = 2 * SLAB_RADIUS + 1
    wide = cv2.morphologyEx(slab.view(np.uint8), cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    if not wide.any():
        return new
    # smooth: the matte's own fine structure (its difference from a Gaussian blur of 1.5 px,
    # averaged over 5 x 5, 0..255) is low over the slab; hair or fur the model had filled
    # solid comes out of the matte as strands and gaps (soft-dev: 6.6 and up; GT25's rim 3.9)
    f = full_new.astype(np.float32)
    fine = cv2.blur(np.abs(f - cv2.GaussianBlur(f, (0, 0), 1.5)), (5, 5))
    n, lbl = cv2.connectedComponents(wide, connectivity=8)
    flat = np.zeros(mine.shape, bool)
    for i in range(1, n):
        m = lbl == i
        if float(np.median(fine[m])) < SLAB_SMOOTH:
            flat |= m
    if not flat.any():
        return new
    floor = old.astype(np.int16) - SLAB_DROP
    out: np.ndarray = np.where(flat[mine] & (new < floor), floor, new).astype(np.uint8)
    return out


def _lift_slab(new: np.ndarray, old: np.ndarray, mine: np.ndarray, rgb: np.ndarray,
               before: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    """A solved piece's alpha ``new`` (at ``mine``'s pixels, a mask of its box with top-left
    corner ``at`` in the image), where the pixels the alpha so far ``old`` holds clear
    (LIFT_CLEAR or less) sit on a floor of the matte in LIFT_MID (its grey opening with a disk
    of radius LIFT_RADIUS: what is left under strands and gaps narrower than the disk) and form
    a wide region (what an opening with the same disk keeps) whose colour in the photo places
    it near the backdrop: on the line from the known background's colour to the known
    foreground's (``before``, the alpha before any detail solve, within LIFT_KNOWN of 0 / 255,
    in the LIFT_CONTEXT px around the piece; medians in Lab), at less than LIFT_SHARE of the
    matte's mean alpha over the region. There the floor rises at most LIFT_RISE above ``old``;
    what stands on it (strands: the opening's top-hat) stays.

    The mirror of _keep_slab. QA: a 60 px detail stroke along the stray strands of soft-dev
    GT03 pulled a grey bridge pillar behind the hair into the cutout at alpha 60-130 (SAD 17.55
    -> 19.89, background pixels' error 282 -> 2 135) while the hair improved: the pillar is
    neither the sky nor the hair, and closed-form matting explained its colour as part
    foreground. Strands are thin or structured; a wide smooth floor lifted from clear is the
    matte reading a backdrop's colour as foreground, and the photo says so: the pillar's colour
    lies 5 % of the way from the sky's to the hair's, where the matte says 34 %. Hair the model
    had cut and the matte rightly brings back as a wide fractional floor (soft-dev GT03's lower
    right, GT17) has a mix's colour (24-51 %, matte 29-53 %) and is left alone; so is a piece
    without known pixels of both sides around it (the colour cannot tell). Capping every such
    wide lifted floor, whatever its colour, cost soft-dev SAD@10 39.778 -> 39.786 and two more
    detail strokes raising Grad (docs/review.md § Detail benchmark).

    "Clear" takes in the model's faint haze (below TRANSLUCENT, where _fade_only's translucent
    fur starts), not only 0..16: beside hair (soft-dev GT03, 1-63/255) it is the same backdrop,
    and the matte lifted it the same way (GT03's protocol stroke 4: SAD +0.084; on the photo
    upscaled to 24 MP +4.2); the rise is still bounded from the pixel's own alpha so far. Up to
    127 (the whole background side of the trimap) it also capped translucent fur the matte
    rightly brought back (soft-dev GT15's second stroke gained 0.39 less SAD)."""
    full_new = np.zeros(mine.shape, np.uint8)
    full_new[mine] = new
    full_old = np.full(mine.shape, 255, np.uint8)
    full_old[mine] = old
    k = 2 * LIFT_RADIUS + 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    floor = cv2.morphologyEx(full_new, cv2.MORPH_OPEN, disk)
    slab = mine & (full_old <= LIFT_CLEAR) & (floor >= LIFT_MID[0]) & (floor <= LIFT_MID[1])
    if not slab.any():
        return new
    wide = cv2.morphologyEx(slab.view(np.uint8), cv2.MORPH_OPEN, disk)
    if not wide.any():
        return new
    # the known colours around the piece, as the solve's crop sees them
    h, w = before.shape
    (top, left), (bh, bw), c = at, mine.shape, LIFT_CONTEXT
    y0, y1, x0, x1 = max(top - c, 0), min(top + bh + c, h), max(left - c, 0), min(left + bw + c, w)
    piece = np.zeros((y1 - y0, x1 - x0), bool)
    piece[top - y0:top - y0 + bh, left - x0:left - x0 + bw] = mine
    known = before[y0:y1, x0:x1]
    fg, bg = ~piece & (known >= 255 - LIFT_KNOWN), ~piece & (known <= LIFT_KNOWN)
    if not fg.any() or not bg.any():
        return new
    lab = cv2.cvtColor(rgb[y0:y1, x0:x1].astype(np.float32) * np.float32(1 / 255),
                       cv2.COLOR_RGB2Lab)
    f_col, b_col = np.median(lab[fg], axis=0), np.median(lab[bg], axis=0)
    axis = f_col - b_col
    norm2 = float(np.dot(axis, axis))
    if norm2 < 1.0:  # foreground and backdrop alike: the colour cannot tell
        return new
    mine_lab = lab[top - y0:top - y0 + bh, left - x0:left - x0 + bw]
    n, lbl = cv2.connectedComponents(wide, connectivity=8)
    ghost = np.zeros(mine.shape, bool)
    for i in range(1, n):
        m = lbl == i
        share = float(np.dot(np.median(mine_lab[m], axis=0) - b_col, axis)) / norm2
        if share < LIFT_SHARE * float(full_new[m].mean()) / 255.0:
            ghost |= m
    if not ghost.any():
        return new
    excess = np.maximum(floor.astype(np.int16) - full_old - LIFT_RISE, 0)
    out: np.ndarray = np.where(ghost[mine], new.astype(np.int16) - excess[mine],
                               new).astype(np.uint8)
    return out


def _spare_haze(new: np.ndarray, mine: np.ndarray, write: np.ndarray, old: np.ndarray,
                deadband: int) -> np.ndarray:
    """The values to write (at ``write``'s pixels) from one piece's solve ``new`` (at
    ``mine``'s), against the alpha so far ``old`` (at ``write``'s).

    A pixel keeps ``old`` where the solve moved it by at most ``deadband`` (0..255), and where
    ``old`` is solid (0 or 255), the solve moved it by at most HAZE_MAX and no pixel within
    HAZE_CLEAR px of it is solved well inside the mix (HAZE_MID): closed-form matting leaves a
    haze over solid ground the brush covers (mean 4-8/255, tail ~40/255), and on soft-dev that
    haze was what made most detail strokes that raised SAD do so. Structure is written: a
    pixel next to one the matte puts at a real mix, a faint strand or gap (a ridge of the
    solved matte: top-hat / black-hat over 5 px), a change beyond HAZE_MAX. Decided from the
    solve and the alpha so far alone (no ground truth)."""
    full = np.zeros(mine.shape, np.uint8)
    full[mine] = new
    mid = mine & (full >= HAZE_MID[0]) & (full <= HAZE_MID[1])
    k = 2 * HAZE_CLEAR + 1
    near_mid = cv2.dilate(mid.view(np.uint8),
                          cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))[write] > 0
    got = full[write]
    step = np.abs(got.astype(np.int16) - old)
    # a strand or a gap a few px wide stands out of the matte around it (top-hat / black-hat);
    # the haze is flat: a pixel whose step is mostly such a ridge is structure, not haze
    ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    ridge = np.maximum(cv2.morphologyEx(full, cv2.MORPH_TOPHAT, ker),
                       cv2.morphologyEx(full, cv2.MORPH_BLACKHAT, ker))[write]
    structure = near_mid | (ridge.astype(np.int16) * 2 >= np.maximum(step, HAZE_RIDGE))
    haze = ((old == 0) | (old == 255)) & (step <= HAZE_MAX) & ~structure
    out: np.ndarray = np.where(haze | (step <= deadband), old, got)
    return out


def _solve_piece(rgb: np.ndarray, before: np.ndarray, mine: np.ndarray,
                 at: tuple[int, int], matting: Any) -> np.ndarray:
    """The matted alpha (uint8) of one band piece, its pixels in ``mine`` (a mask of its box
    with top-left corner ``at`` in the image), the rest known from ``before`` (binarised).

    Its crop is the box matting._groups gives it, in image coordinates: on the image's
    ALIGN grid, so the piece is solved the same whatever window or stroke asks."""
    h, w = before.shape
    a, c = matting.ALIGN, matting.CONTEXT
    (top, left), (bh, bw) = at, mine.shape
    py0, py1 = max(top - c, 0) // a * a, min(-(-(top + bh + c) // a) * a, h)
    px0, px1 = max(left - c, 0) // a * a, min(-(-(left + bw + c) // a) * a, w)
    piece = np.zeros((py1 - py0, px1 - px0), bool)
    piece[top - py0:top - py0 + bh, left - px0:left - px0 + bw] = mine
    trimap = np.where(before[py0:py1, px0:px1] >= 128, 255, 0).astype(np.uint8)
    trimap[piece] = 128
    crop = np.ascontiguousarray(rgb[py0:py1, px0:px1])
    # a preview re-sends every stroke, and each earlier stroke's piece is solved again from the
    # same inputs: remember the answers by their inputs
    import hashlib

    hsh = hashlib.blake2b(digest_size=16)
    hsh.update(np.array(crop.shape, np.int64).data)
    hsh.update(crop.data)
    hsh.update(trimap.data)
    key = (matting.solve_alpha, hsh.digest())  # the solver too: a test may swap it
    with _LOCK:
        got = _PIECES.get(key)
        if got is not None:
            _PIECES.move_to_end(key)
            return got.copy()
    # no prior: the base alpha is what the reviewer says is wrong here, and a near-binary
    # prior would pull the matte back to a hard edge
    alpha = matting.solve_alpha(crop, trimap)
    out: np.ndarray = np.clip(alpha[piece] * 255.0 + 0.5, 0, 255).astype(np.uint8)
    with _LOCK:
        _PIECES[key] = out.copy()
        while len(_PIECES) > _PIECES_MAX:
            _PIECES.popitem(last=False)
    return out


def _detail_windows(detail: list[Stroke], h: int, w: int,
                    margin: int = 24) -> Iterator[tuple[int, int, int, int]]:
    """Windows (y0, y1, x0, x1) covering the detail strokes with a margin, at most TILE*2
    on a side, merged where they overlap."""
    boxes = []
    for st in detail:
        x0, y0, x1, y1 = st.bounds()
        boxes.append([max(0, int(x0) - margin), max(0, int(y0) - margin),
                      min(w, int(np.ceil(x1)) + margin), min(h, int(np.ceil(y1)) + margin)])
    # merged until no two overlap (one pass is not enough: a grown box may then reach one
    # merged before), so no window cuts through another's band
    merged = sorted(boxes)
    changed = True
    while changed:
        changed = False
        out: list[list[int]] = []
        for b in merged:
            for m in out:
                if b[0] <= m[2] and b[2] >= m[0] and b[1] <= m[3] and b[3] >= m[1]:
                    m[0], m[1] = min(m[0], b[0]), min(m[1], b[1])
                    m[2], m[3] = max(m[2], b[2]), max(m[3], b[3])
                    changed = True
                    break
            else:
                out.append(b)
        merged = out
    size = 2 * TILE
    for x0, y0, x1, y1 in merged:
        if x1 <= x0 or y1 <= y0:
            continue
        for ty in range(y0, y1, size):
            for tx in range(x0, x1, size):
                yield ty, min(y1, ty + size), tx, min(x1, tx + size)


def _rgba(rgb: np.ndarray, base_alpha: np.ndarray, alpha: np.ndarray,
          previous_rgba: np.ndarray | None, detail_colours: list[DetailColours]) -> np.ndarray:
    """Colours: the previous cutout's (already decontaminated) where the alpha did not change,
    the photo's where it did, estimated foreground in the detail band."""
    h, w = alpha.shape
    rgba = np.empty((h, w, 4), np.uint8)
    for y0, y1, x0, x1 in _tiles(h, w):
        t = rgba[y0:y1, x0:x1]
        a = alpha[y0:y1, x0:x1]
        if previous_rgba is None:
            t[..., :3] = rgb[y0:y1, x0:x1]
        else:
            t[...] = previous_rgba[y0:y1, x0:x1]
            changed = a != base_alpha[y0:y1, x0:x1]
            if changed.any():
                t[..., :3][changed] = rgb[y0:y1, x0:x1][changed]
        t[..., 3] = a
        np.copyto(t[..., :3], 0, where=(a == 0)[..., None])
    for (y0, y1, x0, x1), fg, band in detail_colours:
        t = rgba[y0:y1, x0:x1, :3]
        t[band & (alpha[y0:y1, x0:x1] > 0)] = fg[band & (alpha[y0:y1, x0:x1] > 0)]
    return rgba

"""The graph cut at working size: keep/remove strokes and clicks decided on the model's prior.

The model's alpha (the base version) is the prior; the strokes are hard labels. A graph cut
(PyMaxflow) at a working resolution decides the rest from three terms:

* the prior's log-odds, trusted less close to a stroke (a stroke says "the model was wrong
  around here"), fully trusted far from every stroke; how far "close" reaches grows with the
  object, and for a painted stroke is capped by the stroke's own size (twice its brush radius,
  or twice its depth inside the region it paints), so a stroke along a thin sliver stays there;
* a colour model (Lab histograms) built from the strokes and the model's confident regions,
  the latter weighted by their nearness to the strokes, so it describes the local scene (a
  remove click deep inside the cutout adds the smooth region around it as background, and one
  in the bulk of its piece takes that region's colours out of the object samples:
  ``_wrong_alike``);
* an edge-aware (contrast-sensitive) 8-neighbour smoothness term.

The cut is then gated: a change is kept only in a connected region that a stroke of the same
sign touches (a keep stroke can only add what is connected to it, a remove stroke can only take
away what is connected to it), so nothing far from a stroke moves. A remove stroke on a blob of
the prior that is separate from the main object (a ghost) removes the whole blob, and so does a
remove click anywhere on it but its outline when it is clearly apart (``_apart_piece``); a remove
click or painted remove stroke spares a thin strap-like piece it reaches only across an edge (a
strap beside the gap). A click on a thin smooth thing (a pencil) changes nothing farther than a
few of its widths from it, so it cannot take the large object the thing lies on; nor does a
keep click add a region far wider than the part it lands on that the background reaches across
a weaker edge than the click does (a keyboard behind a pencil's outline). Nor does a remove
click take a piece of the object it reaches only through its own spot, beyond twice its radius,
that the kept object reaches at least as easily (a bus panel behind a sign post:
``_beyond_spared``).

Which guard applies to which touch (all in ``_step``, after the connectivity gate; an edge
click, one whose disk reaches the current edge (``_edge_band``), flips only the sliver nearer
to it than the edge, or, more than 5 px from it, what lies under its brush or along the edge
at most twice as deep as the click is far from it and at most three radii from it (and
beyond its brush no thinner than half that depth), and gets none of them but the ghost rule):

=========================  ===========  ============  ==============  ==================
guard                      keep click   remove click  painted keep    painted remove
=========================  ===========  ============  ==============  ==================
``_spread_limited``        yes          yes           no              no
``_behind_edge_spared``    yes          no            no              no
``_thin_spared``           no           yes [1]_      no              yes (``thin_paint_*``)
``_ring_spared``           no           yes [2]_      no              no
ghost blobs (``_ghosts``)  no           yes           no              yes
``_apart_piece``           no           yes [3]_      no              no
``_beyond_spared``         no           yes           no              no
``_kept_spared``           no           yes           no              no
=========================  ===========  ============  ==============  ==================

.. [1] with its reach widened by the click's depth when it lies deep in the region it flips
   (``thin_depth``), else by its radius.
.. [2] it spares only a ring the object closes round the click's gap (background not open
   to the photo's border).
.. [3] not for an edge click: the solid piece it lands on goes whole when more than
   ``APART_PX`` px of background part it from the main subject, however shallow the click
   (``_ghosts`` wants it half the piece's depth deep).

Each row is measured on the click and painted protocols (docs/review.md); every guard but the
ghost rule and ``_apart_piece`` has a ``Params`` field that turns it off (``spread_mult``,
``keep_edge_margin``, ``thin_width`` / ``thin_paint_frac``, ``gap_ring``, ``beyond_mult``,
``kept_margin``).

The wrong subject (the model held a background object and dropped the product): a keep click
farther from the cutout than a share of its size is cut again without the prior, GrabCut's
way, so it brings back the object it lands on as far as the photo's colours and edges go
(``_far_keep_recut``; to the photo's own edge only where the model saw it run on, the cutout
reaching that edge too or the model holding most of it faintly: ``_edge_seen``); and once a
keep stroke holds a piece, a remove click deep inside another piece apart from it, which no
keep stroke touches, takes that piece whole however large (``_unkept_piece``, beside
``_apart_piece`` in the table's last row). After a subject click the main subject of these
rules is the part it chose, not the largest piece (``_chosen_label``; the click reaches
``segment`` apart from the stroke list, as ``subject``, and cuts nothing).

A remove click on a half-transparent ghost (``_ghost_pockets``: a piece of the cutout the model
holds at a median alpha below GHOST_HALF) is not an edge click because of the ghost's own
faint pockets, and it disputes the ghost's soft pieces it reaches through them as a remove
stroke disputes a marked blob (not a solid body the ghost is joined to, ``_solid_bodies``);
what the cut takes there passes the gate. Like every step it is
decided against the state before it, so a later stroke never changes what it took.

Later strokes win: a painted stroke over an earlier one of the other kind clears that one's
hard core under its brush (``_over_earlier``), and a click whose disk touches what an earlier
painted stroke of the other kind flipped beyond its brush flips those pieces back
(``_undone_beyond``: the reviewer's keep click on the hoof a remove stroke took past its brush).
What decided each pixel (hard cores, brushes, flips beyond a brush) is one record, ``_Order``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import cv2
import maxflow
import numpy as np
import numpy.typing as npt
from scipy.ndimage import distance_transform_edt, gaussian_filter, median
from scipy.spatial import cKDTree

from .step_store import StepStore, code_stamp
from .strokes import KEEP, REMOVE, Stroke, paint, rasterise
from .subject import choose_subject

HARD = 1e9

# A ghost is a blob the cutout holds at GHOST_MIN..127 (seen, not solid): what the faint pixels
# keep through an opening of radius GHOST_OPEN working px, so the soft rim along an object is
# none. A keep stroke painted over one reaches as far as a click (_on_faint_blob); a remove
# stroke on one takes the whole blob at full size (retouch._take_faint), but for another object
# of other colours the blob joins to the spot it hit (retouch._other_part).
GHOST_MIN = 32
GHOST_OPEN = 2
# A half-transparent ghost: a piece of the cutout the model holds mostly (its median alpha)
# below GHOST_HALF, which the 128 line cuts into soft patches above it and faint pockets
# below (dev photo banana3: the roses' ghost at 64-250, median 152; a soft object is held
# higher: dev 036's body, median 245, went whole with a click under a median of 250).
# See _ghost_pockets.
GHOST_HALF = 192 / 255.0
# A solid part of such a piece (GHOST_SOLID and above) the ghost is only joined to is not the
# ghost: the clear background (below GHOST_MIN) is more than GHOST_RING_BG of the prior between
# GHOST_RING working px around it. See _solid_bodies.
GHOST_SOLID = 250 / 255.0
GHOST_RING = (3, 8)
GHOST_RING_BG = 0.5
# Pixels of a blob a painted remove stroke marks that the model held within this much (alpha
# as a fraction) of what the stroke's centre line runs over are held as firmly (see
# _held_like_line)
BLOB_HELD_SLACK = 5 / 255
# The blob split's smallest neck radius (working px; neck_frac x sqrt(area) when larger): the
# necks a remove stroke's blobs split at (_marked_blobs), and the body a part beyond a painted
# remove stroke's brush must have to be spared (_doubt_beyond, _firm_beyond; a rim beyond a
# grazing brush has none)
NECK_MIN = 2


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
    # a painted remove stroke marks a blob (takes it whole) only when a quarter of its centre
    # line inside the blob runs deep in it (_deep_hits), not when the brush passes one deep spot
    paint_blob_line: bool = True
    # and only when that centre line crosses the blob's body, what survives the neck's erosion
    # (_marked_blobs), not a thinner spill the body owns
    paint_blob_body: bool = True
    # ... and not a part of that blob with a body of its own, apart from the line's part, that
    # the model held at least this much lower (alpha as a fraction; see _held_like_line; 0
    # turns this off)
    paint_blob_held: float = 64 / 255
    # beyond its brush, a painted remove stroke takes no held pixel that looks more like the
    # object it leaves than like the backdrop under its centreline (see _object_like_beyond)
    paint_beyond_alike: bool = True
    # nor, beyond its brush, a part with a body of its own (at the blob split's neck radius)
    # that the model held as object but at least this much lower than what the centre line
    # runs over (see _doubt_beyond; 0 turns this off)
    paint_beyond_held: float = 64 / 255
    # nor, beyond its brush, what the model held solid and at least this much higher than the
    # median of what a centre line running mostly outside the cutout covers: the object beside
    # the faint wrong region the stroke is painted over (see _firm_beyond; 0 turns this off)
    paint_beyond_firm: float = 64 / 255
    # ... and, when that line runs mostly inside the cutout over what the model held in doubt
    # (its median from .5 to GHOST_SOLID - paint_beyond_firm) and the brush reaches past the
    # cutout's edge, what it held that much higher in a held body of the cutout it leaves
    # (see _firm_rim)
    paint_beyond_rim: bool = True
    # ... and, when that line runs mostly inside the cutout, at most a quarter of it over the
    # clear backdrop, and a brush of radius at most paint_beyond_sill_radius reaches past the
    # cutout's edge to that backdrop (the stroke covers a wrong strip along the edge, a car's
    # sill shadow), what the model held at paint_beyond_sill or more in a held body of the
    # cutout behind the stroke (see _firm_rim; 0 turns this off)
    paint_beyond_sill: float = 0.5
    paint_beyond_sill_radius: float = 8.0
    # a click this close to the current edge flips only its own disk; a wider brush that
    # reaches over the edge (at distance d) flips only under itself or within
    # edge_band_mult x d of the edge, beyond its brush only what survives an opening of
    # radius edge_open_frac x d, and its influence radius is edge_sigma_mult x d (see
    # _edge_band; 0 turns each off: edge_band_mult 0 flips only under the brush)
    edge_click_px: float = 5.0
    edge_band_mult: float = 2.0
    # and the band reaches along the edge at most edge_reach_mult x the brush radius from the
    # click (0: no bound)
    edge_reach_mult: float = 3.0
    edge_sigma_mult: float = 1.0
    edge_open_frac: float = 0.5
    # but a click that close whose cut closes a small region inside its window (at most
    # edge_blob_px working px, clear of the window's frame, at least edge_blob_enclosed of its
    # outline on the side it goes to) flips that whole region: a speck sticking out of the
    # edge, a notch into it (edge_blob_px 0 turns this off; see _step)
    edge_blob_px: int = 600
    edge_blob_enclosed: float = 0.85
    # and at most edge_blob_deep x as thick as the click is far from the edge (the region's
    # largest inscribed radius against that distance: the click says the error is about that
    # deep; 0: no bound)
    edge_blob_deep: float = 2.5
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
    # ... but it is hard over an earlier keep stroke's brush, and there the earlier keeps'
    # hard cores no longer hold (later strokes win; see _over_earlier)
    remove_over_keep: bool = True
    # the mirror: under a painted keep stroke's brush, earlier remove strokes' hard cores no
    # longer hold (_over_earlier)
    keep_over_remove: bool = True
    # a click landing on what an earlier painted stroke of the other kind flipped beyond its
    # brush (and nothing has painted or flipped since) flips that region back where it is
    # connected to the click's disk (see _undone_beyond; False turns this off)
    click_undoes_beyond: bool = True
    # ... and a painted remove stroke whose centreline runs outside the cutout spares the
    # object pixels beside it whose nearest point of the cutout's edge lies on an image edge
    # of at least graze_step (Lab, max over graze_slack px) and graze_ratio x the backdrop's
    # own steps under the brush (see _graze_spared; graze_step 0 turns this off)
    graze_step: float = 12.0
    graze_ratio: float = 2.0
    graze_slack: int = 2
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
    # ... and, when it lies in the bulk of its piece (at least deep_bulk x the piece's own
    # depth deep) and the cut leaves most of that part, it is cut again with the cutout's
    # pixels of that part's colours (histogram at least deep_alike of its peak) taken out of
    # the object samples (deep_alike 0: off; see _wrong_alike)
    deep_alike: float = 0.1
    deep_bulk: float = 0.9
    # ... but that second cut stands only when the smooth part is thick against the click's
    # depth (its inscribed radius at least deep_alike_thick x the depth) or what it takes beyond
    # the first cut is mostly held hard by the model (a share of at least deep_alike_held at
    # prior >= deep_alike_sure): a thin part whose look spreads over what the model held less
    # firmly is a blurred hub, not a wrong region (deep_alike_held 0: off; _alike_stands)
    deep_alike_thick: float = 0.7
    deep_alike_held: float = 0.8
    deep_alike_sure: float = 0.99
    # a keep click farther than far_keep_px from the cutout (an object it dropped whole) is
    # cut again far_keep_rounds times without the prior, its colour models taken from the
    # previous cut (see _far_keep_recut); 0 turns this off
    far_keep_px: float = 24.0
    far_keep_frac: float = 0.5  # ... or far_keep_frac x sqrt(the cutout's area), if larger
    far_keep_rounds: int = 2
    # ... and its recut may run to the photo's own edge (not the window's frame inside the
    # photo) when the cutout itself reaches that edge within far_keep_cropped px (the model
    # sees a product the photo crops; 0 turns this part off) or the model held most of what
    # it adds faintly (the frame rule, _edge_seen)
    far_keep_cropped: int = 2
    # ... and when the first cut's addition joined to the click already runs to the photo's
    # own edge against that rule (a backdrop stretch as dark as the product: soft-dev GT23),
    # the click keeps only its spot (see _far_keep_recut); False turns this off
    far_keep_edge: bool = True
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
    # a remove click at least deep_min px deep (its depth widened its reach) in a gap the object
    # encloses (its flip grown 1 px touches no open background) whose smooth part has the open
    # backdrop's colours (at least gap_backdrop_own of it nearer the backdrop than any colour
    # the kept object holds, gap_backdrop_share nearer it than the object's colours unlike the
    # backdrop): beyond its brush, the pieces of at least its disk's area that the model held
    # at least gap_firm and that are mostly nearer the object's colours than the backdrop's,
    # open and the gap's own, stay (see _backdrop_gap_spared; gap_backdrop_share 0 turns this
    # off, deep_mass 0 does not: the rule reads the same smooth part either way)
    gap_backdrop_share: float = 0.5
    gap_backdrop_own: float = 0.25
    gap_firm: float = 250 / 255
    # a keep click spares what of its flip the old background reaches across an edge at least
    # keep_edge_margin rungs lower (thin_step0 ladder) than the click's core does, when a piece
    # of that is more than keep_edge_wider x as wide (half-width) as the part the click keeps,
    # or its radius (see _behind_edge_spared); keep_edge_margin 0 turns this off
    keep_edge_margin: int = 2
    keep_edge_wider: float = 2.5
    # beyond its brush a painted keep stroke adds no piece, at least the disk of its radius (or
    # keep_beyond_radius px) in area and held by the model below keep_beyond_held (median),
    # that its core reaches only through colours farther than keep_beyond_tol (Lab) from every
    # colour under the core (see _unlike_beyond; keep_beyond_tol 0 turns this off)
    keep_beyond_tol: float = 20.0
    keep_beyond_held: float = 0.25
    keep_beyond_radius: float = 6.0
    # beyond its brush a painted keep stroke adds no piece (as large as _unlike_beyond's) in a
    # hole the brush closes (more than keep_backdrop_ring of the hole's outline is brush) that
    # the model held below keep_backdrop_held (median) and that mostly looks like the backdrop
    # round it rather than the object (see _backdrop_beyond; keep_backdrop_held 0 turns this off)
    keep_backdrop_held: float = 0.25
    keep_backdrop_ring: float = 0.75
    # beyond its brush a painted keep stroke of radius at most keep_through_radius whose hard
    # core is mostly (more than keep_through_share) colours within rim_colour_tol of the
    # backdrop the model held clear round it -- painted across something the backdrop shows
    # through -- adds no piece the model held below keep_through_held that looks more like
    # that backdrop than like the core's other colours, when the model held some of what it
    # adds there (see _through_beyond; keep_through_share 0 turns this off)
    keep_through_share: float = 0.5
    keep_through_radius: float = 6.0
    keep_through_held: float = 0.1
    # beyond its brush a painted keep stroke whose centre line runs along the cutout (median
    # distance to it at most keep_rim_line x its radius) and whose hard core is mostly (more
    # than keep_rim_share) colours within rim_colour_tol of the backdrop the model held clear
    # adds nothing the model held below keep_rim_held that lies away from the cutout (see
    # _rim_away_beyond; keep_rim_share 0 turns this off)
    keep_rim_share: float = 0.9
    keep_rim_line: float = 1.5
    keep_rim_held: float = 0.1
    # beyond its brush a painted keep stroke wider than keep_through_radius over a part the
    # model saw (its hard core held at a mean of keep_seen_core or more) adds no piece the
    # model held below keep_seen_clear that is wider than keep_seen_wide x its radius (see
    # _seen_core_beyond; keep_seen_core 0 turns this off)
    keep_seen_core: float = 0.3
    keep_seen_clear: float = 0.1
    keep_seen_wide: float = 1.0
    # a remove click spares the pieces of its flip beyond beyond_mult x its radius that
    # border the background only through its own neighbourhood, when the kept object reaches
    # them at least as easily as the click does (see _beyond_spared); 0 turns this off
    beyond_mult: float = 2.0
    # a remove click at least deep_min deep spares, beyond beyond_mult x its radius, what of
    # its flip an earlier keep stroke's hard core reaches on the edge ladder at least
    # kept_margin rungs lower than the click's core does (see _kept_spared); 0 turns this off
    kept_margin: int = 1
    # a painted keep/remove stroke of radius at least span_radius whose brush spans a part
    # whole (over at least span_share of its length the colour under its centre line is one
    # colour, farther than span_tol (Lab) from the colours under both its flanks, the outer
    # 1 - span_flank of the brush, which are nearer each other) changes nothing beyond its
    # brush but within span_margin px of it and along the part past its ends (span_reach x
    # its radius); see _spans_whole.
    # span_tol 0 turns this off
    span_tol: float = 12.0
    span_radius: float = 5.0
    span_share: float = 0.6
    span_flank: float = 0.6
    span_margin: float = 2.0
    span_reach: float = 3.0
    # ...and a painted keep stroke wider than keep_through_radius whose centre line's colour is
    # farther than span_tol from both flanks' along at least span_apart of its length, whatever
    # the part's own stripes or the two sides' colours; span_apart 0 turns this off
    span_apart: float = 0.9
    bins: int = 16


DEFAULT = Params()


def _colour_bins(lab: np.ndarray, bins: int) -> np.ndarray:
    """Each pixel's bin of the ``bins``³ Lab histogram, flat."""
    q = 256 // bins
    idx = ((lab[..., 0] // q).astype(np.int32) * bins + lab[..., 1] // q) * bins + lab[..., 2] // q
    flat: np.ndarray = idx.ravel()
    return flat


def _colour_hist(idx: np.ndarray, weights: np.ndarray, bins: int) -> np.ndarray:
    """The weighted Lab histogram of the pixels binned ``idx``, smoothed across bins, flat."""
    h = np.bincount(idx, weights=weights.ravel(), minlength=bins ** 3).reshape(bins, bins, bins)
    smooth: np.ndarray = gaussian_filter(h, 0.8, mode="nearest").ravel()
    return smooth


def _colour_llr(lab: np.ndarray, fg_w: np.ndarray, bg_w: np.ndarray, bins: int,
                clip: float) -> np.ndarray:
    """log P(colour | object) - log P(colour | background) per pixel, from weighted samples."""
    idx = _colour_bins(lab, bins)
    n = bins ** 3
    hf = _colour_hist(idx, fg_w, bins)
    hb = _colour_hist(idx, bg_w, bins)
    sf, sb = hf.sum(), hb.sum()
    if sf <= 0 or sb <= 0:
        return np.zeros(lab.shape[:2], np.float32)
    eps = 1e-3 / n
    llr = np.log(hf / sf + eps) - np.log(hb / sb + eps)
    out: npt.NDArray[np.float32] = np.clip(llr[idx], -clip, clip).reshape(
        lab.shape[:2]).astype(np.float32)
    return out


def _pairwise(g: Any, nodes: np.ndarray, lab: np.ndarray, smooth: float) -> None:
    h, w = lab.shape[:2]
    offsets = ((0, 1), (1, 0), (1, 1), (1, -1))
    # the squared Lab distances in int32, exact (at most 3 x 255² < 2²⁴, so float32 holds them
    # as the float32 sum of squares did, at a third of its cost)
    chans = [lab[..., c].astype(np.int32) for c in range(3)]
    spans, diffs = [], []
    for dy, dx in offsets:
        xa0, xa1 = max(0, -dx), w - max(0, dx)
        d2 = np.zeros((max(h - dy, 0), max(xa1 - xa0, 0)), np.int32)
        for c in chans:
            e = c[: h - dy, xa0:xa1] - c[dy:, xa0 + dx: xa1 + dx]
            e *= e
            d2 += e
        spans.append((xa0, xa1))
        diffs.append(d2.astype(np.float32))
    mean = float(np.mean([d.mean() for d in diffs if d.size])) if h > 1 and w > 1 else 1.0
    beta = 1.0 / (2.0 * max(mean, 1e-6))
    for (dy, dx), (xa0, xa1), d2 in zip(offsets, spans, diffs, strict=True):
        wgt = np.zeros((h, w), np.float32)
        np.multiply(d2, -beta, out=d2)
        np.exp(d2, out=d2)
        np.multiply(d2, smooth / np.hypot(dy, dx), out=wgt[: h - dy, xa0:xa1])
        st = np.zeros((3, 3))
        st[1 + dy, 1 + dx] = 1
        g.add_grid_edges(nodes, weights=wgt, structure=st, symmetric=True)


def _frame(shape: tuple[int, ...]) -> np.ndarray:
    """The outermost rows and columns of a window of this shape (its frame), as a bool mask."""
    frame = np.zeros(shape[:2], bool)
    frame[[0, -1], :] = True
    frame[:, [0, -1]] = True
    return frame


def _components_touching(region: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    if not region.any() or not seeds.any():
        return np.zeros(region.shape, bool)
    _, lab = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
    near = cv2.dilate(seeds.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    hit = np.unique(lab[near & region])
    hit = hit[hit > 0]
    return np.isin(lab, hit) if hit.size else np.zeros(region.shape, bool)


def _spare_beyond(gated: np.ndarray, spared: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """``gated`` without ``spared`` and without what then no longer joins ``seeds`` (a
    stroke's brush): how a guard beyond the brush takes its share back (``gated`` itself,
    unchanged, when ``spared`` is empty)."""
    if not spared.any():
        return gated
    # a new array: the caller's ``gated`` stays as it was (guards read it in turn)
    left = gated & ~spared
    kept: np.ndarray = _components_touching(left, seeds) & left
    return kept


def _dist_to(mask: np.ndarray) -> np.ndarray:
    """Each pixel's distance (float32; L2, 5x5 mask) to the nearest pixel of the bool ``mask``
    (0 on it): how far from the cutout a pixel lies (``_graze_spared``, ``_rim_away_beyond``)."""
    d: np.ndarray = cv2.distanceTransform((~mask).view(np.uint8), cv2.DIST_L2, 5)
    return d


def _deep_hits(lbl: np.ndarray, prior_fg: np.ndarray, keep: np.ndarray,
               remove: np.ndarray, line: np.ndarray | None = None,
               subject: np.ndarray | None = None) -> list[int]:
    """Blob labels that a remove stroke reaches deep inside (at least half the blob's own
    depth: it marks the blob, not a spill along its edge), that no keep stroke touches and
    that are not the main object (the largest blob, or after a subject click the one holding
    most of the part it chose, ``_chosen_label``). With ``line`` (a painted stroke's centre
    line), a quarter of the part of it inside the blob must be that deep (its upper quartile;
    a blob only the brush's rim reaches is not marked).

    Why a quartile for a painted stroke: its brush's deepest spot is one point of a long
    stroke. A stroke down a jump pole, wholly on the background, passed 24 px deep where the
    cutout's spill over the pole fills a notch in the horse's hindquarters (the pole parts them
    from the body; that blob is 33 px deep), the rest of it 3-8 px deep in that spill: the
    whole-blob push took the hindquarters and tail with it, 3 114 product px up to 63 px past
    the brush (dev photo 093, QA H1: upper quartile 0.26 of the blob's depth; the painted
    protocol's strokes that took a wrong blob whole: 0.57-0.82, docs/review.md 2026-12-06)."""
    ids, areas = np.unique(lbl[prior_fg], return_counts=True)
    if ids.size < 2:
        return []
    main = _chosen_label(lbl, prior_fg, subject) or int(ids[np.argmax(areas)])
    hit = set(np.unique(lbl[remove & prior_fg]).tolist()) - {0, main}
    hit -= set(np.unique(lbl[keep]).tolist())
    if not hit:
        return []
    depth = cv2.distanceTransform(np.pad(prior_fg, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    out = []
    for i in hit:
        blob = lbl == i
        if line is None:
            hit_depth = float(depth[blob & remove].max())
        else:
            # its centre line, the deliberate part: the rim alone is a soft push (dev 012, QA
            # H2: a 14 px brush grazing a bike's fork took it whole down to the hub)
            on = depth[blob & line]
            hit_depth = float(np.percentile(on, 75)) if on.size else 0.0
        if hit_depth >= 0.5 * depth[blob].max():
            out.append(i)
    return out


def _ghosts(prior_fg: np.ndarray, keep: np.ndarray, remove: np.ndarray,
            line: np.ndarray | None = None, subject: np.ndarray | None = None) -> np.ndarray:
    """Separate blobs of the prior that a remove stroke marks: the whole blob goes (a painted
    stroke's ``line``: see ``_deep_hits``)."""
    if not (remove & prior_fg).any():
        return np.zeros(prior_fg.shape, bool)
    _, lbl = cv2.connectedComponents(prior_fg.astype(np.uint8), connectivity=8)
    hit = _deep_hits(lbl, prior_fg, keep, remove, line, subject)
    return np.isin(lbl, hit) if hit else np.zeros(prior_fg.shape, bool)


def _chosen_label(lbl: np.ndarray, fg: np.ndarray, subject: np.ndarray | None) -> int:
    """The label of ``lbl`` (pieces or blobs of ``fg``) holding most of ``subject``, the part
    of the cutout a subject click chose (``segment``: the strokes after it are cut on the list
    without it, which clears the rest only at the end); 0 without one (or none of it left).

    Why (QA qa44r H1, dev 015, 2026-12-07): a remove stroke parted the rider from the sand
    mound the model held, and a subject click chose him; a remove click in his front wheel's
    filled disc then took him whole (IoU .214 -> .000): cut on the list without the subject
    click, the mound was still the largest piece, so the rider was "a solid piece apart from
    the main subject" (``_apart_piece``). After a subject click the main subject is the one
    it chose."""
    if subject is None:
        return 0
    on = lbl[fg & subject]
    on = on[on > 0]
    if not on.size:
        return 0
    ids, counts = np.unique(on, return_counts=True)
    return int(ids[np.argmax(counts)])


def _click_centre(st: Stroke, h: int, w: int, y0: int = 0, x0: int = 0) -> tuple[int, int]:
    """(row, col) of click ``st``: its point rounded to the nearest pixel (``round``'s, halves
    to even) and held inside rows ``y0`` to ``h`` - 1 and columns ``x0`` to ``w`` - 1 (the
    picture, or a window of it), counted from (``y0``, ``x0``). One rounding for every rule
    that asks where a click is: each of them rounded it itself."""
    return (min(max(int(round(st.points[0][1])), y0), h - 1) - y0,
            min(max(int(round(st.points[0][0])), x0), w - 1) - x0)


# A solid piece of the cutout parted from the main subject (its largest piece) by more than
# APART_PX working px of background is apart from it: a remove click on it takes it whole
# (_apart_piece). Nearer, it may be a part of the product the 128 line parts from it by a
# hairline.
APART_PX = 4


def _apart_piece(state: np.ndarray, keep: np.ndarray, st: Stroke, params: Params,
                 subject: np.ndarray | None = None) -> np.ndarray:
    """For a remove click on a solid piece of ``state`` (8-connected) that is not the main
    subject: that whole piece; else nothing. The main subject is the largest piece (after a
    subject click, ``subject``: the piece holding most of the part it chose) with every
    piece parted from it by at most APART_PX px of background (joined across so narrow a gap: a
    product's second part parted from it by a hairline). A piece a keep stroke touches is the
    reviewer's, as for ``_deep_hits``; and a click within ``edge_click_px`` of the piece's
    outline is an edge click (a sliver of spill along a product's second part), as before.

    ``_ghosts`` takes only a blob the click lies deep inside (half the blob's depth): a remove
    click on a wall clock beside soft-dev GT25's pencil cup, 23 px deep in a blob 83 px deep,
    took a disk (0.3 % of the clock)."""
    out = np.zeros(state.shape, bool)
    h, w = state.shape
    cy, cx = _click_centre(st, h, w)
    if not state[cy, cx]:
        return out
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(state.view(np.uint8), connectivity=8)
    if n < 3:
        return out
    main = _chosen_label(lbl, state, subject) or 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    hit = int(lbl[cy, cx])
    if hit == main:
        return out
    piece = lbl == hit
    if (piece & keep).any():
        return out
    x, y, bw, bh = stats[hit, :4]
    inside = np.pad(piece[y:y + bh, x:x + bw], 1).view(np.uint8)
    depth = cv2.distanceTransform(inside, cv2.DIST_L2, 5)[1 + cy - y, 1 + cx - x]
    if depth <= params.edge_click_px:
        return out
    # pieces parted by at most APART_PX px join when each grows by half of it
    r = APART_PX // 2
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    _, grown = cv2.connectedComponents(cv2.dilate(state.view(np.uint8), se), connectivity=8)
    if grown[cy, cx] == grown[lbl == main][0]:
        return out
    out[piece] = True
    return out


def _unkept_piece(state: np.ndarray, keep: np.ndarray, st: Stroke,
                  params: Params, subject: np.ndarray | None = None) -> np.ndarray:
    """For a remove click deep inside a solid piece of ``state`` (8-connected) when keep strokes
    hold other pieces apart from it: that whole piece; else nothing.

    The wrong-subject case: the cutout held a background object (a traffic box) and
    the reviewer keep-clicked the product the model dropped. The keep stroke names the subject,
    so the object apart from it is a second piece however large; ``_apart_piece`` measures
    "main" by area and left the box as the main subject, and a remove click deep in it after
    two keep clicks on the car took one of its colours (dev photo 059: 2 891 px of a 15 600 px
    box; the next click 2 998 more). The piece goes whole only
    when no keep stroke touches it, the background parts it from every piece a keep stroke
    touches (farther than ``_far_from`` the piece's area: apart as another
    object is), and the click lies at least half the piece's own depth deep
    and deeper than ``edge_click_px`` (it marks the piece, as for ``_deep_hits``, not a spill
    along a product's second part). Nor the piece a subject click chose (``subject``,
    ``_chosen_label``): it holds the subject as a keep stroke would."""
    out = np.zeros(state.shape, bool)
    h, w = state.shape
    cy, cx = _click_centre(st, h, w)
    if not state[cy, cx] or not (keep & state).any():
        return out
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(state.view(np.uint8), connectivity=8)
    hit = int(lbl[cy, cx])
    piece = lbl == hit
    if (piece & keep).any() or hit == _chosen_label(lbl, state, subject):
        return out
    x, y, bw, bh = stats[hit, :4]
    inside = np.pad(piece[y:y + bh, x:x + bw], 1).view(np.uint8)
    d = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    depth = float(d[1 + cy - y, 1 + cx - x])
    if depth <= params.edge_click_px or depth < 0.5 * float(d.max()):
        return out
    # apart as an object the cutout dropped whole is (_far_from): nearer, the kept piece may
    # be a part of the same product and the clicked piece the product with a spill (dev photo
    # 053: a remove click took the motorbike, 26 459 px, with a kept part 50 px from it)
    gap = cv2.distanceTransform((~piece).view(np.uint8), cv2.DIST_L2, 5)
    if float(gap[keep & state].min()) <= _far_from(int(piece.sum()), params):
        return out
    out[piece] = True
    return out


def _far_from(area: int, params: Params) -> float:
    """How far from a piece of ``area`` px another thing lies to be another object, not a part
    of the same one: ``far_keep_px``, or ``far_keep_frac`` x the square root of the area if
    larger."""
    return max(params.far_keep_px, params.far_keep_frac * float(np.sqrt(max(area, 1))))


def _blob_labels(prior_fg: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Split the prior's object at necks thinner than 2*radius: label (int32) of the blob each
    object pixel belongs to (0 outside) and the blobs' bodies (bool, what survives an erosion
    of that radius; each blob is a body and the thinner parts nearest it), or None when it does
    not split."""
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    core = cv2.erode(prior_fg.astype(np.uint8), se)
    n, _ = cv2.connectedComponents(core, connectivity=8)
    if n <= 2:
        return None
    _, lbl = cv2.distanceTransformWithLabels((core == 0).astype(np.uint8), cv2.DIST_L2, 5,
                                             labelType=cv2.DIST_LABEL_CCOMP)
    return np.where(prior_fg, lbl, 0).astype(np.int32), core > 0


def _marked_blobs(prior_fg: np.ndarray, keep: np.ndarray, remove: np.ndarray,
                  radius: int, line: np.ndarray | None = None, body: bool = False,
                  held: np.ndarray | None = None, held_step: float = 0.0,
                  subject: np.ndarray | None = None) -> np.ndarray:
    """Blobs of the prior, split at thin necks, that a remove stroke marks: the graph cut is
    pushed to drop them whole (the colour and the cut at the neck still decide; a painted
    stroke's ``line`` and the main blob after a subject click, ``subject``: see
    ``_deep_hits``). With ``body``, a painted stroke's line must also
    cross the blob's body (the part of it that survives the erosion at the neck's radius).

    Why the body: a blob is a body and the thinner parts nearest it. A stroke down a hoof's
    shadow, a strip of spill thinner than the neck that the foot's body owns, ran half the
    blob's depth deep in the strip (3.597 of 7.19) and marked the foot and the lower leg with
    it; the push took the leg 10+ px past the brush (dev 093, QA37 W2, after seven strokes had
    shrunk the cutout and its neck radius from 7 to 6 px so that the foot split off)."""
    if not (remove & prior_fg).any():
        return np.zeros(prior_fg.shape, bool)
    split = _blob_labels(prior_fg, radius)
    if split is None:
        return np.zeros(prior_fg.shape, bool)
    lbl, bodies = split
    hit = _deep_hits(lbl, prior_fg, keep, remove, line, subject)
    if hit and line is not None and body:
        # not a blob it reaches only through a thinner part its body owns
        hit = [i for i in hit if (line & bodies & (lbl == i)).any()]
    if not hit:
        return np.zeros(prior_fg.shape, bool)
    if line is not None and held is not None and held_step > 0:
        return _held_like_line(lbl, hit, line, held, held_step, radius)
    return np.isin(lbl, hit)


def _held_like_line(lbl: np.ndarray, hit: list[int], line: np.ndarray, held: np.ndarray,
                    step: float, radius: int) -> np.ndarray:
    """The blobs ``hit`` (labels of ``lbl``) that a painted remove stroke's centre ``line``
    marks, less each blob's parts the model ``held`` (its alpha, float) a clear
    ``step`` lower than what the line runs over: a part the line does not cross, with a body
    of its own (it survives an erosion of the blob split's neck ``radius``, as ``_blob_labels``
    parts blobs), apart from the pixels held as firmly as under the line (the line's lower
    quartile, less ``BLOB_HELD_SLACK``) joined to the line, and held there at a median at
    most that level less ``step``. The soft rim of a wrong blob (thinner than its necks),
    what the line runs over, and a ghost held at half alpha throughout stay marked.

    Why (QA qa40b W-A, dev 155, 2026-12-06): the model held a graffiti at 1.0 and the skater
    beside it at 0.5-0.8, and the neck split left her legs and hips in the graffiti's blob. A
    remove stroke r 40 wholly on the graffiti marked the blob, and the whole-blob push (the
    prior discounted over all of it, ``blob_bias``) took 4 468-7 024 of her px up to 102 px
    beyond the brush, also after keep clicks on her had been applied. The model's own doubt
    parts her from what the stroke covers: beyond that step the cut decides by the brush's
    distance, as beyond any brush. Without the body and step tests (any part held below the
    line's level) the painted protocol lowered 7 of 84 dev photos (047 -.0076: the soft
    fringes of the wrong blobs its strokes take whole; docs/review.md)."""
    out = np.zeros(lbl.shape, bool)
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    for i in hit:
        blob = lbl == i
        on = held[blob & line]
        if not on.size:
            out |= blob
            continue
        level = float(np.percentile(on, 25))
        firm = blob & (held >= level - BLOB_HELD_SLACK)
        rest = blob & ~(_components_touching(firm, line & firm) & firm)
        n, parts = cv2.connectedComponents(rest.view(np.uint8), connectivity=8)
        apart = np.zeros(n, bool)
        apart[np.unique(parts[cv2.erode(rest.view(np.uint8), se) > 0])] = True
        apart[np.unique(parts[line])] = False
        apart[0] = False
        if apart.any():
            apart &= _label_medians(held, parts, apart) <= level - step
        out |= blob & ~apart[parts]
    return out


def _core_strokes(strokes: list[Stroke], params: Params) -> list[Stroke]:
    """The hard part of each stroke. A click (one point) marks a spot: only its centre is
    hard, its disk is a preference the edges may override (a click next to an edge must not
    cross it). A painted stroke is deliberate coverage: the middle half of the brush is hard."""
    return [Stroke(st.kind, max(0.5, st.radius * (
        params.core_frac if len(st.points) == 1 else params.paint_core_frac)), st.points)
        for st in strokes]


def _faint_finders(strokes: list[Stroke], params: Params) -> list[Stroke]:
    """The footprint with which each stroke finds the faint blobs it takes at full size
    (retouch._take_faint): its hard core, but a remove click's whole disk. A click's core is
    its centre pixel; on a half-transparent ghost it lands on a patch above 128 beside the
    faint pockets it means (banana3: a 17 px hole, the ghost left)."""
    cores = _core_strokes(strokes, params)
    return [st if st.kind == "remove" and len(st.points) == 1 else c
            for st, c in zip(strokes, cores, strict=True)]


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


def _edge_depth(state: np.ndarray, st: Stroke, params: Params,
                box: tuple[int, int, int, int], pockets: np.ndarray | None = None
                ) -> tuple[float, np.ndarray, np.ndarray, int, int] | None:
    """For an edge click, one whose disk reaches the current edge (within its radius, or
    ``edge_click_px`` for a smaller brush): its distance from the other side, and over ``box``
    = (y0, y1, x0, x1) the distance map from that side, the side itself and the click's
    position in the box. None for a click further in, or a painted stroke. ``pockets`` (see
    ``_ghost_pockets``) are not the other side: a remove click on a half-transparent ghost is
    not next to its edge because a faint pocket of the same ghost is."""
    if len(st.points) != 1:
        return None
    y0, y1, x0, x1 = box
    cur = state[y0:y1, x0:x1]
    other = cur if st.kind == "keep" else ~cur
    if pockets is not None:
        other = other & ~pockets[y0:y1, x0:x1]
    if not other.any():
        return None
    cy, cx = _click_centre(st, y1, x1, y0, x0)
    d_other = cv2.distanceTransform((~other).astype(np.uint8), cv2.DIST_L2, 5)
    db = float(d_other[cy, cx])
    if db > max(params.edge_click_px, st.radius):
        return None
    return db, d_other, other, cy, cx


def _click_box(st: Stroke, params: Params, h: int, w: int) -> tuple[int, int, int, int]:
    """A box round a click wide enough for ``_edge_depth`` to find the edge it reaches."""
    m = int(params.edge_click_px * 3 + st.radius)
    cy, cx = _click_centre(st, h, w)
    return max(0, cy - m), min(h, cy + m + 1), max(0, cx - m), min(w, cx + m + 1)


def _inscribed(region: np.ndarray) -> float:
    """The largest inscribed radius of a bool ``region``: its pixels' greatest distance from
    the pixels outside it (the frame counts as outside)."""
    d = cv2.distanceTransform(np.pad(region, 1).view(np.uint8), cv2.DIST_L2, 5)
    return float(d.max())


def _edge_band(state: np.ndarray, st: Stroke, params: Params,
               box: tuple[int, int, int, int],
               pockets: np.ndarray | None = None) -> np.ndarray | None:
    """For an edge click (``_edge_depth``, at distance db from the other side), the pixels it
    may change inside ``box`` = (y0, y1, x0, x1): within ``edge_click_px``, those closer to the
    click than db (an open disk of that radius, all on the clicked side); further from the
    edge, those on the clicked side under its brush or at most ``edge_band_mult`` x db from
    the other side (a band along the edge as deep as the error the click sits in) and at most
    ``edge_reach_mult`` x its radius from the click. None for a click further in, or a painted
    stroke.

    A click at distance d from the edge says the error is deepest here and only about d deep:
    a thin sliver whose extent along the edge is unknown. Flipping more than the disk (an
    edge band, a graph-cut region) crosses the true edge about as often as it fixes it, so a
    click there must not make the cutout worse anywhere else.

    A brush wider than ``edge_click_px`` (the click protocol's clicks are 5 px, the editor's
    default brush 8.6 px) that reaches over the edge was a region click, and on a duck's lost
    beak tip, 6 px from the cutout, a keep click of radius 12 added a streak of the water's
    ripples running off the beak (374 background px of 517; docs/review.md). Flipping only
    under the brush stopped that, but a click 5-12 px deep in a wide error along the edge
    then fixed one brush's worth of it: the band lets it fix the error along the edge, and
    ``_step`` narrows its influence to db, so the prior holds beyond the error's width."""
    found = _edge_depth(state, st, params, box, pockets)
    if found is None:
        return None
    db, d_other, other, cy, cx = found
    y0, y1, x0, x1 = box
    yy, xx = np.ogrid[: y1 - y0, : x1 - x0]
    if db > params.edge_click_px:
        d2 = (yy - cy) ** 2 + (xx - cx) ** 2
        wide: npt.NDArray[np.bool_] = ((d2 <= st.radius ** 2)
                                       | (d_other <= params.edge_band_mult * db)) & ~other
        if params.edge_reach_mult:
            # the click says where along the edge the error is, not how long it runs: bounded
            # only by its depth (and the window, its brush plus about 4 db either way) the band
            # ran 52 px along a bus's edge from a radius-12 click and took 1 094 right px
            # beyond the brush (dev 036; at twice the radius a long strip's click fixed too
            # little: docs/review.md § Click benchmark)
            wide &= d2 <= (params.edge_reach_mult * st.radius) ** 2
        return wide
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


def _flip_box(flip: np.ndarray, pad: int = 2) -> tuple[tuple[int, int], tuple[int, int]]:
    """The rows and columns (end exclusive) of ``flip``'s pixels grown by ``pad`` within the
    image: the guards below work on this crop. ``flip`` holds at least one pixel."""
    h, w = flip.shape
    ys, xs = np.nonzero(flip)
    return ((max(0, int(ys.min()) - pad), min(h, int(ys.max()) + pad + 1)),
            (max(0, int(xs.min()) - pad), min(w, int(xs.max()) + pad + 1)))


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
    (y0, y1), (x0, x1) = _flip_box(flip)
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
        # reviewer's guess, not a structure (a keyboard's edge a keep click had
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


def _behind_edge_spared(lab: np.ndarray, cur: np.ndarray, flip: np.ndarray, core: np.ndarray,
                        radius: float, params: Params) -> np.ndarray:
    """The pixels of a keep click's ``flip`` (background it would add) that it spares: the
    part B of the flip that the old background beside it reaches, on the edge ladder of
    ``_reach_levels``, at least ``keep_edge_margin`` rungs lower than the click's ``core``
    does, when a piece of B is more than ``keep_edge_wider`` x as wide as the part the click
    keeps (the rest of the flip joined to the core) or as ``radius``.

    The counterpart of ``_thin_spared`` for keep clicks. A keep click on a pencil lying
    across a pale keyboard added the keyboard: the prior is discounted around
    the click, the keyboard's colour is the object's elsewhere, and the gate lets it through
    because it borders the pencil. The click reaches the keyboard only across the pencil's
    outline, the rest of the keyboard reaches it across none, and the keyboard is far wider
    than the pencil. A missed part of the object lies behind the object's own outline from the
    background. The width condition keeps the click protocol unchanged: with none, missed
    parts beside background of their colour were spared (GrabCut NoC@90 2.56 -> 2.68); with
    the kept part's width but not the radius as its floor, clicks in texture (kept part 1-3 px
    wide) dropped 4-10 px wide pieces of their own wrong region (docs/review.md)."""
    out = np.zeros(flip.shape, bool)
    seeds = core & flip
    if not seeds.any():
        return out
    (y0, y1), (x0, x1) = _flip_box(flip)
    fl = flip[y0:y1, x0:x1]
    bg = ~cur[y0:y1, x0:x1] & ~fl
    if not bg.any():
        return out
    sd = seeds[y0:y1, x0:x1]
    lv_click, lv_bg = _reach_levels(lab[y0:y1, x0:x1], [sd, bg], params.thin_step0,
                                    params.thin_levels)
    behind = fl & (lv_bg + params.keep_edge_margin <= lv_click)
    if not behind.any():
        return out
    own = _components_touching(fl & ~behind, sd) & fl & ~behind
    if not own.any():
        return out
    thick = float(cv2.distanceTransform(np.pad(own, 1).view(np.uint8), cv2.DIST_L2, 5).max())
    _, _, widest = _component_half_widths(behind)
    if float(widest.max()) > params.keep_edge_wider * max(thick, radius):
        out[y0:y1, x0:x1] = behind
    return out


def _beyond_spared(lab: np.ndarray, cur: np.ndarray, flip: np.ndarray, core: np.ndarray,
                   centre: tuple[int, int], radius: float, params: Params) -> np.ndarray:
    """The pieces of a remove click's ``flip`` (object pixels it would remove) it spares
    because it reaches them only through its own neighbourhood: outside the disk of
    ``beyond_mult`` x ``radius`` round the click (``centre`` = (row, col)), a piece of the flip
    at least as large as the click's disk and more than half the flip that borders nothing of
    the current background, when
    the kept object (what the flip leaves of the cutout) reaches it on the edge ladder of
    ``_reach_levels`` at least as easily as the click's ``core`` does (its median pixel).
    Nothing when the flip borders no background at all (a hole the object encloses: the click
    means the whole of it).

    A remove click on a sign post in front of a bus (dev photo 036, the editor's 8.6 px brush)
    took the post and the bus's white panel behind it (2 318 object px): the panel's colour is
    the post's, the prior is discounted over an object-sized radius round the click, and the
    blurred edge between them is no weaker than the ones parting the panel from the rest of the
    bus, so the cut took the panel whole. Taken, it would be a hole in the object open to
    the background only where the click is. What a remove click rightly takes borders the
    background itself (spill along the outline), or the click reaches it more easily than the
    object does (the far end of a filled gap between two legs, along the smooth grass).

    Not for keep clicks: the mirror rule (a piece bordering the cutout only through the click)
    spared missed parts of the object on the click protocol (dev 24077's second click: 1 082
    object px; 059's fifth at r 12: 1 727 object px, 636 background), a missed part's far end
    often lies beyond the click and away from the cutout."""
    out = np.zeros(flip.shape, bool)
    seeds = core & flip
    if not seeds.any():
        return out
    (y0, y1), (x0, x1) = _flip_box(flip)
    fl, cu = flip[y0:y1, x0:x1], cur[y0:y1, x0:x1]
    near = cv2.dilate((~cu).view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    if not (fl & near).any():
        return out
    cy, cx = centre[0] - y0, centre[1] - x0
    rho = params.beyond_mult * radius
    yy, xx = np.ogrid[: y1 - y0, : x1 - x0]
    rest = fl & ((yy - cy) ** 2 + (xx - cx) ** 2 > rho * rho)
    n, lbl = cv2.connectedComponents(rest.view(np.uint8), connectivity=8)
    if n < 2:
        return out
    # a neighbour at least as large as the click's own disk: a smaller piece is a stripe of
    # a textured part, where the ladder reads the texture's edges (the mirror rule on a keep
    # click on dev photo 016's flag spared 53 px of the flag, 6 of sand)
    apart = np.bincount(lbl.ravel(), minlength=n) >= np.pi * radius * radius
    apart[np.unique(lbl[near & rest])] = False
    apart[0] = False
    if not apart.any():
        return out
    kept = cu & ~fl
    if not kept.any():
        return out
    lv_click, lv_kept = _reach_levels(lab[y0:y1, x0:x1], [seeds[y0:y1, x0:x1], kept],
                                      params.thin_step0, params.thin_levels)
    gap = lv_click.astype(np.int32) - lv_kept
    total = int(fl.sum())
    for i in np.nonzero(apart)[0]:
        m = lbl == i
        # and it is most of what the click would take: where the part round the click is the
        # bulk, a piece beyond it is more of the same wrong region (dev photo doll, r 12: a
        # garment's 2 318 px beyond an inner edge, 4 624 px round the click; bool, r 8.6)
        if 2 * int(m.sum()) <= total or float(np.median(gap[m])) < 0:
            apart[i] = False
    out[y0:y1, x0:x1] = apart[lbl]
    return out


def _kept_spared(lab: np.ndarray, flip: np.ndarray, core: np.ndarray, keep_core: np.ndarray,
                 centre: tuple[int, int], radius: float, params: Params) -> np.ndarray:
    """The pixels of a remove click's ``flip`` outside the disk of ``beyond_mult`` x
    ``radius`` round the click (``centre`` = (row, col)) that an earlier keep stroke's hard
    core ``keep_core`` reaches on the edge ladder of ``_reach_levels`` at least
    ``kept_margin`` rungs lower than the click's own ``core`` does: what the reviewer kept
    and the click reaches only across a stronger edge than the keep does (nearer, the click's
    own spill: sparing a few px there cost the click protocol's deep clicks a little IoU).

    A keep click on a faint soapbox cart (dev photo 336) raised a spot; a remove click in the
    middle of the ramp the cut held, joined to the cart's faintly held riders, then took
    2 031 px of them up to 85 px beyond its brush (its smooth part is thick, so
    ``_spread_limited`` did not bound it). Later strokes win under their brush; beyond it, what
    an earlier keep vouches for more strongly than the click stays."""
    out = np.zeros(flip.shape, bool)
    seeds = core & flip
    if not params.kept_margin or not seeds.any() or not keep_core.any():
        return out
    (y0, y1), (x0, x1) = _flip_box(flip | keep_core)
    lv_click, lv_keep = _reach_levels(lab[y0:y1, x0:x1],
                                      [seeds[y0:y1, x0:x1], keep_core[y0:y1, x0:x1]],
                                      params.thin_step0, params.thin_levels)
    lower = lv_keep.astype(np.int32) + params.kept_margin <= lv_click
    rho = params.beyond_mult * radius
    yy, xx = np.ogrid[y0:y1, x0:x1]
    far = (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 > rho * rho
    out[y0:y1, x0:x1] = lower & far & flip[y0:y1, x0:x1]
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
    (y0, y1), (x0, x1) = _flip_box(flip)
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


def _backdrop_gap_spared(lab: np.ndarray, cur: np.ndarray, flip: np.ndarray, part: np.ndarray,
                         brush: np.ndarray, held: np.ndarray, open_bg: np.ndarray,
                         radius: float, params: Params) -> np.ndarray:
    """What of a deep remove click's ``flip`` it spares because it sits on the backdrop seen
    through a gap the object encloses. The gap test: the flip, grown 1 px, touches no open
    background (``open_bg``); the click's smooth ``part`` in the flip is at least its disk's
    area; at least ``gap_backdrop_own`` of it is nearer (Lab, nearest of a sample) the open
    backdrop's colours in the window than any colour the kept object holds (the cutout outside
    the flip, held at least ``thin_held``), and at least ``gap_backdrop_share`` nearer them
    than the kept object's colours unlike the backdrop (farther than ``rim_colour_tol``). Then
    beyond the ``brush``, what the model held at least ``gap_firm`` and is nearer the object's
    colours than the open backdrop's stays, in pieces of at least the click's disk's area more
    than half of which is also nearer the object's colours than the gap's own backdrop (the
    part's pixels nearer the open backdrop than the object). Window coordinates.

    Why: the click's depth widens its reach (``depth_sigma``) to the gap's size, and the cut,
    its prior discounted there, took the firmly held rim round the gap a few px past the true
    edge (the click protocol's wheel on dev 132, 3 507 object px for 2 649 backdrop px). A wrong
    region the object surrounds (a doll's dress, a sign's white face round its black 3) is not
    the backdrop's colour, or is the object's own, and is taken as before; a few object-coloured
    px inside a wrong region are its texture, not a rim. And sky seen through gaps in foliage,
    mixed with leaves and darker than the open sky, is nearer the foliage's colours than the
    open sky's but nearer still the sky in the gap itself: it is backdrop and is taken
    (soft-dev GT21's sixth detail touch, gap47b)."""
    out = np.zeros(flip.shape, bool)
    k3 = np.ones((3, 3), np.uint8)
    if (cv2.dilate(flip.view(np.uint8), k3) > 0)[open_bg].any():
        return out  # not an enclosed gap
    labf = lab.astype(np.float32)
    back = labf[open_bg]
    kept = cur & ~flip & (held >= params.thin_held)
    q_part = labf[part & flip]
    if len(back) < 8 or len(q_part) < np.pi * radius * radius:
        return out  # too little of the gap to tell its colours (a 2 px part)
    own = labf[kept]
    if len(own) < 8:
        return out
    d_back = _nearest_lab(q_part, back)
    if float((d_back < _nearest_lab(q_part, own)).mean()) < params.gap_backdrop_own:
        return out  # the kept object's own colours (a sign's white face round its black 3)
    ref = own[_nearest_lab(own, back) > params.rim_colour_tol ** 2]
    if len(ref) < 8:
        return out
    like_back = d_back < _nearest_lab(q_part, ref)
    if float(like_back.mean()) < params.gap_backdrop_share:
        return out  # not the backdrop's colour: a wrong region the object surrounds
    cand = flip & ~brush & (held >= params.gap_firm)
    if not cand.any():
        return out
    q = labf[cand]
    d_ref = _nearest_lab(q, ref)
    out[cand] = d_ref < _nearest_lab(q, back)
    # nearer the object's colours than the gap's own backdrop (the part of the click's smooth
    # part like the open backdrop), not only than the open backdrop's
    own_gap = np.zeros(flip.shape, bool)
    own_gap[cand] = d_ref < _nearest_lab(q, q_part[like_back])
    # pieces at least the click's own disk: a few object-coloured px inside a wrong region are
    # its texture, not a rim; and mostly nearer the object than the gap's own backdrop: GT21's
    # sky seen through foliage gaps is darker than the open sky, mixed with leaves, nearer the
    # kept foliage's colours than the open sky's but nearer still the sky inside the gap
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(out.view(np.uint8), connectivity=8)
    big = stats[:, cv2.CC_STAT_AREA] >= np.pi * radius * radius
    rim = np.bincount(lbl[own_gap & out], minlength=n) * 2 > stats[:, cv2.CC_STAT_AREA]
    keep = big & rim
    keep[0] = False
    spared: np.ndarray = keep[lbl]
    return spared


def _spread_limited(lab: np.ndarray, flip: np.ndarray, core: np.ndarray, radius: float,
                    params: Params) -> np.ndarray:
    """The part of a click's ``flip`` it may change. Its smooth part S is the flip reached
    4-connected from the click's ``core``, inside the flip, across Lab steps no higher than
    ``spread_step``; where S is thin but not mere texture around the core (its largest
    inscribed radius t between ``spread_thin_min`` and ``spread_thin``), the flip keeps only
    what lies within ``spread_mult`` x max(t, ``radius``) of S (and is still connected to the
    click).

    A keep click on a pencil lying across a pale calculator added the whole
    calculator: the prior is discounted over an object-sized radius around a click and the
    calculator's colour is in the cup's. A click on a thin thing vouches for that thing, not
    for a large, differently coloured region beyond a strong edge. A click inside a wide
    wrong region is left alone: its smooth part is thick, and there the region beyond its
    inner edges is mostly wrong too (bounding every click's spread cost NoC on the dev set,
    docs/review.md § Click benchmark), and so is a click whose smooth part is a few px of
    texture (t < spread_thin_min: bounding those cost a dev photo two clicks)."""
    seeds = core & flip
    if not seeds.any() or not params.spread_mult:
        return flip
    (y0, y1), (x0, x1) = _flip_box(flip, pad=1)
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


def _wrong_alike(lab: np.ndarray, cur: np.ndarray, part: np.ndarray, keep: np.ndarray,
                 depth: float, params: Params) -> np.ndarray:
    """The pixels of the cutout ``cur`` whose colours the smooth part ``part`` of a deep remove
    click holds (its Lab histogram at least ``deep_alike`` of its peak), when the click lies in
    the bulk of its piece (at least ``deep_bulk`` x the piece's own depth deep: the piece's
    thickest part is the wrong region): the wrong region's look, which then describes no object
    colour. Not the part of them joined to a keep core (the reviewer's subject), nor anything
    for a shallower click: with half the piece's depth, dev photos whose wrong region is a
    thinner part of a subject of its colours lost much of the subject (047, 312; docs/review.md)."""
    out = np.zeros(cur.shape, bool)
    _, lbl = cv2.connectedComponents(cur.view(np.uint8), connectivity=8)
    ids = np.unique(lbl[part])
    piece = np.isin(lbl, ids[ids > 0])
    d = cv2.distanceTransform(np.pad(piece, 1).view(np.uint8), cv2.DIST_L2, 5)
    if depth < params.deep_bulk * float(d.max()):
        return out
    idx = _colour_bins(lab, params.bins)
    hp = _colour_hist(idx, part.astype(np.float64), params.bins)
    alike: np.ndarray = cur & (hp[idx] >= params.deep_alike * hp.max()).reshape(cur.shape)
    if keep.any():
        alike &= ~(_components_touching(alike, keep) & alike)
    return alike


def _alike_stands(part: np.ndarray, depth: float, taken: np.ndarray, held: np.ndarray,
                  params: Params) -> bool:
    """Whether ``_wrong_alike``'s second cut stands, taking ``taken`` beyond the first cut: the
    click's smooth ``part`` is thick against its ``depth`` (inscribed radius, 1-px noise closed,
    at least ``deep_alike_thick`` x the depth: a mound, a wall), or the model held most of the
    take hard (a share of at least ``deep_alike_held`` at ``held`` >= ``deep_alike_sure``).
    Neither, and the part is a thin blur whose look runs into a body the model was less sure
    of: on dev photo 311 a click on a motion-blurred wheel hub (part .45 of its depth, 66 % of
    its 102 254 px take held) took the bike and rider beside the wheel; the mounds the rule is
    for were thick (dev 015 .97) or held (the blotched drawn mound .48-.53, 95 %; the click
    protocol's other second cuts .15-.47, 91-98 %; docs/review.md, 2026-12-08)."""
    if not params.deep_alike_held:
        return True
    closed = cv2.morphologyEx(part.view(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)) > 0
    if _inscribed(closed) >= params.deep_alike_thick * depth:
        return True
    n = int(taken.sum())
    return n == 0 or float((held[taken] >= params.deep_alike_sure).mean()) >= params.deep_alike_held


def _grazes(core: np.ndarray, state: np.ndarray, share: float = 0.25) -> bool:
    """Whether ``core`` only grazes the solid pieces of ``state`` it touches: it covers less
    than ``share`` of their area. A stroke painted over a whole piece means to take it (a
    brush wider than the product, a wrong second subject) and stays hard there."""
    _, lbl = cv2.connectedComponents(state.view(np.uint8), connectivity=8)
    touched = np.unique(lbl[core & state])
    touched = touched[touched > 0]
    if not touched.size:
        return False
    area = int(np.isin(lbl, touched).sum())
    return int((core & state).sum()) < share * area


def _graze_spared(lab: np.ndarray, state: np.ndarray, st: Stroke,
                  params: Params) -> np.ndarray | None:
    """What of the object (``state``) a painted remove stroke ``st`` that grazes it from
    outside leaves alone (None: nothing): an edge-snapping brush. Its centreline (1 px) runs
    on the background side; an object pixel is spared when the nearest pixel of the cutout's
    edge (an object pixel beside the background) lies on a strong image edge — a Lab step of
    at least ``graze_step`` and ``graze_ratio`` times the 90th percentile of the steps on the
    background under the brush, within ``graze_slack`` px of it — and no centreline pixel
    inside the object is within the brush radius of it (where the centreline runs into the
    object the stroke removes all under it, as before).

    Why: a stroke along a product's edge, its centreline on the backdrop beside it, cut a
    strip out of the product under the outer half of its brush (QA W3, 2026-12-06): the
    brush's push and the prior discounted around it let the cut take the product's rim."""
    if not params.graze_step or st.kind != "remove" or len(st.points) < 2:
        return None
    h, w = state.shape
    x0, y0, x1, y1 = st.bounds()
    m = int(np.ceil(params.paint_reach_mult * 2 * st.radius)) + params.graze_slack + 2
    x0, y0 = max(0, int(x0) - m), max(0, int(y0) - m)
    x1, y1 = min(w, int(np.ceil(x1)) + m + 1), min(h, int(np.ceil(y1)) + m + 1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    cur = state[y0:y1, x0:x1]
    if not cur.any():
        return None
    line = np.zeros(cur.shape, bool)
    paint(line, Stroke(st.kind, 0.5, st.points), True, origin=(x0, y0))
    if not line.any() or 2 * int((line & cur).sum()) >= int(line.sum()):
        return None  # the centreline runs mostly inside the object: the user means it
    brush = np.zeros(cur.shape, bool)
    paint(brush, st, True, origin=(x0, y0))
    k3 = np.ones((3, 3), np.uint8)
    edge = cur & (cv2.dilate((~cur).view(np.uint8), k3) > 0)
    if not (edge & brush).any():
        return None
    f = cv2.GaussianBlur(lab[y0:y1, x0:x1].astype(np.float32), (0, 0), 0.7)
    dx = np.sqrt(((f[:, 1:] - f[:, :-1]) ** 2).sum(axis=2))
    dy = np.sqrt(((f[1:] - f[:-1]) ** 2).sum(axis=2))
    step = np.zeros(cur.shape, np.float32)
    step[:, 1:] = dx
    step[:, :-1] = np.maximum(step[:, :-1], dx)
    step[1:] = np.maximum(step[1:], dy)
    step[:-1] = np.maximum(step[:-1], dy)
    # the backdrop's own texture under the brush, away from the cutout's edge
    d_obj = _dist_to(cur)
    back = brush & (d_obj > params.graze_slack + 2)
    texture = float(np.percentile(step[back], 90)) if back.sum() >= 16 else 0.0
    k = 2 * params.graze_slack + 1
    near = cv2.dilate(step, np.ones((k, k), np.uint8))
    strong = edge & (near >= max(params.graze_step, params.graze_ratio * texture))
    if not strong.any():
        return None
    # each object pixel's nearest pixel of the cutout's edge (labels of the edge pixels)
    _, lbl = cv2.distanceTransformWithLabels((~edge).view(np.uint8), cv2.DIST_L2, 5,
                                             labelType=cv2.DIST_LABEL_PIXEL)
    ids = np.zeros(int(lbl.max()) + 1, bool)
    ids[lbl[strong]] = True
    spared = cur & ids[lbl]
    inside = line & cur
    if inside.any():
        d_in = cv2.distanceTransform((~inside).view(np.uint8), cv2.DIST_L2, 5)
        spared &= d_in > st.radius
    if not spared.any():
        return None
    out = np.zeros((h, w), bool)
    out[y0:y1, x0:x1] = spared
    return out


def _nearest_lab(q: np.ndarray, ref: np.ndarray, n: int = 400) -> np.ndarray:
    """Each row of ``q``'s squared Lab distance to its nearest of (at most ``n`` evenly
    picked) rows of ``ref`` (float32; the rows are uint8 Lab colours as float32).

    Found with a k-d tree, then the distance to the row it found taken as the brute force
    took it: the colours are whole numbers, so every squared distance is a whole number under
    2**24, exact in float32 whatever the order of the sums, and the nearest row's is the
    brute force's minimum bit for bit (a tie only changes which row is found, not its
    distance). Why: a big keep stroke's first preview compared ~10^5 pixels with 400 colours,
    three times, by brute force (2.6 of 3.0 CPU s on a 12 MP photo, radius 50, docs/review.md
    § Retouch preview benchmark, speed39)."""
    if len(ref) > n:
        ref = ref[np.linspace(0, len(ref) - 1, n).astype(int)]
    if not len(q):
        return np.empty(0, np.float32)
    if not len(ref):
        raise ValueError("no colours to compare with")
    _, idx = cKDTree(ref.astype(np.float64)).query(q.astype(np.float64), k=1)
    d: np.ndarray = ((q - ref[idx]) ** 2).sum(axis=1).astype(np.float32)
    return d


def _object_like_beyond(lab: np.ndarray, cur: np.ndarray, flip: np.ndarray, line: np.ndarray,
                        brush: np.ndarray, tol: float) -> np.ndarray:
    """What of ``flip`` (what a painted remove stroke would take of the cutout ``cur``) lies
    beyond its ``brush`` and looks like the object: nearer (Lab, nearest of a sample) to the
    object's colours -- what the cutout keeps in the window, less the colours within ``tol`` of
    the backdrop -- than to the backdrop, the pixels under its centreline ``line``. Window
    coordinates.

    Why: a stroke over haze whose end grazed a bike's thin fork (QA36 H2, dev 012) took the
    fork under its brush, and the cut, its prior discounted there and its brush pushing, went on
    down the fork beyond the brush (96 product px, up to 28 px out). Haze beyond the brush has
    the backdrop's colour, the core's, and is still taken."""
    beyond = flip & ~brush
    if not beyond.any() or not line.any() or 2 * int((line & cur).sum()) >= int(line.sum()):
        # a centreline mostly inside the cutout runs through what the user calls wrong, of
        # whatever colours (the painted protocol: NoC@90 4.5 -> 4.7 on 20 photos without this)
        return np.zeros(flip.shape, bool)
    labf = lab.astype(np.float32)
    kept = cur & ~flip & ~brush
    # not the stroke's core: on the fork it held the fork's colour too
    back = labf[line]
    # held haze the stroke leaves has the backdrop's colours, not the object's
    ref = labf[kept]
    ref = ref[_nearest_lab(ref, back) > tol ** 2]
    if len(ref) < 8:
        return np.zeros(flip.shape, bool)
    q = labf[beyond]
    like = _nearest_lab(q, ref) < _nearest_lab(q, back)
    out = np.zeros(flip.shape, bool)
    out[beyond] = like
    return out


def _unlike_beyond(lab: np.ndarray, flip: np.ndarray, core: np.ndarray, brush: np.ndarray,
                   held: npt.NDArray[np.float32], radius: float, params: Params) -> np.ndarray:
    """What of ``flip`` (what a painted keep stroke would add) lies beyond its ``brush`` in a
    piece that its ``core`` does not reach through flip pixels within ``keep_beyond_tol`` (Lab)
    of a colour under the core (nearest of a sample; the reached part grown by 2 px, its blurred
    rim), when the piece is at least the disk of max(``radius``, ``keep_beyond_radius``) in
    area and the model's alpha ``held`` over it has a median below ``keep_beyond_held``: a
    neighbour of another colour that the model called background and the cut ran into. Window
    coordinates.

    Why (QA W1, 2026-12-06, dev 053): a keep stroke in a dog's grey foreleg added the white
    sign board behind it (2 141 background px, up to 61 px beyond the brush): the board's white
    is the dog's body's, so the colour model called it object, and the blurred step from the
    leg to the board is weaker than the board's own outline, so no edge rule parts them. The
    stroke vouches for the colours it is painted over; beyond its brush it adds what continues
    them. A missed part of another colour that the model nearly held stays (dev 311: a rider's
    2 091 px, alpha 124 of 255)."""
    out = np.zeros(flip.shape, bool)
    seeds = core & flip
    beyond = flip & ~brush
    if not seeds.any() or not beyond.any():
        return out
    (y0, y1), (x0, x1) = _flip_box(flip)
    fl, sd = flip[y0:y1, x0:x1], seeds[y0:y1, x0:x1]
    labf = lab[y0:y1, x0:x1].astype(np.float32)
    tol = params.keep_beyond_tol
    near = np.zeros(fl.shape, bool)
    near[fl] = _nearest_lab(labf[fl], labf[sd]) <= tol * tol
    joined = _components_touching(near & fl, sd) & fl
    # the blurred rim of what it reaches goes with it
    grown = cv2.dilate(joined.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    rest = beyond[y0:y1, x0:x1] & ~grown
    if not rest.any():
        return out
    n, lbl = cv2.connectedComponents(rest.view(np.uint8), connectivity=8)
    # a smaller piece beside a thin brush is as often its own part's rim (dev 009, 299, 310:
    # 25-60 object px beyond brushes of 1.6-2.2 px) as a neighbour's
    floor = max(radius, params.keep_beyond_radius)
    big = np.bincount(lbl.ravel(), minlength=n) >= np.pi * floor * floor
    big[0] = False
    if big.any():
        big &= _label_medians(held[y0:y1, x0:x1], lbl, big) < params.keep_beyond_held
    out[y0:y1, x0:x1] = big[lbl]
    return out


def _label_medians(values: np.ndarray, lbl: np.ndarray, which: np.ndarray) -> np.ndarray:
    """``np.median`` of ``values`` over each label ``i`` of ``lbl`` where ``which[i]`` (nan
    elsewhere), in one sorted pass: a loop of ``values[lbl == i]`` scans the whole window once
    per label. The same figures as ``np.median`` (the two middle values' mean in their dtype)."""
    sel = which[lbl]
    v, lab = values[sel], lbl[sel]
    if not np.issubdtype(v.dtype, np.floating):
        v = v.astype(np.float64)  # as np.median: integers' middle values meet in float64
    # sorted by label, then value: one sort of (label, rank of value) keys (np.lexsort's
    # two-key sort was as slow as the loop)
    rank = np.empty(len(v), np.int64)
    rank[np.argsort(v)] = np.arange(len(v))
    v = v[np.argsort(lab.astype(np.int64) * len(v) + rank)]
    counts = np.bincount(lab, minlength=len(which))
    starts = np.cumsum(counts) - counts
    has = counts > 0
    lo = (starts + (counts - 1) // 2)[has]
    hi = (starts + counts // 2)[has]
    out = np.full(len(which), np.nan)
    out[has] = (v[lo] + v[hi]) / v.dtype.type(2)
    return out


def _ring_counts(lbl: np.ndarray, which: np.ndarray,
                 mark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each label ``i`` of ``lbl`` with ``which[i]``: how many pixels its ring holds (those
    of another label 8-adjacent to it: a 3 x 3 dilation of ``lbl == i`` less itself), and how
    many of them are ``mark``ed; zeros for the other labels. In one pass over the eight
    neighbours: a dilation per label scanned the whole window once for each."""
    h, w = lbl.shape
    pad = np.pad(lbl, 1, constant_values=-1)
    pix, near = [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            other = pad[1 + dy: 1 + dy + h, 1 + dx: 1 + dx + w]
            # a pixel is on the ring of the neighbour's label when that label is another
            at = (other != lbl) & (other >= 0)
            at[at] = which[other[at]]
            pix.append(np.flatnonzero(at))
            near.append(other[at])
    n = len(which)
    # a pixel beside the same label twice is on its ring once
    key = np.unique(np.concatenate(pix).astype(np.int64) * n + np.concatenate(near))
    on, of = key // n, key % n
    ring_n = np.bincount(of, minlength=n)
    ring_mark = np.bincount(of[mark.ravel()[on]], minlength=n)
    return ring_n, ring_mark


def _backdrop_beyond(lab: np.ndarray, cur: np.ndarray, flip: np.ndarray, line: np.ndarray,
                     brush: np.ndarray, held: npt.NDArray[np.float32], radius: float,
                     params: Params) -> np.ndarray:
    """What of ``flip`` (what a painted keep stroke would add to the cutout ``cur``) lies
    beyond its ``brush`` in a piece at least the disk of max(``radius``,
    ``keep_beyond_radius``) in area, lying mostly in a hole the brush closes, that the model's
    alpha ``held`` has at a median below ``keep_backdrop_held``, and whose pixels are mostly
    nearer (Lab, nearest of a sample) to the backdrop -- what the model holds as background in
    the window outside the flip and the brush -- than to the object: the cutout's held colours
    and those under the centreline ``line``, less the colours within ``rim_colour_tol`` of the
    backdrop. Window coordinates.

    Why (QA38b W1, 2026-12-06, dev 009): a keep stroke of radius 3.9 tracing a bicycle's
    missed front wheel filled the wheel's inside (1 447 background px beyond the brush): the
    grass seen through it is the colour the thin brush's own rim holds, so the colour model
    called it object and _unlike_beyond found it reached. Seen through a thin part, the
    backdrop is still the backdrop round it, which the model held as background."""
    out = np.zeros(flip.shape, bool)
    beyond = flip & ~brush
    if not beyond.any():
        return out
    # the holes the brush closes: what of the rest the window's frame does not reach
    # (4-connected, so a diagonal step through the brush does not open one), bordered mostly
    # by the brush (more than keep_backdrop_ring of its outline), not by the cutout (a dark
    # arm's shadowed edge between the brush and the cutout, dev 153077)
    rest = np.pad(~(brush | cur), 1, constant_values=True).view(np.uint8)
    _, open_lbl = cv2.connectedComponents(rest, connectivity=4)
    frame_id = open_lbl[0, 0]
    open_lbl = open_lbl[1:-1, 1:-1]
    which = np.zeros(int(open_lbl.max()) + 1, bool)
    which[open_lbl[beyond]] = True
    which[frame_id] = False
    ring_n, ring_brush = _ring_counts(open_lbl, which, brush)
    hole = (which & (ring_brush > params.keep_backdrop_ring * ring_n))[open_lbl]
    if not hole.any():
        return out
    n, lbl = cv2.connectedComponents(beyond.view(np.uint8), connectivity=8)
    floor = max(radius, params.keep_beyond_radius)
    counts = np.bincount(lbl.ravel(), minlength=n)
    cand = counts >= np.pi * floor * floor
    cand[0] = False
    cand &= 2 * np.bincount(lbl[hole], minlength=n) > counts
    if cand.any():
        cand &= _label_medians(held, lbl, cand) < params.keep_backdrop_held
    if not cand.any():
        return out
    labf = lab.astype(np.float32)
    back = labf[~cur & ~flip & ~brush & (held < 0.1)]
    if len(back) < 8:
        return out
    obj = labf[(cur & (held > 0.9) & ~brush) | line]
    obj = obj[_nearest_lab(obj, back) > params.rim_colour_tol ** 2]
    if len(obj) < 8:
        return out
    # each candidate's pixels at once (a pixel's nearest distances do not depend on which
    # others are asked with it): a candidate stays when most of its pixels are the backdrop's
    sel = cand[lbl]
    q = labf[sel]
    nearer = _nearest_lab(q, back) < _nearest_lab(q, obj)
    cand &= 2 * np.bincount(lbl[sel][nearer], minlength=n) > counts
    return cand[lbl]


def _through_beyond(lab: np.ndarray, cur: np.ndarray, flip: np.ndarray, core: np.ndarray,
                    brush: np.ndarray, held: npt.NDArray[np.float32], radius: float,
                    params: Params) -> np.ndarray:
    """What of ``flip`` (what a painted keep stroke would add to the cutout ``cur``) lies
    beyond its ``brush`` in a piece the model's alpha ``held`` keeps below
    ``keep_through_held`` (8-connected, at least the disk of max(``radius``,
    ``keep_beyond_radius``) in area) whose pixels are mostly nearer (Lab, nearest of a sample)
    to the backdrop the model held clear in the window (below 0.1, outside the flip and the
    brush) than to the stroke's own colours -- those of its hard ``core`` farther than
    ``rim_colour_tol`` from that backdrop -- when the stroke is thin (``radius`` at most
    ``keep_through_radius``), its core is mostly (more than ``keep_through_share``) the
    backdrop's colours, and the model held at least such a disk of the flip beyond the brush
    at ``keep_through_held`` or more. Window coordinates.

    Why (QA38b W1, 2026-12-06, dev 009): a keep stroke of radius 4.6 zigzagging across a
    bicycle's missed, motion-blurred front wheel added the grass seen through the wheel and
    round it (about 2 000 background px beyond the brush, 30+ px out): three quarters of its
    core is that grass, so the colour model called the grass object, and the zigzag closes no
    hole for _backdrop_beyond. A thin stroke painted across a see-through part vouches for the
    part, not for the backdrop its core also covers; the model told the two apart where the
    brush does not: the wheel's blurred rim and spokes beyond the brush it held faintly (median
    alpha .28), the grass clear (.02). A part the model missed whole (held 0, dev 031, 24077)
    gives no such sign and is left to the cut, and so is a core with no colour of its own."""
    out = np.zeros(flip.shape, bool)
    beyond = flip & ~brush
    if radius > params.keep_through_radius or not beyond.any() or not core.any():
        return out
    low = beyond & (held < params.keep_through_held)
    floor = max(radius, params.keep_beyond_radius)
    area = np.pi * floor * floor
    if not low.any() or int((beyond & ~low).sum()) < area:
        return out
    labf = lab.astype(np.float32)
    back = labf[~cur & ~flip & ~brush & (held < 0.1)]
    if len(back) < 8:
        return out
    mine = labf[core]
    near = _nearest_lab(mine, back) <= params.rim_colour_tol ** 2
    own = mine[~near]
    if float(near.mean()) <= params.keep_through_share or len(own) < 8:
        return out
    n, lbl = cv2.connectedComponents(low.view(np.uint8), connectivity=8)
    cand = np.bincount(lbl.ravel(), minlength=n) >= area
    cand[0] = False
    for i in np.nonzero(cand)[0]:
        q = labf[lbl == i]
        if 2 * int((_nearest_lab(q, back) < _nearest_lab(q, own)).sum()) <= len(q):
            cand[i] = False
    return cand[lbl]


def _rim_away_beyond(lab: np.ndarray, cur: np.ndarray, flip: np.ndarray, line: np.ndarray,
                     core: np.ndarray, brush: np.ndarray, held: npt.NDArray[np.float32],
                     radius: float, params: Params) -> np.ndarray:
    """What of ``flip`` (what a painted keep stroke would add to the cutout ``cur``) lies
    beyond its ``brush``, held by the model below ``keep_rim_held``, farther from the cutout
    than its nearest brush pixel by more than half its distance to the brush -- on the side of
    the stroke away from the cutout -- when the centre ``line`` runs along the cutout (median
    distance at most ``keep_rim_line`` x ``radius``) and the hard ``core`` is mostly (more than
    ``keep_rim_share``) colours within ``rim_colour_tol`` of the backdrop the model held clear
    (below 0.1, outside the flip and the brush). Window coordinates.

    Why (qa46b H banana1, qa46a M 106024, 2026-12-07, keeprim46): a keep stroke r 5 drawn on a
    banana's shaved dark rim laid the table's shadow in 2-13 px below its brush (227 px, IoU
    .9901 -> .9900): rim and shadow are one colour (96 % of the core within rim_colour_tol of
    the clear backdrop), the model held both clear (.008 / .000) and the photo has no edge
    between them, so no colour, hold or edge rule parts them; the stroke drawn along the
    cutout says where the edge is. Gated by that colour sign, the side rule keepedge45 measured
    (which lowered 9 replay cases without it) changes seven of 277, each for the better
    (docs/review.md, keeprim46)."""
    out = np.zeros(flip.shape, bool)
    beyond = flip & ~brush & (held < params.keep_rim_held)
    if (not beyond.any() or not core.any() or not line.any() or not cur.any()
            or not (brush & cur).any()):
        return out
    d_cut = _dist_to(cur)
    if float(np.median(d_cut[line])) > params.keep_rim_line * radius:
        return out
    labf = lab.astype(np.float32)
    back = labf[~cur & ~flip & ~brush & (held < 0.1)]
    if len(back) < 8:
        return out
    near = _nearest_lab(labf[core], back) <= params.rim_colour_tol ** 2
    if float(near.mean()) <= params.keep_rim_share:
        return out
    d_b, idx = cv2.distanceTransformWithLabels((~brush).view(np.uint8), cv2.DIST_L2, 5,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    ys, xs = np.nonzero(brush)
    at = np.zeros(int(idx.max()) + 1, np.float32)
    at[idx[ys, xs]] = d_cut[ys, xs]
    away = beyond & (d_cut - at[idx] > 0.5 * d_b)
    if not away.any():
        return out
    # a piece with no body (smaller than the disk of the blob split's smallest neck radius)
    # is as often the part's own tip or the brush's blurred rim as backdrop: a keep along a
    # penguin's thin tail took its 8 px tip past the brush (106024), a wide keep along hair
    # 1 px (soft-dev GT03)
    n, lbl = cv2.connectedComponents(away.view(np.uint8), connectivity=8)
    big = np.bincount(lbl.ravel(), minlength=n) >= np.pi * NECK_MIN * NECK_MIN
    big[0] = False
    return big[lbl]


def _seen_core_beyond(flip: np.ndarray, brush: np.ndarray, dist: np.ndarray, core: np.ndarray,
                      held: npt.NDArray[np.float32], radius: float,
                      params: Params) -> np.ndarray:
    """What of ``flip`` (what a painted keep stroke of ``radius`` would add) lies more than
    ``span_margin`` px beyond its ``brush`` where the model ``held`` below ``keep_seen_clear``,
    in 8-connected pieces of at least the disk of ``NECK_MIN`` and wider (largest inscribed
    radius) than ``keep_seen_wide`` x ``radius``, when the model held the stroke's hard ``core``
    at a mean of ``keep_seen_core`` or more and the brush is wider than
    ``keep_through_radius``. Window coordinates.

    Why (QA qa41b, soft-dev GT25, 2026-12-08, keep48): a keep r 8 along a black pen the model
    held at .39 laid in a slab of the dark backdrop beside it that the model held clear, 1,357
    px worse beyond the brush: the cut's colour model, its prior discounted near the stroke,
    read the backdrop of the pen's colour as object. A stroke over a part the model saw says
    "make this solid", and the model's clear backdrop beside that part is its judgement too; a
    stroke over a part it missed (held ~0) says nothing about what it held clear past the brush
    and is left alone. The part's own continuation past the brush is about the brush's width
    (without the width condition 14 replay cases lost their part past the brush: a stem, a
    skater's limbs, wool strands), a neighbouring slab is wider; a thin brush (its radius at
    most ``keep_through_radius``, ``_through_beyond``'s) makes any piece wide (the painted
    protocol's r 2.2 keep on dev 009 lost .015 IoU). docs/review.md, keep48."""
    out = np.zeros(flip.shape, bool)
    if (radius <= params.keep_through_radius or not core.any()
            or float(held[core].mean()) < params.keep_seen_core):
        return out
    beyond = flip & ~brush & (dist > params.span_margin) & (held < params.keep_seen_clear)
    if not beyond.any():
        return out
    n, lbl, widest = _component_half_widths(beyond)
    big = (np.bincount(lbl.ravel(), minlength=n) >= np.pi * NECK_MIN * NECK_MIN) & (
        widest > params.keep_seen_wide * radius)
    big[0] = False
    spared: np.ndarray = big[lbl]
    return spared


def _stroke_core(lab: np.ndarray, st: Stroke, core_st: Stroke, params: Params,
                 state: np.ndarray, pockets: np.ndarray | None = None,
                 spared: np.ndarray | None = None,
                 keeps: np.ndarray | None = None) -> np.ndarray:
    """The hard part of a stroke (bool mask). For a click: its centre plus the part of its disk
    that is connected to the centre and looks like it (an edge-aware click: the disk does not
    cross an edge it lands next to). A grazing remove stroke's core leaves ``spared``
    (``_graze_spared``) alone; ``keeps``: the earlier keep strokes' brushes, clicks' disks
    included (``_over_earlier``)."""
    h, w = lab.shape[:2]
    core = np.zeros((h, w), bool)
    paint(core, core_st, True)
    if spared is not None:
        core &= ~spared
    if (params.paint_spare_solid and st.kind == "remove" and len(st.points) > 1
            and 2 * int((core & state).sum()) < int(core.sum())
            and _grazes(core, state)):
        # a remove stroke painted mostly over what the cutout does not hold (a ghost fill
        # below half alpha) is not hard where its end runs onto the solid object: the cut
        # decides there (dev photo scissors: a stroke across the filled ring hole took 37 px
        # of the ring); but not where it crosses an earlier keep stroke's brush: that object
        # is the reviewer's, and the later stroke wins (_over_earlier)
        core &= ~state if keeps is None or not params.remove_over_keep else ~state | keeps
    if len(st.points) != 1 or not core.any():
        return core
    x0, y0, x1, y1 = st.bounds()
    x0, y0 = max(0, int(x0) - 1), max(0, int(y0) - 1)
    x1, y1 = min(w, int(np.ceil(x1)) + 2), min(h, int(np.ceil(y1)) + 2)
    if x1 <= x0 or y1 <= y0:
        return core
    disk = np.zeros((y1 - y0, x1 - x0), bool)
    paint(disk, st, True, origin=(x0, y0))
    m = int(params.edge_click_px * 3 + st.radius)
    big = (max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m))
    band = _edge_band(state, st, params, big, pockets)
    c = core[y0:y1, x0:x1]
    if band is not None:
        # an edge click's hard core is no wider than what it may flip (its centre pixel
        # always): a core of radius 1.2 (brush 12) or 1.7 (brush 17) one px from the edge
        # flipped the already right pixels beside a one-px sliver (docs/review.md § Click
        # benchmark, 2026-12-05)
        own = band[y0 - big[0]: y1 - big[0], x0 - big[2]: x1 - big[2]].copy()
        own[_click_centre(st, y1, x1, y0, x0)] = True
        if (c & own).any():
            c &= own
    labf = lab[y0:y1, x0:x1].astype(np.float32)
    ref = labf[c].mean(axis=0)
    alike = disk & (((labf - ref) ** 2).sum(axis=2) <= params.rim_colour_tol ** 2)
    if band is not None:
        alike &= band[y0 - big[0]: y1 - big[0], x0 - big[2]: x1 - big[2]]
    core[y0:y1, x0:x1] |= _components_touching(alike | c, c) & (alike | c)
    return core


def _brush_box(st: Stroke, shape: tuple[int, ...]) -> tuple[int, int, int, int, np.ndarray]:
    """(y0, y1, x0, x1, brush): the box round stroke ``st``'s brush in an image of ``shape``
    (clipped to it) and the brush within it (bool), as ``paint`` paints it on the whole image.
    The record of which stroke decided a pixel (``_Order``: its cores, brushes and
    ``_Beyond``) runs for every replayed stroke of every preview, and touches only this box."""
    h, w = shape[:2]
    bx0, by0, bx1, by1 = st.bounds()
    # paint's smallest radius is a little more than the stroke's: 2 px of slack
    x0, y0 = max(0, math.floor(bx0) - 2), max(0, math.floor(by0) - 2)
    # never below x0, y0: a negative end would slice from the far edge (a brush off the photo's
    # left or top; reread45)
    x1, y1 = max(x0, min(w, math.ceil(bx1) + 3)), max(y0, min(h, math.ceil(by1) + 3))
    brush = np.zeros((max(0, y1 - y0), max(0, x1 - x0)), bool)
    if brush.size:
        paint(brush, st, True, origin=(x0, y0))
    return y0, y1, x0, x1, brush


def _over_earlier(core_labels: np.ndarray, st: Stroke, params: Params,
                  box: tuple[int, int, int, int, np.ndarray]) -> None:
    """A painted stroke ``st`` over earlier strokes of the other kind, clicks as well as painted
    ones: their hard cores under its brush are no longer hard (in ``core_labels``, in place);
    its own core there is (for a remove stroke see ``_stroke_core``, whose ``keeps`` are the
    earlier keep brushes, a keep click's disk too). What it takes or keeps of its brush there
    is then its own cut's, as anywhere. Later strokes win where they overlap (docs/review.md).

    Why (QA qa43r H2, dev 031): after two keep strokes along a bus had raised the tree in
    front of it, a remove stroke (r 12) down the tree took 37 px: where it crossed the keep
    brushes (1 207 px) 868 stayed kept, 774 of them truth background. Its core had been kept
    off the object the keeps raised, as off a product it only grazes (``paint_spare_solid``),
    and the keeps' cores under its brush stayed hard. The mirror (``keep_over_remove``): a keep
    stroke painted back over what an earlier remove stroke took is held back by that remove's
    hard core only outside its own brush. Not a click: its disk is a preference, not
    coverage. ``box``: ``_brush_box`` of ``st`` (``_Order.place`` paints it once)."""
    if len(st.points) < 2:
        return
    if st.kind == "remove" and params.remove_over_keep:
        other = KEEP
    elif st.kind == "keep" and params.keep_over_remove:
        other = REMOVE
    else:
        return
    # in the brush's box only: a replayed stroke runs this too (order45)
    y0, y1, x0, x1, brush = box
    under = core_labels[y0:y1, x0:x1]
    under[brush & (under == other)] = 0


def _undone_beyond(beyond: np.ndarray, state: np.ndarray, core_labels: np.ndarray,
                   st: Stroke) -> np.ndarray:
    """What a click ``st`` flips back (bool mask): of ``beyond`` (the pixels earlier painted
    strokes of the other kind flipped beyond their brushes, in ``_Beyond``), those still on
    that side in ``state``, off every hard core of the other kind, in the pieces the click's
    disk touches. The click's own core counts as its region: a small click on a plain part
    has its whole disk for its core (``_stroke_core``), and read as off-limits it gave
    nothing back (reread44: r 2 in the taken hoof below, 605 px left taken).

    Why (qa42r M1, dev 093): a remove stroke r 6 along a hoof's shadow took the hoof's dark
    bottom, 130 px beyond its brush (85 of them truth object); the keep clicks on the hoof
    that followed changed 1 and 0 px: each was an edge click (``_edge_band``), 1 px from the
    kept leg and on it, which flips only an open disk as deep as its distance from the edge,
    and the colour model was never asked. The reviewer's own remove took those pixels where
    it was not painted, and the click says so; later strokes win. A click's own disk is a
    preference (its region is what it says), a brush is coverage, so only a painted stroke's
    take beyond its brush is given back, and only what it took: the state before it, which
    for pixels the model held is the base alpha."""
    h, w = state.shape
    disk = np.zeros((h, w), bool)
    paint(disk, st, True)
    other = ~state if st.kind == "keep" else state
    cand: npt.NDArray[np.bool_] = beyond & other & (
        core_labels != (REMOVE if st.kind == "keep" else KEEP))
    if not (cand & disk).any():
        return np.zeros((h, w), bool)
    back: npt.NDArray[np.bool_] = _components_touching(cand, disk) & cand
    return back


class _Beyond:
    """Per pixel, whether an earlier painted keep (``added``) or remove (``taken``) stroke
    flipped it beyond its own brush, no stroke flipping it or brushing over it since
    (``_Order`` keeps these over ``segment``'s steps, replayed ones too; ``_undone_beyond``
    reads them)."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.added = np.zeros(shape, bool)
        self.taken = np.zeros(shape, bool)

    def after(self, st: Stroke, flipped: np.ndarray,
              box: tuple[int, int, int, int, np.ndarray]) -> None:
        """Record stroke ``st``'s step, which flipped the flat indices ``flipped``. Within the
        brush's box (``box``: its ``_brush_box``, ``_Order.place``'s) and at those indices
        only: ``segment`` calls this for every replayed stroke of every preview, where
        whole-image planes cost 15 ms a stroke at 1024 px (reread44; a replayed stroke's
        record is the few pixels it touched)."""
        w = self.added.shape[1]
        y0, y1, x0, x1, brush = box
        if brush.size:
            self.added[y0:y1, x0:x1][brush] = False
            self.taken[y0:y1, x0:x1][brush] = False
        flat_added, flat_taken = self.added.reshape(-1), self.taken.reshape(-1)
        flat_added[flipped] = False
        flat_taken[flipped] = False
        if len(st.points) > 1 and len(flipped):
            ys, xs = np.divmod(flipped, w)
            inside = (ys >= y0) & (ys < y1) & (xs >= x0) & (xs < x1)
            under = np.zeros(len(flipped), bool)
            under[inside] = brush[ys[inside] - y0, xs[inside] - x0]
            (flat_added if st.kind == "keep" else flat_taken)[flipped[~under]] = True


class _Order:
    """Which stroke decided each pixel so far: the one record of stroke order (later strokes
    win) that ``segment`` keeps over its steps, replayed ones too. It owns three planes, each
    updated here only:

    * ``cores``: the hard cores (KEEP, REMOVE; 0 none), each stroke's on top of the earlier
      ones, a painted stroke's brush clearing the other kind's under it (``_over_earlier``).
      The cut holds them (``_step``); a deep remove click spares beyond its brush what the
      keep cores reach more easily than it does (``_kept_spared``).
    * ``brushes``: the kind of the last brush over each pixel, a click's disk too. Its
      ``keeps`` (the earlier keep brushes) make a grazing remove stroke's core hard over them
      (``_stroke_core``) and say which pieces a keep marked (``_step``: ``_ghosts``,
      ``_unkept_piece``).
    * ``beyond``: what painted strokes flipped beyond their brushes (``_Beyond``), read by a
      click of the other kind, which gives back the pieces its disk touches
      (``_undone_beyond``); None when no such click follows (``segment`` knows the list),
      since it would cost every replayed stroke its record.

    Why one record (order45): the three rules were decided in three places of ``segment``'s
    loop, replayed and cut strokes each; a fourth rule of stroke order belongs here."""

    def __init__(self, shape: tuple[int, int], params: Params, beyond: bool) -> None:
        self.params = params
        self.cores = np.zeros(shape, np.uint8)
        self.brushes = np.zeros(shape, np.uint8)
        self.beyond = _Beyond(shape) if beyond else None

    def keeps(self) -> np.ndarray:
        """The earlier keep strokes' brushes (bool), clicks' disks included."""
        keeps: np.ndarray = self.brushes == KEEP
        return keeps

    def place(self, st: Stroke, core_idx: np.ndarray) -> tuple[int, int, int, int, np.ndarray]:
        """Stroke ``st`` with its hard core at the flat indices ``core_idx``, before its step.
        Returns its ``_brush_box`` for ``after``: one ``paint`` of the brush serves all three
        planes (it is most of a replayed stroke's cost)."""
        box = _brush_box(st, self.cores.shape)
        self.cores.reshape(-1)[core_idx] = st.label
        _over_earlier(self.cores, st, self.params, box)
        y0, y1, x0, x1, brush = box
        self.brushes[y0:y1, x0:x1][brush] = st.label
        return box

    def given_back(self, st: Stroke, state: np.ndarray) -> np.ndarray | None:
        """What a keep or remove click ``st`` flips back in ``state`` (the state before it) of an
        earlier painted stroke's flips beyond its brush (``_undone_beyond``); None: nothing."""
        if self.beyond is None or len(st.points) != 1:
            return None
        back = _undone_beyond(self.beyond.taken if st.kind == "keep" else self.beyond.added,
                              state, self.cores, st)
        return back if back.any() else None

    def gave_back(self, st: Stroke, flipped: np.ndarray) -> int:
        """How many of the flat indices ``flipped`` (keep or remove click ``st``'s step, before
        ``after`` records it) an earlier painted stroke of the other kind had flipped beyond its
        brush: the pixels the click gave back as they were before that stroke (most of them
        ``_undone_beyond``'s, the rest its own cut's). 0 for a painted stroke or with no record
        kept. What the editor's words say a click gave back (signal46, verify45 M2: read from
        the pixels, a keep click that gave back 1 026 px and added more was "also changed
        1026 px beyond the brush")."""
        if self.beyond is None or len(st.points) != 1 or not len(flipped):
            return 0
        plane = self.beyond.taken if st.kind == "keep" else self.beyond.added
        return int(np.count_nonzero(plane.reshape(-1)[flipped]))

    def after(self, st: Stroke, flipped: np.ndarray,
              box: tuple[int, int, int, int, np.ndarray]) -> None:
        """Stroke ``st``'s step flipped the flat indices ``flipped`` (``_Beyond.after``); ``box``:
        what ``place`` returned for it."""
        if self.beyond is not None:
            self.beyond.after(st, flipped, box)


def _ghost_pockets(prior: np.ndarray, state: np.ndarray,
                   st: Stroke) -> tuple[np.ndarray, np.ndarray] | None:
    """For a remove click on a half-transparent piece of ``state`` (the model's median alpha
    over the piece below GHOST_HALF; the click on a pixel the model holds): the faint pixels
    of the prior that ``state`` holds as background (the ghost's pockets and faint
    surroundings, GHOST_MIN..127) and the half-transparent pieces of ``state``. None for any
    other stroke. Both come from the state before the click, so what the click takes is
    decided once, against that state (a later click never changes it).

    On banana3 the 128 line cuts the roses' ghost into patches above it and faint pockets
    below: a click on a patch 3 px from a pocket was an edge click (a 17 px hole) and the gate
    kept only the patch under the click."""
    if st.kind != "remove" or len(st.points) != 1:
        return None
    h, w = state.shape
    cy, cx = _click_centre(st, h, w)
    if not (state[cy, cx] and prior[cy, cx] >= 0.5):
        return None
    n, lbl = cv2.connectedComponents(state.view(np.uint8), connectivity=8)
    # the model's own alpha over each piece (an earlier keep stroke's additions are not)
    held = state & (prior >= 0.5)
    if float(np.median(prior[held & (lbl == lbl[cy, cx])])) >= GHOST_HALF:
        return None
    med = np.ones(n)
    med[1:] = median(prior, np.where(held, lbl, 0), np.arange(1, n))
    soft = (med < GHOST_HALF) & (np.arange(n) > 0)
    soft_ids = np.nonzero(soft)[0]
    pieces = np.isin(lbl, soft_ids) & held
    pockets = ~state & (prior >= GHOST_MIN / 255.0) & (prior < 0.5)
    return pockets, pieces & ~_solid_bodies(prior, pieces)


def _solid_bodies(prior: np.ndarray, pieces: np.ndarray) -> np.ndarray:
    """The solid parts of half-transparent ``pieces`` (prior >= GHOST_SOLID, 8-connected) that
    are a body joined to the ghost, not a bright spot within it: the prior GHOST_RING working
    px around such a part is mostly (more than GHOST_RING_BG) clear background, below
    GHOST_MIN. A synthetic wheel held at 150-170 joined to a body at 255 is one piece with a
    median below GHOST_HALF, and a remove click in its gap took the body whole; banana3's
    roses hold one solid spot (750 px, 24 % clear background around it) that goes with them."""
    solid = pieces & (prior >= GHOST_SOLID)
    if not solid.any():
        return solid
    h, w = prior.shape
    ys, xs = np.nonzero(solid)
    m = GHOST_RING[1] + 1
    y0, y1 = max(0, int(ys.min()) - m), min(h, int(ys.max()) + m + 1)
    x0, x1 = max(0, int(xs.min()) - m), min(w, int(xs.max()) + m + 1)
    sol = solid[y0:y1, x0:x1]
    n, lbl = cv2.connectedComponents(sol.view(np.uint8), connectivity=8)
    # each ring pixel counts for the solid part nearest to it
    _, near = distance_transform_edt(~sol, return_indices=True)
    d = cv2.distanceTransform((~sol).view(np.uint8), cv2.DIST_L2, 5)
    ring = (d > GHOST_RING[0]) & (d <= GHOST_RING[1])
    owner = lbl[near[0][ring], near[1][ring]]
    clear = prior[y0:y1, x0:x1][ring] < GHOST_MIN / 255.0
    total = np.bincount(owner, minlength=n)
    bg = np.bincount(owner, weights=clear, minlength=n)
    body = bg > GHOST_RING_BG * np.maximum(total, 1)
    body[0] = False
    out = np.zeros_like(solid)
    out[y0:y1, x0:x1] = body[lbl]
    return out


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


def _cut(t: np.ndarray, lab: np.ndarray, smooth: float) -> np.ndarray:
    """The graph cut's object side (bool) for unary log-odds ``t`` (source = object)."""
    h, w = t.shape
    # sized up front for the 8-neighbour edges _pairwise adds: the same graph without the
    # reallocations its arrays made as it grew (a fifth of building it)
    g = maxflow.Graph[float](h * w, max(h * (w - 1) + (h - 1) * (3 * w - 2), 1))
    nodes = g.add_grid_nodes(t.shape)
    _pairwise(g, nodes, lab, smooth)
    # a pixel on the sink side (background) pays its source capacity
    g.add_grid_tedges(nodes, np.maximum(t, 0), np.maximum(-t, 0))
    g.maxflow()
    fg: np.ndarray = ~g.get_grid_segments(nodes)
    return fg


def _cropped(state: np.ndarray, px: int) -> bool:
    """Whether the cutout reaches the photo's edge (within ``px`` px; 0: never): the model
    sees its subject run off the photo. Of the click protocol's automatic cutouts, 15 of 84 dev
    and 13 of 14 soft-dev photos' do (GT13's pot stands on the bottom edge; dev 192's child on
    her swing is held whole inside it)."""
    if px <= 0:
        return False
    return bool(state[:px].any() or state[-px:].any() or state[:, :px].any()
                or state[:, -px:].any())


def _photo_sides(shape: tuple[int, int], origin: tuple[int, int],
                 full: tuple[int, int]) -> np.ndarray:
    """The 2 px bands along the sides of a window (``shape`` at ``origin`` in a photo of size
    ``full``) that lie on the photo's own edge."""
    m = np.zeros(shape, bool)
    if origin[0] == 0:
        m[:2] = True
    if origin[1] == 0:
        m[:, :2] = True
    if origin[0] + shape[0] == full[0]:
        m[-2:] = True
    if origin[1] + shape[1] == full[1]:
        m[:, -2:] = True
    return m


def _far_click(state: np.ndarray, st: Stroke, params: Params) -> bool:
    """Whether click ``st`` lies farther than ``_far_from`` (of the area of ``state``, the
    cutout before it) from every pixel of ``state``: another object's place, not the
    cutout's edge (``_far_keep_recut``, ``far_keep_outcome``)."""
    h, w = state.shape
    cy, cx = _click_centre(st, h, w)
    far = _far_from(int(state.sum()), params)
    r = int(np.ceil(far))
    near = state[max(0, cy - r): cy + r + 1, max(0, cx - r): cx + r + 1]
    if near.any():
        ys, xs = np.nonzero(near)
        ys, xs = ys + max(0, cy - r) - cy, xs + max(0, cx - r) - cx
        if float(np.min(ys ** 2 + xs ** 2)) <= far ** 2:
            return False
    return True


def far_keep_outcome(before: np.ndarray, after: np.ndarray, st: Stroke,
                     params: Params = DEFAULT) -> str:
    """What keep click ``st`` did when it lies far from the cutout (``_far_click``; the
    recut of ``_far_keep_recut``), from the cut before it and after it (bool, working
    size): "piece" (it added a piece apart from the cutout), "joined" (one that reaches the
    cutout), "spot" (no more beyond its brush than the brush itself: the photo showed no
    object there); "" for any other stroke, or an empty cutout. A word for the reviewer
    only (the editor's status line): it changes no cut."""
    if st.kind != "keep" or len(st.points) != 1 or not before.any():
        return ""
    if not _far_click(before, st, params):
        return ""
    brush = rasterise([st], before.shape) > 0
    added = after & ~before
    # the spot under a click is kept whatever the photo says: only what lies beyond it is
    # the object the recut found
    if int((added & ~brush).sum()) <= int(brush.sum()):
        return "spot"
    grown = cv2.dilate(added.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return "joined" if (grown & before).any() else "piece"


#: the share of an addition the model must have held faintly (prior 0.1 or more) for it to
#: run to the photo's edge where the cutout does not (``_edge_seen``): the model saw a product
#: there; a backdrop stretch it held at 0 is not one (edge43)
FAR_KEEP_SEEN_SHARE = 0.5


def _edge_seen(state: np.ndarray, add: np.ndarray, held: np.ndarray, params: Params) -> bool:
    """The frame rule of a far keep click's cuts (``_far_keep_recut``): whether an addition
    ``add`` (bool, the click's window) may run to the photo's own edge. The photo's edge is
    where a backdrop stretch runs to as well as a product the photo crops, so only what the
    model itself saw there may: the cutout ``state`` reaches the photo's edge (``_cropped``,
    within ``far_keep_cropped`` px: a product the model sees run off it), or the model held
    most of the addition faintly (``FAR_KEEP_SEEN_SHARE`` of it in ``held``, the window's
    pixels its prior holds at 0.1 or more, which the cut takes no background samples from).
    Both read what the model saw before the click: the click itself does not say where its
    object ends (soft-dev GT23's rock and bush, held at 0 beside a sweater held at 0, ran to
    the photo's left edge; edge43's sofa, held at alpha 40, runs off its left and bottom)."""
    if _cropped(state, params.far_keep_cropped):
        return True
    return bool(add.any() and held[add].mean() >= FAR_KEEP_SEEN_SHARE)


def _far_keep_recut(state: np.ndarray, st: Stroke, t_rest: np.ndarray, lab_w: np.ndarray,
                    fg: np.ndarray, cur: np.ndarray, origin: tuple[int, int],
                    params: Params, held: np.ndarray) -> np.ndarray:
    """The object side of a keep click's window once the click is far from the cutout (no
    pixel of ``state`` within ``far_keep_px``, or ``far_keep_frac`` x the square root of its
    area if larger: apart from it by a share of its own size): cut again up to
    ``far_keep_rounds`` times, as
    GrabCut iterates, with the colour models of the previous cut (object: its addition joined
    to the click; background: the rest of the window the cutout does not hold) and without the
    prior; ``t_rest`` is the cut's unary term less its prior and colour terms (the strokes'
    cores, the window's frame, the brush's push). Else ``fg`` as it is.

    The wrong-subject case: the model held a background object and dropped the product, so
    its prior says "background" over the whole product, confidently, and a keep click there
    weighs only its few core pixels' colours against it: on dev photo 059 a keep click on the
    car added 49 px of 14 000, on 031 one on the bus 3 400 px of 62 000. The click says the
    prior is wrong here; the photo's colours and edges say how far the object reaches. Near
    the cutout the prior still holds: there a keep click fixes its edge or a part the model
    missed, and without the prior the recut took background (dev photos 016, 27 px from a
    cutout of 23 000 px: 17 000 background px; 053, 53 px from 32 000: 3 700), hence the
    share of the cutout's size. A recut whose addition runs to the window's frame is a
    stretch of background like the click, not an object the window holds: the cut before it
    stands. Where that frame is the photo's own edge, the product may run on beyond the
    photo (a plant whose leaves leave the top of the picture: soft-dev GT13) as a background
    stretch does (the hedge behind a swing's chain at the top of dev 192): one frame rule
    (``_edge_seen``) says which, from what the model saw (the cutout reaches the photo's edge,
    or the model held most of the addition faintly; ``held``: the window's pixels its prior
    holds at 0.1 or more). A recut whose addition runs to the photo's edge against that rule
    stops as at the frame; a first cut (the one with the prior) whose addition joined to the
    click already does is such a stretch too, and the click keeps only its spot
    (``far_keep_edge``; soft-dev GT23: a click on a dark sweater's shoulder added 10 030 px of
    dark rock and bush, held at 0, up to the photo's left edge beside 5 400 of sweater; edge43:
    a sofa held at alpha 40 running off the photo's left and bottom edges stands, IoU .87 with
    its first cut, .001 when kept to the spot). The connectivity gate and the keep click's
    guards apply to the result as to any cut."""
    h, w = state.shape
    if not _far_click(state, st, params):
        return fg
    cy, cx = _click_centre(st, h, w)
    seed = np.zeros(fg.shape, bool)
    seed[min(max(cy - origin[0], 0), fg.shape[0] - 1),
         min(max(cx - origin[1], 0), fg.shape[1] - 1)] = True
    sides = _photo_sides(fg.shape, origin, (h, w))
    # the window's frame inside the photo (its sides on the photo's own edge: _edge_seen)
    frame = ~sides
    frame[2:-2, 2:-2] = False
    first = _components_touching(fg & ~cur, seed) & fg & ~cur
    if params.far_keep_edge and (first & sides).any() and not _edge_seen(state, first, held,
                                                                          params):
        # the cut with the prior already ran to the photo's edge, which the model did not see
        # there: a backdrop stretch (the frame rule), so only the spot under the brush is
        # kept, not a piece mostly of backdrop (qa43r, soft-dev GT23)
        spot = rasterise([st], fg.shape, origin=(origin[1], origin[0])) > 0
        kept: np.ndarray = fg & ~(first & ~spot)
        return kept
    out = fg
    for _ in range(params.far_keep_rounds):
        add = _components_touching(fg & ~cur, seed) & fg & ~cur
        rest = ~fg & ~cur
        if not add.any() or not rest.any():
            break
        llr = _colour_llr(lab_w, add.astype(np.float32), rest.astype(np.float32), params.bins,
                          params.colour_clip)
        new = _cut(t_rest + params.colour_weight * llr, lab_w, params.smooth)
        grown = _components_touching(new & ~cur, seed)
        if (grown & frame).any() or ((grown & sides).any()
                                     and not _edge_seen(state, grown, held, params)):
            # it ran to the window's frame: a stretch of background like the click, not an
            # object the window holds (on the photo's own edge, unless the model saw it there)
            break
        if (new == fg).all():
            break
        fg = out = new
    return out


def _step(rgb: np.ndarray, lab: np.ndarray, prior: np.ndarray, prior_fg: np.ndarray,
          state: np.ndarray, core_labels: np.ndarray, keeps: np.ndarray, st: Stroke,
          core: np.ndarray, params: Params,
          ghost: tuple[np.ndarray, np.ndarray] | None = None,
          spared: np.ndarray | None = None, subject: np.ndarray | None = None) -> np.ndarray:
    """The state after one more keep/remove stroke ``st`` (working coordinates). ``core_labels``
    holds the hard cores of all strokes so far (this one included, later ones on top),
    ``keeps`` the whole brushes of the keep strokes before it, clicks' disks included (later
    strokes win where they overlap), ``ghost`` what ``_ghost_pockets`` found for it,
    ``subject`` the part a subject click before it chose (``segment``; None: none)."""
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
        cy, cx = _click_centre(st, h, w)
        if same[cy, cx]:
            r = int(np.ceil(3 * sigma))
            ys, xs = slice(max(0, cy - r), cy + r + 1), slice(max(0, cx - r), cx + r + 1)
            d = cv2.distanceTransform(np.pad(same[ys, xs], 1).astype(np.uint8), cv2.DIST_L2, 5)
            depth = float(d[1 + cy - ys.start, 1 + cx - xs.start])
            sigma = max(sigma, min(params.depth_sigma * depth, 3 * sigma))
    edge = (_edge_depth(state, st, params, _click_box(st, params, h, w),
                        None if ghost is None else ghost[0])
            if len(st.points) == 1 else None)
    if edge is not None and edge[0] > params.edge_click_px and params.edge_sigma_mult:
        # a click whose brush reaches over the edge says the error is about twice as wide as
        # the click is far from the edge: the prior is discounted that far, not an object's
        # size. With the object's reach its cut added the water beside a duck's beak; held
        # under its brush instead, it fixed one brush's worth of a wide error (docs/review.md)
        sigma = min(sigma, params.edge_sigma_mult * edge[0])
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
    # the keep brushes so far, this stroke's own over them (later strokes win)
    seen_keep = keeps | brush if positive else keeps & ~brush
    open_bg = None
    if not positive and len(st.points) == 1 and params.gap_ring:
        # the background connected to the photo's border (a hole an earlier click opened in
        # the object is not open)
        bgm = np.pad(~state, 1, constant_values=True).view(np.uint8)
        _, bl = cv2.connectedComponents(bgm, connectivity=8)
        open_bg = (bl == bl[0, 0])[1:-1, 1:-1]
    blob = ghosts = None
    if not positive:
        # a painted stroke marks a blob its centre line runs deep inside (_deep_hits)
        line = (rasterise([replace(st, radius=0.5)], (h, w)) > 0
                if params.paint_blob_line and len(st.points) > 1 else None)
        blob = _marked_blobs(state, seen_keep, brush,
                             max(NECK_MIN, int(round(params.neck_frac * np.sqrt(area)))), line,
                             params.paint_blob_body,
                             # the model's hold (1 where an earlier stroke added the pixel)
                             None if line is None else np.where(prior_fg, prior, np.float32(1.0)),
                             params.paint_blob_held, subject)
        ghosts = _ghosts(state, seen_keep, brush, line, subject)
        if len(st.points) == 1:
            # a remove click on a solid piece apart from the main subject takes that piece,
            # however shallow, unless it is an edge click (decided here, against the state
            # before it, so no later stroke gives it back)
            ghosts |= _apart_piece(state, seen_keep, st, params, subject)
            ghosts |= _unkept_piece(state, seen_keep, st, params, subject)
    spread = None
    if ghost is not None and _edge_band(state, st, params, _click_box(st, params, h, w),
                                        ghost[0]) is None:
        # a remove click on a half-transparent ghost says the ghost is background: its soft
        # pieces the click reaches through the ghost's faint pockets, whose patches the 128
        # line parts from the clicked one, are as disputed as the click's own (the colour
        # model and the edges still decide)
        spread = _components_touching(ghost[0] | ghost[1], brush) & ghost[1]
    extra = None if blob is None or ghosts is None else blob | ghosts
    if spread is not None:
        extra = spread if extra is None else extra | spread
    y0, y1, x0, x1 = _window(st, extra, params.window_sigmas * sigma, h, w)
    win = (slice(y0, y1), slice(x0, x1))
    cur, p0, pf = state[win], prior[win], prior_fg[win]
    # the prior, with the earlier strokes' decisions taken as confident
    p = np.where(cur == pf, p0, np.where(cur, 0.97, 0.03)).astype(np.float32)
    b = brush[win]
    dist = cv2.distanceTransform((~b).astype(np.uint8), cv2.DIST_L2, 5)
    near = np.exp(-0.5 * (dist / sigma) ** 2)
    if blob is not None:
        near[blob[win]] = 1.0
    if spread is not None:
        near[spread[win]] = 1.0

    lab_w = lab[win]
    prox = np.exp(-0.5 * (dist / (params.sample_sigma_mult * sigma)) ** 2) + 0.02
    # near the stroke the model's side is what the reviewer disputes: its confident pixels
    # there do not describe that side's colours
    doubt = 1.0 - params.near_trust * near
    fg_w = np.where(p > 0.9, prox * (1.0 if positive else doubt), 0.0)
    bg_w = np.where(p < 0.1, prox * (doubt if positive else 1.0), 0.0)
    if spread is not None:
        # nor are a disputed ghost's own held pixels (its few solid ones are the background's
        # colours: as the only object samples near the click, they made those colours object)
        fg_w[spread[win]] = 0.0
    # colour samples of the strokes: their hard cores only (a brush's rim may overlap the
    # other side of the edge)
    for seeds, wts in ((core_labels[win] == KEEP, fg_w), (core_labels[win] == REMOVE, bg_w)):
        k = int(seeds.sum())
        if k:
            wts[seeds] += params.stroke_mass * max(float(wts.sum()), 1.0) / k
    # for _wrong_alike's second cut: the click's smooth part and the object samples without
    # the wrong region's look
    deep_part: np.ndarray | None = None
    smooth_part: np.ndarray | None = None
    fg_alike: np.ndarray | None = None
    if (not positive and params.deep_mass and len(st.points) == 1
            and depth >= params.deep_min):
        # a remove click deep inside the cutout says the region around it is background, but
        # its own core is a patch of one colour and the cut took little more than what looked
        # like it. The smooth part of the cutout within its depth is that region's colour: a
        # background sample as heavy as the rest (on a dev photo the first click took 19 % of
        # its wrong region, now 95 %). Where the cutout is mostly that region its confident
        # pixels still dominate the object samples (4 % both on another). Object samples are left
        # alone: dropping them lost the thin bar beside a filled hole (its grey is one
        # histogram bin from the hole's) and gained nothing on the dev set (docs/review.md
        # § Click benchmark)
        cy, cx = _click_centre(st, h, w)
        part = _smooth_part(lab_w, cur, core[win], cy - y0, cx - x0, depth, params.deep_step)
        n = int(part.sum())
        smooth_part = part
        if n:
            bg_w[part] += params.deep_mass * max(float(bg_w.sum()), 1.0) / n
            if params.deep_alike:
                alike = _wrong_alike(lab_w, cur, part, core_labels[win] == KEEP, depth, params)
                if alike.any():
                    deep_part = part
                    fg_alike = np.where(alike, 0.0, fg_w)
    llr = _colour_llr(lab_w, fg_w, bg_w, params.bins, params.colour_clip)

    pc = np.clip(p, params.prior_clip, 1.0 - params.prior_clip)
    lp = np.log(pc / (1.0 - pc))
    prior_t = params.prior_weight * (1.0 - params.near_trust * near) * lp
    t = prior_t + params.colour_weight * llr
    if blob is not None:
        t[blob[win]] -= params.blob_bias
    if spread is not None:
        t[spread[win]] -= params.blob_bias
    # the rim pushes towards the stroke's label only where it looks like the core (an
    # edge-aware brush)
    core_here = core[win]
    labf = lab_w.astype(np.float32)
    ref = labf[core_here].mean(axis=0) if core_here.any() else labf[b].mean(axis=0)
    like = np.exp(-((labf - ref) ** 2).sum(axis=2) / (2.0 * params.rim_colour_tol ** 2))
    push = params.rim_strength * like
    t[b] += push[b] if positive else -push[b]
    # the window's frame keeps its state, so a change never runs off the window
    window_frame = _frame(t.shape)
    frame = window_frame & ~b
    t[frame & cur] = HARD
    t[frame & ~cur] = -HARD
    cl = core_labels[win]
    t[cl == KEEP] = HARD
    t[cl == REMOVE] = -HARD

    fg = _cut(t, lab_w, params.smooth)
    if deep_part is not None and fg_alike is not None and 2 * int((fg & deep_part).sum()) > int(
            deep_part.sum()):
        # the click's own smooth part mostly stayed: in the bulk of a piece that is mostly the
        # wrong region (a dirt mound joined to the rider it stands behind) the piece's own
        # pixels were most of the object samples, so that colour stayed object and the click
        # took a patch (dev photo 015: 1 884 of 55 297 px). Cut again with the wrong region's
        # look taken out of the object samples (_wrong_alike); where the first cut took the
        # smooth part it stands (on dev 069 the second cut took less: the region's other
        # colours then weighed as object)
        llr2 = _colour_llr(lab_w, fg_alike, bg_w, params.bins, params.colour_clip)
        t2 = t + params.colour_weight * (llr2 - llr)
        fg2 = _cut(t2, lab_w, params.smooth)
        if _alike_stands(deep_part, depth, cur & fg & ~fg2, p0, params):
            t, llr, fg = t2, llr2, fg2
    if positive and len(st.points) == 1 and params.far_keep_rounds:
        # a keep click on an object the cutout dropped whole: the photo, not the prior,
        # says how far it reaches (_far_keep_recut)
        fg = _far_keep_recut(state, st, t - prior_t - params.colour_weight * llr, lab_w, fg,
                             cur, (y0, x0), params, p >= 0.1)

    change = (fg & ~cur) if positive else (cur & ~fg)
    # a click right next to the current edge says "a sliver about this deep is wrong here":
    # it flips only the pixels closer to it than the edge, it does not open a region
    band = _edge_band(state, st, params, (y0, y1, x0, x1),
                      None if ghost is None else ghost[0])
    if (band is not None and params.edge_blob_px and edge is not None
            and edge[0] <= params.edge_click_px):
        # a click within edge_click_px of the edge flips its disk of radius d alone, so on a
        # speck the cutout kept sticking out of its edge (qa39b U2: a blade's 174 px tip) one
        # click took 13 px. When what the cut flips joined to the brush is small, clear of the
        # window's frame and nearly ringed by the side it goes to, it is such a speck (or a
        # notch), and the click takes it whole (its other rules still apply). Not a region
        # lying along the edge: at a share of 0.6 the click protocol's radius-5 clicks along
        # slivers lowered IoU 18 times of 400 (10 before; docs/review.md, Small blobs). Nor a
        # region much thicker than the click is deep (edge_blob_deep): a click d px from the
        # edge says the error is about d deep, and the regions the rule took right were that
        # thick (largest inscribed radius 0.93-1.45 d); a radius-5 keep click 2 px from the
        # cutout on a sliver at the rim of a gap the cutout rings filled the whole gap (dev
        # 106024: 235 px, 194 of them backdrop, inscribed radius 7.2; docs/review.md, Deep
        # blobs at the edge)
        whole = _components_touching(change, b)
        n_whole = int(whole.sum())
        if 0 < n_whole <= params.edge_blob_px and not (whole & window_frame).any():
            rim = cv2.dilate(whole.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
            rim &= ~whole
            aim = cur if positive else ~cur
            share = float((rim & aim).sum()) / max(int(rim.sum()), 1)
            if share >= params.edge_blob_enclosed and (
                    not params.edge_blob_deep
                    or _inscribed(whole) <= params.edge_blob_deep * edge[0]):
                band = None
    if band is not None:
        change &= band
        if edge is not None and edge[0] > params.edge_click_px and params.edge_open_frac:
            # beyond its brush, what it flips must be as thick as the error it sits in (about
            # 2d): a thin streak of the core's colour leaving it (a ripple running off a
            # beak) is not that error
            k = 2 * int(round(params.edge_open_frac * edge[0])) + 1
            se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
            change &= (cv2.morphologyEx(change.view(np.uint8), cv2.MORPH_OPEN, se) > 0) | b
    out = state.copy()
    o = out[win]
    # gate: only a change connected to this stroke, of its sign, survives
    gated = _components_touching(change, b)
    if spread is not None and band is None:
        # and what the cut takes of the ghost's other patches (joined to the click through
        # its pockets)
        gated |= change & spread[win]
    if band is None and len(st.points) == 1 and params.spread_mult:
        # one click does not flip a large region far beyond what its smooth part vouches for
        gated = _spread_limited(lab_w, gated, core_here, st.radius, params)
    if (not positive and band is None and len(st.points) == 1 and params.beyond_mult
            and gated.any()):
        # a remove click does not take a piece of the object it reaches only through its own
        # spot, across an edge the kept object reaches it by as easily (a click on a sign
        # post took the bus panel behind it)
        cy, cx = _click_centre(st, h, w)
        beyond = _beyond_spared(lab_w, cur, gated, core_here, (cy - y0, cx - x0), st.radius,
                                params)
        gated = _spare_beyond(gated, beyond, b)
    if (not positive and band is None and len(st.points) == 1 and params.kept_margin
            and depth >= params.deep_min and gated.any()):
        # nor, a deep click (its depth widened its reach), well beyond its brush what an
        # earlier keep stroke vouches for more strongly than it does (_kept_spared: a click in
        # the middle of a ramp took the kept cart's riders)
        cy, cx = _click_centre(st, h, w)
        kept = _kept_spared(lab_w, gated, core_here, cl == KEEP, (cy - y0, cx - x0), st.radius,
                            params)
        if kept.any():
            left = _components_touching(gated & ~kept, b) & gated & ~kept
            # and only when what it spares (with what then no longer joins the brush) is at
            # least the click's own disk: a few px of a small flip are its own spill (dev
            # photo 312's sixth click: 3 px, all of them wrong)
            if int((gated & ~left).sum()) >= np.pi * st.radius * st.radius:
                gated = left
    if positive:
        if band is None and len(st.points) == 1 and params.keep_edge_margin and gated.any():
            # a keep click adds the part it vouches for, not a neighbour behind an edge that
            # the background reaches more easily (a click on a pencil added the
            # pale keyboard it lies across, 11 000+ background px)
            gated &= ~_behind_edge_spared(lab_w, cur, gated, core_here, st.radius, params)
            gated = _components_touching(gated, b) & gated
        if band is None and len(st.points) > 1 and gated.any():
            # a painted keep stroke's guards beyond its brush, in this order, each on what the
            # ones before it left (switch 0 turns a guard off); the stroke's centre line (1 px,
            # the window painted like the whole image) serves the two that read it
            line_w = rasterise([replace(st, radius=0.5)], (y1 - y0, x1 - x0),
                               origin=(x0, y0)) > 0
            guards: tuple[tuple[float, Callable[[np.ndarray], np.ndarray]], ...] = (
                # nor, beyond its brush, a piece of a colour the stroke holds nowhere under its
                # core (_unlike_beyond: a stroke in a grey foreleg added the white board
                # behind it)
                (params.keep_beyond_tol,
                 lambda g: _unlike_beyond(lab_w, g, core_here, b, p0, st.radius, params)),
                # nor a piece the model held clear that looks like the backdrop round it
                # (_backdrop_beyond: a stroke tracing a wheel's rim filled its inside)
                (params.keep_backdrop_held,
                 lambda g: _backdrop_beyond(lab_w, cur, g, line_w, b, p0, st.radius, params)),
                # nor, beyond a thin brush painted across a see-through part, the backdrop seen
                # through it that the model held clear (_through_beyond: a zigzag across a
                # blurred wheel added the grass in and round it)
                (params.keep_through_share,
                 lambda g: _through_beyond(lab_w, cur, g, core_here, b, p0, st.radius, params)),
                # nor, beyond a brush drawn along the cutout's edge over colours the backdrop
                # holds, what lies away from the cutout (_rim_away_beyond: a keep on a
                # banana's shaved dark rim laid the shadow below it in)
                (params.keep_rim_share,
                 lambda g: _rim_away_beyond(lab_w, cur, g, line_w, core_here, b, p0,
                                            st.radius, params)),
                # nor, beyond a brush over a part the model saw, what it held clear
                # (_seen_core_beyond: a keep along a half-held pen added the dark backdrop
                # beside it)
                (params.keep_seen_core,
                 lambda g: _seen_core_beyond(g, b, dist, core_here, p0, st.radius, params)),
            )
            for on, beyond_of in guards:
                if on and gated.any():
                    gated = _spare_beyond(gated, beyond_of(gated), b)
        o |= _span_limited(lab, gated, b, dist, st, (y0, x0), params)
    else:
        if band is None and len(st.points) == 1:
            # a click in the gap beside a thin strap must not take the strap
            if params.thin_depth and depth * params.thin_depth > st.radius * params.thin_width:
                # its depth widened its reach, and the discounted prior over the tyre around a
                # wheel's gap let the colour model take it (docs/review.md):
                # a strap as wide as a share of that depth, held by the model, is spared
                gated &= ~_thin_spared(lab_w, cur, gated, core_here,
                                       params.thin_depth * depth / params.thin_width,
                                       replace(params, thin_length=params.thin_depth_length),
                                       held=p0)
            else:
                gated &= ~_thin_spared(lab_w, cur, gated, core_here, st.radius, params)
            if open_bg is not None and gated.any():
                # a click in a gap the object encloses takes the gap, not the ring around it
                # (tyre, hub and spokes; docs/review.md)
                ring = _ring_spared(lab_w, cur, gated, core_here, st.radius, p0, open_bg[win],
                                    params)
                gated = _spare_beyond(gated, ring, b)
            if (open_bg is not None and params.gap_backdrop_share
                    and depth >= params.deep_min and gated.any()):
                # and a deep click on the backdrop seen through such a gap takes the gap, not
                # the firmly held rim round it that its widened reach handed to the colour
                # model (_backdrop_gap_spared: dev 132's wheel, 129's and 312's frames)
                if smooth_part is None:
                    # deep_mass off: the rule reads the same smooth part the deep-mass
                    # sample would (switching that sample off must not switch this off)
                    cy, cx = _click_centre(st, h, w)
                    smooth_part = _smooth_part(lab_w, cur, core[win], cy - y0, cx - x0, depth,
                                               params.deep_step)
                gated = _spare_beyond(gated, _backdrop_gap_spared(
                    lab_w, cur, gated, smooth_part, b, p0, open_bg[win], st.radius, params), b)
        elif band is None and params.thin_paint_frac > 0:
            # nor a stroke painted through that gap. Its long core reaches the flanks of a
            # wrong region across weaker edges than a click's does: on the dev photos nearly
            # all the pieces spared by the click's test alone were background outlines
            # (docs/review.md), so the piece as a whole must be clearly nearer the kept side
            gated &= ~_thin_spared(lab_w, cur, gated, core_here,
                                   params.thin_paint_frac * st.radius, params,
                                   params.thin_paint_gap)
        if spared is not None:
            # a stroke grazing the object from outside stops at its edge (_graze_spared)
            gated &= ~spared[win]
        centre_w = None
        if ((params.paint_beyond_alike or params.paint_beyond_held or params.paint_beyond_firm)
                and band is None
                and len(st.points) > 1 and gated.any()):
            # the centre line in the window, for the guards below: a window paints exactly
            # like the whole image (``rasterise``): the blob rule's centreline serves when it
            # was painted, else the window's alone
            centre_w = (line[y0:y1, x0:x1] if line is not None else
                        rasterise([replace(st, radius=0.5)], (y1 - y0, x1 - x0),
                                  origin=(x0, y0)) > 0)
        if centre_w is not None:
            # a painted remove stroke's guards beyond its brush, in this order, each on what
            # the ones before it left (switch 0 turns a guard off)
            line_c: np.ndarray = centre_w
            rm_guards: tuple[tuple[float, Callable[[np.ndarray], np.ndarray]], ...] = (
                # nor, beyond its brush, what looks like the object rather than the backdrop
                # under its centreline (QA36 H2: a stroke over haze went on down a fork it
                # reached)
                (params.paint_beyond_alike,
                 lambda g: _object_like_beyond(lab_w, cur, g, line_c, b, params.rim_colour_tol)),
                # nor a part the model held in doubt where what the stroke covers it held
                # firmly (qa40b W-A: a stroke on a graffiti held 1.0 took the skater's torso
                # held .67-.76 up to 105 px beyond its brush, by the colours it covers)
                (params.paint_beyond_held,
                 lambda g: _doubt_beyond(
                     g, b, dist, line_c, p0,
                     max(NECK_MIN, int(round(params.neck_frac * np.sqrt(area)))), params)),
                # nor the object held solid beside a wrong region held faintly (qa42r: a
                # stroke on the ground under a dog's chin took the chest, its fur the ground's
                # colours); a body at the blob split's smallest neck radius (a rim beyond a
                # grazing brush has none)
                (params.paint_beyond_firm,
                 lambda g: _firm_beyond(g, cur, b, dist, line_c, p0, NECK_MIN, params,
                                      brush_radius=st.radius)),
            )
            for on, beyond_of in rm_guards:
                if on and gated.any():
                    gated = _spare_beyond(gated, beyond_of(gated), b)
        o &= ~_span_limited(lab, gated, b, dist, st, (y0, x0), params)
        assert ghosts is not None  # set above for every removing stroke
        out &= ~ghosts
    out[core_labels == KEEP] = True
    out[core_labels == REMOVE] = False
    return out


def _doubt_beyond(gated: np.ndarray, b: np.ndarray, dist: np.ndarray, line: np.ndarray,
                  held: np.ndarray, radius: int, params: Params) -> np.ndarray:
    """What a painted remove stroke takes beyond its brush (more than ``span_margin`` px) of
    the parts the model ``held`` as object (at least half) but ``paint_beyond_held`` lower than
    the centre ``line``'s lower quartile, that have a body of their own (they survive an
    erosion of the blob split's neck ``radius``, as ``_held_like_line`` reads a marked blob).

    Why (QA qa40b W-A, dev 155, 2026-12-06): ``_held_like_line`` spares such a part inside a
    blob the stroke marks; unmarked, a stroke r 40 on the graffiti the model held at 1.0 still
    took the skater's torso it held at .67-.76, 2 493 px up to 105 px beyond the brush: the
    colours the stroke covers (pink and white) are hers too."""
    on = held[line]
    if not on.size or radius < 1:
        return np.zeros(gated.shape, bool)
    level = float(np.percentile(on, 25))
    doubt: np.ndarray = (gated & ~b & (dist > params.span_margin) & (held >= 0.5)
                         & (held <= level - params.paint_beyond_held))
    if not doubt.any():
        return doubt
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    body = cv2.erode(doubt.view(np.uint8), se) > 0
    spared: np.ndarray = _components_touching(doubt, body) & doubt
    return spared


def _firm_beyond(gated: np.ndarray, cur: np.ndarray, b: np.ndarray, dist: np.ndarray,
                 line: np.ndarray, held: np.ndarray, radius: int, params: Params, *,
                 brush_radius: float) -> np.ndarray:
    """What a painted remove stroke takes beyond its brush (more than ``span_margin`` px) that
    the model ``held`` solid (GHOST_SOLID) and at least ``paint_beyond_firm`` above the median
    of what its centre ``line`` runs over, when that line runs mostly outside the cutout ``cur``
    over what the model held faintly (a median of GHOST_MIN or more): the parts with a body of
    their own (they survive an erosion of ``radius``) that go on into what the stroke leaves of
    the cutout. ``_doubt_beyond``'s other side.

    Why (qa42r, 2026-12-07, remove43): a remove r 10 on the ground under a dog's chin (dev 271;
    the model held the ground at .15 on the line's median, 22 of its 31 px outside the cutout)
    took 348 px of the chest it held at .54-1.0, up to 19 px beyond the brush: the ground's dry
    grass has the fur's colours, so the colour guard (``_object_like_beyond``) keeps nothing.
    The stroke covers what the model doubted; beyond its brush it takes what the model doubted
    as much, not the object it held solid. Not a ghost's firmer patches (banana3: a stroke
    across a rose clump held .47 on its line left patches held .75, IoU .9155 -> .9107 without
    the solid floor), not a rim (no body), not an island of the wrong region the stroke takes
    whole. A line mostly inside the cutout over what the model held in doubt, whose brush
    (``brush_radius``) reaches past the cutout's edge: ``_firm_rim`` (scroll47); held more
    firmly, a thin brush's (``paint_beyond_sill``, sill48) at a floor of held object. Open: on dev
    093 a remove r 6 along a hoof's shadow as tall as its brush, started on the hoof, runs half
    inside the cutout and still takes the hoof (docs/review.md, 2026-12-07 remove43)."""
    on = held[line]
    if not on.size:
        return np.zeros(gated.shape, bool)
    level = float(np.median(on))
    if 2 * int((line & cur).sum()) >= int(line.sum()):
        # a centreline mostly inside the cutout runs through what the user calls wrong, held
        # as it may be (the painted protocol's strokes: without this, 17 of 84 photos lost
        # IoU, NoC@90 2.619 -> 2.643) -- unless it runs over the cutout's doubted fringe,
        # its brush reaching past the cutout's edge, beside a body the model held firmly
        # (_firm_rim; read wherever the line is held in doubt, 15 of 84 painted photos ended
        # lower: the protocol's brushes fit inside their wrong region)
        if (params.paint_beyond_rim and level >= 0.5
                and level + params.paint_beyond_firm <= GHOST_SOLID
                and _past_edge(cur, line, brush_radius)
                and bool((b & (held < GHOST_MIN / 255)).any())):
            return _firm_rim(gated, cur, b, dist, line, held, level + params.paint_beyond_firm,
                             radius, brush_radius, params)
        # and a thin brush painted over a wrong strip along the cutout's edge (at most a
        # quarter of its line on the clear backdrop, its brush reaching that backdrop; a
        # brush's rim rasterised to whole px, hence the half px) spares what the model held
        # as object behind the stroke, whatever the line's hold (sill48: dev 247's stroke
        # along a car's sill shadow, its line held .88 at the median, took the door band held
        # .55-.75 up to 16 px beyond it; 044's along the grass under a sill, held 1.0, the
        # sill's moulding). Not a line a quarter over the clear (the goal net's frame, 085; a
        # spectator's head, 262), nor a wide brush (047's fountain r 25: a wide stroke paints
        # a wide wrong region, its firm rest behind the brush the cut's to decide)
        if (params.paint_beyond_sill and brush_radius <= params.paint_beyond_sill_radius
                and float(np.percentile(on, 25)) >= GHOST_MIN / 255
                and _past_edge(cur, line, brush_radius + 0.5)
                and bool((b & (held < GHOST_MIN / 255)).any())):
            return _firm_rim(gated, cur, b, dist, line, held, params.paint_beyond_sill,
                             radius, brush_radius + 0.5, params)
        return np.zeros(gated.shape, bool)
    if level < GHOST_MIN / 255:
        # a line on the clear backdrop grazes the cutout from outside: _graze_spared and
        # _object_like_beyond read that touch (a backdrop rim the cutout holds beyond the
        # brush still goes)
        return np.zeros(gated.shape, bool)
    firm: np.ndarray = (gated & ~b & (dist > params.span_margin)
                        & (held >= max(level + params.paint_beyond_firm, GHOST_SOLID)))
    if not firm.any():
        return firm
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    body = cv2.erode(firm.view(np.uint8), se) > 0
    firm = _components_touching(firm, body) & firm
    # and only what goes on into the object the stroke leaves: a firm part of the wrong
    # region itself, which the stroke takes whole, would stay as an island
    left = cur & ~gated
    spared: np.ndarray = _components_touching(firm | left, left) & firm
    return spared


def _past_edge(cur: np.ndarray, line: np.ndarray, brush_radius: float) -> bool:
    """Whether a brush of ``brush_radius`` round the centre ``line`` reaches past the edge of
    the cutout ``cur``: the line's median depth in it (px to the nearest px outside) is below
    the radius. The painted protocol's strokes fit inside the wrong region they run through."""
    depth = cv2.distanceTransform(cur.view(np.uint8), cv2.DIST_L2, 5)
    return bool(line.any()) and float(np.median(depth[line])) < brush_radius


def _firm_rim(gated: np.ndarray, cur: np.ndarray, b: np.ndarray, dist: np.ndarray,
              line: np.ndarray, held: np.ndarray, floor: float, radius: int,
              brush_radius: float, params: Params) -> np.ndarray:
    """What a painted remove stroke takes beyond its brush (more than ``span_margin`` px) that
    the model ``held`` at ``floor`` or more where the brush covers the cutout's doubted fringe
    and reaches past its edge (``_firm_beyond`` decides when): the px of a held body of the
    cutout ``cur`` (held at ``floor`` or more, it survives an opening of ``radius``) that stay
    joined to what the stroke leaves of it.

    Why (qa46b, dev memorial, 2026-12-07, scroll47): a remove r 6 on the bricks the cutout
    held beside a stone scroll (its centre line 18 of 25 px inside, held .53 at its median)
    shaved the scroll's rim, held .84-1.0, along a straight line up to 18 px beyond the brush:
    the cut's discount made the rim and the fringe one colour question. The flip there is a
    sliver (the body is the scroll, not the sliver), so the test reads the held body of the
    cutout, not the flip's own. Only past the edge: the painted protocol's strokes run inside a
    wrong region held in doubt whose firmer parts beyond the brush are its own."""
    firm = cur & (held >= floor)
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    body = cv2.morphologyEx(firm.view(np.uint8), cv2.MORPH_OPEN, se) > 0
    took: np.ndarray = gated & ~b & (dist > params.span_margin) & body
    if not took.any():
        return took
    # and only behind the stroke as seen from the clear backdrop its brush reaches (the line
    # within a radius of it): farther from that backdrop than from the brush plus the line's
    # own distance (a flip on the stroke's backdrop side or round its ends, beside the clear,
    # is the cut's to decide)
    clear = held < GHOST_MIN / 255
    dc = cv2.distanceTransform((~clear).view(np.uint8), cv2.DIST_L2, 5)
    gap = float(np.median(dc[line]))
    if gap >= brush_radius:
        return np.zeros(gated.shape, bool)
    took &= dc >= dist + gap
    if not took.any():
        return took
    left = cur & ~gated
    spared: np.ndarray = _components_touching(took | left, left) & took
    return spared


def _span_profiles(lab: np.ndarray, st: Stroke, step: float = 2.0
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """The photo's Lab colours across a painted stroke: one row every ``step`` px along its
    centre line, one column per px of offset along the normal, -radius..radius."""
    pts = np.asarray(st.points, np.float64)
    seg = np.diff(pts, axis=0)
    ln = np.hypot(seg[:, 0], seg[:, 1])
    moving = ln > 1e-6
    seg, ln, p0 = seg[moving], ln[moving], pts[:-1][moving]
    if ln.size == 0:
        return None
    cum = np.r_[0.0, np.cumsum(ln)]
    s = np.arange(0.0, cum[-1] + 1e-9, step)
    i = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, ln.size - 1)
    u = seg[i] / ln[i, None]
    xy = p0[i] + u * (s - cum[i])[:, None]
    t = np.arange(-np.floor(st.radius), np.floor(st.radius) + 1)
    mx = (xy[:, 0, None] - t[None] * u[:, 1, None]).astype(np.float32)
    my = (xy[:, 1, None] + t[None] * u[:, 0, None]).astype(np.float32)
    # the photo round the brush only (remap reads a float copy)
    h, w = lab.shape[:2]
    x0 = min(max(0, int(np.floor(mx.min())) - 1), w - 1)
    y0 = min(max(0, int(np.floor(my.min())) - 1), h - 1)
    x1, y1 = max(x0 + 1, min(w, int(np.ceil(mx.max())) + 2)), max(y0 + 1, min(h, int(
        np.ceil(my.max())) + 2))
    prof = cv2.remap(lab[y0:y1, x0:x1].astype(np.float32), mx - x0, my - y0, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
    return t, prof


def _spans_whole(lab: np.ndarray, st: Stroke, params: Params) -> bool:
    """Whether a painted stroke's brush spans a part whole (a brush wider than the pencil or
    post it is painted along): along most of its centre line (span_share) the colour under the
    line is one colour (within span_tol of its median along the stroke), farther than span_tol
    from the colours under both flanks of the brush, and the two flanks are nearer each other
    than either is to it (the part stands in front of one thing on both sides). A brush inside
    a wide wrong region, as the painted protocol paints (0.8 x the region's depth), has the
    region's colours under its line and flanks alike, or a texture that is not one colour.
    A keep stroke spans a part too when its line's colour is unlike both flanks' along nearly
    all of it (``span_apart``): a keep r 8 along soft-dev GT25's pencil tip (yellow and black,
    a pale keypad on one side, a dark bag on the other) added the keypad and the bag behind it
    (qa41b, 21 899 px beyond the brush)."""
    if st.radius < params.span_radius or len(st.points) < 2:
        return False
    got = _span_profiles(lab, st)
    if got is None:
        return False
    t, prof = got
    centre = np.median(prof[:, np.abs(t) <= max(1.0, 0.2 * st.radius)], axis=1)
    flank = params.span_flank * st.radius
    plus = np.median(prof[:, t >= flank], axis=1)
    minus = np.median(prof[:, t <= -flank], axis=1)
    d_plus = np.linalg.norm(centre - plus, axis=1)
    d_minus = np.linalg.norm(centre - minus, axis=1)
    one = np.linalg.norm(centre - np.median(centre, axis=0), axis=1) <= params.span_tol
    apart = (d_plus > params.span_tol) & (d_minus > params.span_tol)
    spans = apart & one & (np.linalg.norm(plus - minus, axis=1) < np.minimum(d_plus, d_minus))
    if float(spans.mean()) >= params.span_share:
        return True
    # a keep stroke whose line is unlike both flanks nearly all along it is wider than the part
    # it is painted along, whatever the part's own stripes or the two sides' colours (qa41b:
    # a keep r 8 along GT25's striped pencil tip, a keyboard on one side, a dark bag on the other)
    # (a brush of keep_through_radius or less is _through_beyond's: at r 5.1 along the same
    # pencil this test cost 13 of its 1 045 px made better, SAD 13.10 -> 13.11)
    return bool(st.kind == "keep" and params.span_apart and st.radius > params.keep_through_radius
                and float(apart.mean()) >= params.span_apart)


def _extended(st: Stroke, by: float) -> Stroke:
    """The stroke run on ``by`` px past both ends along its end segments."""
    pts = np.asarray(st.points, np.float64)
    seg = np.diff(pts, axis=0)
    ln = np.hypot(seg[:, 0], seg[:, 1])
    moving = np.flatnonzero(ln > 1e-6)
    if moving.size == 0:
        return st
    a, z = moving[0], moving[-1]
    head = pts[0] - seg[a] / ln[a] * by
    tail = pts[-1] + seg[z] / ln[z] * by
    return replace(st, points=(tuple(head),) + st.points + (tuple(tail),))


def _span_limited(lab: np.ndarray, gated: np.ndarray, b: np.ndarray, dist: np.ndarray,
                  st: Stroke, origin: tuple[int, int], params: Params) -> np.ndarray:
    """What a painted stroke changes, without what lies beyond its brush when the brush spans
    a part whole (_spans_whole): beyond the brush the part goes on only past the stroke's
    ends. A remove stroke over a sign post took the bus panel behind it 104 px beyond the
    brush, a keep stroke along a pencil the keyboard behind it (qa39b W3, W1)."""
    if (not params.span_tol or len(st.points) < 2 or not (gated & ~b).any()
            or not _spans_whole(lab, st, params)):
        return gated
    y0, x0 = origin
    ends = rasterise([_extended(st, params.span_reach * st.radius)], b.shape,
                     origin=(x0, y0)) > 0
    kept = gated & (b | ends | (dist <= params.span_margin))
    return _components_touching(kept, b) & kept


# What each keep/remove stroke of the last list this process cut on an image did (its hard core
# and the pixels its step flipped), so the next preview -- the browser re-sends the whole list
# after every stroke -- costs one step, and so does the shorter list ``retouch`` cuts first for
# the newest stroke's hold. Each state is the one before it with those pixels flipped: a
# stroke's record is the few pixels it touched, not a plane. (Whole planes, 64 states at most,
# made every preview past the 64th stroke re-run all the later ones, twice: 600 strokes took
# minutes; docs/review.md, *Retouch preview benchmark*.)
_CACHE: dict[str, Any] = {}
_CACHE_BYTES = 64 << 20  # past this many bytes of records, a longer list's tail is not kept
_LOCK = threading.Lock()


def _key(rgb: np.ndarray, prior: np.ndarray,
         params: Params) -> tuple[tuple[int, ...], str, Params]:
    import hashlib

    hsh = hashlib.blake2b(digest_size=16)
    hsh.update(np.ascontiguousarray(rgb).data)
    hsh.update(np.ascontiguousarray(prior).data)
    return rgb.shape, hsh.hexdigest(), params


def _shared_key(key: tuple[tuple[int, ...], str, Params]) -> str:
    """``_key`` as the text a ``StepStore`` files records under, with the code that cut them
    (``code_stamp``): another version's records would replay another cut."""
    shape, digest, params = key
    return f"{code_stamp()}|{shape}|{digest}|{params!r}"


def segment(rgb: np.ndarray, prior: np.ndarray, strokes: list[Stroke],
            params: Params = DEFAULT, steps: StepStore | None = None, *,
            key: tuple[tuple[int, ...], str, Params] | None = None,
            subject: tuple[int, Stroke] | None = None,
            given_back: list[int] | None = None) -> np.ndarray:
    """Binary object mask (H, W) bool from rgb (uint8), prior (float32 [0, 1]) and the strokes,
    all at the same (working) resolution. The strokes apply one after the other, each changing
    only the region connected to itself; what each stroke of a prefix did is cached
    in-process, so the next preview (one more stroke) costs one step, and in ``steps`` (when
    given) for the other processes: the worker's Apply replays what the previews cut.
    ``key``: ``_key(rgb, prior, params)`` when the caller has it (one hash for its calls).

    ``subject``: a subject click and how many of ``strokes`` were drawn before it (``strokes``
    holds no subject click: ``retouch`` splits it off the list once, ``_with_subject``). It
    cuts nothing: the strokes after it are cut as without it, but the part of the state before
    them that it chooses (``subject.choose_subject``) is their main subject
    (``_chosen_label``), not the largest piece the click will clear. With no keep or remove
    stroke after it, it changes nothing.

    ``given_back``: a list the caller passes to learn what the last keep or remove stroke of
    ``strokes``, a click, gave back of what earlier painted strokes of the other kind flipped
    beyond their brushes (``_Order.gave_back``, px of this grid; 0: nothing, or not a click);
    one count is appended, cut or replayed alike. It changes nothing of the result."""
    prior_fg = prior >= 0.5
    active = [st for st in strokes if st.kind in ("keep", "remove")]
    if not active:
        if given_back is not None:
            given_back.append(0)
        return prior_fg.copy()
    # the subject click's place among the cut strokes (the first one it names the main subject
    # for) and the click, or None: a record of a list is the same list with the same click there
    chooser: tuple[int, Stroke] | None = None
    if subject is not None:
        at = sum(st.kind in ("keep", "remove") for st in strokes[:subject[0]])
        chooser = (at, subject[1]) if at < len(active) else None
    if key is None:
        key = _key(rgb, prior, params)
    # per stroke of the cached prefix: (its core's flat indices, the flat indices its step
    # flipped in the state before it), both sorted
    done: list[tuple[np.ndarray, np.ndarray]] = []
    lab = None
    with _LOCK:
        if _CACHE.get("key") == key:
            n = 0
            cached = _CACHE["strokes"]
            while n < min(len(cached), len(active)) and cached[n] == active[n]:
                n += 1
            if _CACHE.get("subject") != chooser:
                # the steps from either list's subject click on were cut for another main subject
                n = min(n, *(c[0] for c in (_CACHE.get("subject"), chooser) if c is not None))
            done = _CACHE["done"][:n]
            lab = _CACHE["lab"]
            # the list this process cut last plus one stroke (the next preview): another
            # process has cut that stroke only for a retried request, so no file is read
            newest_only = n == len(cached) == len(active) - 1
        else:
            newest_only = False
    h, w = prior.shape
    if lab is None:
        lab = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB)
    if steps is not None and len(done) < len(active) and not newest_only:
        shared = steps.load(_shared_key(key) + _subject_key(chooser), h * w)
        m = 0
        while shared is not None and m < min(len(shared[0]), len(active)) and (
                shared[0][m] == active[m]):
            m += 1
        if m > len(done):
            assert shared is not None
            done = shared[1][:m]
            with _LOCK:  # the whole shared list: this process's next calls (the Apply's held
                # list, then the whole one) replay it from memory
                _CACHE.clear()
                _CACHE.update(key=key, strokes=tuple(shared[0]), done=shared[1], lab=lab,
                              subject=chooser)
    cores = _core_strokes(active, params)
    # what the painted strokes flipped beyond their brushes, kept only when a keep or remove
    # click of the other kind follows one (_undone_beyond), found in one pass from the end
    later_clicks: set[str] = set()
    follows = False
    for a in reversed(active):
        if len(a.points) > 1 and later_clicks - {a.kind}:
            follows = True
            break
        if len(a.points) == 1 and a.kind in ("keep", "remove"):
            later_clicks.add(a.kind)
    order = _Order((h, w), params, params.click_undoes_beyond and follows)
    state = prior_fg.copy()
    flat = state.reshape(-1)
    replay = len(done)
    chosen: np.ndarray | None = None
    for i, st in enumerate(active):
        if chooser is not None and i == chooser[0] and len(active) > replay:
            # the strokes from here on follow the subject click, and one of them is cut, not
            # replayed: the part it chooses of the state before them is their main subject
            choice = choose_subject(state.view(np.uint8) * np.uint8(255), chooser[1])
            chosen = state & ~choice.cleared if choice.found else None
        if i < replay:
            # replayed: the same core and the same step as when it was cut
            core_idx, flipped = done[i]
            box = order.place(st, core_idx)
            flat[flipped] ^= True
            if given_back is not None and i == len(active) - 1:
                given_back.append(order.gave_back(st, flipped))
            order.after(st, flipped, box)
            continue
        ghost = _ghost_pockets(prior, state, st)
        spared = _graze_spared(lab, state, st, params)
        keeps = order.keeps()  # the earlier keep strokes' brushes, for its core and its step
        core = _stroke_core(lab, st, cores[i], params, state,
                            None if ghost is None else ghost[0], spared, keeps)
        core_idx = np.flatnonzero(core)
        box = order.place(st, core_idx)
        new = _step(rgb, lab, prior, prior_fg, state, order.cores, keeps, st, core, params,
                    ghost, spared, chosen)
        # a click on what an earlier painted stroke of the other kind flipped beyond its
        # brush flips that back (_undone_beyond)
        back = order.given_back(st, state)
        if back is not None:
            new = new | back if st.kind == "keep" else new & ~back
        done.append((core_idx, np.flatnonzero(new != state)))
        if given_back is not None and i == len(active) - 1:
            given_back.append(order.gave_back(st, done[-1][1]))
        order.after(st, done[-1][1], box)
        state = new
    if replay == len(active):
        return state  # a prefix of the cached list (the held list, an undo): the cache stays
    kept, size = 0, 0
    for core_idx, flipped in done:
        size += core_idx.nbytes + flipped.nbytes
        if size > _CACHE_BYTES:
            break
        kept += 1
    with _LOCK:
        _CACHE.clear()
        _CACHE.update(key=key, strokes=tuple(active[:kept]), done=done[:kept], lab=lab,
                      subject=chooser)
    if steps is not None:
        steps.save(_shared_key(key) + _subject_key(chooser), active[:kept], done[:kept], h * w)
    return state


def _subject_key(chooser: tuple[int, Stroke] | None) -> str:
    """What ``segment`` adds to a list's shared key for its subject click (its place among the
    cut strokes and the click; "" for none): the steps after it are another list's."""
    if chooser is None:
        return ""
    at, st = chooser
    return f"|subject {at} {st.radius!r} {st.points!r}"

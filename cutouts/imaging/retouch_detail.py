"""The detail brush: its band matted window by window, the matte's guards, the hold to the preview.

The detail brush hands its band to ``matting.solve_alpha`` (trimap from the segmentation
outside the band) and ``matting.estimate_foreground``, in windows around the band; a solid
part the matte turns into a wide, smooth slab of half alpha fades only a little per stroke, a
thin solid part the brush covers side to side is known foreground to the solve (a textured one
as wide as a wide brush too, where the matte alone fades it; so is the solid inside earlier
strokes left, to a joined re-solve), and beside a crisp edge of the cutout the solve's unknown
band narrows to the edge.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import cv2
import numpy as np

from .colour import local_colour
from .retouch_tiles import TILE, _upsample
from .strokes import DETAIL, Stroke, rasterise

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
# TRANSLUCENT - TRANSLUCENT_RAMP): a cutout held near the threshold (a wrong-subject
# yarn at 60-66/255) flipped the guard row by row and cut boxes out of it (QA)
TRANSLUCENT_RAMP = 32
# the same floor (see _far_fringe) for a pixel the alpha so far itself holds translucent (graded
# as above) more than FRINGE_FAR px from every pixel the cutout holds solid (SOLID_HELD): a wide
# soft fringe whose solve has no known foreground near it. Soft-dev: the bunny's fur fringe
# (GT15) lies 40-120 px from its solid body, the haze beside hair 4-12
FRINGE_FAR = 32.0
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
# the detail brush's look-alike guard (see _keep_alike): where the known foreground's and
# backdrop's colours around a piece are less than ALIKE_CONTRAST apart (Lab medians, as
# _lift_slab takes them), a pixel the alpha so far holds solid (SOLID_HELD or more) keeps it
# unless it lies within ALIKE_RADIUS px (a mesh hole's scale) of a hole the matte opens: held
# pixels solved under ALIKE_FLOOR (0..255), enclosed by held pixels, coloured nearer the
# backdrop's colour than half the contrast. The photo barely tells the solid part from the
# backdrop there, so the matte's fade is a guess; an edge it moves is one too. Soft-dev: hair the
# model filled solid, which the matte rightly thins, stands 40-70 Lab from its backdrop, the
# wire-mesh cup (GT25) 12-20
ALIKE_CONTRAST = 25.0
ALIKE_RADIUS = 3
ALIKE_FLOOR = 96
# the detail brush's halo guard (see _hold_halo), the look-alike guard's mirror: where the known
# sides around a piece are less than ALIKE_CONTRAST apart and more than HALO_SHARE of the alpha
# the solve adds to pixels the alpha so far holds clear (LIFT_CLEAR or less) lies more than
# HALO_EDGE px from every pixel it holds above that, those pixels keep their alpha. Soft-dev: the
# wire-mesh cup's sides under 16-40 px strokes 0.68-0.93, its rim 0.26-0.35; the protocol's four
# low-contrast pieces that lift anything 0.31-0.61
HALO_EDGE = 1.5
HALO_SHARE = 0.6
# the detail brush's backdrop guard (see _hold_backdrop): a pixel the alpha so far holds clear
# (LIFT_CLEAR or less) rises no higher than its colour explains where the solve lifts it
# smoothly (the matte's fine structure, |matte - Gaussian(1.5 px)| averaged over 5 x 5, under
# BACKDROP_SMOOTH) and its photo colour lies within BACKDROP_SPREAD of the local backdrop's
# colour spread (at least BACKDROP_NOISE Lab) from the local backdrop's colour: the pixels held
# within LIFT_KNOWN of 0 outside the piece, in BACKDROP_CONTEXT px around it, averaged over a
# Gaussian of BACKDROP_SIGMA px (Lab), where their weight is above BACKDROP_WEIGHT; both graded
BACKDROP_SMOOTH = 8.0
BACKDROP_SPREAD = 2.0
BACKDROP_NOISE = 2.0
BACKDROP_SIGMA = 12.0
BACKDROP_CONTEXT = 20
BACKDROP_WEIGHT = 0.02
# and (see _seen_in_backdrop) such a pixel keeps its alpha where the known backdrop beside it
# shows it as it is: the RMS colour distance (Lab) of its SEEN_PATCH x SEEN_PATCH neighbourhood
# to the nearest neighbourhood wholly of known backdrop centred within SEEN_REACH px is at most
# the SEEN_SHARE quantile of the same distance among the known backdrop's own neighbourhoods
# (SEEN_SAMPLES of them, matched at least SEEN_PATCH px apart: the backdrop's own noise and
# texture) and at most SEEN_MAX
SEEN_PATCH = 3
SEEN_REACH = 16
SEEN_SHARE = 0.75
SEEN_SAMPLES = 256
SEEN_MAX = 3.0
# its search's bounds (speed only, see _seen_in_backdrop): the offsets first measured, the
# rounding allowed the neighbourhoods' means, the pixels searched at once
SEEN_FIRST = 4
SEEN_SLACK = 0.01
SEEN_BLOCK = 256
# the detail brush's hole guard (see _keep_holes): a hole the alpha so far holds see-through
# (a connected part of it under 128 with HOLE_CORE px or more at SOLID_CLEAR or less, enclosed
# by what it holds at 128 or more within HOLE_CONTEXT px of the piece) no wider than HOLE_SHARE
# of the brush's radius (its area at most that of a disc of that radius): its pixels at
# LIFT_CLEAR or less rise no higher than LIFT_CLEAR (it may go faint, not fill)
HOLE_CONTEXT = 16
HOLE_SHARE = 0.5
HOLE_CORE = 9
# the detail brush's solid-part rule (see _solid_part): a band pixel the cutout holds at
# SOLID_HELD or more is known foreground to the solve where its colour lies at least
# SOLID_SHARE of the way from the nearest pixel the cutout holds clear (SOLID_CLEAR or less,
# at most SOLID_REACH px away) to the part's own colour (its held pixels averaged over a
# Gaussian of SOLID_SIGMA px), the two at least SOLID_CONTRAST apart (Lab), and all but
# SOLID_SLACK of its connected part's inside (more than SOLID_INSET px from its outline) does
# too: a thin solid part with a clear edge, unlike the backdrop on both sides
SOLID_HELD = 250
SOLID_CLEAR = 16
SOLID_CONTRAST = 15.0
SOLID_SLACK = 0.05
SOLID_SIGMA = 3.0
SOLID_SHARE = 0.75
SOLID_REACH = 8.0
SOLID_INSET = 2.0
# and (see _thin_solid) a thin part of what the cutout holds solid (SOLID_HELD) a wide brush
# covers: pixels with clear on both sides, the two at most 2 * THIN_WIDTH times the piece's own
# half-width (its largest inscribed radius, the brush's radius) apart, in a part whose edge is
# the cut's own (clear begins within THIN_FRINGE px of its solid outline, median) with at
# least THIN_AREA times that half-width squared of inside (more than SOLID_INSET px from its
# outline) passing, and all but SOLID_SLACK of that inside lying at least THIN_SHARE of the way
# from the backdrop beside it to its own colour (SOLID_CONTRAST apart, as _solid_part
# measures): its pixels that pass, more than THIN_INSET px inside its outline, are known
# foreground. A textured part (a stalk's grain, plush) as wide as the brush, not fur. Known
# only where the matte alone fades it (_solve_piece: those pixels' mean alpha in the plain
# solve under THIN_FADED, per connected part); where it keeps them, known foreground only moved
# the matte around them (thin44b)
THIN_WIDTH = 1.25
THIN_SHARE = 0.5
THIN_FRINGE = 3.0
THIN_AREA = 0.5
THIN_INSET = 3.0
THIN_FADED = 0.9
# the detail brush's crisp-edge rule (see _crisp_edge): a band pixel the cutout holds solid
# (SOLID_HELD or more) or clear (SOLID_CLEAR or less), more than EDGE_HALF and at most EDGE_REACH
# px from the cutout's edge, is known to the solve on its held side where that edge is a crisp
# step in the photo and the pixel's colour lies within EDGE_SHARE of the step from its side's.
# A crisp step: the two sides' colours (held pixels beyond EDGE_HALF px, averaged over a
# Gaussian of EDGE_SIGMA px, Lab) at least EDGE_CONTRAST apart, at least EDGE_STEP of that step
# taken between two neighbouring pixels within 2 px, each side's texture (its colours' standard
# deviation over the same Gaussian) under EDGE_FLAT of the step; on at least half of the edge
# within EDGE_SIGMA px
EDGE_CONTRAST = 25.0
EDGE_STEP = 0.5
EDGE_FLAT = 0.15
EDGE_HALF = 1.0
EDGE_REACH = 8.0
EDGE_SIGMA = 3.0
EDGE_SHARE = 0.1
# the detail brush's colour floor (see _hold_colour): a pixel falls no lower than its colour
# explains (the most of its alpha so far): 0 at COLOUR_SHARE[0] of the way from the backdrop
# beside it (its nearest clear pixel's colour, less BACKDROP_SPREAD times the backdrop's spread
# there) to the product's colour (the mean of the farthest COLOUR_TOP of the held-solid pixels
# from the backdrop, within COLOUR_CONTEXT px of the piece), 255 at COLOUR_SHARE[1]; where the
# two stand at least SOLID_CONTRAST apart
COLOUR_SHARE = (0.25, 0.75)
COLOUR_TOP = 0.2
COLOUR_CONTEXT = 32
# how far (px) beyond a band piece's box each guard of a stroke's step reads the photo or the
# alpha before any detail solve (see _around); _step_key hashes as far as the farthest reads
# (_step_reads), so a guard that reads farther must say so here or a preview reuses a stale step
BESIDE_CONTEXT = 16  # _beside_translucent: the known ring it looks for translucent pixels in
FRINGE_CONTEXT = int(np.ceil(FRINGE_FAR)) + 1  # _far_fringe: solid pixels within FRINGE_FAR
ALIKE_CONTEXT = 1  # _keep_alike: the held pixels enclosing a hole the matte opens
HALO_CONTEXT = int(np.ceil(HALO_EDGE)) + 1  # _hold_halo: held pixels within HALO_EDGE
GUARD_CONTEXTS = (BESIDE_CONTEXT, FRINGE_CONTEXT, ALIKE_CONTEXT, LIFT_CONTEXT, HALO_CONTEXT,
                  BACKDROP_CONTEXT, COLOUR_CONTEXT, HOLE_CONTEXT)
# the joined re-solve's known core (see _held_core): earlier strokes' pixels more than
# CORE_DEPTH px inside what the cutout and the alpha so far both hold solid (SOLID_HELD)
CORE_DEPTH = 8.0
# rounds of holding a full-size detail solve to the preview's at the preview's grid (see
# _match_shown): 1 leaves ~3/255 mean difference where the stroke changed something, 3 ~1/255
MATCH_ROUNDS = 3
# a detail stroke's write fades in over FEATHER brush radii inside its outline (see _detail):
# the solve's known side is the cutout binarised at 128, so where the cutout outside the
# brush is fractional the solve is offset from it and a hard write showed the brush's outline
FEATHER = 0.25

# ((y0, y1, x0, x1), estimated foreground colours, detail band) of one detail window.
DetailColours = tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]

_LOCK = threading.Lock()  # guards _PIECES and _STEPS: several threads may solve at once
# detail pieces solved (see _solve_piece), least recently used first
_PIECES: OrderedDict[tuple[Any, bytes], np.ndarray] = OrderedDict()
_PIECES_MAX = 256
# detail steps done (see _step_key): the values one stroke's step wrote to its piece before the
# feather, by the step's inputs, least recently used first (guarded by _LOCK too)
_STEPS: OrderedDict[tuple[Any, bytes], np.ndarray] = OrderedDict()
# at most this many bytes of values in _STEPS: an Apply's pieces are full-size
_STEPS_BYTES = 64 << 20


def _detail(rgb: np.ndarray, out: np.ndarray, strokes: list[Stroke], *,
            deadband: int = 8, reach: float = DETAIL_REACH, shown: np.ndarray | None = None,
            colours: bool = True,
            solve: Callable[[tuple[int, int, int, int], np.ndarray], bool] | None = None
            ) -> list[DetailColours]:
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
    its alpha (``_fade_only``): the matte followed that false background and cut translucent fur;
    so does one the cutout itself holds translucent with nothing it holds solid within
    FRINGE_FAR px (``_far_fringe``: a wide fur fringe, the solve's known side all background).
    Where the photo barely tells the product from the backdrop, a clear pixel the solve lifts as
    part of a halo spread over the backdrop keeps its alpha (``_hold_halo``); elsewhere a smooth
    lift on a clear pixel that looks like the backdrop beside it rises only as far as its colour
    explains (``_hold_backdrop``). Earlier strokes' pixels of the joined piece that stayed
    solid are known foreground to its re-solve where the photo calls them the part's own colour
    (``_held_core``): two strokes along both sides of a thin solid part no longer leave it
    without a known inside. A wide backdrop-coloured floor the joined re-solve lifts over pixels
    the alpha so far holds clear goes no higher than the stroke's own solve would take it
    (``_hold_join``): joined, the band lost the known backdrop each stroke alone had beyond its
    end. The mirror of ``_held_core``: earlier strokes' pixels deep inside what stayed clear are
    known background where the photo calls them the backdrop (``_clear_core``). A pixel goes no
    lower than its colour explains (``_hold_colour``): thin wires of a mesh the cutout holds
    solid keep their alpha under a wide stroke. A lifted clear pixel whose neighbourhood the known
    backdrop beside it shows as it is keeps its alpha (``_seen_in_backdrop``). A small
    see-through hole the alpha so far holds open inside what it holds solid (a mesh's) may go
    faint, not fill (``_keep_holes``).

    ``shown``: the preview's result of the same strokes on the working grid (``retouch``'s
    reduced arrays); the solved band is then held to it at that grid (``_match_shown``).
    ``colours=False`` skips the foreground colours (returns []). ``solve(window, band)``: False
    for a window whose solve the caller throws away (``retouch``'s hold beyond a later detail
    stroke's reach, ``retouch._solved_near``): its band keeps the alpha so far and has no
    colours, but is still held to ``shown`` with the rest (the same pixels elsewhere)."""
    from . import matting  # the one matting implementation (owned by the matting module)

    h, w = out.shape
    detail = [st for st in strokes if st.kind == "detail"]
    windows: list[tuple[tuple[int, int, int, int], np.ndarray]] = []
    solved_windows: list[tuple[tuple[int, int, int, int], np.ndarray]] = []
    # the known side of every crop from the alpha before any detail solve (a crop may reach
    # past its window)
    before = out.copy()
    for (y0, y1, x0, x1), band in _detail_bands(strokes, h, w):
        windows.append(((y0, y1, x0, x1), band))
        if solve is not None and not solve((y0, y1, x0, x1), band):
            continue
        solved_windows.append(((y0, y1, x0, x1), band))
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
                at = (y0 + by, x0 + bx)
                write = mine & near
                # the reference is the alpha so far (earlier strokes' solves included): an
                # earlier stroke's pixel the re-solve barely moves keeps its value, not the
                # value from before any detail solve
                old = solved[by:by + bh, bx:bx + bw][write]
                ramp = np.clip(inside[by:by + bh, bx:bx + bw][write]
                               / max(FEATHER * st.radius, 1.0), 0.0, 1.0)
                # an earlier stroke's step of a preview re-sending the list: the same inputs as
                # in the previous preview, so the same values (see _step_key)
                skey = _step_key(rgb, before, solved[by:by + bh, bx:bx + bw], mine,
                                 brush[by:by + bh, bx:bx + bw], at, deadband, reach, matting)
                with _LOCK:
                    new = _STEPS.get(skey)
                    if new is not None:
                        _STEPS.move_to_end(skey)
                if new is None:
                    new = _step(rgb, before, solved[by:by + bh, bx:bx + bw], mine,
                                brush[by:by + bh, bx:bx + bw], write, old, at, deadband,
                                matting)
                    with _LOCK:
                        _STEPS[skey] = new
                        new.flags.writeable = False  # shared by later previews
                        while len(_STEPS) > _PIECES_MAX or (
                                len(_STEPS) > 1
                                and sum(v.nbytes for v in _STEPS.values()) > _STEPS_BYTES):
                            _STEPS.popitem(last=False)
                # the feather is the band's (a later stroke's brush moves it): applied after
                new = np.clip(old + ramp * (new.astype(np.float32) - old) + 0.5, 0,
                              255).astype(np.uint8)
                solved[box[0]:box[1], box[2]:box[3]][write] = new
        cur[band] = solved[band]
    if shown is not None:
        _match_shown(out, shown, windows)
    if not colours:
        return []
    return _detail_colours(rgb, out, solved_windows)


def _detail_bands(strokes: list[Stroke], h: int, w: int
                  ) -> Iterator[tuple[tuple[int, int, int, int], np.ndarray]]:
    """The windows ``_detail`` solves (``_detail_windows``) that hold some of the detail band
    (later strokes win), each with its band: ((y0, y1, x0, x1), band mask of the window)."""
    detail = [st for st in strokes if st.kind == "detail"]
    for y0, y1, x0, x1 in _detail_windows(detail, h, w):
        band = rasterise(strokes, (y1 - y0, x1 - x0), origin=(x0, y0)) == DETAIL
        if band.any():
            yield (y0, y1, x0, x1), band


def _detail_colours(rgb: np.ndarray, out: np.ndarray,
                    windows: Iterable[tuple[tuple[int, int, int, int], np.ndarray]]
                    ) -> list[DetailColours]:
    """The estimated foreground colours of the detail band's windows (``_detail_bands``) for
    the solved alpha ``out``: ``_detail``'s return value, for an alpha solved before (an
    Apply replaying the preview's solve, ``retouch``)."""
    from . import matting

    out_colours: list[DetailColours] = []
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


def _match_carry(s: float, rounds: int = MATCH_ROUNDS) -> float:
    """How far (full px) ``_match_shown`` at scale ``s`` (preview / full) carries an alpha: a
    pixel's round reads the preview pixels within one of its own (bilinear), each the mean of
    the full-size pixels it covers (1 / s across), so within 1.5 / s + 1 px along each axis;
    twice that a round, which also covers the diagonal and the rounding of the preview's size."""
    return 2.0 * rounds * (2.0 / s + 2.0)


def _beside_translucent(before: np.ndarray, mine: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    """For each pixel of a band piece (``mine``, a mask of its box with top-left corner ``at``
    in the image), how much (0..1, float32) the known pixel nearest to it is one the solve's
    binarised trimap calls background although the cutout holds it translucent: 1 at
    TRANSLUCENT..127, falling linearly to 0 at TRANSLUCENT - TRANSLUCENT_RAMP and below, 0 at
    128 and up.

    Graded, not a threshold: the nearest known pixel is one pixel of the ring around the
    brush (for a vertical stroke, the ring pixel in the same row), so with a cutout held near
    TRANSLUCENT the on/off rule flipped from row to row and from one half of the brush to the
    other and cut straight-edged boxes out of it (QA, a soft-alpha photo: 1 147 px held at ~63/255
    went under 8 in boxes 5-20 px tall)."""
    (top, left), (bh, bw) = at, mine.shape
    y0, y1, x0, x1 = _around(at, mine.shape, before.shape, BESIDE_CONTEXT)
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


def _far_fringe(old: np.ndarray, mine: np.ndarray, before: np.ndarray,
                at: tuple[int, int]) -> np.ndarray:
    """The share (0..1, at ``mine``'s pixels, a mask of its box with top-left corner ``at`` in
    the image) of a drop below the alpha so far ``old`` that _fade_only takes back because the
    pixel lies in a wide translucent fringe: ``old`` at TRANSLUCENT or more (graded over
    TRANSLUCENT_RAMP below, blurred 2 px within the piece as _beside_translucent's is; 0 from 128
    on) and no pixel the cutout (``before``) holds solid (SOLID_HELD) within FRINGE_FAR px.

    QA (soft-dev GT15, ``soft`` cutout, 2026-12-05): a detail stroke of radius 12-27 along the
    bunny's right fur edge trimmed the fur the cutout held at 30-120 to ~0 (84 -> 20, 70 -> 6,
    86 -> 13 where the truth is 193, 166, 130; SAD +0.105 / +0.255 at r 12 / 20). The cutout
    holds the whole fringe translucent, 40+ px wide, so the solve's known side (binarised at
    128) is background all round the brush and its nearest solid foreground is beyond the
    crop's reach; the fur has the backdrop's colour (its colour share 0.1-0.3 of the way to the
    body's, as the grey smear of backdrop beside it), so the matte cuts it (the raw solve: 0-2
    over the fur). _beside_translucent only looks at the known
    pixel nearest each band pixel, and at the fringe's outer side that is its faint tips or the
    backdrop. The photo cannot tell fur from haze there, and a detail stroke must not cut fur:
    such a pixel keeps its alpha (a stroke still raises it). Haze beside hair lies within a few
    px of the solid hair and is left to the matte (a floor for every pixel held translucent,
    whatever the distance, cost soft-dev SAD@10 39.611 -> 39.635; 16 px 39.607 with GT03 and
    GT09 worse; docs/review.md § Detail benchmark, *Fur fringe far from the body*)."""
    lo = TRANSLUCENT - TRANSLUCENT_RAMP
    own = np.zeros(mine.shape, np.float32)
    own[mine] = np.where(old < 128, np.clip((old.astype(np.float32) - lo)
                                            / max(TRANSLUCENT_RAMP, 1), 0, 1), 0)
    if not own.any():
        return np.zeros(int(mine.sum()), np.float32)
    (top, left), (bh, bw) = at, mine.shape
    y0, y1, x0, x1 = _around(at, mine.shape, before.shape, FRINGE_CONTEXT)
    solid = before[y0:y1, x0:x1] >= SOLID_HELD
    dist = cv2.distanceTransform((~solid).view(np.uint8), cv2.DIST_L2, 5)
    far = dist[top - y0:top - y0 + bh, left - x0:left - x0 + bw][mine] > FRINGE_FAR
    num = cv2.GaussianBlur(own, (0, 0), 2.0)
    den = cv2.GaussianBlur(mine.astype(np.float32), (0, 0), 2.0)
    weight: np.ndarray = (num[mine] / np.maximum(den[mine], 1e-6) * far).astype(np.float32)
    return weight


def _fade_only(new: np.ndarray, old: np.ndarray, beside: np.ndarray) -> np.ndarray:
    """A solved piece's alpha ``new`` goes at most FADE_MAX below the alpha so far ``old`` where
    that is fractional and the nearest known pixel is translucent (``beside``, 0..1: the
    share of the drop below that floor the guard takes back).

    The solve's known side is the cutout binarised at 128, so translucent fur around the brush
    counts as background; where the fur's colour is close to the backdrop's, the matte follows
    that side and cut the fur to 0 (a fur flank at 77/255, truth 158, went to 34
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

    A detail stroke along the solid rim of a wire-mesh cup turned the rim about
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
    # solid comes out of the matte as strands and gaps (soft-alpha set: 6.6 and up; a mesh
    # cup's rim 3.9)
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


# a band piece's _known_colours, computed on the first call (by _keep_alike, _lift_slab or
# _hold_halo, whichever gets that far first) and kept for the others
KnownColours = Callable[[], "tuple[np.ndarray, np.ndarray, np.ndarray] | None"]

# ``lab_at(y0, y1, x0, x1)``: the photo in Lab over that box of the image, within LAB_CONTEXT px
# of a band piece (_lab_around)
LabCrop = Callable[[int, int, int, int], np.ndarray]
# _known_colours, _hold_join; _hold_backdrop; _hold_colour
LAB_CONTEXT = max(LIFT_CONTEXT, BACKDROP_CONTEXT, COLOUR_CONTEXT)
# ``lab()``: the photo in Lab over the crop a piece is solved in (_solve_box), converted on the
# first call: what _crisp_edge, _solid_part and _backdrop_look read to set the solve's trimap
LabOf = Callable[[], np.ndarray]


def _lab_around(rgb: np.ndarray, at: tuple[int, int], shape: tuple[int, ...],
                matting: Any = None) -> LabCrop:
    """The photo ``rgb`` in Lab (float32, from RGB scaled to 0..1) around a band piece (top-left
    corner ``at``, ``shape``), for the guards of one stroke's step: converted once, on the first
    read, over the piece's box grown by LAB_CONTEXT (and, given ``matting``, over the crop
    ``_solve_piece`` solves it in: its trimap's colour rules read it too), and sliced for each
    guard's box. A step's guards read overlapping boxes, and each converted its own (three
    conversions of nearly the same pixels, and three more of the solve's crop); the conversion
    is per pixel, so a slice is the box's own conversion, bit for bit
    (tests/imaging/test_retouch_detail.py)."""
    y0, y1, x0, x1 = _around(at, shape, rgb.shape, LAB_CONTEXT)
    if matting is not None:
        sy0, sy1, sx0, sx1 = _solve_box(at, shape, rgb.shape, matting)
        y0, y1, x0, x1 = min(y0, sy0), max(y1, sy1), min(x0, sx0), max(x1, sx1)
    got: list[np.ndarray] = []

    def crop(b0: int, b1: int, c0: int, c1: int) -> np.ndarray:
        # a guard reading farther than LAB_CONTEXT needs it raised (and _step_reads to cover it)
        assert y0 <= b0 <= b1 <= y1 and x0 <= c0 <= c1 <= x1, (b0, b1, c0, c1)
        if not got:
            whole = cv2.cvtColor(rgb[y0:y1, x0:x1].astype(np.float32) * np.float32(1 / 255),
                                 cv2.COLOR_RGB2Lab)
            whole.flags.writeable = False  # shared by the guards
            got.append(whole)
        return got[0][b0 - y0:b1 - y0, c0 - x0:c1 - x0]

    return crop


def _known_colours(lab_at: LabCrop, before: np.ndarray, mine: np.ndarray, at: tuple[int, int]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The known foreground's and backdrop's colours around a band piece (``mine``, a mask of
    its box with top-left corner ``at`` in the image), as the solve's crop sees them: medians
    (Lab) of the pixels ``before`` (the alpha before any detail solve) holds within LIFT_KNOWN
    of 255 / 0 in the LIFT_CONTEXT px around the piece; with the Lab image of the piece's box.
    None when either side has no such pixel."""
    (top, left), (bh, bw) = at, mine.shape
    y0, y1, x0, x1 = _around(at, mine.shape, before.shape, LIFT_CONTEXT)
    piece = np.zeros((y1 - y0, x1 - x0), bool)
    piece[top - y0:top - y0 + bh, left - x0:left - x0 + bw] = mine
    known = before[y0:y1, x0:x1]
    fg, bg = ~piece & (known >= 255 - LIFT_KNOWN), ~piece & (known <= LIFT_KNOWN)
    if not fg.any() or not bg.any():
        return None
    lab = lab_at(y0, y1, x0, x1)
    f_col, b_col = np.median(lab[fg], axis=0), np.median(lab[bg], axis=0)
    return f_col, b_col, lab[top - y0:top - y0 + bh, left - x0:left - x0 + bw]


def _keep_alike(new: np.ndarray, old: np.ndarray, mine: np.ndarray, known: KnownColours,
                before: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    """A solved piece's alpha ``new`` (at ``mine``'s pixels, a mask of its box with top-left
    corner ``at`` in the image): where the known foreground's and backdrop's colours around
    the piece (``known()``, its ``_known_colours``) are less than ALIKE_CONTRAST apart, a
    pixel the alpha so far ``old`` holds solid (SOLID_HELD or more) keeps ``old`` unless it
    lies within ALIKE_RADIUS px of a hole the matte opens (held pixels solved under ALIKE_FLOOR,
    enclosed by held pixels (outside the piece: ``before``), their mean colour nearer the
    backdrop's than half the contrast: a dark pit is a solid part the matte read as backdrop).

    QA (soft-dev GT25, 2026-12-04): detail strokes across the wire-mesh cup made the solid parts
    seen through and among the mesh translucent (the protocol's r 20 stroke down the cup's left
    side: 2 078 solid-in-truth pixels lowered, 1 179 to 200/255 or less, SAD +0.48). The cup's
    colours there (the mesh, the far wall through its holes) lie within 5-16 Lab of the grey
    backdrop's, so the matte had nothing to go on and faded the whole stretch to 130-240/255,
    the mesh's pattern on top: too structured for _keep_slab (fine structure 15.5; it needs a
    smooth slab), and neither the colour (the holes are as near the backdrop's colour as to the
    cup's) nor the matte's floor alone tells it from hair the model filled solid (soft-dev
    GT03, GT07, GT09: the matte rightly thins it, and keeping it cost several SAD). What does is
    the contrast: there the hair stands 40-70 Lab from the backdrop, the cup 12-20. Where the
    photo barely tells the two apart, a fade of a solid part is the matte's guess, and a stroke
    must not make the cutout worse; a mesh hole the matte opens still opens, and the pixels
    beside it are the matte's. The price: holes the matte only half opens stay held too."""
    full_old = np.zeros(mine.shape, np.uint8)
    full_old[mine] = old
    cand = mine & (full_old >= SOLID_HELD)
    if not cand.any() or not (new[old >= SOLID_HELD] < old[old >= SOLID_HELD]).any():
        return new
    got = known()
    if got is None:
        return new
    f_col, b_col, lab_box = got
    contrast = float(np.linalg.norm(f_col - b_col))
    if contrast >= ALIKE_CONTRAST:
        return new
    (top, left), (bh, bw) = at, mine.shape
    y0, y1, x0, x1 = _around(at, mine.shape, before.shape, ALIKE_CONTEXT)
    held = before[y0:y1, x0:x1] >= SOLID_HELD
    sy, sx = top - y0, left - x0
    held[sy:sy + bh, sx:sx + bw][mine] = old >= SOLID_HELD
    full_new = np.full(held.shape, 255, np.uint8)
    full_new[sy:sy + bh, sx:sx + bw][mine] = new
    low = (held & (full_new < ALIKE_FLOOR)).view(np.uint8)
    n, lbl = cv2.connectedComponents(low, connectivity=8)
    if n > 1:
        # holes: low pieces enclosed by the held region (not touching what is not held)
        edge = cv2.dilate((~held).view(np.uint8), np.ones((3, 3), np.uint8)) > 0
        touch = np.zeros(n, bool)
        touch[lbl[edge & (low > 0)]] = True
        # and whose colour is the backdrop's (nearer it than half the contrast): a pit of
        # another colour is a solid part the matte read as backdrop
        dist = np.zeros(held.shape, np.float32)
        dist[sy:sy + bh, sx:sx + bw] = np.linalg.norm(lab_box - b_col, axis=2)
        cnt = np.bincount(lbl.ravel(), minlength=n)
        mean = np.bincount(lbl.ravel(), weights=dist.ravel(), minlength=n) / np.maximum(cnt, 1)
        hole = (lbl > 0) & ~touch[lbl] & (mean[lbl] < 0.5 * max(contrast, 1.0))
        k = 2 * ALIKE_RADIUS + 1
        near = cv2.dilate(hole.view(np.uint8),
                          cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    else:
        near = np.zeros(held.shape, bool)
    keep = (cand & ~near[sy:sy + bh, sx:sx + bw])[mine]
    out: np.ndarray = np.where(keep, np.maximum(new, old), new).astype(np.uint8)
    return out


def _hold_halo(new: np.ndarray, old: np.ndarray, mine: np.ndarray, write: np.ndarray,
               sofar: np.ndarray, known: KnownColours, before: np.ndarray,
               at: tuple[int, int]) -> np.ndarray:
    """The values to write (at ``write``'s pixels, a mask of the box of the piece ``mine`` with
    top-left corner ``at`` in the image), against the alpha so far ``old`` there (``sofar``:
    the alpha so far over the whole box): where the known foreground's and backdrop's colours
    around the piece (``known()``, its ``_known_colours``) are less than ALIKE_CONTRAST apart
    and more than HALO_SHARE of what the solve adds to pixels held clear (LIFT_CLEAR or less)
    lies more than HALO_EDGE px from every pixel held above that (the alpha so far inside the
    box, ``before`` around it), the clear pixels keep their alpha.

    QA H2 (soft-dev GT25, 2026-12-05): detail strokes of radius 16-40 along the wire-mesh cup's
    outline laid a grey halo on the backdrop beside it (r 30 / 40: +0.03 to +0.92 SAD, alpha
    25-90/255 on pixels the cutout and the truth hold clear, 3-50 px out). The cup stands 9-25
    Lab from its backdrop, and the cutout's solid cup, the solve's known foreground, shows that
    backdrop through its holes (up to 20 % of it is under 128 in truth), so the matte explains
    the backdrop's paler things (a grey bar, a box, highlights) as part foreground wherever
    the brush leaves them unknown. _lift_slab's colour test cannot tell there (their colour
    lies past the cup's on the backdrop-to-cup line) and _keep_alike only holds solid pixels.
    Where the matte lifts the edge itself (strands just beyond it: soft-dev GT07, GT19, most
    of the lift within 1.5 px of the held pixels) the lift is left to the matte; a halo is
    mostly off the edge. The whole clear part is held, not only the far pixels: the halo runs up
    to the edge, and holding only what lies more than 3 px off it left 13 of 16 GT25 strokes
    still raising SAD. The price: strands a low-contrast cutout cut more than HALO_EDGE px off
    its edge are held too. Measured: docs/review.md § Detail benchmark, *Halo beside a mesh*."""
    if not (new > old).any():
        return new
    got = known()
    if got is None or float(np.linalg.norm(got[0] - got[1])) >= ALIKE_CONTRAST:
        return new
    clear = old <= LIFT_CLEAR
    rise = np.where(clear, np.maximum(new.astype(np.int32) - old, 0), 0)
    total = float(rise.sum())
    if total <= 0:
        return new
    (top, left), (bh, bw) = at, mine.shape
    y0, y1, x0, x1 = _around(at, mine.shape, before.shape, HALO_CONTEXT)
    held = before[y0:y1, x0:x1].copy()
    held[top - y0:top - y0 + bh, left - x0:left - x0 + bw] = sofar
    dist = cv2.distanceTransform((held <= LIFT_CLEAR).view(np.uint8), cv2.DIST_L2, 5)
    far = dist[top - y0:top - y0 + bh, left - x0:left - x0 + bw][write] > HALO_EDGE
    if float(rise[far].sum()) <= HALO_SHARE * total:
        return new
    out: np.ndarray = np.where(clear, np.minimum(new, old), new).astype(np.uint8)
    return out


def _hold_backdrop(lab_at: LabCrop, new: np.ndarray, old: np.ndarray, write: np.ndarray,
                   sofar: np.ndarray, known: KnownColours, before: np.ndarray,
                   at: tuple[int, int]) -> np.ndarray:
    """The values to write (at ``write``'s pixels, a mask of a piece's box with top-left corner
    ``at`` in the image), against the alpha so far ``old`` there (``sofar``: over the whole
    box): a pixel held clear (LIFT_CLEAR or less) that the solve lifts rises no higher than its
    colour explains (its share of the way from the local backdrop's colour to the known
    foreground's, ``known()``) where the lift is smooth (the matte's fine structure under
    BACKDROP_SMOOTH) and the photo there looks like the local backdrop within its own spread
    (BACKDROP_*: the known clear pixels around it); both weights graded.

    Outline strokes (soft-dev, 2026-12-05): beside hair against bokeh (GT11), a mesh cup (GT25),
    a pumpkin (GT19) and two shoes (GT27, GT05) the matte laid a soft band on backdrop the
    cutout and the truth hold clear, 3-20 px out; those pieces stand 25-49 Lab from their
    backdrop, above _hold_halo's contrast, and raising that bound held the hair against a pillar
    (GT03) too. Neither cue alone tells them apart per piece: the band is smooth but so is a
    dense lock the matte fills in evenly, and a band pixel has the backdrop's colour but so has a
    faint strand on a textured backdrop (the haze-island attempt, docs/review.md). Together, per
    pixel: the halo is a smooth lift on pixels the photo cannot tell from the backdrop beside
    them; a strand stands out of the matte (fine structure) or out of the backdrop (colour), and
    a lock of hair differs from the backdrop it lies on. The cap keeps what the colour shows: a
    defocused edge's tail looks nearly like the backdrop but lies part of the way to the
    product, and holding it on the look alone cost a synthetic blurred edge 5 % band SAD.
    Measured: docs/review.md § Detail benchmark, *Backdrop under the brush*."""
    clear = (old <= LIFT_CLEAR) & (new > old)
    if not clear.any():
        return new
    got = known()
    if got is None:
        return new
    (y0, y1, x0, x1), sl, held = _held_around(before, sofar, at, BACKDROP_CONTEXT)
    # the known backdrop: clear pixels the stroke does not write (the piece's outside)
    bg = held <= LIFT_KNOWN
    bg[sl] &= ~write
    if not bg.any():
        return new
    lab = lab_at(y0, y1, x0, x1)
    wgt, mean, spread = _local_backdrop(lab, bg)
    # the backdrop's look: within BACKDROP_SPREAD of its spread from its colour (graded: full
    # at half of that, none at one and a half)
    z = np.linalg.norm(lab - mean, axis=2) / (BACKDROP_SPREAD * spread)
    like = np.where(wgt > BACKDROP_WEIGHT, np.clip(1.5 - z, 0, 1), 0)[sl][write]
    # what the colour explains: the pixel's share of the way from the local backdrop to the
    # known foreground's colour (a soft edge's tail: its lift stays)
    axis = got[0][None, None, :] - mean
    norm2 = np.maximum((axis * axis).sum(axis=2), 1.0)
    share = ((lab - mean) * axis).sum(axis=2) / norm2
    allowed = np.clip(share, 0, 1)[sl][write] * 255
    # the matte as written: its fine structure (strands, gaps) against a smooth lift; graded (a
    # hard rule left the lift speckled): full under half BACKDROP_SMOOTH, none from 1.5 times it
    full = sofar.astype(np.float32)
    full[write] = new
    fine = cv2.blur(np.abs(full - cv2.GaussianBlur(full, (0, 0), 1.5)), (5, 5))
    smooth = cv2.GaussianBlur(np.clip(1.5 - fine / BACKDROP_SMOOTH, 0, 1), (0, 0), 1.0)[write]
    cap = np.maximum(old, np.minimum(new, allowed))
    hold = np.where(clear, smooth * like, 0)
    out: np.ndarray = np.clip(new - hold * (new - cap) + 0.5, 0, 255).astype(np.uint8)
    # a lift the known backdrop beside it shows as it is, patch for patch: a varied backdrop
    # (bokeh, a keyboard's keys) that the matte reads as the product's
    lifted = np.nonzero(clear & (out > old))[0]
    if lifted.size:
        ys, xs = np.nonzero(write)
        ys, xs = ys[lifted] + sl[0].start, xs[lifted] + sl[1].start
        seen = _seen_in_backdrop(lab, bg, ys, xs)
        whole = np.nonzero(cv2.erode(bg.view(np.uint8), np.ones((SEEN_PATCH, SEEN_PATCH),
                                                                np.uint8)) > 0)
        step = max(1, whole[0].size // SEEN_SAMPLES)
        own = _seen_in_backdrop(lab, bg, whole[0][::step], whole[1][::step], apart=True)
        own = own[np.isfinite(own)]
        if own.size:
            bound = min(SEEN_MAX, float(np.quantile(own, SEEN_SHARE)))
            keep = lifted[seen <= bound]
            out[keep] = old[keep]
    return out


def _seen_in_backdrop(lab: np.ndarray, bg: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                      apart: bool = False) -> np.ndarray:
    """For each pixel (``ys``, ``xs``) of a Lab crop, the RMS colour distance (Lab) of its
    SEEN_PATCH x SEEN_PATCH neighbourhood to the nearest neighbourhood wholly of known backdrop
    (``bg``) centred within SEEN_REACH px (``apart``: at least SEEN_PATCH px away on some axis,
    for pixels of the backdrop itself); inf where there is none.

    Why (soft-dev outline strokes GT25 #5, GT11 #5, GT27 #6, 2026-12-05): along an outline the
    brush's outer half covers clear backdrop, and the matte lifts it to 20-60/255 whatever its
    solver settings (the colour term's weight, the levels, the regulariser: a halo in every
    variant), where the backdrop is varied (a keyboard's keys and a red box beside the mesh cup,
    bokeh beside hair) and the known foreground holds the backdrop's colours too. Such a pixel is
    the backdrop beyond the brush, as the photo shows it; ``_hold_backdrop``'s one local colour
    and spread cannot say so for a backdrop of many colours. Judged by a neighbourhood, not a
    pixel: a faint strand on the backdrop matches some backdrop pixel's colour (that rule cut
    hair against a pillar, soft-dev GT03 / GT09), not its neighbourhood. Measured:
    docs/review.md § Detail benchmark, *Halo on a varied backdrop*."""
    k, r = SEEN_PATCH, SEEN_REACH
    half = k // 2
    full = cv2.erode(bg.view(np.uint8), np.ones((k, k), np.uint8), borderType=cv2.BORDER_CONSTANT,
                     borderValue=0) > 0
    best = np.full(ys.size, np.inf, np.float32)
    if not full.any() or not ys.size:
        return best
    # Speed (2026-12-05, speed33): every pixel against every offset cost a stroke 0.05-0.07 CPU s.
    # A neighbourhood's distance is at least that of its mean colour, and at least that of its
    # mean lightness, so the distance is computed, as before and bit for bit, only for the
    # offsets whose mean lightness and then mean colour lie within the best of SEEN_FIRST
    # likely offsets (SEEN_SLACK above it: the means' rounding); the rest cannot be nearer.
    h, w = full.shape
    oy, ox = np.mgrid[-r:r + 1, -r:r + 1].reshape(2, -1)
    use = oy * oy + ox * ox <= r * r
    if apart:
        use &= np.maximum(np.abs(oy), np.abs(ox)) >= k
    hp, wp = h + 2 * r, w + 2 * r
    step = oy[use] * wp + ox[use]
    # the crop grown by r (flat indices): an offset's centre is then always inside it
    fullp = np.pad(full, r).ravel()
    means = cv2.copyMakeBorder(cv2.blur(lab, (k, k), borderType=cv2.BORDER_REPLICATE),
                               r, r, r, r, cv2.BORDER_CONSTANT, value=0).reshape(-1, 3)
    light = np.ascontiguousarray(means[:, 0])
    light_full = np.where(fullp, light, np.float32(np.inf))
    padded = cv2.copyMakeBorder(lab, pad := r + half, pad, pad, pad, cv2.BORDER_REPLICATE)
    # each pixel's neighbourhood as one vector (k * k * 3), in the order of the exact distance
    patch = np.concatenate([padded[half + dy:half + dy + hp, half + dx:half + dx + wp]
                            for dy in range(-half, half + 1) for dx in range(-half, half + 1)],
                           axis=2).reshape(hp * wp, k * k * 3)

    def dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d: np.ndarray = np.sqrt(((patch[a] - patch[b]) ** 2).mean(axis=1) * 3)
        return d

    centre = (ys + r) * wp + xs + r
    for b0 in range(0, ys.size, SEEN_BLOCK):
        at = centre[b0:b0 + SEEN_BLOCK]
        rows = np.arange(at.size)
        theirs = at[:, None] + step[None, :]
        low = light_full[theirs] - light[at][:, None]
        low *= low
        first = np.argpartition(low, min(SEEN_FIRST, low.shape[1] - 1), axis=1)[:, :SEEN_FIRST]
        fi, fj = np.repeat(rows, first.shape[1]), first.ravel()
        some = np.isfinite(low[fi, fj])
        fi, fj = fi[some], fj[some]
        if not fi.size:
            continue
        upper = np.full(at.size, np.inf, np.float32)
        np.minimum.at(upper, fi, dist(at[fi], theirs[fi, fj]))
        # inf (no such neighbourhood) matches nothing
        reach = np.where(np.isfinite(upper), (upper + SEEN_SLACK) ** 2, -1.0)
        ii, jj = np.nonzero(low <= reach[:, None])
        diff = means[theirs[ii, jj]] - means[at[ii]]
        near = (diff * diff).sum(axis=1) <= reach[ii]
        ii, jj = ii[near], jj[near]
        np.minimum.at(best[b0:b0 + SEEN_BLOCK], ii, dist(at[ii], theirs[ii, jj]))
    return best


def _lift_slab(new: np.ndarray, old: np.ndarray, mine: np.ndarray,
               known: KnownColours) -> np.ndarray:
    """A solved piece's alpha ``new`` (at ``mine``'s pixels, a mask of its box), where the
    pixels the alpha so far ``old`` holds clear (LIFT_CLEAR or less) sit on a floor of the
    matte in LIFT_MID (its grey opening with a disk of radius LIFT_RADIUS: what is left under
    strands and gaps narrower than the disk) and form a wide region (what an opening with the
    same disk keeps) whose colour in the photo places it near the backdrop: on the line from
    the known background's colour to the known foreground's (``known()``, the piece's
    ``_known_colours``: medians in Lab of what the alpha before any detail solve holds within
    LIFT_KNOWN of 0 / 255 in the LIFT_CONTEXT px around the piece), at less than LIFT_SHARE of the
    matte's mean alpha over the region. There the floor rises at most LIFT_RISE above ``old``;
    what stands on it (strands: the opening's top-hat) stays.

    The mirror of _keep_slab. QA: a 60 px detail stroke along the stray strands of a portrait's
    hair pulled a grey bridge pillar behind the hair into the cutout at alpha 60-130 (SAD 17.55
    -> 19.89, background pixels' error 282 -> 2 135) while the hair improved: the pillar is
    neither the sky nor the hair, and closed-form matting explained its colour as part
    foreground. Strands are thin or structured; a wide smooth floor lifted from clear is the
    matte reading a backdrop's colour as foreground, and the photo says so: the pillar's colour
    lies 5 % of the way from the sky's to the hair's, where the matte says 34 %. Hair the model
    had cut and the matte rightly brings back as a wide fractional floor (that portrait's lower
    right, another's) has a mix's colour (24-51 %, matte 29-53 %) and is left alone; so is a piece
    without known pixels of both sides around it (the colour cannot tell). Capping every such
    wide lifted floor, whatever its colour, cost soft-dev SAD@10 39.778 -> 39.786 and two more
    detail strokes raising Grad (docs/review.md § Detail benchmark).

    "Clear" takes in the model's faint haze (below TRANSLUCENT, where _fade_only's translucent
    fur starts), not only 0..16: beside hair (1-63/255 there) it is the same backdrop,
    and the matte lifted it the same way (its protocol stroke 4: SAD +0.084; on the photo
    upscaled to 24 MP +4.2); the rise is still bounded from the pixel's own alpha so far. Up to
    127 (the whole background side of the trimap) it also capped translucent fur the matte
    rightly brought back (the fur flank's second stroke gained 0.39 less SAD)."""
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
    got = known()
    if got is None:
        return new
    f_col, b_col, mine_lab = got
    axis = f_col - b_col
    norm2 = float(np.dot(axis, axis))
    if norm2 < 1.0:  # foreground and backdrop alike: the colour cannot tell
        return new
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


def _crisp_edge(lab_of: LabOf, known: np.ndarray, piece: np.ndarray) -> np.ndarray:
    """The trimap (uint8, the crop's shape: 255 known foreground, 0 known background, 128
    left to the solve) a band piece (``piece``, a mask of the crop whose Lab is ``lab_of()``;
    ``known``: the alpha before any detail solve there) gets from a crisp edge of the cutout:
    the pixels the cutout holds solid or clear, more than EDGE_HALF and at most EDGE_REACH px
    from its edge, are known on their held side where that edge is a crisp step in the photo
    and the pixel's colour is its side's.

    QA (dev photos): a detail stroke along a solid product's hard edge, painted where the
    reviewer was unsure and the cutout already had it right, softened it and lowered IoU: the
    matte read the backdrop's texture beside the edge as a mix and lifted it to 30-170/255 up
    to 7 px out (the brush's fractional pixels 68-111 -> 264-311). A crisp edge is a strong
    step taken within one pixel with flat sides: beyond a pixel of it there is nothing for the
    matte to find. Hair or fur the model filled solid fails the flat test on its side (the
    backdrop between its strands is held solid too), and so do strands beyond the edge on the
    backdrop's side; a blurred or soft edge fails the one-pixel step; a fractional pixel is
    never taken, nor one whose colour lies more than EDGE_SHARE of the way towards the other
    side (a faint strand, a shadow), nor one farther than EDGE_REACH from the edge (on a
    plush ear against the sky, the mane's faint strands 20-30 px away were cut). Those are
    left to the matte, so fine detail still gets its mix. The decision is smoothed along the
    edge (EDGE_SIGMA) so it does not flip from pixel to pixel. Measured: docs/review.md
    § Detail benchmark, *Crisp edges*."""
    tri = np.full(piece.shape, 128, np.uint8)
    held, clear = known >= SOLID_HELD, known <= SOLID_CLEAR
    if not (piece & (held | clear)).any() or not held.any() or not clear.any():
        return tri
    side = (known >= 128).view(np.uint8)
    k3 = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    # the cutout's edge: the pixels on either side of its 128 contour
    edge = cv2.dilate(side, k3) != cv2.erode(side, k3)
    near = edge & (cv2.dilate(piece.view(np.uint8), np.ones((5, 5), np.uint8)) > 0)
    if not near.any():
        return tri
    dedge = cv2.distanceTransform((~edge).view(np.uint8), cv2.DIST_L2, 5)
    lab = lab_of()

    def stats(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # colour mean, standard deviation (norm over Lab) and weight of ``mask``'s pixels
        # around each pixel
        wgt, mean, std = local_colour(lab, mask, EDGE_SIGMA, spread=True)
        assert std is not None
        return mean, std, wgt

    f_col, f_std, f_wgt = stats(held & (dedge > EDGE_HALF))
    b_col, b_std, b_wgt = stats(clear & (dedge > EDGE_HALF))
    step = np.linalg.norm(f_col - b_col, axis=2)
    # the largest colour change between two neighbouring pixels within 2 px
    pair = np.zeros(piece.shape, np.float32)
    dx = np.linalg.norm(np.diff(lab, axis=1), axis=2)
    dy = np.linalg.norm(np.diff(lab, axis=0), axis=2)
    pair[:, 1:] = np.maximum(pair[:, 1:], dx)
    pair[:, :-1] = np.maximum(pair[:, :-1], dx)
    pair[1:] = np.maximum(pair[1:], dy)
    pair[:-1] = np.maximum(pair[:-1], dy)
    one: np.ndarray = cv2.dilate(pair, np.ones((5, 5), np.uint8))
    ok = (near & (f_wgt > 0.05) & (b_wgt > 0.05) & (step >= EDGE_CONTRAST)
          & (one >= EDGE_STEP * step) & (np.maximum(f_std, b_std) <= EDGE_FLAT * step))
    if not ok.any():
        return tri
    share = (cv2.GaussianBlur(ok.astype(np.float32), (0, 0), EDGE_SIGMA)
             / np.maximum(cv2.GaussianBlur(near.astype(np.float32), (0, 0), EDGE_SIGMA), 1e-6))
    crisp = near & (share >= 0.5)
    if not crisp.any():
        return tri
    # each pixel judged by the edge pixel nearest to it, with that pixel's side colours
    _, lbl = cv2.distanceTransformWithLabels((~near).view(np.uint8), cv2.DIST_L2, 5,
                                             labelType=cv2.DIST_LABEL_PIXEL)
    n = int(lbl.max()) + 1
    is_crisp = np.zeros(n, bool)
    is_crisp[lbl[near]] = crisp[near]
    fc, bc = np.zeros((n, 3), np.float32), np.zeros((n, 3), np.float32)
    fc[lbl[near]], bc[lbl[near]] = f_col[near], b_col[near]
    cand = piece & (held | clear) & (dedge > EDGE_HALF) & (dedge <= EDGE_REACH) & is_crisp[lbl]
    ys, xs = np.nonzero(cand)
    if ys.size == 0:
        return tri
    li = lbl[ys, xs]
    axis = fc[li] - bc[li]
    t = (np.einsum("ij,ij->i", lab[ys, xs] - bc[li], axis)
         / np.maximum(np.einsum("ij,ij->i", axis, axis), 1e-6))
    fgp = held[ys, xs] & (t >= 1 - EDGE_SHARE)
    bgp = clear[ys, xs] & (t <= EDGE_SHARE)
    tri[ys[fgp], xs[fgp]] = 255
    tri[ys[bgp], xs[bgp]] = 0
    return tri


def _solid_part(lab_of: LabOf, known: np.ndarray, piece: np.ndarray,
                reach: float = SOLID_REACH, thin: np.ndarray | None = None) -> np.ndarray:
    """The pixels of a band piece (``piece``, a mask of the crop whose Lab is ``lab_of()``;
    ``known``: the alpha before any detail solve there) the solve takes as known foreground:
    parts of a thin solid thing the brush covers side to side.

    Why: a 9 px detail stroke down a wading bird's thin leg covered it whole; the matte's
    only foreground was the leg above the brush, so it read the shaded lower leg as backdrop
    and faded it to half alpha and below. The photo says otherwise: each of the leg's pixels
    lies at SOLID_SHARE or more of the way from the backdrop beside it (the nearest pixel the
    cutout holds clear, at most SOLID_REACH px away) to the leg's own colour, and the cutout
    holds it solid with a clear edge. Hair or fur the model filled solid fails that: the sky
    or backdrop between its strands is held solid too and lies near the backdrop's colour, so
    its part is not taken (all but SOLID_SLACK of a part's inside must pass; its outline is
    the photo's blurred edge, judged by the matte as before); so does a strand already
    fractional (under SOLID_HELD), a part whose colour is near the backdrop's (a grey rim on
    a grey backdrop: _keep_slab's case), and the inside of a wide body (beyond SOLID_REACH of
    clear). Only pixels that pass are known; the rest of the piece is solved as before.
    A stroke crossing a wrong-subject filled region far from any clear pixel is unchanged.
    Marking every solid pixel at least 10 px from the cutout's fractional ones instead (the
    cutout's confident inside) cost soft-dev SAD@10 +1.5 % (docs/review.md § Detail
    benchmark). ``thin`` (a mask of the crop, given only for a brush's piece, not for
    ``_held_core``'s candidates): set to ``_thin_solid``'s pixels, a part as wide as a wide
    brush, which ``_solve_piece`` makes known only where the matte alone fades it."""
    cand = piece & (known >= SOLID_HELD)
    none = np.zeros(piece.shape, bool)
    if not cand.any():
        return none
    clear = known <= SOLID_CLEAR
    if not clear.any():
        return none
    dclear, lbl = cv2.distanceTransformWithLabels((~clear).view(np.uint8), cv2.DIST_L2, 5,
                                                  labelType=cv2.DIST_LABEL_PIXEL)
    if thin is None and not (cand & (dclear <= reach)).any():  # no thin part: spare the colour work
        return none
    lab = lab_of()
    colour = np.zeros((int(lbl.max()) + 1, 3), np.float32)
    colour[lbl[clear]] = lab[clear]
    held = known >= SOLID_HELD
    ys, xs = np.nonzero(cand)
    norm2, share = _towards_part(lab, held, lbl, colour, ys, xs)
    ok = ((norm2 >= SOLID_CONTRAST ** 2) & (share >= SOLID_SHARE)
          & (dclear[ys, xs] <= reach))
    passed = np.zeros(piece.shape, bool)
    passed[ys, xs] = ok
    n, comp = cv2.connectedComponents(cand.view(np.uint8), connectivity=8)
    # judged on the part's inside: its outline is the photo's blurred edge
    inner = cand & (cv2.distanceTransform(held.view(np.uint8), cv2.DIST_L2, 5) > SOLID_INSET)
    cnt = np.bincount(comp[inner], minlength=n)
    got = np.bincount(comp[inner & passed], minlength=n)
    # a part too thin to have an inside is judged whole
    cnt_all = np.bincount(comp[cand], minlength=n)
    got_all = np.bincount(comp[passed], minlength=n)
    good = np.where(cnt > 0, got >= (1 - SOLID_SLACK) * cnt,
                    got_all >= (1 - SOLID_SLACK) * cnt_all)
    good[0] = False
    out: np.ndarray = good[comp] & passed
    if thin is not None:
        thin[...] = _thin_solid(lab, piece, held, clear, dclear, lbl, colour)
    return out


def _towards_part(lab: np.ndarray, held: np.ndarray, lbl: np.ndarray, colour: np.ndarray,
                  ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the pixels (``ys``, ``xs``): the squared Lab distance from the backdrop beside
    each (``colour`` of its nearest clear pixel, ``lbl``) to the part's own colour near it
    (its ``held``-solid pixels averaged over SOLID_SIGMA), and how far along that step the
    pixel's own colour lies (0 the backdrop's, 1 the part's): one measure for
    ``_solid_part`` and ``_thin_solid`` (duplicates 2026-12-07 D4)."""
    wgt = cv2.GaussianBlur(held.astype(np.float32), (0, 0), SOLID_SIGMA)
    fg = np.stack([cv2.GaussianBlur(np.where(held, lab[..., i], 0).astype(np.float32), (0, 0),
                                    SOLID_SIGMA)[ys, xs] for i in range(3)], axis=1
                  ) / np.maximum(wgt[ys, xs], 1e-6)[:, None]
    bg = colour[lbl[ys, xs]]
    axis = fg - bg
    norm2 = np.einsum("ij,ij->i", axis, axis)
    share = np.einsum("ij,ij->i", lab[ys, xs] - bg, axis) / np.maximum(norm2, 1e-6)
    return norm2, share


def _thin_solid(lab: np.ndarray, piece: np.ndarray, held: np.ndarray, clear: np.ndarray,
                dclear: np.ndarray, lbl: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """The pixels of a band piece (``piece``; ``held`` / ``clear`` what the alpha before any
    detail solve holds solid / clear there, ``dclear`` the distance to clear, ``lbl``
    the nearest clear pixel's label and ``colour`` its Lab colour, ``lab`` the crop's) in a
    thin part of what the cutout holds solid, no wider than the brush, whose inside the photo
    shows unlike the backdrop on its sides: known foreground to the solve.

    QA H1 (2026-12-07, qa44s): one Detail stroke of radius 20 down a pumpkin's ~22 px stalk
    (soft-dev GT19) faded 408 stalk px from 1.0 to about .69 (SAD .97 -> 1.27): _solid_part
    took nothing, its SOLID_REACH (8 px) being narrower than the part and the stalk's dark
    grain failing its SOLID_SHARE on 8 % of the inside. A part the brush covers side to side
    has clear on both sides within the brush's width (a bump on a wide body's outline runs on
    into the body, so it is not taken); its grain is judged by THIN_SHARE (a groove darker
    than the wood still lies over half way from the backdrop to the part). Fur the model filled
    solid is left to the matte: its tufts end in a wide fringe (4-8 px before clear on soft-dev
    GT07, a stalk's or a plush leg's cut 1.4-2.2) and are small; marking 195 px of such tufts
    raised that piece's error on clear truth 1494 -> 2674. Only the part's inside, more than
    THIN_INSET px from its outline, is known: known up to its outline, the matte lifted the
    backdrop beside it (dev solid protocol, error on clear truth +5.8 -> +10.2).
    ``_solve_piece`` makes them known only where the plain solve fades them (THIN_FADED)."""
    none = np.zeros(piece.shape, bool)
    dpiece = cv2.distanceTransform(np.pad(piece, 1).view(np.uint8), cv2.DIST_L2, 5)
    half = float(dpiece.max())
    if half <= SOLID_REACH:  # a narrow brush: _solid_part's reach already covers its parts
        return none
    width = 2 * THIN_WIDTH * half
    cand = piece & held & (dclear <= width)
    if not cand.any():
        return none
    # clear on both sides: from each pixel, away from its nearest clear pixel, the part ends in
    # clear again within ``width`` of that one (a bump on a wide body's outline runs on into
    # the body; the crop's edge ends nothing)
    ys, xs = np.nonzero(cand)
    h, w = piece.shape
    near = np.zeros((int(lbl.max()) + 1, 2), np.float32)
    cy, cx = np.nonzero(clear)
    near[lbl[cy, cx]] = np.stack([cy, cx], axis=1)
    q = near[lbl[ys, xs]]
    d = np.maximum(dclear[ys, xs], 1e-3)[:, None]
    u = (np.stack([ys, xs], axis=1) - q) / d
    other = np.zeros(ys.size, bool)
    for t in range(1, int(np.ceil(width)) + 1):
        todo = ~other & (d[:, 0] + t <= width)
        if not todo.any():
            break
        py = np.rint(ys[todo] + t * u[todo, 0]).astype(int)
        px = np.rint(xs[todo] + t * u[todo, 1]).astype(int)
        inside = (py >= 0) & (py < h) & (px >= 0) & (px < w)
        hit = np.zeros(py.size, bool)
        hit[inside] = clear[py[inside], px[inside]]
        other[np.flatnonzero(todo)[hit]] = True
    cand[ys[~other], xs[~other]] = False
    if not cand.any():
        return none
    ys, xs = np.nonzero(cand)
    norm2, share = _towards_part(lab, held, lbl, colour, ys, xs)
    # its inside may be grained: a groove darker than the wood passes THIN_SHARE
    passed = np.zeros(piece.shape, bool)
    passed[ys, xs] = (norm2 >= SOLID_CONTRAST ** 2) & (share >= THIN_SHARE)
    dheld = cv2.distanceTransform(held.view(np.uint8), cv2.DIST_L2, 5)
    inner = cand & (dheld > SOLID_INSET)
    n, comp = cv2.connectedComponents(cand.view(np.uint8), connectivity=8)
    cnt = np.bincount(comp[inner], minlength=n)
    got = np.bincount(comp[inner & passed], minlength=n)
    # the part's own edge: where the cutout's solid region ends, clear begins within
    # THIN_FRINGE px (median over its outline); fur the model filled solid ends in a wide fringe
    rim = cand & (dheld <= 1.0)
    fringe = np.full(n, np.inf)
    for i in np.unique(comp[rim]):
        fringe[i] = float(np.median(dclear[rim & (comp == i)]))
    good = ((cnt > 0) & (got >= (1 - SOLID_SLACK) * cnt) & (fringe <= THIN_FRINGE)
            & (got >= THIN_AREA * half * half))
    good[0] = False
    # known only its inside, more than THIN_INSET px from its outline: the matte keeps the
    # outline and the backdrop beside it (known to the outline, it lifted the backdrop)
    out: np.ndarray = good[comp] & passed & (dheld > THIN_INSET)
    return out


def _held_core(earlier: np.ndarray, sofar: np.ndarray, cutout: np.ndarray) -> np.ndarray:
    """The pixels of a band piece's box (earlier strokes' pixels: ``earlier``, the piece outside
    the new stroke's brush) more than CORE_DEPTH px inside what the cutout (``cutout``, the
    alpha before any detail solve) and the alpha so far (``sofar``, the earlier strokes' solves
    included) both hold solid: the candidates ``_solve_piece`` makes known foreground to the
    joined re-solve where the photo calls them the part's own colour (``_solid_part``'s colour
    rule, at any distance from clear).

    QA M3 (soft-dev GT19, 2026-12-05): a detail stroke along one side of the pumpkin's ~30 px
    wooden stalk helped; the stroke along its other side re-solved the joined band, which then
    covered the stalk side to side, and the matte, with no known foreground inside it, read the
    wood's grain as backdrop: the stalk came out translucent and speckled (SAD +0.087). Each
    stroke alone had the other half of the stalk as known foreground; an earlier stroke's solve
    that left it solid is that same evidence. Hair the model filled solid fails the colour rule
    (the backdrop between its strands is held solid too) or lies near pixels the earlier solve
    thinned, so the joined re-solve still opens its gaps: every such pixel known, without the
    depth and the colour rule, cost soft-dev GT03 SAD@10 +2.6; without the depth +0.64
    (docs/review.md § Detail benchmark, *Outline strokes*)."""
    # only the inside of what stayed solid: beside a pixel the solve left fractional the
    # joined re-solve still decides
    return _inside(earlier, (sofar >= SOLID_HELD) & (cutout >= SOLID_HELD))


def _inside(candidates: np.ndarray, region: np.ndarray) -> np.ndarray:
    """The ``candidates`` in ``region`` more than CORE_DEPTH px from its edge (the box's edge
    counts as inside the region)."""
    out: np.ndarray = candidates & region
    if out.any():
        d = cv2.distanceTransform(np.pad(region, 1, constant_values=True).view(np.uint8),
                                  cv2.DIST_L2, 5)[1:-1, 1:-1]
        out &= d > CORE_DEPTH
    return out


def _clear_core(mine: np.ndarray, sofar: np.ndarray, cutout: np.ndarray) -> np.ndarray:
    """The pixels of a band piece (``mine``) more than CORE_DEPTH px inside what the cutout
    (``cutout``, the alpha before any detail solve) and the alpha so far (``sofar``) both hold
    clear (SOLID_CLEAR or less), the box's edge counted clear: _held_core's mirror, the
    candidates _solve_piece makes known background where the photo calls them the backdrop
    (``_backdrop_look``). ``mine`` is the piece outside the new stroke's brush: an earlier
    stroke's solve that left the backdrop clear is evidence, as its solid core is.

    Soft-dev outline GT11 #5 (hair against bokeh): the joined re-solve covered the backdrop the
    earlier strokes had left clear, and with no known backdrop beside it the matte lifted it
    (+0.54 SAD on truth-clear pixels before the guards; ``_hold_join``'s per-region colour test
    took 0.18 of it, and that region-wide decision flipped with any change to the earlier
    strokes: with ``_hold_colour`` alone the stroke went +0.238 -> +0.430). Known, it stays
    clear: +0.229.
    The new brush's own clear pixels are not taken: in the detail protocol they are the missed
    strands the stroke is for (taking them too, as far inside the clear: soft-dev SAD@10 GT03
    10.47 -> 11.89)."""
    return _inside(mine, (sofar <= SOLID_CLEAR) & (cutout <= SOLID_CLEAR))


def _local_backdrop(lab: np.ndarray, bg: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The backdrop round each pixel of a Lab crop from its known clear pixels ``bg``: their
    weight under a Gaussian of BACKDROP_SIGMA px, their mean colour and their spread (at least
    BACKDROP_NOISE). One estimate for ``_hold_backdrop`` and ``_backdrop_look``."""
    wgt, mean, std = local_colour(lab, bg, BACKDROP_SIGMA, spread=True)
    assert std is not None
    spread = np.maximum(std, BACKDROP_NOISE)
    return wgt, mean, spread


def _backdrop_look(lab_of: LabOf, known: np.ndarray, piece: np.ndarray) -> np.ndarray:
    """The pixels of a crop (its Lab: ``lab_of()``) whose colour is the local backdrop's within
    its own spread (Lab; the known clear pixels outside the piece, averaged over a Gaussian of
    BACKDROP_SIGMA px, where their weight is above BACKDROP_WEIGHT; within BACKDROP_SPREAD / 2
    of that spread, at least BACKDROP_NOISE): a strand that stands out of the backdrop's spread
    stays the solve's."""
    bg = ~piece & (known <= LIFT_KNOWN)
    if not bg.any():
        return np.zeros(piece.shape, bool)
    lab = lab_of()
    wgt, mean, spread = _local_backdrop(lab, bg)
    z = np.linalg.norm(lab - mean, axis=2) / (BACKDROP_SPREAD * spread)
    out: np.ndarray = (wgt > BACKDROP_WEIGHT) & (z <= 0.5)
    return out


def _step(rgb: np.ndarray, before: np.ndarray, sofar_box: np.ndarray, mine: np.ndarray,
          brush: np.ndarray, write: np.ndarray, old: np.ndarray, at: tuple[int, int],
          deadband: int, matting: Any) -> np.ndarray:
    """One stroke's step in ``_detail``: its piece (``mine``, a mask of its box with top-left
    corner ``at``; ``brush``, the stroke's pixels there; ``sofar_box``, the alpha so far over
    the box) re-solved and guarded; the values (uint8) for ``write``'s pixels (their alpha so
    far: ``old``) before the feather."""
    bh, bw = mine.shape
    # what an earlier stroke's solve left solid stays known foreground (see _held_core)
    cut_box = before[at[0]:at[0] + bh, at[1]:at[1] + bw]
    core = _held_core(mine & ~brush, sofar_box, cut_box)
    # and the backdrop deep inside what both hold clear is known background (_clear_core)
    clear_core = _clear_core(mine & ~brush, sofar_box, cut_box)
    # the photo in Lab around the piece (the solve's trimap rules, _known_colours, _hold_join,
    # _hold_backdrop read it) and the piece's known colours, once, and only if a rule or a guard
    # gets as far as needing them
    lab_at = _lab_around(rgb, at, mine.shape, matting)
    new = _solve_piece(rgb, before, mine, at, matting, core, clear_core, lab_at)
    sofar = sofar_box[mine]
    known = functools.cache(functools.partial(_known_colours, lab_at, before, mine, at))
    new = _fade_only(new, sofar, _beside_translucent(before, mine, at))
    new = _fade_only(new, sofar, _far_fringe(sofar, mine, before, at))
    new = _keep_slab(new, sofar, mine)
    new = _keep_alike(new, sofar, mine, known, before, at)
    new = _lift_slab(new, sofar, mine, known)
    # a joined re-solve lifting the backdrop the list without the stroke held clear (_hold_join)
    new = _hold_join(new, sofar_box, mine, brush, lab_at, before, at,
                     lambda: _solve_piece(rgb, before, brush, at, matting, lab_at=lab_at))
    new = _spare_haze(new, mine, write, old, deadband)
    new = _hold_halo(new, old, mine, write, sofar_box, known, before, at)
    new = _hold_backdrop(lab_at, new, old, write, sofar_box, known, before, at)
    new = _hold_colour(lab_at, new, old, write, sofar_box, before, at)
    out: np.ndarray = _keep_holes(new, old, write, brush, sofar_box, before, at)
    return out


def _keep_holes(new: np.ndarray, old: np.ndarray, write: np.ndarray, brush: np.ndarray,
                sofar: np.ndarray, before: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    """The values to write (at ``write``'s pixels, a mask of a piece's box with top-left corner
    ``at`` in the image; ``brush``: the newest stroke's pixels there), against the alpha so far
    ``old`` there (``sofar``: over the whole box): a small hole the alpha so far holds
    see-through may go faint, not fill (HOLE_*: its clear pixels rise to LIFT_CLEAR at most).

    QA D2 (2026-12-06, soft-dev GT25): a detail stroke over a wire-mesh cup whose holes the
    alpha held open filled them (r 12 along the rim's see-through band: 272 truth-clear hole px
    16 -> 241 mean). The solve's known foreground is the mesh around the brush, and through the
    cup's body the far wall and the pencils show the holes' dark colours held solid, so the
    matte's product holds the holes' colour and fills them; no guard looks at clear pixels
    enclosed by solid ones (the backdrop guards need backdrop wider than a hole). What the alpha
    so far holds open inside solid is the product's own see-through part: a mesh hole, a gap
    between strands, a ring's inside; the detail brush fades fine detail and leaves such a hole
    see-through (a keep stroke closes it). A hole is judged on the alpha so far around the piece
    (the cutout beyond the box), so one the brush cuts in two is still whole. Measured:
    docs/review.md § Detail benchmark, *See-through holes and a stroke with no backdrop*."""
    if not (new > old).any():
        return new
    (y0, y1, x0, x1), sl, held = _held_around(before, sofar, at, HOLE_CONTEXT)
    see = (held < 128).view(np.uint8)
    if not see.any():
        return new
    radius = float(cv2.distanceTransform(np.pad(brush, 1).view(np.uint8), cv2.DIST_L2, 5).max())
    n, comp, stats, _ = cv2.connectedComponentsWithStats(see, connectivity=8)
    hh, ww = held.shape
    small = stats[:, cv2.CC_STAT_AREA] <= np.pi * (HOLE_SHARE * radius) ** 2
    # enclosed: not touching the context's border (the image's edge counts as open)
    inner = ((stats[:, cv2.CC_STAT_LEFT] > 0) & (stats[:, cv2.CC_STAT_TOP] > 0)
             & (stats[:, cv2.CC_STAT_LEFT] + stats[:, cv2.CC_STAT_WIDTH] < ww)
             & (stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT] < hh))
    # see-through: the hole holds a clear inside (HOLE_CORE px at SOLID_CLEAR or less), not a
    # dip of the alpha (a fur clump's shading, soft-dev GT15: 3-9 px at 99-127; the model's
    # specks in a solid part, dev 077 / 099 / 214: 4-37 px, the lowest 15-56)
    core = np.bincount(comp[held <= SOLID_CLEAR], minlength=n)
    hole = small & inner & (core >= HOLE_CORE)
    hole[0] = False
    if not hole.any():
        return new
    # its rim (over LIFT_CLEAR) is the photo's blurred edge: the solve's (dev 009: a hole the
    # model drew wider than the truth's)
    keep = hole[comp[sl][write]] & (old <= LIFT_CLEAR)
    out: np.ndarray = np.where(keep, np.minimum(new, np.maximum(old, LIFT_CLEAR)),
                               new).astype(np.uint8)
    return out


def _hold_colour(lab_at: LabCrop, new: np.ndarray, old: np.ndarray, write: np.ndarray,
                 sofar: np.ndarray, before: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    """The values to write (at ``write``'s pixels, a mask of a piece's box with top-left corner
    ``at`` in the image), against the alpha so far ``old`` there (``sofar``: over the whole
    box): a pixel goes no lower than its colour explains (COLOUR_*), ``_hold_backdrop``'s
    mirror. A mix of the product and the backdrop lies on the line between their colours, and
    its share of the way is its alpha; a pixel at the product's end of the line is no mix, and
    a matte that fades it is guessing.

    QA (2026-12-05) and soft-dev GT25: detail strokes of radius 16-24 px over a wire mesh the
    cutout holds solid, holes and all, faded the wires (truth-solid pixels 255 -> 232-248 mean;
    a synthetic grid of dark 2 px wires over a light backdrop under an r 16 stroke: 228 mean, 188
    at worst). The solve's known foreground is the solid mesh, whose holes show the backdrop,
    so the matte's colour model of the product holds the backdrop's colour too and the dark
    wires come out part backdrop. The photo says otherwise: the wires are as far from the
    backdrop beside them as the product's own colour. ``_keep_alike`` only holds a piece whose
    two sides are alike and ``_keep_slab`` a smooth slab; neither is a mesh of good contrast.
    Also on soft-dev's outline strokes: the solid-in-truth pixels the cutout held fractional
    (GT25 #2, #6) that the matte faded further. Holes and strands keep the matte's fade: their
    colour is the backdrop's or a mix's, and a mix keeps at most what its colour shows (fine
    detail fades, it is not cut). A varied backdrop (bokeh, texture) widens the margin: what it
    could explain is the matte's. The product's colour is the held-solid pixels farthest from
    the backdrop (a mesh's wires, not its holes); the blurred rim on both sides of the cutout's
    edge is left out of both colours. Measured: docs/review.md § Detail benchmark, *Colour
    floor and known backdrop*."""
    if not (new < old).any():
        return new
    (y0, y1, x0, x1), sl, held = _held_around(before, sofar, at, COLOUR_CONTEXT)
    outside = np.ones(held.shape, bool)
    outside[sl] &= ~write
    # the clear and solid pixels more than EDGE_HALF px from the other kinds (the photo's
    # blurred edge is a mix)
    clear = outside & (cv2.distanceTransform((held > SOLID_CLEAR).view(np.uint8) ^ 1, cv2.DIST_L2,
                                             3) > EDGE_HALF)
    solid = outside & (cv2.distanceTransform((held < SOLID_HELD).view(np.uint8) ^ 1, cv2.DIST_L2,
                                             3) > EDGE_HALF)
    if not clear.any() or not solid.any():
        return new
    lab = lab_at(y0, y1, x0, x1)
    # the backdrop beside each pixel: its nearest clear pixel's colour (averaged over the clear
    # pixels within 2 px of that one: the photo's noise), and how much the backdrop's colour
    # varies there (its clear pixels' spread over a Gaussian of BACKDROP_SIGMA px; the whole
    # context's where none is that near)
    m = clear.astype(np.float32)
    near = cv2.blur(lab * m[..., None], (5, 5)) / np.maximum(cv2.blur(m, (5, 5)), 1e-6)[..., None]
    _, lbl = cv2.distanceTransformWithLabels((~clear).view(np.uint8), cv2.DIST_L2, 5,
                                             labelType=cv2.DIST_LABEL_PIXEL)
    col = np.zeros((int(lbl.max()) + 1, 3), np.float32)
    col[lbl[clear]] = near[clear]
    b_col = col[lbl[sl][write]]
    wgt, _, spread = _local_backdrop(lab, clear)
    spread = np.where(wgt > BACKDROP_WEIGHT, spread,
                      float(np.sqrt(lab[clear].var(axis=0).sum())))[sl][write]
    spread = np.maximum(spread, BACKDROP_NOISE)
    # the product's colour: the held-solid pixels around the piece farthest from the backdrop
    b_med = np.median(lab[clear], axis=0)
    far = np.linalg.norm(lab[solid] - b_med, axis=1)
    f_col = lab[solid][far >= np.quantile(far, 1.0 - COLOUR_TOP)].mean(axis=0)
    axis = f_col[None, :] - b_col
    norm = np.sqrt((axis * axis).sum(axis=1))
    px = lab[sl][write]
    # the share of the way, less the backdrop's own spread: a pixel a varied backdrop could
    # explain (bokeh, texture) is left to the matte
    share = (((px - b_col) * axis).sum(axis=1) / np.maximum(norm, 1e-6)
             - BACKDROP_SPREAD * spread) / np.maximum(norm, 1e-6)
    # what the colour explains: none at COLOUR_SHARE[0] of the way, all at COLOUR_SHARE[1]
    # (a thin wire's pixels are part backdrop in the photo, solid in truth)
    lo, hi = COLOUR_SHARE
    floor = np.where(norm >= SOLID_CONTRAST, np.clip((share - lo) / (hi - lo), 0, 1) * 255, 0)
    out: np.ndarray = np.maximum(new, np.minimum(old, floor + 0.5)).astype(np.uint8)
    return out


def _hold_join(new: np.ndarray, sofar_box: np.ndarray, mine: np.ndarray, brush: np.ndarray,
               lab_at: LabCrop, before: np.ndarray, at: tuple[int, int],
               alone: Callable[[], np.ndarray]) -> np.ndarray:
    """A joined re-solve's alpha ``new`` (at ``mine``'s pixels, a mask of its box with top-left
    corner ``at`` in the image; ``brush``: the newest stroke's pixels there; ``sofar_box``: the
    alpha so far over the box) where the piece holds earlier strokes' pixels: pixels the alpha
    so far holds clear (LIFT_CLEAR or less) whose matte floor (``_lift_slab``'s opening) the
    solve lifts by more than LIFT_RISE over a wide region (what an opening with the same disk
    keeps) that the photo calls backdrop keep that floor at most at their alpha so far or,
    under the brush, at the stroke's own solve (``alone()``: its brush as the piece, the rest
    known from ``before``); strands standing on the floor stay.

    Backdrop, per connected region: its pixels' colour (Lab) lies, on the line from the nearest
    pixel both the alpha so far and the solve hold clear (SOLID_CLEAR) to the nearest they both
    hold solid (SOLID_HELD), within LIFT_CONTEXT px around the box (``before`` beyond it), at a
    median under LIFT_SHARE of the floor's mean alpha: ``_lift_slab``'s test, with the colours
    beside the region instead of the piece's medians.

    QA M2 (soft-dev GT09, 2026-12-05): an r 26 detail stroke down the wool's right fibre edge
    helped alone (SAD -0.261) but after the strokes painted below it along the same edge it laid
    a translucent grey block on the grey backdrop at their junction (+0.275). Joined, the band
    covers the backdrop from the top of the new stroke to the bottom of the old ones, out to the
    photo's border: no known backdrop is left beside the junction, where the backdrop turns from
    light grey to dark brown, so the matte reads the grey as a mix of the dark backdrop and the
    wool; each stroke alone had that backdrop known beyond its end. ``_lift_slab`` misses it: its
    backdrop colour is one median over the whole joined piece's context, the dark brown; so does
    ``_hold_backdrop``: the clear pixels the stroke does not write, its local backdrop, lie beyond
    the junction (the dark brown) and carry no weight at the block. The nearest pixels the alpha
    so far and the joined solve both leave clear are the grey backdrop itself. Capping every
    lifted floor whatever its colour cut hair the joined band rightly brings back (QA's GT03
    stroke 6: -0.031 -> +0.170; docs/review.md § Detail benchmark, *Joined backdrop*)."""
    if not (mine & ~brush).any():  # not joined: the stroke's own solve
        return new
    full_new = sofar_box.copy()
    full_new[mine] = new
    k = 2 * LIFT_RADIUS + 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    floor = cv2.morphologyEx(full_new, cv2.MORPH_OPEN, disk).astype(np.int16)
    lifted = mine & (sofar_box <= LIFT_CLEAR) & (floor - sofar_box > LIFT_RISE)
    if not lifted.any():
        return new
    wide = cv2.morphologyEx(lifted.view(np.uint8), cv2.MORPH_OPEN, disk) > 0
    if not wide.any():
        return new
    (top, left), (bh, bw) = at, mine.shape
    y0, y1, x0, x1 = _around(at, mine.shape, before.shape, LIFT_CONTEXT)
    sy, sx = top - y0, left - x0
    held = before[y0:y1, x0:x1].copy()
    held[sy:sy + bh, sx:sx + bw] = sofar_box
    now = held.copy()
    now[sy:sy + bh, sx:sx + bw] = full_new
    bg = (held <= SOLID_CLEAR) & (now <= SOLID_CLEAR)
    fg = (held >= SOLID_HELD) & (now >= SOLID_HELD)
    if not bg.any() or not fg.any():  # the colours cannot tell
        return new
    lab = lab_at(y0, y1, x0, x1)

    def nearest(seed: np.ndarray) -> np.ndarray:
        # the colour of the seed pixel nearest to each pixel of the box
        _, lbl = cv2.distanceTransformWithLabels((~seed).view(np.uint8), cv2.DIST_L2, 5,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
        col = np.zeros((int(lbl.max()) + 1, 3), np.float32)
        col[lbl[seed]] = lab[seed]
        got: np.ndarray = col[lbl][sy:sy + bh, sx:sx + bw]
        return got

    b_col, f_col = nearest(bg), nearest(fg)
    axis = f_col - b_col
    share = (np.einsum("ijk,ijk->ij", lab[sy:sy + bh, sx:sx + bw] - b_col, axis)
             / np.maximum(np.einsum("ijk,ijk->ij", axis, axis), 1.0))
    n, lbl = cv2.connectedComponents(wide.view(np.uint8), connectivity=8)
    ghost = np.zeros(mine.shape, bool)
    for i in range(1, n):
        m = lbl == i
        if float(np.median(share[m])) < LIFT_SHARE * float(floor[m].mean()) / 255.0:
            ghost |= m
    if not ghost.any():
        return new
    cap = sofar_box.astype(np.int16)
    if (ghost & brush).any():
        # what the stroke alone lifts stays liftable (its solve is remembered in _PIECES)
        solo = np.zeros(mine.shape, np.int16)
        solo[brush] = alone()
        cap = np.maximum(cap, solo)
    excess = np.where(ghost, np.maximum(floor - cap, 0), 0)
    out: np.ndarray = np.clip(new.astype(np.int16) - excess[mine], 0, 255).astype(np.uint8)
    return out


def _around(at: tuple[int, int], shape: tuple[int, ...], size: tuple[int, ...], m: int
            ) -> tuple[int, int, int, int]:
    """The box (y0, y1, x0, x1) of a band piece (top-left corner ``at``, ``shape``) grown by
    ``m`` px on each side, within an image of ``size``: where a guard reads around the piece."""
    (top, left), (bh, bw), (h, w) = at, shape[:2], size[:2]
    return max(top - m, 0), min(top + bh + m, h), max(left - m, 0), min(left + bw + m, w)


def _held_around(before: np.ndarray, sofar: np.ndarray, at: tuple[int, int], m: int
                 ) -> tuple[tuple[int, int, int, int], tuple[slice, slice], np.ndarray]:
    """The alpha so far around a band piece (top-left corner ``at``, ``sofar`` its alpha so
    far), ``m`` px on each side, the cutout ``before`` beyond the piece: a guard's view (its
    box, the piece's slice in it, and the alpha, a copy)."""
    y0, y1, x0, x1 = _around(at, sofar.shape, before.shape, m)
    (top, left), (bh, bw) = at, sofar.shape[:2]
    sl = (slice(top - y0, top - y0 + bh), slice(left - x0, left - x0 + bw))
    held = before[y0:y1, x0:x1].copy()
    held[sl] = sofar
    return (y0, y1, x0, x1), sl, held


def _solve_box(at: tuple[int, int], shape: tuple[int, ...], size: tuple[int, ...],
               matting: Any) -> tuple[int, int, int, int]:
    """The crop (y0, y1, x0, x1) _solve_piece solves a band piece (top-left corner ``at``,
    ``shape``) in: the box matting._groups gives it (plus ``matting.CONTEXT`` px), in image
    coordinates, on the image's ``matting.ALIGN`` grid, so the piece is solved the same whatever
    window or stroke asks."""
    (top, left), (bh, bw), (h, w) = at, shape[:2], size[:2]
    a, c = matting.ALIGN, matting.CONTEXT
    return (max(top - c, 0) // a * a, min(-(-(top + bh + c) // a) * a, h),
            max(left - c, 0) // a * a, min(-(-(left + bw + c) // a) * a, w))


def _step_reads(at: tuple[int, int], shape: tuple[int, ...], size: tuple[int, ...],
                matting: Any) -> tuple[int, int, int, int]:
    """The box (y0, y1, x0, x1) of the photo and of the alpha before any detail solve that one
    stroke's step (``_step``) reads around its piece (top-left corner ``at``, ``shape``): the
    solve's crop (``_solve_box``, whose contents key _PIECES) and every guard's context
    (GUARD_CONTEXTS). ``_step_key`` hashes this box, so a step is reused only where all it
    reads is the same."""
    y0, y1, x0, x1 = _around(at, shape, size, max(GUARD_CONTEXTS))
    sy0, sy1, sx0, sx1 = _solve_box(at, shape, size, matting)
    return min(y0, sy0), max(y1, sy1), min(x0, sx0), max(x1, sx1)


def _step_key(rgb: np.ndarray, before: np.ndarray, sofar: np.ndarray, mine: np.ndarray,
              brush: np.ndarray, at: tuple[int, int], deadband: int, reach: float,
              matting: Any) -> tuple[Any, bytes]:
    """The inputs of one stroke's step in ``_detail`` (``_step``: the values it writes to its
    piece ``mine``, a mask of its box with top-left corner ``at``, before the feather), hashed:
    the photo and the alpha before any detail solve around the box as far as the step reads
    them (_step_reads: the guards' contexts and _solve_piece's aligned crop), the alpha so far
    in the box
    (``sofar``), the stroke's brush there, ``deadband``, ``reach`` and the solver. The feather
    is not in it: it is the whole band's, and a later stroke's brush moves it.

    Why (QA M1, 2026-12-05): a preview re-sends every stroke and ``_detail`` replays them in
    order, each earlier stroke re-solving and guarding the piece joined so far; its solve was
    cached (_solve_piece), but its guards, known colours and core on the growing piece were
    not: on soft-dev GT03, 13 r 12 strokes along the hair's outline, they were about a third
    of a preview (docs/review.md § Detail benchmark, *Preview time per detail stroke*). Same
    inputs, same values: previews are bit-identical, warm or cold."""
    import hashlib

    h, w = before.shape
    (top, left), (bh, bw) = at, mine.shape
    y0, y1, x0, x1 = _step_reads(at, mine.shape, before.shape, matting)
    hsh = hashlib.blake2b(digest_size=16)
    hsh.update(np.array([h, w, top, left, bh, bw, deadband], np.int64).data)
    hsh.update(np.array([reach], np.float64).data)
    for arr in (rgb[y0:y1, x0:x1], before[y0:y1, x0:x1], sofar, mine, brush):
        hsh.update(np.ascontiguousarray(arr).data)
    return matting.solve_alpha, hsh.digest()  # the solver too: a test may swap it


def _solve_piece(rgb: np.ndarray, before: np.ndarray, mine: np.ndarray,
                 at: tuple[int, int], matting: Any, core: np.ndarray | None = None,
                 clear_core: np.ndarray | None = None,
                 lab_at: LabCrop | None = None) -> np.ndarray:
    """The matted alpha (uint8) of one band piece, its pixels in ``mine`` (a mask of its box
    with top-left corner ``at`` in the image), the rest known from ``before`` (binarised);
    ``core`` (a mask of the same box, ``_held_core``) the piece's pixels that may be known
    foreground too, where ``_solid_part``'s colour rule passes. ``lab_at``: the step's
    ``_lab_around`` (given ``matting``, so it covers the crop), else the crop is converted here.

    Its crop is _solve_box's; the answers are kept in _PIECES by that crop's contents."""
    (top, left), (bh, bw) = at, mine.shape
    py0, py1, px0, px1 = _solve_box(at, mine.shape, before.shape, matting)
    piece = np.zeros((py1 - py0, px1 - px0), bool)
    piece[top - py0:top - py0 + bh, left - px0:left - px0 + bw] = mine
    known = np.ascontiguousarray(before[py0:py1, px0:px1])
    crop = np.ascontiguousarray(rgb[py0:py1, px0:px1])
    # a preview re-sends every stroke, and each earlier stroke's piece is solved again from the
    # same inputs: remember the answers by their inputs (the alpha around the piece as it is,
    # not binarised: _solid_part reads it; the earlier strokes' solid core, _held_core)
    import hashlib

    hsh = hashlib.blake2b(digest_size=16)
    hsh.update(np.array(crop.shape, np.int64).data)
    hsh.update(crop.data)
    hsh.update(known.data)
    hsh.update(piece.data)
    if core is not None and core.any():
        hsh.update(b"core")
        hsh.update(np.ascontiguousarray(core).data)
    if clear_core is not None and clear_core.any():
        hsh.update(b"clear")
        hsh.update(np.ascontiguousarray(clear_core).data)
    key = (matting.solve_alpha, hsh.digest())  # the solver too: a test may swap it
    with _LOCK:
        got = _PIECES.get(key)
        if got is not None:
            _PIECES.move_to_end(key)
            return got.copy()
    # the crop in Lab, converted at most once for the three colour rules below (each converted
    # its own), and not at all when none gets that far
    lab_of: LabOf = functools.cache(functools.partial(
        lab_at or _lab_around(rgb, at, mine.shape, matting), py0, py1, px0, px1))
    trimap = np.where(known >= 128, 255, 0).astype(np.uint8)
    trimap[piece] = _crisp_edge(lab_of, known, piece)[piece]
    thin = np.zeros_like(piece)
    trimap[_solid_part(lab_of, known, piece, thin=thin)] = 255
    if core is not None and core.any():
        # an earlier stroke's solid pixels, known where the photo calls them the part's own
        # colour (see _held_core)
        held = np.zeros_like(piece)
        held[top - py0:top - py0 + bh, left - px0:left - px0 + bw] = core
        trimap[_solid_part(lab_of, known, held, reach=float("inf"))] = 255
    if clear_core is not None and clear_core.any():
        # the backdrop inside what the cutout and the alpha so far hold clear, known where the
        # photo calls it the backdrop's own colour (see _clear_core)
        held = np.zeros_like(piece)
        held[top - py0:top - py0 + bh, left - px0:left - px0 + bw] = clear_core
        trimap[held & _backdrop_look(lab_of, known, piece)] = 0
    # no prior: the base alpha is what the reviewer says is wrong here, and a near-binary
    # prior would pull the matte back to a hard edge
    alpha = matting.solve_alpha(crop, trimap)
    thin &= (trimap != 0) & (trimap != 255)
    if thin.any():
        # a thin part as wide as the brush (_thin_solid) is known foreground only where the
        # matte left alone fades it (its inside's mean under THIN_FADED): known where the matte
        # kept it, it only moved the matte around it (dev solid protocol: the backdrop beside a
        # duck's neck lifted, a banana's pale neck below its known stalk faded)
        n, comp = cv2.connectedComponents(thin.view(np.uint8), connectivity=8)
        mean = (np.bincount(comp[thin], weights=alpha[thin], minlength=n)
                / np.maximum(np.bincount(comp[thin], minlength=n), 1))
        faded = mean < THIN_FADED
        faded[0] = False
        if faded.any():
            trimap[faded[comp]] = 255
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

"""The subject click: the reviewer says "this is the subject" with one click, and the cutout
keeps only the part of what it holds that is joined to the click; every other part it holds
is cleared.

Why (QA qa40b U, 2026-12-06): on dev 155 the model held a graffiti beside the skater, and the
reviewer fought it with remove strokes that took parts of her. What the model held is one or
more parts; the reviewer can tell at a glance which one is the product, the engine cannot.

A *part* is a piece of the cutout held at least a quarter (alpha >= ``SOLID``, 8-connected).
Fainter alpha (hair, fur, a faint rim, haze) and small specks belong to the nearest large
part (a Voronoi split of the held pixels between the parts, ``ANCHOR_*``), so a strand or a
loose tuft attached to the clicked part stays with it at the alpha it had, and the haze
beside another part goes with that part. The kept region is the piece of the clicked part's
share that is joined to it (alpha > 0, 8-connected); everything else the cutout holds is
cleared to 0.

Pure (numpy / OpenCV / SciPy): ``retouch.retouch`` decides it on the working grid, where the
preview computes, and carries the decision to full size, so the preview and Apply agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import distance_transform_edt

from .parts import Parts, label_parts
from .strokes import Stroke, rasterise

# A part is held at least this. Measured on dev's 84 default cuts with one subject click at
# the truth's deepest point (docs/review.md, *Subject*): at 128 (what the hatching shows as
# kept) a subject the model held half-soft at a joint (dev 155's knees, 016, 311) fell into
# parts and the click cleared its own legs (11 photos better, 9 worse, 7 of them one-part
# truths); at 64, 7 better, 3 worse (2 one-part); at 32 haze joins a second subject to the
# product and the click clears it on 4 photos only (1 worse, a four-part truth).
SOLID = 64
FAINT = 16  # a click finds the cutout under it where its brush covers alpha at least this
# A solid piece is a part of its own (an anchor the soft alpha is shared out to) from this
# many working px, or this share of all the solid px if larger; smaller specks (a loose tuft
# of hair held solid, a speck of noise) go with the part nearest them, as soft alpha does.
ANCHOR_MIN_PX = 16
ANCHOR_MIN_SHARE = 0.001
# A cleared piece counts as a part in the report from this many working px, or this share of
# what the cutout held at SOLID and up if larger; smaller ones are specks ("loose bits").
PART_MIN_PX = 16
PART_MIN_SHARE = 0.002
CLICK_MIN_R = 1.5  # working px: a thinner brush still finds the pixel it lands on


@dataclass(frozen=True)
class SubjectChoice:
    """What a subject click decided on one grid: ``cleared`` (bool) the held pixels to clear;
    ``field`` (bool, every pixel) whether the nearest held pixel is cleared, to carry the
    decision to a finer grid; ``parts`` the solid parts cleared (``PART_MIN_PX`` and up);
    ``found`` False when the click found nothing held under its brush (nothing cleared)."""

    cleared: np.ndarray
    field: np.ndarray
    parts: int
    found: bool


def _pieces_holding(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The 8-connected pieces of ``mask`` (bool) that hold any of ``seeds`` (bool), whole."""
    _, pieces = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    held: np.ndarray = np.isin(pieces, np.unique(pieces[seeds & mask])) & mask
    return held


def _disk(shape: tuple[int, int], point: tuple[float, float], radius: float) -> np.ndarray:
    return rasterise([Stroke("keep", max(radius, CLICK_MIN_R), (point,))], shape) > 0


def _clicked_part(alpha: np.ndarray, lbl: np.ndarray, point: tuple[float, float],
                  radius: float) -> int:
    """The solid part (label of ``lbl``) the click chose: the one under its centre, else the
    nearest one its brush covers, else — when the brush covers held alpha (``FAINT`` and up,
    a click on hair) — the nearest part joined to that alpha; 0: none (nothing held there)."""
    h, w = alpha.shape
    x, y = min(max(int(round(point[0])), 0), w - 1), min(max(int(round(point[1])), 0), h - 1)
    if lbl[y, x]:
        return int(lbl[y, x])
    disk = _disk((h, w), point, radius)
    ys, xs = np.nonzero(disk & (lbl > 0))
    if ys.size:
        i = int(np.argmin((xs - point[0]) ** 2 + (ys - point[1]) ** 2))
        return int(lbl[ys[i], xs[i]])
    soft = disk & (alpha >= FAINT)
    if not soft.any() or not lbl.any():
        return 0
    # the held piece the click lands on, and the solid part in it nearest the click
    piece = _pieces_holding(alpha > 0, soft)
    ys, xs = np.nonzero(piece & (lbl > 0))
    if not ys.size:
        return 0
    i = int(np.argmin((xs - point[0]) ** 2 + (ys - point[1]) ** 2))
    return int(lbl[ys[i], xs[i]])


def choose_subject(alpha: np.ndarray, stroke: Stroke,
                   later_keeps: list[Stroke] | tuple[Stroke, ...] = ()) -> SubjectChoice:
    """The subject click ``stroke`` (one point, in ``alpha``'s pixels) on the cutout
    ``alpha`` (uint8): the held pixels not joined to the part it lands on. A keep stroke drawn
    after it (``later_keeps``, same pixels) whose centre line lands on a part it cleared brings
    that part back whole (a pair of shoes: a subject click on one, a keep click on the other)."""
    if stroke.kind != "subject" or len(stroke.points) != 1:
        raise ValueError("choose_subject takes a subject click (one point)")
    h, w = alpha.shape
    held = alpha > 0
    none = np.zeros((h, w), bool)
    solid = (alpha >= SOLID).view(np.uint8)
    parts = label_parts(solid)
    lbl = parts.labels
    point = stroke.points[0]
    clicked = _clicked_part(alpha, lbl, point, stroke.radius)
    if not clicked:
        disk = _disk((h, w), point, stroke.radius)
        if not (disk & (alpha >= FAINT)).any():
            return SubjectChoice(none, none, 0, False)
        # a cutout held soft throughout (no solid part): the held piece the click lands on
        kept = _pieces_holding(held, disk & (alpha >= FAINT))
    else:
        kept = _kept(held, lbl, parts, clicked)
    cleared = held & ~kept
    for st in later_keeps:
        cleared &= ~_brought_back(cleared, lbl, parts, st)
    if cleared.any():
        # every pixel takes the decision of the held pixel nearest it (kept or cleared)
        _, (iy, ix) = distance_transform_edt(~held, return_indices=True)
        field = cleared[iy, ix]
    else:
        field = none
    least = max(PART_MIN_PX, PART_MIN_SHARE * float(solid.sum()))
    gone = label_parts((cleared & (alpha >= SOLID)).view(np.uint8))
    if gone.stats is None:  # one part at most
        count = int(gone.n > 1 and (gone.labels > 0).sum() >= least)
    else:
        count = int((gone.stats[1:, cv2.CC_STAT_AREA] >= least).sum())
    return SubjectChoice(cleared, field, count, True)


def _anchors(lbl: np.ndarray, parts_n: int, stats: np.ndarray | None, clicked: int | None
             ) -> np.ndarray:
    """Labels of the parts large enough to take a share of the soft alpha, the clicked one
    (if any) always (bool per label, 0 = background False)."""
    big = np.zeros(parts_n, bool)
    if stats is None:  # one part
        big[1:] = True
        return big
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
    least = max(ANCHOR_MIN_PX, ANCHOR_MIN_SHARE * float(areas[1:].sum()))
    big[1:] = areas[1:] >= least
    if not big.any():  # only specks: each is a part of its own
        big[1:] = True
    if clicked:
        big[clicked] = True
    return big


def _nearest_anchor(lbl: np.ndarray, big: np.ndarray) -> np.ndarray:
    """Per pixel, the label of the nearest anchor part (Euclidean)."""
    anchor = big[lbl]
    _, (iy, ix) = distance_transform_edt(~anchor, return_indices=True)
    nearest: np.ndarray = lbl[iy, ix]
    return nearest


def _kept(held: np.ndarray, lbl: np.ndarray, parts: Parts, clicked: int) -> np.ndarray:
    """The clicked part and the held pixels nearest it (its soft alpha, its specks) joined
    to it."""
    big = _anchors(lbl, parts.n, parts.stats, clicked)
    mine = held & (_nearest_anchor(lbl, big) == clicked)
    return _pieces_holding(mine, lbl == clicked)


def _brought_back(cleared: np.ndarray, lbl: np.ndarray, parts: Parts, st: Stroke) -> np.ndarray:
    """The cleared pixels a later keep stroke ``st`` brings back: the share of each part its
    centre line lands on (held pixels nearest that part, joined to it), whole."""
    h, w = cleared.shape
    line = rasterise([Stroke("keep", min(st.radius, CLICK_MIN_R), st.points)], (h, w)) > 0
    hit = line & cleared
    if not hit.any():
        return np.zeros((h, w), bool)
    out = np.zeros((h, w), bool)
    if not lbl.any():
        return _pieces_holding(cleared, hit)
    big = _anchors(lbl, parts.n, parts.stats, None)
    near = _nearest_anchor(lbl, big)
    for j in np.unique(near[hit]):
        out |= _pieces_holding(cleared & (near == j), hit)
    return out

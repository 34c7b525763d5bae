"""Mask cleanup: drop specks, fill pin-holes, decide the subject, remove ghosts and veil."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from scipy import ndimage

from .parts import label_parts

Rect = tuple[int, int, int, int]  # (x, y, w, h), as cv2.boundingRect gives it


def parts_rect(prob: np.ndarray) -> Rect:
    """The bounding box of prob >= 0.5 (w = 0 when there is none): ``remove_specks`` and
    ``fill_holes`` both work inside it, so a caller running both computes it once."""
    x, y, w, h = cv2.boundingRect((prob >= 0.5).view(np.uint8))
    return x, y, w, h


def remove_specks(prob: np.ndarray, min_fraction: float,
                  rect: Rect | None = None) -> tuple[np.ndarray, int]:
    """Zero connected parts (prob >= 0.5, 8-connected, with their soft rim) whose
    area is below ``min_fraction`` x the largest part. Returns (prob, removed).
    ``rect``: ``parts_rect(prob)``, or any box holding it (computed when None)."""
    if min_fraction <= 0:
        return prob, 0
    bx, by, bw, bh = parts_rect(prob) if rect is None else rect
    if bw == 0:
        return prob, 0
    # every part lies in the parts' bounding box: labels and areas are found there
    _, labels, stats, _ = label_parts((prob[by:by + bh, bx:bx + bw] >= 0.5).view(np.uint8))
    if stats is None:  # one part (most photos): no speck
        return prob, 0
    areas = stats[1:, cv2.CC_STAT_AREA]
    small = np.nonzero(areas < min_fraction * areas.max())[0] + 1
    if len(small) == 0:
        return prob, 0
    # their soft rim too: the pixels (within 2 px) whose nearest part is a removed one, so
    # the rim of a kept part next to a speck is never cut (no square holes). The rim lies
    # within 3 px of the specks' box, and a distance of at most 2 there is decided by parts
    # a few px away: a crop with SPECK_CONTEXT px around it gives the whole frame's answer.
    h, w = prob.shape
    sx, sy = stats[small, cv2.CC_STAT_LEFT] + bx, stats[small, cv2.CC_STAT_TOP] + by
    ky0, kx0 = max(0, int(sy.min()) - 3), max(0, int(sx.min()) - 3)
    ky1 = min(h, int((sy + stats[small, cv2.CC_STAT_HEIGHT]).max()) + 3)
    kx1 = min(w, int((sx + stats[small, cv2.CC_STAT_WIDTH]).max()) + 3)
    cy0, cx0 = max(0, ky0 - SPECK_CONTEXT), max(0, kx0 - SPECK_CONTEXT)
    cy1, cx1 = min(h, ky1 + SPECK_CONTEXT), min(w, kx1 + SPECK_CONTEXT)
    crop = np.zeros((cy1 - cy0, cx1 - cx0), labels.dtype)  # the labels, 0 outside their box
    oy0, oy1, ox0, ox1 = max(cy0, by), min(cy1, by + bh), max(cx0, bx), min(cx1, bx + bw)
    crop[oy0 - cy0:oy1 - cy0, ox0 - cx0:ox1 - cx0] = labels[oy0 - by:oy1 - by, ox0 - bx:ox1 - bx]
    near = nearest_part(crop)
    dist = cv2.distanceTransform((crop == 0).view(np.uint8), cv2.DIST_L2, 3)
    mine = np.isin(near, small)
    # a speck drops to the level around it, not to 0: inside a haze of mid alpha (a faint
    # ghost) a zeroed speck is a black hole whose step opens the edge shaping's square window
    # (``refine.transition_gate``) around it, a square patch with a hard border (issue 12)
    level = _levels(prob[cy0:cy1, cx0:cx1], near, mine & (dist > 2.0) & (dist <= RING_PX),
                    int(small.max()) + 1)
    kill = (mine & (dist <= 2.0))[ky0 - cy0:ky1 - cy0, kx0 - cx0:kx1 - cx0]
    out = prob.copy()
    win = out[ky0:ky1, kx0:kx1]
    win[kill] = np.minimum(win[kill], level[near[ky0 - cy0:ky1 - cy0, kx0 - cx0:kx1 - cx0][kill]])
    return out, len(small)


RING_PX = 4.0  # the surroundings of a removed speck or a filled hole: 2 to this many px out


def _levels(values: np.ndarray, labels: np.ndarray, ring: np.ndarray, n: int,
            default: float = 0.0) -> np.ndarray:
    """(n,) float32: per label, the median of ``values`` on its ``ring`` pixels (``default``
    for a label without any: the value the cleanup wrote before it took the surroundings)."""
    level = np.full(n, default, np.float32)
    lab, val = labels[ring], values[ring]
    if not lab.size:  # no label has a ring pixel (the boundary list below would be [0])
        return level
    ids = np.unique(lab)
    # one call instead of a Python loop per label: the same medians (the middle two averaged
    # on an even count), 4x faster at 5,000 labels
    level[ids] = ndimage.median(val, labels=lab, index=ids)
    return level


SPECK_CONTEXT = 10  # px of context around a speck's rim: chamfer paths of length <= 2 + a step


def nearest_part(labels: np.ndarray) -> np.ndarray:
    """For every pixel, the label of the nearest labelled part (labels > 0)."""
    background = (labels == 0).astype(np.uint8)
    _, vor = cv2.distanceTransformWithLabels(background, cv2.DIST_L2, 3,
                                             labelType=cv2.DIST_LABEL_PIXEL)
    # vor numbers the zero pixels of ``background`` (the parts' pixels) in raster order
    ys, xs = np.nonzero(background == 0)
    lut = np.zeros(len(ys) + 1, labels.dtype)
    lut[1:] = labels[ys, xs]
    return lut[vor]


@dataclass
class SubjectDecision:
    keep: np.ndarray  # (h, w) float32 multiplier in [0, 1] for the alpha
    parts: int  # parts (prob >= 0.5) found
    kept: int  # parts kept as subject(s)
    removed_mass: float  # alpha mass removed (ghosts + veil) / kept subject mass


def decide_subject(prob: np.ndarray, alpha: np.ndarray, model_px: float,
                   near: float = 0.25, second_mass: float = 0.1,
                   second_confidence: float = 0.7, veil_px: tuple[float, float] = (6.0, 14.0),
                   protect: np.ndarray | None = None, attach: float = 0.2,
                   close_mass: float = 0.15, clear_subject: float = 0.8) -> SubjectDecision:
    """Which parts are the subject, and a keep multiplier that removes the rest.

    Parts are the connected regions of prob >= 0.5. The main subject has the largest alpha
    mass weighted by confidence and centrality. Another part stays when it is a real
    product: sizeable (>= ``second_mass`` of the main one) and confident (mean model
    probability >= ``second_confidence``), or when it is near the main subject (a detached
    piece of the same object: a wheel, a strap) and, if the main part is clear (mean
    probability >= ``clear_subject``), small (< ``close_mass`` of it: a big unconfident region
    beside a clear subject is a reflection, a shadow or a neighbour). Everything else
    (faint blobs, background ghosts) goes, and so does faint alpha far from every kept part
    (the veil): 1 within ``veil_px[0]`` model px of a kept part, fading to 0
    at ``veil_px[1]`` (``protect``, a [0, 1] map such as the soft band, keeps its reach),
    unless it hangs on a kept part through alpha >= ``attach`` all the way (strands of hair,
    however broad: a fur trim is as broad as a haze, so breadth never cuts a chain).
    """
    h, w = prob.shape
    binary = (prob >= 0.5).view(np.uint8)
    bx, by, bw, bh = cv2.boundingRect(binary)
    if bw == 0:
        return SubjectDecision(np.ones((h, w), np.float32), 0, 0, 0.0)
    # every part lies in the parts' bounding box, so the part statistics and distances are
    # computed there only (a product photo's subject rarely fills the frame)
    box = np.s_[by:by + bh, bx:bx + bw]
    bin_b = binary[box]
    n, labels, stats, cents = label_parts(bin_b)
    kept = np.zeros(n, bool)
    if stats is None or cents is None:
        # one part (most product photos): it is the subject, whatever its score
        kept[1] = True
    else:
        idx = labels.ravel()
        mass = np.bincount(idx, weights=alpha[box].ravel(), minlength=n)
        area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
        conf = np.bincount(idx, weights=prob[box].ravel(), minlength=n) / np.maximum(area, 1)
        diag = float(np.hypot(h, w))
        off = np.hypot(cents[:, 0] + bx - w / 2, cents[:, 1] + by - h / 2) / (diag / 2)
        score = mass * conf * (1.0 - 0.5 * np.clip(off, 0, 1))
        score[0] = -1
        main = int(np.argmax(score))
        kept[main] = True
        real = (mass >= second_mass * mass[main]) & (conf >= second_confidence)
        kept[1:] |= real[1:]
        if not kept[1:].all():
            # a part is close when any of its pixels is within reach of the main part
            mw, mh = stats[main, cv2.CC_STAT_WIDTH], stats[main, cv2.CC_STAT_HEIGHT]
            reach = _f32_at_most(near * float(np.hypot(mw, mh)) + 2.0 * model_px)
            d_main = cv2.distanceTransform((labels != main).astype(np.uint8), cv2.DIST_L2, 3)
            close = np.zeros(n, bool)
            close[labels[(d_main <= reach) & (bin_b > 0)]] = True
            if conf[main] >= clear_subject:
                # beside a subject the model is sure of, a sizeable unsure part is a
                # reflection, a shadow or a neighbour; beside an unsure one it may be the rest
                close &= mass < close_mass * mass[main]
            kept[1:] |= close[1:]
    kept_b = kept[labels] & (bin_b > 0)
    # what a kept part encloses (a glass pane, the inside of a handle) is the subject's own
    # business: the veil is measured from the filled outline. Beyond ``hi`` the keep is 0, so
    # the distance is only needed that far around the parts' box (a 3x3 chamfer step is
    # >= 0.955 px, and its shortest paths never leave the box around their two ends; OpenCV
    # sums in float, so a few values differ from a whole-frame transform in the last bits)
    lo: float | np.ndarray = veil_px[0] * model_px  # per pixel once ``protect`` raises it
    hi = veil_px[1] * model_px
    pad = int(np.ceil(hi / 0.95)) + 2
    vy0, vx0 = max(0, by - pad), max(0, bx - pad)
    vy1, vx1 = min(h, by + bh + pad), min(w, bx + bw + pad)
    veil = np.s_[vy0:vy1, vx0:vx1]
    kept_v = np.zeros((vy1 - vy0, vx1 - vx0), bool)
    kept_v[by - vy0:by - vy0 + bh, bx - vx0:bx - vx0 + bw] = kept_b
    d = cv2.distanceTransform((~_filled(kept_v)).astype(np.uint8), cv2.DIST_L2, 3)
    if protect is not None:
        lo = lo + protect[veil] * (hi - lo)
    keep = np.zeros((h, w), np.float32)
    keep_veil = keep[veil]
    # in strips of rows: the same operations, but their float64 temporaries stay small (a
    # frame-sized one costs more in fresh pages than in arithmetic)
    for y in range(0, d.shape[0], VEIL_STRIP):
        rows = slice(y, y + VEIL_STRIP)
        lo_s = lo[rows] if isinstance(lo, np.ndarray) else lo
        keep_veil[rows] = np.clip((hi - d[rows]) / np.maximum(hi - lo_s, 1e-3), 0.0, 1.0)
    # strands reach far but hang together: alpha joined to a kept part through a chain of
    # non-negligible alpha is detail, not veil. Every chain lies in the chains' bounding box,
    # so they are labelled there (with the parts' box, whose kept pixels are looked up)
    chain = (alpha >= attach).view(np.uint8)
    cx, cy, cw, ch = cv2.boundingRect(chain)
    if cw == 0:
        cx, cy, cw, ch = bx, by, bw, bh
    cx0, cy0 = min(cx, bx), min(cy, by)
    cx, cy, cw, ch = cx0, cy0, max(cx + cw, bx + bw) - cx0, max(cy + ch, by + bh) - cy0
    cbox = np.s_[cy:cy + ch, cx:cx + cw]
    m, chain_lab = cv2.connectedComponents(chain[cbox], connectivity=8)
    joined = np.zeros(m, bool)
    joined[chain_lab[by - cy:by - cy + bh, bx - cx:bx - cx + bw][kept_b]] = True
    joined[0] = False
    keep[cbox][joined[chain_lab]] = 1.0
    # a removed part goes with its own soft rim even when it lies near a kept one
    if not kept[1:].all():
        # the rim lies within 2 model px of the parts, so within the parts' box padded by that
        # reach (a 3x3 chamfer step is >= 0.955 px) and SPECK_CONTEXT px of context, as for
        # the specks: nearest part and distance are found in that window, not the frame
        rpad = int(np.ceil(2.0 * model_px / 0.95)) + 2 + SPECK_CONTEXT
        ry0, rx0 = max(0, by - rpad), max(0, bx - rpad)
        ry1, rx1 = min(h, by + bh + rpad), min(w, bx + bw + rpad)
        full = np.zeros((ry1 - ry0, rx1 - rx0), labels.dtype)
        full[by - ry0:by - ry0 + bh, bx - rx0:bx - rx0 + bw] = labels
        bin_r = binary[ry0:ry1, rx0:rx1]
        near_lab = nearest_part(full)
        rim = ~kept[near_lab] & (cv2.distanceTransform(
            (bin_r == 0).astype(np.uint8), cv2.DIST_L2, 3) <= 2.0 * model_px)
        keep[ry0:ry1, rx0:rx1][rim | (~kept[full] & (bin_r > 0))] = 0.0
    # the same float32 products as alpha * kept_mask over the frame (0 outside the box), so
    # the same sum
    kept_alpha = np.zeros((h, w), alpha.dtype)
    np.multiply(alpha[box], kept_b, out=kept_alpha[box])
    kept_mass = float(kept_alpha.sum()) or 1.0
    rest = 1.0 - keep  # then alpha * rest in place: one frame-sized temporary, not two
    rest = np.multiply(rest, alpha, out=rest) if rest.dtype == alpha.dtype else alpha * rest
    removed_mass = float(rest.sum()) / kept_mass
    return SubjectDecision(keep, int(n - 1), int(kept[1:].sum()), removed_mass)


VEIL_STRIP = 64  # rows of the veil's ramp computed at a time


def _f32_at_most(limit: float) -> np.float32:
    """The largest float32 <= ``limit``: ``d <= it`` is ``d <= limit`` for a float32 ``d``
    (a plain float would be rounded to float32 first, possibly upwards)."""
    r = np.float32(limit)
    return r if float(r) <= limit else np.nextafter(r, np.float32(-np.inf))


def fill_holes(prob: np.ndarray, max_fraction: float,
               plateau_min_area: float = 0.0, rect: Rect | None = None) -> tuple[np.ndarray, int]:
    """Fill background holes (prob < 0.5, not touching the frame) smaller than
    ``max_fraction`` x image area. Holes that are semi-transparent (prob well
    above zero over more than ``plateau_min_area`` pixels, e.g. glass) are kept.
    ``rect``: ``parts_rect(prob)``, or any box holding it (computed when None): the one
    computed before ``remove_specks`` still holds the parts it leaves."""
    if max_fraction <= 0:
        return prob, 0
    h, w = prob.shape
    # an enclosed hole lies inside the object's box, and a background region touching that
    # box's border reaches the background outside it (all of which is < 0.5): labelling the
    # box alone finds the same holes as the whole frame, at the object's share of the cost.
    # A larger box finds the same holes: what lies between it and the object's box is
    # background joined to the larger box's border.
    bx, by, bw_, bh_ = parts_rect(prob) if rect is None else rect
    if bw_ < 3 or bh_ < 3:
        return prob, 0
    sub = prob[by:by + bh_, bx:bx + bw_]
    holes = (sub < 0.5).view(np.uint8)
    # labels without OpenCV's statistics (which cost eight times the labelling): a region is
    # enclosed when its label is nowhere on the box's border, and areas are counted only
    # when there is one
    n, labels = cv2.connectedComponents(holes, connectivity=4)
    if n <= 1:  # label 0 is the object; a rectangle's box may hold no outer background at all
        return prob, 0
    inner = np.ones(n, bool)
    for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        inner[edge] = False
    if not inner[1:].any():
        return prob, 0
    area = np.bincount(labels.ravel(), minlength=n)
    fill = inner & (area <= max_fraction * h * w)
    fill[0] = False
    if not fill.any():  # most photos: no small enclosed hole, no per-hole mean to take
        return prob, 0
    mean_prob = np.bincount(labels.ravel(), weights=sub.ravel(), minlength=n) / np.maximum(area, 1)
    # small, enclosed, and really empty (a semi-transparent hole, e.g. glass, stays)
    fill &= (mean_prob <= 0.15) | (area <= plateau_min_area)
    idx = np.nonzero(fill)[0]
    if len(idx) == 0:
        return prob, 0
    # a hole rises to the level of the part around it, not to 1: a hole in a haze of mid
    # alpha filled opaque is a white speck, and its step opens the edge shaping's square
    # window around it (as for the specks). Inside an opaque object the level is ~1.
    # window and distances around the filled holes only (a chamfer path of at most RING_PX
    # stays in the box around its two ends)
    ys, xs = np.nonzero(fill[labels])
    pad = int(RING_PX) + 1
    y0, x0 = max(0, int(ys.min()) - pad), max(0, int(xs.min()) - pad)
    y1, x1 = min(bh_, int(ys.max()) + 1 + pad), min(bw_, int(xs.max()) + 1 + pad)
    lab_c = labels[y0:y1, x0:x1]
    holes_c = np.where(fill[lab_c], lab_c, 0)
    dist = cv2.distanceTransform((holes_c == 0).view(np.uint8), cv2.DIST_L2, 3)
    level = _levels(sub[y0:y1, x0:x1], nearest_part(holes_c),
                    (lab_c == 0) & (dist > 2.0) & (dist <= RING_PX), n, default=1.0)
    out = prob.copy()
    win = out[by + y0:by + y1, bx + x0:bx + x1]
    mask = holes_c > 0
    win[mask] = np.maximum(win[mask], level[holes_c[mask]])
    return out, len(idx)


def _filled(mask: np.ndarray) -> np.ndarray:
    """mask with every region it encloses (not connected to the frame) filled."""
    h, w = mask.shape
    flood = np.zeros((h + 2, w + 2), np.uint8)
    flood[1:-1, 1:-1] = mask
    cv2.floodFill(flood, None, (0, 0), 2)
    filled: npt.NDArray[np.bool_] = flood[1:-1, 1:-1] != 2
    return filled

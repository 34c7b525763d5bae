"""Quality signals computed without ground truth, and the risk model on them (used to
pre-flag and sort review)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from .parts import label_parts

# a contour pixel is "on an edge" when the image gradient within EDGE_REACH model px of it
# reaches EDGE_SHARE of the strong edges (90th percentile) around the object (EDGE_BAND
# model px either side of the contour), and at least EDGE_FLOOR (a step of 4 grey levels under
# the 3x3 Sobel: below it, noise, not an edge); round numbers, not fitted. It is measured at
# EDGE_SCALE to twice that px per model px whatever the photo's size: the same photo gives
# about the same value at any resolution, and a 2 MP working image costs a ninth of the pixels.
EDGE_REACH, EDGE_BAND, EDGE_SHARE, EDGE_SCALE, EDGE_FLOOR = 1.0, 4.0, 0.5, 2.0, 16.0


def edge_support(rgb: np.ndarray, obj: np.ndarray, model_px: float) -> float:
    """Share of the object's contour (inside the frame) that lies on an image edge.

    A cutout whose outline runs where the photo has no edge (across a flat backdrop, through
    the middle of a second object, beside a missed part) is wrong there, whatever the model's
    confidence: this is the one signal that reads the photo rather than the model. rgb:
    uint8 (H, W, 3); obj: bool (H, W) object mask. 1.0 without a contour.
    """
    h, w = obj.shape
    obj_u8 = obj.view(np.uint8)
    bx, by, bw, bh = cv2.boundingRect(obj_u8)
    if bw == 0:
        return 1.0
    k = max(1, int(model_px / EDGE_SCALE))  # whole-pixel reduction: OpenCV's fast path
    px = model_px / k  # measuring px per model px, in [EDGE_SCALE, 2 EDGE_SCALE)
    reach = max(1, int(round(EDGE_REACH * px)))
    band_px = max(2, int(round(EDGE_BAND * px)))
    # everything read lies within pad px of the object's box (Sobel: 1 px more)
    pad = (band_px + reach + 2) * k
    y0, x0 = max(0, by - pad), max(0, bx - pad)
    y1, x1 = min(h, by + bh + pad), min(w, bx + bw + pad)
    # a multiple of k, trimmed on the side with more margin (a frame side loses < k px)
    dy, dx = (y1 - y0) % k, (x1 - x0) % k
    y0, y1 = (y0 + dy, y1) if by - y0 >= y1 - by - bh else (y0, y1 - dy)
    x0, x1 = (x0 + dx, x1) if bx - x0 >= x1 - bx - bw else (x0, x1 - dx)
    g = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    o: np.ndarray = obj_u8[y0:y1, x0:x1]
    if k > 1:
        size = ((x1 - x0) // k, (y1 - y0) // k)
        g = cv2.resize(g, size, interpolation=cv2.INTER_AREA)
        o = cv2.resize(o, size, interpolation=cv2.INTER_AREA)  # 0/1: the majority, rounded
    if not o.any():
        return 1.0
    contour = o > cv2.erode(o, np.ones((3, 3), np.uint8))  # the frame never erodes
    if not contour.any():
        return 1.0
    mag = cv2.magnitude(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
    d_in = cv2.distanceTransform(o, cv2.DIST_L2, 3)
    d_out = cv2.distanceTransform(1 - o, cv2.DIST_L2, 3)
    around = mag[(d_in <= band_px) & (d_out <= band_px)]
    q = int(0.9 * (len(around) - 1))
    strong = max(EDGE_FLOOR, EDGE_SHARE * float(np.partition(around, q)[q]))
    near_edge = cv2.distanceTransform((mag < strong).view(np.uint8), cv2.DIST_L2, 3) <= reach
    return float(np.count_nonzero(near_edge[contour]) / np.count_nonzero(contour))


#: uint8 -> float32 in [0, 1]: the values of ``v.astype(np.float32) / 255.0``, looked up
_UNIT = np.arange(256, dtype=np.float32) / 255.0


def _whole_pixels(img: np.ndarray) -> np.ndarray:
    """(H, W, C) uint8 as a contiguous (H, W) array of C-byte pixels: a boolean mask picks
    whole pixels in one copy (a mask on the (H, W, C) view copies byte by byte, ~20x slower)."""
    c = np.ascontiguousarray(img)
    return c.view(np.dtype((np.void, c.shape[2] * c.itemsize))).reshape(c.shape[:2])


def unit_means(px: np.ndarray) -> np.ndarray:
    """The mean of each channel of uint8 pixels ``px`` (N, C), read as v / 255, as float32:
    ``_UNIT[px].mean(axis=0)`` bit for bit. numpy sums an axis-0 mean pixel by pixel (each
    channel a running float32 sum, in order); the same running sums, along each channel's own
    contiguous copy (looked up by OpenCV), skip numpy's per-pixel loop: about half the CPU
    (17 -> 8 ms for 600,000 pixels)."""
    sums = cv2.LUT(np.ascontiguousarray(px.T), _UNIT)  # (C, N) float32
    np.add.accumulate(sums, axis=1, out=sums)
    means = np.ascontiguousarray(sums[:, -1])
    # numpy's mean divides by the count as an intp, in place
    np.true_divide(means, np.intp(px.shape[0]), out=means, casting="unsafe")
    return means


def _as_channels(px: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Picked whole pixels back as (N, C) of ``like``'s dtype."""
    return px.view(like.dtype).reshape(-1, like.shape[2])


def _count_between(x: np.ndarray, lo: float, hi: float) -> int:
    """How many lo < x < hi, counted in one pass (OpenCV's inclusive range, between the next
    float32 values inside the bounds: numpy compares a float32 map with the bounds in float32)."""
    if x.dtype != np.float32 or x.ndim != 2:
        return int(np.count_nonzero((x > lo) & (x < hi)))
    inside = cv2.inRange(x, float(np.nextafter(np.float32(lo), np.float32(np.inf))),
                         float(np.nextafter(np.float32(hi), np.float32(-np.inf))))
    return int(cv2.countNonZero(inside))


# "see-through inside": translucent alpha (SEE_LO < alpha < SEE_HI) at least SEE_DEPTH of the
# product's size (the square root of its outline's area, holes filled) and SEE_DEPTH_MODEL
# model px from its outline and from every clear (alpha <= SEE_LO) pixel, so a real hole (a
# handle's loop) and the soft rims of the outline and of the holes never count. Measured on
# the object's box at SEE_SCALE to twice that px per model px. Round numbers, not fitted.
SEE_LO, SEE_HI, SEE_DEPTH, SEE_DEPTH_MODEL, SEE_SCALE = 0.1, 0.9, 0.05, 2.0, 2.0


def see_through(alpha: np.ndarray, obj: np.ndarray, model_px: float) -> float:
    """Share of the product's outline (alpha >= 0.5, holes filled) that is translucent deep
    inside it: a solid part cut half-transparent (a cap the crop pass doubts) or glass.

    alpha: float32 (H, W) in [0, 1]; obj: bool (H, W), alpha >= 0.5. 0.0 without an object.
    """
    obj_u8 = obj.view(np.uint8)
    bx, by, bw, bh = cv2.boundingRect(obj_u8)
    if bw == 0:
        return 0.0
    # measured at 2-4 px per model px (as edge_support): the depth is a share of the size, so
    # a 2 MP photo costs a ninth of the pixels for the same value
    k = max(1, int(model_px / SEE_SCALE))
    a = alpha[by:by + bh, bx:bx + bw]
    o: np.ndarray = obj_u8[by:by + bh, bx:bx + bw]
    if k > 1:
        a = cv2.resize(a, (max(1, bw // k), max(1, bh // k)), interpolation=cv2.INTER_AREA)
        o = (a >= 0.5).view(np.uint8)
    # the box in a 1 px ring of background: the flood fill starts there, and the distance
    # transform (which sees nothing beyond the array) measures from it where the object
    # fills its box (the frame counts as outside)
    o = cv2.copyMakeBorder(o, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    a = cv2.copyMakeBorder(a, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    cv2.floodFill(o, None, (0, 0), 2)
    filled = cv2.inRange(o, 0, 1)  # 255 on the object and its holes (not the fill's 2)
    area = cv2.countNonZero(filled)
    if area == 0:  # an object thinner than the reduction
        return 0.0
    # inside the outline and not clear: a clear pixel is a hole (or a cut) whose soft rim
    # the distance keeps out
    lo = float(np.nextafter(np.float32(SEE_LO), np.float32(np.inf)))  # inRange is inclusive
    hi = float(np.nextafter(np.float32(SEE_HI), np.float32(-np.inf)))
    src = cv2.bitwise_and(filled, cv2.inRange(a, lo, 2.0))
    depth = max(SEE_DEPTH_MODEL * model_px / k, SEE_DEPTH * float(np.sqrt(area)))
    deep = cv2.inRange(cv2.distanceTransform(src, cv2.DIST_L2, 3), depth, float(a.size))
    translucent = cv2.bitwise_and(deep, cv2.inRange(a, lo, hi))
    return float(cv2.countNonZero(translucent) / area)


# "half-kept part": translucent alpha (HALF_LO < alpha < HALF_HI, as ``see_through``) in a blob
# at least HALF_WIDTH model px across (it survives an opening: a soft rim, a strand or fur never
# does), coloured like the product's core rather than the far backdrop (16-level-per-channel
# colour histograms of the core, HALF_CORE model px inside the outline, and of the frame beyond
# HALF_FAR model px; a colour counts as the product's when its share of the core's pixels is
# larger than its share of the backdrop's). Measured at HALF_SCALE to twice that px per model
# px. Round numbers, not fitted.
HALF_LO, HALF_HI, HALF_WIDTH, HALF_CORE, HALF_FAR, HALF_SCALE = 0.1, 0.9, 3.0, 2.0, 12.0, 2.0


def half_kept(rgb: np.ndarray, alpha: np.ndarray, model_px: float) -> float:
    """Area, as a share of the kept product's (alpha >= 0.5), of the thick half-transparent
    parts coloured like the product, beside it or inside its outline: a part the cut lost
    half of (a stem or a scissors' handle faded to alpha 0.3, which the core's opacity never
    sees, as it lies outside the kept product) or kept half of (a hub left at 0.6).

    rgb: uint8 (H, W, 3); alpha: float32 (H, W) in [0, 1]. 0.0 without a product.
    """
    k = max(1, int(model_px / HALF_SCALE))
    if k > 1:
        size = (max(1, alpha.shape[1] // k), max(1, alpha.shape[0] // k))
        alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    px = model_px / k
    obj = cv2.inRange(alpha, 0.5, 2.0)
    area = cv2.countNonZero(obj)
    if area == 0:
        return 0.0
    lo = float(np.nextafter(np.float32(HALF_LO), np.float32(np.inf)))  # inRange is inclusive
    hi = float(np.nextafter(np.float32(HALF_HI), np.float32(-np.inf)))
    width = max(3, 2 * int(round(HALF_WIDTH * px / 2)) + 1)
    half = cv2.morphologyEx(cv2.inRange(alpha, lo, hi), cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width)))
    if not cv2.countNonZero(half):
        return 0.0
    core = cv2.inRange(cv2.distanceTransform(obj, cv2.DIST_L2, 3), HALF_CORE * px,
                       float(alpha.size))
    if not cv2.countNonZero(core):  # a product thinner than the core's depth: all of it
        core = obj
    far = cv2.inRange(cv2.distanceTransform(cv2.bitwise_not(obj), cv2.DIST_L2, 3),
                      HALF_FAR * px, float(alpha.size))
    if not cv2.countNonZero(far):  # no backdrop to compare with
        return 0.0
    q = (rgb >> 4).astype(np.uint16)
    colour = (q[..., 0] << 8) | (q[..., 1] << 4) | q[..., 2]
    in_core = np.bincount(colour[core > 0], minlength=4096)
    in_far = np.bincount(colour[far > 0], minlength=4096)
    # compared as shares of each region (a half count for an empty bin: one pixel is noise)
    like = (in_core + 0.5) * (in_far.sum() + 2048) > (in_far + 0.5) * (in_core.sum() + 2048)
    return float(np.count_nonzero(like[colour[half > 0]]) / area)


# "tiny subject": the kept product's box is under TINY_SHARE of the frame's shorter side on
# its long side (or under TINY_PX working px): a speck, whatever the photo showed. The long
# side, not the box's area, so a thin product (a pen across the frame) is never a speck.
# Round numbers, not fitted: the smallest true object in the 98 ground-truth masks of the eval
# sets (in-the-wild photos, far more distant subjects than product shots) spans 23 % of the
# shorter side, and the rule fires on none of their 98 `fast` or `default` cutouts
# (2026-12-02); a product photo that shows its product at under a tenth of that is a speck.
TINY_SHARE, TINY_PX = 0.1, 32


def detached_share(areas: np.ndarray) -> float:
    """Share of the kept product's area (alpha >= 0.5) outside its largest part, from the
    parts' pixel counts: a second subject kept beside the one the photo is about (a passer-by,
    a neighbour's car), a piece cut off the product. A share, not a count of the parts: a few
    specks barely move it, a second person of half the size does (2026-12-05, docs/engine.md).
    0.0 with one part or none."""
    total = float(areas.sum()) if len(areas) else 0.0
    return 0.0 if total <= 0 else 1.0 - float(areas.max()) / total


def touching_sides(obj: np.ndarray) -> list[str]:
    """The frame's sides (top, bottom, left, right) the object mask ``obj`` reaches."""
    return [side for side, edge in (("top", obj[0]), ("bottom", obj[-1]),
                                    ("left", obj[:, 0]), ("right", obj[:, -1])) if edge.any()]


def tiny_subject(box_w: int, box_h: int, frame_h: int, frame_w: int) -> bool:
    """Whether an object whose box is box_w x box_h is a speck of a frame_w x frame_h frame
    (False without an object)."""
    longest = max(box_w, box_h)
    return bool(longest) and longest < max(TINY_PX, TINY_SHARE * min(frame_h, frame_w))


def quality_signals(prob: np.ndarray, alpha: np.ndarray, rgb: np.ndarray,
                    background: np.ndarray | None = None,
                    pass_disagreement: float | None = None,
                    model_px: float | None = None) -> dict[str, Any]:
    """All inputs at the same (working) resolution.

    prob: fused model probability [0, 1]; alpha: final alpha float [0, 1];
    rgb: uint8 image; background: optional estimated backdrop colour (H, W, 3) in [0, 1];
    model_px: working pixels per model pixel (default: a 320 px model). The product's size
    export reads (``product_px``) is not measured here: the engine measures it on the full-size
    alpha as the renderer does (``variants.compliance.export_signals``).
    """
    h, w = alpha.shape
    obj = alpha >= 0.5
    obj_u8 = obj.view(np.uint8)
    area = int(np.count_nonzero(obj))
    total = h * w
    soft = _count_between(alpha, 0.05, 0.95)
    square = np.ones((3, 3), np.uint8)
    inner = cv2.erode(obj_u8, square)
    perimeter = area - int(np.count_nonzero(inner))  # the contour: obj minus its erosion
    # every part lies in the object's bounding box
    bx, by, bw, bh = cv2.boundingRect(obj_u8)
    box = np.s_[by:by + bh, bx:bx + bw]
    fragments = 0
    detached = 0.0
    if area:
        least = max(4, 0.001 * area)
        stats = label_parts(obj_u8[box]).stats
        # one part's area is ``area``
        fragments = (int(area >= least) if stats is None
                     else int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= least)))
        if stats is not None:
            detached = detached_share(stats[1:, cv2.CC_STAT_AREA])
    touches = touching_sides(obj) if area else []
    uncertain = _count_between(prob, 0.1, 0.9)
    confidence = 0.0
    if area:  # |2 prob - 1| over the box, the same operations in one buffer
        margin = prob[box] * 2
        margin -= 1
        confidence = float(np.abs(margin, out=margin).mean())
    # a 5x5 erosion is two 3x3 ones (the frame never erodes)
    inner2 = cv2.erode(inner, square)
    # halo risk: how close the inner rim's colour is to the local backdrop colour
    halo_risk = 0.0
    if area and background is not None:
        # the rim and the object's pixels all lie in its box; only the pixels used are
        # converted (the same values, in the same order, as converting the whole image)
        obj_b = obj[box]
        rim = obj_b & (inner2[box] == 0)
        if rim.any():
            rgb_b = _whole_pixels(rgb[box])
            core_px = obj_b & ~rim
            fg_px = core_px if core_px.any() else rim
            fg_mean = unit_means(_as_channels(rgb_b[fg_px], rgb))
            rim_img = _UNIT[_as_channels(rgb_b[rim], rgb)]
            ys, xs = np.nonzero(rim)
            d_bg = np.linalg.norm(rim_img - background[ys + by, xs + bx], axis=1)
            d_fg = np.linalg.norm(rim_img - fg_mean, axis=1)
            halo_risk = float(np.mean(d_bg < d_fg))
    # how opaque the object's core is: a half-transparent handle or a filled wheel is doubt,
    # not glass, far more often than not
    core = inner2[box] > 0
    interior = float(alpha[box][core].mean()) if core.any() else 0.0
    model_px = model_px or max(h, w) / 320
    on_edges = edge_support(rgb, obj, model_px) if area else 0.0
    # a hint for the reviewer (a doubted cap and glass read alike), not part of the risk
    inside = see_through(alpha, obj, model_px) if area else 0.0
    halved = half_kept(rgb, alpha, model_px) if area else 0.0
    sig = {
        "empty": area == 0,
        # a hint for the reviewer (export refuses a product this small on its own)
        "tiny_subject": bool(area) and tiny_subject(bw, bh, h, w),
        "interior_alpha": round(interior, 4),
        "edge_support": round(on_edges, 4),
        "see_through": round(inside, 4),
        "half_kept": round(halved, 4),
        "fill_ratio": round(area / total, 4),
        "fragment_count": fragments,
        "detached": round(detached, 4),
        "edge_softness_px": round(float(soft) / max(perimeter, 1), 3),
        "uncertain_fraction": round(float(uncertain) / total, 4),
        "confidence": round(confidence, 4),
        "low_confidence": bool(area == 0 or confidence < 0.75),
        "halo_risk": round(halo_risk, 4),
        "touches_frame": bool(touches),
        "touching_sides": touches,
    }
    if pass_disagreement is not None:
        sig["pass_disagreement"] = round(float(pass_disagreement), 4)
    return sig


#: rows per strip when counting a full-size mask's runs
_RUN_ROWS = 512


def component_areas(obj: np.ndarray) -> np.ndarray:
    """Pixel counts of the 8-connected components of the bool mask ``obj`` (the object's box:
    no component lies outside it). Labelled 16-bit when the mask has fewer row runs than
    that can number (a component holds at least one run): a 45 MP mask's 32-bit labels were
    180 MB (docs/review.md, memory); the same areas either way."""
    if not obj.size:
        return np.zeros(0, np.int64)
    mask = obj.view(np.uint8)
    runs = 0
    for top in range(0, obj.shape[0], _RUN_ROWS):
        rows = obj[top : top + _RUN_ROWS]
        runs += int(np.count_nonzero(rows[:, 0]))
        runs += int(np.count_nonzero(rows[:, 1:] > rows[:, :-1]))
    ltype = cv2.CV_16U if runs < np.iinfo(np.uint16).max else cv2.CV_32S
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=ltype)
    areas: np.ndarray = stats[1:, cv2.CC_STAT_AREA]
    return areas


def drawn_signals(alpha: np.ndarray, rgb: np.ndarray, work_max: int = 1024,
                  reduced: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:
    """The signals of an alpha no model probability came with (a retouch's strokes or an
    uploaded PNG): no confidence or uncertainty, but everything the risk model reads — the
    core's opacity, the half-kept parts, the outline on the photo's edges, the parts — so a
    retouch that made the cutout worse ranks in the queue like a model run would, not last
    (QA 2026-12-03: risk 0.11 and no pre-flags for a wheel whose hub a click had taken).

    alpha: uint8 (H, W) at full size; rgb: uint8 (H, W, 3). The box, parts and frame sides
    are measured at full size, the core and outline on a copy reduced to ``work_max``;
    ``reduced`` is that copy (alpha, rgb) when the caller has already made it (a retouch
    stores the same reduction as its retouch base: one pass over a 24 MP photo, not two)."""
    obj = alpha >= 128  # the model's test (alpha >= 0.5) on uint8
    area = int(np.count_nonzero(obj))
    box_x, box_y, box_w, box_h = cv2.boundingRect(obj.view(np.uint8))
    touches = touching_sides(obj) if area else []
    areas = component_areas(obj[box_y : box_y + box_h, box_x : box_x + box_w])
    fragments = int(np.count_nonzero(areas >= max(4, 0.001 * area)))
    height, width = alpha.shape
    sig: dict[str, Any] = {
        "empty": area == 0,
        "tiny_subject": bool(area) and tiny_subject(box_w, box_h, height, width),
        "fill_ratio": round(area / alpha.size, 4),
        "fragment_count": fragments, "detached": round(detached_share(areas), 4),
        "touches_frame": bool(touches),
        "touching_sides": touches, "hand_made": True,
    }
    if not area:
        return sig
    from .retouch import reduce_for_cut  # the one reduction to the retouch's working size

    alpha_w, rgb_w = reduced or (reduce_for_cut(alpha, work_max), reduce_for_cut(rgb, work_max))
    a = alpha_w.astype(np.float32) / 255.0
    obj_w = a >= 0.5
    if not obj_w.any():  # a product thinner than a reduced pixel
        return sig
    model_px = max(a.shape) / 320
    core = cv2.erode(obj_w.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    sig["interior_alpha"] = round(float(a[core].mean()) if core.any() else 0.0, 4)
    sig["edge_support"] = round(edge_support(rgb_w, obj_w, model_px), 4)
    sig["see_through"] = round(see_through(a, obj_w, model_px), 4)
    sig["half_kept"] = round(half_kept(rgb_w, a, model_px), 4)
    return sig


# Logistic model of P(IoU < 0.80) from signals, fitted once on the 84-image dev set
# (`cutout_benchmark` prints the cross-validated AUC of a refit next to the shipped one);
# monotone by construction: every weight is >= 0, so more doubt never lowers the risk. The
# three it weighs see different failures: how much of the cutout lies apart from its largest
# part (a second subject kept, a piece cut off), an outline that does not follow the photo's
# edges (a wrong or extra object, a missed part) and a part of the product kept
# half-transparent (a stem faded out under its cap, a half-transparent handle, a filled
# wheel). The core's opacity and the count of parts are offered to the fit and get no weight:
# the thick half-transparent parts the core saw are in ``half_kept``, which also sees those
# outside the kept product, and a count weighs a speck as much as a passer-by, where
# ``detached`` (2026-12-05) weighs what is kept apart. Edge softness, uncertain fraction, pass
# disagreement and the crop pass's agreement were tried too: they measure the same doubt and
# added nothing out of sample.
# Heavy-tailed signals are logged: a few extreme photos must not set the scale.
RISK_MODEL: dict[str, float] = {
    "intercept": -2.8708, "off_edge": 7.9346, "half_kept": 0.711, "detached": 1.3964,
}


def risk_features(sig: dict[str, Any]) -> dict[str, float]:
    """Every feature the risk model may use, from stored signals; a signal missing from an
    older cutout counts as no doubt."""
    def num(key: str, default: float = 0.0) -> float:
        v = sig.get(key, default)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else default

    return {
        "softness": float(np.log1p(num("edge_softness_px"))),
        "uncertain": float(np.log1p(100 * num("uncertain_fraction"))),
        "disagreement": float(np.log1p(100 * num("pass_disagreement"))),
        "parts": float(np.log(max(1.0, num("parts", num("fragment_count", 1))))),
        "core_doubt": float(np.log1p(100 * max(0.0, 1.0 - num("interior_alpha", 1.0)))),
        "off_edge": 1.0 - min(1.0, max(0.0, num("edge_support", 1.0))),
        "half_kept": float(np.log1p(100 * max(0.0, num("half_kept")))),
        "detached": float(np.log1p(100 * max(0.0, num("detached")))),
    }


def risk_score(sig: dict[str, Any]) -> float:
    """Probability-like risk in [0, 1] that the cutout is bad (IoU < 0.80); 1 if empty."""
    if sig.get("empty"):
        return 1.0
    f = risk_features(sig)
    z = RISK_MODEL.get("intercept", 0.0) + sum(RISK_MODEL.get(k, 0.0) * v for k, v in f.items())
    return round(float(1.0 / (1.0 + np.exp(-z))), 4)

"""The detail-brush benchmark on the soft-alpha set: simulated clicks and detail strokes."""

from __future__ import annotations

import statistics
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from . import metrics
from .centreline import thin, walk
from .clicks import (
    CLICK_RADIUS,
    Refiner,
    binary_set,
    click_stroke,
    next_click,
)
from .protocol import RunOptions, run_protocol
from .strokes import DETAIL, Stroke, rasterise

if TYPE_CHECKING:
    from typing_extensions import Unpack

REPORT_AFTER = (0, 1, 2, 3, 5, 10)
COLS = ("sad", "grad", "soft_mae", "band_mae")
# a segmentation error (outside the person's band) this many px deep or deeper gets a click:
# the click's disk fits inside it; shallower slivers are the band's business
SEG_DEPTH = CLICK_RADIUS
# a detail stroke: a person paints along the band's centre line, at most this far either way
# from where the error is worst, with one brush as wide as the band there (clamped)
HALF_LENGTH = 120
RADIUS_MIN, RADIUS_MAX = 3.0, 30.0
ERR_SIGMA = 3.0  # px: the reviewer sees where a patch of the band is wrong, not one pixel
DONE_ERR = 0.03  # smoothed band error below which the reviewer sees nothing left to fix
WINDOW_MARGIN = 24  # as retouch_detail._detail_windows: the stroke's window for the local SAD


def band_of(trimap: np.ndarray) -> np.ndarray:
    """The trimap's unknown band (the README's band_mae rule: strictly between 0.1 and 0.9)."""
    t = trimap.astype(np.float32) / 255.0
    return (t > 0.1) & (t < 0.9)


def _seg_click(alpha: np.ndarray, gt: np.ndarray,
               band: np.ndarray) -> tuple[tuple[int, int], bool, float] | None:
    """The clicks.py click on the binarised error outside the band, and its depth."""
    mask = np.where(gt >= 128, 255, 0).astype(np.uint8)
    mask[band] = 128  # the band is the detail brush's: ignored, as RITM ignores void
    pred = alpha >= 128
    click = next_click(pred, mask)
    if click is None:
        return None
    (x, y), positive = click
    err = (mask > 128) & ~pred if positive else (mask < 128) & pred
    d = cv2.distanceTransform(np.pad(err, 1).astype(np.uint8), cv2.DIST_L2, 0)[1:-1, 1:-1]
    return (x, y), positive, float(d[y, x])


def detail_stroke(err: np.ndarray, band: np.ndarray, painted: np.ndarray) -> Stroke | None:
    """One detail stroke a person could paint: from the band pixel where the (smoothed) alpha
    error is worst, along the band's centre line at most HALF_LENGTH px either way, one radius
    = the band's median half-width along the path (clamped). None when the band looks right."""
    e = cv2.GaussianBlur(np.where(band, err, 0).astype(np.float32), (0, 0), ERR_SIGMA)
    # a reviewer moves on from a spot already painted
    e[~band | painted] = 0
    if float(e.max()) < DONE_ERR:
        return None
    y, x = (int(v) for v in np.unravel_index(int(np.argmax(e)), e.shape))
    h, w = band.shape
    r = int(HALF_LENGTH + 2 * RADIUS_MAX)
    y0, y1, x0, x1 = max(0, y - r), min(h, y + r + 1), max(0, x - r), min(w, x + r + 1)
    # the part of the band not painted yet: a person paints along what is left, not over the
    # same stretch again
    sub = band[y0:y1, x0:x1] & ~painted[y0:y1, x0:x1]
    half = cv2.distanceTransform(np.pad(sub, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    skel = thin(sub)
    # the centre-line pixel nearest the worst spot (of the band piece it lies in)
    _, comp = cv2.connectedComponents(sub.astype(np.uint8), connectivity=8)
    here = comp == comp[y - y0, x - x0]
    ys, xs = np.nonzero(skel & here)
    if ys.size == 0:
        pts = [(float(x), float(y))]
        radius = float(half[y - y0, x - x0])
    else:
        i = int(np.argmin((ys - (y - y0)) ** 2 + (xs - (x - x0)) ** 2))
        start = (int(ys[i]), int(xs[i]))
        one = walk(skel, start, set(), HALF_LENGTH)
        other = walk(skel, start, set(one[1:]), HALF_LENGTH)
        path = one[::-1] + other[1:]
        radius = float(np.median([half[p] for p in path]))
        step = max(1, int(min(max(radius, RADIUS_MIN), RADIUS_MAX) // 2))
        keep = path[::step] + ([path[-1]] if (len(path) - 1) % step else [])
        pts = [(float(px + x0), float(py + y0)) for py, px in keep]
    radius = min(max(radius + 1.0, RADIUS_MIN), RADIUS_MAX)
    return Stroke("detail", radius, tuple(pts))


def next_touch(alpha: np.ndarray, gt: np.ndarray, band: np.ndarray,
               painted: np.ndarray) -> Stroke | None:
    """The simulated reviewer's next touch: a keep/remove click (clicks.py's) when a
    segmentation error outside the band is at least SEG_DEPTH deep, else a detail stroke along
    the band where the alpha is most wrong; None when nothing is left to fix.

    alpha, gt: uint8 (gt real soft alpha); band: the person-drawn unknown band;
    painted: pixels the earlier detail strokes covered."""
    click = _seg_click(alpha, gt, band)
    if click is not None and click[2] >= SEG_DEPTH:
        return click_stroke(click[0], click[1])
    err = np.abs(alpha.astype(np.float32) - gt.astype(np.float32)) / 255.0
    return detail_stroke(err, band, painted)


def _window_box(st: Stroke, h: int, w: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = st.bounds()
    return (max(0, int(y0) - WINDOW_MARGIN), min(h, int(np.ceil(y1)) + WINDOW_MARGIN),
            max(0, int(x0) - WINDOW_MARGIN), min(w, int(np.ceil(x1)) + WINDOW_MARGIN))


def _abs_err(alpha: np.ndarray, gt: np.ndarray) -> np.ndarray:
    return np.abs(alpha.astype(np.float64) - gt.astype(np.float64)) / 255.0


def run_image(rgb: np.ndarray, alpha0: np.ndarray, rgba0: np.ndarray | None, gt: np.ndarray,
              trimap: np.ndarray, refiner: Refiner, max_touches: int) -> dict[str, Any]:
    """Touch up to max_touches times; the soft metrics after each touch and per-touch facts."""
    band = band_of(trimap)
    h, w = gt.shape
    states = [metrics.evaluate_soft(alpha0, gt, trimap)]
    touches: list[dict[str, Any]] = []
    strokes: list[Stroke] = []
    alpha = alpha0
    for _ in range(max_touches):
        painted = rasterise([s for s in strokes if s.kind == "detail"], (h, w)) == DETAIL
        st = next_touch(alpha, gt, band, painted)
        if st is None:
            break
        strokes.append(st)
        t, c = time.perf_counter(), time.process_time()
        new = refiner(rgb, alpha0, rgba0, strokes)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        y0, y1, x0, x1 = _window_box(st, h, w)
        before, after = _abs_err(alpha, gt), _abs_err(new, gt)
        inside = np.zeros((h, w), bool)
        inside[y0:y1, x0:x1] = True
        d = after - before
        length = float(sum(np.hypot(bx - ax, by - ay) for (ax, ay), (bx, by)
                           in zip(st.points[:-1], st.points[1:], strict=True)))
        touches.append({"kind": st.kind, "radius": st.radius, "points": len(st.points),
                        "stroke": [[round(x, 1), round(y, 1)] for x, y in st.points],
                        "length": round(length, 1), "seconds": wall, "cpu_seconds": cpu,
                        "window_dsad": float(d[inside].sum() / 1000.0),
                        "outside_dsad": float(d[~inside].sum() / 1000.0)})
        alpha = new
        states.append(metrics.evaluate_soft(alpha, gt, trimap))
    return {"states": states, "touches": touches}


# the outline protocol (``--outline``): a person's strokes along the cutout's own outline where
# the truth's edge is soft. Outline points every OUTLINE_STEP px of the cutout's largest 128
# contour; a point counts where a pixel with fractional truth (13..242) lies within OUTLINE_NEAR
# px; runs of more than 3 such points cut into strokes of OUTLINE_POINTS points (one shared
# with the next: a person paints in pieces), the OUTLINE_STROKES longest kept, in outline
# order, one brush OUTLINE_RADIUS (the UI's 34 screen px at fit). Before them, one keep click
# in the largest part the cutout lost and one remove click in the largest background it kept,
# each when larger than OUTLINE_AREA of the photo (QA 2026-12-05, M3)
OUTLINE_STEP = 8
OUTLINE_NEAR = 15
OUTLINE_POINTS = 31
OUTLINE_STROKES = 6
OUTLINE_RADIUS = 16.5
OUTLINE_CLICK = 12.0
OUTLINE_AREA = 0.003


def _deepest_of_largest(err: np.ndarray, min_area: float) -> tuple[float, float] | None:
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(err.view(np.uint8), connectivity=8)
    if n < 2:
        return None
    i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[i, cv2.CC_STAT_AREA] <= min_area:
        return None
    d = cv2.distanceTransform((lbl == i).view(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(int(np.argmax(d)), d.shape)
    return float(x), float(y)


def outline_strokes(alpha: np.ndarray, gt: np.ndarray) -> list[Stroke]:
    """The outline protocol's touches on a cutout ``alpha`` (uint8) against the truth ``gt``
    (uint8): at most one keep and one remove click, then detail strokes along the cutout's own
    outline where the truth's edge is soft (see OUTLINE_*). Deterministic; the same rule for
    every photo."""
    h, w = gt.shape
    out: list[Stroke] = []
    lost, kept = (gt >= 243) & (alpha < 128), (gt <= 12) & (alpha >= 128)
    for kind, err in (("keep", lost), ("remove", kept)):
        at = _deepest_of_largest(err, OUTLINE_AREA * h * w)
        if at is not None:
            out.append(Stroke(kind, OUTLINE_CLICK, (at,)))
    cs, _ = cv2.findContours((alpha >= 128).astype(np.uint8), cv2.RETR_EXTERNAL,
                             cv2.CHAIN_APPROX_NONE)
    if not cs:
        return out
    c = max(cs, key=cv2.contourArea)[:, 0, :][::OUTLINE_STEP]
    soft = ((gt > 12) & (gt < 243)).astype(np.uint8)
    k = 2 * OUTLINE_NEAR + 1
    near = cv2.dilate(soft, np.ones((k, k), np.uint8)) > 0
    out += _contour_strokes(c, near, points=OUTLINE_POINTS, count=OUTLINE_STROKES,
                            radius=OUTLINE_RADIUS)
    return out


def _contour_strokes(c: np.ndarray, near: np.ndarray, *, points: int, count: int,
                     radius: float) -> list[Stroke]:
    """Detail strokes along the contour points ``c`` where ``near`` holds, 4 px clear of the
    photo's frame: runs cut into pieces of ``points`` (sharing an end), the ``count`` longest,
    in contour order."""
    h, w = near.shape
    runs: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for x, y in c:
        if 3 < x < w - 4 and 3 < y < h - 4 and near[y, x]:
            cur.append((float(x), float(y)))
            continue
        if len(cur) > 3:
            runs.append(cur)
        cur = []
    if len(cur) > 3:
        runs.append(cur)
    pieces = [r[j:j + points] for r in runs for j in range(0, len(r), points - 1)]
    pieces = [p for p in pieces if len(p) > 3]
    order = sorted(range(len(pieces)), key=lambda i: (-len(pieces[i]), i))[:count]
    return [Stroke("detail", radius, tuple(pieces[i])) for i in sorted(order)]


def run_outline_image(rgb: np.ndarray, alpha0: np.ndarray, rgba0: np.ndarray | None,
                      gt: np.ndarray, trimap: np.ndarray, refiner: Refiner) -> dict[str, Any]:
    """The outline protocol's touches on one photo, applied one at a time (each preview re-sends
    all so far), with the soft metrics after each; per touch, its change of SAD by the truth's
    kind of pixel (solid, clear, fractional)."""
    strokes = outline_strokes(alpha0, gt)
    states = [metrics.evaluate_soft(alpha0, gt, trimap)]
    touches: list[dict[str, Any]] = []
    alpha = alpha0
    solid, clear = gt >= 253, gt <= 2
    for i, st in enumerate(strokes):
        t, c = time.perf_counter(), time.process_time()
        new = refiner(rgb, alpha0, rgba0, strokes[:i + 1])
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        d = _abs_err(new, gt) - _abs_err(alpha, gt)
        touches.append({"kind": st.kind, "radius": st.radius, "points": len(st.points),
                        "stroke": [[round(x, 1), round(y, 1)] for x, y in st.points],
                        "seconds": wall, "cpu_seconds": cpu,
                        "dsad": float(d.sum() / 1000.0),
                        "dsad_solid": float(d[solid].sum() / 1000.0),
                        "dsad_clear": float(d[clear].sum() / 1000.0),
                        "dsad_soft": float(d[~solid & ~clear].sum() / 1000.0)})
        alpha = new
        states.append(metrics.evaluate_soft(alpha, gt, trimap))
    return {"states": states, "touches": touches}


def summarise_outline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The outline protocol's figures: detail strokes raising SAD (count, sum, max), and on
    which kind of truth pixel the raise lies; SAD / Grad before and after every touch."""
    if not rows:
        return {"images": 0}
    det = [t for r in rows for t in r["touches"] if t["kind"] == "detail"]
    up = [t for t in det if t["dsad"] > 1e-9]
    out: dict[str, Any] = {
        "images": len(rows), "touches": sum(len(r["touches"]) for r in rows),
        "detail_strokes": len(det), "detail_raising_sad": len(up),
        "detail_raising_sad_sum": float(sum(t["dsad"] for t in up)),
        "detail_raising_sad_max": float(max((t["dsad"] for t in up), default=0.0)),
        "detail_dsad_sum": float(sum(t["dsad"] for t in det)),
        "detail_raise_on_solid": float(sum(max(t["dsad_solid"], 0) for t in up)),
        "detail_raise_on_clear": float(sum(max(t["dsad_clear"], 0) for t in up)),
        "sad_first": float(np.mean([r["states"][0]["sad"] for r in rows])),
        "sad_last": float(np.mean([r["states"][-1]["sad"] for r in rows])),
        "grad_first": float(np.mean([r["states"][0]["grad"] for r in rows])),
        "grad_last": float(np.mean([r["states"][-1]["grad"] for r in rows])),
    }
    cpus = [t["cpu_seconds"] for t in det]
    out["median_cpu_s"] = statistics.median(cpus) if cpus else 0.0
    return out


def format_outline(report: dict[str, Any]) -> str:
    lines = []
    for e, data in report["engines"].items():
        s = data["summary"]
        if not s.get("images"):
            continue
        lines.append(
            f"{e}: {s['images']} images, {s['touches']} touches, {s['detail_strokes']} detail "
            f"strokes; raising SAD {s['detail_raising_sad']} "
            f"(sum +{s['detail_raising_sad_sum']:.3f}, max +{s['detail_raising_sad_max']:.3f}; "
            f"on solid truth +{s['detail_raise_on_solid']:.3f}, "
            f"clear +{s['detail_raise_on_clear']:.3f}); "
            f"all detail strokes {s['detail_dsad_sum']:+.3f}; "
            f"SAD {s['sad_first']:.3f} -> {s['sad_last']:.3f}, Grad {s['grad_first']:.3f} -> "
            f"{s['grad_last']:.3f}; median {s['median_cpu_s']:.2f} CPU s per detail stroke")
        lines += _raising_lines(data["images"], 1e-9)
    return "\n".join(lines)


def _raising_lines(rows: list[dict[str, Any]], floor: float) -> list[str]:
    """A line per detail stroke raising SAD by more than ``floor``: its photo, its index and
    the raise, split by the truth's kind of pixel (solid, clear, and soft where scored)."""
    lines = []
    for r in rows:
        for i, t in enumerate(r["touches"]):
            if t["kind"] == "detail" and t["dsad"] > floor:
                split = [f"solid {t['dsad_solid']:+.3f}", f"clear {t['dsad_clear']:+.3f}"]
                if "dsad_soft" in t:
                    split.append(f"soft {t['dsad_soft']:+.3f}")
                lines.append(f"  {r['stem']} #{i} {t['dsad']:+.3f} ({', '.join(split)})")
    return lines


def summarise(rows: list[dict[str, Any]], max_touches: int) -> dict[str, Any]:
    if not rows:
        return {"images": 0}
    out: dict[str, Any] = {"images": len(rows)}
    for k in REPORT_AFTER:
        if k > max_touches:
            continue
        for col in COLS:
            # an image the reviewer finished early stays as it was left
            vals = [r["states"][min(k, len(r["states"]) - 1)][col] for r in rows]
            out[f"{col}@{k}"] = float(np.nanmean(vals))
    touches = [t for r in rows for t in r["touches"]]
    out["touches"] = len(touches)
    out["clicks"] = sum(1 for t in touches if t["kind"] != "detail")
    out["detail_strokes"] = len(touches) - out["clicks"]
    # touches that raised SAD / Grad against the state before them, all and by kind
    worse = {(m, k): 0 for m in ("sad", "grad") for k in ("all", "click", "detail")}
    for r in rows:
        s = r["states"]
        for t, a, b in zip(r["touches"], s[:-1], s[1:], strict=True):
            kind = "detail" if t["kind"] == "detail" else "click"
            for m in ("sad", "grad"):
                if b[m] > a[m] + 1e-9:
                    worse[m, "all"] += 1
                    worse[m, kind] += 1
    n = {"all": len(touches), "click": out["clicks"], "detail": out["detail_strokes"]}
    for (m, which), v in worse.items():
        prefix = "" if which == "all" else f"{which}_"
        out[f"{prefix}worse_{m}_share"] = v / n[which] if n[which] else 0.0
    det = [t for t in touches if t["kind"] == "detail"]
    out["detail_window_worse_share"] = (sum(1 for t in det if t["window_dsad"] > 1e-9)
                                        / len(det) if det else 0.0)
    out["detail_outside_dsad_max"] = max((abs(t["outside_dsad"]) for t in det), default=0.0)
    secs = [t["seconds"] for t in touches]
    cpus = [t["cpu_seconds"] for t in touches]
    out["median_s"] = statistics.median(secs) if secs else 0.0
    out["median_cpu_s"] = statistics.median(cpus) if cpus else 0.0
    out["median_stroke_length"] = statistics.median([t["length"] for t in det]) if det else 0.0
    out["median_stroke_radius"] = statistics.median([t["radius"] for t in det]) if det else 0.0
    return out


def run_detail(data_dir: str | Path, *, max_touches: int = 10, outline: bool = False,
               **opts: Unpack[RunOptions]) -> dict[str, Any]:
    """Run the protocol on every image of a soft-alpha set (images/, alpha/, trimaps/); with
    ``outline``, the outline protocol (``outline_strokes``) instead of the simulated reviewer."""
    from .benchmark import trimap_set

    def play(rgb: np.ndarray, alpha0: np.ndarray, rgba0: np.ndarray,
             truth: tuple[np.ndarray, np.ndarray], refiner: Refiner) -> dict[str, Any]:
        if outline:
            return run_outline_image(rgb, alpha0, rgba0, *truth, refiner)
        return run_image(rgb, alpha0, rgba0, *truth, refiner, max_touches)

    def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return summarise_outline(rows) if outline else summarise(rows, max_touches)

    return run_protocol(partial(trimap_set, data_dir), play, summary,
                        format_outline if outline else format_table,
                        {"data_dir": str(data_dir), "max_touches": max_touches,
                         "outline": outline}, load_average=True, **opts)


def progress_line(row: dict[str, Any]) -> str:
    """One image's result for a progress printer."""
    s = row["states"]
    return f"SAD {s[0]['sad']:.2f} -> {s[-1]['sad']:.2f} ({len(row['touches'])} touches)"


def format_table(report: dict[str, Any]) -> str:
    ks = [k for k in REPORT_AFTER if k <= report["max_touches"]]
    head = f"{'engine':<9}{'metric':<10}" + "".join(f"{'@' + str(k):>9}" for k in ks)
    lines = [head, "-" * len(head)]
    for e, data in report["engines"].items():
        s = data["summary"]
        if not s.get("images"):
            continue
        for col in COLS:
            lines.append(f"{e:<9}{col:<10}" + "".join(f"{s[f'{col}@{k}']:>9.3f}" for k in ks))
    for e, data in report["engines"].items():
        s = data["summary"]
        if s.get("images"):
            lines.append(
                f"{e}: {s['images']} images, {s['touches']} touches ({s['clicks']} clicks, "
                f"{s['detail_strokes']} detail strokes); raised SAD {s['worse_sad_share']:.1%}, "
                f"Grad {s['worse_grad_share']:.1%} (detail strokes: SAD "
                f"{s['detail_worse_sad_share']:.1%}, Grad {s['detail_worse_grad_share']:.1%}, "
                f"SAD in their window {s['detail_window_worse_share']:.1%}; clicks: SAD "
                f"{s['click_worse_sad_share']:.1%}, Grad {s['click_worse_grad_share']:.1%}); "
                f"median {s['median_s']:.2f} s "
                f"({s['median_cpu_s']:.2f} CPU s) per touch")
    return "\n".join(lines)


# the solid-edge protocol (``solid``, detail35): a person's detail strokes along a solid
# product's edge on the dev set (binary masks, 128 = ignore), where a stroke must change next
# to nothing. Points every SOLID_STEP px of the truth's largest contour (off the photo's
# border), cut into strokes of SOLID_POINTS points, the SOLID_STROKES longest kept in contour
# order, one brush SOLID_RADIUS (QA qa35b: 16-30 px strokes along a dog's tail, a leg, a
# scissors' handle, a petal)
SOLID_STEP = 8
SOLID_POINTS = 21
SOLID_STROKES = 2
SOLID_RADIUS = 16.0


def solid_edge_strokes(mask: np.ndarray) -> list[Stroke]:
    """The solid-edge protocol's detail strokes along a binary truth ``mask`` (uint8, 128 =
    ignore, counted as the object's): see SOLID_*. Deterministic; the same rule for every
    photo."""
    h, w = mask.shape
    cs, _ = cv2.findContours((mask >= 128).astype(np.uint8), cv2.RETR_EXTERNAL,
                             cv2.CHAIN_APPROX_NONE)
    if not cs:
        return []
    c = max(cs, key=cv2.contourArea)[:, 0, :][::SOLID_STEP]
    return _contour_strokes(c, np.ones((h, w), bool), points=SOLID_POINTS, count=SOLID_STROKES,
                            radius=SOLID_RADIUS)


def run_solid_image(rgb: np.ndarray, alpha0: np.ndarray, rgba0: np.ndarray | None,
                    mask: np.ndarray, refiner: Refiner) -> dict[str, Any]:
    """The solid-edge protocol's strokes on one photo, applied one at a time (each preview
    re-sends all so far); per stroke its change of SAD over the mask's pixels that are not
    ignore (128), split into the truth's solid and clear pixels."""
    valid = mask != 128
    gt = np.where(mask >= 128, 255, 0).astype(np.uint8)
    solid, clear = valid & (mask > 128), valid & (mask < 128)
    strokes = solid_edge_strokes(mask)
    touches: list[dict[str, Any]] = []
    alpha = alpha0
    for i, st in enumerate(strokes):
        c = time.process_time()
        new = refiner(rgb, alpha0, rgba0, strokes[:i + 1])
        cpu = time.process_time() - c
        d = _abs_err(new, gt) - _abs_err(alpha, gt)
        touches.append({"kind": st.kind, "radius": st.radius,
                        "stroke": [[round(x, 1), round(y, 1)] for x, y in st.points],
                        "cpu_seconds": cpu, "dsad": float(d[valid].sum() / 1000.0),
                        "dsad_solid": float(d[solid].sum() / 1000.0),
                        "dsad_clear": float(d[clear].sum() / 1000.0)})
        alpha = new
    return {"touches": touches}


def summarise_solid(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The solid-edge protocol's figures: strokes raising SAD (count, sum, max; a raise above
    0.001 counts) and the change summed over all strokes, on solid and clear truth."""
    det = [t for r in rows for t in r["touches"]]
    up = [t for t in det if t["dsad"] > 0.001]
    return {"images": len(rows), "strokes": len(det), "raising_sad": len(up),
            "raising_sad_sum": float(sum(t["dsad"] for t in up)),
            "raising_sad_max": float(max((t["dsad"] for t in up), default=0.0)),
            "dsad_sum": float(sum(t["dsad"] for t in det)),
            "dsad_solid_sum": float(sum(t["dsad_solid"] for t in det)),
            "dsad_clear_sum": float(sum(t["dsad_clear"] for t in det))}


def format_solid(report: dict[str, Any]) -> str:
    lines = []
    for e, data in report["engines"].items():
        s = data["summary"]
        lines.append(f"{e}: {s['images']} images, {s['strokes']} detail strokes along the "
                     f"truth's edge; raising SAD {s['raising_sad']} (sum "
                     f"+{s['raising_sad_sum']:.3f}, max +{s['raising_sad_max']:.3f}); all "
                     f"{s['dsad_sum']:+.3f} (solid {s['dsad_solid_sum']:+.3f}, clear "
                     f"{s['dsad_clear_sum']:+.3f})")
        lines += _raising_lines(data["images"], 0.001)
    return "\n".join(lines)


def solid_progress_line(row: dict[str, Any]) -> str:
    """One image's result for a progress printer."""
    return "dSAD " + " ".join(f"{t['dsad']:+.3f}" for t in row["touches"])


def run_solid(images_dir: str | Path, masks_dir: str | Path,
              **opts: Unpack[RunOptions]) -> dict[str, Any]:
    """Run the solid-edge protocol on every image/mask pair of a binary set (the dev set)."""
    return run_protocol(partial(binary_set, images_dir, masks_dir), run_solid_image,
                        summarise_solid, format_solid, {"images_dir": str(images_dir)}, **opts)


# the graze protocol (``graze``, graze36): remove strokes that graze a product's edge from
# outside (QA W3: the brush overlaps the product, the centreline runs on the background
# beside it), where a stroke should clear background up to the edge and take no product.
# Each radius in GRAZE_RADII at each offset in GRAZE_OFFSETS (times the radius, outward from
# the truth's largest contour): the GRAZE_STROKES longest pieces of GRAZE_POINTS points
# (every SOLID_STEP px), each applied alone to the automatic cutout.
GRAZE_RADII = (12.0, 25.0)
GRAZE_OFFSETS = (0.5, 0.8)
GRAZE_POINTS = 16
GRAZE_STROKES = 2


def graze_strokes(mask: np.ndarray) -> list[Stroke]:
    """The graze protocol's remove strokes along a binary truth ``mask`` (uint8, 128 =
    ignore, counted as the object's) offset outward (see GRAZE_*). Deterministic."""
    h, w = mask.shape
    obj = (mask >= 128).astype(np.uint8)
    if not obj.any():
        return []
    d = cv2.distanceTransform(1 - obj, cv2.DIST_L2, 5)
    out: list[Stroke] = []
    for r in GRAZE_RADII:
        for f in GRAZE_OFFSETS:
            grown = (d <= f * r).astype(np.uint8)
            cs, _ = cv2.findContours(grown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            if not cs:
                continue
            c = max(cs, key=cv2.contourArea)[:, 0, :][::SOLID_STEP]
            out += [Stroke("remove", r, st.points) for st in _contour_strokes(
                c, np.ones((h, w), bool), points=GRAZE_POINTS, count=GRAZE_STROKES, radius=r)]
    return out


def run_graze_image(rgb: np.ndarray, alpha0: np.ndarray, rgba0: np.ndarray | None,
                    mask: np.ndarray, refiner: Refiner) -> dict[str, Any]:
    """The graze protocol's strokes on one photo, each alone on the automatic cutout: the
    truth object's px it lowers below 128 (``lost``) and background px it lowers below 128
    (``cleared``), the alpha units each lost (over the pixels that are not ignore), and the
    change of IoU."""
    valid = mask != 128
    obj, bg = valid & (mask > 128), valid & (mask < 128)
    gt = np.where(mask >= 128, 255, 0).astype(np.uint8)
    gt[~valid] = 128
    iou0 = metrics.iou(alpha0, gt)
    touches: list[dict[str, Any]] = []
    for st in graze_strokes(mask):
        new = refiner(rgb, alpha0, rgba0, [st])
        down = (alpha0 >= 128) & (new < 128)
        fall = np.maximum(alpha0.astype(np.int32) - new.astype(np.int32), 0)
        touches.append({"radius": st.radius,
                        "stroke": [[round(x, 1), round(y, 1)] for x, y in st.points],
                        "lost": int((down & obj).sum()), "cleared": int((down & bg).sum()),
                        "lost_units": int(fall[obj].sum()), "cleared_units": int(fall[bg].sum()),
                        "diou": metrics.iou(new, gt) - iou0})
    return {"touches": touches}


def summarise_graze(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The graze protocol's figures per radius and over all strokes."""
    out: dict[str, Any] = {"images": len(rows)}
    det = [t for r in rows for t in r["touches"]]
    for name, ts in [("all", det)] + [(f"r{r:g}", [t for t in det if t["radius"] == r])
                                      for r in GRAZE_RADII]:
        out[name] = {"strokes": len(ts), "lost": sum(t["lost"] for t in ts),
                     "cleared": sum(t["cleared"] for t in ts),
                     "lost_units": sum(t["lost_units"] for t in ts),
                     "cleared_units": sum(t["cleared_units"] for t in ts),
                     "losing_100": sum(t["lost"] >= 100 for t in ts),
                     "iou_down": sum(t["diou"] < -1e-4 for t in ts),
                     "iou_up": sum(t["diou"] > 1e-4 for t in ts),
                     "diou_sum": float(sum(t["diou"] for t in ts))}
    return out


def format_graze(report: dict[str, Any]) -> str:
    lines = []
    for e, data in report["engines"].items():
        s = data["summary"]
        lines.append(f"{e}: {s['images']} images, remove strokes grazing the truth's edge")
        for k in ["all"] + [f"r{r:g}" for r in GRAZE_RADII]:
            g = s[k]
            lines.append(f"  {k:<4} {g['strokes']} strokes: object px lost {g['lost']} "
                         f"({g['losing_100']} strokes 100+), background px cleared "
                         f"{g['cleared']}; units lost {g['lost_units']}, cleared "
                         f"{g['cleared_units']}; IoU down {g['iou_down']} up {g['iou_up']} "
                         f"(sum {g['diou_sum']:+.4f})")
    return "\n".join(lines)


def graze_progress_line(row: dict[str, Any]) -> str:
    """One image's result for a progress printer."""
    return " ".join(f"{t['lost']}/{t['cleared']}/{t['diou']:+.4f}" for t in row["touches"])


def run_graze(images_dir: str | Path, masks_dir: str | Path,
              **opts: Unpack[RunOptions]) -> dict[str, Any]:
    """Run the graze protocol on every image/mask pair of a binary set (the dev set)."""
    return run_protocol(partial(binary_set, images_dir, masks_dir), run_graze_image,
                        summarise_graze, format_graze, {"images_dir": str(images_dir)}, **opts)

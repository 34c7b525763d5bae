"""The interactive-segmentation click benchmark (RITM's protocol) for the retouch engine.

Start from the automatic ``default`` cutout; a simulated user, who alone reads the ground
truth, puts each next click at the pixel deepest inside the larger error region (distance
transform of missed-object vs spilled-background pixels, the 128 ignore band left out;
positive if the missed region is deeper), as a disk of radius 5 px; the engine refines with
the whole click list; repeat up to ``max_clicks``.

The painted policy (``painted=True``, :func:`next_paint`) replaces each click by a stroke a
person could paint over the same error region: along its centre line from its deepest pixel,
with a brush that fits inside it.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from PIL import Image

from . import metrics
from .centreline import thin, walk
from .encode import decode_image
from .strokes import Stroke

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from .session import Segmenter
    from .settings import CutoutSettings

CLICK_RADIUS = 5.0
# a painted stroke: at most this far either way along the error region's centre line, with a
# brush of PAINT_FILL x the region's median depth along it (clamped): a person keeps the brush
# inside what they paint over
PAINT_HALF_LENGTH = 120
PAINT_FILL = 0.8
PAINT_RADIUS_MIN, PAINT_RADIUS_MAX = 1.5, 30.0
PAINT_DEPTH_MIN = 2.0  # a region shallower than this is not worth a painted stroke
THRESHOLDS = (0.85, 0.90)
REPORT_AFTER = (0, 1, 3, 5, 10)
TARGETS = {"grabcut": {"noc90": 4.0}, "davis": {"noc90": 10.0},
           "all": {"worse_share": 0.03, "median_s": 1.0}}


def image_set(stem: str) -> str:
    """DAVIS stems are three-digit numbers; GrabCut stems are six-digit numbers or names."""
    return "davis" if re.fullmatch(r"\d{3}", stem) else "grabcut"


def next_click(pred: np.ndarray, gt: np.ndarray) -> tuple[tuple[int, int], bool] | None:
    """((x, y), positive) of the next simulated click, or None when nothing is wrong.

    pred: bool object mask; gt: uint8 with 0 background, 255 object, 128 ignore."""
    obj, bg = gt > 128, gt < 128
    fn = obj & ~pred
    fp = bg & pred
    if not fn.any() and not fp.any():
        return None
    # padding: the frame counts as the edge of an error region, as in RITM
    def depth(m: np.ndarray) -> np.ndarray:
        d: np.ndarray = cv2.distanceTransform(np.pad(m, 1).astype(np.uint8), cv2.DIST_L2, 0)
        return d[1:-1, 1:-1]

    d_fn, d_fp = depth(fn), depth(fp)
    positive = float(d_fn.max()) > float(d_fp.max())
    d = d_fn if positive else d_fp
    y, x = np.unravel_index(int(np.argmax(d)), d.shape)
    return (int(x), int(y)), positive


def next_paint(pred: np.ndarray, gt: np.ndarray) -> Stroke | None:
    """The next simulated painted stroke, or None when no error region is PAINT_DEPTH_MIN deep.

    The deeper error region (as :func:`next_click` picks it) is painted along its centre line
    from the point nearest its deepest pixel, at most PAINT_HALF_LENGTH px either way, and only
    over the contiguous stretch where the brush stays inside the region."""

    obj, bg = gt > 128, gt < 128
    d_fn, d_fp = _depth(obj & ~pred), _depth(bg & pred)
    positive = float(d_fn.max()) > float(d_fp.max())
    d = d_fn if positive else d_fp
    if float(d.max()) < PAINT_DEPTH_MIN:
        return None
    y, x = (int(v) for v in np.unravel_index(int(np.argmax(d)), d.shape))
    _, comp = cv2.connectedComponents((d > 0).astype(np.uint8), connectivity=8)
    ys, xs = np.nonzero(comp == comp[y, x])
    y0, x0 = int(ys.min()), int(xs.min())
    sub = comp[y0: int(ys.max()) + 1, x0: int(xs.max()) + 1] == comp[y, x]
    dd = d[y0: y0 + sub.shape[0], x0: x0 + sub.shape[1]]
    skel = thin(sub)
    sy, sx = np.nonzero(skel)
    if sy.size == 0:
        path, at = [(y - y0, x - x0)], 0
    else:
        i = int(np.argmin((sy - (y - y0)) ** 2 + (sx - (x - x0)) ** 2))
        start = (int(sy[i]), int(sx[i]))
        one = walk(skel, start, set(), PAINT_HALF_LENGTH)
        other = walk(skel, start, set(one[1:]), PAINT_HALF_LENGTH)
        path, at = one[::-1] + other[1:], len(one) - 1
    radius = min(max(PAINT_FILL * float(np.median([dd[q] for q in path])), PAINT_RADIUS_MIN),
                 PAINT_RADIUS_MAX)
    if sy.size:
        # a brush wider than the region where the stroke starts shrinks to fit there
        if dd[path[at]] < radius:
            radius = max(1.0, float(dd[path[at]]) - 0.5)
        fits = [dd[q] >= radius for q in path]
        a = b = at
        while a > 0 and fits[a - 1]:
            a -= 1
        while b < len(path) - 1 and fits[b + 1]:
            b += 1
        path = path[a: b + 1]
    step = max(1, int(radius // 2))
    kept = path[::step] + ([path[-1]] if (len(path) - 1) % step else [])
    pts = tuple((float(px + x0), float(py + y0)) for py, px in kept)
    if len(pts) == 1:
        pts = pts * 2  # a dab: a painted stroke that does not move, not a click
    return Stroke("keep" if positive else "remove", radius, pts)


def _depth(m: np.ndarray) -> np.ndarray:
    """Distance to the nearest pixel outside m; the frame counts as outside, as in RITM."""
    d: np.ndarray = cv2.distanceTransform(np.pad(m, 1).astype(np.uint8), cv2.DIST_L2, 5)
    return d[1:-1, 1:-1]


def click_stroke(xy: tuple[int, int], positive: bool, radius: float = CLICK_RADIUS) -> Stroke:
    return Stroke("keep" if positive else "remove", radius, ((float(xy[0]), float(xy[1])),))


Refiner = Callable[[np.ndarray, np.ndarray, np.ndarray | None, list[Stroke]], np.ndarray]


def retouch_refiner(rgb: np.ndarray, alpha: np.ndarray, rgba: np.ndarray | None,
                    strokes: list[Stroke]) -> np.ndarray:
    from .retouch import retouch

    return retouch(rgb, alpha, strokes, previous_rgba=rgba).alpha


def paint_refiner(rgb: np.ndarray, alpha: np.ndarray, rgba: np.ndarray | None,
                  strokes: list[Stroke]) -> np.ndarray:
    """Baseline: the clicks' disks painted onto the automatic cutout, nothing more."""
    from .strokes import KEEP, REMOVE, rasterise

    labels = rasterise(strokes, alpha.shape)
    out: np.ndarray = alpha.copy()
    out[labels == KEEP] = 255
    out[labels == REMOVE] = 0
    return out


ENGINES: dict[str, Refiner] = {"retouch": retouch_refiner, "paint": paint_refiner}


def run_image(rgb: np.ndarray, alpha0: np.ndarray, rgba0: np.ndarray | None, gt: np.ndarray,
              refiner: Refiner, max_clicks: int, painted: bool = False) -> dict[str, Any]:
    """Click (or with ``painted``, paint a stroke) up to max_clicks times; IoU and soft error
    (``softs``: ``metrics.soft_px``, what the IoU at .5 cannot see) after each stroke and
    seconds per refinement."""
    ious = [metrics.iou(alpha0, gt)]
    softs = [round(metrics.soft_px(alpha0, gt), 1)]
    seconds: list[float] = []
    clicks: list[list[int | bool]] = []
    painted_log: list[dict[str, Any]] = []
    strokes: list[Stroke] = []
    pred = alpha0 >= 128
    for _ in range(max_clicks):
        if painted:
            st = next_paint(pred, gt)
            if st is None:
                break
            strokes.append(st)
            painted_log.append({"kind": st.kind, "radius": st.radius,
                                "points": [list(q) for q in st.points]})
        else:
            click = next_click(pred, gt)
            if click is None:
                break
            (x, y), positive = click
            strokes.append(click_stroke((x, y), positive))
            clicks.append([x, y, bool(positive)])
        t = time.perf_counter()
        alpha = refiner(rgb, alpha0, rgba0, strokes)
        seconds.append(time.perf_counter() - t)
        pred = alpha >= 128
        ious.append(metrics.iou(alpha, gt))
        softs.append(round(metrics.soft_px(alpha, gt), 1))
    # a perfect mask needs no more clicks: it stays perfect
    ious += [ious[-1]] * (max_clicks + 1 - len(ious))
    softs += [softs[-1]] * (max_clicks + 1 - len(softs))
    if painted:
        return {"ious": ious, "seconds": seconds, "strokes": painted_log, "softs": softs}
    return {"ious": ious, "seconds": seconds, "clicks": clicks, "softs": softs}


def noc(ious: list[float], threshold: float, max_clicks: int) -> int:
    """Clicks needed to reach IoU >= threshold (0 if the automatic cutout does); max if never."""
    for k, v in enumerate(ious[: max_clicks + 1]):
        if v >= threshold:
            return k
    return max_clicks


def summarise(rows: list[dict[str, Any]], max_clicks: int,
              count_worse: bool = False) -> dict[str, Any]:
    if not rows:
        return {"images": 0}
    out: dict[str, Any] = {"images": len(rows)}
    for thr in THRESHOLDS:
        out[f"noc{round(thr * 100)}"] = float(np.mean([noc(r["ious"], thr, max_clicks)
                                                      for r in rows]))
    for k in REPORT_AFTER:
        if k <= max_clicks:
            out[f"iou@{k}"] = float(np.mean([r["ious"][k] for r in rows]))
    n_clicks = worse = 0
    for r in rows:
        real = len(r["seconds"])
        n_clicks += real
        worse += sum(1 for a, b in zip(r["ious"][:real], r["ious"][1:real + 1], strict=True)
                     if b < a - 1e-9)
    out["clicks"] = n_clicks
    out["worse_share"] = worse / n_clicks if n_clicks else 0.0
    if count_worse:
        out["worse"] = worse
    secs = [s for r in rows for s in r["seconds"]]
    out["median_s"] = statistics.median(secs) if secs else 0.0
    out["p95_s"] = float(np.percentile(secs, 95)) if secs else 0.0
    for k in REPORT_AFTER:  # the mean soft error (px) after k clicks (after the keys above)
        if k <= max_clicks and all("softs" in r for r in rows):
            out[f"soft@{k}"] = float(np.mean([r["softs"][k] for r in rows]))
    return out


def auto_cutout(stem: str, img_path: Path, seg: Segmenter, settings: CutoutSettings,
                cache_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """The automatic cutout (alpha, RGBA) a retouch protocol starts from, cached by stem."""
    from .pipeline import run_pipeline

    if cache_dir is not None:
        a_path, c_path = cache_dir / f"{stem}.alpha.png", cache_dir / f"{stem}.rgba.png"
        if a_path.is_file() and c_path.is_file():
            return (np.asarray(Image.open(a_path).convert("L")).copy(),
                    np.asarray(Image.open(c_path).convert("RGBA")).copy())
    res = run_pipeline(decode_image(img_path), settings, seg)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        Image.fromarray(res.alpha).save(a_path)
        Image.fromarray(res.rgba).save(c_path)
    return res.alpha, res.rgba


Progress = Callable[[str, str, dict[str, Any]], object]


def run_engines(items: Sequence[tuple[str, Path]], *,
                load: Callable[[str, np.ndarray], Any],
                play: Callable[[np.ndarray, np.ndarray, np.ndarray, Any, Refiner], dict[str, Any]],
                segmenter: Segmenter | None, engines: tuple[str, ...],
                cache_dir: str | Path | None, progress: Progress | None
                ) -> dict[str, list[dict[str, Any]]]:
    """Each engine's rows over the images, every image played from its automatic ``default``
    cutout: the loop the click and detail protocols share. ``load(stem, rgb)`` reads and checks
    the image's ground truth; ``play(rgb, alpha0, rgba0, truth, refiner)`` makes its row."""
    from .settings import profile

    if segmenter is None:
        from .models import resolve_model
        from .session import get_segmenter

        segmenter = get_segmenter(resolve_model("u2netp", None, None))
    settings = profile("default")
    cache = Path(cache_dir) if cache_dir else None
    rows: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    for stem, img_path in items:
        rgb = decode_image(img_path)
        truth = load(stem, rgb)
        alpha0, rgba0 = auto_cutout(stem, img_path, segmenter, settings, cache)
        for e in engines:
            r = play(rgb, alpha0, rgba0, truth, ENGINES[e])
            r["stem"] = stem
            rows[e].append(r)
            if progress:
                progress(e, stem, r)
    return rows


def progress_line(row: dict[str, Any]) -> str:
    """One image's result for a progress printer."""
    what = "strokes" if "strokes" in row else "clicks"
    return (f"IoU {row['ious'][0]:.3f} -> {row['ious'][-1]:.3f} "
            f"({len(row['seconds'])} {what})")


def binary_set(images_dir: str | Path, masks_dir: str | Path, *, stems: set[str] | None,
               limit: int | None) -> tuple[list[tuple[str, Path, Path]],
                                           Callable[[str, np.ndarray], np.ndarray]]:
    """The image/mask pairs of a binary set (``stems`` only, the first ``limit``) and the
    loader of a pair's mask the protocols score against (same size as the image, or refused);
    one reading for the click and solid-edge protocols."""
    pairs = find_click_pairs(images_dir, masks_dir)
    if stems:
        pairs = [p for p in pairs if p[0] in stems]
    pairs = pairs[: limit or None]
    masks = {stem: mask_path for stem, _, mask_path in pairs}

    def load(stem: str, rgb: np.ndarray) -> np.ndarray:
        gt = np.asarray(Image.open(masks[stem]).convert("L"))
        if gt.shape != rgb.shape[:2]:
            raise ValueError(f"{masks[stem].name}: mask {gt.shape} does not match image "
                             f"{rgb.shape[:2]}")
        return gt

    return pairs, load


def find_click_pairs(images: str | Path, masks: str | Path) -> list[tuple[str, Path, Path]]:
    images_dir, masks_dir = Path(images), Path(masks)
    if not images_dir.is_dir() or not masks_dir.is_dir():
        raise FileNotFoundError(f"no such folders: {images_dir} / {masks_dir}")
    from .benchmark import IMAGE_EXTS

    pairs = []
    for img in sorted(images_dir.iterdir()):
        mask = masks_dir / f"{img.stem}.png"
        if img.suffix.lower() in IMAGE_EXTS and mask.is_file():
            pairs.append((img.stem, img, mask))
    if not pairs:
        raise FileNotFoundError(f"no image/mask pairs (same stem) in {images_dir} and {masks_dir}")
    return pairs


def run_clicks(images_dir: str | Path, masks_dir: str | Path, *, max_clicks: int = 20,
               segmenter: Segmenter | None = None,
               engines: tuple[str, ...] = ("retouch",), limit: int | None = None,
               stems: set[str] | None = None, cache_dir: str | Path | None = None,
               out_json: str | Path | None = None,
               progress: Progress | None = None,
               stream: SupportsWrite[str] | None = None,
               painted: bool = False) -> dict[str, Any]:
    """Run the protocol on every image/mask pair; returns (and writes) the report. With
    ``painted``, each click is a painted stroke (:func:`next_paint`) instead."""
    stream = stream or sys.stdout
    pairs, load = binary_set(images_dir, masks_dir, stems=stems, limit=limit)

    def play(rgb: np.ndarray, alpha0: np.ndarray, rgba0: np.ndarray, gt: np.ndarray,
             refiner: Refiner) -> dict[str, Any]:
        return run_image(rgb, alpha0, rgba0, gt, refiner, max_clicks, painted)

    rows = run_engines([(stem, img) for stem, img, _ in pairs], load=load, play=play,
                       segmenter=segmenter, engines=engines, cache_dir=cache_dir,
                       progress=progress)
    for e in engines:
        for r in rows[e]:
            r["set"] = image_set(r["stem"])
    report: dict[str, Any] = {"images_dir": str(images_dir), "masks_dir": str(masks_dir),
              "max_clicks": max_clicks, "click_radius": CLICK_RADIUS, "engines": {}}
    if painted:
        # the painted policy's own brush: no click radius, and its lowering strokes counted
        del report["click_radius"]
        report["policy"] = "painted"
    for e in engines:
        sets = {name: summarise([r for r in rows[e] if r["set"] == name], max_clicks, painted)
                for name in ("grabcut", "davis")}
        sets["all"] = summarise(rows[e], max_clicks, painted)
        report["engines"][e] = {"sets": sets, "images": rows[e]}
    # the targets are the click protocol's
    report["targets"] = {} if painted else target_report(report)
    print(format_table(report), file=stream)
    if out_json:
        Path(out_json).write_text(json.dumps(report, indent=1, default=float))
    return report


def target_report(report: dict[str, Any]) -> dict[str, Any]:
    eng = report["engines"].get("retouch")
    if not eng:
        return {}
    out: dict[str, Any] = {}
    for name, checks in TARGETS.items():
        s = eng["sets"].get(name, {})
        for key, limit in checks.items():
            if key in s:
                out[f"{name}.{key}"] = {"value": s[key], "limit": limit, "met": s[key] <= limit}
    return out


COLS = ("images", "noc85", "noc90", "iou@0", "iou@1", "iou@3", "iou@5", "iou@10",
        "worse_share", "median_s", "p95_s")


def format_table(report: dict[str, Any]) -> str:
    painted = report.get("policy") == "painted"
    # a painted run counts its strokes and the strokes lowering IoU (clicks = strokes there)
    cols = COLS[:1] + ("strokes",) + COLS[1:] + ("worse",) if painted else COLS
    head = f"{'engine':<9}{'set':<9}" + "".join(f"{c:>12}" for c in cols)
    lines = [head, "-" * len(head)]
    for e, data in report["engines"].items():
        for name, s in data["sets"].items():
            if not s.get("images"):
                continue
            cells = []
            for c in cols:
                v = s.get("clicks" if c == "strokes" else c)
                cells.append(f"{'-':>12}" if v is None else
                             f"{v:>12d}" if isinstance(v, int) else f"{v:>12.3f}")
            lines.append(f"{e:<9}{name:<9}" + "".join(cells))
    base = report["engines"].get("paint")
    new = report["engines"].get("retouch")
    if base and new:
        for name in ("grabcut", "davis", "all"):
            b, n = base["sets"].get(name, {}), new["sets"].get(name, {})
            if b.get("images") and n.get("images") and b["noc90"]:
                k = max(c for c in REPORT_AFTER if f"iou@{c}" in n)
                what = "strokes" if painted else "clicks"
                lines.append(f"{name}: NoC@90 retouch/paint = {n['noc90'] / b['noc90']:.2f}x, "
                             f"IoU after {k} {what} {n[f'iou@{k}'] - b[f'iou@{k}']:+.3f} vs paint")
    for k, v in report.get("targets", {}).items():
        lines.append(f"target {k} <= {v['limit']}: {v['value']:.3f} "
                     f"{'OK' if v['met'] else 'MISSED'}")
    return "\n".join(lines)

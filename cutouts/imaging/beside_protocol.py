"""The beside protocol: remove clicks on the background beside fine detail (docs/review.md,
*Faint strands beside a remove click*, 2026-12-06). On a soft-alpha set (images/, alpha/,
trimaps/), clicks land on pixels the truth and the trimap call clear background, NEAR px from
the truth's soft pixels (0 < alpha < 1), each applied alone to the automatic cutout; per click
it scores what the click took from the truth's foreground (hair or fur it should leave, or
leave fading) against the background it cleared. Keep clicks too ("thin", 2026-12-06, QA M2 /
N4): on clear background THIN_NEAR px beside a thin solid part of the truth (at most THIN_WIDTH
px wide: a strap, a stalk) that the cutout dropped, scored by the truth's foreground they
raised against the background they added. Pure numpy/PIL/OpenCV."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from .clicks import Refiner
from .protocol import RunOptions, run_protocol
from .strokes import Stroke

if TYPE_CHECKING:
    from typing_extensions import Unpack

NEAR = (10.0, 30.0)  # px from the truth's nearest soft pixel
RADII = (5.0, 12.0)  # the click protocol's brush and the editor's wider one
SEED = 36
FAINT = (32, 128)  # the cutout alpha a "faint" click's disk reaches (a ghost blob's range)
THIN_NEAR = (3.0, 8.0)  # a keep click's px from the nearest pixel of a dropped thin part
THIN_WIDTH = 8  # a thin part: solid truth gone in an opening this wide
REMOVE_KINDS = ("any", "faint")


def beside_clicks(gt: np.ndarray, trimap: np.ndarray, alpha0: np.ndarray,
                  per: int) -> list[tuple[str, Stroke]]:
    """Up to ``per`` remove clicks per radius and kind, seeded: "any" anywhere on the clear
    background NEAR px from the truth's soft pixels, "faint" where the click's disk also
    reaches cutout alpha in FAINT (what a reviewer sees as haze beside the hair)."""
    soft = (gt > 0) & (gt < 255)
    d = cv2.distanceTransform((~soft).view(np.uint8), cv2.DIST_L2, 5)
    cand = (gt == 0) & (trimap < 26) & (d >= NEAR[0]) & (d <= NEAR[1])
    faint = ((alpha0 >= FAINT[0]) & (alpha0 < FAINT[1])).view(np.uint8)
    rng = np.random.default_rng(SEED)
    out: list[tuple[str, Stroke]] = []
    for r in RADII:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * int(r) + 1,) * 2)
        reach = cv2.dilate(faint, k) > 0
        for kind, m in (("any", cand), ("faint", cand & reach)):
            ys, xs = np.nonzero(m)
            if not ys.size:
                continue
            for i in rng.choice(ys.size, size=min(per, ys.size), replace=False).tolist():
                out.append((kind, Stroke("remove", r, ((float(xs[i]), float(ys[i])),))))
    # drawn after the remove clicks, so those are the same clicks as before the keep kind
    solid = (gt >= 128).view(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (THIN_WIDTH + 1,) * 2)
    lost = (solid > 0) & (cv2.morphologyEx(solid, cv2.MORPH_OPEN, k) == 0) & (alpha0 < 128)
    if lost.any():
        dl = cv2.distanceTransform((~lost).view(np.uint8), cv2.DIST_L2, 5)
        near = (gt == 0) & (trimap < 26) & (dl >= THIN_NEAR[0]) & (dl <= THIN_NEAR[1])
        ys, xs = np.nonzero(near)
        for r in RADII:
            if not ys.size:
                break
            for i in rng.choice(ys.size, size=min(per, ys.size), replace=False).tolist():
                out.append(("thin", Stroke("keep", r, ((float(xs[i]), float(ys[i])),))))
    return out


def score_click(alpha0: np.ndarray, alpha: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """One click's result against the truth, in alpha mass (px at alpha 1): what it took from
    the truth's foreground (``fg_lost``; ``deficit``: the part below the truth), the
    foreground px it cut to 0, the background it cleared, what it raised and its SAD change."""
    old, new, g = alpha0.astype(np.int32), alpha.astype(np.int32), gt.astype(np.int32)
    down, fg = np.maximum(0, old - new), g > 0
    return {"fg_lost": float(down[fg].sum()) / 255.0,
            "deficit": float(np.maximum(0, np.minimum(old, g) - new)[fg].sum()) / 255.0,
            "fg_cut": int(((new == 0) & (old > 0) & fg).sum()),
            "bg_cleared": float(down[~fg].sum()) / 255.0,
            "raised": int((new > old).sum()),
            "fg_gained": float(np.maximum(0, np.minimum(new, g) - np.minimum(old, g))[fg].sum())
            / 255.0,
            "bg_added": float(np.maximum(0, new - old)[~fg].sum()) / 255.0,
            "dsad": float(np.abs(new - g).sum() - np.abs(old - g).sum()) / 255.0}


def run_image(rgb: np.ndarray, alpha0: np.ndarray, rgba0: np.ndarray | None, gt: np.ndarray,
              trimap: np.ndarray, refiner: Refiner, per: int) -> dict[str, Any]:
    """Every beside click of one photo, each alone on the automatic cutout."""
    rows = []
    for kind, st in beside_clicks(gt, trimap, alpha0, per):
        alpha = refiner(rgb, alpha0, rgba0, [st])
        x, y = st.points[0]
        rows.append({"kind": kind, "x": int(x), "y": int(y), "radius": st.radius,
                     **score_click(alpha0, alpha, gt)})
    return {"clicks": rows}


KEYS = ("fg_lost", "deficit", "fg_cut", "bg_cleared", "dsad")
THIN_KEYS = ("fg_gained", "bg_added", "dsad")


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over every remove click ("all") and per kind: the mass each took and cleared,
    how many changed anything, raised SAD, or raised a pixel; and over the keep clicks beside
    a thin part ("thin"): what they gave back of the truth against the background added."""
    out: dict[str, Any] = {"images": len(rows)}
    for kind in ("all", *REMOVE_KINDS):
        cs = [c for r in rows for c in r["clicks"]
              if c["kind"] == kind or (kind == "all" and c["kind"] in REMOVE_KINDS)]
        s: dict[str, Any] = {k: float(sum(c[k] for c in cs)) for k in KEYS}
        s["clicks"] = len(cs)
        s["changing"] = sum(1 for c in cs if c["fg_lost"] > 0 or c["bg_cleared"] > 0)
        s["raising_sad"] = sum(1 for c in cs if c["dsad"] > 0)
        s["raising_px"] = sum(1 for c in cs if c["raised"] > 0)
        out[kind] = s
    cs = [c for r in rows for c in r["clicks"] if c["kind"] == "thin"]
    t: dict[str, Any] = {k: float(sum(c[k] for c in cs)) for k in THIN_KEYS}
    t["clicks"] = len(cs)
    t["gaining"] = sum(1 for c in cs if c["fg_gained"] > 0)
    t["raising_sad"] = sum(1 for c in cs if c["dsad"] > 0)
    out["thin"] = t
    return out


def format_table(report: dict[str, Any]) -> str:
    head = (f"{'engine':<8} {'clicks':<6} {'n':>5} {'changing':>8} {'fg_lost':>10} "
            f"{'deficit':>10} {'fg_cut':>8} {'bg_cleared':>11} {'dSAD':>11} "
            f"{'raise_sad':>9} {'raise_px':>8}")
    lines = [head, "-" * len(head)]
    for e, block in report["engines"].items():
        sm = block["summary"]
        for kind in ("any", "faint", "all"):
            s = sm[kind]
            lines.append(f"{e:<8} {kind:<6} {s['clicks']:>5} {s['changing']:>8} "
                         f"{s['fg_lost']:>10.1f} {s['deficit']:>10.1f} {s['fg_cut']:>8.0f} "
                         f"{s['bg_cleared']:>11.1f} {s['dsad']:>11.1f} {s['raising_sad']:>9} "
                         f"{s['raising_px']:>8}")
        t = sm.get("thin")
        if t and t["clicks"]:
            lines.append(f"{e:<8} keep clicks beside a dropped thin part: {t['clicks']}, "
                         f"{t['gaining']} gaining, fg gained {t['fg_gained']:.1f}, "
                         f"bg added {t['bg_added']:.1f}, dSAD {t['dsad']:.1f}, "
                         f"{t['raising_sad']} raising SAD")
    return "\n".join(lines)


def progress_line(row: dict[str, Any]) -> str:
    cs = row["clicks"]
    return (f"{len(cs)} clicks, fg lost {sum(c['fg_lost'] for c in cs):.1f}, "
            f"bg cleared {sum(c['bg_cleared'] for c in cs):.1f}")


def run_beside(data_dir: str | Path, *, per_image: int = 8,
               **opts: Unpack[RunOptions]) -> dict[str, Any]:
    """Run the beside protocol on every image of a soft-alpha set that has a trimap."""
    from .benchmark import trimap_set

    def play(rgb: np.ndarray, alpha0: np.ndarray, rgba0: np.ndarray,
             truth: tuple[np.ndarray, np.ndarray], refiner: Refiner) -> dict[str, Any]:
        return run_image(rgb, alpha0, rgba0, *truth, refiner, per_image)

    return run_protocol(partial(trimap_set, data_dir), play, summarise, format_table,
                        {"data_dir": str(data_dir), "per_image": per_image,
                         "near_px": list(NEAR), "radii": list(RADII)}, load_average=True,
                        **opts)

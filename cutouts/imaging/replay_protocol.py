"""The replay protocol: reviewers' real stroke lists on eval photos, scored against the truth
(docs/review.md, *Replay protocol*). A case names a photo of the eval sets (``dev/<stem>`` or
``soft-dev/<stem>``, read from ``../shared/eval``: the cases carry no image data), the cut the
strokes were drawn on and the strokes themselves (``strokes.strokes_to_json``, the photo's
full-size px, as the app's Retouch rows keep them). Each case replays from the protocols'
cached ``default`` cutout, prefix by prefix (the state after each stroke, as the preview showed
it), and is scored against the truth: on dev its IoU, on soft-dev its SAD, and on both the
pixels the list made worse (their error grew by more than WORSE) within the brushes drawn so far
and beyond them, how far beyond, the backdrop px it raised from clear to faint beyond them (too
little to count as worse), and on soft-dev the strand px it cut beyond the brushes; on dev also
the soft error start and end and its own verdict (what the IoU at .5 cannot see). Pure
numpy/PIL/OpenCV."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from PIL import Image

from . import metrics
from .clicks import Refiner
from .protocol import RunOptions, run_protocol
from .strokes import Stroke, rasterise, strokes_from_json, strokes_to_json

if TYPE_CHECKING:
    from typing_extensions import Unpack

SETS = ("dev", "soft-dev")
TRUTH_DIR = {"dev": "masks", "soft-dev": "alpha"}
CUT = "default"  # the only cut replayed: the start cutout the other protocols cache by stem
FIELDS = {"name", "photo", "cut", "strokes", "expect", "found", "source"}
NAME_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
CASES_FILE = Path(__file__).with_name("replay_cases.json")
# ../shared/eval beside the checkout (docs: never copied into the repo)
EVAL_DIR = Path(__file__).resolve().parent.parent.parent.parent / "shared" / "eval"
WORSE = 0.25 * 255  # a pixel's |alpha - truth| grew by more than this: made worse
STRAND = 0.25 * 255  # soft-dev: a soft truth pixel above this is a strand worth keeping
# a backdrop px (truth 0 on dev, below STRAND on soft-dev) beyond the brushes that the list
# raised from below FAINT_FROM (clear) to FAINT_TO or more (faint), its error grown: a block or
# rim the WORSE threshold misses (qa41b's blocks raised from 0 to .05-.09; the editor's flash
# shows changes from 9/255 up, so FAINT_TO is a raise the reviewer's preview itself would show)
FAINT_FROM = 0.02 * 255
FAINT_TO = 0.04 * 255
# a list that made this many px worse beyond its brushes changed something a reviewer would
# have to hunt for (the app's far words start at 100 px too: retouch.js FAR_CUT_MIN)
WORSE_PX = 100
# the least change of the photo's metric that counts as a gain or a loss
IOU_EPS = 1e-4
SAD_EPS = 0.01
# dev's soft error (metrics.soft_px: summed |alpha - truth| in px, the band left out), what the
# IoU at .5 cannot see (qa46a: five of seven *same* cases were real fixes, a haze 35/255 -> 1, a
# veil 18 -> 1, a windscreen 207 -> 252). A px counts towards the change only if its error moved
# by more than SOFT_NOISE (FAINT_FROM's 5/255: the cutouts' own jitter of a few levels on a
# JPEG photo is no fix; over the 232 dev cases such px sum to 4 px at most), and the change
# counts as a gain or a loss only if it reaches SOFT_PX px (a 10 x 10 patch made solid, or 100
# px of smear at .1 cleared: qa46a's visor smear 22 -> 3/255 is 10.5) and SOFT_REL of the
# start's soft error (a photo the cut got wide of needs more to show)
SOFT_NOISE = 0.02 * 255
SOFT_PX = 10.0
SOFT_REL = 0.01
SHOW_AFTER = 6  # the table shows the metric after at most this many strokes (first and last)


@dataclass(frozen=True)
class Case:
    name: str
    set: str
    stem: str
    strokes: tuple[Stroke, ...]
    expect: str
    found: str = ""
    source: str = ""
    cut: str = CUT

    @property
    def photo(self) -> str:
        return f"{self.set}/{self.stem}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "photo": self.photo, "cut": self.cut,
                               "strokes": strokes_to_json(self.strokes),
                               "expect": self.expect}
        if self.found:
            out["found"] = self.found
        if self.source:
            out["source"] = self.source
        return out


def parse_case(data: object) -> Case:
    """One case from its JSON object; ValueError names the first bad field."""
    if not isinstance(data, dict):
        raise ValueError("must be an object with name, photo, strokes and expect")
    extra = sorted(set(data) - FIELDS)
    if extra:
        raise ValueError(f"unknown field {', '.join(map(repr, extra))} (fields: "
                         f"{', '.join(sorted(FIELDS))})")
    name = data.get("name")
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise ValueError(f"name must be lower-case letters, digits and single '-', got {name!r}")
    photo = data.get("photo")
    if not isinstance(photo, str) or photo.count("/") != 1:
        raise ValueError(f"photo must be '<set>/<stem>' (set {' or '.join(SETS)}), got {photo!r}")
    set_name, stem = photo.split("/")
    if set_name not in SETS:
        raise ValueError(f"photo {photo!r}: unknown set {set_name!r} (sets: {', '.join(SETS)})")
    if not stem or stem.startswith(".") or "\\" in stem:
        raise ValueError(f"photo {photo!r}: the stem must be a file stem")
    cut = data.get("cut", CUT)
    if cut != CUT:
        raise ValueError(f"cut must be {CUT!r} (the protocols' cached start cutout), got {cut!r}")
    strokes = strokes_from_json(data.get("strokes"))
    if not strokes:
        raise ValueError("strokes: the list is empty (a case replays at least one stroke)")
    texts = {}
    for key in ("expect", "found", "source"):
        v = data.get(key, "")
        if not isinstance(v, str) or "\n" in v:
            raise ValueError(f"{key} must be one line of text, got {v!r}")
        texts[key] = v.strip()
    if not texts["expect"]:
        raise ValueError("expect: say in one line what the reviewer meant")
    return Case(name, set_name, stem, tuple(strokes), texts["expect"], texts["found"],
                texts["source"])


def read_cases(paths: list[str | Path]) -> list[Case]:
    """The cases of JSON files, each ``{"cases": [...]}``, a list of cases or one case (QA's
    per-case files); ValueError lists every bad case by file, number and name."""
    cases: list[Case] = []
    errors: list[str] = []
    for path in map(Path, paths):
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            errors.append(f"{path}: no such file")
            continue
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            errors.append(f"{path}: not JSON ({exc})")
            continue
        if isinstance(data, dict) and "cases" in data:
            data = data["cases"]
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items, start=1):
            label = item.get("name") if isinstance(item, dict) else None
            where = f"{path}: case {i}" + (f" ({label})" if isinstance(label, str) else "")
            try:
                cases.append(parse_case(item))
            except ValueError as exc:
                errors.append(f"{where}: {exc}")
    seen: set[str] = set()
    for c in cases:
        if c.name in seen:
            errors.append(f"case {c.name}: the name is used twice")
        seen.add(c.name)
    if errors:
        raise ValueError("bad replay cases:\n  " + "\n  ".join(errors))
    return cases


def photo_paths(eval_dir: Path, case: Case) -> tuple[Path, Path]:
    """(image, truth) of a case's photo; FileNotFoundError says where it looked."""
    from .benchmark import IMAGE_EXTS

    images = eval_dir / case.set / "images"
    found = sorted(p for p in images.glob(f"{case.stem}.*") if p.suffix.lower() in IMAGE_EXTS)
    truth = eval_dir / case.set / TRUTH_DIR[case.set] / f"{case.stem}.png"
    if not found:
        raise FileNotFoundError(f"no photo {case.photo} (no {images}/{case.stem}.*)")
    if not truth.is_file():
        raise FileNotFoundError(f"photo {case.photo} has no truth ({truth})")
    return found[0], truth


def check_cases(cases: list[Case], eval_dir: str | Path) -> dict[str, tuple[Path, Path]]:
    """Each case's photo found and every stroke on it (read from the image's header); the
    (image, truth) paths by photo. ValueError lists every case that fails."""
    eval_dir = Path(eval_dir)
    paths: dict[str, tuple[Path, Path]] = {}
    errors: list[str] = []
    for c in cases:
        try:
            img, truth = paths.get(c.photo) or photo_paths(eval_dir, c)
        except FileNotFoundError as exc:
            errors.append(f"case {c.name}: {exc}")
            continue
        paths[c.photo] = (img, truth)
        with Image.open(img) as im:
            w, h = im.size
        for i, st in enumerate(c.strokes, start=1):
            x0, y0, x1, y1 = st.bounds()
            if x1 < 0 or y1 < 0 or x0 > w or y0 > h:
                errors.append(f"case {c.name}: stroke {i} lies outside the photo {c.photo} "
                              f"({w}×{h} px; strokes are in its full-size px)")
    stems: dict[str, str] = {}
    for photo in paths:
        stem = photo.split("/")[1]
        if stems.setdefault(stem, photo) != photo:
            # the start cutouts are cached by stem alone
            errors.append(f"photos {stems[stem]} and {photo} share the stem {stem!r}")
    if errors:
        raise ValueError("bad replay cases:\n  " + "\n  ".join(errors))
    return paths


def case_set(cases: list[Case], eval_dir: str | Path, *, stems: set[str] | None,
             limit: int | None) -> tuple[list[tuple[str, Path]],
                                         Callable[[str, np.ndarray], Any]]:
    """The photos the cases replay on (``stems`` only, the first ``limit``), one item each, and
    the loader of a photo's truth and cases (the truth the image's size, or refused)."""
    paths = check_cases(cases, eval_dir)
    by_stem: dict[str, list[Case]] = {}
    for c in cases:
        by_stem.setdefault(c.stem, []).append(c)
    order = [s for s in by_stem if not stems or s in stems][: limit or None]
    if not order:
        raise ValueError("no replay case on the photos asked for")
    items = [(s, paths[by_stem[s][0].photo][0]) for s in order]

    def load(stem: str, rgb: np.ndarray) -> tuple[np.ndarray, list[Case]]:
        truth_path = paths[by_stem[stem][0].photo][1]
        gt = np.asarray(Image.open(truth_path).convert("L"))
        if gt.shape != rgb.shape[:2]:
            raise ValueError(f"{truth_path.name}: truth {gt.shape} does not match image "
                             f"{rgb.shape[:2]}")
        return gt, by_stem[stem]

    return items, load


def score(start: np.ndarray, out: np.ndarray, gt: np.ndarray, brush: np.ndarray,
          soft: bool) -> dict[str, Any]:
    """One state of a case against the truth and its start: the metric (soft: SAD, else IoU),
    the px made worse (|alpha - truth| grew by more than WORSE; dev's ignore band left out)
    within ``brush`` and beyond it, the farthest of those beyond (px from the brush), the px
    made better, the backdrop px beyond the brush raised from clear to faint (``faint_raised``:
    FAINT_FROM, FAINT_TO), and on soft-dev the strand px (truth soft and above STRAND) cut by
    more than STRAND beyond the brush."""
    s, o, g = start.astype(np.int32), out.astype(np.int32), gt.astype(np.int32)
    valid = np.ones(gt.shape, bool) if soft else gt != 128
    grew = np.abs(o - g) - np.abs(s - g)
    worse, better = valid & (grew > WORSE), valid & (grew < -WORSE)
    beyond = worse & ~brush
    far = 0.0
    if beyond.any():
        d = cv2.distanceTransform((~brush).view(np.uint8), cv2.DIST_L2, 5)
        far = float(d[beyond].max())
    backdrop = g < STRAND if soft else g == 0
    faint = backdrop & ~brush & (s < FAINT_FROM) & (o >= FAINT_TO) & (grew > 0)
    row: dict[str, Any] = {"worse_in": int((worse & brush).sum()),
                           "worse_beyond": int(beyond.sum()), "far": round(far, 1),
                           "better": int(better.sum()), "faint_raised": int(faint.sum())}
    if soft:
        row["sad"] = metrics.sad(out, gt)
        strand = (g > STRAND) & (g < 255)
        row["strands_cut"] = int((strand & (s - o > STRAND) & ~brush).sum())
    else:
        row["iou"] = metrics.iou(out, gt)
    return row


def verdict(first: dict[str, Any], last: dict[str, Any], soft: bool) -> str:
    """better: the metric gained and fewer than WORSE_PX px were made worse beyond the brushes
    (and on soft-dev as few strand px cut); worse: the metric lost; same: neither, and nothing
    beyond; mixed: a gain or none, with as much made worse beyond the brushes."""
    gain = first["sad"] - last["sad"] if soft else last["iou"] - first["iou"]
    eps = SAD_EPS if soft else IOU_EPS
    harm = max(last["worse_beyond"], last.get("strands_cut", 0)) >= WORSE_PX
    if gain < -eps:
        return "worse"
    if harm:
        return "mixed"
    return "better" if gain > eps else "same"


def soft_gain(start: np.ndarray, out: np.ndarray, gt: np.ndarray) -> float:
    """The soft error (px, ``metrics.soft_px``) ``out`` took off ``start`` (negative: added),
    counting only the px whose |alpha - truth| moved by more than SOFT_NOISE: noise of a few
    levels spread over the photo sums to nothing."""
    obj, _, valid = metrics.split_gt(gt)
    t = np.where(obj, 255, 0)
    d = np.abs(start.astype(np.int32) - t) - np.abs(out.astype(np.int32) - t)
    moved = valid & (np.abs(d) > SOFT_NOISE)
    return float(d[moved].sum()) / 255.0


def soft_verdict(gain: float, before: float) -> str:
    """better / worse: the soft error fell / rose by SOFT_PX px and SOFT_REL of the start's
    (``soft_gain``), else same."""
    margin = max(SOFT_PX, SOFT_REL * before)
    return "better" if gain >= margin else "worse" if gain <= -margin else "same"


def losing(states: list[dict[str, Any]]) -> list[int]:
    """The strokes (1-based) after which the figure lost against the state before them: a list
    can end better than it started and still hold a stroke that undid part of it."""
    out = []
    for k, (a, b) in enumerate(pairwise(states), start=1):
        if ("sad" in b and b["sad"] - a["sad"] > SAD_EPS) or (
                "iou" in b and a["iou"] - b["iou"] > IOU_EPS):
            out.append(k)
    return out


def replay_case(rgb: np.ndarray, alpha0: np.ndarray, rgba0: np.ndarray | None, gt: np.ndarray,
                case: Case, refiner: Refiner) -> dict[str, Any]:
    """One case replayed prefix by prefix from the start cutout: its start figures, the figures
    after each stroke against the start (with the seconds it took) and, as ``step``, what that
    stroke alone made worse beyond the brushes against the state before it (QA names the
    touch that went wrong), the verdict of the end."""
    soft = case.set == "soft-dev"
    start = score(alpha0, alpha0, gt, np.zeros(gt.shape, bool), soft)
    after: list[dict[str, Any]] = []
    prev = alpha0
    for k in range(1, len(case.strokes) + 1):
        strokes = list(case.strokes[:k])
        t = time.perf_counter()
        out = refiner(rgb, alpha0, rgba0, strokes)
        secs = time.perf_counter() - t
        brush = rasterise(strokes, gt.shape) > 0
        step = score(prev, out, gt, brush, soft)
        after.append({**score(alpha0, out, gt, brush, soft), "seconds": round(secs, 3),
                      "step": {key: step[key] for key in ("worse_beyond", "far", "strands_cut")
                               if key in step}})
        prev = out
    row: dict[str, Any] = {"name": case.name, "photo": case.photo,
                           "kinds": [s.kind for s in case.strokes],
                           "start": start, "after": after, "losing": losing([start, *after]),
                           "verdict": verdict(start, after[-1], soft)}
    if not soft:  # soft-dev's SAD is already soft
        before, gain = metrics.soft_px(alpha0, gt), soft_gain(alpha0, prev, gt)
        row.update(soft_before=round(before, 1), soft_after=round(metrics.soft_px(prev, gt), 1),
                   soft_gain=round(gain, 1), soft_verdict=soft_verdict(gain, before))
    return row


def worst_step(case: dict[str, Any]) -> tuple[int, int]:
    """(stroke, px) of the stroke that alone made the most px worse beyond the brushes (strand
    px cut counted in); (0, 0) when none did."""
    best = (0, 0)
    for k, a in enumerate(case["after"], start=1):
        n = a["step"]["worse_beyond"] + a["step"].get("strands_cut", 0)
        if n > best[1]:
            best = (k, n)
    return best


def run_image(rgb: np.ndarray, alpha0: np.ndarray, rgba0: np.ndarray | None,
              truth: tuple[np.ndarray, list[Case]], refiner: Refiner) -> dict[str, Any]:
    gt, cases = truth
    return {"cases": [replay_case(rgb, alpha0, rgba0, gt, c, refiner) for c in cases]}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Verdicts counted over the cases, the cases with a stroke that lost the figure or alone
    made WORSE_PX px worse beyond the brushes, the px made worse beyond the brushes and the
    backdrop px raised from clear to faint beyond them summed (start to end), and the replay's
    seconds (every prefix)."""
    cs = [c for r in rows for c in r["cases"]]
    out: dict[str, Any] = {"images": len(rows), "cases": len(cs)}
    for v in ("better", "mixed", "worse", "same"):
        out[v] = sum(c["verdict"] == v for c in cs)
    out["losing"] = sum(bool(c["losing"]) for c in cs)
    out["harmful_step"] = sum(worst_step(c)[1] >= WORSE_PX for c in cs)
    out["worse_beyond"] = sum(c["after"][-1]["worse_beyond"] for c in cs)
    out["faint_raised"] = sum(c["after"][-1]["faint_raised"] for c in cs)
    out["strands_cut"] = sum(c["after"][-1].get("strands_cut", 0) for c in cs)
    out["seconds"] = round(sum(a["seconds"] for c in cs for a in c["after"]), 1)
    out["soft"] = soft_summary(cs)
    return out


def soft_summary(cases: list[dict[str, Any]]) -> dict[str, int]:
    """The dev cases counted by soft verdict, and those whose soft verdict the verdict hides:
    *same* but soft better or worse, *better* but soft worse."""
    cs = [c for c in cases if "soft_verdict" in c]
    out = {"cases": len(cs)}
    for v in ("better", "worse", "same"):
        out[v] = sum(c["soft_verdict"] == v for c in cs)
    for v, sv in (("same", "better"), ("same", "worse"), ("better", "worse")):
        out[f"{v}_soft_{sv}"] = sum(c["verdict"] == v and c["soft_verdict"] == sv for c in cs)
    return out


def _metric(row: dict[str, Any]) -> str:
    return f"{row['sad']:.2f}" if "sad" in row else f"{row['iou']:.4f}"


def _faint(row: dict[str, Any]) -> str:
    """A state's ``faint_raised``, or "?" from a report made before it was counted."""
    return str(row["faint_raised"]) if "faint_raised" in row else "?"


def _soft(case: dict[str, Any]) -> str:
    """A dev case's soft error start -> end and its soft verdict; "" on soft-dev."""
    if "soft_verdict" not in case:
        return ""
    return f"{case['soft_before']:.0f} -> {case['soft_after']:.0f} {case['soft_verdict']}"


def _afters(after: list[dict[str, Any]]) -> str:
    vals = [_metric(a) for a in after]
    if len(vals) > SHOW_AFTER:
        vals = vals[: SHOW_AFTER - 2] + ["…"] + vals[-2:]
    return " ".join(vals)


def format_table(report: dict[str, Any]) -> str:
    """One row per case and engine: the metric (IoU on dev, SAD on soft-dev) at the start,
    after each stroke and at the end, the strokes after which it lost, the px made worse
    within and beyond the brushes, the farthest beyond, the backdrop px raised from clear to
    faint beyond, soft-dev's strand px cut beyond, the verdict."""
    cases = [c for b in report["engines"].values() for r in b["images"] for c in r["cases"]]
    nw = max([len(c["name"]) for c in cases] + [4])
    head = (f"{'engine':<8} {'case':<{nw}} {'photo':<13} {'n':>2} {'start':>7}  "
            f"{'after each stroke':<40} {'end':>7} {'lost@':>6} {'worst step':>10} {'worse in':>8} "
            f"{'beyond':>7} {'far':>5} {'faint':>6} {'strands':>7}  verdict  soft error (px)")
    lines = [head, "-" * len(head)]
    for e, block in report["engines"].items():
        for r in block["images"]:
            for c in r["cases"]:
                end = c["after"][-1]
                strands = f"{end['strands_cut']:>7}" if "strands_cut" in end else f"{'':>7}"
                lost = ",".join(map(str, c["losing"])) or "-"
                k, n = worst_step(c)
                step = f"{k}:{n}" if n else "-"
                lines.append(f"{e:<8} {c['name']:<{nw}} {c['photo']:<13} {len(c['after']):>2} "
                             f"{_metric(c['start']):>7}  {_afters(c['after']):<40} "
                             f"{_metric(end):>7} {lost:>6} {step:>10} {end['worse_in']:>8} "
                             f"{end['worse_beyond']:>7} {end['far']:>5.0f} {_faint(end):>6} "
                             f"{strands}  "
                             f"{c['verdict']:<7}  {_soft(c)}".rstrip())
        s = block["summary"]
        lines.append(f"{e}: {s['cases']} cases on {s['images']} photos: {s['better']} better, "
                     f"{s['mixed']} mixed, {s['worse']} worse, {s['same']} same; "
                     f"{s['losing']} with a stroke that lost the figure, {s['harmful_step']} "
                     f"with one that alone made {WORSE_PX}+ px worse beyond; "
                     f"{s['worse_beyond']} px worse beyond the brushes, "
                     f"{s['faint_raised']} backdrop px raised from clear to faint beyond, "
                     f"{s['strands_cut']} strand px cut beyond; {s['seconds']} s of retouch")
        n = s.get("soft", {})
        if n.get("cases"):
            lines.append(f"{e}: soft error on {n['cases']} dev cases: {n['better']} better, "
                         f"{n['worse']} worse, {n['same']} same (px moved by more than "
                         f"{SOFT_NOISE:.0f}/255, {SOFT_PX:.0f} px and {SOFT_REL:.0%} of the "
                         f"start); {n['same_soft_better']} same cases soft better, "
                         f"{n['same_soft_worse']} soft worse, {n['better_soft_worse']} better "
                         f"cases soft worse")
    return "\n".join(lines)


def progress_line(row: dict[str, Any]) -> str:
    return "; ".join(f"{c['name']} {_metric(c['start'])} -> {_metric(c['after'][-1])} "
                     f"{c['verdict']}" for c in row["cases"])


def _ends(report: dict[str, Any], engine: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for r in report["engines"].get(engine, {}).get("images", [])
            for c in r["cases"]}


def regressed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A case's new end is worse than its old one: its metric lost, or WORSE_PX more px made
    worse beyond its brushes (strand px cut counted in) than before."""
    o, n = old["after"][-1], new["after"][-1]
    lost = bool(n["sad"] - o["sad"] > SAD_EPS) if "sad" in n else bool(
        o["iou"] - n["iou"] > IOU_EPS)
    harm = int(n["worse_beyond"] + n.get("strands_cut", 0) - o["worse_beyond"] - o.get(
        "strands_cut", 0))
    return lost or harm >= WORSE_PX


def compare(old: dict[str, Any], new: dict[str, Any], engine: str = "retouch") -> str:
    """Old (another clone's ``--json``) against new, case by case: the end figure, the px made
    worse beyond the brushes (+ strand px cut), the backdrop px raised from clear to faint
    beyond them, the verdicts, and the cases worse than before (``regressed``) or with
    WORSE_PX more px raised to faint (``FAINT``: not counted worse, a rule's own figures have
    to say whether those px are a regression); cases in one report only are named. A report
    made before ``faint_raised`` was counted shows "?" there: unknown, never compared as 0.
    On dev also the soft verdicts old -> new (``SOFT``: changed; "?" from a report made before
    the soft error was counted, never compared) and the summary's soft counts (``soft_changes``)."""
    before, after = _ends(old, engine), _ends(new, engine)
    head = (f"{'case':<34} {'old end':>8} {'new end':>8} {'old beyond':>10} "
            f"{'new beyond':>10} {'old faint':>9} {'new faint':>9}  verdict old -> new")
    lines = [head, "-" * len(head)]
    worse, fainter, unknown = [], [], 0
    softer: list[str] = []
    soft_unknown = 0
    for name, n in after.items():
        o = before.get(name)
        if o is None:
            continue
        ob = o["after"][-1]["worse_beyond"] + o["after"][-1].get("strands_cut", 0)
        nb = n["after"][-1]["worse_beyond"] + n["after"][-1].get("strands_cut", 0)
        of, nf = _faint(o["after"][-1]), _faint(n["after"][-1])
        unknown += "?" in (of, nf)
        faint = "?" not in (of, nf) and int(nf) - int(of) >= WORSE_PX
        fainter += [name] if faint else []
        flag = regressed(o, n)
        worse += [name] if flag else []
        osv, nsv = o.get("soft_verdict", "?"), n.get("soft_verdict", "?")
        dev = "soft_verdict" in o or "soft_verdict" in n  # soft-dev cases have none
        soft_unknown += dev and "?" in (osv, nsv)
        soft_moved = dev and "?" not in (osv, nsv) and osv != nsv
        softer += [f"{name} ({osv} -> {nsv})"] if soft_moved else []
        lines.append(f"{name:<34.34} {_metric(o['after'][-1]):>8} {_metric(n['after'][-1]):>8} "
                     f"{ob:>10} {nb:>10} {of:>9} {nf:>9}  {o['verdict']} -> {n['verdict']}"
                     + (f"  soft {osv} -> {nsv}" if dev else "")
                     + ("  SOFT" if soft_moved else "")
                     + ("  FAINT" if faint else "") + ("  WORSE" if flag else ""))
    only = sorted(set(before) ^ set(after))
    lines.append(f"{len(set(before) & set(after))} cases in both, {len(worse)} worse than old"
                 + (f": {', '.join(worse)}" if worse else "")
                 + (f"; in one report only: {', '.join(only)}" if only else "")
                 + (f"; {len(fainter)} with {WORSE_PX}+ more backdrop px raised to faint: "
                    f"{', '.join(fainter)}" if fainter else "")
                 + (f"; faint raised unknown (?) for {unknown}: a report made before it was "
                    "counted" if unknown else "")
                 + (f"; soft verdict changed for {len(softer)}: {', '.join(softer)}"
                    if softer else "")
                 + (f"; soft verdict unknown (?) for {soft_unknown}: a report made before it "
                    "was counted" if soft_unknown else ""))
    counts = soft_changes(old, new, engine)
    if counts:
        lines.append(f"soft error on dev cases, old -> new: {counts}")
    return "\n".join(lines)


SOFT_COUNTS = (("cases", "cases"), ("better", "better"), ("worse", "worse"), ("same", "same"),
               ("same_soft_better", "same but soft better"),
               ("same_soft_worse", "same but soft worse"),
               ("better_soft_worse", "better but soft worse"))


def soft_changes(old: dict[str, Any], new: dict[str, Any], engine: str = "retouch") -> str:
    """The summaries' soft counts (``soft_summary``) old -> new, "?" for a count a report does
    not hold (made before the soft error was counted); "" when neither holds any."""
    o, n = (rep["engines"].get(engine, {}).get("summary", {}).get("soft") or {}
            for rep in (old, new))
    if not o and not n:
        return ""
    return ", ".join(f"{label} {o.get(k, '?')} -> {n.get(k, '?')}" for k, label in SOFT_COUNTS)


def run_replay(case_files: list[str | Path] | None = None, *,
               eval_dir: str | Path = EVAL_DIR, names: set[str] | None = None,
               **opts: Unpack[RunOptions]) -> dict[str, Any]:
    """Replay the cases of ``case_files`` (default: the repo's ``replay_cases.json``; only
    ``names`` if given) on their photos under ``eval_dir``."""
    files = list(case_files or [CASES_FILE])
    cases = read_cases(files)
    if names:
        unknown = sorted(names - {c.name for c in cases})
        if unknown:
            raise ValueError(f"no replay case named {', '.join(unknown)}")
        cases = [c for c in cases if c.name in names]
    return run_protocol(partial(case_set, cases, eval_dir), run_image, summarise, format_table,
                        {"protocol": "replay", "case_files": [str(f) for f in files],
                         "eval_dir": str(eval_dir), "worse": WORSE / 255,
                         "worse_px": WORSE_PX}, load_average=True, **opts)

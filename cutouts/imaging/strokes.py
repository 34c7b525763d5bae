"""Reviewer strokes (keep / remove / detail, and the subject click): the value object, its
JSON form and label masks."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("keep", "remove", "detail", "subject")
# Label values of a rasterised stroke mask; 0 = no stroke. A subject click paints no brush:
# it chooses a part of the cutout (``imaging.subject``), so it rasterises to nothing.
NONE, KEEP, REMOVE, DETAIL = 0, 1, 2, 3
LABEL = {"keep": KEEP, "remove": REMOVE, "detail": DETAIL, "subject": NONE}

MAX_STROKES = 2000
MAX_POINTS = 20000  # per stroke
MAX_RADIUS = 4096.0
MIN_RADIUS = 0.5


@dataclass(frozen=True)
class Stroke:
    kind: str  # "keep" | "remove" | "detail" | "subject" (one point: a click)
    radius: float  # brush radius in pixels of the image the points refer to
    points: tuple[tuple[float, float], ...]  # (x, y); one point = a click

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"stroke kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if not (MIN_RADIUS <= self.radius <= MAX_RADIUS) or not math.isfinite(self.radius):
            raise ValueError(f"stroke radius must be between {MIN_RADIUS} and {MAX_RADIUS} px, "
                             f"got {self.radius!r}")
        if not self.points:
            raise ValueError("a stroke needs at least one point")
        if self.kind == "subject" and len(self.points) != 1:
            raise ValueError(f"a subject stroke is one click (one point), got "
                             f"{len(self.points)} points")

    def scaled(self, factor: float) -> Stroke:
        """The same stroke on a copy of the image resized by ``factor``."""
        if not (factor > 0 and math.isfinite(factor)):
            raise ValueError(f"scale factor must be positive, got {factor!r}")
        return Stroke(self.kind, max(MIN_RADIUS, self.radius * factor),
                      tuple((x * factor, y * factor) for x, y in self.points))

    @property
    def label(self) -> int:
        return LABEL[self.kind]

    def bounds(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) covered by the brush, in the stroke's pixel coordinates."""
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        r = self.radius
        return min(xs) - r, min(ys) - r, max(xs) + r, max(ys) + r


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    f = float(value)
    if not math.isfinite(f):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return f


def strokes_from_json(data: object) -> list[Stroke]:
    """Parse ``[{"kind": "keep", "radius": 12, "points": [[x, y], ...]}, ...]``; a
    ``"subject"`` stroke is one point, and a list holds one at most: it says which part is the
    product; a second would only choose again among what the first kept (undo the first to
    choose another part).

    Raises ValueError naming the first bad stroke and field."""
    if not isinstance(data, list):
        raise ValueError("strokes must be a JSON list")
    if len(data) > MAX_STROKES:
        raise ValueError(f"too many strokes ({len(data)}; at most {MAX_STROKES})")
    out: list[Stroke] = []
    subject = 0  # the first subject click's number
    for i, item in enumerate(data):
        where = f"stroke {i + 1}"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: must be an object with kind, radius and points")
        kind = item.get("kind")
        if kind not in KINDS:
            raise ValueError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        radius = _number(item.get("radius"), f"{where}: radius")
        pts = item.get("points")
        if not isinstance(pts, list) or not pts:
            raise ValueError(f"{where}: points must be a non-empty list of [x, y]")
        if len(pts) > MAX_POINTS:
            raise ValueError(f"{where}: too many points ({len(pts)}; at most {MAX_POINTS})")
        points = []
        for j, p in enumerate(pts):
            if not isinstance(p, (list, tuple)) or len(p) != 2:
                raise ValueError(f"{where}: point {j + 1} must be [x, y], got {p!r}")
            points.append((_number(p[0], f"{where}: point {j + 1} x"),
                           _number(p[1], f"{where}: point {j + 1} y")))
        try:
            out.append(Stroke(kind, radius, tuple(points)))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if kind == "subject":
            if subject:
                raise ValueError(f"{where}: only one subject click per list (stroke {subject} "
                                 "is one); undo it to choose another part")
            subject = i + 1
    return out


def strokes_to_json(strokes: Iterable[Stroke]) -> list[dict[str, Any]]:
    return [{"kind": s.kind, "radius": float(s.radius),
             "points": [[float(x), float(y)] for x, y in s.points]} for s in strokes]


def rasterise(strokes: Iterable[Stroke], shape: tuple[int, int], *,
              origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Label mask (H, W) uint8 (NONE/KEEP/REMOVE/DETAIL) of the strokes painted in order,
    so later strokes win where they overlap. ``origin`` = (x0, y0) of this window in
    the strokes' coordinates (tiles of a large image paint exactly like the whole image).

    A pixel is painted when its centre (integer coordinates) lies within the radius of the
    stroke's polyline; a brush thinner than a pixel still paints the pixels it crosses."""
    labels = np.zeros(shape, np.uint8)
    for s in strokes:
        if s.label != NONE:  # a subject click: no brush (it must not wipe an earlier one)
            paint(labels, s, s.label, origin)
    return labels


def paint(out: np.ndarray, stroke: Stroke, value: int, origin: tuple[int, int] = (0, 0)) -> None:
    """Set ``out`` to ``value`` under the stroke (in place)."""
    h, w = out.shape[:2]
    r = max(float(stroke.radius), 0.7072)  # sqrt(2)/2: the nearest pixel is always hit
    r2 = r * r + 1e-9
    pts = np.asarray(stroke.points, np.float64) - np.asarray(origin, np.float64)
    x0, y0, x1, y1 = stroke.bounds()
    if x1 - origin[0] < -1 or y1 - origin[1] < -1 or x0 - origin[0] > w or y0 - origin[1] > h:
        return
    segs = zip(pts[:-1], pts[1:], strict=True) if len(pts) > 1 else [(pts[0], pts[0])]
    for a, b in segs:
        bx0 = max(0, math.floor(min(a[0], b[0]) - r))
        bx1 = min(w, math.ceil(max(a[0], b[0]) + r) + 1)
        by0 = max(0, math.floor(min(a[1], b[1]) - r))
        by1 = min(h, math.ceil(max(a[1], b[1]) + r) + 1)
        if bx1 <= bx0 or by1 <= by0:
            continue
        xs = np.arange(bx0, bx1, dtype=np.float64)[None, :] - a[0]
        ys = np.arange(by0, by1, dtype=np.float64)[:, None] - a[1]
        dx, dy = b[0] - a[0], b[1] - a[1]
        seg2 = dx * dx + dy * dy
        if seg2 > 0:
            t = np.clip((xs * dx + ys * dy) / seg2, 0.0, 1.0)
            ex, ey = xs - t * dx, ys - t * dy
        else:
            ex, ey = xs, ys
        hit = ex * ex + ey * ey <= r2
        out[by0:by1, bx0:bx1][hit] = value


def masks(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keep, remove, detail) boolean masks of a label mask."""
    return labels == KEEP, labels == REMOVE, labels == DETAIL

"""Centre lines of masks: thinning one to a one-pixel skeleton and walking along it (where
the simulated reviewers of the benchmarks paint their strokes)."""

from __future__ import annotations

from collections import deque

import numpy as np


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning (bool): the centre line of a band, 8-connected, one pixel wide."""
    img = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = img
            n = [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:],
                 p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]  # P2..P9
            c = p[1:-1, 1:-1]
            b = sum(x.astype(np.int32) for x in n)
            seq = n + [n[0]]
            a = sum(((seq[i] == 0) & (seq[i + 1] == 1)).astype(np.int32) for i in range(8))
            if step == 0:
                m1, m2 = n[0] * n[2] * n[4], n[2] * n[4] * n[6]
            else:
                m1, m2 = n[0] * n[2] * n[6], n[0] * n[4] * n[6]
            kill = (c == 1) & (b >= 2) & (b <= 6) & (a == 1) & (m1 == 0) & (m2 == 0)
            if kill.any():
                c[kill] = 0
                changed = True
        if not changed:
            out: np.ndarray = img[1:-1, 1:-1] > 0
            return out


_N8 = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def walk(skel: np.ndarray, start: tuple[int, int], blocked: set[tuple[int, int]],
          limit: float) -> list[tuple[int, int]]:
    """The skeleton path from start to the pixel farthest along it (geodesic, at most limit)."""
    h, w = skel.shape
    dist = {start: 0.0}
    parent: dict[tuple[int, int], tuple[int, int]] = {}
    q = deque([start])
    far = start
    while q:
        p = q.popleft()
        for dy, dx in _N8:
            n = (p[0] + dy, p[1] + dx)
            if not (0 <= n[0] < h and 0 <= n[1] < w) or not skel[n] or n in blocked:
                continue
            d = dist[p] + (1.4142 if dy and dx else 1.0)
            if d > limit or d >= dist.get(n, np.inf):
                continue
            dist[n], parent[n] = d, p
            q.append(n)
            if d > dist[far]:
                far = n
    path = [far]
    while path[-1] != start:
        path.append(parent[path[-1]])
    return path[::-1]

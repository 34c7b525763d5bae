"""The graph cut's graph (retouch_cut._pairwise, _cut): built in int32 and sized up front, it is
the graph the float32 formula built edge for edge, so every cut is the same pixels."""

from __future__ import annotations

import maxflow
import numpy as np

from cutouts.imaging import retouch_cut

OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1))


def _lab(h: int = 61, w: int = 47, seed: int = 0) -> np.ndarray:
    """A Lab-like uint8 image with flat patches, noise and the extremes 0 and 255 side by side
    (the largest squared distance, 3 x 255²)."""
    rng = np.random.default_rng(seed)
    lab = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    lab[10:30, 5:25] = (120, 130, 140)
    lab[40:, :, :] = 0
    lab[40:, ::2, :] = 255
    return lab


def _reference_weights(lab: np.ndarray, smooth: float) -> list[np.ndarray]:
    """The weights as the float32 sum of squares made them (before 2026-12-06)."""
    f = lab.astype(np.float32)
    h, w = f.shape[:2]
    spans, diffs = [], []
    for dy, dx in OFFSETS:
        xa0, xa1 = max(0, -dx), w - max(0, dx)
        a = f[: h - dy, xa0:xa1]
        b = f[dy:, xa0 + dx: xa1 + dx]
        spans.append((xa0, xa1))
        diffs.append(((a - b) ** 2).sum(axis=2))
    beta = 1.0 / (2.0 * max(float(np.mean([d.mean() for d in diffs])), 1e-6))
    out = []
    for (dy, dx), (xa0, xa1), d2 in zip(OFFSETS, spans, diffs, strict=True):
        wgt = np.zeros((h, w), np.float32)
        wgt[: h - dy, xa0:xa1] = (smooth / np.hypot(dy, dx)) * np.exp(-beta * d2)
        out.append(wgt)
    return out


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, np.ndarray, bool]] = []

    def add_grid_edges(self, nodes, weights, structure, symmetric):
        self.calls.append((np.array(weights), np.array(structure), bool(symmetric)))


def test_it_weighs_each_neighbour_pair_exactly_as_the_float32_formula_did() -> None:
    lab = _lab()
    rec = _Recorder()
    retouch_cut._pairwise(rec, np.zeros(lab.shape[:2], np.int64), lab, 50.0)
    ref = _reference_weights(lab, 50.0)
    assert len(rec.calls) == len(OFFSETS)
    for (dy, dx), (wgt, st, sym), want in zip(OFFSETS, rec.calls, ref, strict=True):
        assert sym and st[1 + dy, 1 + dx] == 1 and st.sum() == 1
        assert wgt.dtype == np.float32
        assert np.array_equal(wgt, want)


def test_it_cuts_the_pixels_an_unsized_graph_of_the_old_weights_cuts() -> None:
    lab = _lab(seed=1)
    h, w = lab.shape[:2]
    rng = np.random.default_rng(2)
    # a unary term with many ties (whole numbers, zeros): where several cuts are minimal, the
    # one found depends on the graph's edge order
    t = np.round(rng.normal(0, 2, (h, w))).astype(np.float32)
    t[:5] = 40.0
    t[-5:] = -40.0
    g = maxflow.Graph[float]()
    nodes = g.add_grid_nodes((h, w))
    for (dy, dx), wgt in zip(OFFSETS, _reference_weights(lab, 50.0), strict=True):
        st = np.zeros((3, 3))
        st[1 + dy, 1 + dx] = 1
        g.add_grid_edges(nodes, weights=wgt, structure=st, symmetric=True)
    g.add_grid_tedges(nodes, np.maximum(t, 0), np.maximum(-t, 0))
    g.maxflow()
    want = ~g.get_grid_segments(nodes)
    got = retouch_cut._cut(t, lab, 50.0)
    assert 0 < int(got.sum()) < h * w
    assert np.array_equal(got, want)

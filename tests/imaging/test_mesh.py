"""A stroke over a mesh is told from one over hair, a plain product or clutter (QA M6, soft-dev
GT25, 2026-12-05: detail strokes over the wire-mesh cup were told to paint across the edge).
Synthetic photos built in memory."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging import mesh
from cutouts.imaging.mesh import over_mesh
from cutouts.imaging.strokes import Stroke

from .scenes import busy_background

H, W = 240, 320
DOWN = Stroke("detail", 12.0, ((160.0, 40.0), (160.0, 200.0)))


def _noisy(img: np.ndarray, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, 3, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def _grid(seed: int, period: int, diagonal: bool) -> np.ndarray:
    """Grey wires (2 px) every ``period`` px over a darker far wall, as GT25's cup."""
    yy, xx = np.mgrid[:H, :W]
    u, v = (xx + yy, xx - yy) if diagonal else (xx, yy)
    wire = (u % period < 2) | (v % period < 2)
    img = np.where(wire[..., None], (170, 170, 176), (104, 100, 110)).astype(np.float32)
    return _noisy(img, seed)


def _strands(seed: int) -> np.ndarray:
    """Hair: dark strands, 1-2 px, side by side at uneven gaps, nearly parallel."""
    rng = np.random.default_rng(seed)
    img = np.full((H, W, 3), (225, 215, 200), np.float32)
    yy, xx = np.mgrid[:H, :W]
    x = 0.0
    while x < W:
        x += float(rng.uniform(3, 9))
        slope = float(rng.normal(0.15, 0.05))
        width = float(rng.uniform(0.8, 2.0))
        img[np.abs(xx - (x + slope * yy)) < width] = (60, 40, 30)
    return _noisy(img, seed)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("period", "diagonal"), [(8, False), (12, True), (16, False)])
def test_it_finds_a_wire_grid_under_a_stroke_and_a_click(seed, period, diagonal):
    img = _grid(seed, period, diagonal)
    assert over_mesh(img, DOWN)
    assert over_mesh(img, Stroke("detail", 12.0, ((100.0, 120.0),)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_finds_no_mesh_in_hair_a_plain_product_or_clutter(seed):
    plain = _noisy(np.full((H, W, 3), (200, 30, 30), np.float32), seed)
    clutter = busy_background(seed)
    for img in (_strands(seed), plain, clutter):
        assert not over_mesh(img, DOWN)


def test_it_reads_the_mesh_under_the_stroke_not_beside_it():
    # the grid on the right half only: a stroke down the plain left half is not over it
    img = _grid(0, 12, True)
    img[:, : W // 2] = _noisy(np.full((H, W // 2, 3), (104, 100, 110), np.float32), 0)
    assert over_mesh(img, Stroke("detail", 12.0, ((250.0, 40.0), (250.0, 200.0))))
    assert not over_mesh(img, Stroke("detail", 12.0, ((60.0, 40.0), (60.0, 200.0))))


def _all_windows(img: np.ndarray, stroke: Stroke) -> list[bool]:
    """Every window's vote along the stroke (over_mesh's windows, none skipped)."""
    half = mesh.MESH_WINDOW // 2
    votes = []
    for x, y in mesh._centres(stroke):
        x0 = int(np.clip(round(x) - half, 0, W - mesh.MESH_WINDOW))
        y0 = int(np.clip(round(y) - half, 0, H - mesh.MESH_WINDOW))
        crop = np.ascontiguousarray(img[y0 : y0 + mesh.MESH_WINDOW, x0 : x0 + mesh.MESH_WINDOW])
        grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
        votes.append(mesh._window_is_mesh(grey))
    return votes


def test_it_stops_reading_windows_once_the_answer_is_decided(monkeypatch):
    # over_mesh runs on every detail preview: it reads windows only until the share is reached
    # or out of reach, and answers as all the windows would
    right = _grid(0, 12, True)
    right[:, : W // 2] = _noisy(np.full((H, W // 2, 3), (104, 100, 110), np.float32), 0)
    across = Stroke("detail", 12.0, ((30.0, 120.0), (290.0, 120.0)))  # half over the grid
    back = Stroke("detail", 12.0, ((290.0, 120.0), (30.0, 120.0)))
    cases = [(_grid(0, 12, True), DOWN), (_strands(0), DOWN), (right, across), (right, back)]
    real = mesh._window_is_mesh
    skipped = []
    for img, stroke in cases:
        votes = _all_windows(img, stroke)
        read: list[bool] = []

        def spy(grey: np.ndarray, read: list[bool] = read) -> bool:
            read.append(real(grey))
            return read[-1]

        monkeypatch.setattr(mesh, "_window_is_mesh", spy)
        got = over_mesh(img, stroke)
        monkeypatch.undo()
        assert got == (sum(votes) >= mesh.MESH_SHARE * len(votes))
        assert read == votes[: len(read)]
        # decided at the last window read: not before it, and no window after it
        need = mesh.MESH_SHARE * len(votes)
        assert (sum(read) >= need) or (len(votes) - read.count(False) < need)
        assert (sum(read[:-1]) < need) and (len(votes) - read[:-1].count(False) >= need)
        skipped.append(len(votes) - len(read))
    assert skipped[0] > 0 and skipped[1] > 0  # wholly over the grid, over the hair

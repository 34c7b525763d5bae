"""The detail brush along a wire-mesh product's outline lays no halo on the backdrop beside it
(QA H2, soft-dev GT25, 2026-12-05: strokes of radius 16-40 along the mesh cup's outline greyed
the backdrop, 4 of 5 raising SAD). Synthetic scenes built in memory: a thin wire grid whose holes
show a wall of nearly the backdrop's colour, on a plain or a textured backdrop."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W, EDGE = 240, 320, 160


def _mesh_on(seed: int, textured: bool) -> tuple[np.ndarray, np.ndarray]:
    """A wire grid right of x = EDGE (the cutout holds it solid, holes and all) on a grey-violet
    backdrop; ``textured`` adds paler patches to the backdrop (a box, a bar), of the wires' colour
    family, as the desk things beside GT25's cup. Returns the photo and the cutout."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    img = np.empty((H, W, 3), np.float32)
    img[:] = (96, 92, 104)
    cup = xx >= EDGE
    wire = ((xx + yy) % 12 < 2) | ((xx - yy) % 12 < 2)
    img[cup] = (104, 100, 110)  # the far wall through the holes: nearly the backdrop's colour
    img[cup & wire] = (170, 170, 176)
    if textured:
        for _ in range(6):
            cy, cx = int(rng.integers(10, H - 10)), int(rng.integers(100, EDGE - 2))
            hh, ww = int(rng.integers(8, 20)), int(rng.integers(10, 40))
            shade = float(rng.uniform(130, 165))
            img[max(cy - hh, 0):cy + hh, max(cx - ww, 0):min(cx + ww, EDGE - 2)] = (shade, shade,
                                                                                   shade + 4)
    img = cv2.GaussianBlur(img + rng.normal(0, 2, img.shape), (3, 3), 0)
    return np.clip(img, 0, 255).astype(np.uint8), np.where(cup, 255, 0).astype(np.uint8)


@pytest.mark.parametrize("textured", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_lays_no_halo_beside_a_mesh_under_a_wide_detail_stroke(seed: int,
                                                                  textured: bool) -> None:
    # a 32 px stroke down the mesh's outline: the solve's known foreground is the cutout's
    # solid mesh, holes and all, barely apart from the backdrop, so the matte read the
    # backdrop under the brush as part mesh. The old code: backdrop mean 10-12/255 on the
    # plain backdrop, 6-21 on the textured one, 8-35 % of it above 32
    rgb, cut = _mesh_on(seed, textured)
    stroke = Stroke("detail", 32.0, ((float(EDGE), 20.0), (float(EDGE), 220.0)))
    band = rasterise([stroke], cut.shape) > 0
    xs = np.arange(W)[None, :]
    backdrop = band & (xs < EDGE - 2)
    mesh = band & (xs >= EDGE + 2)

    out = retouch(rgb, cut, [stroke]).alpha

    assert float(out[backdrop].mean()) < 2.0
    assert float((out[backdrop] > 32).mean()) < 0.01
    # the mesh itself stays as the cutout held it (_keep_alike)
    assert float(out[mesh].mean()) > 250


def _cut_strands(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A flat product right of x = EDGE, 1 px strands every 4 rows reaching 4 px beyond it, all
    within 10 Lab of the backdrop; the cutout cut the product's first 2 px and every strand.
    Returns the photo, the cutout and the strands."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    img = np.empty((H, W, 3), np.float32)
    img[:] = (96, 92, 104)
    strands = (xx >= EDGE - 4) & (xx < EDGE) & (yy % 4 == 0)
    img[(xx >= EDGE) | strands] = (118, 114, 124)
    img = cv2.GaussianBlur(img + rng.normal(0, 2, img.shape), (3, 3), 0)
    cut = np.where(xx >= EDGE + 2, 255, 0).astype(np.uint8)
    return np.clip(img, 0, 255).astype(np.uint8), cut, strands


@pytest.mark.xfail(strict=True, reason="open (2026-12-05): on a product barely apart from its "
                   "backdrop, a lift mostly off the cutout's edge is held as a halo, strands too "
                   "(docs/review.md, Halo beside a mesh)")
def test_it_still_brings_back_low_contrast_strands_the_cutout_cut() -> None:
    # the halo guard's price: the old code brought these strands back to 122-124/255 and the
    # cut edge to 188-191; the guard cannot tell them from a halo (most of the lift lies more
    # than 1.5 px off the held edge, the colours 10 Lab apart) and holds them at 0
    rgb, cut, strands = _cut_strands(0)
    stroke = Stroke("detail", 8.0, ((float(EDGE), 20.0), (float(EDGE), 220.0)))
    band = rasterise([stroke], cut.shape) > 0

    out = retouch(rgb, cut, [stroke]).alpha

    assert float(out[band & strands].mean()) > 64

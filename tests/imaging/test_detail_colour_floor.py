"""The detail brush fades a pixel no lower than its colour explains
(``retouch_detail._hold_colour``): thin solid wires of a mesh the cutout holds solid, holes and
all, keep their alpha under a wide detail stroke (QA 2026-12-05: strokes of radius 16-24 px over a
mesh faded the wires), while a pixel the backdrop's colour explains (a hole, a strand's mix) is
still the matte's. And an earlier stroke's clear backdrop is known to a joined re-solve
(``retouch_detail._clear_core``). Scenes built in memory."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging import matting, retouch_detail
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 240, 320
BACK, WIRE = (200, 196, 190), (60, 62, 70)


def _mesh(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dark 2 px wires every 10 px over a light backdrop in the box x 80-280, y 30-210; the
    cutout holds the whole box solid (holes and all, as the model fills a mesh). Returns the
    photo, the cutout and the wires."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    body = (xx >= 80) & (xx < 280) & (yy >= 30) & (yy < 210)
    wire = body & (((xx % 10) < 2) | ((yy % 10) < 2))
    img = np.empty((H, W, 3), np.float32)
    img[:] = BACK
    img[wire] = WIRE
    img = cv2.GaussianBlur(img + rng.normal(0, 2, img.shape), (3, 3), 0)
    return (np.clip(img, 0, 255).astype(np.uint8), np.where(body, 255, 0).astype(np.uint8),
            wire)


@pytest.mark.parametrize("radius", [16.0, 20.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_thin_wires_solid_under_a_wide_detail_stroke(seed: int, radius: float) -> None:
    # the solve's known foreground is the cutout's solid mesh, holes (the backdrop's colour)
    # and all, so the matte faded the dark wires: the old code left them at 228-249/255 on
    # average, 188 at worst
    rgb, cut, wire = _mesh(seed)
    stroke = Stroke("detail", radius, ((120.0, 120.0), (240.0, 120.0)))
    band = rasterise([stroke], cut.shape) > 0
    # the wires' cores (a blurred wire's edge pixel is part backdrop)
    core = band & (cv2.erode(wire.view(np.uint8), np.ones((1, 2), np.uint8)) > 0)

    out = retouch(rgb, cut, [stroke]).alpha

    assert float(out[core].mean()) > 252
    assert float(np.percentile(out[core], 2)) > 235


def test_it_holds_only_what_the_colour_calls_product() -> None:
    # the guard on its own: a piece the cutout holds solid, product-coloured but for a hole of
    # the backdrop's colour and a strand half way between; a matte that fades all of it to
    # 100/255 keeps the product's pixels at their alpha so far, the hole's and the strand's
    # fade (their colour is a mix, or the backdrop's)
    rng = np.random.default_rng(0)
    img = np.empty((120, 120, 3), np.float32)
    img[:] = BACK
    img[:, 40:] = WIRE
    img[50:56, 60:66] = BACK  # a hole
    img[70:72, 50:70] = 0.5 * np.float32(BACK) + 0.5 * np.float32(WIRE)  # a strand
    rgb = np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8)
    before = np.zeros((120, 120), np.uint8)
    before[:, 40:] = 255
    at = (40, 44)
    write = np.ones((40, 30), bool)
    sofar = before[40:80, 44:74].copy()
    old = sofar[write]
    new = np.full(old.shape, 100, np.uint8)

    got = np.zeros(write.shape, np.uint8)
    got[write] = retouch_detail._hold_colour(retouch_detail._lab_around(rgb, at, write.shape), new,
                                                          old, write, sofar, before, at)

    product = np.ones(write.shape, bool)
    product[9:17, 15:23] = False  # the hole and a px around it
    product[29:33, 5:27] = False  # the strand and a px around it
    assert int(got[product].min()) >= 250
    assert float(got[11:15, 17:21].mean()) < 110  # the hole's inside
    assert float(got[30:32, 8:24].mean()) < 110  # the strand
    # nothing rises above the alpha so far, nothing falls below the matte
    assert int(got.max()) <= 255 and int(got.min()) >= 100


def test_it_leaves_to_the_matte_what_a_varied_backdrop_could_explain() -> None:
    # a backdrop checkered in its light colour and one near the product's (bokeh, texture):
    # the product's colour is no evidence there, so the matte's fade stands
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:120, :120]
    img = np.empty((120, 120, 3), np.float32)
    img[:] = BACK
    img[((yy // 4 + xx // 4) % 2 == 0)] = (80, 80, 88)
    img[:, 40:] = WIRE
    rgb = np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8)
    before = np.zeros((120, 120), np.uint8)
    before[:, 40:] = 255
    at = (20, 44)
    write = np.ones((40, 30), bool)
    sofar = before[20:60, 44:74].copy()
    new = np.full(int(write.sum()), 100, np.uint8)

    got = retouch_detail._hold_colour(retouch_detail._lab_around(rgb, at, write.shape), new,
                                      sofar[write], write, sofar, before, at)

    assert int(got.max()) == 100


def test_it_makes_an_earlier_strokes_clear_backdrop_known_to_the_joined_solve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # _held_core's mirror (soft-dev outline GT11 #5): a second stroke joined to a first re-solves
    # the band the first left clear; deep inside that clear backdrop, pixels of the backdrop's
    # colour are known background to the joined solve, a strand of another colour there is not
    # (it stays the matte's), and the new brush's own clear pixels are not taken
    trimaps: list[np.ndarray] = []

    def recording(rgb_w: np.ndarray, trimap: np.ndarray, **kw: object) -> np.ndarray:
        trimaps.append(trimap.copy())
        a = np.where(trimap == 255, 1.0, 0.0).astype(np.float32)
        a[(trimap != 0) & (trimap != 255)] = 0.0  # leaves the clear clear, so the 2nd joins
        return a

    monkeypatch.setattr(matting, "solve_alpha", recording)
    retouch_detail._PIECES.clear()
    retouch_detail._STEPS.clear()
    rng = np.random.default_rng(4)
    img = np.empty((H, W, 3), np.float32)
    img[:] = BACK
    img[:, 200:] = WIRE
    img[60:62, 120:180] = WIRE  # a strand on the backdrop, under the first stroke
    rgb = np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8)
    cut = np.zeros((H, W), np.uint8)
    cut[:, 200:] = 255
    first = Stroke("detail", 24.0, ((150.0, 30.0), (150.0, 110.0)))
    second = Stroke("detail", 24.0, ((150.0, 110.0), (150.0, 200.0)))

    retouch(rgb, cut, [first, second])

    # the last solve is the second stroke's joined piece; find the first stroke's inside in it
    tri = trimaps[-1]
    band1 = rasterise([first], (H, W)) > 0
    band2 = rasterise([second], (H, W)) > 0
    deep1 = cv2.erode(band1.view(np.uint8), np.ones((21, 21), np.uint8)) > 0
    # the solve's crop: the joined piece's box on matting's grid; locate it by its size
    y0, x0 = _crop_origin(tri.shape, band1 | band2)
    sub = np.zeros((H, W), np.uint8)
    sub[y0:y0 + tri.shape[0], x0:x0 + tri.shape[1]] = tri
    backdrop = deep1 & ~band2 & (np.abs(np.arange(H)[:, None] - 61) > 3)
    assert float((sub[backdrop] == 0).mean()) > 0.95
    strand = deep1 & ~band2 & (np.abs(np.arange(H)[:, None] - 60.5) < 1)
    assert int((sub[strand] == 0).sum()) == 0
    own = band2 & ~band1 & (cv2.erode(band2.view(np.uint8), np.ones((21, 21), np.uint8)) > 0)
    assert int((sub[own] == 0).sum()) == 0


def _crop_origin(shape: tuple[int, ...], piece: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(piece)
    box = retouch_detail._solve_box((int(ys.min()), int(xs.min())),
                                    (int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)),
                                    piece.shape, matting)
    assert (box[1] - box[0], box[3] - box[2]) == tuple(shape)
    return box[0], box[2]

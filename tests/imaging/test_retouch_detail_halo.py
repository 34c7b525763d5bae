"""The detail brush along a product's outline lays no halo on a varied backdrop beside it
(``retouch_detail._seen_in_backdrop``; soft-dev outline strokes GT25 #5, GT11 #5, GT19 #0, GT27
#6, 2026-12-05: the matte itself lifts the clear backdrop under the brush's outer half to
20-60/255; docs/review.md § Detail benchmark, *Halo on a varied backdrop*). Scenes built in
memory: a product beside a barred backdrop under a stand-in matte that lifts the pale bars (the
guard is what decides), and a wire mesh on a bokeh backdrop under the real matte."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging import matting
from cutouts.imaging import retouch_detail as rd
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W, EDGE = 240, 320, 160
DARK, PALE, PRODUCT = (60, 70, 90), (150, 150, 140), (190, 170, 120)
OUTLINE = Stroke("detail", 16.5, ((120.0, 20.0), (120.0, 180.0)))  # the outline protocol's brush


def _barred(seed: int, strands: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A product right of x = 120 (the cutout holds it, hard-edged) on a backdrop of dark and
    pale bars 5 px tall (noise 2 levels); ``strands``: 1 px strands of the product's colour every
    10 rows, 10 px out across the edge. Returns the photo and the cutout."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:200, :240]
    img = np.empty((200, 240, 3), np.float32)
    img[:] = DARK
    img[(yy // 5) % 2 == 0] = PALE
    img[xx >= 120] = PRODUCT
    if strands:
        img[(xx >= 110) & (xx < 120) & (yy % 10 == 7)] = PRODUCT
    rgb = np.clip(img + rng.normal(0, 2, img.shape) + 0.5, 0, 255).astype(np.uint8)
    return rgb, np.where(xx >= 120, 255, 0).astype(np.uint8)


def _lifts_pale_bars(rgb: np.ndarray, trimap: np.ndarray, **kw: object) -> np.ndarray:
    """The matte as the soft-dev halos came out: the backdrop's paler parts lifted to 60/255
    (structured as the bars are, so not the smooth band _hold_backdrop holds), the product's
    colour solid."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    pale, product = (cv2.cvtColor(np.float32([[c]]) / 255, cv2.COLOR_RGB2Lab)[0, 0]
                     for c in (PALE, PRODUCT))
    a = np.where(np.linalg.norm(lab - pale, axis=2) < 8, 60 / 255, 0).astype(np.float32)
    a[np.linalg.norm(lab - product, axis=2) < 8] = 1.0
    a[trimap == 0], a[trimap == 255] = 0.0, 1.0
    return a


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_keeps_a_backdrop_the_backdrop_beside_it_shows_clear(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the pale bars under the brush are the bars beyond it; the code before
    # _seen_in_backdrop wrote the lift: 53.0 mean (25.5-27.8 with it: the bars' pixels whose
    # neighbourhood matches as well as the backdrop's own do)
    monkeypatch.setattr(matting, "solve_alpha", _lifts_pale_bars)
    rgb, cut = _barred(seed)
    band = rasterise([OUTLINE], cut.shape) > 0
    pale = band & (np.arange(240)[None, :] < 119) & ((np.arange(200)[:, None] // 5) % 2 == 0)

    out = retouch(rgb, cut, [OUTLINE]).alpha

    assert float(out[pale].mean()) < 36


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_still_brings_back_strands_across_a_varied_backdrop(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a strand's neighbourhood is no backdrop's: 247.8-249.2 (249.2 before the guard)
    monkeypatch.setattr(matting, "solve_alpha", _lifts_pale_bars)
    rgb, cut = _barred(seed, strands=True)
    band = rasterise([OUTLINE], cut.shape) > 0
    xs, ys = np.arange(240)[None, :], np.arange(200)[:, None]
    strands = band & (xs >= 110) & (xs < 119) & (ys % 10 == 7)

    out = retouch(rgb, cut, [OUTLINE]).alpha

    assert float(out[strands].mean()) > 240


def _mesh_on_bokeh(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A wire grid right of x = EDGE (the cutout holds it solid, holes and all) on a green
    backdrop with pale discs of random colours; the holes show that backdrop, a little paler.
    Returns the photo and the cutout."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    img = np.empty((H, W, 3), np.float32)
    img[:] = (70, 110, 80)
    for _ in range(14):
        cy, cx = int(rng.integers(0, H)), int(rng.integers(0, EDGE + 20))
        r = int(rng.integers(6, 16))
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(60, 200, 3)
    mesh = xx >= EDGE
    wire = ((xx + yy) % 12 < 2) | ((xx - yy) % 12 < 2)
    img[mesh] = img[mesh] * 0.9 + 10
    img[mesh & wire] = (200, 190, 170)
    img = cv2.GaussianBlur(img, (0, 0), 1.5) + rng.normal(0, 1.5, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), np.where(mesh, 255, 0).astype(np.uint8)


@pytest.mark.xfail(strict=True, reason="open (2026-12-05): the real matte's halo on a bokeh "
                   "backdrop only partly matches the backdrop beyond the brush patch for patch "
                   "(docs/review.md, Halo on a varied backdrop)")
@pytest.mark.parametrize("seed", [1, 2])
def test_it_lays_no_halo_on_a_bokeh_backdrop_beside_a_mesh(seed: int) -> None:
    # an outline stroke (r 16.5, the outline protocol's brush) down the mesh's edge: the backdrop
    # under the brush, which the cutout and the truth hold clear, is left at mean 4.6 / 3.3 (seed
    # 1 / 2) before _seen_in_backdrop, 3.9 / 2.5 with it (4.1 / 2.0 % above 32 both)
    rgb, cut = _mesh_on_bokeh(seed)
    stroke = Stroke("detail", 16.5, ((float(EDGE), 20.0), (float(EDGE), 220.0)))
    band = rasterise([stroke], cut.shape) > 0
    xs = np.arange(W)[None, :]
    backdrop = band & (xs < EDGE - 2)

    out = retouch(rgb, cut, [stroke]).alpha

    assert float(out[backdrop].mean()) < 1.0
    assert float((out[backdrop] > 32).mean()) < 0.005


def _seen_everywhere(lab: np.ndarray, bg: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                     apart: bool) -> np.ndarray:
    """``_seen_in_backdrop`` as first written (d285cc3): every pixel against every offset in
    reach, the distance computed the same way; the pruned search must match it bit for bit."""
    k, r = rd.SEEN_PATCH, rd.SEEN_REACH
    half = k // 2
    full = cv2.erode(bg.view(np.uint8), np.ones((k, k), np.uint8), borderType=cv2.BORDER_CONSTANT,
                     borderValue=0) > 0
    best = np.full(ys.size, np.inf, np.float32)
    pad = r + half
    padded = cv2.copyMakeBorder(lab, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    fullp = np.pad(full, pad)
    offs = [(dy, dx) for dy in range(-half, half + 1) for dx in range(-half, half + 1)]
    mine = np.concatenate([padded[ys + pad + dy, xs + pad + dx] for dy, dx in offs], axis=1)
    for oy in range(-r, r + 1):
        for ox in range(-r, r + 1):
            if oy * oy + ox * ox > r * r or (apart and max(abs(oy), abs(ox)) < k):
                continue
            cy, cx = ys + pad + oy, xs + pad + ox
            idx = np.nonzero(fullp[cy, cx])[0]
            theirs = np.concatenate([padded[cy[idx] + dy, cx[idx] + dx] for dy, dx in offs],
                                    axis=1)
            d = np.sqrt(((mine[idx] - theirs) ** 2).mean(axis=1) * 3)
            best[idx] = np.minimum(best[idx], d)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_it_finds_the_nearest_backdrop_neighbourhood_as_the_full_search_does(seed: int) -> None:
    # the search skips offsets by the neighbourhoods' means (speed, 2026-12-05); the distances,
    # and so the alpha, stay those of the search over every offset, bit for bit: crops of a flat
    # noisy backdrop, of bars and of blobs (near ties, many equal means), with holes in the
    # known backdrop and pixels on the crop's border
    rng = np.random.default_rng(seed)
    h, w = 70 + 7 * seed, 90 - 5 * seed
    rgb = np.empty((h, w, 3), np.float32)
    rgb[:] = rng.uniform(40, 200, 3)
    if seed % 3 == 1:
        rgb[(np.arange(h) // 4) % 2 == 1] = rng.uniform(40, 200, 3)
    elif seed % 3 == 2:
        for _ in range(12):
            cv2.circle(rgb, (int(rng.integers(w)), int(rng.integers(h))), int(rng.integers(3, 12)),
                       rng.uniform(40, 200, 3).tolist(), -1)
    rgb += rng.normal(0, 1 + seed % 2 * 3, rgb.shape).astype(np.float32)
    lab = cv2.cvtColor(np.clip(rgb, 0, 255) / np.float32(255), cv2.COLOR_RGB2Lab)
    bg = rng.random((h, w)) > 0.03
    bg[h // 3:h // 2, w // 4:w // 2] = False
    ys, xs = np.nonzero(rng.random((h, w)) < 0.15)
    for apart in (False, True):
        got = rd._seen_in_backdrop(lab, bg, ys, xs, apart=apart)
        want = _seen_everywhere(lab, bg, ys, xs, apart)
        assert np.isfinite(want).mean() > 0.9
        np.testing.assert_array_equal(got, want)

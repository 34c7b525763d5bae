"""Alpha matting in an unknown band and foreground colour estimation (cutouts.imaging.matting)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.sparse as sp

from cutouts.imaging import matting, metrics

RED = np.array([220, 40, 30], np.float32)
BLUE = np.array([20, 60, 230], np.float32)
SOFT_DEV = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "soft-dev"


def soft_edge(h=60, w=120, x0=50, ramp=20, noise=True):
    """A red object fading into a blue background over `ramp` px: (rgb, true alpha, trimap)."""
    x = np.arange(w, dtype=np.float32)
    alpha = np.clip((x0 + ramp - x) / ramp, 0, 1)[None, :].repeat(h, 0)
    rng = np.random.default_rng(0)
    # a little texture on both sides, as real photos have, and a vertical shade on the object
    fg = RED[None, None, :] + (rng.normal(0, 6, (h, w, 3)) if noise else 0)
    fg = fg * np.linspace(0.85, 1.0, h, dtype=np.float32)[:, None, None]
    bg = BLUE[None, None, :] + (rng.normal(0, 6, (h, w, 3)) if noise else 0)
    img = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    rgb = np.clip(np.round(img), 0, 255).astype(np.uint8)
    trimap = np.full((h, w), 128, np.uint8)
    trimap[:, : x0 - 6] = 255
    trimap[:, x0 + ramp + 6:] = 0
    return rgb, alpha, trimap


def test_it_keeps_a_soft_edge_fractional_and_close_to_the_truth():
    rgb, truth, trimap = soft_edge()
    alpha = matting.solve_alpha(rgb, trimap)
    assert alpha.dtype == np.float32 and alpha.shape == trimap.shape
    mid = (truth > 0.2) & (truth < 0.8)
    assert ((alpha[mid] > 0.05) & (alpha[mid] < 0.95)).all()  # fades, not cut hard
    band = trimap == 128
    assert np.abs(alpha[band] - truth[band]).mean() < 0.06
    # alpha falls from object to background along the ramp
    row = alpha[30, 44:76]
    assert row[0] > 0.9 and row[-1] < 0.1 and np.all(np.diff(row) < 0.08)


def test_it_leaves_the_known_regions_untouched():
    rgb, _, trimap = soft_edge()
    alpha = matting.solve_alpha(rgb, trimap)
    assert (alpha[trimap == 255] == 1.0).all()
    assert (alpha[trimap == 0] == 0.0).all()
    assert alpha.min() >= 0 and alpha.max() <= 1


def test_it_returns_the_trimap_when_nothing_is_unknown():
    rgb, _, trimap = soft_edge()
    hard = np.where(trimap > 0, 255, 0).astype(np.uint8)
    alpha = matting.solve_alpha(rgb, hard)
    np.testing.assert_array_equal(alpha, hard.astype(np.float32) / 255)


def test_it_solves_a_band_of_a_few_pixels_that_conjugate_gradients_solve_exactly():
    # one to three unknown pixels among random known ones: CG reaches a zero residual between
    # its residual checks, which once divided by zero
    rng = np.random.default_rng(0)
    for _ in range(60):
        h, w = rng.integers(5, 40, 2)
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        trimap = np.where(rng.random((h, w)) < 0.5, 0, 255).astype(np.uint8)
        k = rng.integers(1, 4)
        ys, xs = rng.integers(0, h, k), rng.integers(0, w, k)
        trimap[ys, xs] = 128
        alpha = matting.solve_alpha(rgb, trimap)
        assert np.isfinite(alpha).all() and alpha.min() >= 0.0 and alpha.max() <= 1.0
        known = trimap != 128
        np.testing.assert_array_equal(alpha[known], trimap[known] / 255.0)


def test_it_treats_any_value_between_0_and_255_as_unknown():
    rgb, truth, trimap = soft_edge()
    other = np.where(trimap == 128, 77, trimap).astype(np.uint8)
    np.testing.assert_allclose(matting.solve_alpha(rgb, other), matting.solve_alpha(rgb, trimap))


def test_it_follows_the_prior_where_no_known_pixel_decides():
    rgb = np.zeros((40, 80, 3), np.uint8)
    rgb[:, :40] = RED.astype(np.uint8)
    rgb[:, 40:] = BLUE.astype(np.uint8)
    trimap = np.full((40, 80), 128, np.uint8)  # all unknown: only the prior tells them apart
    prior = np.zeros((40, 80), np.float32)
    prior[:, :40] = 0.9
    alpha = matting.solve_alpha(rgb, trimap, prior=prior)
    assert alpha[:, :35].mean() > 0.7 and alpha[:, 45:].mean() < 0.3


def test_it_gives_the_same_matte_when_the_band_is_tiled(monkeypatch):
    rgb, truth, trimap = soft_edge(h=200, w=120)
    whole = matting.solve_alpha(rgb, trimap)
    # force several tiles with seams across the band
    monkeypatch.setattr(matting, "MAX_VARS", 1500)
    monkeypatch.setattr(matting, "TILE_OVERLAP", 16)
    tiled = matting.solve_alpha(rgb, trimap)
    band = trimap == 128
    assert np.abs(tiled[band] - truth[band]).mean() < 0.06
    assert np.abs(tiled - whole).max() < 0.08
    # no step at a seam: neighbouring rows of the band stay close
    assert np.abs(np.diff(tiled[:, 50:70], axis=0)).max() < 0.1
    assert (tiled[trimap == 255] == 1).all() and (tiled[trimap == 0] == 0).all()


def test_it_mattes_a_piece_the_same_alone_and_beside_a_distant_second_piece():
    # a soft edge with a band of ~3000 px (solved at full size alone) and, 200 px below, a second
    # band as big: solved in one bounding box, the two made one bigger system (coarse to fine,
    # shared colour fills and CG steps) and the first piece's alpha moved
    rgb, _, trimap = soft_edge(h=300, w=160, x0=60, ramp=20)
    band = np.zeros(trimap.shape, bool)
    band[20:110, 50:90] = True
    alone = np.where(band, 128, np.where(trimap == 128, 0, trimap)).astype(np.uint8)
    alone[:, :60] = np.where(band[:, :60], 128, 255)
    second = np.zeros(trimap.shape, bool)
    second[200:290, 50:90] = True
    joined = alone.copy()
    joined[second] = 128
    assert np.count_nonzero(band) < matting.COARSE_MIN < np.count_nonzero(band | second)
    a1 = matting.solve_alpha(rgb, alone)
    a2 = matting.solve_alpha(rgb, joined)
    assert 0.1 < a1[band].mean() < 0.9  # a real soft edge, not a settled band
    assert np.abs(a1[band] - a2[band]).max() < 1e-3


def test_it_mattes_a_long_thin_stroke_solved_coarse_to_fine():
    # a band 3 px high and 2400 px long: enough unknowns for the coarse levels, in a crop too
    # thin for a fill pyramid beyond its first level
    h, w = 11, 2400
    alpha_true = np.zeros((h, w), np.float32)
    alpha_true[:4] = 1.0
    alpha_true[4], alpha_true[5], alpha_true[6] = 0.75, 0.5, 0.25
    img = alpha_true[..., None] * RED + (1 - alpha_true[..., None]) * BLUE
    rgb = np.clip(np.round(img), 0, 255).astype(np.uint8)
    trimap = np.zeros((h, w), np.uint8)
    trimap[:4] = 255
    trimap[4:7] = 128
    assert np.count_nonzero(trimap == 128) > matting.COARSE_MIN
    alpha = matting.solve_alpha(rgb, trimap)
    assert (alpha[:4] == 1).all() and (alpha[7:] == 0).all()
    band = alpha[4:7, 20:-20]
    # fades from the object to the background across the band, everywhere along it
    assert (band[0] > band[1]).all() and (band[1] > band[2]).all()
    assert np.abs(band.mean(axis=1) - [0.75, 0.5, 0.25]).max() < 0.1


def test_it_holds_settled_band_pixels_at_the_coarse_alpha_and_solves_the_rest():
    rgb, truth, trimap = soft_edge(h=200, w=240, x0=110, ramp=20)
    # a wide band: most of it is plainly object or background, only the ramp is soft
    trimap = np.full(trimap.shape, 128, np.uint8)
    trimap[:, :40] = 255
    trimap[:, 200:] = 0
    assert np.count_nonzero(trimap == 128) > matting.COARSE_MIN
    alpha = matting.solve_alpha(rgb, trimap)
    band = trimap == 128
    assert np.abs(alpha[band] - truth[band]).mean() < 0.05
    ramp = (truth > 0.2) & (truth < 0.8)
    assert ((alpha[ramp] > 0.05) & (alpha[ramp] < 0.95)).all()


def _levin_laplacian(rgb, eps):
    """Reference: the dense matting Laplacian of Levin et al., one 3x3 window at a time."""
    h, w = rgb.shape[:2]
    img = rgb.astype(np.float64) / 255
    lap = np.zeros((h * w, h * w))
    for cy in range(1, h - 1):
        for cx in range(1, w - 1):
            ys, xs = np.mgrid[cy - 1:cy + 2, cx - 1:cx + 2]
            idx = (ys * w + xs).ravel()
            c = img[cy - 1:cy + 2, cx - 1:cx + 2].reshape(9, 3)
            d = c - c.mean(axis=0)
            cov = d.T @ d / 9 + eps / 9 * np.eye(3)
            lap[np.ix_(idx, idx)] += np.eye(9) - (1 + d @ np.linalg.solve(cov, d.T)) / 9
    return lap


def test_it_builds_the_laplacian_rows_of_the_band_exactly(monkeypatch):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (13, 17, 3), dtype=np.uint8)
    unknown = np.zeros((13, 17), bool)
    unknown[2:11, 3:9] = True
    unknown[0, 14:] = True  # on the crop's edge: fewer windows
    unknown[6, 12] = True  # an isolated pixel
    known = (rng.random((13, 17)) < 0.5).astype(np.float32)
    diag = rng.random(int(unknown.sum()))
    # small batches: rows of one batch need windows built for the next one too
    monkeypatch.setattr(matting, "ROW_CHUNK", 7)
    rows, rhs = matting._system(rgb, known, unknown, diag)
    n = len(rhs)
    # column n: the dummy variable that stands for every neighbour outside the band
    a = sp.csr_matrix((rows.data.ravel(), rows.cols.ravel(), np.arange(0, 25 * n + 1, 25)),
                      shape=(n, n + 1)).toarray()[:, :n]
    lap = _levin_laplacian(rgb, matting.EPSILON)
    u = np.flatnonzero(unknown)
    k = np.flatnonzero(~unknown)
    np.testing.assert_allclose(a, lap[np.ix_(u, u)] + np.diag(diag), atol=2e-4)
    np.testing.assert_allclose(rhs, -lap[np.ix_(u, k)] @ known.ravel()[k], atol=2e-4)


@pytest.mark.parametrize("make", [
    lambda rgb, tri: (rgb.astype(np.float32), tri),         # rgb not uint8
    lambda rgb, tri: (rgb[..., 0], tri),                    # not (H, W, 3)
    lambda rgb, tri: (rgb, tri[:-1]),                       # shape mismatch
    lambda rgb, tri: (rgb, tri.astype(np.float32)),         # trimap not uint8
    lambda rgb, tri: (rgb[:2, :2], tri[:2, :2]),            # too small
])
def test_it_rejects_bad_input_with_a_clear_error(make):
    rgb, _, trimap = soft_edge()
    args = make(rgb, trimap)
    with pytest.raises(ValueError):
        matting.solve_alpha(*args)


def test_it_rejects_a_prior_out_of_range_or_of_the_wrong_shape():
    rgb, _, trimap = soft_edge()
    with pytest.raises(ValueError, match="prior"):
        matting.solve_alpha(rgb, trimap, prior=np.full(trimap.shape, 2.0, np.float32))
    with pytest.raises(ValueError, match="prior"):
        matting.solve_alpha(rgb, trimap, prior=np.zeros((3, 3), np.float32))
    with pytest.raises(ValueError, match="prior"):
        matting.solve_alpha(rgb, trimap, prior=np.full(trimap.shape, np.nan, np.float32))


def test_it_estimates_a_foreground_free_of_the_old_background():
    rgb, truth, _ = soft_edge(noise=False)
    fg = matting.estimate_foreground(rgb, truth)
    assert fg.dtype == np.uint8 and fg.shape == rgb.shape
    frac = (truth > 0.15) & (truth < 0.85)
    # the observed pixels there are purple mixtures; the estimate must be the object's red again
    observed = rgb[frac].astype(np.float32)
    est = fg[frac].astype(np.float32)
    assert np.abs(observed - RED).max() > 80
    assert np.abs(est[:, 2] - RED[2]).mean() < 25   # little blue left
    assert np.abs(est - RED).mean() < 25
    # composited on white, the soft edge shows no blue fringe (blue never exceeds red), while
    # compositing the original pixels does
    def blue_cast(colours):
        comp = truth[..., None] * colours + (1 - truth[..., None]) * 255.0
        return (comp[..., 2] - comp[..., 0])[frac].max()
    assert blue_cast(rgb.astype(np.float32)) > 20
    assert blue_cast(fg.astype(np.float32)) < 5


def test_it_keeps_the_original_colours_where_alpha_is_0_or_1():
    rgb, truth, _ = soft_edge()
    fg = matting.estimate_foreground(rgb, truth)
    solid = (truth == 0) | (truth == 1)
    np.testing.assert_array_equal(fg[solid], rgb[solid])


def full_resolution_blur_fusion(rgb, alpha):
    """Blur-fusion with both passes at full resolution over the whole image (the reference)."""
    img = rgb.astype(np.float32) / 255.0
    a = np.clip(alpha, 0, 1).astype(np.float32)[..., None]
    f, b = img, img
    for r in matting.FG_RADII:
        ba = cv2.blur(a[..., 0], (r, r))[..., None]
        bf = cv2.blur(f * a, (r, r)) / (ba + 1e-5)
        b = cv2.blur(b * (1 - a), (r, r)) / ((1 - ba) + 1e-5)
        f = np.clip(bf + a * (img - a * bf - (1 - a) * b), 0, 1)
    return np.round(f * 255).astype(np.uint8)


def test_it_estimates_the_foreground_like_a_full_resolution_pass_at_a_fraction_of_the_cost():
    import time

    # a textured red disc with a 24-px soft rim on a textured blue background, cut by the image
    # border (whose size is no multiple of the coarse grid)
    h, w = 901, 1201
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    alpha = np.clip((400 - np.hypot(yy - 560, xx - 600)) / 24, 0, 1)
    rng = np.random.default_rng(1)
    shade = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 9)[..., None]
    fg = RED + 120 * shade + rng.normal(0, 5, (h, w, 3))
    bg = BLUE - 120 * shade + rng.normal(0, 5, (h, w, 3))
    rgb = np.clip(alpha[..., None] * fg + (1 - alpha[..., None]) * bg, 0, 255).astype(np.uint8)
    new_t, ref_t = [], []
    for _ in range(2):  # alternated: the machine's load hits both alike
        t = time.process_time()
        est = matting.estimate_foreground(rgb, alpha)
        new_t.append(time.process_time() - t)
        t = time.process_time()
        ref = full_resolution_blur_fusion(rgb, alpha)
        ref_t.append(time.process_time() - t)
    frac = (alpha > 1 / 512) & (alpha < 1 - 1 / 512)
    assert frac.sum() > 40_000 and frac[-1].any()
    np.testing.assert_array_equal(est[~frac], rgb[~frac])
    diff = np.abs(est.astype(np.int16) - ref)[frac].max(axis=1)
    a = alpha[frac]
    # in 0..255 units: what a composite shows (alpha times the colour difference) stays within
    # rounding; the colours themselves differ little where they are visible at all
    assert (a * diff).max() <= 1.5
    assert diff[a >= 0.1].max() <= 3
    assert diff.mean() <= 0.25
    assert min(new_t) < 0.5 * min(ref_t), (new_t, ref_t)


def test_it_rejects_a_foreground_request_with_mismatched_alpha():
    rgb, truth, _ = soft_edge()
    with pytest.raises(ValueError):
        matting.estimate_foreground(rgb, truth[:-1])
    with pytest.raises(ValueError):
        matting.estimate_foreground(rgb.astype(np.float32), truth)


def test_it_matches_closed_form_quality_on_real_soft_dev_photos():
    """Three real photos of the soft-alpha set (fur, a plant, hair) with their person-drawn
    trimaps. Fails (never skips) when ../shared/eval/soft-dev is missing. The bounds are what
    pymatting's estimate_alpha_cf scores on the same three (mean SAD 4.96, Grad 8.62)."""
    assert SOFT_DEV.is_dir(), f"soft-alpha eval set missing at {SOFT_DEV}"
    sads, grads = [], []
    for stem in ("GT01", "GT13", "GT19"):
        rgb = cv2.cvtColor(cv2.imread(str(SOFT_DEV / "images" / f"{stem}.png")), cv2.COLOR_BGR2RGB)
        trimap = cv2.imread(str(SOFT_DEV / "trimaps" / f"{stem}.png"), cv2.IMREAD_GRAYSCALE)
        gt = cv2.imread(str(SOFT_DEV / "alpha" / f"{stem}.png"), cv2.IMREAD_GRAYSCALE)
        alpha = matting.solve_alpha(rgb, trimap)
        assert (alpha[trimap == 255] == 1).all() and (alpha[trimap == 0] == 0).all()
        sads.append(metrics.sad(alpha, gt))
        grads.append(metrics.grad(alpha, gt))
    assert np.mean(sads) <= 4.96
    assert np.mean(grads) <= 8.62


def test_it_mattes_a_folder_from_the_command_line_and_scores_it(tmp_path, capsys):
    from cutouts.imaging.__main__ import main

    rgb, truth, trimap = soft_edge()
    for sub in ("images", "trimaps", "alpha"):
        (tmp_path / sub).mkdir()
    cv2.imwrite(str(tmp_path / "images" / "edge.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(tmp_path / "trimaps" / "edge.png"), trimap)
    cv2.imwrite(str(tmp_path / "alpha" / "edge.png"), np.round(truth * 255).astype(np.uint8))
    out = tmp_path / "out"
    status = main(["matte", str(tmp_path / "images"), "--trimaps", str(tmp_path / "trimaps"),
                   "--out", str(out), "--alpha", str(tmp_path / "alpha"),
                   "--json", str(tmp_path / "m.json"), "--rgba"])
    assert status == 0
    alpha = cv2.imread(str(out / "edge.png"), cv2.IMREAD_GRAYSCALE)
    assert alpha.shape == trimap.shape and (alpha[trimap == 255] == 255).all()
    assert cv2.imread(str(out / "edge.rgba.png"), cv2.IMREAD_UNCHANGED).shape == (*trimap.shape, 4)
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["rows"][0]["image"] == "edge"
    assert report["summary"]["cutroom"]["sad"] < 0.2
    assert "sad" in capsys.readouterr().out


def test_it_refuses_a_photo_without_a_trimap(tmp_path, capsys):
    from cutouts.imaging.__main__ import main

    rgb, _, _ = soft_edge()
    (tmp_path / "images").mkdir()
    (tmp_path / "trimaps").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "lonely.png"), rgb)
    status = main(["matte", str(tmp_path / "images"), "--trimaps", str(tmp_path / "trimaps"),
                   "--out", str(tmp_path / "out")])
    assert status == 2
    assert "no trimap for lonely.png" in capsys.readouterr().err


def test_it_uses_memory_for_the_band_not_for_the_photo():
    import tracemalloc

    h = w = 3000  # 9 MP; one float32 RGB copy of it alone would be 108 MB
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, : w // 2] = RED.astype(np.uint8)
    rgb[:, w // 2:] = BLUE.astype(np.uint8)
    trimap = np.zeros((h, w), np.uint8)
    trimap[:, : w // 2] = 255
    trimap[1400:1600, w // 2 - 20:w // 2 + 20] = 128  # an 8000-px brush stroke
    tracemalloc.start()
    try:
        alpha = matting.solve_alpha(rgb, trimap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the float32 result (36 MB) and two boolean masks (9 MB each) are image sized by contract
    assert peak < 75e6, peak
    assert alpha[1500, w // 2 - 10] > 0.9 and alpha[1500, w // 2 + 10] < 0.1

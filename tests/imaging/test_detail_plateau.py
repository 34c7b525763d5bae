"""A detail stroke over hair the cutout holds as a wide translucent plateau, beside more of it
held clear (QA D2, soft-dev GT03): it should fade the hair at most, never cut it (open), while
the model's thin haze beside a solid edge still goes. Scenes built in memory; the matte is a
stand-in that reads the hair as the backdrop, as the real one did on GT03, so the guards are
what decide."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging import matting
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W, NECK = 200, 160, 50
SKIN, HAIR = (215, 140, 80), (70, 48, 30)
STROKE = Stroke("detail", 30.0, ((80.0, 40.0), (80.0, 100.0), (80.0, 160.0)))


def _photo(seed: int, hair: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Skin left of x = NECK; right of it a mass of dark hair out to the photo's edge (truth
    .85, 1 px strands at 1.0), or with ``hair=False`` the dark backdrop; the photo and the
    truth alpha."""
    rng = np.random.default_rng(seed)
    a = np.full((H, W), 0.85 if hair else 0.0, np.float32)
    if hair:
        a[:, rng.integers(NECK, W, 20)] = 1.0
    a[:, :NECK] = 1.0
    back = np.float32((30, 30, 36))
    fg = np.where(np.arange(W)[None, :, None] < NECK, np.float32(SKIN), np.float32(HAIR))
    img = a[..., None] * fg + (1 - a[..., None]) * back
    return np.clip(img + rng.normal(0, 3, img.shape) + 0.5, 0, 255).astype(np.uint8), a


def _cutout(plateau: tuple[int, int], value: float) -> np.ndarray:
    """The skin solid, ``value`` over ``plateau`` (x from, to), clear elsewhere; blurred 1.5 px."""
    cut = np.zeros((H, W), np.float32)
    cut[:, :NECK] = 255
    cut[:, plateau[0]:plateau[1]] = value
    return np.clip(cv2.GaussianBlur(cut, (0, 0), 1.5) + 0.5, 0, 255).astype(np.uint8)


def _skin_share(rgb_w: np.ndarray, trimap: np.ndarray, **kw: object) -> np.ndarray:
    """The matte as GT03's came out: with the hair beyond the brush known background, a pixel's
    alpha is how far its colour lies from the hair's towards the skin's (the hair: 0)."""
    x = rgb_w.astype(np.float32)
    h, s = np.float32(HAIR), np.float32(SKIN)
    a = np.clip(((x - h) * (s - h)).sum(axis=2) / float(((s - h) ** 2).sum()), 0, 1)
    a[trimap == 0], a[trimap == 255] = 0.0, 1.0
    return a.astype(np.float32)


@pytest.mark.xfail(strict=True, reason="open (2026-12-06): a detail stroke cuts hair the cutout "
                   "holds as a translucent plateau when the hair beside it is held clear; a "
                   "plateau guard measured, not adopted (docs/review.md § Detail benchmark, *A "
                   "translucent plateau cut by a detail stroke*)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_does_not_cut_a_translucent_plateau_of_hair_beside_hair_the_cutout_holds_clear(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # QA D2 (soft-dev GT03): an r 29.9 detail stroke over the hair behind the doll's neck, held
    # at .22 over 40 px (truth .83), took 266 px of it to 0: the solve's known side is the cutout
    # binarised at 128, so the hair beyond the brush is its background and the hair's colour
    # reads as the backdrop's; the brush's ring is the solid skin on one side and the hair held
    # clear on the other, so _fade_only's nearest known pixel is never the plateau
    monkeypatch.setattr(matting, "solve_alpha", _skin_share)
    rgb, _ = _photo(seed)
    model = _cutout((NECK, 100), 55)
    got = retouch(rgb, model, [STROKE]).alpha
    brush = rasterise([STROKE], model.shape) > 0
    plateau = brush & (model >= 40) & (model < 128)
    assert plateau.sum() > 4000
    # the old code: 41 % of it under half its value (seeds 0 and 1); the plateau guard: none
    assert (got[plateau] < 0.5 * model[plateau]).mean() < 0.01
    assert float(got[plateau].mean()) >= 0.95 * float(model[plateau].mean())


@pytest.mark.parametrize("seed", [0, 1])
def test_it_still_clears_the_models_thin_haze_beside_a_solid_edge(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the model's haze is a few px wide beside what it holds solid (its blurred edge): the same
    # matte clears it over the backdrop, and a fix for the plateau above must leave it to the
    # solve (the guard measured did: its opening leaves out a rim this thin)
    monkeypatch.setattr(matting, "solve_alpha", _skin_share)
    rgb, _ = _photo(seed, hair=False)
    model = _cutout((NECK, NECK + 5), 90)
    stroke = Stroke("detail", 30.0, ((60.0, 40.0), (60.0, 100.0), (60.0, 160.0)))
    got = retouch(rgb, model, [stroke]).alpha
    haze = (rasterise([stroke], model.shape) > 0) & (model >= 32) & (model < 128)
    haze &= np.arange(W)[None, :] >= NECK + 1
    assert haze.sum() > 300
    assert float(got[haze].mean()) < 0.5 * float(model[haze].mean())

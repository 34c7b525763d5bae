"""The kept shadow on a real floor (textured, graded, reaching the photo's edges) is the
product's contact shadow, not the floor; a synthetic shadow under glass is as visible as under
an opaque product of the same outline."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging.settings import SyntheticShadow
from cutouts.imaging.shadow import extract_contact_shadow, synthetic_shadow

H, W = 600, 800
#: the product's box (x0, y0, x1, y1), x1/y1 exclusive; it stands on the floor
BOX = (300, 200, 500, 430)
HORIZON = 330  # the floor starts here and runs to the photo's left, right and bottom edges


def _product_alpha() -> np.ndarray:
    x0, y0, x1, y1 = BOX
    big = np.zeros((H * 4, W * 4), np.float32)
    cv2.rectangle(big, (x0 * 4, y0 * 4), (x1 * 4 - 1, y1 * 4 - 1), 1.0, -1)
    return cv2.resize(big, (W, H), interpolation=cv2.INTER_AREA)


def _contact_shade() -> np.ndarray:
    x0, _, x1, y1 = BOX
    shade = np.zeros((H, W), np.float32)
    cv2.ellipse(shade, ((x0 + x1) // 2, y1), (int(0.6 * (x1 - x0)), 22), 0, 0, 360, 1.0, -1)
    return 0.5 * cv2.GaussianBlur(shade, (0, 0), 6)


def ground_scene(shadow: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(rgb uint8, alpha float32): a grey product on rocks or water — a light wall above the
    horizon, below it a floor darker than the wall, graded darker towards the photo's bottom,
    with a coarse texture (stones, glints) — and, with ``shadow``, a contact shadow at its
    base."""
    rng = np.random.default_rng(seed)
    yy = np.arange(H, dtype=np.float32)[:, None]
    floor = 165.0 - 55.0 * np.clip((yy - HORIZON) / (H - HORIZON), 0, 1)
    texture = cv2.GaussianBlur(rng.normal(0, 1, (H, W)).astype(np.float32), (0, 0), 4)
    texture *= 30.0 / texture.std()
    ground = np.where(yy >= HORIZON, floor + texture, 232.0).astype(np.float32)
    if shadow:
        ground *= 1.0 - _contact_shade()
    alpha = _product_alpha()
    out = alpha * 120.0 + (1.0 - alpha) * ground
    out = out[..., None] + rng.normal(0, 1.5, (H, W, 3)).astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), alpha


def _reach(layer: np.ndarray) -> float:
    """How far (px) beyond the product's box the layer's visible part (> 0.02) goes."""
    ys, xs = np.nonzero(layer > 0.02)
    if len(ys) == 0:
        return 0.0
    x0, y0, x1, y1 = BOX
    return float(max(x0 - xs.min(), xs.max() + 1 - x1, ys.max() + 1 - y1, 0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_keeps_no_floor_as_shadow_when_the_photo_has_none(seed):
    rgb, alpha = ground_scene(shadow=False, seed=seed)
    s = extract_contact_shadow(rgb, alpha)
    # the textured, graded floor is darker than its brightest stones everywhere: none of it
    # is the product's shadow (it was: a grey smear over the floor around the product)
    assert (s > 0.02).mean() < 0.005, (s > 0.02).mean()
    assert s.max() < 0.25


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_keeps_the_contact_shadow_near_the_base_and_off_the_photos_edges(seed):
    rgb, alpha = ground_scene(seed=seed)
    s = extract_contact_shadow(rgb, alpha)
    x0, _, x1, y1 = BOX
    size = max(x1 - x0, y1 - BOX[1])
    # the contact shadow under the base is there ...
    assert s[y1 + 1:y1 + 11, x0 + 20:x1 - 20].mean() > 0.08
    # ... and nothing beyond a fifth of the product's size from its box (the true shadow
    # reaches a tenth of its width past each side), nowhere near the photo's frame
    assert _reach(s) <= 0.2 * size, _reach(s)
    ys, xs = np.nonzero(s > 0.02)
    assert xs.min() > 0.05 * W and xs.max() < 0.95 * W and ys.max() < 0.95 * H
    assert (s > 0.02).mean() < 0.05


def test_it_fades_a_shadow_out_before_the_photos_frame():
    # a product standing at the photo's bottom edge: its shadow would be cut there
    rgb, alpha = ground_scene()
    shift = H - BOX[3] - 4
    rgb = np.roll(rgb, shift, axis=0)
    alpha = np.roll(alpha, shift, axis=0)
    s = extract_contact_shadow(rgb, alpha)
    assert s[-1].max() == 0.0
    assert s[-3:].max() < 0.5 * s[-20:-10].max()


# -- synthetic shadow: from the silhouette, not the alpha

def _glass(level: float) -> np.ndarray:
    """A tumbler's outline: a thin rim at 0.6, the body at ``level`` (1.0: an opaque cup)."""
    a = np.zeros((H, W), np.float32)
    cv2.rectangle(a, (330, 180), (470, 440), 0.6, -1)
    cv2.rectangle(a, (334, 184), (466, 436), level, -1)
    return a


@pytest.mark.parametrize("drop", [False, True])
def test_it_gives_a_glass_the_synthetic_shadow_of_an_opaque_product_of_its_outline(drop):
    params = SyntheticShadow(drop=drop)
    glass = synthetic_shadow(_glass(0.15), params)
    cup = synthetic_shadow(_glass(1.0), params)
    # the glass's shadow was nothing (no alpha >= 0.5) or a faint copy of its alpha
    assert glass.max() >= 0.9 * params.contact_opacity
    assert np.abs(glass - cup).max() < 1e-6
    # under the base, where the shadow shows through the glass
    assert glass[441:446, 360:440].mean() > 0.1


def test_it_casts_no_synthetic_shadow_from_nothing():
    assert synthetic_shadow(np.zeros((50, 60), np.float32), SyntheticShadow()).max() == 0.0
    # faint veil below the silhouette level is no product
    assert synthetic_shadow(np.full((50, 60), 0.05, np.float32), SyntheticShadow()).max() == 0.0

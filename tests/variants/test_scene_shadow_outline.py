"""A scene's drop shadow (``shadow-drop``) is cast by the product's outline
(cutouts.imaging.shadow.silhouette), as the export's synthetic shadow: a glass gets the shadow
of an opaque product of its shape; an opaque product's shadow is what its alpha cast before."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cutouts.variants import render_variant
from cutouts.variants import scene as scene_module

from .synthetic import cutout, decode

SPEC = "canvas-600x400|bg-ffffff|safe-10|scale-70|shadow-drop|format-png"
BOX = (120, 40, 280, 260)  # an upright disc (ellipse) in a 400 x 300 cutout


def _glass(opaque: Image.Image, level: float) -> Image.Image:
    """``opaque`` with its alpha at ``level`` of what it was (a tumbler: see-through)."""
    glass = opaque.copy()
    alpha = np.asarray(opaque.getchannel("A")).astype(np.float32) * level
    glass.putalpha(Image.fromarray(alpha.round().astype(np.uint8)))
    return glass


def _shadow_below(arr: np.ndarray, bottom: int) -> np.ndarray:
    """How much the white background is darkened under the product (the shadow falls down,
    away from the default light from above), 0-255 per pixel."""
    return 255.0 - arr[bottom + 1:, :, :3].astype(np.float32).mean(axis=2)


def _old_policy(monkeypatch) -> None:
    """The shadow as it was: cast by the alpha itself, not the outline."""
    monkeypatch.setattr(scene_module, "silhouette", lambda alpha: alpha)


def test_it_gives_a_see_through_disc_the_drop_shadow_of_an_opaque_disc(monkeypatch):
    opaque = cutout((400, 300), BOX)
    glass = _glass(opaque, 0.15)
    r_opaque, r_glass = render_variant(opaque, SPEC), render_variant(glass, SPEC)
    bottom = max(r_opaque.product_bbox[3], r_glass.product_bbox[3])
    solid = _shadow_below(decode(r_opaque.data)[1], bottom)
    seen = _shadow_below(decode(r_glass.data)[1], bottom)
    assert solid.max() > 40  # a shadow to compare
    assert seen.max() >= 0.95 * solid.max()
    # the same shadow, but for the disc's rim: at 0.15 of the alpha the anti-aliased rim
    # reaches the outline's level (0.1) a pixel further in
    assert np.abs(seen - solid).max() <= 0.1 * solid.max()

    _old_policy(monkeypatch)
    faint = _shadow_below(decode(render_variant(glass, SPEC).data)[1], bottom)
    assert faint.max() < 0.25 * solid.max()  # what a glass got before: a faint copy


@pytest.mark.parametrize("shape, max_diff", [
    ("rect", 0),  # hard-edged: its alpha is its outline
    # anti-aliased: its rim's alpha from 0.1 up now casts as the body does (measured 6)
    ("ellipse", 8),
])
def test_it_keeps_an_opaque_products_drop_shadow(monkeypatch, shape, max_diff):
    product = cutout((400, 300), BOX, shape=shape)
    now = decode(render_variant(product, SPEC).data)[1].astype(np.int16)
    _old_policy(monkeypatch)
    before = decode(render_variant(product, SPEC).data)[1].astype(np.int16)
    assert np.abs(now - before).max() <= max_diff

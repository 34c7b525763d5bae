"""The export's pre-check of a contact shadow off the product (code ``shadow-off-body``) reads
``signals["export_shadow_off"]`` (``operations.export_shadow_off``, 2026-12-07, shadow44): how
far the shadow each render draws lies from the product's body, placed by the pixels that render
takes for the product (its significant region). The cutout's silhouette (alpha >= 0.1) counted
a 1 px speck the export never draws under (verify44 H1, dev 135: a warning a retouch could not
clear). Here the measure is held to the shadow the render draws, read from its pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cutouts.imaging.pipeline import work_alpha
from cutouts.imaging.shadow import OFF_BODY_SHARE, body_place, shadow_off_body
from cutouts.variants import PRESETS, as_spec, render_variant
from cutouts.variants.compliance import export_signals
from cutouts.variants.operations import shadow_render

from .synthetic import decode

W, H = 640, 480
BODY = (160, 120, 480, 330)  # the product: x0, y0, x1, y1 (exclusive)
STRAY = (500, 360, 580, 440)  # a kept part lower than it, near it (dev 036: a sign)
SPECK = (600, 460)  # one pixel far below the product (dev 135: what a retouch left)
SPECS = {
    "trim": "trim|fill-85|square-800|bg-ffffff|shadow-synthetic|format-png",
    "whole": "square-800|bg-ffffff|shadow-synthetic|format-png",
    "scene": PRESETS["social_square"].spec,  # a built-in scene's shadow-contact
}


def _cutout(extra: str) -> Image.Image:
    rgba = np.zeros((H, W, 4), np.uint8)
    x0, y0, x1, y1 = BODY
    rgba[y0:y1, x0:x1] = (40, 60, 150, 255)
    if extra == "stray":
        x0, y0, x1, y1 = STRAY
        rgba[y0:y1, x0:x1] = (40, 60, 150, 255)
    elif extra == "speck":
        rgba[SPECK[1], SPECK[0]] = (40, 60, 150, 54)
    return Image.fromarray(rgba, "RGBA")


def _drawn_off(rgba: Image.Image, spec: str) -> float:
    """How far the shadow the render draws lies from the product's body, from the rendered
    pixels alone: the darkening below the product's lowest row (its weighted centre column)
    against the body's own centre (the largest dark part), in shares of the body's size."""
    rgb = decode(render_variant(rgba, spec).data)[1][..., :3].astype(np.float32)
    grey = rgb.mean(axis=2)
    product = grey < 128  # the product's colour is dark; white, shadow and grey are light
    body = body_place(product)
    assert body is not None
    cx, _bottom, size = body
    lowest = int(np.nonzero(product.any(axis=1))[0][-1])
    dark = np.clip(255.0 - grey[lowest + 1:], 0, None)
    dark[dark < 8] = 0  # JPEG noise on white
    assert dark.sum() > 0, "no shadow drawn"
    xs = np.arange(dark.shape[1], dtype=np.float64)
    shadow_cx = float((dark.sum(axis=0) * xs).sum() / dark.sum())
    return abs(shadow_cx - cx) / size


@pytest.mark.parametrize("render", sorted(SPECS))
@pytest.mark.parametrize("extra, off", [("none", False), ("speck", False), ("stray", True)])
def test_it_measures_where_the_export_draws_its_shadow(extra, off, render):
    """A 1 px speck at alpha 54 far below the product: the export's region leaves it out and
    its shadow lies under the product, so the measure does not warn (the silhouette's did);
    a real stray part near the product: the export draws under it, and the measure says so."""
    rgba = _cutout(extra)
    alpha = np.asarray(rgba.getchannel("A"))
    measured = export_signals(alpha)["export_shadow_off"][render]
    drawn = _drawn_off(rgba, SPECS[render])
    assert shadow_render(as_spec(SPECS[render])) == render
    assert (drawn > OFF_BODY_SHARE) is off, drawn
    assert (measured > OFF_BODY_SHARE) is off, measured
    if extra == "speck":
        # what the export's pre-check read until shadow44: the silhouette counts the speck
        assert shadow_off_body(work_alpha(alpha)) > OFF_BODY_SHARE


def test_it_measures_nothing_without_a_product():
    assert export_signals(np.zeros((H, W), np.uint8))["export_shadow_off"] == {}


def test_it_checks_the_renders_that_draw_a_contact_shadow_at_the_measured_threshold():
    assert shadow_render(as_spec("trim|square-800|shadow-synthetic|format-png")) == "trim"
    assert shadow_render(as_spec("square-800|shadow-synthetic|format-png")) == "whole"
    assert shadow_render(as_spec("trim|square-800|shadow-keep|format-png")) is None
    assert shadow_render(as_spec("trim|square-800|format-png")) is None
    # a trim threshold past the ripple cut-off keeps other pixels: left to the export
    assert shadow_render(as_spec("trim-40|square-800|shadow-synthetic|format-png")) is None
    for name in ("web_hero", "social_square", "link_ad", "story", "pinterest"):
        assert shadow_render(PRESETS[name].variant_spec) == "scene", name
    for name in ("amazon_main", "ebay", "walmart", "shopify", "transparent_png"):
        assert shadow_render(PRESETS[name].variant_spec) is None, name

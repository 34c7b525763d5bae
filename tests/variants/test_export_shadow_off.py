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
from cutouts.variants.layout import significant_region
from cutouts.variants.operations import (
    SHADOW_RENDERS,
    export_shadow_footprints,
    shadow_render,
)
from cutouts.variants.scene import SCENE_TRIM_THRESHOLD

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


# --------------------------------------------------------------------------- any threshold
# (2026-12-07, foot45) every render's footprint reads the alpha from the ripple cut-off (16)
# up, through the one call the render makes on its layer (``operations.synthetic_footprint``,
# ``scene.scene_footprint``), so a spec at any trim threshold up to 16 places its shadow by
# the pixels the stored measure (at a scene's default, 8) was taken on.

SCENE_AT = {t: PRESETS["social_square"].spec.replace("canvas-", f"trim-{t}|canvas-")
            for t in (1, 16)}


HEM = 16


def _hemmed() -> np.ndarray:
    """The product with a faint rim the thresholds cut differently: alpha 12 beside its lower
    left corner (kept by the region's pad, under the cut-off) and a hem at alpha 36 under the
    right half of its lowest row (visible, over the cut-off; under trim-40), as tall as the
    footprint band."""
    alpha = np.asarray(_cutout("none").getchannel("A")).copy()
    x0, y0, x1, y1 = BODY
    alpha[y1 - 10:y1, x0 - 1] = 12
    alpha[y1:y1 + HEM, (x0 + x1) // 2:x1] = 36
    return alpha


@pytest.mark.parametrize("threshold", [1, 12, 16])
def test_it_measures_the_same_footprints_at_any_threshold_up_to_the_ripple_cut_off(threshold):
    alpha = _hemmed()
    at_default = significant_region(alpha, SCENE_TRIM_THRESHOLD)
    at_threshold = significant_region(alpha, threshold)
    assert at_default is not None and at_threshold is not None
    assert (export_shadow_footprints(alpha, at_threshold)
            == export_shadow_footprints(alpha, at_default))


def test_it_measures_other_footprints_past_the_ripple_cut_off():
    """trim-40 drops the hem every render at 8 places its shadow under: not foreseen."""
    alpha = _hemmed()
    at_default = significant_region(alpha, SCENE_TRIM_THRESHOLD)
    past = significant_region(alpha, 40)
    assert at_default is not None and past is not None
    x0, _, x1, y1 = BODY
    hem = (x0 + x1) // 2, x1, y1 + HEM - 1
    body = x0, x1, y1 - 1
    assert export_shadow_footprints(alpha, at_default) == dict.fromkeys(SHADOW_RENDERS, hem)
    assert export_shadow_footprints(alpha, past) == dict.fromkeys(SHADOW_RENDERS, body)


def test_it_checks_every_render_up_to_the_ripple_cut_off():
    for t in (1, 16):
        assert shadow_render(as_spec(SCENE_AT[t])) == "scene"
        assert shadow_render(as_spec(f"trim-{t}|square-800|shadow-synthetic")) == "trim"
    assert shadow_render(as_spec(SCENE_AT[16].replace("trim-16", "trim-17"))) is None
    assert shadow_render(as_spec("trim-17|square-800|shadow-synthetic")) is None


@pytest.mark.parametrize("threshold", sorted(SCENE_AT))
@pytest.mark.parametrize("extra, off", [("none", False), ("speck", False), ("stray", True)])
def test_it_measures_where_a_scene_at_another_threshold_draws_its_shadow(extra, off,
                                                                          threshold):
    """The stored measure (taken at 8) says where a scene at trim-1 or trim-16 draws."""
    rgba = _cutout(extra)
    measured = export_signals(np.asarray(rgba.getchannel("A")))["export_shadow_off"]["scene"]
    drawn = _drawn_off(rgba, SCENE_AT[threshold])
    assert (drawn > OFF_BODY_SHARE) is off, drawn
    assert (measured > OFF_BODY_SHARE) is off, measured


@pytest.mark.parametrize("extra", ["none", "stray"])
def test_it_draws_the_shadow_where_the_pre_check_places_it(extra):
    """At scale 1 (``trim|margin-N``: the canvas is the product's box and its margins) the
    ellipse the render draws is centred where the pre-check's footprint says, to the pixel:
    the one footprint call, on the layer and on the cutout."""
    rgba = _cutout(extra)
    alpha = np.asarray(rgba.getchannel("A"))
    sig = significant_region(alpha, SCENE_TRIM_THRESHOLD)
    assert sig is not None
    foot = export_shadow_footprints(alpha, sig)["trim"]
    assert foot is not None
    m = 120
    rendered = render_variant(rgba, f"trim|margin-{m}|bg-ffffff|shadow-synthetic|format-png")
    assert rendered.metadata["scale"] == 1.0
    grey = decode(rendered.data)[1][..., :3].astype(np.float32).mean(axis=2)
    x0, y0 = sig.box[:2]
    lowest = m + foot[2] - y0
    dark = np.clip(255.0 - grey[lowest + 1:], 0, None)
    xs = np.arange(dark.shape[1], dtype=np.float64)
    centre = float((dark.sum(axis=0) * xs).sum() / dark.sum())
    # a pixel's centre is half a pixel past its left edge
    assert abs(centre + 0.5 - (m + (foot[0] + foot[1]) / 2 - x0)) <= 0.5, centre

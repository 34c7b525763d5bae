"""One footprint rule for every contact shadow (the cutout's synthetic layer, the export's
``shadow-synthetic``, the scenes' ``shadow-contact``), and the measure of a synthetic shadow
placed under a stray part instead of the product's body (frag42: dev 036, a bus whose kept
sign, with a faint skirt below it, reaches lower than its wheels)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from cutouts.imaging.settings import SyntheticShadow
from cutouts.imaging.shadow import (
    OFF_BODY_SHARE,
    contact_band,
    contact_band_top,
    contact_footprint,
    footprint_under,
    shadow_off_body,
    synthetic_shadow,
    synthetic_shadow_placed,
)
from cutouts.variants import scene as scene_module
from cutouts.variants.operations import synthetic_shadow as export_shadow

H, W = 400, 600
BUS = (100, 100, 400, 300)  # x0, y0, x1, y1 (exclusive): the body, standing on row 299


def _bus(sign: str = "none") -> np.ndarray:
    """An opaque body; ``sign``: "none", "apart" (a kept fragment beside it, reaching lower)
    or "skirt" (a sign joined to it, with a faint .2 skirt hanging below its wheels)."""
    a = np.zeros((H, W), np.float32)
    x0, y0, x1, y1 = BUS
    a[y0:y1, x0:x1] = 1.0
    if sign == "apart":
        a[200:330, 450:500] = 1.0
    elif sign == "skirt":
        a[150:280, 400:450] = 1.0  # joined to the body's right side
        a[280:330, 405:445] = 0.2  # alpha .1-.25: in the silhouette, not in the opaque part
    return a


def _export_centre(alpha: np.ndarray) -> float:
    """The x the export's ``shadow-synthetic`` centres its ellipse on (canvas = the cutout)."""
    im = Image.fromarray((alpha * 255).astype(np.uint8), "L")
    box = im.getbbox()
    assert box is not None
    patch = export_shadow(im, box, (0, 0), im.size)
    assert patch is not None
    layer = np.zeros((H, W), np.float32)
    p = np.asarray(patch[0], np.float32)
    x, y = patch[1]
    layer[y:y + p.shape[0], x:x + p.shape[1]] = p
    cols = layer.sum(axis=0)
    return float((cols * np.arange(W)).sum() / cols.sum())


def _scene_centre(alpha: np.ndarray) -> float:
    """The x the scenes' ``shadow-contact`` centres its ellipse on (light from above)."""
    u8 = (alpha * 255).astype(np.uint8)
    layer = Image.merge("RGBA", [Image.fromarray(u8, "L")] * 4)
    drawn: list = []

    class Ctx:
        position, canvas, info = (0, 0), (W, H), {}
        away_from_light = (0.0, 1.0)

        def __init__(self):
            self.layer = layer

        @property
        def product_box(self):
            return layer.getchannel("A").getbbox()

        def darken(self, patch, at, opacity):
            drawn.append((patch.width, at))

    scene_module.draw_shadow("contact", Ctx())  # type: ignore[arg-type]
    width, at = drawn[0]
    return at[0] + width / 2


@pytest.mark.parametrize("sign", ["none", "apart", "skirt"])
def test_it_centres_the_cutouts_the_exports_and_the_scenes_contact_shadow_alike(sign):
    alpha = _bus(sign)
    foot = contact_footprint(alpha > 0)
    assert foot is not None
    expected = (foot[0] + foot[1]) / 2
    layer = synthetic_shadow(alpha, SyntheticShadow())
    row = layer[foot[2]]
    assert abs(float((row * np.arange(W)).sum() / row.sum()) - expected) <= 1.0
    assert abs(_export_centre(alpha) - expected) <= 1.0
    assert abs(_scene_centre(alpha) - expected) <= 1.0


def _faint_skirted() -> np.ndarray:
    """A body on columns 20-80 down to row 97, a faint (alpha 10) skirt across the whole box
    on its two lowest rows (an upscale's spread of a wide edge above the band)."""
    alpha = np.zeros((120, 140), np.uint8)
    alpha[0:98, 20:80] = 255
    alpha[98:100, 0:100] = 10
    return alpha


def test_it_finds_the_footprint_under_a_box_from_its_level_up():
    """One rule, in the layer's px (foot45): the cutout's layer, the export's renders and
    its pre-check call it on the pixels each places."""
    alpha = _faint_skirted()
    box = (0, 0, 100, 100)  # the band: rows 95-99
    assert footprint_under(alpha, box, 1) == (0, 100, 99)
    assert footprint_under(alpha, box, 16) == (20, 80, 99)
    assert footprint_under(alpha, (0, 0, 100, 100), 255) == (20, 80, 99)
    assert footprint_under(alpha, (0, 99, 100, 100), 16) is None  # the skirt's row alone
    assert footprint_under(alpha > 0, box, 1) == (0, 100, 99)  # a bool mask too
    # a crop holding the band will do (a render's layer, lows46): the same, in the same px
    assert footprint_under(alpha[95:100, 0:100], box, 16, at=(0, 95)) == (20, 80, 99)
    assert footprint_under(alpha[90:100, 10:100], (10, 0, 100, 100), 1,
                           at=(10, 90)) == (10, 100, 99)
    assert contact_band(box) == (0, 95, 100, 100)


def test_it_centres_a_scene_shadow_under_the_whole_box_when_its_band_holds_only_faint_alpha():
    alpha = _faint_skirted()
    assert scene_module.scene_footprint(alpha, (0, 0, 100, 100)) == (20, 80, 99)
    assert scene_module.scene_footprint(alpha, (5, 98, 100, 100)) == (5, 100, 99)


def test_it_takes_the_footprint_from_the_lowest_twentieth_of_the_rows_in_whole_rows():
    # the export's integer rows (height // 20) and the cutout's (int(0.05 * height)) agree
    for height in (1, 19, 20, 39, 40, 60, 140, 999, 1000, 4321):
        assert contact_band_top(10, 10 + height) == 10 + height - max(1, height // 20)


def test_it_measures_no_shadow_off_body_under_a_product_on_its_own():
    assert shadow_off_body(_bus("none")) == 0.0
    assert shadow_off_body(np.zeros((H, W), np.float32)) == 0.0


@pytest.mark.parametrize("sign", ["apart", "skirt"])
def test_it_measures_the_shadow_off_body_under_a_part_lower_than_the_product(sign):
    alpha = _bus(sign)
    off = shadow_off_body(alpha)
    # the whole silhouette's footprint is the sign's, 200+ px right of the body's middle
    assert off > OFF_BODY_SHARE, off
    foot = contact_footprint(alpha >= 0.1)
    assert foot is not None and foot[0] >= 400


@pytest.mark.parametrize("drop", [False, True])
@pytest.mark.parametrize("sign", ["none", "apart", "skirt", "empty"])
def test_it_draws_the_layer_and_measures_it_from_one_silhouette_as_the_two_calls_do(sign, drop):
    """lows44 (2026-12-07): a run draws its synthetic layer and measures where it lies from
    one silhouette and footprint (``synthetic_shadow_placed``), not twice: the same results.
    (Also checked against HEAD's two functions on 300 random alphas, identical.)"""
    alpha = np.zeros((H, W), np.float32) if sign == "empty" else _bus(sign)
    params = SyntheticShadow(drop=drop)
    layer, off = synthetic_shadow_placed(alpha, params)
    assert np.array_equal(layer, synthetic_shadow(alpha, params))
    assert off == shadow_off_body(alpha)
    assert (off > OFF_BODY_SHARE) == (sign in ("apart", "skirt"))


def test_it_measures_a_soft_rim_under_the_whole_base_as_on_the_body():
    # the model's soft lower edge (alpha .2, in the silhouette) moves the centre a few rows
    # down, under the same columns: the shadow is still the body's
    alpha = _bus("none")
    alpha[300:306, 100:400] = 0.2
    assert 0.0 < shadow_off_body(alpha) <= OFF_BODY_SHARE


def test_it_draws_a_shadow_under_a_product_that_fills_the_frame_to_its_bottom():
    a = np.zeros((60, 80), np.float32)
    a[10:, 20:60] = 1.0
    layer = synthetic_shadow(a, SyntheticShadow())
    assert layer[59, 40] > 0 and layer[59, 5] < layer[59, 40]
    assert cv2.countNonZero((layer > 0).astype(np.uint8)) > 0


def _traced_peak(call):
    """``call()``'s answer and the peak of what Python and numpy allocated during it."""
    import tracemalloc

    tracemalloc.start()
    try:
        return call(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_it_reads_only_the_footprint_band_of_a_tall_layer_for_its_contact_shadow():
    # a render's layer is output-size: the footprint is read from the band the rule reads (the
    # lowest 5 % of the product's rows), not from a copy of the product's box at 1 byte a
    # product px (a copy of it ran to 3.2 MB here; lows46). The same footprint either way
    w, h = 400, 8000
    alpha = np.zeros((h, w), np.uint8)
    alpha[:, 150:250] = 255
    alpha[h - 40:, 100:300] = 255  # a wider foot: the shadow is placed by it
    layer = Image.new("RGBA", (w, h), (90, 60, 40, 0))
    layer.putalpha(Image.fromarray(alpha))
    band_top = contact_band_top(0, h)
    box_px = w * h

    patch, peak = _traced_peak(lambda: export_shadow(layer.getchannel("A"), (0, 0, w, h),
                                                     (0, 0), (w, h + 40)))
    assert patch is not None
    assert footprint_under(alpha, (0, 0, w, h), 16) == (100, 300, h - 1)
    assert peak < box_px / 8  # the band is box_px / 20

    background = Image.new("RGB", (w, h + 40), (255, 255, 255))
    ctx = scene_module.SceneContext((w, h + 40), {}, [], background=background, layer=layer)
    _, peak = _traced_peak(lambda: scene_module.draw_shadow("contact", ctx))
    assert peak < box_px / 8
    # drawn under the foot, not under the whole box's width
    dark = np.asarray(background.convert("L"))[h - 2:h + 6] < 250
    cols = np.flatnonzero(dark.any(axis=0))
    assert 80 < cols[0] < 110 and 290 < cols[-1] < 320
    assert (h - band_top) * w < box_px / 8

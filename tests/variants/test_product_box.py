"""One product box for layout and for compliance: the significant alpha's (issue #12).

A faint blob of the photo's background that the cutout kept beside the product is no product:
with trim and fill (every marketplace preset) it is neither laid out nor pasted, and a spec
without them pastes it outside the product box, where the ghost analysis judges it. A real
second product (solid, large) stays in the box; a kept shadow joined to the product is no
ghost."""

import re

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from cutouts.imaging.shadow import extract_contact_shadow
from cutouts.variants import check_rendered, get_preset, render_variant
from cutouts.variants.layout import significant_region
from tests.imaging.sweep import BOX, sweep_scene
from tests.imaging.sweep import PRODUCT as MUG

from .synthetic import HIDDEN, PRODUCT, decode

#: tests.cutouts.export_helpers.MARKET_PHOTO: no marketplace preset enlarges its product 2x
PHOTO = (2000, 1500)
ITEM = (700, 400, 1300, 1100)  # the product's box in the photo
GREY = (120, 110, 100)  # the photo's background, kept in a faint blob
#: a blob of background 200 px left of the product, level with its middle
BLOB = (ITEM[0] - 200 - 150, 600, ITEM[0] - 200, 800)
MARKETPLACE = ["amazon_main", "ebay"]


def photo(blob: tuple[int, int, int, int] | None = None, blob_alpha: int = 64) -> Image.Image:
    """A solid ellipse (the product) and, optionally, a detached ``blob`` of background with
    ``blob_alpha`` (64 is 0.25: faint; 230 is 0.9: a solid part)."""
    rgb = Image.new("RGB", PHOTO, HIDDEN)
    rgb.paste(PRODUCT, ITEM)
    alpha = Image.new("L", PHOTO, 0)
    ImageDraw.Draw(alpha).ellipse((ITEM[0], ITEM[1], ITEM[2] - 1, ITEM[3] - 1), fill=255)
    image = rgb.convert("RGBA")
    image.putalpha(alpha)
    if blob is None:
        return image
    arr = np.array(image)
    x0, y0, x1, y1 = blob
    arr[y0:y1, x0:x1] = (*GREY, blob_alpha)
    return Image.fromarray(arr)


def without_trim(preset_name: str) -> str:
    """The preset's spec with its layout from the whole frame (no trim, no fill), as an
    admin may edit a marketplace row: the cutout's alpha is pasted as stored."""
    spec = get_preset(preset_name).spec
    return "|".join(t for t in spec.split("|") if t != "trim" and not t.startswith("fill-"))


def ghost_at(summary: str) -> tuple[int, int]:
    found = re.search(r"ghosts; the largest near x=(\d+), y=(\d+)", summary)
    assert found, summary
    return int(found[1]), int(found[2])


@pytest.mark.parametrize("alpha", [26, 64, 102], ids=["0.1", "0.25", "0.4"])
@pytest.mark.parametrize("preset_name", MARKETPLACE)
def test_it_never_lets_a_faint_ghost_reach_a_marketplace_variant(preset_name, alpha):
    preset = get_preset(preset_name)
    clean = render_variant(photo(), preset.spec)
    ghosted = render_variant(photo(BLOB, alpha), preset.spec)
    # trim and fill take the significant box and paste only its region: the same file
    sig = significant_region(np.asarray(photo(BLOB, alpha).getchannel("A")), 8)
    assert sig is not None and sig.box == ITEM
    assert ghosted.product_bbox == clean.product_bbox
    assert ghosted.fill_pct == clean.fill_pct
    assert clean.fill_pct is not None and clean.fill_pct >= 85
    assert ghosted.data == clean.data
    x0, y0, x1, y1 = ghosted.product_bbox
    assert abs(x0 - (ghosted.width - x1)) <= 1 and abs(y0 - (ghosted.height - y1)) <= 1
    result = check_rendered(ghosted, preset)
    assert result.ok, result.errors


@pytest.mark.parametrize("preset_name", MARKETPLACE)
def test_it_reports_a_faint_ghost_pasted_without_trim_as_a_ghost(preset_name):
    preset, spec = get_preset(preset_name), without_trim(preset_name)
    clean = render_variant(photo(), spec)
    assert not any("ghosts" in e for e in check_rendered(clean, preset).errors)
    ghosted = render_variant(photo(BLOB), spec)
    # the blob is pasted, but outside the product box: the box is the clean product's
    assert ghosted.product_bbox == clean.product_bbox
    assert ghosted.fill_pct == clean.fill_pct
    result = check_rendered(ghosted, preset)
    gx, gy = ghost_at(result.summary())
    s = ghosted.width / PHOTO[0]  # the whole frame is laid out: one scale, centred
    oy = (ghosted.height - PHOTO[1] * s) / 2
    assert abs(gx - BLOB[0] * s) < 20 and abs(gy - (oy + BLOB[1] * s)) < 20, (gx, gy)


@pytest.mark.parametrize("spec", ["amazon_main", "ebay", "no-trim"])
def test_it_keeps_a_large_second_product_in_the_box_and_calls_it_no_ghost(spec):
    preset = get_preset("ebay" if spec == "no-trim" else spec)
    text = without_trim("ebay") if spec == "no-trim" else preset.spec
    second = (ITEM[0] - 200 - 400, 400, ITEM[0] - 200, 1000)  # 400 x 600, alpha 0.9
    r = render_variant(photo(second, 230), text)
    assert not any("detached" in w for w in r.warnings), r.warnings
    # the box laid out and reported spans both pieces
    assert r.metadata["source_product_bbox"] == (second[0], ITEM[1], ITEM[2], ITEM[3])
    s = r.metadata["scale"]
    assert abs((r.product_bbox[2] - r.product_bbox[0]) - (ITEM[2] - second[0]) * s) <= 2
    result = check_rendered(r, preset)
    assert not any("ghosts" in e for e in result.errors), result.errors


@pytest.mark.parametrize("preset_name", MARKETPLACE)
def test_it_leaves_a_small_solid_part_far_away_out_of_the_layout_with_a_warning(preset_name):
    """A solid part a tenth of the product's size, 200 px away, is not a second product: trim
    leaves it out (saying so), never calling it a ghost."""
    preset = get_preset(preset_name)
    r = render_variant(photo(BLOB, 230), preset.spec)
    assert r.product_bbox == render_variant(photo(), preset.spec).product_bbox
    assert any("1 detached part(s)" in w for w in r.warnings), r.warnings
    result = check_rendered(r, preset)
    assert result.ok, result.errors


def _sweep_cutout() -> tuple[Image.Image, Image.Image]:
    """The sweep scene's mug and the shadow layer the extractor keeps of it."""
    rgb, alpha, _ = sweep_scene()
    layer = np.clip(extract_contact_shadow(rgb, alpha) * 255 + 0.5, 0, 255).astype(np.uint8)
    rgba = np.dstack([np.broadcast_to(MUG.astype(np.uint8), (*alpha.shape, 3)),
                      np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)])
    return Image.fromarray(rgba, "RGBA"), Image.fromarray(layer)


def test_it_does_not_call_a_kept_shadow_a_ghost_without_trim():
    preset = get_preset("ebay")
    rgba, layer = _sweep_cutout()
    r = render_variant(rgba, without_trim("ebay"), shadow=layer)
    result = check_rendered(r, preset)
    assert result.ok, result.errors
    # the shadow is there, beside and below the product box (it is no part of it)
    _, arr = decode(r.data)
    x0, y0, x1, y1 = r.product_bbox
    below = 255 - arr[y1 + 2:y1 + 40, x0:x1]
    assert int((below.max(axis=2) >= 40).sum()) > 100
    # a mark detached from the product in the shadow's zone is still a ghost
    stained = np.array(layer)
    cv2.circle(stained, (BOX[2] + 70, BOX[3] - 40), 12, 120, -1)
    r = render_variant(rgba, without_trim("ebay"), shadow=Image.fromarray(stained))
    assert any("ghosts" in e for e in check_rendered(r, preset).errors)


def test_it_aligns_the_product_not_a_ghost_below_it_to_the_floor():
    spec = "canvas-1000x1000|align-bottom-60|bg-ffffff|format-png"
    below = (ITEM[0], ITEM[3] + 40, ITEM[2], ITEM[3] + 90)  # faint, 40 px under the product
    clean = render_variant(photo(), spec)
    ghosted = render_variant(photo(below), spec)
    assert clean.product_bbox[3] == 1000 - 60
    assert ghosted.product_bbox == clean.product_bbox
    _, arr = decode(ghosted.data)
    assert (arr[1000 - 60 + 2:] != 255).any()  # the blob was pasted below the floor line


def test_it_draws_a_synthetic_shadow_under_the_product_not_a_ghost_beside_it():
    spec = "square-1000|bg-ffffff|shadow-synthetic|format-png"
    low = (ITEM[0] - 450, ITEM[3] + 50, ITEM[0] - 300, ITEM[3] + 150)  # down and to the left
    clean = render_variant(photo(), spec)
    ghosted = render_variant(photo(low), spec)
    assert ghosted.product_bbox == clean.product_bbox
    _, a = decode(clean.data)
    _, b = decode(ghosted.data)
    x0, _, x1, y1 = clean.product_bbox
    # under the product the shadow is the same as without the blob
    assert np.array_equal(a[y1:y1 + 30, x0:x1], b[y1:y1 + 30, x0:x1])

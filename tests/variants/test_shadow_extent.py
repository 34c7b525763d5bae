"""Layout and compliance of a shadow: fill sizes the product, never its shadow; a shadow fades
out before the canvas's frame; compliance fails a shadow reaching the frame or covering the
canvas; a synthetic shadow shows under glass."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from cutouts.variants import PRESETS, check_rendered, check_variant, render_variant
from cutouts.variants.compliance import SHADOW_MAX_COVER
from cutouts.variants.layout import shadow_clearance

from .synthetic import cutout, decode

SIZE = (800, 600)
BOX = (250, 150, 550, 450)
EBAY = PRESETS["ebay"]
PNG_SPEC = EBAY.spec.replace("format-jpeg|quality-90", "format-png")


#: a bottle: tall and narrow, so fill-85 leaves wide margins beside it
BOTTLE = (350, 100, 450, 500)


def _floor_layer(opacity: int = 90, box: tuple[int, int, int, int] = BOX) -> Image.Image:
    """A "shadow" layer that is the photo's whole floor: from the product's middle down to the
    photo's edges, left, right and bottom (what the old extractor kept on water and rocks)."""
    layer = Image.new("L", SIZE, 0)
    ImageDraw.Draw(layer).rectangle((0, (box[1] + box[3]) // 2, SIZE[0], SIZE[1]), fill=opacity)
    return layer


def test_it_sizes_the_product_to_the_fill_not_its_shadow():
    product = cutout(SIZE, BOX)
    plain = render_variant(product, PNG_SPEC.replace("shadow-keep", "shadow-none"))
    shadowed = render_variant(product, PNG_SPEC, shadow=_floor_layer())
    assert shadowed.metadata["shadow"] == "keep"
    assert shadowed.product_bbox == plain.product_bbox
    # 85 % of the canvas is the product's box (rounded up), whatever the shadow's extent
    assert 85.0 <= shadowed.fill_pct <= 85.2


def test_it_fades_the_shadow_out_before_the_canvas_frame():
    r = render_variant(cutout(SIZE, BOX), PNG_SPEC, shadow=_floor_layer())
    _, arr = decode(r.data)
    grey = 255 - arr[..., :3].astype(int).max(axis=2)  # the shadow's ink on white
    clear = shadow_clearance((r.width, r.height))
    # the band along the frame is pure background ...
    assert grey[:, :clear].max() == 0 and grey[:, -clear:].max() == 0
    assert grey[-clear:].max() == 0
    # ... and the shadow rises from it smoothly, not in a straight cut: along a row through
    # the shadow, below the product, the first pixels after the band are near white
    y = r.product_bbox[3] + 20
    row = grey[y, clear:3 * clear]
    assert row[0] == 0 and row[2] <= 3
    assert (np.diff(row) >= 0).all()
    assert row[-1] >= 0.9 * grey[y, r.width // 2]


def test_it_fails_a_shadow_that_covers_the_floor_and_reaches_the_frame():
    # the file as the old renderer made it: the shadow clipped 2 % in, not faded
    canvas = Image.new("RGB", (1600, 1600), "white")
    ImageDraw.Draw(canvas).rectangle((32, 700, 1567, 1567), fill=(165, 165, 165))
    box = (120, 120, 1480, 1480)
    ImageDraw.Draw(canvas).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=(200, 30, 30))
    buf = io.BytesIO()
    canvas.save(buf, "PNG")
    result = check_variant(buf.getvalue(), EBAY.rules, product_bbox=box)
    assert not result.ok
    assert any("reaches the bottom, left, right edge(s)" in e for e in result.errors), \
        result.errors
    assert result.measurements["shadow_edges"] == ["bottom", "left", "right"]


def test_it_fails_a_floor_covering_the_canvas_beside_a_narrow_product():
    r = render_variant(cutout(SIZE, BOTTLE), EBAY.spec, shadow=_floor_layer(box=BOTTLE))
    result = check_rendered(r, EBAY)
    # the renderer kept the frame clear, but the floor still covers the canvas beside it
    assert result.measurements["shadow_edges"] == []
    assert result.measurements["shadow_cover_pct"] > SHADOW_MAX_COVER * 100
    assert any("covers" in e for e in result.errors), result.errors


def test_it_passes_a_contact_shadow_under_the_product():
    layer = Image.new("L", SIZE, 0)
    ImageDraw.Draw(layer).ellipse((BOX[0] - 20, BOX[3] - 15, BOX[2] + 20, BOX[3] + 25), fill=110)
    r = render_variant(cutout(SIZE, BOX), EBAY.spec, shadow=layer)
    result = check_rendered(r, EBAY)
    assert result.ok, result.errors
    assert 0 < result.measurements["shadow_cover_pct"] < SHADOW_MAX_COVER * 100
    assert result.measurements["shadow_edges"] == []


def test_it_shows_a_synthetic_shadow_under_a_glass():
    glass = cutout(SIZE, BOX, shape="rect")
    glass.putalpha(glass.getchannel("A").point(lambda v: v * 30 // 255))  # alpha ~0.12
    spec = "trim|fill-85|square-800|bg-ffffff|shadow-synthetic|format-png"
    with_shadow = render_variant(glass, spec)
    without = render_variant(glass, spec.replace("shadow-synthetic", "shadow-none"))
    _, a = decode(with_shadow.data)
    _, b = decode(without.data)
    x0, _, x1, y1 = with_shadow.product_bbox
    # through the glass, just above its base, and just below it: visibly darker
    for rows in (slice(y1 - 4, y1), slice(y1, y1 + 4)):
        diff = b[rows, x0 + 40:x1 - 40, :3].astype(int) - a[rows, x0 + 40:x1 - 40, :3]
        assert diff.mean() > 25, diff.mean()

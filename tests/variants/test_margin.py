"""``margin-N``: output pixels around the layout box, the box of the product's alpha >= 32 (or
the trim threshold when higher), with nothing of the product pasted into them. QA 2026-12-06
(L4) measured 3 to 27 px for ``margin-5`` on a red background: a faint rim inside the box (by
design), and a resampled edge that spread past it (cut at the box since RENDERER_VERSION 5)."""

import io

import numpy as np
from PIL import Image

from cutouts.variants.render import render_variant

SPEC = "trim|margin-5|square-800|bg-ff0000|format-png"


def cutout(size, solid, rim_bottom=0, rim_alpha=0):
    """A dark-green product on transparency: ``solid`` opaque, with an optional band of
    ``rim_alpha`` under it (a soft shadow or fringe the cut-out kept)."""
    w, h = size
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., :3] = (20, 120, 20)
    x0, y0, x1, y1 = solid
    rgba[y1:y1 + rim_bottom, x0:x1, 3] = rim_alpha
    rgba[y0:y1, x0:x1, 3] = 255
    return Image.fromarray(rgba, "RGBA")


def margins(data: bytes, alpha: float) -> tuple[int, int, int, int]:
    """Left, right, top, bottom gaps to the pixels showing at least ``alpha`` of the green
    product over the red background."""
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(float)
    shown = np.abs(rgb - (255, 0, 0)).sum(2) / (235 + 120 + 20)
    ys, xs = np.nonzero(shown >= alpha)
    h, w = shown.shape
    return int(xs.min()), int(w - 1 - xs.max()), int(ys.min()), int(h - 1 - ys.max())


def test_it_lays_out_a_hard_edged_product_n_pixels_from_the_edge_when_not_enlarged():
    out = render_variant(cutout((1000, 700), (100, 100, 890, 500)), SPEC)
    left, right, top, bottom = margins(out.data, 0.5)
    assert (left, right) == (5, 5)
    assert abs(top - bottom) <= 1


def test_it_counts_a_faint_rim_over_alpha_32_as_product_so_the_solid_part_is_off_centre():
    # a band of alpha 60 under the product is in the layout box: the box is centred, the
    # solid product sits higher by the band's height (documented: docs/export.md, margin-N)
    source = cutout((400, 300), (50, 50, 350, 200), rim_bottom=20, rim_alpha=60)
    left, right, top, bottom = margins(render_variant(source, SPEC).data, 0.5)
    assert bottom - top > 40
    # trim-128 lays out by the opaque part: centred again
    left, right, top, bottom = margins(render_variant(
        source, SPEC.replace("trim|", "trim-128|")).data, 0.5)
    assert abs(top - bottom) <= 1 and min(left, right) >= 4


def test_it_keeps_an_enlarged_products_resampled_edge_out_of_the_margin():
    # 7.9x: Lanczos spread the edge 3 px past the layout box (margin-5 left 2 px), cut at the
    # box since RENDERER_VERSION 5
    for box in ((50, 40, 150, 100), (50, 40, 147, 101)):
        out = render_variant(cutout((200, 150), box), SPEC)
        left, right, top, bottom = margins(out.data, 0.01)
        assert (left, right) == (5, 5)
        assert abs(top - bottom) <= 1
        assert out.product_bbox[0] == 5 and out.product_bbox[2] == 795


def test_it_keeps_the_rim_under_alpha_32_out_of_the_margin():
    # the rim under the box's alpha-32 edge was pasted outside the box, into the margin
    source = cutout((400, 300), (50, 50, 350, 250), rim_bottom=3, rim_alpha=20)
    assert margins(render_variant(source, SPEC).data, 0.01)[3] >= 5

"""The kept natural shadow: it meets the product's edge (no light seam), stays off the sides and
top of a product without shadow there, and lies only where the compliance check allows it."""

import numpy as np

from cutouts.imaging.shadow import extract_contact_shadow, kept_shadow_zone

from .sweep import BOX, H, W, sweep_scene


def _base_columns() -> range:
    x0, _, x1, _ = BOX
    return range(x0 + 20, x1 - 20, 10)


def test_it_continues_the_contact_shadow_up_to_the_products_edge():
    rgb, alpha, shade = sweep_scene()
    s = extract_contact_shadow(rgb, alpha)
    for x in _base_columns():
        edge = int(np.nonzero(alpha[:, x] > 0.02)[0].max())  # the product's last soft row
        below = s[edge + 1:edge + 40, x]
        # the photo is darkest at the contact line: so is the layer, from the first pixel on
        assert shade[edge + 1, x] >= shade[edge + 1:edge + 40, x].max() - 0.01
        assert below[0] >= 0.9 * below.max(), (x, below[:12])
        # under the soft rim too: the product's half-covered pixels are not lit from behind
        rim = int(np.nonzero(alpha[:, x] >= 0.5)[0].max())
        assert s[rim, x] >= 0.9 * below.max()


def test_it_leaves_no_light_seam_in_the_composite_on_white():
    rgb, alpha, _ = sweep_scene()
    s = extract_contact_shadow(rgb, alpha)
    # the export puts the product over the black layer over white
    backdrop = 255.0 * (1.0 - s)
    lum = alpha * 60.0 + (1.0 - alpha) * backdrop
    for x in _base_columns():
        edge = int(np.nonzero(alpha[:, x] >= 0.5)[0].max())
        after = lum[edge + 1:edge + 25, x]
        # brightness only rises away from the product: no band lighter than the shadow after it
        assert after[:6].max() <= after[6:].min() + 3, (x, after.round())


def test_it_keeps_the_side_and_top_of_a_product_without_a_shadow_clear():
    rgb, alpha, _ = sweep_scene(shadow=False)
    # the product's own dark antialiased rim and the sweep's vignette are no shadow
    assert extract_contact_shadow(rgb, alpha).max() == 0.0
    rgb, alpha, shade = sweep_scene()
    s = extract_contact_shadow(rgb, alpha)
    # beside and above the product, where the photo has no shadow, nothing (no dark halo)
    clear = (shade < 0.01) & (alpha < 0.02)
    assert s[clear].max() < 0.02


def test_it_keeps_no_darkening_of_the_sweep_detached_from_the_product():
    rgb, alpha, _ = sweep_scene(stain=True)
    s = extract_contact_shadow(rgb, alpha)
    x1, y1 = BOX[2], BOX[3]
    stain = s[y1 - 60:y1 - 20, x1 + 55:x1 + 85]
    assert stain.max() == 0.0
    # while the contact shadow wrapping the base stays
    assert s[y1 - 20:y1, BOX[0] - 30:BOX[0] - 5].max() > 0.2


def test_it_keeps_the_shadow_inside_the_zone_the_compliance_check_allows():
    rgb, alpha, _ = sweep_scene()
    s = extract_contact_shadow(rgb, alpha)
    ys, xs = np.nonzero(alpha >= 0.5)
    zx0, zy0, zx1, zy1 = kept_shadow_zone((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    sy, sx = np.nonzero(s > 0)
    assert sx.min() >= zx0 and sy.min() >= zy0 and sx.max() < zx1 and sy.max() < zy1
    # the zone is where a contact shadow wraps the base: beside its lower part, not its top
    assert sx.min() < BOX[0] - 20 and sy.min() < BOX[3] - 20
    assert zy0 > BOX[1] + 0.4 * (BOX[3] - BOX[1])
    assert s.shape == (H, W)


def test_it_estimates_the_clean_backdrop_on_blocks_as_the_full_disc_would():
    import cv2

    from cutouts.imaging.shadow import _clean_backdrop

    rgb, alpha, _ = sweep_scene()
    lum = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    lum[alpha > 0.02] = 0.0  # the product is left out of the measurement
    for k in (121, 241):  # 5 and 10 px blocks
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        full = cv2.GaussianBlur(cv2.dilate(lum, disc), (0, 0), k / 4)
        blocks = _clean_backdrop(lum, k)
        assert blocks.shape == full.shape
        # a block's maximum reaches at most one block further: never darker, barely lighter
        assert (blocks - full).min() > -0.002
        assert np.abs(blocks - full).max() < 0.02 and np.abs(blocks - full).mean() < 0.002

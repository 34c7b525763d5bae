"""Layout from what a person sees: significant alpha drives trim, fill and centring; compliance
flags clipped products, ghosts and canvases outside a marketplace's ratios."""

import numpy as np
import pytest
from PIL import Image

from cutouts.variants import Rules, check_rendered, check_variant, get_preset, render_variant
from cutouts.variants.errors import RulesError
from cutouts.variants.layout import significant_region

from .synthetic import PRODUCT, cutout, decode, encode

CAR = (300, 200, 700, 350)  # a wide product in a 800 x 500 photo


def car(stray_alpha=0, veil=0, speck=False):
    """A car-like wide product; optional faint stray alpha 250 px to its left (touching
    nothing), a faint veil over the whole frame and a tiny solid speck far away."""
    im = cutout((800, 500), CAR, shape="rect")
    a = np.array(im)
    if veil:
        a[..., 3] = np.maximum(a[..., 3], veil)
    if stray_alpha:
        a[220:330, 20:50, :3] = PRODUCT
        a[220:330, 20:50, 3] = stray_alpha
    if speck:
        a[10:12, 780:782] = (*PRODUCT, 255)
    return Image.fromarray(a)


@pytest.mark.parametrize("kwargs", [{"stray_alpha": 40}, {"veil": 12}, {"speck": True},
                                    {"stray_alpha": 60, "veil": 7, "speck": True}],
                         ids=["stray", "veil", "speck", "all"])
def test_it_never_lets_stray_alpha_move_the_trim_box(kwargs):
    sig = significant_region(np.asarray(car(**kwargs).getchannel("A")), 8)
    assert sig.box == CAR
    assert sig.alpha[:, :290].max() == 0 and sig.alpha[:, 710:].max() == 0
    trimmed = render_variant(car(**kwargs), "trim|format-png")
    assert (trimmed.width, trimmed.height) == (CAR[2] - CAR[0], CAR[3] - CAR[1])


def test_it_reaches_fill_and_centres_a_car_with_faint_alpha_to_its_left():
    r = render_variant(car(stray_alpha=40, veil=5),
                       "trim|fill-85|square-1000|bg-ffffff|format-png")
    assert r.fill_pct >= 85
    x0, y0, x1, y1 = r.product_bbox
    assert abs(x0 - (1000 - x1)) <= 1 and abs(y0 - (1000 - y1)) <= 1  # centred
    _, arr = decode(r.data)
    assert (arr[:, :x0 - 2] == 255).all()  # nothing of the stray alpha was pasted


def test_it_keeps_a_second_real_product_in_the_box():
    a = np.array(cutout((800, 400), (50, 100, 300, 300), shape="rect"))
    a[100:300, 500:750] = (*PRODUCT, 255)
    sig = significant_region(a[..., 3], 8)
    assert sig.box == (50, 100, 750, 300) and sig.dropped_parts == 0


def test_it_reads_parts_labelled_in_their_window_in_frame_pixels():
    """The cores are labelled inside their bounding window, not the frame: the box, the kept
    near part and the dropped far part must still come out in the frame's pixels."""
    a = np.array(cutout((900, 600), (400, 250, 600, 450), shape="rect"))
    a[300:340, 620:640] = (*PRODUCT, 255)  # a strap 20 px beside the product: kept
    a[520:560, 820:860] = (*PRODUCT, 255)  # a solid part far away in the corner: dropped
    sig = significant_region(a[..., 3], 8)
    assert sig.box == (400, 250, 640, 450)
    assert sig.dropped_parts == 1
    assert sig.alpha[520:560, 820:860].max() == 0 and sig.alpha[300:340, 620:640].min() == 255


def test_it_flags_a_product_clipped_by_the_canvas_edge():
    rules = Rules(background="ffffff", product_clear_of_edges=True)
    # the old Etsy failure: a wide car on a canvas that cuts off its ends
    clipped = render_variant(car(), "trim|cover-300x300|bg-ffffff|format-png")
    result = check_rendered(clipped, rules)
    assert not result.ok
    assert any("right edge of the canvas" in e for e in result.errors), result.errors
    fine = render_variant(car(), "trim|fill-85|square-600|bg-ffffff|format-png")
    assert check_rendered(fine, rules).ok
    arr = np.full((400, 400, 3), 255, np.uint8)
    arr[100:300, 200:400] = (200, 30, 30)  # runs out of the frame on the right
    result = check_variant(encode(arr), rules, product_bbox=(200, 100, 400, 300))
    assert any("cut off at the right edge" in e for e in result.errors), result.errors
    assert not any("left edge" in e for e in result.errors)


def test_it_flags_a_product_that_only_touches_the_edge():
    arr = np.full((400, 400, 3), 255, np.uint8)
    arr[100:300, 100:300] = (200, 30, 30)
    arr[200, 0:100] = (200, 30, 30)  # a 1 px strap reaching the left edge
    result = check_variant(encode(arr), Rules(product_clear_of_edges=True))
    assert any("touches the left edge" in e for e in result.errors), result.errors


def test_it_flags_a_ghost_away_from_the_product():
    arr = np.full((1000, 1000, 3), 255, np.uint8)
    arr[100:900, 100:900] = (200, 30, 30)
    clean = encode(arr)
    rules = Rules(background="ffffff", no_ghosts=True)
    assert check_variant(clean, rules, product_bbox=(100, 100, 900, 900)).ok
    arr[20:60, 930:980] = (180, 170, 150)  # a faint, detached blob of the photo's background
    result = check_variant(encode(arr), rules, product_bbox=(100, 100, 900, 900))
    assert any("ghosts" in e for e in result.errors), result.errors
    # without a product box the largest mark is the product
    assert any("ghosts" in e for e in check_variant(encode(arr), rules).errors)


def test_it_does_not_call_a_contact_shadow_a_ghost():
    arr = np.full((1000, 1000, 3), 255, np.uint8)
    arr[100:850, 150:850] = (200, 30, 30)
    arr[850:900, 120:880] = (200, 200, 200)
    result = check_variant(encode(arr), Rules(background="ffffff", no_ghosts=True),
                           product_bbox=(150, 100, 850, 850))
    assert result.ok, result.errors


def test_it_renders_etsy_on_a_fixed_canvas_within_its_ratios():
    preset = get_preset("etsy")
    r = render_variant(car(stray_alpha=40), preset.spec)
    assert (r.width, r.height) == (2500, 2000)  # 5:4, 2000 px on the shortest side
    assert r.fill_pct >= 85
    result = check_rendered(r, preset)
    assert result.ok, result.errors


def test_it_flags_a_canvas_outside_the_marketplace_ratios():
    wide = encode(np.full((2000, 4285, 3), 255, np.uint8))
    result = check_variant(wide, get_preset("etsy").rules)
    assert any("expects 4:3 or 5:4" in e for e in result.errors), result.errors
    assert Rules.from_dict(get_preset("etsy").rules.to_dict()) == get_preset("etsy").rules
    with pytest.raises(RulesError, match="aspect ratios"):
        Rules.from_dict({"aspect_ratios": ["wide"]})


def test_it_keeps_only_the_window_of_the_significant_alpha():
    from cutouts.variants.layout import alpha_array

    image = car(stray_alpha=40, veil=12, speck=True)
    alpha = np.asarray(image.getchannel("A"))
    assert np.array_equal(alpha_array(image), alpha)
    sig = significant_region(alpha_array(image), 8)
    x0, y0, x1, y1 = sig.window
    full = sig.alpha
    assert full.shape == alpha.shape and sig.patch.shape == (y1 - y0, x1 - x0)
    assert np.array_equal(full[y0:y1, x0:x1], sig.patch)
    outside = full.copy()
    outside[y0:y1, x0:x1] = 0
    assert not outside.any()  # nothing of the region lies outside its window
    assert x0 <= sig.box[0] and sig.box[2] <= x1 and y0 <= sig.box[1] and sig.box[3] <= y1
    box = sig.box
    assert np.array_equal(sig.crop(box), full[box[1]:box[3], box[0]:box[2]])


def test_it_labels_the_visible_alpha_as_the_labelling_with_stats_does():
    """significant_region labels the visible alpha without stats: same labels."""
    import cv2

    rng = np.random.default_rng(4)
    for _ in range(40):
        mask = (cv2.GaussianBlur(rng.integers(0, 256, (120, 160), dtype=np.uint8), (9, 9), 0)
                > rng.integers(120, 136)).astype(np.uint8)
        n, labels = cv2.connectedComponents(mask, connectivity=8, ltype=cv2.CV_32S)
        m, with_stats, _, _ = cv2.connectedComponentsWithStats(mask, connectivity=8,
                                                              ltype=cv2.CV_32S)
        assert n == m and n > 2 and np.array_equal(labels, with_stats)


def test_it_says_the_size_asked_is_over_the_output_limit():
    from cutouts.variants import RenderError

    # long-N is a size operation: the message says the limit and that the size is over it
    wide = cutout(size=(400, 300), box=(0, 0, 400, 300), shape="rect")
    with pytest.raises(RenderError) as caught:
        render_variant(wide, "long-15000|format-png")
    message = str(caught.value)
    assert "add a size operation" not in message
    assert message == ("output of 15000x11250 px (168,750,000 px) is over the 100,000,000 px "
                       "limit; the size asked (long-15000) is over it for this product's "
                       "shape: ask for a smaller one")

"""Quality signals without ground truth: the object's contour, rim colour, core and how
well its outline follows the photo's edges."""

from __future__ import annotations

import cv2
import numpy as np

from cutouts.imaging.signals import (
    drawn_signals,
    edge_support,
    half_kept,
    quality_signals,
    risk_score,
    unit_means,
)

from .scenes import BG, FG


def test_it_counts_the_contour_inside_the_frame_only():
    alpha = np.zeros((100, 140), np.float32)
    alpha[20:70, 0:100] = 1.0  # touches the left side of the frame
    alpha[70, 0:100] = 0.3  # one row of soft edge below it
    rgb = np.zeros((100, 140, 3), np.uint8)
    sig = quality_signals(alpha, alpha, rgb)
    # contour: top and bottom rows and the right column, not the frame side
    assert sig["edge_softness_px"] == round(100 / (100 + 100 + 48), 3)
    assert sig["touching_sides"] == ["left"] and sig["fragment_count"] == 1


def test_it_measures_the_halo_on_the_rim_against_the_backdrop():
    alpha = np.zeros((100, 140), np.float32)
    alpha[20:80, 20:120] = 1.0
    background = np.broadcast_to(BG / 255.0, (100, 140, 3)).astype(np.float32)
    rgb = np.empty((100, 140, 3), np.uint8)
    rgb[:] = FG.astype(np.uint8)
    clean = quality_signals(alpha, alpha, rgb, background)
    rgb[20:80, 20:120] = BG.astype(np.uint8)
    rgb[22:78, 22:118] = FG.astype(np.uint8)  # a 2 px rim of backdrop colour: a halo
    halo = quality_signals(alpha, alpha, rgb, background)
    assert clean["halo_risk"] == 0.0 and halo["halo_risk"] == 1.0


def test_it_reads_the_core_alpha_two_pixels_inside_the_outline():
    alpha = np.zeros((100, 140), np.float32)
    alpha[20:80, 20:120] = 1.0
    alpha[22:78, 22:118] = 0.6  # a half-transparent core inside an opaque outline
    sig = quality_signals(alpha, alpha, np.zeros((100, 140, 3), np.uint8))
    assert sig["interior_alpha"] == 0.6


def test_it_rates_an_empty_cutout_as_certain_to_be_bad():
    alpha = np.zeros((50, 60), np.float32)
    sig = quality_signals(alpha, alpha, np.zeros((50, 60, 3), np.uint8), None, 0.1)
    assert sig["empty"] and sig["fragment_count"] == 0 and sig["interior_alpha"] == 0.0
    assert risk_score(sig) == 1.0


def _box_scene(scale: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A red box on white (rgb) and its exact mask, ``scale`` times 100 x 140 px."""
    rgb = np.empty((100 * scale, 140 * scale, 3), np.uint8)
    rgb[:] = BG.astype(np.uint8)
    obj = np.zeros((100 * scale, 140 * scale), bool)
    obj[30 * scale:70 * scale, 40 * scale:100 * scale] = True
    rgb[obj] = FG.astype(np.uint8)
    return rgb, obj


def test_it_finds_the_outline_on_the_photos_edges_only_where_it_is():
    rgb, obj = _box_scene()
    assert edge_support(rgb, obj, 1.0) == 1.0
    wide = np.zeros_like(obj)
    wide[20:80, 30:110] = True  # 10 px out into the flat backdrop all round
    assert edge_support(rgb, wide, 1.0) == 0.0
    right = obj.copy()
    right[30:70, 100:130] = True  # the right side runs 30 px out into the backdrop
    assert 0.5 < edge_support(rgb, right, 1.0) < 0.85
    sig = quality_signals(right.astype(np.float32), right.astype(np.float32), rgb,
                          model_px=1.0)
    assert sig["edge_support"] == round(edge_support(rgb, right, 1.0), 4)


def test_it_measures_edge_support_alike_at_any_resolution():
    rgb, _ = _box_scene()
    right = np.zeros((100, 140), bool)
    right[30:70, 40:130] = True
    big_rgb, _ = _box_scene(4)
    big = cv2.resize(right.view(np.uint8), (560, 400), interpolation=cv2.INTER_NEAREST) > 0
    small_value = edge_support(rgb, right, 1.0)
    assert abs(edge_support(big_rgb, big, 4.0) - small_value) < 0.05


def test_it_ranks_an_outline_off_the_edges_riskier():
    base = {"parts": 1, "interior_alpha": 0.99, "edge_support": 0.95}
    assert risk_score({**base, "edge_support": 0.6}) > risk_score(base)
    # the core's opacity is offered to the fit and gets no weight (its thick half-transparent
    # parts are read by ``half_kept``): it never lowers the risk
    assert risk_score({**base, "interior_alpha": 0.7}) >= risk_score(base)
    # the parts' count is offered too and gets no weight since ``detached`` (2026-12-05): how
    # much of the product lies apart says more than how many pieces there are
    assert risk_score({**base, "parts": 3}) >= risk_score(base)
    assert risk_score({**base, "detached": 0.3}) > risk_score(base)
    assert risk_score({**base, "half_kept": 0.2}) > risk_score(base)
    # a cutout stored before these signals existed counts as no doubt, not as full doubt
    assert risk_score({"parts": 1}) == risk_score({"parts": 1, "interior_alpha": 1.0,
                                                   "edge_support": 1.0, "half_kept": 0.0,
                                                   "detached": 0.0})


def test_it_counts_soft_and_uncertain_pixels_at_their_bounds_as_numpy_does():
    # the counts run through OpenCV's inclusive range: the bounds themselves, as float32, and
    # their float32 neighbours must fall on the same side as numpy's strict comparisons
    values = []
    for bound in (0.05, 0.95, 0.1, 0.9):
        b = np.float32(bound)
        values += [np.nextafter(b, np.float32(0)), b, np.nextafter(b, np.float32(1))]
    values = np.array(values + [0.0, 0.5, 1.0], np.float32)
    alpha = np.zeros((60, 80), np.float32)
    alpha[20:40, 20:60] = 1.0
    alpha[10, :len(values)] = values
    prob = alpha.copy()
    prob[50, :len(values)] = values
    sig = quality_signals(prob, alpha, np.zeros((60, 80, 3), np.uint8))
    obj = (alpha >= 0.5).view(np.uint8)
    perimeter = int(obj.sum()) - int(cv2.erode(obj, np.ones((3, 3), np.uint8)).sum())
    soft = np.count_nonzero((alpha > 0.05) & (alpha < 0.95))
    uncertain = np.count_nonzero((prob > 0.1) & (prob < 0.9))
    assert soft == 9 and uncertain == 6  # the inner float32 neighbour of each bound counts
    assert sig["edge_softness_px"] == round(float(soft) / perimeter, 3)
    assert sig["uncertain_fraction"] == round(float(uncertain) / alpha.size, 4)


def test_it_reads_rim_core_and_parts_as_the_per_pixel_expressions_do():
    rng = np.random.default_rng(5)
    for trial in range(6):
        h, w = 90 + 7 * trial, 130 - 5 * trial
        alpha = np.zeros((h, w), np.float32)
        for _ in range(1 + trial):  # one part first, then several, some tiny
            cv2.circle(alpha, (int(rng.integers(0, w)), int(rng.integers(0, h))),
                       int(rng.choice([1, 4, 15, 30])), 1.0, -1)
        alpha = cv2.GaussianBlur(alpha, (0, 0), 1.5)
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        background = rng.uniform(0, 1, (h, w, 3)).astype(np.float32)
        sig = quality_signals(alpha, alpha, rgb, background)
        obj = alpha >= 0.5
        area = int(obj.sum())
        stats = cv2.connectedComponentsWithStats(obj.view(np.uint8), connectivity=8)[2]
        assert sig["fragment_count"] == int(
            np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= max(4, 0.001 * area)))
        inner2 = cv2.erode(obj.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
        rim, core = obj & ~inner2, obj & inner2
        if not rim.any():
            continue
        fg_mean = (rgb[core if core.any() else rim].astype(np.float32) / 255.0).mean(axis=0)
        rim_img = rgb[rim].astype(np.float32) / 255.0
        d_bg = np.linalg.norm(rim_img - background[rim], axis=1)
        d_fg = np.linalg.norm(rim_img - fg_mean, axis=1)
        assert sig["halo_risk"] == round(float(np.mean(d_bg < d_fg)), 4)
        ys, xs = np.flatnonzero(obj.any(1)), np.flatnonzero(obj.any(0))
        box = alpha[ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1]
        assert sig["confidence"] == round(float(np.abs(2 * box - 1).mean()), 4)


def test_it_averages_each_channel_as_numpy_does_bit_for_bit():
    # numpy's axis-0 mean is a running float32 sum per channel: large counts round at every
    # step, so a pairwise or float64 sum would differ in the last bits
    rng = np.random.default_rng(11)
    unit = np.arange(256, dtype=np.float32) / 255.0
    for n in (1, 2, 7, 1000, 300_001):
        px = rng.integers(0, 256, (n, 3), dtype=np.uint8)
        px[: n // 2] = rng.integers(0, 256, 3, dtype=np.uint8)  # long runs of one colour
        want = unit[px].mean(axis=0)
        got = unit_means(px)
        assert got.dtype == want.dtype == np.float32
        assert got.tobytes() == want.tobytes()


def see_through_scenes() -> dict[str, np.ndarray]:
    """Alpha of the same product cut three ways, with anti-aliased (soft) outlines: a solid
    bottle, the bottle with a half-transparent patch deep inside (a doubted cap or label, cut
    to 0.6 or to 0.3, below the object's own threshold) and a solid ring whose hole is real."""
    def soft(a: np.ndarray) -> np.ndarray:
        out: np.ndarray = cv2.GaussianBlur(a, (5, 5), 0)
        return out

    solid = np.zeros((300, 200), np.float32)
    solid[60:260, 60:140] = 1.0
    patched = solid.copy()
    patched[120:180, 80:120] = 0.6
    patched_low = solid.copy()
    patched_low[120:180, 80:120] = 0.3
    ring = np.zeros((300, 200), np.float32)
    cv2.circle(ring, (100, 150), 80, 1.0, -1)
    cv2.circle(ring, (100, 150), 35, 0.0, -1)  # a handle's loop: background seen through
    return {"solid": soft(solid), "patched": soft(patched), "patched_low": soft(patched_low),
            "ring": soft(ring)}


def test_it_finds_a_see_through_patch_deep_inside_a_solid_product_only():
    rgb = np.zeros((300, 200, 3), np.uint8)
    sig = {k: quality_signals(a, a, rgb) for k, a in see_through_scenes().items()}
    # the patch is 2400 of the outline's 16000 px, all of it 20 px inside (its blurred
    # border adds a little)
    assert 0.15 <= sig["patched"]["see_through"] <= 0.17
    assert 0.15 <= sig["patched_low"]["see_through"] <= 0.17
    # the outline's soft rim and the ring's hole (with its soft rim) never count
    assert sig["solid"]["see_through"] == 0.0 and sig["ring"]["see_through"] == 0.0
    # a see-through interior is a hint, not risk
    assert risk_score({**sig["solid"], "see_through": 0.5}) == risk_score(sig["solid"])


def test_it_calls_a_speck_of_the_frame_a_tiny_subject():
    # QA: a photo the product fills, cut down to a 9x10 px blob: not empty, but no product
    rgb = np.zeros((825, 1100, 3), np.uint8)
    alpha = np.zeros((825, 1100), np.float32)
    alpha[400:410, 500:509] = 1.0
    speck = quality_signals(alpha, alpha, rgb)
    assert speck["tiny_subject"] and not speck["empty"]
    # a tenth of the shorter side (82.5 px) is the line: 80 px is a speck, 90 px is not
    alpha[:] = 0
    alpha[300:380, 500:560] = 1.0
    assert quality_signals(alpha, alpha, rgb)["tiny_subject"]
    alpha[300:390, 500:560] = 1.0
    assert not quality_signals(alpha, alpha, rgb)["tiny_subject"]
    # a thin product across the frame (a pen) is long, not tiny, whatever its area
    alpha[:] = 0
    alpha[400:406, 100:1000] = 1.0
    assert not quality_signals(alpha, alpha, rgb)["tiny_subject"]
    # in a small photo, under 32 px is a speck even above a tenth of the side
    small = np.zeros((120, 160), np.float32)
    small[40:70, 50:80] = 1.0
    assert quality_signals(small, small, np.zeros((120, 160, 3), np.uint8))["tiny_subject"]
    # an empty cutout is empty, not tiny; the risk does not read the new signal
    none = np.zeros((120, 160), np.float32)
    assert not quality_signals(none, none, np.zeros((120, 160, 3), np.uint8))["tiny_subject"]
    assert risk_score(speck) == risk_score({k: v for k, v in speck.items()
                                            if k != "tiny_subject"})


def mushroom_scene(scale: int = 1) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A product (a cap on a stem) on a plain backdrop, ``scale`` times 600 x 400 px, and its
    alpha cut five ways with soft outlines: whole, the stem kept at 0.3 (a part the cut lost
    half of), the stem dropped, the cap's middle kept at 0.6 (a part kept half), and whole
    beside a half-transparent veil of the backdrop's own colour (a shadow or a fringe)."""
    s = 2 * scale
    blur = 5 * s + 1

    def soft(a: np.ndarray) -> np.ndarray:
        out: np.ndarray = cv2.GaussianBlur(a, (blur, blur), 0)
        return out

    rgb = np.empty((300 * s, 200 * s, 3), np.uint8)
    rgb[:] = BG.astype(np.uint8)
    cap, stem = np.s_[40 * s:120 * s, 40 * s:160 * s], np.s_[120 * s:260 * s, 90 * s:110 * s]
    rgb[cap] = FG.astype(np.uint8)
    rgb[stem] = FG.astype(np.uint8)
    whole = np.zeros((300 * s, 200 * s), np.float32)
    whole[cap] = 1.0
    whole[stem] = 1.0
    halved, dropped, faded, veiled = whole.copy(), whole.copy(), whole.copy(), whole.copy()
    halved[stem] = 0.3
    dropped[stem] = 0.0
    faded[60 * s:100 * s, 70 * s:130 * s] = 0.6
    veiled[150 * s:250 * s, 130 * s:180 * s] = 0.3  # beside the stem, on the backdrop
    return rgb, {"whole": soft(whole), "halved": soft(halved), "dropped": soft(dropped),
                 "faded": soft(faded), "veiled": soft(veiled)}


def test_it_finds_a_part_of_the_product_the_cut_kept_only_half_of():
    rgb, cuts = mushroom_scene()
    sig = {k: quality_signals(a, a, rgb) for k, a in cuts.items()}
    # the stem (4 x 2800 px) left at 0.3 beside the cap (4 x 9600 px, the product kept); its
    # blurred rim and the opening's corners take a little
    assert 0.25 <= sig["halved"]["half_kept"] <= 0.30
    # the cap's middle (4 x 2400 px) at 0.6 counts too, with the blurred step to the opaque
    # rim around it: of the kept product's 4 x 12400 px
    assert 0.18 <= sig["faded"]["half_kept"] <= 0.22
    # a soft outline, a part dropped outright and a veil of the backdrop's colour never count
    for name in ("whole", "dropped", "veiled"):
        assert sig[name]["half_kept"] == 0.0, name
    for name in ("halved", "faded"):
        assert risk_score(sig[name]) > risk_score(sig["whole"]) + 0.2, name


def test_it_measures_a_half_kept_part_alike_at_any_resolution():
    rgb, cuts = mushroom_scene()
    big_rgb, big_cuts = mushroom_scene(3)
    small = half_kept(rgb, cuts["halved"], 2.0)
    assert small > 0.2 and abs(half_kept(big_rgb, big_cuts["halved"], 6.0) - small) < 0.03


def _two_subjects(second: tuple[int, int], specks: int = 0) -> np.ndarray:
    """A 100 x 80 px product on a 300 x 400 px frame, a second subject of ``second`` px (a
    passer-by kept beside it) and ``specks`` 3 x 3 px specks of background kept."""
    alpha = np.zeros((300, 400), np.float32)
    alpha[100:200, 40:120] = 1.0
    if second[0]:
        alpha[60:60 + second[0], 250:250 + second[1]] = 1.0
    for i in range(specks):
        alpha[20 + 30 * i:23 + 30 * i, 380:383] = 1.0
    return alpha


def _painted(alpha: np.ndarray) -> np.ndarray:
    """The photo the cut follows: every kept part in the product's colour on the backdrop."""
    rgb = np.empty((*alpha.shape, 3), np.uint8)
    rgb[:] = BG.astype(np.uint8)
    rgb[alpha >= 0.5] = FG.astype(np.uint8)
    return rgb


def test_it_measures_the_share_of_the_product_kept_apart_from_its_largest_part():
    sig = {}
    for name, a in (("one", _two_subjects((0, 0))), ("two", _two_subjects((100, 40))),
                    ("specks", _two_subjects((0, 0), specks=5))):
        sig[name] = quality_signals(a, a, _painted(a), model_px=1.0)
    one, two, specks = sig["one"], sig["two"], sig["specks"]
    assert one["detached"] == 0.0
    # a second subject of half the product's area: a third of what was kept
    assert two["detached"] == round(4000 / 12000, 4)
    # five specks are six parts but barely a share: 45 px of 8045
    assert specks["fragment_count"] == 6 and specks["detached"] == round(45 / 8045, 4)
    assert risk_score(two) > risk_score(specks) + 0.2
    assert risk_score(specks) < risk_score(one) + 0.05
    # a drawn alpha (a retouch, an upload) reads the same share at full size
    a = _two_subjects((100, 40))
    drawn = drawn_signals((a * 255).astype(np.uint8), _painted(a))
    assert drawn["detached"] == two["detached"]
    assert drawn_signals(np.zeros((300, 400), np.uint8), _painted(a))["detached"] == 0.0

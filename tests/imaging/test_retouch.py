import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics, retouch_cut, retouch_detail
from cutouts.imaging.clicks import click_stroke, next_click, next_paint
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import (
    RED,
    RETOUCH_H,
    RETOUCH_W,
    banana_scene,
    busy_background,
    compose,
    feathered_scene,
    fur_flank_scene,
    handle_scene,
    pencil_scene,
    ring_scene,
    wrong_blob_scene,
)

H, W = RETOUCH_H, RETOUCH_W


def test_it_brings_back_a_missed_part_without_flooding_a_busy_background():
    rgb, prior, truth, banana = banana_scene()
    stroke = Stroke("keep", 6.0, ((190.0, 88.0), (240.0, 92.0), (290.0, 88.0)))
    res = retouch(rgb, prior, [stroke])
    got = res.alpha >= 128
    assert (got & banana).sum() / banana.sum() > 0.9
    far = cv2.distanceTransform((truth == 0).astype(np.uint8), cv2.DIST_L2, 5) > 6
    assert (got & far).sum() < 0.02 * banana.sum()  # no flood into the yellow blotches
    assert metrics.iou(res.alpha, truth) > metrics.iou(prior, truth) + 0.05
    assert res.rgba.shape == (H, W, 4) and np.array_equal(res.rgba[..., 3], res.alpha)


def ghost_scene():
    rgb = busy_background(1, yellowish=False)
    obj = np.zeros((H, W), np.uint8)
    cv2.circle(obj, (180, 190), 90, 255, -1)
    rgb[obj > 0] = RED
    ghost = np.zeros((H, W), np.uint8)
    cv2.ellipse(ghost, (390, 90), (45, 30), 20, 0, 360, 255, -1)  # a patch of background
    prior = np.maximum(obj, ghost)
    return rgb, prior, obj, ghost > 0


def test_it_removes_a_whole_ghost_blob_with_one_click():
    rgb, prior, obj, ghost = ghost_scene()
    res = retouch(rgb, prior, [click_stroke((390, 90), positive=False)])
    assert not (res.alpha[ghost] >= 128).any()
    assert np.array_equal(res.alpha[obj > 0], prior[obj > 0])  # the object is untouched


def test_it_never_changes_pixels_far_from_a_stroke():
    rgb, prior, truth, _ = banana_scene()
    stroke = Stroke("keep", 6.0, ((190.0, 88.0), (290.0, 88.0)))
    res = retouch(rgb, prior, [stroke, click_stroke((420, 300), positive=True)])
    yy, xx = np.mgrid[:H, :W]
    d1 = np.hypot(xx - np.clip(xx, 190, 290), yy - 88)
    d2 = np.hypot(xx - 420, yy - 300)
    far = (d1 > 150) & (d2 > 150)
    assert far.sum() > 0.2 * H * W
    assert np.array_equal(res.alpha[far], prior[far])
    assert (res.alpha != prior).any()


def test_it_never_lowers_iou_on_simulated_clicks():
    rgb, prior, truth, _ = banana_scene()
    _, _, _, ghost = ghost_scene()
    prior = prior.copy()
    prior[ghost] = 255  # a ghost as well as a missed part
    strokes, ious = [], [metrics.iou(prior, truth)]
    pred = prior >= 128
    for _ in range(5):
        click = next_click(pred, truth)
        if click is None:
            break
        strokes.append(click_stroke(*click))
        pred = retouch(rgb, prior, strokes).alpha >= 128
        ious.append(metrics.iou(pred.astype(np.uint8) * 255, truth))
    assert all(b >= a - 1e-9 for a, b in zip(ious, ious[1:], strict=False)), ious
    assert ious[-1] > 0.95, ious


def test_it_flips_only_the_clicks_own_disk_for_a_click_next_to_the_edge():
    # the model's edge is two pixels short of the true one along a whole side: the deepest
    # error is a sliver, and a click there must not spill across the true edge anywhere
    rgb = busy_background(2, yellowish=False)
    truth = np.zeros((H, W), np.uint8)
    cv2.rectangle(truth, (150, 100), (330, 280), 255, -1)
    rgb[truth > 0] = RED
    prior = np.zeros_like(truth)
    cv2.rectangle(prior, (150, 100), (328, 280), 255, -1)
    pred = prior >= 128
    (x, y), positive = next_click(pred, truth)
    assert positive and x in (329, 330)
    got = retouch(rgb, prior, [click_stroke((x, y), positive)]).alpha >= 128
    changed = got != pred
    assert changed[y, x] and not (pred & changed).any()  # a keep click only adds
    d_edge = cv2.distanceTransform((~pred).astype(np.uint8), cv2.DIST_L2, 5)[y, x]
    yy, xx = np.nonzero(changed)
    assert np.hypot(xx - x, yy - y).max() < d_edge
    assert metrics.iou(got.astype(np.uint8) * 255, truth) > metrics.iou(prior, truth)


def test_it_keeps_a_stroke_painted_along_a_thin_sliver_from_spilling_past_it():
    # the model's edge is 4 px short along the right side; beyond the true edge lies a
    # background area of the object's own colour. A stroke painted along the sliver used to
    # discount the prior ~27 px around it (the object's size), and the cut took 1 458 px of
    # that area, 13 px past the true edge: the stroke lowered IoU (0.978 -> 0.953; now 0.993)
    rng = np.random.default_rng(2)
    rgb = np.full((H, W, 3), (60, 90, 50), np.float32)
    truth = np.zeros((H, W), np.uint8)
    cv2.rectangle(truth, (150, 100), (330, 280), 255, -1)
    rgb[60:320, 331:420] = (186, 34, 44)
    rgb[truth > 0] = RED
    rgb = np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)
    prior = np.zeros_like(truth)
    cv2.rectangle(prior, (150, 100), (326, 280), 255, -1)
    prior = cv2.GaussianBlur(prior, (3, 3), 0)
    stroke = next_paint(prior >= 128, truth)
    assert stroke is not None and stroke.kind == "keep" and stroke.radius < 3
    got = retouch(rgb, prior, [stroke]).alpha
    spill = (got >= 128) & (truth < 128)
    assert spill.sum() < 20
    sliver = (truth > 128) & (prior < 128)
    assert (got[sliver] >= 128).mean() > 0.5  # the painted stretch of the sliver is back
    assert metrics.iou(got, truth) > metrics.iou(prior, truth)


def test_it_lets_a_thin_scribble_take_a_wide_missed_part():
    # a painted stroke's reach is its brush or its depth inside the region it is painted in,
    # whichever is larger: a 2 px scribble through the missed banana still brings it back
    rgb, prior, truth, banana = banana_scene()
    for radius in (2.0, 6.0):
        stroke = Stroke("keep", radius, ((190.0, 88.0), (240.0, 92.0), (290.0, 88.0)))
        got = retouch(rgb, prior, [stroke]).alpha >= 128
        assert (got & banana).sum() / banana.sum() > 0.9, radius


def test_it_spares_a_thin_bar_beside_a_removed_gap():
    # a remove click in one hole of the handle used to take the bar between the two holes
    # (and the frame) with it; the thin parts the click reaches only across an edge stay
    rgb, prior, truth, handle, holes = handle_scene()
    bar = np.zeros((H, W), bool)
    bar[66:200, 238:243] = True
    strokes, pred = [], prior >= 128
    for _ in range(4):
        click = next_click(pred, truth)
        assert click is not None and not click[1]  # the holes are the deepest errors
        strokes.append(click_stroke(*click))
        alpha = retouch(rgb, prior, strokes).alpha
        pred = alpha >= 128
        assert pred[bar].mean() > 0.98 and pred[handle].mean() > 0.98, len(strokes)
    assert pred[holes].mean() < 0.02  # the holes themselves go
    assert metrics.iou(alpha, truth) > 0.98


def test_it_spares_a_thin_bar_beside_a_gap_painted_away():
    # a reviewer drags the remove brush through one hole, then the other: the cut used to
    # take the bar and the frame beyond the brush (86 % of the bar went with the first one)
    rgb, prior, truth, handle, holes = handle_scene()
    bar = np.zeros((H, W), bool)
    bar[66:200, 238:243] = True
    # a zigzag down the middle of the left hole, the brush inside the hole
    left = ((196.0, 82.0), (216.0, 110.0), (196.0, 140.0), (216.0, 170.0), (206.0, 184.0))
    strokes = [Stroke("remove", 14.0, left),
               Stroke("remove", 14.0, tuple((W - x, y) for x, y in left))]
    for n in (1, 2):
        alpha = retouch(rgb, prior, strokes[:n]).alpha
        pred = alpha >= 128
        assert pred[bar].mean() > 0.98 and pred[handle].mean() > 0.98, n
    assert pred[holes].mean() < 0.02
    assert metrics.iou(alpha, truth) > 0.98


def wrong_ground_scene(seed=5):
    """A red box the model took with a large patch of the ground beside it: smoothly shaded
    earth (its colour drifts across it, no edge inside), about as big as the box and joined to
    it along a wide front, in front of a blue-grey backdrop."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W].astype(np.float32)
    rgb = np.zeros((H, W, 3), np.float32)
    rgb[:] = (70, 110, 150)
    box = np.zeros((H, W), np.uint8)
    cv2.rectangle(box, (60, 90), (250, 290), 255, -1)
    ground = np.zeros((H, W), np.uint8)
    cv2.ellipse(ground, (300, 200), (150, 130), 0, 0, 360, 255, -1)
    wrong = (ground > 0) & (box == 0)
    shade = np.stack([150 + 60 * (xx - 250) / 160, 120 + 30 * (yy - 130) / 140,
                      np.full_like(xx, 80)], -1)
    rgb[wrong] = shade[wrong]
    rgb = cv2.GaussianBlur(rgb, (0, 0), 1.5)
    rgb[box > 0] = RED
    rgb = cv2.GaussianBlur(np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8),
                           (3, 3), 0)
    prior = cv2.GaussianBlur(np.maximum(box, ground), (5, 5), 0)
    return rgb, prior, box, wrong


def test_it_takes_most_of_a_large_wrong_region_with_one_deep_remove_click():
    # the cutout is half a wrong region of smooth colour: its confident pixels are most of the
    # object's colour samples, and one remove click deep inside used to take under a third of
    # it (the patch that looked like the click); the smooth part of the cutout within the
    # click's depth now counts as background colour as well
    rgb, prior, truth, wrong = wrong_ground_scene()
    pred = prior >= 128
    click = next_click(pred, truth)
    assert click is not None and not click[1]
    got = retouch(rgb, prior, [click_stroke(*click)]).alpha
    assert (got[wrong] >= 128).mean() < 0.45  # more than half of it goes
    assert (got[truth > 0] >= 128).mean() > 0.999  # the box stays
    assert metrics.iou(got, truth) > metrics.iou(prior, truth) + 0.15


def wheel_scene(seed=0, tyre_w=14):
    """A blue body with a wheel: a tyre ring (``tyre_w`` px) of the colour of the dark patches
    all over the dirt around it, a hub and a fork, motion-blurred; the model filled the gap
    between tyre and hub (dirt seen through the wheel)."""
    rng = np.random.default_rng(seed)
    img = np.full((H, W, 3), (150, 118, 88), np.uint8)
    tyre_c = (95, 84, 72)
    cx, cy, r = 300, 240, 90
    for _ in range(1200):
        c = tyre_c if rng.random() < 0.7 else (130, 100, 74)
        x, y = int(rng.integers(W)), int(rng.integers(H))
        if (x - cx) ** 2 + (y - cy) ** 2 > (r + 5) ** 2:
            cv2.circle(img, (x, y), int(rng.integers(3, 10)), c, -1)
    body = np.zeros((H, W), np.uint8)
    cv2.rectangle(body, (40, 60), (300, 170), 255, -1)
    tyre = np.zeros((H, W), np.uint8)
    cv2.circle(tyre, (cx, cy), r, 255, -1)
    cv2.circle(tyre, (cx, cy), r - tyre_w, 0, -1)
    hub = np.zeros((H, W), np.uint8)
    cv2.circle(hub, (cx, cy), 16, 255, -1)
    fork = np.zeros((H, W), np.uint8)
    cv2.line(fork, (250, 150), (cx, cy), 255, 12)
    img[body > 0] = (40, 60, 170)
    img[tyre > 0] = tyre_c
    img[fork > 0] = (200, 200, 205)
    img[hub > 0] = (170, 170, 175)
    img = np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)
    img = cv2.GaussianBlur(img, (9, 9), 0)
    truth = ((body | tyre | hub | fork) > 0).astype(np.uint8) * 255
    disc = np.zeros((H, W), np.uint8)
    cv2.circle(disc, (cx, cy), r, 255, -1)
    prior = cv2.GaussianBlur(np.maximum(body | fork, disc), (5, 5), 0)
    return img, prior, truth, tyre > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_takes_the_gap_in_a_wheel_but_not_the_tyre_around_it(seed):
    # remove clicks in the gap between tyre and hub, 40+ px deep in the cutout (the filled
    # wheel): the depth widens the prior's discount over the tyre, whose colour the dirt's
    # dark patches share, and the second click took a sixth to a third of the tyre (dev photo
    # 132: tyre, hub and fork tip). Restricting the widening to the click's colour or its
    # smooth region passed this but lost whole wrong regions on soft-dev (GT23); now a click
    # whose depth widened its reach spares a strap up to a share of that depth wide, held by
    # the model and lying along the background (thin_depth, docs/review.md)
    rgb, prior, truth, tyre = wheel_scene(seed)
    clicks = [Stroke("remove", 5.0, ((255.0, 280.0),)), Stroke("remove", 5.0, ((350.0, 205.0),))]
    got = retouch(rgb, prior, clicks).alpha
    assert (got[tyre] >= 128).mean() > 0.98
    assert metrics.iou(got, truth) > metrics.iou(prior, truth) + 0.12  # the gap goes


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_it_takes_an_enclosed_gap_but_not_the_wide_tyre_ring_around_it(seed):
    # the UI's 24 px remove brush clicked twice in the gap of a wheel with a 20 px tyre: too
    # wide and short for the thin-strap rule, and the second click broke through the tyre's
    # upper arc to the dirt outside (15-19 % of the tyre lost; dev photo 132 the same). What
    # the click reaches across no stronger edge than the object does is a hole in the object,
    # so the ring the model held around it stays (_ring_spared)
    rgb, prior, truth, tyre = wheel_scene(seed, tyre_w=20)
    clicks = [Stroke("remove", 12.0, ((255.0, 280.0),)), Stroke("remove", 12.0, ((350.0, 205.0),))]
    got = retouch(rgb, prior, clicks).alpha
    assert (got[tyre] >= 128).mean() > 0.97
    assert metrics.iou(got, truth) > metrics.iou(prior, truth) + 0.2  # the gap still goes


@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_a_click_on_a_thin_thing_from_taking_the_large_one_it_lies_on(seed):
    # soft-dev GT25: a keep click on a pencil lying across a pale calculator took the whole
    # calculator (its colour is the cup's paper, and the prior is discounted around a click);
    # here the old code took 97 % of it. A click whose smooth part is thin now changes
    # nothing farther than spread_mult x max(its thickness, its radius) from that part
    rgb, prior, truth, calc, pencil = pencil_scene(seed)
    got = retouch(rgb, prior, [Stroke("keep", 5.0, ((270.0, 95.0),))]).alpha >= 128
    far = cv2.distanceTransform((~pencil).astype(np.uint8), cv2.DIST_L2, 5) > 25
    assert (got & calc & far).sum() < 0.01 * (calc & far).sum()
    assert (got & calc).sum() < 0.5 * calc.sum()
    assert (got & pencil).sum() > 0.6 * pencil.sum()
    # and the click leaves the cutout no worse than it was (at spread_mult 4: IoU .934 → .828,
    # a band of calculator either side of the pencil)
    assert metrics.iou(got.astype(np.uint8) * 255, truth) >= metrics.iou(prior, truth)


def test_it_takes_a_ghost_blob_of_mid_alpha_in_a_ring_with_one_remove_click():
    rgb, prior, ring, hole = ring_scene()
    inside = cv2.distanceTransform(hole.view(np.uint8), cv2.DIST_L2, 5) > 3
    assert (prior[inside] == 106).all()
    res = retouch(rgb, prior, [click_stroke((220, 180), positive=False)])
    assert (res.alpha[inside] == 0).mean() > 0.99
    solid = prior >= 128
    assert np.array_equal(res.alpha[solid], prior[solid])  # never the ring


def test_it_takes_the_whole_ghost_blob_with_a_remove_stroke_across_it():
    rgb, prior, ring, hole = ring_scene()
    inside = cv2.distanceTransform(hole.view(np.uint8), cv2.DIST_L2, 5) > 3
    res = retouch(rgb, prior, [Stroke("remove", 6.0, ((200.0, 170.0), (240.0, 190.0)))])
    assert (res.alpha[inside] == 0).mean() > 0.99
    solid = prior >= 128
    assert np.array_equal(res.alpha[solid], prior[solid])


def test_it_leaves_the_soft_rim_along_an_object_alone_on_a_remove_click_nearby():
    # the faint rim is thin: it is not a ghost blob, and it is the object's own edge
    rgb, prior, ring, hole = ring_scene()
    prior = cv2.GaussianBlur(ring.view(np.uint8) * 255, (5, 5), 0)
    res = retouch(rgb, prior, [click_stroke((420, 40), positive=False)])
    assert np.array_equal(res.alpha, prior)


def test_it_takes_the_soft_rim_of_what_a_remove_click_removed():
    rgb, prior, obj, apart, glued = wrong_blob_scene()
    res = retouch(rgb, prior, [click_stroke((380, 90), positive=False)])
    near = cv2.dilate(apart.view(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert ((prior > 0) & (prior < 128) & near).sum() > 300  # the rim was there
    assert not res.alpha[near].any()  # the blob went with its outline


def test_it_keeps_the_soft_edge_where_a_removed_region_bordered_the_kept_object():
    rgb, prior, obj, apart, glued = wrong_blob_scene()
    res = retouch(rgb, prior, [click_stroke((280, 270), positive=False)])
    assert (res.alpha[glued] < 128).mean() > 0.9  # the glued blob went
    d_glued = cv2.distanceTransform((~glued).view(np.uint8), cv2.DIST_L2, 5)
    rim = (prior > 0) & (prior < 128) & (d_glued <= 2)
    # its outline along the background went; the object's own edge beside it stayed
    d_obj = cv2.distanceTransform((~obj).view(np.uint8), cv2.DIST_L2, 5)
    assert not res.alpha[rim & (d_obj > 6)].any()
    own = (d_obj <= 3) & (d_glued > 6)
    assert np.array_equal(res.alpha[own], prior[own])


def test_it_solves_fractional_alpha_under_the_detail_brush():
    rgb, a = feathered_scene()
    hard = np.where(a >= 0.5, 255, 0).astype(np.uint8)
    h, w = a.shape
    # the feathered right edge of the box fades from x = w/2 + 200 to w/2 + 260
    x = w // 2 + 230
    stroke = Stroke("detail", 45.0, ((float(x), h / 3 + 10), (float(x), 2 * h / 3 - 10)))
    res = retouch(rgb, hard, [stroke])
    band = np.zeros((h, w), bool)
    band[h // 3 + 10:2 * h // 3 - 10, x - 25:x + 25] = True
    frac = (res.alpha[band] > 10) & (res.alpha[band] < 245)
    assert frac.mean() > 0.5
    truth = a[band]
    assert np.abs(res.alpha[band] / 255.0 - truth).mean() < 0.5 * np.abs(hard[band] / 255.0
                                                                         - truth).mean()
    # foreground colours were estimated in the band: the red product, not the white backdrop
    fg = res.rgba[..., :3][band & (res.alpha > 60)].astype(np.float32)
    assert fg[:, 0].mean() > fg[:, 1].mean() + 80



@pytest.mark.parametrize("seed", [0, 1])
def test_it_fades_translucent_fur_under_the_detail_brush_instead_of_cutting_it(seed):
    # the solve's known side is the cutout binarised at 128: the translucent fur on both sides
    # of a brush inside the flank counted as background, and the matte cut the flank to 0
    # (soft-dev GT15: 77 -> 34 where the truth is 158). A detail stroke may fade it, by at
    # most FADE_MAX per pixel
    rgb, model, a = fur_flank_scene(seed)
    stroke = Stroke("detail", 8.0, ((130.0, 30.0), (134.0, 100.0), (130.0, 170.0)))
    got = retouch(rgb, model, [stroke]).alpha
    brush = rasterise([stroke], model.shape) > 0
    step = got[brush].astype(int) - model[brush]
    assert step.min() >= -retouch_detail.FADE_MAX
    assert got[brush].mean() > 0.5 * model[brush].mean()  # was 0.1 / 90


def rim_scene(seed=0):
    """A wire-mesh cup's solid metal rim (16 px, just darker than the grey backdrop above it)
    on top of the mesh (bright wires over a dark inside); the cutout holds rim and mesh solid
    and is right."""
    rng = np.random.default_rng(seed)
    h, w = 160, 300
    back = np.array((150, 146, 160), np.float32)
    img = np.zeros((h, w, 3), np.float32)
    img[:] = back
    yy, xx = np.mgrid[:h, :w]
    rim = (yy >= 60) & (yy < 76)
    shade = 6 * np.sin((yy - 60) / 16 * np.pi)
    img[rim] = back + (-15, -15, -10) + shade[rim][:, None]
    mesh = yy >= 76
    wire = ((xx + yy) % 9 < 2) | ((xx - yy) % 9 < 2)
    img[mesh] = (70, 66, 80)
    img[mesh & wire] = (205, 205, 212)
    img = cv2.GaussianBlur(img + rng.normal(0, 1, img.shape), (3, 3), 0)
    model = np.where(yy >= 60, 255, 0).astype(np.uint8)
    return np.clip(img, 0, 255).astype(np.uint8), model, rim


@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_a_solid_rim_solid_under_a_detail_stroke_along_it(seed):
    # soft-dev GT25: a detail stroke along the mesh cup's solid rim turned the rim about half
    # transparent (mean 255 -> 193 under the brush; here 255 -> ~157, over a quarter of it
    # under 128): the matte reads the grey metal as the grey backdrop. Fine detail is thin or
    # structured; a wide, smooth slab of half alpha over what the cutout held solid may fade
    # by at most SLAB_DROP per stroke (_keep_slab)
    rgb, model, rim = rim_scene(seed)
    stroke = Stroke("detail", 20.0, tuple((float(x), 68.0) for x in range(30, 271, 10)))
    got = retouch(rgb, model, [stroke]).alpha
    assert (got[rim] < 128).mean() < 0.02  # the old code: 27-30 %
    assert got[rim].mean() > 190  # the old code: 156-159
    assert got[40:58, 40:260].mean() < 8  # the backdrop above stays out


def right_edge_scene(seed=0, strands=False):
    # a solid product left of x = 150 with a hard edge, on a textured backdrop (blotches of
    # about 3 px, +-30 levels); ``strands``: faint 1 px strands (alpha 0.35) leaving the edge
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    a = np.zeros((h, w), np.float32)
    a[:, :150] = 1.0
    if strands:
        for y in range(30, 210, 12):
            cv2.line(a, (150, y), (200, y + 20), 0.35, 1)

    def texture():
        t = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 3.0)
        return t / t.std()

    bg = np.array((190, 180, 170), np.float32) + 30 * texture()[..., None] * np.array(
        (1, 0.7, 0.2), np.float32)
    fg = np.array((120, 100, 90), np.float32) + 30 * texture()[..., None]
    rgb = np.clip(a[..., None] * fg + (1 - a[..., None]) * bg, 0, 255).astype(np.uint8)
    return rgb, a


def test_it_leaves_an_edge_the_cutout_already_has_right_under_the_detail_brush():
    # the cutout is exactly right (a hard edge); a detail stroke over it must not make it
    # worse: closed-form matting put a haze over the solid sides (mean 1.5/255 over the brush,
    # tail ~20/255), which the haze guard keeps out
    rgb, a = right_edge_scene()
    hard = np.where(a >= 0.5, 255, 0).astype(np.uint8)
    stroke = Stroke("detail", 25.0, ((160.0, 40.0), (160.0, 200.0)))
    got = retouch(rgb, hard, [stroke]).alpha
    brush = rasterise([stroke], a.shape) > 0
    change = np.abs(got.astype(int) - hard)
    assert change[brush].mean() < 1.0  # 0..255
    assert (change[brush] > 20).mean() < 0.005


def test_it_still_brings_back_faint_strands_beside_the_edge():
    # the haze guard keeps a solid pixel only where the matte is flat: faint strands (a ridge
    # of the matte) next to the edge are still written, and the stroke now pays in its brush
    # (the plain matte's haze over the backdrop made it worse: 1.02 x the cutout's error)
    rgb, a = right_edge_scene(strands=True)
    hard = np.where(a >= 0.5, 255, 0).astype(np.uint8)
    stroke = Stroke("detail", 25.0, ((160.0, 40.0), (160.0, 200.0)))
    got = retouch(rgb, hard, [stroke]).alpha / 255.0
    brush = rasterise([stroke], a.shape) > 0
    strand = brush & (a > 0.2) & (a < 0.5)
    assert got[strand].mean() > 0.1  # the plain matte: 0.113; a guard blind to ridges: 0.082
    assert np.abs(got - a)[brush].sum() < 0.9 * np.abs(hard / 255.0 - a)[brush].sum()


def test_it_keeps_an_earlier_detail_stroke_beyond_the_reach_of_one_that_joins_it():
    # two strokes along the feathered edge, the second continuing the first: their bands join,
    # and the joint solve moved the first stroke's far end (a stroke made its far neighbour
    # worse); now the second changes the joined band only within DETAIL_REACH of its brush
    rgb, a = feathered_scene()
    hard = np.where(a >= 0.5, 255, 0).astype(np.uint8)
    h, w = a.shape
    x = float(w // 2 + 230)
    first = Stroke("detail", 20.0, ((x, h / 3 + 5), (x - 10, h / 2)))
    second = Stroke("detail", 20.0, ((x - 10, h / 2 + 15), (x + 10, 2 * h / 3 - 5)))
    one = retouch(rgb, hard, [first]).alpha
    two = retouch(rgb, hard, [first, second]).alpha
    brush = lambda st: rasterise([st], (h, w)) > 0  # noqa: E731
    dist = cv2.distanceTransform((~brush(second)).astype(np.uint8), cv2.DIST_L2, 5)
    far = brush(first) & (dist > retouch_detail.DETAIL_REACH + 1)
    assert far.sum() > 500 and ((one[far] > 10) & (one[far] < 245)).any()
    assert np.array_equal(one[far], two[far])
    # near the junction the joined band is still solved together
    assert (one[brush(second)] != two[brush(second)]).any()


def test_it_returns_the_base_alpha_without_strokes_and_rejects_bad_input():
    rgb, prior, _, _ = banana_scene()
    assert np.array_equal(retouch(rgb, prior, []).alpha, prior)
    with pytest.raises(ValueError):
        retouch(rgb, prior[:10], [])
    with pytest.raises(ValueError):
        retouch(rgb.astype(np.float32), prior, [])


def test_it_gives_the_same_answer_from_the_prefix_cache():
    rgb, prior, _, _ = banana_scene()
    strokes = [Stroke("keep", 6.0, ((190.0, 88.0), (290.0, 88.0))),
               click_stroke((420, 300), positive=False)]
    retouch_cut._CACHE.clear()
    cold = retouch(rgb, prior, strokes).alpha
    retouch(rgb, prior, strokes[:1])  # the cache now holds the first stroke only
    warm = retouch(rgb, prior, strokes).alpha
    assert np.array_equal(cold, warm)


def test_it_works_at_a_reduced_resolution_for_large_photos():
    rgb, prior, truth, banana = banana_scene()
    big = cv2.resize(rgb, (W * 3, H * 3), interpolation=cv2.INTER_LINEAR)
    big_prior = cv2.resize(prior, (W * 3, H * 3), interpolation=cv2.INTER_LINEAR)
    big_truth = cv2.resize(truth, (W * 3, H * 3), interpolation=cv2.INTER_NEAREST)
    stroke = Stroke("keep", 18.0, ((570.0, 264.0), (720.0, 276.0), (870.0, 264.0)))
    res = retouch(big, big_prior, [stroke], work_max=600)
    assert metrics.iou(res.alpha, big_truth) > metrics.iou(big_prior, big_truth) + 0.05
    # pixels far from the stroke keep the base alpha exactly (soft edges included)
    assert np.array_equal(res.alpha[-200:, :], big_prior[-200:, :])


@pytest.mark.slow
def test_it_keeps_peak_memory_per_pixel_within_the_50_mp_budget():
    """A 12 MP proxy in a fresh process: the memory that retouch adds per pixel, times 50 MP,
    plus the interpreter, must stay under 1.5 GB."""
    code = textwrap.dedent("""
        import json, numpy as np, cv2
        from cutouts.imaging.retouch import retouch
        from cutouts.imaging.strokes import Stroke, rasterise
        h, w = 3000, 4000
        rgb = np.full((h, w, 3), 240, np.uint8)
        rgb[800:2200, 1200:2800] = (190, 30, 40)
        rgb[300:700, 3000:3600] = (180, 40, 50)
        alpha = np.zeros((h, w), np.uint8)
        alpha[800:2200, 1200:2600] = 255
        alpha[300:700, 3000:3600] = 255
        def hwm():
            with open('/proc/self/status') as fh:
                return next(int(l.split()[1]) for l in fh if l.startswith('VmHWM:')) / 1024
        with open('/proc/self/clear_refs', 'w') as fh:
            fh.write('5')
        base = hwm()
        strokes = [Stroke('keep', 30.0, ((2650.0, 1000.0), (2700.0, 2000.0))),
                   Stroke('remove', 40.0, ((3300.0, 500.0),))]
        res = retouch(rgb, alpha, strokes)
        print(json.dumps({'base': base, 'peak': hwm(),
                          'kept': bool((res.alpha[1500, 2700] == 255)),
                          'removed': bool((res.alpha[500, 3300] == 0))}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True)
    import json

    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["kept"] and r["removed"], r
    added_per_px = (r["peak"] - r["base"]) * 2**20 / 12e6
    inputs_per_px = 4  # the caller's RGB + alpha, already in "base"
    interpreter = r["base"] - inputs_per_px * 12e6 / 2**20
    at_50mp = interpreter + (inputs_per_px + added_per_px) * 50e6 / 2**20
    assert at_50mp < 1536, (at_50mp, r)


def test_it_reports_its_timings_through_the_stage_clock():
    from cutouts.imaging.clock import StageClock

    rgb, prior, _, _ = banana_scene()
    clock = StageClock()
    clock.lap("earlier")  # a stage timed before the retouch is not charged to it
    clock.wall["earlier"] = 100.0
    res = retouch(rgb, prior, [click_stroke((240, 90), positive=True)], clock=clock)
    assert list(clock.wall) == ["earlier", "segment", "compose", "detail", "rgba"]
    assert set(res.timings) == {"segment", "compose", "detail", "total"}
    assert res.timings["segment"] == clock.wall["segment"] > 0
    # the whole call: every lap since the retouch began, the earlier stage left out
    laps = sum(v for k, v in clock.wall.items() if k != "earlier")
    assert res.timings["total"] == pytest.approx(laps) and res.timings["total"] < 100
    # without a clock the timings still come from laps
    assert retouch(rgb, prior, []).timings["total"] > 0


def _hazy_scene(seed=0):
    """A red product (left, anti-aliased edge at x = 100) on a white sweep, and the haze a
    model leaves on the sweep right of it: alpha 1..31 over x 150..230, the photo there the
    sweep's own colours; a translucent red patch (alpha 20, the photo red there too) at
    y 150..190 beside the haze."""
    rng = np.random.default_rng(seed)
    h, w = 200, 260
    a = np.zeros((h, w), np.float32)
    a[:, :100] = 1.0
    a = cv2.GaussianBlur(a, (0, 0), 1.0)
    red = np.zeros((h, w), np.float32)
    red[150:190, 150:230] = 0.25
    rgb = compose(np.maximum(a, red))
    rgb = np.clip(rgb + rng.normal(0, 2, rgb.shape), 0, 255).astype(np.uint8)
    prior = np.round(a * 255).astype(np.uint8)
    haze = np.zeros((h, w), bool)
    haze[20:140, 150:230] = True
    prior[haze] = rng.integers(1, 32, int(haze.sum())).astype(np.uint8)
    prior[150:190, 150:230] = 20
    return rgb, prior, haze


def test_it_clears_faint_haze_under_a_painted_remove_strokes_whole_brush():
    # QA 2026-12-06 (dev 069): a remove stroke over haze at alpha 1..31 left it under the
    # outer half of its brush (the hard core only), though the status says to paint across it
    rgb, prior, haze = _hazy_scene()
    stroke = Stroke("remove", 12.0, ((190.0, 30.0), (190.0, 130.0)))
    res = retouch(rgb, prior, [stroke])
    brush = rasterise([stroke], prior.shape) > 0
    assert (prior[haze & brush] > 0).sum() > 2000
    assert not res.alpha[haze & brush].any()
    # beyond the brush, on the solid product and on the red patch nothing moved
    assert np.array_equal(res.alpha[~brush], prior[~brush])
    # a click is a spot, not coverage: it takes no haze too thin for a ghost blob
    click = retouch(rgb, prior, [click_stroke((190, 80), positive=False)])
    assert (click.alpha != prior).sum() <= 1  # its centre pixel, the click's hard core


def test_it_keeps_the_products_rim_and_faint_product_colours_under_a_remove_strokes_brush():
    rgb, prior, haze = _hazy_scene()
    # along the product's edge, its brush over the anti-aliased rim (alpha 1..127 within 3 px
    # of the solid product) but its hard core on the sweep
    along = Stroke("remove", 12.0, ((112.0, 20.0), (112.0, 130.0)))
    res = retouch(rgb, prior, [along])
    brush = rasterise([along], prior.shape) > 0
    rim = brush & (prior > 0) & (prior < 128) & (np.arange(prior.shape[1])[None, :] < 104)
    assert rim.sum() > 50
    assert np.array_equal(res.alpha[rim], prior[rim])
    assert np.array_equal(res.alpha[prior >= 128], prior[prior >= 128])
    # over the haze's edge and beside the red patch: the outer brush on the patch leaves it
    # (its colours are the product's), the haze under it goes
    beside = Stroke("remove", 12.0, ((160.0, 140.0), (220.0, 140.0)))
    res = retouch(rgb, prior, [beside])
    brush = rasterise([beside], prior.shape) > 0
    patch = np.zeros(prior.shape, bool)
    patch[150:190, 150:230] = True
    assert (brush & patch).sum() > 100
    core = rasterise([Stroke("remove", 6.0, beside.points)], prior.shape) > 0
    outer = brush & patch & ~cv2.dilate(core.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert outer.sum() > 50 and np.array_equal(res.alpha[outer], prior[outer])
    assert not res.alpha[haze & brush].any()

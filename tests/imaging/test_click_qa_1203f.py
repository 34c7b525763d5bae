"""QA 2026-12-03 (keep / remove clicks and strokes on faint alpha): a remove click on a ghost the
cutout holds below half alpha, the soft rim a remove click leaves, a keep stroke along a
half-alpha object. Scenes are built in memory."""

import cv2
import numpy as np

from cutouts.imaging.clicks import click_stroke
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

from .test_retouch import RED, YELLOW, H, W, busy_background


def ring_scene():
    """A red ring whose hole shows the background; the model filled the hole at alpha 106
    (seen as a grey ghost, not solid), and its edges are soft."""
    rgb = busy_background(2, yellowish=False)
    ring = np.zeros((H, W), np.uint8)
    cv2.circle(ring, (220, 180), 110, 255, -1)
    cv2.circle(ring, (220, 180), 55, 0, -1)
    rgb[ring > 0] = RED
    hole = np.zeros((H, W), np.uint8)
    cv2.circle(hole, (220, 180), 55, 255, -1)
    prior = np.maximum(cv2.GaussianBlur(ring, (5, 5), 0), (hole > 0).astype(np.uint8) * 106)
    return rgb, prior, ring > 0, hole > 0


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


def test_it_does_not_nick_the_ring_where_a_remove_stroke_across_the_ghost_ends_on_it():
    rgb, prior, ring, hole = ring_scene()
    stroke = Stroke("remove", 8.0, ((190.0, 170.0), (270.0, 205.0)))
    solid = prior >= 128
    assert ((rasterise([stroke], prior.shape) > 0) & solid).sum() > 50  # it ends on the ring
    res = retouch(rgb, prior, [stroke])
    assert np.array_equal(res.alpha[solid], prior[solid])
    inside = cv2.distanceTransform(hole.view(np.uint8), cv2.DIST_L2, 5) > 3
    assert (res.alpha[inside] == 0).mean() > 0.99


def test_it_leaves_the_soft_rim_along_an_object_alone_on_a_remove_click_nearby():
    # the faint rim is thin: it is not a ghost blob, and it is the object's own edge
    rgb, prior, ring, hole = ring_scene()
    prior = cv2.GaussianBlur(ring.view(np.uint8) * 255, (5, 5), 0)
    res = retouch(rgb, prior, [click_stroke((420, 40), positive=False)])
    assert np.array_equal(res.alpha, prior)


def wrong_blob_scene():
    """The object, and a wrong solid blob the model kept: one apart from the object, one
    glued to its side; every edge soft (about 2 px of 1..254)."""
    rgb = busy_background(4, yellowish=False)
    obj = np.zeros((H, W), np.uint8)
    cv2.circle(obj, (150, 200), 80, 255, -1)
    rgb[obj > 0] = RED
    apart = np.zeros((H, W), np.uint8)
    cv2.ellipse(apart, (380, 90), (50, 32), 15, 0, 360, 255, -1)
    glued = np.zeros((H, W), np.uint8)
    cv2.rectangle(glued, (225, 230), (300, 290), 255, -1)
    prior = cv2.GaussianBlur(np.maximum.reduce([obj, apart, glued]), (5, 5), 0)
    return rgb, prior, obj > 0, apart > 0, (glued > 0) & (obj == 0)


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


def half_banana_scene():
    """A small solid object and, apart from it, a long yellow banana on busy roses that the
    model holds at alpha 87 all over: seen, but not kept."""
    rgb = busy_background(6, yellowish=False)
    body = np.zeros((H, W), np.uint8)
    cv2.circle(body, (80, 80), 30, 255, -1)
    rgb[body > 0] = RED
    banana = np.zeros((H, W), np.uint8)
    cv2.ellipse(banana, (280, 250), (150, 55), 0, 0, 360, 255, -1)
    rgb[banana > 0] = YELLOW
    rgb = cv2.GaussianBlur(rgb, (3, 3), 0)
    prior = np.maximum(cv2.GaussianBlur(body, (5, 5), 0), (banana > 0).astype(np.uint8) * 87)
    return rgb, prior, banana > 0


def test_it_lets_a_keep_stroke_along_a_half_alpha_object_do_at_least_what_a_click_does():
    rgb, prior, banana = half_banana_scene()
    click = retouch(rgb, prior, [click_stroke((280, 250), positive=True)]).alpha >= 128
    # painted along the banana's lower side, as a reviewer traces it
    stroke = Stroke("keep", 4.0, ((160.0, 265.0), (230.0, 285.0), (330.0, 285.0),
                                  (400.0, 265.0)))
    got = retouch(rgb, prior, [stroke]).alpha >= 128
    assert (click & banana).sum() > 0.95 * banana.sum()
    # the old reach (object-sized, the object a small disk) made 89 % of it solid
    assert (got & banana).sum() >= 0.98 * (click & banana).sum()
    assert (got & ~banana).sum() <= (click & ~banana).sum() + 0.01 * banana.sum()

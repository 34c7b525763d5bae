"""The graph cut of keep/remove clicks and painted strokes (retouch_cut), through ``retouch``:
what a stroke may change beyond the part it lands on. Scenes are built in memory."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics, retouch_cut
from cutouts.imaging.clicks import click_stroke
from cutouts.imaging.retouch import DEFAULT, retouch, segment
from cutouts.imaging.retouch_cut import _label_medians, _nearest_lab, _spare_beyond
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import (
    RETOUCH_H,
    RETOUCH_W,
    YELLOW,
    drawn_scene,
    leg_past_board,
    pencil_scene,
    photographed,
    red_disk_on_roses,
    ring_scene,
    wrong_subject_scene,
)

H, W = RETOUCH_H, RETOUCH_W


@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_a_keep_click_on_a_thin_things_side_from_adding_the_wide_thing_behind_its_edge(
        seed):
    # soft-dev GT25: a keep click on a pencil's side added the pale keyboard it lies across
    # (11 000+ background px, SAD 14.1 -> 24): the click's smooth part is neither thin nor
    # thick enough for the spread limit, and the keyboard borders the pencil, so the gate let
    # it through. Here the old code took 97 % of the calculator (IoU .934 -> .62)
    rgb, prior, truth, calc, pencil = pencil_scene(seed)
    got = retouch(rgb, prior, [click_stroke((266, 94), positive=True)]).alpha >= 128
    assert (got & calc).sum() < 0.01 * calc.sum()
    assert (got & pencil).sum() > 0.15 * pencil.sum()
    assert metrics.iou(got.astype(np.uint8) * 255, truth) >= metrics.iou(prior, truth)


def test_it_does_not_nick_the_ring_where_a_remove_stroke_across_the_ghost_ends_on_it():
    rgb, prior, ring, hole = ring_scene()
    stroke = Stroke("remove", 8.0, ((190.0, 170.0), (270.0, 205.0)))
    solid = prior >= 128
    assert ((rasterise([stroke], prior.shape) > 0) & solid).sum() > 50  # it ends on the ring
    res = retouch(rgb, prior, [stroke])
    assert np.array_equal(res.alpha[solid], prior[solid])
    inside = cv2.distanceTransform(hole.view(np.uint8), cv2.DIST_L2, 5) > 3
    assert (res.alpha[inside] == 0).mean() > 0.99


def half_banana_scene():
    """A small solid object and, apart from it, a long yellow banana on busy roses that the
    model holds at alpha 87 all over: seen, but not kept."""
    rgb, body = red_disk_on_roses(6, (80, 80), 30)
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



def apart_scene(gap):
    """A red main subject and a separate solid piece of other colours (a wall clock the model
    held whole, soft edges both), ``gap`` px apart at their nearest."""
    rgb, obj = red_disk_on_roses(2, (300, 200), 100)
    piece = np.zeros((H, W), np.uint8)
    cv2.circle(piece, (140 - gap, 200), 60, 255, -1)
    rgb[piece > 0] = (225, 225, 215)
    cv2.circle(rgb, (140 - gap, 200), 45, (40, 40, 45), 3)  # a face with a ring
    prior = cv2.GaussianBlur(np.maximum(obj, piece), (5, 5), 0)
    return rgb, prior, obj > 0, piece > 0


def test_it_takes_a_whole_solid_piece_apart_from_the_subject_with_one_remove_click_near_its_edge():
    # soft-dev GT25: a remove click 23 px inside a wall clock beside the pencil cup (the clock
    # 83 px deep) took a disk, 0.3 % of the clock, where a click at its centre took all of it.
    # Here the old code took 4 % of the piece
    rgb, prior, obj, piece = apart_scene(gap=20)
    res = retouch(rgb, prior, [click_stroke((80, 220), positive=False)])
    assert not (res.alpha[piece] >= 128).any()
    assert (res.alpha[piece] > 0).sum() < 0.01 * piece.sum()  # its soft rim went with it
    assert np.array_equal(res.alpha[obj], prior[obj])  # the subject is untouched


def test_it_takes_not_the_part_a_subject_click_chose_whole_with_a_later_remove_click():
    # qa44r H1 (dev 015): the model held a sand mound and, apart from it, the smaller rider; a
    # subject click chose the rider, then a remove click in his wheel took him whole (IoU
    # .214 -> .000): the strokes after a subject click are cut on the list without it, where
    # the mound was still the largest piece and he "a solid piece apart from the main
    # subject". Here the big red disk is the wrong piece, the clock the subject
    rgb, prior, wrong, subject = apart_scene(gap=20)
    strokes = [Stroke("subject", 6.0, ((120.0, 200.0),)),
               click_stroke((80, 220), positive=False)]
    res = retouch(rgb, prior, strokes)
    assert (res.alpha[subject] >= 128).sum() > 0.9 * subject.sum()  # the old code: none
    assert not res.alpha[wrong].any()  # the subject click still clears the wrong piece
    # the remove click takes about what it takes of the subject held alone (398 px; 423 here)
    alone = retouch(rgb, np.where(wrong, 0, prior).astype(np.uint8), strokes[1:])
    held = subject & (prior >= 128)
    assert (held & (res.alpha < 128)).sum() < 1.25 * (held & (alone.alpha < 128)).sum()


def test_it_keeps_the_steps_cut_after_a_subject_click_apart_from_the_same_list_without_it(
        tmp_path):
    # subj45: the click reaches the cut beside the list (``subject``), not in it, so the
    # records of what each stroke did must tell the strokes after it from the same strokes
    # without it: here the click turns the remove click's whole-piece take into a disk
    from cutouts.imaging.step_store import StepStore

    rgb, prior8, _, _ = apart_scene(gap=20)
    prior = prior8.astype(np.float32) / 255.0
    click = Stroke("subject", 6.0, ((120.0, 200.0),))
    strokes = [click_stroke((80, 220), positive=False)]

    def cut(chose, steps=None, cold=True):
        if cold:
            retouch_cut._CACHE.clear()
        return segment(rgb, prior, strokes, DEFAULT, steps,
                       subject=(0, click) if chose else None)

    want = {True: cut(True), False: cut(False)}
    assert (want[True] != want[False]).any()
    for first in (True, False):  # the process's records of the other list
        cut(first)
        assert np.array_equal(cut(not first, cold=False), want[not first])
    store = StepStore(tmp_path, 1 << 30)
    for first in (True, False):  # the shared records of the other list
        cut(first, store)
        store.flush()
        assert np.array_equal(cut(not first, store), want[not first])
    # a subject click with no keep or remove stroke after it changes nothing
    assert np.array_equal(segment(rgb, prior, strokes, DEFAULT, subject=(1, click)),
                          want[False])


def test_it_takes_no_more_of_the_subject_with_a_remove_click_on_its_edge():
    rgb, prior, obj, piece = apart_scene(gap=20)
    res = retouch(rgb, prior, [click_stroke((300, 104), positive=False)])
    taken = obj & (prior >= 128) & (res.alpha < 128)
    assert taken.sum() < 60  # the edge click's disk, as before
    assert np.array_equal(res.alpha[piece], prior[piece])


def test_it_takes_a_whole_small_spike_sticking_out_of_the_edge_with_one_remove_click():
    # qa39b U2: a remove click 2 px from the backdrop on a 174 px spike of roses the cutout
    # kept past a blade's tip took its 13 px disk. The cut closes the spike: one click takes
    # it (here the old code left 218 of 263 px; what stays is its root in the disk's rim)
    rgb, obj = red_disk_on_roses(4, (150, 200), 80)
    spike = np.zeros_like(obj)
    cv2.rectangle(spike, (226, 196), (262, 203), 255, -1)
    spike = (spike > 0) & (obj == 0)
    prior = cv2.GaussianBlur(np.maximum(obj, spike.astype(np.uint8) * 255), (3, 3), 0)
    res = retouch(rgb, prior, [click_stroke((255, 200), positive=False)])
    assert (res.alpha[spike] >= 128).sum() < 0.2 * spike.sum()
    assert not ((res.alpha < 128) & (obj > 0) & (prior >= 128)).any()


def test_it_keeps_a_sliver_click_at_a_gaps_rim_from_filling_the_whole_gap():
    # dev 106024 (blob47): a radius-5 keep click 2 px from the cutout, on the sliver of
    # product it lost round a gap it rings, filled the whole gap (235 px, 194 of them
    # backdrop): the cut closed it and the blob rule took it whole. Here a product with a hole
    # of radius 9 showing a backdrop much like the product; the cutout's hole has radius 12 (a
    # 3 px ring of product lost). A click 2 px from the cutout on the ring says the error is
    # about 2 px deep, and the gap is 9 deep: the old rule put all 249 hole px in
    yy, xx = np.mgrid[:240, :320]
    r = np.hypot(yy - 120, xx - 160)
    body = np.zeros((240, 320), bool)
    body[60:180, 80:240] = True
    hole, cut_hole = r < 9, r < 12
    rgb, prior = drawn_scene(np.random.default_rng(5), (240, 320), (90, 150, 80),
                             [(body, (190, 30, 40)), (hole, (160, 60, 60))],
                             [(body, 255), (cut_hole, 0)])
    click = [click_stroke((170, 120), positive=True)]
    got = retouch(rgb, prior, click).alpha >= 128
    assert not (got & hole).any()
    # the click still adds its own disk of the ring
    assert (got & cut_hole & ~hole).sum() >= 5
    # and the gate is what spares the hole: without it the rule fills it
    old = retouch(rgb, prior, click, params=replace(DEFAULT, edge_blob_deep=0.0)).alpha >= 128
    assert (old & hole).sum() > 0.9 * hole.sum()


@pytest.mark.xfail(strict=True, reason="open (blob39): a region lying along the edge is only half "
                   "ringed by the side it goes to; filling those lowered the click protocol "
                   "(docs/review.md, Small blobs along the edge)")
def test_it_fills_a_small_cap_the_cutout_lost_along_its_edge_with_one_keep_click():
    # qa39b U2: a keep click 4 px from the cutout on the 221 px top of a fender it lost took
    # 45 px. Here a 334 px cap of the disk, clicked 4 px from the cutout: 45 px added. The sliver
    # rule edge40 measured fills it, but was not adopted: it made 3 of 20 dev photos worse
    # (docs/review.md, Slivers along the edge)
    rgb, obj = red_disk_on_roses(4, (150, 200), 80)
    cap = (obj > 0) & (np.arange(H)[:, None] < 128)
    prior = cv2.GaussianBlur(np.where(cap, 0, obj).astype(np.uint8), (3, 3), 0)
    res = retouch(rgb, prior, [click_stroke((150, 124), positive=True)])
    assert (res.alpha[cap] >= 128).sum() > 0.9 * cap.sum()
    assert not ((res.alpha >= 128) & (obj == 0)).any()


def test_it_takes_only_a_patch_of_a_part_a_hairline_gap_parts_from_the_subject():
    # a product's second part that the 128 line parts from the main one by 3 px is joined to
    # it: a remove click near its edge takes a patch, as before, not the part
    rgb, prior, obj, piece = apart_scene(gap=2)
    assert cv2.connectedComponents((prior >= 128).astype(np.uint8), connectivity=8)[0] == 3
    res = retouch(rgb, prior, [click_stroke((98, 220), positive=False)])
    assert (res.alpha[piece] >= 128).sum() > 0.95 * piece.sum()


def missed_banana_scene(seed):
    """A red object the model holds, and apart from it a long banana on busy roses (no yellow
    among them), shaded from dark to bright along its length, that the model missed (alpha
    0)."""
    rgb, body = red_disk_on_roses(seed, (90, 90), 80)
    banana = np.zeros((H, W), np.uint8)
    cv2.ellipse(banana, (290, 280), (170, 32), 0, 0, 360, 255, -1)
    shade = np.clip(0.55 + 0.5 * (np.arange(W) - 120) / 340.0, 0.4, 1.1)
    col = np.clip(np.array(YELLOW, np.float32) * shade[None, :, None], 0, 255)
    rgb[banana > 0] = np.broadcast_to(col, (H, W, 3))[banana > 0].astype(np.uint8)
    rgb = cv2.GaussianBlur(rgb, (3, 3), 0)
    return rgb, cv2.GaussianBlur(body, (5, 5), 0), banana > 0, body > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_more_of_a_large_missed_part_with_one_deep_keep_click(seed):
    # dev photo banana3: the cutout held the roses, and each keep click deep in the missed
    # banana took a patch around itself (the first 1 090 of 75 000 px): the banana's other
    # shades are background colour samples only. The engine took 48 % of it; with the
    # smooth part within the click's depth as object samples (tried 2026-12-05), 60 %; since
    # a keep click far from the cutout is cut again without the prior (_far_keep_recut,
    # QA31 M3), 99.9 % with 0.3 % of background
    rgb, prior, banana, body = missed_banana_scene(seed)
    got = retouch(rgb, prior, [click_stroke((290, 280), positive=True)]).alpha >= 128
    assert (got & banana).sum() > 0.55 * banana.sum()
    assert (got & ~banana & ~body).sum() < 0.01 * banana.sum()


def spotted_banana_scene(seed):
    """A small red disk the model holds in a corner and, far from it, a ripe banana it missed
    (alpha 0): wider than a keep click's influence window, yellow with brown spots, on busy
    roses (no yellow among them), as on dev photo banana3."""
    rng = np.random.default_rng(seed)
    rgb, body = red_disk_on_roses(seed, (420, 50), 30)
    banana = np.zeros((H, W), np.uint8)
    cv2.ellipse(banana, (230, 220), (210, 60), 0, 0, 360, 255, -1)
    rgb[banana > 0] = YELLOW
    spots = np.zeros((H, W), np.uint8)
    for _ in range(70):
        cv2.circle(spots, (int(rng.integers(30, 440)), int(rng.integers(170, 270))),
                   int(rng.integers(3, 9)), 255, -1)
    rgb[(spots & banana) > 0] = (95, 55, 25)
    rgb = cv2.GaussianBlur(rgb, (3, 3), 0)
    return rgb, cv2.GaussianBlur(body, (5, 5), 0), banana > 0, body > 0


@pytest.mark.xfail(strict=True, reason="open (missed42, grow43, grow44, 2026-12-07): a far keep "
                   "click's recut stops at its influence window's frame; cut over the whole photo, "
                   "or in a window grown while the recut runs on, and closed, it takes the banana, "
                   "but dev banana3's later strokes ended worse, with a shadow-fringe guard too "
                   "(docs/review.md, A keep click on a large missed object; A recut window that "
                   "grows while the object runs on; Its fringe is not a shadow)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_brings_back_a_missed_object_wider_than_its_window_with_one_keep_click(seed):
    # QA qa42r H1 (dev photo banana3): the cutout held a rose clump; three keep clicks on the
    # banana far from it each added a patch (5 122, 1 589, 545 px of ~68 000): the recut found
    # 30 000 px but ran to the frame of the click's window, which is narrower than the
    # banana, so the cut before it stood. Here (seed 0) the engine takes 10 % of the banana; a
    # window grown while the recut runs on 85 % (its spots left as holes), closed and filled
    # 99 %, with grow44's shadow guard 99 % too. Seed 1 (other spots and roses): the engine
    # 0.3 %, grown, closed and guarded 0.9 %: the grown window alone does not bring it back
    rgb, prior, banana, body = spotted_banana_scene(seed)
    got = retouch(rgb, prior, [click_stroke((100, 230), positive=True)]).alpha >= 128
    assert (got & banana).sum() > 0.9 * banana.sum()
    assert (got & ~banana & ~body).sum() < 0.01 * banana.sum()


def sweater_scene(seed):
    """A head the model holds and, below it, a dark knitted sweater it missed (alpha 0), down
    to the frame, on sky with dark green trees along the bottom: the sweater's colour is
    weakly the object's (the trees are near it), as on soft-dev GT23."""
    rng = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.float32)
    img[:] = (70, 110, 190)
    img[200:] = (30, 60, 30)
    head = np.zeros((H, W), np.uint8)
    cv2.circle(head, (240, 120), 80, 255, -1)
    sweater = np.zeros((H, W), np.uint8)
    cv2.ellipse(sweater, (240, 330), (150, 140), 0, 180, 360, 255, -1)
    cv2.rectangle(sweater, (90, 330), (390, H), 255, -1)
    sweater[head > 0] = 0
    img[head > 0] = (200, 130, 60)
    img[sweater > 0] = (55, 35, 28)
    img += rng.normal(0, 7, img.shape)  # the knit's texture
    rgb = np.clip(cv2.GaussianBlur(img, (3, 3), 0), 0, 255).astype(np.uint8)
    return rgb, cv2.GaussianBlur(head, (5, 5), 0), sweater > 0, head > 0


@pytest.mark.xfail(strict=True, reason="open: trusting the prior not at all over a deep keep "
                   "click's smooth part cost the click protocol's NoC@90 and the detail protocol's "
                   "Grad (docs/review.md, Keep clicks: the prior's pull over the clicked part)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_a_wide_part_of_a_missed_sweater_with_one_deep_keep_click(seed):
    # soft-dev GT23: a keep click deep in the bear's missed sweater added 57 of its 166 000 px:
    # the colour model says "object" there only weakly (+0.45 log-odds), and a tenth of the
    # prior's -3.5 outweighs it a few px from the click. The engine takes 0.2 % of this
    # sweater; with the prior not trusted over the click's smooth part (tried 2026-12-05), 27 %
    rgb, prior, sweater, head = sweater_scene(seed)
    got = retouch(rgb, prior, [click_stroke((240, 300), positive=True)]).alpha >= 128
    assert (got & sweater).sum() > 0.2 * sweater.sum()
    assert not (got & ~sweater & ~head).any()


def shoulder_scene(seed):
    """A head the model holds and, below it, a dark sweater it missed (alpha 0) whose shoulder
    has a paler rim (its fuzz against the rock), on pale rock with a dark bush of nearly the
    rim's colour against that shoulder, running to the photo's left edge (soft-dev GT23). The
    photo, the prior (uint8), the sweater's, the bush's and the head's masks."""
    rng = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.float32)
    img[:] = (70, 110, 190)
    img[150:] = (150, 150, 145)
    bush = np.zeros((H, W), np.uint8)
    cv2.ellipse(bush, (50, 300), (110, 40), 0, 0, 360, 255, -1)
    head = np.zeros((H, W), np.uint8)
    cv2.circle(head, (280, 110), 80, 255, -1)
    sweater = np.zeros((H, W), np.uint8)
    cv2.ellipse(sweater, (280, 330), (170, 120), 0, 180, 360, 255, -1)
    cv2.rectangle(sweater, (110, 330), (450, H), 255, -1)
    sweater[head > 0] = 0
    bush[sweater > 0] = 0
    img[head > 0] = (200, 130, 60)
    img[sweater > 0] = (55, 35, 28)
    inner = cv2.erode(sweater, np.ones((25, 25), np.uint8))
    img[(sweater > 0) & (inner == 0) & (np.arange(H)[:, None] < 330)] = (75, 62, 50)
    img[bush > 0] = (72, 64, 50)
    img += rng.normal(0, 7, img.shape)
    rgb = np.clip(cv2.GaussianBlur(img, (3, 3), 0), 0, 255).astype(np.uint8)
    return rgb, cv2.GaussianBlur(head, (5, 5), 0), sweater > 0, bush > 0, head > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_only_the_spot_of_a_far_keep_click_whose_cut_runs_to_the_photos_edge(seed):
    # qa43r (soft-dev GT23): a keep click on a dark sweater's shoulder added 10 030 px of dark
    # rock and bush up to the photo's left edge and 5 400 of sweater (SAD 171.85 -> 176.78),
    # told as "a separate piece the model had missed". The cutout does not reach the photo's
    # edge, so what runs to it is a backdrop stretch (_far_keep_recut); without the rule this
    # click adds 3 700-4 200 bush px and 1 260 of sweater
    rgb, prior, sweater, bush, head = shoulder_scene(seed)
    strokes = [click_stroke((118, 310), True)]
    old = retouch(rgb, prior, strokes, params=replace(DEFAULT, far_keep_edge=False))
    assert ((old.alpha >= 128) & bush).sum() > ((old.alpha >= 128) & sweater).sum()
    res = retouch(rgb, prior, strokes)
    got = res.alpha >= 128
    assert not (got & bush).any() and (got & sweater).any()
    assert res.far_keep == "spot"


@pytest.mark.xfail(strict=True, reason="open (piece43, 2026-12-07): what a far keep click adds "
                   "short of the photo's edge is not told from the product by colour or edges "
                   "(docs/review.md, A keep click far from the cutout)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_adds_no_bush_beside_the_shoulder_with_a_far_keep_click(seed):
    # the same scene, the click higher up the shoulder: what it adds stops short of the
    # photo's edge, and the engine adds 2 900-3 200 bush px with 1 600-1 700 of sweater
    rgb, prior, sweater, bush, head = shoulder_scene(seed)
    got = retouch(rgb, prior, [click_stroke((130, 290), True)]).alpha >= 128
    assert (got & bush).sum() < 0.1 * (got & sweater & ~head).sum()


def cropped_sofa_scene(seed):
    """The model held the wrong object (a pale round print on the wall, apart, in the middle
    right) and saw the product only faintly (alpha 40: a navy sofa running off the photo's
    left and bottom edges, on a pale wall above a wooden floor). The photo, the prior (uint8)
    and the sofa's mask (edge43, 2026-12-07)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.float32)
    img[:] = (205, 195, 180)
    img[260:] = (150, 120, 90)
    sofa = np.zeros((H, W), np.uint8)
    cv2.rectangle(sofa, (0, 170), (230, H), 255, -1)
    cv2.ellipse(sofa, (230, 240), (40, 70), 0, 0, 360, 255, -1)
    shade = np.linspace(0, 25, W, dtype=np.float32)[None, :, None]
    navy = np.float32((45, 55, 95)) - np.broadcast_to(shade, (H, W, 1))  # lit from the left
    img[sofa > 0] = navy[sofa > 0]
    logo = np.zeros((H, W), np.uint8)
    cv2.circle(logo, (360, 110), 45, 255, -1)
    img[logo > 0] = (235, 235, 235)
    cv2.putText(img, "LOGO", (322, 120), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (180, 40, 40), 2)
    rgb = photographed(img, rng)
    prior = np.maximum(logo, np.where(sofa > 0, 40, 0).astype(np.uint8))
    return rgb, cv2.GaussianBlur(prior, (5, 5), 0), sofa > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_it_brings_back_a_cropped_product_the_model_held_faintly_with_one_far_keep_click(seed):
    # the wrong subject with the product cropped by the photo: the cutout (the print) does not
    # reach the photo's edge and the click's first cut adds the sofa up to its left and bottom
    # edges. far_keep_edge kept the spot alone (IoU .001; 2026-12-07 piece43) though the model
    # held the sofa faintly: a product it saw, not backdrop (edge43)
    rgb, prior, sofa = cropped_sofa_scene(seed)
    res = retouch(rgb, prior, [click_stroke((120, 300), True)])
    assert metrics.iou(res.alpha, sofa.astype(np.uint8) * 255) > 0.8
    assert res.far_keep == "piece"


def test_it_lets_a_far_keep_clicks_cut_reach_the_photos_edge_only_where_the_model_saw_it():
    # one frame rule for a far keep click's first cut and its recut (_edge_seen; edge44,
    # 2026-12-07): what runs to the photo's edge stands when the cutout reaches that edge too
    # or the model held most of it faintly; else it is a backdrop stretch (GT23's rock)
    state = np.zeros((60, 80), bool)
    state[20:40, 30:50] = True  # held whole inside the picture
    add = np.zeros((30, 30), bool)
    add[10:, :12] = True  # an addition in the click's window, 240 px
    held = np.zeros(add.shape, bool)
    assert not retouch_cut._edge_seen(state, add, held, DEFAULT)
    held[12:] = True  # 216 of its 240 px held at 0.1 or more
    assert retouch_cut._edge_seen(state, add, held, DEFAULT)
    held[:21] = False  # 108 of 240: under half of it
    assert not retouch_cut._edge_seen(state, add, held, DEFAULT)
    cropped = state.copy()
    cropped[40:, 35:45] = True  # the cutout runs off the photo's bottom edge
    assert retouch_cut._edge_seen(cropped, add, held, DEFAULT)
    assert not retouch_cut._edge_seen(cropped, add, held, replace(DEFAULT, far_keep_cropped=0))


def fringe_scene(seed, h=300, w=400):
    """A pale solid body with a soft dark fringe (fur) on its right that the model holds at
    110, and beside the fringe a brown rock of nearly the fur's colour that it holds at 0."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (90, 120, 170)
    body = np.zeros((h, w), np.uint8)
    cv2.circle(body, (150, 150), 80, 255, -1)
    fur = np.zeros((h, w), np.uint8)
    cv2.circle(fur, (150, 150), 115, 255, -1)
    fur[body > 0] = 0
    fur[:, :150] = 0
    rock = np.zeros((h, w), np.uint8)
    cv2.rectangle(rock, (240, 120), (300, 180), 255, -1)
    rock[(fur > 0) | (body > 0)] = 0
    img[body > 0] = (225, 205, 160)
    img[fur > 0] = (150, 120, 90)
    img[rock > 0] = (140, 112, 84)
    img += rng.normal(0, 5, img.shape)
    rgb = np.clip(cv2.GaussianBlur(img, (5, 5), 0), 0, 255).astype(np.uint8)
    prior = np.where(body > 0, 255, np.where(fur > 0, 110, 0)).astype(np.uint8)
    return rgb, cv2.GaussianBlur(prior, (3, 3), 0), fur > 0, rock > 0


@pytest.mark.xfail(strict=True, reason="open: confining the click to the fringe cost the detail "
                   "protocol (docs/review.md, Keep clicks: reach and the fringe leak)")
@pytest.mark.parametrize("radius", [5.0, 12.0])
def test_it_adds_no_clear_background_beyond_a_soft_fringe_with_a_keep_click(radius):
    # soft-dev GT15: a keep click on the bunny's dark back fur (held at 60-120) made a brown
    # rock beside it solid (SAD 10.23 -> 11.26); here the engine adds 94 % of the rock (6 %
    # with the click confined to what the model held at 32+ and 2 px around it, tried
    # 2026-12-05)
    rgb, prior, fur, rock = fringe_scene(0)
    got = retouch(rgb, prior, [Stroke("keep", radius, ((250.0, 150.0),))]).alpha >= 128
    assert (got & fur).sum() > 0.95 * fur.sum()
    assert (got & rock).sum() < 0.15 * rock.sum()


PRODUCT_CLICK, BOX_CLICK = (110, 190), (380, 110)


def test_it_fixes_a_wrong_subject_with_one_keep_click_and_one_remove_click():
    # QA31 M3: the model held a striped box and dropped the product (dev photos 059, 031).
    # The old code brought back 76 % of the product with the keep click and left the box's
    # stripes, 30 % of it, with the remove click: the box was the largest piece, so not
    # "apart" from the subject (_apart_piece)
    rgb, prior, product, box = wrong_subject_scene()
    got = retouch(rgb, prior, [click_stroke(PRODUCT_CLICK, True),
                               click_stroke(BOX_CLICK, False)]).alpha >= 128
    assert (got & product).sum() >= 0.95 * product.sum()
    assert not (got & box).any()
    assert (got & ~product).sum() < 0.02 * product.sum()


def test_it_takes_the_wrong_subject_whole_with_the_remove_click_after_the_keep_click():
    # a remove click first (the box is then the whole cutout: it takes a part, as before),
    # the keep click, and a second remove click in what is left of the box takes it whole.
    # The old code: 51 % of the product, the box's stripes left
    rgb, prior, product, box = wrong_subject_scene()
    strokes = [click_stroke(BOX_CLICK, False), click_stroke(PRODUCT_CLICK, True)]
    got = retouch(rgb, prior, strokes).alpha >= 128
    assert (got & product).sum() >= 0.95 * product.sum()
    # a click in the middle of what is left of the box (its deepest pixel)
    depth = cv2.distanceTransform((got & box).view(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    left = (int(x), int(y))
    got = retouch(rgb, prior, [*strokes, click_stroke(left, False)]).alpha >= 128
    assert not (got & box).any() and (got & product).sum() >= 0.95 * product.sum()


def test_it_brings_back_the_dropped_product_with_one_keep_click_and_leaves_the_rest():
    rgb, prior, product, box = wrong_subject_scene()
    got = retouch(rgb, prior, [click_stroke(PRODUCT_CLICK, True)]).alpha >= 128
    assert (got & product).sum() >= 0.95 * product.sum()
    assert (got & box).sum() >= 0.99 * box.sum()  # a keep click removes nothing
    assert (got & ~product & ~box).sum() < 0.02 * product.sum()


def test_it_cuts_a_keep_click_near_the_cutout_as_before():
    # the prior-free recut is for an object dropped whole: a keep click 12 px from the box's
    # edge fixes that edge (dev photos 016, 053: a recut there added background)
    rgb, prior, _, _ = wrong_subject_scene()
    p = prior.astype(np.float32) / 255.0
    near = [click_stroke((472, 100), True)]
    assert (segment(rgb, p, near) == segment(rgb, p, near, replace(DEFAULT, far_keep_rounds=0))
            ).all()


def test_it_leaves_the_far_keep_word_to_the_preview(monkeypatch):
    # an Apply has no status line: far_keep=False (the worker's) leaves it empty, uncomputed
    rgb, prior, _, _ = wrong_subject_scene()
    strokes = [click_stroke(PRODUCT_CLICK, True)]
    asked = []
    real = retouch_cut.far_keep_outcome
    monkeypatch.setattr("cutouts.imaging.retouch.far_keep_outcome",
                        lambda *a, **k: asked.append(1) or real(*a, **k))
    applied = retouch(rgb, prior, strokes, far_keep=False)
    assert applied.far_keep == "" and asked == []
    previewed = retouch(rgb, prior, strokes)
    assert previewed.far_keep == "piece" and asked == [1]
    np.testing.assert_array_equal(applied.alpha, previewed.alpha)


def _brute_nearest_lab(q, ref, n=400):
    """_nearest_lab as it was (the pixels by 400 colours, in float32): the figures to match."""
    if len(ref) > n:
        ref = ref[np.linspace(0, len(ref) - 1, n).astype(int)]
    d = np.empty(len(q), np.float32)
    for i in range(0, len(q), 2048):
        d[i:i + 2048] = ((q[i:i + 2048, None, :] - ref[None, :, :]) ** 2).sum(axis=2).min(axis=1)
    return d


@pytest.mark.parametrize("seed", range(6))
def test_it_finds_each_colours_nearest_as_the_brute_force_did_bit_for_bit(seed):
    # the k-d tree only finds the row; the distance is the brute force's, whole numbers in
    # float32: the same bytes, ties (many equal colours, equidistant ones) included
    rng = np.random.default_rng(seed)
    lo = int(rng.integers(0, 200))
    q = rng.integers(lo, lo + 56, (int(rng.integers(1, 9000)), 3)).astype(np.float32)
    ref = rng.integers(0, 256, (int(rng.integers(1, 1500)), 3)).astype(np.float32)
    ref[: len(ref) // 3] = ref[0]  # repeated colours
    q[:10] = ref[0]  # ...and pixels of one of them
    got = _nearest_lab(q, ref)
    want = _brute_nearest_lab(q, ref)
    assert got.dtype == np.float32 and got.tobytes() == want.tobytes()
    assert (got[:10] == 0).all() and (got[10:] > 0).any()


def missed_bar_scene(seed):
    """A red disk the model holds and a yellow bar it missed, joined to the disk's side and
    running 200 px away from it (a handle)."""
    rgb, body = red_disk_on_roses(seed, (90, 200), 50)
    bar = np.zeros((H, W), np.uint8)
    cv2.rectangle(bar, (130, 185), (330, 215), 255, -1)
    rgb[bar > 0] = YELLOW
    rgb = cv2.GaussianBlur(rgb, (3, 3), 0)
    return rgb, cv2.GaussianBlur(body, (5, 5), 0), bar > 0


def test_it_says_what_a_keep_click_far_from_the_cutout_added():
    # QA31 M3 (hint38): a far keep click's recut may add a whole piece the model missed, or
    # nothing, and the reviewer was not told which; the editor's status line says it from
    # RetouchResult.far_keep (the preview's X-Retouch-Far-Keep header)
    rgb, prior, product, _ = wrong_subject_scene()
    res = retouch(rgb, prior, [click_stroke(PRODUCT_CLICK, True)])
    assert res.far_keep == "piece" and (res.alpha[product] >= 128).mean() >= 0.95
    # on the roses, far from the box: the photo shows no object there, only the spot is kept
    res = retouch(rgb, prior, [click_stroke((250, 320), True)])
    assert res.far_keep == "spot"
    assert 0 < ((res.alpha >= 128) & (prior < 128)).sum() < 200
    # the next preview (one more stroke, its list before it composed just above): as fresh
    assert retouch(rgb, prior, [click_stroke((250, 320), True),
                                click_stroke(PRODUCT_CLICK, True)]).far_keep == "piece"
    # a click near the box fixes its edge: no word; nor for the remove click after the far one
    assert retouch(rgb, prior, [click_stroke((472, 100), True)]).far_keep == ""
    assert retouch(rgb, prior, [click_stroke(PRODUCT_CLICK, True),
                                click_stroke(BOX_CLICK, False)]).far_keep == ""
    # a missed handle, clicked at its far end, is added up to the body it joins
    rgb, prior, bar = missed_bar_scene(0)
    res = retouch(rgb, prior, [click_stroke((300, 200), True)])
    assert res.far_keep == "joined" and (res.alpha[bar] >= 128).mean() > 0.9


def plant_scene(seed=0):
    """A potted plant the model cut as its pot alone: a terracotta pot at the bottom and a
    bush of green leaves above it, joined to its rim and running off the top of the picture,
    before a sky over brown hills. The photo, the prior (uint8) and the plant's mask."""
    rng = np.random.default_rng(seed)
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:] = (150, 120, 90)
    rgb[:120] = (140, 175, 205)
    pot = np.zeros((H, W), np.uint8)
    cv2.fillConvexPoly(pot, np.array([[190, 250], [330, 250], [310, H], [210, H]]), 255)
    rgb[pot > 0] = (170, 90, 50)
    bush = np.zeros((H, W), np.uint8)
    for _ in range(500):
        cx, cy = int(rng.integers(150, 370)), int(rng.integers(0, 250))
        cv2.ellipse(bush, (cx, cy), (int(rng.integers(14, 32)), int(rng.integers(5, 11))),
                    float(rng.integers(0, 180)), 0, 360, 255, -1)
    bush[pot > 0] = 0
    leaves = np.zeros((H, W, 3), np.uint8)
    for _ in range(900):
        g = int(rng.integers(90, 170))
        cv2.ellipse(leaves, (int(rng.integers(W)), int(rng.integers(H))),
                    (int(rng.integers(6, 16)), int(rng.integers(2, 5))),
                    float(rng.integers(0, 180)), 0, 360, (g // 2, g, g // 4), -1)
    rgb[bush > 0] = np.maximum(leaves[bush > 0], (30, 60, 15))
    rgb = cv2.GaussianBlur(rgb, (0, 0), 1.0)
    rgb = np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)
    prior = cv2.GaussianBlur(pot, (5, 5), 0)
    return rgb, prior, bush > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_it_brings_back_a_plant_that_runs_off_the_picture_with_one_far_keep_click(seed):
    # soft-dev GT13: the cutout held the pot alone; a keep click deep in the leaves, 330 px
    # from the pot, added 579 px: the recut ran to the window's frame, which there is the
    # photo's top edge the plant runs off, and was dropped as a stretch of background. The
    # pot stands on the bottom edge, so the cutout is cropped and the recut may reach the
    # photo's edge (_far_keep_recut, _cropped)
    rgb, prior, plant = plant_scene(seed)
    # a click on the leaves well above the pot (the deepest pixel of the bush's upper half)
    d = cv2.distanceTransform(plant.view(np.uint8), cv2.DIST_L2, 5)
    d[150:] = 0
    y, x = np.unravel_index(int(np.argmax(d)), d.shape)
    got = retouch(rgb, prior, [click_stroke((int(x), int(y)), True)]).alpha >= 128
    assert (got & plant).sum() >= 0.45 * plant.sum()  # was 0.1-2 %
    assert (got & ~plant & (prior < 128)).sum() < 0.1 * plant.sum()


def chain_scene(seed=0):
    """A child on a swing the model held whole inside the picture (a white and blue block)
    and the swing's dark chain it missed, running from her up off the top of the picture
    through a band of dark hedge along the top, above pale ground (dev photo 192). The photo,
    the prior (uint8), the chain's and the hedge's masks."""
    rng = np.random.default_rng(seed)
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:] = (175, 160, 130)
    leaves = np.zeros((H, W, 3), np.uint8)
    for _ in range(1500):
        g = int(rng.integers(50, 120))
        cv2.ellipse(leaves, (int(rng.integers(W)), int(rng.integers(H))),
                    (int(rng.integers(4, 10)), int(rng.integers(2, 5))),
                    float(rng.integers(0, 180)), 0, 360, (g // 2, g, g // 3), -1)
    hedge = np.zeros((H, W), bool)
    hedge[:110] = True
    rgb[hedge] = np.maximum(leaves[hedge], (20, 45, 20))
    body = np.zeros((H, W), np.uint8)
    cv2.rectangle(body, (200, 200), (290, 330), 255, -1)
    rgb[body > 0] = (235, 235, 240)
    rgb[(body > 0) & (np.arange(H)[:, None] > 270)] = (60, 90, 160)
    chain = np.zeros((H, W), np.uint8)
    cv2.line(chain, (245, 200), (235, 0), 255, 3)
    rgb[chain > 0] = (30, 30, 35)
    rgb = cv2.GaussianBlur(rgb, (0, 0), 1.0)
    rgb = np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)
    prior = cv2.GaussianBlur(body, (5, 5), 0)
    return rgb, prior, chain > 0, hedge & (chain == 0)


@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_a_far_keep_click_by_the_photos_edge_from_adding_the_background_there(seed):
    # dev 192 (radius 12): a keep click on the swing's chain by the top edge, once a recut
    # might run to the photo's edge, added the hedge there (IoU .885 -> .391); letting it on
    # this scene added 6 000-18 000 hedge px. The child is held whole inside the picture, so
    # the photo's edge stays a frame the recut must not reach (_cropped)
    rgb, prior, chain, hedge = chain_scene(seed)
    got = retouch(rgb, prior, [click_stroke((237, 40), True)]).alpha >= 128
    assert (got & hedge).sum() < 0.1 * chain.sum()
    assert (got & ~(prior >= 128)).sum() > 0  # the click added something: the chain


@pytest.mark.xfail(strict=True, reason="open: that the cutout reaches the photo's edge says "
                   "the product may run off it, not that the region a far keep click's recut "
                   "takes there does; the hedge by the top edge is added (docs/review.md, "
                   "2026-12-06)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_a_far_keep_click_by_the_edge_from_adding_the_background_when_the_photo_crops(
        seed):
    # the chain scene with the child's legs running off the bottom of the picture: the cutout
    # is cropped, so the recut may reach the top edge, and it takes the hedge (689 / 3 474 px)
    rgb, prior, chain, hedge = chain_scene(seed)
    prior, rgb = prior.copy(), rgb.copy()
    prior[330:, 200:291] = 255
    rgb[330:, 200:291] = (60, 90, 160)
    got = retouch(rgb, prior, [click_stroke((237, 40), True)]).alpha >= 128
    assert (got & hedge).sum() < 0.1 * chain.sum()


def test_it_spares_a_piece_a_keep_stroke_holds_from_a_remove_click():
    # the keep stroke names the subject: a remove click in the product after it does not take
    # the product whole, whichever piece is larger
    rgb, prior, product, box = wrong_subject_scene()
    got = retouch(rgb, prior, [click_stroke(PRODUCT_CLICK, True),
                               click_stroke((110, 150), False)]).alpha >= 128
    assert (got & product).sum() >= 0.5 * product.sum()
    assert (got & box).sum() >= 0.99 * box.sum()


def flag_scene(seed):
    """A white boat the model holds, with a tan stripe of nearly the sand's colour, on sand
    below a dark hillside; on its deck a pole and a blue flag it missed (alpha 0), with a
    pocket of sand between the flag, the pole and the deck (dev photo 016)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.float32)
    img[:] = (70, 80, 55)
    img[120:] = (190, 170, 130)
    boat = np.zeros((H, W), np.uint8)
    cv2.rectangle(boat, (60, 200), (340, H - 1), 255, -1)
    img[boat > 0] = (235, 235, 240)
    img[220:, 60:341] = (185, 160, 120)
    flag = np.zeros((H, W), np.uint8)
    cv2.rectangle(flag, (150, 120), (155, 199), 255, -1)
    cv2.rectangle(flag, (150, 120), (205, 150), 255, -1)
    img[flag > 0] = (60, 80, 170)
    img += rng.normal(0, 5, img.shape)
    rgb = np.clip(cv2.GaussianBlur(img, (3, 3), 0), 0, 255).astype(np.uint8)
    return rgb, cv2.GaussianBlur(boat, (5, 5), 0), flag > 0, boat > 0


@pytest.mark.xfail(strict=True, reason="open: sparing what looks like the background beside a "
                   "keep click's addition cost the click protocol missed parts (docs/review.md, "
                   "Keep clicks beside look-alike background)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_brings_a_missed_flag_with_a_keep_click_but_not_the_sand_beside_it(seed):
    # QA31 M2: a keep click on 016's flag added as much sand as flag. The window's colour
    # model calls sand object (the boat's stripe) and discounts the background's samples
    # near the click, so the cut takes the pocket too (362-372 px of sand here)
    rgb, prior, flag, boat = flag_scene(seed)
    got = retouch(rgb, prior, [click_stroke((185, 135), positive=True)]).alpha >= 128
    assert (got & flag).sum() > 0.9 * flag.sum()
    assert (got & ~flag & ~boat).sum() < 0.01 * flag.sum()


def rim_scene(seed):
    """A wheel's thin red rim on a grey-blue backdrop that turns, below the hub, into ground of
    nearly the rim's colour; the model holds the rim but lost its bottom in that ground (alpha
    0 there; after dev photo 214's sixth click)."""
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (110, 120, 150)
    img[150:] = (140, 70, 65)
    ring = np.zeros((h, w), np.uint8)
    cv2.circle(ring, (160, 100), 70, 255, 5)
    img[ring > 0] = (140, 60, 60)
    img += rng.normal(0, 5, img.shape)
    rgb = np.clip(cv2.GaussianBlur(img, (5, 5), 0), 0, 255).astype(np.uint8)
    prior = ring.copy()
    prior[160:] = 0
    return rgb, cv2.GaussianBlur(prior, (3, 3), 0), ring > 0


@pytest.mark.xfail(strict=True, reason="open: a keep click adds look-alike backdrop the model "
                   "held clear beyond its brush (click family C: 016#4, 214#6); no rule found: "
                   "sparing pieces wider than the click's radius lowered 13-14 dev photos' "
                   "missed parts and leaves this scene (docs/review.md, A keep click's "
                   "look-alike backdrop beyond its brush, keepclick48)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_brings_a_lost_rim_back_with_a_keep_click_but_not_the_ground_below_it(seed):
    # the click lies 38 px from the cutout (a far keep click, recut without the prior): it
    # brings the rim back and the ground of the rim's colour inside the wheel with it (690 px
    # past its brush); family C's clicks on the dev photos are nearer (4-27 px) but add the
    # same kind of slab
    rgb, prior, ring = rim_scene(seed)
    lost = ring & (prior < 128)
    st = click_stroke((160, 170), positive=True)
    got = retouch(rgb, prior, [st]).alpha >= 128
    beyond = cv2.distanceTransform((rasterise([st], ring.shape) == 0).view(np.uint8),
                                   cv2.DIST_L2, 5) > 2
    off_rim = cv2.distanceTransform((~ring).view(np.uint8), cv2.DIST_L2, 5) > 3
    assert (got & lost).sum() > 0.9 * lost.sum()
    assert (got & off_rim & beyond).sum() < 0.05 * lost.sum()


def pole_scene(joined, seed=0):
    """A dark body and, parted from it by a pole the cutout already lost (or joined to it by a
    4 px neck, ``joined``), the product's second part in a brown the dirt around it also has.
    A pale second pole stands in front of that part and runs down below it; the cutout holds
    the pole too, so pole and part are one blob."""
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    dirt = np.array([150, 115, 80])
    rgb = np.clip(dirt + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)
    body = np.zeros((h, w), bool)
    body[40:200, 170:300] = True
    part = np.zeros((h, w), bool)
    part[50:110, 50:150] = True
    if joined:
        part[60:64, 150:170] = True
    pole = np.zeros((h, w), bool)
    pole[70:220, 93:107] = True
    rgb[body] = (60, 40, 30)
    rgb[part] = dirt + (8, 2, -4)
    rgb[pole] = (225, 225, 220)
    rgb = cv2.GaussianBlur(rgb, (3, 3), 0)
    prior = np.where(body | part | pole, 255, 0).astype(np.uint8)
    return rgb, prior, body, part & ~pole, pole


@pytest.mark.parametrize("joined", [False, True])
def test_it_keeps_a_solid_part_a_thin_remove_stroke_reaches_only_through_the_spill_it_paints(
        joined):
    # dev photo 093 (QA H1): a stroke down a jump pole, wholly on the background, took the
    # horse's hindquarters it was joined to through the cutout's spill over the pole (3 114 px
    # up to 63 px past the brush): the whole-blob push (_marked_blobs, a part joined by a neck)
    # and the whole-blob take (_ghosts, a part apart) reached all of it. Before: all of the part
    rgb, prior, body, part, pole = pole_scene(joined)
    stroke = Stroke("remove", 5.0, ((100.0, 77.0), (100.0, 215.0)))
    brush = rasterise([stroke], prior.shape) > 0
    assert not (brush & part).any()  # wholly on the pole
    got = retouch(rgb, prior, [stroke]).alpha >= 128
    assert (got & part).sum() > 0.97 * part.sum()
    assert (got & body).sum() == body.sum()
    assert (got & pole & brush).sum() <= 0.01 * (pole & brush).sum()  # it takes what it paints


def leg_board_scene(seed=0):
    """A white body the cutout holds and its grey foreleg, most of which the cutout lost,
    running past a white board on a dark green backdrop. The board meets the leg through a
    blurred step and the model holds it faintly (alpha 50), as dev photo 053's sign board."""
    rgb, body, leg, board = leg_past_board(seed, leg_width=18, board=(40, 150, 100, 175),
                                           leg_rgb=(150, 146, 140), board_rgb=(235, 235, 232),
                                           blur=1.5)
    prior = np.zeros(leg.shape, np.uint8)
    prior[board] = 50
    prior[body] = 255
    prior[170:][leg[170:]] = 255
    truth = np.where(body | leg, 255, 0).astype(np.uint8)
    return rgb, prior, truth, board, leg


@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_a_keep_stroke_down_a_grey_leg_from_adding_the_white_board_beside_it(seed):
    # dev photo 053 (QA W1): a keep stroke inside a dog's grey foreleg added the white sign
    # board behind it (2 141 background px, up to 61 px past the brush; IoU .870 -> .850): the
    # board's white is the body's, and the blurred step from the leg is weaker than the board's
    # outline. Before: the whole board (IoU .896 -> .713)
    rgb, prior, truth, board, leg = leg_board_scene(seed)
    stroke = Stroke("keep", 6.0, tuple((190.0 - 60 * t, 85.0 + 125 * t)
                                       for t in np.linspace(0, 1, 20)))
    got = retouch(rgb, prior, [stroke]).alpha >= 128
    assert (got & board).sum() < 0.05 * board.sum()
    assert (got & leg).sum() > 0.95 * leg.sum()
    assert metrics.iou(got.astype(np.uint8) * 255, truth) > metrics.iou(prior, truth) + 0.05
    off = retouch(rgb, prior, [stroke], params=replace(DEFAULT, keep_beyond_tol=0.0)).alpha
    assert ((off >= 128) & board).sum() > 0.9 * board.sum()  # the rule is what stops it


@pytest.mark.xfail(strict=True, reason="measured, not adopted (docs/review.md, spill38): the "
                   "rules that stop it lose missed parts on the painted protocol")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_keeps_a_keep_stroke_partly_over_the_white_board_from_adding_the_board_beyond_its_brush(
        seed):
    # dev photo 053 (QA W1, the stroke left open by grow37): a keep stroke down the foreleg
    # whose core also covers the board (329 px there; here 129 of 1 251, the stroke 8 px off
    # the leg's centre) vouches for the board's white, and the cut adds the whole board (7 081
    # px beyond the brush, IoU .896 -> .703)
    rgb, prior, truth, board, leg = leg_board_scene(seed)
    stroke = Stroke("keep", 8.6, tuple((190.0 - 60 * t - 0.914 * 8, 85.0 + 125 * t - 0.406 * 8)
                                       for t in np.linspace(0, 1, 20)))
    brush = rasterise([stroke], prior.shape) > 0
    got = retouch(rgb, prior, [stroke]).alpha >= 128
    assert (got & board & ~brush).sum() < 0.1 * board.sum()
    assert (got & leg).sum() > 0.95 * leg.sum()
    assert metrics.iou(got.astype(np.uint8) * 255, truth) > metrics.iou(prior, truth)


def test_it_finds_each_pieces_median_as_np_median_does():
    # _unlike_beyond's one sorted pass over the labelled pieces: the same figures (the two middle
    # values' mean in their dtype) as np.median per piece, odd and even sizes alike
    rng = np.random.default_rng(0)
    m = (rng.random((60, 70)) < 0.55).astype(np.uint8)
    n, lbl = cv2.connectedComponents(m, connectivity=8)
    which = rng.random(n) < 0.8
    which[0] = False
    for values in (rng.random((60, 70)).astype(np.float32),
                   (rng.integers(0, 4, (60, 70)) / 4).astype(np.float32),
                   rng.integers(0, 256, (60, 70)).astype(np.uint8)):
        got = _label_medians(values, lbl, which)
        want = [float(np.median(values[lbl == i])) if which[i] else np.nan for i in range(n)]
        np.testing.assert_array_equal(got, want)
    assert len({int((lbl == i).sum()) % 2 for i in np.nonzero(which)[0]}) == 2


def test_it_spares_beyond_a_brush_without_touching_the_take_it_was_given():
    # _spare_beyond returns a new take (what stays joined to the brush once the spared part
    # is out); the guards read the take in turn, so the one passed in stays as it was (mend48)
    gated = np.zeros((10, 30), bool)
    gated[2:8, 0:30] = True
    seeds = np.zeros_like(gated)
    seeds[4, 0:3] = True
    spared = np.zeros_like(gated)
    spared[:, 10:12] = True
    before = gated.copy()
    out = _spare_beyond(gated, spared, seeds)
    assert np.array_equal(gated, before)
    assert out[2:8, 0:10].all() and not out[:, 10:].any()

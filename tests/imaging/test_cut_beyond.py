"""A click's cut stops at the edge between the thing it lands on and a neighbour it reaches
only through its own spot (retouch_cut._beyond_spared), through ``retouch``; a painted remove
stroke over the same post does not yet (a strict xfail), nor one down a many-coloured sign held
as much in doubt as the panel behind it (strict xfails, 2026-12-07 bus42). Scenes are built in
memory."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics
from cutouts.imaging.clicks import click_stroke
from cutouts.imaging.retouch import retouch
from cutouts.imaging.retouch_cut import DEFAULT
from cutouts.imaging.strokes import Stroke, rasterise


def post_scene(seed: int):
    """A bus (windows, a white panel, a blue band, a skirt) running out of the photo, and a
    pale sign post of nearly the panel's colour in front of it, from the road up across the
    blue band to the panel; blurred, as a real photo's edges are. The model holds the bus, the
    post where it is in front of the bus and the post's top above the road; the panel only at
    0.76 (dev photo 036)."""
    rng = np.random.default_rng(seed)
    h, w = 300, 400
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (96, 100, 92)
    bus = np.zeros((h, w), np.uint8)
    cv2.rectangle(bus, (40, 60), (w - 1, 200), 255, -1)
    img[60:110, 40:] = (30, 32, 40)
    img[110:140, 40:] = (222, 224, 226)
    img[140:170, 40:] = (40, 90, 170)
    img[170:201, 40:] = (60, 60, 66)
    img[60:201, 120:128] = (25, 25, 30)  # a door seam
    post = np.zeros((h, w), np.uint8)
    cv2.line(post, (150, 290), (215, 140), 255, 10)
    img[post > 0] = (205, 212, 222)
    img = cv2.GaussianBlur(img + rng.normal(0, 3, img.shape), (0, 0), 1.2)
    prior = np.zeros((h, w), np.float32)
    prior[bus > 0] = 0.95
    prior[110:140, 40:] = 0.76
    prior[(post > 0) & (bus > 0)] = 0.87
    prior[(post > 0) & (bus == 0) & (np.arange(h)[:, None] < 230)] = 0.8
    prior = (cv2.GaussianBlur(prior, (0, 0), 1.5) * 255).astype(np.uint8)
    truth = np.where((bus > 0) & (post == 0), 255, 0).astype(np.uint8)
    panel = np.zeros((h, w), bool)
    panel[112:138, 130:] = True
    panel &= post == 0
    return np.clip(img, 0, 255).astype(np.uint8), prior, truth, panel, post > 0


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("at", [(212, 146), (205, 160)])
def test_it_takes_a_post_in_front_of_the_product_but_not_the_panel_behind_it(seed, at):
    # dev 036, the editor's 8.6 px brush: a remove click on a sign post 3-6 px from the bus's
    # outline took 1 818 px of the sign and 2 318 of the bus's panel (IoU .8855 -> .8761). The
    # panel's colour is the post's, the prior is discounted round the click, and the blurred
    # edge between them is no weaker than the ones parting the panel from the rest of the bus
    rgb, prior, truth, panel, post = post_scene(seed)
    click = click_stroke(at, positive=False, radius=8.6)
    got = retouch(rgb, prior, [click]).alpha
    held_post = post & (prior >= 128)
    assert ((got < 128) & panel).sum() < 0.05 * panel.sum()
    assert ((got < 128) & held_post).sum() > 0.8 * held_post.sum()
    assert metrics.iou(got, truth) > metrics.iou(prior, truth)


def test_it_took_the_panel_behind_the_post_without_the_rule():
    # the scene holds the mechanism: with the rule off the click takes the panel whole
    rgb, prior, truth, panel, _ = post_scene(0)
    click = click_stroke((212, 146), positive=False, radius=8.6)
    got = retouch(rgb, prior, [click], params=replace(DEFAULT, beyond_mult=0.0)).alpha
    assert ((got < 128) & panel).sum() > 0.9 * panel.sum()
    assert metrics.iou(got, truth) < metrics.iou(prior, truth)


# sloppy remove strokes along the post (qa39b W3: the editor's 14.3 px brush ran 15 % past
# the post's ends), and thinner ones
POST_STROKES = [(((145.0, 302.0), (220.0, 128.0)), 14.3),
                (((150.0, 290.0), (215.0, 140.0)), 8.6),
                (((140.0, 300.0), (212.0, 138.0), (222.0, 120.0)), 6.0)]


def post_painted_over(points, radius):
    rgb, prior, _, panel, post = post_scene(0)
    stroke = Stroke("remove", radius, points)
    brush = rasterise([stroke], prior.shape) > 0
    got = retouch(rgb, prior, [stroke]).alpha
    held_post = post & (prior >= 128)
    return (((got < 128) & held_post).sum() / held_post.sum(),
            ((got < 128) & panel & ~brush).sum() / panel.sum())


@pytest.mark.parametrize("points,radius", POST_STROKES[:2])
def test_it_takes_a_post_painted_over_but_not_the_panel_far_beyond_the_brush(points, radius):
    # dev 036 (qa39b W3): a remove stroke r 14.3 over the sign post took 3 424 px of the bus's
    # panel, up to 104 px beyond the brush: the colour model calls the panel the post's colour
    # (2.8 Lab apart at the median), the prior (0.76 there) cannot hold it against a colour
    # term clipped at 4, and the click's _beyond_spared does not apply (the panel borders the
    # background along the bus's skirt). Before shape40 the stroke took 80-84 % of the panel
    # beyond its brush. Its brush spans the post whole (_spans_whole: the post's colour under
    # its line, the panel, blue band, skirt or road under both flanks), so beyond the brush
    # it takes only the post past its ends (_span_limited)
    post, panel = post_painted_over(points, radius)
    assert post > 0.95
    assert panel < 0.2


@pytest.mark.xfail(strict=True, reason="open (2026-12-06, beyond39; shape40): this thin stroke "
                   "runs off the post's middle, one flank on the post's edge, so its flanks "
                   "are never alike (_spans_whole) and it takes the panel; docs/review.md")
def test_it_takes_a_post_painted_over_by_a_stroke_leaving_it_but_not_the_panel_beyond():
    post, panel = post_painted_over(*POST_STROKES[2])
    assert post > 0.95
    assert panel < 0.2


def sign_scene(seed: int):
    """dev 036 (qa41b): a bus (windows, a white panel, a blue skirt) and in front of it a sign
    on a grey pole, its face a red rim round a white middle with a dark symbol, so no one
    colour runs under a brush painted down it (``_spans_whole`` reads nothing). The model holds
    the bus at .97 and its panel, and the sign in front of the bus, both at .74 (the photo's
    panel .70-.77, the sign's line .74 at its lower quartile)."""
    rng = np.random.default_rng(seed)
    h, w = 300, 400
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (96, 100, 92)
    bus = np.zeros((h, w), bool)
    bus[60:201, 40:] = True
    img[60:110, 40:] = (30, 32, 40)
    img[110:170, 40:] = (222, 224, 226)
    img[170:201, 40:] = (40, 90, 170)
    sign = np.zeros((h, w), bool)
    sign[100:280, 200:206] = True
    img[100:280, 200:206] = (120, 120, 126)
    sign[110:150, 193:213] = True
    img[110:150, 193:213] = (200, 30, 35)
    img[114:146, 197:209] = (230, 232, 234)
    img[124:136, 200:206] = (20, 20, 25)
    img = cv2.GaussianBlur(img + rng.normal(0, 3, img.shape), (0, 0), 1.2)
    prior = np.zeros((h, w), np.float32)
    prior[bus] = 0.97
    prior[110:170, 40:] = 0.74
    prior[sign & bus] = 0.74
    prior = (cv2.GaussianBlur(prior, (0, 0), 1.5) * 255).astype(np.uint8)
    truth = np.where(bus & ~sign, 255, 0).astype(np.uint8)
    panel = np.zeros((h, w), bool)
    panel[112:168, 40:] = True
    panel &= ~sign
    return np.clip(img, 0, 255).astype(np.uint8), prior, truth, panel, sign


def sign_painted_over(seed: int):
    """The share of the held sign a thin remove stroke (r 6) down it takes, of the panel it
    takes beyond its brush, and the IoU before and after."""
    rgb, prior, truth, panel, sign = sign_scene(seed)
    stroke = Stroke("remove", 6.0, ((203.0, 104.0), (203.0, 150.0), (203.0, 200.0)))
    brush = rasterise([stroke], prior.shape) > 0
    got = retouch(rgb, prior, [stroke]).alpha
    held_sign = sign & (prior >= 128)
    return (((got < 128) & held_sign).sum() / held_sign.sum(),
            ((got < 128) & panel & ~brush).sum() / panel.sum(),
            metrics.iou(prior, truth), metrics.iou(got, truth))


def test_it_takes_the_sign_under_a_thin_remove_stroke_down_it():
    # what the stroke is for: the sign's held px go (the panel's fate is the xfail below)
    for seed in (0, 1):
        assert sign_painted_over(seed)[0] > 0.95


@pytest.mark.xfail(strict=True, reason="open (2026-12-07, bus42; qa41b-036-thin-remove-sign-"
                   "cuts-bus-panel): the panel held like the sign gives the colour model no "
                   "object samples (only held > .9 give them), the sign's white is a backdrop "
                   "sample; "
                   "_doubt_beyond reads parts held 64/255 below the line, and the line is held "
                   ".74 itself. The rule tried cost soft-dev GT27's replay; object samples "
                   "from what is held .5-.9 beyond the reach (samples42) pass this scene but "
                   "cost 221, GT27 and 23 graze photos; docs/review.md")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_a_sign_held_in_doubt_but_not_the_panel_held_alike_beyond_the_brush(seed):
    # qa41b-036-thin-remove-sign-cuts-bus-panel: the bus's panel, held .70-.77 like the sign,
    # went to 0 as a block up to 118 px beyond the brush. Here 77 % of the panel goes beyond
    # the brush and IoU .976 -> .663 (2026-12-07); the tried rule left 128 of its 19 292 px
    # taken (IoU .991)
    sign, panel, before, after = sign_painted_over(seed)
    assert sign > 0.85
    assert panel < 0.02
    assert after > before


def far_panel_taken(seed: int) -> float:
    """The share of the panel lying more than 4 brush radii beyond the thin remove stroke down
    the sign that the stroke takes."""
    rgb, prior, truth, panel, sign = sign_scene(seed)
    stroke = Stroke("remove", 6.0, ((203.0, 104.0), (203.0, 150.0), (203.0, 200.0)))
    brush = rasterise([stroke], prior.shape) > 0
    dist = cv2.distanceTransform((~brush).view(np.uint8), cv2.DIST_L2, 5)
    far = panel & (dist > 4 * stroke.radius)
    got = retouch(rgb, prior, [stroke]).alpha
    return float(((got < 128) & far).sum() / far.sum())


@pytest.mark.xfail(strict=True, reason="open (2026-12-08, stroke48): sparing what the model "
                   "held beyond 4 radii of a thin remove brush whose take reaches past 6 "
                   "radii passes this scene and replay (036 3 783 -> 1 455 px worse beyond, "
                   "262 2 209 -> 1 596, none worse) but lowers 32 of 84 painted photos: the "
                   "protocol's thin strokes run through wrong regions held as this panel is, "
                   "and their far rest is the region's own; docs/review.md")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_panel_held_alike_far_beyond_a_thin_remove_brush(seed):
    # a thin brush (r 6) down the sign vouches for what lies near it, not for the panel held
    # like the sign up to 190 px to its side. Here 75 % of the panel beyond 4 radii of the
    # brush goes (2026-12-08); stroke48's _far_beyond left 0.3 % of it taken
    assert far_panel_taken(seed) < 0.05


def legs_scene(seed: int):
    """Two legs joined at the top (an inverted U) over grass; the model filled the narrow gap
    between them at 0.8. The gap's far end borders no background but through the click's
    spot, and the click reaches it along the smooth grass more easily than the legs do."""
    rng = np.random.default_rng(seed)
    h, w = 300, 400
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (90, 140, 70)
    obj = np.zeros((h, w), bool)
    obj[40:120, 120:280] = True
    obj[120:280, 120:190] = True
    obj[120:280, 210:280] = True
    img[obj] = (40, 50, 120)
    gap = np.zeros((h, w), bool)
    gap[120:280, 190:210] = True
    img = cv2.GaussianBlur(img + rng.normal(0, 4, img.shape), (0, 0), 1.2)
    prior = np.where(obj, 1.0, np.where(gap, 0.8, 0.0)).astype(np.float32)
    prior = (cv2.GaussianBlur(prior, (0, 0), 1.5) * 255).astype(np.uint8)
    return np.clip(img, 0, 255).astype(np.uint8), prior, np.where(obj, 255, 0).astype(
        np.uint8), gap


@pytest.mark.parametrize("radius", [5.0, 8.6, 12.0])
def test_it_still_takes_the_far_end_of_a_filled_gap_it_clicks_in(radius):
    rgb, prior, truth, gap = legs_scene(1)
    got = retouch(rgb, prior, [click_stroke((200, 200), positive=False,
                                            radius=radius)]).alpha
    far = gap & (np.arange(gap.shape[0])[:, None] < 200 - 3 * radius)
    assert far.sum() > 100
    assert ((got >= 128) & far).sum() < 0.02 * far.sum()
    assert metrics.iou(got, truth) > 0.99

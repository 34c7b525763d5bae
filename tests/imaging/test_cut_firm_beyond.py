"""A painted remove stroke over a wrong region the model held faintly, beside the object it held
firmly (qa42r, dev 271 and 093, 2026-12-07, remove43).

A remove r 10 on the ground under a dog's chin (held .15 on the line's median, its centre line
mostly outside the cutout) took 348 px of the chest held .8, up to 19 px beyond the brush: the
ground's colours are the fur's, so the colour guard keeps nothing. Beyond its brush such a
stroke now leaves what the model held a clear step (64/255) above the median of what its centre
line runs over (``retouch_cut._firm_beyond``, ``Params.paint_beyond_firm``).

Open (strict xfail): a remove r 6 along a hoof's shadow the model held at half (dev 093),
started on the hoof, runs mostly inside the cutout, where the rule reads nothing (the painted
protocol's strokes run there: without that condition 17 of 84 photos lost IoU), and still takes
the hoof beyond its brush (a keep click on the hoof after it now gives that back:
``test_cut_click_undoes.py``, own44). Open too (strict xfail; qa46b, dev memorial, scroll47):
the same stroke along a thinner shadow, its brush reaching past the cutout's edge onto the sand
(a remove on the bricks held .53 beside a stone scroll shaved the scroll's rim)."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.retouch_cut import DEFAULT, _firm_beyond, _past_edge
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import beyond_take, box_mask, drawn_scene

H, W = 160, 240
OFF = replace(DEFAULT, paint_beyond_firm=0)
SAND = (200, 170, 130)


def scene(seed: int, shadow_held: int, rows: tuple[int, int] = (92, 104)
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A white leg ending in a pale hoof of the sand's colour (a chest's fur the ground's), its
    dark shadow running right from the hoof over ``rows`` (12 px: as tall as the brush below).
    The cutout holds the leg and hoof at 255 and the shadow at ``shadow_held``. Returns rgb,
    alpha, the hoof and the shadow."""
    leg = box_mask((H, W), 10, 110, 60, 84)
    hoof = box_mask((H, W), 80, 110, 60, 84)
    shadow = box_mask((H, W), *rows, 84, 200)
    rgb, alpha = drawn_scene(
        np.random.default_rng(seed), (H, W), SAND,
        [(leg, (235, 235, 230)), (hoof, SAND), (shadow, (60, 55, 50))],
        [(shadow, shadow_held), (leg, 255)])
    return rgb, alpha, hoof, shadow


def stroke() -> Stroke:
    # r 6 along the shadow, starting on the hoof's right edge
    return Stroke("remove", 6.0, ((80.0, 98.0), (120.0, 98.0), (160.0, 98.0), (195.0, 98.0)))


def taken(seed: int, shadow_held: int, params=DEFAULT, rows: tuple[int, int] = (92, 104)
          ) -> tuple[int, int]:
    """Hoof px beyond the brush (more than 2 px) the stroke lowers below 128, and shadow px it
    clears (below 16)."""
    rgb, alpha, hoof, shadow = scene(seed, shadow_held, rows)
    st = stroke()
    brush = rasterise([st], (H, W)) > 0
    d = cv2.distanceTransform((~brush).astype(np.uint8), cv2.DIST_L2, 5)
    out = retouch(rgb, alpha, [st], params=params).alpha
    return int((hoof & (d > 2) & (out < 128)).sum()), int((shadow & (out < 16)).sum())


@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_a_shadow_held_faint_and_leaves_the_hoof_beyond_the_brush(seed):
    # the shadow held at 60 of 255: the stroke's centre line runs outside the cutout (dev 271's
    # remove under the chin ran 22 of its 31 px there)
    shadow_px = int(scene(seed, 60)[3].sum())
    assert taken(seed, 60, OFF)[0] > 400  # it went down the hoof (566 px)
    hoof, shadow = taken(seed, 60)
    assert shadow >= 0.9 * shadow_px
    assert hoof == 0


@pytest.mark.xfail(strict=True, reason="open (qa42r, dev 093): a remove stroke along a shadow "
                   "the cutout holds at half, starting on the hoof, runs mostly inside the "
                   "cutout, where _firm_beyond reads nothing (the painted protocol's strokes "
                   "run there): it still takes the hoof beyond its brush")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_hoof_beyond_a_stroke_along_a_shadow_held_at_half(seed):
    hoof, _ = taken(seed, 128)
    assert hoof <= 10  # 566 px went (2026-12-07)


@pytest.mark.xfail(strict=True, reason="open (qa46b, dev memorial; scroll47): a remove stroke "
                   "on a fringe the cutout holds at half beside a solid body, its brush reaching "
                   "past the cutout's edge, takes the body beyond the brush round the stroke's "
                   "end beside the clear backdrop, where _firm_rim leaves the flip to the cut "
                   "(v1-v3, which read there, lowered painted, replay or graze figures; "
                   "docs/review.md)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_hoof_beyond_a_stroke_over_a_thin_shadow_held_at_half(seed):
    # an 8 px shadow held at half, the r 6 brush reaching past it onto the sand on both sides
    # (dev memorial: a remove on the bricks held .53 beside a stone scroll shaved the scroll's
    # rim held .84-1.0, 86 px up to 18 px beyond the brush): the hoof the model held solid
    # beside it must stay, the shadow go (176 hoof px went, 2026-12-07)
    thin = (94, 102)
    shadow_px = int(scene(seed, 128, thin)[3].sum())
    hoof, shadow = taken(seed, 128, rows=thin)
    assert shadow >= 0.9 * shadow_px
    assert hoof <= 10


def held_piece(piece: float, line_held: float) -> tuple[np.ndarray, ...]:
    """A take of 40 x 56 px in a window of 40 x 60: a brush over its left 20 columns with the
    centre line along row 20, held at ``line_held`` and outside the cutout, and beyond the brush
    a 16 x 28 px part held at ``piece``, going on (held as much) past the take's right side."""
    gated, b, dist, line, held = beyond_take(piece, line_held, 60)
    cur = held >= 0.5
    cur[line] = False
    return gated, cur, b, dist, line, held


def firm_spared(gated: np.ndarray, cur: np.ndarray, b: np.ndarray, dist: np.ndarray,
                line: np.ndarray, held: np.ndarray) -> np.ndarray:
    # held_piece's brush spans rows 2-37 round its line on row 20: radius 18 (brush_radius
    # only counts for a line inside the cutout, where _firm_rim may read)
    return _firm_beyond(gated, cur, b, dist, line, held, 2, DEFAULT, brush_radius=18.0)


def test_it_spares_what_the_model_held_firmly_beyond_the_brush():
    gated, cur, b, dist, line, held = held_piece(1.0, 0.3)
    spared = firm_spared(gated, cur, b, dist, line, held)
    assert spared[12:28, 30:58].all()
    assert not (spared & ~(held > 0.8)).any()


@pytest.mark.parametrize("piece, line_held", [(0.5, 0.3), (0.9, 0.3), (1.0, 0.1)])
def test_it_spares_nothing_held_a_shade_firmer_nor_short_of_solid_nor_beside_the_backdrop(
        piece, line_held):
    # a shade above the line's hold; a ghost's firmer patch, short of solid (dev banana3: a
    # stroke across a rose clump held .47 on its line left patches held .75); a line on the
    # clear backdrop (a stroke grazing from outside: _graze_spared's): the cut decides
    gated, cur, b, dist, line, held = held_piece(piece, line_held)
    assert not firm_spared(gated, cur, b, dist, line, held).any()


def test_it_spares_no_part_thinner_than_a_body_nor_an_island():
    # a 3 px sliver beyond the brush (a rim), or a solid part the stroke takes whole, parted
    # from what it leaves: the cut decides
    gated, cur, b, dist, line, held = held_piece(0.0, 0.3)
    held[12:15, 30:60] = 1.0
    cur = held >= 0.5
    assert not firm_spared(gated, cur, b, dist, line, held).any()
    gated, cur, b, dist, line, held = held_piece(1.0, 0.3)
    gated[:, :] = True
    assert not firm_spared(gated, cur, b, dist, line, held).any()


def test_it_spares_nothing_beside_a_line_running_inside_the_cutout():
    # the painted protocol's strokes, inside the wrong region: the cut decides
    gated, cur, b, dist, line, held = held_piece(1.0, 0.3)
    cur[line] = True
    assert not firm_spared(gated, cur, b, dist, line, held).any()


# The rim guard (_firm_rim; qa46b, dev memorial, scroll47). A solid body (the scroll) the model
# held ~.8-1.0, textured, its rim held lower than its core; below it a fringe the cutout held in
# doubt (.67 next to the body, .5 on most of it) of the backdrop's colour (the memorial's bricks
# and mortar cost the cut little more than the scroll's grey stone: bricks of a colour of their
# own, tried here, keep the cut off the body with or without the guard, so they test nothing);
# below the fringe the backdrop, held clear. Rows: body 40-91, fringe 92-(low - 1).
# (and the sill guard, which reads a line held firmer than the rim's window at a floor of held
# object: off the rim guard, it would spare the body in its place; sill48)
RIM_OFF = replace(DEFAULT, paint_beyond_rim=False, paint_beyond_sill=0)
EDGE = 92


def rim_scene(seed: int, low: int = 104) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The textured body and the fringe below it down to row ``low`` (the clear backdrop from
    there), across the whole width (no backdrop beside the body: every px of it lies behind
    the fringe as seen from the backdrop). Returns rgb, alpha and the body."""
    body = box_mask((H, W), 40, EDGE, 0, W)
    fringe = box_mask((H, W), EDGE, low, 0, W)
    rgb, alpha = drawn_scene(np.random.default_rng(seed), (H, W), SAND,
                             [(body, SAND), (fringe, SAND)], [(fringe, 128), (body, 255)])
    # the stone's grain: blotches of +-30 levels, 1.5 px across
    grain = cv2.GaussianBlur(np.random.default_rng(seed + 100).normal(0, 30, (H, W)).astype(
        np.float32), (0, 0), 1.5)
    photo = rgb.astype(np.float32)
    photo[body] += grain[body, None]
    rows = np.arange(H, dtype=np.float32)[:, None].repeat(W, 1)
    held = alpha.astype(np.float32)
    # the body's rim held .8 at its edge, its core 1.0; the fringe .67 next to it, then .5
    held[body] = np.interp(rows, [EDGE - 16, EDGE], [255, 200])[body]
    held[fringe] = np.interp(rows, [EDGE, EDGE + 3], [170, 128])[fringe]
    return (np.clip(photo, 0, 255).astype(np.uint8), held.astype(np.uint8), body)


def rim_stroke(row: int = 100) -> Stroke:
    # r 6 along the fringe at ``row`` (4 px above the backdrop at low 104: the brush reaches
    # 2 px onto it, its line runs inside the cutout, as the memorial's ran 18 of 25 px)
    return Stroke("remove", 6.0, ((60.0, float(row)), (180.0, float(row))))


def rim_taken(seed: int, params=DEFAULT, low: int = 104) -> int:
    """Body px more than ``span_margin`` beyond the brush the stroke lowers below 128."""
    rgb, alpha, body = rim_scene(seed, low)
    st = rim_stroke()
    brush = rasterise([st], (H, W)) > 0
    d = cv2.distanceTransform((~brush).astype(np.uint8), cv2.DIST_L2, 5)
    out = retouch(rgb, alpha, [st], params=params).alpha
    return int((body & (d > params.span_margin) & (out < 128)).sum())


@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_a_body_behind_a_stroke_on_its_doubted_fringe(seed):
    # the memorial's remove on the bricks beside the scroll: the line in doubt (.5), the brush
    # reaching past the cutout's edge onto the clear backdrop, the body behind it held firmly
    # (36-94 px of it go without the guard, 2026-12-07; 6-12 with it)
    assert rim_taken(seed) <= 15


@pytest.mark.parametrize("seed", [0, 1])
def test_it_shaves_the_body_behind_a_stroke_on_its_fringe_without_the_rim_guard(seed):
    # the scene shows what the guard does: without it the cut shaves the body's rim along the
    # stroke (a straight chord across what the model held .8-1.0), with it half of that or less
    # stays (the memorial: 87 -> 46 px)
    without = rim_taken(seed, RIM_OFF)
    assert without >= 30
    assert rim_taken(seed) <= without // 2


@pytest.mark.parametrize("seed", [0, 1])
def test_it_spares_nothing_behind_a_stroke_whose_brush_stays_inside_the_cutout(seed):
    # the painted protocol's case: a stroke inside a wide wrong region held in doubt (the
    # fringe down to row 120: the line 20 px deep in the cutout, its brush on no clear
    # backdrop); the rule reads nothing and the cut decides, guard or not (it takes 53-95
    # px of the body, 2026-12-07)
    rgb, alpha, _ = rim_scene(seed, low=120)
    line = rasterise([replace(rim_stroke(), radius=0.5)], (H, W)) > 0
    assert not _past_edge(alpha >= 128, line, 6.0)
    assert _past_edge(rim_scene(seed)[1] >= 128, line, 6.0)  # the fringe to row 104: it does
    taken = rim_taken(seed, low=120)
    assert taken >= 30
    assert taken == rim_taken(seed, RIM_OFF, low=120)

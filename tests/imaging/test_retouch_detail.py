"""The detail brush (``retouch_detail``): the estimator gets its uint8 alpha, the saved matte is
held to the preview's, a backdrop structure is not pulled in, QA's cases of 2026-12-03 (A:
boxes cut into a field held near the translucent guard; B: the brush's outline and the
preview's grid drawn as a hard edge; C: a thin solid part the brush covers whole) and a crisp
product edge kept crisp, and a cached step keyed by everything it reads; synthetic scenes built
in memory."""

from __future__ import annotations

import functools
import sys

import cv2
import numpy as np
import pytest

from cutouts.imaging import matting, retouch_detail
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

from .scenes import feathered_scene, fur_flank_scene, strand_clump_scene


def test_it_estimates_detail_colours_from_the_uint8_alpha(monkeypatch):
    rgb, a = feathered_scene()
    hard = np.where(a >= 0.5, 255, 0).astype(np.uint8)
    h, w = a.shape
    x = w // 2 + 230  # on the feathered right edge of the box
    stroke = Stroke("detail", 45.0, ((float(x), h / 3 + 10), (float(x), 2 * h / 3 - 10)))
    calls = []
    real = matting.estimate_foreground

    def spy(rgb_w, alpha_w, **kw):
        calls.append((rgb_w.copy(), alpha_w.copy()))
        return real(rgb_w, alpha_w, **kw)

    monkeypatch.setattr(matting, "estimate_foreground", spy)
    res = retouch(rgb, hard, [stroke])
    assert calls and all(alpha.dtype == np.uint8 for _, alpha in calls)
    rgb_w, alpha_w = calls[0]
    assert ((alpha_w > 0) & (alpha_w < 255)).any()  # the solved band is fractional
    # the old float path (alpha / 255) gives the same colours, at most a rounding step apart
    as_float = real(rgb_w, alpha_w.astype(np.float32) / 255.0)
    diff = np.abs(real(rgb_w, alpha_w).astype(int) - as_float.astype(int))
    assert diff.max() <= 1
    assert res.alpha.dtype == np.uint8


def test_it_saves_at_full_size_the_detail_the_preview_showed():
    # the preview solves a detail stroke on the reduced arrays (long side 1024 px), Apply on the
    # full-size photo; closed-form matting is not scale-invariant, so the full-size matte came
    # out another matte, not a finer one: on soft-dev photos upscaled to 24 MP, 129-9 100 preview
    # pixels more than 64/255 apart (QA: a semi-opaque patch where the preview showed clear
    # background). Here a hair scene at twice its size (1728 x 1152): 144 such pixels before.

    from cutouts.imaging.retouch import reduce_for_cut

    from .scenes import H, W, hair_scene

    rgb0, a = hair_scene(0)
    rgb = cv2.resize(rgb0, (2 * W, 2 * H), interpolation=cv2.INTER_CUBIC)
    hard = cv2.GaussianBlur((a >= 0.5).astype(np.float32), (0, 0), 1.0)
    alpha = cv2.resize(np.clip(hard * 255 + 0.5, 0, 255).astype(np.uint8), (2 * W, 2 * H),
                       interpolation=cv2.INTER_LINEAR)
    cx, cy = W // 2, H // 2 + 40
    arc = np.linspace(np.pi * 1.15, np.pi * 1.85, 12)
    stroke = Stroke("detail", 60.0, tuple((float(2 * (cx + np.cos(t) * W / 6 * 1.15)),
                                           float(2 * (cy + np.sin(t) * H / 4 * 1.15)))
                                          for t in arc))
    rgb_p, alpha_p = reduce_for_cut(rgb), reduce_for_cut(alpha)
    scale = rgb_p.shape[1] / rgb.shape[1]
    shown = retouch(rgb_p, alpha_p, [stroke.scaled(scale)]).alpha.astype(np.float32)
    saved = retouch(rgb, alpha, [stroke]).alpha
    small = reduce_for_cut(saved).astype(np.float32)
    changed = (np.abs(shown - alpha_p) > 4) | (np.abs(small - alpha_p) > 4)
    assert np.abs(shown - alpha_p)[changed].mean() > 30  # the stroke did change the hair
    diff = np.abs(small - shown)
    assert int((diff > 64).sum()) == 0
    assert float(diff[changed].mean()) < 3.0  # was 9.8
    # the full-size matte keeps what is finer than a preview pixel: it is not the preview
    # upsampled
    up = cv2.resize(shown, (2 * W, 2 * H), interpolation=cv2.INTER_LINEAR)
    assert float(np.abs(saved - up)[cv2.resize(changed.view(np.uint8), (2 * W, 2 * H)) > 0]
                 .mean()) > 4.0


def _strands_before_a_pillar(seed):
    """Orange hair (solid right of x = 230, 1 px strands reaching left) in front of a wide
    smooth grey block (a bridge pillar) on a lighter sky; the cutout has the solid hair only."""

    h, w = 400, 400
    rng = np.random.default_rng(seed)
    back = np.empty((h, w, 3), np.float32)
    back[:] = (200, 206, 216)  # sky
    pillar = np.zeros((h, w), bool)
    pillar[130:270, 110:180] = True
    back[pillar] = (110, 112, 118)
    a = np.zeros((h, w), np.float32)
    a[:, 230:] = 1.0
    strands = np.zeros_like(a)
    for _ in range(30):
        y0, ang = rng.uniform(110, 290), rng.uniform(np.pi * 0.85, np.pi * 1.15)
        length = rng.uniform(100, 190)
        end = (int(230 + np.cos(ang) * length), int(y0 + np.sin(ang) * length))
        cv2.line(strands, (230, int(y0)), end, float(rng.uniform(0.6, 1.0)), 1, cv2.LINE_AA)
    a = np.maximum(a, strands)
    img = a[..., None] * np.float32((225, 95, 30)) + (1 - a[..., None]) * back
    rgb = np.clip(img + rng.normal(0, 1.0, img.shape) + 0.5, 0, 255).astype(np.uint8)
    cut = np.zeros((h, w), np.uint8)
    cut[:, 230:] = 255
    return rgb, a, cut, pillar


def test_a_detail_stroke_over_hair_does_not_pull_a_grey_structure_behind_it_in():
    # QA (soft-dev GT03): a 60 px detail stroke along stray strands pulled the grey bridge
    # pillar behind them into the cutout at alpha 60-130 (SAD 17.55 -> 19.9): the pillar is
    # neither the sky nor the hair, and the matte read its colour as part foreground. Here the
    # block rose from 0 to 0.32 everywhere before the guard (_lift_slab); the strands beside it
    # must still come back fractional.
    from cutouts.imaging.strokes import Stroke as S

    cols = np.arange(400)[None, :]
    for seed in range(2):
        rgb, a, cut, pillar = _strands_before_a_pillar(seed)
        stroke = S("detail", 70.0, ((165.0, 130.0), (165.0, 270.0)))  # over strands and block
        out = retouch(rgb, cut, [stroke]).alpha.astype(np.float32) / 255.0
        band = np.zeros_like(pillar)
        band[110:290, 100:230] = True
        block = band & pillar & (a < 0.02)
        assert float(out[block].mean()) < 0.1  # was 0.32
        assert float((out[block] > 0.25).mean()) < 0.1  # was all of it
        strands = band & ~pillar & (a >= 0.5) & (cols < 225)  # off the block, cutout 0 there
        got = out[strands]
        assert float(got.mean()) > 0.3  # truth ~0.8; the plain matte gives 0.39-0.45
        assert float(((got > 0.05) & (got < 0.95)).mean()) > 0.8
        assert float(np.abs(out - a)[band].mean()) < 0.12  # was 0.17


BACKDROP = (60, 90, 140)
PRODUCT = (220, 120, 40)


def _band_depth(stroke: Stroke, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    band = rasterise([stroke], shape) > 0
    return band, cv2.distanceTransform(band.view(np.uint8), cv2.DIST_L2, 5)


def test_it_keeps_a_field_held_near_the_translucent_guard_without_cutting_boxes() -> None:
    # QA case A (soft-dev GT27): the cutout held a wrong-subject field at ~63/255, the photo
    # there is the backdrop's colour, so the matte pulls it to 0; the fade guard decided per
    # pixel from the one ring pixel nearest to it whether that was held at >= 64, so rows held
    # at 62 went to 0 and rows at 66 stayed: straight-edged boxes
    h, w = 160, 160
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[...] = BACKDROP
    alpha = np.zeros((h, w), np.uint8)
    alpha[:, :110] = np.where(np.arange(h) % 6 < 3, 62, 66)[:, None].astype(np.uint8)
    alpha[:, 130:] = 255
    rgb[:, 130:] = PRODUCT
    stroke = Stroke("detail", 12.0, ((55.0, 20.0), (55.0, 140.0)))
    band, _ = _band_depth(stroke, (h, w))

    out = retouch(rgb, alpha, [stroke]).alpha

    old, new = alpha[band].astype(int), out[band].astype(int)
    # a held value near the guard's threshold moves little whichever side of it the ring is
    assert (new >= old - 16).all(), int((new < old - 16).sum())
    # and the rows change alike: no row is cut while its neighbour is kept
    drop = (alpha.astype(int) - out.astype(int)) * band
    rows = drop[20:140].sum(axis=1) / np.maximum(band[20:140].sum(axis=1), 1)
    assert float(np.abs(np.diff(rows)).max()) <= 8.0


def test_it_fades_a_detail_write_in_at_the_brush_outline() -> None:
    # QA case B: where the cutout outside the brush is fractional (here held at 200, known to
    # the solve as 255), the solved band is offset from it and the write showed the brush's
    # outline as a hard edge
    h, w = 200, 200
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[...] = PRODUCT
    rgb[:, :40] = BACKDROP
    alpha = np.full((h, w), 200, np.uint8)
    alpha[:, :40] = 0
    stroke = Stroke("detail", 12.0, ((120.0, 30.0), (120.0, 170.0)))
    band, depth = _band_depth(stroke, (h, w))

    out = retouch(rgb, alpha, [stroke]).alpha

    change = np.abs(out.astype(int) - alpha.astype(int))
    rim, deep = band & (depth <= 1.5), band & (depth > 6)
    assert change[deep].mean() > 20  # the stroke does change the band
    assert change[rim].mean() <= 0.5 * change[deep].mean()


def test_it_holds_a_big_photo_to_the_preview_without_drawing_its_grid_on_the_outline() -> None:
    # QA case B at 4800 px: the full-size band is held to the preview's result at the
    # preview's grid (_match_shown); a preview pixel on the band's outline also averages
    # pixels the stroke never writes, and pushing its whole difference into the band drew
    # the preview grid (4.7 px steps) along the stroke's diagonal edge
    h, w = 600, 3072  # reduced to 1024 px for the preview: 3 px per preview pixel
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[...] = PRODUCT
    rgb[:, :200] = BACKDROP
    alpha = np.full((h, w), 200, np.uint8)
    alpha[:, :200] = 0
    stroke = Stroke("detail", 30.0, ((1400.0, 60.0), (1700.0, 540.0)))
    band, depth = _band_depth(stroke, (h, w))

    out = retouch(rgb, alpha, [stroke]).alpha

    change = np.abs(out.astype(int) - alpha.astype(int))
    rim = band & (depth <= 1.5)
    assert change[band & (depth > 10)].mean() > 20
    assert int((change[rim] > 32).sum()) <= 0.01 * int(rim.sum())


def test_it_does_not_take_a_thin_solid_part_the_brush_covers_whole() -> None:
    # QA case C (dev 069): a 9 px brush down a flamingo's leg covers it side to side; the
    # matte's only foreground is the leg above the brush, and the shaded lower leg reads as
    # the backdrop (the old code took 558 px of it). The leg is held solid, with a clear edge
    # and a colour unlike the water on both sides: its pixels are known foreground
    # (retouch_detail._solid_part)
    h, w = 220, 120
    water = np.array((40, 55, 50), np.float32)
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[...] = water.astype(np.uint8)
    alpha = np.zeros((h, w), np.uint8)
    pink = np.array((230, 120, 140), np.float32)
    for y in range(10, 200):
        t = max(0.0, (y - 60) / 140)  # the leg darkens towards the water below y = 60
        rgb[y, 57:63] = (pink * (1 - 0.8 * t) + water * 0.8 * t).astype(np.uint8)
        alpha[y, 57:63] = 255
    stroke = Stroke("detail", 9.0, ((60.0, 50.0), (60.0, 200.0)))

    out = retouch(rgb, alpha, [stroke]).alpha

    assert int(((alpha >= 128) & (out < 128)).sum()) == 0


def _soft_leg(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 9 px leg, blurred as a photo's edge is, darkening towards the water below y = 60;
    the cutout holds it as the model does (solid core, a 2-3 px soft edge each side)."""
    rng = np.random.default_rng(seed)
    h, w = 240, 140
    water = np.array((40, 55, 50), np.float32)
    leg = np.array((200, 70, 90), np.float32)
    a = np.zeros((h, w), np.float32)
    cv2.line(a, (60, 10), (80, 225), 1.0, 9)
    a = cv2.GaussianBlur(a, (0, 0), 0.8)
    shade = np.clip((np.arange(h) - 60) / 160, 0, 1)[:, None, None]
    fg = leg * (1 - 0.6 * shade) + water * 0.6 * shade
    img = a[..., None] * fg + (1 - a[..., None]) * water + rng.normal(0, 3, (h, w, 3))
    held = cv2.GaussianBlur((a >= 0.5).astype(np.float32), (0, 0), 1.2) * 255 * 1.15
    return (np.clip(img, 0, 255).astype(np.uint8), np.clip(held, 0, 255).astype(np.uint8), a)


@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_a_soft_edged_thin_solid_part_no_worse(seed: int) -> None:
    # case C as a model's cutout has it: soft edges in the photo and the cutout; the brush
    # covers the leg side to side. The old code faded the shaded leg: the band's error rose
    # 93.6 -> 153.5 (seed 0) and 125.7 (seed 1); now 41
    rgb, held, a = _soft_leg(seed)
    stroke = Stroke("detail", 9.0, ((66.0, 60.0), (79.0, 215.0)))
    band = rasterise([stroke], held.shape) > 0

    out = retouch(rgb, held, [stroke]).alpha

    before = np.abs(held / 255.0 - a)[band].sum()
    assert np.abs(out / 255.0 - a)[band].sum() <= 0.8 * before
    assert (out[band & (a > 0.99)] >= 224).mean() > 0.95


@pytest.mark.parametrize("seed", [0, 1])
def test_it_still_fades_a_hair_clump_the_cutout_filled_solid(seed: int) -> None:
    # the solid-part rule must not take a clump of strands the model filled solid for a solid
    # part: the sky between the strands is held at 255 as well, and its colour is the
    # backdrop's, so the clump is not solid and the matte still brings the gaps down
    rgb, a, held = strand_clump_scene(seed, (200, 140), solid_to=50, strands=range(50, 66, 3),
                                      jitter=3, strength=0.9, held_to=68)
    stroke = Stroke("detail", 10.0, ((60.0, 20.0), (60.0, 180.0)))
    band = rasterise([stroke], held.shape) > 0

    out = retouch(rgb, held, [stroke]).alpha

    gaps = band & (a < 0.05) & (held >= 250)
    assert out[gaps].mean() < 0.5 * 255
    assert np.abs(out / 255.0 - a)[band].sum() < 0.5 * np.abs(held / 255.0 - a)[band].sum()


def _crisp_edge_scene(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A flat dark product left of a slanted edge that is a one-pixel step in the photo, on a
    light backdrop with a blotchy texture (Gaussian noise blurred 1.5 px, 20 levels)."""
    rng = np.random.default_rng(seed)
    h, w = 160, 160
    yy, xx = np.mgrid[:h, :w]
    a = (xx < 78 + 0.15 * (yy - 80)).astype(np.float32)
    blot = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.5)
    back = np.float32((200, 196, 188)) + (blot * (20.0 / blot.std()))[..., None]
    img = a[..., None] * np.float32((35, 32, 30)) + (1 - a[..., None]) * back
    rgb = np.clip(img + rng.normal(0, 2, (h, w, 3)) + 0.5, 0, 255).astype(np.uint8)
    return rgb, a


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_keeps_a_crisp_product_edge_crisp_under_a_detail_stroke(seed: int) -> None:
    # QA (dev photos): a detail stroke along a solid product's hard edge the cutout already had
    # right softened it; the matte read the backdrop's texture beside the edge as a mix. Here
    # the old code wrote 36-121 band pixels at 25-230/255 and moved the pixels more than 2 px
    # from the edge by 6.8-17.3 (summed, 0..1); the edge is a clean step, so the solve's
    # unknown band narrows to it (retouch_detail._crisp_edge)
    rgb, a = _crisp_edge_scene(seed)
    cut = (a * 255).astype(np.uint8)
    stroke = Stroke("detail", 10.0, ((66.0, 15.0), (87.0, 145.0)))
    band = rasterise([stroke], cut.shape) > 0
    edge = cv2.dilate(cut, np.ones((3, 3), np.uint8)) != cv2.erode(cut, np.ones((3, 3), np.uint8))
    far = band & (cv2.distanceTransform((~edge).view(np.uint8), cv2.DIST_L2, 5) > 2)

    out = retouch(rgb, cut, [stroke]).alpha

    assert int(((out >= 128) != (a >= 0.5))[band].sum()) == 0
    assert int(((out > 25) & (out < 230))[band].sum()) <= 30
    assert float(np.abs(out / 255.0 - a)[far].sum()) <= 4.0


@pytest.mark.parametrize("seed", [0, 1])
def test_it_still_brings_back_strands_beyond_a_crisp_hair_edge(seed: int) -> None:
    # the crisp-edge rule must not pin the backdrop beside a hair edge: flat hair and flat sky
    # make a clean step, but the 1 px strands the cutout cut lie beyond it on the sky's side
    # (they make that side's texture, and a strand's colour lies towards the hair's); a stroke
    # along the edge still brings them back fractional
    rgb, a, cut, _ = _strands_before_a_pillar(seed)
    stroke = Stroke("detail", 12.0, ((226.0, 20.0), (226.0, 380.0)))
    band = rasterise([stroke], cut.shape) > 0
    strands = band & (a >= 0.5) & (np.arange(cut.shape[1])[None, :] < 228)

    out = retouch(rgb, cut, [stroke]).alpha / 255.0

    got = out[strands]
    assert float(got.mean()) > 0.2  # the cutout had 0, the truth 0.6-1
    assert float(((got > 0.05) & (got < 0.95)).mean()) > 0.75
    assert float(np.abs(out - a)[band].sum()) < 0.7 * float(np.abs(cut / 255.0 - a)[band].sum())
    # the rule takes no strand pixel (the truth's 0.1 and up) as known background
    rgb_crop, held = rgb[:, 180:280], cut[:, 180:280]
    piece = band[:, 180:280]
    h, w = held.shape
    lab_of = functools.partial(retouch_detail._lab_around(rgb_crop, (0, 0), (h, w)), 0, h, 0, w)
    tri = retouch_detail._crisp_edge(lab_of, held, piece)
    assert int((piece & (tri == 0) & (a[:, 180:280] >= 0.1)).sum()) <= 0.02 * int(
        (piece & (a[:, 180:280] >= 0.1) & (held == 0)).sum())


def _mesh_cup(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A wire-mesh cup right of x = 120 (the cutout holds it solid) on a grey-violet backdrop:
    in the upper half its holes show the backdrop, in the lower half a wall behind the mesh
    whose colour is nearly the backdrop's (soft-dev GT25: the cup's far wall through its
    holes). Returns the photo, the cutout, the wall and the upper holes' centres."""
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    yy, xx = np.mgrid[:h, :w]
    img = np.empty((h, w, 3), np.float32)
    img[:] = (120, 116, 128)
    cup = xx >= 120
    wall = cup & (yy >= 120)
    wire = ((xx + yy) % 16 < 2) | ((xx - yy) % 16 < 2)
    img[wall] = (118, 114, 120)
    img[cup & wire] = (200, 200, 206)
    img = cv2.GaussianBlur(img + rng.normal(0, 2, img.shape), (3, 3), 0)
    cut = np.where(cup, 255, 0).astype(np.uint8)
    holes = cup & ~wall & (cv2.dilate(wire.view(np.uint8), np.ones((5, 5), np.uint8)) == 0)
    return np.clip(img, 0, 255).astype(np.uint8), cut, wall, holes


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_keeps_a_solid_part_behind_a_mesh_solid_under_a_detail_stroke(seed: int) -> None:
    # QA (soft-dev GT25, 2026-12-04): a detail stroke across the wire-mesh cup made the solid
    # parts seen through the mesh translucent (2 446 px): the far wall is nearly the backdrop's
    # colour, so the matte faded it, the mesh's pattern on top (too structured for the slab
    # guard). Here the old code: the wall's mean 235-242, 8-15 % of it under 200. A stroke down
    # the cup's edge must leave the wall solid (_keep_alike); the holes that show the backdrop
    # still open a little (the old code 146-148, now 221-223: the matte only half opens them,
    # which in so low a contrast it cannot tell from its fade of the wall)
    rgb, cut, wall, holes = _mesh_cup(seed)
    stroke = Stroke("detail", 20.0, ((135.0, 20.0), (135.0, 220.0)))
    band = rasterise([stroke], cut.shape) > 0
    inside = band & wall & (np.arange(cut.shape[1])[None, :] >= 122)

    out = retouch(rgb, cut, [stroke]).alpha

    assert float(out[inside].mean()) > 248
    assert float((out[inside] < 200).mean()) < 0.05
    assert float(out[band & holes].mean()) < 240


def test_it_gives_a_preview_the_same_bits_whether_earlier_strokes_steps_are_cached(
        monkeypatch) -> None:
    # QA M1: each preview re-sends every stroke and the detail solve replays them in order; the
    # earlier strokes' steps now come from _STEPS, which must change nothing
    rgb, _, held = strand_clump_scene(3, (220, 150), solid_to=60, strands=range(60, 84, 4),
                                      jitter=4, strength=0.8, held_to=80)
    strokes = [Stroke("detail", 10.0, ((78.0, 10.0 + 70 * i), (76.0, 80.0 + 70 * i)))
               for i in range(3)]
    calls: list[int] = []
    real = retouch_detail._step

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(retouch_detail, "_step", spy)
    monkeypatch.setattr(retouch_detail, "_STEPS", type(retouch_detail._STEPS)())
    monkeypatch.setattr(retouch_detail, "_PIECES", type(retouch_detail._PIECES)())
    for k in range(1, 4):  # the previews as the reviewer paints: lists growing by one
        calls.clear()
        warm = retouch(rgb, held, strokes[:k])
    assert len(calls) == 1  # the newest stroke's step only
    retouch_detail._STEPS.clear()
    retouch_detail._PIECES.clear()
    calls.clear()

    cold = retouch(rgb, held, strokes)

    assert len(calls) == 3
    assert np.array_equal(warm.alpha, cold.alpha)
    assert np.array_equal(warm.rgba, cold.rgba)
    assert (cold.alpha != held).any()  # the strokes do change the cutout


def _reader() -> str:
    """The function reading a _Reads array: the guard itself when it read through
    ``_held_around`` (the view several guards share)."""
    frame = sys._getframe(2)
    if frame.f_code.co_name == "_held_around":
        frame = frame.f_back or frame
    return frame.f_code.co_name


class _Reads(np.ndarray):
    """An array that records the box (y0, y1, x0, x1) of every read of it, and which function
    read it; a read that is not a 2-D slice (a mask, a whole-array operation) counts as all of
    it."""

    log: list[tuple[str, int, int, int, int]]

    def __getitem__(self, idx):
        if isinstance(idx, tuple) and len(idx) == 2 and all(isinstance(s, slice) for s in idx):
            (y0, y1, _), (x0, x1, _) = (s.indices(n)
                                        for s, n in zip(idx, self.shape[:2], strict=True))
        else:
            y0, y1, x0, x1 = 0, self.shape[0], 0, self.shape[1]
        self.log.append((_reader(), y0, y1, x0, x1))
        return np.asarray(self)[idx]

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        self.log.append((_reader(), 0, self.shape[0], 0, self.shape[1]))
        plain = (np.asarray(i) if isinstance(i, _Reads) else i for i in inputs)
        return getattr(ufunc, method)(*plain, **kwargs)


def test_it_keys_a_cached_step_by_all_its_guards_read(monkeypatch) -> None:
    # a preview reuses an earlier stroke's step (_STEPS) when _step_key matches; the key hashes
    # the photo and the cutout as far as _step_reads says the step reads them. A guard that
    # read farther than that would let a preview reuse a step whose inputs changed: every read
    # of a step's photo and cutout must lie inside that box. The scenes make each guard read
    # (a wide fur fringe far from the solid body: _far_fringe; a low-contrast mesh cup:
    # _known_colours, _keep_alike, _hold_halo, _hold_backdrop)
    reads: list[tuple[tuple[int, int, int, int], list[tuple[str, int, int, int, int]]]] = []
    real = retouch_detail._step

    def spy(rgb, before, sofar, mine, brush, write, old, at, deadband, mat):
        log: list[tuple[str, int, int, int, int]] = []
        rgb_r, before_r = rgb.view(_Reads), before.view(_Reads)
        rgb_r.log = before_r.log = log
        out = real(rgb_r, before_r, sofar, mine, brush, write, old, at, deadband, mat)
        reads.append((retouch_detail._step_reads(at, mine.shape, before.shape, mat), log))
        return out

    monkeypatch.setattr(retouch_detail, "_step", spy)
    monkeypatch.setattr(retouch_detail, "_STEPS", type(retouch_detail._STEPS)())
    monkeypatch.setattr(retouch_detail, "_PIECES", type(retouch_detail._PIECES)())
    fur_rgb, fur_cut, _ = fur_flank_scene(0)
    mesh_rgb, mesh_cut, *_ = _mesh_cup(0)
    retouch(fur_rgb, fur_cut, [Stroke("detail", 8.0, ((130.0, 30.0), (130.0, 170.0)))])
    retouch(mesh_rgb, mesh_cut, [Stroke("detail", 20.0, ((135.0, 20.0), (135.0, 220.0)))])

    readers = {who for _, log in reads for who, *_ in log}
    assert {"_solve_piece", "_beside_translucent", "_far_fringe", "_known_colours",
            "_keep_alike", "_hold_halo", "_hold_backdrop"} <= readers
    for (y0, y1, x0, x1), log in reads:
        for who, ry0, ry1, rx0, rx1 in log:
            assert y0 <= ry0 and ry1 <= y1 and x0 <= rx0 and rx1 <= x1, who
    # and the key covers that box: a change of the cutout on its edge makes another key, one
    # a pixel beyond it does not
    mine = np.ones((20, 10), bool)
    at = (60, 100)
    y0, y1, x0, x1 = retouch_detail._step_reads(at, mine.shape, mesh_cut.shape, matting)

    def key(cut: np.ndarray) -> tuple:
        return retouch_detail._step_key(mesh_rgb, cut, mesh_cut[60:80, 100:110], mine, mine,
                                        at, 8, 30.0, matting)

    edge, beyond = mesh_cut.copy(), mesh_cut.copy()
    edge[y0 + 5, x1 - 1] ^= 255
    beyond[y0 + 5, x1] ^= 255
    assert key(edge) != key(mesh_cut)
    assert key(beyond) == key(mesh_cut)


def _lab_per_box(rgb: np.ndarray, at: tuple[int, int], shape: tuple[int, ...], log: list[str]):
    """The guards' Lab as they had it before _lab_around: each box converted on its own, as
    each guard asks (``log``: who asked)."""

    def crop(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        log.append(sys._getframe(1).f_code.co_name)
        return cv2.cvtColor(rgb[y0:y1, x0:x1].astype(np.float32) * np.float32(1 / 255),
                            cv2.COLOR_RGB2Lab)

    return crop


def test_it_slices_a_guards_lab_bit_for_bit_from_one_conversion(monkeypatch) -> None:
    # the guards of a step read the photo's Lab over overlapping boxes from one conversion: a
    # slice must be the box's own conversion to the bit, wherever the box lies in it (OpenCV's
    # vector code must not depend on a pixel's column), and the photo converted once
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (150, 170, 3), np.uint8)
    calls: list[int] = []
    real = cv2.cvtColor

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    for at, shape in (((40, 50), (30, 45)), ((0, 0), (20, 33)), ((130, 151), (20, 19))):
        lab_at = retouch_detail._lab_around(rgb, at, shape)
        y0, y1, x0, x1 = retouch_detail._around(at, shape, rgb.shape, retouch_detail.LAB_CONTEXT)
        monkeypatch.setattr(cv2, "cvtColor", counted)
        calls.clear()
        boxes = [(y0, y1, x0, x1)]
        for _ in range(200):
            b0, c0 = int(rng.integers(y0, y1)), int(rng.integers(x0, x1))
            boxes.append((b0, int(rng.integers(b0 + 1, y1 + 1)),
                          c0, int(rng.integers(c0 + 1, x1 + 1))))
        got = [lab_at(*box) for box in boxes]
        assert len(calls) == 1
        monkeypatch.undo()
        for (b0, b1, c0, c1), lab in zip(boxes, got, strict=True):
            own = _lab_per_box(rgb, at, shape, [])(b0, b1, c0, c1)
            assert np.array_equal(lab.view(np.uint32), own.view(np.uint32)), (b0, b1, c0, c1)
        with pytest.raises(AssertionError):  # beyond the conversion: a guard needs it raised
            lab_at(max(y0 - 1, 0), y1, x0, min(x1 + 1, rgb.shape[1]))


def _run_with_lab(monkeypatch, scenes, lab_around) -> list:
    """Each scene's strokes applied cold (no cached step or piece) with ``lab_around`` as the
    step's Lab conversion: the alpha and RGBA of each, in order."""
    monkeypatch.setattr(retouch_detail, "_lab_around", lab_around)
    out = []
    for rgb, cut, st in scenes:
        retouch_detail._STEPS.clear()
        retouch_detail._PIECES.clear()
        result = retouch(rgb, cut, st)
        out += [result.alpha, result.rgba]
    return out


def test_it_gives_the_same_bits_as_the_guards_own_lab_conversions(monkeypatch) -> None:
    # one Lab conversion per step instead of one per guard (_known_colours, _hold_backdrop,
    # _hold_join) must change no bit: the scenes run the three guards as far as their Lab
    from .test_detail_joined_backdrop import fibre_scene, lifting, strokes

    mesh_rgb, mesh_cut, *_ = _mesh_cup(0)
    fibre_rgb, _, fibre_cut = fibre_scene(0)
    lifting(monkeypatch)
    scenes = [(mesh_rgb, mesh_cut, [Stroke("detail", 20.0, ((135.0, 20.0), (135.0, 220.0)))]),
              (mesh_rgb, mesh_cut, [Stroke("detail", 30.0, ((118.0, 20.0), (118.0, 220.0)))]),
              (fibre_rgb, fibre_cut, list(strokes()))]
    real = retouch_detail._lab_around

    asked: list[str] = []
    new = _run_with_lab(monkeypatch, scenes, real)
    old = _run_with_lab(monkeypatch, scenes,
                        lambda rgb, at, shape, matting=None: _lab_per_box(rgb, at, shape, asked))

    assert {"_known_colours", "_hold_backdrop", "_hold_join"} <= set(asked)
    for a, b in zip(new, old, strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(new[0], mesh_cut)  # the strokes do change the cutouts
    assert not np.array_equal(new[4], fibre_cut)


def test_it_sets_a_solves_trimap_from_the_steps_one_lab_conversion(monkeypatch) -> None:
    # the solve's trimap rules (_crisp_edge, _solid_part, also on an earlier stroke's solid
    # core, and _backdrop_look on its clear core) each converted the solve's crop to Lab; they
    # read the step's one conversion now (_lab_around, grown to the crop): no bit may change,
    # and a step solved cold converts the photo once
    from .test_detail_stalk_core import sides, stalk_scene

    edge_rgb, edge_a = _crisp_edge_scene(0)
    stalk_rgb, stalk_cut = stalk_scene(0)
    rng = np.random.default_rng(3)
    back = np.clip(np.float32((90, 120, 160)) + rng.normal(0, 2, (200, 240, 3)), 0, 255)
    back[:, 180:] = (200, 60, 40)  # a product right of x = 180, the backdrop flat and clear
    back_rgb = back.astype(np.uint8)
    back_cut = np.zeros((200, 240), np.uint8)
    back_cut[:, 180:] = 255
    scenes = [(edge_rgb, (edge_a * 255).astype(np.uint8),
               [Stroke("detail", 10.0, ((66.0, 15.0), (87.0, 145.0)))]),
              (stalk_rgb, stalk_cut, sides()),
              (back_rgb, back_cut, [Stroke("detail", 24.0, ((120.0, 20.0), (120.0, 100.0))),
                                    Stroke("detail", 24.0, ((120.0, 100.0), (120.0, 180.0)))])]
    asked: list[str] = []

    def spying(name: str):
        real = getattr(retouch_detail, name)

        def spy(lab_of, *args, **kwargs):
            def lab():
                asked.append(name)
                return lab_of()

            return real(lab, *args, **kwargs)

        return spy

    for name in ("_crisp_edge", "_solid_part", "_backdrop_look"):
        monkeypatch.setattr(retouch_detail, name, spying(name))
    steps: list[int] = []
    real_step = retouch_detail._step

    def counted_step(*args, **kwargs):
        steps.append(1)
        return real_step(*args, **kwargs)

    monkeypatch.setattr(retouch_detail, "_step", counted_step)
    calls: list[int] = []
    real_cvt = cv2.cvtColor

    def counted_cvt(src, code, *args, **kwargs):
        if code == cv2.COLOR_RGB2Lab:
            calls.append(1)
        return real_cvt(src, code, *args, **kwargs)

    real = retouch_detail._lab_around
    monkeypatch.setattr(cv2, "cvtColor", counted_cvt)
    new = _run_with_lab(monkeypatch, scenes, real)
    assert 0 < len(calls) <= len(steps)
    assert {"_crisp_edge", "_solid_part", "_backdrop_look"} <= set(asked)
    # each box converted on its own, as each rule and guard did before
    old = _run_with_lab(monkeypatch, scenes,
                        lambda rgb, at, shape, matting=None: _lab_per_box(rgb, at, shape, []))

    for a, b in zip(new, old, strict=True):
        assert np.array_equal(a, b)
    # the strokes do change the first two cutouts (the third's flat backdrop stays clear)
    for (_, cut, _), a in zip(scenes[:2], new[:4:2], strict=True):
        assert not np.array_equal(a, cut)

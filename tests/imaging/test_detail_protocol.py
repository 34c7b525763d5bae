import io
import json

import cv2
import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from cutouts.imaging.__main__ import main
from cutouts.imaging.detail_protocol import (
    band_of,
    detail_stroke,
    next_touch,
    run_graze,
    run_image,
    run_solid,
)
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import DETAIL, KEEP, Stroke, rasterise

from .scenes import ColourSegmenter, compose

HAIR = np.array([70, 45, 30], np.float32)  # dark strands
SKY = np.array([170, 200, 235], np.float32)  # light background


def strand_scene(h: int = 160, w: int = 240):
    """A solid body with thin soft strands rising from it: (rgb, true alpha u8, trimap u8)."""
    a = np.zeros((h, w), np.float32)
    a[100:, :] = 1.0
    strands = np.zeros_like(a)
    for i, x in enumerate(range(30, w - 20, 22)):
        top = 60 + (i * 7) % 10
        cv2.line(strands, (x, 100), (x + (i % 3) * 6 - 6, top), 0.8, 1, cv2.LINE_AA)
    a = np.maximum(a, strands)
    rgb = np.clip(a[..., None] * HAIR + (1 - a[..., None]) * SKY + 0.5, 0, 255).astype(np.uint8)
    gt = np.clip(a * 255 + 0.5, 0, 255).astype(np.uint8)
    trimap = np.where(a >= 1.0, 255, 0).astype(np.uint8)
    trimap[52:108] = np.where(trimap[52:108] == 255, 255, 128)
    trimap[100:108] = 128
    return rgb, gt, trimap


def cut_hard(gt: np.ndarray) -> np.ndarray:
    """What a segmentation model does to strands: the body kept, the strands cut away."""
    out = np.zeros_like(gt)
    out[100:] = 255
    return out


def band_err(alpha: np.ndarray, gt: np.ndarray, m: np.ndarray) -> float:
    return float(np.abs(alpha[m].astype(int) - gt[m].astype(int)).mean())


def test_it_brings_back_strands_cut_hard_as_fractional_alpha():
    rgb, gt, trimap = strand_scene()
    cut = cut_hard(gt)
    band = band_of(trimap)
    painted = np.zeros_like(band)
    st = detail_stroke(np.abs(cut.astype(np.float32) - gt) / 255.0, band, painted)
    assert st is not None and st.kind == "detail"
    brush = rasterise([st], gt.shape) == DETAIL
    out = retouch(rgb, cut, [st]).alpha
    # the error against the known soft alpha falls under the brush
    assert band_err(out, gt, brush) < 0.5 * band_err(cut, gt, brush)
    # and the strands come back soft: most of their pixels under the brush are fractional
    soft = brush & (gt > 0) & (gt < 255) & (np.arange(gt.shape[0])[:, None] < 98)
    frac = (out[soft] > 0) & (out[soft] < 255)
    assert soft.sum() > 50 and frac.mean() > 0.6
    assert np.abs(out[soft].astype(int) - gt[soft].astype(int)).mean() < 60


def test_it_leaves_every_pixel_outside_the_strokes_window_unchanged():
    rgb, gt, trimap = strand_scene()
    cut = cut_hard(gt)
    st = detail_stroke(np.abs(cut.astype(np.float32) - gt) / 255.0, band_of(trimap),
                       np.zeros(gt.shape, bool))
    assert st is not None
    out = retouch(rgb, cut, [st]).alpha
    x0, y0, x1, y1 = st.bounds()
    outside = np.ones(gt.shape, bool)
    outside[max(0, int(y0) - 24):int(np.ceil(y1)) + 24,
            max(0, int(x0) - 24):int(np.ceil(x1)) + 24] = False
    assert outside.any() and (out != cut).any()
    assert np.array_equal(out[outside], cut[outside])


def test_it_clicks_for_a_big_missing_region_and_paints_detail_on_a_wrong_band():
    rgb, gt, trimap = strand_scene()
    band = band_of(trimap)
    none = np.zeros(gt.shape, bool)
    holed = gt.copy()
    holed[120:155, 60:110] = 0  # a big piece of the solid body missing
    st = next_touch(holed, gt, band, none)
    assert st is not None and st.kind == "keep" and len(st.points) == 1
    x, y = st.points[0]
    assert 60 <= x < 110 and 120 <= y < 155
    # the segmentation is right; only the strands (inside the band) are wrong
    st = next_touch(cut_hard(gt), gt, band, none)
    assert st is not None and st.kind == "detail"
    pts = np.asarray(st.points)
    assert band[pts[:, 1].round().astype(int), pts[:, 0].round().astype(int)].all()
    # a path a person could paint: contiguous (steps shorter than the brush), bounded length
    steps = np.hypot(*np.diff(pts, axis=0).T)
    assert len(pts) > 2 and steps.max() <= st.radius
    assert steps.sum() <= 2 * 120 + 2 and 3 <= st.radius <= 30


def test_it_runs_touches_with_a_fake_refiner_until_nothing_is_wrong():
    rgb, gt, trimap = strand_scene()
    start = cut_hard(gt)
    start[120:155, 60:110] = 0

    def fake(rgb, alpha, rgba, strokes):
        # a keep click fills the hole; a detail stroke sets its brush to the truth
        out = alpha.copy()
        labels = rasterise(strokes, alpha.shape)
        if (labels == KEEP).any():
            out[120:155, 60:110] = 255
        det = labels == DETAIL
        out[det] = gt[det]
        return out

    row = run_image(rgb, start, None, gt, trimap, fake, 8)
    kinds = [t["kind"] for t in row["touches"]]
    assert kinds[0] == "keep" and "detail" in kinds and "keep" not in kinds[1:]
    sads = [s["sad"] for s in row["states"]]
    assert all(b <= a for a, b in zip(sads, sads[1:], strict=False)) and sads[-1] < sads[0]
    assert all(t["outside_dsad"] == 0 for t in row["touches"] if t["kind"] == "detail")


def _write_soft_set(folder):
    rgb, gt, trimap = strand_scene()
    for sub, img in (("images", rgb), ("alpha", gt), ("trimaps", trimap)):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / sub / "GT99.png")


KEYS = ("sad@0", "sad@1", "grad@1", "soft_mae@1", "band_mae@1", "worse_sad_share",
        "worse_grad_share", "detail_window_worse_share", "median_s")


def test_it_writes_the_detail_report_from_the_cli(tmp_path, capsys):
    _write_soft_set(tmp_path / "soft")
    out = tmp_path / "d.json"
    rc = main(["detail", str(tmp_path / "soft"), "--max-touches", "1", "--json", str(out),
               "--baseline", "--quiet", "--threads", "1"])
    assert rc == 0
    data = json.loads(out.read_text())
    summary = data["engines"]["retouch"]["summary"]
    assert summary["images"] == 1 and all(k in summary for k in KEYS)
    assert "paint" in data["engines"] and data["max_touches"] == 1
    assert "band_mae" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["detail", "clicks"])
def test_it_says_why_when_the_model_cannot_be_loaded(tmp_path, capsys, command):
    _write_soft_set(tmp_path / "soft")
    data = [str(tmp_path / "soft")] if command == "detail" else [
        str(tmp_path / "soft" / "images"), str(tmp_path / "soft" / "alpha")]
    rc = main([command, *data, "--model-path", f"u2netp={tmp_path / 'missing.onnx'}",
               "--quiet"])
    assert rc == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_it_runs_the_detail_benchmark_from_the_management_command(tmp_path):
    _write_soft_set(tmp_path / "soft")
    out = tmp_path / "r.json"
    stdout = io.StringIO()
    call_command("retouch_benchmark", "--soft", str(tmp_path / "soft"), "--max-touches", "1",
                 "--json", str(out), stdout=stdout, stderr=io.StringIO())
    assert "sad" in stdout.getvalue() and "wrote" in stdout.getvalue()
    touches = json.loads(out.read_text())["engines"]["retouch"]["images"][0]["touches"]
    assert len(touches) == 1 and touches[0]["kind"] in ("keep", "remove", "detail")


def test_it_solves_a_detail_stroke_over_plain_background_without_crashing():
    # a wide band that the coarse level settles whole (all near 0) used to leave the fine level
    # an empty system, and the solver crashed on it
    rgb, gt, _ = strand_scene()
    rgb[:100] = SKY.astype(np.uint8)
    cut = cut_hard(gt)
    st = Stroke("detail", 37.0, ((40.0, 57.0), (200.0, 57.0)))
    out = retouch(rgb, cut, [st]).alpha
    assert out[:90].max() <= 8  # plain background stays (almost exactly) background
    assert np.array_equal(out[100:], cut[100:])


def test_it_leaves_a_separate_band_piece_as_it_was_when_another_stroke_is_added():
    rgb, gt, _ = strand_scene()
    cut = cut_hard(gt)
    left = Stroke("detail", 12.0, ((40.0, 75.0), (40.0, 95.0)))
    right = Stroke("detail", 12.0, ((100.0, 75.0), (100.0, 95.0)))  # its own piece, same window
    one = retouch(rgb, cut, [left]).alpha
    both = retouch(rgb, cut, [left, right]).alpha
    mine = rasterise([left], gt.shape) == DETAIL
    assert (one[mine] != cut[mine]).any()  # the first stroke did solve something
    assert np.array_equal(one[mine], both[mine])
    assert (both != one).any()


def test_it_keeps_the_current_alpha_where_the_matte_is_within_the_deadband(monkeypatch):
    from cutouts.imaging import matting

    cut = cut_hard(np.zeros((160, 240), np.uint8))
    rgb = np.where(cut[..., None] == 255, HAIR, SKY).astype(np.uint8)  # a plain hard edge
    st = Stroke("detail", 10.0, ((60.0, 100.0), (160.0, 100.0)))  # across the body's edge
    brush = rasterise([st], cut.shape) == DETAIL
    for shift, changes in ((0.02, False), (0.2, True)):
        def hazy(rgb_w, trimap, shift=shift, **kw):
            # the matte: the right answer (dark = object), off by a haze of `shift`
            a = (rgb_w[..., 0] < 120).astype(np.float32)
            band = (trimap != 0) & (trimap != 255)
            a[band] = np.where(a[band] > 0.5, 1 - shift, shift)
            return a

        monkeypatch.setattr(matting, "solve_alpha", hazy)
        out = retouch(rgb, cut, [st]).alpha
        assert (out[brush] != cut[brush]).any() == changes


def outline_scene():
    """A 200 px disk whose right half has a soft edge (truth fades over 12 px) and whose top-left
    quarter the cutout lost; the cutout is the disk cut hard at its truth's 128 line."""
    h = w = 320
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    r = np.hypot(yy - 160, xx - 160)
    soft = np.clip((112 - r) / 12 + 0.5, 0, 1)
    hard = (r <= 106).astype(np.float32)
    truth = np.where(xx > 160, soft, hard)
    gt = np.clip(truth * 255 + 0.5, 0, 255).astype(np.uint8)
    cut = np.where(truth >= 0.5, 255, 0).astype(np.uint8)
    cut[:150, :150] = 0
    return gt, cut


def test_it_paints_the_outline_protocol_along_the_cutouts_soft_outline_after_a_keep_click():
    from cutouts.imaging.detail_protocol import OUTLINE_RADIUS, OUTLINE_STROKES, outline_strokes

    gt, cut = outline_scene()
    strokes = outline_strokes(cut, gt)
    assert strokes == outline_strokes(cut, gt)  # deterministic
    assert strokes[0].kind == "keep"
    (x, y), = strokes[0].points
    assert gt[int(y), int(x)] == 255 and cut[int(y), int(x)] == 0
    details = [s for s in strokes if s.kind == "detail"]
    assert 1 <= len(details) <= OUTLINE_STROKES
    edge = cv2.morphologyEx((cut >= 128).astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3)))
    dist = cv2.distanceTransform((edge == 0).astype(np.uint8), cv2.DIST_L2, 5)
    for s in details:
        assert s.radius == OUTLINE_RADIUS
        # on the cutout's own outline, and only along its soft (right-hand) half
        assert all(dist[int(py), int(px)] <= 1.5 and px > 140 for px, py in s.points)


def test_it_scores_each_outline_touch_against_the_state_before_it():
    from cutouts.imaging.detail_protocol import run_outline_image, summarise_outline

    gt, cut = outline_scene()
    rgb = np.dstack([gt] * 3)
    trimap = np.where(gt >= 250, 255, np.where(gt <= 5, 0, 128)).astype(np.uint8)
    row = run_outline_image(rgb, cut, None, gt, trimap,
                            lambda rgb_, a0, _rgba, strokes: retouch(rgb_, a0, strokes).alpha)
    s = row["states"]
    assert len(s) == len(row["touches"]) + 1
    for t, a, b in zip(row["touches"], s[:-1], s[1:], strict=True):
        assert t["dsad"] == pytest.approx(b["sad"] - a["sad"], abs=1e-6)
        assert t["dsad"] == pytest.approx(t["dsad_solid"] + t["dsad_clear"] + t["dsad_soft"],
                                          abs=1e-9)
    row["stem"] = "disk"
    summary = summarise_outline([row])
    assert summary["detail_strokes"] == sum(t["kind"] == "detail" for t in row["touches"])
    assert summary["sad_last"] == s[-1]["sad"]


def test_it_cuts_a_contour_into_the_outline_protocols_strokes_as_before_the_shared_helper():
    # pins the rule the outline protocol used inline before _contour_strokes (ee04c46) and
    # its published figures rest on: a point off ``near`` or within 4 px of the frame ends a
    # run, runs cut into pieces of ``points`` sharing an end, the ``count`` longest (ties in
    # contour order) kept in contour order
    from cutouts.imaging.detail_protocol import _contour_strokes

    near = np.ones((40, 60), bool)
    near[:, 20:24] = False
    c = np.array([[x, 10] for x in range(0, 60, 2)], np.int32)
    strokes = _contour_strokes(c, near, points=5, count=3, radius=16.5)

    def row(*xs: int) -> tuple[tuple[float, float], ...]:
        return tuple((float(x), 10.0) for x in xs)

    assert strokes == [Stroke("detail", 16.5, row(4, 6, 8, 10, 12)),
                       Stroke("detail", 16.5, row(24, 26, 28, 30, 32)),
                       Stroke("detail", 16.5, row(32, 34, 36, 38, 40))]


def test_it_paints_the_solid_edge_protocol_along_the_truths_edge():
    from cutouts.imaging.detail_protocol import SOLID_RADIUS, SOLID_STROKES, solid_edge_strokes

    mask = np.zeros((200, 300), np.uint8)
    cv2.circle(mask, (150, 100), 70, 255, -1)
    cv2.circle(mask, (150, 100), 70, 128, 2)  # the ignore band counts as the object's
    strokes = solid_edge_strokes(mask)
    assert strokes == solid_edge_strokes(mask)  # deterministic
    assert len(strokes) == SOLID_STROKES
    r = np.hypot(*(np.array([[x - 150, y - 100] for s in strokes for x, y in s.points]).T))
    assert all(s.kind == "detail" and s.radius == SOLID_RADIUS for s in strokes)
    assert np.all(np.abs(r - 71) <= 1.5)


def test_it_scores_each_solid_edge_stroke_on_the_truths_solid_and_clear_pixels():
    from cutouts.imaging.detail_protocol import run_solid_image, summarise_solid

    mask = np.zeros((200, 300), np.uint8)
    cv2.circle(mask, (150, 100), 70, 255, -1)
    cut = mask.copy()

    def fade(rgb_, a0, _rgba, strokes):  # each stroke takes 10 solid pixels to 0
        out = a0.copy()
        out[100, 110:110 + 10 * len(strokes)] = 0
        return out

    row = run_solid_image(np.dstack([mask] * 3), cut, None, mask, fade)
    assert [t["dsad"] for t in row["touches"]] == pytest.approx([10 / 1000] * 2)
    assert [t["dsad_clear"] for t in row["touches"]] == [0.0, 0.0]
    s = summarise_solid([row])
    assert s["raising_sad"] == 2 and s["dsad_solid_sum"] == pytest.approx(0.02)


def test_it_paints_the_graze_protocol_just_outside_the_truths_edge():
    from cutouts.imaging.detail_protocol import (
        GRAZE_OFFSETS,
        GRAZE_RADII,
        GRAZE_STROKES,
        graze_strokes,
    )

    mask = np.zeros((300, 300), np.uint8)
    cv2.circle(mask, (150, 150), 70, 255, -1)
    strokes = graze_strokes(mask)
    assert strokes == graze_strokes(mask)  # deterministic
    assert len(strokes) == len(GRAZE_RADII) * len(GRAZE_OFFSETS) * GRAZE_STROKES
    assert all(s.kind == "remove" for s in strokes)
    for i, s in enumerate(strokes):
        f = GRAZE_OFFSETS[(i // GRAZE_STROKES) % len(GRAZE_OFFSETS)]
        assert s.radius == GRAZE_RADII[i // (GRAZE_STROKES * len(GRAZE_OFFSETS))]
        r = np.hypot(*(np.array([[x - 150, y - 150] for x, y in s.points]).T))
        assert np.all(np.abs(r - 70 - f * s.radius) <= 2.0)  # on the backdrop, brush over it


def test_it_scores_each_graze_stroke_by_the_object_lost_and_the_background_cleared():
    from cutouts.imaging.detail_protocol import run_graze_image, summarise_graze

    mask = np.zeros((300, 300), np.uint8)
    cv2.circle(mask, (150, 150), 70, 255, -1)
    cut = mask.copy()
    cut[10:20, 10:30] = 255  # 200 px of background the cutout holds

    def take(rgb_, a0, _rgba, strokes):  # each stroke takes 5 object px and the 200
        out = a0.copy()
        out[150, 100:105] = 0
        out[10:20, 10:30] = 0
        return out

    row = run_graze_image(np.dstack([mask] * 3), cut, None, mask, take)
    assert {(t["lost"], t["cleared"]) for t in row["touches"]} == {(5, 200)}
    assert all(t["lost_units"] == 5 * 255 and t["diou"] > 0 for t in row["touches"])
    s = summarise_graze([row])
    assert s["all"]["lost"] == 5 * len(row["touches"]) and s["all"]["iou_up"] == len(row["touches"])


@pytest.mark.parametrize(("runner", "says"), [(run_solid, "detail strokes along the truth's edge"),
                                              (run_graze, "remove strokes grazing")])
def test_it_runs_the_solid_edge_and_graze_protocols_on_a_binary_set(tmp_path, runner, says):
    # the runners share run_protocol: the set read, every image played, the report printed
    # and written as it is returned
    a = np.zeros((160, 200), np.float32)
    cv2.ellipse(a, (100, 80), (60, 40), 0, 0, 360, 1.0, -1)
    for sub, img in (("images", compose(a)), ("masks", np.where(a > 0, 255, 0).astype(np.uint8))):
        (tmp_path / sub).mkdir()
        Image.fromarray(img).save(tmp_path / sub / "001.png")
    out, stream = tmp_path / "r.json", io.StringIO()
    report = runner(tmp_path / "images", tmp_path / "masks", segmenter=ColourSegmenter(),
                    out_json=out, stream=stream)
    data = json.loads(out.read_text())
    assert data == json.loads(json.dumps(report, default=float))
    assert list(data) == ["images_dir", "engines"] and list(data["engines"]) == ["retouch"]
    rows = data["engines"]["retouch"]["images"]
    assert data["engines"]["retouch"]["summary"]["images"] == 1 and rows[0]["stem"] == "001"
    assert rows[0]["touches"] and stream.getvalue().startswith("retouch: 1 images, ")
    assert says in stream.getvalue()

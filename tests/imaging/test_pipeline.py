"""The pipeline on synthetic scenes with known alpha, using fake segmenters."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging import encode
from cutouts.imaging.inference import resize_to
from cutouts.imaging.pipeline import run_pipeline
from cutouts.imaging.plain import plain_mask
from cutouts.imaging.settings import profile

from .scenes import (
    BG,
    FG,
    ColourSegmenter,
    ConstSegmenter,
    H,
    W,
    body,
    compose,
    feathered_scene,
    glass_scene,
    hair_scene,
    shadow_scene,
    thin_line_scene,
)


def alpha_f(result) -> np.ndarray:
    return result.alpha.astype(np.float32) / 255.0


def test_it_upsamples_a_known_mask_from_a_fake_segmenter():
    known = np.zeros((320, 320), np.float32)
    cv2.circle(known, (160, 160), 80, 1.0, -1)
    seg = ConstSegmenter(known)
    rgb = np.full((640, 960, 3), 200, np.uint8)
    res = run_pipeline(rgb, profile("fast"), seg)
    assert seg.calls == 1  # fast = one inference pass
    assert res.rgba.shape == (640, 960, 4) and res.alpha.dtype == np.uint8
    expected = cv2.resize(known, (960, 640), interpolation=cv2.INTER_LINEAR)
    assert np.mean(np.abs(alpha_f(res) - expected)) < 0.01
    x0, y0, x1, y1 = res.bbox  # tight box of alpha > 0: the circle plus its soft tail
    assert 225 <= x0 <= 240 and 720 <= x1 <= 735 and 145 <= y0 <= 160 and 480 <= y1 <= 495
    assert res.signals["fragment_count"] == 1 and not res.signals["touches_frame"]
    assert res.signals["fill_ratio"] == pytest.approx(np.pi * 240 * 160 / (640 * 960), rel=0.03)
    assert set(res.timings) == {"inference", "refinement"}


def test_it_runs_three_model_passes_in_the_default_profile(colour_segmenter):
    rgb, _ = glass_scene()
    run_pipeline(rgb, profile("default"), colour_segmenter)
    assert colour_segmenter.calls == 3  # full, flipped, crop


@pytest.mark.parametrize("shape", [(853, 1280), (1001, 777), (301, 451), (150, 203)])
def test_it_squashes_a_mirrored_photo_to_the_mirrored_squash(shape):
    # the flip pass reuses the squashed photo mirrored (inference.predict_square_mirrored):
    # that is the model's input only while Pillow's LANCZOS squash commutes with a mirror
    rng = np.random.default_rng(sum(shape))
    rgb = cv2.GaussianBlur(rng.integers(0, 256, (*shape, 3), dtype=np.uint8), (0, 0), 1.5)
    squashed = resize_to(rgb, 320)
    assert squashed.std() > 1  # a textured image, not a flat one
    np.testing.assert_array_equal(resize_to(np.ascontiguousarray(rgb[:, ::-1]), 320),
                                  squashed[:, ::-1])


def test_it_feeds_the_flip_pass_the_mirrored_squash():
    seen = []

    class Recording:
        input_size = 320

        def predict(self, rgb):
            seen.append(rgb.copy())
            return np.full((320, 320), 0.5, np.float32)

    rgb, _ = glass_scene()
    run_pipeline(rgb, profile("fast").replace(tta_flip=True), Recording())
    assert len(seen) == 2
    np.testing.assert_array_equal(seen[1], seen[0][:, ::-1])
    np.testing.assert_array_equal(seen[0], resize_to(rgb, 320))


@pytest.mark.parametrize("scene", [feathered_scene, hair_scene, glass_scene],
                         ids=["feathered", "hair", "glass"])
@pytest.mark.parametrize("name", ["fast", "default"])
def test_it_gives_lower_alpha_error_than_plain_on_soft_scenes(scene, name):
    rgb, truth = scene()
    seg = ColourSegmenter()
    plain = plain_mask(rgb, seg).astype(np.float32) / 255.0
    res = run_pipeline(rgb, profile(name), seg)
    ours = np.abs(alpha_f(res) - truth).mean()
    theirs = np.abs(plain - truth).mean()
    assert ours < 0.9 * theirs, (ours, theirs)


def test_it_keeps_a_glass_region_semi_transparent():
    rgb, truth = glass_scene()
    res = run_pipeline(rgb, profile("default"), ColourSegmenter())
    pane = truth == np.float32(0.45)
    inner = cv2.erode(pane.astype(np.uint8), np.ones((25, 25), np.uint8)) > 0
    a = alpha_f(res)[inner]
    assert abs(float(np.median(a)) - 0.45) < 0.05  # not binarised to 0 or 1
    assert a.std() < 0.05


def test_it_keeps_a_feathered_edge_soft():
    rgb, truth = feathered_scene()
    a = alpha_f(run_pipeline(rgb, profile("default"), ColourSegmenter()))
    row = H // 2 - 20
    ramp = slice(W // 2 + 200, W // 2 + 260)  # truth goes 1 -> 0 over these 60 px
    soft = np.count_nonzero((a[row, ramp] > 0.1) & (a[row, ramp] < 0.9))
    assert soft >= 30
    assert np.abs(a[row, ramp] - truth[row, ramp]).mean() < 0.06


def test_it_keeps_a_thin_strap():
    rgb, truth = thin_line_scene()
    seg = ColourSegmenter()
    a = alpha_f(run_pipeline(rgb, profile("default"), seg))
    plain = plain_mask(rgb, seg).astype(np.float32) / 255.0
    centre = np.zeros((H, W), np.uint8)
    cv2.line(centre, (606, 174), (804, 52), 1, 1)  # 12 %..92 % along the strap
    on = centre > 0
    assert np.median(a[on]) > 0.4  # the strap survives all along
    assert np.percentile(a[on], 10) > 0.25
    assert a[on].mean() >= 0.95 * plain[on].mean()


@pytest.mark.parametrize("scene, limit", [("soft", 0.55), ("feathered", 0.7)])
def test_it_removes_the_white_fringe_when_decontaminating(colour_segmenter, scene, limit):
    if scene == "soft":  # an ordinary anti-aliased / slightly soft product edge
        truth = cv2.GaussianBlur(body(), (0, 0), 1.5)
        rgb = compose(truth)
    else:
        rgb, truth = feathered_scene()
    on = run_pipeline(rgb, profile("fast"), colour_segmenter)
    off = run_pipeline(rgb, profile("fast", decontaminate=False), colour_segmenter)
    rim = (on.alpha > 25) & (on.alpha < 230)
    assert np.count_nonzero(rim) > 500

    def rim_green_on_black(res):  # the backdrop is white, the product red: green = fringe
        comp = encode.composite(res, background=(0, 0, 0), with_shadow=False)
        return comp[..., 1][rim].astype(np.float32).mean()

    fringe_on, fringe_off = rim_green_on_black(on), rim_green_on_black(off)
    assert fringe_off > 40  # without it, the white backdrop shows in the rim
    assert fringe_on < limit * fringe_off
    # fully opaque pixels keep their exact colour
    solid = on.alpha == 255
    np.testing.assert_array_equal(on.rgba[..., :3][solid], rgb[solid])


def test_it_extracts_the_contact_shadow_in_keep_mode_only(colour_segmenter):
    rgb, obj, shade = shadow_scene()
    none = run_pipeline(rgb, profile("fast"), colour_segmenter)
    assert none.shadow is None
    keep = run_pipeline(rgb, profile("fast", shadow="keep"), colour_segmenter)
    s = keep.shadow.astype(np.float32) / 255.0
    outside = obj < 0.01
    under = (shade > 0.25) & outside
    far = np.zeros_like(outside)
    far[: H // 5] = True  # the top of the sweep: no shadow there
    assert np.count_nonzero(under) > 500
    assert s[under].mean() > 0.6 * shade[under].mean()  # about the photo's darkening
    assert s[far].max() < 0.05
    # the product itself stays opaque and the shadow is not part of its alpha
    assert alpha_f(keep)[under].mean() < 0.05


def test_it_draws_a_synthetic_shadow_below_the_product(colour_segmenter):
    _, truth = glass_scene()
    rgb = compose(truth)
    res = run_pipeline(rgb, profile("fast", shadow="synthetic"), colour_segmenter)
    s = res.shadow.astype(np.float32) / 255.0
    x0, y0, x1, y1 = res.bbox
    below = s[y1:y1 + 10, x0 + 20:x1 - 20]
    assert below.mean() > 0.05
    assert s[: max(0, y0 - 5)].max() == 0.0  # nothing above the product
    settings = profile("fast", shadow="synthetic").to_dict()
    settings["synthetic_shadow"]["drop"] = True
    from cutouts.imaging.settings import CutoutSettings

    drop = run_pipeline(rgb, CutoutSettings.from_dict(settings), colour_segmenter)
    assert drop.shadow.astype(np.float32).sum() > res.shadow.astype(np.float32).sum()
    assert encode.shadow_png(drop)[:8] == b"\x89PNG\r\n\x1a\n"


def test_it_removes_specks_and_fills_pin_holes_without_touching_glass():
    truth = np.zeros((H, W), np.float32)
    cv2.rectangle(truth, (200, 150), (660, 450), 1.0, -1)
    truth[290:296, 420:426] = 0.0  # a pin-hole
    noisy = truth.copy()
    noisy[40:44, 40:44] = 1.0  # a speck far away
    rgb = compose(noisy)
    res = run_pipeline(rgb, profile("fast"), ColourSegmenter(blur=0.0))
    a = alpha_f(res)
    assert a[38:46, 38:46].max() < 0.1
    assert a[290:296, 420:426].mean() > 0.9
    assert res.signals["fragment_count"] == 1
    off = run_pipeline(rgb, profile("fast", cleanup=False), ColourSegmenter(blur=0.0))
    assert alpha_f(off)[38:46, 38:46].max() > 0.3


def test_it_tiles_large_images_without_seams(colour_segmenter):
    rgb, _ = hair_scene()
    one = run_pipeline(rgb, profile("default"), ColourSegmenter())
    tiled = run_pipeline(rgb, profile("default", tile_size=256), ColourSegmenter())
    assert np.abs(one.alpha.astype(int) - tiled.alpha.astype(int)).max() <= 1
    diff = np.abs(one.rgba.astype(int) - tiled.rgba.astype(int))
    assert diff.mean() < 0.5


def test_it_writes_every_tile_of_the_cutout_into_its_place(colour_segmenter):
    # 256 px tiles of a 576 x 864 photo are views into the cutout, not contiguous arrays:
    # each must land where it belongs (OpenCV writes the merge into the view itself)
    rgb, _ = hair_scene()
    out = run_pipeline(rgb, profile("default", tile_size=256, decontaminate=False),
                       colour_segmenter)
    assert np.array_equal(out.rgba[..., 3], out.alpha)
    assert np.array_equal(out.rgba[..., :3], np.where(out.alpha[..., None] > 0, rgb, 0))


def test_it_reports_quality_signals(colour_segmenter):
    rgb, _ = hair_scene()
    sig = run_pipeline(rgb, profile("default"), colour_segmenter).signals
    for key in ("edge_softness_px", "halo_risk", "fragment_count", "uncertain_fraction",
                "fill_ratio", "touches_frame", "low_confidence", "pass_disagreement"):
        assert key in sig
    assert 0 < sig["fill_ratio"] < 0.5 and not sig["empty"]
    for key in ("band_fraction", "subjects", "removed_mass", "interior_alpha", "edge_support",
                "half_kept", "risk"):
        assert key in sig
    assert sig["edge_support"] > 0.95  # the cut follows the product's outline in the photo
    assert 0.0 < sig["risk"] < 1.0 and sig["subjects"] == 1
    empty = run_pipeline(compose(np.zeros((H, W), np.float32)), profile("fast"),
                         ColourSegmenter())
    assert empty.signals["empty"] and empty.signals["low_confidence"] and empty.bbox is None
    assert empty.signals["risk"] == 1.0  # nothing cut out: first in the review queue


def test_it_encodes_png_outputs(colour_segmenter):
    rgb, _ = glass_scene()
    res = run_pipeline(rgb, profile("fast"), colour_segmenter)
    from io import BytesIO

    from PIL import Image

    im = Image.open(BytesIO(encode.rgba_png(res)))
    assert im.mode == "RGBA" and im.size == (W, H)
    assert Image.open(BytesIO(encode.mask_png(res))).mode == "L"
    assert encode.shadow_png(res) is None


def test_it_rejects_non_rgb_input(colour_segmenter):
    with pytest.raises(ValueError, match="uint8 RGB"):
        run_pipeline(np.zeros((10, 10), np.uint8), profile("fast"), colour_segmenter)


def test_it_decodes_with_exif_orientation(tmp_path):
    from PIL import Image

    img = Image.new("RGB", (40, 20), tuple(int(v) for v in BG))
    img.paste(tuple(int(v) for v in FG), (0, 0, 10, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "x.jpg"
    img.save(path, exif=exif, quality=95)
    arr = encode.decode_image(path)
    assert arr.shape == (40, 20, 3)
    assert arr[2, 10, 0] > 150 and arr[2, 10, 1] < 90  # the red band is now on top


def test_it_works_below_the_working_resolution_like_huge_photos(monkeypatch):
    """Photos larger than WORK_MAX are fused at a reduced size and upsampled in tiles."""
    from cutouts.imaging import pipeline

    rgb, truth = glass_scene()
    full = run_pipeline(rgb, profile("default", shadow="synthetic"), ColourSegmenter())
    monkeypatch.setattr(pipeline, "WORK_MAX", 432)  # half of the 864 px width
    monkeypatch.setattr(pipeline, "CROP_BASE", 600)
    small = run_pipeline(rgb, profile("default", shadow="synthetic", tile_size=256),
                         ColourSegmenter())
    assert small.alpha.shape == truth.shape and small.shadow.shape == truth.shape
    assert np.abs(alpha_f(small) - truth).mean() < 2 * np.abs(alpha_f(full) - truth).mean()
    assert np.abs(alpha_f(small) - alpha_f(full)).mean() < 0.02


@pytest.mark.parametrize("name", ["fast", "default"])
def test_it_fills_decided_blocks_above_the_working_resolution_exactly(monkeypatch, name):
    """Blocks of background or core skip the per-pixel shaping, with the same bytes out."""
    from cutouts.imaging import pipeline, refine

    rgb, _ = feathered_scene()
    monkeypatch.setattr(pipeline, "WORK_MAX", 432)  # the alpha pass upsamples 2×
    monkeypatch.setattr(pipeline, "FLAT_BLOCK", 32)
    decided = []
    flat_maps = refine.flat_maps

    def spy(*args, **kwargs):
        maps = flat_maps(*args, **kwargs)
        decided.append(tuple(float(m.mean()) for m in maps))
        return maps

    monkeypatch.setattr(refine, "flat_maps", spy)
    skipped = run_pipeline(rgb, profile(name), ColourSegmenter())
    monkeypatch.setattr(refine, "flat_maps", lambda prob, *a: (
        np.zeros(prob.shape, bool), np.zeros(prob.shape, bool)))
    shaped = run_pipeline(rgb, profile(name), ColourSegmenter())
    assert decided and decided[0][0] > 0.2 and decided[0][1] > 0.05  # both kinds were skipped
    assert np.array_equal(skipped.alpha, shaped.alpha)
    assert np.array_equal(skipped.rgba, shaped.rgba)

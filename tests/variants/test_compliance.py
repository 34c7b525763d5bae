"""The compliance checker decodes files itself and flags every rule it knows."""

import io
import re
import struct

import numpy as np
import pytest
from PIL import Image, ImageCms

from cutouts.imaging.shadow import extract_contact_shadow
from cutouts.variants import (
    ComplianceResult,
    ModelLicence,
    Rules,
    check_rendered,
    check_variant,
    compliance,
    get_preset,
    licence_warnings,
    render_variant,
)
from cutouts.variants.operations import ICC_PROFILE_DATE
from cutouts.variants.presets import TRANSPARENT, WHITE_OR_TRANSPARENT
from cutouts.variants.render import srgb_icc_profile
from tests.imaging.sweep import BOX, sweep_scene
from tests.imaging.sweep import PRODUCT as MUG

from .synthetic import cutout, decode, encode

SMALL_WHITE = Rules(
    background="ffffff",
    min_fill_pct=85,
    min_long_side=200,
    max_long_side=1000,
    formats=frozenset({"jpeg"}),
    require_srgb=True,
    max_bytes=200_000,
)
GOOD_SPEC = "trim|fill-85|square-400|bg-ffffff|format-jpeg|srgb"


@pytest.fixture(scope="module")
def product():
    return cutout((400, 300), (100, 60, 300, 240))


@pytest.fixture(scope="module")
def good(product):
    return render_variant(product, GOOD_SPEC)


def jpeg(arr, icc=True, **kw):
    buf = io.BytesIO()
    extra = {"icc_profile": srgb_icc_profile()} if icc else {}
    Image.fromarray(arr).save(buf, "JPEG", quality=95, **extra, **kw)
    return buf.getvalue()


def png(arr, icc=True):
    buf = io.BytesIO()
    extra = {"icc_profile": srgb_icc_profile()} if icc else {}
    Image.fromarray(arr).save(buf, "PNG", **extra)
    return buf.getvalue()


def white(size=400):
    return np.full((size, size, 3), 255, np.uint8)


def with_product(arr, frac=0.9, color=(40, 40, 200)):
    h, w = arr.shape[:2]
    m = int(min(h, w) * (1 - frac) / 2)
    arr = arr.copy()
    arr[m:h - m, m:w - m, :3] = color
    return arr


def test_it_passes_a_good_render(good):
    result = check_rendered(good, SMALL_WHITE)
    assert result.ok, result.errors
    assert result.errors == [] and result.warnings == []
    assert result.summary() == "ok"
    assert result.measurements["width"] == 400 and result.measurements["fill_pct"] >= 85


def exif_bytes(gps):
    exif = Image.Exif()
    exif[0x010F] = "Cam"
    if gps:
        exif[0x8825] = {1: "N"}
    return exif.tobytes()


def fringe_png():
    """A white-background PNG that still carries a semi-transparent edge."""
    arr = np.dstack([with_product(white()), np.full((400, 400), 255, np.uint8)])
    arr[19:21, 19:381, 3] = 128
    return png(arr)


def grey_frame():
    arr = with_product(white())
    arr[:2, :] = 200
    return jpeg(arr)


def off_white():
    return jpeg(with_product(np.full((400, 400, 3), 250, np.uint8)))


def lab_profile_jpeg():
    buf = io.BytesIO()
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    Image.fromarray(with_product(white())).save(buf, "JPEG", icc_profile=icc)
    return buf.getvalue()


def framed():
    arr = with_product(white(), frac=0.7)
    arr[:6, :] = arr[-6:, :] = 0
    arr[:, :6] = arr[:, -6:] = 0
    return jpeg(arr)


def halo():
    arr = with_product(white(), frac=0.7)  # product at 60..340
    arr[20:30, 20:30] = 120  # a stray speckle in the margin, off the border frame
    return jpeg(arr)


CASES = [
    # (label, data factory, rules, kwargs, kind, fragment)
    ("semi-transparent fringe on white", fringe_png,
     Rules(background="ffffff"), {}, "error", "semi-transparent pixels"),
    ("grey frame", grey_frame, SMALL_WHITE, {}, "error", "background is not pure #FFFFFF"),
    ("off-white background", off_white, SMALL_WHITE, {}, "error", "(250, 250, 250)"),
    ("too small", lambda: jpeg(with_product(white(150))), SMALL_WHITE, {}, "error",
     "longest side is 150 px; at least 200 required"),
    ("too large", lambda: jpeg(with_product(white(1200))), SMALL_WHITE, {}, "error",
     "longest side is 1200 px; at most 1000 allowed"),
    ("shortest side", lambda: jpeg(with_product(white(150))), Rules(min_short_side=200), {},
     "error", "shortest side is 150 px"),
    ("not square", lambda: jpeg(np.full((300, 400, 3), 255, np.uint8)), Rules(square=True), {},
     "error", "square (1:1) image is required"),
    ("max pixels", lambda: jpeg(white()), Rules(max_pixels=100_000), {}, "error",
     "160,000 pixels"),
    ("recommended size", lambda: jpeg(white()), Rules(recommended_long_side=1600), {},
     "warning", "1600 recommended"),
    ("recommended short side", lambda: jpeg(white()), Rules(recommended_short_side=2000), {},
     "warning", "2000 recommended"),
    ("wrong format", lambda: png(with_product(white())), SMALL_WHITE, {}, "error",
     "format png is not accepted"),
    ("no icc", lambda: jpeg(with_product(white()), icc=False), SMALL_WHITE, {}, "error",
     "no ICC colour profile"),
    ("non-sRGB icc", lab_profile_jpeg, SMALL_WHITE, {}, "error", "not sRGB"),
    ("non-sRGB icc, not required", lab_profile_jpeg, Rules(), {}, "warning", "not sRGB"),
    ("file too big", lambda: jpeg(with_product(white())), Rules(max_bytes=1024), {}, "error",
     "the limit is 1,024"),
    ("fill too low", lambda: jpeg(with_product(white(), frac=0.6)), SMALL_WHITE, {}, "error",
     "at least 85% required"),
    ("fill from product box", lambda: jpeg(with_product(white())), SMALL_WHITE,
     {"product_bbox": (150, 150, 250, 250)}, "error", "product fills 25.0%"),
    ("product box outside", lambda: jpeg(with_product(white())), SMALL_WHITE,
     {"product_bbox": (0, 0, 500, 100)}, "error", "lies outside the 400x400 image"),
    ("product box empty", lambda: jpeg(with_product(white(), frac=0.5)), SMALL_WHITE,
     {"product_bbox": (0, 0, 50, 50)}, "error", "contains only background"),
    ("only background", lambda: jpeg(white()), SMALL_WHITE, {}, "error", "no product found"),
    ("gps exif", lambda: jpeg(with_product(white()), exif=exif_bytes(True)), SMALL_WHITE, {},
     "error", "GPS"),
    ("camera exif", lambda: jpeg(with_product(white()), exif=exif_bytes(False)), SMALL_WHITE,
     {}, "warning", "EXIF metadata present"),
    ("undecodable", lambda: b"not an image at all", SMALL_WHITE, {}, "error",
     "cannot be decoded"),
    ("border frame", framed, Rules(no_borders=True), {}, "error", "border/frame"),
    ("margin halo", halo, Rules(background="ffffff"), {"product_bbox": (60, 60, 340, 340)},
     "warning", "non-background pixels in the margins"),
    ("transparent rule, opaque file", lambda: png(with_product(white())),
     Rules(background=TRANSPARENT), {}, "warning", "no alpha channel"),
    ("white-or-transparent, grey", lambda: jpeg(with_product(np.full((400, 400, 3), 128,
                                                                    np.uint8))),
     Rules(background=WHITE_OR_TRANSPARENT), {}, "error", "not pure #FFFFFF"),
    ("AGPL model", lambda: jpeg(with_product(white())), SMALL_WHITE,
     {"model_licence": {"model": "some-net", "licence": "AGPL-3.0"}}, "warning", "AGPL"),
    ("RMBG-1.4", lambda: jpeg(with_product(white())), SMALL_WHITE,
     {"model_licence": "briaai/RMBG-1.4"}, "warning", "commercial use restricted"),
    ("non-commercial licence", lambda: jpeg(with_product(white())), SMALL_WHITE,
     {"model_licence": ModelLicence("x", "CC BY-NC 4.0")}, "warning",
     "commercial use restricted"),
]


@pytest.mark.parametrize(("label", "factory", "rules", "kwargs", "kind", "fragment"), CASES,
                         ids=[c[0] for c in CASES])
def test_it_flags_each_rule(label, factory, rules, kwargs, kind, fragment):
    result = check_variant(factory(), rules, **kwargs)
    messages = result.errors if kind == "error" else result.warnings
    assert any(fragment in m for m in messages), (result.errors, result.warnings)
    if kind == "error":
        assert not result.ok and result.summary().startswith("failed: ")
    else:
        assert result.ok, result.errors
        assert result.summary().startswith("ok (warnings: ")


def test_it_accepts_transparent_or_white_for_google_style_rules(product):
    rules = Rules(background=WHITE_OR_TRANSPARENT, min_fill_pct=80)
    clear = render_variant(product, "trim|fill-85|square-300|format-png|srgb")
    solid = render_variant(product, "trim|fill-85|square-300|bg-ffffff|format-png|srgb")
    for r in (clear, solid):
        result = check_rendered(r, rules)
        assert result.ok, result.errors
    assert check_rendered(clear, rules).measurements["background"] == "transparent"
    assert check_rendered(solid, rules).measurements["background"] == "#FFFFFF"


def test_it_does_not_trust_the_renderer_for_the_background(product):
    r = render_variant(product, "trim|fill-85|square-400|bg-fefefe|format-jpeg|srgb")
    result = check_rendered(r, SMALL_WHITE)
    assert not result.ok
    assert any("not pure #FFFFFF" in e for e in result.errors)


def test_it_flags_a_transparent_png_under_a_white_rule(product):
    r = render_variant(product, "trim|fill-85|square-400|format-png|srgb")
    result = check_rendered(r, Rules(background="ffffff"))
    assert any("semi-transparent" in e for e in result.errors)


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (None, []),
        ("u2netp (Apache-2.0)", []),
        ({"model": "u2netp", "licence": "Apache-2.0"}, []),
        ({"model": "RMBG-1.4", "licence": "bria-rmbg-1.4", "commercial_use": True}, []),
        ({"model": "rmbg_1.4"}, ["commercial use restricted"]),
        ({"model": "rmbg-2.0"}, ["commercial use restricted"]),
        ({"model": "x", "commercial_use": False}, ["commercial use restricted"]),
        ({"model": "x", "license": "Non-Commercial research only"},
         ["commercial use restricted"]),
        (ModelLicence("x", "AGPL-3.0-only"), ["AGPL"]),
        (ModelLicence("x-agpl", "AGPL-3.0, non-commercial"),
         ["commercial use restricted", "AGPL"]),
    ],
)
def test_it_warns_about_model_licences(info, expected):
    warnings = licence_warnings(info)
    assert len(warnings) == len(expected)
    for fragment, warning in zip(expected, warnings, strict=True):
        assert fragment in warning


def test_it_rejects_unknown_licence_types():
    with pytest.raises(TypeError):
        licence_warnings(42)


def test_it_summarises_results():
    r = ComplianceResult()
    assert r.summary() == "ok"
    r.warn("w1")
    assert r.summary() == "ok (warnings: w1)"
    r.error("e1")
    r.error("e2")
    assert r.summary() == "failed: e1; e2" and not r.ok


def test_margin_counting_matches_a_full_image_mask():
    """The banded margin count is exact: same number as masking the whole image."""
    from cutouts.variants.compliance import _background_mask, _count_outside

    rng = np.random.default_rng(7)
    for has_alpha in (False, True):
        arr = np.full((97, 131, 4 if has_alpha else 3), 255, np.uint8)
        idx = rng.integers(0, [97, 131], (400, 2))
        arr[idx[:, 0], idx[:, 1], rng.integers(0, arr.shape[2], 400)] = 254
        for rects in ([(10, 20, 90, 70), (0, 60, 120, 97)], [(-5, -5, 40, 200)],
                      [(30, 30, 31, 31), (100, 0, 140, 10)], []):
            mask = ~_background_mask(arr, (255, 255, 255), has_alpha)
            for x0, y0, x1, y1 in rects:
                mask[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = False
            assert _count_outside(arr, (255, 255, 255), has_alpha, rects) == int(mask.sum())


@pytest.mark.parametrize("quality", [50, 90])
def test_it_reads_a_jpeg_to_the_same_pixels_as_pillow(quality):
    rng = np.random.default_rng(quality)
    arr = with_product(white(300))
    arr[100:200, 100:200] = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=quality, icc_profile=srgb_icc_profile())
    data = buf.getvalue()
    fast = compliance._decode_jpeg(Image.open(io.BytesIO(data)), data)
    assert fast is not None
    assert np.array_equal(fast, np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


def test_it_refuses_a_truncated_jpeg():
    data = jpeg(with_product(white()))
    assert compliance._decode_jpeg(Image.open(io.BytesIO(data)), data[:-200]) is None
    result = check_variant(data[:-200], SMALL_WHITE)
    assert not result.ok and "cannot be decoded" in result.summary()


def test_it_embeds_an_srgb_profile_with_a_fixed_date():
    """LittleCMS stamps the current time: unfixed, every process encodes other bytes."""
    icc = srgb_icc_profile()
    assert struct.unpack(">6H", icc[24:36]) == ICC_PROFILE_DATE
    described = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    assert described.strip() == "sRGB built-in"


@pytest.mark.parametrize(("inside", "outer_speck", "framed"), [
    (175, 0, True),  # the inner colour 25 levels from the frame's: a drawn frame
    (176, 0, False),  # 24 levels: within tolerance
    (175, 12, True),  # one frame pixel 12 levels off: still a uniform frame
    (175, 13, False),  # 13 levels off: not uniform, so no drawn frame
])
def test_it_finds_a_border_by_the_frames_mean_and_spread(inside, outer_speck, framed):
    from cutouts.variants.compliance import _has_border

    arr = np.full((100, 100, 3), 200, np.uint8)
    arr[1:-1, 1:-1] = inside
    arr[0, 50] = 200 + outer_speck
    assert _has_border(arr) is framed


def test_it_maps_each_analysis_pixel_to_exactly_the_source_pixels_it_averages():
    """The ghost analysis's short cut rests on this: source pixels inside the footprint of a
    rectangle of the area-reduced image reach no reduced pixel outside it."""
    import cv2

    from cutouts.variants.compliance import _footprint_inside

    rng = np.random.default_rng(11)
    for _ in range(300):
        w, h = (int(v) for v in rng.integers(40, 700, 2))
        f = int(rng.integers(2, 6))
        ws, hs = -(-w // f), -(-h // f)
        a, b = (int(v) for v in rng.integers(0, [ws, hs]))
        c, d = int(rng.integers(a, ws + 1)), int(rng.integers(b, hs + 1))
        x0, y0, x1, y1 = _footprint_inside((a, b, c, d), (w, h), (ws, hs))
        arr = np.full((h, w, 3), 255, np.uint8)
        arr[y0:y1, x0:x1] = rng.integers(0, 255, (max(0, y1 - y0), max(0, x1 - x0), 3))
        small = cv2.resize(arr, (ws, hs), interpolation=cv2.INTER_AREA)
        outside = np.ones((hs, ws), bool)
        outside[b:d, a:c] = False
        assert (small[outside] == 255).all()
        # and the footprint is not needlessly small: one more column or row on a side that
        # is not the image's edge does reach outside
        if x0 > 0 and a < c and b < d:
            arr[y0:y1, x0 - 1] = 0
            small = cv2.resize(arr, (ws, hs), interpolation=cv2.INTER_AREA)
            assert not (small[outside] == 255).all()


def _marked(seed: int, size: int = 900) -> tuple[bytes, tuple[int, int, int, int]]:
    """A white JPEG with a product and, per seed, specks or blobs near or far from it (some
    just outside the halo tolerance, where the short cut must not hide them)."""
    import cv2

    rng = np.random.default_rng(seed)
    arr = np.full((size, size + int(rng.integers(0, 7))), 255, np.uint8)
    arr = np.dstack([arr] * 3)
    box = (200, 150, 700, 650)
    arr[box[1]:box[3], box[0]:box[2]] = (40, 60, 90)
    for _ in range(int(rng.integers(0, 4))):
        d = int(rng.choice([14, 17, 20, 26, 40, 150]))
        side = int(rng.integers(0, 4))
        x = [box[0] - d, box[2] + d, int(rng.integers(200, 700)), int(rng.integers(0, 900))][side]
        y = [int(rng.integers(150, 650)), int(rng.integers(150, 650)), box[1] - d,
             box[3] + d][side]
        value = int(rng.choice([0, 150, 240, 254]))
        cv2.circle(arr, (x, y), int(rng.choice([0, 1, 3, 8])), (value,) * 3, -1)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=int(rng.choice([80, 95])))
    return buf.getvalue(), box


def test_it_skips_the_ghost_analysis_only_where_it_would_find_nothing(monkeypatch):
    rules = Rules(background="ffffff", no_ghosts=True, product_clear_of_edges=True,
                  formats=frozenset({"jpeg"}))
    real = compliance._check_ghosts
    shortcuts = []

    def full(result, arr, paper, has_alpha, bbox, clean=None):
        return real(result, arr, paper, has_alpha, bbox)  # the whole analysis, always

    def counted(result, arr, paper, has_alpha, bbox, clean=None):
        resize = compliance.cv2.resize
        compliance.cv2.resize = lambda *a, **k: shortcuts.append(0) or resize(*a, **k)
        try:
            return real(result, arr, paper, has_alpha, bbox, clean)
        finally:
            compliance.cv2.resize = resize

    verdicts = set()
    for seed in range(60):
        data, box = _marked(seed)
        monkeypatch.setattr(compliance, "_check_ghosts", full)
        slow = check_variant(data, rules, product_bbox=box)
        monkeypatch.setattr(compliance, "_check_ghosts", counted)
        before = len(shortcuts)
        fast = check_variant(data, rules, product_bbox=box)
        assert (fast.ok, fast.errors, fast.warnings, fast.measurements) == \
            (slow.ok, slow.errors, slow.warnings, slow.measurements)
        verdicts.add((fast.ok, len(shortcuts) == before))
    # both ways were taken: clean files skip the analysis, files with ghosts fail as before
    assert (True, True) in verdicts and (False, False) in verdicts


@pytest.mark.parametrize("colour", [(255, 255, 255), (0, 0, 0), (240, 240, 240)])
@pytest.mark.parametrize("has_alpha", [False, True])
def test_it_counts_a_clean_margin_as_zero_on_the_fast_path(colour, has_alpha):
    from cutouts.variants.compliance import _background_mask, _count_not_background

    channels = 4 if has_alpha else 3
    arr = np.empty((40, 50, channels), np.uint8)
    arr[...] = (*colour, 255)[:channels]
    assert _count_not_background(arr, colour, has_alpha) == 0
    for y, x, c in ((0, 0, 0), (39, 49, channels - 1), (20, 7, 1)):
        marked = arr.copy()
        marked[y, x, c] ^= 1  # one level off in one channel, the alpha included
        expected = int((~_background_mask(marked, colour, has_alpha)).sum())
        assert expected == 1 and _count_not_background(marked, colour, has_alpha) == 1


# -- a kept natural shadow: it wraps the product's base, which is no ghost

def _kept_shadow_render(preset_name: str = "ebay", blob: tuple[int, int] | None = None):
    """The sweep scene's cutout with its extracted shadow layer, rendered for a marketplace;
    ``blob`` (x, y in the photo) adds a detached dark mark to the layer, as an extractor that
    kept a stain on the sweep would."""
    import cv2

    rgb, alpha, _ = sweep_scene()
    layer = np.clip(extract_contact_shadow(rgb, alpha) * 255 + 0.5, 0, 255).astype(np.uint8)
    if blob is not None:
        cv2.circle(layer, blob, 12, 120, -1)
    rgba = np.dstack([np.broadcast_to(MUG.astype(np.uint8), (*alpha.shape, 3)),
                      np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)])
    preset = get_preset(preset_name)
    r = render_variant(Image.fromarray(rgba, "RGBA"), preset.spec, shadow=Image.fromarray(layer))
    ys, xs = np.nonzero(alpha > 0)
    # photo pixel -> output pixel, from the product's box in each
    scale = (r.product_bbox[2] - r.product_bbox[0]) / (xs.max() + 1 - xs.min())

    def to_output(x: float, y: float) -> tuple[float, float]:
        return (r.product_bbox[0] + (x - xs.min()) * scale,
                r.product_bbox[1] + (y - ys.min()) * scale)

    return r, preset, to_output


@pytest.mark.parametrize("preset_name", ["ebay", "etsy"])
def test_it_passes_a_kept_shadow_that_wraps_the_products_base(preset_name):
    r, preset, _ = _kept_shadow_render(preset_name)
    result = check_rendered(r, preset)
    assert result.ok, result.errors
    assert not any("margins" in w for w in result.warnings), result.warnings
    # the shadow does rise beside the base, past the halo tolerance and above the bottom edge
    _, arr = decode(r.data)
    x0, _, _, y1 = r.product_bbox
    t = compliance.HALO_TOLERANCE_PX
    beside = 255 - arr[: y1 - 2 * t, : x0 - 2 * t]
    assert int((beside.max(axis=2) >= compliance.INK_LEVEL).sum()) > 500


def test_it_still_calls_a_mark_detached_from_the_product_a_ghost():
    # one beside the base, inside the zone a kept shadow may take but not joined to the product
    near = (BOX[2] + 70, BOX[3] - 40)
    r, preset, to_output = _kept_shadow_render(blob=near)
    result = check_rendered(r, preset)
    assert any("ghosts" in e for e in result.errors), result.errors
    gx, gy = (int(v) for v in re.search(r"near x=(\d+), y=(\d+)", result.summary()).groups())
    bx, by = to_output(*near)
    assert abs(gx - bx) < 60 and abs(gy - by) < 60, (gx, gy, bx, by)
    # and one far from it
    r, preset, _ = _kept_shadow_render(blob=(BOX[0] - 65, BOX[1] - 10))
    assert any("ghosts" in e for e in check_rendered(r, preset).errors)


def test_it_reports_where_a_ghost_lies_not_the_box_its_mark_shares_with_the_product():
    arr = np.full((1000, 1000, 3), 255, np.uint8)
    arr[300:700, 300:700] = (40, 60, 90)
    arr[380:420, 100:305] = (90, 90, 90)  # a streak leaving the product's upper half
    result = check_variant(encode(arr), Rules(background="ffffff", no_ghosts=True),
                           product_bbox=(300, 300, 700, 700))
    assert not result.ok
    gx, gy = (int(v) for v in re.search(r"near x=(\d+), y=(\d+)", result.summary()).groups())
    assert gx <= 110 and 370 <= gy <= 390, result.errors  # not the product's top (y=300)


# --- a product too small in the cutout to make an image of (QA: a 9x10 speck shipped "ok")


def test_it_fails_a_speck_enlarged_far_past_the_limit_instead_of_warning():
    from cutouts.variants import PRESETS
    from cutouts.variants.compliance import MAX_ENLARGEMENT

    # a cutout that kept a 9x10 px blob of an 1100 x 825 photo: eBay enlarges it 136x
    speck = cutout(size=(1100, 825), box=(500, 400, 509, 410), shape="rect")
    rendered = render_variant(speck, PRESETS["ebay"].spec)
    assert rendered.metadata["scale"] > MAX_ENLARGEMENT
    result = check_rendered(rendered, PRESETS["ebay"])
    assert not result.ok
    assert result.summary().startswith("failed: the product is only 9x10 px in the cutout")
    # a 40 px product (not a speck) still fails the enlargement: 1360 px from 40 is 34x
    small = cutout(size=(1100, 825), box=(500, 400, 540, 430), shape="rect")
    result = check_rendered(render_variant(small, PRESETS["ebay"].spec), PRESETS["ebay"])
    assert result.errors == [
        "the product is enlarged 34.0x from 40x30 px in the cutout, over the 8x limit, and "
        "would be a blur; check the cutout kept the whole product (re-cut or retouch it) or "
        "use a closer or larger photo"]
    assert result.measurements["enlargement"] == 34.0
    assert result.measurements["source_product_size"] == [40, 30]


def test_it_fails_a_speck_exported_without_a_size():
    from cutouts.variants import PRESETS

    # trim only: the 9x10 px PNG is not enlarged at all, and still no product image
    speck = cutout(size=(1100, 825), box=(500, 400, 509, 410), shape="rect")
    rendered = render_variant(speck, PRESETS["transparent_png"].spec)
    assert (rendered.width, rendered.height) == (9, 10)
    result = check_rendered(rendered, PRESETS["transparent_png"])
    assert not result.ok and "only 9x10 px in the cutout (at least 32 px" in result.errors[0]


def test_it_only_warns_when_an_ordinary_product_is_enlarged():
    from cutouts.variants import PRESETS

    # a 500 px product filled to 85 % of Amazon's 2000 px: 3.4x, soft but shipped
    photo = cutout(size=(800, 700), box=(150, 100, 650, 600))
    rendered = render_variant(photo, PRESETS["amazon_main"].spec)
    result = check_rendered(rendered, PRESETS["amazon_main"])
    for warning in rendered.warnings:
        result.warn(warning)
    assert result.ok, result.errors
    assert result.summary().startswith("ok (warnings: the product is enlarged 3.4x")
    # a 212 px product is enlarged 8.0x (the limit, as printed): still only a warning
    edge = cutout(size=(800, 700), box=(300, 250, 512, 462), shape="rect")
    at_limit = render_variant(edge, PRESETS["amazon_main"].spec)
    assert round(at_limit.metadata["scale"], 1) == 8.0
    assert check_rendered(at_limit, PRESETS["amazon_main"]).ok


def test_a_re_check_of_a_stored_file_applies_the_source_limits():
    from cutouts.variants import PRESETS

    # edited rules re-check the stored bytes: the renderer's facts come from the first check
    data = encode(np.full((1600, 1600, 3), 255, np.uint8), "JPEG")
    result = check_variant(data, PRESETS["ebay"].rules, enlargement=136.0,
                           source_product_size=(9, 10))
    assert not result.ok and "only 9x10 px" in result.errors[0]


# --- the enlargement limit told before export (QA: a 112x107 px product passed review with no
# pre-flag, then export left it out of amazon_main, shopify, google_shopping and walmart)


def test_it_tells_which_marketplaces_would_refuse_a_small_product_for_its_size():
    from cutouts.variants import PRESETS
    from cutouts.variants.compliance import MAX_ENLARGEMENT, export_size, too_small_for_export

    size = export_size(112, 107)
    assert size is not None and size.too_small and size.product_px == 112
    # the side it measures is named, so the card never reads a tall product's height as width
    assert size.side == "wide" and getattr(export_size(107, 112), "side", None) == "tall"
    assert {"amazon_main", "walmart", "shopify", "google_shopping"} <= set(size.refused_by)
    assert "transparent_png" not in size.refused_by  # a master is not enlarged
    assert "Amazon main image" in size.refused_labels
    # the largest marketplace canvas sets the need: Walmart fills 85 % of 2200 px (1870 px)
    assert size.needed_px == 233 > 1870 / (MAX_ENLARGEMENT + 0.05)
    assert too_small_for_export({"product_px": [112, 107]})
    assert too_small_for_export({"product_px": (112, 107)})
    # a square product of the needed size passes everywhere, one pixel less does not
    assert not export_size(233, 233).too_small
    assert not too_small_for_export({"product_px": [233, 233]})
    assert export_size(232, 232).refused_by == ("walmart",)
    # each refusing preset's own need, in the same order (QA qa41a: the card named Etsy's
    # need as every marketplace's)
    assert dict(zip(size.refused_by, size.needs, strict=True))["walmart"] == 233
    assert dict(zip(size.refused_by, size.needs, strict=True))["amazon_main"] == 212
    assert max(size.needs) == size.needed_px
    # Amazon's 2000 px canvas (1700 px of product) refuses under 212 px, as compliance does
    amazon = [PRESETS["amazon_main"]]
    assert export_size(211, 200, amazon).too_small
    assert not export_size(212, 200, amazon).too_small
    # no product, or a missing / malformed signal (an older cutout): no verdict
    assert export_size(0, 0) is None
    assert not any(too_small_for_export({"product_px": v})
                   for v in (None, [], [0, 0], [True, 5], "112x107"))
    assert not too_small_for_export({})


def test_it_stores_the_products_size_as_the_renderer_measures_and_lays_it_out():
    """QA33 L4: the stored size was a working-copy measure (alpha >= 0.5), the export's the
    significant region's box; an enlarging fill is measured on what survives the ripple
    cut-off. A solid 200 px core, 4 px of rim at alpha 64 and 2 px at alpha 24."""
    from cutouts.variants import PRESETS, render_variant
    from cutouts.variants.compliance import export_signals, layout_scale

    alpha = np.zeros((600, 800), np.uint8)
    alpha[194:406, 294:506] = 24
    alpha[196:404, 296:504] = 64
    alpha[200:400, 300:500] = 255
    measured = export_signals(alpha)
    assert (measured["product_px"], measured["product_fill_px"]) == ([208, 208], [212, 212])
    rgba = np.zeros((600, 800, 4), np.uint8)
    rgba[..., 3] = alpha
    spec = PRESETS["amazon_main"].variant_spec
    rendered = render_variant(Image.fromarray(rgba, "RGBA"), spec)
    x0, y0, x1, y1 = rendered.metadata["source_product_bbox"]
    assert [x1 - x0, y1 - y0] == measured["product_px"]
    # the scale export checks, from the stored sizes alone: 1700 px of fill over 212, 8.0x
    scale = layout_scale(spec, (800, 600), (208, 208), (212, 212))
    assert scale == pytest.approx(rendered.metadata["scale"], abs=1e-6)
    assert round(scale, 1) == 8.0
    # without the fill box (a version stored before it) it lays out on the product: 8.2x
    assert round(layout_scale(spec, (800, 600), (208, 208), None), 1) == 8.2
    assert export_signals(np.zeros((60, 80), np.uint8))["product_px"] == [0, 0]


@pytest.mark.parametrize("box", [(0, 0, 211, 200), (0, 0, 212, 200)])
def test_it_says_before_export_what_the_export_check_then_does(box):
    # the same layout and comparison as check_source on a rendered file, either side of the
    # limit on Amazon's main image
    from cutouts.variants import PRESETS
    from cutouts.variants.compliance import export_size

    preset = PRESETS["amazon_main"]
    small = cutout(size=(400, 300), box=(100, 50, 100 + box[2], 50 + box[3]), shape="rect")
    rendered = render_variant(small, preset.spec)
    refused = any("over the 8x limit" in e for e in check_rendered(rendered, preset).errors)
    assert export_size(box[2], box[3], [preset]).too_small is refused
    assert refused is (box[2] == 211)


# --- QA: a scene on a photo whose edges are mostly sky was failed as "product cut off" (the
# photo's content at the canvas edge counted as product)


def sky_banner(size=(1920, 600)) -> Image.Image:
    """A photo background whose frame is mostly plain sky: dark hill, tree and cloud reach
    the edges over about a fifth of the frame (under the old scene test's 25 %)."""
    w, h = size
    arr = np.full((h, w, 3), (200, 220, 250), np.uint8)
    arr[h - 120:, :400] = (40, 70, 30)  # a hill in the bottom-left corner
    arr[350:, w - 40:] = (60, 40, 20)  # a tree trunk on the right edge
    arr[:30, 900:1050] = (90, 90, 100)  # a cloud cut by the top edge
    return Image.fromarray(arr)


def _on_sky(name: str):
    from cutouts.variants.presets import with_background
    from cutouts.variants.scene import SceneAsset

    preset = with_background(get_preset(name), "sky")
    assets = {"sky": SceneAsset(sky_banner(), floor_pct=80.0)}
    photo = cutout(size=(400, 300), box=(100, 60, 300, 240))
    return preset, render_variant(photo, preset.variant_spec, assets=assets)


def test_it_judges_a_scenes_product_by_its_placed_box_not_the_photo_at_the_edge():
    preset, rendered = _on_sky("web_hero")
    # the product sits well inside the banner: the photo's own edges are no product
    x0, y0, x1, y1 = rendered.product_bbox
    assert x0 > 0 and y0 > 0 and x1 < rendered.width and y1 < rendered.height
    result = check_rendered(rendered, preset)
    assert result.ok, result.errors
    assert result.measurements["edges_touched"] == []
    assert result.measurements["scene"] is True
    # a re-check of the stored file (edited rules) gets the same verdict from the same facts
    again = check_variant(rendered.data, preset.rules, product_bbox=rendered.product_bbox,
                          scene=True)
    assert again.ok, again.errors


def test_it_still_fails_a_scene_whose_product_box_reaches_the_canvas_edge():
    preset, rendered = _on_sky("web_hero")
    x0, y0, x1, y1 = rendered.product_bbox
    result = check_variant(rendered.data, preset.rules, product_bbox=(0, y0, x1, y1),
                           scene=True)
    assert result.errors == ["the product reaches the left edge of the canvas (touching it or "
                             "cut off)"]


# --- QA: a product cut by the photo's own frame shipped to Amazon main as "ok" (a straight
# hard cut the canvas margins cannot show)


def _alpha_cutout(alpha: np.ndarray) -> Image.Image:
    rgba = np.zeros((*alpha.shape, 4), np.uint8)
    rgba[..., :3] = (200, 30, 30)
    rgba[..., 3] = alpha
    return Image.fromarray(rgba)


_CUT_BOTTOM = ("the product is cut off by the photo's edge (bottom): the image cannot show the "
               "whole product; use a photo with space around it")


def test_it_fails_amazon_main_when_the_photos_edge_cuts_the_product():
    from cutouts.variants import PRESETS

    # a box standing on the photo's bottom edge: its base is cut by the frame
    cut = cutout(size=(854, 480), box=(300, 100, 700, 480), shape="rect")
    rendered = render_variant(cut, PRESETS["amazon_main"].spec)
    assert rendered.metadata["frame_cut"] == ["bottom"]
    result = check_rendered(rendered, PRESETS["amazon_main"])
    # Amazon's main image must show the whole product: refused, not a matter of taste
    assert not result.ok
    assert result.errors == [_CUT_BOTTOM + " (the marketplace requires the whole product in "
                                           "the frame)"]
    assert result.measurements["frame_cut"] == ["bottom"]
    # a re-check of the stored file (edited rules) applies the recorded fact again
    again = check_variant(rendered.data, PRESETS["amazon_main"].rules,
                          product_bbox=rendered.product_bbox, frame_cut=["bottom", "bogus"])
    assert not again.ok and any("photo's edge (bottom)" in e for e in again.errors)
    assert again.measurements["frame_cut"] == ["bottom"]


def test_it_fails_only_where_the_marketplace_requires_the_whole_product():
    from cutouts.variants import PRESETS

    cut = cutout(size=(854, 480), box=(300, 100, 700, 480), shape="rect")
    outcome = {}
    for name in ("amazon_main", "walmart", "google_shopping", "ebay", "transparent_png"):
        result = check_rendered(render_variant(cut, PRESETS[name].spec), PRESETS[name])
        said = [("error", m) for m in result.errors] + [("warning", m) for m in result.warnings]
        outcome[name] = [kind for kind, m in said if "photo's edge" in m]
    # Walmart's and Google's published rules ask for no whole product: a warning there; the
    # master is the cutout as it is
    assert outcome == {"amazon_main": ["error"], "walmart": ["warning"],
                       "google_shopping": ["warning"], "ebay": ["warning"],
                       "transparent_png": []}


@pytest.mark.parametrize("position", ["PT01", "PT08", "SWCH"])
def test_it_fails_a_cut_product_on_amazons_main_image_only(position):
    from cutouts.variants import PRESETS

    # QA: a doll's face as PT01 was excluded "(the marketplace requires the whole product in
    # the frame)"; Amazon asks the whole product of the MAIN image, and its additional
    # images and swatch may be close-ups and details, so a cut there says nothing
    preset = PRESETS["amazon_main"]
    cut = cutout(size=(854, 480), box=(300, 100, 700, 480), shape="rect")
    rendered = render_variant(cut, preset.spec)
    detail = check_rendered(rendered, preset, position=position)
    assert detail.ok and detail.errors == []
    assert not any("photo's edge" in w for w in detail.warnings)
    assert detail.measurements["frame_cut"] == ["bottom"]
    assert detail.measurements["position"] == position
    main = check_rendered(rendered, preset, position="MAIN")
    assert main.errors == [_CUT_BOTTOM + " (the marketplace requires the whole product in the "
                                         "frame)"]
    # an unknown position is judged as the main image: the rule is not silently dropped
    assert not check_rendered(rendered, preset).ok
    # other listing presets warn at every position, as before
    ebay = check_rendered(render_variant(cut, PRESETS["ebay"].spec), PRESETS["ebay"],
                          position=position)
    assert ebay.ok and any("photo's edge" in w for w in ebay.warnings)


def test_it_keeps_the_whole_product_rule_through_the_admins_json():
    from cutouts.variants import PRESETS, Rules

    rules = PRESETS["amazon_main"].rules
    assert rules.whole_product
    assert Rules.from_dict(rules.to_dict()) == rules
    assert not PRESETS["walmart"].rules.whole_product


def test_it_reads_only_the_products_solid_alpha_at_the_photos_edge():
    from cutouts.variants import PRESETS

    whole = np.zeros((480, 854), np.uint8)
    whole[100:470, 300:700] = 255
    whole[470:, 300:700] = 60  # a faint rim reaching the frame: not a cut (alpha < 0.5)
    rendered = render_variant(_alpha_cutout(whole), PRESETS["amazon_main"].spec)
    assert rendered.metadata["frame_cut"] == []
    assert not any("photo's edge" in w for w in check_rendered(
        rendered, PRESETS["amazon_main"]).warnings)
    # a solid part cut by the frame but far from the product is left out of the layout
    apart = np.zeros((480, 854), np.uint8)
    apart[100:400, 300:600] = 255
    apart[440:, :60] = 255
    rendered = render_variant(_alpha_cutout(apart), PRESETS["amazon_main"].spec)
    assert rendered.metadata["frame_cut"] == []
    assert any("detached part" in w for w in rendered.warnings)


# --- QA: a cutout that kept only a 50x44 px wheel was refused by every marketplace preset but
# its transparent masters shipped "ok"


@pytest.mark.parametrize("name", ["transparent_png", "transparent_webp"])
def test_it_warns_on_a_master_every_marketplace_would_refuse_for_its_size(name):
    from cutouts.variants import PRESETS

    wheel = cutout(size=(854, 480), box=(400, 200, 450, 244))
    rendered = render_variant(wheel, PRESETS[name].spec)
    assert rendered.metadata["scale"] == 1.0
    result = check_rendered(rendered, PRESETS[name])
    assert result.ok, result.errors  # small, not a speck: the master itself is fine
    (warning,) = [w for w in result.warnings if "over the 8x limit" in w]
    assert warning.startswith("the product is only 51x45 px in the cutout (this file keeps it "
                               "at that size and passes); every marketplace preset's variant "
                               "(Amazon main image, eBay, …) would enlarge it over the 8x")
    assert "Amazon main image" in warning and "(at least 240 px wide needed)" in warning
    # the marketplace variant fails in the same words
    amazon = check_rendered(render_variant(wheel, PRESETS["amazon_main"].spec),
                            PRESETS["amazon_main"])
    assert "from 51x45 px in the cutout, over the 8x limit" in amazon.errors[0]


def test_it_does_not_warn_on_a_master_large_enough_for_every_marketplace():
    from cutouts.variants import PRESETS

    photo = cutout(size=(800, 700), box=(150, 100, 650, 600))
    result = check_rendered(render_variant(photo, PRESETS["transparent_png"].spec),
                            PRESETS["transparent_png"])
    assert result.ok and not any("8x limit" in w for w in result.warnings)


def test_it_names_the_preset_variant_a_master_size_warning_is_about(monkeypatch):
    """QA 2026-12-06: on the Transparent PNG master's row "the Walmart preset would enlarge it
    over the 8x limit" read as if the PNG were enlarged: the warning says the file passes and
    names the preset's variant it is about."""
    from cutouts.variants import PRESETS, compliance

    walmart = PRESETS["walmart"]
    real = compliance.export_size
    # the size check asked of the Walmart preset alone: only its variant would refuse it
    monkeypatch.setattr(compliance, "export_size",
                        lambda w, h, presets=None, **kw: real(w, h, [walmart], **kw))
    wheel = cutout(size=(854, 480), box=(400, 200, 450, 244))
    result = check_rendered(render_variant(wheel, PRESETS["transparent_png"].spec),
                            PRESETS["transparent_png"])
    (warning,) = [w for w in result.warnings if "over the 8x limit" in w]
    assert warning.startswith(
        f"the product is only 51x45 px in the cutout (this file keeps it at that size and "
        f"passes); the {walmart.label} preset's variant would enlarge it over the 8x limit and "
        "be refused")
    assert f"the {walmart.label} preset would" not in warning

"""The compliance checker decodes files itself and flags every rule it knows."""

import io
import struct

import numpy as np
import pytest
from PIL import Image, ImageCms

from cutouts.variants import (
    ComplianceResult,
    ModelLicence,
    Rules,
    check_rendered,
    check_variant,
    compliance,
    licence_warnings,
    render_variant,
)
from cutouts.variants.operations import ICC_PROFILE_DATE
from cutouts.variants.presets import TRANSPARENT, WHITE_OR_TRANSPARENT
from cutouts.variants.render import srgb_icc_profile

from .synthetic import cutout

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

"""Rendering: the effect of every operation, compositing purity, shadows, encoding, max bytes."""

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from cutouts.variants import (
    MaxBytesError,
    RenderError,
    Rules,
    SourceImage,
    check_variant,
    parse_spec,
    render_variant,
)
from cutouts.variants import render as render_module
from cutouts.variants.compliance import MAX_ENLARGEMENT
from cutouts.variants.render import MIN_QUALITY

from .synthetic import HIDDEN, PRODUCT, cutout, decode, noise_image, shadow_below

SIZE = (400, 300)
BOX = (100, 60, 300, 240)  # product 200 x 180


@pytest.fixture(scope="module")
def rgba():
    return cutout(SIZE, BOX)


@pytest.fixture(scope="module")
def square_red():
    """Hard-edged pure red square over a loud hidden colour: catches any fringe."""
    return cutout((300, 300), (37, 41, 263, 259), color=(255, 0, 0), shape="rect")


def alpha_bbox(arr):
    a = arr[..., 3]
    rows, cols = np.flatnonzero(a.any(axis=1)), np.flatnonzero(a.any(axis=0))
    return cols[0], rows[0], cols[-1] + 1, rows[-1] + 1


def source_bbox(im, threshold=8):
    return im.getchannel("A").point([0] * threshold + list(range(threshold, 256))).getbbox()


# ---------------------------------------------------------------- each operation's effect


def check_trim(r, arr, src):
    x0, y0, x1, y1 = source_bbox(src)
    assert (r.width, r.height) == (x1 - x0, y1 - y0)


def check_no_trim(r, arr, src):
    assert (r.width, r.height) == src.size


def check_fill(r, arr, src):
    assert (r.width, r.height) == (500, 500)
    assert 80 <= r.fill_pct <= 80.6
    x0, y0, x1, y1 = r.product_bbox
    assert 400 <= max(x1 - x0, y1 - y0) <= 403


def check_margin(r, arr, src):
    x0, y0, x1, y1 = source_bbox(src)
    assert (r.width, r.height) == (x1 - x0 + 20, y1 - y0 + 20)
    assert (arr[:10, :, 3] == 0).all() and (arr[-10:, :, 3] == 0).all()
    assert (arr[:, :10, 3] == 0).all() and (arr[:, -10:, 3] == 0).all()


def check_margin4(r, arr, src):
    x0, y0, x1, y1 = source_bbox(src)
    assert (r.width, r.height) == (x1 - x0 + 40 + 10, y1 - y0 + 5 + 20)
    bx0, by0, bx1, by1 = alpha_bbox(arr)
    assert (bx0, by0, r.width - bx1, r.height - by1) == (10, 5, 40, 20)


def check_canvas(r, arr, src):
    assert (r.width, r.height) == (640, 480)
    x0, y0, x1, y1 = r.product_bbox
    assert abs((x0 + x1) / 2 - 320) <= 1 and abs((y0 + y1) / 2 - 240) <= 1
    assert y1 - y0 == 480 or x1 - x0 == 640  # fitted to the canvas


def check_fit(r, arr, src):
    assert max(r.width, r.height) == 100 and min(r.width, r.height) < 100
    assert abs(r.width / r.height - 200 / 180) < 0.03


def check_cover(r, arr, src):
    assert (r.width, r.height) == (100, 100)
    # 400x300 covered at 1/3: the product (ellipse) fills the height band fully
    x0, y0, x1, y1 = r.product_bbox
    assert y1 - y0 >= 59


def check_long(r, arr, src):
    assert max(r.width, r.height) == 1000


def check_short(r, arr, src):
    assert min(r.width, r.height) == 200
    assert max(r.width, r.height) > 200


def check_square(r, arr, src):
    x0, y0, x1, y1 = source_bbox(src)
    assert r.width == r.height == max(x1 - x0, y1 - y0)


def check_square_n(r, arr, src):
    assert r.width == r.height == 256


def check_align_bottom(r, arr, src):
    # fill 80 on 500x500: product 400 px; default floor = the side gap = 50 px
    assert r.height - r.product_bbox[3] == 50


def check_align_bottom_n(r, arr, src):
    assert r.height - r.product_bbox[3] == 12


def check_align_center(r, arr, src):
    x0, y0, x1, y1 = r.product_bbox
    assert abs(y0 - (r.height - y1)) <= 1 and abs(x0 - (r.width - x1)) <= 1


def check_bg_color(r, arr, src):
    assert arr.shape[2] == 3
    assert (arr[0, 0] == (18, 52, 86)).all() and (arr[-1, -1] == (18, 52, 86)).all()


def check_bg_transparent(r, arr, src):
    assert arr.shape[2] == 4 and arr[0, 0, 3] == 0


def check_format_png(r, arr, src):
    assert r.format == "png" and r.data[:8] == b"\x89PNG\r\n\x1a\n"


def check_format_jpeg(r, arr, src):
    assert r.format == "jpeg" and r.data[:3] == b"\xff\xd8\xff" and r.extension == "jpg"


def check_format_webp(r, arr, src):
    assert r.format == "webp" and r.data[8:12] == b"WEBP" and r.mime_type == "image/webp"


def check_format_avif(r, arr, src):
    assert r.format == "avif" and b"ftypavif" in r.data[:32]
    assert Image.open(io.BytesIO(r.data)).format == "AVIF"


def check_quality(r, arr, src):
    assert r.metadata["quality"] == 40


def check_lossless(r, arr, src):
    _, ref = decode(render_variant(src, "trim|format-png").data)
    visible = ref[..., 3] > 0
    assert (arr[visible] == ref[visible]).all()


def check_srgb(r, arr, src):
    icc = Image.open(io.BytesIO(r.data)).info.get("icc_profile")
    assert icc and "sRGB" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(
        io.BytesIO(icc)))


def check_no_icc(r, arr, src):
    assert "icc_profile" not in Image.open(io.BytesIO(r.data)).info


def check_dpi(r, arr, src):
    dpi = Image.open(io.BytesIO(r.data)).info["dpi"]
    assert tuple(round(v) for v in dpi) == (300, 300)


def check_maxbytes_fits(r, arr, src):
    assert len(r.data) <= 20_000


def check_shadow_none(r, arr, src):
    x0, y0, x1, y1 = r.product_bbox
    assert (arr[y1 + 2:, :, :3] == 255).all()


def check_shadow_keep(r, arr, src):
    x0, y0, x1, y1 = r.product_bbox
    assert arr[y1 + 2:, x0:x1, :3].min() < 200  # darker pixels under the product


def check_shadow_synthetic(r, arr, src):
    x0, y0, x1, y1 = r.product_bbox
    below = arr[y1:y1 + 15, x0:x1, :3]
    assert below.min() < 245 and (arr[0, 0] == 255).all()


EFFECTS = [
    ("trim", "trim|format-png", check_trim),
    ("trim (absent)", "format-png", check_no_trim),
    ("fill", "trim|fill-80|canvas-500x500|format-png", check_fill),
    ("margin", "trim|margin-10|format-png", check_margin),
    ("margin T,R,B,L", "trim|margin-5,40,20,10|format-png", check_margin4),
    ("canvas", "trim|canvas-640x480|format-png", check_canvas),
    ("fit", "trim|fit-100x100|format-png", check_fit),
    ("cover", "cover-100x100|format-png", check_cover),
    ("long", "trim|long-1000|format-png", check_long),
    ("short", "trim|short-200|format-png", check_short),
    ("square", "trim|square|format-png", check_square),
    ("square-N", "trim|square-256|format-png", check_square_n),
    ("align-bottom", "trim|fill-80|canvas-500x500|align-bottom|format-png", check_align_bottom),
    ("align-bottom-N", "trim|fill-80|canvas-500x500|align-bottom-12|format-png",
     check_align_bottom_n),
    ("align-center", "trim|fill-80|canvas-500x400|align-center|format-png", check_align_center),
    ("bg colour", "trim|margin-4|bg-123456|format-png", check_bg_color),
    ("bg transparent", "trim|margin-4|bg-transparent|format-png", check_bg_transparent),
    ("format-png", "trim|format-png", check_format_png),
    ("format-jpeg", "trim|bg-ffffff|format-jpeg", check_format_jpeg),
    ("format-webp", "trim|format-webp", check_format_webp),
    ("format-avif", "trim|fit-64x64|format-avif", check_format_avif),
    ("quality", "trim|bg-ffffff|format-jpeg|quality-40", check_quality),
    ("lossless", "trim|format-webp|lossless", check_lossless),
    ("srgb", "trim|format-png|srgb", check_srgb),
    ("srgb (absent)", "trim|format-png", check_no_icc),
    ("srgb jpeg", "trim|bg-fff|format-jpeg|srgb", check_srgb),
    ("srgb webp", "trim|format-webp|srgb", check_srgb),
    ("dpi png", "trim|format-png|dpi-300", check_dpi),
    ("dpi jpeg", "trim|bg-fff|format-jpeg|dpi-300", check_dpi),
    ("maxbytes", "trim|long-800|bg-fff|format-jpeg|quality-95|maxbytes-20000",
     check_maxbytes_fits),
    ("shadow-none", "trim|fill-80|canvas-500x500|bg-ffffff|shadow-none|format-png",
     check_shadow_none),
    ("shadow-keep", "trim|fill-80|canvas-500x500|bg-ffffff|shadow-keep|format-png",
     check_shadow_keep),
    ("shadow-synthetic", "trim|fill-80|canvas-500x500|bg-ffffff|shadow-synthetic|format-png",
     check_shadow_synthetic),
]


@pytest.mark.parametrize(("label", "spec", "check"), EFFECTS, ids=[e[0] for e in EFFECTS])
def test_it_applies_each_operation(rgba, label, spec, check):
    shadow = shadow_below(SIZE, BOX, depth=50)
    r = render_variant(rgba, spec, shadow=shadow)
    im, arr = decode(r.data)
    assert im.size == (r.width, r.height)
    check(r, arr, rgba)


def test_it_covers_every_operation_in_the_effect_table():
    from cutouts.variants import OPERATIONS

    used = {op.name for _, spec, _ in EFFECTS for op in parse_spec(spec).operations}
    # keepmeta has its own tests below; the scene operations have tests/variants/test_scene.py
    scene_only = {"safe", "scale", "floor", "harmonize", "logo"}
    assert used == set(OPERATIONS) - {"keepmeta"} - scene_only


# ---------------------------------------------------------------- compositing purity


@pytest.mark.parametrize("spec", [
    "trim|fill-85|canvas-997x1003|bg-ffffff|format-png",  # upscale, odd sizes
    "trim|fill-85|canvas-131x127|bg-ffffff|format-png",  # downscale
    "trim|margin-7|long-333|bg-ffffff|format-png",
])
def test_it_premultiplies_so_no_fringe_appears_on_white(square_red, spec):
    r = render_variant(square_red, spec)
    _, arr = decode(r.data)
    # red over white is (255, v, v): any leak of the hidden green or black breaks this
    assert (arr[..., 0] == 255).all()
    assert (arr[..., 1] == arr[..., 2]).all()
    assert (arr[0] == 255).all() and (arr[:, 0] == 255).all()


def test_it_keeps_exact_background_where_alpha_is_zero(rgba):
    r = render_variant(rgba, "trim|fill-85|canvas-600x600|bg-ffffff|format-png")
    _, arr = decode(r.data)
    x0, y0, x1, y1 = r.product_bbox
    outside = np.ones(arr.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert (arr[outside] == 255).all()


def test_it_keeps_true_colours_on_transparent_edges(square_red):
    r = render_variant(square_red, "trim|fill-85|canvas-401x401|bg-transparent|format-png")
    _, arr = decode(r.data)
    edge = (arr[..., 3] > 32) & (arr[..., 3] < 255)
    assert edge.any()
    assert (arr[edge][:, 0] >= 250).all() and (arr[edge][:, 1] <= 5).all()
    assert (arr[arr[..., 3] == 0][:, :3] == 0).all()  # no hidden colour left behind


def test_it_removes_speckles_below_the_trim_threshold():
    im = cutout(SIZE, BOX, speckles=3)
    clean = render_variant(im, "trim|format-png")
    x0, y0, x1, y1 = source_bbox(cutout(SIZE, BOX))
    assert (clean.width, clean.height) == (x1 - x0, y1 - y0)
    # even a threshold of 1 lays out what a person sees: faint corner specks never count
    faint = render_variant(im, "trim-1|format-png")
    assert (faint.width, faint.height) == (clean.width, clean.height)
    _, arr = decode(faint.data)
    assert arr[..., 3].max() == 255 and arr[:3, :3, 3].max() == 0


def test_it_downscales_large_sources_through_reduce():
    big = cutout((2400, 1800), (300, 200, 2100, 1600), color=(255, 0, 0), shape="rect")
    r = render_variant(big, "trim|fill-85|square-300|bg-ffffff|format-png")
    _, arr = decode(r.data)
    assert (r.width, r.height) == (300, 300)
    assert (arr[..., 0] == 255).all() and (arr[..., 1] == arr[..., 2]).all()
    assert r.metadata["scale"] < 0.2


# ---------------------------------------------------------------- product fill vs shadow


def test_it_measures_fill_on_the_product_not_its_shadow(rgba):
    spec = "trim|fill-85|canvas-600x600|bg-ffffff|{}|align-bottom|format-png"
    tall_shadow = shadow_below(SIZE, BOX, depth=55, opacity=200)
    plain = render_variant(rgba, spec.format("shadow-none"), shadow=tall_shadow)
    shaded = render_variant(rgba, spec.format("shadow-keep"), shadow=tall_shadow)
    assert shaded.product_bbox == plain.product_bbox
    assert shaded.fill_pct == plain.fill_pct
    assert 85 <= plain.fill_pct < 85.6
    _, arr = decode(shaded.data)
    below = arr[shaded.product_bbox[3]:, :, :3]
    assert below.min() < 150  # the shadow is there, outside the product box


def test_it_uses_the_shadow_layer_only_when_asked(rgba):
    shadow = shadow_below(SIZE, BOX)
    a = render_variant(rgba, "trim|fill-80|canvas-300x300|bg-ffffff|format-png", shadow=shadow)
    b = render_variant(rgba, "trim|fill-80|canvas-300x300|bg-ffffff|format-png")
    assert a.data == b.data
    assert a.metadata["shadow"] == "none"


def test_it_keeps_quiet_when_shadow_keep_finds_no_layer(rgba):
    # shadow-keep keeps a shadow if there is one: presets with it must not warn on every
    # cutout that has none (issue 15); the metadata still says what was rendered
    r = render_variant(rgba, "trim|fill-80|canvas-300x300|bg-ffffff|shadow-keep|format-png")
    assert r.metadata["shadow"] == "none"
    assert r.warnings == []


def test_it_warns_when_the_product_is_enlarged_more_than_twice():
    # a 201 px wide product to 85 % of 1000 px: 4.23x, soft on any marketplace
    small = render_variant(cutout(), "trim|fill-85|canvas-1000x1000|bg-ffffff|format-jpeg")
    assert small.metadata["scale"] == pytest.approx(850 / 201, abs=0.001)
    # what a person can act on: how large the product must be in the photo (not the photo)
    assert small.warnings == [
        "the product is enlarged 4.2x (201x181 px in the cutout, 850 px wide in the image) "
        "and will look soft; for at most 2x it must span at least 425 px in the photo (a "
        "closer or larger photo), or choose a smaller size or fill"]
    # the same product from a photo twice the size is enlarged 2.1x: printed as 2.1, warned
    twice = cutout(size=(800, 600), box=(200, 120, 600, 480))
    warned = render_variant(twice, "trim|fill-85|canvas-1000x1000|bg-ffffff|format-jpeg")
    assert "enlarged 2.1x (401x361 px in the cutout" in warned.warnings[0]
    # a tall product's figure is its height, and says so
    tall = render_variant(cutout(size=(800, 600), box=(350, 100, 450, 500)),
                          "trim|fill-85|canvas-1000x1000|bg-ffffff|format-jpeg")
    assert "(101x401 px in the cutout, 850 px tall in the image)" in tall.warnings[0]
    quiet = render_variant(twice, "trim|fill-80|canvas-1000x1000|bg-ffffff|format-jpeg")
    assert quiet.metadata["scale"] == pytest.approx(2.0, abs=0.01) and quiet.warnings == []
    # scenes place the product by their own scale and are held to the same rule
    scene = render_variant(cutout(), "canvas-1600x1000|bg-ffffff|scale-100|format-png")
    assert scene.metadata["scale"] > 2 and "will look soft" in scene.warnings[0]


def test_it_renders_a_kept_shadow_on_transparent_backgrounds(rgba):
    r = render_variant(rgba, "trim|fill-80|canvas-300x300|shadow-keep|format-png",
                       shadow=shadow_below(SIZE, BOX))
    _, arr = decode(r.data)
    below = arr[r.product_bbox[3] + 1:, :, :]
    assert below[..., 3].max() > 60 and below[..., :3].max() == 0  # black, semi-transparent


def test_it_rejects_a_shadow_of_the_wrong_size(rgba):
    with pytest.raises(RenderError, match="shadow layer"):
        render_variant(rgba, "trim|shadow-keep", shadow=Image.new("L", (10, 10)))


def test_it_rejects_an_empty_cutout():
    with pytest.raises(RenderError, match="no pixel with alpha"):
        render_variant(Image.new("RGBA", (50, 50), HIDDEN + (0,)), "trim|format-png")


def test_it_accepts_rgb_input_as_fully_opaque():
    r = render_variant(Image.new("RGB", (40, 30), PRODUCT), "long-80|format-png")
    assert (r.width, r.height) == (80, 60) and r.fill_pct == 100


# ---------------------------------------------------------------- metadata and encoding


def exif_with_gps():
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.0)}  # GPS IFD
    return exif.tobytes()


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
def test_it_strips_camera_metadata_by_default(rgba, fmt):
    spec = f"trim|fit-64x64|bg-ffffff|format-{fmt}|srgb"
    r = render_variant(rgba, spec, source_meta={"exif": exif_with_gps(), "xmp": b"<x:xmpmeta/>"})
    im = Image.open(io.BytesIO(r.data))
    assert len(im.getexif()) == 0
    assert "xmp" not in im.info and b"xmpmeta" not in r.data
    assert b"CameraMaker" not in r.data


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
def test_it_keeps_metadata_with_keepmeta_and_resets_orientation(rgba, fmt):
    spec = f"trim|fit-64x64|bg-ffffff|format-{fmt}|keepmeta"
    r = render_variant(rgba, spec, source_meta={"exif": exif_with_gps(), "xmp": b"<x:xmpmeta/>"})
    exif = Image.open(io.BytesIO(r.data)).getexif()
    assert exif[0x010F] == "CameraMaker"
    assert exif.get(0x0112, 1) == 1  # pixels are upright already: viewers must not rotate
    assert b"xmpmeta" in r.data
    assert r.metadata["metadata_kept"] is True


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_it_never_keeps_the_gps_location_with_keepmeta(rgba, fmt):
    # the location is private (often a home) and compliance fails any export carrying it
    spec = f"trim|fit-64x64|bg-ffffff|format-{fmt}|keepmeta"
    xmp_gps = b'<x:xmpmeta><rdf:Description exif:GPSLatitude="52,22N"/></x:xmpmeta>'
    r = render_variant(rgba, spec, source_meta={"exif": exif_with_gps(), "xmp": xmp_gps})
    exif = Image.open(io.BytesIO(r.data)).getexif()
    assert exif[0x010F] == "CameraMaker"
    assert 0x8825 not in exif
    assert b"GPSLatitude" not in r.data
    check = check_variant(r.data, Rules(allow_metadata=True))
    assert not any("GPS" in e for e in check.errors)


def test_it_lowers_quality_until_the_file_fits():
    noisy = noise_image((500, 500))
    full = render_variant(noisy, "bg-ffffff|format-jpeg|quality-95")
    limit = len(full.data) // 2
    r = render_variant(noisy, f"bg-ffffff|format-jpeg|quality-95|maxbytes-{limit}")
    assert len(r.data) <= limit
    assert MIN_QUALITY <= r.metadata["quality"] < 95
    assert any("quality lowered" in w for w in r.warnings)
    # it is the highest quality that fits: one step up does not
    q = r.metadata["quality"]
    assert len(render_variant(noisy, f"bg-ffffff|format-jpeg|quality-{q + 1}").data) > limit


def test_it_fails_clearly_when_max_bytes_is_impossible():
    noisy = noise_image((500, 500))
    with pytest.raises(MaxBytesError, match=f"even quality-{MIN_QUALITY}") as excinfo:
        render_variant(noisy, "bg-ffffff|format-jpeg|maxbytes-2000")
    assert excinfo.value.limit == 2000 and excinfo.value.smallest > 2000


def test_it_fails_clearly_when_a_lossless_format_is_over_max_bytes():
    with pytest.raises(MaxBytesError, match="cannot be compressed further"):
        render_variant(noise_image((300, 300)), "format-png|maxbytes-5000")


def test_it_reports_size_hash_and_metadata(rgba):
    r = render_variant(rgba, "trim|fill-85|square-300|bg-ffffff|format-jpeg|srgb|dpi-72")
    assert r.size_bytes == len(r.data) and len(r.sha256) == 64
    assert r.metadata["spec"] == parse_spec(
        "trim|fill-85|square-300|bg-ffffff|format-jpeg|srgb|dpi-72").canonical()
    assert r.metadata["icc"] == "sRGB" and r.metadata["dpi"] == 72
    assert r.metadata["source_size"] == SIZE


def test_it_is_deterministic(rgba):
    spec = "trim|fill-85|square-300|bg-ffffff|shadow-synthetic|format-jpeg|srgb"
    assert render_variant(rgba, spec).data == render_variant(rgba, spec).data


def _soft_ellipse(size: tuple[int, int], box: tuple[float, float, float, float],
                  edge: float = 2.0) -> Image.Image:
    """An ellipse with an ``edge``-px linear alpha ramp (like a model's soft matte)."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    rx, ry = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
    d = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
    alpha = np.clip((1.0 - d) * min(rx, ry) / edge, 0, 1)
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., :3] = (40, 90, 160)
    rgba[..., 3] = np.round(alpha * 255).astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


# (source size, product box as fractions of the source, edge ramp in px): upscaled by up to
# ~40x and downscaled by up to ~3x, wide, tall and square products, hard and soft edges
FILL_CASES = [
    ((60, 60), (0.2, 0.2, 0.8, 0.8), 2.0),
    ((120, 80), (0.1, 0.3, 0.9, 0.7), 2.0),
    ((80, 120), (0.3, 0.1, 0.7, 0.9), 3.0),
    ((300, 300), (0.2, 0.2, 0.8, 0.8), 2.0),
    ((300, 300), (0.1, 0.25, 0.9, 0.75), 6.0),
    ((800, 600), (0.25, 0.15, 0.75, 0.85), 2.0),
    ((800, 600), (0.05, 0.4, 0.95, 0.6), 1.0),
    ((2000, 2000), (0.3, 0.3, 0.7, 0.7), 2.0),
    ((2400, 1800), (0.05, 0.05, 0.95, 0.95), 2.0),
    ((1800, 3000), (0.2, 0.05, 0.8, 0.95), 4.0),
    ((5000, 5000), (0.1, 0.1, 0.9, 0.9), 2.0),
]


@pytest.mark.parametrize("preset", ["amazon_main", "walmart", "google_shopping", "etsy"])
@pytest.mark.parametrize(("size", "frac", "edge"), FILL_CASES,
                         ids=[f"{s[0]}x{s[1]}-{f[2] - f[0]:.2f}x{f[3] - f[1]:.2f}-e{e:g}"
                              for s, f, e in FILL_CASES])
def test_it_meets_the_requested_fill_for_upscaled_and_downscaled_sources(
        preset, size, frac, edge):
    from cutouts.variants import PRESETS, check_rendered

    w, h = size
    src = _soft_ellipse(size, (frac[0] * w, frac[1] * h, frac[2] * w, frac[3] * h), edge)
    p = PRESETS[preset]
    rendered = render_variant(src, p.spec)
    requested = p.variant_spec.get("fill").percent
    assert rendered.fill_pct >= requested
    arr = np.asarray(Image.open(io.BytesIO(rendered.data)).convert("RGB"))
    # the reported product box is what is measured: it holds the product, nothing outside
    x0, y0, x1, y1 = rendered.product_bbox
    assert max((x1 - x0) / rendered.width, (y1 - y0) / rendered.height) * 100 >= requested
    # pure white frame (every pixel of the outer 1 % ring of the encoded file)
    k = max(1, min(arr.shape[:2]) // 100)
    for ring in (arr[:k], arr[-k:], arr[:, :k], arr[:, -k:]):
        assert (ring == 255).all()
    result = check_rendered(rendered, p)
    # the render meets the fill at any scale; a product enlarged past MAX_ENLARGEMENT (these
    # 36-240 px products to 1700 px) is a blur compliance refuses, for that alone
    blown_up = round(rendered.metadata["scale"], 1) > MAX_ENLARGEMENT
    assert [e for e in result.errors if "x limit" not in e] == [], result.errors
    assert (not result.ok) == blown_up, (rendered.metadata["scale"], result.errors)


# ---------------------------------------------------------------- one source, many renders

SHARED_SPECS = [
    "trim|fill-85|square-600|bg-ffffff|format-jpeg|quality-90|srgb",  # upscale
    "trim|fill-85|square-600|bg-transparent|format-png",  # same geometry, other look
    "trim|fill-85|square-600|bg-ffffff|shadow-keep|format-jpeg|quality-90",
    "trim|fill-85|square-120|bg-ffffff|format-png",  # large reduction (pre-reduce)
    "trim-40|fit-300x300|bg-ffffff|format-png",
    "fit-500x500|bg-transparent|format-png",  # no trim: the stored alpha
    "trim|fill-90|canvas-700x400|align-bottom|bg-f0f0f0|shadow-synthetic|format-webp",
]


def test_it_renders_the_same_bytes_from_a_shared_source_as_from_the_image():
    image = cutout((500, 400), (90, 70, 380, 330), speckles=3)
    shadow = shadow_below((500, 400), (90, 70, 380, 330))
    source = SourceImage(image)
    for spec in SHARED_SPECS:
        alone = render_variant(image, spec, shadow=shadow)
        shared = render_variant(source, spec, shadow=shadow)
        assert shared.data == alone.data, spec
        assert (shared.product_bbox, shared.fill_pct) == (alone.product_bbox, alone.fill_pct)


def test_it_resamples_a_geometry_once_for_specs_that_differ_only_in_look(monkeypatch):
    calls = []
    real = render_module._lanczos
    monkeypatch.setattr(render_module, "_lanczos", lambda *a: calls.append(a[1]) or real(*a))
    source = SourceImage(cutout((500, 400), (90, 70, 380, 330)))
    for spec in SHARED_SPECS[:3]:  # one geometry: white JPEG, transparent PNG, shadow-keep
        render_variant(source, spec)
    assert len(calls) == 1
    render_variant(source, SHARED_SPECS[3])  # another size: its own resample
    assert len(calls) == 2


def test_it_finds_the_significant_region_once_per_source_and_threshold(monkeypatch):
    calls = []
    real = render_module.significant_region
    monkeypatch.setattr(render_module, "significant_region",
                        lambda *a: calls.append(a[1]) or real(*a))
    source = SourceImage(cutout((500, 400), (90, 70, 380, 330)))
    for spec in SHARED_SPECS[:4]:
        render_variant(source, spec)
    assert calls == [8]
    render_variant(source, SHARED_SPECS[4])
    assert calls == [8, 40]


@pytest.mark.parametrize(("out_size", "rel_box", "box"), [
    ((613, 587), (0.4, 0.7, 299.6, 280.2), (110, 95, 250, 185)),  # upscale, fractional box
    ((151, 97), (3.0, 1.5, 297.0, 279.0), (110, 95, 250, 185)),  # reduction, no pre-reduce
    ((300, 281), (0.0, 0.0, 300.0, 281.0), (110, 95, 250, 185)),  # same size: Pillow copies
    ((1111, 1040), (0.0, 0.0, 300.0, 281.0), (15, 5, 155, 95)),  # cut by the crop's corner
])
def test_it_resamples_only_around_the_product_like_one_resize_of_the_crop(out_size, rel_box,
                                                                          box):
    rng = np.random.default_rng(5)
    crop = (20, 10, 320, 291)
    premult = Image.fromarray(rng.integers(0, 256, (90, 140, 4), dtype=np.uint8),
                              "RGBA").convert("RGBa")
    region = Image.new("RGBa", (300, 281))
    region.paste(premult, (box[0] - crop[0], box[1] - crop[1]))  # 0 outside ``box``
    whole = np.asarray(region.resize(out_size, Image.Resampling.LANCZOS, box=rel_box))
    strip, (x0, y0) = render_module._lanczos((premult, box), crop, rel_box, out_size, None)
    layer = Image.new("RGBa", out_size)
    layer.paste(strip, (x0, y0))
    assert strip.width < out_size[0] and strip.height < out_size[1]
    diff = np.abs(np.asarray(layer).astype(int) - whole)
    # the kernels sit on a shifted box: float rounding may move a pixel by a level or two
    assert diff.max() <= 2
    assert (diff > 0).mean() < 0.001


@pytest.mark.parametrize("level", [1, 16, 200])
def test_it_boxes_the_significant_alpha_as_pillow_does_at_each_level(level):
    image = cutout((500, 400), (90, 70, 380, 330), speckles=40)
    alpha = np.asarray(image.getchannel("A")).copy()
    alpha[200:210, 20:25] = 30  # a faint mark near the product, inside the region or not
    image.putalpha(Image.fromarray(alpha))
    source = SourceImage(image)
    sig = source.significant(8)
    assert sig is not None
    lut = [0] * level + list(range(level, 256))
    expected = Image.fromarray(sig.alpha).point(lut).getbbox()
    assert expected is not None
    assert source.bbox(("significant", 8), level) == expected

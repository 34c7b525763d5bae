"""Scene operations, each on synthetic images: floor, safe area, scale, shadows, harmony, logos,
the background estimators and the marketplace guard."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cutouts.imaging.metrics import halo
from cutouts.variants import (
    PRESETS,
    SceneAsset,
    check_rendered,
    estimate_floor,
    estimate_light,
    get_preset,
    parse_spec,
    render_variant,
)
from cutouts.variants.compliance import check_spec
from cutouts.variants.presets import SCENE_PRESETS, with_background

from .synthetic import cutout, decode

DARK = (24, 28, 32)


@pytest.fixture(scope="module")
def product():
    return cutout((400, 300), (120, 40, 280, 260))  # an upright red ellipse


def room(size=(800, 500), floor=0.7, bright_left=False):
    """A wall above a darker floor (the seam at ``floor``), optionally lit from the left."""
    w, h = size
    arr = np.zeros((h, w, 3), np.float32)
    seam = int(h * floor)
    arr[:seam] = (200, 196, 190)
    arr[seam:] = (120, 110, 100)
    if bright_left:
        arr *= np.linspace(1.2, 0.6, w, dtype=np.float32)[None, :, None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def bottom_of(r):
    return r.product_bbox[3]


def test_it_stands_the_product_on_the_floor_line(product):
    r = render_variant(product, "canvas-600x400|bg-ffffff|safe-5|scale-50|floor-75|format-png")
    assert abs(bottom_of(r) - 300) <= 1
    assert r.metadata["scene"]["floor_y"] == 300


def test_it_uses_the_library_backgrounds_floor_line(product):
    assets = {"oak": SceneAsset(room((800, 500)), floor_pct=70.0)}
    # cover-fit of 800x500 onto 800x500 is the identity: the floor is at 350
    r = render_variant(product, "canvas-800x500|bg-oak|scale-50|format-png", assets=assets)
    assert abs(bottom_of(r) - 350) <= 1
    _, arr = decode(r.data)
    assert tuple(arr[5, 5, :3]) == (200, 196, 190)  # the background, not white


def test_it_keeps_the_product_inside_the_safe_area(product):
    r = render_variant(product, "canvas-600x400|bg-ffffff|safe-20|scale-100|floor-99|format-png")
    x0, y0, x1, y1 = r.product_bbox
    assert x0 >= 120 and y0 >= 80 and x1 <= 480 and y1 <= 320
    assert y1 >= 318  # as low as the safe area allows
    assert any("outside the safe area" in w for w in r.warnings)


def test_it_scales_the_product_within_the_safe_area(product):
    full = render_variant(product, "canvas-600x400|bg-ffffff|safe-10|scale-100|format-png")
    half = render_variant(product, "canvas-600x400|bg-ffffff|safe-10|scale-50|format-png")
    fh = full.product_bbox[3] - full.product_bbox[1]
    hh = half.product_bbox[3] - half.product_bbox[1]
    assert abs(fh - 320) <= 2 and abs(hh - fh / 2) <= 2


def _shadow_centre(arr, bbox):
    """Horizontal centre of the darkening outside the product box."""
    dark = 255 - arr[..., :3].astype(int).min(axis=2)
    x0, y0, x1, y1 = bbox
    dark[y0:y1, x0:x1] = 0
    ys, xs = np.nonzero(dark > 8)
    assert xs.size, "no shadow drawn"
    return xs.mean()


@pytest.mark.parametrize(("light", "side"), [(180.0, 1), (0.0, -1)])
def test_it_casts_the_drop_shadow_away_from_the_light(product, light, side):
    assets = {"wall": SceneAsset(Image.new("RGB", (600, 400), "white"), light_deg=light)}
    r = render_variant(product, "canvas-600x400|bg-wall|safe-10|scale-70|shadow-drop|format-png",
                       assets=assets)
    _, arr = decode(r.data)
    centre = (r.product_bbox[0] + r.product_bbox[2]) / 2
    assert (_shadow_centre(arr, r.product_bbox) - centre) * side > 2
    assert r.metadata["shadow"] == "drop"


def test_it_draws_a_contact_shadow_under_the_product(product):
    r = render_variant(product, "canvas-600x400|bg-ffffff|floor-80|scale-60|shadow-contact"
                                "|format-png")
    _, arr = decode(r.data)
    x0, y0, x1, y1 = r.product_bbox
    cx = (x0 + x1) // 2
    assert arr[y1 + 1:y1 + 6, cx - 5:cx + 5, :3].max() < 235  # darkened right under it
    assert (arr[5, 5, :3] == 255).all()


def test_it_keeps_the_cutouts_natural_shadow_layer(product):
    shadow = Image.new("L", product.size, 0)
    ImageDraw.Draw(shadow).rectangle((100, 255, 300, 290), fill=160)
    r = render_variant(product, "canvas-600x400|bg-ffffff|scale-60|shadow-keep|format-png",
                       shadow=shadow)
    _, arr = decode(r.data)
    x0, y0, x1, y1 = r.product_bbox
    assert arr[y1 + 2:y1 + 6, x0:x1, :3].min() < 200


def contaminated(size=(400, 400), radius=120):
    """A red disc cut from a WHITE photo: its soft rim still carries the white background
    (colour = a * red + (1 - a) * white), the classic halo source on dark backgrounds."""
    yy, xx = np.mgrid[0:size[1], 0:size[0]]
    d = np.hypot(xx - size[0] / 2, yy - size[1] / 2)
    a = np.clip((radius + 6 - d) / 12, 0, 1)  # a 12 px soft rim
    red = np.array([200, 30, 30], np.float32)
    rgb = a[..., None] * red + (1 - a[..., None]) * 255
    arr = np.dstack([rgb, a * 255]).round().astype(np.uint8)
    return Image.fromarray(arr, "RGBA")


def composite_halo(r, bg):
    """The eval README's halo (mean alpha 1-8 px outside the object) of the alpha a viewer
    perceives: how far each pixel moved from the background toward the product colour."""
    _, arr = decode(r.data)
    rgb = arr[..., :3].astype(np.float32)
    x0, y0, x1, y1 = r.product_bbox
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    fg = np.median(rgb[cy - 10:cy + 10, cx - 10:cx + 10].reshape(-1, 3), axis=0)
    bgv = np.array(bg, np.float32)
    apparent = np.clip(np.linalg.norm(rgb - bgv, axis=2) / np.linalg.norm(fg - bgv), 0, 1)
    yy, xx = np.mgrid[0:arr.shape[0], 0:arr.shape[1]]
    radius = (x1 - x0) / 2
    gt = np.where(np.hypot(xx - (x0 + x1) / 2, yy - (y0 + y1) / 2) <= radius - 3, 255, 0)
    return halo(apparent, gt.astype(np.uint8))


def test_it_shows_no_halo_on_a_dark_background_when_harmonized():
    disc = contaminated()
    white = {"paper": SceneAsset(Image.new("RGB", (600, 600), (255, 255, 255)))}
    dark = {"paper": SceneAsset(Image.new("RGB", (600, 600), DARK))}
    spec = "canvas-600x600|bg-paper|scale-80|format-png"
    on_white = composite_halo(render_variant(disc, spec + "|harmonize", assets=white),
                              (255, 255, 255))
    on_dark = composite_halo(render_variant(disc, spec + "|harmonize", assets=dark), DARK)
    raw_dark = composite_halo(render_variant(disc, spec, assets=dark), DARK)
    assert on_dark <= on_white + 0.005, (on_dark, on_white)
    assert raw_dark > on_white + 0.05  # without harmonize the white rim glows on dark


def test_it_harmonizes_brightness_within_bounds_and_keeps_the_hue(product):
    assets = {"night": SceneAsset(Image.new("RGB", (600, 400), (40, 40, 60)))}
    r = render_variant(product, "canvas-600x400|bg-night|scale-60|harmonize|format-png",
                       assets=assets)
    _, arr = decode(r.data)
    x0, y0, x1, y1 = r.product_bbox
    core = arr[(y0 + y1) // 2, (x0 + x1) // 2, :3].astype(int)
    assert 200 * 0.8 <= core[0] < 200  # darker, but within the bounded gain and cast
    assert core[0] > 3 * core[1]  # still red
    assert r.metadata["scene"]["harmonize"]["gain"] < 1


def test_it_places_a_logo_in_the_safe_area_corner(product):
    logo = Image.new("RGBA", (100, 50), (0, 0, 255, 255))
    assets = {"acme": SceneAsset(logo)}
    r = render_variant(product, "canvas-600x400|bg-ffffff|safe-5|scale-50|logo-acme-br"
                                "|format-png", assets=assets)
    _, arr = decode(r.data)
    blue = (arr[..., 2] > 200) & (arr[..., 0] < 50)
    ys, xs = np.nonzero(blue)
    assert xs.max() == 569 and ys.max() == 379  # 5 % inside the bottom-right corner
    assert xs.min() > 400 and ys.min() > 300


def test_it_refuses_an_unknown_library_item(product):
    with pytest.raises(Exception, match="unknown background 'oak'"):
        render_variant(product, "canvas-600x400|bg-oak|format-png", assets={})


def test_it_estimates_the_floor_line_and_the_light():
    assert abs(estimate_floor(room(floor=0.7)) - 70) <= 2
    assert abs(estimate_floor(room(floor=0.55)) - 55) <= 2
    left = estimate_light(room(floor=1.0, bright_left=True))
    assert 150 <= left <= 210  # light from the left
    assert estimate_light(Image.new("RGB", (300, 200), (128, 128, 128))) == 90.0  # flat


def test_marketplace_compliance_refuses_scene_operations():
    amazon = get_preset("amazon_main")
    mixed = parse_spec("canvas-2000x2000|bg-oak|shadow-drop|format-jpeg|quality-90|srgb")
    errors = check_spec(mixed, amazon)
    assert errors and "marketplace rules forbid scenes" in errors[0] and "bg-oak" in errors[0]
    assert check_spec(parse_spec(amazon.spec), amazon) == []
    assert check_spec(mixed, get_preset("web_hero")) == []


@pytest.mark.parametrize("name", sorted(SCENE_PRESETS))
def test_scene_presets_render_on_a_library_background_with_their_safe_area(product, name):
    preset = with_background(PRESETS[name], "oak")
    assert preset.name == f"{name}-oak" and "bg-oak" in preset.spec
    assets = {"oak": SceneAsset(room(), floor_pct=70.0)}
    r = render_variant(product, preset.spec, assets=assets)
    safe = parse_spec(preset.spec).get("safe").percent
    x0, y0, x1, y1 = r.product_bbox
    assert x0 >= r.width * safe / 100 - 1 and x1 <= r.width * (1 - safe / 100) + 1
    assert y0 >= r.height * safe / 100 - 1 and y1 <= r.height * (1 - safe / 100) + 1
    assert check_rendered(r, preset).ok


def test_every_scene_operation_is_exercised_here():
    from cutouts.variants import OPERATIONS

    scene = {n for n, cls in OPERATIONS.items() if n in ("safe", "scale", "floor", "harmonize",
                                                          "logo")}
    assert scene == {"safe", "scale", "floor", "harmonize", "logo"}


def test_it_draws_the_readme_banner_before_and_after(tmp_path):
    """The picture in docs/export.md: the cutout as exported today (white main image) beside
    the same cutout as a web hero on a room background, grounded by a contact shadow.

    Tests never write into the repository: the sheet goes to ``tmp_path``. To regenerate the
    committed docs/img/scene-banner.png, run this test with CUTROOM_WRITE_DOCS_IMAGES=1."""
    import os
    from pathlib import Path

    product = cutout((600, 800), (150, 80, 450, 760), color=(190, 60, 40))
    wall = room((2400, 800), floor=0.74, bright_left=True)
    assets = {"room": SceneAsset(wall, floor_pct=74.0, light_deg=150.0, sha256="readme-room")}
    before = render_variant(product, "trim|fill-85|square-600|bg-ffffff|format-png")
    after = render_variant(product, with_background(PRESETS["web_hero"], "room").spec,
                           assets=assets)
    b, a = decode(before.data)[0].convert("RGB"), decode(after.data)[0].convert("RGB")
    # on the room's floor line: 74 % of 800 px, scaled by 0.8 to cover 1920x600, 20 px cropped
    assert abs(after.product_bbox[3] - (0.74 * 800 * 0.8 - 20)) <= 1
    height = 240
    b = b.resize((height, height), Image.Resampling.LANCZOS)
    a = a.resize((round(a.width * height / a.height), height), Image.Resampling.LANCZOS)
    sheet = Image.new("RGB", (b.width + a.width + 12, height), (255, 255, 255))
    sheet.paste(b, (0, 0))
    sheet.paste(a, (b.width + 12, 0))
    out = tmp_path / "scene-banner.png"
    if os.environ.get("CUTROOM_WRITE_DOCS_IMAGES") == "1":  # explicit: refresh the docs image
        out = Path(__file__).resolve().parents[2] / "docs" / "img" / "scene-banner.png"
    sheet.save(out, optimize=True)
    assert out.stat().st_size < 300_000


def _layer(alpha: np.ndarray, rgb: int = 0) -> Image.Image:
    arr = np.empty((*alpha.shape, 4), np.uint8)
    arr[..., :3] = rgb
    arr[..., 3] = alpha
    return Image.fromarray(arr, "RGBA")


def test_it_boxes_the_products_nonzero_alpha_as_the_copied_alpha_band_did():
    """``SceneContext.product_box`` reads the layer's alpha in place (``getbbox(alpha_only=
    True)``) where it copied the band first (``getchannel("A").getbbox()``, until 2026-12-07):
    the same box, any nonzero alpha counting (a faint alpha of 1 too), colour under alpha 0
    not, and the whole layer when its alpha is empty."""
    from cutouts.variants.scene import SceneContext

    h, w = 60, 80
    empty = np.zeros((h, w), np.uint8)
    faint = empty.copy()
    faint[50, 7] = 1  # one barely visible pixel far from the rest
    faint[10:20, 30:40] = 255
    box = empty.copy()
    box[10:20, 30:40] = 255
    solid = empty.copy()
    solid[5:6, 70:79] = 3
    rng = np.random.default_rng(0)
    speckled = np.where(rng.random((h, w)) < 0.01, rng.integers(1, 256, (h, w)), 0)
    layers = {"empty": (_layer(empty), (0, 0, w, h)),
              # bright colour where nothing shows round a small product: not the product
              "colour under alpha 0": (_layer(box, rgb=255), (30, 10, 40, 20)),
              "faint": (_layer(faint), (7, 10, 40, 51)),
              "faint, black": (_layer(solid), (70, 5, 79, 6)),
              "speckled": (_layer(speckled.astype(np.uint8), rgb=128), None)}
    for name, (layer, expected) in layers.items():
        copied = layer.getchannel("A").getbbox() or (0, 0, w, h)
        if expected is not None:
            assert copied == expected, name  # the old reading, as the cases mean it
        ctx = SceneContext((200, 200), {}, [], layer=layer, position=(13, 21))
        assert ctx.product_box == (copied[0] + 13, copied[1] + 21,
                                   copied[2] + 13, copied[3] + 21), name

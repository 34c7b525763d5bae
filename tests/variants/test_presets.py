"""Every built-in preset renders a synthetic cutout into a file that passes its own rules."""

import io
import re

import numpy as np
import pytest
from PIL import Image, ImageCms

from cutouts.variants import (
    PRESETS,
    check_rendered,
    check_variant,
    get_preset,
    name_for,
    parse_spec,
    render_variant,
    validate_template,
)

from .synthetic import border, cutout, decode, shadow_below

SIZE = (900, 1200)
BOX = (250, 200, 650, 1000)  # a tall bottle-like product


@pytest.fixture(scope="module")
def product():
    return cutout(SIZE, BOX)


@pytest.fixture(scope="module")
def shadow():
    return shadow_below(SIZE, BOX, depth=60)


@pytest.fixture(scope="module")
def rendered(product, shadow):
    """Each preset rendered once for the whole module (keeps the suite fast)."""
    return {name: render_variant(product, p.spec, shadow=shadow) for name, p in PRESETS.items()}


EXPECTED = {
    # name: (size or None, format, background of the corner pixel)
    "amazon_main": ((2000, 2000), "jpeg", (255, 255, 255)),
    "ebay": ((1600, 1600), "jpeg", (255, 255, 255)),
    "walmart": ((2200, 2200), "jpeg", (255, 255, 255)),
    "shopify": ((2048, 2048), "jpeg", (255, 255, 255)),
    "etsy": ((2500, 2000), "jpeg", (255, 255, 255)),
    "google_shopping": ((1500, 1500), "jpeg", (255, 255, 255)),
    "transparent_png": (None, "png", None),
    "transparent_webp": (None, "webp", None),
    # scenes render on white until an export picks a library background
    "web_hero": ((1920, 600), "jpeg", (255, 255, 255)),
    "social_square": ((1080, 1080), "jpeg", (255, 255, 255)),
    "link_ad": ((1200, 628), "jpeg", (255, 255, 255)),
    "story": ((1080, 1920), "jpeg", (255, 255, 255)),
    "pinterest": ((1000, 1500), "jpeg", (255, 255, 255)),
}


def test_it_has_expectations_for_every_preset():
    assert set(EXPECTED) == set(PRESETS)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_it_parses_every_preset_spec_and_template(name):
    preset = PRESETS[name]
    assert parse_spec(preset.spec).canonical()
    validate_template(preset.naming)
    assert preset.label and preset.rules.formats
    assert preset.variant_spec.format in preset.rules.formats


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_it_renders_every_preset_into_a_compliant_file(rendered, name):
    preset = PRESETS[name]
    r = rendered[name]
    size, fmt, corner = EXPECTED[name]
    im, arr = decode(r.data)
    assert r.format == fmt and im.format.lower() == fmt
    if size:
        assert (r.width, r.height) == im.size == size
    if corner:
        assert tuple(arr[0, 0, :3]) == corner
    else:
        assert arr.shape[2] == 4 and arr[..., 3].min() == 0
    result = check_rendered(r, preset)
    assert result.ok, result.errors
    assert not [w for w in result.warnings if "margins" in w], result.warnings


def test_it_renders_etsy_with_2000_px_on_the_shortest_side_at_72_dpi(rendered):
    r = rendered["etsy"]
    im, _ = decode(r.data)
    assert min(im.size) == 2000
    assert tuple(round(v) for v in im.info["dpi"]) == (72, 72)


def test_it_keeps_walmart_under_5_mb_and_google_under_16_mb(rendered):
    assert len(rendered["walmart"].data) <= 5_000_000
    assert len(rendered["google_shopping"].data) <= 16_000_000


def test_it_exports_a_compliant_amazon_main_image(rendered):
    """The proof from the issue: decode the JPEG and check everything Amazon checks."""
    preset = get_preset("amazon_main")
    r = rendered["amazon_main"]
    im, arr = decode(r.data)

    assert im.format == "JPEG" and im.mode == "RGB"
    assert 1600 <= max(im.size) <= 10_000

    # pure white borders (a 2 % frame all round), and white everywhere off the product
    assert (border(arr, k=40) == 255).all()
    x0, y0, x1, y1 = r.product_bbox
    margin = 16  # JPEG ringing next to the product edge
    outside = np.ones(arr.shape[:2], bool)
    outside[max(0, y0 - margin):y1 + margin, max(0, x0 - margin):x1 + margin] = False
    assert (arr[outside] == 255).all()

    # product fill measured independently from the decoded pixels
    fg = (arr < 250).any(axis=2)
    rows, cols = np.flatnonzero(fg.any(axis=1)), np.flatnonzero(fg.any(axis=0))
    fill = max(cols[-1] + 1 - cols[0], rows[-1] + 1 - rows[0]) / max(im.size) * 100
    assert fill >= 85
    assert r.fill_pct >= 85

    # sRGB profile embedded, no camera metadata
    icc = im.info.get("icc_profile")
    assert icc
    assert "sRGB" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    assert len(im.getexif()) == 0 and "xmp" not in im.info

    # the independent checker agrees
    assert check_variant(r.data, preset, product_bbox=r.product_bbox).ok

    # naming: ASIN when present, else SKU; MAIN for the first image, then PT01..
    assert name_for(preset, asin="B0XXXXXXXX", sku="SKU-1") == "B0XXXXXXXX.MAIN.jpg"
    assert name_for(preset, asin="", sku="SKU-1") == "SKU-1.MAIN.jpg"
    assert name_for(preset, asin="B0XXXXXXXX", position=2) == "B0XXXXXXXX.PT01.jpg"


@pytest.mark.parametrize(
    ("name", "identifiers", "position", "expected"),
    [
        ("amazon_main", {"asin": "B0XXXXXXXX"}, 1, "B0XXXXXXXX.MAIN.jpg"),
        ("amazon_main", {"asin": "B0XXXXXXXX"}, 9, "B0XXXXXXXX.PT08.jpg"),
        ("walmart", {"gtin": "00012345678905"}, 1, "00012345678905_1.jpg"),
        ("walmart", {"gtin": "00012345678905"}, 3, "00012345678905_3.jpg"),
        ("ebay", {"sku": "AB-1"}, 2, "AB-1/AB-1_2_ebay.jpg"),
        ("shopify", {"sku": "AB-1"}, 1, "AB-1/AB-1_1_shopify.jpg"),
        ("etsy", {"sku": "AB-1"}, 1, "AB-1/AB-1_1_etsy.jpg"),
        ("google_shopping", {"sku": "AB-1"}, 1, "AB-1/AB-1_1_google_shopping.jpg"),
        ("transparent_png", {"sku": "AB-1"}, 1, "AB-1/AB-1_1_transparent_png.png"),
        ("transparent_webp", {"sku": "AB-1"}, 1, "AB-1/AB-1_1_transparent_webp.webp"),
    ],
)
def test_it_names_files_per_preset(name, identifiers, position, expected):
    assert name_for(PRESETS[name], position=position, **identifiers) == expected


def test_it_raises_a_helpful_error_for_unknown_presets():
    with pytest.raises(KeyError, match="unknown preset 'amazon'"):
        get_preset("amazon")


def test_it_cites_a_source_for_every_marketplace_preset():
    import cutouts.variants.presets as module

    for preset in PRESETS.values():
        for tag in preset.sources:
            assert f"[{tag}]" in module.__doc__


def test_it_flags_a_small_input_upscaled_only_if_below_minimum():
    tiny = cutout((60, 40), (10, 5, 50, 35))
    r = render_variant(tiny, "trim|fill-85|square-400|bg-ffffff|format-jpeg|srgb")
    result = check_rendered(r, PRESETS["amazon_main"])
    assert not result.ok
    assert any("longest side is 400 px; at least 1600" in e for e in result.errors)
    im = Image.open(io.BytesIO(r.data))
    assert im.size == (400, 400)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_it_round_trips_rules_through_json(name):
    import json

    from cutouts.variants import Rules

    rules = PRESETS[name].rules
    assert Rules.from_dict(json.loads(json.dumps(rules.to_dict()))) == rules


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"colour": "ffffff"}, "unknown compliance rule(s): colour"),
        ({"formats": ["gif"]}, "unknown or empty format list"),
        ({"formats": []}, "unknown or empty format list"),
        ({"background": "white"}, "background must be RRGGBB"),
        ({"formats": "png"}, "formats must be a list"),
        ({"aspect_ratios": 43}, "aspect_ratios must be a list"),
        (["formats"], "rules must be a JSON object"),
    ],
)
def test_it_rejects_bad_rules_from_the_admin_with_a_rules_error(data, fragment):
    from cutouts.variants import Rules, VariantError
    from cutouts.variants.errors import RulesError

    with pytest.raises(RulesError, match=re.escape(fragment)) as raised:
        Rules.from_dict(data)
    # Callers catch the package's errors by type; none of them is a ValueError.
    assert isinstance(raised.value, VariantError) and not isinstance(raised.value, ValueError)

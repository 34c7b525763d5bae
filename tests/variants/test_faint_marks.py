"""Faint see-through marks inside the product's box (issue #12 item 4, QA: grey blobs beside a
scissor blade passed Amazon main; the ghost analysis of the file only looks away from the
product's box). Scenes built in memory: a ghost must warn, real products must not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from cutouts.variants import PRESETS, check_rendered, check_variant, render_variant
from cutouts.variants.layout import significant_region
from cutouts.variants.render import faint_marks

from .synthetic import shadow_below

SIZE = (800, 600)
WARNING = "faint see-through mark(s) inside the product's box"


def _cutout(alpha: np.ndarray, colour: tuple[int, int, int] = (90, 90, 100)) -> Image.Image:
    rgba = np.zeros((*alpha.shape, 4), np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = alpha
    return Image.fromarray(rgba)


def _blades() -> np.ndarray:
    """Scissors, roughly: two solid blades in a V, so the box holds empty background."""
    a = np.zeros(SIZE[::-1], np.uint8)
    cv2.line(a, (150, 500), (650, 100), 255, 28, cv2.LINE_AA)
    cv2.line(a, (150, 100), (650, 500), 255, 28, cv2.LINE_AA)
    return a


def _with_ghost(a: np.ndarray, centre: tuple[int, int] = (400, 210), radius: int = 65,
                level: int = 90) -> np.ndarray:
    """A soft grey blob of the photo's background the model kept, joined to a blade."""
    blob = np.zeros_like(a)
    cv2.circle(blob, centre, radius, level, -1, cv2.LINE_AA)
    blob = cv2.GaussianBlur(blob, (0, 0), 4)
    return np.maximum(a, blob)


def _amazon(alpha: np.ndarray, shadow: Image.Image | None = None, preset: str = "amazon_main"):
    rendered = render_variant(_cutout(alpha), PRESETS[preset].spec, shadow=shadow)
    return rendered, check_rendered(rendered, PRESETS[preset])


def test_it_warns_about_a_ghost_beside_a_blade_inside_the_products_box():
    # a faint one (alpha 40): under a tenth of the blades' area, it warns and does not fail
    rendered, result = _amazon(_with_ghost(_blades(), level=40))
    assert result.ok, result.errors
    assert [w for w in result.warnings if WARNING in w], result.warnings
    # the file-only ghost analysis never looked there: it still finds nothing away from the box
    assert not any("ghosts" in e for e in result.errors)
    (mark,) = result.measurements["faint_marks"]
    # the mark is reported where the blob lies on the canvas, inside the product's box
    x0, y0, x1, y1 = mark["box"]
    px0, py0, px1, py1 = rendered.product_bbox
    assert px0 <= x0 < x1 <= px1 and py0 <= y0 < y1 <= py1
    w, h = rendered.width, rendered.height
    assert x0 < w / 2 < x1 and y0 < h / 2
    assert mark["share"] > 0.01
    # and where it lies in the photo (the cutout's pixels), which the warning names too: the
    # reviewer finds it on the card, not on this preset's canvas
    qx0, qy0, qx1, qy1 = mark["photo_box"]
    assert qx0 < 400 < qx1 and qy0 < 210 < qy1 and (qx0, qy0) != (x0, y0)
    # the warning names a pixel of the mark, not its box's corner (which may lie on the
    # product: QA clicked the corner the card named and took a bunny's fur)
    (px, py), (cx, cy) = mark["photo_point"], mark["point"]
    ghost = _with_ghost(_blades(), level=40)
    assert 0 < ghost[py, px] < 128 and np.hypot(px - 400, py - 210) < 65
    assert x0 <= cx < x1 and y0 <= cy < y1
    [warning] = [w for w in result.warnings if WARNING in w]
    assert f"x={cx}, y={cy} in this file, x={px}, y={py} in the photo" in warning
    # a result recorded before the point names the box's corner, as it did
    again = check_variant(rendered.data, PRESETS["amazon_main"].rules,
                          product_bbox=rendered.product_bbox,
                          faint_marks=[{"box": mark["box"], "share": mark["share"],
                                        "photo_box": mark["photo_box"]}])
    [warning] = [w for w in again.warnings if WARNING in w]
    assert f"x={x0}, y={y0} in this file, x={qx0}, y={qy0} in the photo" in warning


def test_it_passes_the_same_blades_without_the_ghost():
    _, result = _amazon(_blades())
    assert result.measurements["faint_marks"] == []
    assert not any(WARNING in w for w in result.warnings)
    assert result.ok, result.errors


def test_it_passes_a_product_with_a_soft_kept_shadow():
    # the shadow is a layer of its own (shadow-keep on eBay): grey in the file, not alpha
    a = np.zeros(SIZE[::-1], np.uint8)
    a[150:450, 250:550] = 255
    shadow = shadow_below(SIZE, (250, 150, 550, 450), depth=60, opacity=110)
    rendered, result = _amazon(a, shadow=shadow, preset="ebay")
    assert rendered.metadata["shadow"] != "none"
    assert result.measurements["faint_marks"] == []
    assert not any(WARNING in w for w in result.warnings)


def test_it_passes_a_hairy_edge():
    # a head of solid alpha with long see-through strands (1-2 px, alpha 60-160) over its
    # upper half, a strand every 2 degrees
    a = np.zeros(SIZE[::-1], np.uint8)
    cv2.circle(a, (400, 330), 170, 255, -1, cv2.LINE_AA)
    rng = np.random.default_rng(7)
    for angle in np.linspace(np.pi, 2 * np.pi, 90):
        r0, r1 = 165, 165 + rng.uniform(30, 110)
        bend = rng.uniform(-0.05, 0.05)
        p0 = (int(400 + r0 * np.cos(angle)), int(330 + r0 * np.sin(angle)))
        p1 = (int(400 + r1 * np.cos(angle + bend)), int(330 + r1 * np.sin(angle + bend)))
        cv2.line(a, p0, p1, int(rng.integers(60, 160)), int(rng.integers(1, 3)), cv2.LINE_AA)
    _, result = _amazon(a)
    assert result.measurements["faint_marks"] == []
    assert not any(WARNING in w for w in result.warnings)


def test_it_passes_two_products():
    a = np.zeros(SIZE[::-1], np.uint8)
    cv2.circle(a, (260, 300), 150, 255, -1, cv2.LINE_AA)
    cv2.rectangle(a, (470, 200), (640, 420), 255, -1)  # a second real product beside it
    cv2.circle(a, (560, 480), 30, 255, -1, cv2.LINE_AA)  # and a small third, solid
    _, result = _amazon(a)
    assert result.measurements["faint_marks"] == []
    assert not any(WARNING in w for w in result.warnings)


def test_it_passes_a_chain_of_thin_links():
    # a pendant on a chain of thin oval links, each a ring of its own
    a = np.zeros(SIZE[::-1], np.uint8)
    cv2.circle(a, (400, 470), 70, 255, -1, cv2.LINE_AA)
    for i in range(12):
        x = 100 + i * 50
        y = 120 + int(1.6 * (x - 400) ** 2 / 400)
        cv2.ellipse(a, (x, y), (26, 12), 20 if i % 2 else -20, 0, 360, 255, 3, cv2.LINE_AA)
    _, result = _amazon(a)
    assert result.measurements["faint_marks"] == []
    assert not any(WARNING in w for w in result.warnings)


def test_it_passes_glass_inside_its_rim():
    # a glass: a solid rim and foot around see-through alpha, enclosed by the rim
    a = np.zeros(SIZE[::-1], np.uint8)
    cv2.ellipse(a, (400, 230), (150, 160), 0, 0, 360, 80, -1, cv2.LINE_AA)
    cv2.ellipse(a, (400, 230), (150, 160), 0, 0, 360, 255, 8, cv2.LINE_AA)
    cv2.rectangle(a, (392, 390), (408, 520), 255, -1)
    cv2.ellipse(a, (400, 525), (90, 14), 0, 0, 360, 255, -1, cv2.LINE_AA)
    _, result = _amazon(a)
    assert result.measurements["faint_marks"] == []
    assert not any(WARNING in w for w in result.warnings)


@pytest.mark.parametrize("preset", ["transparent_png", "transparent_webp", "web_hero",
                                    "social_square"])
def test_it_warns_about_a_faint_mark_on_a_transparent_master_and_a_scene(preset):
    # QA 2026-12-05: a bunny's ghost passed the transparent PNG master as "ok"; banners and
    # scenes are made from the master, and the mark shows on whatever it lands on
    rendered = render_variant(_cutout(_with_ghost(_blades())), PRESETS[preset].spec)
    result = check_rendered(rendered, PRESETS[preset])
    (mark,) = result.measurements["faint_marks"]
    assert any(WARNING in w for w in result.warnings)
    assert not any(WARNING in e for e in result.errors)
    # where the scene put it: inside the product's box on the canvas, the ghost's pixel there
    x0, y0, x1, y1 = mark["box"]
    px0, py0, px1, py1 = rendered.product_bbox
    assert px0 <= x0 < x1 <= px1 and py0 <= y0 < y1 <= py1
    cx, cy = mark["point"]
    assert x0 <= cx < x1 and y0 <= cy < y1
    assert np.hypot(mark["photo_point"][0] - 400, mark["photo_point"][1] - 210) < 65


def test_a_re_check_of_a_stored_file_applies_the_recorded_marks():
    rendered, first = _amazon(_with_ghost(_blades(), level=40))
    stored = first.measurements["faint_marks"]
    again = check_variant(rendered.data, PRESETS["amazon_main"].rules,
                          product_bbox=rendered.product_bbox,
                          faint_marks=[*stored, {"box": "bogus"}, {"share": 1.0}])
    assert again.measurements["faint_marks"] == stored
    assert any(WARNING in w for w in again.warnings)
    # a mark lighter than the limit is kept as a fact and says nothing
    light = check_variant(rendered.data, PRESETS["amazon_main"].rules,
                          product_bbox=rendered.product_bbox,
                          faint_marks=[{"box": stored[0]["box"], "share": 0.001}])
    assert not any(WARNING in w for w in light.warnings)


@pytest.mark.parametrize("level", [60, 110])
def test_it_finds_the_mark_on_the_cutouts_alpha_at_any_faint_level(level):
    a = _with_ghost(_blades(), level=level)
    marks = faint_marks(significant_region(a, 1))
    assert len(marks) == 1
    x0, y0, x1, y1 = marks[0].box
    assert x0 <= 400 <= x1 and y0 <= 210 <= y1


def test_it_measures_a_faint_mark_by_the_area_a_person_sees():
    # QA (memorial.jpg): a wide faint ghost (alpha 20-50) counted by its alpha mass came to
    # 0.17 % of the product and passed Amazon main unflagged; on white every pixel of it shows
    (mark,) = faint_marks(significant_region(_with_ghost(_blades(), level=40), 1))
    assert mark.share > 5 * mark.mass  # alpha ~40 of 255: its mass is a sixth of its area


@pytest.mark.parametrize(("preset", "outcome"), [
    ("amazon_main", "error"), ("walmart", "error"), ("google_shopping", "warning"),
    ("transparent_png", "warning")])
def test_it_fails_a_large_faint_mark_on_a_white_background(preset, outcome):
    # QA (banana3.png): a mark worth a fifth of the product only ever warned; on white it is a
    # grey cloud beside the product, whether background or an under-cut part
    rendered, _ = _amazon(_blades(), preset=preset)
    marks = [{"box": [100, 100, 300, 300], "share": 0.21}]
    result = check_variant(rendered.data, PRESETS[preset].rules,
                           product_bbox=rendered.product_bbox, faint_marks=marks)
    errors = [e for e in result.errors if WARNING in e]
    warnings = [w for w in result.warnings if WARNING in w]
    assert ("error" if errors else "warning" if warnings else None) == outcome
    # under a tenth of the product it warns, as before
    small = check_variant(rendered.data, PRESETS[preset].rules,
                          product_bbox=rendered.product_bbox,
                          faint_marks=[{"box": [100, 100, 300, 300], "share": 0.05}])
    assert not [e for e in small.errors if WARNING in e]

"""What a dry run judges without rendering or reading a file matches what rendering does: a
moved image's verdict from stored measurements (rejudge_position), a scene's scale from the
backgrounds' sizes (scene_scale)."""

import io

import numpy as np
import pytest
from PIL import Image

from cutouts import variants

from .synthetic import cutout


def _cut_by_the_frame() -> Image.Image:
    rgba = np.zeros((480, 854, 4), np.uint8)
    rgba[100:, 300:700] = (200, 30, 30, 255)  # stands on the photo's bottom edge
    return Image.fromarray(rgba)


def _judged(rendered, preset, position):
    result = variants.check_rendered(rendered, preset, position=position)
    return result.ok, sorted(result.errors), sorted(result.warnings)


@pytest.mark.parametrize(("was", "now"), [("MAIN", "PT02"), ("PT02", "MAIN"), (None, "SWCH"),
                                          ("PT01", "PT03"), ("MAIN", None)])
@pytest.mark.parametrize("preset", ["amazon_main", "walmart", "ebay"])
def test_it_rejudges_a_move_as_a_full_check_at_the_new_position(was, now, preset):
    preset = variants.get_preset(preset)
    rendered = variants.render_variant(_cut_by_the_frame(), preset.spec)
    stored = variants.check_rendered(rendered, preset, position=was)
    moved = variants.rejudge_position(errors=stored.errors, warnings=stored.warnings,
                                      measurements=stored.measurements, rules=preset.rules,
                                      position=now)
    assert (moved.ok, sorted(moved.errors), sorted(moved.warnings)) == _judged(
        rendered, preset, now)
    assert moved.measurements.get("position") == now


def _room(size=(960, 300), floor=0.7) -> Image.Image:
    arr = np.zeros((size[1], size[0], 3), np.uint8)
    arr[: int(size[1] * floor)] = (205, 200, 190)
    arr[int(size[1] * floor):] = (110, 100, 90)
    return Image.fromarray(arr)


@pytest.mark.parametrize("spec", [
    "canvas-1920x600|safe-8|bg-oak|scale-90|format-jpeg",
    "canvas-1080x1920|safe-14|bg-oak|scale-60|format-jpeg",
    "canvas-1200x628|safe-6|bg-oak|floor-40|format-jpeg",
    "canvas-1000x1000|bg-ffffff|scale-90|format-jpeg",
])
@pytest.mark.parametrize("box", [(20, 12, 60, 48), (100, 60, 300, 240), (10, 10, 390, 60)])
def test_it_foresees_the_scale_a_scene_renders_with(spec, box):
    image = _room()
    assets = {"oak": variants.SceneAsset(image, floor_pct=70.0, light_deg=90.0)}
    rendered = variants.render_variant(cutout(box=box), spec, assets=assets)
    x0, y0, x1, y1 = rendered.metadata["source_product_bbox"]
    # the forecast reads the background's header only: an unloaded image will do
    buf = io.BytesIO()
    image.save(buf, "PNG")
    header = Image.open(io.BytesIO(buf.getvalue()))
    header.close()
    lazy = {"oak": variants.SceneAsset(header, floor_pct=70.0, light_deg=90.0)}
    scale = variants.scene_scale(variants.parse_spec(spec), (x1 - x0, y1 - y0), lazy)
    assert round(scale, 6) == rendered.metadata["scale"]


@pytest.mark.parametrize("position", ["MAIN", "PT02", None])
@pytest.mark.parametrize("preset", ["amazon_main", "walmart", "ebay", "transparent_png"])
def test_it_foresees_the_frame_cut_verdict_of_the_files_check(preset, position):
    """A dry run's frame-cut refusal (``foreseen``, from the cutout's ``touching_sides``) is
    the check of the rendered file's, in its words: QA F3 (2026-12-06), a dry run said "would
    be rendered" of an Amazon main image the export refused."""
    preset = variants.get_preset(preset)
    rendered = variants.render_variant(_cut_by_the_frame(), preset.spec)
    checked = variants.check_rendered(rendered, preset, position=position)
    cut = [e for e in checked.errors if "photo's edge" in e]
    assert variants.compliance.foreseen(
        preset, frame_cut=variants.compliance.stored_sides(["bottom", 3, "middle"]),
        faint_marks=None, position=position).errors == cut
    assert bool(cut) is (preset.name == "amazon_main" and position != "PT02")


def _white_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 40), (255, 255, 255)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.parametrize("share", [0.05, 0.0999, 0.1, 0.25])
def test_it_refuses_a_faint_mark_by_one_verdict_in_the_check_the_dry_run_and_the_review(share):
    """The check of the file, a dry run (``foreseen``), the export form's pre-check and the
    review (``faint_marks_refused``, ``faint_marks_refusing``) and the grid
    (``faint_marks_refusers``) refuse a faint mark on the same presets, worded by the check."""
    compliance = variants.compliance
    signal = {"threshold": compliance.FAINT_MARKS_THRESHOLD, "share": share, "count": 1}
    refusing = compliance.faint_marks_refusing(signal)
    for preset in variants.PRESETS.values():
        checked = variants.check_variant(
            _white_jpeg(), preset, faint_marks=[{"box": [5, 5, 9, 9], "share": share}])
        in_file = [e for e in checked.errors if "faint see-through mark" in e]
        foreseen = compliance.foreseen(preset, frame_cut=(), faint_marks=signal).errors
        refused = compliance.faint_marks_refused(preset, signal)
        assert bool(in_file) is bool(foreseen) is refused is (preset.label in refusing)
        # the same sentence, but for where the mark lies in the file
        assert [e.replace(" near x=5, y=5", "") for e in in_file] == foreseen
    assert bool(refusing) is (share >= compliance.FAINT_MARK_FAIL_SHARE)
    assert refusing == (compliance.faint_marks_refusers() if refusing else [])


_SIZE_RULES = [
    {"min_long_side": 1000},
    {"max_long_side": 300, "min_short_side": 380},
    {"square": True, "aspect_ratios": ("4:3",)},
    {"max_pixels": 100_000, "recommended_long_side": 2000},
    # the format the spec renders: with a size broken too, the check says the format first
    {"formats": frozenset({"webp", "avif"})},
    {"formats": frozenset({"png"}), "min_long_side": 1000},
    {"formats": frozenset({"jpeg"}), "max_long_side": 300},
]


@pytest.mark.parametrize("rules", _SIZE_RULES)
@pytest.mark.parametrize("spec", ["trim|fill-85|square-400|bg-ffffff|format-jpeg",
                                  "canvas-500x300|bg-ffffff|format-jpeg",
                                  "trim|long-400|format-png"])
def test_it_foresees_the_size_and_format_rules_an_admins_preset_breaks_in_the_checks_words(
        spec, rules):
    """An admin's preset whose spec makes a size or a format its rules refuse fails every
    file: a dry run foresees it from the layout's output size (``product_layout``: the stored
    product box, as the export lays it out) and the spec's format, in the check of the file's
    words and order."""
    preset = variants.Preset("edited", "Edited", spec, "{sku}.{ext}",
                             variants.Rules(**rules)).checked()
    # large enough for every marketplace preset: check_source has nothing to say of it
    image = cutout(size=(1200, 900), box=(300, 180, 900, 720))
    rendered = variants.render_variant(image, preset.spec)
    checked = variants.check_rendered(rendered, preset)
    signals = variants.compliance.export_signals(np.asarray(image.getchannel("A")))
    canvas = variants.compliance.product_layout(
        preset.variant_spec, image.size, tuple(signals["product_px"]),
        tuple(signals["product_fill_px"])).canvas
    foreseen = variants.compliance.foreseen(preset, frame_cut=(), faint_marks=None,
                                            canvas=canvas)
    assert (foreseen.errors, foreseen.warnings) == (checked.errors, checked.warnings)
    assert checked.errors or checked.warnings


def _with_far_scrap_on_the_edge() -> Image.Image:
    """A product clear of every edge and a detached scrap far to its right, on the photo's
    right edge (a banner's end a remove click left: QA35 B1)."""
    rgba = np.zeros((480, 854, 4), np.uint8)
    rgba[150:330, 120:420] = (200, 30, 30, 255)
    rgba[200:230, 830:854] = (40, 40, 200, 255)
    return Image.fromarray(rgba)


@pytest.mark.parametrize("image", [_with_far_scrap_on_the_edge, _cut_by_the_frame])
@pytest.mark.parametrize("preset", ["amazon_main", "ebay", "walmart", "transparent_png"])
def test_it_stores_the_frame_cut_and_left_out_parts_the_render_finds(image, preset):
    """The stored ``frame_cut`` is the renderer's (a far detached part the layout leaves out
    does not count, where ``touching_sides`` does), and a dry run foresees the render's
    warning of the parts left out in its words."""
    from cutouts.imaging.signals import touching_sides

    source = image()
    alpha = np.asarray(source.getchannel("A"))
    signals = variants.compliance.export_signals(alpha)
    chosen = variants.PRESETS[preset]
    rendered = variants.render_variant(source, chosen.spec)
    assert variants.compliance.stored_frame_cut(signals) == rendered.metadata["frame_cut"]
    left_out = [w for w in rendered.warnings if "detached part" in w]
    foreseen = variants.compliance.foreseen(
        chosen, frame_cut=(), faint_marks=None, dropped_parts=signals["dropped_parts"])
    assert foreseen.warnings == left_out
    if image is _with_far_scrap_on_the_edge:
        assert touching_sides(alpha >= 128) == ["right"] and signals["frame_cut"] == []
        assert signals["dropped_parts"] == 1
        assert bool(left_out) is chosen.variant_spec.measures_product


def test_it_reads_an_older_versions_touching_sides_until_its_frame_cut_is_measured():
    stored_frame_cut = variants.compliance.stored_frame_cut
    assert stored_frame_cut({"touching_sides": ["right", "top"]}) == ["top", "right"]
    assert stored_frame_cut({"touching_sides": ["right"], "frame_cut": []}) == []
    assert stored_frame_cut({"frame_cut": ["bottom", 3]}) == ["bottom"]
    assert stored_frame_cut(None) == []

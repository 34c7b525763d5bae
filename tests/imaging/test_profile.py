"""``python -m cutouts.imaging profile``: CPU per pipeline stage, and the bare model floor."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from cutouts.imaging import __main__ as cli
from cutouts.imaging.clock import StageClock
from cutouts.imaging.encode import decode_working_copy
from cutouts.imaging.models import resolve_model
from cutouts.imaging.pipeline import run_pipeline
from cutouts.imaging.profile import (
    bare_model_seconds,
    profile_cutout,
    profile_sizes,
    working_copy_png,
)
from cutouts.imaging.session import get_segmenter
from cutouts.imaging.settings import profile

from .scenes import ColourSegmenter

# what every `fast` cutout goes through, in order (band, shadow: off in `fast`)
FAST_STAGES = ["decode", "resize", "inference", "fuse", "cleanup", "gate", "thin", "shape_work",
               "subject", "alpha_tiles", "decontaminate", "backdrop", "signals",
               "encode_cutout", "encode_mask"]


def test_it_reports_every_stage_with_positive_cpu():
    clock = profile_cutout(working_copy_png(0.3), profile("fast"), ColourSegmenter())
    assert list(clock.cpu) == FAST_STAGES
    assert all(v > 0 for v in clock.cpu.values()), clock.cpu
    assert all(v > 0 for v in clock.wall.values()), clock.wall


def test_it_adds_the_shadow_encode_and_the_crop_pass_when_the_settings_ask():
    settings = profile("default", shadow="synthetic")
    clock = profile_cutout(working_copy_png(0.3), settings, ColourSegmenter())
    assert "encode_shadow" in clock.cpu and "shadow" in clock.cpu
    assert set(FAST_STAGES) <= set(clock.cpu)


def test_it_leaves_the_cutout_unchanged_when_clocked():
    rgb = decode_working_copy(io.BytesIO(working_copy_png(0.3, seed=2)))
    plain = run_pipeline(rgb, profile("fast"), ColourSegmenter())
    clocked = run_pipeline(rgb, profile("fast"), ColourSegmenter(), StageClock())
    assert np.array_equal(plain.rgba, clocked.rgba)
    assert np.array_equal(plain.alpha, clocked.alpha)


def test_it_decodes_a_working_copy_to_rgb_whatever_its_mode():
    for mode in ("RGB", "L", "RGBA"):
        buf = io.BytesIO()
        Image.new(mode, (5, 4), 200 if mode == "L" else (10, 20, 30, 255)[:len(mode)]).save(
            buf, "PNG")
        buf.seek(0)
        rgb = decode_working_copy(buf)
        assert rgb.shape == (4, 5, 3) and rgb.dtype == np.uint8
        assert tuple(rgb[0, 0]) == ((200,) * 3 if mode == "L" else (10, 20, 30))


def test_it_reports_per_megapixel_and_the_part_around_the_model():
    report = profile_sizes([0.2, 0.4], profile("fast"), ColourSegmenter(), repeats=2)
    assert list(report) == ["0.2", "0.4"]
    for size, row in report.items():
        assert row["repeats"] == 2
        assert row["megapixels"] == pytest.approx(float(size), rel=0.01)
        assert row["cpu_ms_per_mp"]["decode"] == pytest.approx(
            row["cpu_ms"]["decode"] / row["megapixels"])
        assert row["around_model_cpu_ms"] == pytest.approx(
            row["total_cpu_ms"] - row["cpu_ms"]["inference"])
        assert 0 < row["around_model_cpu_ms"] < row["total_cpu_ms"]


def test_it_times_the_bare_embedded_model():
    seg = get_segmenter(resolve_model("u2netp"), threads=1)
    bare = bare_model_seconds(seg, repeats=2)
    assert bare["repeats"] == 2 and bare["cpu_s"] > 0 and bare["wall_s"] > 0
    assert bare["images_per_s"] == pytest.approx(1 / bare["wall_s"], rel=0.5)


def test_it_prints_the_stage_table_and_writes_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "get_segmenter", lambda spec, threads=None: ColourSegmenter())
    out = tmp_path / "profile.json"
    assert cli.main(["profile", "--mp", "0.3", "--repeats", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    for stage in ("decode", "resize", "inference", "decontaminate", "encode_cutout",
                  "= around model"):
        assert stage in printed
    data = json.loads(out.read_text())
    assert data["profile"] == "fast" and data["threads"] == 1
    assert data["bare_model"] is None  # a fake segmenter has no session to time
    assert list(data["sizes"]["0.3"]["cpu_ms"]) == FAST_STAGES


def test_it_derives_the_cutout_timings_from_the_stage_laps():
    rgb = decode_working_copy(io.BytesIO(working_copy_png(0.3, seed=1)))
    clock = StageClock()
    clock.lap("decode")  # a caller's own lap before the pipeline is not the pipeline's
    res = run_pipeline(rgb, profile("fast"), ColourSegmenter(), clock)
    model = clock.wall["resize"] + clock.wall["inference"]
    rest = sum(v for k, v in clock.wall.items() if k not in ("decode", "resize", "inference"))
    assert res.timings == pytest.approx({"inference": model, "refinement": rest})
    assert res.timings["refinement"] > 0
    # without a clock the timings come from the laps all the same
    assert set(run_pipeline(rgb, profile("fast"), ColourSegmenter()).timings) == {
        "inference", "refinement"}

"""The benchmark runner, with a fake segmenter and a tiny generated data set."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from cutouts.imaging import benchmark
from cutouts.imaging.benchmark import Config, run_benchmark
from cutouts.imaging.settings import profile

from .scenes import ColourSegmenter, glass_scene, hair_scene


def test_it_benchmarks_configurations_against_plain(tmp_path, monkeypatch):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for i, scene in enumerate((glass_scene, hair_scene)):
        rgb, truth = scene()
        Image.fromarray(rgb).save(tmp_path / "images" / f"{i:03d}.png")
        gt = np.where(truth >= 0.5, 255, 0).astype(np.uint8)
        gt[(truth > 0.05) & (truth < 0.95)] = 128  # mixed pixels: ignore
        Image.fromarray(gt).save(tmp_path / "masks" / f"{i:03d}.png")
    (tmp_path / "images" / "notes.txt").write_text("not an image")
    seg = ColourSegmenter()
    monkeypatch.setattr(benchmark, "get_segmenter", lambda spec, threads=None: seg)
    out = tmp_path / "out.json"
    configs = [Config("plain", None), Config("fast", profile("fast")),
               Config("default", profile("default"))]
    lines = []

    class Stream:
        def write(self, s):
            lines.append(s)

    report = run_benchmark(tmp_path, configs, out, stream=Stream())
    data = json.loads(out.read_text())
    assert data["images"] == 2 and set(data["configs"]) == {"plain", "fast", "default"}
    for name in ("plain", "fast", "default"):
        s = data["configs"][name]["summary"]
        assert {"iou", "mae", "max_f", "boundary_f", "halo", "deficit", "time",
                "t_decode", "t_inference", "t_refinement", "t_encode", "peak_rss_mb"} <= set(s)
    assert report["targets"]["default"]["halo"]["met"] in (True, False)
    text = "".join(lines)
    assert "vs plain" in text and "targets default" in text
    assert data["configs"]["default"]["summary"]["mae"] < data["configs"]["plain"]["summary"]["mae"]


@pytest.mark.slow
def test_it_cuts_a_50_megapixel_photo_under_1_5_gb():
    from cutouts.imaging.bigimage import measure_big_image

    res = measure_big_image(50.0, threads=2)
    assert res["megapixels"] >= 49.9
    assert res["peak_rss_mb"] < 1536, res


def test_it_scores_the_soft_set_and_reports_spill_and_risk(tmp_path, monkeypatch):
    from .scenes import feathered_scene

    soft = tmp_path / "soft"
    dev = tmp_path / "dev"
    for sub in ("soft/images", "soft/alpha", "soft/trimaps", "dev/images", "dev/masks"):
        (tmp_path / sub).mkdir(parents=True)
    for i, scene in enumerate((hair_scene, feathered_scene, glass_scene)):
        rgb, truth = scene()
        Image.fromarray(rgb).save(soft / "images" / f"{i}.png")
        Image.fromarray((truth * 255 + 0.5).astype(np.uint8)).save(soft / "alpha" / f"{i}.png")
        tri = np.where(truth >= 0.5, 255, 0).astype(np.uint8)
        tri[(truth > 0.02) & (truth < 0.98)] = 128
        Image.fromarray(tri).save(soft / "trimaps" / f"{i}.png")
        Image.fromarray(rgb).save(dev / "images" / f"{i}.png")
        Image.fromarray(np.where(truth >= 0.5, 255, 0).astype(np.uint8)).save(
            dev / "masks" / f"{i}.png")
    seg = ColourSegmenter()
    monkeypatch.setattr(benchmark, "get_segmenter", lambda spec, threads=None: seg)
    lines = []

    class Stream:
        def write(self, s):
            lines.append(s)

    configs = [Config("plain", None), Config("default", profile("default"))]
    report = run_benchmark(dev, configs, tmp_path / "out.json", stream=Stream(), soft_dir=soft)
    text = "".join(lines)
    assert "soft-alpha set" in text and "grad" in text and "soft targets default" in text
    s = report["soft"]["configs"]["default"]["summary"]
    assert {"sad", "mse", "grad", "soft_mae", "band_mae", "iou"} <= set(s)
    assert s["sad"] < report["soft"]["configs"]["plain"]["summary"]["sad"]
    assert "spill_share" in report["configs"]["plain"]["summary"]
    assert "risk" in report["configs"]["default"]["images"][0]
    assert "risk default" in text
    risk = report["risk"]["default"]
    # no cutout of these clean scenes is bad: nothing to rank, and no nan printed for it
    assert risk["bad"] == 0 and "risk default: 0/3 cutouts with IoU < .80\n" in lines
    # the soft set's cutouts are ranked by the same risk, reported beside dev's
    soft_rows = report["soft"]["configs"]["default"]["images"]
    assert all(0.0 <= row["risk"] <= 1.0 and "edge_support" in row["signals"]
               for row in soft_rows)
    soft_risk = report["soft"]["risk"]
    assert set(soft_risk) == {"default"} and soft_risk["default"]["images"] == 3
    assert any(line.startswith("soft risk default: ") for line in lines)


def test_it_scores_the_alpha_of_the_written_png(tmp_path):
    rgb, truth = hair_scene()
    path = tmp_path / "x.png"
    Image.fromarray(rgb).save(path)
    cfg = Config("default", profile("default"))
    alpha, signals, _ = benchmark._cut(cfg, ColourSegmenter(), path)
    from cutouts.imaging.pipeline import run_pipeline

    res = run_pipeline(rgb, profile("default"), ColourSegmenter())
    np.testing.assert_array_equal(alpha, res.alpha)
    assert signals["risk"] == res.signals["risk"]

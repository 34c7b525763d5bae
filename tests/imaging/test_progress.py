"""``on_progress(stage, fraction)`` of the pipeline and the retouch: the stage and how far a long
run is, for the bar on the review card and the retouch page (no Django, no model file)."""

from __future__ import annotations

import cv2
import numpy as np

from cutouts.imaging import progress
from cutouts.imaging.pipeline import run_pipeline
from cutouts.imaging.retouch import retouch
from cutouts.imaging.settings import profile
from cutouts.imaging.strokes import Stroke

from .scenes import ColourSegmenter, compose, feathered_scene


def _heard():
    calls: list[tuple[str, float]] = []
    return calls, lambda stage, fraction: calls.append((stage, fraction))


def _assert_grows_to_one(calls: list[tuple[str, float]]) -> None:
    fractions = [f for _, f in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0, calls
    assert all(a < b for a, b in zip(fractions, fractions[1:], strict=False)), calls


def test_it_reports_the_pipelines_stages_with_growing_fractions_ending_at_1():
    # above the working resolution, so the full-size alpha runs in many tiles
    alpha = np.zeros((1800, 2600), np.float32)
    cv2.ellipse(alpha, (1300, 900), (700, 500), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    calls, heard = _heard()
    result = run_pipeline(compose(alpha), profile("default"), ColourSegmenter(),
                          on_progress=heard)
    _assert_grows_to_one(calls)
    stages = list(dict.fromkeys(stage for stage, _ in calls))
    assert stages == [progress.FINDING, progress.REFINING, progress.COLOURS, progress.CHECKING]
    # the tiles say each percent they pass, not each tile (hundreds at this size)
    tiles = [f for stage, f in calls if stage == progress.REFINING]
    assert 10 < len(tiles) <= 102, len(tiles)
    assert result.alpha.shape == (1800, 2600)


def test_it_runs_the_pipeline_as_before_without_a_callback():
    rgb, _ = feathered_scene()
    seg = ColourSegmenter()
    heard_calls, heard = _heard()
    with_cb = run_pipeline(rgb, profile("fast"), seg, on_progress=heard)
    without = run_pipeline(rgb, profile("fast"), ColourSegmenter())
    assert np.array_equal(with_cb.rgba, without.rgba) and heard_calls


def test_it_reports_the_retouchs_stages_with_growing_fractions_ending_at_1():
    rgb, alpha_f = feathered_scene()
    alpha = np.clip(alpha_f * 255 + 0.5, 0, 255).astype(np.uint8)
    h, w = alpha.shape
    strokes = [Stroke("remove", 8.0, ((w / 2, h / 2),)),
               Stroke("detail", 6.0, ((w / 2 - w / 5, h / 2), (w / 2 - w / 5, h / 2 + 30)))]
    calls, heard = _heard()
    retouch(rgb, alpha, strokes, on_progress=heard)
    _assert_grows_to_one(calls)
    assert list(dict.fromkeys(stage for stage, _ in calls)) == [progress.STROKES,
                                                                progress.REFINING]


def test_it_maps_a_parts_fractions_onto_its_span_of_the_whole():
    calls, heard = _heard()
    part = progress.span(heard, 0.1, 0.9)
    part("a", 0.0)
    part("b", 0.5)
    part("c", 1.0)
    part("d", 7.0)  # never past its end
    assert [(s, round(f, 6)) for s, f in calls] == [("a", 0.1), ("b", 0.5), ("c", 0.9),
                                                    ("d", 0.9)]


def test_it_reports_after_each_model_pass():
    # the default profile runs three passes (the photo, its mirror, the crop): on a small
    # photo they are most of the run, and a bar that waited for all of them sat still
    alpha = np.zeros((600, 800), np.float32)
    cv2.ellipse(alpha, (400, 300), (150, 120), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    calls, heard = _heard()
    run_pipeline(compose(alpha), profile("default"), ColourSegmenter(), on_progress=heard)
    finding = [f for stage, f in calls if stage == progress.FINDING]
    # the start, after the first two, and the third's end is where the refinement starts
    assert len(finding) == 1 + 2 and finding[0] == 0.0, calls
    assert all(a < b for a, b in zip(finding, finding[1:], strict=False)), calls


def test_it_gives_the_model_passes_more_of_a_small_photos_bar_than_of_a_large_ones():
    from cutouts.imaging import pipeline

    settings = profile("default")
    small, large = 2_000_000, 45_000_000
    # the passes cost the same at any size; the tiles and the colours grow
    assert pipeline.stage_starts(small, settings)[0] > pipeline.stage_starts(large, settings)[0]

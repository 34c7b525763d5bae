import io
import json

import cv2
import numpy as np
from django.core.management import call_command
from PIL import Image

from cutouts.imaging.__main__ import main
from cutouts.imaging.clicks import (
    PAINT_RADIUS_MAX,
    image_set,
    next_click,
    next_paint,
    noc,
    run_clicks,
    summarise,
)
from cutouts.imaging.strokes import rasterise

from .scenes import ColourSegmenter, compose


def test_it_clicks_positive_at_the_deepest_missed_pixel():
    gt = np.zeros((100, 120), np.uint8)
    gt[20:80, 20:100] = 255
    pred = gt > 128
    pred[30:70, 60:100] = False  # a missed block, 40 x 40: deepest at its centre
    pred[0:4, 0:10] = True  # a thin spill: shallower
    (x, y), positive = next_click(pred, gt)
    assert positive
    assert 78 <= x <= 81 and 48 <= y <= 51


def test_it_clicks_negative_when_the_spill_is_deeper_and_ignores_the_band():
    gt = np.zeros((100, 120), np.uint8)
    gt[40:60, 40:60] = 255
    gt[38:40, 40:60] = 128  # ignore band: errors there do not count
    pred = gt > 128
    pred[38:40, 40:60] = True
    pred[70:96, 70:116] = True  # a ghost 26 x 46
    (x, y), positive = next_click(pred, gt)
    assert not positive
    assert 80 <= x <= 105 and 80 <= y <= 85
    assert next_click(gt > 128, gt) is None  # nothing wrong: no click


def test_it_counts_clicks_to_a_threshold_and_clicks_that_hurt():
    rows = [{"ious": [0.80, 0.86, 0.84, 0.91] + [0.91] * 17, "seconds": [0.1, 0.2, 0.3]},
            {"ious": [0.95] * 21, "seconds": []}]
    assert noc(rows[0]["ious"], 0.85, 20) == 1 and noc(rows[0]["ious"], 0.90, 20) == 3
    assert noc([0.5] * 21, 0.9, 20) == 20
    s = summarise(rows, 20)
    assert s["noc90"] == 1.5 and s["clicks"] == 3
    assert abs(s["worse_share"] - 1 / 3) < 1e-9
    assert s["median_s"] == 0.2
    assert image_set("036") == "davis" and image_set("106024") == "grabcut"
    assert image_set("banana1") == "grabcut"


def _write_pair(folder, stem, seed):
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    a = np.zeros((h, w), np.float32)
    cv2.ellipse(a, (int(rng.integers(120, 200)), 120), (70, 50), 0, 0, 360, 1.0, -1)
    cv2.rectangle(a, (20, 20), (60, 60), 1.0, -1)  # a second red patch: the model takes it
    truth = np.where(a > 0.5, 255, 0).astype(np.uint8)
    truth[20:61, 20:61] = 0  # ... but the reviewer only wants the ellipse
    (folder / "images").mkdir(exist_ok=True)
    (folder / "masks").mkdir(exist_ok=True)
    Image.fromarray(compose(a)).save(folder / "images" / f"{stem}.png")
    Image.fromarray(truth).save(folder / "masks" / f"{stem}.png")


def test_it_runs_the_protocol_on_synthetic_images_and_reports_per_set(tmp_path):
    _write_pair(tmp_path, "007", 1)
    _write_pair(tmp_path, "toy", 2)
    out = tmp_path / "clicks.json"
    report = run_clicks(tmp_path / "images", tmp_path / "masks", max_clicks=3,
                        segmenter=ColourSegmenter(), out_json=out, stream=io.StringIO())
    data = json.loads(out.read_text())
    sets = data["engines"]["retouch"]["sets"]
    assert sets["davis"]["images"] == 1 and sets["grabcut"]["images"] == 1
    for row in data["engines"]["retouch"]["images"]:
        # the first click removes the unwanted patch; IoU never drops
        assert row["ious"][1] > row["ious"][0] + 0.1
        assert all(b >= a for a, b in zip(row["ious"], row["ious"][1:], strict=False))
    assert report["targets"]["all.worse_share"]["met"]


def test_it_runs_the_clicks_command_with_the_embedded_model(tmp_path, capsys):
    _write_pair(tmp_path, "001", 3)
    _write_pair(tmp_path, "vase", 4)
    out = tmp_path / "o.json"
    rc = main(["clicks", str(tmp_path / "images"), str(tmp_path / "masks"), "--max-clicks", "2",
               "--json", str(out), "--quiet", "--threads", "1"])
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["max_clicks"] == 2 and len(data["engines"]["retouch"]["images"]) == 2
    assert "noc90" in capsys.readouterr().out


def test_it_wraps_the_protocol_in_a_management_command(tmp_path):
    _write_pair(tmp_path, "002", 5)
    out = tmp_path / "r.json"
    stdout = io.StringIO()
    call_command("retouch_benchmark", "--data", str(tmp_path), "--max-clicks", "1",
                 "--json", str(out), stdout=stdout, stderr=io.StringIO())
    table = stdout.getvalue()
    assert "noc90" in table and "davis" in table
    assert json.loads(out.read_text())["engines"]["retouch"]["sets"]["davis"]["images"] == 1


def test_it_paints_along_the_missed_band_with_a_brush_that_fits_inside_it():
    gt = np.zeros((120, 200), np.uint8)
    gt[20:100, 20:180] = 255
    pred = gt > 128
    pred[50:62, 30:170] = False  # a missed band 12 px high, 140 long
    st = next_paint(pred, gt)
    assert st is not None and st.kind == "keep"
    # the brush fits the band's half-width (6 px) and covers most of its length
    assert 3.0 <= st.radius <= 6.0
    xs = [x for x, _ in st.points]
    assert max(xs) - min(xs) >= 100
    painted = rasterise([st], gt.shape) > 0
    assert painted.any() and not (painted & pred).any()  # nothing outside the error region


def test_it_paints_a_remove_stroke_when_the_spill_is_deeper():
    gt = np.zeros((120, 200), np.uint8)
    gt[20:100, 20:100] = 255
    pred = gt > 128
    pred[50:54, 40:90] = False  # a shallow miss (2 px deep)
    pred[30:90, 130:190] = True  # a spilled block 60 x 60: deeper
    st = next_paint(pred, gt)
    assert st is not None and st.kind == "remove"
    painted = rasterise([st], gt.shape) > 0
    assert (painted & (gt < 128) & pred).sum() == painted.sum()
    assert st.radius <= PAINT_RADIUS_MAX


def test_it_paints_nothing_when_every_error_is_shallower_than_two_pixels():
    gt = np.zeros((80, 80), np.uint8)
    gt[20:60, 20:60] = 255
    pred = gt > 128
    pred[20:60, 20] = False  # a one-pixel sliver
    assert next_paint(pred, gt) is None
    assert next_paint(gt > 128, gt) is None


def test_it_runs_the_painted_protocol_and_counts_strokes_that_hurt(tmp_path):
    _write_pair(tmp_path, "008", 6)
    out = tmp_path / "painted.json"
    stream = io.StringIO()
    run_clicks(tmp_path / "images", tmp_path / "masks", max_clicks=2, painted=True,
               segmenter=ColourSegmenter(), out_json=out, stream=stream)
    data = json.loads(out.read_text())
    assert data["policy"] == "painted" and "click_radius" not in data
    row = data["engines"]["retouch"]["images"][0]
    assert row["strokes"] and "clicks" not in row
    assert row["strokes"][0]["kind"] == "remove" and len(row["strokes"][0]["points"]) >= 2
    assert row["ious"][1] > row["ious"][0] + 0.1  # the stroke over the unwanted patch removes it
    assert data["engines"]["retouch"]["sets"]["all"]["worse"] == 0
    assert "worse" in stream.getvalue().splitlines()[0]


def test_it_runs_the_painted_protocol_from_both_commands(tmp_path, capsys):
    _write_pair(tmp_path, "003", 7)
    out = tmp_path / "p.json"
    rc = main(["clicks", str(tmp_path / "images"), str(tmp_path / "masks"), "--max-clicks", "1",
               "--painted", "--json", str(out), "--quiet", "--threads", "1"])
    assert rc == 0 and json.loads(out.read_text())["policy"] == "painted"
    assert "strokes" in capsys.readouterr().out
    out2 = tmp_path / "q.json"
    call_command("retouch_benchmark", "--data", str(tmp_path), "--max-clicks", "1", "--painted",
                 "--json", str(out2), stdout=io.StringIO(), stderr=io.StringIO())
    assert json.loads(out2.read_text())["policy"] == "painted"


def test_it_reports_the_soft_error_after_each_click_beside_the_iou(tmp_path):
    # (2026-12-07, softerr47) the soft error per photo and click, in new keys only: the patch
    # the first click removes was solid, so its soft error falls with the IoU's gain
    _write_pair(tmp_path, "007", 1)
    report = run_clicks(tmp_path / "images", tmp_path / "masks", max_clicks=3,
                        segmenter=ColourSegmenter(), stream=io.StringIO())
    row = report["engines"]["retouch"]["images"][0]
    assert len(row["softs"]) == len(row["ious"]) == 4
    assert row["softs"][1] < row["softs"][0] - 1000  # the 41 x 41 patch, 1 681 px, mostly gone
    sets = report["engines"]["retouch"]["sets"]
    assert sets["all"]["soft@1"] == row["softs"][1]
    # the new keys come after the old ones: the old part of the report reads as before
    assert list(sets["all"])[-4:] == ["p95_s", "soft@0", "soft@1", "soft@3"]

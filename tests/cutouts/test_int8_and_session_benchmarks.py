import json

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

pytestmark = pytest.mark.slow


def _tiny_eval_set(root):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(2):
        rgb = np.full((120, 160, 3), 235, np.uint8)
        rgb[30:90, 50:110] = (40 + 60 * i, 90, 160)
        mask = np.zeros((120, 160), np.uint8)
        mask[30:90, 50:110] = 255
        Image.fromarray(rgb).save(root / "images" / f"{i:03d}.png")
        Image.fromarray(mask).save(root / "masks" / f"{i:03d}.png")


def test_it_builds_gates_and_records_the_int8_model(tmp_path, capsys):
    _tiny_eval_set(tmp_path / "eval")
    models = tmp_path / "models"
    out = tmp_path / "int8.json"
    call_command("u2netp_int8", "--data", str(tmp_path / "eval"), "--target", str(models),
                 "--calibration", "2", "--repeats", "2", "--noise-draws", "2", "--json", str(out))
    assert (models / "u2netp-int8.onnx").stat().st_size > 500_000
    gate = json.loads((models / "u2netp-int8.gate.json").read_text())
    assert isinstance(gate["passed"], bool) and len(gate["int8_md5"]) == 32
    assert set(gate["gates"]) == {"plain", "pipeline"}
    # the coarse levels (1/8 and below: 85 of the 119 convs) stay fp32 by default
    assert gate["build"]["coarse_stride"] == 8 and gate["build"]["coarse_nodes_fp32"] > 200
    assert 20 < gate["build"]["bias_corrected_convs"] < 40  # every quantised conv
    assert gate["gates"]["pipeline"]["images"] == 2
    assert gate["speed_s"]["fp32"] > 0 and gate["speed_s"]["int8"] > 0
    assert json.loads(out.read_text())["per_image"]["stems"] == ["000", "001"]
    noise = gate["noise_floor"]
    assert noise["draws"] == 2 and set(noise["per_image"]) == {"000", "001"}
    assert gate["passed"] == gate["gates"]["pipeline"]["passed"]  # reported, never the decision
    printed = capsys.readouterr().out
    assert "mean drop" in printed and "speed-up" in printed and "own IoU spread" in printed


def test_it_hands_the_coarse_stride_to_the_build(tmp_path, monkeypatch):
    import shutil

    from cutouts.imaging import quantize

    _tiny_eval_set(tmp_path / "eval")
    seen = []

    def build(fp32, out, **options):  # the fp32 file stands in for the int8 one
        seen.append(options["coarse_stride"])
        shutil.copy(fp32, out)
        return {"seconds": 0.0, "bias_corrected_convs": 0, "bias_correction_renders": 0,
                "coarse_nodes_fp32": 0}

    monkeypatch.setattr(quantize, "build_int8", build)
    for stride in ("8", "0"):
        call_command("u2netp_int8", "--data", str(tmp_path / "eval"), "--target",
                     str(tmp_path / "models"), "--repeats", "1", "--coarse-stride", stride,
                     "--json", str(tmp_path / "int8.json"))
    assert seen == [8, None]  # 0 quantises every level


def test_it_measures_session_options_in_one_run(tmp_path, capsys):
    out = tmp_path / "options.json"
    call_command("onnx_options_benchmark", "--repeats", "2", "--json", str(out))
    result = json.loads(out.read_text())
    names = [r["what"] for r in result["rows"]]
    assert names[0].startswith("baseline") and result["rows"][0]["ratio"] == 1.0
    assert any("arena off" in n for n in names) and any("batch 2" in n for n in names)
    assert any("together" in n for n in names)
    assert all(r["ips"] > 0 for r in result["rows"])
    assert len(result["load_average"]) == 3
    assert "ms / image" in capsys.readouterr().out

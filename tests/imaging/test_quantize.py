import json

import numpy as np
import pytest

from cutouts.imaging import quantize
from cutouts.imaging.models import REGISTRY, file_md5


def test_it_passes_the_gate_only_within_both_limits():
    stems = ["a", "b", "c"]
    ok = quantize.evaluate_gate([0.8, 0.7, 0.9], [0.8, 0.69, 0.9], stems)
    assert ok["passed"] is True and ok["worst_image"] == "b"
    one_image = quantize.evaluate_gate([0.8, 0.7, 0.9], [0.8, 0.66, 0.9], stems)
    assert one_image["passed"] is False and one_image["images_over_limit"] == 1
    mean = quantize.evaluate_gate([0.8, 0.7, 0.9], [0.78, 0.68, 0.88], stems)
    assert mean["passed"] is False and mean["mean_drop"] == pytest.approx(0.02)


def _gated_file(tmp_path, passed, md5=None):
    model = tmp_path / REGISTRY[quantize.INT8_MODEL].filename
    model.write_bytes(b"not really onnx")
    quantize.gate_path(model).write_text(json.dumps(
        {"passed": passed, "int8_md5": md5 or file_md5(model)}))
    return model


def test_it_lets_fast_use_int8_only_after_a_passed_gate_for_that_file(tmp_path):
    assert quantize.fast_model("u2netp", tmp_path) == "u2netp"  # no file at all
    _gated_file(tmp_path, passed=False)
    assert quantize.fast_model("u2netp", tmp_path) == "u2netp"
    _gated_file(tmp_path, passed=True)
    assert quantize.fast_model("u2netp", tmp_path) == quantize.INT8_MODEL
    assert quantize.fast_model("isnet-imgly", tmp_path) == "isnet-imgly"


def test_it_ignores_a_gate_recorded_for_another_file(tmp_path):
    _gated_file(tmp_path, passed=True, md5="0" * 32)
    assert quantize.fast_model("u2netp", tmp_path) == "u2netp"


def test_it_renders_varied_calibration_photos():
    a, b = quantize.calibration_photo(1), quantize.calibration_photo(2)
    assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3
    assert a.shape != b.shape or np.abs(a.astype(int) - b).mean() > 5
    assert np.array_equal(a, quantize.calibration_photo(1))  # reproducible builds


def test_it_keeps_the_output_head_in_float():
    import onnx

    from cutouts.imaging.models import embedded_u2netp_path

    path = embedded_u2netp_path()
    assert path is not None, "the embedded u2netp.onnx is part of the install"
    model = onnx.load(str(path))
    head = quantize.head_nodes(model)
    ops = {n.name: n.op_type for n in model.graph.node}
    assert "Conv" in {ops[h] for h in head} and "Sigmoid" in {ops[h] for h in head}
    assert "Relu" not in {ops[h] for h in head}
    # six side outputs and the fusion conv: nothing of the encoder or decoder
    assert sum(ops[h] == "Conv" for h in head) == 7

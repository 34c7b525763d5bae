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


def test_it_dithers_invisibly_and_reproducibly():
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[4:] = 255
    a, b = quantize.dithered(rgb, 1), quantize.dithered(rgb, 1)
    assert np.array_equal(a, b) and not np.array_equal(a, quantize.dithered(rgb, 2))
    diff = a.astype(int) - rgb
    assert diff.min() >= -1 and diff.max() <= 1 and np.any(diff != 0)
    assert a[:4].min() == 0 and a[4:].max() == 255  # clipped, not wrapped


def test_it_separates_a_noisy_image_from_a_real_loss():
    # "noisy": fp32 itself moves by .15 between invisible copies, int8 is no worse on average;
    # "lossy": fp32 is stable and int8 loses .05 on every copy
    fp32 = [[0.80, 0.95, 0.85], [0.90, 0.90, 0.90]]
    int8 = [[0.86, 0.80, 0.94], [0.85, 0.85, 0.85]]
    floor = quantize.evaluate_noise_floor(fp32, int8, ["noisy", "lossy"])
    assert floor["draws"] == 3
    assert floor["images_fp32_spread_over_limit"] == ["noisy"]
    assert floor["images_mean_drop_over_limit"] == ["lossy"]
    assert floor["per_image"]["noisy"]["mean_drop"] == pytest.approx(0.0)
    assert floor["worst_image"] == "lossy"


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


def _two_conv_model(offset):
    """x (1, 2, 8, 8) -> identity Conv with bias (0, offset) -> Relu -> 1x1 Conv."""
    from onnx import TensorProto, helper, numpy_helper

    eye = np.eye(2, dtype=np.float32).reshape(2, 2, 1, 1)
    inits = [numpy_helper.from_array(eye, "w1"),
             numpy_helper.from_array(np.array([0, offset], np.float32), "b1"),
             numpy_helper.from_array(np.ones((1, 2, 1, 1), np.float32), "w2")]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="first"),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu"),
             helper.make_node("Conv", ["r1", "w2"], ["y"], name="second")]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 8, 8])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def test_it_keeps_convs_fed_by_a_constant_offset_channel_in_float():
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(0, 1, (1, 2, 8, 8)).astype(np.float32) for _ in range(3)]
    # channel 1 sits at 100..101 while channel 0 spans 0..1: it alone sets the uint8 scale
    assert quantize.offset_channel_nodes(_two_conv_model(100.0), inputs) == [
        "first", "relu", "second"]
    # the same layers with an ordinary bias are quantised (the graph input never counts)
    assert quantize.offset_channel_nodes(_two_conv_model(0.5), inputs) == []


def test_it_times_the_models_alternately_in_one_run():
    calls = []
    spec = REGISTRY["u2netp"]
    result = quantize.time_models({"a": lambda x: calls.append(("a", x.shape)),
                                   "b": lambda x: calls.append(("b", x.shape))}, spec, 3)
    assert [name for name, _ in calls] == ["a", "b"] * 4  # warm-up, then alternated
    assert calls[0][1] == (1, 3, 320, 320)
    assert set(result) == {"a", "b"} and all(v["cpu"] >= 0 and v["wall"] > 0
                                             for v in result.values())


def _rounding_biased_conv():
    """x (1, 16, 8, 8) -> 1x1 Conv to 2 channels, each a weight of 1 plus fifteen small
    weights that per-channel int8 rounding (step 1/127) all rounds up: a systematic shift."""
    from onnx import TensorProto, helper, numpy_helper

    w = np.zeros((2, 16, 1, 1), np.float32)
    w[:, 0] = 1.0
    w[0, 1:] = 0.006
    w[1, 1:] = 0.0045
    inits = [numpy_helper.from_array(w, "w"),
             numpy_helper.from_array(np.array([0.1, -0.1], np.float32), "b")]
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 8, 8])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def test_it_folds_a_convs_mean_rounding_error_into_its_bias(tmp_path):
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    rng = np.random.default_rng(3)
    inputs = [rng.uniform(0, 1, (1, 16, 8, 8)).astype(np.float32) for _ in range(8)]
    fp32 = _rounding_biased_conv()
    onnx.save(fp32, tmp_path / "fp32.onnx")
    quantize_static(str(tmp_path / "fp32.onnx"), str(tmp_path / "int8.onnx"),
                    quantize._Reader("x", inputs), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8)
    qdq = onnx.load(tmp_path / "int8.onnx")
    held_out = [rng.uniform(0, 1, (1, 16, 8, 8)).astype(np.float32) for _ in range(8)]

    def mean_error(model):  # per channel, int8 kernels as shipped, on held-out inputs
        a = ort.InferenceSession(fp32.SerializeToString(), providers=["CPUExecutionProvider"])
        b = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        return np.mean([(a.run(None, {"x": x})[0] - b.run(None, {"x": x})[0]).mean(axis=(0, 2, 3))
                        for x in held_out], axis=0)

    before = mean_error(qdq)
    errors = quantize.bias_errors(qdq, fp32, inputs)
    assert set(errors) == {"conv"}
    np.testing.assert_allclose(errors["conv"], before, atol=0.004)  # measures the real shift
    assert quantize.correct_bias(qdq, errors) == 1
    after = mean_error(qdq)
    assert np.all(np.abs(before) > 0.01)
    assert np.all(np.abs(after) < 0.2 * np.abs(before))


def test_it_scores_a_model_against_itself_as_identical():
    from cutouts.imaging.models import embedded_u2netp_path

    path = embedded_u2netp_path()
    result = quantize.render_agreement(path, path, seeds=[900])
    assert result["renders"] == 1
    assert result["mean_abs_delta"] == 0 and result["mask_iou"] == result["worst_mask_iou"] == 1


def _two_level_model():
    """x (1, 2, 8, 8) -> Conv -> MaxPool to 4x4 -> Conv -> Resize to 8x8 -> Conv."""
    from onnx import TensorProto, helper, numpy_helper

    w = np.ones((2, 2, 1, 1), np.float32)
    inits = [numpy_helper.from_array(w, "w"),
             numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")]
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], name="fine_in"),
             helper.make_node("MaxPool", ["a"], ["p"], name="pool", kernel_shape=[2, 2],
                              strides=[2, 2]),
             helper.make_node("Conv", ["p", "w"], ["c"], name="coarse"),
             helper.make_node("Resize", ["c", "", "scales"], ["u"], name="up"),
             helper.make_node("Conv", ["u", "w"], ["y"], name="fine_out")]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 8, 8])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def test_it_finds_the_nodes_at_a_coarse_resolution():
    model = _two_level_model()
    assert quantize.coarse_nodes(model, 2) == ["coarse", "pool"]
    assert quantize.coarse_nodes(model, 4) == []  # nothing at 2x2 or below
    assert quantize.coarse_nodes(model, 1) == ["coarse", "fine_in", "fine_out", "pool", "up"]

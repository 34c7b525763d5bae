"""``python -m cutouts.imaging cut`` finds installed models where the app keeps them."""

from __future__ import annotations

from PIL import Image

from cutouts.imaging import __main__ as cli

from .scenes import ColourSegmenter, glass_scene


def test_it_finds_models_through_cutroom_model_dir(tmp_path, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    (models / "isnet-imgly.onnx").write_bytes(b"stand-in")  # the file the fake never reads
    src = tmp_path / "a.png"
    Image.fromarray(glass_scene()[0]).save(src)
    monkeypatch.setenv("CUTROOM_MODEL_DIR", str(models))
    seen = []

    def fake_segmenter(spec, threads=None):
        seen.append(spec.path)
        return ColourSegmenter(input_size=spec.input_size)

    monkeypatch.setattr(cli, "get_segmenter", fake_segmenter)
    code = cli.main(["cut", str(src), "--out", str(tmp_path / "out"), "--profile", "fast",
                     "--model", "isnet-imgly", "--quiet"])
    assert code == 0
    assert seen == [str(models / "isnet-imgly.onnx")]
    assert (tmp_path / "out" / "a.png").is_file()


def test_it_falls_back_to_the_var_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("CUTROOM_MODEL_DIR", raising=False)
    monkeypatch.setenv("CUTROOM_VAR_DIR", str(tmp_path))
    assert cli.default_model_dir() == str(tmp_path / "models")

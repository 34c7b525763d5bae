"""``python -m cutouts.imaging cut`` with a fake segmenter."""

from __future__ import annotations

import json

from PIL import Image

from cutouts.imaging import __main__ as cli

from .scenes import ColourSegmenter, glass_scene, shadow_scene


def test_it_cuts_out_a_folder_with_one_session(tmp_path, monkeypatch):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(glass_scene()[0]).save(src / "a.jpg", quality=95)
    Image.fromarray(shadow_scene()[0]).save(src / "b.png")
    (src / "readme.txt").write_text("skip me")
    made = []

    def fake_segmenter(spec, threads=None):
        made.append(spec.name)
        return ColourSegmenter()

    monkeypatch.setattr(cli, "get_segmenter", fake_segmenter)
    out = tmp_path / "out"
    code = cli.main(["cut", str(src), "--out", str(out), "--profile", "fast",
                     "--shadow", "keep", "--quiet"])
    assert code == 0 and made == ["u2netp"]  # one session for the whole run
    for stem in ("a", "b"):
        assert Image.open(out / f"{stem}.png").mode == "RGBA"
        assert Image.open(out / f"{stem}.mask.png").mode == "L"
        meta = json.loads((out / f"{stem}.json").read_text())
        assert meta["settings"]["shadow"] == "keep" and "fill_ratio" in meta["signals"]
    assert (out / "b.shadow.png").is_file()

import io
import json

import numpy as np
from PIL import Image

from cutouts.imaging.protocol import run_protocol

from .scenes import ColourSegmenter, compose


def _one_image_set(tmp_path):
    a = np.zeros((60, 80), np.float32)
    a[15:45, 20:60] = 1.0
    Image.fromarray(compose(a)).save(tmp_path / "001.png")
    seen = {}

    def read(*, stems, limit):
        seen["asked"] = (stems, limit)
        return [("001", tmp_path / "001.png", "extra")], lambda stem, rgb: (stem, rgb.shape)

    return read, seen


def test_it_plays_each_engine_on_every_item_and_writes_what_it_returns(tmp_path):
    read, seen = _one_image_set(tmp_path)
    played = []

    def play(rgb, alpha0, rgba0, truth, refiner):
        played.append((truth, alpha0.shape, rgba0.shape[2]))
        return {"score": float(alpha0.mean())}

    out, stream = tmp_path / "r.json", io.StringIO()
    report = run_protocol(read, play, lambda rows: {"n": len(rows)},
                          lambda r: f"{len(r['engines'])} engines", {"set": "x"},
                          segmenter=ColourSegmenter(), engines=("retouch", "paint"),
                          stems={"001"}, limit=3, cache_dir=tmp_path / "cache",
                          out_json=out, stream=stream, load_average=True)
    assert seen["asked"] == ({"001"}, 3)
    # the truth loader is handed the decoded image; each engine plays the same cutout
    assert played == [(("001", (60, 80, 3)), (60, 80), 4)] * 2
    assert list(report) == ["set", "load_average", "engines"] and len(report["load_average"]) == 3
    assert report["engines"]["paint"]["summary"] == {"n": 1}
    assert report["engines"]["retouch"]["images"][0]["stem"] == "001"
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    assert stream.getvalue() == "2 engines\n"
    # the automatic cutout is kept for the next run
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["001.alpha.png",
                                                                       "001.rgba.png"]


def test_it_defaults_to_the_retouch_engine_and_writes_no_json_unless_asked(tmp_path):
    read, _ = _one_image_set(tmp_path)
    stream = io.StringIO()
    report = run_protocol(read, lambda *a: {}, lambda rows: {}, lambda r: "ok", {},
                          segmenter=ColourSegmenter(), stream=stream)
    assert list(report["engines"]) == ["retouch"] and "load_average" not in report
    assert list(tmp_path.iterdir()) == [tmp_path / "001.png"]

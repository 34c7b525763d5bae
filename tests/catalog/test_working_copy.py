"""The one PNG writer (catalog.ingest.png), the working copy's encoding through it, and its
measurement, working_bench."""

import io
import json
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from catalog.ingest import images, png, working_bench
from tests.catalog.imagegen import delta_e_2000, gradient_array, srgb_to_lab


def _photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A gradient with grain, so every filter and every byte value is exercised."""
    rng = np.random.default_rng(seed)
    grain = rng.normal(0, 12, size=(height, width, 3))
    return np.clip(gradient_array(width, height, seed=seed) + grain, 0, 255).astype(np.uint8)


def _idat(data: bytes) -> bytes:
    """The concatenated IDAT bodies of a PNG file."""
    found, at = b"", len(png.SIGNATURE)
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"IDAT":
            found += data[at + 8 : at + 8 + length]
        at += 12 + length
    return found


def _written(image: Image.Image, **kwargs) -> bytes:
    out = io.BytesIO()
    png.png_write(image, out, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize("row_filter", png.ROW_FILTERS)
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_it_writes_a_png_that_pillow_reads_back_pixel_for_pixel(mode, row_filter):
    # 150 rows: two full strips and a partial one, so the row above each strip is carried.
    arr = _photo(97, 2 * png.STRIP_ROWS + 22)
    image = Image.fromarray(arr, "RGB").convert(mode)
    data = _written(image, row_filter=row_filter)
    again = Image.open(io.BytesIO(data))
    assert again.format == "PNG" and again.mode == mode and again.size == image.size
    assert np.array_equal(np.asarray(again), np.asarray(image))


def test_it_writes_a_png_that_libpng_reads_back_pixel_for_pixel():
    # libpng (through OpenCV) is a second, independent decoder: the one browsers build on.
    arr = _photo(300, 200, seed=4)
    data = _written(Image.fromarray(arr, "RGB"))
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), arr)


def test_it_writes_image_data_strip_by_strip_not_all_at_the_end(monkeypatch):
    monkeypatch.setattr(png, "IDAT_BYTES", 4096)
    data = _written(Image.fromarray(_photo(400, 300), "RGB"), level=0)
    # 300 rows are five strips; each strip's output goes out as soon as it is deflated.
    assert data.count(b"IDAT") >= 5
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), _photo(400, 300))


@pytest.mark.parametrize("row_filter", png.ROW_FILTERS)
def test_it_refuses_modes_it_cannot_write(row_filter):
    with pytest.raises(ValueError, match="not CMYK"):
        _written(Image.new("CMYK", (10, 10)), row_filter=row_filter)


@pytest.mark.parametrize("row_filter", png.ROW_FILTERS)
def test_it_writes_no_metadata_chunks_whatever_the_image_carries(row_filter):
    image = Image.fromarray(_photo(40, 30), "RGB")
    image.info["icc_profile"] = b"not written"
    image.info["transparency"] = (0, 0, 0)
    data = _written(image, row_filter=row_filter)
    kinds, at = [], len(png.SIGNATURE)
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        kinds.append(kind)
        at += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert set(kinds[1:-1]) == {b"IDAT"}


def test_it_encodes_the_working_copy_with_the_fixed_up_filter_losslessly():
    arr = _photo(640, 480, seed=7)
    out = io.BytesIO()
    images.encode_working(Image.fromarray(arr, "RGB"), out)
    data = out.getvalue()
    rows = np.frombuffer(zlib.decompress(_idat(data)), np.uint8).reshape(480, 1 + 640 * 3)
    assert set(rows[:, 0].tolist()) == {png.FILTERS[images.WORKING_PNG_FILTER]}
    again = Image.open(io.BytesIO(data))
    assert again.format == "PNG"
    working = np.asarray(again.convert("RGB"))
    assert np.array_equal(working, arr)
    assert float(delta_e_2000(srgb_to_lab(working), srgb_to_lab(arr)).max()) < 2


def test_it_measures_working_copy_encodings_and_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert working_bench.main(["--quick", "--side", "192", "--repeat", "1",
                               "--json", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "working copy (encode_working) *" in printed
    report = json.loads(path.read_text())
    rows = {row["candidate"]: row for row in report["sets"][0]["rows"]}
    chosen = rows["working copy (encode_working)"]
    assert chosen["chosen"] and chosen["identical_pixels"] and chosen["browser"]
    assert all(row["identical_pixels"] for row in rows.values())
    assert rows["TIFF uncompressed"]["browser"] is False
    assert rows["WebP lossless method 0 q0"]["max_side"] == 16383
    # Level 0 stores the rows: three bytes a pixel plus a filter byte a row, about 3 MB/MP.
    assert rows["Pillow PNG level 0"]["mb_per_mp"] == pytest.approx(3.0, abs=0.05)
    assert chosen["mb_per_mp"] < rows["Pillow PNG level 0"]["mb_per_mp"]

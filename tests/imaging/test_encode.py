"""The PNG encoding of cutouts, masks and layers, written by the one PNG writer
(catalog.ingest.png): lossless, per-row filters, spooled and in-memory results the same bytes."""

import io
import os
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from catalog.ingest import png
from cutouts.imaging import encode
from cutouts.imaging.encode import png_bytes, png_image_bytes, png_spooled


def _cutout(side: int = 160) -> np.ndarray:
    """A product on transparency: a textured disc with a soft edge, colour only where opaque."""
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    dist = np.hypot(x - side * 0.5, y - side * 0.45) / (side * 0.3)
    alpha = np.clip((1.15 - dist) / 0.3, 0, 1)
    rng = np.random.default_rng(5)
    rgb = np.stack([120 + 40 * np.sin(x / 3), 80 + 30 * np.sin(y / 4), 60 + 0 * x], axis=-1)
    rgb = rgb + rng.normal(0, 6, size=rgb.shape)
    rgba = np.dstack([np.clip(rgb, 0, 255) * alpha[..., None], 255 * alpha])
    return np.clip(rgba + 0.5, 0, 255).astype(np.uint8)


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    found, at = [], len(png.SIGNATURE)
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        found.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return found


def test_it_spools_the_same_png_it_returns_as_bytes():
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
    alpha = np.ascontiguousarray(rgba[..., 3])
    for array in (rgba, alpha, rgba[..., 3]):  # a strided view encodes like its copy
        with png_spooled(array) as fh:
            spooled = fh.read()
        assert spooled == png_bytes(array)
        assert spooled.startswith(b"\x89PNG\r\n\x1a\n")


def test_it_spools_a_large_png_to_a_temporary_file(monkeypatch):
    monkeypatch.setattr(encode, "SPOOL_MAX_BYTES", 1024)
    rgba = _cutout()
    with png_spooled(rgba) as fh:
        # past SPOOL_MAX_BYTES libpng writes to disk: the PNG is never held in memory
        assert os.path.getsize(fh.name) > 0
        assert fh.read() == png_bytes(rgba)
        fh.seek(0)
        assert np.array_equal(np.asarray(Image.open(fh)), rgba)
    assert not os.path.exists(fh.name)  # closed, deleted


def test_it_encodes_a_pillow_image_like_its_array():
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[2:6, 2:6] = (200, 10, 10, 255)
    assert png_image_bytes(Image.fromarray(rgba)) == png_bytes(rgba)


@pytest.mark.parametrize("mode", ["RGBA", "L", "RGB"])
def test_it_gives_back_every_pixel_through_pillow_and_libpng(mode):
    rgba = _cutout()
    array = {"RGBA": rgba, "L": np.ascontiguousarray(rgba[..., 3]), "RGB": rgba[..., :3]}[mode]
    for level in (1, 3):
        data = png_bytes(array, compress_level=level)
        again = Image.open(io.BytesIO(data))
        assert again.mode == mode and np.array_equal(np.asarray(again), array)
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if mode != "L":
            decoded = cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGBA if mode == "RGBA"
                                   else cv2.COLOR_BGR2RGB)
        assert np.array_equal(decoded, array)


def test_it_writes_every_row_with_the_paeth_filter_leaving_the_array_as_it_was():
    # Measured (docs/jobs.md): Paeth in libpng writes files within 1-2% of Pillow's per-row
    # choice for a third less CPU; no other fixed filter comes close in size.
    data = png_bytes(_cutout())
    idat = b"".join(body for kind, body in _chunks(data) if kind == b"IDAT")
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(160, 1 + 160 * 4)
    assert set(rows[:, 0].tolist()) == {4}
    assert [kind for kind, _ in _chunks(data)][0] == b"IHDR"
    assert {kind for kind, _ in _chunks(data)} == {b"IHDR", b"IDAT", b"IEND"}  # no metadata
    # libpng takes BGR: the caller's arrays are swapped for it in place, and back
    rgba = _cutout()
    before = rgba.copy()
    rgb = np.ascontiguousarray(rgba[..., :3])
    with png_spooled(rgba) as fh:
        assert np.array_equal(np.asarray(Image.open(fh)), before)
    assert np.array_equal(rgba, before)  # swapped to BGR for libpng, and back
    png_bytes(rgb)
    assert np.array_equal(rgb, before[..., :3])
    frozen = before.copy()
    frozen.flags.writeable = False  # e.g. np.asarray of a Pillow image: encoded from a copy
    assert png_bytes(frozen) == png_bytes(before)


def test_it_refuses_arrays_that_are_not_l_rgb_or_rgba():
    with pytest.raises(ValueError, match="not LA"):
        png_bytes(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        png_bytes(np.zeros((4, 4), np.uint16))


def _pillow_rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def _png(image: Image.Image, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **params)
    return buf.getvalue()


def test_it_decodes_an_rgb_working_copy_with_opencv_to_pillow_s_pixels(tmp_path):
    rgb = np.random.default_rng(2).integers(0, 256, (61, 47, 3), dtype=np.uint8)
    buf = io.BytesIO()
    png.png_write(Image.fromarray(rgb), buf)  # the working copy's own writer
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90": a working copy is upright already, nothing may turn it
    for data in (buf.getvalue(), _png(Image.fromarray(rgb), exif=exif)):
        assert encode._png_rgb8(data) is not None  # the OpenCV path
        np.testing.assert_array_equal(encode.decode_working_copy(io.BytesIO(data)), rgb)
    path = tmp_path / "wc.png"
    path.write_bytes(buf.getvalue())
    np.testing.assert_array_equal(encode.decode_working_copy(path), rgb)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_it_decodes_other_pngs_through_pillow(mode):
    rgb = np.random.default_rng(4).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    image = Image.fromarray(rgb)
    image = (Image.fromarray(rgb[..., 0].astype(np.uint16) * 257) if mode == "I;16"
             else image.convert(mode))
    data = _png(image)
    assert encode._png_rgb8(data) is None
    np.testing.assert_array_equal(encode.decode_working_copy(io.BytesIO(data)),
                                  _pillow_rgb(data))


def test_it_raises_pillow_s_error_for_a_truncated_working_copy():
    data = _png(Image.fromarray(np.random.default_rng(1).integers(
        0, 256, (64, 64, 3), dtype=np.uint8)))
    with pytest.raises(OSError):
        encode.decode_working_copy(io.BytesIO(data[: len(data) // 2]))

"""catalog.ingest.images: probing without decoding, validation, normalisation."""

import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from catalog.ingest import images
from tests.catalog.imagegen import (
    gradient_array,
    image_bytes,
    jpeg_bytes,
    jpeg_with_orientation,
    png16_rgb,
    png_declaring,
)

LIMITS = images.Limits(max_pixels=80_000_000, min_long_side=500, warn_long_side=1000)


def process(data: bytes, limits=LIMITS):
    img, probe = images.open_image(io.BytesIO(data), limits=limits)
    images.decode(img)
    return probe, images.normalize(img, probe)


def refusal(data: bytes, limits=LIMITS) -> images.ImageRejected:
    with pytest.raises(images.ImageRejected) as info:
        process(data, limits)
    return info.value


def test_it_refuses_a_decompression_bomb_from_the_header_without_decoding(monkeypatch):
    def no_decode(self):
        raise AssertionError("decoded a bomb")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decode)
    rejected = refusal(png_declaring(10_000, 9_000))
    assert rejected.code == "bomb"
    assert "90,000,000 pixels is over the limit of 80,000,000" in rejected.reason


def test_it_refuses_headers_beyond_pillows_own_bomb_limit_as_bombs():
    assert refusal(png_declaring(60_000, 60_000)).code == "bomb"


def test_it_follows_the_configured_pixel_limit():
    small_limit = images.Limits(max_pixels=1_000_000, min_long_side=500, warn_long_side=1000)
    assert refusal(jpeg_bytes(size=(1200, 900)), small_limit).code == "bomb"


def test_it_detects_a_truncated_jpeg():
    data = jpeg_bytes(size=(1200, 900))
    rejected = refusal(data[: len(data) * 2 // 3])
    assert rejected.code == "truncated"
    assert "ends early" in rejected.reason


def test_it_leaves_truncated_image_loading_off():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize(
    ("data", "code", "text"),
    [
        (b"", "empty", "Not an image, or a corrupt one: the file is empty"),
        (b"%PDF-1.7 not a photo", "unsupported", "PDF"),
        (b"hello, world\n" * 50, "not_image", "Not an image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 300, "corrupt", "corrupt one: a JPEG file"),
    ],
)
def test_it_explains_non_images_and_corrupt_files(data, code, text):
    rejected = refusal(data)
    assert rejected.code == code
    assert text in rejected.reason


@pytest.mark.parametrize("fmt", ["GIF", "BMP"])
def test_it_names_unsupported_formats(fmt):
    rejected = refusal(image_bytes(fmt, size=(800, 600)))
    assert rejected.code == "unsupported"
    assert fmt in rejected.reason and "JPEG, PNG, WebP, TIFF, HEIC" in rejected.reason


def test_it_refuses_images_under_the_minimum_and_warns_under_the_recommended_size():
    rejected = refusal(jpeg_bytes(size=(499, 300)))
    assert rejected.code == "too_small"
    assert "499×300" in rejected.reason and "at least 500 px" in rejected.reason
    probe, _ = process(jpeg_bytes(size=(999, 400)))
    assert any("Low resolution" in w for w in probe.warnings)
    probe, _ = process(jpeg_bytes(size=(1000, 400)))
    assert probe.warnings == []


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "HEIF"])
def test_it_reads_every_supported_format_into_8bit_srgb(fmt):
    kwargs = {"lossless": True} if fmt == "WEBP" else {}
    probe, normalized = process(image_bytes(fmt, size=(640, 480), **kwargs))
    assert probe.format == fmt
    assert (normalized.image.mode, normalized.image.size) == ("RGB", (640, 480))
    assert normalized.colour_flagged is False


def test_it_transposes_exif_orientation():
    probe, normalized = process(jpeg_with_orientation(size=(1200, 800), orientation=6))
    assert probe.exif_orientation == 6
    assert (probe.width, probe.height) == (1200, 800)
    assert normalized.image.size == (800, 1200)


def test_it_scales_16bit_rgb_instead_of_clipping():
    arr = (gradient_array(600, 400).astype(np.uint16) * 257)
    probe, normalized = process(png16_rgb(arr))
    assert probe.bits == 16
    got = np.asarray(normalized.image).astype(int)
    assert np.abs(got - arr // 257).max() <= 1


def test_it_scales_16bit_greyscale_instead_of_clipping():
    ramp = np.tile(np.linspace(0, 65535, 700).astype(np.uint16), (500, 1))
    out = io.BytesIO()
    Image.fromarray(ramp).save(out, "PNG")
    probe, normalized = process(out.getvalue())
    assert probe.mode.startswith("I;16")
    got = np.asarray(normalized.image)[0, :, 0].astype(int)
    assert got[0] == 0 and got[-1] == 255 and got[350] == pytest.approx(127, abs=2)


def test_it_flattens_transparency_onto_white():
    rgba = Image.new("RGBA", (600, 500), (255, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 300, 500))
    out = io.BytesIO()
    rgba.save(out, "PNG")
    _, normalized = process(out.getvalue())
    assert normalized.image.getpixel((500, 10)) == (255, 255, 255)
    assert normalized.image.getpixel((10, 10)) == (0, 0, 255)
    assert "flattened onto white" in normalized.colour_note
    assert normalized.warnings == [images.TRANSPARENCY_WARNING]


def test_it_gives_an_opaque_rgba_image_no_transparency_warning():
    out = io.BytesIO()
    Image.new("RGBA", (600, 500), (9, 9, 9, 255)).save(out, "PNG")
    _, normalized = process(out.getvalue())
    assert normalized.warnings == [] and normalized.colour_note == ""


def test_it_encodes_the_working_copy_as_lossless_png():
    _, normalized = process(jpeg_bytes(size=(640, 480)))
    out = io.BytesIO()
    images.encode_working(normalized.image, out)
    out.seek(0)
    again = Image.open(out)
    assert again.format == "PNG" and again.mode == "RGB"
    assert np.array_equal(np.asarray(again), np.asarray(normalized.image))

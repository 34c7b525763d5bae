"""catalog.ingest.images: probing without decoding, validation, normalisation; damaged JPEGs: one
missing only its end marker is stored with a note, corrupt but decodable scan data with a
warning, a cut inside or between its scans is refused."""

import io
import tempfile
import tracemalloc

import numpy as np
import pytest
from PIL import Image, ImageFile

from catalog.ingest import images
from catalog.services.assets import asset_ingest
from catalog.services.import_runner import import_job_run
from tests.catalog.imagegen import (
    gradient_array,
    image_bytes,
    jpeg_bytes,
    jpeg_with_orientation,
    png16_rgb,
    png_declaring,
)
from tests.catalog.test_services import issues, zip_job
from tests.factories import ProductFactory

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
    assert "(90,000,000 pixels, 90 MP) is over the 80 MP limit" in rejected.reason


def test_it_refuses_headers_beyond_pillows_own_bomb_limit_as_bombs():
    assert refusal(png_declaring(60_000, 60_000)).code == "bomb"


@pytest.mark.parametrize("size", [(12_000, 9_000), (30_000, 30_000)])
def test_it_words_an_image_over_the_pixel_limit_with_its_size_and_the_limit(size):
    # QA30 L1: a 108 MP camera file read "Decompression bomb", and one past Pillow's own
    # bound (30000×30000) did not even give its size
    width, height = size
    rejected = refusal(png_declaring(width, height))
    assert rejected.code == "bomb"
    megapixels = width * height // 1_000_000
    assert rejected.reason.startswith(
        f"Too large: {width}×{height} px ({width * height:,} pixels, {megapixels} MP) is over "
        "the 80 MP limit (80,000,000 pixels); it was refused without decoding. Export it at "
        "most ")
    # the size it advises fits the limit, at the same shape
    fit_w, fit_h = map(int, rejected.reason.rsplit(" ", 2)[-2].split("×"))
    assert fit_w * fit_h <= 80_000_000 and abs(fit_w / fit_h - width / height) < 0.01
    assert "bomb" not in rejected.reason.lower()


def test_it_applies_one_size_rule_to_the_header_and_to_a_size_alone():
    # the upload preview asks size_refusal of the sizes the page read: the same words
    for size, data in (((481, 321), jpeg_bytes(size=(481, 321))),
                       ((12_000, 9_000), png_declaring(12_000, 9_000))):
        rejected = refusal(data)
        assert images.size_refusal(*size, limits=LIMITS) == (rejected.reason, rejected.code)
    assert images.size_refusal(500, 300, limits=LIMITS) is None
    assert images.size_refusal(8_000, 10_000, limits=LIMITS) is None  # exactly 80 MP


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


def _photo(*, progressive: bool = False, seed: int = 3) -> bytes:
    rng = np.random.default_rng(seed)
    rgb = np.full((900, 1200, 3), 225, np.uint8)
    rgb[200:700, 300:900] = rng.integers(0, 256, (500, 600, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=88, progressive=progressive)
    assert out.getvalue().endswith(b"\xff\xd9")
    return out.getvalue()


def _decoded(data: bytes) -> np.ndarray:
    img, _ = images.open_image(io.BytesIO(data), limits=LIMITS)
    return np.asarray(images.decode(img, source=io.BytesIO(data)))


def _refusal(data: bytes) -> images.ImageRejected:
    with pytest.raises(images.ImageRejected) as refused:
        _decoded(data)
    return refused.value


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("missing", [2, 1])
def test_it_decodes_a_jpeg_missing_only_its_end_marker_as_the_whole_file(progressive,
                                                                         missing):
    whole = _photo(progressive=progressive)
    assert np.array_equal(_decoded(whole[:-missing]), _decoded(whole))


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("cut", [3, 40, 5000, "half"])
def test_it_still_refuses_a_jpeg_cut_inside_its_scan_data(progressive, cut):
    whole = _photo(progressive=progressive)
    end = len(whole) // 2 if cut == "half" else len(whole) - cut
    assert _refusal(whole[:end]).code == "truncated"


def test_it_still_refuses_a_progressive_jpeg_cut_between_two_scans():
    whole = _photo(progressive=True)
    last_scan = whole.rfind(b"\xff\xda")
    cut = whole[:last_scan]  # every scan before it is whole: libjpeg alone would not complain
    assert not images._jpeg_scans_complete(cut)
    assert _refusal(cut).code == "truncated"


@pytest.mark.django_db
def test_it_stores_a_jpeg_without_end_marker_with_a_note_not_a_damage_warning(storage):
    product = ProductFactory(sku="QB008")
    result = asset_ingest(product=product, fileobj=io.BytesIO(_photo()[:-2]),
                          filename="QB008_MAIN.jpg", position="MAIN")
    assert result.status == "stored", result.reason
    assert images.EOI_MISSING_WARNING in result.warnings
    assert not [w for w in result.warnings if w.startswith(images.DAMAGED_PREFIX)]


def _corrupt_scan(data: bytes, every: int = 50) -> bytes:
    """``data`` with every ``every``-th byte of its scan data zeroed: libjpeg decodes it,
    with "Corrupt JPEG data" warnings, into a shifted, striped picture."""
    out = bytearray(data)
    sos = out.find(b"\xff\xda")
    start = sos + 2 + int.from_bytes(out[sos + 2:sos + 4], "big")
    for i in range(start, out.rfind(b"\xff\xd9"), every):
        out[i] = 0
    return bytes(out)


@pytest.mark.django_db
def test_it_stores_a_jpeg_with_corrupt_data_with_a_warning(storage):
    product = ProductFactory(sku="CJ1")
    result = asset_ingest(product=product, fileobj=io.BytesIO(_corrupt_scan(jpeg_bytes(seed=3))),
                          filename="CJ1_MAIN.jpg", position="MAIN")
    assert result.status == "stored"
    damaged = [w for w in result.warnings if w.startswith("Image data may be damaged: ")]
    assert len(damaged) == 1 and "Corrupt JPEG data" in damaged[0]


@pytest.mark.django_db
def test_it_puts_the_damage_warning_on_the_files_import_line(storage):
    ProductFactory(sku="CJ2")
    job = import_job_run(job_id=zip_job({
        "CJ2_MAIN.jpg": _corrupt_scan(jpeg_bytes(seed=4)),
        "CJ2_PT01.jpg": jpeg_bytes(seed=5),
    }).pk)
    assert (job.imported_count, job.error_count, job.warning_count) == (2, 0, 1)
    assert issues(job)["CJ2_MAIN.jpg"].startswith("Image data may be damaged: Corrupt JPEG data")


def _noise_jpeg(side: int = 1600) -> bytes:
    """A JPEG of a few MB (noise compresses badly), large beside the 1/8 decode's output."""
    import numpy as np
    from PIL import Image

    rgb = np.random.default_rng(7).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(out, "JPEG", quality=95)
    return out.getvalue()


def _probe() -> images.ProbeResult:
    return images.ProbeResult(format="JPEG", width=1600, height=1600, mode="RGB", bits=8,
                              icc_profile=None, icc_profile_name="", exif_orientation=1)


def _checked_with_peak(fileobj) -> tuple[str, int]:
    """``jpeg_damage``'s answer and the most memory Python allocated while it ran."""
    tracemalloc.start()
    try:
        answer = images.jpeg_damage(fileobj, _probe())
        return answer, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.django_db
def test_it_checks_a_jpeg_on_disk_at_an_eighth_without_a_copy_of_the_file(tmp_path):
    # Reread, session 17: the check read the whole file into a new bytes object (a 50 MB JPEG
    # cost another 50 MB on the ingest path), and ``min_factor=8`` alone decoded at full size.
    clean, damaged = _noise_jpeg(), _corrupt_scan(_noise_jpeg())
    assert len(clean) > 2_500_000
    for data, warned in ((clean, False), (damaged, True)):
        path = tmp_path / "photo.jpg"
        path.write_bytes(data)
        with open(path, "rb") as fileobj:
            fileobj.seek(123)
            answer, peak = _checked_with_peak(fileobj)
            assert fileobj.tell() == 123  # the caller's position is left alone
        assert answer.startswith(images.DAMAGED_PREFIX) is warned
        # a full-size grey decode alone is 1600² = 2.56 MB, the file 3 MB; an eighth is 40 kB
        assert peak < 400_000, (peak, len(data))


@pytest.mark.django_db
def test_it_reads_a_small_spooled_file_without_moving_it_to_disk():
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115 - closed below
    with spool:
        spool.write(_corrupt_scan(jpeg_bytes(seed=3)))
        spool.seek(0)
        assert images.jpeg_damage(spool, _probe()).startswith(images.DAMAGED_PREFIX)
        assert spool.tell() == 0
        assert not spool._rolled  # asking for its descriptor would have written it out


def test_it_tells_text_from_binary_as_the_upload_page_does():
    from catalog.ingest.images import looks_like_text, text_content_reason

    assert looks_like_text(b"sku,title\r\nA-1,\xc3\xa9t\xc3\xa9\tx\n")
    assert looks_like_text("caf\u00e9".encode()[:-1])  # a character cut at the sniff's end
    assert not looks_like_text(b"")
    assert not looks_like_text(b"GIF89a\x01\x00\x01\x00\x00")
    assert not looks_like_text(b"\xff\xfe\x00\x00 binary")
    said = "Not an image, or a corrupt one: the file's content is text, not "
    assert text_content_reason("a/b.TIFF") == f"{said}TIFF."
    assert text_content_reason("noext") == f"{said}an image."

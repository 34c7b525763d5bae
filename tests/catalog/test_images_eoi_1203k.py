"""QA 1203k F1: a JPEG missing only its end-of-image marker (some phone, scanner and download
tools write it so) was refused as truncated although every pixel is there. It is stored, with
a note and the pixels of the complete file; a JPEG cut inside or between its scans is still
refused."""

import io

import numpy as np
import pytest
from PIL import Image

from catalog.ingest import images
from catalog.services.assets import asset_ingest
from tests.factories import ProductFactory

LIMITS = images.Limits(max_pixels=80_000_000, min_long_side=500, warn_long_side=1000)


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

"""Loupe tiles and the benchmarks' seeded working copies are written by the one PNG writer
with the working copy's setting."""

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from catalog.ingest import png
from cutouts import benchmarking
from cutouts.services import tiles
from tests.catalog.test_working_copy import _idat


def _rows(data: bytes, height: int, stride: int) -> np.ndarray:
    """The unfiltered IDAT stream of a PNG as (height, 1 + stride): filter byte, then bytes."""
    return np.frombuffer(zlib.decompress(_idat(data)), np.uint8).reshape(height, 1 + stride)


@pytest.fixture
def served(monkeypatch):
    """Serve tiles of an in-memory image instead of a stored file."""
    def serve(image: Image.Image) -> None:
        monkeypatch.setattr(tiles, "_source", lambda cutout, kind: "in-memory")
        monkeypatch.setattr(tiles, "_index_for", lambda name: None)  # not a stored PNG to band
        monkeypatch.setattr(tiles, "_decoded", lambda name: image)
    return serve


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_it_writes_tiles_losslessly_with_the_working_copys_row_filter(served, mode):
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 256, (300, 700, len(mode)), dtype=np.uint8)
    served(Image.fromarray(arr, mode))
    tile = tiles.cutout_image_tile(cutout=None, kind="original", x=40, y=10, w=600, h=200)
    assert tile.box == (40, 10, tiles.TILE_MAX, 200)
    rows = _rows(tile.png, 200, tiles.TILE_MAX * len(mode))
    assert set(rows[:, 0].tolist()) == {png.FILTERS[png.WORKING_PNG_FILTER]}
    again = Image.open(io.BytesIO(tile.png))
    assert again.mode == mode
    assert np.array_equal(np.asarray(again), arr[10:210, 40:40 + tiles.TILE_MAX])


def test_it_writes_a_palette_image_with_transparency_as_rgba(served):
    arr = np.zeros((20, 30), np.uint8)
    arr[5:15, 10:20] = 1
    source = Image.fromarray(arr, "P")
    source.putpalette([255, 255, 255, 200, 30, 40] + [0] * 762)
    source.info["transparency"] = 0
    served(source)
    tile = tiles.cutout_image_tile(cutout=None, kind="cutout", x=0, y=0, w=30, h=20)
    again = Image.open(io.BytesIO(tile.png))
    assert again.mode == "RGBA"
    assert again.tobytes() == source.convert("RGBA").tobytes()
    assert again.getpixel((0, 0))[3] == 0 and again.getpixel((12, 8)) == (200, 30, 40, 255)


@pytest.mark.django_db
def test_it_seeds_benchmark_working_copies_as_ingest_encodes_them():
    from django.core.files.storage import storages

    from catalog.models import ImageAsset

    assert benchmarking.seed_assets(2, (96, 64), "pngw") == 2
    for i, asset in enumerate(ImageAsset.objects.order_by("product__sku")):
        with storages["default"].open(asset.working_name, "rb") as fh:
            data = fh.read()
        rows = _rows(data, 64, 96 * 3)
        assert set(rows[:, 0].tolist()) == {png.FILTERS[png.WORKING_PNG_FILTER]}
        expected = io.BytesIO()
        png.encode_working(benchmarking.product_photo(96, 64, seed=i), expected)
        assert data == expected.getvalue() and asset.bytes == len(data)

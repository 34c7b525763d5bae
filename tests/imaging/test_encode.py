"""The one PNG encoder: spooled and in-memory results are the same bytes."""

import numpy as np

from cutouts.imaging.encode import png_bytes, png_image_bytes, png_spooled


def test_it_spools_the_same_png_it_returns_as_bytes():
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
    alpha = np.ascontiguousarray(rgba[..., 3])
    for array in (rgba, alpha, rgba[..., 3]):  # a strided view encodes like its copy
        with png_spooled(array) as fh:
            spooled = fh.read()
        assert spooled == png_bytes(array)
        assert spooled.startswith(b"\x89PNG\r\n\x1a\n")


def test_it_encodes_a_pillow_image_like_its_array():
    from PIL import Image

    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[2:6, 2:6] = (200, 10, 10, 255)
    assert png_image_bytes(Image.fromarray(rgba)) == png_bytes(rgba)

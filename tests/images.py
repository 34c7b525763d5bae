"""Synthetic product photos, built in memory."""

import io

from PIL import Image

from cutouts.benchmarking import product_photo

__all__ = ["jpeg", "product_jpeg", "product_photo"]


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def product_jpeg(width: int = 800, height: int = 600, seed: int = 0) -> bytes:
    return jpeg(product_photo(width, height, seed))

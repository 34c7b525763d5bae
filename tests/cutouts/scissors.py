"""A photo of scissors, roughly, with or without a grey cloud kept between the blades: the
faint see-through mark a white-background preset refuses (QA 2026-12-04's bike), for the
tests of the *Faint marks* pre-flag, its backfill and the export pre-check."""

import io

import cv2
import numpy as np

from tests.cutouts.conftest import FakeSegmenter
from tests.images import product_photo

#: where the cloud lies in the 640 x 480 photo (the model's 320 px square, stretched)
CLOUD = (320, 168)


def blades(size: tuple[int, int]) -> np.ndarray:
    """Scissors, roughly: two solid blades in a V (the product's box holds background)."""
    w, h = size
    a = np.zeros((h, w), np.uint8)
    cv2.line(a, (w * 3 // 16, h * 5 // 6), (w * 13 // 16, h // 6), 255, max(3, w // 28))
    cv2.line(a, (w * 3 // 16, h // 6), (w * 13 // 16, h * 5 // 6), 255, max(3, w // 28))
    return a


def scissors_jpeg(width: int, height: int, seed: int) -> bytes:
    """The photo under the fake model: the same pixels every run (the product photo of seed
    0), with ``seed`` in a JPEG comment only, so storage names (content-addressed) still
    differ between tests and runs. The cloud lies over the photo's own colours, and a remove
    click takes what is coloured like the spot it lands on: with per-run pixels the tests
    read the photo's luck (the pre-flag test failed on about 2 % of the seeds, where the
    cloud spans two of the product's colours or the soft profile kept a larger mark)."""
    out = io.BytesIO()
    product_photo(width, height, 0).save(out, "JPEG", quality=90,
                                         comment=f"scissors {seed}".encode())
    return out.getvalue()


def with_cloud(a: np.ndarray, level: int = 100) -> np.ndarray:
    """A grey cloud of the photo's background kept between the blades, joined to them."""
    h, w = a.shape
    cloud = np.zeros_like(a)
    cv2.circle(cloud, (w // 2, h * 7 // 20), w // 9, level, -1)
    return np.maximum(a, cv2.GaussianBlur(cloud, (0, 0), 3))


class CloudySegmenter(FakeSegmenter):
    """The fake model: 'object' on the blades and, with ``cloud``, 'maybe' (.4) on a cloud."""

    def __init__(self, cloud: bool):
        super().__init__()
        self.cloud = cloud

    def predict(self, rgb):
        self.calls += 1
        a = blades((self.size, self.size))
        return (with_cloud(a) if self.cloud else a).astype(np.float32) / 255.0

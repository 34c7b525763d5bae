"""The ``plain`` baseline: what rembg's ``remove(img, only_mask=True)`` returns.

Reimplemented from the documented behaviour (no rembg code is imported):
LANCZOS resize to the model size, divide by the image max, ImageNet
normalisation (done by the segmenter for u2netp's spec), output min-max scaled,
converted to uint8 and LANCZOS-resized back to the original size.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .session import Segmenter


def plain_mask(rgb: np.ndarray, segmenter: Segmenter) -> np.ndarray:
    """rgb (H, W, 3) uint8 -> uint8 (H, W) mask exactly as rembg's plain path."""
    h, w = rgb.shape[:2]
    s = segmenter.input_size
    small = np.asarray(Image.fromarray(rgb).resize((s, s), Image.Resampling.LANCZOS))
    pred = segmenter.predict(small).astype(np.float32)
    lo, hi = float(pred.min()), float(pred.max())
    pred = (pred - lo) / (hi - lo) if hi > lo else np.zeros_like(pred)
    mask = Image.fromarray((pred * 255).astype(np.uint8))
    return np.asarray(mask.resize((w, h), Image.Resampling.LANCZOS))

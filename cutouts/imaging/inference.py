"""Model inference: full frame, optional flip TTA, and a second pass on a crop."""

from __future__ import annotations

import numpy as np
from PIL import Image

from .clock import NO_CLOCK, StageClock
from .session import Segmenter


def resize_to(rgb: np.ndarray, size: int) -> np.ndarray:
    """Squash to size x size with PIL's antialiased LANCZOS (what the models were
    evaluated with; measurably better than cv2 INTER_AREA for u2netp)."""
    img = Image.fromarray(rgb)
    return np.asarray(img.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0))


def predict_square(rgb: np.ndarray, segmenter: Segmenter, tta_flip: bool = False,
                   clock: StageClock = NO_CLOCK) -> np.ndarray:
    """Model mask (S, S) float32 for an image of any size (squashed to S x S)."""
    small = resize_to(rgb, segmenter.input_size)
    clock.lap("resize")
    pred = segmenter.predict(small).astype(np.float32)
    if tta_flip:
        flipped = segmenter.predict(np.ascontiguousarray(small[:, ::-1])).astype(np.float32)
        pred = 0.5 * (pred + flipped[:, ::-1])
    clock.lap("inference")
    return pred


def predict_square_mirrored(rgb: np.ndarray, segmenter: Segmenter,
                            clock: StageClock = NO_CLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Model masks (S, S) float32 of the image and of its mirror image (mirrored back), from
    one squash: Pillow's LANCZOS weights are mirror-symmetric and summed in integers, so the
    squashed mirror image is the mirrored squash, pixel for pixel (a test checks it; the dev
    photos at four sizes and 300 random sizes gave no difference), at one resize, not two."""
    small = resize_to(rgb, segmenter.input_size)
    clock.lap("resize")
    pred = segmenter.predict(small).astype(np.float32)
    mirrored = segmenter.predict(np.ascontiguousarray(small[:, ::-1])).astype(np.float32)
    clock.lap("inference")
    return pred, mirrored[:, ::-1]


def object_box(pred: np.ndarray, shape: tuple[int, int], threshold: float = 0.5,
               margin: float = 0.15, min_margin_px: int = 8) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1) in image pixels of pred >= threshold, plus a margin."""
    ys, xs = np.nonzero(pred >= threshold)
    if len(xs) == 0:
        return None
    h, w = shape
    sy, sx = h / pred.shape[0], w / pred.shape[1]
    x0, x1 = xs.min() * sx, (xs.max() + 1) * sx
    y0, y1 = ys.min() * sy, (ys.max() + 1) * sy
    mx = max(margin * (x1 - x0), min_margin_px)
    my = max(margin * (y1 - y0), min_margin_px)
    return (max(0, int(x0 - mx)), max(0, int(y0 - my)),
            min(w, int(np.ceil(x1 + mx))), min(h, int(np.ceil(y1 + my))))

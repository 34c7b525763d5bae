"""Synthetic cutouts built in memory (no files, no database)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

#: colour hidden under fully transparent pixels: any leak of it shows up as a green fringe
HIDDEN = (0, 255, 0)
PRODUCT = (200, 30, 30)


def cutout(
    size: tuple[int, int] = (400, 300),
    box: tuple[int, int, int, int] = (100, 60, 300, 240),
    color: tuple[int, int, int] = PRODUCT,
    shape: str = "ellipse",
    hidden: tuple[int, int, int] = HIDDEN,
    speckles: int = 0,
) -> Image.Image:
    """An RGBA cutout: ``shape`` (antialiased ellipse or hard rect) on a transparent background.

    The RGB under alpha 0 is ``hidden`` (a loud colour) to catch un-premultiplied resampling.
    ``speckles`` faint (alpha 4) pixels are sprinkled in the corners, like model noise.
    """
    w, h = size
    rgb = Image.new("RGB", size, hidden)
    rgb.paste(color, box)
    scale = 4 if shape == "ellipse" else 1
    mask = Image.new("L", (w * scale, h * scale), 0)
    big = tuple(v * scale for v in box)
    draw = ImageDraw.Draw(mask)
    if shape == "ellipse":
        draw.ellipse(big, fill=255)
    else:
        draw.rectangle((big[0], big[1], big[2] - 1, big[3] - 1), fill=255)
    alpha = mask.resize(size, Image.Resampling.BOX) if scale > 1 else mask
    im = rgb.convert("RGBA")
    im.putalpha(alpha)
    if speckles:
        a = np.array(im)
        for i in range(speckles):
            a[2 + i, 2 + i] = (*color, 4)
        im = Image.fromarray(a)
    return im


def shadow_below(size: tuple[int, int], box: tuple[int, int, int, int],
                 depth: int = 40, opacity: int = 120) -> Image.Image:
    """A shadow layer ('L') extending ``depth`` px below and 20 % wider than ``box``."""
    w = box[2] - box[0]
    layer = Image.new("L", size, 0)
    ImageDraw.Draw(layer).rectangle(
        (box[0] - w // 5, box[3] - 5, box[2] + w // 5, min(size[1] - 1, box[3] + depth)),
        fill=opacity,
    )
    return layer


def decode(data: bytes) -> tuple[Image.Image, np.ndarray]:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im, np.asarray(im)


def border(arr: np.ndarray, k: int = 1) -> np.ndarray:
    """Outer ``k``-pixel frame as an (N, C) array."""
    c = arr.shape[2]
    return np.concatenate([
        arr[:k].reshape(-1, c), arr[-k:].reshape(-1, c),
        arr[k:-k, :k].reshape(-1, c), arr[k:-k, -k:].reshape(-1, c),
    ])


def encode(arr: np.ndarray, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **kw)
    return buf.getvalue()


def noise_image(size: tuple[int, int] = (600, 600), seed: int = 1) -> Image.Image:
    """An opaque RGBA square of random noise (compresses badly: for maxbytes tests)."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (size[1], size[0], 4), dtype=np.uint8)
    arr[..., 3] = 255
    return Image.fromarray(arr)

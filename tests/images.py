"""Synthetic product photos, built in memory."""

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def product_photo(width: int = 800, height: int = 600, seed: int = 0) -> Image.Image:
    """A coloured product (rounded box + ellipse) on a light studio sweep with a soft shadow."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height)[:, None, None]
    sweep = (242 - 18 * y + rng.normal(0, 1.5, (height, width, 1))).clip(0, 255)
    image = Image.fromarray(np.repeat(sweep, 3, axis=2).astype(np.uint8), "RGB")
    colour = tuple(int(c) for c in rng.integers(20, 200, 3))
    cx, cy = width // 2 + int(rng.integers(-width // 10, width // 10)), height // 2
    w, h = width // 4 + int(rng.integers(0, width // 8)), height // 3
    shadow = Image.new("L", (width, height), 0)
    ImageDraw.Draw(shadow).ellipse((cx - w, cy + h - h // 6, cx + w, cy + h + h // 6), fill=110)
    shadow = shadow.filter(ImageFilter.GaussianBlur(max(2, width // 80)))
    image.paste((90, 90, 90), mask=shadow)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((cx - w, cy - h, cx + w, cy + h), radius=w // 4, fill=colour)
    draw.ellipse((cx - w // 2, cy - h // 2, cx + w // 2, cy + h // 4),
                 fill=tuple(255 - c for c in colour))
    return image


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def product_jpeg(width: int = 800, height: int = 600, seed: int = 0) -> bytes:
    return jpeg(product_photo(width, height, seed))

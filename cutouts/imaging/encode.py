"""Image decoding (EXIF transpose, sRGB) and PNG encoding."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps

Image.MAX_IMAGE_PIXELS = 200_000_000  # product photos can be large; still bounded


def decode_image(src: str | Path | bytes) -> np.ndarray:
    """Open a photo, apply its EXIF orientation, convert to sRGB, return RGB uint8."""
    img = Image.open(io.BytesIO(src) if isinstance(src, bytes) else src)
    img = ImageOps.exif_transpose(img)
    icc = img.info.get("icc_profile")
    if icc:
        try:
            src_prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst_prof = ImageCms.createProfile("sRGB")
            mode = "RGBA" if img.mode in ("RGBA", "LA", "PA") else "RGB"
            img = ImageCms.profileToProfile(img.convert(mode), src_prof, dst_prof,
                                            outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
    return np.asarray(img.convert("RGB"))


def png_bytes(array: np.ndarray, compress_level: int = 3) -> bytes:
    """RGBA (H, W, 4) or L (H, W) uint8 array -> PNG bytes."""
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError("png_bytes expects a uint8 (H, W) or (H, W, 3|4) array")
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def rgba_png(result) -> bytes:
    return png_bytes(result.rgba)


def mask_png(result) -> bytes:
    return png_bytes(result.alpha)


def shadow_png(result) -> bytes | None:
    """The shadow layer as an RGBA PNG (black, opacity = layer) or None."""
    if result.shadow is None:
        return None
    h, w = result.shadow.shape
    layer = np.zeros((h, w, 4), np.uint8)
    layer[..., 3] = result.shadow
    return png_bytes(layer)


def composite(result, background=(255, 255, 255), with_shadow: bool = True) -> np.ndarray:
    """Flatten the cutout (and its shadow layer) over a solid colour -> RGB uint8."""
    h, w = result.alpha.shape
    out = np.empty((h, w, 3), np.float32)
    out[:] = np.asarray(background, np.float32)
    if with_shadow and result.shadow is not None:
        s = result.shadow.astype(np.float32)[..., None] / 255.0
        out *= 1.0 - s
    a = result.alpha.astype(np.float32)[..., None] / 255.0
    out = out * (1.0 - a) + result.rgba[..., :3].astype(np.float32) * a
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)

"""Image decoding (EXIF transpose, sRGB) and PNG encoding."""

from __future__ import annotations

import io
import struct
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageCms, ImageOps

from catalog.ingest import png

if TYPE_CHECKING:
    from .pipeline import CutoutResult

Image.MAX_IMAGE_PIXELS = 200_000_000  # product photos can be large; still bounded


def decode_image(src: str | Path | bytes) -> np.ndarray:
    """Open a photo, apply its EXIF orientation, convert to sRGB, return RGB uint8."""
    img: Image.Image = Image.open(io.BytesIO(src) if isinstance(src, bytes) else src)
    img = ImageOps.exif_transpose(img)
    icc = img.info.get("icc_profile")
    if icc:
        try:
            src_prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst_prof = ImageCms.createProfile("sRGB")
            mode = "RGBA" if img.mode in ("RGBA", "LA", "PA") else "RGB"
            # Not in place, so Pillow returns the new image (the stub also allows None).
            img = cast(Image.Image, ImageCms.profileToProfile(img.convert(mode), src_prof,
                                                              dst_prof, outputMode=mode))
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
    return np.asarray(img.convert("RGB"))


def decode_working_copy(fh: IO[bytes] | str | Path) -> np.ndarray:
    """A stored working copy (already upright sRGB) as RGB uint8.

    The working copy's own format, an 8-bit RGB PNG, is decoded by OpenCV (libpng straight
    into the array: half the CPU of Pillow's decoder and copy, the same pixels); anything
    else, or anything OpenCV refuses, goes through Pillow, whose errors callers handle."""
    if isinstance(fh, str | Path):
        with open(fh, "rb") as opened:
            return decode_working_copy(opened)
    # only a file OpenCV will take is read whole; anything else streams through Pillow
    start = fh.tell()
    head = fh.read(_IHDR_END)
    fh.seek(start)
    if _is_png_rgb8(head):
        rgb = _png_rgb8(fh.read())
        if rgb is not None:
            return rgb
        fh.seek(start)
    with Image.open(fh) as image:
        image.load()
        # an RGB image is not converted to itself first (a frame's worth of copying)
        return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


_IHDR_END = 29  # signature, IHDR length and type, width, height, depth, colour type, ...


def _is_png_rgb8(head: bytes) -> bool:
    """The file starts as an 8-bit RGB PNG (colour type 2, per its IHDR) within Pillow's pixel
    limit (so a decompression bomb still meets Pillow's check)."""
    if len(head) < _IHDR_END or head[:8] != png.SIGNATURE or head[12:16] != b"IHDR":
        return False
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    limit = Image.MAX_IMAGE_PIXELS
    return depth == 8 and colour == 2 and (limit is None or width * height <= limit)


def _png_rgb8(data: bytes) -> np.ndarray | None:
    """An 8-bit RGB PNG decoded by OpenCV without its EXIF rotation (Pillow applies none here
    either); None if it is not one or OpenCV refuses it."""
    if not _is_png_rgb8(data[:_IHDR_END]):
        return None
    width, height = struct.unpack(">II", data[16:24])
    rgb = cv2.imdecode(np.frombuffer(data, np.uint8),
                       cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION)
    if rgb is None or rgb.shape != (height, width, 3) or rgb.dtype != np.uint8:
        return None
    return rgb


#: encodes above this size spill from memory to a temporary file (a 50 MP cutout)
SPOOL_MAX_BYTES = 32 * 1024 * 1024


def png_write(image: Image.Image, out: IO[bytes], compress_level: int = 3) -> None:
    """The PNG encoding of every cutout, mask, preview and layer (``png.encode_paeth``: RLE
    makes ``compress_level`` moot, it stays for callers). A Pillow image is copied to an array
    first: previews and layers, small; full-size cutouts come as arrays (``png_spooled``)."""
    del compress_level
    data = png.encode_paeth(np.asarray(image))
    assert data is not None
    out.write(data.data)


#: resampling a screen preview from a big image: a box reduce first, then Lanczos over at least
#: the last factor of 2 (Pillow's ``thumbnail`` default). A 24 MP cutout to 1024 px: 0.20 s of
#: CPU instead of 0.46 s, at most 3 levels (mean 0.05) from a full Lanczos pass
PREVIEW_REDUCING_GAP = 2.0


def downsized(image: Image.Image, long_side: int) -> Image.Image:
    """``image`` with its long side at most ``long_side``: the one screen-size rendering of
    cutouts, masks and layers. RGBA is resampled premultiplied, so the colour under
    transparent pixels never bleeds into the edge as a fringe."""
    if max(image.size) <= long_side:
        return image
    scale = long_side / max(image.size)
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if image.mode == "RGBA":
        premultiplied = image.convert("RGBa").resize(
            target, Image.Resampling.LANCZOS, reducing_gap=PREVIEW_REDUCING_GAP)
        return premultiplied.convert("RGBA")
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=PREVIEW_REDUCING_GAP)


def png_image_bytes(image: Image.Image, compress_level: int = 3) -> bytes:
    """A Pillow image -> PNG bytes."""
    buf = io.BytesIO()
    png_write(image, buf, compress_level)
    return buf.getvalue()


def png_bytes(array: np.ndarray, compress_level: int = 3) -> bytes:
    """RGBA (H, W, 4), RGB or L (H, W) uint8 array -> PNG bytes."""
    data = png.encode_paeth(array)
    assert data is not None
    return data.tobytes()


def png_spooled(array: np.ndarray, compress_level: int = 3) -> IO[bytes]:
    """RGBA (H, W, 4) or L (H, W) uint8 array -> PNG in a file object at position 0.

    A small image is encoded in memory; a large one (over ``SPOOL_MAX_BYTES`` of pixels) is
    written by libpng straight into a temporary file, deleted when the caller closes it. On a
    24 MP RGBA an in-memory encode raised peak RSS by 160 MB (libpng's growing buffer, its copy
    to Python, the spool, OpenCV's copy of an in-place swap); this way by 46 MB, as Pillow's
    streamed encode did. Such an array is the caller's own result (a run's cutout, mask or
    layer): its colour channels are swapped in place while libpng writes it, then back.
    """
    del compress_level
    if array.nbytes > SPOOL_MAX_BYTES:
        out = tempfile.NamedTemporaryFile(suffix=".png")  # noqa: SIM115 - caller closes
        try:
            png.encode_paeth(array, out.name, in_place=True)
        except BaseException:
            out.close()
            raise
        out.seek(0)
        return cast(IO[bytes], out)
    data = png.encode_paeth(array)
    assert data is not None
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115 - caller closes
    spool.write(data.data)
    spool.seek(0)
    return cast(IO[bytes], spool)


def rgba_png(result: CutoutResult) -> bytes:
    return png_bytes(result.rgba)


def mask_png(result: CutoutResult) -> bytes:
    return png_bytes(result.alpha)


def shadow_png(result: CutoutResult) -> bytes | None:
    """The shadow layer as an RGBA PNG (black, opacity = layer) or None."""
    if result.shadow is None:
        return None
    h, w = result.shadow.shape
    layer = np.zeros((h, w, 4), np.uint8)
    layer[..., 3] = result.shadow
    return png_bytes(layer)


def composite(result: CutoutResult, background: tuple[int, int, int] = (255, 255, 255),
              with_shadow: bool = True) -> np.ndarray:
    """Flatten the cutout (and its shadow layer) over a solid colour -> RGB uint8."""
    h, w = result.alpha.shape
    out = np.empty((h, w, 3), np.float32)
    out[:] = np.asarray(background, np.float32)
    if with_shadow and result.shadow is not None:
        s = result.shadow.astype(np.float32)[..., None] / 255.0
        out *= 1.0 - s
    a = result.alpha.astype(np.float32)[..., None] / 255.0
    out = out * (1.0 - a) + result.rgba[..., :3].astype(np.float32) * a
    flat: npt.NDArray[np.uint8] = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return flat

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


#: PNG colour types (IHDR) OpenCV decodes straight into our channel layout, after its swap
_PNG_RGB, _PNG_RGBA = 2, 6


def _is_png_rgb8(head: bytes, colour_type: int = _PNG_RGB) -> bool:
    """The file starts as an 8-bit PNG of ``colour_type`` (RGB, or RGBA, per its IHDR) within
    Pillow's pixel limit (so a decompression bomb still meets Pillow's check)."""
    if len(head) < _IHDR_END or head[:8] != png.SIGNATURE or head[12:16] != b"IHDR":
        return False
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    limit = Image.MAX_IMAGE_PIXELS
    return depth == 8 and colour == colour_type and (limit is None or width * height <= limit)


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


_SWAP_ROWS = 256


def decode_cutout(fh: IO[bytes]) -> np.ndarray:
    """A stored cutout (RGBA PNG, any mode Pillow reads) as a writable RGBA uint8 array.

    Our own cutouts, 8-bit RGBA PNGs, are decoded by libpng (OpenCV) straight into the array,
    its BGRA swapped back in strips: the file's bytes and one array. Pillow's decode, its
    ``convert`` (a copy even from RGBA) and ``np.array`` held three 180 MB copies of a 45 MP
    cutout at once, the highest point of a retouch Apply (docs/review.md, memory). The same
    pixels either way (PNG is lossless; neither applies gamma or orientation)."""
    start = fh.tell()
    head = fh.read(_IHDR_END)
    fh.seek(start)
    if _is_png_rgb8(head, _PNG_RGBA):
        data = fh.read()
        width, height = struct.unpack(">II", data[16:24])
        bgra = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        del data
        if bgra is not None and bgra.shape == (height, width, 4) and bgra.dtype == np.uint8:
            for top in range(0, height, _SWAP_ROWS):
                # OpenCV copies the source of an in-place conversion first: strips bound it
                strip = bgra[top : top + _SWAP_ROWS]
                cv2.cvtColor(strip, cv2.COLOR_BGRA2RGBA, dst=strip)
            return bgra
        fh.seek(start)
    with Image.open(fh) as image:
        image.load()
        return np.array(image if image.mode == "RGBA" else image.convert("RGBA"))


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
        return _premultiplied_downsized(image, target).convert("RGBA")
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=PREVIEW_REDUCING_GAP)


#: rows of the full-size image premultiplied at a time for a screen copy
_DOWNSIZE_ROWS = 256


def _premultiplied_downsized(image: Image.Image, target: tuple[int, int]) -> Image.Image:
    """``image.convert("RGBa").resize(target, LANCZOS, reducing_gap=PREVIEW_REDUCING_GAP)``,
    the same bits without the whole premultiplied copy (180 MB at 45 MP, the Apply's last
    peak, docs/review.md): Pillow's resize box-reduces by whole factors first, and a reduce
    block never spans two strips of a multiple of its height, so strips are premultiplied and
    reduced one at a time, then Lanczos runs on the reduced image as Pillow's resize does."""
    width, height = image.size
    fx = int(width / target[0] / PREVIEW_REDUCING_GAP) or 1
    fy = int(height / target[1] / PREVIEW_REDUCING_GAP) or 1
    if fx == 1 and fy == 1:
        return image.convert("RGBa").resize(target, Image.Resampling.LANCZOS,
                                            reducing_gap=PREVIEW_REDUCING_GAP)
    rows = max(1, _DOWNSIZE_ROWS // fy) * fy
    reduced = Image.new("RGBa", (-(-width // fx), -(-height // fy)))
    for top in range(0, height, rows):
        strip = image.crop((0, top, width, min(height, top + rows))).convert("RGBa")
        reduced.paste(strip.reduce((fx, fy)), (0, top // fy))
    return reduced.resize(target, Image.Resampling.LANCZOS,
                          box=(0, 0, width / fx, height / fy))


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


def png_spooled(array: np.ndarray, compress_level: int = 3, *,
                owned: bool = False) -> IO[bytes]:
    """RGBA (H, W, 4) or L (H, W) uint8 array -> PNG in a file object at position 0.

    A small image is encoded in memory; a large one (over ``SPOOL_MAX_BYTES`` of pixels) is
    written by libpng straight into a temporary file, deleted when the caller closes it. On a
    24 MP RGBA an in-memory encode raised peak RSS by 160 MB (libpng's growing buffer, its copy
    to Python, the spool, OpenCV's copy of an in-place swap); this way by 46 MB, as Pillow's
    streamed encode did.

    ``owned=True``: the caller hands over an array of its own (a run's cutout) for the encode;
    its colour channels are swapped in place while libpng writes it, then back, which saves a
    copy of the whole array (180 MB at 45 MP). The claim is checked, not trusted: the array
    must own its memory, C-contiguous and writable (a view, of a cache or another array, is
    refused with ValueError). Without it the swap is a copy."""
    del compress_level
    if owned:
        _require_owned(array)
    if array.nbytes > SPOOL_MAX_BYTES:
        out = tempfile.NamedTemporaryFile(suffix=".png")  # noqa: SIM115 - caller closes
        try:
            png.encode_paeth(array, out.name, in_place=owned)
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


def _require_owned(array: np.ndarray) -> None:
    """``array`` can be lent to an in-place encode: its own writable contiguous memory, so no
    other array (a cached base, a slice's parent) sees its channels swapped."""
    flags = array.flags
    if not (flags.owndata and flags.c_contiguous and flags.writeable):
        raise ValueError("owned=True needs an array that owns its memory (C-contiguous, "
                         "writable), not a view: pass a copy, or owned=False")


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

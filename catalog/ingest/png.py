"""The one module that writes PNG files: the working copy's streaming writer (``png_write``)
and the cutouts' libpng writer (``encode_paeth``).

Which encoding each use takes was measured, not assumed:

- **Working copies** (opaque photos; ``encode_working``): a streaming writer with one
  fixed row filter, "up", at zlib level 1. Pillow's PNG encoder tries the filters on every row
  and keeps the one with the smallest sum; on a 4 MP photo that choice costs as much CPU as
  deflate itself at level 1, while a fixed "up" filter gives files within a few per cent of the
  same size (``python -m catalog.ingest.working_bench``; table in docs/ingest.md). The loupe's
  tiles (``cutouts.services.tiles``), crops sent once and never stored, take the same setting:
  on 512 px tiles of dev photos upscaled to 1.6 MP it costs 0.60x (RGB) and 0.68x (RGBA)
  the CPU of Pillow's level 1 for files 6-8% larger (docs/ingest.md).
- **Cutouts, masks, previews and layers** (``encode_paeth``, called by
  ``cutouts.imaging.encode``): libpng (through OpenCV) with the Paeth filter on every row and
  zlib's run-length strategy. On cutouts, large transparent areas around a soft edge, the
  best numpy fixed filter ("up", RLE) costs 40% less CPU than Pillow's per-row choice but
  writes files 23% (RGBA) and 16% (mask) larger; only Paeth matches the per-row size, and
  libpng's Paeth does it for 31-44% less CPU than Pillow's per-row choice (docs/jobs.md,
  "PNG encode of cutouts"; ``png_write`` keeps ``ADAPTIVE`` for the benchmarks).

All write a plain 8-bit PNG (IHDR, IDAT, IEND; no metadata chunks, the caller has already
made the pixels sRGB and upright) that every decoder reads: Pillow, libpng, browsers.

The fixed-filter writer filters and deflates the rows a strip at a time, so an 80 MP image never
has a second full-size copy in memory.
"""

from __future__ import annotations

import struct
import zlib
from typing import IO

import cv2
import numpy as np
from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
FILTER_NONE, FILTER_SUB, FILTER_UP = 0, 1, 2
FILTERS = {"none": FILTER_NONE, "sub": FILTER_SUB, "up": FILTER_UP}
#: Pillow's encoder, which picks a filter per row (``row_filter=ADAPTIVE``)
ADAPTIVE = "adaptive"
ROW_FILTERS = (ADAPTIVE, *FILTERS)
_COLOUR_TYPES = {"L": 0, "RGB": 2, "RGBA": 6}
# The working copy's setting (chosen by ``python -m catalog.ingest.working_bench``, table in
# docs/ingest.md): ~1.5x less encode CPU than the previous setting (Pillow level 1, RLE) and
# ~1.6x less than Pillow's level 1, within 5% of their size, and 20-30% less CPU for the
# worker to decode. Also ``png_write``'s default.
WORKING_PNG_FILTER = "up"
WORKING_PNG_COMPRESS_LEVEL = 1
STRIP_ROWS = 64
IDAT_BYTES = 256 * 1024


def _chunk(out: IO[bytes], kind: bytes, body: bytes | bytearray) -> None:
    out.write(struct.pack(">I", len(body)))
    out.write(kind)
    out.write(body)
    out.write(struct.pack(">I", zlib.crc32(body, zlib.crc32(kind))))


def _filtered(rows: np.ndarray, above: np.ndarray, kind: int, channels: int) -> np.ndarray:
    """(n, stride) rows → (n, 1 + stride) filter byte + filtered bytes (uint8 wraps mod 256,
    as the PNG filters are defined)."""
    n, stride = rows.shape
    filtered = np.empty((n, stride + 1), np.uint8)
    filtered[:, 0] = kind
    if kind == FILTER_UP:
        np.subtract(rows[:1], above, out=filtered[:1, 1:])
        np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    elif kind == FILTER_SUB:
        filtered[:, 1 : channels + 1] = rows[:, :channels]
        np.subtract(rows[:, channels:], rows[:, :-channels], out=filtered[:, channels + 1 :])
    else:
        filtered[:, 1:] = rows
    return filtered


def png_write(
    image: Image.Image, out: IO[bytes], *, level: int = WORKING_PNG_COMPRESS_LEVEL,
    strategy: int = zlib.Z_DEFAULT_STRATEGY, row_filter: str = WORKING_PNG_FILTER,
) -> None:
    """Write an 8-bit ``L``, ``RGB`` or ``RGBA`` image as PNG, losslessly, with no metadata
    chunks. ``row_filter`` is one of ``ROW_FILTERS``: a fixed filter on every row, or
    ``ADAPTIVE`` for Pillow's choice per row; ``level`` and ``strategy`` are zlib's."""
    if image.mode not in _COLOUR_TYPES:
        raise ValueError(f"png_write takes L, RGB or RGBA images, not {image.mode}")
    if row_filter == ADAPTIVE:
        # None overrides a profile or tRNS colour the image may carry in ``info``.
        image.save(out, format="PNG", compress_level=level, compress_type=strategy,
                   icc_profile=None, transparency=None)
        return
    kind = FILTERS[row_filter]
    width, height = image.size
    channels = len(image.getbands())
    stride = width * channels
    out.write(SIGNATURE)
    _chunk(out, b"IHDR", struct.pack(">IIBBBBB", width, height, 8,
                                     _COLOUR_TYPES[image.mode], 0, 0, 0))
    compressor = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
    pending = bytearray()
    # The row above the first row is all zeros by the PNG definition of the filters.
    above = np.zeros((1, stride), np.uint8)
    for top in range(0, height, STRIP_ROWS):
        strip = image.crop((0, top, width, min(height, top + STRIP_ROWS)))
        rows = np.asarray(strip).reshape(-1, stride)
        pending += compressor.compress(_filtered(rows, above, kind, channels).data)
        above = rows[-1:]
        if len(pending) >= IDAT_BYTES:
            _chunk(out, b"IDAT", pending)
            pending.clear()
    pending += compressor.flush()
    _chunk(out, b"IDAT", pending)
    _chunk(out, b"IEND", b"")


def encode_working(image: Image.Image, out: IO[bytes]) -> None:
    """The one encoder of working copies (8-bit sRGB ``RGB``, already upright)."""
    png_write(image, out, level=WORKING_PNG_COMPRESS_LEVEL, row_filter=WORKING_PNG_FILTER)


#: libpng (through OpenCV) with the Paeth filter on every row and zlib's RLE strategy. Measured
#: (docs/jobs.md, "PNG encode of cutouts"): Pillow's per-row filter choice spent 2.2 s of CPU
#: on a 24 MP soft-alpha cutout and 2.4 s on the 14 soft-dev photos at 2x; Paeth in libpng
#: writes files within 1-2% of its size (the only fixed filter that does: "up" is 5-16% larger)
#: for 31-40% less CPU on the RGBA cutout and 44% less on its mask. Run-length matches (RLE)
#: suit cutouts, masks and layers, mostly runs of transparent pixels: on the dev set's ``fast``
#: cutouts at 2 MP RLE took 21% less CPU and made 14% smaller files than zlib's default
#: strategy for the RGBA cutout, 10% / 22% for the mask (docs/engine.md, "Speed and memory");
#: with RLE zlib ignores the level (1 to 9 write the same bytes).
_PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY,
               cv2.IMWRITE_PNG_STRATEGY_RLE, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_PAETH]
_TO_BGR = {3: cv2.COLOR_RGB2BGR, 4: cv2.COLOR_RGBA2BGRA}


def encode_paeth(array: np.ndarray, path: str | None = None,
                 in_place: bool = False) -> np.ndarray | None:
    """An 8-bit L, RGB or RGBA array as PNG (lossless, no metadata): the bytes as a uint8
    array, or written by libpng straight to ``path`` (a ``.png`` name), with no copy in memory.

    libpng takes OpenCV's BGR order. With ``in_place`` a writable contiguous colour array is
    swapped in place and swapped back afterwards, so a 45 MP cutout's encode costs no second
    180 MB copy (the pool child's peak, docs/review.md); only for an array no other thread
    reads meanwhile (a job's own result): a web process's cached preview base is shared by
    concurrent requests, which would see it half swapped. Otherwise the swap is a copy."""
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError("a PNG is encoded from a uint8 (H, W) or (H, W, 3|4) array")
    mode = "L" if array.ndim == 2 else {2: "LA", 3: "RGB", 4: "RGBA"}.get(
        array.shape[2], f"{array.shape[2]} channels")
    if mode not in _COLOUR_TYPES:
        raise ValueError(f"png_write takes L, RGB or RGBA images, not {mode}")

    def write(pixels: np.ndarray) -> np.ndarray | None:
        if path is not None:
            if not cv2.imwrite(path, pixels, _PNG_PARAMS):
                raise ValueError("OpenCV could not write the PNG")
            return None
        ok, data = cv2.imencode(".png", pixels, _PNG_PARAMS)
        if not ok:
            raise ValueError("OpenCV could not encode the PNG")
        return data

    if array.ndim == 2:
        return write(np.ascontiguousarray(array))
    code = _TO_BGR[array.shape[2]]
    if not (in_place and array.flags.c_contiguous and array.flags.writeable):
        return write(cv2.cvtColor(array, code))
    _swap_in_strips(array, code)
    try:
        return write(array)
    finally:
        _swap_in_strips(array, code)  # the same swap undoes itself


def _swap_in_strips(array: np.ndarray, code: int, rows: int = 256) -> None:
    # OpenCV copies the whole source of an in-place conversion first: strips bound that copy
    for top in range(0, array.shape[0], rows):
        strip = array[top : top + rows]
        cv2.cvtColor(strip, code, dst=strip)

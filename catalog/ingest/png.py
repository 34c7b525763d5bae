"""The one module that writes PNG files: two encodings behind one function, ``png_write``.

Which encoding each use takes was measured, not assumed:

- **Working copies** (opaque photos; ``encode_working``): a streaming writer with one
  fixed row filter, "up", at zlib level 1. Pillow's PNG encoder tries the filters on every row
  and keeps the one with the smallest sum; on a 4 MP photo that choice costs as much CPU as
  deflate itself at level 1, while a fixed "up" filter gives files within a few per cent of the
  same size (``python -m catalog.ingest.working_bench``; table in docs/ingest.md). The loupe's
  tiles (``cutouts.services.tiles``), crops sent once and never stored, take the same setting:
  on 512 px tiles of dev photos upscaled to 1.6 MP it costs 0.60x (RGB) and 0.68x (RGBA)
  the CPU of Pillow's level 1 for files 6-8% larger (docs/ingest.md).
- **Cutouts, masks, previews and layers** (``cutouts.imaging.encode.png_write``): Pillow's
  per-row ``"adaptive"`` choice with zlib's run-length strategy. On cutouts, large transparent
  areas around a soft edge, the best fixed filter ("up", RLE) costs 40% less CPU but writes
  files 23% (RGBA) and 16% (mask) larger; only a Paeth filter matches the per-row size, and in
  numpy it costs more CPU than Pillow's whole encode (table in docs/ingest.md).

Both write a plain 8-bit PNG (IHDR, IDAT, IEND; no metadata chunks, the caller has already
made the pixels sRGB and upright) that every decoder reads: Pillow, libpng, browsers.

The fixed-filter writer filters and deflates the rows a strip at a time, so an 80 MP image never
has a second full-size copy in memory.
"""

from __future__ import annotations

import struct
import zlib
from typing import IO

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

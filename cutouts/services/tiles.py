"""Loupe tiles: bounded crops of a version's full-size original or cutout for the card's loupe.

A tile is cut without decoding the whole file. Working copies and cutouts are plain 8-bit PNGs
(``catalog.ingest.png``), whose rows can only be read in order: each row is unfiltered against
the one above it, inside one zlib stream. So the file is read from the top down to the tile's
last row, a band of rows at a time (about ``BAND_BYTES`` decoded), and each band is kept only
if the tile needs it. On the way down the reader notes where every band starts (the inflater's
state, the file offset and the row above: ``_Mark``), so the next tile of the same file starts
at the band above it instead of at the top. Memory is the bands kept (``BANDS_KEPT`` x
``BAND_BYTES``), one band being decoded, and the marks (per band of a kept file, ~40 kB of
inflater state and one row), whatever the image's size; before, a 45 MP RGBA was decoded whole
(180 MB, two kept per process, 342 MB of peak RSS for the first tile). Any other file
(interlaced, 16-bit, palette, not a PNG) is decoded whole, as before (``_decoded``).

Each band is unfiltered by Pillow's own PNG decoder, fed the band's inflated rows again as a
zlib stream of stored blocks, behind the row above written unfiltered: the pixels are exactly
those of a whole decode, and a tile's PNG the same bytes.

A file's tile is cut under that file's lock (``_file_lock``): a loupe sweep sends tiles of one
file at once, and without it each request decoded the same missing bands from the same mark
(22-33 at once on a 45 MP cutout, 417-433 MB of web RSS); now the first decodes them and the
others wait and cut from the kept bands. Files apart do not wait for each other.
"""

from __future__ import annotations

import io
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import storages
from PIL import Image

from catalog.ingest import png
from catalog.lru import LruCache

from ..errors import TileError
from ..models import Cutout

TILE_KINDS = ("original", "cutout")
TILE_MAX = 512  # px per side: what the 180 px loupe needs at any zoom, and a bounded answer
# decoded full-size images kept, for files the band reader does not read (see the docstring)
_cache: LruCache[str, Image.Image] = LruCache(2)

#: Decoded bytes per band: 4 MB is 128 rows of a 8,192 px RGBA cutout, a whole 1 MP photo.
BAND_BYTES = 4 << 20
#: Bands kept per process (LRU): at most ~48 MB, enough for the few tiles around the loupe.
BANDS_KEPT = 12
#: Files whose band marks are kept (a mark per band: the inflater's state and one row).
FILES_MARKED = 4
_READ_BYTES = 256 * 1024
_PNG_MODES = {0: ("L", 1), 2: ("RGB", 3), 6: ("RGBA", 4)}  # colour type -> mode, bytes/pixel


@dataclass(frozen=True)
class Tile:
    png: bytes
    box: tuple[int, int, int, int]  # x, y, w, h actually cut, in full-size pixels


def tile_box(*, x: int, y: int, w: int, h: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The asked region clamped into the image and to TILE_MAX per side (the client does the
    same sum, so it knows where the tile it gets sits)."""
    width, height = size
    w = max(1, min(w, TILE_MAX, width))
    h = max(1, min(h, TILE_MAX, height))
    x = max(0, min(x, width - w))
    y = max(0, min(y, height - h))
    return x, y, w, h


def _source(cutout: Cutout, kind: str) -> str:
    if kind not in TILE_KINDS:
        raise TileError(f"Unknown tile kind {kind!r}.")
    name = cutout.asset.working_name if kind == "original" else cutout.rgba_name
    if not name:
        raise FileNotFoundError(f"v{cutout.version} has no {kind} image")
    return name


def _decoded(name: str) -> Image.Image:
    def decode() -> Image.Image:
        with storages["default"].open(name, "rb") as fh, Image.open(fh) as opened:
            opened.load()
            return opened.copy()
    return _cache.get(name, decode)


# --- The band reader ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mark:
    """Where reading can resume: the state once ``row`` rows have been read."""

    row: int
    offset: int  # file offset of the next compressed byte the inflater has not taken
    chunk_left: int  # bytes of the current IDAT chunk from ``offset``
    inflater: zlib._Decompress  # copied before use, so a mark is never changed
    prior: bytes  # row ``row - 1`` unfiltered, b"" at the top


@dataclass
class _Index:
    """A plain PNG's layout and the marks found so far (one per band start)."""

    mode: str
    width: int
    height: int
    stride: int  # bytes per unfiltered row
    band_rows: int
    marks: dict[int, _Mark] = field(default_factory=dict)


# file -> its index, or None for a file the band reader does not read
_indexes: LruCache[str, _Index | None] = LruCache(FILES_MARKED)
# (file, band) -> (the band's rows, decoded, with the row above first when top == 1; top)
_bands: LruCache[tuple[str, int], tuple[Image.Image, int]] = LruCache(BANDS_KEPT)


class _FileLock:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0  # threads holding or waiting for it


# file -> its lock, only while a thread holds or waits for it: the dict stays as small as the
# requests in flight, and a lock is never dropped while another thread still needs it
_file_locks: dict[str, _FileLock] = {}
_file_locks_guard = threading.Lock()


@contextmanager
def _file_lock(name: str) -> Iterator[None]:
    """Held while one request reads the index and bands of ``name`` and cuts its tile."""
    with _file_locks_guard:
        entry = _file_locks.get(name)
        if entry is None:
            entry = _file_locks[name] = _FileLock()
        entry.users += 1
    try:
        with entry.lock:
            yield
    finally:
        with _file_locks_guard:
            entry.users -= 1
            if not entry.users:
                del _file_locks[name]


def _read_exact(fh: Any, n: int) -> bytes:
    """``n`` bytes, or fewer only at the end (a network stream may answer in pieces)."""
    data = fh.read(n)
    while 0 < len(data) < n:
        more = fh.read(n - len(data))
        if not more:
            break
        data += more
    return data


def _index(fh: Any) -> _Index | None:
    """Read the header up to the first IDAT, in order; None unless an 8-bit L/RGB/RGBA PNG,
    not interlaced."""
    if _read_exact(fh, 8) != png.SIGNATURE:
        return None
    head = _read_exact(fh, 8)
    if len(head) < 8 or head[4:] != b"IHDR":
        return None
    ihdr = _read_exact(fh, 13 + 4)  # and its CRC
    if len(ihdr) < 17:
        return None
    width, height, depth, colour, method, filters, interlace = struct.unpack(
        ">IIBBBBB", ihdr[:13])
    if depth != 8 or colour not in _PNG_MODES or (method, filters, interlace) != (0, 0, 0):
        return None
    offset = 8 + 8 + 13 + 4
    while True:
        head = _read_exact(fh, 8)
        if len(head) < 8:
            return None
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IDAT":
            break
        if kind == b"IEND" or len(_read_exact(fh, length + 4)) < length + 4:
            return None
        offset += 12 + length
    mode, channels = _PNG_MODES[colour]
    stride = width * channels
    index = _Index(mode=mode, width=width, height=height, stride=stride,
                   band_rows=max(1, BAND_BYTES // stride))
    index.marks[0] = _Mark(row=0, offset=offset + 8, chunk_left=length,
                           inflater=zlib.decompressobj(), prior=b"")
    return index


@contextmanager
def _stream_at(name: str, offset: int) -> Iterator[Any]:
    """``name`` read in order from ``offset``. On S3 a ranged GET: the storage's file object
    (django-storages' S3File) would first download the whole object, into memory by default,
    on every band walk, which is what reading bands is there to avoid."""
    with storages["default"].open(name, "rb") as fh:
        obj = getattr(fh, "obj", None)  # an S3File's boto3 object, not yet downloaded
        if obj is None:
            fh.seek(offset)
            yield fh
            return
        body = obj.get(Range=f"bytes={offset}-")["Body"]
        try:
            yield body
        finally:
            body.close()


class _Reader:
    """The filtered rows of a PNG's IDAT stream, from a mark on."""

    def __init__(self, fh: Any, index: _Index, mark: _Mark):
        """``fh`` is read in order, from ``mark.offset`` on (``_stream_at``)."""
        self.fh, self.index = fh, index
        self.inflater = mark.inflater.copy()
        self.offset, self.left = mark.offset, mark.chunk_left  # of the bytes not yet read
        self.tail = b""  # read, not yet taken by the inflater
        self.row, self.prior = mark.row, mark.prior

    def _read(self) -> bytes:
        while self.left == 0:  # the next chunk: past this one's CRC to the next header
            head = _read_exact(self.fh, 12)[4:]
            if len(head) < 8:
                return b""
            length, kind = struct.unpack(">I4s", head)
            if kind != b"IDAT":
                return b""
            self.offset, self.left = self.offset + 12, length
        data = self.fh.read(min(self.left, _READ_BYTES))
        if not data:
            return b""
        self.offset += len(data)
        self.left -= len(data)
        return data

    def rows(self, n: int) -> list[bytes]:
        """The next ``n`` filtered rows (a filter byte each), as inflated, in pieces: no more
        is inflated than they need, so the state after them is a clean mark."""
        want = n * (self.index.stride + 1)
        pieces, got = [], 0
        while got < want:
            if not self.tail:
                self.tail = self._read()
                if not self.tail:
                    rest = self.inflater.flush()[: want - got]
                    if got + len(rest) < want:
                        raise ValueError("PNG image data is truncated")
                    pieces.append(rest)
                    break
            piece = self.inflater.decompress(self.tail, want - got)
            self.tail = self.inflater.unconsumed_tail
            pieces.append(piece)
            got += len(piece)
        self.row += n
        return pieces

    def mark(self) -> _Mark:
        return _Mark(row=self.row, offset=self.offset - len(self.tail),
                     chunk_left=self.left + len(self.tail), inflater=self.inflater.copy(),
                     prior=self.prior)

    def band(self, n: int) -> tuple[Image.Image, int]:
        """The next ``n`` rows, unfiltered by Pillow's PNG decoder, behind the row above
        (filter byte 0: taken as it is) so that the first row's filter can read it."""
        pieces = self.rows(n)
        top = 1 if self.prior else 0
        # level 0: stored blocks, a copy, not a second compression
        stored = zlib.compressobj(0)
        parts = [stored.compress(b"\0" + self.prior)] if top else []
        parts += [stored.compress(piece) for piece in pieces]
        parts.append(stored.flush())
        del pieces
        index = self.index
        image = Image.frombytes(index.mode, (index.width, n + top), b"".join(parts), "zip",
                                index.mode)
        self.prior = image.crop((0, n + top - 1, index.width, n + top)).tobytes()
        return image, top


class _NotKept(Exception):
    pass


def _band_cached(name: str, k: int) -> tuple[Image.Image, int] | None:
    def missing() -> tuple[Image.Image, int]:
        raise _NotKept  # nothing is put in the cache for a miss
    try:
        return _bands.get((name, k), missing)
    except _NotKept:
        return None


def _band_images(name: str, index: _Index, first: int, last: int
                 ) -> dict[int, tuple[Image.Image, int]]:
    """Bands ``first``..``last`` of ``name``, from the band cache or read from the nearest
    mark above, noting the marks of the bands passed on the way."""
    found = {}
    for k in range(first, last + 1):
        band = _band_cached(name, k)
        if band is not None:
            found[k] = band
    missing = [k for k in range(first, last + 1) if k not in found]
    if not missing:
        return found
    # the marks so far (only a tile of this file, under its lock, adds to them)
    start = max(row for row in list(index.marks) if row <= missing[0] * index.band_rows)
    with _stream_at(name, index.marks[start].offset) as fh:
        reader = _Reader(fh, index, index.marks[start])
        k = start // index.band_rows
        while k <= missing[-1]:
            n = min(index.band_rows, index.height - k * index.band_rows)
            band = reader.band(n)
            if k in missing:
                found[k] = band
                _bands.put((name, k), band)
            k += 1
            if reader.row < index.height and reader.row not in index.marks:
                index.marks[reader.row] = reader.mark()
    return found


def _banded_tile(name: str, index: _Index, box: tuple[int, int, int, int]) -> Image.Image:
    bx, by, bw, bh = box
    rows = index.band_rows
    bands = _band_images(name, index, by // rows, (by + bh - 1) // rows)
    tile = Image.new(index.mode, (bw, bh))
    y = by
    while y < by + bh:
        k = y // rows
        image, top = bands[k]
        end = min(by + bh, (k + 1) * rows)
        tile.paste(image.crop((bx, top + y - k * rows, bx + bw, top + end - k * rows)),
                   (0, y - by))
        y = end
    return tile


def _index_for(name: str) -> _Index | None:
    def read() -> _Index | None:
        with _stream_at(name, 0) as fh:
            return _index(fh)
    return _indexes.get(name, read)


def cutout_image_tile(*, cutout: Cutout, kind: str, x: int, y: int, w: int, h: int) -> Tile:
    """A PNG of at most TILE_MAX x TILE_MAX full-size pixels of the working photo
    (``original``) or the cutout. ``cutout`` needs ``asset`` loaded. Raises TileError,
    FileNotFoundError."""
    return file_tile(name=_source(cutout, kind), x=x, y=y, w=w, h=h)


def file_tile(*, name: str, x: int, y: int, w: int, h: int) -> Tile:
    """The tile of a stored image file (``cutout_image_tile``'s work, by storage name)."""
    # Under the file's lock: concurrent tiles of one file wait for the bands (and the index,
    # and marks) the first one reads, instead of each decoding them again. The crop is inside
    # too, so the bands a tile uses are the kept ones (evicted only by another file's tile).
    with _file_lock(name):
        index = _index_for(name)
        if index is not None:
            box = tile_box(x=x, y=y, w=w, h=h, size=(index.width, index.height))
            tile = _banded_tile(name, index, box)
        else:
            image = _decoded(name)
            box = tile_box(x=x, y=y, w=w, h=h, size=image.size)
            bx, by, bw, bh = box
            tile = image.crop((bx, by, bx + bw, by + bh))
    if tile.mode not in ("L", "RGB", "RGBA"):  # the writer's modes; stored ones are RGB, RGBA
        tile = tile.convert("RGBA")
    out = io.BytesIO()
    # the working copy's fast setting: a tile is sent once and never stored (why, in png.py)
    png.png_write(tile, out, level=png.WORKING_PNG_COMPRESS_LEVEL,
                  row_filter=png.WORKING_PNG_FILTER)
    return Tile(png=out.getvalue(), box=box)

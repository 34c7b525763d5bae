"""Loupe tiles: bounded crops of a version's full-size original or cutout for the card's loupe."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.files.storage import storages
from PIL import Image

from catalog.ingest import png
from catalog.lru import LruCache

from ..errors import TileError
from ..models import Cutout

TILE_KINDS = ("original", "cutout")
TILE_MAX = 512  # px per side: what the 180 px loupe needs at any zoom, and a bounded answer
# decoded full-size images kept: moving the loupe asks for many tiles of one
_cache: LruCache[str, Image.Image] = LruCache(2)


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


def cutout_image_tile(*, cutout: Cutout, kind: str, x: int, y: int, w: int, h: int) -> Tile:
    """A PNG of at most TILE_MAX x TILE_MAX full-size pixels of the working photo
    (``original``) or the cutout. ``cutout`` needs ``asset`` loaded. Raises TileError,
    FileNotFoundError."""
    image = _decoded(_source(cutout, kind))
    box = tile_box(x=x, y=y, w=w, h=h, size=image.size)
    bx, by, bw, bh = box
    out = io.BytesIO()
    tile = image.crop((bx, by, bx + bw, by + bh))
    if tile.mode not in ("L", "RGB", "RGBA"):  # the writer's modes; stored ones are RGB, RGBA
        tile = tile.convert("RGBA")
    # the working copy's fast setting: a tile is sent once and never stored (why, in png.py)
    png.png_write(tile, out, level=png.WORKING_PNG_COMPRESS_LEVEL,
                  row_filter=png.WORKING_PNG_FILTER)
    return Tile(png=out.getvalue(), box=box)

"""Reads for scenes: the background/logo library and the assets a scene spec renders with."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.storage import storages
from PIL import Image

from catalog.lru import LruCache

from .. import variants
from ..models import Background


def background_list(*, kind: str | None = None) -> list[Background]:
    rows = Background.objects.all()
    return list(rows.filter(kind=kind) if kind else rows)


def background_get(*, slug: str) -> Background | None:
    return Background.objects.filter(slug=slug).first()


@dataclass(frozen=True)
class LibraryItem:
    """What rendering needs of a library row, read in the request/job thread so render
    threads never touch the database."""

    slug: str
    kind: str
    image_name: str
    sha256: str
    floor_pct: float
    light_deg: float


def scene_library(*, slugs: Iterable[str]) -> tuple[LibraryItem, ...]:
    """The library items a spec names, sorted by slug ("()" without a query when none)."""
    slugs = sorted(set(slugs))
    if not slugs:
        return ()
    rows = Background.objects.filter(slug__in=slugs).order_by("slug")
    return tuple(LibraryItem(r.slug, r.kind, r.image_name, r.sha256, r.floor_pct, r.light_deg)
                 for r in rows)


def scene_fingerprint(*, items: Iterable[LibraryItem], slugs: Iterable[str] = ()) -> str:
    """What a rendition of a scene depends on besides the cutout: each library item's content
    hash, floor line and light ("" when the spec uses none). Missing slugs count too."""
    items = list(items)
    found = {i.slug for i in items}
    parts = [f"{i.slug}={i.sha256}:{i.floor_pct}:{i.light_deg}" for i in items]
    parts += [f"{s}=missing" for s in sorted(set(slugs) - found)]
    if not parts:
        return ""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


DECODED_CACHE = 4  # library images kept decoded per process (content-addressed by sha256)
_DECODED: LruCache[str, Image.Image] = LruCache(DECODED_CACHE)


def _decoded(name: str, sha256: str) -> Image.Image:
    """A library image, decoded once per process: an export renders many products on it.
    Callers must not modify it (the renderer copies before drawing)."""
    def decode() -> Image.Image:
        with storages["default"].open(name, "rb") as fh:
            image = Image.open(io.BytesIO(fh.read()))
            image.load()
        return image
    return _DECODED.get(sha256, decode)


def scene_assets(*, items: Iterable[LibraryItem]) -> dict[str, variants.SceneAsset]:
    """Decode library items from storage (no database: safe in render threads)."""
    out: dict[str, variants.SceneAsset] = {}
    for item in items:
        image = _decoded(item.image_name, item.sha256)
        background = item.kind == Background.Kind.BACKGROUND
        out[item.slug] = variants.SceneAsset(
            image, floor_pct=item.floor_pct if background else None,
            light_deg=item.light_deg if background else None, sha256=item.sha256)
    return out


def scene_preview_rows(*, product_ids: list[int] | None = None, brand: str = "",
                       limit: int = 6) -> list[dict]:
    """The approved cutouts a scene preview grid shows (one row each), export order."""
    from .export import export_candidates

    rows = export_candidates(product_ids=product_ids, brand=brand).values_list(
        "pk", "asset__product__sku", "asset__position")[:limit]
    return [{"cutout_id": pk, "sku": sku, "position": position} for pk, sku, position in rows]

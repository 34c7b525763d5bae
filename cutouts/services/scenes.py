"""Writes for scenes: library backgrounds and logos, and editing their floor line and light."""

from __future__ import annotations

import hashlib
import io
import warnings

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from .. import variants
from ..errors import SceneError
from ..models import Background
from ..variants.spec import SLUG_RE, is_colour_word

MAX_UPLOAD_BYTES = 40 * 1024 * 1024
MAX_PIXELS = 60_000_000
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def _decode(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise SceneError(f"Upload a JPEG, PNG or WebP image (got {image.format}).")
            if image.width * image.height > MAX_PIXELS:
                raise SceneError("The image is larger than 60 megapixels.")
            image.load()
    except SceneError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise SceneError("The image is larger than 60 megapixels.")
    except UnidentifiedImageError:
        raise SceneError("This file is not an image: upload a JPEG, PNG or WebP picture.")
    except Exception:  # noqa: BLE001 - a truncated or corrupt file of a known format
        raise SceneError("This image is damaged or truncated and cannot be read; export it "
                         "again as JPEG, PNG or WebP.")
    return image


def _check_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug):
        raise SceneError("A slug uses 2-50 lower-case letters, digits and '-', e.g. oak-table.")
    if is_colour_word(slug):
        raise SceneError(f"{slug!r} reads as a colour in a spec (bg-{slug}); pick another slug.")
    if Background.objects.filter(slug=slug).exists():
        raise SceneError(f"The slug {slug!r} is already in the library.")
    return slug


@transaction.atomic
def background_create(*, user=None, name: str, slug: str, data: bytes,
                      kind: str = Background.Kind.BACKGROUND) -> Background:
    """Store an uploaded background or logo; a background's floor line and light direction are
    estimated from the picture (editable afterwards)."""
    if kind not in Background.Kind.values:
        raise SceneError(f"Unknown kind {kind!r}.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise SceneError("The file is larger than 40 MB.")
    slug = _check_slug(slug)
    image = _decode(data)
    sha = hashlib.sha256(data).hexdigest()
    floor = light = None
    if kind == Background.Kind.BACKGROUND:
        rgb = image.convert("RGB")
        floor, light = variants.estimate_floor(rgb), variants.estimate_light(rgb)
    # _decode accepts only the formats FORMATS names, so the lookup cannot miss.
    name_in_storage = f"scenes/{slug}-{sha[:12]}.{FORMATS[image.format]}"  # type: ignore[index]
    stored = storages["default"].save(name_in_storage, ContentFile(data, name=name_in_storage))
    return Background.objects.create(
        slug=slug, name=(name or slug).strip()[:120], kind=kind, image_name=stored, sha256=sha,
        width=image.width, height=image.height,
        floor_pct=floor if floor is not None else 75.0,
        light_deg=light if light is not None else 90.0,
        floor_estimated=floor, light_estimated=light,
        created_by=user if user is not None and user.is_authenticated else None,
    )


@transaction.atomic
def background_update(*, background: Background, floor_pct: float | None = None,
                      light_deg: float | None = None, name: str | None = None) -> Background:
    """Edit the floor line (0-100 % of the height) and light (degrees); renditions using this
    background re-render because their cache key includes these values."""
    fields = []
    if floor_pct is not None:
        if not 0 <= floor_pct <= 100:
            raise SceneError("The floor line must lie between 0 and 100 % of the height.")
        background.floor_pct = round(float(floor_pct), 1)
        fields.append("floor_pct")
    if light_deg is not None:
        background.light_deg = round(float(light_deg) % 360, 1)
        fields.append("light_deg")
    if name is not None and name.strip():
        background.name = name.strip()[:120]
        fields.append("name")
    if fields:
        background.save(update_fields=[*fields, "updated_at"])
    return background

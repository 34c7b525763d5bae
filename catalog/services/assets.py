"""Image assets: ingest (validate, store, register), content-addressed storage names,
soft delete and cached thumbnails."""

import errno
import hashlib
import io
import logging
import tempfile
from dataclasses import dataclass, field
from typing import BinaryIO, ClassVar, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image

from .. import events
from ..errors import ProductDeletedError, ThumbnailSizeError
from ..ingest import archives, images
from ..ingest.naming import NamingError, normalize_position
from ..models import ImageAsset, ImportJob, Position, Product
from .products import PRODUCT_EDITABLE, product_create

logger = logging.getLogger(__name__)

HASH_CHUNK = 1024 * 1024
NORMALIZE_VERSION = "v1"
THUMB_DEFAULT = 320  # the asset grid and the review queues
THUMB_LIST = 160  # the product list
THUMB_CARD = 1024  # the review card and the retouch page (cutouts.services.previews)
THUMB_SIZES = range(32, 2049)
#: ``IngestResult.code`` of a file refused because the storage failed, not the file.
STORAGE_FAULT = "storage"
_FORMAT_EXTENSIONS = {
    "JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif", "HEIF": ".heic",
    "AVIF": ".avif",
}


@dataclass
class IngestResult:
    """What happened to one file; ``reason`` is the user-facing explanation."""

    filename: str
    status: str  # "stored" | "duplicate" | "rejected"
    asset: ImageAsset | None = None
    reason: str = ""
    code: str = ""
    warnings: list[str] = field(default_factory=list)
    #: The file's product was a new one, saved with this file (see ``asset_ingest``).
    product_created: bool = False
    #: Stored without a position from its name or a manifest: it took the next free one,
    #: which ``asset_positions_by_name`` may change to put a session's files in name order.
    auto_position: bool = False

    STORED: ClassVar[str] = "stored"
    DUPLICATE: ClassVar[str] = "duplicate"
    REJECTED: ClassVar[str] = "rejected"

    @property
    def ok(self) -> bool:
        return self.status != self.REJECTED


def ingest_limits() -> images.Limits:
    return images.Limits(
        max_pixels=settings.CUTROOM_MAX_PIXELS,
        min_long_side=settings.CUTROOM_MIN_LONG_SIDE,
        warn_long_side=settings.CUTROOM_WARN_LONG_SIDE,
    )


def storage_default():
    """The storage of originals, working copies, thumbnails and import uploads."""
    return storages["default"]


def _shard(prefix: str, sha: str) -> str:
    return f"{prefix}/{sha[:2]}/{sha[2:4]}/"


def original_storage_name(sha: str, fmt: str) -> str:
    return _shard("originals", sha) + sha + _FORMAT_EXTENSIONS.get(fmt, ".bin")


def working_storage_name(sha: str) -> str:
    return _shard("working", sha) + f"{sha}-{NORMALIZE_VERSION}{images.WORKING_EXTENSION}"


def thumbnail_storage_name(sha: str, size: int) -> str:
    return _shard("thumbs", sha) + f"{sha}-{NORMALIZE_VERSION}-{size}.webp"


def _hash_stream(fileobj: BinaryIO, max_bytes: int) -> tuple[BinaryIO, str, int]:
    """sha256 and size in chunks; a non-seekable stream is spooled so it can be re-read."""
    digest = hashlib.sha256()
    size = 0
    try:
        fileobj.seek(0)
        source, spool = fileobj, None
    except (AttributeError, OSError, io.UnsupportedOperation):
        source = fileobj
        spool = tempfile.SpooledTemporaryFile(max_size=archives.SPOOL_BYTES)  # noqa: SIM115
    while chunk := source.read(HASH_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            if spool is not None:
                spool.close()
            raise images.ImageRejected(
                f"Too large: over the per-file limit of {max_bytes:,} bytes.", "too_large"
            )
        digest.update(chunk)
        if spool is not None:
            spool.write(chunk)
    stream = spool if spool is not None else fileobj
    stream.seek(0)
    return stream, digest.hexdigest(), size  # type: ignore[return-value]


def _spool() -> BinaryIO:
    """A temporary file kept in memory up to the archive spool size."""
    return cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=archives.SPOOL_BYTES))


def _save_immutable(name: str, content: BinaryIO, size: int) -> str:
    """Write once under a content-derived name; never overwrite what is there.

    An existing file of the right size is the same content. One of another size is a
    leftover of an interrupted write, so the new copy goes under a fresh name beside it.
    """
    storage = storage_default()
    if storage.exists(name):
        try:
            if storage.size(name) == size:
                return name
        except OSError:
            pass
    content.seek(0)
    return storage.save(name, File(content, name=name.rsplit("/", 1)[-1]))


#: The position an image gets when MAIN and PT01-PT08 are all taken (Amazon allows no more).
OVERFLOW_POSITION = Position.PT08


def _next_position(product: Product) -> tuple[str, str]:
    """The first free position (MAIN, PT01...PT08) and a warning, empty unless none is free.

    With none free the image shares PT08: it is kept (docs/ingest.md: a taken position keeps
    both images and says so), but exports by position name would collide until it is moved.
    """
    used = set(
        ImageAsset.live.filter(product=product).values_list("position", flat=True)
    )
    for position in Position.values:
        if position != Position.SWCH and position not in used:
            return position, ""
    clash = (ImageAsset.live.filter(product=product, position=OVERFLOW_POSITION)
             .order_by("pk").first())
    return OVERFLOW_POSITION, (
        f"No free position left for {product.sku}: MAIN and PT01-PT08 are all taken, so this "
        f"image shares {OVERFLOW_POSITION} with asset #{clash.pk if clash else '?'}. Both are "
        "kept; it cannot be exported to presets named by position until one is moved or "
        "deleted."
    )


def asset_positions_by_name(*, named: list[tuple[int, str]]) -> dict[int, str]:
    """Give files that took the next free position (``IngestResult.auto_position``) those
    positions again in name order, so the result does not depend on the order they arrived
    in (a browser sends three at a time, a big file arrives last). ``named`` is (asset id,
    the name it came with); returns {asset id: new position} for the assets that moved.

    Per product, the positions held by its other live images (named ones, older ones) stay
    as they are; these files take the free ones, MAIN first, in ``name_order_key`` order,
    and share PT08 beyond (as ``_next_position`` does). Running it again changes nothing,
    so a retried finish is harmless. Only the position changes: originals are immutable,
    a position is metadata.
    """
    names = dict(named)
    moved: dict[int, str] = {}
    product_ids = set(ImageAsset.live.filter(pk__in=names).values_list("product_id", flat=True))
    for product_id in sorted(product_ids):
        with transaction.atomic():
            # the same lock as _asset_row_create: no upload takes a position meanwhile
            Product.objects.select_for_update().filter(pk=product_id).exists()
            live = list(ImageAsset.live.filter(product_id=product_id).order_by("pk"))
            mine = sorted((a for a in live if a.pk in names),
                          key=lambda a: (archives.name_order_key(names[a.pk]), a.pk))
            held = {a.position for a in live if a.pk not in names}
            free = [p for p in Position.values if p != Position.SWCH and p not in held]
            for asset in mine:
                position = free.pop(0) if free else OVERFLOW_POSITION
                if asset.position != position:
                    ImageAsset.objects.filter(pk=asset.pk).update(position=position)
                    moved[asset.pk] = position
    return moved


def asset_ingest(
    *, product: Product, fileobj: BinaryIO, filename: str, user=None,
    position: str | None = None, import_job: ImportJob | None = None,
) -> IngestResult:
    """Validate, store and register one image file; never raises for bad input.

    ``product`` may be unsaved (an import's unknown SKU): it is saved with the asset's row,
    so a refused file never leaves an empty product behind.

    The slow part (hashing, decoding, colour conversion, storage writes) runs outside any
    transaction on purpose: on SQLite an open IMMEDIATE transaction holds the write lock, and
    one 100 MB TIFF would stall every other writer. Files are written before the row, so an
    error leaves at most an unreferenced file, which purge_run removes after the retention.
    """
    filename = (filename or "").replace("\\", "/").rsplit("/", 1)[-1][:255]
    result = IngestResult(filename=filename, status=IngestResult.REJECTED)
    if product.deleted_at is not None:
        result.reason, result.code = f"Product {product.sku} is deleted.", "product_deleted"
        return result
    try:
        position = normalize_position(position)
    except NamingError as exc:
        result.reason, result.code = str(exc), "position"
        return result
    max_bytes = settings.CUTROOM_MAX_FILE_BYTES
    try:
        stream, sha, size = _hash_stream(fileobj, max_bytes)
        existing = (ImageAsset.live.filter(product=product, sha256=sha).first()
                    if product.pk is not None else None)
        if existing is not None:
            if import_job is not None and existing.import_job_id == import_job.pk:
                # stored by a run of this import that died before its next checkpoint: the
                # resumed run reports the file's warnings (the dead run's rows are dropped)
                result.warnings.extend(_stored_warnings(stream, existing))
            return _duplicate(result, existing)
        img, probe = images.open_image(stream, limits=ingest_limits())
        images.decode(img)
        normalized = images.normalize(img, probe)
        # Drop the decoded original before encoding; never close() it, since Pillow would
        # close the caller's stream too.
        del img
    except images.ImageRejected as exc:
        result.reason, result.code = exc.reason, exc.code
        return result
    except MemoryError:
        result.reason, result.code = "Not enough memory to decode this image.", "memory"
        return result
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a bad file, not a crash
        logger.info("ingest of %s failed in the decoder", filename, exc_info=True)
        result.reason = f"Corrupt or unreadable image ({type(exc).__name__}: {exc})"[:480]
        result.code = "corrupt"
        return result
    result.warnings.extend(probe.warnings)

    working = normalized.image
    try:
        original_name = _save_immutable(original_storage_name(sha, probe.format), stream, size)
        with _spool() as buffer:
            images.encode_working(working, buffer)
            working_size = buffer.tell()
            working_name = _save_immutable(working_storage_name(sha), buffer, working_size)
        _thumbnails_premake(sha, working)
    except Exception as exc:  # noqa: BLE001 - disk full, S3 5xx, timeouts: this file fails
        logger.warning("storing %s failed", filename, exc_info=True)
        result.reason, result.code = storage_error_text(exc), STORAGE_FAULT
        return result
    try:
        asset, warnings, created = _asset_row_create(
            product=product, position=position, filename=filename, sha=sha, size=size,
            probe=probe, original_name=original_name, working_name=working_name,
            normalized=normalized, user=user, import_job=import_job,
        )
    except ProductDeletedError:
        result.reason, result.code = f"Product {product.sku} is deleted.", "product_deleted"
        return result
    except IntegrityError:
        # A concurrent upload of the same file to the same product won the race.
        existing = ImageAsset.live.filter(product__sku=product.sku, sha256=sha).first()
        if existing is None:
            raise
        return _duplicate(result, existing)
    result.product_created = created
    result.auto_position = position is None
    result.warnings.extend(warnings)
    if normalized.colour_note and normalized.colour_flagged:
        result.warnings.append(normalized.colour_note)
    result.warnings.extend(normalized.warnings)
    result.status, result.asset = IngestResult.STORED, asset
    events.image_stored(asset)
    return result


def storage_error_text(exc: BaseException) -> str:
    """A user-facing reason for a storage failure (local disk or S3)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "Not stored: the storage is full (no space left on device)."
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        meta = response.get("ResponseMetadata", {})
        code = response.get("Error", {}).get("Code", "")
        return (f"Not stored: the storage answered with an error "
                f"({meta.get('HTTPStatusCode', '?')} {code}).".replace(" )", ")"))
    if "timeout" in type(exc).__name__.lower() or isinstance(exc, TimeoutError):
        return "Not stored: the storage did not answer in time."
    return f"Not stored: storage error ({type(exc).__name__}: {exc})."[:480]


def _stored_warnings(stream: BinaryIO, asset: ImageAsset) -> list[str]:
    """The warnings a stored file's ingest gave, from its header and the asset's row (a
    position clash, known only at the row's creation, is not repeated)."""
    try:
        _img, probe = images.open_image(stream, limits=ingest_limits())
    except images.ImageRejected:
        return []
    warnings = list(probe.warnings)
    if asset.colour_note and asset.colour_flagged:
        warnings.append(asset.colour_note)
    if images.TRANSPARENCY_NOTE in asset.colour_note:
        warnings.append(images.TRANSPARENCY_WARNING)
    return warnings


def _duplicate(result: IngestResult, existing: ImageAsset) -> IngestResult:
    result.status, result.asset, result.code = IngestResult.DUPLICATE, existing, "duplicate"
    result.reason = (
        f"Duplicate: the same file is already stored for {existing.product.sku} "
        f"as {existing.position} (asset #{existing.pk}); not stored twice."
    )
    return result


def _product_saved(product: Product) -> tuple[Product, bool]:
    """The saved row of ``product``, and whether it was created here. An unsaved product is
    inserted now, inside the asset's transaction; if a concurrent upload of the same new SKU
    got there first, its row is used."""
    if product.pk is not None:
        return product, False
    existing = Product.objects.filter(sku=product.sku).first()
    if existing is None:
        # Made by the one product writer, as a fresh row: if the transaction rolls back,
        # the caller's instance stays unsaved.
        try:
            with transaction.atomic():
                new = product_create(sku=product.sku, **{key: getattr(product, key)
                                                         for key in PRODUCT_EDITABLE})
            return new, True
        except (ValidationError, IntegrityError):
            # a concurrent upload of the same new SKU got there first: its row is used
            existing = Product.objects.filter(sku=product.sku).first()
            if existing is None:
                raise
    if existing.deleted_at is not None:
        raise ProductDeletedError(existing)
    return existing, False


@transaction.atomic
def _asset_row_create(
    *, product, position, filename, sha, size, probe, original_name, working_name, normalized,
    user, import_job,
) -> tuple[ImageAsset, list[str], bool]:
    warnings = []
    product, created = _product_saved(product)
    with transaction.atomic():  # savepoint: an IntegrityError must not poison the outer block
        # Concurrent uploads to one product must not both take the same free position.
        Product.objects.select_for_update().filter(pk=product.pk).exists()
        if position is None:
            position, full = _next_position(product)
            if full:
                warnings.append(full)
        else:
            clash = ImageAsset.live.filter(product=product, position=position).first()
            if clash is not None:
                warnings.append(
                    f"Position {position} of {product.sku} already had asset #{clash.pk}; "
                    "both are kept, choose one in review."
                )
        asset = ImageAsset.objects.create(
            product=product, position=position, original_filename=filename,
            original_name=original_name, sha256=sha, bytes=size, width=probe.width,
            height=probe.height, format=probe.format, colour_mode=probe.mode,
            bit_depth=probe.bits, icc_profile_name=probe.icc_profile_name,
            exif_orientation=probe.exif_orientation, working_name=working_name,
            working_width=normalized.image.width, working_height=normalized.image.height,
            colour_note=normalized.colour_note[:500], colour_flagged=normalized.colour_flagged,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
            import_job=import_job,
        )
    return asset, warnings, created


@transaction.atomic
def asset_soft_delete(*, asset: ImageAsset) -> ImageAsset:
    if asset.deleted_at is None:
        now = timezone.now()
        ImageAsset.objects.filter(pk=asset.pk, deleted_at__isnull=True).update(deleted_at=now)
        asset.deleted_at = now
    return asset


def _thumbnail_save(sha: str, size: int, image: Image.Image) -> str:
    """Store ``image`` (already at most ``size`` long) as the thumbnail of that size."""
    name = thumbnail_storage_name(sha, size)
    storage = storage_default()
    if storage.exists(name):
        return name
    with _spool() as buffer:
        images.encode_thumbnail(image, buffer)
        return _save_immutable(name, buffer, buffer.tell())


def _thumbnails_premake(sha: str, working: Image.Image) -> None:
    """The thumbnails the screens ask for, made from the decoded photo at ingest: the grid's
    and the product list's always (a few milliseconds), the review card's only for a photo of
    ``CUTROOM_PRERENDER_MIN_PIXELS`` or more, which a first view would have to decode from
    its PNG working copy again (over a second at 24 MP). Each size is made from the next
    larger one, so only the first resize reads the whole photo."""
    big = working.width * working.height >= settings.CUTROOM_PRERENDER_MIN_PIXELS
    source = working
    for size in (THUMB_CARD, THUMB_DEFAULT, THUMB_LIST):
        if size == THUMB_CARD and not big:
            continue
        thumb = images.thumbnail(source, size)
        _thumbnail_save(sha, size, thumb)
        source = thumb


def asset_thumbnail(*, asset: ImageAsset, size: int = THUMB_DEFAULT) -> str:
    """Storage name of a WebP thumbnail (long side ``size``), generated once and cached."""
    if size not in THUMB_SIZES:
        raise ThumbnailSizeError(
            f"Thumbnail size must be {THUMB_SIZES.start}-{THUMB_SIZES.stop - 1}")
    name = thumbnail_storage_name(asset.sha256, size)
    storage = storage_default()
    if storage.exists(name):
        return name
    with storage.open(asset.working_name, "rb") as handle, Image.open(handle) as working:
        working.draft("RGB", (size, size))
        return _thumbnail_save(asset.sha256, size, images.thumbnail(working.convert("RGB"), size))

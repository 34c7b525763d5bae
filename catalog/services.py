import contextlib
import hashlib
import io
import logging
import os
import re
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import BinaryIO, ClassVar

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone
from PIL import Image

from . import events, jobs
from .ingest import archives, images
from .ingest.manifest import Manifest, ManifestError, parse_manifest
from .ingest.naming import FilenameRules, NamingError, normalize_position
from .models import Capability, ImageAsset, ImportIssue, ImportJob, JobStatus, Position, Product
from .roles import CAPABILITIES, ROLE_CAPABILITIES, ROLES
from .validators import SKU_RE, clean_identifier

logger = logging.getLogger(__name__)


@transaction.atomic
def roles_ensure() -> None:
    """Create the role groups with exactly their capabilities (idempotent)."""
    content_type = ContentType.objects.get_for_model(Capability, for_concrete_model=False)
    permissions = {}
    for codename, name in CAPABILITIES.items():
        permissions[codename], _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for role, capabilities in ROLE_CAPABILITIES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([permissions[c] for c in capabilities])


@transaction.atomic
def user_create(
    *, username: str, password: str, role: str, email: str = "", staff: bool = False,
    superuser: bool = False,
):
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    roles_ensure()
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValueError(f"User {username!r} already exists")
    if superuser:
        user = User.objects.create_superuser(username=username, email=email, password=password)
    else:
        user = User.objects.create_user(
            username=username, email=email, password=password, is_staff=staff
        )
    user.groups.add(Group.objects.get(name=role))
    return user


# --- Products --------------------------------------------------------------------------------

PRODUCT_EDITABLE = ("title", "brand", "category", "gtin", "asin")


def _product_clean_fields(fields: dict) -> dict:
    cleaned = {}
    for key, value in fields.items():
        if key not in PRODUCT_EDITABLE:
            raise ValueError(f"Unknown product field {key!r}")
        value = (value or "").strip()
        cleaned[key] = clean_identifier(value) if key in ("gtin", "asin") else value
    return cleaned


@transaction.atomic
def product_create(
    *, sku: str, title: str = "", brand: str = "", category: str = "", gtin: str = "",
    asin: str = "",
) -> Product:
    """Raises ValidationError (bad SKU, check digit, SKU taken) with UI-ready messages."""
    product = Product(
        sku=(sku or "").strip(),
        **_product_clean_fields(
            {"title": title, "brand": brand, "category": category, "gtin": gtin, "asin": asin}
        ),
    )
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, **fields: str) -> Product:
    for key, value in _product_clean_fields(fields).items():
        setattr(product, key, value)
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_soft_delete(*, product: Product) -> Product:
    """Hide the product and its images; files stay until purge_run passes the retention."""
    now = timezone.now()
    if product.deleted_at is None:
        Product.objects.filter(pk=product.pk, deleted_at__isnull=True).update(deleted_at=now)
        ImageAsset.objects.filter(product=product, deleted_at__isnull=True).update(
            deleted_at=now
        )
        product.deleted_at = now
    return product


@transaction.atomic
def product_restore(*, product: Product) -> Product:
    """Undo a soft delete: the product and the images deleted with it come back."""
    if product.deleted_at is not None:
        ImageAsset.objects.filter(product=product, deleted_at=product.deleted_at).update(
            deleted_at=None)
        Product.objects.filter(pk=product.pk).update(deleted_at=None)
        product.deleted_at = None
    return product


@transaction.atomic
def product_upsert(*, sku: str, **fields: str) -> tuple[Product, bool]:
    """Create the product with this SKU or update the given fields; (product, created).
    A soft-deleted SKU is refused (restore it first), as the importer does."""
    product = Product.objects.select_for_update().filter(sku=(sku or "").strip()).first()
    if product is None:
        return product_create(sku=sku, **fields), True
    if product.deleted_at is not None:
        raise ValidationError({"sku": [f"Product {product.sku} is deleted; restore it first."]})
    return product_update(product=product, **fields), False


# --- Image assets ----------------------------------------------------------------------------

HASH_CHUNK = 1024 * 1024
NORMALIZE_VERSION = "v1"
THUMB_DEFAULT = 320
THUMB_SIZES = range(32, 2049)
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


def archive_limits() -> archives.ArchiveLimits:
    return archives.ArchiveLimits(
        max_entry_bytes=settings.CUTROOM_MAX_FILE_BYTES,
        max_total_bytes=settings.CUTROOM_MAX_ZIP_TOTAL_BYTES,
        max_ratio=settings.CUTROOM_MAX_ZIP_RATIO,
    )


def _storage():
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


def _save_immutable(name: str, content: BinaryIO, size: int) -> str:
    """Write once under a content-derived name; never overwrite what is there.

    An existing file of the right size is the same content. One of another size is a
    leftover of an interrupted write, so the new copy goes under a fresh name beside it.
    """
    storage = _storage()
    if storage.exists(name):
        try:
            if storage.size(name) == size:
                return name
        except OSError:
            pass
    content.seek(0)
    return storage.save(name, File(content, name=name.rsplit("/", 1)[-1]))


def _next_position(product: Product) -> str:
    used = set(
        ImageAsset.live.filter(product=product).values_list("position", flat=True)
    )
    for position in Position.values:
        if position != Position.SWCH and position not in used:
            return position
    return Position.PT08


def asset_ingest(
    *, product: Product, fileobj: BinaryIO, filename: str, user=None,
    position: str | None = None, import_job: ImportJob | None = None,
) -> IngestResult:
    """Validate, store and register one image file; never raises for bad input.

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
        existing = ImageAsset.live.filter(product=product, sha256=sha).first()
        if existing is not None:
            return _duplicate(result, existing)
        img, probe = images.open_image(stream, limits=ingest_limits())
        images.decode(img)
        normalized = images.normalize(img, probe)
        # Drop the decoded original before encoding; never close() it, since Pillow would
        # close the caller's stream too.
        img = None
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
        with tempfile.SpooledTemporaryFile(max_size=archives.SPOOL_BYTES) as buffer:
            images.encode_working(working, buffer)
            working_size = buffer.tell()
            working_name = _save_immutable(working_storage_name(sha), buffer, working_size)
        _thumbnail_save(sha, THUMB_DEFAULT, working)
    except Exception as exc:  # noqa: BLE001 - disk full, S3 5xx, timeouts: this file fails
        logger.warning("storing %s failed", filename, exc_info=True)
        result.reason, result.code = storage_error_text(exc), STORAGE_FAULT
        return result
    try:
        asset, warnings = _asset_row_create(
            product=product, position=position, filename=filename, sha=sha, size=size,
            probe=probe, original_name=original_name, working_name=working_name,
            normalized=normalized, user=user, import_job=import_job,
        )
    except IntegrityError:
        # A concurrent upload of the same file to the same product won the race.
        existing = ImageAsset.live.filter(product=product, sha256=sha).first()
        if existing is None:
            raise
        return _duplicate(result, existing)
    result.warnings.extend(warnings)
    if normalized.colour_note and normalized.colour_flagged:
        result.warnings.append(normalized.colour_note)
    result.status, result.asset = IngestResult.STORED, asset
    events.image_stored(asset)
    return result


STORAGE_FAULT = "storage"


def storage_error_text(exc: BaseException) -> str:
    """A user-facing reason for a storage failure (local disk or S3)."""
    import errno

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


def _duplicate(result: IngestResult, existing: ImageAsset) -> IngestResult:
    result.status, result.asset, result.code = IngestResult.DUPLICATE, existing, "duplicate"
    result.reason = (
        f"Duplicate: the same file is already stored for {existing.product.sku} "
        f"as {existing.position} (asset #{existing.pk}); not stored twice."
    )
    return result


@transaction.atomic
def _asset_row_create(
    *, product, position, filename, sha, size, probe, original_name, working_name, normalized,
    user, import_job,
) -> tuple[ImageAsset, list[str]]:
    warnings = []
    with transaction.atomic():  # savepoint: an IntegrityError must not poison the outer block
        # Concurrent uploads to one product must not both take the same free position.
        Product.objects.select_for_update().filter(pk=product.pk).exists()
        if position is None:
            position = _next_position(product)
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
    return asset, warnings


@transaction.atomic
def asset_soft_delete(*, asset: ImageAsset) -> ImageAsset:
    if asset.deleted_at is None:
        now = timezone.now()
        ImageAsset.objects.filter(pk=asset.pk, deleted_at__isnull=True).update(deleted_at=now)
        asset.deleted_at = now
    return asset


def _thumbnail_save(sha: str, size: int, image: Image.Image) -> str:
    name = thumbnail_storage_name(sha, size)
    storage = _storage()
    if storage.exists(name):
        return name
    with tempfile.SpooledTemporaryFile(max_size=archives.SPOOL_BYTES) as buffer:
        images.encode_thumbnail(images.thumbnail(image, size), buffer)
        return _save_immutable(name, buffer, buffer.tell())


def asset_thumbnail(*, asset: ImageAsset, size: int = THUMB_DEFAULT) -> str:
    """Storage name of a WebP thumbnail (long side ``size``), generated once and cached."""
    if size not in THUMB_SIZES:
        raise ValueError(f"Thumbnail size must be {THUMB_SIZES.start}-{THUMB_SIZES.stop - 1}")
    name = thumbnail_storage_name(asset.sha256, size)
    storage = _storage()
    if storage.exists(name):
        return name
    with storage.open(asset.working_name, "rb") as handle, Image.open(handle) as working:
        working.draft("RGB", (size, size))
        return _thumbnail_save(asset.sha256, size, working.convert("RGB"))


# --- Import jobs ------------------------------------------------------------------------------


def _store_upload(job_key: str, upload, fallback: str) -> tuple[str, str]:
    original = os.path.basename(getattr(upload, "name", "") or fallback)[:200] or fallback
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", original) or fallback
    if hasattr(upload, "seek"):
        upload.seek(0)
    name = _storage().save(f"imports/{job_key}/{safe}", File(upload, name=safe))
    return name, original


def _job_options(
    *, patterns, regex, create_products, encoding, use_folders,
) -> dict:
    options = {
        "patterns": [p for p in (patterns or []) if p],
        "regex": regex or "",
        "create_products": bool(create_products),
        "encoding": encoding or "utf-8",
        "use_folders": bool(use_folders),
    }
    FilenameRules.from_options(options)  # raises NamingError on a bad pattern, before any work
    return options


def import_job_create(
    *, user, source_kind: str, source_file=None, source_path: str = "", manifest_file=None,
    patterns: list[str] | tuple[str, ...] = (), regex: str = "", create_products: bool = False,
    encoding: str = "utf-8", use_folders: bool = True, expected_files: int = 0,
    enqueue: bool = True,
) -> ImportJob:
    """Create an import job.

    ``zip``: ``source_file`` (an upload, streamed to storage) or ``source_path`` (server
    file, management command only); queued for ``import_job_run_task`` unless ``enqueue`` is
    False. ``folder``: ``source_path`` only. ``upload``: a browser batch; the job is running at
    once and each file goes through ``import_job_upload_file``, then ``import_job_finish``.
    A manifest is checked here, so a broken one is refused before anything is stored.
    Raises ValueError (NamingError, ManifestError) with a message for the user.

    The ZIP is copied to storage before the transaction opens: a multi-GB copy inside it
    would hold SQLite's write lock for minutes. An upload session's manifest is applied in
    chunks after the job row is committed, so other writers are never locked out for long.
    """
    if source_kind not in ImportJob.Source.values:
        raise ValueError(f"Unknown import source {source_kind!r}")
    options = _job_options(
        patterns=patterns, regex=regex, create_products=create_products, encoding=encoding,
        use_folders=use_folders,
    )
    manifest = None
    if manifest_file is not None:
        if hasattr(manifest_file, "seek"):
            manifest_file.seek(0)
        manifest = parse_manifest(manifest_file.read(), encoding=options["encoding"])
    job_key = uuid.uuid4().hex
    job = ImportJob(
        created_by=user if getattr(user, "is_authenticated", False) else None,
        source_kind=source_kind, options=options, source_path=source_path,
    )
    if source_kind == ImportJob.Source.ZIP:
        if source_file is not None:
            job.source_name, job.source_filename = _store_upload(job_key, source_file, "import.zip")
        elif source_path:
            job.source_filename = os.path.basename(source_path)
        else:
            raise ValueError("A ZIP import needs a ZIP file.")
    elif source_kind == ImportJob.Source.FOLDER:
        if not source_path:
            raise ValueError("A folder import needs a server folder path.")
        job.source_filename = os.path.basename(os.path.normpath(source_path))
    if manifest_file is not None:
        job.manifest_name, _ = _store_upload(job_key, manifest_file, "manifest.csv")
    if source_kind == ImportJob.Source.UPLOAD:
        job.status = JobStatus.RUNNING
        job.started_at = job.heartbeat_at = timezone.now()
        job.progress_total = max(0, int(expected_files))
    job = _import_job_save(job=job, enqueue=enqueue)
    if source_kind == ImportJob.Source.UPLOAD and manifest is not None:
        _manifest_remember(job, manifest)
        _ImportRun(job).apply_manifest(manifest)
        ImportJob.objects.filter(pk=job.pk).update(
            checkpoint={"manifest": True}, heartbeat_at=timezone.now())
        job.refresh_from_db()
    return job


@transaction.atomic
def _import_job_save(*, job: ImportJob, enqueue: bool) -> ImportJob:
    job.save()
    if enqueue and job.source_kind != ImportJob.Source.UPLOAD:
        from .tasks import import_job_run_task

        transaction.on_commit(lambda: import_job_run_task.delay(job.pk))
    return job


# An upload session sends its files in many requests; each needs the manifest's file -> SKU
# map. Parsing 100k rows per file is what made big sessions crawl, so each process keeps
# the few most recent sessions' parsed manifests.
_MANIFESTS: OrderedDict[tuple[int, str], Manifest] = OrderedDict()
_MANIFESTS_LOCK = threading.Lock()
_MANIFESTS_KEPT = 4


def _manifest_remember(job: ImportJob, manifest: Manifest) -> None:
    with _MANIFESTS_LOCK:
        _MANIFESTS[(job.pk, job.manifest_name)] = manifest
        _MANIFESTS.move_to_end((job.pk, job.manifest_name))
        while len(_MANIFESTS) > _MANIFESTS_KEPT:
            _MANIFESTS.popitem(last=False)


def _manifest_for(job: ImportJob) -> Manifest:
    key = (job.pk, job.manifest_name)
    with _MANIFESTS_LOCK:
        manifest = _MANIFESTS.get(key)
    if manifest is None:
        with _storage().open(job.manifest_name, "rb") as handle:
            manifest = parse_manifest(handle.read(),
                                      encoding=job.options.get("encoding", "utf-8"))
        _manifest_remember(job, manifest)
    return manifest


class _StorageDown(Exception):
    """Too many storage errors in a row: the storage itself is failing, stop the import."""


class _ImportRun:
    """State of one import: rules, product cache, counters, issue writing."""

    def __init__(self, job: ImportJob, progress: Callable | None = None):
        self.job = job
        self.rules = FilenameRules.from_options(job.options)
        self.create_products = bool(job.options.get("create_products"))
        self.manifest: Manifest | None = None
        self.products: dict[str, Product | None] = {}
        self.progress = progress
        self.last_issue_id = 0
        self.storage_faults = 0
        # The entry a dead run was busy with: what it stored is this job's own, not a duplicate.
        self.resumed_name = ""

    def apply_manifest(self, manifest: Manifest) -> None:
        """Create/update the manifest's products, one short transaction per chunk, with
        progress in the job's message."""
        self.manifest = manifest
        skus = list(manifest.products)
        chunk = settings.CUTROOM_MANIFEST_CHUNK
        for start in range(0, len(skus), chunk):
            part = skus[start:start + chunk]
            try:
                created, updated = self._apply_chunk(part, manifest)
            except IntegrityError:
                # A concurrent writer created one of these SKUs meanwhile: one by one.
                created, updated = self._apply_each(part, manifest)
            self.job.products_created += created
            self.job.products_updated += updated
            done = start + len(part)
            ImportJob.objects.filter(pk=self.job.pk).update(
                products_created=self.job.products_created,
                products_updated=self.job.products_updated,
                error_count=self.job.error_count, warning_count=self.job.warning_count,
                heartbeat_at=timezone.now(),
                message=f"Manifest: {done:,} of {len(skus):,} products applied.",
            )

    def _apply_chunk(self, skus: list[str], manifest: Manifest) -> tuple[int, int]:
        # Validation runs before the transaction: on SQLite the write lock is held only for
        # the two bulk statements, and the gaps between chunks let other writers in.
        new, changed = [], []
        now = timezone.now()
        existing = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
        for sku in skus:
            fields = manifest.products[sku]
            product = existing.get(sku)
            try:
                if product is None:
                    product = Product(sku=sku.strip(), **_product_clean_fields(fields))
                    product.full_clean(validate_unique=False, validate_constraints=False)
                    new.append(product)
                elif product.deleted_at is not None:
                    self.issue(sku, f"Product {sku} is deleted; its manifest rows are "
                               "skipped.", ImportIssue.Level.ERROR)
                    product = None
                elif fields:
                    for key, value in _product_clean_fields(fields).items():
                        setattr(product, key, value)
                    product.full_clean(validate_unique=False, validate_constraints=False)
                    product.updated_at = now
                    changed.append(product)
            except ValidationError as exc:
                self.issue(f"manifest.csv ({sku})", _validation_text(exc),
                           ImportIssue.Level.ERROR)
                product = None
            self.products[sku] = product
        with transaction.atomic():
            # A product deleted or created by someone else since the read above: redo the
            # chunk one by one (IntegrityError), or leave the deleted one alone.
            Product.objects.bulk_create(new)
            Product.objects.bulk_update(changed, [*PRODUCT_EDITABLE, "updated_at"])
        if any(p.pk is None for p in new):  # backends that do not return ids
            ids = dict(Product.objects.filter(sku__in=[p.sku for p in new])
                       .values_list("sku", "pk"))
            for p in new:
                p.pk = p.id = ids[p.sku]
        return len(new), len(changed)

    def _apply_each(self, skus: list[str], manifest: Manifest) -> tuple[int, int]:
        created = updated = 0
        for sku in skus:
            fields = manifest.products[sku]
            with transaction.atomic():
                product = Product.objects.filter(sku=sku).first()
                try:
                    if product is None:
                        product = product_create(sku=sku, **fields)
                        created += 1
                    elif product.deleted_at is not None:
                        product = None
                    elif fields:
                        product = product_update(product=product, **fields)
                        updated += 1
                except ValidationError as exc:
                    self.issue(f"manifest.csv ({sku})", _validation_text(exc),
                               ImportIssue.Level.ERROR)
                    product = None
            self.products[sku] = product
        return created, updated

    def issue(self, filename: str, reason: str, level: str) -> None:
        issue = ImportIssue.objects.create(job=self.job, filename=filename[:512], reason=reason,
                                           level=level)
        self.last_issue_id = max(self.last_issue_id, issue.pk)
        if level == ImportIssue.Level.ERROR:
            self.job.error_count += 1
        else:
            self.job.warning_count += 1
        if self.progress is not None:
            self.progress(issue=(filename, reason, level))

    def product_for_sku(self, sku: str, *, create: bool) -> Product | None:
        if sku in self.products and self.products[sku] is not None:
            return self.products[sku]
        product = Product.objects.filter(sku=sku).first()
        if product is not None and product.deleted_at is not None:
            raise _Skip(f"Product {sku} is deleted.")
        if product is None and create:
            try:
                product = product_create(sku=sku)
            except ValidationError as exc:
                # A concurrent upload of the same session may have just created it.
                product = Product.objects.filter(sku=sku, deleted_at__isnull=True).first()
                if product is None:
                    raise _Skip(f"Cannot create product {sku!r}: {_validation_text(exc)}")
            else:
                self.job.products_created += 1
        if product is not None:
            self.products[sku] = product
        return product

    def target(self, name: str) -> tuple[Product, str | None]:
        row = self.manifest.row_for(name) if self.manifest else None
        if row is not None:
            product = self.products.get(row.sku) or self.product_for_sku(row.sku, create=True)
            if product is None:
                raise _Skip(f"Manifest line {row.line}: product {row.sku} is not available.")
            try:
                return product, normalize_position(row.position)
            except NamingError as exc:
                raise _Skip(f"Manifest line {row.line}: {exc}")
        try:
            candidates = self.rules.candidates(name)
        except NamingError as exc:
            raise _Skip(str(exc))
        if not candidates:
            rules = ", ".join(label for label, _ in self.rules.rules)
            raise _Skip(f"The file name matches no naming rule ({rules}) and no manifest row.")
        for candidate in candidates:
            product = self.product_for_sku(candidate.sku, create=False)
            if product is not None:
                return product, candidate.position
        if self.create_products:
            for candidate in candidates:
                if SKU_RE.match(candidate.sku):
                    product = self.product_for_sku(candidate.sku, create=True)
                    if product is not None:
                        return product, candidate.position
        raise _Skip(
            f"Unknown SKU {candidates[0].sku}: no such product. Add it to the manifest or "
            "choose 'create products for unknown SKUs'."
        )

    def ingest(self, name: str, fileobj: BinaryIO, user) -> IngestResult:
        try:
            product, position = self.target(name)
        except _Skip as skip:
            self.issue(name, skip.reason, ImportIssue.Level.ERROR)
            return IngestResult(filename=name, status=IngestResult.REJECTED, reason=skip.reason,
                                code="unmapped")
        result = asset_ingest(product=product, fileobj=fileobj, filename=name, user=user,
                              position=position, import_job=self.job)
        if result.status == IngestResult.STORED:
            self.job.imported_count += 1
        elif (result.status == IngestResult.DUPLICATE and name == self.resumed_name
              and result.asset.import_job_id == self.job.pk):
            # Stored by this job's run that died mid-file: count it once, as imported.
            self.job.imported_count += 1
            result.status, result.reason, result.code = IngestResult.STORED, "", ""
        elif result.status == IngestResult.DUPLICATE:
            self.job.duplicate_count += 1
            self.issue(name, result.reason, ImportIssue.Level.WARNING)
        else:
            self.issue(name, result.reason, ImportIssue.Level.ERROR)
        if result.code == STORAGE_FAULT:
            self.storage_faults += 1
            if self.storage_faults >= settings.CUTROOM_IMPORT_MAX_STORAGE_FAULTS:
                raise _StorageDown(f"Stopped after {self.storage_faults} files in a row could "
                                   f"not be stored. {result.reason}")
        else:
            self.storage_faults = 0
        for warning in result.warnings:
            self.issue(name, warning, ImportIssue.Level.WARNING)
        return result

    def counters(self) -> dict:
        return {
            key: getattr(self.job, key)
            for key in ("imported_count", "duplicate_count", "error_count", "warning_count",
                        "products_created", "products_updated")
        }


class _Skip(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _validation_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def _summary(job: ImportJob) -> str:
    parts = [f"{job.imported_count} imported"]
    if job.duplicate_count:
        parts.append(f"{job.duplicate_count} duplicates skipped")
    if job.error_count:
        parts.append(f"{job.error_count} refused")
    if job.products_created:
        parts.append(f"{job.products_created} products created")
    return ", ".join(parts) + "."


def import_job_upload_file(*, job_id: int, fileobj: BinaryIO, filename: str, user=None
                           ) -> IngestResult:
    """One file of a browser batch (``upload`` job): map it to a product and ingest it."""
    job = ImportJob.objects.get(pk=job_id, source_kind=ImportJob.Source.UPLOAD)
    if job.status != JobStatus.RUNNING:
        return IngestResult(filename=filename, status=IngestResult.REJECTED,
                            reason=f"The import is {job.get_status_display().lower()}.",
                            code="job_closed")
    run = _ImportRun(job)
    if job.manifest_name:
        run.manifest = _manifest_for(job)
    before = run.counters()
    try:
        result = run.ingest(filename, fileobj, user)
    except _StorageDown:
        result = IngestResult(filename=filename, status=IngestResult.REJECTED,
                              reason="Not stored: storage error.", code=STORAGE_FAULT)
    # Concurrent uploads of one batch add their own deltas; F() keeps every one of them.
    # More files than announced (a second drop) raise the total, so progress never reads 6/3.
    deltas = {k: F(k) + (v - before[k]) for k, v in run.counters().items() if v != before[k]}
    ImportJob.objects.filter(pk=job_id).update(
        progress_done=F("progress_done") + 1,
        progress_total=Greatest(F("progress_total"), F("progress_done") + 1),
        heartbeat_at=timezone.now(), **deltas)
    return result


@transaction.atomic
def import_job_finish(*, job_id: int) -> ImportJob:
    job = ImportJob.objects.select_for_update().get(pk=job_id)
    if job.status == JobStatus.RUNNING:
        job.status = JobStatus.DONE
        job.finished_at = timezone.now()
        job.message = _summary(job)
        job.progress_total = max(job.progress_total, job.progress_done)
        job.save(update_fields=["status", "finished_at", "message", "progress_total"])
        events.import_finished(job.pk)
    return job


def import_uploads_close_stale(*, idle_seconds: int | None = None) -> int:
    """Finish browser upload sessions that received no file for ``idle_seconds`` (the tab
    was closed): what arrived stays imported, the message says the rest never came."""
    idle = settings.CUTROOM_UPLOAD_IDLE_SECONDS if idle_seconds is None else idle_seconds
    cutoff = timezone.now() - timedelta(seconds=idle)
    stale = ImportJob.objects.filter(source_kind=ImportJob.Source.UPLOAD,
                                     status=JobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
    closed = 0
    for job in stale:
        missing = max(0, job.progress_total - job.progress_done)
        note = (f" The upload stopped after {job.progress_done} of {job.progress_total} files "
                f"(no file for {idle // 60 or idle} {'min' if idle >= 60 else 's'}; the page "
                "was probably closed)." if missing else "")
        status = JobStatus.DONE if job.progress_done else JobStatus.FAILED
        message = (_summary(job) + note) if job.progress_done else (
            "No file arrived; the upload page was probably closed.")
        if ImportJob.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, heartbeat_at=job.heartbeat_at
        ).update(status=status, finished_at=timezone.now(), message=message[:1000]):
            closed += 1
            events.import_finished(job.pk)
    return closed


def import_job_cancel(*, job_id: int) -> bool:
    """Cancel a queued or running job; a running one stops before its next file."""
    return bool(
        ImportJob.objects.filter(
            pk=job_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
        ).update(status=JobStatus.CANCELLED, finished_at=timezone.now(),
                 message="Cancelled.")
    )


def import_job_fail(*, job_id: int, message: str) -> bool:
    """Fail a running import (a time limit, an operator); its files so far stay imported."""
    return jobs.job_fail(ImportJob, job_id, None, message)


def _open_source(job: ImportJob):
    limits = archive_limits()
    if job.source_kind == ImportJob.Source.FOLDER:
        return archives.FolderSource(job.source_path, limits=limits), None
    handle = open(job.source_path, "rb") if job.source_path else _storage().open(  # noqa: SIM115
        job.source_name, "rb"
    )
    try:
        return archives.ZipSource(handle, limits=limits), handle
    except archives.ArchiveError:
        handle.close()
        raise


def import_job_run(*, job_id: int, progress: Callable | None = None, worker: str = ""
                   ) -> ImportJob | None:
    """Run a queued ZIP/folder import to the end. Returns None if another run owns it.

    A run that follows one whose worker died resumes from the job's checkpoint: the manifest
    is not applied twice, files before the checkpoint are skipped, and the file the dead run
    was busy with is done again without counting it twice.

    ``progress(done=, total=)`` and ``progress(issue=(name, reason, level))`` feed a terminal
    progress bar; the UI polls the row instead.
    """
    token = jobs.job_claim(ImportJob, job_id, worker=worker)
    if token is None:
        return None
    with jobs.job_heartbeat(ImportJob, job_id, token):
        _import_job_execute(job_id, token, progress)
    return ImportJob.objects.get(pk=job_id)


def _import_job_execute(job_id: int, token: str, progress: Callable | None) -> None:
    job = ImportJob.objects.get(pk=job_id)
    run = _ImportRun(job, progress=progress)
    checkpoint = dict(job.checkpoint or {})
    start = int(checkpoint.get("next", 0))
    if checkpoint:
        # What the dead run wrote after its last checkpoint is redone below.
        ImportIssue.objects.filter(job=job, pk__gt=checkpoint.get("issues", 0)).delete()
    run.last_issue_id = int(checkpoint.get("issues", 0))
    user = job.created_by
    source = handle = None
    try:
        source, handle = _open_source(job)
        manifest_bytes = None
        if job.manifest_name:
            with _storage().open(job.manifest_name, "rb") as manifest_handle:
                manifest_bytes = manifest_handle.read()
        else:
            manifest_bytes = source.manifest()
        if manifest_bytes is not None:
            manifest = parse_manifest(manifest_bytes, encoding=job.options.get("encoding",
                                                                               "utf-8"))
            if checkpoint.get("manifest"):
                run.manifest = manifest
            else:
                run.apply_manifest(manifest)
                checkpoint.update(manifest=True, issues=run.last_issue_id)
                if not jobs.job_progress(ImportJob, job_id, token, checkpoint=checkpoint,
                                         **run.counters()):
                    return
        entries = source.entries()
        total = len(entries)
        if not jobs.job_progress(ImportJob, job_id, token, progress_total=total):
            return
        if progress:
            progress(done=start, total=total)
        for done in range(start, total):
            entry = entries[done]
            # Progress, checkpoint and the cancel check share one compare-and-set before each
            # file, so a cancel takes effect before the next file rather than after it.
            checkpoint.update(next=done, issues=run.last_issue_id)
            if not jobs.job_progress(ImportJob, job_id, token, progress_done=done,
                                     checkpoint=checkpoint, **run.counters()):
                ImportJob.objects.filter(pk=job_id, status=JobStatus.CANCELLED).update(
                    progress_done=done, **run.counters())
                return
            run.resumed_name = entry.name if (done == start and start) else ""
            _import_entry(run, source, entry, user)
            if progress:
                progress(done=done + 1, total=total)
        checkpoint.update(next=total, issues=run.last_issue_id)
        if jobs.job_finish(ImportJob, job_id, token, message=_summary(run.job),
                           progress_done=total, checkpoint=checkpoint, **run.counters()):
            events.import_finished(job_id)
    except (archives.ArchiveError, ManifestError, NamingError, _StorageDown) as exc:
        _import_fail(job_id, token, str(exc), run)
    except SoftTimeLimitExceeded:
        _import_fail(job_id, token, "The import took longer than allowed "
                     f"({settings.CUTROOM_IMPORT_TIME_LIMIT // 60} min); what was imported "
                     "stays. Split the rest into smaller archives.", run)
    except Exception as exc:
        logger.exception("import job %s failed", job_id)
        _import_fail(job_id, token,
                     f"Import failed unexpectedly ({type(exc).__name__}: {exc}).", run)
    finally:
        if source is not None:
            source.close()
        if handle is not None:
            handle.close()


def _import_entry(run: _ImportRun, source, entry: archives.Entry, user) -> None:
    if entry.problem:
        level = (ImportIssue.Level.WARNING if entry.problem.startswith("Skipped")
                 else ImportIssue.Level.ERROR)
        run.issue(entry.name, entry.problem, level)
        return
    try:
        fileobj = source.open(entry)
    except archives.ArchiveError as exc:
        run.issue(entry.name, str(exc), ImportIssue.Level.ERROR)
        return
    with fileobj:
        run.ingest(entry.name, fileobj, user)


def _import_fail(job_id: int, token: str, message: str, run: _ImportRun) -> None:
    if jobs.job_fail(ImportJob, job_id, token, message, **run.counters()):
        events.import_finished(job_id)


def _import_kind() -> jobs.JobKind:
    def enqueue(ids: list[int]) -> None:
        from .tasks import import_job_run_task

        for pk in ids:
            import_job_run_task.delay(pk)

    return jobs.JobKind(
        name="import", model=ImportJob, enqueue=enqueue,
        # Browser sessions have no task: the stale-session sweep closes them instead.
        scope=~Q(source_kind=ImportJob.Source.UPLOAD),
        run_limit=lambda job: settings.CUTROOM_IMPORT_TIME_LIMIT,
        sweep=lambda: import_uploads_close_stale(),
    )


jobs.job_kind_register(_import_kind())


# --- Purge -----------------------------------------------------------------------------------

PURGE_PREFIXES = ("originals", "working", "thumbs", "imports")


@dataclass
class PurgeResult:
    deleted: list[str] = field(default_factory=list)
    kept: int = 0
    bytes_freed: int = 0


def _walk_storage(storage, prefix: str):
    try:
        folders, files = storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{prefix}/{name}"
    for folder in folders:
        yield from _walk_storage(storage, f"{prefix}/{folder}")


def purge_run(*, older_than_days: int | None = None, dry_run: bool = False) -> PurgeResult:
    """Delete stored files that no live row references, once the retention has passed.

    A file stays while a live asset uses it or while its asset was deleted less than
    ``older_than_days`` ago; an orphan (e.g. left by a failed upload) goes once it is older
    than that. Rows are kept: they are the audit trail.
    """
    days = settings.CUTROOM_PURGE_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    keep_shas = set(
        ImageAsset.objects.filter(Q(deleted_at__isnull=True) | Q(deleted_at__gt=cutoff))
        .values_list("sha256", flat=True)
    )
    keep_imports = {
        n
        for pair in ImportJob.objects.filter(
            Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
            | Q(finished_at__gt=cutoff)
        ).values_list("source_name", "manifest_name")
        for n in pair
        if n
    }
    storage = _storage()
    result = PurgeResult()
    for prefix in PURGE_PREFIXES:
        for name in _walk_storage(storage, prefix):
            base = name.rsplit("/", 1)[-1]
            referenced = base[:64] in keep_shas or name in keep_imports
            if referenced or storage.get_modified_time(name) > cutoff:
                result.kept += 1
                continue
            with contextlib.suppress(OSError):
                result.bytes_freed += storage.size(name)
            if not dry_run:
                storage.delete(name)
            result.deleted.append(name)
    return result

"""Image assets: ingest (validate, store, register), content-addressed storage names,
soft delete and restore, working copies rebuilt from their originals, and cached
thumbnails."""

import contextlib
import dataclasses
import errno
import hashlib
import io
import logging
import os
import tempfile
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, ClassVar, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.db import IntegrityError, transaction
from django.db.models.functions import Now
from django.utils import timezone
from PIL import Image

from .. import events, signals, upload_gate
from ..errors import (
    AssetRestoreError,
    ProductDeletedError,
    ThumbnailSizeError,
    WorkingCopyRebuildError,
)
from ..ingest import archives, images
from ..ingest.naming import NamingError, normalize_position
from ..models import (
    NEXT_FREE_POSITIONS,
    AssetStatus,
    ImageAsset,
    ImportIssue,
    ImportJob,
    Position,
    Product,
)
from .products import PRODUCT_EDITABLE, product_create, product_sku_twin

logger = logging.getLogger(__name__)

HASH_CHUNK = 1024 * 1024
NORMALIZE_VERSION = "v1"
THUMB_DEFAULT = 320  # the asset grid and the review queues
THUMB_LIST = 160  # the product list
THUMB_CARD = 1024  # the review card and the retouch page (cutouts.services.previews)
THUMB_SIZES = range(32, 2049)
#: ``IngestResult.code`` of a file refused because the storage failed, not the file.
STORAGE_FAULT = "storage"
#: ``IngestResult.code`` of a file whose explicit position another image already holds.
POSITION_TAKEN = "position_taken"
_FORMAT_EXTENSIONS = {
    "JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif", "HEIF": ".heic",
    "AVIF": ".avif",
}


@dataclass
class IngestResult:
    """What happened to one file; ``reason`` is the user-facing explanation."""

    filename: str
    status: str  # "stored" | "duplicate" | "rejected"
    #: The path the file was sent under when it names folders (an API upload's ``path``, a
    #: folder drop's ``shoot/SKU-1/front.jpg``), as sent; '' for a file sent by its name alone.
    #: What tells apart two files of one name (``filename``) in one answer.
    path: str = ""
    asset: ImageAsset | None = None
    reason: str = ""
    code: str = ""
    #: Notes on the file that name no replaced image nor another product's identical one
    #: (``notes`` adds those).
    warnings: list[str] = field(default_factory=list)
    #: The file's product was a new one, saved with this file (see ``asset_ingest``).
    product_created: bool = False
    #: Stored without a position from its name or a manifest: it took the next free one,
    #: which ``asset_positions_by_name`` may change to put a session's files in name order.
    auto_position: bool = False
    #: The older images this file replaced at its position (``asset_ingest``'s ``replace``),
    #: now soft-deleted; ``replacement_notes`` names them.
    replaced: list[ImageAsset] = field(default_factory=list)
    #: A file of the same browser session, later in name order, that arrived first with the
    #: same bytes: this file took its image over and it is the duplicate
    #: (``ImportRun._first_by_name``).
    duplicate_of: str = ""
    #: Another product's image with this stored file's bytes: ``identical_note`` warns of it.
    identical: ImageAsset | None = None

    STORED: ClassVar[str] = "stored"
    DUPLICATE: ClassVar[str] = "duplicate"
    REJECTED: ClassVar[str] = "rejected"

    @property
    def ok(self) -> bool:
        return self.status != self.REJECTED

    @property
    def replacement_notes(self) -> list[str]:
        """One note per replaced image, naming it (kept apart from ``warnings`` so a report
        ties each to the new image without matching wording)."""
        if self.asset is None:
            return []
        return [position_replaced_note(old, sku=self.asset.product.sku) for old in self.replaced]

    @property
    def identical_note(self) -> str:
        """The warning about ``identical`` (kept apart from ``warnings`` so a report row
        records the image it names, as a replacement note's does), or ""."""
        if self.identical is None or self.asset is None:
            return ""
        return identical_elsewhere_note(self.identical, sku=self.asset.product.sku)

    @property
    def notes(self) -> list[str]:
        """Everything the uploader is told about a file that was not refused."""
        return self.replacement_notes + self.warnings + (
            [self.identical_note] if self.identical_note else [])


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


def working_rebuilt_storage_name(sha: str) -> str:
    """A fresh name for a rebuilt working copy (``asset_working_copy_rebuild``): never a name
    already in use, since the old one may hold broken bytes that a content-derived name would
    take for the content. It starts with the sha, so purge keeps it while a row of the
    content is kept."""
    return (_shard("working", sha)
            + f"{sha}-{NORMALIZE_VERSION}-r{uuid.uuid4().hex[:12]}{images.WORKING_EXTENSION}")


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


class HashLookup:
    """The live images holding some contents (sha256), read in one query for a batch of
    files: what ``asset_ingest`` asks of a file's hash, a duplicate on its own product and
    the same bytes on another product (``identical_elsewhere_note``). Built from a request's
    files (``asset_hash_lookup``), it costs one query for all of them; a hash it was not
    given is read when asked (one query, the single file's cost). An image stored meanwhile
    is added (``add``), so a later file of the batch finds an earlier one, as a fresh query
    would."""

    def __init__(self, hashes: Iterable[str] = ()):
        self._rows: dict[str, list[ImageAsset]] = {}
        self._read: set[str] = set()
        self.read(hashes)

    def read(self, hashes: Iterable[str]) -> None:
        missing = set(hashes) - self._read
        if not missing:
            return
        for asset in (ImageAsset.live.filter(sha256__in=missing).select_related("product")
                      .order_by("pk")):
            self._rows.setdefault(asset.sha256, []).append(asset)
        self._read |= missing

    def same(self, sha: str, product: Product) -> ImageAsset | None:
        """``product``'s live image with these bytes (the duplicate rule), if any."""
        self.read([sha])
        if product.pk is None:
            return None
        return next((a for a in self._rows.get(sha, []) if a.product_id == product.pk), None)

    def elsewhere(self, sha: str, product: Product) -> ImageAsset | None:
        """The first (oldest) live image of another product with these bytes, if any."""
        self.read([sha])
        return next((a for a in self._rows.get(sha, []) if a.product_id != product.pk), None)

    def add(self, asset: ImageAsset, *, replaced: Iterable[ImageAsset] = ()) -> None:
        """``asset`` was stored, and ``replaced`` deleted for it."""
        gone = {old.pk for old in replaced}
        for sha in {old.sha256 for old in replaced}:
            self._rows[sha] = [a for a in self._rows.get(sha, []) if a.pk not in gone]
        if asset.sha256 in self._read and all(a.pk != asset.pk
                                              for a in self._rows.get(asset.sha256, [])):
            self._rows.setdefault(asset.sha256, []).append(asset)


def asset_hash_lookup(files: Iterable[BinaryIO]) -> HashLookup:
    """One ``HashLookup`` for a request's files: each hashed (and rewound), one query for
    all. A file over the per-file limit or that cannot be read is left out (``asset_ingest``
    refuses it, or reads its hash itself)."""
    hashes = []
    for fileobj in files:
        try:
            _stream, sha, _size = _hash_stream(fileobj, settings.CUTROOM_MAX_FILE_BYTES)
        except (images.ImageRejected, OSError):
            continue
        fileobj.seek(0)
        hashes.append(sha)
    return HashLookup(hashes)


def _spool() -> BinaryIO:
    """A temporary file kept in memory up to the archive spool size."""
    return cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=archives.SPOOL_BYTES))


def _save_immutable(name: str, content: BinaryIO, size: int) -> str:
    """Write once under a content-derived name; never overwrite a complete stored copy, and
    never keep a second copy of the same bytes under another name.

    An existing file of the right size is the same content (the name is its hash). Local
    storage writes a private temporary file beside the name and links it into place, so a
    concurrent writer of the same bytes (two files of one upload) never sees a half-written
    file, and whichever links second just drops its own copy. On S3 an object appears only
    once complete; if a concurrent writer stored it between our check and our write, the
    storage saves ours under a suffixed name, which is deleted again.
    """
    storage = storage_default()
    if _stored_whole(storage, name, size):
        return name
    if isinstance(storage, FileSystemStorage):
        return _save_local(storage, name, content, size)
    content.seek(0)
    saved = storage.save(name, File(content, name=name.rsplit("/", 1)[-1]))
    if saved != name and _stored_whole(storage, name, size):
        storage.delete(saved)  # the same bytes, stored first by a concurrent writer
        return name
    return saved


def file_save_whole(*, name: str, data: bytes) -> str:
    """Store ``data`` under ``name`` so that no reader ever sees it half written (the
    ``_save_immutable`` policy), for a cache file whose name says what its bytes are, such
    as a review card's preview of one run: a concurrent request found a preview file as soon
    as a plain ``storage.save`` had created it, before its bytes were in, and served it cut
    short, a broken picture (QA 2026-12-06, qa39b F4)."""
    return _save_immutable(name, io.BytesIO(data), len(data))


def _stored_whole(storage, name: str, size: int) -> bool:
    """Whether ``name`` holds a file of ``size`` bytes: for a content-derived name, that
    content."""
    try:
        return bool(storage.exists(name) and storage.size(name) == size)
    except OSError:
        return False


def _save_local(storage: FileSystemStorage, name: str, content: BinaryIO, size: int) -> str:
    """``_save_immutable`` on local disk: write (through the storage, with its permissions)
    under a private name beside ``name``, then link into place. A file already at ``name``
    of another size is a leftover of an interrupted write (from before writes went through
    a private name): it is not this content, so it is replaced."""
    folder, _, base = name.rpartition("/")
    content.seek(0)
    # a dot name without the hash: an interrupted write's leftover is an orphan to purge
    temp = storage.save(f"{folder}/.incoming-{uuid.uuid4().hex}{Path(base).suffix}",
                        File(content, name=base))
    tmp, path = storage.path(temp), Path(storage.path(name))
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            if path.stat().st_size != size:
                os.replace(tmp, path)
        except OSError:  # a file system without hard links: an atomic rename then
            if not path.exists():
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return name


#: The position an image gets when MAIN and PT01-PT08 are all taken (Amazon allows no more).
OVERFLOW_POSITION = Position.PT08


class PositionTaken(Exception):
    """An explicit position that another live image of the product holds (``holder``)."""

    def __init__(self, holder: ImageAsset):
        super().__init__(holder.pk)
        self.holder = holder


#: The asset ids an ingest may move out of the way: files of the same import that took the
#: next free position, whose place came from name order rather than from anyone's choice.
Movable = Callable[[], Collection[int]]


def position_holders(product: Product, position: str, movable: Movable | None
                      ) -> tuple[list[ImageAsset], list[ImageAsset]]:
    """The live images at ``position``: those ``movable`` lets an explicit file displace, and
    the others (which refuse the file, unless it replaces them: ``position_kept``)."""
    holders = list(ImageAsset.live.filter(product=product, position=position).order_by("pk"))
    if not holders:
        return [], []
    soft = set(movable()) if movable is not None else set()
    return [a for a in holders if a.pk in soft], [a for a in holders if a.pk not in soft]


def position_kept(fixed: list[ImageAsset], *, replace: bool,
                   import_job: ImportJob | None) -> ImageAsset | None:
    """The holder that refuses the file, if any. Without ``replace``, any; with it, only one
    stored by this same import: two files of one import asking for one position still clash
    (which one the manager meant is not ours to guess), only older images are replaced."""
    for holder in fixed:
        if not replace or (import_job is not None and holder.import_job_id == import_job.pk):
            return holder
    return None


def approved_cutout_lost_note(old: ImageAsset) -> str:
    """What replacing ``old`` costs when its cutout is approved (its status, which the cutouts
    app derives from the current version): that cutout stops shipping, and the position has
    no approved image until the new photo's cutout is reviewed. "" otherwise. Said by the
    preview beside "replaces" and by the import's replacement warning (QA30 M6)."""
    if old.status not in (AssetStatus.APPROVED, AssetStatus.EXPORTED):
        return ""
    shipped = " and exported" if old.status == AssetStatus.EXPORTED else ""
    return (f"Its cutout is approved{shipped}: it stops shipping, and {old.position} has no "
            "approved image until the new photo is cut out and approved.")


def position_replaced_note(old: ImageAsset, *, sku: str) -> str:
    """The warning of a file that replaced ``old`` (``replace``): names it, so the report
    says which image went, and whether an approved cutout went with it."""
    when = f", uploaded {old.uploaded_at:%Y-%m-%d}" if old.uploaded_at else ""
    note = (f"Replaced {old.position} of {sku} ({old.original_filename or 'an image'}, asset "
            f"#{old.pk}{when}): that image is deleted, as the product page's Delete does; its "
            "original is kept until purge.")
    lost = approved_cutout_lost_note(old)
    return f"{note} {lost}" if lost else note


def original_filename_of(name: str) -> str:
    """The name an image is stored under (``original_filename``): the file's own name, without
    the folders of its ZIP entry or upload path."""
    return name.replace("\\", "/").rsplit("/", 1)[-1][:255]


def import_path_of(name: str) -> str:
    """A file's path in its import as ``ImageAsset.import_path`` keeps it (``/`` for ``\\``):
    what tells ``a/x.jpg`` from ``b/x.jpg``, which share their ``original_filename``."""
    return name.replace("\\", "/")[:1024]


def position_taken_text(*, sku: str, position: str, holder: str, asset_id: int | None,
                        when: str) -> str:
    """The one wording of a file refused for a taken position, for the import's refusal and
    the upload preview's alike: names the other file (``holder``), so the manager can choose
    which one stays (a position is one image; see docs/ingest.md). ``asset_id`` None: the
    holder is a file of the same upload, not stored yet, so the advice is to leave one out
    rather than to delete a stored image."""
    stored = f"asset #{asset_id}" if asset_id is not None else ""
    detail = ", ".join(part for part in (stored, when) if part)
    advice = ("Delete that image first" if asset_id is not None
              else "Leave one of the two out")
    return (
        f"Position {position} of {sku} is already taken by {holder}"
        f"{f' ({detail})' if detail else ''}; not stored. {advice}, or give this file "
        "another position."
    )


def position_taken_reason(holder: ImageAsset, *, import_job: ImportJob | None) -> str:
    """Why a file is refused for a position ``holder`` (a stored image) holds
    (``position_taken_text``)."""
    when = ("from this import" if import_job is not None and holder.import_job_id == import_job.pk
            else f"uploaded {holder.uploaded_at:%Y-%m-%d}" if holder.uploaded_at else "")
    return position_taken_text(sku=holder.product.sku, position=holder.position,
                               holder=holder.original_filename or "an image",
                               asset_id=holder.pk, when=when)


def _next_position(product: Product) -> tuple[str, str]:
    """The first free position (MAIN, PT01...PT08) and a warning, empty unless none is free.

    With none free the image shares PT08: it asked for no position, so unlike a file naming a
    taken one (refused, ``POSITION_TAKEN``) it is kept, with this warning; exports by position
    name would collide until one of the two is deleted.
    """
    used = set(
        ImageAsset.live.filter(product=product).values_list("position", flat=True)
    )
    for position in NEXT_FREE_POSITIONS:
        if position not in used:
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
            free = [p for p in NEXT_FREE_POSITIONS if p not in held]
            for asset in mine:
                position = free.pop(0) if free else OVERFLOW_POSITION
                if asset.position != position:
                    ImageAsset.objects.filter(pk=asset.pk).update(position=position)
                    moved[asset.pk] = position
    return moved


def asset_duplicate_first_by_name(*, asset: ImageAsset, filename: str, position: str | None,
                                  movable: Movable | None) -> tuple[ImageAsset, list[str]] | None:
    """A file of a browser session with the same bytes as ``asset``, which the session
    stored earlier from a file later in name order (``DX0_PT01.jpg`` arrived before the
    identical ``DX0_MAIN.jpg``): the image is one, so it becomes the earlier name's, at
    that name's position, as if the files had arrived in name order (a ZIP takes them so).
    Returns the asset and the notes of files of the session moved out of the way, or None
    when the earlier name cannot take it over (its position is held by another image that
    does not give way, or it has no position while the stored one has its own): the asset
    stays as it is and the file is the duplicate. Only the row changes, never a file."""
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=asset.product_id)
        current = ImageAsset.live.filter(pk=asset.pk).first()
        if current is None:
            return None
        soft_ids = set(movable()) if movable is not None else set()
        yielding: list[ImageAsset] = []
        if position is None:
            if current.pk not in soft_ids:  # its own position beats name order
                return None
        elif current.position != position:
            soft, fixed = position_holders(product, position, movable)
            if any(other.pk != current.pk for other in fixed):
                return None
            yielding = [other for other in soft if other.pk != current.pk]
            current.position = position
        current.original_filename = original_filename_of(filename)
        # the session's report names it by the earlier file's path now
        current.import_path = (import_path_of(filename)
                               if current.import_job_id is not None else "")
        ImageAsset.objects.filter(pk=current.pk).update(
            position=current.position, original_filename=current.original_filename,
            import_path=current.import_path)
        # after the move, so what gives way may take the position the asset left
        notes = [_position_yield(product, other, position or current.position,
                                 current.original_filename) for other in yielding]
    current.product = product
    return current, notes


def asset_ingest(
    *, product: Product, fileobj: BinaryIO, filename: str, user=None,
    position: str | None = None, import_job: ImportJob | None = None,
    movable: Movable | None = None, placed: Callable[[ImageAsset], None] | None = None,
    replace: bool = False, hashes: HashLookup | None = None,
) -> IngestResult:
    """Validate, store and register one image file; never raises for bad input.

    ``product`` may be unsaved (an import's unknown SKU): it is saved with the asset's row,
    so a refused file never leaves an empty product behind.

    An explicit ``position`` (a file name's, a manifest row's, a form's) is one image: a
    file asking for one that a live image holds is refused with the holder's name
    (``POSITION_TAKEN``), unless ``movable()`` lists the holder (a file of the same import
    that only took the next free position): that one moves to the next free position.
    ``placed(asset)`` is called in the row's transaction for a file stored without a
    position, so an import notes it before any other file can find it in the way.

    ``replace`` (asked for by the manager: a season's re-shoot) turns that refusal into a
    replacement: the holder is soft-deleted (``asset_soft_delete``, as the product page's
    Delete) in the transaction that inserts the new row, under the product's lock, so the
    position is never empty and a file that fails to store deletes nothing. Not for a holder
    of the same ``import_job`` (still refused), nor for a file with the holder's content (a
    duplicate, as always); the replaced images are in ``IngestResult.replaced`` and named
    in its ``notes``.

    The slow part (hashing, decoding, colour conversion, storage writes) runs outside any
    transaction on purpose: on SQLite an open IMMEDIATE transaction holds the write lock, and
    one 100 MB TIFF would stall every other writer. Files are written before the row, so an
    error leaves at most an unreferenced file, which purge_run removes after the retention.

    ``hashes``: the batch's ``HashLookup`` (``asset_hash_lookup``), so a request of many
    files reads the images with their contents once, not once per file.
    """
    # the one rule for hidden and system files, by every part of the path (.x.jpg,
    # .thumbs/x.jpg, @eaDir/...): an import passes over them before they come here; a product
    # page's, the API's or a direct upload's is refused in the words the upload page lists
    # them in, nothing stored
    hidden = archives.is_hidden_path(filename or "")
    # a path that climbs out (..) or starts at a root (/x.jpg, C:\x.jpg): refused in the
    # words a ZIP, a server folder or a browser session refuses it in (never passed over as
    # hidden), not stored under its last part
    unsafe = archives.unsafe_name_reason(filename or "")
    # the whole path for an import's report (a ZIP's shoot/SHOE-1/IMG_1.jpg), the base name
    # for the rest
    import_path = import_path_of(filename or "") if import_job is not None else ""
    sent = filename or ""
    filename = original_filename_of(sent)
    result = IngestResult(filename=filename, status=IngestResult.REJECTED,
                          path=sent if "/" in sent.replace("\\", "/") else "")
    if unsafe:
        result.reason, result.code = unsafe, archives.NAME_UNSAFE
        return result
    if hidden:
        result.reason, result.code = archives.IGNORED_REASON, archives.NAME_IGNORED
        return result
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
        # The one order of an upload's refusals: the file's own header first (empty, not
        # an image, too small, too large), then the catalog (a duplicate on its product, a
        # taken position). The preview keeps it: it refuses a file for its header size
        # before mapping it, and the page looks for "already stored" only among the files
        # the preview did not refuse, so a too-small copy of a stored image reads "Too
        # small" in both (QA 2026-12-05: the preview said too small, the report said
        # duplicate). A header parse, no decode.
        img, probe = images.open_image(stream, limits=ingest_limits(), name=filename)
        # one read of the images with these bytes (the batch's, or this file's) answers both
        # the duplicate rule and the same bytes on another product (QA: a query more per file)
        lookup = hashes if hashes is not None else HashLookup()
        existing = lookup.same(sha, product)
        if existing is not None:
            if (import_job is not None and existing.import_job_id == import_job.pk
                    and existing.import_path == import_path):
                # this very entry, stored by a run of this import that died before its next
                # checkpoint: the resumed run reports the file's warnings (the dead run's rows
                # are dropped). A second copy under another name or path is a duplicate as
                # any other, without warnings (QA 2026-12-05 M1: DUP-1_PT01.jpg, the bytes of
                # DUP-1_MAIN.jpg of the same session, got MAIN's "Low resolution" again).
                result.warnings.extend(_stored_warnings(stream, existing))
            return _duplicate(result, existing)
        # The same bytes on another product: stored (one photo may serve two SKUs on
        # purpose) but said, since it is more often a mislabelled file. The same read as the
        # per-product duplicate rule above.
        elsewhere = lookup.elsewhere(sha, product)
        if position is not None and product.pk is not None:
            # before the decode and the writes: a refused file costs a hash, not a decode
            _soft, fixed = position_holders(product, position, movable)
            holder = position_kept(fixed, replace=replace, import_job=import_job)
            if holder is not None:
                raise PositionTaken(holder)
        normalized = _normalized_decode(img, probe, stream)
    except images.ImageRejected as exc:
        result.reason, result.code = exc.reason, exc.code
        return result
    except PositionTaken as exc:
        return _position_refused(result, exc.holder, import_job)
    except MemoryError:
        result.reason, result.code = "Not enough memory to decode this image.", "memory"
        return result
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a bad file, not a crash
        logger.info("ingest of %s failed in the decoder", filename, exc_info=True)
        result.reason = images.corrupt_reason(
            f"the decoder failed ({type(exc).__name__}: {exc}).")[:480]
        result.code = "corrupt"
        return result
    result.warnings.extend(probe.warnings)

    working = normalized.image
    try:
        original_name = _save_immutable(original_storage_name(sha, probe.format), stream, size)
        working_name = _working_store(sha, working, working_storage_name(sha))
    except Exception as exc:  # noqa: BLE001 - disk full, S3 5xx, timeouts: this file fails
        logger.warning("storing %s failed", filename, exc_info=True)
        result.reason, result.code = storage_error_text(exc), STORAGE_FAULT
        return result
    try:
        asset, warnings, created, replaced = _asset_row_create(
            product=product, position=position, filename=filename, sha=sha, size=size,
            probe=probe, original_name=original_name, working_name=working_name,
            normalized=normalized, user=user, import_job=import_job, movable=movable,
            placed=placed, replace=replace, import_path=import_path,
        )
    except PositionTaken as exc:
        # taken meanwhile (a concurrent file of the session); the stored files are left to purge
        return _position_refused(result, exc.holder, import_job)
    except ProductDeletedError:
        result.reason, result.code = f"Product {product.sku} is deleted.", "product_deleted"
        return result
    except IntegrityError:
        # A concurrent upload of the same file to the same product won the race.
        existing = ImageAsset.live.filter(product__sku=product.sku, sha256=sha).first()
        if existing is None:
            raise
        # answered as a duplicate found before the decode is (no warnings: the stored
        # file's answer carries them): of three concurrent uploads of one low-resolution
        # PNG, one duplicate said "Low resolution" and the other not (QA 2026-12-05 L5)
        result.warnings.clear()
        return _duplicate(result, existing)
    result.product_created = created
    result.auto_position = position is None
    result.replaced = replaced
    result.warnings.extend(warnings)
    if normalized.colour_note and normalized.colour_flagged:
        result.warnings.append(normalized.colour_note)
    result.warnings.extend(normalized.warnings)
    if elsewhere is not None and elsewhere.product_id != asset.product_id:
        result.identical = elsewhere
    lookup.add(asset, replaced=replaced)
    result.status, result.asset = IngestResult.STORED, asset
    events.image_stored(asset)
    return result


def header_refusal(fileobj: BinaryIO, name: str = "") -> tuple[str, str] | None:
    """(reason, code) if ``fileobj`` is refused for its header alone (the cheap probe, no
    decode): not a readable image (``images.corrupt_reason``'s words) or the size rule's
    (``images.size_refusal``: too small, too large); else None. For a file refused before
    ``asset_ingest`` reads it (an import's file whose name maps to no product), so its
    reason says what is wrong in the order ``asset_ingest`` and the preview apply: the
    file's header before its name and the catalog. A stream that cannot seek is not probed:
    its name's refusal stands. ``name``: the file's (``images.open_image``)."""
    try:
        fileobj.seek(0)
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    try:
        images.open_image(fileobj, limits=ingest_limits(), name=name)
    except images.ImageRejected as exc:
        if exc.code not in images.HEADER_CODES:
            return None
        # unreadable ones in one code, as they always were for such a file
        return exc.reason, "corrupt" if exc.code in images.UNREADABLE_CODES else exc.code
    except Exception:  # noqa: BLE001 - the probe of a file being refused anyway
        return images.corrupt_reason("its header cannot be read."), "corrupt"
    finally:
        fileobj.seek(0)
    return None


def _normalized_read(stream: BinaryIO, *, limits: images.Limits
                     ) -> tuple[images.ProbeResult, images.Normalized]:
    """The original's header, decode and normalisation (upright, 8-bit sRGB RGB): what its
    working copy holds. One path for the ingest and the rebuild (``asset_working_copy_rebuild``),
    so a rebuilt working copy has the pixels the ingest gave it. Raises ``ImageRejected``."""
    img, probe = images.open_image(stream, limits=limits)
    return probe, _normalized_decode(img, probe, stream)


def _normalized_decode(img: Image.Image, probe: images.ProbeResult, stream: BinaryIO
                       ) -> images.Normalized:
    """The decode and normalisation of an image ``images.open_image`` opened from
    ``stream``. Raises ``ImageRejected``."""
    img = images.decode(img, source=stream)
    damage = images.jpeg_damage(stream, probe)
    if damage:  # reported as the file's other header warnings are (``probe.warnings``)
        probe.warnings.append(damage)
    normalized = images.normalize(img, probe)
    # Drop the decoded original before encoding; never close() it, since Pillow would
    # close the caller's stream too.
    del img
    return normalized


def _working_store(sha: str, working: Image.Image, name: str) -> str:
    """Encode ``working`` as the working copy (``images.encode_working``, the one encoder),
    store it under ``name`` and make the thumbnails the screens ask for; the stored name."""
    with _spool() as buffer:
        images.encode_working(working, buffer)
        stored = _save_immutable(name, buffer, buffer.tell())
    _thumbnails_premake(sha, working)
    return stored


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


def _position_refused(result: IngestResult, holder: ImageAsset,
                      import_job: ImportJob | None) -> IngestResult:
    result.reason = position_taken_reason(holder, import_job=import_job)
    result.code = POSITION_TAKEN
    return result


def duplicate_reason(existing: ImageAsset) -> str:
    """Why a file identical to ``existing`` (same product, same bytes) is not stored."""
    return duplicate_words(sku=existing.product.sku, position=existing.position,
                           asset_pk=existing.pk)


def duplicate_words(*, sku: str, position: str, asset_pk: int) -> str:
    """``duplicate_reason`` from the parts a report row keeps of the stored copy
    (``ImportIssue.sku``, ``position``, ``asset_pk``): a row is said again from its own
    parts when the copy moves, never by finding its words in the text."""
    return (f"Duplicate: the same file is already stored for {sku} as {position} "
            f"(asset #{asset_pk}); not stored twice.")


#: A file the upload page did not send because its preview found the same bytes stored on the
#: product the file maps to: the import's duplicate, said with the reason.
STORED_SKIPPED_PREFIX = "Not sent: the upload page found it already stored. "
#: What a duplicate's report row says before ``duplicate_words``, by its ``ImportIssue.lead``:
#: nothing for a file that arrived (``ImportRun.ingest``), ``STORED_SKIPPED_PREFIX`` for one the
#: page did not send (``imports._finish_names_report``).
DUPLICATE_LEAD_WORDS = {ImportIssue.Lead.ARRIVED: "",
                        ImportIssue.Lead.NOT_SENT: STORED_SKIPPED_PREFIX}


def duplicate_row_words(*, lead: str, sku: str, position: str, asset_pk: int) -> str:
    """A duplicate's report row, composed from its columns (``ImportIssue.lead``, ``sku``,
    ``position``, ``asset_pk``): the one composition it is written in and said again in when
    its stored copy moves."""
    return DUPLICATE_LEAD_WORDS[ImportIssue.Lead(lead)] + duplicate_words(
        sku=sku, position=position, asset_pk=asset_pk)


def identical_elsewhere_note(existing: ImageAsset, *, sku: str) -> str:
    """The warning of a file stored for ``sku`` whose bytes ``existing`` (another product's
    image) already has: the content hash of ``duplicate_reason``, across products."""
    return identical_words(sku=existing.product.sku, position=existing.position,
                           asset_pk=existing.pk, stored_sku=sku)


def identical_words(*, sku: str, position: str, asset_pk: int, stored_sku: str) -> str:
    """``identical_elsewhere_note`` from the parts a report row keeps of the image it names
    (``ImportIssue.named_sku``, ``named_position``, ``named_pk``) and of the file's own
    (``sku``): said again from them when that image moves, as ``duplicate_words``."""
    return (f"Identical to {sku} {position} (#{asset_pk}): the same file is already stored "
            f"for another product. Stored for {stored_sku} too; check the photo belongs to "
            "both.")


def _duplicate(result: IngestResult, existing: ImageAsset) -> IngestResult:
    result.status, result.asset, result.code = IngestResult.DUPLICATE, existing, "duplicate"
    result.reason = duplicate_reason(existing)
    return result


def _product_saved(product: Product) -> tuple[Product, bool]:
    """The saved row of ``product``, and whether it was created here. An unsaved product is
    inserted now, inside the asset's transaction; if a concurrent upload of the same new SKU
    got there first, its row is used, as is the row of a concurrent upload's case variant of
    the SKU (``product_create`` refuses the twin; the import would have sent the file there)."""
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
            existing = (Product.objects.filter(sku=product.sku).first()
                        or product_sku_twin(product.sku))
            if existing is None:
                raise
    if existing.deleted_at is not None:
        raise ProductDeletedError(existing)
    return existing, False


@transaction.atomic
def _asset_row_create(
    *, product, position, filename, sha, size, probe, original_name, working_name, normalized,
    user, import_job, movable=None, placed=None, replace=False, import_path="",
) -> tuple[ImageAsset, list[str], bool, list[ImageAsset]]:
    warnings = []
    replaced: list[ImageAsset] = []
    product, created = _product_saved(product)
    if created and import_job is not None:
        # its import's page lists the products it made (``import_job_products``)
        Product.objects.filter(pk=product.pk).update(created_by_import=import_job)
    auto = position is None
    with transaction.atomic():  # savepoint: an IntegrityError must not poison the outer block
        # Concurrent uploads to one product must not both take the same free position.
        Product.objects.select_for_update().filter(pk=product.pk).exists()
        if position is None:
            position, full = _next_position(product)
            if full:
                warnings.append(full)
        else:
            soft, fixed = position_holders(product, position, movable)
            holder = position_kept(fixed, replace=replace, import_job=import_job)
            if holder is not None:
                raise PositionTaken(holder)
            for other in soft:
                warnings.append(_position_yield(product, other, position, filename))
            # replace: in this savepoint with the new row, so an error below (the row's
            # insert) rolls the deletion back too and the position is never left empty
            for old in fixed:
                asset_soft_delete(asset=old)
                replaced.append(old)
        # working_written_at: the insert's database time (its db_default, read back), after
        # ``asset_ingest`` stored or found the working copy whole
        asset = ImageAsset.objects.create(
            product=product, position=position, original_filename=filename,
            import_path=import_path, original_name=original_name, sha256=sha, bytes=size,
            width=probe.width,
            height=probe.height, format=probe.format, colour_mode=probe.mode,
            bit_depth=probe.bits, icc_profile_name=probe.icc_profile_name,
            exif_orientation=probe.exif_orientation, working_name=working_name,
            working_width=normalized.image.width, working_height=normalized.image.height,
            colour_note=normalized.colour_note[:500], colour_flagged=normalized.colour_flagged,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
            import_job=import_job,
        )
        if auto and placed is not None:
            placed(asset)
        for old in replaced:
            _replacement_log(old, asset, user)
    return asset, warnings, created, replaced


def _replacement_log(old: ImageAsset, new: ImageAsset, user) -> None:
    """Who replaced what. ``asset_soft_delete`` keeps no author (the browser's Delete is not
    audited either); the new row keeps ``uploaded_by`` and ``import_job``, an import's
    report the warning, and this log line the pair, written only once the deletion commits."""
    who = getattr(user, "username", "") or "an unknown user"
    message = ("image replaced: asset #%s (%s, %s of %s) deleted for asset #%s (%s) by %s%s",
               old.pk, old.original_filename, old.position, new.product.sku, new.pk,
               new.original_filename, who,
               f", import #{new.import_job_id}" if new.import_job_id else "")
    transaction.on_commit(lambda: logger.info(*message))


def _position_yield(product: Product, other: ImageAsset, position: str, filename: str) -> str:
    """Move ``other`` (a file of this import placed by name order) out of ``position``, which
    an explicitly positioned file takes; says where it went. Only the row's position changes."""
    new, full = _next_position(product)
    ImageAsset.objects.filter(pk=other.pk).update(position=new)
    return (f"{filename} takes {position} of {product.sku}, as its name or manifest row says; "
            f"{other.original_filename} (asset #{other.pk}), placed there by name order, moves "
            f"to {new}." + (f" {full}" if full else ""))


@transaction.atomic
def asset_soft_delete(*, asset: ImageAsset) -> ImageAsset:
    if asset.deleted_at is None:
        now = timezone.now()
        if ImageAsset.objects.filter(pk=asset.pk, deleted_at__isnull=True).update(
                deleted_at=now):
            signals.assets_deleted.send(sender=ImageAsset, asset_ids=[asset.pk])
        asset.deleted_at = now
    return asset


@transaction.atomic
def asset_restore(*, asset: ImageAsset) -> ImageAsset:
    """Undo an image's delete (the product page's Undo), as ``product_restore`` does for a
    product: the row comes back at its position with its cutouts. Refused, with a message
    naming what is in the way, while another live image holds that position (a position is
    one image: the manager chooses which one stays), while the same file is live on the
    product again, while the product is deleted (restoring it brings its images back) and
    once purge removed the files. A live image is returned as it is."""
    # the product row is the lock every position writer takes (upload, ingest, moves), so an
    # upload and an Undo cannot both find the position free; then re-read the image under it
    product = Product.objects.select_for_update().get(pk=asset.product_id)
    asset = ImageAsset.objects.get(pk=asset.pk)
    if asset.deleted_at is None:
        return asset
    what = f"Image {asset.position} of {product.sku} ({asset.original_filename or 'an image'})"
    if product.deleted_at is not None:
        raise AssetRestoreError(f"{what} cannot be restored: product {product.sku} is deleted; "
                                "restore the product (its images come back with it).")
    storage = storage_default()
    if not storage.exists(asset.working_name) or not storage.exists(asset.original_name):
        raise AssetRestoreError(f"{what} cannot be restored: purge removed its files.")
    live = list(ImageAsset.live.filter(product=product).order_by("pk"))
    holder = next((a for a in live if a.position == asset.position), None)
    if holder is not None:
        raise AssetRestoreError(
            f"{what} cannot be restored: position {asset.position} is now taken by "
            f"{holder.original_filename or 'an image'} (asset #{holder.pk}). Delete that image "
            "first, or upload this file again at another position.")
    same = next((a for a in live if a.sha256 == asset.sha256), None)
    if same is not None:
        raise AssetRestoreError(
            f"{what} cannot be restored: the same file is on {product.sku} again, at "
            f"{same.position} (asset #{same.pk}).")
    ImageAsset.objects.filter(pk=asset.pk).update(deleted_at=None)
    asset.deleted_at = None
    return asset


@dataclass
class WorkingCopyRebuilt:
    """What ``asset_working_copy_rebuild`` did; ``message`` is for the manager."""

    asset: ImageAsset
    old_name: str
    new_name: str
    #: other rows (images of other products with the same file, deleted ones too) that
    #: pointed at the same working copy and were moved to the new one with it
    others: int
    message: str


def asset_working_copy_rebuild(*, asset: ImageAsset) -> WorkingCopyRebuilt:
    """Make the image's working copy again from its stored original, for a working copy that
    is missing or unreadable in storage (deleted by hand, truncated by a full disk, a corrupt
    object).

    The original is read whole and its sha256 and size checked against the row first: an
    original that is missing, unreadable or not the uploaded content raises
    ``WorkingCopyRebuildError`` and nothing is changed. The working copy is then derived as
    the ingest derives it (``_normalized_read``, ``_working_store``: the same decode,
    normalisation and encoder, so the same pixels) and written under a new name
    (``working_rebuilt_storage_name``; originals and stored files are never overwritten).
    One conditional UPDATE moves the row, and every other row that named the same (broken)
    file, to it, stamping ``working_written_at`` (database time: the product page compares it
    with the failure, ``selectors.working_copy_unreadable``): the same file name means the
    same content, so they were broken alike. The old file is deleted after the commit, unless
    a row names it again or it was stored again whole meanwhile (``_working_copy_drop``).

    Runs in the request, as a product page upload's decode and encode do (one image)."""
    product = asset.product
    what = f"Image {asset.position} of {product.sku} ({asset.original_filename or 'an image'})"
    storage = storage_default()
    old = asset.working_name

    def refused(why: str) -> WorkingCopyRebuildError:
        return WorkingCopyRebuildError(
            f"{what}: the working copy cannot be rebuilt, {why}. Nothing was changed; upload "
            "the photo again (delete this image first, or ask to replace it).")

    # the setting may have been raised since the upload: the stored image was accepted then
    limits = dataclasses.replace(ingest_limits(), min_long_side=0)
    try:
        with storage.open(asset.original_name, "rb") as handle:
            try:
                stream, sha, size = _hash_stream(handle, max(asset.bytes, 1))
            except images.ImageRejected:  # longer than the recorded size
                sha, size = "", -1
            if sha != asset.sha256 or size != asset.bytes:
                raise refused("its original in storage is not the file that was uploaded "
                              "(its sha256 differs: damaged or replaced)")
            _probe, normalized = _normalized_read(stream, limits=limits)
    except WorkingCopyRebuildError:
        raise
    except FileNotFoundError:
        raise refused("its original is missing from storage") from None
    except images.ImageRejected as exc:
        raise refused(f"its original cannot be decoded ({exc.reason})") from None
    except MemoryError:
        raise refused("there is not enough memory to decode its original") from None
    except Exception as exc:  # noqa: BLE001 - S3 5xx, timeouts, decoder errors
        logger.warning("reading the original of asset #%s failed", asset.pk, exc_info=True)
        raise refused(f"its original could not be read ({type(exc).__name__})") from None
    working = normalized.image
    if working.size != (asset.working_width, asset.working_height):
        raise refused(f"its original now gives {working.width}×{working.height} pixels, not "
                      f"the {asset.working_width}×{asset.working_height} its cutouts were made "
                      "from")
    try:
        new = _working_store(asset.sha256, working, working_rebuilt_storage_name(asset.sha256))
    except Exception as exc:  # noqa: BLE001 - disk full, S3 5xx: nothing changed
        logger.warning("storing the rebuilt working copy of asset #%s failed", asset.pk,
                       exc_info=True)
        raise WorkingCopyRebuildError(
            f"{what}: the working copy cannot be rebuilt: {storage_error_text(exc)} "
            "Nothing was changed.") from None
    del working, normalized
    try:
        with transaction.atomic():
            # compare-and-set: a concurrent rebuild (a double submit) moved the row first
            if not ImageAsset.objects.filter(pk=asset.pk, working_name=old).update(
                    working_name=new, working_written_at=Now()):
                raise WorkingCopyRebuildError(
                    f"{what}: its working copy was rebuilt meanwhile (another request); "
                    "nothing more to do.")
            others = ImageAsset.objects.filter(working_name=old).update(
                working_name=new, working_written_at=Now())
            written = ImageAsset.objects.values_list("working_written_at", flat=True).get(
                pk=asset.pk)
            transaction.on_commit(lambda: _working_copy_drop(old, rebuilt=new))
    except BaseException:
        with contextlib.suppress(Exception):
            storage.delete(new)  # not named by any row: purge would keep it (its sha lives)
        raise
    asset.working_name, asset.working_written_at = new, written
    logger.info("working copy of asset #%s rebuilt from its original (%s other rows moved)",
                asset.pk, others)
    also = (f" {others} other image{'s' if others != 1 else ''} of the same file "
            "use it too." if others else "")
    return WorkingCopyRebuilt(
        asset=asset, old_name=old, new_name=new, others=others,
        # where to retry its failed cutouts is linked under the image
        # (``selectors.working_copy_retry_targets``): a read, not this service's to make
        message=f"{what}: working copy rebuilt from the original.{also} Its failed cutouts "
                "can run again: the links under the image lead to them.")



def _working_copy_drop(name: str, *, rebuilt: str) -> None:
    """Delete a replaced (broken) working copy after the rebuild's commit, unless it may be
    in use again: a row names it (an upload of the same photo, under its content name,
    committed meanwhile), or it holds the very bytes of the rebuilt copy ``rebuilt`` (the
    ingest and the rebuild encode alike), which only an ingest storing the content again
    writes, before it inserts its row. A good copy is never deleted: kept, it is an orphan
    at worst, which purge keeps while the content has a row. Clock-free: S3 gives a file's
    time in whole seconds.

    A row lock cannot close the race: the racing ingest inserts a new row, there is none to
    lock. What is left: an ingest that finds the broken file whole (same size: a corrupt
    object, already broken for it) or stores the content in the milliseconds between the
    byte check and the delete, and commits its row after. Its image then names a missing
    working copy: the check after the delete logs it by id, its first cutout fails with the
    rebuild offer, and ``manage.py rebuild_working_copies --all-broken`` finds it
    (docs/operations.md)."""
    if ImageAsset.objects.filter(working_name=name).exists():
        return
    storage = storage_default()
    try:
        if not storage.exists(name):
            return  # deleted by hand: the usual reason for the rebuild
        if _same_bytes(storage, name, rebuilt):
            logger.info("replaced working copy %s kept: stored again whole during the rebuild",
                        name)
            return
        storage.delete(name)
    except FileNotFoundError:
        return  # gone between the calls
    except Exception:  # noqa: BLE001 - an orphan is purged with its content; the rebuild stands
        logger.warning("deleting the replaced working copy %s failed", name, exc_info=True)
        return
    late = list(ImageAsset.objects.filter(working_name=name).values_list("pk", flat=True))
    if late:
        logger.error("working copy %s was deleted as asset(s) %s took it (an upload of the "
                     "same photo during a rebuild): run manage.py rebuild_working_copies "
                     "--all-broken", name, ", ".join(f"#{pk}" for pk in late))


def _same_bytes(storage, name: str, other: str) -> bool:
    """Whether two stored files hold the same bytes: the sizes first (a truncated copy, one
    call each), then the contents chunk by chunk."""
    if storage.size(name) != storage.size(other):
        return False
    with storage.open(name, "rb") as one, storage.open(other, "rb") as two:
        while True:
            a, b = one.read(HASH_CHUNK), two.read(HASH_CHUNK)
            if a != b:
                return False
            if not a:
                return True


def working_copy_check(*, asset: ImageAsset) -> str:
    """Why the image's working copy cannot be read whole, or "" when it can: the PNG is read
    chunk by chunk with every CRC checked (Pillow's ``verify``, memory bounded by a chunk,
    no decode) and its size compared with the row's."""
    storage = storage_default()
    try:
        with storage.open(asset.working_name, "rb") as handle, Image.open(
                handle, formats=["PNG"]) as image:
            size = image.size
            image.verify()
    except FileNotFoundError:
        return "missing from storage"
    except Exception as exc:  # noqa: BLE001 - any failure to read is the answer
        return f"unreadable ({type(exc).__name__}: {exc})"[:200]
    if size != (asset.working_width, asset.working_height):
        return (f"unexpected size {size[0]}×{size[1]} (recorded "
                f"{asset.working_width}×{asset.working_height})")
    return ""


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
    """Storage name of a WebP thumbnail (long side ``size``), generated once and cached; the
    generation waits for a decode slot (``upload_gate``), however long that takes."""
    if size not in THUMB_SIZES:
        raise ThumbnailSizeError(
            f"Thumbnail size must be {THUMB_SIZES.start}-{THUMB_SIZES.stop - 1}")
    name = thumbnail_storage_name(asset.sha256, size)
    storage = storage_default()
    if storage.exists(name):
        return name
    # The working copy is a PNG, decoded whole (``draft`` shrinks only a JPEG's decode): one
    # of the web process's decode slots, waited for without a limit (``upload_gate.NO_LIMIT``:
    # an <img> cannot send again; nothing that holds a slot asks for a thumbnail).
    with upload_gate.decode_slot(wait=upload_gate.NO_LIMIT):
        if storage.exists(name):  # made meanwhile by a view of it that held the slot first
            return name
        with storage.open(asset.working_name, "rb") as handle, Image.open(handle) as working:
            working.draft("RGB", (size, size))
            return _thumbnail_save(asset.sha256, size,
                                   images.thumbnail(working.convert("RGB"), size))

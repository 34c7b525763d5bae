"""Purge: deleting stored files no live row references once the retention has passed."""

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..models import ImageAsset, ImportJob, JobStatus
from .assets import storage_default
from .products import products_release_purged

PURGE_PREFIXES = ("originals", "working", "thumbs", "imports")


@dataclass
class PurgeResult:
    deleted: list[str] = field(default_factory=list)
    kept: int = 0
    bytes_freed: int = 0
    skus_released: list[str] = field(default_factory=list)


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
    than that. Rows are kept: they are the audit trail; the SKUs of products deleted before
    the retention are released for reuse (``products_release_purged``).
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
    storage = storage_default()
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
    if not dry_run:
        result.skus_released = products_release_purged(deleted_before=cutoff)
    return result

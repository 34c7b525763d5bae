"""Temporary files of large uploads: kept in their own folder, removed when the request ends
however it ends (aborted, failed, or fine), and purged when a killed process left them behind."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

logger = logging.getLogger(__name__)


class TrackedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Django's temp-file handler, remembering each file it creates on the request."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        request = self.request
        assert request is not None  # the handlers request.upload_handlers makes carry it
        files = getattr(request, "_cutroom_upload_temps", None)
        if files is None:
            # a per-request list on the request object (HttpRequest declares no such field)
            files = request._cutroom_upload_temps = []  # type: ignore[attr-defined]
        files.append(self.file)


class UploadTempCleanupMiddleware:
    """Deletes the request's upload temp files once the view is done, also when the client
    hung up mid-upload or the view raised: the file of a half-received 2 GB upload would
    otherwise wait for the garbage collector (or forever, if the process is killed)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            for upload in getattr(request, "_cutroom_upload_temps", ()):
                path = upload.temporary_file_path()
                try:
                    upload.close()  # a NamedTemporaryFile: closing it deletes it
                    if os.path.exists(path):
                        os.remove(path)
                except OSError:
                    logger.warning("could not remove upload temp file %s", path, exc_info=True)


@dataclass
class TempPurgeResult:
    deleted: list[str] = field(default_factory=list)
    bytes_freed: int = 0


def upload_temp_purge(*, older_than_seconds: int, dry_run: bool = False) -> TempPurgeResult:
    """Remove upload temp files older than ``older_than_seconds`` (by mtime: a file still
    being written is young) from ``FILE_UPLOAD_TEMP_DIR``; leftovers of killed processes."""
    result = TempPurgeResult()
    folder = settings.FILE_UPLOAD_TEMP_DIR
    if not folder or not os.path.isdir(folder):
        return result
    cutoff = time.time() - older_than_seconds
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.is_file(follow_symlinks=False) or not entry.name.endswith(".upload") \
                    and ".upload." not in entry.name:
                continue
            stat = entry.stat(follow_symlinks=False)
            if stat.st_mtime >= cutoff:
                continue
            if not dry_run:
                try:
                    os.remove(entry.path)
                except FileNotFoundError:
                    continue
            result.deleted.append(entry.path)
            result.bytes_freed += stat.st_size
    return result

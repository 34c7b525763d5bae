"""How private files reach a client, decided once: a short-lived presigned URL when storage is
S3, else the bytes streamed by the permission-checked view that calls this; plus the content
type, attachment name and cache headers those responses carry."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import storages
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

# Every value is private: the bytes are behind a login, so no shared cache may keep them.
IMMUTABLE = "private, max-age=604800, immutable"  # content-addressed names
VERSIONED = "private, max-age=86400"  # names per version and run: their bytes never change
REVALIDATE = "private, no-cache"  # names whose bytes may be replaced (library files, exports)
# The presigned URL expires; a cached redirect to it must not outlive it.
SIGNED_REDIRECT = "private, max-age=60"


def presigns(storage) -> bool:
    """Whether ``storage`` hands out presigned URLs (S3 with query-string auth). Local disk
    has no URL at all: media is private and only ever streamed through a view."""
    return bool(getattr(storage, "querystring_auth", False)) and hasattr(storage, "bucket_name")


def attachment_header(filename: str) -> str:
    """``Content-Disposition`` for a download named ``filename`` (RFC 6266, non-ASCII safe)."""
    return content_disposition_header(True, filename)


def presigned_url(*, alias: str, name: str, filename: str = "",
                  seconds: int | None = None) -> str | None:
    """A short-lived URL the client fetches straight from the bucket (an attachment when
    ``filename`` is given); None when the storage cannot presign. ``seconds`` defaults to
    the storage's own expiry (S3_SIGNED_URL_SECONDS)."""
    storage: Any = storages[alias]  # S3Storage.url takes parameters and expire
    if not presigns(storage):
        return None
    parameters = {"ResponseContentDisposition": attachment_header(filename)} if filename else None
    return storage.url(name, parameters=parameters, expire=seconds)


def private_file(*, name: str, cache: str, alias: str = "default", content_type: str = "",
                 filename: str = "", etag: str = "") -> HttpResponseBase:
    """The response for a stored file the caller has already checked access to.

    S3: a redirect to a presigned URL (the web process streams nothing). Local disk: the
    bytes, with ``cache`` and ``etag``. ``filename`` makes it a download of that name;
    inline files carry no name, so storage names never reach the browser. Raises Http404
    when a local file is missing.
    """
    url = presigned_url(alias=alias, name=name, filename=filename)
    if url:
        redirect = HttpResponseRedirect(url)
        redirect["Cache-Control"] = SIGNED_REDIRECT
        return redirect
    try:
        fh = storages[alias].open(name, "rb")
    except FileNotFoundError:
        raise Http404("The file is no longer in storage.")
    response = FileResponse(fh, as_attachment=bool(filename), filename=filename,
                            content_type=content_type or None)
    if not filename:
        del response["Content-Disposition"]
    response["Cache-Control"] = cache
    if etag:
        response["ETag"] = etag
    return response

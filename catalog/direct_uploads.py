"""Large image uploads straight to S3: a presigned PUT to a staging key, then the same
ingest as every other upload reads it from storage (and removes the staging copy)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.utils import timezone

from .ingest import archives
from .models import Product
from .services import assets as asset_services

SALT = "cutroom.api.direct-upload"
STAGING = "uploads"


def _storage():
    return storages["default"]


def available() -> bool:
    storage = _storage()
    return hasattr(storage, "bucket_name") and hasattr(storage, "connection")


def direct_upload_start(*, product: Product, filename: str, size: int, owner: str) -> dict:
    """A presigned PUT URL for one file and the token that finishes it. Raises
    ValidationError (no S3, deleted product, hidden name, path traversal, too large) with a
    message for the user."""
    if not available():
        raise ValidationError("Direct uploads need S3 storage; send the file as multipart "
                              "to /products/{id}/images instead.")
    if product.deleted_at is not None:
        raise ValidationError(f"Product {product.sku} is deleted.")
    # the finish would refuse it (``asset_ingest``): say so before the client sends the bytes
    if unsafe := archives.unsafe_name_reason(filename):
        raise ValidationError(unsafe)
    if archives.is_hidden_path(filename):
        raise ValidationError(archives.IGNORED_REASON)
    limit = settings.CUTROOM_MAX_FILE_BYTES
    if size > limit:
        raise ValidationError(f"Too large: over the per-file limit of {limit:,} bytes.")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", filename.rsplit("/", 1)[-1])[:120] or "upload"
    name = f"{STAGING}/{uuid.uuid4().hex}/{safe}"
    storage = _storage()
    key = f"{storage.location}/{name}" if storage.location else name
    seconds = settings.CUTROOM_API_DOWNLOAD_SECONDS
    url = storage.connection.meta.client.generate_presigned_url(
        "put_object", Params={"Bucket": storage.bucket_name, "Key": key,
                              "ContentLength": size},
        ExpiresIn=seconds, HttpMethod="PUT")
    token = signing.dumps({"n": name, "f": filename[:255], "p": product.pk, "o": owner,
                           "s": size},
                          salt=SALT, compress=True)
    expires: datetime = timezone.now() + timedelta(seconds=seconds)
    return {"url": url, "method": "PUT", "headers": {"Content-Length": str(size)},
            "token": token, "expires_at": expires}


def direct_upload_finish(*, product: Product, token: str, owner: str, user=None,
                         position: str | None = None,
                         replace: bool = False) -> asset_services.IngestResult:
    """Ingest the staged file exactly as a multipart upload would be, then drop the staging
    copy (the original is stored content-addressed like any other)."""
    try:
        claim = signing.loads(token, salt=SALT,
                              max_age=settings.CUTROOM_API_DOWNLOAD_SECONDS + 3600)
    except signing.BadSignature:
        raise ValidationError("This upload token is invalid or has expired; start again.")
    if claim.get("p") != product.pk or claim.get("o") != owner:
        raise ValidationError("This upload token belongs to another product or key.")
    storage = _storage()
    if not storage.exists(claim["n"]):
        raise ValidationError("Nothing was uploaded with this token (PUT the file first).")
    declared, stored = claim.get("s"), storage.size(claim["n"])
    # S3 enforces the signed Content-Length, other S3-compatible stores (moto, some
    # gateways) do not: the size limit checked at start must hold for what arrived.
    if declared is not None and stored != declared:
        storage.delete(claim["n"])  # the staging copy only; nothing was ingested from it
        raise ValidationError(
            f"The uploaded file is {stored:,} bytes, not the {declared:,} declared when the "
            "upload started; it was discarded. Start again with the file's exact size.")
    with storage.open(claim["n"], "rb") as fh:
        result = asset_services.asset_ingest(product=product, fileobj=fh, filename=claim["f"],
                                             user=user, position=position,
                                             replace=replace)
    storage.delete(claim["n"])
    return result

"""Domain exceptions of the catalog app: what its services refuse, caught by type by views,
the API and commands (the pure ``catalog.ingest`` keeps its own and they are offered here)."""

from django.core.exceptions import ValidationError

from .ingest.archives import ArchiveError
from .ingest.images import ImageRejected
from .ingest.manifest import ManifestError
from .ingest.naming import NamingError

__all__ = [
    "IMPORT_REFUSALS", "ArchiveError", "AssetRestoreError", "CatalogError", "ImageRejected",
    "ImportRefused",
    "ManifestError", "NamingError", "ProductDeletedError", "ProductFieldError",
    "ProductPurgedError", "StorageDownError",
    "ThumbnailSizeError", "UserRefused", "WorkingCopyRebuildError",
]


class CatalogError(Exception):
    """A catalog service refused the request; the message is for the user."""


class UserRefused(CatalogError):
    """An unknown role, or a username that is taken."""


class ProductFieldError(CatalogError):
    """A field name that is not an editable product field (a caller's mistake)."""


class ProductDeletedError(CatalogError, ValidationError):
    """A new product's SKU belongs to a soft-deleted one: restore that one instead. Also a
    ValidationError on ``sku``, so callers that report validation errors (API 422, admin,
    importer) report it; the product pages catch it first to offer the restore."""

    def __init__(self, product) -> None:
        self.product = product
        self.text = f"Product {product.sku} was deleted; restore it instead of creating it again."
        super().__init__({"sku": [self.text]})


class AssetRestoreError(CatalogError):
    """A deleted image cannot come back now (its position is taken, the same file is live on
    the product again, its product is deleted, or purge removed its files)."""


class WorkingCopyRebuildError(CatalogError):
    """An image's working copy cannot be rebuilt: its original is missing, unreadable or no
    longer the recorded content (sha256), or it no longer yields the recorded size. Nothing
    was changed."""


class ProductPurgedError(CatalogError):
    """A product whose files were purged: it cannot come back (its SKU is free again)."""


class ProductRestoreError(CatalogError):
    """A deleted product cannot come back now: a live product holds its SKU in another case
    (restoring would make two products whose export folders collide)."""


class ThumbnailSizeError(CatalogError):
    """A thumbnail size outside the sizes that may be generated."""


class ImportRefused(CatalogError):
    """An import job that cannot be created as asked (unknown source, no file, no folder)."""


class StorageDownError(CatalogError):
    """Too many storage errors in a row: the storage itself is failing, stop the import."""


#: Everything ``import_job_create`` refuses with a message for the user.
IMPORT_REFUSALS = (ImportRefused, NamingError, ManifestError)

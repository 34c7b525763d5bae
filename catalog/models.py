from typing import ClassVar, Self

from django.conf import settings
from django.db import models
from django.db.models.functions import Now, Upper

from .roles import CAPABILITIES
from .validators import SKU_MAX_LENGTH, validate_asin, validate_gtin, validate_sku


class LiveManager(models.Manager):
    """Rows not soft-deleted; the default manager still sees everything (admin, purge)."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Capability(models.Model):
    """Holds the app-wide permissions that roles grant; it has no table."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(CAPABILITIES.items())

    def __str__(self) -> str:
        return "capability"


#: ``ValidationError`` code of a SKU refused as a live product's case twin.
SKU_CASE_TWIN = "sku_case_twin"


class Product(models.Model):
    """A sellable item, identified by its SKU. Deleting is soft: ``deleted_at`` is set."""

    sku = models.CharField("SKU", max_length=SKU_MAX_LENGTH, unique=True,
                           validators=[validate_sku])
    title = models.CharField(max_length=255, blank=True)
    brand = models.CharField(max_length=120, blank=True)
    category = models.CharField(max_length=120, blank=True)
    gtin = models.CharField(
        "GTIN/EAN/UPC", max_length=14, blank=True, validators=[validate_gtin],
        help_text="EAN-8, UPC-A (12), EAN-13 or GTIN-14 digits, with check digit.",
    )
    asin = models.CharField("ASIN", max_length=10, blank=True, validators=[validate_asin])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The import that made it (its manifest or a file's name): that import's page lists it
    # even when no file of it arrived (a manifest row whose file was missing: QA31 L5).
    created_by_import = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="created_products",
    )

    objects = models.Manager()
    live = LiveManager()

    class Meta:
        ordering = ["sku"]
        indexes = [
            # Filtered, SKU-ordered list pages over 50k products stay index-only scans.
            models.Index(fields=["brand", "sku"], name="catalog_product_brand_sku"),
            models.Index(fields=["category", "sku"], name="catalog_product_category_sku"),
            models.Index(fields=["gtin"], name="catalog_product_gtin"),
            models.Index(fields=["-updated_at"], name="catalog_product_updated"),
            # SKUs match ignoring case (imports, case twins): UPPER(sku) IN (...) over every
            # row, deleted ones too, is an index lookup rather than a read of every SKU.
            models.Index(Upper("sku"), name="catalog_product_sku_upper"),
        ]
        constraints = [
            # No live case twins (shoe-77 beside SHOE-77: export folders that collide on
            # macOS and Windows). The services refuse them first, naming the product
            # (``product_sku_twin``); this stops two saves racing past that check. Live rows
            # only: a deleted product keeps its SKU exactly (``unique``), and one in another
            # case may be made beside it; restoring it is refused while that one is live.
            models.UniqueConstraint(
                Upper("sku"), condition=models.Q(deleted_at__isnull=True),
                name="catalog_product_sku_upper_live", violation_error_code=SKU_CASE_TWIN,
                violation_error_message="A live product has this SKU in another case.",
            ),
        ]

    def __str__(self) -> str:
        return self.sku

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class JobStatus(models.TextChoices):
    """The one status vocabulary of every job kind (imports, cutout runs and batches,
    exports); the values are the stored ones, so every job table shares them."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
FINAL_STATUSES = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class RunState(models.Model):
    """Who runs a row and since when: the part every job kind shares (catalog.jobs writes
    it). ``run_token`` is set by the compare-and-set that starts a run; only the run holding
    it may report progress or finish; the reconciler reads ``worker`` and ``heartbeat_at``
    to tell a dead run from a slow one."""

    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    run_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Django gives every concrete job model this default manager; declared (typing only) so
    # catalog.jobs can query the model it is handed (the stubs give an abstract model none).
    objects: ClassVar[models.Manager[Self]]

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in FINAL_STATUSES


class Job(RunState):
    """A job with progress n/N and a message, polled by the UI; ``checkpoint`` says where a
    resumed run picks up after its worker died."""

    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=1000, blank=True)
    checkpoint = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 100 if self.is_finished else 0
        return min(100, round(100 * self.progress_done / self.progress_total))


class AssetStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    QUEUED = "queued", "Queued"
    CUT_OUT = "cut_out", "Cut out"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    NEEDS_RETOUCH = "needs_retouch", "Needs retouch"
    EXPORTED = "exported", "Exported"


class Position(models.TextChoices):
    MAIN = "MAIN", "Main"
    PT01 = "PT01", "PT01"
    PT02 = "PT02", "PT02"
    PT03 = "PT03", "PT03"
    PT04 = "PT04", "PT04"
    PT05 = "PT05", "PT05"
    PT06 = "PT06", "PT06"
    PT07 = "PT07", "PT07"
    PT08 = "PT08", "PT08"
    SWCH = "SWCH", "Swatch"


#: The positions an image without one takes, in this order (never the swatch): the import, the
#: preview and the upload page (as ``data-next-free-order``) plan by this one list.
NEXT_FREE_POSITIONS: tuple[str, ...] = tuple(p for p in Position.values if p != Position.SWCH)


class ImageAsset(models.Model):
    """One uploaded photo of a product.

    ``original_name`` is a content-addressed storage name that is written once and never
    overwritten; ``working_name`` is the normalised copy (8-bit sRGB PNG, EXIF-transposed)
    that cutouts read. Both are names in ``storages["default"]``.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="assets")
    position = models.CharField(max_length=4, choices=Position.choices, default=Position.MAIN)
    original_filename = models.CharField(max_length=255, blank=True)
    # The file's path in the import that stored it (a ZIP entry's, a server folder's, a
    # browser upload's relative path), as the team knows it: the import report names the
    # file by it. Empty for an image stored outside an import, and for rows from before the
    # column (migration 0015): not guessed from ``original_filename``.
    import_path = models.CharField(max_length=1024, blank=True, default="", editable=False)
    original_name = models.CharField(max_length=255, editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    bytes = models.BigIntegerField(editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    format = models.CharField(max_length=10, editable=False)
    colour_mode = models.CharField(max_length=16, editable=False)
    bit_depth = models.PositiveSmallIntegerField(default=8, editable=False)
    icc_profile_name = models.CharField("ICC profile", max_length=200, blank=True)
    exif_orientation = models.PositiveSmallIntegerField(default=1)
    working_name = models.CharField(max_length=255, editable=False)
    working_width = models.PositiveIntegerField(editable=False)
    working_height = models.PositiveIntegerField(editable=False)
    # When the file ``working_name`` names was written (database time): set by the row's
    # insert at ingest, which stores the file first, and by ``asset_working_copy_rebuild``.
    # The product page tells "rebuilt since the cutout failed reading it" by this, exactly
    # (a storage's file time may be whole seconds: S3). Null on rows from before the column
    # (migration 0011): ``selectors.working_copy_unreadable`` asks the storage for those.
    working_written_at = models.DateTimeField(null=True, blank=True, editable=False,
                                              db_default=Now())
    colour_note = models.CharField(max_length=500, blank=True)
    # True when the sRGB conversion rested on an assumption (untagged CMYK, broken profile).
    colour_flagged = models.BooleanField(default=False)
    # Single writer: the cutouts services. Catalog pages only read it.
    status = models.CharField(
        max_length=16, choices=AssetStatus.choices, default=AssetStatus.UPLOADED
    )
    import_job = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="assets"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = models.Manager()
    live = LiveManager()

    class Meta:
        ordering = ["product_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "sha256"],
                condition=models.Q(deleted_at__isnull=True),
                name="catalog_asset_unique_live_sha",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "product"], name="catalog_asset_status_product"),
            models.Index(fields=["product", "position"], name="catalog_asset_product_pos"),
            models.Index(fields=["sha256"], name="catalog_asset_sha256"),
            # the upload page's "already stored?" asks by byte count first
            # (selectors.asset_sizes_stored): live rows only, as it reads
            models.Index(fields=["bytes"], name="catalog_asset_bytes_live",
                         condition=models.Q(deleted_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}/{self.position} {self.sha256[:12]}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class ImportJob(Job):
    """A bulk import; the UI polls this row for progress, the report is its ``issues``."""

    class Source(models.TextChoices):
        ZIP = "zip", "ZIP archive"
        FOLDER = "folder", "Server folder"
        UPLOAD = "upload", "Browser upload"

    Status = JobStatus  # the old name, kept for callers

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    source_kind = models.CharField(max_length=8, choices=Source.choices)
    # ZIP/manifest uploaded through the app: names in storages["default"].
    source_name = models.CharField(max_length=255, blank=True)
    manifest_name = models.CharField(max_length=255, blank=True)
    # Server-side path, only ever set by the management command (trusted operator input).
    source_path = models.CharField(max_length=1024, blank=True)
    source_filename = models.CharField(max_length=255, blank=True)
    # Filename rules, create_products, manifest encoding: see import_job_create.
    options = models.JSONField(default=dict, blank=True)
    imported_count = models.PositiveIntegerField(default=0)
    # Of the imported, files that replaced an older image at their position (option replace).
    replaced_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    products_created = models.PositiveIntegerField(default=0)
    products_updated = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"], name="catalog_importjob_status")]

    def __str__(self) -> str:
        return f"import #{self.pk} ({self.get_source_kind_display()}, {self.status})"

    @property
    def cancel_finishing(self) -> bool:
        """Cancelled while a run holds the row: that run still ends the file in hand, then
        writes the final counts and "Cancelled after …" and clears its token
        (``import_runner._import_cancelled``; the reconciler does when the run died). The
        page keeps polling until then (QA 2026-12-07 qa42c L5: "Cancelled · 5 / 40" live,
        "6 / 40 · Cancelled after 6 of 40" after a reload)."""
        return self.status == JobStatus.CANCELLED and bool(self.run_token)


class ImportIssue(models.Model):
    class Level(models.TextChoices):
        ERROR = "error", "Error"
        WARNING = "warning", "Warning"

    class Kind(models.TextChoices):
        """What the report reads from an issue besides its words (``import_job_report_rows``)."""

        OTHER = "", "Other"
        DUPLICATE = "duplicate", "Duplicate of a stored image"
        REPLACED = "replaced", "Replaced an older image"
        NOT_IMPORTED = "not-imported", "Not reached: the import was cancelled"
        IDENTICAL = "identical", "Identical to another product's image"

    class Lead(models.TextChoices):
        """What a duplicate's words say before its stored copy's (``assets.duplicate_words``),
        kept so they are composed again from the row's columns when the copy moves
        (``imports._issues_positions_settle``), never found in the text. ``NONE``: not a
        duplicate, or one in words of its own (older wording): its words are left whole."""

        NONE = "", "None: words left whole"
        ARRIVED = "arrived", "Sent, and found already stored"
        NOT_SENT = "not-sent", "Not sent: the upload page found it already stored"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    filename = models.CharField(max_length=512)
    reason = models.TextField()
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.ERROR)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OTHER, blank=True)
    lead = models.CharField(max_length=16, choices=Lead.choices, default=Lead.NONE, blank=True)
    # The image the file's row is about: its stored copy (duplicate), the new image that
    # replaced an older one (replaced). Plain values, not a foreign key: the report keeps
    # saying what happened after purge removes the image.
    sku = models.CharField(max_length=64, blank=True, default="")
    position = models.CharField(max_length=4, blank=True, default="")
    asset_pk = models.PositiveBigIntegerField(null=True, blank=True)
    # The other image the row's words name (identical: another product's image with the
    # file's bytes), as they name it: when a session's end moves that image, the words are
    # composed again from these (``imports._issues_positions_settle``), never found in the text.
    named_sku = models.CharField(max_length=64, blank=True, default="")
    named_position = models.CharField(max_length=4, blank=True, default="")
    named_pk = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "level"], name="catalog_issue_job_level")]

    def __str__(self) -> str:
        return f"{self.level}: {self.filename}: {self.reason}"



class ProductBulkEdit(Job):
    """A products CSV bulk edit (``services.product_bulk``), run by a worker chunk by chunk;
    the page polls this row. ``checkpoint["chunk"]``: the next chunk to apply, committed
    with the chunk before it, so a resumed run neither applies a line twice nor skips one."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # The uploaded CSV: a name in storages["default"] (private), read by the worker.
    source_name = models.CharField(max_length=255)
    source_filename = models.CharField(max_length=255, blank=True)
    encoding = models.CharField(max_length=16, default="utf-8")
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    unknown_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"], name="catalog_bulkedit_status")]

    def __str__(self) -> str:
        return f"bulk edit #{self.pk} ({self.status})"


class ProductBulkLine(models.Model):
    """One applied line of a bulk edit and its outcome (``product_bulk.BulkEditLine``)."""

    job = models.ForeignKey(ProductBulkEdit, on_delete=models.CASCADE, related_name="lines")
    line = models.PositiveIntegerField()
    sku = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16)
    message = models.TextField(blank=True)
    # Plain values, not foreign keys (as ``ImportIssue.asset_pk``): the report outlives a
    # purge. ``product_pk``: the product an updated or unchanged line claimed (a resumed run
    # rebuilds its duplicate check from these); ``gtin_product``: the product whose GTIN the
    # line changed (the page adds the shared-GTIN warning when it reads the line).
    product_pk = models.PositiveBigIntegerField(null=True, blank=True)
    gtin_product = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["line"]
        indexes = [
            models.Index(fields=["job", "line"], name="catalog_bulkline_job_line"),
            models.Index(fields=["job", "outcome", "line"], name="catalog_bulkline_job_outcome"),
        ]

    def __str__(self) -> str:
        return f"line {self.line} {self.sku}: {self.outcome}"


# API keys, idempotency and webhooks (catalog/api_models.py), registered with this app.
from .api_models import (  # noqa: E402, F401
    ApiKey,
    IdempotencyRecord,
    WebhookDelivery,
    WebhookSubscription,
)

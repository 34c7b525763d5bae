import uuid

from django.db import models

# One job vocabulary for every kind, defined in the lowest layer; re-exported for callers.
from catalog.jobs import run_stage_label
from catalog.models import ACTIVE_STATUSES, FINAL_STATUSES, Job, JobStatus, RunState  # noqa: F401


class WorkerPing(models.Model):
    """A round trip through the broker, proving a separate worker process is consuming."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_at = models.DateTimeField(auto_now_add=True)
    requested_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    worker_hostname = models.CharField(max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    worker_ppid = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"ping {self.token}"


class CutoutQueue(models.TextChoices):
    BULK = "cutouts", "Bulk"
    INTERACTIVE = "cutouts-interactive", "Interactive"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Awaiting review"
    APPROVED = "approved", "Approved"
    FLAGGED = "flagged", "Needs retouch"
    SUPERSEDED = "superseded", "Superseded"


class FlagReason(models.TextChoices):
    HALO = "halo", "Halo / white fringe"
    EDGES_HARD = "edges_hard", "Edges too hard"
    EDGES_SOFT = "edges_soft", "Edges too soft"
    LOST_DETAIL = "lost_detail", "Lost fine detail"
    SHADOW_REMOVED = "shadow_removed", "Shadow removed"
    TRANSPARENCY = "transparency", "Transparency wrong"
    WRONG_SUBJECT = "wrong_subject", "Wrong subject"
    # the commonest failures of QA's sets (a teddy's sweater cut off; people kept beside a
    # ramp) went under "Other" with a comment, which nobody can filter or count on
    PART_MISSING = "part_missing", "Part of the product missing"
    EXTRA_KEPT = "extra_kept", "Background or another object kept"
    OTHER = "other", "Other"


#: Flags saying a whole region is wrong (not its edge): the review card, the note after the
#: flag and the retouch page give the clicks that fix it (``_subject_hint.html``).
SUBJECT_REASONS = frozenset({FlagReason.WRONG_SUBJECT, FlagReason.PART_MISSING,
                             FlagReason.EXTRA_KEPT})


class CutoutBatch(Job):
    """A set of cutouts started together; its progress is counted from its cutout rows."""

    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    label = models.CharField(max_length=200, blank=True)
    profile = models.CharField(max_length=40, default="default")
    settings = models.JSONField(default=dict)
    queue = models.CharField(max_length=24, choices=CutoutQueue.choices, default=CutoutQueue.BULK)
    status = models.CharField(
        max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    total = models.PositiveIntegerField(default=0)
    #: selected images a plain start left out as already cut ("Cut again" would cut them)
    skipped = models.PositiveIntegerField(default=0)
    #: selected images a "cut again" start left out as queued or running with these settings
    skipped_running = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "cutout batches"

    def __str__(self) -> str:
        return self.label or f"Batch {self.pk}"


#: The one definition of a live version: neither its image nor the image's product is
#: soft-deleted. Every list, page, card and bulk action on cutouts filters by it.
CUTOUT_LIVE = models.Q(asset__deleted_at__isnull=True, asset__product__deleted_at__isnull=True)

#: the versions a retouch ended "unchanged" (``Cutout.is_unchanged``): cancelled by their run,
#: not by anyone's Cancel, so neither they nor their batch read failed or cancelled
CUTOUT_UNCHANGED = models.Q(is_unchanged=True)

#: the versions cancelled because their image or product was deleted
#: (``batches.cutouts_cancel_deleted``, or their run finding it gone): nobody's Cancel, so
#: counted apart from the cancelled ones, and no "Restart cancelled" brings them back
CUTOUT_GONE = models.Q(status=JobStatus.CANCELLED, is_unchanged=False) & (
    models.Q(asset__deleted_at__isnull=False) | models.Q(asset__product__deleted_at__isnull=False))

#: longest stage phrase a running cutout shows ("Refining edges"; ``imaging.progress``)
CUTOUT_STAGE_MAX = 60


class Cutout(RunState):
    """Version ``version`` of an asset's cutout. Rows are never overwritten by a re-run:
    other settings make a new version; a retry re-queues this row (attempts + 1)."""

    class Source(models.TextChoices):
        MODEL = "model", "Model"
        # Strokes and an uploaded PNG both make a retouch version (upload_name tells them
        # apart): the label names neither alone.
        RETOUCH = "retouch", "Retouch (strokes or upload)"

    asset = models.ForeignKey(
        "catalog.ImageAsset", on_delete=models.PROTECT, related_name="cutouts"
    )
    batch = models.ForeignKey(
        CutoutBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="cutouts"
    )
    version = models.PositiveIntegerField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MODEL)
    settings = models.JSONField(default=dict)
    profile = models.CharField(max_length=40, blank=True)
    model_name = models.CharField(max_length=60, blank=True)
    model_version = models.CharField(max_length=120, blank=True)
    queue = models.CharField(max_length=24, choices=CutoutQueue.choices, default=CutoutQueue.BULK)
    rgba_name = models.CharField(max_length=255, blank=True)
    mask_name = models.CharField(max_length=255, blank=True)
    shadow_name = models.CharField(max_length=255, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    bbox = models.JSONField(null=True, blank=True)
    signals = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=1000, blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    time_limit = models.PositiveIntegerField(default=660)
    # While it runs: the stage it is in and how far the whole run is (0-100), written by the
    # run holding the token (services.runs.RunProgress) for the pending notes' bar; 100 and
    # no stage once done.
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=CUTOUT_STAGE_MAX, blank=True)
    # Review: the approved (or chosen) version is the asset's current one; before any
    # approval the asset follows its newest version.
    review_status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    is_current = models.BooleanField(default=False)
    # Ended without a result because a retouch's result was its parent's picture pixel for
    # pixel: no failure, nothing to retry (``CUTOUT_UNCHANGED``). Stored with the cancelled
    # status by the same write, so what counts and filters read is this fact, never the
    # wording of ``error``, which is for people only (services.retouch.NOTHING_CHANGED).
    is_unchanged = models.BooleanField(default=False)
    # Failed because its run could not read the image's working copy (missing from storage,
    # truncated, corrupt: ``errors.WorkingCopyError``): the product page offers a rebuild and
    # then links the batches to retry (``catalog.selectors.product_detail_assets``). Stored
    # with the failed status by the same write and cleared by the retry's, so the page reads
    # this fact, never the wording of ``error``, which is for people only.
    working_copy_failed = models.BooleanField(default=False)
    # Set when an export shipped this version; the asset then reads "exported".
    exported_at = models.DateTimeField(null=True, blank=True)
    flag_reasons = models.JSONField(default=list, blank=True)
    preflags = models.JSONField(default=list, blank=True)  # engine-raised, for reviewers
    risk = models.FloatField(default=0.0, db_index=True)  # higher = review first
    reviewed_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
        help_text="The version a re-run or retouch started from.",
    )
    # A retouched version is computed by a worker from its parent: either these strokes
    # (cutouts.imaging.strokes JSON, full-resolution pixels of the working copy) or an
    # uploaded corrected PNG waiting in storage.
    strokes = models.JSONField(default=list, blank=True)
    upload_name = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["asset_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "version"], name="cutout_unique_version"),
            models.UniqueConstraint(
                fields=["asset"], condition=models.Q(is_current=True),
                name="cutout_one_current_per_asset",
            ),
            # an unchanged version is a cancelled one: no write can leave the fact on a row
            # whose status says otherwise
            models.CheckConstraint(
                condition=models.Q(is_unchanged=False) | models.Q(status=JobStatus.CANCELLED),
                name="cutout_unchanged_is_cancelled",
            ),
            # a working-copy failure is a failed version: a retry that re-queues the row
            # without clearing the fact is refused, not left offering a rebuild
            models.CheckConstraint(
                condition=models.Q(working_copy_failed=False) | models.Q(status=JobStatus.FAILED),
                name="cutout_working_copy_failed_is_failed",
            ),
        ]
        indexes = [
            models.Index(fields=["batch", "status"]),
            models.Index(fields=["status", "queue"]),
            models.Index(fields=["status", "review_status", "-risk"]),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} v{self.version}"

    @property
    def stage_label(self) -> str:
        """The running stage as the pending notes show it (``catalog.jobs.run_stage_label``)."""
        return run_stage_label(self.stage, self.attempts)

    @property
    def can_approve(self) -> bool:
        """Approve applies: a finished version not yet approved (waiting, flagged or passed
        over). The one rule the review card shows and ``cutout_approve`` checks."""
        return self.status == JobStatus.DONE and self.review_status != ReviewStatus.APPROVED


class Notification(models.Model):
    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.text


class ReviewDecision(models.Model):
    """Audit trail: every review action, who, when, on which version, why."""

    class Action(models.TextChoices):
        APPROVE = "approve", "Approved"
        FLAG = "flag", "Flagged for retouch"
        CHOOSE = "choose", "Chose version"
        RERUN = "rerun", "Re-ran"
        RETOUCH = "retouch", "Uploaded retouch"
        STROKES = "strokes", "Refined with strokes"
        PREFLAG_CONFIRM = "preflag_confirm", "Confirmed pre-flag"
        PREFLAG_DISMISS = "preflag_dismiss", "Dismissed pre-flag"
        UNDO = "undo", "Undid a decision"

    cutout = models.ForeignKey(Cutout, on_delete=models.CASCADE, related_name="decisions")
    asset = models.ForeignKey(
        "catalog.ImageAsset", on_delete=models.CASCADE, related_name="review_decisions"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    reasons = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    user = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # What an approval or a flag changed, so its Undo can put it back (services.review):
    # the version's review fields before it, the version that was current and the versions
    # it answered with their statuses; an Undo's names the decision it took back
    # ({"undid": pk}: lineage). Empty for other actions and older rows (no Undo).
    before = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["asset", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} v{self.cutout.version}"


class Preset(models.Model):
    """A named export spec (seeded from cutouts.variants.presets, editable in the admin)."""

    name = models.SlugField(max_length=60, unique=True)
    label = models.CharField(max_length=120)
    spec = models.CharField(max_length=500)
    naming = models.CharField(max_length=300)
    rules = models.JSONField(default=dict, blank=True)
    sources = models.TextField(blank=True, help_text="Where each rule comes from.")
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.label or self.name


class Rendition(models.Model):
    """One cutout version rendered with one spec; cached and checked."""

    cutout = models.ForeignKey(Cutout, on_delete=models.CASCADE, related_name="renditions")
    spec = models.CharField(max_length=500)  # canonical form
    cache_key = models.CharField(max_length=64, db_index=True)
    file_name = models.CharField(max_length=255)
    format = models.CharField(max_length=8)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveBigIntegerField()
    # Indexed: the contact sheet finds a rendition by the hash in its thumbnail URL.
    sha256 = models.CharField(max_length=64, db_index=True)
    fill_pct = models.FloatField(null=True, blank=True)
    compliance_ok = models.BooleanField(default=True)
    compliance = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cutout", "spec"], name="rendition_unique_spec"),
        ]

    def __str__(self) -> str:
        return f"{self.cutout} {self.spec}"


class ExportJob(Job):
    class Destination(models.TextChoices):
        DOWNLOAD = "download", "ZIP to download"
        FOLDER = "folder", "Folder in export storage"

    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    presets = models.JSONField(default=list)  # preset names
    filters = models.JSONField(default=dict, blank=True)  # product ids, brand, approved_since
    dry_run = models.BooleanField(default=False)
    include_failing = models.BooleanField(default=False)
    destination = models.CharField(
        max_length=10, choices=Destination.choices, default=Destination.DOWNLOAD
    )
    folder = models.CharField(max_length=255, blank=True)
    exported_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    zip_name = models.CharField(max_length=255, blank=True)
    manifest_name = models.CharField(max_length=255, blank=True)
    # Collisions, excluded variants (with reasons) and per-run errors, for the job page.
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Export {self.pk}"


class Background(models.Model):
    """A library background or logo for scenes (``bg-<slug>``, ``logo-<slug>-<corner>``)."""

    class Kind(models.TextChoices):
        BACKGROUND = "background", "Background"
        LOGO = "logo", "Logo"

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.BACKGROUND)
    image_name = models.CharField(max_length=255)  # in storages["default"]
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    #: where products stand, % of the height from the top; light: degrees, y up, 0 = right
    floor_pct = models.FloatField(default=75.0)
    light_deg = models.FloatField(default=90.0)
    floor_estimated = models.FloatField(null=True, blank=True)
    light_estimated = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey("auth.User", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class RefusedVariant(models.Model):
    """One file a finished real export refused for one image: which preset and why, in short
    (``export_selectors.refusal_reason``). A row per refusal, not a list in the job's report:
    at about 100 bytes each, 10,000 refused files made a report of about a megabyte, read back
    with every job row (the recent-exports page reads 50). The product page and the review
    card read an image's latest refusals by its index; the export's page reads its counts per
    preset and reason from ``ExportJob.report["presets"]``, which stays small."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="refusals")
    # indexed by (asset, job) below, which serves the image's own lookups too
    asset = models.ForeignKey("catalog.ImageAsset", on_delete=models.CASCADE,
                              related_name="+", db_index=False)
    preset = models.CharField(max_length=120)  # the preset's name ("walmart", "spec:…" cut)
    label = models.CharField(max_length=200)  # as the note names it ("Walmart")
    reason = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["asset", "job"], name="refusal_asset_job")]

    def __str__(self) -> str:
        return f"{self.job} refused {self.preset} of asset {self.asset_id}"

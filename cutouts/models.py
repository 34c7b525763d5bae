import uuid

from django.db import models


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


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
FINAL_STATUSES = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class CutoutQueue(models.TextChoices):
    BULK = "cutouts", "Bulk"
    INTERACTIVE = "cutouts-interactive", "Interactive"


class CutoutBatch(models.Model):
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
    message = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.label or f"Batch {self.pk}"


class Cutout(models.Model):
    """Version ``version`` of an asset's cutout. Rows are never overwritten by a re-run:
    other settings make a new version; a retry re-queues this row (attempts + 1)."""

    class Source(models.TextChoices):
        MODEL = "model", "Model"
        RETOUCH = "retouch", "Retouched upload"

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
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    queue = models.CharField(max_length=24, choices=CutoutQueue.choices, default=CutoutQueue.BULK)
    attempts = models.PositiveIntegerField(default=0)
    # Set by the compare-and-set that starts a run; only the run holding it may finish the row.
    run_token = models.CharField(max_length=32, blank=True)
    worker = models.CharField(max_length=255, blank=True)
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
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    time_limit = models.PositiveIntegerField(default=660)

    class Meta:
        ordering = ["asset_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "version"], name="cutout_unique_version"),
        ]
        indexes = [
            models.Index(fields=["batch", "status"]),
            models.Index(fields=["status", "queue"]),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} v{self.version}"


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

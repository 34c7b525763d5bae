"""Rows behind the REST API and webhooks: API keys, idempotency records, webhook
subscriptions and deliveries. They live in ``catalog`` (the lowest layer) so that both apps
can authenticate requests and emit events without importing each other."""

from django.conf import settings
from django.db import models


class ApiScope(models.TextChoices):
    READ_ONLY = "read_only", "Read-only"
    REVIEWER = "reviewer", "Reviewer"
    MANAGER = "manager", "Manager"


class ApiKey(models.Model):
    """A per-user key. Only ``prefix`` (to find the row) and a SHA-256 of the secret are
    stored: the full key is shown once, at creation. A key never grants more than its
    owner's role, whatever its scope says."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scope = models.CharField(max_length=10, choices=ApiScope.choices,
                             default=ApiScope.READ_ONLY)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Requests per minute; empty means the site default (CUTROOM_API_RATE_PER_MINUTE).
    rate_per_minute = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class IdempotencyRecord(models.Model):
    """The first answer to a creating POST with an ``Idempotency-Key``; repeats replay it."""

    owner = models.CharField(max_length=40)  # "key:<id>" or "user:<id>"
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # null: in flight
    body = models.BinaryField(blank=True, default=b"")
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_unique_key"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


class WebhookEvent(models.TextChoices):
    IMAGE_STORED = "image.stored", "Image stored"
    IMPORT_FINISHED = "import.finished", "Import finished"
    CUTOUT_DONE = "cutout.done", "Cutout done"
    CUTOUT_FAILED = "cutout.failed", "Cutout failed"
    CUTOUT_APPROVED = "cutout.approved", "Cutout approved"
    CUTOUT_FLAGGED = "cutout.flagged", "Cutout flagged"
    EXPORT_FINISHED = "export.finished", "Export finished"


class WebhookSubscription(models.Model):
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    # Standard Webhooks secret ("whsec_" + base64); needed in clear to sign.
    secret = models.CharField(max_length=100, editable=False)
    # After a rotation the replaced secret keeps signing (alongside the new one) until
    # ``previous_secret_expires_at``, so receivers can switch without dropping events.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    failure_streak = models.PositiveIntegerField(default=0)
    # When the current run of failed attempts began (None after a success): the endpoint is
    # disabled only once it has failed for the whole retry window, not after a burst.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one subscription; ``attempts_log`` is the delivery log (one entry per
    attempt: time, response code or error, duration). ``msg_id`` sorts by creation time and
    stays the same across retries, as Standard Webhooks requires."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE,
                                     related_name="deliveries")
    msg_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    attempts_log = models.JSONField(default=list, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_sub"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.msg_id}"

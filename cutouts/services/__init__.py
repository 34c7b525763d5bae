"""Writes for the cutouts app, one module per area: jobs (batches, runs, recovery),
review (approve, flag, versions, retouch) and export (renditions, export jobs)."""

from .jobs import (  # noqa: F401
    PermanentError,
    TransientError,
    cutout_batch_cancel,
    cutout_batch_refresh,
    cutout_batch_retry_failed,
    cutout_batch_start,
    cutout_fail_timeout,
    cutout_rerun,
    cutout_run,
    cutout_settings_resolve,
    cutouts_reconcile,
    notification_create,
    notification_mark_read,
    worker_ping_answer,
    worker_ping_create,
)
from .review import ReviewError, cutout_approve, cutout_choose, cutout_flag  # noqa: F401, E402

"""Reads for the cutouts app, one module per area (jobs, review, export)."""

from .jobs import (  # noqa: F401
    BatchProgress,
    assets_for_cutout,
    cutout_batch_counts,
    cutout_batch_failures,
    cutout_batch_list,
    cutout_batch_progress,
    cutout_versions,
    notification_unread,
    notification_unread_count,
    worker_ping_recent,
)
from .review import cutouts_approved_current  # noqa: F401, E402

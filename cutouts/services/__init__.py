"""Writes for the cutouts app, one module per area: jobs (batches, runs, recovery),
review (approve, flag, versions, retouch) and export (renditions, export jobs)."""

from .export import (  # noqa: F401
    ExportCollisionError,
    ExportError,
    export_job_cancel,
    export_job_claim,
    export_job_create,
    export_job_is_final,
    export_job_run,
    preset_seed,
    rendition_get_or_create,
)
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
from .review import (  # noqa: F401, E402
    PREFLAGS,
    STRENGTHS,
    ReviewError,
    cutout_approve,
    cutout_choose,
    cutout_flag,
    cutout_image,
    cutout_preflag_resolve,
    cutout_retouch_compute,
    cutout_retouch_preview,
    cutout_retouch_strokes,
    cutout_retouch_upload,
    cutout_review_rerun,
    cutouts_bulk_approve,
    preflags_from_signals,
)
from .status import asset_status_sync, assets_status_sync  # noqa: F401, E402

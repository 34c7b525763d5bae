from django.db.models import QuerySet

from ..models import Cutout, JobStatus, ReviewStatus


def cutouts_approved_current() -> QuerySet[Cutout]:
    """The version of each live asset that export uses: approved and current."""
    return Cutout.objects.filter(
        is_current=True, review_status=ReviewStatus.APPROVED, status=JobStatus.DONE,
        asset__deleted_at__isnull=True, asset__product__deleted_at__isnull=True,
    ).select_related("asset", "asset__product")

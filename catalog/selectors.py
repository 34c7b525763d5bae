import csv
import io

from django.core.files import File
from django.core.files.storage import storages
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from .ingest.manifest import csv_safe_row
from .models import AssetStatus, ImageAsset, ImportIssue, ImportJob, Product
from .roles import MANAGER, REVIEWER


def user_role_names(*, user) -> list[str]:
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return [MANAGER]
    return sorted(
        name for name in user.groups.values_list("name", flat=True) if name in (MANAGER, REVIEWER)
    )


# --- Catalog reads ---------------------------------------------------------------------------


def product_get(*, pk: int | None = None, sku: str | None = None) -> Product:
    """A live product; raises Product.DoesNotExist."""
    if pk is not None:
        return Product.live.get(pk=pk)
    return Product.live.get(sku=sku)


def product_list(
    *, search: str = "", brand: str = "", category: str = "", status: str = "",
    with_assets: bool = True,
) -> QuerySet[Product]:
    """Live products, SKU order, with ``asset_count`` and live assets prefetched.

    ``status`` keeps products having at least one live asset in that status. Always two
    queries when iterated (products + assets), whatever the page size.
    """
    qs = Product.live.all()
    search = (search or "").strip()
    if search:
        condition = Q(sku__icontains=search) | Q(title__icontains=search)
        if search.replace(" ", "").isdigit():
            condition |= Q(gtin__startswith=search.replace(" ", ""))
        qs = qs.filter(condition)
    if brand:
        qs = qs.filter(brand=brand)
    if category:
        qs = qs.filter(category=category)
    if status:
        qs = qs.filter(
            Exists(ImageAsset.live.filter(product=OuterRef("pk"), status=status))
        )
    qs = qs.annotate(
        asset_count=Count("assets", filter=Q(assets__deleted_at__isnull=True))
    )
    if with_assets:
        qs = qs.prefetch_related(
            Prefetch("assets", queryset=ImageAsset.live.order_by("position", "id"),
                     to_attr="live_assets")
        )
    return qs.order_by("sku")


def product_facets() -> dict[str, list[str]]:
    """Distinct brands and categories of live products, for filter drop-downs."""
    live = Product.live.all()
    return {
        "brands": list(live.exclude(brand="").order_by("brand").values_list("brand", flat=True)
                       .distinct()),
        "categories": list(live.exclude(category="").order_by("category")
                           .values_list("category", flat=True).distinct()),
    }


def asset_status_counts() -> dict[str, int]:
    """Live assets per status, every status present (zero if none)."""
    counts = dict.fromkeys(AssetStatus.values, 0)
    rows = (
        ImageAsset.live.filter(product__deleted_at__isnull=True)
        .values_list("status").annotate(n=Count("id")).order_by()
    )
    counts.update(dict(rows))
    return counts


def asset_list(*, product: Product) -> QuerySet[ImageAsset]:
    return ImageAsset.live.filter(product=product).order_by("position", "id")


def asset_get(*, pk: int, include_deleted: bool = False) -> ImageAsset:
    manager = ImageAsset.objects if include_deleted else ImageAsset.live
    return manager.select_related("product").get(pk=pk)


def asset_working_open(*, asset: ImageAsset) -> File:
    """The normalised working copy (8-bit sRGB PNG, upright): what cutouts read."""
    return storages["default"].open(asset.working_name, "rb")


def asset_original_open(*, asset: ImageAsset) -> File:
    return storages["default"].open(asset.original_name, "rb")


def import_job_get(*, pk: int) -> ImportJob:
    return ImportJob.objects.get(pk=pk)


def import_job_progress(*, pk: int) -> dict:
    """A small dict for polling views (JSON or an htmx partial)."""
    job = ImportJob.objects.get(pk=pk)
    return {
        "id": job.pk, "status": job.status, "finished": job.is_finished,
        "done": job.progress_done, "total": job.progress_total, "percent": job.percent,
        "imported": job.imported_count, "duplicates": job.duplicate_count,
        "errors": job.error_count, "warnings": job.warning_count,
        "products_created": job.products_created, "message": job.message,
    }


def import_job_issues(*, job: ImportJob, level: str | None = None) -> QuerySet[ImportIssue]:
    qs = job.issues.all()
    return qs.filter(level=level) if level else qs


def import_job_report_csv(*, job: ImportJob) -> str:
    """The per-file report as CSV; every cell escaped against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["filename", "level", "reason"])
    for issue in job.issues.order_by("id").iterator():
        writer.writerow(csv_safe_row([issue.filename, issue.level, issue.reason]))
    return out.getvalue()

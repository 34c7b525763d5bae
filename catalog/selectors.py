import csv
import io
from dataclasses import dataclass

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


# --- Browsing pages (catalog views) -----------------------------------------------------------

PAGE_SIZE = 50


@dataclass
class ProductPage:
    """One keyset page of the product list: ``products`` carry ``live_assets``,
    ``asset_count`` and ``status_counts`` ([(status, label, n)]) set in Python."""

    products: list[Product]
    total: int
    next_after: str = ""
    prev_before: str = ""
    first: bool = True


def _products_filtered(
    *, search: str = "", brand: str = "", category: str = "", status: str = ""
) -> QuerySet[Product]:
    """The filters of ``product_list`` without its aggregate: a GROUP BY over the whole
    filtered set is what makes deep pages slow, so counts are taken on the page only."""
    qs = Product.live.all()
    search = (search or "").strip()
    if search:
        condition = Q(sku__icontains=search) | Q(title__icontains=search)
        digits = search.replace(" ", "")
        if digits.isdigit():
            condition |= Q(gtin__startswith=digits)
        qs = qs.filter(condition)
    if brand:
        qs = qs.filter(brand=brand)
    if category:
        qs = qs.filter(category=category)
    if status:
        qs = qs.filter(Exists(ImageAsset.live.filter(product=OuterRef("pk"), status=status)))
    return qs


def product_page(
    *, search: str = "", brand: str = "", category: str = "", status: str = "",
    after: str = "", before: str = "", size: int = PAGE_SIZE, with_total: bool = True,
) -> ProductPage:
    """A page of live products in SKU order, keyset-paginated on the unique SKU index.

    ``after``/``before`` are SKUs of the neighbouring page's edge, so page 1,000 costs what
    page 1 costs (no OFFSET scan). At most four queries whatever the page: the page, the
    assets of its products, a probe for an earlier page (only with ``after``), the total.
    """
    qs = _products_filtered(search=search, brand=brand, category=category, status=status)
    if before:
        rows = list(qs.filter(sku__lt=before).order_by("-sku")[: size + 1])
        has_more_back = len(rows) > size
        products = list(reversed(rows[:size]))
        has_next, has_prev = True, has_more_back
    else:
        window = qs.filter(sku__gt=after) if after else qs
        rows = list(window.order_by("sku")[: size + 1])
        products = rows[:size]
        has_next = len(rows) > size
        has_prev = bool(after) and bool(products) and qs.filter(sku__lt=products[0].sku).exists()
    _attach_assets(products)
    return ProductPage(
        products=products,
        # The COUNT scans the whole filtered set: the API skips it unless asked (-1).
        total=qs.count() if with_total else -1,
        next_after=products[-1].sku if products and has_next else "",
        prev_before=products[0].sku if products and has_prev else "",
        first=not has_prev,
    )


def _attach_assets(products: list[Product]) -> None:
    """One query for the live assets of every product on the page."""
    by_product: dict[int, list[ImageAsset]] = {p.pk: [] for p in products}
    if by_product:
        for asset in ImageAsset.live.filter(product_id__in=list(by_product)).order_by(
            "product_id", "position", "id"
        ):
            by_product[asset.product_id].append(asset)
    for product in products:
        assets = by_product[product.pk]
        product.live_assets = assets
        product.asset_count = len(assets)
        counts: dict[str, int] = {}
        for asset in assets:
            counts[asset.status] = counts.get(asset.status, 0) + 1
        # In life-cycle order, with labels, ready for badges.
        product.status_counts = [
            (value, label, counts[value]) for value, label in AssetStatus.choices
            if value in counts
        ]


def product_detail_assets(*, product: Product) -> list[ImageAsset]:
    """Live assets of one product for its page, with who uploaded them (one query)."""
    return list(
        ImageAsset.live.filter(product=product).select_related("uploaded_by")
        .order_by("position", "id")
    )


def asset_get_for_product(*, product_pk: int, pk: int) -> ImageAsset:
    """A live asset of a live product; raises ImageAsset.DoesNotExist."""
    return ImageAsset.live.select_related("product").get(
        pk=pk, product_id=product_pk, product__deleted_at__isnull=True
    )


def import_job_list(*, limit: int = 50) -> list[ImportJob]:
    return list(ImportJob.objects.select_related("created_by").order_by("-created_at")[:limit])


def import_job_products(*, job: ImportJob, limit: int = 200) -> list[Product]:
    """Live products that received assets from this import, SKU order."""
    return list(
        Product.live.filter(assets__import_job=job, assets__deleted_at__isnull=True)
        .distinct().order_by("sku")[:limit]
    )


def thumbnail_open(*, name: str) -> File:
    """A stored thumbnail, for streaming by a permission-checked view."""
    return storages["default"].open(name, "rb")


def thumbnail_signed_url(*, name: str) -> str | None:
    """A short-lived signed URL when storage is S3, so the app need not proxy the bytes;
    None on local disk, whose files have no public URL (media is private)."""
    storage = storages["default"]
    if getattr(storage, "querystring_auth", False) and hasattr(storage, "bucket_name"):
        return storage.url(name)
    return None

import contextlib
import csv
import dataclasses
import itertools
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import EllipsisType
from typing import TypedDict

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from .api_models import ApiKey
from .gtin import product_gtin_warning
from .ingest import archives, images
from .ingest.manifest import Manifest, csv_safe_row
from .ingest.naming import (
    FilenameRules,
    Known,
    NamingError,
    Unmapped,
    file_target,
    fold_sku,
    known_usable,
    lookalike_warning,
    manifest_case_twins,
    manifest_case_variants,
    manifest_claim_text,
    manifest_claims,
    position_order_name,
    sku_known,
    sku_prefixes,
)
from .ingest.skus import sku_valid
from .jobs import run_stage_label
from .models import (
    ACTIVE_STATUSES,
    NEXT_FREE_POSITIONS,
    AssetStatus,
    ImageAsset,
    ImportIssue,
    ImportJob,
    JobStatus,
    Product,
    ProductBulkEdit,
    ProductBulkLine,
)
from .roles import MANAGER, REVIEWER
from .services.assets import (
    OVERFLOW_POSITION,
    ingest_limits,
    position_kept,
    position_taken_reason,
    position_taken_text,
)
from .services.import_mapping import (
    NAME_REFUSAL_UNREAD_NOTE,
    SKU_RULE,
    UNSEEN_CONTENT_NOTE,
    manifest_product_new,
)
from .services.import_runner import archive_limits
from .services.imports import EXPECTED_FILES
from .services.product_bulk import BulkEditLine, BulkEditReport
from .services.products import products_sku_folded


def user_role_names(*, user) -> list[str]:
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return [MANAGER]
    return sorted(
        name for name in user.groups.values_list("name", flat=True) if name in (MANAGER, REVIEWER)
    )


# --- Catalog reads ---------------------------------------------------------------------------


def product_get(*, pk: int | None = None, sku: str | None = None,
                include_deleted: bool = False) -> Product:
    """A live product (or any, with ``include_deleted``); raises Product.DoesNotExist."""
    manager = Product.objects if include_deleted else Product.live
    if pk is not None:
        return manager.get(pk=pk)
    return manager.get(sku=sku)


def product_get_typed(*, sku: str) -> Product:
    """The live product a SKU typed by a person (the upload page's "send every file to one
    product", the API's by-SKU read) names, matched as the import matches a SKU read from a
    file (``naming.sku_known``): exactly, else the one live product equal ignoring case. One
    policy, so ``qa001`` finds QA001 here as it does in a file name. Raises
    Product.DoesNotExist with the reason to show: no such product, a deleted one, or several
    live case twins (never one of them by a guess)."""
    sku = sku.strip()
    rows = {p.sku: p for p in products_sku_folded([sku])}
    answer = sku_known(sku, [(s, p.deleted_at is not None) for s, p in rows.items()])
    if answer is None:
        raise Product.DoesNotExist(f"No product with SKU {sku}.")
    found = answer if isinstance(answer, Known) else Known(state=answer, sku=sku)
    try:
        return rows[known_usable(sku, found).sku]
    except Unmapped as exc:
        raise Product.DoesNotExist(str(exc)) from None


def product_bulk_report_warned(*, report: BulkEditReport) -> BulkEditReport:
    """``report`` (a bulk edit's stored lines) with ``product_gtin_warning`` added
    to each line that changed a product's GTIN, as the form pages warn after their save (the
    service writes; a service may not import this module). Read once the whole file is
    applied, so it names the products that share the GTIN now, not midway through the
    file."""
    changed = {line.gtin_product for line in report.lines if line.gtin_product is not None}
    if not changed:
        return report
    products = Product.objects.in_bulk(changed)
    warnings = {pk: product_gtin_warning(product=product) for pk, product in products.items()}
    return dataclasses.replace(report, lines=[
        dataclasses.replace(line, message=f"{line.message}. Warning: {warning}")
        if line.gtin_product is not None and (warning := warnings.get(line.gtin_product, ""))
        else line
        for line in report.lines])


def product_bulk_edit_get(*, pk: int) -> ProductBulkEdit:
    return ProductBulkEdit.objects.get(pk=pk)


def product_bulk_edit_list(*, limit: int = 10) -> list[ProductBulkEdit]:
    return list(ProductBulkEdit.objects.select_related("created_by").order_by("-pk")[:limit])


def _bulk_lines_warned(rows: Iterable[ProductBulkLine]) -> list[BulkEditLine]:
    """Stored lines as the report's lines, with the shared-GTIN warning read now
    (``product_bulk_report_warned``: the one rule, as the page had it when it ran the edit)."""
    lines = [BulkEditLine(line=r.line, sku=r.sku, outcome=r.outcome, message=r.message,
                          gtin_product=r.gtin_product, product=r.product_pk) for r in rows]
    return product_bulk_report_warned(report=BulkEditReport(lines=lines)).lines


def _bulk_problem_lines(job: ProductBulkEdit) -> QuerySet[ProductBulkLine]:
    """The lines a manager has to look at: unknown SKUs, invalid lines, and lines that gave
    a product a GTIN another live product has now (``product_gtin_warning``'s condition, in
    SQL, so a 30,000-line edit is not read to find them)."""
    shared = (Product.live.exclude(gtin="").values("gtin").annotate(n=Count("pk"))
              .filter(n__gt=1).values("gtin"))
    return job.lines.filter(
        Q(outcome__in=[BulkEditReport.UNKNOWN, BulkEditReport.INVALID])
        | Q(gtin_product__in=Product.live.filter(gtin__in=shared).values("pk"))
    ).order_by("line")


def product_bulk_edit_problems(*, job: ProductBulkEdit, limit: int
                               ) -> tuple[list[BulkEditLine], int]:
    """The first ``limit`` problem lines (``_bulk_problem_lines``), warned, in file order,
    and how many there are in all (the CSV report has every line)."""
    rows = _bulk_problem_lines(job)
    shown = _bulk_lines_warned(rows[:limit])
    return shown, (rows.count() if len(shown) == limit else len(shown))


#: The bulk edit report's columns, one row per line of the file that was applied.
BULK_REPORT_COLUMNS = ("line", "sku", "outcome", "message")


def product_bulk_edit_report_rows(*, job: ProductBulkEdit) -> Iterator[list[str]]:
    """Every applied line's outcome (``BULK_REPORT_COLUMNS``), in file order, read in chunks
    so a 100,000-line report never sits in memory; shared-GTIN warnings read now, cells
    escaped against formula injection."""
    yield list(BULK_REPORT_COLUMNS)
    rows = job.lines.order_by("line").iterator(chunk_size=REPORT_CHUNK)
    while chunk := list(itertools.islice(rows, REPORT_CHUNK)):
        for line in _bulk_lines_warned(chunk):
            yield csv_safe_row([line.line, line.sku, line.outcome, line.message])


def product_bulk_edit_report_lines(*, job: ProductBulkEdit) -> Iterator[str]:
    """``product_bulk_edit_report_rows`` as CSV lines, for a streamed download."""
    writer = csv.writer(_Line())
    for row in product_bulk_edit_report_rows(job=job):
        yield writer.writerow(row)


def api_key_get(*, pk: int, user, any_owner: bool = False) -> ApiKey | None:
    """One of ``user``'s own API keys (anyone's with ``any_owner``, for a catalog manager);
    None otherwise."""
    rows = ApiKey.objects.select_related("user")
    return (rows if any_owner else rows.filter(user=user)).filter(pk=pk).first()


def api_key_list(*, user) -> list[ApiKey]:
    """``user``'s API keys, newest first (revoked and expired ones too, marked as such)."""
    return list(ApiKey.objects.filter(user=user).order_by("-created_at"))


def api_key_list_others(*, user) -> list[ApiKey]:
    """Every other user's API keys with their owner, newest first: what a catalog manager
    reviews and revokes. The secret's hash is not even read (the page never shows it)."""
    return list(ApiKey.objects.exclude(user=user).select_related("user")
                .defer("secret_hash").order_by("-created_at"))


class ProductFilters(TypedDict):
    """``product_filters``: keyword arguments of ``product_page`` and ``product_ids_matching``."""

    search: str
    brand: str
    category: str
    status: str


def product_filters(params: Mapping[str, str]) -> ProductFilters:
    """The product list's filter from its query parameters (``q``, ``brand``, ``category``,
    ``status``), as the keyword arguments of ``product_page`` and ``product_ids_matching``.

    The one parser for the list and for "select all N matching" acting on it, so a selection
    always matches what the list showed. Lengths are capped at the fields' sizes and an
    unknown status means no status filter.
    """
    status = params.get("status", "")
    return {
        "search": params.get("q", "").strip()[:100],
        "brand": params.get("brand", "")[:120],
        "category": params.get("category", "")[:120],
        "status": status if status in AssetStatus.values else "",
    }


def product_list(
    *, search: str = "", brand: str = "", category: str = "", status: str = "",
    with_assets: bool = True,
) -> QuerySet[Product]:
    """Live products, SKU order, with ``asset_count`` and live assets prefetched.

    ``status`` keeps products having at least one live asset in that status. Always two
    queries when iterated (products + assets), whatever the page size.
    """
    qs = _products_filtered(search=search, brand=brand, category=category, status=status)
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


def status_counts(rows: QuerySet) -> dict[str, int]:
    """Rows of any job table (they share JobStatus) counted by status, every status present."""
    counts = dict.fromkeys(JobStatus.values, 0)
    for status, n in rows.values_list("status").annotate(n=Count("pk")).order_by():
        counts[status] = n
    return counts


def import_job_status_counts() -> dict[str, int]:
    return status_counts(ImportJob.objects.all())


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
        "replaced": job.replaced_count,
        "products_created": job.products_created, "message": job.message,
    }


#: How long a browser session may go without a file, with files still expected, before its
#: page says the sending page was probably closed (``import_upload_quiet``). Short, so the
#: manager hears it while the files are at hand; a page still open can trip it (a big photo
#: on a slow line, files waiting on busy answers), hence "probably". Only the page's words:
#: the session ends at ``CUTROOM_UPLOAD_IDLE_SECONDS`` (``imports.import_uploads_close_stale``).
UPLOAD_QUIET_SECONDS = 60


@dataclass(frozen=True)
class UploadQuiet:
    """A running browser session that has stopped receiving files before all came. The
    session knows how many files its page declared, not their names: a note cannot list
    the missing ones (the page that knew them is gone)."""

    #: whole minutes since the last file (or the session's start), at least 1
    minutes: int
    arrived: int
    total: int
    #: minutes without a file after which the idle sweep ends the session
    closes_after_minutes: int


def import_upload_quiet(*, job: ImportJob, now=None) -> UploadQuiet | None:
    """Whether a browser session has gone quiet: running, fewer files arrived than the page
    declared, and none for ``UPLOAD_QUIET_SECONDS`` (QA: "Running 4 / 30" with nothing said
    for the 30 min until the idle sweep). None for any other job, an active session, one
    that ended, or one that declared no count (nothing is known to be missing)."""
    if job.source_kind != ImportJob.Source.UPLOAD or job.status != JobStatus.RUNNING:
        return None
    expected = int((job.options or {}).get(EXPECTED_FILES) or 0)
    if not expected or job.progress_done >= expected:
        return None
    last = job.heartbeat_at or job.started_at
    if last is None:
        return None
    quiet = ((now or timezone.now()) - last).total_seconds()
    if quiet < UPLOAD_QUIET_SECONDS:
        return None
    return UploadQuiet(
        minutes=max(1, int(quiet // 60)), arrived=job.progress_done,
        total=max(expected, job.progress_total),
        closes_after_minutes=max(1, settings.CUTROOM_UPLOAD_IDLE_SECONDS // 60))


def import_job_issues(*, job: ImportJob, level: str | None = None) -> QuerySet[ImportIssue]:
    qs = job.issues.all()
    return qs.filter(level=level) if level else qs


#: The report's columns: an issue's three first (as before), then what a team reconciles
#: with (docs/ingest.md, "Import report").
REPORT_COLUMNS = ("filename", "level", "reason", "sku", "position", "asset_id", "status")
REPORT_CHUNK = 2000


def import_job_report_rows(*, job: ImportJob) -> Iterator[list[str]]:
    """The import report, row by row (``REPORT_COLUMNS``), read in chunks so a report of
    100k files never sits in memory: every issue in order (status ``refused`` for an error,
    with the SKU and position its manifest row gives the file when one does; ``not
    imported`` for a file a cancelled import never reached,
    ``duplicate`` with the stored copy's SKU, position and asset id, empty for another
    warning, which gives the SKU, position and asset id of the image it is about when it
    names one: a stored file's warning, a replacement), then every file the import stored
    (status ``stored``, or ``replaced`` when it replaced an older image), named by its path
    in the import (``ImageAsset.import_path``; the base name for older rows), whose level
    and reason are empty. Every cell is escaped against formula injection."""
    yield list(REPORT_COLUMNS)
    replaced: set[int] = set()  # the new images, at most replaced_count
    for issue in job.issues.order_by("id").iterator(chunk_size=REPORT_CHUNK):
        sku = position = asset = status = ""
        if issue.kind == ImportIssue.Kind.NOT_IMPORTED:
            status = "not imported"  # nothing was wrong with the file: the import stopped
        elif issue.level == ImportIssue.Level.ERROR:
            # what the file's manifest row gives it, if one does (nothing was stored)
            sku, position = issue.sku, issue.position
            status = "refused"
        elif issue.kind == ImportIssue.Kind.DUPLICATE:
            sku, position, asset = issue.sku, issue.position, str(issue.asset_pk or "")
            status = "duplicate"
        else:
            # another warning about a stored file: the image it is about, when it names one
            sku, position, asset = issue.sku, issue.position, str(issue.asset_pk or "")
            if issue.kind == ImportIssue.Kind.REPLACED and issue.asset_pk:
                replaced.add(issue.asset_pk)
        yield csv_safe_row([issue.filename, issue.level, issue.reason, sku, position, asset,
                            status])
    assets = (ImageAsset.objects.filter(import_job=job).select_related("product")
              .order_by("pk").only("pk", "position", "original_filename", "import_path",
                                   "deleted_at", "product__sku"))
    for a in assets.iterator(chunk_size=REPORT_CHUNK):
        status = "replaced" if a.pk in replaced else "stored"
        note = f"deleted since {a.deleted_at:%Y-%m-%d}" if a.deleted_at else ""
        # the path in the ZIP (or folder, or upload) as the team knows it, as the issues
        # above name their files; the base name only for rows from before import_path
        yield csv_safe_row([a.import_path or a.original_filename, "", note, a.product.sku,
                            a.position, a.pk, status])


class _Line:
    """A file-like ``csv.writer`` target that hands back the line it was given."""

    def write(self, value: str) -> str:
        return value


def import_job_report_lines(*, job: ImportJob) -> Iterator[str]:
    """``import_job_report_rows`` as CSV lines, for a streamed download."""
    writer = csv.writer(_Line())
    for row in import_job_report_rows(job=job):
        yield writer.writerow(row)


def import_job_report_csv(*, job: ImportJob) -> str:
    """The whole report as one CSV text (small jobs, tests); the view streams it."""
    return "".join(import_job_report_lines(job=job))


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
    """The one implementation of the product filters (``product_list`` adds its aggregate;
    ``product_page`` does not: a GROUP BY over the whole filtered set is what makes deep pages
    slow, so counts are taken on the page only)."""
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


def _with_approved_cutout(assets: QuerySet[ImageAsset]) -> QuerySet[ImageAsset]:
    """``approved_cutout_id``: the asset's current approved cutout, or None. Read through the
    reverse relation by name, so catalog never imports cutouts (layers: cutouts -> catalog)."""
    return assets.annotate(approved_cutout_id=Max(
        "cutouts__pk", filter=Q(cutouts__is_current=True, cutouts__review_status="approved")))


def _attach_assets(products: list[Product]) -> None:
    """One query for the live assets of every product on the page, with their approved
    cutout."""
    by_product: dict[int, list[ImageAsset]] = {p.pk: [] for p in products}
    if by_product:
        for asset in _with_approved_cutout(
            ImageAsset.live.filter(product_id__in=list(by_product))
        ).order_by("product_id", "position", "id"):
            by_product[asset.product_id].append(asset)
    for product in products:
        assets = by_product[product.pk]
        # Attributes of this page only (the template reads them), not model fields.
        product.live_assets = assets  # type: ignore[attr-defined]
        product.asset_count = len(assets)  # type: ignore[attr-defined]
        counts: dict[str, int] = {}
        for asset in assets:
            counts[asset.status] = counts.get(asset.status, 0) + 1
        # In life-cycle order, with labels, ready for badges.
        product.status_counts = [  # type: ignore[attr-defined]
            (value, label, counts[value]) for value, label in AssetStatus.choices
            if value in counts
        ]


def product_detail_assets(*, product: Product) -> list[ImageAsset]:
    """Live assets of one product for its page, with who uploaded them and their approved
    cutout (one query), and ``working_unreadable`` (``working_copy_unreadable``)."""
    assets: list[ImageAsset] = list(
        _with_approved_cutout(ImageAsset.live.filter(product=product))
        .annotate(working_failed_at=Max("cutouts__finished_at", filter=Q(
            cutouts__status=JobStatus.FAILED, cutouts__working_copy_failed=True)))
        .select_related("uploaded_by").order_by("position", "id")
    )
    for asset in assets:
        asset.working_unreadable = working_copy_unreadable(  # type: ignore[attr-defined]
            asset=asset, failed_at=asset.working_failed_at)  # type: ignore[attr-defined]
        # rebuilt since (or never broken): where its failed runs can be retried, if any
        asset.working_retry = (  # type: ignore[attr-defined]
            working_copy_retry_targets(asset=asset)
            if asset.working_failed_at is not None  # type: ignore[attr-defined]
            and not asset.working_unreadable  # type: ignore[attr-defined]
            else None)
    runs = asset_runs(asset_ids=[a.pk for a in assets])
    for asset in assets:
        asset.run = runs.get(asset.pk)  # type: ignore[attr-defined]
    return assets


@dataclass(frozen=True)
class AssetRun:
    """An image's newest cutout version (cancelled ones left out, as the image's status
    leaves them out) as its product page tile shows it while a batch runs."""

    cutout_id: int
    version: int
    #: a JobStatus value
    status: str
    #: 0-100 and the stage phrase, written by the run while it runs
    progress: int
    stage: str
    #: the cutouts app's review status value ("pending" until a reviewer decides)
    review_status: str
    error: str
    batch_id: int | None
    #: runs started (a run after a stopped one starts its bar again)
    attempts: int = 1

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def stage_label(self) -> str:
        return run_stage_label(self.stage, self.attempts)

    @property
    def awaiting_review(self) -> bool:
        """Finished and not decided yet: the tile shows this version's cutout (newer than
        any approved one, since it is the newest) marked as awaiting review."""
        return self.status == JobStatus.DONE and self.review_status == "pending"


def asset_runs(*, asset_ids: list[int]) -> dict[int, AssetRun]:
    """``AssetRun`` per image that has a cutout version (one query through the images'
    ``cutouts`` relation: catalog never imports cutouts code). Every version of the images is
    read, newest first, and the first kept: an image has a handful of versions."""
    if not asset_ids:
        return {}
    # a positive filter: its join is the one the values read (an exclude through a
    # multi-valued relation would drop every image with any cancelled version)
    kept = [s for s in JobStatus.values if s != JobStatus.CANCELLED]
    rows = (ImageAsset.objects.filter(pk__in=asset_ids, cutouts__status__in=kept)
            .order_by("pk", "-cutouts__version")
            .values_list("pk", "cutouts__pk", "cutouts__version", "cutouts__status",
                         "cutouts__progress", "cutouts__stage", "cutouts__review_status",
                         "cutouts__error", "cutouts__batch_id", "cutouts__attempts"))
    runs: dict[int, AssetRun] = {}
    for (asset_id, pk, version, status, progress, stage, review, error, batch_id,
         attempts) in rows:
        if asset_id not in runs:
            runs[asset_id] = AssetRun(cutout_id=pk, version=version, status=status,
                                      progress=progress, stage=stage, review_status=review,
                                      error=error, batch_id=batch_id, attempts=attempts)
    return runs


def asset_runs_active(*, assets: Iterable[ImageAsset]) -> int:
    """How many of these images (``product_detail_assets``'s, with ``run``) have a version
    queued or running: the product page polls its tiles' states while one has."""
    return sum(1 for run in (getattr(a, "run", None) for a in assets)
               if run is not None and run.is_active)


@dataclass(frozen=True)
class WorkingCopyRetry:
    """Where the cutouts of an image that failed reading its working copy, and are still
    failed, can be retried once it is rebuilt: the batches holding them (their page's
    **Retry failed** re-queues the same rows, a retouch version with its strokes or upload
    too), newest first, and the versions in no batch (their batch row was deleted: a
    version is retried in place only through its batch, so such a one is re-run from its
    review card as a new version)."""

    batch_ids: tuple[int, ...]
    #: (cutout id, version) of failed versions in no batch, newest first
    loose: tuple[tuple[int, int], ...]

    def __bool__(self) -> bool:
        return bool(self.batch_ids or self.loose)


def working_copy_retry_targets(*, asset: ImageAsset) -> WorkingCopyRetry:
    """``WorkingCopyRetry`` for one image (one query through the image's ``cutouts``: catalog
    never imports cutouts code). Every cutout the app makes has a batch: a card re-run and a
    retouch Apply make a one-image batch ("Re-run of …", "Retouch of …"). The product page
    links these places under the image after a rebuild."""
    rows = (asset.cutouts.filter(status=JobStatus.FAILED, working_copy_failed=True)
            .order_by("-finished_at", "-pk").values_list("pk", "version", "batch_id"))
    batch_ids: list[int] = []
    loose: list[tuple[int, int]] = []
    for pk, version, batch_id in rows:
        if batch_id is None:
            loose.append((pk, version))
        elif batch_id not in batch_ids:
            batch_ids.append(batch_id)
    return WorkingCopyRetry(batch_ids=tuple(batch_ids), loose=tuple(loose))


def working_copy_unreadable(*, asset: ImageAsset, failed_at) -> bool:
    """Whether the product page offers to rebuild the image's working copy: a cutout of it
    failed because its run could not read the working copy (``failed_at``, the last such
    failure: a failed version whose run stored ``working_copy_failed``, never told by its
    message's words) and the file has not been written since (a rebuild writes a new one).

    Told by the row's ``working_written_at`` (database time, set when the file was written:
    ingest, rebuild), exactly: a rebuild in the failure's own second reads as after it. A
    row from before that column (null, never rebuilt since: a rebuild sets it) asks the
    storage for the file's time instead, one stat (a HEAD on S3). No storage call otherwise.
    A working copy broken with no cutout tried yet is found by
    ``manage.py rebuild_working_copies --all-broken``."""
    if failed_at is None:
        return False
    if asset.working_written_at is not None:
        return asset.working_written_at <= failed_at
    try:
        return bool(storages["default"].get_modified_time(asset.working_name) <= failed_at)
    except Exception:  # noqa: BLE001 - missing (FileNotFoundError, S3 404) or unreachable
        return True


def product_ids_matching(
    *, search: str = "", brand: str = "", category: str = "", status: str = ""
) -> QuerySet:
    """Ids of the live products a list filter matches ("select all N matching"), as a
    subquery: the selection is never loaded into Python."""
    return _products_filtered(search=search, brand=brand, category=category,
                              status=status).values("pk")


#: How many soft-deleted products the manager's "Deleted products" page shows.
DELETED_LIMIT = 200


def product_deleted_list(*, search: str = "", limit: int = DELETED_LIMIT) -> list[Product]:
    """Soft-deleted products that can still be restored (not purged), newest deletion first,
    with ``asset_count`` (images deleted with the product)."""
    qs = Product.objects.filter(deleted_at__isnull=False).exclude(sku__startswith="~")
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(sku__icontains=search) | Q(title__icontains=search))
    return list(
        qs.annotate(asset_count=Count("assets", filter=Q(assets__deleted_at=F("deleted_at"))))
        .order_by("-deleted_at", "sku")[:limit]
    )


def asset_get_for_product(*, product_pk: int, pk: int) -> ImageAsset:
    """A live asset of a live product; raises ImageAsset.DoesNotExist."""
    return ImageAsset.live.select_related("product").get(
        pk=pk, product_id=product_pk, product__deleted_at__isnull=True
    )


def import_upload_positions(*, job: ImportJob) -> list[dict]:
    """Where a browser session's files that took the next free position are now, once the
    session's end has put them in name order: the page corrects what it said on arrival."""
    named = {int(pk): str(name) for pk, name in (job.checkpoint or {}).get("auto", [])}
    assets = ImageAsset.live.filter(pk__in=named).select_related("product")
    return [{"filename": named[a.pk], "product": a.product.sku, "position": a.position}
            for a in assets]


def import_upload_duplicates(*, job: ImportJob, limit: int = 1000) -> list[dict]:
    """The report's words for a browser session's duplicates once the session's end has
    settled where the kept copies are (``imports._issues_positions_settle``): the page says
    them again in its rows, not the position the kept copy had when the duplicate arrived
    (QA 2026-12-05 qa33b L1)."""
    rows = ImportIssue.objects.filter(job=job, kind=ImportIssue.Kind.DUPLICATE,
                                      asset_pk__isnull=False).order_by("pk")[:limit]
    return [{"filename": i.filename, "reason": i.reason} for i in rows]


def import_upload_warnings(*, job: ImportJob, limit: int = 1000) -> list[dict]:
    """The report's warnings, in its order, of each stored file of a browser session whose
    words name another image (identical: another product's), once the session's end has
    said them again where that image is now (``imports._issues_positions_settle``): the
    page's row shows these instead of the ones the file's answer gave (QA 2026-12-06)."""
    names = list(ImportIssue.objects.filter(job=job, named_pk__isnull=False)
                 .order_by("pk").values_list("filename", flat=True)[:limit])
    said: dict[str, list[str]] = {name: [] for name in names}
    rows = (ImportIssue.objects.filter(job=job, filename__in=names, asset_pk__isnull=False,
                                       level=ImportIssue.Level.WARNING)
            .exclude(kind=ImportIssue.Kind.DUPLICATE).order_by("pk")
            .values_list("filename", "reason"))
    for name, reason in rows:
        said[name].append(reason)
    return [{"filename": name, "warnings": words} for name, words in said.items()]


def import_job_list(*, limit: int = 50) -> list[ImportJob]:
    return list(ImportJob.objects.select_related("created_by").order_by("-created_at")[:limit])


def import_job_products(*, job: ImportJob, limit: int = 200) -> list[Product]:
    """Live products that received assets from this import or that it created, SKU order;
    ``has_image`` on each: whether one of this import's images is live on it (a product its
    manifest created whose file was missing has none, QA31 L5: "3 products created" listed
    two)."""
    images = ImageAsset.live.filter(import_job=job)
    return list(
        Product.live.filter(Q(pk__in=images.values("product_id")) | Q(created_by_import=job))
        .annotate(has_image=Exists(images.filter(product=OuterRef("pk"))))
        .order_by("sku")[:limit]
    )


# --- Import preview ------------------------------------------------------------------------------


@dataclass
class PreviewGroup:
    sku: str
    new: bool
    files: list[tuple[str, str, str]]  # (name, position or "", the rule that read it)
    # a new SKU that is an existing one plus a token (naming.lookalike_warning), or ""
    warning: str = ""


@dataclass
class ImportPreview:
    groups: list[PreviewGroup]
    unmapped: list[tuple[str, str]]  # (name, why)
    total: int
    #: (name, why) of the image files the browser found empty (0 bytes): the import refuses
    #: each in these words, so none is mapped, and a product only it named is not offered
    empty: list[tuple[str, str]] = field(default_factory=list)
    #: (name, why) of the image files whose header size (read by the browser) the ingest
    #: refuses (``images.size_refusal``: too small, over the pixel limit): mapped to nothing
    sized: list[tuple[str, str]] = field(default_factory=list)
    #: (name, why) of the ZIP entries the import refuses for their path alone (traversal,
    #: absolute, a drive): counted refused as the import's report counts them, not "not
    #: mapped" (QA 2026-12-05: the preview said "not mapped", the report "refused")
    named: list[tuple[str, str]] = field(default_factory=list)
    #: name -> kind (``archives.NameProblem.skipped``: not an image name, a second manifest)
    #: of the ``unmapped`` entries the import skips for their name alone
    name_skips: dict[str, str] = field(default_factory=dict)
    #: (name, why) of the files whose names map but whose first bytes the browser found no
    #: image format's (text renamed .jpg): the import refuses each for that, so none is
    #: planned or counted among the mapped (QA 2026-12-07 qa42c L3: "1 not an image (will be
    #: refused)" beside "15 of 16 files → 7 products" and the text file planned as PT02)
    no_header: list[tuple[str, str]] = field(default_factory=list)

    @property
    def mapped(self) -> int:
        return sum(len(group.files) for group in self.groups)

    @property
    def unmapped_counts(self) -> str:
        """The count of ``unmapped`` split by kind, as the upload page splits its files
        (upload.js ``showPreviewCounts``): "2 not mapped · 1 skipped (file type) · 1 skipped
        (second manifest)". One policy for a drop and a ZIP: a ZIP's preview said "4 not
        mapped" where a drop of the same files said the kinds, and a second manifest was
        counted a file type."""
        second = sum(kind == archives.NAME_SECOND_MANIFEST for kind in self.name_skips.values())
        parts = [(len(self.unmapped) - len(self.name_skips), "not mapped"),
                 (len(self.name_skips) - second, "skipped (file type)"),
                 (second, "skipped (second manifest)")]
        return " · ".join(f"{n} {words}" for n, words in parts if n)

    @property
    def refused_ahead(self) -> int:
        """Files the import refuses whatever their names say: 0 bytes, refused for their
        size, or no image's first bytes (mapped to nothing, and not in ``mapped``)."""
        return len(self.empty) + len(self.sized) + len(self.no_header)

    @property
    def new_products(self) -> int:
        return sum(1 for group in self.groups if group.new)


#: SKUs per query when the preview looks up the prefixes of the products it would make.
LOOKALIKE_CHUNK = 1000


def _lookalikes(groups: dict[str, PreviewGroup], made: list[str],
                stored: dict[str, list[tuple[str, bool]]]) -> None:
    """Warn on each new product whose SKU is an existing one's plus a token
    (``naming.lookalike_warning``, the import's rule), looking up the prefixes not yet read,
    one query per ``LOOKALIKE_CHUNK``."""
    # a SKU folded as a key of ``stored`` was read already, with all its case variants
    wanted = sorted({p for sku in made for p in sku_prefixes(sku) if fold_sku(p) not in stored})
    for start in range(0, len(wanted), LOOKALIKE_CHUNK):
        for sku, deleted_at in products_sku_folded(
                wanted[start:start + LOOKALIKE_CHUNK]).values_list("sku", "deleted_at"):
            bucket = stored.setdefault(fold_sku(sku), [])
            if (sku, deleted_at is not None) not in bucket:  # case variants in two chunks
                bucket.append((sku, deleted_at is not None))
    for sku in made:
        groups[sku].warning = lookalike_warning(
            sku, state=lambda p: sku_known(p, stored.get(fold_sku(p), ())), created=False)


def import_zip_bomb_reason(*, sizes: Sequence[tuple[str, int, int]]) -> str:
    """The import's whole-archive refusal of a ZIP (``archives.bomb_reason`` with the
    import's limits, ``import_runner.archive_limits``) from its entries' (name,
    uncompressed, compressed) sizes, for the preview, which has them from the directory the
    page read; "" when it passes."""
    return archives.bomb_reason(sizes, archive_limits())


def import_not_images(*, names: Iterable[str], no_header: Collection[str],
                      text_heads: Collection[str] = ()) -> list[tuple[str, str]]:
    """(name, why) of the ``names`` whose first bytes the browser found no image format's
    (``no_header``), in the import's words (``images.not_image_reason``: "… text, not JPEG."
    for one also in ``text_heads``), in the order ``import_preview`` lists them
    (``archives.name_order_key``). For a preview that ends in an error (a manifest or naming
    rule the import fails on, ``views.import_preview``): its plan is not shown, these still
    are (lows44, 2026-12-07: the list went with zip43)."""
    no_header, text_heads = frozenset(no_header), frozenset(text_heads)
    return [(name, images.not_image_reason(name, text=name in text_heads))
            for name in sorted(names, key=archives.name_order_key) if name in no_header]


def import_preview(*, names: list[str], rules: FilenameRules, create_products: bool,
                   manifest: Manifest | None = None,
                   empty: Collection[str] = (),
                   sizes: Mapping[str, tuple[int, int]] | None = None,
                   manifest_at: str | None | EllipsisType = ...,
                   contents_unread: bool = False,
                   no_header: Collection[str] = (),
                   text_heads: Collection[str] = ()) -> ImportPreview:
    """Where each file name would go, before anything is stored. The import's own decisions
    are called, not copied: ``archives.entry_name_problem`` (which entries a ZIP import takes
    at all), ``naming.file_target`` (which product and position) and
    ``import_mapping.manifest_product_new`` (whether a product it would create is valid: a
    manifest row with a bad SKU or GTIN refuses its files), with one query for the SKUs the
    names and the manifest can name. ``empty``: the names the browser saw 0 bytes under
    (``File.size``, a ZIP entry's size in its directory): the import refuses each, whatever
    its name says (``images.EMPTY_REASON``), so none takes a product or a position.
    ``sizes``: name -> (width, height) the browser read from a file's header: one the
    ingest's size rule refuses (``images.size_refusal`` with ``assets.ingest_limits``, the
    same limits) is refused here in its words, and likewise takes nothing. ``manifest_at``:
    the path among ``names`` that is the import's manifest, as the page found it on the whole
    list (None: none); by default found here by ``archives.manifest_path`` — not when the page
    took the manifest out of the names (a ZIP's, read and sent apart: on what is left a
    folder's other ``manifest.csv`` would pass for it, QA 2026-12-06 qa34c #1).
    ``contents_unread``: the import will open every file, even one whose name it refuses (a
    ZIP's entries; a session sends no file the preview refuses, unless its first bytes are no
    image's: upload.js ``findUnreadable``): a name refusal of a file whose header size the
    page did not read (not in ``sizes``) adds ``NAME_REFUSAL_UNREAD_NOTE``, since the import
    refuses a file that is no readable image for that before its name. ``no_header``: the
    names whose first bytes the browser found no image format's: one whose name maps is
    refused here in the import's words (``images.not_image_reason``: "… text, not JPEG." for
    one also in ``text_heads``, the names whose first bytes read as text, else no header
    found) and takes no product or position; one whose name maps to nothing is refused so
    too when ``contents_unread`` (the import opens it first), else keeps that reason (the
    page says both, upload.js ``findUnreadable``)."""
    # looked up once per name: sets, whatever collection the caller passed
    empty, no_header, text_heads = frozenset(empty), frozenset(no_header), frozenset(text_heads)
    if manifest is not None:
        # the rows matched to all the files at once, as the import matches them
        manifest.bind(names)
    considered: list[str] = []
    unmapped: list[tuple[str, str]] = []
    empties: list[tuple[str, str]] = []
    sized: list[tuple[str, str]] = []
    named: list[tuple[str, str]] = []
    name_skips: dict[str, str] = {}
    headless: list[tuple[str, str]] = []
    limits = ingest_limits()
    # a ZIP's manifest the browser could not read is among the names: not a file to import
    found = archives.manifest_path(names) if manifest_at is ... else manifest_at
    for name in names:
        problem = archives.entry_name_problem(name, manifest=found)
        if problem is not None and problem.kind == archives.NAME_IGNORED:
            continue  # hidden or system files and folders, the manifest itself: not files to import
        if problem is not None:
            (named if problem.kind == archives.NAME_UNSAFE else unmapped).append(
                (name, problem.reason))
            if problem.skipped:
                name_skips[name] = problem.kind
        elif name in empty:
            empties.append((name, images.EMPTY_REASON))
        elif sizes and name in sizes and (
                refusal := images.size_refusal(*sizes[name], limits=limits)):
            sized.append((name, refusal[0]))
        else:
            considered.append(name)
    wanted: set[str] = {row.sku for row in manifest.rows} if manifest else set()
    for name in considered:
        with contextlib.suppress(NamingError):  # file_target reports it below
            readings = [c.sku for c in rules.candidates(name)]
            wanted.update(readings)
            # and the first reading's prefixes: an unknown SKU's refusal names the product it
            # looks like ("did you mean product QA012 …", naming.lookalike_hint) as the
            # import's does (QA qa40a: QA40-MUG_ZZZ.jpg beside a live QA40-MUG said only
            # "no such product" in the preview)
            wanted.update(p for sku in readings[:1] for p in sku_prefixes(sku))
    # SKUs match ignoring case (naming.sku_known): every product a wanted SKU names
    stored: dict[str, list[tuple[str, bool]]] = {}
    for sku, deleted_at in products_sku_folded(wanted).values_list("sku", "deleted_at"):
        stored.setdefault(fold_sku(sku), []).append((sku, deleted_at is not None))

    def known(sku: str):
        return sku_known(sku, stored.get(fold_sku(sku), ()))

    twins: dict[str, str] = {}
    made: set[str] = set()  # products the import would make before (or with) a file
    from_manifest: set[str] = set()  # of those, the manifest's (checked per file, below)
    if manifest is not None:
        variants = manifest_case_variants(manifest)
        twins = manifest_case_twins(manifest, variants, known) if variants else {}
        # the import makes the manifest's products first: a file read as one finds it
        for sku in manifest.products:
            if sku not in twins and known(sku) is None:
                made.add(sku)
                from_manifest.add(sku)
                stored.setdefault(fold_sku(sku), []).append((sku, False))

    def state(sku: str):
        found = known(sku)
        if sku in twins and not isinstance(found, str):  # exact: kept, as in the import
            raise Unmapped(twins[sku])
        return found

    total = len(considered) + len(unmapped) + len(empties) + len(sized) + len(named)
    groups: dict[str, PreviewGroup] = {}
    made_by_name: list[str] = []  # new products a file name makes, for lookalike_warning
    # the order files without a position take the free ones in (archives.name_order_key)
    for name in sorted(considered, key=archives.name_order_key):
        try:
            target = file_target(name, rules=rules, manifest=manifest, create=create_products,
                                 state=state, valid=sku_valid,
                                 sku_rule=SKU_RULE)
            if target.new or target.sku in from_manifest:
                # The import's own check of a product it would create (a bad SKU or GTIN
                # refuses its files, ``ImportRun._product_new``), only for products files
                # name: a 100k-row manifest is not validated whole for a few files.
                manifest_product_new(sku=target.sku, manifest=manifest,
                                     line=target.manifest_line)
        except Unmapped as exc:
            # the import opens each of a ZIP's entries before it refuses its name
            # (ImportRun.ingest): one the page found no image is refused as that, below
            # (verify43 L1: "the page could not read this file's image header", it had)
            if contents_unread and name in no_header:
                headless.append((name, images.not_image_reason(name, text=name in text_heads)))
                continue
            unread = contents_unread and name not in (sizes or {})
            unmapped.append((name, str(exc) + (NAME_REFUSAL_UNREAD_NOTE if unread else "")))
            continue
        if name in no_header:
            headless.append((name, images.not_image_reason(name, text=name in text_heads)))
            continue
        if target.new:  # made with this file: a later file in other case goes to it
            made.add(target.sku)
            stored.setdefault(fold_sku(target.sku), []).append((target.sku, False))
            if not target.manifest_line:
                made_by_name.append(target.sku)
        rule = target.rule
        if target.read_sku:
            rule += f" (SKU {target.read_sku}, matched ignoring case)"
        group = groups.setdefault(target.sku, PreviewGroup(
            sku=target.sku, new=target.new or target.sku in made, files=[]))
        group.files.append((name, target.position or "", rule))
    _lookalikes(groups, made_by_name, stored)
    return ImportPreview(groups=sorted(groups.values(), key=lambda g: g.sku),
                         unmapped=unmapped, total=total, empty=empties, sized=sized,
                         named=named, name_skips=name_skips, no_header=headless)


# --- Already stored? (the upload page asks before anything is sent) ---------------------------


def _stored_live() -> QuerySet[ImageAsset]:
    # a deleted product's images are not "stored" for an upload: its files are refused
    return ImageAsset.live.filter(product__deleted_at__isnull=True)


def asset_sizes_stored(*, sizes: Iterable[int]) -> set[int]:
    """Which of these byte counts some live image has. The upload page hashes only a file of
    such a size (two files of different sizes cannot be identical), so a new shoot's files
    are never read whole. One query, on the partial index of live rows' ``bytes``
    (``catalog_asset_bytes_live``)."""
    wanted = {size for size in sizes if size > 0}
    if not wanted:
        return set()
    return set(_stored_live().filter(bytes__in=wanted).order_by()
               .values_list("bytes", flat=True).distinct())


def assets_by_sha256(*, hashes: Iterable[str]) -> dict[str, list[dict[str, object]]]:
    """sha256 -> the live images holding those bytes ({"sku", "position", "asset"}, oldest
    first), for the hashes some image has; the others are left out. The import's duplicate
    test is these bytes on the product a file maps to (``assets.HashLookup``); the page
    compares with its preview's mapping. One query (the sha256 index)."""
    wanted = {sha.lower() for sha in hashes}
    known: dict[str, list[dict[str, object]]] = {}
    if not wanted:
        return known
    rows = (_stored_live().filter(sha256__in=wanted).order_by("pk")
            .values_list("sha256", "product__sku", "position", "pk"))
    for sha, sku, position, pk in rows:
        known.setdefault(sha, []).append({"sku": sku, "position": position, "asset": pk})
    return known


#: Products per query when the preview looks up the images holding positions.
PREVIEW_CHUNK = 500


@dataclass
class PreviewPositions:
    """What the preview says about files that name a position: ``refused`` (name -> the
    reason the import would give, with ``UNSEEN_CONTENT_NOTE``) and ``replaces`` (name -> the
    older images it would replace, with the upload's "Replace" box ticked)."""

    refused: dict[str, str] = field(default_factory=dict)
    replaces: dict[str, list[ImageAsset]] = field(default_factory=dict)
    #: name -> the position a file without one will take (the free ones in name order, lead
    #: view first, as ``assets.asset_positions_by_name`` gives them; PT08 shared beyond)
    auto: dict[str, str] = field(default_factory=dict)


def import_preview_positions(*, files: Iterable[tuple[str, str, str]], replace: bool,
                             manifest: Manifest | None = None, session: bool = False
                             ) -> PreviewPositions:
    """Which of an upload's files ``asset_ingest`` would refuse for their explicit position,
    before anything is sent. ``files`` are (stored SKU, name, position or "") in name order,
    as the preview maps them. The import's rule, applied to what is stored now
    (``assets.position_kept``, so "replace" lets a file take an older image's place) and
    then across the files themselves: the first in name order keeps a position, a later
    file for it is refused (also with "replace": only older images are replaced), in the
    import's words (``assets.position_taken_text``). Files without a position never clash
    (they take a free one, and give way to a named file). In a browser ``session`` a file
    the naming rules place where a ``manifest`` row puts another file is refused first, as
    the session's import refuses it (``naming.manifest_claims``)."""
    named = [(sku, name, position) for sku, name, position in files if position]
    claims = manifest_claims(manifest) if session and manifest is not None else {}
    holders: dict[tuple[str, str], list[ImageAsset]] = {}
    skus = sorted({sku for sku, _name, _position in named})
    positions = {position for _sku, _name, position in named}
    for start in range(0, len(skus), PREVIEW_CHUNK):
        rows = ImageAsset.live.filter(
            product__sku__in=skus[start:start + PREVIEW_CHUNK], product__deleted_at__isnull=True,
            position__in=positions).select_related("product").order_by("pk")
        for asset in rows:
            holders.setdefault((asset.product.sku, asset.position), []).append(asset)
    answer = PreviewPositions()
    first: dict[tuple[str, str], str] = {}
    for sku, name, position in named:
        key = (sku, position)
        row = claims.get((fold_sku(sku), position))
        if row is not None and manifest is not None and manifest.row_for(name) is None:
            answer.refused[name] = manifest_claim_text(
                sku=sku, position=position, row=row, manifest_name=manifest.name)
            continue
        older = holders.get(key, [])
        holder = position_kept(older, replace=replace, import_job=None)
        if holder is not None:
            answer.refused[name] = (position_taken_reason(holder, import_job=None)
                                    + UNSEEN_CONTENT_NOTE)
        elif key in first:
            # the holder is a file of this upload, not stored yet: no asset id to name, so
            # it is named by its path (a folder upload's SHOE/A/X_MAIN.jpg and
            # SHOE/B/X_MAIN.jpg share their bare name; the preview lists files by path)
            answer.refused[name] = position_taken_text(
                sku=sku, position=position, holder=first[key],
                asset_id=None, when="from this import, before it in name order",
            ) + UNSEEN_CONTENT_NOTE
        else:
            first[key] = name
            if older:
                answer.replaces[name] = older
    _preview_auto_positions(files, answer, taken=first)
    return answer


def _preview_auto_positions(files: Iterable[tuple[str, str, str]], answer: PreviewPositions,
                            *, taken: Mapping[tuple[str, str], str]) -> None:
    """``answer.auto``: where the files without a position will go (QA30 L3: a re-shoot
    without "Replace" landed at PT01 unsaid). The positions the product's live images hold,
    and those this upload's named files take (``taken``), stay; these files take the free
    ones in ``assets.asset_positions_by_name``'s order, one query per ``PREVIEW_CHUNK``."""
    unplaced: dict[str, list[str]] = {}
    for sku, name, position in files:
        if not position:
            unplaced.setdefault(sku, []).append(name)
    if not unplaced:
        return
    held: dict[str, set[str]] = {sku: set() for sku in unplaced}
    skus = sorted(unplaced)
    for start in range(0, len(skus), PREVIEW_CHUNK):
        rows = ImageAsset.live.filter(
            product__sku__in=skus[start:start + PREVIEW_CHUNK],
            product__deleted_at__isnull=True).values_list("product__sku", "position")
        for sku, position in rows:
            held[sku].add(position)
    for sku, position in taken:
        if sku in held:
            held[sku].add(position)
    for sku, names in unplaced.items():
        free = [p for p in NEXT_FREE_POSITIONS if p not in held[sku]]
        for name in sorted(names, key=lambda n: archives.name_order_key(
                position_order_name(n))):
            answer.auto[name] = free.pop(0) if free else OVERFLOW_POSITION


"""Bulk edit of product fields (brand, category, ...) from a CSV keyed by SKU, one
transaction per chunk, with a per-line report. SKUs match as in imports
(``naming.sku_known``): exactly, else ignoring case.

An edit is a job (``ProductBulkEdit``), the one way one is applied: the file is checked and
stored in the request, a worker applies it chunk by chunk (``_apply_chunk``: the rules), and
each line's outcome is a ``ProductBulkLine`` row the page and the CSV report read."""

import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from .. import enqueue as catalog_enqueue
from .. import jobs
from ..errors import ManifestError
from ..ingest.csvfile import MAX_CSV_BYTES, cells_mismatch, lines_refused, read_csv
from ..ingest.manifest import PRODUCT_FIELDS, csv_unescape, field_errors_text
from ..ingest.naming import DELETED, Known, Unmapped, fold_sku, known_usable, sku_known
from ..models import ProductBulkEdit, ProductBulkLine
from .assets import storage_default
from .imports import _store_upload
from .products import product_fields_changed, products_sku_folded

logger = logging.getLogger(__name__)

# A chunk is one transaction: a 50k-line file neither holds one lock for minutes nor loses
# every line to one bad row at the end.
CHUNK_LINES = 500
MAX_LINES = 100_000


@dataclass
class BulkEditLine:
    line: int
    sku: str
    outcome: str  # one of BulkEditReport.OUTCOMES
    message: str = ""
    #: the product whose GTIN this line changed: ``selectors.product_bulk_report_warned``
    #: adds the shared-GTIN warning to its message
    gtin_product: int | None = None
    #: the product an updated or unchanged line claimed: a later line with other values for
    #: it is refused as a duplicate (a resumed job reads these back)
    product: int | None = None


@dataclass
class BulkEditReport:
    """A bulk edit's lines, as ``selectors.product_bulk_report_warned`` reads them, and the
    names of the outcomes (the header is checked by ``_read`` and not kept: the stored lines
    carry what each line changed)."""

    UPDATED, UNCHANGED, UNKNOWN, INVALID = "updated", "unchanged", "unknown SKU", "invalid"
    OUTCOMES = (UPDATED, UNCHANGED, UNKNOWN, INVALID)

    lines: list[BulkEditLine] = field(default_factory=list)


#: A line whose SKU names no product: a bulk edit changes products, it never creates one
#: (the report's note links the ways that do).
UNKNOWN_TEXT = ("no live product has this SKU; a bulk edit only changes existing products. "
                "Create it on the New product page, or upload its photos with a manifest and "
                "'Create products for unknown SKUs'.")

#: How the shared CSV reader (``ingest.csvfile``) names this file in its messages.
FILE_KIND = "bulk-edit file"


def _read(data: bytes, encoding: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header (``sku`` plus editable columns) and the non-empty rows with the line each
    starts on; raises ManifestError for a file that cannot be read at all, or that has a
    line the CSV reader cannot read (an unclosed quote swallows the lines after it, so
    nothing of such a file is applied), listing those lines."""
    csv_file = read_csv(data, encoding, kind=FILE_KIND)
    names = csv_file.names
    unknown = [n for n in names if n != "sku" and n not in PRODUCT_FIELDS]
    if "sku" not in names or unknown or len(set(names)) != len(names) or len(names) < 2:
        raise ManifestError(
            "Wrong columns: the header needs 'sku' and at least one of "
            f"{', '.join(PRODUCT_FIELDS)}, each once"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "") + ".")
    rows: list[tuple[int, list[str]]] = []
    errors: list[str] = []
    for line, values in csv_file.records:
        if isinstance(values, str):
            errors.append(f"line {line}: {values}")
            continue
        rows.append((line, values))
        if len(rows) > MAX_LINES:
            raise ManifestError(f"The {FILE_KIND} has more than {MAX_LINES} lines.")
    if errors:
        raise lines_refused(FILE_KIND, errors, "; nothing was changed.")
    return names, rows


@transaction.atomic
def _apply_chunk(names: list[str], rows: list[tuple[int, list[str]]],
                 first_lines: dict[int, int]) -> list[BulkEditLine]:
    """Apply ``sku,brand,category,...`` rows (``_read``'s) to live products, one transaction;
    the one implementation of the edit's rules, which ``_run`` calls chunk by chunk. An empty
    cell leaves the field as it is; each line is reported as updated, unchanged, unknown SKU
    (none, or a deleted product) or invalid (with the validation message, or the live
    products a SKU matches ignoring case when none matches exactly). A SKU that names one
    product only ignoring case updates it. A line that would change a product an earlier line
    applied to (``ss26-toy-005`` after ``SS26-TOY-005``, another brand) is refused as invalid,
    naming that line and both values, as the import manifest refuses a duplicate SKU with a
    different value: which one was meant is not ours to guess, and the last one silently
    winning hid it. A repeat with the same values is unchanged; a line refused before (a bad
    GTIN) claims nothing: the next line for that product is its correction.
    ``first_lines`` (product pk -> the line that claimed it) carries those claims across
    chunks and is updated here. A line that changed a GTIN names its product
    (``gtin_product``): the warning of a GTIN another product has is a read, added by
    ``selectors.product_bulk_report_warned``."""
    records: list[tuple[int, str, dict[str, str] | None, str]] = []
    sku_at = names.index("sku")
    for line, values in rows:
        if len(values) != len(names):
            # the SKU cell, when the line reaches it, so the report says which product
            sku = csv_unescape(values[sku_at].strip()) if sku_at < len(values) else ""
            records.append((line, sku[:64], None,
                            cells_mismatch(len(values), len(names))))
            continue
        cells = {n: csv_unescape(v.strip()) for n, v in zip(names, values, strict=True)}
        records.append((line, cells.pop("sku"), cells, ""))
    skus = {sku for _, sku, record, _ in records if record is not None}
    # every product a SKU names exactly or ignoring case, deleted ones too (sku_known decides)
    matching = list(products_sku_folded(skus).select_for_update())
    products = {p.sku: p for p in matching}
    stored: dict[str, list[tuple[str, bool]]] = {}
    for p in matching:
        stored.setdefault(fold_sku(p.sku), []).append((p.sku, p.deleted_at is not None))
    out = []
    for line, sku, record, problem in records:
        if record is None:
            out.append(BulkEditLine(line, sku, BulkEditReport.INVALID, problem))
            continue
        found = sku_known(sku, stored.get(fold_sku(sku), ()))
        if found is None:
            out.append(BulkEditLine(line, sku, BulkEditReport.UNKNOWN,
                                    UNKNOWN_TEXT))
            continue
        if not isinstance(found, Known):
            found = Known(state=found, sku=sku)
        try:
            known_usable(sku, found)
        except Unmapped as exc:
            outcome = BulkEditReport.UNKNOWN if found.state == DELETED else BulkEditReport.INVALID
            out.append(BulkEditLine(line, sku, outcome, str(exc)))
            continue
        product = products[found.sku]
        matched = f"product {product.sku}, matched ignoring case" if found.sku != sku else ""
        changes = product_fields_changed(product=product,
                                         fields={k: v for k, v in record.items() if v})
        first = first_lines.get(product.pk)
        if first is not None and changes:
            differs = "; ".join(f"{k} {getattr(product, k)!r} there, {v!r} here"
                                for k, v in sorted(changes.items()))
            out.append(BulkEditLine(
                line, sku, BulkEditReport.INVALID,
                f"duplicate of line {first} (product {product.sku}) with different values "
                f"({differs}); not applied: one line per product"))
            continue
        if not changes:
            first_lines.setdefault(product.pk, line)
            out.append(BulkEditLine(line, sku, BulkEditReport.UNCHANGED, matched,
                                    product=product.pk))
            continue
        before = {k: getattr(product, k) for k in changes}
        for key, value in changes.items():
            setattr(product, key, value)
        try:
            # The SKU is not edited here: no SKU rules, uniqueness or case check to run.
            product.full_clean(exclude=["sku"])
        except ValidationError as exc:
            for key, value in before.items():
                setattr(product, key, value)
            message = field_errors_text(exc.message_dict)
            out.append(BulkEditLine(line, sku, BulkEditReport.INVALID, message))
            continue
        product.save(update_fields=[*changes, "updated_at"])
        first_lines.setdefault(product.pk, line)
        out.append(BulkEditLine(line, sku, BulkEditReport.UPDATED, ", ".join(sorted(changes))
                                + (f" ({matched})" if matched else ""),
                                gtin_product=product.pk if "gtin" in changes else None,
                                product=product.pk))
    return out


# --- the page's bulk edit: a job -------------------------------------------------------------

#: Hard limit of one run in seconds (the task's time limit, and the reconciler's last resort
#: beside the heartbeat); ``MAX_LINES`` lines take a few minutes.
RUN_TIME_LIMIT = 30 * 60

#: The job row's counter of each outcome.
COUNT_FIELDS = {
    BulkEditReport.UPDATED: "updated_count",
    BulkEditReport.UNCHANGED: "unchanged_count",
    BulkEditReport.UNKNOWN: "unknown_count",
    BulkEditReport.INVALID: "invalid_count",
}


def product_bulk_edit_counts(job: ProductBulkEdit) -> list[tuple[str, int]]:
    """(outcome, lines) in ``BulkEditReport.OUTCOMES`` order, from the row's counters."""
    return [(outcome, getattr(job, COUNT_FIELDS[outcome])) for outcome in BulkEditReport.OUTCOMES]


def product_bulk_edit_summary(job: ProductBulkEdit) -> str:
    """"30,000 of 30,000 lines applied: 27,000 updated, …" (how far, and each outcome)."""
    counts = ", ".join(f"{n:,} {outcome}" for outcome, n in product_bulk_edit_counts(job))
    return f"{job.progress_done:,} of {job.progress_total:,} lines applied: {counts}."


def product_bulk_edit_create(*, user, upload, encoding: str = "utf-8") -> ProductBulkEdit:
    """Check an uploaded file as the run will read it, store it and queue its job (sent once
    the job row commits). The size is checked before the file is read; then its encoding,
    header and every line (``_read``: no database work, a fraction of a second for
    ``MAX_LINES``), so a file the run would refuse is refused here, in the same words.
    Raises ManifestError with the message for the page; nothing is stored then."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_CSV_BYTES:
        raise ManifestError(f"The {FILE_KIND} is over {MAX_CSV_BYTES // 1024 ** 2} MB.")
    if hasattr(upload, "seek"):
        upload.seek(0)
    _read(upload.read(), encoding)
    # Stored under imports/ beside the import jobs' files: purge removes it after the
    # retention, as it does theirs. Copied before the transaction opens, as an import's ZIP.
    name, filename = _store_upload(f"bulk-edit-{uuid.uuid4().hex}", upload, "bulk-edit.csv")
    return _job_save(ProductBulkEdit(
        created_by=user if getattr(user, "is_authenticated", False) else None,
        source_name=name, source_filename=filename, encoding=encoding))


@transaction.atomic
def _job_save(job: ProductBulkEdit) -> ProductBulkEdit:
    job.save()
    catalog_enqueue.product_bulk_edit_enqueue(job.pk)
    return job


class _RunLost(Exception):
    """The job row stopped being this run's (given up, or taken over by another run)."""


def product_bulk_edit_run(*, job_id: int, worker: str = "",
                          interrupts: tuple[type[BaseException], ...] = ()
                          ) -> ProductBulkEdit | None:
    """Apply a queued bulk edit, ``CHUNK_LINES`` lines per transaction. A chunk's product
    changes, its lines' outcomes, the counters, the progress, the heartbeat and the
    checkpoint (the next chunk) commit together, and only while the row is this run's (the
    progress write is the compare-and-set on the run token; when it finds the row lost, the
    chunk is rolled back). So a run that follows one whose worker died resumes at the first
    chunk that did not commit: no line is applied twice or skipped, and the duplicate-line
    check reads back the products earlier chunks claimed. Returns None when another run owns
    the job or it has ended. Any error fails the job with its reason (the chunks before it
    stay applied), except ``interrupts`` (a task's time limit): raised to the caller, which
    fails the job (``product_bulk_edit_fail``)."""
    token = jobs.job_claim(ProductBulkEdit, job_id, worker=worker)
    if token is None:
        return None
    try:
        _run(job_id, token)
    except _RunLost:
        pass
    except ManifestError as exc:
        _fail(job_id, token, str(exc))
    except Exception as exc:
        if isinstance(exc, interrupts):
            raise
        logger.exception("bulk edit %s failed", job_id)
        _fail(job_id, token, f"The bulk edit failed unexpectedly ({type(exc).__name__}: {exc}).")
    return ProductBulkEdit.objects.get(pk=job_id)


def _run(job_id: int, token: str) -> None:
    job = ProductBulkEdit.objects.get(pk=job_id)
    with storage_default().open(job.source_name, "rb") as handle:
        data = handle.read()
    names, rows = _read(data, job.encoding)
    start = int((job.checkpoint or {}).get("chunk", 0))
    first_lines = _claimed_lines(job_id) if start else {}
    if not jobs.job_progress(ProductBulkEdit, job_id, token, progress_total=len(rows)):
        return
    chunks = (len(rows) + CHUNK_LINES - 1) // CHUNK_LINES
    for index in range(start, chunks):
        begin = index * CHUNK_LINES
        part = rows[begin:begin + CHUNK_LINES]
        with transaction.atomic():
            lines = _apply_chunk(names, part, first_lines)
            _lines_save(job_id, lines)
            counts = Counter(line.outcome for line in lines)
            if not jobs.job_progress(
                    ProductBulkEdit, job_id, token, progress_done=begin + len(part),
                    checkpoint={"chunk": index + 1},
                    **{name: F(name) + counts[outcome]
                       for outcome, name in COUNT_FIELDS.items() if counts[outcome]}):
                raise _RunLost
    job.refresh_from_db()
    jobs.job_finish(ProductBulkEdit, job_id, token, message=product_bulk_edit_summary(job))


def _claimed_lines(job_id: int) -> dict[int, int]:
    """product pk -> the first line that claimed it, from the lines committed so far."""
    first: dict[int, int] = {}
    rows = (ProductBulkLine.objects.filter(job_id=job_id, product_pk__isnull=False)
            .order_by("line").values_list("product_pk", "line"))
    for product_pk, line in rows.iterator(chunk_size=2000):
        if product_pk is not None:  # the filter's; the type cannot tell
            first.setdefault(product_pk, line)
    return first


def _lines_save(job_id: int, lines: Iterable[BulkEditLine]) -> None:
    ProductBulkLine.objects.bulk_create([
        # a SKU cell too long for any product still names its line (cut to the column)
        ProductBulkLine(job_id=job_id, line=line.line, sku=line.sku[:64], outcome=line.outcome,
                        message=line.message, product_pk=line.product,
                        gtin_product=line.gtin_product)
        for line in lines])


def _fail(job_id: int, token: str | None, reason: str) -> bool:
    job = ProductBulkEdit.objects.filter(pk=job_id).first()
    applied = (f" {product_bulk_edit_summary(job)} The lines after those were not applied."
               if job is not None and job.progress_total else "")
    return jobs.job_fail(ProductBulkEdit, job_id, token, f"{reason}{applied}")


def product_bulk_edit_fail(*, job_id: int, message: str) -> bool:
    """Fail a running bulk edit (its time limit); the chunks it applied stay applied."""
    return _fail(job_id, None, message)


def _dead_run_fail(job: ProductBulkEdit, reason: str) -> bool:
    """The kind's ``on_give_up``: its worker died on every attempt; the message says how
    far it got, as any other failure of a bulk edit does."""
    return _fail(job.pk, job.run_token, f"{reason[:1].upper()}{reason[1:]}; giving up.")


# Registered when this module is imported (the views and the worker's tasks import it).
jobs.job_kind_register(jobs.JobKind(
    name="product_bulk_edit", model=ProductBulkEdit,
    enqueue=catalog_enqueue.product_bulk_edits_send,
    run_limit=lambda job: RUN_TIME_LIMIT,
    on_give_up=_dead_run_fail,
))

"""Bulk edit of product fields (brand, category, ...) from a CSV keyed by SKU, one
transaction per chunk, with a per-line report. SKUs match as in imports
(``naming.sku_known``): exactly, else ignoring case."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from ..errors import ManifestError
from ..ingest.csvfile import lines_refused, read_csv
from ..ingest.manifest import PRODUCT_FIELDS, csv_unescape
from ..ingest.naming import DELETED, Known, Unmapped, fold_sku, known_usable, sku_known
from .products import product_fields_changed, products_sku_folded

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


@dataclass
class BulkEditReport:
    UPDATED, UNCHANGED, UNKNOWN, INVALID = "updated", "unchanged", "unknown SKU", "invalid"
    OUTCOMES = (UPDATED, UNCHANGED, UNKNOWN, INVALID)

    columns: list[str]
    lines: list[BulkEditLine] = field(default_factory=list)

    @property
    def unknown_count(self) -> int:
        """Lines naming no live product: the page then says how products are created."""
        return self.count(self.UNKNOWN)

    def count(self, outcome: str) -> int:
        return sum(line.outcome == outcome for line in self.lines)

    @property
    def counts(self) -> list[tuple[str, int]]:
        return [(outcome, self.count(outcome)) for outcome in self.OUTCOMES]


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


def products_bulk_update(*, data: bytes, encoding: str = "utf-8") -> BulkEditReport:
    """Apply ``sku,brand,category,...`` rows to live products. An empty cell leaves the field
    as it is; each line is reported as updated, unchanged, unknown SKU (none, or a deleted
    product) or invalid (with the validation message, or the live products a SKU matches
    ignoring case when none matches exactly). A SKU that names one product only ignoring case
    updates it. A line that would change a product an earlier line applied to
    (``ss26-toy-005`` after ``SS26-TOY-005``, another brand) is refused as invalid, naming that
    line and both values, as the import manifest refuses a duplicate SKU with a different
    value: which one was meant is not ours to guess, and the last one silently winning hid it.
    A repeat with the same values is unchanged; a line refused before (a bad GTIN) claims
    nothing: the next line for that product is its correction. A line that changed a GTIN
    names its product (``gtin_product``): the warning of a GTIN another product has is a
    read, added by ``selectors.product_bulk_report_warned``. Raises ManifestError when the
    file as a whole is unreadable."""
    names, rows = _read(data, encoding)
    report = BulkEditReport(columns=names)
    first_lines: dict[int, int] = {}  # product pk -> the line applied to it, across chunks
    for start in range(0, len(rows), CHUNK_LINES):
        report.lines.extend(_apply_chunk(names, rows[start:start + CHUNK_LINES], first_lines))
    return report


@transaction.atomic
def _apply_chunk(names: list[str], rows: list[tuple[int, list[str]]],
                 first_lines: dict[int, int]) -> list[BulkEditLine]:
    records: list[tuple[int, str, dict[str, str] | None, str]] = []
    sku_at = names.index("sku")
    for line, values in rows:
        if len(values) != len(names):
            # the SKU cell, when the line reaches it, so the report says which product
            sku = csv_unescape(values[sku_at].strip()) if sku_at < len(values) else ""
            records.append((line, sku[:64], None,
                            f"{len(values)} cells, the header has {len(names)}"))
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
            out.append(BulkEditLine(line, sku, BulkEditReport.UNCHANGED, matched))
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
            message = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            out.append(BulkEditLine(line, sku, BulkEditReport.INVALID, message))
            continue
        product.save(update_fields=[*changes, "updated_at"])
        first_lines.setdefault(product.pk, line)
        out.append(BulkEditLine(line, sku, BulkEditReport.UPDATED, ", ".join(sorted(changes))
                                + (f" ({matched})" if matched else ""),
                                gtin_product=product.pk if "gtin" in changes else None))
    return out

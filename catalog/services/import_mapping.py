"""One import's state: applying its manifest, mapping each file to a product and position,
ingesting it, and the counters and issues that make the report."""

import copy
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..errors import StorageDownError
from ..gtin import products_gtin_warnings
from ..ingest import skus
from ..ingest.archives import MANIFEST_NAME, name_order_key
from ..ingest.manifest import Manifest, ManifestRow, field_errors_text, parse_manifest
from ..ingest.naming import (
    DELETED,
    LIVE,
    FilenameRules,
    Known,
    Target,
    Unmapped,
    file_target,
    fold_sku,
    known_usable,
    lead_view,
    lookalike_warning,
    manifest_case_twins,
    manifest_case_variants,
    manifest_claim_text,
    manifest_claims,
    position_order_name,
    sku_known,
    sku_prefixes,
)
from ..models import ImageAsset, ImportIssue, ImportJob, Product
from .assets import (
    STORAGE_FAULT,
    HashLookup,
    IngestResult,
    asset_duplicate_first_by_name,
    asset_ingest,
    asset_positions_by_name,
    duplicate_row_words,
    header_refusal,
    original_filename_of,
    position_holders,
    position_kept,
    position_taken_reason,
)
from .products import (
    PRODUCT_EDITABLE,
    product_create,
    product_fields_changed,
    product_fields_clean,
    product_update,
    products_sku_folded,
)


class _Skip(Exception):
    """This file maps to no usable product; ``reason`` goes in the report."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


#: The validator's wording of the characters a SKU may have (``naming.file_target``'s
#: ``sku_rule``), for the import and its preview: the one rule's (``catalog.ingest.skus``).
SKU_RULE = skus.SKU_RULE


def manifest_parse(data: bytes, *, encoding: str = "utf-8",
                   name: str = "manifest.csv") -> Manifest:
    """The manifest as every import and its preview read it (``parse_manifest``): a line
    whose SKU no new product may have refuses the file up front, as a repeated position
    does, unless a stored product has that SKU (made before the rule: the line updates it)."""
    return parse_manifest(data, encoding=encoding, name=name, stored_skus=_stored_skus)


def manifest_display_name(manifest_file: object | None = None, *, path: str | None = None
                          ) -> str:
    """The one name an import's manifest goes by in its preview, report and messages: an
    uploaded manifest's own file name (chosen beside the ZIP or the photos:
    ``manifest_bad3.csv``), else its ``path`` in the ZIP or folder (``shoot/manifest.csv``)."""
    if manifest_file is not None:
        name = os.path.basename(str(getattr(manifest_file, "name", "") or "").replace("\\", "/"))
        return name[:200] or MANIFEST_NAME
    return path or MANIFEST_NAME


def _stored_skus(skus: list[str]) -> set[str]:
    return set(Product.objects.filter(sku__in=skus).values_list("sku", flat=True))


def _validation_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return field_errors_text(exc.message_dict)
    return " ".join(exc.messages)


def _manifest_validation_text(exc: ValidationError, *, manifest: Manifest, sku: str,
                              line: int) -> str:
    """``_validation_text`` for a manifest product said of ``line`` (a file's row, the SKU's
    product line): a field the SKU's rows give on another line is named with that line,
    "its GTIN on line 8: …", since a repeated SKU's rows may each give another field (QA40
    M2: every file of the SKU named its own line for line 8's bad GTIN); one on ``line``
    itself "GTIN: …" (``manifest.field_name``, QA41 L3)."""
    if not hasattr(exc, "message_dict"):
        return _validation_text(exc)
    return field_errors_text(exc.message_dict, lines=manifest.field_lines.get(sku, {}),
                             said_of=line)


def product_new_validated(*, sku: str, fields: dict[str, str]) -> Product:
    """An unsaved product for a new SKU with ``fields``, validated as the import creates it
    (SKU rules, GTIN check digit, ASIN format; raises ValidationError). The one check of a
    product the import would make: its manifest (``ImportRun._apply_chunk``), its files
    (``manifest_product_new``) and its preview all call it."""
    product = Product(sku=sku.strip(), **product_fields_clean(fields))
    product.full_clean(validate_unique=False, validate_constraints=False)
    return product


def manifest_product_new(*, sku: str, manifest: Manifest | None, line: int = 0) -> Product:
    """The product a file whose SKU names no product would create, with the manifest's
    fields for that SKU; raises ``Unmapped`` with the reason its files are refused,
    "manifest.csv line 2: Cannot create product 'BAD SKU!': sku: …". The import
    (``ImportRun._product_new``) and its preview (``selectors.import_preview``) both ask
    here, so the preview refuses exactly the files the import refuses. ``line``: the
    manifest row of the file, if a row names it (else the SKU's product line is named)."""
    # A manifest's product is made with the manifest's fields, so one whose row is refused
    # (a bad GTIN) is refused for every file of it, also one the naming rules send there,
    # rather than created bare from its first file.
    fields = manifest.products.get(sku, {}) if manifest is not None else {}
    try:
        return product_new_validated(sku=sku, fields=fields)
    except ValidationError as exc:
        if manifest is None or not (line or sku in manifest.products):
            raise Unmapped(f"Cannot create product {sku!r}: {_validation_text(exc)}")
        line = line or manifest.product_lines.get(sku, 0)
        where = f"{manifest.name} {f'line {line}' if line else manifest.where(sku)}: "
        text = _manifest_validation_text(exc, manifest=manifest, sku=sku, line=line)
        raise Unmapped(f"{where}Cannot create product {sku!r}: {text}")


def product_update_validated(*, product: Product, fields: dict[str, str]) -> Product:
    """A copy of the existing ``product`` with ``fields`` set, validated as the import (and
    ``products.product_update``) updates it: the SKU is not checked, as it is not changed;
    raises ValidationError. ``product`` itself is left untouched, so a refused update
    leaves nothing half-applied on it."""
    updated = copy.copy(product)
    for key, value in product_fields_clean(fields).items():
        setattr(updated, key, value)
    updated.full_clean(exclude=["sku"], validate_unique=False, validate_constraints=False)
    return updated


@dataclass
class ManifestOutcome:
    """What an import does with one manifest SKU (``manifest_outcome``)."""

    #: CREATE (``product`` unsaved), UPDATE (``product``: a changed copy), KEEP (no field
    #: that changes a stored value: ``products.product_fields_changed``),
    #: LEAVE (an update refused: ``reason`` is a warning, its files are still imported) or
    #: REFUSE (``reason`` is an error: no product, and its files are refused).
    action: str
    product: Product | None = None
    reason: str = ""
    #: REFUSE for a value the product cannot have (a GTIN's check digit, an ASIN's form):
    #: a fault of the manifest itself, which the ZIP preview holds Import ZIP for
    invalid: bool = False


CREATE, UPDATE, KEEP, LEAVE, REFUSE = "create", "update", "keep", "leave", "refuse"


def manifest_outcome(*, manifest: Manifest, sku: str, existing: Product | None,
                     refused: str = "") -> ManifestOutcome:
    """The import's one decision about a manifest SKU, given the product it names
    (``existing``: exactly or ignoring case, deleted ones too; None: no product) and
    ``refused``, why it names none usable (a case twin of another row, live twins):
    ``ImportRun._apply_chunk`` applies it, and the upload preview
    (``manifest_preview_notes``) says it before anything is sent, in the same words."""
    where = manifest.where(sku).capitalize()
    fields = manifest.products[sku]
    if refused:
        return ManifestOutcome(REFUSE, reason=f"{where}: product {sku} is skipped and its "
                               f"files are refused: {refused}")
    if existing is None:
        try:
            return ManifestOutcome(CREATE, product_new_validated(sku=sku, fields=fields))
        except ValidationError as exc:
            return ManifestOutcome(REFUSE, reason=f"{where}: product {sku} not created; its "
                                   f"files are refused: {_outcome_text(exc, manifest, sku)}",
                                   invalid=True)
    if existing.deleted_at is not None:
        return ManifestOutcome(REFUSE, reason=f"{where}: product {existing.sku} is deleted; "
                               "its manifest rows are skipped.")
    if not product_fields_changed(product=existing, fields=fields):
        # the row repeats what is stored (or gives no field): not written, not counted
        return ManifestOutcome(KEEP, existing)
    try:
        return ManifestOutcome(UPDATE, product_update_validated(product=existing,
                                                                fields=fields))
    except ValidationError as exc:
        return ManifestOutcome(LEAVE, existing, f"{where}: product {sku} left as it was; its "
                               f"files are still imported: {_outcome_text(exc, manifest, sku)}")


def _outcome_text(exc: ValidationError, manifest: Manifest, sku: str) -> str:
    """Why a manifest product is refused, said of its product line (``Manifest.where``)."""
    return _manifest_validation_text(exc, manifest=manifest, sku=sku,
                                     line=manifest.product_lines.get(sku, 0))


def gtin_sets(outcome: ManifestOutcome, existing: Product | None) -> bool:
    """Whether ``outcome`` gives a product a GTIN it did not have (a product created with
    one, an update that changes it): what the shared-GTIN warning is asked of, as the form
    pages and the bulk edit ask it of a save that sets a GTIN."""
    if outcome.action not in (CREATE, UPDATE) or outcome.product is None:
        return False
    return bool(outcome.product.gtin) and (existing is None
                                           or existing.gtin != outcome.product.gtin)


def manifest_gtin_notes(*, manifest: Manifest, products: dict[str, Product]
                        ) -> list[tuple[int, str]]:
    """(line, reason) of each manifest product (``products``: by manifest SKU, created or
    changed, saved or not) whose GTIN another live product has, or another of the manifest's
    new ones: "Line 3: GTIN 4006381333931 is also on product QA001 (#12). …", the words
    New product and the API say (``gtin.product_gtin_warning``). A warning, not a refusal,
    as there. The import reports it once its whole manifest is applied
    (``ImportRun.apply_manifest``), its preview before anything is sent
    (``manifest_preview``)."""
    by_sku = {p.sku: sku for sku, p in products.items()}
    warnings = products_gtin_warnings(products=products.values())
    return sorted((manifest.product_lines.get(by_sku[stored], 0),
                   f"{manifest.where(by_sku[stored]).capitalize()}: {text}")
                  for stored, text in warnings.items())


def manifest_missing_text(row: ManifestRow, *, where: str, refusal: str = "") -> str:
    """What the import says of a manifest row whose file is not among its files (``where``:
    "in the archive", "among the uploaded files"), with every reason the row has: a row whose
    product is refused (``refusal``, from ``manifest_outcome``) says so too, since no file of
    it will carry that reason to the report."""
    text = f"Manifest line {row.line} names {row.filename}, which is not {where}."
    return f"{text} {refusal}" if refusal else text


#: ``manifest_missing_text``'s ``where`` per kind of import.
MISSING_FROM = {"zip": "in the archive", "folder": "in the folder",
                "upload": "among the uploaded files"}


@dataclass
class ManifestPreview:
    """What ``manifest_preview`` finds: ``notes`` as ``manifest_preview_notes`` gives them,
    and ``created``, the SKUs the manifest step would create (in manifest order), with or
    without a file: the preview counts those no file maps to (QA31 L5)."""

    notes: list[tuple[str, str, str]]
    created: list[str]
    #: reasons among ``notes`` that are the manifest's own fault (a GTIN's check digit: the
    #: product cannot be made with its values), which the ZIP preview holds Import ZIP for,
    #: as for a manifest error (QA40 L4)
    blocking: set[str] = field(default_factory=set)


def manifest_preview_notes(*, manifest: Manifest, names: Iterable[str], session: bool
                           ) -> list[tuple[str, str, str]]:
    """``manifest_preview``'s notes alone."""
    return manifest_preview(manifest=manifest, names=names, session=session).notes


def manifest_preview(*, manifest: Manifest, names: Iterable[str], session: bool
                     ) -> ManifestPreview:
    """What the import will report against the manifest itself, before anything is sent:
    (manifest name, reason, level) in line order, and the products it will create. Per SKU the
    import's own decision (``manifest_outcome``, over the products
    ``ImportRun._manifest_existing`` finds), so an existing product a row cannot update is a
    warning ("left as it was; its files are still imported") and a refused row whose file is not
    among ``names`` gets both reasons. A refused row whose file is among them is not repeated
    here: that file is listed with the refusal (``manifest_product_new`` /
    ``naming.file_target``). ``session``: ``names`` are a browser session's files ("not among
    the uploaded files", as the session's finish says), else a ZIP's entries ("not in the
    archive"); every row whose file is missing either way."""
    kind = ImportJob.Source.UPLOAD if session else ImportJob.Source.ZIP
    run = ImportRun(ImportJob(options={}, source_kind=kind))
    run.manifest = manifest
    refusals: dict[str, str] = {}
    notes: list[tuple[int, str, str]] = []
    created: list[str] = []
    twins = run.twin_rows()
    skus = list(manifest.products)
    chunk = settings.CUTROOM_MANIFEST_CHUNK
    gtins: dict[str, Product] = {}
    invalid: set[str] = set()
    for start in range(0, len(skus), chunk):
        part = skus[start:start + chunk]
        existing, ambiguous = run._manifest_existing(part, twins)
        for sku in part:
            outcome = manifest_outcome(manifest=manifest, sku=sku, existing=existing.get(sku),
                                       refused=twins.get(sku) or ambiguous.get(sku, ""))
            if gtin_sets(outcome, existing.get(sku)):
                assert outcome.product is not None
                gtins[sku] = outcome.product
            line = manifest.product_lines.get(sku, 0)
            if outcome.action == REFUSE:
                refusals[sku] = outcome.reason
                if outcome.invalid:
                    invalid.add(sku)
            elif outcome.action == LEAVE:
                notes.append((line, outcome.reason, ImportIssue.Level.WARNING))
            elif outcome.action == CREATE:
                created.append(sku)
    notes.extend((line, reason, ImportIssue.Level.WARNING)
                 for line, reason in manifest_gtin_notes(manifest=manifest, products=gtins))
    with_files = {row.sku for row in manifest.rows if row.filename}
    # A ZIP's manifest giving a product a value it cannot have (a GTIN's check digit) is
    # said once, against the manifest, even when its files are there: the ZIP preview holds
    # Import ZIP for it as for a manifest error (QA40 L4), and a session's files are listed
    # with the refusal instead (they are held back, the rest uploads).
    # A row whose file is missing already says the refusal (once, as the import reports it).
    held = invalid if not session else set()
    unmatched = manifest.unmatched(names)
    missing = {row.sku for row in unmatched}
    blocking: set[str] = set()
    for sku, reason in refusals.items():
        if sku not in with_files or (sku in held and sku not in missing):
            notes.append((manifest.product_lines.get(sku, 0), reason, ImportIssue.Level.ERROR))
            if sku in held:
                blocking.add(reason)
    for row in unmatched:
        refusal = refusals.get(row.sku, "")
        text = manifest_missing_text(row, where=MISSING_FROM[kind], refusal=refusal)
        if row.sku in held:
            blocking.add(text)
        notes.append((row.line, text,
                      ImportIssue.Level.ERROR if refusal else ImportIssue.Level.WARNING))
    notes.sort(key=lambda note: note[0])
    return ManifestPreview(
        notes=[(manifest.name, reason, level) for _line, reason, level in notes],
        created=created, blocking=blocking)


#: Refused manifest products whose reason a job's checkpoint keeps, for its rows whose files
#: never come (``manifest_refusals_kept``); the rest are counted.
MANIFEST_REFUSALS_KEPT = 1000


def manifest_refusals_kept(run: "ImportRun", manifest: Manifest) -> dict:
    """For a job's checkpoint: why the manifest step refused each product whose rows name
    files (``ImportRun.manifest_refusals``), the first ``MANIFEST_REFUSALS_KEPT``
    (``refused``) and how many more (``refused_more``). Those files carry the reason when
    they come; the rows whose files never do get it from here: at a session's finish
    (``imports._manifest_rows_missing``), and in a ZIP or folder run resumed between its
    manifest step and its report of missing files (``import_runner``)."""
    with_files = {row.sku for row in manifest.rows if row.filename}
    refused = {sku: reason for sku, reason in run.manifest_refusals.items()
               if sku in with_files}
    if not refused:
        return {}
    kept = dict(list(refused.items())[:MANIFEST_REFUSALS_KEPT])
    return {"refused": kept, "refused_more": len(refused) - len(kept)}


def import_order_key(name: str, manifest: Manifest | None) -> tuple[bool, tuple[str, ...]]:
    """The order an import takes its files in: those a manifest row gives a position first,
    then the rest, each in name order (``name_order_key``). A ZIP and a server folder are
    imported in it (``import_runner.manifest_positions_first``); a browser session, whose
    files arrive in any order, settles identical files by it (``ImportRun._first_by_name``),
    and the page's preview marks copies by it, so the row's file keeps the image and its
    position and an unlisted identical copy is the duplicate in every path."""
    return (not (manifest is not None and manifest.positions(name)), name_order_key(name))

class ImportRun:
    """State of one import: rules, product cache, counters, issue writing."""

    #: SKUs a run looks up in other case one query each (an index lookup on UPPER(sku),
    #: ~0.4 ms at 50k products); past these it reads every SKU once and looks them up in
    #: memory (a ZIP of thousands of new SKUs then costs one read, not thousands of queries).
    FOLD_SCANS = 8

    def __init__(self, job: ImportJob, progress: Callable | None = None):
        self.job = job
        self.rules = FilenameRules.from_options(job.options)
        self.create_products = bool(job.options.get("create_products"))
        # The manager asked to replace older images at taken positions (a re-shoot).
        self.replace = bool(job.options.get("replace"))
        self.manifest: Manifest | None = None
        # Products by their stored SKU; ``folded`` maps a SKU read in other case to one.
        self.products: dict[str, Product | None] = {}
        self.folded: dict[str, str] = {}
        # SKUs (``fold_sku``) no product had in any case when asked: one scan each per run
        self.absent: set[str] = set()
        self._fold_scans = 0
        self._all_skus: dict[str, list[tuple[str, bool]]] | None = None
        self._twin_rows: dict[str, str] | None = None  # see ``twin_rows``
        self.progress = progress
        self.last_issue_id = 0
        self.storage_faults = 0
        # The entry a dead run was busy with: what it stored is this job's own, not a duplicate.
        self.resumed_name = ""
        # When the checkpoint before that entry was written: what the dead run replaced for
        # it was deleted after this (``_replaced_before_resume``). None: not known.
        self.resumed_since: datetime | None = None
        # Files of this run that took the next free position: an explicitly positioned file
        # may move them out of its way (``asset_ingest``'s ``movable``). A browser session
        # keeps them in the job's checkpoint instead, shared by all its requests.
        self.auto: set[int] = set()
        # their names by product id, to order them again when a lead view comes (``ingest``)
        self.auto_names: dict[int, dict[int, str]] = {}
        self.session = job.source_kind == ImportJob.Source.UPLOAD
        # (SKU folded, position) -> the manifest row giving it (``_manifest_claim_check``)
        self._claims: dict[tuple[str, str], ManifestRow] | None = None
        self._skus_with_files: set[str] | None = None  # see ``_manifest_line_issue``
        #: manifest SKU -> why its product is refused with its files (``_manifest_line_issue``)
        self.manifest_refusals: dict[str, str] = {}
        self._left: set[str] = set()  # updates refused, reported (``_manifest_left``)
        #: manifest SKUs whose product the manifest step gave a GTIN (``gtin_sets``)
        self._gtin_set: set[str] = set()

    def _movable(self) -> set[int]:
        if not self.session:
            return self.auto
        # read inside the product's lock, so a file that arrived just before is seen
        checkpoint = ImportJob.objects.filter(pk=self.job.pk).values_list(
            "checkpoint", flat=True).first() or {}
        return {int(pk) for pk, _name in checkpoint.get("auto", [])}

    def _placed(self, name: str) -> Callable[[ImageAsset], None]:
        def note(asset: ImageAsset) -> None:
            self.auto.add(asset.pk)
            self.auto_names.setdefault(asset.product_id, {})[asset.pk] = name
            if self.session:
                auto_position_remember(self.job.pk, asset.pk, name)
        return note

    def apply_manifest(self, manifest: Manifest) -> None:
        """Create/update the manifest's products, one short transaction per chunk, with
        progress in the job's message."""
        self.manifest = manifest
        skus = list(manifest.products)
        chunk = settings.CUTROOM_MANIFEST_CHUNK
        for start in range(0, len(skus), chunk):
            part = skus[start:start + chunk]
            try:
                created, updated = self._apply_chunk(part, manifest)
            except IntegrityError:
                # A concurrent writer created one of these SKUs meanwhile: one by one.
                created, updated = self._apply_each(part, manifest)
            self.job.products_created += created
            self.job.products_updated += updated
            done = start + len(part)
            ImportJob.objects.filter(pk=self.job.pk).update(
                products_created=self.job.products_created,
                products_updated=self.job.products_updated,
                error_count=self.job.error_count, warning_count=self.job.warning_count,
                heartbeat_at=timezone.now(),
                message=f"Manifest: {done:,} of {len(skus):,} products applied.",
            )
        self._manifest_gtin_report(manifest)

    def _manifest_gtin_report(self, manifest: Manifest) -> None:
        """A warning per product the manifest gave a GTIN another live product has
        (``manifest_gtin_notes``), read once the whole manifest is applied, so it names the
        products that share it now, as the bulk edit does."""
        if not self._gtin_set:
            return
        made = [p.pk for sku in self._gtin_set if (p := self.products.get(
            self.folded.get(sku, sku))) is not None and p.pk is not None]
        stored = {p.pk: p for p in Product.objects.filter(pk__in=made)}
        products = {sku: stored[p.pk] for sku in self._gtin_set
                    if (p := self.products.get(self.folded.get(sku, sku))) is not None
                    and p.pk in stored}
        for _line, reason in manifest_gtin_notes(manifest=manifest, products=products):
            self.issue(manifest.name, reason, ImportIssue.Level.WARNING)
        ImportJob.objects.filter(pk=self.job.pk).update(warning_count=self.job.warning_count)

    def _apply_chunk(self, skus: list[str], manifest: Manifest) -> tuple[int, int]:
        # Validation runs before the transaction: on SQLite the write lock is held only for
        # the two bulk statements, and the gaps between chunks let other writers in.
        new: list[Product] = []
        changed: list[Product] = []
        now = timezone.now()
        twins = self.twin_rows()
        existing, ambiguous = self._manifest_existing(skus, twins)
        for sku in skus:
            outcome = manifest_outcome(manifest=manifest, sku=sku, existing=existing.get(sku),
                                       refused=twins.get(sku) or ambiguous.get(sku, ""))
            if gtin_sets(outcome, existing.get(sku)):
                self._gtin_set.add(sku)
            if outcome.action == REFUSE:
                self._manifest_line_issue(manifest, sku, outcome.reason)
            elif outcome.action == LEAVE:
                self._manifest_left(manifest, outcome.reason)
            elif outcome.action == CREATE:
                assert outcome.product is not None
                outcome.product.created_by_import = self.job
                new.append(outcome.product)
            elif outcome.action == UPDATE:
                assert outcome.product is not None
                outcome.product.updated_at = now
                changed.append(outcome.product)
            self._keep(sku, outcome.product)
        with transaction.atomic():
            # A product deleted or created by someone else since the read above: redo the
            # chunk one by one (IntegrityError), or leave the deleted one alone.
            Product.objects.bulk_create(new)
            Product.objects.bulk_update(changed, [*PRODUCT_EDITABLE, "updated_at"])
        if any(p.pk is None for p in new):  # backends that do not return ids
            ids = dict(Product.objects.filter(sku__in=[p.sku for p in new])
                       .values_list("sku", "pk"))
            for p in new:
                p.pk = p.id = ids[p.sku]
        return len(new), len(changed)

    def _manifest_existing(self, skus: list[str], twins: dict[str, str]
                           ) -> tuple[dict[str, Product], dict[str, str]]:
        """Per manifest SKU, the product it names: exactly, else the one live product whose
        SKU matches it ignoring case (``naming.sku_known``); and why a SKU names none when
        several live ones match it ignoring case and none exactly."""
        existing = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
        ambiguous: dict[str, str] = {}
        for sku in skus:
            if sku in existing or sku in twins:
                continue
            found = sku_known(sku, self._in_any_case(sku))
            if not isinstance(found, Known):
                continue
            if found.twins:
                try:
                    known_usable(sku, found)
                except Unmapped as exc:
                    ambiguous[sku] = str(exc)
                continue
            product = Product.objects.filter(sku=found.sku).first()
            if product is not None:
                existing[sku] = product
        return existing, ambiguous

    def twin_rows(self) -> dict[str, str]:
        """Manifest SKUs that are another's case twin (``naming.manifest_case_twins``: never
        created, as ``bulk_create`` would make twins), with the reason their files are
        refused. Worked out once per run, from the manifest and the products its case
        variants name: the same in the run that applies it and in each request of a session."""
        if self._twin_rows is None:
            self._twin_rows = {}
            variants = manifest_case_variants(self.manifest) if self.manifest else []
            if variants:
                assert self.manifest is not None
                self._twin_rows = manifest_case_twins(self.manifest, variants,
                                                      _stored(variants)[1])
        return self._twin_rows

    def _keep(self, sku: str, product: Product | None) -> None:
        """Note the product a manifest SKU names, for its files (None: none yet, or refused)."""
        if product is None:
            self.products.setdefault(sku, None)
            return
        self.products[product.sku] = product
        if product.sku != sku:
            self.folded[sku] = product.sku
        elif product.pk is None and self._all_skus is not None:  # made now: files find it
            self._all_skus.setdefault(fold_sku(sku), []).append((sku, False))

    def _apply_each(self, skus: list[str], manifest: Manifest) -> tuple[int, int]:
        created = updated = 0
        for sku in skus:
            self._gtin_set.discard(sku)  # the chunk's own note was rolled back with it
            if sku in self.twin_rows():  # reported by _apply_chunk
                continue
            fields = manifest.products[sku]
            with transaction.atomic():
                product = Product.objects.filter(sku=sku).first()
                if product is None:  # in other case?
                    by_sku, state = _stored([sku])
                    found = state(sku)
                    if isinstance(found, Known) and found.twins:
                        continue  # reported by _apply_chunk
                    product = by_sku[found.sku] if isinstance(found, Known) else None
                try:
                    gtin_before = product.gtin if product is not None else ""
                    if product is None:
                        product = product_create(sku=sku, **fields)
                        Product.objects.filter(pk=product.pk).update(created_by_import=self.job)
                        created += 1
                    elif product.deleted_at is not None:
                        self._manifest_line_issue(
                            manifest, sku, f"{manifest.where(sku).capitalize()}: product "
                            f"{product.sku} is deleted; its manifest rows are skipped.")
                        product = None
                    elif product_fields_changed(product=product, fields=fields):
                        product = product_update(product=product, **fields)
                        updated += 1
                    if product is not None and product.gtin and product.gtin != gtin_before:
                        self._gtin_set.add(sku)
                except ValidationError as exc:
                    self._manifest_refused(manifest, sku, exc, created=product is None)
                    product = None
            self._keep(sku, product)
        return created, updated

    def _manifest_refused(self, manifest: Manifest, sku: str, exc: ValidationError, *,
                          created: bool) -> None:
        """A product the manifest cannot create or update (a bad GTIN...), reported against
        the manifest's own file name and line. A product it would have created is not
        created, and ``_product_new`` refuses its files, so a refused row leaves no product."""
        text = _outcome_text(exc, manifest, sku)
        where = manifest.where(sku).capitalize()
        if created:
            self._manifest_line_issue(manifest, sku, f"{where}: product {sku} not created; its "
                                      f"files are refused: {text}")
            return
        self._manifest_left(manifest, f"{where}: product {sku} left as it was; its files are "
                            f"still imported: {text}")

    def _manifest_left(self, manifest: Manifest, reason: str) -> None:
        # a warning: its files are imported, and the summary's "refused" counts files. Once:
        # a chunk redone one by one (``_apply_each``) meets the same row again.
        if reason not in self._left:
            self._left.add(reason)
            self.issue(manifest.name, reason, ImportIssue.Level.WARNING)

    def _manifest_line_issue(self, manifest: Manifest, sku: str, reason: str) -> None:
        """A manifest product whose files are all refused (it cannot be created, is deleted,
        is a case twin): reported against the manifest only when its rows name no file.
        Otherwise each of its files is refused with the line's reason (``_product_new``,
        ``sku_state``, ``file_target``), and the report counts files, not the line again; a
        row whose file is not among the import's gets the reason with that
        (``manifest_refusals``, read by ``manifest_missing_text``). Once per SKU: a chunk
        redone one by one (``_apply_each``) meets the same SKU again."""
        if sku in self.manifest_refusals:
            return
        self.manifest_refusals[sku] = reason
        if self._skus_with_files is None:
            self._skus_with_files = {row.sku for row in manifest.rows if row.filename}
        if sku not in self._skus_with_files:
            self.issue(manifest.name, reason, ImportIssue.Level.ERROR)

    def _duplicate_issue(self, filename: str, copy: ImageAsset) -> None:
        """The report row of a file that arrived with the bytes of ``copy``, stored on its
        product: its words composed from its columns and lead (``duplicate_row_words``), so
        they can be said again from them when the copy moves."""
        lead = ImportIssue.Lead.ARRIVED
        self.issue(filename, duplicate_row_words(lead=lead, sku=copy.product.sku,
                                                 position=copy.position, asset_pk=copy.pk)
                   + self.position_lost_note(filename, copy),
                   ImportIssue.Level.WARNING, kind=ImportIssue.Kind.DUPLICATE, about=copy,
                   lead=lead)

    def position_lost_note(self, filename: str, copy: ImageAsset) -> str:
        """What a duplicate's report row adds when its manifest row places it at another
        position than its stored ``copy`` holds: the line and the position it is not placed
        at, and how to fill it (the product page has no move of an image to another
        position: a photo of its own is the way). A product holds one live image of the same bytes
        (``catalog_asset_unique_live_sha``) and an image one position, so the position cannot
        refer to the copy, and moving the copy would empty the position it holds; the row
        says so rather than lose the line silently (QA41 L4: PT01 stayed empty, line 3 was
        not named). It names the copy by its id only, not its position, so the words stay
        true when the copy moves (``imports._duplicate_reason_at`` keeps them). "" for a
        file no row places, or placed where the copy is."""
        row = self.manifest_row(filename)
        if (self.manifest is None or row is None or not row.position
                or row.position == copy.position):
            return ""
        return (f" {self.manifest.name} line {row.line} places it at {row.position}: not "
                f"placed there, as asset #{copy.pk} is this photo and an image holds one "
                f"position; {row.position} stays as it was. Give line {row.line} another photo "
                f"for {row.position}.")

    def issue(self, filename: str, reason: str, level: str, *,
              kind: str = ImportIssue.Kind.OTHER, lead: str = ImportIssue.Lead.NONE,
              about: ImageAsset | None = None,
              named: ImageAsset | None = None, row: ManifestRow | None = None,
              mapped: tuple[str, str] | None = None, counts: int = 1) -> None:
        """Record an issue of ``filename``; ``kind`` and ``about`` (the image it names: a
        duplicate's stored copy, a replacement's new image) are what the report reads;
        without ``about``, the (SKU, position) the file was ``mapped`` to, else those its
        manifest ``row`` gives it, if any.
        ``lead``: a duplicate's (``_duplicate_issue``).
        ``named``: another image the words name besides (an identical file's), kept so they
        can be said again when it moves.
        ``counts``: how many errors or warnings the row stands for in the job's counts: one,
        or for a row that ends a cut list ("… and 1,234 more …") the ones it was cut of: such
        a row is no error itself."""
        if about is not None:
            sku, position = about.product.sku, about.position
        elif mapped is not None:
            sku, position = mapped
        else:
            sku, position = (row.sku, row.position) if row is not None else ("", "")
        issue = ImportIssue.objects.create(
            job=self.job, filename=filename[:512], reason=reason, level=level, kind=kind,
            lead=lead, sku=sku[:64], position=position[:4],
            asset_pk=about.pk if about is not None else None,
            named_sku=named.product.sku[:64] if named is not None else "",
            named_position=named.position[:4] if named is not None else "",
            named_pk=named.pk if named is not None else None)
        self.last_issue_id = max(self.last_issue_id, issue.pk)
        if level == ImportIssue.Level.ERROR:
            self.job.error_count += counts
        else:
            self.job.warning_count += counts
        if self.progress is not None:
            self.progress(issue=(filename, reason, level))

    def sku_state(self, sku: str) -> str | Known | None:
        """LIVE, DELETED, a ``Known`` (the product is stored in other case, or several are:
        ``naming.sku_known``) or None (no product yet), for ``file_target``; live products are
        kept under their stored SKU. A manifest row's case twin stops its files."""
        cached = self.products.get(sku)
        if cached is not None and cached.pk is not None:
            return LIVE
        if sku in self.folded:
            return Known(state=LIVE, sku=self.folded[sku])
        product = Product.objects.filter(sku=sku).first()
        if product is not None:
            if product.deleted_at is not None:
                return DELETED
            self.products[sku] = product
            return LIVE
        # Not exactly (never a case twin then): the manifest's only spelling of its product?
        if self.manifest is not None and sku in self.manifest.products:
            reason = self.twin_rows().get(sku)
            if reason:
                raise Unmapped(reason)
        # In other case? (A scan of the SKUs, once per SKU not found exactly.) A product made
        # meanwhile by another upload is found by ``asset_ingest``, which then uses it.
        if fold_sku(sku) in self.absent:
            return None
        found = sku_known(sku, self._in_any_case(sku))
        if found in (LIVE, DELETED):
            # Exactly this SKU after all: another upload of the session created the product
            # between the exact lookup above and this scan. Taken as the exact lookup would
            # have, so a live product is kept for ``_target`` (a plain LIVE says it is).
            product = Product.objects.filter(sku=sku).first()
            if product is None:
                return None
            if product.deleted_at is not None:
                return DELETED
            self.products[sku] = product
            return LIVE
        if isinstance(found, Known) and found.state == LIVE and not found.twins:
            product = Product.objects.filter(sku=found.sku).first()
            if product is None or product.deleted_at is not None:  # gone since the read
                return None if product is None else Known(state=DELETED, sku=product.sku)
            kept = self.products.get(product.sku)
            if kept is None or kept.pk is None:
                self.products[product.sku] = product
            self.folded[sku] = product.sku
        elif found is None:
            self.absent.add(fold_sku(sku))
        return found

    def _in_any_case(self, sku: str) -> list[tuple[str, bool]]:
        """(SKU, is deleted) of the products whose SKU matches ``sku`` ignoring case: one query
        each for the first ``FOLD_SCANS`` SKUs, then from every SKU read once. Products made
        since that read are found by ``asset_ingest``, which then uses them."""
        if self._all_skus is None:
            self._fold_scans += 1
            if self._fold_scans <= self.FOLD_SCANS:
                return [(s, deleted_at is not None) for s, deleted_at in
                        products_sku_folded([sku]).values_list("sku", "deleted_at")]
            self._all_skus = {}
            for s, deleted_at in Product.objects.values_list("sku", "deleted_at").iterator(
                    chunk_size=5000):
                self._all_skus.setdefault(fold_sku(s), []).append((s, deleted_at is not None))
        return self._all_skus.get(fold_sku(sku), [])

    def _product_new(self, target: Target) -> Product:
        """An unsaved product for a new SKU, checked now: ``asset_ingest`` saves it with the
        first of its files that is stored, so a refused file creates no empty product."""
        product = self.products.get(target.sku)
        if product is None:
            try:
                product = manifest_product_new(sku=target.sku, manifest=self.manifest,
                                               line=target.manifest_line)
            except Unmapped as exc:
                raise _Skip(str(exc))
            self.products[target.sku] = product
        return product

    def target(self, name: str) -> tuple[Product, str | None]:
        product, target = self._target(name)
        return product, target.position

    def _target(self, name: str) -> tuple[Product, Target]:
        try:
            target = file_target(name, rules=self.rules, manifest=self.manifest,
                                 create=self.create_products, state=self.sku_state,
                                 valid=skus.sku_valid, sku_rule=SKU_RULE)
        except Unmapped as exc:
            raise _Skip(str(exc))
        self._manifest_claim_check(target)
        if target.new:
            return self._product_new(target), target
        product = self.products[target.sku]
        assert product is not None  # sku_state kept every product it called live
        return product, target

    def _manifest_claim_check(self, target: Target) -> None:
        """In a browser session, refuse a file whose name gives it a position a manifest row
        gives another file: a manifest row beats every naming rule, and the session's files
        arrive in any order, so the position is kept for the row's file whether it came
        first or not. (A ZIP or folder import takes the rows' files first instead, and the
        named file meets the usual position-taken refusal: ``import_runner``.)"""
        if not self.session or self.manifest is None or target.manifest_line \
                or not target.position:
            return
        if self._claims is None:
            self._claims = manifest_claims(self.manifest)
        row = self._claims.get((fold_sku(target.sku), target.position))
        if row is not None:
            raise _Skip(manifest_claim_text(sku=target.sku, position=target.position, row=row,
                                            manifest_name=self.manifest.name))

    def _lookalike(self, sku: str) -> str:
        """``naming.lookalike_warning`` for a product a file just created: its prefixes in
        one query, or from the SKU map once the run has read it (``_in_any_case``)."""
        prefixes = sku_prefixes(sku)
        if not prefixes:
            # nothing to look up, but a view word (front.jpg) is still worth a warning
            return lookalike_warning(sku, state=lambda _p: None)
        if self._all_skus is None and self._fold_scans < self.FOLD_SCANS:
            self._fold_scans += 1
            buckets: dict[str, list[tuple[str, bool]]] = {}
            for s, deleted_at in products_sku_folded(prefixes).values_list("sku", "deleted_at"):
                buckets.setdefault(fold_sku(s), []).append((s, deleted_at is not None))
            return lookalike_warning(
                sku, state=lambda p: sku_known(p, buckets.get(fold_sku(p), ())))
        return lookalike_warning(sku, state=lambda p: sku_known(p, self._in_any_case(p)))

    def manifest_row(self, name: str) -> ManifestRow | None:
        """The manifest row that names the file ``name``, if the import has a manifest."""
        return self.manifest.row_for(name) if self.manifest is not None else None

    def ingest(self, name: str, fileobj: BinaryIO, user, *,
               hashes: HashLookup | None = None) -> IngestResult:
        """One file of the import (``hashes``: its request's, see ``asset_ingest``)."""
        try:
            product, target = self._target(name)
            position = target.position
        except _Skip as skip:
            # A file that is no image is refused for that, not for its name: advice on the
            # SKU (add it to the manifest, create products) would not make it one.
            reason, code = header_refusal(fileobj, name) or (skip.reason, "unmapped")
            # the report names the SKU and position the manifest gives the file (QA
            # 2026-12-05 L3: a refused row's cells were empty although its line gave them)
            self.issue(name, reason, ImportIssue.Level.ERROR, row=self.manifest_row(name))
            return IngestResult(filename=name, status=IngestResult.REJECTED, reason=reason,
                                code=code)
        result = asset_ingest(product=product, fileobj=fileobj, filename=name, user=user,
                              position=position, import_job=self.job, movable=self._movable,
                              placed=self._placed(name), replace=self.replace,
                              hashes=hashes)
        if (result.status == IngestResult.STORED and result.auto_position
                and not self.session and result.asset is not None and lead_view(name)):
            self._lead_first(result.asset)
        if result.product_created:
            self.job.products_created += 1
            if not target.manifest_line:  # a manifest's SKU is what the manager wrote
                lookalike = self._lookalike(result.asset.product.sku if result.asset else
                                            product.sku)
                if lookalike:
                    result.warnings.append(lookalike)
        if product.pk is None and result.asset is not None:
            saved = result.asset.product  # a concurrent case variant's row, maybe
            self.products[saved.sku] = saved
            self.absent.discard(fold_sku(saved.sku))
            if self._all_skus is not None:
                self._all_skus.setdefault(fold_sku(saved.sku), []).append((saved.sku, False))
            if saved.sku != product.sku:
                self.folded[product.sku] = saved.sku
        if result.status == IngestResult.STORED:
            self.job.imported_count += 1
            if result.replaced:
                self.job.replaced_count += 1
        elif (result.status == IngestResult.DUPLICATE and name == self.resumed_name
              and result.asset is not None and result.asset.import_job_id == self.job.pk):
            # Stored by this job's run that died mid-file: count it once, as imported, with
            # the replacement that run made for it (its warning was dropped with its issues).
            self.job.imported_count += 1
            result.status, result.reason, result.code = IngestResult.STORED, "", ""
            result.replaced = self._replaced_before_resume(result.asset)
            if result.replaced:
                self.job.replaced_count += 1
        elif result.status == IngestResult.DUPLICATE and self._first_by_name(name, result):
            # the image is now this file's; the one that arrived first is the duplicate
            self.job.duplicate_count += 1
            assert result.asset is not None and result.duplicate_of
            self._duplicate_issue(result.duplicate_of, result.asset)
        elif result.status == IngestResult.DUPLICATE:
            self.job.duplicate_count += 1
            assert result.asset is not None
            self._duplicate_issue(name, result.asset)
        else:
            # the product and position its name or manifest row maps it to, as the preview
            # shows them (QA 2026-12-06 L2: a corrupt QA004_PT01.jpg's row had neither)
            self.issue(name, result.reason, ImportIssue.Level.ERROR,
                       mapped=(product.sku, position or ""))
        if result.code == STORAGE_FAULT:
            self.storage_faults += 1
            if self.storage_faults >= settings.CUTROOM_IMPORT_MAX_STORAGE_FAULTS:
                raise StorageDownError(f"Stopped after {self.storage_faults} files in a row could "
                                   f"not be stored. {result.reason}")
        else:
            self.storage_faults = 0
        # a replacement's note is tied to the new image it made; a stored file's other
        # warnings (small, a colour assumption, a lookalike SKU) name the image too, so the
        # report gives their SKU and position (QA 2026-12-05: a session's warning rows had none)
        stored = result.asset if result.status == IngestResult.STORED else None
        for note in result.replacement_notes:
            self.issue(name, note, ImportIssue.Level.WARNING, kind=ImportIssue.Kind.REPLACED,
                       about=result.asset)
        for warning in result.warnings:
            self.issue(name, warning, ImportIssue.Level.WARNING, about=stored)
        if result.identical_note:
            self.issue(name, result.identical_note, ImportIssue.Level.WARNING,
                       kind=ImportIssue.Kind.IDENTICAL, about=stored, named=result.identical)
        return result

    def _lead_first(self, asset: ImageAsset) -> None:
        """A ZIP or folder entry named by a lead view (``front.jpg``) took the next free
        position after this run's earlier files of its product, which arrive first in name
        order: the run's such files take the free positions again in
        ``naming.position_order_name`` order, the lead first, as a browser session's finish
        gives them (``imports._positions_by_name``)."""
        names = self.auto_names.get(asset.product_id, {})
        moved = asset_positions_by_name(
            named=[(pk, position_order_name(n)) for pk, n in names.items()])
        asset.position = moved.get(asset.pk, asset.position)

    def _first_by_name(self, name: str, result: IngestResult) -> bool:
        """In a browser session, a duplicate of an image the session stored from a file later
        in the import's order (``import_order_key``: a manifest row's file before an unlisted
        identical copy, else name order) takes that image over
        (``asset_duplicate_first_by_name``): the file first in that order keeps its position
        whatever the arrival order, as in a ZIP (QA 2026-12-06 F4: ``a copy.jpg`` kept the
        image at PT01 and the row's ``a.jpg`` lost its PT03). On True, ``result`` is this
        file's (stored, with a note) and ``result.duplicate_of`` names the file that is now
        the duplicate."""
        asset = result.asset
        if not self.session or asset is None or asset.import_job_id != self.job.pk:
            return False
        autos = {int(pk): str(n) for pk, n in (ImportJob.objects.filter(pk=self.job.pk)
                 .values_list("checkpoint", flat=True).first() or {}).get("auto", [])}
        other = autos.get(asset.pk, asset.original_filename)
        mine, theirs = (import_order_key(n, self.manifest) for n in (name, other))
        if mine >= theirs:
            return False
        why = ("the file its manifest row places" if mine[0] != theirs[0]
               else "the first of the two in name order")
        _product, target = self._target(name)
        taken = asset_duplicate_first_by_name(asset=asset, filename=name,
                                              position=target.position, movable=self._movable)
        if taken is None:
            return False
        asset, notes = taken
        auto_position_rename(self.job.pk, asset.pk, name if target.position is None else None)
        result.status, result.asset, result.code = IngestResult.STORED, asset, ""
        result.duplicate_of = other
        result.reason = ""
        result.warnings = [*notes, (
            f"{original_filename_of(other)}, which arrived first, is the same file: the image is "
            f"kept as {result.filename} at {asset.position}, {why}, and "
            f"{original_filename_of(other)} is reported as the duplicate.")]
        return True

    def _replaced_before_resume(self, asset: ImageAsset) -> list[ImageAsset]:
        """The older images the dead run replaced with ``asset`` (the entry it was storing).
        ``asset_ingest`` deletes them in the transaction that inserts ``asset``, so they are
        the images at its position deleted between the checkpoint written before the entry
        (``resumed_since``) and the asset's row; not this import's own (those are never
        replaced). Without that checkpoint time nothing is claimed."""
        if not self.replace or self.resumed_since is None:
            return []
        return list(ImageAsset.objects.filter(
            product_id=asset.product_id, position=asset.position, pk__lt=asset.pk,
            deleted_at__gte=self.resumed_since, deleted_at__lte=asset.uploaded_at,
        ).exclude(import_job_id=self.job.pk).order_by("pk"))

    def refusal(self, name: str) -> str:
        """Why the import would refuse ``name`` now, from its name alone (no product for it,
        or a position another image holds), in the import's words; "" if it would not. For
        files a browser session did not send because its preview refused them."""
        try:
            product, position = self.target(name)
        except _Skip as skip:
            return skip.reason
        if position is None or product.pk is None:
            return ""
        _soft, fixed = position_holders(product, position, self._movable)
        holder = position_kept(fixed, replace=self.replace, import_job=self.job)
        # never sent, so its content was never compared with the holder's
        return (position_taken_reason(holder, import_job=self.job) + UNSEEN_CONTENT_NOTE
                if holder else "")

    def held_duplicate(self, name: str, sha256: str) -> ImageAsset | None:
        """The stored image ``name`` duplicates, by the sha256 the page computed of the file
        it did not send: a live image of the product the name maps to with those bytes (the
        import's own duplicate test, ``asset_ingest``), else None."""
        try:
            product, _position = self.target(name)
        except _Skip:
            return None
        if product.pk is None:
            return None
        return (ImageAsset.live.filter(product=product, sha256=sha256)
                .select_related("product").order_by("pk").first())

    def counters(self) -> dict:
        return {
            key: getattr(self.job, key)
            for key in ("imported_count", "replaced_count", "duplicate_count", "error_count",
                        "warning_count", "products_created", "products_updated")
        }


def _stored(skus: list[str]) -> tuple[dict[str, Product], Callable[[str], str | Known | None]]:
    """The products ``skus`` name exactly or ignoring case, by SKU, and ``file_target``'s
    ``state`` over them (``naming.sku_known``), from one query."""
    rows = list(products_sku_folded(skus))
    buckets: dict[str, list[tuple[str, bool]]] = {}
    for p in rows:
        buckets.setdefault(fold_sku(p.sku), []).append((p.sku, p.deleted_at is not None))
    return ({p.sku: p for p in rows},
            lambda sku: sku_known(sku, buckets.get(fold_sku(sku), ())))


def auto_position_remember(job_id: int, asset_id: int, name: str) -> None:
    """Note a session's file that took the next free position on arrival, with its name: the
    session's end puts these in name order (``imports._positions_by_name``), and an explicitly
    positioned file of the session may move it. Called in the asset row's transaction, with
    the job's row locked, so concurrent files of the session never lose each other's notes
    and no file is stored without its note."""
    job = ImportJob.objects.select_for_update().only("checkpoint").get(pk=job_id)
    checkpoint = dict(job.checkpoint or {})
    checkpoint["auto"] = [*checkpoint.get("auto", []), [asset_id, name]]
    ImportJob.objects.filter(pk=job_id).update(checkpoint=checkpoint)


def auto_position_rename(job_id: int, asset_id: int, name: str | None) -> None:
    """A session's image taken over by a file earlier in name order
    (``ImportRun._first_by_name``): its note (``auto_position_remember``) now names that
    file, so the session's end orders it by that name; ``name`` None drops the note (the
    file has its own position, which name order must not change)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().only("checkpoint").get(pk=job_id)
        checkpoint = dict(job.checkpoint or {})
        notes = checkpoint.get("auto", [])
        if not any(int(pk) == asset_id for pk, _name in notes):
            return
        checkpoint["auto"] = [[pk, name if int(pk) == asset_id else n] for pk, n in notes
                              if name is not None or int(pk) != asset_id]
        ImportJob.objects.filter(pk=job_id).update(checkpoint=checkpoint)


def unlisted_text(count: int) -> str:
    """How a cut list ends, in the report and the message: "… and 1,234 more". A report row
    with these words counts as the errors or warnings it stands for (``ImportRun.issue``'s
    ``counts``), never as one more."""
    return f"… and {count:,} more"


def import_summary(job: ImportJob) -> str:
    """The one-line outcome of an import, for its message."""
    parts = [f"{job.imported_count} imported"]
    if job.replaced_count:
        # of the imported: files that took a position from an older image (``replace``)
        parts[0] += (f" ({job.replaced_count} replacing an older image)" if job.replaced_count == 1
                     else f" ({job.replaced_count} replacing older images)")
    if job.duplicate_count:
        plural = "" if job.duplicate_count == 1 else "s"
        parts.append(f"{job.duplicate_count} duplicate{plural} skipped")
    if job.error_count:
        parts.append(f"{job.error_count} refused")
    if job.products_created:
        plural = "" if job.products_created == 1 else "s"
        parts.append(f"{job.products_created} product{plural} created")
    return ", ".join(parts) + "."


# --- Preview: explicit positions (the read is ``selectors.import_preview_positions``) ------------

#: What the preview (and the report of a file it held back) adds to a position refusal: the
#: server's preview knows names, not contents, and ``asset_ingest`` checks for a duplicate
#: before the position, so a copy of the image holding the position is skipped as a
#: duplicate, not refused. The page then hashes a file of the stored holder's size
#: (upload.js ``findIdentical``, SubtleCrypto), and says "identical" when it is: the note
#: says just that much, so it never contradicts the page's own count.
UNSEEN_CONTENT_NOTE = (" If this file is identical to the image holding the position, the "
                       "import skips it as a duplicate instead; before the upload the page "
                       "compares it only with a stored image of its size (on https or "
                       "localhost) and then says it is identical.")
#: What the ZIP preview adds to a file's name refusal (not mapped: unknown SKU, not in the
#: manifest, ...) when the page could not read the file's image header (a corrupt file; a
#: TIFF, HEIC or AVIF): the import opens a file before it refuses its name
#: (``ImportRun.ingest``: ``assets.header_refusal`` first), so a corrupt one is reported "Not
#: an image, or a corrupt one: ..." (QA 2026-12-06: the preview's "Not in the manifest" for
#: a corrupt ``broken.jpg`` read as the reason, the import's was "Not an image").
NAME_REFUSAL_UNREAD_NOTE = (" The import opens the file first: if it is not a readable image "
                            "(or a corrupt one), it is refused as that instead (the page "
                            "could not read this file's image header to tell).")
#: The preview's short label for those files, beside each one and in its counts.
PREVIEW_TAKEN_LABEL = "position taken: refused, or skipped as a duplicate if identical"

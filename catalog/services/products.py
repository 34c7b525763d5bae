"""Products: create, update, upsert, soft delete, restore and SKU release after a purge,
with one field-cleaning rule.

SKU reuse: a live product's SKU is taken; a soft-deleted product's SKU is still taken (creating
it again raises ProductDeletedError so the page can offer "restore it"); once purge_run has
removed a deleted product's files, ``products_release_purged`` renames its SKU to a tombstone
(``~<pk>~<old sku>``) and the SKU is free for a new product.

SKUs that differ only in case (``shoe-77`` beside ``SHOE-77``) name one product: their export
folders would collide on macOS and Windows, whose file systems ignore case. A new SKU that is
a case twin of a live product's is refused (``product_sku_twin``), and imports send such a SKU
to the product it names (``ImportRun``). The database refuses live case twins too
(``Product.Meta.constraints``), for two saves that race past that check: such an
IntegrityError is the same refusal, naming the product. A deleted product's SKU in another case
is free for a new product (restoring the deleted one is then refused while the new one is live).
"""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, Left, Upper
from django.utils import timezone

from .. import signals
from ..errors import (
    ProductDeletedError,
    ProductFieldError,
    ProductPurgedError,
    ProductRestoreError,
)
from ..ingest.naming import fold_sku
from ..models import SKU_CASE_TWIN, ImageAsset, Product
from ..validators import clean_identifier

PRODUCT_EDITABLE = ("title", "brand", "category", "gtin", "asin")


def products_sku_folded(skus: Iterable[str]) -> QuerySet[Product]:
    """Products, deleted ones too, whose SKU equals one of ``skus`` exactly or ignoring case
    (``naming.fold_sku``: ASCII only), in one query, by the index on UPPER(sku)."""
    skus = {sku for sku in skus if sku}
    ascii_skus = {sku for sku in skus if sku.isascii()}
    return Product.objects.annotate(sku_folded=Upper("sku")).filter(
        Q(sku_folded__in={fold_sku(sku) for sku in ascii_skus})
        | Q(sku__in=skus - ascii_skus))


def product_sku_twin(sku: str, *, exclude_pk: int | None = None) -> Product | None:
    """The live product whose SKU equals ``sku`` ignoring case but not exactly (first in SKU
    order if an install already holds several), or None."""
    if not sku.isascii():
        return None
    rows = products_sku_folded([sku]).filter(deleted_at__isnull=True).exclude(sku=sku)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.order_by("sku").first()


def sku_twin_message(sku: str, twin: Product) -> str:
    return (f"SKU {sku} differs only in case from product {twin.sku} (#{twin.pk}); their "
            "export folders would collide on macOS and Windows. Use that product, or another "
            "SKU.")


def _sku_twin_error(sku: str, twin: Product) -> ValidationError:
    return ValidationError({"sku": [ValidationError(sku_twin_message(sku, twin),
                                                    code=SKU_CASE_TWIN)]})


def product_fields_clean(fields: dict) -> dict:
    """Stripped editable fields, identifiers normalised; raises ProductFieldError for others."""
    cleaned = {}
    for key, value in fields.items():
        if key not in PRODUCT_EDITABLE:
            raise ProductFieldError(f"Unknown product field {key!r}")
        value = (value or "").strip()
        cleaned[key] = clean_identifier(value) if key in ("gtin", "asin") else value
    return cleaned


def product_fields_changed(*, product: Product, fields: dict) -> dict:
    """The cleaned ``fields`` (``product_fields_clean``) whose value differs from the one
    ``product`` stores: what an edit of it would really change. The one test of "updated"
    for the import's manifest (``import_mapping``) and the bulk edit (``product_bulk``): a
    row repeating the stored values changes nothing, so it is neither written nor counted
    in ``products_updated``."""
    return {key: value for key, value in product_fields_clean(fields).items()
            if getattr(product, key) != value}


@transaction.atomic
def product_create(
    *, sku: str, title: str = "", brand: str = "", category: str = "", gtin: str = "",
    asin: str = "",
) -> Product:
    """Raises ValidationError (bad SKU, check digit, SKU taken or a case twin of a live
    product's: ``product_sku_twin``) with UI-ready messages, and ProductDeletedError when the
    SKU belongs to a soft-deleted product (restore that one)."""
    sku = (sku or "").strip()
    deleted = Product.objects.filter(sku=sku, deleted_at__isnull=False).first()
    if deleted is not None:
        raise ProductDeletedError(deleted)
    product = Product(
        sku=sku,
        **product_fields_clean(
            {"title": title, "brand": brand, "category": category, "gtin": gtin, "asin": asin}
        ),
    )
    errors: dict = {}
    try:
        product.full_clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    # The case constraint's own message names no product; the one below does.
    general = [e for e in errors.pop(NON_FIELD_ERRORS, []) if e.code != SKU_CASE_TWIN]
    if general:
        errors[NON_FIELD_ERRORS] = general
    if "sku" not in errors:  # a valid SKU nobody has exactly: is it another's in other case?
        twin = product_sku_twin(sku)
        if twin is not None:
            errors.update(_sku_twin_error(sku, twin).error_dict)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():  # savepoint: the caller's transaction stays usable
            product.save()
    except IntegrityError:
        # Another save made this SKU, or a case twin of it, since the checks above.
        raced = Product.objects.filter(sku=sku).first()
        if raced is not None and raced.deleted_at is not None:
            raise ProductDeletedError(raced)
        twin = product_sku_twin(sku)
        if twin is not None:
            raise _sku_twin_error(sku, twin)
        raise
    return product


@transaction.atomic
def product_update(*, product: Product, **fields: str) -> Product:
    for key, value in product_fields_clean(fields).items():
        setattr(product, key, value)
    # The SKU is not changed here: a purged product's tombstone (``~12~SHOE-77``) fails
    # validate_sku, yet its other fields may still be edited.
    product.full_clean(exclude=["sku"])
    product.save()
    return product


@transaction.atomic
def product_soft_delete(*, product: Product) -> Product:
    """Hide the product and its images; files stay until purge_run passes the retention."""
    now = timezone.now()
    if product.deleted_at is None:
        Product.objects.filter(pk=product.pk, deleted_at__isnull=True).update(deleted_at=now)
        asset_ids = list(ImageAsset.objects.filter(product=product, deleted_at__isnull=True)
                         .values_list("pk", flat=True))
        ImageAsset.objects.filter(pk__in=asset_ids, deleted_at__isnull=True).update(
            deleted_at=now
        )
        product.deleted_at = now
        signals.assets_deleted.send(sender=Product, asset_ids=asset_ids)
    return product


@transaction.atomic
def product_restore(*, product: Product) -> Product:
    """Undo a soft delete: the product and the images deleted with it come back. Raises
    ProductPurgedError once purge released the product's SKU (its files are gone), and
    ProductRestoreError while a live product holds its SKU in another case."""
    if is_purged(product):
        raise ProductPurgedError(
            f"Product #{product.pk} was purged: its files are gone; create a new product.")
    if product.deleted_at is not None:
        twin = product_sku_twin(product.sku, exclude_pk=product.pk)
        if twin is None:
            try:
                with transaction.atomic():
                    Product.objects.filter(pk=product.pk).update(deleted_at=None)
            except IntegrityError:
                # a case twin made live since the check above (``Product.Meta.constraints``)
                twin = product_sku_twin(product.sku, exclude_pk=product.pk)
                if twin is None:
                    raise
        if twin is not None:
            raise ProductRestoreError(
                f"Product {product.sku} cannot be restored: {sku_twin_message(product.sku, twin)}")
        ImageAsset.objects.filter(product=product, deleted_at=product.deleted_at).update(
            deleted_at=None)
        product.deleted_at = None
    return product


@transaction.atomic
def product_upsert(*, sku: str, **fields: str) -> tuple[Product, bool]:
    """Create the product with this SKU or update the given fields; (product, created).
    A soft-deleted SKU is refused (restore it first), as the importer does."""
    product = Product.objects.select_for_update().filter(sku=(sku or "").strip()).first()
    if product is None:
        return product_create(sku=sku, **fields), True
    if product.deleted_at is not None:
        raise ValidationError({"sku": [f"Product {product.sku} is deleted; restore it first."]})
    return product_update(product=product, **fields), False


#: Tombstone SKUs start with this: no live SKU can (SKU_RE wants a letter or digit first).
PURGED_PREFIX = "~"


def is_purged(product: Product) -> bool:
    return product.sku.startswith(PURGED_PREFIX)


@transaction.atomic
def products_release_purged(*, deleted_before: datetime) -> list[str]:
    """Free the SKUs of products deleted before ``deleted_before`` (their files are purged):
    the row stays as the audit trail, its SKU becomes ``~<pk>~<sku>``. Returns the SKUs."""
    rows = (Product.objects.filter(deleted_at__lt=deleted_before)
            .exclude(sku__startswith=PURGED_PREFIX))
    released = list(rows.values_list("sku", flat=True))
    if released:
        rows.update(sku=Left(Concat(
            Value(PURGED_PREFIX), Cast("id", output_field=CharField()), Value(PURGED_PREFIX),
            "sku", output_field=CharField()), 64))
    return released

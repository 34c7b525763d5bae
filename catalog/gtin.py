"""The one shared-GTIN warning: its read and its words, for every path that saves a GTIN.

The form pages and the API (through ``selectors.product_gtin_warning``), the bulk edit
(``selectors.product_bulk_report_warned``) and a manifest's products (the import's report
and its preview: ``services.import_mapping``) all say it in these words. It lives apart from
the selectors because the import services need it too, and a service may not import the
selectors (they import the services)."""

from collections.abc import Iterable

from .models import Product

#: products named in a shared-GTIN warning; the rest are counted
GTIN_SHARERS_SHOWN = 5

#: GTINs read per query by ``products_gtin_warnings``
GTIN_READ_CHUNK = 500


def products_sharing_gtin(*, gtin: str, exclude_pk: int | None = None) -> list[Product]:
    """Other live products with this GTIN, by SKU (the first ``GTIN_SHARERS_SHOWN`` + 1)."""
    if not gtin:
        return []
    rows = Product.live.filter(gtin=gtin)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return list(rows.order_by("sku")[:GTIN_SHARERS_SHOWN + 1])


def gtin_shared_text(*, gtin: str, others: list[Product]) -> str:
    """The warning's words for a product with ``gtin`` that ``others`` (by SKU) have too;
    one not saved yet (an import's preview) is named without a number."""
    if not others:
        return ""
    named = ", ".join(f"{o.sku} (#{o.pk})" if o.pk is not None else f"{o.sku} (new)"
                      for o in others[:GTIN_SHARERS_SHOWN])
    more = " and others" if len(others) > GTIN_SHARERS_SHOWN else ""
    return (f"GTIN {gtin} is also on product {named}{more}. A GTIN identifies one "
            "trade item: check the number; exports that name files by GTIN (Walmart) would "
            "give these products the same file names.")


def product_gtin_warning(*, product: Product) -> str:
    """Why saving ``product`` deserves a second look: another live product has its GTIN
    ("" when none). A GTIN names one trade item, so two products with one GTIN are usually a
    typo; it is a warning, not a refusal, because variants sold as one item can share it.
    The form pages flash it after the save, the API returns it with the saved product, and
    the bulk edit reports it on the lines that changed a GTIN
    (``product_bulk_report_warned``); marketplaces that name files by GTIN would get
    colliding names (the export form says so too: ``export_naming_gaps``)."""
    others = products_sharing_gtin(gtin=product.gtin, exclude_pk=product.pk)
    return gtin_shared_text(gtin=product.gtin, others=others)


def products_gtin_warnings(*, products: Iterable[Product]) -> dict[str, str]:
    """``product_gtin_warning`` for many products at once, by SKU (only those warned): one
    query per ``GTIN_READ_CHUNK`` GTINs, as a manifest of thousands of rows needs.
    ``products`` are the state to judge, saved or not: one saved stands for its stored row
    (a GTIN it no longer has is not held against it), one not saved (an import's preview)
    is counted as if it were, so two new rows with one GTIN warn of each other too."""
    products = list(products)
    given = [p for p in products if p.gtin]
    replaced = {p.pk for p in products if p.pk is not None}
    holders: dict[str, dict[object, Product]] = {}
    gtins = sorted({p.gtin for p in given})
    for start in range(0, len(gtins), GTIN_READ_CHUNK):
        for stored in Product.live.filter(gtin__in=gtins[start:start + GTIN_READ_CHUNK]
                                          ).exclude(pk__in=replaced):
            holders.setdefault(stored.gtin, {})[stored.pk] = stored
    for p in given:
        holders.setdefault(p.gtin, {})[p.pk if p.pk is not None else ("new", p.sku)] = p
    warnings: dict[str, str] = {}
    for p in given:
        if p.deleted_at is not None:
            continue
        others = sorted((o for o in holders[p.gtin].values() if o is not p
                         and o.deleted_at is None), key=lambda o: o.sku)
        text = gtin_shared_text(gtin=p.gtin, others=others)
        if text:
            warnings[p.sku] = text
    return warnings

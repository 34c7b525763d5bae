"""Reads for export: presets, what an export would contain (the plan), jobs and their results."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import NamedTuple

from django.core.files.storage import storages
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet

from catalog.ingest.naming import DELETED, Known, Unmapped, fold_sku, known_usable, sku_known
from catalog.ingest.positions import number_for_position
from catalog.models import AssetStatus, ImageAsset, Product
from catalog.paging import Page, newest_first
from catalog.services.products import products_sku_folded

from .. import variants
from ..errors import PresetError
from ..models import (
    Background,
    Cutout,
    ExportJob,
    JobStatus,
    Preset,
    RefusedVariant,
    ReviewStatus,
)
from ..variants.compliance import (
    FAINT_MARK_FAIL_SHARE,
    MAX_ENLARGEMENT,
    MIN_PRODUCT_PX,
    ExportSize,
    export_size,
    faint_marks_refused,
    frame_cut_verdict,
    kept_shadow_off,
    layout_scale,
    shadow_off_warning,
    stored_frame_cut,
    stored_size,
    summary_warning_titles,
)
from ..variants.layout import long_side
from ..variants.render import warn_enlarged
from ..variants.spec import colour_hint
from .review import cutouts_approved_current


def preset_list(*, enabled_only: bool = True) -> list[Preset]:
    rows = Preset.objects.all()
    return list(rows.filter(enabled=True) if enabled_only else rows)


def preset_as_variant(preset: Preset) -> variants.Preset:
    """The admin-editable row as the pure value object the variants package works with."""
    try:
        rules = variants.Rules.from_dict(preset.rules or {})
        # parsed here once; the parsed spec travels on the preset to planning and rendering
        checked = variants.Preset(preset.name, preset.label, preset.spec, preset.naming,
                                  rules).checked()
        variants.validate_template(preset.naming)
    except variants.VariantError as exc:
        raise PresetError(f"Preset {preset.name!r} is invalid: {exc}")
    return checked


def preset_resolve(*, names: Iterable[str]) -> list[variants.Preset]:
    """Presets by name: the admin's row when there is one (it must be enabled), otherwise the
    built-in definition, so an unseeded database still exports."""
    names = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    if not names:
        raise PresetError("Pick at least one preset.")
    rows = {p.name: p for p in Preset.objects.filter(name__in=names)}
    out = []
    for name in names:
        row = rows.get(name)
        if row is not None:
            if not row.enabled:
                raise PresetError(f"Preset {name!r} is disabled.")
            out.append(preset_as_variant(row))
        elif name in variants.PRESETS:
            out.append(variants.get_preset(name))
        elif name.startswith(SPEC_PREFIX):
            out.append(spec_preset(name[len(SPEC_PREFIX):]))
        elif BACKGROUND_SEPARATOR in name:
            out.append(scene_preset(name, rows))
        else:
            raise PresetError(f"Unknown preset {name!r}.")
    return out


#: a scene preset on a library background, as stored on an export job: ``web_hero:oak``
BACKGROUND_SEPARATOR = ":"


def scene_preset(name: str, rows: dict | None = None) -> variants.Preset:
    """``<scene preset>:<background slug>`` as a preset of its own (``web_hero-oak``)."""
    base_name, _, slug = name.partition(BACKGROUND_SEPARATOR)
    row = (rows or {}).get(base_name) or Preset.objects.filter(name=base_name).first()
    if row is not None and not row.enabled:
        raise PresetError(f"Preset {base_name!r} is disabled.")
    base = preset_as_variant(row) if row is not None else variants.PRESETS.get(base_name)
    if base is None:
        raise PresetError(f"Unknown preset {base_name!r}.")
    if base.rules.no_scenes:
        raise PresetError(f"Preset {base_name!r} is a marketplace preset: its rules forbid "
                          "scenes, so it cannot use a library background.")
    if not Background.objects.filter(slug=slug, kind=Background.Kind.BACKGROUND).exists():
        raise PresetError(f"Unknown background {slug!r}.")
    return variants.with_background(base, slug)


#: An export "preset" given as a spec string (API: ``specs``), stored on the job as
#: ``spec:<spec>`` so the run resolves it again like any preset name.
SPEC_PREFIX = "spec:"


def spec_preset(spec: str) -> variants.Preset:
    """An ad-hoc preset for a spec string: generic naming, no marketplace rules; its folder
    is ``spec-<hash of the canonical spec>``."""
    import hashlib

    try:
        canonical = variants.parse_spec(spec).canonical()
    except variants.SpecError as exc:
        raise PresetError(f"Spec {spec!r} is invalid: {exc}")
    name = "spec-" + hashlib.sha256(canonical.encode()).hexdigest()[:8]
    from ..variants.presets import GENERIC_NAMING

    return variants.Preset(name, f"Spec {canonical}", canonical, GENERIC_NAMING,
                           variants.Rules())


def library_missing(*, presets: Iterable[variants.Preset]) -> list[str]:
    """What the presets' specs name from the scene library but the library lacks (a
    ``bg-<slug>`` that is no background, a ``logo-<slug>-…`` that is no logo), one message
    each: a render would only find out per variant and exclude them all."""
    wanted: dict[tuple[str, str], str] = {}  # (slug, kind) -> the spec that names it
    for preset in presets:
        for op in preset.variant_spec.operations:
            slug = getattr(op, "slug", None)
            if slug is None:
                continue
            kind = Background.Kind.LOGO if op.name == "logo" else Background.Kind.BACKGROUND
            wanted.setdefault((slug, kind), op.token())
    if not wanted:
        return []
    found = set(Background.objects.filter(slug__in={s for s, _ in wanted})
                .values_list("slug", "kind"))
    def missing(slug: str, kind: str, token: str) -> str:
        text = f"{token!r}: there is no library {kind} {slug!r}"
        # a colour word meant as a colour (bg-white) gets the hex to write
        hint = colour_hint(slug) if kind == Background.Kind.BACKGROUND else None
        return f"{text} ({hint})" if hint else text

    return [missing(slug, kind, token)
            for (slug, kind), token in sorted(wanted.items()) if (slug, kind) not in found]


def export_candidates(*, product_ids: Iterable[int] | None = None, brand: str = "",
                      approved_since: date | str | None = None) -> QuerySet[Cutout]:
    """Approved current cutouts matching the filters, in the order they are exported."""
    rows = cutouts_approved_current()
    if product_ids:
        rows = rows.filter(asset__product_id__in=list(product_ids))
    if brand:
        rows = rows.filter(asset__product__brand__iexact=brand)
    if approved_since:
        if isinstance(approved_since, str):
            approved_since = date.fromisoformat(approved_since)
        rows = rows.filter(reviewed_at__date__gte=approved_since)
    return rows.order_by("asset__product__sku", "asset__position", "asset_id")


#: the code of a naming-gap warning (API ``warnings[].code``)
NAMING_GAP = "naming-gap"
#: the code of a shared-identifier warning: products whose files one preset would name alike
NAMING_SHARED = "naming-shared"
#: shared values (and products per value) a warning names; the rest are counted
SHARED_SHOWN = 5


@dataclass(frozen=True)
class ExportWarning:
    """One warning of the export's pre-check (``code`` says which kind): a preset named by an
    identifier (Walmart by GTIN) that some selected products lack, whose images it will exclude
    (NAMING_GAP); several selected products sharing one (NAMING_SHARED, on the form only: one
    file name, which the export refuses); images not approved or with a newer version, a
    spec's notes, and per preset images too small, enlarged, cut by the frame, with faint
    marks or a shadow off the product. The form, the API and ``manage.py export`` show
    ``message``. (``NamingGap`` until 2026-12-07, lows44: it named the first kind only.)"""

    preset: str  # the preset's name (``walmart``)
    identifier: str  # the field the products lack or share, as the naming reads it (``gtin``)
    count: int  # selected products without it (sharing one value of it)
    total: int  # selected products
    skus: list[str]  # the first five of them, by SKU
    message: str
    code: str = NAMING_GAP
    #: a not-approved warning's list of images by state, without the sentence around it
    detail: str = ""


def export_naming_gaps(*, presets: list[variants.Preset], product_ids: Iterable[int] | None = None,
                       brand: str = "", approved_since: date | str | None = None
                       ) -> list[ExportWarning]:
    """Before an export starts: for each preset named by an identifier (Walmart by GTIN),
    how many of the products the filters select have none, whose images it will exclude.
    Counted in the database, one query per preset and identifier; nothing when none lacks."""
    product_ids = list(product_ids) if product_ids is not None else None
    cutouts = export_candidates(product_ids=product_ids, brand=brand,
                                approved_since=approved_since)
    products = Product.objects.filter(pk__in=cutouts.values("asset__product_id"))
    total = None
    gaps = []
    for preset in presets:
        for fields in variants.identifier_groups(preset.naming):
            lacking = Q()
            for name in fields:
                lacking &= Q(**{name: ""})
            missing = products.filter(lacking)
            count = missing.count()
            if not count:
                continue
            total = products.count() if total is None else total
            label = variants.field_label(fields)
            shown = list(missing.order_by("sku").values_list("sku", flat=True)[:5])
            more = " …" if count > len(shown) else ""
            # counted among the products with an approved cutout: when some SKUs have none,
            # "6 of 8 selected" for 9 SKUs typed read as a miscount (the not-approved warning
            # names the others)
            selected = ("selected product(s) with an approved cutout"
                        if product_ids and len(set(product_ids)) > total
                        else "selected product(s)")
            share = (f"none of the {total} {selected} has one" if count == total
                     else f"{count} of {total} {selected} have none")
            gaps.append(ExportWarning(
                preset=preset.name, identifier="|".join(fields), count=count, total=total,
                skus=shown,
                message=f"{preset.label} files are named by {label}: {share} "
                        f"({', '.join(shown)}{more}); their images will be excluded from "
                        f"{preset.label}."))
        gaps.extend(_shared_identifiers(preset, products))
    return gaps


def _shared_identifiers(preset: variants.Preset, products: QuerySet[Product]
                        ) -> list[ExportWarning]:
    """Identifiers (a GTIN on two products) that give several selected products one file
    name in ``preset``: the export would refuse those names as collisions, so the form says
    which products share which value before it starts. Only a placeholder the product's own
    identifier always fills counts (``{gtin}``; ``{asin|sku}`` falls back per product, and a
    template with ``{sku}`` too tells the products apart)."""
    groups = variants.identifier_groups(preset.naming)
    if any("sku" in fields for fields in groups):
        return []
    out = []
    for fields in groups:
        if len(fields) != 1:
            continue
        name = fields[0]
        shared = (products.exclude(**{name: ""}).values(name).annotate(n=Count("pk"))
                  .filter(n__gt=1).order_by(name))
        values = {row[name]: row["n"] for row in shared[:SHARED_SHOWN + 1]}
        if not values:
            continue
        rows = (products.filter(**{f"{name}__in": list(values)[:SHARED_SHOWN]})
                .order_by(name, "sku").values_list(name, "sku"))
        by_value: dict[str, list[str]] = {}
        for value, sku in rows:
            by_value.setdefault(value, []).append(sku)
        label = variants.field_label(fields)
        parts = []
        for value, skus in by_value.items():
            more = f" and {values[value] - SHARED_SHOWN} more" if values[value] > SHARED_SHOWN \
                else ""
            parts.append(f"{label} {value} is on {', '.join(skus[:SHARED_SHOWN])}{more}")
        others = " …" if len(values) > SHARED_SHOWN else ""
        skus = sorted({sku for skus in by_value.values() for sku in skus})
        out.append(ExportWarning(
            preset=preset.name, identifier=name, count=len(skus), total=products.count(),
            skus=skus[:SHARED_SHOWN], code=NAMING_SHARED,
            message=f"{preset.label} files are named by {label}, and products share one: "
                    f"{'; '.join(parts)}{others}. Their images at the same position would get "
                    f"the same file name, and the export refuses to start on such a name (one "
                    f"the preset would refuse anyway, as too small, is not written): "
                    f"correct the {label}s, or leave all but one of each out."))
    return out


#: the code of a not-approved warning: images of the selected products that have no approved
#: current cutout, so the export leaves them out (API ``warnings[].code``)
NOT_APPROVED = "not-approved"
#: the code of a spec note: a spec token that will not do what it reads as
SPEC_NOTE = "spec-note"
#: why an image of a selected product is not exported, by the status the catalog shows for it
#: (``cutouts.services.status`` derives it from the versions); in the order the warning lists
NOT_APPROVED_REASONS: dict[str, str] = {
    AssetStatus.UPLOADED: "no cutout",
    AssetStatus.QUEUED: "cutout in progress",
    AssetStatus.CUT_OUT: "awaiting review",
    AssetStatus.IN_REVIEW: "awaiting review",
    AssetStatus.NEEDS_RETOUCH: "flagged",
}
#: a selected product with no live image at all
NO_IMAGE = "no image"


def _export_scope(product_ids: Iterable[int] | None, brand: str,
                  approved_since: date | str | None) -> tuple[QuerySet[Product], bool]:
    """The live products an export's filters cover, and whether the user named them one by
    one (a SKU list without an approval date): then every image of theirs is expected in the
    export, and the manifest lists each one left out. Otherwise (a brand, an approval date,
    no filter at all) the export is "the approved cutouts of …", and the warning only counts
    the products it covers whose images are not approved yet, so work still in review is
    not missed without a word."""
    rows = Product.live.all()
    if product_ids:
        rows = rows.filter(pk__in=list(product_ids))
    if brand:
        rows = rows.filter(brand__iexact=brand)
    return rows, bool(product_ids) and not approved_since


def _scope_noun(product_ids: Iterable[int] | None, brand: str) -> str:
    if product_ids:
        return "selected product(s)"
    if brand:
        return f"product(s) of the brand {brand}"
    return "product(s) in the catalog"


def _not_approved_images(products: QuerySet[Product], candidates: QuerySet[Cutout]
                         ) -> QuerySet[ImageAsset]:
    return (ImageAsset.live.filter(product__in=products)
            .exclude(pk__in=candidates.values("asset_id")))


def _reason(status: str) -> str:
    return NOT_APPROVED_REASONS.get(status, "not approved")


def export_not_approved(*, product_ids: Iterable[int] | None = None, brand: str = "",
                        approved_since: date | str | None = None) -> ExportWarning | None:
    """Before an export starts: the images of the products its filters cover (the SKUs
    typed, the brand, or the whole catalog) that it will leave out because they have no
    approved current cutout (no cutout, awaiting review, flagged), and those products with
    no image at all; None when every one has its approved cutout. The form, the API and the
    command all warn with it, whatever the filter (it used to say nothing without SKUs). A fixed
    number of queries (counts in the database, five examples a kind) whatever the number of
    products, so a 10,000-product export asks no more than a one-product one."""
    products, selected = _export_scope(product_ids, brand, approved_since)
    candidates = export_candidates(product_ids=product_ids, brand=brand)
    images = _not_approved_images(products, candidates)
    no_image = products.exclude(pk__in=ImageAsset.live.values("product_id"))
    affected = products.filter(Q(pk__in=images.values("product_id")) | Q(pk__in=no_image))
    count = affected.count()
    if not count:
        return None
    total = products.count()
    skus = list(affected.order_by("sku").values_list("sku", flat=True)[:SHARED_SHOWN])
    parts = []
    none_approved = products.exclude(pk__in=candidates.values("asset__product_id"))
    n = none_approved.count()
    if n:
        shown = list(none_approved.order_by("sku").values_list("sku", flat=True)[:SHARED_SHOWN])
        parts.append(f"{_listed(shown, n)} {'has' if n == 1 else 'have'} no approved image")
    by_reason: dict[str, int] = {}
    for status, k in images.values_list("status").annotate(k=Count("pk")).order_by():
        by_reason[_reason(status)] = by_reason.get(_reason(status), 0) + k
    for reason in dict.fromkeys([*NOT_APPROVED_REASONS.values(), "not approved"]):
        k = by_reason.get(reason)
        if not k:
            continue
        statuses = [s for s, r in NOT_APPROVED_REASONS.items() if r == reason] or \
            [s for s in AssetStatus.values if s not in NOT_APPROVED_REASONS]
        shown = [f"{sku} {position}" for sku, position in
                 images.filter(status__in=statuses).order_by("product__sku", "position", "pk")
                 .values_list("product__sku", "position")[:SHARED_SHOWN]]
        parts.append(f"{reason}: {_listed(shown, k)}")
    k = no_image.count()
    if k:
        shown = list(no_image.order_by("sku").values_list("sku", flat=True)[:SHARED_SHOWN])
        parts.append(f"{NO_IMAGE}: {_listed(shown, k)}")
    then = ("the manifest lists them as not approved" if selected
            else "approve them to include them in a later export")
    return ExportWarning(
        preset="", identifier="approved", count=count, total=total, skus=skus,
        code=NOT_APPROVED, detail="; ".join(parts),
        message=f"Only approved cutouts are exported, and {_how_many(count, total)} "
                f"{_scope_noun(product_ids, brand)} have an image without one: "
                f"{'; '.join(parts)}. Those images will not be exported; {then}.")


def _how_many(count: int, total: int) -> str:
    # "1 of the 1 selected product(s)" read as a glitch (QA 2026-12-05)
    if count < total:
        return f"{count} of the {total}"
    return {1: "the", 2: "both"}.get(total, f"all {total}")


def _listed(shown: list[str], count: int) -> str:
    more = f" and {count - len(shown)} more" if count > len(shown) else ""
    return ", ".join(shown) + more


@dataclass(frozen=True)
class NotApprovedRow:
    """An image of a selected product that an export leaves out for want of an approved
    cutout (or a selected product without an image: ``asset_id`` None)."""

    sku: str
    gtin: str
    asin: str
    position: str
    asset_id: int | None
    reason: str  # "awaiting review", "no cutout", "flagged", "no image", …


def export_not_approved_rows(*, product_ids: Iterable[int] | None = None, brand: str = "",
                             approved_since: date | str | None = None
                             ) -> Iterable[NotApprovedRow]:
    """Every image ``export_not_approved`` counts, streamed (two queries, read in chunks),
    by SKU and position: the run writes each into the manifest as not exported."""
    products, selected = _export_scope(product_ids, brand, approved_since)
    if not selected:
        return
    candidates = export_candidates(product_ids=product_ids, brand=brand)
    rows = (_not_approved_images(products, candidates)
            .order_by("product__sku", "position", "pk")
            .values_list("product__sku", "product__gtin", "product__asin", "position", "pk",
                         "status"))
    for sku, gtin, asin, position, pk, status in rows.iterator(chunk_size=1000):
        yield NotApprovedRow(sku, gtin or "", asin or "", position or "", pk, _reason(status))
    no_image = (products.exclude(pk__in=ImageAsset.live.values("product_id")).order_by("sku")
                .values_list("sku", "gtin", "asin"))
    for sku, gtin, asin in no_image.iterator(chunk_size=1000):
        yield NotApprovedRow(sku, gtin or "", asin or "", "", None, NO_IMAGE)


#: the code of a newer-version warning: approved images with a newer version of their
#: cutout awaiting review or still being cut; the export ships the approved one
NEWER_VERSION = "newer-version"
#: what a newer version of an approved image is doing, by its state (finished and waiting
#: for a reviewer, or queued or running); an image with both says it awaits review, which a
#: reviewer can act on now
NEWER_AWAITING = "newer version awaiting review"
NEWER_CUTTING = "newer version being cut"


def export_newer_versions(*, product_ids: Iterable[int] | None = None, brand: str = "",
                          approved_since: date | str | None = None) -> ExportWarning | None:
    """Before an export starts: the approved images it will ship although a newer version of
    their cutout is waiting (finished and awaiting review, or queued or running), each "SKU
    position (newer version awaiting review — v1 ships)"; None when there is none. The export
    ships the approved version all the same: a warning, not a refusal. It used to start with
    "N file(s) planned" and no word while the product page read "Cutout v2 done · awaiting
    review" (QA qa42c M2). The form, the API and the command warn with it (``export_warnings``).
    A fixed number of queries whatever the number of images (counts, five examples)."""
    newer = Cutout.objects.filter(asset_id=OuterRef("asset_id"), version__gt=OuterRef("version"))
    rows = (export_candidates(product_ids=product_ids, brand=brand,
                              approved_since=approved_since)
            .annotate(awaiting=Exists(newer.filter(status=JobStatus.DONE,
                                                   review_status=ReviewStatus.PENDING)),
                      cutting=Exists(newer.filter(status__in=[JobStatus.QUEUED,
                                                              JobStatus.RUNNING])))
            .filter(Q(awaiting=True) | Q(cutting=True)))
    count = rows.count()
    if not count:
        return None
    total = export_candidates(product_ids=product_ids, brand=brand,
                              approved_since=approved_since).count()
    shown = [f"{sku} {position} ({NEWER_AWAITING if awaiting else NEWER_CUTTING} — "
             f"v{version} ships)"
             for sku, position, version, awaiting in rows.values_list(
                 "asset__product__sku", "asset__position", "version", "awaiting")[:SHARED_SHOWN]]
    skus = list(Product.objects.filter(pk__in=rows.values("asset__product_id")).order_by("sku")
                .values_list("sku", flat=True)[:SHARED_SHOWN])
    return ExportWarning(
        preset="", identifier="newer", count=count, total=total, skus=skus,
        code=NEWER_VERSION, detail=_listed(shown, count),
        message=f"{count} approved image(s) have a newer cutout waiting: "
                f"{_listed(shown, count)}. The export ships the approved version; review "
                "the newer one first to ship it instead.")


def spec_notes(*, presets: Iterable[variants.Preset]) -> list[ExportWarning]:
    """Spec tokens that parse but will not do what they read as: ``margin-N`` without
    ``trim`` pads the whole cutout frame, transparent edges included, so the product keeps
    its place in the photo instead of getting N px around it (``fill-N`` sets its own
    margins and refuses ``margin``)."""
    notes = []
    for preset in presets:
        names = {op.name for op in preset.variant_spec.operations}
        if "margin" in names and not names & {"trim", "fill"}:
            notes.append(ExportWarning(
                preset=preset.name, identifier="", count=0, total=0, skus=[], code=SPEC_NOTE,
                message=f"{preset.label}: margin only acts with trim or fill. Without trim "
                        "the margin is measured from the edges of the whole cutout frame, not "
                        "from the product, so the product stays where it was in the photo: "
                        f"add trim (e.g. trim|{preset.variant_spec.canonical()})."))
    return notes


class ProductBox(NamedTuple):
    """What a dry run and the export form's pre-check lay a file out from without rendering
    it: the renderer's measures of the cutout, stored when it was made
    (``compliance.export_signals``), read by ``compliance.layout_scale``."""

    frame: tuple[int, int]  # the cutout's size
    #: the product's box (``signals["product_px"]``; the whole cutout for a version measured
    #: before that signal)
    product: tuple[int, int]
    #: the box an enlarging fill is measured on (``product_fill_px``; None before it)
    fill: tuple[int, int] | None


def product_box(width: int | None, height: int | None, signals: dict | None
                ) -> ProductBox | None:
    """A cutout's :class:`ProductBox`, None without a size."""
    if not (width and height):
        return None
    product = (signals or {}).get("product_px")
    if isinstance(product, list | tuple) and len(product) == 2 and all(
            isinstance(v, int) and v > 0 for v in product):
        fill = stored_size((signals or {}).get("product_fill_px"))
        return ProductBox((width, height), (min(product[0], width), min(product[1], height)),
                          fill)
    return ProductBox((width, height), (width, height), None)


#: the code of a pre-check warning: images a preset would refuse for the product's size in
#: the cutout (enlarged past the 8x limit, or a speck under 32 px)
TOO_SMALL = "too-small"
#: the code of a pre-check warning: images whose product the photo's frame cuts, which a
#: whole-product preset refuses as main images and other listing presets ship with a warning
FRAME_CUT = "frame-cut"
#: the code of a pre-check warning: images a white-background preset refuses for a faint
#: see-through mark (a grey cloud on white), from the cutout's ``faint_marks`` signal
FAINT_MARKS = "faint-marks"


#: the code of a pre-check warning: images a ``shadow-synthetic`` preset or spec would give a
#: shadow under a stray part (a kept sign, a faint skirt) rather than the product's body: the
#: review's "Shadow off the product" pre-flag, raised only for a cutout that drew a synthetic
#: shadow itself (lows44); its ``identifier`` is this code for a shadow the preset draws, and
#: :data:`KEPT_SHADOW_OFF` for the version's own synthetic shadow a ``shadow-keep`` preset
#: ships (2026-12-07, keepshadow47; verify47)
SHADOW_OFF_BODY = "shadow-off-body"
#: the ``identifier`` of a ``shadow-off-body`` warning of a ``shadow-keep`` preset: the
#: synthetic shadow layer the version stored lies under a stray part
#: (``compliance.kept_shadow_off``: its ``shadow_off_body``)
KEPT_SHADOW_OFF = "kept-shadow-off"


#: the code of a pre-check warning: images a preset ships enlarged past ``ENLARGE_WARN``, which
#: will look soft, in the words the export's page gives each file (``render.warn_enlarged``)
ENLARGED = "enlarged"

#: every kind of pre-check warning of the approved images themselves
#: (``export_image_checks``). An export started anyway records each in its manifest and on its
#: page, on every file it concerns: refused (too small, faint marks on white, a frame-cut
#: main image) or shipped with the warning (enlarged, cut by the photo's edge, a shadow off
#: the product: ``export_jobs.stored_warnings``); a kind added here without that fails
#: ``tests/cutouts/test_export_precheck_manifest.py`` (2026-12-07, export46; verify45 L3)
IMAGE_CHECK_CODES = (TOO_SMALL, ENLARGED, FRAME_CUT, FAINT_MARKS, SHADOW_OFF_BODY)


def _enlarged_words(preset: variants.Preset, frame: tuple[int, int], product: tuple[int, int],
                    fill: tuple[int, int] | None) -> str:
    """The renderer's softness warning of a product ``product`` px in a cutout of ``frame``
    laid out by ``preset`` (``render.warn_enlarged``, as a dry run's ``_foresee`` asks it):
    "the product is enlarged 2.1x (… px in the cutout, …) and will look soft; …", or ""."""
    try:
        scale = layout_scale(preset.variant_spec, frame, product, fill)
    except variants.RenderError:
        return ""  # the layout refuses it: the dry run says so, in the real run's words
    said: list[str] = []
    warn_enlarged(said, scale, (0, 0, product[0], product[1]))
    return said[0] if said else ""


#: a frame-cut warning's identifier by the verdict of ``frame_cut_verdict``
_FRAME_IDENTIFIER = {"error": "frame-refused", "warn": "frame-warned"}


def _images(shown: list[str], count: int) -> str:
    return ", ".join(shown) + (f" and {count - len(shown)} more" if count > len(shown) else "")


#: the pre-check's words for a preset that may leave a kept shadow out (``_may_lose_words``),
#: which the advice reads
_MAY_LOSE = "leaves a far detached part out"


def _may_lose_words(preset: variants.Preset, may: int, count: int) -> str:
    """What the pre-check cannot know of a kept shadow off the product: in ``may`` of the
    ``count`` images it warns of, ``preset`` also leaves far detached parts out, and if the
    shadow lay under one it goes with it (``render.kept_shadow_left_out``: the file's record
    then says the product has no shadow instead). Only the render, which reads the layer's
    pixels, can tell (2026-12-08, verify48b); "" when none."""
    if not may:
        return ""
    which = "it" if count == 1 else ("each" if may == count else f"{may} of them")
    return (f" (or, in {which}, {preset.label} {_MAY_LOSE}, and if the shadow lay under that "
            "part it is left out with it: the product then has no shadow in the file, and the "
            "file's record says so)")


def export_image_checks(*, presets: list[variants.Preset],
                        product_ids: Iterable[int] | None = None, brand: str = "",
                        approved_since: date | str | None = None) -> list[ExportWarning]:
    """What the export form says before it starts of the approved images themselves, per
    preset: those the preset will refuse as too small (``compliance.export_size``, the rule
    the renderer's ``check_source`` applies: the product's box from the cutout's
    ``product_px``, laid out by the preset's spec, enlarged past ``MAX_ENLARGEMENT`` or under
    ``MIN_PRODUCT_PX``), and those whose product the photo's edge cuts (the cutout's stored
    ``frame_cut``, read by ``compliance.stored_frame_cut`` as a dry run reads it, judged by
    ``compliance.frame_cut_verdict`` as the check of the file is): refused on Amazon's main
    image, shipped "ok (warnings)" with a straight cut elsewhere. Scene presets place the
    product by their own layout and are left to the dry run for size. Each warning's
    ``count`` is images, of ``total`` approved images checked, and ``skus`` the first five
    distinct SKUs among them. One pass over the approved cutouts' rows, no file read.
    A preset named by an identifier the product lacks (Walmart by GTIN) excludes its images
    whatever their size or edges, as ``export_naming_gaps`` says: they are not counted here
    (QA qa40a: "Walmart will ship 2 image(s)" named two products without a GTIN)."""
    groups = {p.name: variants.identifier_groups(p.naming) for p in presets}
    id_fields = sorted({f for gs in groups.values() for fields in gs for f in fields})
    rows = (export_candidates(product_ids=product_ids, brand=brand,
                              approved_since=approved_since)
            .values_list("width", "height", "signals__product_px",
                         "signals__product_fill_px", "signals__frame_cut",
                         "signals__touching_sides", "signals__faint_marks",
                         "signals__export_shadow_off", "signals__shadow_off_body",
                         "signals__dropped_parts", "shadow_name", "asset__position",
                         "asset__product__sku",
                         *(f"asset__product__{f}" for f in id_fields)))
    sized = [p for p in presets if not p.variant_spec.is_scene]
    small: dict[str, list[tuple[str, int]]] = {p.name: [] for p in sized}
    small_count = dict.fromkeys(small, 0)
    cuts: dict[tuple[str, str], list[str]] = {}
    cut_count: dict[tuple[str, str], int] = {}
    fits: dict[tuple, ExportSize | None] = {}
    # enlarged, not refused: each image's own sentence, as the export's page lists it
    soft: dict[str, list[str]] = {p.name: [] for p in sized}
    soft_count = dict.fromkeys(soft, 0)
    soft_words: dict[tuple, str] = {}
    faint: dict[str, list[str]] = {p.name: [] for p in presets}
    faint_count = dict.fromkeys(faint, 0)
    # presets that draw a contact shadow under whatever is lowest (``shadow-synthetic``, a
    # scene's ``shadow-contact``), by the render's own rule for which pixels are the product
    renders = {p.name: variants.operations.shadow_render(p.variant_spec) for p in presets}
    # and presets that ship the version's own stored layer (``shadow-keep``): a synthetic one
    # lies where the version's run drew it, under whatever was lowest (verify47)
    keeps = {p.name for p in presets if p.variant_spec.shadow == "keep"}
    shadowed = [p for p in presets if renders[p.name] is not None or p.name in keeps]
    off_identifier = {p.name: KEPT_SHADOW_OFF if p.name in keeps else SHADOW_OFF_BODY
                      for p in shadowed}
    off: dict[str, list[str]] = {p.name: [] for p in shadowed}
    off_count = dict.fromkeys(off, 0)
    # of those a shadow-keep preset warns of, the images it also leaves far detached parts
    # out of (``dropped_parts``): if the kept shadow lay under one, it goes with it and the
    # file has none, which only the render can tell (2026-12-08, verify48b)
    may_lose = dict.fromkeys(keeps, 0)
    # the first SKUs of each warning, for API clients that act on them rather than read
    # the message (keyed as the warnings are: preset and identifier)
    skus: dict[tuple[str, str], list[str]] = {}
    checked = 0

    def name(key: tuple[str, str], sku: str) -> None:
        shown = skus.setdefault(key, [])
        if sku not in shown and len(shown) < SHARED_SHOWN:
            shown.append(sku)

    for (width, height, product_px, fill_px, cut, touching, marks, shadow_off, off_body,
         dropped, layer, position, sku, *ids) in rows.iterator(chunk_size=1000):
        checked += 1
        image = f"{sku} {position or ''}".strip()
        has = dict(zip(id_fields, ids, strict=True))
        # the presets that can name this product's files (the others exclude them anyway)
        named = [p for p in presets if variants.can_name(groups[p.name], has)]
        named_sized = [p for p in sized if p in named]
        for preset in named:
            if faint_marks_refused(preset, marks):
                faint_count[preset.name] += 1
                name((preset.name, "faint-refused"), sku)
                if len(faint[preset.name]) < SHARED_SHOWN:
                    faint[preset.name].append(f"{image} ({marks['share'] * 100:.1f} %)")
        # where each render's contact shadow lies from the product's body, placed by the
        # pixels that render takes for the product (``export_shadow_off``, measured by the
        # export's own region when the version finished); a version measured before
        # 2026-12-07 (shadow44) has none and is not checked
        # (``compliance.shadow_off_warning``: the one rule, which also puts the warning on
        # the file of an export started anyway, in the manifest and on the export's page);
        # a shadow-keep preset's: the version's own layer's (``compliance.kept_shadow_off``)
        kept = kept_shadow_off(off_body, bool(layer))
        for preset in shadowed:
            if preset in named and shadow_off_warning(preset.variant_spec, shadow_off, kept):
                off_count[preset.name] += 1
                name((preset.name, off_identifier[preset.name]), sku)
                if preset.name in keeps and variants.drops_parts(preset.variant_spec, dropped):
                    may_lose[preset.name] += 1
                if len(off[preset.name]) < SHARED_SHOWN:
                    off[preset.name].append(image)
        box = product_box(width, height, {"product_px": product_px,
                                          "product_fill_px": fill_px})
        if box is not None:
            frame, (pw, ph), fill = box
            for preset in named_sized:
                key = (preset.name, frame, pw, ph, fill)
                if key not in fits:
                    fits[key] = export_size(pw, ph, [preset], frame=frame, fill=fill)
                fit = fits[key]
                if fit is not None and fit.too_small:
                    small_count[preset.name] += 1
                    name((preset.name, "size"), sku)
                    if len(small[preset.name]) < SHARED_SHOWN:
                        small[preset.name].append(
                            (f"{image} ({long_side(pw, ph)}, {fit.needed_px} needed)",
                             fit.needed_px))
                    continue
                if key not in soft_words:
                    soft_words[key] = _enlarged_words(preset, frame, (pw, ph), fill)
                if soft_words[key]:
                    soft_count[preset.name] += 1
                    name((preset.name, ENLARGED), sku)
                    if len(soft[preset.name]) < SHARED_SHOWN:
                        soft[preset.name].append(f"{image}: {soft_words[key]}")
        # a missing key reads as None either way: an older version's has no frame_cut
        sides = stored_frame_cut({"touching_sides": touching} if cut is None
                                 else {"frame_cut": cut})
        if not sides:
            continue
        for preset in named:
            verdict = frame_cut_verdict(preset.rules, sides, position or None)
            if verdict is None:
                continue
            cut = (preset.name, verdict)
            cut_count[cut] = cut_count.get(cut, 0) + 1
            name((preset.name, _FRAME_IDENTIFIER[verdict]), sku)
            shown = cuts.setdefault(cut, [])
            if len(shown) < SHARED_SHOWN:
                shown.append(f"{image} ({', '.join(sides)})")
    out = []
    for preset in sized:
        count = small_count[preset.name]
        if not count:
            continue
        shown = [text for text, _ in small[preset.name]]
        out.append(ExportWarning(
            preset=preset.name, identifier="size", count=count, total=checked,
            skus=skus[(preset.name, "size")], code=TOO_SMALL,
            message=f"{count} image(s) too small for {preset.label}: it would enlarge the "
                    f"product past the {MAX_ENLARGEMENT:g}x limit (or it is under "
                    f"{MIN_PRODUCT_PX} px) and refuse it: {_images(shown, count)}. They will "
                    f"be excluded from {preset.label}."))
    for preset in sized:
        count = soft_count[preset.name]
        if count:
            more = count - len(soft[preset.name])
            out.append(ExportWarning(
                preset=preset.name, identifier=ENLARGED, count=count, total=checked,
                skus=skus[(preset.name, ENLARGED)], code=ENLARGED,
                message=f"{preset.label} will ship {count} image(s) enlarged, which will look "
                        f"soft: {'; '.join(soft[preset.name])}"
                        + (f"; and {more} more" if more > 0 else "") + "."))
    for preset in presets:
        for verdict in ("error", "warn"):
            count = cut_count.get((preset.name, verdict), 0)
            if not count:
                continue
            shown = cuts[(preset.name, verdict)]
            what = (f"{preset.label} will refuse {count} main image(s) whose product the "
                    "photo's edge cuts (the marketplace requires the whole product)"
                    if verdict == "error" else
                    f"{preset.label} will ship {count} image(s) whose product the photo's "
                    "edge cuts, with a straight cut along that edge (ok with a warning)")
            identifier = _FRAME_IDENTIFIER[verdict]
            out.append(ExportWarning(
                preset=preset.name, count=count, total=checked,
                skus=skus[(preset.name, identifier)], identifier=identifier, code=FRAME_CUT,
                message=f"{what}: {_images(shown, count)}. Use photos with space around "
                        "the product."))
    for preset in presets:
        count = faint_count[preset.name]
        if count:
            out.append(ExportWarning(
                preset=preset.name, identifier="faint-refused", count=count, total=checked,
                skus=skus[(preset.name, "faint-refused")], code=FAINT_MARKS,
                message=f"{preset.label} will refuse {count} image(s) with faint see-through "
                        "marks (a grey cloud on white, from "
                        f"{FAINT_MARK_FAIL_SHARE:.0%} of the product's solid area): "
                        f"{_images(faint[preset.name], count)}. In review, remove the grey "
                        "cloud where it is background (a remove click or stroke on it), "
                        "or make it solid where it is part of the product (a keep click or "
                        "stroke), and approve the new version."))
    for preset in shadowed:
        count = off_count[preset.name]
        if not count:
            continue
        identifier = off_identifier[preset.name]
        images = _images(off[preset.name], count)
        # the one warning, worded for the shadow it is about: the version's stored layer a
        # shadow-keep preset ships, or the one the preset draws itself
        message = (f"{preset.label} keeps the shadow each version stored: in {count} "
                   "image(s) that is a synthetic shadow the version drew under a stray "
                   f"part, not the product ({images}), so the kept shadow will lie off the "
                   "product"
                   + _may_lose_words(preset, may_lose[preset.name], count)
                   + ". In review, remove the stray part (a remove click or stroke on "
                   "it) and approve the new version: its shadow is drawn again under the "
                   "product."
                   if identifier == KEPT_SHADOW_OFF else
                   f"{preset.label} draws a "
                   f"{'contact' if renders[preset.name] == 'scene' else 'synthetic'} "
                   "shadow under whatever is lowest: in "
                   f"{count} image(s) that is a stray part, not the product "
                   f"({images}), so the shadow will lie off the "
                   "product. In review, remove the stray part (a remove click or stroke "
                   "on it) and approve the new version.")
        out.append(ExportWarning(
            preset=preset.name, identifier=identifier, count=count, total=checked,
            skus=skus[(preset.name, identifier)], code=SHADOW_OFF_BODY, message=message))
    return out


#: where a preset's label stood in a message grouped with other presets' (``precheck_lines``)
_PRESET = "\x00"


def precheck_lines(warnings: Sequence[ExportWarning], labels: dict[str, str]) -> list[str]:
    """The form's pre-check as it shows it: one line per warning, but presets that give one
    warning of the same images in the same words (eBay, Etsy, Google Shopping and Shopify
    keeping one version's shadow) share one line that names them, "eBay, Etsy, Google
    Shopping, Shopify: each keeps the shadow …", where four near-identical paragraphs stood
    (2026-12-08, verify48b; verify48 UX). ``labels``: each preset's label by name; a warning
    whose message does not hold its preset's label (naming gaps, a spec's notes, a custom
    spec) keeps its line. In the warnings' order, each group where its first one stood."""
    groups: dict[object, tuple[list[str], str]] = {}
    for index, warning in enumerate(warnings):
        label = labels.get(warning.preset, "")
        key: object = index
        if label and label in warning.message:
            # the words once the preset's own name is out of them: equal words, one warning
            key = (warning.code, warning.identifier, warning.message.replace(label, _PRESET))
        named, message = groups.setdefault(key, ([], warning.message))
        if label:
            named.append(label)
    lines = []
    for key, (named, message) in groups.items():
        if isinstance(key, tuple) and len(named) > 1:
            # the first time "each" after the names; later "each preset": a bare "each" again
            # ("in 1 of them, each leaves a far detached part out") read as each image
            # (2026-12-08, verify48c)
            said = key[2].replace(_PRESET, "each", 1).replace(_PRESET, "each preset")
            lines.append(f"{', '.join(named)}: {said}")
        else:
            lines.append(message)
    return lines


def export_warnings(*, presets: list[variants.Preset], product_ids: Iterable[int] | None = None,
                    brand: str = "", approved_since: date | str | None = None
                    ) -> list[ExportWarning]:
    """Everything the form (and the API and the command, after creating the job:
    ``export_job_warnings``) warns of before an export: the naming gaps and shared
    identifiers, the selected images that are not approved, the spec notes, and per preset
    the images too small for it or cut by the photo's edge (``export_image_checks``)."""
    warnings = export_naming_gaps(presets=presets, product_ids=product_ids, brand=brand,
                                  approved_since=approved_since)
    unapproved = export_not_approved(product_ids=product_ids, brand=brand,
                                     approved_since=approved_since)
    if unapproved is not None:
        warnings.append(unapproved)
    newer = export_newer_versions(product_ids=product_ids, brand=brand,
                                  approved_since=approved_since)
    if newer is not None:
        warnings.append(newer)
    return [*warnings, *spec_notes(presets=presets),
            *export_image_checks(presets=presets, product_ids=product_ids, brand=brand,
                                 approved_since=approved_since)]


def export_warnings_advice(*, warnings: list[ExportWarning],
                           product_ids: Iterable[int] | None = None,
                           approved_since: date | str | None = None) -> str:
    """What the form says under its warnings: the fixes and what "start anyway" does, for the
    warnings shown only. It used to give every advice whatever the warning (missing and shared
    identifiers when none was missing) and to promise that images without an approved cutout
    are listed as not approved, which only an export of products chosen by SKU does."""
    codes = {gap.code for gap in warnings}
    fixes, then = [], []
    if NAMING_GAP in codes:
        fixes.append("add the missing identifiers to the products")
        then.append("images without an identifier are listed in the manifest as excluded")
    if NAMING_SHARED in codes:
        fixes.append("correct the shared identifiers")
    if NOT_APPROVED in codes:
        fixes.append("approve the images")
        _, selected = _export_scope(product_ids, "", approved_since)
        then.append("images without an approved cutout are listed in the manifest as not "
                    "approved" if selected else
                    "images without an approved cutout are left out (not listed in the "
                    "manifest)")
    if NEWER_VERSION in codes:
        fixes.append("review the newer versions")
        then.append("an image with a newer version waiting ships its approved version")
    if SPEC_NOTE in codes:
        fixes.append("correct the spec")
        then.append("the spec is rendered as written")
    if TOO_SMALL in codes or FRAME_CUT in codes or ENLARGED in codes:
        fixes.append("use closer or larger photos with space around the product")
        if ENLARGED in codes:
            then.append("enlarged images ship with the warning in the manifest and on the "
                        "export's page")
        if TOO_SMALL in codes or any(g.identifier == "frame-refused" for g in warnings):
            then.append("images a preset refuses are listed in the manifest as excluded, "
                        "and the export's page counts them per preset")
        if any(g.identifier == "frame-warned" for g in warnings):
            then.append("images cut by the photo's edge ship with the warning in the "
                        "manifest and on the export's page")
    if FAINT_MARKS in codes:
        fixes.append("retouch the grey clouds away in review")
        if TOO_SMALL not in codes and not any(g.identifier == "frame-refused"
                                              for g in warnings):
            then.append("images a preset refuses are listed in the manifest as excluded, "
                        "and the export's page counts them per preset")
    if SHADOW_OFF_BODY in codes:
        fixes.append("remove the stray parts the shadow would lie under in review")
        # what ships, by whose shadow it is (keepshadow47: "the shadow" said neither)
        whose = [words for identifier, words in (
            (SHADOW_OFF_BODY, "the shadow the preset draws"),
            (KEPT_SHADOW_OFF, "the shadow the version kept"))
            if any(g.identifier == identifier for g in warnings)]
        lost = any(g.identifier == KEPT_SHADOW_OFF and _MAY_LOSE in g.message
                   for g in warnings)
        then.append(f"those images ship with {' or '.join(whose)} lying under the stray part, "
                    "away from the product"
                    # verify48: a preset that leaves the part out ships no kept shadow
                    + (", or without the kept shadow where a preset leaves that part out"
                       if lost else "")
                    + ", with the warning in the manifest and on the export's page")
    fixes.append("change the selection")
    todo = ", ".join(fixes[:-1]) + (", or " if fixes[:-1] else "") + fixes[-1]
    # the button's name stays out of the fixes' sentence: "…; or start anyway" read as the
    # way to start, a click away from the button that does (QA 2026-12-06)
    text = f"Nothing has started. To fix it: {todo}."
    if then:
        text += f" If you export anyway: {'; '.join(then)}."
    if NAMING_SHARED in codes:
        text += " Products sharing one identifier stop the export with a naming collision."
    return text


def export_job_warnings(*, job: ExportJob) -> list[ExportWarning]:
    """What the form warns of before it starts (``export_warnings`` and the pre-check of the
    images, ``export_image_checks``) for a queued job, read from the presets and filters it
    stored (what its run will plan from): the API and the command warn with it after
    creating the job, as the form warns before. The naming gaps (not a name two files share:
    a job that was created has none, ``export_job_create`` refuses those), the selected
    images that are not approved, the spec notes, and per preset the images too small for
    it and those the photo's edge cuts. Nothing when a preset no longer resolves (the run
    says)."""
    try:
        presets = preset_resolve(names=job.presets)
    except (PresetError, variants.VariantError):
        return []
    return [gap for gap in export_warnings(presets=presets, **job.filters)
            if gap.code != NAMING_SHARED]


def export_brands() -> list[str]:
    return list(
        Product.live.exclude(brand="").order_by("brand").values_list("brand", flat=True).distinct()
    )


@dataclass(frozen=True)
class SkuLookup:
    product_ids: list[int]
    unknown: list[str]  # no such product
    deleted: list[str]  # the product was deleted
    #: SKUs that several live products match ignoring case and none exactly: why, per SKU
    ambiguous: list[str] = field(default_factory=list)

    @property
    def problem(self) -> str:
        """Why the list cannot be used as typed ("" when every SKU is a live product); at
        most 20 SKUs of each kind are named."""
        parts = [f"{label}: {', '.join(skus[:20])}{' …' if len(skus) > 20 else ''}"
                 for label, skus in (("Unknown SKU(s)", self.unknown),
                                     ("Deleted product(s)", self.deleted)) if skus]
        return "; ".join(parts + self.ambiguous[:20])


#: what separates SKUs typed or pasted as one text: any whitespace (spaces, tabs from a
#: spreadsheet, newlines), commas and semicolons; a SKU holds none of them
#: (``catalog.validators.SKU_RE``), so no SKU is ever cut in two
_SKU_SEPARATORS = re.compile(r"[\s,;]+")


#: folders of export storage that are not an export's own: the run writes every manifest
#: into ``manifests/`` and every ZIP into ``zips/``
EXPORT_RESERVED_FOLDERS = ("manifests", "zips")


def export_folder_taken(*, folder: str) -> str:
    """Why ``folder`` cannot take an export ("" when it can): it is, contains or lies inside
    the folder of another export that holds (or will hold) files (queued, running or done;
    not a dry run, a failed or a cancelled one, which leave nothing), or its files are in
    storage. Compared ignoring case: ``Spring/Amazon`` and ``spring/amazon`` are one folder
    on macOS and Windows, where the files are unpacked or the share is mounted."""
    parts = folder.split("/")
    if parts[0].lower() in EXPORT_RESERVED_FOLDERS:
        return (f"{parts[0]!r} is where Cutroom keeps every export's "
                f"{'manifest' if parts[0].lower() == 'manifests' else 'ZIP'}; "
                "choose another folder.")
    ancestors = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    same = Q()
    for name in ancestors:
        same |= Q(folder__iexact=name)
    other = (ExportJob.objects.filter(destination=ExportJob.Destination.FOLDER, dry_run=False)
             .exclude(status__in=[JobStatus.FAILED, JobStatus.CANCELLED])
             .filter(same | Q(folder__istartswith=f"{folder}/"))
             .order_by("pk").values_list("pk", "folder").first())
    if other is not None:
        pk, taken = other
        if taken.lower() == folder.lower():
            where = "already holds an export"
            where += f" ({taken!r} ignoring case)" if taken != folder else ""
        elif taken.lower().startswith(f"{folder.lower()}/"):
            where = f"contains {taken!r}, which holds an export"
        else:
            where = f"lies inside {taken!r}, which holds an export"
        return (f"The export folder {folder!r} {where} (export {pk}); an export's folder "
                "holds that export only: choose a folder of its own.")
    exports = storages["exports"]
    for name in ancestors:  # an export whose row is gone left its files
        if exports.exists(f"{name}/manifest.csv"):
            where = "already holds" if name == folder else f"lies inside {name!r}, which holds"
            return f"The export folder {folder!r} {where} an export; choose another folder."
    return ""


#: the refusal of a SKU list given but holding no SKU (a blank cell, only separators): it
#: used to read as no list at all, which exports every product
SKUS_BLANK = ("The SKU list holds no SKU (only blanks or separators). Give at least one SKU, "
              "or leave the list out to export every product.")


def sku_tokens(texts: str | Iterable[str]) -> list[str]:
    """The SKUs in a text (or in each of several texts), in order, blanks dropped."""
    if isinstance(texts, str):
        texts = [texts]
    return [sku for text in texts for sku in _SKU_SEPARATORS.split(text) if sku]


def products_by_sku(*, skus: Iterable[str]) -> SkuLookup:
    """The live products of a list of SKUs typed by a user, and which SKUs are not. A SKU
    matches as import, manifest and preview match it (``catalog.ingest.naming.sku_known``):
    exactly, else ignoring case (ASCII), never by a guess among case twins."""
    skus = list(dict.fromkeys(s.strip() for s in skus if s.strip()))
    rows = list(products_sku_folded(skus).values_list("sku", "pk", "deleted_at"))
    pks = {sku: pk for sku, pk, _ in rows}
    stored: dict[str, list[tuple[str, bool]]] = {}
    for sku, _, deleted_at in rows:
        stored.setdefault(fold_sku(sku), []).append((sku, deleted_at is not None))
    ids: list[int] = []
    unknown: list[str] = []
    deleted: list[str] = []
    ambiguous: list[str] = []
    for sku in skus:
        found = sku_known(sku, stored.get(fold_sku(sku), ()))
        if found is None:
            unknown.append(sku)
            continue
        if not isinstance(found, Known):
            found = Known(state=found, sku=sku)
        if found.state == DELETED and not found.twins:
            deleted.append(sku)
            continue
        try:
            known_usable(sku, found)
        except Unmapped as exc:
            ambiguous.append(str(exc))
            continue
        if pks[found.sku] not in ids:  # qa004 and QA004 typed: one product
            ids.append(pks[found.sku])
    return SkuLookup(product_ids=ids, unknown=unknown, deleted=deleted, ambiguous=ambiguous)


def products_by_sku_text(*, texts: str | Iterable[str]) -> SkuLookup:
    """``products_by_sku`` of what a user gave: the form's text, the API's list, the command's
    ``--product`` values (``sku_tokens``). A list given that holds no SKU (``[""]``, ", ;")
    is refused (``SKUS_BLANK``), never read as no list, which exports every product; an
    empty text or list is no filter."""
    given = bool(texts) if isinstance(texts, str) else bool(texts := list(texts))
    skus = sku_tokens(texts)
    if given and not skus:
        return SkuLookup(product_ids=[], unknown=[], deleted=[], ambiguous=[SKUS_BLANK])
    return products_by_sku(skus=skus)


@dataclass(frozen=True)
class PlannedItem:
    cutout_id: int
    asset_id: int
    preset: str
    path: str  # inside the ZIP / folder; "" when the name cannot be built
    sku: str
    gtin: str
    asin: str
    error: str = ""
    position: str = ""  # the image's position in the catalog ("main", "2"): which image


@dataclass
class ExportPlan:
    items: list[PlannedItem] = field(default_factory=list)
    collisions: list[str] = field(default_factory=list)

    @property
    def named(self) -> list[PlannedItem]:
        return [i for i in self.items if not i.error]


def export_plan(*, cutouts: QuerySet[Cutout], presets: list[variants.Preset]) -> ExportPlan:
    """Every file an export would write, named, with collisions found before anything runs.

    Each preset gets its own folder, so the files for one marketplace upload together; rows
    are grouped by cutout so a worker decodes each cutout once for all presets.
    """
    plan = ExportPlan()
    rows = cutouts.values_list(
        "pk", "asset_id", "asset__position", "asset__product__sku", "asset__product__gtin",
        "asset__product__asin",
    )
    for cutout_id, asset_id, position, sku, gtin, asin in rows.iterator(chunk_size=1000):
        number = number_for_position(position) or 1
        for preset in presets:
            try:
                name = variants.name_for(preset, position=number, sku=sku, gtin=gtin or None,
                                         asin=asin or None)
                # the preset's folder too (an admin's preset may be named "aux")
                path, error = variants.windows_safe_path(f"{preset.name}/{name}"), ""
            except variants.ExportNamingError as exc:
                path, error = "", str(exc)
            plan.items.append(PlannedItem(cutout_id, asset_id, preset.name, path, sku,
                                          gtin or "", asin or "", error, position or ""))
    plan.collisions = plan_collisions(plan.named)
    return plan


def plan_collisions(items: list[PlannedItem]) -> list[str]:
    """The collisions among named planned files, as a user reads them (``_collision_text``).
    The export passes only the files it would write (``export_jobs._plan``): a file the
    preset refuses anyway clashes with nothing (QA 2026-12-06, L1)."""
    return [_collision_text(collision, [items[i] for i in collision.indices])
            for collision in variants.find_collisions([i.path for i in items])]


_COLLISION_KINDS = {
    "duplicate": "would be written by",
    "case": "differ only in letter case (they clash on macOS/Windows), written by",
    "folder": "are a file and a folder with the same name, written by",
}


def _collision_text(collision: variants.Collision, items: list[PlannedItem]) -> str:
    """A collision as a user reads it: the file name(s) and the images that would write
    them, by SKU and position (``walmart/4006381333931_1.jpg would be written by SHOE-1
    MAIN, SHOE-2 MAIN``), and the identifier they share when that is the cause."""
    names = ", ".join(sorted(set(collision.names)))
    what = _COLLISION_KINDS.get(collision.kind, "would collide, written by")
    images = ", ".join(dict.fromkeys(f"{i.sku} {i.position}".strip() for i in items))
    cause = ""
    gtins = {i.gtin for i in items}
    if len({i.sku for i in items}) > 1 and len(gtins) == 1 and "" not in gtins \
            and next(iter(gtins)) in names:
        cause = f" (they share GTIN {next(iter(gtins))})"
    return f"{names} {what} {images}{cause}"


#: ``report["origin"]`` of an export made in the export form (export_job_create's
#: ``origin``); the API and ``manage.py export`` leave it out
ORIGIN_FORM = "form"


@dataclass(frozen=True)
class ExportChoice:
    """What a user's last export from the form rendered, as its fields hold it: the form
    starts from it (a team exports to the same channels again and again), and from nothing
    for someone who never exported: never a preset the user did not choose."""

    presets: list[str]
    backgrounds: list[str]
    specs: list[str]
    #: the export it comes from (None: no export from the form yet): the form names it
    job_id: int | None = None


def export_last_choice(*, user) -> ExportChoice:
    """The presets, scene backgrounds and custom specs of ``user``'s latest export made in
    the export form (``report["origin"]``): an API client's specs, made under the same
    user, were carried into the next export from the form, where nobody had chosen them."""
    names: list[str] = []
    job_id = None
    if user is not None and user.is_authenticated:
        last = (ExportJob.objects.filter(created_by=user, report__origin=ORIGIN_FORM)
                .order_by("-pk").values_list("pk", "presets").first())
        if last is not None:
            job_id, names = last[0], last[1] or []
    presets: list[str] = []
    backgrounds: list[str] = []
    specs: list[str] = []
    for name in names:
        if name.startswith(SPEC_PREFIX):
            specs.append(name[len(SPEC_PREFIX):])
        elif BACKGROUND_SEPARATOR in name:  # web_hero:oak, as the form stores a scene
            preset, _, slug = name.partition(BACKGROUND_SEPARATOR)
            presets.append(preset)
            backgrounds.append(slug)
        else:
            presets.append(name)
    return ExportChoice(presets=list(dict.fromkeys(presets)),
                        backgrounds=list(dict.fromkeys(backgrounds)), specs=specs,
                        job_id=job_id if names else None)


def export_job_page(*, before: int | None = None, after: int | None = None,
                    size: int = 50) -> Page[ExportJob]:
    """One page of export jobs with who started them, newest first (``catalog.paging``:
    ``before`` an id for older jobs, ``after`` an id for newer ones)."""
    return newest_first(ExportJob.objects.select_related("created_by"), before=before,
                        after=after, size=size)


def export_job_get(*, pk: int) -> ExportJob | None:
    """One export job with who started it; None when there is none."""
    return ExportJob.objects.select_related("created_by").filter(pk=pk).first()


@dataclass(frozen=True)
class ExcludedRow:
    """A variant an export left out, as its job recorded it (``report["excluded"]``, the
    rows the export page's Excluded table shows)."""

    sku: str
    preset: str
    file: str  # "" when it could not be named
    reason: str
    position: str = ""  # "" in exports made before 2026-12-02
    asset_id: int | None = None

    @property
    def image(self) -> str:
        """Which image of the product, as the page's Image column says it."""
        if self.asset_id is None:
            return "—"
        return f"{self.position or '—'} · asset #{self.asset_id}"


def export_job_excluded(*, job: ExportJob) -> tuple[list[ExcludedRow], int]:
    """The excluded rows the job kept (at most ``MAX_REPORTED``) and how many it excluded in
    all (the manifest lists every one)."""
    report = job.report if isinstance(job.report, dict) else {}
    rows = [ExcludedRow(sku=r.get("sku", ""), preset=r.get("preset", ""),
                        file=r.get("file", ""), reason=r.get("reason", ""),
                        position=str(r.get("position") or ""),
                        asset_id=r["asset_id"] if isinstance(r.get("asset_id"), int) else None)
            for r in report.get("excluded", [])]
    return rows, max(len(rows), int(report.get("excluded_count") or 0))


#: a refusal's reason as kept: its first finding, cut at a word to stay one short line beside
#: a thumbnail (the export's page and manifest keep the whole text)
REFUSAL_REASON_CHARS = 72


def refusal_text(compliance: str, sku: str = "") -> str:
    """A manifest row's compliance text without its prefixes, every finding kept: the
    export page's Presets table shows it in full (QA 2026-12-06: it showed a stem). "not
    exported: SKU-1 has no GTIN; Walmart files are named by GTIN" is "no GTIN", so one reason
    counts once per preset, not once per SKU. A dry run's "dry run: would not be exported:
    failed: ..." reads as the export's, so its Presets table's reasons match."""
    text = compliance
    for prefix in ("dry run: would not be exported: ", "not exported: ", "failed: ",
                   "cannot name the file: ",
                   *((f"{sku} has ",) if sku else ()), "the product has "):
        text = text.removeprefix(prefix)
    first, _, rest = text.partition("; ")
    if re.match(r"[^;]* files are named by [^;]*$", rest):
        return first  # "no GTIN; Walmart files are named by GTIN": the preset says that
    return text


def refusal_reason(compliance: str, sku: str = "") -> str:
    """A manifest row's compliance text ("not exported: failed: the product touches the left
    edge of the canvas; fill 78 %...") as a note says it: ``refusal_text``'s first finding,
    its main clause, cut to one short line."""
    first, more, _ = refusal_text(compliance, sku).partition("; ")
    # its main clause: "the product is enlarged 17.9x from 61x95 px in the cutout, over the 8x
    # limit, and ..." (a comma inside brackets, "(allowed: jpeg, png)", does not end it)
    for at in (m.start() for m in re.finditer(", ", first)):
        if first.count("(", 0, at) == first.count(")", 0, at):
            first, more = first[:at], "…"
            break
    if len(first) > REFUSAL_REASON_CHARS:
        first, more = first[:REFUSAL_REASON_CHARS].rsplit(" ", 1)[0].rstrip(",;:"), "…"
    return f"{first} …" if more else first


@dataclass(frozen=True)
class ExportRefusal:
    """What an image's latest export refused of it: (preset label, reason) per preset, and
    how many presets that export chose (each renders every image), so a note can say how
    many of them shipped it."""

    job_id: int
    finished_at: datetime
    refused: tuple[tuple[str, str], ...]
    presets_total: int = 0  # 0: not known
    # when the export was asked for: a version made after it is not the one it refused
    started_at: datetime | None = None

    @property
    def shipped(self) -> int:
        """How many of the export's presets wrote the image's file."""
        return max(0, self.presets_total - len(self.refused))  # a row per refused preset

    @property
    def partly(self) -> bool:
        return self.shipped > 0

    def _by_reason(self) -> dict[str, list[str]]:
        by_reason: dict[str, list[str]] = {}
        for label, reason in self.refused:
            labels = by_reason.setdefault(reason, [])
            if label not in labels:
                labels.append(label)
        return by_reason

    @property
    def text(self) -> str:
        """One line, presets refused for one reason together: "Partly exported: 3 of 4
        presets — Walmart refused: no GTIN" when the export shipped it in some presets,
        else "Latest export refused Amazon main image, Walmart: the product touches …"."""
        by_reason = self._by_reason()
        if self.partly:
            return (f"Partly exported: {self.shipped} of {self.presets_total} presets — "
                    + "; ".join(f"{', '.join(labels)} refused: {reason}"
                                for reason, labels in by_reason.items()))
        return "Latest export refused " + "; ".join(
            f"{', '.join(labels)}: {reason}" for reason, labels in by_reason.items())


def export_refusals_latest(*, asset_ids: Iterable[int]) -> dict[int, ExportRefusal]:
    """Per image, what its latest export refused, for the images whose latest export refused
    any chosen preset: the newest finished real export with ``RefusedVariant`` rows for it,
    unless an export since shipped the image (a cutout of it got a later ``exported_at``:
    every chosen preset wrote it; a partial export sets ``exported_at`` to its own end, so its
    refusals stand). The status reads Exported as soon as one preset shipped the image; this
    says what was left out. At most two queries for a whole product page: the refusals of
    these images, newest export first (read until each image has its newest export's), and,
    if any, when those images were last shipped."""
    ids = list(dict.fromkeys(int(a) for a in asset_ids))
    if not ids:
        return {}
    rows = (RefusedVariant.objects
            .filter(asset_id__in=ids, job__status=JobStatus.DONE, job__dry_run=False,
                    job__finished_at__isnull=False)
            .order_by("-job__finished_at", "-job_id", "pk")
            .values_list("asset_id", "job_id", "job__finished_at", "job__presets", "label",
                         "reason", "job__created_at"))
    # job, finished, presets chosen, asked for; an older export's refusals are hidden
    newest: dict[int, tuple[int, datetime, int, datetime]] = {}
    refused: dict[int, list[tuple[str, str]]] = {}
    for asset_id, job_id, finished_at, presets, label, reason, started_at in rows.iterator():
        if len(newest) == len(ids) and job_id not in {j for j, *_ in newest.values()}:
            break  # every image has its newest export's rows: the rest are older
        if finished_at is None:  # filtered out: said for the type checker
            continue
        if asset_id not in newest:
            newest[asset_id] = (job_id, finished_at,
                                len(presets) if isinstance(presets, list) else 0, started_at)
        if newest[asset_id][0] == job_id:
            refused.setdefault(asset_id, []).append((label, reason))
    if not newest:
        return {}
    shipped = dict(Cutout.objects.filter(asset_id__in=newest, exported_at__isnull=False)
                   .values("asset_id").annotate(last=Max("exported_at"))
                   .values_list("asset_id", "last"))
    notes = {asset_id: ExportRefusal(job_id=job_id, finished_at=finished_at,
                                     refused=tuple(refused[asset_id]), presets_total=total,
                                     started_at=started_at)
             for asset_id, (job_id, finished_at, total, started_at) in newest.items()}
    # a refusal an export has shipped the image since is over
    return {asset_id: note for asset_id, note in notes.items()
            if asset_id not in shipped or shipped[asset_id] <= note.finished_at}


#: ``report["presets"]``: per preset of an export, how many files it shipped (a dry run: would
#: ship) and refused, with the reasons and the shipped files' warnings counted by kind, a few
#: images named each; small whatever the export's size (``PresetTally``)
PRESETS_REPORT = "presets"
#: kinds of reason (and of warning) kept per preset, and images named per kind; the rest are
#: counted, and the manifest and the Excluded table list every file
REASONS_KEPT = 6
EXAMPLES_KEPT = 3
_NUMBERS = re.compile(r"\d+(?:[.,]\d+)?")


def _reason_kind(reason: str) -> str:
    """One kind for reasons that differ only in their figures ("enlarged 9.1x from 61x95 px"
    and "enlarged 12.0x from 40x52 px"): counted together, on one line (``_reason_line``)."""
    return _NUMBERS.sub("#", reason)


#: a figure in a reason: "7.4x", "142x230 px", "1,234 px", "21 %", "3"; not the digits of a
#: name ("SKU-123", "PT02": a reason naming one keeps its words, as before). A figure ends
#: on a digit: the comma or full stop after one is the sentence's (QA 2026-12-06: "near
#: x=617, y=248" read "near x=… y=…" and its image "(3, 617,, 248, 0.7%)").
_FIGURE = re.compile(
    r"(?<![\w-])\d(?:[\d.,]*\d)?(?:x\d(?:[\d.,]*\d)?)?x?(?: ?(?:px|%|MP)\b| ?%)?")


def _figures(reason: str) -> list[str | None]:
    return [m.group(0) for m in _FIGURE.finditer(reason)]


def _same_figures(kept: list[str | None], new: list[str | None]) -> list[str | None]:
    """The figures every reason of a kind shares (a rule's "8x limit", "2000 recommended"),
    None where one image's differs (its size, its enlargement): a kind's line keeps the
    first and puts each image's own beside its name."""
    if len(kept) != len(new):
        return [None] * len(kept)
    return [k if k == n else None for k, n in zip(kept, new, strict=True)]


def _reason_line(reason: str, figures: list[str | None]) -> tuple[str, list[int]]:
    """``reason`` in full with the figures that differ between its kind's images as "…",
    and the indexes of those figures (QA 2026-12-06: the line was cut at its first figure,
    "the product …", and only the manifest had the words)."""
    matches = list(_FIGURE.finditer(reason))
    if len(matches) != len(figures):
        return reason, []
    varying = [i for i, f in enumerate(figures) if f is None]
    out, at = [], 0
    for i in varying:
        out += [reason[at:matches[i].start()], "…"]
        at = matches[i].end()
    return "".join(out) + reason[at:], varying


@dataclass
class PresetTally:
    """Builds ``report["presets"]`` as an export runs (the run calls ``shipped`` or
    ``refused`` once per planned file); ``export_job_presets`` reads it back."""

    rows: dict[str, dict]

    @classmethod
    def start(cls, presets: Iterable[variants.Preset]) -> PresetTally:
        return cls({p.name: {"name": p.name, "label": p.label, "shipped": 0, "refused": 0,
                             "warned": 0, "reasons": [], "reasons_more": 0, "warnings": [],
                             "warnings_more": 0} for p in presets})

    @staticmethod
    def _count(row: dict, key: str, reason: str, image: str) -> None:
        kind = _reason_kind(reason)
        for entry in row[key]:
            if entry["kind"] == kind:
                entry["count"] += 1
                if "figures" in entry:
                    entry["figures"] = _same_figures(entry["figures"], _figures(reason))
                if len(entry["examples"]) < EXAMPLES_KEPT:
                    entry["examples"].append(image)
                    entry["texts"].append(reason)  # its own figures (7.4x, not the first's)
                return
        if len(row[key]) < REASONS_KEPT:
            row[key].append({"kind": kind, "reason": reason, "count": 1, "examples": [image],
                             "texts": [reason], "figures": _figures(reason)})
        else:
            row[f"{key}_more"] += 1

    @staticmethod
    def _image(item: PlannedItem) -> str:
        return f"{item.sku} {item.position}".strip()

    def shipped(self, item: PlannedItem, warnings: Iterable[str] = ()) -> None:
        row = self.rows[item.preset]
        row["shipped"] += 1
        warnings = list(warnings)
        row["warned"] += bool(warnings)
        for warning in warnings:
            self._count(row, "warnings", refusal_text(warning), self._image(item))

    def refused(self, item: PlannedItem, compliance: str) -> None:
        """``compliance``: the manifest row's text, kept in full (``refusal_text``)."""
        row = self.rows[item.preset]
        row["refused"] += 1
        self._count(row, "reasons", refusal_text(compliance, item.sku), self._image(item))

    def as_report(self) -> list[dict]:
        return list(self.rows.values())


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    count: int
    examples: list[str]
    #: (image, its own sentence in full) for each named image, whether or not the kind's
    #: images differ in figures (when they do not, each image's sentence is the kind's
    #: ``reason``): the export page's one format for refusals and warnings, "⚠ SKU-1 MAIN:
    #: the product is …" (2026-12-07, export46; verify45 L4: a kind whose images shared every
    #: figure read "⚠ the product is … — 1: SKU-1 MAIN"; QA 2026-12-06, session 38: the
    #: kind's line with "…" gaps and the images' bare figures, "ALPHA-1 MAIN (2, 581, 422,
    #: 365, 42, 1.1%)", could not be read). One field since 2026-12-07 (reread47: it and a
    #: ``lines`` property that filled it in were two names for one thing).
    sentences: tuple[tuple[str, str], ...]

    @property
    def more(self) -> int:
        return self.count - len(self.examples)


@dataclass(frozen=True)
class PresetResult:
    """One preset's line on the export's page: shipped / refused counts, why, and the
    warnings the shipped files carry (a product cut by the photo's edge ships to eBay with a
    straight cut, "ok (warnings)": said here per image, not only on its chip)."""

    name: str
    label: str
    shipped: int
    refused: int
    warned: int
    reasons: list[ReasonCount]
    reasons_more: int
    warnings: list[ReasonCount]
    warnings_more: int


def _reason_count(entry: dict) -> ReasonCount:
    """A kind's line: its reason in full when its images share every figure; otherwise the
    reason with the figures they differ in as "…" (what kinds are merged and compared by)
    and, to show, each named image with its own sentence ("QA-SIX PT02: the product is
    enlarged 7.4x (142x230 px …"). A report kept before the figures were (2026-12-06)
    compares its named images' texts; one kept before the texts were (2026-12-04) shows its
    first text as it was."""
    reason = str(entry.get("reason", ""))
    examples = [str(x) for x in entry.get("examples") or []]
    texts = entry.get("texts")
    sentences: tuple[tuple[str, str], ...] = ()
    if isinstance(texts, list) and len(texts) == len(examples) and texts:
        figures = entry.get("figures")
        if not isinstance(figures, list):
            figures = _figures(reason)
            for text in texts[1:]:
                figures = _same_figures(figures, _figures(str(text)))
        reason, varying = _reason_line(reason, figures)
        if varying:
            sentences = tuple(zip(examples, map(str, texts), strict=True))
    # a kind whose images share every figure: its reason is each image's sentence
    sentences = sentences or tuple((image, reason) for image in examples)
    return ReasonCount(reason, int(entry.get("count") or 0), examples, sentences)


def _reason_counts(entries) -> list[ReasonCount]:
    """The kinds' lines, those that read alike merged (counts summed, every named image
    kept): kinds differ in words past the label's cut ("the product is only … every
    marketplace preset …" and "… the Walmart preset …"), and three lines that all read "the
    product is only …" looked like a repeat (QA)."""
    merged: dict[str, ReasonCount] = {}
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        line = _reason_count(entry)
        seen = merged.get(line.reason)
        merged[line.reason] = line if seen is None else ReasonCount(
            line.reason, seen.count + line.count, seen.examples + line.examples,
            seen.sentences + line.sentences)
    return list(merged.values())


def export_job_presets(*, job: ExportJob) -> list[PresetResult]:
    """``report["presets"]`` of a run, one line per preset (empty for exports run before it
    was kept, 2026-12-04)."""
    report = job.report if isinstance(job.report, dict) else {}
    rows = report.get(PRESETS_REPORT)
    if not isinstance(rows, list):
        return []
    return [PresetResult(
        name=str(r.get("name", "")), label=str(r.get("label", "")),
        shipped=int(r.get("shipped") or 0), refused=int(r.get("refused") or 0),
        warned=int(r.get("warned") or 0), reasons=_reason_counts(r.get("reasons")),
        reasons_more=int(r.get("reasons_more") or 0),
        warnings=_reason_counts(r.get("warnings")),
        warnings_more=int(r.get("warnings_more") or 0)) for r in rows if isinstance(r, dict)]


EXPORT_FILES = ("zip", "manifest")


@dataclass(frozen=True)
class ExportFile:
    """A file of an export as a download: its name in the ``exports`` storage, the name the
    client saves it under and its content type."""

    name: str
    filename: str
    content_type: str


def export_job_file(*, job: ExportJob, file: str = "zip") -> ExportFile | None:
    """The ZIP or the manifest of ``job``; None when the job has no such file (yet)."""
    if file == "manifest":
        if not job.manifest_name:
            return None
        return ExportFile(job.manifest_name, f"cutroom-export-{job.pk}-manifest.csv",
                          "text/csv; charset=utf-8")
    if file != "zip" or not job.zip_name or not job.exported_count:
        return None  # an empty export's ZIP (made before 2026-12-02) holds only the manifest
    return ExportFile(job.zip_name, f"cutroom-export-{job.pk}.zip", "application/zip")


@dataclass(frozen=True)
class ExportProgress:
    job: ExportJob
    percent: int
    is_active: bool
    #: finished, not a dry run, and wrote no file: there is nothing to download
    empty: bool = False


def export_job_progress(*, job: ExportJob) -> ExportProgress:
    total = job.progress_total
    percent = int(100 * job.progress_done / total) if total else 0
    if job.status == JobStatus.DONE:
        percent = 100
    return ExportProgress(job=job, percent=percent,
                          is_active=job.status in (JobStatus.QUEUED, JobStatus.RUNNING),
                          empty=job.status == JobStatus.DONE and not job.dry_run
                          and not job.exported_count)


def export_job_results(*, job: ExportJob, limit: int = 500) -> tuple[list[dict], bool]:
    """Manifest rows (unescaped for display) and whether there were more than ``limit``.
    Every row has its ``status`` code, a manifest written before the column too
    (``manifest_row_status``)."""
    if not job.manifest_name:
        return [], False
    storage = storages["exports"]
    rows: list[dict] = []
    try:
        with storage.open(job.manifest_name, "rb") as fh:
            # Django File iterates lines on every backend (S3 files are not io buffers).
            for row in csv.DictReader(codecs.iterdecode(fh, "utf-8-sig")):
                if len(rows) == limit:
                    return rows, True
                status = manifest_row_status(row)
                rows.append({**{k: variants.csv_unescape(v or "") for k, v in row.items()},
                             "status": str(status)})
    except FileNotFoundError:
        return [], False
    return rows, False


@dataclass(frozen=True)
class PresetCard:
    """What the export form shows of a preset: its spec and the canvas it renders on."""

    name: str
    label: str
    spec: str
    width: int | None  # None: the canvas follows the product (trimmed, transparent)
    height: int | None
    background: str  # CSS colour of the canvas, or "" for transparent/scene

    @property
    def size(self) -> str:
        return f"{self.width}×{self.height}" if self.width else "fits the product"

    @property
    def preview(self) -> tuple[int, int]:
        """The canvas scaled into a 120 x 72 px box (CSS px), keeping its ratio."""
        if not self.width or not self.height:
            return 54, 72
        scale = min(120 / self.width, 72 / self.height)
        return max(8, round(self.width * scale)), max(8, round(self.height * scale))


_CANVAS_RE = re.compile(r"(?:^|\|)(?:square-(\d+)|canvas-(\d+)x(\d+))(?:\||$)")
_BG_RE = re.compile(r"(?:^|\|)bg-([0-9a-fA-F]{6})(?:\||$)")


def preset_card(preset: Preset) -> PresetCard:
    """Read only the spec string, not the parsed spec: the preview needs two tokens, and the
    string form is the stable contract (the admin edits it)."""
    width = height = None
    match = _CANVAS_RE.search(preset.spec)
    if match:
        side, w, h = match.groups()
        width, height = (int(side), int(side)) if side else (int(w), int(h))
    bg = _BG_RE.search(preset.spec)
    return PresetCard(preset.name, preset.label, preset.spec, width, height,
                      f"#{bg.group(1)}" if bg else "")


#: contact-sheet cells per page: bounds the page (and the manifest rows held) for big exports
SHEET_PAGE_SIZE = 60
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def is_sha256(value: str) -> bool:
    return bool(_SHA256_RE.match(value))


@dataclass(frozen=True)
class SheetCell:
    """One exported (or excluded) variant on the contact sheet."""

    sku: str
    preset: str
    file: str
    size: str
    sha256: str  # "" when nothing was rendered (no thumbnail)
    status: variants.ManifestStatus
    compliance: str
    position: str = ""  # "" in manifests written before the column
    asset_id: str = ""
    spec: str = ""  # the spec string it was rendered with ("" before the column)
    #: the variant has no transparency (a JPEG, an opaque background, a scene): its cell gets
    #: a plain background, as the checkerboard would read as transparent pixels around it
    opaque: bool = False

    @property
    def state(self) -> str:
        """Its chip's colour: ok | warning | failed | pending."""
        return SHEET_CHIPS[self.status]

    @property
    def label(self) -> str:
        """What its chip reads: the state, but a dry run's unrendered file "would be
        rendered" (a done dry run's cells read "pending" as if still to come) and an image
        without an approved cutout "not approved" (no file was planned for it). A file
        shipped with warnings names their kinds, "⚠ kept shadow off product, enlarged"
        (``compliance.summary_warning_titles``, most telling first; 2026-12-08, verify48; QA
        verify47: it said "warning", and the kept shadow's words came last in a long line
        behind the chip), the first ``SHEET_TITLES_SHOWN`` and "+N"; "warning" when none of
        them is of a known kind."""
        if self.status is variants.ManifestStatus.UNCHECKED:
            return "would be rendered"
        if self.status is variants.ManifestStatus.NOT_APPROVED:
            return "not approved"
        if self.status is variants.ManifestStatus.OK_WARNINGS:
            titles = summary_warning_titles(self.compliance)
            if titles:
                more = len(titles) - SHEET_TITLES_SHOWN
                return (f"⚠ {', '.join(titles[:SHEET_TITLES_SHOWN])}"
                        + (f" +{more}" if more > 0 else ""))
        return self.state

    @property
    def is_custom_spec(self) -> bool:
        """A ``spec-<hash>`` folder, whose name alone does not say which spec it is."""
        return self.preset.startswith("spec-")


@dataclass(frozen=True)
class ContactSheet:
    cells: list[SheetCell]
    page: int
    pages: int
    total: int
    #: rows of images without an approved cutout (after the planned ones): part of ``total``,
    #: not of the variants the job's progress counts
    not_approved: int = 0

    @property
    def variants(self) -> int:
        """The planned variants, as the job's progress counts them."""
        return self.total - self.not_approved

    @property
    def previous(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


#: warning kinds a contact-sheet chip names before "+N" (the rest are in its details)
SHEET_TITLES_SHOWN = 2

#: the contact sheet's chip colour per manifest status
SHEET_CHIPS: dict[variants.ManifestStatus, str] = {
    variants.ManifestStatus.OK: "ok",
    variants.ManifestStatus.OK_WARNINGS: "warning",
    variants.ManifestStatus.FAILED_INCLUDED: "failed",
    variants.ManifestStatus.FAILED: "failed",
    variants.ManifestStatus.NOT_EXPORTED: "failed",
    variants.ManifestStatus.NOT_APPROVED: "failed",
    variants.ManifestStatus.UNCHECKED: "pending",
}


def manifest_row_status(row: dict) -> variants.ManifestStatus:
    """A manifest row's outcome (as read from the CSV, cells escaped): its ``status`` code;
    a manifest written before the column (2026-12-05) has only the text to go by."""
    try:
        return variants.ManifestStatus(variants.csv_unescape(row.get("status") or "").strip())
    except ValueError:
        return legacy_manifest_status(variants.csv_unescape(row.get("compliance") or ""))


#: the dry run's prefix of a pre-2026-12-05 compliance text: "dry run: ", "dry run (cached): "
#: and "dry run (cached, <why>: re-checked on export): "
_LEGACY_DRY_RUN_RE = re.compile(r"dry run(?: \(cached[^)]*\))?: ")


def legacy_manifest_status(text: str) -> variants.ManifestStatus:
    """The status of a row of a manifest written before 2026-12-05, which has no ``status``
    column: read once from its ``compliance`` text, as the export wrote it then
    (``export_sinks.manifest_row_for``, ``ComplianceResult.summary``). Manifests written
    since carry the code; nothing else reads the text for a decision."""
    status = variants.ManifestStatus
    text = text.strip()
    dry = _LEGACY_DRY_RUN_RE.match(text)
    if dry:
        text = text[dry.end():]
    if text.startswith("not approved"):
        return status.NOT_APPROVED
    if text == "would be rendered":
        return status.UNCHECKED
    if text.startswith(("exported despite", "would be exported despite")):
        return status.FAILED_INCLUDED
    for refused in ("not exported: ", "would not be exported: "):
        if text.startswith(refused):
            return (status.FAILED if text.removeprefix(refused).startswith("failed")
                    else status.NOT_EXPORTED)
    if text.startswith("failed"):
        return status.FAILED
    if text.startswith("ok (warnings"):
        return status.OK_WARNINGS
    return status.OK


def export_job_sheet(*, job: ExportJob, page: int = 1,
                     per_page: int = SHEET_PAGE_SIZE) -> ContactSheet:
    """One page of the contact sheet, read by streaming the manifest: only that page's rows
    are kept, so a 1000-variant export costs the same memory as a 10-variant one. A page past
    the last is the last (read again: an old link or a typed number, not an empty sheet)."""
    sheet = _sheet_page(job, max(1, page), per_page)
    if sheet.page > sheet.pages and sheet.total:
        sheet = _sheet_page(job, sheet.pages, per_page)
    return replace(sheet, page=min(sheet.page, sheet.pages))


def _sheet_page(job: ExportJob, page: int, per_page: int) -> ContactSheet:
    start = (page - 1) * per_page
    cells: list[SheetCell] = []
    total = not_approved = 0
    if job.manifest_name:
        try:
            with storages["exports"].open(job.manifest_name, "rb") as fh:
                for row in csv.DictReader(codecs.iterdecode(fh, "utf-8-sig")):
                    status = manifest_row_status(row)
                    if start <= total < start + per_page:
                        cells.append(_sheet_cell(row, status))
                    total += 1
                    not_approved += status is variants.ManifestStatus.NOT_APPROVED
        except FileNotFoundError:
            pass
    return ContactSheet(cells=cells, page=page, pages=max(1, -(-total // per_page)),
                        total=total, not_approved=not_approved)


def spec_is_opaque(spec: str, file: str = "") -> bool:
    """Whether a variant of ``spec`` has no transparent pixel: a JPEG, an opaque ``bg-``
    colour or a scene. Without a spec (a manifest written before the column) the file's
    extension decides, JPEG only."""
    try:
        parsed = variants.parse_spec(spec) if spec else None
    except variants.SpecError:
        parsed = None
    if parsed is None:
        return file.lower().endswith((".jpg", ".jpeg"))
    return parsed.format == "jpeg" or parsed.background is not None or parsed.is_scene


def export_job_specs(*, job: ExportJob) -> list[tuple[str, str]]:
    """The job's custom specs as (folder, spec string) pairs, ``spec-db4f42c6`` beside the
    spec it stands for, so a reader of the ZIP can tell its ``spec-<hash>`` folders apart."""
    out = []
    for name in job.presets:
        if isinstance(name, str) and name.startswith(SPEC_PREFIX):
            spec = name[len(SPEC_PREFIX):]
            try:
                out.append((spec_preset(spec).name, spec))
            except PresetError:
                out.append(("", spec))  # the run says why it does not parse
    return out


def export_job_preset_labels(*, job: ExportJob) -> list[tuple[str, str]]:
    """The job's presets as (name as stored, label): "Amazon main image" for ``amazon_main``,
    "Web hero on oak" for ``web_hero:oak``, "custom spec …" for a spec. Read leniently: the
    export's page names what it ran, a preset disabled or removed since keeps its name."""
    return export_jobs_preset_labels(jobs=[job])[0]


def export_jobs_preset_labels(*, jobs: Sequence[ExportJob]) -> list[list[tuple[str, str]]]:
    """``export_job_preset_labels`` of each of ``jobs``, in their order, in one query for
    them all (the Recent exports list: one per job before, and it showed the names)."""
    names = [[n for n in job.presets if isinstance(n, str)] for job in jobs]
    bases = {n.partition(BACKGROUND_SEPARATOR)[0] for each in names for n in each}
    labels = dict(Preset.objects.filter(name__in=bases).values_list("name", "label")
                  ) if bases else {}

    def label(name: str) -> str:
        if name.startswith(SPEC_PREFIX):
            return f"custom spec {name[len(SPEC_PREFIX):]}"
        base, _, slug = name.partition(BACKGROUND_SEPARATOR)
        builtin = variants.PRESETS.get(base)
        text = labels.get(base) or (builtin.label if builtin else base)
        return f"{text} on {slug}" if slug else text

    return [[(name, label(name)) for name in each] for each in names]


def _sheet_cell(row: dict, status: variants.ManifestStatus) -> SheetCell:
    value = {k: variants.csv_unescape(v or "") for k, v in row.items()}
    sha = value.get("sha256", "")
    compliance = value.get("compliance", "")
    width, height = value.get("width", ""), value.get("height", "")
    file = value.get("file") or value.get("planned_file", "")
    spec = value.get("spec", "")
    return SheetCell(
        # an excluded row has no file, only the name it would have had
        sku=value.get("sku", ""), preset=value.get("preset", ""),
        file=file,
        size=f"{width}×{height}" if width and height else "",
        sha256=sha if _SHA256_RE.match(sha) else "", status=status,
        compliance=compliance, position=value.get("position", ""),
        asset_id=value.get("asset_id", ""), spec=spec, opaque=spec_is_opaque(spec, file))

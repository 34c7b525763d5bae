"""Export selectors (cutouts/selectors/export.py): the plan's paths and names (Amazon's swatch,
preset folders Windows can create), the not-approved and naming-gap warnings, the form's last
choice (form exports only, also those made before the origin mark), and the presets the latest
export refused an image for (``export_refusals_latest``, from ``RefusedVariant`` rows)."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from catalog.api_models import ApiKey
from catalog.models import AssetStatus
from cutouts.models import ExportJob, Preset
from cutouts.selectors import export as export_selectors
from tests.factories import ImageAssetFactory, ProductFactory, manager

from .export_helpers import SMALL, approved_cutout, done_cutout, run_presets

pytestmark = pytest.mark.django_db


def test_it_names_a_swatch_for_amazon_swch():
    # it said "Amazon image position 10 has no code: only MAIN and PT01..PT08 (positions 1-9)"
    cutout = approved_cutout(product=ProductFactory(sku="SW-1", asin="B0SWATCH01"),
                             position="SWCH")
    plan = export_selectors.export_plan(
        cutouts=export_selectors.export_candidates(product_ids=[cutout.asset.product_id]),
        presets=export_selectors.preset_resolve(names=["amazon_main"]))
    assert [(i.path, i.error) for i in plan.items] == [("amazon_main/B0SWATCH01.SWCH.jpg", "")]


def test_it_splits_the_last_choice_into_scene_presets_and_specs():
    job = ExportJob.objects.create(created_by=manager(), presets=[
        "web_hero:oak", "web_hero:slate", "amazon_main", "spec:square-600|format-png"],
        report={"origin": export_selectors.ORIGIN_FORM})
    choice = export_selectors.export_last_choice(user=job.created_by)
    assert choice.presets == ["web_hero", "amazon_main"]
    assert choice.backgrounds == ["oak", "slate"]
    assert choice.specs == ["square-600|format-png"]


def _brand_catalog():
    approved_cutout(product=ProductFactory(sku="ACME-1", brand="Acme"))
    waiting = ProductFactory(sku="ACME-2", brand="Acme")
    approved_cutout(product=waiting, position="MAIN")
    done_cutout(product=waiting, position="PT01")
    ImageAssetFactory(product=ProductFactory(sku="ACME-3", brand="Acme"), position="MAIN")
    ImageAssetFactory(product=ProductFactory(sku="OTHER-1", brand="Other"), position="MAIN")
    from catalog.models import ImageAsset
    from cutouts.services.status import assets_status_sync

    assets_status_sync(asset_ids=ImageAsset.objects.values_list("pk", flat=True))


def test_it_warns_of_unapproved_images_of_a_brand_the_catalog_and_a_date(sent):
    _brand_catalog()
    brand = export_selectors.export_not_approved(brand="acme")
    assert brand is not None and brand.code == export_selectors.NOT_APPROVED
    assert (brand.count, brand.total, brand.skus) == (2, 3, ["ACME-2", "ACME-3"])
    assert brand.message == (
        "Only approved cutouts are exported, and 2 of the 3 product(s) of the brand acme have "
        "an image without one: ACME-3 has no approved image; no cutout: ACME-3 MAIN; awaiting "
        "review: ACME-2 PT01. Those images will not be exported; approve them to include them "
        "in a later export.")
    everything = export_selectors.export_not_approved()
    assert (everything.count, everything.total) == (3, 4)
    assert "3 of the 4 product(s) in the catalog" in everything.message
    since = export_selectors.export_not_approved(brand="Acme", approved_since="2020-01-01")
    assert (since.count, since.total) == (2, 3)
    # the manifest lists the left-out images of a SKU selection only
    assert list(export_selectors.export_not_approved_rows(brand="Acme")) == []
    # every one of the products counted: not "1 of the 1" (QA 2026-12-05)
    from catalog.models import Product

    one = export_selectors.export_not_approved(
        product_ids=[Product.objects.get(sku="ACME-3").pk])
    assert (one.count, one.total) == (1, 1)
    assert one.message.startswith("Only approved cutouts are exported, and the selected "
                                  "product(s) have an image without one: ACME-3")
    two = export_selectors.export_not_approved(
        product_ids=list(Product.objects.filter(sku__in=["ACME-2", "ACME-3"])
                         .values_list("pk", flat=True)))
    assert "and both selected product(s) have an image without one" in two.message


def test_it_counts_the_naming_gap_among_the_products_with_an_approved_cutout():
    # 3 SKUs typed, 2 with an approved cutout: "1 of 2 selected product(s)" read as a miscount
    approved_cutout(product=ProductFactory(sku="GAP-1", gtin=""))
    approved_cutout(product=ProductFactory(sku="GAP-2", gtin="00012345678905"))
    waiting = ProductFactory(sku="GAP-3", gtin="")
    done_cutout(product=waiting)
    ids = list(ProductFactory._meta.model.objects.filter(
        sku__startswith="GAP-").values_list("pk", flat=True))
    presets = export_selectors.preset_resolve(names=["walmart"])
    [gap] = export_selectors.export_naming_gaps(presets=presets, product_ids=ids)
    assert "1 of 2 selected product(s) with an approved cutout have none (GAP-1)" \
        in gap.message


def test_it_makes_a_preset_folder_named_like_a_device_safe():
    Preset.objects.create(name="aux", label="Aux", spec=SMALL, naming="{sku}.{ext}",
                          rules={"background": "ffffff", "formats": ["jpeg"]})
    approved_cutout(product=ProductFactory(sku="AUXP-1"))
    plan = export_selectors.export_plan(
        cutouts=export_selectors.export_candidates(),
        presets=export_selectors.preset_resolve(names=["aux"]))
    assert [i.path for i in plan.items] == ["aux_/AUXP-1.jpg"]


def _migration():
    return importlib.import_module("cutouts.migrations.0013_export_origin_form")


def _legacy(user, presets, **kwargs) -> ExportJob:
    return ExportJob.objects.create(created_by=user, presets=presets, filters={},
                                    report=kwargs.pop("report", {}), **kwargs)


def test_it_marks_the_form_exports_made_before_the_origin_mark():
    browser, integrator = manager(), manager()
    form_made = _legacy(browser, ["ebay", "web_hero:oak", "spec:square-600|format-png"])
    key = ApiKey.objects.create(user=integrator, name="PIM", prefix="pim0001", secret_hash="x",
                                scope="manager")
    api_maybe = _legacy(integrator, ["spec:square-900|format-jpeg"])
    # made before the integrator had a key: the form's
    before_key = _legacy(integrator, ["walmart"])
    ExportJob.objects.filter(pk=before_key.pk).update(
        created_at=key.created_at - timedelta(days=1))
    api_new = _legacy(browser, ["amazon_main"], report={"origin": "api"})
    nobody = _legacy(None, ["etsy"])
    assert export_selectors.export_last_choice(user=browser).presets == []  # opened empty
    _migration().mark_form_exports(apps, None)
    marked = {j.pk: (j.report or {}).get("origin") for j in ExportJob.objects.all()}
    assert marked == {form_made.pk: "form", api_maybe.pk: None, before_key.pk: "form",
                      api_new.pk: "api", nobody.pk: None}
    choice = export_selectors.export_last_choice(user=browser)
    assert (choice.presets, choice.backgrounds, choice.specs) == (
        ["ebay", "web_hero"], ["oak"], ["square-600|format-png"])
    # never the specs an API client may have made under the integrator
    assert export_selectors.export_last_choice(user=integrator).presets == ["walmart"]


def _exported_then_refused():
    """An image exported whole once, then partly refused: Amazon and Shopify need a larger
    product than a 121x157 photo holds, the transparent PNG does not."""
    tiny = approved_cutout(product=ProductFactory(sku="TINY-9"), size=(121, 157))
    run_presets(["transparent_png"])
    tiny.asset.refresh_from_db()
    assert tiny.asset.status == AssetStatus.EXPORTED
    refusing = run_presets(["amazon_main", "shopify", "transparent_png"])
    assert refusing.report["partly_exported_count"] == 1
    return tiny, refusing


def test_it_says_which_presets_the_latest_export_refused_of_an_exported_image():
    tiny, refusing = _exported_then_refused()
    tiny.asset.refresh_from_db()
    assert tiny.asset.status == AssetStatus.EXPORTED  # no new status: the note says it
    notes = export_selectors.export_refusals_latest(asset_ids=[tiny.asset_id])
    note = notes[tiny.asset_id]
    assert note.job_id == refusing.pk
    assert [label for label, _ in note.refused] == ["Amazon main image", "Shopify"]
    amazon, shopify = (reason for _, reason in note.refused)
    assert amazon.startswith("the product is enlarged ") and shopify.startswith(
        "the product is enlarged ")  # the first finding, without "not exported: failed: "
    # its PNG shipped in that export: partly exported, 1 of its 3 presets
    assert (note.shipped, note.presets_total, note.partly) == (1, 3, True)
    assert note.text == (f"Partly exported: 1 of 3 presets — Amazon main image refused: "
                         f"{amazon}; Shopify refused: {shopify}")


def test_it_names_presets_refused_for_one_reason_together():
    note = export_selectors.ExportRefusal(job_id=1, finished_at=timezone.now(), refused=(
        ("Amazon main image", "touches the canvas edge"), ("Walmart", "touches the canvas edge"),
        ("eBay", "too small")))
    assert note.text == ("Latest export refused Amazon main image, Walmart: touches the canvas "
                         "edge; eBay: too small")
    partly = export_selectors.ExportRefusal(job_id=1, finished_at=timezone.now(), refused=(
        ("Walmart", "no GTIN"),), presets_total=4)
    assert partly.text == "Partly exported: 3 of 4 presets — Walmart refused: no GTIN"
    short = export_selectors.refusal_reason
    assert short("not exported: failed: the product touches the left edge of the canvas; "
                 "fill 70 %") == "the product touches the left edge of the canvas …"
    assert short("not exported: failed: the product is enlarged 17.9x from 61x95 px in the "
                 "cutout, over the 8x limit, and would be a blur") == (
        "the product is enlarged 17.9x from 61x95 px in the cutout …")
    assert short("format gif is not accepted (allowed: jpeg, png)") == (
        "format gif is not accepted (allowed: jpeg, png)")
    assert short("not exported: cutout no longer available") == "cutout no longer available"
    assert short("not exported: cannot name the file: the product has no GTIN") == "no GTIN"


def test_it_drops_the_note_when_a_later_export_ships_the_image():
    tiny, _ = _exported_then_refused()
    run_presets(["transparent_png"])
    assert export_selectors.export_refusals_latest(asset_ids=[tiny.asset_id]) == {}


def test_it_ignores_dry_runs_and_images_nothing_refused():
    tiny = approved_cutout(product=ProductFactory(sku="TINY-8"), size=(121, 157))
    fine = approved_cutout(product=ProductFactory(sku="FINE-8"), size=(2000, 1500))
    dry = run_presets(["amazon_main"], dry_run=True)
    assert dry.report["excluded_count"] == 1 and not dry.refusals.exists()
    assert export_selectors.export_refusals_latest(
        asset_ids=[tiny.asset_id, fine.asset_id]) == {}
    run_presets(["amazon_main"])
    assert set(export_selectors.export_refusals_latest(
        asset_ids=[tiny.asset_id, fine.asset_id])) == {tiny.asset_id}


def test_it_reads_a_whole_pages_refusals_in_two_queries(django_assert_num_queries):
    """The product page asks once for all its images, however many (a query per image was
    a product page's N+1)."""
    small = [approved_cutout(product=ProductFactory(sku=f"SMALL-{n}"), size=(121, 157))
             for n in range(4)]
    run_presets(["amazon_main"])
    ids = [c.asset_id for c in small]
    with django_assert_num_queries(2):
        two = export_selectors.export_refusals_latest(asset_ids=ids[:2])
    with django_assert_num_queries(2):
        four = export_selectors.export_refusals_latest(asset_ids=ids)
    assert set(two) == set(ids[:2]) and set(four) == set(ids)
    assert {n.job_id for n in four.values()} == {two[ids[0]].job_id}


def _newer_waiting_catalog():
    """NEW-1's v1 approved and v2 awaiting review; NEW-2's v1 approved and v2 queued; NEW-3's
    v1 approved and v2 failed (nothing waiting); NEW-4's v1 approved alone."""
    from cutouts.models import Cutout, JobStatus

    one = approved_cutout(product=ProductFactory(sku="NEW-1"))
    done_cutout(asset=one.asset, version=2)
    two = approved_cutout(product=ProductFactory(sku="NEW-2"), position="PT01")
    Cutout.objects.create(asset=two.asset, version=2, status=JobStatus.QUEUED)
    three = approved_cutout(product=ProductFactory(sku="NEW-3"))
    Cutout.objects.create(asset=three.asset, version=2, status=JobStatus.FAILED)
    approved_cutout(product=ProductFactory(sku="NEW-4"))


def test_it_warns_of_an_approved_image_with_a_newer_version_waiting():
    """QA qa42c M2: the export shipped v1 with no word of the v2 awaiting review that the
    product page showed; it still ships v1 (a warning, not a refusal)."""
    _newer_waiting_catalog()
    gap = export_selectors.export_newer_versions()
    assert gap is not None and gap.code == export_selectors.NEWER_VERSION
    assert (gap.count, gap.total, gap.skus) == (2, 4, ["NEW-1", "NEW-2"])
    assert gap.message == (
        "2 approved image(s) have a newer cutout waiting: NEW-1 MAIN (newer version awaiting "
        "review — v1 ships), NEW-2 PT01 (newer version being cut — v1 ships). The export ships "
        "the approved version; review the newer one first to ship it instead.")
    # every pre-check says it, and the advice says what exporting anyway ships
    warnings = export_selectors.export_warnings(
        presets=export_selectors.preset_resolve(names=["ebay"]))
    assert gap in warnings
    advice = export_selectors.export_warnings_advice(warnings=[gap])
    assert "review the newer versions" in advice
    assert "an image with a newer version waiting ships its approved version" in advice
    # the selection narrows it; an image with nothing newer waiting says nothing
    from catalog.models import Product

    ids = list(Product.objects.filter(sku__in=["NEW-3", "NEW-4"]).values_list("pk", flat=True))
    assert export_selectors.export_newer_versions(product_ids=ids) is None

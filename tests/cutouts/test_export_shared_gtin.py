"""A GTIN two selected products share: the export form names them before it starts, and the
collision refusal names the images (SKU and position), not "planned rows"."""

import pytest
from django.urls import reverse

from cutouts.errors import ExportCollisionError
from cutouts.models import ExportJob, JobStatus
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs
from tests.factories import ProductFactory, manager

from .export_helpers import MARKET_PHOTO, approved_cutout, rgba_png, run_job, with_rgba

pytestmark = pytest.mark.django_db

GTIN = "4006381333931"


@pytest.fixture
def shared():
    products = [ProductFactory(sku=sku, gtin=GTIN) for sku in ("TOY-2", "TOY-1")]
    for product in products:
        approved_cutout(product=product, position="MAIN")
    approved_cutout(product=ProductFactory(sku="TOY-3", gtin="96385074"))
    return products


def test_it_names_the_products_sharing_a_gtin_in_the_naming_gaps(shared):
    presets = export_selectors.preset_resolve(names=["walmart", "amazon_main"])
    gaps = export_selectors.export_naming_gaps(presets=presets)
    assert [(g.preset, g.code, g.identifier, g.skus) for g in gaps] == [
        ("walmart", export_selectors.NAMING_SHARED, "gtin", ["TOY-1", "TOY-2"])]
    assert gaps[0].message.startswith(
        f"Walmart files are named by GTIN, and products share one: GTIN {GTIN} is on TOY-1, "
        "TOY-2. Their images at the same position would get the same file name")


def test_it_says_nothing_of_a_gtin_only_one_selected_product_has(shared):
    presets = export_selectors.preset_resolve(names=["walmart"])
    assert export_selectors.export_naming_gaps(
        presets=presets, product_ids=[shared[0].pk]) == []


def test_it_names_skus_and_positions_in_a_collision_refusal(shared, sent):
    with pytest.raises(ExportCollisionError) as caught:
        export_jobs.export_job_create(presets=["walmart"])
    (text,) = caught.value.collisions
    assert text == (f"walmart/{GTIN}_1.jpg would be written by TOY-1 MAIN, TOY-2 MAIN "
                    f"(they share GTIN {GTIN})")
    assert "planned rows" not in text


def test_it_warns_on_the_export_form_of_a_shared_gtin_before_it_starts(client, shared, sent):
    # the collision it causes is said at once, with no "Start anyway" (QA 2026-12-03: the
    # warning offered to start an export the collision then refused)
    client.force_login(manager())
    page = client.post(reverse("cutouts:export_start"),
                       {"presets": ["walmart"], "destination": "download"})
    assert page.status_code == 400 and not ExportJob.objects.exists()
    html = page.content.decode()
    refusal = html.split('id="collisions"')[1].split("</div>")[0]
    assert f"TOY-1 MAIN, TOY-2 MAIN (they share GTIN {GTIN})" in refusal
    assert "precheck_ok" not in html


def test_it_leaves_a_shared_gtin_out_of_a_created_jobs_warnings(sent):
    # review: TOY-1 (MAIN) and TOY-2 (PT01) share a GTIN, but no file name: the job starts,
    # so its warnings (API, command) must not say it "will not start"
    for sku, position in (("TOY-1", "MAIN"), ("TOY-2", "PT01")):
        approved_cutout(product=ProductFactory(sku=sku, gtin=GTIN), position=position,
                        size=MARKET_PHOTO)
    presets = export_selectors.preset_resolve(names=["walmart"])
    assert [g.code for g in export_selectors.export_naming_gaps(presets=presets)] == [
        export_selectors.NAMING_SHARED]
    job = export_jobs.export_job_create(presets=["walmart"])
    assert export_selectors.export_job_warnings(job=job) == []


def _speck(product, position):
    """An approved image whose product is a 20 px speck (stored as the renderer measures it):
    Walmart refuses it as too small, so its file is never written."""
    cutout = with_rgba(approved_cutout(product=product, position=position),
                       rgba_png((800, 600), box=(10, 10, 29, 29)))
    cutout.signals = {**(cutout.signals or {}), "product_px": [20, 20]}
    cutout.save(update_fields=["signals"])
    return cutout


def test_it_lists_only_collisions_between_files_that_would_be_written(sent):
    # QA 2026-12-06 (L1): both PT01 files sharing a name are refused as too small for Walmart,
    # so only the MAIN clash is named
    products = [ProductFactory(sku=sku, gtin=GTIN) for sku in ("TOY-1", "TOY-2")]
    for product in products:
        approved_cutout(product=product, position="MAIN")
        _speck(product, "PT01")
    with pytest.raises(ExportCollisionError) as caught:
        export_jobs.export_job_create(presets=["walmart"])
    assert caught.value.collisions == [
        f"walmart/{GTIN}_1.jpg would be written by TOY-1 MAIN, TOY-2 MAIN (they share GTIN {GTIN})"]


def test_it_starts_when_every_clashing_file_is_refused_anyway(sent):
    for sku in ("TOY-1", "TOY-2"):
        _speck(ProductFactory(sku=sku, gtin=GTIN), "PT01")
    approved_cutout(product=ProductFactory(sku="TOY-3", gtin="96385074"), position="MAIN")
    job = run_job(export_jobs.export_job_create(presets=["walmart"]))
    assert job.status == JobStatus.DONE and job.exported_count == 1
    assert sorted(r["sku"] for r in job.report["excluded"]) == ["TOY-1", "TOY-2"]
    assert all("only 20x20 px in the cutout" in r["reason"] for r in job.report["excluded"])


def test_it_still_refuses_the_clash_when_failing_files_are_included(sent):
    # include_failing writes the refused files too: then their names do collide
    for sku in ("TOY-1", "TOY-2"):
        _speck(ProductFactory(sku=sku, gtin=GTIN), "PT01")
    with pytest.raises(ExportCollisionError):
        export_jobs.export_job_check(presets=["walmart"], include_failing=True)
    export_jobs.export_job_check(presets=["walmart"])


def test_it_leaves_out_a_file_foreseen_refused_that_passes_rather_than_overwrite(
        sent, monkeypatch):
    # the run's guard: a stored measure that foresaw a refusal, wrongly, must not make two
    # entries of one name in the ZIP; the second is excluded, named after the first
    for sku in ("TOY-1", "TOY-2"):
        cutout = approved_cutout(product=ProductFactory(sku=sku, gtin=GTIN), position="MAIN")
        cutout.signals = {**(cutout.signals or {}), "product_px": [20, 20]}
        cutout.save(update_fields=["signals"])
    job = run_job(export_jobs.export_job_create(presets=["walmart"], include_failing=False))
    assert job.exported_count == 1
    (row,) = job.report["excluded"]
    assert row["sku"] == "TOY-2" and "file name is taken by TOY-1 MAIN" in row["reason"]

"""A GTIN two selected products share: the export form names them before it starts, and the
collision refusal names the images (SKU and position), not "planned rows"."""

import pytest
from django.urls import reverse

from cutouts.errors import ExportCollisionError
from cutouts.models import ExportJob
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs
from tests.factories import ProductFactory, manager

from .export_helpers import approved_cutout

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
    assert "naming_gaps_ok" not in html


def test_it_leaves_a_shared_gtin_out_of_a_created_jobs_warnings(sent):
    # review: TOY-1 (MAIN) and TOY-2 (PT01) share a GTIN, but no file name: the job starts,
    # so its warnings (API, command) must not say it "will not start"
    for sku, position in (("TOY-1", "MAIN"), ("TOY-2", "PT01")):
        approved_cutout(product=ProductFactory(sku=sku, gtin=GTIN), position=position)
    presets = export_selectors.preset_resolve(names=["walmart"])
    assert [g.code for g in export_selectors.export_naming_gaps(presets=presets)] == [
        export_selectors.NAMING_SHARED]
    job = export_jobs.export_job_create(presets=["walmart"])
    assert export_selectors.export_job_warnings(job=job) == []

"""Export QA (2026-12-03, h): an image some chosen presets refused is not counted Exported;
the form's warning says only what will happen; a dry run's counts agree; the version list
says one thing of a version a queued re-run will replace."""

import pytest
from django.urls import reverse

from catalog.models import AssetStatus
from cutouts.models import ExportJob
from cutouts.services import export_jobs, review
from cutouts.tasks import export_job_run_task
from tests.factories import ProductFactory, reviewer

from .export_helpers import approved_cutout, done_cutout
from .reviewdata import done_cutouts

pytestmark = pytest.mark.django_db


def _run(job: ExportJob) -> ExportJob:
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    return job


# --- 1. refused by a chosen preset: not Exported ---------------------------------------------


def test_it_keeps_an_image_approved_when_a_chosen_preset_refused_it():
    tiny = approved_cutout(product=ProductFactory(sku="TINY-1"), size=(121, 157))
    fine = approved_cutout(product=ProductFactory(sku="FINE-1"), size=(2000, 1500))
    job = _run(export_jobs.export_job_create(
        presets=["amazon_main", "shopify", "transparent_png"], enqueue=False))
    refused = {row["sku"] for row in job.report["excluded"]}
    assert refused == {"TINY-1"}
    assert job.exported_count == 4  # the tiny one's PNG and the fine one's three files
    tiny.asset.refresh_from_db(), fine.asset.refresh_from_db()
    tiny.refresh_from_db()
    # its PNG was written, but Amazon and Shopify refused it: not done, still to work on
    assert tiny.asset.status == AssetStatus.APPROVED
    assert tiny.exported_at is None
    assert fine.asset.status == AssetStatus.EXPORTED
    assert job.report["refused_images_count"] == 1
    assert ("1 image(s) stay Approved, not Exported: a chosen preset refused them"
            in job.message)


def test_it_marks_an_image_exported_when_every_chosen_preset_wrote_it():
    tiny = approved_cutout(product=ProductFactory(sku="TINY-2"), size=(121, 157))
    job = _run(export_jobs.export_job_create(presets=["transparent_png"], enqueue=False))
    assert job.exported_count == 1 and not job.report["excluded"]
    tiny.asset.refresh_from_db()
    assert tiny.asset.status == AssetStatus.EXPORTED
    assert "stay Approved" not in job.message


# --- 2. the form's warning says only what will happen ----------------------------------------


def _advice(client, **fields) -> str:
    data = {"presets": ["amazon_main"], "destination": "download", **fields}
    page = client.post(reverse("cutouts:export_start"), data)
    assert page.status_code == 200 and not ExportJob.objects.exists()
    warning = page.content.decode().split('id="naming-gaps"')[1]
    return warning.split('<p class="muted"')[1].split(">", 1)[1].split("</p>")[0]


def test_it_says_an_all_products_export_leaves_unapproved_images_out_unlisted(
        manager_client, sent):
    approved_cutout(product=ProductFactory(sku="OK-1", asin="B0OK000001"))
    done_cutout(product=ProductFactory(sku="WAIT-1", asin="B0WAIT0001"))  # awaiting review
    advice = _advice(manager_client)
    assert "left out (not listed in the manifest)" in advice
    assert "as not approved" not in advice
    # every product has its ASIN and none shares one: no identifier advice
    assert "identifier" not in advice
    assert advice.startswith("Nothing has started. Approve the images, or change the selection")


def test_it_says_a_sku_export_lists_unapproved_images_as_not_approved(manager_client, sent):
    ok = ProductFactory(sku="OK-2", asin="B0OK000002")
    approved_cutout(product=ok)
    done_cutout(asset=None, product=ok, position="PT01")
    advice = _advice(manager_client, skus="OK-2")
    assert "listed in the manifest as not approved" in advice
    assert "identifier" not in advice


def test_it_gives_the_identifier_advice_only_when_one_is_missing(manager_client, sent):
    approved_cutout(product=ProductFactory(sku="NOGTIN-1", gtin=""))
    advice = _advice(manager_client, presets=["walmart"])
    assert advice.startswith("Nothing has started. Add the missing identifiers to the "
                             "products, or change the selection")
    assert "listed in the manifest as excluded" in advice
    assert "approved" not in advice and "shared" not in advice


# --- 3. a dry run's numbers agree; its chips say what they are -------------------------------


def test_it_counts_the_dry_runs_variants_apart_from_its_not_approved_rows(manager_client):
    ok = ProductFactory(sku="DRY-1", asin="B0DRY00001")
    approved_cutout(product=ok, size=(2000, 1500))
    waiting = ProductFactory(sku="DRY-2", asin="B0DRY00002")
    done_cutout(product=waiting)  # awaiting review
    job = _run(export_jobs.export_job_create(
        presets=["amazon_main", "transparent_png"], product_ids=[ok.pk, waiting.pk],
        dry_run=True, enqueue=False))
    assert job.progress_total == 2 and job.report["not_approved_count"] == 1
    html = manager_client.get(reverse("cutouts:export_detail", args=[job.pk])).content.decode()
    # 2 planned variants, as "2 / 2" says, and the not-approved image's row per preset
    heading = html.split("<h2>Contact sheet <span")[1].split(">", 1)[1].split("</span>")[0]
    assert heading == "(2 variants + 2 not-approved rows)"
    chips = [c.split(">", 1)[1].split("<")[0]
             for c in html.split('class="badge chip compliance-')[1:]]
    assert chips == ["would be rendered", "would be rendered", "not approved", "not approved"]
    assert "pending" not in chips


# --- 4. the version list says one thing of a version a queued re-run replaces ----------------


def test_it_calls_the_parent_of_a_queued_rerun_the_newest_finished_once(
        client, make_assets, fake_model):
    [v1] = done_cutouts(make_assets(1))
    v2 = review.cutout_review_rerun(cutout=v1, user=reviewer())
    client.force_login(reviewer())
    card = client.get(reverse("cutouts:review_card", args=[v1.pk])).content.decode()
    versions = card.split('class="rv-versions')[1].split("</ul>")[0]
    row1 = versions.split('data-version="1"')[1].split("</li>")[0]
    row2 = versions.split(f'data-version="{v2.version}"')[1].split("</li>")[0]
    # it used to read "replaced by a newer run" and "newest" at once while v2 was queued
    assert "replaced by a newer run" not in row1
    assert row1.count("newest") == 1 and ">newest finished<" in row1
    assert ">queued<" in row2 and "newest" not in row2

"""Export leftovers (2026-12-03, i): an image its latest export partly refused says which
presets and why on the product page and the review card, also when an earlier export left it
Exported (``export_refusals_latest``, from the job rows, no status of its own); the dry run
re-checks a fixed number of stale cached verdicts, not as many as 2 s allowed."""

import html
import itertools
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import AssetStatus
from cutouts.models import ExportJob
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs, renditions
from cutouts.tasks import export_job_run_task
from tests.factories import ProductFactory, manager

from .export_helpers import approved_cutout
from .test_export_leftovers_1203g import _stale, reads  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def _run(presets: list[str], **kwargs) -> ExportJob:
    job = export_jobs.export_job_create(presets=presets, enqueue=False, **kwargs)
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    return job


def _exported_then_refused():
    """An image exported whole once, then partly refused: Amazon and Shopify need a larger
    product than a 121x157 photo holds, the transparent PNG does not."""
    tiny = approved_cutout(product=ProductFactory(sku="TINY-9"), size=(121, 157))
    _run(["transparent_png"])
    tiny.asset.refresh_from_db()
    assert tiny.asset.status == AssetStatus.EXPORTED
    refusing = _run(["amazon_main", "shopify", "transparent_png"])
    assert refusing.report["refused_images_count"] == 1
    return tiny, refusing


# --- 1. the latest export's refusals, per image ---------------------------------------------


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
    assert note.text == f"Latest export refused Amazon main image: {amazon}; Shopify: {shopify}"


def test_it_names_presets_refused_for_one_reason_together():
    note = export_selectors.ExportRefusal(job_id=1, finished_at=timezone.now(), refused=(
        ("Amazon main image", "touches the canvas edge"), ("Walmart", "touches the canvas edge"),
        ("eBay", "too small")))
    assert note.text == ("Latest export refused Amazon main image, Walmart: touches the canvas "
                         "edge; eBay: too small")
    short = export_selectors.refusal_reason
    assert short("not exported: failed: the product touches the left edge of the canvas; "
                 "fill 70 %") == "the product touches the left edge of the canvas …"
    assert short("not exported: failed: the product is enlarged 17.9x from 61x95 px in the "
                 "cutout, over the 8x limit, and would be a blur") == (
        "the product is enlarged 17.9x from 61x95 px in the cutout …")
    assert short("format gif is not accepted (allowed: jpeg, png)") == (
        "format gif is not accepted (allowed: jpeg, png)")
    assert short("not exported: cutout no longer available") == "cutout no longer available"


def test_it_drops_the_note_when_a_later_export_ships_the_image():
    tiny, _ = _exported_then_refused()
    _run(["transparent_png"])
    assert export_selectors.export_refusals_latest(asset_ids=[tiny.asset_id]) == {}


def test_it_ignores_dry_runs_and_images_nothing_refused():
    tiny = approved_cutout(product=ProductFactory(sku="TINY-8"), size=(121, 157))
    fine = approved_cutout(product=ProductFactory(sku="FINE-8"), size=(2000, 1500))
    dry = _run(["amazon_main"], dry_run=True)
    assert dry.report["excluded_count"] == 1 and export_selectors.REFUSED not in dry.report
    assert export_selectors.export_refusals_latest(
        asset_ids=[tiny.asset_id, fine.asset_id]) == {}
    _run(["amazon_main"])
    assert set(export_selectors.export_refusals_latest(
        asset_ids=[tiny.asset_id, fine.asset_id])) == {tiny.asset_id}


def test_it_reads_a_whole_pages_refusals_in_two_queries(django_assert_num_queries):
    """The product page asks once for all its images, however many (a query per image was
    a product page's N+1)."""
    small = [approved_cutout(product=ProductFactory(sku=f"SMALL-{n}"), size=(121, 157))
             for n in range(4)]
    _run(["amazon_main"])
    ids = [c.asset_id for c in small]
    with django_assert_num_queries(2):
        two = export_selectors.export_refusals_latest(asset_ids=ids[:2])
    with django_assert_num_queries(2):
        four = export_selectors.export_refusals_latest(asset_ids=ids)
    assert set(two) == set(ids[:2]) and set(four) == set(ids)
    assert {n.job_id for n in four.values()} == {two[ids[0]].job_id}


def test_it_shows_the_latest_refusal_on_the_product_page_and_the_review_card(client):
    tiny, refusing = _exported_then_refused()
    client.force_login(manager())
    pages = {url: html.unescape(client.get(url).content.decode()) for url in (
        reverse("catalog:product_detail", args=[tiny.asset.product_id]),
        reverse("cutouts:review_card", args=[tiny.pk]))}
    for url, page in pages.items():
        assert f'data-export-refused="{refusing.pk}"' in page, url
        assert "⚠ Latest export refused Amazon main image: the product is enlarged " in page, url
    note = export_selectors.export_refusals_latest(asset_ids=[tiny.asset_id])[tiny.asset_id]
    for url, page in pages.items():
        assert f"⚠ {note.text} (export #{refusing.pk})." in page, url
    _run(["transparent_png"])
    page = client.get(reverse("catalog:product_detail", args=[tiny.asset.product_id]))
    assert b"Latest export refused" not in page.content


# --- 2. the dry run's re-check budget is a count ---------------------------------------------


@pytest.mark.parametrize("clock", ["slow", "frozen"])
def test_it_re_checks_exactly_the_budgeted_number_of_stale_verdicts(reads, monkeypatch,  # noqa: F811
                                                                    clock):
    budget, extra = 3, 2
    _stale(budget + extra)
    monkeypatch.setattr(renditions, "DRY_RUN_RECHECK_MAX", budget)
    # the storage's speed that minute: 10 s between two reads of the clock, or none at all
    ticks = itertools.count(step=10.0) if clock == "slow" else itertools.repeat(1000.0)
    monkeypatch.setattr(time, "monotonic", lambda: next(ticks))
    reads.clear()
    job = _run(["stale"], dry_run=True)
    assert len(reads) == budget
    assert job.report["excluded_count"] == budget  # re-checked: the edited rules fail them
    assert job.report["provisional_count"] == extra and job.report["would_export"] == extra
    assert (f" {extra} verdict(s) checked with the presets' earlier rules are re-checked on "
            "export (counted as last checked).") in job.message

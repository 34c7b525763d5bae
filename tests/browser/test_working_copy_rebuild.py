"""Acceptance: a cutout failed because the image's working copy was deleted from storage; the
manager rebuilds it from the product page (htmx) in Chromium, and the cutout's retry works."""

import pytest
from django.core.files.storage import storages
from django.urls import reverse
from playwright.sync_api import expect

from catalog.models import ImageAsset
from cutouts.models import Cutout
from cutouts.services import batches, runs
from tests.factories import manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_rebuilds_a_deleted_working_copy_from_the_product_page(
        live_server, page, session_for, screenshot, make_cutouts):
    (cutout,) = make_cutouts([("WC-1", product_jpeg(640, 600, seed=811), "WC-1.jpg")])
    asset = cutout.asset
    old = asset.working_name
    storages["default"].delete(old)
    batch = batches.cutout_batch_start(assets=[asset], profile_name="fast", recut=True)
    again = batch.cutouts.get()
    # the click follows the failure within the second: the page tells "rebuilt since" by the
    # row's working_written_at, not by the storage's whole-second file time (S3)
    assert runs.cutout_run(cutout_id=again.pk) == "failed"

    session_for(page, manager())
    page.goto(live_server.url + reverse("catalog:product_detail", args=[asset.product_id]))
    figure = page.locator(f'figure[data-asset="{asset.pk}"]')
    expect(figure.locator("[data-working-unreadable]")).to_be_visible()
    screenshot("offered")
    figure.get_by_role("button", name="Rebuild working copy").click()
    expect(page.locator("#asset-undo")).to_contain_text("working copy rebuilt from the original")
    expect(page.get_by_role("button", name="Rebuild working copy")).to_have_count(0)
    screenshot("rebuilt")

    rebuilt = ImageAsset.objects.get(pk=asset.pk)
    assert rebuilt.working_name != old and storages["default"].exists(rebuilt.working_name)
    assert rebuilt.working_written_at > Cutout.objects.get(pk=again.pk).finished_at
    assert batches.cutout_batch_retry_failed(batch=batch) == 1
    assert runs.cutout_run(cutout_id=again.pk) == "done"

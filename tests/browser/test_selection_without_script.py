"""The catalog's selection buttons (product page: Cut out / re-run selected; products: Start
cutouts, Export…): without JavaScript they are usable, a ticked image starts its cutout and an
empty submission comes back with a message; with it they wait for a tick."""

import io
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from catalog.models import Product
from catalog.services.assets import asset_ingest
from catalog.services.products import product_create
from cutouts.models import CutoutBatch
from tests.factories import manager
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def products(monkeypatch) -> list[Product]:
    """Two products with two images each; starts are not sent to a broker."""
    from cutouts.tasks import cutout_run_task

    monkeypatch.setattr(cutout_run_task, "apply_async", lambda *a, **kw: None)
    made = []
    for i in range(2):
        product = product_create(sku=f"NOJS-{i + 1}")
        for n in range(2):
            result = asset_ingest(
                product=product, fileobj=io.BytesIO(product_jpeg(640, 600, seed=7310 + 2 * i + n)),
                filename=f"NOJS-{i + 1}-{n}.jpg")
            assert result.status == "stored", result.reason
        made.append(product)
    return made


def test_it_starts_and_exports_a_selection_without_javascript(live_server, browser,
                                                              session_for, products):
    context = browser.new_context(java_script_enabled=False,
                                  viewport={"width": 1366, "height": 900})
    session_for(context, manager())
    page = context.new_page()
    try:
        product = products[0]
        detail = live_server.url + reverse("catalog:product_detail", args=[product.pk])
        page.goto(detail)
        run = page.get_by_role("button", name="Cut out / re-run selected")
        expect(run).to_be_enabled()
        # nothing ticked: back on the page, told why, nothing started
        run.click()
        expect(page).to_have_url(detail)
        expect(page.locator(".messages")).to_contain_text(
            "Select at least one product or image that has images.")
        assert not CutoutBatch.objects.exists()

        second = product.assets.order_by("position")[1]
        page.locator(f"input[data-select-item][value='{second.pk}']").check()
        page.get_by_role("button", name="Cut out / re-run selected").click()
        expect(page.locator(".messages")).to_contain_text("Started 1 cutout")
        batch = CutoutBatch.objects.get()
        # back on the product page, which shows each image's cutout as it runs
        expect(page).to_have_url(detail)
        expect(page.locator(".messages")).to_contain_text(f"batch #{batch.pk} is under Batches")
        assert list(batch.cutouts.values_list("asset_id", flat=True)) == [second.pk]

        page.goto(live_server.url + reverse("catalog:product_list"))
        expect(page.get_by_role("button", name="Start cutouts")).to_be_enabled()
        page.locator("input[data-select-item][value='NOJS-2']").check()
        page.get_by_role("button", name="Export…").click()
        expect(page).to_have_url(re.compile(r"/export/?\?sku=NOJS-2$"))
    finally:
        context.close()


def test_it_keeps_the_selection_buttons_disabled_until_a_tick(live_server, page, session_for,
                                                               products):
    session_for(page, manager())
    page.goto(live_server.url + reverse("catalog:product_detail", args=[products[0].pk]))
    run = page.get_by_role("button", name="Cut out / re-run selected")
    expect(run).to_be_disabled()
    box = page.locator("input[data-select-item]").first
    box.check()
    expect(run).to_be_enabled()
    box.uncheck()
    expect(run).to_be_disabled()

    page.goto(live_server.url + reverse("catalog:product_list"))
    buttons = [page.get_by_role("button", name=name) for name in ("Start cutouts", "Export…")]
    for button in buttons:
        expect(button).to_be_disabled()
    page.locator("input[data-select-item][value='NOJS-1']").check()
    for button in buttons:
        expect(button).to_be_enabled()
    # the list the filter swaps in (htmx) is served with them enabled too: they wait again
    page.fill("input[name=q]", "NOJS-2")
    expect(page.locator("input[data-select-item]")).to_have_count(1)
    for button in buttons:
        expect(button).to_be_disabled()

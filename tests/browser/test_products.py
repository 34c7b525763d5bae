"""Acceptance: a manager creates, edits, deletes and restores a product, and starts cutouts for
a shift-click range of products with a chosen profile, all in Chromium."""

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


def _no_overflow(page) -> None:
    """No element wider than the viewport (the page never scrolls sideways)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_it_creates_edits_deletes_and_restores_a_product(live_server, page, session_for,
                                                         screenshot):
    session_for(page, manager())
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(live_server.url + reverse("catalog:product_list"))
    page.get_by_role("link", name="New product").click()
    expect(page.get_by_role("heading", name="New product")).to_be_visible()

    page.fill("#id_sku", "SHOE 77")
    page.fill("#id_gtin", "4006381333932")
    page.get_by_role("button", name="Create product").click()
    expect(page.locator("[data-error-for=sku]")).to_contain_text("SKU must be")
    expect(page.locator("[data-error-for=gtin]")).to_contain_text("check digit")
    screenshot("create-errors")

    page.fill("#id_sku", "SHOE-77")
    page.fill("#id_gtin", "4006381333931")
    page.fill("#id_title", "Trail runner")
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("heading", name="SHOE-77 · Trail runner")).to_be_visible()

    page.get_by_role("link", name="Edit").click()
    page.fill("#id_brand", "Acme")
    page.fill("#id_category", "Shoes")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".product-meta")).to_contain_text("Acme")
    expect(page.locator(".product-meta")).to_contain_text("Shoes")

    page.get_by_role("button", name="Delete product").click()
    expect(page).to_have_url(re.compile(r"/products/$"))
    assert Product.live.filter(sku="SHOE-77").count() == 0

    # Creating it again offers the restore instead of a "SKU taken" dead end.
    page.get_by_role("link", name="New product").click()
    page.fill("#id_sku", "SHOE-77")
    page.get_by_role("button", name="Create product").click()
    expect(page.locator("[data-restore-offer]")).to_contain_text("SHOE-77 was deleted")
    screenshot("restore-offer")

    page.goto(live_server.url + reverse("catalog:product_list"))
    page.get_by_role("link", name="Deleted products").click()
    row = page.locator("#deleted-products tr[data-sku='SHOE-77']")
    expect(row).to_be_visible()
    screenshot("deleted-list")
    row.get_by_role("button", name="Restore").click()
    expect(page.get_by_role("heading", name="SHOE-77 · Trail runner")).to_be_visible()
    product = Product.live.get(sku="SHOE-77")
    assert (product.brand, product.category, product.gtin) == ("Acme", "Shoes", "4006381333931")


def _products_with_images(count: int) -> list[Product]:
    products = []
    for i in range(count):
        product = product_create(sku=f"SEL-{i + 1}")
        result = asset_ingest(product=product, fileobj=io.BytesIO(product_jpeg(640, 600,
                                                                                seed=700 + i)),
                              filename=f"SEL-{i + 1}.jpg")
        assert result.status == "stored", result.reason
        products.append(product)
    return products


@pytest.mark.parametrize("width", [1440, 390])
def test_it_starts_cutouts_for_a_shift_click_range_with_a_chosen_profile(
        live_server, page, session_for, screenshot, monkeypatch, width):
    from cutouts.tasks import cutout_run_task

    # The worker need not run: the batch and its versions are what the page creates.
    monkeypatch.setattr(cutout_run_task, "apply_async", lambda *a, **kw: None)
    products = _products_with_images(5)
    page.set_viewport_size({"width": width, "height": 900})
    session_for(page, manager())
    page.goto(live_server.url + reverse("catalog:product_list"))

    start = page.get_by_role("button", name="Start cutouts")
    expect(start).to_be_disabled()
    model = page.locator("#product-selection select[name=model] option")
    expect(model).to_have_count(1)
    expect(model).to_have_text("u2netp")

    page.locator("input[data-select-item][value='SEL-2']").click()
    page.locator("input[data-select-item][value='SEL-4']").click(modifiers=["Shift"])
    expect(page.locator("[data-selection-count]")).to_have_text("3 selected")
    expect(page.locator("input[data-select-item]:checked")).to_have_count(3)
    page.select_option("#product-selection select[name=profile]", "fast")
    _no_overflow(page)
    screenshot(f"selection-{width}")

    start.click()
    expect(page.get_by_text("Started 3 cutouts")).to_be_visible()
    batch = CutoutBatch.objects.get()
    assert batch.profile == "fast" and batch.settings["model"] == "u2netp"
    assert sorted(batch.cutouts.values_list("asset__product__sku", flat=True)) == [
        p.sku for p in products[1:4]]
    expect(page).to_have_url(re.compile(rf"/batches/{batch.pk}/$"))


def test_it_toggles_between_the_original_and_the_approved_cutout(live_server, page, session_for,
                                                                 screenshot, make_cutouts):
    from cutouts.services.review import cutout_approve

    (cutout,) = make_cutouts([("SEL-1", product_jpeg(640, 600, seed=700), "SEL-1.jpg")])
    product = cutout.asset.product
    cutout_approve(cutout=cutout, user=None)
    session_for(page, manager())
    page.goto(live_server.url + reverse("catalog:product_detail", args=[product.pk]))

    original = page.locator("#asset-grid img.original-thumb")
    approved = page.locator("#asset-grid img.cutout-thumb")
    expect(original).to_be_visible()
    expect(approved).to_be_visible()
    # The cutout really loaded through the checked review image view.
    # On S3 the view answers with a redirect to a signed URL: wait for the image to arrive.
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                           arg=approved.element_handle(), timeout=15_000)
    screenshot("both")
    toggle = page.locator("[data-thumb-toggle]")
    toggle.get_by_role("button", name="Cutout").click()
    expect(original).to_be_hidden()
    expect(approved).to_be_visible()
    toggle.get_by_role("button", name="Original").click()
    expect(approved).to_be_hidden()
    expect(original).to_be_visible()
    # The choice carries over to the product list.
    page.goto(live_server.url + reverse("catalog:product_list"))
    expect(page.locator("#product-results img.cutout-thumb")).to_be_hidden()
    page.locator("[data-thumb-toggle]").get_by_role("button", name="Cutout").click()
    expect(page.locator("#product-results img.cutout-thumb")).to_be_visible()
    expect(page.locator("#product-results img.original-thumb")).to_be_hidden()
    screenshot("list-cutout")


def test_it_filters_the_product_list_as_the_manager_types_and_picks(live_server, page, session_for,
                                                                    screenshot):
    for sku, brand, category in [("BOOT-1", "Acme", "Shoes"), ("BOOT-2", "Zeta", "Shoes"),
                                 ("HAT-1", "Acme", "Hats")]:
        product_create(sku=sku, brand=brand, category=category)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    session_for(page, manager())
    page.goto(live_server.url + reverse("catalog:product_list"))
    results = page.locator("#product-results")
    rows = page.locator("#product-results [data-select-item]")
    expect(rows).to_have_count(3)
    assert problems == []  # e.g. htmx:syntax:error for a trigger it cannot parse
    # The page names its icon, so the browser does not ask for a missing /favicon.ico.
    icon = page.locator("head link[rel=icon]").get_attribute("href")
    assert icon and page.request.get(live_server.url + icon).ok, icon

    # Picking a brand alone filters (no Filter button press).
    page.select_option("form.filters select[name=brand]", "Acme")
    expect(page).to_have_url(re.compile(r"brand=Acme"))
    expect(rows).to_have_count(2)
    expect(page.locator("#product-total")).to_contain_text("2 products")
    page.select_option("form.filters select[name=category]", "Hats")
    expect(rows).to_have_count(1)
    expect(page.locator("input[data-select-item][value='HAT-1']")).to_have_count(1)
    page.select_option("form.filters select[name=brand]", "")
    page.select_option("form.filters select[name=category]", "")
    expect(rows).to_have_count(3)

    # Typing searches; the results replace the old ones instead of nesting inside them.
    page.fill("form.filters input[name=q]", "boot")
    expect(rows).to_have_count(2)
    page.fill("form.filters input[name=q]", "boot-2")
    expect(rows).to_have_count(1)
    expect(results).to_have_count(1)
    expect(page.locator("#product-results #product-results")).to_have_count(0)
    expect(page.locator("#product-total")).to_have_count(1)
    # the Status select moves the current chip, and the chips keep the search
    page.select_option("form.filters select[name=status]", "uploaded")
    current = page.locator("#status-counts a.current")
    expect(current).to_have_attribute("data-status", "uploaded")
    expect(current).to_have_attribute("href", "?q=boot-2&status=uploaded")
    expect(page.locator("#status-counts")).to_have_count(1)
    screenshot("filtered")
    assert not [p for p in problems if "htmx" in p.lower()], problems

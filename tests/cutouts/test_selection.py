"""Acting on a selection from catalog pages (start cutouts with a profile and an installed
model, export), installed-only model choices, and the approved cutout on catalog pages."""

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.template import engines
from django.urls import reverse
from PIL import Image

from catalog.models import Product
from cutouts.models import Cutout, CutoutBatch, JobStatus
from cutouts.selectors import review as review_selectors
from cutouts.services.review import cutout_approve
from tests.cutouts.export_helpers import served
from tests.cutouts.reviewdata import done_cutouts
from tests.factories import reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]



def test_it_starts_cutouts_for_the_selected_products_with_the_chosen_profile(
        manager_client, make_assets):
    assets = make_assets(5, sku="SEL")
    chosen = [a.product.sku for a in assets[1:4]]
    response = manager_client.post(reverse("cutouts:selection_cutouts"), {
        "sku": chosen, "profile": "fast", "model": "u2netp"})
    batch = CutoutBatch.objects.get()
    assert response.url == reverse("cutouts:batch_detail", args=[batch.pk])
    assert batch.profile == "fast" and batch.settings["model"] == "u2netp"
    assert sorted(batch.cutouts.values_list("asset__product__sku", flat=True)) == chosen
    assert set(batch.cutouts.values_list("profile", flat=True)) == {"fast"}


def test_it_starts_cutouts_for_every_product_the_filter_matches(manager_client, make_assets):
    assets = make_assets(4, sku="ALL")
    Product.objects.filter(pk__in=[a.product_id for a in assets[:3]]).update(brand="Acme")
    manager_client.post(reverse("cutouts:selection_cutouts"), {
        "all_matching": "1", "brand": "Acme", "sku": [assets[0].product.sku],
        "profile": "default", "model": "u2netp"})
    batch = CutoutBatch.objects.get()
    assert sorted(batch.cutouts.values_list("asset_id", flat=True)) == sorted(
        a.pk for a in assets[:3])


def test_it_selects_exactly_the_products_the_list_shows_for_the_same_filter(
        manager_client, make_assets):
    assets = make_assets(4, sku="SAME")
    Product.objects.filter(pk__in=[a.product_id for a in assets[1:]]).update(brand="Acme")
    # A padded search and an unknown status (ignored): both views must read them the same way.
    for params, expected in (({"q": "  same-1 ", "status": "bogus"}, {"SAME-1"}),
                             ({"brand": "Acme"}, {"SAME-1", "SAME-2", "SAME-3"})):
        listed = manager_client.get(reverse("catalog:product_list"), params)
        shown = {p.sku for p in listed.context["page"].products}
        assert shown == expected, params
        CutoutBatch.objects.all().delete()
        # recut: SAME-1, cut by the first start, would be skipped by a plain second one
        Cutout.objects.update(status=JobStatus.DONE)
        manager_client.post(reverse("cutouts:selection_cutouts"), {
            **params, "all_matching": "1", "profile": "default", "model": "u2netp",
            "recut": "1"})
        batch = CutoutBatch.objects.get()
        assert set(batch.cutouts.values_list("asset__product__sku", flat=True)) == shown, params


def test_it_reruns_selected_images_as_new_versions(manager_client, make_assets):
    asset = make_assets(1)[0]
    manager_client.post(reverse("cutouts:selection_cutouts"),
                        {"asset": [asset.pk], "profile": "fast", "model": "u2netp"})
    manager_client.post(reverse("cutouts:selection_cutouts"),
                        {"asset": [asset.pk], "profile": "default", "model": "u2netp"})
    assert list(asset.cutouts.order_by("version").values_list("version", "profile")) == [
        (1, "fast"), (2, "default")]


def test_it_stays_on_the_product_page_its_image_selection_was_started_from(manager_client,
                                                                           make_assets):
    # as Start cutouts does there: the page shows each image's cutout as it runs
    asset = make_assets(1)[0]
    page = reverse("catalog:product_detail", args=[asset.product_id])
    html = manager_client.get(page).content.decode()
    form = html.split('id="asset-selection"', 1)[1].split("</form>", 1)[0]
    assert 'name="stay" value="1"' in form
    response = manager_client.post(reverse("cutouts:selection_cutouts"), {
        "asset": [asset.pk], "profile": "fast", "model": "u2netp", "stay": "1", "next": page})
    batch = CutoutBatch.objects.get()
    assert response.url == page
    # from the product list (no stay) a start still goes to the batch's page
    response = manager_client.post(reverse("cutouts:selection_cutouts"), {
        "asset": [asset.pk], "profile": "default", "model": "u2netp"})
    assert response.url == reverse("cutouts:batch_detail",
                                   args=[CutoutBatch.objects.exclude(pk=batch.pk).get().pk])


@pytest.mark.parametrize("fields, words", [
    ({"sku": ["SKU-1"], "model": "birefnet"}, "not installed"),
    ({"sku": ["NOPE"], "model": "u2netp"}, "Select at least one"),
    ({"sku": ["SKU-1"], "model": "u2netp", "profile": "turbo"}, "Unknown profile"),
])
def test_it_refuses_a_selection_it_cannot_start_and_says_why(manager_client, make_assets,
                                                           fields, words):
    make_assets(1)
    back = reverse("catalog:product_list")
    response = manager_client.post(reverse("cutouts:selection_cutouts"),
                                   {**fields, "next": back}, follow=True)
    assert words in response.content.decode()
    assert response.redirect_chain[-1][0] == back
    assert not CutoutBatch.objects.exists()


def test_it_opens_the_export_form_with_the_selected_skus(manager_client, make_assets):
    assets = make_assets(3, sku="EXP")
    response = manager_client.post(reverse("cutouts:selection_export"),
                                   {"sku": [assets[2].product.sku, assets[0].product.sku]})
    url = urlsplit(response.url)
    assert url.path == reverse("cutouts:export_list")
    assert parse_qs(url.query)["sku"] == ["EXP-0", "EXP-2"]


def test_it_keeps_selection_actions_from_reviewers(client, make_assets):
    make_assets(1)
    client.force_login(reviewer())
    assert client.post(reverse("cutouts:selection_cutouts"),
                       {"sku": ["SKU-1"], "model": "u2netp"}).status_code == 403
    assert client.post(reverse("cutouts:selection_export"), {"sku": ["SKU-1"]}).status_code == 403


def test_it_offers_only_installed_models(monkeypatch):
    monkeypatch.setattr(review_selectors, "rerun_models", lambda: ("u2netp",))
    assert review_selectors.review_facets()["models"] == ["u2netp"]
    html = engines["django"].from_string("{% load cutout_choices %}{% cutout_chooser %}").render()
    assert 'value="u2netp"' in html and "birefnet" not in html and 'value="fast"' in html


def test_it_starts_a_product_batch_with_the_chosen_model_only_if_installed(manager_client,
                                                                         make_assets):
    asset = make_assets(1)[0]
    manager_client.post(reverse("cutouts:batch_start"),
                        {"product": asset.product_id, "model": "rmbg-1.4"})
    assert not CutoutBatch.objects.exists()
    manager_client.post(reverse("cutouts:batch_start"),
                        {"product": asset.product_id, "model": "u2netp", "profile": "fast"})
    assert CutoutBatch.objects.get().settings["model"] == "u2netp"


def test_it_shows_the_approved_cutout_beside_the_original(manager_client, make_assets,
                                                          fake_model):
    approved, pending = make_assets(2, sku="CUT")
    first, second = done_cutouts([approved, pending])
    cutout_approve(cutout=first, user=None)
    image_url = reverse("cutouts:review_image", args=[first.pk, "cutout"])

    listing = manager_client.get(reverse("catalog:product_list")).content.decode()
    assert image_url in listing
    assert reverse("cutouts:review_image", args=[second.pk, "cutout"]) not in listing
    detail = manager_client.get(reverse("catalog:product_detail",
                                        args=[approved.product_id])).content.decode()
    assert image_url in detail and "data-thumb-toggle" in detail
    assert Image.open(io.BytesIO(served(manager_client.get(image_url + "?size=320")))).size


def test_it_starts_a_selection_batch_with_the_chosen_shadow_mode(manager_client, make_assets):
    asset = make_assets(1)[0]
    manager_client.post(reverse("cutouts:selection_cutouts"),
                        {"sku": [asset.product.sku], "model": "u2netp", "shadow": "synthetic"})
    assert CutoutBatch.objects.get().settings["shadow"] == "synthetic"


def test_it_skips_selected_images_already_cut_with_these_settings(manager_client, make_assets):
    cut, fresh = make_assets(2)
    fields = {"asset": [cut.pk], "profile": "fast", "model": "u2netp"}
    manager_client.post(reverse("cutouts:selection_cutouts"), fields)
    page = manager_client.post(reverse("cutouts:selection_cutouts"),
                               {**fields, "asset": [cut.pk, fresh.pk]}, follow=True)
    assert ("Started 1 cutout (fast, u2netp); 1 skipped: already cut with these settings "
            "(tick &quot;Cut again&quot; to re-cut them).") in page.content.decode()
    Cutout.objects.update(status=JobStatus.DONE)
    manager_client.post(reverse("cutouts:selection_cutouts"), {**fields, "recut": "1"})
    assert list(cut.cutouts.order_by("version").values_list("version", flat=True)) == [1, 2]

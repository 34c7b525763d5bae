"""The catalog's selection buttons work without JavaScript: served enabled (script disables
them until something is ticked), and a submission with nothing ticked comes back to its page
with a message, starting and exporting nothing."""

import re

import pytest
from django.urls import reverse

from cutouts.models import Cutout, CutoutBatch, ExportJob

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

BUTTON = re.compile(r"<button\b[^>]*\bdata-needs-selection\b[^>]*>([^<]*)</button>")


def _selection_buttons(html: str) -> dict[str, str]:
    """Each selection button's label -> its opening tag."""
    return {m.group(1).strip(): m.group(0) for m in BUTTON.finditer(html)}


def test_it_serves_the_selection_buttons_enabled(manager_client, make_assets):
    asset = make_assets(1)[0]
    listed = _selection_buttons(
        manager_client.get(reverse("catalog:product_list")).content.decode())
    detail = _selection_buttons(manager_client.get(
        reverse("catalog:product_detail", args=[asset.product_id])).content.decode())
    assert set(listed) == {"Start cutouts", "Export…"}
    assert set(detail) == {"Cut out / re-run selected"}
    for tag in [*listed.values(), *detail.values()]:
        assert not re.search(r"\sdisabled\b", tag), tag


@pytest.mark.parametrize("action, words", [
    ("cutouts:selection_cutouts", "Select at least one product or image that has images."),
    ("cutouts:selection_export", "Select at least one product that has images."),
])
@pytest.mark.parametrize("page", ["list", "detail"])
def test_it_answers_an_empty_selection_with_a_message_and_changes_nothing(
        manager_client, make_assets, action, words, page):
    asset = make_assets(2, sku="EMPTY")[0]
    back = (reverse("catalog:product_list") + "?brand=" if page == "list"
            else reverse("catalog:product_detail", args=[asset.product_id]))
    cutouts_before = Cutout.objects.count()
    # what either form posts with no box ticked: its other fields, no sku / asset
    response = manager_client.post(reverse(action), {
        "next": back, "model": "u2netp", "profile": "default", "q": "", "brand": "",
        "category": "", "status": ""}, follow=True)
    assert response.redirect_chain == [(back, 302)]
    assert [str(m) for m in response.context["messages"]] == [words]
    assert words in response.content.decode()
    assert not CutoutBatch.objects.exists()
    assert Cutout.objects.count() == cutouts_before
    assert not ExportJob.objects.exists()

"""Acceptance: static/js/confirm.js asks before a dangerous submit, whether the question is on
the submit button (revoke an API key) or on the form (delete a product), and a dismissed
dialog sends nothing, in Chromium."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from catalog.api_models import ApiKey
from catalog.models import Product
from catalog.services import api_keys as apikeys
from catalog.services.products import product_create
from tests.factories import manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _posts(page) -> list[str]:
    """The URLs of the POSTs the page sends from now on."""
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url)
            if request.method == "POST" else None)
    return sent


def _answer(page, accept: bool) -> list[str]:
    """Answer the next dialog; returns the questions asked."""
    asked: list[str] = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", answer)
    return asked


def test_it_keeps_a_key_when_the_revoke_dialog_is_dismissed(live_server, page, session_for,
                                                            screenshot):
    user = manager()
    key = apikeys.api_key_create(user=user, name="Akeneo sync", scope="read_only").key
    session_for(page, user)
    page.goto(live_server.url + reverse("api_keys"))
    posts = _posts(page)

    asked = _answer(page, accept=False)
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_timeout(300)  # a submit that slipped through would have been sent by now
    assert asked == ["Revoke Akeneo sync? Systems using it stop working at once."]
    assert posts == []
    expect(page.locator("#keys")).to_contain_text("active")
    key.refresh_from_db()
    assert key.revoked_at is None
    screenshot("kept")

    asked = _answer(page, accept=True)
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#keys .badge")).to_have_text("revoked")
    assert asked and len(posts) == 1 and posts[0].endswith(f"/api/keys/{key.pk}/revoke")
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_it_still_asks_for_a_question_on_the_form(live_server, page, session_for):
    user = manager()
    product = product_create(sku="ASK-1")
    session_for(page, user)
    page.goto(live_server.url + reverse("catalog:product_detail", args=[product.pk]))
    posts = _posts(page)
    asked = _answer(page, accept=False)
    page.get_by_role("button", name="Delete product").click()
    page.wait_for_timeout(300)
    assert asked == ["Delete ASK-1 and hide its images? Files are kept until purge."]
    assert posts == [] and Product.objects.get(pk=product.pk).deleted_at is None


def test_it_asks_nothing_for_a_button_without_a_question(live_server, page, session_for):
    user = manager()
    session_for(page, user)
    page.goto(live_server.url + reverse("api_keys"))
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.fill("#id_name", "Shop")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-token")).to_be_visible()
    assert asked == []
    # the key is shown once: a reload neither shows it again nor makes a second one
    page.reload()
    expect(page.locator("#keys")).to_contain_text("Shop")
    expect(page.locator("#new-token")).to_have_count(0)
    assert ApiKey.objects.filter(user=user).count() == 1

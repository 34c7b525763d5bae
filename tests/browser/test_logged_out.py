"""A page whose session ended in another tab (QA 2026-12-06 session37): Apply keeps the
unapplied strokes, which come back after the login (H1); an htmx action loads the login page
whole instead of swapping it into the card (M1, config.login); the retouch preview and the
upload say "You are logged out" with a link, not "did not decode" or "HTTP 200" (M2, M3,
static/js/session.js)."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from cutouts.models import Cutout, ReviewStatus
from tests.browser.test_retouch import _at, _retouch_page, stained  # noqa: F401 (a fixture)
from tests.browser.test_retouch_saved_strokes import SAVED, _paint_two
from tests.browser.test_upload import DROP_JS
from tests.factories import PASSWORD, ProductFactory, manager, reviewer
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_out_elsewhere(page, live_server) -> None:
    """The user logs out in a second tab of the same browser."""
    other = page.context.new_page()
    other.goto(f"{live_server.url}/")
    other.get_by_role("button", name="Log out").click()
    expect(other.get_by_role("heading", name="Log in to Cutroom")).to_be_visible()
    other.close()


def _log_in_here(page, user) -> None:
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")


def _login_url(live_server, next_page: str) -> re.Pattern:
    # as Django's redirect_to_login writes it: "/" left as it is
    url = f"{live_server.url}/accounts/login/?next={quote(next_page, safe='/')}"
    return re.compile(re.escape(url) + "$")


def _card_logged_out_elsewhere(page, live_server, cutout, log_in):
    """A reviewer's card of ``cutout``, then a logout in another tab: the reviewer."""
    user = log_in(page, reviewer())
    page.goto(f"{live_server.url}/cutouts/review/card/{cutout.pk}/")
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(cutout.pk))
    _log_out_elsewhere(page, live_server)
    return user


def _open_editor(page, live_server, cutout, log_in):
    """A reviewer's retouch editor on ``cutout``, every dialog it raises recorded (and
    dismissed): the user, the dialogs' messages, the editor and its picture's box."""
    user = log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    editor, box = _retouch_page(page, live_server, cutout)
    return user, dialogs, editor, box


def test_it_keeps_the_strokes_of_a_logged_out_apply_and_restores_them_after_the_login(
        live_server, page, stained, log_in):  # noqa: F811
    user, dialogs, editor, box = _open_editor(page, live_server, stained, log_in)
    _paint_two(page, editor, box)
    _log_out_elsewhere(page, live_server)

    # M2: a stroke painted now is previewed by the login page: said so, with a link
    page.mouse.click(*_at(box, 300, 400), button="right")
    expect(editor).to_have_attribute("data-rt-strokes", "3")
    status = editor.locator("[data-rt-status]")
    expect(status).to_have_text(
        "You are logged out: log in again (your strokes are kept in this tab).", timeout=20_000)
    here = f"/cutouts/review/retouch/{stained.pk}/"
    expect(status.get_by_role("link", name="log in again")).to_have_attribute(
        "href", f"/accounts/login/?next={quote(here, safe='')}")
    expect(editor).to_have_attribute("data-rt-preview", "error")
    painted = json.loads(editor.locator("[data-rt-strokes]").input_value())
    assert len(painted) == 3

    # H1 + M1: Apply loads the login page whole (no editor around it), the strokes saved
    editor.locator("[data-rt-apply]").click()
    expect(page).to_have_url(_login_url(live_server, here))
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("[data-retouch]")).to_have_count(0)
    [(_, entry)] = page.evaluate(SAVED)
    assert entry["strokes"] == painted
    assert Cutout.objects.filter(asset=stained.asset).count() == 1  # nothing was applied

    _log_in_here(page, user)
    editor = page.locator("#retouch-strokes [data-retouch]")
    expect(editor.locator("[data-rt-restored-words]")).to_have_text(
        "Restored 3 unapplied strokes painted on v1 earlier in this tab — Apply or Discard")
    assert json.loads(editor.locator("[data-rt-strokes]").input_value()) == painted
    expect(editor).to_have_attribute("data-rt-preview-count", "3", timeout=20_000)
    assert dialogs == []  # no "Leave site?" on the way


def test_it_sends_a_logged_out_card_action_to_the_login_page_whole(
        live_server, page, stained, log_in):  # noqa: F811
    user = _card_logged_out_elsewhere(page, live_server, stained, log_in)

    page.keyboard.press("a")
    card = f"/cutouts/review/card/{stained.pk}/"
    expect(page).to_have_url(_login_url(live_server, card))
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("#review-card")).to_have_count(0)
    assert Cutout.objects.get(pk=stained.pk).review_status != ReviewStatus.APPROVED

    _log_in_here(page, user)
    expect(page).to_have_url(f"{live_server.url}{card}")
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(stained.pk))


def test_it_says_a_logged_out_upload_sent_nothing(live_server, page, log_in):
    ProductFactory(sku="T00")
    log_in(page, manager())
    page.goto(f"{live_server.url}/catalog/upload/")
    page.fill("textarea[name=patterns]", "{sku}_{position}.jpg")
    payload = [{"name": "T00_MAIN.jpg", "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(640, 600, seed=1)).decode()}]
    assert page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload]) == 1
    uploader = page.locator("#bulk-uploader")
    expect(uploader.locator("[data-start]")).to_have_text("Upload 1 file", timeout=15_000)
    expect(uploader.locator("[data-preview] .preview-summary")).to_be_visible(timeout=15_000)
    _log_out_elsewhere(page, live_server)

    uploader.locator("[data-start]").click()
    said = uploader.locator("[data-result] p.error")
    expect(said).to_have_text("You are logged out; log in again (nothing was sent).")
    expect(said.get_by_role("link", name="log in again")).to_have_attribute(
        "href", "/accounts/login/?next=%2Fcatalog%2Fupload%2F")
    expect(uploader.locator("[data-result]")).not_to_contain_text("HTTP")


def test_it_follows_the_logged_out_preview_link_without_asking_and_brings_the_strokes_back(
        live_server, page, stained, log_in):  # noqa: F811
    user, dialogs, editor, box = _open_editor(page, live_server, stained, log_in)
    _log_out_elsewhere(page, live_server)
    page.mouse.click(*_at(box, 300, 400), button="right")
    link = editor.locator("[data-rt-status] a[data-login-again]")
    expect(link).to_have_text("log in again", timeout=20_000)

    link.click()  # the stroke is saved: no "not applied yet" question on the way
    expect(page.get_by_role("heading", name="Log in to Cutroom")).to_be_visible()
    _log_in_here(page, user)
    editor = page.locator("#retouch-strokes [data-retouch]")
    expect(editor.locator("[data-rt-restored-words]")).to_have_text(
        "Restored 1 unapplied stroke painted on v1 earlier in this tab — Apply or Discard")
    expect(page).to_have_url(f"{live_server.url}/cutouts/review/retouch/{stained.pk}/")
    assert dialogs == []


def test_it_says_a_card_action_from_a_page_older_than_the_login_changed_nothing(
        live_server, page, stained, log_in):  # noqa: F811
    # logged out and in again in another tab: the session has a new token, this page the old
    # one, so Django refuses the action (403) and htmx swaps nothing (static/js/request-failed.js)
    user = _card_logged_out_elsewhere(page, live_server, stained, log_in)
    other = page.context.new_page()
    other.goto(f"{live_server.url}/")
    _log_in_here(other, user)
    expect(other.get_by_role("button", name="Log out")).to_be_visible()
    other.close()

    page.keyboard.press("a")
    alert = page.locator("#request-failed")
    expect(alert).to_have_text("Not done, nothing was changed: this page is older than your "
                               "latest login (perhaps in another tab). Reload the page")
    expect(alert).to_have_attribute("role", "alert")
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(stained.pk))
    assert Cutout.objects.get(pk=stained.pk).review_status != ReviewStatus.APPROVED

    alert.get_by_role("button", name="Reload the page").click()
    expect(page.locator("#request-failed")).to_have_count(0)
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(stained.pk))
    page.keyboard.press("a")
    expect(page.locator(".rv-note")).to_be_visible()
    expect(page.locator("#request-failed")).to_have_count(0)
    assert Cutout.objects.get(pk=stained.pk).review_status == ReviewStatus.APPROVED


def test_it_says_why_an_apply_failed_in_the_words_of_every_other_page(
        live_server, page, stained, log_in):  # noqa: F811
    # the retouch editor says an Apply's failure itself (request-failed.js leaves its form
    # alone) but in request-failed.js's words: it said "Apply failed (HTTP 403)"
    user, dialogs, editor, box = _open_editor(page, live_server, stained, log_in)
    _paint_two(page, editor, box)
    status = editor.locator("[data-rt-status]")
    apply = editor.locator("[data-rt-apply]")
    here = f"**/cutouts/review/retouch/{stained.pk}/"

    def answer(route, status_code):
        if route.request.method != "POST":
            route.continue_()
        elif status_code:
            route.fulfill(status=status_code, content_type="text/html", body="<h1>Error</h1>")
        else:
            route.abort()

    page.route(here, lambda route: answer(route, 500))
    apply.click()
    expect(status).to_have_text("Apply failed: the server failed (HTTP 500). Reload the page "
                                "and try again (your strokes are kept).")
    expect(editor).to_have_attribute("data-rt-preview", "error")
    page.unroute(here)
    page.route(here, lambda route: answer(route, 0))
    apply.click()
    expect(status).to_have_text("Apply failed: the server did not answer. Try again (your "
                                "strokes are kept).")
    page.unroute(here)

    # logged out and in again in another tab: this page's token is refused (403, csrf)
    _log_out_elsewhere(page, live_server)
    other = page.context.new_page()
    other.goto(f"{live_server.url}/")
    _log_in_here(other, user)
    expect(other.get_by_role("button", name="Log out")).to_be_visible()
    other.close()
    apply.click()
    expect(status).to_have_text("Apply failed: this page is older than your latest login "
                                "(perhaps in another tab). Reload the page and try again (your "
                                "strokes are kept).")
    expect(page.locator("#request-failed")).to_have_count(0)  # said once, in the editor
    assert len(json.loads(editor.locator("[data-rt-strokes]").input_value())) == 2
    assert Cutout.objects.filter(asset=stained.asset).count() == 1  # nothing was applied
    assert dialogs == []

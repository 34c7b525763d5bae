"""Two reviewers on one card in Debian's Chromium: a decision made on a card someone decided
since is refused and the card shows where the version stands; the tab's title and address
follow the card on screen; Undo (U) takes the last decision back."""

import re
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from cutouts.models import Cutout, ReviewDecision, ReviewStatus
from tests.factories import reviewer
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# Every frame: the address, the tab's title and the card on screen, logged when they change.
WATCH = """() => {
  window.__shown = [];
  const tick = () => {
    const c = document.getElementById('review-card');
    const now = [location.pathname, document.title, c ? (c.dataset.cutout || 'done') : ''];
    const last = window.__shown[window.__shown.length - 1];
    if (!last || last.join('|') !== now.join('|')) window.__shown.push(now);
    requestAnimationFrame(tick);
  };
  tick();
}"""


def _as(browser, live_server, user):
    """A page of its own browser context, logged in as ``user`` (a client of its own: a
    second force_login on one client would end the first user's session)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    return context.new_page()


def _open(page, live_server, cutout):
    page.goto(f"{live_server.url}/cutouts/review/card/{cutout.pk}/")
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(cutout.pk))
    expect(page.locator(".rv-stage-side .rv-cutout")).to_be_visible()


def _assert_address_and_title_follow_the_card(page, cutouts):
    names = {str(c.pk): c.asset.product.sku for c in cutouts}
    shown = page.evaluate("window.__shown")
    for path, title, cutout in shown:
        assert path == f"/cutouts/review/card/{cutout}/", shown
        assert title == f"Review {names[cutout]} · MAIN v1 · Cutroom", shown


def test_it_refuses_a_stale_approval_and_the_title_follows_the_card(
        live_server, browser, page, make_cutouts, session_for, screenshot):
    rows = make_cutouts([(f"STALE-{i}", product_jpeg(640, 480, seed=40 + i), f"stale-{i}.jpg")
                         for i in range(3)])
    first, second, _ = sorted(rows, key=lambda c: (-c.risk, c.pk))
    rev1, rev2 = reviewer(username="rev1"), reviewer(username="rev2")
    session_for(page, rev1)
    other = _as(browser, live_server, rev2)
    _open(page, live_server, first)
    _open(other, live_server, first)  # rev2 has the card open since before rev1's flag
    # the retouch tools' Apply (a form shared with the retouch page) sends the card's state
    # too (hx-vals on the card's tools): the request it would make, stopped before it leaves
    sent = other.evaluate("""() => new Promise(resolve => {
      const form = document.querySelector('#review-card form[data-retouch]');
      document.body.addEventListener('htmx:configRequest', ev => {
        ev.preventDefault(); resolve(Object.fromEntries(ev.detail.formData));
      }, {once: true});
      htmx.ajax('POST', form.getAttribute('hx-post'), {source: form});
    })""")
    assert (sent["action"], sent["seen"]) == ("strokes", "pending:0:1")

    # rev1 flags it "wrong subject" with the keyboard; the next card loads in place
    page.evaluate(WATCH)
    page.keyboard.press("f")
    page.keyboard.press("7")
    page.keyboard.press("Enter")
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(second.pk))
    expect(page).to_have_title(f"Review {second.asset.product.sku} · MAIN v1 · Cutroom")
    expect(page).to_have_url(f"{live_server.url}/cutouts/review/card/{second.pk}/")
    page.wait_for_timeout(300)  # frames after the swap: nothing goes back to the old card
    _assert_address_and_title_follow_the_card(page, rows)
    expect(page.locator(".rv-note")).to_contain_text("Flagged for retouch:")

    # rev2 presses A on the stale card: refused, the card shows the flag, nothing changes
    other.keyboard.press("a")
    error = other.locator("#review-card .rv-error")
    expect(error).to_contain_text(re.compile(
        r"rev1 flagged v1 for retouch at \d\d:\d\d \(Wrong subject\) after you opened it, so "
        r"your approval was not applied\."))
    card = other.locator("#review-card")
    expect(card).to_have_attribute("data-cutout", str(first.pk))
    expect(card).to_have_attribute("data-review-status", "flagged")
    expect(other).to_have_title(f"Review {first.asset.product.sku} · MAIN v1 · Cutroom")
    flagged = Cutout.objects.get(pk=first.pk)
    assert flagged.review_status == ReviewStatus.FLAGGED and not flagged.is_current
    assert not ReviewDecision.objects.filter(action="approve").exists()
    screenshot("rev1-next-card-with-undo")
    other.screenshot(path=str(ARTIFACTS / "test_review_stale-rev2-refused.png"), full_page=True)

    # rev1 takes the flag back with U: the flagged card again, awaiting review
    page.keyboard.press("u")
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(first.pk))
    expect(page.locator(".rv-note")).to_contain_text(
        f"Undone: {first.asset.product.sku} · MAIN v1 is awaiting review again.")
    expect(page).to_have_title(f"Review {first.asset.product.sku} · MAIN v1 · Cutroom")
    expect(page).to_have_url(f"{live_server.url}/cutouts/review/card/{first.pk}/")
    _assert_address_and_title_follow_the_card(page, rows)
    undone = Cutout.objects.get(pk=first.pk)
    assert undone.review_status == ReviewStatus.PENDING and undone.flag_reasons == []
    assert list(ReviewDecision.objects.order_by("pk").values_list("action", flat=True)) == [
        "flag", "undo"]

    # rev2's card (drawn flagged) is stale again: its approval names the undo
    other.keyboard.press("a")
    expect(other.locator("#review-card .rv-error")).to_contain_text(
        "rev1 undid a decision on v1 at")
    assert Cutout.objects.get(pk=first.pk).review_status == ReviewStatus.PENDING
    # a fresh card approves as before
    _open(other, live_server, first)
    other.keyboard.press("a")
    expect(other.locator("#review-card")).not_to_have_attribute("data-cutout", str(first.pk))
    assert Cutout.objects.get(pk=first.pk).review_status == ReviewStatus.APPROVED
    other.context.close()

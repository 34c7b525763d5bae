"""The "Skip to content" link (templates/base.html) in Debian's Chromium: the first Tab stop,
off screen until focused, and it takes keyboard focus past the top bar into the page."""

import pytest
from playwright.sync_api import expect

from tests.factories import reviewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACTIVE = """() => { const a = document.activeElement;
    return [a.tagName, a.id, a.textContent.trim(), !!a.closest('main'), !!a.closest('header')]; }"""


def test_it_skips_the_top_bar_to_the_page_content(live_server, page, session_for):
    session_for(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    skip = page.get_by_role("link", name="Skip to content")
    assert not skip.is_visible() or skip.bounding_box()["y"] + skip.bounding_box()["height"] <= 0
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE)[2] == "Skip to content"  # the first focusable element
    box = skip.bounding_box()
    assert box["y"] >= 0 and box["height"] > 10  # shown on focus, inside the window
    page.keyboard.press("Enter")
    assert page.evaluate(ACTIVE)[:2] == ["MAIN", "main-content"]
    page.keyboard.press("Tab")
    *_, in_main, in_header = page.evaluate(ACTIVE)
    assert in_main and not in_header  # the next stop is in the page, not the top bar

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_logs_in_through_chromium_and_sees_the_dashboard(live_server, page, screenshot):
    user = manager()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator(".who")).to_contain_text(user.username)
    screenshot("dashboard")


def test_it_rejects_a_wrong_password_in_the_browser(live_server, page):
    user = manager()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "nope")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("didn't match")

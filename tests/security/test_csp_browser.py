"""The Content-Security-Policy in a real browser: Chromium reports no violation on the main
pages, htmx (a static file) runs, and the delete confirmation (formerly an inline onsubmit
handler) still asks before submitting."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, ImageAssetFactory, manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_runs_the_pages_without_a_csp_violation(live_server, page):
    violations = []
    # an unknown Permissions-Policy feature is a console error on every page, like a violation
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text or "Permissions-Policy" in msg.text
            or "feature" in msg.text.lower() else None)
    user = manager()
    asset = ImageAssetFactory()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert page.evaluate("typeof window.htmx") == "object"  # htmx loaded from static files
    for path in ("/", "/catalog/products/", f"/catalog/products/{asset.product_id}/",
                 "/catalog/upload/", "/catalog/imports/", "/cutouts/batches/",
                 "/cutouts/review/", "/cutouts/export/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    assert violations == []

    # The confirmation is now a static script reading data-confirm: dismissing it keeps the
    # product; the inline handler it replaced would have been blocked by the CSP.
    page.goto(f"{live_server.url}/catalog/products/{asset.product_id}/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete product").click()
    expect(page).to_have_url(f"{live_server.url}/catalog/products/{asset.product_id}/")
    asset.product.refresh_from_db()
    assert asset.product.deleted_at is None
    assert violations == []

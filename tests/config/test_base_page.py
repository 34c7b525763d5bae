"""templates/base.html: the scripts every page loads."""

import pytest
from django.urls import reverse

from tests.factories import reviewer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
def test_it_loads_htmx_without_django_htmxs_debug_error_page(client, settings, debug):
    """Under DEBUG (``dev.py run``) django-htmx's script replaced the whole page with a failed
    request's error page, so a refused Apply lost the page and the editor's words for it
    (QA 2026-12-06); the page's own scripts say a failure instead."""
    settings.DEBUG = debug
    client.force_login(reviewer())
    html = client.get(reverse("dashboard")).content.decode()
    assert "django_htmx/htmx-2.min.js" in html
    assert "django-htmx.js" not in html
    assert "js/request-failed.js" in html

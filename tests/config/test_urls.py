"""Site-wide addresses of config/urls.py that are not a page of an app."""

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

pytestmark = pytest.mark.django_db


def test_it_answers_favicon_ico_with_the_svg_icon_without_a_login(client):
    # browsers ask for /favicon.ico whatever the page links; it 404ed (QA 2026-12-04)
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("img/favicon.svg")  # not the login page
    assert finders.find("img/favicon.svg")
    assert "max-age=86400" in response["Cache-Control"]
    assert client.post("/favicon.ico").status_code == 405

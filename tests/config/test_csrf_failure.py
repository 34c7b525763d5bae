"""config.views.csrf_failure: a form refused by the CSRF check says why in plain words."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def checked():
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer())
    return client


def test_it_says_a_page_older_than_the_login_saved_nothing(checked):
    checked.get(reverse("dashboard"))  # the session's CSRF cookie
    response = checked.post(reverse("logout"), HTTP_X_CSRFTOKEN="a" * 32)
    assert response.status_code == 403 and response["X-Cutroom-Refused"] == "csrf"
    text = response.content.decode()
    assert "This page was out of date" in text and "Nothing was saved." in text
    assert "Referer" not in text  # not Django's page of cookies and referers
    # still logged in: the refused logout did nothing
    assert checked.get(reverse("dashboard")).status_code == 200


def test_it_asks_for_cookies_when_the_browser_sent_none(checked):
    response = checked.post(reverse("logout"))
    assert response.status_code == 403 and response["X-Cutroom-Refused"] == "csrf"
    assert "did not send Cutroom's cookie" in response.content.decode()


def test_it_names_the_trusted_origins_setting_for_a_foreign_origin(checked):
    checked.get(reverse("dashboard"))
    token = checked.cookies["csrftoken"].value
    response = checked.post(reverse("logout"), HTTP_X_CSRFTOKEN=token,
                            HTTP_ORIGIN="https://elsewhere.example")
    assert response.status_code == 403
    text = response.content.decode()
    assert "another address" in text and "CSRF_TRUSTED_ORIGINS" in text

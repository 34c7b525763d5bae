"""config.views.csrf_failure: a form refused by the CSRF check says why in plain words."""

from urllib.parse import parse_qs, urlsplit

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


CARD_PAGE = "/cutouts/review/card/7/?status=pending"


def test_it_sends_an_htmx_action_whose_session_went_with_its_cookie_to_the_login_page():
    """QA qa42c L6: F, 2, Enter on a review card after the browser's data was cleared (no
    session, no CSRF cookie) said "this page is older than your latest login" to a user who
    was logged out; it is answered as a request that only lost its session is
    (config.login): the login page whole, ``next`` the page on screen."""
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("worker_ping"), headers={
        "HX-Request": "true", "HX-Current-URL": f"http://testserver{CARD_PAGE}"})
    assert response.status_code == 200 and "X-Cutroom-Refused" not in response
    parts = urlsplit(response["HX-Redirect"])
    assert parts.path == reverse("login") and parse_qs(parts.query)["next"] == [CARD_PAGE]


def test_it_says_a_form_whose_session_went_with_its_cookie_is_logged_out():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("worker_ping"))
    assert response.status_code == 403 and response["X-Cutroom-Refused"] == "login"
    text = response.content.decode()
    assert "You are logged out" in text and "Nothing was saved." in text
    assert f'href="{reverse("login")}"' in text and "Log in again" in text
    assert "latest login" not in text and "out of date" not in text


def test_it_says_why_the_login_form_itself_was_refused_not_logged_out():
    # a page needing no login: there the logged-out words would only repeat the obvious
    response = Client(enforce_csrf_checks=True).post(reverse("login"))
    assert response.status_code == 403 and response["X-Cutroom-Refused"] == "csrf"
    assert "did not send Cutroom's cookie" in response.content.decode()

"""The login gate (config.login): a request of an ended session goes to the login page; an
htmx one is told so with HX-Redirect, ``next`` the page on screen, so htmx loads the login
page whole instead of swapping it into the card (QA 2026-12-06 session37 M1)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tests.factories import reviewer

CARD = "/cutouts/review/card/7/"
PAGE = "/cutouts/review/card/7/?status=pending"


def _next(url: str) -> str:
    parts = urlsplit(url)
    assert parts.path == reverse("login")
    return parse_qs(parts.query)["next"][0]


@pytest.mark.django_db
def test_it_redirects_a_plain_request_of_an_ended_session_to_the_login_page(client):
    response = client.post(CARD, {"action": "approve"})
    assert response.status_code == 302
    assert "HX-Redirect" not in response
    assert _next(response["Location"]) == CARD


@pytest.mark.django_db
def test_it_sends_an_htmx_request_of_an_ended_session_to_the_login_page_whole(client):
    response = client.post(CARD, {"action": "approve"}, headers={
        "HX-Request": "true", "HX-Current-URL": f"http://testserver{PAGE}"})
    # 200 with HX-Redirect: htmx loads that address in the window and swaps nothing
    assert response.status_code == 200
    assert "Location" not in response
    assert response.content == b""
    assert _next(response["HX-Redirect"]) == PAGE


@pytest.mark.django_db
def test_it_names_the_page_on_screen_for_a_poll_of_another_address(client):
    """A pending note polls the card's own address; the preview of the retouch page posts to
    another: ``next`` is the page the reviewer sees, not the partial's address."""
    retouch = "/cutouts/review/retouch/7/"
    response = client.get("/cutouts/review/retouch/7/preview/", headers={
        "HX-Request": "true", "HX-Current-URL": f"http://testserver{retouch}"})
    assert _next(response["HX-Redirect"]) == retouch


@pytest.mark.django_db
def test_it_never_sends_next_to_another_site_from_the_current_url_header(client):
    for current in ("https://evil.example.com/x/", "//evil.example.com/", "javascript:alert(1)",
                    "https://testserver/x/"):  # https: not this plain-http request's origin
        response = client.post(CARD, headers={"HX-Request": "true", "HX-Current-URL": current})
        assert _next(response["HX-Redirect"]) == CARD, current
    response = client.post(CARD, headers={"HX-Request": "true"})
    assert _next(response["HX-Redirect"]) == CARD


@pytest.mark.django_db
def test_it_lets_a_logged_in_htmx_request_through(client):
    client.force_login(reviewer())
    response = client.get(reverse("cutouts:review_queue"), headers={
        "HX-Request": "true", "HX-Current-URL": "http://testserver/"})
    assert "HX-Redirect" not in response
    assert response.status_code == 200

"""Logging out says so on the login page, once (QA 2026-12-03: the login page came with no
word of it), and a ``next`` pointing off the site is not followed."""

import pytest
from django.urls import URLResolver, get_resolver, resolve, reverse

from config.views import LogoutView
from tests.factories import manager


@pytest.mark.django_db
def test_it_says_you_are_logged_out_once_on_the_login_page(client):
    client.force_login(manager())
    response = client.post(reverse("logout"), follow=True)
    assert response.redirect_chain == [(reverse("login"), 302)]
    assert [str(m) for m in response.context["messages"]] == ["You are logged out."]
    assert b"You are logged out." in response.content
    assert "_auth_user_id" not in client.session
    assert b"You are logged out." not in client.get(reverse("login")).content


@pytest.mark.django_db
def test_it_never_follows_a_next_off_the_site_when_logging_out(client):
    client.force_login(manager())
    for target in ("https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com"):
        response = client.post(reverse("logout"), {"next": target})
        assert response.status_code == 302
        assert response["Location"] == reverse("login"), target
        client.force_login(manager())


@pytest.mark.django_db
def test_it_still_refuses_a_logout_by_get(client):
    client.force_login(manager())
    assert client.get(reverse("logout")).status_code == 405
    assert "_auth_user_id" in client.session


def _named(patterns, name, prefix=""):
    """Every route named ``name`` outside a namespace, with its full path."""
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace is None:
                found += _named(pattern.url_patterns, name, prefix + str(pattern.pattern))
        elif pattern.name == name:
            found.append((prefix + str(pattern.pattern), pattern.callback))
    return found


def test_it_has_exactly_one_logout_route_and_it_is_ours():
    """QA 2026-12-03: ours only shadowed django.contrib.auth.urls' own by URL order."""
    routes = _named(get_resolver().url_patterns, "logout")
    assert [route for route, _ in routes] == ["accounts/logout/"]
    assert routes[0][1].view_class is LogoutView
    assert resolve(reverse("logout")).func.view_class is LogoutView


@pytest.mark.django_db
def test_it_says_you_are_logged_out_after_the_admins_logout_too(client):
    user = manager()
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    response = client.post(reverse("admin:logout"), follow=True)
    assert response.redirect_chain == [(reverse("login"), 302)]
    assert b"You are logged out." in response.content
    assert "_auth_user_id" not in client.session
    client.force_login(user)
    assert client.get(reverse("admin:logout")).status_code == 405
    assert "_auth_user_id" in client.session

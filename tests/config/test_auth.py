import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from catalog import roles
from tests.factories import PASSWORD, UserFactory, manager, reviewer

PUBLIC = {"healthz", "login", "password_reset", "password_reset_done", "password_reset_confirm",
          "password_reset_complete", "logout"}


def _named_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = pattern.namespace
            if namespace == "admin":
                continue  # Django's admin has its own staff login
            yield from _named_routes(pattern, f"{prefix}{namespace}:" if namespace else prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + pattern.name, pattern


def _dummy_url(name: str, pattern: URLPattern) -> str:
    samples = {"IntConverter": 1, "UUIDConverter": "00000000-0000-0000-0000-000000000000"}
    kwargs = {
        key: samples.get(type(converter).__name__, "x")
        for key, converter in pattern.pattern.converters.items()
    }
    if not kwargs and re.search(r"\(\?P<", str(pattern.pattern)):
        return ""
    return reverse(name, kwargs=kwargs)


@pytest.mark.django_db
def test_it_requires_login_on_every_page_except_the_public_ones(client):
    checked = 0
    for name, pattern in _named_routes():
        url = _dummy_url(name, pattern)
        if not url or name.startswith("api:"):
            # The REST API answers 401 problem+json, not a login redirect; its schema and
            # docs are public (tests/api/test_auth.py covers every operation).
            continue
        response = client.get(url)
        if name.split(":")[-1] in PUBLIC:
            assert response.status_code in (200, 302, 405), name
            continue
        assert response.status_code == 302, f"{name} answered {response.status_code}"
        assert response.url.startswith(reverse("login")), name
        checked += 1
    assert checked >= 2


@pytest.mark.django_db
def test_it_logs_in_through_the_form_and_shows_the_dashboard(client):
    user = manager()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD},
                           follow=True)
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse("dashboard")
    assert b"Dashboard" in response.content


@pytest.mark.django_db
def test_it_locks_out_after_repeated_failed_logins(client, settings):
    user = manager()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    assert (f"After {settings.AXES_FAILURE_LIMIT} failed attempts this account is locked for "
            f"{minutes} minutes.").encode() in response.content


@pytest.mark.django_db
def test_it_sends_a_password_reset_mail_and_accepts_the_new_password(client):
    user = manager(email="m@example.com")
    client.post(reverse("password_reset"), {"email": "m@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url  # Django swaps the token for a session-bound URL
    client.post(form_url, {"new_password1": "a-much-better-secret-9", "new_password2":
                           "a-much-better-secret-9"})
    user.refresh_from_db()
    assert user.check_password("a-much-better-secret-9")


@pytest.mark.django_db
def test_it_changes_the_password_of_a_logged_in_user(client):
    user = reviewer()
    client.force_login(user)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "another-long-secret-7",
        "new_password2": "another-long-secret-7"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-secret-7")


@pytest.mark.django_db
def test_it_gives_each_role_exactly_its_capabilities():
    boss, checker = manager(), reviewer()
    for capability in roles.CAPABILITIES:
        assert boss.has_perm(roles.perm(capability))
    assert checker.has_perm(roles.perm(roles.REVIEW))
    assert checker.has_perm(roles.perm(roles.VIEW))
    for capability in (roles.UPLOAD, roles.DELETE, roles.EXPORT, roles.RUN_CUTOUTS):
        assert not checker.has_perm(roles.perm(capability))


@pytest.mark.django_db
def test_it_denies_pages_to_a_user_without_a_role(client):
    client.force_login(UserFactory())
    assert client.get(reverse("dashboard")).status_code == 403


@pytest.mark.django_db
def test_it_creates_users_with_a_role_from_the_command_line(capsys):
    call_command("create_user", "rita", "--role", "reviewer", "--password", "s3cret-enough-1")
    assert "Created rita (reviewer)" in capsys.readouterr().out
    group = Group.objects.get(name=roles.REVIEWER)
    assert group.user_set.filter(username="rita").exists()


@pytest.mark.django_db
def test_it_prints_the_first_admin_account_once(capsys):
    call_command("ensure_admin")
    first = capsys.readouterr().out
    password = re.search(r"password: (\S+)", first).group(1)
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    call_command("ensure_admin")
    assert "no admin account created" in capsys.readouterr().out


@pytest.mark.django_db
def test_it_lets_staff_use_the_django_admin(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200

"""Behind nginx every request comes from 127.0.0.1: the client IP must come from
X-Forwarded-For, trusting exactly CUTROOM_TRUSTED_PROXIES hops, so that

- a forged X-Forwarded-For cannot choose the address (no bypass of the lockout), and
- five bad passwords from one address do not lock the user out everywhere.
"""

import logging

import pytest
from django.core import mail
from django.core.cache import caches
from django.test import Client, RequestFactory
from django.urls import reverse

from config.logging import RequestContextFilter
from config.security import client_ip
from tests.factories import PASSWORD, manager

PROXY = "127.0.0.1"  # nginx, as gunicorn sees it


def _request(xff: str | None = None, remote: str = PROXY):
    headers = {"REMOTE_ADDR": remote}
    if xff is not None:
        headers["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **headers)


@pytest.fixture(autouse=True)
def _fresh_counters():
    caches["default"].clear()
    yield
    caches["default"].clear()


# --- which address is the client --------------------------------------------------------------


@pytest.mark.parametrize(("trusted", "xff", "expected"), [
    (0, "198.51.100.7", PROXY),                      # no proxy trusted: header ignored
    (1, None, PROXY),                                # direct hit on gunicorn: REMOTE_ADDR
    (1, "198.51.100.7", "198.51.100.7"),             # nginx appended the client
    (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),    # client forged a first entry: ignored
    (1, "1.1.1.1, 2.2.2.2, 198.51.100.7", "198.51.100.7"),
    (2, "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),  # load balancer + nginx
    (2, "198.51.100.7", "198.51.100.7"),             # fewer hops than proxies: leftmost
    (1, "not-an-ip", PROXY),                         # garbage: fall back to the proxy
    (1, "[2001:db8::1]:443", "2001:db8::1"),
    (1, "203.0.113.5:51234", "203.0.113.5"),
])
def test_it_takes_the_client_ip_from_the_trusted_hops_only(settings, trusted, xff, expected):
    settings.CUTROOM_TRUSTED_PROXIES = trusted
    assert client_ip(_request(xff)) == expected


def test_it_puts_the_client_ip_in_every_log_record(settings):
    settings.CUTROOM_TRUSTED_PROXIES = 1
    from config.logging import client_ip_var

    token = client_ip_var.set("198.51.100.7")
    try:
        record = logging.LogRecord("x", logging.INFO, "", 0, "m", (), None)
        RequestContextFilter().filter(record)
    finally:
        client_ip_var.reset(token)
    assert record.client_ip == "198.51.100.7"


# --- django-axes with forged X-Forwarded-For ------------------------------------------------


def _login(client: Client, username: str, password: str, xff: str):
    return client.post(reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=xff)


@pytest.mark.django_db
def test_it_locks_the_attacker_out_however_they_forge_x_forwarded_for(settings):
    """No bypass: nginx appends the real address, so rotating forged entries changes nothing."""
    settings.CUTROOM_TRUSTED_PROXIES = 1
    user = manager()
    attacker = "203.0.113.66"
    for i in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), user.username, "wrong", f"10.9.8.{i}, {attacker}")
    response = _login(Client(), user.username, PASSWORD, f"192.0.2.{99}, {attacker}")
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content


@pytest.mark.django_db
def test_it_does_not_lock_out_the_user_from_everywhere(settings):
    """Five failures from one address (all through the same proxy) leave others alone."""
    settings.CUTROOM_TRUSTED_PROXIES = 1
    user = manager()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), user.username, "wrong", "203.0.113.66")
    assert _login(Client(), user.username, PASSWORD, "203.0.113.66").status_code == 429
    response = _login(Client(), user.username, PASSWORD, "198.51.100.7")
    assert response.status_code == 302
    assert response.url == reverse("dashboard")


@pytest.mark.django_db
def test_it_shows_the_old_problem_when_no_proxy_is_trusted(settings):
    """The control: trusting no proxy behind nginx keys everyone on 127.0.0.1 (issue 14 #1)."""
    settings.CUTROOM_TRUSTED_PROXIES = 0
    user = manager()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), user.username, "wrong", "203.0.113.66")
    assert _login(Client(), user.username, PASSWORD, "198.51.100.7").status_code == 429


# --- per-IP rate limits ------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_rate_limits_login_posts_per_ip(settings):
    settings.CUTROOM_TRUSTED_PROXIES = 1
    settings.CUTROOM_RATE_LIMITS = {**settings.CUTROOM_RATE_LIMITS, "login": (3, 300)}
    for i in range(3):  # different usernames: axes' per-user lockout never triggers
        assert _login(Client(), f"nobody{i}", "wrong", "203.0.113.66").status_code == 200
    limited = _login(Client(), "nobody9", "wrong", "203.0.113.66")
    assert limited.status_code == 429
    assert b"Too many attempts" in limited.content
    assert int(limited["Retry-After"]) == 300
    # Another address is not affected, and GETs (the form itself) never count.
    assert _login(Client(), "nobody9", "wrong", "198.51.100.7").status_code == 200
    assert Client().get(reverse("login"), REMOTE_ADDR=PROXY,
                        HTTP_X_FORWARDED_FOR="203.0.113.66").status_code == 200


@pytest.mark.django_db
def test_it_rate_limits_password_reset_mails_per_ip(settings):
    settings.CUTROOM_TRUSTED_PROXIES = 1
    settings.CUTROOM_RATE_LIMITS = {**settings.CUTROOM_RATE_LIMITS, "password_reset": (2, 900)}
    manager(email="m@example.com")
    statuses = [
        Client().post(reverse("password_reset"), {"email": "m@example.com"},
                      REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.66").status_code
        for _ in range(6)
    ]
    assert statuses == [302, 302, 429, 429, 429, 429]
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_it_rate_limits_the_admin_login_with_the_same_budget(settings):
    settings.CUTROOM_TRUSTED_PROXIES = 1
    settings.CUTROOM_RATE_LIMITS = {**settings.CUTROOM_RATE_LIMITS, "login": (2, 300)}
    statuses = [
        Client().post("/admin/login/", {"username": f"x{i}", "password": "wrong"},
                      REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.66").status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 429]

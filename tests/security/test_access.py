"""Access control, CSRF and security headers on every route, generated from the URLconf.

Every route must say who may use it. Views opened by ``capability_required`` say so
themselves (``view.required_capability``); a view may also set ``view.security_access`` to one
of the kinds below; the few framework routes are listed in ``DECLARED``. A route that does none
of these fails ``test_it_knows_the_expected_access_of_every_route``, so a new route cannot be
forgotten: declare it, and the sweep below checks it for every role and for anonymous callers.

Kinds:
- ``capability:<name>``: anonymous -> login page; a role with the capability gets through
  (any answer but 403 or the login page: with dummy ids that is often 404); others get 403;
- ``role:<name>``: the same, for pages only that role (all of its capabilities) may use;
- ``login``: anonymous -> login page; any logged-in user gets through, role or not;
- ``public``: anyone, without a login (healthz, the login and password-reset pages);
- ``logout``: POST only (a GET, e.g. from an <img> on another site, must not log anyone out);
- ``token``: a bearer token is the only gate (metrics): no session ever gets a 200 without it;
- ``api_key``: the API (its own key, or a session): an anonymous caller without a key never
  gets a 200; what each role may do there is the API's own tests' business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from catalog import roles
from tests.factories import UserFactory, manager, reviewer

ROOT = Path(__file__).resolve().parents[2]

# Framework routes with no decorator of ours; by route name, or by path prefix for unnamed
# routes and whole URL trees.
DECLARED = {
    "healthz": "public",
    "login": "public",
    "password_reset": "public",
    "password_reset_done": "public",
    "password_reset_confirm": "public",
    "password_reset_complete": "public",
    "logout": "logout",
    "password_change": "login",
    "password_change_done": "login",
    "/metrics": "token",
    "/favicon.ico": "public",
    # The OpenAPI schema and its Swagger page describe the API; they hold no data.
    "api:openapi-json": "public",
    "api:openapi-view": "public",
    "/api/v1/": "api_key",
    # Webhook pages: the decorator lets every role read; the view then requires a manager.
    "api_webhooks": f"role:{roles.MANAGER}",
    "api_webhook_detail": f"role:{roles.MANAGER}",
    "api_webhook_edit": f"role:{roles.MANAGER}",
    "api_webhook_redeliver": f"role:{roles.MANAGER}",
}
# Views that open GET to every role and check a stronger capability for POST inside.
DECLARED_POST = {
    "catalog:import_list": f"capability:{roles.UPLOAD}",
}

SAMPLES = ("1", "x", "00000000-0000-0000-0000-000000000000", "x.jpg")


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or "" for an unnamed route
    path: str  # with dummy values for the parameters
    view: object

    def __str__(self) -> str:
        return f"{self.name or '(unnamed)'} {self.path}"


def _sample_for(converter) -> str:
    regex = re.compile(converter.regex)
    for sample in SAMPLES:
        if regex.fullmatch(sample):
            return sample
    raise AssertionError(f"no dummy value fits converter {converter!r}: add one to SAMPLES")


def _pattern_text(pattern) -> str:
    text = str(pattern)
    converters = getattr(pattern, "converters", {})
    if hasattr(pattern, "_route"):  # path(): substitute <conv:name> with a fitting value
        def fill(match):
            return _sample_for(converters[match.group(2)])
        return re.sub(r"<(?:(\w+):)?(\w+)>", fill, text)
    # re_path(): only plain prefixes are supported; anything with groups must be a path().
    text = text.lstrip("^").rstrip("$")
    assert not re.search(r"[()\[\]*+?\\]", text), f"re_path {text!r}: use path() instead"
    return text


def all_routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns, prefix: str, namespaces: tuple[str, ...]):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue  # Django's admin: staff login of its own, see below
                ns = namespaces + ((pattern.namespace,) if pattern.namespace else ())
                walk(pattern.url_patterns, prefix + _pattern_text(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                name = ":".join(namespaces + (pattern.name,)) if pattern.name else ""
                found.append(Route(name, "/" + prefix + _pattern_text(pattern.pattern),
                                   pattern.callback))

    walk(get_resolver().url_patterns, "", ())
    return found


def expected_access(route: Route, method: str = "get") -> str | None:
    if method == "post" and route.name in DECLARED_POST:
        return DECLARED_POST[route.name]
    if route.name in DECLARED and DECLARED[route.name].startswith("role:"):
        return DECLARED[route.name]
    declared = getattr(route.view, "security_access", None)
    if declared:
        return declared
    capability = getattr(route.view, "required_capability", None)
    if capability:
        return f"capability:{capability}"
    short = route.name.split(":")[-1]
    if route.name in DECLARED:
        return DECLARED[route.name]
    if short in DECLARED and ":" not in route.name:
        return DECLARED[short]
    for prefix, kind in DECLARED.items():
        if prefix.startswith("/") and route.path.startswith(prefix):
            return kind
    return None


ROUTES = all_routes()


def test_it_finds_the_apps_routes_in_the_urlconf():
    names = {r.name for r in ROUTES}
    assert {"dashboard", "catalog:product_list", "cutouts:batch_start", "login"} <= names
    assert len(ROUTES) >= 40


def test_it_knows_the_expected_access_of_every_route():
    undeclared = [str(r) for r in ROUTES if expected_access(r) is None]
    assert not undeclared, (
        "Routes without a declared access (open the view with capability_required, set "
        f"view.security_access, or add them to DECLARED): {undeclared}")


# --- every route x every role x anonymous ------------------------------------------------------

ROLE_USERS = {
    "anonymous": None,
    "no role": lambda: UserFactory(),
    roles.REVIEWER: reviewer,
    roles.MANAGER: manager,
}


def _client_for(role: str) -> Client:
    client = Client()
    make = ROLE_USERS[role]
    if make is not None:
        client.force_login(make())
    return client


def _capabilities(role: str) -> frozenset[str]:
    return roles.ROLE_CAPABILITIES.get(role, frozenset())


def _to_login(response) -> bool:
    return response.status_code == 302 and response.url.startswith(reverse("login"))


def _check(route: Route, kind: str, role: str, method: str, response) -> str:
    """'' when ``response`` is what ``kind`` allows for ``role``, else what is wrong."""
    status = response.status_code
    if status >= 500:
        return f"answered {status}"
    if kind.startswith(("capability:", "role:")):
        needed = kind.split(":", 1)[1]
        if role == "anonymous":
            return "" if _to_login(response) else f"anonymous got {status}, not the login page"
        allowed = (needed in _capabilities(role) if kind.startswith("capability:")
                   else _capabilities(needed) <= _capabilities(role))
        if allowed:
            return f"allowed role got {status}" if status == 403 or _to_login(response) else ""
        # 405: a POST-only view refuses the GET before its inner role check; nothing leaks.
        return "" if status in (403, 405) else f"role without {needed} got {status}, not 403"
    if kind == "login":
        if role == "anonymous":
            return "" if _to_login(response) else f"anonymous got {status}, not the login page"
        return f"logged-in user got {status}" if status == 403 or _to_login(response) else ""
    if kind == "public":
        if role == "anonymous" and (_to_login(response) or status in (401, 403)):
            return f"public route refused anonymous ({status})"
        return ""
    if kind == "logout":
        if method == "get" and role != "anonymous" and status != 405:
            return f"GET answered {status}, not 405"
        return ""
    if kind == "token":
        return "token route answered 200 without its token" if status == 200 else ""
    if kind == "api_key":
        if role == "anonymous" and status == 200:
            return "API answered 200 to an anonymous caller without a key"
        return ""
    return f"unknown access kind {kind!r}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_it_enforces_the_declared_access_on_every_route(role):
    problems = []
    checked = 0
    for route in ROUTES:
        for method in ("get", "post"):
            kind = expected_access(route, method)
            assert kind, f"{route} has no declared access"
            # A fresh client each time: a POST to logout must not log the next request out.
            response = getattr(_client_for(role), method)(route.path)
            problem = _check(route, kind, role, method, response)
            if problem:
                problems.append(f"{method.upper()} {route}: {problem}")
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked == 2 * len(ROUTES)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", roles.MANAGER])
def test_it_keeps_the_django_admin_for_staff_only(role):
    response = _client_for(role).get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


# --- CSRF on every POST ------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_a_post_without_csrf_token_on_every_route():
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager())
    unprotected = []
    for route in ROUTES:
        if expected_access(route) in ("token", "api_key"):
            continue  # no cookie-based session to ride on: the key/token is the gate
        response = client.post(route.path, {"next": "/"})
        if response.status_code != 403 or b"CSRF" not in response.content:
            unprotected.append(f"{route}: {response.status_code}")
    assert not unprotected, unprotected


@pytest.mark.django_db
def test_it_accepts_the_same_post_with_the_token():
    """The control for the test above: the 403s are the CSRF check, not something else."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager())
    client.get(reverse("dashboard"))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("worker_ping"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302


# --- Content-Security-Policy and Permissions-Policy on every page -----------------------------


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


class _InlineScriptFinder(HTMLParser):
    """Inline <script> bodies, on* handler attributes and javascript: URLs in HTML."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        # JSON data blocks (type="application/json") are not executed, so CSP allows them.
        if tag == "script" and not attributes.get("src") and "json" not in (
                attributes.get("type") or ""):
            self._in_inline_script = True
        for name, value in attrs:
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.found.append(f"inline <script>{data.strip()[:40]}")


def inline_scripts(html: str) -> list[str]:
    finder = _InlineScriptFinder()
    finder.feed(html)
    return finder.found


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", roles.MANAGER])
def test_it_sends_a_strict_csp_and_permissions_policy_on_every_page(role):
    client = _client_for(role)
    missing = []
    pages = 0
    for route in ROUTES:
        response = client.get(route.path)
        csp = response.get("Content-Security-Policy", "")
        directives = _directives(csp)
        script = directives.get("script-src", [])
        if script != ["'self'"] or directives.get("object-src") != ["'none'"] \
                or directives.get("frame-ancestors") != ["'none'"]:
            missing.append(f"{route}: CSP {csp!r}")
        if "camera=()" not in response.get("Permissions-Policy", ""):
            missing.append(f"{route}: Permissions-Policy {response.get('Permissions-Policy')!r}")
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            pages += 1
            found = inline_scripts(response.content.decode())
            if found:
                missing.append(f"{route}: inline script under CSP: {found}")
    assert not missing, "\n".join(missing)
    assert pages >= (3 if role == "anonymous" else 10)


def test_it_has_no_inline_script_or_handler_in_any_template():
    """Inline scripts would be blocked by the CSP (no 'unsafe-inline'); JS lives in static/js."""
    offenders = {}
    for template in sorted((ROOT / "templates").rglob("*.html")):
        found = inline_scripts(template.read_text())
        if found:
            offenders[str(template.relative_to(ROOT))] = found
    assert not offenders, offenders


def test_it_finds_inline_scripts_when_there_are_some():
    """The finder itself: each kind of inline code is caught, external scripts are not."""
    assert inline_scripts('<script src="/static/js/a.js"></script>') == []
    assert inline_scripts("<script>alert(1)</script>")
    assert inline_scripts('<form onsubmit="return confirm(1)"></form>')
    assert inline_scripts('<div hx-on:click="go()"></div>')
    assert inline_scripts('<a href="javascript:alert(1)">x</a>')


def test_it_allows_the_s3_endpoint_for_images_but_never_for_scripts(settings):
    from config.security import content_security_policy

    settings.CUTROOM_CSP_MEDIA_SOURCES = ["https://s3.cutroom.example"]
    directives = _directives(content_security_policy())
    assert "https://s3.cutroom.example" in directives["img-src"]
    assert "https://s3.cutroom.example" in directives["connect-src"]
    assert directives["script-src"] == ["'self'"]
    assert directives["script-src-attr"] == ["'none'"]


# --- escaping: hostile text in the query string or the data never comes back as markup ---------

PAYLOAD = '"><script>alert(7)</script><img src=x onerror=alert(8)>'


@pytest.mark.django_db
def test_it_escapes_hostile_input_on_every_page_and_partial():
    from tests.factories import ProductFactory

    ProductFactory(sku="XSS-1", title=PAYLOAD, brand=PAYLOAD)
    client = _client_for(roles.MANAGER)
    query = "&".join(f"{k}={PAYLOAD}" for k in ("q", "sku", "product", "brand", "status",
                                                 "next", "reason", "model", "size", "page"))
    reflected = []
    rendered = 0
    for route in ROUTES:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(f"{route.path}?{query}", **headers)
            if "text/html" not in response.get("Content-Type", ""):
                continue  # JSON (the API) carries data verbatim; browsers do not render it
            rendered += response.status_code == 200
            body = response.content.decode(errors="replace")
            if "<script>alert(7)" in body or "<img src=x onerror" in body:
                reflected.append(f"{route} {'htmx' if headers else 'page'}")
    assert not reflected, reflected
    assert rendered >= 20
    listing = client.get(reverse("catalog:product_list")).content.decode()
    assert "XSS-1" in listing and "<script>alert(7)" not in listing


# --- a refused page says why, inside the app's own frame ----------------------------------------


@pytest.mark.django_db
def test_it_explains_a_403_inside_the_app_and_keeps_a_404_in_it(settings):
    settings.DEBUG = False  # the error templates are what production serves
    client = Client()
    client.force_login(reviewer())
    response = client.get(reverse("cutouts:export_list"))
    body = response.content.decode()
    assert response.status_code == 403
    assert "Only catalog managers can export images." in body
    assert 'href="/"' in body or reverse("dashboard") in body  # the menu and a way back
    assert "<h1>Not allowed</h1>" in body
    missing = client.get("/catalog/products/999999999/")
    assert missing.status_code == 404 and "<h1>Not found</h1>" in missing.content.decode()

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


# A path that climbs out of /static/ (a scanner's /static/../.env) met Django's
# StaticFilesHandler under runserver, whose SuspiciousFileOperation nothing caught: a 500.
CLIMBS = ["/static/../something", "/static/..%2fmanage.py", "/static/css/../../manage.py"]


def _dev_server_get(path: str) -> tuple[str, bytes]:
    """What ``runserver`` (dev: DEBUG) answers for ``path``: its own WSGI handler, called as
    its server calls it."""
    from django.core.management import get_commands, load_command_class
    from django.test.client import RequestFactory

    command = load_command_class(get_commands()["runserver"], "runserver")
    options = vars(command.create_parser("manage.py", "runserver").parse_args([]))
    handler = command.get_handler(**options)
    environ = RequestFactory()._base_environ(PATH_INFO=path, REQUEST_METHOD="GET")
    answer: dict[str, str] = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = status

    body = b"".join(handler(environ, start_response))
    return answer["status"], body


@pytest.mark.parametrize("path", CLIMBS)
def test_it_answers_a_static_path_climbing_out_404_on_the_dev_server(settings, path):
    settings.DEBUG = True
    status, _ = _dev_server_get(path)
    assert status.startswith("404"), status


def test_it_still_serves_static_files_on_the_dev_server(settings):
    settings.DEBUG = True
    status, body = _dev_server_get("/static/css/cutroom.css")
    assert status.startswith("200") and b":root" in body
    assert _dev_server_get("/static/css/nope.css")[0].startswith("404")


@pytest.mark.parametrize("path", CLIMBS)
def test_it_answers_a_static_path_climbing_out_404_through_the_middleware(settings, path):
    """The dev server's static files come from WhiteNoise's middleware (finders, DEBUG), so
    the test client meets the same path: 404, logged in or not, never the login page."""
    from django.test import Client

    settings.DEBUG = True
    client = Client(raise_request_exception=False)  # its middleware read with DEBUG on
    assert client.get(path).status_code == 404
    assert client.get("/static/css/cutroom.css").status_code == 200

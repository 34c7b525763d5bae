"""Set-up the browser tests share: logging a user in (through the form, or by handing the
browser a session), finished cutouts made by the real pipeline with the fake model, and a
server function slowed down (a big file on S3, a busy machine).

The browser itself is pytest-playwright's: tests/conftest.py's ``browser_type_launch_args``
launches Debian's Chromium (/usr/bin/chromium, headless, --no-sandbox --disable-gpu
--disable-background-networking) once per session for every module here."""

from __future__ import annotations

import io
import time

import pytest
from playwright.sync_api import expect

from catalog.services.assets import asset_ingest
from catalog.services.products import product_create
from cutouts import engine
from cutouts.models import Cutout
from tests.cutouts.conftest import FakeSegmenter
from tests.cutouts.reviewdata import done_cutouts
from tests.factories import PASSWORD


@pytest.fixture
def log_in(live_server):
    """``log_in(page, user)``: through the login form, as a person does; returns once the
    dashboard shows (so the session cookie is set for every later page)."""

    def go(page, user):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        return user

    return go


@pytest.fixture
def session_for(live_server, client):
    """``session_for(page_or_context, user)``: ``user``'s session without the form (tests
    about another page need not pay for the login page each time)."""

    def give(target, user) -> None:
        client.force_login(user)
        context = getattr(target, "context", target)  # a page, or a browser context
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                              "url": live_server.url}])

    return give


@pytest.fixture
def slow_server(monkeypatch):
    """``slow_server(module, name, seconds, when=None)``: the server function ``module.name``
    (called by keywords, looked up on its module) takes ``seconds`` longer, as a big file on S3
    or a busy machine makes it; with ``when`` (given the same keywords), only the calls it
    accepts. Patched from the call on, through the test's ``monkeypatch``."""

    def slow(module, name: str, seconds: float, *, when=None) -> None:
        real = getattr(module, name)

        def late(**kwargs):
            if when is None or when(**kwargs):
                time.sleep(seconds)
            return real(**kwargs)

        monkeypatch.setattr(module, name, late)

    return slow


@pytest.fixture
def make_cutouts(monkeypatch):
    """``make_cutouts([(sku, jpeg bytes, filename), ...])``: one new product per photo, its
    image ingested and cut out once (v1, finished) with the fake model; no broker is asked
    (``apply_async`` does nothing). The fakes stay patched through the test's
    ``monkeypatch``: a test that needs the real engine or broker afterwards calls
    ``monkeypatch.undo()``."""
    from cutouts.tasks import cutout_run_task

    spec = engine.model_spec("u2netp")
    segmenter = FakeSegmenter()

    def make(photos: list[tuple[str, bytes, str]], *, profile_name: str = "fast"
             ) -> list[Cutout]:
        monkeypatch.setattr(engine, "segmenter_for", lambda name: (segmenter, spec))
        monkeypatch.setattr(cutout_run_task, "apply_async", lambda *a, **k: None)
        assets = []
        for sku, data, filename in photos:
            result = asset_ingest(product=product_create(sku=sku), fileobj=io.BytesIO(data),
                                  filename=filename)
            assert result.asset is not None, result.reason
            assets.append(result.asset)
        return done_cutouts(assets, profile_name=profile_name)

    return make

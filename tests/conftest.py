import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls tests make
# around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


def _describe_backends() -> list[str]:
    from django.conf import settings
    from django.core.files.storage import storages
    from django.db import connection

    storage = storages["default"]
    where = getattr(storage, "endpoint_url", None) or getattr(storage, "location", "")
    return [
        f"cutroom database: {connection.vendor} ({connection.settings_dict['NAME']})",
        f"cutroom broker: {settings.CELERY_BROKER_URL.split('@')[-1]}",
        f"cutroom storage: {type(storage).__module__}.{type(storage).__name__} {where}",
    ]


def pytest_report_header(config):
    from tests.run_id import ENV, RUN_ID

    # The photos tests make are seeded per run: this line replays a run's pixels.
    return [*_describe_backends(), f"cutroom test run id: {RUN_ID} (replay: {ENV}={RUN_ID})"]


def _check_services() -> None:
    """Fail the run at once, never skip, when a configured service is unreachable."""
    from django.conf import settings

    from config.health import check_broker

    if not check_broker():
        pytest.exit(f"Broker {settings.CELERY_BROKER_URL} is unreachable", returncode=3)
    if settings.STORAGE_BACKEND == "s3":
        _ensure_bucket()


def _ensure_bucket() -> None:
    import boto3
    from botocore.exceptions import ClientError
    from django.conf import settings

    options = settings.STORAGES["default"]["OPTIONS"]
    client = boto3.client(
        "s3", endpoint_url=options["endpoint_url"], aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"],
        region_name=options["region_name"] or "us-east-1",
    )
    try:
        client.head_bucket(Bucket=options["bucket_name"])
    except ClientError:
        client.create_bucket(Bucket=options["bucket_name"])
    except Exception as exc:
        pytest.exit(f"S3 endpoint {options['endpoint_url']} is unreachable: {exc}", returncode=3)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    _check_services()


@pytest.fixture(scope="session")
def base_url(pytestconfig) -> str | None:
    """pytest-playwright's ``base_url`` with the same value (``--base-url``, else the ini's):
    without pytest-base-url it provides the fixture as an instance method of a plugin class,
    which pytest 9.2 deprecates (PytestRemovedIn10Warning on every browser test session)."""
    return pytestconfig.getoption("--base-url") or pytestconfig.getini("base_url") or None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `python3 dev.py test`, which installs it.")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
        ],
    }


@pytest.fixture
def manager_client(client):
    """The test client logged in as a catalog manager."""
    from tests.factories import manager  # factories need Django set up: not at import

    client.force_login(manager())
    return client


@pytest.fixture
def screenshot(page, request):
    """Save a named screenshot under test-artifacts/screenshots/ (kept by CI)."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = folder / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="session")
def s3_endpoint():
    """A moto S3 server on loopback for tests that need S3 whatever the suite's backend is."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        # A failure, never a skip: CI must not go green without its S3 tests.
        pytest.fail(f"moto[server] is missing ({exc}): install the dev dependencies.")

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_bucket(endpoint: str, prefix: str) -> str:
    """A fresh bucket on ``endpoint`` (unique per call, so tests never share objects)."""
    import time

    import boto3

    bucket = f"{prefix}-{time.monotonic_ns()}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test").create_bucket(
        Bucket=bucket)
    return bucket


@pytest.fixture
def s3_default_storage(settings, s3_endpoint):
    """Point the ``default`` storage alias at a fresh moto bucket; returns a factory taking the
    bucket prefix, optionally another S3Storage subclass path and more storage options."""
    from django.core.files.storage import storages

    def make(prefix: str, backend: str = "storages.backends.s3.S3Storage", **options):
        settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": backend, "OPTIONS": {
            "bucket_name": s3_bucket(s3_endpoint, prefix), "endpoint_url": s3_endpoint,
            "access_key": "test", "secret_key": "test", "region_name": "us-east-1",
            "addressing_style": "path", "default_acl": "private", "file_overwrite": False,
            "location": "media", "signature_version": "s3v4", **options,
        }}}
        return storages["default"]

    return make


@pytest.fixture
def two_models_installed(monkeypatch):
    """Only u2netp and isnet-general-use have their file here, for the check the re-run
    menu uses (engine.model_check; its answer is cached per process)."""
    from cutouts import engine
    from cutouts.imaging.models import ModelError
    from cutouts.selectors.review import rerun_models

    def check(name=None):
        if name not in ("u2netp", "isnet-general-use"):
            raise ModelError(f"model {name!r}: file not found")
        return engine.model_spec(name)

    monkeypatch.setattr(engine, "model_check", check)
    rerun_models.cache_clear()
    yield
    rerun_models.cache_clear()


@pytest.fixture
def webhook_sends(monkeypatch):
    """Webhook delivery ids handed to Celery, in order (nothing reaches a broker)."""
    from catalog import enqueue

    ids: list[int] = []
    monkeypatch.setattr(enqueue, "webhook_deliveries_send",
                        lambda batch, countdown=0: ids.extend(batch))
    return ids


@pytest.fixture
def public_dns(monkeypatch):
    """Host names resolve to a public address (tests have no DNS); IP literals stay as they
    are, so the webhook SSRF guard still sees a loopback one."""
    import socket

    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host.replace(".", "").isdigit() or ":" in host:
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


@pytest.fixture
def storage(settings, tmp_path):
    """A private local storage per test, so file assertions see only this test's writes
    (whatever STORAGE_BACKEND the run uses: a test of the local disk's behaviour asks for it
    before the fixtures that store files)."""
    from django.core.files.storage import storages

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": None},
        },
    }
    yield storages["default"]

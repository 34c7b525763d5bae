import pytest
from django.test import Client

from catalog.services import api_keys as apikeys
from tests.factories import UserFactory, manager, reviewer


class ApiClient:
    """A Django test client that sends an API key on every request."""

    def __init__(self, token: str | None = None, **extra):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        self.headers.update(extra)

    def _call(self, method, path, data=None, *, json=True, headers=None, **kw):
        extra = {**self.headers, **(headers or {})}
        fn = getattr(self.client, method)
        if json and data is not None:
            return fn(path, data, content_type="application/json", **extra, **kw)
        if data is not None:
            return fn(path, data, **extra, **kw)
        return fn(path, **extra, **kw)

    def get(self, path, data=None, **kw):
        return self.client.get(path, data or {}, **{**self.headers, **kw})

    def head(self, path, **kw):
        return self.client.head(path, **{**self.headers, **kw})

    def post(self, path, data=None, **kw):
        return self._call("post", path, data if data is not None else {}, **kw)

    def patch(self, path, data=None, **kw):
        return self._call("patch", path, data, **kw)

    def put(self, path, data=None, **kw):
        return self._call("put", path, data, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)


def key_for(user, scope: str, **kwargs) -> str:
    return apikeys.api_key_create(user=user, name=f"{scope} key", scope=scope, **kwargs).token


@pytest.fixture
def manager_api(db):
    return ApiClient(key_for(manager(), "manager"))


@pytest.fixture
def reviewer_api(db):
    return ApiClient(key_for(reviewer(), "reviewer"))


@pytest.fixture
def readonly_api(db):
    return ApiClient(key_for(manager(), "read_only"))


@pytest.fixture
def anon_api(db):
    return ApiClient()


@pytest.fixture
def norole_user(db):
    return UserFactory()


@pytest.fixture(autouse=True)
def _clear_rate_counters():
    from django.core.cache import cache

    cache.clear()
    yield


from tests.cutouts.conftest import fake_model  # noqa: E402, F401 - the fake ONNX session

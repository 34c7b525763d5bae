import pytest
from django.core.files.storage import storages


@pytest.fixture
def storage(settings, tmp_path):
    """A private local storage per test, so file assertions see only this test's writes."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": None},
        },
    }
    yield storages["default"]


@pytest.fixture
def stored_files(storage, tmp_path):
    """Every file path in storage, relative to its root."""

    def files() -> set[str]:
        root = tmp_path / "media"
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    return files

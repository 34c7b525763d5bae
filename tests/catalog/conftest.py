import pytest


@pytest.fixture
def stored_files(storage, tmp_path):
    """Every file path in storage, relative to its root."""

    def files() -> set[str]:
        root = tmp_path / "media"
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    return files

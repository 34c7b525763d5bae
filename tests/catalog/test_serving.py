"""The one private-file serving policy (catalog.serving) on local disk and on S3 (moto)."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.http import Http404

from catalog import serving


@pytest.fixture
def local(tmp_path, monkeypatch):
    """Local disk whatever the suite's backend is (CI also runs it on S3)."""
    storage = FileSystemStorage(location=str(tmp_path), base_url=None)
    monkeypatch.setattr("catalog.serving.storages", {"default": storage})
    return storage


@pytest.fixture
def stored(local):
    return local.save("serving-test/secret-name-0123.png", ContentFile(b"\x89PNG bytes"))


def test_it_streams_inline_files_without_their_storage_name(stored):
    response = serving.private_file(name=stored, content_type="image/png",
                                    cache=serving.VERSIONED, etag='"e1"')
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\x89PNG bytes"
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == serving.VERSIONED and response["ETag"] == '"e1"'
    assert "Content-Disposition" not in response
    assert "secret-name" not in str(response.headers)


def test_it_streams_downloads_under_the_name_given(stored):
    response = serving.private_file(name=stored, filename="cutout-1-v2.png",
                                    cache=serving.REVALIDATE)
    assert response["Content-Disposition"] == 'attachment; filename="cutout-1-v2.png"'
    assert serving.attachment_header("é.csv") == "attachment; filename*=utf-8''%C3%A9.csv"


def test_it_answers_404_for_a_missing_local_file(local):
    assert not serving.presigns(local)
    with pytest.raises(Http404):
        serving.private_file(name="serving-test/never-stored.png", cache=serving.VERSIONED)


def test_it_redirects_to_a_short_lived_presigned_url_on_s3(s3_default_storage):
    import urllib.request

    storage = s3_default_storage("cutroom-serving")
    name = storage.save("serving-test/file.zip", ContentFile(b"zip bytes"))
    assert serving.presigns(storage)
    response = serving.private_file(name=name, filename="export-1.zip",
                                    cache=serving.REVALIDATE)
    assert response.status_code == 302 and response["Cache-Control"] == serving.SIGNED_REDIRECT
    url = response["Location"]
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=" in url
    with urllib.request.urlopen(url, timeout=10) as fetched:  # noqa: S310 (loopback moto)
        assert fetched.read() == b"zip bytes"
        assert fetched.headers["Content-Disposition"] == 'attachment; filename="export-1.zip"'
    assert serving.presigned_url(alias="default", name=name, seconds=30).count("X-Amz-Expires=30")

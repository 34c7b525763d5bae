"""django-storages against a real S3 API (moto's server), whatever the suite's backend is."""

import urllib.request

import pytest
from django.core.files.base import ContentFile
from storages.backends.s3 import S3Storage

from tests.conftest import s3_bucket


@pytest.fixture
def storage(s3_endpoint):
    return S3Storage(bucket_name=s3_bucket(s3_endpoint, "cutroom-test"),
                     endpoint_url=s3_endpoint, access_key="test",
                     secret_key="test", region_name="us-east-1", addressing_style="path",
                     default_acl="private", querystring_auth=True, querystring_expire=60,
                     file_overwrite=False, location="media",
                     signature_version="s3v4")


def test_it_saves_reads_signs_and_deletes_private_files(storage):
    data = b"\xff\xd8 not really a jpeg"
    name = storage.save("originals/ab/abc.jpg", ContentFile(data))
    assert storage.exists(name)
    assert storage.size(name) == len(data)
    with storage.open(name) as fh:
        assert fh.read() == data
    url = storage.url(name)
    assert "X-Amz-Signature" in url
    with urllib.request.urlopen(url) as response:
        assert response.read() == data
    storage.delete(name)
    assert not storage.exists(name)


def test_it_never_overwrites_an_existing_name(storage):
    first = storage.save("x/same.txt", ContentFile(b"one"))
    second = storage.save("x/same.txt", ContentFile(b"two"))
    assert first != second
    with storage.open(first) as fh:
        assert fh.read() == b"one"

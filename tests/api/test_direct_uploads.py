"""Large files through a presigned S3 PUT, then the same ingest (moto's S3 server)."""


import httpx
import pytest

from catalog.models import ImageAsset
from tests.factories import ProductFactory
from tests.images import product_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def s3_storage(s3_default_storage):
    return s3_default_storage("cutroom-api")


def test_it_ingests_a_file_put_to_a_presigned_url(manager_api, s3_storage):
    product = ProductFactory(sku="DIRECT-1")
    data = product_jpeg(1200, 900, seed=91)
    start = manager_api.post(f"/api/v1/products/{product.pk}/images/direct",
                             {"filename": "big.jpg", "size": len(data)})
    assert start.status_code == 201
    ticket = start.json()
    put = httpx.put(ticket["url"], content=data, headers=ticket["headers"], timeout=30)
    assert put.status_code == 200
    done = manager_api.post(f"/api/v1/products/{product.pk}/images/direct/finish",
                            {"token": ticket["token"]})
    assert done.status_code == 201
    result = done.json()["results"][0]
    assert result["status"] == "stored" and result["image"]["original"]["filename"] == "big.jpg"
    assert ImageAsset.live.filter(product=product).count() == 1
    _, staged = s3_storage.listdir("uploads")
    assert staged == []  # the staging copy is gone
    again = manager_api.post(f"/api/v1/products/{product.pk}/images/direct/finish",
                             {"token": ticket["token"]})
    assert again.status_code == 409


def test_it_refuses_direct_uploads_that_are_too_large_or_foreign(manager_api, s3_storage,
                                                                 settings):
    settings.CUTROOM_MAX_FILE_BYTES = 1000
    product = ProductFactory()
    big = manager_api.post(f"/api/v1/products/{product.pk}/images/direct",
                           {"filename": "a.jpg", "size": 5000})
    assert big.status_code == 422
    assert big.json()["detail"] == "Too large: over the per-file limit of 1,000 bytes."
    ticket = manager_api.post(f"/api/v1/products/{product.pk}/images/direct",
                              {"filename": "a.jpg", "size": 500}).json()
    other = ProductFactory()
    wrong = manager_api.post(f"/api/v1/products/{other.pk}/images/direct/finish",
                             {"token": ticket["token"]})
    assert wrong.status_code == 409 and "another product" in wrong.json()["detail"]


def test_it_refuses_a_hidden_name_before_the_file_is_sent(manager_api, s3_storage):
    product = ProductFactory()
    for name in (".x.jpg", ".@__thumb/x.jpg", "shoot/@eaDir/x.jpg/SYNOFILE_THUMB_M.jpg"):
        start = manager_api.post(f"/api/v1/products/{product.pk}/images/direct",
                                 {"filename": name, "size": 500})
        assert start.status_code == 422, name
        assert start.json()["detail"].startswith("Ignored: a hidden or system file")
    _, staged = s3_storage.listdir("uploads")
    assert staged == []
    plain = manager_api.post(f"/api/v1/products/{product.pk}/images/direct",
                             {"filename": "shoot/x.jpg", "size": 500})
    assert plain.status_code == 201


@pytest.mark.parametrize("name", ["../x.jpg", "shoot/../../x.jpg", "/srv/x.jpg", "C:\\x.jpg"])
def test_it_refuses_a_path_that_climbs_out_before_the_file_is_sent(manager_api, s3_storage,
                                                                    name):
    # the finish would refuse it (asset_ingest), in the words a folder upload refuses it in
    from catalog.ingest.archives import unsafe_name_reason

    product = ProductFactory()
    start = manager_api.post(f"/api/v1/products/{product.pk}/images/direct",
                             {"filename": name, "size": 500})
    assert start.status_code == 422
    assert start.json()["detail"] == unsafe_name_reason(name)
    assert "path traversal" in start.json()["detail"]


def test_it_says_to_use_multipart_on_local_storage(manager_api, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    from catalog import direct_uploads

    # CI's default storage is S3, where direct uploads work: stand in the local one.
    monkeypatch.setattr(direct_uploads, "_storage", lambda: FileSystemStorage())
    product = ProductFactory()
    response = manager_api.post(f"/api/v1/products/{product.pk}/images/direct",
                                {"filename": "a.jpg", "size": 10})
    assert response.status_code == 409
    assert "need S3 storage" in response.json()["detail"]


def test_it_refuses_and_discards_a_file_whose_size_is_not_the_declared_one(manager_api,
                                                                          s3_storage):
    product = ProductFactory(sku="DIRECT-2")
    data = product_jpeg(800, 600, seed=92)
    ticket = manager_api.post(f"/api/v1/products/{product.pk}/images/direct",
                              {"filename": "big.jpg", "size": len(data) - 100}).json()
    # moto, like some S3-compatible stores, does not hold the PUT to the signed length
    put = httpx.put(ticket["url"], content=data, timeout=30)
    assert put.status_code == 200
    done = manager_api.post(f"/api/v1/products/{product.pk}/images/direct/finish",
                            {"token": ticket["token"]})
    assert done.status_code == 409
    assert done.json()["detail"] == (
        f"The uploaded file is {len(data):,} bytes, not the {len(data) - 100:,} declared when "
        "the upload started; it was discarded. Start again with the file's exact size.")
    assert not ImageAsset.objects.filter(product=product).exists()
    assert s3_storage.listdir("uploads") == ([], [])  # the stray staging copy is gone


def test_it_replaces_a_taken_position_from_a_direct_upload_when_asked(manager_api, s3_storage):
    product = ProductFactory(sku="DIRECT-RESHOOT")
    url = f"/api/v1/products/{product.pk}/images/direct"

    def finish(name: str, seed: int, **fields) -> httpx.Response:
        data = product_jpeg(900, 700, seed=seed)
        ticket = manager_api.post(url, {"filename": name, "size": len(data)}).json()
        httpx.put(ticket["url"], content=data, headers=ticket["headers"], timeout=30)
        return manager_api.post(f"{url}/finish", {"token": ticket["token"], **fields})

    first = finish("old.jpg", 1, position="MAIN")
    assert first.status_code == 201
    assert finish("refused.jpg", 2, position="MAIN").status_code == 422
    replaced = finish("new.jpg", 3, position="MAIN", replace=True)
    assert replaced.status_code == 201
    assert replaced.json()["results"][0]["replaced"] == [first.json()["results"][0]["image"]["id"]]
    assert list(ImageAsset.live.filter(product=product).values_list(
        "original_filename", "position")) == [("new.jpg", "MAIN")]

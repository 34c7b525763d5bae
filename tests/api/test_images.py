import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import ImageAsset
from catalog.services.assets import asset_ingest
from tests.factories import ImageAssetFactory, ProductFactory
from tests.images import product_jpeg

pytestmark = pytest.mark.django_db


def _file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def test_it_stores_uploads_through_the_ingest_service(manager_api):
    product = ProductFactory(sku="IMG-1")
    response = manager_api.post(
        f"/api/v1/products/{product.pk}/images",
        {"file": [_file("a.jpg", product_jpeg(seed=1)), _file("b.jpg", product_jpeg(seed=2))]},
        json=False)
    assert response.status_code == 201
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["stored", "stored"]
    assert results[0]["image"]["original"]["width"] == 800
    assert results[0]["image"]["working"]["width"] == 800
    assert ImageAsset.live.filter(product=product).count() == 2


def test_it_reports_duplicates_and_refusals_in_the_uis_words(manager_api):
    product = ProductFactory(sku="IMG-2")
    data = product_jpeg(seed=3)
    url = f"/api/v1/products/{product.pk}/images"
    assert manager_api.post(url, {"file": _file("a.jpg", data)}, json=False).status_code == 201
    duplicate = manager_api.post(url, {"file": _file("again.jpg", data)}, json=False)
    assert duplicate.status_code == 200
    expected = asset_ingest(product=product, fileobj=io.BytesIO(data),
                            filename="again.jpg").reason
    assert duplicate.json()["results"][0]["reason"] == expected
    garbage = b"not an image at all" * 10
    refused = manager_api.post(url, {"file": _file("x.jpg", garbage)}, json=False)
    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    ui_reason = asset_ingest(product=product, fileobj=io.BytesIO(garbage),
                             filename="x.jpg").reason
    # the field is the form field at fault (`file`), the file named in the message
    assert refused.json()["errors"] == [{"field": "file", "message": f"x.jpg: {ui_reason}"}]


def test_it_refuses_a_hidden_file_in_the_words_the_upload_page_ignores_it_in(manager_api):
    # "the same checks as the browser upload": the imports' rule for hidden and system files
    from catalog.ingest.archives import IGNORED_REASON

    product = ProductFactory(sku="IMG-DOT")
    response = manager_api.post(f"/api/v1/products/{product.pk}/images",
                                {"file": _file(".IMG-DOT_MAIN.jpg", product_jpeg(seed=4))},
                                json=False)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "file", "message": f".IMG-DOT_MAIN.jpg: {IGNORED_REASON}"}]
    assert not ImageAsset.objects.exists()


def test_it_warns_that_an_image_past_pt08_shares_pt08(manager_api):
    product = ProductFactory(sku="IMG-FULL")
    for position in ["MAIN"] + [f"PT0{n}" for n in range(1, 9)]:
        ImageAssetFactory(product=product, position=position)
    response = manager_api.post(f"/api/v1/products/{product.pk}/images",
                                {"file": _file("tenth.jpg", product_jpeg(seed=9))}, json=False)
    assert response.status_code == 201
    result = response.json()["results"][0]
    assert result["image"]["position"] == "PT08"
    assert any("No free position left for IMG-FULL" in w and "shares PT08" in w
               for w in result["warnings"]), result["warnings"]


def test_it_needs_a_file(manager_api):
    product = ProductFactory()
    response = manager_api.post(f"/api/v1/products/{product.pk}/images", {}, json=False)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"


def test_it_lists_images_and_their_metadata(manager_api, readonly_api):
    product = ProductFactory(sku="IMG-3")
    manager_api.post(f"/api/v1/products/{product.pk}/images",
                     {"file": _file("a.jpg", product_jpeg(seed=4)), "position": "PT01"},
                     json=False)
    listed = readonly_api.get(f"/api/v1/products/{product.pk}/images").json()
    assert [i["position"] for i in listed] == ["PT01"]
    one = readonly_api.get(f"/api/v1/images/{listed[0]['id']}").json()
    assert one["original"]["format"] == "JPEG" and one["original"]["filename"] == "a.jpg"
    assert one["product_sku"] == "IMG-3"
    assert readonly_api.get("/api/v1/images/999999").status_code == 404


def test_it_keeps_uploads_to_roles_that_may_upload(reviewer_api):
    product = ProductFactory()
    response = reviewer_api.post(f"/api/v1/products/{product.pk}/images",
                                 {"file": _file("a.jpg", product_jpeg(seed=5))}, json=False)
    assert response.status_code == 403
    assert not ImageAsset.objects.filter(product=product).exists()


def test_it_never_stores_an_idempotent_upload_twice(manager_api):
    product = ProductFactory()
    url = f"/api/v1/products/{product.pk}/images"
    data = product_jpeg(seed=6)
    headers = {"HTTP_IDEMPOTENCY_KEY": "upload-1"}
    first = manager_api.post(url, {"file": _file("a.jpg", data)}, json=False, headers=headers)
    again = manager_api.post(url, {"file": _file("a.jpg", data)}, json=False, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["results"][0]["status"] == "stored"
    assert ImageAsset.objects.filter(product=product).count() == 1


def test_it_refuses_a_position_too_long_instead_of_cutting_it(manager_api):
    product = ProductFactory()
    response = manager_api.post(f"/api/v1/products/{product.pk}/images",
                                {"file": _file("a.jpg", product_jpeg(seed=7)),
                                 "position": "PT01-EXTRA"}, json=False)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "position", "message": "String should have at most 8 characters"}]
    assert not ImageAsset.objects.filter(product=product).exists()


def test_it_deletes_an_image_as_the_browser_does(manager_api, reviewer_api):
    product = ProductFactory()
    asset, other = ImageAssetFactory(product=product), ImageAssetFactory()
    url = f"/api/v1/products/{product.pk}/images/{asset.pk}"
    assert reviewer_api.delete(url).status_code == 403
    # an image of another product is not found under this one
    assert manager_api.delete(
        f"/api/v1/products/{product.pk}/images/{other.pk}").status_code == 404
    deleted = manager_api.delete(url)
    assert deleted.status_code == 204 and deleted.content == b""
    assert "Content-Type" not in deleted
    assert not ImageAsset.live.filter(pk=asset.pk).exists()
    assert ImageAsset.objects.filter(pk=asset.pk).exists()  # soft: kept until purge
    assert manager_api.get(f"/api/v1/images/{asset.pk}").status_code == 404
    assert manager_api.get(f"/api/v1/products/{product.pk}/images").json() == []
    assert manager_api.delete(url).status_code == 404


def test_it_refuses_a_file_for_a_position_another_image_holds(manager_api):
    product = ProductFactory(sku="IMG-TAKEN")
    url = f"/api/v1/products/{product.pk}/images"
    manager_api.post(url, {"file": _file("a.jpg", product_jpeg(seed=8)), "position": "PT01"},
                     json=False)
    clash = manager_api.post(url, {"file": _file("b.jpg", product_jpeg(seed=9)),
                                   "position": "PT01"}, json=False)
    assert clash.status_code == 422
    [error] = clash.json()["errors"]
    # the request's `position` is at fault; the message names the file
    assert error["field"] == "position"
    assert error["message"].startswith("b.jpg: Position PT01 of IMG-TAKEN is already taken "
                                       "by a.jpg")
    assert ImageAsset.objects.filter(product=product).count() == 1


def test_it_replaces_the_image_at_a_position_when_asked(manager_api):
    product = ProductFactory(sku="IMG-RESHOOT")
    url = f"/api/v1/products/{product.pk}/images"
    first = manager_api.post(url, {"file": _file("old.jpg", product_jpeg(seed=10)),
                                   "position": "MAIN"}, json=False).json()["results"][0]
    old_id = first["image"]["id"]
    # the same content again is a duplicate, even with replace: nothing is deleted
    same = manager_api.post(url, {"file": _file("again.jpg", product_jpeg(seed=10)),
                                  "position": "MAIN", "replace": "true"}, json=False)
    assert (same.status_code, same.json()["results"][0]["replaced"]) == (200, [])
    # two new files for one position in one request: the first replaces, the second clashes
    answer = manager_api.post(url, {"file": [_file("new.jpg", product_jpeg(seed=11)),
                                             _file("newer.jpg", product_jpeg(seed=12))],
                                    "position": "MAIN", "replace": "true"}, json=False)
    assert answer.status_code == 201
    new, newer = answer.json()["results"]
    assert (new["status"], new["replaced"], new["image"]["position"]) == (
        "stored", [old_id], "MAIN")
    assert any(w.startswith(f"Replaced MAIN of IMG-RESHOOT (old.jpg, asset #{old_id}, "
                            "uploaded ") for w in new["warnings"])
    assert (newer["status"], newer["code"], newer["replaced"]) == (
        "rejected", "position_taken", [])
    assert "already taken by new.jpg" in newer["reason"]
    listed = manager_api.get(url).json()
    assert [(i["id"], i["original"]["filename"]) for i in listed] == [
        (new["image"]["id"], "new.jpg")]
    assert manager_api.get(f"/api/v1/images/{old_id}").status_code == 404
    # without the flag a taken position is refused as before
    refused = manager_api.post(url, {"file": _file("later.jpg", product_jpeg(seed=13)),
                                     "position": "MAIN"}, json=False)
    assert refused.status_code == 422


def test_it_names_position_as_the_field_of_an_unknown_position(manager_api):
    product = ProductFactory(sku="IMG-Z")
    refused = manager_api.post(f"/api/v1/products/{product.pk}/images",
                               {"file": _file("a.jpg", product_jpeg(seed=1)),
                                "position": "ZZZ"}, json=False)
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "position"
    assert error["message"].startswith("a.jpg: Unknown position 'ZZZ'")


def test_it_names_file_for_each_file_refused_for_itself(manager_api):
    product = ProductFactory(sku="IMG-T")
    refused = manager_api.post(f"/api/v1/products/{product.pk}/images", {
        "file": [_file("bad.jpg", b"not an image" * 20), _file("cut.jpg", b"\xff\xd8\xff")]},
        json=False)
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert [e["field"] for e in errors] == ["file", "file"]
    assert [e["message"].split(": ", 1)[0] for e in errors] == ["bad.jpg", "cut.jpg"]


def test_it_names_position_for_a_file_refused_for_a_taken_position(manager_api):
    product = ProductFactory(sku="IMG-T")
    ImageAssetFactory(product=product, position="MAIN")
    refused = manager_api.post(f"/api/v1/products/{product.pk}/images", {
        "file": _file("b.jpg", product_jpeg(seed=2)), "position": "MAIN"}, json=False)
    [error] = refused.json()["errors"]
    assert error["field"] == "position"
    assert error["message"].startswith("b.jpg: Position MAIN of IMG-T is already taken")


@pytest.mark.parametrize("value", ["yes", "on", "1", "maybe"])
def test_it_refuses_a_replace_flag_that_is_not_true_or_false(manager_api, value):
    product = ProductFactory(sku="IMG-R")
    ImageAssetFactory(product=product, position="MAIN")
    refused = manager_api.post(f"/api/v1/products/{product.pk}/images", {
        "file": _file("new.jpg", product_jpeg(seed=4)), "position": "MAIN",
        "replace": value}, json=False)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["replace"]
    assert ImageAsset.live.filter(product=product).count() == 1  # nothing replaced


def test_it_still_takes_replace_true_and_false(manager_api):
    product = ProductFactory(sku="IMG-S")
    url = f"/api/v1/products/{product.pk}/images"
    first = manager_api.post(url, {"file": _file("a.jpg", product_jpeg(seed=5)),
                                   "position": "MAIN", "replace": "false"}, json=False)
    assert first.status_code == 201
    again = manager_api.post(url, {"file": _file("b.jpg", product_jpeg(seed=6)),
                                   "position": "MAIN", "replace": "True"}, json=False)
    assert again.status_code == 201 and again.json()["results"][0]["replaced"]


def test_it_takes_only_a_json_boolean_for_a_direct_uploads_replace(manager_api):
    product = ProductFactory(sku="IMG-D")
    refused = manager_api.post(f"/api/v1/products/{product.pk}/images/direct/finish",
                               {"token": "x", "replace": "yes"})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["replace"]

"""The multipart upload's `path`: one per `file`, read as the browser's folder upload reads
the `path` it sends beside each file (hidden folders at any depth, traversal), since a
multipart file name carries no folders."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.ingest import archives
from catalog.models import ImageAsset
from tests.factories import ProductFactory
from tests.images import product_jpeg

pytestmark = pytest.mark.django_db


def _file(name: str, seed: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, product_jpeg(seed=seed), content_type="image/jpeg")


def _upload(api, product, files, paths=None):
    data = {"file": files}
    if paths is not None:
        data["path"] = paths
    return api.post(f"/api/v1/products/{product.pk}/images", data, json=False)


def test_it_stores_a_nested_folder_tree_under_the_files_names(manager_api):
    product = ProductFactory(sku="TREE-1")
    response = _upload(manager_api, product,
                       [_file("front.jpg", 1), _file("back.jpg", 2), _file("loose.jpg", 3)],
                       ["shoot/TREE-1/front.jpg", "shoot/TREE-1/angles/back.jpg", ""])
    assert response.status_code == 201, response.json()
    results = response.json()["results"]
    assert [(r["status"], r["filename"], r["path"]) for r in results] == [
        ("stored", "front.jpg", "shoot/TREE-1/front.jpg"),
        ("stored", "back.jpg", "shoot/TREE-1/angles/back.jpg"),
        ("stored", "loose.jpg", "")]
    # the image keeps its file's name, as from the product page's folder drop
    assert sorted(ImageAsset.live.filter(product=product)
                  .values_list("original_filename", flat=True)) == [
        "back.jpg", "front.jpg", "loose.jpg"]


def test_it_tells_apart_files_of_one_name_from_two_folders(manager_api):
    # the answer names each by its path; both are stored (this endpoint has no manifest:
    # every file goes to the product of the URL)
    product = ProductFactory(sku="TWIN-1")
    response = _upload(manager_api, product, [_file("x.jpg", 4), _file("x.jpg", 5)],
                       ["a/x.jpg", "b/x.jpg"])
    assert response.status_code == 201
    assert [(r["path"], r["status"]) for r in response.json()["results"]] == [
        ("a/x.jpg", "stored"), ("b/x.jpg", "stored")]


@pytest.mark.parametrize("hidden", ["shoot/.@__thumb/IMG_1.jpg", "@eaDir/IMG_1.jpg",
                                    "shoot/@eaDir/IMG_1.jpg/IMG_1.jpg",
                                    "__MACOSX\\shoot\\IMG_1.jpg", ".thumbs/IMG_1.jpg"])
def test_it_refuses_a_file_in_a_hidden_folder_as_a_folder_upload_ignores_it(manager_api,
                                                                              hidden):
    # before, the folder part was lost and @eaDir/IMG_1.jpg was stored as IMG_1.jpg (qa33b L3)
    product = ProductFactory(sku="HID-1")
    assert archives.entry_name_problem(hidden).kind == archives.NAME_IGNORED
    response = _upload(manager_api, product, [_file("IMG_1.jpg", 6), _file("IMG_2.jpg", 7)],
                       [hidden, "shoot/IMG_2.jpg"])
    assert response.status_code == 201
    ignored, stored = response.json()["results"]
    assert (ignored["status"], ignored["code"], ignored["reason"], ignored["path"]) == (
        "rejected", archives.NAME_IGNORED, archives.IGNORED_REASON, hidden)
    assert stored["status"] == "stored"
    assert list(ImageAsset.objects.values_list("original_filename", flat=True)) == ["IMG_2.jpg"]


@pytest.mark.parametrize("unsafe", ["../IMG_1.jpg", "shoot/../../IMG_1.jpg",
                                    ".thumbs/../IMG_1.jpg", "/srv/shoot/IMG_1.jpg",
                                    "C:\\shoot\\IMG_1.jpg", "..\\IMG_1.jpg"])
def test_it_refuses_a_path_that_climbs_out_in_a_folder_uploads_words(manager_api, unsafe):
    product = ProductFactory(sku="TRAV-1")
    response = _upload(manager_api, product, [_file("IMG_1.jpg", 8)], [unsafe])
    assert response.status_code == 422
    # the words a ZIP, a server folder and a browser session refuse the path in
    problem = archives.entry_name_problem(unsafe)
    assert problem.kind == archives.NAME_UNSAFE
    assert "path traversal" in problem.reason
    assert response.json()["errors"] == [
        {"field": "file", "message": f"{unsafe}: {problem.reason}"}]
    assert not ImageAsset.objects.exists()


def test_it_refuses_paths_that_do_not_line_up_with_the_files(manager_api):
    product = ProductFactory(sku="ALIGN-1")
    files = [_file("a.jpg", 9), _file("b.jpg", 10)]
    too_few = _upload(manager_api, product, files, ["shoot/a.jpg"])
    assert too_few.status_code == 422
    assert too_few.json()["errors"][0]["field"] == "path"
    assert "2 file(s), 1 path(s)" in too_few.json()["errors"][0]["message"]
    # swapped: each file would be judged by the other's folders
    swapped = _upload(manager_api, product, [_file("a.jpg", 9), _file("b.jpg", 10)],
                      ["shoot/b.jpg", "shoot/a.jpg"])
    assert swapped.status_code == 422
    assert swapped.json()["errors"][0]["field"] == "path"
    assert "does not end with the name of its file, 'a.jpg'" in \
        swapped.json()["errors"][0]["message"]
    too_long = _upload(manager_api, product, [_file("a.jpg", 9)],
                       ["d/" * archives.MAX_PATH_CHARS + "a.jpg"])
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "path"
    assert not ImageAsset.objects.exists()



def test_it_names_a_file_sent_with_a_folderless_path_by_its_name_alone(manager_api):
    # the answer's `path` is the result's own (``IngestResult.path``): one that names no
    # folder is the file's name, which `filename` already gives
    product = ProductFactory(sku="FLAT-1")
    response = _upload(manager_api, product, [_file("x.jpg", 11), _file("y.jpg", 12)],
                       ["x.jpg", "shoot\\y.jpg"])
    assert response.status_code == 201
    assert [(r["filename"], r["path"]) for r in response.json()["results"]] == [
        ("x.jpg", ""), ("y.jpg", "shoot\\y.jpg")]

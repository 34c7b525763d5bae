"""POST /exports: approved_since takes a day, and the folder is validated as the form does."""

import pytest

from cutouts.models import ExportJob
from tests.cutouts.export_helpers import approved_cutout
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_it_refuses_a_date_time_for_approved_since_naming_the_field_and_the_format(
        manager_api):
    approved_cutout(product=ProductFactory(sku="DAY-1"))
    for value in ("2026-12-01T10:00:00Z", "2026-12-01T00:00:00Z", "01/12/2026"):
        response = manager_api.post("/api/v1/exports", {"presets": ["amazon_main"],
                                                        "approved_since": value})
        assert response.status_code == 422, value
        body = response.json()
        [error] = body["errors"]
        assert error["field"] == "approved_since"
        assert error["message"] == (f"Give a day as YYYY-MM-DD (e.g. 2026-12-01), not "
                                    f"'{value}': approved_since filters by the day of "
                                    "approval, not a time.")
        assert "Datetimes provided to dates" not in body["detail"]
    assert not ExportJob.objects.exists()
    # a day is taken as before
    created = manager_api.post("/api/v1/exports", {"presets": ["amazon_main"],
                                                   "approved_since": "2020-01-01"})
    assert created.status_code == 201, created.json()
    assert created.json()["filters"]["approved_since"] == "2020-01-01"


@pytest.mark.parametrize(("folder", "words"), [
    ("/tmp/evil", "'/tmp/evil' is an absolute path"),
    ("C:/feeds", "'C:/feeds' is an absolute path"),
    ("feeds/../../etc", "cannot step up or stay put with '..'"),
])
def test_it_refuses_an_absolute_or_climbing_folder(manager_api, folder, words):
    approved_cutout(product=ProductFactory(sku="ABS-1"))
    response = manager_api.post("/api/v1/exports", {
        "presets": ["amazon_main"], "destination": "folder", "folder": folder})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "folder" and words in error["message"]
    assert not ExportJob.objects.exists()


def test_it_refuses_a_folder_given_with_a_zip_download(manager_api):
    approved_cutout(product=ProductFactory(sku="ZIPF-1"))
    response = manager_api.post("/api/v1/exports", {"presets": ["amazon_main"],
                                                    "folder": "spring/amazon"})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "folder"
    assert "only used when the destination is 'folder'" in error["message"]
    assert not ExportJob.objects.exists()


def test_it_exports_to_a_folder_and_says_so(manager_api):
    import uuid

    approved_cutout(product=ProductFactory(sku="APIF-1"))
    name = f"api-folder-{uuid.uuid4().hex[:8]}"  # export storage outlives the test
    created = manager_api.post("/api/v1/exports", {
        "presets": ["amazon_main"], "destination": "folder", "folder": name + "/"})
    assert created.status_code == 201, created.json()
    assert (created.json()["destination"], created.json()["folder"]) == ("folder", name)
    job = ExportJob.objects.get()
    assert (job.destination, job.folder) == ("folder", name)
    listed = manager_api.get(f"/api/v1/exports/{job.pk}").json()
    assert (listed["destination"], listed["folder"]) == ("folder", name)


def test_it_refuses_an_export_of_nothing_in_words_that_name_both_ways(manager_api):
    response = manager_api.post("/api/v1/exports", {"presets": [], "specs": []})
    assert response.status_code == 422
    assert response.json()["errors"] == [{
        "field": "presets", "message": "Pick at least one preset or write a custom spec: "
                                       "without one there is nothing to render."}]

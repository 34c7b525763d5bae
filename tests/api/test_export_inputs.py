"""POST /exports and GET /exports inputs: approved_since takes a day, the SKU list and the folder
are validated as the form does (also against the folders of other exports), unknown query
parameters are refused, and files shipped despite failing compliance are counted."""

import pytest

from cutouts.models import ExportJob, Preset
from cutouts.tasks import export_job_run_task
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


@pytest.mark.parametrize("skus", [[""], ["  "], [", ;", "\t"]])
def test_it_refuses_a_sku_list_holding_no_sku(manager_api, skus):
    # a blank cell from a PIM used to export every product (201)
    approved_cutout(product=ProductFactory(sku="BLANK-1"))
    response = manager_api.post("/api/v1/exports", {"presets": ["amazon_main"],
                                                    "skus": skus})
    assert response.status_code == 422, response.json()
    [error] = response.json()["errors"]
    assert error["field"] == "skus"
    assert "holds no SKU" in error["message"]
    assert not ExportJob.objects.exists()
    # no list at all is still every product
    assert manager_api.post("/api/v1/exports", {"presets": ["amazon_main"]}).status_code == 201


def test_it_refuses_unknown_query_parameters_of_the_export_list(manager_api):
    response = manager_api.get("/api/v1/exports", {"foo": "1", "stauts": "failed"})
    assert response.status_code == 422
    body = response.json()
    assert [e["field"] for e in body["errors"]] == ["foo", "stauts"]
    assert "GET /exports takes status, dry_run, cursor, limit; unknown: foo, stauts." \
        in body["detail"]
    assert manager_api.get("/api/v1/exports", {"status": "done", "dry_run": "false",
                                               "limit": "5"}).status_code == 200


@pytest.mark.parametrize(("first", "second", "words"), [
    ("spring/amazon", "spring/amazon/amazon_main", "lies inside 'spring/amazon'"),
    ("spring/amazon", "spring", "contains 'spring/amazon'"),
    ("spring/amazon", "Spring/Amazon", "already holds an export ('spring/amazon' ignoring case)"),
    ("race/x", "race/x", "already holds an export"),
])
def test_it_refuses_a_folder_that_is_in_or_around_another_exports_folder(
        manager_api, first, second, words):
    approved_cutout(product=ProductFactory(sku="FOLD-1", asin="B0FOLD0001"))
    body = {"presets": ["amazon_main"], "destination": "folder"}
    # the first is queued, not run: nothing is in storage yet (back-to-back requests)
    assert manager_api.post("/api/v1/exports", {**body, "folder": first}).status_code == 201
    response = manager_api.post("/api/v1/exports", {**body, "folder": second})
    assert response.status_code == 422, response.json()
    [error] = response.json()["errors"]
    assert error["field"] == "folder" and words in error["message"], error
    assert ExportJob.objects.count() == 1
    # a failed (or cancelled) export leaves nothing in its folder: the folder is free again
    ExportJob.objects.update(status="failed")
    assert manager_api.post("/api/v1/exports", {**body, "folder": second}).status_code == 201


def test_it_counts_the_files_exported_despite_failing_compliance(manager_api):
    Preset.objects.create(
        name="too_small", label="Too small", naming="{sku}.{ext}",
        spec="trim|fill-85|square-400|bg-ffffff|format-jpeg|quality-85|srgb",
        rules={"background": "ffffff", "min_long_side": 1000, "formats": ["jpeg"]})
    approved_cutout(product=ProductFactory(sku="FAIL-1"))
    created = manager_api.post("/api/v1/exports", {"presets": ["too_small"],
                                                   "include_failing": True}).json()
    assert export_job_run_task(created["id"]) == "done"
    job = manager_api.get(f"/api/v1/exports/{created['id']}").json()
    # it said "1 file(s) exported, 0 excluded" with nothing on the failure
    assert (job["exported_count"], job["failed_count"], job["failing_included_count"]) == \
        (1, 0, 1)
    assert job["message"] == "1 file(s) exported (1 despite failing compliance), 0 excluded."

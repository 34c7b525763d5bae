"""QA 2026-12-03 (e): POST /exports refuses a SKU list of blanks and a folder another export
owns; GET /exports refuses unknown query parameters; failing files shipped are counted."""

import pytest

from cutouts.models import ExportJob, Preset
from cutouts.tasks import export_job_run_task
from tests.cutouts.export_helpers import approved_cutout
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


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

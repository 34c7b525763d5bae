"""POST /exports warns as the export form does before it starts; the manifest names the image."""

import pytest

from cutouts import tasks as cutout_tasks
from cutouts.selectors.export import export_naming_gaps, preset_resolve
from tests.cutouts.export_helpers import approved_cutout
from tests.factories import ProductFactory


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(cutout_tasks.export_job_run_task, "delay", lambda *a, **k: None)


def test_it_warns_when_selected_products_lack_the_gtin_walmart_names_files_by(manager_api):
    approved_cutout(product=ProductFactory(sku="GT-1", gtin="4006381333931"))
    approved_cutout(product=ProductFactory(sku="GT-2"))
    approved_cutout(product=ProductFactory(sku="GT-3", asin="B0GT300001"))
    created = manager_api.post("/api/v1/exports", {"presets": ["walmart", "amazon_main"],
                                                   "skus": ["GT-1", "gt-2", "GT-3"]})
    assert created.status_code == 201  # started anyway, as the form's "Start anyway"
    message = ("Walmart files are named by GTIN: 2 of 3 selected product(s) have none "
               "(GT-2, GT-3); their images will be excluded from Walmart.")
    assert created.json()["warnings"] == [{
        "code": "naming-gap", "message": message, "preset": "walmart", "identifier": "gtin",
        "count": 2, "total": 3, "skus": ["GT-2", "GT-3"]}]
    # the form's words, from the one selector the form uses
    gaps = export_naming_gaps(presets=preset_resolve(names=["walmart", "amazon_main"]))
    assert [g.message for g in gaps] == [message]


def test_it_gives_an_empty_warning_list_when_every_product_can_be_named(manager_api):
    approved_cutout(product=ProductFactory(sku="GT-4", gtin="4006381333931"))
    created = manager_api.post("/api/v1/exports", {"presets": ["walmart"]})
    assert created.status_code == 201 and created.json()["warnings"] == []
    # a read of the export has no warnings field: they are said once, when it is created
    assert "warnings" not in manager_api.get(f"/api/v1/exports/{created.json()['id']}").json()


def test_it_names_the_image_of_each_manifest_row(manager_api):
    product = ProductFactory(sku="QA001")  # no GTIN: both images are excluded from Walmart
    main = approved_cutout(product=product, position="MAIN")
    back = approved_cutout(product=product, position="PT01")
    job_id = manager_api.post("/api/v1/exports", {"presets": ["walmart"]}).json()["id"]
    assert cutout_tasks.export_job_run_task.run(job_id) == "done"
    rows = manager_api.get(f"/api/v1/exports/{job_id}/manifest").json()
    assert sorted((r["position"], r["asset_id"]) for r in rows) == [
        ("MAIN", main.asset_id), ("PT01", back.asset_id)]


def test_it_gives_no_file_size_or_hash_for_a_manifest_row_not_in_the_zip(manager_api):
    approved_cutout(product=ProductFactory(sku="QA002"), position="MAIN")  # no GTIN
    job_id = manager_api.post("/api/v1/exports", {"presets": ["walmart"]}).json()["id"]
    assert cutout_tasks.export_job_run_task.run(job_id) == "done"
    [row] = manager_api.get(f"/api/v1/exports/{job_id}/manifest").json()
    assert row["compliance"].startswith("not exported:")
    assert (row["file"], row["width"], row["height"], row["bytes"], row["sha256"]) == (
        "", None, None, None, "")
    assert row["planned_file"] == "" and row["position"] == "MAIN"  # it could not be named

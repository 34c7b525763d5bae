"""POST /exports warns as the export form does before it starts; the manifest names the image."""

import pytest

from cutouts import tasks as cutout_tasks
from cutouts.selectors.export import export_naming_gaps, preset_resolve
from tests.cutouts.export_helpers import MARKET_PHOTO, approved_cutout
from tests.factories import ProductFactory


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(cutout_tasks.export_job_run_task, "delay", lambda *a, **k: None)


def test_it_warns_when_selected_products_lack_the_gtin_walmart_names_files_by(manager_api):
    approved_cutout(product=ProductFactory(sku="GT-1", gtin="4006381333931"), size=MARKET_PHOTO)
    approved_cutout(product=ProductFactory(sku="GT-2"), size=MARKET_PHOTO)
    approved_cutout(product=ProductFactory(sku="GT-3", asin="B0GT300001"), size=MARKET_PHOTO)
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
    # a photo no preset enlarges past 2x (a smaller one is warned of: "will look soft")
    approved_cutout(product=ProductFactory(sku="GT-4", gtin="4006381333931"), size=MARKET_PHOTO)
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
    assert row["status"] == "not_exported"
    assert (row["file"], row["width"], row["height"], row["bytes"], row["sha256"]) == (
        "", None, None, None, "")
    assert row["planned_file"] == "" and row["position"] == "MAIN"  # it could not be named


def _never_cut(sku: str):
    from catalog.models import ImageAsset
    from cutouts.services.status import assets_status_sync
    from tests.factories import ImageAssetFactory

    asset = ImageAssetFactory(product=ProductFactory(sku=sku), position="MAIN")
    assets_status_sync(asset_ids=[asset.pk])
    return ImageAsset.objects.get(pk=asset.pk)


def test_it_warns_of_selected_skus_without_an_approved_image(manager_api):
    _never_cut("DOLL-011")
    approved_cutout(product=ProductFactory(sku="TOOL-001"))
    created = manager_api.post("/api/v1/exports", {"presets": ["ebay"],
                                                   "skus": ["DOLL-011", "TOOL-001"]})
    assert created.status_code == 201
    [warning] = created.json()["warnings"]
    assert (warning["code"], warning["preset"], warning["count"], warning["total"],
            warning["skus"]) == ("not-approved", "", 1, 2, ["DOLL-011"])
    assert "DOLL-011 has no approved image; no cutout: DOLL-011 MAIN" in warning["message"]
    assert cutout_tasks.export_job_run_task.run(created.json()["id"]) == "done"
    rows = manager_api.get(f"/api/v1/exports/{created.json()['id']}/manifest").json()
    assert [(r["sku"], r["compliance"]) for r in rows if not r["file"]] == [
        ("DOLL-011", "not approved: no cutout")]


def test_it_takes_skus_separated_by_spaces_tabs_or_semicolons_in_one_item(manager_api):
    approved_cutout(product=ProductFactory(sku="TOOL-001"))
    approved_cutout(product=ProductFactory(sku="PLUSH-002"))
    created = manager_api.post("/api/v1/exports", {"presets": ["ebay"],
                                                   "skus": ["TOOL-001 PLUSH-002\t;"]})
    assert created.status_code == 201, created.json()
    assert len(created.json()["filters"]["product_ids"]) == 2


def test_it_names_the_skus_field_when_nothing_selected_is_approved(manager_api):
    _never_cut("DOLL-012")
    refused = manager_api.post("/api/v1/exports", {"presets": ["ebay"], "skus": ["DOLL-012"]})
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "skus" and "no cutout: DOLL-012 MAIN" in error["message"]


def test_each_manifest_row_names_its_spec(manager_api):
    from cutouts.selectors.export import spec_preset

    approved_cutout(product=ProductFactory(sku="SPEC-4"))
    spec = "trim|fill-85|square-300|bg-ffffff|format-jpeg"
    job_id = manager_api.post("/api/v1/exports", {"specs": [spec]}).json()["id"]
    assert cutout_tasks.export_job_run_task.run(job_id) == "done"
    [row] = manager_api.get(f"/api/v1/exports/{job_id}/manifest").json()
    assert row["preset"] == spec_preset(spec).name and row["spec"] == spec_preset(spec).spec

"""Request bodies take JSON booleans only (catalog/api.py, cutouts/api.py): "yes" or 1 for a
flag that recuts, replaces or exports was read as true (QA 2026-12-03)."""

import pytest

from cutouts.models import CutoutBatch, ExportJob
from tests.factories import ImageAssetFactory


@pytest.mark.parametrize("field", ["recut", "all_pending"])
@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_it_refuses_a_batch_flag_that_is_not_a_json_boolean(manager_api, field, value):
    asset = ImageAssetFactory()
    response = manager_api.post("/api/v1/batches", {"image_ids": [asset.pk], field: value})
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not CutoutBatch.objects.exists()


def test_it_still_takes_true_and_false(manager_api):
    asset = ImageAssetFactory()
    response = manager_api.post("/api/v1/batches", {"image_ids": [asset.pk], "recut": False})
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("field", ["dry_run", "include_failing"])
def test_it_refuses_an_export_flag_that_is_not_a_json_boolean(manager_api, field):
    response = manager_api.post("/api/v1/exports", {"presets": ["amazon_main"], field: "yes"})
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not ExportJob.objects.exists()

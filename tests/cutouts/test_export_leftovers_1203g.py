"""Export leftovers (2026-12-03, g): a dry run reads each cutout's row once (the plan's source
carries the product box); stale cached verdicts are judged from stored measurements when the
image only moved, and re-read within a budget when the rules changed (the rest marked
"re-checked on export"); the export folder follows the Windows naming rule and the response
says which folder is used; a dry run foresees scenes; exports made before report["origin"]
are marked by a data migration."""

import csv
import importlib
import io
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.core.files.storage import storages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.api_models import ApiKey
from cutouts.models import ExportJob, Preset, Rendition
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs, renditions, scenes
from cutouts.tasks import export_job_run_task
from tests.api.conftest import ApiClient, key_for
from tests.factories import ProductFactory, manager

from .export_helpers import approved_cutout
from .test_export_scenes import room_jpeg
from .test_renditions_qa_1203 import cut_off_png, with_rgba

pytestmark = pytest.mark.django_db

SMALL = "trim|fill-85|square-400|bg-ffffff|format-jpeg|quality-85|srgb"


def _run(job: ExportJob) -> ExportJob:
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    return job


def _dry(**kwargs) -> ExportJob:
    return _run(export_jobs.export_job_create(dry_run=True, enqueue=False, **kwargs))


def _manifest(job: ExportJob) -> list[dict]:
    with storages["exports"].open(job.manifest_name, "rb") as fh:
        return list(csv.DictReader(io.StringIO(fh.read().decode("utf-8-sig"))))


@pytest.fixture
def reads(monkeypatch):
    """The rendition files the export reads."""
    names: list[str] = []
    real = renditions._read

    def counted(storage, name):
        names.append(name)
        return real(storage, name)

    monkeypatch.setattr(renditions, "_read", counted)
    return names


# --- 1. one read of each cutout's row ----------------------------------------------------------


def test_it_reads_the_cutout_rows_once_in_a_dry_run():
    for n in range(3):
        cutout = approved_cutout(product=ProductFactory(sku=f"ONE-{n}"))
        cutout.signals = {**cutout.signals, "product_px": [400, 360]}
        cutout.save(update_fields=["signals"])
    job = export_jobs.export_job_create(specs=["trim|long-5000|format-png"], dry_run=True,
                                        enqueue=False)
    with CaptureQueriesContext(connection) as queries:
        _run(job)
    cutout_reads = [q["sql"] for q in queries.captured_queries
                    if 'FROM "cutouts_cutout"' in q["sql"]]
    # the plan's rows and the sources' rows; _product_boxes queried the cutouts a third time
    assert len(cutout_reads) == 2, cutout_reads
    # the box still comes through: 400 px to 5000 px is over the 8x limit
    assert job.report["excluded_count"] == 3
    assert "would be enlarged 12.5x" in job.report["excluded"][0]["reason"]


# --- 2. stale cached verdicts -------------------------------------------------------------------


def _cut_off(sku: str, position: str):
    return with_rgba(approved_cutout(product=ProductFactory(sku=sku, asin=f"B0{sku[-8:]:0>8}"),
                                     position=position), cut_off_png())


@pytest.mark.parametrize(("was", "now", "would"), [("MAIN", "PT02", 1), ("PT02", "MAIN", 0)])
def test_it_judges_a_moved_image_from_its_measurements_without_reading_it(reads, was, now,
                                                                          would):
    cutout = _cut_off(f"MOVE{was}", was)
    renditions.rendition_get_or_create(cutout=cutout, preset="amazon_main")
    cutout.asset.position = now
    cutout.asset.save(update_fields=["position"])
    reads.clear()
    job = _dry(presets=["amazon_main"])
    assert reads == []  # the file was read and checked again to move one error
    assert job.report["would_export"] == would
    real = _run(export_jobs.export_job_create(presets=["amazon_main"], enqueue=False))
    assert (real.exported_count, real.failed_count) == (would, 1 - would)
    stored = Rendition.objects.get(cutout=cutout)
    assert stored.compliance_ok is bool(would)
    assert stored.compliance["measurements"]["position"] == now


def _stale(n: int) -> None:
    Preset.objects.create(name="stale", label="Stale", spec=SMALL, naming="{sku}.{ext}",
                          rules={"background": "ffffff", "formats": ["jpeg"]})
    for i in range(n):
        cutout = approved_cutout(product=ProductFactory(sku=f"STALE-{i}"))
        assert renditions.rendition_get_or_create(cutout=cutout, preset="stale").compliance_ok
    # edited: the 400 px files now fail
    Preset.objects.filter(name="stale").update(
        rules={"background": "ffffff", "formats": ["jpeg"], "min_long_side": 1000})


def test_it_re_checks_edited_rules_by_reading_the_files_within_the_budget(reads):
    _stale(2)
    reads.clear()
    job = _dry(presets=["stale"])
    assert len(reads) == 2
    assert job.report["excluded_count"] == 2 and job.report["provisional_count"] == 0
    assert "re-checked on export" not in job.message


def test_it_keeps_the_stored_verdict_past_the_budget_and_says_so(reads, monkeypatch):
    _stale(2)
    monkeypatch.setattr(renditions, "DRY_RUN_RECHECK_MAX", 0)
    reads.clear()
    job = _dry(presets=["stale"])
    assert reads == []
    assert job.report["provisional_count"] == 2 and job.report["would_export"] == 2
    assert job.message == (
        "Dry run: 2 file(s) would be exported; nothing written. 2 verdict(s) checked with "
        "the presets' earlier rules are re-checked on export (counted as last checked).")
    assert {r["compliance"] for r in _manifest(job)} == {
        "dry run (cached, checked with the preset's earlier rules: re-checked on export): ok"}
    # the real run re-checks every one
    real = _run(export_jobs.export_job_create(presets=["stale"], enqueue=False))
    assert (real.exported_count, real.failed_count) == (0, 2)


# --- 3. the export folder follows the Windows naming rule ---------------------------------------


@pytest.mark.parametrize(("asked", "used"), [
    ("spring/con", "spring/con_"), ("aux/x", "aux_/x"), ("Nul.d/LPT1", "Nul_.d/LPT1_"),
    ("spring./amazon", "spring/amazon"), ("spring/amazon", "spring/amazon"),
])
def test_it_makes_the_export_folder_one_windows_can_create(asked, used):
    assert export_jobs.export_folder_clean(folder=asked, destination="folder") == used


def test_it_refuses_a_folder_of_dots_only():
    with pytest.raises(export_jobs.ExportError) as refused:
        export_jobs.export_folder_clean(folder="spring/...", destination="folder")
    assert refused.value.field == "folder" and "only dots" in str(refused.value)


def test_it_writes_into_the_safe_folder_and_the_form_says_so(client, sent):
    client.force_login(manager())
    approved_cutout(product=ProductFactory(sku="FOLD-1", asin="B0FOLD0001"))
    made = client.post(reverse("cutouts:export_start"),
                       {"presets": ["ebay"], "destination": "folder", "folder": "spring/con"})
    assert made.status_code == 302
    job = _run(ExportJob.objects.get())
    assert job.folder == "spring/con_"
    assert storages["exports"].exists("spring/con_/manifest.csv")
    said = [str(m) for m in get_messages(made.wsgi_request)]
    assert "Folder 'spring/con' is written as 'spring/con_'" in said[-1]


def test_it_tells_the_api_client_which_folder_is_used():
    user = manager()
    approved_cutout(product=ProductFactory(sku="FOLD-2", asin="B0FOLD0002"))
    api = ApiClient(key_for(user, "manager"))
    created = api.post("/api/v1/exports", {"presets": ["ebay"], "destination": "folder",
                                           "folder": "aux/x"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["folder"] == "aux_/x"
    [renamed] = [w for w in body["warnings"] if w["code"] == "folder-renamed"]
    assert "'aux/x' is written as 'aux_/x'" in renamed["message"]
    plain = api.post("/api/v1/exports", {"presets": ["ebay"], "destination": "folder",
                                         "folder": "spring/amazon"})
    assert not [w for w in plain.json()["warnings"] if w["code"] == "folder-renamed"]


# --- 4. a dry run foresees scenes -------------------------------------------------------------


@pytest.fixture
def oak(db):
    return scenes.background_create(user=manager(), name="Oak table", slug="oak",
                                    data=room_jpeg())


def _measured(size, sku):
    cutout = approved_cutout(product=ProductFactory(sku=sku), size=size)
    w, h = size
    # the helper's ellipse spans half the width and 3/5 of the height
    cutout.signals = {**cutout.signals, "product_px": [w // 2, 3 * h // 5]}
    cutout.save(update_fields=["signals"])
    return cutout


def test_it_foresees_a_scene_enlarged_past_the_limit(oak):
    _measured((80, 60), "SPECK-1")  # a 40x36 px product on a 1920x600 banner's floor
    _measured((800, 600), "FINE-1")
    job = _dry(presets=["web_hero:oak"])
    assert job.message.startswith("Dry run: 1 file(s) would be exported, 1 excluded")
    [row] = job.report["excluded"]
    assert row["sku"] == "SPECK-1"
    assert row["reason"].startswith("dry run: would not be exported: failed: the product "
                                    "(40x36 px) would be enlarged 9.")
    # what the real run does with them
    real = _run(export_jobs.export_job_create(presets=["web_hero:oak"], enqueue=False))
    assert (real.exported_count, real.failed_count) == (1, 1)
    assert real.report["excluded"][0]["sku"] == "SPECK-1"
    assert "over the 8x limit" in real.report["excluded"][0]["reason"]


def test_it_foresees_a_scene_a_marketplace_preset_forbids():
    Preset.objects.create(name="amazon_scene", label="Amazon scene",
                          spec="canvas-1000x1000|bg-ffffff|scale-90|format-jpeg",
                          naming="{sku}.{ext}", rules={"no_scenes": True})
    _measured((800, 600), "SCENE-1")
    job = _dry(presets=["amazon_scene"])
    assert job.report["would_export"] == 0
    assert "marketplace rules forbid scenes" in job.report["excluded"][0]["reason"]


# --- 5. exports made before report["origin"] ----------------------------------------------------


def _migration():
    return importlib.import_module("cutouts.migrations.0013_export_origin_form")


def _legacy(user, presets, **kwargs) -> ExportJob:
    return ExportJob.objects.create(created_by=user, presets=presets, filters={},
                                    report=kwargs.pop("report", {}), **kwargs)


def test_it_marks_the_form_exports_made_before_the_origin_mark():
    browser, integrator = manager(), manager()
    form_made = _legacy(browser, ["ebay", "web_hero:oak", "spec:square-600|format-png"])
    key = ApiKey.objects.create(user=integrator, name="PIM", prefix="pim0001", secret_hash="x",
                                scope="manager")
    api_maybe = _legacy(integrator, ["spec:square-900|format-jpeg"])
    # made before the integrator had a key: the form's
    before_key = _legacy(integrator, ["walmart"])
    ExportJob.objects.filter(pk=before_key.pk).update(
        created_at=key.created_at - timedelta(days=1))
    api_new = _legacy(browser, ["amazon_main"], report={"origin": "api"})
    nobody = _legacy(None, ["etsy"])
    assert export_selectors.export_last_choice(user=browser).presets == []  # opened empty
    _migration().mark_form_exports(apps, None)
    marked = {j.pk: (j.report or {}).get("origin") for j in ExportJob.objects.all()}
    assert marked == {form_made.pk: "form", api_maybe.pk: None, before_key.pk: "form",
                      api_new.pk: "api", nobody.pk: None}
    choice = export_selectors.export_last_choice(user=browser)
    assert (choice.presets, choice.backgrounds, choice.specs) == (
        ["ebay", "web_hero"], ["oak"], ["square-600|format-png"])
    # never the specs an API client may have made under the integrator
    assert export_selectors.export_last_choice(user=integrator).presets == ["walmart"]

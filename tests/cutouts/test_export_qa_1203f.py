"""QA 2026-12-03 (f): export.finished carries failing_included_count; every path in an export
is one Windows can create (reserved device names, trailing dots); the export form pre-fills
only from exports made in it, not from an API export of the same user."""

import csv
import io
import re
import zipfile

import pytest
from django.core.files.storage import storages
from django.urls import reverse

from cutouts import variants
from cutouts.models import ExportJob, Preset
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs
from cutouts.tasks import export_job_run_task
from tests.api.conftest import ApiClient, key_for
from tests.factories import ProductFactory, manager

from .export_helpers import approved_cutout

pytestmark = pytest.mark.django_db

SMALL = "trim|fill-85|square-400|bg-ffffff|format-jpeg|quality-85|srgb"


@pytest.fixture
def announced(monkeypatch):
    """The export.finished payloads the services emit (without the on-commit fan-out)."""
    from catalog import events

    sent: list[dict] = []
    monkeypatch.setattr(events, "emit", lambda event_type, data, **kw: sent.append(data)
                        if event_type == "export.finished" else None)
    return sent


# --- 1. export.finished says how many files shipped despite failing compliance ----------------


def test_it_sends_the_failing_included_count_in_export_finished(announced):
    Preset.objects.create(name="too_small", label="Too small", spec=SMALL, naming="{sku}.{ext}",
                          rules={"background": "ffffff", "min_long_side": 1000,
                                 "formats": ["jpeg"]})
    approved_cutout(product=ProductFactory(sku="HOOK-1"))
    approved_cutout(product=ProductFactory(sku="HOOK-2"))
    job = export_jobs.export_job_create(presets=["too_small"], include_failing=True,
                                        enqueue=False)
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    [payload] = announced
    # the API's ExportOut had it; the webhook said only "exported": 2
    assert payload["failing_included_count"] == job.report["failing_included_count"] == 2


def test_it_sends_no_failing_files_for_a_compliant_export(announced):
    approved_cutout(product=ProductFactory(sku="HOOK-3"))
    job = export_jobs.export_job_create(presets=["ebay"], enqueue=False)
    assert export_job_run_task(job.pk) == "done"
    assert announced[0]["failing_included_count"] == 0


# --- 2. names Windows can create ----------------------------------------------------------------


@pytest.mark.parametrize(("template", "sku", "name"), [
    ("{sku}/{sku}_{position}_{preset}.{ext}", "CON", "CON_/CON_1_ebay.jpg"),
    ("{sku}.{amazon_position}.{ext}", "con", "con_.MAIN.jpg"),
    ("{sku}.{ext}", "Nul", "Nul_.jpg"),
    ("{sku}.{ext}", "aux", "aux_.jpg"),
    ("{sku}.{ext}", "prn", "prn_.jpg"),
    ("{sku}.{ext}", "COM1", "COM1_.jpg"),
    ("{sku}.{ext}", "lpt9", "lpt9_.jpg"),
    ("{sku}/{position}.{ext}", "CON.jpg", "CON_.jpg/1.jpg"),
    ("{sku}./{position}.{ext}", "SHOE", "SHOE/1.jpg"),  # Windows drops the trailing dot
])
def test_it_names_reserved_windows_names_so_windows_can_create_them(template, sku, name):
    assert variants.build_name(template, sku=sku, preset="ebay", ext="jpg") == name


def test_it_renames_only_device_names():
    names = {sku: variants.build_name("{sku}.{ext}", sku=sku, ext="jpg")
             for sku in ("COM3", "CONSOLE", "COM10", "CON-1", "NULL")}
    assert names == {"COM3": "COM3_.jpg", "CONSOLE": "CONSOLE.jpg", "COM10": "COM10.jpg",
                     "CON-1": "CON-1.jpg", "NULL": "NULL.jpg"}


def test_it_exports_a_zip_windows_can_unpack_for_a_reserved_sku():
    approved_cutout(product=ProductFactory(sku="CON", asin=""))
    approved_cutout(product=ProductFactory(sku="lpt1", asin=""))
    job = export_jobs.export_job_create(presets=["ebay", "amazon_main"], enqueue=False)
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    with storages["exports"].open(job.zip_name, "rb") as fh:
        names = zipfile.ZipFile(io.BytesIO(fh.read())).namelist()
    assert "ebay/CON_/CON_1_ebay.jpg" in names
    assert "amazon_main/lpt1_.MAIN.jpg" in names
    reserved = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)$", re.IGNORECASE)
    for name in names:
        for part in name.split("/"):
            assert not reserved.match(part.split(".", 1)[0]), name
    with storages["exports"].open(job.manifest_name, "rb") as fh:
        rows = list(csv.DictReader(io.StringIO(fh.read().decode("utf-8-sig"))))
    # the manifest keeps the real SKU beside the file's safe name
    assert {(r["sku"], r["file"]) for r in rows if r["preset"] == "ebay"} == {
        ("CON", "ebay/CON_/CON_1_ebay.jpg"), ("lpt1", "ebay/lpt1_/lpt1_1_ebay.jpg")}


def test_it_makes_a_preset_folder_named_like_a_device_safe():
    Preset.objects.create(name="aux", label="Aux", spec=SMALL, naming="{sku}.{ext}",
                          rules={"background": "ffffff", "formats": ["jpeg"]})
    approved_cutout(product=ProductFactory(sku="AUXP-1"))
    plan = export_selectors.export_plan(
        cutouts=export_selectors.export_candidates(),
        presets=export_selectors.preset_resolve(names=["aux"]))
    assert [i.path for i in plan.items] == ["aux_/AUXP-1.jpg"]


# --- 3. the form pre-fills only from exports made in it -----------------------------------------


def _checked(html: str) -> set[str]:
    return set(re.findall(r'<input type="checkbox" name="presets" value="([^"]+)"[^>]*checked',
                          html))


def _specs(html: str) -> str:
    return html.split('name="specs"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]


def test_it_pre_fills_the_form_from_the_last_form_export_not_an_api_one(client, sent):
    user = manager()
    client.force_login(user)
    approved_cutout(product=ProductFactory(sku="ORIG-1", asin="B0ORIG0001"))
    made = client.post(reverse("cutouts:export_start"),
                       {"presets": ["ebay"], "destination": "download"})
    assert made.status_code == 302
    # the same user's API key: an integration's custom specs
    api = ApiClient(key_for(user, "manager"))
    created = api.post("/api/v1/exports", {"specs": ["trim|square-600|format-png",
                                                     "square-900|bg-ffffff|format-jpeg"]})
    assert created.status_code == 201, created.json()
    html = client.get(reverse("cutouts:export_list")).content.decode()
    # they were carried into the form, unseen, with the API export's presets (none)
    assert _checked(html) == {"ebay"}
    assert "square-600" not in _specs(html) and "square-900" not in _specs(html)


def test_it_opens_the_form_empty_after_only_api_exports(client):
    user = manager()
    client.force_login(user)
    approved_cutout(product=ProductFactory(sku="ORIG-2", asin="B0ORIG0002"))
    export_jobs.export_job_create(user=user, presets=["amazon_main"],
                                  specs=["square-600|format-png"], enqueue=False)
    html = client.get(reverse("cutouts:export_list")).content.decode()
    assert _checked(html) == set() and "square-600" not in _specs(html)


def test_it_keeps_the_form_origin_through_the_run(client, sent):
    user = manager()
    client.force_login(user)
    approved_cutout(product=ProductFactory(sku="ORIG-3", asin="B0ORIG0003"))
    client.post(reverse("cutouts:export_start"),
                {"presets": ["amazon_main"], "destination": "download"})
    job = ExportJob.objects.get()
    assert export_job_run_task(job.pk) == "done"  # the run writes its own report
    job.refresh_from_db()
    assert job.report["origin"] == export_selectors.ORIGIN_FORM
    assert export_selectors.export_last_choice(user=user).presets == ["amazon_main"]


# --- 4. a dry run judges a cached rendition at the image's position now ------------------------


def test_it_dry_runs_a_cached_rendition_that_left_the_main_position_as_exported():
    from cutouts.models import Rendition
    from cutouts.services import renditions

    from .test_renditions_qa_1203 import cut_off_png, with_rgba

    cutout = with_rgba(approved_cutout(product=ProductFactory(sku="DOLL-9", asin="B0DOLL0009")),
                       cut_off_png())
    made = renditions.rendition_get_or_create(cutout=cutout, preset="amazon_main")
    assert not made.compliance_ok  # the frame cuts the product: fails as MAIN
    cutout.asset.position = "PT02"  # re-ordered: now a detail shot
    cutout.asset.save(update_fields=["position"])
    job = export_jobs.export_job_create(presets=["amazon_main"], dry_run=True, enqueue=False)
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    # it said "0 file(s) would be exported, 1 excluded" from the verdict made as MAIN
    assert job.report["would_export"] == 1 and job.report["excluded_count"] == 0
    assert job.report["excluded"] == []
    # a dry run writes nothing: the stored verdict is the real run's to replace
    assert not Rendition.objects.get(cutout=cutout).compliance_ok
    real = export_jobs.export_job_create(presets=["amazon_main"], enqueue=False)
    assert export_job_run_task(real.pk) == "done"
    real.refresh_from_db()
    assert (real.exported_count, real.failed_count) == (1, 0)

"""QA 2026-12-03 (e): the export form refuses a SKU list of separators, shows every field's
errors at once and never offers "Start anyway" for an export that cannot start; folders of
other exports are refused; storage errors hide the server's paths; failing files shipped with
include_failing are counted; wording of drive letters and of the naming-gap total."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.urls import reverse

from cutouts.errors import ExportError
from cutouts.models import ExportJob, JobStatus, Preset
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs
from cutouts.services.export_sinks import FolderSink
from cutouts.tasks import export_job_run_task
from tests.factories import ProductFactory

from .export_helpers import approved_cutout, done_cutout

pytestmark = pytest.mark.django_db

SMALL = "trim|fill-85|square-400|bg-ffffff|format-jpeg|quality-85|srgb"



def _post(client, **fields):
    data = {"presets": ["amazon_main"], "destination": "download", **fields}
    return client.post(reverse("cutouts:export_start"), data)


def test_it_refuses_a_sku_list_of_separators_on_the_form(manager_client, sent):
    approved_cutout(product=ProductFactory(sku="SEP-1"))
    page = _post(manager_client, skus=" , ;\n,")
    assert page.status_code == 400 and not ExportJob.objects.exists()
    assert "The SKU list holds no SKU" in page.content.decode()


def test_it_shows_the_spec_errors_beside_an_unknown_sku(manager_client, sent):
    # the unknown SKU used to hide the spec's error until it was fixed
    approved_cutout(product=ProductFactory(sku="ERR-1"))
    page = _post(manager_client, presets=[], skus="NOPE-404", specs="square-1200|bogus-7")
    html = page.content.decode()
    assert page.status_code == 400 and not ExportJob.objects.exists()
    assert "Unknown SKU(s): NOPE-404" in html
    assert "unknown operation &#x27;bogus&#x27; in token &#x27;bogus-7&#x27;" in html


def test_it_refuses_without_start_anyway_an_export_that_cannot_start(manager_client, sent):
    # only image awaiting review: "Start anyway" used to lead to "Nothing to export"
    done_cutout(product=ProductFactory(sku="WAIT-1"))
    page = _post(manager_client, skus="WAIT-1")
    html = page.content.decode()
    assert page.status_code == 400 and not ExportJob.objects.exists()
    assert "Nothing to export" in html
    assert 'name="naming_gaps_ok"' not in html and 'id="naming-gaps"' not in html


@pytest.mark.parametrize("folder", ["manifests", "Zips/spring"])
def test_it_refuses_the_folders_that_hold_every_exports_manifest_and_zip(folder):
    approved_cutout(product=ProductFactory(sku="RES-1", asin="B0RES00001"))
    with pytest.raises(ExportError, match="where Cutroom keeps every export's") as refused:
        export_jobs.export_job_create(presets=["amazon_main"], destination="folder",
                                      folder=folder, enqueue=False)
    assert refused.value.field == "folder"


def test_it_refuses_a_folder_inside_an_export_left_in_storage():
    # spring/amazon/manifest.csv (the folder) passed, then failed with the server's path
    approved_cutout(product=ProductFactory(sku="LEFT-1", asin="B0LEFT0001"))
    storages["exports"].save("left/amazon/manifest.csv", ContentFile(b"sku\r\n"))
    for folder in ("left/amazon/manifest.csv", "left/amazon/amazon_main"):
        with pytest.raises(ExportError, match="lies inside 'left/amazon', which holds an "
                                              "export"):
            export_jobs.export_job_create(presets=["amazon_main"], destination="folder",
                                          folder=folder, enqueue=False)


def test_it_hides_the_servers_paths_in_a_storage_error(monkeypatch):
    approved_cutout(product=ProductFactory(sku="PATH-1", asin="B0PATH0001"))

    def refused(self, path, data):
        raise NotADirectoryError(20, "Not a directory", "/srv/cutroom/var/exports/a/b.jpg")

    monkeypatch.setattr(FolderSink, "write", refused)
    job = export_jobs.export_job_create(presets=["amazon_main"], destination="folder",
                                        folder="paths/x", enqueue=False)
    assert export_job_run_task(job.pk) == "failed"
    job.refresh_from_db()
    assert job.message == ("The export could not be written: storage error "
                           "(NotADirectoryError: Not a directory).")
    assert "/srv/" not in job.message


def test_it_says_a_drive_letter_is_refused():
    with pytest.raises(ExportError) as refused:
        export_jobs.export_folder_clean(folder="C:stuff", destination="folder")
    assert "drive letter" in str(refused.value)
    assert "(no leading '/')" not in str(refused.value)


def test_it_shows_files_shipped_despite_failing_compliance(manager_client):
    Preset.objects.create(name="too_small", label="Too small", spec=SMALL,
                          naming="{sku}.{ext}",
                          rules={"background": "ffffff", "min_long_side": 1000,
                                 "formats": ["jpeg"]})
    approved_cutout(product=ProductFactory(sku="FAIL-2"))
    job = export_jobs.export_job_create(presets=["too_small"], include_failing=True,
                                        enqueue=False)
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.report["failing_included_count"] == 1
    assert "1 file(s) exported (1 despite failing compliance)" in job.message
    recent = manager_client.get(reverse("cutouts:export_list")).content.decode()
    assert "1 despite failing compliance</span>" in recent
    detail = manager_client.get(reverse("cutouts:export_detail", args=[job.pk])).content.decode()
    assert "1 despite failing compliance</span>" in detail


def test_it_counts_the_naming_gap_among_the_products_with_an_approved_cutout():
    # 3 SKUs typed, 2 with an approved cutout: "1 of 2 selected product(s)" read as a miscount
    approved_cutout(product=ProductFactory(sku="GAP-1", gtin=""))
    approved_cutout(product=ProductFactory(sku="GAP-2", gtin="00012345678905"))
    waiting = ProductFactory(sku="GAP-3", gtin="")
    done_cutout(product=waiting)
    ids = list(ProductFactory._meta.model.objects.filter(
        sku__startswith="GAP-").values_list("pk", flat=True))
    presets = export_selectors.preset_resolve(names=["walmart"])
    [gap] = export_selectors.export_naming_gaps(presets=presets, product_ids=ids)
    assert "1 of 2 selected product(s) with an approved cutout have none (GAP-1)" \
        in gap.message


def _dry_run(spec: str, **kwargs) -> ExportJob:
    job = export_jobs.export_job_create(specs=[spec], dry_run=True, enqueue=False, **kwargs)
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    return job


def test_it_tells_in_a_dry_run_what_the_size_and_enlargement_limits_exclude():
    # QA: trim|long-15000 "would be rendered" in the dry run, excluded by the real run
    cutout = approved_cutout(product=ProductFactory(sku="HUGE-1"))
    cutout.signals = {**cutout.signals, "product_px": [400, 360]}
    cutout.save(update_fields=["signals"])
    huge = _dry_run("trim|long-15000|format-png")
    assert huge.message.startswith("Dry run: 0 file(s) would be exported, 1 excluded")
    [row] = huge.report["excluded"]
    assert row["reason"].startswith("dry run: would not be exported: cannot be rendered: "
                                    "output of 15000x13500 px")
    real = export_jobs.export_job_create(specs=["trim|long-15000|format-png"], enqueue=False)
    assert export_job_run_task(real.pk) == "done"
    real.refresh_from_db()
    assert (real.exported_count, real.failed_count) == (0, 1)
    # 400 px to 5000 px is 12.5x: a compliance failure, shipped only with include_failing
    blown = _dry_run("trim|long-5000|format-png")
    assert blown.message.startswith("Dry run: 0 file(s) would be exported, 1 excluded")
    assert "would be enlarged 12.5x, over the 8x limit" in blown.report["excluded"][0]["reason"]
    forced = _dry_run("trim|long-5000|format-png", include_failing=True)
    assert forced.message.startswith(
        "Dry run: 1 file(s) would be exported (1 despite failing compliance);")
    assert _dry_run("trim|long-2000|format-png").message.startswith(
        "Dry run: 1 file(s) would be exported; nothing written.")

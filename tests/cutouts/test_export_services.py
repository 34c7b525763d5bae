import csv
import dataclasses
import hashlib
import io
import itertools
import re
import threading
import time
import zipfile
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image, ImageCms

from catalog import events, jobs
from catalog.models import AssetStatus, Product
from cutouts import variants
from cutouts.errors import ExportCollisionError, ExportError, ExportFinishedError
from cutouts.models import ExportJob, JobStatus, Notification, Preset, Rendition
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs, renditions, review
from cutouts.services.export_sinks import FolderSink
from cutouts.tasks import export_job_run_task
from cutouts.variants import render as render_module
from tests.catalog.test_jobs import WorkerKilled
from tests.cutouts.scissors import blades, with_cloud
from tests.factories import ImageAssetFactory, ProductFactory, manager, reviewer

from .export_helpers import (
    MARKET_PHOTO,
    SMALL,
    approved_cutout,
    cut_off_png,
    done_cutout,
    measured,
    presets_table,
    rgba_png,
    run_dry,
    run_job,
    run_presets,
    with_rgba,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_enqueue(sent):
    """The export jobs that would be sent to a broker (conftest's ``sent``)."""
    return sent


@pytest.fixture
def too_small_preset(db):
    """Renders 400 px but demands 1000: every variant fails compliance."""
    return Preset.objects.create(
        name="too_small", label="Too small", spec=SMALL, naming="{sku}.{ext}",
        rules={"background": "ffffff", "min_long_side": 1000, "formats": ["jpeg"]},
    )


def run(job: ExportJob) -> ExportJob:
    """What the worker does: the task body, called in-process."""
    assert export_job_run_task(job.pk) in ("done", "failed")
    job.refresh_from_db()
    return job


def read_zip(job: ExportJob) -> zipfile.ZipFile:
    with storages["exports"].open(job.zip_name, "rb") as fh:
        return zipfile.ZipFile(io.BytesIO(fh.read()))


def manifest_rows(data: bytes) -> list[dict]:
    assert data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def product_fill_pct(rgb: np.ndarray) -> float:
    # JPEG ringing is faint; the product itself is saturated red.
    product = (np.abs(rgb.astype(int) - 255).sum(axis=2)) > 60
    rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
    h, w = product.shape
    return max((cols[-1] + 1 - cols[0]) / w, (rows[-1] + 1 - rows[0]) / h) * 100


def test_it_seeds_the_builtin_presets_without_overwriting_admin_edits():
    assert set(Preset.objects.values_list("name", flat=True)) >= set(variants.PRESETS)
    amazon = Preset.objects.get(name="amazon_main")
    assert amazon.spec == variants.PRESETS["amazon_main"].spec
    assert "[AMZ] Amazon Seller Central" in amazon.sources
    Preset.objects.filter(name="amazon_main").update(label="Amazon (edited)")
    Preset.objects.filter(name="ebay").delete()
    assert renditions.preset_seed() == 1
    assert Preset.objects.get(name="amazon_main").label == "Amazon (edited)"
    assert Preset.objects.filter(name="ebay").exists()


def test_it_exports_amazon_main_images_that_pass_the_marketplace_rules(no_enqueue):
    user = manager()
    with_asin = ProductFactory(sku="SHOE-1", asin="B0C1234567", gtin="4006381333931")
    no_asin = ProductFactory(sku="SHOE-2")
    main = approved_cutout(product=with_asin, position="MAIN", size=MARKET_PHOTO)
    approved_cutout(product=with_asin, position="PT01", colour=(30, 30, 200), size=MARKET_PHOTO)
    approved_cutout(product=no_asin, position="MAIN", size=(1000, 1800))
    done_cutout(product=ProductFactory(sku="NOT-APPROVED"))  # never exported

    job = export_jobs.export_job_create(user=user, presets=["amazon_main"], brand="acme")
    assert no_enqueue == [] and job.progress_total == 3  # enqueued only on commit
    job = run(job)

    assert job.status == JobStatus.DONE, job.message
    assert (job.exported_count, job.failed_count, job.progress_done) == (3, 0, 3)
    archive = read_zip(job)
    assert sorted(archive.namelist()) == [
        "amazon_main/B0C1234567.MAIN.jpg", "amazon_main/B0C1234567.PT01.jpg",
        "amazon_main/SHOE-2.MAIN.jpg", "manifest.csv"]
    for name in archive.namelist()[:-1]:
        assert archive.getinfo(name).external_attr >> 16 == 0o644
        data = archive.read(name)
        image = Image.open(io.BytesIO(data))
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (2000, 2000))
        icc = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
        assert "sRGB" in ImageCms.getProfileDescription(icc)
        assert not image.getexif()
        rgb = np.asarray(image)
        border = np.concatenate([rgb[:20].reshape(-1, 3), rgb[-20:].reshape(-1, 3),
                                 rgb[:, :20].reshape(-1, 3), rgb[:, -20:].reshape(-1, 3)])
        assert (border == 255).all(), f"{name}: border is not pure white"
        assert 85 <= product_fill_pct(rgb) <= 90, name

    rows = manifest_rows(archive.read("manifest.csv"))
    assert [r["file"] for r in rows] == sorted(archive.namelist()[:-1])
    first = rows[0]
    assert (first["sku"], first["gtin"], first["asin"], first["preset"]) == (
        "SHOE-1", "4006381333931", "B0C1234567", "amazon_main")
    data = archive.read(first["file"])
    assert first["sha256"] == hashlib.sha256(data).hexdigest()
    assert (first["width"], first["height"], first["bytes"]) == ("2000", "2000", str(len(data)))
    assert all(r["compliance"] == "ok" for r in rows)
    with storages["exports"].open(job.manifest_name, "rb") as fh:
        assert manifest_rows(fh.read()) == rows

    main.asset.refresh_from_db()
    assert main.asset.status == AssetStatus.EXPORTED
    note = Notification.objects.get(user=user)
    assert "3 file(s) exported" in note.text and note.url.endswith(f"/export/{job.pk}/")
    assert Rendition.objects.filter(compliance_ok=True).count() == 3


def test_a_dry_run_writes_only_a_manifest_and_renders_nothing(no_enqueue):
    cutout = approved_cutout(product=ProductFactory(sku="DRY-1", asin="B0DRYRUN01"))
    job = run(export_jobs.export_job_create(presets=["amazon_main", "walmart"], dry_run=True))
    assert job.status == JobStatus.DONE and job.zip_name == ""
    assert job.exported_count == 0 and "would be exported" in job.message
    with storages["exports"].open(job.manifest_name, "rb") as fh:
        rows = manifest_rows(fh.read())
    assert [(r["file"], r["compliance"]) for r in rows] == [
        ("amazon_main/B0DRYRUN01.MAIN.jpg", "dry run: would be rendered"),
        ("", "not exported: DRY-1 has no GTIN; Walmart files are named by GTIN"),
    ]
    assert not Rendition.objects.exists()
    cutout.asset.refresh_from_db()
    assert cutout.asset.status == AssetStatus.APPROVED


def test_it_excludes_failing_variants_unless_the_user_overrides(no_enqueue, too_small_preset):
    approved_cutout(product=ProductFactory(sku="FAIL-1", asin="B0FAIL0001"))
    job = run(export_jobs.export_job_create(presets=["amazon_main", "too_small"]))
    assert (job.status, job.exported_count, job.failed_count) == (JobStatus.DONE, 1, 1)
    assert read_zip(job).namelist() == ["amazon_main/B0FAIL0001.MAIN.jpg", "manifest.csv"]
    [excluded] = job.report["excluded"]
    assert excluded["file"] == "too_small/FAIL-1.jpg"
    assert "longest side is 400 px; at least 1000 required" in excluded["reason"]
    rows = manifest_rows(read_zip(job).read("manifest.csv"))
    assert rows[1]["compliance"].startswith("not exported: failed: longest side is 400 px")

    forced = run(export_jobs.export_job_create(presets=["amazon_main", "too_small"],
                                               include_failing=True))
    assert (forced.exported_count, forced.failed_count) == (2, 0)
    assert "too_small/FAIL-1.jpg" in read_zip(forced).namelist()
    rows = manifest_rows(read_zip(forced).read("manifest.csv"))
    assert rows[1]["compliance"].startswith("exported despite: failed:")


def test_it_writes_each_rows_status_code_into_the_stored_manifest(no_enqueue,
                                                                  too_small_preset):
    approved_cutout(product=ProductFactory(sku="CODE-1", asin="B0CODE0001"),  # no GTIN
                    size=MARKET_PHOTO)
    job = run(export_jobs.export_job_create(presets=["amazon_main", "too_small", "walmart"]))
    with storages["exports"].open(job.manifest_name, "rb") as fh:
        rows = manifest_rows(fh.read())
    assert [(r["preset"], r["status"]) for r in rows] == [
        ("amazon_main", "ok"), ("too_small", "failed"), ("walmart", "not_exported")]
    approved_cutout(product=ProductFactory(sku="CODE-2", asin="B0CODE0002"), size=MARKET_PHOTO)
    dry = run(export_jobs.export_job_create(presets=["amazon_main"], dry_run=True))
    with storages["exports"].open(dry.manifest_name, "rb") as fh:
        dry_rows = manifest_rows(fh.read())
    assert [(r["sku"], r["status"]) for r in dry_rows] == [
        ("CODE-1", "ok"), ("CODE-2", "unchecked")]
    # the code says what the text says: a manifest read from its text reads the same
    for row in rows + dry_rows:
        assert export_selectors.legacy_manifest_status(row["compliance"]) == row["status"]


def test_it_reports_naming_collisions_before_anything_is_written(no_enqueue):
    product = ProductFactory(sku="DUP-1", asin="B0DUPLICAT")
    approved_cutout(product=product, position="MAIN")
    approved_cutout(product=product, position="MAIN")
    with pytest.raises(ExportCollisionError) as caught:
        export_jobs.export_job_create(presets=["amazon_main"], product_ids=[product.pk])
    assert len(caught.value.collisions) == 1
    assert "amazon_main/B0DUPLICAT.MAIN.jpg" in caught.value.collisions[0]
    assert "DUP-1" in caught.value.collisions[0]
    assert not ExportJob.objects.exists()


def test_a_collision_appearing_after_queueing_fails_the_job_without_output(no_enqueue):
    product = ProductFactory(sku="LATE-1", asin="B0LATECOLL")
    approved_cutout(product=product, position="MAIN")
    job = export_jobs.export_job_create(user=manager(), presets=["amazon_main"])
    approved_cutout(product=product, position="MAIN")
    job = run(job)
    assert job.status == JobStatus.FAILED and "collision" in job.message
    assert job.report["collisions"] and job.zip_name == "" and job.manifest_name == ""
    assert not Rendition.objects.exists()


def test_it_escapes_formula_cells_in_the_manifest(no_enqueue):
    approved_cutout(product=ProductFactory(sku="=cmd", asin="B0FORMULA1"))
    job = run(export_jobs.export_job_create(presets=["amazon_main"]))
    raw = read_zip(job).read("manifest.csv").decode("utf-8-sig")
    assert "\r\n'=cmd," in raw


def test_renditions_are_cached_per_version_and_a_new_approval_uses_new_ones(monkeypatch):
    first = approved_cutout(product=ProductFactory(sku="VER-1"), size=MARKET_PHOTO)
    rendition = renditions.rendition_get_or_create(cutout=first, preset="amazon_main")
    assert rendition.spec == variants.parse_spec(variants.PRESETS["amazon_main"].spec).canonical()
    assert storages["default"].exists(rendition.file_name)
    assert rendition.compliance_ok and rendition.compliance["summary"] == "ok"

    def no_render(*args, **kwargs):
        raise AssertionError("a cached rendition was rendered again")

    monkeypatch.setattr(variants, "render_variant", no_render)
    again = renditions.rendition_get_or_create(cutout=first, preset="amazon_main")
    assert again.pk == rendition.pk and again.cache_key == rendition.cache_key
    monkeypatch.undo()

    second = done_cutout(asset=first.asset, version=2, colour=(20, 120, 20))
    review.cutout_approve(cutout=second, user=reviewer())
    job = run(export_jobs.export_job_create(presets=["amazon_main"]))
    assert job.status == JobStatus.DONE
    newer = Rendition.objects.get(cutout=second)
    assert newer.cache_key != rendition.cache_key and newer.sha256 != rendition.sha256
    assert hashlib.sha256(read_zip(job).read("amazon_main/VER-1.MAIN.jpg")).hexdigest() == \
        newer.sha256
    assert Rendition.objects.filter(cutout=first).count() == 1  # untouched, not exported


def test_the_shadow_layer_is_used_only_when_the_spec_asks_and_never_counts_for_fill():
    cutout = approved_cutout(product=ProductFactory(sku="SHADOW-1"), shadow=True)
    spec = "trim|fill-80|square-600|bg-ffffff|{}|format-png"
    keep = renditions.rendition_get_or_create(cutout=cutout, spec=spec.format("shadow-keep"))
    none = renditions.rendition_get_or_create(cutout=cutout, spec=spec.format("shadow-none"))
    assert keep.sha256 != none.sha256 and keep.cache_key != none.cache_key
    assert keep.fill_pct == pytest.approx(none.fill_pct) and 80 <= keep.fill_pct < 81
    with storages["default"].open(keep.file_name, "rb") as fh:
        kept = np.asarray(Image.open(fh).convert("RGB"))
    with storages["default"].open(none.file_name, "rb") as fh:
        plain = np.asarray(Image.open(fh).convert("RGB"))
    assert kept.sum() < plain.sum()  # the shadow darkens the floor


@pytest.mark.parametrize(("model_name", "warning"), [
    ("rmbg-1.4", "commercial use restricted"),
    ("isnet-imgly", "AGPL licence terms apply"),
])
def test_it_warns_about_restrictive_model_licences(model_name, warning):
    cutout = approved_cutout(product=ProductFactory(), model_name=model_name)
    rendition = renditions.rendition_get_or_create(cutout=cutout, preset="amazon_main")
    assert rendition.compliance_ok
    assert any(warning in w for w in rendition.compliance["warnings"])
    assert rendition.compliance["summary"].startswith("ok (warnings:")


def test_it_rechecks_a_cached_rendition_when_the_preset_rules_change(no_enqueue):
    cutout = approved_cutout(product=ProductFactory(sku="RULES-1"))
    preset = Preset.objects.get(name="google_shopping")
    assert renditions.rendition_get_or_create(cutout=cutout, preset=preset).compliance_ok
    preset.rules = {**preset.rules, "min_long_side": 4000}
    preset.save()
    rechecked = renditions.rendition_get_or_create(cutout=cutout, preset=preset)
    assert not rechecked.compliance_ok
    assert "at least 4000 required" in rechecked.compliance["summary"]
    assert Rendition.objects.filter(cutout=cutout).count() == 1


def test_it_returns_the_upserted_rendition_without_reading_it_again(no_enqueue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cutout = approved_cutout(product=ProductFactory(sku="UPSERT-1"))
    preset = Preset.objects.get(name="google_shopping")
    with CaptureQueriesContext(connection) as queries:
        made = renditions.rendition_get_or_create(cutout=cutout, preset=preset)
    writes = [i for i, q in enumerate(queries.captured_queries)
              if q["sql"].lstrip().upper().startswith("INSERT") and "rendition" in q["sql"]]
    assert len(writes) == 1  # the upsert; nothing reads the row back after it
    assert not [q for q in queries.captured_queries[writes[0] + 1:]
                if "rendition" in q["sql"].lower()]
    stored = Rendition.objects.get(cutout=cutout)
    fields = [f.attname for f in Rendition._meta.concrete_fields]
    assert [getattr(made, f) for f in fields] == [getattr(stored, f) for f in fields]

    # re-checked under edited rules: the same row is updated, and its first creation time
    # is the one the returned object reports
    preset.rules = {**preset.rules, "min_long_side": 4000}
    preset.save()
    rechecked = renditions.rendition_get_or_create(cutout=cutout, preset=preset)
    stored = Rendition.objects.get(cutout=cutout)
    assert rechecked.pk == made.pk and not rechecked.compliance_ok
    assert [getattr(rechecked, f) for f in fields] == [getattr(stored, f) for f in fields]
    assert rechecked.created_at == made.created_at


def test_it_writes_a_folder_export_into_export_storage(no_enqueue):
    approved_cutout(product=ProductFactory(sku="FOLD-1", asin="B0FOLDER01"))
    job = run(export_jobs.export_job_create(presets=["amazon_main"], destination="folder",
                                            folder="feeds/amazon"))
    storage = storages["exports"]
    assert job.status == JobStatus.DONE and job.zip_name == ""
    assert storage.exists("feeds/amazon/amazon_main/B0FOLDER01.MAIN.jpg")
    assert storage.exists("feeds/amazon/manifest.csv")
    with pytest.raises(ExportError, match="already holds an export"):
        export_jobs.export_job_create(presets=["amazon_main"], destination="folder",
                                      folder="feeds/amazon")


def test_it_refuses_unknown_presets_bad_folders_and_empty_selections(no_enqueue):
    with pytest.raises(ExportError, match="Unknown preset"):
        export_jobs.export_job_create(presets=["nope"])
    approved_cutout(product=ProductFactory(brand="Acme"))
    with pytest.raises(ExportError, match="cannot step up or stay put with '..'"):
        export_jobs.export_job_create(presets=["amazon_main"], destination="folder",
                                      folder="../../etc")
    with pytest.raises(ExportError, match="folder name may use letters"):
        export_jobs.export_job_create(presets=["amazon_main"], destination="folder",
                                      folder="spring drop")
    with pytest.raises(ExportError, match="Nothing to export"):
        export_jobs.export_job_create(presets=["amazon_main"], brand="Other")


def test_a_cancelled_job_is_not_run_and_a_finished_one_is_not_run_twice(no_enqueue):
    approved_cutout(product=ProductFactory(asin="B0CANCEL01"))
    job = export_jobs.export_job_create(presets=["amazon_main"])
    assert export_jobs.export_job_cancel(job=job)
    assert export_job_run_task(job.pk) == "skipped"
    job = run(export_jobs.export_job_create(presets=["amazon_main"]))
    assert export_job_run_task(job.pk) == "skipped"
    with pytest.raises(ExportFinishedError):
        export_jobs.export_job_cancel(job=job)


@pytest.fixture
def announced(monkeypatch):
    """The export.finished events the services emit, as (type, data), without the on-commit
    fan-out (the cutout fixtures emit cutout.* events of their own)."""
    from catalog import events

    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(events, "emit", lambda event_type, data, **kw: sent.append(
        (event_type, data)) if event_type == "export.finished" else None)
    return sent


def test_it_announces_a_cancelled_export_once(no_enqueue, announced):
    approved_cutout(product=ProductFactory(asin="B0CANCEL02"))
    queued = export_jobs.export_job_create(presets=["amazon_main"])
    cancelled = export_jobs.export_job_cancel(job=queued)
    assert cancelled.status == JobStatus.CANCELLED
    running = export_jobs.export_job_create(presets=["amazon_main"], dry_run=True)
    token = export_jobs.export_job_claim(job_id=running.pk)
    assert token
    # cancelled while it runs: the run notices and stops without announcing it a second time
    assert export_jobs.export_job_run(
        job_id=running.pk, run_token=token,
        progress=lambda done, total: export_jobs.export_job_cancel(job=running)) == "cancelled"
    assert [(e, d["export_id"], d["status"]) for e, d in announced] == [
        ("export.finished", queued.pk, "cancelled"),
        ("export.finished", running.pk, "cancelled")]
    assert announced[1][1]["dry_run"] is True and announced[1][1]["would_export"] is None
    assert announced[0][1]["dry_run"] is False and not announced[0][1]["has_zip"]


def test_it_refuses_to_cancel_an_export_that_already_ended(no_enqueue, announced):
    approved_cutout(product=ProductFactory(asin="B0CANCEL03"))
    done = run(export_jobs.export_job_create(presets=["amazon_main"]))
    with pytest.raises(ExportFinishedError, match=f"Export {done.pk} is already done; "
                                                  "nothing is left to cancel"):
        export_jobs.export_job_cancel(job=done)
    cancelled = export_jobs.export_job_cancel(
        job=export_jobs.export_job_create(presets=["amazon_main"]))
    with pytest.raises(ExportFinishedError, match="is already cancelled"):
        export_jobs.export_job_cancel(job=cancelled)
    done.refresh_from_db()
    assert done.status == JobStatus.DONE
    assert [d["status"] for _, d in announced] == ["done", "cancelled"]


def test_it_says_in_the_finished_event_that_a_dry_run_wrote_nothing_on_purpose(
        no_enqueue, announced):
    for asin in ("B0DRYEVT01", "B0DRYEVT02"):
        approved_cutout(product=ProductFactory(asin=asin))
    run(export_jobs.export_job_create(presets=["amazon_main"], dry_run=True))
    run(export_jobs.export_job_create(presets=["amazon_main"]))
    (_, dry), (_, real) = announced
    assert (dry["dry_run"], dry["would_export"], dry["exported"], dry["failed"]) == (
        True, 2, 0, 0)
    assert (real["dry_run"], real["would_export"], real["exported"]) == (False, None, 2)


def test_it_names_the_field_of_a_refused_spec_or_preset(no_enqueue):
    approved_cutout()

    def refusal(**kwargs) -> ExportError:
        with pytest.raises(ExportError) as refused:
            export_jobs.export_job_create(**kwargs)
        return refused.value

    specs = refusal(presets=["amazon_main"], specs=[
        "squar-600|bg-fffff", "square-600|bg-ffffff|format-png", "square-600|quality-0"])
    assert specs.field == "specs"
    # every bad spec, and every bad token of one, in one message
    assert "'squar'" in str(specs) and "bg-RRGGBB needs 6 hex digits" in str(specs)
    assert "'quality-0'" in str(specs) and "format-png" not in str(specs)
    assert "); Spec 'square-600|quality-0'" in str(specs)  # one message per spec, apart
    assert refusal(presets=["nope"]).field == "presets"
    assert refusal(presets=[]).field == "presets"
    assert refusal(specs=["square-600|bg-nolibrary"]).field == "specs"
    assert refusal(presets=["amazon_main"], folder="a/../b",
                   destination="folder").field == "folder"
    too_many = refusal(specs=["square-600"] * (export_jobs.MAX_SPECS + 1))
    assert too_many.field == "specs" and "At most 20 spec strings" in str(too_many)
    assert not ExportJob.objects.exists()


def test_it_takes_one_spec_written_several_ways_as_one(no_enqueue):
    approved_cutout(size=MARKET_PHOTO)
    job = export_jobs.export_job_create(specs=[
        "square-800|bg-ffffff|format-jpeg", "square-800 | bg-ffffff | format-jpeg",
        "SQUARE-800|BG-FFFFFF|FORMAT-JPEG", "format-jpeg|bg-ffffff|square-800"])
    canonical = variants.parse_spec("square-800|bg-ffffff|format-jpeg").canonical()
    assert job.presets == [export_selectors.SPEC_PREFIX + canonical]


def test_a_run_whose_worker_died_is_resumed_by_the_reconciler_once_its_heartbeat_is_stale(
        no_enqueue, settings, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from catalog import jobs

    approved_cutout(product=ProductFactory(asin="B0STALE001"))
    job = export_jobs.export_job_create(presets=["amazon_main"])
    lost_token = export_jobs.export_job_claim(job_id=job.pk)
    assert lost_token and export_job_run_task(job.pk) == "skipped"  # its run is alive
    monkeypatch.setattr(jobs, "queue_depths", lambda queues: dict.fromkeys(queues, 0))
    assert jobs.jobs_reconcile()["export"]["running_reset"] == 0  # heartbeat still fresh
    ExportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 5))
    assert jobs.jobs_reconcile()["export"]["running_reset"] == 1
    assert job.pk in no_enqueue
    assert export_job_run_task(job.pk) == "done"
    assert export_jobs.export_job_run(job_id=job.pk, run_token=lost_token) == "skipped"
    job.refresh_from_db()
    assert job.attempts == 2


def test_the_export_task_runs_on_the_default_queue_with_a_long_time_limit(settings):
    assert settings.CELERY_TASK_ROUTES["cutouts.tasks.export_job_run_task"] == {
        "queue": "default"}
    assert export_job_run_task.soft_time_limit == export_jobs.EXPORT_TIME_LIMIT


def test_a_corrupt_cutout_file_is_reported_and_the_rest_still_exports(no_enqueue):
    from django.core.files.base import ContentFile

    broken = approved_cutout(product=ProductFactory(sku="BROKEN-1"))
    storages["default"].delete(broken.rgba_name)
    storages["default"].save(broken.rgba_name, ContentFile(b"\x89PNG\r\n\x1a\n truncated"))
    approved_cutout(product=ProductFactory(sku="FINE-1"))
    job = run(export_jobs.export_job_create(presets=["amazon_main"]))
    assert (job.status, job.exported_count, job.failed_count) == (JobStatus.DONE, 1, 1)
    [excluded] = job.report["excluded"]
    assert excluded["sku"] == "BROKEN-1"
    assert excluded["reason"].startswith("not exported: cannot read the cutout file")


class _FullDisk:
    """An export storage that refuses every write, as a full disk does."""

    def __init__(self, real):
        self.real = real

    def save(self, name, content, max_length=None):
        import errno

        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_full_export_disk_fails_the_job_with_the_reason(no_enqueue, monkeypatch):
    approved_cutout(product=ProductFactory(sku="FULL-1"))
    job = export_jobs.export_job_create(presets=["amazon_main"])
    real = storages["exports"]
    monkeypatch.setitem(storages._storages, "exports", _FullDisk(real))
    token = export_jobs.export_job_claim(job_id=job.pk)
    assert export_jobs.export_job_run(job_id=job.pk, run_token=token) == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert job.message == ("The export could not be written: the storage is full (no space "
                           "left on device).")


def test_a_soft_time_limit_is_caught_by_the_task_which_fails_the_job_with_its_reason(
        no_enqueue, monkeypatch, caplog):
    from celery.exceptions import SoftTimeLimitExceeded

    approved_cutout(product=ProductFactory(sku="SLOW-1"))
    job = export_jobs.export_job_create(presets=["amazon_main"], user=manager())

    def out_of_time(*args, **kwargs):
        raise SoftTimeLimitExceeded()
        yield  # a generator, like the real pipeline

    monkeypatch.setattr(export_jobs, "plan_renditions", out_of_time)
    assert export_job_run_task.run(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert job.message == export_jobs.EXPORT_TIMEOUT_MESSAGE
    assert job.report == {"collisions": [], "excluded": [], "excluded_count": 0}
    assert Notification.objects.filter(user=job.created_by,
                                       text__startswith=f"Export {job.pk} failed").exists()
    # A time limit is an expected end, not a crash: nothing logged as an error.
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_it_decodes_each_cutout_once_per_export_across_presets(no_enqueue, monkeypatch):
    decoded, scanned = [], []
    real_decode, real_scan = renditions._decode, render_module.significant_region
    monkeypatch.setattr(renditions, "_decode", lambda data: decoded.append(len(data))
                        or real_decode(data))
    monkeypatch.setattr(render_module, "significant_region",
                        lambda *a: scanned.append(a[1]) or real_scan(*a))
    for name, spec in (("small_white", SMALL),
                       ("small_clear", "trim|fill-85|square-300|bg-transparent|format-png")):
        Preset.objects.create(name=name, label=name, spec=spec, naming="{sku}.{ext}",
                              rules={"background": "ffffff" if "white" in name else None})
    approved_cutout(product=ProductFactory(sku="ONE-1"))
    approved_cutout(product=ProductFactory(sku="TWO-2"), size=(600, 700))

    job = run(export_jobs.export_job_create(presets=["small_white", "small_clear"]))

    assert job.status == JobStatus.DONE and job.exported_count == 4, job.message
    assert len(decoded) == 2  # one decode per cutout, shared by both presets
    assert scanned == [8, 8]  # one significant-alpha scan per cutout (both presets trim)
    archive = read_zip(job)
    for rendition in Rendition.objects.select_related("cutout"):
        # the shared source renders the same bytes as the cutout rendered on its own
        with storages["default"].open(rendition.cutout.rgba_name, "rb") as fh:
            alone = variants.render_variant(Image.open(fh).convert("RGBA"), rendition.spec)
        assert hashlib.sha256(alone.data).hexdigest() == rendition.sha256
        with storages["default"].open(rendition.file_name, "rb") as fh:
            assert fh.read() == alone.data
    assert len(archive.namelist()) == 5


def test_it_closes_an_unfinished_zip_sink_without_a_late_error(monkeypatch):
    import gc
    import sys

    from cutouts.services.export_sinks import ZipSink

    raised = []
    monkeypatch.setattr(sys, "unraisablehook", raised.append)
    sink = ZipSink()
    sink.write("a/b.jpg", b"x" * 100)
    sink.close()  # an export that failed before finish()
    assert sink.file.closed
    del sink
    gc.collect()
    assert raised == []


def test_it_writes_an_exports_rendition_rows_once_per_cutout_and_updates_them_on_a_recheck(
        no_enqueue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for sku in ("ROWS-1", "ROWS-2"):
        approved_cutout(product=ProductFactory(sku=sku))
    with CaptureQueriesContext(connection) as queries:
        job = run(export_jobs.export_job_create(presets=["amazon_main", "google_shopping"]))
    assert job.status == JobStatus.DONE and job.exported_count == 4, job.message
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].startswith("INSERT") and "cutouts_rendition" in q["sql"]]
    assert len(writes) == 2  # one statement per cutout, holding both presets' rows
    before = {(r.cutout_id, r.spec): r for r in Rendition.objects.all()}
    assert len(before) == 4 and all(r.compliance_ok for r in before.values())

    preset = Preset.objects.get(name="google_shopping")
    preset.rules = {**preset.rules, "min_long_side": 4000}
    preset.save()
    job = run(export_jobs.export_job_create(presets=["amazon_main", "google_shopping"]))

    assert job.exported_count == 2 and job.failed_count == 2, job.message
    after = {(r.cutout_id, r.spec): r for r in Rendition.objects.all()}
    assert after.keys() == before.keys()  # updated in place, not duplicated
    google = variants.parse_spec(preset.spec).canonical()
    for key, row in after.items():
        assert row.created_at == before[key].created_at and row.sha256 == before[key].sha256
        assert row.compliance_ok == (row.spec != google)
        assert ("at least 4000 required" in row.compliance["summary"]) == (row.spec == google)


def test_it_renders_again_a_rendition_an_older_renderer_made(no_enqueue):
    cutout = approved_cutout(product=ProductFactory(sku="RENDERER-1"))
    preset = Preset.objects.get(name="google_shopping")
    made = renditions.rendition_get_or_create(cutout=cutout, preset=preset)
    assert made.compliance["renderer"] == variants.RENDERER_VERSION
    # a row an older renderer wrote: same (cutout, spec), other bytes and compliance
    Rendition.objects.filter(pk=made.pk).update(
        sha256="0" * 64, compliance={**made.compliance, "renderer": "old"})
    again = renditions.rendition_get_or_create(cutout=cutout, preset=preset)
    assert again.sha256 == made.sha256
    assert again.compliance["renderer"] == variants.RENDERER_VERSION
    assert Rendition.objects.filter(cutout=cutout).count() == 1


# --- specks, SKU case, which image an excluded row is


def speck_cutout(*, product, position="MAIN"):
    """An approved cutout that kept a 9x10 px blob of an 1100 x 825 photo."""
    import uuid

    from django.core.files.base import ContentFile

    from cutouts.models import Cutout
    from tests.factories import ImageAssetFactory

    image = Image.new("RGBA", (1100, 825), (0, 255, 0, 0))
    image.paste((200, 30, 30, 255), (500, 400, 509, 410))
    out = io.BytesIO()
    image.save(out, "PNG")
    name = storages["default"].save(f"cutouts/test/{uuid.uuid4().hex}/cutout.png",
                                    ContentFile(out.getvalue()))
    cutout = Cutout.objects.create(
        asset=ImageAssetFactory(product=product, position=position), version=1,
        status=JobStatus.DONE, rgba_name=name, width=1100, height=825, model_name="u2netp")
    return review.cutout_approve(cutout=cutout, user=reviewer())


def test_it_excludes_a_speck_with_a_clear_reason_instead_of_ok(no_enqueue):
    speck_cutout(product=ProductFactory(sku="QA-SPECK"))
    job = run(export_jobs.export_job_create(presets=["ebay", "transparent_png"]))
    assert (job.exported_count, job.failed_count) == (0, 2)
    reasons = {r["preset"]: r["reason"] for r in job.report["excluded"]}
    assert reasons["ebay"].startswith(
        "not exported: failed: the product is only 9x10 px in the cutout")
    assert "re-cut or retouch it in review" in reasons["transparent_png"]
    assert not Rendition.objects.filter(compliance_ok=True).exists()


def test_an_ordinary_photo_enlarged_to_the_canvas_still_exports(no_enqueue):
    # the helpers' 800 x 600 photo (a 401 px product) to Amazon's 2000 px: 4.2x, a warning
    approved_cutout(product=ProductFactory(sku="QA-ORD", asin="B0QAORD001"))
    job = run(export_jobs.export_job_create(presets=["amazon_main"]))
    assert (job.exported_count, job.failed_count) == (1, 0)
    with storages["exports"].open(job.manifest_name, "rb") as fh:
        (row,) = manifest_rows(fh.read())
    assert row["compliance"].startswith("ok (warnings: the product is enlarged 4.2x")


def test_a_rendition_checked_before_the_speck_limits_is_checked_again(no_enqueue):
    cutout = speck_cutout(product=ProductFactory(sku="QA-CACHED"))
    run(export_jobs.export_job_create(presets=["ebay"]))
    # what an older check stored: "ok", and no checks version
    row = Rendition.objects.get(cutout=cutout)
    made = {k: v for k, v in row.compliance.items() if k != "checks"}
    Rendition.objects.filter(pk=row.pk).update(
        compliance_ok=True, compliance={**made, "ok": True, "summary": "ok", "errors": []})
    job = run(export_jobs.export_job_create(presets=["ebay"]))
    assert (job.exported_count, job.failed_count) == (0, 1)
    row.refresh_from_db()
    assert not row.compliance_ok and row.compliance["checks"] == variants.CHECKS_VERSION


def test_edited_rules_re_check_a_stored_speck_with_the_source_limits(no_enqueue):
    cutout = speck_cutout(product=ProductFactory(sku="QA-RULES"))
    run(export_jobs.export_job_create(presets=["ebay"]))
    Preset.objects.filter(name="ebay").update(rules={**variants.PRESETS["ebay"].rules.to_dict(),
                                                     "max_bytes": 9_000_000})
    job = run(export_jobs.export_job_create(presets=["ebay"]))
    assert job.failed_count == 1
    row = Rendition.objects.get(cutout=cutout)
    assert "only 9x10 px in the cutout" in row.compliance["summary"]


def test_excluded_rows_and_the_manifest_say_which_image(no_enqueue):
    product = ProductFactory(sku="QA001")  # no GTIN: Walmart names neither image
    main = approved_cutout(product=product, position="MAIN")
    back = approved_cutout(product=product, position="PT01")
    job = run(export_jobs.export_job_create(presets=["walmart", "amazon_main"]))
    excluded = sorted((r["position"], r["asset_id"]) for r in job.report["excluded"])
    assert excluded == sorted([("MAIN", main.asset_id), ("PT01", back.asset_id)])
    with storages["exports"].open(job.manifest_name, "rb") as fh:
        rows = manifest_rows(fh.read())
    # appended after the old columns: a reader of those by position is not moved
    assert tuple(rows[0])[:10] == variants.MANIFEST_COLUMNS[:10]
    assert tuple(rows[0])[10:12] == ("position", "asset_id")
    walmart = sorted((r["position"], r["asset_id"]) for r in rows if r["preset"] == "walmart")
    assert walmart == sorted([("MAIN", str(main.asset_id)), ("PT01", str(back.asset_id))])


def test_the_sku_filter_matches_as_import_does():
    from django.utils import timezone

    from catalog.models import Product
    from cutouts.selectors.export import products_by_sku

    qa = ProductFactory(sku="QA004")
    assert products_by_sku(skus=["qa004"]).product_ids == [qa.pk]
    assert products_by_sku(skus=["qa004", "QA004"]).product_ids == [qa.pk]  # one product
    # an exact match wins over a case twin (live twins cannot exist: UPPER(sku) is unique
    # among live products; a deleted one can)
    live = ProductFactory(sku="qa005")
    deleted = ProductFactory(sku="QA005-OLD")
    Product.objects.filter(pk=deleted.pk).update(sku="QA005", deleted_at=timezone.now())
    assert products_by_sku(skus=["qa005"]).product_ids == [live.pk]
    assert products_by_sku(skus=["QA005"]).problem == "Deleted product(s): QA005"
    # unknown and deleted, in any case
    gone = ProductFactory(sku="QA007")
    Product.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    lookup = products_by_sku(skus=["nope", "qa007"])
    assert lookup.problem == "Unknown SKU(s): nope; Deleted product(s): qa007"


def test_it_describes_no_file_for_excluded_rows_in_the_manifest(no_enqueue, too_small_preset):
    # an excluded row kept the file name, size and sha256 of a file not in the ZIP
    approved_cutout(product=ProductFactory(sku="SS26-TEE-001", asin="B0TEE00001"),
                    position="PT01")
    job = run(export_jobs.export_job_create(presets=["amazon_main", "too_small"]))
    archive = read_zip(job)
    rows = manifest_rows(archive.read("manifest.csv"))
    kept, excluded = rows
    assert kept["file"] in archive.namelist() and kept["planned_file"] == kept["file"]
    assert kept["sha256"] == hashlib.sha256(archive.read(kept["file"])).hexdigest()
    assert excluded["compliance"].startswith("not exported: failed:")
    assert [excluded[k] for k in ("file", "width", "height", "bytes", "sha256")] == [""] * 5
    assert excluded["planned_file"] == "too_small/SS26-TEE-001.jpg"
    assert excluded["planned_file"] not in archive.namelist()
    assert (excluded["sku"], excluded["position"]) == ("SS26-TEE-001", "PT01")
    assert excluded["asset_id"] == kept["asset_id"] != ""
    # the page's excluded list still names the file it would have been
    assert job.report["excluded"][0]["file"] == "too_small/SS26-TEE-001.jpg"
    # forced in, the failing file is in the ZIP and its row describes it
    forced = run(export_jobs.export_job_create(presets=["amazon_main", "too_small"],
                                               include_failing=True))
    row = manifest_rows(read_zip(forced).read("manifest.csv"))[1]
    assert row["file"] == "too_small/SS26-TEE-001.jpg" and row["sha256"]
    # a dry run writes nothing; the rows it would leave out read as excluded ones do
    dry = run(export_jobs.export_job_create(presets=["amazon_main", "too_small"],
                                            dry_run=True))
    with storages["exports"].open(dry.manifest_name, "rb") as fh:
        cached = manifest_rows(fh.read())
    assert [(r["file"], r["sha256"] != "") for r in cached] == [
        ("amazon_main/B0TEE00001.PT01.jpg", True), ("", False)]


def _mixed_catalog():
    """A catalog: DOLL-011 imported, never cut; GIRAFFE-013 cut (MAIN) and awaiting
    review on PT01, never approved; TOOL-001 approved; PLUSH-002 MAIN approved, PT01 awaiting
    review, PT02 flagged; KITE-004 has no image at all."""
    from catalog.models import ImageAsset
    from cutouts.models import FlagReason
    from cutouts.services.review import cutout_flag
    from cutouts.services.status import assets_status_sync
    from tests.factories import ImageAssetFactory

    doll = ProductFactory(sku="DOLL-011")
    ImageAssetFactory(product=doll, position="MAIN")
    giraffe = ProductFactory(sku="GIRAFFE-013")
    ImageAssetFactory(product=giraffe, position="MAIN")
    done_cutout(product=giraffe, position="PT01")
    approved_cutout(product=ProductFactory(sku="TOOL-001"), size=MARKET_PHOTO)
    plush = ProductFactory(sku="PLUSH-002")
    approved_cutout(product=plush, position="MAIN", size=MARKET_PHOTO)
    done_cutout(product=plush, position="PT01")
    flagged = done_cutout(product=plush, position="PT02")
    cutout_flag(cutout=flagged, user=reviewer(), reasons=[FlagReason.HALO])
    kite = ProductFactory(sku="KITE-004")
    assets_status_sync(asset_ids=ImageAsset.objects.values_list("pk", flat=True))
    return [p.pk for p in (doll, giraffe, kite,
                           *Product.objects.filter(sku__in=["TOOL-001", "PLUSH-002"]))]


def test_it_warns_before_start_of_selected_images_without_an_approved_cutout(no_enqueue):
    ids = _mixed_catalog()
    warning = export_selectors.export_not_approved(product_ids=ids)
    assert warning is not None and warning.code == export_selectors.NOT_APPROVED
    assert (warning.count, warning.total) == (4, 5)
    assert warning.skus == ["DOLL-011", "GIRAFFE-013", "KITE-004", "PLUSH-002"]
    assert ("DOLL-011, GIRAFFE-013, KITE-004 have no approved image; "
            "no cutout: DOLL-011 MAIN, GIRAFFE-013 MAIN; "
            "awaiting review: GIRAFFE-013 PT01, PLUSH-002 PT01; flagged: PLUSH-002 PT02; "
            "no image: KITE-004") in warning.message
    # the approved ones alone: nothing to say; without a SKU list the catalog's products are
    # counted (they used to be passed over without a word)
    tool = Product.objects.get(sku="TOOL-001").pk
    assert export_selectors.export_not_approved(product_ids=[tool]) is None
    everything = export_selectors.export_not_approved()
    assert (everything.count, everything.total) == (4, 5)
    assert "4 of the 5 product(s) in the catalog" in everything.message
    presets = export_selectors.preset_resolve(names=["ebay"])
    assert [w.code for w in export_selectors.export_warnings(presets=presets, product_ids=ids)
            ] == [export_selectors.NOT_APPROVED]


def test_it_counts_the_images_without_approval_in_a_bounded_number_of_queries(
        no_enqueue, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ImageAssetFactory

    ids = _mixed_catalog()
    with CaptureQueriesContext(connection) as few:
        export_selectors.export_not_approved(product_ids=ids)
    for n in range(30):
        ImageAssetFactory(product=ProductFactory(sku=f"MORE-{n:03}"), position="MAIN")
    ids += list(Product.objects.filter(sku__startswith="MORE-").values_list("pk", flat=True))
    with django_assert_max_num_queries(len(few.captured_queries)):
        warning = export_selectors.export_not_approved(product_ids=ids)
    assert warning.count == 34
    assert "MORE-001 and 28 more have no approved image" in warning.message
    assert "MORE-002 MAIN and 27 more; awaiting review" in warning.message


def test_the_manifest_and_result_name_the_selected_images_that_are_not_approved(no_enqueue):
    ids = _mixed_catalog()
    job = run(export_jobs.export_job_create(presets=["ebay"], product_ids=ids))
    assert job.status == JobStatus.DONE, job.message
    assert job.exported_count == 2  # TOOL-001 and PLUSH-002 MAIN
    assert job.message == ("2 file(s) exported, 0 excluded. 6 selected image(s) not exported: "
                           "not approved (see the manifest).")
    assert job.report["not_approved_count"] == 6
    rows = manifest_rows(read_zip(job).read("manifest.csv"))
    left_out = [(r["sku"], r["position"], r["compliance"], r["file"]) for r in rows
                if r["compliance"].startswith("not approved")]
    assert left_out == [
        ("DOLL-011", "MAIN", "not approved: no cutout", ""),
        ("GIRAFFE-013", "MAIN", "not approved: no cutout", ""),
        ("GIRAFFE-013", "PT01", "not approved: awaiting review", ""),
        ("PLUSH-002", "PT01", "not approved: awaiting review", ""),
        ("PLUSH-002", "PT02", "not approved: flagged", ""),
        ("KITE-004", "", "not approved: no image", ""),
    ]
    # a dry run says the same
    dry = run(export_jobs.export_job_create(presets=["ebay"], product_ids=ids, dry_run=True))
    assert "6 selected image(s) would not be exported: not approved" in dry.message
    with storages["exports"].open(dry.manifest_name, "rb") as fh:
        assert sum(r["compliance"].startswith("not approved")
                   for r in manifest_rows(fh.read())) == 6


def test_it_names_the_sku_field_and_why_when_nothing_selected_is_approved(no_enqueue):
    ids = _mixed_catalog()[:2]  # DOLL-011, GIRAFFE-013
    with pytest.raises(ExportError) as refused:
        export_jobs.export_job_create(presets=["ebay"], product_ids=ids)
    assert refused.value.field == "skus"
    assert "DOLL-011, GIRAFFE-013 have no approved image" in str(refused.value)


def test_the_manifest_names_the_spec_of_every_row(no_enqueue):
    approved_cutout(product=ProductFactory(sku="SPEC-1", asin="B0SPEC0001"), size=MARKET_PHOTO)
    spec = "trim|fill-85|square-400|bg-ffffff|format-jpeg"
    job = run(export_jobs.export_job_create(presets=["amazon_main"], specs=[spec]))
    rows = manifest_rows(read_zip(job).read("manifest.csv"))
    assert tuple(rows[0])[:13] == variants.MANIFEST_COLUMNS
    assert tuple(rows[0])[13:] == ("spec", "status")
    by_preset = {r["preset"]: r["spec"] for r in rows}
    folder = export_selectors.spec_preset(spec).name
    assert by_preset[folder] == variants.parse_spec(spec).canonical()
    assert by_preset["amazon_main"] == variants.get_preset("amazon_main").spec


def test_it_notes_a_margin_that_acts_without_trim():
    presets = export_selectors.preset_resolve(names=[
        "spec:margin-60|square-800|bg-ffffff|format-jpeg",
        "spec:trim|margin-60|square-800|bg-ffffff|format-jpeg"])
    notes = export_selectors.spec_notes(presets=presets)
    assert len(notes) == 1 and notes[0].preset == presets[0].name
    assert "margin only acts with trim or fill" in notes[0].message


def test_it_keeps_the_faint_mark_warning_when_a_rules_edit_rechecks_a_rendition(no_enqueue):
    cutout = approved_cutout(product=ProductFactory(sku="MARKS-1"))
    preset = Preset.objects.get(name="google_shopping")
    made = renditions.rendition_get_or_create(cutout=cutout, preset=preset)
    # what the renderer recorded for a cutout with a see-through mark in its box
    compliance = dict(made.compliance)
    compliance["measurements"] = {**compliance.get("measurements", {}),
                                  "faint_marks": [{"box": [10, 12, 40, 44], "share": 0.02}]}
    Rendition.objects.filter(pk=made.pk).update(compliance=compliance)
    preset.rules = {**preset.rules, "min_long_side": 900}
    preset.save()
    rechecked = renditions.rendition_get_or_create(cutout=cutout, preset=preset)
    assert any("faint see-through mark" in w for w in rechecked.compliance["warnings"]), \
        rechecked.compliance


def test_the_migration_makes_amazon_main_require_the_whole_product():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("cutouts.migrations.0011_amazon_whole_product")
    Preset.objects.filter(name="amazon_main").update(rules={"background": "ffffff"})
    Preset.objects.filter(name="walmart").update(rules={"background": "ffffff"})
    migration.require_whole_product(apps, None)
    assert Preset.objects.get(name="amazon_main").rules["whole_product"] is True
    assert "whole_product" not in Preset.objects.get(name="walmart").rules
    Preset.objects.filter(name="amazon_main").update(rules={"whole_product": False})
    migration.require_whole_product(apps, None)  # an admin's choice is kept
    assert Preset.objects.get(name="amazon_main").rules["whole_product"] is False


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


def test_it_reads_the_cutout_rows_once_in_a_dry_run():
    for n in range(3):
        cutout = approved_cutout(product=ProductFactory(sku=f"ONE-{n}"))
        cutout.signals = {**cutout.signals, "product_px": [400, 360]}
        cutout.save(update_fields=["signals"])
    job = export_jobs.export_job_create(specs=["trim|long-5000|format-png"], dry_run=True,
                                        enqueue=False)
    with CaptureQueriesContext(connection) as queries:
        run_job(job)
    cutout_reads = [q["sql"] for q in queries.captured_queries
                    if 'FROM "cutouts_cutout"' in q["sql"]]
    # the plan's rows and the sources' rows; _product_boxes queried the cutouts a third time
    assert len(cutout_reads) == 2, cutout_reads
    # the box still comes through: 400 px to 5000 px is over the 8x limit (the whole
    # 800 px cutout, 6.25x, would ship)
    assert job.report["excluded_count"] == 3


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
    job = run_dry(presets=["amazon_main"])
    assert reads == []  # the file was read and checked again to move one error
    assert job.report["would_export"] == would
    real = run_job(export_jobs.export_job_create(presets=["amazon_main"], enqueue=False))
    assert (real.exported_count, real.failed_count) == (would, 1 - would)
    stored = Rendition.objects.get(cutout=cutout)
    assert stored.compliance_ok is bool(would)
    assert stored.compliance["measurements"]["position"] == now


def _gtin(n: int) -> str:
    """A valid GTIN-13 of its own per ``n`` (Walmart names files by it)."""
    body = f"400638133{n:03d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str(-total % 10)


def _measured(sku: str, n: int, position: str, rgba: bytes):
    """An approved cutout of ``rgba`` with the signals a finished version stores of it
    (``measured``)."""
    return measured(with_rgba(approved_cutout(
        product=ProductFactory(sku=sku, gtin=_gtin(n)), position=position), rgba))


def _cloudy_png() -> bytes:
    """Scissors with a grey cloud kept between the blades (a faint mark white refuses)."""
    rgba = np.zeros((600, 800, 4), np.uint8)
    rgba[..., :3] = (90, 90, 100)
    rgba[..., 3] = with_cloud(blades((800, 600)), level=90)
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    return out.getvalue()


def _outcomes(job: ExportJob) -> tuple:
    """What an export (or a dry run, of the export it would write) ships and refuses: the
    counts, per preset, and which files it refuses."""
    shipped = job.report["would_export"] if job.dry_run else job.exported_count
    return (shipped, job.report["excluded_count"], job.report["failing_included_count"],
            {row["name"]: (row["shipped"], row["refused"])
             for row in job.report[export_selectors.PRESETS_REPORT]},
            sorted((r["sku"], r["position"], r["preset"]) for r in job.report["excluded"]))


@pytest.mark.parametrize("include_failing", [False, True])
def test_it_counts_in_a_dry_run_what_the_export_refuses_from_stored_signals(include_failing):
    """QA F3 (2026-12-06): the dry run said "14 file(s) would be exported, 7 excluded" and
    "would be rendered" of CUT34's Amazon main image; the export refused it ("cut off by
    the photo's edge"): 13 exported, 8 excluded. It now foresees what the stored signals say
    the check will refuse, by the functions the check and the pre-check ask: a frame cut
    (Amazon main image only), a faint mark on white, a speck under 32 px. Dry run first:
    the real run's renditions would otherwise give it their verdicts."""
    _measured("CUT34", 1, "MAIN", cut_off_png())
    _measured("CUT35", 2, "PT01", cut_off_png())  # a detail image: Amazon ships it
    _measured("BIKE34", 3, "MAIN", _cloudy_png())
    _measured("SPECK34", 4, "MAIN", rgba_png(box=(390, 290, 410, 310)))
    _measured("OK34", 5, "MAIN", rgba_png())
    _measured("OK35", 6, "MAIN", rgba_png())
    presets = ["amazon_main", "ebay", "walmart", "transparent_png"]
    dry = run_dry(presets=presets, include_failing=include_failing)
    assert not Rendition.objects.exists()  # nothing rendered: the dry run foresaw it all
    real = run_presets(presets, include_failing=include_failing)
    assert _outcomes(dry) == _outcomes(real)
    refused = _outcomes(real)[4]
    assert (("CUT34", "MAIN", "amazon_main") in refused) is not include_failing
    assert ("CUT35", "PT01", "amazon_main") not in refused
    if include_failing:
        assert refused == [] and real.report["failing_included_count"] == 7
    else:
        assert {(sku, preset) for sku, _, preset in refused} == {
            ("CUT34", "amazon_main"), ("BIKE34", "amazon_main"), ("BIKE34", "walmart"),
            ("SPECK34", "amazon_main"), ("SPECK34", "ebay"), ("SPECK34", "walmart"),
            ("SPECK34", "transparent_png")}
        [cut] = [r["reason"] for r in dry.report["excluded"] if r["sku"] == "CUT34"]
        assert cut.startswith("dry run: would not be exported: failed: the product is cut "
                              "off by the photo's edge (bottom)")


@pytest.mark.parametrize("include_failing", [False, True])
def test_it_foresees_in_a_dry_run_the_warnings_and_reasons_of_the_export(include_failing):
    """QA (2026-12-06): the dry run's Presets table said eBay would ship CUT34 with no warning
    where the export shipped it "ok (warnings)" (the photo's frame cuts it), and worded a
    faint-mark refusal otherwise than the export, so the two tables' lines did not match.
    The dry run now foresees the warnings (frame cut where the preset warns, faint mark,
    enlargement) and says each finding in the check's own words. The transparent master is
    left out: it warns of a file without a fully transparent pixel, which only its pixels
    show."""
    _measured("CUT34", 1, "MAIN", cut_off_png())
    _measured("CUT35", 2, "PT01", cut_off_png())
    _measured("BIKE34", 3, "MAIN", _cloudy_png())
    _measured("SPECK34", 4, "MAIN", rgba_png(box=(390, 290, 410, 310)))
    _measured("OK34", 5, "MAIN", rgba_png())
    presets = ["amazon_main", "ebay", "walmart"]
    dry = run_dry(presets=presets, include_failing=include_failing)
    assert not Rendition.objects.exists()
    real = run_presets(presets, include_failing=include_failing)
    assert presets_table(dry) == presets_table(real)
    ebay_warned, _, ebay_warnings = presets_table(dry)["ebay"]
    assert ebay_warned == 4 + include_failing  # with it, SPECK34 ships, enlarged (a warning)
    assert any(reason.startswith("the product is cut off by the photo's edge") and count == 2
               for reason, count, _ in ebay_warnings)
    if not include_failing:  # else Walmart ships it despite the refusal
        faint = [line for line in presets_table(dry)["walmart"][1]
                 if "faint see-through mark" in line[0]]
        # one image: its line reads in full, "1 faint see-through mark(s) …" (2026-12-06)
        assert [(line[0][:32], line[2]) for line in faint] == [
            ("1 faint see-through mark(s) insi", ("BIKE34 MAIN",))]


def _product_and_far_scrap_on_the_edge() -> bytes:
    """A product clear of every edge, and a small detached scrap (a banner's end a remove
    click left) far to its right, on the photo's right edge."""
    rgba = np.zeros((480, 854, 4), np.uint8)
    rgba[150:330, 120:420] = (200, 30, 30, 255)
    rgba[200:230, 830:854] = (40, 40, 200, 255)
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    return out.getvalue()


def test_it_foresees_what_the_export_does_with_a_detached_part_on_the_frame():
    """QA35 B1 (2026-12-06, dev photo 055 retouched): the form said "Amazon main image will
    refuse 1 main image(s) whose product the photo's edge cuts" and the dry run refused it,
    from the engine's ``touching_sides`` (every part of the mask); the export shipped it, the
    renderer's ``frame_cut`` reading the product's significant region only, which leaves the
    far scrap out of the layout. All three now read the renderer's measure (the stored
    ``frame_cut``)."""
    cutout = _measured("EDGE35", 1, "MAIN", _product_and_far_scrap_on_the_edge())
    assert cutout.signals["touching_sides"] == ["right"]  # the engine's: the scrap counts
    presets = ["amazon_main", "ebay"]
    checks = export_selectors.export_image_checks(
        presets=export_selectors.preset_resolve(names=presets))
    assert [g.identifier for g in checks if g.identifier.startswith("frame-")] == []
    dry = run_dry(presets=presets)
    assert not Rendition.objects.exists()
    real = run_presets(presets)
    assert _outcomes(dry) == _outcomes(real)
    assert presets_table(dry) == presets_table(real)
    assert real.exported_count == 2 and real.report["excluded_count"] == 0
    assert [r.compliance["measurements"]["frame_cut"]
            for r in Rendition.objects.filter(cutout=cutout)] == [[], []]


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
    job = run_dry(presets=["stale"])
    assert len(reads) == 2
    assert job.report["excluded_count"] == 2 and job.report["provisional_count"] == 0
    assert "re-checked on export" not in job.message


def test_it_keeps_the_stored_verdict_past_the_budget_and_says_so(reads, monkeypatch):
    _stale(2)
    monkeypatch.setattr(renditions, "DRY_RUN_RECHECK_MAX", 0)
    reads.clear()
    job = run_dry(presets=["stale"])
    assert reads == []
    assert job.report["provisional_count"] == 2 and job.report["would_export"] == 2
    assert job.message == (
        "Dry run: 2 file(s) would be exported; nothing written. 2 verdict(s) checked with "
        "the presets' earlier rules are re-checked on export (counted as last checked).")
    assert {r["compliance"] for r in _manifest(job)} == {
        "dry run (cached, checked with the preset's earlier rules: re-checked on export): ok"}
    # the real run re-checks every one
    real = run_job(export_jobs.export_job_create(presets=["stale"], enqueue=False))
    assert (real.exported_count, real.failed_count) == (0, 2)


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


@pytest.mark.parametrize("clock", ["slow", "frozen"])
def test_it_re_checks_exactly_the_budgeted_number_of_stale_verdicts(reads, monkeypatch,
                                                                    clock):
    budget, extra = 3, 2
    _stale(budget + extra)
    monkeypatch.setattr(renditions, "DRY_RUN_RECHECK_MAX", budget)
    # the storage's speed that minute: 10 s between two reads of the clock, or none at all
    ticks = itertools.count(step=10.0) if clock == "slow" else itertools.repeat(1000.0)
    monkeypatch.setattr(time, "monotonic", lambda: next(ticks))
    reads.clear()
    job = run_presets(["stale"], dry_run=True)
    assert len(reads) == budget
    assert job.report["excluded_count"] == budget  # re-checked: the edited rules fail them
    assert job.report["provisional_count"] == extra and job.report["would_export"] == extra
    assert (f" {extra} verdict(s) checked with the presets' earlier rules are re-checked on "
            "export (counted as last checked).") in job.message


@pytest.mark.parametrize(("folder", "words"), [
    ("/tmp/evil", "'/tmp/evil' is an absolute path"),
    ("//server/share", "is an absolute path"),
    ("\\evil", "is an absolute path"),
    ("C:\\evil", "is an absolute path"),
    ("a/../../b", "cannot step up or stay put with '..'"),
    ("./a", "cannot step up or stay put"),
])
def test_it_refuses_an_absolute_or_climbing_folder(sent, folder, words):
    with pytest.raises(ExportError, match=words.replace("(", r"\(")) as refused:
        export_jobs.export_folder_clean(folder=folder, destination="folder")
    assert refused.value.field == "folder"
    approved_cutout(product=ProductFactory(sku="ABS-2"))
    with pytest.raises(ExportError) as refused:
        export_jobs.export_job_create(presets=["amazon_main"], destination="folder",
                                      folder=folder)
    assert refused.value.field == "folder" and not ExportJob.objects.exists()


def test_it_keeps_a_relative_folder_and_drops_only_a_trailing_slash():
    assert export_jobs.export_folder_clean(folder=" feeds/amazon/ ",
                                           destination="folder") == "feeds/amazon"
    assert export_jobs.export_folder_clean(folder="", destination="download") == ""


def test_it_refuses_a_folder_typed_for_a_zip_download(sent):
    approved_cutout(product=ProductFactory(sku="ZIPF-2"))
    with pytest.raises(ExportError, match="only used when the destination is 'folder'") as r:
        export_jobs.export_job_create(presets=["amazon_main"], folder="spring/amazon")
    assert r.value.field == "folder" and not ExportJob.objects.exists()


def test_it_refuses_an_empty_selection_at_the_narrowest_filter(sent):
    ImageAssetFactory(product=ProductFactory(sku="EMPTY-1", brand="Acme"), position="MAIN")

    def field(**filters) -> str:
        with pytest.raises(ExportError, match="Nothing to export") as refused:
            export_jobs.export_job_create(presets=["amazon_main"], **filters)
        return refused.value.field

    ids = [ProductFactory(sku="EMPTY-2").pk]
    assert field(product_ids=ids, brand="Acme", approved_since="2020-01-01") == "skus"
    assert field(brand="Acme", approved_since="2020-01-01") == "brand"
    assert field(approved_since="2020-01-01") == "approved_since"
    assert field() == "skus"


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


def _dry_run(spec: str, **kwargs) -> ExportJob:
    return run_dry(specs=[spec], **kwargs)


@pytest.mark.parametrize("include_failing", [False, True])
def test_it_refuses_a_layout_over_the_output_limit_in_a_dry_run_in_the_exports_words(
        include_failing):
    """trim|long-15000 "would be rendered" in a dry run, then "cannot be rendered: output of
    …" where the export said "cannot render: output of …": one refusal, two lines in the
    Presets tables. One function words both (``renditions.render_refusal``); no
    include_failing ships a file that was never rendered."""
    measured(approved_cutout(product=ProductFactory(sku="HUGE-1")))
    spec = "trim|long-15000|format-png"  # the 400x360 px ellipse: 15000x13500 px
    dry = _dry_run(spec, include_failing=include_failing)
    real = run_job(export_jobs.export_job_create(specs=[spec], enqueue=False,
                                                 include_failing=include_failing))
    assert dry.message.startswith("Dry run: 0 file(s) would be exported, 1 excluded")
    assert (real.exported_count, real.failed_count) == (0, 1)
    assert presets_table(dry) == presets_table(real)
    [(_, reasons, _)] = presets_table(real).values()
    assert [(reason.split(":")[0], count) for reason, count, _ in reasons] == [
        ("cannot render", 1)]
    [foreseen], [refused] = dry.report["excluded"], real.report["excluded"]
    assert (foreseen["reason"].removeprefix("dry run: would not be exported: ")
            == refused["reason"].removeprefix("not exported: "))


def test_it_tells_in_a_dry_run_what_the_enlargement_limit_excludes():
    cutout = approved_cutout(product=ProductFactory(sku="HUGE-1"))
    cutout.signals = {**cutout.signals, "product_px": [400, 360]}
    cutout.save(update_fields=["signals"])
    # 400 px to 5000 px is 12.5x: a compliance failure (in the export's words:
    # test_it_refuses_an_enlarged_product_in_a_dry_run_in_the_exports_words), shipped only
    # with include_failing
    blown = _dry_run("trim|long-5000|format-png")
    assert blown.message.startswith("Dry run: 0 file(s) would be exported, 1 excluded")
    forced = _dry_run("trim|long-5000|format-png", include_failing=True)
    assert forced.message.startswith(
        "Dry run: 1 file(s) would be exported (1 despite failing compliance);")
    assert _dry_run("trim|long-2000|format-png").message.startswith(
        "Dry run: 1 file(s) would be exported; nothing written.")


@pytest.mark.parametrize("include_failing", [False, True])
def test_it_refuses_an_enlarged_product_in_a_dry_run_in_the_exports_words(include_failing):
    """A dry run said "the product (400x360 px) would be enlarged 12.5x, over the 8x limit"
    where the export said "the product is enlarged 12.5x from 400x360 px in the cutout, over
    the 8x limit, …": one refusal, two lines in the Presets tables. It asks the check's own
    ``check_source`` now: the same line, whatever the words."""
    measured(approved_cutout(product=ProductFactory(sku="BLOWN-1"), size=(160, 120)))
    spec = "trim|long-1000|format-png"  # an 81 px product to 1000 px: 12.3x
    dry = _dry_run(spec, include_failing=include_failing)
    real = run_job(export_jobs.export_job_create(specs=[spec], enqueue=False,
                                                 include_failing=include_failing))
    assert dry.report["failing_included_count"] == real.report["failing_included_count"] == (
        int(include_failing))
    assert presets_table(dry) == presets_table(real)
    [(_, reasons, warnings)] = presets_table(real).values()
    assert warnings if include_failing else reasons  # the file ships softened, or is refused
    if not include_failing:
        [foreseen], [refused] = dry.report["excluded"], real.report["excluded"]
        assert (foreseen["reason"].removeprefix("dry run: would not be exported: ")
                == refused["reason"].removeprefix("not exported: "))


def test_it_foresees_in_a_dry_run_a_preset_whose_size_breaks_its_own_rules(too_small_preset):
    """An admin's preset rendering 400 px where its rules demand 1000 fails every file; a dry
    run said "would be rendered" of each until the export refused them."""
    measured(approved_cutout(product=ProductFactory(sku="EDITED-1")))
    dry = run_dry(presets=["amazon_main", "too_small"])
    assert not Rendition.objects.exists()
    real = run_presets(["amazon_main", "too_small"])
    assert (dry.report["would_export"], dry.report["excluded_count"]) == (
        real.exported_count, real.failed_count) == (1, 1)
    assert presets_table(dry) == presets_table(real)
    [foreseen], [refused] = dry.report["excluded"], real.report["excluded"]
    assert foreseen["preset"] == refused["preset"] == "too_small"
    assert (foreseen["reason"].removeprefix("dry run: would not be exported: ")
            == refused["reason"].removeprefix("not exported: "))


@pytest.mark.parametrize("include_failing", [False, True])
@pytest.mark.parametrize("rules", [
    {"formats": ["png", "webp"]},
    # both broken: the check of the file says the format first, and so must a dry run
    {"formats": ["png"], "min_long_side": 1000, "recommended_short_side": 2000},
])
def test_it_foresees_in_a_dry_run_a_preset_whose_format_its_rules_refuse(rules,
                                                                         include_failing):
    """An admin's preset rendering JPEG where its rules accept PNG fails every file; a dry run
    said "would be rendered" of each until the export refused them "format jpeg is not
    accepted (allowed: png)". Foreseen from the spec's format, in the check's words and
    order: the Presets table lists a refusal's findings in the check's order."""
    Preset.objects.create(name="edited", label="Edited", spec=SMALL, naming="{sku}.{ext}",
                          rules={"background": "ffffff", **rules})
    measured(approved_cutout(product=ProductFactory(sku="FORMAT-1")))
    dry = run_dry(presets=["amazon_main", "edited"], include_failing=include_failing)
    assert not Rendition.objects.exists()
    real = run_presets(["amazon_main", "edited"], include_failing=include_failing)
    assert dry.report["failing_included_count"] == real.report["failing_included_count"] == (
        int(include_failing))
    assert presets_table(dry) == presets_table(real)
    if not include_failing:  # else it ships despite the refusal
        [(reason, count, _)] = presets_table(real)["edited"][1]
        allowed = ", ".join(rules["formats"])
        # the table keeps every finding (ux35), the format's first as the file check says it
        assert reason.startswith(f"format jpeg is not accepted (allowed: {allowed})")
        assert count == 1
        [foreseen], [refused] = dry.report["excluded"], real.report["excluded"]
        assert foreseen["preset"] == refused["preset"] == "edited"
        assert (foreseen["reason"].removeprefix("dry run: would not be exported: ")
                == refused["reason"].removeprefix("not exported: "))


@pytest.fixture
def finished_payloads(monkeypatch):
    """The export.finished payloads the services emit (without the on-commit fan-out)."""
    from catalog import events

    sent: list[dict] = []
    monkeypatch.setattr(events, "emit", lambda event_type, data, **kw: sent.append(data)
                        if event_type == "export.finished" else None)
    return sent


def test_it_sends_the_failing_included_count_in_export_finished(finished_payloads):
    Preset.objects.create(name="too_small", label="Too small", spec=SMALL, naming="{sku}.{ext}",
                          rules={"background": "ffffff", "min_long_side": 1000,
                                 "formats": ["jpeg"]})
    approved_cutout(product=ProductFactory(sku="HOOK-1"))
    approved_cutout(product=ProductFactory(sku="HOOK-2"))
    job = export_jobs.export_job_create(presets=["too_small"], include_failing=True,
                                        enqueue=False)
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    [payload] = finished_payloads
    # the API's ExportOut had it; the webhook said only "exported": 2
    assert payload["failing_included_count"] == job.report["failing_included_count"] == 2


def test_it_sends_no_failing_files_for_a_compliant_export(finished_payloads):
    approved_cutout(product=ProductFactory(sku="HOOK-3"))
    job = export_jobs.export_job_create(presets=["ebay"], enqueue=False)
    assert export_job_run_task(job.pk) == "done"
    assert finished_payloads[0]["failing_included_count"] == 0


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


def test_it_dry_runs_a_cached_rendition_that_left_the_main_position_as_exported():
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


def test_it_marks_an_image_exported_when_one_chosen_preset_shipped_it():
    tiny = approved_cutout(product=ProductFactory(sku="TINY-1"), size=(121, 157))
    fine = approved_cutout(product=ProductFactory(sku="FINE-1"), size=(2000, 1500))
    job = run_job(export_jobs.export_job_create(
        presets=["amazon_main", "shopify", "transparent_png"], enqueue=False))
    refused = {row["sku"] for row in job.report["excluded"]}
    assert refused == {"TINY-1"}
    assert job.exported_count == 4  # the tiny one's PNG and the fine one's three files
    tiny.asset.refresh_from_db(), fine.asset.refresh_from_db()
    tiny.refresh_from_db()
    # its PNG was written, Amazon and Shopify refused it: its file went out, so Exported
    # (it used to stay Approved, and the dashboard said "Exported 0"), partly: the rows say
    assert tiny.asset.status == AssetStatus.EXPORTED
    assert tiny.exported_at == job.finished_at
    assert fine.asset.status == AssetStatus.EXPORTED
    assert job.report["partly_exported_count"] == 1
    assert "1 image(s) partly exported: a chosen preset refused them" in job.message
    assert sorted(job.refusals.values_list("asset_id", "preset")) == [
        (tiny.asset_id, "amazon_main"), (tiny.asset_id, "shopify")]


def test_it_points_the_partly_exported_notification_at_the_exportspresets_table(client):
    user = manager()
    approved_cutout(product=ProductFactory(sku="TINY-3"), size=(121, 157))
    job = run_job(export_jobs.export_job_create(
        user=user, presets=["amazon_main", "transparent_png"], enqueue=False))
    assert job.report["partly_exported_count"] == 1
    note = Notification.objects.get(user=user)
    # the dashboard shows it, and has no Presets section "below"
    assert "Presets below" not in note.text
    assert "see the Presets table on the export's page" in note.text
    page, anchor = note.url.split("#")
    assert page.endswith(f"/export/{job.pk}/") and anchor == "preset-results"
    client.force_login(user)
    assert f'id="{anchor}"' in client.get(page).content.decode()


def test_it_marks_an_image_exported_when_every_chosen_preset_wrote_it():
    tiny = approved_cutout(product=ProductFactory(sku="TINY-2"), size=(121, 157))
    job = run_job(export_jobs.export_job_create(presets=["transparent_png"], enqueue=False))
    assert job.exported_count == 1 and not job.report["excluded"]
    tiny.asset.refresh_from_db()
    assert tiny.asset.status == AssetStatus.EXPORTED
    assert "partly exported" not in job.message


SPEC = "trim|fill-85|square-300|bg-ffffff|shadow-none|format-jpeg|quality-80|srgb"


@pytest.fixture
def export_job(monkeypatch):
    """An export of 4 products x 2 presets (8 files), not sent to a broker."""
    monkeypatch.setitem(jobs._KINDS, "export", dataclasses.replace(
        jobs.job_kinds()["export"], enqueue=lambda ids: None))
    for name in ("rec_a", "rec_b"):
        Preset.objects.create(name=name, label=name, spec=SPEC, naming=f"{{sku}}_{name}.{{ext}}",
                              rules={})
    for i in range(4):
        approved_cutout(product=ProductFactory(sku=f"REC{i}"), size=(400, 300))
    return export_jobs.export_job_create(user=manager(), presets=["rec_a", "rec_b"],
                                         enqueue=False)


@pytest.fixture
def finished(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr(events, "emit", lambda event_type, data, **kw: seen.append(
        data["status"]) if event_type == "export.finished" else None)
    return seen


def _poison(monkeypatch, sku: str) -> None:
    """The worker dies while rendering ``sku`` (its renders run before the group is yielded)."""
    real = export_jobs.plan_renditions

    def plan(groups, presets, render, **hooks):
        for items, outputs, source in real(groups, presets, render, **hooks):
            if items[0].sku == sku:
                raise WorkerKilled
            yield items, outputs, source

    monkeypatch.setattr(export_jobs, "plan_renditions", plan)


def _run_and_die(job: ExportJob, settings) -> None:
    token = export_jobs.export_job_claim(job_id=job.pk, worker="dead@h:1")
    assert token
    with pytest.raises(WorkerKilled):
        export_jobs.export_job_run(job_id=job.pk, run_token=token)
    ExportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1))


def test_it_keeps_a_restarted_exports_bar_and_says_it_restarted(export_job, settings,
                                                                 monkeypatch):
    job = export_job
    # every cutout's progress is written (as a real run now does anyway)
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY_SECONDS", 0)
    _poison(monkeypatch, "REC2")
    _run_and_die(job, settings)
    job.refresh_from_db()
    assert (job.progress_done, job.exported_count) == (4, 4)
    assert jobs.jobs_reconcile()["export"]["running_reset"] == 1
    monkeypatch.undo()  # the next run gets past REC2
    monkeypatch.setitem(jobs._KINDS, "export", jobs.job_kinds()["export"])
    token = export_jobs.export_job_claim(job_id=job.pk, worker="w@h:2")
    job.refresh_from_db()
    # the bar and the count agree and stay where the dead run got to, and say why
    assert (job.status, job.progress_done, job.exported_count) == (JobStatus.RUNNING, 4, 4)
    assert job.message == export_jobs.RESTART_NOTE
    written: list[tuple[int | None, int | None]] = []
    real_progress = jobs.job_progress

    def spy(model, pk, tok, **fields):
        if model is ExportJob and "progress_done" in fields:
            written.append((fields["progress_done"], fields.get("exported_count")))
        return real_progress(model, pk, tok, **fields)

    monkeypatch.setattr(jobs, "job_progress", spy)
    assert export_jobs.export_job_run(job_id=job.pk, run_token=token) == "done"
    assert written and all(done >= 4 and exported >= 4 for done, exported in written)
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.exported_count) == (JobStatus.DONE, 8, 8)
    assert export_jobs.RESTART_NOTE not in job.message


def test_it_names_the_image_an_export_keeps_dying_on_and_announces_the_end_once(
        export_job, settings, monkeypatch, finished):
    job = export_job
    _poison(monkeypatch, "REC2")
    for _ in range(settings.CUTROOM_JOB_MAX_ATTEMPTS):
        _run_and_die(job, settings)
        result = jobs.jobs_reconcile()["export"]
    assert result["failed"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message.startswith("Failed after 4 of 8 files; 4 never reached and nothing "
                                  "delivered: the worker running this stopped 3 times")
    assert "while rendering REC2, image MAIN — too large or damaged?" in job.message
    assert job.report["gave_up_at"]["sku"] == "REC2" and job.report["not_reached_count"] == 4
    assert finished == ["failed"]
    assert Notification.objects.filter(text__startswith=f"Export {job.pk} failed").count() == 1
    # a second reconcile or a takeover sends nothing more
    assert jobs.jobs_reconcile()["export"]["failed"] == 0
    assert jobs._dead_run_reset(jobs.job_kinds()["export"], job, timezone.now()) is None
    assert finished == ["failed"]


@pytest.fixture
def progress_writes(monkeypatch):
    """The progress_done values an export wrote on its row while it ran, in order (the
    finish's own write is not one of them; ``lost``: a write found the row cancelled), with
    a condition render threads can wait on."""
    seen = {"written": [], "lost": False, "cond": threading.Condition()}
    real_progress = jobs.job_progress

    def spy(model, pk, tok, **fields):
        wrote = real_progress(model, pk, tok, **fields)
        if model is ExportJob and "progress_done" in fields:
            with seen["cond"]:
                if wrote:
                    seen["written"].append(fields["progress_done"])
                seen["lost"] = seen["lost"] or not wrote
                seen["cond"].notify_all()
        return wrote

    monkeypatch.setattr(jobs, "job_progress", spy)
    return seen


def test_it_advances_the_bar_after_each_render_not_each_cutout(
        no_enqueue, settings, monkeypatch, progress_writes):
    settings.CUTROOM_EXPORT_THREADS = 1  # one render thread: renders in plan order
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY_SECONDS", 0)
    monkeypatch.setattr(renditions, "WAIT_TICK_SECONDS", 0.01)
    for name in ("per_a", "per_b", "per_c"):
        Preset.objects.create(name=name, label=name, spec=SPEC,
                              naming=f"{{sku}}_{name}.{{ext}}", rules={})
    for sku in ("PER-1", "PER-2"):
        approved_cutout(product=ProductFactory(sku=sku), size=(400, 300))
    job = export_jobs.export_job_create(presets=["per_a", "per_b", "per_c"], enqueue=False)
    assert job.progress_total == 6  # 2 cutouts x 3 presets
    real_render, started = variants.render_variant, []
    cond, written = progress_writes["cond"], progress_writes["written"]

    def render(*args, **kwargs):
        # each render waits until the bar shows the one before it: the job's thread must
        # write it while the cutout's other presets are still to render
        with cond:
            cond.wait_for(lambda: len(started) <= max(written, default=0), timeout=5)
        started.append(1)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(variants, "render_variant", render)
    token = export_jobs.export_job_claim(job_id=job.pk)
    assert export_jobs.export_job_run(job_id=job.pk, run_token=token) == "done"
    assert written == [1, 2, 3, 4, 5, 6]
    job.refresh_from_db()
    assert (job.progress_done, job.exported_count) == (6, 6)


def test_it_writes_progress_alone_at_most_once_a_second_and_checkpoints_at_once(
        monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(export_jobs.time, "monotonic", lambda: clock[0])
    rows: list[dict] = []
    monkeypatch.setattr(export_jobs, "_progress", lambda job_id, token, **f: rows.append(f))
    item = dataclasses.make_dataclass("Item", ["preset", "error"])
    groups = [(1, [item(p, "") for p in ("a", "b", "c")]), (2, [item("a", "")])]
    count = export_jobs._RenderCount(groups)
    told: list[int] = []
    write = export_jobs._ProgressWrites(ExportJob(pk=1), "t", count, resume_from=0,
                                        restarting=False, total=4,
                                        progress=lambda done, total: told.append(done))
    count.rendered(0, "a")
    count.rendered(1, "a")  # rendered ahead: counted once its cutout is taken
    write.tick()  # within the second since the run began: nothing written
    assert rows == [] and told == [1]
    clock[0] += export_jobs.PROGRESS_EVERY_SECONDS
    write.tick()
    write.tick()  # nothing moved: nothing written
    assert rows == [{"progress_done": 1, "exported_count": 0, "failed_count": 0}]
    count.rendered(0, "b")
    clock[0] += 0.2
    write.tick()  # moved, but within the second of the last write
    assert len(rows) == 1 and told == [1, 2]
    count.take(0)
    write.counts.update(exported_count=3)
    write.step({"at": {"index": 3}})  # a checkpoint is written at once, with the bar
    assert rows[-1] == {"checkpoint": {"at": {"index": 3}}, "progress_done": 3,
                        "exported_count": 3, "failed_count": 0}
    clock[0] += export_jobs.PROGRESS_EVERY_SECONDS
    write.tick()
    assert rows[-1]["progress_done"] == 4 and told == [1, 2, 3, 4]


def test_it_stops_a_cancelled_run_between_two_renders_of_one_cutout(
        no_enqueue, settings, monkeypatch, progress_writes):
    settings.CUTROOM_EXPORT_THREADS = 1
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY_SECONDS", 0)
    monkeypatch.setattr(renditions, "WAIT_TICK_SECONDS", 0.01)
    names = ["stop_a", "stop_b", "stop_c", "stop_d"]
    for name in names:
        Preset.objects.create(name=name, label=name, spec=SPEC,
                              naming=f"{{sku}}_{name}.{{ext}}", rules={})
    approved_cutout(product=ProductFactory(sku="STOP-1"), size=(400, 300))
    job = export_jobs.export_job_create(presets=names, user=manager(), enqueue=False)
    real_render, started = variants.render_variant, []
    cond, written = progress_writes["cond"], progress_writes["written"]

    def render(*args, **kwargs):
        with cond:
            cond.wait_for(lambda: len(started) <= max(written, default=0)
                          or progress_writes["lost"], timeout=5)
        if progress_writes["lost"]:
            time.sleep(0.05)  # the job's thread marks the run stopped as the write fails
        started.append(1)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(variants, "render_variant", render)
    token = export_jobs.export_job_claim(job_id=job.pk)
    real_progress = jobs.job_progress

    def cancel_after_first(model, pk, tok, **fields):
        if fields.get("progress_done") == 2:  # the page's Cancel, clicked at "1 / 4"
            export_jobs.export_job_cancel(job=ExportJob.objects.get(pk=pk))
        return real_progress(model, pk, tok, **fields)

    monkeypatch.setattr(jobs, "job_progress", cancel_after_first)
    assert export_jobs.export_job_run(job_id=job.pk, run_token=token) == "cancelled"
    assert written == [1]
    # the render under way when the cancel was seen finished; the cutout's last one never began
    assert len(started) == 3
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and not job.zip_name


def test_it_names_the_date_when_it_leaves_out_every_approved_image(sent):
    product = ProductFactory(sku="SINCE-1")
    approved_cutout(product=product)
    approved_cutout(product=ProductFactory(sku="SINCE-2"))
    with pytest.raises(ExportError, match="Nothing to export") as refused:
        export_jobs.export_job_create(presets=["amazon_main"], approved_since="2999-01-01")
    assert refused.value.field == "approved_since"
    assert "2 approved images match the other filters, all approved before 2999-01-01." in str(
        refused.value)
    with pytest.raises(ExportError) as one:
        export_jobs.export_job_create(presets=["amazon_main"], product_ids=[product.pk],
                                      approved_since="2999-01-01")
    assert "1 approved image matches the other filters, approved before 2999" in str(one.value)
    assert one.value.field == "approved_since"

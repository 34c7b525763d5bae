"""The ``replace`` option of ingest: a re-shoot's file for a taken explicit position replaces
the older image there (soft-deleted, as the product page's Delete) instead of being refused."""

import html
import io
import logging
from datetime import datetime
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from catalog.models import AssetStatus, ImageAsset, ImportJob
from catalog.selectors import import_job_progress
from catalog.services import assets
from catalog.services.assets import asset_ingest
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create, import_job_finish, import_job_upload_file
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.factories import ProductFactory, UserFactory, manager, stored_image

pytestmark = pytest.mark.django_db

OLD_DAY = timezone.make_aware(datetime(2026, 11, 20, 10, 0))


def _old(product, name: str, position: str, seed: int):
    """An image of an earlier season, stored for real at ``position``."""
    return stored_image(product, name, position, seed=seed, uploaded_at=OLD_DAY)


def _zip_import(members: dict, **options) -> ImportJob:
    upload = ContentFile(zip_bytes(members), name="season.zip")
    job = import_job_create(user=None, source_kind="zip", source_file=upload, enqueue=False,
                            **options)
    return import_job_run(job_id=job.pk)


def _issues(job) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for issue in job.issues.order_by("pk"):
        found.setdefault(issue.filename, []).append(issue.reason)
    return found


def test_it_replaces_the_older_main_from_a_zip_import_with_replace_and_reports_it(storage):
    product = ProductFactory(sku="SEA-1")
    old = _old(product, "old.jpg", "MAIN", seed=1)
    keep = _old(product, "side.jpg", "PT01", seed=2)
    job = _zip_import({"SEA-1_MAIN.jpg": jpeg_bytes(seed=11)}, replace=True)
    assert job.options["replace"] is True
    assert (job.status, job.imported_count, job.replaced_count, job.error_count) == (
        "done", 1, 1, 0)
    assert job.message == "1 imported (1 replacing an older image)."
    assert import_job_progress(pk=job.pk)["replaced"] == 1  # what the import page polls
    old.refresh_from_db()
    assert old.deleted_at is not None  # soft: the row and its original stay until purge
    assert storage.exists(old.original_name)
    new = ImageAsset.live.get(product=product, position="MAIN")
    assert (new.original_filename, new.import_job_id) == ("SEA-1_MAIN.jpg", job.pk)
    assert new.pk != old.pk and new.sha256 != old.sha256  # a new asset, not an overwrite
    assert ImageAsset.live.get(pk=keep.pk).position == "PT01"  # other positions untouched
    [note] = _issues(job)["SEA-1_MAIN.jpg"]
    assert note == (f"Replaced MAIN of SEA-1 (old.jpg, asset #{old.pk}, uploaded 2026-11-20): "
                    "that image is deleted, as the product page's Delete does; its original "
                    "is kept until purge.")
    assert job.issues.get().level == "warning"


def test_it_keeps_the_replacement_note_apart_from_the_files_other_warnings(storage):
    product = ProductFactory(sku="SEA-1B")
    old = _old(product, "old.jpg", "MAIN", seed=1)
    job = ImportJob.objects.create(source_kind="zip", options={"replace": True})
    result = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=12)),
                          filename="SEA-1B_MAIN.jpg", position="MAIN", replace=True,
                          import_job=job)
    assert result.replaced == [old]
    assert not any(w.startswith("Replaced") for w in result.warnings)  # no wording to match
    [note] = result.replacement_notes
    assert note.startswith(f"Replaced MAIN of SEA-1B (old.jpg, asset #{old.pk}")
    assert result.notes[0] == note  # what the uploader is shown


def test_it_refuses_a_taken_position_in_a_zip_import_without_replace(storage):
    product = ProductFactory(sku="SEA-2")
    old = _old(product, "old.jpg", "MAIN", seed=3)
    job = _zip_import({"SEA-2_MAIN.jpg": jpeg_bytes(seed=13)})
    assert "replace" in job.options and job.options["replace"] is False
    assert (job.imported_count, job.replaced_count, job.error_count) == (0, 0, 1)
    assert _issues(job)["SEA-2_MAIN.jpg"] == [
        f"Position MAIN of SEA-2 is already taken by old.jpg (asset #{old.pk}, uploaded "
        "2026-11-20); not stored. Delete that image first, or give this file another position."]
    assert list(ImageAsset.live.filter(product=product)) == [old]


def test_it_treats_a_duplicate_of_the_holder_as_a_duplicate_not_a_replacement(storage):
    product = ProductFactory(sku="SEA-3")
    old = _old(product, "old.jpg", "MAIN", seed=4)
    job = _zip_import({"SEA-3_MAIN.jpg": jpeg_bytes(seed=4)}, replace=True)
    assert (job.imported_count, job.duplicate_count, job.replaced_count) == (0, 1, 0)
    assert "Duplicate" in _issues(job)["SEA-3_MAIN.jpg"][0]
    assert list(ImageAsset.live.filter(product=product)) == [old]


def test_it_still_refuses_the_second_file_for_one_position_in_one_import(storage):
    product = ProductFactory(sku="SEA-4")
    old = _old(product, "old.jpg", "MAIN", seed=5)
    job = _zip_import({"SEA-4_MAIN.jpg": jpeg_bytes(seed=15),
                       "SEA-4-main.jpg": jpeg_bytes(seed=16)},
                      patterns=["{sku}_{position}.jpg", "{sku}-{position}.jpg"], replace=True)
    assert (job.imported_count, job.replaced_count, job.error_count) == (1, 1, 1)
    live = ImageAsset.live.get(product=product)  # the first in name order
    assert ImageAsset.objects.get(pk=old.pk).deleted_at is not None
    [other] = {"SEA-4_MAIN.jpg", "SEA-4-main.jpg"} - {live.original_filename}
    assert _issues(job)[live.original_filename][0].startswith("Replaced MAIN of SEA-4 (old.jpg")
    [refusal] = _issues(job)[other]
    assert refusal.startswith(f"Position MAIN of SEA-4 is already taken by "
                              f"{live.original_filename} (asset #{live.pk}, from this import); "
                              "not stored.")


def test_it_deletes_nothing_when_the_new_file_fails_to_store(storage):
    product = ProductFactory(sku="SEA-5")
    old = _old(product, "old.jpg", "MAIN", seed=6)
    with mock.patch.object(assets, "_save_immutable", side_effect=OSError(28, "No space")):
        result = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=17)),
                              filename="new.jpg", position="MAIN", replace=True)
    assert (result.status, result.code, result.replaced) == ("rejected", "storage", [])
    assert ImageAsset.live.get(product=product).pk == old.pk


def test_it_rolls_the_deletion_back_when_the_new_row_fails(storage):
    product = ProductFactory(sku="SEA-6")
    old = _old(product, "old.jpg", "MAIN", seed=7)
    with (mock.patch.object(ImageAsset.objects, "create", side_effect=RuntimeError("db")),
          pytest.raises(RuntimeError)):
        asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=18)),
                     filename="new.jpg", position="MAIN", replace=True)
    assert ImageAsset.live.get(product=product).pk == old.pk  # never an empty position


def test_it_records_who_replaced_what(storage, caplog, django_capture_on_commit_callbacks):
    product = ProductFactory(sku="SEA-7")
    old = _old(product, "old.jpg", "PT01", seed=8)
    user = UserFactory(username="alice")
    with (caplog.at_level(logging.INFO, logger="catalog.services.assets"),
          django_capture_on_commit_callbacks(execute=True)):  # logged once it commits
        result = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=19)),
                              filename="new.jpg", position="PT01", replace=True, user=user)
    assert [a.pk for a in result.replaced] == [old.pk]
    assert result.asset.uploaded_by == user
    assert (f"image replaced: asset #{old.pk} (old.jpg, PT01 of SEA-7) deleted for asset "
            f"#{result.asset.pk} (new.jpg) by alice") in caplog.text


def test_it_replaces_in_a_browser_session_opened_with_replace(storage):
    product = ProductFactory(sku="SEA-8")
    old = _old(product, "old.jpg", "MAIN", seed=9)
    job = import_job_create(user=None, source_kind="upload", expected_files=2, replace=True)
    first = import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(jpeg_bytes(seed=20)),
                                   filename="SEA-8_MAIN.jpg")
    second = import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(jpeg_bytes(seed=21)),
                                    filename="SEA-8/SEA-8_MAIN.jpg")
    assert first.status == "stored" and [a.pk for a in first.replaced] == [old.pk]
    assert second.code == "position_taken" and "from this import" in second.reason
    job = import_job_finish(job_id=job.pk)
    assert (job.imported_count, job.replaced_count, job.error_count) == (1, 1, 1)
    assert job.message.startswith("1 imported (1 replacing an older image)")


def test_it_takes_the_replace_flag_from_the_upload_pages(client, storage):
    client.force_login(manager())
    product = ProductFactory(sku="SEA-9")
    old = _old(product, "old.jpg", "MAIN", seed=10)
    session = client.post(reverse("catalog:bulk_upload"), {"expected": "1", "replace": "on"},
                          HTTP_ACCEPT="application/json").json()
    assert ImportJob.objects.get(pk=session["job"]).options["replace"] is True
    plain = client.post(reverse("catalog:bulk_upload"), {"expected": "1"},
                        HTTP_ACCEPT="application/json").json()
    assert ImportJob.objects.get(pk=plain["job"]).options["replace"] is False
    # the product page's upload (also the bulk page's with a SKU chosen)
    url = reverse("catalog:product_upload", args=[product.pk])
    answer = client.post(url, {"file": ContentFile(jpeg_bytes(seed=22), name="new.jpg"),
                               "position": "MAIN", "replace": "1"},
                         HTTP_ACCEPT="application/json")
    assert (answer.status_code, answer.json()["replaced"]) == (201, [old.pk])
    assert any(w.startswith(f"Replaced MAIN of SEA-9 (old.jpg, asset #{old.pk}, uploaded "
                            "2026-11-20)") for w in answer.json()["warnings"])
    assert ImageAsset.live.get(product=product).original_filename == "new.jpg"


def test_it_replaces_with_the_command_flag(storage, tmp_path):
    product = ProductFactory(sku="SEA-10")
    old = _old(product, "old.jpg", "MAIN", seed=23)
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    (shoot / "SEA-10_MAIN.jpg").write_bytes(jpeg_bytes(seed=24))
    out = io.StringIO()
    call_command("import_images", str(shoot), stdout=out, stderr=io.StringIO())
    assert "ERROR SEA-10_MAIN.jpg: Position MAIN of SEA-10 is already taken" in out.getvalue()
    out = io.StringIO()
    call_command("import_images", str(shoot), "--replace", stdout=out, stderr=io.StringIO())
    assert f"warn  SEA-10_MAIN.jpg: Replaced MAIN of SEA-10 (old.jpg, asset #{old.pk}" in (
        out.getvalue())
    assert "done: 1 imported (1 replacing an older image)." in out.getvalue()
    assert ImageAsset.live.get(product=product).original_filename == "SEA-10_MAIN.jpg"


class WorkerKilled(BaseException):
    """Stands in for kill -9: nothing in the run gets to clean up."""


@pytest.mark.parametrize("held, entry", [("MAIN", 0), ("PT01", 1)])
def test_it_keeps_the_replacement_of_the_file_a_dead_worker_was_storing(storage, settings,
                                                                        held, entry):
    """The worker dies once the file that replaced the older image is stored, before the
    next checkpoint: the resumed run drops what the dead one reported after its checkpoint
    and finds the file already stored; the count and the "Replaced" warning stay (the
    first entry of the ZIP too)."""
    from datetime import timedelta

    from catalog import jobs
    from catalog.models import JobStatus

    product = ProductFactory(sku="SEA-9")
    old = _old(product, "old.jpg", held, seed=91)
    upload = ContentFile(zip_bytes({"SEA-9_MAIN.jpg": jpeg_bytes(seed=92),
                                    "SEA-9_PT01.jpg": jpeg_bytes(seed=93)}), name="season.zip")
    job = import_job_create(user=None, source_kind="zip", source_file=upload, enqueue=False,
                            replace=True)

    def die(done=None, total=None, issue=None):
        if done == entry + 1:  # the entry is stored, its warning written; no checkpoint yet
            raise WorkerKilled

    with pytest.raises(WorkerKilled):
        import_job_run(job_id=job.pk, progress=die, worker="dead@h:1")
    job.refresh_from_db()
    assert job.checkpoint["next"] == entry and job.replaced_count == 0
    assert ImageAsset.objects.get(pk=old.pk).deleted_at is not None  # the dead run's work
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1))
    assert jobs.jobs_reconcile()["import"]["running_reset"] == 1
    job = import_job_run(job_id=job.pk)
    assert job.status == JobStatus.DONE and job.attempts == 2
    assert (job.imported_count, job.replaced_count, job.duplicate_count, job.error_count) == (
        2, 1, 0, 0)
    assert job.message == "2 imported (1 replacing an older image)."
    assert _issues(job)[f"SEA-9_{held}.jpg"] == [
        f"Replaced {held} of SEA-9 (old.jpg, asset #{old.pk}, uploaded 2026-11-20): that image "
        "is deleted, as the product page's Delete does; its original is kept until purge."]
    assert job.warning_count == 1


def test_it_claims_no_replacement_for_a_resumed_file_without_replace(storage, settings,
                                                                     monkeypatch):
    """Without "replace" the resumed file replaced nothing, even though the image at its
    position was deleted (by hand) while the dead run was storing it."""
    from datetime import timedelta

    from catalog import jobs
    from catalog.services import import_mapping

    product = ProductFactory(sku="SEA-10")
    gone = _old(product, "by-hand.jpg", "MAIN", seed=96)
    upload = ContentFile(zip_bytes({"SEA-10_MAIN.jpg": jpeg_bytes(seed=95)}), name="s.zip")
    job = import_job_create(user=None, source_kind="zip", source_file=upload, enqueue=False)
    ingest = import_mapping.asset_ingest

    def deleted_by_hand_first(**kwargs):
        assets.asset_soft_delete(asset=gone)
        return ingest(**kwargs)

    def die(done=None, total=None, issue=None):
        if done == 1:
            raise WorkerKilled

    monkeypatch.setattr(import_mapping, "asset_ingest", deleted_by_hand_first)
    with pytest.raises(WorkerKilled):
        import_job_run(job_id=job.pk, progress=die, worker="dead@h:1")
    assert ImageAsset.live.get(product=product).original_filename == "SEA-10_MAIN.jpg"
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1))
    jobs.jobs_reconcile()
    job = import_job_run(job_id=job.pk)
    assert (job.imported_count, job.replaced_count, job.duplicate_count) == (1, 0, 0)
    assert job.message == "1 imported." and not job.issues.exists()


def test_it_says_a_replaced_image_had_an_approved_cutout_in_the_preview_and_report(client,
                                                                                    storage):
    # QA30 M6: the approved (and exported) MAIN stopped shipping without a word
    client.force_login(manager())
    product = ProductFactory(sku="SEA-11")
    old = _old(product, "old.jpg", "MAIN", seed=11)
    side = _old(product, "side.jpg", "PT01", seed=12)
    ImageAsset.objects.filter(pk=old.pk).update(status=AssetStatus.EXPORTED)
    lost = ("Its cutout is approved and exported: it stops shipping, and MAIN has no approved "
            "image until the new photo is cut out and approved.")
    page = client.post(reverse("catalog:import_preview"), {
        "names": ["SEA-11_MAIN.jpg", "SEA-11_PT01.jpg"], "replace": "on"}).content.decode()
    assert f"replaces old.jpg (asset #{old.pk}) <strong data-preview-approved-lost>{lost}" in (
        html.unescape(page))
    assert "1 approved cutout replaced" in page
    # side.jpg's cutout is not approved: replaced with no such note
    assert f"side.jpg (asset #{side.pk})</span>" in page
    job = import_job_create(user=None, source_kind="upload", expected_files=1, replace=True)
    import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(jpeg_bytes(seed=30)),
                           filename="SEA-11_MAIN.jpg")
    job = import_job_finish(job_id=job.pk)
    (note,) = _issues(job)["SEA-11_MAIN.jpg"]
    assert note.startswith(f"Replaced MAIN of SEA-11 (old.jpg, asset #{old.pk}")
    assert note.endswith(lost)

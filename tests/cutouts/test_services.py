import pytest
from django.core.files.storage import storages
from PIL import Image

from catalog.models import AssetStatus
from cutouts.errors import BatchError, BatchFinishedError, PermanentError, TransientError
from cutouts.models import Cutout, CutoutBatch, CutoutQueue, JobStatus, Notification
from cutouts.selectors.jobs import cutout_batch_skipped
from cutouts.services import batches, runs
from tests.factories import manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Messages handed to the broker: (cutout id, queue)."""
    from cutouts.tasks import cutout_run_task

    calls = []
    monkeypatch.setattr(cutout_run_task, "apply_async",
                        lambda args, queue, **kw: calls.append((args[0], queue, kw)))
    return calls


def test_it_queues_a_new_version_per_asset_after_commit(make_assets, sent,
                                                        django_capture_on_commit_callbacks):
    assets = make_assets(3)
    with django_capture_on_commit_callbacks(execute=True):
        batch = batches.cutout_batch_start(assets=assets, user=manager(), profile_name="fast")
    cutouts = list(batch.cutouts.order_by("pk"))
    assert [c.version for c in cutouts] == [1, 1, 1]
    assert {c.status for c in cutouts} == {JobStatus.QUEUED}
    assert sorted(args for args, _, _ in sent) == [c.pk for c in cutouts]
    assert {queue for _, queue, _ in sent} == {"cutouts"}
    assert all(kw["time_limit"] > kw["soft_time_limit"] > 0 for _, _, kw in sent)
    for asset in assets:
        asset.refresh_from_db()
        assert asset.status == AssetStatus.QUEUED


def test_it_sends_nothing_when_the_transaction_rolls_back(make_assets, sent,
                                                         django_capture_on_commit_callbacks):
    assets = make_assets(1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batches.cutout_batch_start(assets=assets)
    assert sent == []  # enqueue waits for the commit
    assert len(callbacks) == 1


def test_it_makes_a_new_version_on_the_interactive_queue_for_a_rerun(make_assets, sent):
    asset = make_assets(1)[0]
    batches.cutout_batch_start(assets=[asset])
    rerun = batches.cutout_rerun(asset=asset, overrides={"shadow": "synthetic"})
    assert rerun.version == 2
    assert rerun.queue == CutoutQueue.INTERACTIVE
    assert rerun.settings["shadow"] == "synthetic"
    assert Cutout.objects.filter(asset=asset).count() == 2


def test_it_rejects_unknown_settings_before_queueing(make_assets):
    with pytest.raises(BatchError, match="unknown setting"):
        batches.cutout_batch_start(assets=make_assets(1), overrides={"sharpen": True})
    assert not CutoutBatch.objects.exists()


def test_it_runs_a_cutout_and_stores_its_files(make_assets, sent, fake_model):
    user = manager()
    asset = make_assets(1)[0]
    batch = batches.cutout_batch_start(assets=[asset], user=user, profile_name="fast")
    cutout = batch.cutouts.get()
    assert runs.cutout_run(cutout_id=cutout.pk, worker="w1:1") == "done"
    cutout.refresh_from_db()
    assert cutout.status == JobStatus.DONE and cutout.attempts == 1
    assert cutout.model_name == "u2netp" and cutout.model_version
    storage = storages["default"]
    with storage.open(cutout.rgba_name) as fh, Image.open(fh) as image:
        assert image.mode == "RGBA"
        assert image.size == (asset.working_width, asset.working_height)
    assert storage.exists(cutout.mask_name)
    assert {"fill_ratio"} <= set(cutout.signals)
    asset.refresh_from_db()
    assert asset.status == AssetStatus.CUT_OUT
    batch.refresh_from_db()
    assert batch.status == JobStatus.DONE
    note = Notification.objects.get(user=user)
    assert "1 done" in note.text and str(batch.pk) in note.url


def _statements(queries) -> list[str]:
    # Savepoints come from the test's own transaction, not from the run.
    return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


def test_it_runs_a_cutout_of_a_started_batch_in_twelve_queries(
        make_assets, sent, fake_model, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cutouts.tasks import cutout_run_task

    batch = batches.cutout_batch_start(assets=make_assets(3), profile_name="fast")
    first, second, third = batch.cutouts.order_by("pk")
    assert cutout_run_task.run(first.pk) == "done"  # starts the batch
    with CaptureQueriesContext(connection) as queries, \
            django_capture_on_commit_callbacks(execute=True):
        assert cutout_run_task.run(second.pk) == "done"
    # Per cutout, webhook fan-out included: claim; read row + asset + batch; finish
    # (image lock, update, asset status: versions, decisions, update; event row; webhook
    # subscriptions); batch progress (row, counts, update). Pinned so it cannot silently grow.
    statements = _statements(queries.captured_queries)
    # Besides: one write per stage the run went through, for the pending note's bar
    # (RunProgress; within a stage at most one a second), a one-row update by key each.
    bar = [s for s in statements
           if s.startswith('UPDATE "cutouts_cutout" SET "heartbeat_at"') and '"stage"' in s]
    assert 1 <= len(bar) <= 6, "\n".join(bar)
    assert len(statements) - len(bar) == 12, "\n".join(statements)
    with CaptureQueriesContext(connection) as queries:
        assert cutout_run_task.run(second.pk) == "skipped"  # a duplicate delivery
    # the claim refuses it, and one read finds no running row with a dead owner to take over
    assert len(_statements(queries.captured_queries)) == 2
    batch.refresh_from_db()
    assert batch.status == JobStatus.RUNNING and batch.progress_done == 2
    third.refresh_from_db()
    assert third.status == JobStatus.QUEUED


def test_it_starts_the_batch_with_its_first_run(make_assets, sent, fake_model):
    batch = batches.cutout_batch_start(assets=make_assets(2), profile_name="fast")
    first = batch.cutouts.order_by("pk").first()
    assert batch.status == JobStatus.QUEUED and batch.started_at is None
    assert runs.cutout_run(cutout_id=first.pk) == "done"
    batch.refresh_from_db()
    assert batch.status == JobStatus.RUNNING and batch.started_at is not None
    started = batch.started_at
    second = batch.cutouts.order_by("pk").last()
    assert runs.cutout_run(cutout_id=second.pk) == "done"
    batch.refresh_from_db()
    assert batch.status == JobStatus.DONE and batch.started_at == started


def test_it_never_runs_a_cutout_twice_on_duplicate_delivery(make_assets, sent, fake_model):
    batch = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast")
    cutout = batch.cutouts.get()
    assert runs.cutout_run(cutout_id=cutout.pk) == "done"
    assert runs.cutout_run(cutout_id=cutout.pk) == "skipped"
    assert fake_model.calls == 1
    cutout.refresh_from_db()
    assert cutout.attempts == 1


def test_it_discards_the_outputs_of_a_run_that_lost_its_claim(make_assets, sent, monkeypatch,
                                                              fake_model):
    batch = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast")
    cutout = batch.cutouts.get()
    storage = storages["default"]
    real_finish = runs._finish
    saved_names = []

    def stolen(cutout_obj, token, saved, output):
        saved_names.extend(saved)
        # The reconciler handed the row to another run meanwhile.
        Cutout.objects.filter(pk=cutout_obj.pk).update(run_token="someone-else")
        return real_finish(cutout_obj, token, saved, output)

    monkeypatch.setattr(runs, "_finish", stolen)
    assert runs.cutout_run(cutout_id=cutout.pk) == "skipped"
    assert saved_names and not any(storage.exists(n) for n in saved_names)
    cutout.refresh_from_db()
    assert cutout.status == JobStatus.RUNNING and cutout.rgba_name == ""


def test_it_fails_clearly_on_a_corrupt_working_copy(make_assets, sent, fake_model):
    asset = make_assets(1)[0]
    storage = storages["default"]
    storage.delete(asset.working_name)
    from django.core.files.base import ContentFile

    storage.save(asset.working_name, ContentFile(b"not a png at all"))
    batch = batches.cutout_batch_start(assets=[asset], profile_name="fast")
    cutout = batch.cutouts.get()
    assert runs.cutout_run(cutout_id=cutout.pk) == "failed"
    cutout.refresh_from_db()
    assert cutout.status == JobStatus.FAILED
    assert "cannot be decoded" in cutout.error
    batch.refresh_from_db()
    assert batch.status == JobStatus.FAILED


def test_it_puts_the_row_back_on_a_transient_storage_error(make_assets, sent, monkeypatch,
                                                            fake_model):
    batch = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast")
    cutout = batch.cutouts.get()

    def down(asset):
        raise TransientError("Storage unavailable: connection refused")

    monkeypatch.setattr(runs, "_load_working_copy", down)
    with pytest.raises(TransientError):
        runs.cutout_run(cutout_id=cutout.pk)
    cutout.refresh_from_db()
    assert cutout.status == JobStatus.QUEUED and cutout.run_token == ""


def test_it_puts_a_row_back_in_the_queue_without_any_failure(make_assets, sent, monkeypatch,
                                                             fake_model):
    """Every re-queue writes ``cutout_queued_fields``, which clear a failure's words and kind:
    a transient error's re-queue leaves none on the row, whatever the running row held (the
    claim clears the words and the check of migration 0018 keeps the kind off a running row,
    so the words are set here by hand)."""
    cutout = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast").cutouts.get()

    def down(asset):
        Cutout.objects.filter(pk=cutout.pk).update(error="Model error: an earlier word")
        raise TransientError("Storage unavailable: connection refused")

    monkeypatch.setattr(runs, "_load_working_copy", down)
    with pytest.raises(TransientError):
        runs.cutout_run(cutout_id=cutout.pk)
    row = Cutout.objects.get(pk=cutout.pk)
    assert (row.status, row.run_token, row.error, row.working_copy_failed) == (
        JobStatus.QUEUED, "", "", False)


def test_it_retries_failed_rows_counting_attempts(make_assets, sent, monkeypatch, fake_model):
    batch = batches.cutout_batch_start(assets=make_assets(2), profile_name="fast")
    first, second = batch.cutouts.order_by("pk")
    monkeypatch.setattr(runs, "_load_working_copy",
                        lambda asset: (_ for _ in ()).throw(PermanentError("broken")))
    runs.cutout_run(cutout_id=first.pk)
    monkeypatch.undo()
    from cutouts import engine
    from tests.cutouts.conftest import FakeSegmenter

    monkeypatch.setattr(engine, "segmenter_for",
                        lambda name: (FakeSegmenter(), engine.model_spec("u2netp")))
    runs.cutout_run(cutout_id=second.pk)
    batch.refresh_from_db()
    assert batch.status == JobStatus.DONE and "1 failed" in batch.message
    assert batches.cutout_batch_retry_failed(batch=batch) == 1
    first.refresh_from_db()
    assert first.status == JobStatus.QUEUED
    assert runs.cutout_run(cutout_id=first.pk) == "done"
    first.refresh_from_db()
    assert first.attempts == 2 and first.version == 1


def test_it_cancels_only_queued_work(make_assets, sent, fake_model):
    batch = batches.cutout_batch_start(assets=make_assets(3), profile_name="fast")
    done, running, queued = batch.cutouts.order_by("pk")
    runs.cutout_run(cutout_id=done.pk)
    Cutout.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING)
    assert batches.cutout_batch_cancel(batch=batch) == 1
    statuses = dict(batch.cutouts.values_list("pk", "status"))
    assert statuses == {done.pk: "done", running.pk: "running", queued.pk: "cancelled"}


def test_it_refuses_to_cancel_a_batch_that_already_ended(make_assets, sent):
    batch = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast")
    batch.cutouts.update(status=JobStatus.DONE)
    batch = batches.cutout_batch_refresh(batch_id=batch.pk)
    assert batch.status == JobStatus.DONE
    with pytest.raises(BatchFinishedError) as refused:
        batches.cutout_batch_cancel(batch=batch)
    assert str(refused.value) == (f"Batch #{batch.pk} is already done; nothing is left to "
                                  "cancel.")
    assert batch.cutouts.get().status == JobStatus.DONE


def test_it_ends_a_partly_cancelled_batch_cancelled_with_the_counts(make_assets, sent):
    batch = batches.cutout_batch_start(assets=make_assets(3), user=manager(),
                                       profile_name="fast")
    Cutout.objects.filter(pk=batch.cutouts.order_by("pk").first().pk).update(
        status=JobStatus.DONE)
    assert batches.cutout_batch_cancel(batch=batch) == 2
    batch.refresh_from_db()
    # It used to read "Done": as if every image had been cut out.
    assert batch.status == JobStatus.CANCELLED
    assert batch.message == "1 done, 0 failed, 2 cancelled"
    assert Notification.objects.get(user=batch.created_by).text.endswith(
        "1 done, 0 failed, 2 cancelled.")


def test_it_reconciles_rows_left_by_a_restarted_worker(make_assets, sent, monkeypatch):
    batch = batches.cutout_batch_start(assets=make_assets(2))
    mine, other = batch.cutouts.order_by("pk")
    Cutout.objects.filter(pk=mine.pk).update(status=JobStatus.RUNNING, worker="w1@host:123")
    Cutout.objects.filter(pk=other.pk).update(status=JobStatus.RUNNING, worker="w2@host:9")
    monkeypatch.setattr(runs, "_queue_depths", lambda: {"cutouts": 5,
                                                             "cutouts-interactive": 0})
    result = runs.cutouts_reconcile(worker_hostname="w1@host")
    assert result["running_reset"] == 1
    mine.refresh_from_db(), other.refresh_from_db()
    assert mine.status == JobStatus.QUEUED and other.status == JobStatus.RUNNING


def test_it_runs_at_once_a_cutout_whose_pool_child_was_killed(make_assets, fake_model, sent):
    # The redelivered message used to be skipped (the row still said running) and the image
    # waited for the reconciler's grace period (about 95 s in an exploratory run).
    import socket
    import subprocess
    import sys

    batch = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast")
    cutout = batch.cutouts.get()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    Cutout.objects.filter(pk=cutout.pk).update(
        status=JobStatus.RUNNING, run_token="dead-run", attempts=1,
        worker=f"{socket.gethostname()}:{child.pid}")
    assert runs.cutout_run(cutout_id=cutout.pk) == "done"
    cutout.refresh_from_db()
    assert (cutout.status, cutout.attempts) == (JobStatus.DONE, 2) and cutout.rgba_name


def test_it_resends_queued_rows_whose_messages_were_lost(make_assets, sent, monkeypatch,
                                                         settings):
    from datetime import timedelta

    from django.utils import timezone

    batch = batches.cutout_batch_start(assets=make_assets(2))
    old = timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 5)
    batch.cutouts.update(enqueued_at=old)
    sent.clear()
    monkeypatch.setattr(runs, "_queue_depths", lambda: {"cutouts": 2,
                                                             "cutouts-interactive": 0})
    assert runs.cutouts_reconcile()["resent"] == 0  # still in the queue: nothing lost
    monkeypatch.setattr(runs, "_queue_depths", lambda: {"cutouts": 0,
                                                             "cutouts-interactive": 0})
    assert runs.cutouts_reconcile()["resent"] == 2
    assert sorted(a for a, _, _ in sent) == sorted(batch.cutouts.values_list("pk", flat=True))


def test_it_resets_rows_running_past_their_time_limit(make_assets, sent, monkeypatch, settings):
    from datetime import timedelta

    from django.utils import timezone

    batch = batches.cutout_batch_start(assets=make_assets(1))
    cutout = batch.cutouts.get()
    long_ago = timezone.now() - timedelta(seconds=cutout.time_limit
                                          + settings.CUTROOM_RECONCILE_GRACE + 1)
    Cutout.objects.filter(pk=cutout.pk).update(status=JobStatus.RUNNING, started_at=long_ago,
                                               worker="gone@host:1")
    monkeypatch.setattr(runs, "_queue_depths", lambda: {"cutouts": 1,
                                                             "cutouts-interactive": 0})
    assert runs.cutouts_reconcile()["running_reset"] == 1
    cutout.refresh_from_db()
    assert cutout.status == JobStatus.QUEUED


def test_a_soft_time_limit_fails_the_cutout_with_the_time_it_was_allowed(make_assets, sent,
                                                                         monkeypatch, caplog):
    from celery.exceptions import SoftTimeLimitExceeded

    from cutouts.tasks import cutout_run_task

    batch = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast")
    cutout = batch.cutouts.get()

    def out_of_time(asset):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(runs, "_load_working_copy", out_of_time)
    cutout_run_task.push_request(timelimit=(130, 120), hostname="w1", retries=0)
    try:
        assert cutout_run_task.run(cutout.pk) == "failed"
    finally:
        cutout_run_task.pop_request()
    cutout.refresh_from_db()
    assert cutout.status == JobStatus.FAILED
    assert cutout.error == "Took longer than the 120 s allowed for an image of this size."
    # An expected end, not a crash: nothing logged as an error.
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_it_skips_images_already_cut_with_these_settings(make_assets, sent):
    from cutouts.models import ReviewStatus

    queued, running, pending, approved, flagged, other, fresh = make_assets(7)
    first = batches.cutout_batch_start(
        assets=[queued, running, pending, approved, flagged], profile_name="fast")
    rows = {c.asset_id: c for c in first.cutouts.all()}
    Cutout.objects.filter(pk=rows[running.pk].pk).update(status=JobStatus.RUNNING)
    Cutout.objects.filter(pk__in=[rows[a.pk].pk for a in (pending, approved, flagged)]).update(
        status=JobStatus.DONE)
    Cutout.objects.filter(pk=rows[approved.pk].pk).update(review_status=ReviewStatus.APPROVED)
    Cutout.objects.filter(pk=rows[flagged.pk].pk).update(review_status=ReviewStatus.FLAGGED)
    batches.cutout_batch_start(assets=[other], profile_name="default")
    everyone = [queued, running, pending, approved, flagged, other, fresh]

    again = batches.cutout_batch_start(assets=everyone, profile_name="fast")
    # a flagged version is not an answer; other settings are other cutouts
    assert sorted(again.cutouts.values_list("asset_id", flat=True)) == sorted(
        [flagged.pk, other.pk, fresh.pk])
    assert again.total == 3 and cutout_batch_skipped(batch=again) == 4
    assert again.message == "4 skipped: already cut with these settings"
    # asked for on purpose, every image gets a new version but those still being cut
    Cutout.objects.filter(batch=again).update(status=JobStatus.DONE)
    recut = batches.cutout_batch_start(assets=everyone, profile_name="fast", recut=True)
    assert sorted(recut.cutouts.values_list("asset_id", flat=True)) == sorted(
        a.pk for a in everyone if a not in (queued, running))
    assert cutout_batch_skipped(batch=recut) == 0  # not "already cut": "being cut"
    assert recut.message == "2 skipped: a cut with these settings is already queued or running"


def test_it_moves_the_skip_counts_of_batches_started_before_out_of_their_checkpoint():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("cutouts.migrations.0010_batch_skip_counts")
    plain = CutoutBatch.objects.create(checkpoint={"skipped": 4})
    again = CutoutBatch.objects.create(checkpoint={"skipped_running": 2, "other": 1})
    none = CutoutBatch.objects.create()
    migration.move_counts(apps, None)
    for batch in (plain, again, none):
        batch.refresh_from_db()
    assert (plain.skipped, plain.skipped_running, plain.checkpoint) == (4, 0, {})
    assert (again.skipped, again.skipped_running, again.checkpoint) == (0, 2, {"other": 1})
    assert (none.skipped, none.skipped_running) == (0, 0)
    assert batches.batch_skip_note(batch=again) == (
        "2 skipped: a cut with these settings is already queued or running")
    migration.restore_counts(apps, None)
    plain.refresh_from_db()
    assert plain.checkpoint == {"skipped": 4}


def test_it_starts_nothing_when_every_image_is_already_cut(make_assets, sent):
    assets = make_assets(2)
    batches.cutout_batch_start(assets=assets, profile_name="fast")
    with pytest.raises(BatchError, match="All 2 selected images already have a cutout with "
                                         "these settings") as refused:
        batches.cutout_batch_start(assets=assets, profile_name="fast")
    assert refused.value.field == "recut"
    assert CutoutBatch.objects.count() == 1
    # one-image runs a reviewer asked for are never skipped
    rerun = batches.cutout_rerun(asset=assets[0], profile_name="fast")
    assert rerun.version == 2


def test_it_keeps_the_skipped_count_in_the_message_of_a_closed_batch(make_assets, sent):
    user = manager()
    done, new = make_assets(2)
    batches.cutout_batch_start(assets=[done], profile_name="fast")
    batch = batches.cutout_batch_start(assets=[done, new], user=user, profile_name="fast")
    batches.cutout_batch_cancel(batch=batch)
    batch.refresh_from_db()
    assert batch.message == ("0 done, 0 failed, 1 cancelled; "
                             "1 skipped: already cut with these settings")
    assert Notification.objects.get(user=user).text.endswith(
        "1 skipped: already cut with these settings.")


# --- deleted while queued (QA 2026-12-06 U11) ------------------------------------------------


def test_it_cancels_a_deleted_products_queued_and_running_cutouts_and_settles_the_batch(
        make_assets, sent):
    from catalog.services.products import product_soft_delete
    from cutouts.selectors.jobs import cutout_batch_progress

    user = manager()
    kept, gone, gone_running = make_assets(3)
    batch = batches.cutout_batch_start(assets=[kept, gone, gone_running], user=user,
                                       profile_name="fast")
    rows = {c.asset_id: c for c in batch.cutouts.all()}
    Cutout.objects.filter(pk=rows[kept.pk].pk).update(status=JobStatus.DONE)
    Cutout.objects.filter(pk=rows[gone_running.pk].pk).update(status=JobStatus.RUNNING,
                                                              run_token="t")
    product_soft_delete(product=gone.product)
    product_soft_delete(product=gone_running.product)
    statuses = dict(batch.cutouts.values_list("asset_id", "status"))
    assert statuses == {kept.pk: "done", gone.pk: "cancelled", gone_running.pk: "cancelled"}
    assert set(batch.cutouts.exclude(asset=kept).values_list("error", flat=True)) == {
        batches.GONE_ERROR}
    batch.refresh_from_db()
    # not "3 done": what was never cut is said, and the one cut reads done, not cancelled
    assert batch.status == JobStatus.DONE
    assert batch.message == "1 done, 0 failed, 0 cancelled, 2 not cut (image or product deleted)"
    progress = cutout_batch_progress(batch=batch)
    assert (progress.finished, progress.total, progress.counts["gone"],
            progress.counts["cancelled"]) == (3, 3, 2, 0)
    # the running one's worker finds its row no longer running: it keeps nothing
    assert runs.cutout_run(cutout_id=rows[gone_running.pk].pk) == "skipped"


def test_it_cancels_a_deleted_images_queued_cutout(make_assets, sent):
    from catalog.services.assets import asset_soft_delete

    asset = make_assets(1)[0]
    batch = batches.cutout_batch_start(assets=[asset], profile_name="fast")
    asset_soft_delete(asset=asset)
    assert batch.cutouts.get().status == JobStatus.CANCELLED
    batch.refresh_from_db()
    assert (batch.status, batch.message) == (
        JobStatus.CANCELLED, "0 done, 0 failed, 0 cancelled, 1 not cut (image or product "
        "deleted)")


def test_it_computes_nothing_for_a_cutout_whose_product_is_gone_when_its_run_starts(
        make_assets, sent, monkeypatch):
    from catalog.models import Product
    from cutouts import engine

    asset = make_assets(1)[0]
    batch = batches.cutout_batch_start(assets=[asset], profile_name="fast")
    # deleted without the service's cancel (a race, a purge): the run finds it gone
    Product.objects.filter(pk=asset.product_id).update(deleted_at=batch.created_at)

    def computed(**kwargs):
        raise AssertionError("computed a deleted product's cutout")

    monkeypatch.setattr(engine, "cutout_compute", computed)
    assert runs.cutout_run(cutout_id=batch.cutouts.get().pk) == "cancelled"
    row = batch.cutouts.get()
    assert (row.status, row.error) == (JobStatus.CANCELLED, batches.GONE_ERROR)
    batch.refresh_from_db()
    assert batch.status == JobStatus.CANCELLED

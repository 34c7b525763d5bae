"""A running cutout's stage and progress on its row (services.runs.RunProgress), and the bar the
review card's and the retouch page's pending notes show from it."""

import json

import pytest
from django.db import OperationalError
from django.urls import reverse

from catalog import jobs
from cutouts.imaging import progress
from cutouts.imaging import retouch as engine_retouch
from cutouts.models import Cutout, JobStatus
from cutouts.services import batches, retouch, runs
from tests.api.conftest import ApiClient, key_for
from tests.cutouts.conftest import FakeSegmenter
from tests.cutouts.reviewdata import done_cutouts
from tests.factories import manager, reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
HX = {"HTTP_HX_REQUEST": "true"}


def _row(pk: int) -> tuple[str, int]:
    row = Cutout.objects.get(pk=pk)
    return row.stage, row.progress


def _claimed(make_assets) -> tuple[Cutout, str]:
    cutout = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast").cutouts.get()
    token = runs._claim(cutout.pk, "w1:1")
    assert token
    return cutout, token


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_it_writes_stage_and_progress_to_the_row_only_while_it_holds_the_run_token(make_assets):
    cutout, token = _claimed(make_assets)
    assert _row(cutout.pk) == (progress.READING, 0)  # the claim starts the bar
    runs.RunProgress(cutout.pk, token)(progress.FINDING, 0.2)
    assert _row(cutout.pk) == (progress.FINDING, 20)

    stranger = runs.RunProgress(cutout.pk, "not-the-run-token")
    stranger(progress.SAVING, 0.9)
    assert _row(cutout.pk) == (progress.FINDING, 20) and stranger.lost

    # the run lost its row (taken over after it was thought dead): it writes nothing more
    Cutout.objects.filter(pk=cutout.pk).update(run_token="another-run")
    mine = runs.RunProgress(cutout.pk, token)
    mine(progress.REFINING, 0.5)
    mine(progress.SAVING, 0.9)
    assert _row(cutout.pk) == (progress.FINDING, 20) and mine.lost and mine.writes == 1


def test_it_writes_a_stage_change_at_once_and_one_stage_at_most_once_a_second(make_assets):
    cutout, token = _claimed(make_assets)
    clock = FakeClock()
    write = runs.RunProgress(cutout.pk, token, now=clock, every=1.0)
    write(progress.REFINING, 0.40)
    assert _row(cutout.pk) == (progress.REFINING, 40)
    clock.t += 0.5
    write(progress.REFINING, 0.45)  # the same stage within the second: not written
    assert _row(cutout.pk) == (progress.REFINING, 40)
    clock.t += 0.6
    write(progress.REFINING, 0.47)
    assert _row(cutout.pk) == (progress.REFINING, 47)
    write(progress.COLOURS, 0.49)  # a new stage: at once
    assert _row(cutout.pk) == (progress.COLOURS, 49)
    write(progress.CHECKING, 0.30)  # never backwards
    assert _row(cutout.pk) == (progress.CHECKING, 49) and write.writes == 4


def test_it_finishes_the_run_when_its_progress_writes_fail(make_assets, fake_model,
                                                          monkeypatch):
    cutout = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast").cutouts.get()
    tried = []

    def refused(model, pk, token, **fields):
        tried.append(fields)
        raise OperationalError("database is locked")

    monkeypatch.setattr(jobs, "job_progress", refused)
    assert runs.cutout_run(cutout_id=cutout.pk, worker="w1:1") == "done"
    assert any("stage" in fields for fields in tried)
    cutout.refresh_from_db()
    assert cutout.status == JobStatus.DONE and cutout.progress == 100


def test_it_shows_the_stage_on_the_row_while_the_model_runs(make_assets, monkeypatch):
    from cutouts import engine

    seen = []

    class Watching(FakeSegmenter):
        def predict(self, rgb):
            seen.append(_row(cutout.pk))
            return super().predict(rgb)

    monkeypatch.setattr(engine, "segmenter_for",
                        lambda name: (Watching(), engine.model_spec("u2netp")))
    cutout = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast").cutouts.get()
    assert runs.cutout_run(cutout_id=cutout.pk, worker="w1:1") == "done"
    assert seen and seen[0] == (progress.FINDING, round(100 * runs.AT_COMPUTE)), seen
    assert _row(cutout.pk) == ("", 100)


def test_it_shows_applying_strokes_on_the_row_while_a_retouch_runs(make_assets, fake_model,
                                                                  monkeypatch):
    parent = done_cutouts(make_assets(1))[0]
    new = retouch.cutout_retouch_strokes(
        cutout=parent, user=reviewer(),
        strokes=[{"kind": "remove", "radius": 30, "points": [[200, 200], [260, 220]]}])
    seen = []
    real = engine_retouch.segment

    def watched(*args, **kwargs):
        seen.append(_row(new.pk))
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_retouch, "segment", watched)
    assert runs.cutout_run(cutout_id=new.pk, worker="w1:1") == "done"
    stage, percent = seen[0]
    assert stage == progress.STROKES and 10 <= percent < 97, seen
    assert _row(new.pk) == ("", 100)


def test_it_shows_a_progress_bar_with_the_stage_on_the_card_and_the_retouch_page(
        client, make_assets, fake_model):
    parent = done_cutouts(make_assets(1))[0]
    client.force_login(reviewer())
    client.post(reverse("cutouts:review_card", args=[parent.pk]),
                {"action": "strokes", "strokes": json.dumps(
                    [{"kind": "remove", "radius": 6, "points": [[20, 20]]}])}, **HX)
    new = Cutout.objects.get(asset=parent.asset, version=2)
    card = client.get(reverse("cutouts:review_card", args=[new.pk]), **HX).content.decode()
    assert "<progress" not in card  # queued: no bar yet
    token = runs._claim(new.pk, "w1:1")
    runs.RunProgress(new.pk, token)(progress.STROKES, 0.37)
    card = client.get(reverse("cutouts:review_card", args=[new.pk]), **HX).content.decode()
    assert ('<progress data-rv-progress max="100" value="37" aria-label="Version 2 progress" '
            'aria-valuetext="Applying strokes, 37 %">37 %</progress>') in card, card
    assert "<span data-rv-waited>" in card
    # the stage and percent are said once, in the live region beside the polled note
    assert '<span role="status" data-pending-said>Applying strokes, 37 %</span>' in card
    page = client.get(reverse("cutouts:retouch_card", args=[new.pk])).content.decode()
    assert ('<progress data-rt-progress max="100" value="37" aria-label="Version 2 progress" '
            'aria-valuetext="Applying strokes, 37 %">37 %</progress>') in page
    assert "<span data-rt-waited>" in page
    assert '<span role="status" data-pending-said>Applying strokes, 37 %</span>' in page


def test_it_gives_a_running_cutouts_stage_and_progress_in_the_api(make_assets, fake_model):
    cutout, token = _claimed(make_assets)
    runs.RunProgress(cutout.pk, token)(progress.REFINING, 0.42)
    api = ApiClient(key_for(manager(), "manager"))
    body = api.get(f"/api/v1/cutouts/{cutout.pk}").json()
    assert (body["status"], body["stage"], body["progress"]) == ("running", "Refining edges", 42)
    assert runs.cutout_run(cutout_id=batches.cutout_batch_start(
        assets=make_assets(1, sku="SKU-2"), profile_name="fast").cutouts.get().pk) == "done"
    done = api.get("/api/v1/cutouts", {"status": "done"}).json()["items"][0]
    assert (done["stage"], done["progress"]) == ("", 100)


def test_it_writes_a_stages_last_value_the_throttle_held_back_when_flushed(make_assets):
    cutout, token = _claimed(make_assets)
    clock = FakeClock()
    write = runs.RunProgress(cutout.pk, token, now=clock)
    write(progress.SAVING, 0.63)
    clock.t += 0.2
    write(progress.SAVING, 0.97)  # within the second: held back, not lost
    assert _row(cutout.pk) == (progress.SAVING, 63)
    write.flush()
    assert _row(cutout.pk) == (progress.SAVING, 97)
    write.flush()  # nothing more to write
    assert write.writes == 2


def test_it_shows_where_the_storage_write_starts_while_it_runs(make_assets, fake_model,
                                                              monkeypatch):
    # the encode takes well under a second here: its last "Saving" value and the run's own
    # fell in the throttle's second, and the bar sat at the encode's start through the write
    cutout = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast").cutouts.get()
    seen = []
    real = runs.outputs_store

    def watched(**kwargs):
        seen.append(_row(cutout.pk))
        return real(**kwargs)

    monkeypatch.setattr(runs, "outputs_store", watched)
    assert runs.cutout_run(cutout_id=cutout.pk, worker="w1:1") == "done"
    assert seen == [(progress.SAVING, round(100 * runs.AT_STORE))], seen


def test_it_gives_the_encode_more_of_a_large_photos_bar_than_of_a_small_ones():
    from cutouts import engine
    from cutouts.imaging.settings import profile

    settings = profile("default")
    assert engine.pipeline_share(2_000_000, settings) > engine.pipeline_share(45_000_000,
                                                                             settings)


def test_it_says_checking_while_a_retouchs_signals_are_computed_then_saving_per_file(
        make_assets, fake_model, monkeypatch):
    from cutouts.imaging import signals

    parent = done_cutouts(make_assets(1))[0]
    new = retouch.cutout_retouch_strokes(
        cutout=parent, user=reviewer(),
        strokes=[{"kind": "remove", "radius": 30, "points": [[200, 200], [260, 220]]}])
    heard: list[tuple[str, float]] = []
    real = signals.drawn_signals

    def watched(*args, **kwargs):
        heard.append(("signals", -1.0))
        return real(*args, **kwargs)

    monkeypatch.setattr(signals, "drawn_signals", watched)
    rgb = runs._load_working_copy(new.asset)
    retouch.cutout_retouch_compute(cutout=new, rgb=rgb, preview_side=256,
                                   on_progress=lambda s, f: heard.append((s, f)))
    at = heard.index(("signals", -1.0))
    assert heard[at - 1][0] == progress.CHECKING, heard
    saving = [f for s, f in heard[at:] if s == progress.SAVING]
    # after the signals, one value per encoded file, not one "Saving" over all of them
    assert len(saving) >= 3 and saving[-1] == 1.0, heard


def test_it_clears_stage_and_progress_when_a_batchs_failed_cutouts_are_retried(
        make_assets, fake_model):
    cutout, token = _claimed(make_assets)
    runs.RunProgress(cutout.pk, token)(progress.REFINING, 0.37)
    runs._fail(cutout.pk, token, "Model error: boom")
    assert batches.cutout_batch_retry_failed(batch=cutout.batch) == 1
    api = ApiClient(key_for(manager(), "manager"))
    body = api.get(f"/api/v1/cutouts/{cutout.pk}").json()
    assert (body["status"], body["progress"], body["stage"]) == ("queued", 0, ""), body


def test_it_counts_a_retried_cutouts_wait_from_its_retry_not_its_creation(make_assets):
    import datetime

    from django.utils import timezone

    from cutouts.templatetags.review_tags import waited

    cutout, token = _claimed(make_assets)
    runs._fail(cutout.pk, token, "Model error: boom")
    Cutout.objects.filter(pk=cutout.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=3, seconds=12))
    batches.cutout_batch_retry_failed(batch=cutout.batch)
    row = Cutout.objects.get(pk=cutout.pk)
    assert row.status == JobStatus.QUEUED
    assert waited(row) in ("0 s", "1 s", "2 s"), waited(row)


def test_it_clears_a_dead_runs_bar_in_the_same_write_that_requeues_it(make_assets):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cutout, token = _claimed(make_assets)
    runs.RunProgress(cutout.pk, token)(progress.REFINING, 0.37)
    row = Cutout.objects.get(pk=cutout.pk)
    with CaptureQueriesContext(connection) as queries:
        assert jobs._dead_run_reset(runs.CUTOUT_KIND, row, row.started_at) == "requeued"
    updates = [q["sql"] for q in queries.captured_queries
               if q["sql"].startswith("UPDATE") and "cutouts_cutout" in q["sql"]]
    # one compare-and-set: no moment where a poll sees the row queued with the dead bar
    assert len(updates) == 1, updates
    assert _row(cutout.pk) == ("", 0)
    assert Cutout.objects.get(pk=cutout.pk).status == JobStatus.QUEUED


def test_it_requeues_a_dead_run_without_a_failures_words(make_assets):
    """The reconciler's re-queue writes the same queued fields as the others
    (``batches.cutout_queued_fields``): no failure words stay on the row (set by hand: the
    claim clears them)."""
    cutout, token = _claimed(make_assets)
    Cutout.objects.filter(pk=cutout.pk).update(error="Model error: an earlier word")
    row = Cutout.objects.get(pk=cutout.pk)
    assert jobs._dead_run_reset(runs.CUTOUT_KIND, row, row.started_at) == "requeued"
    row = Cutout.objects.get(pk=cutout.pk)
    assert (row.status, row.error, row.working_copy_failed) == (JobStatus.QUEUED, "", False)

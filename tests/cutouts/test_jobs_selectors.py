"""A batch's progress as the page shows it: the time left reads as a person would say it,
the list of batches is counted in the same queries whatever its length, and what a batch was
started with is read from its own row."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cutouts.models import Cutout, CutoutBatch, JobStatus
from cutouts.selectors.jobs import (
    BatchProgress,
    BatchSettings,
    cutout_batch_counts,
    cutout_batch_list,
    cutout_batch_progress,
    cutout_batch_settings,
)
from cutouts.services.batches import cutout_batch_start
from tests.factories import ImageAssetFactory


def _progress(eta):
    return BatchProgress(batch=CutoutBatch(), counts={}, total=13, finished=0, percent=0,
                         per_minute=25.0, eta=eta, is_active=True)


def test_it_says_under_a_minute_instead_of_zero_minutes():
    assert _progress(timezone.now() + timedelta(seconds=31)).time_left == "under a minute"
    assert _progress(timezone.now() + timedelta(minutes=10, seconds=20)).time_left == \
        "about 10\xa0minutes"
    assert _progress(None).time_left == ""


@pytest.mark.django_db
def test_it_counts_the_batch_list_in_two_queries_whatever_its_length(
        django_assert_num_queries):
    started = [cutout_batch_start(assets=[ImageAssetFactory() for _ in range(2)])
               for _ in range(3)]
    Cutout.objects.filter(batch=started[0]).update(status=JobStatus.DONE)
    for length in (3, 1):
        with django_assert_num_queries(2):  # the batches, then one count for all of them
            rows = [cutout_batch_progress(batch=b) for b in cutout_batch_list(limit=length)]
        assert len(rows) == length
    rows = [cutout_batch_progress(batch=b) for b in cutout_batch_list()]
    assert {r.batch.pk: r.counts for r in rows} == {
        b.pk: cutout_batch_counts(batch=CutoutBatch.objects.get(pk=b.pk)) for b in started}
    assert {r.batch.pk: r.finished for r in rows}[started[0].pk] == 2


@pytest.mark.django_db
def test_it_reads_what_a_batch_was_started_with_from_its_row():
    batch = cutout_batch_start(assets=[ImageAssetFactory()], profile_name="fast",
                               overrides={"shadow": "keep"})
    progress = cutout_batch_progress(batch=batch)
    assert progress.settings == cutout_batch_settings(batch=batch)
    assert (progress.settings.profile, progress.settings.shadow) == ("fast", "keep")
    assert progress.settings.model == batch.settings["model"] != ""
    assert progress.settings.strength == "normal"  # fast's edge gain 4.0
    # the row's own settings, whatever the profile says today
    CutoutBatch.objects.filter(pk=batch.pk).update(
        settings={**batch.settings, "shadow": "synthetic", "refine": False})
    batch.refresh_from_db()
    assert (cutout_batch_settings(batch=batch).shadow,
            cutout_batch_settings(batch=batch).strength) == ("synthetic", "off")
    # a row made by hand, without settings, says nothing rather than a default
    bare = CutoutBatch.objects.create(label="by hand", total=0)
    assert cutout_batch_settings(batch=bare) == BatchSettings(profile="default", model="",
                                                              shadow="", strength="")


@pytest.mark.django_db
def test_it_reads_a_queued_batch_as_running_once_one_of_its_cutouts_runs():
    from cutouts.selectors.jobs import cutout_batch_status
    from cutouts.services import runs

    batch = cutout_batch_start(assets=[ImageAssetFactory() for _ in range(2)],
                               profile_name="fast")
    assert cutout_batch_progress(batch=batch).status == JobStatus.QUEUED
    first, second = batch.cutouts.order_by("pk")
    # claimed by a worker: the cutout runs before its run writes the batch row
    assert runs._claim(first.pk, "w1:1")
    batch.refresh_from_db()
    assert batch.status == JobStatus.QUEUED
    progress = cutout_batch_progress(batch=batch)
    assert (progress.status, progress.status_label) == (JobStatus.RUNNING, "Running")
    assert progress.is_active
    # one ended and the other still queued: still running, not queued
    Cutout.objects.filter(pk=first.pk).update(status=JobStatus.DONE)
    assert cutout_batch_status(batch=batch, counts=cutout_batch_counts(batch=batch)) == \
        JobStatus.RUNNING
    # a row that ended says what it ended as, whatever its rows
    CutoutBatch.objects.filter(pk=batch.pk).update(status=JobStatus.CANCELLED)
    batch.refresh_from_db()
    assert cutout_batch_progress(batch=batch).status == JobStatus.CANCELLED


@pytest.mark.django_db
def test_it_counts_unchanged_versions_by_their_stored_fact_not_their_message():
    batch = cutout_batch_start(assets=[ImageAssetFactory() for _ in range(3)])
    edited, translated, stopped = batch.cutouts.order_by("pk")
    # an edited or translated message is still the same outcome
    Cutout.objects.filter(pk=edited.pk).update(status=JobStatus.CANCELLED, is_unchanged=True,
                                               error="No change: v1 stays as it was.")
    Cutout.objects.filter(pk=translated.pk).update(status=JobStatus.CANCELLED,
                                                   is_unchanged=True,
                                                   error="Rien n'a changé : v1 telle quelle.")
    # a cancel whose words happen to begin the same way is still someone's cancel
    Cutout.objects.filter(pk=stopped.pk).update(status=JobStatus.CANCELLED,
                                                error="Nothing changed: cancelled by hand.")
    alone = cutout_batch_counts(batch=CutoutBatch.objects.get(pk=batch.pk))
    listed = cutout_batch_counts(batch=cutout_batch_list()[0])
    for counts in (alone, listed):
        assert (counts["unchanged"], counts["cancelled"]) == (2, 1)

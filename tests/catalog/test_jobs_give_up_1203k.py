"""An import whose worker dies on every attempt (a file that kills it) is failed naming that
file, reports it and every file after it "not imported", and sends ``import.finished`` once
(catalog.jobs ``JobKind.on_give_up``, import_runner.import_dead_run_fail)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import events, jobs
from catalog.models import ImportIssue, ImportJob, JobStatus
from catalog.services import import_runner
from tests.catalog.test_jobs import WorkerKilled, _zip_job, faulty_disk, sent  # noqa: F401

# the import tests' storage and broker fixtures (nothing is sent to a broker)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("faulty_disk", "sent")]


@pytest.fixture
def emitted(monkeypatch):
    """The ``import.finished`` events sent, with their status."""
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(events, "emit", lambda event_type, data, **kw: seen.append(
        (event_type, data["status"])) if event_type == "import.finished" else None)
    return seen


def _stale(job, settings) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1))


def test_it_names_the_file_an_import_keeps_dying_on_and_lists_the_rest(
        settings, monkeypatch, emitted):
    job = _zip_job(6)
    real_entry = import_runner._import_entry

    def poison(run, source, entry, user):
        if entry.name == "J02_MAIN.jpg":
            raise WorkerKilled  # out of memory on this file, every time
        real_entry(run, source, entry, user)

    monkeypatch.setattr(import_runner, "_import_entry", poison)
    for _ in range(settings.CUTROOM_JOB_MAX_ATTEMPTS):
        with pytest.raises(WorkerKilled):
            import_runner.import_job_run(job_id=job.pk, worker="dead@h:1")
        _stale(job, settings)
        result = jobs.jobs_reconcile()["import"]
    assert result["failed"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message.startswith("Failed after 2 of 6 files; 4 not imported: the worker "
                                  "running this stopped 3 times")
    assert "while importing J02_MAIN.jpg — too large or damaged?" in job.message
    assert (job.imported_count, job.progress_done) == (2, 2)
    rows = list(ImportIssue.objects.filter(job=job, kind=ImportIssue.Kind.NOT_IMPORTED)
                .order_by("pk").values_list("filename", "reason"))
    assert [name for name, _ in rows] == [f"J0{i}_MAIN.jpg" for i in range(2, 6)]
    assert ("stopped 3 times (killed, out of memory or restarted) while importing this file"
            in rows[0][1])
    assert {reason for _, reason in rows[1:]} == {import_runner.GAVE_UP_REASON}
    assert emitted == [("import.finished", "failed")]
    # a second reconciler (or a late redelivery's takeover) finds nothing to give up
    _stale(job, settings)
    assert jobs.jobs_reconcile()["import"]["failed"] == 0
    assert jobs._dead_run_reset(jobs.job_kinds()["import"], job, timezone.now()) is None
    assert len(emitted) == 1
    assert ImportIssue.objects.filter(job=job, kind=ImportIssue.Kind.NOT_IMPORTED).count() == 4


def test_it_lists_every_file_when_the_import_died_before_its_first(
        settings, emitted):
    job = _zip_job(3)
    ImportJob.objects.filter(pk=job.pk).update(attempts=settings.CUTROOM_JOB_MAX_ATTEMPTS - 1)
    assert jobs.job_claim(ImportJob, job.pk, worker="dead@h:1")
    _stale(job, settings)
    assert jobs.jobs_reconcile()["import"]["failed"] == 1
    job.refresh_from_db()
    assert job.message.startswith("Failed after 0 of 3 files; 3 not imported: the worker")
    assert "while importing" not in job.message
    assert ImportIssue.objects.filter(job=job, reason=import_runner.GAVE_UP_REASON).count() == 3
    assert emitted == [("import.finished", "failed")]

"""An export whose worker died: a re-queued run's bar and counts never go backwards and the
page says it restarted (F4); one that dies on every attempt is failed naming the image it
was on and sends ``export.finished`` once (F5)."""

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import events, jobs
from cutouts.models import ExportJob, JobStatus, Notification, Preset
from cutouts.services import export_jobs
from tests.factories import ProductFactory, manager

from .export_helpers import approved_cutout

pytestmark = pytest.mark.django_db

SPEC = "trim|fill-85|square-300|bg-ffffff|shadow-none|format-jpeg|quality-80|srgb"


class WorkerKilled(BaseException):
    """Stands in for kill -9: nothing in the run gets to clean up."""


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

    def plan(groups, presets, render):
        for items, outputs, source in real(groups, presets, render):
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

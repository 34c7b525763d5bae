"""QA 1203c: a cancelled import says how far it got, lists the files it never reached in
its report, and announces ``import.finished`` (an API client waits for that event)."""

import csv
import io

import pytest

from catalog import events
from catalog.selectors import import_job_report_csv
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_cancel, import_job_create
from tests.catalog.imagegen import jpeg_bytes
from tests.catalog.test_services import zip_job
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def emitted(monkeypatch):
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(events, "emit", lambda event_type, data, **kw: sent.append(
        (event_type, data)))
    return sent


def test_it_reports_the_files_a_cancelled_zip_import_never_reached(storage, emitted):
    ProductFactory(sku="CX")
    names = [f"CX-{n:02}.jpg" for n in range(1, 31)]
    job = zip_job({name: jpeg_bytes(size=(600, 500), seed=n) for n, name in enumerate(names)})

    def cancel_after_second(done=None, total=None, issue=None):
        if done == 2:
            import_job_cancel(job_id=job.pk)

    job = import_job_run(job_id=job.pk, progress=cancel_after_second)
    assert job.status == "cancelled"
    assert job.message == "Cancelled after 2 of 30 files; 28 not imported."
    assert (job.imported_count, job.progress_done, job.error_count) == (2, 2, 0)
    rows = list(csv.DictReader(io.StringIO(import_job_report_csv(job=job))))
    stored = {r["filename"] for r in rows if r["status"] == "stored"}
    not_imported = {r["filename"]: r["reason"] for r in rows if r["level"] == "error"}
    assert stored == {"CX-01.jpg", "CX-02.jpg"}
    assert set(not_imported) == set(names[2:])
    assert set(not_imported.values()) == {
        "Not imported: the import was cancelled before this file."}
    assert {r["status"] for r in rows if r["level"] == "error"} == {"not imported"}
    finished = [data for kind, data in emitted if kind == "import.finished"]
    assert len(finished) == 1
    assert finished[0]["status"] == "cancelled" and finished[0]["import_id"] == job.pk
    assert finished[0]["message"] == job.message


def test_it_announces_the_end_of_a_queued_import_cancelled_before_it_ran(storage, emitted):
    job = zip_job({"CY_MAIN.jpg": jpeg_bytes()})
    assert import_job_cancel(job_id=job.pk)
    assert import_job_run(job_id=job.pk) is None  # never runs
    assert [(kind, data["status"]) for kind, data in emitted] == [
        ("import.finished", "cancelled")]


def test_it_announces_the_end_of_a_cancelled_browser_session(storage, emitted):
    job = import_job_create(user=None, source_kind="upload", expected_files=3)
    assert import_job_cancel(job_id=job.pk)
    assert not import_job_cancel(job_id=job.pk)  # once
    assert [(kind, data["status"]) for kind, data in emitted] == [
        ("import.finished", "cancelled")]

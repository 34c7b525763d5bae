"""QA 1203k F7: a browser upload session cancelled from its import page said only
"Cancelled." and the files the page sent after the cancel were nowhere in its report. It now
says how far it got and lists them, in the words of a cancelled ZIP import."""

import csv
import io

import pytest

from catalog.models import ImageAsset, ImportJob
from catalog.selectors import import_job_report_csv
from catalog.services.import_runner import CANCELLED_REASON, cancelled_message
from catalog.services.imports import (
    import_job_cancel,
    import_job_create,
    import_job_finish,
    import_job_upload_file,
)
from tests.catalog.imagegen import jpeg_bytes
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _send(job, name, seed):
    return import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(jpeg_bytes(seed=seed)),
                                  filename=name)


def test_it_reports_a_cancelled_sessions_progress_and_the_files_sent_after(storage):
    ProductFactory(sku="CN001")
    ProductFactory(sku="CN002")
    job = import_job_create(user=None, source_kind="upload", expected_files=3)
    assert _send(job, "CN001_MAIN.jpg", 1).status == "stored"
    assert import_job_cancel(job_id=job.pk)
    job.refresh_from_db()
    assert job.message == cancelled_message(done=1, total=3)
    assert job.message == "Cancelled after 1 of 3 files; 2 not imported."
    for _ in range(2):  # the page retried it: one row
        late = _send(job, "CN002_MAIN.jpg", 2)
        assert late.status == "rejected" and late.code == "job_closed"
    import_job_finish(job_id=job.pk)
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == "cancelled"
    assert (job.imported_count, job.progress_done, job.error_count) == (1, 1, 0)
    rows = list(csv.DictReader(io.StringIO(import_job_report_csv(job=job))))
    by_name = {r["filename"]: r for r in rows}
    assert len(rows) == 2 and by_name["CN001_MAIN.jpg"]["status"] == "stored"
    assert by_name["CN002_MAIN.jpg"]["status"] == "not imported"
    assert by_name["CN002_MAIN.jpg"]["reason"] == CANCELLED_REASON
    assert not ImageAsset.objects.filter(product__sku="CN002").exists()


def test_it_adds_no_row_for_a_file_sent_to_a_finished_session(storage):
    ProductFactory(sku="CN003")
    job = import_job_create(user=None, source_kind="upload", expected_files=1)
    assert _send(job, "CN003_MAIN.jpg", 3).status == "stored"  # the session ends on it
    assert _send(job, "CN003_PT01.jpg", 4).code == "job_closed"
    rows = list(csv.DictReader(io.StringIO(import_job_report_csv(job=ImportJob.objects.get(
        pk=job.pk)))))
    assert [r["filename"] for r in rows] == ["CN003_MAIN.jpg"]

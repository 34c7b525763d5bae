"""The products CSV bulk edit (catalog/services/product_bulk.py, the bulk-edit views and their
page), a job: the request checks the file (read by the shared CSV reader: semicolons, tabs,
UTF-16, unclosed quotes named by line), stores it and queues the job; a worker applies it chunk
by chunk with progress, resumably, by the edit's rules (unknown SKUs, invalid and duplicate
lines); the page polls the row and lists the problem lines, capped, with the shared-GTIN warning
read once the file is applied, unknown SKUs saying how to create the products, and every line's
outcome in a CSV."""

import csv
import io
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from catalog import jobs, selectors, views
from catalog.errors import ManifestError
from catalog.models import JobStatus, Product, ProductBulkEdit, ProductBulkLine
from catalog.services import product_bulk
from catalog.services.product_bulk import BulkEditLine, BulkEditReport
from catalog.tasks import product_bulk_edit_run_task
from tests.catalog.test_manifest import _manifest_error
from tests.factories import ProductFactory, reviewer

pytestmark = pytest.mark.django_db

GTIN = "4006381333931"
OTHER_GTIN = "96385074"


@pytest.fixture
def sent(monkeypatch):
    """Job ids handed to Celery, in order (nothing reaches a broker)."""
    ids: list[int] = []
    monkeypatch.setattr(product_bulk_edit_run_task, "delay", lambda pk: ids.append(pk))
    return ids


def _upload(text: str | bytes, name: str = "edit.csv") -> SimpleUploadedFile:
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, "text/csv")


def _post(client, text: str | bytes, **extra):
    return client.post(reverse("catalog:product_bulk_edit"),
                       {"file": _upload(text), "encoding": "utf-8", **extra})


def _job(text: str | bytes, encoding: str = "utf-8") -> ProductBulkEdit:
    return product_bulk.product_bulk_edit_create(user=None, upload=_upload(text),
                                                 encoding=encoding)


def bulk_edit(text: str | bytes, encoding: str = "utf-8") -> ProductBulkEdit:
    """``text`` checked and stored as the page does, then applied as the worker does; the
    finished job (its ``lines`` in file order). Other modules' bulk-edit cases use it too."""
    job = product_bulk.product_bulk_edit_run(job_id=_job(text, encoding).pk)
    assert job is not None
    return job


def _bulk_error(data: bytes, encoding: str = "utf-8") -> str:
    """The request's refusal of a file (nothing stored, nothing queued)."""
    with pytest.raises(ManifestError) as caught:
        _job(data, encoding)
    return str(caught.value)


def _report_lines(job: ProductBulkEdit) -> list[list[str]]:
    """Every line's [line, sku, outcome, message] as the CSV report reads them (warned)."""
    return list(selectors.product_bulk_edit_report_rows(job=job))[1:]


def _stored_report(job: ProductBulkEdit) -> BulkEditReport:
    """The job's stored lines as the report ``selectors.product_bulk_report_warned`` reads."""
    return BulkEditReport(lines=[
        BulkEditLine(line=r.line, sku=r.sku, outcome=r.outcome, message=r.message,
                     gtin_product=r.gtin_product, product=r.product_pk)
        for r in job.lines.all()])


def _run_page(client, text: str, sent: list[int]):
    """Post ``text`` on the page, run the queued job as the worker would, open its page."""
    posted = _post(client, text)
    assert posted.status_code == 302
    job = ProductBulkEdit.objects.get()
    product_bulk_edit_run_task(job.pk)
    return client.get(posted["Location"])


def _report(client, job: ProductBulkEdit) -> list[list[str]]:
    response = client.get(reverse("catalog:product_bulk_edit_report", args=[job.pk]))
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- the request: check, store, queue --------------------------------------------------------


def test_it_queues_the_edit_and_changes_nothing_in_the_request(
        manager_client, storage, stored_files, django_capture_on_commit_callbacks, sent):
    ProductFactory(sku="A-1", brand="Old")
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(manager_client, "sku,brand\nA-1,Acme\nZZ-9,X\n")
    job = ProductBulkEdit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:product_bulk_edit_detail", args=[job.pk])
    assert sent == [job.pk]  # sent once the row committed
    assert job.status == JobStatus.QUEUED and job.source_filename == "edit.csv"
    assert job.created_by is not None
    assert Product.objects.get(sku="A-1").brand == "Old"  # the worker applies it
    assert stored_files() == {job.source_name}
    assert storage.open(job.source_name).read() == b"sku,brand\nA-1,Acme\nZZ-9,X\n"


@pytest.mark.parametrize("data, words", [
    (b"brand\nX\n", "needs 'sku'"),
    (b"PK\x03\x04rest", "The bulk-edit file is an Excel workbook"),
    (b"sku,brand\nA-1,\xff\n", "not valid UTF-8 (byte 0xFF on line 2)"),
    (b'sku,brand\nA-1,New\nB-1,"Acme\n', "line 3: not valid CSV"),
])
def test_it_refuses_a_bad_file_in_the_request_and_stores_nothing(
        manager_client, stored_files, sent, data, words):
    ProductFactory(sku="A-1", brand="Old")
    response = _post(manager_client, data)
    assert response.status_code == 400
    assert words in response.context["error"]
    assert escape(words) in response.content.decode()
    assert not ProductBulkEdit.objects.exists() and stored_files() == set() and sent == []
    assert Product.objects.get(sku="A-1").brand == "Old"


def test_it_refuses_a_file_over_the_size_limit_before_reading_it(
        manager_client, stored_files, monkeypatch):
    monkeypatch.setattr(product_bulk, "MAX_CSV_BYTES", 10)
    monkeypatch.setattr(product_bulk, "_read", lambda *a: pytest.fail("read"))
    response = _post(manager_client, "sku,brand\nA-1,Acme\n")
    assert response.status_code == 400
    assert "The bulk-edit file is over" in response.context["error"]
    assert not ProductBulkEdit.objects.exists() and stored_files() == set()


def test_it_lets_only_managers_edit_or_read_bulk_edits(client, storage):
    job = _job("sku,brand\nA-1,Acme\n")
    client.force_login(reviewer())
    for url in (reverse("catalog:product_bulk_edit"),
                reverse("catalog:product_bulk_edit_detail", args=[job.pk]),
                reverse("catalog:product_bulk_edit_report", args=[job.pk])):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("catalog:product_bulk_edit"),
                       {"file": _upload("sku,brand\nA-1,X\n")}).status_code == 403


# --- reading the file: the request refuses what the run could not read -------------------


@pytest.mark.parametrize("text, words", [
    ("brand,category\nX,Y\n", "needs 'sku'"),
    ("sku,colour\nA,red\n", "unknown: colour"),
    ("sku\nA-1\n", "at least one"),
    ("", "empty"),
])
def test_it_refuses_a_bulk_file_with_wrong_columns(storage, text, words):
    with pytest.raises(ManifestError, match=words):
        _job(text)


def test_it_tells_a_bulk_file_with_semicolons_to_use_commas():
    assert _bulk_error(b"sku;brand;category\nA-1;Acme;Toys\n") == (
        "The bulk-edit file uses semicolons; separate columns with commas.")
    assert _manifest_error(b"sku;title\nA;B\n") == (
        "The manifest uses semicolons; separate columns with commas.")


def test_it_names_the_line_of_an_unclosed_quote_in_a_bulk_file_and_changes_nothing():
    ProductFactory(sku="A-1", brand="Old")
    ProductFactory(sku="B-1", brand="Old")
    message = _bulk_error(b'sku,brand\nA-1,New\nB-1,"Acme\nC-1,X\n')
    assert message == (
        "The bulk-edit file has errors: line 3: not valid CSV: the row starting on line 3 "
        "(a quote opened there is never closed): unexpected end of data; nothing was changed.")
    assert set(Product.objects.values_list("brand", flat=True)) == {"Old"}
    assert "the row starting on line 2 (a quote opened there is never closed)" in (
        _manifest_error(b'sku,filename\nA,"a.jpg\n'))


@pytest.mark.parametrize("data, words", [
    ("sku,brand\nA-1,X\n".encode("utf-16")[:-1],
     "The bulk-edit file is UTF-16 (it starts with a byte-order mark) but ends in the middle"),
    (b"PK\x03\x04rest", "The bulk-edit file is an Excel workbook"),
    (b"sku,brand\nA-1,\xff\n", "The bulk-edit file is not valid UTF-8 (byte 0xFF on line 2)"),
    (b"", "The bulk-edit file is empty."),
])
def test_it_names_the_bulk_edit_file_in_its_read_errors(data, words):
    assert _bulk_error(data).startswith(words)


def test_it_reads_a_tab_separated_bulk_file(storage):
    ProductFactory(sku="A-1", brand="Old", title="Old")
    job = bulk_edit(b"sku\tbrand\ttitle\nA-1\tAcme\tBear, brown\n")
    assert list(job.lines.values_list("sku", "outcome")) == [("A-1", "updated")]
    product = Product.objects.get(sku="A-1")
    assert (product.brand, product.title) == ("Acme", "Bear, brown")  # a comma is text


# --- the run ---------------------------------------------------------------------------------


def test_it_applies_the_file_chunk_by_chunk_with_progress_and_counts(storage, monkeypatch):
    for sku in ("A-1", "B-1", "C-1"):
        ProductFactory(sku=sku, brand="Old", gtin="")
    monkeypatch.setattr(product_bulk, "CHUNK_LINES", 2)
    job = _job("sku,brand,gtin\nA-1,Acme,\nB-1,Old,\nNOPE,X,\nC-1,,123\nC-1,Zed,\n")
    seen = []
    real = product_bulk._apply_chunk

    def watching(names, rows, first_lines):
        row = ProductBulkEdit.objects.get(pk=job.pk)
        seen.append((row.progress_done, row.progress_total, row.status))
        return real(names, rows, first_lines)

    monkeypatch.setattr(product_bulk, "_apply_chunk", watching)
    job = product_bulk.product_bulk_edit_run(job_id=job.pk, worker="w@h:1")
    assert seen == [(0, 5, "running"), (2, 5, "running"), (4, 5, "running")]
    assert (job.status, job.progress_done, job.progress_total, job.checkpoint) == (
        "done", 5, 5, {"chunk": 3})
    assert product_bulk.product_bulk_edit_counts(job) == [
        ("updated", 2), ("unchanged", 1), ("unknown SKU", 1), ("invalid", 1)]
    assert job.message == ("5 of 5 lines applied: 2 updated, 1 unchanged, 1 unknown SKU, "
                           "1 invalid.")
    assert list(job.lines.values_list("line", "sku", "outcome")) == [
        (2, "A-1", "updated"), (3, "B-1", "unchanged"), (4, "NOPE", "unknown SKU"),
        (5, "C-1", "invalid"), (6, "C-1", "updated")]
    assert dict(Product.objects.values_list("sku", "brand")) == {
        "A-1": "Acme", "B-1": "Old", "C-1": "Zed"}


def test_it_bulk_edits_in_chunks_so_an_early_chunk_stays_committed(storage, monkeypatch):
    ProductFactory(sku="A-1", brand="")
    ProductFactory(sku="B-1", brand="")
    monkeypatch.setattr(product_bulk, "CHUNK_LINES", 1)
    calls = []
    real = product_bulk._apply_chunk

    def counting(names, rows, *rest):
        calls.append([line for line, _ in rows])
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(names, rows, *rest)

    monkeypatch.setattr(product_bulk, "_apply_chunk", counting)
    job = bulk_edit("sku,brand\nA-1,One\nB-1,Two\n")
    assert job.status == JobStatus.FAILED
    assert job.message.startswith(
        "The bulk edit failed unexpectedly (RuntimeError: database went away). 1 of 2 lines "
        "applied: 1 updated,")
    assert calls == [[2], [3]]
    assert Product.objects.get(sku="A-1").brand == "One"
    assert Product.objects.get(sku="B-1").brand == ""


def test_it_runs_a_job_once_however_often_the_task_is_delivered(storage, monkeypatch):
    ProductFactory(sku="A-1", brand="Old")
    job = _job("sku,brand\nA-1,Acme\n")
    product_bulk_edit_run_task(job.pk)
    monkeypatch.setattr(product_bulk, "_apply_chunk", lambda *a: pytest.fail("applied again"))
    product_bulk_edit_run_task(job.pk)  # a redelivery: the claim finds it done
    job.refresh_from_db()
    assert (job.status, job.attempts, job.lines.count()) == ("done", 1, 1)


class WorkerKilled(BaseException):
    """Stands in for kill -9: nothing in the run gets to clean up."""


def test_it_resumes_a_killed_run_at_the_first_chunk_that_did_not_commit(
        storage, monkeypatch, settings, sent):
    ProductFactory(sku="A-1", brand="Old")
    ProductFactory(sku="B-1", brand="Old")
    ProductFactory(sku="C-1", brand="Old")
    monkeypatch.setattr(product_bulk, "CHUNK_LINES", 1)
    # line 5 changes A-1 again, after the resume: still refused as a duplicate of line 2
    job = _job("sku,brand\nA-1,One\nB-1,Two\nC-1,Three\nA-1,Other\n")
    real = product_bulk._apply_chunk

    def dies_in_third(names, rows, first_lines):
        out = real(names, rows, first_lines)
        if rows[0][0] == 4:
            raise WorkerKilled  # C-1 written, not committed
        return out

    monkeypatch.setattr(product_bulk, "_apply_chunk", dies_in_third)
    with pytest.raises(WorkerKilled):
        product_bulk.product_bulk_edit_run(job_id=job.pk, worker="dead@h:1")
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.checkpoint) == ("running", 2, {"chunk": 2})
    assert Product.objects.get(sku="C-1").brand == "Old"
    ProductBulkEdit.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1))
    assert jobs.jobs_reconcile()["product_bulk_edit"]["running_reset"] == 1
    assert sent == [job.pk]
    monkeypatch.setattr(product_bulk, "_apply_chunk", real)
    job = product_bulk.product_bulk_edit_run(job_id=job.pk, worker="new@h:2")
    assert (job.status, job.attempts, job.progress_done) == ("done", 2, 4)
    lines = list(job.lines.values_list("line", "outcome"))
    assert lines == [(2, "updated"), (3, "updated"), (4, "updated"), (5, "invalid")]
    assert job.lines.get(line=5).message.startswith("duplicate of line 2 (product A-1)")
    assert (job.updated_count, job.invalid_count) == (3, 1)  # each line counted once
    assert dict(Product.objects.values_list("sku", "brand")) == {
        "A-1": "One", "B-1": "Two", "C-1": "Three"}


def test_it_rolls_back_the_chunk_of_a_run_that_lost_its_row_and_stops(storage, monkeypatch):
    ProductFactory(sku="A-1", brand="Old")
    ProductFactory(sku="B-1", brand="Old")
    monkeypatch.setattr(product_bulk, "CHUNK_LINES", 1)
    job = _job("sku,brand\nA-1,One\nB-1,Two\n")
    real = product_bulk._apply_chunk

    def taken_over_in_second(names, rows, first_lines):
        if rows[0][0] == 3:  # the reconciler gave the row to another run meanwhile
            ProductBulkEdit.objects.filter(pk=job.pk).update(run_token="another-run")
        return real(names, rows, first_lines)

    monkeypatch.setattr(product_bulk, "_apply_chunk", taken_over_in_second)
    job = product_bulk.product_bulk_edit_run(job_id=job.pk)
    assert (job.status, job.progress_done, job.checkpoint) == ("running", 1, {"chunk": 1})
    assert list(job.lines.values_list("line", flat=True)) == [2]
    assert Product.objects.get(sku="B-1").brand == "Old"


def test_it_gives_up_a_job_whose_worker_keeps_dying_saying_how_far_it_got(
        storage, settings, sent):
    ProductFactory(sku="A-1", brand="Old")
    job = _job("sku,brand\nA-1,Acme\nB-1,X\n")
    stale = timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1)
    for _ in range(settings.CUTROOM_JOB_MAX_ATTEMPTS):
        assert jobs.job_claim(ProductBulkEdit, job.pk, worker="gone@h:1")
        ProductBulkEdit.objects.filter(pk=job.pk).update(
            heartbeat_at=stale, progress_done=1, progress_total=2, updated_count=1)
        result = jobs.jobs_reconcile()["product_bulk_edit"]
    assert result["failed"] == 1 and len(sent) == settings.CUTROOM_JOB_MAX_ATTEMPTS - 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message.startswith("The worker running this stopped 3 times")
    assert "giving up. 1 of 2 lines applied: 1 updated," in job.message
    assert job.message.endswith("The lines after those were not applied.")


def test_it_resends_a_queued_job_whose_message_was_lost(storage, settings, sent, monkeypatch):
    job = _job("sku,brand\nA-1,Acme\n")
    monkeypatch.setattr(jobs, "queue_depths", lambda queues: dict.fromkeys(queues, 0))
    assert jobs.jobs_reconcile()["product_bulk_edit"]["resent"] == 0  # too young
    ProductBulkEdit.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.CUTROOM_RECONCILE_GRACE + 1))
    assert jobs.jobs_reconcile()["product_bulk_edit"]["resent"] == 1 and sent == [job.pk]


def test_it_fails_a_job_past_its_time_limit_keeping_what_was_applied(storage, monkeypatch):
    ProductFactory(sku="A-1", brand="Old")
    ProductFactory(sku="B-1", brand="Old")
    monkeypatch.setattr(product_bulk, "CHUNK_LINES", 1)
    job = _job("sku,brand\nA-1,One\nB-1,Two\n")
    real = product_bulk._apply_chunk

    def slow_second(names, rows, first_lines):
        if rows[0][0] == 3:
            raise SoftTimeLimitExceeded
        return real(names, rows, first_lines)

    monkeypatch.setattr(product_bulk, "_apply_chunk", slow_second)
    product_bulk_edit_run_task(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == ("The bulk edit took longer than allowed (30 min). 1 of 2 lines "
                           "applied: 1 updated, 0 unchanged, 0 unknown SKU, 0 invalid. The "
                           "lines after those were not applied.")
    assert dict(Product.objects.values_list("sku", "brand")) == {"A-1": "One", "B-1": "Old"}


# --- the edit's rules, line by line ----------------------------------------------------------


def test_it_bulk_edits_brand_and_category_and_reports_every_line(storage):
    ProductFactory(sku="A-1", brand="Old", category="Shoes")
    ProductFactory(sku="B-1", brand="Same", category="Hats")
    ProductFactory(sku="C-1", brand="Keep")
    ProductFactory(sku="GONE-1", brand="Before", deleted_at=timezone.now())
    job = bulk_edit(
        "sku,brand,category,gtin\n"
        "A-1,Acme,Boots,\n"
        "B-1,Same,Hats,\n"
        "NOPE-1,X,Y,\n"
        "GONE-1,X,Y,\n"
        "C-1,,,123\n"
        "C-1,Acme\n"
        "\n"
        "C-1,'=Evil,,\n"
    )
    lines = list(job.lines.all())
    outcomes = [(line.line, line.sku, line.outcome) for line in lines]
    assert outcomes == [
        (2, "A-1", "updated"), (3, "B-1", "unchanged"), (4, "NOPE-1", "unknown SKU"),
        (5, "GONE-1", "unknown SKU"), (6, "C-1", "invalid"), (7, "C-1", "invalid"),
        (9, "C-1", "updated"),
    ]
    assert lines[4].message.startswith("GTIN: ")  # named as the import names it (QA41 L3)
    assert "2 cells" in lines[5].message
    assert dict(product_bulk.product_bulk_edit_counts(job)) == {
        "updated": 2, "unchanged": 1, "unknown SKU": 2, "invalid": 2}
    a = Product.objects.get(sku="A-1")
    assert (a.brand, a.category) == ("Acme", "Boots")
    # The invalid line left C-1 alone; the escaped formula came back as plain text.
    assert Product.objects.get(sku="C-1").brand == "=Evil"
    assert Product.objects.get(sku="C-1").gtin == ""
    assert Product.objects.get(sku="GONE-1").brand == "Before"


def test_it_refuses_a_second_bulk_line_for_one_product_in_another_case(storage):
    ProductFactory(sku="SS26-TOY-005", brand="Old")
    job = bulk_edit(b"sku,brand\nSS26-TOY-005,First\nss26-toy-005,Second\n")
    lines = list(job.lines.all())
    assert [(li.line, li.outcome) for li in lines] == [(2, "updated"), (3, "invalid")]
    assert lines[1].message == (
        "duplicate of line 2 (product SS26-TOY-005) with different values (brand 'First' "
        "there, 'Second' here); not applied: one line per product")
    assert Product.objects.get(sku="SS26-TOY-005").brand == "First"


def test_it_names_the_sku_of_a_bulk_line_with_extra_cells(storage):
    ProductFactory(sku="TOY-1")
    job = bulk_edit(b"sku,brand\nTOY-1,Acme,extra\n")
    assert list(job.lines.values_list("sku", "outcome")) == [("TOY-1", "invalid")]


def test_it_keeps_a_line_whose_sku_is_longer_than_any_product(storage):
    job = _job("sku,brand\n" + "X" * 80 + ",Acme\n")
    job = product_bulk.product_bulk_edit_run(job_id=job.pk)
    line = ProductBulkLine.objects.get(job=job)
    assert (job.status, line.outcome, line.sku) == ("done", "unknown SKU", "X" * 64)


# --- the shared-GTIN warning: a read, once the file is applied ---------------------------------


def test_it_warns_in_the_bulk_report_of_a_gtin_another_product_has(storage):
    ProductFactory(sku="BEAR-006", gtin=GTIN)
    plush = ProductFactory(sku="PLUSH-002", gtin="")
    job = bulk_edit(f"sku,gtin\nPLUSH-002,{GTIN}\n")
    (line,), _count = selectors.product_bulk_edit_problems(job=job, limit=10)
    plush.refresh_from_db()
    warning = selectors.product_gtin_warning(product=plush)
    assert warning.startswith(f"GTIN {GTIN} is also on product BEAR-006 (#")
    assert (line.outcome, line.message) == ("updated", f"gtin. Warning: {warning}")
    assert plush.gtin == GTIN  # a warning, not a refusal (variants may share one)


def test_it_does_not_warn_of_a_gtin_no_other_product_has(storage):
    ProductFactory(sku="PLUSH-003", gtin="")
    job = bulk_edit(f"sku,gtin\nPLUSH-003,{GTIN}\n")
    assert [(r[2], r[3]) for r in _report_lines(job)] == [("updated", "gtin")]


def test_it_leaves_a_bulk_report_without_gtin_changes_as_it_is(storage):
    ProductFactory(sku="TOY-1", gtin=GTIN)
    ProductFactory(sku="TOY-2", gtin=GTIN)
    report = _stored_report(bulk_edit(b"sku,brand\nTOY-2,Zenith Toys\n"))
    assert selectors.product_bulk_report_warned(report=report) is report
    assert [(r.outcome, r.message) for r in report.lines] == [("updated", "brand")]


# --- the page --------------------------------------------------------------------------------


def test_it_polls_the_row_on_the_page_until_the_job_ends(manager_client, storage):
    job = _job("sku,brand\nA-1,Acme\n")
    url = reverse("catalog:product_bulk_edit_detail", args=[job.pk])
    ProductBulkEdit.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, progress_done=500, progress_total=2000, updated_count=480,
        invalid_count=20)
    page = manager_client.get(url).content.decode()
    assert f'hx-get="{url}"' in page and 'aria-valuenow="25"' in page
    assert "500 / 2000 lines" in page and "480 updated" in page
    partial = manager_client.get(url, HTTP_HX_REQUEST="true")
    assert partial.content.decode().startswith('<section class="card" id="bulk-progress"')
    assert "<form" not in partial.content.decode()  # the partial only
    ProductBulkEdit.objects.filter(pk=job.pk).update(status=JobStatus.DONE,
                                                     progress_done=2000)
    done = manager_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-get" not in done and 'aria-valuenow="100"' in done


def test_it_lists_the_first_problem_lines_and_the_csv_has_every_line(
        manager_client, storage, monkeypatch, sent):
    monkeypatch.setattr(views, "BULK_PROBLEMS_SHOWN", 3)
    ProductFactory(sku="A-1", brand="Old")
    text = "sku,brand\nA-1,=Acme\n" + "".join(f"NEW-{i},X\n" for i in range(5))
    page = _run_page(manager_client, text, sent)
    body = page.content.decode()
    assert [row.line for row in page.context["problems"]] == [3, 4, 5]
    assert page.context["problems_more"] == 2
    assert "The first 3 are listed; 2 more are in the CSV." in body
    assert '<span class="chip" data-outcome="unknown SKU">5 unknown SKU</span>' in body
    assert "5 lines name no product" in body and "data-unknown-help" in body
    assert f'href="{reverse("catalog:product_create")}"' in body
    rows = _report(manager_client, ProductBulkEdit.objects.get())
    assert rows[0] == ["line", "sku", "outcome", "message"]
    assert rows[1] == ["2", "A-1", "updated", "brand"]
    assert [r[:3] for r in rows[2:]] == [[str(i + 3), f"NEW-{i}", "unknown SKU"]
                                         for i in range(5)]
    assert all("Create products for unknown SKUs" in r[3] for r in rows[2:])
    assert Product.objects.get(sku="A-1").brand == "=Acme"


def test_it_escapes_report_cells_against_formula_injection(manager_client, storage, sent):
    _run_page(manager_client, "sku,brand\n=HYPERLINK(1),X\n", sent)
    rows = _report(manager_client, ProductBulkEdit.objects.get())
    assert rows[1][:3] == ["2", "'=HYPERLINK(1)", "unknown SKU"]


def test_it_tells_how_to_create_the_products_a_bulk_edit_does_not_know(
        manager_client, storage, sent):
    ProductFactory(sku="A-1", brand="Old")
    text = "sku,brand\nA-1,Acme\n" + "".join(f"NEW-{i},Acme\n" for i in range(8))
    response = _run_page(manager_client, text, sent)
    page = response.content.decode()
    assert "8 unknown SKU" in page
    assert "data-unknown-help" in page and "8 lines name no product" in page
    assert f'href="{reverse("catalog:bulk_upload")}"' in page
    assert f'href="{reverse("catalog:product_create")}"' in page
    unknown = [line.message for line in response.context["problems"]
               if line.outcome == "unknown SKU"]
    assert len(unknown) == 8 and all("Create products for unknown SKUs" in m for m in unknown)


def test_it_gives_no_creation_note_when_every_sku_is_known(manager_client, storage, sent):
    ProductFactory(sku="A-1", brand="Old")
    body = _run_page(manager_client, "sku,brand\nA-1,Acme\n", sent).content.decode()
    assert "1 updated" in body and "data-unknown-help" not in body
    assert 'id="bulk-problems"' not in body


def test_it_warns_both_lines_that_give_two_products_one_gtin(manager_client, storage, sent):
    ProductFactory(sku="TOY-1")
    ProductFactory(sku="TOY-2")
    page = _run_page(manager_client, f"sku,gtin\nTOY-1,{GTIN}\nTOY-2,{GTIN}\n", sent)
    # read once the whole file is applied: the first line's product shares it too
    shown = {line.sku: line.message for line in page.context["problems"]}
    assert shown["TOY-1"].startswith(f"gtin. Warning: GTIN {GTIN} is also on product TOY-2")
    assert shown["TOY-2"].startswith(f"gtin. Warning: GTIN {GTIN} is also on product TOY-1")
    report = {r[1]: r[3] for r in _report(manager_client, ProductBulkEdit.objects.get())[1:]}
    assert report == shown


def test_it_does_not_warn_of_a_gtin_a_later_line_took_off_the_other_product(
        manager_client, storage, sent):
    ProductFactory(sku="TOY-1", gtin=GTIN)
    ProductFactory(sku="TOY-2")
    page = _run_page(manager_client, f"sku,gtin\nTOY-2,{GTIN}\nTOY-1,{OTHER_GTIN}\n", sent)
    assert page.context["problems"] == []
    report = {r[1]: r[3] for r in _report(manager_client, ProductBulkEdit.objects.get())[1:]}
    assert report == {"TOY-2": "gtin", "TOY-1": "gtin"}


def test_it_lists_recent_bulk_edits_on_the_form_page(manager_client, storage):
    job = _job("sku,brand\nA-1,Acme\n")
    body = manager_client.get(reverse("catalog:product_bulk_edit")).content.decode()
    assert f'href="{reverse("catalog:product_bulk_edit_detail", args=[job.pk])}"' in body
    assert selectors.product_bulk_edit_list() == [job]


def test_it_answers_404_for_a_missing_bulk_edit(manager_client):
    assert manager_client.get(
        reverse("catalog:product_bulk_edit_detail", args=[999])).status_code == 404
    assert manager_client.get(
        reverse("catalog:product_bulk_edit_report", args=[999])).status_code == 404

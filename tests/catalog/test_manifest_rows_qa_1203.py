"""Manifest rows (2026-12-03): a refused row whose file is not in the ZIP or the upload
session is reported with every reason it has, in the import and its preview; the preview
says what the import will do with a row for an existing product it cannot update, with the
import's own decision (``import_mapping.manifest_outcome``) and words."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse

from catalog.ingest.manifest import parse_manifest
from catalog.models import ImportIssue, ImportJob, JobStatus, Product
from catalog.services import import_mapping
from catalog.services.import_runner import import_job_run
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

BAD_GTIN = "4006381333932"  # check digit off by one
GOOD_GTIN = "4006381333931"
# line 2: a new product the import refuses (bad GTIN), its file left out of the ZIP;
# line 3: a fine new product whose file is there
REFUSED_ROW = (f"sku,gtin,filename,position\nQA003,{BAD_GTIN},qa003.jpg,MAIN\n"
               "QA004,,qa004.jpg,MAIN\n").encode()
REFUSAL = ("Line 2: product QA003 not created; its files are refused: gtin: ")
MISSING = "Manifest line 2 names qa003.jpg, which is not in the archive."



def _zip_job(client, members: dict) -> ImportJob:
    response = client.post(reverse("catalog:import_list"), {
        "archive": SimpleUploadedFile("shoot.zip", zip_bytes(members), "application/zip")})
    return import_job_run(job_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])


def _issues(job: ImportJob) -> list[tuple[str, str, str]]:
    return list(ImportIssue.objects.filter(job=job).order_by("pk")
                .values_list("filename", "level", "reason"))


# --- 1. a refused row whose file is not there: every reason -------------------------------------


def test_it_reports_a_refused_rows_refusal_with_its_missing_file_in_a_zip(manager_client,
                                                                         storage):
    job = _zip_job(manager_client, {"manifest.csv": REFUSED_ROW,
                                    "qa004.jpg": jpeg_bytes(seed=4)})
    assert job.status == JobStatus.DONE and job.imported_count == 1
    ((name, level, reason),) = _issues(job)
    # was only the warning "Manifest line 2 names qa003.jpg, which is not in the archive."
    assert (name, level) == ("manifest.csv", ImportIssue.Level.ERROR)
    assert reason.startswith(f"{MISSING} {REFUSAL}")
    assert not Product.objects.filter(sku="QA003").exists()
    assert job.error_count == 1
    # with its file there, the file carries the refusal, once
    job = _zip_job(manager_client, {"manifest.csv": REFUSED_ROW.replace(b"QA004", b"QA008"),
                                    "qa003.jpg": jpeg_bytes(seed=3),
                                    "qa004.jpg": jpeg_bytes(seed=8)})
    ((name, level, reason),) = _issues(job)
    assert (name, level) == ("qa003.jpg", ImportIssue.Level.ERROR)
    assert reason.startswith("manifest.csv line 2: Cannot create product 'QA003': gtin: ")


def test_it_reports_a_deleted_products_row_with_its_missing_file_in_a_zip(manager_client,
                                                                         storage):
    product = ProductFactory(sku="GONE-1")
    product.deleted_at = product.created_at
    product.save()
    job = _zip_job(manager_client, {
        "manifest.csv": b"sku,filename\nGONE-1,gone.jpg\nQA004,qa004.jpg\n",
        "qa004.jpg": jpeg_bytes(seed=4)})
    assert [reason for _name, _level, reason in _issues(job)] == [
        "Manifest line 2 names gone.jpg, which is not in the archive. Line 2: product GONE-1 "
        "is deleted; its manifest rows are skipped."]


def _session(client, manifest: bytes, files: dict[str, bytes], **finish) -> ImportJob:
    response = client.post(reverse("catalog:bulk_upload"), {
        "manifest": SimpleUploadedFile("shoot.csv", manifest), "expected": len(files)},
        HTTP_ACCEPT="application/json")
    assert response.status_code == 201, response.content
    for name, data in files.items():
        client.post(response.json()["upload_url"],
                    {"file": SimpleUploadedFile(name, data, "image/jpeg")},
                    HTTP_ACCEPT="application/json")
    client.post(response.json()["finish_url"], finish, HTTP_ACCEPT="application/json")
    return ImportJob.objects.get(pk=response.json()["job"])


def test_it_reports_a_refused_row_whose_file_never_came_at_a_sessions_end(manager_client,
                                                                         storage):
    job = _session(manager_client, REFUSED_ROW, {"qa004.jpg": jpeg_bytes(seed=4)})
    assert job.status == JobStatus.DONE and job.imported_count == 1
    ((name, level, reason),) = _issues(job)  # was: nothing at all
    assert (name, level) == ("shoot.csv", ImportIssue.Level.ERROR)
    assert reason.startswith(
        f"Manifest line 2 names qa003.jpg, which is not among the uploaded files. {REFUSAL}")
    assert job.error_count == 1 and "1 refused" in job.message
    # a file of the row that came, or that the page held back, carries the refusal, once
    sent = _session(manager_client, REFUSED_ROW.replace(b"QA004", b"QA006"),
                    {"qa003.jpg": jpeg_bytes(seed=3), "qa004.jpg": jpeg_bytes(seed=6)})
    assert [(n, lv) for n, lv, _r in _issues(sent)] == [("qa003.jpg", ImportIssue.Level.ERROR)]
    held = _session(manager_client, REFUSED_ROW.replace(b"QA004", b"QA007"),
                    {"qa004.jpg": jpeg_bytes(seed=7)}, held=["qa003.jpg"])
    assert [n for n, _lv, _r in _issues(held)] == ["qa003.jpg"]




# --- 1 and 3 in the preview: the import's own decision and words --------------------------------


def test_it_previews_a_refused_row_whose_file_is_missing_in_the_zips_words(manager_client,
                                                                          storage):
    manifest = parse_manifest(REFUSED_ROW)
    notes = import_mapping.manifest_preview_notes(manifest=manifest, names=["qa004.jpg"],
                                                  session=False)
    job = _zip_job(manager_client, {"manifest.csv": REFUSED_ROW,
                                    "qa004.jpg": jpeg_bytes(seed=4)})
    assert notes == [(name, reason, level) for name, level, reason in _issues(job)]


def test_it_previews_only_refused_rows_with_missing_files_for_a_session():
    manifest = parse_manifest(REFUSED_ROW)
    notes = import_mapping.manifest_preview_notes
    # qa003.jpg is there: the preview lists it as not mapped, with the refusal
    assert notes(manifest=manifest, names=["qa003.jpg", "qa004.jpg"], session=True) == []
    ((name, reason, level),) = notes(manifest=manifest, names=[], session=True)
    assert (name, level) == ("manifest.csv", ImportIssue.Level.ERROR)
    assert reason.startswith(
        f"Manifest line 2 names qa003.jpg, which is not among the uploaded files. {REFUSAL}")


def test_it_previews_an_existing_product_a_row_cannot_update_as_the_import_reports_it(
        manager_client, storage):
    ProductFactory(sku="OLD-1", gtin=GOOD_GTIN, title="Kept")
    data = f"sku,title,gtin,filename\nold-1,New title,{BAD_GTIN},old.jpg\n".encode()
    notes = import_mapping.manifest_preview_notes(manifest=parse_manifest(data), names=["old.jpg"],
                                   session=False)
    job = _zip_job(manager_client, {"manifest.csv": data, "old.jpg": jpeg_bytes(seed=1)})
    # the import: a warning, the product untouched, its file still imported
    assert job.imported_count == 1
    assert Product.objects.get(sku="OLD-1").title == "Kept"
    ((name, level, reason),) = _issues(job)
    assert (name, level) == ("manifest.csv", ImportIssue.Level.WARNING)
    assert reason.startswith("Line 2: product old-1 left as it was; its files are still "
                             "imported: gtin: ")
    # the preview said so, word for word (it said nothing before)
    assert notes == [(name, reason, level)]


def test_it_updates_an_existing_product_whose_sku_predates_the_sku_rule(manager_client,
                                                                       storage):
    # a manifest never changes a SKU, so it is not validated (products.product_update):
    # the import refused "sku: SKU must be …" for every field of such a product
    Product.objects.bulk_create([Product(sku="OLD SKU")])  # made before the rule
    data = b"sku,title\nOLD SKU,New title\n"
    assert import_mapping.manifest_preview_notes(manifest=parse_manifest(data), names=[],
                                  session=False) == []
    job = _zip_job(manager_client, {"manifest.csv": data, "x.jpg": jpeg_bytes(seed=1)})
    assert Product.objects.get(sku="OLD SKU").title == "New title"
    assert job.products_updated == 1
    assert all("OLD SKU" not in reason for _n, _lv, reason in _issues(job))


def test_it_shows_the_manifest_notes_beside_the_files_without_holding_any_back():
    page = render_to_string("catalog/_import_preview.html", {
        "preview": type("P", (), {"mapped": 0, "total": 0, "groups": [], "unmapped": [],
                                  "new_products": 0})(),
        "manifest_notes": [("shoot.csv", "Manifest line 2 names a.jpg, which is not …",
                            "error"),
                           ("shoot.csv", "Line 3: product B left as it was; …", "warning")]})
    assert page.count("data-preview-manifest-note") == 2
    assert "2 manifest notes" in page and "Manifest rows (2)" in page
    assert "data-preview-unmapped" not in page  # upload.js holds back those files
    assert '<span class="name">shoot.csv</span>: Line 3: product B left as it was' in page

"""A file a manifest does not list, when the manifest lists files, whose name would create a
product: not imported, with the same reason in the import's report and its preview
(QA 2026-12-04: shoot/069.jpg, left out of the manifest, made a product "shoot" by the
folder rule and the report said nothing). Onto a product that exists or that the manifest
names it is still mapped by its name."""

import html
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import ImageAsset, Product
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create, import_job_upload_file
from tests.catalog.imagegen import jpeg_bytes, zip_bytes

pytestmark = pytest.mark.django_db

MANIFEST = b"sku,title,filename,position\r\nQA-M1,Boot,shoot/001.jpg,MAIN\r\n"
NOT_LISTED = ("Not in the manifest: manifest.csv lists the files to import, and not this one; "
              "its name would create product shoot (folder name). Add a row for it, or import "
              "it without a manifest.")


def _zip(members: dict[str, bytes]) -> ContentFile:
    return ContentFile(zip_bytes(members), name="shoot.zip")


def test_it_refuses_a_zip_file_the_manifest_does_not_list(storage):
    job = import_job_run(job_id=import_job_create(
        user=None, source_kind="zip", enqueue=False, create_products=True,
        source_file=_zip({"shoot/001.jpg": jpeg_bytes(seed=1),
                          "shoot/069.jpg": jpeg_bytes(seed=2),
                          # not listed either, but its name reads the manifest's product
                          "QA-M1_PT01.jpg": jpeg_bytes(seed=5),
                          "manifest.csv": MANIFEST})).pk)
    assert (job.status, job.imported_count, job.error_count) == ("done", 2, 1)
    assert list(Product.objects.values_list("sku", flat=True)) == ["QA-M1"]
    assert dict(ImageAsset.objects.values_list("original_filename", "position")) == {
        "001.jpg": "MAIN", "QA-M1_PT01.jpg": "PT01"}
    issue = job.issues.get()
    assert (issue.filename, issue.level, issue.reason) == ("shoot/069.jpg", "error", NOT_LISTED)


def test_it_previews_a_file_the_manifest_does_not_list_as_not_mapped(manager_client):
    page = manager_client.post(reverse("catalog:import_preview"), {
        "source": "zip", "create_products": "on", "use_folders": "on",
        "names": ["shoot/001.jpg", "shoot/069.jpg", "QA-M1_PT01.jpg", "manifest.csv"],
        "zip_manifest": SimpleUploadedFile("manifest.csv", MANIFEST, "text/csv"),
    }).content.decode()
    assert "2 of 3 files → 1 product" in page
    assert 'data-preview-sku="QA-M1"' in page
    assert 'data-preview-sku="shoot"' not in page
    assert "shoot/069.jpg" in page and html.escape(NOT_LISTED) in page


def test_it_refuses_a_session_file_the_manifest_does_not_list(storage):
    job = import_job_create(user=None, source_kind="upload", create_products=True,
                            manifest_file=SimpleUploadedFile("shoot.csv", MANIFEST))
    answer = import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(jpeg_bytes(seed=3)),
                                    filename="shoot/069.jpg")
    assert answer.status == "rejected"
    assert answer.reason == NOT_LISTED.replace("manifest.csv", "shoot.csv")
    assert not Product.objects.filter(sku="shoot").exists()


def test_it_still_maps_files_by_name_when_the_manifest_lists_no_file(storage):
    # a manifest of products only (no filename) describes them; the names say which file
    job = import_job_run(job_id=import_job_create(
        user=None, source_kind="zip", enqueue=False, create_products=True,
        source_file=_zip({"QA-M2_MAIN.jpg": jpeg_bytes(seed=4),
                          "manifest.csv": b"sku,title\r\nQA-M2,Sandal\r\n"})).pk)
    assert (job.imported_count, job.error_count) == (1, 0)
    assert Product.objects.get(sku="QA-M2").assets.get().position == "MAIN"

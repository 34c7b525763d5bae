"""QA 2026-12-06: one rule for which file is an import's manifest (F2), and the file a
manifest row names keeps the image over an unlisted identical copy (F4), in a ZIP, a browser
session and the preview alike."""

import html
import io
import json
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import ImageAsset, ImportIssue, Product
from catalog.services.import_runner import import_job_run
from catalog.services.imports import (
    import_job_create,
    import_job_finish,
    import_job_upload_file,
)
from tests.catalog.imagegen import zip_bytes
from tests.catalog.manifest_scenes import COPIES, SHOOT, copies, not_mapped, shoot
from tests.images import product_jpeg

pytestmark = pytest.mark.django_db

def _zip_import(members: dict[str, bytes]):
    job = import_job_create(user=None, source_kind="zip", create_products=True, enqueue=False,
                            source_file=ContentFile(zip_bytes(members), name="shoot.zip"))
    return import_job_run(job_id=job.pk)


def _preview(client, names: list[str], manifest: bytes | None, *, source: str,
             field: str = "zip_manifest") -> str:
    data = {"names_json": json.dumps(names), "create_products": "on", "source": source}
    if manifest is not None:
        data[field] = SimpleUploadedFile("manifest.csv", manifest, "text/csv")
    response = client.post(reverse("catalog:import_preview"), data)
    assert response.status_code == 200
    return response.content.decode()


def _positions() -> dict[str, tuple[str, str]]:
    return {(a.import_path or a.original_filename): (a.product.sku, a.position)
            for a in ImageAsset.live.select_related("product")}


def test_it_imports_a_zip_of_a_folder_by_the_folders_manifest(storage):
    job = _zip_import(shoot())
    assert job.issues.count() == 0
    assert not Product.objects.filter(sku__iexact="shoot").exists()
    assert sorted(_positions().values()) == [("ZIP34-1", "MAIN"), ("ZIP34-1", "PT01")]


def test_it_previews_a_zip_of_a_folder_with_the_folders_manifest(manager_client, storage):
    members = shoot()
    # what upload.js sends: every file entry but the manifest (manifestPathOf), sent apart
    names = [n for n in members if n != "shoot/manifest.csv"]
    page = _preview(manager_client, names, SHOOT, source="zip")
    assert not_mapped(page) == {}
    assert 'data-preview-sku="ZIP34-1"' in page and 'data-preview-sku="shoot"' not in page
    assert "2 of 2 files → 1 product" in page
    # unread in the browser, the manifest is named with the files: said, not skipped
    page = _preview(manager_client, [*names, "shoot/manifest.csv"], None, source="zip")
    assert "data-preview-manifest-unread" in page and not_mapped(page) == {}


def test_it_previews_a_folders_other_manifest_beside_the_root_one_as_the_import_skips_it(
        manager_client, storage):
    # QA 2026-12-06 qa34c #1: with the root manifest read and sent apart, the names left are
    # all in shoot/, and the server took shoot/manifest.csv for the manifest and hid it
    members = {"manifest.csv": b"sku,title,filename,position\r\nQAZ1,Shoe,shoot/a.jpg,MAIN\r\n",
               "shoot/a.jpg": product_jpeg(1200, 900, seed=5), "shoot/manifest.csv": b"sku\r\n"}
    skipped = {"shoot/manifest.csv": "Skipped: not an image file name (.csv)."}
    names = ["shoot/a.jpg", "shoot/manifest.csv"]
    data = {"names_json": json.dumps(names), "create_products": "on", "source": "zip",
            "manifest_path": "manifest.csv",
            "zip_manifest": SimpleUploadedFile("manifest.csv", members["manifest.csv"])}
    page = manager_client.post(reverse("catalog:import_preview"), data).content.decode()
    assert not_mapped(page) == skipped
    job = _zip_import(members)
    assert dict(job.issues.values_list("filename", "reason")) == skipped


def test_it_refuses_a_traversal_manifest_and_never_reads_its_rows(storage):
    job = _zip_import({"../manifest.csv": b"sku,title,filename,position\r\nQAZ8,E,x.jpg,PT01\r\n",
                       "../x.jpg": product_jpeg(1200, 900, seed=6)})
    assert not Product.objects.filter(sku="QAZ8").exists()
    reasons = dict(job.issues.values_list("filename", "reason"))
    assert reasons["../manifest.csv"] == "Refused: '..' in the path (path traversal)."


def test_it_reports_errors_of_a_folders_manifest_by_its_path(storage):
    members = {**shoot(), "shoot/manifest.csv": b"sku,filename\r\n,front/DSC_100.jpg\r\n"}
    job = _zip_import(members)
    assert job.status == "failed"
    assert set(job.issues.values_list("filename", flat=True)) == {"shoot/manifest.csv"}


def _manifest_notes(page: str) -> set[tuple[str, str]]:
    found = re.findall(r'<li data-preview-manifest-note class="\w+"><span class="name">'
                       r"([^<]*)</span>: ([^<]*)</li>", page)
    return {(html.unescape(name), html.unescape(why)) for name, why in found}


def test_it_names_a_folders_manifest_by_its_path_in_the_preview_as_in_the_report(
        manager_client, storage):
    """QA 2026-12-06 L3: the preview said "manifest.csv: Manifest line 4 …" of a ZIP's
    shoot/manifest.csv, which the report names by its path (``manifest_display_name``)."""
    manifest = SHOOT + b"ZIP34-1,,side/DSC_100.jpg,PT02\r\n"
    members = {**shoot(), "shoot/manifest.csv": manifest}
    names = [n for n in members if n != "shoot/manifest.csv"]
    data = {"names_json": json.dumps(names), "create_products": "on", "source": "zip",
            "manifest_path": "shoot/manifest.csv",
            "zip_manifest": SimpleUploadedFile("manifest.csv", manifest, "text/csv")}
    page = manager_client.post(reverse("catalog:import_preview"), data).content.decode()
    job = _zip_import(members)
    reported = set(job.issues.values_list("filename", "reason"))
    assert {name for name, _why in reported} == {"shoot/manifest.csv"}
    assert reported and _manifest_notes(page) == reported
    # a manifest chosen beside the ZIP keeps its own file name, as its report does
    data.pop("zip_manifest")
    data["manifest"] = SimpleUploadedFile("m5.csv", manifest, "text/csv")
    page = manager_client.post(reverse("catalog:import_preview"), data).content.decode()
    assert {name for name, _why in _manifest_notes(page)} == {"m5.csv"}


def test_it_keeps_the_rows_file_over_an_unlisted_copy_in_a_zip(storage):
    job = _zip_import({**copies(), "manifest.csv": COPIES})
    assert _positions() == {"MP35/a.jpg": ("MP35", "PT03"), "MP35/b.jpg": ("MP35", "MAIN")}
    assert list(job.issues.values_list("filename", flat=True)) == ["MP35/a copy.jpg"]


@pytest.mark.parametrize("arrival", [
    ["MP35/a copy.jpg", "MP35/a.jpg", "MP35/b.jpg"],
    ["MP35/a.jpg", "MP35/a copy.jpg", "MP35/b.jpg"],
    ["MP35/b.jpg", "MP35/a copy.jpg", "MP35/a.jpg"],
])
def test_it_keeps_the_rows_file_over_an_unlisted_copy_in_a_session(storage, arrival):
    files = copies()
    job = import_job_create(user=None, source_kind="upload", expected_files=3,
                            create_products=True, names=sorted(files),
                            manifest_file=ContentFile(COPIES, name="manifest.csv"))
    for name in arrival:
        import_job_upload_file(job_id=job.pk, filename=name, fileobj=io.BytesIO(files[name]))
    import_job_finish(job_id=job.pk)
    assert _positions() == {"MP35/a.jpg": ("MP35", "PT03"), "MP35/b.jpg": ("MP35", "MAIN")}
    issues = dict(ImportIssue.objects.filter(job=job).values_list("filename", "reason"))
    assert issues.pop("MP35/a copy.jpg").startswith("Duplicate: the same file is already "
                                                    "stored for MP35 as PT03")
    # arrived after its copy, the row's file took the image over, and says so
    assert issues == ({} if arrival.index("MP35/a.jpg") < arrival.index("MP35/a copy.jpg")
                      else {"MP35/a.jpg": "a copy.jpg, which arrived first, is the same file: "
                            "the image is kept as a.jpg at PT03, the file its manifest row "
                            "places, and a copy.jpg is reported as the duplicate."})


def test_it_tells_the_page_which_files_a_manifest_row_places(manager_client, storage):
    # upload_known.findCopies marks a copy in the import's order: the row's files first
    for source, field in (("session", "manifest"), ("zip", "zip_manifest")):
        page = _preview(manager_client, sorted(copies()), COPIES, source=source, field=field)
        placed = re.search(r"data-preview-manifest-placed><script[^>]*>([^<]*)</script>", page)
        assert placed and json.loads(placed.group(1)) == ["MP35/a.jpg", "MP35/b.jpg"]

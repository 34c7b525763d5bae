"""A ZIP's preview and its import agree (QA31, 2026-12-05): every entry the import refuses
for its name (a backslash traversal too) is counted and named by the preview, and every
product the import creates (a manifest row whose file is missing too) is announced by the
preview and listed on the import's page."""

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog import selectors
from catalog.ingest.archives import manifest_path
from catalog.models import ImportIssue, Product
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create, import_job_upload_file
from tests.catalog.imagegen import zip_bytes
from tests.catalog.manifest_scenes import not_mapped
from tests.images import product_jpeg

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
MANIFEST = (b"sku,title,filename,position\r\nQZ5,Five,QZ5_MAIN.jpg,MAIN\r\n"
            b"QZ6,Six,missing.jpg,PT03\r\nQZ4,Four,IMG_0001.jpg,MAIN\r\n")


def _members() -> dict[str, bytes]:
    """QA31's evil3.zip, in memory: traversal entries of every spelling, desktop metadata, a
    nested manifest and the manifest whose third row names a file the archive lacks."""
    photo = {name: product_jpeg(1200, 900, seed=seed) for seed, name in enumerate([
        "../QZ1_MAIN.jpg", "ok/../../QZ2_MAIN.jpg", "/abs/QZ3_MAIN.jpg", "QZ4/IMG_0001.jpg",
        "QZ5_MAIN.jpg", "..\\QZ7_MAIN.jpg", "C:/win/QZ8_MAIN.jpg"])}
    return {**photo, "__MACOSX/._QZ5_MAIN.jpg": b"\0\5\26\7", ".DS_Store": b"\0",
            "sub/manifest.csv": b"sku\r\n", "manifest.csv": MANIFEST}


def _sent_names(members: dict[str, bytes]) -> list[str]:
    """What upload.js sends the preview for a ZIP: every file entry of its directory but the
    manifest (``manifestPathOf``, the import's ``archives.manifest_path``: sent as its own
    file); the server judges each name."""
    manifest = manifest_path(members)
    return [name for name in members if name != manifest and not name.endswith("/")]


def _preview(client, members: dict[str, bytes], **extra: str) -> str:
    response = client.post(reverse("catalog:import_preview"), {
        **extra, "names": _sent_names(members), "create_products": "on", "source": "zip",
        "zip_manifest": SimpleUploadedFile("manifest.csv", members["manifest.csv"],
                                           "text/csv")})
    assert response.status_code == 200
    return response.content.decode()


def _import(members: dict[str, bytes]):
    job = import_job_create(user=None, source_kind="zip", create_products=True, enqueue=False,
                            source_file=ContentFile(zip_bytes(members), name="evil3.zip"))
    return import_job_run(job_id=job.pk)


def test_it_previews_every_entry_the_import_refuses_for_its_name(manager_client, storage):
    members = _members()
    page = _preview(manager_client, members)
    job = _import(members)
    refused = dict(job.issues.filter(level=ImportIssue.Level.ERROR)
                   .values_list("filename", "reason"))
    assert refused["..\\QZ7_MAIN.jpg"] == "Refused: '..' in the path (path traversal)."
    skipped = dict(job.issues.filter(reason__startswith="Skipped")
                   .values_list("filename", "reason"))
    assert skipped == {"sub/manifest.csv": "Skipped: not an image file name (.csv)."}
    # the same names with the same words; desktop metadata in neither
    assert not_mapped(page) == {**refused, **skipped}
    assert job.progress_total == 8 and job.error_count == 5
    assert "2 of 8 files → 3 products" in page
    # counted as the report counts them: refused, not "not mapped" (QA31b #7); the entry
    # skipped for its name is listed with what is not mapped, but counted by its kind, as
    # the upload page counts a dropped one
    named = re.search(r"data-preview-named-count>(\d+) refused for the path<", page)
    assert named and int(named.group(1)) == job.error_count
    assert ("· <span class=\"warn\" data-preview-unmapped-count>1 skipped (file type)</span>"
            in page)
    assert "<summary data-preview-unmapped-heading>1 skipped (file type)</summary>" in page


def test_it_counts_what_it_does_not_map_by_kind_as_the_upload_page_does(
        manager_client, storage):
    # a ZIP's preview said "3 not mapped" for an unknown SKU, a text file and a second
    # manifest, where a drop of the same files said the kinds (and the second manifest was
    # counted a file type there)
    members = {"manifest.csv": MANIFEST, "QZ5_MAIN.jpg": product_jpeg(1200, 900, seed=1),
               "notes.txt": b"x", "MANIFEST.CSV": b"sku\r\n"}  # the first manifest is read
    # the page says which entry it read as the manifest (upload.js manifestPathOf)
    page = _preview(manager_client, {**members, "unknown_.jpg": product_jpeg(1200, 900)},
                    manifest_path="manifest.csv")
    assert ('data-preview-unmapped-count>1 not mapped · 1 skipped (file type) · 1 skipped '
            '(second manifest)</span>') in page
    # the list's heading splits them alike (it said "Not mapped (3)")
    assert ("<summary data-preview-unmapped-heading>1 not mapped · 1 skipped (file type) · 1 "
            "skipped (second manifest)</summary>") in page
    # each still listed with its reason (the list upload.js reads)
    assert "Skipped: a second manifest; manifest.csv is the one read" in not_mapped(page)[
        "MANIFEST.CSV"]
    assert set(not_mapped(page)) == {"unknown_.jpg", "notes.txt", "MANIFEST.CSV"}


def test_it_announces_and_lists_a_product_the_manifest_makes_without_a_file(
        manager_client, storage):
    members = _members()
    page = _preview(manager_client, members)
    assert "(3 new<span data-preview-manifest-only-count>: 1 from the manifest, no file" in page
    assert re.search(r'data-preview-manifest-only="QZ6">.*?No file maps to it: created from '
                     r"the manifest \(line 3\) without an image", page, re.S)
    assert 'data-preview-sku="QZ6"' not in page
    assert not Product.objects.exists()

    job = _import(members)
    assert job.products_created == 3
    listed = {p.sku: p.has_image for p in selectors.import_job_products(job=job)}
    assert listed == {"QZ4": True, "QZ5": True, "QZ6": False}
    detail = manager_client.get(reverse("catalog:import_detail", args=[job.pk]), **HTMX)
    text = detail.content.decode()
    assert re.search(r"data-import-product-no-image>QZ6</a> <span[^>]*>\(created, no image\)",
                     text)
    assert text.count("(created, no image)") == 1


def test_it_counts_no_manifest_product_a_file_maps_to_as_without_a_file(manager_client):
    members = {"QZ4/IMG_0001.jpg": b"", "QZ5_MAIN.jpg": b"", "QZ6_PT03.jpg": b"",
               "manifest.csv": MANIFEST}
    page = _preview(manager_client, members)
    assert "3 of 3 files → 3 products</strong> (3 new)" in page
    assert "data-preview-manifest-only" not in page


def test_it_marks_the_products_an_import_makes_from_file_names(storage):
    job = import_job_create(user=None, source_kind="upload", expected_files=1,
                            create_products=True)
    import_job_upload_file(job_id=job.pk, filename="NEW-9_MAIN.jpg",
                           fileobj=io.BytesIO(product_jpeg(1200, 900)))
    product = Product.objects.get(sku="NEW-9")
    assert product.created_by_import_id == job.pk
    # an image removed since: the import still lists the product it made, as without one
    product.assets.update(deleted_at=product.created_at)
    assert [(p.sku, p.has_image) for p in selectors.import_job_products(job=job)] == [
        ("NEW-9", False)]


def test_it_previews_a_nas_shoot_as_its_import_takes_it(manager_client, storage):
    # the thumbnails in .@__thumb/ and @eaDir/ are neither counted nor listed, as the import
    # passes over them (archives.is_hidden_path); a traversal through one is still refused
    members = {"NAS-7/NAS-7_MAIN.jpg": product_jpeg(1200, 900, seed=1),
               "NAS-7/.@__thumb/NAS-7_PT01.jpg": product_jpeg(1200, 900, seed=2),
               "NAS-7/@eaDir/NAS-7_MAIN.jpg/SYNOFILE_THUMB_M.jpg": product_jpeg(1200, 900,
                                                                               seed=3),
               "NAS-7/.thumbs/../NAS-7_PT02.jpg": product_jpeg(1200, 900, seed=4)}
    response = manager_client.post(reverse("catalog:import_preview"), {
        "names": list(members), "create_products": "on", "source": "zip"})
    page = response.content.decode()
    job = _import(members)
    assert (job.imported_count, job.error_count, job.progress_total) == (1, 1, 2)
    assert "1 of 2 files → 1 product" in page
    assert not_mapped(page) == dict(job.issues.values_list("filename", "reason"))
    assert "SYNOFILE_THUMB" not in page and ".@__thumb" not in page

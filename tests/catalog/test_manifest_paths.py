"""Manifest rows naming folder paths (2026-12-05): a row names a file by its path when it
gives one, by its base name only when that is unambiguous; a row whose base name several
folders hold goes to none of them, and each such file is refused saying so, in the preview,
a ZIP import and a browser session alike."""

import html
import io
import json
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.ingest.manifest import ManifestError, parse_manifest
from catalog.models import ImageAsset, ImportIssue, ImportJob
from catalog.services.import_runner import import_job_run
from catalog.services.imports import (
    import_job_create,
    import_job_finish,
    import_job_upload_file,
)
from tests.catalog.imagegen import zip_bytes
from tests.images import product_jpeg

BARE = b"sku,filename,position\r\nMP-1,IMG_1.jpg,MAIN\r\n"
PATHS = b"sku,filename,position\r\nMP-A,A/IMG_1.jpg,MAIN\r\nMP-B,B/IMG_1.jpg,MAIN\r\n"
AMBIGUOUS = (
    "manifest.csv line 2 names IMG_1.jpg, which matches 2 files of this import (A/IMG_1.jpg, "
    "B/IMG_1.jpg): it is given to none of them. Give the file's folder in the manifest "
    "(A/IMG_1.jpg), or one row per file."
)


def test_it_matches_a_row_naming_a_path_in_that_folder_only():
    manifest = parse_manifest(PATHS)
    assert manifest.row_for("A/IMG_1.jpg").sku == "MP-A"
    assert manifest.row_for("B\\img_1.JPG").sku == "MP-B"
    # a ZIP of the shoot folder holds it one folder deeper
    assert manifest.row_for("shoot/B/IMG_1.jpg").sku == "MP-B"
    assert manifest.row_for("C/IMG_1.jpg") is None
    assert manifest.row_for("IMG_1.jpg") is None  # no folder: not the row's A/IMG_1.jpg
    assert manifest.unmatched(["shoot/A/IMG_1.jpg", "C/IMG_1.jpg"]) == [manifest.rows[1]]


def test_it_gives_a_bare_name_row_to_one_file_of_that_name_but_to_none_of_several():
    manifest = parse_manifest(BARE)
    manifest.bind(["A/IMG_1.jpg", "C/other.jpg"])
    assert manifest.row_for("A/IMG_1.jpg").sku == "MP-1"

    manifest.bind(["A/IMG_1.jpg", "B/IMG_1.jpg", "C/other.jpg"])
    assert manifest.row_for("A/IMG_1.jpg") is None and manifest.row_for("B/IMG_1.jpg") is None
    assert manifest.ambiguity("A/IMG_1.jpg") == manifest.ambiguity("b/img_1.jpg") == AMBIGUOUS
    # its files are there: the row is not reported missing (they carry the reason)
    assert manifest.unmatched(["A/IMG_1.jpg", "B/IMG_1.jpg"]) == []

    # the file the row names whole is its; another of that name elsewhere is no row's
    manifest.bind(["IMG_1.jpg", "B/IMG_1.jpg"])
    assert manifest.row_for("IMG_1.jpg").sku == "MP-1"
    assert manifest.row_for("B/IMG_1.jpg") is None and manifest.ambiguity("B/IMG_1.jpg") == ""


def test_it_still_refuses_malformed_manifests_clearly_with_paths():
    # two folders' files of one name are two rows; one path written twice is one file
    parse_manifest(b"sku,filename\r\nA,x/IMG_1.jpg\r\nB,y/IMG_1.jpg\r\n")
    with pytest.raises(ManifestError, match=r"line 3: file X\\IMG_1.JPG is already listed on "
                                            r"line 2"):
        parse_manifest(b"sku,filename\r\nA,x/IMG_1.jpg\r\nB,X\\IMG_1.JPG\r\n")
    with pytest.raises(ManifestError, match=r"line 2: file \.\./IMG_1\.jpg: '\.\.' in the path"):
        parse_manifest(b"sku,filename\r\nA,../IMG_1.jpg\r\n")


def _preview(client, names, manifest: bytes) -> tuple[set[str], dict[str, str]]:
    response = client.post(reverse("catalog:import_preview"), {
        "names_json": json.dumps(names), "create_products": "on", "source": "session",
        "manifest": SimpleUploadedFile("manifest.csv", manifest, "text/csv")})
    assert response.status_code == 200
    page = response.content.decode()
    skus = set(re.findall(r'data-preview-sku="([^"]+)"', page))
    unmapped = re.findall(r'<li data-preview-unmapped><span class="name">([^<]*)</span>: '
                          r"<span data-preview-reason>([^<]*)</span></li>", page)
    return skus, {html.unescape(k): html.unescape(v) for k, v in unmapped}


@pytest.mark.django_db
def test_it_previews_rows_by_path_and_refuses_an_ambiguous_base_name(manager_client):
    names = ["A/IMG_1.jpg", "B/IMG_1.jpg"]
    assert _preview(manager_client, names, PATHS) == ({"MP-A", "MP-B"}, {})
    assert _preview(manager_client, names, BARE) == (set(), dict.fromkeys(names, AMBIGUOUS))


@pytest.mark.django_db
def test_it_imports_a_zip_by_the_rows_paths_and_refuses_the_ambiguous_files(storage):
    members = {"shoot/A/IMG_1.jpg": product_jpeg(1200, 900, seed=1),
               "shoot/B/IMG_1.jpg": product_jpeg(1200, 900, seed=2)}
    for manifest, expected in ((PATHS, {"MP-A", "MP-B"}), (BARE, set())):
        job = import_job_create(
            user=None, source_kind="zip", create_products=True, enqueue=False,
            source_file=ContentFile(zip_bytes(members), name="shoot.zip"),
            manifest_file=ContentFile(manifest, name="manifest.csv"))
        job = import_job_run(job_id=job.pk)
        assert set(ImageAsset.objects.filter(import_job=job).values_list(
            "product__sku", flat=True)) == expected
        issues = dict(job.issues.values_list("filename", "reason"))
        if expected:
            assert issues == {}
        else:
            reason = AMBIGUOUS.replace("A/IMG_1.jpg, B/IMG_1.jpg", "shoot/A/IMG_1.jpg, "
                                       "shoot/B/IMG_1.jpg").replace(
                "(A/IMG_1.jpg), or", "(shoot/A/IMG_1.jpg), or")
            assert issues == dict.fromkeys(members, reason)


@pytest.mark.django_db
def test_it_matches_a_sessions_files_to_the_rows_as_the_page_declared_them(storage):
    names = ["A/IMG_1.jpg", "B/IMG_1.jpg"]
    for manifest in (PATHS, BARE):
        job = import_job_create(user=None, source_kind="upload", expected_files=2,
                                create_products=True, names=names,
                                manifest_file=ContentFile(manifest, name="manifest.csv"))
        for seed, name in enumerate(names):
            import_job_upload_file(job_id=job.pk, filename=name,
                                   fileobj=io.BytesIO(product_jpeg(1200, 900, seed=seed)))
        import_job_finish(job_id=job.pk)
        issues = dict(ImportIssue.objects.filter(job=job).values_list("filename", "reason"))
        skus = set(ImageAsset.objects.filter(import_job=job).values_list(
            "product__sku", flat=True))
        if manifest is PATHS:
            # stored by their rows, and no row reported missing (the images keep base names)
            assert (skus, issues) == ({"MP-A", "MP-B"}, {})
        else:
            assert (skus, issues) == (set(), dict.fromkeys(names, AMBIGUOUS))


@pytest.mark.django_db
def test_it_takes_the_names_a_session_declares_at_its_start(manager_client, storage):
    response = manager_client.post(reverse("catalog:bulk_upload"), {
        "expected": "2", "create_products": "on",
        "names_json": json.dumps(["A/IMG_1.jpg", "B/IMG_1.jpg"]),
        "manifest": SimpleUploadedFile("manifest.csv", BARE, "text/csv")},
        HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    job = ImportJob.objects.get()
    assert job.options["manifest_unbound"] == dict.fromkeys(["a/img_1.jpg", "b/img_1.jpg"],
                                                             AMBIGUOUS)
    # a malformed list is no list of names: the session matches each file alone
    response = manager_client.post(reverse("catalog:bulk_upload"), {
        "expected": "1", "names_json": "{", "manifest": SimpleUploadedFile(
            "manifest.csv", BARE, "text/csv")}, HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    assert "manifest_unbound" not in ImportJob.objects.latest("pk").options

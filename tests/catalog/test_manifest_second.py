"""QA 2026-12-06 qa34c #4: a second manifest beside the import's, the same path but for case
(``Manifest.CSV`` beside ``manifest.csv``), was passed over without a word. The import reads
the one the rule takes and reports the other as skipped, naming both, in one wording for a ZIP,
a server folder, a browser session and the preview."""

import io
import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.ingest import archives
from catalog.models import ImageAsset, ImportIssue
from catalog.services.import_runner import import_job_run
from catalog.services.imports import (
    MANIFEST_PATH,
    import_job_create,
    import_job_finish,
    import_job_upload_file,
    zip_no_images_reason,
)
from tests.catalog.imagegen import zip_bytes
from tests.catalog.manifest_scenes import SECOND_MANIFESTS, not_mapped

pytestmark = pytest.mark.django_db


def _said(read: str, skipped: str) -> dict[str, str]:
    return {skipped: f"Skipped: a second manifest; {read} is the one read (the names differ "
                     "only in case). Keep one manifest."}


def _issues(job) -> dict[str, str]:
    return dict(ImportIssue.objects.filter(job=job).values_list("filename", "reason"))


def _positions() -> list[tuple[str, str]]:
    return sorted(ImageAsset.live.values_list("product__sku", "position"))


@pytest.mark.parametrize(("name", "manifest", "kind"), [
    ("Manifest.CSV", "manifest.csv", archives.NAME_SECOND_MANIFEST),
    ("shoot/MANIFEST.csv", "shoot/manifest.csv", archives.NAME_SECOND_MANIFEST),
    ("manifest.csv", "manifest.csv", archives.NAME_IGNORED),
    # another folder's, or a hidden copy: not a second manifest
    ("other/manifest.csv", "shoot/manifest.csv", archives.NAME_NOT_IMAGE),
    ("__MACOSX/._Manifest.csv", "manifest.csv", archives.NAME_IGNORED),
    ("Manifest.CSV", None, archives.NAME_NOT_IMAGE),
])
def test_it_tells_a_second_manifest_by_its_path_but_for_case(name, manifest, kind):
    problem = archives.entry_name_problem(name, manifest=manifest)
    assert problem is not None and problem.kind == kind
    if kind == archives.NAME_SECOND_MANIFEST:
        assert problem.skipped
        assert problem.reason == _said(manifest, name)[name]


@pytest.mark.parametrize(("files", "read", "skipped"), SECOND_MANIFESTS)
def test_it_reports_a_zips_second_manifest_and_reads_the_first(storage, files, read, skipped):
    job = import_job_create(user=None, source_kind="zip", create_products=True, enqueue=False,
                            source_file=ContentFile(zip_bytes(files), name="shoot.zip"))
    job = import_job_run(job_id=job.pk)
    assert _issues(job) == _said(read, skipped)
    assert job.warning_count == 1
    assert _positions() == [("MC35", "MAIN")]  # the rows of the one read, not PT05


@pytest.mark.parametrize(("files", "read", "skipped"), SECOND_MANIFESTS)
def test_it_reports_a_server_folders_second_manifest(storage, tmp_path, files, read, skipped):
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    # a folder is walked in name order: "M" before "m", so the rule takes the upper-case one
    read, skipped = sorted((read, skipped))
    job = import_job_create(user=None, source_kind="folder", source_path=str(tmp_path),
                            create_products=True, enqueue=False)
    job = import_job_run(job_id=job.pk)
    assert _issues(job) == _said(read, skipped)


@pytest.mark.parametrize(("files", "read", "skipped"), SECOND_MANIFESTS)
def test_it_previews_a_zips_second_manifest_in_the_imports_words(manager_client, storage,
                                                                   files, read, skipped):
    # what upload.js sends: the names but the manifest it read, and which one that was
    names = [n for n in files if n != read]
    page = manager_client.post(reverse("catalog:import_preview"), {
        "names_json": json.dumps(names), "create_products": "on", "source": "zip",
        "manifest_path": read,
        "zip_manifest": SimpleUploadedFile("manifest.csv", files[read])}).content.decode()
    assert not_mapped(page) == _said(read, skipped)
    assert "1 of 2 files → 1 product" in page  # as any file it skips


@pytest.mark.parametrize(("files", "read", "skipped"), SECOND_MANIFESTS)
def test_it_reports_a_sessions_second_manifest_the_page_did_not_send(
        manager_client, storage, files, read, skipped):
    # the page takes the first as the manifest, skips the other (its words) and says both
    image = next(n for n in files if n.endswith(".jpg"))
    job = import_job_create(user=None, source_kind="upload", expected_files=1,
                            create_products=True, names=[image, skipped], manifest_path=read,
                            manifest_file=ContentFile(files[read], name="manifest.csv"))
    assert job.options[MANIFEST_PATH] == read
    page = manager_client.post(reverse("catalog:import_preview"), {
        "names_json": json.dumps([image, skipped]), "create_products": "on",
        "source": "session", "manifest_path": read,
        "manifest": SimpleUploadedFile("manifest.csv", files[read])}).content.decode()
    assert not_mapped(page) == _said(read, skipped)
    import_job_upload_file(job_id=job.pk, filename=image, fileobj=io.BytesIO(files[image]))
    job = import_job_finish(job_id=job.pk, skipped=[skipped])
    assert _issues(job) == _said(read, skipped)
    assert _positions() == [("MC35", "MAIN")]


def test_it_reports_a_second_manifest_sent_to_a_session(storage):
    # a client that sends it as a file gets the same warning, nothing stored
    files, read, skipped = SECOND_MANIFESTS[0]
    job = import_job_create(user=None, source_kind="upload", expected_files=2,
                            create_products=True, names=["a.jpg", skipped],
                            manifest_file=ContentFile(files[read], name="manifest.csv"))
    # without the page's path, the manifest is where its file name says
    assert job.options[MANIFEST_PATH] == "manifest.csv"
    result = import_job_upload_file(job_id=job.pk, filename=skipped,
                                    fileobj=io.BytesIO(files[skipped]))
    assert (result.status, result.reason) == ("rejected", _said(read, skipped)[skipped])
    assert _issues(job) == _said(read, skipped)


def test_it_counts_a_second_manifest_as_no_image_of_a_zip():
    assert zip_no_images_reason(["manifest.csv", "Manifest.CSV"]) == (
        "The archive holds no images: nothing to import. Its one file is not an image: "
        "Manifest.CSV.")

"""QA 2026-12-02 (second run) on imports: a ZIP that fails on its manifest lists every bad
line and shows why it failed in the imports tables, a manifest row wins a position tie with
a file named by the naming rules, and the 'did you mean' hint of a mistyped position comes
whether products would be created or not."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.ingest.naming import LIVE, FilenameRules, Unmapped, file_target
from catalog.models import ImageAsset, ImportIssue, ImportJob, JobStatus
from catalog.services.import_runner import import_job_run
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

BAD_MANIFEST = (b"sku,filename,position\nA1,a1.jpg,MAIN\nA2,a2.jpg,MAIN,extra\n"
                b'A3,"a3.jpg,MAIN\nA4,a4.jpg,MAIN\n')



def _zip_job(client, members: dict, **fields) -> ImportJob:
    response = client.post(reverse("catalog:import_list"), {
        "archive": SimpleUploadedFile("shoot.zip", zip_bytes(members), "application/zip"),
        **fields})
    return import_job_run(job_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])


# --- 1 and 2. a ZIP that fails on its manifest -------------------------------------------------


def test_it_lists_every_bad_manifest_line_of_a_failed_zip_in_its_message_and_report(
        manager_client, storage):
    job = _zip_job(manager_client, {"manifest.csv": BAD_MANIFEST,
                                    "a1.jpg": jpeg_bytes(seed=1)})
    assert job.status == JobStatus.FAILED
    assert "line 3: 3 cells" not in job.message  # the header has 3: the row has 4
    assert "line 3: 4 cells, the header has 3" in job.message
    assert "row starting on line 4" in job.message
    reasons = list(ImportIssue.objects.filter(job=job).values_list("filename", "reason"))
    assert [(name, reason.split(":")[0]) for name, reason in reasons] == [
        ("manifest.csv", "Line 3"), ("manifest.csv", "Line 4")]


def test_it_keeps_the_first_bad_manifest_lines_in_the_report_and_counts_the_rest(
        manager_client, storage, monkeypatch):
    from catalog.services import import_runner

    monkeypatch.setattr(import_runner, "MANIFEST_ISSUES_KEPT", 3)
    rows = b"".join(b",x%d.jpg,MAIN\n" % i for i in range(5))  # 5 lines without a SKU
    job = _zip_job(manager_client, {"manifest.csv": b"sku,filename,position\n" + rows,
                                    "a1.jpg": jpeg_bytes(seed=1)})
    assert job.status == JobStatus.FAILED
    reasons = list(ImportIssue.objects.filter(job=job).order_by("pk")
                   .values_list("reason", flat=True))
    assert [r.split(":")[0] for r in reasons[:3]] == ["Line 2", "Line 3", "Line 4"]
    assert reasons[3:] == ["… and 2 more bad lines like these."]


def test_it_shows_why_a_zip_failed_instead_of_empty_counts(manager_client, storage):
    job = _zip_job(manager_client, {"manifest.csv": BAD_MANIFEST,
                                    "a1.jpg": jpeg_bytes(seed=1)})
    for url in (reverse("catalog:import_list"), reverse("catalog:dashboard_summary"),
                reverse("catalog:bulk_upload")):
        page = html.unescape(manager_client.get(url).content.decode())
        row = page[page.index(f"#{job.pk}</a>"):]
        row = row[:row.index("</tr>")]
        assert "Failed: The manifest has errors: line 3: 4 cells" in row, url
        assert "0 / 0" not in row, url
    detail = html.unescape(manager_client.get(
        reverse("catalog:import_detail", args=[job.pk])).content.decode())
    assert "Failed before its first file" in detail and "0 / 0" not in detail
    assert "Line 3: 4 cells, the header has 3" in detail  # the issues list every bad line


# --- 3. a manifest row beats a naming rule on a position tie -----------------------------------


def test_it_gives_a_tied_position_to_the_manifest_file_and_refuses_the_named_one(
        manager_client, storage):
    product = ProductFactory(sku="SS26-SHOE-003")
    manifest = b"sku,filename,position\nSS26-SHOE-003,shoot/DSC_100.jpg,MAIN\n"
    job = _zip_job(manager_client, {"manifest.csv": manifest,
                                    "SS26-SHOE-003_MAIN.jpg": jpeg_bytes(seed=1),
                                    "shoot/DSC_100.jpg": jpeg_bytes(seed=2)})
    assert job.status == JobStatus.DONE
    main = ImageAsset.objects.get(product=product, position="MAIN", deleted_at__isnull=True)
    assert main.original_filename.endswith("DSC_100.jpg")
    refused = ImportIssue.objects.get(job=job, filename="SS26-SHOE-003_MAIN.jpg")
    assert refused.level == ImportIssue.Level.ERROR
    assert "MAIN" in refused.reason and "DSC_100.jpg" in refused.reason
    assert job.imported_count == 1 and job.error_count == 1


def test_it_refuses_a_named_file_whose_position_the_manifest_gives_another_file_in_a_session(
        manager_client, storage):
    product = ProductFactory(sku="SS26-SHOE-003")
    manifest = SimpleUploadedFile(
        "m.csv", b"sku,filename,position\nSS26-SHOE-003,shoot/DSC_100.jpg,MAIN\n")
    response = manager_client.post(reverse("catalog:bulk_upload"),
                                   {"manifest": manifest, "expected": 2},
                                   HTTP_ACCEPT="application/json")
    assert response.status_code in (200, 201), response.content
    send = response.json()["upload_url"]
    # the named file arrives first: the manifest's file still gets the position
    named = manager_client.post(send, {"file": SimpleUploadedFile(
        "SS26-SHOE-003_MAIN.jpg", jpeg_bytes(seed=1), "image/jpeg")},
        HTTP_ACCEPT="application/json").json()
    mapped = manager_client.post(send, {"file": SimpleUploadedFile(
        "DSC_100.jpg", jpeg_bytes(seed=2), "image/jpeg"), "path": "shoot/DSC_100.jpg"},
        HTTP_ACCEPT="application/json").json()
    assert named["status"] != "stored"
    assert "MAIN" in named["reason"] and "m.csv line 2" in named["reason"]
    assert mapped["status"] == "stored", mapped
    main = ImageAsset.objects.get(product=product, position="MAIN", deleted_at__isnull=True)
    assert main.original_filename.endswith("DSC_100.jpg")


@pytest.mark.parametrize("source, refused", [("session", True), ("zip", False)])
def test_it_previews_a_sessions_named_file_the_manifest_keeps_a_position_from(
        manager_client, storage, source, refused):
    # review: the preview showed SS26-SHOE-003_MAIN.jpg as fine and the session then refused
    # it; a ZIP import takes it (the manifest's file is not in the ZIP)
    ProductFactory(sku="SS26-SHOE-003")
    manifest = SimpleUploadedFile(
        "m.csv", b"sku,filename,position\nSS26-SHOE-003,shoot/DSC_100.jpg,MAIN\n")
    page = manager_client.post(reverse("catalog:import_preview"), {
        "names": ["SS26-SHOE-003_MAIN.jpg"], "manifest": manifest, "source": source})
    assert page.status_code == 200
    found = dict(re.findall(r'<li data-preview-unmapped><span class="name">([^<]*)</span>: '
                            r"([^<]*)</li>", page.content.decode()))
    if not refused:
        assert found == {}
        return
    # the session's import refuses it in these words (the test above)
    assert html.unescape(found["SS26-SHOE-003_MAIN.jpg"]) == (
        "Position MAIN of SS26-SHOE-003 is kept for shoot/DSC_100.jpg, which m.csv line 2 "
        "puts there: a manifest row beats the file's name. Rename this file or change the "
        "manifest.")


# --- 4. the 'did you mean' hint without creating products --------------------------------------


def test_it_hints_at_a_mistyped_position_when_products_are_not_created():
    stored = {"SS26-TOY-005": LIVE}
    with pytest.raises(Unmapped) as caught:
        file_target("SS26-TOY-005_XYZ.jpg", rules=FilenameRules(), manifest=None,
                    create=False, state=stored.get)
    assert str(caught.value).startswith("Unknown SKU SS26-TOY-005_XYZ: no such product")
    assert ("did you mean product SS26-TOY-005 with an unknown position 'XYZ'?"
            in str(caught.value))
    with pytest.raises(Unmapped) as plain:
        file_target("SS26-TOY-006_XYZ.jpg", rules=FilenameRules(), manifest=None,
                    create=False, state=stored.get)
    assert "did you mean" not in str(plain.value)


def test_it_hints_at_a_mistyped_position_in_the_report_without_creating(
        manager_client, storage):
    ProductFactory(sku="SS26-TOY-005")
    job = _zip_job(manager_client, {"SS26-TOY-005_XYZ.jpg": jpeg_bytes(seed=1)})
    reason = ImportIssue.objects.get(job=job, filename="SS26-TOY-005_XYZ.jpg").reason
    assert "did you mean product SS26-TOY-005 with an unknown position 'XYZ'?" in reason


def test_it_lets_a_manifest_row_take_a_position_a_name_gives_too_whatever_the_name_order(
        storage):
    """The ZIP of ``test_services.test_it_refuses_a_second_file_for_a_taken_position_in_a_zip_
    naming_the_other``: PT02 now goes to the manifest's shoot/a.jpg, not to CL1-3.jpg."""
    from django.core.files.base import ContentFile

    from catalog.services.imports import import_job_create
    from tests.catalog.imagegen import image_bytes

    product = ProductFactory(sku="CL1")
    members = {
        "CL1-1.png": image_bytes("PNG", seed=32),
        "CL1-3.jpg": jpeg_bytes(seed=34),  # PT02 by -3, but ...
        "shoot/a.jpg": jpeg_bytes(seed=35),  # ... PT02 by the manifest, which wins
        "manifest.csv": b"sku,filename,position\nCL1,shoot/a.jpg,PT02\n",
    }
    job = import_job_create(user=None, source_kind="zip", enqueue=False,
                            source_file=ContentFile(zip_bytes(members), name="shoot.zip"))
    job = import_job_run(job_id=job.pk)
    assert (job.imported_count, job.error_count) == (2, 1)
    got = dict(ImageAsset.live.filter(product=product).values_list("original_filename",
                                                                    "position"))
    assert got == {"CL1-1.png": "MAIN", "a.jpg": "PT02"}
    first = ImageAsset.live.get(product=product, original_filename="a.jpg")
    assert ImportIssue.objects.get(job=job).reason == (
        f"Position PT02 of CL1 is already taken by a.jpg (asset #{first.pk}, from this import)"
        "; not stored. Delete that image first, or give this file another position.")

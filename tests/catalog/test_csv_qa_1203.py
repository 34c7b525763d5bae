"""QA 2026-12-03 on manifests and bulk edit: the upload preview refuses the manifest rows the
import cannot create a product from, a refused line counts once (its file), a bulk edit
warns of a GTIN another product has, and the manifest and the bulk edit read CSV with one
reader (semicolons, tabs, unclosed quotes, UTF-16), each naming its own file."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog import selectors
from catalog.errors import ManifestError
from catalog.ingest.manifest import parse_manifest
from catalog.models import ImportIssue, Product
from catalog.selectors import import_job_report_csv
from catalog.services import product_bulk
from catalog.services.import_runner import import_job_run
from tests.catalog.imagegen import image_bytes, jpeg_bytes, zip_bytes
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
GOOD_GTIN = "4006381333931"
LONG_SKU = "L" * 77
# QA's manifest: a SKU with a space and a '!', a 77-character SKU, a GTIN of 5 digits
QA_MANIFEST = (f"sku,title,gtin,filename,position\nBAD SKU!,x,,DSC_0003.png,MAIN\n"
               f"{LONG_SKU},y,,DSC_0002.png,MAIN\nFLWR-010,Rose,12345,DSC_0001.png,MAIN\n"
               ).encode()
NAMES = ["DSC_0001.png", "DSC_0002.png", "DSC_0003.png"]



def _refused_in_preview(client, names, manifest: bytes) -> dict[str, str]:
    page = client.post(reverse("catalog:import_preview"), {
        "names": names, "source": "session",
        "manifest": SimpleUploadedFile("shoot.csv", manifest, "text/csv")})
    assert page.status_code == 200
    found = re.findall(r'<li data-preview-unmapped><span class="name">([^<]*)</span>: '
                       r"([^<]*)</li>", page.content.decode())
    return {html.unescape(k): html.unescape(v) for k, v in found}


def _session(client, manifest: bytes, send: list[str], held: list[str]) -> dict:
    urls = client.post(reverse("catalog:bulk_upload"), {
        "manifest": SimpleUploadedFile("shoot.csv", manifest, "text/csv"),
        "expected": str(len(send))}, **JSON).json()
    for seed, name in enumerate(send):
        answer = client.post(urls["upload_url"], {
            "file": SimpleUploadedFile(name, image_bytes("PNG", seed=seed), "image/png")},
            **JSON)
        assert answer.status_code in (201, 422), answer.content
    return {"finish": client.post(urls["finish_url"], {"held": held}, **JSON).json(),
            "job": urls["job"]}


# --- 1. the preview refuses what the import refuses --------------------------------------------


def test_it_previews_manifest_rows_with_a_bad_sku_or_gtin_as_refused(manager_client):
    refused = _refused_in_preview(manager_client, NAMES, QA_MANIFEST)
    assert refused == {
        "DSC_0003.png": ("shoot.csv line 2: Cannot create product 'BAD SKU!': sku: "
                         + refused["DSC_0003.png"].split(": sku: ", 1)[1]),
        "DSC_0002.png": (f"shoot.csv line 3: Cannot create product '{LONG_SKU}': sku: "
                         + refused["DSC_0002.png"].split(": sku: ", 1)[1]),
        "DSC_0001.png": ("shoot.csv line 4: Cannot create product 'FLWR-010': gtin: "
                         + refused["DSC_0001.png"].split(": gtin: ", 1)[1]),
    }
    assert "SKU must be 1-64 characters" in refused["DSC_0003.png"]
    assert "GTIN must be 8, 12, 13 or 14 digits" in refused["DSC_0001.png"]
    assert not Product.objects.exists()


def test_it_refuses_in_the_session_with_the_previews_very_words(manager_client, storage):
    preview = _refused_in_preview(manager_client, NAMES, QA_MANIFEST)
    # the page sends them anyway (an old page): the import refuses each in the same words
    session = _session(manager_client, QA_MANIFEST, send=NAMES, held=[])
    reasons = dict(ImportIssue.objects.filter(job_id=session["job"], level="error")
                   .values_list("filename", "reason"))
    assert reasons == preview


def test_it_previews_a_good_manifest_row_beside_a_bad_one_as_mapped(manager_client):
    manifest = b"sku,gtin,filename\nGOOD-1,4006381333931,a.jpg\nBAD-1,12345,b.jpg\n"
    preview = selectors.import_preview(
        names=["a.jpg", "b.jpg"], rules=selectors.FilenameRules(), create_products=False,
        manifest=parse_manifest(manifest, name="m.csv"))
    assert [(g.sku, g.new) for g in preview.groups] == [("GOOD-1", True)]
    assert [name for name, _why in preview.unmapped] == ["b.jpg"]


# --- 2. refusals count files --------------------------------------------------------------------


def test_it_counts_a_refused_manifest_line_once_with_its_file(manager_client, storage):
    manifest = b"sku,title,filename,position\nBAD SKU!,x,DSC_0003.png,MAIN\n" + (
        f"{LONG_SKU},y,DSC_0002.png,MAIN\n".encode())
    sent = _session(manager_client, manifest, send=["DSC_0003.png", "DSC_0002.png"], held=[])
    assert sent["finish"]["message"] == "0 imported, 2 refused."
    # the page holding them back (what its preview now says) gives the same count
    held = _session(manager_client, manifest, send=[], held=["DSC_0003.png", "DSC_0002.png"])
    assert held["finish"]["message"] == "0 imported, 2 refused."
    for job in (sent["job"], held["job"]):
        issues = list(ImportIssue.objects.filter(job_id=job).values_list("filename", "level"))
        assert sorted(issues) == [("DSC_0002.png", "error"), ("DSC_0003.png", "error")]


def test_it_counts_refused_files_of_a_zip_not_their_manifest_lines(manager_client, storage):
    manifest = b"sku,gtin,filename\nBAD-1,12345,a.jpg\nBAD-1,,b.jpg\n"
    response = manager_client.post(reverse("catalog:import_list"), {
        "archive": SimpleUploadedFile("shoot.zip", zip_bytes({
            "manifest.csv": manifest, "a.jpg": jpeg_bytes(seed=1),
            "b.jpg": jpeg_bytes(seed=2)}), "application/zip")})
    job = import_job_run(job_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert (job.imported_count, job.error_count) == (0, 2)
    assert job.message.startswith("0 imported, 2 refused")
    report = import_job_report_csv(job=job)
    assert report.count(",refused") == 2 and "manifest.csv," not in report


def test_it_still_reports_a_refused_manifest_line_that_names_no_file(storage):
    from django.core.files.base import ContentFile

    from catalog.services.imports import import_job_create

    manifest = ContentFile(b"sku,gtin,filename\nBAD-2,12345,\n", name="m.csv")
    job = import_job_create(user=None, source_kind="upload", manifest_file=manifest)
    reasons = list(job.issues.values_list("filename", "level", "reason"))
    assert [(f, level) for f, level, _r in reasons] == [("m.csv", "error")]
    assert reasons[0][2].startswith("Line 2: product BAD-2 not created; its files are refused")


def test_it_warns_not_refuses_when_a_row_cannot_update_a_product_whose_files_import(storage):
    from django.core.files.base import ContentFile

    from catalog.services.imports import import_job_create

    ProductFactory(sku="OLD-1", gtin="")
    manifest = ContentFile(b"sku,gtin,filename\nOLD-1,12345,a.jpg\n", name="m.csv")
    job = import_job_create(user=None, source_kind="upload", manifest_file=manifest)
    assert (job.error_count, job.warning_count) == (0, 1)
    assert job.issues.get().reason.startswith("Line 2: product OLD-1 left as it was")


# --- 3. bulk edit warns of a shared GTIN --------------------------------------------------------


def test_it_warns_in_the_bulk_report_of_a_gtin_another_product_has():
    ProductFactory(sku="BEAR-006", gtin=GOOD_GTIN)
    plush = ProductFactory(sku="PLUSH-002", gtin="")
    report = selectors.product_bulk_report_warned(report=product_bulk.products_bulk_update(
        data=f"sku,gtin\nPLUSH-002,{GOOD_GTIN}\n".encode()))
    (line,) = report.lines
    plush.refresh_from_db()
    warning = selectors.product_gtin_warning(product=plush)
    assert warning.startswith(f"GTIN {GOOD_GTIN} is also on product BEAR-006 (#")
    assert (line.outcome, line.message) == ("updated", f"gtin. Warning: {warning}")
    assert plush.gtin == GOOD_GTIN  # a warning, not a refusal (variants may share one)


def test_it_does_not_warn_of_a_gtin_no_other_product_has():
    ProductFactory(sku="PLUSH-003", gtin="")
    report = selectors.product_bulk_report_warned(report=product_bulk.products_bulk_update(
        data=f"sku,gtin\nPLUSH-003,{GOOD_GTIN}\n".encode()))
    assert [(r.outcome, r.message) for r in report.lines] == [("updated", "gtin")]


# --- 4. one CSV reader, naming its file ---------------------------------------------------------


def _bulk_error(data: bytes, encoding: str = "utf-8") -> str:
    with pytest.raises(ManifestError) as caught:
        product_bulk.products_bulk_update(data=data, encoding=encoding)
    return str(caught.value)


def _manifest_error(data: bytes) -> str:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data)
    return str(caught.value)


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


def test_it_names_the_manifest_in_its_read_errors():
    assert _manifest_error("sku,title\nA,B\n".encode("utf-16")[:-1]).startswith(
        "The manifest is UTF-16 (it starts with a byte-order mark) but ends in the middle")


def test_it_reads_a_tab_separated_bulk_file():
    ProductFactory(sku="A-1", brand="Old", title="Old")
    report = product_bulk.products_bulk_update(
        data=b"sku\tbrand\ttitle\nA-1\tAcme\tBear, brown\n")
    assert [(r.sku, r.outcome) for r in report.lines] == [("A-1", "updated")]
    product = Product.objects.get(sku="A-1")
    assert (product.brand, product.title) == ("Acme", "Bear, brown")  # a comma is text


def test_it_reads_a_tab_separated_manifest():
    manifest = parse_manifest(b"sku\tfilename\tposition\nA-1\tshoot/a, b.jpg\tPT01\n")
    (row,) = manifest.rows
    assert (row.line, row.sku, row.filename, row.position) == (2, "A-1", "shoot/a, b.jpg",
                                                               "PT01")

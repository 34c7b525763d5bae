"""Import mapping (catalog/services/import_mapping.py): what an import and its upload preview do
with each file and manifest row. A mistyped position warns, a refused manifest row is reported
once with every reason it has (also when its file is missing), a row for an existing product it
cannot update is said in the import's own words, ``products_updated`` counts only products whose
values changed, the report CSV lists every stored file, and a name no rule reads because of a
character a SKU cannot have says so."""

import csv
import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog import selectors
from catalog.ingest.manifest import parse_manifest
from catalog.ingest.naming import FilenameRules
from catalog.models import ImageAsset, ImportIssue, ImportJob, JobStatus, Product
from catalog.selectors import import_job_report_csv
from catalog.services import import_mapping
from catalog.services.assets import asset_ingest
from catalog.services.import_mapping import ImportRun, import_summary
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create, import_job_upload_file
from tests.catalog.imagegen import image_bytes, jpeg_bytes, zip_bytes
from tests.catalog.test_services import zip_job
from tests.factories import ImageAssetFactory, ImportJobFactory, ProductFactory

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
LOOKALIKE = ("QA012_ZZZ: {made}; did you mean product QA012 with an unknown position 'ZZZ'? "
             "Known positions: MAIN, PT01, PT02, PT03, PT04, PT05, PT06, PT07, PT08, SWCH.")


def _preview(client, names, **fields) -> str:
    response = client.post(reverse("catalog:import_preview"), {"names": names, **fields})
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _zip_job(client, members: dict, **fields) -> ImportJob:
    response = client.post(reverse("catalog:import_list"), {
        "archive": SimpleUploadedFile("shoot.zip", zip_bytes(members), "application/zip"),
        **fields})
    return import_job_run(job_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])


# --- 1. a mistyped position that would create a product ---------------------------------------


def test_it_warns_in_the_session_and_its_preview_when_a_new_sku_is_an_existing_one_plus_a_token(
        manager_client, storage):
    ProductFactory(sku="QA012")
    page = _preview(manager_client, ["QA012_ZZZ.jpg", "QA013_MAIN.jpg"], create_products="on")
    assert LOOKALIKE.format(made="a new product would be created") in page
    assert "1 new product like an existing SKU" in page
    assert page.count("data-preview-lookalike>") == 1  # QA013 resembles nothing

    urls = manager_client.post(reverse("catalog:bulk_upload"),
                               {"create_products": "on", "expected": "1"}, **JSON).json()
    answer = manager_client.post(urls["upload_url"], {
        "file": SimpleUploadedFile("QA012_ZZZ.jpg", jpeg_bytes(seed=1), "image/jpeg")}, **JSON)
    assert answer.status_code == 201
    warning = LOOKALIKE.format(made="new product created")
    assert warning in answer.json()["warnings"]
    job = ImportJob.objects.get(pk=urls["job"])
    assert list(job.issues.values_list("filename", "level", "reason")) == [
        ("QA012_ZZZ.jpg", "warning", warning)]
    assert Product.objects.filter(sku="QA012_ZZZ").exists()  # still made: only a warning


def test_it_names_the_lookalike_product_in_the_previews_unknown_sku_refusal(manager_client):
    # QA qa40a: without "create products" the preview said only "no such product" for
    # QA012_ZZZ.jpg beside a live QA012 (it looked up the readings, not their prefixes)
    ProductFactory(sku="QA012")
    page = _preview(manager_client, ["QA012_ZZZ.jpg"])
    assert ("Unknown SKU QA012_ZZZ: no such product; did you mean product QA012 with an "
            "unknown position 'ZZZ'?") in page


def test_it_warns_in_a_zip_import_matching_the_existing_sku_ignoring_case(manager_client,
                                                                          storage):
    ProductFactory(sku="qa012")
    job = _zip_job(manager_client, {"QA012_ZZZ.jpg": jpeg_bytes(seed=2),
                                    "QA012-MAIN-old.jpg": jpeg_bytes(seed=3)},
                   create_products="on")
    reasons = dict(job.issues.filter(level="warning").values_list("filename", "reason"))
    assert reasons["QA012_ZZZ.jpg"] == LOOKALIKE.format(made="new product created").replace(
        "product QA012", "product qa012")
    assert "did you mean product qa012 with an unknown position 'MAIN-old'?" in \
        reasons["QA012-MAIN-old.jpg"]


def test_it_bounds_the_lookalike_lookups_of_thousands_of_new_skus():
    ProductFactory(sku="BASE")
    job = ImportJobFactory(options={"create_products": True})
    run = ImportRun(job)
    skus = [f"NEW{n:04d}_X-{n}" for n in range(300)]
    with CaptureQueriesContext(connection) as queries:
        warnings = [run._lookalike(sku) for sku in skus]
    # one query per SKU for the first FOLD_SCANS, then the run's SKU map, read once
    assert len(queries) <= ImportRun.FOLD_SCANS + 1
    assert not any(warnings) and run._lookalike("BASE_ZZ").startswith("BASE_ZZ: new product")

    names = [f"{sku}.jpg" for sku in skus]
    with CaptureQueriesContext(connection) as queries:
        preview = selectors.import_preview(names=names, rules=FilenameRules(),
                                           create_products=True)
    assert preview.new_products == 300 and len(queries) <= 2


# --- 2. the report CSV lists every stored file -------------------------------------------------


def test_it_lists_every_stored_duplicate_and_replacing_file_in_the_report(manager_client,
                                                                         storage):
    product = ProductFactory(sku="RP1")
    old = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=10)),
                       filename="old.jpg", position="MAIN").asset
    same = asset_ingest(product=product, fileobj=io.BytesIO(jpeg_bytes(seed=11)),
                        filename="kept.jpg", position="PT01").asset
    members = {"RP1_MAIN.jpg": jpeg_bytes(seed=12), "RP1_PT01.jpg": jpeg_bytes(seed=11),
               "RP1_PT02.jpg": jpeg_bytes(seed=13), "NOPE_MAIN.jpg": jpeg_bytes(seed=14)}
    job = _zip_job(manager_client, members, replace="on")
    response = manager_client.get(reverse("catalog:import_report", args=[job.pk]))
    assert response.streaming  # a row per file: never built in memory
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert list(rows[0]) == ["filename", "level", "reason", "sku", "position", "asset_id",
                             "status"]
    new_main = ImageAsset.live.get(product=product, position="MAIN")
    pt02 = ImageAsset.live.get(product=product, position="PT02")
    outcome = {(r["filename"], r["status"]): (r["sku"], r["position"], r["asset_id"])
               for r in rows if r["status"]}
    assert outcome == {
        ("NOPE_MAIN.jpg", "refused"): ("", "", ""),
        ("RP1_PT01.jpg", "duplicate"): ("RP1", "PT01", str(same.pk)),
        ("RP1_MAIN.jpg", "replaced"): ("RP1", "MAIN", str(new_main.pk)),
        ("RP1_PT02.jpg", "stored"): ("RP1", "PT02", str(pt02.pk)),
    }
    # the issues keep their rows (the "Replaced …" warning names old.jpg)
    assert any(r["level"] == "warning" and f"asset #{old.pk}" in r["reason"] for r in rows)
    assert job.message.startswith("2 imported (1 replacing an older image), 1 duplicate "
                                  "skipped, 1 refused.")


def _report(job) -> dict[str, tuple[str, str, str, str]]:
    rows = csv.DictReader(io.StringIO(selectors.import_job_report_csv(job=job)))
    return {r["filename"]: (r["status"], r["sku"], r["position"], r["asset_id"]) for r in rows}


def test_it_reads_the_reports_columns_from_the_issue_not_from_its_words():
    job = ImportJobFactory(replaced_count=1)
    stored = ImageAssetFactory(product=ProductFactory(sku="RW1"), position="PT03")
    new = ImageAssetFactory(product=stored.product, position="MAIN", import_job=job,
                            original_filename="RW1_MAIN.jpg")
    # other words (a translation, a rewording): the kind and the image decide, not the text
    job.issues.create(filename="a.jpg", reason="Doppelt: schon gespeichert.", level="warning",
                      kind="duplicate", sku="RW1", position="PT03", asset_pk=stored.pk)
    job.issues.create(filename="RW1_MAIN.jpg", reason="Ersetzt MAIN.", level="warning",
                      kind="replaced", sku="RW1", position="MAIN", asset_pk=new.pk)
    # the old wording alone no longer makes a duplicate row
    job.issues.create(filename="b.jpg", level="warning", reason=(
        f"Duplicate: the same file is already stored for RW1 as PT03 (asset #{stored.pk}); "
        "not stored twice."))
    assert _report(job) == {
        "a.jpg": ("duplicate", "RW1", "PT03", str(stored.pk)),
        "RW1_MAIN.jpg": ("replaced", "RW1", "MAIN", str(new.pk)),  # the stored file's row
        "b.jpg": ("", "", "", ""),
    }


def test_it_fills_the_kind_of_issues_written_before_from_their_words():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("catalog.migrations.0009_importissue_kind")
    job = ImportJobFactory(replaced_count=1)
    product = ProductFactory(sku="RW2")
    stored = ImageAssetFactory(product=product, position="PT01")
    new = ImageAssetFactory(product=product, position="MAIN", import_job=job,
                            original_filename="RW2_MAIN.jpg")
    job.issues.create(filename="dup.jpg", level="warning", reason=(
        f"Duplicate: the same file is already stored for RW2 as PT01 (asset #{stored.pk}); "
        "not stored twice."))
    job.issues.create(filename="RW2_MAIN.jpg", level="warning", reason=(
        "Replaced MAIN of RW2 (old.jpg, asset #1, uploaded 2026-11-20): that image is deleted, "
        "as the product page's Delete does; its original is kept until purge."))
    job.issues.create(filename="x.txt", level="warning", reason="Skipped x.txt: not an image.")
    job.issues.create(filename="y.jpg", reason="Duplicate: an error keeps its kind")
    migration.fill_kinds(apps, None)
    got = {i.filename: (i.kind, i.sku, i.position, i.asset_pk) for i in job.issues.all()}
    assert got == {"dup.jpg": ("duplicate", "RW2", "PT01", stored.pk),
                   "RW2_MAIN.jpg": ("replaced", "RW2", "MAIN", new.pk),
                   "x.txt": ("", "", "", None), "y.jpg": ("", "", "", None)}
    assert _report(job)["RW2_MAIN.jpg"] == ("replaced", "RW2", "MAIN", str(new.pk))


def test_it_says_one_duplicate_in_the_singular():
    job = ImportJobFactory(imported_count=3, duplicate_count=1)
    assert import_summary(job) == "3 imported, 1 duplicate skipped."
    job.duplicate_count = 2
    assert import_summary(job) == "3 imported, 2 duplicates skipped."


# --- 4. characters a SKU cannot have -------------------------------------------------------------


def test_it_names_the_character_a_sku_cannot_have_instead_of_no_rule(manager_client, storage):
    ProductFactory(sku="QA035")
    page = _preview(manager_client, ["QA035_MAIN_é.jpg"])
    why = ("The file name has characters a SKU cannot have ('é'): SKU must be 1-64 characters: "
           "letters, digits, '.', '_' or '-', starting with a letter or digit. Rename the "
           "file, or map it with a manifest row.")
    assert re.search(r"QA035_MAIN_é\.jpg</span>: <span data-preview-reason>([^<]*)</span></li>",
                     page)[1] == why
    job = _zip_job(manager_client, {"QA035_MAIN_é.jpg": jpeg_bytes(seed=20)})
    assert dict(job.issues.values_list("filename", "reason")) == {"QA035_MAIN_é.jpg": why}


def test_it_uses_the_product_a_concurrent_upload_made_between_the_two_lookups(storage,
                                                                                monkeypatch):
    job = import_job_create(user=None, source_kind="upload", expected_files=3,
                            create_products=True)
    scan = ImportRun._in_any_case

    def racing_scan(self, sku):
        # the exact lookup found nothing; another request of the session creates it now
        Product.objects.get_or_create(sku="SHOOT-04")
        return scan(self, sku)

    monkeypatch.setattr(ImportRun, "_in_any_case", racing_scan)
    result = import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(jpeg_bytes(seed=4)),
                                    filename="SHOOT-04_PT01.jpg")
    assert result.status == "stored", result.reason
    assert result.asset.product.sku == "SHOOT-04"
    assert not result.product_created  # the other request made it
    assert list(ImageAsset.live.filter(product__sku="SHOOT-04")
                .values_list("position", flat=True)) == ["PT01"]
    assert Product.objects.filter(sku__iexact="shoot-04").count() == 1


LONG_SKU = "L" * 77


# every row refused: an ASIN of 7 characters, an EAN-13 with a wrong check digit, a GTIN of 5
# digits (a SKU with a space or of 77 characters refuses the whole manifest up front since
# 2026-12-05: test_manifest.py)
REFUSED_MANIFEST = (b"sku,title,gtin,asin,filename,position\n"
                    b"FLWR-012,x,,B0SHORT,DSC_0003.png,MAIN\n"
                    b"FLWR-011,y,4006381333932,,DSC_0002.png,MAIN\n"
                    b"FLWR-010,Rose,12345,,DSC_0001.png,MAIN\n")


NAMES = ["DSC_0001.png", "DSC_0002.png", "DSC_0003.png"]


def _refused_in_preview(client, names, manifest: bytes) -> dict[str, str]:
    page = client.post(reverse("catalog:import_preview"), {
        "names": names, "source": "session",
        "manifest": SimpleUploadedFile("shoot.csv", manifest, "text/csv")})
    assert page.status_code == 200
    found = re.findall(r'<li data-preview-unmapped><span class="name">([^<]*)</span>: '
                       r"<span data-preview-reason>([^<]*)</span></li>", page.content.decode())
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


def test_it_previews_manifest_rows_with_a_bad_sku_or_gtin_as_refused(manager_client):
    refused = _refused_in_preview(manager_client, NAMES, REFUSED_MANIFEST)
    assert refused == {
        "DSC_0003.png": ("shoot.csv line 2: Cannot create product 'FLWR-012': ASIN: "
                         + refused["DSC_0003.png"].split(": ASIN: ", 1)[1]),
        "DSC_0002.png": ("shoot.csv line 3: Cannot create product 'FLWR-011': GTIN: "
                         + refused["DSC_0002.png"].split(": GTIN: ", 1)[1]),
        "DSC_0001.png": ("shoot.csv line 4: Cannot create product 'FLWR-010': GTIN: "
                         + refused["DSC_0001.png"].split(": GTIN: ", 1)[1]),
    }
    assert "ASIN must be 10 characters" in refused["DSC_0003.png"]
    assert "wrong check digit" in refused["DSC_0002.png"]
    assert "GTIN must be 8, 12, 13 or 14 digits" in refused["DSC_0001.png"]
    assert not Product.objects.exists()


def test_it_refuses_in_the_session_with_the_previews_very_words(manager_client, storage):
    preview = _refused_in_preview(manager_client, NAMES, REFUSED_MANIFEST)
    # the page sends them anyway (an old page): the import refuses each in the same words
    session = _session(manager_client, REFUSED_MANIFEST, send=NAMES, held=[])
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


def test_it_counts_a_refused_manifest_line_once_with_its_file(manager_client, storage):
    manifest = (b"sku,title,gtin,filename,position\nBAD-1,x,12345,DSC_0003.png,MAIN\n"
                b"BAD-2,y,4006381333932,DSC_0002.png,MAIN\n")
    sent = _session(manager_client, manifest, send=["DSC_0003.png", "DSC_0002.png"], held=[])
    assert sent["finish"]["message"] == "0 imported, 2 refused."
    # the page holding them back (what its preview now says) gives the same count
    held = _session(manager_client, manifest, send=[], held=["DSC_0003.png", "DSC_0002.png"])
    assert held["finish"]["message"] == "0 imported, 2 refused."
    for job in (sent["job"], held["job"]):
        issues = list(ImportIssue.objects.filter(job_id=job).values_list("filename", "level"))
        assert sorted(issues) == [("DSC_0002.png", "error"), ("DSC_0003.png", "error")]


def test_it_names_the_sku_and_position_a_refused_files_manifest_row_gives(manager_client,
                                                                          storage):
    """QA 2026-12-05 L3: a refused row of the report left its sku and position empty
    although the manifest gave them; a stored row names its ZIP path beside it."""
    manifest = b"sku,gtin,filename,position\nBAD-1,12345,photos/a.jpg,PT02\nGOOD-1,,b.jpg,\n"
    response = manager_client.post(reverse("catalog:import_list"), {
        "archive": SimpleUploadedFile("shoot.zip", zip_bytes({
            "manifest.csv": manifest, "photos/a.jpg": jpeg_bytes(seed=1),
            "b.jpg": jpeg_bytes(seed=2)}), "application/zip")})
    job = import_job_run(job_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    rows = {r[0]: r for r in csv.reader(io.StringIO(import_job_report_csv(job=job)))}
    refused = rows["photos/a.jpg"]
    assert refused[1:2] == ["error"] and refused[2].startswith(
        "manifest.csv line 2: Cannot create product 'BAD-1': GTIN: ")
    assert refused[3:] == ["BAD-1", "PT02", "", "refused"]
    assert rows["b.jpg"][3] == "GOOD-1" and rows["b.jpg"][6] == "stored"


def test_it_refuses_a_zip_whose_manifest_has_an_invalid_sku_before_importing_anything(
        manager_client, storage):
    """QA 2026-12-05 L4: the import ran partially with the bad SKU's row refused."""
    manifest = b"sku,filename,position\nGOOD-1,a.jpg,MAIN\nbad sku!,b.jpg,MAIN\n"
    response = manager_client.post(reverse("catalog:import_list"), {
        "archive": SimpleUploadedFile("shoot.zip", zip_bytes({
            "manifest.csv": manifest, "a.jpg": jpeg_bytes(seed=1),
            "b.jpg": jpeg_bytes(seed=2)}), "application/zip")})
    job = import_job_run(job_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert job.status == JobStatus.FAILED and job.imported_count == 0
    assert job.issues.filter(reason__startswith="Line 3: SKU 'bad sku!' is not valid: SKU "
                             "must be 1-64 characters").exists()
    assert not Product.objects.exists()


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


GTIN = "4006381333931"


# SAME repeats its stored values (GTIN written with spaces: cleaned, it is the stored one);
# OTHER gets a new title; NEW is created
MANIFEST = (b"sku,title,brand,gtin,filename\nSAME,Boot,Acme,4006 3813 33931,same.jpg\n"
            b"OTHER,New title,,,other.jpg\nNEW,Fresh,,,new.jpg\n")


def _products() -> None:
    ProductFactory(sku="SAME", title="Boot", brand="Acme", gtin=GTIN)
    ProductFactory(sku="OTHER", title="Old title")


def _manifest_zip() -> ImportJob:
    return zip_job({"manifest.csv": MANIFEST, "same.jpg": jpeg_bytes(seed=1),
                     "other.jpg": jpeg_bytes(seed=2), "new.jpg": jpeg_bytes(seed=3)})


def test_it_counts_only_products_a_manifest_changed(storage):
    _products()
    same_stamp = Product.objects.get(sku="SAME").updated_at
    job = import_job_run(job_id=_manifest_zip().pk)
    # was 2: the SAME row, which changes nothing, counted as updated
    assert (job.status, job.imported_count, job.products_created, job.products_updated) == (
        "done", 3, 1, 1)
    assert Product.objects.get(sku="OTHER").title == "New title"
    assert Product.objects.get(sku="SAME").updated_at == same_stamp  # not even rewritten


def test_it_counts_only_changed_products_when_a_chunk_is_applied_one_by_one(storage,
                                                                          monkeypatch):
    # a concurrent writer made a SKU of the chunk meanwhile: the one-by-one path counts too
    _products()

    def raced(self, skus, manifest):
        raise IntegrityError("raced")

    monkeypatch.setattr(import_mapping.ImportRun, "_apply_chunk", raced)
    job = import_job_run(job_id=_manifest_zip().pk)
    assert (job.imported_count, job.products_created, job.products_updated) == (3, 1, 1)
    assert Product.objects.get(sku="OTHER").title == "New title"


BAD_GTIN = "4006381333932"  # check digit off by one


GOOD_GTIN = "4006381333931"


# line 2: a new product the import refuses (bad GTIN), its file left out of the ZIP;
# line 3: a fine new product whose file is there
REFUSED_ROW = (f"sku,gtin,filename,position\nQA003,{BAD_GTIN},qa003.jpg,MAIN\n"
               "QA004,,qa004.jpg,MAIN\n").encode()


REFUSAL = ("Line 2: product QA003 not created; its files are refused: GTIN: ")


MISSING = "Manifest line 2 names qa003.jpg, which is not in the archive."


def _issues(job: ImportJob) -> list[tuple[str, str, str]]:
    return list(ImportIssue.objects.filter(job=job).order_by("pk")
                .values_list("filename", "level", "reason"))


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
    assert reason.startswith("manifest.csv line 2: Cannot create product 'QA003': GTIN: ")


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


def _session_job(client, manifest: bytes, files: dict[str, bytes], **finish) -> ImportJob:
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
    job = _session_job(manager_client, REFUSED_ROW, {"qa004.jpg": jpeg_bytes(seed=4)})
    assert job.status == JobStatus.DONE and job.imported_count == 1
    ((name, level, reason),) = _issues(job)  # was: nothing at all
    assert (name, level) == ("shoot.csv", ImportIssue.Level.ERROR)
    assert reason.startswith(
        f"Manifest line 2 names qa003.jpg, which is not among the uploaded files. {REFUSAL}")
    assert job.error_count == 1 and "1 refused" in job.message
    # a file of the row that came, or that the page held back, carries the refusal, once
    sent = _session_job(manager_client, REFUSED_ROW.replace(b"QA004", b"QA006"),
                    {"qa003.jpg": jpeg_bytes(seed=3), "qa004.jpg": jpeg_bytes(seed=6)})
    assert [(n, lv) for n, lv, _r in _issues(sent)] == [("qa003.jpg", ImportIssue.Level.ERROR)]
    held = _session_job(manager_client, REFUSED_ROW.replace(b"QA004", b"QA007"),
                    {"qa004.jpg": jpeg_bytes(seed=7)}, held=["qa003.jpg"])
    assert [n for n, _lv, _r in _issues(held)] == ["qa003.jpg"]


def test_it_previews_a_refused_row_whose_file_is_missing_in_the_zips_words(manager_client,
                                                                          storage):
    manifest = parse_manifest(REFUSED_ROW)
    notes = import_mapping.manifest_preview_notes(manifest=manifest, names=["qa004.jpg"],
                                                  session=False)
    job = _zip_job(manager_client, {"manifest.csv": REFUSED_ROW,
                                    "qa004.jpg": jpeg_bytes(seed=4)})
    assert notes == [(name, reason, level) for name, level, reason in _issues(job)]


def test_it_previews_every_row_with_a_missing_file_for_a_session():
    manifest = parse_manifest(REFUSED_ROW)
    notes = import_mapping.manifest_preview_notes
    # qa003.jpg is there: the preview lists it as not mapped, with the refusal
    assert notes(manifest=manifest, names=["qa003.jpg", "qa004.jpg"], session=True) == []
    (refused, missing) = notes(manifest=manifest, names=[], session=True)
    assert (refused[0], refused[2]) == ("manifest.csv", ImportIssue.Level.ERROR)
    assert refused[1].startswith(
        f"Manifest line 2 names qa003.jpg, which is not among the uploaded files. {REFUSAL}")
    # a fine row whose file is not chosen: a warning (QA30 M5: it was said nowhere)
    assert missing == ("manifest.csv", "Manifest line 3 names qa004.jpg, which is not among "
                       "the uploaded files.", ImportIssue.Level.WARNING)


# QA30 M5's manifest: line 5 names a file that never arrives
SHOOT = (b"sku,title,filename,position\nQA30-CSV1,Mug,IMG_1001.jpg,MAIN\n"
         b"QA30-CSV1,Mug,IMG_1002.jpg,PT01\nQA30-CSV2,Boot,IMG_1003.jpg,MAIN\n"
         b"QA30-CSV2,,IMG_9999.jpg,PT01\n")


def test_it_reports_a_row_whose_file_never_came_at_a_sessions_end(manager_client, storage):
    def shot(seed: int) -> dict[str, bytes]:  # other bytes per session: no "identical" notes
        return {f"IMG_100{i}.jpg": jpeg_bytes(seed=seed + i) for i in (1, 2, 3)}

    job = _session_job(manager_client, SHOOT, shot(0))
    assert job.imported_count == 3
    # was: nothing in the report, the page or the counts
    assert _issues(job) == [("shoot.csv", ImportIssue.Level.WARNING, "Manifest line 5 names "
                             "IMG_9999.jpg, which is not among the uploaded files.")]
    assert job.warning_count == 1 and job.error_count == 0
    assert "IMG_9999.jpg" in import_job_report_csv(job=job)
    # sent, or held back by the page (its own reason then): not "never came"
    whole = _session_job(manager_client, SHOOT.replace(b"QA30-", b"QB30-"),
                         {**shot(10), "IMG_9999.jpg": jpeg_bytes(seed=9)})
    assert _issues(whole) == []
    held = _session_job(manager_client, SHOOT.replace(b"QA30-", b"QC30-"), shot(20),
                        held=["IMG_9999.jpg"])
    assert [name for name, _lv, _r in _issues(held)] == ["IMG_9999.jpg"]


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
                             "imported: GTIN: ")
    # the preview said so, word for word (it said nothing before)
    assert notes == [(name, reason, level)]


def test_it_updates_an_existing_product_whose_sku_predates_the_sku_rule(manager_client,
                                                                       storage):
    # a manifest never changes a SKU, so it is not validated (products.product_update):
    # the import refused "sku: SKU must be …" for every field of such a product
    Product.objects.bulk_create([Product(sku="OLD SKU")])  # made before the rule
    data = b"sku,title\nOLD SKU,New title\n"
    # nor is it refused up front (the rule is for new products: manifest_parse)
    assert import_mapping.manifest_preview_notes(manifest=import_mapping.manifest_parse(data),
                                                 names=[], session=False) == []
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


# --- a season's ZIP: more names than Django's 1,000 form fields --------------------------------


def test_it_previews_more_names_than_the_form_field_cap_sent_as_one_json_field(
        manager_client, storage):
    import json

    names = [f"SEASON-{i:04d}_MAIN.jpg" for i in range(1500)]
    response = manager_client.post(reverse("catalog:import_preview"), {
        "names_json": json.dumps(names), "empty_json": json.dumps(["SEASON-0007_MAIN.jpg"]),
        "create_products": "on", "source": "zip"})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "1499 of 1500 files → 1499 products" in page and "1 empty (0 bytes)" in page
    # the same names as repeated fields hit Django's cap (the reason for the one field)
    response = manager_client.post(reverse("catalog:import_preview"),
                                   {"names": names, "create_products": "on"})
    assert response.status_code == 400


@pytest.mark.parametrize("raw", ["not json", '{"a": 1}', '["ok.jpg", 3]', "[" * 100_000])
def test_it_refuses_a_malformed_name_list_with_a_message(manager_client, raw):
    response = manager_client.post(reverse("catalog:import_preview"), {"names_json": raw})
    assert response.status_code == 400
    assert "file names came malformed" in response.content.decode()


# --- a manifest's product given another product's GTIN (QA 2026-12-06 B3) ----------------------


def test_it_warns_in_the_preview_and_the_report_when_a_manifest_creates_a_products_gtin_twin(
        manager_client, storage):
    first = ProductFactory(sku="QA001", gtin=GOOD_GTIN)
    data = f"sku,gtin,filename\nQA002,{GOOD_GTIN},qa002.jpg\nQA003,,qa003.jpg\n".encode()
    notes = import_mapping.manifest_preview_notes(manifest=parse_manifest(data),
                                                  names=["qa002.jpg", "qa003.jpg"],
                                                  session=False)
    job = _zip_job(manager_client, {"manifest.csv": data, "qa002.jpg": jpeg_bytes(seed=1),
                                    "qa003.jpg": jpeg_bytes(seed=2)}, create_products="on")
    made = Product.objects.get(sku="QA002")
    assert job.imported_count == 2
    # the words New product and the API say, against the manifest's line
    words = f"Line 2: {selectors.product_gtin_warning(product=made)}"
    assert f"product QA001 (#{first.pk})" in words
    assert _issues(job) == [("manifest.csv", ImportIssue.Level.WARNING, words)]
    assert job.warning_count == 1
    assert notes == [("manifest.csv", words, ImportIssue.Level.WARNING)]
    assert words in import_job_report_csv(job=job)
    page = html.unescape(manager_client.get(reverse("catalog:import_detail",
                                                    args=[job.pk])).content.decode())
    assert words in page


def test_it_warns_when_a_manifest_changes_a_products_gtin_to_anothers_but_not_when_kept(storage):
    ProductFactory(sku="QA001", gtin=GOOD_GTIN)
    ProductFactory(sku="QA002", gtin="")
    ProductFactory(sku="QA005", gtin=GOOD_GTIN, title="Old")  # shared before: not this row's
    data = (f"sku,gtin,title,filename\nqa002,{GOOD_GTIN},,a.jpg\n"
            f"QA005,{GOOD_GTIN},New,b.jpg\n").encode()
    notes = import_mapping.manifest_preview_notes(manifest=parse_manifest(data),
                                                  names=["a.jpg", "b.jpg"], session=False)
    job = zip_job({"manifest.csv": data, "a.jpg": jpeg_bytes(seed=1),
                   "b.jpg": jpeg_bytes(seed=2)})
    job = import_job_run(job_id=job.pk)
    assert job.products_updated == 2
    ((name, level, reason),) = _issues(job)
    assert reason.startswith(f"Line 2: GTIN {GOOD_GTIN} is also on product QA001 (#")
    assert "QA005" in reason
    assert notes == [(name, reason, level)]


def test_it_warns_of_two_new_rows_sharing_a_gtin_in_the_preview_and_the_import(storage,
                                                                               monkeypatch):
    data = f"sku,gtin,filename\nNEW-1,{GOOD_GTIN},a.jpg\nNEW-2,{GOOD_GTIN},b.jpg\n".encode()
    notes = import_mapping.manifest_preview_notes(manifest=parse_manifest(data),
                                                  names=["a.jpg", "b.jpg"], session=False)
    assert [reason[:45] for _n, reason, _l in notes] == [
        f"Line 2: GTIN {GOOD_GTIN} is also on product NEW-2 (new)"[:45],
        f"Line 3: GTIN {GOOD_GTIN} is also on product NEW-1 (new)"[:45]]

    def raced(self, skus, manifest):  # the one-by-one path warns too
        raise IntegrityError("raced")

    monkeypatch.setattr(import_mapping.ImportRun, "_apply_chunk", raced)
    job = import_job_run(job_id=zip_job(
        {"manifest.csv": data, "a.jpg": jpeg_bytes(seed=1), "b.jpg": jpeg_bytes(seed=2)},
        create_products=True).pk)
    assert job.products_created == 2
    second = Product.objects.get(sku="NEW-2")
    assert [reason for _n, _l, reason in _issues(job)] == [
        f"Line 2: {selectors.product_gtin_warning(product=Product.objects.get(sku='NEW-1'))}",
        f"Line 3: {selectors.product_gtin_warning(product=second)}"]


# --- QA40 M2: a repeated SKU's bad GTIN is named on the line that gives it ---------------------

# the SKU's three rows: its title on line 2, its (bad) GTIN on line 4 only
BAG_MANIFEST = (b"sku,title,gtin,filename\nQA40-BAG,Test bag,,bag_1.jpg\n"
                b"QA40-BAG,,,bag_2.jpg\nQA40-BAG,,1234567890123,bag_3.jpg\n"
                b"QA40-OK,Fine,,ok.jpg\n")
BAG_CHECK = "EAN-13 1234567890123 has a wrong check digit (expected 8)."


def test_it_names_the_line_of_a_repeated_skus_bad_gtin_on_each_refused_file(manager_client,
                                                                           storage):
    job = _zip_job(manager_client, {
        "shoot/manifest.csv": BAG_MANIFEST, "shoot/ok.jpg": jpeg_bytes(seed=1),
        **{f"shoot/bag_{n}.jpg": jpeg_bytes(seed=n + 1) for n in (1, 2, 3)}})
    assert job.imported_count == 1
    reasons = {name: reason for name, _level, reason in _issues(job)}
    made = "Cannot create product 'QA40-BAG'"
    # was "shoot/manifest.csv line 2: … gtin: …" for each, line 4 never named
    assert reasons == {
        "shoot/bag_1.jpg": f"shoot/manifest.csv line 2: {made}: its GTIN on line 4: {BAG_CHECK}",
        "shoot/bag_2.jpg": f"shoot/manifest.csv line 3: {made}: its GTIN on line 4: {BAG_CHECK}",
        "shoot/bag_3.jpg": f"shoot/manifest.csv line 4: {made}: GTIN: {BAG_CHECK}"}
    assert not Product.objects.filter(sku="QA40-BAG").exists()


def test_it_holds_the_zip_import_in_its_preview_for_a_bad_gtin_naming_its_line(manager_client):
    names = ["shoot/ok.jpg", "shoot/bag_1.jpg", "shoot/bag_2.jpg", "shoot/bag_3.jpg"]
    page = _preview(manager_client, names, source="zip", manifest_path="shoot/manifest.csv",
                    zip_manifest=SimpleUploadedFile("manifest.csv", BAG_MANIFEST, "text/csv"))
    # the manifest's own fault, on its line, as an error the ZIP preview holds Import ZIP for
    assert ("<li data-preview-manifest-note data-preview-blocks class=\"error\"><span "
            "class=\"name\">shoot/manifest.csv</span>: Line 2: product QA40-BAG not created; "
            f"its files are refused: its GTIN on line 4: {BAG_CHECK}") in page
    assert 'data-preview-errors="1"' in page
    assert f"its GTIN on line 4: {BAG_CHECK}" in page  # each file's refusal names it too


# --- QA41 L3: one name for a manifest field, in the preview and the import --------------------

def test_it_names_a_manifest_field_alike_on_its_own_line_and_on_another(manager_client):
    names = ["shoot/ok.jpg", "shoot/bag_1.jpg", "shoot/bag_2.jpg", "shoot/bag_3.jpg"]
    page = _preview(manager_client, names, source="zip", manifest_path="shoot/manifest.csv",
                    zip_manifest=SimpleUploadedFile("manifest.csv", BAG_MANIFEST, "text/csv"))
    # bag_3's own line gives the GTIN: "GTIN: …", as line 2's note says "its GTIN on line 4"
    # (was "gtin: …", the column key, beside "its GTIN …")
    assert f"Cannot create product 'QA40-BAG': GTIN: {BAG_CHECK}" in page
    assert f"its GTIN on line 4: {BAG_CHECK}" in page
    assert "gtin:" not in page


def test_it_words_a_field_one_way_in_every_csv_message():
    from catalog.ingest.manifest import field_errors_text, field_name

    assert [field_name(k) for k in ("gtin", "asin", "sku", "title")] == [
        "GTIN", "ASIN", "SKU", "title"]
    assert field_name("gtin", given_on=4, said_of=2) == "its GTIN on line 4"
    assert field_name("gtin", given_on=4, said_of=4) == "GTIN"
    assert field_errors_text({"gtin": ["Bad."], "asin": ["Worse."]}, lines={"asin": 3},
                             said_of=2) == "GTIN: Bad.; its ASIN on line 3: Worse."


# --- QA41 L4: a duplicate's manifest position is said, not lost --------------------------------

DUP_MANIFEST = (b"sku,filename,position\nDUP-1,front.jpg,MAIN\nDUP-1,side.jpg,PT01\n")


def test_it_names_the_manifest_line_and_position_a_duplicate_in_a_zip_is_not_placed_at(
        manager_client, storage):
    same = jpeg_bytes(seed=7)
    job = _zip_job(manager_client, {"manifest.csv": DUP_MANIFEST, "front.jpg": same,
                                    "side.jpg": same}, create_products=True)
    front = ImageAsset.live.get(product__sku="DUP-1")
    assert (front.position, job.imported_count, job.duplicate_count) == ("MAIN", 1, 1)
    issue = ImportIssue.objects.get(job=job, filename="side.jpg")
    # was only "Duplicate: … as MAIN (asset #N); not stored twice.": line 3 and PT01 unsaid
    assert issue.reason == (
        f"Duplicate: the same file is already stored for DUP-1 as MAIN (asset #{front.pk}); "
        "not stored twice. manifest.csv line 3 places it at PT01: not placed there, as asset "
        f"#{front.pk} is this photo and an image holds one position; PT01 stays as it was. "
        "Give line 3 another photo for PT01.")


def test_it_names_the_line_of_a_duplicate_of_an_image_stored_before(manager_client, storage):
    same = jpeg_bytes(seed=8)
    product = ProductFactory(sku="DUP-2")
    stored = asset_ingest(product=product, fileobj=io.BytesIO(same), filename="old.jpg").asset
    job = _zip_job(manager_client, {"manifest.csv": b"sku,filename,position\nDUP-2,new.jpg,PT01\n",
                                    "new.jpg": same})
    (reason,) = [r for n, _l, r in _issues(job) if n == "new.jpg"]
    assert reason.endswith(f"manifest.csv line 2 places it at PT01: not placed there, as asset "
                           f"#{stored.pk} is this photo and an image holds one position; PT01 "
                           "stays as it was. Give line 2 another photo for PT01.")


def test_it_keeps_a_duplicates_manifest_words_when_its_copy_moves():
    from catalog.services.imports import _duplicate_reason_at

    lead = ImportIssue.Lead.ARRIVED
    tail = " manifest.csv line 3 places it at PT01: not placed there, …"
    issue = ImportIssue(sku="DUP-1", position="PT02", asset_pk=5, lead=lead, reason=(
        import_mapping.duplicate_row_words(lead=lead, sku="DUP-1", position="PT02", asset_pk=5)
        + tail))
    assert _duplicate_reason_at(issue, "MAIN") == import_mapping.duplicate_row_words(
        lead=lead, sku="DUP-1", position="MAIN", asset_pk=5) + tail


# --- QA41 L7: a text file named .jpg is said to be text ------------------------------------------


def test_it_says_a_text_file_named_jpg_in_a_zip_is_text_not_jpeg(manager_client, storage):
    ProductFactory(sku="ZT-2")
    job = _zip_job(manager_client, {"ZT-2_MAIN.jpg": jpeg_bytes(seed=3),
                                    "ZT-2_PT01.jpg": b"shot list: front, side\n",
                                    "NOSKU_X.png": b"notes\r\n"})
    reasons = {name: reason for name, _level, reason in _issues(job)}
    # was "Not an image, or a corrupt one: no JPEG, PNG, WebP, TIFF, HEIC/HEIF or AVIF header
    # found." (the words of any unreadable file); a file whose name maps to no product too
    said = "Not an image, or a corrupt one: the file's content is text, not "
    assert (reasons["ZT-2_PT01.jpg"], reasons["NOSKU_X.png"]) == (f"{said}JPEG.", f"{said}PNG.")

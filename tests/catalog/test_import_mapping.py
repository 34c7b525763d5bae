"""QA 2026-12-02 on imports: a mistyped position that creates a product warns (preview and
import, bounded cost), the report CSV lists every stored file, the summary's singular, and
a name no rule reads because of a character a SKU cannot have says so."""

import csv
import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog import selectors
from catalog.ingest.naming import FilenameRules
from catalog.models import ImageAsset, ImportJob, Product
from catalog.services.assets import asset_ingest
from catalog.services.import_mapping import ImportRun, import_summary
from catalog.services.import_runner import import_job_run
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
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
    assert re.search(r"QA035_MAIN_é\.jpg</span>: ([^<]*)</li>", page)[1] == why
    job = _zip_job(manager_client, {"QA035_MAIN_é.jpg": jpeg_bytes(seed=20)})
    assert dict(job.issues.values_list("filename", "reason")) == {"QA035_MAIN_é.jpg": why}

"""Ingest QA (2026-12-03, h): the same photo stored for two SKUs is said on the import's row;
a corrupt file is called corrupt, in one wording, even where its name matches no product;
the bulk edit's unknown SKUs say how to create products; ``products_created`` counts the
products that received a file; the upload preview says what it compares."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import ImageAsset, ImportIssue
from catalog.services.assets import asset_ingest
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.factories import ProductFactory, stored_image

pytestmark = pytest.mark.django_db


def _zip_import(members: dict[str, bytes], *, create: bool = True, manifest=None):
    upload = ContentFile(zip_bytes(members), name="shoot.zip")
    job = import_job_create(user=None, source_kind="zip", source_file=upload,
                            create_products=create, manifest_file=manifest, enqueue=False)
    return import_job_run(job_id=job.pk)


# --- 1. the same photo on two SKUs ------------------------------------------------------------


def test_it_warns_when_an_imported_file_is_identical_to_another_products_image(
        manager_client, storage):
    photo = jpeg_bytes(seed=11)
    first = _zip_import({"CR-001/CR-001_MAIN.jpg": photo})
    kept = ImageAsset.live.get(product__sku="CR-001")
    job = _zip_import({"CR-008_PT01.jpg": photo, "CR-009_MAIN.jpg": jpeg_bytes(seed=12)})
    assert first.imported_count == 1 and job.imported_count == 2  # stored: may be deliberate
    assert ImageAsset.live.filter(sha256=kept.sha256).count() == 2
    warnings = list(job.issues.filter(level=ImportIssue.Level.WARNING)
                    .values_list("filename", "reason"))
    note = f"Identical to CR-001 {kept.position} (#{kept.pk})"
    assert [name for name, reason in warnings if note in reason] == ["CR-008_PT01.jpg"]
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk])).content.decode()
    assert note in page
    report = manager_client.get(reverse("catalog:import_report", args=[job.pk]))
    assert note in b"".join(report.streaming_content if report.streaming else
                            [report.content]).decode()


def test_it_warns_on_a_product_page_upload_of_another_products_photo(storage):
    photo = jpeg_bytes(seed=13)
    one, two = ProductFactory(sku="CR-101"), ProductFactory(sku="CR-102")
    first = asset_ingest(product=one, fileobj=io.BytesIO(photo), filename="a.jpg")
    again = asset_ingest(product=two, fileobj=io.BytesIO(photo), filename="b.jpg")
    assert first.status == again.status == "stored"
    assert not any("Identical to" in w for w in first.warnings)
    assert [w for w in again.warnings if w.startswith("Identical to")] == [
        f"Identical to CR-101 {first.asset.position} (#{first.asset.pk}): the same file is "
        "already stored for another product. Stored for CR-102 too; check the photo belongs "
        "to both."]
    # the same product's copy stays a duplicate, as before
    same = asset_ingest(product=two, fileobj=io.BytesIO(photo), filename="c.jpg")
    assert same.status == "duplicate"


# --- 2. a corrupt file is called corrupt, in one wording --------------------------------------


def _broken() -> bytes:
    whole = jpeg_bytes(seed=21)
    return whole[:400]  # a JPEG cut inside its header: "Truncated File Read"


def test_it_calls_a_corrupt_file_outside_a_sku_folder_corrupt_not_an_unknown_sku(storage):
    job = _zip_import({"shoot/broken.jpg": _broken(), "CR-001/CR-001_MAIN.jpg": _broken()},
                      create=False)
    reasons = dict(job.issues.values_list("filename", "reason"))
    loose, foldered = reasons["shoot/broken.jpg"], reasons["CR-001/CR-001_MAIN.jpg"]
    assert "Unknown SKU" not in loose and "create products" not in loose
    assert loose.startswith("Not an image, or a corrupt one: ")
    assert loose == foldered  # one wording for the same bytes, whatever the name maps to


def test_it_still_gives_the_unknown_sku_reason_for_a_readable_image(storage):
    job = _zip_import({"shoot/nosuch.jpg": jpeg_bytes(seed=22)}, create=False)
    assert "Unknown SKU" in job.issues.get(filename="shoot/nosuch.jpg").reason


def test_it_words_every_unreadable_image_alike(storage):
    product = ProductFactory(sku="CR-201")
    reasons = [asset_ingest(product=product, fileobj=io.BytesIO(data), filename=name).reason
               for name, data in [("a.jpg", _broken()), ("b.jpg", b"plain text, no pixels" * 9),
                                  ("c.jpg", jpeg_bytes(seed=23)[:-3000]), ("d.jpg", b"")]]
    assert all(r.startswith("Not an image, or a corrupt one: ") for r in reasons), reasons


# --- 3. the bulk edit's unknown SKUs say how to create products --------------------------------


def test_it_tells_how_to_create_the_products_a_bulk_edit_does_not_know(manager_client):
    ProductFactory(sku="A-1", brand="Old")
    rows = b"sku,brand\nA-1,Acme\n" + b"".join(b"NEW-%d,Acme\n" % i for i in range(8))
    response = manager_client.post(reverse("catalog:product_bulk_edit"), {
        "file": SimpleUploadedFile("edit.csv", rows, "text/csv"), "encoding": "utf-8"})
    page = response.content.decode()
    assert "8 unknown SKU" in page
    assert "8 lines name no product" in page
    assert f'href="{reverse("catalog:bulk_upload")}"' in page
    assert f'href="{reverse("catalog:product_create")}"' in page
    unknown = [line.message for line in response.context["report"].lines
               if line.outcome == "unknown SKU"]
    assert len(unknown) == 8 and all("Create products for unknown SKUs" in m for m in unknown)


def test_it_gives_no_creation_note_when_every_sku_is_known(manager_client):
    ProductFactory(sku="A-1", brand="Old")
    response = manager_client.post(reverse("catalog:product_bulk_edit"), {
        "file": SimpleUploadedFile("edit.csv", b"sku,brand\nA-1,Acme\n", "text/csv"),
        "encoding": "utf-8"})
    assert "data-unknown-help" not in response.content.decode()


# --- 5. the preview's note on contents says what the page does ---------------------------------


def test_it_does_not_say_contents_are_not_compared_when_the_page_compares_them(
        manager_client, storage):
    product = ProductFactory(sku="CL9")
    stored_image(product, "old.jpg", "MAIN", seed=31)
    response = manager_client.post(reverse("catalog:import_preview"),
                                   {"names": ["CL9_MAIN.jpg"]})
    page = response.content.decode()
    # the page hashes a file of the holder's size (its holders list gives sha256 and bytes)
    assert "data-preview-holders" in page
    assert "not compared before the upload" not in page
    assert "compares it only with a stored image of its size" in page

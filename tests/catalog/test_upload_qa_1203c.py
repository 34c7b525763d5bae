"""QA 2026-12-03 (c) on the upload page: the preview shows what the import will say about the
manifest's own rows, a one-product upload finds its SKU ignoring case and says so before
anything is sent, and a taken position names the other file by its path."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from catalog.ingest.images import IMAGE_EXTENSIONS
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

GOOD_GTIN = "4006381333931"
BAD_GTIN = "12345"



# --- 0. the manifest's notes in the preview ----------------------------------------------------


@pytest.mark.parametrize("source", ["session", "zip"])
def test_it_lists_the_manifest_notes_in_the_upload_preview(manager_client, source):
    ProductFactory(sku="OLD-1", gtin=GOOD_GTIN, title="Kept")
    manifest = (f"sku,title,gtin,filename\nQA003,New,{BAD_GTIN},qa003.jpg\n"
                f"OLD-1,New title,{BAD_GTIN},old.jpg\nQA004,Four,,qa004.jpg\n").encode()
    page = manager_client.post(reverse("catalog:import_preview"), {
        "names": ["old.jpg", "qa004.jpg"], "source": source, "create_products": "on",
        "manifest": SimpleUploadedFile("shoot.csv", manifest, "text/csv")})
    assert page.status_code == 200
    notes = re.findall(r'<li data-preview-manifest-note class="(\w+)">(.*?)</li>',
                       page.content.decode(), re.S)
    assert len(notes) == 2, page.content.decode()
    (error_level, error), (warn_level, warning) = notes
    assert error_level == "error" and "which is not" in error and "qa003.jpg" in error
    assert warn_level == "warn" and "left as it was" in warning and "OLD-1" in warning.upper()
    assert "2 manifest notes" in page.content.decode()


# --- 1. "send every file to one product": ignoring case, checked in the preview ----------------


JSON = {"HTTP_ACCEPT": "application/json"}


def test_it_sends_every_file_to_a_product_typed_in_another_case(manager_client):
    product = ProductFactory(sku="QA001")
    answer = manager_client.post(reverse("catalog:bulk_upload"), {"product": "qa001"}, **JSON)
    assert answer.status_code == 200, answer.content
    assert answer.json()["product"] == "QA001"
    assert answer.json()["upload_url"] == reverse("catalog:product_upload", args=[product.pk])


def test_it_refuses_a_deleted_or_ambiguous_product_sku_by_name(manager_client):
    ProductFactory(sku="GONE-1", deleted_at=timezone.now())
    gone = manager_client.post(reverse("catalog:bulk_upload"), {"product": "gone-1"}, **JSON)
    assert gone.status_code == 400 and gone.json()["error"] == "Product GONE-1 is deleted."
    missing = manager_client.post(reverse("catalog:bulk_upload"), {"product": "qa009"}, **JSON)
    assert missing.json()["error"] == "No product with SKU qa009."


def test_it_previews_the_one_product_sku_before_the_upload(manager_client):
    ProductFactory(sku="QA001", title="Blue vase")
    names = ["a.jpg", "b.jpg"]
    found = manager_client.post(reverse("catalog:import_preview"),
                                {"names": names, "product": "qa001", "source": "session"})
    page = found.content.decode()
    assert 'data-preview-product="QA001"' in page and "Blue vase" in page
    assert 'class="error"' not in page
    unknown = manager_client.post(reverse("catalog:import_preview"),
                                  {"names": names, "product": "qa009", "source": "session"})
    # the error upload.js disables Upload on (the preview's "> .error")
    assert re.search(r'data-import-preview-result>\s*<p class="error"[^>]*>No product with '
                     r"SKU qa009\.</p>", unknown.content.decode())


# --- 2. a clash within a folder upload names the other file by its path -----------------------


def test_it_names_the_other_file_of_a_folder_upload_by_its_path(manager_client):
    ProductFactory(sku="DUP-2")
    names = ["shoot-a/DUP-2_MAIN.jpg", "shoot-b/DUP-2_MAIN.jpg"]
    page = manager_client.post(reverse("catalog:import_preview"), {
        "names": names, "patterns": "{sku}_{position}.jpg", "source": "session"})
    refused = re.findall(r'<li data-preview-unmapped><span class="name">([^<]*)</span>: '
                         r"([^<]*)</li>", page.content.decode())
    assert [name for name, _why in refused] == ["shoot-b/DUP-2_MAIN.jpg"]
    assert "already taken by shoot-a/DUP-2_MAIN.jpg (from this import" in refused[0][1]


# --- 5. the file picker offers every format the server reads ----------------------------------


@pytest.mark.parametrize("where", ["upload", "product"])
def test_it_lets_the_file_picker_choose_every_supported_format(manager_client, where):
    url = (reverse("catalog:bulk_upload") if where == "upload" else
           reverse("catalog:product_detail", args=[ProductFactory().pk]))
    text = manager_client.get(url).content.decode()
    accept = re.search(r'<input type="file" multiple accept="([^"]*)" data-pick', text).group(1)
    offered = set(accept.split(","))
    assert "image/*" in offered and ".avif" in offered
    assert offered >= IMAGE_EXTENSIONS

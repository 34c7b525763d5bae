"""The upload preview and image sizes: the sizes the page read from the files' headers meet
the ingest's own size rule (``images.size_refusal``), so a file the import will refuse as too
small or over the pixel limit is listed as refused and counted out of "→ N products"."""

import html
import io
import json
import re

import pytest
from django.urls import reverse

from catalog.ingest import images
from catalog.models import ImportIssue
from catalog.services.assets import asset_ingest
from catalog.services.imports import import_job_create, import_job_upload_file
from catalog.services.products import product_create
from tests.catalog.imagegen import jpeg_bytes, png_declaring

pytestmark = pytest.mark.django_db

SMALL_481 = "Too small: 481×321; the long side must be at least 500 px."


def _preview(client, sizes: dict, **fields) -> str:
    response = client.post(
        reverse("catalog:import_preview"),
        {
            "names_json": json.dumps(list(sizes)),
            "sizes_json": json.dumps(sizes),
            "create_products": "on",
            **fields,
        },
    )
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _sized(page: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'<li data-preview-sized-file><span class="name">([^<]*)</span>: '
            r"<span data-preview-reason>([^<]*)</span></li>",
            page,
        )
    )


def test_it_counts_files_the_import_refuses_for_their_size_out_of_the_products(
    manager_client, storage
):
    # QA30 M4: "84 of 84 files → 84 products (84 new)", then 11 refused as too small
    sizes = {
        "QA30-small.jpg": [481, 321],
        "QA30-ok.jpg": [1200, 900],
        "QA30-huge.jpg": [12000, 9000],
        "QA30-unread.tif": None,
    }
    page = _preview(manager_client, sizes)
    assert "2 of 4 files → 2 products</strong> (2 new)" in page  # ok, the unread TIFF
    assert "2 refused for size" in page
    refused = _sized(page)
    assert set(refused) == {"QA30-small.jpg", "QA30-huge.jpg"}
    assert refused["QA30-small.jpg"] == "Too small: 481×321; the long side must be at least 500 px."
    assert refused["QA30-huge.jpg"].startswith(
        "Too large: 12000×9000 px (108,000,000 pixels, 108 MP) is over the 80 MP limit"
    )
    # one policy: the import refuses the very files, in the very words
    job = import_job_create(user=None, source_kind="upload", expected_files=2, create_products=True)
    for name, data in (
        ("QA30-small.jpg", jpeg_bytes(size=(481, 321))),
        ("QA30-huge.jpg", png_declaring(12000, 9000)),
    ):
        result = import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(data), filename=name)
        assert result.reason == refused[name]


def test_it_follows_the_configured_limits(manager_client, settings):
    settings.CUTROOM_MIN_LONG_SIDE = 1500
    page = _preview(manager_client, {"QA30-ok.jpg": [1200, 900]})
    assert _sized(page) == {
        "QA30-ok.jpg": images.size_refusal(1200, 900, limits=images.Limits(min_long_side=1500))[0]
    }


def test_it_ignores_malformed_sizes(manager_client):
    page = _preview(manager_client, {"a.jpg": [1, "x"], "b.jpg": [True, 1], "c.jpg": [3]})
    assert "3 of 3 files" in page and not _sized(page)
    response = manager_client.post(
        reverse("catalog:import_preview"),
        {"names_json": json.dumps(["d.jpg"]), "sizes_json": "{not json", "create_products": "on"},
    )
    assert response.status_code == 200 and "1 of 1 file" in response.content.decode()


def test_it_refuses_a_too_small_copy_of_a_stored_image_for_its_size_in_preview_and_import(
    manager_client, storage, settings
):
    # QA 2026-12-05: a small photo stored while the limit was lower, dropped again once it
    # was raised, was "refused for size" in the preview and "Duplicate" in the report. One
    # order now: the file's header before the catalog, in the preview and in the import.
    small = jpeg_bytes(size=(481, 321))
    settings.CUTROOM_MIN_LONG_SIDE = 400
    product = product_create(sku="QA31-SMALL")
    stored = asset_ingest(product=product, fileobj=io.BytesIO(small), filename="old.jpg")
    assert stored.status == "stored"
    settings.CUTROOM_MIN_LONG_SIDE = 500
    names = {"QA31-SMALL_PT01.jpg": [481, 321], "QA31-NOSUCH_MAIN.jpg": [481, 321]}
    page = _preview(manager_client, names, create_products="")
    refused = _sized(page)
    assert refused == dict.fromkeys(names, SMALL_481)
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    for name in names:  # one a copy of a stored image, one whose name maps to no product
        result = import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(small), filename=name)
        assert (result.status, result.reason, result.code) == ("rejected", SMALL_481, "too_small")
    job.refresh_from_db()
    assert job.duplicate_count == 0
    issues = dict(ImportIssue.objects.filter(job=job).values_list("filename", "reason"))
    assert issues == dict.fromkeys(names, SMALL_481)
    # the copy that passes the size rule is still a duplicate, as before
    settings.CUTROOM_MIN_LONG_SIDE = 400
    again = asset_ingest(product=product, fileobj=io.BytesIO(small), filename="again.jpg")
    assert (again.status, again.asset) == ("duplicate", stored.asset)


def _counts(page: str) -> dict[str, int]:
    """The counts upload.js holds Import ZIP by (``refusesEvery``), from the preview's root."""
    root = re.search(r"<div class=\"import-preview\" data-import-preview-result([^>]*)>", page)
    return {k: int(v) for k, v in re.findall(r'data-preview-([a-z-]+)="(\d+)"', root[1])}


def test_it_gives_the_page_the_counts_import_zip_is_held_by(manager_client, storage):
    """Every entry refused (size, 0 bytes): none mapped, both refused whatever their names;
    one file that may be stored beside them is mapped (upload.js then lets Import go)."""
    refused = {"ZR-small.jpg": [481, 321], "ZR-empty.jpg": [1200, 900]}
    page = _preview(manager_client, refused, empty_json=json.dumps(["ZR-empty.jpg"]),
                    source="zip")
    assert _counts(page) == {"mapped": 0, "taken": 0, "refused-ahead": 2,
                             "manifest-creates": 0}
    page = _preview(manager_client, {**refused, "ZR-ok.jpg": [1200, 900]},
                    empty_json=json.dumps(["ZR-empty.jpg"]), source="zip")
    assert _counts(page) == {"mapped": 1, "taken": 0, "refused-ahead": 2,
                             "manifest-creates": 0}
    # a refused preview (a bad pattern) has no counts: its error holds the button
    page = _preview(manager_client, {"ZR-ok.jpg": [1200, 900]}, patterns="{code}_{n}.jpg")
    assert "data-preview-mapped" not in page

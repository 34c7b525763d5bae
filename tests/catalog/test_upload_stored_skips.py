"""A browser session's finish and the files the upload page did not send because its
preview found them already stored (``stored_json``): the server checks each again (the
import's duplicate test) and its report names every one, a duplicate or an error."""

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import ImportIssue
from catalog.services.assets import STORED_SKIPPED_PREFIX
from catalog.services.imports import STORED_GONE_REASON
from tests.catalog.imagegen import jpeg_bytes
from tests.factories import ProductFactory, stored_image

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def _session(client, expected: int = 1) -> dict:
    return client.post(
        reverse("catalog:bulk_upload"),
        {"patterns": "{sku}_{position}.jpg", "expected": str(expected)},
        **JSON,
    ).json()


def test_it_reports_a_file_skipped_as_stored_as_a_duplicate_when_its_product_has_it(
    manager_client, storage
):
    product = ProductFactory(sku="SK1")
    old = stored_image(product, "old.jpg", "MAIN", seed=61)
    same = hashlib.sha256(storage.open(old.original_name).read()).hexdigest()
    other = hashlib.sha256(b"no image has these bytes").hexdigest()
    urls = _session(manager_client)
    assert (
        manager_client.post(
            urls["upload_url"],
            {"file": SimpleUploadedFile("SK1_PT02.jpg", jpeg_bytes(seed=62), "image/jpeg")},
            **JSON,
        ).status_code
        == 201
    )
    finish = manager_client.post(
        urls["finish_url"],
        {
            "stored_json": json.dumps(
                [
                    f"{same.upper()}:SK1_PT01.jpg",
                    f"{other}:SK1_PT03.jpg",  # the page's answer is stale: nothing there now
                    f"{same}:NOPE_MAIN.jpg",  # its name maps to no product: not a duplicate either
                    f"{same[:40]}:SK1_PT04.jpg",  # malformed: left out
                    7,  # not a string: left out
                ]
            )
        },
        **JSON,
    )
    assert finish.json()["message"] == "1 imported, 1 duplicate skipped, 2 refused."
    issues = {i.filename: i for i in ImportIssue.objects.filter(job_id=urls["job"])}
    assert set(issues) == {"SK1_PT01.jpg", "SK1_PT03.jpg", "NOPE_MAIN.jpg"}
    dup = issues["SK1_PT01.jpg"]
    assert (dup.level, dup.kind, dup.lead, dup.sku, dup.position, dup.asset_pk) == (
        "warning",
        "duplicate",
        "not-sent",
        "SK1",
        "MAIN",
        old.pk,
    )
    assert dup.reason == (
        f"{STORED_SKIPPED_PREFIX}Duplicate: the same file is already stored "
        f"for SK1 as MAIN (asset #{old.pk}); not stored twice."
    )
    # never silently lost: a file the server cannot confirm is an error asking for it again
    assert [(issues[n].level, issues[n].reason) for n in ("SK1_PT03.jpg", "NOPE_MAIN.jpg")] == [
        ("error", STORED_GONE_REASON)
    ] * 2


def test_it_counts_the_stored_skips_the_page_did_not_name(manager_client, storage):
    product = ProductFactory(sku="SK2")
    old = stored_image(product, "old.jpg", "MAIN", seed=63)
    same = hashlib.sha256(storage.open(old.original_name).read()).hexdigest()
    urls = _session(manager_client, expected=0)
    finish = manager_client.post(
        urls["finish_url"],
        {"stored_json": json.dumps([f"{same}:SK2_PT01.jpg"]), "stored_more": "1234"},
        **JSON,
    )
    assert finish.status_code == 200
    more = ImportIssue.objects.get(job_id=urls["job"], filename="…")
    assert (more.level, more.reason) == (
        "warning",
        "… and 1,234 more files the upload page found already stored were not "
        "sent and are not listed here (not checked again).",
    )


# nested past Python's recursion limit: json raises RecursionError, not ValueError (was a 500)
@pytest.mark.parametrize("raw", ["not json", '{"a": 1}', "[]", "[" * 100_000])
def test_it_ignores_a_malformed_stored_list(manager_client, raw):
    urls = _session(manager_client, expected=0)
    finish = manager_client.post(urls["finish_url"], {"stored_json": raw}, **JSON)
    assert finish.status_code == 200
    assert not ImportIssue.objects.filter(job_id=urls["job"]).exists()

"""The upload preview and explicit positions: a file naming a position another image holds
(or an earlier file of the same upload names) is shown as refused, in the import's words,
before anything is sent; every file the preview refuses is listed; a browser session's
finish reports the files the page held back."""

import html
import io
import re
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from catalog.models import ImageAsset, ImportIssue
from catalog.services.assets import asset_soft_delete, position_taken_text
from catalog.services.import_mapping import UNSEEN_CONTENT_NOTE
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create, import_job_finish, import_job_upload_file
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.factories import ProductFactory, stored_image

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
OLD_DAY = timezone.make_aware(datetime(2026, 11, 20, 10, 0))



def _old(product, name: str, position: str, seed: int):
    """An image of an earlier season, stored for real at ``position``."""
    return stored_image(product, name, position, seed=seed, uploaded_at=OLD_DAY)


def _preview(client, names, **fields) -> str:
    response = client.post(reverse("catalog:import_preview"), {"names": names, **fields})
    assert response.status_code == 200
    return response.content.decode()


def _listed(page: str) -> dict[str, str]:
    """Every file the preview says will not be imported (what upload.js holds back)."""
    found = re.findall(r'<li data-preview-unmapped><span class="name">([^<]*)</span>: '
                       r"<span data-preview-reason>([^<]*)</span></li>", page)
    return {html.unescape(k): html.unescape(v) for k, v in found}


def _zip_reasons(client, members: dict, **fields) -> dict[str, str]:
    response = client.post(reverse("catalog:import_list"), {
        "archive": SimpleUploadedFile("shoot.zip", zip_bytes(members), "application/zip"),
        **fields})
    job = import_job_run(job_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    return dict(job.issues.filter(level="error").values_list("filename", "reason"))


def test_it_previews_a_taken_position_as_refused_in_the_imports_words(manager_client, storage):
    product = ProductFactory(sku="CL1")
    old = _old(product, "old.jpg", "MAIN", seed=1)
    _old(product, "gone.jpg", "PT02", seed=3)
    asset_soft_delete(asset=ImageAsset.objects.get(original_filename="gone.jpg"))
    members = {"CL1_MAIN.jpg": jpeg_bytes(seed=11), "CL1_PT01.jpg": jpeg_bytes(seed=12),
               "CL1_PT02.jpg": jpeg_bytes(seed=13), "CL1/IMG_0001.jpg": jpeg_bytes(seed=14)}
    page = _preview(manager_client, list(members))
    taken = (f"Position MAIN of CL1 is already taken by old.jpg (asset #{old.pk}, uploaded "
             "2026-11-20); not stored. Delete that image first, or give this file another "
             "position.")
    # a free position, a deleted image's and no position at all are not refused; the
    # preview cannot see contents, so it says a copy of old.jpg would be a duplicate instead
    assert _listed(page) == {"CL1_MAIN.jpg": taken + UNSEEN_CONTENT_NOTE}
    assert "4 of 4 files → 1 product" in page
    assert ("<span data-count>1</span> position taken: refused, or skipped as a duplicate if "
            "identical" in page)
    # one policy: the import refuses that file, and only it, with the same words
    assert _zip_reasons(manager_client, members) == {"CL1_MAIN.jpg": taken}


def test_it_previews_two_files_of_one_upload_for_one_position_as_a_clash(manager_client,
                                                                          storage):
    ProductFactory(sku="CL2")
    members = {"CL2_MAIN.jpg": jpeg_bytes(seed=21), "CL2-1.jpg": jpeg_bytes(seed=22),
               "CL2-2.jpg": jpeg_bytes(seed=23)}
    fields = {"patterns": "{sku}_{position}.jpg\n{sku}-{n}.jpg"}
    page = _preview(manager_client, list(members), **fields)
    # name order: CL2-1.jpg comes before CL2_MAIN.jpg ("-" < "_") and keeps MAIN
    assert _listed(page) == {"CL2_MAIN.jpg": (
        "Position MAIN of CL2 is already taken by CL2-1.jpg (from this import, before it in "
        "name order); not stored. Leave one of the two out, or give this file another "
        "position." + UNSEEN_CONTENT_NOTE)}
    [reason] = _zip_reasons(manager_client, members, **fields).values()
    assert reason.startswith("Position MAIN of CL2 is already taken by CL2-1.jpg (asset #")
    assert ImageAsset.live.get(product__sku="CL2", position="MAIN").original_filename == \
        "CL2-1.jpg"


def test_it_words_a_clash_within_one_upload_as_the_import_does(manager_client, storage):
    ProductFactory(sku="CL5")
    members = {"CL5-1.jpg": jpeg_bytes(seed=51), "CL5_MAIN.jpg": jpeg_bytes(seed=52)}
    fields = {"patterns": "{sku}_{position}.jpg\n{sku}-{n}.jpg"}
    previewed = _listed(_preview(manager_client, list(members), **fields))["CL5_MAIN.jpg"]
    refused = _zip_reasons(manager_client, members, **fields)["CL5_MAIN.jpg"]
    holder = ImageAsset.live.get(product__sku="CL5", position="MAIN")
    # one implementation: both are assets.position_taken_text, and differ only in what a
    # stored holder has (its asset id; deleting it is the advice once it is stored)
    assert previewed == position_taken_text(
        sku="CL5", position="MAIN", holder="CL5-1.jpg", asset_id=None,
        when="from this import, before it in name order") + UNSEEN_CONTENT_NOTE
    assert refused == position_taken_text(sku="CL5", position="MAIN", holder="CL5-1.jpg",
                                          asset_id=holder.pk, when="from this import")

    def gist(reason: str) -> str:
        return re.sub(r" \([^)]*\)", "", reason).split(". ", 1)[0]

    assert gist(previewed) == gist(refused) == (
        "Position MAIN of CL5 is already taken by CL5-1.jpg; not stored")
    assert previewed.split(". ", 1)[1].startswith("Leave one of the two out, or give this "
                                                  "file another position.")
    assert refused.endswith(". Delete that image first, or give this file another position.")


def test_it_previews_a_replacement_with_replace_ticked_and_still_the_clash(manager_client,
                                                                          storage):
    product = ProductFactory(sku="CL3")
    old = _old(product, "old.jpg", "MAIN", seed=31)
    names = ["CL3_MAIN.jpg", "CL3-1.jpg"]
    fields = {"patterns": "{sku}_{position}.jpg\n{sku}-{n}.jpg"}
    page = _preview(manager_client, names, **fields)
    assert set(_listed(page)) == {"CL3_MAIN.jpg", "CL3-1.jpg"}  # both: old.jpg holds MAIN
    assert all("already taken by old.jpg" in why for why in _listed(page).values())
    page = _preview(manager_client, names, replace="on", **fields)
    # the first in name order replaces old.jpg; the second still clashes with it
    assert set(_listed(page)) == {"CL3_MAIN.jpg"}
    assert "already taken by CL3-1.jpg (from this import" in _listed(page)["CL3_MAIN.jpg"]
    assert f"replaces old.jpg (asset #{old.pk})" in page
    assert ImageAsset.live.get(pk=old.pk)  # a preview changes nothing


def test_it_lists_every_file_it_refuses_beyond_the_first_fifty(manager_client):
    names = [f"NOPE-{n:03d}_MAIN.jpg" for n in range(120)]
    page = _preview(manager_client, names)
    listed = _listed(page)
    assert len(listed) == 120 and set(listed) == set(names)
    assert "<summary data-preview-unmapped-heading>120 not mapped</summary>" in page
    assert "Show all 120" in page
    shown = page.split("data-preview-more", 1)[0]
    assert shown.count("<li data-preview-unmapped>") == 50  # the rest behind "Show all"


def test_it_reports_the_files_the_page_held_back_with_the_servers_reasons(manager_client,
                                                                           storage):
    product = ProductFactory(sku="CL4")
    old = _old(product, "old.jpg", "PT01", seed=41)
    urls = manager_client.post(reverse("catalog:bulk_upload"),
                               {"patterns": "{sku}_{position}.jpg\n{sku}-{n}.jpg",
                                "expected": "1"}, **JSON).json()
    answer = manager_client.post(urls["upload_url"], {
        "file": SimpleUploadedFile("CL4-1.jpg", jpeg_bytes(seed=42), "image/jpeg")}, **JSON)
    assert answer.status_code == 201
    finish = manager_client.post(urls["finish_url"], {
        "held": ["CL4_MAIN.jpg", "CL4_PT01.jpg", "NOPE_MAIN.jpg", "CL4_PT02.jpg"]}, **JSON)
    assert finish.json()["message"] == "1 imported, 4 refused."
    mine = ImageAsset.live.get(product=product, position="MAIN")
    reasons = dict(ImportIssue.objects.filter(job_id=urls["job"]).values_list("filename",
                                                                          "reason"))
    assert reasons == {
        # never sent, so never compared with the holder either
        "CL4_MAIN.jpg": (f"Position MAIN of CL4 is already taken by CL4-1.jpg (asset "
                         f"#{mine.pk}, from this import); not stored. Delete that image "
                         "first, or give this file another position." + UNSEEN_CONTENT_NOTE),
        "CL4_PT01.jpg": (f"Position PT01 of CL4 is already taken by old.jpg (asset #{old.pk}, "
                         "uploaded 2026-11-20); not stored. Delete that image first, or give "
                         "this file another position." + UNSEEN_CONTENT_NOTE),
        "NOPE_MAIN.jpg": ("Unknown SKU NOPE: no such product. Add it to the manifest or "
                          "choose 'create products for unknown SKUs'."),
        # nothing refuses it now (the page's preview was older): said so, never guessed
        "CL4_PT02.jpg": ("Not sent: the upload page's preview said this file would be "
                         "refused; upload it again to import it."),
    }



def test_it_records_a_taken_position_file_found_stored_as_an_already_stored_skip(
        manager_client, storage):
    import hashlib
    import json

    product = ProductFactory(sku="CL5")
    old = _old(product, "old.jpg", "PT01", seed=51)
    same = hashlib.sha256(storage.open(old.original_name).read()).hexdigest()
    assert same == old.sha256
    # one check of "already stored" (since 2026-12-05): no holder hashes in the preview; the
    # page asks upload_known, and a file held for a taken position that is found there is
    # named in stored_json, as any other already-stored file
    page = _preview(manager_client, ["CL5_PT01.jpg"])
    assert "data-preview-holders" not in page and same not in page
    urls = manager_client.post(reverse("catalog:bulk_upload"),
                               {"patterns": "{sku}_{position}.jpg", "expected": "1"},
                               **JSON).json()
    assert manager_client.post(urls["upload_url"], {"file": SimpleUploadedFile(
        "CL5_PT02.jpg", jpeg_bytes(seed=52), "image/jpeg")}, **JSON).status_code == 201
    other = hashlib.sha256(b"not in the catalog").hexdigest()
    finish = manager_client.post(urls["finish_url"], {
        "held": ["CL5_PT03.jpg", "NOPE_MAIN.jpg"],
        # the old field is gone: a hash sent so is not read, the name's refusal stands
        "held_sha256": [f"{same}:CL5_PT03.jpg"],
        "stored_json": json.dumps([f"{same.upper()}:CL5_PT01.jpg",
                                   f"{other}:CL5_PT04.jpg"]),  # no image of CL5 has it
    }, **JSON)
    assert finish.json()["message"] == "1 imported, 1 duplicate skipped, 3 refused."
    issues = {i.filename: i for i in ImportIssue.objects.filter(job_id=urls["job"])}
    dup = issues["CL5_PT01.jpg"]
    assert (dup.level, dup.kind, dup.sku, dup.position, dup.asset_pk) == (
        "warning", "duplicate", "CL5", "PT01", old.pk)
    assert dup.reason == (f"Not sent: the upload page found it already stored. Duplicate: the "
                          f"same file is already stored for CL5 as PT01 (asset #{old.pk}); "
                          f"not stored twice.")
    assert {n: i.level for n, i in issues.items() if n != "CL5_PT01.jpg"} == {
        "CL5_PT03.jpg": "error", "NOPE_MAIN.jpg": "error", "CL5_PT04.jpg": "error"}


def _auto(page: str) -> dict[str, str]:
    """name -> the position the preview says a file without one will take: in words, and
    the same as data for upload_known.js (which reads no position out of the words)."""
    found = re.findall(r'<span class="name">([^<]*)</span> <span class="muted" '
                       r'data-preview-auto-position="([A-Z0-9]+)">→ ([A-Z0-9]+) '
                       r"\(next free\)</span>", page)
    assert all(data == said for _, data, said in found)
    return {html.unescape(k): data for k, data, _ in found}


def test_it_previews_the_position_a_file_without_one_will_take(manager_client, storage):
    # QA30 L3: a re-shoot without "Replace" went to PT01 and the preview did not say so
    product = ProductFactory(sku="AUTO-1")
    _old(product, "old.jpg", "MAIN", seed=41)
    _old(product, "side.jpg", "PT02", seed=42)
    names = ["AUTO-1.jpg", "AUTO-1_PT01.jpg", "AUTO-1/IMG_0002.jpg", "AUTO-1/front.jpg"]
    page = _preview(manager_client, names)
    # MAIN and PT02 held, PT01 named: the three others take PT03, PT04, PT05, a lead view first
    auto = _auto(page)
    assert auto == {"AUTO-1/front.jpg": "PT03", "AUTO-1/IMG_0002.jpg": "PT04",
                    "AUTO-1.jpg": "PT05"}
    # one policy: a session's finish puts them there, whatever order they arrive in
    job = import_job_create(user=None, source_kind="upload", expected_files=len(names))
    for seed, name in enumerate(reversed(names)):
        import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(jpeg_bytes(seed=50 + seed)),
                               filename=name)
    import_job_finish(job_id=job.pk)
    stored = dict(ImageAsset.live.filter(import_job=job).values_list("original_filename",
                                                                     "position"))
    assert stored == {"AUTO-1_PT01.jpg": "PT01", **{
        name.rsplit("/", 1)[-1]: position for name, position in auto.items()}}

"""The upload preview and a file whose first bytes are no image format's (the page reads them,
upload.js ``headIsText``): the preview words it as the import's report does, from one
implementation (``images.not_image_reason``): a text file named .jpg is "… text, not JPEG." in
both, a binary one has no image header in both (QA 2026-12-07: the preview said "no … header
found" of the file the report called "text, not JPEG")."""

import html
import io
import json
import re

import pytest
from django.urls import reverse

from catalog import selectors
from catalog.ingest import images
from catalog.ingest.naming import FilenameRules
from catalog.models import ImportIssue
from catalog.services.imports import import_job_create, import_job_upload_file
from catalog.services.products import product_create

pytestmark = pytest.mark.django_db

TEXT = b"this is not a photo\n"
BINARY = b"\x00\x01\x02 neither an image nor text"


def _no_header(client, names: list[str], headless: list[str], text: list[str]) -> dict:
    """name -> reason of the preview's "Not an image, refused by the import" list."""
    response = client.post(reverse("catalog:import_preview"), {
        "names_json": json.dumps(names), "no_header_json": json.dumps(headless),
        "text_heads_json": json.dumps(text), "create_products": "on"})
    assert response.status_code == 200
    return dict(re.findall(
        r'<li data-preview-no-header-file><span class="name">([^<]*)</span>: '
        r"<span data-preview-reason>([^<]*)</span></li>", html.unescape(response.content.decode())))


def test_it_words_a_file_that_is_no_image_in_the_preview_as_the_import_does(
    manager_client, storage
):
    product_create(sku="NH43")
    files = {"NH43_PT01.jpg": TEXT, "NH43_PT02.png": TEXT, "NH43_PT03.jpg": BINARY}
    said = _no_header(manager_client, [*files, "NH43_MAIN.jpg"], headless=list(files),
                      text=["NH43_PT01.jpg", "NH43_PT02.png"])
    assert said == {
        "NH43_PT01.jpg": images.text_content_reason("NH43_PT01.jpg"),  # … text, not JPEG.
        "NH43_PT02.png": images.text_content_reason("NH43_PT02.png"),  # … text, not PNG.
        "NH43_PT03.jpg": images.NO_HEADER_REASON,
    }
    assert said["NH43_PT01.jpg"].endswith("the file's content is text, not JPEG.")
    job = import_job_create(user=None, source_kind="upload", expected_files=len(files))
    for name, data in files.items():
        result = import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(data), filename=name)
        assert (result.status, result.code) == ("rejected", "not_image")
    reported = dict(ImportIssue.objects.filter(job=job).values_list("filename", "reason"))
    assert reported == said


def test_it_says_no_header_found_when_the_page_does_not_say_text(manager_client):
    # an older page (no text_heads_json): the words it used before, not a guess
    said = _no_header(manager_client, ["NH44_PT01.jpg"], headless=["NH44_PT01.jpg"], text=[])
    assert said == {"NH44_PT01.jpg": images.NO_HEADER_REASON}


def test_it_refuses_malformed_text_heads(manager_client):
    response = manager_client.post(reverse("catalog:import_preview"), {
        "names_json": json.dumps(["a.jpg"]), "text_heads_json": "{not a list"})
    assert response.status_code == 400


class _Scanned(list):
    """A list that counts the membership tests made on it (each one scans the list)."""

    tests = 0

    def __contains__(self, item):
        type(self).tests += 1
        return super().__contains__(item)


def test_it_looks_each_name_up_in_a_set_not_a_scan_of_the_lists_given(db):
    names = [f"NH45_PT{i:02d}.jpg" for i in range(1, 41)]
    preview = selectors.import_preview(
        names=names, rules=FilenameRules.from_options({}), create_products=True,
        empty=_Scanned(names[:1]), no_header=_Scanned(names[1:]),
        text_heads=_Scanned(names[1:2]))
    assert _Scanned.tests == 0
    assert [n for n, _ in preview.empty] == names[:1]
    assert dict(preview.no_header) == {
        names[1]: images.text_content_reason(names[1]),
        **dict.fromkeys(names[2:], images.NO_HEADER_REASON)}
    assert preview.mapped == 0


def test_it_refuses_a_zip_entry_that_is_no_image_as_that_whatever_its_name(manager_client):
    """A ZIP's import opens an entry before it refuses its name (ImportRun.ingest): one the
    page found no image is "not an image" in the preview too, not "Unknown SKU … the page
    could not read this file's image header" (2026-12-07 verify43 L1)."""
    response = manager_client.post(reverse("catalog:import_preview"), {
        "names_json": json.dumps(["VZ9_PT01.jpg", "VZ9_MAIN.jpg"]), "source": "zip",
        "no_header_json": json.dumps(["VZ9_PT01.jpg"]),
        "text_heads_json": json.dumps(["VZ9_PT01.jpg"])})
    body = html.unescape(response.content.decode())
    assert ("<li data-preview-no-header-file><span class=\"name\">VZ9_PT01.jpg</span>: "
            f"<span data-preview-reason>{images.text_content_reason('VZ9_PT01.jpg')}") in body
    assert body.count("could not read this file's image header") == 1  # VZ9_MAIN.jpg's


@pytest.mark.parametrize("error", ["manifest", "pattern"])
def test_it_lists_the_files_that_are_no_image_under_a_previews_error(manager_client, error):
    """A preview that ends in an error (a manifest the import fails on: ManifestError; a bad
    naming pattern: NamingError) showed the error alone: the files the page found no image
    were no longer listed anywhere, zip43 having moved that list from the page's own line to
    the server's plan (lows44, 2026-12-07). They are listed under the error, in the import's
    words, as the plan lists them."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"names_json": json.dumps(["NE1_PT01.jpg", "NE1_PT02.jpg", "NE1_MAIN.jpg"]),
            "no_header_json": json.dumps(["NE1_PT01.jpg", "NE1_PT02.jpg"]),
            "text_heads_json": json.dumps(["NE1_PT01.jpg"]), "source": "zip"}
    if error == "manifest":
        data["zip_manifest"] = SimpleUploadedFile(
            "manifest.csv", b"sku,colour,filename\r\nNE1,red,NE1_MAIN.jpg\r\n")
        said = "Wrong columns in the manifest header"
    else:
        data["patterns"] = "{code}_{n}.jpg"
        said = "{code}"
    response = manager_client.post(reverse("catalog:import_preview"), data)
    body = html.unescape(response.content.decode())
    assert said in re.search(r'<p class="error" role="alert">([^<]*)</p>', body)[1], body
    listed = dict(re.findall(
        r'<li data-preview-no-header-file><span class="name">([^<]*)</span>: '
        r"<span data-preview-reason>([^<]*)</span></li>", body))
    assert listed == {"NE1_PT01.jpg": images.text_content_reason("NE1_PT01.jpg"),
                      "NE1_PT02.jpg": images.NO_HEADER_REASON}
    assert "Not an image, refused by the import (2)" in body


def test_it_lists_no_image_files_in_the_order_the_preview_lists_them(db):
    assert selectors.import_not_images(
        names=["b.jpg", "a.jpg", "c.jpg"], no_header=["a.jpg", "b.jpg"],
        text_heads=["a.jpg"]) == [("a.jpg", images.text_content_reason("a.jpg")),
                                  ("b.jpg", images.NO_HEADER_REASON)]

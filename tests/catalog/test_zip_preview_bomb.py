"""A ZIP's preview refuses a zip bomb as its import does (QA 2026-12-05 L2): a bomb entry
beside a good file previewed "2 of 2 files" with Import enabled; the import then failed
whole and the good file was lost. The preview applies the import's rule
(archives.bomb_reason) to the sizes the page reads from the ZIP's directory."""

import html
import io
import json
import re
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from catalog import selectors
from catalog.ingest import archives
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create
from tests.catalog.imagegen import zip_bytes
from tests.images import product_jpeg

pytestmark = pytest.mark.django_db


def test_it_refuses_a_zip_bomb_in_the_preview_as_the_import_does(manager_client, storage):
    members = {"BOMB-1/big.jpg": bytes(80 * 1024 * 1024),
               "BOMB-1/ok.jpg": product_jpeg(1200, 900, seed=1)}
    data = zip_bytes(members, compression=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        packed = {i.filename: [i.file_size, i.compress_size] for i in zf.infolist()}
    response = manager_client.post(reverse("catalog:import_preview"), {
        "names": list(members), "create_products": "on", "source": "zip",
        "packed_json": json.dumps(packed)})
    page = html.unescape(response.content.decode())
    job = import_job_run(job_id=import_job_create(
        user=None, source_kind="zip", create_products=True, enqueue=False,
        source_file=ContentFile(data, name="c.zip")).pk)
    assert job.message.startswith("Zip bomb refused")
    assert "Most compressed: BOMB-1/big.jpg (83,886,080 bytes, " in job.message
    # the import's words, as the preview's error (which holds the Import button)
    assert re.search(r'class="error"[^>]*>\s*' + re.escape(job.message), page)
    assert "2 of 2 files" not in page


def test_it_judges_a_previewed_zip_by_the_imports_own_limits(settings):
    """The preview's read asks the import's limits (``import_runner.archive_limits``), never
    a copy of them: a setting the import obeys moves the preview with it."""
    sizes = [("LIM-1/a.jpg", 5000, 4000)]
    assert selectors.import_zip_bomb_reason(sizes=sizes) == ""
    settings.CUTROOM_MAX_ZIP_TOTAL_BYTES = 4000
    assert selectors.import_zip_bomb_reason(sizes=sizes) == (
        "Zip bomb refused: the ZIP expands to 5,000 bytes, over the limit of 4,000.")


def test_it_counts_one_over_compressed_file_in_the_singular():
    """QA 2026-12-07 qa42c L4: "Zip bomb refused: 1 files compressed more than 100:1"."""
    limits = archives.ArchiveLimits(max_suspicious_bytes=1000, max_total_bytes=10**9)
    one = archives.bomb_reason([("a.jpg", 5000, 10), ("b.jpg", 10**6, 10**6)], limits)
    assert one.startswith("Zip bomb refused: 1 file compressed more than 100:1 would "
                          "expand to 5,000 bytes")
    two = archives.bomb_reason([("a.jpg", 5000, 10), ("c.jpg", 5000, 10),
                                ("b.jpg", 10**6, 10**6)], limits)
    assert two.startswith("Zip bomb refused: 2 files compressed more than 100:1")
    whole = archives.bomb_reason([("a.jpg", 5000, 10)], limits)
    assert whole.startswith("Zip bomb refused: the ZIP's 1 file expands 500:1 ")

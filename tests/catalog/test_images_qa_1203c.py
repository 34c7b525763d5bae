"""QA 1203c: a JPEG whose scan data is corrupt but still decodes is stored (nothing is lost)
with a warning on its import line (a truncated one is still refused: test_images.py)."""

import io

import pytest

from catalog.services.assets import asset_ingest
from catalog.services.import_runner import import_job_run
from tests.catalog.imagegen import jpeg_bytes
from tests.catalog.test_services import issues, zip_job
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _corrupt_scan(data: bytes, every: int = 50) -> bytes:
    """``data`` with every ``every``-th byte of its scan data zeroed: libjpeg decodes it,
    with "Corrupt JPEG data" warnings, into a shifted, striped picture."""
    out = bytearray(data)
    sos = out.find(b"\xff\xda")
    start = sos + 2 + int.from_bytes(out[sos + 2:sos + 4], "big")
    for i in range(start, out.rfind(b"\xff\xd9"), every):
        out[i] = 0
    return bytes(out)


def test_it_stores_a_jpeg_with_corrupt_data_with_a_warning(storage):
    product = ProductFactory(sku="CJ1")
    result = asset_ingest(product=product, fileobj=io.BytesIO(_corrupt_scan(jpeg_bytes(seed=3))),
                          filename="CJ1_MAIN.jpg", position="MAIN")
    assert result.status == "stored"
    damaged = [w for w in result.warnings if w.startswith("Image data may be damaged: ")]
    assert len(damaged) == 1 and "Corrupt JPEG data" in damaged[0]


def test_it_puts_the_damage_warning_on_the_files_import_line(storage):
    ProductFactory(sku="CJ2")
    job = import_job_run(job_id=zip_job({
        "CJ2_MAIN.jpg": _corrupt_scan(jpeg_bytes(seed=4)),
        "CJ2_PT01.jpg": jpeg_bytes(seed=5),
    }).pk)
    assert (job.imported_count, job.error_count, job.warning_count) == (2, 0, 1)
    assert issues(job)["CJ2_MAIN.jpg"].startswith("Image data may be damaged: Corrupt JPEG data")


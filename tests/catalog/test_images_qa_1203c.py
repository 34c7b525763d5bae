"""QA 1203c: a JPEG whose scan data is corrupt but still decodes is stored (nothing is lost)
with a warning on its import line (a truncated one is still refused: test_images.py)."""

import io
import tempfile
import tracemalloc

import pytest

from catalog.ingest import images
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



def _noise_jpeg(side: int = 1600) -> bytes:
    """A JPEG of a few MB (noise compresses badly), large beside the 1/8 decode's output."""
    import numpy as np
    from PIL import Image

    rgb = np.random.default_rng(7).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(out, "JPEG", quality=95)
    return out.getvalue()


def _probe() -> images.ProbeResult:
    return images.ProbeResult(format="JPEG", width=1600, height=1600, mode="RGB", bits=8,
                              icc_profile=None, icc_profile_name="", exif_orientation=1)


def _checked_with_peak(fileobj) -> tuple[str, int]:
    """``jpeg_damage``'s answer and the most memory Python allocated while it ran."""
    tracemalloc.start()
    try:
        answer = images.jpeg_damage(fileobj, _probe())
        return answer, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_it_checks_a_jpeg_on_disk_at_an_eighth_without_a_copy_of_the_file(tmp_path):
    # Reread, session 17: the check read the whole file into a new bytes object (a 50 MB JPEG
    # cost another 50 MB on the ingest path), and ``min_factor=8`` alone decoded at full size.
    clean, damaged = _noise_jpeg(), _corrupt_scan(_noise_jpeg())
    assert len(clean) > 2_500_000
    for data, warned in ((clean, False), (damaged, True)):
        path = tmp_path / "photo.jpg"
        path.write_bytes(data)
        with open(path, "rb") as fileobj:
            fileobj.seek(123)
            answer, peak = _checked_with_peak(fileobj)
            assert fileobj.tell() == 123  # the caller's position is left alone
        assert answer.startswith(images.DAMAGED_PREFIX) is warned
        # a full-size grey decode alone is 1600² = 2.56 MB, the file 3 MB; an eighth is 40 kB
        assert peak < 400_000, (peak, len(data))


def test_it_reads_a_small_spooled_file_without_moving_it_to_disk():
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115 - closed below
    with spool:
        spool.write(_corrupt_scan(jpeg_bytes(seed=3)))
        spool.seek(0)
        assert images.jpeg_damage(spool, _probe()).startswith(images.DAMAGED_PREFIX)
        assert spool.tell() == 0
        assert not spool._rolled  # asking for its descriptor would have written it out

"""Property tests: hostile bytes and hostile ZIP member names never crash the ingest and
never write outside storage."""

import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.errors import ImportRefused
from catalog.models import ImageAsset, Product
from catalog.services.assets import asset_ingest
from catalog.services.import_runner import import_job_run
from catalog.services.imports import ZIP_NO_IMAGES_REASON, import_job_create
from tests.catalog.imagegen import jpeg_bytes
from tests.factories import ProductFactory

SEED_JPEG = jpeg_bytes(size=(640, 480), quality=70)
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@st.composite
def mutated_jpegs(draw):
    data = bytearray(SEED_JPEG)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    return bytes(data[:cut] if cut is not None else data)


def outside_storage(tmp_path) -> set[str]:
    return {p.name for p in tmp_path.iterdir()} - {"media"}


@pytest.mark.django_db
@FUZZ
@given(data=st.one_of(st.binary(max_size=4096), mutated_jpegs()))
def test_it_never_crashes_on_hostile_uploads(storage, tmp_path, data):
    product = ProductFactory()
    result = asset_ingest(product=product, fileobj=io.BytesIO(data), filename="x.jpg")
    assert result.status in ("stored", "rejected", "duplicate")
    if result.status == "rejected":
        assert result.reason and not ImageAsset.objects.filter(product=product).exists()
    else:
        assert storage.exists(result.asset.original_name)
        assert storage.exists(result.asset.working_name)
    assert outside_storage(tmp_path) == set()


def _zip_job(archive: bytes, name: str):
    """The import job of ``archive``, or None when it is refused, before a job, for holding
    no image file name (the one refusal a ZIP meets there)."""
    try:
        return import_job_create(user=None, source_kind="zip", enqueue=False,
                                 source_file=ContentFile(archive, name=name))
    except ImportRefused as exc:
        assert str(exc).startswith(ZIP_NO_IMAGES_REASON)
        return None


member_names = st.one_of(
    st.text(min_size=1, max_size=40),
    st.lists(st.sampled_from(["..", ".", "", "A1_MAIN.jpg", "sub", "/", "\\", "C:", "~",
                              "%2e%2e", "\x00"]), min_size=1, max_size=6).map("/".join),
)


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:Duplicate name")
@FUZZ
@given(names=st.lists(member_names, min_size=1, max_size=5), payload=mutated_jpegs())
def test_it_never_crashes_or_escapes_on_hostile_zip_members(storage, tmp_path, names, payload):
    # Hypothesis reuses one test transaction for all examples: the product may exist.
    Product.objects.get_or_create(sku="A1")
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        for name in names:
            zf.writestr(zipfile.ZipInfo(name), payload)
    job = _zip_job(raw.getvalue(), "fuzz.zip")
    if job is None:
        return
    job = import_job_run(job_id=job.pk)
    assert job.status in ("done", "failed")
    assert job.progress_done == job.progress_total
    assert outside_storage(tmp_path) == set()
    for asset in ImageAsset.objects.all():
        assert asset.original_name.startswith("originals/")


VALID_ZIP = None


def _valid_zip() -> bytes:
    global VALID_ZIP
    if VALID_ZIP is None:
        raw = io.BytesIO()
        with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("A1_MAIN.jpg", SEED_JPEG)
            zf.writestr("A1/detail.jpg", SEED_JPEG[::-1])
        VALID_ZIP = raw.getvalue()
    return VALID_ZIP


@st.composite
def mutated_zips(draw):
    data = bytearray(_valid_zip())
    for _ in range(draw(st.integers(1, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@pytest.mark.django_db
@FUZZ
@given(archive=st.one_of(st.binary(max_size=2048), mutated_zips()))
def test_it_never_crashes_on_corrupt_archives(storage, tmp_path, archive):
    Product.objects.get_or_create(sku="A1")
    job = _zip_job(archive, "bad.zip")
    if job is None:
        return
    job = import_job_run(job_id=job.pk)
    assert job.status in ("done", "failed")
    assert "unexpectedly" not in job.message
    assert outside_storage(tmp_path) == set()

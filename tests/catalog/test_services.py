import io
import os
import time
import zipfile
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from catalog.errors import ManifestError, ProductFieldError, ThumbnailSizeError
from catalog.ingest.images import TRANSPARENCY_WARNING
from catalog.models import ImageAsset, ImportIssue, ImportJob, Product
from catalog.selectors import import_job_report_csv
from catalog.services.assets import (
    THUMB_DEFAULT,
    asset_ingest,
    asset_soft_delete,
    asset_thumbnail,
    thumbnail_storage_name,
)
from catalog.services.import_mapping import ImportRun
from catalog.services.import_runner import import_job_run
from catalog.services.imports import (
    NOT_SENT_REASON,
    import_job_cancel,
    import_job_create,
    import_job_finish,
    import_job_upload_file,
    import_uploads_close_stale,
)
from catalog.services.products import product_create, product_soft_delete, product_update
from catalog.services.purge import purge_run
from tests.catalog.imagegen import image_bytes, jpeg_bytes, png_declaring, zip_bytes
from tests.factories import ImageAssetFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def ingest(product, data: bytes, name="photo.jpg", **kwargs):
    return asset_ingest(product=product, fileobj=io.BytesIO(data), filename=name,
                        **kwargs)


def shas_in(names: set[str]) -> set[str]:
    return {n.rsplit("/", 1)[-1][:64] for n in names}


# --- Products ---------------------------------------------------------------------------------


def test_it_creates_products_with_cleaned_identifiers():
    product = product_create(sku="ABC-1", title="Boot", gtin="4006 3813-33931",
                             asin="b00example")
    assert (product.gtin, product.asin) == ("4006381333931", "B00EXAMPLE")


def test_it_refuses_bad_products_with_field_messages():
    ProductFactory(sku="TAKEN")
    with pytest.raises(ValidationError) as info:
        product_create(sku="TAKEN", gtin="4006381333932")
    assert "sku" in info.value.message_dict and "gtin" in info.value.message_dict
    assert not Product.objects.filter(gtin="4006381333932").exists()


def test_it_updates_only_editable_fields():
    product = ProductFactory(title="Old")
    product_update(product=product, title="New", brand="B")
    product.refresh_from_db()
    assert (product.title, product.brand) == ("New", "B")
    with pytest.raises(ProductFieldError, match="Unknown product field 'sku'"):
        product_update(product=product, sku="OTHER")


def test_it_soft_deletes_a_product_with_its_images(storage):
    product = ProductFactory()
    asset = ingest(product, jpeg_bytes()).asset
    product_soft_delete(product=product)
    assert Product.live.filter(pk=product.pk).count() == 0
    asset.refresh_from_db()
    assert asset.deleted_at == Product.objects.get(pk=product.pk).deleted_at
    assert storage.exists(asset.original_name)


# --- Asset ingest -----------------------------------------------------------------------------


def test_it_stores_the_original_and_a_working_copy_under_content_names(storage):
    user = UserFactory()
    data = jpeg_bytes(size=(1200, 900))
    result = ingest(ProductFactory(), data, name="dir\\IMG_1.JPG", user=user)
    asset = result.asset
    assert result.status == "stored" and result.warnings == []
    assert asset.original_filename == "IMG_1.JPG"
    assert asset.original_name.endswith(f"{asset.sha256}.jpg")
    assert asset.working_name.endswith(f"{asset.sha256}-v1.png")
    assert (asset.width, asset.height, asset.format, asset.colour_mode, asset.bytes) == (
        1200, 900, "JPEG", "RGB", len(data))
    assert (asset.position, asset.status, asset.uploaded_by) == ("MAIN", "uploaded", user)
    with storage.open(asset.original_name) as handle:
        assert handle.read() == data


def test_it_stores_good_files_and_explains_each_bad_one_in_the_same_batch(storage, stored_files):
    product = ProductFactory()
    good = [jpeg_bytes(seed=1), image_bytes("PNG", size=(800, 700), seed=2)]
    full = jpeg_bytes(seed=3)
    bad = {
        "notes.jpg": (b"just text " * 40, "not_image"),
        "cut.jpg": (full[: len(full) // 2], "truncated"),
        "bomb.png": (png_declaring(12_000, 12_000), "bomb"),
        "tiny.jpg": (jpeg_bytes(size=(320, 240)), "too_small"),
        "anim.gif": (image_bytes("GIF", size=(800, 600)), "unsupported"),
        "empty.jpg": (b"", "empty"),
    }
    results = [ingest(product, data, name=f"good{i}.jpg") for i, data in enumerate(good)]
    for name, (data, _) in bad.items():
        results.append(ingest(product, data, name=name))
    assert [r.status for r in results[:2]] == ["stored", "stored"]
    for result, (name, (_, code)) in zip(results[2:], bad.items(), strict=True):
        assert (result.filename, result.status, result.code) == (name, "rejected", code)
        assert result.reason and result.asset is None
    assert ImageAsset.objects.filter(product=product).count() == 2
    assert shas_in(stored_files()) == {r.asset.sha256 for r in results[:2]}


def test_it_reports_a_duplicate_instead_of_storing_it_twice(storage, stored_files):
    product = ProductFactory(sku="DUPE")
    first = ingest(product, jpeg_bytes())
    files = stored_files()
    again = ingest(product, jpeg_bytes(), name="copy.jpg")
    assert again.status == "duplicate" and again.asset == first.asset
    assert "already stored for DUPE as MAIN" in again.reason
    assert ImageAsset.objects.count() == 1
    assert stored_files() == files


def test_it_shares_one_stored_original_between_products(storage, stored_files):
    one = ingest(ProductFactory(), jpeg_bytes()).asset
    files = stored_files()
    two = ingest(ProductFactory(), jpeg_bytes()).asset
    assert one.pk != two.pk and one.original_name == two.original_name
    assert stored_files() == files


def test_it_never_overwrites_a_stored_original(storage, tmp_path):
    product = ProductFactory()
    first = ingest(product, jpeg_bytes()).asset
    path = tmp_path / "media" / first.original_name
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    asset_soft_delete(asset=first)
    again = ingest(product, jpeg_bytes()).asset
    assert again.pk != first.pk and again.original_name == first.original_name
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_it_replaces_a_partial_leftover_under_the_content_name(storage):
    # QA 1203c: one file per content hash, never a suffixed second copy beside a leftover
    data = jpeg_bytes(seed=9)
    probe = ingest(ProductFactory(), data).asset
    name = probe.original_name
    ImageAsset.objects.all().delete()
    storage.delete(name)
    storage.save(name, ContentFile(data[:100]))  # an interrupted earlier write
    asset = ingest(ProductFactory(), data).asset
    assert asset.original_name == name
    with storage.open(name) as stored:
        assert stored.read() == data


def test_it_streams_from_a_non_seekable_source(storage):
    class Pipe:
        def __init__(self, data):
            self._buffer = io.BytesIO(data)
            self.reads = 0

        def read(self, size=-1):
            self.reads += 1
            return self._buffer.read(size)

    data = image_bytes("TIFF", size=(1500, 1500))
    pipe = Pipe(data)
    result = asset_ingest(product=ProductFactory(), fileobj=pipe, filename="a.tif")
    assert result.status == "stored" and result.asset.bytes == len(data)
    assert pipe.reads > 2  # read in chunks, not in one go


def test_it_refuses_files_over_the_size_limit_without_storing(storage, stored_files, settings):
    settings.CUTROOM_MAX_FILE_BYTES = 10_000
    result = ingest(ProductFactory(), jpeg_bytes())
    assert (result.status, result.code) == ("rejected", "too_large")
    assert stored_files() == set()


def test_it_assigns_free_positions_and_refuses_a_taken_one(storage, stored_files):
    product = ProductFactory(sku="POS-1")
    results = [ingest(product, jpeg_bytes(seed=s), name=f"p{s}.jpg") for s in range(3)]
    assert [r.asset.position for r in results] == ["MAIN", "PT01", "PT02"]
    before = stored_files()
    clash = ingest(product, jpeg_bytes(seed=7), name="new.jpg", position="pt01")
    assert (clash.status, clash.code, clash.asset) == ("rejected", "position_taken", None)
    assert clash.reason.startswith(
        f"Position PT01 of POS-1 is already taken by p1.jpg (asset #{results[1].asset.pk}, "
        "uploaded ")
    assert stored_files() == before  # refused before the decode: nothing written
    assert ImageAsset.live.filter(product=product).count() == 3
    # the same file again at its own position is a duplicate, not a clash
    assert ingest(product, jpeg_bytes(seed=1), position="PT01").status == "duplicate"
    assert ingest(product, jpeg_bytes(seed=7), position="PT03").asset.position == "PT03"
    assert ingest(product, jpeg_bytes(seed=8), position="PT99").code == "position"


def test_it_warns_when_a_product_has_no_free_position_left(storage):
    product = ProductFactory(sku="FULL-1")
    results = [ingest(product, jpeg_bytes(seed=s)) for s in range(11)]
    positions = [r.asset.position for r in results]
    assert positions[:9] == ["MAIN"] + [f"PT0{n}" for n in range(1, 9)]
    assert positions[9:] == ["PT08", "PT08"]
    assert not any("No free position" in w for r in results[:9] for w in r.warnings)
    first_pt08 = results[8].asset.pk
    for late in results[9:]:
        assert any("No free position left for FULL-1" in w and f"#{first_pt08}" in w
                   for w in late.warnings), late.warnings


def test_it_refuses_uploads_to_a_deleted_product(storage):
    product = ProductFactory(deleted_at=timezone.now())
    assert ingest(product, jpeg_bytes()).code == "product_deleted"


def test_it_generates_a_thumbnail_once_and_then_serves_the_cached_one(storage, tmp_path):
    asset = ingest(ProductFactory(), jpeg_bytes(size=(1200, 900))).asset
    name = asset_thumbnail(asset=asset, size=200)
    path = tmp_path / "media" / name
    mtime = path.stat().st_mtime_ns
    time.sleep(0.01)
    assert asset_thumbnail(asset=asset, size=200) == name
    assert path.stat().st_mtime_ns == mtime
    from PIL import Image

    with Image.open(path) as thumb:
        assert (thumb.format, thumb.size) == ("WEBP", (200, 150))
    assert storage.exists(thumbnail_storage_name(asset.sha256, THUMB_DEFAULT))
    with pytest.raises(ThumbnailSizeError):
        asset_thumbnail(asset=asset, size=5000)


def test_it_makes_the_screen_thumbnails_at_ingest_and_the_card_size_for_big_photos(
        storage, settings):
    from PIL import Image

    settings.CUTROOM_PRERENDER_MIN_PIXELS = 1200 * 900
    big = ingest(ProductFactory(), jpeg_bytes(size=(1200, 900), seed=1)).asset
    small = ingest(ProductFactory(), jpeg_bytes(size=(1000, 750), seed=2)).asset
    sizes = {}
    for asset in (big, small):
        for side in (1024, 320, 160):
            name = thumbnail_storage_name(asset.sha256, side)
            if storage.exists(name):
                with storage.open(name) as fh, Image.open(fh) as thumb:
                    sizes[asset.pk, side] = thumb.size
    assert sizes == {(big.pk, 1024): (1024, 768), (big.pk, 320): (320, 240),
                     (big.pk, 160): (160, 120), (small.pk, 320): (320, 240),
                     (small.pk, 160): (160, 120)}
    # what ingest made is what the screens are served: the same names, no second file
    assert asset_thumbnail(asset=big, size=1024) == thumbnail_storage_name(big.sha256, 1024)
    assert asset_thumbnail(asset=small, size=1024) == thumbnail_storage_name(small.sha256, 1024)


# --- Import jobs ------------------------------------------------------------------------------


def zip_job(members: dict, **kwargs) -> ImportJob:
    upload = ContentFile(zip_bytes(members), name="shoot.zip")
    return import_job_create(user=None, source_kind="zip", source_file=upload,
                             enqueue=False, **kwargs)


def issues(job) -> dict[str, str]:
    return {i.filename: i.reason for i in job.issues.all()}


def test_it_imports_a_zip_and_explains_every_refused_entry(storage, stored_files, tmp_path):
    ProductFactory(sku="A1")
    ProductFactory(sku="B2")
    symlink = zipfile.ZipInfo("A1_PT02.jpg")
    symlink.external_attr = 0o120777 << 16
    members = {
        "A1_MAIN.jpg": jpeg_bytes(seed=1),
        "shoot/B2-2.jpg": jpeg_bytes(seed=2),
        "B2/detail.png": image_bytes("PNG", size=(900, 900), seed=3),
        "../../etc/A1_PT03.jpg": jpeg_bytes(seed=4),
        "/abs/A1_PT04.jpg": jpeg_bytes(seed=5),
        "A1_PT05.zip": zip_bytes({"x.jpg": jpeg_bytes(seed=6)}),
        "A1_PT06.jpg": zip_bytes({"x.jpg": jpeg_bytes(seed=6)}),
        "ZZ9_MAIN.jpg": jpeg_bytes(seed=7),
        "A1_PT07.jpg": b"not really",
        "readme.txt": b"hello",
        "__MACOSX/._A1_MAIN.jpg": b"junk",
    }
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
        zf.writestr(symlink, "/etc/passwd")
    job = import_job_create(
        user=None, source_kind="zip", source_file=ContentFile(raw.getvalue(), name="s.zip"),
        enqueue=False,
    )
    job = import_job_run(job_id=job.pk)
    assert job.status == "done"
    assert (job.progress_done, job.progress_total) == (11, 11)
    assert (job.imported_count, job.error_count, job.warning_count) == (3, 7, 2)
    assert job.message == "3 imported, 7 refused."
    got = {(a.product.sku, a.position) for a in ImageAsset.objects.select_related("product")}
    assert got == {("A1", "MAIN"), ("B2", "PT01"), ("B2", "MAIN")}
    reasons = issues(job)
    assert "path traversal" in reasons["../../etc/A1_PT03.jpg"]
    assert "absolute path" in reasons["/abs/A1_PT04.jpg"]
    assert "nested archive" in reasons["A1_PT05.zip"]
    assert "nested archive" in reasons["A1_PT06.jpg"]
    assert "symbolic link" in reasons["A1_PT02.jpg"]
    assert "Unknown SKU ZZ9" in reasons["ZZ9_MAIN.jpg"]
    assert "Not an image" in reasons["A1_PT07.jpg"]
    assert "not an image file name" in reasons["readme.txt"]
    assert job.issues.get(filename="readme.txt").level == ImportIssue.Level.WARNING
    assert "Low resolution: 900×900" in reasons["B2/detail.png"]
    assert "__MACOSX/._A1_MAIN.jpg" not in reasons
    # Nothing outside storage: the temp tree holds only the media folder.
    assert {p.name for p in tmp_path.iterdir()} == {"media"}
    assert all(n.startswith(("originals/", "working/", "thumbs/", "imports/"))
               for n in stored_files())


def test_it_refuses_zip_bombs_by_ratio_and_by_total_size(storage, settings):
    ProductFactory(sku="A1")
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("A1_MAIN.jpg", b"\0" * 5_000_000)
    job = import_job_create(user=None, source_kind="zip", enqueue=False,
                            source_file=ContentFile(raw.getvalue(), name="b.zip"))
    job = import_job_run(job_id=job.pk)
    assert "compression ratio" in issues(job)["A1_MAIN.jpg"]
    assert ImageAsset.objects.count() == 0

    settings.CUTROOM_MAX_ZIP_TOTAL_BYTES = 1_000_000
    job = import_job_create(user=None, source_kind="zip", enqueue=False,
                            source_file=ContentFile(raw.getvalue(), name="b.zip"))
    job = import_job_run(job_id=job.pk)
    assert job.status == "failed" and "expands to 5,000,000 bytes" in job.message


def test_it_fails_a_job_whose_file_is_not_a_zip(storage):
    job = import_job_create(user=None, source_kind="zip", enqueue=False,
                            source_file=ContentFile(b"nope", name="x.zip"))
    job = import_job_run(job_id=job.pk)
    assert job.status == "failed" and job.message.startswith("Not a readable ZIP file")


def test_it_applies_a_manifest_inside_the_zip(storage):
    ProductFactory(sku="OLD", title="Old title")
    manifest = ("sku,title,brand,category,gtin,asin,filename,position\n"
                "NEW1,New boot,Acme,Boots,4006381333931,,IMG_0001.JPG,MAIN\n"
                "NEW1,,,,,,IMG_0002.JPG,PT01\n"
                "OLD,Better title,,,,,IMG_0003.JPG,\n")
    job = zip_job({"manifest.csv": manifest.encode(), "IMG_0001.JPG": jpeg_bytes(seed=1),
                   "IMG_0002.JPG": jpeg_bytes(seed=2), "sub/IMG_0003.JPG": jpeg_bytes(seed=3)})
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.imported_count, job.products_created, job.products_updated) == (
        "done", 3, 1, 1)
    new = Product.objects.get(sku="NEW1")
    assert (new.title, new.gtin) == ("New boot", "4006381333931")
    assert sorted(new.assets.values_list("position", flat=True)) == ["MAIN", "PT01"]
    assert Product.objects.get(sku="OLD").title == "Better title"


def test_it_refuses_a_broken_manifest_before_storing_anything(storage, stored_files):
    with pytest.raises(ManifestError, match="Wrong columns"):
        import_job_create(
            user=None, source_kind="zip", enqueue=False,
            source_file=ContentFile(zip_bytes({"A_MAIN.jpg": jpeg_bytes()}), name="z.zip"),
            manifest_file=ContentFile(b"sku,colour\nA,red\n", name="m.csv"),
        )
    assert ImportJob.objects.count() == 0 and stored_files() == set()


def test_it_creates_products_for_unknown_skus_only_when_asked(storage):
    members = {"NEWSKU_MAIN.jpg": jpeg_bytes(seed=1), "bad sku!_MAIN.jpg": jpeg_bytes(seed=2)}
    job = import_job_run(job_id=zip_job(members).pk)
    assert job.imported_count == 0 and not Product.objects.exists()
    job = import_job_run(job_id=zip_job(members, create_products=True).pk)
    assert (job.imported_count, job.products_created) == (1, 1)
    assert Product.objects.get().sku == "NEWSKU"
    assert "characters a SKU cannot have (' ', '!')" in issues(job)["bad sku!_MAIN.jpg"]


def test_it_uses_a_custom_pattern_and_regex(storage):
    ProductFactory(sku="123456")
    job = import_job_run(job_id=zip_job(
        {"123456-2.png": image_bytes("PNG", size=(700, 700))}, patterns=["{sku}-{n}.png"]).pk)
    assert ImageAsset.objects.get().position == "PT01"
    job = import_job_run(job_id=zip_job(
        {"x/123456 v3.jpg": jpeg_bytes()}, regex=r"(?P<sku>\d{6}) v(?P<n>\d)").pk)
    assert job.imported_count == 1
    assert set(ImageAsset.objects.values_list("position", flat=True)) == {"PT01", "PT02"}


def test_it_claims_a_job_once(storage):
    job = zip_job({"A_MAIN.jpg": jpeg_bytes()})
    assert import_job_run(job_id=job.pk) is not None
    assert import_job_run(job_id=job.pk) is None


def test_it_stops_a_running_import_when_cancelled(storage):
    ProductFactory(sku="A")
    job = zip_job({f"A-{n}.jpg": jpeg_bytes(seed=n) for n in range(1, 5)})

    def cancel_after_first(done=None, total=None, issue=None):
        if done == 1:
            import_job_cancel(job_id=job.pk)

    job = import_job_run(job_id=job.pk, progress=cancel_after_first)
    assert job.status == "cancelled"
    assert ImageAsset.objects.count() == 1 and job.progress_done == 1


def test_it_enqueues_the_import_task_on_commit(storage, django_capture_on_commit_callbacks):
    with mock.patch("catalog.tasks.import_job_run_task.delay") as delay, \
            django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(
            user=None, source_kind="zip",
            source_file=ContentFile(zip_bytes({"A_MAIN.jpg": jpeg_bytes()}), name="z.zip"))
    delay.assert_called_once_with(job.pk)


def test_it_runs_the_task_and_returns_at_once_when_the_job_is_not_queued(storage):
    from catalog.tasks import import_job_run_task

    ProductFactory(sku="A")
    job = zip_job({"A_MAIN.jpg": jpeg_bytes()})
    import_job_run_task.apply(args=[job.pk])
    import_job_run_task.apply(args=[job.pk])  # a redelivery
    assert ImageAsset.objects.count() == 1
    assert ImportJob.objects.get(pk=job.pk).status == "done"


def test_the_task_fails_an_import_past_its_time_limit_keeping_what_was_imported(
        storage, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    from catalog import events
    from catalog.services import import_runner
    from catalog.tasks import import_job_run_task

    ProductFactory(sku="A")
    ProductFactory(sku="B")
    job = zip_job({"A_MAIN.jpg": jpeg_bytes(seed=1), "B_MAIN.jpg": jpeg_bytes(seed=2)})
    real_entry, calls = import_runner._import_entry, []

    def limit_after_second_file(run, source, entry, user):
        real_entry(run, source, entry, user)
        calls.append(entry.name)
        if len(calls) == 2:
            raise SoftTimeLimitExceeded()

    monkeypatch.setattr(import_runner, "_import_entry", limit_after_second_file)
    finished = []
    monkeypatch.setattr(events, "import_finished", finished.append)
    import_job_run_task.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == "failed"
    assert "took longer than allowed" in job.message
    assert "what was imported stays" in job.message
    # The second file was stored after the last checkpoint: its count is kept too.
    assert job.imported_count == 2 and ImageAsset.objects.count() == 2
    assert finished == [job.pk]


def test_it_counts_a_browser_batch_file_by_file(storage):
    ProductFactory(sku="A")
    manifest = ContentFile(b"sku,title,filename\nM1,Made by manifest,shot.jpg\n", name="m.csv")
    job = import_job_create(user=None, source_kind="upload", expected_files=3,
                            manifest_file=manifest)
    assert job.status == "running" and job.products_created == 1
    results = [
        import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(data), filename=name)
        for name, data in [("A_MAIN.jpg", jpeg_bytes(seed=1)), ("shot.jpg", jpeg_bytes(seed=2)),
                           ("A_PT01.jpg", b"garbage")]
    ]
    assert [r.status for r in results] == ["stored", "stored", "rejected"]
    assert Product.objects.get(sku="M1").assets.count() == 1
    job = import_job_finish(job_id=job.pk)
    assert (job.status, job.progress_done, job.imported_count, job.error_count) == (
        "done", 3, 2, 1)
    late = import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(jpeg_bytes()),
                                  filename="A_PT02.jpg")
    assert late.code == "job_closed"


def _refused_files() -> dict[str, bytes]:
    """One file per way of being refused, each the only file of its SKU."""
    return {"TINY-1.jpg": jpeg_bytes(size=(300, 200), seed=4),
            "CORRUPT-1.jpg": jpeg_bytes(seed=5)[:1500],
            "TEXT-1.jpg": b"just some text, renamed .jpg\n",
            "EMPTY-1.jpg": b""}


def test_it_creates_no_product_for_an_upload_whose_files_are_all_refused(storage):
    job = import_job_create(user=None, source_kind="upload", create_products=True,
                            expected_files=5)
    files = {**_refused_files(), "GOOD-1.jpg": jpeg_bytes(seed=6)}
    results = {name: import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(data),
                                            filename=name).status
               for name, data in files.items()}
    assert results == {**dict.fromkeys(_refused_files(), "rejected"), "GOOD-1.jpg": "stored"}
    assert list(Product.objects.values_list("sku", flat=True)) == ["GOOD"]
    job = import_job_finish(job_id=job.pk)
    assert job.products_created == 1
    assert job.message == "1 imported, 4 refused, 1 product created."


def test_it_creates_no_product_for_a_zip_entry_that_is_refused(storage):
    members = {**_refused_files(), "OK-1.jpg": jpeg_bytes(seed=7)}
    job = import_job_run(job_id=zip_job(members, create_products=True).pk)
    assert (job.imported_count, job.error_count, job.products_created) == (1, 4, 1)
    assert list(Product.objects.values_list("sku", flat=True)) == ["OK"]
    assert job.message == "1 imported, 4 refused, 1 product created."


def test_it_creates_a_new_product_with_its_first_stored_file(storage):
    members = {"NEW-1.jpg": b"not a photo", "NEW-2.jpg": jpeg_bytes(seed=8),
               "NEW-3.jpg": jpeg_bytes(seed=9)}
    job = import_job_run(job_id=zip_job(members, create_products=True).pk)
    assert (job.imported_count, job.products_created) == (2, 1)
    product = Product.objects.get()
    assert sorted(product.assets.values_list("position", flat=True)) == ["PT01", "PT02"]


def test_it_does_not_create_a_new_product_before_a_file_of_it_is_stored(storage):
    run = ImportRun(import_job_create(user=None, source_kind="upload", create_products=True))
    product, position = run.target("LATER-2.jpg")
    assert (product.sku, product.pk, position) == ("LATER", None, "PT01")
    assert not Product.objects.exists()


def test_it_refuses_a_file_whose_new_product_was_deleted_meanwhile(storage):
    ProductFactory(sku="LATE", deleted_at=timezone.now())
    result = ingest(Product(sku="LATE"), jpeg_bytes(seed=10))
    assert (result.status, result.reason) == ("rejected", "Product LATE is deleted.")
    assert not result.product_created and not ImageAsset.objects.exists()


def test_it_uses_the_product_a_concurrent_upload_created_for_the_same_new_sku(storage):
    # Two requests of one session both saw RACE as new; the second one stores second.
    first = ingest(Product(sku="RACE"), jpeg_bytes(seed=11), name="RACE-1.jpg")
    second = ingest(Product(sku="RACE"), jpeg_bytes(seed=12), name="RACE-2.jpg")
    assert [first.status, second.status] == ["stored", "stored"]
    assert [first.product_created, second.product_created] == [True, False]
    assert Product.objects.get().assets.count() == 2


# --- Purge ------------------------------------------------------------------------------------


def _age(tmp_path, name: str, days: int) -> None:
    path = tmp_path / "media" / name
    stamp = time.time() - days * 86400
    os.utime(path, (stamp, stamp))


def test_it_purges_only_unreferenced_files_past_the_retention(storage, tmp_path, stored_files):
    live = ingest(ProductFactory(), jpeg_bytes(seed=1)).asset
    recently_deleted = ingest(ProductFactory(), jpeg_bytes(seed=2)).asset
    long_deleted = ingest(ProductFactory(), jpeg_bytes(seed=3)).asset
    asset_soft_delete(asset=recently_deleted)
    asset_soft_delete(asset=long_deleted)
    ImageAsset.objects.filter(pk=long_deleted.pk).update(
        deleted_at=timezone.now() - timedelta(days=40))
    storage.save("originals/ff/ff/" + "f" * 64 + ".jpg", ContentFile(b"old orphan"))
    storage.save("originals/ee/ee/" + "e" * 64 + ".jpg", ContentFile(b"fresh orphan"))
    for name in stored_files():
        if not name.startswith("originals/ee"):
            _age(tmp_path, name, 60)

    before = stored_files()
    dry = purge_run(older_than_days=30, dry_run=True)
    assert stored_files() == before
    result = purge_run(older_than_days=30)
    assert sorted(result.deleted) == sorted(dry.deleted)
    assert shas_in(set(result.deleted)) == {long_deleted.sha256, "f" * 64}
    remaining = shas_in(stored_files())
    assert {live.sha256, recently_deleted.sha256, "e" * 64} <= remaining
    assert long_deleted.sha256 not in remaining


def test_it_keeps_files_that_a_factory_row_only_names(storage):
    ImageAssetFactory()
    assert purge_run(older_than_days=0).deleted == []


def test_it_imports_a_folder_per_sku_zip_as_one_product_per_folder(storage):
    job = zip_job({
        "SHOE-77/IMG_0001.jpg": jpeg_bytes(seed=21),
        "SHOE-77/IMG_0002.jpg": jpeg_bytes(seed=22),
        "EVAL-003/003.jpg": jpeg_bytes(seed=23),
    }, create_products=True)
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.imported_count, job.products_created) == ("done", 3, 2)
    skus = sorted(Product.objects.values_list("sku", flat=True))
    assert skus == ["EVAL-003", "SHOE-77"]
    assert Product.objects.get(sku="SHOE-77").assets.count() == 2


# --- Positions in name order, manifest rows, early finishes (QA 2026-12-02) -------------------


def _positions(sku: str) -> dict[str, str]:
    return dict(ImageAsset.live.filter(product__sku=sku)
                .values_list("original_filename", "position"))


def test_it_gives_main_to_the_first_name_of_a_zip_whatever_the_entry_order(storage):
    members = {f"ORD-1/IMG_000{n}.jpg": jpeg_bytes(size=(600, 500), seed=n) for n in (3, 1, 2)}
    job = import_job_run(job_id=zip_job(members, create_products=True).pk)
    assert job.imported_count == 3
    assert _positions("ORD-1") == {"IMG_0001.jpg": "MAIN", "IMG_0002.jpg": "PT01",
                                   "IMG_0003.jpg": "PT02"}


def _session_send(job, names, data=None):
    return {name: import_job_upload_file(
        job_id=job.pk, fileobj=io.BytesIO((data or {}).get(name) or jpeg_bytes(
            seed=sum(map(ord, name)))), filename=name) for name in names}


def test_it_gives_main_to_the_first_name_of_a_browser_session_whatever_the_arrival_order(storage):
    job = import_job_create(user=None, source_kind="upload", expected_files=3,
                            create_products=True)
    results = _session_send(job, ["RACE-1/IMG_0003.jpg", "RACE-1/IMG_0002.jpg",
                                  "RACE-1/IMG_0001.jpg"])
    assert results["RACE-1/IMG_0001.jpg"].asset.position == "PT02"  # on arrival
    job = import_job_finish(job_id=job.pk)
    expected = {"IMG_0001.jpg": "MAIN", "IMG_0002.jpg": "PT01", "IMG_0003.jpg": "PT02"}
    assert _positions("RACE-1") == expected
    # a second finish (a retried request) changes nothing
    import_job_finish(job_id=job.pk)
    assert _positions("RACE-1") == expected


def test_it_lets_explicit_positions_win_over_name_order_in_a_session(storage):
    old = ProductFactory(sku="RACE-2")
    ImageAssetFactory(product=old, position="PT01")
    job = import_job_create(user=None, source_kind="upload", expected_files=3)
    _session_send(job, ["RACE-2/IMG_0002.jpg", "RACE-2/IMG_0001.jpg", "RACE-2_MAIN.jpg"])
    import_job_finish(job_id=job.pk)
    got = dict(ImageAsset.live.filter(product=old, import_job=job)
               .values_list("original_filename", "position"))
    assert got == {"RACE-2_MAIN.jpg": "MAIN", "IMG_0001.jpg": "PT02", "IMG_0002.jpg": "PT03"}
    assert ImageAsset.live.filter(product=old, import_job=None).get().position == "PT01"


def test_it_orders_what_arrived_when_a_session_file_fails(storage):
    job = import_job_create(user=None, source_kind="upload", expected_files=3,
                            create_products=True)
    results = _session_send(job, ["R3/IMG_0003.jpg", "R3/IMG_0001.jpg", "R3/IMG_0002.jpg"],
                            {"R3/IMG_0001.jpg": b"not a photo"})
    assert results["R3/IMG_0001.jpg"].status == "rejected"
    import_job_finish(job_id=job.pk)
    assert _positions("R3") == {"IMG_0002.jpg": "MAIN", "IMG_0003.jpg": "PT01"}


def test_it_orders_an_abandoned_session_when_the_sweep_closes_it(storage, settings):
    job = import_job_create(user=None, source_kind="upload", expected_files=4,
                            create_products=True)
    _session_send(job, ["R4/IMG_0002.jpg", "R4/IMG_0001.jpg"])
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CUTROOM_UPLOAD_IDLE_SECONDS + 5))
    assert import_uploads_close_stale() == 1
    assert _positions("R4") == {"IMG_0001.jpg": "MAIN", "IMG_0002.jpg": "PT01"}
    job.refresh_from_db()
    assert "The upload stopped after 2 of 4 files (no file for" in job.message


def test_it_says_how_many_files_never_arrived_when_a_session_finishes_early(storage):
    ProductFactory(sku="E1")
    job = import_job_create(user=None, source_kind="upload", expected_files=5)
    _session_send(job, ["E1_MAIN.jpg", "E1_PT01.jpg"])
    job = import_job_finish(job_id=job.pk, failed=["E1_PT02.jpg", "E1_PT03.jpg"],
                            skipped=["notes.txt", "E1_PT04.jpg"])
    assert job.message == "2 imported, 2 refused. The upload stopped after 2 of 5 files."
    assert issues(job) == {
        "E1_PT02.jpg": NOT_SENT_REASON, "E1_PT03.jpg": NOT_SENT_REASON,
        "notes.txt": "Skipped: not an image file name (.txt).",
    }  # an image name listed as skipped is not the server's skip: not reported
    assert (job.error_count, job.warning_count) == (2, 1)


def test_it_skips_a_non_image_name_in_a_session_in_the_zip_import_words(storage):
    job = import_job_create(user=None, source_kind="upload", expected_files=2)
    results = _session_send(job, ["readme.txt", "anim.gif"],
                            {"readme.txt": b"hello", "anim.gif": b"GIF89a" + b"\0" * 64})
    assert {r.reason for r in results.values()} == {
        "Skipped: not an image file name (.txt).",
        "Skipped: GIF images are not supported (.gif); convert it to JPEG, PNG, WebP, TIFF, "
        "HEIC/HEIF or AVIF."}
    job = import_job_finish(job_id=job.pk)
    assert job.warning_count == 2 and job.error_count == 0


def test_it_warns_of_manifest_rows_whose_file_is_not_in_the_zip(storage):
    seen = []
    manifest = ContentFile(b"sku,filename\nM1,m1.jpg\nM1,gone.jpg\nM2,shoot/also-gone.jpg\n",
                           name="manifest_qa.csv")
    job = zip_job({"m1.jpg": jpeg_bytes()}, manifest_file=manifest)
    job = import_job_run(job_id=job.pk, progress=lambda **kw: seen.append(kw.get("issue")))
    warned = list(job.issues.filter(level="warning").values_list("filename", "reason"))
    assert warned == [
        ("manifest_qa.csv", "Manifest line 3 names gone.jpg, which is not in the archive."),
        ("manifest_qa.csv",
         "Manifest line 4 names shoot/also-gone.jpg, which is not in the archive."),
    ]
    assert ("manifest_qa.csv", warned[0][1], "warning") in seen  # the command prints it
    assert "gone.jpg, which is not in the archive" in import_job_report_csv(job=job)
    assert job.imported_count == 1 and job.warning_count == 2


def test_it_names_the_manifest_and_line_of_a_refused_product_and_creates_none(storage):
    manifest = ContentFile(b"sku,title,gtin,filename\nQA001,ok,,a.jpg\n"
                           b"QA003,bad,4006381333932,b.jpg\n", name="manifest_bad3.csv")
    job = zip_job({"a.jpg": jpeg_bytes(size=(600, 500), seed=1),
                   "b.jpg": jpeg_bytes(size=(600, 500), seed=2)}, manifest_file=manifest)
    job = import_job_run(job_id=job.pk)
    reasons = {(i.filename, i.reason) for i in job.issues.filter(level="error")}
    # reported once, on its file: the line's refusal is not a second refused file
    assert [(name, reason.split(": GTIN")[0]) for name, reason in reasons] == [
        ("b.jpg", "manifest_bad3.csv line 3: Cannot create product 'QA003'")], reasons
    assert job.error_count == 1
    assert not Product.objects.filter(sku="QA003").exists()
    assert (job.imported_count, job.products_created) == (1, 1)


def test_it_refuses_a_manifest_with_an_unknown_position_before_creating_anything(storage):
    manifest = ContentFile(b"sku,title,filename,position\nZ1,t,z.jpg,ZZZ\n", name="m.csv")
    with pytest.raises(ManifestError, match="line 2: unknown position 'ZZZ'"):
        import_job_create(user=None, source_kind="upload", manifest_file=manifest)
    assert not Product.objects.exists()


def test_it_warns_that_a_transparent_original_was_flattened(storage):
    rgba = Image.new("RGBA", (800, 600), (0, 0, 0, 0))
    rgba.paste((200, 10, 10, 255), (100, 100, 700, 500))
    out = io.BytesIO()
    rgba.save(out, "PNG")
    result = ingest(ProductFactory(sku="CUT-1"), out.getvalue(), name="cut.png")
    assert result.status == "stored" and TRANSPARENCY_WARNING in result.warnings
    assert "original, with its transparency, is kept" in TRANSPARENCY_WARNING



# --- Explicit positions that clash (one image per position) ----------------------------------


def test_it_refuses_a_second_file_for_a_taken_position_in_a_zip_naming_the_other(
        storage, tmp_path):
    product = ProductFactory(sku="CL1")
    old = ImageAssetFactory(product=product, position="PT01", original_filename="old_pt01.jpg")
    members = {
        "CL1_MAIN.jpg": jpeg_bytes(seed=31),  # MAIN by _MAIN ...
        "CL1-1.png": image_bytes("PNG", seed=32),  # ... and by -1; "CL1-1" sorts first
        "CL1_PT01.jpg": jpeg_bytes(seed=33),  # PT01 is the older image's
        "CL1-3.jpg": jpeg_bytes(seed=34),  # PT02 ...
        "shoot/a.jpg": jpeg_bytes(seed=35),  # ... and PT02 by the manifest, which wins
        "CL1_PT03.jpg": jpeg_bytes(seed=36),
        "manifest.csv": b"sku,filename,position\nCL1,shoot/a.jpg,PT02\n",
    }
    job = import_job_run(job_id=zip_job(members).pk)
    assert (job.imported_count, job.error_count) == (3, 3)
    assert job.message == "3 imported, 3 refused."
    got = _positions("CL1")
    assert got == {"old_pt01.jpg": "PT01", "CL1-1.png": "MAIN", "a.jpg": "PT02",
                   "CL1_PT03.jpg": "PT03"}
    first = {a.original_filename: a.pk for a in ImageAsset.live.filter(product=product)}
    tail = "; not stored. Delete that image first, or give this file another position."
    assert issues(job) == {
        "CL1_MAIN.jpg": f"Position MAIN of CL1 is already taken by CL1-1.png "
                        f"(asset #{first['CL1-1.png']}, from this import){tail}",
        "CL1_PT01.jpg": f"Position PT01 of CL1 is already taken by old_pt01.jpg "
                        f"(asset #{old.pk}, uploaded {old.uploaded_at:%Y-%m-%d}){tail}",
        "CL1-3.jpg": f"Position PT02 of CL1 is already taken by a.jpg "
                     f"(asset #{first['a.jpg']}, from this import){tail}",
    }
    # the same rule for a server folder (manage.py import_images)
    folder = tmp_path / "shoot"
    folder.mkdir()
    (folder / "CL1_PT03.jpg").write_bytes(jpeg_bytes(seed=37))
    job = import_job_create(user=None, source_kind="folder", source_path=str(folder),
                            enqueue=False)
    job = import_job_run(job_id=job.pk)
    assert (job.imported_count, job.error_count) == (0, 1)
    assert "Position PT03 of CL1 is already taken by CL1_PT03.jpg" in issues(job)["CL1_PT03.jpg"]


def test_it_moves_a_file_placed_by_name_order_out_of_an_explicit_position(storage):
    members = {"SHOE/IMG_0001.jpg": jpeg_bytes(seed=41), "SHOE/SHOE_MAIN.jpg": jpeg_bytes(seed=42)}
    job = import_job_run(job_id=zip_job(members, create_products=True).pk)
    assert (job.imported_count, job.error_count) == (2, 0)
    assert _positions("SHOE") == {"SHOE_MAIN.jpg": "MAIN", "IMG_0001.jpg": "PT01"}
    moved = ImageAsset.live.get(original_filename="IMG_0001.jpg")
    assert issues(job) == {"SHOE/SHOE_MAIN.jpg": (
        f"SHOE_MAIN.jpg takes MAIN of SHOE, as its name or manifest row says; IMG_0001.jpg "
        f"(asset #{moved.pk}), placed there by name order, moves to PT01.")}


def test_it_applies_the_one_image_per_position_rule_in_a_browser_session(storage):
    ProductFactory(sku="SES")
    job = import_job_create(user=None, source_kind="upload", expected_files=4)
    # the unpositioned file arrives first and takes MAIN; the named one still gets MAIN
    results = _session_send(job, ["SES/IMG_0001.jpg", "SES_MAIN.jpg", "SES-1.jpg",
                                  "SES_PT01.jpg"])
    assert results["SES_MAIN.jpg"].asset.position == "MAIN"
    refused = results["SES-1.jpg"]
    assert (refused.status, refused.code) == ("rejected", "position_taken")
    assert refused.reason.startswith(
        f"Position MAIN of SES is already taken by SES_MAIN.jpg "
        f"(asset #{results['SES_MAIN.jpg'].asset.pk}, from this import); not stored.")
    # IMG_0001 moved out of MAIN to PT01, then out of PT01 for SES_PT01
    assert results["SES_PT01.jpg"].asset.position == "PT01"
    job = import_job_finish(job_id=job.pk)
    assert _positions("SES") == {"SES_MAIN.jpg": "MAIN", "SES_PT01.jpg": "PT01",
                                 "IMG_0001.jpg": "PT02"}
    assert (job.imported_count, job.error_count) == (3, 1)

import io
import json
import os
import time

import pytest
from django.core.management import CommandError, call_command

from catalog.models import ImageAsset, ImportJob, Product
from tests.catalog.imagegen import jpeg_bytes, zip_bytes
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


def test_it_imports_a_server_folder_and_prints_every_bad_file(storage, tmp_path):
    shoot = tmp_path / "shoot"
    (shoot / "SKU2").mkdir(parents=True)
    (shoot / "SKU1-1.jpg").write_bytes(jpeg_bytes(seed=1))
    (shoot / "SKU1-2.jpg").write_bytes(jpeg_bytes(seed=2))
    (shoot / "SKU2" / "front.jpg").write_bytes(jpeg_bytes(seed=3))
    (shoot / "SKU3-1.jpg").write_bytes(b"broken")
    os.symlink("/etc/passwd", shoot / "SKU1-3.jpg")
    out = run("import_images", str(shoot), "--pattern", "{sku}-{n}.jpg", "--create-products")
    assert "ERROR SKU3-1.jpg: Not an image" in out
    assert "ERROR SKU1-3.jpg: Refused: symbolic link." in out
    # SKU3's only file is refused, so no empty SKU3 product is left behind.
    assert "done: 3 imported, 2 refused, 2 products created." in out
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["SKU1", "SKU2"]
    positions = dict(ImageAsset.objects.values_list("original_filename", "position"))
    assert positions == {"SKU1-1.jpg": "MAIN", "SKU1-2.jpg": "PT01", "front.jpg": "MAIN"}
    assert ImportJob.objects.get().source_kind == "folder"


def test_it_imports_a_zip_with_a_latin1_manifest(storage, tmp_path):
    archive = tmp_path / "shoot.zip"
    archive.write_bytes(zip_bytes({"a.jpg": jpeg_bytes(seed=1)}))
    manifest = tmp_path / "m.csv"
    manifest.write_bytes("sku,title,filename\nK1,Crème,a.jpg\n".encode("latin-1"))
    out = run("import_images", str(archive), "--csv", str(manifest), "--encoding", "latin-1")
    assert "done: 1 imported" in out
    assert Product.objects.get(sku="K1").title == "Crème"


def test_it_stops_with_the_manifest_error(storage, tmp_path):
    archive = tmp_path / "shoot.zip"
    archive.write_bytes(zip_bytes({"a.jpg": jpeg_bytes()}))
    manifest = tmp_path / "m.csv"
    manifest.write_bytes("sku,title\nK1,Crème\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not valid UTF-8"):
        run("import_images", str(archive), "--csv", str(manifest))
    assert not ImportJob.objects.exists()


def test_it_purges_with_a_dry_run_first(storage, tmp_path):
    ProductFactory()
    storage.save("originals/ab/cd/" + "a" * 64 + ".jpg", io.BytesIO(b"orphan"))
    path = tmp_path / "media" / "originals" / "ab" / "cd" / ("a" * 64 + ".jpg")
    old = time.time() - 40 * 86400
    os.utime(path, (old, old))
    assert "Would delete 1 files" in run("purge", "--dry-run")
    assert path.exists()
    assert "Deleted 0 files" in run("purge", "--days", "60")
    assert "Deleted 1 files" in run("purge")
    assert not path.exists()


@pytest.mark.slow
@pytest.mark.worker
def test_it_benchmarks_a_small_import_through_a_real_worker(tmp_path):
    report_path = tmp_path / "bench.json"
    out = run("import_benchmark", "6", "--side", "700", "--json", str(report_path))
    report = json.loads(report_path.read_text())
    assert "import/baseline time ratio" in out
    assert "import/bare loop throughput: wall " in out and "(target >= 0.5)" in out
    assert report["job"]["status"] == "done"
    assert report["job"]["imported"] == 6  # the one bad entry is the '../escape.jpg'
    assert report["job"]["errors"] == 1
    assert 0 < report["worker_peak_rss_mb"] < 400
    # The bare loop decodes and saves the same six photos as working copies.
    assert report["bare"]["saved"] == 6 and report["bare"]["failed"] == 0
    assert [row["run"] for row in report["rows"]] == [
        "baseline: copy entries to storage", "bare loop: decode+transpose+save",
        "import via worker"]
    import_row = report["rows"][2]
    assert import_row["cpu_seconds"] > 0
    assert report["throughput_ratio_wall"] == pytest.approx(
        report["bare"]["seconds"] / report["job"]["seconds"], rel=1e-2)
    assert report["throughput_ratio_cpu"] == pytest.approx(
        report["bare"]["cpu_seconds"] / report["job"]["cpu_seconds"], rel=1e-2)
    assert report["target_ratio"] == 0.5


def test_it_refuses_a_single_photo_before_making_an_import(storage, tmp_path):
    photo = tmp_path / "SKU1-1.jpg"
    photo.write_bytes(jpeg_bytes(seed=1))
    with pytest.raises(CommandError, match="not a ZIP file.*folder of images or a .zip"):
        run("import_images", str(photo))
    assert not ImportJob.objects.exists()


def test_it_refuses_an_invalid_email_before_asking_for_a_password():
    from django.contrib.auth import get_user_model

    # No --password: a valid address would stop at the missing terminal instead.
    with pytest.raises(CommandError, match="'notanemail' is not a valid e-mail address"):
        run("create_user", "rita", "--role", "reviewer", "--email", "notanemail")
    assert not get_user_model().objects.exists()


def test_it_makes_a_superuser_when_users_exist_already():
    from django.contrib.auth import get_user_model

    run("create_user", "rita", "--role", "reviewer", "--password", "s3cret-enough-1")
    run("create_user", "root", "--role", "catalog manager", "--superuser",
        "--password", "s3cret-enough-2", "--email", "root@example.com")
    root = get_user_model().objects.get(username="root")
    assert root.is_superuser and root.is_staff and root.groups.get().name == "catalog manager"


def test_it_says_an_import_cancelled_before_its_run_did_not_run(storage, tmp_path, monkeypatch):
    # import_job_run answers None when its claim fails (cancelled on the Imports page between
    # the command's create and its run): a CommandError, not an AttributeError on None
    from catalog.models import JobStatus
    from catalog.services import import_runner

    shoot = tmp_path / "shoot"
    shoot.mkdir()
    (shoot / "SKU1-1.jpg").write_bytes(jpeg_bytes(seed=1))
    real_run = import_runner.import_job_run

    def cancelled_first(*, job_id, **kwargs):
        ImportJob.objects.filter(pk=job_id).update(status=JobStatus.CANCELLED)
        return real_run(job_id=job_id, **kwargs)

    monkeypatch.setattr(import_runner, "import_job_run", cancelled_first)
    with pytest.raises(CommandError, match=r"Import #\d+ did not run here: it is cancelled"):
        run("import_images", str(shoot), "--pattern", "{sku}-{n}.jpg", "--create-products")
    assert not ImageAsset.objects.exists()

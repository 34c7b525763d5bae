import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import selectors
from catalog.models import ImportIssue, Product
from catalog.services import products
from tests.factories import ImageAssetFactory, ImportJobFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_it_lists_a_page_of_products_with_their_assets_in_two_queries():
    for n in range(30):
        product = ProductFactory(sku=f"P{n:03d}")
        for position in ("MAIN", "PT01")[: n % 3]:
            ImageAssetFactory(product=product, position=position)
    with CaptureQueriesContext(connection) as queries:
        page = list(selectors.product_list()[:25])
        shown = [(p.sku, p.asset_count, [a.position for a in p.live_assets]) for p in page]
    assert len(queries) == 2
    assert shown[1] == ("P001", 1, ["MAIN"])
    assert shown[2] == ("P002", 2, ["MAIN", "PT01"])


def test_it_searches_sku_title_and_gtin_and_filters():
    ProductFactory(sku="BOOT-1", title="Red boot", brand="Acme", gtin="4006381333931")
    ProductFactory(sku="HAT-1", title="Blue hat", brand="Other", category="Hats")
    ProductFactory(sku="BOOT-2", deleted_at=timezone.now())
    assert [p.sku for p in selectors.product_list(search="boot")] == ["BOOT-1"]
    assert [p.sku for p in selectors.product_list(search="400638")] == ["BOOT-1"]
    assert [p.sku for p in selectors.product_list(brand="Other")] == ["HAT-1"]
    assert [p.sku for p in selectors.product_list(category="Hats")] == ["HAT-1"]
    assert selectors.product_facets() == {"brands": ["Acme", "Other"], "categories": ["Hats",
                                                                                     "Shoes"]}


def test_it_filters_by_asset_status_and_counts_statuses():
    approved = ImageAssetFactory(status="approved").product
    ImageAssetFactory(status="uploaded", product=approved, position="PT01")
    ImageAssetFactory(status="uploaded")
    ImageAssetFactory(status="approved", deleted_at=timezone.now())
    assert list(selectors.product_list(status="approved")) == [approved]
    counts = selectors.asset_status_counts()
    assert counts["approved"] == 1 and counts["uploaded"] == 2 and counts["exported"] == 0


def test_it_pages_through_50000_products_in_two_queries():
    Product.objects.bulk_create(
        Product(sku=f"GEN-{n:06d}", title=f"Generated {n}", brand=f"B{n % 40}",
                category=f"C{n % 25}")
        for n in range(50_000)
    )
    with CaptureQueriesContext(connection) as queries:
        page = list(selectors.product_list(brand="B7")[1000:1050])
    assert len(page) == 50 and page[0].sku == "GEN-040007"
    assert len(queries) == 2


def test_it_writes_the_import_report_with_formula_cells_escaped():
    job = ImportJobFactory()
    ImportIssue.objects.create(job=job, filename="=cmd|' /C calc'!A0.jpg", reason="Not an image")
    ImportIssue.objects.create(job=job, filename="ok.jpg", reason="-5 px", level="warning")
    rows = list(csv.reader(io.StringIO(selectors.import_job_report_csv(job=job))))
    assert rows == [["filename", "level", "reason", "sku", "position", "asset_id", "status"],
                    ["'=cmd|' /C calc'!A0.jpg", "error", "Not an image", "", "", "", "refused"],
                    ["ok.jpg", "warning", "'-5 px", "", "", "", ""]]


def test_it_names_a_stored_file_by_its_import_path_and_a_warning_by_its_image():
    job = ImportJobFactory()
    product = ProductFactory(sku="RP-1")
    zipped = ImageAssetFactory(product=product, position="MAIN", import_job=job,
                               original_filename="IMG_1.jpg", import_path="shoot/RP-1/IMG_1.jpg")
    # a row from before import_path: its base name, not a guessed path
    older = ImageAssetFactory(product=product, position="PT01", import_job=job,
                              original_filename="IMG_2.jpg")
    ImportIssue.objects.create(job=job, filename="shoot/RP-1/IMG_1.jpg", level="warning",
                               reason="Small image", sku="RP-1", position="MAIN",
                               asset_pk=zipped.pk)
    rows = list(csv.reader(io.StringIO(selectors.import_job_report_csv(job=job))))
    assert rows[1:] == [
        ["shoot/RP-1/IMG_1.jpg", "warning", "Small image", "RP-1", "MAIN", str(zipped.pk), ""],
        ["shoot/RP-1/IMG_1.jpg", "", "", "RP-1", "MAIN", str(zipped.pk), "stored"],
        ["IMG_2.jpg", "", "", "RP-1", "PT01", str(older.pk), "stored"]]


def test_it_reports_job_progress_for_polling():
    job = ImportJobFactory(progress_done=5, progress_total=20, imported_count=4, error_count=1)
    progress = selectors.import_job_progress(pk=job.pk)
    assert (progress["percent"], progress["finished"], progress["errors"]) == (25, False, 1)


GTIN = "4006381333931"


def test_it_reads_the_gtin_warning_in_the_selectors_only():
    assert not hasattr(products, "product_gtin_warning")
    assert not hasattr(products, "products_sharing_gtin")
    ProductFactory(sku="A-1", gtin=GTIN)
    assert "A-1" in selectors.product_gtin_warning(product=ProductFactory(sku="B-1", gtin=GTIN))


def test_it_reads_each_images_newest_cutout_version_leaving_cancelled_ones_out():
    from cutouts.models import Cutout

    main, side, bare = (ImageAssetFactory(position=p) for p in ("MAIN", "PT01", "PT02"))
    Cutout.objects.create(asset=main, version=1, status="done", review_status="approved")
    Cutout.objects.create(asset=main, version=2, status="running", progress=30, stage="Masking",
                          attempts=2)
    Cutout.objects.create(asset=main, version=3, status="cancelled")
    # an older cancelled version must not hide the image (an exclude through the relation
    # would drop it)
    Cutout.objects.create(asset=side, version=1, status="cancelled")
    failed = Cutout.objects.create(asset=side, version=2, status="failed", error="boom")
    with CaptureQueriesContext(connection) as queries:
        runs = selectors.asset_runs(asset_ids=[main.pk, side.pk, bare.pk])
    assert len(queries) == 1
    assert set(runs) == {main.pk, side.pk}
    assert (runs[main.pk].version, runs[main.pk].status, runs[main.pk].progress,
            runs[main.pk].stage) == (2, "running", 30, "Masking")
    assert runs[main.pk].is_active and not runs[main.pk].awaiting_review
    # its first run stopped: the tile says so, as its bar starts again
    assert runs[main.pk].stage_label == "Masking (started again, run 2)"
    assert (runs[side.pk].cutout_id, runs[side.pk].error) == (failed.pk, "boom")
    assert not runs[side.pk].is_active
    assert selectors.asset_runs(asset_ids=[]) == {}


def test_it_counts_the_images_whose_newest_version_is_queued_or_running():
    from cutouts.models import Cutout

    product = ProductFactory()
    assets = [ImageAssetFactory(product=product, position=p) for p in ("MAIN", "PT01", "PT02")]
    for asset, status in zip(assets, ("queued", "running", "done"), strict=True):
        Cutout.objects.create(asset=asset, version=1, status=status)
    shown = selectors.product_detail_assets(product=product)
    assert selectors.asset_runs_active(assets=shown) == 2
    assert [a.run.awaiting_review for a in shown] == [False, False, True]
    Cutout.objects.filter(status__in=["queued", "running"]).update(status="done")
    assert selectors.asset_runs_active(
        assets=selectors.product_detail_assets(product=product)) == 0


def test_it_reads_which_sizes_and_hashes_live_images_have_in_one_query_each():
    first = ImageAssetFactory(product=ProductFactory(sku="A-1"), sha256="a" * 64, bytes=10)
    second = ImageAssetFactory(product=ProductFactory(sku="B-1"), position="PT03",
                               sha256="a" * 64, bytes=10)
    ImageAssetFactory(sha256="b" * 64, bytes=20, deleted_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        sizes = selectors.asset_sizes_stored(sizes=[10, 20, 30, 0])
        known = selectors.assets_by_sha256(hashes=["A" * 64, "b" * 64, "f" * 64])
    assert len(queries) == 2
    assert sizes == {10}
    assert known == {"a" * 64: [{"sku": "A-1", "position": "MAIN", "asset": first.pk},
                                {"sku": "B-1", "position": "PT03", "asset": second.pk}]}
    assert selectors.asset_sizes_stored(sizes=[]) == set()
    assert selectors.assets_by_sha256(hashes=[]) == {}


def test_it_reads_stored_sizes_by_the_live_bytes_index():
    ImageAssetFactory(bytes=10)
    # the size question comes with every drop on the upload page: no scan of every image
    if connection.vendor == "postgresql":
        # the plan of a test's few rows proves nothing on PostgreSQL (it joined through the
        # product, or took another partial index, by cost); ANALYZE would leave its row counts
        # in pg_class past the rollback, swaying other tests' plans. The index must exist as
        # the selector needs it: bytes, live rows only
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                           ["catalog_asset_bytes_live"])
            (definition,) = cursor.fetchone()
        assert "(bytes)" in definition and "WHERE (deleted_at IS NULL)" in definition
    else:
        plan = (selectors._stored_live().filter(bytes__in=[10, 30]).order_by()
                .values_list("bytes", flat=True).distinct().explain())
        assert "catalog_asset_bytes_live" in plan
    assert selectors.asset_sizes_stored(sizes=[10, 30]) == {10}


def test_it_maps_no_empty_file_in_the_import_preview():
    from catalog.ingest.images import EMPTY_REASON
    from catalog.ingest.naming import FilenameRules

    preview = selectors.import_preview(
        names=["E-1_MAIN.jpg", "F-1_MAIN.jpg", "notes.txt"], empty={"E-1_MAIN.jpg"},
        rules=FilenameRules.from_options({}), create_products=True)
    assert [g.sku for g in preview.groups] == ["F-1"]
    assert preview.empty == [("E-1_MAIN.jpg", EMPTY_REASON)]
    assert (preview.total, preview.mapped, preview.new_products) == (3, 1, 1)


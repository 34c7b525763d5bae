"""SKUs that differ only in case name one product (their export folders would collide on
macOS and Windows): imports match them ignoring case, and nothing makes a case twin."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from catalog.ingest.manifest import parse_manifest
from catalog.ingest.naming import FilenameRules
from catalog.models import ImageAsset, Product
from catalog.selectors import import_preview
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_create, import_job_upload_file
from catalog.services.products import product_create, product_sku_twin, product_upsert
from tests.catalog.imagegen import jpeg_bytes
from tests.catalog.test_services import issues, zip_job
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def legacy_twins():
    """An install that made live case twins before the database refused them: the constraint
    is dropped inside the test's transaction, which brings it back."""
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX catalog_product_sku_upper_live")


def _skus() -> list[str]:
    return sorted(Product.objects.values_list("sku", flat=True))


def _on(sku: str) -> dict[str, str]:
    return dict(ImageAsset.live.filter(product__sku=sku)
                .values_list("original_filename", "position"))


def _preview(names, *, create=False, manifest: bytes | None = None):
    return import_preview(
        names=names, rules=FilenameRules(), create_products=create,
        manifest=parse_manifest(manifest, name="manifest.csv") if manifest else None)


# --- Products ---------------------------------------------------------------------------------


def test_it_refuses_to_create_a_case_twin_naming_the_product():
    shoe = ProductFactory(sku="SHOE-77")
    with pytest.raises(ValidationError) as info:
        product_create(sku="shoe-77", gtin="4006381333932")
    errors = info.value.message_dict
    assert errors["sku"] == [
        f"SKU shoe-77 differs only in case from product SHOE-77 (#{shoe.pk}); their export "
        "folders would collide on macOS and Windows. Use that product, or another SKU."]
    assert "gtin" in errors  # every field's message at once, as before
    assert _skus() == ["SHOE-77"]


def test_it_finds_the_live_case_twin_only():
    shoe = ProductFactory(sku="SHOE-77")
    assert product_sku_twin("shoe-77") == shoe
    assert product_sku_twin("SHOE-77") is None  # the exact SKU is not its own twin
    assert product_sku_twin("shoe-77", exclude_pk=shoe.pk) is None
    assert product_sku_twin("shoe_77") is None  # '_' is no wildcard
    shoe.deleted_at = shoe.updated_at
    shoe.save()
    assert product_sku_twin("shoe-77") is None
    assert product_create(sku="shoe-77").sku == "shoe-77"


def test_it_refuses_an_upsert_by_a_case_variant():
    ProductFactory(sku="SHOE-77")
    with pytest.raises(ValidationError, match="differs only in case from product SHOE-77"):
        product_upsert(sku="shoe-77", title="x")
    assert _skus() == ["SHOE-77"]


# --- Imports ----------------------------------------------------------------------------------


def test_it_puts_a_lower_case_file_on_the_upper_case_product(storage):
    ProductFactory(sku="SHOE-77")
    job = import_job_run(job_id=zip_job({"shoe-77_main.jpg": jpeg_bytes(seed=1)}).pk)
    assert (job.imported_count, job.error_count) == (1, 0)
    assert _on("SHOE-77") == {"shoe-77_main.jpg": "MAIN"}


def test_it_makes_no_twin_for_a_lower_case_file_with_create_products_on(storage):
    ProductFactory(sku="SHOE-77")
    job = zip_job({"shoe-77_main.jpg": jpeg_bytes(seed=1),
                   "Bag-5/IMG_0001.jpg": jpeg_bytes(seed=2),
                   "BAG-5_pt01.jpg": jpeg_bytes(seed=3)}, create_products=True)
    job = import_job_run(job_id=job.pk)
    assert (job.imported_count, job.products_created) == (3, 1)
    # the first name in name order (archives.name_order_key) makes the product
    assert _skus() == ["BAG-5", "SHOE-77"]
    assert _on("SHOE-77") == {"shoe-77_main.jpg": "MAIN"}
    assert _on("BAG-5") == {"BAG-5_pt01.jpg": "PT01", "IMG_0001.jpg": "MAIN"}


def test_it_lets_an_exact_match_win_over_one_ignoring_case(storage):
    ProductFactory(sku="abc")
    ProductFactory(sku="ABC-1")
    # read as ABC image 1 (ignoring case: abc) and as ABC-1 (exactly): the exact one wins
    job = import_job_run(job_id=zip_job({"ABC-1.jpg": jpeg_bytes(seed=1)}).pk)
    assert job.imported_count == 1 and _on("ABC-1") == {"ABC-1.jpg": "MAIN"}


def test_it_refuses_a_file_matching_existing_twins_ignoring_case_naming_both(storage,
                                                                            legacy_twins):
    # an install that made twins before the check: neither is guessed
    Product.objects.bulk_create([Product(sku="Shoe-77"), Product(sku="SHOE-77")])
    job = import_job_run(job_id=zip_job({"shoe-77_main.jpg": jpeg_bytes(seed=1),
                                         "SHOE-77_pt01.jpg": jpeg_bytes(seed=2)},
                                        create_products=True).pk)
    assert job.imported_count == 1 and _on("SHOE-77") == {"SHOE-77_pt01.jpg": "PT01"}
    assert issues(job)["shoe-77_main.jpg"] == (
        "SKU shoe-77 matches products SHOE-77 and Shoe-77 ignoring case, and none exactly: "
        "use one of these SKUs exactly.")
    assert _skus() == ["SHOE-77", "Shoe-77"]


def test_it_stops_a_file_whose_product_in_other_case_is_deleted(storage):
    ProductFactory(sku="GONE-1", deleted_at="2026-01-01T00:00:00Z")
    job = import_job_run(job_id=zip_job({"gone-1_main.jpg": jpeg_bytes(seed=1)},
                                        create_products=True).pk)
    assert issues(job)["gone-1_main.jpg"] == "Product GONE-1 is deleted."
    assert _skus() == ["GONE-1"]


@pytest.mark.parametrize("fold_scans", [8, 0])  # one scan per SKU / every SKU read once
def test_it_maps_a_lower_case_manifest_row_to_the_product(storage, monkeypatch, fold_scans):
    from catalog.services.import_mapping import ImportRun

    monkeypatch.setattr(ImportRun, "FOLD_SCANS", fold_scans)
    ProductFactory(sku="SHOE-77", title="Old")
    manifest = (b"sku,title,filename,position\nshoe-77,New title,IMG_0001.jpg,PT02\n"
                b"NEW-3,Made,IMG_0002.jpg,\n")
    job = import_job_run(job_id=zip_job({"manifest.csv": manifest,
                                         "IMG_0001.jpg": jpeg_bytes(seed=1),
                                         "IMG_0002.jpg": jpeg_bytes(seed=2),
                                         "new-3_pt01.jpg": jpeg_bytes(seed=3)}).pk)
    assert (job.imported_count, job.products_created, job.products_updated) == (3, 1, 1)
    assert _skus() == ["NEW-3", "SHOE-77"]
    assert Product.objects.get(sku="SHOE-77").title == "New title"
    assert _on("SHOE-77") == {"IMG_0001.jpg": "PT02"}
    # a file read by the naming rules finds the product the manifest made, in other case
    assert _on("NEW-3") == {"IMG_0002.jpg": "MAIN", "new-3_pt01.jpg": "PT01"}
    ImageAsset.objects.all().delete()
    Product.objects.filter(sku="NEW-3").delete()  # the preview comes before the import
    preview = _preview(["IMG_0001.jpg", "IMG_0002.jpg", "new-3_pt01.jpg"], manifest=manifest)
    assert [(g.sku, g.new, len(g.files)) for g in preview.groups] == [
        ("NEW-3", True, 2), ("SHOE-77", False, 1)]


def test_it_refuses_the_second_spelling_of_a_new_sku_in_a_manifest(storage):
    manifest = (b"sku,title,filename\nNEW-1,Boot,a.jpg\nnew-1,Other,b.jpg\n"
                b"New-2,,c.jpg\n")
    members = {"manifest.csv": manifest, "a.jpg": jpeg_bytes(seed=1),
               "b.jpg": jpeg_bytes(seed=2), "c.jpg": jpeg_bytes(seed=3),
               "new-2_pt01.jpg": jpeg_bytes(seed=4)}
    job = import_job_run(job_id=zip_job(members).pk)
    assert _skus() == ["NEW-1", "New-2"]
    assert (job.imported_count, job.products_created) == (3, 2)
    assert _on("NEW-1") == {"a.jpg": "MAIN"}
    assert _on("New-2") == {"c.jpg": "MAIN", "new-2_pt01.jpg": "PT01"}
    why = ("manifest.csv line 3: SKU new-1 differs only in case from SKU NEW-1 (line 2), the "
           "same product: use one spelling (export folders that differ only in case collide "
           "on macOS and Windows).")
    reported = issues(job)
    assert reported["b.jpg"] == why
    # the line's refusal is reported once, on its file (the summary counts files)
    assert "manifest.csv" not in reported and job.error_count == 1


def test_it_keeps_the_products_own_spelling_among_manifest_rows(storage):
    ProductFactory(sku="shoe-77")
    manifest = b"sku,filename\nSHOE-77,a.jpg\nshoe-77,b.jpg\n"
    job = import_job_run(job_id=zip_job({"manifest.csv": manifest, "a.jpg": jpeg_bytes(seed=1),
                                         "b.jpg": jpeg_bytes(seed=2)}).pk)
    assert _on("shoe-77") == {"b.jpg": "MAIN"} and job.imported_count == 1
    assert "SKU SHOE-77 differs only in case from SKU shoe-77 (line 3)" in issues(job)["a.jpg"]


def test_it_refuses_a_manifest_twin_in_every_request_of_an_upload_session(storage):
    manifest = ContentFile(b"sku,filename\nNEW-1,a.jpg\nnew-1,b.jpg\n", name="m.csv")
    job = import_job_create(user=None, source_kind="upload", expected_files=2,
                            manifest_file=manifest)
    sent = {name: import_job_upload_file(job_id=job.pk, fileobj=ContentFile(
        jpeg_bytes(seed=n)), filename=name) for n, name in enumerate(["a.jpg", "b.jpg"])}
    assert sent["a.jpg"].status == "stored"
    assert sent["b.jpg"].status == "rejected"
    assert "differs only in case from SKU NEW-1" in sent["b.jpg"].reason
    assert _skus() == ["NEW-1"]


def test_it_uses_a_twin_a_concurrent_upload_made_instead_of_failing(storage):
    from catalog.services.assets import asset_ingest

    ProductFactory(sku="RACE-9")  # made after this import read the SKU as new
    result = asset_ingest(product=Product(sku="race-9"), fileobj=ContentFile(jpeg_bytes()),
                          filename="race-9_main.jpg", position="MAIN")
    assert result.status == "stored" and result.asset.product.sku == "RACE-9"
    assert not result.product_created and _skus() == ["RACE-9"]


# --- The preview agrees -----------------------------------------------------------------------


def test_it_previews_case_variants_as_the_import_maps_them(storage, legacy_twins):
    ProductFactory(sku="SHOE-77")
    Product.objects.bulk_create([Product(sku="Twin-1"), Product(sku="TWIN-1")])
    names = ["shoe-77_main.jpg", "twin-1_main.jpg", "Bag-5/IMG_0001.jpg", "BAG-5_pt01.jpg"]
    preview = _preview(names, create=True)
    groups = {g.sku: (g.new, [f[0] for f in g.files]) for g in preview.groups}
    assert groups == {"SHOE-77": (False, ["shoe-77_main.jpg"]),
                      "BAG-5": (True, ["BAG-5_pt01.jpg", "Bag-5/IMG_0001.jpg"])}
    assert dict(preview.unmapped)["twin-1_main.jpg"].startswith(
        "SKU twin-1 matches products TWIN-1 and Twin-1 ignoring case")
    rule = next(g for g in preview.groups if g.sku == "SHOE-77").files[0][2]
    assert rule == "{sku}_{position}.jpg (SKU shoe-77, matched ignoring case)"
    job = import_job_run(job_id=zip_job({n: jpeg_bytes(seed=i) for i, n in enumerate(names)},
                                        create_products=True).pk)
    assert (job.imported_count, job.products_created) == (3, 1)
    assert _on("SHOE-77") == {"shoe-77_main.jpg": "MAIN"}
    assert len(_on("BAG-5")) == 2
    assert set(issues(job)) == set(dict(preview.unmapped))


def test_it_previews_a_manifest_twin_row_as_refused(storage):
    manifest = b"sku,filename\nNEW-1,a.jpg\nnew-1,b.jpg\n"
    preview = _preview(["a.jpg", "b.jpg", "new-1_pt02.jpg"], manifest=manifest)
    assert [(g.sku, g.new, len(g.files)) for g in preview.groups] == [("NEW-1", True, 1)]
    unmapped = dict(preview.unmapped)
    assert "differs only in case from SKU NEW-1" in unmapped["b.jpg"]
    assert "differs only in case from SKU NEW-1" in unmapped["new-1_pt02.jpg"]


# --- Admin ------------------------------------------------------------------------------------


def test_it_shows_the_case_twin_refusal_on_the_admin_form(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-long-enough")
    client.force_login(user)
    shoe = ProductFactory(sku="SHOE-77")
    response = client.post(reverse("admin:catalog_product_add"), {"sku": "shoe-77"})
    assert response.status_code == 200
    assert (f"SKU shoe-77 differs only in case from product SHOE-77 (#{shoe.pk})"
            in response.content.decode())
    assert _skus() == ["SHOE-77"]


def test_it_shows_the_case_twin_refusal_on_the_new_product_page(client):
    client.force_login(get_user_model().objects.create_superuser("boss", "b@example.com",
                                                                 "pw-long-enough"))
    ProductFactory(sku="SHOE-77")
    response = client.post(reverse("catalog:product_create"), {"sku": "shoe-77"})
    assert response.status_code == 400
    assert "differs only in case from product SHOE-77" in response.content.decode()
    assert _skus() == ["SHOE-77"]


def test_it_matches_ignoring_case_the_same_once_a_run_reads_every_sku(storage, monkeypatch,
                                                                     legacy_twins):
    from catalog.services.import_mapping import ImportRun

    monkeypatch.setattr(ImportRun, "FOLD_SCANS", 0)  # the big import's path from the start
    ProductFactory(sku="SHOE-77")
    Product.objects.bulk_create([Product(sku="Twin-1"), Product(sku="TWIN-1")])
    names = ["shoe-77_main.jpg", "twin-1_main.jpg", "Bag-5/IMG_0001.jpg", "BAG-5_pt01.jpg"]
    job = import_job_run(job_id=zip_job({n: jpeg_bytes(seed=i) for i, n in enumerate(names)},
                                        create_products=True).pk)
    assert (job.imported_count, job.products_created) == (3, 1)
    assert _on("SHOE-77") == {"shoe-77_main.jpg": "MAIN"} and len(_on("BAG-5")) == 2
    assert list(issues(job)) == ["twin-1_main.jpg"]
    assert _skus() == ["BAG-5", "SHOE-77", "TWIN-1", "Twin-1"]


# --- Bulk edit from a CSV ---------------------------------------------------------------------


def _bulk(text: str) -> list[tuple[str, str, str]]:
    from tests.catalog.test_product_bulk import bulk_edit

    return list(bulk_edit(text).lines.values_list("sku", "outcome", "message"))


def test_it_bulk_edits_a_product_named_in_another_case():
    ProductFactory(sku="SHOE-77", brand="Old")
    assert _bulk("sku,brand\nshoe-77,Acme\nShoe-77,Acme\n") == [
        ("shoe-77", "updated", "brand (product SHOE-77, matched ignoring case)"),
        ("Shoe-77", "unchanged", "product SHOE-77, matched ignoring case")]
    assert Product.objects.get(sku="SHOE-77").brand == "Acme"
    assert _skus() == ["SHOE-77"]


def test_it_bulk_edits_the_exact_sku_before_one_in_another_case(legacy_twins):
    ProductFactory(sku="SHOE-77", brand="")
    ProductFactory(sku="Shoe-77", brand="")
    ProductFactory(sku="shoe-77", brand="", deleted_at="2026-01-01T00:00:00Z")
    ProductFactory(sku="GONE-1", brand="", deleted_at="2026-01-01T00:00:00Z")
    assert _bulk("sku,brand\nShoe-77,Acme\nshoe-77,Acme\nSHOE-77,Bolt\ngone-1,X\n") == [
        ("Shoe-77", "updated", "brand"),
        # the exact SKU is a deleted product's: not sent to a live one in another case
        ("shoe-77", "unknown SKU", "Product shoe-77 is deleted."),
        ("SHOE-77", "updated", "brand"),
        ("gone-1", "unknown SKU", "Product GONE-1 is deleted.")]
    assert dict(Product.objects.values_list("sku", "brand")) == {
        "SHOE-77": "Bolt", "Shoe-77": "Acme", "shoe-77": "", "GONE-1": ""}


def test_it_refuses_a_bulk_line_matching_twins_only_ignoring_case_naming_both(legacy_twins):
    ProductFactory(sku="SHOE-77", brand="")
    ProductFactory(sku="Shoe-77", brand="")
    assert _bulk("sku,brand\nshoe-77,Acme\n") == [(
        "shoe-77", "invalid",
        "SKU shoe-77 matches products SHOE-77 and Shoe-77 ignoring case, and none exactly: "
        "use one of these SKUs exactly.")]
    assert set(Product.objects.values_list("brand", flat=True)) == {""}


# --- The database refuses live case twins -----------------------------------------------------


def test_it_refuses_live_case_twins_in_the_database():
    Product.objects.create(sku="SHOE-77")
    Product.objects.create(sku="Shoe-77", deleted_at="2026-01-01T00:00:00Z")  # deleted: kept
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(sku="shoe-77")
    assert _skus() == ["SHOE-77", "Shoe-77"]


def _racing(monkeypatch, make: str, *, on_call: int = 1) -> list[Product]:
    """``product_sku_twin`` answers None on its ``on_call``-th call, as a check made just before
    another request saved ``make`` would, and that save happens then. (On one connection it
    is rolled back with the refused call; another request's would stay.)"""
    from catalog.services import products as product_services

    real = product_services.product_sku_twin
    calls, made = [], []

    def twin(sku, **kwargs):
        calls.append(sku)
        if len(calls) == on_call:
            made.append(ProductFactory(sku=make))
            return None
        return real(sku, **kwargs)

    monkeypatch.setattr(product_services, "product_sku_twin", twin)
    return made


def test_it_refuses_a_case_twin_saved_meanwhile_naming_it(monkeypatch):
    made = _racing(monkeypatch, "SHOE-77")
    with pytest.raises(ValidationError) as info:
        product_create(sku="shoe-77")
    assert info.value.message_dict == {"sku": [
        f"SKU shoe-77 differs only in case from product SHOE-77 (#{made[0].pk}); their export "
        "folders would collide on macOS and Windows. Use that product, or another SKU."]}
    assert "shoe-77" not in _skus()  # and the caller's transaction is still usable


def test_it_refuses_a_restore_once_a_case_twin_was_made_live_meanwhile(monkeypatch):
    from catalog.errors import ProductRestoreError
    from catalog.services.products import product_restore, product_soft_delete

    gone = product_soft_delete(product=ProductFactory(sku="shoe-77"))
    _racing(monkeypatch, "SHOE-77")
    with pytest.raises(ProductRestoreError, match="differs only in case from product SHOE-77"):
        product_restore(product=gone)
    gone.refresh_from_db()
    assert gone.deleted_at is not None


def test_it_shows_a_case_twin_saved_meanwhile_on_the_admin_add_page(client, monkeypatch):
    client.force_login(get_user_model().objects.create_superuser(
        "root", "root@example.com", "pw-long-enough"))
    _racing(monkeypatch, "SHOE-77", on_call=2)  # the form's check passed; the service's too
    url = reverse("admin:catalog_product_add")
    response = client.post(url, {"sku": "shoe-77"}, follow=True)
    assert response.status_code == 200 and response.redirect_chain == [(url, 302)]
    assert "differs only in case from product SHOE-77" in response.content.decode()
    assert "shoe-77" not in _skus()


def test_it_does_not_repeat_the_case_refusal_without_the_product():
    ProductFactory(sku="SHOE-77")
    with pytest.raises(ValidationError) as info:
        product_create(sku="shoe-77")
    assert list(info.value.message_dict) == ["sku"]  # not the constraint's general message


def test_it_looks_skus_up_ignoring_case_by_index():
    from catalog.services.products import products_sku_folded

    ProductFactory(sku="SHOE-77")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a few rows: the planner would read them all
            cursor.execute("SET LOCAL enable_seqscan = off")
    plan = products_sku_folded(["shoe-77", "bag-5"]).explain()
    assert "catalog_product_sku_upper" in plan
    assert [p.sku for p in products_sku_folded(["shoe-77"])] == ["SHOE-77"]


def test_it_names_live_case_twins_that_stop_the_migration(legacy_twins):
    import importlib

    from django.apps import apps
    from django.core.management.base import CommandError

    migration = importlib.import_module("catalog.migrations.0008_product_sku_case_unique")
    migration.refuse_live_case_twins(apps, None)  # none yet: nothing to say
    for sku in ("Shoe-77", "SHOE-77", "A-1", "a-1", "B-2"):
        ProductFactory(sku=sku)
    ProductFactory(sku="b-2", deleted_at="2026-01-01T00:00:00Z")  # a deleted twin may stay
    ids = dict(Product.objects.values_list("sku", "pk"))
    with pytest.raises(CommandError) as info:
        migration.refuse_live_case_twins(apps, None)
    text = str(info.value)
    assert "2 groups of live products" in text
    assert f"A-1 (#{ids['A-1']}), a-1 (#{ids['a-1']})" in text
    assert f"SHOE-77 (#{ids['SHOE-77']}), Shoe-77 (#{ids['Shoe-77']})" in text
    assert "B-2" not in text and "delete the others" in text

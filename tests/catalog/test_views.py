import hashlib
import html
import io
import re
import zipfile
from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse
from django.utils import timezone

from catalog.ingest import archives
from catalog.ingest.images import IMAGE_EXTENSIONS
from catalog.ingest.skus import SKU_RULE
from catalog.models import AssetStatus, ImageAsset, ImportIssue, ImportJob, Product
from catalog.services.assets import asset_ingest, asset_soft_delete, thumbnail_storage_name
from catalog.services.import_runner import import_job_run
from catalog.services.imports import import_job_cancel, import_job_create
from catalog.services.products import products_release_purged
from tests.catalog.imagegen import png_declaring, zip_bytes
from tests.factories import (
    ImageAssetFactory,
    ImportJobFactory,
    ProductFactory,
    UserFactory,
    manager,
    reviewer,
    stored_image,
)
from tests.images import product_jpeg

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
HTMX = {"HTTP_HX_REQUEST": "true"}


def upload(name: str, data: bytes, content_type: str = "image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def reviewer_client(client):
    client.force_login(reviewer())
    return client


def stored_asset(product, seed=0, **kwargs) -> ImageAsset:
    result = asset_ingest(
        product=product, fileobj=io.BytesIO(product_jpeg(700, 600, seed=seed)),
        filename=f"{product.sku}_{seed}.jpg", **kwargs,
    )
    assert result.status == "stored", result.reason
    return result.asset


# --- Permissions: every view, every role --------------------------------------------------------

VIEW, UPLOAD, DELETE = "view", "upload", "delete"


def _routes(product, asset, job):
    from catalog.models import ProductBulkEdit

    bulk = ProductBulkEdit.objects.create(source_name="imports/bulk-edit-routes.csv")
    return [
        ("get", reverse("catalog:product_list"), VIEW),
        ("get", reverse("catalog:product_detail", args=[product.pk]), VIEW),
        ("get", reverse("catalog:asset_thumbnail", args=[asset.pk]), VIEW),
        ("get", reverse("catalog:import_list"), VIEW),
        ("get", reverse("catalog:import_detail", args=[job.pk]), VIEW),
        ("get", reverse("catalog:import_report", args=[job.pk]), VIEW),
        ("get", reverse("catalog:dashboard_summary"), VIEW),
        ("get", reverse("catalog:bulk_upload"), UPLOAD),
        ("post", reverse("catalog:bulk_upload"), UPLOAD),
        ("post", reverse("catalog:import_preview"), UPLOAD),
        ("post", reverse("catalog:upload_known"), UPLOAD),
        ("post", reverse("catalog:product_upload", args=[product.pk]), UPLOAD),
        ("post", reverse("catalog:import_list"), UPLOAD),
        ("post", reverse("catalog:import_upload_file", args=[job.pk]), UPLOAD),
        ("post", reverse("catalog:import_finish", args=[job.pk]), UPLOAD),
        ("post", reverse("catalog:import_cancel", args=[job.pk]), UPLOAD),
        ("get", reverse("catalog:product_create"), UPLOAD),
        ("post", reverse("catalog:product_create"), UPLOAD),
        ("get", reverse("catalog:product_edit", args=[product.pk]), UPLOAD),
        ("post", reverse("catalog:product_edit", args=[product.pk]), UPLOAD),
        ("get", reverse("catalog:product_bulk_edit"), UPLOAD),
        ("post", reverse("catalog:product_bulk_edit"), UPLOAD),
        ("get", reverse("catalog:product_bulk_edit_detail", args=[bulk.pk]), UPLOAD),
        ("get", reverse("catalog:product_bulk_edit_report", args=[bulk.pk]), UPLOAD),
        ("post", reverse("catalog:asset_working_copy_rebuild", args=[product.pk, asset.pk]),
         UPLOAD),
        ("get", reverse("catalog:product_deleted_list"), DELETE),
        # Restoring a live product changes nothing; it runs before the delete below.
        ("post", reverse("catalog:product_restore", args=[product.pk]), DELETE),
        ("post", reverse("catalog:asset_delete", args=[product.pk, asset.pk]), DELETE),
        ("post", reverse("catalog:asset_restore", args=[product.pk, asset.pk]), DELETE),
        ("post", reverse("catalog:product_delete", args=[product.pk]), DELETE),
    ]


@pytest.mark.parametrize("role", ["manager", "reviewer", "no role", "anonymous"])
def test_it_checks_the_role_on_every_catalog_view(client, storage, role):
    product = ProductFactory()
    asset = stored_asset(product)
    job = ImportJobFactory(source_kind="upload", status="running")
    users = {"manager": manager, "reviewer": reviewer, "no role": UserFactory}
    if role != "anonymous":
        client.force_login(users[role]())
    allowed = {"manager": {VIEW, UPLOAD, DELETE}, "reviewer": {VIEW}, "no role": set(),
               "anonymous": set()}[role]
    # Deletes last: they hide the rows the other routes use.
    for method, url, capability in _routes(product, asset, job):
        response = getattr(client, method)(url, **JSON)
        if role == "anonymous":
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("login")), url
        elif capability in allowed:
            # A plain POST may redirect to its page, never to the login.
            assert response.status_code != 403 and response.status_code < 500, url
            assert not response.get("Location", "").startswith(reverse("login")), url
        else:
            assert response.status_code == 403, (url, role)
    assert Product.live.filter(pk=product.pk).exists() == (role != "manager")


def test_it_lists_every_catalog_url_in_the_permission_test():
    from catalog.urls import urlpatterns

    product, asset, job = ProductFactory(), ImageAssetFactory(), ImportJobFactory()
    tested = {resolve(url).url_name for _, url, _ in _routes(product, asset, job)}
    assert tested == {p.name for p in urlpatterns}


# --- Product list -------------------------------------------------------------------------------


def test_it_searches_and_filters_products_and_counts_statuses(reviewer_client):
    boot = ProductFactory(sku="BOOT-1", title="Red boot", brand="Acme", gtin="4006381333931")
    hat = ProductFactory(sku="HAT-1", title="Blue hat", brand="Hatters", category="Hats")
    ProductFactory(sku="GONE-1", deleted_at=timezone.now())
    ImageAssetFactory(product=boot, status="approved")
    ImageAssetFactory(product=hat, status="uploaded")

    def skus(**params):
        response = reviewer_client.get(reverse("catalog:product_list"), params)
        assert response.status_code == 200
        return [p.sku for p in response.context["page"].products]

    assert skus() == ["BOOT-1", "HAT-1"]
    assert skus(q="red") == ["BOOT-1"]
    assert skus(q="4006381") == ["BOOT-1"]
    assert skus(brand="Hatters") == ["HAT-1"]
    assert skus(category="Hats") == ["HAT-1"]
    assert skus(status="approved") == ["BOOT-1"]
    page = reviewer_client.get(reverse("catalog:product_list")).content.decode()
    assert 'data-status="approved">Approved <b>1</b>' in page
    assert 'data-status="uploaded">Uploaded <b>1</b>' in page
    assert "GONE-1" not in page


def test_it_answers_an_htmx_search_with_the_results_partial_only(reviewer_client):
    ProductFactory(sku="BOOT-1")
    response = reviewer_client.get(
        reverse("catalog:product_list"), {"q": "boot"},
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="product-results",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="product-results"')
    assert "BOOT-1" in body and "<html" not in body


def test_it_answers_an_htmx_filter_by_select_with_one_results_section(reviewer_client):
    # The form swaps the answer in place of #product-results (outerHTML): one section, no page.
    ProductFactory(sku="BOOT-1", brand="Acme")
    ProductFactory(sku="HAT-1", brand="Hatters")
    page = reviewer_client.get(reverse("catalog:product_list")).content.decode()
    assert 'hx-target="#product-results" hx-swap="outerHTML"' in page
    assert "from:(form.filters select)" in page  # a selector with a space needs the brackets
    response = reviewer_client.get(
        reverse("catalog:product_list"), {"brand": "Hatters"},
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="product-results",
    )
    body = response.content.decode()
    assert body.count('id="product-results"') == 1 and "<form class=\"card filters\"" not in body
    assert "HAT-1" in body and "BOOT-1" not in body


def test_it_moves_the_current_status_chip_with_the_filter_and_keeps_the_search(
        reviewer_client):
    import re

    ImageAssetFactory(product=ProductFactory(sku="BOOT-1", brand="Acme"), status="approved")
    response = reviewer_client.get(
        reverse("catalog:product_list"), {"q": "boot", "status": "approved"},
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="product-results",
    )
    body = response.content.decode()
    # the results section, then the chips again for htmx to swap out of band
    assert body.count('id="product-results"') == 1
    nav = body[body.index('<nav class="status-counts" id="status-counts"'):]
    assert 'hx-swap-oob="true"' in nav[:200]
    current = re.findall(r'<a href="([^"]+)" class="badge chip status-(\w+) current"', nav)
    assert current == [("?q=boot&amp;status=approved", "approved")]
    assert 'href="?q=boot&amp;status=uploaded"' in nav
    page = reviewer_client.get(reverse("catalog:product_list"), {"brand": "Acme"})
    assert 'href="?brand=Acme&amp;status=approved"' in page.content.decode()
    assert 'hx-swap-oob' not in page.content.decode()


def test_it_pages_by_sku_keyset_forward_and_back(reviewer_client):
    Product.objects.bulk_create(Product(sku=f"K{n:03d}") for n in range(120))
    url = reverse("catalog:product_list")
    first = reviewer_client.get(url)
    assert [p.sku for p in first.context["page"].products][:2] == ["K000", "K001"]
    assert first.context["next_url"] == "?after=K049" and first.context["prev_url"] == ""
    second = reviewer_client.get(url, {"after": "K049"})
    assert second.context["page"].products[0].sku == "K050"
    assert second.context["prev_url"] == "?before=K050"
    last = reviewer_client.get(url, {"after": "K099"})
    assert len(last.context["page"].products) == 20 and last.context["next_url"] == ""
    back = reviewer_client.get(url, {"before": "K050"})
    assert [p.sku for p in back.context["page"].products][0] == "K000"
    assert back.context["page"].first and back.context["page"].total == 120


# --- Product detail -----------------------------------------------------------------------------


def test_it_shows_assets_with_status_position_and_colour_notes(manager_client):
    product = ProductFactory(sku="SHOE-9")
    ImageAssetFactory(product=product, position="MAIN", status="in_review",
                      colour_note="Untagged CMYK: converted assuming a press profile.",
                      colour_flagged=True)
    ImageAssetFactory(product=product, position="PT01", width=800, height=700)
    body = manager_client.get(reverse("catalog:product_detail", args=[product.pk])).content
    page = body.decode()
    assert 'class="badge chip status-in_review" data-status="in_review">In review</span>' in page
    assert 'data-position="PT01"' in page
    assert "Untagged CMYK: converted assuming a press profile." in page
    assert "Low resolution for zoom" in page
    assert reverse("cutouts:batch_start") in page and f'name="product" value="{product.pk}"' in page
    assert reverse("catalog:product_upload", args=[product.pk]) in page


@pytest.mark.parametrize("orientation", [6, 8])
def test_it_lists_an_exif_rotated_photo_at_its_upright_size(manager_client, orientation):
    """QA 2026-12-06 (session 38): a portrait shot stored sideways with EXIF orientation 6
    read "1200×675" on the product page; it is shown (and cut out) upright, 675×1200."""
    from tests.catalog.imagegen import jpeg_with_orientation

    product = ProductFactory(sku="ROT-1")
    result = asset_ingest(product=product, filename="ROT-1_MAIN.jpg", fileobj=io.BytesIO(
        jpeg_with_orientation(size=(1200, 675), orientation=orientation)))
    asset = result.asset
    # the row keeps the file's own pixels (the API's "original"); the working copy is upright
    assert (asset.width, asset.height, asset.working_width, asset.working_height) == (
        1200, 675, 675, 1200)
    page = manager_client.get(reverse("catalog:product_detail", args=[product.pk])).content
    [size] = re.findall(r"<div class=\"muted small\" data-asset-size[^>]*>([^<]*)<",
                        page.decode())
    assert size.startswith("675×1200 · JPEG")
    assert f"EXIF orientation ({orientation}); the file stores 1200×675" in page.decode()


def test_it_lists_an_unturned_photo_at_its_size_without_a_note(manager_client):
    product = ProductFactory(sku="ROT-2")
    stored_asset(product)
    page = manager_client.get(reverse("catalog:product_detail", args=[product.pk])).content
    assert '<div class="muted small" data-asset-size>700×600 · JPEG' in page.decode()


def test_it_hides_upload_delete_and_cutouts_from_reviewers(reviewer_client):
    product = ProductFactory()
    ImageAssetFactory(product=product)
    page = reviewer_client.get(reverse("catalog:product_detail", args=[product.pk])).content
    page = page.decode()
    assert reverse("cutouts:batch_start") not in page
    assert reverse("catalog:product_upload", args=[product.pk]) not in page
    assert reverse("catalog:product_delete", args=[product.pk]) not in page


def test_it_returns_404_for_a_deleted_product(manager_client):
    product = ProductFactory(deleted_at=timezone.now())
    assert manager_client.get(
        reverse("catalog:product_detail", args=[product.pk])).status_code == 404


def test_it_soft_deletes_an_asset_and_answers_htmx_with_the_grid(manager_client, storage):
    product = ProductFactory()
    asset = stored_asset(product)
    url = reverse("catalog:asset_delete", args=[product.pk, asset.pk])
    response = manager_client.post(url, **HTMX)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="asset-grid"')
    asset.refresh_from_db()
    assert asset.deleted_at is not None
    assert storage.exists(asset.original_name)  # kept until purge


def test_it_sends_the_grid_a_delete_answers_with_back_to_the_product_page(manager_client,
                                                                        storage):
    product = ProductFactory()
    stored_asset(product)
    gone = stored_asset(product, seed=1)
    html = manager_client.post(reverse("catalog:asset_delete", args=[product.pk, gone.pk]),
                               **HTMX).content.decode()
    # its selection form's "next" was this request's address, a POST-only one (405 later)
    assert (f'<input type="hidden" name="next" value="'
            f'{reverse("catalog:product_detail", args=[product.pk])}">') in html


def test_it_redirects_a_plain_product_delete_and_keeps_the_files(manager_client, storage):
    product = ProductFactory()
    asset = stored_asset(product)
    response = manager_client.post(reverse("catalog:product_delete", args=[product.pk]))
    assert response.status_code == 302 and response["Location"] == reverse(
        "catalog:product_list")
    assert Product.objects.get(pk=product.pk).deleted_at is not None
    assert ImageAsset.objects.get(pk=asset.pk).deleted_at is not None
    assert storage.exists(asset.original_name)


# --- Thumbnails ---------------------------------------------------------------------------------


def test_it_streams_a_cached_thumbnail_without_exposing_storage(reviewer_client, storage):
    asset = stored_asset(ProductFactory())
    url = reverse("catalog:asset_thumbnail", args=[asset.pk])
    response = reviewer_client.get(url, {"size": "160"})
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert body[:4] == b"RIFF" and body[8:12] == b"WEBP"
    assert "immutable" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert asset.sha256 not in response.get("Location", "") + response["Content-Type"]
    assert storage.exists(thumbnail_storage_name(asset.sha256, 160))
    again = reviewer_client.get(url, {"size": "160"}, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_it_refuses_odd_thumbnail_sizes_and_serves_the_default_without_one(reviewer_client,
                                                                          storage):
    """QA 2026-12-06: ``size=999`` was answered with the 320 px thumbnail, as if made."""
    asset = stored_asset(ProductFactory())
    url = reverse("catalog:asset_thumbnail", args=[asset.pk])
    for size in ("1999", "999", "abc", "", "99999999999999999999"):
        assert reviewer_client.get(url, {"size": size}).status_code == 404, size
    assert not storage.exists(thumbnail_storage_name(asset.sha256, 1999))
    response = reviewer_client.get(url)
    assert response.status_code in (200, 302)  # S3 hands out a signed URL
    assert storage.exists(thumbnail_storage_name(asset.sha256, 320))


def test_it_answers_404_for_a_deleted_or_missing_thumbnail(reviewer_client, storage):
    gone = stored_asset(ProductFactory())
    asset_soft_delete(asset=gone)
    missing = ImageAssetFactory()  # a row without files
    for asset in (gone, missing):
        url = reverse("catalog:asset_thumbnail", args=[asset.pk])
        assert reviewer_client.get(url).status_code == 404


# --- Upload onto a product ----------------------------------------------------------------------


def test_it_stores_a_good_file_and_reports_a_duplicate(manager_client, storage):
    product = ProductFactory(sku="CUP-1")
    url = reverse("catalog:product_upload", args=[product.pk])
    data = product_jpeg(900, 700, seed=3)
    first = manager_client.post(url, {"file": upload("cup.jpg", data), "position": "PT02"}, **JSON)
    assert first.status_code == 201
    answer = first.json()
    asset = ImageAsset.live.get(pk=answer["asset"])
    assert (answer["status"], answer["product"], answer["position"]) == ("stored", "CUP-1", "PT02")
    assert asset.product == product and "Low resolution" in answer["warnings"][0]
    second = manager_client.post(url, {"file": upload("again.jpg", data)}, **JSON)
    assert second.status_code == 200
    assert second.json()["status"] == "duplicate" and "not stored twice" in second.json()["reason"]
    assert ImageAsset.live.filter(product=product).count() == 1


def _truncated_jpeg() -> bytes:
    data = product_jpeg(800, 800, seed=5)
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("name", "data", "code", "words"),
    [
        ("notes.jpg", b"These are not the pixels you are looking for.\n" * 20, "not_image",
         "Not an image"),
        ("cut.jpg", None, "truncated", "a truncated file"),
        ("tiny.jpg", product_jpeg(300, 200), "too_small", "Too small: 300×200"),
        ("bomb.png", png_declaring(20_000, 20_000), "bomb",
         "Too large: 20000×20000 px (400,000,000 pixels, 400 MP) is over the 80 MP limit"),
    ],
)
def test_it_refuses_bad_files_with_a_clear_reason(manager_client, storage, name, data, code,
                                                  words):
    product = ProductFactory()
    data = _truncated_jpeg() if data is None else data
    response = manager_client.post(
        reverse("catalog:product_upload", args=[product.pk]), {"file": upload(name, data)}, **JSON
    )
    assert response.status_code == 422
    answer = response.json()
    assert (answer["status"], answer["code"], answer["asset"]) == ("rejected", code, None)
    assert words in answer["reason"]
    assert not ImageAsset.objects.exists()


@pytest.mark.parametrize(("name", "path"), [
    (".PAGE-1_MAIN.jpg", ""), ("Thumbs.db", ""),
    # the page's folder drop sends the path beside the file, whose name has no folder
    ("PAGE-1_MAIN.jpg", "shoot/.@__thumb/PAGE-1_MAIN.jpg"),
    ("SYNOFILE_THUMB_M.jpg", "shoot/@eaDir/PAGE-1_MAIN.jpg/SYNOFILE_THUMB_M.jpg"),
])
def test_it_refuses_a_hidden_or_system_file_onto_a_product_as_the_imports_ignore_it(
        manager_client, storage, name, path):
    # the imports' one rule (archives.is_hidden_path), in its words; the page sends none, but
    # the server held no rule of its own before 2026-12-05 and stored it
    product = ProductFactory(sku="PAGE-1")
    form = {"file": upload(name, product_jpeg(700, 600, seed=6))}
    response = manager_client.post(reverse("catalog:product_upload", args=[product.pk]),
                                   {**form, "path": path} if path else form, **JSON)
    assert response.status_code == 422
    answer = response.json()
    assert (answer["status"], answer["code"], answer["reason"], answer["filename"]) == (
        "rejected", "ignored", archives.IGNORED_REASON, name)
    assert not ImageAsset.objects.exists()


def test_it_refuses_a_products_file_whose_path_climbs_out_as_a_session_does(manager_client,
                                                                            storage):
    # asset_ingest reads unsafe_name_reason as a browser session does (2026-12-06); before,
    # ../PAGE-3_MAIN.jpg (or .thumbs/../x.jpg) was stored under its last part
    product = ProductFactory(sku="PAGE-3")
    response = manager_client.post(
        reverse("catalog:product_upload", args=[product.pk]),
        {"file": upload("PAGE-3_MAIN.jpg", product_jpeg(700, 600, seed=9)),
         "path": ".thumbs/../PAGE-3_MAIN.jpg"}, **JSON)
    assert response.status_code == 422
    answer = response.json()
    assert (answer["code"], answer["reason"]) == (
        archives.NAME_UNSAFE, "Refused: '..' in the path (path traversal).")
    assert not ImageAsset.objects.exists()


def test_it_stores_a_products_file_from_a_plain_folder_beside_an_ignored_one(manager_client,
                                                                             storage):
    # a form without JavaScript: the good file stored, the hidden one named as ignored
    product = ProductFactory(sku="PAGE-2")
    response = manager_client.post(
        reverse("catalog:product_upload", args=[product.pk]),
        {"file": [upload("PAGE-2_MAIN.jpg", product_jpeg(700, 600, seed=7)),
                  upload("._PAGE-2_MAIN.jpg", product_jpeg(700, 600, seed=8))]}, follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert said == ["1 of 2 files stored.", f"._PAGE-2_MAIN.jpg: {archives.IGNORED_REASON}"]
    assert list(ImageAsset.live.values_list("original_filename", flat=True)) == [
        "PAGE-2_MAIN.jpg"]


def test_it_answers_a_request_without_a_file_with_400(manager_client):
    product = ProductFactory()
    response = manager_client.post(reverse("catalog:product_upload", args=[product.pk]), **JSON)
    assert response.status_code == 400 and response.json()["code"] == "no_file"


def test_it_redirects_a_plain_form_upload_to_the_product(manager_client, storage):
    product = ProductFactory()
    response = manager_client.post(
        reverse("catalog:product_upload", args=[product.pk]),
        {"file": [upload("a.jpg", product_jpeg(700, 600, seed=1)),
                  upload("b.txt", b"hello", "text/plain")]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:product_detail", args=[product.pk])
    assert ImageAsset.live.filter(product=product).count() == 1


# --- Bulk upload session ------------------------------------------------------------------------


def test_it_maps_bulk_files_by_pattern_one_request_each(manager_client, storage):
    ProductFactory(sku="AB100")
    ProductFactory(sku="AB200")
    session = manager_client.post(
        reverse("catalog:bulk_upload"), {"patterns": "{sku}_{position}.jpg", "expected": "4"},
        **JSON,
    )
    assert session.status_code == 201
    urls = session.json()
    files = {
        "AB100_MAIN.jpg": product_jpeg(700, 600, seed=1),
        "AB200_PT01.jpg": product_jpeg(700, 600, seed=2),
        "ZZ999_MAIN.jpg": product_jpeg(700, 600, seed=3),
        "AB100_PT01.jpg": b"GIF89a not really",
    }
    answers = {}
    for name, data in files.items():
        response = manager_client.post(urls["upload_url"], {"file": upload(name, data)}, **JSON)
        answers[name] = response.json()
    assert answers["AB100_MAIN.jpg"]["product"] == "AB100"
    assert answers["AB200_PT01.jpg"]["position"] == "PT01"
    assert answers["ZZ999_MAIN.jpg"]["status"] == "rejected"
    assert "Unknown SKU ZZ999" in answers["ZZ999_MAIN.jpg"]["reason"]
    assert answers["AB100_PT01.jpg"]["status"] == "rejected"
    finish = manager_client.post(urls["finish_url"], **JSON).json()
    assert (finish["status"], finish["imported"], finish["errors"], finish["done"]) == (
        "done", 2, 2, 4)
    page = manager_client.get(urls["job_url"]).content.decode()
    assert "Unknown SKU ZZ999" in page and "AB100_PT01.jpg" in page
    assert reverse("catalog:product_detail", args=[Product.objects.get(sku="AB200").pk]) in page


def test_it_maps_a_folder_upload_by_its_relative_path(manager_client, storage):
    ProductFactory(sku="FOLDER1")
    urls = manager_client.post(reverse("catalog:bulk_upload"), {"expected": "1"}, **JSON).json()
    response = manager_client.post(
        urls["upload_url"],
        {"file": upload("front.jpg", product_jpeg(700, 600)), "path": "shoot/FOLDER1/front.jpg"},
        **JSON,
    )
    assert response.json()["product"] == "FOLDER1"


def test_it_creates_products_for_unknown_skus_when_asked(manager_client, storage):
    urls = manager_client.post(
        reverse("catalog:bulk_upload"),
        {"patterns": "{sku}-{n}.png", "create_products": "on"}, **JSON,
    ).json()
    response = manager_client.post(
        urls["upload_url"], {"file": upload("NEW9-2.jpg", product_jpeg(700, 600))}, **JSON
    )
    assert (response.json()["product"], response.json()["position"]) == ("NEW9", "PT01")


def test_it_sends_bulk_files_to_one_chosen_product(manager_client, storage):
    product = ProductFactory(sku="ONE-1")
    answer = manager_client.post(reverse("catalog:bulk_upload"), {"product": "ONE-1"}, **JSON)
    assert answer.json()["upload_url"] == reverse("catalog:product_upload", args=[product.pk])
    missing = manager_client.post(reverse("catalog:bulk_upload"), {"product": "NOPE"}, **JSON)
    assert missing.status_code == 400 and "No product with SKU NOPE" in missing.json()["error"]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"patterns": "{code}_{n}.jpg"}, "Unknown placeholder {code}"),
        ({"regex": "(?P<code>.*)"}, "named group (?P<sku>"),
    ],
)
def test_it_refuses_a_bad_naming_rule_before_any_upload(manager_client, fields, words):
    response = manager_client.post(reverse("catalog:bulk_upload"), fields, **JSON)
    assert response.status_code == 400 and words in response.json()["error"]
    assert not ImportJob.objects.exists()


def test_it_applies_a_csv_manifest_to_a_browser_upload(manager_client, storage):
    manifest = (b"sku,title,brand,category,gtin,asin,filename,position\n"
                b"MAN-1,=Formula title,Acme,Bags,,,photo.jpg,PT03\n")
    urls = manager_client.post(
        reverse("catalog:bulk_upload"),
        {"manifest": upload("m.csv", manifest, "text/csv")}, **JSON,
    ).json()
    answer = manager_client.post(
        urls["upload_url"], {"file": upload("photo.jpg", product_jpeg(700, 600))}, **JSON
    ).json()
    assert (answer["product"], answer["position"]) == ("MAN-1", "PT03")
    assert Product.objects.get(sku="MAN-1").title == "=Formula title"


def test_it_refuses_a_broken_manifest_with_its_reason(manager_client):
    response = manager_client.post(
        reverse("catalog:bulk_upload"),
        {"manifest": upload("m.csv", b"sku;title\nA;B\n", "text/csv")}, **JSON,
    )
    assert response.status_code == 400 and "semicolons" in response.json()["error"]


def test_it_answers_404_for_a_file_sent_to_a_zip_job(manager_client):
    job = ImportJobFactory(source_kind="zip")
    response = manager_client.post(
        reverse("catalog:import_upload_file", args=[job.pk]),
        {"file": upload("a.jpg", b"x")}, **JSON,
    )
    assert response.status_code == 404


# --- ZIP import and the import page --------------------------------------------------------------


def test_it_queues_a_zip_and_shows_progress_and_issues(manager_client, storage,
                                                       django_capture_on_commit_callbacks):
    ProductFactory(sku="ZIP1")
    archive = zip_bytes({
        "ZIP1_MAIN.jpg": product_jpeg(700, 600, seed=1),
        "ZIP1_PT01.jpg": b"not an image at all",
        "../evil.jpg": product_jpeg(700, 600, seed=2),
    })
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = manager_client.post(
            reverse("catalog:import_list"),
            {"archive": upload("shoot.zip", archive, "application/zip")}, **JSON,
        )
    assert response.status_code == 201 and len(callbacks) == 1  # the worker task is enqueued
    job = ImportJob.objects.get(pk=response.json()["job"])
    assert job.status == "queued" and job.source_filename == "shoot.zip"
    polling = manager_client.get(response.json()["job_url"], **HTMX).content.decode()
    assert 'hx-trigger="every 1s"' in polling and 'data-status="queued"' in polling

    import_job_run(job_id=job.pk)  # what the worker task does
    done = manager_client.get(response.json()["job_url"], **HTMX).content.decode()
    assert 'data-status="done"' in done and "every 1s" not in done
    assert "1 imported" in done and "ZIP1_PT01.jpg" in done and "Not an image" in done
    assert "evil.jpg" in done


def test_it_redirects_a_plain_zip_form_to_the_job_page(manager_client, storage):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("A_MAIN.jpg", b"x")
    response = manager_client.post(
        reverse("catalog:import_list"), {"archive": upload("a.zip", buffer.getvalue())}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:import_detail", args=[job.pk])


def test_it_cancels_a_queued_import(manager_client):
    job = ImportJobFactory(status="queued")
    response = manager_client.post(reverse("catalog:import_cancel", args=[job.pk]), **HTMX)
    assert response.status_code == 200 and 'data-status="cancelled"' in response.content.decode()


def test_it_downloads_the_issue_report_as_csv(reviewer_client):
    job = ImportJobFactory()
    job.issues.create(filename="=bad.jpg", reason="Not an image")
    response = reviewer_client.get(reverse("catalog:import_report", args=[job.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming  # a row per stored file too: streamed, never built in memory
    assert "'=bad.jpg,error,Not an image,,,,refused" in b"".join(
        response.streaming_content).decode()


def test_it_shows_status_counts_and_recent_imports_on_the_dashboard(reviewer_client):
    ImageAssetFactory(status="approved")
    job = ImportJobFactory(source_filename="monday.zip")
    body = reviewer_client.get(reverse("catalog:dashboard_summary")).content.decode()
    assert "Approved <b>1</b>" in body and "monday.zip" in body
    assert reverse("catalog:import_detail", args=[job.pk]) in body
    dashboard = reviewer_client.get(reverse("dashboard")).content.decode()
    assert reverse("catalog:dashboard_summary") in dashboard


@pytest.fixture
def s3_storage(s3_default_storage):
    return s3_default_storage("cutroom-views", querystring_auth=True, querystring_expire=300)


def test_it_redirects_thumbnails_to_a_short_lived_signed_url_on_s3(reviewer_client, s3_storage):
    asset = stored_asset(ProductFactory())
    response = reviewer_client.get(reverse("catalog:asset_thumbnail", args=[asset.pk]))
    assert response.status_code == 302
    location = response["Location"]
    assert "X-Amz-Signature=" in location and "X-Amz-Expires=300" in location
    assert response["Cache-Control"] == "private, max-age=60"


# --- Import preview -------------------------------------------------------------------------------


def _preview(client, names, **fields):
    response = client.post(reverse("catalog:import_preview"), {"names": names, **fields})
    assert response.status_code == 200
    return response.content.decode()


def test_it_previews_a_folder_per_sku_shoot_as_one_product_per_folder(manager_client):
    ProductFactory(sku="KNOWN-1")
    page = _preview(manager_client, [
        "SHOE-77/IMG_0001.jpg", "SHOE-77/IMG_0002.jpg", "EVAL-003/003.jpg",
        "KNOWN-1_PT01.jpg", "BAG-5_main.jpg", "bad name!.jpg",
    ], create_products="on")
    assert "5 of 6 files → 4 products" in page
    assert 'data-preview-sku="SHOE-77"' in page and 'data-preview-sku="EVAL-003"' in page
    assert 'data-preview-sku="IMG_0001"' not in page and 'data-preview-sku="003"' not in page
    assert "(3 new)" in page  # SHOE-77, EVAL-003 and BAG-5; KNOWN-1 exists
    assert not Product.objects.filter(sku__in=["SHOE-77", "EVAL-003", "BAG-5"]).exists()


def test_it_previews_unknown_skus_as_not_mapped_without_create(manager_client):
    page = _preview(manager_client, ["SHOE-77/IMG_0001.jpg"])
    assert "0 of 1 file → 0 products" in page
    assert "Unknown SKU SHOE-77: no such product" in page


def test_it_previews_a_deleted_product_and_a_bad_rule_with_reasons(manager_client):
    ProductFactory(sku="GONE-1", deleted_at=timezone.now())
    page = _preview(manager_client, ["GONE-1_main.jpg"])
    assert "Product GONE-1 is deleted." in page
    page = _preview(manager_client, ["A_main.jpg"], patterns="{colour}.jpg")
    assert "Unknown placeholder {colour}" in page


def test_it_previews_manifest_rows_before_the_naming_rules(manager_client):
    manifest = upload("manifest.csv", b"sku,filename,position\r\nMAN-1,IMG_9.jpg,PT02\r\n",
                      "text/csv")
    page = _preview(manager_client, ["IMG_9.jpg"], manifest=manifest, create_products="on")
    assert 'data-preview-sku="MAN-1"' in page and "manifest line 2" in page


def _preview_parts(page: str) -> tuple[set[str], dict[str, str]]:
    """The SKUs the preview maps files to, and each not-mapped name with its reason."""
    import html
    import re

    skus = set(re.findall(r'data-preview-sku="([^"]+)"', page))
    unmapped = dict(re.findall(r'<li data-preview-unmapped><span class="name">([^<]*)</span>: '
                               r"<span data-preview-reason>([^<]*)</span></li>", page))
    return skus, {html.unescape(k): html.unescape(v) for k, v in unmapped.items()}


def test_it_previews_a_zip_as_its_import_maps_it(manager_client, storage):
    manifest = b"sku,filename,position\r\nMAN-1,a.jpg,MAIN\r\nMAN-1,b.jpg,PT01\r\n"
    members = {"a.jpg": product_jpeg(1200, 900, seed=1), "b.jpg": product_jpeg(1200, 900, seed=2),
               "manifest.csv": manifest, "notes.txt": b"shot on Monday",
               "../../evil-1.jpg": product_jpeg(seed=3), ".DS_Store": b"\0"}
    page = _preview(manager_client, list(members), create_products="on",
                    zip_manifest=upload("manifest.csv", manifest, "text/csv"))
    skus, unmapped = _preview_parts(page)
    assert "2 of 4 files → 1 product" in page
    assert skus == {"MAN-1"} and "manifest line 3" in page
    assert unmapped == {"notes.txt": "Skipped: not an image file name (.txt).",
                        "../../evil-1.jpg": "Refused: '..' in the path (path traversal)."}

    response = manager_client.post(reverse("catalog:import_list"), {
        "archive": upload("shoot.zip", zip_bytes(members), "application/zip"),
        "create_products": "on"})
    job = import_job_run(job_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert set(Product.objects.filter(assets__import_job=job).values_list("sku", flat=True)) \
        == skus
    assert dict(job.issues.values_list("filename", "reason")) == unmapped


def test_it_previews_a_corrupt_zip_file_the_manifest_leaves_out_with_the_import_check_first(
        manager_client, storage):
    from catalog.services.import_mapping import NAME_REFUSAL_UNREAD_NOTE

    # QA 2026-12-06: the preview called broken.jpg "Not in the manifest", the import "Not an
    # image": the preview sees a ZIP's names, the import opens a file before its name
    manifest = b"sku,filename,position\r\nMAN-1,a.jpg,MAIN\r\n"
    members = {"a.jpg": product_jpeg(1200, 900, seed=1), "broken.jpg": b"\xff\xd8 not a jpeg",
               "extra.jpg": product_jpeg(1200, 900, seed=2), "manifest.csv": manifest}
    # the page read the headers of a.jpg and extra.jpg (upload_dims.js), not broken.jpg's
    page = _preview(manager_client, list(members), create_products="on", source="zip",
                    zip_manifest=upload("manifest.csv", manifest, "text/csv"),
                    sizes_json='{"a.jpg": [1200, 900], "extra.jpg": [1200, 900]}')
    _, unmapped = _preview_parts(page)
    reason = unmapped["broken.jpg"]
    assert reason.startswith("Not in the manifest: ") and reason.endswith(NAME_REFUSAL_UNREAD_NOTE)
    assert "if it is not a readable image (or a corrupt one), it is refused as that" in reason
    # an image's header was read: its name's reason is the import's, word for word
    assert unmapped["extra.jpg"].startswith("Not in the manifest: ")
    assert NAME_REFUSAL_UNREAD_NOTE not in unmapped["extra.jpg"]

    response = manager_client.post(reverse("catalog:import_list"), {
        "archive": upload("shoot.zip", zip_bytes(members), "application/zip"),
        "create_products": "on"})
    job = import_job_run(job_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert job.issues.get(filename="broken.jpg").reason.startswith(
        "Not an image, or a corrupt one: ")
    assert job.issues.get(filename="extra.jpg").reason == unmapped["extra.jpg"]
    # a session's files the page reads itself (upload.js sends one that is no image): the
    # name's reason alone
    _, unmapped = _preview_parts(_preview(manager_client, ["a.jpg", "broken.jpg"],
                                          create_products="on", source="session",
                                          manifest=upload("manifest.csv", manifest, "text/csv")))
    assert unmapped["broken.jpg"].startswith("Not in the manifest: ")
    assert NAME_REFUSAL_UNREAD_NOTE not in unmapped["broken.jpg"]


def test_it_says_when_the_zip_manifest_could_not_be_read_for_the_preview(manager_client):
    page = _preview(manager_client, ["a.jpg", "manifest.csv"], create_products="on")
    assert "data-preview-manifest-unread" in page and "1 of 1 file → 1 product" in page
    page = _preview(manager_client, ["a.jpg", "manifest.csv"], create_products="on",
                    zip_manifest=upload("manifest.csv", b"sku,filename\r\nM-1,a.jpg\r\n",
                                        "text/csv"))
    assert "data-preview-manifest-unread" not in page and 'data-preview-sku="M-1"' in page


def test_it_pluralises_the_products_created_by_an_import(manager_client):
    job = ImportJobFactory(products_created=1, status="done")
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk]), **HTMX)
    assert "1 product created" in page.content.decode()
    ImportJob.objects.filter(pk=job.pk).update(products_created=2)
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk]), **HTMX)
    assert "2 products created" in page.content.decode()


def test_it_shows_the_image_a_warning_row_is_about_on_the_import_page(manager_client):
    job = ImportJobFactory(status="done", source_kind="upload")
    ImportIssue.objects.create(job=job, filename="shoot/WI-1_MAIN.jpg", level="warning",
                               reason="Small image", sku="WI-1", position="MAIN", asset_pk=7)
    ImportIssue.objects.create(job=job, filename="notes.txt", level="warning",
                               reason="Skipped: not an image file name (.txt).")
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk]), **HTMX)
    text = page.content.decode()
    assert "shoot/WI-1_MAIN.jpg <span class=\"muted small\" data-issue-image>→ WI-1 MAIN" in text
    assert text.count("data-issue-image") == 1  # a row about no image names none


def test_it_finishes_a_session_with_the_files_the_browser_could_not_send(manager_client,
                                                                          storage):
    urls = manager_client.post(reverse("catalog:bulk_upload"),
                               {"create_products": "on", "expected": "5"}, **JSON).json()
    for name, seed in [("RACE-1/IMG_0003.jpg", 3), ("RACE-1/IMG_0002.jpg", 2)]:
        answer = manager_client.post(urls["upload_url"], {
            "file": upload(name.split("/")[1], product_jpeg(700, 600, seed=seed)),
            "path": name}, **JSON).json()
    assert answer["position"] == "PT01"  # IMG_0002 arrived second
    finish = manager_client.post(urls["finish_url"], {
        "failed": ["RACE-1/IMG_0001.jpg", "RACE-1/IMG_0004.jpg"], "skipped": ["readme.txt"],
    }, **JSON).json()
    assert finish["message"] == ("2 imported, 2 refused, 1 product created. The upload "
                                 "stopped after 2 of 5 files.")
    assert sorted((p["filename"], p["position"]) for p in finish["positions"]) == [
        ("RACE-1/IMG_0002.jpg", "MAIN"), ("RACE-1/IMG_0003.jpg", "PT01")]
    page = manager_client.get(urls["job_url"]).content.decode()
    assert "RACE-1/IMG_0001.jpg" in page and "could not send this file" in page
    assert "Skipped: not an image file name (.txt)." in page


def test_it_reports_what_the_page_named_at_the_start_though_no_finish_came(manager_client,
                                                                          storage):
    """QA38 H1: the tab closed within 0.3 s of Upload; the session ended when its one file
    arrived, and the held file (named at the start, not only at the finish) is in the
    report and report.csv, its already-stored file checked again."""
    product = ProductFactory(sku="BETA-2")
    kept = stored_image(product, "old.jpg", "MAIN", seed=5)
    urls = manager_client.post(reverse("catalog:bulk_upload"), {
        "patterns": "{sku}_{position}.jpg", "expected": "1",
        "held": ["QA-100 PT05 café.jpg"], "skipped": ["notes.txt"],
        "stored_json": f'["{kept.sha256}:BETA-2_MAIN.jpg"]', "held_more": "2",
    }, **JSON).json()
    manager_client.post(urls["upload_url"], {
        "file": upload("BETA-2_PT05.jpg", product_jpeg(700, 600, seed=6))}, **JSON)
    job = ImportJob.objects.get(pk=urls["job"])
    assert job.status == "done"
    assert (job.imported_count, job.error_count, job.duplicate_count) == (1, 3, 1)
    report = manager_client.get(reverse("catalog:import_report", args=[job.pk]))
    text = b"".join(report.streaming_content).decode()
    assert "QA-100 PT05 café.jpg" in text and "characters a SKU cannot have" in text
    assert "notes.txt" in text and "BETA-2_MAIN.jpg" in text and "2 more" in text


def test_it_finishes_a_session_with_its_duplicates_in_the_reports_settled_words(
        manager_client, storage):
    """QA 2026-12-05 (qa33b L1): the copy's answer named its kept file at MAIN; the
    session's name order moved that file to PT01, and the finish says so for the page."""
    urls = manager_client.post(reverse("catalog:bulk_upload"),
                               {"create_products": "on"}, **JSON).json()
    same = product_jpeg(700, 600, seed=3)
    answers = {}
    for name, data in [("SET-1/IMG_0003.jpg", same), ("SET-1/IMG_0004.jpg", same),
                       ("SET-1/IMG_0002.jpg", product_jpeg(700, 600, seed=2))]:
        answers[name] = manager_client.post(urls["upload_url"], {
            "file": upload(name.split("/")[1], data), "path": name}, **JSON).json()
    assert "for SET-1 as MAIN" in answers["SET-1/IMG_0004.jpg"]["reason"]
    finish = manager_client.post(urls["finish_url"], {}, **JSON).json()
    kept = ImageAsset.live.get(original_filename="IMG_0003.jpg")
    assert kept.position == "PT01"
    assert finish["duplicates"] == [{
        "filename": "SET-1/IMG_0004.jpg",
        "reason": f"Duplicate: the same file is already stored for SET-1 as PT01 (asset "
                  f"#{kept.pk}); not stored twice."}]


def test_it_finishes_a_session_with_an_identical_warning_naming_where_its_image_settled(
        manager_client, storage):
    """QA 2026-12-06 (qa34 F5): CP34-B's file is CP34-A's IMG_0001, which was at PT01 when
    it arrived; the session's name order then moved it to MAIN. The warning, the report and
    the finish (for the page's row) say MAIN."""
    ProductFactory(sku="CP34-A")
    ProductFactory(sku="CP34-B")
    elsewhere = product_jpeg(700, 600, seed=5)
    ImageAssetFactory(product=ProductFactory(sku="CP34-X"), position="MAIN",
                      sha256=hashlib.sha256(elsewhere).hexdigest(), bytes=len(elsewhere))
    same = product_jpeg(700, 600, seed=1)
    urls = manager_client.post(reverse("catalog:bulk_upload"), {}, **JSON).json()
    answers = {}
    # arrival order, not name order: IMG_0003 takes CP34-A's MAIN, IMG_0001 its PT01
    for name, data in [("CP34-A/IMG_0003.jpg", elsewhere), ("CP34-A/IMG_0001.jpg", same),
                       ("CP34-B/IMG_0001.jpg", same)]:
        answers[name] = manager_client.post(urls["upload_url"], {
            "file": upload(name.split("/")[1], data), "path": name}, **JSON).json()
    named = ImageAsset.live.get(product__sku="CP34-A", original_filename="IMG_0001.jpg")
    assert (f"Identical to CP34-A PT01 (#{named.pk})"
            in " ".join(answers["CP34-B/IMG_0001.jpg"]["warnings"]))
    finish = manager_client.post(urls["finish_url"], {}, **JSON).json()
    named.refresh_from_db()
    assert named.position == "MAIN"
    said = (f"Identical to CP34-A MAIN (#{named.pk}): the same file is already stored for "
            "another product. Stored for CP34-B too; check the photo belongs to both.")
    # each file's warnings in the report's order (its "Low resolution" first), for its row
    rows = {w["filename"]: w["warnings"] for w in finish["warnings"]}
    assert rows["CP34-B/IMG_0001.jpg"] == [
        *answers["CP34-B/IMG_0001.jpg"]["warnings"][:-1], said]
    row = ImportIssue.objects.get(filename="CP34-B/IMG_0001.jpg", kind="identical")
    assert (row.kind, row.reason, row.named_pk, row.named_position) == (
        ImportIssue.Kind.IDENTICAL, said, named.pk, "MAIN")
    # the row is about CP34-B's own image, as before; the image it names is in its words
    own = ImageAsset.live.get(product__sku="CP34-B")
    assert (row.sku, row.position, row.asset_pk) == ("CP34-B", own.position, own.pk)
    report = b"".join(manager_client.get(
        reverse("catalog:import_report", args=[finish["id"]])).streaming_content).decode()
    assert said in report and f"CP34-A PT01 (#{named.pk})" not in report


def test_it_gives_the_drop_zones_the_servers_image_name_rule(manager_client):
    product = ProductFactory(sku="DZ-1")
    for url in (reverse("catalog:bulk_upload"),
                reverse("catalog:product_detail", args=[product.pk])):
        page = manager_client.get(url).content.decode()
        assert 'data-image-extensions=".avif .heic .heif .jpe .jpeg .jpg .png .tif .tiff ' \
               '.webp"' in page
        assert 'data-not-image="Skipped: not an image file name ({ext})."' in page
        # hidden files and desktop metadata are listed as ignored, in the server's words
        assert f'data-ignored="{html.escape(archives.IGNORED_REASON)}"' in page
        # and which names those are: the imports' own pattern, not a copy in upload.js
        assert f'data-ignored-name="{html.escape(archives.IGNORED_NAME_PATTERN)}"' in page


def test_it_reports_where_an_unclosed_quote_starts_in_the_preview(manager_client):
    page = manager_client.post(reverse("catalog:import_preview"), {
        "names": ["a.jpg"],
        "manifest": upload("manifest_bad3.csv", b"sku,filename\nA,\"a.jpg\n", "text/csv"),
    }).content.decode()
    assert "row starting on line 2" in page and "never closed" in page


def test_it_does_not_say_contents_are_not_compared_when_the_page_compares_them(
        manager_client, storage):
    product = ProductFactory(sku="CL9")
    stored_image(product, "old.jpg", "MAIN", seed=31)
    response = manager_client.post(reverse("catalog:import_preview"),
                                   {"names": ["CL9_MAIN.jpg"]})
    page = response.content.decode()
    # the page hashes a file of a stored image's size and asks which product has those
    # bytes: the refused file is in the name -> SKU map it reads (one check, since 2026-12-05)
    assert "data-preview-targets" in page and '"CL9_MAIN.jpg": "CL9"' in html.unescape(page)
    assert "data-preview-holders" not in page
    assert "not compared before the upload" not in page
    assert "compares it only with a stored image of its size" in page


def test_it_offers_a_manager_the_restore_of_a_deleted_product_at_its_address(client):
    product = ProductFactory(sku="QA001", deleted_at=timezone.now())
    client.force_login(manager())
    page = client.get(reverse("catalog:product_detail", args=[product.pk]))
    text = page.content.decode()
    assert page.status_code == 404  # the product page itself is gone
    assert "QA001 was deleted" in text
    restore = reverse("catalog:product_restore", args=[product.pk])
    assert f'action="{restore}"' in text and "Restore QA001" in text
    # the restore that already exists (the Deleted products list's) brings it back
    answer = client.post(restore)
    assert answer["Location"] == reverse("catalog:product_detail", args=[product.pk])
    assert client.get(answer["Location"]).status_code == 200


def test_it_tells_a_reviewer_a_product_was_deleted_without_a_restore(client):
    product = ProductFactory(sku="QA002", deleted_at=timezone.now())
    client.force_login(reviewer())
    page = client.get(reverse("catalog:product_detail", args=[product.pk]))
    text = page.content.decode()
    assert page.status_code == 404 and "QA002 was deleted" in text
    assert "A catalog manager can restore it" in text
    assert reverse("catalog:product_restore", args=[product.pk]) not in text


def test_it_offers_no_restore_once_a_deleted_product_is_purged(client):
    product = ProductFactory(sku="QA003", deleted_at=timezone.now() - timedelta(days=90))
    products_release_purged(deleted_before=timezone.now())
    client.force_login(manager())
    text = client.get(reverse("catalog:product_detail", args=[product.pk])).content.decode()
    assert "QA003 was deleted" in text and "purged" in text
    assert reverse("catalog:product_restore", args=[product.pk]) not in text
    assert Product.objects.get(pk=product.pk).sku.startswith("~")


def test_it_still_answers_404_for_a_product_that_never_existed(client):
    client.force_login(manager())
    assert client.get(reverse("catalog:product_detail", args=[987654])).status_code == 404


def test_it_refuses_a_65_character_sku_with_the_sku_rules_words(client):
    user = manager()
    client.force_login(user)
    page = client.get(reverse("catalog:product_create")).content.decode()
    sku_input = re.search(r'<input[^>]*name="sku"[^>]*>', page).group(0)
    assert "maxlength" not in sku_input  # the browser no longer cuts it silently
    assert "Up to 64 characters" in page
    refused = client.post(reverse("catalog:product_create"), {"sku": "S" * 65})
    assert refused.status_code == 400
    shown = re.findall(r'data-error-for="sku">([^<]*)<', refused.content.decode())
    # the words of every other SKU refusal (one rule, one message), not the API schema's
    bad = client.post(reverse("catalog:product_create"), {"sku": "bad sku!"})
    assert shown == re.findall(r'data-error-for="sku">([^<]*)<', bad.content.decode())
    assert [html.unescape(text) for text in shown] == [SKU_RULE]
    assert "String should have" not in refused.content.decode()
    assert not Product.objects.exists()
    # 64 characters is a SKU
    assert client.post(reverse("catalog:product_create"), {"sku": "S" * 64}).status_code == 302


GOOD_GTIN = "4006381333931"


BAD_GTIN = "12345"


@pytest.mark.parametrize("source", ["session", "zip"])
def test_it_lists_the_manifest_notes_in_the_upload_preview(manager_client, source):
    ProductFactory(sku="OLD-1", gtin=GOOD_GTIN, title="Kept")
    manifest = (f"sku,title,gtin,filename\nQA003,New,{BAD_GTIN},qa003.jpg\n"
                f"OLD-1,New title,{BAD_GTIN},old.jpg\nQA004,Four,,qa004.jpg\n").encode()
    page = manager_client.post(reverse("catalog:import_preview"), {
        "names": ["old.jpg", "qa004.jpg"], "source": source, "create_products": "on",
        "manifest": SimpleUploadedFile("shoot.csv", manifest, "text/csv")})
    assert page.status_code == 200
    notes = re.findall(r'<li data-preview-manifest-note( data-preview-blocks)? class="(\w+)">'
                       r'(.*?)</li>', page.content.decode(), re.S)
    assert len(notes) == 2, page.content.decode()
    (blocks, error_level, error), (warn_blocks, warn_level, warning) = notes
    assert error_level == "error" and "which is not" in error and "qa003.jpg" in error
    # a new product's bad GTIN holds Import ZIP (ui40, QA40 M2); a session's upload holds
    # only that product's files, and an existing product's is a warning either way
    assert bool(blocks) is (source == "zip") and not warn_blocks
    assert warn_level == "warn" and "left as it was" in warning and "OLD-1" in warning.upper()
    assert "2 manifest notes" in page.content.decode()


def test_it_sends_every_file_to_a_product_typed_in_another_case(manager_client):
    product = ProductFactory(sku="QA001")
    answer = manager_client.post(reverse("catalog:bulk_upload"), {"product": "qa001"}, **JSON)
    assert answer.status_code == 200, answer.content
    assert answer.json()["product"] == "QA001"
    assert answer.json()["upload_url"] == reverse("catalog:product_upload", args=[product.pk])


def test_it_refuses_a_deleted_or_ambiguous_product_sku_by_name(manager_client):
    ProductFactory(sku="GONE-1", deleted_at=timezone.now())
    gone = manager_client.post(reverse("catalog:bulk_upload"), {"product": "gone-1"}, **JSON)
    assert gone.status_code == 400 and gone.json()["error"] == "Product GONE-1 is deleted."
    missing = manager_client.post(reverse("catalog:bulk_upload"), {"product": "qa009"}, **JSON)
    assert missing.json()["error"] == "No product with SKU qa009."


def test_it_previews_the_one_product_sku_before_the_upload(manager_client):
    ProductFactory(sku="QA001", title="Blue vase")
    names = ["a.jpg", "b.jpg"]
    found = manager_client.post(reverse("catalog:import_preview"),
                                {"names": names, "product": "qa001", "source": "session"})
    page = found.content.decode()
    assert 'data-preview-product="QA001"' in page and "Blue vase" in page
    assert 'class="error"' not in page
    unknown = manager_client.post(reverse("catalog:import_preview"),
                                  {"names": names, "product": "qa009", "source": "session"})
    # the error upload.js disables Upload on (the preview's "> .error")
    assert re.search(r'data-import-preview-result>\s*<p class="error"[^>]*>No product with '
                     r"SKU qa009\.</p>", unknown.content.decode())


def test_it_names_the_other_file_of_a_folder_upload_by_its_path(manager_client):
    ProductFactory(sku="DUP-2")
    names = ["shoot-a/DUP-2_MAIN.jpg", "shoot-b/DUP-2_MAIN.jpg"]
    page = manager_client.post(reverse("catalog:import_preview"), {
        "names": names, "patterns": "{sku}_{position}.jpg", "source": "session"})
    refused = re.findall(r'<li data-preview-unmapped><span class="name">([^<]*)</span>: '
                         r"<span data-preview-reason>([^<]*)</span></li>", page.content.decode())
    assert [name for name, _why in refused] == ["shoot-b/DUP-2_MAIN.jpg"]
    assert "already taken by shoot-a/DUP-2_MAIN.jpg (from this import" in refused[0][1]


@pytest.mark.parametrize("where", ["upload", "product"])
def test_it_lets_the_file_picker_choose_every_supported_format(manager_client, where):
    url = (reverse("catalog:bulk_upload") if where == "upload" else
           reverse("catalog:product_detail", args=[ProductFactory().pk]))
    text = manager_client.get(url).content.decode()
    accept = re.search(r'<input type="file" multiple accept="([^"]*)" data-pick', text).group(1)
    offered = set(accept.split(","))
    assert "image/*" in offered and ".avif" in offered
    assert offered >= IMAGE_EXTENSIONS


# --- Product page: its images' cutout states while a batch runs ---------------------------------

RUNS_POLL = {**HTMX, "HTTP_HX_TARGET": "asset-runs"}
POLLER = re.compile(r'<p id="asset-runs"[^>]*>')


def _poller(body: str) -> str:
    (tag,) = POLLER.findall(body)
    return tag


def _batch(*assets):
    """A started batch's cutouts, queued (no broker: nothing runs them), by image."""
    from cutouts.services.batches import cutout_batch_start

    batch = cutout_batch_start(assets=list(assets), profile_name="fast")
    return {c.asset_id: c for c in batch.cutouts.all()}


def _ended(cutout, **fields) -> None:
    from cutouts.models import Cutout
    from cutouts.services.status import asset_status_sync

    Cutout.objects.filter(pk=cutout.pk).update(finished_at=timezone.now(), **fields)
    asset_status_sync(cutout.asset_id)


def test_it_polls_only_the_tiles_states_while_a_cutout_is_queued_or_running(reviewer_client):
    from cutouts.services import runs

    product = ProductFactory(sku="POLL-7")
    main = ImageAssetFactory(product=product, position="MAIN")
    side = ImageAssetFactory(product=product, position="PT01")
    versions = _batch(main, side)
    token = runs._claim(versions[side.pk].pk, "w1:1")
    runs.RunProgress(versions[side.pk].pk, token)("Refining edges", 0.45)
    url = reverse("catalog:product_detail", args=[product.pk])

    page = reviewer_client.get(url).content.decode()
    assert "<html" in page and 'hx-trigger="every 1s"' in _poller(page)
    partial = reviewer_client.get(url, **RUNS_POLL)
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body
    poller = _poller(body)
    assert f'hx-get="{url}"' in poller and 'hx-trigger="every 1s"' in poller
    assert "Cutouts queued or running for 2 images" in body
    # each tile's changing parts, swapped out of band; no checkbox, form or whole tile
    for asset in (main, side):
        for part in ("thumbs", "chip", "run"):
            assert re.search(f'id="asset-{part}-{asset.pk}"[^>]*hx-swap-oob="true"', body), part
    assert "data-select-item" not in body and "<form" not in body and "<figure" not in body
    assert f'id="asset-run-{main.pk}" data-run-status="queued"' in body
    assert "Cutout v1 queued" in body
    assert f'id="asset-run-{side.pk}" data-run-status="running"' in body
    assert "Cutout v1 running: Refining edges, 45 %" in body
    assert '<progress max="100" value="45"' in body
    # the running image's chip agrees with its line (its stored status reads queued until
    # the run ends); the one still waiting reads Queued
    chips = re.findall(r'id="asset-chip-(\d+)"[^>]*>.*?data-status="(\w+)">(\w+)</span>', body)
    assert sorted(chips) == sorted([(str(main.pk), "queued", "Queued"),
                                    (str(side.pk), "running", "Running")])
    assert body.count('data-status="queued">Queued</span>') == 1
    assert body.count('data-status="running">Running</span>') == 1
    assert ImageAsset.objects.get(pk=side.pk).status == AssetStatus.QUEUED  # display only
    # the whole page draws the same chip
    assert 'data-status="running">Running</span>' in reviewer_client.get(url).content.decode()


def test_it_stops_polling_and_shows_the_new_cutout_once_every_run_ended(manager_client):
    product = ProductFactory(sku="POLL-8")
    main = ImageAssetFactory(product=product, position="MAIN")
    side = ImageAssetFactory(product=product, position="PT01")
    versions = _batch(main, side)
    url = reverse("catalog:product_detail", args=[product.pk])
    _ended(versions[main.pk], status="done", progress=100)
    body = manager_client.get(url, **RUNS_POLL).content.decode()
    # one image still queued: still polling, the finished one already shown
    assert 'hx-trigger="every 1s"' in _poller(body)
    assert "Cutouts queued or running for 1 image;" in body

    _ended(versions[side.pk], status="failed", error="Model error: no subject found")
    body = manager_client.get(url, **RUNS_POLL).content.decode()
    poller = _poller(body)
    assert "hx-trigger" not in poller and "hx-get" not in poller and " hidden" in poller
    done = versions[main.pk]
    assert f'id="asset-run-{main.pk}" data-run-status="review"' in body
    assert (f'Cutout v1 done · <a href="{reverse("cutouts:review_card", args=[done.pk])}">'
            "awaiting review</a>") in body
    # the tile's cutout thumbnail is the new version's, marked as not approved yet
    thumb = reverse("cutouts:review_image", args=[done.pk, "cutout"]) + "?size=320"
    assert f'src="{thumb}"' in body and "cutout v1, awaiting review" in body
    assert 'data-status="cut_out">Cut out</span>' in body
    assert f'id="asset-run-{side.pk}" data-run-status="failed"' in body
    assert "Cutout v1 failed: Model error: no subject found" in body
    assert reverse("cutouts:batch_detail", args=[versions[side.pk].batch_id]) in body
    # a reload does not poll either, and shows the same states in the tiles
    page = manager_client.get(url).content.decode()
    assert "hx-trigger" not in _poller(page) and f'src="{thumb}"' in page
    assert "Cutout v1 failed: Model error: no subject found" in page


def test_it_answers_a_product_page_without_running_cutouts_with_no_poll(manager_client):
    product = ProductFactory()
    asset = ImageAssetFactory(product=product)
    url = reverse("catalog:product_detail", args=[product.pk])
    page = manager_client.get(url).content.decode()
    assert "hx-trigger" not in _poller(page)
    assert re.search(f'id="asset-run-{asset.pk}" data-run-status="" hidden', page)
    # htmx without the poll's target (upload.js's refresh) still gets the whole grid
    grid = manager_client.get(url, **HTMX).content.decode()
    assert "<html" not in grid and 'id="asset-grid"' in grid
    assert "data-select-item" in grid


def test_it_stops_the_poll_of_a_product_deleted_meanwhile(manager_client):
    product = ProductFactory()
    versions = _batch(ImageAssetFactory(product=product))
    assert versions
    url = reverse("catalog:product_detail", args=[product.pk])
    assert 'hx-trigger="every 1s"' in _poller(manager_client.get(url, **RUNS_POLL).content.decode())
    # 286: htmx's "stop polling" (a 404 would leave it asking every second); htmx swaps its
    # body in the poller's place, so the page says why its tiles stopped changing
    Product.objects.filter(pk=product.pk).update(
        deleted_at=timezone.make_aware(datetime(2026, 12, 4, 14, 7)))
    response = manager_client.get(url, **RUNS_POLL)
    assert response.status_code == 286
    body = response.content.decode()
    poller = _poller(body)
    assert "hx-trigger" not in poller and "hx-get" not in poller and " hidden" not in poller
    assert 'role="alert"' in poller
    assert "This product was deleted at 14:07; reload to see what happened." in body
    assert "hx-swap-oob" not in body  # no tile part: they would reappear as if live
    assert manager_client.get(url, **HTMX).status_code == 404


# --- A browser session whose page stopped sending ------------------------------------------------

QUIET = "the page that was sending them was probably closed"


def _session_file(client, job: ImportJob, name: str, seed: int) -> None:
    response = client.post(reverse("catalog:import_upload_file", args=[job.pk]),
                           {"file": upload(name, product_jpeg(700, 600, seed=seed))}, **JSON)
    assert response.status_code == 201, response.content


def _quiet_for(job: ImportJob, seconds: int) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=seconds))


def test_it_says_when_a_browser_session_has_gone_quiet_with_files_expected(manager_client,
                                                                          storage):
    """QA 2026-12-04: a page left mid-batch read "Running 1 / 3" with a Cancel button and
    nothing else until the idle sweep, 30 min later."""
    ProductFactory(sku="QT1")
    job = import_job_create(user=None, source_kind="upload", expected_files=3)
    _session_file(manager_client, job, "QT1-1.jpg", seed=1)
    _quiet_for(job, 59)
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk]), **HTMX)
    assert QUIET not in page.content.decode()  # a slow line, not yet a closed page
    _quiet_for(job, 3 * 60 + 5)
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk]), **HTMX)
    html = page.content.decode()
    assert ("No file has arrived for 3 min: the page that was sending them was probably "
            "closed. 1 of 3 files arrived; the rest were never sent. Send them again from "
            "the <a") in html
    assert "(duplicates are skipped) or cancel." in html
    assert "ends by itself after 30 min without a file" in html
    assert "No worker has reported" not in html  # a browser session has no worker
    assert 'hx-trigger="every 1s"' in html and ">Cancel</button>" in html
    # the whole page says it too
    full = manager_client.get(reverse("catalog:import_detail", args=[job.pk]))
    assert QUIET in full.content.decode()
    # a file arrives: the page is sending again
    _session_file(manager_client, job, "QT1-2.jpg", seed=2)
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk]), **HTMX)
    assert QUIET not in page.content.decode()
    # the last one ends the session: nothing is missing any more, however long ago
    _session_file(manager_client, job, "QT1-3.jpg", seed=3)
    _quiet_for(job, 10 * 60)
    job.refresh_from_db()
    assert job.status == "done"
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk]), **HTMX)
    assert QUIET not in page.content.decode()


@pytest.mark.parametrize("kind", ["declared-none", "cancelled", "zip"])
def test_it_says_nothing_of_a_quiet_session_where_no_file_is_expected(manager_client, kind):
    if kind == "zip":
        job = ImportJobFactory(status="running", source_kind="zip", progress_total=5,
                               started_at=timezone.now())
    else:
        job = import_job_create(user=None, source_kind="upload",
                                expected_files=0 if kind == "declared-none" else 4)
        if kind == "cancelled":
            import_job_cancel(job_id=job.pk)
    _quiet_for(job, 10 * 60)
    page = manager_client.get(reverse("catalog:import_detail", args=[job.pk]), **HTMX)
    assert QUIET not in page.content.decode()
    # the same quiet with files declared does say it
    if kind == "declared-none":
        ImportJob.objects.filter(pk=job.pk).update(options={**job.options,
                                                            "expected_files": 2})
        page = manager_client.get(reverse("catalog:import_detail", args=[job.pk]), **HTMX)
        assert "0 of 2 files arrived" in page.content.decode()


def test_it_previews_a_new_product_named_by_a_view_word_with_a_warning(manager_client):
    ProductFactory(sku="QA012")
    page = _preview(manager_client, ["front.jpg", "SS26-040/back.jpg", "QA012_ZZZ.jpg"],
                    create_products="on", use_folders="on").replace("&#x27;", "'")
    # a warning, not a refusal: all three are made
    assert "3 of 3 files → 3 products</strong> (3 new)" in page
    assert ("'front' looks like a view (front, back, side…) rather than a SKU; it would "
            "create product front. Put the photos in a folder named by the SKU") in page
    assert page.count("data-preview-lookalike>") == 2  # front, QA012_ZZZ; not SS26-040
    assert "1 new product named like a view" in page
    assert "1 new product like an existing SKU" in page
    # the folder rule off: SS26-040/back.jpg is read as "back", warned about the same way
    page = _preview(manager_client, ["SS26-040/back.jpg"], create_products="on",
                    use_folders="").replace("&#x27;", "'")
    assert 'data-preview-sku="back"' in page and "'back' looks like a view" in page


def test_it_mentions_view_words_under_which_reading_wins_only_with_the_folder_rule_on(
        manager_client):
    def rules(page: str) -> str:
        return page.split("Which reading wins", 1)[1]

    on = rules(_preview(manager_client, ["SS26-040/front.jpg"], use_folders="on"))
    assert "data-preview-view-words" in on and "view word" in on
    assert "<li>the folder name</li>" in on
    off = rules(_preview(manager_client, ["SS26-040/front.jpg"], use_folders=""))
    assert "data-preview-view-words" not in off and "view word" not in off
    assert "the folder name" not in off and "In a folder" not in off
    assert ("<li>the file name as the SKU ({sku}), unless it is a camera or sequence "
            "name</li>") in off


def test_it_previews_a_photos_folder_in_each_sku_folder_as_the_sku_folders_products(
        manager_client):
    page = _preview(manager_client, [
        "SS26-ZIP-H/photos/front.jpg", "SS26-ZIP-H/photos/back.jpg",
        "SS26-ZIP-J/photos/front.jpg", "SS26-ZIP-J/photos/back.jpg",
        "Season26/SKU-1/front.jpg"], create_products="on", use_folders="on")
    assert "5 of 5 files → 3 products</strong> (3 new)" in page
    skus, unmapped = _preview_parts(page)
    assert skus == {"SS26-ZIP-H", "SS26-ZIP-J", "SKU-1"} and not unmapped
    assert "innermost one not named like a container" in page


# --- Already stored? (upload_known) and empty files in the preview -----------------------------


def test_it_answers_only_the_sizes_and_hashes_stored_for_live_products(manager_client):
    kept = ImageAssetFactory(product=ProductFactory(sku="KEEP-1"), position="PT02",
                             sha256="a" * 64, bytes=4321)
    ImageAssetFactory(sha256="b" * 64, bytes=5555, deleted_at=timezone.now())
    ImageAssetFactory(product=ProductFactory(sku="GONE-1", deleted_at=timezone.now()),
                      sha256="c" * 64, bytes=6666)
    response = manager_client.post(reverse("catalog:upload_known"), {
        "size": ["4321", "5555", "6666", "7"],
        "sha256": ["A" * 64, "b" * 64, "c" * 64, "d" * 64],
    })
    assert response.status_code == 200
    assert response.json() == {
        "sizes": [4321],
        "known": {"a" * 64: [{"sku": "KEEP-1", "position": "PT02", "asset": kept.pk}]},
    }


def test_it_refuses_more_hashes_than_the_cap_and_malformed_values(manager_client, settings):
    from catalog import views

    url = reverse("catalog:upload_known")
    too_many = manager_client.post(url, {"sha256": ["e" * 64] * (views.MAX_KNOWN_VALUES + 1)})
    assert too_many.status_code == 400
    assert "At most 500 sizes" in too_many.json()["error"]
    assert manager_client.post(url, {"size": ["1"] * (views.MAX_KNOWN_VALUES + 1)}
                               ).status_code == 400
    assert manager_client.post(url, {"sha256": ["e" * 64] * views.MAX_KNOWN_VALUES}
                               ).status_code == 200
    assert manager_client.post(url, {"sha256": ["xyz"]}).status_code == 400
    assert manager_client.post(url, {"size": ["-4"]}).status_code == 400


@pytest.mark.parametrize("who", ["anonymous", "reviewer"])
def test_it_answers_stored_hashes_only_to_a_manager(client, who):
    ImageAssetFactory(sha256="a" * 64)
    if who == "reviewer":
        client.force_login(reviewer())
    response = client.post(reverse("catalog:upload_known"), {"sha256": ["a" * 64]})
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == 403
    assert b"a" * 64 not in response.content


def test_it_needs_the_csrf_token_to_answer_stored_hashes():
    from django.test import Client

    ImageAssetFactory(sha256="a" * 64)
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager())
    url = reverse("catalog:upload_known")
    refused = client.post(url, {"sha256": ["a" * 64]})
    assert refused.status_code == 403 and b"CSRF" in refused.content
    client.get(reverse("catalog:bulk_upload"))
    answer = client.post(url, {"sha256": ["a" * 64]},
                         HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert answer.status_code == 200 and list(answer.json()["known"]) == ["a" * 64]


def test_it_previews_an_empty_file_as_refused_and_makes_no_product_for_it(manager_client):
    page = _preview(manager_client, ["MU-EMPTY_MAIN.jpg", "MU-FULL_MAIN.jpg", "MU-FULL_PT01.jpg"],
                    empty=["MU-EMPTY_MAIN.jpg"], create_products="on")
    assert "2 of 3 files → 1 product" in page and "(1 new)" in page
    assert 'data-preview-sku="MU-EMPTY"' not in page
    assert "1 empty (0 bytes)" in page
    assert re.search(r'<li data-preview-empty-file><span class="name">MU-EMPTY_MAIN.jpg</span>: '
                     r"<span data-preview-reason>Not an image, or a corrupt one: the file is "
                     r"empty.</span></li>", page)
    # the page tells a duplicate from a copy on another product by the preview's mapping
    assert '"MU-FULL_PT01.jpg": "MU-FULL"' in page



def test_it_reads_a_sha_named_value_and_leaves_a_malformed_one_out():
    from catalog.views import MAX_PATH_CHARS, _sha_named

    sha = "ab" * 32
    assert _sha_named(f"{sha.upper()}:SK1_PT01.jpg") == ("SK1_PT01.jpg", sha)
    # a colon in the name is the name's: the hash is the first 64 characters
    assert _sha_named(f"{sha}:a:b.jpg") == ("a:b.jpg", sha)
    long = "d/" * MAX_PATH_CHARS + "x.jpg"
    assert _sha_named(f"{sha}:{long}") == (long[:MAX_PATH_CHARS], sha)
    for bad in (f"{'g' * 64}:SK1.jpg",  # not hex
                f"{sha[:40]}:SK1.jpg", f"{sha}0:SK1.jpg",  # too short, too long
                f"{sha}SK1.jpg", f"{sha}:", f"{sha}:   ",  # no colon, no name, a blank one
                7, None, [f"{sha}:SK1.jpg"]):  # not a string
        assert _sha_named(bad) is None, bad


def test_it_reads_a_json_field_of_the_kind_asked_and_none_otherwise():
    from catalog.views import _json_field

    assert _json_field('["a.jpg", 3]', list) == ["a.jpg", 3]
    assert _json_field('{"a.jpg": [1, 2]}', dict) == {"a.jpg": [1, 2]}
    for raw, kind in (("{not json", dict), ("", list), ('["a.jpg"', list),  # not JSON
                      ('{"a": 1}', list), ('["a"]', dict), ("7", list), ('"a"', list),
                      ("null", dict),  # another type
                      ("[" * 100_000, list), ('{"a":' * 100_000, dict)):  # nested too deep
        assert _json_field(raw, kind) is None, raw[:20]

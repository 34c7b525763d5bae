import html
import io
import re
import urllib.request
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.core.files.storage import storages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from storages.backends.s3 import S3Storage

from cutouts.models import ExportJob, JobStatus, Preset
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs
from cutouts.tasks import export_job_run_task
from tests.api.conftest import ApiClient, key_for
from tests.conftest import s3_bucket
from tests.cutouts.test_export_selectors import _brand_catalog, _exported_then_refused
from tests.factories import ImageAssetFactory, ProductFactory, manager, reviewer

from .export_helpers import MARKET_PHOTO, SMALL, approved_cutout, done_cutout, run_job, run_presets

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_job(sent):
    approved_cutout(product=ProductFactory(sku="VIEW-1", asin="B0VIEW0001"))
    job = export_jobs.export_job_create(user=manager(), presets=["amazon_main"])
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    return job


def signs_urls() -> bool:
    """CI also runs the suite against S3, where downloads redirect to a signed URL."""
    return bool(getattr(storages["exports"], "querystring_auth", False))


def download(client, url: str, **params) -> tuple[bytes, str]:
    """(content, Content-Disposition) whichever way the storage serves it."""
    response = client.get(url, params)
    if signs_urls():
        assert response.status_code == 302
        with urllib.request.urlopen(response["Location"]) as fetched:
            return fetched.read(), fetched.headers["Content-Disposition"]
    assert response.status_code == 200
    return b"".join(response.streaming_content), response["Content-Disposition"]


def view_urls(job_id: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("cutouts:export_list")),
        ("post", reverse("cutouts:export_start")),
        ("get", reverse("cutouts:export_detail", args=[job_id])),
        ("post", reverse("cutouts:export_cancel", args=[job_id])),
        ("get", reverse("cutouts:export_download", args=[job_id])),
    ]


def test_every_export_view_is_for_managers_only(client, finished_job):
    for method, url in view_urls(finished_job.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login")
    client.force_login(reviewer())
    for method, url in view_urls(finished_job.pk):
        assert getattr(client, method)(url).status_code == 403, url
    client.force_login(manager())
    expected = {"export_list": 200, "export_start": 400, "export_detail": 200,
                "export_cancel": 302, "export_download": 302 if signs_urls() else 200}
    for (method, url), code in zip(view_urls(finished_job.pk), expected.values(), strict=True):
        assert getattr(client, method)(url).status_code == code, url


def test_the_form_starts_an_export_and_enqueues_it_after_commit(
        client, sent, django_capture_on_commit_callbacks):
    product = ProductFactory(sku="FORM-1", asin="B0FORM0001", brand="Zeta")
    approved_cutout(product=product)
    client.force_login(manager())
    page = client.get(reverse("cutouts:export_list"))
    assert b'value="amazon_main"' in page.content and b"Zeta" in page.content
    form = {"presets": ["amazon_main", "walmart"], "skus": "FORM-1", "brand": "Zeta",
            "approved_since": "2020-01-01", "destination": "download", "dry_run": "on"}
    # FORM-1 has no GTIN: Walmart cannot name it, said before a real export starts
    real = {k: v for k, v in form.items() if k != "dry_run"}
    warned = client.post(reverse("cutouts:export_start"), real)
    assert warned.status_code == 200 and not ExportJob.objects.exists()
    assert b'id="precheck-warnings"' in warned.content and b'name="precheck_ok"' in warned.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("cutouts:export_start"),
                               {**form, "precheck_ok": "1"})
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cutouts:export_detail", args=[job.pk])
    assert sent == [job.pk]
    assert job.dry_run and not job.include_failing and job.presets == ["amazon_main", "walmart"]
    assert job.filters == {"product_ids": [product.pk], "brand": "Zeta",
                           "approved_since": "2020-01-01"}


def test_it_takes_export_anyway_from_the_precheck_field_only(client, sent):
    """The pre-check's warnings are of many kinds (naming gaps, not approved, a newer
    version, enlarged, cut by the edge): its "Export anyway" field was renamed from
    ``naming_gaps_ok`` to ``precheck_ok`` (2026-12-07, lows43), and nothing outside the form
    posts the old name, so it no longer skips the warnings."""
    approved_cutout(product=ProductFactory(sku="PRE-1", asin="B0PRE00001", gtin=""))
    client.force_login(manager())
    form = {"presets": ["walmart"], "skus": "PRE-1", "destination": "download"}
    old = client.post(reverse("cutouts:export_start"), {**form, "naming_gaps_ok": "1"})
    assert old.status_code == 200 and not ExportJob.objects.exists()
    assert 'id="precheck-warnings"' in old.content.decode()
    new = client.post(reverse("cutouts:export_start"), {**form, "precheck_ok": "1"})
    assert new.status_code == 302 and ExportJob.objects.count() == 1


def test_a_dry_run_goes_past_the_warnings_and_says_them_after(client, sent):
    """QA 2026-12-06: a dry run stopped at "Nothing has started … Start anyway" though it
    writes nothing; it is the preview of what that gate warns of."""
    approved_cutout(product=ProductFactory(sku="DRY-1", asin="B0DRY00001", gtin=""))
    client.force_login(manager())
    form = {"presets": ["walmart"], "skus": "DRY-1", "destination": "download"}
    warned = client.post(reverse("cutouts:export_start"), form)
    page = warned.content.decode()
    assert 'id="precheck-warnings"' in page and not ExportJob.objects.exists()
    # the gate's words: the fixes, then what exporting anyway does, the button named once
    advice = page.split('id="precheck-advice">')[1].split("</p>")[0]
    assert advice.startswith("Nothing has started. To fix it: ")
    assert "start anyway" not in advice.lower() and "If you export anyway: " in advice
    assert page.count("Export anyway") == 1 and "Start anyway" not in page
    dry = client.post(reverse("cutouts:export_start"), {**form, "dry_run": "on"})
    job = ExportJob.objects.get()
    assert dry.status_code == 302 and job.dry_run
    said = [str(m) for m in get_messages(dry.wsgi_request)]
    assert said[0].startswith(f"Dry run {job.pk} queued: ")
    assert said[1].startswith("A real export would stop first to warn of: ")
    assert "DRY-1" in said[1] and "GTIN" in said[1]


def test_the_form_shows_unknown_skus_and_collisions(client, sent):
    product = ProductFactory(sku="CLASH-1", asin="B0CLASH001")
    approved_cutout(product=product)
    approved_cutout(product=product)
    client.force_login(manager())
    response = client.post(reverse("cutouts:export_start"), {
        "presets": ["amazon_main"], "skus": "NOPE-9", "destination": "download"})
    assert response.status_code == 400 and b"Unknown SKU(s): NOPE-9" in response.content
    ProductFactory(sku="GONE-1", deleted_at=timezone.now())
    response = client.post(reverse("cutouts:export_start"), {
        "presets": ["amazon_main"], "skus": "NOPE-9\nGONE-1", "destination": "download"})
    assert b"Unknown SKU(s): NOPE-9; Deleted product(s): GONE-1" in response.content
    response = client.post(reverse("cutouts:export_start"),
                           {"presets": ["amazon_main"], "skus": "CLASH-1",
                            "destination": "download"})
    assert response.status_code == 400
    assert b'id="collisions"' in response.content
    assert b"amazon_main/B0CLASH001.MAIN.jpg" in response.content
    assert not ExportJob.objects.exists() and sent == []


def test_the_job_page_polls_while_active_and_reloads_when_finished(client, sent):
    approved_cutout(product=ProductFactory(sku="POLL-1", asin="B0POLL0001"), size=MARKET_PHOTO)
    job = export_jobs.export_job_create(user=manager(), presets=["amazon_main"])
    client.force_login(manager())
    url = reverse("cutouts:export_detail", args=[job.pk])
    partial = client.get(url, headers={"HX-Request": "true"})
    assert b'hx-trigger="every 1s"' in partial.content and b"0 / 1" in partial.content
    assert "HX-Refresh" not in partial
    export_job_run_task(job.pk)
    partial = client.get(url, headers={"HX-Request": "true"})
    assert partial["HX-Refresh"] == "true" and b"every 1s" not in partial.content
    page = client.get(url)
    assert b'id="results"' in page.content and b"amazon_main/B0POLL0001.MAIN.jpg" in page.content
    assert b'id="download-zip"' in page.content and b">ok<" in page.content


def test_the_job_page_lists_excluded_variants_with_reasons(client, sent):
    approved_cutout(product=ProductFactory(sku="EXCL-1"))  # no GTIN: Walmart cannot name it
    job = export_jobs.export_job_create(user=manager(), presets=["walmart"])
    export_job_run_task(job.pk)
    client.force_login(manager())
    page = client.get(reverse("cutouts:export_detail", args=[job.pk]))
    assert b'id="excluded"' in page.content
    assert b"EXCL-1 has no GTIN; Walmart files are named by GTIN" in page.content


def test_an_export_that_wrote_no_file_says_so_and_offers_no_zip(client, sent):
    for sku in ("NONE-1", "NONE-2"):  # no GTIN: Walmart can name neither
        approved_cutout(product=ProductFactory(sku=sku))
    job = export_jobs.export_job_create(user=manager(), presets=["walmart"])
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    assert (job.exported_count, job.failed_count, job.zip_name) == (0, 2, "")
    assert job.message == "0 files written: all 2 excluded — see the reasons."
    client.force_login(manager())
    page = client.get(reverse("cutouts:export_detail", args=[job.pk])).content.decode()
    assert 'id="download-zip"' not in page and "Download manifest.csv" in page
    assert "Nothing to download." in page and "all 2 excluded" in page
    listing = client.get(reverse("cutouts:export_list")).content.decode()
    assert "Download ZIP" not in listing
    assert client.get(reverse("cutouts:export_download", args=[job.pk])).status_code == 404


def test_the_export_list_says_how_many_files_a_dry_run_would_export(client, sent):
    for sku in ("DRY-1", "DRY-2"):
        approved_cutout(product=ProductFactory(sku=sku, asin=f"B0{sku}XXX"))
    job = export_jobs.export_job_create(user=manager(), presets=["amazon_main", "walmart"],
                                        dry_run=True)
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    assert job.message == "Dry run: 2 file(s) would be exported, 2 excluded; nothing written."
    client.force_login(manager())
    listing = client.get(reverse("cutouts:export_list")).content.decode()
    assert "2 would be exported" in listing and "0 exported" not in listing
    assert "2 excluded" in listing


def test_the_download_streams_the_zip_from_storage(client, finished_job):
    client.force_login(manager())
    url = reverse("cutouts:export_download", args=[finished_job.pk])
    content, disposition = download(client, url)
    assert disposition == f'attachment; filename="cutroom-export-{finished_job.pk}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.namelist() == ["amazon_main/B0VIEW0001.MAIN.jpg", "manifest.csv"]
    manifest, _ = download(client, url, file="manifest")
    assert manifest.decode("utf-8-sig").startswith("sku,gtin,asin")


def test_a_dry_run_has_no_zip_to_download(client, sent):
    approved_cutout(product=ProductFactory(asin="B0NOZIP001"))
    job = export_jobs.export_job_create(user=manager(), presets=["amazon_main"], dry_run=True)
    export_job_run_task(job.pk)
    client.force_login(manager())
    assert client.get(reverse("cutouts:export_download", args=[job.pk])).status_code == 404


def test_the_download_redirects_to_a_short_lived_signed_url_on_s3(client, finished_job,
                                                                  monkeypatch, s3_endpoint):
    s3 = S3Storage(bucket_name=s3_bucket(s3_endpoint, "exports-test"), endpoint_url=s3_endpoint,
                   access_key="test", secret_key="test", region_name="us-east-1",
                   addressing_style="path", default_acl="private", querystring_auth=True,
                   querystring_expire=60, file_overwrite=False, location="exports",
                   signature_version="s3v4")
    s3.save(finished_job.zip_name, io.BytesIO(b"zip bytes"))
    monkeypatch.setattr("catalog.serving.storages", {"exports": s3})
    client.force_login(manager())
    response = client.get(reverse("cutouts:export_download", args=[finished_job.pk]))
    assert response.status_code == 302
    url = response["Location"]
    assert "X-Amz-Signature" in url and "X-Amz-Expires=60" in url
    with urllib.request.urlopen(url) as fetched:
        assert fetched.read() == b"zip bytes"
        assert "attachment" in fetched.headers["Content-Disposition"]


def test_a_get_of_the_start_address_shows_the_export_page(client, sent):
    # A reloaded or bookmarked form address used to answer a bare 405.
    client.force_login(manager())
    response = client.get(reverse("cutouts:export_start"), {"sku": "A-1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("cutouts:export_list") + "?sku=A-1"
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"Recent exports" in page.content
    client.force_login(reviewer())
    assert client.get(reverse("cutouts:export_start")).status_code == 403


def test_cancel_stops_a_queued_job(client, sent):
    approved_cutout(product=ProductFactory(asin="B0CANCEL02"))
    job = export_jobs.export_job_create(user=manager(), presets=["amazon_main"])
    client.force_login(manager())
    client.post(reverse("cutouts:export_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_cancel_of_an_export_that_already_ended_says_so(client, finished_job):
    client.force_login(manager())
    response = client.post(reverse("cutouts:export_cancel", args=[finished_job.pk]),
                           follow=True)
    assert response.redirect_chain[-1][0] == reverse("cutouts:export_detail",
                                                     args=[finished_job.pk])
    assert (f"Export {finished_job.pk} is already done; nothing is left to cancel."
            in response.content.decode())
    finished_job.refresh_from_db()
    assert finished_job.status == JobStatus.DONE


def test_a_cancelled_export_says_what_it_rendered_before_the_cancel_not_exported(client, sent):
    approved_cutout(product=ProductFactory(asin="B0CANCEL04"))
    job = export_jobs.export_job_cancel(
        job=export_jobs.export_job_create(user=manager(), presets=["amazon_main"]))
    # what a run had counted when it noticed the cancel (it wrote no ZIP)
    ExportJob.objects.filter(pk=job.pk).update(exported_count=15)
    client.force_login(manager())
    for url in (reverse("cutouts:export_list"), reverse("cutouts:export_detail", args=[job.pk])):
        page = client.get(url).content.decode()
        assert "15 rendered before cancel" in page and "15 exported" not in page, url
    # a cancelled run keeps no report of what it excluded: no count without its reasons
    ExportJob.objects.filter(pk=job.pk).update(failed_count=1)
    assert "excluded" not in client.get(reverse("cutouts:export_list")).content.decode()


def test_a_cancelled_dry_run_says_so_not_what_it_would_export(client, sent):
    approved_cutout(product=ProductFactory(asin="B0CANCEL05"))
    job = export_jobs.export_job_cancel(job=export_jobs.export_job_create(
        user=manager(), presets=["amazon_main"], dry_run=True))
    ExportJob.objects.filter(pk=job.pk).update(progress_total=80)
    client.force_login(manager())
    for url in (reverse("cutouts:export_list"), reverse("cutouts:export_detail", args=[job.pk])):
        page = client.get(url).content.decode()
        assert "dry run cancelled" in page and "80 would be exported" not in page, url


def test_the_form_exports_a_custom_spec_per_line(client, sent):
    approved_cutout(product=ProductFactory(sku="SPEC-F1"))
    client.force_login(manager())
    page = client.get(reverse("cutouts:export_list")).content.decode()
    assert "Custom spec" in page and 'name="specs"' in page
    response = client.post(reverse("cutouts:export_start"), {
        "specs": "square-600|bg-ffffff|format-jpeg\n\n  square-300|format-png  \n",
        "destination": "download"})
    assert response.status_code == 302, response.content.decode()
    job = ExportJob.objects.get()
    assert job.presets == ["spec:square-600|bg-ffffff|format-jpeg", "spec:square-300|format-png"]
    assert export_job_run_task(job.pk) == "done"


def test_the_form_names_the_custom_spec_field_in_the_apis_words(client, sent):
    from django.utils.html import escape

    from cutouts.errors import ExportError

    approved_cutout(product=ProductFactory(sku="SPEC-F2"))
    client.force_login(manager())
    specs = ["squar-600|bg-fffff", "square-600|format-jpeg"]
    response = client.post(reverse("cutouts:export_start"), {
        "presets": ["amazon_main"], "specs": "\n".join(specs), "destination": "download"})
    assert response.status_code == 400
    # the service's refusal, which the API's 422 passes on as errors[{field: "specs"}]
    with pytest.raises(ExportError) as refused:
        export_jobs.export_job_create(presets=["amazon_main"], specs=specs)
    message = str(refused.value)
    assert "'squar'" in message and "format-jpeg cannot store transparency" in message
    assert f'<span class="error" data-error-for="specs">{escape(message)}</span>' in (
        response.content.decode())
    # nothing picked at all: the service's words, on the presets
    response = client.post(reverse("cutouts:export_start"), {"destination": "download"})
    assert response.status_code == 400 and escape(export_jobs.NOTHING_TO_RENDER) in (
        response.content.decode())
    assert not ExportJob.objects.exists()


def _export_ids(html: str) -> list[int]:
    table = html.split('id="export-jobs"', 1)[1].split("</table>", 1)[0]
    return [int(pk) for pk in re.findall(r">Export (\d+)</a>", table)]


def test_it_pages_recent_exports_newest_first_with_older_and_newer_links(
        client, django_assert_max_num_queries):
    from cutouts.selectors import export as export_selectors
    from cutouts.views.export import RECENT_EXPORTS_PAGE_SIZE as size

    boss = manager()
    jobs = ExportJob.objects.bulk_create(
        [ExportJob(presets=["amazon_main"], created_by=boss) for _ in range(2 * size + 3)])
    newest = sorted((j.pk for j in jobs), reverse=True)
    with django_assert_max_num_queries(1):  # the page and who started each job: one query
        assert [j.created_by.pk for j in export_selectors.export_job_page(size=2)
                .items] == [boss.pk, boss.pk]
    client.force_login(boss)
    url = reverse("cutouts:export_list")
    first = client.get(url).content.decode()
    assert _export_ids(first) == newest[:size]
    assert "‹ Newer" not in first and "« Newest" not in first
    older = re.search(r'href="/cutouts/export/\?before=(\d+)#recent-exports"', first)
    assert older
    second = client.get(url, {"before": older.group(1)}).content.decode()
    assert _export_ids(second) == newest[size:2 * size] and "« Newest" in second
    third_link = re.search(r'\?before=(\d+)#recent-exports"', second)
    third = client.get(url, {"before": third_link.group(1)}).content.decode()
    assert _export_ids(third) == newest[2 * size:] and "Older ›" not in third
    newer = re.search(r'\?after=(\d+)#recent-exports"', third)
    assert _export_ids(client.get(url, {"after": newer.group(1)}).content.decode()) == \
        newest[size:2 * size]
    # Nonsense in the query string is the first page, not a 500.
    junk = client.get(url, {"before": "x", "after": "-1"})
    assert junk.status_code == 200 and _export_ids(junk.content.decode()) == newest[:size]


def test_it_shows_no_paging_links_when_every_export_fits_one_page(client, finished_job):
    client.force_login(manager())
    html = client.get(reverse("cutouts:export_list")).content.decode()
    assert _export_ids(html) == [finished_job.pk]
    assert 'aria-label="Pages of recent exports"' not in html


def test_the_form_finds_skus_in_any_case(client, sent):
    product = ProductFactory(sku="QA004", asin="B0QA004001")
    approved_cutout(product=product, size=MARKET_PHOTO)
    client.force_login(manager())
    response = client.post(reverse("cutouts:export_start"), {
        "presets": ["amazon_main"], "skus": "qa004", "destination": "download"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ExportJob.objects.get().filters["product_ids"] == [product.pk]


def test_the_form_warns_before_start_how_many_products_lack_a_gtin(client, sent):
    approved_cutout(product=ProductFactory(sku="GT-1", gtin="4006381333931"), size=MARKET_PHOTO)
    approved_cutout(product=ProductFactory(sku="GT-2"), size=MARKET_PHOTO)
    approved_cutout(product=ProductFactory(sku="GT-3", asin="B0GT300001"), size=MARKET_PHOTO)
    client.force_login(manager())
    form = {"presets": ["walmart", "amazon_main"], "skus": "GT-1, GT-2, GT-3",
            "destination": "download"}
    page = client.post(reverse("cutouts:export_start"), form)
    assert page.status_code == 200 and not ExportJob.objects.exists()
    text = page.content.decode()
    assert ("Walmart files are named by GTIN: 2 of 3 selected product(s) have none "
            "(GT-2, GT-3); their images will be excluded from Walmart.") in text
    assert "Amazon" not in text.split('id="precheck-warnings"')[1].split("</div>")[0]  # ASIN or SKU
    response = client.post(reverse("cutouts:export_start"), {**form, "precheck_ok": "1"})
    assert response.status_code == 302 and ExportJob.objects.count() == 1
    # nothing to say: no warning step
    ExportJob.objects.all().delete()
    response = client.post(reverse("cutouts:export_start"), {**form, "skus": "GT-1"})
    assert response.status_code == 302


def test_the_excluded_table_names_the_image(client, sent):
    product = ProductFactory(sku="QA001")  # no GTIN: both images are excluded from Walmart
    main = approved_cutout(product=product, position="MAIN")
    back = approved_cutout(product=product, position="PT01")
    job = export_jobs.export_job_create(user=manager(), presets=["walmart"])
    export_job_run_task(job.pk)
    client.force_login(manager())
    page = client.get(reverse("cutouts:export_detail", args=[job.pk])).content.decode()
    table = page.split('id="excluded"')[1].split("</table>")[0]
    assert "<th>Image</th>" in table
    assert f"MAIN <span class=\"muted\">· asset #{main.asset_id}</span>" in table
    assert f"PT01 <span class=\"muted\">· asset #{back.asset_id}</span>" in table
    assert "(no file name)" in table


def _mixed_products():
    """DOLL-011 and GIRAFFE-013 imported, never cut (GIRAFFE-013's PT01 awaiting review);
    TOOL-001 and PLUSH-002 approved."""
    from catalog.models import ImageAsset
    from cutouts.services.status import assets_status_sync
    from tests.factories import ImageAssetFactory

    from .export_helpers import done_cutout

    ImageAssetFactory(product=ProductFactory(sku="DOLL-011"), position="MAIN")
    giraffe = ProductFactory(sku="GIRAFFE-013")
    ImageAssetFactory(product=giraffe, position="MAIN")
    done_cutout(product=giraffe, position="PT01")
    approved_cutout(product=ProductFactory(sku="TOOL-001"), size=MARKET_PHOTO)
    approved_cutout(product=ProductFactory(sku="PLUSH-002"), size=MARKET_PHOTO)
    assets_status_sync(asset_ids=ImageAsset.objects.values_list("pk", flat=True))


def test_it_warns_before_start_of_selected_skus_without_an_approved_image(client, sent):
    _mixed_products()
    client.force_login(manager())
    form = {"presets": ["ebay"], "skus": "DOLL-011, GIRAFFE-013, TOOL-001",
            "destination": "download"}
    page = client.post(reverse("cutouts:export_start"), form)
    assert page.status_code == 200 and not ExportJob.objects.exists()
    warning = page.content.decode().split('id="precheck-warnings"')[1].split("</div>")[0]
    assert ("DOLL-011, GIRAFFE-013 have no approved image; no cutout: DOLL-011 MAIN, "
            "GIRAFFE-013 MAIN; awaiting review: GIRAFFE-013 PT01") in warning
    assert 'name="precheck_ok"' in page.content.decode()
    response = client.post(reverse("cutouts:export_start"), {**form, "precheck_ok": "1"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert export_job_run_task(job.pk) == "done"
    page = client.get(reverse("cutouts:export_detail", args=[job.pk])).content.decode()
    assert "3 selected image(s) not exported: not approved" in page
    table = page.split('id="not-approved"')[1].split("</table>")[0]
    assert "GIRAFFE-013" in table and "not approved: awaiting review" in table


def test_it_splits_the_sku_list_on_any_whitespace_commas_and_semicolons(client, sent):
    _mixed_products()
    client.force_login(manager())
    response = client.post(reverse("cutouts:export_start"), {
        "presets": ["ebay"], "skus": "TOOL-001 PLUSH-002", "destination": "download"})
    assert response.status_code == 302, response.content.decode()[:2000]
    ExportJob.objects.all().delete()
    response = client.post(reverse("cutouts:export_start"), {
        "presets": ["ebay"], "skus": "TOOL-001\tPLUSH-002;\r\n  tool-001 ;",
        "destination": "download"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert len(ExportJob.objects.get().filters["product_ids"]) == 2


def test_its_custom_spec_example_centres_the_product_and_a_bare_margin_is_noted(client, sent):
    approved_cutout(product=ProductFactory(sku="SPEC-2"), size=MARKET_PHOTO)
    client.force_login(manager())
    page = client.get(reverse("cutouts:export_list")).content.decode()
    assert "trim|fill-85|square-1200|bg-ffffff|format-jpeg" in page
    assert "e.g. square-1200|bg-ffffff|format-jpeg" not in page
    form = {"specs": "margin-60|square-800|bg-ffffff|format-jpeg", "skus": "SPEC-2",
            "destination": "download"}
    page = client.post(reverse("cutouts:export_start"), form)
    assert page.status_code == 200 and not ExportJob.objects.exists()
    assert "margin only acts with trim or fill" in page.content.decode()
    response = client.post(reverse("cutouts:export_start"), {**form, "precheck_ok": "1"})
    assert response.status_code == 302


def test_the_job_page_shows_each_custom_specs_string_beside_its_folder(client, sent):
    from cutouts.selectors.export import spec_preset

    approved_cutout(product=ProductFactory(sku="SPEC-3"), size=MARKET_PHOTO)
    spec = "trim|fill-85|square-400|bg-ffffff|format-jpeg"
    job = export_jobs.export_job_create(user=manager(), specs=[spec])
    assert export_job_run_task(job.pk) == "done"
    client.force_login(manager())
    page = client.get(reverse("cutouts:export_detail", args=[job.pk])).content.decode()
    folder = spec_preset(spec).name
    specs = page.split('id="custom-specs"')[1].split("</dl>")[0]
    assert f"<code>{folder}/</code>" in specs
    assert f'<code data-spec-for="{folder}">{spec_preset(spec).spec}</code>' in specs
    # and on the contact sheet, under the hash
    cell = page.split('class="sheet-cell"')[1].split("</li>")[0]
    assert folder in cell and spec_preset(spec).spec in cell


def test_the_scene_preview_counts_images_and_products_apart(client, sent):
    from cutouts.services import scenes

    from .test_export_scenes import room_jpeg

    scenes.background_create(user=manager(), name="Oak table", slug="oak", data=room_jpeg())
    product = ProductFactory(sku="LAMP-2")
    for position in ("MAIN", "PT01", "PT02"):
        approved_cutout(product=product, position=position)
    client.force_login(manager())
    page = client.post(reverse("cutouts:export_start"), {
        "preview": "1", "presets": ["web_hero"], "backgrounds": ["oak"], "skus": "LAMP-2",
        "destination": "download"}).content.decode()
    assert "3 image(s) of 1 product(s) × 1 background(s)" in page


def test_it_writes_into_the_safe_folder_and_the_form_says_so(client, sent):
    client.force_login(manager())
    approved_cutout(product=ProductFactory(sku="FOLD-1", asin="B0FOLD0001"))
    made = client.post(reverse("cutouts:export_start"),
                       {"presets": ["ebay"], "destination": "folder", "folder": "spring/con"})
    assert made.status_code == 302
    job = run_job(ExportJob.objects.get())
    assert job.folder == "spring/con_"
    assert storages["exports"].exists("spring/con_/manifest.csv")
    said = [str(m) for m in get_messages(made.wsgi_request)]
    assert "Folder 'spring/con' is written as 'spring/con_'" in said[-1]


def test_it_says_which_spaces_and_slash_it_dropped_from_the_folder(client, sent):
    """QA 2026-12-06: " lead" became "lead" without a word."""
    client.force_login(manager())
    approved_cutout(product=ProductFactory(sku="FOLD-3", asin="B0FOLD0003"))
    # nothing typed: the default folder, with no note claiming a rename
    plain = client.post(reverse("cutouts:export_start"),
                        {"presets": ["ebay"], "destination": "folder", "folder": ""})
    assert ExportJob.objects.get().folder.startswith("export-")
    assert not [m for m in get_messages(plain.wsgi_request) if "written as" in str(m)]
    made = client.post(reverse("cutouts:export_start"),
                       {"presets": ["ebay"], "destination": "folder", "folder": " lead/"})
    assert made.status_code == 302 and ExportJob.objects.latest("pk").folder == "lead"
    said = [str(m) for m in get_messages(made.wsgi_request)]
    assert said[-1] == ("Folder ' lead/' is written as 'lead': the spaces around it were "
                        "removed; the trailing '/' was removed.")


def test_it_tells_the_api_client_which_folder_is_used():
    user = manager()
    approved_cutout(product=ProductFactory(sku="FOLD-2", asin="B0FOLD0002"))
    api = ApiClient(key_for(user, "manager"))
    created = api.post("/api/v1/exports", {"presets": ["ebay"], "destination": "folder",
                                           "folder": "aux/x"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["folder"] == "aux_/x"
    [renamed] = [w for w in body["warnings"] if w["code"] == "folder-renamed"]
    assert "'aux/x' is written as 'aux_/x'" in renamed["message"]
    plain = api.post("/api/v1/exports", {"presets": ["ebay"], "destination": "folder",
                                         "folder": "spring/amazon"})
    assert not [w for w in plain.json()["warnings"] if w["code"] == "folder-renamed"]


def test_it_shows_the_latest_refusal_on_the_product_page_and_the_review_card(client):
    tiny, refusing = _exported_then_refused()
    client.force_login(manager())
    pages = {url: html.unescape(client.get(url).content.decode()) for url in (
        reverse("catalog:product_detail", args=[tiny.asset.product_id]),
        reverse("cutouts:review_card", args=[tiny.pk]))}
    for url, page in pages.items():
        assert f'data-export-refused="{refusing.pk}"' in page, url
        assert ("⚠ Partly exported: 1 of 3 presets — Amazon main image refused: the product "
                "is enlarged ") in page, url
        assert 'data-partly-exported="1/3"' in page, url
    note = export_selectors.export_refusals_latest(asset_ids=[tiny.asset_id])[tiny.asset_id]
    for url, page in pages.items():
        assert f"⚠ {note.text} (export #{refusing.pk})." in page, url
    run_presets(["transparent_png"])
    page = client.get(reverse("catalog:product_detail", args=[tiny.asset.product_id]))
    assert b"Partly exported" not in page.content and b"data-export-refused" not in page.content


def test_it_says_a_refusal_on_a_newer_version_card_was_an_earlier_versions(client):
    tiny, refusing = _exported_then_refused()
    newer = done_cutout(asset=tiny.asset, version=2, size=(121, 157))  # a re-run since
    client.force_login(manager())
    cards = {c.version: html.unescape(client.get(
        reverse("cutouts:review_card", args=[c.pk])).content.decode()) for c in (tiny, newer)}
    for page in cards.values():
        assert f'data-export-refused="{refusing.pk}"' in page
    earlier = "⚠ <span data-earlier-version>An earlier version: </span>Partly exported: 1 of 3"
    assert earlier in cards[2]
    assert "data-earlier-version" not in cards[1] and "⚠ Partly exported: 1 of 3" in cards[1]


@pytest.fixture
def boss_client(client):
    user = manager()
    client.force_login(user)
    client.user = user
    return client


def test_it_shows_the_folder_refusals_at_the_forms_field(boss_client, sent):
    approved_cutout(product=ProductFactory(sku="FORMF-1"))
    url = reverse("cutouts:export_start")
    for destination, folder, words in (
            ("folder", "/tmp/evil", "&#x27;/tmp/evil&#x27; is an absolute path"),
            ("download", "spring", "only used when the destination is &#x27;folder&#x27;")):
        response = boss_client.post(url, {"presets": ["amazon_main"],
                                          "destination": destination, "folder": folder})
        assert response.status_code == 400
        html = response.content.decode()
        folder_errors = html.split('id="id_folder"', 1)[1].split("</fieldset>", 1)[0]
        assert words in folder_errors
    assert not ExportJob.objects.exists()


def _checked(html: str) -> set[str]:
    import re

    return set(re.findall(r'<input type="checkbox" name="presets" value="([^"]+)"[^>]*checked',
                          html))


def test_it_ticks_no_preset_on_the_form_before_a_first_export(boss_client):
    html = boss_client.get(reverse("cutouts:export_list")).content.decode()
    assert 'value="amazon_main"' in html
    assert _checked(html) == set()


def test_it_starts_the_form_from_what_the_user_rendered_last(boss_client, sent):
    approved_cutout(product=ProductFactory(sku="LAST-1", asin="B0LAST0001"))
    spec = "square-600|bg-ffffff|format-jpeg"
    export_jobs.export_job_create(user=boss_client.user, presets=["walmart", "ebay"],
                                  specs=[spec], origin=export_selectors.ORIGIN_FORM)
    # someone else's later export is not this user's choice
    export_jobs.export_job_create(user=manager(), presets=["amazon_main"])
    html = boss_client.get(reverse("cutouts:export_list")).content.decode()
    assert _checked(html) == {"walmart", "ebay"}
    assert export_selectors.spec_preset(spec).variant_spec.canonical() in html.split(
        'name="specs"', 1)[1].split("</textarea>", 1)[0]
    # a spec-only export: nothing is ticked next time, so Amazon is not rendered with it
    export_jobs.export_job_create(user=boss_client.user, specs=[spec],
                                  origin=export_selectors.ORIGIN_FORM)
    assert _checked(boss_client.get(reverse("cutouts:export_list")).content.decode()) == set()


def test_it_refuses_a_form_with_no_preset_and_no_spec_before_any_warning(boss_client, sent):
    # an unapproved image would bring the warnings page first; the refusal comes before it
    ImageAssetFactory(product=ProductFactory(sku="NONE-1"))
    approved_cutout(product=ProductFactory(sku="NONE-2"))
    response = boss_client.post(reverse("cutouts:export_start"),
                                {"destination": "download", "specs": "  \n "})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="precheck-warnings"' not in html
    assert ("Pick at least one preset or write a custom spec: without one there is nothing "
            "to render.") in html.split('id="preset-cards"', 1)[1]
    assert not ExportJob.objects.exists()


def test_it_shows_the_destination_folder_of_recent_exports(boss_client):
    ExportJob.objects.create(created_by=boss_client.user, presets=["amazon_main"],
                             destination="folder", folder="feeds/spring-amazon")
    ExportJob.objects.create(created_by=boss_client.user, presets=["ebay"])
    html = boss_client.get(reverse("cutouts:export_list")).content.decode()
    table = html.split('id="export-jobs"', 1)[1].split("</table>", 1)[0]
    assert "<th>Destination</th>" in table
    assert 'Folder <code class="ex-folder" title="feeds/spring-amazon">feeds/spring-amazon' \
        in table
    assert "ZIP download" in table


def test_it_warns_alike_for_a_brand_in_the_form_the_api_and_the_command(boss_client, sent, capsys,
                                                                       tmp_path):
    _brand_catalog()
    expected = export_selectors.export_not_approved(brand="Acme").message
    response = boss_client.post(reverse("cutouts:export_start"), {
        "presets": ["transparent_png"], "brand": "Acme", "destination": "download"})
    assert response.status_code == 200 and not ExportJob.objects.exists()
    from django.utils.html import escape

    assert escape(expected) in response.content.decode()
    job = export_jobs.export_job_create(presets=["transparent_png"], brand="Acme")
    assert [g.message for g in export_selectors.export_job_warnings(job=job)] == [expected]
    call_command("export", "--preset", "transparent_png", "--brand", "Acme",
                 "--out", str(tmp_path))
    assert f"WARNING {expected}" in capsys.readouterr().err


def _post(client, **fields):
    data = {"presets": ["amazon_main"], "destination": "download", **fields}
    return client.post(reverse("cutouts:export_start"), data)


def test_it_refuses_a_sku_list_of_separators_on_the_form(manager_client, sent):
    approved_cutout(product=ProductFactory(sku="SEP-1"))
    page = _post(manager_client, skus=" , ;\n,")
    assert page.status_code == 400 and not ExportJob.objects.exists()
    assert "The SKU list holds no SKU" in page.content.decode()


def test_it_shows_the_spec_errors_beside_an_unknown_sku(manager_client, sent):
    # the unknown SKU used to hide the spec's error until it was fixed
    approved_cutout(product=ProductFactory(sku="ERR-1"))
    page = _post(manager_client, presets=[], skus="NOPE-404", specs="square-1200|bogus-7")
    html = page.content.decode()
    assert page.status_code == 400 and not ExportJob.objects.exists()
    assert "Unknown SKU(s): NOPE-404" in html
    assert "unknown operation &#x27;bogus&#x27; in token &#x27;bogus-7&#x27;" in html


def test_it_refuses_without_start_anyway_an_export_that_cannot_start(manager_client, sent):
    # only image awaiting review: "Start anyway" used to lead to "Nothing to export"
    done_cutout(product=ProductFactory(sku="WAIT-1"))
    page = _post(manager_client, skus="WAIT-1")
    html = page.content.decode()
    assert page.status_code == 400 and not ExportJob.objects.exists()
    assert "Nothing to export" in html
    assert 'name="precheck_ok"' not in html and 'id="precheck-warnings"' not in html


def test_it_shows_files_shipped_despite_failing_compliance(manager_client):
    Preset.objects.create(name="too_small", label="Too small", spec=SMALL,
                          naming="{sku}.{ext}",
                          rules={"background": "ffffff", "min_long_side": 1000,
                                 "formats": ["jpeg"]})
    approved_cutout(product=ProductFactory(sku="FAIL-2"))
    job = export_jobs.export_job_create(presets=["too_small"], include_failing=True,
                                        enqueue=False)
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.report["failing_included_count"] == 1
    assert "1 file(s) exported (1 despite failing compliance)" in job.message
    recent = manager_client.get(reverse("cutouts:export_list")).content.decode()
    assert "1 despite failing compliance</span>" in recent
    detail = manager_client.get(reverse("cutouts:export_detail", args=[job.pk])).content.decode()
    assert "1 despite failing compliance</span>" in detail


def _specs(html: str) -> str:
    return html.split('name="specs"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]


def test_it_pre_fills_the_form_from_the_last_form_export_not_an_api_one(client, sent):
    user = manager()
    client.force_login(user)
    approved_cutout(product=ProductFactory(sku="ORIG-1", asin="B0ORIG0001"))
    made = client.post(reverse("cutouts:export_start"),
                       {"presets": ["ebay"], "destination": "download"})
    assert made.status_code == 302
    # the same user's API key: an integration's custom specs
    api = ApiClient(key_for(user, "manager"))
    created = api.post("/api/v1/exports", {"specs": ["trim|square-600|format-png",
                                                     "square-900|bg-ffffff|format-jpeg"]})
    assert created.status_code == 201, created.json()
    html = client.get(reverse("cutouts:export_list")).content.decode()
    # they were carried into the form, unseen, with the API export's presets (none)
    assert _checked(html) == {"ebay"}
    assert "square-600" not in _specs(html) and "square-900" not in _specs(html)


def test_it_opens_the_form_empty_after_only_api_exports(client):
    user = manager()
    client.force_login(user)
    approved_cutout(product=ProductFactory(sku="ORIG-2", asin="B0ORIG0002"))
    export_jobs.export_job_create(user=user, presets=["amazon_main"],
                                  specs=["square-600|format-png"], enqueue=False)
    html = client.get(reverse("cutouts:export_list")).content.decode()
    assert _checked(html) == set() and "square-600" not in _specs(html)


def test_it_keeps_the_form_origin_through_the_run(client, sent):
    user = manager()
    client.force_login(user)
    approved_cutout(product=ProductFactory(sku="ORIG-3", asin="B0ORIG0003"), size=MARKET_PHOTO)
    client.post(reverse("cutouts:export_start"),
                {"presets": ["amazon_main"], "destination": "download"})
    job = ExportJob.objects.get()
    assert export_job_run_task(job.pk) == "done"  # the run writes its own report
    job.refresh_from_db()
    assert job.report["origin"] == export_selectors.ORIGIN_FORM
    assert export_selectors.export_last_choice(user=user).presets == ["amazon_main"]


def _advice(client, **fields) -> str:
    data = {"presets": ["amazon_main"], "destination": "download", **fields}
    page = client.post(reverse("cutouts:export_start"), data)
    assert page.status_code == 200 and not ExportJob.objects.exists()
    warning = page.content.decode().split('id="precheck-warnings"')[1]
    return warning.split('<p class="muted"')[1].split(">", 1)[1].split("</p>")[0]


def test_it_says_an_all_products_export_leaves_unapproved_images_out_unlisted(
        manager_client, sent):
    approved_cutout(product=ProductFactory(sku="OK-1", asin="B0OK000001"), size=MARKET_PHOTO)
    done_cutout(product=ProductFactory(sku="WAIT-1", asin="B0WAIT0001"))  # awaiting review
    advice = _advice(manager_client)
    assert "left out (not listed in the manifest)" in advice
    assert "as not approved" not in advice
    # every product has its ASIN and none shares one: no identifier advice
    assert "identifier" not in advice
    assert advice.startswith("Nothing has started. To fix it: approve the images, or change the "
                             "selection")


def test_it_says_a_sku_export_lists_unapproved_images_as_not_approved(manager_client, sent):
    ok = ProductFactory(sku="OK-2", asin="B0OK000002")
    approved_cutout(product=ok)
    done_cutout(asset=None, product=ok, position="PT01")
    advice = _advice(manager_client, skus="OK-2")
    assert "listed in the manifest as not approved" in advice
    assert "identifier" not in advice


def test_it_gives_the_identifier_advice_only_when_one_is_missing(manager_client, sent):
    approved_cutout(product=ProductFactory(sku="NOGTIN-1", gtin=""))
    advice = _advice(manager_client, presets=["walmart"])
    assert advice.startswith("Nothing has started. To fix it: add the missing identifiers to the "
                             "products, or change the selection")
    assert "listed in the manifest as excluded" in advice
    assert "approved" not in advice and "shared" not in advice


def test_it_counts_the_dry_runs_variants_apart_from_its_not_approved_rows(manager_client):
    ok = ProductFactory(sku="DRY-1", asin="B0DRY00001")
    approved_cutout(product=ok, size=(2000, 1500))
    waiting = ProductFactory(sku="DRY-2", asin="B0DRY00002")
    done_cutout(product=waiting)  # awaiting review
    job = run_job(export_jobs.export_job_create(
        presets=["amazon_main", "transparent_png"], product_ids=[ok.pk, waiting.pk],
        dry_run=True, enqueue=False))
    assert job.progress_total == 2 and job.report["not_approved_count"] == 1
    html = manager_client.get(reverse("cutouts:export_detail", args=[job.pk])).content.decode()
    # 2 planned variants, as "2 / 2" says, and the not-approved image's row per preset
    heading = html.split("<h2>Contact sheet <span")[1].split(">", 1)[1].split("</span>")[0]
    assert heading == "(2 variants + 2 not-approved rows)"
    chips = [c.split(">", 1)[1].split("<")[0]
             for c in html.split('class="badge chip compliance-')[1:]]
    assert chips == ["would be rendered", "would be rendered", "not approved", "not approved"]
    assert "pending" not in chips


def test_the_job_page_names_its_presets_by_their_labels(client):
    """QA 2026-12-06 (session 38): the header read "presets amazon_main, link_ad"."""
    Preset.objects.update_or_create(name="link_ad", defaults={
        "label": "Link ad for the spring campaign", "spec": "fit-1200x628|bg-ffffff",
        "naming": "{sku}",
        "enabled": False})  # renamed, then disabled since the export ran
    job = ExportJob.objects.create(status="done", presets=[
        "amazon_main", "link_ad", "web_hero:oak", "spec:trim|square-1200", "gone_preset"])
    client.force_login(manager())
    page = html.unescape(client.get(reverse("cutouts:export_detail", args=[job.pk]))
                         .content.decode())
    named = re.findall(r'<b title="([^"]*)" data-preset-name="[^"]*">([^<]*)</b>', page)
    assert named == [("amazon_main", "Amazon main image"),
                     ("link_ad", "Link ad for the spring campaign"),
                     ("web_hero:oak", "Web hero banner 1920x600 on oak"),
                     ("spec:trim|square-1200", "custom spec trim|square-1200"),
                     ("gone_preset", "gone_preset")]
    assert "amazon_main, link_ad" not in page


def _recent_presets(client) -> list[list[tuple[str, str]]]:
    page = html.unescape(client.get(reverse("cutouts:export_list")).content.decode())
    table = page.split('id="export-jobs"', 1)[1].split("</table>", 1)[0]
    return [re.findall(r'<span title="([^"]*)" data-preset-name="[^"]*">([^<]*)</span>', cell)
            for cell in re.findall(r'<td data-label="Presets">(.*?)</td>', table)]


def test_the_recent_exports_name_their_presets_by_their_labels_in_one_read(
        client, django_assert_num_queries, django_assert_max_num_queries):
    """The list read "amazon_main, link_ad" where the job's page says the labels; the labels
    of a whole page are one query, however many jobs it lists."""
    Preset.objects.update_or_create(name="link_ad", defaults={
        "label": "Link ad for the spring campaign", "spec": "fit-1200x628|bg-ffffff",
        "naming": "{sku}"})
    ExportJob.objects.create(status="done", presets=["amazon_main", "link_ad"])
    client.force_login(manager())
    client.get(reverse("cutouts:export_list"))  # warm: sessions, content types
    with django_assert_max_num_queries(100) as one:
        assert _recent_presets(client) == [[("amazon_main", "Amazon main image"),
                                            ("link_ad", "Link ad for the spring campaign")]]
    for name in ("web_hero:oak", "spec:trim|square-1200", "gone_preset", "link_ad"):
        ExportJob.objects.create(status="done", presets=[name])
    with django_assert_num_queries(len(one.captured_queries)):
        recent = _recent_presets(client)
    assert recent[:4] == [[("link_ad", "Link ad for the spring campaign")],
                          [("gone_preset", "gone_preset")],
                          [("spec:trim|square-1200", "custom spec trim|square-1200")],
                          [("web_hero:oak", "Web hero banner 1920x600 on oak")]]
    assert len(recent) == 5


def test_the_form_warns_of_a_newer_version_awaiting_review_and_ships_the_approved_one(
        client, sent):
    """QA qa42c M2: eBay export of a SKU whose v1 is approved and v2 awaits review started
    with "1 file(s) planned" and no word; the product page read "Cutout v2 done · awaiting
    review" beside "Exported"."""
    approved = approved_cutout(product=ProductFactory(sku="V2-1"))
    done_cutout(asset=approved.asset, version=2)
    client.force_login(manager())
    form = {"presets": ["ebay"], "skus": "V2-1", "destination": "download"}
    warned = client.post(reverse("cutouts:export_start"), form)
    page = html.unescape(warned.content.decode())
    assert warned.status_code == 200 and not ExportJob.objects.exists()
    assert "V2-1 MAIN (newer version awaiting review — v1 ships)" in page
    assert 'name="precheck_ok"' in page
    response = client.post(reverse("cutouts:export_start"), {**form, "precheck_ok": "1"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and job.progress_total == 1
    # a warning, not a refusal: the approved version is the one planned
    [item] = export_selectors.export_plan(
        cutouts=export_selectors.export_candidates(product_ids=[approved.asset.product_id]),
        presets=export_selectors.preset_resolve(names=["ebay"])).items
    assert item.cutout_id == approved.pk

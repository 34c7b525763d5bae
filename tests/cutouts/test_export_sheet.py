"""The export job's contact sheet (thumbnails, compliance chips, pages), the preset cards of
the export form, the Etsy canvas and the shadow-keep warning rule."""

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.urls import reverse
from PIL import Image

from cutouts.models import ExportJob, Rendition
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs, renditions
from cutouts.tasks import export_job_run_task
from tests.factories import ProductFactory, manager, reviewer

from .export_helpers import MARKET_PHOTO, approved_cutout, served

pytestmark = pytest.mark.django_db


def _run(presets, sent, **kwargs):
    job = export_jobs.export_job_create(user=manager(), presets=presets, **kwargs)
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    return job


@pytest.fixture
def finished_job(sent):
    approved_cutout(product=ProductFactory(sku="SHEET-1", asin="B0SHEET001"), size=MARKET_PHOTO)
    return _run(["amazon_main", "transparent_png"], sent)


def _thumb_urls(content: bytes) -> list[str]:
    return re.findall(r'src="(/cutouts/export/\d+/thumbs/[0-9a-f]{64}\.webp)"', content.decode())


def _body(response) -> bytes:
    return served(response)


def _is_served(response) -> bool:
    """200 with the bytes (local disk), or a redirect to a presigned URL (S3)."""
    return response.status_code == 200 or (
        response.status_code == 302 and "X-Amz-Signature=" in response["Location"])


def test_it_shows_every_variant_with_a_thumbnail_and_a_compliance_chip(client, finished_job):
    client.force_login(manager())
    page = client.get(reverse("cutouts:export_detail", args=[finished_job.pk]))
    html = page.content.decode()
    urls = _thumb_urls(page.content)
    assert len(urls) == 2
    assert html.count('class="sheet-cell"') == 2
    assert html.count("compliance-ok") == 2 and 'title="ok"' in html
    assert html.count('class="sheet-cell" data-state="ok" data-status="ok"') == 2
    assert "SHEET-1" in html and "transparent_png" in html and "2000×2000" in html


def test_it_serves_a_small_thumbnail_for_managers_only(client, finished_job):
    url = _thumb_urls(client.force_login(manager()) or client.get(
        reverse("cutouts:export_detail", args=[finished_job.pk])).content)[0]
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login")
    client.force_login(reviewer())
    assert client.get(url).status_code == 403
    client.force_login(manager())
    response = client.get(url)
    assert _is_served(response)
    if response.status_code == 200:  # streamed by the checked view (local disk)
        assert response["Content-Type"] == "image/webp"
        assert "immutable" in response["Cache-Control"]
    else:  # a short-lived signed URL: the browser must not keep the redirect
        assert "private" in response["Cache-Control"]
    image = Image.open(io.BytesIO(_body(response)))
    assert image.format == "WEBP" and max(image.size) <= renditions.THUMBNAIL_SIDE
    assert max(image.size) == renditions.THUMBNAIL_SIDE  # a 2000 px variant, scaled down


def test_it_serves_the_thumbnail_of_a_variant_smaller_than_the_thumbnail(client, sent):
    # trimmed to about 112 x 107: thumbnail() has nothing to shrink, so nothing decoded the
    # file before it was closed (was a 500 "seek of closed file")
    approved_cutout(product=ProductFactory(sku="SMALL-1"), size=(224, 178))
    job = _run(["transparent_png"], sent)
    client.force_login(manager())
    urls = _thumb_urls(client.get(reverse("cutouts:export_detail", args=[job.pk])).content)
    assert len(urls) == 1
    response = client.get(urls[0])
    assert _is_served(response)
    image = Image.open(io.BytesIO(_body(response)))
    rendition = Rendition.objects.get()
    assert image.format == "WEBP" and image.size == (rendition.width, rendition.height)
    assert max(image.size) < renditions.THUMBNAIL_SIDE


def test_it_answers_404_for_an_unknown_job_variant_or_hash(client, finished_job):
    client.force_login(manager())
    sha = Rendition.objects.first().sha256
    ok = reverse("cutouts:export_thumbnail", args=[finished_job.pk, sha])
    assert _is_served(client.get(ok))
    assert client.get(reverse("cutouts:export_thumbnail",
                              args=[finished_job.pk + 1, sha])).status_code == 404
    assert client.get(reverse("cutouts:export_thumbnail",
                              args=[finished_job.pk, "0" * 64])).status_code == 404
    assert client.get(reverse("cutouts:export_thumbnail",
                              args=[finished_job.pk, "not-a-hash"])).status_code == 404


def test_it_makes_each_thumbnail_once_and_serves_it_from_storage_after(client, finished_job,
                                                                      monkeypatch):
    client.force_login(manager())
    rendition = Rendition.objects.first()
    url = reverse("cutouts:export_thumbnail", args=[finished_job.pk, rendition.sha256])
    first = _body(client.get(url))
    name = renditions._thumbnail_name(rendition.sha256)
    assert storages["default"].exists(name)
    made = []
    monkeypatch.setattr(renditions.Image, "open",
                        lambda *a, **k: made.append(a) or pytest.fail("re-decoded"))
    Rendition.objects.all().delete()  # only the cached thumbnail can answer now
    second = client.get(url)
    assert _is_served(second) and _body(second) == first and made == []


def test_it_pages_the_contact_sheet_without_reading_more_than_a_page(sent):
    for i in range(5):
        approved_cutout(product=ProductFactory(sku=f"PAGE-{i}", asin=f"B0PAGE000{i}"))
    job = _run(["amazon_main"], sent)
    first = export_selectors.export_job_sheet(job=job, page=1, per_page=2)
    last = export_selectors.export_job_sheet(job=job, page=3, per_page=2)
    beyond = export_selectors.export_job_sheet(job=job, page=9, per_page=2)
    assert (first.total, first.pages, len(first.cells), first.next, first.previous) == \
        (5, 3, 2, 2, None)
    assert [c.sku for c in first.cells] == ["PAGE-0", "PAGE-1"]
    assert [c.sku for c in last.cells] == ["PAGE-4"] and last.next is None
    # a page past the last (an old link, a typed number) is the last, not an empty sheet
    assert [c.sku for c in beyond.cells] == ["PAGE-4"] and beyond.page == 3


def test_the_job_page_links_to_the_next_page_of_the_sheet(client, sent, monkeypatch):
    for i in range(3):
        approved_cutout(product=ProductFactory(sku=f"NEXT-{i}", asin=f"B0NEXT000{i}"))
    job = _run(["amazon_main"], sent)
    real = export_selectors.export_job_sheet
    monkeypatch.setattr(export_selectors, "export_job_sheet",
                        lambda **kw: real(**kw, per_page=2))
    client.force_login(manager())
    url = reverse("cutouts:export_detail", args=[job.pk])
    page = client.get(url)
    assert len(_thumb_urls(page.content)) == 2 and b'href="?page=2"' in page.content
    page2 = client.get(url, {"page": "2"})
    assert len(_thumb_urls(page2.content)) == 1 and b"NEXT-2" in page2.content
    assert client.get(url, {"page": "x"}).status_code == 200
    # past the last page, or past what a database offset holds, or not a plain number: a
    # page with thumbnails, never an empty sheet or a 500
    for asked, shown in (("9", 1), ("99999999999999999999", 1), ("²", 2), ("-2", 2)):
        answer = client.get(url, {"page": asked})
        assert answer.status_code == 200 and len(_thumb_urls(answer.content)) == shown, asked


#: every compliance text the export wrote before the status column (2026-12-05), and the code
#: it stands for
LEGACY_TEXTS = [
    ("ok", "ok"),
    ("ok (warnings: fill measured from all non-background pixels)", "ok_warnings"),
    ("not exported: failed: too small", "failed"),
    ("exported despite: failed: too small", "failed_included"),
    ("not exported: SKU-1 has no GTIN; Walmart files are named by GTIN", "not_exported"),
    ("not exported: cutout no longer available", "not_exported"),
    ("not approved: awaiting review", "not_approved"),
    ("dry run: would be rendered", "unchecked"),
    ("dry run (cached): ok", "ok"),
    ("dry run (cached): ok (warnings: straight cut)", "ok_warnings"),
    ("dry run (cached): failed: background is not white", "failed"),
    # a stored verdict past the re-check budget: it read "ok" whatever the verdict
    ("dry run (cached, checked with the preset's earlier rules: re-checked on export): "
     "failed: too small", "failed"),
    # foreseen from the layout: they read "would be rendered" beside the job's "1 excluded"
    ("dry run: would not be exported: cannot be rendered: output of 15000x13500 px",
     "not_exported"),
    ("dry run: would not be exported: failed: the product would be enlarged 12.5x",
     "failed"),
    ("dry run: would be exported despite: failed: the product would be enlarged 12.5x",
     "failed_included"),
]


@pytest.mark.parametrize(("text", "code"), LEGACY_TEXTS)
def test_it_reads_the_status_of_a_legacy_manifest_row_from_its_text(text, code):
    assert export_selectors.legacy_manifest_status(text) == code


OLD_COLUMNS = ("sku,gtin,asin,preset,file,width,height,bytes,sha256,compliance,position,"
               "asset_id,planned_file,spec")


def _manifest_job(lines: list[str]) -> ExportJob:
    """A finished export whose stored manifest is ``lines`` (header first)."""
    data = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
    name = storages["exports"].save("manifests/status-test.csv", ContentFile(data))
    return ExportJob.objects.create(presets=["amazon_main"], status="done", manifest_name=name)


def _chips(job: ExportJob) -> list[tuple[str, str]]:
    return [(c.state, c.label) for c in export_selectors.export_job_sheet(job=job).cells]


def test_it_reads_the_chip_from_the_status_code_whatever_the_text_says():
    # texts reworded since: the code decides, not the words
    job = _manifest_job([
        OLD_COLUMNS + ",status",
        "S-1,,,amazon_main,,,,,,rejected: background is grey,MAIN,1,a/S-1.jpg,sq,failed",
        "S-1,,,ebay,e/S-1.jpg,9,9,1,,passed with notes: straight cut,MAIN,1,e/S-1.jpg,sq,"
        "ok_warnings",
        "S-2,,,ebay,,,,,,to be rendered by the export,MAIN,2,e/S-2.jpg,sq,unchecked",
        "S-3,,,ebay,,,,,,awaiting review (no approved cutout),MAIN,3,,sq,not_approved",
        "S-4,,,ebay,,,,,,not approved: nothing to do with approval,MAIN,4,e/S-4.jpg,sq,ok",
    ])
    assert _chips(job) == [("failed", "failed"), ("warning", "warning"),
                           ("pending", "would be rendered"), ("failed", "not approved"),
                           ("ok", "ok")]
    assert export_selectors.export_job_sheet(job=job).not_approved == 1
    rows, _ = export_selectors.export_job_results(job=job)
    assert [r["status"] for r in rows] == [
        "failed", "ok_warnings", "unchecked", "not_approved", "ok"]


def test_it_reads_a_manifest_written_before_the_status_column():
    job = _manifest_job([
        OLD_COLUMNS,
        "S-1,,,amazon_main,a/S-1.jpg,9,9,1,,ok,MAIN,1,a/S-1.jpg,sq",
        "S-1,,,ebay,,,,,,not exported: failed: too small,MAIN,1,e/S-1.jpg,sq",
        "S-2,,,ebay,,,,,,dry run: would be rendered,MAIN,2,e/S-2.jpg,sq",
        "S-3,,,ebay,,,,,,not approved: awaiting review,MAIN,3,,sq",
    ])
    assert _chips(job) == [("ok", "ok"), ("failed", "failed"),
                           ("pending", "would be rendered"), ("failed", "not approved")]
    assert export_selectors.export_job_sheet(job=job).not_approved == 1
    rows, _ = export_selectors.export_job_results(job=job)
    assert [r["status"] for r in rows] == ["ok", "failed", "unchecked", "not_approved"]


def test_it_reads_an_unknown_status_code_from_the_text():
    job = _manifest_job([OLD_COLUMNS + ",status",
                         "S-1,,,ebay,,,,,,not exported: failed: too small,MAIN,1,,sq,maybe"])
    assert _chips(job) == [("failed", "failed")]


def test_the_form_shows_each_preset_as_a_card_with_its_canvas(client):
    client.force_login(manager())
    html = client.get(reverse("cutouts:export_list")).content.decode()
    assert html.count('class="preset-card"') >= 8
    etsy = re.search(r'data-preset="etsy">(.*?)</label>', html, re.S).group(1)
    assert 'value="etsy"' in etsy and 'data-ratio="2500/2000"' in etsy
    assert "width: 90px; height: 72px;" in etsy and "canvas-2500x2000" in etsy
    hero = re.search(r'data-preset="web_hero">(.*?)</label>', html, re.S).group(1)
    assert "width: 120px; height: 38px;" in hero  # scaled to fit the card, not overflowing
    png = re.search(r'data-preset="transparent_png">(.*?)</label>', html, re.S).group(1)
    assert "fits the product" in png and 'data-ratio=""' in png


ETSY_RATIOS = {(4, 3), (5, 4), (1, 1)}  # Etsy's listing-photo recommendations


@pytest.mark.parametrize("size", [(1600, 400), (400, 1600), (800, 600)],
                         ids=["wide-car", "tall-bottle", "landscape"])
def test_it_renders_etsy_on_a_recommended_ratio_whatever_the_product_shape(sent, size):
    approved_cutout(product=ProductFactory(sku="ETSY-1"), size=size)
    job = _run(["etsy"], sent)
    rendition = Rendition.objects.get()
    w, h = rendition.width, rendition.height
    assert min(w, h) >= 2000  # Etsy: 2000 px on the shortest side
    assert any(w * b == h * a for a, b in ETSY_RATIOS), (w, h)
    assert rendition.compliance_ok and "ratio" not in rendition.compliance["summary"]
    assert job.exported_count == 1


@pytest.mark.parametrize("preset", ["ebay", "etsy", "amazon_main"])
def test_it_does_not_warn_about_a_missing_shadow_layer(sent, preset):
    approved_cutout(product=ProductFactory(sku="SHADE-1", asin="B0SHADE001"), shadow=False,
                    size=MARKET_PHOTO)
    _run([preset], sent)
    summary = Rendition.objects.get().compliance["summary"]
    assert "shadow" not in summary, summary
    assert summary == "ok"


def test_it_draws_the_checkerboard_only_behind_transparent_variants(client, sent):
    approved_cutout(product=ProductFactory(sku="SHEET-3", asin="B0SHEET003"), size=MARKET_PHOTO)
    job = _run(["transparent_png"], sent,
               specs=["cover-400x150|bg-ffffff|format-jpeg"])
    sheet = export_selectors.export_job_sheet(job=job)
    opaque = {cell.preset: cell.opaque for cell in sheet.cells}
    assert opaque == {"transparent_png": False,
                      export_selectors.spec_preset("cover-400x150|bg-ffffff|format-jpeg").name:
                      True}
    client.force_login(manager())
    html = client.get(reverse("cutouts:export_detail", args=[job.pk])).content.decode()
    assert html.count('class="sheet-thumb opaque"') == 1
    assert html.count('class="sheet-thumb"') == 1


@pytest.mark.parametrize(("spec", "file", "opaque"), [
    ("trim|bg-transparent|format-png|srgb", "a.png", False),
    ("trim|square-800|bg-ffffff|format-png", "a.png", True),
    ("cover-400x150|bg-ffffff|format-jpeg", "a.jpg", True),
    ("", "old/a.jpg", True),  # a manifest written before the spec column
    ("", "old/a.png", False),
])
def test_it_tells_opaque_variants_from_transparent_ones(spec, file, opaque):
    assert export_selectors.spec_is_opaque(spec, file) is opaque


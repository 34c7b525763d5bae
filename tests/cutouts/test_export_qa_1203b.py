"""QA 2026-12-03: export folders, the form's starting presets, the not-approved warning
without SKUs, and the recent exports' destination."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from cutouts.errors import ExportError
from cutouts.models import ExportJob
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs
from tests.factories import ImageAssetFactory, ProductFactory, manager

from .export_helpers import approved_cutout, done_cutout

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss_client(client):
    user = manager()
    client.force_login(user)
    client.user = user
    return client


# --- the folder: one validation ---------------------------------------------------------------


@pytest.mark.parametrize(("folder", "words"), [
    ("/tmp/evil", "'/tmp/evil' is an absolute path"),
    ("//server/share", "is an absolute path"),
    ("\\evil", "is an absolute path"),
    ("C:\\evil", "is an absolute path"),
    ("a/../../b", "cannot step up or stay put with '..'"),
    ("./a", "cannot step up or stay put"),
])
def test_it_refuses_an_absolute_or_climbing_folder(sent, folder, words):
    with pytest.raises(ExportError, match=words.replace("(", r"\(")) as refused:
        export_jobs.export_folder_clean(folder=folder, destination="folder")
    assert refused.value.field == "folder"
    approved_cutout(product=ProductFactory(sku="ABS-2"))
    with pytest.raises(ExportError) as refused:
        export_jobs.export_job_create(presets=["amazon_main"], destination="folder",
                                      folder=folder)
    assert refused.value.field == "folder" and not ExportJob.objects.exists()


def test_it_keeps_a_relative_folder_and_drops_only_a_trailing_slash():
    assert export_jobs.export_folder_clean(folder=" feeds/amazon/ ",
                                           destination="folder") == "feeds/amazon"
    assert export_jobs.export_folder_clean(folder="", destination="download") == ""


def test_it_refuses_a_folder_typed_for_a_zip_download(sent):
    approved_cutout(product=ProductFactory(sku="ZIPF-2"))
    with pytest.raises(ExportError, match="only used when the destination is 'folder'") as r:
        export_jobs.export_job_create(presets=["amazon_main"], folder="spring/amazon")
    assert r.value.field == "folder" and not ExportJob.objects.exists()


def test_the_form_shows_the_folder_refusals_at_the_field(boss_client, sent):
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


# --- what the form starts with ------------------------------------------------------------


def _checked(html: str) -> set[str]:
    import re

    return set(re.findall(r'<input type="checkbox" name="presets" value="([^"]+)"[^>]*checked',
                          html))


def test_the_form_ticks_nothing_before_a_first_export(boss_client):
    html = boss_client.get(reverse("cutouts:export_list")).content.decode()
    assert 'value="amazon_main"' in html
    assert _checked(html) == set()


def test_the_form_starts_from_what_the_user_rendered_last(boss_client, sent):
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


def test_the_last_choice_splits_scene_presets_and_specs():
    job = ExportJob.objects.create(created_by=manager(), presets=[
        "web_hero:oak", "web_hero:slate", "amazon_main", "spec:square-600|format-png"],
        report={"origin": export_selectors.ORIGIN_FORM})
    choice = export_selectors.export_last_choice(user=job.created_by)
    assert choice.presets == ["web_hero", "amazon_main"]
    assert choice.backgrounds == ["oak", "slate"]
    assert choice.specs == ["square-600|format-png"]


def test_the_form_refuses_no_preset_and_no_spec_before_any_warning(boss_client, sent):
    # an unapproved image would bring the warnings page first; the refusal comes before it
    ImageAssetFactory(product=ProductFactory(sku="NONE-1"))
    approved_cutout(product=ProductFactory(sku="NONE-2"))
    response = boss_client.post(reverse("cutouts:export_start"),
                                {"destination": "download", "specs": "  \n "})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="naming-gaps"' not in html
    assert ("Pick at least one preset or write a custom spec: without one there is nothing "
            "to render.") in html.split('id="preset-cards"', 1)[1]
    assert not ExportJob.objects.exists()


# --- recent exports ---------------------------------------------------------------------------


def test_recent_exports_show_the_destination_folder(boss_client):
    ExportJob.objects.create(created_by=boss_client.user, presets=["amazon_main"],
                             destination="folder", folder="feeds/spring-amazon")
    ExportJob.objects.create(created_by=boss_client.user, presets=["ebay"])
    html = boss_client.get(reverse("cutouts:export_list")).content.decode()
    table = html.split('id="export-jobs"', 1)[1].split("</table>", 1)[0]
    assert "<th>Destination</th>" in table
    assert 'Folder <code class="ex-folder" title="feeds/spring-amazon">feeds/spring-amazon' \
        in table
    assert "ZIP download" in table


# --- not approved, whatever the filter --------------------------------------------------------


def _brand_catalog():
    approved_cutout(product=ProductFactory(sku="ACME-1", brand="Acme"))
    waiting = ProductFactory(sku="ACME-2", brand="Acme")
    approved_cutout(product=waiting, position="MAIN")
    done_cutout(product=waiting, position="PT01")
    ImageAssetFactory(product=ProductFactory(sku="ACME-3", brand="Acme"), position="MAIN")
    ImageAssetFactory(product=ProductFactory(sku="OTHER-1", brand="Other"), position="MAIN")
    from catalog.models import ImageAsset
    from cutouts.services.status import assets_status_sync

    assets_status_sync(asset_ids=ImageAsset.objects.values_list("pk", flat=True))


def test_it_warns_of_unapproved_images_of_a_brand_the_catalog_and_a_date(sent):
    _brand_catalog()
    brand = export_selectors.export_not_approved(brand="acme")
    assert brand is not None and brand.code == export_selectors.NOT_APPROVED
    assert (brand.count, brand.total, brand.skus) == (2, 3, ["ACME-2", "ACME-3"])
    assert brand.message == (
        "Only approved cutouts are exported, and 2 of the 3 product(s) of the brand acme have "
        "an image without one: ACME-3 has no approved image; no cutout: ACME-3 MAIN; awaiting "
        "review: ACME-2 PT01. Those images will not be exported; approve them to include them "
        "in a later export.")
    everything = export_selectors.export_not_approved()
    assert (everything.count, everything.total) == (3, 4)
    assert "3 of the 4 product(s) in the catalog" in everything.message
    since = export_selectors.export_not_approved(brand="Acme", approved_since="2020-01-01")
    assert (since.count, since.total) == (2, 3)
    # the manifest lists the left-out images of a SKU selection only
    assert list(export_selectors.export_not_approved_rows(brand="Acme")) == []


def test_the_form_api_and_command_warn_alike_for_a_brand(boss_client, sent, capsys, tmp_path):
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


def test_an_empty_selection_is_refused_at_the_narrowest_filter(sent):
    ImageAssetFactory(product=ProductFactory(sku="EMPTY-1", brand="Acme"), position="MAIN")

    def field(**filters) -> str:
        with pytest.raises(ExportError, match="Nothing to export") as refused:
            export_jobs.export_job_create(presets=["amazon_main"], **filters)
        return refused.value.field

    ids = [ProductFactory(sku="EMPTY-2").pk]
    assert field(product_ids=ids, brand="Acme", approved_since="2020-01-01") == "skus"
    assert field(brand="Acme", approved_since="2020-01-01") == "brand"
    assert field(approved_since="2020-01-01") == "approved_since"
    assert field() == "skus"


def test_the_command_takes_since_as_a_day_as_the_api_does(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"give a day as YYYY-MM-DD \(e\.g\. 2026-12-01\), "
                                           r"not '2026-12-01T10:00:00Z'"):
        call_command("export", "--preset", "amazon_main", "--since", "2026-12-01T10:00:00Z",
                     "--out", str(tmp_path))
    assert not ExportJob.objects.exists()

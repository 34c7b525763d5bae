"""Scenes in the app: the background library, scene renditions (re-rendered when a background
changes), scene exports per background, what a dry run foresees of them, the marketplace guard
and the pages."""

import io
import zipfile

import numpy as np
import pytest
from django.core.files.storage import storages
from django.urls import reverse
from PIL import Image

from cutouts.errors import SceneError
from cutouts.models import Background, ExportJob, JobStatus, Preset, Rendition
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs, renditions, scenes
from cutouts.tasks import export_job_run_task
from tests.factories import ProductFactory, manager, reviewer

from .export_helpers import (
    approved_cutout,
    measured,
    presets_table,
    run_dry,
    run_job,
    served,
)

pytestmark = pytest.mark.django_db


def room_jpeg(size=(960, 300), floor=0.7) -> bytes:
    w, h = size
    arr = np.zeros((h, w, 3), np.uint8)
    arr[: int(h * floor)] = (205, 200, 190)
    arr[int(h * floor):] = (110, 100, 90)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=92)
    return buf.getvalue()


@pytest.fixture
def oak(db):
    return scenes.background_create(user=manager(), name="Oak table", slug="oak",
                                    data=room_jpeg())


@pytest.fixture
def no_enqueue(monkeypatch):
    monkeypatch.setattr(export_job_run_task, "delay", lambda job_id: None)


def test_it_stores_a_background_and_estimates_its_floor_and_light(oak):
    assert oak.image_name.startswith("scenes/oak-") and storages["default"].exists(oak.image_name)
    assert (oak.width, oak.height) == (960, 300)
    assert abs(oak.floor_pct - 70) <= 2 and oak.floor_estimated == oak.floor_pct
    assert 0 <= oak.light_deg < 360


@pytest.mark.parametrize(("slug", "data", "fragment"), [
    ("fff", None, "reads as a colour"),
    ("Bad Slug!", None, "lower-case letters"),
    ("oak2", b"not an image", "This file is not an image: upload a JPEG, PNG or WebP"),
    ("oak3", "truncated", "damaged or truncated"),
])
def test_it_refuses_bad_backgrounds_with_a_clear_message(slug, data, fragment):
    if data == "truncated":
        data = room_jpeg()[:2000]
    with pytest.raises(SceneError, match=fragment):
        scenes.background_create(name="x", slug=slug, data=data or room_jpeg())
    assert not Background.objects.exists()


def test_a_scene_rendition_re_renders_when_its_background_is_edited(oak):
    cutout = approved_cutout(product=ProductFactory(sku="LAMP-1"))
    first = renditions.rendition_get_or_create(cutout=cutout, preset="web_hero:oak")
    assert (first.width, first.height) == (1920, 600) and first.compliance_ok, first.compliance
    again = renditions.rendition_get_or_create(cutout=cutout, preset="web_hero:oak")
    assert again.cache_key == first.cache_key
    bottom = first.compliance["product_bbox"][3]
    scenes.background_update(background=oak, floor_pct=60)
    moved = renditions.rendition_get_or_create(cutout=cutout, preset="web_hero:oak")
    assert moved.cache_key != first.cache_key
    assert moved.compliance["product_bbox"][3] < bottom  # the product moved up with the floor
    assert Rendition.objects.filter(cutout=cutout).count() == 1  # one row per spec, updated


def test_it_exports_a_scene_preset_once_per_background_with_a_manifest(oak, no_enqueue):
    scenes.background_create(name="Slate", slug="slate", data=room_jpeg(floor=0.8))
    approved_cutout(product=ProductFactory(sku="LAMP-1"))
    approved_cutout(product=ProductFactory(sku="LAMP-2"))
    job = export_jobs.export_job_create(user=manager(), presets=["web_hero:oak", "web_hero:slate"])
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.exported_count == 4, (job.message, job.report)
    with storages["exports"].open(job.zip_name, "rb") as fh:
        names = sorted(zipfile.ZipFile(io.BytesIO(fh.read())).namelist())
    assert names == ["manifest.csv", "web_hero-oak/LAMP-1/LAMP-1_1_web_hero-oak.jpg",
                     "web_hero-oak/LAMP-2/LAMP-2_1_web_hero-oak.jpg",
                     "web_hero-slate/LAMP-1/LAMP-1_1_web_hero-slate.jpg",
                     "web_hero-slate/LAMP-2/LAMP-2_1_web_hero-slate.jpg"]


def test_it_refuses_a_spec_naming_a_missing_library_item_when_the_export_is_asked_for(oak,
                                                                                    no_enqueue):
    approved_cutout(product=ProductFactory(sku="LAMP-1"))
    for spec, fragment in [("square-1200|bg-oka|format-jpeg", "no library background 'oka'"),
                           ("square-1200|bg-oak|logo-acme-tr|format-jpeg",
                            "no library logo 'acme'"),
                           ("square-1200|bg-oak|logo-oak-tr|format-jpeg",
                            "no library logo 'oak'"),
                           # a scene spec is valid with bg-white; the library lacks it, and
                           # the message says how to write the colour most likely meant
                           ("square-1200|bg-white|format-jpeg",
                            r"no library background 'white' \(write bg-ffffff for white\)")]:
        with pytest.raises(export_jobs.ExportError, match=fragment):
            export_jobs.export_job_create(user=manager(), presets=["spec:" + spec],
                                          dry_run=True)
    assert not ExportJob.objects.exists()
    job = export_jobs.export_job_create(user=manager(),
                                        presets=["spec:square-1200|bg-oak|format-jpeg"])
    assert job.pk


def test_marketplace_presets_refuse_backgrounds_and_scene_specs(oak):
    with pytest.raises(export_selectors.PresetError, match="rules forbid scenes"):
        export_selectors.preset_resolve(names=["amazon_main:oak"])
    with pytest.raises(export_selectors.PresetError, match="Unknown background 'nope'"):
        export_selectors.preset_resolve(names=["web_hero:nope"])
    from cutouts.models import Preset

    Preset.objects.filter(name="amazon_main").update(
        spec="canvas-2000x2000|bg-oak|shadow-drop|format-jpeg|quality-90|srgb")
    cutout = approved_cutout(product=ProductFactory(sku="LAMP-9"))
    rendition = renditions.rendition_get_or_create(cutout=cutout, preset="amazon_main")
    assert not rendition.compliance_ok
    assert any("marketplace rules forbid scenes" in e for e in rendition.compliance["errors"])


def test_the_library_pages_are_for_managers_and_save_the_floor_line(client, oak):
    client.force_login(reviewer())
    assert client.get(reverse("cutouts:background_list")).status_code == 403
    client.force_login(manager())
    page = client.get(reverse("cutouts:background_list"))
    assert page.status_code == 200 and b"Oak table" in page.content
    upload = io.BytesIO(room_jpeg())
    upload.name = "slate.jpg"
    response = client.post(reverse("cutouts:background_list"),
                           {"name": "Slate", "slug": "slate", "kind": "background",
                            "image": upload})
    assert response.status_code == 302 and Background.objects.filter(slug="slate").exists()
    edit = reverse("cutouts:background_edit", args=["oak"])
    assert b'id="floor-line"' in client.get(edit).content
    assert client.post(edit, {"floor_pct": "62.5", "light_deg": "135"}).status_code == 302
    oak.refresh_from_db()
    assert (oak.floor_pct, oak.light_deg) == (62.5, 135.0)
    assert client.post(edit, {"floor_pct": "140", "light_deg": "0"}).status_code == 400
    image = client.get(reverse("cutouts:background_image", args=["oak"]))
    assert served(image) == storages["default"].open(oak.image_name, "rb").read()


def test_the_export_page_previews_products_by_backgrounds(client, oak):
    cutout = approved_cutout(product=ProductFactory(sku="LAMP-1"))
    client.force_login(manager())
    page = client.get(reverse("cutouts:export_list"), {
        "preview": "1", "presets": ["web_hero"], "backgrounds": ["oak"], "skus": "LAMP-1",
        "destination": "download"})
    assert page.status_code == 200
    cell = reverse("cutouts:scene_preview_image", args=[cutout.pk, "web_hero", "oak"])
    assert cell.encode() in page.content
    assert Image.open(io.BytesIO(served(client.get(cell)))).size == (1920, 600)
    missing = client.get(reverse("cutouts:scene_preview_image",
                                 args=[cutout.pk, "amazon_main", "oak"]))
    assert missing.status_code == 404


def test_the_preview_button_posts_and_says_which_scene_presets_it_leaves_out(client, oak):
    from cutouts.models import ExportJob

    approved_cutout(product=ProductFactory(sku="LAMP-2"))
    client.force_login(manager())
    page = client.post(reverse("cutouts:export_start"), {
        "preview": "1", "presets": ["web_hero", "story", "social_square"],
        "backgrounds": ["oak"], "skus": "LAMP-2", "destination": "download"})
    body = page.content.decode()
    assert page.status_code == 200 and 'id="scene-preview"' in body
    assert "Only the first scene preset is previewed" in body
    assert "story" in body.split("Only the first scene preset")[1].split("</p>")[0]
    assert not ExportJob.objects.exists()  # a preview starts nothing
    listing = client.get(reverse("cutouts:export_list")).content.decode()
    preview_button = listing.split('id="preview-scenes"')[1].split(">")[0]
    assert "formmethod" not in preview_button  # posted with the form: no token in a URL


def test_the_review_cards_scene_mode_shows_the_cutout_on_each_background(client, oak):
    cutout = approved_cutout(product=ProductFactory(sku="LAMP-3"))
    client.force_login(reviewer())
    card = client.get(reverse("cutouts:review_card", args=[cutout.pk]))
    assert b'data-rv-mode="scene"' in card.content
    assert reverse("cutouts:scene_card", args=[cutout.pk]).encode() in card.content
    stage = client.get(reverse("cutouts:scene_card", args=[cutout.pk]), {"preset": "story"})
    cell = reverse("cutouts:scene_preview_image", args=[cutout.pk, "story", "oak"])
    assert stage.status_code == 200 and cell.encode() in stage.content
    assert Image.open(io.BytesIO(served(client.get(cell)))).size == (1080, 1920)


def test_the_migration_gives_seeded_marketplace_rows_the_new_checks():
    import importlib

    from django.apps import apps

    from cutouts.models import Preset

    migration = importlib.import_module("cutouts.migrations.0007_scenes")
    Preset.objects.filter(name="etsy").update(spec=migration.OLD_ETSY_SPEC,
                                              rules={"recommended_short_side": 2000})
    Preset.objects.filter(name="amazon_main").update(rules={"background": "ffffff",
                                                            "no_ghosts": False})
    migration.update_builtin_presets(apps, None)
    etsy = Preset.objects.get(name="etsy")
    assert "canvas-2500x2000" in etsy.spec
    assert etsy.rules["aspect_ratios"] == ["4:3", "5:4"] and etsy.rules["no_scenes"] is True
    amazon = Preset.objects.get(name="amazon_main").rules
    assert amazon["no_ghosts"] is False and amazon["product_clear_of_edges"] is True  # kept
    assert export_selectors.preset_as_variant(Preset.objects.get(name="etsy")).rules.no_scenes


def test_it_foresees_a_scene_enlarged_past_the_limit(oak):
    # a 41x37 px product on a 1920x600 banner's floor
    measured(approved_cutout(product=ProductFactory(sku="SPECK-1"), size=(80, 60)))
    measured(approved_cutout(product=ProductFactory(sku="FINE-1"), size=(800, 600)))
    job = run_dry(presets=["web_hero:oak"])
    assert job.message.startswith("Dry run: 1 file(s) would be exported, 1 excluded")
    [row] = job.report["excluded"]
    assert row["sku"] == "SPECK-1"
    # what the real run does with them, in its words
    real = run_job(export_jobs.export_job_create(presets=["web_hero:oak"], enqueue=False))
    assert (real.exported_count, real.failed_count) == (1, 1)
    [refused] = real.report["excluded"]
    assert refused["sku"] == "SPECK-1"
    assert (export_selectors.refusal_reason(row["reason"])
            == export_selectors.refusal_reason(refused["reason"]))
    assert row["reason"].removeprefix("dry run: would not be exported: ") == (
        refused["reason"].removeprefix("not exported: "))


@pytest.mark.parametrize("formats", [None, ["png"]])
def test_it_foresees_a_scene_a_marketplace_preset_forbids(formats):
    """The real run adds the scene refusal after the check of the file (a format the rules
    refuse comes first); a dry run said the scene refusal alone, whatever else it foresaw."""
    Preset.objects.create(name="amazon_scene", label="Amazon scene",
                          spec="canvas-1000x1000|bg-ffffff|scale-90|format-jpeg",
                          naming="{sku}.{ext}",
                          rules={"no_scenes": True, **({"formats": formats} if formats else {})})
    measured(approved_cutout(product=ProductFactory(sku="SCENE-1"), size=(800, 600)))
    job = run_dry(presets=["amazon_scene"])
    assert job.report["would_export"] == 0
    real = run_job(export_jobs.export_job_create(presets=["amazon_scene"], enqueue=False))
    assert real.exported_count == 0
    [foreseen], [refused] = job.report["excluded"], real.report["excluded"]
    assert (foreseen["reason"].removeprefix("dry run: would not be exported: ")
            == refused["reason"].removeprefix("not exported: "))
    assert presets_table(job) == presets_table(real)
    [(reason, *_)] = presets_table(real)["amazon_scene"][1]
    assert reason.startswith("format jpeg is not accepted" if formats
                             else "marketplace rules forbid scenes")

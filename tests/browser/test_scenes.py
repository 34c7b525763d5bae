"""Scenes in Chromium: upload a background, drag its floor line, preview three products on it
and export the web hero preset as a ZIP with a manifest."""

import io
import zipfile

import numpy as np
import pytest
from django.core.files.storage import storages
from PIL import Image
from playwright.sync_api import expect

from cutouts.models import Background, ExportJob, JobStatus
from cutouts.tasks import export_job_run_task
from tests.cutouts.export_helpers import approved_cutout
from tests.factories import ProductFactory, manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def room_jpeg(path, size=(1200, 400), floor=0.7):
    w, h = size
    arr = np.zeros((h, w, 3), np.uint8)
    arr[: int(h * floor)] = (210, 204, 192)
    arr[int(h * floor):] = (120, 100, 84)
    Image.fromarray(arr).save(path, "JPEG", quality=92)
    return path


def test_a_manager_builds_hero_banners_on_a_library_background(live_server, page, screenshot,
                                                                tmp_path, monkeypatch, log_in):
    queued = []
    monkeypatch.setattr(export_job_run_task, "delay", lambda job_id: queued.append(job_id))
    cutouts = [approved_cutout(product=ProductFactory(sku=f"HERO-{i}"), colour=colour)
               for i, colour in enumerate([(200, 30, 30), (30, 120, 200), (40, 160, 60)])]
    user = manager()
    log_in(page, user)

    # upload: the floor line is estimated (70 %), then dragged up to about 60 %
    page.goto(f"{live_server.url}/cutouts/export/backgrounds/")
    page.fill("#id_name", "Oak room")
    page.fill("#id_slug", "oak-room")
    page.set_input_files("#id_image", str(room_jpeg(tmp_path / "oak.jpg")))
    page.click("#background-form button[type=submit]")
    expect(page.locator("#floor-editor img")).to_be_visible()
    estimated = float(page.input_value("#id_floor_pct"))
    assert abs(estimated - 70) <= 2
    box = page.locator("#floor-editor img").bounding_box()
    line = page.locator("#floor-line").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, line["y"] + 1)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.6, steps=5)
    page.mouse.up()
    dragged = float(page.input_value("#id_floor_pct"))
    assert 57 <= dragged <= 63
    screenshot("scene-floor-line")
    page.click("#save-floor")
    expect(page.locator("#floor-editor")).to_be_visible()
    assert abs(Background.objects.get(slug="oak-room").floor_pct - dragged) < 0.2

    # preview: three products x the background, rendered as the export will render them
    page.goto(f"{live_server.url}/cutouts/export/")
    page.locator("input[name=presets]").evaluate_all("els => els.forEach(e => e.checked = false)")
    page.check("input[name=presets][value=web_hero]")
    page.check("input[name=backgrounds][value=oak-room]")
    page.fill("#id_skus", "HERO-0\nHERO-1\nHERO-2")
    page.click("#preview-scenes")
    cells = page.locator("#scene-preview img.scene-cell")
    expect(cells.first).to_be_visible()
    assert "csrfmiddlewaretoken" not in page.url
    expect(cells).to_have_count(3)
    for i in range(3):
        cells.nth(i).scroll_into_view_if_needed()
        expect(cells.nth(i)).to_have_js_property("complete", True)
        assert cells.nth(i).evaluate("img => img.naturalWidth") == 1920
    screenshot("scene-preview-grid")

    # export: the form kept the choices; the worker's task runs in-process
    page.click("#export-form button.primary")
    expect(page.locator("#export-status")).to_be_visible()
    job = ExportJob.objects.get()
    assert job.presets == ["web_hero:oak-room"] and queued == [job.pk]
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.exported_count == 3, job.message
    page.reload()
    expect(page.locator("#download-zip")).to_be_visible()
    with storages["exports"].open(job.zip_name, "rb") as fh:
        archive = zipfile.ZipFile(io.BytesIO(fh.read()))
    files = sorted(n for n in archive.namelist() if n != "manifest.csv")
    assert len(files) == 3 and all(n.startswith("web_hero-oak-room/HERO-") for n in files)
    assert Image.open(io.BytesIO(archive.read(files[0]))).size == (1920, 600)
    assert "manifest.csv" in archive.namelist()

    # the review card's Scene mode shows the same rendition
    page.goto(f"{live_server.url}/cutouts/review/card/{cutouts[0].pk}/")
    page.click("[data-rv-mode=scene]")
    scene = page.locator(".rv-stage-scene img.rv-scene-img")
    expect(scene).to_have_count(1)
    expect(scene).to_have_js_property("complete", True)
    assert scene.evaluate("img => img.naturalWidth") == 1920
    screenshot("review-card-scene")

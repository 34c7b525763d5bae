"""Retouch tools in Debian's Chromium on a generated product photo: a keep stroke, a remove
click on a ghost blob and a detail-brush stroke on the review card; the card shows the live
preview, then the new version computed by a real worker; the reviewer approves it.
Screenshots go to test-artifacts/screenshots/."""

import io
import json

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from catalog.services.assets import asset_ingest
from catalog.services.products import product_create
from cutouts import engine
from cutouts.benchmarking import product_photo
from cutouts.models import Cutout, ReviewDecision, ReviewStatus
from tests.cutouts.conftest import FakeSegmenter
from tests.cutouts.reviewdata import done_cutouts
from tests.factories import PASSWORD, reviewer
from tests.workers import running_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

W, H = 640, 480
BLOB = (56, 52, 24)  # x, y, radius: a stain on the backdrop that the "model" keeps
PANEL = (360, 220)  # centre of the product's inner panel (product_photo, seed 3)
EDGE_X = 544  # the product's right edge
BACKDROP = np.array([233, 233, 233])


def _photo(seed: int) -> tuple[bytes, tuple[int, int, int]]:
    image = product_photo(W, H, seed)
    ImageDraw.Draw(image).ellipse(
        (BLOB[0] - BLOB[2], BLOB[1] - BLOB[2], BLOB[0] + BLOB[2], BLOB[1] + BLOB[2]),
        fill=(120, 84, 52))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue(), image.getpixel(PANEL)


def _stained_cutout(rgb: np.ndarray, panel) -> np.ndarray:
    """What a model with two classic mistakes returns: it keeps a stain on the backdrop (a
    ghost blob) and drops the product's light inner panel (a hole); the rest is right."""
    obj = np.abs(rgb.astype(int) - BACKDROP).sum(axis=2) > 90
    hole = np.abs(rgb.astype(int) - np.array(panel)).sum(axis=2) < 60
    alpha = ((obj & ~hole) * 255).astype(np.uint8)
    alpha = cv2.GaussianBlur(alpha, (3, 3), 0.8)  # a model's soft edge
    rgba = np.dstack([rgb, alpha])
    rgba[..., :3][alpha == 0] = 0
    return rgba


@pytest.fixture
def stained(monkeypatch):
    """v1 of a photo whose stored cutout is the mistaken one above (written over the files
    of a normal run, so the test does not depend on how good the engine is)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    from cutouts.tasks import cutout_run_task

    data, panel = _photo(seed=3)
    monkeypatch.setattr(engine, "segmenter_for",
                        lambda name: (FakeSegmenter(), engine.model_spec("u2netp")))
    monkeypatch.setattr(cutout_run_task, "apply_async", lambda *a, **k: None)
    product = product_create(sku="RETOUCH-1")
    asset = asset_ingest(product=product, fileobj=io.BytesIO(data),
                         filename="retouch-1.jpg").asset
    cutout = done_cutouts([asset])[0]
    monkeypatch.undo()  # the apply goes through the real broker to a real worker
    storage = storages["default"]
    with storage.open(asset.working_name, "rb") as fh, Image.open(fh) as im:
        rgba = _stained_cutout(np.array(im.convert("RGB")), panel)
    for field, array, mode in (("rgba_name", rgba, "RGBA"), ("mask_name", rgba[..., 3], "L")):
        out = io.BytesIO()
        Image.fromarray(array, mode).save(out, "PNG")
        name = getattr(cutout, field)
        storage.delete(name)
        assert storage.save(name, ContentFile(out.getvalue())) == name
    alpha = _alpha(cutout.mask_name)
    assert alpha[BLOB[1], BLOB[0]] == 255 and alpha[PANEL[1], PANEL[0]] == 0
    return cutout


def _alpha(name: str) -> np.ndarray:
    from django.core.files.storage import storages

    with storages["default"].open(name, "rb") as fh, Image.open(fh) as im:
        return np.array(im.convert("L"))


def _login(page, live_server):
    user = reviewer()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    return user


def _at(box, x: float, y: float) -> tuple[float, float]:
    """Screen position of full-size photo pixel (x, y) on the displayed canvas."""
    return box["x"] + x * box["width"] / W, box["y"] + y * box["height"] / H


def _preview_alpha(page, x: int, y: int) -> int:
    """Alpha of the preview image the browser shows, at photo pixel (x, y)."""
    return page.evaluate("""([x, y, w]) => {
        const img = document.querySelector('.rv-stage-retouch .rt-preview');
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const k = img.naturalWidth / w;
        return ctx.getImageData(Math.round(x * k), Math.round(y * k), 1, 1).data[3];
    }""", [x, y, W])


def _wait_preview(page, count: int):
    editor = page.locator(".rv-stage-retouch [data-retouch]")
    expect(editor).to_have_attribute("data-rt-preview-count", str(count), timeout=20_000)
    expect(editor).to_have_attribute("data-rt-preview", "ready")
    page.wait_for_function("""() => {
        const img = document.querySelector('.rv-stage-retouch .rt-preview');
        return img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0; }""")


def test_it_retouches_on_the_card_with_a_live_preview_and_approves_the_worker_result(
        live_server, page, screenshot, stained):
    user = _login(page, live_server)
    page.set_viewport_size({"width": 1280, "height": 1100})
    page.goto(f"{live_server.url}/cutouts/review/card/{stained.pk}/")
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(stained.pk))
    page.keyboard.press("e")
    stage = page.locator(".rv-stage-retouch")
    expect(stage).to_be_visible()
    canvas = stage.locator(".rt-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert abs(box["width"] / box["height"] - W / H) < 0.02

    # 1. Keep stroke across the panel the model dropped (K is the default tool).
    page.keyboard.press("k")
    page.mouse.move(*_at(box, PANEL[0] - 50, PANEL[1]))
    page.mouse.down()
    page.mouse.move(*_at(box, PANEL[0] + 50, PANEL[1]), steps=10)
    page.mouse.up()
    _wait_preview(page, 1)
    assert _preview_alpha(page, *PANEL) > 200

    # 2. One remove click on the ghost blob.
    page.keyboard.press("r")
    expect(stage.locator("[data-rt-tool=remove]")).to_have_attribute("aria-pressed", "true")
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]))
    _wait_preview(page, 2)
    assert _preview_alpha(page, BLOB[0], BLOB[1]) < 30
    screenshot("keep-and-remove-preview")

    # 3. A detail-brush stroke along the product's right edge, with a larger brush.
    page.keyboard.press("d")
    for _ in range(3):
        page.keyboard.press("]")
    page.mouse.move(*_at(box, EDGE_X, 200))
    page.mouse.down()
    page.mouse.move(*_at(box, EDGE_X, 300), steps=8)
    page.mouse.up()
    _wait_preview(page, 3)
    editor = stage.locator("[data-retouch]")
    expect(editor).to_have_attribute("data-rt-strokes", "3")

    # Undo/redo stay in the browser and re-send the whole list.
    page.keyboard.press("Control+z")
    expect(editor).to_have_attribute("data-rt-strokes", "2")
    _wait_preview(page, 2)
    page.keyboard.press("Control+Shift+z")
    expect(editor).to_have_attribute("data-rt-strokes", "3")
    _wait_preview(page, 3)
    screenshot("three-strokes-preview")

    with running_worker(queues="cutouts-interactive"):
        page.keyboard.press("Enter")
        expect(page.locator("#review-card")).to_have_attribute("data-version", "2")
        expect(page.locator(".rv-pending")).to_be_visible()
        screenshot("retouch-queued")
        expect(page.locator("#review-card")).to_have_attribute("data-status", "done",
                                                               timeout=120_000)
    new = Cutout.objects.get(asset=stained.asset, version=2)
    assert new.status == "done" and new.source == "retouch" and new.worker
    assert new.parent_id == stained.pk
    assert [s["kind"] for s in new.strokes] == ["keep", "remove", "detail"]
    assert len(new.strokes[1]["points"]) == 1  # the click
    alpha = _alpha(new.mask_name)
    assert alpha[PANEL[1], PANEL[0]] > 200  # the panel is back
    yy, xx = np.ogrid[:H, :W]
    blob = (xx - BLOB[0]) ** 2 + (yy - BLOB[1]) ** 2 <= (BLOB[2] - 3) ** 2
    assert alpha[blob].mean() < 0.1 * _alpha(stained.mask_name)[blob].mean()  # all of it
    page.wait_for_function(
        "() => document.querySelector('.rv-stage-side .rv-cutout').naturalWidth === 640")
    screenshot("retouch-done")

    page.keyboard.press("a")
    page.wait_for_function("""(pk) => { const c = document.querySelector('#review-card');
        return !c || c.dataset.cutout !== String(pk); }""", arg=new.pk)
    new.refresh_from_db()
    assert new.review_status == ReviewStatus.APPROVED and new.is_current
    assert list(ReviewDecision.objects.filter(cutout=new).order_by("pk")
                .values_list("action", "user")) == [("strokes", user.pk), ("approve", user.pk)]


def test_it_retouches_on_the_retouch_page_and_queues_an_uploaded_png(
        live_server, page, screenshot, stained):
    from tests.cutouts.reviewdata import rgba_png

    _login(page, live_server)
    page.goto(f"{live_server.url}/cutouts/review/retouch/{stained.pk}/")
    editor = page.locator("#retouch-strokes [data-retouch]")
    canvas = editor.locator(".rt-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    editor.locator("[data-rt-tool=remove]").click()
    editor.locator("[data-rt-tool=keep]").click()
    expect(editor.locator("[data-rt-tool=keep]")).to_have_attribute("aria-pressed", "true")
    # With the keep brush on, the right button clicks "remove".
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]), button="right")
    expect(editor).to_have_attribute("data-rt-preview-count", "1", timeout=20_000)
    expect(editor).to_have_attribute("data-rt-preview", "ready")
    expect(editor.locator("[data-rt-status]")).to_contain_text("1 remove click")
    screenshot("page-preview")
    with running_worker(queues="cutouts-interactive"):
        editor.locator("[data-rt-apply]").click()
        expect(page.locator(".messages")).to_contain_text("Version 2 is queued")
        expect(page.locator("#review-card")).to_have_attribute("data-status", "done",
                                                               timeout=120_000)
        second = Cutout.objects.get(asset=stained.asset, version=2)
        assert _alpha(second.mask_name)[BLOB[1], BLOB[0]] == 0

        page.goto(f"{live_server.url}/cutouts/review/retouch/{second.pk}/")
        page.set_input_files("#retouch-upload input[type=file]", files=[{
            "name": "fixed.png", "mimeType": "image/png", "buffer": rgba_png(W, H)}])
        page.fill("#retouch-upload input[name=comment]", "hand-cleaned edges")
        page.click("#retouch-upload button[type=submit]")
        expect(page.locator("#review-card")).to_have_attribute("data-version", "3")
        expect(page.locator("#review-card")).to_have_attribute("data-status", "done",
                                                               timeout=120_000)
    third = Cutout.objects.get(asset=stained.asset, version=3)
    assert third.source == "retouch" and third.upload_name and third.parent_id == second.pk
    expect(page.locator(".rv-history")).to_contain_text("Uploaded retouch")
    screenshot("upload-done")


BIG_W, BIG_H = 1600, 1200


@pytest.fixture
def big(monkeypatch):
    """v1 of a 1600 x 1200 photo: taller than the editor's box on a laptop screen."""
    from cutouts.tasks import cutout_run_task

    monkeypatch.setattr(engine, "segmenter_for",
                        lambda name: (FakeSegmenter(), engine.model_spec("u2netp")))
    monkeypatch.setattr(cutout_run_task, "apply_async", lambda *a, **k: None)
    out = io.BytesIO()
    product_photo(BIG_W, BIG_H, 5).save(out, "JPEG", quality=90)
    asset = asset_ingest(product=product_create(sku="BIG-1"), fileobj=io.BytesIO(out.getvalue()),
                         filename="big-1.jpg").asset
    assert asset is not None
    assert (asset.working_width, asset.working_height) == (BIG_W, BIG_H)
    return done_cutouts([asset])[0]


BOX_JS = """(el) => { const r = el.getBoundingClientRect();
  return {x: r.x, y: r.y, w: r.width, h: r.height}; }"""


def _check_one_box_and_click(page, scope: str, viewport) -> None:
    """Photo, preview and canvas share one box in the photo's proportions, all of it on the
    screen; a click on a point of the preview marks that photo point."""
    editor = page.locator(f"{scope} [data-retouch]")
    stage = editor.locator(".rt-stage")
    stage.scroll_into_view_if_needed()
    page.wait_for_function("""(sel) => Array.from(document.querySelectorAll(sel))
        .every((i) => i.complete && i.naturalWidth > 0)""",
                           arg=f"{scope} .rt-stage img")
    boxes = {name: editor.locator(f".rt-{name}").evaluate(BOX_JS)
             for name in ("photo", "preview", "canvas")}
    inner = stage.evaluate("""(el) => { const r = el.getBoundingClientRect();
        return {x: r.x + el.clientLeft, y: r.y + el.clientTop, w: el.clientWidth,
                h: el.clientHeight}; }""")
    photo = boxes["photo"]
    for name, box in boxes.items():
        for key in ("x", "y", "w", "h"):
            assert abs(box[key] - photo[key]) < 1, (name, boxes)
    assert abs(photo["w"] / photo["h"] - BIG_W / BIG_H) < 0.01, boxes
    # Nothing clipped by the stage, and the whole picture fits the screen.
    assert inner["w"] >= photo["w"] - 1 and inner["h"] >= photo["h"] - 1, (inner, photo)
    assert photo["h"] <= viewport[1] and photo["w"] <= viewport[0], photo
    assert photo["y"] >= 0 and photo["y"] + photo["h"] <= viewport[1] + 0.5, photo

    # Near the bottom right, the part of the photo the clipped editor hid.
    target = (1400, 1100)
    preview = boxes["preview"]
    page.mouse.click(preview["x"] + target[0] * preview["w"] / BIG_W,
                     preview["y"] + target[1] * preview["h"] / BIG_H)
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    strokes = json.loads(editor.locator("[data-rt-strokes]").input_value())
    (point,) = strokes[0]["points"]
    tolerance = BIG_W / preview["w"]  # one screen pixel in photo pixels
    assert abs(point[0] - target[0]) <= tolerance and abs(point[1] - target[1]) <= tolerance, point
    # The mark is drawn there on the canvas, too.
    rgba = editor.locator(".rt-canvas").evaluate("""(c, [x, y, w]) => {
        const k = c.width / w;
        return Array.from(c.getContext('2d').getImageData(
            Math.round(x * k), Math.round(y * k), 1, 1).data); }""", [*target, BIG_W])
    assert rgba[3] > 0 and rgba[1] > rgba[0], rgba  # the keep colour, green
    expect(editor).to_have_attribute("data-rt-preview-count", "1", timeout=20_000)
    expect(editor).to_have_attribute("data-rt-preview", "ready")


@pytest.mark.parametrize("viewport", [(1366, 900), (1280, 720), (1366, 768), (1920, 1080)])
def test_it_lines_up_photo_preview_and_canvas_and_marks_where_the_reviewer_clicks(
        live_server, page, screenshot, big, viewport):
    _login(page, live_server)
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto(f"{live_server.url}/cutouts/review/retouch/{big.pk}/")
    _check_one_box_and_click(page, "#retouch-strokes", viewport)
    screenshot(f"page-{viewport[0]}x{viewport[1]}")

    page.goto(f"{live_server.url}/cutouts/review/card/{big.pk}/")
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(big.pk))
    page.keyboard.press("e")
    expect(page.locator(".rv-stage-retouch")).to_be_visible()
    _check_one_box_and_click(page, ".rv-stage-retouch", viewport)
    screenshot(f"card-{viewport[0]}x{viewport[1]}")


def _leaving_is_guarded(page) -> bool:
    return page.evaluate("""() => {
        const ev = new Event('beforeunload', {cancelable: true});
        window.dispatchEvent(ev);
        return ev.defaultPrevented; }""")


def _retouch_page(page, live_server, cutout):
    page.goto(f"{live_server.url}/cutouts/review/retouch/{cutout.pk}/")
    editor = page.locator("#retouch-strokes [data-retouch]")
    canvas = editor.locator(".rt-canvas")
    canvas.scroll_into_view_if_needed()
    return editor, canvas.bounding_box()


def test_it_paints_nothing_on_a_right_click_with_the_detail_brush(live_server, page, stained):
    _login(page, live_server)
    editor, box = _retouch_page(page, live_server, stained)
    editor.locator("[data-rt-tool=detail]").click()
    page.mouse.click(*_at(box, EDGE_X, PANEL[1]), button="right")
    page.mouse.click(*_at(box, EDGE_X - 10, PANEL[1]))
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    expect(editor).to_have_attribute("data-rt-preview-count", "1", timeout=20_000)
    expect(editor.locator("[data-rt-status]")).to_contain_text("1 detail click")
    strokes = json.loads(editor.locator("[data-rt-strokes]").input_value())
    assert [s["kind"] for s in strokes] == ["detail"]


def test_it_asks_before_leaving_with_strokes_not_applied(live_server, page, stained):
    _login(page, live_server)
    editor, box = _retouch_page(page, live_server, stained)
    assert not _leaving_is_guarded(page)
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]), button="right")
    expect(editor).to_have_attribute("data-rt-strokes", "1")
    assert _leaving_is_guarded(page)
    editor.locator("[data-rt-clear]").click()
    expect(editor).to_have_attribute("data-rt-strokes", "0")
    assert not _leaving_is_guarded(page)

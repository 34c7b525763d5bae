"""The subject click in Chromium (qa40b U, dev 155: the model kept a graffiti beside the
skater and there was no "this is the subject" action): S, one click on the product, the
other part the model kept (a stain on the backdrop) is cleared in the preview and said in
words; a click on the background changes nothing and says so; a second subject click is
refused; a keep click on the cleared part brings it back; Apply's worker clears what the
preview cleared."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from cutouts.models import Cutout
from tests.browser.test_retouch import (
    BLOB,
    PAGE_PREVIEW_LOADED,
    _alpha,
    _at,
    _preview_alpha_on,
    _retouch_page,
    _shot,
    stained,  # noqa: F401 (a fixture)
)
from tests.factories import reviewer
from tests.workers import running_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRODUCT = (300, 300)  # on the product's body (product_photo, seed 3), held solid
BACKDROP_AT = (620, 460)  # the backdrop's corner: nothing held


def _strokes(editor) -> list[dict]:
    return json.loads(editor.locator("[data-rt-strokes]").input_value())


def test_it_keeps_only_the_clicked_part_with_the_subject_click_and_applies_it(
        live_server, page, request, stained, log_in):  # noqa: F811
    log_in(page, reviewer())
    page.set_viewport_size({"width": 1366, "height": 900})
    editor, box = _retouch_page(page, live_server, stained)
    page.wait_for_function(PAGE_PREVIEW_LOADED)
    status = editor.locator("[data-rt-status]")
    tool = editor.locator(".rt-subject-bar")  # (a phone has it under More)
    expect(tool).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("s")
    expect(tool).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".rt-keys")).to_contain_text("subject: click the product once")

    # On the backdrop: nothing held there, nothing changes, and it says so
    page.mouse.click(*_at(box, *BACKDROP_AT))
    expect(editor).to_have_attribute("data-rt-preview-count", "1", timeout=20_000)
    expect(status).to_contain_text("Nothing changed: the last subject click found nothing the "
                                   "cutout holds under it")
    expect(status).to_contain_text("Click on the product itself")
    assert _preview_alpha_on(editor, BLOB[0], BLOB[1]) == 255
    page.keyboard.press("Control+z")
    expect(editor).to_have_attribute("data-rt-strokes", "0")

    # On the product: the stain the model kept goes, the product stays, said in words
    page.mouse.click(*_at(box, *PRODUCT))
    expect(editor).to_have_attribute("data-rt-preview-count", "1", timeout=20_000)
    expect(editor).to_have_attribute("data-rt-subject", re.compile(r"^parts:\d+:1$"),
                                     timeout=20_000)
    expect(status).to_contain_text(re.compile(
        r"^Kept only the part you clicked: cleared \d+ other parts?, [\d.<\s]+ % of the cutout "
        r"\(red\)\."))
    assert int(editor.get_attribute("data-rt-change-taken")) > 0
    assert _preview_alpha_on(editor, BLOB[0], BLOB[1]) == 0
    assert _preview_alpha_on(editor, *PRODUCT) == 255
    assert _strokes(editor)[0]["kind"] == "subject" and len(_strokes(editor)[0]["points"]) == 1
    _shot(page, request, "subject-click")

    # A second subject click is refused, in words, and adds nothing
    page.mouse.click(*_at(box, 200, 200))
    expect(status).to_contain_text("One subject click per Apply")
    expect(editor).to_have_attribute("data-rt-strokes", "1")

    # A keep click on the part it cleared brings it back (the other shoe of a pair)
    page.keyboard.press("k")
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]))
    expect(editor).to_have_attribute("data-rt-preview-count", "2", timeout=20_000)
    page.wait_for_function("""([x, y]) => {
        const img = document.querySelector('#retouch-strokes .rt-preview');
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
        return ctx.getImageData(x, y, 1, 1).data[3] > 200; }""", arg=[BLOB[0], BLOB[1]])
    page.keyboard.press("Control+z")  # undone: the subject click alone again
    expect(editor).to_have_attribute("data-rt-strokes", "1")

    # Apply: the worker clears what the preview cleared
    with running_worker(queues="cutouts-interactive"):
        page.keyboard.press("Enter")
        new = None
        for _ in range(240):
            new = Cutout.objects.filter(parent=stained).first()
            if new is not None:
                break
            page.wait_for_timeout(250)
        assert new is not None
        fresh = page.locator(f"#retouch-strokes [data-retouch][data-cutout='{new.pk}']")
        expect(fresh).to_have_attribute("data-rt-restored", "1", timeout=120_000)
    new = Cutout.objects.get(pk=new.pk)
    assert [s["kind"] for s in new.strokes] == ["subject"]
    alpha = _alpha(new.mask_name)
    assert alpha[BLOB[1], BLOB[0]] == 0 and alpha[PRODUCT[1], PRODUCT[0]] == 255

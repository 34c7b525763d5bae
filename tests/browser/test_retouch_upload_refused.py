"""A refused "Upload a corrected PNG" on the retouch page (QA 2026-12-06, session 38): the
page came back scrolled to the editor, which scrolls itself into view on every load, and the
words ("The PNG is 800×800; it must have the photo's aspect ratio…") sat off screen above.
They are now beside the upload form, in view and focused, with the comment kept."""

import pytest
from playwright.sync_api import expect

from cutouts.models import Cutout
from tests.cutouts.reviewdata import rgba_png
from tests.factories import reviewer
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IN_VIEW_JS = """el => { const r = el.getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, height: innerHeight,
          focused: document.activeElement === el}; }"""


def test_it_shows_a_refused_upload_beside_the_form_in_view(live_server, browser, session_for,
                                                           make_cutouts):
    (cutout,) = make_cutouts([("UPLOAD-9", product_jpeg(640, 480, seed=9), "upload-9.jpg")])
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    session_for(context, reviewer())
    page = context.new_page()
    page.goto(f"{live_server.url}/cutouts/review/retouch/{cutout.pk}/")
    expect(page.locator("#retouch-strokes [data-retouch]")).to_be_visible()
    form = page.locator("#retouch-upload")
    form.locator("input[type=file]").set_input_files(files=[{
        "name": "square.png", "mimeType": "image/png", "buffer": rgba_png(800, 800)}])
    form.locator("input[name=comment]").fill("cleaned the strap")
    form.locator("button[type=submit]").click()
    error = page.locator("#retouch-upload #retouch-upload-error")
    expect(error).to_contain_text("The PNG is 800×800; it must have the photo's aspect ratio")
    page.wait_for_function("() => document.readyState === 'complete'")
    page.wait_for_timeout(300)  # the editor's own start-up (it used to scroll here)
    place = error.evaluate(IN_VIEW_JS)
    assert place["top"] >= 0 and place["bottom"] <= place["height"], place
    assert place["focused"], place
    expect(form.locator("input[name=comment]")).to_have_value("cleaned the strap")
    assert not Cutout.objects.filter(asset=cutout.asset, version=2).exists()
    context.close()

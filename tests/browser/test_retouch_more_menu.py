"""The retouch tools' "More" panel on a phone-sized screen (static/js/retouch.js
``closeMore``): Esc closes it, and only it, the focus back on its button, as Esc closes the
status line's "more" (it stayed open over the picture before)."""

import io

import pytest
from playwright.sync_api import expect

from cutouts.benchmarking import product_photo
from tests.factories import reviewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 664}


def _cutout(make_cutouts):
    out = io.BytesIO()
    product_photo(640, 480, 3).save(out, "JPEG", quality=90)
    (cutout,) = make_cutouts([("MORE-1", out.getvalue(), "more-1.jpg")])
    return cutout


def _open_more(editor):
    more = editor.locator("[data-rt-more]")
    expect(more).to_be_visible()
    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(editor.locator(".rt-more")).to_be_visible()
    return more


def _phone_editor(live_server, page, session_for, make_cutouts):
    """The retouch page's editor on a phone-sized screen, ready."""
    cutout = _cutout(make_cutouts)
    session_for(page, reviewer())
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/cutouts/review/retouch/{cutout.pk}/")
    editor = page.locator("#retouch-main [data-retouch]")
    expect(editor).to_have_attribute("data-rt-ready", "1")
    return editor


def _esc_closes(page, editor, more) -> None:
    # the focus elsewhere in the panel (its Strokes switch), as after using one of its tools
    editor.locator(".rt-more [data-rt-overlay]").focus()
    page.keyboard.press("Escape")
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(editor).not_to_have_attribute("data-rt-more-open", "")
    expect(editor.locator(".rt-more")).to_be_hidden()
    assert more.evaluate("b => document.activeElement === b")


def test_it_closes_more_on_esc_on_the_retouch_page(live_server, page, session_for,
                                                   make_cutouts):
    editor = _phone_editor(live_server, page, session_for, make_cutouts)
    more = _open_more(editor)
    _esc_closes(page, editor, more)


def test_it_closes_more_on_esc_on_the_card_and_leaves_the_retouch_view_open(
        live_server, page, session_for, make_cutouts):
    cutout = _cutout(make_cutouts)
    session_for(page, reviewer())
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/cutouts/review/card/{cutout.pk}/")
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(cutout.pk))
    page.keyboard.press("e")
    stage = page.locator(".rv-stage-retouch")
    editor = stage.locator("[data-retouch]")
    expect(stage).to_be_visible()
    more = _open_more(editor)
    _esc_closes(page, editor, more)
    expect(stage).to_be_visible()  # the first Esc closed only "More"
    page.keyboard.press("Escape")
    expect(stage).to_be_hidden()


def test_it_closes_more_and_says_what_subject_does_when_it_is_picked_there(
        live_server, page, session_for, make_cutouts):
    # QA verify41: picked under More on a phone, Subject left the panel over the product it
    # is for, with no lit button and no word of what it does
    editor = _phone_editor(live_server, page, session_for, make_cutouts)
    more = _open_more(editor)
    editor.locator(".rt-more .rt-subject-more").click()
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(editor.locator(".rt-more")).to_be_hidden()
    expect(editor.locator(".rt-subject-more")).to_have_attribute("aria-pressed", "true")
    expect(editor.locator("[data-rt-status]")).to_contain_text(
        "Subject: tap the product once; the cutout keeps only the part joined to it")


NARROW = {"width": 360, "height": 640}


@pytest.mark.parametrize("touch", [False, True], ids=["mouse", "touch"])
def test_it_keeps_more_on_the_first_row_of_the_tools_at_360_px(live_server, browser,
                                                              session_for, make_cutouts, touch):
    """verify41 (Low): at 360 px wide the ⋯ (More) button wrapped onto a second row of its
    own, under Keep / Remove / Detail and Undo / Redo; it stays beside them."""
    cutout = _cutout(make_cutouts)
    context = browser.new_context(viewport=NARROW, has_touch=touch, is_mobile=touch)
    page = context.new_page()
    session_for(page, reviewer())
    page.goto(f"{live_server.url}/cutouts/review/retouch/{cutout.pk}/")
    editor = page.locator("#retouch-main [data-retouch]")
    expect(editor).to_have_attribute("data-rt-ready", "1")
    tops = editor.evaluate("""e => {
        const top = (el) => Math.round(el.getBoundingClientRect().top);
        return {more: top(e.querySelector('[data-rt-more]')),
                keep: top(e.querySelector('[data-rt-tool=keep]')),
                undo: top(e.querySelector('[data-rt-undo]')),
                right: Math.round(e.querySelector('[data-rt-more]').getBoundingClientRect().right),
                width: document.documentElement.clientWidth};
    }""")
    assert tops["more"] == tops["keep"] == tops["undo"], tops
    assert tops["right"] <= tops["width"], tops  # and on the screen, not past its edge
    context.close()

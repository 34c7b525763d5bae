"""A stroke's report in the reviewer's terms, and a phone's Apply row that never lies over the
picture (words45, 2026-12-07; verify44 L2, L3 and ui44).

L2: a remove click on a faint ghost apart from the product, which the engine takes whole as the
reviewer asked, was told "cleared 93.1 % of the faint haze (32400 px), also changed 27762 px
beyond the brush". L3: a keep click that gives back what an earlier remove stroke took beyond
its brush (``retouch_cut._undone_beyond``) said only "added 0.3 %". ui44: on a 360 or 390 px
phone a far report's "show change" and "more" wrap below its words, the Apply row grows from 52
to 83 px and, stuck to the bottom of the screen, covered the picture's lowest 17 px."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke
from tests.browser.test_retouch import (
    BLOB,
    FAR_REPORT,
    _at,
    _editor_on_laptop,
    _phone_editor,
    _shot,
    _store_rgba,
    _stored_rgba,
    _wait_count,
    stained,  # noqa: F401 (a fixture)
)
from tests.factories import reviewer
from tests.imaging.test_cut_click_undoes import strap_scene
from tests.imaging.test_cut_firm_beyond import scene as hoof_scene
from tests.imaging.test_cut_firm_beyond import stroke as shadow_stroke

GHOST = (12, 140, 120, 440)  # x0, y0, x1, y1: a faint ghost on the backdrop, apart from all


def test_it_says_a_remove_click_took_the_faint_piece_it_landed_on_whole(live_server, page,
                                                                        stained, log_in):  # noqa: F811
    """The real engine on a faint ghost (alpha 70, 108 x 300 px) the stained cutout holds apart
    from the product: a remove click near its top end takes it whole, 200+ px beyond the brush,
    and the report names the piece, not a far change."""
    rgba = _stored_rgba(stained)
    x0, y0, x1, y1 = GHOST
    assert rgba[y0:y1, x0:x1, 3].max() == 0  # backdrop the model removed
    rgba[y0:y1, x0:x1] = (233, 233, 233, 70)
    _store_rgba(stained, rgba)
    editor, box, status = _editor_on_laptop(page, live_server, stained, log_in)
    editor.locator("[data-rt-tool=remove]").click()
    page.mouse.click(*_at(box, 66, 170))
    _wait_count(editor, 1)
    expect(status).to_contain_text(
        "The last remove click took the faint piece it landed on whole (32400 px); Ctrl+Z "
        "undoes it.")
    expect(status).not_to_contain_text("beyond the brush")
    expect(status).not_to_contain_text("haze")
    expect(status.locator("[data-rt-show]")).to_have_count(0)


# report() on a 400 x 300 preview: the product solid on the left, a faint piece (alpha 60) on
# the right that a remove click lands on; 'whole': it goes whole; 'joined': the same piece,
# joined to the product by haze, goes but for that haze strip (the product's own rim stays);
# 'two': two faint pieces, each under a click, both go.
FAINT_REPORT = """(scene) => {
    const ed = document.querySelector('#retouch-strokes [data-retouch]')._rtEditor;
    const w = 400, h = 300, k = w / ed.fullW;
    const box = (a, x0, y0, x1, y1, v) => {
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) a[y * w + x] = v; };
    const before = {w: w, h: h, a: new Uint8Array(w * h)};
    box(before.a, 10, 20, 90, 280, 255);            // the product
    box(before.a, 200, 30, 360, 280, 60);           // a faint ghost
    if (scene === 'joined') box(before.a, 90, 140, 200, 150, 30);   // haze to the product
    if (scene === 'two') box(before.a, 200, 150, 360, 160, 0);      // cut in two
    const now = {w: w, h: h, a: before.a.slice()};
    box(now.a, 200, 30, 360, 280, 0);
    const at = (x, y) => ({kind: 'remove', radius: 10 / k, points: [[x / k, y / k]]});
    const burst = scene === 'two' || scene === 'same' ? [at(280, 90), at(280, 220)] : [at(280, 90)];
    ed.strokes = burst.slice();
    ed.report(before, now, burst, burst.length);
    return [ed.saidText, window.cutroomRetouch.farFrom(before, now, burst, k)]; }"""


def test_it_names_a_faint_piece_taken_whole_and_still_names_a_far_change_beside_it(
        live_server, page, stained, log_in):  # noqa: F811
    _editor_on_laptop(page, live_server, stained, log_in)
    said, far = page.evaluate(FAINT_REPORT, "whole")
    assert far == 0, far
    assert said.startswith("The last remove click took the faint piece it landed on whole "
                           "(40000 px); "), said
    said, far = page.evaluate(FAINT_REPORT, "two")
    assert far == 0 and said.startswith(
        "The last 2 remove clicks together took the faint pieces they landed on whole"), said
    # two clicks on one piece: one piece, its pixels once (reread45: 2 pieces, 80000 px)
    said, far = page.evaluate(FAINT_REPORT, "same")
    assert far == 0 and said.startswith(
        "The last 2 remove clicks together took the faint piece they landed on whole "
        "(40000 px)"), said
    # joined to the product through haze the piece is no piece apart: what the click changed
    # far from its brush is named, as before
    said, far = page.evaluate(FAINT_REPORT, "joined")
    assert far > 20000 and f"also changed {far} px beyond the brush (show)" in said, said
    assert "faint piece" not in said, said


# report() on the engine's own alphas of a drawn scene (``base`` the model's, ``before`` after
# ``earlier``, ``now`` after the burst too), on a preview of the scene's size: the editor's
# stroke list is scaled to its photo's size (ed.fullW).
ENGINE_REPORT = """([w, h, base, before, now, earlier, burst, given]) => {
    const ed = document.querySelector('#retouch-strokes [data-retouch]')._rtEditor;
    const k = w / ed.fullW;
    const al = (v) => ({w: w, h: h, a: Uint8Array.from(v)});
    const full = (s) => ({kind: s[0], radius: s[1] / k,
                          points: s[2].map((p) => [p[0] / k, p[1] / k])});
    const list = earlier.concat(burst).map(full);
    const saved = ed.alphas['[]'];
    ed.alphas['[]'] = al(base);
    ed.strokes = list.slice();
    // no reset here: report() must clear a give-back an earlier report set
    // the engine's word on the newest stroke, as compare() takes it from the preview's
    // X-Retouch-Given-Back header (null: none sent, the pixels are read)
    const after = al(now);
    if (given !== null) after.given = given;
    ed.report(al(before), after, list.slice(earlier.length), list.length);
    ed.alphas['[]'] = saved;
    return [ed.saidText, ed.form.dataset.rtGivenBack || '']; }"""


def _engine_report(page, rgb, alpha, earlier, burst, word=True):
    """report() on the engine's alphas; ``word``: with the engine's ``given_back`` as the
    preview's header sends it (False: none, the editor reads the pixels)."""
    def flat(a):
        return a.astype(int).ravel().tolist()

    def js(s: Stroke):
        return [s.kind, s.radius, [list(p) for p in s.points]]

    before = retouch(rgb, alpha, earlier).alpha
    now = retouch(rgb, alpha, earlier + burst)
    h, w = alpha.shape
    return page.evaluate(ENGINE_REPORT, [w, h, flat(alpha), flat(before), flat(now.alpha),
                                         [js(s) for s in earlier], [js(s) for s in burst],
                                         now.given_back if word else None])


def test_it_says_a_click_gave_back_what_an_earlier_stroke_took_beyond_its_brush(
        live_server, page, stained, log_in):  # noqa: F811
    """The engine's scenes of tests/imaging/test_cut_click_undoes.py: a remove stroke along a
    hoof's shadow takes the hoof beyond its brush and a keep click on the hoof gives it back;
    a keep stroke along a strap adds a shadow patch beyond its brush and a remove click on the
    patch takes it back. Without the earlier stroke the same click's change is said as before."""
    _editor_on_laptop(page, live_server, stained, log_in)
    rgb, alpha, _, _ = hoof_scene(0, 128)
    keep = Stroke("keep", 5.0, ((66.0, 100.0),))
    # the engine's count (618 px) when the preview sends it, the pixel reading when not
    said, mark = _engine_report(page, rgb, alpha, [shadow_stroke()], [keep])
    assert said.startswith("The last keep click gave back what the earlier remove stroke took "
                           "beyond its brush (618 px, "), said
    assert "% of the cutout, green); Ctrl+Z undoes it." in said, said
    assert "added" not in said and "beyond the brush" not in said, said
    assert mark == "remove:2", mark
    said, mark = _engine_report(page, rgb, alpha, [shadow_stroke()], [keep], word=False)
    assert said.startswith("The last keep click gave back what the earlier remove stroke took "
                           "beyond its brush ("), said
    assert " px, " not in said and mark == "remove:2", (said, mark)
    rgb, alpha, _, _ = strap_scene(0)
    strap = Stroke("keep", 6.0, ((86.0, 98.0), (130.0, 98.0), (170.0, 98.0), (195.0, 98.0)))
    remove = Stroke("remove", 5.0, ((216.0, 100.0),))
    said, mark = _engine_report(page, rgb, alpha, [strap], [remove])
    assert said.startswith("The last remove click took back what the earlier keep stroke added "
                           "beyond its brush (1278 px, "), said
    assert "% of the cutout, red)" in said and mark == "keep:2", (said, mark)
    # the click alone, on the cutout the earlier stroke left, gives nothing back
    said, mark = _engine_report(page, rgb, alpha, [], [Stroke("keep", 5.0, ((216.0, 100.0),))])
    assert "gave back" not in said and mark == "", (said, mark)


# report() on a 400 x 300 preview: an earlier remove click took a block (x 200-300, y 100-200)
# the version held; a keep click on it gives it back and takes a few pixels of the product.
BACK_AND_TAKEN_REPORT = """() => {
    const ed = document.querySelector('#retouch-strokes [data-retouch]')._rtEditor;
    const w = 400, h = 300, k = w / ed.fullW;
    const box = (a, x0, y0, x1, y1, v) => {
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) a[y * w + x] = v; };
    const base = {w: w, h: h, a: new Uint8Array(w * h)};
    box(base.a, 10, 20, 90, 280, 255);
    box(base.a, 200, 100, 300, 200, 255);
    const before = {w: w, h: h, a: base.a.slice()};
    box(before.a, 200, 100, 300, 200, 0);
    const now = {w: w, h: h, a: base.a.slice()};
    box(now.a, 20, 20, 30, 30, 0);
    const at = (kind, x, y) => ({kind: kind, radius: 10 / k, points: [[x / k, y / k]]});
    const list = [at('remove', 250, 150), at('keep', 250, 150)];
    const saved = ed.alphas['[]'];
    ed.alphas['[]'] = base;
    ed.strokes = list.slice();
    ed.report(before, now, list.slice(1), 2);
    ed.alphas['[]'] = saved;
    return ed.saidText; }"""


def test_it_says_only_the_bursts_own_way_as_given_back(
        live_server, page, stained, log_in):  # noqa: F811
    """A keep click that gives back what a remove click took and also takes a few pixels: those
    are "took", never "took back what the earlier remove click added" (reread45)."""
    _editor_on_laptop(page, live_server, stained, log_in)
    said = page.evaluate(BACK_AND_TAKEN_REPORT)
    assert said.startswith("The last keep click took "), said
    assert "gave back what the earlier remove click took beyond its brush (" in said, said
    assert "took back" not in said, said


# report() on a 400 x 300 preview: an earlier remove stroke took a block (x 200-254, y 100-119:
# 1026 px) the version held beyond its brush; a keep click there gives it back and adds a larger
# block (x 200-300, y 119-200: 8100 px) the version never held. ``given``: the preview's
# X-Retouch-Given-Back header (the engine's count; null: none sent).
GAVE_MORE_REPORT = """(given) => {
    const ed = document.querySelector('#retouch-strokes [data-retouch]')._rtEditor;
    const w = 400, h = 300, k = w / ed.fullW;
    const box = (a, x0, y0, x1, y1, v) => {
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) a[y * w + x] = v; };
    const base = {w: w, h: h, a: new Uint8Array(w * h)};
    box(base.a, 10, 20, 110, 280, 255);              // the product: 26,000 px
    box(base.a, 200, 100, 254, 119, 255);            // what the remove took beyond its brush
    const before = {w: w, h: h, a: base.a.slice()};
    box(before.a, 200, 100, 254, 119, 0);
    const now = {w: w, h: h, a: base.a.slice()};
    box(now.a, 200, 119, 300, 200, 255);
    if (given !== null) now.given = given;
    const list = [{kind: 'remove', radius: 6 / k, points: [[150 / k, 90 / k], [190 / k, 90 / k]]},
                  {kind: 'keep', radius: 10 / k, points: [[250 / k, 130 / k]]}];
    const saved = ed.alphas['[]'];
    ed.alphas['[]'] = base;
    ed.strokes = list.slice();
    ed.report(before, now, list.slice(1), 2);
    ed.alphas['[]'] = saved;
    return [ed.saidText, ed.form.dataset.rtGivenBack || '']; }"""


def test_it_says_a_click_gave_back_what_the_engine_counted_and_added_more(
        live_server, page, stained, log_in):  # noqa: F811
    """verify45 M2: a keep click that gave back what an earlier remove stroke took beyond its
    brush and brought back more besides was told "added 7.7 % …, also changed 1026 px beyond
    the brush": read from the pixels, the give-back needs 90 % of what the click crossed to be
    the version's own (here 1026 of 9126 px). The engine's count (X-Retouch-Given-Back) says
    both."""
    _editor_on_laptop(page, live_server, stained, log_in)
    said, mark = page.evaluate(GAVE_MORE_REPORT, None)
    # the pixel reading: all of it "added"
    assert said.startswith("The last keep click added 35.1 % of the cutout (green); "), said
    assert mark == "", mark
    said, mark = page.evaluate(GAVE_MORE_REPORT, "remove:1026")
    assert said.startswith("The last keep click gave back 1026 px the earlier remove stroke took "
                           "beyond its brush; added 31.2 % of the cutout more (green); "), said
    assert "beyond the brush" not in said and "(show)" not in said, said
    assert mark == "remove:2", mark
    # the engine's word on another kind of stroke is none of this click's: the pixels decide
    said, mark = page.evaluate(GAVE_MORE_REPORT, "keep:1026")
    assert "gave back" not in said and mark == "", (said, mark)


def test_it_reads_the_engines_give_back_from_the_previews_header(
        live_server, page, stained, log_in):  # noqa: F811
    """The header's way into the words on a real preview: a remove stroke over the stain, then a
    keep click on it, whose preview answer carries X-Retouch-Given-Back (set here on the real
    answer: the stain holds no take beyond the brush for the engine to count). The report says
    the count and what the click added besides; the answer of the stroke before says nothing
    of it."""
    def given(route):
        answer = route.fetch()
        headers = dict(answer.headers)
        if len(json.loads(route.request.post_data or "{}").get("strokes", [])) == 2:
            headers["x-retouch-given-back"] = "remove:1"
        route.fulfill(response=answer, headers=headers)

    page.route("**/retouch/*/preview/", given)
    editor, box, status = _editor_on_laptop(page, live_server, stained, log_in)
    editor.locator("[data-rt-tool=remove]").click()
    page.mouse.move(*_at(box, BLOB[0] - 30, BLOB[1]))
    page.mouse.down()
    page.mouse.move(*_at(box, BLOB[0] + 30, BLOB[1]), steps=8)
    page.mouse.up()
    _wait_count(editor, 1)
    expect(status).not_to_contain_text("gave back")
    editor.locator("[data-rt-tool=keep]").click()
    page.mouse.click(*_at(box, BLOB[0], BLOB[1]))
    _wait_count(editor, 2)
    expect(status).to_contain_text(
        "The last keep click gave back 1 px the earlier remove stroke took beyond its brush; "
        "added ")
    expect(status).to_contain_text(" more (green)")
    expect(editor).to_have_attribute("data-rt-given-back", "remove:2")


# The card's retouch stage on a touch phone, its first preview in.
CARD_PREVIEW_LOADED = """() => {
    const f = document.querySelector('.rv-stage-retouch [data-retouch]'), ed = f && f._rtEditor;
    return !!(ed && ed.alphas && Object.keys(ed.alphas).length); }"""
CARD_FAR_REPORT = FAR_REPORT.replace("#retouch-strokes [data-retouch]",
                                     ".rv-stage-retouch [data-retouch]")


def _card_editor(browser, session_for, live_server, cutout, width: int, height: int = 740,
                 phone: bool = True):
    """The review card's Retouch view (``e``) in a ``width`` x ``height`` window, a touch phone
    unless ``phone`` is false, its first preview in: (context, page, editor, status)."""
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=phone,
                                  is_mobile=phone)
    session_for(context, reviewer())
    page = context.new_page()
    page.goto(f"{live_server.url}/cutouts/review/card/{cutout.pk}/")
    expect(page.locator("#review-card")).to_have_attribute("data-cutout", str(cutout.pk))
    page.keyboard.press("e")
    editor = page.locator(".rv-stage-retouch [data-retouch]")
    expect(editor).to_be_visible()
    page.wait_for_function(CARD_PREVIEW_LOADED)
    return context, page, editor, editor.locator("[data-rt-status]")


# where the picture, the Apply row and the tools lie on the screen, and the card's decision bar
LAYOUT = """(ed) => { const r = (e) => e && e.getBoundingClientRect();
    const bar = ed.closest('.rv-card') && ed.closest('.rv-card').querySelector('.rv-actions');
    const [v, f, t] = ['.rt-view', '.rt-foot', '.rt-tools'].map((s) => r(ed.querySelector(s)));
    return {view: [v.top, v.bottom], foot: [f.top, f.bottom], tools: [t.top, t.bottom],
            bar: bar ? [r(bar).top, r(bar).bottom] : null, win: innerHeight}; }"""


@pytest.mark.parametrize("width", [360, 390])
@pytest.mark.parametrize("where", ["page", "card"])
def test_it_never_lets_a_grown_apply_row_cover_the_picture_on_a_phone(
        live_server, browser, session_for, stained, request, width, where):  # noqa: F811
    """ui44: a far report's buttons wrap below its words and the Apply row grows 52 -> 83 px;
    on the retouch page it covered the picture's lowest 17 px (stuck to the screen's bottom)
    until the next message. The window now scrolls by as much, the tools still in sight; on
    the card the editor is fitted above the decision bar, and the row grows below the picture
    there."""
    if where == "page":
        context, page, editor, status = _phone_editor(browser, session_for, live_server,
                                                      stained, width)
        report = FAR_REPORT
    else:
        context, page, editor, status = _card_editor(browser, session_for, live_server, stained,
                                                     width)
        report = CARD_FAR_REPORT
    rest = editor.evaluate(LAYOUT)
    assert rest["view"][1] <= rest["foot"][0] + 0.5, rest
    said = page.evaluate(report, "Preview: 1 remove stroke · 1234 ms. " + "Apply saves it. " * 8)
    assert "(show)" in said, said
    expect(status.locator("[data-rt-show]")).to_be_visible()
    expect(status.locator("[data-rt-why]")).to_be_visible()
    foot = editor.locator(".rt-foot")
    page.wait_for_function("(f) => f.offsetHeight > 70", arg=foot.element_handle())
    page.wait_for_timeout(100)  # the resize observer's turn
    grown = editor.evaluate(LAYOUT)
    _shot(page, request, f"{where}-{width}-far")
    # the picture wholly above the Apply row, the tools wholly on the screen
    assert grown["foot"][1] - grown["foot"][0] > 70, grown
    assert grown["view"][1] <= grown["foot"][0] + 0.5, grown
    assert grown["foot"][1] <= grown["win"] + 0.5, grown
    assert grown["tools"][0] >= -0.5, grown
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()


@pytest.mark.parametrize("size", [(360, 740), (390, 740), (390, 844), (412, 915), (1280, 800)])
def test_it_keeps_the_card_s_decisions_on_screen_and_its_picture_still_under_a_far_report(
        live_server, browser, session_for, stained, request, size):  # noqa: F811
    """words45: on a 360 x 740 phone the card's Retouch view fitted its picture at the 160 px
    floor and the decision bar (Approve / Flag on two rows) still ended 5 px below the screen,
    36 px once a far report showed; at 390 px the picture shrank 190 -> 160 px while the
    report showed. Every decision stays on the screen, at rest and under the report, and the
    picture keeps its height while the reviewer reads it."""
    width, height = size
    context, page, editor, status = _card_editor(browser, session_for, live_server, stained,
                                                 width, height, phone=width < 600)
    page.wait_for_timeout(100)  # the resize observer's turn
    rest = editor.evaluate(LAYOUT)
    _shot(page, request, "rest")
    said = page.evaluate(CARD_FAR_REPORT,
                         "Preview: 1 remove stroke · 1234 ms. " + "Apply saves it. " * 8)
    assert "(show)" in said, said
    expect(status.locator("[data-rt-show]")).to_be_visible()
    page.wait_for_timeout(150)  # the resize observer's turn
    far = editor.evaluate(LAYOUT)
    _shot(page, request, "far")
    for at in (rest, far):
        assert at["bar"][1] <= at["win"] + 0.5, at
        assert at["view"][1] <= at["foot"][0] + 0.5, at
        assert at["tools"][0] >= -0.5, at
    tall = rest["view"][1] - rest["view"][0]
    assert far["view"][1] - far["view"][0] >= tall - 0.5, (rest, far)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()

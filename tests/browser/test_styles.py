"""The site's shared styles (static/css/cutroom.css) as a browser applies them: a disabled
button, primary or not, does not look pressable (QA 2026-12-04: a disabled "Apply as new
version" was the full blue of an enabled one)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STYLES_JS = """() => {
  const out = {};
  for (const [name, cls, disabled] of [["primary", "btn primary", false],
                                       ["primary-disabled", "btn primary", true],
                                       ["plain-disabled", "btn", true]]) {
    const b = document.createElement("button");
    b.className = cls; b.disabled = disabled; b.textContent = name;
    document.body.appendChild(b);
    const s = getComputedStyle(b);
    out[name] = {opacity: s.opacity, cursor: s.cursor, background: s.backgroundColor};
  }
  return out;
}"""


def test_it_shows_a_disabled_button_as_not_pressable(live_server, page):
    page.goto(f"{live_server.url}/accounts/login/")  # any page with the site's stylesheet
    styles = page.evaluate(STYLES_JS)
    assert styles["primary"]["opacity"] == "1" and styles["primary"]["cursor"] == "pointer"
    for name in ("primary-disabled", "plain-disabled"):
        assert float(styles[name]["opacity"]) <= 0.5, styles
        assert styles[name]["cursor"] == "not-allowed"
    # still the primary colour, faded: the reader sees which action it will be
    assert styles["primary-disabled"]["background"] == styles["primary"]["background"]


# A button, a link-like button, a preset card and the card's tooltip switch, with the pages'
# stylesheets (cutroom.css, review.css, export.css), after a text field the keyboard starts in.
HOVER_FIXTURE = """() => {
  for (const name of ["review", "export"]) {
    const link = document.createElement("link");
    link.rel = "stylesheet"; link.href = `/static/css/${name}.css`; link.id = `css-${name}`;
    document.head.appendChild(link);
  }
  const box = document.createElement("div");
  box.id = "hover-fixture";
  box.innerHTML = '<input id="hv-before" type="text">' +
    '<button type="button" id="hv-btn" class="btn">Button</button> ' +
    '<button type="button" id="hv-tip" class="rv-tip" data-tip="Checkerboard">T</button> ' +
    '<div id="hv-card" class="preset-card">Card</div>';  // no box: a tick lights it anyway
  box.style.cssText = "padding: 60px 20px";
  document.body.prepend(box);
}"""
LOOKS = """() => ({
  button: getComputedStyle(document.getElementById("hv-btn")).borderTopColor,
  card: getComputedStyle(document.getElementById("hv-card")).borderTopColor,
  tip: getComputedStyle(document.getElementById("hv-tip"), "::after").content,
})"""
LINE = "rgb(221, 225, 231)"  # --line, the resting border
HOVERED = "rgb(184, 192, 204)"  # #b8c0cc, the hover border


def _hover_page(page, url):
    page.goto(f"{url}/accounts/login/")  # any page with the site's stylesheet
    page.evaluate(HOVER_FIXTURE)
    for name in ("review", "export"):
        page.wait_for_function(
            f"() => document.getElementById('css-{name}').sheet !== null")
    return page


def test_it_shows_hover_looks_under_a_mouse(live_server, page):
    _hover_page(page, live_server.url)
    assert page.evaluate("matchMedia('(hover: hover)').matches")
    assert page.evaluate(LOOKS) == {"button": LINE, "card": LINE, "tip": "none"}
    page.hover("#hv-btn")
    assert page.evaluate(LOOKS)["button"] == HOVERED
    page.hover("#hv-card")
    assert page.evaluate(LOOKS)["card"] == HOVERED
    page.hover("#hv-tip")
    assert page.evaluate(LOOKS)["tip"] == '"Checkerboard"'


def test_it_leaves_no_hover_look_after_a_tap_and_keeps_keyboard_focus_looks(
        live_server, browser):
    """A tap left the tapped element in :hover: the button and the preset card stayed lit,
    the checkerboard's tip stayed over the picture (touch screens: hover: none)."""
    context = browser.new_context(viewport={"width": 390, "height": 664}, has_touch=True,
                                  is_mobile=True)
    page = _hover_page(context.new_page(), live_server.url)
    assert page.evaluate("matchMedia('(hover: none)').matches")
    for target in ("#hv-btn", "#hv-card", "#hv-tip"):
        page.tap(target)
        assert page.evaluate(f"document.querySelector('{target}').matches(':hover')"), target
        assert page.evaluate(LOOKS) == {"button": LINE, "card": LINE, "tip": "none"}, target
    # the keyboard's focus still shows the tip (a tablet with a keyboard)
    page.focus("#hv-before")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "hv-tip"
    assert page.evaluate(LOOKS)["tip"] == '"Checkerboard"'
    context.close()

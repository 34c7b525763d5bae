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

"""The import page's Issues table at QA's 390 px phone (QA 2026-12-06, session 38: file
names read "huge.p", cut in the middle): a name wraps where it must and every character
shows."""

import pytest

from catalog.models import ImportIssue, ImportJob
from tests.browser.test_review_layout import OVERFLOW_JS
from tests.factories import manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = ["huge.png", "SHOE-2024-AUTUMN-COLLECTION_blue_left_side_detail_PT03.jpg"]
REASON = ("Not imported: the manifest names this file twice (rows 14 and 27) and the "
          "second row's SKU differs from the first; fix the manifest and import again. "
          "Too large: 12000×9000 px (108,000,000 pixels, 108 MP) is over the 80,000,000 "
          "pixel limit (80 MP); scale it to at most 10327×7745 and upload it again.")

PROBE_JS = """() => [...document.querySelectorAll('.issues td.filename')].map(td => {
  const name = td.firstChild;  // the file name's text node, before the SKU's span
  const range = document.createRange(); range.selectNodeContents(name);
  const cell = td.getBoundingClientRect(), text = range.getBoundingClientRect();
  return {text: name.textContent, cell: [cell.left, cell.right],
          drawn: [text.left, text.right], clipped: td.scrollWidth > td.clientWidth,
          lines: range.getClientRects().length,
          doc: [document.documentElement.scrollWidth, window.innerWidth]};
})"""


def test_it_shows_whole_file_names_in_the_issues_table_on_a_phone(live_server, browser,
                                                                   session_for):
    job = ImportJob.objects.create(source_kind="zip", status="done", error_count=2)
    for name in NAMES:
        ImportIssue.objects.create(job=job, level="error", filename=name, reason=REASON)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    session_for(context, manager())
    page = context.new_page()
    page.goto(f"{live_server.url}/catalog/imports/{job.pk}/")
    short, long = page.evaluate(PROBE_JS)
    assert [short["text"], long["text"]] == NAMES
    assert short["lines"] == 1, short  # was 2: "huge.p" / "ng"
    # the long name wraps inside its cell, every character drawn, the page no wider
    assert long["lines"] > 1 and not long["clipped"], long
    assert long["cell"][0] <= long["drawn"][0] and long["drawn"][1] <= long["cell"][1], long
    overflow = page.evaluate(OVERFLOW_JS)
    assert overflow["scrollWidth"] <= overflow["width"] and overflow["out"] == [], overflow
    context.close()

"""The pending note's poll (every second per open card or retouch page while a version is
queued or running) is answered with the note alone, read in one query, not with the whole
card rendered only for htmx to pick the note out of it (hx-select). The poll that finds the
version finished still swaps the whole card once (tests/cutouts/test_review_views.py)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cutouts.imaging import progress
from cutouts.models import Cutout
from cutouts.services import runs
from tests.cutouts.reviewdata import done_cutouts
from tests.factories import reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
HX = {"HTTP_HX_REQUEST": "true"}
# (URL name, note prefix, what the whole answer is)
PAGES = [("cutouts:review_card", "rv", "review-card"),
         ("cutouts:retouch_card", "rt", "retouch-main")]
# The note's markup: the polled span and the live region beside it.
NOTE = re.compile(r'<span id="(rv|rt)-pending-note".*?</span><span role="status" '
                  r'data-pending-said>[^<]*</span>', re.S)

# A version's row in the card's Versions list.
ROW = re.compile(r'<li id="rv-version-\d+".*?</li>', re.S)


def _poll(prefix: str) -> dict:
    return {**HX, "HTTP_HX_TARGET": f"{prefix}-pending-note",
            "HTTP_HX_TRIGGER": f"{prefix}-pending-note"}


def _steady(html: str) -> str:
    """The note without its ticking seconds (the two renders may fall in different ones)."""
    return re.sub(r"(data-r[vt]-waited>)[^<]*<", r"\1<", html)


@pytest.fixture
def running(client, make_assets, fake_model):
    """A re-run (v2) a worker has claimed, at "Refining edges, 52 %"."""
    first = done_cutouts(make_assets(2))[0]
    client.force_login(reviewer())
    # a setting changed: the card refuses a re-run that changes nothing (QA40 L3)
    client.post(reverse("cutouts:review_card", args=[first.pk]),
                {"action": "rerun", "strength": "strong"}, **HX)
    new = Cutout.objects.get(asset=first.asset, version=2)
    token = runs._claim(new.pk, "w1:1")
    runs.RunProgress(new.pk, token)(progress.REFINING, 0.52)
    return new


@pytest.mark.parametrize("name, prefix, whole", PAGES)
def test_it_answers_the_pending_notes_poll_with_the_note_alone_in_one_query(
        client, running, name, prefix, whole):
    url = reverse(name, args=[running.pk])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **_poll(prefix))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="{whole}"' not in html and "<h1" not in html, html
    assert "HX-Retarget" not in response and "HX-Reselect" not in response
    note = NOTE.search(html)
    assert note and note.group(1) == prefix, html
    # the note's paragraph, nothing around it but (the card's) its status chip, swapped out
    # of band (QA 2026-12-06: it read "queued" while the note said "running")
    chip = ('<span class="badge chip version-running" id="rv-review-status" '
            'hx-swap-oob="true" data-status="running">running</span>')
    if prefix == "rv":
        assert html.count(chip) == 1, html
        html = html.replace(chip, "")
        # and the version's row in the Versions list (test_it_swaps_the_running_versions_row_…)
        row = ROW.search(html)
        assert row and f'id="rv-version-{running.pk}"' in row.group(0), html
        html = html.replace(row.group(0), "")
    else:
        assert "rv-review-status" not in html and "rv-version-" not in html
    assert html.strip().startswith(f"<p>{note.group(0)}") and html.strip().endswith("</p>")
    assert html.count("<p>") == 1
    for attr in (f'hx-get="{url}"', 'hx-trigger="every 1s"', f'hx-select="#{prefix}-pending-note"',
                 'hx-swap="outerHTML"', 'data-said="Refining edges, 52 %"',
                 'aria-valuetext="Refining edges, 52 %"', 'value="52"'):
        assert attr in html, attr
    assert '<span role="status" data-pending-said>Refining edges, 52 %</span>' in html
    # The version's row once; the rest is the login and the capability check every request
    # pays (the whole card took ten: its versions, decisions, neighbours, the roles).
    cutout_reads = [q for q in queries.captured_queries if "cutouts_" in q["sql"]]
    assert len(cutout_reads) == 1, [q["sql"] for q in queries.captured_queries]
    assert len(queries.captured_queries) <= 5, [q["sql"] for q in queries.captured_queries]
    assert {"HX-Request", "HX-Target"} <= {
        v.strip() for v in response.get("Vary", "").split(",")}


@pytest.mark.parametrize("name, prefix, whole", PAGES)
def test_it_answers_the_poll_with_the_same_note_the_page_shows(
        client, running, name, prefix, whole):
    """One note template: what the poll swaps in is what the page (and the card) rendered."""
    url = reverse(name, args=[running.pk]) + "?model=u2netp"
    polled = NOTE.search(client.get(url, **_poll(prefix)).content.decode())
    for headers in ({}, HX):  # the page without htmx, and the card or page body by htmx
        shown = NOTE.search(client.get(url, **headers).content.decode())
        assert shown and polled
        assert _steady(polled.group(0)) == _steady(shown.group(0))
    assert f'hx-get="{url}"' in polled.group(0)  # the queue's filters stay on the poll


def test_it_counts_the_strokes_in_the_retouch_notes_poll_and_says_a_queued_one_has_no_bar(
        client, make_assets, fake_model):
    import json

    first = done_cutouts(make_assets(1))[0]
    client.force_login(reviewer())
    strokes = [{"kind": "remove", "radius": 6, "points": [[20, 20]]},
               {"kind": "keep", "radius": 6, "points": [[30, 30]]}]
    client.post(reverse("cutouts:retouch_card", args=[first.pk]),
                {"action": "strokes", "strokes": json.dumps(strokes)}, **HX)
    new = Cutout.objects.get(asset=first.asset, version=2)
    assert new.status == "queued"
    html = client.get(reverse("cutouts:retouch_card", args=[new.pk]),
                      **_poll("rt")).content.decode()
    assert "Applying 2 strokes as version 2: it is <b>queued</b>" in html, html
    assert "<progress" not in html and 'data-said=""' in html
    assert '<span role="status" data-pending-said></span>' in html


@pytest.mark.parametrize("name, prefix, whole", PAGES)
def test_it_swaps_the_whole_page_once_when_the_poll_finds_the_version_failed(
        client, running, name, prefix, whole):
    Cutout.objects.filter(pk=running.pk).update(status="failed", error="Model crashed")
    response = client.get(reverse(name, args=[running.pk]), **_poll(prefix))
    assert response["HX-Retarget"] == f"#{whole}" and response["HX-Reswap"] == "outerHTML"
    assert response["HX-Reselect"] == f"#{whole}"
    html = response.content.decode()
    assert f'id="{whole}"' in html and "pending-note" not in html


@pytest.mark.parametrize("name, prefix, whole", PAGES)
def test_it_answers_a_poll_for_a_deleted_image_with_not_found(
        client, running, name, prefix, whole):
    from django.utils import timezone

    from catalog.models import ImageAsset

    ImageAsset.objects.filter(pk=running.asset_id).update(deleted_at=timezone.now())
    assert client.get(reverse(name, args=[running.pk]), **_poll(prefix)).status_code == 404


@pytest.mark.parametrize("name, prefix, whole", PAGES)
def test_it_says_a_run_started_again_after_its_worker_stopped(client, running, name, prefix,
                                                               whole):
    # QA 2026-12-04: the bar jumped from 36 % back to "Reading the photo", 0 %, without a word
    Cutout.objects.filter(pk=running.pk).update(attempts=2)
    note = client.get(reverse(name, args=[running.pk]), **_poll(prefix)).content.decode()
    assert "Refining edges (started again, run 2), 52 %" in note
    Cutout.objects.filter(pk=running.pk).update(attempts=1)
    note = client.get(reverse(name, args=[running.pk]), **_poll(prefix)).content.decode()
    assert "Refining edges, 52 %" in note and "started again" not in note


def test_it_swaps_the_running_versions_row_in_the_versions_list_with_the_chip(
        client, make_assets, fake_model):
    """QA 2026-12-06: while v2 ran, the card's Versions list kept the row it was swapped in
    with ("queued") until the finished card replaced it whole, beside a "running" chip and a
    "running … 52 %" note. The poll's one read now swaps the row too, out of band, as the card
    renders it (its link keeps the queue's filters)."""
    first = done_cutouts(make_assets(2))[0]
    client.force_login(reviewer())
    # a setting changed: the card refuses a re-run that changes nothing (QA40 L3)
    client.post(reverse("cutouts:review_card", args=[first.pk]),
                {"action": "rerun", "strength": "strong"}, **HX)
    new = Cutout.objects.get(asset=first.asset, version=2)
    url = reverse("cutouts:review_card", args=[new.pk]) + "?model=u2netp"
    rows = {m.group(0) for m in ROW.finditer(client.get(url, **HX).content.decode())}
    [queued] = [r for r in rows if f'id="rv-version-{new.pk}"' in r]
    assert 'data-state="queued"' in queued and ">queued</span>" in queued
    assert "hx-swap-oob" not in queued

    token = runs._claim(new.pk, "w1:1")
    runs.RunProgress(new.pk, token)(progress.REFINING, 0.52)
    polled = client.get(url, **_poll("rv")).content.decode()
    [row] = ROW.findall(polled)
    assert row.startswith(f'<li id="rv-version-{new.pk}" class="rv-this" hx-swap-oob="true"')
    assert 'data-state="running"' in row and ">running</span>" in row, row
    assert "queued" not in row
    assert 'data-status="running">running</span>' in polled  # the chip agrees
    # the very row the card now shows, but for the out-of-band swap
    shown = {m.group(0) for m in ROW.finditer(client.get(url, **HX).content.decode())}
    assert row.replace(' hx-swap-oob="true"', "") in shown
    assert f'href="{url}"' in row

"""The "Faint marks" pre-flag: a see-through mark a white-background preset refuses (QA
2026-12-04: a bike approved at risk 0.15 without a pre-flag, then refused for Amazon main for
a grey cloud inside its front wheel). The cutout's ``faint_marks`` signal is measured when a
version finishes, as export compliance measures it; the review raises the pre-flag from it."""

import html
import io
import re

import numpy as np
import pytest
from django.core.files.storage import storages
from django.urls import reverse
from PIL import Image

from cutouts.models import Cutout
from cutouts.services import retouch, review, runs
from cutouts.variants import PRESETS, check_rendered, render_variant
from cutouts.variants.compliance import (
    FAINT_MARK_FAIL_SHARE,
    FAINT_MARK_SHARE,
    faint_marks_refusing,
    faint_marks_signal,
)
from tests.cutouts.scissors import CLOUD, with_cloud
from tests.factories import reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

HX = {"HTTP_HX_REQUEST": "true"}


def _amazon_check(cutout: Cutout):
    with storages["default"].open(cutout.rgba_name, "rb") as fh:
        rgba = Image.open(io.BytesIO(fh.read())).convert("RGBA")
    preset = PRESETS["amazon_main"]
    return check_rendered(render_variant(rgba, preset.spec), preset)


def test_it_stores_the_faint_marks_export_refuses_when_a_run_finishes(scissors_cut):
    cutout = scissors_cut(cloud=True)
    signal = cutout.signals["faint_marks"]
    assert signal["threshold"] == 8 and signal["count"] >= 1
    assert signal["share"] >= FAINT_MARK_FAIL_SHARE, signal
    x0, y0, x1, y1 = signal["box"]
    assert x0 <= CLOUD[0] <= x1 and y0 <= CLOUD[1] <= y1
    assert "faint_marks" in cutout.preflags
    # the same measure as export compliance: Amazon main refuses this very file for it
    result = _amazon_check(cutout)
    assert any("faint see-through mark" in e for e in result.errors), result.errors
    measured = max(m["share"] for m in result.measurements["faint_marks"])
    assert measured == signal["share"]
    # timed apart from the encode it once hid in (cutout_profile, jobs_benchmark's split)
    assert cutout.timings["faint_marks"] > 0 and cutout.timings["encode"] > 0


def test_it_stores_no_faint_mark_for_a_clean_cut(scissors_cut):
    cutout = scissors_cut(cloud=False)
    signal = cutout.signals["faint_marks"]
    assert signal["share"] < FAINT_MARK_SHARE and signal["count"] == 0, signal
    assert "faint_marks" not in cutout.preflags
    assert not any("faint see-through" in e for e in _amazon_check(cutout).errors)


def _signal(share: float, threshold: int = 8) -> dict:
    return {"threshold": threshold, "share": share, "count": 2, "box": [1466, 760, 1600, 900]}


def test_it_preflags_a_mark_a_white_background_preset_refuses_and_ranks_it_first():
    base = {"confidence": 0.9, "halo_risk": 0.1, "uncertain_fraction": 0.01}
    flags, risk = review.preflags_from_signals({**base, "faint_marks": _signal(0.115)})
    assert flags == ["faint_marks"]
    assert review.PREFLAGS["faint_marks"].startswith("Faint marks")
    assert faint_marks_refusing(_signal(0.115)) == ["Amazon main image", "Walmart"]
    clean_flags, clean_risk = review.preflags_from_signals({**base, "faint_marks": _signal(0.05)})
    # a mark that only warns (under a tenth of the product) is the hint's pre-flag, outside
    # the risk; a small one (under FAINT_MARK_LOOK_SHARE) raises nothing
    assert clean_flags == ["faint_cloud"] and risk > clean_risk
    assert review.preflags_from_signals({**base, "faint_marks": _signal(0.012)})[0] == []
    assert review.preflags_from_signals({**base, "faint_marks": _signal(0.012)})[1] == clean_risk
    # a reviewer who dismisses it drops its tie-break share
    assert review._risk_without({**base, "faint_marks": _signal(0.115)},
                                {"faint_marks"}) == pytest.approx(clean_risk)
    # a version computed before the signal, or measured at another threshold, raises nothing
    assert review.preflags_from_signals(base)[0] == []
    assert review.preflags_from_signals({**base, "faint_marks": _signal(0.115, 20)})[0] == []


def _card_note(client, cutout) -> tuple[str, str, str]:
    """A reviewer's card of ``cutout``: its address, its page and its faint-mark note."""
    client.force_login(reviewer())
    url = reverse("cutouts:review_card", args=[cutout.pk])
    page = client.get(url).content.decode()
    return url, page, page.split('class="msg msg-warning rv-faint-marks"')[1].split("</p>")[0]


def test_it_tells_the_reviewer_on_the_card_until_the_preflag_is_dismissed(client, scissors_cut):
    cutout = scissors_cut(cloud=True)
    url, html, note = _card_note(client, cutout)
    share = f"{cutout.signals['faint_marks']['share'] * 100:.1f} %"
    # a pixel of the mark (its deepest), not its box's corner
    x, y = cutout.signals["faint_marks"]["at"]
    x0, y0, x1, y1 = cutout.signals["faint_marks"]["box"]
    assert x0 <= x < x1 and y0 <= y < y1 and (x, y) != (x0, y0)
    assert abs(x - CLOUD[0]) < 60 and abs(y - CLOUD[1]) < 45
    assert share in note and f"near x={x}, y={y}" in note
    assert "Amazon main image, Walmart will refuse it" in note
    # the mark may be background (a cloud) or the product held see-through (QA: banana3's
    # half-lost banana, where "remove it" made the cutout worse): the note names both fixes
    assert "where the grey cloud is background, a remove click or stroke on it fixes it" in note
    assert "part of the product the cutout holds see-through, a keep click" in note
    assert 'data-preflag="faint_marks"' in html
    before = cutout.risk
    client.post(url, {"action": "preflag_dismiss", "preflag": "faint_marks"}, **HX)
    cutout.refresh_from_db()
    assert "faint_marks" not in cutout.preflags and cutout.risk < before
    assert "rv-faint-marks" not in client.get(url).content.decode()


def test_it_rings_the_faint_mark_on_the_cutout_where_the_note_says(client, scissors_cut):
    # QA 2026-12-06 (qa38a L5): "near x=492, y=452" with nothing on the picture to find it by
    cutout = scissors_cut(cloud=True)
    url, page, note = _card_note(client, cutout)
    x, y = cutout.signals["faint_marks"]["at"]
    assert f"near x={x}, y={y} (ringed on the cutout)" in note
    ring = re.search(r'<span class="rv-faint-ring"([^>]*)>', page)
    assert ring is not None and 'aria-hidden="true"' in ring.group(1)
    left, top = map(float, re.search(r"left: ([\d.]+)%; top: ([\d.]+)%", ring.group(1)).groups())
    # in % of the picture, so it sits on the mark at any drawn size
    assert left == pytest.approx((x + 0.5) * 100 / cutout.width, abs=0.01)
    assert top == pytest.approx((y + 0.5) * 100 / cutout.height, abs=0.01)
    assert 0 < left < 100 and 0 < top < 100
    # over the cutout picture, in its layers (positioned against the picture's own box)
    layers = page.split('class="rv-layers"')[1].split('class="rv-loupe')[0]
    assert "rv-faint-ring" in layers and "rv-cutout" in layers
    client.post(url, {"action": "preflag_dismiss", "preflag": "faint_marks"}, **HX)
    assert "rv-faint-ring" not in client.get(url).content.decode()


def test_it_tells_the_reviewer_on_the_grid_tile_where_bulk_approval_happens(client, scissors_cut):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cutout = scissors_cut(cloud=True)
    client.force_login(reviewer())

    def tile() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("cutouts:review_grid")).content.decode()
        one = next(t for t in html.split('class="rv-tile"')[1:] if f'value="{cutout.pk}"' in t)
        return one, len(queries)

    flagged, flagged_queries = tile()
    assert "Amazon main image, Walmart will refuse it: a faint see-through mark" in flagged
    Cutout.objects.filter(pk=cutout.pk).update(preflags=[])
    clean, clean_queries = tile()
    assert "rv-faint-marks" not in clean
    # it reads the pre-flags the grid already loads: no query per tile for the signals
    assert flagged_queries == clean_queries


def test_it_tells_of_a_mark_export_only_warns_of_on_the_card_and_the_tile(client, scissors_cut):
    # QA 2026-12-05: a bunny's ghost of 2.2 % shipped to Etsy with a warning after a bulk
    # approve: no preset refuses a mark that size, but on white it is a grey cloud all the same
    cutout = scissors_cut(cloud=True)
    small = {**cutout.signals["faint_marks"], "share": 0.045}
    flags, _ = review.preflags_from_signals({**cutout.signals, "faint_marks": small})
    assert "faint_cloud" in flags and "faint_marks" not in flags
    Cutout.objects.filter(pk=cutout.pk).update(
        signals={**cutout.signals, "faint_marks": small}, preflags=flags)
    client.force_login(reviewer())
    url = reverse("cutouts:review_card", args=[cutout.pk])
    html = client.get(url).content.decode()
    note = html.split('class="msg msg-warning rv-faint-marks"')[1].split("</p>")[0]
    assert "4.5 % of the product's solid area" in note
    assert "export ships it with a warning" in note and "will refuse" not in note
    assert 'data-preflag="faint_cloud"' in html
    grid = client.get(reverse("cutouts:review_grid")).content.decode()
    tile = next(t for t in grid.split('class="rv-tile"')[1:] if f'value="{cutout.pk}"' in t)
    assert "Exports ship it with a warning: a faint see-through mark" in tile
    assert "will refuse it" not in tile
    client.post(url, {"action": "preflag_dismiss", "preflag": "faint_cloud"}, **HX)
    assert "rv-faint-marks" not in client.get(url).content.decode()


def test_it_names_the_two_faint_mark_preflags_by_what_export_does_with_them(client):
    """QA 2026-12-06: "Faint marks (white-background exports refuse it)" and "Faint mark (a
    grey cloud on white)" read as one flag twice. One measure, two verdicts: the labels share
    their first words and differ in what export does."""
    refused, shipped = review.PREFLAGS["faint_marks"], review.PREFLAGS["faint_cloud"]
    assert refused == "Faint marks: white-background exports refuse them"
    assert shipped == "Faint marks: exports ship them with a warning"
    client.force_login(reviewer())
    queue = html.unescape(client.get(reverse("cutouts:review_queue")).content.decode())
    assert f'value="faint_marks" >{refused}</option>' in queue
    assert f'value="faint_cloud" >{shipped}</option>' in queue


def test_it_clears_the_preflag_when_a_remove_click_takes_the_cloud(scissors_cut):
    cutout = scissors_cut(cloud=True)
    assert "faint_marks" in cutout.preflags
    strokes = [{"kind": "remove", "radius": 6, "points": [list(CLOUD)]}]
    new = retouch.cutout_retouch_strokes(cutout=cutout, user=reviewer(), strokes=strokes)
    assert runs.cutout_run(cutout_id=new.pk) == "done"
    new = Cutout.objects.get(pk=new.pk)
    assert new.signals["faint_marks"]["share"] < FAINT_MARK_FAIL_SHARE, new.signals
    assert "faint_marks" not in new.preflags
    assert not any("faint see-through" in e for e in _amazon_check(new).errors)


def test_it_measures_a_retouch_upload_that_keeps_a_cloud(scissors_cut):
    cutout = scissors_cut(cloud=False)
    with storages["default"].open(cutout.rgba_name, "rb") as fh:
        rgba = np.array(Image.open(io.BytesIO(fh.read())).convert("RGBA"))
    rgba[..., 3] = np.maximum(rgba[..., 3], with_cloud(np.zeros((480, 640), np.uint8)))
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    new = retouch.cutout_retouch_upload(cutout=cutout, user=reviewer(), data=out.getvalue())
    assert runs.cutout_run(cutout_id=new.pk) == "done"
    new = Cutout.objects.get(pk=new.pk)
    assert new.signals["faint_marks"] == faint_marks_signal(rgba[..., 3])
    assert new.signals["faint_marks"]["share"] >= FAINT_MARK_FAIL_SHARE
    assert "faint_marks" in new.preflags

"""The "Shadow off the product" pre-flag (2026-12-07, shadow43; frag42, QA qa42c L7): a
synthetic shadow sits under whatever is lowest, on dev 036 under a kept sign's faint skirt
instead of the bus. Raised only for a version that asked for a synthetic shadow, from the
``shadow_off_body`` signal (``imaging.shadow.shadow_off_body``); a hint, out of the risk."""

import html

import pytest
from django.urls import reverse

from cutouts.imaging.shadow import OFF_BODY_SHARE
from cutouts.services import batches, retouch, review, runs
from tests.factories import reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

SIGNALS = {"fragment_count": 1, "edge_support": 0.9, "confidence": 0.95}


def test_it_preflags_a_synthetic_shadow_off_the_main_body():
    off, _ = review.preflags_from_signals({**SIGNALS, "shadow_off_body": 0.36})
    near, _ = review.preflags_from_signals({**SIGNALS, "shadow_off_body": OFF_BODY_SHARE})
    none, _ = review.preflags_from_signals(SIGNALS)  # no synthetic shadow asked for
    assert "shadow_off_body" in off
    assert "shadow_off_body" not in near and "shadow_off_body" not in none


def test_it_keeps_the_shadow_pre_flag_out_of_the_risk():
    # the cut may be right: it is the shadow that is misplaced
    assert (review.preflags_from_signals({**SIGNALS, "shadow_off_body": 0.5})[1]
            == review.preflags_from_signals(SIGNALS)[1])


def test_it_tells_the_reviewer_the_fix_that_moves_the_shadow():
    words = review.PREFLAGS["shadow_off_body"]
    assert words.startswith("Shadow off the product")
    # a retouch copies the parent's shadow layer: removing the stray part does not move it
    assert "re-run with Shadow none" in words and "retouch keeps it" in words


@pytest.mark.parametrize("mode", ["none", "keep", "synthetic"])
def test_it_measures_the_shadow_off_body_only_for_a_synthetic_shadow(make_assets, fake_model,
                                                                       mode):
    cutout = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast",
                                        overrides={"shadow": mode}).cutouts.get()
    assert runs.cutout_run(cutout_id=cutout.pk) == "done"
    cutout.refresh_from_db()
    off = cutout.signals.get("shadow_off_body")
    if mode == "synthetic":
        # the fake model's product is one centred box: its shadow is under it (its soft
        # lower edge moves the centre a row or two)
        assert off is not None and off < OFF_BODY_SHARE, off
    else:
        assert off is None
    assert "shadow_off_body" not in cutout.preflags


def test_it_keeps_the_pre_flag_on_a_retouch_that_keeps_the_parents_shadow(client, make_assets,
                                                                          fake_model):
    first = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast",
                                       overrides={"shadow": "synthetic"}).cutouts.get()
    assert runs.cutout_run(cutout_id=first.pk) == "done"
    first.refresh_from_db()
    # as the engine measures a shadow placed under a kept sign (dev 036: 0.36)
    first.signals["shadow_off_body"] = 0.36
    first.save(update_fields=["signals"])
    new = retouch.cutout_retouch_strokes(
        cutout=first, user=reviewer(),
        strokes=[{"kind": "remove", "radius": 6, "points": [[150, 240], [200, 240]]}])
    assert runs.cutout_run(cutout_id=new.pk) == "done"
    new.refresh_from_db()
    assert new.shadow_name and new.signals["shadow_off_body"] == 0.36
    assert "shadow_off_body" in new.preflags
    # the card says what to do
    client.force_login(reviewer())
    page = html.unescape(client.get(reverse("cutouts:review_card", args=[new.pk]))
                         .content.decode())
    assert review.PREFLAGS["shadow_off_body"] in page

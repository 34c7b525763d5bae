"""``signals_backfill`` (formerly ``faint_marks_backfill``, still a name for it): versions made
before a signal get it from their stored files, exactly as a run measures it, and a version
still awaiting review the pre-flag and the risk a run makes today."""

import io

import numpy as np
import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from PIL import Image

from cutouts import engine
from cutouts.models import Cutout
from cutouts.selectors.review import cutouts_missing_signals
from cutouts.services import retouch, runs
from cutouts.services.backfill import BACKFILLED_SIGNALS, cutout_signals_backfill
from cutouts.services.review import (
    TOO_SMALL_FLAG,
    cutout_approve,
    cutout_flag,
    preflags_from_signals,
    risk_of,
)
from tests.cutouts.reviewdata import done_cutouts
from tests.cutouts.scissors import CloudySegmenter
from tests.factories import reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def _as_before(cutout: Cutout, keys=BACKFILLED_SIGNALS) -> dict:
    """Make ``cutout`` look as a version finished before the measures ``keys`` does (their
    pre-flags gone, its risk what the stored JSON alone gives: ``half_kept`` read as 0);
    return what the run stored."""
    cutout.refresh_from_db()
    stored = {"signals": dict(cutout.signals), "preflags": list(cutout.preflags),
              "risk": cutout.risk}
    signals = {k: v for k, v in cutout.signals.items() if k not in keys}
    preflags = [p for p in cutout.preflags if p not in keys]
    Cutout.objects.filter(pk=cutout.pk).update(
        signals=signals, preflags=preflags, risk=risk_of(signals=signals, preflags=preflags))
    return stored


def _row(cutout: Cutout) -> tuple:
    row = Cutout.objects.get(pk=cutout.pk)
    return row.signals, row.preflags, row.risk, row.review_status


def test_it_measures_an_old_version_as_its_run_did_and_rescores_and_preflags_it(
        scissors_cut, capsys):
    cutout = scissors_cut(cloud=True)
    stored = _as_before(cutout)
    assert stored["signals"]["half_kept"] > 0 and "faint_marks" in stored["preflags"]
    assert Cutout.objects.get(pk=cutout.pk).risk != stored["risk"]  # half_kept read as 0
    assert cutouts_missing_signals(keys=BACKFILLED_SIGNALS) == [cutout.pk]
    call_command("signals_backfill")
    cutout.refresh_from_db()
    # the run's own values, to the last digit, and the risk and pre-flags it gave
    assert cutout.signals == stored["signals"]
    assert cutout.preflags == stored["preflags"] and cutout.risk == stored["risk"]
    out = capsys.readouterr().out
    assert ("1 measured (1 faint_marks, 1 half_kept, 1 detached, 1 product_fill_px, "
            "1 frame_cut, 1 dropped_parts, 1 export_shadow_off), 1 of them pre-flagged") in out
    assert "1 awaiting review with a new risk" in out
    # run again, by its former name too: nothing left to do, nothing changed
    before = _row(cutout)
    assert cutouts_missing_signals(keys=BACKFILLED_SIGNALS) == []
    assert cutout_signals_backfill(cutout_id=cutout.pk).outcome == "skipped"
    call_command("faint_marks_backfill")
    assert "already carries" in capsys.readouterr().out
    assert _row(cutout) == before


@pytest.mark.parametrize("decide", ["approve", "flag"])
def test_it_stores_the_signals_but_leaves_a_decided_versions_review_as_it_was(
        scissors_cut, decide):
    cutout = scissors_cut(cloud=True)
    stored = _as_before(cutout)
    if decide == "approve":
        cutout_approve(cutout=cutout, user=reviewer())
    else:
        cutout_flag(cutout=cutout, user=reviewer(), reasons=["halo"])
    _, preflags, risk, review_status = _row(cutout)
    done = cutout_signals_backfill(cutout_id=cutout.pk)
    assert (done.outcome, done.preflagged, done.rescored) == ("measured", False, False)
    # the export form's pre-check and a later refit read the signals; the decision stands
    assert _row(cutout) == (stored["signals"], preflags, risk, review_status)


def test_it_adds_the_marks_point_to_a_version_measured_before_it_and_nothing_else(
        scissors_cut):
    # QA 2026-12-05: the card named the mark's box corner, on a bunny's fur; a version
    # measured before the point gets it, its recorded share, review and risk standing
    cutout = scissors_cut(cloud=True)
    cutout_approve(cutout=cutout, user=reviewer())
    before = _row(cutout)
    signal = dict(before[0]["faint_marks"])
    at = signal.pop("at")
    assert cutouts_missing_signals(keys=BACKFILLED_SIGNALS) == []
    Cutout.objects.filter(pk=cutout.pk).update(
        signals={**before[0], "faint_marks": {**signal, "share": 0.5}})
    assert cutouts_missing_signals(keys=BACKFILLED_SIGNALS) == [cutout.pk]
    done = cutout_signals_backfill(cutout_id=cutout.pk)
    assert (done.outcome, done.stored, done.preflagged) == ("measured", ("faint_marks",), False)
    signals, *rest = _row(cutout)
    assert signals["faint_marks"] == {**signal, "share": 0.5, "at": at}
    assert rest == list(before[1:])
    assert cutouts_missing_signals(keys=BACKFILLED_SIGNALS) == []
    assert cutout_signals_backfill(cutout_id=cutout.pk).outcome == "skipped"
    # a mark the measure no longer finds where it was recorded keeps its corner, once
    Cutout.objects.filter(pk=cutout.pk).update(
        signals={**before[0], "faint_marks": {**signal, "box": [1, 2, 3, 4]}})
    assert cutout_signals_backfill(cutout_id=cutout.pk).outcome == "measured"
    assert _row(cutout)[0]["faint_marks"] == {**signal, "box": [1, 2, 3, 4], "at": None}
    assert cutouts_missing_signals(keys=BACKFILLED_SIGNALS) == []


def test_it_measures_a_clean_version_without_a_preflag(scissors_cut):
    cutout = scissors_cut(cloud=False)
    stored = _as_before(cutout)
    done = cutout_signals_backfill(cutout_id=cutout.pk)
    assert (done.outcome, done.stored, done.preflagged) == ("measured", BACKFILLED_SIGNALS,
                                                            False)
    cutout.refresh_from_db()
    assert cutout.signals == stored["signals"] and cutout.risk == stored["risk"]
    assert "faint_marks" not in cutout.preflags


def test_it_measures_as_the_run_did_where_the_run_reduced_the_photo(make_assets, monkeypatch):
    # 2600 px: the model run measures at its 2048 px working size, a retouch at 1024 px
    spec = engine.model_spec("u2netp")
    monkeypatch.setattr(engine, "segmenter_for", lambda name: (CloudySegmenter(True), spec))
    v1 = done_cutouts(make_assets(1, size=(2600, 1400)), profile_name="fast")[0]
    # an upload that keeps a block of the product half-transparent: a hand-made version
    with storages["default"].open(v1.rgba_name, "rb") as fh:
        rgba = np.array(Image.open(fh).convert("RGBA"))
    rgba[400:1000, 900:1700, 3] //= 2
    data = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(data, "PNG")
    v2 = retouch.cutout_retouch_upload(cutout=v1, user=reviewer(), data=data.getvalue())
    assert runs.cutout_run(cutout_id=v2.pk) == "done"
    # v1 made on 2026-12-04 (faint marks measured), v2 before it
    stored = {v1.pk: _as_before(v1, keys=("half_kept",)), v2.pk: _as_before(v2)}
    assert stored[v1.pk]["signals"]["half_kept"] > 0
    assert stored[v2.pk]["signals"]["hand_made"] and stored[v2.pk]["signals"]["half_kept"] > 0
    assert cutouts_missing_signals(keys=BACKFILLED_SIGNALS) == [v1.pk, v2.pk]
    v1_risk = Cutout.objects.get(pk=v1.pk).risk
    assert cutout_signals_backfill(cutout_id=v1.pk).stored == ("half_kept",)
    assert cutout_signals_backfill(cutout_id=v2.pk).stored == BACKFILLED_SIGNALS
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert v1.signals == stored[v1.pk]["signals"]
    assert v1.review_status == "superseded" and v1.risk == v1_risk  # v2 replaced it
    assert v2.signals == stored[v2.pk]["signals"] and v2.risk == stored[v2.pk]["risk"]


def test_it_reads_the_cutouts_alpha_when_the_mask_file_is_gone(scissors_cut):
    cutout = scissors_cut(cloud=True)
    stored = _as_before(cutout)
    storages["default"].delete(cutout.mask_name)
    assert cutout_signals_backfill(cutout_id=cutout.pk).preflagged
    cutout.refresh_from_db()
    assert cutout.signals == stored["signals"]


@pytest.mark.parametrize("unreadable", ["cutout", "photo"])
def test_it_leaves_a_version_whose_files_are_unreadable_as_it_was_and_names_it(
        scissors_cut, capsys, unreadable):
    cutout = Cutout.objects.select_related("asset").get(pk=scissors_cut(cloud=True).pk)
    _as_before(cutout)
    storage = storages["default"]
    if unreadable == "cutout":
        storage.delete(cutout.mask_name)
        with storage.open(cutout.rgba_name, "wb") as fh:
            fh.write(b"not a png")
    else:
        storage.delete(cutout.asset.working_name)
    before = _row(cutout)
    call_command("signals_backfill")
    # nothing half-stored: without the photo, not even the faint marks its mask gives
    assert _row(cutout) == before
    out = capsys.readouterr().out
    assert "0 measured" in out and "1 with no readable file" in out
    assert f"cutout id {cutout.pk}." in out
    assert ("rebuild_working_copies" in out) == (unreadable == "photo")
    assert cutouts_missing_signals(keys=BACKFILLED_SIGNALS) == [cutout.pk]  # tried again


def test_it_measures_the_detached_share_where_the_run_measured_it():
    # a model run measures it on its working copy (long side 2048 px), a retouch at full size:
    # a 3000 px alpha holding a product and a second subject beside it
    from types import SimpleNamespace

    import cv2

    from cutouts.imaging.pipeline import work_size
    from cutouts.imaging.signals import drawn_signals, quality_signals
    from cutouts.services.backfill import _detached

    alpha = np.zeros((1500, 3000), np.uint8)
    alpha[300:1200, 200:1100] = 255
    alpha[500:1001, 2000:2301] = 255  # a second subject, 301 x 501 px (odd: it rounds)
    hw, ww = work_size(*alpha.shape)
    reduced = cv2.resize(alpha, (ww, hw), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    run = quality_signals(reduced, reduced, np.zeros((hw, ww, 3), np.uint8))["detached"]
    model = SimpleNamespace(source=Cutout.Source.MODEL)
    assert 0.15 < run < 0.16 and _detached(model, alpha) == run
    retouch = SimpleNamespace(source=Cutout.Source.RETOUCH)
    drawn = drawn_signals(alpha, np.zeros((*alpha.shape, 3), np.uint8))["detached"]
    assert _detached(retouch, alpha) == drawn == round(301 * 501 / (900 * 900 + 301 * 501), 4)


def test_it_measures_the_products_size_again_as_export_does_and_its_preflag_with_it(
        scissors_cut):
    """QA33 L4: ``product_px`` was a working-copy measure (alpha >= 0.5) before the renderer's
    own was stored with ``product_fill_px``; the older one is replaced, not kept beside it, and
    a waiting version's *Too small for export* follows the new measure."""
    cutout = scissors_cut(cloud=False)
    stored = _as_before(cutout)
    assert TOO_SMALL_FLAG not in stored["preflags"]
    older = {**Cutout.objects.get(pk=cutout.pk).signals, "product_px": [40, 30]}
    preflags = [*stored["preflags"], TOO_SMALL_FLAG]
    assert TOO_SMALL_FLAG in preflags_from_signals(older)[0]
    Cutout.objects.filter(pk=cutout.pk).update(
        signals=older, preflags=preflags, risk=risk_of(signals=older, preflags=preflags))
    done = cutout_signals_backfill(cutout_id=cutout.pk)
    assert done.stored == BACKFILLED_SIGNALS and done.rescored
    cutout.refresh_from_db()
    assert cutout.signals == stored["signals"] and cutout.signals["product_px"] != [40, 30]
    assert cutout.preflags == stored["preflags"] and cutout.risk == stored["risk"]

"""``faint_marks_backfill``: versions made before the faint-mark measure get it from their
stored files, exactly as a run measures it, and the pre-flag where they still await review."""

import pytest
from django.core.files.storage import storages
from django.core.management import call_command

from cutouts.models import Cutout
from cutouts.selectors.review import cutouts_without_faint_marks
from cutouts.services.backfill import cutout_faint_marks_backfill
from cutouts.services.review import risk_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def _as_before_the_measure(cutout: Cutout) -> dict:
    """Make ``cutout`` look as a version finished before 2026-12-04 does; return what the run
    stored then."""
    stored = {"signals": dict(cutout.signals), "preflags": list(cutout.preflags),
              "risk": cutout.risk}
    signals = {k: v for k, v in cutout.signals.items() if k != "faint_marks"}
    preflags = [p for p in cutout.preflags if p != "faint_marks"]
    Cutout.objects.filter(pk=cutout.pk).update(
        signals=signals, preflags=preflags, risk=risk_of(signals=signals, preflags=preflags))
    return stored


def test_it_measures_an_old_version_from_its_files_as_the_run_did_and_preflags_it(
        scissors_cut, capsys):
    cutout = scissors_cut(cloud=True)
    stored = _as_before_the_measure(cutout)
    assert "faint_marks" in stored["preflags"]
    assert cutouts_without_faint_marks() == [cutout.pk]
    call_command("faint_marks_backfill")
    cutout.refresh_from_db()
    assert cutout.signals["faint_marks"] == stored["signals"]["faint_marks"]
    assert cutout.preflags == stored["preflags"] and cutout.risk == stored["risk"]
    assert "1 measured, 1 of them pre-flagged" in capsys.readouterr().out
    # run again: nothing left to do, nothing changed
    assert cutouts_without_faint_marks() == []
    assert cutout_faint_marks_backfill(cutout_id=cutout.pk) == "skipped"
    call_command("faint_marks_backfill")
    assert "already carries" in capsys.readouterr().out


def test_it_stores_the_measure_but_no_preflag_once_a_reviewer_has_decided(scissors_cut):
    cutout = scissors_cut(cloud=True)
    stored = _as_before_the_measure(cutout)
    Cutout.objects.filter(pk=cutout.pk).update(review_status="approved")
    before = Cutout.objects.get(pk=cutout.pk)
    assert cutout_faint_marks_backfill(cutout_id=cutout.pk) == "measured"
    after = Cutout.objects.get(pk=cutout.pk)
    # the export form's pre-check reads the signal; the review's decision stands as it was
    assert after.signals["faint_marks"] == stored["signals"]["faint_marks"]
    assert after.preflags == before.preflags and after.risk == before.risk


def test_it_measures_a_clean_version_without_a_preflag(scissors_cut):
    cutout = scissors_cut(cloud=False)
    stored = _as_before_the_measure(cutout)
    assert cutout_faint_marks_backfill(cutout_id=cutout.pk) == "measured"
    cutout.refresh_from_db()
    assert cutout.signals["faint_marks"] == stored["signals"]["faint_marks"]
    assert "faint_marks" not in cutout.preflags


def test_it_reads_the_cutouts_alpha_when_the_mask_file_is_gone(scissors_cut):
    cutout = scissors_cut(cloud=True)
    stored = _as_before_the_measure(cutout)
    storages["default"].delete(cutout.mask_name)
    assert cutout_faint_marks_backfill(cutout_id=cutout.pk) == "preflagged"
    cutout.refresh_from_db()
    assert cutout.signals["faint_marks"] == stored["signals"]["faint_marks"]


def test_it_leaves_a_version_whose_files_are_unreadable_as_it_was_and_names_it(
        scissors_cut, capsys):
    cutout = scissors_cut(cloud=True)
    _as_before_the_measure(cutout)
    storages["default"].delete(cutout.mask_name)
    with storages["default"].open(cutout.rgba_name, "wb") as fh:
        fh.write(b"not a png")
    before = Cutout.objects.get(pk=cutout.pk)
    call_command("faint_marks_backfill")
    after = Cutout.objects.get(pk=cutout.pk)
    assert (after.signals, after.preflags, after.risk) == (before.signals, before.preflags,
                                                           before.risk)
    out = capsys.readouterr().out
    assert "1 with no readable file" in out and f"cutout id {cutout.pk}" in out

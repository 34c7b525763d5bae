import os
import re

import pytest

from catalog.models import AssetStatus
from cutouts.errors import ReviewError, ReviewInputError
from cutouts.models import ReviewDecision, ReviewStatus
from cutouts.selectors.review import cutouts_approved_current
from cutouts.services import batches, previews, retouch, review, review_retouch, runs
from tests.factories import reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def done_versions(make_assets, fake_model, monkeypatch):
    from cutouts.tasks import cutout_run_task

    monkeypatch.setattr(cutout_run_task, "apply_async", lambda *a, **k: None)
    asset = make_assets(1)[0]
    first = batches.cutout_batch_start(assets=[asset], profile_name="fast").cutouts.get()
    runs.cutout_run(cutout_id=first.pk)
    second = batches.cutout_rerun(asset=asset, profile_name="fast")
    runs.cutout_run(cutout_id=second.pk)
    first.refresh_from_db(), second.refresh_from_db()
    return asset, first, second


def test_it_makes_the_approved_version_current_and_audits_it(done_versions):
    asset, first, second = done_versions
    user = reviewer()
    review.cutout_approve(cutout=second, user=user, comment="clean edges")
    review.cutout_approve(cutout=first, user=user)
    first.refresh_from_db(), second.refresh_from_db(), asset.refresh_from_db()
    assert first.is_current and not second.is_current
    assert asset.status == AssetStatus.APPROVED
    assert list(cutouts_approved_current()) == [first]
    decisions = list(ReviewDecision.objects.filter(asset=asset).order_by("pk"))
    assert [(d.cutout_id, d.action, d.user) for d in decisions] == [
        (second.pk, "approve", user), (first.pk, "approve", user)]
    assert decisions[0].comment == "clean edges"


@pytest.mark.parametrize("decide", [review.cutout_approve, review.cutout_choose])
def test_it_takes_a_flagged_version_out_of_the_retouch_queue_once_another_is_approved(
        done_versions, decide):
    from cutouts.selectors.review import retouch_queue

    asset, first, second = done_versions
    user = reviewer()
    review.cutout_flag(cutout=second, user=user, reasons=["halo"])
    assert [c.pk for c in retouch_queue()] == [second.pk]
    decide(cutout=first, user=user)
    second.refresh_from_db(), asset.refresh_from_db()
    assert second.review_status == ReviewStatus.SUPERSEDED and second.flag_reasons == ["halo"]
    assert retouch_queue() == [] and asset.status == AssetStatus.APPROVED


def test_it_refuses_flag_input_as_invalid_naming_the_field(done_versions):
    _, _, cutout = done_versions
    for reasons, comment, field in ((["other"], " ", "comment"), ([], "", "reasons"),
                                    (["nope"], "", "reasons")):
        with pytest.raises(ReviewInputError) as caught:
            review.cutout_flag(cutout=cutout, user=reviewer(), reasons=reasons,
                               comment=comment)
        assert caught.value.field == field


def test_it_flags_with_reasons_and_requires_a_comment_for_other(done_versions):
    asset, _, second = done_versions
    with pytest.raises(ReviewError, match="comment"):
        review.cutout_flag(cutout=second, user=reviewer(), reasons=["other"])
    with pytest.raises(ReviewError, match="Unknown"):
        review.cutout_flag(cutout=second, user=reviewer(), reasons=["blurry"])
    flagged = review.cutout_flag(cutout=second, user=reviewer(), reasons=["halo", "lost_detail"],
                                 comment="fringe on the left strap")
    asset.refresh_from_db()
    assert flagged.review_status == ReviewStatus.FLAGGED
    assert flagged.flag_reasons == ["halo", "lost_detail"]
    assert asset.status == AssetStatus.NEEDS_RETOUCH


def test_it_refuses_to_approve_an_unfinished_version(make_assets, monkeypatch):
    from cutouts.tasks import cutout_run_task

    monkeypatch.setattr(cutout_run_task, "apply_async", lambda *a, **k: None)
    queued = batches.cutout_batch_start(assets=make_assets(1)).cutouts.get()
    with pytest.raises(ReviewError, match="queued"):
        review.cutout_approve(cutout=queued, user=reviewer())


# --- pre-flags, re-run, retouch, strokes, bulk, previews -----------------------------------

import io  # noqa: E402

import numpy as np  # noqa: E402
from django.core.files.storage import storages  # noqa: E402
from PIL import Image  # noqa: E402

from cutouts.models import Cutout, CutoutQueue, JobStatus  # noqa: E402
from tests.cutouts.reviewdata import done_cutouts, rgba_png  # noqa: E402


def test_it_raises_preflags_and_ranks_worse_signals_riskier():
    clean = {"empty": False, "fragment_count": 1, "uncertain_fraction": 0.001,
             "confidence": 0.98, "low_confidence": False, "halo_risk": 0.02,
             "touches_frame": False}
    flags, low = review.preflags_from_signals(clean)
    assert flags == []
    bad = {**clean, "fragment_count": 4, "touches_frame": True, "confidence": 0.6,
           "low_confidence": True, "halo_risk": 0.5, "uncertain_fraction": 0.08}
    flags, high = review.preflags_from_signals(bad)
    assert flags == ["halo_risk", "fragments", "touches_frame", "low_confidence",
                     "uncertain_edges"]
    assert high > low
    assert review.preflags_from_signals({"empty": True})[0] == ["empty"]
    assert review.preflags_from_signals({}) == ([], 0.0)



def test_it_keeps_the_risk_a_probability_with_its_tie_break_still_ordering():
    from cutouts.imaging.signals import risk_score

    # QA 2026-12-04: a near-certain bad cut read "Risk 1.01" (the tie-break added on top)
    doubted = {"edge_support": 0.2, "interior_alpha": 0.3, "parts": 9, "half_kept": 0.3,
               "detached": 0.05}
    p = risk_score(doubted)
    assert p > 0.999
    worst = {**doubted, "fragment_count": 9, "touches_frame": True, "confidence": 0.2,
             "low_confidence": True, "halo_risk": 0.9, "uncertain_fraction": 0.3}
    flags, risk = review.preflags_from_signals(worst)
    assert len(flags) == 5
    assert p < risk <= 1.0
    # still a tie-break: of two equally doubted cuts the one raising more comes first, and
    # a dismissed pre-flag still lowers it
    assert review.preflags_from_signals(doubted)[1] < risk
    assert p < review._risk_without(worst, {"halo_risk"}) < risk
    assert 0.0 <= review.preflags_from_signals({"empty": True, "halo_risk": 5.0})[1] <= 1.0
    # whatever the signals (even out of range), within [0, 1]
    for halo in (-3.0, 0.0, 0.5, 40.0):
        for confidence in (-5.0, 0.0, 1.0):
            sig = {**worst, "halo_risk": halo, "confidence": confidence}
            assert 0.0 <= review.preflags_from_signals(sig)[1] <= 1.0, sig

def test_it_recomputes_a_stored_risk_above_one_on_migrating(make_assets, fake_model,
                                                            no_broker):
    import importlib

    from django.apps import apps

    doubted = {"edge_support": 0.6, "interior_alpha": 0.9, "parts": 1, "halo_risk": 0.9,
               "touches_frame": True}
    over, kept = done_cutouts(make_assets(2))
    # stored by the old tie-break, one pre-flag (touches_frame) dismissed since
    Cutout.objects.filter(pk=over.pk).update(signals=doubted, preflags=["halo_risk"],
                                             risk=1.013)
    Cutout.objects.filter(pk=kept.pk).update(risk=0.42)
    migration = importlib.import_module("cutouts.migrations.0016_risk_within_one")
    migration.recompute(apps, None)
    over.refresh_from_db()
    kept.refresh_from_db()
    assert over.risk <= 1.0
    assert over.risk == review.risk_of(signals=doubted, preflags=["halo_risk"])
    assert over.risk < review.preflags_from_signals(doubted)[1]  # the dismissal still counts
    assert kept.risk == 0.42  # a probability already: left as it is


def test_it_stores_preflags_and_risk_when_a_cutout_finishes(make_assets, fake_model, no_broker):
    cutout = done_cutouts(make_assets(1))[0]
    expected = review.preflags_from_signals(cutout.signals)
    assert (cutout.preflags, cutout.risk) == (expected[0], expected[1])
    assert cutout.risk > 0


def test_it_audits_confirming_and_dismissing_a_preflag(make_assets, fake_model, no_broker):
    cutout = done_cutouts(make_assets(1))[0]
    Cutout.objects.filter(pk=cutout.pk).update(preflags=["halo_risk", "touches_frame"],
                                               signals={**cutout.signals, "touches_frame": True})
    cutout.refresh_from_db()
    user = reviewer()
    review.cutout_preflag_resolve(cutout=cutout, user=user, preflag="touches_frame",
                                  confirm=True)
    before = Cutout.objects.get(pk=cutout.pk).risk
    after = review.cutout_preflag_resolve(cutout=cutout, user=user, preflag="halo_risk",
                                          confirm=False, comment="it is the white label")
    assert after.preflags == ["touches_frame"]
    assert after.risk < before
    actions = list(ReviewDecision.objects.filter(cutout=cutout).order_by("pk")
                   .values_list("action", "reasons", "comment"))
    assert actions == [("preflag_confirm", ["touches_frame"], ""),
                       ("preflag_dismiss", ["halo_risk"], "it is the white label")]
    with pytest.raises(ReviewError, match="no pre-flag"):
        review.cutout_preflag_resolve(cutout=cutout, user=user, preflag="halo_risk",
                                      confirm=True)


def test_it_stops_counting_the_parts_when_fragments_are_dismissed(make_assets, fake_model,
                                                                   no_broker):
    cutout = done_cutouts(make_assets(1))[0]
    signals = {**cutout.signals, "fragment_count": 4, "parts": 4, "detached": 0.2,
               "interior_alpha": 1.0, "edge_support": 1.0}
    flags, risk = review.preflags_from_signals(signals)
    assert "fragments" in flags
    Cutout.objects.filter(pk=cutout.pk).update(preflags=flags, signals=signals, risk=risk)
    cutout.refresh_from_db()
    after = review.cutout_preflag_resolve(cutout=cutout, user=reviewer(), preflag="fragments",
                                          confirm=False)
    # the calibrated model reads "detached" (formerly "parts"): with only fragment_count
    # hidden it barely moved
    single = review.preflags_from_signals({**signals, "fragment_count": 1, "parts": 1,
                                           "detached": 0.0})[1]
    assert after.risk == pytest.approx(single, abs=0.02)
    assert after.risk < risk - 0.05


def test_it_preflags_a_see_through_interior_as_a_hint_outside_the_risk():
    from cutouts.imaging.signals import quality_signals
    from tests.imaging.test_signals import see_through_scenes

    rgb = np.zeros((300, 200, 3), np.uint8)
    raised = {}
    for name, alpha in see_through_scenes().items():
        signals = quality_signals(alpha, alpha, rgb)
        flags, risk = review.preflags_from_signals(signals)
        raised[name] = "see_through" in flags
        # the flag tells the reviewer; the queue's order does not move for it
        assert risk == review.preflags_from_signals({**signals, "see_through": 0.0})[1]
    assert raised == {"solid": False, "patched": True, "patched_low": True, "ring": False}
    assert "glass is fine" in review.PREFLAGS["see_through"]


def test_it_keeps_a_chosen_version_when_reruns_started_before_finish_after(
        make_assets, fake_model, no_broker, monkeypatch):
    [v1] = done_cutouts(make_assets(1))
    [v2] = done_cutouts([v1.asset])
    user = reviewer()
    running = review.cutout_review_rerun(cutout=v2, user=user)  # v2's own settings (fast)
    # other settings: the same ones would return the first re-run while it is queued
    queued = review.cutout_review_rerun(cutout=v2, user=user, tta=True)
    predict, seen = fake_model.predict, []

    def choose_while_running(rgb):
        if not seen:  # the first re-run is running, the second still queued
            seen.append(Cutout.objects.get(pk=running.pk).status)
            review.cutout_choose(cutout=v1, user=user)
        return predict(rgb)

    monkeypatch.setattr(fake_model, "predict", choose_while_running)
    for rerun in (running, queued):
        assert runs.cutout_run(cutout_id=rerun.pk) == "done"
    assert seen == [JobStatus.RUNNING]
    versions = {c.version: c for c in Cutout.objects.filter(asset=v1.asset)}
    assert versions[1].is_current and versions[1].review_status == ReviewStatus.APPROVED
    assert [versions[n].review_status for n in (2, 3, 4)] == [ReviewStatus.SUPERSEDED] * 3
    assert [versions[n].status for n in (3, 4)] == [JobStatus.DONE] * 2
    v1.asset.refresh_from_db()
    assert v1.asset.status == AssetStatus.APPROVED
    assert review.cutouts_bulk_approve(cutout_ids=[running.pk, queued.pk],
                                      user=user).approved == 0
    assert cutouts_approved_current().get(asset=v1.asset) == versions[1]


def test_it_reruns_as_a_new_interactive_version_and_supersedes_the_old(
        make_assets, fake_model, no_broker):
    cutout = done_cutouts(make_assets(1))[0]
    user = reviewer()
    new = review.cutout_review_rerun(cutout=cutout, user=user, model="u2netp", tta=False,
                                     shadow="synthetic", strength="strong")
    cutout.refresh_from_db()
    assert (new.version, new.queue, new.status) == (2, CutoutQueue.INTERACTIVE, JobStatus.QUEUED)
    assert new.parent_id == cutout.pk
    assert new.settings["shadow"] == "synthetic" and new.settings["edge_gain"] == 8.0
    assert new.settings["tta_flip"] is False
    assert cutout.review_status == ReviewStatus.SUPERSEDED
    decision = ReviewDecision.objects.get(cutout=cutout)
    assert decision.action == "rerun" and "v2" in decision.comment
    # Bad input is a ReviewInputError naming the field (the API's 422), not a state refusal.
    for field, value in (("strength", "extreme"), ("shadow", "purple"), ("profile", "nope")):
        with pytest.raises(ReviewInputError, match=repr(value)) as caught:
            review.cutout_review_rerun(cutout=cutout, user=user, **{field: value})
        assert caught.value.field == field


def test_it_returns_the_queued_rerun_instead_of_a_second_identical_one(
        make_assets, fake_model, no_broker):
    cutout = done_cutouts(make_assets(1))[0]
    user = reviewer()
    first, created = review.cutout_review_rerun_start(cutout=cutout, user=user, tta=False)
    again, created_again = review.cutout_review_rerun_start(cutout=cutout, user=user, tta=False)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Cutout.objects.filter(asset=cutout.asset).count() == 2
    assert ReviewDecision.objects.filter(cutout=cutout, action="rerun").count() == 1
    other = review.cutout_review_rerun(cutout=cutout, user=user, tta=True)
    assert other.version == 3
    assert runs.cutout_run(cutout_id=first.pk) == "done"
    # finished: a new request is a new version, not the old answer
    assert review.cutout_review_rerun(cutout=cutout, user=user, tta=False).version == 4


def test_it_refuses_a_rerun_with_a_model_not_installed_naming_the_installed_ones(
        make_assets, fake_model, no_broker, two_models_installed):
    cutout = done_cutouts(make_assets(1))[0]
    with pytest.raises(ReviewError, match="'u2net' is not installed here; installed models: "
                                          "isnet-general-use, u2netp") as caught:
        review.cutout_review_rerun(cutout=cutout, user=reviewer(), model="u2net")
    assert "birefnet" not in str(caught.value)
    assert Cutout.objects.filter(asset=cutout.asset).count() == 1
    with pytest.raises(batches.BatchError, match="not installed"):
        batches.cutout_batch_start(assets=[cutout.asset], model="u2net")


def test_it_reruns_a_soft_cutout_with_the_soft_profile(make_assets, fake_model, no_broker):
    cutout = done_cutouts(make_assets(1), profile_name="soft")[0]
    new = review.cutout_review_rerun(cutout=cutout, user=reviewer())
    assert (cutout.profile, new.profile) == ("soft", "soft")
    assert new.settings["band"] is True


def test_it_reruns_with_another_profile_and_keeps_one_pending_rerun_per_profile(
        make_assets, fake_model, no_broker):
    cutout = done_cutouts(make_assets(1))[0]
    user = reviewer()
    soft, created = review.cutout_review_rerun_start(cutout=cutout, user=user, profile="soft")
    assert created and (soft.profile, soft.settings["band"]) == ("soft", True)
    again, created_again = review.cutout_review_rerun_start(cutout=cutout, user=user,
                                                            profile="soft")
    assert (again.pk, created_again) == (soft.pk, False)
    # Same overrides, another profile: another version, not the pending soft one.
    own, created_own = review.cutout_review_rerun_start(cutout=cutout, user=user)
    assert created_own and own.pk != soft.pk and own.profile == cutout.profile
    comments = list(ReviewDecision.objects.filter(action="rerun").order_by("pk")
                    .values_list("comment", flat=True))
    assert "profile soft" in comments[0] and f"profile {cutout.profile}" in comments[1]


def _strokes(*items) -> list[dict]:
    """[(kind, radius, [(x, y), ...]), ...] -> the JSON the browser sends."""
    return [{"kind": k, "radius": r, "points": [list(p) for p in pts]} for k, r, pts in items]


def _mask(name: str) -> np.ndarray:
    with storages["default"].open(name) as fh, Image.open(fh) as im:
        return np.array(im)


def test_it_queues_an_uploaded_retouch_and_a_worker_stores_it_as_a_child_version(
        make_assets, fake_model, no_broker):
    cutout = done_cutouts(make_assets(1))[0]  # 640 x 480
    user = reviewer()
    review.cutout_flag(cutout=cutout, user=user, reasons=["halo"])
    new = retouch.cutout_retouch_upload(cutout=cutout, user=user, data=rgba_png(320, 240),
                                        comment="cleaned the fringe")
    cutout.refresh_from_db()
    # The web request only stored the file: the version waits for a worker.
    assert (new.source, new.status, new.queue) == (
        Cutout.Source.RETOUCH, JobStatus.QUEUED, CutoutQueue.INTERACTIVE)
    assert new.parent_id == cutout.pk and new.version == 2 and new.upload_name
    assert cutout.review_status == ReviewStatus.SUPERSEDED
    assert runs.cutout_run(cutout_id=new.pk) == "done"
    new.refresh_from_db()
    assert new.status == JobStatus.DONE and new.review_status == ReviewStatus.PENDING
    assert new.run_token and new.model_name == cutout.model_name
    storage = storages["default"]
    with storage.open(new.rgba_name) as fh, Image.open(fh) as stored:
        assert stored.mode == "RGBA" and stored.size == (640, 480)
        alpha = np.array(stored.getchannel("A"))
    assert alpha[240, 320] == 255 and alpha[5, 5] == 0
    assert new.rgba_name.startswith(f"cutouts/{new.asset.sha256[:2]}/{new.asset.sha256}/v2-")
    assert storage.exists(new.mask_name) and new.signals["hand_made"] is True
    decision = ReviewDecision.objects.get(cutout=new)
    assert (decision.action, decision.user) == ("retouch", user)
    assert decision.comment == "v2 from v1: uploaded PNG. cleaned the fringe"


@pytest.mark.parametrize("data, message", [
    (rgba_png(640, 400), "aspect ratio"),
    (rgba_png(640, 480, mode="RGB"), "alpha"),
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "decoded"),
    (b"GIF89a....", "PNG"),
])
def test_it_refuses_a_bad_retouch_upload(make_assets, fake_model, no_broker, data, message):
    cutout = done_cutouts(make_assets(1))[0]
    with pytest.raises(ReviewError, match=message):
        retouch.cutout_retouch_upload(cutout=cutout, user=reviewer(), data=data)
    assert Cutout.objects.filter(asset=cutout.asset).count() == 1


def test_it_fails_an_opaque_upload_in_the_worker_with_a_clear_message(
        make_assets, fake_model, no_broker):
    # Telling "fully opaque" needs every pixel decoded: the worker's job, not the request's.
    cutout = done_cutouts(make_assets(1))[0]
    user = reviewer()
    review.cutout_flag(cutout=cutout, user=user, reasons=["halo"])
    new = retouch.cutout_retouch_upload(cutout=cutout, user=user,
                                        data=rgba_png(640, 480, opaque=True))
    assert Cutout.objects.get(pk=cutout.pk).review_status == ReviewStatus.SUPERSEDED
    assert runs.cutout_run(cutout_id=new.pk) == "failed"
    new.refresh_from_db()
    assert new.status == JobStatus.FAILED and "fully opaque" in new.error
    assert not new.rgba_name
    # Nothing is lost: the flagged version is back in the retouch queue.
    assert Cutout.objects.get(pk=cutout.pk).review_status == ReviewStatus.FLAGGED
    from cutouts.selectors.review import retouch_queue

    assert [c.pk for c in retouch_queue()] == [cutout.pk]
    cutout.asset.refresh_from_db()
    assert cutout.asset.status == AssetStatus.NEEDS_RETOUCH


def test_it_applies_strokes_as_a_queued_interactive_version_computed_by_the_worker(
        make_assets, fake_model, monkeypatch, django_capture_on_commit_callbacks):
    from cutouts.tasks import cutout_run_task

    sent = []
    monkeypatch.setattr(cutout_run_task, "apply_async", lambda *a, **k: sent.append((a, k)))
    cutout = done_cutouts(make_assets(1))[0]
    sent.clear()
    old_alpha = _mask(cutout.mask_name)
    ys, xs = np.nonzero(old_alpha > 200)
    top, left, right = int(ys.min()), int(xs.min()), int(xs.max())
    user = reviewer()
    # A remove stroke along the top of the kept box, and a click far away in the backdrop.
    strokes = _strokes(("remove", 4, [(left + 4, top + 4), (right - 4, top + 4)]),
                       ("remove", 5, [(20, 20)]))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        new = retouch.cutout_retouch_strokes(cutout=cutout, user=user, strokes=strokes)
    assert sent == []  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()
    assert [(a[0], k.get("queue")) for a, k in sent] == [((new.pk,), "cutouts-interactive")]
    assert (new.status, new.queue, new.source) == (
        JobStatus.QUEUED, CutoutQueue.INTERACTIVE, Cutout.Source.RETOUCH)
    assert new.strokes == strokes and new.parent_id == cutout.pk
    decision = ReviewDecision.objects.get(cutout=new)
    assert decision.action == "strokes"
    assert decision.comment == "v2 from v1: 1 remove stroke, 1 remove click."
    # The worker runs it through the normal cutout task (here eagerly, in process).
    assert cutout_run_task.apply(args=(new.pk,)).get() == "done"
    new.refresh_from_db()
    alpha = _mask(new.mask_name)
    assert new.status == JobStatus.DONE and alpha.shape == old_alpha.shape
    assert (alpha[top + 2: top + 7, left + 8: right - 8] == 0).all()  # under the brush
    assert np.count_nonzero(alpha > 128) < np.count_nonzero(old_alpha > 128)
    assert new.timings["retouch"] >= 0


def test_it_makes_one_version_of_a_retouch_applied_twice_while_it_waits(
        make_assets, fake_model, no_broker):
    cutout = done_cutouts(make_assets(1))[0]
    user = reviewer()
    # each crosses the kept box's edge: a retouch that changes nothing is refused
    strokes = _strokes(("remove", 5, [(20, 20)]), ("remove", 5, [(150, 240), (200, 240)]))
    first = retouch.cutout_retouch_strokes(cutout=cutout, user=user, strokes=strokes)
    again = retouch.cutout_retouch_strokes(cutout=cutout, user=user, strokes=strokes)
    other = retouch.cutout_retouch_strokes(
        cutout=cutout, user=user,
        strokes=_strokes(("remove", 6, [(20, 20)]), ("remove", 6, [(150, 240), (200, 240)])))
    assert again.pk == first.pk and other.pk != first.pk
    upload = retouch.cutout_retouch_upload(cutout=cutout, user=user, data=rgba_png(320, 240))
    assert retouch.cutout_retouch_upload(cutout=cutout, user=user,
                                         data=rgba_png(320, 240)).pk == upload.pk
    assert Cutout.objects.filter(parent=cutout).count() == 3
    assert ReviewDecision.objects.filter(cutout__parent=cutout).count() == 3
    # once it has run, the same strokes are a new request: a reviewer may want it again
    assert runs.cutout_run(cutout_id=first.pk) == "done"
    assert retouch.cutout_retouch_strokes(cutout=cutout, user=user,
                                          strokes=strokes).pk not in (first.pk, other.pk)
    # the uploaded file is stored once and read by the worker like any upload
    assert runs.cutout_run(cutout_id=upload.pk) == "done"


@pytest.mark.parametrize("strokes, message", [
    ("not json", "not valid JSON"),
    ({"kind": "keep"}, "must be a JSON list"),
    ([{"kind": "paint", "radius": 4, "points": [[1, 1]]}], "stroke 1: kind must be one of"),
    ([{"kind": "keep", "radius": 4, "points": []}], "stroke 1: points"),
    ([{"kind": "keep", "radius": -1, "points": [[1, 1]]}], "stroke 1: .*radius"),
    ([{"kind": "keep", "radius": 4, "points": [[5000, 5000]]}], "outside the photo"),
    ([], "Draw at least one"),
])
def test_it_refuses_bad_strokes_with_a_clear_message(make_assets, fake_model, no_broker,
                                                      strokes, message):
    cutout = done_cutouts(make_assets(1))[0]
    with pytest.raises(ReviewError, match=message):
        retouch.cutout_retouch_strokes(cutout=cutout, user=reviewer(), strokes=strokes)
    assert Cutout.objects.filter(asset=cutout.asset).count() == 1


def test_it_previews_strokes_at_card_size_from_the_workers_own_inputs(
        make_assets, fake_model, no_broker, monkeypatch):
    cutout = done_cutouts(make_assets(1, size=(1600, 1200)))[0]
    old_alpha = _mask(cutout.mask_name)
    ys, xs = np.nonzero(old_alpha > 200)
    top, left, right = int(ys.min()), int(xs.min()), int(xs.max())
    strokes = _strokes(("remove", 12, [(left + 12, top + 12), (right - 12, top + 12)]))
    previews._BASES.clear()
    cutout = Cutout.objects.select_related("asset").get(pk=cutout.pk)
    cards = {previews.cutout_image(cutout=cutout, kind=kind, size=1024)[0]
             for kind in ("original", "cutout")}  # what showing the card made
    storage = storages["default"]
    opened = []
    real_open = storage.open
    monkeypatch.setattr(storage, "open", lambda name, *a, **k: opened.append(name)
                        or real_open(name, *a, **k))
    preview = previews.cutout_retouch_preview(cutout=cutout, strokes=strokes)
    # The first preview reads the worker's own inputs (working copy and stored cutout), not
    # the card's lossy thumbnails, so preview and Apply solve the same picture; it leaves
    # their shrunk copies beside the card's images.
    full = {cutout.asset.working_name, cutout.rgba_name}
    assert set(opened) >= full and not set(opened) & cards
    # Another process starts from those shrunk copies, not the full-size files.
    previews._BASES.clear()
    opened.clear()
    assert previews.cutout_retouch_preview(cutout=cutout, strokes=strokes).png == preview.png
    assert set(opened) == set(previews._retouch_base_names(cutout))
    with Image.open(io.BytesIO(preview.png)) as im:
        assert im.mode == "RGBA" and im.size == (1024, 768)
        alpha = np.array(im.getchannel("A"))
    # Full-size coordinates scaled to the preview: the band at the top is gone there.
    s = 1024 / 1600
    assert (alpha[round((top + 8) * s): round((top + 16) * s),
                  round((left + 16) * s): round((right - 16) * s)] == 0).all()
    assert alpha[768 // 2, 1024 // 2] == 255
    assert set(preview.timings) >= {"base", "retouch", "encode", "total"}
    # The next preview in this process starts from memory: only the refinement is paid.
    monkeypatch.setattr(previews, "_build_retouch_base",
                        lambda c: pytest.fail("rebuilt the base"))
    again = previews.cutout_retouch_preview(cutout=cutout, strokes=strokes)
    assert again.png == preview.png
    unchanged = previews.cutout_retouch_preview(cutout=cutout, strokes=[])
    with Image.open(io.BytesIO(unchanged.png)) as im:
        assert np.array(im.getchannel("A"))[round((top + 12) * s), 1024 // 2] > 200
    with pytest.raises(ReviewError, match="kind must be one of"):
        previews.cutout_retouch_preview(cutout=cutout, strokes=[{"kind": "x"}])


def test_it_keeps_the_parents_shadow_layer_on_a_retouched_version(
        make_assets, fake_model, no_broker):
    asset = make_assets(1)[0]
    first = batches.cutout_batch_start(assets=[asset], profile_name="fast",
                                       overrides={"shadow": "keep"}).cutouts.get()
    assert runs.cutout_run(cutout_id=first.pk) == "done"
    first.refresh_from_db()
    assert first.shadow_name
    new = retouch.cutout_retouch_strokes(cutout=first, user=reviewer(),
                                         strokes=_strokes(("remove", 6, [(10, 10)]),
                                                          ("remove", 6, [(150, 240), (200, 240)])))
    assert runs.cutout_run(cutout_id=new.pk) == "done"
    new.refresh_from_db()
    assert new.shadow_name and new.shadow_name != first.shadow_name
    assert (_mask(new.shadow_name) == _mask(first.shadow_name)).all()


def test_it_bulk_approves_only_versions_awaiting_review(make_assets, fake_model, no_broker):
    a, b, c = done_cutouts(make_assets(3))
    user = reviewer()
    review.cutout_flag(cutout=c, user=user, reasons=["halo"])
    assert review.cutouts_bulk_approve(cutout_ids=[a.pk, b.pk, c.pk, 999999], user=user) == (
        review.BulkApproval(approved=2, older=0, not_pending=1, deleted=1))
    statuses = dict(Cutout.objects.values_list("pk", "review_status"))
    assert statuses == {a.pk: "approved", b.pk: "approved", c.pk: "flagged"}
    assert ReviewDecision.objects.filter(action="approve").count() == 2


def test_it_renders_and_caches_card_previews(make_assets, fake_model, no_broker):
    cutout = Cutout.objects.select_related("asset").get(
        pk=done_cutouts(make_assets(1))[0].pk)
    storage = storages["default"]
    name, content_type = previews.cutout_image(cutout=cutout, kind="cutout", size=320)
    assert content_type == "image/png" and name.startswith("previews/")
    with storage.open(name) as fh, Image.open(fh) as im:
        assert im.mode == "RGBA" and max(im.size) == 320
    assert previews.cutout_image(cutout=cutout, kind="cutout", size=320)[0] == name
    market, content_type = previews.cutout_image(cutout=cutout, kind="market", size=1024)
    with storage.open(market) as fh, Image.open(fh) as im:
        assert im.size == (600, 600) and content_type == "image/jpeg"
        assert im.getpixel((2, 2)) == (255, 255, 255)  # the preset's white background
    assert previews.cutout_image(cutout=cutout, kind="cutout", size=0)[0] == cutout.rgba_name
    with pytest.raises(ReviewError):
        previews.cutout_image(cutout=cutout, kind="cutout", size=777)
    with pytest.raises(FileNotFoundError):
        previews.cutout_image(cutout=cutout, kind="shadow", size=320)


def test_it_stores_the_card_previews_with_the_run_of_a_big_photo(
        make_assets, fake_model, no_broker, settings, monkeypatch):
    settings.CUTROOM_PRERENDER_MIN_PIXELS = 640 * 480
    big, small = make_assets(2, size=(640, 480))[0], make_assets(1, size=(600, 400),
                                                                  sku="SMALL")[0]
    first, plain = done_cutouts([big]), done_cutouts([small])
    storage = storages["default"]
    for cutout in (*first, *plain):
        cutout = Cutout.objects.select_related("asset").get(pk=cutout.pk)
        made = [storage.exists(previews._preview_name(cutout, kind, size, "png"))
                for kind in ("cutout", "mask") for size in (1024, 320)]
        made.append(storage.exists(previews._preview_name(
            cutout, "market", 600, "jpg", variant=previews.market_key())))
        assert made == [cutout.asset_id == big.pk] * 5
    # a retouched version of a big photo gets its previews from its own run as well
    cutout = Cutout.objects.select_related("asset").get(pk=first[0].pk)
    user = reviewer()
    review.cutout_flag(cutout=cutout, user=user, reasons=["halo"])
    new = retouch.cutout_retouch_upload(cutout=cutout, user=user, data=rgba_png(640, 480))
    assert runs.cutout_run(cutout_id=new.pk) == "done"
    # the worker's previews are what a first view serves: nothing is rendered again
    monkeypatch.setattr(previews, "_render_preview", lambda *a: pytest.fail("rendered"))
    new = Cutout.objects.select_related("asset").get(pk=new.pk)
    with storage.open(previews.cutout_image(cutout=new, kind="cutout", size=320)[0]) as fh, \
            Image.open(fh) as im:
        assert im.getpixel((3, 3))[3] == 0 and im.getpixel((160, 120))[3] == 255
    name, _ = previews.cutout_image(cutout=cutout, kind="cutout", size=320)
    with storage.open(name) as fh, Image.open(fh) as im:
        assert im.mode == "RGBA" and im.size == (320, 240)
        # the fake model keeps the centre and drops the corners, on the small copy too
        assert im.getpixel((160, 120))[3] == 255 and im.getpixel((3, 3))[3] == 0
    with storage.open(previews.cutout_image(cutout=cutout, kind="cutout", size=1024)[0]) as fh, \
            Image.open(fh) as im, storage.open(cutout.rgba_name) as full, \
            Image.open(full) as stored:
        assert im.tobytes() == stored.tobytes()  # not enlarged: the card shows it as stored
    # the mask is the cutout's own alpha, at each size
    for size in (1024, 320):
        with storage.open(previews.cutout_image(cutout=cutout, kind="mask", size=size)[0]) \
                as fh, Image.open(fh) as mask, \
                storage.open(previews.cutout_image(cutout=cutout, kind="cutout", size=size)[0]) \
                as fc, Image.open(fc) as rgba:
            assert mask.mode == "L" and mask.tobytes() == rgba.getchannel("A").tobytes()
    # one marketplace view whatever size the card asks for, made by the run
    names = {previews.cutout_image(cutout=cutout, kind="market", size=size)[0]
             for size in (320, 1024, 0)}
    assert len(names) == 1
    with storage.open(names.pop()) as fh, Image.open(fh) as market:
        assert market.size == (600, 600) and market.getpixel((3, 3)) == (255, 255, 255)


def test_it_adds_what_a_keep_stroke_marks_and_leaves_the_far_backdrop(
        make_assets, fake_model, no_broker):
    # The product spans y 80-400; the fake model keeps only a centred box, y 120-360.
    # How far a stroke reaches is the refinement's business (its benchmark measures it);
    # here: the service hands the worker's refinement the stroke where it was drawn.
    cutout = done_cutouts(make_assets(1, seed=0))[0]
    old_alpha = _mask(cutout.mask_name)
    assert old_alpha[99, 320] == 0
    new = retouch.cutout_retouch_strokes(cutout=cutout, user=reviewer(),
                                         strokes=_strokes(("keep", 3, [(280, 99), (360, 99)])))
    assert runs.cutout_run(cutout_id=new.pk) == "done"
    new.refresh_from_db()
    alpha = _mask(new.mask_name)
    assert (alpha[98:101, 282:358] == 255).all()  # under the brush
    assert alpha[10, 10] == 0 and alpha[470, 630] == 0  # the far backdrop stays out
    assert np.count_nonzero(alpha > 128) > np.count_nonzero(old_alpha > 128)


def test_it_recovers_a_retouch_whose_worker_died_like_any_run(make_assets, fake_model,
                                                              no_broker):
    cutout = done_cutouts(make_assets(1))[0]
    new = retouch.cutout_retouch_strokes(cutout=cutout, user=reviewer(),
                                         strokes=_strokes(("remove", 6, [(10, 10)]),
                                                          ("remove", 6, [(150, 240), (200, 240)])))
    # A worker took it and died (SIGKILL): the row is left running under its hostname.
    Cutout.objects.filter(pk=new.pk).update(status=JobStatus.RUNNING, run_token="dead" * 8,
                                            worker="dead-host:123")
    runs.cutouts_reconcile(worker_hostname="dead-host")
    new.refresh_from_db()
    assert new.status == JobStatus.QUEUED and new.strokes  # the request survives
    assert runs.cutout_run(cutout_id=new.pk) == "done"
    new.refresh_from_db()
    assert new.status == JobStatus.DONE and new.source == Cutout.Source.RETOUCH
    assert _mask(new.mask_name)[10, 10] == 0


def test_it_answers_reruns_still_queued_or_running_when_the_old_version_is_approved(
        make_assets, fake_model, no_broker, monkeypatch):
    from cutouts.selectors.review import review_queue_first

    [v1] = done_cutouts(make_assets(1))
    user = reviewer()
    running = review.cutout_review_rerun(cutout=v1, user=user)  # v1's own settings (fast)
    queued = review.cutout_review_rerun(cutout=v1, user=user, tta=True)
    predict, seen = fake_model.predict, []

    def approve_while_running(rgb):
        if not seen:  # the first re-run is running, the second still queued
            seen.append(Cutout.objects.get(pk=running.pk).status)
            review.cutout_approve(cutout=v1, user=user)
        return predict(rgb)

    monkeypatch.setattr(fake_model, "predict", approve_while_running)
    for rerun in (running, queued):
        assert runs.cutout_run(cutout_id=rerun.pk) == "done"
    assert seen == [JobStatus.RUNNING]
    versions = {c.version: c for c in Cutout.objects.filter(asset=v1.asset)}
    assert versions[1].is_current and versions[1].review_status == ReviewStatus.APPROVED
    # finished, but never back in the queue (nor the grid) to replace the approval
    assert [versions[n].review_status for n in (2, 3)] == [ReviewStatus.SUPERSEDED] * 2
    assert review_queue_first(filters=None) is None
    assert review.cutouts_bulk_approve(cutout_ids=[running.pk, queued.pk],
                                       user=user).approved == 0
    assert cutouts_approved_current().get(asset=v1.asset) == versions[1]


def test_it_answers_a_rerun_started_after_the_approval_when_approved_again(
        make_assets, fake_model, no_broker):
    [v1] = done_cutouts(make_assets(1))
    user = reviewer()
    review.cutout_approve(cutout=v1, user=user)
    rerun = review.cutout_review_rerun(cutout=v1, user=user, tta=True)
    assert review.cutout_approve_answering(cutout=v1, user=user)[1] == [rerun.version]
    # a replay with nothing left to answer adds no audit row
    assert review.cutout_approve_answering(cutout=v1, user=user)[1] == []
    rerun.refresh_from_db()
    assert rerun.review_status == ReviewStatus.SUPERSEDED
    assert ReviewDecision.objects.filter(cutout=v1, action="approve").count() == 2


def test_it_bulk_approves_one_version_per_image_the_newest_selected(
        make_assets, fake_model, no_broker):
    asset, other_asset = make_assets(2)
    [v1] = done_cutouts([asset])
    [v2] = done_cutouts([asset])
    [v3] = done_cutouts([asset])
    [other] = done_cutouts([other_asset])
    user = reviewer()
    done = review.cutouts_bulk_approve(cutout_ids=[v2.pk, v3.pk, other.pk], user=user)
    assert done == review.BulkApproval(approved=2, older=1, not_pending=0)
    statuses = dict(Cutout.objects.filter(asset=v1.asset)
                    .values_list("version", "review_status"))
    assert statuses == {1: "superseded", 2: "superseded", 3: "approved"}
    assert Cutout.objects.get(asset=v1.asset, is_current=True) == v3
    assert list(ReviewDecision.objects.filter(action="approve").order_by("pk")
                .values_list("cutout_id", flat=True)) == [v3.pk, other.pk]


def test_it_checks_each_bulk_approval_again_under_the_row_lock(
        make_assets, fake_model, no_broker, monkeypatch):
    a, b = done_cutouts(make_assets(2))
    user = reviewer()
    approve = review.cutout_approve

    def flag_b_meanwhile(*, cutout, **kwargs):
        # another reviewer flags b after the grid read the selection, before its turn
        if cutout.pk == a.pk:
            review.cutout_flag(cutout=b, user=reviewer(), reasons=["halo"])
        return approve(cutout=cutout, **kwargs)

    monkeypatch.setattr(review, "cutout_approve", flag_b_meanwhile)
    done = review.cutouts_bulk_approve(cutout_ids=[a.pk, b.pk], user=user)
    assert (done.approved, done.older, done.not_pending) == (1, 0, 0)
    # said per tile (a tile sent no revision: the state, not who), not as "no longer
    # awaiting review"
    [(tile, message)] = done.refused
    assert tile.pk == b.pk
    assert message == ("v1 needs retouch now: it changed after you opened it, so your "
                       "approval was not applied.")
    b.refresh_from_db()
    assert b.review_status == ReviewStatus.FLAGGED
    assert not ReviewDecision.objects.filter(cutout=b, action="approve").exists()


def _lock_order(monkeypatch) -> list[str]:
    """The models whose rows are locked (select_for_update), in call order."""
    from django.db.models.query import QuerySet

    locks: list[str] = []
    real = QuerySet.select_for_update

    def spy(self, *args, **kwargs):
        locks.append(self.model.__name__)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "select_for_update", spy)
    return locks


def test_it_locks_the_image_before_its_versions_for_every_approval(
        make_assets, fake_model, no_broker, monkeypatch):
    # Two approvals of v1 and v2 of one image at once must serialise on the image: locking
    # only their own version, each would see the other still pending and both succeed.
    asset, other_asset = make_assets(2)
    [v1], [v2] = done_cutouts([asset]), done_cutouts([asset])
    [other] = done_cutouts([other_asset])
    locks = _lock_order(monkeypatch)
    review.cutout_approve(cutout=v2, user=reviewer())
    assert locks[:2] == ["ImageAsset", "Cutout"]
    locks.clear()
    review.cutouts_bulk_approve(cutout_ids=[other.pk, v1.pk], user=reviewer())
    assert locks and locks[0] == "ImageAsset" and "Cutout" in locks


def test_it_locks_the_images_by_pk_before_any_version_on_postgresql(
        make_assets, fake_model, no_broker):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        if os.environ.get("CI"):  # CI runs on PostgreSQL: missing it there is a failure
            pytest.fail("CI is set but the tests run on SQLite; set DATABASE_URL", pytrace=False)
        pytest.skip("SQLite serialises writes and has no row locks (CI runs this on PostgreSQL)")
    first, second = make_assets(2)
    [a2], [a3] = done_cutouts([first]), done_cutouts([first])
    [b] = done_cutouts([second])
    with CaptureQueriesContext(connection) as ctx:
        done = review.cutouts_bulk_approve(cutout_ids=[b.pk, a2.pk, a3.pk], user=reviewer())
    assert done == review.BulkApproval(approved=2, older=1, not_pending=0)
    locking = [q["sql"] for q in ctx.captured_queries
               if q["sql"].endswith(("FOR UPDATE", "FOR NO KEY UPDATE"))]
    # the images, pk ascending, before any version row: the first lock, one query
    assert locking[0].startswith('SELECT "catalog_imageasset"."id"'), locking
    assert f"IN ({first.pk}, {second.pk}) ORDER BY 1 ASC" in locking[0]
    assert 'FROM "cutouts_cutout"' in "".join(locking[1:])


def test_it_counts_bulk_selections_whose_image_was_deleted_apart_from_decided_ones(
        make_assets, fake_model, no_broker):
    from django.utils import timezone

    from catalog.models import ImageAsset
    from catalog.services.products import product_soft_delete

    a, b, c, d = done_cutouts(make_assets(4))
    user = reviewer()
    review.cutout_flag(cutout=b, user=user, reasons=["halo"])
    ImageAsset.objects.filter(pk=c.asset_id).update(deleted_at=timezone.now())
    product_soft_delete(product=d.asset.product)
    done = review.cutouts_bulk_approve(cutout_ids=[a.pk, b.pk, c.pk, d.pk], user=user)
    assert done == review.BulkApproval(approved=1, older=0, not_pending=1, deleted=2)


def test_it_leaves_out_a_bulk_selection_whose_image_is_deleted_before_its_lock(
        make_assets, fake_model, no_broker, monkeypatch):
    from django.utils import timezone

    from catalog.models import ImageAsset

    a, b = done_cutouts(make_assets(2))
    lock = review.assets_lock

    def delete_b_first(*, asset_ids):
        # the image is deleted after the grid's read, before the approval locks it
        ImageAsset.objects.filter(pk=b.asset_id).update(deleted_at=timezone.now())
        lock(asset_ids=asset_ids)

    monkeypatch.setattr(review, "assets_lock", delete_b_first)
    done = review.cutouts_bulk_approve(cutout_ids=[a.pk, b.pk], user=reviewer())
    assert done == review.BulkApproval(approved=1, older=0, not_pending=0, deleted=1)
    b.refresh_from_db()
    assert b.review_status == ReviewStatus.PENDING


@pytest.mark.parametrize("order", [(0, 2, 1), (2, 1, 0), (1, 0, 2), (0, 1, 2)])
def test_it_bulk_approves_the_newest_ticked_version_whatever_the_order_of_the_ids(
        make_assets, fake_model, no_broker, order):
    # QA: cutout=19&cutout=21&cutout=20 (v2, v4, v3 of one image) must approve v4
    asset = make_assets(1)[0]
    done_cutouts([asset])  # v1, not ticked
    ticked = [done_cutouts([asset])[0] for _ in range(3)]  # v2, v3, v4
    v4 = ticked[2]
    done = review.cutouts_bulk_approve(cutout_ids=[ticked[i].pk for i in order],
                                       user=reviewer())
    assert done == review.BulkApproval(approved=1, older=2, not_pending=0)
    assert Cutout.objects.get(asset=asset, is_current=True) == v4
    assert dict(Cutout.objects.filter(asset=asset).values_list("version", "review_status")) == {
        1: "superseded", 2: "superseded", 3: "superseded", 4: "approved"}
    assert list(ReviewDecision.objects.filter(action="approve").values_list(
        "cutout_id", flat=True)) == [v4.pk]


# --- stale decisions: the card's `seen` and the compare-and-set ---------------------------


def _seen(cutout):
    """What the card drawn now would send."""
    from cutouts.selectors.review import Seen, review_revision

    cutout.refresh_from_db()
    return Seen.of(cutout, revision=review_revision(asset_id=cutout.asset_id))


def test_it_refuses_an_approval_made_on_a_card_drawn_before_another_reviewers_flag(
        make_assets, fake_model, no_broker):
    from cutouts.errors import StaleReviewError

    [c] = done_cutouts(make_assets(1))
    rev1, rev2 = reviewer(username="rev1"), reviewer(username="rev2")
    opened = _seen(c)  # both reviewers open the card
    review.cutout_flag(cutout=c, user=rev1, reasons=["wrong_subject"], seen=opened)
    with pytest.raises(StaleReviewError) as refused:
        review.cutout_approve(cutout=c, user=rev2, seen=opened)
    assert re.fullmatch(r"rev1 flagged v1 for retouch at \d\d:\d\d \(Wrong subject\) after you "
                        r"opened it, so your approval was not applied\.", str(refused.value))
    c.refresh_from_db(), c.asset.refresh_from_db()
    assert c.review_status == ReviewStatus.FLAGGED and not c.is_current
    assert c.asset.status == AssetStatus.NEEDS_RETOUCH
    assert not cutouts_approved_current().exists()  # not exportable
    assert list(ReviewDecision.objects.values_list("action", "user__username")) == [
        ("flag", "rev1")]


def test_it_refuses_a_flag_made_on_a_card_drawn_before_another_reviewers_approval(
        make_assets, fake_model, no_broker):
    from cutouts.errors import StaleReviewError

    [c] = done_cutouts(make_assets(1))
    rev1, rev2 = reviewer(username="rev1"), reviewer(username="rev2")
    opened = _seen(c)
    review.cutout_approve(cutout=c, user=rev1, seen=opened)
    with pytest.raises(StaleReviewError, match=r"^rev1 approved v1 at .* so your flag was not"):
        review.cutout_flag(cutout=c, user=rev2, reasons=["halo"], seen=opened)
    c.refresh_from_db()
    assert c.review_status == ReviewStatus.APPROVED and c.is_current and c.flag_reasons == []
    assert ReviewDecision.objects.count() == 1


def test_it_applies_fresh_decisions_and_takes_a_reviewers_own_repeat_as_done(
        make_assets, fake_model, no_broker):
    a, b = done_cutouts(make_assets(2))
    user = reviewer()
    opened_a, opened_b = _seen(a), _seen(b)
    assert opened_a.review_status == "pending" and opened_a.revision == 0
    review.cutout_approve(cutout=a, user=user, seen=opened_a)
    review.cutout_flag(cutout=b, user=user, reasons=["halo"], seen=opened_b)
    # a double click, A pressed twice: the second request carries the same card's state
    review.cutout_approve(cutout=a, user=user, seen=opened_a)
    review.cutout_flag(cutout=b, user=user, reasons=["halo"], seen=opened_b)
    a.refresh_from_db(), b.refresh_from_db()
    assert a.review_status == ReviewStatus.APPROVED and a.is_current
    assert b.review_status == ReviewStatus.FLAGGED
    assert ReviewDecision.objects.count() == 2
    # the card drawn after a decision carries the new revision, and deciding on it works
    review.cutout_approve(cutout=b, user=user, seen=_seen(b))
    b.refresh_from_db()
    assert b.review_status == ReviewStatus.APPROVED


def test_it_applies_a_decision_sent_without_the_cards_state_as_before(
        make_assets, fake_model, no_broker):
    # API clients send no `seen`: last decision wins, as it always did for them
    [c] = done_cutouts(make_assets(1))
    review.cutout_flag(cutout=c, user=reviewer(), reasons=["halo"])
    review.cutout_approve(cutout=c, user=reviewer())
    c.refresh_from_db()
    assert c.review_status == ReviewStatus.APPROVED and c.is_current


def test_it_refuses_a_stale_choice_rerun_retouch_and_preflag_answer(
        make_assets, fake_model, no_broker):
    from cutouts.errors import StaleReviewError
    from cutouts.models import Cutout

    asset = make_assets(1)[0]
    [v1], [v2] = done_cutouts([asset]), done_cutouts([asset])
    Cutout.objects.filter(pk=v2.pk).update(preflags=["halo_risk"])
    rev1, rev2 = reviewer(username="rev1"), reviewer(username="rev2")
    opened_v1, opened_v2 = _seen(v1), _seen(v2)
    review.cutout_approve(cutout=v2, user=rev1, seen=opened_v2)  # v1 is superseded by it
    stale = [
        lambda: review.cutout_choose(cutout=v1, user=rev2, seen=opened_v1),
        lambda: review.cutout_review_rerun(cutout=v2, user=rev2, seen=opened_v2),
        lambda: review_retouch.cutout_review_strokes(
            cutout=v2, user=rev2, seen=opened_v2,
            strokes=[{"kind": "keep", "radius": 8, "points": [[100, 100], [120, 110]]}]),
        lambda: review.cutout_preflag_resolve(cutout=v2, user=rev2, preflag="halo_risk",
                                              confirm=False, seen=opened_v2),
    ]
    for decide in stale:
        with pytest.raises(StaleReviewError, match=r"^rev1 approved v2 at "):
            decide()
    v2.refresh_from_db()
    assert v2.is_current and v2.preflags == ["halo_risk"]
    assert Cutout.objects.filter(asset=asset).count() == 2  # no re-run, no retouch
    assert list(ReviewDecision.objects.values_list("action", flat=True)) == ["approve"]


def test_it_refuses_a_card_state_it_cannot_read():
    from cutouts.selectors.review import Seen

    assert Seen.parse("") is None
    assert Seen.parse("pending:12") == Seen("pending", 12)
    assert Seen.parse("pending:") == Seen("pending", None)
    for bad in ("approvedish:1", "pending:x", "pending"):
        with pytest.raises(ReviewInputError):
            Seen.parse(bad)


def test_it_undoes_an_approval_giving_back_the_current_version_and_the_answered_ones(
        make_assets, fake_model, no_broker):
    from cutouts.selectors.review import undoable_decision

    asset = make_assets(1)[0]
    [v1], [v2], [v3] = done_cutouts([asset]), done_cutouts([asset]), done_cutouts([asset])
    user = reviewer()
    review.cutout_approve(cutout=v1, user=user)  # v1 current, v2 and v3 answered
    review.cutout_flag(cutout=v1, user=user, reasons=["halo"])
    from cutouts.models import Cutout

    # v2 and v3 wait again (say, a re-run of v1 each, given back): v3's approval answers
    # v2 and the flagged current v1
    Cutout.objects.filter(pk__in=[v2.pk, v3.pk]).update(review_status=ReviewStatus.PENDING)
    asset.refresh_from_db()
    before = {c.pk: (c.review_status, c.is_current, c.reviewed_by_id, c.reviewed_at)
              for c in Cutout.objects.filter(asset=asset)}
    status_before = asset.status
    review.cutout_approve(cutout=v3, user=user, seen=_seen(v3))
    decision = undoable_decision(cutout=v3, user=user)
    assert decision is not None and decision.action == "approve"
    undone = review.cutout_decision_undo(cutout=v3, decision_id=decision.pk, user=user)
    assert undone.review_status == ReviewStatus.PENDING and not undone.is_current
    after = {c.pk: (c.review_status, c.is_current, c.reviewed_by_id, c.reviewed_at)
             for c in Cutout.objects.filter(asset=asset)}
    assert after == before  # v1 current and flagged again, v3 awaiting review
    asset.refresh_from_db()
    assert asset.status == status_before
    last = ReviewDecision.objects.order_by("-pk").first()
    assert (last.action, last.cutout_id, last.user) == ("undo", v3.pk, user)
    assert last.comment.startswith("Undid: approved (")
    # a second Undo (double click) changes nothing more
    review.cutout_decision_undo(cutout=v3, decision_id=decision.pk, user=user)
    assert ReviewDecision.objects.filter(action="undo").count() == 1
    assert undoable_decision(cutout=v3, user=user) is None  # the latest is the undo now


def test_it_undoes_a_flag_back_to_awaiting_review(make_assets, fake_model, no_broker):
    [c] = done_cutouts(make_assets(1))
    user = reviewer()
    review.cutout_flag(cutout=c, user=user, reasons=["halo"], seen=_seen(c))
    decision = ReviewDecision.objects.get(action="flag")
    review.cutout_decision_undo(cutout=c, decision_id=decision.pk, user=user)
    c.refresh_from_db(), c.asset.refresh_from_db()
    assert c.review_status == ReviewStatus.PENDING and c.flag_reasons == []
    assert c.reviewed_by is None and c.asset.status == AssetStatus.IN_REVIEW
    # the version is back in the review queue
    from cutouts.selectors.review import review_queue

    assert list(review_queue()) == [c]


def test_it_refuses_an_undo_once_someone_decided_since_or_of_someone_elses_decision(
        make_assets, fake_model, no_broker):
    from cutouts.errors import StaleReviewError

    [c] = done_cutouts(make_assets(1))
    rev1, rev2 = reviewer(username="rev1"), reviewer(username="rev2")
    review.cutout_approve(cutout=c, user=rev1, seen=_seen(c))
    approval = ReviewDecision.objects.get(action="approve")
    with pytest.raises(ReviewError, match="Only the reviewer who made a decision"):
        review.cutout_decision_undo(cutout=c, decision_id=approval.pk, user=rev2)
    review.cutout_flag(cutout=c, user=rev2, reasons=["wrong_subject"], seen=_seen(c))
    with pytest.raises(StaleReviewError, match=r"^rev2 flagged v1 for retouch at .* so your "
                                               r"undo was not applied"):
        review.cutout_decision_undo(cutout=c, decision_id=approval.pk, user=rev1)
    c.refresh_from_db()
    assert c.review_status == ReviewStatus.FLAGGED and c.flag_reasons == ["wrong_subject"]
    with pytest.raises(ReviewError, match="cannot be undone"):
        review.cutout_decision_undo(cutout=c, decision_id=approval.pk + 999, user=rev1)


def test_it_refuses_a_grid_approval_of_a_version_decided_since_by_the_same_policy(
        make_assets, fake_model, no_broker, monkeypatch):
    # the grid's per-tile refusal is review_state_check's: one policy
    from cutouts.errors import StaleReviewError

    a, b = done_cutouts(make_assets(2))
    check, approve = review.review_state_check, review.cutout_approve
    refused = []

    def spy(**kwargs):
        try:
            return check(**kwargs)
        except StaleReviewError:
            refused.append((kwargs["cutout"].pk, kwargs["seen"]))
            raise

    def flag_b_meanwhile(*, cutout, **kwargs):
        if cutout.pk == a.pk:
            review.cutout_flag(cutout=b, user=reviewer(), reasons=["halo"])
        return approve(cutout=cutout, **kwargs)

    monkeypatch.setattr(review, "review_state_check", spy)
    monkeypatch.setattr(review, "cutout_approve", flag_b_meanwhile)
    done = review.cutouts_bulk_approve(cutout_ids=[a.pk, b.pk], user=reviewer())
    assert (done.approved, done.not_pending) == (1, 0)
    assert [tile.pk for tile, _ in done.refused] == [b.pk]
    assert [(pk, seen.review_status, seen.revision) for pk, seen in refused] == [
        (b.pk, "pending", None)]


def test_it_refuses_approving_v1_after_v2_was_made_naming_v2_and_still_lets_v1_be_chosen(
        make_assets, fake_model, no_broker):
    from cutouts.errors import StaleReviewError
    from cutouts.selectors.review import Seen, review_card

    asset = make_assets(1)[0]
    first = batches.cutout_batch_start(assets=[asset], profile_name="fast").cutouts.get()
    runs.cutout_run(cutout_id=first.pk)
    drawn = Seen.parse(review_card(cutout_id=first.pk).seen)  # v1's card, opened
    assert drawn is not None and drawn.newest == 1
    # cut again from the product list: no review decision, so the revision stays
    second = batches.cutout_batch_start(assets=[asset], profile_name="fast",
                                        recut=True).cutouts.get()
    runs.cutout_run(cutout_id=second.pk)
    user = reviewer()
    with pytest.raises(StaleReviewError, match=re.escape(
            "v2 (awaiting review) was made after you opened v1, so your approval was not "
            "applied: it would have superseded v2.")):
        review.cutout_approve(cutout=first, user=user, seen=drawn)
    first.refresh_from_db(), second.refresh_from_db()
    assert first.review_status == second.review_status == ReviewStatus.PENDING
    assert not first.is_current and not ReviewDecision.objects.filter(action="approve").exists()
    # the card drawn now offers the explicit choice, which goes through
    card = review_card(cutout_id=first.pk)
    assert card.replaced_by is not None and card.replaced_by[0].pk == second.pk
    review.cutout_choose(cutout=first, user=user, seen=Seen.parse(card.seen))
    first.refresh_from_db(), second.refresh_from_db()
    assert first.is_current and first.review_status == ReviewStatus.APPROVED
    assert second.review_status == ReviewStatus.SUPERSEDED


def test_it_refuses_approving_v1_on_a_card_drawn_before_its_retouch_naming_it(
        done_versions):
    from cutouts.errors import StaleReviewError
    from cutouts.selectors.review import Seen, review_card

    _, _, v2 = done_versions
    user = reviewer()
    drawn = Seen.parse(review_card(cutout_id=v2.pk).seen)
    v3 = review_retouch.cutout_review_strokes(
        cutout=v2, user=user, seen=drawn,
        strokes=[{"kind": "remove", "radius": 6, "points": [[20, 20]]}])
    with pytest.raises(StaleReviewError, match=r"You started a retouch \(v3, strokes\) at "):
        review.cutout_approve(cutout=v2, user=user, seen=drawn)
    v2.refresh_from_db(), v3.refresh_from_db()
    assert v2.review_status == ReviewStatus.SUPERSEDED and not v2.is_current
    assert v3.review_status == ReviewStatus.PENDING


@pytest.mark.parametrize(("newer", "answered", "refused"), [
    (JobStatus.QUEUED, False, True), (JobStatus.DONE, False, True),
    (JobStatus.FAILED, False, False), (JobStatus.DONE, True, False)])
def test_it_refuses_a_flag_on_a_version_the_retouch_queue_would_hide(newer, answered,
                                                                       refused):
    """QA35 B2: a flag on v1 once v2 exists is listed by no retouch queue (it hides a flag
    whose image has a newer run), so it is refused, whatever the card showed and from an
    API client (no ``seen``) too. A failed v2 gives v1 back, and so does a v2 an approval
    of v1 superseded (v1 is the image's current version): its flag is listed."""
    from cutouts.selectors.review import retouch_queue
    from tests.cutouts.export_helpers import done_cutout

    v1 = done_cutout()
    Cutout.objects.create(asset=v1.asset, version=2, status=newer)
    if answered:
        review.cutout_approve(cutout=v1, user=reviewer())
        assert Cutout.objects.get(asset=v1.asset, version=2).review_status == "superseded"
    if refused:
        with pytest.raises(ReviewError, match=re.escape(
                f"v2 ({'queued' if newer == JobStatus.QUEUED else 'awaiting review'}) is "
                "newer than v1, so your flag was not applied: the retouch queue lists an "
                "image's newest version only")):
            review.cutout_flag(cutout=v1, user=reviewer(), reasons=["halo"])
    else:
        review.cutout_flag(cutout=v1, user=reviewer(), reasons=["halo"])
    v1.refresh_from_db()
    assert (v1.review_status == ReviewStatus.FLAGGED) is not refused
    assert [c.pk for c in retouch_queue()] == ([] if refused else [v1.pk])

"""A re-run's or retouch's parent leaves the review queue while its child runs and comes back
when the child ends without a result, unless something else answered it."""

import pytest

from catalog.models import AssetStatus
from cutouts.models import Cutout, JobStatus, ReviewStatus
from cutouts.selectors import review as selectors
from cutouts.services import batches, review, runs
from tests.cutouts.reviewdata import done_cutouts
from tests.factories import reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def _state(cutout: Cutout):
    versions = list(Cutout.objects.filter(asset_id=cutout.asset_id).order_by("-version"))
    return {v.pk: s for v, s in selectors.version_states(versions)}[cutout.pk]


def _status(cutout: Cutout) -> str:
    cutout.asset.refresh_from_db()
    return cutout.asset.status


def test_it_labels_the_parent_of_a_queued_rerun_as_replaced_not_approved(make_assets,
                                                                          fake_model):
    [v1] = done_cutouts(make_assets(1))
    review.cutout_review_rerun(cutout=v1, user=reviewer())
    state = _state(v1)
    assert state.current and (state.key, state.label) == ("superseded", "newest finished")
    assert state.mark == ""  # one label, not "newest" beside it (QA 2026-12-03)
    assert list(selectors.review_queue()) == []  # not reviewed twice while v2 runs


def test_it_gives_the_parent_back_to_review_when_its_rerun_is_cancelled(make_assets,
                                                                       fake_model):
    [v1] = done_cutouts(make_assets(1))
    v2 = review.cutout_review_rerun(cutout=v1, user=reviewer())
    assert batches.cutout_batch_cancel(batch=v2.batch) == 1
    v1.refresh_from_db()
    assert v1.review_status == ReviewStatus.PENDING
    assert list(selectors.review_queue()) == [v1]
    assert (_state(v1).key, _state(v1).current) == ("awaiting_review", True)
    assert _status(v1) == AssetStatus.IN_REVIEW


def test_it_gives_the_parent_back_when_its_rerun_fails(make_assets, fake_model, monkeypatch):
    [v1] = done_cutouts(make_assets(1))
    v2 = review.cutout_review_rerun(cutout=v1, user=reviewer())

    def broken(rgb):
        raise RuntimeError("the model file is truncated")

    monkeypatch.setattr(fake_model, "predict", broken)
    assert runs.cutout_run(cutout_id=v2.pk) == "failed"
    assert Cutout.objects.get(pk=v2.pk).status == JobStatus.FAILED
    assert list(selectors.review_queue()) == [v1]
    assert _state(v1).key == "awaiting_review"
    # the flagged case (a retouch that fails) is test_review_services'
    # test_it_fails_an_opaque_upload_in_the_worker_with_a_clear_message


def test_it_leaves_the_parent_out_when_another_version_was_approved_meanwhile(
        make_assets, fake_model):
    [v1] = done_cutouts(make_assets(1))
    [v2] = done_cutouts([v1.asset])
    user = reviewer()
    v3 = review.cutout_review_rerun(cutout=v2, user=user)
    review.cutout_approve(cutout=v1, user=user)  # the reviewer settled the image
    batches.cutout_batch_cancel(batch=v3.batch)
    assert Cutout.objects.get(pk=v2.pk).review_status == ReviewStatus.SUPERSEDED
    assert list(selectors.review_queue()) == []
    assert _status(v1) == AssetStatus.APPROVED


def test_it_gives_the_parent_back_when_the_approval_meanwhile_was_undone(make_assets,
                                                                         fake_model):
    [v1] = done_cutouts(make_assets(1))
    [v2] = done_cutouts([v1.asset])
    user = reviewer()
    v3 = review.cutout_review_rerun(cutout=v2, user=user)
    review.cutout_approve(cutout=v1, user=user)
    approval = v1.decisions.get(action="approve")
    review.cutout_decision_undo(cutout=v1, decision_id=approval.pk, user=user)
    batches.cutout_batch_cancel(batch=v3.batch)
    assert Cutout.objects.get(pk=v2.pk).review_status == ReviewStatus.PENDING
    assert [c.asset_id for c in selectors.review_queue()] == [v1.asset_id]
    assert _status(v1) == AssetStatus.IN_REVIEW


def test_it_leaves_the_parent_out_while_another_rerun_of_it_is_queued(make_assets,
                                                                      fake_model):
    [v1] = done_cutouts(make_assets(1))
    user = reviewer()
    first = review.cutout_review_rerun(cutout=v1, user=user)
    second = review.cutout_review_rerun(cutout=v1, user=user, tta=True)  # v1 is fast: others
    batches.cutout_batch_cancel(batch=first.batch)
    assert Cutout.objects.get(pk=v1.pk).review_status == ReviewStatus.SUPERSEDED
    assert runs.cutout_run(cutout_id=second.pk) == "done"
    assert list(selectors.review_queue()) == [Cutout.objects.get(pk=second.pk)]

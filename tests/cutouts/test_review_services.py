import pytest

from catalog.models import AssetStatus
from cutouts.models import ReviewDecision, ReviewStatus
from cutouts.selectors import cutouts_approved_current
from cutouts.services import jobs, review
from tests.factories import reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def done_versions(make_assets, fake_model, monkeypatch):
    from cutouts.tasks import cutout_run_task

    monkeypatch.setattr(cutout_run_task, "apply_async", lambda *a, **k: None)
    asset = make_assets(1)[0]
    first = jobs.cutout_batch_start(assets=[asset], profile_name="fast").cutouts.get()
    jobs.cutout_run(cutout_id=first.pk)
    second = jobs.cutout_rerun(asset=asset, profile_name="fast")
    jobs.cutout_run(cutout_id=second.pk)
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


def test_it_flags_with_reasons_and_requires_a_comment_for_other(done_versions):
    asset, _, second = done_versions
    with pytest.raises(review.ReviewError, match="comment"):
        review.cutout_flag(cutout=second, user=reviewer(), reasons=["other"])
    with pytest.raises(review.ReviewError, match="Unknown"):
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
    queued = jobs.cutout_batch_start(assets=make_assets(1)).cutouts.get()
    with pytest.raises(review.ReviewError, match="queued"):
        review.cutout_approve(cutout=queued, user=reviewer())

"""ImageAsset.status has one writer, asset_status_sync: every transition, as a table over
the derivation and end to end through the services that change versions."""

import pytest
from django.utils import timezone

from catalog.models import AssetStatus, ImageAsset
from cutouts import enqueue
from cutouts.models import Cutout, JobStatus, ReviewStatus
from cutouts.selectors.export import export_candidates
from cutouts.services import batches, export_jobs, review
from cutouts.services.status import asset_status_derive, asset_status_sync
from tests.cutouts.export_helpers import done_cutout
from tests.factories import ProductFactory, reviewer

pytestmark = pytest.mark.django_db

Q, R, D, F, C = "queued", "running", "done", "failed", "cancelled"
PEND, OK, FLAG, SUP = "pending", "approved", "flagged", "superseded"


def v(version, status=D, review=PEND, current=False, exported=False) -> Cutout:
    return Cutout(version=version, status=status, review_status=review, is_current=current,
                  exported_at=timezone.now() if exported else None)


TABLE = [
    # (versions newest first, a reviewer acted on the asset, expected)
    ([], False, "uploaded"),
    ([v(1, Q)], False, "queued"),
    ([v(1, R)], False, "queued"),
    ([v(1)], False, "cut_out"),
    ([v(1, F)], False, "uploaded"),
    ([v(2, F), v(1)], False, "cut_out"),  # a failed re-run falls back to the finished one
    ([v(1, review=FLAG)], True, "needs_retouch"),
    ([v(2, Q), v(1, review=SUP)], True, "queued"),  # a retouch/re-run is under way
    ([v(2), v(1, review=SUP)], True, "in_review"),  # ...and is back for review
    ([v(2, review=FLAG), v(1, review=SUP)], True, "needs_retouch"),
    ([v(1, review=OK, current=True)], True, "approved"),
    ([v(2, Q), v(1, review=OK, current=True)], True, "approved"),  # current until replaced
    ([v(2, review=FLAG), v(1, review=OK, current=True)], True, "approved"),
    ([v(1, review=FLAG, current=True)], True, "needs_retouch"),  # the approved one flagged
    ([v(2, Q), v(1, review=FLAG, current=True)], True, "queued"),
    ([v(2), v(1, review=FLAG, current=True)], True, "in_review"),
    ([v(2, F), v(1, review=FLAG, current=True)], True, "needs_retouch"),
    # a later re-run failed while an earlier one still runs: the asset is under way
    ([v(3, F), v(2, R), v(1, review=FLAG, current=True)], True, "queued"),
    ([v(3, F), v(2, Q), v(1)], False, "queued"),
    ([v(3, F), v(2, F), v(1, review=FLAG)], True, "needs_retouch"),
    ([v(1, review=OK, current=True, exported=True)], True, "exported"),
    ([v(2, review=OK, current=True), v(1, review=OK, exported=True)], True, "approved"),
    ([v(2, review=OK, current=True), v(1, review=SUP)], True, "approved"),  # chosen v2
]


@pytest.mark.parametrize(("versions", "reviewed", "expected"), TABLE)
def test_it_derives_every_status_from_the_versions(versions, reviewed, expected):
    assert asset_status_derive(versions, reviewed=reviewed) == expected


@pytest.fixture
def no_broker(monkeypatch):
    monkeypatch.setattr(enqueue, "cutout_runs_send", lambda ids: None)


def _status(asset) -> str:
    return ImageAsset.objects.get(pk=asset.pk).status


def test_it_follows_an_asset_through_the_services(make_assets, no_broker):
    [asset] = make_assets(1)
    assert _status(asset) == AssetStatus.UPLOADED
    batch = batches.cutout_batch_start(assets=[asset], profile_name="fast")
    assert _status(asset) == AssetStatus.QUEUED
    batches.cutout_batch_cancel(batch=batch)
    assert _status(asset) == AssetStatus.UPLOADED  # cancelled versions do not count
    v1 = done_cutout(asset=asset, version=2)
    asset_status_sync(asset.pk)
    assert _status(asset) == AssetStatus.CUT_OUT
    review.cutout_flag(cutout=v1, user=reviewer(), reasons=["halo"])
    assert _status(asset) == AssetStatus.NEEDS_RETOUCH
    v2 = done_cutout(asset=asset, version=3)
    asset_status_sync(asset.pk)
    assert _status(asset) == AssetStatus.IN_REVIEW
    review.cutout_approve(cutout=v2, user=reviewer())
    assert _status(asset) == AssetStatus.APPROVED
    rerun = batches.cutout_batch_start(assets=[asset], profile_name="fast").cutouts.get()
    assert _status(asset) == AssetStatus.APPROVED  # the approved version stays current
    Cutout.objects.filter(pk=rerun.pk).update(status=JobStatus.FAILED)
    asset_status_sync(asset.pk)
    assert _status(asset) == AssetStatus.APPROVED


def test_approve_then_choose_makes_the_chosen_version_current_and_exportable(
        make_assets, no_broker, monkeypatch):
    from cutouts.tasks import export_job_run_task

    monkeypatch.setattr(export_job_run_task, "delay", lambda pk: None)
    product = ProductFactory(asin="B0CHOOSE01")
    v1 = done_cutout(product=product, version=1)
    asset = v1.asset
    v2 = done_cutout(asset=asset, version=2)
    review.cutout_approve(cutout=v1, user=reviewer())
    assert _status(asset) == AssetStatus.APPROVED
    review.cutout_choose(cutout=v2, user=reviewer())
    v1.refresh_from_db(), v2.refresh_from_db()
    assert (v2.is_current, v2.review_status) == (True, ReviewStatus.APPROVED)
    assert v1.is_current is False
    assert _status(asset) == AssetStatus.APPROVED
    assert list(export_candidates(product_ids=[product.pk])) == [v2]
    job = export_jobs.export_job_create(presets=["amazon_main"], product_ids=[product.pk])
    token = export_jobs.export_job_claim(job_id=job.pk)
    assert export_jobs.export_job_run(job_id=job.pk, run_token=token) == "done"
    assert _status(asset) == AssetStatus.EXPORTED
    v2.refresh_from_db()
    assert v2.exported_at is not None
    # Choosing the older version again: approved, not yet exported in that version.
    review.cutout_choose(cutout=v1, user=reviewer())
    assert _status(asset) == AssetStatus.APPROVED

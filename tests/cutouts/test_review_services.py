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


# --- pre-flags, re-run, retouch, strokes, bulk, previews -----------------------------------

import io  # noqa: E402

import numpy as np  # noqa: E402
from django.core.files.storage import storages  # noqa: E402
from PIL import Image  # noqa: E402

from cutouts.models import Cutout, CutoutQueue, JobStatus  # noqa: E402
from tests.cutouts.reviewdata import done_cutouts, rgba_png  # noqa: E402


@pytest.fixture
def no_broker(monkeypatch):
    from cutouts.tasks import cutout_run_task

    monkeypatch.setattr(cutout_run_task, "apply_async", lambda *a, **k: None)


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
    with pytest.raises(review.ReviewError, match="no pre-flag"):
        review.cutout_preflag_resolve(cutout=cutout, user=user, preflag="halo_risk",
                                      confirm=True)


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
    with pytest.raises(review.ReviewError, match="strength"):
        review.cutout_review_rerun(cutout=cutout, user=user, strength="extreme")
    with pytest.raises(review.ReviewError, match="settings"):
        review.cutout_review_rerun(cutout=cutout, user=user, shadow="purple")


def test_it_saves_an_uploaded_retouch_as_a_finished_child_version(
        make_assets, fake_model, no_broker):
    cutout = done_cutouts(make_assets(1))[0]  # 640 x 480
    user = reviewer()
    review.cutout_flag(cutout=cutout, user=user, reasons=["halo"])
    new = review.cutout_retouch_upload(cutout=cutout, user=user, data=rgba_png(320, 240),
                                       comment="cleaned the fringe")
    cutout.refresh_from_db()
    assert new.source == Cutout.Source.RETOUCH and new.status == JobStatus.DONE
    assert new.parent_id == cutout.pk and new.version == 2
    assert new.review_status == ReviewStatus.PENDING
    assert cutout.review_status == ReviewStatus.SUPERSEDED
    new.asset.refresh_from_db()
    assert new.asset.status == AssetStatus.IN_REVIEW
    storage = storages["default"]
    with storage.open(new.rgba_name) as fh, Image.open(fh) as stored:
        assert stored.mode == "RGBA" and stored.size == (640, 480)
        alpha = np.array(stored.getchannel("A"))
    assert alpha[240, 320] == 255 and alpha[5, 5] == 0
    assert new.rgba_name.startswith(f"cutouts/{new.asset.sha256[:2]}/{new.asset.sha256}/v2-")
    assert storage.exists(new.mask_name)
    decision = ReviewDecision.objects.get(cutout=new)
    assert (decision.action, decision.comment, decision.user) == (
        "retouch", "cleaned the fringe", user)


@pytest.mark.parametrize("data, message", [
    (rgba_png(640, 400), "aspect ratio"),
    (rgba_png(640, 480, mode="RGB"), "alpha"),
    (rgba_png(640, 480, opaque=True), "opaque"),
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "decoded"),
    (b"GIF89a....", "PNG"),
])
def test_it_refuses_a_bad_retouch_upload(make_assets, fake_model, no_broker, data, message):
    cutout = done_cutouts(make_assets(1))[0]
    with pytest.raises(review.ReviewError, match=message):
        review.cutout_retouch_upload(cutout=cutout, user=reviewer(), data=data)
    assert Cutout.objects.filter(asset=cutout.asset).count() == 1


def test_it_refines_with_painted_strokes_as_a_new_version(make_assets, fake_model, no_broker):
    cutout = done_cutouts(make_assets(1))[0]
    with storages["default"].open(cutout.mask_name) as fh:
        old_alpha = np.array(Image.open(fh))
    # Painted at preview size (half), like the browser canvas: remove a band at the top of
    # the kept box.
    hint = np.zeros((240, 320, 4), np.uint8)
    ys, xs = np.nonzero(old_alpha[::2, ::2] > 200)
    top = ys.min()
    hint[top: top + 6, xs.min(): xs.max()] = (235, 20, 30, 255)
    out = io.BytesIO()
    Image.fromarray(hint, "RGBA").save(out, "PNG")
    new = review.cutout_refine_with_strokes(cutout=cutout, user=reviewer(),
                                            hint_png=out.getvalue())
    with storages["default"].open(new.mask_name) as fh:
        new_alpha = np.array(Image.open(fh))
    assert new.version == 2 and new.source == Cutout.Source.RETOUCH
    assert new.parent_id == cutout.pk
    painted = new_alpha[2 * top: 2 * top + 12, 2 * xs.min(): 2 * xs.max()]
    assert (old_alpha[2 * top: 2 * top + 12, 2 * xs.min(): 2 * xs.max()] > 200).mean() > 0.5
    assert (painted == 0).all()
    assert np.count_nonzero(new_alpha > 128) < np.count_nonzero(old_alpha > 128)
    assert ReviewDecision.objects.get(cutout=new).action == "strokes"
    empty = io.BytesIO()
    Image.new("RGBA", (32, 24)).save(empty, "PNG")
    with pytest.raises(review.ReviewError, match="stroke"):
        review.cutout_refine_with_strokes(cutout=cutout, user=reviewer(),
                                          hint_png=empty.getvalue())


def test_it_bulk_approves_only_versions_awaiting_review(make_assets, fake_model, no_broker):
    a, b, c = done_cutouts(make_assets(3))
    user = reviewer()
    review.cutout_flag(cutout=c, user=user, reasons=["halo"])
    assert review.cutouts_bulk_approve(cutout_ids=[a.pk, b.pk, c.pk, 999999], user=user) == 2
    statuses = dict(Cutout.objects.values_list("pk", "review_status"))
    assert statuses == {a.pk: "approved", b.pk: "approved", c.pk: "flagged"}
    assert ReviewDecision.objects.filter(action="approve").count() == 2


def test_it_renders_and_caches_card_previews(make_assets, fake_model, no_broker):
    cutout = Cutout.objects.select_related("asset").get(
        pk=done_cutouts(make_assets(1))[0].pk)
    storage = storages["default"]
    name, content_type = review.cutout_image(cutout=cutout, kind="cutout", size=320)
    assert content_type == "image/png" and name.startswith("previews/")
    with storage.open(name) as fh, Image.open(fh) as im:
        assert im.mode == "RGBA" and max(im.size) == 320
    assert review.cutout_image(cutout=cutout, kind="cutout", size=320)[0] == name
    market, content_type = review.cutout_image(cutout=cutout, kind="market", size=1024)
    with storage.open(market) as fh, Image.open(fh) as im:
        assert im.size == (600, 600) and content_type == "image/jpeg"
        assert im.getpixel((2, 2)) == (255, 255, 255)  # the preset's white background
    assert review.cutout_image(cutout=cutout, kind="cutout", size=0)[0] == cutout.rgba_name
    with pytest.raises(review.ReviewError):
        review.cutout_image(cutout=cutout, kind="cutout", size=777)
    with pytest.raises(FileNotFoundError):
        review.cutout_image(cutout=cutout, kind="shadow", size=320)


def test_it_brings_back_the_missed_part_of_the_product_from_one_keep_stroke(
        make_assets, fake_model, no_broker):
    # The product spans y 80-400; the fake model keeps only a centred box, y 120-360.
    # A fixed photo: the probe points below sit on its known geometry.
    cutout = done_cutouts(make_assets(1, seed=0))[0]
    with storages["default"].open(cutout.mask_name) as fh:
        old_alpha = np.array(Image.open(fh))
    assert old_alpha[90, 320] == 0 and old_alpha[390, 320] == 0
    hint = np.zeros((480, 640, 4), np.uint8)
    hint[96:102, 280:360] = (0, 220, 60, 255)  # one short stroke on the missed top strip
    out = io.BytesIO()
    Image.fromarray(hint, "RGBA").save(out, "PNG")
    new = review.cutout_refine_with_strokes(cutout=cutout, user=reviewer(),
                                            hint_png=out.getvalue())
    with storages["default"].open(new.mask_name) as fh:
        alpha = np.array(Image.open(fh))
    assert alpha[85, 240] == 255 and alpha[110, 440] == 255  # beyond the stroke itself
    assert alpha[10, 10] == 0 and alpha[60, 320] == 0  # the backdrop above stays out
    # The stroke marks the product: the whole rim the model missed, connected in colour,
    # comes back, so the result matches the product far better than the model's box.
    with storages["default"].open(cutout.asset.working_name) as fh:
        photo = np.array(Image.open(fh).convert("RGB")).astype(int)
    product = np.abs(photo - photo[5, 5]).sum(axis=2) > 60
    product[402:] = False  # the soft shadow under the product is backdrop

    def iou(a):
        return (a & product).sum() / (a | product).sum()

    assert iou(old_alpha > 128) < 0.75
    assert iou(alpha > 128) > 0.95

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cutouts import strengths
from cutouts.models import Cutout, CutoutBatch, CutoutQueue, JobStatus, ReviewStatus
from cutouts.selectors import review as selectors
from cutouts.services import review
from cutouts.services.status import assets_status_sync
from tests.factories import ImageAssetFactory, ProductFactory, reviewer

pytestmark = pytest.mark.django_db


def _rows(risks, *, brand="Acme", model="u2netp", preflags=None, batch=None, status="done",
          review_status="pending"):
    rows = []
    for i, risk in enumerate(risks):
        asset = ImageAssetFactory(product=ProductFactory(brand=brand))
        rows.append(Cutout.objects.create(
            asset=asset, version=1, status=status, review_status=review_status, risk=risk,
            model_name=model, preflags=preflags if preflags is not None else [], batch=batch,
            rgba_name=f"cutouts/x/{i}.png"))
    return rows


def test_it_lists_only_finished_versions_awaiting_review_riskiest_first():
    low, high, mid = _rows([0.1, 0.9, 0.5])
    _rows([5.0], status=JobStatus.QUEUED)
    _rows([5.0], review_status=ReviewStatus.APPROVED)
    deleted = _rows([9.0])[0]
    deleted.asset.deleted_at = deleted.asset.uploaded_at
    deleted.asset.save()
    assert list(selectors.review_queue()) == [high, mid, low]


def test_it_filters_by_product_batch_brand_model_and_preflag():
    batch = CutoutBatch.objects.create(label="shoot 7")
    a = _rows([0.3], brand="Zeta", preflags=["halo_risk", "fragments"])[0]
    b = _rows([0.2], model="birefnet", batch=batch, preflags=["touches_frame"])[0]
    c = _rows([0.1])[0]
    d = _rows([0.05], preflags=["see_through"])[0]
    q = selectors.QueueFilters
    assert list(selectors.review_queue(filters=q(preflag="see_through"))) == [d]
    assert list(selectors.review_queue(filters=q(brand="Zeta"))) == [a]
    assert list(selectors.review_queue(filters=q(model="birefnet"))) == [b]
    assert list(selectors.review_queue(filters=q(batch=batch.pk))) == [b]
    assert list(selectors.review_queue(filters=q(preflag="fragments"))) == [a]
    assert list(selectors.review_queue(filters=q(product=c.asset.product.sku))) == [c]
    assert list(selectors.review_queue(filters=q(product=str(c.asset.product_id)))) == [c]
    sku = c.asset.product.sku  # SKU-000123
    assert list(selectors.review_queue(filters=q(product=sku.lower()))) == [c]
    assert len(selectors.review_queue(filters=q(product="sku-"))) == 4
    assert list(selectors.review_queue(filters=q(product=sku[1:]))) == []  # a start, not a part


def test_it_reads_filters_from_a_query_and_writes_them_back():
    filters = selectors.QueueFilters.from_query(
        {"brand": "Acme", "batch": "x", "preflag": "halo_risk"})
    assert filters.batch is None
    assert filters.querystring() == "brand=Acme&preflag=halo_risk"
    assert not selectors.QueueFilters().active


def test_it_finds_neighbours_in_queue_order_even_after_the_card_left_the_queue():
    a, b, c, d = _rows([0.9, 0.5, 0.5, 0.1])  # b and c tie: lower pk first
    n = selectors.review_neighbours(cutout=b)
    assert (n.previous_id, n.next_id) == (a.pk, c.pk)
    n = selectors.review_neighbours(cutout=c)
    assert (n.previous_id, n.next_id) == (b.pk, d.pk)
    Cutout.objects.filter(pk=c.pk).update(review_status=ReviewStatus.APPROVED)
    assert selectors.review_neighbours(cutout=c).next_id == d.pk
    assert selectors.review_neighbours(cutout=a).previous_id is None
    assert selectors.review_neighbours(cutout=d).next_id is None


def test_it_pages_the_queue_with_a_constant_number_of_queries():
    _rows([i / 100 for i in range(30)])
    counts = []
    for per_page in (5, 25):
        with CaptureQueriesContext(connection) as ctx:
            page = selectors.review_queue_page(per_page=per_page)
            [(c.asset.product.sku, c.batch) for c in page.rows]
        counts.append(len(ctx.captured_queries))
        assert len(page.rows) == per_page and page.has_next and page.total == 30
    assert counts[0] == counts[1] == 2
    last = selectors.review_queue_page(per_page=25, page=2)
    assert len(last.rows) == 5 and not last.has_next and last.has_previous


def test_it_loads_a_card_with_versions_history_and_confirmed_preflags():
    first = _rows([0.5], preflags=["halo_risk", "fragments"])[0]
    second = Cutout.objects.create(asset=first.asset, version=2, status="queued")
    review.cutout_preflag_resolve(cutout=first, user=reviewer(), preflag="fragments",
                                  confirm=True)
    with CaptureQueriesContext(connection) as ctx:
        card = selectors.review_card(cutout_id=first.pk)
    assert len(ctx.captured_queries) <= 5
    assert [v.version for v in card.versions] == [2, 1]
    assert card.confirmed_preflags == {"fragments"}
    assert [d.action for d in card.decisions] == ["preflag_confirm"]
    assert card.awaiting_review and not card.is_active
    assert selectors.review_card(cutout_id=second.pk).is_active


def test_it_lists_flagged_versions_for_retouch_and_the_assets_history():
    flagged, other = _rows([0.4, 0.3], review_status=ReviewStatus.FLAGGED)
    _rows([0.2])
    assets_status_sync(asset_ids=[flagged.asset_id, other.asset_id])
    assert selectors.retouch_queue() == [flagged, other]
    review.cutout_approve(cutout=other, user=reviewer())
    history = selectors.asset_history(asset_id=other.asset_id)
    assert [d.action for d in history] == ["approve"]


@pytest.mark.parametrize(("status", "review_status", "expected"), [
    (JobStatus.DONE, ReviewStatus.PENDING, True),
    (JobStatus.DONE, ReviewStatus.FLAGGED, True),
    (JobStatus.DONE, ReviewStatus.SUPERSEDED, True),
    (JobStatus.DONE, ReviewStatus.APPROVED, False),
    (JobStatus.RUNNING, ReviewStatus.PENDING, False),
    (JobStatus.FAILED, ReviewStatus.PENDING, False),
])
def test_it_decides_approve_ability_in_one_place(status, review_status, expected):
    cutout = Cutout(status=status, review_status=review_status)
    assert cutout.can_approve is expected
    assert selectors.Card(cutout=cutout, versions=[], decisions=[]).can_approve is expected


def test_it_leaves_one_image_interactive_batches_out_of_the_batch_facet(monkeypatch):
    monkeypatch.setattr(selectors, "rerun_models", lambda: ())
    upload = CutoutBatch.objects.create(label="shoot 7", total=40)
    small_upload = CutoutBatch.objects.create(label="one photo", total=1)
    CutoutBatch.objects.create(label="Re-run of X MAIN", total=1, queue=CutoutQueue.INTERACTIVE)
    CutoutBatch.objects.create(label="Retouch of X MAIN v1", total=1,
                               queue=CutoutQueue.INTERACTIVE)
    assert {b.pk for b in selectors.review_facets()["batches"]} == {upload.pk, small_upload.pk}


@pytest.mark.parametrize(("settings", "expected"), [
    ({"refine": False, "edge_gain": 4.0}, "off"),
    ({"refine": True, "edge_gain": 2.0}, "soft"),
    ({"refine": True, "edge_gain": 4.0}, "normal"),
    ({"refine": True, "edge_gain": 8.0}, "strong"),
    ({"refine": True, "edge_gain": 6.0}, "normal"),  # a profile's own gain: the default
    ({}, "normal"),
])
def test_it_names_the_refinement_strength_a_version_was_made_with(settings, expected):
    assert selectors.rerun_strength(settings) == expected


def test_it_reads_the_strengths_the_rerun_service_applies():
    # One table, outside services and selectors, so the selector needs nothing passed in.
    assert review.STRENGTHS is strengths.STRENGTHS
    assert [selectors.rerun_strength(o) for o in strengths.STRENGTHS.values()] == list(
        strengths.STRENGTHS)


def test_it_pages_the_retouch_queue_with_the_flag_comment():
    rows = _rows([0.5, 0.4, 0.3])
    user = reviewer()
    for i, row in enumerate(rows):
        review.cutout_flag(cutout=row, user=user, reasons=["halo"], comment=f"note {i}")
    review.cutout_flag(cutout=rows[0], user=user, reasons=["halo"], comment="newer note")
    first = selectors.retouch_queue_page(per_page=2)
    assert [c.pk for c in first.rows] == [rows[1].pk, rows[2].pk]
    assert [c.flag_comment for c in first.rows] == ["note 1", "note 2"]
    assert first.has_next and first.total == 3
    second = selectors.retouch_queue_page(page=2, per_page=2)
    assert [c.pk for c in second.rows] == [rows[0].pk] and not second.has_next
    assert second.rows[0].flag_comment == "newer note" and second.total == 3


def test_it_keeps_the_retouch_queue_and_the_dashboards_count_in_step_after_a_re_cut(
        make_assets, fake_model, no_broker):
    from catalog.models import AssetStatus
    from catalog.selectors import asset_status_counts
    from cutouts.services import batches, runs
    from cutouts.services.status import asset_status_sync

    def both() -> tuple[list[int], int, int]:
        return ([c.pk for c in selectors.retouch_queue()], selectors.retouch_queue_count(),
                asset_status_counts()[AssetStatus.NEEDS_RETOUCH])

    asset = make_assets(1)[0]

    def cut_again() -> Cutout:
        return batches.cutout_batch_start(assets=[asset], profile_name="fast",
                                          recut=True).cutouts.get()

    v1 = batches.cutout_batch_start(assets=[asset], profile_name="fast").cutouts.get()
    runs.cutout_run(cutout_id=v1.pk)
    review.cutout_flag(cutout=v1, user=reviewer(), reasons=["halo"])
    assert both() == ([v1.pk], 1, 1)
    v2 = cut_again()
    assert both() == ([], 0, 0)  # v2 queued: the image reads Queued
    # a newer run that failed gives the flag back, to both
    Cutout.objects.filter(pk=v2.pk).update(status=JobStatus.FAILED)
    asset_status_sync(asset.pk)
    assert both() == ([v1.pk], 1, 1)
    v3 = cut_again()
    runs.cutout_run(cutout_id=v3.pk)
    assert Cutout.objects.get(pk=v1.pk).review_status == ReviewStatus.FLAGGED
    assert both() == ([], 0, 0)  # v3 awaits review: v1's flag is stale
    assert selectors.retouch_queue_page().total == 0


def test_it_lists_a_flag_on_a_version_newer_than_the_approved_one(make_assets, fake_model,
                                                                  no_broker):
    from catalog.models import AssetStatus
    from cutouts.services import batches, runs

    asset = make_assets(1)[0]

    def cut(recut: bool) -> Cutout:
        row = batches.cutout_batch_start(assets=[asset], profile_name="fast",
                                         recut=recut).cutouts.get()
        runs.cutout_run(cutout_id=row.pk)
        return Cutout.objects.get(pk=row.pk)

    v1 = cut(False)
    review.cutout_approve(cutout=v1, user=reviewer())
    v2 = cut(True)  # a manager's "Cut again": no review decision
    review.cutout_flag(cutout=v2, user=reviewer(), reasons=["halo"])
    asset.refresh_from_db()
    assert asset.status == AssetStatus.APPROVED  # v1 ships meanwhile
    # a real request for a better version: listed, counted, and says what ships
    assert [c.pk for c in selectors.retouch_queue()] == [v2.pk]
    assert selectors.retouch_queue_count() == 1
    page = selectors.retouch_queue_page()
    assert page.total == 1 and page.rows[0].ships_version == 1
    card = selectors.review_card(cutout_id=v2.pk)
    assert card.replaced_by is None and card.ships is not None and card.ships.pk == v1.pk
    # a newer version of its own still makes the flag stale
    v3 = cut(True)
    assert selectors.retouch_queue() == [] and selectors.retouch_queue_count() == 0
    assert selectors.review_card(cutout_id=v3.pk).ships.pk == v1.pk


def test_it_shows_the_last_queue_page_for_a_page_past_it():
    """QA 2026-12-06 (qa41a): ``/cutouts/review/retouch/?page=2`` with 6 flagged read "6 flagged
    for retouch" over "Nothing is flagged for retouch."; a page past the last is the last, as
    the export's contact sheet does."""
    rows = _rows([0.9, 0.5, 0.3])
    past = selectors.review_queue_page(per_page=2, page=7)
    assert (past.page, [c.pk for c in past.rows]) == (2, [rows[2].pk])
    assert past.total == 3 and past.has_previous and not past.has_next
    for row in rows:
        review.cutout_flag(cutout=row, user=reviewer(), reasons=["halo"])
    past = selectors.retouch_queue_page(per_page=2, page=99)
    assert (past.page, len(past.rows), past.total) == (2, 1, 3)
    assert selectors.review_queue_page(page=5).page == 1  # nothing waiting: the first, empty

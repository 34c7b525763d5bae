import urllib.request
import uuid

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from catalog.validators import SKU_RULE
from cutouts import tasks as cutout_tasks
from cutouts.models import Cutout, CutoutBatch, ExportJob, JobStatus, ReviewStatus
from tests.cutouts.export_helpers import approved_cutout, done_cutout
from tests.factories import ImageAssetFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _fetch(url: str) -> tuple[int, bytes]:
    """GET a download URL: Cutroom's own signed file URL, or the S3 presigned one (moto in CI)."""
    if url.startswith("http://testserver/"):
        response = Client().get(url.removeprefix("http://testserver"))
        body = b"".join(response.streaming_content) if response.status_code == 200 else b""
        return response.status_code, body
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback moto)
        return response.status, response.read()


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Record what would be queued; the jobs themselves are tested in tests/cutouts."""
    sent = []
    monkeypatch.setattr(cutout_tasks.cutout_run_task, "apply_async",
                        lambda *a, **k: sent.append(("cutout", a, k)))
    monkeypatch.setattr(cutout_tasks.export_job_run_task, "delay",
                        lambda *a, **k: sent.append(("export", a, k)))
    return sent


# --- batches ----------------------------------------------------------------------------------


def test_it_starts_a_batch_for_a_selection(manager_api, django_capture_on_commit_callbacks,
                                           _no_broker):
    assets = [ImageAssetFactory() for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_api.post("/api/v1/batches", {
            "image_ids": [a.pk for a in assets[:2]], "profile": "fast", "label": "api"})
    assert response.status_code == 201
    body = response.json()
    assert body["total"] == 2 and body["profile"] == "fast" and body["counts"]["queued"] == 2
    assert len([s for s in _no_broker if s[0] == "cutout"]) == 2
    progress = manager_api.get(f"/api/v1/batches/{body['id']}").json()
    assert progress["percent"] == 0 and progress["status"] == "queued"


def test_it_reads_a_queued_batch_as_running_once_one_of_its_cutouts_runs(manager_api):
    # the pages' word (cutout_batch_status): the row turns running only after its first run
    # claimed its cutout, and a client polling the API must not see "queued" meanwhile
    assets = [ImageAssetFactory() for _ in range(2)]
    batch_id = manager_api.post("/api/v1/batches",
                                {"image_ids": [a.pk for a in assets]}).json()["id"]
    running = Cutout.objects.filter(batch_id=batch_id).first()
    Cutout.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING)
    assert CutoutBatch.objects.get(pk=batch_id).status == JobStatus.QUEUED
    assert manager_api.get(f"/api/v1/batches/{batch_id}").json()["status"] == "running"
    listed = manager_api.get("/api/v1/batches").json()["items"][0]
    assert (listed["id"], listed["status"]) == (batch_id, "running")


def test_it_starts_a_batch_with_a_shadow_mode(manager_api):
    asset = ImageAssetFactory()
    started = manager_api.post("/api/v1/batches", {"image_ids": [asset.pk], "shadow": "keep"})
    assert started.status_code == 201
    assert Cutout.objects.get(batch_id=started.json()["id"]).settings["shadow"] == "keep"
    bad = manager_api.post("/api/v1/batches", {"image_ids": [asset.pk], "shadow": "drama"})
    assert bad.status_code == 422 and bad.json()["errors"] == [
        {"field": "shadow", "message": "Unknown shadow mode 'drama'; one of: none, keep, "
                                       "synthetic."}]
    assert CutoutBatch.objects.count() == 1


def test_it_refuses_a_batch_with_the_uis_words(manager_api):
    nothing = manager_api.post("/api/v1/batches", {"image_ids": [999999]})
    assert nothing.status_code == 422
    assert nothing.json()["detail"] == "Could not start cutouts: No images to cut out."
    asset = ImageAssetFactory()
    bad_profile = manager_api.post("/api/v1/batches", {"image_ids": [asset.pk],
                                                       "profile": "nope"})
    assert bad_profile.status_code == 422
    assert bad_profile.json()["detail"].startswith("Could not start cutouts: Unknown profile")


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"shadow": "purple"}, "shadow",
     "Unknown shadow mode 'purple'; one of: none, keep, synthetic."),
    ({"profile": "ultra"}, "profile", "Unknown profile 'ultra'; one of: fast, default, "),
    ({"model": "birefnet"}, "model", "Model 'birefnet' is not installed here; "),
    ({"image_ids": [99999]}, "image_ids", "No images to cut out."),
    ({"product_id": "PRODUCT"}, "product_id", "No images to cut out."),
])
def test_it_names_the_field_of_a_refused_batch(manager_api, body, field, message):
    if body.get("product_id") == "PRODUCT":  # a product with no live image
        body = {"product_id": ProductFactory().pk}
    else:
        body = {"image_ids": [ImageAssetFactory().pk], **body}
    response = manager_api.post("/api/v1/batches", body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:cutroom:problem:batch-refused"
    [error] = problem["errors"]
    assert error["field"] == field and error["message"].startswith(message)
    assert "(" not in error["message"]  # no Python tuple
    assert problem["detail"] == f"Could not start cutouts: {error['message']}"
    assert CutoutBatch.objects.count() == 0


def test_it_says_which_fields_a_batch_needs_and_404s_an_unknown_product(manager_api):
    empty = manager_api.post("/api/v1/batches", {})
    assert empty.status_code == 422
    assert "image_ids, product_id, import_id or all_pending" in empty.json()["detail"]
    assert manager_api.post("/api/v1/batches", {"product_id": 999999}).status_code == 404
    assert manager_api.post("/api/v1/batches", {"import_id": 999999}).status_code == 404
    assert CutoutBatch.objects.count() == 0


def test_it_refuses_a_model_not_installed_naming_the_installed_ones(
        manager_api, reviewer_api, two_models_installed):
    asset = ImageAssetFactory()
    started = manager_api.post("/api/v1/batches", {"image_ids": [asset.pk], "model": "u2net"})
    assert started.status_code == 422
    assert started.json()["detail"] == (
        "Could not start cutouts: Model 'u2net' is not installed here; installed models: "
        "isnet-general-use, u2netp.")
    cutout = done_cutout()
    rerun = reviewer_api.post(f"/api/v1/cutouts/{cutout.pk}/rerun", {"model": "birefnet"})
    assert rerun.status_code == 422
    assert "installed models: isnet-general-use, u2netp" in rerun.json()["detail"]
    assert Cutout.objects.filter(asset=cutout.asset).count() == 1


def test_it_starts_each_idempotent_batch_once(manager_api):
    asset = ImageAssetFactory()
    headers = {"HTTP_IDEMPOTENCY_KEY": "batch-1"}
    first = manager_api.post("/api/v1/batches", {"image_ids": [asset.pk]}, headers=headers)
    again = manager_api.post("/api/v1/batches", {"image_ids": [asset.pk]}, headers=headers)
    assert first.json()["id"] == again.json()["id"]
    assert CutoutBatch.objects.count() == 1 and Cutout.objects.count() == 1


def test_it_cancels_and_retries_a_batch(manager_api):
    assets = [ImageAssetFactory() for _ in range(2)]
    batch_id = manager_api.post("/api/v1/batches",
                                {"image_ids": [a.pk for a in assets]}).json()["id"]
    failed = Cutout.objects.filter(batch_id=batch_id).first()
    Cutout.objects.filter(pk=failed.pk).update(status=JobStatus.FAILED, error="boom")
    retried = manager_api.post(f"/api/v1/batches/{batch_id}/retry").json()
    assert retried["counts"]["failed"] == 0 and retried["counts"]["queued"] == 2
    cancelled = manager_api.post(f"/api/v1/batches/{batch_id}/cancel").json()
    assert cancelled["counts"]["cancelled"] == 2
    assert manager_api.get("/api/v1/batches").json()["items"][0]["id"] == batch_id


@pytest.mark.parametrize("state", ["running", "cancelled", "done"])
def test_it_refuses_to_retry_a_batch_with_nothing_failed(manager_api, state):
    asset = ImageAssetFactory()
    batch_id = manager_api.post("/api/v1/batches", {"image_ids": [asset.pk]}).json()["id"]
    Cutout.objects.filter(batch_id=batch_id).update(
        status=JobStatus.RUNNING if state == "running" else state)
    CutoutBatch.objects.filter(pk=batch_id).update(status=state)
    response = manager_api.post(f"/api/v1/batches/{batch_id}/retry")
    assert response.status_code == 409
    assert response.json()["type"] == "urn:cutroom:problem:nothing-to-retry"
    assert response.json()["detail"] == (
        f"Batch #{batch_id} is {state} and has no failed cutouts; nothing to retry.")
    assert CutoutBatch.objects.get(pk=batch_id).status == state


def test_it_neither_fails_nor_retries_a_retouch_that_changed_nothing(manager_api):
    """QA 2026-12-05 L1: a no-op retouch was a failed version in ``?status=failed`` and a
    failed batch that Retry re-queued; it ends cancelled by its run, its batch done."""
    from cutouts.services.batches import cutout_batch_refresh
    from cutouts.services.retouch import NOTHING_CHANGED

    asset = ImageAssetFactory()
    batch_id = manager_api.post("/api/v1/batches", {"image_ids": [asset.pk]}).json()["id"]
    Cutout.objects.filter(batch_id=batch_id).update(status=JobStatus.CANCELLED,
                                                    is_unchanged=True,
                                                    error=NOTHING_CHANGED.format(v=1))
    cutout_batch_refresh(batch_id=batch_id)
    assert manager_api.get("/api/v1/cutouts?status=failed").json()["items"] == []
    # the outcome is a field: no client has to read it off the error's wording
    cancelled = manager_api.get("/api/v1/cutouts?status=cancelled").json()["items"]
    assert [(c["is_unchanged"], c["error"]) for c in cancelled] == [
        (True, NOTHING_CHANGED.format(v=1))]
    batch = manager_api.get(f"/api/v1/batches/{batch_id}").json()
    assert batch["status"] == "done" and batch["percent"] == 100
    assert {k: batch["counts"][k] for k in ("failed", "cancelled", "unchanged")} == {
        "failed": 0, "cancelled": 0, "unchanged": 1}
    assert batch["message"].endswith("1 unchanged (nothing changed, pixel for pixel)")
    retry = manager_api.post(f"/api/v1/batches/{batch_id}/retry")
    assert retry.status_code == 409
    assert Cutout.objects.get(batch_id=batch_id).status == JobStatus.CANCELLED


def test_it_refuses_to_cancel_a_finished_batch(manager_api):
    asset = ImageAssetFactory()
    batch_id = manager_api.post("/api/v1/batches", {"image_ids": [asset.pk]}).json()["id"]
    Cutout.objects.filter(batch_id=batch_id).update(status=JobStatus.DONE)
    CutoutBatch.objects.filter(pk=batch_id).update(status=JobStatus.DONE)
    response = manager_api.post(f"/api/v1/batches/{batch_id}/cancel")
    assert response.status_code == 409
    assert response.json()["detail"] == f"Batch #{batch_id} is already done; nothing is left " \
                                         "to cancel."
    assert Cutout.objects.get(batch_id=batch_id).status == JobStatus.DONE


def test_it_shows_a_rate_only_once_it_means_something(manager_api):
    from datetime import timedelta

    from django.utils import timezone

    assets = [ImageAssetFactory() for _ in range(3)]
    batch_id = manager_api.post("/api/v1/batches",
                                {"image_ids": [a.pk for a in assets]}).json()["id"]
    now = timezone.now()
    CutoutBatch.objects.filter(pk=batch_id).update(
        started_at=now - timedelta(milliseconds=30), finished_at=now, status=JobStatus.FAILED)
    rows = list(Cutout.objects.filter(batch_id=batch_id).order_by("pk"))
    Cutout.objects.filter(pk=rows[0].pk).update(status=JobStatus.FAILED)
    assert manager_api.get(f"/api/v1/batches/{batch_id}").json()["per_minute"] is None
    Cutout.objects.filter(batch_id=batch_id).update(status=JobStatus.DONE)
    CutoutBatch.objects.filter(pk=batch_id).update(started_at=now - timedelta(seconds=6))
    assert manager_api.get(f"/api/v1/batches/{batch_id}").json()["per_minute"] == 30.0


def test_it_keeps_batches_to_roles_that_run_cutouts(reviewer_api):
    asset = ImageAssetFactory()
    assert reviewer_api.post("/api/v1/batches", {"image_ids": [asset.pk]}).status_code == 403
    assert reviewer_api.get("/api/v1/batches").status_code == 200


# --- cutouts and review ---------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "field", "message"), [
    ("preflag=bogus", "preflag",
     "Unknown pre-flag 'bogus'; one of: empty, tiny_subject, halo_risk, fragments, "
     "touches_frame, low_confidence, uncertain_edges, see_through, too_small_for_export, "
     "faint_marks, faint_cloud, shadow_off_body."),
    ("min_risk=nan", "min_risk", "Input should be a finite number"),
    ("min_risk=inf", "min_risk", "Input should be a finite number"),
    # the SKU rule's words, as the products API and the UI (one check: sku_length_check)
    ("product=" + "S" * 65, "product", SKU_RULE),
    ("status=bogus", "status", "Input should be 'queued', "),
])
def test_it_refuses_an_unknown_cutout_filter_value_naming_it(readonly_api, query, field,
                                                              message):
    done_cutout()
    response = readonly_api.get(f"/api/v1/cutouts?{query}")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == field and error["message"].startswith(message)


def test_it_lists_batches_newest_first_with_a_status_filter_and_a_cursor(manager_api,
                                                                          readonly_api):
    assets = [ImageAssetFactory() for _ in range(3)]
    ids = [manager_api.post("/api/v1/batches", {"image_ids": [a.pk]}).json()["id"]
           for a in assets]
    manager_api.post(f"/api/v1/batches/{ids[0]}/cancel")

    def page(**params) -> dict:
        response = readonly_api.get("/api/v1/batches", params)
        assert response.status_code == 200
        return response.json()

    first = page(limit=2)
    assert [b["id"] for b in first["items"]] == [ids[2], ids[1]] and first["next_cursor"]
    rest = page(limit=2, cursor=first["next_cursor"])
    assert [b["id"] for b in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    # a page that ends exactly on the last batch has no next one
    assert page(limit=3)["next_cursor"] is None
    assert [b["id"] for b in page(status="cancelled")["items"]] == [ids[0]]
    assert [b["id"] for b in page(status="queued")["items"]] == [ids[2], ids[1]]
    assert page(status="done") == {"items": [], "next_cursor": None}


def test_it_counts_a_page_of_batches_in_the_same_queries_whatever_its_size(readonly_api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cutouts.selectors.jobs import cutout_batch_counts
    from cutouts.services.batches import cutout_batch_start

    def start(n: int) -> list[int]:
        return [cutout_batch_start(assets=[ImageAssetFactory() for _ in range(2)]).pk
                for _ in range(n)]

    def listed() -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as queries:
            response = readonly_api.get("/api/v1/batches", {"limit": 200})
        assert response.status_code == 200
        return len(queries), {b["id"]: b["counts"] for b in response.json()["items"]}

    ids = start(3)
    Cutout.objects.filter(batch_id=ids[0]).update(status=JobStatus.DONE)
    Cutout.objects.filter(batch_id=ids[1], pk=Cutout.objects.filter(batch_id=ids[1])
                          .order_by("pk").values("pk")[:1]).update(status=JobStatus.FAILED)
    listed()  # the key's first use is written down once: not part of the page's cost
    few, counts = listed()
    assert set(counts) == set(ids)
    # the counts read for the whole page are each batch's own
    for pk in ids:
        assert counts[pk] == cutout_batch_counts(batch=CutoutBatch.objects.get(pk=pk))
    assert counts[ids[0]]["done"] == 2 and counts[ids[1]]["failed"] == 1
    ids += start(27)
    many, counts = listed()
    assert len(counts) == 30 and counts[ids[-1]]["queued"] == 2
    # the page and one count for all of it (plus the key and role checks), not one per batch
    assert many == few


@pytest.mark.parametrize(("query", "field", "message"), [
    ("status=bogus", "status", "Input should be 'queued', "),
    ("limit=0", "limit", "Input should be greater than or equal to 1"),
    ("limit=201", "limit", "Input should be less than or equal to 200"),
])
def test_it_refuses_a_bad_batch_filter_value_naming_it(readonly_api, query, field, message):
    response = readonly_api.get(f"/api/v1/batches?{query}")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == field and error["message"].startswith(message)


def test_it_refuses_a_broken_batch_cursor(readonly_api):
    bad = readonly_api.get("/api/v1/batches", {"cursor": "!"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"] == [{"field": "cursor", "message": "Invalid"}]


def test_it_refuses_unknown_query_parameters_on_the_batch_list_naming_them(readonly_api):
    response = readonly_api.get("/api/v1/batches?profile=fast&limit=5&sort=oldest")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": name, "message": "Unknown query parameter; this list takes status, cursor, "
                                   "limit."} for name in ("profile", "sort")]
    assert readonly_api.get("/api/v1/batches", {"status": "queued"}).status_code == 200


def test_it_lists_cutouts_with_review_state_risk_and_preflags(readonly_api):
    risky = done_cutout()
    Cutout.objects.filter(pk=risky.pk).update(risk=2.5, preflags=["halo_risk"])
    calm = done_cutout()
    page = readonly_api.get("/api/v1/cutouts", {"limit": 1}).json()
    assert [c["id"] for c in page["items"]] == [calm.pk]
    rest = readonly_api.get("/api/v1/cutouts", {"limit": 1, "cursor": page["next_cursor"]}).json()
    assert rest["items"][0]["id"] == risky.pk and rest["items"][0]["preflags"] == ["halo_risk"]
    flagged = readonly_api.get("/api/v1/cutouts", {"preflag": "halo_risk"}).json()["items"]
    assert [c["id"] for c in flagged] == [risky.pk]
    assert [c["id"] for c in readonly_api.get("/api/v1/cutouts", {"min_risk": 1}).json()[
        "items"]] == [risky.pk]
    pending = readonly_api.get("/api/v1/cutouts", {"review_status": "pending"}).json()
    assert {c["review_status"] for c in pending["items"]} == {"pending"}


def test_it_lists_the_version_each_image_shows_unless_replaced_ones_are_asked_for(
        reviewer_api):
    v1 = done_cutout()
    v2 = done_cutout(asset=v1.asset, version=2)
    v3 = done_cutout(asset=v1.asset, version=3)
    other = done_cutout()  # never reviewed: no version of its image is current yet
    for approved in (v1, v3):  # the first approval supersedes v2 and v3, the second v1
        assert reviewer_api.post(f"/api/v1/cutouts/{approved.pk}/approve", {}).status_code == 200
    assert Cutout.objects.get(pk=v1.pk).review_status == ReviewStatus.APPROVED

    def ids(**params) -> list[int]:
        response = reviewer_api.get("/api/v1/cutouts", params)
        assert response.status_code == 200
        return [c["id"] for c in response.json()["items"]]

    # v1 is still marked approved, but v3 is what the image shows and export ships.
    assert ids(review_status="approved") == [v3.pk]
    assert ids(review_status="approved", include_superseded="true") == [v3.pk, v1.pk]
    assert ids() == [other.pk, v3.pk]
    assert ids(image_id=v1.asset_id, include_superseded="true") == [v3.pk, v2.pk, v1.pk]
    assert ids(review_status="superseded") == [v2.pk]


def test_it_approves_and_flags_through_the_review_services(reviewer_api):
    one, two = done_cutout(), done_cutout()
    approved = reviewer_api.post(f"/api/v1/cutouts/{one.pk}/approve", {"comment": "ok"})
    assert approved.status_code == 200
    assert approved.json()["review_status"] == "approved" and approved.json()["is_current"]
    flagged = reviewer_api.post(f"/api/v1/cutouts/{two.pk}/flag", {"reasons": ["halo"]})
    assert flagged.json()["flag_reasons"] == ["halo"]
    assert Cutout.objects.get(pk=two.pk).review_status == ReviewStatus.FLAGGED
    other = reviewer_api.post(f"/api/v1/cutouts/{two.pk}/flag", {"reasons": ["other"]})
    # Bad input, not a conflict with the version's state: 422 naming the field.
    assert other.status_code == 422
    assert other.json()["detail"] == ("Say what is wrong in the comment when the reason is "
                                      "'Other'.")
    assert other.json()["errors"][0]["field"] == "comment"
    unknown = reviewer_api.post(f"/api/v1/cutouts/{two.pk}/flag", {"reasons": ["nope"]})
    assert unknown.status_code == 422


def test_it_refuses_with_409_a_flag_on_a_version_an_image_has_a_newer_one_of(reviewer_api):
    """QA35 B2: the retouch queue lists no flag whose image has a newer version."""
    v1 = done_cutout()
    done_cutout(asset=v1.asset, version=2)
    response = reviewer_api.post(f"/api/v1/cutouts/{v1.pk}/flag", {"reasons": ["halo"]})
    assert response.status_code == 409
    assert response.json()["detail"].startswith(
        "v2 (awaiting review) is newer than v1, so your flag was not applied")
    assert Cutout.objects.get(pk=v1.pk).review_status == ReviewStatus.PENDING


def test_it_refuses_to_approve_an_unfinished_cutout(reviewer_api):
    asset = ImageAssetFactory()
    queued = Cutout.objects.create(asset=asset, version=1, status=JobStatus.QUEUED)
    response = reviewer_api.post(f"/api/v1/cutouts/{queued.pk}/approve", {})
    assert response.status_code == 409
    assert response.json()["detail"] == "Version 1 is queued, not a finished cutout."


def _bare_post(api, path, body=b"", content_type=""):
    """A POST as `curl -X POST` sends it: no body and no Content-Type unless given."""
    return api.client.generic("POST", path, body, content_type=content_type, **api.headers)


def test_it_approves_and_reruns_with_no_body_at_all(reviewer_api):
    cutout = done_cutout()
    approved = _bare_post(reviewer_api, f"/api/v1/cutouts/{cutout.pk}/approve")
    assert approved.status_code == 200 and approved.json()["review_status"] == "approved"
    other = done_cutout()
    rerun = _bare_post(reviewer_api, f"/api/v1/cutouts/{other.pk}/rerun",
                       content_type="application/json")
    assert rerun.status_code == 201 and rerun.json()["version"] == 2


@pytest.mark.parametrize(("body", "message"), [
    (b"", "Send a JSON object as the request body."),
    (b"[]", "The request body must be a JSON object"),
])
def test_it_names_the_body_when_it_is_missing_or_not_an_object(reviewer_api, body, message):
    cutout = done_cutout()
    for action in ("flag", "approve"):
        if action == "approve" and not body:
            continue  # approving needs no body
        response = _bare_post(reviewer_api, f"/api/v1/cutouts/{cutout.pk}/{action}", body,
                              content_type="application/json")
        assert response.status_code == 422
        (error,) = response.json()["errors"]
        assert error["field"] == "body" and error["message"].startswith(message)
        assert response.json()["detail"].startswith(f"body: {message}")


def test_it_reruns_a_cutout_as_a_new_version(reviewer_api):
    cutout = done_cutout()
    response = reviewer_api.post(f"/api/v1/cutouts/{cutout.pk}/rerun",
                                 {"tta": False, "strength": "soft"})
    assert response.status_code == 201
    assert response.json()["version"] == 2 and response.json()["status"] == "queued"


def test_it_answers_a_repeated_rerun_with_the_queued_one(reviewer_api):
    cutout = done_cutout()
    url = f"/api/v1/cutouts/{cutout.pk}/rerun"
    first = reviewer_api.post(url, {"tta": False, "strength": "soft"})
    again = reviewer_api.post(url, {"tta": False, "strength": "soft"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["version"] == 2
    assert Cutout.objects.filter(asset=cutout.asset).count() == 2
    other = reviewer_api.post(url, {"tta": True, "strength": "soft"})
    assert (other.status_code, other.json()["version"]) == (201, 3)


def test_it_refuses_bad_rerun_settings_as_invalid_naming_the_field(reviewer_api):
    cutout = done_cutout()
    url = f"/api/v1/cutouts/{cutout.pk}/rerun"
    for field, value in (("strength", "extreme"), ("shadow", "dramatic"), ("profile", "nope")):
        response = reviewer_api.post(url, {field: value})
        assert response.status_code == 422, (field, response.json())
        assert response.json()["errors"][0]["field"] == field
        assert repr(value) in response.json()["detail"]
    assert Cutout.objects.filter(asset=cutout.asset).count() == 1


def test_it_keeps_409_for_a_version_that_cannot_be_rerun_now(reviewer_api):
    asset = ImageAssetFactory()
    queued = Cutout.objects.create(asset=asset, version=1, status=JobStatus.QUEUED)
    response = reviewer_api.post(f"/api/v1/cutouts/{queued.pk}/flag", {"reasons": ["halo"]})
    assert response.status_code == 409
    assert response.json()["type"] == "urn:cutroom:problem:review-refused"


def test_it_reruns_with_another_profile_and_answers_a_repeat_with_the_queued_one(
        reviewer_api):
    cutout = done_cutout()
    url = f"/api/v1/cutouts/{cutout.pk}/rerun"
    soft = reviewer_api.post(url, {"profile": "soft"})
    assert soft.status_code == 201 and soft.json()["profile"] == "soft"
    assert Cutout.objects.get(pk=soft.json()["id"]).settings["band"] is True
    again = reviewer_api.post(url, {"profile": "soft"})
    assert (again.status_code, again.json()["id"]) == (200, soft.json()["id"])
    own = reviewer_api.post(url, {})
    assert own.status_code == 201 and own.json()["profile"] == "default"


def test_it_reruns_with_the_versions_own_settings_where_the_request_is_silent(reviewer_api):
    from cutouts.imaging.settings import PROFILES

    cutout = done_cutout()
    own = {**PROFILES["default"].to_dict(), "shadow": "keep", "tta_flip": False,
           "edge_gain": 2.0}
    Cutout.objects.filter(pk=cutout.pk).update(settings=own, profile="default")
    url = f"/api/v1/cutouts/{cutout.pk}/rerun"
    same = Cutout.objects.get(pk=reviewer_api.post(url, {}).json()["id"]).settings
    # a re-run of a kept-shadow version keeps its shadow, TTA and strength (as the card does)
    assert (same["shadow"], same["tta_flip"], same["edge_gain"]) == ("keep", False, 2.0)
    other = reviewer_api.post(url, {"profile": "soft"}).json()
    moved = Cutout.objects.get(pk=other["id"]).settings
    # another profile brings its own quality knobs; the shadow is the user's choice and stays
    assert moved["shadow"] == "keep"
    assert moved["tta_flip"] is PROFILES["soft"].tta_flip
    told = reviewer_api.post(url, {"shadow": "none", "tta": True}).json()
    told_settings = Cutout.objects.get(pk=told["id"]).settings
    assert (told_settings["shadow"], told_settings["tta_flip"]) == ("none", True)


def test_it_refuses_unknown_body_fields_naming_them(reviewer_api, manager_api):
    cutout = done_cutout()
    rerun = reviewer_api.post(f"/api/v1/cutouts/{cutout.pk}/rerun", {"profle": "soft"})
    assert rerun.status_code == 422
    assert [e["field"] for e in rerun.json()["errors"]] == ["profle"]
    asset = ImageAssetFactory()
    batch = manager_api.post("/api/v1/batches", {"image_ids": [asset.pk],
                                                 "settings": {"band": True}})
    assert batch.status_code == 422 and batch.json()["errors"][0]["field"] == "settings"
    product = manager_api.post("/api/v1/products", {"sku": "X-1", "colour": "red"})
    assert product.status_code == 422 and product.json()["errors"][0]["field"] == "colour"
    assert Cutout.objects.count() == 1 and CutoutBatch.objects.count() == 0


def test_it_keeps_review_to_reviewers(readonly_api):
    cutout = done_cutout()
    assert readonly_api.post(f"/api/v1/cutouts/{cutout.pk}/approve", {}).status_code == 403


def test_it_hands_out_signed_short_lived_download_urls(readonly_api, monkeypatch):
    cutout = done_cutout()
    answer = readonly_api.get(f"/api/v1/cutouts/{cutout.pk}/download").json()
    if settings.STORAGE_BACKEND == "s3":
        # The bucket is private: a short-lived presigned URL that S3 itself checks.
        assert "Signature" in answer["url"] and "Expires" in answer["url"]
        status, body = _fetch(answer["url"])
        assert status == 200 and body.startswith(b"\x89PNG")
        return
    assert answer["url"].startswith("http://testserver/api/v1/files/")
    path = answer["url"].removeprefix("http://testserver")
    fetched = Client().get(path)  # no key: the signature is the credential
    assert fetched.status_code == 200
    png = b"".join(fetched.streaming_content)
    assert png.startswith(b"\x89PNG")
    head = Client().head(path)  # HEAD as GET, without the file
    assert head.status_code == 200 and b"".join(head.streaming_content) == b""
    assert head["Content-Length"] == str(len(png))
    tampered = Client().get(path[:-3] + "abc")
    assert tampered.status_code == 404
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() + 3600)
    expired = Client().get(path)
    assert expired.status_code == 410 and "expired" in expired.json()["detail"]


def test_it_has_no_download_for_an_unfinished_cutout(readonly_api):
    queued = Cutout.objects.create(asset=ImageAssetFactory(), version=1)
    assert readonly_api.get(f"/api/v1/cutouts/{queued.pk}/download").status_code == 404
    cutout = done_cutout()
    assert readonly_api.get(f"/api/v1/cutouts/{cutout.pk}/download",
                            {"file": "../etc"}).status_code == 404


# --- presets and exports --------------------------------------------------------------------------


def test_it_lists_and_reads_presets(readonly_api):
    names = [p["name"] for p in readonly_api.get("/api/v1/presets").json()]
    assert "amazon_main" in names
    one = readonly_api.get("/api/v1/presets/amazon_main").json()
    assert one["spec"] and one["naming"]
    assert readonly_api.get("/api/v1/presets/nope").status_code == 404


def test_it_exports_approved_cutouts_end_to_end(manager_api):
    product = ProductFactory(sku="EXP-1", asin="B000000001")
    approved_cutout(product=product)
    created = manager_api.post("/api/v1/exports", {"presets": ["amazon_main"],
                                                   "skus": ["EXP-1"]})
    assert created.status_code == 201
    job_id = created.json()["id"]
    assert created.json()["progress_total"] == 1
    assert cutout_tasks.export_job_run_task.run(job_id) == "done"
    progress = manager_api.get(f"/api/v1/exports/{job_id}").json()
    assert progress["status"] == "done" and progress["percent"] == 100 and progress["has_zip"]
    manifest = manager_api.get(f"/api/v1/exports/{job_id}/manifest").json()
    assert manifest[0]["sku"] == "EXP-1"
    # numbers, not the CSV's text
    assert type(manifest[0]["width"]) is int and type(manifest[0]["height"]) is int
    assert type(manifest[0]["bytes"]) is int and manifest[0]["bytes"] > 0
    url = manager_api.get(f"/api/v1/exports/{job_id}/download").json()["url"]
    status, body = _fetch(url)
    assert status == 200 and body[:2] == b"PK"


def test_it_gives_no_sizes_for_variants_a_dry_run_did_not_render(manager_api):
    approved_cutout(product=ProductFactory(sku="DRY-1", asin="B0DRY00001"))
    job_id = manager_api.post("/api/v1/exports", {"presets": ["amazon_main"],
                                                  "dry_run": True}).json()["id"]
    assert cutout_tasks.export_job_run_task.run(job_id) == "done"
    [row] = manager_api.get(f"/api/v1/exports/{job_id}/manifest").json()
    assert row["sku"] == "DRY-1" and row["compliance"].startswith("dry run")
    assert (row["width"], row["height"], row["bytes"]) == (None, None, None)


def test_it_says_why_an_export_has_no_zip_to_download(manager_api):
    from cutouts.services import export_jobs
    from tests.factories import manager

    approved_cutout(product=ProductFactory(sku="WHY-1", asin="B0WHY00001"))

    def refusal(job_id: int) -> str:
        response = manager_api.get(f"/api/v1/exports/{job_id}/download")
        assert response.status_code == 404
        assert "(yet)" not in response.json()["detail"]
        return response.json()["detail"]

    def started(**kwargs) -> int:
        return export_jobs.export_job_create(user=manager(), presets=["amazon_main"],
                                             **kwargs).pk

    queued = started()
    assert refusal(queued) == (f"Export {queued} is still queued; its ZIP is there once it "
                               "is done.")
    manager_api.post(f"/api/v1/exports/{queued}/cancel")
    assert refusal(queued) == (f"Export {queued} was cancelled, so nothing was written: "
                               "there is no ZIP.")
    dry = started(dry_run=True)
    assert cutout_tasks.export_job_run_task.run(dry) == "done"
    assert refusal(dry).startswith(f"Export {dry} was a dry run: nothing was written")
    # a name of its own: export storage outlives the test, and a folder holds one export
    name = f"why-folder-{uuid.uuid4().hex[:8]}"
    folder = started(destination=ExportJob.Destination.FOLDER, folder=name)
    assert cutout_tasks.export_job_run_task.run(folder) == "done"
    assert refusal(folder) == (f"Export {folder} was written to the folder '{name}' in "
                               "export storage, not to a ZIP; the manifest is there too.")
    # the manifest of each finished one is there
    for job_id in (dry, folder):
        assert manager_api.get(f"/api/v1/exports/{job_id}/download",
                               {"file": "manifest"}).status_code == 200


def test_it_lists_exports_newest_first_with_filters_and_a_cursor(manager_api, reviewer_api):
    approved_cutout()
    ids = [manager_api.post("/api/v1/exports", {"presets": ["amazon_main"],
                                                "dry_run": dry}).json()["id"]
           for dry in (False, True, False)]
    manager_api.post(f"/api/v1/exports/{ids[0]}/cancel")

    def page(**params) -> dict:
        response = manager_api.get("/api/v1/exports", params)
        assert response.status_code == 200
        return response.json()

    first = page(limit=2)
    assert [e["id"] for e in first["items"]] == [ids[2], ids[1]]
    assert first["items"][1]["dry_run"] and first["items"][0]["status"] == "queued"
    rest = page(limit=2, cursor=first["next_cursor"])
    assert [e["id"] for e in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert [e["id"] for e in page(status="cancelled")["items"]] == [ids[0]]
    assert [e["id"] for e in page(dry_run="true")["items"]] == [ids[1]]
    assert [e["id"] for e in page(dry_run="false")["items"]] == [ids[2], ids[0]]
    assert manager_api.get("/api/v1/exports", {"cursor": "!"}).status_code == 400
    assert reviewer_api.get("/api/v1/exports").status_code == 403


def test_it_refuses_exports_with_the_uis_words(manager_api):
    unknown = manager_api.post("/api/v1/exports", {"presets": ["amazon_main"],
                                                   "skus": ["NOPE"]})
    assert unknown.status_code == 422 and unknown.json()["detail"] == "Unknown SKU(s): NOPE"
    nothing = manager_api.post("/api/v1/exports", {"presets": ["amazon_main"]})
    assert nothing.status_code == 422
    assert nothing.json()["detail"] == ("Nothing to export: no approved cutouts match these "
                                        "filters.")
    bad = manager_api.post("/api/v1/exports", {"presets": ["nope"]})
    assert bad.json()["detail"] == "Unknown preset 'nope'."
    assert ExportJob.objects.count() == 0


def test_it_cancels_an_export(manager_api):
    approved_cutout()
    job_id = manager_api.post("/api/v1/exports", {"presets": ["amazon_main"]}).json()["id"]
    assert manager_api.post(f"/api/v1/exports/{job_id}/cancel").json()["status"] == "cancelled"


def test_it_refuses_to_cancel_an_export_that_already_ended_with_a_409(manager_api):
    approved_cutout(product=ProductFactory(asin="B0ENDED001"))
    job_id = manager_api.post("/api/v1/exports", {"presets": ["amazon_main"]}).json()["id"]
    assert cutout_tasks.export_job_run_task.run(job_id) == "done"
    refused = manager_api.post(f"/api/v1/exports/{job_id}/cancel")
    assert refused.status_code == 409, refused.content
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:cutroom:problem:export-finished"
    assert refused.json()["detail"] == (f"Export {job_id} is already done; nothing is left "
                                        "to cancel.")
    assert manager_api.get(f"/api/v1/exports/{job_id}").json()["status"] == "done"
    # as a batch does: a second cancel is a conflict too
    again = manager_api.post("/api/v1/exports", {"presets": ["amazon_main"]}).json()["id"]
    assert manager_api.post(f"/api/v1/exports/{again}/cancel").status_code == 200
    assert manager_api.post(f"/api/v1/exports/{again}/cancel").status_code == 409


def test_it_names_the_field_of_a_refused_spec_or_preset(manager_api):
    approved_cutout()
    bad = manager_api.post("/api/v1/exports", {"specs": ["squar-600|bg-fffff",
                                                         "square-600|bg-ffffff|format-png"]})
    assert bad.status_code == 422 and bad.json()["type"] == "urn:cutroom:problem:export-refused"
    [error] = bad.json()["errors"]
    assert error["field"] == "specs" and error["message"] == bad.json()["detail"]
    assert "'squar'" in error["message"] and "bg-RRGGBB needs 6 hex digits" in error["message"]
    preset = manager_api.post("/api/v1/exports", {"presets": ["nope"]}).json()
    assert preset["errors"] == [{"field": "presets", "message": "Unknown preset 'nope'."}]
    empty = manager_api.post("/api/v1/exports", {}).json()
    assert empty["errors"] == [{"field": "presets", "message": (
        "Pick at least one preset or write a custom spec: without one there is nothing to "
        "render.")}]
    too_many = manager_api.post("/api/v1/exports", {"specs": ["square-600"] * 21})
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "specs"
    assert ExportJob.objects.count() == 0


def test_it_keeps_exports_to_managers(reviewer_api):
    assert reviewer_api.get("/api/v1/exports/1").status_code == 403


def test_it_exports_with_a_spec_string(manager_api):
    approved_cutout(product=ProductFactory(sku="SPEC-1"))
    created = manager_api.post("/api/v1/exports", {
        "specs": ["square-600|bg-ffffff|format-jpeg"], "skus": ["SPEC-1"]})
    assert created.status_code == 201
    job_id = created.json()["id"]
    assert cutout_tasks.export_job_run_task.run(job_id) == "done"
    manifest = manager_api.get(f"/api/v1/exports/{job_id}/manifest").json()
    assert len(manifest) == 1 and "spec-" in str(manifest[0])
    bad = manager_api.post("/api/v1/exports", {"specs": ["nonsense-1"]})
    assert bad.status_code == 422 and "unknown operation 'nonsense'" in bad.json()["detail"]
    empty = manager_api.post("/api/v1/exports", {})
    assert empty.status_code == 422 and empty.json()["detail"] == (
        "Pick at least one preset or write a custom spec: without one there is nothing to "
        "render.")


def test_it_skips_images_already_cut_with_these_settings_unless_recut(manager_api):
    done, fresh = ImageAssetFactory(), ImageAssetFactory()
    assert manager_api.post("/api/v1/batches", {"image_ids": [done.pk],
                                                "profile": "fast"}).status_code == 201
    again = manager_api.post("/api/v1/batches", {"image_ids": [done.pk], "profile": "fast"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "recut"
    assert "1 selected image already has a cutout with these settings" in (
        again.json()["detail"])
    started = manager_api.post("/api/v1/batches", {"image_ids": [done.pk, fresh.pk],
                                                   "profile": "fast"})
    assert started.status_code == 201
    body = started.json()
    assert body["total"] == 1 and body["message"] == "1 skipped: already cut with these settings"
    # finished (a version still queued or running is not cut again at once, even on purpose)
    Cutout.objects.update(status=JobStatus.DONE)
    recut = manager_api.post("/api/v1/batches", {"image_ids": [done.pk, fresh.pk],
                                                 "profile": "fast", "recut": True}).json()
    assert recut["total"] == 2 and recut["message"] == ""
    assert Cutout.objects.filter(asset=done).count() == 2


def test_it_lists_a_products_cutouts_by_its_sku_in_any_case(readonly_api):
    mine = done_cutout(asset=ImageAssetFactory(product=ProductFactory(sku="SS26-TEE-001")))
    done_cutout(asset=ImageAssetFactory(product=ProductFactory(sku="SS26-TEE-002")))

    def ids(product: str) -> list[int]:
        response = readonly_api.get("/api/v1/cutouts", {"product": product})
        assert response.status_code == 200
        return [c["id"] for c in response.json()["items"]]

    assert ids("SS26-TEE-001") == ids("ss26-tee-001") == ids(" Ss26-Tee-001 ") == [mine.pk]
    assert ids("ss26-tee") == []  # never a prefix


def test_it_skips_a_recut_of_images_whose_same_cut_is_still_queued_or_running(manager_api):
    busy, done, fresh = ImageAssetFactory(), ImageAssetFactory(), ImageAssetFactory()
    body = {"image_ids": [busy.pk, done.pk], "recut": True, "profile": "fast"}
    assert manager_api.post("/api/v1/batches", body).status_code == 201
    # a double submit (or the same request three times) cuts nothing twice at once
    for _ in range(2):
        again = manager_api.post("/api/v1/batches", body)
        assert again.status_code == 422 and again.json()["errors"][0]["field"] == "recut"
        assert ("All 2 selected images already have a cutout with these settings queued or "
                "running") in again.json()["detail"]
    assert Cutout.objects.count() == 2
    Cutout.objects.filter(asset=busy).update(status=JobStatus.RUNNING)
    Cutout.objects.filter(asset=done).update(status=JobStatus.DONE)  # awaiting review
    mixed = manager_api.post("/api/v1/batches", {**body, "image_ids": [busy.pk, done.pk,
                                                                        fresh.pk]})
    assert mixed.status_code == 201
    assert mixed.json()["total"] == 2
    assert mixed.json()["message"] == ("1 skipped: a cut with these settings is already "
                                       "queued or running")
    assert Cutout.objects.filter(asset=busy).count() == 1
    assert Cutout.objects.filter(asset=done).count() == 2  # finished: cut again on purpose


def test_it_labels_a_batch_by_what_it_was_started_on_as_the_web_does(manager_api, client):
    # QA 2026-12-06 U6: the API's import start read "Batch 7", the web's "Import #2"
    from django.urls import reverse

    from catalog.models import ImageAsset
    from tests.factories import ImportJobFactory, manager

    job = ImportJobFactory()
    assets = [ImageAssetFactory() for _ in range(3)]
    ImageAsset.objects.filter(pk=assets[0].pk).update(import_job=job)
    by_api = manager_api.post("/api/v1/batches", {"import_id": job.pk, "profile": "fast"})
    assert by_api.json()["label"] == f"Import #{job.pk}"
    client.force_login(manager())
    client.post(reverse("cutouts:batch_start"), {"product": assets[1].product_id,
                                                 "profile": "fast"})
    assert CutoutBatch.objects.latest("pk").label == assets[1].product.sku
    # a label asked for wins
    named = manager_api.post("/api/v1/batches", {"image_ids": [assets[2].pk],
                                                 "profile": "fast", "label": "Shoot 4"})
    assert named.json()["label"] == "Shoot 4"
    ImageAssetFactory()
    client.post(reverse("cutouts:batch_start"), {"all_pending": "1", "profile": "fast"})
    assert str(CutoutBatch.objects.latest("pk")) == "All pending images"

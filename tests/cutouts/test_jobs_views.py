import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cutouts.errors import PermanentError
from cutouts.models import Cutout, CutoutBatch, JobStatus, Notification
from cutouts.services import batches, runs
from tests.factories import UserFactory, manager, reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def test_it_starts_a_batch_for_a_product_from_the_web(client, make_assets, no_broker,
                                                      django_capture_on_commit_callbacks):
    asset = make_assets(1)[0]
    client.force_login(manager())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("cutouts:batch_start"),
                               {"product": asset.product_id, "profile": "fast"})
    batch = CutoutBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("cutouts:batch_detail", args=[batch.pk])
    assert no_broker == [batch.cutouts.get().pk]


def test_it_stays_on_the_product_page_a_batch_was_started_from(client, make_assets,
                                                                no_broker):
    # the product page shows each image's cutout as it runs (catalog's asset runs poll)
    asset = make_assets(1)[0]
    client.force_login(manager())
    page = reverse("catalog:product_detail", args=[asset.product_id])
    assert 'name="stay" value="1"' in client.get(page).content.decode()
    response = client.post(reverse("cutouts:batch_start"), {
        "product": asset.product_id, "profile": "fast", "stay": "1", "next": page},
        follow=True)
    batch = CutoutBatch.objects.get()
    assert response.redirect_chain == [(page, 302)]
    text = response.content.decode()
    assert (f"Started 1 cutout. Each image&#x27;s cutout shows below as it runs; batch "
            f"#{batch.pk} is under Batches.") in text
    assert 'id="asset-runs"' in text and 'hx-trigger="every 1s"' in text  # polling its run
    # a next that leaves the site goes to the batch's page instead
    other = make_assets(1, sku="OTHER")[0]
    response = client.post(reverse("cutouts:batch_start"), {
        "product": other.product_id, "profile": "fast", "stay": "1",
        "next": "https://evil.example/"})
    assert response.url == reverse("cutouts:batch_detail",
                                   args=[CutoutBatch.objects.latest("pk").pk])


def test_it_starts_a_batch_with_the_chosen_shadow_mode(client, make_assets):
    asset = make_assets(1)[0]
    client.force_login(manager())
    page = client.get(reverse("catalog:product_detail", args=[asset.product_id]))
    assert b'name="shadow"' in page.content and b'value="keep"' in page.content
    refused = client.post(reverse("cutouts:batch_start"),
                          {"product": asset.product_id, "shadow": "dramatic"}, follow=True)
    assert b"Unknown shadow mode &#x27;dramatic&#x27;; one of: none, keep, synthetic" in (
        refused.content)
    assert not CutoutBatch.objects.exists()
    client.post(reverse("cutouts:batch_start"), {"product": asset.product_id, "shadow": "keep"})
    assert CutoutBatch.objects.get().cutouts.get().settings["shadow"] == "keep"


def test_it_explains_why_nothing_was_started(client, make_assets):
    client.force_login(manager())
    response = client.post(reverse("cutouts:batch_start"), {"product": 999999}, follow=True)
    assert b"No images to cut out" in response.content
    assert not CutoutBatch.objects.exists()
    # reloading the form's address afterwards shows the batches, not a bare 405
    response = client.get(reverse("cutouts:batch_start"))
    assert (response.status_code, response.url) == (302, reverse("cutouts:batch_list"))
    assert not CutoutBatch.objects.exists()


def test_it_shows_live_progress_as_an_htmx_partial(client, make_assets, fake_model):
    batch = batches.cutout_batch_start(assets=make_assets(3), profile_name="fast")
    first = batch.cutouts.order_by("pk").first()
    runs.cutout_run(cutout_id=first.pk)
    client.force_login(reviewer())
    page = client.get(reverse("cutouts:batch_detail", args=[batch.pk]))
    assert page.status_code == 200 and b"<html" in page.content
    partial = client.get(reverse("cutouts:batch_detail", args=[batch.pk]), HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert "<html" not in text
    assert 'hx-trigger="every 1s"' in text  # still polling while work remains
    assert "1 of 3 ended: 1 done" in text and 'aria-valuenow="33"' in text


def test_it_stops_polling_and_lists_failures_when_the_batch_ends(client, make_assets,
                                                                 fake_model, monkeypatch):
    batch = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast")
    monkeypatch.setattr(runs, "_load_working_copy", lambda asset: (_ for _ in ()).throw(
        PermanentError("The working copy cannot be decoded: truncated")))
    runs.cutout_run(cutout_id=batch.cutouts.get().pk)
    client.force_login(manager())
    text = client.get(reverse("cutouts:batch_detail", args=[batch.pk]),
                      HTTP_HX_REQUEST="true").content.decode()
    assert "every 1s" not in text
    assert "The working copy cannot be decoded: truncated" in text
    assert "Retry failed" in text


def test_it_links_a_batch_to_its_review_queue_and_products(client, make_assets, monkeypatch):
    # a finished batch was a dead end: no way on to its cutouts or its products
    from cutouts.selectors import jobs as job_selectors

    batch = batches.cutout_batch_start(assets=make_assets(3, sku="LINK"), profile_name="fast")
    client.force_login(reviewer())
    html = client.get(reverse("cutouts:batch_detail", args=[batch.pk])).content.decode()
    assert f'href="{reverse("cutouts:review_queue")}?batch={batch.pk}"' in html
    products = batch.cutouts.values_list("asset__product_id", "asset__product__sku")
    for pk, sku in products:
        assert f'<a href="{reverse("catalog:product_detail", args=[pk])}">{sku}</a>' in html
    assert "3 products:" in html and " more" not in html

    shown, total = job_selectors.cutout_batch_products(batch=batch, limit=2)
    assert [p.sku for p in shown] == ["LINK-0", "LINK-1"] and total == 3
    assert [p.images for p in shown] == [1, 1]
    real = job_selectors.cutout_batch_products
    monkeypatch.setattr("cutouts.views.jobs.cutout_batch_products",
                        lambda *, batch: real(batch=batch, limit=2))
    html = client.get(reverse("cutouts:batch_detail", args=[batch.pk])).content.decode()
    assert "3 products:" in html and "and 1 more" in html and ">LINK-2<" not in html


def test_it_retries_and_cancels_for_managers_only(client, make_assets):
    batch = batches.cutout_batch_start(assets=make_assets(2))
    Cutout.objects.filter(pk=batch.cutouts.first().pk).update(status=JobStatus.FAILED)
    client.force_login(reviewer())
    assert client.post(reverse("cutouts:batch_retry", args=[batch.pk])).status_code == 403
    assert client.post(reverse("cutouts:batch_cancel", args=[batch.pk])).status_code == 403
    assert client.post(reverse("cutouts:batch_start"), {"all_pending": "1"}).status_code == 403
    client.force_login(manager())
    assert client.post(reverse("cutouts:batch_retry", args=[batch.pk])).status_code == 302
    response = client.post(reverse("cutouts:batch_cancel", args=[batch.pk]),
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"batch-progress" in response.content
    assert set(batch.cutouts.values_list("status", flat=True)) == {JobStatus.CANCELLED}


def test_it_explains_that_a_finished_batch_has_nothing_to_cancel(client, make_assets):
    batch = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast")
    batch.cutouts.update(status=JobStatus.DONE)
    batches.cutout_batch_refresh(batch_id=batch.pk)
    url = reverse("cutouts:batch_cancel", args=[batch.pk])
    refusal = f"Batch #{batch.pk} is already done; nothing is left to cancel."
    client.force_login(manager())
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("cutouts:batch_detail", args=[batch.pk])
    page = client.get(response["Location"]).content.decode()
    assert "msg-error" in page and refusal in page
    partial = client.post(url, HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert partial.status_code == 200 and 'id="batch-progress"' in text and "<html" not in text
    assert 'role="alert"' in text and refusal in text
    assert batch.cutouts.get().status == JobStatus.DONE


def test_it_denies_batches_to_users_without_a_role(client, make_assets):
    batch = batches.cutout_batch_start(assets=make_assets(1))
    client.force_login(UserFactory())
    assert client.get(reverse("cutouts:batch_detail", args=[batch.pk])).status_code == 403
    client.logout()
    assert client.get(reverse("cutouts:batch_list")).status_code == 302


def test_it_notifies_the_starter_and_marks_notifications_read(client, make_assets, fake_model):
    user = manager()
    batch = batches.cutout_batch_start(assets=make_assets(1), user=user, profile_name="fast")
    runs.cutout_run(cutout_id=batch.cutouts.get().pk)
    client.force_login(user)
    text = client.get(reverse("cutouts:notifications"), HTTP_HX_REQUEST="true").content.decode()
    assert "1 done, 0 failed" in text
    client.post(reverse("cutouts:notifications"), HTTP_HX_REQUEST="true")
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()


def test_it_starts_a_batch_from_the_command_line(make_assets, capsys):
    asset = make_assets(1, sku="CLI-1")[0]
    call_command("cutout_batch", "--product", "CLI-1", "--profile", "fast", "--no-wait")
    assert "1 cutouts queued" in capsys.readouterr().out
    assert Cutout.objects.get().asset == asset
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No product"):
        call_command("cutout_batch", "--product", "NOPE", "--no-wait")


def test_it_skips_images_already_cut_unless_asked_to_cut_again(client, make_assets):
    from catalog.models import ImageAsset
    from tests.factories import ImportJobFactory

    job = ImportJobFactory()
    assets = make_assets(3)
    ImageAsset.objects.filter(pk__in=[a.pk for a in assets[:2]]).update(import_job=job)
    client.force_login(manager())
    start = reverse("cutouts:batch_start")
    client.post(start, {"import_job": job.pk, "profile": "fast"})
    # the same start again: nothing new to cut, and the page says why
    page = client.post(start, {"import_job": job.pk, "profile": "fast"}, follow=True)
    assert ("Could not start cutouts: All 2 selected images already have a cutout with these "
            "settings") in page.content.decode()
    assert CutoutBatch.objects.count() == 1
    ImageAsset.objects.filter(pk=assets[2].pk).update(import_job=job)
    page = client.post(start, {"import_job": job.pk, "profile": "fast"}, follow=True)
    text = page.content.decode()
    assert ("Started 1 cutout; 2 skipped: already cut with these settings (tick "
            "&quot;Cut again&quot; to re-cut them).") in text
    assert 'id="batch-progress"' in text and "2 skipped: already cut with these settings" in (
        text.split('id="batch-progress"')[1])
    # "cut again" re-cuts the finished ones; the one still queued is not cut twice at once
    Cutout.objects.filter(asset__in=assets[:2]).update(status=JobStatus.DONE)
    page = client.post(start, {"import_job": job.pk, "profile": "fast", "recut": "1"},
                       follow=True)
    assert ("Started 2 cutouts; 1 skipped: a cut with these settings is already queued or "
            "running.") in page.content.decode()
    assert Cutout.objects.count() == 5
    # offered where a selection may hold cut images; not beside "all pending images", which
    # only ever holds images without a cutout
    form = client.get(reverse("catalog:product_detail", args=[assets[0].product_id])
                      ).content.decode()
    assert 'name="recut" value="1"' in form and "Cut again" in form
    assert 'name="recut"' not in client.get(reverse("cutouts:batch_list")).content.decode()


def test_it_counts_ended_cutouts_apart_from_done_ones(client, make_assets):
    batch = batches.cutout_batch_start(assets=make_assets(3), profile_name="fast")
    first, *rest = batch.cutouts.order_by("pk")
    Cutout.objects.filter(pk__in=[c.pk for c in rest]).update(status=JobStatus.CANCELLED)
    client.force_login(reviewer())
    text = client.get(reverse("cutouts:batch_detail", args=[batch.pk]),
                      HTTP_HX_REQUEST="true").content.decode()
    assert ">2 of 3 ended: 0 done, 2 cancelled</strong>" in text
    assert "1 queued" in text and 'aria-valuenow="66"' in text


def test_it_skips_already_cut_images_from_the_command_line_unless_told(make_assets, capsys):
    make_assets(1, sku="CLI-2")
    call_command("cutout_batch", "--product", "CLI-2", "--profile", "fast", "--no-wait")
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="already has a cutout with these settings"):
        call_command("cutout_batch", "--product", "CLI-2", "--profile", "fast", "--no-wait")
    capsys.readouterr()
    # --recut while the first cut is still queued would cut the image twice at once
    with pytest.raises(CommandError, match="queued or running, so nothing was started"):
        call_command("cutout_batch", "--product", "CLI-2", "--profile", "fast", "--no-wait",
                     "--recut")
    Cutout.objects.update(status=JobStatus.DONE)
    call_command("cutout_batch", "--product", "CLI-2", "--profile", "fast", "--no-wait",
                 "--recut")
    assert "1 cutouts queued (fast)." in capsys.readouterr().out
    assert Cutout.objects.count() == 2


def test_it_asks_before_cancelling_and_says_what_it_cancelled(client, make_assets):
    client.force_login(manager())
    asset = make_assets(1)[0]
    started = client.post(reverse("cutouts:batch_start"), {"product": asset.product_id},
                          follow=True).content.decode()
    assert "Started 1 cutout." in started
    batch = CutoutBatch.objects.get()
    cancel = reverse("cutouts:batch_cancel", args=[batch.pk])
    form = re.search(rf'<form method="post" action="{cancel}"[^>]*>', started).group(0)
    # a plain post (the page reloads with the new message), asked first (confirm.js)
    assert "hx-post" not in form
    assert 'data-confirm="Cancel the 1 queued cutout of this batch?' in form
    page = client.post(reverse("cutouts:batch_cancel", args=[batch.pk]),
                       follow=True).content.decode()
    assert "Cancelled 1 queued cutout." in page
    assert "Started 1 cutout." not in page


def test_it_shows_the_time_left_without_a_leading_separator(client, make_assets, fake_model):
    batch = batches.cutout_batch_start(assets=make_assets(3), profile_name="fast")
    runs.cutout_run(cutout_id=batch.cutouts.order_by("pk").first().pk)
    client.force_login(manager())
    text = client.get(reverse("cutouts:batch_detail", args=[batch.pk]),
                      HTTP_HX_REQUEST="true").content.decode()
    # one image ended a moment ago: an ETA, no rate yet (RATE_MIN_FINISHED)
    line = re.search(r'<p class="muted"[^>]*>(.*?)</p>', text, re.S).group(1)
    words = re.sub(r"<[^>]+>", "", line).strip()
    assert "left (ETA" in words and "images/minute" not in words
    assert not words.startswith("·"), words


def test_it_says_no_worker_reports_on_a_batchs_running_cutouts(client, make_assets, settings):
    settings.CUTROOM_RECONCILE_GRACE = 60
    settings.CUTROOM_RECONCILE_EVERY = 60
    batch = batches.cutout_batch_start(assets=make_assets(2), profile_name="fast")
    client.force_login(manager())
    url = reverse("cutouts:batch_detail", args=[batch.pk])
    first, second = batch.cutouts.order_by("pk")
    now = timezone.now()
    Cutout.objects.filter(pk=first.pk).update(status=JobStatus.RUNNING, started_at=now,
                                              heartbeat_at=now - timedelta(seconds=20))
    assert "data-worker-silent" not in client.get(url).content.decode()
    Cutout.objects.filter(pk=second.pk).update(status=JobStatus.RUNNING, started_at=now,
                                               heartbeat_at=now - timedelta(minutes=4))
    page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "No worker has reported on this for 4 min — is a worker running?" in page


def test_it_shows_the_shadow_mode_a_batch_was_started_with(client, make_assets):
    asset = make_assets(1)[0]
    client.force_login(manager())
    client.post(reverse("cutouts:batch_start"),
                {"product": asset.product_id, "profile": "fast", "shadow": "keep"})
    batch = CutoutBatch.objects.get()
    wanted = ("profile <b>fast</b>", f"model <b>{batch.settings['model']}</b>",
              "shadow <b>keep</b>", "refinement <b>normal</b>")
    page = client.get(reverse("cutouts:batch_detail", args=[batch.pk])).content.decode()
    settings = page.split("data-batch-settings")[1].split("</span>")[0]
    assert all(part in settings for part in wanted), settings
    listed = client.get(reverse("cutouts:batch_list")).content.decode()
    row = listed.split(f'href="{reverse("cutouts:batch_detail", args=[batch.pk])}"')[1]
    assert all(part in row.split("</tr>")[0] for part in wanted), row


def test_it_shows_a_batch_as_running_on_its_pages_as_soon_as_one_cutout_runs(client,
                                                                             make_assets):
    batch = batches.cutout_batch_start(assets=make_assets(2), profile_name="fast")
    client.force_login(reviewer())
    running_chip = 'class="badge chip job-running" data-status="running">Running</span>'
    assert running_chip not in client.get(reverse("cutouts:batch_list")).content.decode()
    # a worker claimed one: the cutout row runs while the batch row still says queued
    assert runs._claim(batch.cutouts.order_by("pk").first().pk, "w1:1")
    assert CutoutBatch.objects.get(pk=batch.pk).status == JobStatus.QUEUED
    listing = client.get(reverse("cutouts:batch_list")).content.decode()
    assert running_chip in listing and "job-queued" not in listing
    partial = client.get(reverse("cutouts:batch_detail", args=[batch.pk]),
                         HTTP_HX_REQUEST="true").content.decode()
    assert 'id="batch-progress" class="card" data-status="running"' in partial
    assert 'id="batch-status" data-status="running">Running</span>' in partial
    assert 'hx-trigger="every 1s"' in partial


# --- the way back from "Cancel queued" (QA 2026-12-06 U10) -------------------------------------


def test_it_restarts_a_batchs_cancelled_cutouts_for_a_manager_only(
        client, make_assets, no_broker, django_capture_on_commit_callbacks):
    batch = batches.cutout_batch_start(assets=make_assets(2), profile_name="fast")
    assert batches.cutout_batch_cancel(batch=batch) == 2
    batch.refresh_from_db()
    assert batch.status == JobStatus.CANCELLED
    restart = reverse("cutouts:batch_restart", args=[batch.pk])
    client.force_login(reviewer())
    assert client.post(restart).status_code == 403
    client.force_login(manager())
    page = client.get(reverse("cutouts:batch_detail", args=[batch.pk])).content.decode()
    assert f'action="{restart}"' in page and "Restart cancelled" in page
    no_broker.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(restart, HTTP_HX_REQUEST="true")
        assert no_broker == []  # sent once the restart commits
    assert callbacks
    assert response.status_code == 200 and "Restart cancelled" not in response.content.decode()
    assert sorted(no_broker) == sorted(batch.cutouts.values_list("pk", flat=True))
    assert set(batch.cutouts.values_list("status", flat=True)) == {JobStatus.QUEUED}
    batch.refresh_from_db()
    assert (batch.status, batch.finished_at) == (JobStatus.RUNNING, None)


def test_it_leaves_deleted_and_since_recut_images_cancelled_on_a_restart(make_assets):
    from catalog.services.products import product_soft_delete

    kept, deleted, recut = make_assets(3)
    batch = batches.cutout_batch_start(assets=[kept, deleted, recut], profile_name="fast")
    batches.cutout_batch_cancel(batch=batch)
    product_soft_delete(product=deleted.product)
    batches.cutout_batch_start(assets=[recut], profile_name="default")  # a newer version
    assert batches.cutout_batch_restart_cancelled(batch=batch) == 1
    assert dict(batch.cutouts.values_list("asset_id", "status")) == {
        kept.pk: "queued", deleted.pk: "cancelled", recut.pk: "cancelled"}


def test_it_counts_only_the_rows_its_own_restart_moved(make_assets, no_broker, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    batch = batches.cutout_batch_start(assets=make_assets(3), profile_name="fast")
    batches.cutout_batch_cancel(batch=batch)
    first, *others = batch.cutouts.order_by("pk").values_list("pk", flat=True)
    queued_fields = batches.cutout_queued_fields

    def raced(**kwargs):
        # another restart re-queues the first row after this one read the batch's cancelled
        # rows and before its updates: that row is the other's to count and enqueue
        Cutout.objects.filter(pk=first).update(status=JobStatus.QUEUED)
        return queued_fields(**kwargs)

    monkeypatch.setattr(batches, "cutout_queued_fields", raced)
    no_broker.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert batches.cutout_batch_restart_cancelled(batch=batch) == 2
    assert sorted(no_broker) == sorted(others)
    # a second restart finds nothing left to move, and says so
    monkeypatch.setattr(batches, "cutout_queued_fields", queued_fields)
    assert batches.cutout_batch_restart_cancelled(batch=batch) == 0
    assert set(batch.cutouts.values_list("status", flat=True)) == {JobStatus.QUEUED}

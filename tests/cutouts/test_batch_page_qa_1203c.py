"""QA 2026-12-03 (c) on the batch page: "Cancel queued" asks first and says what it did in
place of the last notice, counts are pluralized, and the rate line has no stray separator."""

import re

import pytest
from django.urls import reverse

from cutouts.models import CutoutBatch
from cutouts.services import batches, runs
from tests.factories import manager

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


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

"""The batch page says when no worker has reported on its running cutouts for longer than a
live worker allows (QA F9: "Running · 2 running" for ever with the worker down)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cutouts.models import Cutout, JobStatus
from cutouts.services import batches
from tests.factories import manager

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


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

"""A batch's progress as the page shows it: the time left reads as a person would say it."""

from datetime import timedelta

from django.utils import timezone

from cutouts.models import CutoutBatch
from cutouts.selectors.jobs import BatchProgress


def _progress(eta):
    return BatchProgress(batch=CutoutBatch(), counts={}, total=13, finished=0, percent=0,
                         per_minute=25.0, eta=eta, is_active=True)


def test_it_says_under_a_minute_instead_of_zero_minutes():
    assert _progress(timezone.now() + timedelta(seconds=31)).time_left == "under a minute"
    assert _progress(timezone.now() + timedelta(minutes=10, seconds=20)).time_left == \
        "about 10\xa0minutes"
    assert _progress(None).time_left == ""

"""Retouch services (cutouts/services/retouch.py): strokes whose result is the parent's picture
make no new version to review (QA 2026-12-03, finding 9: Apply of strokes that changed nothing
made v2 bit-identical to v1, and sent it back to the review queue)."""

import numpy as np
import pytest

from cutouts.models import Cutout, JobStatus, ReviewStatus
from cutouts.services import retouch, review, runs
from tests.cutouts.reviewdata import done_cutouts
from tests.factories import reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

# the fake model keeps the centred 320 x 240 box of a 640 x 480 photo
BACKDROP = (20, 20)
MIDDLE = (320, 240)


@pytest.mark.parametrize("strokes", [
    [{"kind": "remove", "radius": 6, "points": [list(BACKDROP)]}],  # already removed
    [{"kind": "keep", "radius": 6, "points": [list(MIDDLE)]}],  # already kept
    [{"kind": "remove", "radius": 6, "points": [list(BACKDROP)]},
     {"kind": "keep", "radius": 6, "points": [list(MIDDLE)]}],
], ids=["remove-on-backdrop", "keep-in-the-middle", "both"])
def test_it_fails_strokes_that_change_nothing_and_gives_the_parent_back(make_assets, fake_model,
                                                                        strokes):
    v1 = done_cutouts(make_assets(1))[0]
    assert v1.review_status == ReviewStatus.PENDING
    v2 = retouch.cutout_retouch_strokes(cutout=v1, user=reviewer(), strokes=strokes)
    assert Cutout.objects.get(pk=v1.pk).review_status == ReviewStatus.SUPERSEDED

    assert runs.cutout_run(cutout_id=v2.pk) == "failed"

    v2 = Cutout.objects.get(pk=v2.pk)
    assert v2.status == JobStatus.FAILED and not v2.rgba_name
    assert v2.error == retouch.NOTHING_CHANGED.format(v=1)
    assert v2.error.startswith("Nothing to apply: the result of these strokes is v1 pixel for")
    # v1 is the reviewer's again, where it was: not a copy of it waiting in review
    assert Cutout.objects.get(pk=v1.pk).review_status == ReviewStatus.PENDING


def test_it_gives_a_flagged_parent_back_to_the_retouch_queue(make_assets, fake_model):
    v1 = done_cutouts(make_assets(1))[0]
    review.cutout_flag(cutout=v1, user=reviewer(), reasons=["halo"], comment="")
    v2 = retouch.cutout_retouch_strokes(
        cutout=v1, user=reviewer(),
        strokes=[{"kind": "remove", "radius": 6, "points": [list(BACKDROP)]}])
    assert runs.cutout_run(cutout_id=v2.pk) == "failed"
    assert Cutout.objects.get(pk=v1.pk).review_status == ReviewStatus.FLAGGED


def test_it_still_makes_a_version_of_strokes_that_change_something(make_assets, fake_model):
    v1 = done_cutouts(make_assets(1))[0]
    v2 = retouch.cutout_retouch_strokes(
        cutout=v1, user=reviewer(),
        strokes=[{"kind": "remove", "radius": 6, "points": [list(BACKDROP)]},
                 {"kind": "remove", "radius": 30, "points": [[180, 140], [300, 140]]}])
    assert runs.cutout_run(cutout_id=v2.pk) == "done"
    assert Cutout.objects.get(pk=v2.pk).review_status == ReviewStatus.PENDING


def _rgba() -> np.ndarray:
    rgba = np.zeros((1100, 90, 4), np.uint8)  # taller than a strip: the last strip counts too
    rgba[..., :3] = (200, 80, 40)
    rgba[100:1050, 20:70, 3] = 255
    return rgba


def test_it_calls_a_result_with_other_hidden_colours_the_same_picture():
    result, parent = _rgba(), _rgba()
    result[..., :3][result[..., 3] == 0] = 0  # the engine zeroes what is hidden
    assert retouch._same_pixels(result, parent)


@pytest.mark.parametrize("change", ["alpha", "colour", "last-strip"])
def test_it_tells_a_result_that_differs_in_one_pixel(change):
    result, parent = _rgba(), _rgba()
    if change == "alpha":
        result[5, 5, 3] = 1
    elif change == "colour":
        result[500, 40, 1] += 1  # a detail stroke may change colours only
    else:
        result[1049, 69, 3] = 254
    assert not retouch._same_pixels(result, parent)

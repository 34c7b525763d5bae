"""A keep or remove stroke drawn after detail strokes moves the alpha only its own way: the
detail strokes are solved on the cut of the strokes up to the last of them, and what the cut
of the whole list changes is applied after, as a floor or a ceiling (docs/review.md, § Fur
beside a ghost, L2, 2026-12-05). Scenes are built in memory."""

import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke

from .scenes import fur_ring_scene

# two detail strokes (radius 20) down the fur's outer edge, as QA brushed GT15's right fur
DETAIL = [Stroke("detail", 20, ((150.0, 60.0), (165.0, 100.0))),
          Stroke("detail", 20, ((165.0, 100.0), (150.0, 150.0)))]


@pytest.mark.parametrize("click", [((180.0, 115.0), 12.0), ((175.0, 100.0), 12.0),
                                   ((172.0, 120.0), 8.0)])
def test_it_never_raises_alpha_with_a_remove_click_after_two_detail_strokes(click):
    # HEAD re-solved the detail strokes on the alpha the remove left: 66-74 px of the first
    # stroke's path rose by up to 9/255
    rgb, alpha, *_ = fur_ring_scene()
    (x, y), r = click
    before = retouch(rgb, alpha, DETAIL).alpha
    after = retouch(rgb, alpha, [*DETAIL, Stroke("remove", r, ((x, y),))]).alpha
    assert not (after > before).any()


def test_it_leaves_the_detail_strokes_matte_where_the_remove_changes_nothing():
    rgb, alpha, *_ = fur_ring_scene()
    remove = Stroke("remove", 12, ((180.0, 115.0),))
    before = retouch(rgb, alpha, DETAIL).alpha
    after = retouch(rgb, alpha, [*DETAIL, remove]).alpha
    # where the remove click alone leaves the cutout as it was
    same = retouch(rgb, alpha, [remove]).alpha == alpha
    assert (after[same] == before[same]).all()


@pytest.mark.parametrize("work_max", [1024, 120])
def test_it_moves_every_keep_and_remove_step_after_detail_strokes_its_own_way(work_max):
    # a whole sequence, also on a reduced working grid (an Apply's: the full-size matte held
    # to the preview's), every step against the one before it
    rgb, alpha, *_ = fur_ring_scene()
    seq = [*DETAIL, Stroke("remove", 12, ((180.0, 115.0),)),
           Stroke("keep", 6, ((160.0, 80.0),)), Stroke("remove", 8, ((172.0, 120.0),)),
           Stroke("detail", 15, ((150.0, 140.0), (140.0, 165.0))),
           Stroke("remove", 10, ((205.0, 150.0),)), Stroke("keep", 5, ((140.0, 100.0),))]
    prev = alpha
    for k in range(1, len(seq) + 1):
        cur = retouch(rgb, alpha, seq[:k], work_max=work_max).alpha
        kind = seq[k - 1].kind
        if kind == "remove":
            assert not (cur > prev).any(), k
        elif kind == "keep":
            assert not (cur < prev).any(), k
        prev = cur

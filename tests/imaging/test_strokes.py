import json

import numpy as np
import pytest

from cutouts.imaging.strokes import (
    DETAIL,
    KEEP,
    NONE,
    REMOVE,
    Stroke,
    rasterise,
    strokes_from_json,
    strokes_to_json,
)


def test_it_round_trips_strokes_through_json():
    strokes = [Stroke("keep", 12.0, ((10.0, 20.0), (30.5, 40.0))),
               Stroke("remove", 5.0, ((7.0, 8.0),)), Stroke("detail", 30.0, ((1.0, 2.0),))]
    data = json.loads(json.dumps(strokes_to_json(strokes)))
    assert data[0] == {"kind": "keep", "radius": 12.0, "points": [[10.0, 20.0], [30.5, 40.0]]}
    assert strokes_from_json(data) == strokes


@pytest.mark.parametrize("bad, message", [
    ({"kind": "keep"}, "must be a JSON list"),
    ([{"kind": "erase", "radius": 3, "points": [[1, 2]]}], "stroke 1: kind"),
    ([{"kind": "keep", "radius": "big", "points": [[1, 2]]}], "radius must be a number"),
    ([{"kind": "keep", "radius": 0, "points": [[1, 2]]}], "radius must be between"),
    ([{"kind": "keep", "radius": 3, "points": []}], "points must be a non-empty list"),
    ([{"kind": "keep", "radius": 3, "points": [[1, 2, 3]]}], "point 1 must be [x, y]"),
    ([{"kind": "keep", "radius": 3, "points": [[1, float("nan")]]}], "must be finite"),
    ([{"kind": "keep", "radius": 3, "points": [[1, True]]}], "must be a number"),
    (["keep"], "must be an object"),
    ([{"kind": "subject", "radius": 3, "points": [[1, 2], [5, 6]]}],
     "stroke 1: a subject stroke is one click (one point), got 2 points"),
    ([{"kind": "keep", "radius": 3, "points": [[1, 2]]},
      {"kind": "subject", "radius": 3, "points": [[1, 2]]},
      {"kind": "subject", "radius": 3, "points": [[9, 9]]}],
     "stroke 3: only one subject click per list (stroke 2 is one)"),
])
def test_it_rejects_bad_json_with_a_clear_message(bad, message):
    with pytest.raises(ValueError) as exc:
        strokes_from_json(bad)
    assert message in str(exc.value)


def test_it_paints_a_click_as_a_disk_of_its_radius():
    labels = rasterise([Stroke("keep", 5.0, ((20.0, 20.0),))], (41, 41))
    disk = labels == KEEP
    assert disk[20, 20] and disk[20, 15] and disk[20, 25]
    assert not disk[20, 13] and not disk[13, 20]
    assert 70 <= disk.sum() <= 100  # about pi * 25


def test_it_lets_later_strokes_win_where_they_overlap():
    strokes = [Stroke("keep", 3.0, ((2.0, 10.0), (18.0, 10.0))),
               Stroke("remove", 2.0, ((10.0, 2.0), (10.0, 18.0))),
               Stroke("detail", 1.0, ((15.0, 10.0),))]
    labels = rasterise(strokes, (21, 21))
    assert labels[10, 10] == REMOVE  # the remove stroke crosses the keep stroke on top
    assert labels[10, 4] == KEEP
    assert labels[10, 15] == DETAIL
    assert labels[0, 0] == NONE


def test_it_scales_a_stroke_for_a_preview():
    st = Stroke("remove", 40.0, ((1000.0, 500.0), (1200.0, 520.0)))
    small = st.scaled(0.25)
    assert small.radius == 10.0 and small.points == ((250.0, 125.0), (300.0, 130.0))
    with pytest.raises(ValueError):
        st.scaled(0)


def test_it_rasterises_a_tile_window_like_the_whole_image():
    strokes = [Stroke("keep", 6.0, ((30.0, 30.0), (90.0, 70.0))),
               Stroke("remove", 4.0, ((60.0, 10.0),))]
    whole = rasterise(strokes, (100, 120))
    tile = rasterise(strokes, (50, 60), origin=(40, 30))
    assert np.array_equal(tile, whole[30:80, 40:100])


def test_it_round_trips_a_subject_click_and_paints_no_brush_for_it():
    strokes = [Stroke("subject", 6.0, ((10.0, 20.0),)), Stroke("keep", 3.0, ((1.0, 1.0),))]
    data = json.loads(json.dumps(strokes_to_json(strokes)))
    assert data[0] == {"kind": "subject", "radius": 6.0, "points": [[10.0, 20.0]]}
    assert strokes_from_json(data) == strokes
    # it chooses a part of the cutout (imaging.subject): no keep, remove or detail brush
    labels = rasterise(strokes[:1], (40, 40))
    assert (labels == NONE).all()
    # nor does it wipe an earlier brush it lies on (the graph cut reads it after strokes,
    # retouch._retouch_list, subj44)
    under = Stroke("remove", 8.0, ((10.0, 20.0),))
    assert np.array_equal(rasterise([under, strokes[0]], (40, 40)), rasterise([under], (40, 40)))
    assert strokes[0].scaled(0.5) == Stroke("subject", 3.0, ((5.0, 10.0),))


def test_it_refuses_a_painted_subject_stroke():
    with pytest.raises(ValueError, match="one click"):
        Stroke("subject", 4.0, ((1.0, 1.0), (5.0, 5.0)))

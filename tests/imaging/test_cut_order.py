"""The one record of stroke order in the graph cut (``retouch_cut._Order``, 2026-12-07, order45):
per pixel, the hard core that holds (a painted stroke's brush clears the other kind's under it),
the last brush and what painted strokes flipped beyond their brushes. It paints each stroke's
brush once, in its box, for all three; the planes are what whole-image painting gives."""

import numpy as np

from cutouts.imaging.retouch_cut import DEFAULT, _Order
from cutouts.imaging.strokes import KEEP, REMOVE, Stroke, rasterise

from .test_cut_click_undoes import _beyond_whole_planes


def test_it_records_what_whole_image_planes_would():
    # strokes over the photo's edges, sub-pixel brushes and clicks included
    rng = np.random.default_rng(7)
    shape = (50, 70)
    steps = []
    for i in range(60):
        kind = "keep" if i % 3 else "remove"
        radius = float(rng.choice([0.5, 0.6, 1.0, 3.0, 7.5]))
        n = 1 if i % 4 == 0 else int(rng.integers(2, 6))
        points = tuple((float(x), float(y)) for x, y in
                       zip(rng.uniform(-9, 79, n), rng.uniform(-9, 59, n), strict=True))
        st = Stroke(kind, radius, points)
        brush = rasterise([st], shape) > 0
        core = np.flatnonzero(brush & (rng.random(shape) < 0.7))
        flipped = np.unique(rng.integers(0, shape[0] * shape[1], int(rng.integers(0, 300))))
        steps.append((st, core, flipped))
    order = _Order(shape, DEFAULT, True)
    cores = np.zeros(shape, np.uint8)
    for st, core, flipped in steps:
        order.after(st, flipped, order.place(st, core))
        cores.reshape(-1)[core] = st.label
        if len(st.points) > 1:
            brush = rasterise([st], shape) > 0
            cores[brush & (cores == (KEEP if st.kind == "remove" else REMOVE))] = 0
    assert (order.cores == cores).all()
    assert (order.brushes == rasterise([st for st, _, _ in steps], shape)).all()
    assert (order.keeps() == (rasterise([st for st, _, _ in steps], shape) == KEEP)).all()
    assert order.beyond is not None
    added, taken = _beyond_whole_planes(shape, [(st, flipped) for st, _, flipped in steps])
    assert (order.beyond.added == added).all() and (order.beyond.taken == taken).all()
    assert (cores == KEEP).any() and (cores == REMOVE).any() and added.any() and taken.any()


def test_it_gives_back_nothing_without_the_record_or_for_a_painted_stroke():
    shape = (20, 30)
    state = np.zeros(shape, bool)
    click = Stroke("keep", 2.0, ((10.0, 10.0),))
    assert _Order(shape, DEFAULT, False).given_back(click, state) is None
    order = _Order(shape, DEFAULT, True)
    painted = Stroke("remove", 2.0, ((2.0, 10.0), (6.0, 10.0)))
    flipped = np.flatnonzero(np.pad(np.ones((4, 6), bool), ((8, 8), (8, 16))))
    order.after(painted, flipped, order.place(painted, np.zeros(0, np.intp)))
    assert order.beyond is not None and order.beyond.taken.any()
    assert order.given_back(Stroke("keep", 2.0, ((10.0, 10.0), (11.0, 10.0))), state) is None
    back = order.given_back(click, state)
    assert back is not None and (back == order.beyond.taken).all()


def test_it_records_a_stroke_wholly_off_the_photos_left_or_top_as_touching_nothing():
    # the box's far end below 0 must not slice from the other edge (reread45)
    shape = (20, 30)
    for st in (Stroke("remove", 1.0, ((-20.0, 5.0), (-15.0, 6.0))),
               Stroke("keep", 1.0, ((5.0, -20.0), (6.0, -20.0))),
               Stroke("keep", 1.0, ((-20.0, -20.0),))):
        order = _Order(shape, DEFAULT, True)
        order.cores[:] = KEEP if st.kind == "remove" else REMOVE
        order.after(st, np.zeros(0, np.intp), order.place(st, np.zeros(0, np.intp)))
        assert (order.cores == (KEEP if st.kind == "remove" else REMOVE)).all()
        assert not order.brushes.any()
        assert order.beyond is not None and not order.beyond.added.any()

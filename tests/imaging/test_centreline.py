"""Centre lines: a band thins to one line along its middle, and a walk follows it."""

import numpy as np

from cutouts.imaging.centreline import thin, walk


def test_it_thins_a_band_to_one_line_along_its_middle():
    band = np.zeros((20, 60), bool)
    band[6:13, 5:55] = True  # 7 px thick, rows 6..12
    skel = thin(band)
    assert skel.sum() > 30 and not (skel & ~band).any()
    cols = skel[:, 15:45]
    assert (cols.sum(axis=0) == 1).all()  # one pixel wide
    assert set(np.nonzero(cols)[0]) <= {8, 9, 10}  # in the middle


def test_it_walks_to_the_farthest_point_within_the_limit_and_not_through_blocked_pixels():
    skel = np.zeros((5, 40), bool)
    skel[2, 0:40] = True
    path = walk(skel, (2, 20), set(), 10.0)
    assert path[0] == (2, 20) and len(path) == 11 and path[-1] in {(2, 10), (2, 30)}
    other = walk(skel, (2, 20), set(path[1:]), 10.0)
    assert other[-1] != path[-1] and abs(other[-1][1] - 20) == 10

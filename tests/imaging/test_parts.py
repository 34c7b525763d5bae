"""Connected parts: labels first, OpenCV's statistics only when there are several parts."""

from __future__ import annotations

import cv2
import numpy as np

from cutouts.imaging.parts import label_parts


def _counting_stats(monkeypatch):
    calls = []
    real = cv2.connectedComponentsWithStats

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cv2, "connectedComponentsWithStats", counted)
    return calls


def test_it_takes_no_statistics_for_one_part_or_none(monkeypatch):
    calls = _counting_stats(monkeypatch)
    mask = np.zeros((40, 60), np.uint8)
    cv2.circle(mask, (30, 20), 12, 1, -1)
    one = label_parts(mask)
    assert one.n == 2 and one.stats is None and one.centroids is None
    np.testing.assert_array_equal(one.labels, mask)
    none = label_parts(np.zeros((40, 60), np.uint8))
    assert none.n == 1 and none.stats is None and not none.labels.any()
    assert calls == []


def test_it_gives_opencvs_labels_and_statistics_for_several_parts(monkeypatch):
    calls = _counting_stats(monkeypatch)
    rng = np.random.default_rng(11)
    for _ in range(20):
        mask = (rng.random((int(rng.integers(20, 120)), int(rng.integers(20, 120)))) < 0.3)
        mask = mask.astype(np.uint8)
        parts = label_parts(mask)
        n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        assert parts.n == n > 2
        np.testing.assert_array_equal(parts.labels, labels)
        assert parts.stats is not None and parts.centroids is not None
        np.testing.assert_array_equal(parts.stats, stats)
        np.testing.assert_array_equal(parts.centroids, centroids)
    assert len(calls) == 40  # the test's own 20 and the helper's 20


def test_it_joins_pixels_that_touch_at_a_corner():
    mask = np.zeros((10, 10), np.uint8)
    mask[2, 2] = mask[3, 3] = 1  # 8-connected: one part
    assert label_parts(mask).n == 2
    mask[7, 5] = 1
    parts = label_parts(mask)
    assert parts.n == 3 and parts.stats is not None
    assert list(parts.stats[1:, cv2.CC_STAT_AREA]) == [2, 1]

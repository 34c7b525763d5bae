"""Eval metrics on hand-made arrays (definitions from shared/eval/README.md)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics


def square(n=40, lo=10, hi=30, value=255):
    m = np.zeros((n, n), np.uint8)
    m[lo:hi, lo:hi] = value
    return m


def test_it_scores_a_perfect_prediction_perfectly():
    gt = square()
    m = metrics.evaluate(gt.astype(np.float32) / 255, gt)
    assert m["iou"] == 1 and m["mae"] == 0 and m["max_f"] == pytest.approx(1)
    assert m["boundary_f"] == 1 and m["halo"] == 0 and m["deficit"] == 0


def test_it_computes_iou_and_mae_on_known_overlap():
    gt = square(lo=10, hi=30)  # 400 px
    pred = np.zeros((40, 40), np.float32)
    pred[10:30, 20:40] = 1.0  # 400 px, 200 overlap
    assert metrics.iou(pred, gt) == pytest.approx(200 / 600)
    assert metrics.mae(pred, gt) == pytest.approx(400 / 1600)


def test_it_leaves_ignore_pixels_out():
    gt = square()
    gt[:, :5] = 128
    pred = gt.astype(np.float32) / 255
    pred[:, :5] = 0.7  # anything in the ignore band is free
    assert metrics.mae(pred, gt) == 0
    assert metrics.iou(pred, gt) == 1


def test_it_finds_the_best_threshold_for_max_f():
    gt = square()
    pred = (gt > 0) * 0.3 + 0.1  # object 0.4, background 0.1: separable at some threshold
    assert metrics.max_f(pred, gt) == pytest.approx(1.0)
    flat = np.full((40, 40), 0.5, np.float32)  # no ranking: precision = 400/1600
    p = 0.25
    assert metrics.max_f(flat, gt) == pytest.approx(1.3 * p / (0.3 * p + 1))


def test_it_measures_halo_outside_and_deficit_inside():
    gt = square(n=60, lo=20, hi=40)
    pred = (gt > 0).astype(np.float32)
    spill = pred.copy()
    spill[18:20, 20:40] = 1.0  # two rows of background covered
    assert metrics.halo(spill, gt) > 0 and metrics.deficit(spill, gt) == 0
    eaten = pred.copy()
    eaten[20:40, 20:22] = 0.5  # an over-transparent rim
    assert metrics.deficit(eaten, gt) > 0 and metrics.halo(eaten, gt) == 0
    far = pred.copy()
    far[0:5, :] = 1.0  # spill more than 8 px away is not halo
    assert metrics.halo(far, gt) == 0


def test_it_tolerates_boundary_shifts_up_to_3_px():
    gt = square(n=80, lo=20, hi=60)
    near = np.zeros((80, 80), np.float32)
    near[22:62, 22:62] = 1.0
    far = np.zeros((80, 80), np.float32)
    far[26:66, 26:66] = 1.0
    assert metrics.boundary_f(near, gt) > 0.9
    assert metrics.boundary_f(far, gt) < 0.5


def test_it_reads_uint8_predictions_like_floats():
    gt = square()
    u8 = np.where(gt > 0, 200, 30).astype(np.uint8)
    f = u8.astype(np.float32) / 255
    assert metrics.evaluate(u8, gt) == pytest.approx(metrics.evaluate(f, gt))


# --- soft-alpha metrics ----------------------------------------------------------------------

def test_it_scores_sad_and_mse_on_a_soft_ground_truth():
    gt = np.full((10, 100), 128, np.uint8)  # 128 is half transparent here, not "ignore"
    pred = np.zeros((10, 100), np.float32)
    assert metrics.sad(pred, gt) == pytest.approx(1000 * 128 / 255 / 1000)
    assert metrics.mse(pred, gt) == pytest.approx((128 / 255) ** 2 * 1000)
    assert metrics.sad(gt, gt) == 0 and metrics.mse(gt, gt) == 0


def test_it_measures_grad_as_the_difference_of_smoothed_sobel_magnitudes():
    x = np.linspace(0, 1, 64, dtype=np.float64)
    ramp = np.tile(x, (32, 1))
    step = (ramp >= 0.5).astype(np.float64)
    assert metrics.grad(ramp, ramp) == 0
    # a hard cut where the truth fades has a much larger gradient error than a slight blur
    assert metrics.grad(step, ramp) > 10 * metrics.grad(np.clip(ramp * 1.02, 0, 1), ramp)
    # exact value for a constant prediction: the truth's own squared gradient magnitude
    gx = cv2.GaussianBlur(cv2.Sobel(ramp, cv2.CV_64F, 1, 0, ksize=3), (0, 0), 1.4)
    gy = cv2.GaussianBlur(cv2.Sobel(ramp, cv2.CV_64F, 0, 1, ksize=3), (0, 0), 1.4)
    expected = (gx ** 2 + gy ** 2).sum() / 1000
    assert metrics.grad(np.zeros_like(ramp), ramp) == pytest.approx(expected)


def test_it_restricts_soft_mae_to_fractional_truth_and_band_mae_to_the_band():
    gt = np.zeros((10, 10), np.uint8)
    gt[:, 5:] = 255
    gt[:, 4] = 100  # the only fractional column
    pred = gt.astype(np.float32) / 255
    pred[:, 4] = 100 / 255 + 0.2
    pred[:, 0] = 0.5  # an error on a solid pixel: not soft, not in the band
    trimap = np.where(gt == 255, 255, 0).astype(np.uint8)
    trimap[:, 3:6] = 128
    assert metrics.soft_mae(pred, gt) == pytest.approx(0.2, abs=1e-6)
    assert metrics.band_mae(pred, gt, trimap) == pytest.approx(0.2 / 3, abs=1e-6)
    assert metrics.soft_mae(np.zeros((4, 4)), np.zeros((4, 4), np.uint8)) != \
        metrics.soft_mae(np.zeros((4, 4)), np.zeros((4, 4), np.uint8))  # nan without soft pixels


def test_it_resizes_a_soft_prediction_to_the_ground_truth_size():
    gt = np.zeros((40, 40), np.uint8)
    gt[:, 20:] = 255
    small = np.zeros((20, 20), np.float32)
    small[:, 10:] = 1
    m = metrics.evaluate_soft(small, gt)
    assert m["iou"] == pytest.approx(1.0) and m["sad"] < 0.05
    assert set(m) == set(metrics.SOFT_METRICS)


def test_it_sums_the_soft_error_in_px_leaving_the_ignore_band_out():
    # (2026-12-07, softerr47) a haze below .5 the IoU cannot see moves the soft error
    gt = square()  # 400 object px
    gt[10:30, 30] = 128  # a 20 px ignore band beside it
    pred = gt.copy()
    pred[gt == 128] = 0  # the band: never counted
    assert metrics.soft_px(pred, gt) == 0.0
    pred[0:10, 0:10] = 51  # 100 px of haze at .2
    pred[10:30, 10:12] = 204  # 40 object px at .8
    assert metrics.iou(pred, gt) == 1.0
    assert metrics.soft_px(pred, gt) == pytest.approx(100 * 0.2 + 40 * 0.2)
    assert metrics.soft_px(pred.astype(np.float32) / 255, gt) == pytest.approx(28.0, abs=1e-4)

"""A detail stroke along a hard solid edge in front of a busy backdrop whose colours the
object shares (QA qa42r M3: dev/person1, hair against a willow) must not make the cutout
worse. Measured and not adopted (docs/review.md § Detail benchmark, *A solid rim before a
willow*, 2026-12-07, willow42): this scene is the failure, kept as a strict xfail."""

import cv2
import numpy as np
import pytest

from cutouts.imaging import metrics
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise


def _hair_before_a_willow(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A solid head of brown hair (a disc, its truth hard-edged) with light strands the willow
    leaves' colour, before a willow: slanted yellow-green leaves over dark gaps. The cutout is
    the truth, its edge blurred by 1 px (what the model gives a clean edge)."""
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    rgb = np.zeros((h, w, 3), np.float32)
    rgb[:] = (70, 60, 35)
    for _ in range(900):
        col = (rng.uniform(150, 210), rng.uniform(170, 215), rng.uniform(50, 100))
        cv2.ellipse(rgb, (int(rng.uniform(0, w)), int(rng.uniform(0, h))),
                    (int(rng.uniform(8, 16)), 2), rng.uniform(60, 120), 0, 360, col, -1)
    yy, xx = np.mgrid[0:h, 0:w]
    head = (xx - 160) ** 2 + (yy - 260) ** 2 <= 150 ** 2
    hair = np.zeros((h, w, 3), np.float32)
    hair[:] = (95, 75, 55)
    noise = cv2.GaussianBlur(rng.normal(0, 25, (h, w)).astype(np.float32), (0, 0), 1.0)
    hair += noise[..., None] * np.array([1.0, 0.85, 0.7], np.float32)
    for _ in range(700):
        col = (rng.uniform(140, 190), rng.uniform(140, 180), rng.uniform(80, 110))
        cv2.ellipse(hair, (int(rng.uniform(0, w)), int(rng.uniform(100, h))),
                    (int(rng.uniform(6, 12)), 1), rng.uniform(0, 180), 0, 360, col, -1)
    rgb = cv2.GaussianBlur(np.where(head[..., None], hair, rgb), (0, 0), 0.7)
    rgb = np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)
    truth = head.astype(np.uint8) * 255
    cut = np.clip(cv2.GaussianBlur(truth.astype(np.float32), (0, 0), 1.0), 0, 255)
    return rgb, truth, cut.astype(np.uint8)


def _along_the_top() -> Stroke:
    # r 10 along the top of the head's outline, as QA's stroke on person1
    t = np.radians(np.linspace(235, 305, 15))
    return Stroke("detail", 10.0, tuple((float(160 + 150 * np.cos(a)), float(260 + 150 * np.sin(a)))
                                        for a in t))


@pytest.mark.xfail(strict=True, reason="a held-solid cap, a colour floor without the "
                   "backdrop's spread and a nearest-sample hold were measured and not adopted "
                   "(docs/review.md, Detail benchmark, 2026-12-07 willow42): each cost soft-dev "
                   "hair that the model filled solid and the stroke rightly thins")
def test_it_does_not_fade_a_hard_solid_rim_before_a_busy_look_alike_backdrop():
    rgb, truth, cut = _hair_before_a_willow(0)
    stroke = _along_the_top()
    out = retouch(rgb, cut, [stroke]).alpha
    brush = rasterise([stroke], truth.shape) > 0
    rim = brush & (truth == 255) & (cut >= 230)
    # measured: the rim 253 -> 235 mean, IoU 1.0000 -> .9961 (leaves raised, rim below .5)
    assert float(out[rim].mean()) >= 245
    assert metrics.iou(out, truth) >= metrics.iou(cut, truth) - 0.0005

"""Detail strokes painted along both sides of a thin solid part (a pumpkin's stalk) under one
union of bands: the part stays solid; a hair clump the cutout filled solid still fades."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 200, 200
X0, X1 = 80, 120  # the stalk: 40 px wide, from the top down to the body at y 150


def stalk_scene(seed=0):
    """A wooden stalk (grained) standing on a solid body,
    on a blotchy dark backdrop; the cutout holds both solid with a 1 px soft edge."""
    rng = np.random.default_rng(seed)
    blot = cv2.GaussianBlur(rng.normal(0, 1, (H, W)).astype(np.float32), (0, 0), 6)
    blot = blot / max(float(np.abs(blot).max()), 1e-6)
    tint = np.array((20, 30, 25), np.float32)
    back = (np.array((50, 80, 70), np.float32) + blot[..., None] * tint
            + rng.normal(0, 4, (H, W, 3)))
    wood = np.array((135, 115, 90), np.float32) + rng.normal(0, 6, (H, W, 3))
    for x in rng.integers(X0 + 3, X1 - 3, 3):
        wood[:, x:x + 2] -= 10  # darker streaks: the grain
    truth = np.zeros((H, W), np.float32)
    truth[20:, X0:X1] = 1.0
    truth[150:, 20:180] = 1.0
    truth = cv2.GaussianBlur(truth, (3, 3), 0)
    body = np.array((160, 150, 40), np.float32) + rng.normal(0, 6, (H, W, 3))
    fg = np.where((np.arange(H) >= 150)[:, None, None], body, wood)
    rgb = np.clip(truth[..., None] * fg + (1 - truth[..., None]) * back, 0, 255).astype(np.uint8)
    cutout = np.clip(truth * 255 + 0.5, 0, 255).astype(np.uint8)
    return rgb, cutout


def sides(radius=20.0):
    """One stroke down each side of the stalk (what a person paints along the outline): each
    brush reaches past the stalk's middle, so together they cover it side to side."""
    left = Stroke("detail", radius, ((X0 + 1.0, 22.0), (X0 + 1.0, 140.0)))
    right = Stroke("detail", radius, ((X1 - 1.0, 22.0), (X1 - 1.0, 140.0)))
    return [left, right]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_keeps_a_thin_solid_part_solid_under_two_overlapping_detail_strokes(seed):
    # QA M3 (soft-dev GT19): a detail stroke along the pumpkin's ~30 px stalk alone helped; after
    # the stroke along its other side the stalk came out translucent and speckled inside: the
    # two bands leave the joined solve no known foreground inside the stalk
    rgb, cutout = stalk_scene(seed)
    strokes = sides()
    band = rasterise(strokes, cutout.shape) > 0
    inside = np.zeros_like(band)
    inside[30:140, X0 + 4:X1 - 4] = True
    assert (band & inside).sum() == inside.sum()  # the union covers the stalk's inside
    one = retouch(rgb, cutout, strokes[:1]).alpha
    both = retouch(rgb, cutout, strokes).alpha
    assert one[inside].mean() >= 240
    assert both[inside].mean() >= 240  # the old code: 106-124
    assert (both[inside] < 200).mean() < 0.03  # the old code: all of it


def test_it_still_fades_a_hair_clump_filled_solid_under_two_overlapping_detail_strokes():
    # the known core is what an earlier stroke left solid *and* the photo calls the part's own
    # colour: a clump the model filled solid shows the backdrop between its strands, so the
    # joined re-solve still opens its gaps
    rng = np.random.default_rng(0)
    sky = np.array((170, 200, 235), np.float32) + rng.normal(0, 3, (H, W, 3))
    hair = np.array((70, 45, 30), np.float32)
    truth = np.zeros((H, W), np.float32)
    for x in range(X0, X1, 4):
        truth[20:, x:x + 2] = 1.0
    truth[150:, 20:180] = 1.0
    rgb = np.clip(truth[..., None] * hair + (1 - truth[..., None]) * sky, 0, 255).astype(np.uint8)
    cutout = np.zeros((H, W), np.uint8)
    cutout[20:, X0:X1] = 255  # the clump filled solid
    cutout[150:, 20:180] = 255
    got = retouch(rgb, cutout, sides()).alpha
    gaps = np.zeros((H, W), bool)
    gaps[30:140, X0 + 4:X1 - 4] = truth[30:140, X0 + 4:X1 - 4] == 0
    assert got[gaps].mean() < 0.5 * 255

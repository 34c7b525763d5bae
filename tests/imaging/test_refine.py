"""Shaping maps computed in the gate's box: the same bits as on the whole frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cutouts.imaging import refine


def _scene(seed: int, h: int = 240, w: int = 360) -> np.ndarray:
    """A model-like probability: soft blobs, a thin strap, faint haze and tiny noise."""
    rng = np.random.default_rng(seed)
    prob = np.zeros((h, w), np.float32)
    for _ in range(3):
        cv2.circle(prob, (int(rng.integers(60, w - 60)), int(rng.integers(50, h - 50))),
                   int(rng.integers(10, 40)), float(rng.uniform(0.5, 1.0)), -1)
    cv2.line(prob, (30, 30), (int(w * 0.6), int(h * 0.4)), 0.7, 2)
    prob = cv2.GaussianBlur(prob, (0, 0), 2.5)
    prob += rng.uniform(0, 1e-3, prob.shape).astype(np.float32)  # the model's background
    return np.clip(prob, 0, 1)


@pytest.mark.parametrize("seed", range(4))
def test_it_computes_the_gate_in_its_box_exactly(seed):
    prob, mpx = _scene(seed), 3.0
    box = refine.gate_box(prob, mpx)
    assert box is not None
    y0, y1, x0, x1 = box
    assert (y1 - y0) * (x1 - x0) < prob.size  # the box leaves part of the frame out
    np.testing.assert_array_equal(refine.transition_gate(prob, mpx, box=box),
                                  refine.transition_gate(prob, mpx))


@pytest.mark.parametrize("seed", range(4))
def test_it_shapes_only_inside_the_gate_box_and_gives_the_same_bits(seed):
    prob, mpx = _scene(seed), 3.0
    box = refine.gate_box(prob, mpx)
    gate = refine.transition_gate(prob, mpx)
    thin = refine.thin_structure_weight(prob, mpx)
    whole = refine.shape_alpha(prob, 0.5, 4.0, gate, thin)
    # the thin weight is exact only in the (padded) box; outside, shaping returns prob anyway
    thin_boxed = refine.thin_structure_weight(prob, mpx, box=refine.pad_box(box, 2, prob.shape))
    assert not np.array_equal(thin_boxed, thin)  # the haze outside the box has a weight
    boxed = refine.shape_alpha_in(prob, 0.5, 4.0, gate, thin_boxed, box)
    np.testing.assert_array_equal(boxed, whole)


def test_it_computes_the_thin_weight_exactly_inside_its_box():
    prob, mpx = _scene(7), 4.0
    box = (40, 200, 50, 300)
    y0, y1, x0, x1 = box
    boxed = refine.thin_structure_weight(prob, mpx, box=box)
    np.testing.assert_array_equal(boxed[y0:y1, x0:x1],
                                  refine.thin_structure_weight(prob, mpx)[y0:y1, x0:x1])
    assert not boxed[:y0].any() and not boxed[:, x1:].any()


def test_it_has_no_gate_box_without_an_edge():
    assert refine.gate_box(np.full((50, 60), 0.2, np.float32), 2.0) is None
    assert not refine.transition_gate(np.full((50, 60), 0.2, np.float32), 2.0).any()


def _shape_reference(prob, threshold, gain, gate, thin):
    """``shape_alpha`` written as one expression per step (a temporary per operation)."""
    lut = refine._shaping_lut(threshold, gain)
    shaped = lut[np.clip(prob * refine.LUT_SIZE + 0.5, 0, refine.LUT_SIZE).astype(np.int32)]
    if gate is not None:
        gate = np.maximum(gate, np.clip((prob - threshold - refine.PLATEAU_START)
                                        * (1.0 / refine.PLATEAU_SPAN), 0, 1))
        shaped = gate * shaped + (1.0 - gate) * prob
    if thin is not None:
        shaped = shaped + thin * np.maximum(prob - shaped, 0.0)
    return shaped.astype(np.float32)


@pytest.mark.parametrize("with_gate", [True, False])
@pytest.mark.parametrize("with_thin", [True, False])
def test_it_shapes_float32_maps_in_place_to_the_same_bits(with_gate, with_thin):
    rng = np.random.default_rng(11)
    prob = _scene(3)
    prob[:4] = rng.random((4, prob.shape[1]), dtype=np.float32)
    gate = rng.random(prob.shape, dtype=np.float32) if with_gate else None
    thin = rng.random(prob.shape, dtype=np.float32) if with_thin else None
    inputs = [m.copy() for m in (prob, gate, thin) if m is not None]
    for threshold, gain in ((0.5, 4.0), (0.3, 11.0)):
        out = refine.shape_alpha(prob, threshold, gain, gate, thin)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, _shape_reference(prob, threshold, gain, gate, thin))
    for before, after in zip(inputs, [m for m in (prob, gate, thin) if m is not None],
                             strict=True):
        np.testing.assert_array_equal(before, after)  # the maps are read, never written

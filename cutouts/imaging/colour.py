"""Colour read from the photo itself: a per-photo model of object and background, and the local
mean colour of a set of pixels (``local_colour``, one estimate for the retouch guards).

The mirrored model pass sees the same 320 px squash as the full-frame pass, so where the two
disagree there is no third vote among the passes. The photo's own colours are one: the
pixels both passes are sure of (object >= 0.9, background <= 0.1) give an object and a
background colour histogram (GrabCut's idea, without its graph cut), and a region where one
pass sees the object and the other does not takes the pass whose answer its colours support
-- a ghost or a merged neighbour in the background's colours goes, a missed part in the
object's colours comes back -- and the mean of the two where its colours do not clearly say.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

SURE_OBJECT, SURE_BACKGROUND = 0.9, 0.1
BINS = 16  # per RGB channel
# fewer sure pixels of a class than this (model px, ~0.2 % of the 320 px square): no model
MIN_SURE = 200
# the sure object must be at least this share of what either pass sees as object: below it
# the model is unsure of the whole subject and its few sure pixels are no sample of its
# colours (soft-dev: a plant whose passes agree on 1 % of it; dev: a 0.04-0.13 gap)
MIN_SURE_SHARE = 0.1
SEED_DIFF = 0.1  # a disagreement region: |p - p_mirrored| > this, connected
MIN_STRADDLE = 4  # ... with at least this many model px where the passes fall on both sides of 0.5
LLR_VOTE = 3.0  # mean log-likelihood ratio (nats) beyond which the colours decide


class ColourModel:
    """Smoothed 3-D RGB histograms of the sure object and the sure background; ``llr`` is
    log p(colour | object) - log p(colour | background) per pixel."""

    def __init__(self, rgb: np.ndarray, obj: np.ndarray, bg: np.ndarray, bins: int = BINS):
        self.bins = bins
        self.shift = 8 - int(np.log2(bins))
        idx = self._index(rgb)
        n = bins ** 3
        hists = []
        for sel in (obj, bg):
            h = np.bincount(idx[sel], minlength=n).astype(np.float64)
            total = max(h.sum(), 1.0)
            # a little mass to every colour (a bin neither class has seen says nothing)
            h = _smooth(h.reshape((bins,) * 3)).ravel() + 0.01 * total / n
            hists.append(h / h.sum())
        self.table = (np.log(hists[0]) - np.log(hists[1])).astype(np.float32)

    def _index(self, rgb: np.ndarray) -> np.ndarray:
        q = (rgb >> self.shift).astype(np.int32)
        idx: np.ndarray = (q[..., 0] * self.bins + q[..., 1]) * self.bins + q[..., 2]
        return idx

    def llr(self, rgb: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.table[self._index(rgb)]
        return out


def _smooth(h: np.ndarray) -> np.ndarray:
    """[1, 2, 1] / 4 along each axis (zero beyond the cube): neighbouring bins share counts,
    so a colour a bin away from the sample is not unseen."""
    for ax in range(3):
        out = 0.5 * h
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[ax], hi[ax] = slice(1, None), slice(None, -1)
        out[tuple(lo)] += 0.25 * h[tuple(hi)]
        out[tuple(hi)] += 0.25 * h[tuple(lo)]
        h = out
    return h


def colour_model(rgb: np.ndarray, p: np.ndarray, p_mirrored: np.ndarray) -> ColourModel | None:
    """The model from the pixels both passes are sure of (one model px in from each class's
    border: mixed edge colours stay out), or None when either class or the sure share of the
    object is too small to sample its colours."""
    k = np.ones((3, 3), np.uint8)
    obj = (p >= SURE_OBJECT) & (p_mirrored >= SURE_OBJECT)
    seen = np.count_nonzero((p >= 0.5) | (p_mirrored >= 0.5))
    if np.count_nonzero(obj) < MIN_SURE_SHARE * seen:
        return None
    obj = cv2.erode(obj.view(np.uint8), k).astype(bool)
    bg = cv2.erode(((p <= SURE_BACKGROUND) & (p_mirrored <= SURE_BACKGROUND)).view(np.uint8),
                   k).astype(bool)
    if np.count_nonzero(obj) < MIN_SURE or np.count_nonzero(bg) < MIN_SURE:
        return None
    return ColourModel(rgb, obj, bg)


def mirrored_vote(p: np.ndarray, p_mirrored: np.ndarray, rgb: np.ndarray,
                  vote: float = LLR_VOTE) -> np.ndarray:
    """Fuse a pass and its mirrored pass (both (S, S), ``rgb`` the (S, S, 3) squash they saw):
    their mean, except in each connected region where they differ and fall on both sides of
    0.5, which takes the higher pass when its mean colour log-likelihood ratio is >= ``vote``
    and the lower one when it is <= -``vote``. A region starts where the passes differ by
    ``SEED_DIFF``, so the switch from the mean is a step of at most half that."""
    mean: np.ndarray = 0.5 * (p + p_mirrored)
    diff = np.abs(p - p_mirrored)
    n, labels = cv2.connectedComponents((diff > SEED_DIFF).view(np.uint8), connectivity=8)
    if n <= 1:
        return mean
    both = (np.maximum(p, p_mirrored) >= 0.5) & (np.minimum(p, p_mirrored) < 0.5)
    idx = labels.ravel()
    straddle = np.bincount(idx, weights=both.ravel(), minlength=n) >= MIN_STRADDLE
    straddle[0] = False
    if not straddle.any():
        return mean
    model = colour_model(rgb, p, p_mirrored)
    if model is None:
        return mean
    count = np.maximum(np.bincount(idx, minlength=n), 1)
    llr = np.bincount(idx, weights=model.llr(rgb).ravel(), minlength=n) / count
    side = np.zeros(n, np.float32)
    side[straddle & (llr >= vote)] = 1.0
    side[straddle & (llr <= -vote)] = -1.0
    if not side.any():
        return mean
    out: np.ndarray = (mean + side[labels] * (0.5 * diff)).astype(np.float32)
    return out


class LocalColour(NamedTuple):
    weight: np.ndarray  # (H, W) float32: the mask under the Gaussian (0..1)
    mean: np.ndarray  # (H, W, C) float32: the mask's mean colour round each pixel
    spread: np.ndarray | None  # (H, W): its standard deviation (norm over C), if asked for


def local_colour(img: np.ndarray, mask: np.ndarray, sigma: float, *, whole: float = 0.0,
                 spread: bool = False) -> LocalColour:
    """The colour of ``mask``'s pixels (bool, (H, W)) round each pixel of ``img`` ((H, W, C)
    float32, e.g. Lab): their normalised Gaussian average over ``sigma`` px. With ``whole`` > 0
    their mean over the whole image is mixed in at that weight (a pixel with few of them near
    gets their overall colour, not an empty average's 0 / 1e-6); without it the weight is
    floored at 1e-6. ``spread``: also their standard deviation there (not with ``whole``).

    One formula for the retouch's local colour reads (the haze gap in ``retouch``, the crisp
    edge's sides and the local backdrop in ``retouch_detail``): written out at each, they had
    drifted apart in their extras only."""
    m = mask.astype(np.float32)
    wgt = cv2.GaussianBlur(m, (0, 0), sigma)
    num = cv2.GaussianBlur(img * m[..., None], (0, 0), sigma)
    if whole > 0:
        if spread:
            raise ValueError("local_colour: no spread with a whole-image mean")
        mean = (num + whole * img[mask].mean(axis=0)) / (wgt[..., None] + whole)
        return LocalColour(wgt, mean, None)
    den = np.maximum(wgt, 1e-6)[..., None]
    mean = num / den
    std = None
    if spread:
        sq = cv2.GaussianBlur(img * img * m[..., None], (0, 0), sigma) / den
        std = np.sqrt(np.maximum(sq - mean * mean, 0).sum(axis=2))
    return LocalColour(wgt, mean, std)

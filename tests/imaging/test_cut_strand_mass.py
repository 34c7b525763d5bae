"""A painted remove stroke over backdrop the cutout held wrongly beside a product's strands, where
the model held the strands as one soft mass (QA qa40b D-A, soft-dev GT27: a remove stroke r 40
on the card and cloth below the wool cut 4 538 strand px up to 131 px to its side). The cut's
prior on a pixel held at ~.67 is weak, so the colour model decides how far the take runs: the
backdrop under the core (a patch of cloth of the strands' own red) and the dark backdrop round
them make the strands backdrop-like, and the take runs up the mass to the kept body. fade40's
compose-side fade (``retouch._fade_plane``) spares only thin parts hanging from a kept body into
old background; a mass of strands side by side is no thin part, and on GT27 its thin pieces are
fragments ringed by the take and kept strands. strand41's rule (the part of the take a radius
and more beyond the brush that the stroke's core does not reach across small colour steps fades
as those strands do) passed these scenes but, run with the session's other rules on dev's painted
protocol, lowered 036, banana3 and 221 (its own old run had been the new code), so it is not
kept: the scenes are strict xfails. docs/review.md, *A remove stroke beside a mass of strands
takes it beyond its brush* (strand41). Drawn in memory."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 220, 260
R = 30.0


def strand_scene(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A pale body along the top; below it ten dark strands (8 px, a darker seam between each)
    side by side down to the bottom over a dark slate backdrop; a pale card lower left, touching
    the strands, with a patch of cloth of the strands' red. The cutout holds the body solid, the
    strands at 170 and the card (wrongly) at 165. Returns the photo, the cutout's alpha, the
    strands and the card."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = (60, 62, 75)
    card = np.zeros((H, W), bool)
    card[130:, :150] = True
    rgb[card] = (205, 208, 215)
    rgb[150:, 55:80] = (112, 32, 42)  # the cloth, under the stroke's core
    strands = np.zeros((H, W), bool)
    strands[60:, 150:240] = True
    for i, x in enumerate(range(150, 240, 9)):
        rgb[60:, x:x + 8] = ((112, 32, 42), (95, 45, 40), (120, 40, 60))[i % 3]
        rgb[60:, x + 8] = (60, 25, 30)
    body = np.zeros((H, W), bool)
    body[10:60, 60:250] = True
    rgb[body] = (220, 200, 150)
    rgb = np.clip(rgb + rng.normal(0, 3.0, rgb.shape), 0, 255).astype(np.uint8)
    alpha = np.zeros((H, W), np.uint8)
    alpha[card] = 165
    alpha[strands] = 170
    alpha[body] = 255
    return rgb, alpha, strands, card


def stroke() -> Stroke:
    # along the card, its brush ending 10 px short of the strands
    return Stroke("remove", R, tuple((20 + t * 90, 185.0) for t in np.linspace(0, 1, 10)))


MEASURED = pytest.mark.xfail(strict=True, reason=(
    "measured, not adopted (qa40b D-A, strand41): the take of a strand mass beyond the brush "
    "is cut; the fade rule lowered 036, banana3 and 221 on dev's painted protocol"))


def beyond(mask: np.ndarray, reach: float) -> np.ndarray:
    """The pixels of ``mask`` more than ``reach`` px outside the stroke's brush."""
    brush = rasterise([stroke()], (H, W)) > 0
    d = cv2.distanceTransform((~brush).view(np.uint8), cv2.DIST_L2, 5)
    return mask & (d > reach)


@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_the_card_it_is_drawn_on(seed):
    rgb, alpha, strands, card = strand_scene(seed)
    out = retouch(rgb, alpha, [stroke()]).alpha
    assert int((card & (out < 128)).sum()) > 0.9 * int(card.sum())


@MEASURED
@pytest.mark.parametrize("seed", [0, 1])
def test_it_fades_the_strand_mass_beyond_its_brush(seed):
    rgb, alpha, strands, card = strand_scene(seed)
    out = retouch(rgb, alpha, [stroke()]).alpha
    assert (out <= alpha).all()
    far = beyond(strands, 2.5 * R)  # 7 626 px: the old cut took them all
    assert int((far & (out < 128)).sum()) == 0
    assert int(np.median(out[far])) == 170


@MEASURED
@pytest.mark.parametrize("seed", [0, 1])
def test_it_takes_the_backdrop_it_continues_far_beyond_its_brush(seed):
    # a short stroke at the card's far end: the card beyond the brush, up to ~110 px out, is
    # what the stroke is painted over (reached across small colour steps): taken, not faded
    rgb, alpha, strands, card = strand_scene(seed)
    short = Stroke("remove", R, tuple((20 + t * 20, 185.0) for t in np.linspace(0, 1, 5)))
    out = retouch(rgb, alpha, [short]).alpha
    assert int((card & (out < 128)).sum()) > 0.9 * int(card.sum())
    assert int((strands & (out < 64)).sum()) < 0.05 * int(strands.sum())


@pytest.mark.xfail(strict=True, reason="open (qa40b D-A, strand41): the strands within a radius "
                   "and a half of the brush are cut, not faded")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_leaves_the_strand_mass_beside_its_brush(seed):
    rgb, alpha, strands, card = strand_scene(seed)
    out = retouch(rgb, alpha, [stroke()]).alpha
    # 14 310 of the 14 400 strand px go below 64 (2 878 with strand41's rule)
    assert int((strands & (out < 64)).sum()) < 0.1 * int(strands.sum())

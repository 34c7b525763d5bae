"""A detail stroke must not write the matte's haze over a clean backdrop (QA F4, soft-dev GT05:
grey smudges of the dark buildings beside a plush toy's coat), and must still write a faint
strand the model had cut."""

import numpy as np

from cutouts.imaging import matting
from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke

H, W, EDGE = 112, 80, 40  # small enough that the piece's crop is the whole image
STRAND = (slice(30, 32), slice(EDGE + 3, EDGE + 11))
BLOB_AT = (75, EDGE + 6)


def _scene(seed: int):
    """A brown product left of x = EDGE on a light sky, a 2 px strand of 40 % brown sticking out
    of it (rows 30-31); the cutout holds the product solid and everything else clear."""
    rng = np.random.default_rng(seed)
    sky = np.array([190.0, 200.0, 212.0], np.float32)
    coat = np.array([92.0, 58.0, 34.0], np.float32)
    a = np.zeros((H, W), np.float32)
    a[:, :EDGE] = 1.0
    a[STRAND] = 0.4
    rgb = a[..., None] * coat + (1 - a[..., None]) * sky + rng.normal(0, 3.0, (H, W, 3))
    cut = np.where(a >= 0.5, 255, 0).astype(np.uint8)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8), a, cut


def _hazy_solve(crop, trimap, **kw):
    """The matte as closed-form matting leaves it here: the strand at its mix, and beside the
    edge a smooth blob of 0.35 over pixels of the sky's colour (the haze)."""
    assert crop.shape[:2] == (H, W)  # the crop is the image: positions are the image's
    out = np.where(trimap == 128, 0.0, trimap / 255.0).astype(np.float32)
    yy, xx = np.mgrid[:H, :W]
    free = trimap == 128
    out[free & (xx < EDGE)] = 1.0
    blob = 0.35 * np.exp(-((yy - BLOB_AT[0]) ** 2 + (xx - BLOB_AT[1]) ** 2) / (2 * 3.5**2))
    right = free & (xx >= EDGE)
    out[right] = blob[right]
    out[STRAND] = np.where(free[STRAND], 0.4, out[STRAND])
    return out


def test_it_drops_a_haze_blob_of_the_backdrops_colour_but_keeps_a_strand(monkeypatch):
    # the old code wrote the blob (up to 0.35 on pixels of the sky's colour the cutout held
    # clear): its core is solved well inside the mix, so the haze guard took it for structure
    monkeypatch.setattr(matting, "solve_alpha", _hazy_solve)
    for seed in range(3):
        rgb, a, cut = _scene(seed)
        stroke = Stroke("detail", 12.0, ((float(EDGE), 20.0), (float(EDGE), 92.0)))
        out = retouch(rgb, cut, [stroke]).alpha
        # beyond the product's own 2 px rim (the matte's to draw) the sky stays clear
        sky = np.zeros((H, W), bool)
        sky[60:90, EDGE + 3 :] = True
        assert int(out[sky].max()) <= 8, (seed, int(out[sky].max()))
        # the strand the model cut comes back: its colour is the product's mixed in
        assert out[STRAND].min() >= 0.3 * 255, (seed, out[STRAND])

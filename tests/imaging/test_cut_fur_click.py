"""A keep click in a furry product's soft fringe (QA qa39b W6, soft-dev GT15: a click at the tip of
the bunny's fur in shadow, held by the model at ~56 under its brush) makes the fringe solid up
to 89 px beyond its brush: the cut runs on past the fur's tips into backdrop the model held
clear, because the backdrop there is the shadowed fur's colour (SAD 10.23 -> 11.83), and the fur
the model held faint beyond the brush goes solid too instead of fading. Open: strict xfails.
Leaving what the model held clear beyond a fringe click as it was fixed the first (GT15 11.83 ->
9.54 SAD) but cost four soft-dev photos of the detail protocol (its thick part only: GT27 and
dev 036); a matting solve for the second faded the solid strands the model held faint
(docs/review.md § The retouch engine, 2026-12-06 fur40). The scene is drawn in memory: dark
strands on a mottled backdrop whose dark patches are the strands' colour, the model's alpha a
ramp that ends before the strands do."""

import cv2
import numpy as np
import pytest

from cutouts.imaging.retouch import retouch
from cutouts.imaging.strokes import Stroke, rasterise

H, W = 240, 320
CX, CY, R, F = 110, 120, 60, 30  # the body's centre and radius, the strands' length


def fur_scene(seed):
    """A solid body (disk) with a fringe of thin dark strands up to F px long on a mottled
    backdrop whose dark patches are the strands' colour; the model holds the body solid and
    the fringe as a ramp from ~130 at the body to 0 at R + F. Returns the photo, the model's
    alpha and the truth (uint8)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    d = np.hypot(yy - CY, xx - CX)
    m = cv2.GaussianBlur(rng.normal(0, 1, (H, W)).astype(np.float32), (0, 0), 6)
    m = np.clip(m / m.std() * 0.4 + 0.5, 0, 1)[..., None]
    back = m * np.float32((200, 120, 60)) + (1 - m) * np.float32((105, 78, 55))
    strands = np.zeros((H, W), np.float32)
    for _ in range(400):
        t = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(0.3, 1.0) * F
        t2 = t + rng.normal(0, 0.08)
        p0 = (int(CX + (R - 5) * np.cos(t)), int(CY + (R - 5) * np.sin(t)))
        p1 = (int(CX + (R + length) * np.cos(t2)), int(CY + (R + length) * np.sin(t2)))
        cv2.line(strands, p0, p1, 1.0, 1, cv2.LINE_AA)
    truth = np.clip(strands, 0, 1)
    truth[d <= R] = 1.0
    rgb = truth[..., None] * np.float32((110, 80, 55)) + (1 - truth[..., None]) * back
    photo = np.clip(rgb + rng.normal(0, 2, rgb.shape), 0, 255).astype(np.uint8)
    a = np.zeros((H, W), np.float32)
    a[d <= R] = 255
    ring = (d > R) & (d <= R + F)
    a[ring] = 130 - (d[ring] - R) * 130 / F
    alpha = np.clip(cv2.GaussianBlur(a, (0, 0), 2), 0, 255).astype(np.uint8)
    return photo, alpha, (truth * 255).astype(np.uint8)


CLICKS = [Stroke("keep", 12.0, ((185.0, 120.0),)), Stroke("keep", 5.0, ((185.0, 120.0),)),
          Stroke("keep", 8.0, ((110.0, 45.0),)), Stroke("keep", 5.0, ((35.0, 120.0),))]
IDS = ["r12", "r5", "r8-top", "r5-left"]


def _beyond(st, px=3.0):
    brush = rasterise([st], (H, W)) > 0
    return cv2.distanceTransform((~brush).view(np.uint8), cv2.DIST_L2, 5) > px


@pytest.mark.parametrize("seed", [0, 1])
def test_it_clicks_on_a_fringe_the_model_holds_faint(seed):
    # the scene's premise: each click lands on the ramp, clear of the body, where the model
    # holds the fur faint, and the backdrop the model holds clear lies within reach beyond it
    photo, alpha, truth = fur_scene(seed)
    for st in CLICKS:
        x, y = (int(v) for v in st.points[0])
        assert 32 <= alpha[y, x] < 128
        assert (truth[~_beyond(st, 0.0)] < 255).mean() > 0.3


@pytest.mark.xfail(strict=True, reason="open: a keep click on the fringe makes solid the backdrop "
                   "the model held clear beyond its brush (GT15: 2 600 px, three quarters truth "
                   "0, up to 89 px out); leaving it as it was cost four soft-dev photos of the "
                   "detail protocol, whose clicks on dropped parts beside a faint region add "
                   "clear pixels that are object (docs/review.md § The retouch engine, "
                   "2026-12-06 fur40)")
@pytest.mark.parametrize("st", CLICKS, ids=IDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_it_makes_no_backdrop_the_model_held_clear_solid_beyond_a_fringe_click(seed, st):
    photo, alpha, truth = fur_scene(seed)
    out = retouch(photo, alpha.copy(), [st]).alpha
    assert (out >= alpha).all()  # a keep click only raises
    # (13-160 px of it, up to 30 px beyond the brush)
    assert not ((out > alpha) & (alpha < 32) & _beyond(st)).any()
    # and it still raises the fur the model held faint beside its brush
    assert ((out > alpha) & _beyond(st) & (alpha >= 32)).sum() > 100


@pytest.mark.xfail(strict=True, reason="open: the fur the model held faint beyond a keep click's "
                   "brush is made solid, not faded (GT15: ~3 100 px, truth mean 134-226); a "
                   "matting solve there faded it but also the solid strands of GT27 and GT17 "
                   "the model held faint (docs/review.md § The retouch engine, 2026-12-06 fur40)")
@pytest.mark.parametrize("seed", [0, 1])
def test_it_fades_the_fur_beyond_a_keep_click_instead_of_making_it_solid(seed):
    photo, alpha, truth = fur_scene(seed)
    st = CLICKS[0]
    out = retouch(photo, alpha.copy(), [st]).alpha
    assert ((out >= 250) & (alpha < 250) & (truth < 200) & _beyond(st)).sum() <= 3

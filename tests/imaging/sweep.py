"""A product photographed on a white sweep with a soft contact shadow, built in memory for the
kept-shadow tests (tests/imaging/test_shadow.py, tests/variants/test_compliance.py)."""

from __future__ import annotations

import cv2
import numpy as np

PRODUCT = np.array([40, 52, 140], np.float32)  # a dark blue mug, taller than wide
H, W = 600, 800
#: the product's box (x0, y0, x1, y1), x1/y1 exclusive
BOX = (280, 110, 520, 450)


def _antialiased(draw, h: int = H, w: int = W, scale: int = 4) -> np.ndarray:
    big = np.zeros((h * scale, w * scale), np.float32)
    draw(big, scale)
    return cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)


def product_alpha() -> np.ndarray:
    """The product's true soft alpha: a box with an elliptical rim on top, edges antialiased."""
    x0, y0, x1, y1 = BOX

    def draw(a: np.ndarray, s: int) -> None:
        cv2.rectangle(a, (x0 * s, (y0 + 20) * s), (x1 * s - 1, y1 * s - 1), 1.0, -1)
        cv2.ellipse(a, ((x0 + x1) // 2 * s, (y0 + 20) * s), ((x1 - x0) // 2 * s, 20 * s),
                    0, 0, 360, 1.0, -1)

    return _antialiased(draw)


def contact_shade() -> np.ndarray:
    """How much the sweep is darkened (0..1): a soft shadow wider than the base that wraps it
    (it rises beside the product's lower part) and is darkest right at the contact line."""
    x0, _, x1, y1 = BOX
    ow = x1 - x0
    ellipse = np.zeros((H, W), np.float32)
    cv2.ellipse(ellipse, ((x0 + x1) // 2, y1 - 10), (int(0.6 * ow), 40), 0, 0, 360, 1.0, -1)
    ellipse = cv2.GaussianBlur(ellipse, (0, 0), 9)
    rows = np.arange(H, dtype=np.float32)[:, None]
    contact = 0.65 + 0.35 * np.exp(-np.maximum(0.0, rows - y1) / 12.0)
    return (0.5 * ellipse * contact).astype(np.float32)


def sweep_scene(shadow: bool = True, stain: bool = False, seed: int = 0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rgb uint8, true alpha float32, shade float32). The sweep is near white with a faint
    vignette and a top-to-bottom gradient (as a real backdrop falls off) and a little noise;
    ``stain`` adds a dark mark on the sweep beside the product's base, detached from it and
    from its shadow."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r2 = ((xx - W / 2) / (W / 2)) ** 2 + ((yy - H / 2) / (H / 2)) ** 2
    backdrop = 248.0 - 10.0 * r2 - 5.0 * yy / H
    shade = contact_shade() if shadow else np.zeros((H, W), np.float32)
    if stain:
        spot = np.zeros((H, W), np.float32)
        cv2.circle(spot, (BOX[2] + 70, BOX[3] - 40), 10, 1.0, -1)
        shade = np.maximum(shade, cv2.GaussianBlur(spot, (0, 0), 3) * 0.35)
    sweep = (backdrop * (1.0 - shade))[..., None]
    alpha = product_alpha()
    a = alpha[..., None]
    out = a * PRODUCT + (1.0 - a) * sweep
    out += np.random.default_rng(seed).normal(0.0, 1.2, out.shape).astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), alpha, shade

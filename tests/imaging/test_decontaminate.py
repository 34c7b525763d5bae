import numpy as np
import pytest

from cutouts.imaging import matting
from cutouts.imaging.decontaminate import decontaminate_into

RED = np.array([200, 30, 30], np.float32)
WHITE = np.array([250, 250, 250], np.float32)


def red_disc_on_white(h=700, w=901, rim=20):
    """A red disc with a soft rim on a white backdrop, the rim mixing the two; uint8 alpha."""
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    a = np.clip((min(h, w) * 0.42 - np.hypot(yy - h / 2, xx - w / 2)) / rim, 0, 1)
    rng = np.random.default_rng(3)
    fg = RED + rng.normal(0, 6, (h, w, 3))
    rgb = np.clip(a[..., None] * fg + (1 - a[..., None]) * WHITE, 0, 255).astype(np.uint8)
    alpha = np.round(a * 255).astype(np.uint8)
    rgba = np.dstack([rgb * (alpha > 0)[..., None], alpha]).astype(np.uint8)
    return rgba, rgb, alpha


def test_it_decontaminates_only_the_rim_and_removes_the_white():
    rgba, rgb, alpha = red_disc_on_white()
    out = rgba.copy()
    decontaminate_into(out, rgb, alpha, tile=256)
    soft = (alpha > 0) & (alpha < 255)
    np.testing.assert_array_equal(out[~soft], rgba[~soft])
    rim = (alpha > 60) & (alpha < 200)
    assert rgb[rim][:, 1].astype(np.float32).mean() > 90  # the observed rim is pink
    assert np.abs(out[rim][:, :3] - RED).mean() < 25  # the estimate is red again


def test_it_decontaminates_the_same_whatever_the_tile_size():
    rgba, rgb, alpha = red_disc_on_white()
    outs = []
    for tile in (256, 300, 4096):  # 300: tiles not on the coarse grid
        out = rgba.copy()
        decontaminate_into(out, rgb, alpha, tile=tile)
        outs.append(out)
    np.testing.assert_array_equal(outs[0], outs[2])
    np.testing.assert_array_equal(outs[1], outs[2])


def test_it_unmixes_only_the_core_it_is_given():
    _, rgb, alpha = red_disc_on_white()
    whole = matting.estimate_foreground(rgb, alpha, core=(0, 700, 0, 901))
    core = (300, 600, 150, 420)
    part = matting.estimate_foreground(rgb, alpha, core=core)
    inside = np.zeros(alpha.shape, bool)
    inside[core[0]:core[1], core[2]:core[3]] = True
    soft = (alpha > 0) & (alpha < 255)
    assert (soft & inside).sum() > 1000 and (soft & ~inside).sum() > 1000
    np.testing.assert_array_equal(part[~inside], rgb[~inside])
    np.testing.assert_array_equal(part[inside], whole[inside])


@pytest.mark.parametrize("core", [None, (0, 700, 0, 901)])
def test_it_reads_uint8_alpha_as_alpha_over_255(core):
    _, rgb, alpha = red_disc_on_white()
    as_float = alpha.astype(np.float32) * np.float32(1 / 255)
    np.testing.assert_array_equal(matting.estimate_foreground(rgb, alpha, core=core),
                                  matting.estimate_foreground(rgb, as_float, core=core))


def test_it_tiles_only_the_rims_box_with_the_whole_frames_result():
    # tiles start at the rim's box (here off the coarse grid), not at the frame's corner
    rgba, rgb, alpha = red_disc_on_white()
    h, w = alpha.shape
    shifted = np.zeros_like(alpha)
    shifted[101:, 202:] = alpha[:h - 101, :w - 202]
    rgba_s = np.dstack([rgb * (shifted > 0)[..., None], shifted]).astype(np.uint8)
    whole = matting.estimate_foreground(rgb, shifted, core=(0, h, 0, w))
    soft = (shifted > 0) & (shifted < 255)
    for tile in (128, 1024):
        out = rgba_s.copy()
        decontaminate_into(out, rgb, shifted, tile=tile)
        np.testing.assert_array_equal(out[soft][:, :3], whole[soft])
        np.testing.assert_array_equal(out[~soft], rgba_s[~soft])

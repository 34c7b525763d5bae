"""The beside protocol: remove clicks on a soft-alpha set's background beside its fine
detail, each scored alone (docs/review.md, *Faint strands beside a remove click*)."""

import json

import cv2
import numpy as np
from PIL import Image

from cutouts.imaging.__main__ import main
from cutouts.imaging.beside_protocol import beside_clicks, run_image, score_click, summarise


def hair_truth(h: int = 120, w: int = 200):
    """Solid left of x = 50, 1 px strands at alpha .25 to x = 90, clear beyond; the trimap's
    band covers the strands. Returns (truth alpha, trimap, soft pixels)."""
    a = np.zeros((h, w), np.float32)
    a[:, :50] = 1.0
    for y in range(10, h, 10):
        cv2.line(a, (50, y), (90, y), 0.25, 1)
    gt = np.round(a * 255).astype(np.uint8)
    trimap = np.where(a >= 1, 255, 0).astype(np.uint8)
    trimap[:, 46:95] = 128
    return gt, trimap, (gt > 0) & (gt < 255)


def test_it_clicks_only_on_clear_background_10_to_30_px_from_the_fine_detail():
    gt, trimap, soft = hair_truth()
    alpha0 = gt.copy()
    alpha0[:, 90:130] = 64  # the cutout's haze beside the strands
    clicks = beside_clicks(gt, trimap, alpha0, per=6)
    d = cv2.distanceTransform((~soft).view(np.uint8), cv2.DIST_L2, 5)
    assert {k for k, _ in clicks} == {"any", "faint"}
    assert len(clicks) == 24  # 6 per radius (5, 12) and kind
    for kind, st in clicks:
        x, y = (int(v) for v in st.points[0])
        assert st.kind == "remove" and gt[y, x] == 0 and trimap[y, x] == 0
        assert 10 <= d[y, x] <= 30
        if kind == "faint":
            # its disk reaches the haze
            assert x + st.radius >= 90
    # seeded: the same clicks every run
    assert [st for _, st in beside_clicks(gt, trimap, alpha0, per=6)] == [st for _, st in clicks]


def test_it_scores_what_a_click_took_from_the_detail_against_the_haze_it_cleared():
    gt, trimap, soft = hair_truth()
    alpha0 = gt.copy()
    alpha0[:, 91:131] = 51  # haze at .2 over 40 columns beside the strands' ends
    alpha0[soft] = 102  # strands held at .4 (truth .25)
    new = alpha0.copy()
    new[:, 70:131] = 0  # the haze and half of every strand taken
    s = score_click(alpha0, new, gt)
    n_strand = int((soft[:, 70:]).sum())
    assert abs(s["fg_lost"] - n_strand * 102 / 255) < 1e-6
    assert abs(s["deficit"] - n_strand * 64 / 255) < 1e-6  # only the part below the truth
    assert s["fg_cut"] == n_strand
    assert abs(s["bg_cleared"] - 120 * 40 * 51 / 255) < 1e-6
    assert s["raised"] == 0
    expect = (n_strand * (64 - (102 - 64)) - 120 * 40 * 51) / 255  # |0-.25| vs |.4-.25|
    assert abs(s["dsad"] - expect) < 1e-6


def test_it_counts_the_clicks_that_take_detail_and_raise_sad():
    gt, trimap, _ = hair_truth()
    alpha0 = gt.copy()
    alpha0[:, 90:130] = 64

    def cut_everything(rgb, alpha, rgba, strokes):
        return np.zeros_like(alpha)

    row = run_image(np.zeros((*gt.shape, 3), np.uint8), alpha0, None, gt, trimap,
                    cut_everything, per=2)
    s = summarise([row])
    assert s["all"]["clicks"] == 8 and s["all"]["changing"] == 8
    # taking the solid part with the haze raises SAD on every click
    assert s["all"]["raising_sad"] == 8 and s["faint"]["clicks"] == 4
    assert s["all"]["fg_cut"] == 8 * int((gt > 0).sum())


def test_it_writes_the_beside_report_from_the_cli(tmp_path, capsys):
    gt, trimap, _ = hair_truth()
    rgb = np.empty((*gt.shape, 3), np.uint8)
    a = gt.astype(np.float32)[..., None] / 255.0
    rgb[...] = np.clip(a * (70, 45, 30) + (1 - a) * (205, 212, 228), 0, 255).astype(np.uint8)
    for sub, img in (("images", rgb), ("alpha", gt), ("trimaps", trimap)):
        (tmp_path / "soft" / sub).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(tmp_path / "soft" / sub / "GT99.png")
    out = tmp_path / "b.json"
    rc = main(["beside", str(tmp_path / "soft"), "--per-image", "1", "--json", str(out),
               "--quiet", "--threads", "1"])
    assert rc == 0
    data = json.loads(out.read_text())
    summary = data["engines"]["retouch"]["summary"]
    assert summary["images"] == 1 and summary["all"]["clicks"] >= 2
    assert {"fg_lost", "deficit", "bg_cleared", "dsad", "raising_sad"} <= set(summary["all"])
    assert "bg_cleared" in capsys.readouterr().out


def strap_truth(h: int = 120, w: int = 200):
    """A solid block with a 4 px strap up from it; the trimap has no band. Returns (truth
    alpha, trimap, strap)."""
    gt = np.zeros((h, w), np.uint8)
    gt[80:, 40:160] = 255
    gt[10:80, 98:102] = 255
    return gt, gt.copy(), (gt > 0) & (np.arange(h)[:, None] < 80)


def test_it_puts_keep_clicks_on_the_background_3_to_8_px_beside_a_dropped_thin_part():
    gt, trimap, strap = strap_truth()
    alpha0 = np.where(strap, 0, gt).astype(np.uint8)  # the cutout dropped the strap
    thin = [st for k, st in beside_clicks(gt, trimap, alpha0, per=5) if k == "thin"]
    assert len(thin) == 10  # 5 per radius
    d = cv2.distanceTransform((~strap).view(np.uint8), cv2.DIST_L2, 5)
    for st in thin:
        x, y = (int(v) for v in st.points[0])
        assert st.kind == "keep" and gt[y, x] == 0
        assert 3 <= d[y, x] <= 8
    # a cutout that holds the strap gets none
    assert not [k for k, _ in beside_clicks(gt, trimap, gt, per=5) if k == "thin"]


def test_it_scores_a_keep_click_by_the_part_it_gave_back_against_the_background_it_added():
    gt, trimap, strap = strap_truth()
    alpha0 = np.where(strap, 0, gt).astype(np.uint8)
    new = alpha0.copy()
    new[strap] = 255
    new[10:20, 110:120] = 255  # and 100 px of background
    s = score_click(alpha0, new, gt)
    assert s["fg_gained"] == int(strap.sum()) and s["bg_added"] == 100
    assert s["dsad"] == 100 - int(strap.sum())
    row = {"clicks": [{"kind": "thin", "x": 0, "y": 0, "radius": 5.0, **s}]}
    t = summarise([row])
    assert t["thin"]["clicks"] == 1 and t["thin"]["gaining"] == 1
    assert t["all"]["clicks"] == 0  # the remove clicks' totals stay theirs

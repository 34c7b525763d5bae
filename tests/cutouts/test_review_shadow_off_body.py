"""The "Shadow off the product" pre-flag (2026-12-07, shadow43; frag42, QA qa42c L7): a
synthetic shadow sits under whatever is lowest, on dev 036 under a kept sign's faint skirt
instead of the bus. Raised only for a version that asked for a synthetic shadow, from the
``shadow_off_body`` signal (``imaging.shadow.shadow_off_body``); a hint, out of the risk.
A retouch redraws a synthetic shadow from its own alpha, so a remove stroke on the stray part
moves the shadow and clears the pre-flag; a kept (natural) shadow is copied (reshadow43)."""

import html
import io

import cv2
import numpy as np
import pytest
from django.core.files.storage import storages
from django.urls import reverse
from PIL import Image

from cutouts import engine
from cutouts.imaging.encode import decode_cutout
from cutouts.imaging.pipeline import shadow_drawn, work_alpha
from cutouts.imaging.settings import CutoutSettings
from cutouts.imaging.shadow import OFF_BODY_SHARE
from cutouts.services import batches, retouch, review, runs
from tests.factories import reviewer
from tests.images import jpeg

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

SIGNALS = {"fragment_count": 1, "edge_support": 0.9, "confidence": 0.95}


def test_it_preflags_a_synthetic_shadow_off_the_main_body():
    off, _ = review.preflags_from_signals({**SIGNALS, "shadow_off_body": 0.36})
    near, _ = review.preflags_from_signals({**SIGNALS, "shadow_off_body": OFF_BODY_SHARE})
    none, _ = review.preflags_from_signals(SIGNALS)  # no synthetic shadow asked for
    assert "shadow_off_body" in off
    assert "shadow_off_body" not in near and "shadow_off_body" not in none


def test_it_keeps_the_shadow_pre_flag_out_of_the_risk():
    # the cut may be right: it is the shadow that is misplaced
    assert (review.preflags_from_signals({**SIGNALS, "shadow_off_body": 0.5})[1]
            == review.preflags_from_signals(SIGNALS)[1])


def test_it_tells_the_reviewer_both_fixes_that_move_the_shadow():
    words = review.PREFLAGS["shadow_off_body"]
    assert words.startswith("Shadow off the product")
    # a retouch redraws a synthetic shadow from its own alpha; a re-run drops it
    assert "remove the stray part in Retouch" in words and "re-run with Shadow none" in words
    assert "retouch keeps it" not in words


@pytest.mark.parametrize("mode", ["none", "keep", "synthetic"])
def test_it_measures_the_shadow_off_body_only_for_a_synthetic_shadow(make_assets, fake_model,
                                                                       mode):
    cutout = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast",
                                        overrides={"shadow": mode}).cutouts.get()
    assert runs.cutout_run(cutout_id=cutout.pk) == "done"
    cutout.refresh_from_db()
    off = cutout.signals.get("shadow_off_body")
    if mode == "synthetic":
        # the fake model's product is one centred box: its shadow is under it (its soft
        # lower edge moves the centre a row or two)
        assert off is not None and off < OFF_BODY_SHARE, off
    else:
        assert off is None
    # no silhouette measure for the export any more (shadow44): every version stores where
    # each export render's own shadow would lie, measured by the export's region
    assert "contact_off_body" not in cutout.signals
    placed = cutout.signals["export_shadow_off"]
    assert set(placed) == {"trim", "whole", "scene"}
    assert max(placed.values()) < OFF_BODY_SHARE, placed
    assert "shadow_off_body" not in cutout.preflags


W, H = 640, 480
BODY = (160, 120, 480, 330)  # the product: x0, y0, x1, y1 in the photo's pixels
STRAY = (500, 360, 580, 440)  # a kept part lower than it (dev 036: a sign under a bus)


class StraySegmenter:
    """Says 'object' on the product and on the stray part below it."""

    input_size = 320

    def predict(self, rgb):
        mask = np.zeros((H, W), np.float32)
        for x0, y0, x1, y1 in (BODY, STRAY):
            mask[y0:y1, x0:x1] = 1.0
        return cv2.resize(mask, (self.input_size, self.input_size), interpolation=cv2.INTER_AREA)


def _photo(width, height, seed=0):
    # the segmenter's two parts, dark on a light ground (each run's own shade: storage is
    # content-addressed and may be shared by the run)
    pixels = np.full((height, width, 3), 235 - seed % 7, np.uint8)
    for x0, y0, x1, y1 in (BODY, STRAY):
        pixels[y0:y1, x0:x1] = (40, 60, 150)
    return jpeg(Image.fromarray(pixels))


def _layer(name):
    with storages["default"].open(name, "rb") as fh, Image.open(fh) as image:
        return np.asarray(image.convert("L"))


def _centre(layer):
    ys, xs = np.mgrid[: layer.shape[0], : layer.shape[1]]
    weight = layer.astype(np.float64)
    return (xs * weight).sum() / weight.sum(), (ys * weight).sum() / weight.sum()


def _alpha(cutout):
    with storages["default"].open(cutout.rgba_name, "rb") as fh:
        return decode_cutout(fh)[..., 3]


def _retouched(cutout, strokes):
    new = retouch.cutout_retouch_strokes(cutout=cutout, user=reviewer(), strokes=strokes)
    assert runs.cutout_run(cutout_id=new.pk) == "done"
    new.refresh_from_db()
    return new


REMOVE_STRAY = [{"kind": "remove", "radius": 12, "points": [[540, 400]]}]


@pytest.fixture
def stray_parent(make_assets, monkeypatch):
    def run(shadow):
        segmenter = StraySegmenter()
        monkeypatch.setattr(engine, "segmenter_for",
                            lambda name: (segmenter, engine.model_spec("u2netp")))
        asset = make_assets(1, size=(W, H), photo=_photo)[0]
        cutout = batches.cutout_batch_start(assets=[asset], profile_name="fast",
                                            overrides={"shadow": shadow}).cutouts.get()
        assert runs.cutout_run(cutout_id=cutout.pk) == "done"
        cutout.refresh_from_db()
        return cutout

    return run


def test_it_moves_a_synthetic_shadow_under_the_product_when_a_retouch_removes_the_stray_part(
        client, stray_parent):
    first = stray_parent("synthetic")
    # the parent's shadow lies under the stray part, and says so
    assert first.signals["shadow_off_body"] > OFF_BODY_SHARE
    assert "shadow_off_body" in first.preflags
    x, y = _centre(_layer(first.shadow_name))
    assert x > STRAY[0] and y > STRAY[1]
    new = _retouched(first, REMOVE_STRAY)
    assert not _alpha(new)[STRAY[1]:STRAY[3], STRAY[0]:STRAY[2]].any()  # the part is gone
    # the new version's shadow is drawn from its own alpha: under the product's base
    x, y = _centre(_layer(new.shadow_name))
    assert BODY[0] < x < BODY[2] and abs(y - BODY[3]) < 0.05 * H, (x, y)
    assert new.signals["shadow_off_body"] <= OFF_BODY_SHARE
    assert "shadow_off_body" not in new.preflags
    client.force_login(reviewer())
    page = html.unescape(client.get(reverse("cutouts:review_card", args=[new.pk]))
                         .content.decode())
    assert review.PREFLAGS["shadow_off_body"] not in page


def test_it_redraws_the_synthetic_shadow_a_run_with_that_alpha_would_store(stray_parent):
    first = stray_parent("synthetic")
    settings = CutoutSettings.from_dict(first.settings)
    # the run's own layer is what the retouch's redraw makes of the run's alpha ...
    layer, signals = shadow_drawn(work_alpha(_alpha(first)), settings, None, (H, W))
    assert np.array_equal(layer, _layer(first.shadow_name))
    assert signals["shadow_off_body"] == first.signals["shadow_off_body"]
    # ... and the retouch's layer what it makes of the retouched alpha
    new = _retouched(first, REMOVE_STRAY)
    layer, signals = shadow_drawn(work_alpha(_alpha(new)), settings, None, (H, W))
    assert np.array_equal(layer, _layer(new.shadow_name))
    assert signals["shadow_off_body"] == new.signals["shadow_off_body"]


def test_it_copies_a_natural_shadow_as_it_lies(stray_parent):
    first = stray_parent("keep")
    new = _retouched(first, REMOVE_STRAY)
    assert new.shadow_name and new.shadow_name != first.shadow_name  # each version's own file
    storage = storages["default"]
    with storage.open(first.shadow_name, "rb") as a, storage.open(new.shadow_name, "rb") as b:
        assert a.read() == b.read()  # the photo's shadow, byte for byte
    assert "shadow_off_body" not in new.signals


def _settings_now(cutout, **changes):
    """``cutout`` with its stored run settings changed as an older release would have left them."""
    type(cutout).objects.filter(pk=cutout.pk).update(settings={**cutout.settings, **changes})
    cutout.refresh_from_db()
    return cutout


def test_it_redraws_the_synthetic_shadow_whatever_else_an_old_run_setting_holds(stray_parent):
    first = _settings_now(stray_parent("synthetic"), model="a-model-since-removed",
                          a_setting_since_renamed=1)
    new = _retouched(first, REMOVE_STRAY)
    x, y = _centre(_layer(new.shadow_name))
    assert BODY[0] < x < BODY[2] and abs(y - BODY[3]) < 0.05 * H, (x, y)
    assert new.signals["shadow_off_body"] <= OFF_BODY_SHARE


def test_it_copies_the_layer_when_its_shadow_settings_cannot_redraw_it(stray_parent):
    first = _settings_now(stray_parent("synthetic"), synthetic_shadow={"a_knob_since_gone": 1})
    new = _retouched(first, REMOVE_STRAY)
    storage = storages["default"]
    with storage.open(first.shadow_name, "rb") as a, storage.open(new.shadow_name, "rb") as b:
        assert a.read() == b.read()  # the retouch is not refused for the want of a redraw
    assert "shadow_off_body" not in new.signals


def _export_warned(client, form):
    """The export form's pre-check words for ``form`` (nothing started)."""
    from cutouts.models import ExportJob
    from tests.factories import manager

    client.force_login(manager())
    response = client.post(reverse("cutouts:export_start"), {**form, "destination": "download"})
    assert not ExportJob.objects.exists()
    return html.unescape(response.content.decode())


SPEC = "trim|fill-85|square-800|bg-ffffff|shadow-synthetic|format-jpeg"


def _off_warnings(names):
    from cutouts.selectors import export as export_selectors

    return [w for w in export_selectors.export_image_checks(
        presets=export_selectors.preset_resolve(names=names))
        if w.code == export_selectors.SHADOW_OFF_BODY]


@pytest.mark.parametrize("mode", ["none", "keep", "synthetic"])
def test_it_warns_before_an_export_that_draws_a_synthetic_shadow_under_a_stray_part(
        client, stray_parent, mode):
    """lows44 (2026-12-07): a version exported with ``shadow-synthetic`` got the export's
    shadow under a stray part unwarned; the export's pre-check warns of it for the presets and
    specs that draw one, and a retouch that removes the stray part clears it. Since shadow44
    the measure is the export's own (``export_shadow_off``: placed by the export's region, not
    the cutout's silhouette), for every version whatever its own shadow, and the built-in
    scenes' ``shadow-contact`` is checked too (verify44 M1)."""
    from cutouts.selectors import export as export_selectors

    first = stray_parent(mode)
    assert first.signals["export_shadow_off"]["trim"] > OFF_BODY_SHARE
    assert first.signals["export_shadow_off"]["scene"] > OFF_BODY_SHARE
    review.cutout_approve(cutout=first, user=reviewer())
    sku = first.asset.product.sku
    page = _export_warned(client, {"specs": SPEC})
    assert ("draws a synthetic shadow under whatever is lowest: in 1 image(s) that is a "
            f"stray part, not the product ({sku} MAIN)") in page, page
    assert "remove the stray parts the shadow would lie under in review" in page
    # what ships if exported anyway, named (keepshadow47: "with the shadow under the stray part")
    assert ("those images ship with the shadow the preset draws lying under the stray part, "
            "away from the product") in page
    assert "Export anyway" in page
    # a scene preset's shadow-contact (Square social on white) is the same shadow
    page = _export_warned(client, {"presets": ["social_square"]})
    assert ("Square social" in page and "draws a contact shadow under whatever is lowest: in "
            f"1 image(s) that is a stray part, not the product ({sku} MAIN)") in page, page
    # a preset without a synthetic shadow: not warned of
    assert not _off_warnings([export_selectors.SPEC_PREFIX
                              + SPEC.replace("shadow-synthetic", "shadow-none")])
    # the retouch that takes the stray part away: measured anew, nothing to warn of
    new = _retouched(first, REMOVE_STRAY)
    assert max(new.signals["export_shadow_off"].values()) <= OFF_BODY_SHARE
    review.cutout_approve(cutout=new, user=reviewer())
    assert not _off_warnings([export_selectors.SPEC_PREFIX + SPEC, "social_square"])


def _upload(alpha: np.ndarray) -> bytes:
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[..., :3] = (40, 60, 150)
    rgba[..., 3] = alpha
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    return out.getvalue()


def test_it_does_not_warn_of_a_speck_the_export_draws_no_shadow_under(client, stray_parent):
    """verify44 H1 (dev 135): after the stray plant was removed one pixel at alpha 54 was left
    far below the bike; the silhouette (alpha >= 0.1) counted it, so the pre-check warned
    (1.12) though the export's shadow sat under the bike, and no retouch could clear a 1 px
    speck. The export's region leaves the speck out: so does its measure."""
    from cutouts.imaging.shadow import shadow_off_body

    first = stray_parent("none")
    alpha = np.zeros((H, W), np.uint8)
    x0, y0, x1, y1 = BODY
    alpha[y0:y1, x0:x1] = 255
    alpha[460, 600] = 54  # the speck, far below and beside the product
    new = retouch.cutout_retouch_upload(cutout=first, user=reviewer(), data=_upload(alpha))
    assert runs.cutout_run(cutout_id=new.pk) == "done"
    new.refresh_from_db()
    stored = _alpha(new)
    assert stored[460, 600] == 54  # the speck is in the version (and the export's alpha)
    # what the pre-check read until shadow44 would have warned
    assert shadow_off_body(work_alpha(stored)) > OFF_BODY_SHARE
    assert max(new.signals["export_shadow_off"].values()) <= OFF_BODY_SHARE
    review.cutout_approve(cutout=new, user=reviewer())
    page = _export_warned(client, {"specs": SPEC, "presets": ["social_square"]})
    assert "under whatever is lowest" not in page, page


def test_it_does_not_check_a_version_measured_before_the_exports_own_measure(stray_parent):
    """A version finished before shadow44 holds ``contact_off_body`` (the silhouette's, which
    false-alarmed) and no ``export_shadow_off``: not checked, until ``signals_backfill``
    measures it."""
    from cutouts.models import Cutout

    first = stray_parent("none")
    signals = {k: v for k, v in first.signals.items() if k != "export_shadow_off"}
    Cutout.objects.filter(pk=first.pk).update(signals={**signals, "contact_off_body": 0.9})
    first.refresh_from_db()
    review.cutout_approve(cutout=first, user=reviewer())
    assert not _off_warnings(["spec:" + SPEC, "social_square"])


def test_it_reads_a_renders_stored_measure_and_none_from_an_older_version():
    # the one reader of the stored measure, which the pre-check and the export run share
    # (the selector's pass-through to it went 2026-12-07, reread47)
    from cutouts.variants.compliance import stored_shadow_off

    stored = {"trim": 0.4, "whole": 0.3, "scene": 0.2}
    assert stored_shadow_off(stored, "trim") == 0.4
    assert stored_shadow_off(stored, "scene") == 0.2
    assert stored_shadow_off(stored, None) is None
    assert stored_shadow_off(None, "trim") is None
    assert stored_shadow_off(0.9, "trim") is None  # not a measure per render
    assert stored_shadow_off({"trim": True}, "trim") is None

def test_it_warns_of_a_kept_synthetic_shadow_until_a_retouch_moves_it(stray_parent):
    """verify47 (2026-12-07, keepshadow47): eBay, Etsy, Google Shopping and Shopify keep the
    version's own shadow layer (``shadow-keep``); a synthetic one drawn under the stray part
    shipped there unwarned. The pre-check reads the run's ``shadow_off_body``, the layer's own
    measure; the retouch that removes the stray part redraws the layer under the product and
    clears it. A natural shadow (Shadow keep) is the photo's and is not measured."""
    from cutouts.selectors import export as export_selectors

    first = stray_parent("synthetic")
    review.cutout_approve(cutout=first, user=reviewer())
    assert first.signals["shadow_off_body"] > OFF_BODY_SHARE
    [warning] = _off_warnings(["ebay"])
    assert warning.identifier == export_selectors.KEPT_SHADOW_OFF
    assert warning.skus == [first.asset.product.sku]
    new = _retouched(first, REMOVE_STRAY)
    review.cutout_approve(cutout=new, user=reviewer())
    assert not _off_warnings(["ebay", "etsy", "google_shopping", "shopify"])


def test_it_does_not_warn_of_a_kept_natural_shadow(stray_parent):
    first = stray_parent("keep")
    assert first.shadow_name and "shadow_off_body" not in first.signals
    review.cutout_approve(cutout=first, user=reviewer())
    assert not _off_warnings(["ebay", "etsy", "google_shopping", "shopify"])

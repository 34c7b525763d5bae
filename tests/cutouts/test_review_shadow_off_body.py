"""The "Shadow off the product" pre-flag (2026-12-07, shadow43; frag42, QA qa42c L7): a
synthetic shadow sits under whatever is lowest, on dev 036 under a kept sign's faint skirt
instead of the bus. Raised only for a version that asked for a synthetic shadow, from the
``shadow_off_body`` signal (``imaging.shadow.shadow_off_body``); a hint, out of the risk.
A retouch redraws a synthetic shadow from its own alpha, so a remove stroke on the stray part
moves the shadow and clears the pre-flag; a kept (natural) shadow is copied (reshadow43)."""

import html

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
    contact = cutout.signals.get("contact_off_body")
    if mode == "synthetic":
        # the fake model's product is one centred box: its shadow is under it (its soft
        # lower edge moves the centre a row or two)
        assert off is not None and off < OFF_BODY_SHARE, off
        assert contact is None  # the drawn shadow's own measure says it
    else:
        assert off is None
        # where an export's shadow-synthetic would lie, for its pre-check (lows44)
        assert contact is not None and contact < OFF_BODY_SHARE, contact
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


@pytest.mark.parametrize("mode", ["none", "keep"])
def test_it_warns_before_an_export_that_draws_a_synthetic_shadow_under_a_stray_part(
        client, stray_parent, mode):
    """lows44 (2026-12-07): the "Shadow off the product" pre-flag is raised only for a version
    that drew a synthetic shadow; a Shadow none (or keep) version approved and exported with
    ``shadow-synthetic`` got the export's shadow under the stray part unwarned. Its run
    measures where one would lie (``contact_off_body``, the same ``shadow_off_body`` rule),
    and the export's pre-check warns of it for the presets and specs that draw one; a
    retouch that removes the stray part clears it."""
    from cutouts.models import ExportJob
    from cutouts.selectors import export as export_selectors
    from tests.factories import manager

    first = stray_parent(mode)
    assert first.signals["contact_off_body"] > OFF_BODY_SHARE
    assert "shadow_off_body" not in first.preflags  # no shadow of its own: no pre-flag
    review.cutout_approve(cutout=first, user=reviewer())
    spec = "trim|fill-85|square-800|bg-ffffff|shadow-synthetic|format-jpeg"
    sku = first.asset.product.sku
    client.force_login(manager())
    response = client.post(reverse("cutouts:export_start"), {
        "specs": spec, "destination": "download"})
    page = html.unescape(response.content.decode())
    assert ("draws a synthetic shadow under whatever is lowest: in 1 image(s) that is a "
            f"stray part, not the product ({sku} MAIN)") in page, page
    assert "remove the stray parts the shadow would lie under in review" in page
    assert "Export anyway" in page and not ExportJob.objects.exists()
    # a preset without a synthetic shadow: not warned of
    quiet = export_selectors.export_image_checks(presets=export_selectors.preset_resolve(
        names=[export_selectors.SPEC_PREFIX + spec.replace("shadow-synthetic", "shadow-none")]))
    assert not [w for w in quiet if w.code == export_selectors.SHADOW_OFF_BODY]
    # the retouch that takes the stray part away: measured anew, nothing to warn of
    new = _retouched(first, REMOVE_STRAY)
    assert new.signals["contact_off_body"] <= OFF_BODY_SHARE
    review.cutout_approve(cutout=new, user=reviewer())
    warned = export_selectors.export_image_checks(presets=export_selectors.preset_resolve(
        names=[export_selectors.SPEC_PREFIX + spec]))
    assert not [w for w in warned if w.code == export_selectors.SHADOW_OFF_BODY], warned


def test_it_reads_the_drawn_shadows_measure_first_and_none_from_an_older_version():
    from cutouts.selectors.export import shadow_off_body_stored

    assert shadow_off_body_stored(0.4, 0.0) == 0.4
    assert shadow_off_body_stored(None, 0.2) == 0.2
    assert shadow_off_body_stored(None, None) is None
    assert shadow_off_body_stored(True, "x") is None

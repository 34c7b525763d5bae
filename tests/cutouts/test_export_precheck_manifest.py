"""verify45 L3 (2026-12-07, export46): *Export anyway* past the pre-check's "shadow off the
product" shipped the file "ok", with no word of it in manifest.csv nor on the export's page,
while an enlarged or a faint-marked image was recorded there. Every kind of pre-check warning
of the images themselves (``export_selectors.IMAGE_CHECK_CODES``) is held here to reaching the
manifest and the export page's Presets table of an export started anyway: a kind added to
the pre-check without a case here fails the first test."""

import html
import io

import numpy as np
import pytest
from django.core.files.storage import storages
from django.urls import reverse
from PIL import Image

from cutouts.models import ExportJob
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs
from cutouts.variants import PRESETS
from cutouts.variants.compliance import kept_shadow_off, shadow_off_warning
from cutouts.variants.spec import parse_spec
from tests.factories import ProductFactory, manager

from .export_helpers import approved_cutout, cut_off_png, measured, run_job, with_rgba
from .test_export_precheck import _cloudy_png, _ellipse
from .test_export_services import manifest_rows

pytestmark = pytest.mark.django_db

#: a custom spec that draws a synthetic shadow under whatever is lowest in the image
SHADOWED = "trim|fill-85|square-1200|bg-ffffff|shadow-synthetic|format-jpeg"


def _png(alpha: np.ndarray) -> bytes:
    rgba = np.zeros((*alpha.shape, 4), np.uint8)
    rgba[..., :3] = (200, 30, 30)
    rgba[..., 3] = alpha
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    return out.getvalue()


def _stray_png() -> bytes:
    """A product with a stray part lower than it beside it, big enough to be laid out with
    it (over a quarter of its size: no "detached part left out"): the shadow of
    ``shadow-synthetic`` lies under the stray part, 1.1 of the product's size off it."""
    alpha = np.zeros((600, 800), np.uint8)
    alpha[100:380, 150:450] = 255  # the product
    alpha[400:580, 480:660] = 255  # the stray part, lowest
    return _png(alpha)


def _measured(sku: str, data: bytes | None = None, **kwargs):
    cutout = approved_cutout(product=ProductFactory(sku=sku), **kwargs)
    return measured(with_rgba(cutout, data) if data is not None else cutout)


def _too_small():
    return _measured("SMALL-1", _ellipse((800, 600), (340, 222, 461, 379)))


def _faint():
    data, signal = _cloudy_png()
    cutout = _measured("FAINT-1", data)
    cutout.signals = {**cutout.signals, "faint_marks": signal}
    cutout.save(update_fields=["signals"])
    return cutout


#: per pre-check kind: the form's choice that warns of it, the cutout that earns it, and
#: what the manifest's compliance text says of it on that image's row
CASES = {
    export_selectors.TOO_SMALL: ({"presets": ["amazon_main"]}, _too_small,
                                 "over the 8x limit"),
    # the helpers' 800 x 600 cutout is enlarged over 2x on Amazon's square
    export_selectors.ENLARGED: ({"presets": ["amazon_main"]},
                                lambda: _measured("SOFT-1"), "will look soft"),
    export_selectors.FRAME_CUT: ({"presets": ["ebay"]},
                                 lambda: _measured("EDGE-1", cut_off_png()),
                                 "cut off by the photo's edge"),
    export_selectors.FAINT_MARKS: ({"presets": ["amazon_main"]}, _faint,
                                   "faint see-through mark"),
    export_selectors.SHADOW_OFF_BODY: ({"specs": SHADOWED},
                                       lambda: _measured("STRAY-1", _stray_png()),
                                       "shadow lies off the product"),
}


def test_it_has_a_case_for_every_kind_of_image_pre_check():
    assert set(CASES) == set(export_selectors.IMAGE_CHECK_CODES)


@pytest.mark.parametrize("code", list(CASES))
def test_it_records_each_pre_check_warning_of_an_export_started_anyway(client, sent, code):
    choice, make, words = CASES[code]
    cutout = make()
    sku = cutout.asset.product.sku
    client.force_login(manager())
    form = {**choice, "destination": "download"}
    warned = client.post(reverse("cutouts:export_start"), form)
    assert warned.status_code == 200 and not ExportJob.objects.exists()
    presets = export_selectors.preset_resolve(names=[
        *choice.get("presets", []), *(export_selectors.SPEC_PREFIX + s
                                      for s in [choice.get("specs")] if s)])
    kinds = {w.code for w in export_selectors.export_image_checks(presets=presets)}
    assert code in kinds  # the pre-check warned of it
    assert kinds <= set(export_selectors.IMAGE_CHECK_CODES)
    started = client.post(reverse("cutouts:export_start"), {**form, "precheck_ok": "1"})
    assert started.status_code == 302
    job = run_job(ExportJob.objects.get())
    with storages["exports"].open(job.manifest_name, "rb") as fh:
        [row] = [r for r in manifest_rows(fh.read()) if r["sku"] == sku]
    # the manifest says it on the image's row: shipped with the warning, or refused for it
    assert words in row["compliance"] and row["status"] != "ok", row
    # and so does the export page's Presets table, under the image's name
    [result] = export_selectors.export_job_presets(job=job)
    said = [text for line in [*result.reasons, *result.warnings]
            for image, text in line.sentences if image == f"{sku} MAIN"]
    assert any(words in text for text in said), said


def test_it_warns_of_a_shadow_off_the_product_by_the_pre_checks_rule():
    spec = parse_spec(SHADOWED)
    # over OFF_BODY_SHARE (0.10) of the product's size: the pre-check's own threshold
    assert shadow_off_warning(spec, {"trim": 0.11}) is not None
    assert shadow_off_warning(spec, {"trim": 0.10}) is None
    # a version measured before the export's own measure, or a render without the shadow
    assert shadow_off_warning(spec, None) is None
    assert shadow_off_warning(parse_spec("trim|square-1200|bg-ffffff"), {"trim": 0.9}) is None
    # a scene's contact shadow says so in its own word
    scene = PRESETS["social_square"].variant_spec
    assert "contact shadow" in (shadow_off_warning(scene, {"scene": 0.5}) or "")


#: a shadow-keep preset's words for a version whose own synthetic shadow lies off the product
KEPT = "the kept shadow lies off the product, under a stray part"
#: every built-in preset that ships the version's stored shadow layer
KEEPERS = ["ebay", "etsy", "google_shopping", "shopify"]


def _kept(sku: str, off_body: float | None, *, layer: bool = True):
    """An approved version of the stray-part cutout with a stored shadow layer (``layer``)
    and its run's ``shadow_off_body`` (None: a natural shadow, Shadow keep, has none)."""
    cutout = _measured(sku, _stray_png(), shadow=layer)
    if off_body is not None:
        cutout.signals = {**cutout.signals, "shadow_off_body": off_body}
        cutout.save(update_fields=["signals"])
    return cutout


def _off_warnings(names):
    return [w for w in export_selectors.export_image_checks(
        presets=export_selectors.preset_resolve(names=names))
        if w.code == export_selectors.SHADOW_OFF_BODY]


def test_it_judges_a_kept_shadow_by_the_versions_own_measure():
    keep = PRESETS["ebay"].variant_spec
    # the review's pre-flag threshold, on the version's shadow_off_body
    assert KEPT in (shadow_off_warning(keep, None, 0.11) or "")
    assert shadow_off_warning(keep, None, 0.10) is None
    assert shadow_off_warning(keep, None, None) is None  # no layer, or a natural shadow
    # a kept layer is not where the export would draw one: the export's measure says nothing
    # of it, and the kept measure nothing of a shadow the spec draws
    assert shadow_off_warning(keep, {"trim": 0.9, "whole": 0.9, "scene": 0.9}, None) is None
    assert shadow_off_warning(parse_spec(SHADOWED), {"trim": 0.0}, 0.9) is None
    assert shadow_off_warning(parse_spec("trim|square-1200|bg-ffffff"), None, 0.9) is None
    # the measure is read only with a layer to keep, and only as a number
    assert kept_shadow_off(0.5, True) == 0.5
    assert kept_shadow_off(0.5, False) is None
    assert kept_shadow_off(None, True) is None
    assert kept_shadow_off(True, True) is None


def test_it_warns_when_a_preset_keeps_a_synthetic_shadow_that_lies_off_the_product(client, sent):
    # QA verify47, dev 036 (fast, shadow synthetic): the bus's kept sign hangs a skirt below
    # its wheels, the pre-flag says "Shadow off the product"; eBay shipped the file "ok
    # (warnings: faint marks, enlarged)" with the grey ellipse under the skirt, not the bus
    _kept("KEPT-1", 0.5)
    client.force_login(manager())
    form = {"presets": ["ebay"], "destination": "download"}
    warned = client.post(reverse("cutouts:export_start"), form)
    assert warned.status_code == 200 and not ExportJob.objects.exists()
    page = html.unescape(warned.content.decode())
    assert ("eBay keeps the shadow each version stored: in 1 image(s) that is a synthetic "
            "shadow the version drew under a stray part, not the product (KEPT-1 MAIN)"
            ) in page, page
    # the advice names what ships, and the button is there
    assert ("those images ship with the shadow the version kept lying under the stray part, "
            "away from the product") in page
    assert "Export anyway" in page
    [warning] = _off_warnings(["ebay"])
    assert warning.identifier == export_selectors.KEPT_SHADOW_OFF
    assert (warning.count, warning.skus) == (1, ["KEPT-1"])
    started = client.post(reverse("cutouts:export_start"), {**form, "precheck_ok": "1"})
    assert started.status_code == 302
    job = run_job(ExportJob.objects.get())
    with storages["exports"].open(job.manifest_name, "rb") as fh:
        [row] = [r for r in manifest_rows(fh.read()) if r["sku"] == "KEPT-1"]
    # the file shipped with the layer, and its record says where that lies
    assert row["file"] and row["status"] == "ok_warnings", row
    assert KEPT in row["compliance"] and "0.50 of the product's size" in row["compliance"]
    # the export page's Presets table, under the image's name
    [result] = export_selectors.export_job_presets(job=job)
    said = [text for line in result.warnings for image, text in line.sentences
            if image == "KEPT-1 MAIN"]
    assert any(KEPT in text for text in said), said
    # and the contact sheet's chip, which names it (verify48: it read "warning")
    [cell] = [c for c in export_selectors.export_job_sheet(job=job).cells if c.sku == "KEPT-1"]
    assert cell.state == "warning" and KEPT in cell.compliance
    assert cell.label.startswith("⚠ kept shadow off product"), cell.label


def test_it_warns_for_every_preset_that_keeps_the_shadow():
    _kept("KEPT-2", 0.5)
    warned = {w.preset: w for w in _off_warnings(KEEPERS)}
    assert set(warned) == set(KEEPERS)
    assert {w.identifier for w in warned.values()} == {export_selectors.KEPT_SHADOW_OFF}
    # presets that drop the layer (Amazon's main image: shadow-none) are not warned of it
    assert not _off_warnings(["amazon_main", "transparent_png"])


@pytest.mark.parametrize("off_body, layer", [
    (0.05, True),   # the version's synthetic shadow lies under the product
    (None, True),   # a natural shadow (Shadow keep): the photo's own, not measured
    (0.5, False),   # no layer stored: nothing is kept
])
def test_it_does_not_warn_of_a_kept_shadow_under_the_product(client, sent, off_body, layer):
    _kept("UNDER-1", off_body, layer=layer)
    assert not _off_warnings(KEEPERS)
    client.force_login(manager())
    form = {"presets": ["ebay"], "destination": "download"}
    page = html.unescape(client.post(reverse("cutouts:export_start"), form).content.decode())
    assert "keeps the shadow each version stored" not in page
    job = run_job(export_jobs.export_job_create(user=manager(), presets=["ebay"]))
    with storages["exports"].open(job.manifest_name, "rb") as fh:
        [row] = [r for r in manifest_rows(fh.read()) if r["sku"] == "UNDER-1"]
    assert row["file"] and "kept shadow" not in row["compliance"], row

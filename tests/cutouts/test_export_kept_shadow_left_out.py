"""verify48 (2026-12-08): a trimming preset that leaves a far detached stray part out ("1
detached part(s) far from the product were left out") crops away the kept synthetic shadow
the version drew under that part, so eBay's file had no shadow at all, yet its record read
"the kept shadow lies off the product". The render now tells a kept shadow it left out
(``render.kept_shadow_left_out``) and says so instead; the pre-check, which cannot read the
layer, says that it may happen. And the pre-check groups presets that give one warning of the
same images in the same words into one line naming them (verify48 UX)."""

import html
import io
import uuid

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.urls import reverse
from PIL import Image, ImageDraw

from cutouts.models import ExportJob
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs
from cutouts.services.renditions import _Source
from cutouts.variants import PRESETS, render_variant
from cutouts.variants.render import kept_shadow_left_out_warning
from cutouts.variants.warning_kinds import KEPT_SHADOW_LEFT_OUT, warning_titles
from tests.factories import ProductFactory, manager

from .export_helpers import approved_cutout, measured, run_job, with_rgba
from .test_export_services import manifest_rows

pytestmark = pytest.mark.django_db

#: the old words, which were untrue of a file that has no kept shadow
OFF = "the kept shadow lies off the product"
LEFT_OUT = KEPT_SHADOW_LEFT_OUT.head
KEEPERS = ["ebay", "etsy", "google_shopping", "shopify"]


def _images(stray, shadow, product=(100, 50, 500, 350), size=(800, 600)):
    """A cutout (RGBA) with a product and a stray part, and its stored shadow layer (``L``)
    with an ellipse of grey at ``shadow``: where the version's synthetic shadow was drawn."""
    alpha = np.zeros((size[1], size[0]), np.uint8)
    for x0, y0, x1, y1 in (product, stray):
        alpha[y0:y1, x0:x1] = 255
    rgba = np.zeros((size[1], size[0], 4), np.uint8)
    rgba[..., :3] = (200, 30, 30)
    rgba[..., 3] = alpha
    layer = Image.new("L", size, 0)
    ImageDraw.Draw(layer).ellipse(shadow, fill=140)
    return Image.fromarray(rgba, "RGBA"), layer


#: a far stray part below and beside the product (too far and too small for the layout to
#: keep it), the version's shadow drawn under it: far outside every keeper's canvas
FAR = {"stray": (620, 520, 680, 580), "shadow": (600, 570, 700, 595)}


def test_it_says_a_kept_shadow_left_out_with_the_stray_part_instead_of_off_the_product():
    image, layer = _images(**FAR)
    for name in KEEPERS:
        said = render_variant(image, PRESETS[name].variant_spec, shadow=layer).warnings
        assert any("detached part(s) far from the product were left out" in w for w in said)
        assert kept_shadow_left_out_warning() in said, (name, said)
        assert "the product has no shadow in this file" in kept_shadow_left_out_warning()
    # the contact sheet's chip names it
    assert warning_titles(kept_shadow_left_out_warning()) == ["kept shadow left out"]


def test_it_does_not_say_so_while_the_file_still_shows_the_kept_shadow():
    # a tall product: the square canvas shows the photo either side of it, and the far stray
    # part the layout leaves out lies there with its shadow, which the file still shows
    image, layer = _images((520, 440, 560, 500), (505, 495, 575, 515),
                           product=(350, 50, 450, 500))
    said = render_variant(image, PRESETS["ebay"].variant_spec, shadow=layer).warnings
    assert any("were left out" in w for w in said)
    assert not any(w.startswith(LEFT_OUT) for w in said), said
    # a shadow under the product goes nowhere when the stray part is left out
    image, layer = _images(FAR["stray"], (150, 340, 450, 365))
    said = render_variant(image, PRESETS["ebay"].variant_spec, shadow=layer).warnings
    assert not any(w.startswith(LEFT_OUT) for w in said), said
    # nor does anything change for a spec that draws no kept shadow, or without a layer
    image, layer = _images(**FAR)
    said = render_variant(image, PRESETS["amazon_main"].variant_spec, shadow=layer).warnings
    assert not any(w.startswith(LEFT_OUT) for w in said), said
    said = render_variant(image, PRESETS["ebay"].variant_spec).warnings
    assert not any(w.startswith(LEFT_OUT) for w in said), said


def test_it_keeps_the_versions_word_only_for_a_file_that_carries_the_kept_shadow():
    source = _Source(1, "a.png", "s.png", "u2netp", kept_shadow_off=0.5)
    ebay = PRESETS["ebay"]
    assert OFF in export_jobs.stored_warnings(ebay, source)[0]
    assert OFF in export_jobs.stored_warnings(ebay, source, ["the product is enlarged 2x"])[0]
    assert export_jobs.stored_warnings(ebay, source, [kept_shadow_left_out_warning()]) == []


def _png(image: Image.Image, mode: str) -> bytes:
    out = io.BytesIO()
    image.convert(mode).save(out, "PNG")
    return out.getvalue()


def _far_cutout(sku: str):
    image, layer = _images(**FAR)
    cutout = with_rgba(approved_cutout(product=ProductFactory(sku=sku)), _png(image, "RGBA"))
    cutout.shadow_name = storages["default"].save(
        f"cutouts/test/{uuid.uuid4().hex}-shadow.png", ContentFile(_png(layer, "L")))
    cutout.save(update_fields=["shadow_name"])
    cutout = measured(cutout)
    assert cutout.signals["dropped_parts"] == 1
    # the run's measure of its synthetic layer: under the stray part, off the product
    cutout.signals = {**cutout.signals, "shadow_off_body": 0.9}
    cutout.save(update_fields=["signals"])
    return cutout


def test_it_records_a_kept_shadow_left_out_through_the_form_and_the_run(client, sent):
    _far_cutout("FAR-1")
    client.force_login(manager())
    form = {"presets": ["ebay"], "destination": "download"}
    warned = client.post(reverse("cutouts:export_start"), form)
    assert warned.status_code == 200 and not ExportJob.objects.exists()
    page = html.unescape(warned.content.decode())
    # the pre-check reads no layer: it warns by the version's measure and says what it
    # cannot know, that the shadow may go with the far part eBay leaves out
    assert "eBay keeps the shadow each version stored: in 1 image(s)" in page, page
    assert ("or, in it, eBay leaves a far detached part out, and if the shadow lay under that "
            "part it is left out with it: the product then has no shadow in the file") in page
    # and the advice says what ships: that shadow, or none
    assert ("those images ship with the shadow the version kept lying under the stray part, "
            "away from the product, or without the kept shadow where a preset leaves that "
            "part out") in page
    started = client.post(reverse("cutouts:export_start"), {**form, "precheck_ok": "1"})
    assert started.status_code == 302
    job = run_job(ExportJob.objects.get())
    with storages["exports"].open(job.manifest_name, "rb") as fh:
        [row] = [r for r in manifest_rows(fh.read()) if r["sku"] == "FAR-1"]
    # the file has no shadow: its record says that, not that the shadow lies off
    assert row["file"] and row["status"] == "ok_warnings", row
    assert LEFT_OUT in row["compliance"] and OFF not in row["compliance"], row
    [result] = export_selectors.export_job_presets(job=job)
    said = [text for line in result.warnings for image, text in line.sentences
            if image == "FAR-1 MAIN"]
    assert any(LEFT_OUT in text for text in said) and not any(OFF in t for t in said), said
    [cell] = [c for c in export_selectors.export_job_sheet(job=job).cells if c.sku == "FAR-1"]
    assert "kept shadow left out" in cell.label and "kept shadow off" not in cell.label


def _warning(preset: str, message: str, code: str = export_selectors.SHADOW_OFF_BODY):
    return export_selectors.ExportWarning(preset=preset, identifier="kept-shadow-off", count=1,
                                          total=1, skus=["A"], message=message, code=code)


def test_it_groups_presets_that_give_one_warning_of_the_same_images():
    labels = {"ebay": "eBay", "etsy": "Etsy", "google_shopping": "Google Shopping",
              "shopify": "Shopify", "amazon_main": "Amazon"}
    said = "{} keeps the shadow each version stored: in 1 image(s) (A MAIN). Fix it."
    warnings = [_warning(name, said.format(label)) for name, label in labels.items()
                if name != "amazon_main"]
    # another image's warning for one of them, and another kind for another preset
    warnings.insert(1, _warning("etsy", said.format("Etsy").replace("A MAIN", "B MAIN")))
    warnings.append(_warning("amazon_main", "1 image(s) too small for Amazon.", code="size"))
    lines = export_selectors.precheck_lines(warnings, labels)
    assert lines == [
        "eBay, Etsy, Google Shopping, Shopify: each keeps the shadow each version stored: in 1 "
        "image(s) (A MAIN). Fix it.",
        "Etsy keeps the shadow each version stored: in 1 image(s) (B MAIN). Fix it.",
        "1 image(s) too small for Amazon."]
    # a warning that does not name its preset (a naming gap, a spec's note) keeps its line
    assert export_selectors.precheck_lines([_warning("x", "Same words."),
                                            _warning("y", "Same words.")], {}) == [
        "Same words.", "Same words."]


def test_it_says_each_preset_where_a_grouped_line_names_the_preset_again():
    # verify48c: "(or, in 1 of them, each leaves a far detached part out" read as each image
    labels = {"ebay": "eBay", "etsy": "Etsy"}
    said = "{} keeps the shadow: in 2 image(s) (or, in 1 of them, {} leaves a far part out)."
    lines = export_selectors.precheck_lines(
        [_warning(name, said.format(label, label)) for name, label in labels.items()], labels)
    assert lines == ["eBay, Etsy: each keeps the shadow: in 2 image(s) (or, in 1 of them, each "
                     "preset leaves a far part out)."]


def test_it_shows_one_line_for_every_preset_that_keeps_the_shadow(client, sent):
    _far_cutout("FAR-2")
    client.force_login(manager())
    page = html.unescape(client.post(reverse("cutouts:export_start"), {
        "presets": KEEPERS, "destination": "download"}).content.decode())
    assert page.count("keeps the shadow each version stored") == 1, page
    assert ("eBay, Etsy, Google Shopping, Shopify: each keeps the shadow each version stored: "
            "in 1 image(s)") in page
    assert "in it, each preset leaves a far detached part out" in page

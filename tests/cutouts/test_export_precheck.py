"""QA of the export flow, 2026-12-04: an image some chosen preset refused reads Exported once
another shipped it, with "Partly exported" and why (``RefusedVariant`` rows, not an uncapped
list in the job's report); the export's page counts shipped and refused files per preset; the
form says which presets it pre-selected from the last export; and its pre-check lists, per
preset, the images too small for it and those the photo's edge cuts (``export_image_checks``,
with the rule the renderer applies)."""

import html
import importlib
import json
import re

import pytest
from django.apps import apps
from django.urls import reverse

from catalog.models import AssetStatus
from catalog.selectors import asset_status_counts
from cutouts.models import ExportJob, RefusedVariant
from cutouts.selectors import export as export_selectors
from cutouts.variants.compliance import export_size, faint_marks_signal
from tests.factories import ProductFactory, manager

from .export_helpers import approved_cutout, cut_off_png, run_presets, with_rgba

pytestmark = pytest.mark.django_db

GTIN = "4006381333931"


def _signals(cutout, **signals):
    cutout.signals = {**(cutout.signals or {}), **signals}
    cutout.save(update_fields=["signals"])
    return cutout


# --- #2: honest state for an image some preset refused ----------------------------------------


def test_it_reads_exported_with_a_partly_note_when_walmart_refuses_for_want_of_a_gtin():
    no_gtin = approved_cutout(product=ProductFactory(sku="NOGTIN-1", gtin=""), size=(2000, 1500))
    with_gtin = approved_cutout(product=ProductFactory(sku="GTIN-1", gtin=GTIN),
                                size=(2000, 1500))
    job = run_presets(["ebay", "walmart", "transparent_png"])
    no_gtin.asset.refresh_from_db(), with_gtin.asset.refresh_from_db()
    # its eBay and PNG files shipped: Exported (it stayed Approved, "Exported 0")
    assert no_gtin.asset.status == AssetStatus.EXPORTED
    assert with_gtin.asset.status == AssetStatus.EXPORTED
    assert asset_status_counts()[AssetStatus.EXPORTED] == 2
    notes = export_selectors.export_refusals_latest(
        asset_ids=[no_gtin.asset_id, with_gtin.asset_id])
    assert set(notes) == {no_gtin.asset_id}
    assert notes[no_gtin.asset_id].text == (
        "Partly exported: 2 of 3 presets — Walmart refused: no GTIN")
    assert job.report["partly_exported_count"] == 1
    assert "1 image(s) partly exported" in job.message


def test_it_counts_shipped_and_refused_files_per_preset_on_the_export_page(client):
    for n in range(2):
        approved_cutout(product=ProductFactory(sku=f"NOGTIN-{n}", gtin=""), size=(2000, 1500))
    approved_cutout(product=ProductFactory(sku="GTIN-2", gtin=GTIN), size=(2000, 1500))
    job = run_presets(["walmart", "transparent_png"])
    rows = {r.name: r for r in export_selectors.export_job_presets(job=job)}
    assert (rows["walmart"].shipped, rows["walmart"].refused) == (1, 2)
    assert (rows["transparent_png"].shipped, rows["transparent_png"].refused) == (3, 0)
    [reason] = rows["walmart"].reasons
    assert (reason.reason, reason.count, reason.examples) == (
        "no GTIN", 2, ["NOGTIN-0 MAIN", "NOGTIN-1 MAIN"])
    client.force_login(manager())
    page = html.unescape(client.get(reverse("cutouts:export_detail", args=[job.pk]))
                         .content.decode())
    assert 'id="preset-results"' in page
    # each image named, then why (verify45 L4: was "no GTIN — 2: NOGTIN-0 MAIN, …")
    for n in range(2):
        assert f'<b>NOGTIN-{n} MAIN</b>: <span class="error">no GTIN</span>' in page


def test_it_keeps_the_report_small_and_every_refusal_in_rows():
    """``report["refused"]`` kept ~100 B per refused file in the job's JSON; the report now
    keeps counts per reason kind and a few images, the rows keep every image's refusal."""
    for n in range(12):
        approved_cutout(product=ProductFactory(sku=f"BULK-{n:02}", gtin=""), size=(400, 300))
    job = run_presets(["walmart"])
    assert "refused" not in job.report
    [walmart] = job.report[export_selectors.PRESETS_REPORT]
    assert (walmart["refused"], len(walmart["reasons"])) == (12, 1)
    assert walmart["reasons"][0]["count"] == 12
    assert len(walmart["reasons"][0]["examples"]) == export_selectors.EXAMPLES_KEPT
    assert RefusedVariant.objects.filter(job=job).count() == 12
    small = len(json.dumps(job.report[export_selectors.PRESETS_REPORT]))
    for n in range(12, 40):
        approved_cutout(product=ProductFactory(sku=f"BULK-{n:02}", gtin=""), size=(400, 300))
    bigger = run_presets(["walmart"])
    # more than three times the images, the same report size
    assert len(json.dumps(bigger.report[export_selectors.PRESETS_REPORT])) == small
    assert RefusedVariant.objects.filter(job=bigger).count() == 40


def test_it_counts_reasons_that_differ_only_in_figures_as_one_kind():
    tally = export_selectors.PresetTally.start(
        export_selectors.preset_resolve(names=["amazon_main"]))
    items = [export_selectors.PlannedItem(n, n, "amazon_main", "", f"S-{n}", "", "",
                                          position="MAIN") for n in range(8)]
    for n, item in enumerate(items):
        tally.refused(item, f"the product is enlarged {9 + n}.1x from {40 + n}x52 px …")
    [row] = tally.as_report()
    [kind] = row["reasons"]
    assert (kind["count"], kind["reason"]) == (8, "the product is enlarged 9.1x from 40x52 px …")


def test_it_shows_each_image_its_own_figure_under_a_warning_kind(client):
    """QA: "the product is enlarged 7.4x (142x230 px …) — 2: PT02, PT04" while PT04 was
    enlarged 3.1x; "3 faint see-through marks" for an image with one."""
    tally = export_selectors.PresetTally.start(
        export_selectors.preset_resolve(names=["amazon_main"]))
    pt02, pt04 = (export_selectors.PlannedItem(n, n, "amazon_main", "", "QA-SIX", "", "",
                                               position=pos)
                  for n, pos in ((1, "PT02"), (2, "PT04")))
    for item, scale, size, marks in ((pt02, "7.4", "142x230", 3), (pt04, "3.1", "541x193", 1)):
        tally.shipped(item, [
            f"the product is enlarged {scale}x ({size} px in the cutout, 1,702 px tall in "
            "the image) and will look soft; for at most 2x it must span at least 851 px",
            f"{marks} faint see-through mark(s) inside the product's box (a ghost of the "
            "photo's background; the largest near x=4, y=5, 1.2% of the product's solid area)"])
    job = ExportJob.objects.create(presets=["amazon_main"], status="done",
                                   report={export_selectors.PRESETS_REPORT: tally.as_report()})
    [row] = export_selectors.export_job_presets(job=job)
    # QA 2026-12-06: the line was cut at its first figure ("the product is enlarged …");
    # then it read with "…" gaps and each image's bare figures, "QA-SIX PT02 (7.4x, 142x230
    # px)"; since session 38 each image has its own sentence, in full, named
    enlarged = ("the product is enlarged {} ({} px in the cutout, 1,702 px tall in the "
                "image) and will look soft; for at most 2x it must span at least 851 px")
    marks = ("{} faint see-through mark(s) inside the product's box (a ghost of the photo's "
             "background; the largest near x=4, y=5, 1.2% of the product's solid area)")
    assert [(w.reason, w.count, w.examples, w.sentences) for w in row.warnings] == [
        (enlarged.format("…", "…").replace("(… px", "(…"), 2,
         ["QA-SIX PT02", "QA-SIX PT04"],
         (("QA-SIX PT02", enlarged.format("7.4x", "142x230")),
          ("QA-SIX PT04", enlarged.format("3.1x", "541x193")))),
        (marks.format("…"), 2, ["QA-SIX PT02", "QA-SIX PT04"],
         (("QA-SIX PT02", marks.format(3)), ("QA-SIX PT04", marks.format(1))))]
    client.force_login(manager())
    page = html.unescape(client.get(reverse("cutouts:export_detail", args=[job.pk]))
                         .content.decode())
    assert "…" not in page.split('id="preset-results"')[1].split("</table>")[0]
    for image, text in (("QA-SIX PT02", enlarged.format("7.4x", "142x230")),
                        ("QA-SIX PT04", marks.format(1))):
        assert f'data-warning-image="{image}">⚠ <b>{image}</b>: {text}</div>' in page


def test_it_keeps_the_sentences_commas_out_of_the_figures_each_image_is_named_with():
    """QA 2026-12-06: marks at different places read "the largest near x=… y=… in the
    photo" and "QA-1 MAIN (3, 617,, 248, 0.7%)": the comma after a figure was taken as its
    own."""
    tally = export_selectors.PresetTally.start(
        export_selectors.preset_resolve(names=["transparent_png"]))
    for n, (marks, x, y, share) in enumerate(((3, 617, 248, "0.7"), (1, 597, 329, "0.6"))):
        item = export_selectors.PlannedItem(n, n, "transparent_png", "", "QA-1", "", "",
                                            position=("MAIN", "PT01")[n])
        tally.shipped(item, [
            f"{marks} faint see-through mark(s) inside the product's box (a ghost of the "
            f"photo's background; the largest near x={x}, y={y} in the photo, {share}% of "
            "the product's solid area)"])
    job = ExportJob.objects.create(presets=["transparent_png"], status="done",
                                   report={export_selectors.PRESETS_REPORT: tally.as_report()})
    [[warning]] = [row.warnings for row in export_selectors.export_job_presets(job=job)]
    assert warning.reason == (
        "… faint see-through mark(s) inside the product's box (a ghost of the photo's "
        "background; the largest near x=…, y=… in the photo, … of the product's solid area)")
    # each image's own sentence (session 38: not "QA-1 MAIN (3, 617, 248, 0.7%)")
    assert [(image, text.split("; ")[1]) for image, text in warning.sentences] == [
        ("QA-1 MAIN", "the largest near x=617, y=248 in the photo, 0.7% of the product's "
                      "solid area)"),
        ("QA-1 PT01", "the largest near x=597, y=329 in the photo, 0.6% of the product's "
                      "solid area)")]


def test_it_names_a_few_images_of_a_kind_each_with_its_figure_and_counts_the_rest():
    tally = export_selectors.PresetTally.start(
        export_selectors.preset_resolve(names=["amazon_main"]))
    for n in range(5):
        item = export_selectors.PlannedItem(n, n, "amazon_main", "", f"S-{n}", "", "",
                                            position="MAIN")
        tally.shipped(item, [f"longest side is {1000 + n} px; 2000 recommended"])
    job = ExportJob.objects.create(presets=["amazon_main"], status="done",
                                   report={export_selectors.PRESETS_REPORT: tally.as_report()})
    [[warning]] = [row.warnings for row in export_selectors.export_job_presets(job=job)]
    assert (warning.reason, warning.sentences, warning.more) == (
        "longest side is …; 2000 recommended",
        tuple((f"S-{n} MAIN", f"longest side is {1000 + n} px; 2000 recommended")
              for n in range(3)), 2)


def test_it_shows_warning_kinds_that_differ_past_a_figure_apart_in_full(client):
    """QA: the PNG master's row listed three "⚠ the product is only …" lines (3, 1, 1): the
    kinds differ past the label's cut ("every marketplace preset" / "the Walmart preset").
    Lines that read alike are still merged; since 2026-12-06 these read in full, apart."""
    tally = export_selectors.PresetTally.start(
        export_selectors.preset_resolve(names=["transparent_png"]))
    whom = {"A": "every marketplace preset (Amazon main image, eBay, …) would enlarge it",
            "B": "the Walmart preset would enlarge it", "C": "the eBay preset would enlarge it"}
    for n, key in enumerate("AAABC"):
        item = export_selectors.PlannedItem(n, n, "transparent_png", "", f"S-{n}", "", "",
                                            position="MAIN")
        tally.shipped(item, [f"the product is only {100 + n}x90 px in the cutout: {whom[key]} "
                             "over the 8x limit and refuse it (at least 240 px wide needed)",
                             "longest side is 900 px; 2000 recommended"])
    [report] = tally.as_report()
    assert len(report["warnings"]) == 4  # three kinds kept apart, as recorded
    job = ExportJob.objects.create(presets=["transparent_png"], status="done",
                                   report={export_selectors.PRESETS_REPORT: [report]})
    [row] = export_selectors.export_job_presets(job=job)
    # in full (2026-12-06), the three kinds read apart: who would refuse it is the difference
    only = "the product is only … in the cutout: {} over the 8x limit and refuse it (at " \
        "least 240 px wide needed)"
    assert [(w.reason, w.count, w.more) for w in row.warnings] == [
        (only.format(whom["A"]), 3, 0), ("longest side is 900 px; 2000 recommended", 5, 2),
        (only.format(whom["B"]).replace("…", "103x90 px"), 1, 0),
        (only.format(whom["C"]).replace("…", "104x90 px"), 1, 0)]
    assert [image for image, _ in row.warnings[0].sentences] == [
        "S-0 MAIN", "S-1 MAIN", "S-2 MAIN"]
    assert row.warnings[0].sentences[1][1].startswith("the product is only 101x90 px in")
    assert row.warnings[2].examples == ["S-3 MAIN"]  # its one image's figures are in the line
    # its one image's sentence is the line itself
    assert row.warnings[2].sentences == (("S-3 MAIN", row.warnings[2].reason),)
    client.force_login(manager())
    page = html.unescape(client.get(reverse("cutouts:export_detail", args=[job.pk]))
                         .content.decode())
    # one sentence per image (session 38), each image once
    for n in range(3):
        assert page.count(f"⚠ <b>S-{n} MAIN</b>: the product is only {100 + n}x90 px in the "
                          "cutout: every marketplace") == 1
    # a kind whose one image's figures are in its line reads as the others do, the image
    # first (verify45 L4: "⚠ the product is … — 1: S-3 MAIN")
    assert "⚠ <b>S-3 MAIN</b>: the product is only 103x90 px in the cutout: the Walmart " \
        "preset" in page
    assert "— 1: " not in page


def test_it_names_every_image_of_kinds_merged_when_one_has_sentences_and_one_not():
    """Two kinds (kept under an earlier kind rule) that read alike are one line: an image of
    the kind without sentences gets its line as one, so no image drops out of the page."""
    text = "longest side is {} px; 2000 recommended"
    job = ExportJob.objects.create(presets=["amazon_main"], status="done", report={
        export_selectors.PRESETS_REPORT: [{"name": "amazon_main", "warnings": [
            {"kind": "a", "reason": text.format(1000), "count": 2,
             "examples": ["A-1 MAIN", "A-2 MAIN"],
             "texts": [text.format(1000), text.format(1200)]},
            {"kind": "b", "reason": "longest side is …; 2000 recommended", "count": 1,
             "examples": ["B-1 MAIN"], "texts": ["longest side is …; 2000 recommended"]},
        ]}]})
    [[line]] = [row.warnings for row in export_selectors.export_job_presets(job=job)]
    assert line.count == 3 and [image for image, _ in line.sentences] == [
        "A-1 MAIN", "A-2 MAIN", "B-1 MAIN"]
    assert line.sentences[1] == ("A-2 MAIN", text.format(1200))


def test_it_shows_a_refusal_in_full_not_cut_at_its_first_figure(client):
    """QA 2026-12-06: the Presets table said "the product …" and only the manifest had why."""
    tally = export_selectors.PresetTally.start(
        export_selectors.preset_resolve(names=["amazon_main"]))
    reason = ("the product is only 61x95 px in the cutout (at least 100 px tall needed): "
              "the cutout kept a speck, not the product; re-cut or retouch it in review")
    tally.refused(export_selectors.PlannedItem(1, 1, "amazon_main", "", "SPECK-1", "", "",
                                               position="MAIN"), reason)
    job = ExportJob.objects.create(presets=["amazon_main"], status="done",
                                   report={export_selectors.PRESETS_REPORT: tally.as_report()})
    [[line]] = [row.reasons for row in export_selectors.export_job_presets(job=job)]
    assert (line.reason, line.examples) == (reason, ["SPECK-1 MAIN"])
    client.force_login(manager())
    page = html.unescape(client.get(reverse("cutouts:export_detail", args=[job.pk]))
                         .content.decode())
    # named first, as every refusal and warning is (verify45 L4)
    assert f'<b>SPECK-1 MAIN</b>: <span class="error">{reason}</span>' in page


def test_it_formats_every_warning_and_refusal_line_alike_image_first(client):
    """verify45 L4: one warning read "⚠ … — 1: VQ061 MAIN" beside "⚠ VQ003 MAIN: …": a kind
    whose images share every figure was shown as its line and a count, one whose images
    differ as a sentence per image. Now one format (``ReasonCount.sentences``, one template):
    each named image, then its own sentence, then how many more."""
    tally = export_selectors.PresetTally.start(
        export_selectors.preset_resolve(names=["ebay"]))
    same = "the product is cut off by the photo's edge (bottom): use a photo with space"
    for n, sku in enumerate(("VQ061", "VQ062", "VQ063", "VQ064")):
        item = export_selectors.PlannedItem(n, n, "ebay", "", sku, "", "", position="MAIN")
        tally.shipped(item, [same])  # every figure shared
        tally.shipped(item, [f"longest side is {1000 + n} px; 1600 recommended"])
        tally.refused(item, "the product is only 40x52 px in the cutout")
    job = ExportJob.objects.create(presets=["ebay"], status="done",
                                   report={export_selectors.PRESETS_REPORT: tally.as_report()})
    [row] = export_selectors.export_job_presets(job=job)
    assert [line.sentences for line in row.warnings][0] == tuple(
        (f"{sku} MAIN", same) for sku in ("VQ061", "VQ062", "VQ063"))
    client.force_login(manager())
    page = html.unescape(client.get(reverse("cutouts:export_detail", args=[job.pk]))
                         .content.decode())
    table = page.split('id="preset-results"')[1].split("</table>")[0]
    warnings = re.findall(r"data-warning-image=\"[^\"]+\">(⚠ <b>[^<]+</b>: [^<]+)</div>", table)
    # three named per kind (EXAMPLES_KEPT), each kind alike, image first
    assert warnings[:3] == [f"⚠ <b>VQ06{n} MAIN</b>: {same}" for n in (1, 2, 3)]
    assert warnings[3] == ("⚠ <b>VQ061 MAIN</b>: longest side is 1000 px; 1600 recommended")
    assert len(warnings) == 6 and table.count("data-warning ") == 6
    assert table.count("and 1 more with this warning (see the manifest)") == 2
    assert table.count('<b>VQ061 MAIN</b>: <span class="error">the product is only 40x52 '
                       'px in the cutout</span>') == 1
    assert "and 1 more for this reason (see the manifest)" in table
    assert " — " not in table  # no line-and-count format left


def test_it_keeps_a_reason_whose_only_digits_are_a_names_as_it_reads():
    tally = export_selectors.PresetTally.start(
        export_selectors.preset_resolve(names=["amazon_main"]))
    item = export_selectors.PlannedItem(1, 1, "amazon_main", "", "AB-12", "", "",
                                        position="PT02")
    tally.refused(item, "the file name AB-12.PT02.jpg is taken")
    job = ExportJob.objects.create(presets=["amazon_main"], status="done",
                                   report={export_selectors.PRESETS_REPORT: tally.as_report()})
    [[reason]] = [row.reasons for row in export_selectors.export_job_presets(job=job)]
    assert (reason.reason, reason.examples) == (
        "the file name AB-12.PT02.jpg is taken", ["AB-12 PT02"])


def test_it_shows_an_earlier_reports_kind_as_it_was_kept():
    job = ExportJob.objects.create(presets=["amazon_main"], status="done", report={
        export_selectors.PRESETS_REPORT: [{"name": "amazon_main", "warnings": [
            {"kind": "k", "reason": "longest side is 1200 px", "count": 1,
             "examples": ["OLD-1 MAIN"]}]}]})
    [[warning]] = [row.warnings for row in export_selectors.export_job_presets(job=job)]
    assert (warning.reason, warning.examples) == ("longest side is 1200 px", ["OLD-1 MAIN"])


def test_it_moves_the_refusals_of_earlier_reports_into_rows():
    cutout = approved_cutout(product=ProductFactory(sku="OLD-1"))
    job = ExportJob.objects.create(presets=["amazon_main", "walmart"], status="done",
                                   report={"origin": "form", "refused": {
                                       f"a{cutout.asset_id}": [["Walmart", "no GTIN"]],
                                       "a999999": [["Walmart", "no GTIN"]]}})
    migration = importlib.import_module("cutouts.migrations.0014_refused_variant")
    migration.move_refusals(apps, None)
    job.refresh_from_db()
    assert job.report == {"origin": "form"}
    assert list(job.refusals.values_list("asset_id", "label", "reason")) == [
        (cutout.asset_id, "Walmart", "no GTIN")]  # a purged image's entry is dropped


# --- #6: the presets ticked from the last export are said ---------------------------------------


def _note(page: str) -> str:
    """The pre-selection note's text, tags stripped ("" when there is none)."""
    if 'id="preselected"' not in page:
        return ""
    part = page.split('id="preselected"', 1)[1].split(">", 1)[1].split("</p>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", "", html.unescape(part)).split())


def _ticked(page: str, value: str) -> bool:
    tag = re.search(rf'<input[^>]*name="presets" value="{value}"[^>]*>', page)
    assert tag is not None
    return "checked" in tag[0]


def test_it_says_which_presets_it_pre_selected_from_the_last_export(client):
    user = manager()
    job = ExportJob.objects.create(created_by=user, presets=["amazon_main", "ebay", "walmart"],
                                   report={"origin": export_selectors.ORIGIN_FORM})
    client.force_login(user)
    page = client.get(reverse("cutouts:export_list"), {"sku": "SKU-1"}).content.decode()
    assert _note(page) == (f"Pre-selected: the presets of your last export (#{job.pk}: Amazon "
                           "main image, eBay, Walmart) — clear")
    assert _ticked(page, "ebay") and not _ticked(page, "shopify")
    clear = re.search(r'href="([^"]+)" id="preselected-clear"', page)[1]
    # "clear" opens the form with nothing ticked (the SKUs kept) and says nothing
    fresh = client.get(html.unescape(clear)).content.decode()
    assert _note(fresh) == "" and not _ticked(fresh, "ebay") and "SKU-1" in fresh
    # nothing before a user's first export
    client.force_login(manager())
    assert _note(client.get(reverse("cutouts:export_list")).content.decode()) == ""


def test_it_names_the_presets_an_export_was_started_with(client):
    approved_cutout(product=ProductFactory(sku="MSG-1", gtin=GTIN), size=(2000, 1500))
    client.force_login(manager())
    response = client.post(reverse("cutouts:export_start"), {
        "presets": ["ebay", "transparent_png"], "destination": "download"}, follow=True)
    assert "file(s) planned for eBay, Transparent PNG" in html.unescape(
        response.content.decode())


# --- #7: the pre-check lists images too small for a preset, and frame cuts ----------------------


def test_it_lists_images_too_small_for_a_preset_with_the_renderers_rule():
    tiny = _signals(approved_cutout(product=ProductFactory(sku="TINY-1"), size=(800, 600)),
                    product_px=[121, 157])
    _signals(approved_cutout(product=ProductFactory(sku="BIG-1"), size=(2000, 1500)),
             product_px=[1500, 1200])
    presets = export_selectors.preset_resolve(names=["amazon_main", "transparent_png"])
    [gap] = export_selectors.export_image_checks(presets=presets)
    needed = export_size(121, 157, [presets[0]], frame=(800, 600)).needed_px
    assert (gap.code, gap.preset, gap.count) == (export_selectors.TOO_SMALL, "amazon_main", 1)
    assert gap.message == (
        f"1 image(s) too small for Amazon main image: it would enlarge the product past the 8x "
        f"limit (or it is under 32 px) and refuse it: TINY-1 MAIN (157 px tall, {needed} "
        "needed). They will be excluded from Amazon main image.")
    # the export refuses exactly what the pre-check listed
    with_rgba(tiny, _ellipse((800, 600), (340, 222, 461, 379)))
    job = run_presets(["amazon_main"], product_ids=[tiny.asset.product_id])
    assert [r["sku"] for r in job.report["excluded"]] == ["TINY-1"]
    assert "enlarged" in job.report["excluded"][0]["reason"]


def _ellipse(size, box) -> bytes:
    import io

    from PIL import Image, ImageDraw
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse(box, fill=(200, 30, 30, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_it_lists_images_the_photos_edge_cuts_per_preset():
    _signals(approved_cutout(product=ProductFactory(sku="CUT-1"), size=(2000, 1500)),
             product_px=[1500, 1200], touching_sides=["bottom"])
    _signals(approved_cutout(product=ProductFactory(sku="CUT-2"), position="PT01",
                             size=(2000, 1500)),
             product_px=[1500, 1200], touching_sides=["left"])
    presets = export_selectors.preset_resolve(names=["amazon_main", "ebay", "transparent_png"])
    gaps = export_selectors.export_image_checks(presets=presets)
    assert [(g.preset, g.identifier, g.count) for g in gaps] == [
        ("amazon_main", "frame-refused", 1), ("ebay", "frame-warned", 2)]
    amazon, ebay = (g.message for g in gaps)
    # Amazon binds the main image only; eBay ships both with a straight cut
    assert amazon.startswith("Amazon main image will refuse 1 main image(s) whose product the "
                             "photo's edge cuts") and "CUT-1 MAIN (bottom)" in amazon
    assert ebay.startswith("eBay will ship 2 image(s) whose product the photo's edge cuts, "
                           "with a straight cut") and "CUT-2 PT01 (left)" in ebay
    advice = export_selectors.export_warnings_advice(warnings=gaps)
    assert "ship with the warning in the manifest and on the export's page" in advice


def test_it_leaves_out_of_the_image_checks_a_product_the_preset_cannot_name():
    # QA qa40a: "Walmart will ship 2 image(s) whose product the photo's edge cuts" named two
    # products without a GTIN, which the same form said Walmart excludes (it shipped none)
    for sku, gtin in (("NOGTIN-1", ""), ("HASGTIN-1", GTIN)):
        _signals(approved_cutout(product=ProductFactory(sku=sku, gtin=gtin), size=(2000, 1500)),
                 product_px=[1500, 1200], touching_sides=["left"])
    _signals(approved_cutout(product=ProductFactory(sku="NOGTIN-2", gtin=""), size=(800, 600)),
             product_px=[121, 157])
    presets = export_selectors.preset_resolve(names=["walmart", "ebay"])
    gaps = export_selectors.export_image_checks(presets=presets)
    assert [(g.preset, g.identifier, g.count, sorted(g.skus)) for g in gaps] == [
        ("ebay", "size", 1, ["NOGTIN-2"]),
        ("walmart", "frame-warned", 1, ["HASGTIN-1"]),
        ("ebay", "frame-warned", 2, ["HASGTIN-1", "NOGTIN-1"])]


def test_it_shows_the_pre_check_on_the_form_before_starting(client):
    _signals(approved_cutout(product=ProductFactory(sku="TINY-3"), size=(800, 600)),
             product_px=[121, 157])
    client.force_login(manager())
    response = client.post(reverse("cutouts:export_start"), {
        "presets": ["amazon_main"], "destination": "download"})
    page = html.unescape(response.content.decode())
    assert "1 image(s) too small for Amazon main image" in page and "TINY-3 MAIN" in page
    assert "Export anyway" in page and not ExportJob.objects.exists()


def test_it_reports_the_frame_cut_warning_per_image_for_the_presets_that_ship_it():
    cutout = with_rgba(approved_cutout(product=ProductFactory(sku="EDGE-1")), cut_off_png())
    job = run_presets(["amazon_main", "ebay"])
    rows = {r.name: r for r in export_selectors.export_job_presets(job=job)}
    assert (rows["amazon_main"].shipped, rows["amazon_main"].refused) == (0, 1)
    assert (rows["ebay"].shipped, rows["ebay"].warned) == (1, 1)
    cut = [w for w in rows["ebay"].warnings if "photo's edge" in w.reason]
    assert [(w.reason, w.examples) for w in cut] == [
        ("the product is cut off by the photo's edge (bottom): the image cannot show the "
         "whole product; use a photo with space around it", ["EDGE-1 MAIN"])]
    cutout.asset.refresh_from_db()
    assert cutout.asset.status == AssetStatus.EXPORTED  # its eBay file shipped


# --- faint see-through marks: what a white-background preset refuses, from the stored signal ------


def _cloudy_png(size=(800, 600)) -> tuple[bytes, dict]:
    """A cutout with a grey cloud kept beside its product (QA's bike: inside a front wheel)
    and its ``faint_marks`` signal, measured as a finished version stores it."""
    import io

    import numpy as np
    from PIL import Image

    from tests.cutouts.scissors import blades, with_cloud

    alpha = with_cloud(blades(size), level=90)
    rgba = np.zeros((size[1], size[0], 4), np.uint8)
    rgba[..., :3] = (90, 90, 100)
    rgba[..., 3] = alpha
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    return out.getvalue(), faint_marks_signal(alpha)


def test_it_lists_images_a_white_background_preset_refuses_for_faint_marks():
    data, signal = _cloudy_png()
    # a GTIN, so Walmart can name its file: the check leaves out a product it cannot name
    bike = with_rgba(_signals(approved_cutout(product=ProductFactory(sku="BIKE-100", gtin=GTIN)),
                              product_px=[650, 520], faint_marks=signal), data)
    # a faint mark that only warns, and a version computed before the signal: not listed
    _signals(approved_cutout(product=ProductFactory(sku="LIGHT-1")), product_px=[650, 520],
             faint_marks={**signal, "share": 0.05})
    approved_cutout(product=ProductFactory(sku="OLD-1"))
    presets = export_selectors.preset_resolve(names=["amazon_main", "ebay", "walmart"])
    gaps = [g for g in export_selectors.export_image_checks(presets=presets)
            if g.code == export_selectors.FAINT_MARKS]
    assert [(g.preset, g.count) for g in gaps] == [("amazon_main", 1), ("walmart", 1)]
    share = f"{signal['share'] * 100:.1f} %"
    assert gaps[0].message.startswith(
        "Amazon main image will refuse 1 image(s) with faint see-through marks (a grey cloud "
        f"on white, from 10% of the product's solid area): BIKE-100 MAIN ({share}).")
    advice = export_selectors.export_warnings_advice(warnings=gaps)
    assert advice.startswith("Nothing has started. To fix it: retouch the grey clouds away in "
                             "review")
    assert "images a preset refuses are listed in the manifest as excluded" in advice
    # the export refuses exactly what the pre-check listed, for that reason
    job = run_presets(["amazon_main"], product_ids=[bike.asset.product_id])
    assert [r["sku"] for r in job.report["excluded"]] == ["BIKE-100"]
    assert "faint see-through mark" in job.report["excluded"][0]["reason"]


def test_it_shows_the_faint_marks_on_the_form_before_starting(client):
    _, signal = _cloudy_png()
    _signals(approved_cutout(product=ProductFactory(sku="BIKE-101")), product_px=[650, 520],
             faint_marks=signal)
    client.force_login(manager())
    response = client.post(reverse("cutouts:export_start"), {
        "presets": ["amazon_main"], "destination": "download"})
    page = html.unescape(response.content.decode())
    assert "Amazon main image will refuse 1 image(s) with faint see-through marks" in page
    assert "BIKE-101 MAIN" in page and "retouch the grey clouds away in review" in page
    assert "Export anyway" in page and not ExportJob.objects.exists()


def _rimmed_png(core: int) -> bytes:
    """A square product ``core`` px across, solid, in a soft rim: 4 px at alpha 64 (the
    renderer's product box, alpha >= 32), then 2 px at alpha 24 (what an enlarging fill is
    measured on, alpha >= 16, survives the ripple cut-off) on a 800 x 600 cutout."""
    import io

    import numpy as np
    from PIL import Image

    alpha = np.zeros((600, 800), np.uint8)
    alpha[194:206 + core, 294:306 + core] = 24
    alpha[196:204 + core, 296:304 + core] = 64
    alpha[200:200 + core, 300:300 + core] = 255
    rgba = np.zeros((600, 800, 4), np.uint8)
    rgba[..., :3] = (120, 90, 60)
    rgba[..., 3] = alpha
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    return out.getvalue()


@pytest.mark.usefixtures("no_broker")
def test_it_warns_of_a_product_at_the_limit_iff_the_export_refuses_it(make_assets, fake_model):
    """QA33 L4: the pre-check said "105 px across" of a product export refused "from 112x107
    px": the stored size was a working-copy measure, the export the renderer's. Amazon fills
    1700 px: a product whose fill box is 212 px is enlarged 8.0x and ships, 211 px is 8.1x and
    is refused; their solid cores (200 and 199 px) are over the limit either way."""
    from cutouts.services import retouch, review, runs
    from tests.cutouts.reviewdata import done_cutouts
    from tests.factories import reviewer

    ships, refused = done_cutouts(make_assets(2, sku="RIM", size=(800, 600)))
    for cutout, core in ((ships, 200), (refused, 199)):
        new = retouch.cutout_retouch_upload(cutout=cutout, user=reviewer(),
                                            data=_rimmed_png(core))
        assert runs.cutout_run(cutout_id=new.pk) == "done"
        review.cutout_approve(cutout=new, user=reviewer())
    presets = export_selectors.preset_resolve(names=["amazon_main"])
    [gap, soft] = export_selectors.export_image_checks(presets=presets)
    assert (gap.code, gap.skus) == (export_selectors.TOO_SMALL, ["RIM-1"])
    # the one that ships, at 8.0x, is said to look soft, as its file's warning says (QA41 L6)
    assert (soft.code, soft.skus) == (export_selectors.ENLARGED, ["RIM-0"])
    assert "RIM-0 MAIN: the product is enlarged 8.0x" in soft.message
    # the size the export's refusal names, not the solid core's (208: the fill box grows with it)
    assert "RIM-1 MAIN (207 px wide, 208 needed)" in gap.message
    job = run_presets(["amazon_main"])
    assert [r["sku"] for r in job.report["excluded"]] == ["RIM-1"]
    assert "enlarged 8.1x from 207x207 px" in job.report["excluded"][0]["reason"]


# --- QA41 L6: the pre-check warns of a soft (enlarged) image as the export's page does -----------


def test_it_warns_before_the_export_of_an_enlarged_image_in_the_export_pages_words(client):
    from .export_helpers import measured

    # the helpers' 800 x 600 cutout: enlarged over 2x on Amazon's 2000 px square, under 8x
    soft = measured(approved_cutout(product=ProductFactory(sku="SOFT-1")))
    presets = export_selectors.preset_resolve(names=["amazon_main"])
    [gap] = export_selectors.export_image_checks(presets=presets)
    assert (gap.code, gap.preset, gap.count, gap.skus) == (
        export_selectors.ENLARGED, "amazon_main", 1, ["SOFT-1"])
    job = run_presets(["amazon_main"], product_ids=[soft.asset.product_id])
    [row] = export_selectors.export_job_presets(job=job)
    [(image, said)] = [(w.examples[0], w.reason) for w in row.warnings
                       if "look soft" in w.reason]
    # the very sentence the export's page gives the file, said before it ran
    assert gap.message == (f"Amazon main image will ship 1 image(s) enlarged, which will look "
                           f"soft: {image}: {said}.")
    assert "enlarged" in said and "will look soft" in said
    advice = export_selectors.export_warnings_advice(warnings=[gap])
    assert "enlarged images ship with the warning in the manifest and on the export's page" in (
        advice)
    client.force_login(manager())
    page = html.unescape(client.post(reverse("cutouts:export_start"), {
        "presets": ["amazon_main"], "destination": "download"}).content.decode())
    assert "will ship 1 image(s) enlarged, which will look soft: SOFT-1 MAIN: the product is " \
           "enlarged" in page

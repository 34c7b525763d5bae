"""The contact sheet's warning chip names the kinds of warning a file shipped with, briefly
(2026-12-08, verify48; QA verify47: it read "warning", and the kept shadow's words came last in
a long paragraph behind it). The titles come from ``variants.warning_kinds``, whose heads the
messages themselves are written with, so these cases build each message by its own code."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from cutouts.models import ExportJob
from cutouts.selectors import export as export_selectors
from cutouts.variants import PRESETS, ComplianceResult
from cutouts.variants.compliance import shadow_off_warning, summary_warning_titles
from cutouts.variants.render import (
    dropped_parts_warning,
    kept_shadow_left_out_warning,
    warn_enlarged,
)
from cutouts.variants.spec import parse_spec
from cutouts.variants.warning_kinds import KINDS, warning_titles

pytestmark = pytest.mark.django_db

COLUMNS = ("sku,gtin,asin,preset,file,width,height,bytes,sha256,compliance,position,"
           "asset_id,planned_file,spec,status")


def _kept() -> str:
    return str(shadow_off_warning(PRESETS["ebay"].variant_spec, None, 0.82))


def _drawn(spec: str) -> str:
    return str(shadow_off_warning(parse_spec(spec), {"trim": 0.5, "whole": 0.5, "scene": 0.5}))


def _enlarged() -> str:
    said: list[str] = []
    warn_enlarged(said, 2.3, (0, 0, 384, 746))
    return said[0]


def _summary(*warnings: str) -> str:
    return ComplianceResult(warnings=list(warnings)).summary()


def test_it_names_each_kind_by_the_message_its_own_code_writes():
    assert summary_warning_titles(_summary(_kept())) == ["kept shadow off product"]
    assert summary_warning_titles(_summary(_drawn("trim|square-1200|bg-ffffff|shadow-synthetic"))
                                  ) == ["shadow off product"]
    assert summary_warning_titles(_summary(_enlarged())) == ["enlarged"]
    # a message that starts with its count
    assert summary_warning_titles(_summary(dropped_parts_warning(3))) == [
        "detached part left out"]


def test_it_puts_what_the_picture_shows_wrong_first_whatever_the_messages_order():
    # QA 2026-12-08: the manifest line read "1 detached part(s) …; the product is enlarged …;
    # the kept shadow lies off the product …"
    line = _summary(dropped_parts_warning(1), _enlarged(), _kept())
    assert summary_warning_titles(line) == ["kept shadow off product", "enlarged",
                                            "detached part left out"]
    # a kind named twice is named once
    assert summary_warning_titles(_summary(_enlarged(), _enlarged())) == ["enlarged"]


def test_it_names_the_left_out_part_once_when_the_kept_shadow_went_with_it():
    # verify48c: "⚠ kept shadow left out, detached part left out" named one event twice
    line = _summary(dropped_parts_warning(1), kept_shadow_left_out_warning(), _enlarged())
    assert summary_warning_titles(line) == ["kept shadow left out", "enlarged"]
    # without the kept shadow's words the part left out is still named
    assert summary_warning_titles(_summary(dropped_parts_warning(1), _enlarged())) == [
        "enlarged", "detached part left out"]


def test_it_does_not_take_words_inside_a_message_for_another_kind():
    # the enlarged message goes on "…; for at most 2x it must span …" after a "; "
    assert warning_titles(_enlarged()) == ["enlarged"]
    assert summary_warning_titles("ok") == []
    assert summary_warning_titles("failed: " + _enlarged()) == []
    # a model's licence has no title of its own
    assert summary_warning_titles(_summary("model x: AGPL licence terms apply")) == []
    # a dry run's cached row
    assert summary_warning_titles("dry run (cached): " + _summary(_kept())) == [
        "kept shadow off product"]


def test_it_gives_every_kind_a_short_title():
    assert all(0 < len(kind.title) <= 26 for kind in KINDS), [k.title for k in KINDS]


def _job(rows: list[tuple[str, str]]) -> ExportJob:
    lines = [COLUMNS] + [
        f'S-{i},,,ebay,e/S-{i}.jpg,9,9,1,,"{text}",MAIN,{i},e/S-{i}.jpg,sq,{status}'
        for i, (text, status) in enumerate(rows, 1)]
    data = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
    name = storages["exports"].save("manifests/chips-test.csv", ContentFile(data))
    return ExportJob.objects.create(presets=["ebay"], status="done", manifest_name=name)


def test_the_chip_names_at_most_two_kinds_and_counts_the_rest():
    job = _job([
        (_summary(_kept()), "ok_warnings"),
        (_summary(dropped_parts_warning(1), _enlarged(), _kept()), "ok_warnings"),
        (_summary("model x: AGPL licence terms apply"), "ok_warnings"),
        ("ok", "ok"),
    ])
    chips = [(c.state, c.label) for c in export_selectors.export_job_sheet(job=job).cells]
    assert chips == [("warning", "⚠ kept shadow off product"),
                     ("warning", "⚠ kept shadow off product, enlarged +1"),
                     ("warning", "warning"), ("ok", "ok")]

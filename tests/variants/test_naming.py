"""File-name templates, sanitising, and collision detection before export."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cutouts.variants import ExportNamingError, build_name, find_collisions, validate_template
from cutouts.variants.naming import amazon_position, sanitize

AMAZON = "{asin|sku}.{amazon_position}.{ext}"
GENERIC = "{sku}/{sku}_{position}_{preset}.{ext}"


@pytest.mark.parametrize(
    ("template", "fields", "expected"),
    [
        (AMAZON, {"asin": "B0XXXXXXXX", "sku": "S1"}, "B0XXXXXXXX.MAIN.jpg"),
        (AMAZON, {"asin": None, "sku": "S1"}, "S1.MAIN.jpg"),
        (AMAZON, {"asin": "  ", "sku": "S1"}, "S1.MAIN.jpg"),
        (AMAZON, {"asin": "B0XXXXXXXX", "position": 2}, "B0XXXXXXXX.PT01.jpg"),
        ("{gtin}_{n}.{ext}", {"gtin": "0012345678905", "position": 2}, "0012345678905_2.jpg"),
        ("{gtin14}_{n}.{ext}", {"gtin": "012345678905"}, "00012345678905_1.jpg"),
        (GENERIC, {"sku": "AB-1", "preset": "ebay"}, "AB-1/AB-1_1_ebay.jpg"),
        (GENERIC, {"sku": "Ärger Größe 5", "preset": "x"}, "Arger-Groe-5/Arger-Groe-5_1_x.jpg"),
        (GENERIC, {"sku": "../../etc/passwd", "preset": "x"}, "etcpasswd/etcpasswd_1_x.jpg"),
        (GENERIC, {"sku": 'a<b>:"c|d?*e\\f', "preset": "x"}, "abcdef/abcdef_1_x.jpg"),
        ("{brand}/{sku}.{ext}", {"sku": "S", "brand": "ACME Co."}, "ACME-Co/S.jpg"),
    ],
)
def test_it_fills_templates(template, fields, expected):
    fields = {"ext": "jpg", **fields}
    assert build_name(template, **fields) == expected


@pytest.mark.parametrize(("position", "code"), [(1, "MAIN"), (2, "PT01"), (5, "PT04"),
                                                (9, "PT08")])
def test_it_maps_positions_to_amazon_codes(position, code):
    assert amazon_position(position) == code


@pytest.mark.parametrize("position", [0, 11, 42])
def test_it_rejects_positions_amazon_has_no_code_for(position):
    with pytest.raises(ExportNamingError, match="MAIN, PT01..PT08 and SWCH"):
        amazon_position(position)


def test_it_names_the_swatch_swch_for_amazon():
    # QA: a swatch (SWCH, number 10 in export plans) was refused "position 10 has no code";
    # Amazon names swatch files ASIN.SWCH.jpg
    from catalog.ingest.positions import number_for_position

    position = number_for_position("SWCH")
    assert amazon_position(position) == "SWCH"
    assert build_name(AMAZON, asin="B0C1234567", position=position, ext="jpg") == (
        "B0C1234567.SWCH.jpg")


@pytest.mark.parametrize(
    ("template", "fields", "fragment"),
    [
        (AMAZON, {"asin": "", "sku": "%%%"}, "asin / sku are all empty"),
        (GENERIC, {"sku": None}, "the product has no SKU"),
        (AMAZON, {"asin": "", "sku": " "}, "the product has no ASIN or SKU"),
        ("{gtin14}_{n}.{ext}", {"gtin": "123456789012345"}, "more than 14 digits"),
        (GENERIC, {"sku": "S", "position": 0}, "position must be an integer >= 1"),
        ("{nope}.{ext}", {"sku": "S"}, "unknown field {nope}"),
        ("{sku}.jpg?", {"sku": "S"}, "characters outside"),
        ("sku.jpg", {"sku": "S"}, "has no placeholder"),
        ("/{sku}.{ext}", {"sku": "S"}, "empty folder name"),
        ("{sku}}.{ext}", {"sku": "S"}, "unbalanced braces"),
        ("{sku}/{preset}.{ext}", {"sku": "S", "preset": ".."}, "preset is empty"),
        ("{sku}.{ext}", {"sku": "x" * 300}, "too long"),
    ],
)
def test_it_refuses_unusable_names(template, fields, fragment):
    with pytest.raises(ExportNamingError) as excinfo:
        build_name(template, ext="jpg", **fields)
    assert fragment in str(excinfo.value)


@pytest.mark.parametrize("gtin", [None, "", "  "])
def test_it_says_which_field_a_product_lacks_and_what_the_preset_names_files_by(gtin):
    from cutouts.variants import get_preset
    from cutouts.variants.naming import name_for

    with pytest.raises(ExportNamingError) as excinfo:
        name_for(get_preset("walmart"), sku="WM-7", gtin=gtin)
    assert str(excinfo.value) == "WM-7 has no GTIN; Walmart files are named by GTIN"


def test_it_still_says_when_cleaning_emptied_a_field_the_product_has():
    from cutouts.variants import get_preset
    from cutouts.variants.naming import name_for

    with pytest.raises(ExportNamingError, match="asin / sku are all empty after removing"):
        name_for(get_preset("amazon_main"), sku="%%%", asin="")


def test_it_validates_templates_for_the_admin():
    validate_template(AMAZON)
    validate_template("{brand}/{sku}.{ext}", extra_fields=["brand"])
    with pytest.raises(ExportNamingError):
        validate_template("{brand}/{sku}.{ext}")


@given(st.text(max_size=60))
def test_it_never_produces_unsafe_fragments(value):
    cleaned = sanitize(value)
    assert "/" not in cleaned and "\\" not in cleaned and cleaned != ".."
    assert not cleaned.startswith((".", "-")) and not cleaned.endswith(".")
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in cleaned)


def test_it_detects_collisions_before_export():
    names = [
        "B0X.MAIN.jpg",
        "B0X.PT01.jpg",
        "B0X.MAIN.jpg",  # duplicate of row 1
        "sku-1/a.jpg",
        "SKU-1/A.jpg",  # differs only in case from row 4
        "sku-2",  # a file ...
        "sku-2/x.jpg",  # ... and a folder of the same name
        "unique.jpg",
    ]
    collisions = find_collisions(names)
    kinds = {c.kind: c for c in collisions}
    assert set(kinds) == {"duplicate", "case", "folder"}
    assert kinds["duplicate"].indices == (0, 2)
    assert kinds["case"].indices == (3, 4)
    assert set(kinds["folder"].indices) == {5, 6}
    assert "planned rows 1, 3" in str(kinds["duplicate"])
    assert "letter case" in str(kinds["case"])
    assert "a file and a folder" in str(kinds["folder"])


def test_it_reports_no_collisions_for_distinct_names():
    names = [build_name(AMAZON, asin="B0X", position=p, ext="jpg") for p in range(1, 10)]
    assert find_collisions(names) == []


def test_it_finds_collisions_created_by_sanitising():
    a = build_name(GENERIC, sku="AB 1", preset="ebay", ext="jpg")
    b = build_name(GENERIC, sku="AB-1", preset="ebay", ext="jpg")
    assert [c.kind for c in find_collisions([a, b])] == ["duplicate"]


def test_it_lists_the_identifiers_a_template_cannot_name_a_file_without():
    from cutouts.variants import identifier_groups

    assert identifier_groups("{gtin}_{n}.{ext}") == [("gtin",)]
    assert identifier_groups("{asin|sku}.{amazon_position}.{ext}") == [("asin", "sku")]
    assert identifier_groups("{sku}/{gtin14}_{gtin}_{position}.{ext}") == [("sku",), ("gtin",)]
    assert identifier_groups("{preset}_{n}.{ext}") == []

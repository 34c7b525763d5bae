import pytest

from catalog.ingest.naming import FilenameRules, Match, NamingError, compile_pattern


def test_it_reads_sku_and_position_from_the_default_pattern():
    assert FilenameRules().match("ABC-12_PT03.jpg") == Match("ABC-12", "PT03",
                                                              "{sku}_{position}.jpg")


def test_it_maps_photographer_numbers_to_positions():
    rules = FilenameRules(patterns=["{sku}-{n}.png"])
    assert rules.match("SHOE-1.png").position == "MAIN"
    assert rules.match("SHOE-2.png").position == "PT01"
    assert rules.match("SHOE-9.PNG").position == "PT08"


def test_it_ignores_the_extension_case_and_kind_in_a_pattern():
    rules = FilenameRules(patterns=["{sku}_{position}.jpg"])
    assert rules.match("abc_main.JPEG").sku == "abc"
    assert rules.match("abc_main.png").position == "MAIN"


def test_it_offers_every_reading_of_an_ambiguous_name():
    readings = FilenameRules().candidates("ABC-1.jpg")
    assert [(m.sku, m.position) for m in readings] == [("ABC", "MAIN"), ("ABC-1", None)]


def test_it_takes_the_folder_as_sku_when_no_pattern_matches():
    rules = FilenameRules(patterns=["{sku}_{position}.jpg"])
    assert rules.match("SKU77/front view.jpg") == Match("SKU77", None, "folder name")
    assert FilenameRules(patterns=["{sku}_{position}.jpg"], use_folders=False).match(
        "SKU77/front view.jpg") is None


def test_it_accepts_a_regex_with_a_named_sku_group():
    rules = FilenameRules(regex=r"^(?P<sku>\d{6})[ _](?P<n>\d)\.")
    assert rules.match("123456 2.tif") == Match("123456", "PT01", rules.rules[0][0])


def test_it_refuses_a_regex_without_a_sku_group():
    with pytest.raises(NamingError, match="named group"):
        FilenameRules(regex=r"(\d+)_main")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("{sku}_{colour}.jpg", "Unknown placeholder"), ("{n}.jpg", "exactly once"),
     ("{sku}_{position}_{n}.jpg", "not both")],
)
def test_it_explains_a_bad_pattern(pattern, message):
    with pytest.raises(NamingError, match=message):
        compile_pattern(pattern)


def test_it_explains_an_image_number_without_a_position():
    with pytest.raises(NamingError, match="1 \\(MAIN\\) to 9"):
        FilenameRules(patterns=["{sku}-{n}.jpg"]).candidates("ABC-12.jpg")

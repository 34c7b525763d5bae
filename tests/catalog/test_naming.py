import io

import pytest

from catalog.ingest.naming import (
    LIVE,
    FilenameRules,
    Match,
    NamingError,
    Unmapped,
    compile_pattern,
    file_target,
)
from catalog.models import Product
from catalog.services.import_mapping import SKU_RULE
from catalog.services.imports import import_job_create, import_job_upload_file
from catalog.validators import SKU_MAX_LENGTH, SKU_RE
from tests.catalog.imagegen import jpeg_bytes


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


def test_it_keeps_one_position_number_map_for_ingest_models_and_export_names():
    from catalog.ingest.positions import (
        POSITIONS,
        number_for_position,
        position_for_number,
    )
    from catalog.models import Position
    from cutouts.variants.naming import amazon_position

    assert tuple(Position.values) == POSITIONS
    assert [position_for_number(n) for n in (0, 1, 2, 9, 10)] == [None, "MAIN", "PT01", "PT08",
                                                                   None]
    assert [number_for_position(c) for c in ("MAIN", "PT08", "SWCH", "XX")] == [1, 9, 10, None]
    for n in range(1, 10):
        assert amazon_position(n) == position_for_number(n)
        assert number_for_position(position_for_number(n)) == n


@pytest.mark.parametrize("name, sku", [
    ("SHOE-77/IMG_0001.jpg", "SHOE-77"),
    ("EVAL-003/003.jpg", "EVAL-003"),
    ("shoot/DSC01234.JPG", "shoot"),
    ("shoot/PXL_20240101_123456789.jpg", "shoot"),
    ("SHOE-77/ABC123.jpg", "ABC123"),  # the file name carries a SKU: it beats the folder
    ("SHOE-77/ABC123_PT02.jpg", "ABC123"),
    ("IMG_0001.jpg", "IMG_0001"),  # nothing else reads: a camera name is still a reading
])
def test_it_prefers_the_folder_over_a_camera_or_sequence_file_name(name, sku):
    assert FilenameRules().match(name).sku == sku


def test_it_chooses_an_existing_sku_before_a_new_one_and_a_valid_one_when_creating():
    rules = FilenameRules()
    found, new = rules.choose("SHOE-77/IMG_0001.jpg", exists={"IMG_0001"}.__contains__,
                              create=True)
    assert (found.sku, new) == ("IMG_0001", False)
    found, new = rules.choose("SHOE-77/IMG_0001.jpg", exists=lambda sku: False, create=True)
    assert (found.sku, new) == ("SHOE-77", True)
    found, new = rules.choose("bad sku!/IMG_0001.jpg", exists=lambda sku: False, create=True,
                              valid=lambda sku: " " not in sku)
    assert found.sku == "IMG_0001"
    assert rules.choose("X/IMG_1.jpg", exists=lambda sku: False, create=False) == (None, False)


def test_it_warns_when_a_new_sku_is_a_live_one_plus_a_separator_and_a_token():
    from catalog.ingest.naming import DELETED, LIVE, lookalike_warning, sku_prefixes

    assert sku_prefixes("A-1_ZZZ") == ["A-1", "A"]
    assert sku_prefixes("ABC") == [] and sku_prefixes("A__B") == ["A"]
    stored = {"QA012": LIVE, "OLD": DELETED}
    state = stored.get
    assert lookalike_warning("QA012_ZZZ", state=state) == (
        "QA012_ZZZ: new product created; did you mean product QA012 with an unknown position "
        "'ZZZ'? Known positions: MAIN, PT01, PT02, PT03, PT04, PT05, PT06, PT07, PT08, SWCH.")
    assert lookalike_warning("QA012 ZZZ", state=state, created=False).startswith(
        "QA012 ZZZ: a new product would be created; did you mean product QA012 ")
    assert lookalike_warning("OLD_ZZZ", state=state) == ""  # a deleted product: no
    assert lookalike_warning("QA0123", state=state) == ""  # no separator: another SKU


def test_it_names_the_characters_a_sku_cannot_have_but_not_a_patterns_own():
    from catalog.ingest.naming import Unmapped, file_target

    def why(name, rules):
        with pytest.raises(Unmapped) as refused:
            file_target(name, rules=rules, manifest=None, create=True, state=lambda sku: None,
                        sku_rule="SKU: letters and digits.")
        return str(refused.value)

    assert why("QA035_MAIN_é.jpg", FilenameRules()).startswith(
        "The file name has characters a SKU cannot have ('é'): SKU: letters and digits. ")
    # the space is the pattern's; nothing else in the name is wrong for a SKU
    assert why("QA035 ZZZ.jpg", FilenameRules(patterns=["{sku} {position}.jpg"])).startswith(
        "The file name matches no naming rule ({sku} {position}.jpg)")


LONG = "SUMMER-2026-LONG-PRODUCT-NAME-WITH-VARIANT-COLOUR-NAVY-SIZE-XL-EXTRA"


def _target(name: str, *, create: bool):
    return file_target(name, rules=FilenameRules(), manifest=None, create=create,
                       state=lambda sku: None, valid=lambda sku: bool(SKU_RE.match(sku)),
                       sku_rule=SKU_RULE)


@pytest.mark.parametrize("create", [True, False])
def test_it_says_an_over_long_sku_is_too_long_not_unknown(create):
    assert len(LONG) == 68 > SKU_MAX_LENGTH
    with pytest.raises(Unmapped) as refused:
        _target(f"{LONG}_MAIN.jpg", create=create)
    reason = str(refused.value)
    assert reason.startswith(SKU_RULE)
    assert f"1-{SKU_MAX_LENGTH} characters" in reason
    assert f"This name gives {LONG} (68 characters)" in reason
    assert "create products for unknown SKUs" not in reason


def test_it_still_creates_a_sku_at_the_length_limit():
    sku = "A" * SKU_MAX_LENGTH
    target = _target(f"{sku}_MAIN.jpg", create=True)
    assert (target.sku, target.new) == (sku, True)
    assert Product._meta.get_field("sku").max_length == SKU_MAX_LENGTH


@pytest.mark.django_db
def test_it_refuses_an_uploaded_file_with_an_over_long_sku_by_the_rule(storage):
    job = import_job_create(user=None, source_kind="upload", expected_files=1,
                            create_products=True)
    result = import_job_upload_file(job_id=job.pk, fileobj=io.BytesIO(jpeg_bytes(seed=4)),
                                    filename=f"{LONG}_MAIN.jpg")
    assert result.status == "rejected"
    assert "(68 characters)" in result.reason and "Rename the file" not in result.reason
    assert "rename the file, or map it with a manifest row" in result.reason
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_it_hints_at_a_mistyped_position_when_products_are_not_created():
    stored = {"SS26-TOY-005": LIVE}
    with pytest.raises(Unmapped) as caught:
        file_target("SS26-TOY-005_XYZ.jpg", rules=FilenameRules(), manifest=None,
                    create=False, state=stored.get)
    assert str(caught.value).startswith("Unknown SKU SS26-TOY-005_XYZ: no such product")
    assert ("did you mean product SS26-TOY-005 with an unknown position 'XYZ'?"
            in str(caught.value))
    with pytest.raises(Unmapped) as plain:
        file_target("SS26-TOY-006_XYZ.jpg", rules=FilenameRules(), manifest=None,
                    create=False, state=stored.get)
    assert "did you mean" not in str(plain.value)


# --- View words in a SKU's folder (QA: front/back/back_copy made products of their own) -----


def _chosen(names: list[str], *, existing: set[str] = frozenset()) -> dict[str, str]:
    """name -> the SKU the import sends it to, creating products, as ``file_target`` does."""
    rules = FilenameRules()
    return {name: file_target(name, rules=rules, manifest=None, create=True,
                              state=lambda sku: LIVE if sku in existing else None).sku
            for name in names}


def test_it_sends_view_named_files_in_a_sku_folder_to_the_folders_sku():
    names = ["SS26-ZIP-040/front.jpg", "SS26-ZIP-040/back.jpg", "SS26-ZIP-040/back_copy.jpg"]
    assert _chosen(names) == dict.fromkeys(names, "SS26-ZIP-040")


@pytest.mark.parametrize("existing", [set(), {"front"}])
def test_it_sends_each_folders_front_to_its_own_sku_even_beside_a_product_named_front(
        existing):
    names = ["SS26-ZIP-070/front.jpg", "SS26-ZIP-071/front.jpg", "SS26-ZIP-071/IMG_0002.jpg"]
    assert _chosen(names, existing=existing) == {
        "SS26-ZIP-070/front.jpg": "SS26-ZIP-070", "SS26-ZIP-071/front.jpg": "SS26-ZIP-071",
        "SS26-ZIP-071/IMG_0002.jpg": "SS26-ZIP-071"}


def test_it_never_asks_about_a_deleted_product_named_like_a_view():
    # the manager deleted the junk product "front": the folder's file is not stopped by it
    target = file_target("SS26-ZIP-070/front.jpg", rules=FilenameRules(), manifest=None,
                         create=True, state={"front": "deleted"}.get)
    assert (target.sku, target.new, target.rule) == ("SS26-ZIP-070", True, "folder name")


@pytest.mark.parametrize("stem", [
    "front", "BACK", "back_copy", "Back Copy", "front copy 2", "side (2)", "detail", "Close-Up",
    "closeup", "on_model", "on-model", "front_left", "left side view", "Lifestyle", "packaging",
    "flat-lay", "worn", "zoom", "alt", "angle", "label", "top", "bottom", "main_copy",
])
def test_it_reads_no_sku_from_a_view_word_in_a_folder(stem):
    assert FilenameRules().candidates(f"SHOE-77/{stem}.jpg") == [
        Match("SHOE-77", None, "folder name")]


@pytest.mark.parametrize(("stem", "position"), [
    ("main", "MAIN"), ("MAIN", "MAIN"), ("PT02", "PT02"), ("pt08", "PT08"), ("swatch", "SWCH"),
    ("swch", "SWCH"), ("front_main", "MAIN"),
])
def test_it_gives_the_folders_product_the_position_a_view_word_names(stem, position):
    assert FilenameRules().match(f"SHOE-77/{stem}.jpg") == Match("SHOE-77", position,
                                                                  "folder name")


def test_it_reads_a_numbered_view_word_like_a_camera_name():
    # "TOP-12" may be a real SKU: a product of it still beats a new folder product
    rules = FilenameRules()
    for name in ("SHOE-77/detail_02.jpg", "SHOE-77/front-1.jpg", "Shoot/TOP-12.jpg"):
        found, new = rules.choose(name, exists=lambda sku: False, create=True)
        assert (found.rule, new) == ("folder name", True)
    found, new = rules.choose("Shoot/TOP-12.jpg", exists={"TOP-12"}.__contains__, create=True)
    assert (found.sku, new) == ("TOP-12", False)


def test_it_keeps_reading_sku_names_at_the_root_in_folders_and_by_the_managers_regex():
    rules = FilenameRules()
    assert rules.match("ABC123.jpg") == Match("ABC123", None, "{sku}.jpg")
    assert rules.match("SHOE-77/ABC_PT01.jpg") == Match("ABC", "PT01", "{sku}_{position}.jpg")
    assert rules.match("SHOE-77/ABC123.jpg").sku == "ABC123"
    assert rules.match("frontier/backpack.jpg").sku == "backpack"  # words, not view words
    # at the root, or without the folder rule, nothing else reads a view word: it is the SKU
    assert rules.match("front.jpg").sku == "front"
    assert FilenameRules(use_folders=False).match("SHOE-77/front.jpg").sku == "front"
    # the manager's regex still wins
    regex = FilenameRules(regex=r"^(?:.*/)?(?P<sku>[a-z]+)\.jpg$")
    assert regex.match("SHOE-77/front.jpg").sku == "front"


def test_it_sends_a_new_sku_file_name_to_the_existing_folder_product():
    # a SKU that exists beats a new one: the folder's, when the file name's is unknown
    found, new = FilenameRules().choose("SHOE-77/NEW123.jpg", exists={"SHOE-77"}.__contains__,
                                        create=True)
    assert (found.sku, found.rule, new) == ("SHOE-77", "folder name", False)


def test_it_reads_a_long_view_like_name_quickly():
    import time

    from catalog.ingest.naming import view_kind

    started = time.monotonic()
    for unit in ("1", "_1", "copy", "front_", "(1)", "close-up "):
        assert view_kind("front" + unit * (75 // len(unit)) + "!") == ""
    assert time.monotonic() - started < 0.5


def test_it_warns_when_a_new_sku_is_a_view_word_but_not_a_numbered_one():
    from catalog.ingest.naming import LIVE, lookalike_warning, view_word_sku

    assert view_word_sku("front") and view_word_sku("back_copy") and view_word_sku("Side (2)")
    assert not view_word_sku("TOP-12") and not view_word_sku("SS26-040")
    assert lookalike_warning("front", state=lambda sku: None, created=False) == (
        "'front' looks like a view (front, back, side…) rather than a SKU; it would create "
        "product front. Put the photos in a folder named by the SKU (with \"a folder name is "
        "the SKU\" on), or rename them.")
    # the import's words; a view word is warned about as such even when its prefix exists
    assert lookalike_warning("back_copy", state={"back": LIVE}.get).startswith(
        "'back_copy' looks like a view (front, back, side…) rather than a SKU; it created "
        "product back_copy.")
    assert lookalike_warning("TOP-12", state=lambda sku: None) == ""  # may be a real SKU


def test_it_words_which_reading_wins_for_the_folder_rule_as_set():
    from catalog.ingest.naming import PRECEDENCE, precedence

    assert precedence(use_folders=True) == PRECEDENCE
    assert "the folder name" in PRECEDENCE
    without = precedence(use_folders=False)
    assert "the folder name" not in without and len(without) == len(PRECEDENCE) - 1
    assert not any("view word" in rule for rule in without)


QA_NESTED = ["SS26-ZIP-H/photos/front.jpg", "SS26-ZIP-H/photos/back.jpg",
             "SS26-ZIP-J/photos/front.jpg", "SS26-ZIP-J/photos/back.jpg"]


@pytest.mark.parametrize("existing", [set(), {"photos"}])
def test_it_reads_the_sku_folder_above_a_photos_folder_even_beside_a_product_named_photos(
        existing):
    assert _chosen(QA_NESTED, existing=existing) == {
        name: name.split("/", 1)[0] for name in QA_NESTED}


@pytest.mark.parametrize(("name", "sku"), [
    ("Season26/SKU-1/front.jpg", "SKU-1"),
    ("SKU-1/photos/front.jpg", "SKU-1"),
    ("Season26/SKU-1/Hi-Res/web copy/IMG_0001.jpg", "SKU-1"),
    ("SKU-1/final selects/back.jpg", "SKU-1"),
    ("SKU-1/front/IMG_0001.jpg", "SKU-1"),
    ("SKU-1/RAW/lowres/thumbs/side (2).jpg", "SKU-1"),
    ("TOP-12/photos/front.jpg", "TOP-12"),  # a numbered name may be a real SKU folder
])
def test_it_reads_the_innermost_folder_that_is_not_a_container(name, sku):
    # a camera name (IMG_0001) stays a last resort after the folder
    assert FilenameRules().candidates(name)[0] == Match(sku, None, "folder name")


def test_it_reads_a_file_under_container_folders_only_as_at_the_archives_root():
    from catalog.ingest.naming import container_folder, folder_sku

    assert folder_sku("photos/edited/front.jpg") is None
    assert FilenameRules().match("photos/front.jpg") == Match("front", None, "{sku}.jpg")
    assert FilenameRules().match("images/SHOE-77_PT01.jpg") == Match(
        "SHOE-77", "PT01", "{sku}_{position}.jpg")
    assert container_folder("Photos") and container_folder("HIGHRES")
    assert not container_folder("SS26-040") and not container_folder("photos-2")


def test_it_orders_a_front_or_main_view_first_among_files_without_a_position():
    from catalog.ingest.archives import name_order_key
    from catalog.ingest.naming import lead_view, position_order_name

    assert lead_view("SS26-ZIP-A/front.jpg") and lead_view("Front.JPG") and lead_view("main.png")
    assert not any(lead_view(n) for n in ("A/front_copy.jpg", "A/front-2.jpg", "A/back.jpg",
                                          "A/front_left.jpg", "A/IMG_0001.jpg"))
    names = ["A/back.jpg", "A/detail.jpg", "A/front.jpg", "A/zoom.jpg"]
    assert sorted(names, key=lambda n: name_order_key(position_order_name(n))) == [
        "A/front.jpg", "A/back.jpg", "A/detail.jpg", "A/zoom.jpg"]


@pytest.mark.parametrize(("name", "position"), [
    ("QA-SCISSORS/scissors.jpg", None), ("QA-SCISSORS/Scissors.JPG", None),
    ("RED-MUG-12/mug.jpg", None), ("RED-MUG-12/mug_PT01.jpg", "PT01"),
    ("red_mug_12/MUG-2.jpg", "PT01"),
])
def test_it_reads_a_word_of_the_folders_name_as_the_folders_product(name, position):
    # QA 2026-12-05: "QA-SCISSORS/scissors.jpg" made a product "scissors": a folder-per-SKU
    # shoot with descriptive file names split into one product per word
    found, new = FilenameRules().choose(name, exists=lambda sku: False, create=True)
    assert (found.sku, found.position, found.rule, new) == (
        name.split("/")[0], position, "folder name", True)


def test_it_still_reads_a_word_of_the_folders_name_that_is_an_existing_product():
    rules = FilenameRules()
    found, new = rules.choose("QA-SCISSORS/scissors.jpg", exists={"scissors"}.__contains__,
                              create=True)
    assert (found.sku, new) == ("scissors", False)
    # not a word of the folder's name, or the folder's whole name: the file name as before
    assert rules.match("QA-SCISSORS/knife.jpg").sku == "knife"
    assert rules.match("SCISSORS/scissors.jpg").sku == "scissors"
    assert rules.match("frontier/backpack.jpg").sku == "backpack"


def test_it_refuses_a_position_of_unicode_digits_with_its_words():
    # "²".isdigit() is true and int("²") raised ValueError: a 500 for an API position
    from catalog.ingest.naming import NamingError, normalize_position

    with pytest.raises(NamingError, match="Unknown position"):
        normalize_position("²")
    assert normalize_position("2") == normalize_position("PT01")

"""The spec language: parsing, canonical form, cache keys, and rejection of bad specs."""

import pytest

from cutouts.variants import OPERATIONS, SpecError, VariantSpec, parse_spec
from cutouts.variants.spec import Operation, register_operation

# one row per registered operation: (valid token, its canonical form)
OPERATION_EXAMPLES = {
    "trim": [("trim", "trim"), ("trim-8", "trim"), ("TRIM-40", "trim-40")],
    "fill": [("fill-85", "fill-85"), ("fill-100", "fill-100")],
    "margin": [("margin-20", "margin-20"), ("margin-1,2,3,4", "margin-1,2,3,4"),
               ("margin-5,5,5,5", "margin-5")],
    "canvas": [("canvas-2000x1500", "canvas-2000x1500")],
    "fit": [("fit-800x600", "fit-800x600")],
    "cover": [("cover-300x200", "cover-300x200")],
    "long": [("long-1600", "long-1600")],
    "short": [("short-2000", "short-2000")],
    "square": [("square", "square"), ("square-2048", "square-2048")],
    "align": [("align-center", "align-center"), ("align-centre", "align-center"),
              ("align-bottom", "align-bottom"), ("align-bottom-40", "align-bottom-40")],
    "bg": [("bg-FFFFFF", "bg-ffffff"), ("bg-fff", "bg-ffffff"),
           ("bg-transparent", "bg-transparent"), ("bg-Oak-Floor", "bg-oak-floor")],
    "shadow": [("shadow-none", "shadow-none"), ("shadow-keep", "shadow-keep"),
               ("shadow-synthetic", "shadow-synthetic"), ("shadow-contact", "shadow-contact"),
               ("shadow-drop", "shadow-drop")],
    "safe": [("safe-8", "safe-8")],
    "scale": [("scale-90", "scale-90")],
    "floor": [("floor-75", "floor-75")],
    "harmonize": [("harmonize", "harmonize")],
    "logo": [("logo-acme-co-br", "logo-acme-co-br"), ("logo-acme-TL", "logo-acme-tl")],
    "format": [("format-png", "format-png"), ("format-webp", "format-webp"),
               ("format-avif", "format-avif")],
    "quality": [("quality-1", "quality-1"), ("quality-100", "quality-100")],
    "lossless": [("lossless", "lossless")],
    "srgb": [("srgb", "srgb")],
    "maxbytes": [("maxbytes-5000000", "maxbytes-5000000")],
    "dpi": [("dpi-72", "dpi-72")],
    "keepmeta": [("keepmeta", "keepmeta")],
}
# companions some operations need to form a valid spec on their own
COMPANIONS = {"quality": "format-jpeg|bg-ffffff", "lossless": "format-webp"}
SCENE = "canvas-600x400|bg-ffffff"
COMPANIONS.update(dict.fromkeys(("safe", "scale", "floor", "harmonize", "logo"), SCENE))
# bg-<slug> and the scene shadows make a scene, which needs a fixed canvas
COMPANIONS["bg"], COMPANIONS["shadow"] = "canvas-600x400", "canvas-600x400|bg-ffffff"

ROWS = [(name, token, canon) for name, rows in OPERATION_EXAMPLES.items() for token, canon in rows]


def test_it_has_an_example_for_every_registered_operation():
    assert set(OPERATION_EXAMPLES) == set(OPERATIONS)


@pytest.mark.parametrize(("name", "token", "canonical"), ROWS)
def test_it_parses_every_operation_and_round_trips_it(name, token, canonical):
    text = f"{token}|{COMPANIONS[name]}" if name in COMPANIONS else token
    spec = parse_spec(text)
    op = spec.get(name)
    assert op is not None
    assert op.token() == canonical
    assert parse_spec(spec.canonical()) == spec
    assert parse_spec(spec.canonical()).canonical() == spec.canonical()


def test_it_canonicalises_the_issue_example():
    text = ("trim|fill-85|canvas-2000x2000|bg-FFFFFF|shadow-keep|align-bottom|format-jpg|"
            "quality-90|srgb|maxbytes-5000000|dpi-72")
    spec = parse_spec(text)
    assert spec.canonical() == (
        "trim|fill-85|canvas-2000x2000|align-bottom|bg-ffffff|shadow-keep|format-jpeg|"
        "quality-90|srgb|maxbytes-5000000|dpi-72"
    )
    assert spec.format == "jpeg" and spec.extension == "jpg" and spec.mime_type == "image/jpeg"
    assert spec.background == (255, 255, 255)
    assert spec.shadow == "keep"
    assert spec.fixed_canvas() == (2000, 2000)


def test_it_ignores_token_order_case_and_whitespace():
    a = parse_spec("format-jpeg|bg-ffffff|trim|fill-85")
    b = parse_spec("  FILL-85 | Trim |bg-FFF|format-JPEG ")
    assert a == b and hash(a) == hash(b)
    assert a.canonical() == b.canonical() == "trim|fill-85|bg-ffffff|format-jpeg"


def test_it_gives_stable_cache_keys_per_spec_and_input():
    spec = parse_spec("trim|fill-85|square-2000|bg-ffffff|format-jpeg")
    same = parse_spec("format-jpeg|bg-fff|square-2000|fill-85|trim")
    key = spec.cache_key("abc")
    assert key == same.cache_key("abc")
    assert len(key) == 64 and int(key, 16) >= 0
    assert key != spec.cache_key("abd")
    assert key != parse_spec("trim|fill-86|square-2000|bg-ffffff|format-jpeg").cache_key("abc")


def test_it_changes_every_cache_key_with_the_renderer_version(monkeypatch):
    from cutouts.variants import spec as spec_module

    spec = parse_spec("square-1200|bg-ffffff|format-jpeg")
    before = spec.cache_key("abc")
    monkeypatch.setattr(spec_module, "RENDERER_VERSION", spec_module.RENDERER_VERSION + "x")
    # content-addressed files: an older renderer's file must never pass for a new render
    assert spec.cache_key("abc") != before


def test_it_defaults_to_a_transparent_png():
    spec = parse_spec("trim")
    assert spec.format == "png" and spec.background is None and spec.shadow == "none"


def test_it_is_immutable_and_cached():
    spec = parse_spec("trim|format-png")
    assert parse_spec("trim|format-png") is spec
    with pytest.raises(AttributeError):
        spec.foo = 1


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty spec"),
        ("trim||fill-85", "empty token at position 2"),
        ("blur-3", "unknown operation 'blur' in token 'blur-3'"),
        ("trim|fill-85|fill-90", "duplicate operation 'fill'"),
        ("fill-abc", "'fill-abc'"),
        ("fill-5", "5 is out of range, expected a product fill percentage 10-100"),
        ("fill", "'fill'"),
        ("canvas-2000", "expected WIDTHxHEIGHT"),
        ("canvas-0x10", "between 1 and"),
        ("canvas-20000x20000", "more than 100000000 pixels"),
        ("square-abc", "'square-abc'"),
        ("bg-red_wall", "expected bg-RRGGBB"),
        ("bg-12345g.", "'bg-12345g.'"),
        ("shadow-soft", "shadow-none, shadow-keep or shadow-synthetic"),
        ("bg-oak|safe-10", "a scene needs a fixed canvas"),
        ("canvas-100x100|bg-transparent|safe-10", "a scene needs an opaque background"),
        ("canvas-100x100|bg-oak|fill-85", "'fill-85' does not apply to a scene"),
        ("canvas-100x100|bg-oak|scale-80|fill-80", "'scale' and 'fill' both size"),
        ("safe-50", "50 is out of range, expected a safe-area inset 0-40"),
        ("logo-acme-middle", "logo-<slug>-<corner>"),
        ("align-left", "align-center, align-bottom"),
        ("format-gif", "'format-gif'"),
        ("quality-0|format-jpeg|bg-fff", "0 is out of range, expected a quality 1-100"),
        ("quality-101|format-jpeg|bg-fff", "'quality-101'"),
        ("margin-1,2", "margin-N or margin-T,R,B,L"),
        ("margin-x", "'margin-x'"),
        ("trim-0", "'trim-0'"),
        ("trim-300", "300 is out of range, expected"),
        ("srgb-2", "srgb takes no argument"),
        ("keepmeta-yes", "keepmeta takes no argument"),
        ("maxbytes-10", "expected a byte limit 1024-"),
        ("dpi-0", "'dpi-0'"),
        ("canvas-100x100|long-50", "conflicting size operations"),
        ("fit-100x100|square-50", "conflicting size operations"),
        ("canvas-100x100|square", "'square' cannot be combined"),
        ("fill-85|margin-10", "mutually exclusive"),
        ("fill-85|cover-100x100", "cannot be combined with 'fill'"),
        ("canvas-100x100|margin-50", "leaves no room"),
        ("canvas-100x100|align-bottom-100", "taller than the canvas"),
        ("fit-100x100|margin-50", "leaves no room inside 'fit-100x100'"),
        ("long-100|margin-0,50,0,50", "leaves no room inside 'long-100'"),
        ("format-jpeg", "format-jpeg cannot store transparency"),
        ("format-jpeg|bg-transparent", "add an opaque background"),
        ("format-png|quality-80", "'quality' does not apply to format-png"),
        ("format-png|lossless", "format-webp only (format-png is always lossless)"),
        ("format-webp|lossless|quality-80", "mutually exclusive"),
        ("format-webp|dpi-72", "not supported by format-webp"),
        ("format-avif|dpi-72", "not supported by format-avif"),
        ("trim|" * 200, "longer than 500"),
    ],
)
def test_it_rejects_bad_specs_with_a_clear_message(text, fragment):
    with pytest.raises(SpecError) as excinfo:
        parse_spec(text)
    assert fragment in str(excinfo.value)


@pytest.mark.parametrize("text", ["bg-fffff", "bg-ffff", "bg-fffffff", "square-1200|bg-fffff",
                                  "trim|fill-85|square-2000|bg-fffff|format-jpeg"])
def test_it_says_a_mistyped_hex_colour_needs_6_digits_rather_than_naming_a_background(text):
    # was read as the library background 'fffff': a scene, so "'fill-85' does not apply"
    with pytest.raises(SpecError, match="bg-RRGGBB needs 6 hex digits") as excinfo:
        parse_spec(text)
    assert excinfo.value.token.startswith("bg-f")


def test_it_keeps_mistyped_colours_out_of_the_library_slugs():
    from cutouts.variants.spec import is_colour_word

    assert all(is_colour_word(s) for s in ("fff", "ffff", "fffff", "ffffff", "fffffff",
                                           "f5f5f", "eeeeee0"))
    # words made of a-f stay possible background names: a typo has a digit or repeats
    assert not any(is_colour_word(s) for s in ("oak", "ffffffff", "fffffg", "cafe-wall",
                                               "cafe", "faded", "decaf"))
    assert parse_spec("square-1000|bg-cafe").library_slugs() == ["cafe"]


QA_WHITE = "trim|fill-85|square-1200|bg-white|format-jpeg"


def test_it_names_bg_white_as_the_bad_token_not_fill_85():
    # was "'fill-85' does not apply to a scene": 'white' was read as a library background
    with pytest.raises(SpecError) as excinfo:
        parse_spec(QA_WHITE)
    message = str(excinfo.value)
    assert excinfo.value.token == "bg-white"
    assert message.startswith("bad token 'bg-white': 'white' is not a colour")
    assert "write bg-ffffff" in message
    assert "fill-85" not in message and "does not apply to a scene" not in message


def test_it_keeps_bg_white_a_library_background_where_a_scene_is_possible():
    # not an alias of bg-ffffff: a library photo called "white" keeps meaning itself; the
    # export's library check refuses it when there is none
    assert parse_spec("square-1200|bg-white|format-jpeg").library_slugs() == ["white"]
    assert parse_spec(QA_WHITE.replace("bg-white", "bg-ffffff")).canonical() == (
        "trim|fill-85|square-1200|bg-ffffff|format-jpeg")


def test_it_lists_a_misread_background_with_three_other_bad_tokens():
    with pytest.raises(SpecError) as excinfo:
        parse_spec("trim|fill-85|squar-1200|bg-zzzzzz|qualty-80|shadow-soft|format-jpeg")
    message = str(excinfo.value)
    assert message.startswith("4 bad tokens: unknown operation 'squar' in token 'squar-1200'; "
                              "bad token 'bg-zzzzzz': not a colour")
    # in the order typed: the background between 'squar-1200' and 'qualty-80'
    assert message.index("'bg-zzzzzz'") < message.index("'qualty-80'")
    assert "shadow-soft" in message and excinfo.value.token == "squar-1200"


def test_it_says_both_readings_of_a_word_that_may_be_a_background():
    with pytest.raises(SpecError) as excinfo:
        parse_spec("canvas-100x100|bg-oak|fill-85")
    message = str(excinfo.value)
    assert excinfo.value.token == "bg-oak"
    assert "not a colour (bg-RRGGBB in hex, e.g. bg-ffffff)" in message
    assert "read as the library background 'oak' it makes this spec a scene" in message


@pytest.mark.parametrize(("text", "fragment"), [
    ("trim|bg-white|format-jpeg", "'white' is not a colour (write bg-ffffff for white)"),
    ("trim|bg-oak|format-jpeg", "which needs a fixed canvas (canvas-WxH or square-N)"),
    ("fill-85|square-100|bg-Black", "'black' is not a colour (write bg-000000 for black)"),
    ("fill-85|square-100|bg-none|format-png", "write bg-transparent for no background"),
    ("fill-85|square-100|bg-ffffffff", "a background colour has no alpha"),
])
def test_it_refuses_the_background_token_of_a_spec_that_is_no_scene(text, fragment):
    with pytest.raises(SpecError) as excinfo:
        parse_spec(text)
    assert fragment in str(excinfo.value)
    assert excinfo.value.token.lower().startswith("bg-")


def test_it_also_lists_what_else_is_wrong_with_the_colour_reading():
    with pytest.raises(SpecError) as excinfo:
        parse_spec(QA_WHITE.replace("format-jpeg", "format-png|quality-80"))
    message = str(excinfo.value)
    assert message.startswith("2 bad tokens: bad token 'bg-white'")
    assert message.endswith("'quality' does not apply to format-png (lossless)")


@pytest.mark.parametrize(("text", "token"), [
    # a scene by intent (scale-80): its own rule is the error
    ("canvas-100x100|bg-oak|scale-80|margin-10", "margin-10"),
    # the missing canvas may be the mistyped token: the background is not blamed
    ("squar-1200|bg-oak|format-jpeg", "squar-1200"),
])
def test_it_does_not_blame_a_background_that_may_be_meant(text, token):
    with pytest.raises(SpecError) as excinfo:
        parse_spec(text)
    assert excinfo.value.token == token
    assert "not a colour" not in str(excinfo.value)


def test_it_says_lossless_needs_a_lossless_format_not_that_jpeg_has_no_alpha():
    with pytest.raises(SpecError) as excinfo:
        parse_spec("lossless|format-jpeg")
    assert "JPEG is lossy" in str(excinfo.value) and "transparency" not in str(excinfo.value)
    assert excinfo.value.token == "lossless"


@pytest.mark.parametrize("text", ["square-0", "quality-0|format-jpeg|bg-fff", "fill-5", "dpi-0"])
def test_it_states_a_range_once_in_its_error(text):
    with pytest.raises(SpecError) as excinfo:
        parse_spec(text)
    message = str(excinfo.value)
    assert "must be between" not in message and "out of range, expected" in message


def test_it_rejects_non_string_specs():
    with pytest.raises(SpecError, match="must be a string"):
        parse_spec(None)


def test_it_names_the_bad_token_on_the_exception():
    with pytest.raises(SpecError) as excinfo:
        parse_spec("trim|fill-85|canvas-2000xx2000|bg-ffffff")
    assert excinfo.value.token == "canvas-2000xx2000"


def test_it_reports_every_bad_token_at_once_and_the_known_operations_once():
    with pytest.raises(SpecError) as excinfo:
        parse_spec("squar-1200|bg-fffff|trim||qualty-80|trim")
    message = str(excinfo.value)
    assert message.startswith("5 bad tokens: unknown operation 'squar' in token 'squar-1200'")
    for fragment in ("bg-RRGGBB needs 6 hex digits", "empty token at position 4",
                     "unknown operation 'qualty'", "duplicate operation 'trim'"):
        assert fragment in message
    assert message.count("(known: ") == 1 and message.endswith("srgb, trim)")
    assert excinfo.value.token == "squar-1200"  # the first bad one


def test_it_refuses_to_register_an_operation_twice():
    class Again(Operation):
        name = "trim"

    with pytest.raises(ValueError, match="already registered"):
        register_operation(Again)


def test_it_resolves_square_with_a_size_to_a_fixed_canvas():
    assert parse_spec("square|long-1000").fixed_canvas() == (1000, 1000)
    assert parse_spec("square|short-800").fixed_canvas() == (800, 800)
    assert parse_spec("square|fit-800x600").fixed_canvas() == (600, 600)
    assert parse_spec("square").fixed_canvas() is None
    assert parse_spec("long-1000").fixed_canvas() is None


def test_it_builds_a_spec_from_operation_objects():
    spec = VariantSpec([OPERATIONS["format"].parse("format-png", "png"),
                        OPERATIONS["trim"].parse("trim", None)])
    assert spec.canonical() == "trim|format-png"
    assert repr(spec) == "VariantSpec('trim|format-png')"

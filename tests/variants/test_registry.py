"""The open registry: a new operation is one class (layout, encoder options, cache inputs), the
size operations share one shape, cache keys hash only declared inputs, parsed specs travel."""

import copy
import hashlib
import io
from dataclasses import dataclass
from typing import ClassVar

import pytest
from PIL import Image

from cutouts.variants import (
    CUTOUT_INPUT,
    OPERATIONS,
    PRESETS,
    SHADOW_INPUT,
    Preset,
    RenderInputs,
    Rules,
    SpecError,
    VariantSpec,
    as_spec,
    check_spec,
    library_input,
    parse_spec,
    render_variant,
    rendition_key,
)
from cutouts.variants.spec import (
    FlagOperation,
    IntOperation,
    SizeOperation,
    register_operation,
    unregister_operation,
)

from .synthetic import cutout, decode


@dataclass(frozen=True)
class Inset(IntOperation):
    """``inset-N``: N px of margin on every side, contributed in the layout's box phase."""

    pixels: int
    name: ClassVar[str] = "inset"
    order: ClassVar[int] = 26
    bounds: ClassVar[tuple[int, int]] = (0, 500)
    expects: ClassVar[str] = "an inset in pixels 0-500"

    def layout(self, ctx, phase):
        if phase == "box":
            ctx.margins = (self.pixels,) * 4


@dataclass(frozen=True)
class Progressive(FlagOperation):
    """``progressive``: a progressive JPEG, contributed as an encoder option."""

    name: ClassVar[str] = "progressive"
    order: ClassVar[int] = 63

    def encode(self, options):
        options.save["progressive"] = True


@dataclass(frozen=True)
class Watermark(FlagOperation):
    """``watermark``: reads a library item, so its digest belongs in the cache key."""

    name: ClassVar[str] = "watermark"
    order: ClassVar[int] = 58

    def cache_inputs(self):
        return (library_input("mark"),)


@pytest.fixture
def toys():
    for cls in (Inset, Progressive, Watermark):
        register_operation(cls)
    yield
    for cls in (Inset, Progressive, Watermark):
        unregister_operation(cls.name)


@pytest.fixture(scope="module")
def rgba():
    return cutout((400, 300), (100, 60, 300, 240))


def test_it_lays_out_with_an_operation_registered_outside_the_renderer(toys, rgba):
    toy = render_variant(rgba, "trim|inset-12|long-300|format-png")
    plain = render_variant(rgba, "trim|long-300|format-png")
    alpha = decode(toy.data)[1][..., 3]
    assert max(toy.width, toy.height) == 300
    assert toy.metadata["scale"] < plain.metadata["scale"]
    assert (alpha[:10] == 0).all() and (alpha[-10:] == 0).all()
    assert (alpha[:, :10] == 0).all() and (alpha[:, -10:] == 0).all()
    # the toy's contribution is exactly margin-12's: the layout ran the toy's own step
    assert toy.data == render_variant(rgba, "trim|margin-12|long-300|format-png").data


def test_it_encodes_with_an_operation_registered_outside_the_renderer(toys, rgba):
    spec = "trim|long-200|bg-ffffff|format-jpeg"
    plain = Image.open(io.BytesIO(render_variant(rgba, spec).data))
    progressive = Image.open(io.BytesIO(render_variant(rgba, spec + "|progressive").data))
    assert not plain.info.get("progressive")
    assert progressive.info.get("progressive")


def test_it_forgets_an_unregistered_operation(rgba):
    register_operation(Inset)
    assert parse_spec("inset-3").get("inset") == Inset(3)
    unregister_operation("inset")
    with pytest.raises(SpecError, match="unknown operation 'inset'"):
        parse_spec("inset-3")


def test_it_keys_a_toy_operation_by_the_input_it_declares(toys):
    spec = parse_spec("trim|watermark|format-png")
    assert spec.cache_inputs == (CUTOUT_INPUT, library_input("mark"))
    key = rendition_key(spec, {CUTOUT_INPUT: "c", library_input("mark"): "m1"})
    assert key != rendition_key(spec, {CUTOUT_INPUT: "c", library_input("mark"): "m2"})


# ---------------------------------------------------------------- one shape for sizes and ints


@pytest.mark.parametrize("name", ["canvas", "fit", "cover", "long", "short"])
def test_it_gives_every_size_operation_one_shape(name):
    cls = OPERATIONS[name]
    assert issubclass(cls, SizeOperation) and cls.group == "size" and cls.order == 30
    arg = "300x200" if name in ("canvas", "fit", "cover") else "300"
    op = cls.parse(f"{name}-{arg}", arg)
    assert op.token() == f"{name}-{arg}"
    assert op.bounds() == ((300, 200) if "x" in arg else (300, 300))
    with pytest.raises(SpecError, match=f"bad token '{name}-x'"):
        cls.parse(f"{name}-x", "x")


@pytest.mark.parametrize("name", ["fill", "quality", "maxbytes", "dpi", "safe", "scale",
                                  "floor"])
def test_it_parses_spec_and_scene_numbers_with_one_shape(name):
    cls = OPERATIONS[name]
    lo, hi = cls.bounds
    assert issubclass(cls, IntOperation)
    top = min(hi, 999_999_999)  # arguments have at most nine digits
    assert cls.parse(f"{name}-{top}", str(top)).token() == f"{name}-{top}"
    bad = str(hi + 1) if hi < 999_999_999 else str(lo - 1)
    with pytest.raises(SpecError, match=f"{bad} is out of range, expected .*{lo}-{hi}"):
        cls.parse(f"{name}-{bad}", bad)


# ---------------------------------------------------------------- cache inputs


def test_it_never_hashes_the_shadow_for_a_spec_without_shadow_keep():
    for text in ("trim|format-png", "trim|shadow-none|format-png",
                 "trim|fill-80|canvas-300x300|bg-ffffff|shadow-synthetic|format-png"):
        spec = parse_spec(text)
        assert SHADOW_INPUT not in spec.cache_inputs
        with_shadow = rendition_key(spec, {CUTOUT_INPUT: "c", SHADOW_INPUT: "s1"})
        assert with_shadow == rendition_key(spec, {CUTOUT_INPUT: "c", SHADOW_INPUT: "s2"})
        assert with_shadow == rendition_key(spec, {CUTOUT_INPUT: "c"})


def test_it_hashes_the_shadow_for_shadow_keep():
    spec = parse_spec("trim|fill-80|canvas-300x300|bg-ffffff|shadow-keep|format-png")
    assert spec.cache_inputs == (CUTOUT_INPUT, SHADOW_INPUT)
    one = rendition_key(spec, {CUTOUT_INPUT: "c", SHADOW_INPUT: "s1"})
    assert one != rendition_key(spec, {CUTOUT_INPUT: "c", SHADOW_INPUT: "s2"})
    assert one != rendition_key(spec, {CUTOUT_INPUT: "c"})  # a cutout without a shadow layer


def test_it_hashes_only_the_library_items_a_scene_names():
    spec = parse_spec("canvas-600x400|bg-oak|logo-acme-br|format-png")
    assert spec.cache_inputs == (CUTOUT_INPUT, library_input("acme"), library_input("oak"))
    assert spec.library_slugs() == ["acme", "oak"]
    inputs = {CUTOUT_INPUT: "c", library_input("oak"): "o1", library_input("acme"): "a1"}
    key = rendition_key(spec, inputs)
    assert key == rendition_key(spec, {**inputs, library_input("elm"): "e1"})
    assert key != rendition_key(spec, {**inputs, library_input("oak"): "o2"})
    assert key != rendition_key(spec, {**inputs, CUTOUT_INPUT: "d"})


def test_it_reads_only_the_declared_inputs_from_a_lazy_mapping():
    class Lazy(dict):
        def __missing__(self, name):
            raise AssertionError(f"{name} was not needed")

        def get(self, name, default=None):
            if name == SHADOW_INPUT:
                raise AssertionError("the shadow was hashed")
            return super().get(name, default)

    assert rendition_key("trim|format-png", Lazy({CUTOUT_INPUT: "c"}))


def test_it_hashes_the_shadow_layer_only_for_a_spec_that_declares_it():
    class Unhashable:  # sha256 rejects it: any attempt to hash this "shadow" raises
        pass

    inputs = RenderInputs(cutout=b"rgba", shadow=Unhashable())
    digest = hashlib.sha256(b"rgba").hexdigest()
    assert rendition_key("trim|format-png", inputs) == rendition_key(
        "trim|format-png", {CUTOUT_INPUT: digest})
    with pytest.raises(TypeError):
        rendition_key("trim|fill-80|canvas-90x90|bg-fff|shadow-keep|format-png", inputs)
    kept = "trim|fill-80|canvas-90x90|bg-fff|shadow-keep|format-png"
    assert rendition_key(kept, RenderInputs(cutout=b"rgba", shadow=b"s")) == rendition_key(
        kept, {CUTOUT_INPUT: digest, SHADOW_INPUT: hashlib.sha256(b"s").hexdigest()})


def test_it_shares_a_cutouts_digests_across_library_items():
    base = RenderInputs(cutout=b"rgba")
    oak, elm = base.with_library({"oak": "o1"}), base.with_library({"elm": "e1"})
    assert oak[library_input("oak")] == "o1" and library_input("oak") not in elm
    assert oak[CUTOUT_INPUT] == elm[CUTOUT_INPUT] == base[CUTOUT_INPUT]
    assert set(oak) == {CUTOUT_INPUT, library_input("oak")} and len(elm) == 2


def test_it_replaces_an_operation_of_a_parsed_spec():
    amazon = PRESETS["amazon_main"].variant_spec
    preview = amazon.with_tokens("square-600")
    assert preview.get("square").size == 600 and amazon.get("square").size == 2000
    assert preview.canonical() == amazon.canonical().replace("square-2000", "square-600")
    assert amazon.with_tokens("dpi-72").get("dpi").value == 72
    with pytest.raises(SpecError, match="conflicting size operations"):
        amazon.with_tokens("long-300")


def test_it_needs_the_cutout_digest_for_a_key():
    with pytest.raises(KeyError, match="cutout"):
        rendition_key("trim", {SHADOW_INPUT: "s"})


def test_it_keeps_the_key_formula_over_one_input_hash():
    # the payload layout must not drift; these values change only with RENDERER_VERSION
    # (2: windowed resample; 3: the significant alpha's box also without trim; 4: shadows fade
    # out before a wider band along the frame; 5: margin-N keeps the product out of the margin)
    assert parse_spec("trim|format-png").cache_key("abc") == (
        "14eba2ffa306f1eab42093b05acb573beb2018c6d729939e7966f9db9422189e")
    amazon = PRESETS["amazon_main"].variant_spec
    assert amazon.cache_key("abc") == (
        "726ec991ddf15127584c54bbc0a49f254b05c28543b2a3201e47e1e0242b65e7")
    assert rendition_key(amazon, {CUTOUT_INPUT: "abc"}) == amazon.cache_key("cutout=abc")


# ---------------------------------------------------------------- the parsed spec travels


def test_it_renders_and_checks_a_parsed_spec_like_its_string(rgba):
    text = "trim|fill-85|square-300|bg-ffffff|format-png"
    spec = parse_spec(text)
    assert as_spec(spec) is spec and as_spec(text) is spec
    assert render_variant(rgba, spec).data == render_variant(rgba, text).data
    preset = PRESETS["amazon_main"]
    mixed = "canvas-600x400|bg-oak|format-jpeg"
    assert check_spec(mixed, preset) == check_spec(parse_spec(mixed), preset) != []


def test_it_parses_a_presets_spec_once_and_keeps_it():
    preset = PRESETS["ebay"]
    assert preset.variant_spec is preset.variant_spec
    assert isinstance(preset.variant_spec, VariantSpec)
    assert preset.variant_spec.canonical() == parse_spec(preset.spec).canonical()


def test_it_checks_a_preset_by_parsing_its_spec_once():
    good = Preset("p", "P", "format-png|trim", "{sku}.{ext}", Rules())
    assert good.checked() is good and "variant_spec" in vars(good)
    with pytest.raises(SpecError, match="unknown operation 'blur'"):
        Preset("q", "Q", "trim|blur-3", "{sku}.{ext}", Rules()).checked()


def test_it_copies_a_parsed_spec_by_its_canonical_form():
    spec = parse_spec("format-jpeg|bg-fff|trim")
    assert copy.deepcopy(spec) is spec and copy.copy(spec) is spec

"""Variant spec language: the operation registry, the parsed :class:`VariantSpec` and its cache key.

A spec string such as ``trim|fill-85|canvas-2000x2000|bg-ffffff|format-jpeg|quality-90`` is
parsed once into a :class:`VariantSpec` holding registered, self-validating operation objects
(the idea of Wagtail's ``Filter`` / ``image_operations``). Each operation class is the whole of
its behaviour: it parses and prints its token, contributes its step to the layout transform
(:meth:`Operation.layout`, phases in :mod:`.layout`), the encoder options it owns
(:meth:`Operation.encode`), its scene steps (:mod:`.scene`) and the render inputs its cache key
depends on (:meth:`Operation.cache_inputs`). A new operation is one registered class; the
renderer has no switch on operation names. The built-in operations live in :mod:`.operations`
and :mod:`.scene`; this module holds their base classes (one shape per kind of argument).

Unlike Wagtail the operations are *declarative*: the renderer runs them in a fixed pipeline
order, so the order of tokens in the string does not matter and ``canonical()`` sorts them
into pipeline order. That makes ``a|b`` and ``b|a`` share one rendition cache key.

Every token is ``name`` or ``name-argument``. Names and arguments are case-insensitive.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, Self

from .errors import SpecError

if TYPE_CHECKING:
    from .layout import LayoutContext, Patch, PlacedProduct

#: Bump when the renderer changes output for an unchanged spec: invalidates every cache key.
#: 2: the product is resampled in windows around it (a pixel may move by a level or two).
#: 3: a spec without trim or fill lays out and reports (product box, fill) the significant
#:    alpha's box, not the box of all the alpha: faint stray alpha no longer moves the product.
#: 4: a shadow (kept or synthetic) stays out of a wider band along the frame (3 % of the short
#:    side, was 2 %) and fades in over as much again, instead of a straight cut; a scene's
#:    drop shadow takes the product's outline, not its alpha (a glass casts one).
#: 5: with margin-N, nothing of the product (an enlarged edge's resampling spread, the rim
#:    under alpha 32) is pasted past the layout box into the margin (2026-12-06, QA L4).
RENDERER_VERSION = "5"

MAX_SPEC_LENGTH = 500
MAX_SIDE = 20_000
MAX_PIXELS = 100_000_000
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*$")
_INT_RE = re.compile(r"^[0-9]{1,9}$")
_WXH_RE = re.compile(r"^([0-9]{1,6})x([0-9]{1,6})$")

#: render inputs a cache key can depend on: the cutout's RGBA file (every spec), its stored
#: shadow layer, and library items as ``library:<slug>`` (see :func:`library_input`)
CUTOUT_INPUT = "cutout"
SHADOW_INPUT = "shadow"
LIBRARY_PREFIX = "library:"
#: what an input the spec depends on but the caller cannot provide counts as in the key
ABSENT = "-"

OPERATIONS: dict[str, type[Operation]] = {}


def register_operation(cls: type[Operation]) -> type[Operation]:
    """Class decorator adding an operation to the registry under ``cls.name``."""
    if cls.name in OPERATIONS:
        raise ValueError(f"operation {cls.name!r} is already registered")
    OPERATIONS[cls.name] = cls
    return cls


def unregister_operation(name: str) -> None:
    """Remove an operation (plugins, tests); cached parses that used it are dropped too."""
    del OPERATIONS[name]
    parse_spec.cache_clear()


def library_input(slug: str) -> str:
    """The cache-input name of a library background or logo."""
    return LIBRARY_PREFIX + slug


def _int(token: str, arg: str | None, what: str, lo: int, hi: int) -> int:
    if arg is None or not _INT_RE.match(arg):
        raise SpecError(f"bad token {token!r}: expected {what}", token)
    value = int(arg)
    if not lo <= value <= hi:
        # ``what`` already states the range ("a quality 1-100"): say it once
        raise SpecError(f"bad token {token!r}: {value} is out of range, expected {what}", token)
    return value


def _wxh(token: str, arg: str | None) -> tuple[int, int]:
    match = _WXH_RE.match(arg or "")
    if not match:
        raise SpecError(f"bad token {token!r}: expected WIDTHxHEIGHT, e.g. 2000x2000", token)
    w, h = int(match[1]), int(match[2])
    if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
        raise SpecError(f"bad token {token!r}: each side must be between 1 and {MAX_SIDE}", token)
    if w * h > MAX_PIXELS:
        raise SpecError(f"bad token {token!r}: more than {MAX_PIXELS} pixels", token)
    return w, h


def _no_arg(token: str, arg: str | None, name: str) -> None:
    if arg is not None:
        raise SpecError(f"bad token {token!r}: {name} takes no argument", token)


@dataclass(frozen=True)
class Operation:
    """Base class. Subclasses set ``name`` and ``order``, implement ``parse``/``token`` and
    override the hooks their behaviour needs; every hook defaults to "no contribution"."""

    name: ClassVar[str] = ""
    order: ClassVar[int] = 0
    #: operations sharing a group are mutually exclusive (e.g. all the sizing operations)
    group: ClassVar[str | None] = None
    #: the layout measures the product (significant alpha) rather than the whole frame
    measures_product: ClassVar[bool] = False

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:  # pragma: no cover - abstract
        raise NotImplementedError

    def token(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def is_scene(self) -> bool:
        """Whether this operation composes a scene (see ``scene.py``)."""
        return False

    def validate_with(self, spec: VariantSpec) -> None:
        """Cross-checks an operation makes against the rest of the spec (override)."""

    def alpha_threshold(self) -> int | None:
        """Alpha below which the cutout counts as background (None: no opinion)."""
        return None

    def fixed_canvas(self, spec: VariantSpec) -> tuple[int, int] | None:
        """The output size this operation fixes whatever the input, if it does."""
        return None

    def layout(self, ctx: LayoutContext, phase: str) -> None:
        """This operation's step of the layout transform in ``phase`` (see
        :data:`cutouts.variants.layout.LAYOUT_PHASES`)."""

    def shadow_patch(self, placed: PlacedProduct) -> Patch | None:
        """A shadow to darken under the placed product on a flat (non-scene) canvas."""
        return None

    def encode(self, options: EncodeOptions) -> None:
        """The encoder options this operation owns (Pillow save kwargs, quality, byte limit)."""

    def cache_inputs(self) -> tuple[str, ...]:
        """Render inputs besides the cutout itself that this operation reads (cache key)."""
        return ()


class FlagOperation(Operation):
    """An operation without an argument: its token is its name."""

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:
        _no_arg(token, arg, cls.name)
        return cls()

    def token(self) -> str:
        return self.name


@dataclass(frozen=True)
class IntOperation(Operation):
    """``name-N``: one whole number within ``bounds``; subclasses declare that one field."""

    bounds: ClassVar[tuple[int, int]] = (0, 0)
    #: what N is, for the error message: "a quality 1-100"
    expects: ClassVar[str] = ""

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:
        # subclasses declare the one field this fills
        return cls(_int(token, arg, cls.expects, *cls.bounds))  # type: ignore[call-arg]

    @property
    def argument(self) -> int:
        return int(getattr(self, fields(self)[0].name))

    def token(self) -> str:
        return f"{self.name}-{self.argument}"


@dataclass(frozen=True)
class SizeOperation(Operation):
    """The size group: the output relates to a W x H box — fitted inside it or covering it,
    and either exactly that size (a fixed canvas) or as large as the content needs."""

    order: ClassVar[int] = 30
    group: ClassVar[str | None] = "size"
    #: the output is exactly W x H
    fixes: ClassVar[bool] = False
    #: scale the content to cover W x H rather than to fit inside it
    covers: ClassVar[bool] = False

    def bounds(self) -> tuple[int, int]:  # pragma: no cover - abstract
        raise NotImplementedError

    def square_side(self) -> int:
        """The side of the square canvas ``square`` makes with this size."""
        return min(self.bounds())

    def fixed_canvas(self, spec: VariantSpec) -> tuple[int, int] | None:
        return self.bounds() if self.fixes else None

    def layout(self, ctx: LayoutContext, phase: str) -> None:
        pick = max if self.covers else min
        if phase == "size":  # runs only when no operation fixed the canvas
            w, h = self.bounds()
            ax, ay, bx, by = ctx.content_extent
            ctx.free_scale = pick((w - bx) / ax, (h - by) / ay)
        elif phase == "scale" and self.fixes and self.covers:
            ml, mt, mr, mb = ctx.margin_values
            bw, bh = ctx.box_size
            cw, ch = ctx.canvas
            ctx.scale = pick((cw - ml - mr) / bw, (ch - mt - mb) / bh)


@dataclass(frozen=True)
class BoxSize(SizeOperation):
    """``name-WxH``."""

    width: int
    height: int

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:
        return cls(*_wxh(token, arg))

    def token(self) -> str:
        return f"{self.name}-{self.width}x{self.height}"

    def bounds(self) -> tuple[int, int]:
        return self.width, self.height


@dataclass(frozen=True)
class SideSize(SizeOperation):
    """``name-N``: an N x N box."""

    size: int

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Self:
        return cls(_int(token, arg, f"a side length 1-{MAX_SIDE}", 1, MAX_SIDE))

    def token(self) -> str:
        return f"{self.name}-{self.size}"

    def bounds(self) -> tuple[int, int]:
        return self.size, self.size


#: a library background or logo slug: what ``bg-<slug>`` / ``logo-<slug>-<corner>`` name
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,48}[a-z0-9]$")


def is_colour_word(slug: str) -> bool:
    """Slugs that ``bg-`` would read as a colour (or refuse as a mistyped one, see
    :func:`is_broken_hex`), so a library item may not use them."""
    return slug == "transparent" or bool(re.fullmatch(r"[0-9a-f]{3}|[0-9a-f]{6}", slug)) \
        or is_broken_hex(slug)


def is_broken_hex(arg: str) -> bool:
    """4, 5 or 7 hex digits holding a digit or at most two distinct letters ("fffff",
    "f5f5f", "eeeeee0"): a colour with a digit missing or doubled, so ``bg-`` refuses it
    rather than looking for such a background. Words made of the letters a-f ("cafe",
    "faded") stay possible library names."""
    return bool(re.fullmatch(r"[0-9a-f]{4,5}|[0-9a-f]{7}", arg)) and (
        any(c.isdigit() for c in arg) or len(set(arg)) <= 2)


#: colour words a hand-typed ``bg-`` may hold, with the hex the spec language wants instead.
#: They are not accepted as colours: ``bg-<word>`` names a library background, and a library
#: may well hold a photo called "white" or "black" whose scenes would silently change.
COLOUR_NAMES = {
    "white": "ffffff", "black": "000000", "grey": "808080", "gray": "808080",
    "lightgrey": "d3d3d3", "lightgray": "d3d3d3", "whitesmoke": "f5f5f5", "silver": "c0c0c0",
    "red": "ff0000", "green": "008000", "blue": "0000ff", "yellow": "ffff00",
    "orange": "ffa500", "beige": "f5f5dc", "ivory": "fffff0", "navy": "000080",
}
#: what "no background" is called elsewhere; the spec language says ``bg-transparent``
NO_BACKGROUND_WORDS = frozenset({"none", "clear", "alpha", "transparant"})


def colour_hint(arg: str) -> str | None:
    """How to write the colour ``bg-<arg>`` most likely meant, when ``arg`` is a colour word
    rather than a hex colour ("white" -> "write bg-ffffff"); None for other words, which
    may be library backgrounds. For messages only: none of these is accepted as a colour."""
    arg = arg.lower()
    if arg in COLOUR_NAMES:
        return f"write bg-{COLOUR_NAMES[arg]} for {arg}"
    if arg in NO_BACKGROUND_WORDS:
        return "write bg-transparent for no background"
    if re.fullmatch(r"[0-9a-f]{8}", arg):
        return ("bg-RRGGBB takes 6 hex digits: a background colour has no alpha; "
                "write bg-transparent for none")
    return None


FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}
#: each format's own encoder settings, before the spec's encoding operations add theirs
FORMAT_SAVE_OPTIONS: dict[str, dict[str, Any]] = {
    "jpeg": {}, "png": {"compress_level": 6}, "webp": {"method": 4}, "avif": {"speed": 8},
}
DEFAULT_QUALITY = {"jpeg": 90, "webp": 90, "avif": 80}


@dataclass
class EncodeOptions:
    """What the operations' ``encode`` steps fill in, starting from the format's own settings."""

    fmt: str
    source_meta: dict[str, Any] | None = None
    save: dict[str, Any] = field(default_factory=dict)  # Pillow ``save`` keyword arguments
    quality: int | None = None  # starting quality; None for a lossless encoding
    max_bytes: int | None = None  # re-encode at lower quality until the file fits
    #: what the rendition's metadata reports
    icc: str | None = None
    dpi: int | None = None
    metadata_kept: bool = False


def encode_options(spec: VariantSpec, source_meta: dict[str, Any] | None = None) -> EncodeOptions:
    """The format's settings, then each operation's ``encode`` contribution in order."""
    fmt = spec.format
    options = EncodeOptions(fmt, source_meta, dict(FORMAT_SAVE_OPTIONS[fmt]),
                            DEFAULT_QUALITY.get(fmt))
    for op in spec.operations:
        op.encode(options)
    return options


# --------------------------------------------------------------------------- the spec


class VariantSpec:
    """An immutable, validated list of operations. Build with :func:`parse_spec`."""

    __slots__ = ("_ops",)
    _ops: dict[str, Any]  # name -> operation; Any: each has its own fields

    def __init__(self, ops: list[Operation] | tuple[Operation, ...]):
        self._set(ops)
        self._validate()

    def _set(self, ops: list[Operation] | tuple[Operation, ...]) -> None:
        ordered = tuple(sorted(ops, key=lambda op: (op.order, op.name)))
        object.__setattr__(self, "_ops", {op.name: op for op in ordered})
        if len(self._ops) != len(ordered):  # pragma: no cover - parse_spec catches it first
            raise SpecError("duplicate operation")

    @classmethod
    def _unvalidated(cls, ops: list[Operation]) -> VariantSpec:
        """The operations as a spec without the cross-checks, to ask one question of a spec
        that may be incomplete (:func:`_misread_background`); never handed out."""
        spec = cls.__new__(cls)
        spec._set(ops)
        return spec

    def __setattr__(self, key: str, value: object) -> NoReturn:
        raise AttributeError("VariantSpec is immutable")

    # -- access
    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(self._ops.values())

    def get(self, name: str) -> Operation | None:
        return self._ops.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._ops

    @property
    def format(self) -> str:
        op = self._ops.get("format")
        return op.fmt if op else "png"

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.format]

    @property
    def background(self) -> tuple[int, int, int] | None:
        """RGB tuple, or None for a transparent background."""
        op = self._ops.get("bg")
        return op.color if op else None

    @property
    def shadow(self) -> str:
        op = self._ops.get("shadow")
        return op.mode if op else "none"

    @property
    def size_operation(self) -> SizeOperation | None:
        """The one operation of the size group (canvas, fit, cover, long, short), if any."""
        return next((op for op in self._ops.values() if op.group == "size"), None)

    @property
    def measures_product(self) -> bool:
        """Whether the layout measures the product (trim, fill) rather than the frame."""
        return any(op.measures_product for op in self._ops.values())

    def alpha_threshold(self, default: int) -> int:
        """Alpha below which the cutout counts as background (``trim-T``), else ``default``."""
        found = (op.alpha_threshold() for op in self._ops.values())
        return next((t for t in found if t is not None), default)

    @property
    def scene_tokens(self) -> list[str]:
        """Tokens that compose a scene (library background, logo, placement, scene shadow)."""
        return [op.token() for op in self._ops.values() if op.is_scene()]

    @property
    def is_scene(self) -> bool:
        return bool(self.scene_tokens)

    # -- identity
    @property
    def cache_inputs(self) -> tuple[str, ...]:
        """The render inputs a rendition of this spec depends on: the cutout, then what the
        operations declare (the shadow layer only with ``shadow-keep``, library items)."""
        declared = {name for op in self._ops.values() for name in op.cache_inputs()}
        return (CUTOUT_INPUT, *sorted(declared - {CUTOUT_INPUT}))

    def library_slugs(self) -> list[str]:
        """Library items (backgrounds, logos) this spec renders with, for the cache key."""
        n = len(LIBRARY_PREFIX)
        return [name[n:] for name in self.cache_inputs if name.startswith(LIBRARY_PREFIX)]

    def canonical(self) -> str:
        return "|".join(op.token() for op in self._ops.values())

    def with_tokens(self, *tokens: str) -> VariantSpec:
        """This spec with each token's operation in place of the one of the same name (or
        added), validated as a whole: ``spec.with_tokens("square-600")`` for a preview."""
        new = {op.name: op for op in map(_parse_token, tokens)}
        kept = [op for op in self._ops.values() if op.name not in new]
        return parse_spec(VariantSpec([*kept, *new.values()]).canonical())

    def cache_key(self, input_hash: str) -> str:
        """Stable key for a rendition of ``input_hash`` (one opaque digest of every input;
        :func:`rendition_key` builds it from the inputs the spec declares)."""
        payload = f"cutroom-variant:{RENDERER_VERSION}\n{self.canonical()}\n{input_hash}"
        return hashlib.sha256(payload.encode()).hexdigest()

    def __str__(self) -> str:
        return self.canonical()

    def __repr__(self) -> str:
        return f"VariantSpec({self.canonical()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VariantSpec) and other.canonical() == self.canonical()

    def __hash__(self) -> int:
        return hash(self.canonical())

    def __reduce__(self) -> tuple[Callable[[str], VariantSpec], tuple[str]]:
        # __slots__ and no __setattr__: rebuild from the canonical string when pickled
        return parse_spec, (self.canonical(),)

    def __copy__(self) -> VariantSpec:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, object]) -> VariantSpec:
        return self

    # -- cross-operation validation
    def _validate(self) -> None:
        ops = self._ops
        sized = [op for op in ops.values() if op.group == "size"]
        square = ops.get("square")
        if square is not None and square.size is not None:
            sized.append(square)
        if len(sized) > 1:
            raise SpecError(
                f"conflicting size operations {sized[0].token()!r} and {sized[1].token()!r}: "
                "use only one of canvas, fit, cover, long, short, square-N",
                sized[1].token(),
            )
        if square is not None and square.size is None and ("canvas" in ops or "cover" in ops):
            raise SpecError("'square' cannot be combined with a fixed canvas/cover size", "square")
        if "fill" in ops and "margin" in ops:
            raise SpecError(
                "'fill' and 'margin' are mutually exclusive: fill-N already sets the margins",
                ops["margin"].token(),
            )
        if "fill" in ops and "cover" in ops:
            raise SpecError("'cover' crops the product and cannot be combined with 'fill'", "cover")

        fixed = self.fixed_canvas()
        margin = ops.get("margin")
        if fixed and margin and (
            margin.left + margin.right >= fixed[0] or margin.top + margin.bottom >= fixed[1]
        ):
            raise SpecError(
                f"{margin.token()!r} leaves no room on a {fixed[0]}x{fixed[1]} canvas",
                margin.token(),
            )
        size = self.size_operation
        if margin and size is not None and not size.covers and not fixed:
            w, h = size.bounds()
            if margin.left + margin.right >= w or margin.top + margin.bottom >= h:
                raise SpecError(f"{margin.token()!r} leaves no room inside {size.token()!r}",
                                margin.token())
        align = ops.get("align")
        if fixed and align and align.floor is not None and align.floor >= fixed[1]:
            raise SpecError(f"{align.token()!r} is taller than the canvas", align.token())

        for op in ops.values():
            op.validate_with(self)
        scene_problems = self._scene_problems()
        if scene_problems:
            raise scene_problems[0]
        fmt = self.format
        # before the transparency check: with format-jpeg the wrong token is 'lossless'
        if "lossless" in ops and fmt == "jpeg":
            raise SpecError("'lossless' does not apply to format-jpeg: JPEG is lossy; use "
                            "format-webp|lossless, or format-png (always lossless)", "lossless")
        if "lossless" in ops and fmt != "webp":
            raise SpecError(f"'lossless' applies to format-webp only (format-{fmt} "
                            f"{'is always lossless' if fmt == 'png' else 'is lossy here'})",
                            "lossless")
        library_bg = "bg" in ops and ops["bg"].slug is not None
        if fmt == "jpeg" and self.background is None and not library_bg:
            raise SpecError(
                "format-jpeg cannot store transparency: add an opaque background such as "
                "bg-ffffff, or use format-png/webp/avif",
                "format-jpeg",
            )
        if "quality" in ops and fmt == "png":
            raise SpecError("'quality' does not apply to format-png (lossless)", "quality")
        if "lossless" in ops and "quality" in ops:
            raise SpecError("'lossless' and 'quality' are mutually exclusive", "lossless")
        if "dpi" in ops and fmt in ("webp", "avif"):
            raise SpecError(f"'dpi' metadata is not supported by format-{fmt}", "dpi")

    def _scene_problems(self) -> list[SpecError]:
        """What the scene rules refuse in this spec, if it is a scene (the first is raised)."""
        if not self.is_scene:
            return []
        ops = self._ops
        problems = []
        if self.fixed_canvas() is None:
            problems.append(SpecError("a scene needs a fixed canvas: add canvas-WxH or "
                                      "square-N", self.scene_tokens[0]))
        if self.background is None and "bg" in ops and ops["bg"].slug is None:
            problems.append(SpecError("a scene needs an opaque background: bg-<slug> or "
                                      "bg-RRGGBB", "bg-transparent"))
        problems.extend(
            SpecError(f"{ops[name].token()!r} does not apply to a scene: place the product "
                      "with safe-N, scale-N and floor-N", ops[name].token())
            for name in ("fill", "margin", "align", "cover") if name in ops)
        return problems

    def fixed_canvas(self) -> tuple[int, int] | None:
        """(W, H) when the spec fixes the output size regardless of the input, else None."""
        for op in self._ops.values():
            size: tuple[int, int] | None = op.fixed_canvas(self)
            if size is not None:
                return size
        return None


def _split_token(token: str) -> tuple[str, str | None]:
    name, sep, arg = token.partition("-")
    return name, (arg if sep else None)


@lru_cache(maxsize=512)
def parse_spec(text: str) -> VariantSpec:
    """Parse a spec string (cached; the result is immutable). Raises :class:`SpecError`."""
    if not isinstance(text, str):
        raise SpecError(f"a spec must be a string, not {type(text).__name__}")
    if len(text) > MAX_SPEC_LENGTH:
        raise SpecError(f"spec is longer than {MAX_SPEC_LENGTH} characters")
    if not text.strip():
        raise SpecError("empty spec")
    ops: list[Operation] = []
    seen: dict[str, str] = {}
    positions: dict[str, int] = {}
    # every bad token at once, so a spec typed by hand is fixed in one round trip; with its
    # position, so they are listed in the order they were typed
    problems: list[tuple[int, SpecError]] = []
    tokens = text.split("|")
    for position, raw in enumerate(tokens, start=1):
        if not raw.strip():
            problems.append((position, SpecError(f"empty token at position {position} in "
                                                 f"{text!r}", "")))
            continue
        try:
            op = _parse_token(raw)
        except SpecError as exc:
            problems.append((position, exc))
            continue
        if op.name in seen:
            problems.append((position, SpecError(f"duplicate operation {op.name!r}: "
                                                 f"{seen[op.name]!r} and {raw.strip()!r}",
                                                 raw.strip())))
            continue
        seen[op.name] = raw.strip()
        positions[op.name] = position
        ops.append(op)
    misread = _misread_background(ops, seen.get("bg", ""), complete=not problems)
    if misread is not None:
        problems.append((positions["bg"], misread))
        if len(problems) == 1:
            # the rest of the spec as it would be with a colour: what else is wrong with it
            colour = _parse_token("bg-ffffff")
            try:
                VariantSpec([colour if op.name == "bg" else op for op in ops])
            except SpecError as exc:
                problems.append((len(tokens) + 1, exc))  # not one token's: listed last
    problems.sort(key=lambda p: p[0])
    if len(problems) == 1:
        raise problems[0][1]
    if problems:
        raise _combined([exc for _, exc in problems])
    return VariantSpec(ops)


def _misread_background(ops: list[Operation], token: str, *,
                        complete: bool) -> SpecError | None:
    """``bg-<word>`` that is not a colour reads as a library background, which makes the spec a
    scene. When it is the spec's only scene token and the scene rules refuse the rest
    (``trim|fill-85|square-1200|bg-white``), the token is far more likely a mistyped colour
    than a scene: it is the bad token, not ``fill-85``.

    The parse cannot see the library (no database here), so a word is never refused on its
    own; ``complete`` is False when other tokens were bad, and then a missing canvas, which
    may be one of them, does not count against the background."""
    bg = next((op for op in ops if op.name == "bg"), None)
    slug: str | None = getattr(bg, "slug", None)
    if bg is None or slug is None:
        return None
    if any(op.is_scene() for op in ops if op is not bg):
        return None  # a scene by intent: its own errors stand
    problem = next((p for p in VariantSpec._unvalidated(ops)._scene_problems()
                    if complete or p.token != bg.token()), None)
    if problem is None:
        return None
    hint = colour_hint(slug)
    if hint is not None:
        message = (f"bad token {token!r}: {slug!r} is not a colour ({hint}); bg-<name> names "
                   "a library background, and this spec is not a scene")
    else:
        why = ("which needs a fixed canvas (canvas-WxH or square-N)" if problem.token ==
               bg.token() else f"and {problem}")
        message = (f"bad token {token!r}: not a colour (bg-RRGGBB in hex, e.g. bg-ffffff); "
                   f"read as the library background {slug!r} it makes this spec a scene, {why}")
    return SpecError(message, token)


def _known_operations() -> str:
    return f" (known: {', '.join(sorted(OPERATIONS))})"


def _combined(problems: list[SpecError]) -> SpecError:
    """One error naming every bad token; the list of known operations is said once, at the
    end. ``token`` is the first bad one."""
    known = _known_operations()
    messages = [str(p).replace(known, "") for p in problems]
    unknown = any(str(p).endswith(known) for p in problems)
    return SpecError(f"{len(problems)} bad tokens: " + "; ".join(messages)
                     + (known if unknown else ""), problems[0].token)


def _parse_token(raw: str) -> Operation:
    name, arg = _split_token(raw.strip().lower())
    if not _NAME_RE.match(name) or name not in OPERATIONS:
        raise SpecError(f"unknown operation {name!r} in token {raw.strip()!r}"
                        f"{_known_operations()}", raw.strip())
    return OPERATIONS[name].parse(raw.strip(), arg)


def as_spec(spec: str | VariantSpec) -> VariantSpec:
    """``spec`` parsed (a :class:`VariantSpec` passes through): what every entry point that
    takes a spec calls, so callers can parse once and hand the object along."""
    return spec if isinstance(spec, VariantSpec) else parse_spec(spec)


def rendition_key(spec: str | VariantSpec, inputs: Mapping[str, str]) -> str:
    """The rendition cache key of ``spec`` over the digests of its render inputs.

    ``inputs`` maps input names (:data:`CUTOUT_INPUT`, :data:`SHADOW_INPUT`,
    :func:`library_input`) to content digests; only the names the spec declares
    (:attr:`VariantSpec.cache_inputs`) are read, so a spec without ``shadow-keep`` never
    hashes the shadow layer and a lazy mapping computes only what is needed. A declared input
    the mapping lacks (a cutout without a shadow layer) counts as :data:`ABSENT`.
    """
    spec = as_spec(spec)
    if CUTOUT_INPUT not in inputs:
        raise KeyError(f"rendition_key needs the {CUTOUT_INPUT!r} input digest")
    lines = [f"{name}={inputs.get(name, ABSENT)}" for name in spec.cache_inputs]
    return spec.cache_key("\n".join(lines))


class RenderInputs(Mapping[str, str]):
    """The digests of one cutout's render inputs for :func:`rendition_key`, each computed on
    first use: a spec that does not declare the shadow layer never has it hashed.

    ``library`` maps slugs to the fingerprints of the library items the caller has.
    """

    def __init__(self, *, cutout: bytes, shadow: bytes | None = None,
                 library: Mapping[str, str] | None = None, _memo: dict[str, str] | None = None):
        self._sources = {CUTOUT_INPUT: cutout, **({SHADOW_INPUT: shadow} if shadow else {})}
        self._memo: dict[str, str] = {} if _memo is None else _memo
        self._library = {library_input(slug): fp for slug, fp in (library or {}).items()}

    def with_library(self, library: Mapping[str, str]) -> RenderInputs:
        """The same cutout (digests shared, not recomputed) with other library items."""
        return RenderInputs(cutout=self._sources[CUTOUT_INPUT],
                            shadow=self._sources.get(SHADOW_INPUT), library=library,
                            _memo=self._memo)

    def __getitem__(self, name: str) -> str:
        if name in self._library:
            return self._library[name]
        if name not in self._memo:
            self._memo[name] = hashlib.sha256(self._sources[name]).hexdigest()
        return self._memo[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*self._sources, *self._library])

    def __len__(self) -> int:
        return len(self._sources) + len(self._library)


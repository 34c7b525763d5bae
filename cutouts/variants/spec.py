"""Variant spec language: ``trim|fill-85|canvas-2000x2000|bg-ffffff|format-jpeg|quality-90``.

A spec string is parsed once into a :class:`VariantSpec` holding registered, self-validating
operation objects (the idea of Wagtail's ``Filter`` / ``image_operations``). Unlike Wagtail the
operations are *declarative*: the renderer applies them in a fixed pipeline order, so the order
of tokens in the string does not matter and ``canonical()`` sorts them into pipeline order.
That makes ``a|b`` and ``b|a`` share one rendition cache key.

Every token is ``name`` or ``name-argument``. Names and arguments are case-insensitive.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from .errors import SpecError

#: Bump when the renderer changes output for an unchanged spec: invalidates every cache key.
RENDERER_VERSION = "1"

MAX_SPEC_LENGTH = 500
MAX_SIDE = 20_000
MAX_PIXELS = 100_000_000
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*$")
_INT_RE = re.compile(r"^[0-9]{1,9}$")
_WXH_RE = re.compile(r"^([0-9]{1,6})x([0-9]{1,6})$")

OPERATIONS: dict[str, type[Operation]] = {}


def register_operation(cls: type[Operation]) -> type[Operation]:
    """Class decorator adding an operation to the registry under ``cls.name``."""
    if cls.name in OPERATIONS:
        raise ValueError(f"operation {cls.name!r} is already registered")
    OPERATIONS[cls.name] = cls
    return cls


def _int(token: str, arg: str | None, what: str, lo: int, hi: int) -> int:
    if arg is None or not _INT_RE.match(arg):
        raise SpecError(f"bad token {token!r}: expected {what}", token)
    value = int(arg)
    if not lo <= value <= hi:
        raise SpecError(f"bad token {token!r}: {what} must be between {lo} and {hi}", token)
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
    """Base class. Subclasses set ``name``, ``order`` and implement ``parse``/``token``."""

    name: ClassVar[str] = ""
    order: ClassVar[int] = 0
    #: operations sharing a group are mutually exclusive (e.g. all the sizing operations)
    group: ClassVar[str | None] = None

    @classmethod
    def parse(cls, token: str, arg: str | None) -> Operation:  # pragma: no cover - abstract
        raise NotImplementedError

    def token(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def is_scene(self) -> bool:
        """Whether this operation composes a scene (see ``scene.py``)."""
        return bool(getattr(self, "slug", None)) or (
            self.name == "shadow" and getattr(self, "mode", "") in ("contact", "drop"))

    def library_slugs(self) -> tuple[str, ...]:
        slug = getattr(self, "slug", None)
        return (slug,) if slug else ()

    def validate_with(self, spec: VariantSpec) -> None:
        """Cross-checks an operation makes against the rest of the spec (override)."""


class FlagOperation(Operation):
    """An operation without an argument: its token is its name."""

    @classmethod
    def parse(cls, token, arg):
        _no_arg(token, arg, cls.name)
        return cls()

    def token(self):
        return self.name


# --------------------------------------------------------------------------- geometry


@register_operation
@dataclass(frozen=True)
class Trim(Operation):
    """``trim`` / ``trim-T``: crop to the bounding box of alpha >= T (default 8).

    Alpha below T is treated as background everywhere (speckles are removed), so faint model
    noise cannot leave off-white dots in the margins.
    """

    threshold: int = 8
    name: ClassVar[str] = "trim"
    order: ClassVar[int] = 10

    @classmethod
    def parse(cls, token, arg):
        if arg is None:
            return cls()
        return cls(_int(token, arg, "an alpha threshold 1-255", 1, 255))

    def token(self):
        return "trim" if self.threshold == 8 else f"trim-{self.threshold}"


@register_operation
@dataclass(frozen=True)
class Fill(Operation):
    """``fill-N``: the PRODUCT's longest side (relative to the canvas) is N % of the canvas.

    Measured on the product alpha only; the shadow never counts. Implies laying out the
    product box (as ``trim`` does); the rest of the canvas becomes equal margins. On a fixed
    canvas the product gets ``max(pw / W, ph / H) = N %`` (rounded up to whole pixels).
    """

    percent: int
    name: ClassVar[str] = "fill"
    order: ClassVar[int] = 20

    @classmethod
    def parse(cls, token, arg):
        return cls(_int(token, arg, "a product fill percentage 10-100, e.g. fill-85", 10, 100))

    def token(self):
        return f"fill-{self.percent}"


@register_operation
@dataclass(frozen=True)
class Margin(Operation):
    """``margin-N`` or ``margin-TOP,RIGHT,BOTTOM,LEFT`` in output pixels."""

    top: int
    right: int
    bottom: int
    left: int
    name: ClassVar[str] = "margin"
    order: ClassVar[int] = 25

    @classmethod
    def parse(cls, token, arg):
        parts = (arg or "").split(",")
        if len(parts) not in (1, 4):
            raise SpecError(f"bad token {token!r}: expected margin-N or margin-T,R,B,L", token)
        values = [_int(token, p, "a margin in pixels 0-5000", 0, 5000) for p in parts]
        if len(values) == 1:
            values *= 4
        return cls(*values)

    def token(self):
        if self.top == self.right == self.bottom == self.left:
            return f"margin-{self.top}"
        return f"margin-{self.top},{self.right},{self.bottom},{self.left}"


@register_operation
@dataclass(frozen=True)
class Canvas(Operation):
    """``canvas-WxH``: output exactly W x H; the product is fitted (or filled) and padded."""

    width: int
    height: int
    name: ClassVar[str] = "canvas"
    order: ClassVar[int] = 30
    group: ClassVar[str | None] = "size"

    @classmethod
    def parse(cls, token, arg):
        return cls(*_wxh(token, arg))

    def token(self):
        return f"canvas-{self.width}x{self.height}"


@register_operation
@dataclass(frozen=True)
class Fit(Operation):
    """``fit-WxH``: scale so the whole canvas fits inside W x H (no padding added)."""

    width: int
    height: int
    name: ClassVar[str] = "fit"
    order: ClassVar[int] = 30
    group: ClassVar[str | None] = "size"

    @classmethod
    def parse(cls, token, arg):
        return cls(*_wxh(token, arg))

    def token(self):
        return f"fit-{self.width}x{self.height}"


@register_operation
@dataclass(frozen=True)
class Cover(Operation):
    """``cover-WxH``: output W x H, scaled to cover it and centre-cropped (Wagtail ``fill``)."""

    width: int
    height: int
    name: ClassVar[str] = "cover"
    order: ClassVar[int] = 30
    group: ClassVar[str | None] = "size"

    @classmethod
    def parse(cls, token, arg):
        return cls(*_wxh(token, arg))

    def token(self):
        return f"cover-{self.width}x{self.height}"


@register_operation
@dataclass(frozen=True)
class Long(Operation):
    """``long-N``: the output's longest side is N pixels."""

    size: int
    name: ClassVar[str] = "long"
    order: ClassVar[int] = 30
    group: ClassVar[str | None] = "size"

    @classmethod
    def parse(cls, token, arg):
        return cls(_int(token, arg, f"a side length 1-{MAX_SIDE}", 1, MAX_SIDE))

    def token(self):
        return f"long-{self.size}"


@register_operation
@dataclass(frozen=True)
class Short(Operation):
    """``short-N``: the output's shortest side is N pixels (Etsy: ``short-2000``)."""

    size: int
    name: ClassVar[str] = "short"
    order: ClassVar[int] = 30
    group: ClassVar[str | None] = "size"

    @classmethod
    def parse(cls, token, arg):
        return cls(_int(token, arg, f"a side length 1-{MAX_SIDE}", 1, MAX_SIDE))

    def token(self):
        return f"short-{self.size}"


@register_operation
@dataclass(frozen=True)
class Square(Operation):
    """``square``: pad the canvas to a square; ``square-N``: same as ``canvas-NxN``."""

    size: int | None = None
    name: ClassVar[str] = "square"
    order: ClassVar[int] = 31

    @classmethod
    def parse(cls, token, arg):
        if arg is None:
            return cls()
        size = _int(token, arg, f"a side length 1-{MAX_SIDE}", 1, MAX_SIDE)
        if size * size > MAX_PIXELS:
            raise SpecError(f"bad token {token!r}: more than {MAX_PIXELS} pixels", token)
        return cls(size)

    def token(self):
        return "square" if self.size is None else f"square-{self.size}"


@register_operation
@dataclass(frozen=True)
class Align(Operation):
    """``align-center`` (alias ``align-centre``), ``align-bottom`` or ``align-bottom-N``.

    Bottom alignment puts the product's lowest pixel N px above the bottom edge (the floor
    margin). Without N the floor margin equals the gap ``fill`` or ``margin`` would leave.
    """

    mode: str = "center"
    floor: int | None = None
    name: ClassVar[str] = "align"
    order: ClassVar[int] = 40

    @classmethod
    def parse(cls, token, arg):
        if arg in ("center", "centre"):
            return cls("center")
        if arg == "bottom":
            return cls("bottom")
        if arg and arg.startswith("bottom-"):
            return cls("bottom", _int(token, arg[7:], "a floor margin 0-5000 px", 0, 5000))
        raise SpecError(
            f"bad token {token!r}: expected align-center, align-bottom or align-bottom-N", token
        )

    def token(self):
        if self.mode == "center":
            return "align-center"
        return "align-bottom" if self.floor is None else f"align-bottom-{self.floor}"


# --------------------------------------------------------------------------- appearance


#: a library background or logo slug: what ``bg-<slug>`` / ``logo-<slug>-<corner>`` name
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,48}[a-z0-9]$")


def is_colour_word(slug: str) -> bool:
    """Slugs that ``bg-`` would read as a colour, so a library item may not use them."""
    return slug == "transparent" or bool(re.fullmatch(r"[0-9a-f]{3}|[0-9a-f]{6}", slug))


@register_operation
@dataclass(frozen=True)
class Background(Operation):
    """``bg-RRGGBB`` / ``bg-RGB``, ``bg-transparent`` (the default) or ``bg-<slug>``: a
    background from the library, cover-fitted to the canvas (a scene)."""

    color: tuple[int, int, int] | None
    slug: str | None = None
    name: ClassVar[str] = "bg"
    order: ClassVar[int] = 50

    @classmethod
    def parse(cls, token, arg):
        if arg == "transparent":
            return cls(None)
        if arg and re.fullmatch(r"[0-9a-f]{3}", arg):
            arg = "".join(c * 2 for c in arg)
        if arg and re.fullmatch(r"[0-9a-f]{6}", arg):
            return cls((int(arg[0:2], 16), int(arg[2:4], 16), int(arg[4:6], 16)))
        if arg and SLUG_RE.match(arg):
            return cls(None, arg)
        raise SpecError(
            f"bad token {token!r}: expected bg-RRGGBB (hex, e.g. bg-ffffff), bg-transparent "
            "or bg-<slug> of a library background (letters, digits, '-')",
            token,
        )

    def scene_setup(self, ctx) -> None:
        from .scene import setup_background  # scene.py imports this module

        setup_background(self, ctx)

    def token(self):
        if self.slug is not None:
            return f"bg-{self.slug}"
        if self.color is None:
            return "bg-transparent"
        return "bg-{:02x}{:02x}{:02x}".format(*self.color)


@register_operation
@dataclass(frozen=True)
class Shadow(Operation):
    """``shadow-none`` (default), ``shadow-keep`` (stored shadow layer) or ``shadow-synthetic``;
    in scenes also ``shadow-contact`` and ``shadow-drop`` (cast away from the light)."""

    mode: str
    name: ClassVar[str] = "shadow"
    order: ClassVar[int] = 55
    MODES: ClassVar[tuple[str, ...]] = ("none", "keep", "synthetic", "contact", "drop")

    @classmethod
    def parse(cls, token, arg):
        if arg not in cls.MODES:
            raise SpecError(
                f"bad token {token!r}: expected shadow-none, shadow-keep or shadow-synthetic "
                "(scenes: shadow-contact, shadow-drop)",
                token,
            )
        return cls(arg)

    def token(self):
        return f"shadow-{self.mode}"

    def scene_compose(self, ctx, phase: str) -> None:
        if phase == "under" and self.mode != "none":
            from .scene import draw_shadow  # scene.py imports this module

            draw_shadow("contact" if self.mode == "synthetic" else self.mode, ctx)


# --------------------------------------------------------------------------- encoding

FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}


@register_operation
@dataclass(frozen=True)
class Format(Operation):
    """``format-jpeg`` (alias ``jpg``), ``format-png`` (default), ``format-webp``/``avif``."""

    fmt: str
    name: ClassVar[str] = "format"
    order: ClassVar[int] = 60

    @classmethod
    def parse(cls, token, arg):
        arg = "jpeg" if arg == "jpg" else arg
        if arg not in FORMATS:
            raise SpecError(
                f"bad token {token!r}: expected one of format-{', format-'.join(FORMATS)}", token
            )
        return cls(arg)

    def token(self):
        return f"format-{self.fmt}"


@register_operation
@dataclass(frozen=True)
class Quality(Operation):
    """``quality-N`` (1-100) for JPEG, WebP and AVIF; the starting point for ``maxbytes``."""

    value: int
    name: ClassVar[str] = "quality"
    order: ClassVar[int] = 61

    @classmethod
    def parse(cls, token, arg):
        return cls(_int(token, arg, "a quality 1-100", 1, 100))

    def token(self):
        return f"quality-{self.value}"


@register_operation
@dataclass(frozen=True)
class Lossless(FlagOperation):
    """``lossless``: lossless WebP (for masters)."""

    name: ClassVar[str] = "lossless"
    order: ClassVar[int] = 62


@register_operation
@dataclass(frozen=True)
class Srgb(FlagOperation):
    """``srgb``: embed an sRGB ICC profile (input pixels are already sRGB)."""

    name: ClassVar[str] = "srgb"
    order: ClassVar[int] = 70


@register_operation
@dataclass(frozen=True)
class MaxBytes(Operation):
    """``maxbytes-N``: re-encode with lower quality until the file is at most N bytes."""

    limit: int
    name: ClassVar[str] = "maxbytes"
    order: ClassVar[int] = 80

    @classmethod
    def parse(cls, token, arg):
        return cls(_int(token, arg, "a byte limit 1024-1000000000", 1024, 1_000_000_000))

    def token(self):
        return f"maxbytes-{self.limit}"


@register_operation
@dataclass(frozen=True)
class Dpi(Operation):
    """``dpi-N``: resolution metadata (JPEG and PNG only)."""

    value: int
    name: ClassVar[str] = "dpi"
    order: ClassVar[int] = 85

    @classmethod
    def parse(cls, token, arg):
        return cls(_int(token, arg, "a resolution 1-2400 dpi", 1, 2400))

    def token(self):
        return f"dpi-{self.value}"


@register_operation
@dataclass(frozen=True)
class KeepMeta(FlagOperation):
    """``keepmeta``: keep the source's EXIF/XMP (orientation reset). Default: strip everything."""

    name: ClassVar[str] = "keepmeta"
    order: ClassVar[int] = 90


# --------------------------------------------------------------------------- the spec


class VariantSpec:
    """An immutable, validated list of operations. Build with :func:`parse_spec`."""

    __slots__ = ("_ops",)

    def __init__(self, ops: list[Operation] | tuple[Operation, ...]):
        ordered = tuple(sorted(ops, key=lambda op: (op.order, op.name)))
        object.__setattr__(self, "_ops", {op.name: op for op in ordered})
        if len(self._ops) != len(ordered):  # pragma: no cover - parse_spec catches it first
            raise SpecError("duplicate operation")
        self._validate()

    def __setattr__(self, key, value):
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
    def scene_tokens(self) -> list[str]:
        """Tokens that compose a scene (library background, logo, placement, scene shadow)."""
        return [op.token() for op in self._ops.values() if op.is_scene()]

    @property
    def is_scene(self) -> bool:
        return bool(self.scene_tokens)

    def library_slugs(self) -> list[str]:
        """Library items (backgrounds, logos) this spec renders with, for the cache key."""
        return sorted({slug for op in self._ops.values() for slug in op.library_slugs()})

    # -- identity
    def canonical(self) -> str:
        return "|".join(op.token() for op in self._ops.values())

    def cache_key(self, input_hash: str) -> str:
        """Stable key for a rendition of ``input_hash`` (e.g. the cutout version's sha256)."""
        payload = f"cutroom-variant:{RENDERER_VERSION}\n{self.canonical()}\n{input_hash}"
        return hashlib.sha256(payload.encode()).hexdigest()

    def __str__(self) -> str:
        return self.canonical()

    def __repr__(self) -> str:
        return f"VariantSpec({self.canonical()!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, VariantSpec) and other.canonical() == self.canonical()

    def __hash__(self) -> int:
        return hash(self.canonical())

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
        if margin and ("fit" in ops or "long" in ops) and not fixed:
            op = ops.get("fit") or ops.get("long")
            w, h = (op.width, op.height) if op.name == "fit" else (op.size, op.size)
            if margin.left + margin.right >= w or margin.top + margin.bottom >= h:
                raise SpecError(f"{margin.token()!r} leaves no room inside {op.token()!r}",
                                margin.token())
        align = ops.get("align")
        if fixed and align and align.floor is not None and align.floor >= fixed[1]:
            raise SpecError(f"{align.token()!r} is taller than the canvas", align.token())

        for op in ops.values():
            op.validate_with(self)
        if self.is_scene:
            if fixed is None:
                raise SpecError("a scene needs a fixed canvas: add canvas-WxH or square-N",
                                self.scene_tokens[0])
            if self.background is None and "bg" in ops and ops["bg"].slug is None:
                raise SpecError("a scene needs an opaque background: bg-<slug> or bg-RRGGBB",
                                "bg-transparent")
            for name in ("fill", "margin", "align", "cover"):
                if name in ops:
                    raise SpecError(f"{ops[name].token()!r} does not apply to a scene: place the "
                                    "product with safe-N, scale-N and floor-N", ops[name].token())
        fmt = self.format
        library_bg = "bg" in ops and ops["bg"].slug is not None
        if fmt == "jpeg" and self.background is None and not library_bg:
            raise SpecError(
                "format-jpeg cannot store transparency: add an opaque background such as "
                "bg-ffffff, or use format-png/webp/avif",
                "format-jpeg",
            )
        if "quality" in ops and fmt == "png":
            raise SpecError("'quality' does not apply to format-png (lossless)", "quality")
        if "lossless" in ops and fmt != "webp":
            raise SpecError("'lossless' is only supported with format-webp", "lossless")
        if "lossless" in ops and "quality" in ops:
            raise SpecError("'lossless' and 'quality' are mutually exclusive", "lossless")
        if "dpi" in ops and fmt in ("webp", "avif"):
            raise SpecError(f"'dpi' metadata is not supported by format-{fmt}", "dpi")

    def fixed_canvas(self) -> tuple[int, int] | None:
        """(W, H) when the spec fixes the output size regardless of the input, else None."""
        ops = self._ops
        for name in ("canvas", "cover"):
            if name in ops:
                return ops[name].width, ops[name].height
        square = ops.get("square")
        if square is not None:
            if square.size is not None:
                return square.size, square.size
            if "long" in ops or "short" in ops:
                side = (ops.get("long") or ops.get("short")).size
                return side, side
            if "fit" in ops:
                side = min(ops["fit"].width, ops["fit"].height)
                return side, side
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
    for position, raw in enumerate(text.split("|"), start=1):
        token = raw.strip().lower()
        if not token:
            raise SpecError(f"empty token at position {position} in {text!r}", "")
        name, arg = _split_token(token)
        if not _NAME_RE.match(name) or name not in OPERATIONS:
            known = ", ".join(sorted(OPERATIONS))
            raise SpecError(f"unknown operation {name!r} in token {raw.strip()!r} "
                            f"(known: {known})", raw.strip())
        if name in seen:
            raise SpecError(
                f"duplicate operation {name!r}: {seen[name]!r} and {raw.strip()!r}", raw.strip()
            )
        seen[name] = raw.strip()
        ops.append(OPERATIONS[name].parse(raw.strip(), arg))
    return VariantSpec(ops)


def as_spec(spec: str | VariantSpec) -> VariantSpec:
    return spec if isinstance(spec, VariantSpec) else parse_spec(spec)


# Scene operations register themselves on import; scene.py needs the names defined above.
from . import scene as _scene  # noqa: E402, F401

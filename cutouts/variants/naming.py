"""File names for exported variants, and collision detection before an export starts.

Templates are literal text with ``{field}`` placeholders; ``{a|b}`` takes the first non-empty
field (Amazon: ``{asin|sku}.{amazon_position}.{ext}``). Fields:

``sku``, ``asin``, ``gtin``, ``gtin14`` (GTIN zero-padded to 14 digits), ``position`` / ``n``
(1-based image position, 1 = main image), ``amazon_position`` (``MAIN``, ``PT01`` .. ``PT08``,
``SWCH`` for the swatch, position 10),
``preset``, ``ext``, and any extra keyword given to :func:`build_name`.

Every substituted value is reduced to ``[A-Za-z0-9._-]`` (accents folded, spaces become ``-``,
path separators and other characters dropped), so a SKU can never create folders or escape the
ZIP; only ``/`` written literally in the template creates folders. Every folder and file name
is then made one Windows can create (:func:`windows_safe_path`): a reserved device name
(``CON``, ``PRN``, ``AUX``, ``NUL``, ``COM0``-``COM9``, ``LPT0``-``LPT9``, any case, with or
without an extension) gets ``_`` after it (``CON.MAIN.jpg`` -> ``CON_.MAIN.jpg``) and trailing
dots and spaces, which Windows drops, are removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from catalog.ingest.positions import POSITIONS

from .errors import EmptyNamingFieldError, ExportNamingError

if TYPE_CHECKING:
    from .presets import Preset

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_FIELD = re.compile(r"^[a-z][a-z0-9_]*$")
_LITERAL_OK = re.compile(r"^[A-Za-z0-9._/-]*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
KNOWN_FIELDS = frozenset(
    {"sku", "asin", "gtin", "gtin14", "position", "n", "amazon_position", "preset", "ext"}
)
#: Amazon's image codes by position number: the photographer's numbers 1..9 (MAIN, PT01..PT08)
#: and the swatch, which sorts after them as 10 (``ASIN.SWCH.jpg``)
AMAZON_CODES = POSITIONS
MAX_COMPONENT = 200
#: device names Windows refuses as a file or folder name, also with an extension
#: (``con.PT01.jpg``): a ZIP holding one cannot be unpacked there
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{port}{n}" for port in ("COM", "LPT") for n in range(10)}
)
MAX_PATH = 1000


def amazon_position(position: int) -> str:
    """1 -> ``MAIN``, 2 -> ``PT01`` ... 9 -> ``PT08``, 10 -> ``SWCH`` (the swatch: the number
    :func:`~catalog.ingest.positions.number_for_position` gives it, which export plans use;
    ``position_for_number`` stops at 9, the photographer's numbers)."""
    if isinstance(position, int) and 1 <= position <= len(AMAZON_CODES):
        return AMAZON_CODES[position - 1]
    raise ExportNamingError(
        f"Amazon image position {position} has no code: only MAIN, PT01..PT08 and SWCH "
        f"(positions 1-{len(AMAZON_CODES)}) exist"
    )


def sanitize(value: object) -> str:
    """Reduce ``value`` to a safe file-name fragment (may return an empty string)."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    text = re.sub(r"\s+", "-", text.strip())
    text = _UNSAFE.sub("", text)
    return text.lstrip(".-").rstrip(".")  # Windows drops trailing dots: avoid clashes


def windows_safe_path(path: str) -> str:
    """``path`` (``/``-separated) with every component one Windows can create: trailing dots
    and spaces dropped (Windows drops them, so ``a.`` and ``a`` would be one file there) and
    ``_`` after a reserved device name's base (``CON/CON_1_web.jpg`` -> ``CON_/CON_1_web.jpg``,
    ``nul.jpg`` -> ``nul_.jpg``). Idempotent; the export's collision check sees the result."""
    parts = []
    for part in path.split("/"):
        part = part.rstrip(". ")
        base, dot, rest = part.partition(".")
        if base.rstrip(" ").upper() in WINDOWS_RESERVED:
            part = f"{base}_{dot}{rest}"
        parts.append(part)
    return "/".join(parts)


def validate_template(template: str, extra_fields: Iterable[str] = ()) -> None:
    """Raise :class:`ExportNamingError` if ``template`` is unusable (for the admin form)."""
    known = KNOWN_FIELDS | set(extra_fields)
    if not template or "{" not in template:
        raise ExportNamingError(f"naming template {template!r} has no placeholder")
    literal = _PLACEHOLDER.sub("", template)
    if "{" in literal or "}" in literal:
        raise ExportNamingError(f"unbalanced braces in naming template {template!r}")
    if not _LITERAL_OK.match(literal):
        raise ExportNamingError(f"naming template {template!r} contains characters outside A-Z a-z "
                          f"0-9 . _ - /")
    if template.startswith("/") or "//" in template or template.endswith("/"):
        raise ExportNamingError(f"naming template {template!r} has an empty folder name")
    for group in _PLACEHOLDER.findall(template):
        for name in group.split("|"):
            if not _FIELD.match(name) or name not in known:
                raise ExportNamingError(f"unknown field {{{name}}} in naming template {template!r} "
                                  f"(known: {', '.join(sorted(known))})")


def _gtin14(gtin: object) -> str:
    digits = re.sub(r"\D", "", str(gtin or ""))
    if not digits:
        return ""
    if len(digits) > 14:
        raise ExportNamingError(f"GTIN {gtin!r} has more than 14 digits")
    return digits.zfill(14)


def build_name(
    template: str,
    *,
    sku: str | None = None,
    asin: str | None = None,
    gtin: str | None = None,
    position: int = 1,
    preset: str = "",
    ext: str,
    **extra: object,
) -> str:
    """Fill ``template``; raises :class:`ExportNamingError` if a required field ends up empty."""
    validate_template(template, extra)
    if not isinstance(position, int) or position < 1:
        raise ExportNamingError(f"image position must be an integer >= 1, not {position!r}")
    values: dict[str, object] = {
        "sku": sku,
        "asin": asin,
        "gtin": gtin,
        "position": position,
        "n": position,
        "preset": preset,
        "ext": ext,
        **extra,
    }

    def fill(match: re.Match[str]) -> str:
        names = match[1].split("|")
        present = False
        for name in names:
            if name == "amazon_position":
                return amazon_position(position)
            raw = _gtin14(gtin) if name == "gtin14" else values.get(name)
            if raw is None or not str(raw).strip():
                continue
            present = True
            cleaned = sanitize(raw)
            if cleaned:
                return cleaned
        if not present:  # nothing to clean: say the product lacks it, not that it was cleaned
            raise EmptyNamingFieldError(
                f"cannot name the file: the product has no {field_label(names)}",
                fields=tuple(names), missing=True)
        raise EmptyNamingFieldError(
            f"cannot name the file: {' / '.join(names)} "
            f"{'is' if len(names) == 1 else 'are all'} empty after removing invalid characters",
            fields=tuple(names), missing=False)

    name = windows_safe_path(_PLACEHOLDER.sub(fill, template))
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ExportNamingError(f"file name {name!r} has an empty or dot-only folder")
    if any(len(p) > MAX_COMPONENT for p in parts) or len(name) > MAX_PATH:
        raise ExportNamingError(f"file name {name[:80]!r}... is too long")
    return name


_FIELD_LABELS = {"sku": "SKU", "asin": "ASIN", "gtin": "GTIN", "gtin14": "GTIN",
                 "position": "image position", "n": "image position"}


def field_label(names: Iterable[str]) -> str:
    """``["asin", "sku"]`` -> ``"ASIN or SKU"``: naming fields as a catalog manager calls them."""
    labels = dict.fromkeys(_FIELD_LABELS.get(n, n) for n in names)
    return " or ".join(labels)


#: the product's own identifiers a template can name files by (others are always there)
IDENTIFIER_FIELDS = ("sku", "asin", "gtin", "gtin14")


def identifier_groups(template: str) -> list[tuple[str, ...]]:
    """The placeholders of ``template`` that only product identifiers fill, each as its
    fields (``{asin|sku}`` -> ``("asin", "sku")``): a product lacking all of one group's
    cannot be named (``{gtin}`` needs a GTIN). ``gtin14`` is read as ``gtin``."""
    groups = []
    for match in _PLACEHOLDER.finditer(template):
        names = tuple(dict.fromkeys("gtin" if n == "gtin14" else n for n in match[1].split("|")))
        if names and all(n in IDENTIFIER_FIELDS for n in names) and names not in groups:
            groups.append(names)
    return groups


def can_name(groups: list[tuple[str, ...]], identifiers: Mapping[str, str | None]) -> bool:
    """Whether a product with ``identifiers`` (field -> value) has one of each group's fields
    (:func:`identifier_groups`): a preset it lacks one for excludes its images, and the
    export's checks leave them out (``export_naming_gaps`` counts the same in the database)."""
    return all(any(identifiers.get(f) for f in fields) for fields in groups)


def name_for(preset: Preset, *, position: int = 1, **identifiers: str | None) -> str:
    """Name a variant of ``preset`` (a :class:`~cutouts.variants.presets.Preset`). A field
    the product has no value for is reported as such, with the SKU and the preset's label:
    "SKU-1 has no GTIN; Walmart files are named by GTIN"."""
    try:
        return build_name(preset.naming, position=position, preset=preset.name,
                          ext=preset.extension, **identifiers)
    except EmptyNamingFieldError as exc:
        if not exc.missing:
            raise
        label = field_label(exc.fields)
        sku = (identifiers.get("sku") or "").strip()
        raise EmptyNamingFieldError(
            f"{sku or 'the product'} has no {label}; {preset.label} files are named by {label}",
            fields=exc.fields, missing=True) from None


@dataclass(frozen=True)
class Collision:
    """Planned names that would overwrite each other (``kind``: duplicate, case, folder)."""

    kind: str
    names: tuple[str, ...]
    indices: tuple[int, ...]

    def __str__(self) -> str:
        what = {
            "duplicate": "the same file name",
            "case": "names that differ only in letter case (they clash on macOS/Windows)",
            "folder": "a file and a folder with the same name",
        }[self.kind]
        rows = ", ".join(str(i + 1) for i in self.indices)
        return f"{what}: {', '.join(sorted(set(self.names)))} (planned rows {rows})"


def find_collisions(names: Iterable[str]) -> list[Collision]:
    """Report every collision in a list of planned names, before anything is written."""
    names = list(names)
    exact: dict[str, list[int]] = defaultdict(list)
    folded: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(names):
        exact[name].append(i)
        folded[name.casefold()].append(i)
    out: list[Collision] = []
    for name, idx in exact.items():
        if len(idx) > 1:
            out.append(Collision("duplicate", (name,) * len(idx), tuple(idx)))
    for idx in folded.values():
        distinct = {names[i] for i in idx}
        if len(distinct) > 1:
            out.append(Collision("case", tuple(names[i] for i in idx), tuple(idx)))
    folders: dict[str, int] = {}
    for i, name in enumerate(names):
        parts = name.casefold().split("/")
        for depth in range(1, len(parts)):
            folders.setdefault("/".join(parts[:depth]), i)
    for i, name in enumerate(names):
        j = folders.get(name.casefold())
        if j is not None:
            out.append(Collision("folder", (name, names[j]), (i, j)))
    return out

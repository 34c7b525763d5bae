"""Map file names to (SKU, position) with configurable naming conventions.

A pattern is a file name template: ``{sku}_{position}.jpg`` or ``{sku}-{n}.png``. Its
extension is not significant, because one shoot mixes ``.JPG``, ``.jpeg`` and ``.png``.
``{n}`` counts images the way photographers number them: 1 is MAIN, 2 is PT01, ... 9 is
PT08. A regex is the escape hatch; it must have a named group ``sku`` and may have
``position`` or ``n``.

Which reading wins (``PRECEDENCE``, shown to managers in the upload preview): the manager's
regex; then a pattern that also reads a position or number (``ABC_PT01.jpg``); then the file
name as the SKU (``ABC123.jpg``), unless it is a camera or sequence name (``IMG_0001``,
``DSC01234``, ``003``) or, in a folder, a view word; then the folder name
(``SHOE-77/IMG_0001.jpg`` is SHOE-77); a camera name, or a word of the folder's own name
(``QA-SCISSORS/scissors.jpg``), is a SKU only when nothing else reads. A SKU that already
exists beats a new one.

A view word (``VIEW_WORDS``: front, back, detail, main, ...; also with a copy suffix:
``back_copy``, ``front copy 2``, ``side (2)``) names the shot, never the product: in a
folder whose name is read (the folder rule on) it is not a SKU at all, whichever reading of it
(``{sku}``, ``{sku}_{position}``) and even when a product of that SKU exists, so
``SS26-040/front.jpg`` and ``SS26-041/front.jpg`` go to two products, never to one named
"front" (QA: a folder-per-SKU ZIP made products front, back and back_copy). A view word with a
bare number (``detail_02``, ``front-1``, and so ``TOP-12``, which may be a real SKU) ranks as
a camera name instead: a product of that SKU that exists still beats a new folder product. A
view word that is a position (``main``, ``PT02``, ``swch``, ``swatch``; also ``front_main``)
gives the folder's product that position. At the archive's root, or with the folder rule off,
nothing else can read the name, so view words read as before.

The folder read is the innermost one that is not a container (``container_folder``: photos,
web, hi-res, final, a ``front/`` folder...): ``SS26-040/photos/front.jpg`` is SS26-040, not
"photos" (QA: a ``photos/`` folder in each SKU folder made one product "photos" of all of
them), and ``Season26/SS26-040/front.jpg`` is SS26-040. A folder made only of such words is
never a SKU, even when a product of that name exists; with no other folder the file reads as
at the archive's root.

SKUs match ignoring case (``shoe-77_main.jpg`` goes to SHOE-77): case twins would be export
folders that collide on macOS and Windows. An exact match beats one ignoring case.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

# Manager-supplied regexes run on the ``regex`` engine, whose matches take a timeout: a
# backtracking pattern like ``(a|aa)+b`` must not block a web thread or a worker for minutes.
import regex as timed_re

from .numbers import digits_from
from .positions import POSITIONS, position_for_number

if TYPE_CHECKING:
    from .manifest import Manifest, ManifestRow

DEFAULT_PATTERNS = ("{sku}_{position}.jpg", "{sku}-{n}.jpg", "{sku}.jpg")

_SKU = r"(?P<sku>[A-Za-z0-9][A-Za-z0-9._-]*?)"
_PLACEHOLDERS = {
    "sku": _SKU,
    "position": r"(?P<position>main|pt0[1-8]|swch)",
    "n": r"(?P<n>[0-9]{1,2})",
}
_PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
# One character ``_SKU`` reads (``catalog.validators.SKU_RE`` allows the same ones).
_SKU_CHAR = re.compile(r"[A-Za-z0-9._-]")

# Names cameras, phones and scanners give files, and bare sequence numbers: they say which shot,
# never which product, so a folder name above them is the better SKU.
CAMERA_NAME_RE = re.compile(
    r"^(?:img|dsc|dscf|dscn|dsc_|_dsc|_mg|_img|p|pxl|mvimg|gopr|dji|cimg|sam|pict|photo|image|"
    r"scan|picture|screenshot)?[ _-]?\d+(?:[ _.-]\d+)*(?:[ _-]?\(\d+\))?$",
    re.IGNORECASE,
)

#: Words a file is named by for the view or angle it shows (a ``-`` inside a word also stands
#: for ``_``, ``.``, a space or nothing: ``close-up``, ``close_up``, ``closeup``). Several may
#: be joined by separators (``front_left``, ``side view``); position codes are among them.
VIEW_WORDS = (
    "front", "back", "rear", "side", "left", "right", "top", "bottom", "inside", "outside",
    "detail", "details", "close-up", "macro", "zoom", "main", "alt", "alternate", "angle",
    "angled", "three-quarter", "profile", "overhead", "lifestyle", "packaging", "package",
    "box", "label", "tag", "model", "on-model", "flat", "flat-lay", "worn", "sole", "hero",
    "swatch", "view", "shot", "pt01", "pt02", "pt03", "pt04", "pt05", "pt06", "pt07", "pt08",
    "swch",
)
#: The view words that are a position, as the folder's product gets it (``main.jpg``).
VIEW_POSITIONS = {
    "main": "MAIN", "swatch": "SWCH", "swch": "SWCH",
    **{f"pt{n:02d}": f"PT{n:02d}" for n in range(1, 9)},
}
_SEP = r"[ _.-]"
_VIEW_WORD = "(?:" + "|".join(
    sorted((re.escape(w).replace(r"\-", f"{_SEP}?") for w in VIEW_WORDS), key=len, reverse=True)
) + ")"
# A separator between two words is required and a number is read whole: each name then
# parses one way only, so a failing match does not backtrack through every split.
VIEW_NAME_RE = re.compile(
    rf"^(?P<words>{_VIEW_WORD}(?:{_SEP}+{_VIEW_WORD})*)"
    rf"(?P<suffix>(?:{_SEP}*(?:copy|\(\d+\)|\d+(?!\d)))*)$",
    re.IGNORECASE,
)
# "copy" and "(2)" are never part of a SKU; a bare number may be (TOP-12)
_COPY_MARK = re.compile(r"copy|\(\d+\)", re.IGNORECASE)
_VIEW_LAST_WORD = re.compile(rf"(?:^|{_SEP})({_VIEW_WORD})$", re.IGNORECASE)
#: the longest name tried as a view name: longer ones are no shot's name
MAX_VIEW_NAME = 80

#: Folder names that hold a product's photos rather than name it (``SS26-040/photos/``,
#: ``SS26-040/web/``): with the view words (a ``front/`` folder) they are skipped when the
#: folder rule reads the SKU, several joined by separators too (``final selects``,
#: ``web_small``). A ``-`` stands for an optional separator, as in ``VIEW_WORDS``.
CONTAINER_WORDS = (
    "photos", "photo", "images", "image", "pictures", "picture", "pics", "pic", "img", "imgs",
    "jpg", "jpeg", "png", "tif", "tiff", "raw", "edited", "edit", "edits", "retouched",
    "retouch", "final", "finals", "selects", "selected", "originals", "original", "export",
    "exports", "exported", "web", "hi-res", "high-res", "low-res", "large", "small", "medium",
    "thumbs", "thumbnails", "thumbnail",
)
_CONTAINER_WORD = "(?:" + "|".join(
    sorted((re.escape(w).replace(r"\-", f"{_SEP}?") for w in (*CONTAINER_WORDS, *VIEW_WORDS)),
           key=len, reverse=True)
) + ")"
# No bare number after the words: a folder ``TOP-12`` may be a real SKU (as for view words);
# a copy mark (``photos copy``, ``web (2)``) is never part of one.
CONTAINER_FOLDER_RE = re.compile(
    rf"^{_CONTAINER_WORD}(?:{_SEP}+{_CONTAINER_WORD})*"
    rf"(?:{_SEP}*(?:copy|\(\d+\)))*$",
    re.IGNORECASE,
)


def container_folder(name: str) -> bool:
    """Whether a folder named ``name`` holds photos rather than naming their product: made
    of ``CONTAINER_WORDS`` and ``VIEW_WORDS`` (``photos``, ``hi-res``, ``front``,
    ``final selects``, ``web copy``), never read as a SKU, even when a product of that name
    exists."""
    return len(name) <= MAX_VIEW_NAME and CONTAINER_FOLDER_RE.match(name) is not None


def folder_sku(name: str) -> str | None:
    """The folder that names the product of file ``name`` (a path) under the folder rule:
    walking up from the innermost folder, the first that is not a container
    (``container_folder``): ``SS26-040/photos/front.jpg`` and ``Season26/SS26-040/front.jpg``
    are SS26-040. None when every folder is one (``photos/front.jpg``): the file is read as
    at the archive's root."""
    for folder in reversed(PurePosixPath(name.replace("\\", "/")).parts[:-1]):
        if folder not in ("/", ".", "..") and not container_folder(folder):
            return folder
    return None

def folder_word(sku: str, folder: str) -> bool:
    """Whether ``sku`` is one of the words of a longer ``folder`` name, ignoring case
    (``scissors`` in ``QA-SCISSORS``, ``mug`` in ``RED-MUG-12``): the file names what the
    folder's product is, as a photographer names a shot, not another product."""
    words = [word for word in re.split(_SEP, folder.casefold()) if word]
    return len(words) > 1 and sku.casefold() in words


PRECEDENCE = (
    "the naming regular expression",
    "a pattern that reads a position or number ({sku}_{position}, {sku}-{n})",
    "the file name as the SKU ({sku}), unless it is a camera or sequence name or, in a "
    "folder, a view word or a word of the folder's name",
    "the folder name",
    "a camera or sequence name (IMG_0001, 003), a numbered view word (detail_02) or a word of "
    "the folder's name (QA-SCISSORS/scissors.jpg) as the SKU",
)
#: ``PRECEDENCE`` as the preview shows it with the folder rule off: no folder is read, so
#: neither the folder's rank nor the view-word exceptions, which only hold in a read folder.
PRECEDENCE_WITHOUT_FOLDERS = (
    PRECEDENCE[0],
    PRECEDENCE[1],
    "the file name as the SKU ({sku}), unless it is a camera or sequence name",
    "a camera or sequence name (IMG_0001, 003) as the SKU",
)


def precedence(*, use_folders: bool) -> tuple[str, ...]:
    """Which reading wins, in the preview's words for the folder rule as set."""
    return PRECEDENCE if use_folders else PRECEDENCE_WITHOUT_FOLDERS


#: How view words are read, shown under ``PRECEDENCE`` when the folder rule is on.
VIEW_WORD_NOTE = (
    "In a folder, a file named for its view or angle (front, back, back_copy, detail (2), "
    "main, lifestyle…) is not read as a SKU, even when a product of that name exists: the "
    "folder names the product, and main.jpg, PT02.jpg or swatch.jpg in it give the position. "
    "With a number (detail_02) the name is read like a camera name. The folder read is the "
    "innermost one not named like a container (photos, images, web, hi-res, final, raw, "
    "front…): SHOE-77/photos/front.jpg is SHOE-77."
)
#: ``view_kind``'s answers: a view word, and one with a bare number (``detail_02``).
VIEW, NUMBERED_VIEW = "view", "numbered view"
# ``FilenameRules._rank`` of a view word in a folder: not a reading at all
_NOT_READ = -1


def view_kind(text: str) -> str:
    """``VIEW`` for a view word, alone or with a copy suffix (``front``, ``back_copy``,
    ``side (2)``); ``NUMBERED_VIEW`` for one with only a bare number after it (``detail_02``,
    ``TOP-12``: a shop may have such SKUs); "" for anything else."""
    if len(text) > MAX_VIEW_NAME:
        return ""
    found = VIEW_NAME_RE.match(text)
    if found is None:
        return ""
    suffix = found.group("suffix")
    if any(char.isdigit() for char in suffix) and not _COPY_MARK.search(suffix):
        return NUMBERED_VIEW
    return VIEW


def view_position(text: str) -> str | None:
    """The position a file named ``text`` (no extension) asks for by a view word that is a
    position code (``main``, ``PT02``, ``swatch``, ``front_main``), else None. A copy or a
    number after it (``main_copy``, ``main-2``) gives none: a second MAIN would be refused."""
    if len(text) > MAX_VIEW_NAME:
        return None
    found = VIEW_NAME_RE.match(text)
    if found is None or found.group("suffix"):
        return None
    last = _VIEW_LAST_WORD.search(found.group("words"))
    return VIEW_POSITIONS.get(re.sub(_SEP, "", last.group(1).lower())) if last else None


#: View words that name a listing's main shot (``front.jpg``, ``SS26-040/main.jpg``).
LEAD_VIEWS = ("front", "main")
# Sorts before every folder or file name, so ``position_order_name`` puts a lead view first.
_LEAD_FIRST = "\x00/"


def lead_view(name: str) -> bool:
    """Whether file ``name`` (a path) is named by a lead view alone (``front``, ``MAIN``),
    without a copy mark or number: ``front_copy`` and ``front-2`` are other shots."""
    stem = PurePosixPath(name.replace("\\", "/")).stem
    found = VIEW_NAME_RE.match(stem) if len(stem) <= MAX_VIEW_NAME else None
    return (found is not None and not found.group("suffix")
            and re.sub(_SEP, "", found.group("words").lower()) in LEAD_VIEWS)


def position_order_name(name: str) -> str:
    """The name a file that took the next free position is ordered by when its product's such
    files are given the free positions (``assets.asset_positions_by_name``, which sorts by
    ``archives.name_order_key``): its own, except that a lead view (``lead_view``) comes
    first, so ``SS26-040/front.jpg`` is MAIN before ``back.jpg`` (QA: back.jpg, first by
    name, shipped as the listing's main image). The rest keep name order; positions other
    images hold (an older MAIN, a file naming MAIN) are never moved. The ZIP or folder
    import (``ImportRun.ingest``) and a browser session's finish both order by it."""
    return _LEAD_FIRST + name if lead_view(name) else name


class NamingError(Exception):
    """A file name cannot be mapped to a product and position, or a naming rule (pattern,
    regex, position) is unusable; the message is for the user. Export file names have their
    own ``cutouts.variants.ExportNamingError``."""


@dataclass(frozen=True)
class Match:
    sku: str
    position: str | None
    rule: str


def position_from_n(n: int) -> str:
    position = position_for_number(n)
    if position is None:
        raise NamingError(f"Image number {n} has no position: use 1 (MAIN) to 9 (PT08).")
    return position


def normalize_position(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip().upper()
    number = digits_from(text)
    if number is not None:
        return position_from_n(number)
    if text not in POSITIONS:
        raise NamingError(f"Unknown position {value!r}; use one of {', '.join(POSITIONS)}.")
    return text


def compile_pattern(pattern: str) -> re.Pattern[str]:
    stem = pattern.strip()
    suffix = PurePosixPath(stem).suffix
    if suffix and "{" not in suffix:
        stem = stem[: -len(suffix)]
    elif stem.endswith(".{ext}"):
        stem = stem[: -len(".{ext}")]
    names = _PLACEHOLDER_RE.findall(stem)
    unknown = sorted(set(names) - set(_PLACEHOLDERS))
    if unknown:
        raise NamingError(
            f"Unknown placeholder {{{unknown[0]}}} in {pattern!r}; use {{sku}}, {{position}} "
            "or {n}."
        )
    if names.count("sku") != 1:
        raise NamingError(f"Pattern {pattern!r} must contain {{sku}} exactly once.")
    if "position" in names and "n" in names:
        raise NamingError(f"Pattern {pattern!r} may use {{position}} or {{n}}, not both.")
    parts = []
    last = 0
    for found in _PLACEHOLDER_RE.finditer(stem):
        parts.append(re.escape(stem[last : found.start()]))
        parts.append(_PLACEHOLDERS[found.group(1)])
        last = found.end()
    parts.append(re.escape(stem[last:]))
    return re.compile("^" + "".join(parts) + r"(?:\.[A-Za-z0-9]{1,5})?$", re.IGNORECASE)


# Seconds one match of a manager's regex may take on one file name.
REGEX_MATCH_TIMEOUT = 0.5
# At save time the regex runs against these adversarial names, each under a much shorter
# timeout: patterns with catastrophic backtracking are refused with a message before any work.
REGEX_PROBE_TIMEOUT = 0.05
_PROBE_UNITS = ("a", "A", "0", "_", "-", ".", " ", "ab", "a1", "a_", "a-", "a.", "a/", "/a")
REGEX_PROBES = tuple(
    unit * (40 // len(unit)) + tail for unit in _PROBE_UNITS for tail in ("!", ".jpg")
)
MAX_REGEX_LENGTH = 500


class TimedRegex:
    """A compiled regex whose ``search`` gives up after a timeout with a NamingError."""

    # After this many timeouts the rule is given up for the rest of the import: 300 files
    # must not each spend the full timeout.
    MAX_TIMEOUTS = 3

    def __init__(self, pattern: str, *, timeout: float = REGEX_MATCH_TIMEOUT):
        self.pattern = pattern
        self.timeout = timeout
        self.timeouts = 0
        self._compiled = timed_re.compile(pattern, timed_re.IGNORECASE | timed_re.VERSION0)

    @property
    def groupindex(self) -> Mapping[str, int]:
        return self._compiled.groupindex

    def search(self, text: str, *, timeout: float | None = None) -> timed_re.Match[str] | None:
        if self.timeouts >= self.MAX_TIMEOUTS:
            raise NamingError(
                f"The naming regular expression was given up after {self.timeouts} file names "
                "took too long; simplify it and import again.")
        try:
            return self._compiled.search(text, timeout=timeout or self.timeout)
        except TimeoutError:
            self.timeouts += 1
            raise NamingError(
                f"The naming regular expression took longer than {timeout or self.timeout:g} s "
                f"on {text[:80]!r}; simplify it (nested repetition such as (a+)+ backtracks)."
            )

    match = search


def compile_regex(regex: str) -> TimedRegex:
    if len(regex) > MAX_REGEX_LENGTH:
        raise NamingError(f"The regular expression is over {MAX_REGEX_LENGTH} characters.")
    try:
        compiled = TimedRegex(regex)
    except (timed_re.error, re.error, ValueError, TypeError) as exc:
        raise NamingError(f"Invalid regular expression: {exc}")
    if "sku" not in compiled.groupindex:
        raise NamingError("The regular expression needs a named group (?P<sku>...).")
    for probe in REGEX_PROBES:
        try:
            compiled.search(probe, timeout=REGEX_PROBE_TIMEOUT)
        except NamingError:
            raise NamingError(
                f"Refused: the regular expression {regex[:100]!r} backtracks catastrophically "
                f"(a file name like {probe[:24]!r}… takes too long). Avoid nested repetition "
                "such as (a+)+ or (a|aa)+."
            )
    return compiled


class FilenameRules:
    """Ordered rules; the first that matches a file name wins."""

    def __init__(
        self, *, patterns: Sequence[str] = (), regex: str = "", use_folders: bool = True
    ):
        self.rules: list[tuple[str, re.Pattern[str] | TimedRegex]] = []
        if regex:
            self.rules.append((f"regex {regex}", compile_regex(regex)))
        for pattern in patterns:
            self.rules.append((pattern, compile_pattern(pattern)))
        if not self.rules:
            self.rules = [(p, compile_pattern(p)) for p in DEFAULT_PATTERNS]
        self.use_folders = use_folders

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> FilenameRules:
        patterns = options.get("patterns") or []
        if isinstance(patterns, str):
            patterns = [patterns]
        return cls(
            patterns=patterns,
            regex=options.get("regex") or "",
            use_folders=options.get("use_folders", True),
        )

    def candidates(self, name: str) -> list[Match]:
        """Every reading of ``name``, best first; the caller keeps the first known SKU.

        ``ABC-1.jpg`` is SKU ABC image 1 under ``{sku}-{n}`` but SKU ABC-1 under ``{sku}``;
        only the catalog can tell which one exists. ``name`` may include folders.
        """
        path = PurePosixPath(name.replace("\\", "/"))
        folder = folder_sku(name) if self.use_folders else None
        ranked: list[tuple[int, Match]] = []
        errors: list[NamingError] = []
        for label, rule in self.rules:
            is_regex = label.startswith("regex")
            found = rule.search(path.as_posix()) if is_regex else rule.match(path.name)
            if found:
                try:
                    match = self._to_match(found, label)
                except NamingError as exc:
                    errors.append(exc)
                    continue
                rank = self._rank(match, is_regex=is_regex, folder=folder)
                if rank != _NOT_READ:
                    ranked.append((rank, match))
        if folder is not None and any(rank == 4 and folder_word(m.sku, folder)
                                      for rank, m in ranked):
            # "RED-MUG-12/mug_PT01.jpg" read as {sku}_{position} names the folder's mug: its
            # whole-name reading ("mug_PT01") is no SKU either, as a numbered view word's
            ranked = [(4 if rank in (1, 2) else rank, m) for rank, m in ranked]
        if folder is not None:
            # Folder-per-SKU archives: "ABC123/front.jpg" belongs to ABC123, "ABC123/main.jpg"
            # at MAIN.
            position = view_position(path.stem)
            if position is None:
                # "QA-SCISSORS/scissors_PT01.jpg": the folder's product, at PT01
                position = next((m.position for rank, m in ranked if rank == 4
                                 and m.position is not None and folder_word(m.sku, folder)),
                                None)
            ranked.append((3, Match(sku=folder, position=position,
                                    rule="folder name")))
        if not ranked and errors:
            raise errors[0]
        found_all: list[Match] = []
        # A stable sort: within a rank the rules keep the order the manager gave them.
        for _, match in sorted(ranked, key=lambda item: item[0]):
            if match not in found_all:
                found_all.append(match)
        return found_all

    @staticmethod
    def _rank(match: Match, *, is_regex: bool, folder: str | None) -> int:
        """The index into ``PRECEDENCE`` of a reading, or ``_NOT_READ`` for a view word in a
        folder whose name is read (the folder names the product)."""
        if is_regex:
            return 0
        view = view_kind(match.sku) if folder is not None else ""
        if view == VIEW:
            return _NOT_READ
        if view or (folder is not None and folder_word(match.sku, folder)):
            # a numbered view word, or a word of the folder's own name: like a camera name
            return 4
        if match.position is not None:
            return 1
        return 4 if CAMERA_NAME_RE.match(match.sku) else 2

    def choose(
        self, name: str, *, exists: Callable[[str], bool], create: bool,
        valid: Callable[[str], bool] = lambda sku: True, candidates: list[Match] | None = None,
    ) -> tuple[Match | None, bool]:
        """The reading an import uses, and whether it names a new product: the best reading of
        an existing SKU, else (when creating) the best valid one. One policy for the import and
        its preview; ``candidates`` saves reading the name twice."""
        if candidates is None:
            candidates = self.candidates(name)
        for candidate in candidates:
            if exists(candidate.sku):
                return candidate, False
        if create:
            for candidate in candidates:
                if valid(candidate.sku):
                    return candidate, True
        return None, False

    def match(self, name: str) -> Match | None:
        found = self.candidates(name)
        return found[0] if found else None

    @staticmethod
    def _to_match(found: re.Match[str] | timed_re.Match[str], label: str) -> Match:
        groups = found.groupdict()
        position = None
        if groups.get("position"):
            position = normalize_position(groups["position"])
        elif groups.get("n"):
            position = position_from_n(int(groups["n"]))
        return Match(sku=groups["sku"], position=position, rule=label)


# --- Where a file goes: the import's decision, shared with its preview -------------------------

#: What the catalog holds under a SKU, as ``file_target``'s ``state`` tells it.
LIVE, DELETED = "live", "deleted"


class Unmapped(Exception):
    """A file maps to no usable product; the message is the reason the report shows."""


@dataclass(frozen=True)
class Known:
    """What ``state`` may answer instead of LIVE or DELETED: the product named by a SKU read
    from a file is stored as ``sku`` (the read one in other case), or ``twins`` lists the live
    products that all match it ignoring case and none exactly (an install that already held
    case twins): such a file is refused naming them, never sent to one of them by a guess."""

    state: str  # LIVE or DELETED
    sku: str  # as stored
    twins: tuple[str, ...] = ()


def fold_sku(sku: str) -> str:
    """What case variants of a SKU share. Only ASCII folds: valid SKUs are ASCII, and the
    database's and Python's upper case of other letters differ (``"ß".upper()`` is "SS")."""
    return sku.upper() if sku.isascii() else sku


def manifest_claims(manifest: Manifest) -> dict[tuple[str, str], ManifestRow]:
    """(SKU folded, position) -> the manifest row that puts its file there: in a browser
    session a file the naming rules give that position is refused (``manifest_claim_text``),
    whether the row's file is part of the session or not, since a row beats every rule and
    the session's files arrive in any order. The import and its preview both read this."""
    return {(fold_sku(row.sku), row.position): row
            for row in manifest.rows if row.position and row.filename}


def manifest_claim_text(*, sku: str, position: str, row: ManifestRow, manifest_name: str) -> str:
    """The refusal of a named file whose position ``row`` claims (``manifest_claims``)."""
    return (f"Position {position} of {sku} is kept for {row.filename}, which {manifest_name} "
            f"line {row.line} puts there: a manifest row beats the file's name. Rename this "
            "file or change the manifest.")


def sku_known(sku: str, stored: Iterable[tuple[str, bool]]) -> str | Known | None:
    """``state``'s answer for ``sku`` from ``stored``, (SKU, is deleted) of products that may
    match it (others are ignored): the product with exactly this SKU; else the one live
    product whose SKU matches ignoring case; else ``twins`` when several do; else a deleted
    one that matches ignoring case (the file stops, as for a deleted exact SKU); else None.
    Only ASCII SKUs fold (``fold_sku``)."""
    folded = fold_sku(sku)
    matches = [(s, deleted) for s, deleted in stored
               if s == sku or (sku.isascii() and fold_sku(s) == folded)]
    for s, deleted in matches:
        if s == sku:
            return DELETED if deleted else LIVE
    live = sorted(s for s, deleted in matches if not deleted)
    if len(live) > 1:
        return Known(state=LIVE, sku=live[0], twins=tuple(live))
    if live:
        return Known(state=LIVE, sku=live[0])
    if matches:
        return Known(state=DELETED, sku=min(s for s, _ in matches))
    return None


def _known(sku: str, answer: str | Known | None) -> Known | None:
    if answer is None or isinstance(answer, Known):
        return answer
    return Known(state=answer, sku=sku)


def known_usable(sku: str, found: Known) -> Known:
    """``found`` if a file can go to it, else ``Unmapped`` with the reason."""
    if found.twins:
        names = ", ".join(found.twins[:-1]) + f" and {found.twins[-1]}"
        raise Unmapped(
            f"SKU {sku} matches products {names} ignoring case, and none exactly: use one of "
            "these SKUs exactly.")
    if found.state == DELETED:
        raise Unmapped(f"Product {found.sku} is deleted.")
    return found


def manifest_case_variants(manifest: Manifest) -> list[str]:
    """The manifest's SKUs that another of its SKUs differs from only in case (usually none),
    each group in manifest order: the only SKUs ``manifest_case_twins`` looks at."""
    groups: dict[str, list[str]] = {}
    for sku in manifest.products:
        groups.setdefault(fold_sku(sku), []).append(sku)
    return [sku for group in groups.values() if len(group) > 1 for sku in group]


def manifest_case_twins(manifest: Manifest, variants: list[str],
                        state: Callable[[str], str | Known | None]) -> dict[str, str]:
    """Manifest SKUs refused because another SKU of the manifest, in other case, names the
    same product (existing, or one the manifest makes: ``NEW-1`` and ``new-1``), with the
    reason their rows and files get: one product, one spelling. The product's own SKU is
    kept, else the first spelling. SKUs naming different products (an install's existing
    twins, each named exactly) are not refused. ``variants`` is ``manifest_case_variants``,
    ``state`` as for ``file_target``. The import and its preview both decide here."""
    named: dict[tuple[str, str], list[str]] = {}
    for sku in variants:
        known = _known(sku, state(sku))
        if known is not None and (known.twins or known.state == DELETED):
            continue  # refused as such, whatever the other spellings
        key = ("product", known.sku) if known is not None else ("new", fold_sku(sku))
        named.setdefault(key, []).append(sku)
    refused: dict[str, str] = {}
    for (kind, stored), spellings in named.items():
        kept = stored if kind == "product" and stored in spellings else spellings[0]
        for sku in spellings:
            if sku != kept:
                refused[sku] = (
                    f"{manifest.name} {manifest.where(sku)}: SKU {sku} differs only in case "
                    f"from SKU {kept} ({manifest.where(kept)}), the same product: use one "
                    "spelling (export folders that differ only in case collide on macOS and "
                    "Windows).")
    return refused


@dataclass(frozen=True)
class Target:
    sku: str  # as stored (for a new product: as read)
    position: str | None
    rule: str  # the naming rule that read the name, or "manifest line N"
    new: bool  # no product has this SKU yet; storing the file would create it
    manifest_line: int = 0
    read_sku: str = ""  # the SKU as the name or row gave it, when ``sku`` differs in case


def not_in_manifest_text(manifest_name: str, *, sku: str, rule: str) -> str:
    """Why a file a files-listing manifest does not name is not imported when its name
    would create a product (``file_target``)."""
    return (f"Not in the manifest: {manifest_name} lists the files to import, and not this "
            f"one; its name would create product {sku} ({rule}). Add a row for it, or "
            "import it without a manifest.")


def file_target(
    name: str, *, rules: FilenameRules, manifest: Manifest | None, create: bool,
    state: Callable[[str], str | Known | None], valid: Callable[[str], bool] = lambda sku: True,
    sku_rule: str = "",
) -> Target:
    """The product and position ``name`` goes to, or ``Unmapped`` with the reason.

    The import and its preview both decide here, so the preview cannot promise what the
    import then does differently. ``state(sku)`` is LIVE, DELETED, a ``Known`` (the product
    is stored in other case: ``sku_known``) or None (no such product), and may raise
    ``Unmapped`` itself; nothing is read or written beyond it. A manifest row wins over every
    naming rule. A SKU matches ignoring case, but a reading that matches exactly wins over
    every reading that matches only ignoring case. ``sku_rule`` is the validator's wording of
    the characters a SKU may have, for a name that no rule reads because of other ones.
    """
    answers: dict[str, str | Known | None] = {}

    def state_once(sku: str) -> str | Known | None:  # both passes below ask about each reading
        if sku not in answers:
            answers[sku] = state(sku)
        return answers[sku]

    row = manifest.row_for(name) if manifest is not None else None
    if row is None and manifest is not None and manifest.ambiguity(name):
        # one row, several files it names by their base name: no guess which is meant
        raise Unmapped(manifest.ambiguity(name))
    if row is not None:
        known = _known(row.sku, state(row.sku))
        if known is not None:
            known_usable(row.sku, known)
        try:
            position = normalize_position(row.position)
        except NamingError as exc:
            raise Unmapped(f"Manifest line {row.line}: {exc}")
        sku = known.sku if known is not None else row.sku
        return Target(sku=sku, position=position, rule=f"manifest line {row.line}",
                      new=known is None, manifest_line=row.line,
                      read_sku=row.sku if sku != row.sku else "")
    try:
        candidates = rules.candidates(name)
    except NamingError as exc:
        raise Unmapped(str(exc))
    if not candidates:
        stem = PurePosixPath(name.replace("\\", "/")).stem
        # a pattern's own separators ("{sku} {position}.jpg") are not the SKU's
        literal = {char for label, _ in rules.rules if not label.startswith("regex")
                   for char in _PLACEHOLDER_RE.sub("", label)}
        bad = sorted({char for char in stem if not _SKU_CHAR.match(char)} - literal)
        if bad and sku_rule:
            # "QA035_MAIN_é.jpg": no rule reads it because of the é, which is what to fix
            shown = ", ".join(repr(char) for char in bad)
            raise Unmapped(f"The file name has characters a SKU cannot have ({shown}): "
                           f"{sku_rule} Rename the file, or map it with a manifest row.")
        labels = ", ".join(label for label, _ in rules.rules)
        raise Unmapped(f"The file name matches no naming rule ({labels}) and no manifest row.")
    stored: dict[str, str] = {}

    def exists(sku: str, *, exact: bool) -> bool:
        known = _known(sku, state_once(sku))
        if known is None or (exact and (known.sku != sku or known.twins)):
            return False
        # A deleted product among the readings stops the file rather than sending it to
        # another reading's product; so do twins that match only ignoring case.
        stored[sku] = known_usable(sku, known).sku
        return True

    found, new = rules.choose(name, candidates=candidates, create=False,
                              exists=lambda sku: exists(sku, exact=True))
    if found is None:
        found, new = rules.choose(name, candidates=candidates, create=create, valid=valid,
                                  exists=lambda sku: exists(sku, exact=False))
    if found is None and sku_rule and not any(valid(c.sku) for c in candidates):
        # Over-long (or otherwise invalid) readings are no product and can never become one:
        # "create products for unknown SKUs" would not help, the validator's rule does.
        sku = candidates[0].sku
        raise Unmapped(f"{sku_rule} This name gives {sku} ({len(sku)} characters): rename "
                       "the file, or map it with a manifest row.")
    if found is None:
        # The hint a created product would get as a warning (``lookalike_warning``): without
        # it the manager sees an unknown SKU and not the mistyped position that made it.
        hint = lookalike_hint(candidates[0].sku, state=state_once)
        raise Unmapped(
            f"Unknown SKU {candidates[0].sku}: no such product{'; ' + hint if hint else '.'} "
            "Add it to the manifest or choose 'create products for unknown SKUs'."
        )
    if new and manifest is not None and manifest.by_filename \
            and found.sku not in manifest.products:
        # A manifest that lists files is the manager's list of what to import and of the
        # products to make: a file it leaves out may still join a product that exists or
        # that the manifest names (by the naming rules, as without a manifest), but making
        # a product nobody listed is a slip (QA 2026-12-04: shoot/069.jpg, not in the
        # manifest, made a product "shoot" by the folder rule, and the report said nothing).
        raise Unmapped(not_in_manifest_text(manifest.name, sku=found.sku, rule=found.rule))
    sku = found.sku if new else stored[found.sku]
    return Target(sku=sku, position=found.position, rule=found.rule, new=new,
                  read_sku=found.sku if sku != found.sku else "")


# --- A new SKU that looks like a mistyped position ---------------------------------------------

#: What separates a SKU from a position token in a file name (``QA012_ZZZ``, ``QA012-ZZZ``).
TOKEN_SEPARATORS = "_- ."  # noqa: S105 - not a password
#: The longest prefixes looked up per new SKU: each costs a lookup, and a real position
#: typo leaves one token after the SKU (two at most: ``QA012_MAIN_old``).
MAX_LOOKALIKE_PREFIXES = 3


def sku_prefixes(sku: str) -> list[str]:
    """The SKUs a new ``sku`` may be an existing one of plus a separator and a token, longest
    first: ``A-1_ZZZ`` gives ``A-1`` and ``A``."""
    cuts = [i for i in range(len(sku) - 2, 0, -1) if sku[i] in TOKEN_SEPARATORS
            and sku[i - 1] not in TOKEN_SEPARATORS]
    return [sku[:i] for i in cuts[:MAX_LOOKALIKE_PREFIXES]]


def view_word_sku(sku: str) -> bool:
    """Whether a SKU is a view word, alone or with a copy suffix (``front``, ``back_copy``):
    a product no shop names so. Not one with a bare number (``TOP-12`` may be a real SKU)."""
    return view_kind(sku) == VIEW


def lookalike_warning(sku: str, *, state: Callable[[str], str | Known | None],
                      created: bool = True) -> str:
    """The warning for a new product whose SKU looks like something else, "" if none; the
    product is still made (a warning, not a refusal). Its SKU is a view word
    (``view_word_sku``): ``front.jpg`` at an archive's root, or in a folder with the folder
    rule off, has nothing else to read it, so "create products" made a product "front"
    (QA 2026-12-04). Or it is a live product's SKU (ignoring case) plus a separator and a
    token: ``QA012_ZZZ.jpg`` read whole by ``{sku}.jpg`` while QA012 exists is most likely
    QA012 with a mistyped position, and creating a product silently would hide that.
    ``state`` as for ``file_target`` (only the prefixes are asked); ``created``: the
    import's words (made), else the preview's (would be made). The import and its preview
    both warn here."""
    if view_word_sku(sku):
        made = "it created" if created else "it would create"
        return (f"{sku!r} looks like a view (front, back, side…) rather than a SKU; {made} "
                f"product {sku}. Put the photos in a folder named by the SKU (with \"a folder "
                "name is the SKU\" on), or rename them.")
    hint = lookalike_hint(sku, state=state)
    if not hint:
        return ""
    made = "new product created" if created else "a new product would be created"
    return f"{sku}: {made}; {hint}"


def lookalike_hint(sku: str, *, state: Callable[[str], str | Known | None]) -> str:
    """"did you mean product QA012 with an unknown position 'ZZZ'? Known positions: ..." for a
    SKU that is a live product's plus a separator and a token, "" if none: the words of
    ``lookalike_warning`` (a product is made) and of an unknown SKU's refusal (none is)."""
    for prefix in sku_prefixes(sku):
        try:
            found = _known(prefix, state(prefix))
        except Unmapped:
            continue
        if found is None or found.state != LIVE:
            continue
        token = sku[len(prefix) + 1:]
        return (f"did you mean product {found.sku} with an unknown position {token!r}? "
                f"Known positions: {', '.join(POSITIONS)}.")
    return ""

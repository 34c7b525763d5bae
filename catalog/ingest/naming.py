"""Map file names to (SKU, position) with configurable naming conventions.

A pattern is a file name template: ``{sku}_{position}.jpg`` or ``{sku}-{n}.png``. Its
extension is not significant, because one shoot mixes ``.JPG``, ``.jpeg`` and ``.png``.
``{n}`` counts images the way photographers number them: 1 is MAIN, 2 is PT01, ... 9 is
PT08. A regex is the escape hatch; it must have a named group ``sku`` and may have
``position`` or ``n``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

# Manager-supplied regexes run on the ``regex`` engine, whose matches take a timeout: a
# backtracking pattern like ``(a|aa)+b`` must not block a web thread or a worker for minutes.
import regex as timed_re

POSITIONS = ("MAIN", "PT01", "PT02", "PT03", "PT04", "PT05", "PT06", "PT07", "PT08", "SWCH")
_N_TO_POSITION = {n: POSITIONS[n - 1] for n in range(1, 10)}
DEFAULT_PATTERNS = ("{sku}_{position}.jpg", "{sku}-{n}.jpg", "{sku}.jpg")

_SKU = r"(?P<sku>[A-Za-z0-9][A-Za-z0-9._-]*?)"
_PLACEHOLDERS = {
    "sku": _SKU,
    "position": r"(?P<position>main|pt0[1-8]|swch)",
    "n": r"(?P<n>[0-9]{1,2})",
}
_PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")


class NamingError(ValueError):
    pass


@dataclass(frozen=True)
class Match:
    sku: str
    position: str | None
    rule: str


def position_from_n(n: int) -> str:
    try:
        return _N_TO_POSITION[n]
    except KeyError:
        raise NamingError(f"Image number {n} has no position: use 1 (MAIN) to 9 (PT08).")


def normalize_position(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip().upper()
    if text.isdigit():
        return position_from_n(int(text))
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
    def groupindex(self):
        return self._compiled.groupindex

    def search(self, text: str, *, timeout: float | None = None):
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
    def from_options(cls, options: dict) -> FilenameRules:
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
        found_all: list[Match] = []
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
                if match not in found_all:
                    found_all.append(match)
        if self.use_folders and len(path.parts) > 1:
            # Folder-per-SKU archives: "ABC123/front.jpg" belongs to ABC123.
            found_all.append(Match(sku=path.parts[-2], position=None, rule="folder name"))
        if not found_all and errors:
            raise errors[0]
        return found_all

    def match(self, name: str) -> Match | None:
        found = self.candidates(name)
        return found[0] if found else None

    @staticmethod
    def _to_match(found: re.Match[str], label: str) -> Match:
        groups = found.groupdict()
        position = None
        if groups.get("position"):
            position = normalize_position(groups["position"])
        elif groups.get("n"):
            position = position_from_n(int(groups["n"]))
        return Match(sku=groups["sku"], position=position, rule=label)

"""The kinds of warning a shipped file can carry, each by the words its message begins with
and a short title: what the export's contact-sheet chip reads, so a manager sees what is wrong
without opening the paragraph (2026-12-08, verify48; QA verify47: the chip said "warning" and
the kept shadow's words came last in a long line).

Each head here is the one copy of those words: the code that writes a message starts it with
``KIND.head`` (compliance, render, scene), so a reworded message keeps its title. A message
that starts with a count ("3 faint see-through mark(s) ...") is ``counted``. No other import:
render and scene import this, and compliance (which imports render lazily) too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class WarningKind:
    head: str  # how the message begins (after its count, when ``counted``)
    title: str  # the chip's words
    counted: bool = False

    def pattern(self) -> str:
        return (r"(?:\d[\d,]* )?" if self.counted else "") + re.escape(self.head)


KEPT_SHADOW_OFF = WarningKind("the kept shadow lies off the product", "kept shadow off product")
#: the render left the kept shadow out with the far detached part it lay under: the file's
#: product has no shadow (2026-12-08, verify48b; ``render.kept_shadow_left_out``)
KEPT_SHADOW_LEFT_OUT = WarningKind("the kept shadow was left out with the stray part it lay "
                                   "under", "kept shadow left out")
SYNTHETIC_SHADOW_OFF = WarningKind("the synthetic shadow lies off the product",
                                   "shadow off product")
CONTACT_SHADOW_OFF = WarningKind("the contact shadow lies off the product", "shadow off product")
ENLARGED = WarningKind("the product is enlarged", "enlarged")
SMALL_PRODUCT = WarningKind("the product is only", "small product")
FRAME_CUT = WarningKind("the product is cut off by the photo's edge", "cut by photo's edge")
DROPPED_PARTS = WarningKind("detached part(s) far from the product were left out",
                            "detached part left out", counted=True)
FAINT_MARKS = WarningKind("faint see-through mark(s) inside the product's box", "faint marks",
                          counted=True)
MARGINS = WarningKind("non-background pixels in the margins around the product",
                      "marks in margins", counted=True)
LONG_SIDE = WarningKind("longest side is", "under recommended size")
SHORT_SIDE = WarningKind("shortest side is", "under recommended size")
EXIF = WarningKind("EXIF metadata present", "metadata kept")
XMP = WarningKind("XMP metadata present", "metadata kept")
PROFILE = WarningKind("embedded colour profile is", "not sRGB")
NO_ALPHA = WarningKind("no alpha channel", "no transparency")
NO_CLEAR_PIXEL = WarningKind("no fully transparent pixel", "no transparency")
FILL_WITH_SHADOW = WarningKind("fill measured from all non-background pixels",
                               "fill measured with shadow")
MAXBYTES = WarningKind("maxbytes-", "quality lowered")
FLOOR_LINE = WarningKind("the floor line lies outside the safe area", "floor line moved")

#: every kind, what a manager most needs to see first first (a chip has room for two): what
#: the picture shows wrong, then what it lacks, then the file's own properties
KINDS = (KEPT_SHADOW_OFF, KEPT_SHADOW_LEFT_OUT, SYNTHETIC_SHADOW_OFF, CONTACT_SHADOW_OFF,
         FRAME_CUT, FAINT_MARKS, SMALL_PRODUCT, ENLARGED, DROPPED_PARTS, MARGINS, FLOOR_LINE,
         NO_ALPHA, NO_CLEAR_PIXEL, LONG_SIDE, SHORT_SIDE, FILL_WITH_SHADOW, MAXBYTES, PROFILE,
         EXIF, XMP)

#: kinds another kind's title already says: "kept shadow left out" is said of the detached
#: part the layout left out, so its chip need not name "detached part left out" beside it
#: (verify48c: "⚠ kept shadow left out, detached part left out" named one event twice)
_SAID_BY: dict[WarningKind, tuple[WarningKind, ...]] = {DROPPED_PARTS: (KEPT_SHADOW_LEFT_OUT,)}

#: a kind's head where a message starts: the list's start or after the "; " joining two
_STARTS = re.compile("|".join(f"(?:^|(?<=; ))(?P<k{i}>{kind.pattern()})"
                              for i, kind in enumerate(KINDS)))


def warning_titles(warnings: str) -> list[str]:
    """The titles of the kinds of warning in ``warnings`` (messages joined by "; ", as
    ``ComplianceResult.summary`` lists them), each once, in the order of :data:`KINDS`. A
    message of no kind here (a model's licence) has none: the caller says "warning" when
    nothing is named."""
    found = {int(str(match.lastgroup)[1:]) for match in _STARTS.finditer(warnings)}
    kinds = [KINDS[i] for i in sorted(found)]
    return list(dict.fromkeys(kind.title for kind in kinds
                              if not any(by in kinds for by in _SAID_BY.get(kind, ()))))
